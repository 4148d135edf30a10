#!/bin/sh
# load.sh - the Load benchmark (issue 4): lore beside serdi, sordi, rapper,
# plain Lua, SWI-Prolog and Oxigraph, loading W1 at 1M and 5M triples, all
# in this one invocation, through the peer rig's harness (time, peak RSS,
# bytes per triple over the same driver on an empty file).  Writes the
# "Load" section of bench/RESULTS.md.
#   bench/load.sh                  # RUNS=3 runs a cell (median quoted)
#   RIG=/path/to/rig PEERS="lore serdi" bench/load.sh
# Run it on a quiet machine (check `uptime`); it takes about 10 minutes.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
rig=${RIG:-$here/rig}
runs=${RUNS:-3}
[ -f "$rig/harness.py" ] || { echo "load.sh: no peer rig at $rig: run bench/setup-rig.sh (or give its path)" >&2; exit 2; }
peers=${PEERS:-"lore serdi sordi rapper lua swipl oxigraph"}
data=${DATA:-"w1-1m w1-5m"}
[ -x "$here/../build/lore" ] || { echo "build lore first: make build" >&2; exit 1; }

# a scratch copy of the rig: its harness, its peers and lore's driver,
# its data by link (the rig writes results next to itself)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$rig/harness.py" "$work/"
mkdir "$work/peers" "$work/results"
for f in "$rig"/peers/*; do ln -s "$f" "$work/peers/"; done
ln -sf "$here/lore.sh" "$work/peers/lore.sh"
ln -s "$rig/data" "$work/data"

start=$(date '+%Y-%m-%d %H:%M')
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for d in $data; do
  for p in $peers; do
    (cd "$work" && python3 harness.py run "$p" load "data/$d.nt" --runs "$runs" \
      --out results/results.jsonl) || true
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
python3 "$here/report.py" "$work/results/results.jsonl" \
  --command "RUNS=$runs bench/load.sh  (peers: $peers; data: $data)" \
  --when "$start" --load "$load_before / $load_after"
echo "written: bench/RESULTS.md (Load)"
