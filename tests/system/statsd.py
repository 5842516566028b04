#!/usr/bin/env python3
"""StatsD system tests: real clients in a network namespace send to the
StatsD listeners of sluice (UDP and TCP port 8125) through the veth pair
of run.py (net_af_packet, qpairs=2, two workers, embedded Kafka); the
records of the metrics topic are checked against a model of the lines
the clients sent.

  library     the Debian python3-statsd package (UDP and TCP clients:
              incr, decr, sampled incr, gauges, deltas, timing, sets,
              pipelines): exact counters, gauges, timer counts and sums
  dogstatsd   nc: tags in any order, sample rates, multi-value lines,
              |T and |c: fields, malformed lines in the same datagrams
              (each drop reason counted, the good lines aggregated),
              LF-framed lines over TCP
  quantiles   5,000 timer and distribution values in one burst: count,
              min, max exact, sum to 1e-9, quantiles within 1 %
  sets        5,000 and 4,500 distinct members (duplicates, two
              sockets): estimate within 2 %
  gauge_workers  one gauge set and moved from flows
              pinned to each worker, in one interval: the latest set
              wins, deltas after it count, deltas before it do not

Counters and timer counts are summed over the 1 s intervals and gauges
taken from the latest one (traffic may straddle a boundary); the
quantile and set bursts are sent just after a boundary and must land in
one interval. Everything created (namespace, veth pair, processes,
temporary files) is removed at the end of each test, also on failure.
Prints 'N passed, N failed'.
"""
import argparse
import collections
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import run as net  # noqa: E402  (namespace and veth pair)
from sluice import Sluice, cat, wait_for  # noqa: E402

ARGS = None
HOST = "10.88.0.2"
PORT = 8125
NODE = "statsd-sys"
QUANTILES = ["0.5", "0.9", "0.99"]
# python3-statsd is a Debian package: only the system interpreter has it.
# -I keeps this directory (and its statsd.py) off that interpreter's path.
SYSTEM_PY = ["/usr/bin/python3", "-I", "-c"]


# ---- the expected side: what sluice should make of the lines sent ----

CLASS = {"c": "counter", "g": "gauge", "ms": "timer", "h": "timer",
         "d": "distribution", "s": "set"}


def parse_line(line):
    """A valid StatsD line -> (series key, values as sent, rate); the key
    is (name, type, sorted tags) as the topic's records give it."""
    name, rest = line.split(":", 1)
    fields = rest.split("|")
    typ = CLASS[fields[1]]
    rate, tags = 1.0, {}
    for f in fields[2:]:
        if f.startswith("@"):
            rate = float(f[1:])
        elif f.startswith("#"):
            for t in f[1:].split(","):
                k, _, v = t.partition(":")
                tags[k] = v          # the last of a key wins
    raw = [fields[0]] if typ == "set" else fields[0].split(":")
    return (name, typ, tuple(sorted(tags.items()))), raw, rate


class Model:
    """Per series: counter sum, gauge value, timer values, set members."""

    def __init__(self):
        self.s = {}
        self.lines = 0

    def add(self, line):
        key, raw, rate = parse_line(line)
        e = self.s.setdefault(key, {"samples": 0, "sum": 0.0, "gauge": 0.0,
                                    "values": [], "members": set()})
        self.lines += 1
        e["samples"] += 1 if key[1] == "set" else len(raw)
        for v in raw:
            if key[1] == "counter":
                e["sum"] += float(v) / rate
            elif key[1] == "gauge":
                e["gauge"] = e["gauge"] + float(v) if v[0] in "+-" else float(v)
            elif key[1] == "set":
                e["members"].add(v)
            else:
                e["values"].append((float(v), 1 / rate))

    def add_payload(self, data):
        for line in split_lines(data):
            self.add(line)


def split_lines(data):
    """The lines sluice sees: LF-split, one CR before the LF stripped,
    empty lines skipped."""
    out = []
    for line in data.split("\n"):
        line = line[:-1] if line.endswith("\r") else line
        if line:
            out.append(line)
    return out


# ---- the got side: the metrics topic ----

