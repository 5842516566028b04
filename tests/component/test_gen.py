#!/usr/bin/env python3
"""Component test of sluice-gen (perf/sluice_gen.c): what it writes is what
it says it wrote, and what sluice receives from it.

sluice-gen writes a mix of every kind to a pcap file; the file is parsed
here with the struct module (tests/lib/pkt.py) and checked frame by frame:
Ethernet/IPv4/UDP headers and both checksums, payload sizes within --size,
source addresses and ports spread over --flows, every syslog record an RFC
5424 or RFC 3164 message, every StatsD line well formed, every span a JSON
object with its ids and times; the sums (packets, bytes, records and cut
records per kind) must equal sluice-gen's JSON report. The same options
give the same bytes. On net_ring the port run's report must equal the pcap
run's for the same count (and every packet sent comes back on the ring's
rx); a ring nobody reads must show its refusals and send exactly what the
ring holds. Finally the pcap is replayed into the real sluice through
net_pcap and its ledger must count every packet received and delivered.

  test_gen.py --gen build/sluice-gen [--sluice build/sluice] [-k NAME]

Prints 'N passed, N failed'; exits 1 when a test failed.
"""
import argparse
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import pkt  # noqa: E402
from sluice import Sluice, wait_for  # noqa: E402

PREFIX = "sluice-gen-test"
EAL = ["--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--no-telemetry",
       "--file-prefix", PREFIX, "--log-level", "lib.*:warning"]
KINDS = ("syslog5424", "syslog3164", "statsd", "spans")
MIX = "syslog5424=40,syslog3164=30,statsd=20,spans=10"
PORTS = {"syslog": 514, "statsd": 8125, "spans": 4319}
ARGS = None
TESTS = []

RE_5424 = re.compile(rb"<(\d{1,3})>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z "
                     rb"(ip-10-1-\d+-\d+) ([A-Za-z0-9_.-]+) (\d+) - "
                     rb"(-|\[trace@32473 trace_id=\"[0-9a-f]{32}\" span_id=\"[0-9a-f]{16}\"\]) (.*)",
                     re.S)
RE_3164 = re.compile(rb"<(\d{1,3})>(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                     rb"[ 1-3]\d \d\d:\d\d:\d\d (ip-10-1-\d+-\d+) ([A-Za-z0-9_.-]+)\[(\d+)\]: (.*)",
                     re.S)
RE_STATSD = re.compile(rb"[A-Za-z0-9_.-]+:[+-]?[0-9A-Za-z.]+\|(c|g|ms|h|d|s)"
                       rb"(\|@0\.[0-9]+)?(\|#[a-z]+:[A-Za-z0-9_.-]+(,[a-z]+:[A-Za-z0-9_.-]+)*)?")


def test(fn):
    TESTS.append(fn)
    return fn


def gen(*opts, vdevs=(), check=True, timeout=60):
    """Runs sluice-gen; returns (returncode, stdout + stderr)."""
    argv = [ARGS.gen] + EAL + ["--vdev=" + v for v in vdevs] + ["--"] + [str(o) for o in opts]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    out = r.stdout + r.stderr
    if check and r.returncode != 0:
        raise AssertionError("sluice-gen exited %d:\n%s" % (r.returncode, out))
    return r.returncode, out


def gen_json(tmp, *opts, vdevs=()):
    path = os.path.join(tmp, "report.json")
    gen(*opts, "--json", path, vdevs=vdevs)
    with open(path) as f:
        return json.load(f)


# --- pcap parsing and checks -------------------------------------------------

def read_frames(path):
    """The frames of a classic pcap file, with its header checked."""
    with open(path, "rb") as f:
        head = f.read(24)
    magic, major, minor, _, _, snaplen, link = struct.unpack("<IHHiIII", head)
    assert (magic, major, minor, link) == (0xA1B2C3D4, 2, 4, 1), head.hex()
    assert snaplen >= 1514, snaplen
    return pkt.read_pcap(path)


