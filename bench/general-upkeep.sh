#!/bin/sh
# general-upkeep.sh - lore's upkeep on a general program of
# bench/general.sh (cspa, andersen, rdfs) at one size: over seeds 1-5, 1%
# new facts and then 1% of the original removed (bench/general_lore.lua),
# each re-inference's ratio to a fresh kb's inference on the same facts;
# the median and the worst seed of each.
#   bench/general-upkeep.sh PROGRAM [SIZE]   (SIZE as general.sh takes it;
#   default its smaller one)
set -eu
here=$(dirname "$(readlink -f "$0")")
prog=${1:?usage: general-upkeep.sh cspa|andersen|rdfs [SIZE]}
case $prog in
  cspa) size=${2:-18000,9000,3000,1} ;;
  andersen) size=${2:-3000,3500,1} ;;
  rdfs) size=${2:-2000,20000,1} ;;
  *) echo "general-upkeep.sh: no program $prog (cspa, andersen, rdfs)" >&2; exit 2 ;;
esac
lore=$here/../build/lore
[ -x "$lore" ] || { echo "general-upkeep.sh: build lore first (make build)" >&2; exit 2; }
work=$(mktemp -d)
# shellcheck disable=SC2046 # the size's fields are the generator's arguments
lua5.4 "$here/${prog}_gen.lua" $(echo "$size" | tr ',' ' ') >"$work/in.txt"
uptime
for seed in 1 2 3 4 5; do
  UPKEEP_SEED=$seed "$lore" --empty "$here/${prog}_lore.lua" "$work/in.txt" | sed "s/^/$seed /"
done | tee "$work/runs.txt"
uptime
python3 - "$work/runs.txt" "$prog $size" <<'PY'
import statistics, sys
by = {}
for line in open(sys.argv[1]):
    f = line.split()
    by.setdefault(f[2], []).append(float(f[7]))
for k, v in by.items():
    print("%s %s: median %.2f worst %.2f (%s)" % (sys.argv[2], k, statistics.median(v), max(v),
          " ".join("%.2f" % x for x in v)))
PY
grep -q WRONG "$work/runs.txt" && echo "general-upkeep.sh: a result differs from a fresh kb's" && exit 1
exit 0
