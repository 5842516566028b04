#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>).

Frames match fuzz_decode.c's port: MAC 02:00:00:00:00:02, 10.0.0.2/24,
2001:db8::2/64, UDP listeners 514 and 1514. Checksums are correct, so each
seed reaches the end of its path. Run again after changing a builder:
    python3 tests/fuzz/make_seeds.py
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import pkt  # noqa: E402

OUR_MAC = pkt.mac("02:00:00:00:00:02")
OUR6 = bytes.fromhex("20010db8000000000000000000000002")
PEER6 = bytes.fromhex("20010db8000000000000000000000001")
SYSLOG = b"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed"


def ipv6(src, dst, nh, payload, hlim=64):
    return struct.pack("!IHBB", 6 << 28, len(payload), nh, hlim) + src + dst + payload


def l4csum6(src, dst, nh, l4):
    return pkt.csum(src + dst + struct.pack("!IxxxB", len(l4), nh) + l4)


def udp6(sport, dport, payload, src=PEER6, dst=OUR6):
    hdr = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
    c = l4csum6(src, dst, 17, hdr + payload) or 0xFFFF
    return hdr[:6] + struct.pack("!H", c) + payload


def icmp6(typ, code, body, src=PEER6, dst=OUR6):
    msg = struct.pack("!BBH", typ, code, 0) + body
    c = l4csum6(src, dst, 58, msg)
    return msg[:2] + struct.pack("!H", c) + msg[4:]


def eth6(dst_mac, ip6):
    return pkt.eth(dst_mac, pkt.PEER_MAC, 0x86DD, ip6)


def frames():
    u = pkt.udp("10.0.0.1", "10.0.0.2", 40000, 514, SYSLOG)
    sn = bytes.fromhex("ff0200000000000000000001ff000002")   # solicited-node of ::2
    ns = icmp6(135, 0, b"\0" * 4 + OUR6 + b"\x01\x01" + pkt.PEER_MAC, dst=sn)
    frag6 = struct.pack("!BBHI", 17, 0, 1, 0x1234) + udp6(40000, 514, SYSLOG)[:24]
    return {
        "udp_syslog_bcast": pkt.udp_frame(SYSLOG),
        "udp_syslog_unicast": pkt.udp_frame(SYSLOG, dst_mac=OUR_MAC),
        "udp_1514_zero_csum": pkt.udp_frame(SYSLOG, dport=1514, zero_csum=True),
        "udp_ip_options": pkt.udp_frame(SYSLOG, options=b"\x01\x01\x01\x00"),
        "udp_no_listener": pkt.udp_frame(b"x", dport=9999),
        "udp_vlan": pkt.eth(OUR_MAC, pkt.PEER_MAC, 0x0800,
                            pkt.ipv4("10.0.0.1", "10.0.0.2", 17, u), vlans=[(0x8100, 100)]),
        "udp_qinq": pkt.eth(OUR_MAC, pkt.PEER_MAC, 0x0800,
                            pkt.ipv4("10.0.0.1", "10.0.0.2", 17, u),
                            vlans=[(0x88A8, 10), (0x8100, 100)]),
        "udp_ipv4_first_fragment": pkt.eth(OUR_MAC, pkt.PEER_MAC, 0x0800,
                                           pkt.ipv4("10.0.0.1", "10.0.0.2", 17, u[:48],
                                                    frag=0x2000)),
        "arp_request": pkt.arp_request("10.0.0.2"),
        "icmp_echo": pkt.icmp_echo("10.0.0.2", dst_mac=OUR_MAC),
        "tcp_syn": pkt.eth(OUR_MAC, pkt.PEER_MAC, 0x0800,
                           pkt.ipv4("10.0.0.1", "10.0.0.2", 6,
                                    struct.pack("!HHIIBBHHH", 40000, 601, 1, 0, 0x50,
                                                0x02, 65535, 0, 0))),
        "udp6_syslog": eth6(OUR_MAC, ipv6(PEER6, OUR6, 17, udp6(40000, 514, SYSLOG))),
        "icmp6_echo": eth6(OUR_MAC, ipv6(PEER6, OUR6, 58, icmp6(128, 0, b"\0\x07\0\x01ping"))),
        "icmp6_ns": eth6(pkt.mac("33:33:ff:00:00:02"), ipv6(PEER6, sn, 58, ns, hlim=255)),
        "udp6_first_fragment": eth6(OUR_MAC, ipv6(PEER6, OUR6, 44, frag6)),
    }


