#!/bin/sh
# rules-peers.sh - the rig's W2 closure cells (the chain and the forest)
# for lore materialising anc through rules (peers/lore.sh), lore's path
# query (peers/lore-query.sh: ?a parent+ ?b, counted), the plain-Lua
# baseline, SWI-Prolog, Oxigraph, CLIPS and N3.js, in one invocation, in a
# scratch copy of the rig; then lore's upkeep of the forest's closure after
# adding and after removing 1% of the edges (bench/rules_bench.c); writes
# the Rules section of bench/RESULTS.md (bench/rules_results.py).
#   bench/rules-peers.sh [RIG_DIR]      (default bench/rig, made by bench/setup-rig.sh)
# Environment: RUNS (5), PEERS (lore lore-query lua swipl oxigraph clips n3).
set -eu
here=$(dirname "$(readlink -f "$0")")
rig=${1:-${RIG:-$here/rig}}
runs=${RUNS:-5}
[ -f "$rig/harness.py" ] || { echo "rules-peers.sh: no peer rig at $rig: run bench/setup-rig.sh (or give its path)" >&2; exit 2; }
cmake --build "$here/../build" --target rules_bench query_bench >/dev/null
work=$(mktemp -d)/bench
mkdir -p "$work"
cp "$rig"/*.py "$rig"/*.sh "$work"/
cp -r "$rig/peers" "$work/peers"
ln -s "$rig/data" "$work/data"
ln -s "$here/lore.sh" "$work/peers/lore.sh"
ln -s "$here/lore-query.sh" "$work/peers/lore-query.sh"
cd "$work"
uptime > uptime.txt
for p in ${PEERS:-lore lore-query lua swipl oxigraph clips n3}; do
  for d in w2-chain w2-forest; do
    python3 harness.py run "$p" closure "data/$d.nt" --runs "$runs"
  done
done
bench="$here/../build/bench/rules_bench"
for i in $(seq "$runs"); do
  "$bench" incremental data/w2-forest.nt 1 "$i" >> incremental.txt
  "$bench" incremental-leaves data/w2-forest.nt 1 "$i" >> leaves.txt
done
uptime >> uptime.txt
python3 harness.py report --out results/tables.md >/dev/null
python3 "$here/rules_results.py" "$work" "RUNS=$runs bench/rules-peers.sh"
cat results/tables.md
echo "(results in $work; bench/RESULTS.md updated)"
