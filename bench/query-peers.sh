#!/bin/sh
# query-peers.sh - runs the query cells of the shared rig (W3 join on
# w1-1m, W2 closure on the forest and the chain) for lore beside the
# plain-Lua baseline, SWI-Prolog and Oxigraph, in one invocation, in a
# scratch copy of the rig; writes the Queries section of bench/RESULTS.md.
#   bench/query-peers.sh [RIG_DIR]      (default bench/rig, made by bench/setup-rig.sh)
# Environment: RUNS (3), PEERS (lore-query lore-query-worst lua swipl oxigraph).
set -eu
here=$(dirname "$(readlink -f "$0")")
rig=${1:-${RIG:-$here/rig}}
cmake --build "$here/../build" --target query_bench >/dev/null
[ -f "$rig/harness.py" ] || { echo "query-peers.sh: no peer rig at $rig: run bench/setup-rig.sh (or give its path)" >&2; exit 2; }
work=$(mktemp -d)/bench
mkdir -p "$work"
cp "$rig"/*.py "$rig"/*.sh "$work"/
cp -r "$rig/peers" "$work/peers"
ln -s "$rig/data" "$work/data"
ln -s "$here/lore-query.sh" "$work/peers/lore-query.sh"
ln -s "$here/lore-query-worst.sh" "$work/peers/lore-query-worst.sh"
cd "$work"
for p in ${PEERS:-lore-query lore-query-worst lua swipl oxigraph}; do
  for cell in join:w1-1m closure:w2-forest closure:w2-chain; do
    python3 harness.py run "$p" "${cell%%:*}" "data/${cell#*:}.nt" --runs "${RUNS:-3}"
  done
done
python3 harness.py report --out results/tables.md >/dev/null
python3 "$here/query_results.py" "$work" "RUNS=${RUNS:-3} bench/query-peers.sh" # writes its RESULTS.md section
cat results/tables.md
echo "(results in $work/results; bench/RESULTS.md updated)"
