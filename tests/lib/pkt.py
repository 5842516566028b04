"""Packet builders and pcap files for sluice's component tests.

Frames are built byte by byte with correct checksums unless a test asks
for a broken one; nothing here needs scapy.
"""
import struct

PCAP_MAGIC = 0xA1B2C3D4
BROADCAST = b"\xff" * 6
PEER_MAC = bytes.fromhex("020000000001")


def mac(s):
    return bytes.fromhex(s.replace(":", ""))


def ip4(s):
    return bytes(int(x) for x in s.split("."))


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def eth(dst, src, ethertype, payload, vlans=()):
    hdr = dst + src
    for tpid, vid in vlans:
        hdr += struct.pack("!HH", tpid, vid)
    return hdr + struct.pack("!H", ethertype) + payload


def ipv4(src, dst, proto, payload, ttl=64, frag=0, ident=1, options=b"",
         bad_csum=False, total_len=None, version=4, ihl=None):
    ihl = ihl if ihl is not None else 5 + len(options) // 4
    tl = total_len if total_len is not None else 20 + len(options) + len(payload)
    hdr = struct.pack("!BBHHHBBH4s4s", (version << 4) | ihl, 0, tl, ident, frag,
                      ttl, proto, 0, ip4(src), ip4(dst)) + options
    c = csum(hdr)
    if bad_csum:
        c ^= 0x5555
    return hdr[:10] + struct.pack("!H", c) + hdr[12:] + payload


def udp(src, dst, sport, dport, payload, bad_csum=False, zero_csum=False,
        length=None):
    ulen = length if length is not None else 8 + len(payload)
    hdr = struct.pack("!HHHH", sport, dport, ulen, 0)
    if zero_csum:
        return hdr + payload
    ph = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 17, ulen)
    c = csum(ph + hdr + payload) or 0xFFFF
    if bad_csum:
        c ^= 0x00FF
    return hdr[:6] + struct.pack("!H", c) + payload


def udp_frame(payload, src="10.0.0.1", dst="10.0.0.2", sport=40000, dport=514,
              dst_mac=BROADCAST, **kw):
    ukw = {k: kw.pop(k) for k in ("bad_csum", "zero_csum", "length") if k in kw}
    u = udp(src, dst, sport, dport, payload, **ukw)
    return eth(dst_mac, PEER_MAC, 0x0800, ipv4(src, dst, 17, u, **kw))


def arp_request(target, sender="10.0.0.1", sender_mac=PEER_MAC, op=1):
    body = struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + sender_mac + ip4(sender) \
        + b"\0" * 6 + ip4(target)
    return eth(BROADCAST, sender_mac, 0x0806, body)


def icmp_echo(dst, src="10.0.0.1", dst_mac=BROADCAST, ident=7, seq=1,
              data=b"sluice-ping", bad_csum=False):
    hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + data
    c = csum(hdr) ^ (0x1234 if bad_csum else 0)
    icmp = hdr[:2] + struct.pack("!H", c) + hdr[4:]
    return eth(dst_mac, PEER_MAC, 0x0800, ipv4(src, dst, 1, icmp))


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", PCAP_MAGIC, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + i, 0, len(fr), len(fr)))
            f.write(fr)


def read_pcap(path):
    frames = []
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return frames
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        frames.append(data[off:off + incl])
        off += incl
    return frames


# --- IPv6 ------------------------------------------------------------------

def ip6(s):
    import ipaddress
    return ipaddress.IPv6Address(s).packed


def solicited_node(addr):
    a = ip6(addr)
    return ip6("ff02::1:ff00:0")[:13] + a[13:]


def mcast_mac(a6):
    return b"\x33\x33" + a6[12:]


def phdr6(src, dst, length, proto):
    return src + dst + struct.pack("!IxxxB", length, proto)


def ipv6(src, dst, nh, payload, hlim=64, ext=b""):
    """ext: raw extension headers already chained; nh is the first one."""
    return struct.pack("!IHBB", 6 << 28, len(ext) + len(payload), nh, hlim) + \
        ip6(src) + ip6(dst) + ext + payload


def udp6(src, dst, sport, dport, payload, zero_csum=False):
    ulen = 8 + len(payload)
    hdr = struct.pack("!HHHH", sport, dport, ulen, 0)
    if zero_csum:
        return hdr + payload
    c = csum(phdr6(ip6(src), ip6(dst), ulen, 17) + hdr + payload) or 0xFFFF
    return hdr[:6] + struct.pack("!H", c) + payload


def icmp6(src, dst, body):
    c = csum(phdr6(ip6(src), ip6(dst), len(body), 58) + body)
    return body[:2] + struct.pack("!H", c) + body[4:]


def udp6_frame(payload, src="fd00::1", dst="fd00::2", sport=40000, dport=514,
               dst_mac=BROADCAST, ext=b"", ext_nh=None, **kw):
    u = udp6(src, dst, sport, dport, payload, **kw)
    nh = ext_nh if ext else 17
    return eth(dst_mac, PEER_MAC, 0x86DD, ipv6(src, dst, nh, u, ext=ext))


def neighbor_solicit(target, src="fe80::1", src_mac=PEER_MAC):
    t = ip6(target)
    dst = solicited_node(target)
    body = struct.pack("!BBHI", 135, 0, 0, 0) + t + struct.pack("!BB", 1, 1) + src_mac
    dst_s = str(__import__("ipaddress").IPv6Address(dst))
    return eth(mcast_mac(dst), src_mac, 0x86DD,
               ipv6(src, dst_s, 58, icmp6(src, dst_s, body), hlim=255))


def echo6(dst, src="fd00::1", dst_mac=BROADCAST, seq=1, data=b"sluice-ping6"):
    body = struct.pack("!BBHHH", 128, 0, 0, 7, seq) + data
    return eth(dst_mac, PEER_MAC, 0x86DD, ipv6(src, dst, 58, icmp6(src, dst, body)))


# --- fragments ---------------------------------------------------------------

def ipv4_fragments(payload, src="10.0.0.1", dst="10.0.0.2", proto=17, ident=99, mtu=1500,
                   dst_mac=BROADCAST, overlap=0):
    """Splits an IPv4 payload (e.g. a UDP datagram) into fragment frames."""
    step = (mtu - 20) // 8 * 8
    out, off = [], 0
    while off < len(payload):
        chunk = payload[off:off + step]
        more = off + step < len(payload)
        flags = (0x2000 if more else 0) | (off // 8)
        out.append(eth(dst_mac, PEER_MAC, 0x0800,
                       ipv4(src, dst, proto, chunk, frag=flags, ident=ident)))
        off += step - overlap
    return out


def ipv6_fragments(payload, src="fd00::1", dst="fd00::2", nh=17, ident=77, mtu=1500,
                   dst_mac=BROADCAST):
    step = (mtu - 40 - 8) // 8 * 8
    out, off = [], 0
    while off < len(payload):
        chunk = payload[off:off + step]
        more = 1 if off + step < len(payload) else 0
        fh = struct.pack("!BBHI", nh, 0, off | more, ident)
        out.append(eth(dst_mac, PEER_MAC, 0x86DD, ipv6(src, dst, 44, chunk, ext=fh)))
        off += step
    return out
