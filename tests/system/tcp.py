#!/usr/bin/env python3
"""TCP system tests: the Linux kernel's TCP as the client of sluice's TCP
endpoint, over the veth pair of run.py (sluice on net_af_packet at one
end, clients in a network namespace at the other).

  clients   logger --tcp --octet-count and nc -N: records exact in Kafka
  loss      50 parallel connections through nft dropping 2% of the
            client's segments: every byte once, in order, per connection
  rsyslog   rsyslogd's omfwd over TCP, LF- and octet-framed
  stall     Kafka (a mock cluster in its own process) goes down: the
            window closes, the sender pauses with nothing lost, resumes
            when Kafka is back

The loss test sends SL_TCP_LOSS_MB megabytes in all (default 100, about
12 s here; docs/testing.md).
Everything created (namespace, veth pair, nft table, processes,
temporary files) is removed at the end of each test, also on failure.
Prints 'N passed, N failed'.
"""
import argparse
import collections
import copy
import hashlib
import json
import os
import re
import shutil
import signal
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
CLIENT = os.path.join(HERE, "tcp_client.py")
LINE = re.compile(r"^c=(\d+) s=(\d+) ")


class Procs:
    """Processes a test starts; kill_all() ends each by its PID."""

    def __init__(self):
        self.procs = []

    def start(self, argv, ns=False, **kw):
        if ns:  # ip netns exec execs the command: the PID is the client's
            argv = ["ip", "netns", "exec", net.NS] + list(argv)
        p = subprocess.Popen(argv, **kw)
        self.procs.append(p)
        return p

    def stop(self, p, timeout=10):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)

    def kill_all(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.kill()
                p.wait(10)
            for f in (p.stdin, p.stdout, p.stderr):
                if f:
                    f.close()


def nsrun(*argv, input=None, timeout=60):
    """Runs argv in the namespace to its end; fails on a non-zero exit."""
    r = subprocess.run(["ip", "netns", "exec", net.NS] + list(argv), input=input,
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, "%s: rc %d: %s" % (" ".join(argv), r.returncode, r.stderr)
    return r


def sluice_cfg(name, listeners, **over):
    cfg = {
        "node": {"name": name},
        "ports": [{"device": "net_af_packet0", "ipv4": ["10.88.0.2/24"],
                   "mbufs": 8191, "mbuf_size": 16384}],
        "listeners": listeners,
        "worker": {"idle_sleep_us": 50},
        "batch": {"max_delay_ms": 20, "pool_size": 16, "max_bytes": 65536},
    }
    for k, v in over.items():
        cfg.setdefault(k, {}).update(v)
    return cfg


def start_sluice(cfg, tmp, name):
    # One queue, one worker: a TCP connection lives on one worker anyway,
    # and qpairs > 1 would put the kernel's fanout (and its DEFRAG) in
    # the path. framesz: see run.py.
    vdev = "net_af_packet0,iface=%s,qpairs=1,framesz=16384,blocksz=16384" % net.HOST_IF
    return Sluice(ARGS.sluice, cfg, [vdev], lcores="0@0,1@1", workdir=tmp, name=name)


def wait_exported(s, want, timeout, ledger=True):
    try:
        wait_for(lambda: s.stats()["ledger"]["records"]["exported"] >= want, timeout,
                 "%d records exported" % want, interval=0.1)
    except AssertionError:
        st = s.stats()
        print(json.dumps({"ledger": st["ledger"], "workers": st["workers"]}, indent=1))
        raise


def check_clean(fin, stream_bytes=None):
    """The ledger balances, nothing dropped, the TCP stream ledger exact."""
    led = fin["ledger"]
    assert led["balanced"], led
    assert led["records"]["dropped_worker"] == 0 and led["records"]["dropped_export"] == 0, led
    assert fin["export"]["dropped"] == {}, fin["export"]
    total = 0
    for w in fin["workers"]:
        st = w["tcp"]["stream"]
        assert st["bytes"] == st["framed"] + st["framing"] + st["skipped"] + st["lost"], st
        assert st["lost"] == 0 and st["skipped"] == 0 and st["frames_cut"] == 0, st
        assert w["records"]["dropped"] == {} and w["records"]["truncated"] == 0, w["records"]
        assert w["tcp"]["open"] == 0 and w["tcp"]["held"] == 0, w["tcp"]
        assert w["tcp"]["framing_reset"] == 0 and w["tcp"]["reset_by_peer"] == 0, w["tcp"]
        total += st["bytes"]
    if stream_bytes is not None:
        assert total == stream_bytes, (total, stream_bytes)


def check_streams(recs, sent):
    """Every connection's lines exactly once, in order, digest equal."""
    by_conn = collections.defaultdict(list)
    for r in recs:
        m = LINE.match(r["body"])
        assert m, r
        by_conn[int(m.group(1))].append((int(m.group(2)), r["body"]))
    assert sorted(by_conn) == sorted(c["conn"] for c in sent), sorted(by_conn)
    for c in sent:
        got = by_conn[c["conn"]]
        seqs = [s for s, _ in got]
        if seqs != list(range(c["lines"])):
            dup = len(seqs) - len(set(seqs))
            miss = sorted(set(range(c["lines"])) - set(seqs))[:5]
            raise AssertionError("connection %d: %d lines for %d sent, %d duplicates, "
                                 "missing %s, in order: %s" %
                                 (c["conn"], len(seqs), c["lines"], dup, miss,
                                  seqs == sorted(seqs)))
        h = hashlib.sha256()
        for _, body in got:
            h.update(body.encode() + b"\n")
        assert h.hexdigest() == c["sha256"], "connection %d: digest differs" % c["conn"]


def client_result(p, what, s=None):
    try:
        out, err = p.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        # A stalled transfer: what sluice and the client's sockets say,
        # for whoever debugs it.
        if s is not None:
            print("sluice tcp: %s" % json.dumps([w["tcp"] for w in s.stats()["workers"]]),
                  flush=True)
        ss = subprocess.run(["ip", "netns", "exec", net.NS, "ss", "-tinm"],
                            capture_output=True, text=True, timeout=30)
        print("client sockets:\n%s" % ss.stdout[-6000:], flush=True)
        raise
    assert p.returncode == 0, "%s: rc %d: %s" % (what, p.returncode, err)
    res = json.loads(out)
    errors = [c for c in res["conns"] if c["error"]]
    assert not errors, errors
    return res["conns"]


def test_tcp_clients():
    """logger --tcp --octet-count and nc -N: records exact in Kafka."""
    tmp = tempfile.mkdtemp(prefix="sl-tcp-")
    try:
        cfg = sluice_cfg("tcpclients", [
            {"proto": "tcp", "port": 601, "format": "syslog", "framing": "auto"},
            {"proto": "tcp", "port": 602, "format": "syslog", "framing": "octet"}])
        nc_lines = ["<14>Nov 24 10:00:00 ns nc: nc line %05d %s" % (i, "x" * (i % 300))
                    for i in range(3000)]
        # A message with an LF inside: one record under octet counting.
        lg_lines = ["logger line %03d" % i for i in range(200)]
        with start_sluice(cfg, tmp, "tcpclients") as s:
            nsrun("nc", "-N", "-w", "10", "10.88.0.2", "601", input="".join(x + "\n" for x in nc_lines))
            for port in (601, 602):
                nsrun("logger", "--tcp", "--octet-count", "-n", "10.88.0.2", "-P",
                      str(port), "-t", "lg%d" % port, input="".join(x + "\n" for x in lg_lines))
            nsrun("logger", "--tcp", "--octet-count", "-n", "10.88.0.2", "-P", "602",
                  "-t", "lgml", "first half\nsecond half")
            want = len(nc_lines) + 2 * len(lg_lines) + 1
            wait_exported(s, want, 30)
            recs = cat(ARGS.sluice_cat, s.bootstrap(), "sluice.logs")
            rc, fin = s.stop()
        assert rc == 0, s.output()
        assert len(recs) == want, (len(recs), want)
        by = collections.defaultdict(list)
        for rec in recs:
            by[rec["service.name"]].append(rec["body"])
        assert by["nc"] == [x.split(": ", 1)[1] for x in nc_lines], by["nc"][:3]
        assert by["lg601"] == lg_lines and by["lg602"] == lg_lines, (by["lg601"][:3],
                                                                     by["lg602"][:3])
        assert by["lgml"] == ["first half\nsecond half"], by["lgml"]
        assert sum(w["tcp"]["fin_closed"] for w in fin["workers"]) == 4, fin["workers"]
        check_clean(fin)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_tcp_ipv6_two_workers():
    """Two workers on two queues (the kernel's fanout hashes each flow to
    one): connections over IPv4 and IPv6 at once, each delivered whole on
    the worker its flow landed on."""
    tmp = tempfile.mkdtemp(prefix="sl-tcp-")
    try:
        cfg = sluice_cfg("tcpv6", [{"proto": "tcp", "port": 601, "format": "syslog",
                                    "framing": "lf"}])
        cfg["ports"][0]["ipv6"] = ["fd88::2/64"]
        vdev = ("net_af_packet0,iface=%s,qpairs=2,framesz=16384,blocksz=16384"
                % net.HOST_IF)
        conns = [("10.88.0.2", "") if i % 2 == 0 else ("fd88::2", "-6") for i in range(8)]
        want = 0
        with Sluice(ARGS.sluice, cfg, [vdev], lcores="0@0,1@1,2@1", workdir=tmp,
                    name="tcpv6") as s:
            procs = []
            for i, (addr, fam) in enumerate(conns):
                body = "".join("<14>Nov 24 10:00:00 ns c%d: conn %d line %04d\n" % (i, i, k)
                               for k in range(500))
                want += 500
                argv = ["ip", "netns", "exec", net.NS, "nc", "-N", "-w", "10"] + \
                    ([fam] if fam else []) + [addr, "601"]
                procs.append(subprocess.Popen(argv, stdin=subprocess.PIPE,
                                              stdout=subprocess.DEVNULL,
                                              stderr=subprocess.PIPE))
                procs[-1].stdin.write(body.encode())
                procs[-1].stdin.close()
            for p in procs:
                assert p.wait(timeout=60) == 0, p.stderr.read()
            wait_exported(s, want, 30)
            recs = cat(ARGS.sluice_cat, s.bootstrap(), "sluice.logs")
            rc, fin = s.stop()
        assert rc == 0, s.output()
        assert len(recs) == want, (len(recs), want)
        by = collections.defaultdict(list)
        for rec in recs:
            by[rec["service.name"]].append(rec["body"])
        for i in range(len(conns)):
            assert by["c%d" % i] == ["conn %d line %04d" % (i, k) for k in range(500)], i
        v6 = [r for r in recs if ":" in r["attributes"]["net.peer.ip"]]
        assert len(v6) == 4 * 500, len(v6)
        ws = fin["workers"]
        assert len(ws) == 2 and sum(w["tcp"]["fin_closed"] for w in ws) == len(conns), ws
        check_clean(fin)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def lossy_path(pct):
    """Puts a bridge between the client's TCP and the wire, in the
    namespace, and has nft drop pct% of the client's segments to port 601
    as the bridge forwards them.

    Not the output hook: a packet dropped there, or anywhere before the
    sending device's queue has accepted it, is a local drop; TCP is told,
    keeps the segment and sends it again at once, so the wire sees no loss
    at all. Once the client's own veth has sent it, the segment is gone for
    the sender as on a real lossy link: only the receiver's ACKs bring it
    back.
    """
    for cmd in (
            "ip addr flush dev %s" % net.NS_IF,
            "ip link add slc0 type veth peer name slc1",
            "ip link add slbr type bridge",
            "ip link set %s master slbr" % net.NS_IF,
            "ip link set slc1 master slbr",
            "ip addr add 10.88.0.1/24 dev slc0",
            # As in run.py: whole checksums, MTU-sized segments.
            "ethtool -K slc0 tx off gso off tso off",
            "ethtool -K slc1 gro off",
            "ip link set slc0 up", "ip link set slc1 up", "ip link set slbr up"):
        nsrun(*cmd.split())
    nsrun("nft", "add table bridge sltest; "
          "add chain bridge sltest f { type filter hook forward priority 0; }; "
          "add rule bridge sltest f tcp dport 601 counter; "
          "add rule bridge sltest f tcp dport 601 numgen random mod 100 < %d "
          "counter drop" % pct)


def nft_counts():
    """(segments seen, segments dropped) by lossy_path()'s rules."""
    nft = nsrun("nft", "list table bridge sltest").stdout
    seen, dropped = (int(x) for x in re.findall(r"counter packets (\d+)", nft))
    return seen, dropped


def loss_mb():
    v = os.environ.get("SL_TCP_LOSS_MB", "100")
    if not v.isdigit() or not 1 <= int(v) <= 1000:
        raise AssertionError("SL_TCP_LOSS_MB=%r: a whole number of megabytes, 1..1000" % v)
    return int(v)


def test_tcp_loss():
    """50 connections in parallel through 2% random loss: every byte once,
    in order, per connection; the stream ledger exact."""
    conns = 50
    per_conn = loss_mb() * 1000000 // conns
    tmp = tempfile.mkdtemp(prefix="sl-tcp-")
    procs = Procs()
    try:
        cfg = sluice_cfg("tcploss", [{"proto": "tcp", "port": 601, "format": "plain",
                                      "framing": "lf"}],
                         batch={"pool_size": 64, "max_bytes": 262144})
        lossy_path(2)
        with start_sluice(cfg, tmp, "tcploss") as s:
            t0 = time.monotonic()
            p = procs.start(["python3", CLIENT, "--conns", str(conns),
                             "--bytes", str(per_conn), "--seed", "7"], ns=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            sent = client_result(p, "tcp_client", s)
            t_send = time.monotonic() - t0
            want = sum(c["lines"] for c in sent)
            wait_exported(s, want, 60)
            t1 = time.monotonic()
            recs = cat(ARGS.sluice_cat, s.bootstrap(), "sluice.logs")
            t_cat = time.monotonic() - t1
            rc, fin = s.stop()
        assert rc == 0, s.output()
        seen, dropped = nft_counts()
        assert len(recs) == want, (len(recs), want)
        check_streams(recs, sent)
        check_clean(fin, stream_bytes=sum(c["bytes"] for c in sent))
        tcp = fin["workers"][0]["tcp"]
        assert tcp["established"] == conns and tcp["fin_closed"] == conns, tcp
        # The loss was real: segments were dropped, and sluice saw the gaps.
        assert dropped > 0 and tcp["ooo_segments"] > 0, (dropped, tcp)
        print("  %d MB, %d lines: sent in %.1fs, read back in %.1fs; nft dropped %d "
              "of %d segments; ooo %d, dup bytes %d, zero windows %d" %
              (loss_mb(), want, t_send, t_cat, dropped, seen, tcp["ooo_segments"],
               tcp["bytes_dup"], tcp["zero_windows"]), flush=True)
    finally:
        procs.kill_all()
        shutil.rmtree(tmp, ignore_errors=True)


RSYSLOG_CONF = """\
global(workDirectory="{dir}")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="{dir}/log.sock")
if $programname == "rslf" then {{
  action(type="omfwd" target="10.88.0.2" port="601" protocol="tcp")
  stop
}}
if $programname == "rsoct" then {{
  action(type="omfwd" target="10.88.0.2" port="602" protocol="tcp"
         TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")
  stop
}}
"""


def test_tcp_rsyslog():
    """rsyslogd's omfwd forwards over TCP: LF framing (its default) to an
    auto listener, octet counting to an octet listener."""
    tmp = tempfile.mkdtemp(prefix="sl-tcp-")
    procs = Procs()
    try:
        cfg = sluice_cfg("tcprsyslog", [
            {"proto": "tcp", "port": 601, "format": "syslog", "framing": "auto"},
            {"proto": "tcp", "port": 602, "format": "syslog", "framing": "octet"}])
        conf = os.path.join(tmp, "rsyslog.conf")
        with open(conf, "w") as f:
            f.write(RSYSLOG_CONF.format(dir=tmp))
        sock = os.path.join(tmp, "log.sock")
        n = 300
        with start_sluice(cfg, tmp, "tcprsyslog") as s:
            # Its own config, no system socket, a private pid file: nothing
            # of a system rsyslogd is touched.
            rs = procs.start(["rsyslogd", "-n", "-f", conf, "-i",
                              os.path.join(tmp, "rsyslogd.pid")], ns=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            wait_for(lambda: os.path.exists(sock) or rs.poll() is not None, 20,
                     "rsyslogd's socket")
            assert rs.poll() is None, "rsyslogd exited: %s" % rs.stdout.read()
            for tag in ("rslf", "rsoct"):
                subprocess.run(["logger", "-u", sock, "-t", tag],
                               input="".join("%s line %03d\n" % (tag, i) for i in range(n)),
                               text=True, check=True, timeout=30)
            wait_exported(s, 2 * n, 30)
            recs = cat(ARGS.sluice_cat, s.bootstrap(), "sluice.logs")
            procs.stop(rs)
            rc, fin = s.stop()
        assert rc == 0, s.output()
        assert len(recs) == 2 * n, (len(recs), [r["body"] for r in recs[:3]])
        # rsyslog's msg property keeps the space after "tag:"; the
        # traditional format drops it (sp-if-no-1st-sp), the RFC 5424 one
        # sends it after the SP that ends STRUCTURED-DATA, so it is MSG's.
        for tag, lead in (("rslf", ""), ("rsoct", " ")):
            bodies = [r["body"] for r in recs if r["service.name"] == tag]
            assert bodies == ["%s%s line %03d" % (lead, tag, i) for i in range(n)], bodies[:3]
        ws = fin["workers"]
        assert sum(w["tcp"]["established"] for w in ws) == 2, ws
        check_clean(fin)
    finally:
        procs.kill_all()
        shutil.rmtree(tmp, ignore_errors=True)


class MockKafka:
    """tests/tools/sluice-mock-kafka in its own process: down() and up()
    set its broker down and up and wait for it to say so."""

    def __init__(self, procs):
        self.p = procs.start([ARGS.mock_kafka], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        self.bootstrap = self.line()

    def line(self):
        # Blocks until the tool answers; it answers at once or dies, and
        # then readline() returns "".
        out = self.p.stdout.readline().strip()
        assert out, "sluice-mock-kafka: %s" % self.p.stderr.read()
        return out

    def down(self):
        self.p.send_signal(signal.SIGUSR1)
        assert self.line() == "down"

    def up(self):
        self.p.send_signal(signal.SIGUSR2)
        assert self.line() == "up"


def kafka_cfg(name, listener, kafka, tmp, pool=16, max_bytes=16384, spool_mb=None):
    """One listener, small batches, the mock cluster reconnected soon after
    it comes back, and a spool of the test's own (spool_mb: its bound)."""
    spool = {"dir": os.path.join(tmp, "spool")}
    if spool_mb is not None:
        spool["max_mb"] = spool_mb
    return sluice_cfg(name, [listener], worker={"max_record_bytes": 2048},
                      batch={"pool_size": pool, "max_bytes": max_bytes},
                      export={"kafka": {"brokers": kafka.bootstrap, "properties": {
                          "reconnect.backoff.ms": "50",
                          "reconnect.backoff.max.ms": "200"}},
                          "spool": spool})


TCP_601 = {"proto": "tcp", "port": 601, "format": "plain", "framing": "lf"}


def test_tcp_stall():
    """Kafka down: librdkafka holds its bound, the spool (1 MB here) takes
    the rest until it is full; then the control core stops draining, the
    pool runs dry, sluice advertises a zero window, the kernel's sender
    stops with nothing lost (its acknowledged bytes stand still while
    zero-window probes go on); Kafka up: the spool is replayed, the window
    opens, the rest arrives, every line exactly once and in order, nothing
    dropped."""
    tmp = tempfile.mkdtemp(prefix="sl-tcp-")
    procs = Procs()
    progress = os.path.join(tmp, "progress.json")
    stop = os.path.join(tmp, "stop")

    def prog():
        with open(progress) as f:
            return json.load(f)

    try:
        kafka = MockKafka(procs)
        cfg = kafka_cfg("tcpstall", TCP_601, kafka, tmp, spool_mb=1)
        with start_sluice(cfg, tmp, "tcpstall") as s:
            def tcp():
                return s.stats()["workers"][0]["tcp"]

            p = procs.start(["python3", CLIENT, "--conns", "2", "--rate", "3000",
                             "--stop-file", stop, "--progress", progress, "--seed", "11"],
                            ns=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
            wait_exported(s, 3000, 20)
            kafka.down()
            z0 = tcp()["zero_windows"]
            # Stalled: zero windows advertised, and for a second neither
            # the sender's acknowledged bytes moved nor its socket took
            # more (its send buffer is full).
            last = {"at": None, "since": time.monotonic()}

            def stalled():
                pr = prog()
                a = (pr["acked"], pr["handed"])
                if a != last["at"]:
                    last.update(at=a, since=time.monotonic())
                return tcp()["zero_windows"] > z0 and time.monotonic() - last["since"] > 1.0
            wait_for(stalled, 30, "the window to close and the sender to stop", 0.1)
            held0, handed0, z1 = prog()["acked"], prog()["handed"], tcp()["zero_windows"]
            # The stall itself is what is tested: hold it, then look.
            time.sleep(3)
            held1, handed1, z2 = prog()["acked"], prog()["handed"], tcp()["zero_windows"]
            assert held1 == held0, "acked bytes moved during the stall: %d -> %d" % (held0,
                                                                                  held1)
            assert handed1 == handed0, "the sender's socket kept taking bytes: %d -> %d" % (
                handed0, handed1)
            assert z2 > z1, "no zero window answered the sender's probes (%d)" % z2
            mid = s.stats()
            assert mid["ledger"]["records"]["dropped_worker"] == 0, mid["ledger"]
            sp = mid["export"]["spool"]
            assert sp["refused_full"] > 0 and mid["export"]["parked_now"] > 0, mid["export"]
            assert mid["ledger"]["balanced"], mid["ledger"]
            kafka.up()
            wait_for(lambda: prog()["acked"] > held1 + 100000, 30,
                     "the sender to resume", 0.1)
            with open(stop, "w"):
                pass
            sent = client_result(p, "tcp_client")
            want = sum(c["lines"] for c in sent)
            wait_exported(s, want, 60)
            rc, fin = s.stop()
        assert rc == 0, s.output()
        recs = cat(ARGS.sluice_cat, kafka.bootstrap, "sluice.logs")
        assert len(recs) == want, (len(recs), want)
        check_streams(recs, sent)
        check_clean(fin, stream_bytes=sum(c["bytes"] for c in sent))
        t = fin["workers"][0]["tcp"]
        x = fin["export"]
        assert x["spooled"] > 0 and x["replayed"] == x["spooled"], x
        print("  %d lines; stalled at %d bytes acked for 3 s, %d zero windows in the "
              "stall; window updates %d; %d batches spooled and replayed" %
              (want, held1, z2 - z0, t["window_updates"], x["spooled"]), flush=True)
    finally:
        procs.kill_all()
        shutil.rmtree(tmp, ignore_errors=True)


def outage_cfg(kafka, tmp, name):
    return kafka_cfg(name, TCP_601, kafka, tmp, pool=64, max_bytes=65536)


def test_kafka_outage():
    """Kafka down for SL_OUTAGE_S seconds (default 30) while two TCP
    connections send as fast as they can: the spool takes what librdkafka
    cannot hold, the senders never stop, and once Kafka is back every line
    arrives exactly once and in order per connection (so per worker:
    one worker here), nothing dropped, the ledger balanced at the end."""
    tmp = tempfile.mkdtemp(prefix="sl-outage-")
    procs = Procs()
    progress = os.path.join(tmp, "progress.json")
    stop = os.path.join(tmp, "stop")
    outage = float(os.environ.get("SL_OUTAGE_S", "30"))

    def prog():
        with open(progress) as f:
            return json.load(f)

    try:
        kafka = MockKafka(procs)
        with start_sluice(outage_cfg(kafka, tmp, "outage"), tmp, "outage") as s:
            # 8,000 lines/s: enough to fill the spool with tens of MB in
            # the outage, few enough for sluice-cat to read back in CI.
            p = procs.start(["python3", CLIENT, "--conns", "2", "--rate", "4000",
                             "--stop-file", stop, "--progress", progress, "--seed", "23"],
                            ns=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
            wait_exported(s, 20000, 30)
            kafka.down()
            a0 = prog()["acked"]
            t0 = time.monotonic()
            while time.monotonic() - t0 < outage:
                st = s.stats()
                assert st["ledger"]["records"]["dropped_worker"] == 0, st["ledger"]
                time.sleep(0.5)
            a1 = prog()["acked"]
            mid = s.stats()
            kafka.up()
            with open(stop, "w"):
                pass
            sent = client_result(p, "tcp_client", s)
            want = sum(c["lines"] for c in sent)
            wait_exported(s, want, 120)
            rc, fin = s.stop()
        assert rc == 0, s.output()
        t_cat = time.monotonic()
        recs = cat(ARGS.sluice_cat, kafka.bootstrap, "sluice.logs", count=want,
                   timeout_ms=120000)
        t_cat = time.monotonic() - t_cat
        assert len(recs) == want, (len(recs), want)
        check_streams(recs, sent)
        check_clean(fin, stream_bytes=sum(c["bytes"] for c in sent))
        x = fin["export"]
        # The senders went on during the outage: it all went to the spool.
        assert a1 - a0 > 2 * 1024 * 1024, (a0, a1)
        assert mid["export"]["spool"]["written_batches"] > 50, mid["export"]
        assert x["replayed"] == x["spooled"] and x["parked"] == 0, x
        assert x["spool"]["segments"] == 0 and x["spool"]["queued_batches"] == 0, x
        print("  %d lines (%.1f MB during %.0f s down); %d batches spooled (%.1f MB) and "
              "replayed; p99 delivery %d ms; read back in %.1f s" %
              (want, (a1 - a0) / 1e6, outage, x["spooled"], x["spool"]["written_bytes"] / 1e6,
               x["topics"]["logs"]["latency_us_p99"] / 1000, t_cat),
              flush=True)
    finally:
        procs.kill_all()
        shutil.rmtree(tmp, ignore_errors=True)


def test_kill9_replay():
    """kill -9 while Kafka is away and the spool grows; a restart on the
    same spool with Kafka back replays it: every spooled record arrives,
    none twice. What can be lost is what was in memory (librdkafka's
    bounded queue, the rings, open batches: docs/export.md), never what
    the spool holds."""
    tmp = tempfile.mkdtemp(prefix="sl-kill9-")
    procs = Procs()
    stop = os.path.join(tmp, "stop")
    try:
        kafka = MockKafka(procs)
        cfg = outage_cfg(kafka, tmp, "kill9")
        s = start_sluice(cfg, tmp, "kill9")
        with s:
            p = procs.start(["python3", CLIENT, "--conns", "2", "--rate", "20000",
                             "--stop-file", stop, "--seed", "5"],
                            ns=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
            wait_exported(s, 5000, 30)
            before = s.stats()["ledger"]["records"]["exported"]
            kafka.down()
            wait_for(lambda: s.stats()["export"]["spool"]["written_batches"] >= 30, 30,
                     "30 batches spooled", 0.1)
            s.proc.kill()
            s.proc.wait(10)
            # Its peer is gone: the sender cannot finish, it is ended too.
            p.kill()
            p.wait(10)
        kafka.up()
        os.unlink(cfg["stats"]["file"])   # the new process writes its own
        s2 = start_sluice(copy.deepcopy(cfg), tmp, "kill9b")
        with s2:
            st = s2.stats()
            carried = st["export"]["spool"]["carried_records"]
            assert carried > 0 and st["export"]["spool"]["carried_batches"] >= 30, st["export"]
            wait_for(lambda: s2.stats()["export"]["spool"]["queued_batches"] == 0 and
                     s2.stats()["ledger"]["records"]["in_flight"] == 0, 60,
                     "the spool to be replayed", 0.1)
            rc, fin = s2.stop()
        assert rc == 0, s2.output()
        led = fin["ledger"]
        assert led["balanced"] and led["records"]["resent"] == carried, led
        assert led["records"]["exported"] == carried, led
        recs = cat(ARGS.sluice_cat, kafka.bootstrap, "sluice.logs", timeout_ms=30000)
        keys = [LINE.match(r["body"]).group(1, 2) for r in recs]
        assert len(keys) == len(set(keys)), "%d duplicates" % (len(keys) - len(set(keys)))
        assert len(recs) >= before + carried, (len(recs), before, carried)
        print("  %d records exported before the outage, %d spooled records replayed "
              "after kill -9, none twice" % (before, carried), flush=True)
    finally:
        procs.kill_all()
        shutil.rmtree(tmp, ignore_errors=True)


UDP_FLOOD = r"""
import socket, sys, time
n, port = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
for i in range(n):
    sev = i % 8
    msg = "<%d>Dec  2 10:00:00 host app[1]: sev=%d n=%07d %s" % (8 + sev, sev, i, "x" * 300)
    while True:
        try:
            s.sendto(msg.encode(), ("10.88.0.2", port))
            break
        except BlockingIOError:
            time.sleep(0.001)
    if i % 2000 == 1999:
        time.sleep(0.002)
"""


def test_spool_full_udp_shed():
    """Kafka down and a 1 MB spool: once it is full the control core stops
    draining, the worker's batches run out and UDP syslog is shed by
    severity, debug first; error and more severe are never shed (they drop
    only as batch_pool_empty when nothing at all is free). Every record is
    counted: the ledger balances, and once Kafka is back what was kept
    arrives."""
    tmp = tempfile.mkdtemp(prefix="sl-shed-")
    procs = Procs()
    n = 120000
    try:
        kafka = MockKafka(procs)
        cfg = kafka_cfg("shed", {"proto": "udp", "port": 514, "format": "syslog"}, kafka, tmp,
                        spool_mb=1)
        with start_sluice(cfg, tmp, "shed") as s:
            kafka.down()
            nsrun("python3", "-c", UDP_FLOOD, str(n), "514", timeout=120)

            def received():
                return sum(w["records"]["received"] for w in s.stats()["workers"])
            # What the kernel delivered has arrived when the count stands.
            last = [-1]

            def settled():
                r = received()
                done = r == last[0]
                last[0] = r
                return done
            wait_for(settled, 30, "the flood to arrive", 0.5)
            mid = s.stats()
            kafka.up()
            wait_for(lambda: s.stats()["ledger"]["records"]["in_flight"] == 0 and
                     s.stats()["export"]["spool"]["queued_batches"] == 0, 60,
                     "the spool to drain", 0.2)
            rc, fin = s.stop()
        assert rc == 0, s.output()
        led = fin["ledger"]
        assert led["balanced"], led
        drops = collections.Counter()
        for w in fin["workers"]:
            drops.update(w["records"]["dropped"])
        x = mid["export"]
        assert x["spool"]["refused_full"] > 0 and x["parked_now"] > 0, x
        shed = [drops.get("shed_" + k, 0) for k in ("debug", "info", "notice", "warning")]
        assert shed[0] > 0, drops
        # Less severe records are shed first and more often.
        assert shed[0] >= shed[1] >= shed[2] >= shed[3], shed
        recs = cat(ARGS.sluice_cat, kafka.bootstrap, "sluice.logs")
        assert len(recs) == led["records"]["exported"], (len(recs), led["records"])
        by_sev = collections.Counter(int(re.search(r"sev=(\d)", r["body"]).group(1))
                                     for r in recs)
        # Errors get through at least as well as debug lines.
        assert by_sev[3] >= by_sev[7], by_sev
        print("  %d datagrams sent, %d received, exported by severity %s; shed debug %d, "
              "info %d, notice %d, warning %d; batch_pool_empty %d" %
              (n, led["records"]["received"], dict(sorted(by_sev.items())), shed[0], shed[1],
               shed[2], shed[3], drops.get("batch_pool_empty", 0)), flush=True)
    finally:
        procs.kill_all()
        shutil.rmtree(tmp, ignore_errors=True)


TESTS = [test_tcp_clients, test_tcp_ipv6_two_workers, test_tcp_loss, test_tcp_rsyslog, test_tcp_stall,
         test_kafka_outage, test_kill9_replay, test_spool_full_udp_shed]


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--sluice-cat", required=True)
    ap.add_argument("--mock-kafka", required=True)
    ap.add_argument("-k", help="run only the tests whose name holds this")
    ARGS = ap.parse_args()
    return net.run_tests(TESTS, ARGS.k)


if __name__ == "__main__":
    sys.exit(main())
