#!/bin/sh
# upkeep.sh - lore's upkeep after 1% changes on the W2 forest, for the
# closure rules, W4's same generation rules, a negation with a count and
# a reachability through nodes not blocked (bench/rules_bench.c), over
# seeds 1-5 (adding 1% of the edges, then
# removing 1%; retracting a source that holds 1%): the ratio of each
# re-inference to a fresh kb's inference on the same final facts (the
# stricter reading of "from scratch"), median and worst seed.  Each run's
# result is checked against that fresh kb.
#   bench/upkeep.sh [SHARED_RIG]     (default ../shared/bench)
set -eu
here=$(dirname "$(readlink -f "$0")")
src=${1:-$here/../../shared/bench}
cmake --build "$here/../build" --target rules_bench >/dev/null
work=$(mktemp -d)
cp "$src/gen.py" "$work/"
(cd "$work" && python3 gen.py w2 >/dev/null)
uptime
for task in incremental incremental-leaves retract sg-incremental sg-incremental-leaves sg-retract \
            neg-incremental neg-incremental-leaves neg-retract blocks; do
  for seed in 1 2 3 4 5; do
    echo "RUN $task $seed"
    "$here/../build/bench/rules_bench" "$task" "$work/data/w2-forest.nt" 1 "$seed"
  done
done >"$work/out.txt"
uptime
python3 - "$work/out.txt" <<'PY'
import statistics, sys
rows, cur, bad = {}, None, 0
for line in open(sys.argv[1]):
    f = line.split()
    if f[0] == "RUN":
        cur = rows.setdefault(f[1], []); cur.append({})
    elif f[0] == "PHASE":
        cur[-1][f[1]] = float(f[2])
    elif "WRONG" in line:
        bad += 1
name = {"incremental": ("closure", "200 second parents (edges between existing nodes)"),
        "incremental-leaves": ("closure", "200 new leaves"),
        "sg-incremental": ("same generation", "200 second parents (edges between existing nodes)"),
        "sg-incremental-leaves": ("same generation", "200 new leaves"),
        "retract": ("closure", None), "sg-retract": ("same generation", None),
        "neg-incremental": ("negation and a count", "200 second parents (edges between existing nodes)"),
        "neg-incremental-leaves": ("negation and a count", "200 new leaves"),
        "neg-retract": ("negation and a count", None),
        "blocks": ("reach through nodes not blocked (recursive, negated input)", "blocks")}
print("| rules | change (1% of the edges: 200) | median ratio | worst seed | median s (fresh s) |")
print("|---|---|---|---|---|")
for task, runs in rows.items():
    prog, added = name[task]
    phases = ((("add", "block 200 more nodes (1%)"), ("remove", "then unblock 200 of the 400"))
              if added == "blocks"
              else (("add", "add " + added), ("remove", "then remove 200 edges at random")) if added
              else (("retract", "retract a source holding 200 edges (1%)"),))
    for what, label in phases:
        r = [x[what] / x[what + "-fresh"] for x in runs]
        print("| %s | %s | %.2f | %.2f | %.3f (%.3f) |" % (prog, label, statistics.median(r), max(r),
              statistics.median(x[what] for x in runs), statistics.median(x[what + "-fresh"] for x in runs)))
print("results checked against a fresh kb: %s" % ("all equal" if bad == 0 else "%d WRONG" % bad))
PY