def parse_frame(fr):
    """Checks one frame's headers and checksums; returns (src ip, sport,
    dport, payload)."""
    assert len(fr) >= 60, len(fr)
    assert fr[12:14] == b"\x08\x00", fr[:14].hex()
    ip = fr[14:34]
    vihl, _, tot, _, frag, ttl, proto, _ = struct.unpack("!BBHHHBBH", ip[:12])
    assert vihl == 0x45 and proto == 17 and ttl == 64, ip.hex()
    assert frag == 0x4000, "DF only, no fragments: %#x" % frag
    assert pkt.csum(ip) == 0, "IPv4 header checksum: %s" % ip.hex()
    assert ip[16:20] == pkt.ip4("10.0.0.2"), ip.hex()
    assert ip[12:14] == pkt.ip4("10.1.0.0")[:2], "source outside 10.1.0.0/16: %s" % ip.hex()
    assert 14 + tot == len(fr) or (len(fr) == 60 and 14 + tot < 60), (tot, len(fr))
    udp = fr[34:14 + tot]
    sport, dport, ulen, ucsum = struct.unpack("!HHHH", udp[:8])
    assert ulen == tot - 20 and ucsum != 0, (ulen, tot, ucsum)
    ph = ip[12:20] + struct.pack("!BBH", 0, 17, ulen)
    assert pkt.csum(ph + udp) == 0, "UDP checksum of a frame to port %d" % dport
    assert 32768 <= sport <= 60999, sport
    return ip[12:16], sport, dport, udp[8:]


def check_syslog(payload, sevs):
    """Returns (kind, records) of a syslog datagram; every record parses."""
    recs = payload.split(b"\n")
    kind = "syslog5424" if re.match(rb"<\d+>1 ", payload) else "syslog3164"
    rx = RE_5424 if kind == "syslog5424" else RE_3164
    for r in recs:
        m = rx.fullmatch(r)
        assert m, "not %s: %r" % (kind, r[:200])
        pri = int(m.group(1))
        assert 128 <= pri <= 191, pri          # local0..local7
        sevs.add(pri & 7)
    return kind, len(recs)


def check_statsd(payload):
    lines = payload.split(b"\n")
    for ln in lines:
        assert RE_STATSD.fullmatch(ln), "not a StatsD line: %r" % ln
        tags = ln.split(b"|#")[1].split(b",") if b"|#" in ln else []
        assert all(len(t) <= 200 for t in tags), ln   # DogStatsD's tag limit
    return len(lines)


def check_span(payload):
    """1 for a span that parses (checked), 0 for one cut to fit."""
    try:
        sp = json.loads(payload)
    except ValueError:
        return 0
    assert re.fullmatch("[0-9a-f]{32}", sp["trace_id"]), sp
    assert re.fullmatch("[0-9a-f]{16}", sp["span_id"]), sp
    assert sp["end_time_unix_nano"] >= sp["start_time_unix_nano"] > 0, sp
    assert sp["name"] and sp["service.name"] and isinstance(sp["attributes"], dict), sp
    return 1


def tally(path, size=None):
    """Everything a pcap holds, each frame checked."""
    t = {"packets": 0, "bytes_l2": 0, "bytes_payload": 0, "sevs": set(), "flows": set(),
         "records": dict.fromkeys(KINDS, 0), "datagrams": dict.fromkeys(KINDS, 0),
         "spans_cut": 0, "max_records": dict.fromkeys(KINDS, 0)}
    for fr in read_frames(path):
        src, sport, dport, pl = parse_frame(fr)
        t["packets"] += 1
        t["bytes_l2"] += len(fr)
        t["bytes_payload"] += len(pl)
        t["flows"].add((src, sport))
        if size:
            assert size[0] <= len(pl) <= size[1], (len(pl), size)
        if dport == PORTS["syslog"]:
            kind, n = check_syslog(pl, t["sevs"])
        elif dport == PORTS["statsd"]:
            kind, n = "statsd", check_statsd(pl)
        else:
            assert dport == PORTS["spans"], dport
            kind, n = "spans", 1
            t["spans_cut"] += 1 - check_span(pl)
        t["records"][kind] += n
        t["datagrams"][kind] += 1
        t["max_records"][kind] = max(t["max_records"][kind], n)
    return t


