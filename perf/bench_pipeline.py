#!/usr/bin/env python3
"""The whole log pipeline on one worker core, fed by a pcap replay.

sluice runs as in production (the real binary, one worker lcore, the
embedded Kafka cluster) on net_pcap with infinite_rx=1: the 16,000 Loghub
lines as RFC 3164 syslog datagrams, replayed as fast as the worker takes
them. Every record is parsed, matched against 100 rules (the Loghub pack
plus generated filters of the shapes operators write), templated, encoded,
batched, compressed with zstd and produced to Kafka.

Reported from the stats file over a steady window: records/s through the
worker (received), exported/s, drops by reason, the worker's busy share,
and cycles per record at the worker's TSC rate. On a 2-core machine the
control core shares its core with librdkafka and the mock cluster; when
export cannot keep up, records drop as batch_pool_empty and are counted,
which this reports rather than hides.

usage: perf/bench_pipeline.py [--build build] [--seconds 10] [--rules 100]
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import pkt  # noqa: E402
from sluice import Sluice, wait_for  # noqa: E402

SETS = ["HDFS", "Hadoop", "Spark", "Zookeeper", "Apache", "OpenSSH", "Linux", "HealthApp"]
MAX_PAYLOAD = 1400          # one datagram, no fragments: the decode stage is measured elsewhere


def corpus(data):
    lines = []
    for s in SETS:
        with open(os.path.join(data, s, s + "_2k.log"), "rb") as f:
            lines += [l.rstrip(b"\r\n") for l in f if l.strip()]
    return lines


def frames_of(lines):
    out = []
    for i, l in enumerate(lines):
        msg = b"<134>Dec 10 06:55:46 host%d app%d[%d]: " % (i % 16, i % 8, 1000 + i % 97) + l
        if len(msg) <= MAX_PAYLOAD:
            out.append(pkt.udp_frame(msg, sport=40000 + i % 64))
    return out


def rules_file(path, n):
    """The Loghub pack (real failure signatures), then generated filters."""
    with open(os.path.join(ROOT, "rules", "packs", "loghub.yaml")) as f:
        pack = f.read()
    have = pack.count("- id:")
    rnd = random.Random(42)
    shapes = [
        lambda i: r"error code %d in module \w+" % i,
        lambda i: r"user%d (logged in|failed password)" % i,
        lambda i: r"\bblk_%d\b" % (i * 7919),
        lambda i: r"svc-%d: timeout after \d+ ?ms" % i,
        lambda i: r"Exception in thread \"worker-%d\"" % i,
        lambda i: r"disk /dev/sd[a-z]%d (full|read-only)" % i,
        lambda i: r"payment %d (declined|reversed)" % i,
    ]
    with open(path, "w") as f:
        f.write(pack.rstrip("\n") + "\n")
        for i in range(max(0, n - have)):
            pat = rnd.choice(shapes)(i)
            f.write("  - id: gen%05d\n    pattern: '%s'\n" % (i, pat.replace("'", "''")))
    return max(n, have)


def snapshot(s):
    st = s.stats()
    w = st["workers"][0]
    return time.monotonic(), st, w


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "loghub"))
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--rules", type=int, default=100)
    ap.add_argument("--warmup", type=float, default=3)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="sluice-bench-pipeline-")
    try:
        lines = corpus(a.data)
        frames = frames_of(lines)
        rx = os.path.join(tmp, "rx.pcap")
        pkt.write_pcap(rx, frames)
        n_rules = rules_file(os.path.join(tmp, "rules.yaml"), a.rules)
        cfg = {
            "node": {"name": "bench"},
            "ports": [{"device": "net_pcap0", "ipv4": ["10.0.0.2/24"], "mbufs": 16383}],
            "listeners": [{"proto": "udp", "port": 514, "format": "syslog"}],
            "batch": {"pool_size": 256},
            "rules": {"files": [os.path.join(tmp, "rules.yaml")],
                      "cache_dir": os.path.join(tmp, "cache")},
            "stats": {"interval_ms": 250},
        }
        vdev = "net_pcap0,rx_pcap=%s,infinite_rx=1" % rx
        with Sluice(os.path.join(a.build, "sluice"), cfg, [vdev], workdir=tmp,
                    name="bench") as s:
            wait_for(lambda: s.stats()["workers"][0]["records"]["received"] > 0, 30,
                     "records flowing")
            time.sleep(a.warmup)
            t0, st0, w0 = snapshot(s)
            time.sleep(a.seconds)
            t1, st1, w1 = snapshot(s)
            rc, fin = s.stop()
        if rc != 0:
            sys.exit("sluice exited %d" % rc)
        dt = t1 - t0
        rec = (w1["records"]["received"] - w0["records"]["received"]) / dt
        exp = (st1["ledger"]["records"]["exported"] - st0["ledger"]["records"]["exported"]) / dt
        busy = (w1["busy_polls"] - w0["busy_polls"]) / max(1, w1["polls"] - w0["polls"])
        drops = {k: v - w0["records"]["dropped"].get(k, 0)
                 for k, v in w1["records"]["dropped"].items()}
        byt = w1["batches"]["bytes_raw"] - w0["batches"]["bytes_raw"]
        out = w1["batches"]["bytes_out"] - w0["batches"]["bytes_out"]
        hz = tsc_hz()
        print("sluice log pipeline, one worker core, net_pcap replay of %d Loghub lines "
              "(%d datagrams), %d rules, templates on, zstd level default, embedded Kafka"
              % (len(lines), len(frames), n_rules))
        print("| figure | value |")
        print("|---|---:|")
        print("| records/s through the worker | %.3f M |" % (rec / 1e6))
        print("| records/s exported to Kafka | %.3f M |" % (exp / 1e6))
        print("| worker busy share (polls that got packets) | %.1f %% |" % (100 * busy))
        if hz:
            print("| cycles per record on the worker (TSC %.2f GHz, busy share) | %.0f |"
                  % (hz / 1e9, hz * busy / rec if rec else 0))
        print("| NDJSON bytes per record | %.0f |" % (byt / max(1, exp * dt)))
        print("| zstd ratio | %.1f |" % (byt / max(1, out)))
        print("| drops in the window | %s |" % (", ".join("%s=%d" % kv for kv in drops.items()
                                                        if kv[1]) or "none"))
        print("| ledger at exit | %s |" % ("balanced" if fin["ledger"]["balanced"]
                                           else "NOT balanced"))
        return 0 if fin["ledger"]["balanced"] else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def tsc_hz():
    """The TSC rate the kernel measured (x86), else None."""
    try:
        out = subprocess.run(["dmesg"], capture_output=True, text=True).stdout
    except OSError:
        return None
    for line in out.splitlines():
        if "tsc: Refined TSC clocksource calibration" in line or "tsc: Detected" in line:
            try:
                mhz = float(line.split(":")[-1].split("MHz")[0].strip().split()[-1])
                return mhz * 1e6
            except ValueError:
                continue
    return None


if __name__ == "__main__":
    sys.exit(main())