RECORDS = {
    "rfc5424_sd_bom": b"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
                      b"[exampleSDID@32473 iut=\"3\" eventSource=\"Application\"] "
                      b"\xef\xbb\xbfAn application event log entry...",
    "rfc5424_nil": b"<34>1 - - - - - -",
    "rfc5424_frac_offset": b"<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - "
                           b"%% It's time to make the do-nuts.",
    "rfc3164_pid": b"<13>Oct 11 22:14:15 mymachine sshd[4721]: Failed password for root",
    "rfc3164_notag": b"<189>Feb  5 17:32:18 10.0.0.99 Use the BFG!",
    "rfc3164_rfc3339": b"<30>2024-10-11T22:14:15.123456+02:00 host app: started",
    "no_pri": b"just a line with no header",
    "bad_utf8_controls": b"<14>1 2024-01-01T00:00:00Z h a p m - \xc3\x28 \xed\xa0\x80 \x01\x1f\t\"\\ \xf4\x90\x80\x80",
}


# Plain lines (fuzz_plain tries every seed as both plain and access).
PLAIN = {
    "plain_iso_z": b"2024-05-01T12:00:00.123Z ERROR something broke",
    "plain_hadoop": b"2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app."
                    b"MRAppMaster: Created MRAppMaster for application appattempt_1445144423722_0020_000001",
    "plain_zookeeper": b"2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:"
                       b"FastLeaderElection@774] - Notification time out: 3200",
    "plain_thread_offset": b"[2024-05-01 12:00:00,123456+05:30] [worker-1] [WARNING]: disk 91% trace_id=ab12",
    "plain_loguru": b"2024-05-01 12:00:00.123 | DEBUG    | app:main:12 - hello",
    "plain_level_only": b"[crit] \xc3\xa9\x00\x01 bad utf8 \xff",
    "plain_bad_date": b"2023-02-29T24:00:00+24:00 ERROR",
    "access_combined": b"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif?a=1 HTTP/1.0\" "
                       b"200 2326 \"http://www.example.com/start.html\" \"Mozilla/4.08 [en] (Win98; I ;Nav)\"",
    "access_common_dash": b"2001:db8::1 - - [29/Feb/2024:23:59:59 +1400] \"POST /api HTTP/2.0\" 503 -",
    "access_tls_probe": b"10.0.0.7 - - [01/Jan/2024:00:00:00 +0000] \"\\x16\\x03\\x01\\x00\" 400 157 \"-\" \"-\" 0.001",
    "access_escaped_quote": b"h - u [10/Oct/2000:13:55:36 -0700] \"GET /a\\\"b\" 404 9999999999999999999",
}


