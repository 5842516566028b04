#!/usr/bin/env python3
"""Component tests: sluice itself on virtual devices (net_pcap), with the
embedded Kafka cluster, read back with sluice-cat.

Each test builds its traffic as a pcap, runs sluice with --no-huge, asserts
exact counters from the stats file and the records read back from Kafka,
and stops sluice with SIGTERM. Prints 'N passed, N failed' at the end.
"""
import argparse
import collections
import glob
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import pkt  # noqa: E402
from sluice import Sluice, cat, wait_for  # noqa: E402

OUR_MAC = pkt.mac("02:70:63:61:70:00")   # net_pcap0's address
OTHER_MAC = pkt.mac("02:11:22:33:44:55")
ARGS = None
TESTS = []


TMPDIRS = []


def tmpdir(prefix):
    d = tempfile.mkdtemp(prefix=prefix)
    TMPDIRS.append(d)
    return d


def test(fn):
    TESTS.append(fn)
    return fn


def base_cfg(listeners=((514,),), **over):
    cfg = {
        "node": {"name": "component"},
        "ports": [{"device": "net_pcap0", "ipv4": ["10.0.0.2/24"], "mbufs": 2047}],
        "listeners": [{"proto": "udp", "port": p[0], "format": "syslog"} for p in listeners],
        "worker": {"idle_sleep_us": 20},
        "batch": {"max_delay_ms": 20, "pool_size": 16, "max_bytes": 65536},
        "rules": {"files": [os.path.join(ROOT, "rules", "packs", "demo.yaml")]},
    }
    cfg.update(over)
    return cfg


def pcap_vdev(tmp, frames, name="net_pcap0", infinite=False):
    rx = os.path.join(tmp, name + "-rx.pcap")
    tx = os.path.join(tmp, name + "-tx.pcap")
    pkt.write_pcap(rx, frames)
    v = "%s,rx_pcap=%s,tx_pcap=%s" % (name, rx, tx)
    return v + (",infinite_rx=1" if infinite else ""), tx


def syslog3164(i, text="worker started"):
    return ("<134>Nov 24 10:00:%02d web-%d nginx[%d]: request %d %s" %
            (i % 60, i % 3, 100 + i, i, text)).encode()


def syslog5424(i):
    return ('<11>1 2026-11-24T10:00:00.%03dZ db-1 postgres %d ID%d '
            '[trace@32473 trace_id="abc%d"] ERROR: connection refused' % (i, i, i, i)).encode()


def ledger_traffic():
    """Returns (frames, expected) with every outcome the decode knows."""
    f, e = [], {}
    for i in range(20):
        f.append(pkt.udp_frame(syslog3164(i)))
    for i in range(5):
        f.append(pkt.udp_frame(syslog5424(i)))
    f.append(pkt.udp_frame(b"<13>one\n<13>two\n<13>three\n"))
    f.append(pkt.udp_frame(b"<13>x\n\n<13>y"))                  # one empty line
    f.append(pkt.udp_frame(b"<13>second listener", dport=1514))
    f.append(pkt.udp_frame(b"plain line without a syslog header"))
    f.append(pkt.udp_frame(b"<13>zero checksum", zero_csum=True))
    short = pkt.udp_frame(b"<13>hi")
    f.append(short + b"\0" * (60 - len(short)))                 # Ethernet padding
    f.append(pkt.udp_frame(b"<13>to our mac", dst_mac=OUR_MAC))
    f.append(pkt.eth(pkt.BROADCAST, pkt.PEER_MAC, 0x0800,
                     pkt.ipv4("10.0.0.1", "10.0.0.2", 17,
                              pkt.udp("10.0.0.1", "10.0.0.2", 1, 514, b"<13>vlan")),
                     vlans=((0x8100, 42),)))
    e.update(delivered=33, records=37, empty=1, unparsed=1)
    drops = {
        "udp_checksum": [pkt.udp_frame(b"<13>bad", bad_csum=True)] * 2,
        "no_listener": [pkt.udp_frame(b"<13>nobody", dport=999)] * 3,
        "ipv4_not_ours": [pkt.udp_frame(b"<13>elsewhere", dst="10.0.0.9")] * 2,
        "dst_mac": [pkt.udp_frame(b"<13>not for us", dst_mac=OTHER_MAC)] * 2,
        # A first fragment whose rest never comes: held, then dropped.
        "frag_dropped": [pkt.udp_frame(b"<13>frag", frag=0x2000)],
        "tcp_bad_header": [pkt.eth(pkt.BROADCAST, pkt.PEER_MAC, 0x0800,
                                    pkt.ipv4("10.0.0.1", "10.0.0.2", 6, b"\0" * 20))],
        "ipv6_not_ours": [pkt.eth(pkt.BROADCAST, pkt.PEER_MAC, 0x86DD, b"\x60" + b"\0" * 39)],
        "eth_runt": [b"\xff" * 10],
        "udp_empty": [pkt.udp_frame(b"")],
        "udp_truncated": [pkt.udp_frame(b"<13>liar", length=200)],
        "arp_ignored": [pkt.arp_request("10.0.0.77")],
        "icmp_malformed": [pkt.icmp_echo("10.0.0.2", bad_csum=True)],
    }
    # An IPv4 header checksum broken after the fact.
    bad_ip = bytearray(pkt.udp_frame(b"<13>bad ip"))
    bad_ip[14 + 10] ^= 0xFF
    drops["ipv4_checksum"] = [bytes(bad_ip)]
    for frames in drops.values():
        f.extend(frames)
    f.append(pkt.arp_request("10.0.0.2"))
    f.append(pkt.icmp_echo("10.0.0.2", seq=1))
    f.append(pkt.icmp_echo("10.0.0.2", seq=2))
    e["answered"] = 3
    e["drops"] = {k: len(v) for k, v in drops.items()}
    e["packets"] = len(f)
    return f, e