def by_series(recs):
    """statsd records -> {series key: [records by time]}; checks the
    fields every record has."""
    out = collections.defaultdict(list)
    for r in recs:
        if r.get("source") != "statsd":
            continue
        end, start = r["time_unix_nano"], r["start_time_unix_nano"]
        assert end % 10**9 == 0 and 0 < end - start <= 10**9, r
        assert r["interval_ms"] == (end - start) // 10**6 and r["node"] == NODE, r
        key = (r["name"], r["type"], tuple(sorted(r["labels"].items())))
        out[key].append(r)
    for rs in out.values():
        rs.sort(key=lambda r: r["time_unix_nano"])
        ends = [r["time_unix_nano"] for r in rs]
        assert len(set(ends)) == len(ends), "two records of one interval: %s" % rs
    return out


def check_counter(exp, rs):
    got = sum(r["value"] for r in rs)
    assert got == exp["sum"], (got, exp["sum"], rs)
    assert rs[-1]["total"] == exp["sum"], rs
    assert all(r["temporality"] == "delta" for r in rs), rs


def check_gauge(exp, rs):
    assert rs[-1]["value"] == exp["gauge"], (exp["gauge"], rs)


def check_set(exp, rs):
    # Each member is sent once, or its repeats in one datagram (one
    # interval): the per-interval sets are disjoint, and small ones exact.
    got = sum(r["value"] for r in rs)
    assert got == len(exp["members"]), (len(exp["members"]), rs)


def check_sketch(exp, rs):
    vals = exp["values"]
    count = sum(w for _, w in vals)
    total = sum(v * w for v, w in vals)
    assert sum(r["count"] for r in rs) == count, (count, rs)
    assert math.isclose(sum(r["sum"] for r in rs), total, rel_tol=1e-9, abs_tol=1e-9), \
        (total, rs)
    assert min(r["min"] for r in rs) == min(v for v, _ in vals), rs
    assert max(r["max"] for r in rs) == max(v for v, _ in vals), rs
    assert all(sorted(r["quantiles"]) == QUANTILES for r in rs), rs
    if len(rs) == 1:        # all in one interval: its quantiles are the values'
        check_quantiles(rs[0], vals)


def exact_quantile(vals, q):
    """The value of rank floor(q (count - 1)); vals: (value, weight)."""
    vals = sorted(vals)
    rank = math.floor(float(q) * (sum(w for _, w in vals) - 1))
    seen = 0
    for v, w in vals:
        seen += w
        if seen > rank:
            return v
    return vals[-1][0]


def check_quantiles(rec, vals):
    """Within DDSketch's 1 % of the exact quantiles."""
    for q in QUANTILES:
        want, got = exact_quantile(vals, q), rec["quantiles"][q]
        assert abs(got - want) <= 0.01 * abs(want) + 1e-12, (q, got, want)


CHECK = {"counter": check_counter, "gauge": check_gauge, "set": check_set,
         "timer": check_sketch, "distribution": check_sketch}


def check_model(model, got):
    """Every series sent, and only those, with its values."""
    assert sorted(got) == sorted(model.s), \
        "series: missing %s, unexpected %s" % (sorted(set(model.s) - set(got)),
                                               sorted(set(got) - set(model.s)))
    for key, exp in model.s.items():
        try:
            assert sum(r["samples"] for r in got[key]) == exp["samples"], got[key]
            CHECK[key[1]](exp, got[key])
        except AssertionError as e:
            raise AssertionError("series %s: %s" % (key, e)) from None


# ---- sluice ----

def sluice_cfg():
    return {
        "node": {"name": NODE},
        "ports": [{"device": "net_af_packet0", "ipv4": ["10.88.0.2/24"],
                   "ipv6": ["fd88::2/64"], "mbufs": 8191, "mbuf_size": 16384}],
        "listeners": [{"proto": "udp", "port": PORT, "format": "statsd"},
                      {"proto": "tcp", "port": PORT, "format": "statsd"}],
        "metrics": {"flush_interval_ms": 1000, "quantiles": QUANTILES},
        "worker": {"idle_sleep_us": 20},
    }


