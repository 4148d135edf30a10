#!/usr/bin/env python3
"""store.py - the store benchmark: adds, matches, counts and memory from C,
and adds and enumeration from Lua beside the plain-Lua nested-table baseline
(in the same process), at N = 10^5, 10^6, 10^7.  Medians of RUNS runs.
Writes the "Store" section of bench/RESULTS.md.

Usage: python3 bench/store.py [--build build] [--runs 3] [--sizes 1e5,1e6,1e7]
"""
import argparse
import datetime
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import results  # noqa: E402


def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    vals = {}
    for line in out.splitlines():
        k, _, v = line.partition(" ")
        try:
            vals[k] = float(v)
        except ValueError:
            pass
    return vals


def medians(cmd, runs):
    samples = [run(cmd) for _ in range(runs)]
    return {k: statistics.median(s[k] for s in samples) for k in samples[0]}


def m(x):
    return "%.2f M/s" % (x / 1e6)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sizes", default="1e5,1e6,1e7")
    ap.add_argument("--lua-sizes", default="1e5,1e6")
    a = ap.parse_args()
    subprocess.run(["cmake", "--build", a.build, "--target", "store_bench", "lore"], check=True,
                   capture_output=True)
    cbin = os.path.join(a.build, "bench", "store_bench")
    lore = os.path.join(a.build, "lore")
    load0 = os.getloadavg()
    c = {n: medians([cbin, n], a.runs) for n in a.sizes.split(",")}
    lua = {n: medians([lore, "--empty", os.path.join(HERE, "store_lua.lua"), n], a.runs)
           for n in a.lua_sizes.split(",")}
    load1 = os.getloadavg()

    out = []
    w = out.append
    w("Command: `python3 bench/store.py --runs %d --sizes %s --lua-sizes %s` (%s, medians of %d runs;"
      " facts are distinct random (s, p, o) with s, o over 10^5 terms and p over 100 of them;"
      " load average before / after: %s / %s)."
      % (a.runs, a.sizes, a.lua_sizes, datetime.date.today().isoformat(), a.runs,
         " ".join("%.2f" % x for x in load0), " ".join("%.2f" % x for x in load1)))
    w("")
    w("From C (`bench/store_bench.c`, through lore.h):")
    w("")
    w("| N | add, one by one (lore_add) | add, in a batch (lore_batch) | bytes/fact (store, steady) | peak RSS bytes/fact | full scan | ?p? scan | "
      "next() scan | s?? queries | count, slowest shape |")
    w("|---|---|---|---|---|---|---|---|---|---|")
    for n, v in c.items():
        counts = {k: v[k] for k in v if k.startswith("count_")}
        slow = max(counts, key=counts.get)
        w("| %s | %s | %s | %.1f | %.1f | %s rows | %s rows | %s rows | %s | %.0f ns (%s) |" % (
            n, m(v["add_per_s"]), m(v["batch_add_per_s"]), v["bytes_per_fact"], v["peak_rss_bytes_per_fact"],
            m(v["match_???_rows_per_s"]), m(v["match_?p?_rows_per_s"]), m(v["match_next_rows_per_s"]),
            m(v["match_s??_queries_per_s"]), counts[slow], slow[6:-3]))
    w("")
    w("Counts of every shape (ns, median over 10^6 random bound patterns):")
    w("")
    shapes = ["???", "s??", "?p?", "sp?", "??o", "s?o", "?po", "spo"]
    w("| N | " + " | ".join(shapes) + " |")
    w("|---" * (len(shapes) + 1) + "|")
    for n, v in c.items():
        w("| %s | " % n + " | ".join("%.0f" % v["count_%s_ns" % s] for s in shapes) + " |")
    w("")
    w("From Lua (`bench/store_lua.lua`, run by `lore`), beside the plain-Lua baseline of the peer rig"
      " (nested tables `S[s][p][o] = true`) in the same process on the same facts:")
    w("")
    w("| N | lore kb:add | lore batch b:add + commit | nested tables | kb:add ratio | lore generic-for | nested-table pairs() |")
    w("|---|---|---|---|---|---|---|")
    for n, v in lua.items():
        w("| %s | %s | %s | %s | %.2f× | %s rows | %s rows |" % (
            n, m(v["lore_add_per_s"]), m(v["lore_batch_add_per_s"]), m(v["lua_tables_add_per_s"]),
            v["lore_add_per_s"] / v["lua_tables_add_per_s"], m(v["lore_match_rows_per_s"]),
            m(v["lua_tables_enum_rows_per_s"])))
    w("")
    w("Bytes/fact (steady) is the resident memory the store holds after its first read (which folds"
      " pending facts into the base), over the facts; peak RSS is the process's high-water mark"
      " beyond its start, minus the benchmark's own array of facts, over the facts: it includes the"
      " transient of a rebuild. A write-time rebuild grows the base's arrays in place and packs the"
      " pending facts into rows inside their own hash table, so its peak is the pending facts as they"
      " were held before it (the old and new bases were held together before 2026-12-04: 66.8 bytes a"
      " fact at 1e7; then the pending rows were copied beside their table: 49.7).")
    w("")
    w("### lore against the targets")
    w("")
    w("| target | measured | met |")
    w("|---|---|---|")

    def target(what, measured, ok):
        w("| %s | %s | %s |" % (what, measured, "yes" if ok else "**no**"))

    if "1e6" in c:
        v = c["1e6"]["add_per_s"]
        target("adding from C, one by one, at least 5 M facts/s at N = 1e6", m(v), v >= 5e6)
    if "1e6" in lua:
        v = lua["1e6"]
        target("adding from Lua (kb:add), at least 2 M facts/s at N = 1e6", m(v["lore_add_per_s"]),
               v["lore_add_per_s"] >= 2e6)
        r = v["lore_add_per_s"] / v["lua_tables_add_per_s"]
        target("kb:add faster than the nested tables in the same run, N = 1e6", "%.2f×" % r, r > 1)
        target("a Lua generic-for over matches, at least 5 M rows/s, N = 1e6",
               m(v["lore_match_rows_per_s"]) + " rows", v["lore_match_rows_per_s"] >= 5e6)
    if "1e7" in c:
        v = c["1e7"]
        b = v["bytes_per_fact"] + v["dict_bytes_beyond_strings_per_fact"]
        target("at most 48 bytes per fact at N = 1e7, beyond the terms' strings",
               "%.1f (store %.1f, dictionary %.1f)" % (b, v["bytes_per_fact"],
                                                     v["dict_bytes_beyond_strings_per_fact"]), b <= 48)
    scans = min(min(v["match_???_rows_per_s"], v["match_?p?_rows_per_s"]) for v in c.values())
    target("enumerating from C, at least 50 M rows/s (full and ?p? scans, every N)", m(scans) + " rows",
           scans >= 50e6)
    worst = max(max(v[k] for k in v if k.startswith("count_")) for v in c.values())
    target("count of any shape under 1 µs, every N", "%.0f ns at worst" % worst, worst < 1000)
    results.write_section("Store", "\n".join(out))
    print("\n".join(out))


if __name__ == "__main__":
    main()