@test
def test_ledger_exact():
    """A known mix of packets: every counter exact, ledger balanced, Kafka
    holds exactly the records, replies are on the wire."""
    tmp = tmpdir("sl-ledger-")
    frames, e = ledger_traffic()
    vdev, tx = pcap_vdev(tmp, frames)
    with Sluice(ARGS.sluice, base_cfg(listeners=((514,), (1514,))), [vdev], workdir=tmp,
                name="ledger") as s:
        st = wait_for(lambda: (lambda d: d if d["ledger"]["records"]["exported"] >= 36 else None)(s.stats()),
                      30, "36 records exported")
        recs = cat(ARGS.sluice_cat, s.bootstrap(), "sluice.logs")
        rc, fin = s.stop()
    assert rc == 0, "exit code %d\n%s" % (rc, s.output())
    w = fin["workers"][0]
    assert w["packets"]["received"] == e["packets"], w["packets"]
    assert w["packets"]["delivered"] == e["delivered"], w["packets"]
    assert w["packets"]["answered"] == e["answered"], w["packets"]
    assert w["packets"]["dropped"] == e["drops"], (w["packets"]["dropped"], e["drops"])
    assert w["records"]["received"] == e["records"], w["records"]
    assert w["records"]["dropped"] == {"record_empty": 1}, w["records"]
    assert w["records"]["unparsed"] == 1, w["records"]
    led = fin["ledger"]
    assert led["balanced"] is True and fin["final"] is True, led
    assert led["packets"]["received"] == e["packets"]
    assert led["records"]["exported"] == 36 and led["records"]["in_flight"] == 0, led
    assert len(recs) == 36, len(recs)
    bodies = [r["body"] for r in recs]
    for want in ("one", "two", "three", "x", "y", "second listener", "zero checksum", "hi",
                 "to our mac", "vlan", "plain line without a syslog header"):
        assert want in bodies, (want, bodies)
    r5424 = [r for r in recs if r.get("service.name") == "postgres"]
    assert len(r5424) == 5 and r5424[0]["severity_text"] == "err", r5424[:1]
    assert r5424[0]["time_unix_nano"] == 1795514400000000000, r5424[0]
    assert "connection-refused" in r5424[0]["attributes"]["sluice.rules"], r5424[0]
    assert sorted(r["trace_id"] for r in r5424) == ["abc%d" % i for i in range(5)], r5424
    plain = [r for r in recs if r["body"].startswith("plain line")][0]
    assert plain["attributes"]["sluice.parse_error"] is True, plain
    # Replies: the gratuitous ARP at start, one ARP reply, two echo replies.
    out = pkt.read_pcap(tx)
    arp_replies = [x for x in out if x[12:14] == b"\x08\x06" and x[20:22] == b"\x00\x02"]
    garps = [x for x in out if x[12:14] == b"\x08\x06" and x[20:22] == b"\x00\x01"]
    echo = [x for x in out if x[12:14] == b"\x08\x00" and x[23] == 1 and x[34] == 0]
    assert len(arp_replies) == 1 and len(garps) == 1 and len(echo) == 2, [x.hex() for x in out]
    assert arp_replies[0][22:28] == OUR_MAC and arp_replies[0][32:38] == pkt.PEER_MAC
    assert pkt.csum(echo[0][14:34]) == 0 and pkt.csum(echo[0][34:]) == 0


def lines_payload(n, tag):
    return b"".join(b"<14>Nov 24 10:00:00 big app: %s line %04d\n" % (tag, i) for i in range(n))


@test
def test_ipv6_and_reassembly():
    """IPv6 (ND, echo, UDP, extension headers) and reassembly of IPv4 and
    IPv6 fragments: in order, reversed, overlapping, incomplete."""
    tmp = tmpdir("sl-v6-")
    big4 = lines_payload(200, b"v4")            # ~9 KB: 7 fragments at MTU 1500
    big6 = lines_payload(100, b"v6")            # ~4.5 KB: 4 fragments
    u4 = pkt.udp("10.0.0.1", "10.0.0.2", 40001, 514, big4)
    u6 = pkt.udp6("fd00::1", "fd00::2", 40002, 514, big6)
    frags4 = pkt.ipv4_fragments(u4, ident=1)
    rev4 = list(reversed(pkt.ipv4_fragments(u4, ident=2)))
    frags6 = pkt.ipv6_fragments(u6, ident=3)
    overlap = pkt.ipv4_fragments(pkt.udp("10.0.0.1", "10.0.0.2", 1, 514, b"x" * 2000),
                                 ident=4, overlap=480)
    lonely = pkt.ipv4_fragments(u4, ident=5)[:2]
    hbh = bytes([60, 0, 1, 4, 0, 0, 0, 0])         # hop-by-hop, PadN, next: dst opts
    dsto = bytes([17, 0, 1, 4, 0, 0, 0, 0])        # destination options, next: UDP
    frames = [
        pkt.neighbor_solicit("fd00::2"),
        pkt.neighbor_solicit("fd00::9"),               # a group we did not join
        pkt.echo6("fd00::2"),
        pkt.udp6_frame(b"<13>over ipv6"),
        pkt.udp6_frame(b"<13>through ext headers", ext=hbh + dsto, ext_nh=0),
        pkt.udp6_frame(b"<13>zero checksum", zero_csum=True),
        pkt.udp6_frame(b"<13>elsewhere", dst="fd00::9"),
    ] + frags4 + rev4 + frags6 + overlap + lonely
    vdev, tx = pcap_vdev(tmp, frames)
    cfg = base_cfg()
    cfg["ports"][0]["ipv6"] = ["fd00::2/64"]
    with Sluice(ARGS.sluice, cfg, [vdev], workdir=tmp, name="v6") as s:
        want = 2 + 200 * 2 + 100
        wait_for(lambda: s.stats()["ledger"]["records"]["exported"] >= want, 30,
                 "%d records exported" % want)
        recs = cat(ARGS.sluice_cat, s.bootstrap(), "sluice.logs")
        rc, fin = s.stop()
    assert rc == 0, s.output()
    w = fin["workers"][0]
    p = w["packets"]
    assert p["received"] == len(frames), p
    assert p["answered"] == 2, p
    delivered = 2 + len(frags4) + len(rev4) + len(frags6)
    assert p["delivered"] == delivered, (p, delivered)
    assert p["datagrams_reassembled"] >= 3, p
    drops = dict(p["dropped"])
    assert drops.pop("dst_mac") == 1 and drops.pop("udp_checksum") == 1, p
    assert drops.pop("ipv6_not_ours") == 1, p
    # Overlapping fragments never add up to their datagram; the lonely ones
    # never complete. Both end as frag_dropped, each fragment once.
    assert drops.pop("frag_dropped") == len(overlap) + len(lonely), p
    assert not drops, p
    assert fin["ledger"]["balanced"], fin["ledger"]
    assert len(recs) == want, len(recs)
    peers = {r["attributes"]["net.peer.ip"] for r in recs}
    assert "fd00::1" in peers and "10.0.0.1" in peers, peers
    bodies = [r["body"] for r in recs]
    assert bodies.count("v4 line 0199") == 2 and "v6 line 0099" in bodies, bodies[-3:]
    assert "through ext headers" in bodies
    out = pkt.read_pcap(tx)
    na = [x for x in out if x[12:14] == b"\x86\xdd" and x[54] == 136]
    e6 = [x for x in out if x[12:14] == b"\x86\xdd" and x[54] == 129]
    assert len(na) == 1 and len(e6) == 1, [x.hex() for x in out]
    assert na[0][22:38] == pkt.ip6("fd00::2") and na[0][62:78] == pkt.ip6("fd00::2")
    assert na[0][78:80] == b"\x02\x01" and na[0][80:86] == OUR_MAC, na[0].hex()
    assert pkt.csum(pkt.phdr6(na[0][22:38], na[0][38:54], 32, 58) + na[0][54:86]) == 0