class Run:
    """sluice on the host end of the veth pair (run.py's set-up)."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="sl-statsd-")
        vdev = "net_af_packet0,iface=%s,qpairs=2,framesz=16384,blocksz=16384" % net.HOST_IF
        self.s = Sluice(ARGS.sluice, sluice_cfg(), [vdev], lcores="0@0,1@1,2@1",
                        workdir=self.tmp, name="statsd")

    def __enter__(self):
        try:
            self.s.start()
        except BaseException:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        return self

    def __exit__(self, *exc):
        self.s.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def records(self, field):
        return sum(w["records"][field] for w in self.s.stats()["workers"])

    def finish(self, lines):
        """Waits for `lines` metric lines and the intervals that hold
        them, reads the metrics topic, stops sluice; returns (records by
        series, final stats)."""
        try:
            wait_for(lambda: self.records("metrics") >= lines, 30,
                     "%d metric lines" % lines)
        except AssertionError:
            print(json.dumps(self.s.stats()["workers"], indent=1))
            raise
        m0 = self.s.stats()["metrics"]
        # The interval open now, and the one after (a table that missed
        # the grace goes into the next one: tables_late).
        wait_for(lambda: flushed(self.s.stats()["metrics"], m0), 10, "intervals to flush")
        recs = self.read_topic()
        rc, fin = self.s.stop()
        assert rc == 0, self.s.output()
        assert fin["ledger"]["balanced"], fin["ledger"]
        ws = fin["workers"]
        assert sum(w["records"]["metrics"] for w in ws) == lines, (lines, ws)
        agg = sum(w["records"]["aggregated"] for w in ws)
        assert fin["ledger"]["records"]["aggregated"] == agg, fin["ledger"]
        assert fin["metrics"]["lines_dropped"] == 0, fin["metrics"]
        return by_series(recs), fin

    def read_topic(self):
        """Every line sent to the metrics topic (lines_sent counts them)."""
        want = self.s.stats()["metrics"]["lines_sent"]
        for _ in range(10):
            recs = cat(ARGS.sluice_cat, self.s.bootstrap(), "sluice.metrics",
                       timeout_ms=5000)
            if len(recs) >= want:
                assert len(recs) == want, (len(recs), want)
                return recs
            time.sleep(0.3)
        raise AssertionError("metrics topic: %d records, %d sent" % (len(recs), want))


def drops(st):
    """Dropped records by reason, summed over the workers."""
    out = collections.Counter()
    for w in st["workers"]:
        out.update(w["records"]["dropped"])
    return dict(out)


def flushed(m, m0):
    """Two more intervals sent since m0, and one per table that came late."""
    return m["intervals"] >= m0["intervals"] + 2 + (m["tables_late"] - m0["tables_late"])


# ---- clients in the namespace ----

def nsrun(argv, input=None, timeout=60):
    r = subprocess.run(["ip", "netns", "exec", net.NS] + list(argv), input=input,
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, "%s: rc %d: %s" % (argv[:3], r.returncode, r.stderr)
    return r.stdout


# Waits for the start of a second (just after an interval boundary),
# then sends: a burst of well under a second lands in one interval.
ALIGN = """
import time
while not 0.05 < time.time() % 1 < 0.35:
    time.sleep(0.01)
"""

# Sends the datagrams on stdin (JSON: [[socket 0 or 1, payload], ...]),
# pausing every 20 so that the veth backlog (1,000 packets) never fills.
BURST = ALIGN + """
import json, socket, sys
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
t0 = time.time()
for n, d in enumerate(json.load(sys.stdin)):
    socks[d[0]].sendto(d[1].encode(), (%r, %d))
    if n %% 20 == 19:
        time.sleep(0.002)
print(json.dumps([t0, time.time()]))
""" % (HOST, PORT)


def burst(datagrams):
    """datagrams: [(socket 0 or 1, payload)]; returns the send times."""
    return json.loads(nsrun([sys.executable, "-c", BURST], json.dumps(datagrams)))


def pack(lines, size=1200):
    """Lines into LF-joined datagrams of at most size bytes."""
    out, cur = [], ""
    for line in lines:
        if cur and len(cur) + 1 + len(line) > size:
            out.append(cur)
            cur = ""
        cur = cur + "\n" + line if cur else line
    return out + [cur] if cur else out


# ---- test: the python3-statsd package ----

LIBRARY_CLIENT = ALIGN + """
import datetime, json, random, statsd

def tap(client, proto):
    send = client._send
    def sent(data):
        print(json.dumps([proto, data]), flush=True)
        send(data)
    client._send = sent
    return client

random.seed(7)
u = tap(statsd.StatsClient(%(host)r, %(port)d), "udp")
for i in range(300):
    u.incr("lib.requests")
    if i %% 50 == 49:
        time.sleep(0.002)
u.incr("lib.requests", 5)
u.decr("lib.errors", 2)
for i in range(200):            # the library samples: tap() prints what went out
    u.incr("lib.sampled", rate=0.5)
    u.timing("lib.sampled_rt", i, rate=0.25)
