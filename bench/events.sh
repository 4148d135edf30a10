#!/bin/sh
# events.sh - a rules host's event stream, lore beside CLIPS 6.30 and a
# plain-Lua incremental closure, in one invocation: the W2 forest with the
# ancestor rules, then EVENTS new parent edges (bench/events_gen.py), each
# added and inferred at once, every new derived fact heard by a callback
# (lore: a trigger; CLIPS: a rule on anc facts; Lua: a counter).  Prints
# events/s and the per-event latency's median and 99th percentile.
#   bench/events.sh [SHARED_RIG [EVENTS [SEED]]]    (default ../shared/bench 100000 1)
set -eu
here=$(dirname "$(readlink -f "$0")")
src=${1:-$here/../../shared/bench}
n=${2:-100000}
seed=${3:-1}
cmake --build "$here/../build" --target events_bench >/dev/null
work=$(mktemp -d)
cp "$src/gen.py" "$work/"
(cd "$work" && python3 gen.py w2 >/dev/null)
forest=$work/data/w2-forest.nt
python3 "$here/events_gen.py" "$n" "$seed" >"$work/events.txt"
uptime
"$here/../build/bench/events_bench" "$forest" "$work/events.txt"
lua5.4 "$here/events_lua.lua" "$forest" "$work/events.txt"
if command -v clips >/dev/null; then
  printf '(defglobal ?*forest* = "%s")\n(defglobal ?*events* = "%s")\n(defglobal ?*out* = "%s")\n(load* "%s")\n(main)\n(exit)\n' \
    "$forest" "$work/events.txt" "$work/clips.lat" "$here/events.clp" >"$work/run.clp"
  clips -f2 "$work/run.clp" </dev/null | grep '^clips'
  python3 - "$work/clips.lat" <<'PY'
import sys
lat = sorted(float(x) for x in open(sys.argv[1]) if x.strip())
n = len(lat)
print("clips latency p50_us %.2f p99_us %.2f events/s %.0f" % (lat[n // 2] * 1e6, lat[int(n * 0.99)] * 1e6, n / sum(lat)))
PY
else
  echo "events.sh: clips not installed, skipped"
fi
uptime
echo "(data in $work)"