def assert_report_matches(rep, t):
    for k in ("packets", "bytes_l2", "bytes_payload"):
        assert rep[k] == t[k], (k, rep[k], t[k])
    assert rep["records"] == t["records"], (rep["records"], t["records"])
    assert rep["datagrams"] == t["datagrams"], (rep["datagrams"], t["datagrams"])
    assert rep["cut"]["spans"] == t["spans_cut"], (rep["cut"], t["spans_cut"])
    assert rep["cut"]["statsd"] == 0, rep["cut"]


# --- tests -------------------------------------------------------------------

@test
def test_bad_options_refused():
    """Bad values are errors naming the option, exit status 2."""
    tmp = tempfile.mkdtemp(prefix="sl-gen-")
    try:
        pcap = os.path.join(tmp, "x.pcap")
        for opts, word in ((["--mix", "syslog=5"], "--mix"),
                           (["--mix", "statsd=0"], "--mix"),
                           (["--size", "8"], "--size"),
                           (["--size", "900-200"], "--size"),
                           (["--rate", "1k", "--bitrate", "1M", "--count", "1"], "exclude"),
                           (["--src-net", "10.1.0.0"], "--src-net"),
                           (["--templates", "0"], "--templates"),
                           ([], "--pcap needs")):
            rc, out = gen("--pcap", pcap, *opts, check=False)
            assert rc == 2 and word in out, (opts, rc, out)
            assert not os.path.exists(pcap), opts
        rc, out = gen("--count", "1", check=False)      # no port, no --pcap
        assert rc != 0 and "no ethdev port" in out, out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@test
def test_pcap_mix_exact():
    """A mix of every kind: each frame valid, the report exact."""
    tmp = tempfile.mkdtemp(prefix="sl-gen-")
    try:
        pcap = os.path.join(tmp, "mix.pcap")
        rep = gen_json(tmp, "--pcap", pcap, "--count", 3000, "--mix", MIX,
                       "--size", "200-900", "--flows", 64, "--templates", 1000, "--seed", 7)
        t = tally(pcap, size=(200, 900))
        assert t["packets"] == 3000, t["packets"]
        assert_report_matches(rep, t)
        # 3000 packets are the 1000 templates three times: shares exact.
        assert t["datagrams"] == {"syslog5424": 1200, "syslog3164": 900, "statsd": 600,
                                  "spans": 300}, t["datagrams"]
        assert all(t["max_records"][k] > 1 for k in ("syslog5424", "syslog3164", "statsd")), \
            t["max_records"]
        assert len(t["flows"]) == 64 == rep["flows"], len(t["flows"])
        assert len({s for s, _ in t["flows"]}) == 64, "64 flows on a /16: 64 addresses"
        assert {7, 6, 4, 3} <= t["sevs"], t["sevs"]     # debug, info, warning, err
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@test
def test_deterministic_by_seed():
    """The same options write the same bytes; another seed others."""
    tmp = tempfile.mkdtemp(prefix="sl-gen-")
    try:
        files = []
        for i, seed in enumerate((3, 3, 4)):
            files.append(os.path.join(tmp, "%d.pcap" % i))
            gen("--pcap", files[-1], "--count", 500, "--mix", MIX, "--seed", seed,
                "--templates", 400)
        data = [open(f, "rb").read() for f in files]
        assert data[0] == data[1], "seed 3 twice gave different files"
        assert data[0] != data[2], "seeds 3 and 4 gave the same file"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@test
