#!/usr/bin/env python3
"""report.py - turns the rig's results.jsonl of a load run (bench/load.sh)
into the "Load" section of bench/RESULTS.md (results.py replaces only that
section): a table per file with medians, then lore against its targets.

  python3 bench/report.py RESULTS.jsonl --command CMD --when DATE --load LOADAVG
"""
import argparse
import json
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import results  # noqa: E402


def mib(kb):
    return "-" if kb is None else "%.0f MiB" % (kb / 1024.0)


def rate(r):
    if r.get("status") != "ok" or not r.get("median_wall"):
        return None
    return r["triples"] / r["median_wall"]


def bpt(r):
    if r.get("status") != "ok" or r.get("median_rss_kb") is None or r.get("empty_rss_kb") is None:
        return None
    return max(0.0, (r["median_rss_kb"] - r["empty_rss_kb"]) * 1024.0 / r["triples"])


def fmt_rate(x):
    return "-" if x is None else "%.2f M/s" % (x / 1e6)


def section(recs, command, when, load):
    out = []
    w = out.append
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    w("Loading W1 (the rig's LUBM-like N-Triples) into memory, lore beside the peers, all in one")
    w("invocation of `bench/load.sh` (each cell `python3 harness.py run PEER load FILE`: the whole")
    w("process under `/usr/bin/time`, median of the runs; bytes/triple = (peak RSS - peak RSS of the")
    w("same driver on `data/empty.nt`) / triples).  lore runs `lore --empty bench/lore_driver.lua`:")
    w("`kb:load(FILE)` (serd's reader, the bulk loader: batched interning, one sorted merge), then")
    w("prints the number of distinct facts.  serdi, rapper and sordi are driven by the rig (serdi and")
    w("sordi re-serialise to a pipe counted by `wc -l`: serdi's is the parse-only limit).\n")
    w("- when: %s, on %s (%d CPUs, %s), load average before / after: %s" % (
        when, platform.node(), os.cpu_count() or 0, cpu, load))
    w("- command: `%s`\n" % command)
    datas = []
    for r in recs.values():
        if r["data"] not in datas:
            datas.append(r["data"])
    datas.sort(key=lambda d: min(r["triples"] for r in recs.values() if r["data"] == d))
    for d in datas:
        rows = [r for r in recs.values() if r["data"] == d]
        w("### %s (%s triples)\n" % (d, "{:,}".format(rows[0]["triples"])))
        w("| peer | version | runs | median wall s | load phase s | peak RSS | triples/s | bytes/triple | count |")
        w("|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            ph = r.get("median_phases", {}).get("load")
            b = bpt(r)
            w("| %s | %s | %d | %s | %s | %s | %s | %s | %s |" % (
                r["peer"], r["version"], len(r["runs"]),
                "%.2f" % r["median_wall"] if r.get("median_wall") else "-",
                "%.2f" % ph if ph else "-", mib(r.get("median_rss_kb")), fmt_rate(rate(r)),
                "%.0f" % b if b is not None else "-",
                "%d ✓" % r["expected"] if r["status"] == "ok" else "**%s**" % r["status"]))
        w("")
    lore = {d: recs.get(("lore", d)) for d in datas}
    w("### lore against the targets\n")
    w("| target | measured | met |")
    w("|---|---|---|")
    one = "w1-1m.nt" if "w1-1m.nt" in datas else datas[0]
    L = lore.get(one)
    for peer, factor, label in (("sordi", 3.0, "at least 3x sordi's rate"),
                                ("serdi", 0.75, "at least 75% of serdi's rate (parse only)")):
        p = recs.get((peer, one))
        if L and p and rate(L) and rate(p):
            ratio = rate(L) / rate(p)
            w("| %s, %s | %s vs %s: %.2fx | %s |" % (label, one, fmt_rate(rate(L)), fmt_rate(rate(p)),
                                                  ratio, "yes" if ratio >= factor else "**no**"))
    if L and bpt(L) is not None:
        for d in datas:
            b = bpt(lore[d]) if lore.get(d) else None
            if b is not None:
                w("| peak memory at most 60 bytes/triple, %s | %.0f bytes/triple | %s |" % (
                    d, b, "yes" if b <= 60 else "**no**"))
    five = "w1-5m.nt"
    if L and lore.get(five) and rate(L) and rate(lore[five]):
        ratio = rate(lore[five]) / rate(L)
        w("| the same rate within 20%% at 5M | %s vs %s: %.0f%% | %s |" % (
            fmt_rate(rate(lore[five])), fmt_rate(rate(L)), 100 * ratio,
            "yes" if ratio >= 0.8 else "**no**"))
    w("")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--command", default="bench/load.sh")
    ap.add_argument("--when", default="?")
    ap.add_argument("--load", default="?")
    a = ap.parse_args()
    recs = {}
    for line in open(a.results):
        r = json.loads(line)
        if r["task"] == "load":
            recs[(r["peer"], r["data"])] = r
    results.write_section("Load", section(recs, a.command, a.when, a.load))


if __name__ == "__main__":
    main()