# fuzz_statsd: one datagram of LF-separated lines per seed.
STATSD = {
    "statsd_types": b"hits:1|c\ntemp:-2.5|g\ntemp:+1|g\nlat:320|ms\nsize:1e3|h\ndist:0.25|d\nu:user-42|s\n",
    "statsd_rate_multi": b"api.latency:12.5:13:1e1|ms|@0.25\nc:3|c|@.1\n",
    "statsd_tags_unsorted": b"api.hits:1|c|#role:db:primary,host:web-1,az,env:prod\r\n",
    "statsd_tags_dup": b"m:1|c|#env:a,host:h,env:b,a:,env\n",
    "statsd_dogstatsd": (b"page.views:1|c|#env:dev|c:83c0a99c0a54c0c187f461c7980e9b57f3f6a8b0c918c8d93df19a9de6f3fe1d\n"
                         b"example_metric.increment:1|c|#environment:dev,account:local|T1656581400\n"
                         b"m:1|d|e:it-false,cn-x|#a:b|card:high\n"),
    "statsd_events": (b"_e{21,36}:An exception occurred|Cannot parse CSV file from 10.0.0.17|t:warning\n"
                      b"_sc|Redis connection|2|#env:dev|m:timed out\n"),
    "statsd_malformed": (b"a:1\na:|c\n:1|c\na:1|x\na:nan|g\na:1|c|@2\na:1|c|#,\na:1|c||\n"
                         b"a:1|c|T12345678901\na:0x10|c\n"),
    "statsd_numbers": b"n:123456789012345678901234|c\nn:4.9e-324|g\nn:1e23|d\nn:00.000001e+5|ms\n",
    "statsd_many_tags": b"m:1|c|#" + b",".join(b"t%d:%d" % (63 - i, i) for i in range(64)) + b"\n",
    "statsd_many_values": b"v" + b"".join(b":%d" % i for i in range(64)) + b"|ms\n",
}


# fuzz_framer: byte 0 picks the listener format, the rest is one datagram.
FRAMER_FORMATS = {"syslog": 0, "jsonl": 1, "plain": 2, "access": 3}
FRAMER_LINES = {
    "syslog": [SYSLOG, RECORDS["rfc3164_pid"], RECORDS["rfc5424_sd_bom"]],
    "jsonl": [b'{"time":"2024-05-01T12:00:00Z","level":"error","service":"api","msg":"boom",'
              b'"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","user":{"id":7, "tags":["a", "b"]}}',
              b'{"ts":1714564800123,"severity":3,"message":"x","sluice.truncated":true}',
              b'{"msg":"not closed"'],
    "plain": [PLAIN["plain_iso_z"], PLAIN["plain_hadoop"], PLAIN["plain_level_only"]],
    "access": [PLAIN["access_combined"], PLAIN["access_common_dash"], PLAIN["access_tls_probe"]],
}


