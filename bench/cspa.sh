#!/bin/sh
# cspa.sh - a general program lore was not tuned to, beside plain Lua and
# gringo in one invocation: ten rules in the style of a context-sensitive
# pointer analysis (three mutually recursive predicates vf, ma, va; a
# non-linear rule; three-way joins), on random inputs of 12,000 facts
# (bench/cspa_gen.lua).  Each tool RUNS times (default 3) a size; prints
# each run's figures, then the medians.  gringo's time is its whole run
# (grounding is this program's evaluation), lore's and Lua's the
# evaluation after the load.
#   bench/cspa.sh [SIZES...]   (a size: N,A,D,SEED; default the two below)
set -eu
here=$(dirname "$(readlink -f "$0")")
runs=${RUNS:-3}
lore=$here/../build/lore
[ -x "$lore" ] || { echo "cspa.sh: build lore first (make build)" >&2; exit 2; }
work=$(mktemp -d)
sizes=${*:-"18000,9000,3000,1 17000,9000,3000,1"}
uptime
for size in $sizes; do
  set -- $(echo "$size" | tr ',' ' ')
  in=$work/in-$1-$2-$3-$4.txt
  lua5.4 "$here/cspa_gen.lua" "$1" "$2" "$3" "$4" >"$in"
  awk '{print $2 "(" $1 "," $3 ")."}' "$in" >"$in.lp"
  echo "size n=$1 assign=$2 deref=$3 seed=$4"
  for r in $(seq "$runs"); do
    "$lore" --empty "$here/cspa_lore.lua" "$in"
    lua5.4 "$here/cspa_lua.lua" "$in"
    if command -v gringo >/dev/null; then
      python3 - "$here/cspa.lp" "$in.lp" <<'PY'
import subprocess, sys, time
t = time.perf_counter()
out = subprocess.run(["gringo", "--text", sys.argv[1], sys.argv[2]], capture_output=True, text=True, check=True).stdout
t = time.perf_counter() - t
n = {p: sum(1 for l in out.splitlines() if l.startswith(p + "(")) for p in ("vf", "ma", "va")}
print("gringo vf %d ma %d va %d infer %.3f" % (n["vf"], n["ma"], n["va"], t))
PY
    fi
  done | tee "$work/runs.txt"
  python3 - "$work/runs.txt" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    f = line.split()
    runs.setdefault(f[0], []).append((tuple(f[1:7]), float(f[8])))
counts = {k: v[0][0] for k, v in runs.items()}
same = len(set(counts.values())) == 1
for k, v in runs.items():
    print("median %s %s infer %.3f (worst %.3f)%s" % (k, " ".join(v[0][0]), statistics.median(t for _, t in v),
          max(t for _, t in v), "" if same else "  COUNTS DIFFER"))
PY
done
uptime