def test_natural_sizes():
    """Without --size: one syslog record a datagram, StatsD up to 1432."""
    tmp = tempfile.mkdtemp(prefix="sl-gen-")
    try:
        pcap = os.path.join(tmp, "nat.pcap")
        rep = gen_json(tmp, "--pcap", pcap, "--count", 400, "--mix", "syslog3164,statsd",
                       "--templates", 400)
        t = tally(pcap)
        assert_report_matches(rep, t)
        assert t["records"]["syslog3164"] == t["datagrams"]["syslog3164"] == 200, t["records"]
        assert t["max_records"]["statsd"] > 10, t["max_records"]
        big = max(len(f) for f in read_frames(pcap))
        assert big <= 42 + 1472, big
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@test
def test_port_run_exact():
    """On net_ring: the port run sends what the pcap run writes, and every
    packet comes back on the ring's rx; a ring nobody reads takes exactly
    its capacity and the rest is refused, never counted as sent."""
    tmp = tempfile.mkdtemp(prefix="sl-gen-")
    try:
        opts = ["--count", 20000, "--mix", MIX, "--size", "64-1472", "--seed", 11]
        pcap = os.path.join(tmp, "ring.pcap")
        want = gen_json(tmp, "--pcap", pcap, *opts)
        got = gen_json(tmp, *opts, vdevs=["net_ring0"])
        assert got["packets"] == 20000 and got["drained"] == 20000, got
        assert got["port_opackets"] == 20000 and got["unsent"] == 0, got
        for k in ("bytes_l2", "bytes_payload", "records", "datagrams", "cut"):
            assert got[k] == want[k], (k, got[k], want[k])
        stuck = gen_json(tmp, "--duration", "0.2", "--no-drain", "--burst", 64,
                         vdevs=["net_ring0"])
        assert stuck["refused"] > 0 and stuck["short_bursts"] > 0, stuck
        assert stuck["packets"] == stuck["port_opackets"] > 0, stuck
        assert stuck["unsent"] == 64, stuck       # a full burst was waiting
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@test
def test_sluice_receives_everything():
    """The pcap replayed into sluice through net_pcap: every packet received
    and delivered to a listener, every record counted, the ledger balanced."""
    if not ARGS.sluice:
        print("  (skipped: no --sluice)")
        return
    tmp = tempfile.mkdtemp(prefix="sl-gen-")
    try:
        pcap = os.path.join(tmp, "in.pcap")
        rep = gen_json(tmp, "--pcap", pcap, "--count", 2000, "--mix", MIX,
                       "--size", "200-1200", "--seed", 5)
        cfg = {
            "node": {"name": "gen"},
            "ports": [{"device": "net_pcap0", "ipv4": ["10.0.0.2/24"], "mbufs": 4095}],
            "listeners": [{"proto": "udp", "port": 514, "format": "syslog"},
                          {"proto": "udp", "port": 8125, "format": "statsd"},
                          # sluice has no spans format yet: the spans are JSON lines
                          {"proto": "udp", "port": 4319, "format": "jsonl"}],
            "worker": {"idle_sleep_us": 20},
            "batch": {"max_delay_ms": 20},
            "templates": {"enabled": False},
        }
        vdev = "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (pcap, os.path.join(tmp, "tx.pcap"))
        with Sluice(ARGS.sluice, cfg, [vdev], workdir=tmp, name="gen") as s:
            wait_for(lambda: s.stats()["ledger"]["packets"]["received"] >= 2000, 30,
                     "2000 packets received")
            rc, fin = s.stop()
        assert rc == 0, s.output()
        w = fin["workers"][0]
        assert w["packets"]["received"] == 2000, w["packets"]
        assert w["packets"]["delivered"] == 2000, w["packets"]
        assert sum(w["packets"]["dropped"].values()) == 0, w["packets"]["dropped"]
        assert w["records"]["received"] == sum(rep["records"].values()), (w["records"], rep)
        assert w["records"]["unparsed"] == 0, w["records"]
        assert fin["ledger"]["balanced"] is True, fin["ledger"]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--gen", required=True)
    ap.add_argument("--sluice", default="")
    ap.add_argument("-k", default="", help="run tests whose name contains this")
    ARGS = ap.parse_args()
    passed = failed = 0
    for t in TESTS:
        if ARGS.k not in t.__name__:
            continue
        t0 = time.monotonic()
        try:
            t()
            passed += 1
            print("PASS %s (%.1fs)" % (t.__name__, time.monotonic() - t0), flush=True)
        except Exception:
            failed += 1
            print("FAIL %s (%.1fs)" % (t.__name__, time.monotonic() - t0), flush=True)
            traceback.print_exc()
        finally:
            shutil.rmtree("/var/run/dpdk/" + PREFIX, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