u.gauge("lib.temp", 20)
u.gauge("lib.temp", 5, delta=True)
u.gauge("lib.temp", -3, delta=True)
u.gauge("lib.neg", -7)          # a pipeline: 0|g then -7|g
for i in range(50):
    u.timing("lib.rt", i * 1.5)
u.timing("lib.rt", datetime.timedelta(milliseconds=250))
with u.timer("lib.block"):
    time.sleep(0.01)
for i in range(30):
    u.set("lib.users", "user%%d" %% i)
with u.pipeline() as p:
    for i in range(40):
        p.incr("lib.piped")
        p.timing("lib.piped_rt", i)
# Eight clients, eight flows (spread over the workers), 20 ms apart: the
# latest set wins; deltas after a set count, whichever worker has them.
flows = [tap(statsd.StatsClient(%(host)r, %(port)d), "udp") for _ in range(8)]
for i, c in enumerate(flows):
    c.gauge("lib.flows.set", 10 * (i + 1))
    time.sleep(0.02)
flows[0].gauge("lib.flows.moved", 10)
for c in flows:
    time.sleep(0.02)
    c.gauge("lib.flows.moved", 1, delta=True)
t = tap(statsd.TCPStatsClient(%(host)r, %(port)d, timeout=10), "tcp")
for i in range(100):
    t.incr("lib.tcp.hits", 3)
t.gauge("lib.tcp.level", 42.5)
t.set("lib.tcp.users", "alice")
with t.pipeline() as p:
    for i in range(50):
        p.timing("lib.tcp.rt", i + 0.25)
        p.decr("lib.tcp.hits")