def framer():
    """Per format: several lines, CRLF, NUL padding, empty lines, a record
    over worker.max_record_bytes (256) and one datagram in fragments."""
    out = {}
    for fmt, lines in FRAMER_LINES.items():
        f = bytes([FRAMER_FORMATS[fmt]])
        a, b, c = lines
        long = a + b" " + b"x" * (300 - len(a)) if len(a) < 300 else a
        out[fmt + "_multi_lf"] = f + a + b"\n" + b + b"\n" + c + b"\n"
        out[fmt + "_crlf_no_final_lf"] = f + a + b"\r\n" + b + b"\r\n" + c
        out[fmt + "_nul_padded"] = f + a + b"\n" + b + b"\0" * 16
        out[fmt + "_empty_lines"] = f + b"\n\r\n" + a + b"\n\n\0\r\n" + b + b"\n\n"
        out[fmt + "_overlong"] = f + long + b"\n" + long[:256] + b"\r\n" + long[:257] + b"\0\n" + long[:256] + b"\0\r\0\n" + a
        out[fmt + "_fragmented"] = f + b"\n".join([a, b, c] * (3000 // len(a + b + c) + 1))
    # Keys that decode to sluice's own must be dropped like the plain ones.
    out["jsonl_regress_escaped_own_keys"] = (
        b'\x01{"msg":"a","sluice\\u002etruncated":true,"sluice\\u002Eparse_error":true,'
        b'"net\\u002epeer.ip":"192.0.2.1","n\\u0065t.peer.port":1,"ne\\tx":0}\n')
    return out


# fuzz_framer_stream: byte 0 the mode, byte 1 max, byte 2 the number of
# cuts k, then k 16-bit cut positions, then the stream.
STREAM_MODES = {"auto": 0, "lf": 1, "octet": 2}


def stream_input(mode, max_sel, cuts, stream):
    return (bytes([STREAM_MODES[mode], max_sel, len(cuts)])
            + b"".join(struct.pack("!H", c) for c in cuts) + stream)


def octet(*msgs):
    return b"".join(b"%d %s" % (len(m), m) for m in msgs)


def framer_stream():
    """Per mode: RFC 5424/3164 records framed both ways, CR/NUL endings,
    empty lines, frames around max (byte 1 = 7: max 8), counts split
    anywhere, octet errors, a stream cut inside a frame, Loghub-like
    plain and access lines that start with digits."""
    ex1 = FRAMER_LINES["syslog"][0]
    rec = [SYSLOG, RECORDS["rfc3164_pid"], RECORDS["rfc5424_sd_bom"]]
    lf = b"\n".join(rec) + b"\n"
    oc = octet(*rec)
    plain = PLAIN["plain_hadoop"] + b"\n" + PLAIN["access_combined"] + b"\n"
    cuts = [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233]
    out = {}
    for mode in STREAM_MODES:
        out[mode + "_lf_records"] = stream_input(mode, 255, cuts, lf)
        out[mode + "_octet_records"] = stream_input(mode, 255, cuts, oc)
        out[mode + "_crlf_nul_empty"] = stream_input(
            mode, 63, [4, 9], b"a\r\nb\0\0\n\n\r\n" + ex1 + b"\r\nend")
        out[mode + "_around_max"] = stream_input(
            mode, 7, [3, 9, 20],
            b"abcdefg\nabcdefgh\nabcdefghi\nabcdefgh\r\r\nabcdefgh\rX\n"
            + octet(b"abcdefg", b"abcdefgh", b"abcdefghi", b"abcdefgh\n", b"abcdefgh\nX"))
        out[mode + "_cut_in_frame"] = stream_input(mode, 7, [2], b"25 abcdefghij")
        out[mode + "_plain_access"] = stream_input(mode, 255, [10, 700], plain)
    out["octet_errors"] = stream_input("octet", 63, [], b"2 ok05 hello")
    out["octet_no_space"] = stream_input("octet", 63, [3], b"3 abc5hello")
    out["octet_huge"] = stream_input("octet", 63, [], b"1048577 x")
    out["octet_max_count"] = stream_input("octet", 1, [4, 8], b"1048576 " + b"x" * 300)
    out["auto_mixed"] = stream_input(
        "auto", 63, [1, 7, 15], b"5 hello<13>x\n3 abc2015-10-18 INFO x\n0 zero\n"
        b"12345678 big\n7\n4 a\nb\n{\"a\":1}\n1 z12 ")
    return out


# fuzz_tcp: an 8-byte header (SYN options of the first handshake, the
# peers on IPv6, those behind a VLAN tag, the ISN base, the room), then
# 8-byte descriptors (fuzz_tcp.c has the layout).
ACK, PSH, FIN, RST, SYN = 0x10, 0x08, 0x01, 0x04, 0x02
SEQ_NEXT, SEQ_NEXT_DELTA, SEQ_ACKED_DELTA = 0, 1, 2


def tcp_header(syn_kind=4, v6=0, vlan=0, isn=0x10000000, room=0):
    return bytes([syn_kind, v6, vlan]) + struct.pack("!I", isn) + bytes([room])


def tcp_seg(flags=ACK, peer=0, seq_mode=SEQ_NEXT, delta=0, ack_mode=0, length=0,
            payload=None, closed=False, ts=False, op=0, variant=0, wnd=0xff):
    inline = payload is not None
    if inline:
        assert len(payload) < 64
        length = len(payload)
    d = bytes([op << 5 | variant << 3 | peer, flags ^ ACK]) + struct.pack("!h", delta)
    d += bytes([seq_mode | ack_mode << 3 | closed << 5 | ts << 6 | inline << 7])
    d += struct.pack("!H", length) + bytes([wnd])
    return d + (payload or b"")


def tcp_tick(ms, seconds=False):
    return bytes([5 << 5, 1 if seconds else 0]) + struct.pack("!H", ms) + b"\0" * 4


def tcp_control(what, peer=0, arg=0):
    return bytes([6 << 5 | peer, what]) + struct.pack("!H", arg) + b"\0" * 4


def tcp():
    """A clean in-order stream, reordering, a FIN, a RST, a zero window,
    and IPv6 behind a VLAN tag with a second connection."""
    lines = [b"<134>Oct 11 22:14:15 web-01 nginx[1]: GET /%d 200\n" % i for i in range(6)]
    clean = tcp_header() + b"".join(tcp_seg(ACK | PSH, payload=l) for l in lines)
    clean += tcp_seg(length=1460) + tcp_seg(length=1460) + tcp_tick(50)
    reorder = (tcp_header(syn_kind=2) + tcp_seg(seq_mode=SEQ_NEXT_DELTA, delta=100, length=200)
               + tcp_seg(seq_mode=SEQ_NEXT_DELTA, delta=400, length=100)
               + tcp_seg(length=100) + tcp_seg(seq_mode=SEQ_ACKED_DELTA, length=700)
               + tcp_seg(seq_mode=SEQ_ACKED_DELTA, delta=-50, length=80))
    fin = (tcp_header(syn_kind=1) + tcp_seg(ACK | PSH, payload=lines[0])
           + tcp_seg(ACK | FIN, payload=lines[1]) + tcp_seg() + tcp_tick(250))
    rst = (tcp_header(syn_kind=3) + tcp_seg(seq_mode=SEQ_NEXT_DELTA, delta=10, length=20)
           + tcp_seg(RST, seq_mode=SEQ_ACKED_DELTA, delta=5) + tcp_seg(RST, seq_mode=SEQ_ACKED_DELTA))
    zero = (tcp_header(syn_kind=0) + tcp_control(1) + tcp_seg(length=300)
            + tcp_seg(length=1) + tcp_tick(10) + tcp_control(0) + tcp_tick(10)
            + tcp_seg(seq_mode=SEQ_ACKED_DELTA, length=300) + tcp_control(2)
            + tcp_seg(length=10))
    v6 = (tcp_header(syn_kind=4, v6=0x03, vlan=0x02) + tcp_seg(payload=lines[2])
          + tcp_control(5, peer=1, arg=4) + tcp_seg(peer=1, payload=lines[3])
          + tcp_seg(peer=1, length=1440) + tcp_seg(peer=1, flags=ACK | FIN)
          + tcp_seg(peer=4, flags=SYN) + tcp_seg(peer=0, closed=True, length=10)
          + tcp_tick(31, seconds=True))
    # Found by fuzz_tcp: a reset without options memcpy'd from NULL (UB);
    # a FIN taken after held data past it, acknowledged beyond the stream.
    rst_no_opts = (tcp_header(syn_kind=0) + tcp_seg(peer=5, ack_mode=3)
                   + tcp_seg(closed=True, flags=SYN) + tcp_seg(RST, seq_mode=SEQ_ACKED_DELTA))
    fin_past_held = (tcp_header(syn_kind=4) + tcp_seg(seq_mode=SEQ_NEXT_DELTA, delta=800, length=511)
                     + tcp_seg(ACK | FIN, seq_mode=SEQ_ACKED_DELTA, length=984) + tcp_seg())
    return {"clean_in_order": clean, "reorder": reorder, "fin": fin, "rst": rst,
            "zero_window": zero, "ipv6_vlan_two_conns": v6,
            "regress_rst_without_options": rst_no_opts,
            "regress_fin_before_held_data": fin_past_held}


def write(target, items):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name, data in items.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    write("decode", frames())
    write("syslog", RECORDS)
    write("ndjson", RECORDS)
    write("plain", PLAIN)
    write("framer", framer())
    write("framer_stream", framer_stream())
    write("tcp", tcp())
    write("statsd", STATSD)