@test
def test_jsonl_listener():
    """JSON lines: recognised fields become the OpenTelemetry fields, the
    rest stay attributes with their JSON types; a line that is not JSON is
    delivered raw and flagged; every exported line is valid JSON."""
    tmp = tmpdir("sl-jsonl-")
    lines = [
        b'{"ts":"2026-11-24T10:00:00.5Z","level":"ERROR","service":"checkout",'
        b'"message":"payment \\"declined\\" for order 7","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736",'
        b'"span_id":"00f067aa0ba902b7","order":{"id":7,"items":[1,2]},"retry":true,"amount":12.5}',
        b'{"time":1795514400123,"severity":"warning","msg":"disk Full here"}',
        b'{"@timestamp":"2026-11-24T10:00:00+01:00","lvl":3,"body":"connection refused","net.peer.ip":"spoof"}',
        b'not json at all',
        b'{"message":"bad utf8 \xff\xfe in body","k":"\xc3\x28"}',
    ]
    frames = [pkt.udp_frame(b"\n".join(lines[:2]), dport=5170)] + \
        [pkt.udp_frame(l, dport=5170) for l in lines[2:]]
    vdev, _ = pcap_vdev(tmp, frames)
    cfg = base_cfg()
    cfg["listeners"] = [{"proto": "udp", "port": 5170, "format": "jsonl"}]
    with Sluice(ARGS.sluice, cfg, [vdev], workdir=tmp, name="jsonl") as s:
        wait_for(lambda: s.stats()["ledger"]["records"]["exported"] >= 5, 30, "5 exported")
        recs = cat(ARGS.sluice_cat, s.bootstrap(), "sluice.logs")   # parses every line
        rc, fin = s.stop()
    assert rc == 0, s.output()
    assert len(recs) == 5, recs
    w = fin["workers"][0]["records"]
    assert w["parsed"] == 4 and w["unparsed"] == 1, w
    r = {x["body"]: x for x in recs}
    a = r['payment "declined" for order 7']
    assert a["time_unix_nano"] == 1795514400500000000 and a["severity_number"] == 17, a
    assert a["severity_text"] == "ERROR" and a["service.name"] == "checkout", a
    assert a["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736" and a["span_id"] == "00f067aa0ba902b7"
    assert a["attributes"]["order"] == {"id": 7, "items": [1, 2]}, a
    assert a["attributes"]["retry"] is True and a["attributes"]["amount"] == 12.5, a
    b = r["disk Full here"]
    assert b["time_unix_nano"] == 1795514400123000000 and b["severity_number"] == 13, b
    assert "disk-full" not in b["attributes"].get("sluice.rules", []), b   # case-sensitive rule
    c = r["connection refused"]
    assert c["time_unix_nano"] == 1795510800000000000 and c["severity_number"] == 17, c
    assert c["attributes"]["net.peer.ip"] == "10.0.0.1", c               # ours, not the record's
    assert "connection-refused" in c["attributes"]["sluice.rules"], c
    raw = r["not json at all"]
    assert raw["attributes"]["sluice.parse_error"] is True, raw
    assert any(x["body"].startswith("bad utf8") for x in recs), recs
    assert fin["ledger"]["balanced"], fin["ledger"]


def fnv1a64(text):
    h = 0xcbf29ce484222325
    for b in text.encode():
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return "%016x" % (h or 1)


@test
def test_templates():
    """Every record carries the content-addressed id of its template (FNV-1a
    64 of the template text, recomputed here); per-template counts by
    service and severity reach the templates topic; the top templates are
    in the stats; template lines stay out of the record ledger."""
    tmp = tmpdir("sl-tpl-")
    lines = []
    for i in range(60):
        lines.append("<131>Nov 24 10:00:01 h api[1]: disk /dev/sd%d full at %d%%" % (i % 3, 90 + i % 9))
    for i in range(30):
        lines.append("<134>Nov 24 10:00:02 h db[2]: connection from 10.0.%d.%d closed" % (i, i + 1))
    for i in range(20):
        lines.append("<134>Nov 24 10:00:03 h api[1]: connection from 10.1.0.%d closed" % i)
    for user in ("alice", "bob", "carol"):
        lines.append("<134>Nov 24 10:00:04 h sshd[3]: session opened for user %s" % user)
    frames = [pkt.udp_frame(l.encode(), dport=514) for l in lines]
    vdev, _ = pcap_vdev(tmp, frames)
    cfg = base_cfg(templates={"interval_ms": 1000})
    with Sluice(ARGS.sluice, cfg, [vdev], workdir=tmp, name="templates") as s:
        wait_for(lambda: s.stats()["ledger"]["records"]["exported"] >= len(lines), 30,
                 "all exported")
        wait_for(lambda: s.stats()["templates"]["records"] >= len(lines), 30,
                 "template counts merged")
        wait_for(lambda: s.stats()["templates"]["lines_sent"] >= 4, 30, "template lines sent")
        recs = cat(ARGS.sluice_cat, s.bootstrap(), "sluice.logs")
        tpl = cat(ARGS.sluice_cat, s.bootstrap(), "sluice.templates")
        rc, fin = s.stop()
    assert rc == 0, s.output()
    assert len(recs) == len(lines), len(recs)
    disk = fnv1a64("disk <*> full at <*>")
    conn = fnv1a64("connection from <*> closed")
    ids = [r["attributes"]["sluice.template_id"] for r in recs]
    assert ids.count(disk) == 60 and ids.count(conn) == 50, collections.Counter(ids)
    by = collections.defaultdict(int)
    for t in tpl:
        assert t["count"] == sum(t["severity_counts"].values()), t
        by[(t["template_id"], t["service.name"])] += t["count"]
    assert by[(disk, "api")] == 60 and by[(conn, "db")] == 30 and by[(conn, "api")] == 20, by
    d = [t for t in tpl if t["template_id"] == disk]
    assert d[0]["template"] == "disk <*> full at <*>" and d[0]["new"] is True, d
    assert d[0]["severity_counts"] == {"ERROR": 60}, d
    # The user name generalises on the second line: that template now says
    # which id it replaced.
    sess = fnv1a64("session opened for user <*>")
    assert any(t["template_id"] == sess and t.get("replaces") ==
               fnv1a64("session opened for user alice") for t in tpl), tpl
    assert sum(by.values()) == len(lines), by
    top = fin["templates"]["top"]
    assert top[0]["template_id"] == disk and top[0]["count"] == 60, top
    assert top[1]["template_id"] == conn and top[1]["count"] == 50, top
    w = fin["workers"][0]["templates"]
    assert w["records"] == len(lines) and w["live"] == 3 and w["generalised"] == 1, w
    assert fin["export"]["topics"]["templates"]["records"] >= 4, fin["export"]
    assert fin["ledger"]["records"]["exported"] == len(lines), fin["ledger"]
    assert fin["ledger"]["balanced"], fin["ledger"]


@test
def test_plain_and_access_listeners():
    """One listener per format: timestamps, levels and access-log fields
    become the OpenTelemetry fields; the rules scan a plain line's message
    and an access line whole; a line neither parser knows is delivered
    raw and flagged; the ledger balances."""
    tmp = tmpdir("sl-plain-")
    plain = [
        b"2026-11-24T10:00:00.250Z ERROR db: connection refused trace_id=4bf92f3577b34da6",
        b"2026-11-24 11:00:00,5 [main] WARN org.example.Cache: evicted",
        b"something without a level",
    ]
    access = [
        b'192.0.2.7 - alice [24/Nov/2026:10:00:00 +0100] "GET /cart?id=7 HTTP/1.1" 502 157 '
        b'"https://shop.example/" "curl/8.5.0"',
        b'192.0.2.8 - - [24/Nov/2026:10:00:01 +0000] "HEAD / HTTP/1.0" 404 -',
        b"not an access line",
    ]
    frames = [pkt.udp_frame(b"\n".join(plain), dport=5140),
              pkt.udp_frame(b"\r\n".join(access), dport=8080)]
    vdev, _ = pcap_vdev(tmp, frames)
    cfg = base_cfg()
    cfg["listeners"] = [{"proto": "udp", "port": 5140, "format": "plain"},
                        {"proto": "udp", "port": 8080, "format": "access"}]
    with Sluice(ARGS.sluice, cfg, [vdev], workdir=tmp, name="plain") as s:
        wait_for(lambda: s.stats()["ledger"]["records"]["exported"] >= 6, 30, "6 exported")
        recs = cat(ARGS.sluice_cat, s.bootstrap(), "sluice.logs")   # parses every line
        rc, fin = s.stop()
    assert rc == 0, s.output()
    assert len(recs) == 6, recs
    w = fin["workers"][0]["records"]
    assert w["parsed"] == 4 and w["unparsed"] == 2, w
    r = {x["body"]: x for x in recs}
    a = r["db: connection refused trace_id=4bf92f3577b34da6"]
    assert a["time_unix_nano"] == 1795514400250000000 and a["severity_number"] == 17, a
    assert a["severity_text"] == "ERROR" and a["trace_id"] == "4bf92f3577b34da6", a
    assert a["attributes"]["sluice.rules"] == ["connection-refused"], a   # message only
    b = r["org.example.Cache: evicted"]
    assert b["time_unix_nano"] == 1795518000500000000 and b["severity_number"] == 13, b
    assert b["attributes"]["thread.name"] == "main", b
    for raw in (b"something without a level", b"not an access line"):
        x = r[raw.decode()]
        assert x["attributes"]["sluice.parse_error"] is True and "severity_number" not in x, x
    c = r[access[0].decode()]
    assert c["time_unix_nano"] == 1795510800000000000, c
    assert c["severity_number"] == 17 and c["severity_text"] == "err", c
    ca = c["attributes"]
    assert ca["client.address"] == "192.0.2.7" and ca["user.name"] == "alice", ca
    assert ca["http.request.method"] == "GET" and ca["url.path"] == "/cart", ca
    assert ca["url.query"] == "id=7" and ca["network.protocol.version"] == "1.1", ca
    assert ca["http.response.status_code"] == 502 and ca["http.response.body.size"] == 157, ca
    assert ca["http.request.header.referer"] == ["https://shop.example/"], ca
    assert ca["user_agent.original"] == "curl/8.5.0", ca
    assert "ip-address" in ca["sluice.rules"], ca                          # the whole line
    d = r[access[1].decode()]
    assert d["severity_number"] == 13 and d["attributes"]["http.response.body.size"] == 0, d
    assert "user.name" not in d["attributes"] and "user_agent.original" not in d["attributes"], d
    assert fin["ledger"]["balanced"], fin["ledger"]


ACTION_RULES = """rules:
  - id: auth-fail
    pattern: 'Failed password'
    actions:
      tag: [auth, security]
      severity: warning
      count: {metric: ssh_failures_total, labels: {team: sec}}
      event: {name: ssh-brute-force, severity: critical}
  - id: auth-words
    pattern: 'password|invalid user'
    flags: [caseless]
    actions: {tag: [auth], severity: err}
  - id: healthcheck
    pattern: 'GET /healthz'
    actions: {drop: true, count: healthchecks_total}
  - id: payments
    pattern: '^pay'
    field: service
    actions: {route: sluice.payments, keep_trace: true}
  - id: db-host
    pattern: '^db[0-9]+$'
    field: host
    actions: {tag: database}
"""


@test
def test_rule_actions():
    """Rule actions end to end: tags, severity (the first rule in the
    files wins), drop (counted as rule_drop, never exported), count (a
    metric series per rule on the metrics topic, exact), route to a topic
    of its own, keep_trace, events on the alerts topic; rules on the
    service and host fields; an unparsed record to the dead-letter topic
    when its listener says so. The ledger balances with derived records
    (metrics, events) outside it."""
    tmp = tmpdir("sl-act-")
    rules = os.path.join(tmp, "actions.yaml")
    with open(rules, "w") as f:
        f.write(ACTION_RULES)
    lines = ["<38>Nov 24 10:00:01 web1 sshd[7]: Failed password for root from 10.0.0.%d" % i
             for i in range(5)]
    lines += ["<134>Nov 24 10:00:02 web1 nginx[8]: GET /healthz 200" for _ in range(7)]
    lines += ["<134>Nov 24 10:00:03 web1 payments[9]: charge %d ok trace_id=%032x" % (i, i + 1)
              for i in range(3)]
    lines += ["<134>Nov 24 10:00:04 db7 postgres[10]: checkpoint complete"]
    frames = [pkt.udp_frame(l.encode(), dport=514) for l in lines]
    frames += [pkt.udp_frame(b"not syslog at all", dport=515),
               pkt.udp_frame(b"also not syslog", dport=514)]
    vdev, _ = pcap_vdev(tmp, frames)
    cfg = base_cfg(rules={"files": [rules]}, metrics={"flush_interval_ms": 1000})
    cfg["listeners"] = [{"proto": "udp", "port": 514, "format": "syslog"},
                        {"proto": "udp", "port": 515, "format": "syslog",
                         "parse_errors": "deadletter"}]
    kept = len(lines) - 7 + 2
    with Sluice(ARGS.sluice, cfg, [vdev], workdir=tmp, name="actions") as s:
        wait_for(lambda: s.stats()["ledger"]["records"]["exported"] >= kept, 30, "exported")
        wait_for(lambda: s.stats()["metrics"]["lines_sent"] >= 2, 30, "rule metrics sent")
        logs = cat(ARGS.sluice_cat, s.bootstrap(), "sluice.logs")
        pay = cat(ARGS.sluice_cat, s.bootstrap(), "sluice.payments")
        dead = cat(ARGS.sluice_cat, s.bootstrap(), "sluice.deadletter")
        alerts = cat(ARGS.sluice_cat, s.bootstrap(), "sluice.alerts")
        metrics = cat(ARGS.sluice_cat, s.bootstrap(), "sluice.metrics")
        rc, fin = s.stop()
    assert rc == 0, s.output()
    assert len(logs) == 5 + 1 + 1 and len(pay) == 3 and len(dead) == 1, (logs, pay, dead)
    fails = [r for r in logs if r["body"].startswith("Failed password")]
    assert len(fails) == 5, logs
    for r in fails:
        a = r["attributes"]
        assert a["sluice.rules"] == ["auth-fail", "auth-words"] or \
            sorted(a["sluice.rules"]) == ["auth-fail", "auth-words"], a
        assert a["sluice.tags"] == ["auth", "security"], a
        # auth-fail comes first in the file: its severity wins over err.
        assert r["severity_text"] == "warning" and r["severity_number"] == 13, r
    assert not any("healthz" in r["body"] for r in logs + pay + dead)
    for r in pay:
        assert r["service.name"] == "payments" and r["attributes"]["sluice.keep_trace"] is True, r
        assert r["attributes"]["sluice.rules"] == ["payments"], r
    db = [r for r in logs if r["body"] == "checkpoint complete"]
    assert db and db[0]["attributes"]["sluice.tags"] == ["database"], db
    assert dead[0]["body"] == "not syslog at all" and dead[0]["attributes"]["sluice.parse_error"]
    raw = [r for r in logs if r["body"] == "also not syslog"]
    assert raw and raw[0]["attributes"]["sluice.parse_error"] is True, logs
    assert len(alerts) == 5, alerts
    for e in alerts:
        assert e["event"] == "ssh-brute-force" and e["rule"] == "auth-fail", e
        assert e["severity_text"] == "crit" and e["service.name"] == "sshd", e
        assert e["host.name"] == "web1" and e["body"].startswith("Failed password"), e
        assert len(e["template_id"]) == 16, e
    total = collections.defaultdict(int)
    for m in metrics:
        assert m["source"] in ("rule", "template"), m
        if m["source"] != "rule":
            continue
        assert m["type"] == "counter", m
        total[(m["name"], m["labels"]["rule"])] += m["value"]
        if m["name"] == "ssh_failures_total":
            assert m["labels"]["team"] == "sec", m
    assert total[("ssh_failures_total", "auth-fail")] == 5, total
    assert total[("healthchecks_total", "healthcheck")] == 7, total
    w = fin["workers"][0]
    assert w["records"]["dropped"]["rule_drop"] == 7, w["records"]
    assert w["actions"]["routed"] == 3 and w["actions"]["deadletter"] == 1, w["actions"]
    assert w["actions"]["events_fired"] == 5 and w["actions"]["events_handed"] == 5, w
    t = fin["export"]["topics"]
    assert t["route:sluice.payments"]["records"] == 3, t
    assert t["deadletter"]["records"] == 1 and t["alerts"]["records"] == 5, t
    led = fin["ledger"]["records"]
    assert led["received"] == len(lines) + 2 and led["exported"] == kept, led
    assert led["dropped_worker"] == 7 and fin["ledger"]["balanced"], fin["ledger"]


@test
def test_ipv6_malformed():
    """Every IPv6 malformation ends in its own named drop; nothing is
    answered that should not be."""
    tmp = tmpdir("sl-v6bad-")
    good = pkt.udp6_frame(b"<13>fine")
    E = lambda ip: pkt.eth(pkt.BROADCAST, pkt.PEER_MAC, 0x86DD, ip)
    ip_good = good[14:]
    cases = {
        "ipv6_truncated": [
            E(ip_good[:39]),                                        # short header
            E(ip_good[:4] + b"\x05\xdc" + ip_good[6:]),             # payload length lies
            pkt.udp6_frame(b"x", ext=bytes([17, 4]) + b"\0" * 6, ext_nh=60),  # ext runs past
        ],
        "ipv6_bad_header": [E(b"\x40" + ip_good[1:])],
        "ipv6_not_ours": [pkt.udp6_frame(b"x", dst="fd00::99"),
                          pkt.udp6_frame(b"x", dst="ff02::1")],        # UDP to a group
        "ipv6_ext_header": [
            pkt.udp6_frame(b"x", ext=b"\0" * 8, ext_nh=50),           # ESP
            pkt.udp6_frame(b"x", ext=bytes([0, 0, 1, 4, 0, 0, 0, 0]) +
                           bytes([17, 0, 1, 4, 0, 0, 0, 0]), ext_nh=60),  # HBH not first
            E(pkt.ipv6("fd00::1", "fd00::2", 59, b"")),             # no next header
            pkt.udp6_frame(b"x", ext=bytes([44, 0, 1, 4, 0, 0, 0, 0]) +
                           bytes([17, 0, 0, 1, 0, 0, 0, 9]), ext_nh=60),  # frag after ext
        ],
        "udp_checksum": [pkt.udp6_frame(b"x", zero_csum=True),
                         good[:-1] + bytes([good[-1] ^ 0xFF])],
        "icmp_malformed": [pkt.echo6("fd00::2")[:-1] + b"\x00"],
        "icmp_ignored": [
            pkt.echo6("ff02::1", dst_mac=pkt.mcast_mac(pkt.ip6("ff02::1"))),  # echo to a group
            # hop limit 64 instead of 255: not from the link
            (lambda f: f[:21] + b"\x40" + f[22:])(pkt.neighbor_solicit("fd00::2")),
            pkt.neighbor_solicit("fd00::2", src="::"),                # DAD probe
        ],
        "tcp_bad_header": [E(pkt.ipv6("fd00::1", "fd00::2", 6, b"\0" * 20))],
        "l4_proto": [E(pkt.ipv6("fd00::1", "fd00::2", 47, b"\0" * 8))],
    }
    frames = [f for fs in cases.values() for f in fs] + [good]
    vdev, tx = pcap_vdev(tmp, frames)
    cfg = base_cfg()
    cfg["ports"][0]["ipv6"] = ["fd00::2/64"]
    with Sluice(ARGS.sluice, cfg, [vdev], workdir=tmp, name="v6bad") as s:
        wait_for(lambda: s.stats()["workers"][0]["packets"]["received"] == len(frames), 30,
                 "all frames")
        rc, fin = s.stop()
    assert rc == 0, s.output()
    p = fin["workers"][0]["packets"]
    want = {k: len(v) for k, v in cases.items()}
    assert p["dropped"] == want, (p["dropped"], want)
    assert p["delivered"] == 1 and p["answered"] == 0, p
    # Only the gratuitous ARP left: nothing above was answered.
    assert len(pkt.read_pcap(tx)) == 1
    assert fin["ledger"]["balanced"]


@test
def test_fragment_flood():
    """Thousands of datagrams that never complete, in a table of 64: every
    fragment ends as frag_dropped, valid traffic still flows, and every
    mbuf comes back to the pool."""
    tmp = tmpdir("sl-flood-")
    flood = []
    for i in range(3000):
        u = pkt.udp("10.0.0.1", "10.0.0.2", 1, 514, b"y" * 3000)
        flood.append(pkt.ipv4_fragments(u, ident=i + 1)[i % 2])   # first or middle only
    good = [pkt.udp_frame(syslog3164(i, "survives the flood")) for i in range(50)]
    frames = [x for pair in zip(flood[:50], good) for x in pair] + flood[50:]
    vdev, _ = pcap_vdev(tmp, frames)
    cfg = base_cfg(reassembly={"max_flows": 64, "timeout_ms": 100})
    with Sluice(ARGS.sluice, cfg, [vdev], workdir=tmp, name="flood") as s:
        def settled():
            d = s.stats()
            w = d["workers"][0]["packets"]
            return d if (w["received"] == len(frames) and w["fragments_held"] == 0 and
                         d["ports"][0]["mbufs_in_use"] == 0) else None
        st = wait_for(settled, 30, "the flood to drain")
        rc, fin = s.stop()
    assert rc == 0, s.output()
    p = st["workers"][0]["packets"]
    assert p["dropped"] == {"frag_dropped": 3000}, p
    assert p["delivered"] == 50 and fin["ledger"]["records"]["exported"] == 50, p
    assert fin["ledger"]["balanced"], fin["ledger"]


@test
def test_two_workers():
    """Two workers, one queue each: per-worker counts, one balanced ledger."""
    tmp = tmpdir("sl-two-")
    rx = []
    for q, n in ((0, 40), (1, 25)):
        path = os.path.join(tmp, "q%d.pcap" % q)
        pkt.write_pcap(path, [pkt.udp_frame(syslog3164(i, "q%d" % q)) for i in range(n)])
        rx.append(path)
    vdev = "net_pcap0,rx_pcap=%s,rx_pcap=%s,tx_pcap=%s,tx_pcap=%s" % (
        rx[0], rx[1], os.path.join(tmp, "t0.pcap"), os.path.join(tmp, "t1.pcap"))
    # Three lcores on a two-core machine: lcore 2 shares CPU 1.
    with Sluice(ARGS.sluice, base_cfg(), [vdev], lcores="0@0,1@1,2@1", workdir=tmp,
                name="two") as s:
        wait_for(lambda: s.stats()["ledger"]["records"]["exported"] >= 65, 30, "65 exported")
        recs = cat(ARGS.sluice_cat, s.bootstrap(), "sluice.logs")
        rc, fin = s.stop()
    assert rc == 0, s.output()
    per = sorted(w["records"]["received"] for w in fin["workers"])
    assert per == [25, 40], per
    assert fin["ledger"]["balanced"] and fin["ledger"]["records"]["exported"] == 65
    assert len(recs) == 65


@test
def test_sigterm_under_traffic():
    """SIGTERM while packets stream in at full speed: exit 0, nothing in
    flight, ledger balanced."""
    tmp = tmpdir("sl-term-")
    frames = [pkt.udp_frame(syslog3164(i, "load error %d" % i)) for i in range(64)]
    vdev, _ = pcap_vdev(tmp, frames, infinite=True)
    cfg = base_cfg(worker={"idle_sleep_us": 0})
    with Sluice(ARGS.sluice, cfg, [vdev], workdir=tmp, name="term") as s:
        wait_for(lambda: s.stats()["ledger"]["records"]["exported"] > 10000, 30,
                 "records flowing")
        rc, fin = s.stop()
    assert rc == 0, s.output()
    led = fin["ledger"]
    assert fin["final"] and led["balanced"], led
    assert led["records"]["in_flight"] == 0, led
    assert led["records"]["exported"] > 10000, led


@test
def test_second_signal_exits_at_once():
    """Kafka unreachable: the first SIGTERM waits in the flush, the second
    ends the process at once."""
    tmp = tmpdir("sl-sig2-")
    vdev, _ = pcap_vdev(tmp, [pkt.udp_frame(syslog3164(i)) for i in range(5)])
    cfg = base_cfg()
    cfg["export"] = {"kafka": {"brokers": "127.0.0.1:9", "flush_timeout_ms": 120000}}
    with Sluice(ARGS.sluice, cfg, [vdev], workdir=tmp, name="sig2") as s:
        wait_for(lambda: s.stats()["export"]["pending_records"] == 5, 30, "5 records pending")
        s.signal(signal.SIGTERM)
        wait_for(lambda: "shutdown: stopping RX" in s.output(), 10, "shutdown to begin")
        t0 = time.monotonic()
        s.signal(signal.SIGTERM)
        rc = s.proc.wait(10)
        assert rc == 128 + signal.SIGTERM, rc
        assert time.monotonic() - t0 < 5


@test
def test_check_lists_every_error():
    """--check on a broken config lists each error with file:line, exits 1."""
    tmp = tmpdir("sl-check-")
    rules = os.path.join(tmp, "bad-rules.yaml")
    with open(rules, "w") as f:
        f.write("rules:\n  - id: ok\n    pattern: 'fine'\n"
                "  - id: broken\n    pattern: '(?<=a+)b'\n")
    cfg = os.path.join(tmp, "bad.yaml")
    with open(cfg, "w") as f:
        f.write("ports:\n"
                "  - device: net_null0\n"
                "    ipv4: [10.0.0.2/33]\n"
                "listeners:\n"
                "  - { proto: udp, port: 70000, format: syslog }\n"
                "  - { proto: udp, port: 515, format: logs }\n"
                "worker:\n"
                "  bursts: 32\n"
                "rules:\n"
                "  files: [bad-rules.yaml]\n")
    r = subprocess.run([ARGS.sluice, "--", "-c", cfg, "--check"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    err = r.stderr
    for want in (cfg + ":3:", cfg + ":5:", cfg + ":6:", cfg + ":8:", "bursts"):
        assert want in err, (want, err)
    # The rule file is only checked once the config itself is valid.
    with open(cfg, "w") as f:
        f.write("ports:\n  - device: net_null0\n    ipv4: [10.0.0.2/24]\n"
                "stats:\n  file: %s/stats.json\n"
                "rules:\n  files: [bad-rules.yaml]\n" % tmp)
    r = subprocess.run([ARGS.sluice, "--", "-c", cfg, "--check"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 1 and rules + ":4:" in r.stderr and "broken" in r.stderr, r.stderr
    r = subprocess.run([ARGS.sluice, "--", "-c", os.path.join(ROOT, "config", "demo.yaml"),
                        "--check"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


@test
def test_bad_kafka_property_stops_startup():
    tmp = tmpdir("sl-prop-")
    vdev, _ = pcap_vdev(tmp, [])
    cfg = base_cfg()
    cfg["export"] = {"kafka": {"properties": {"no.such.property": "1"}}}
    s = Sluice(ARGS.sluice, cfg, [vdev], workdir=tmp, name="prop")
    s.log = open(s.log_path, "w")
    s.proc = subprocess.Popen(s.argv, stdout=s.log, stderr=subprocess.STDOUT)
    try:
        rc = s.proc.wait(60)
    finally:
        s.kill()
    assert rc != 0 and "no.such.property" in s.output(), s.output()


@test
def test_no_worker_lcore_is_an_error():
    tmp = tmpdir("sl-nowk-")
    vdev, _ = pcap_vdev(tmp, [])
    s = Sluice(ARGS.sluice, base_cfg(), [vdev], lcores="0", workdir=tmp, name="nowk")
    r = subprocess.run(s.argv, capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "no worker lcore" in r.stderr, r.stderr


@test
def test_unknown_device_is_an_error():
    tmp = tmpdir("sl-nodev-")
    cfg = base_cfg()
    cfg["ports"][0]["device"] = "net_pcap7"
    vdev, _ = pcap_vdev(tmp, [])
    s = Sluice(ARGS.sluice, cfg, [vdev], workdir=tmp, name="nodev")
    r = subprocess.run(s.argv, capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "net_pcap7" in r.stderr and "no such EAL port" in r.stderr, r.stderr


STATSD_GOOD = [
    b"api.hits:1|c|#env:prod,host:web-1",
    b"api.hits:2|c|#host:web-1,env:prod",          # same series, tags in another order
    b"api.hits:1|c|@0.5|#env:prod,host:web-1",     # stands for 2
    b"api.hits:4|c",                                # untagged: its own series
    b"fuel:10|g", b"fuel:+5|g", b"fuel:-2|g",       # 13
    b"temp:-4|g",                                   # a delta on an unset gauge: -4
    b"users:alice|s", b"users:bob|s", b"users:alice|s",
    b"lat:10:20:30|ms", b"lat:40|h|@0.5",           # h is a timer; 40 counts twice
    b"size:100|d|#region:eu",
    b"page.views:15|c|#env:dev|T1656581400|c:83c0a99c0a54c0c1",
]
STATSD_BAD = {
    b"bad name:1|c": "statsd_name_invalid",
    b"x:1|q": "statsd_bad_type",
    b"x:nan|c": "statsd_bad_value",
    b"x:1|c|@2": "statsd_bad_rate",
    b"_e{5,4}:title|text": "statsd_unsupported",
    b"x:1|c||": "statsd_bad_field",
}


def metrics_by_key(records):
    """One record per series: a counter's intervals summed (traffic may
    straddle a boundary; a datagram never does), else the latest."""
    out = {}
    seen = set()
    for m in sorted(records, key=lambda r: r["time_unix_nano"]):
        key = (m["name"], m["type"], tuple(sorted(m["labels"].items())))
        ival = (key, m["time_unix_nano"])
        assert ival not in seen, ("one record per series and interval", m)
        seen.add(ival)
        if key in out and m["type"] == "counter":
            out[key]["value"] += m["value"]
            out[key]["samples"] += m["samples"]
        else:
            out[key] = m
    return out


def check_prometheus(text):
    """The exposition file of test_statsd_udp_exact: families typed once,
    names sanitised, counter totals, gauges, set estimates, summaries."""
    lines = text.splitlines()
    types = [l for l in lines if l.startswith("# TYPE ")]
    assert len(types) == len(set(types)), types
    samples = dict(l.rsplit(" ", 1) for l in lines if not l.startswith("#"))
    want = {
        'api_hits_total{env="prod",host="web-1"}': "5",
        "api_hits_total": "4",
        "fuel": "13",
        "temp": "-4",
        "users": "2",
        'lat{quantile="0.99"}': "40",
        "lat_count": "5",
        "lat_sum": "140",
        'page_views_total{env="dev"}': "15",
    }
    for k, v in want.items():
        assert samples.get(k) == v, (k, v, samples.get(k), text)
    for t in ("# TYPE api_hits_total counter", "# TYPE fuel gauge", "# TYPE lat summary",
              "# TYPE size summary"):
        assert t in types, (t, types)


@test
def test_statsd_udp_exact():
    """Every type over UDP, several lines per datagram, bad lines counted by
    reason while the rest of their datagram is aggregated; one merged
    record per series, exact values."""
    tmp = tmpdir("sl-statsd-")
    bad = list(STATSD_BAD)
    # Two datagrams: good and bad lines interleaved, LF and CRLF.
    d1 = b"\n".join(STATSD_GOOD[:8] + bad[:3]) + b"\n"
    d2 = b"\r\n".join(bad[3:] + STATSD_GOOD[8:])
    frames = [pkt.udp_frame(d1, dport=8125), pkt.udp_frame(d2, dport=8125)]
    vdev, _ = pcap_vdev(tmp, frames)
    prom = os.path.join(tmp, "sluice.prom")
    cfg = base_cfg(metrics={"flush_interval_ms": 1000, "quantiles": ["0.5", "0.99"],
                            "prometheus_file": prom})
    cfg["listeners"] = [{"proto": "udp", "port": 8125, "format": "statsd"}]
    n = len(STATSD_GOOD) + len(bad)
    with Sluice(ARGS.sluice, cfg, [vdev], workdir=tmp, name="statsd") as s:
        wait_for(lambda: s.stats()["ledger"]["records"]["received"] >= n, 30, "lines")
        wait_for(lambda: s.stats()["metrics"]["intervals"] >= 2, 30, "two intervals sent")
        got = metrics_by_key(cat(ARGS.sluice_cat, s.bootstrap(), "sluice.metrics"))
        rc, fin = s.stop()
    assert rc == 0, s.output()
    w = fin["workers"][0]
    assert w["records"]["metrics"] == n and w["records"]["aggregated"] == len(STATSD_GOOD), w
    for line, reason in STATSD_BAD.items():
        assert w["records"]["dropped"].get(reason, 0) >= 1, (line, reason, w["records"])
    assert sum(w["records"]["dropped"].values()) == len(bad), w["records"]
    led = fin["ledger"]
    assert led["records"]["aggregated"] == len(STATSD_GOOD) and led["balanced"], led
    hits = got[("api.hits", "counter", (("env", "prod"), ("host", "web-1")))]
    assert hits["value"] == 5 and hits["samples"] == 3 and hits["source"] == "statsd", hits
    assert got[("api.hits", "counter", ())]["value"] == 4
    assert got[("fuel", "gauge", ())]["value"] == 13
    assert got[("temp", "gauge", ())]["value"] == -4
    assert got[("users", "set", ())]["value"] == 2
    lat = got[("lat", "timer", ())]
    assert lat["count"] == 5 and lat["sum"] == 140 and lat["min"] == 10 and lat["max"] == 40, lat
    assert set(lat["quantiles"]) == {"0.5", "0.99"}, lat
    assert abs(lat["quantiles"]["0.5"] - 30) <= 0.3 and lat["quantiles"]["0.99"] == 40, lat
    size = got[("size", "distribution", (("region", "eu"),))]
    assert size["count"] == 1 and abs(size["quantiles"]["0.5"] - 100) <= 1, size
    pv = got[("page.views", "counter", (("env", "dev"),))]
    assert pv["value"] == 15, pv
    statsd = [m for m in got.values() if m["source"] == "statsd"]
    assert len(statsd) == 8, sorted(got)
    check_prometheus(open(prom).read())
    assert fin["metrics"]["tables"] >= 1 and fin["metrics"]["merge_refused"] == 0, fin["metrics"]


@test
def test_statsd_limits_are_counted():
    """Past max_series_per_name and max_series, new series are dropped by
    reason; the series already in keep aggregating."""
    tmp = tmpdir("sl-statsd-lim-")
    lines = [b"req:1|c|#id:%d" % i for i in range(10)]          # one name, 10 series
    lines += [b"other%d:1|g" % i for i in range(30)]             # 30 names
    lines += [b"req:1|c|#id:0"] * 5                               # an admitted series
    frames = [pkt.udp_frame(b"\n".join(lines[i:i + 20]), dport=8125)
              for i in range(0, len(lines), 20)]
    vdev, _ = pcap_vdev(tmp, frames)
    cfg = base_cfg(metrics={"flush_interval_ms": 1000, "max_series": 16,
                            "max_series_per_name": 4},
                   templates={"enabled": False})
    cfg["listeners"] = [{"proto": "udp", "port": 8125, "format": "statsd"}]
    with Sluice(ARGS.sluice, cfg, [vdev], workdir=tmp, name="statsdlim") as s:
        wait_for(lambda: s.stats()["ledger"]["records"]["received"] >= len(lines), 30, "lines")
        wait_for(lambda: s.stats()["metrics"]["intervals"] >= 2, 30, "two intervals sent")
        got = metrics_by_key(cat(ARGS.sluice_cat, s.bootstrap(), "sluice.metrics"))
        rc, fin = s.stop()
    assert rc == 0, s.output()
    d = fin["workers"][0]["records"]["dropped"]
    assert d["metric_name_limit"] == 6, d
    assert d["metric_series_limit"] == 30 - 12, d
    assert fin["workers"][0]["records"]["aggregated"] == 4 + 12 + 5
    assert got[("req", "counter", (("id", "0"),))]["value"] == 6
    assert len(got) == 16 and fin["ledger"]["balanced"], (sorted(got), fin["ledger"])


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--sluice-cat", required=True)
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
            for d in TMPDIRS:
                log = os.path.join(d, "sluice.log")
                if os.path.exists(log):
                    print("--- %s" % log)
                    print(open(log).read()[-4000:])
        finally:
            for d in glob.glob("/var/run/dpdk/sl-*-%d" % os.getpid()):
                shutil.rmtree(d, ignore_errors=True)
            while TMPDIRS:
                shutil.rmtree(TMPDIRS.pop(), ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