t.close()
""" % {"host": HOST, "port": PORT}


def test_library():
    with Run() as r:
        out = nsrun(SYSTEM_PY + [LIBRARY_CLIENT])
        model = Model()
        for _, data in map(json.loads, out.splitlines()):
            model.add_payload(data)
        got, fin = r.finish(model.lines)
    check_model(model, got)
    assert drops(fin) == {}, drops(fin)
    assert sum(w["records"]["aggregated"] for w in fin["workers"]) == model.lines
    sampled = model.s[("lib.sampled", "counter", ())]["samples"]
    assert 50 < sampled < 150, "rate 0.5 of 200 sent %d" % sampled
    assert got[("lib.temp", "gauge", ())][-1]["value"] == 22
    assert got[("lib.neg", "gauge", ())][-1]["value"] == -7
    assert got[("lib.flows.set", "gauge", ())][-1]["value"] == 80
    assert got[("lib.flows.moved", "gauge", ())][-1]["value"] == 18


# ---- test: DogStatsD lines through nc ----

# (line, drop reason or None); the datagrams of one nc run, in order.
DD_UDP = [[
    ("dd.hits:1|c|#env:prod,region:eu", None),
    ("dd.hits:2|c|#region:eu,env:prod", None),          # the same series
    ("dd.hits:1|c|@0.5|#env:prod,region:eu", None),     # counts 2
    ("dd.hits:1|c|#env:prod,region:eu|@0.1|T1700000000", None),  # counts 10
    ("dd.hits:1|c|#env:prod,region:eu|c:83c0a99c0a54c0c1", None),
    ("dd.hits:3|c|#env:dev", None),
    ("dd.hits:1|c|#env:prod|e:ext|card:low", None),     # unknown fields ignored
    ("dd.lat:1:2:3|ms|#svc:api", None),
    ("dd.lat:4|h|#svc:api", None),                      # h: the timer series
    ("dd.lat:10:20|ms|@0.1|#svc:api", None),            # each value 10 times
    ("dd.size:100:200.5|d|#svc:api,flag", None),
    ("dd.level:50|g|#svc:api", None),
    ("dd.level:-5|g|#svc:api", None),
    ("dd.level:+2.5|g|#svc:api", None),
    ("dd.users:alice|s|#svc:api", None),
    ("dd.users:bob|s|#svc:api", None),
    ("dd.users:alice|s|#svc:api", None),
    ("dd.tagged:1|c|#env:a,env:b", None),               # env:b wins
    ("dd.multi:1:2:3.5|c", None),
    ("dd.url:1|c|#url:http://x:80/a,empty:", None),
], [
    ("mixed.ok:1|c", None),
    ("bad name:1|c", "statsd_name_invalid"),
    ("mixed.ok:2|c", None),
    ("x:1|q", "statsd_bad_type"),
    ("x:nan|c", "statsd_bad_value"),
    ("x:1|c|@2", "statsd_bad_rate"),
    ("x|c", "statsd_no_value"),
    ("x:1|c||", "statsd_bad_field"),
    ("x:1|c|T12345678901", "statsd_bad_field"),
    ("x:1|c|#a,,b", "statsd_bad_tag"),
    ("_e{5,4}:title|text", "statsd_unsupported"),
    ("x:" + ":".join(["1"] * 65) + "|ms", "statsd_too_many_values"),
    ("", None),                                         # skipped, not a line
    ("mixed.ok:3|c\r", None),                           # CRLF
    ("mixed.ok:4|c", None),
    ("mixed.rt:4|ms|@0.5", None),                       # counts 2
]]
# Another nc, another flow (maybe the other worker): the same series.
DD_UDP2 = [("dd.hits:5|c|#region:eu,env:prod", None), ("dd.level:+1|g|#svc:api", None)]
# LF-framed over TCP; the last line has no LF (FIN ends it).
DD_TCP = [
    ("tcp.nc.hits:1|c|#proto:tcp", None),
    ("tcp.nc.hits:2|c|#proto:tcp", None),
    ("tcp.nc.lat:5:6|ms", None),
    ("tcp.nc.level:7|g", None),
    ("bad name:1|c", "statsd_name_invalid"),
    ("tcp.nc.hits:4|c|#proto:tcp", None),
]


def payload(lines, last_lf=True):
    return "\n".join(line for line, _ in lines) + ("\n" if last_lf else "")


def expect(groups, model, refused):
    for lines in groups:
        for line, reason in lines:
            if reason:
                refused[reason] += 1
                model.lines += 1
            else:
                for good in split_lines(line):
                    model.add(good)


def test_dogstatsd():
    with Run() as r:
        model, refused = Model(), collections.Counter()
        for d in DD_UDP:
            nsrun(["nc", "-u", "-w1", HOST, str(PORT)], payload(d))
        nsrun(["nc", "-u", "-w1", HOST, str(PORT)], payload(DD_UDP2))
        nsrun(["nc", "-q1", HOST, str(PORT)], payload(DD_TCP, last_lf=False))
        expect(DD_UDP + [DD_UDP2, DD_TCP], model, refused)
        got, fin = r.finish(model.lines)
    check_model(model, got)
    assert drops(fin) == dict(refused), (drops(fin), dict(refused))
    good = model.lines - sum(refused.values())
    assert sum(w["records"]["aggregated"] for w in fin["workers"]) == good, fin["workers"]
    assert sum(w["metrics"]["tags_dup"] for w in fin["workers"]) == 1, fin["workers"]
    spot_checks(got)


def spot_checks(got):
    """A few values by hand, besides the model."""
    prod = ("dd.hits", "counter", (("env", "prod"), ("region", "eu")))
    assert sum(r["value"] for r in got[prod]) == 1 + 2 + 2 + 10 + 1 + 5, got[prod]
    assert got[("dd.level", "gauge", (("svc", "api"),))][-1]["value"] == 48.5
    assert sum(r["value"] for r in got[("mixed.ok", "counter", ())]) == 10
    lat = got[("dd.lat", "timer", (("svc", "api"),))]
    assert sum(r["count"] for r in lat) == 24 and sum(r["sum"] for r in lat) == 310, lat
    assert ("dd.tagged", "counter", (("env", "b"),)) in got
    assert ("dd.size", "distribution", (("flag", ""), ("svc", "api"))) in got
    assert ("dd.url", "counter", (("empty", ""), ("url", "http://x:80/a"))) in got
    assert got[("dd.users", "set", (("svc", "api"),))][-1]["value"] == 2
    assert sum(r["value"] for r in got[("tcp.nc.hits", "counter", (("proto", "tcp"),))]) == 7


# ---- test: quantiles of a burst ----

def quantile_lines(rng):
    """Timers (ms and h lines, one series), a distribution over nine
    decimal orders with a tag, one with negative values; 1 to 4 values
    a line, shuffled."""
    series = [("q.lat", ["%.3f" % rng.expovariate(1 / 40) for _ in range(2000)], None),
              ("q.size", ["%.6g" % rng.lognormvariate(5, 2) for _ in range(2000)],
               "|d|#svc:db"),
              ("q.temp", ["%.2f" % rng.gauss(0, 20) for _ in range(1000)], "|d")]
    lines = []
    for name, vals, suffix in series:
        i = 0
        while i < len(vals):
            k = rng.randint(1, 4)
            lines.append("%s:%s%s" % (name, ":".join(vals[i:i + k]),
                                      suffix or rng.choice(["|ms", "|h"])))
            i += k
    rng.shuffle(lines)
    return lines


def one_interval(rs, times):
    assert len(rs) == 1, "burst at %.3f..%.3f in %d intervals" % (times[0], times[1], len(rs))
    return rs[0]


def test_quantiles():
    with Run() as r:
        model = Model()
        lines = quantile_lines(random.Random(20240611))
        datagrams = [(n % 2, d) for n, d in enumerate(pack(lines))]
        times = burst(datagrams)
        for _, d in datagrams:
            model.add_payload(d)
        got, fin = r.finish(model.lines)
    assert sorted(len(e["values"]) for e in model.s.values()) == [1000, 2000, 2000]
    for key in model.s:
        one_interval(got[key], times)   # so check_model checks the quantiles
    check_model(model, got)
    assert drops(fin) == {}, drops(fin)


# ---- test: set cardinality ----

def test_sets():
    with Run() as r:
        big = ["sets.big:member-%05d|s|#env:prod" % i for i in range(5000)]
        big += big[:1000]                                  # repeats
        a = ["sets.shared:m%d|s" % i for i in range(3000)]
        b = ["sets.shared:m%d|s" % i for i in range(1500, 4500)]
        datagrams = ([(0, d) for d in pack(big)] + [(0, d) for d in pack(a)] +
                     [(1, d) for d in pack(b)])
        times = burst(datagrams)
        got, fin = r.finish(len(big) + len(a) + len(b))
    assert drops(fin) == {}, drops(fin)
    for key, want in [(("sets.big", "set", (("env", "prod"),)), 5000),
                      (("sets.shared", "set", ()), 4500)]:
        rec = one_interval(got[key], times)
        assert abs(rec["value"] - want) <= 0.02 * want, (key, rec["value"], want)
        assert rec["samples"] == 6000, rec
    assert sorted(k[0] for k in got) == ["sets.big", "sets.shared"], sorted(got)


# ---- test: one gauge on both workers ----

# Sends [source port, payload] pairs from stdin, 30 ms apart, from
# sockets bound to those ports: a flow, so a worker, per port.
PINNED = """
import json, socket, sys, time
socks = {}
for port, data in json.load(sys.stdin):
    if port not in socks:
        socks[port] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        socks[port].bind(("10.88.0.1", port))
    socks[port].sendto(data.encode(), (%r, %d))
    time.sleep(0.03)
