#!/usr/bin/env python3
"""Grouping accuracy of sluice's template miner on the Loghub 2k sets.

Method (LogPAI's, as ../shared/data/loghub/README.md states it): a line is
correct when the set of lines its template groups together is exactly the
set of lines sharing its ground-truth EventId; GA is the share of correct
lines. The miner sees each line's Content column (the message after the
data set's own header), in file order, once, with sluice's defaults: one
configuration for every set, no per-set regexes or thresholds.

Two figures per set:
  GA (template)  grouping by the template each line ended in: the figure
                 Drain and the LogPAI benchmark publish;
  GA (record id) grouping by the template_id each record carried when it
                 was exported, i.e. before later lines generalised its
                 template: what a consumer sees with no alias resolution,
                 on a cold table (the set's first pass: every template's
                 first lines still carry the id it had before it
                 generalised) and on a warm one (a second pass over the
                 same lines, as on a node that has seen its traffic).
  GA (raw line)  grouping by template when the miner sees each whole line,
                 the data set's own header (timestamps, pid, level,
                 component) included: what a syslog MSG that embeds the
                 application's header looks like to the worker.

usage: perf/template_accuracy.py [--build build] [--data DIR] [--markdown]
"""
import argparse
import collections
import csv
import os
import subprocess
import sys

SETS = ["HDFS", "Hadoop", "Spark", "Zookeeper", "Apache", "OpenSSH", "Linux", "HealthApp"]
DRAIN = {"HDFS": 0.998, "Hadoop": 0.948, "Spark": 0.920, "Zookeeper": 0.967,
         "Apache": 1.0, "OpenSSH": 0.788, "Linux": 0.690, "HealthApp": 0.780}


def ga(pred, truth):
    pg, tg = collections.defaultdict(set), collections.defaultdict(set)
    for i, (p, t) in enumerate(zip(pred, truth)):
        pg[p].add(i)
        tg[t].add(i)
    return sum(1 for p, t in zip(pred, truth) if pg[p] == tg[t]) / len(pred)


def mine(tool, content, passes):
    out = subprocess.run([tool, "-p", str(passes)], input=content, capture_output=True,
                         check=True)
    lines = out.stdout.decode().splitlines()
    return [l.split() for l in lines if not l.startswith("T ")], \
        sum(1 for l in lines if l.startswith("T "))


def run_set(tool, data, name):
    path = os.path.join(data, name, name + "_2k.log_structured.csv")
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        rows = list(csv.DictReader(f))
    content = "".join(r["Content"].replace("\n", " ") + "\n" for r in rows).encode()
    per_line, n_tpl = mine(tool, content, 1)
    warm, _ = mine(tool, content, 2)
    if len(per_line) != len(rows) or len(warm) != len(rows):
        sys.exit(f"{name}: {len(per_line)} results for {len(rows)} lines")
    truth = [r["EventId"] for r in rows]
    with open(os.path.join(data, name, name + "_2k.log"), "rb") as f:
        raw = b"".join(l.rstrip(b"\r\n") + b"\n" for l in f.readlines()[:len(rows)])
    raw_lines, _ = mine(tool, raw, 1)
    # A line the full table left unclustered (-1) is a group of its own id.
    def groups(res):
        return [p[0] if p[0] != "-1" else "u" + p[1] for p in res]
    return (ga(groups(per_line), truth), ga([p[1] for p in per_line], truth),
            ga([p[1] for p in warm], truth), ga(groups(raw_lines), truth),
            n_tpl, len(set(truth)))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(here, "..", "build"))
    ap.add_argument("--data", default=os.path.join(here, "..", "..", "shared", "data", "loghub"))
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--min", type=float, default=0.0,
                    help="exit 1 when the average GA (template) is below this")
    a = ap.parse_args()
    tool = os.path.join(a.build, "perf", "sluice-templates")
    res = {s: run_set(tool, a.data, s) for s in SETS}
    avg = [sum(r[i] for r in res.values()) / len(SETS) for i in (0, 1, 2, 3)]
    drain_avg = sum(DRAIN.values()) / len(SETS)
    if a.markdown:
        print("| data set | GA (template) | GA (record id, cold) | GA (record id, warm) "
              "| GA (raw line) | templates | truth | Drain (published) |")
        print("|---|---|---|---|---|---|---|---|")
        for s, (g, o, w, r, n, t) in res.items():
            print(f"| {s} | {g:.3f} | {o:.3f} | {w:.3f} | {r:.3f} | {n} | {t} | {DRAIN[s]:.3f} |")
        print(f"| **average** | **{avg[0]:.3f}** | {avg[1]:.3f} | {avg[2]:.3f} | {avg[3]:.3f} "
              f"| | | {drain_avg:.3f} |")
    else:
        print(f"{'data set':10s} {'GA tpl':>7s} {'id cold':>7s} {'id warm':>7s} {'raw':>7s} "
              f"{'tpls':>5s} {'truth':>5s} {'Drain':>6s}")
        for s, (g, o, w, r, n, t) in res.items():
            print(f"{s:10s} {g:7.3f} {o:7.3f} {w:7.3f} {r:7.3f} {n:5d} {t:5d} {DRAIN[s]:6.3f}")
        print(f"{'average':10s} {avg[0]:7.3f} {avg[1]:7.3f} {avg[2]:7.3f} {avg[3]:7.3f} "
              f"{'':5s} {'':5s} {drain_avg:6.3f}")
    return 1 if avg[0] < a.min else 0


if __name__ == "__main__":
    sys.exit(main())
