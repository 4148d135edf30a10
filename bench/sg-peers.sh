#!/bin/sh
# sg-peers.sh - the rig's W4 same-generation cell (task sg on the W2
# forest) for lore (bench/lore.sh sg: two rules and lore_infer), the
# plain-Lua baseline, SWI-Prolog (tabling) and gringo, in one invocation,
# in a scratch copy of the shared rig (only the W2 data is generated);
# prints the harness's table and each run's phase times.
#   bench/sg-peers.sh [SHARED_RIG]        (default ../shared/bench)
# Environment: RUNS (5), PEERS (lore lua swipl gringo; a peer whose
# program is not installed is skipped, and said so).
set -eu
here=$(dirname "$(readlink -f "$0")")
src=${1:-$here/../../shared/bench}
runs=${RUNS:-5}
[ -f "$src/harness.py" ] || { echo "sg-peers.sh: no rig at $src (give its path)" >&2; exit 2; }
cmake --build "$here/../build" --target rules_bench >/dev/null
work=$(mktemp -d)/bench
mkdir -p "$work/peers"
cp "$src"/*.py "$src"/*.sh "$work"/
for f in "$src"/peers/*; do [ -d "$f" ] || cp "$f" "$work/peers/"; done
ln -sf "$here/lore.sh" "$work/peers/lore.sh"
cd "$work"
python3 gen.py w2 >/dev/null
uptime > uptime.txt
for p in ${PEERS:-lore lua swipl gringo}; do
  case $p in
    swipl) command -v swipl >/dev/null || { echo "sg-peers.sh: swipl not installed, skipped"; continue; } ;;
    gringo) command -v gringo >/dev/null || { echo "sg-peers.sh: gringo not installed, skipped"; continue; } ;;
  esac
  python3 harness.py run "$p" sg data/w2-forest.nt --runs "$runs"
done
uptime >> uptime.txt
python3 harness.py report --out results/tables.md >/dev/null
sed -n '/W4/,/^$/p' results/tables.md
cat uptime.txt
echo "(results in $work)"