""" % (HOST, PORT)


def pinned(pairs, align=False):
    nsrun([sys.executable, "-c", (ALIGN if align else "") + PINNED], json.dumps(pairs))


def counted(r, lines):
    """Lines counted by each worker, once they add up to lines."""
    c = [w["records"]["metrics"] for w in r.s.stats()["workers"]]
    return c if sum(c) == lines else None


def worker_ports(r, model):
    """A source port whose flow each worker takes: {worker: port}."""
    ports = {}
    for port in range(40001, 40033):
        before = wait_for(lambda: counted(r, model.lines), 10, "the probes")
        pinned([[port, "probe:1|c"]])
        model.add("probe:1|c")
        now = wait_for(lambda: counted(r, model.lines), 10, "the probe")
        ports.setdefault([i for i in range(2) if now[i] > before[i]][0], port)
        if len(ports) == 2:
            return ports
    raise AssertionError("32 flows, all on one worker: %s" % ports)


def test_gauge_workers():
    """Within one interval, as one StatsD server would: a set overrides
    the deltas before it and keeps those after it, across workers."""
    with Run() as r:
        model = Model()
        w = worker_ports(r, model)
        seq = [[w[1], "gw.before:+5|g"], [w[0], "gw.before:100|g"],   # 100
               [w[0], "gw.after:10|g"], [w[1], "gw.after:20|g"],
               [w[0], "gw.after:+1|g"]]                              # 21
        pinned(seq, align=True)
        for _, line in seq:
            model.add(line)
        got, fin = r.finish(model.lines)
    check_model(model, got)


TESTS = [test_library, test_dogstatsd, test_quantiles, test_sets, test_gauge_workers]


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--sluice-cat", required=True)
    ARGS = ap.parse_args()
    return net.run_tests(TESTS)


if __name__ == "__main__":
    sys.exit(main())
