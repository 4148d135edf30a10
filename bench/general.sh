#!/bin/sh
# general.sh - general programs lore was not tuned to, each beside plain
# Lua (the same rules evaluated semi-naively by hand) and gringo in one
# invocation, on random inputs (bench/PROGRAM_gen.lua):
#   cspa      ten rules in the style of a context-sensitive pointer
#             analysis: three mutually recursive predicates (vf, ma, va),
#             a non-linear rule, three-way joins
#   andersen  Andersen's points-to analysis: pt from addressOf, assign,
#             load and store statements, two rules non-linear in pt
#   rdfs      RDFS-style rules over a class tree and a property tree:
#             subclasses, subproperties, domains and ranges, two rules
#             with a variable predicate (every fact one relation, t/3 in
#             gringo)
# Each tool RUNS times (default 3) a size; prints each run's figures, then
# the medians.  gringo's time is its whole run (grounding is these
# programs' evaluation), lore's and Lua's the evaluation after the load.
# All three must derive the same facts ("COUNTS DIFFER" otherwise).
#   bench/general.sh PROGRAM [SIZES...]   (a size: the generator's
#   arguments joined by commas; default the program's two below)
set -eu
here=$(dirname "$(readlink -f "$0")")
prog=${1:?usage: general.sh cspa|andersen|rdfs [SIZES...]}
shift
case $prog in
  cspa) preds="vf ma va"; sizes=${*:-"18000,9000,3000,1 17000,9000,3000,1"} ;;
  andersen) preds="pt"; sizes=${*:-"3000,3500,1 3000,4000,1"} ;;
  rdfs) preds="t"; sizes=${*:-"2000,20000,1 2000,50000,1"} ;;
  *) echo "general.sh: no program $prog (cspa, andersen, rdfs)" >&2; exit 2 ;;
esac
runs=${RUNS:-3}
lore=$here/../build/lore
[ -x "$lore" ] || { echo "general.sh: build lore first (make build)" >&2; exit 2; }
work=$(mktemp -d)
uptime
for size in $sizes; do
  in=$work/in-$(echo "$size" | tr ',' '-').txt
  # shellcheck disable=SC2046 # the size's fields are the generator's arguments
  lua5.4 "$here/${prog}_gen.lua" $(echo "$size" | tr ',' ' ') >"$in"
  if [ "$prog" = rdfs ]; then
    awk '{print "t(" $1 "," $2 "," $3 ")."}' "$in" >"$in.lp"
  else
    awk '{print $2 "(" $1 "," $3 ")."}' "$in" >"$in.lp"
  fi
  echo "$prog $size"
  for r in $(seq "$runs"); do
    "$lore" --empty "$here/${prog}_lore.lua" "$in"
    lua5.4 "$here/${prog}_lua.lua" "$in"
    if command -v gringo >/dev/null; then
      python3 - "$here/$prog.lp" "$in.lp" "$preds" <<'PY'
import subprocess, sys, time
t = time.perf_counter()
out = subprocess.run(["gringo", "--text", sys.argv[1], sys.argv[2]], capture_output=True, text=True, check=True).stdout
t = time.perf_counter() - t
counts = " ".join("%s %d" % (p, sum(1 for l in out.splitlines() if l.startswith(p + "("))) for p in sys.argv[3].split())
print("gringo %s infer %.3f" % (counts, t))
PY
    fi
  done | tee "$work/runs.txt"
  python3 - "$work/runs.txt" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    f = line.split()
    runs.setdefault(f[0], []).append((tuple(f[1:-2]), float(f[-1])))
counts = {k: v[0][0] for k, v in runs.items()}
same = len(set(counts.values())) == 1
for k, v in runs.items():
    print("median %s %s infer %.3f (worst %.3f)%s" % (k, " ".join(v[0][0]), statistics.median(t for _, t in v),
          max(t for _, t in v), "" if same else "  COUNTS DIFFER"))
PY
done
uptime
