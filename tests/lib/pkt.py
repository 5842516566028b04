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
