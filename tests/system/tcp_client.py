#!/usr/bin/env python3
"""A TCP log sender for the system tests, run by tcp.py inside the network
namespace: the Linux kernel's TCP is the client under test.

Opens --conns connections to HOST:PORT at once and sends lines on each:

    c=CC s=SSSSSSS <padding>\\n

CC the connection number, SSSSSSS the line's sequence number on it, the
padding of a length drawn from a generator seeded by (--seed, CC), so a
run is the same every time and segment boundaries fall everywhere. Each
connection sends --bytes bytes (whole lines: it stops at the first line
that reaches the count), or, with --stop-file, until that file exists.
--rate bounds the lines per second of each connection.

Then each connection shuts down its sending side, reads until the peer
closes, and the sender prints one JSON object: per connection the lines
and bytes sent and the sha256 of the bytes of its lines without their LF,
each followed by one LF (what the records' bodies give back).
With --progress FILE it rewrites FILE every 50 ms with
{"handed": bytes given to the sockets, "acked": bytes the peer acknowledged
(TCP_INFO tcpi_bytes_acked)}.
"""
import argparse
import hashlib
import json
import os
import random
import socket
import struct
import threading
import time

# struct tcp_info: 8 one-byte fields, 24 u32, then u64 pacing_rate,
# max_pacing_rate, bytes_acked.
TCPI_BYTES_ACKED = 8 + 24 * 4 + 2 * 8
PAD = b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def lines(conn, seed):
    rng = random.Random(seed * 1000 + conn)
    seq = 0
    while True:
        n = rng.randrange(8, 400)
        pad = (PAD * (n // len(PAD) + 1))[:n]
        yield b"c=%02d s=%07d %s" % (conn, seq, pad)
        seq += 1


def acked(sock):
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
        return struct.unpack_from("Q", info, TCPI_BYTES_ACKED)[0] - 1  # the SYN
    except OSError:
        return 0


class Conn(threading.Thread):
    def __init__(self, args, n):
        super().__init__(daemon=True)
        self.args, self.n = args, n
        self.sock = None
        self.handed = 0
        self.lines = 0
        self.digest = hashlib.sha256()
        self.error = None
        self.final_acked = 0

    def run(self):
        try:
            self.send()
        except Exception as e:  # reported in the JSON, the test fails on it
            self.error = "%s: %s" % (type(e).__name__, e)

    def send(self):
        a = self.args
        self.sock = socket.create_connection((a.host, a.port), timeout=120)
        gen = lines(self.n, a.seed)
        t0 = time.monotonic()
        chunk = []
        while True:
            if a.stop_file and os.path.exists(a.stop_file):
                break
            if a.bytes and self.handed >= a.bytes:
                break
            if a.rate:
                ahead = self.lines - (time.monotonic() - t0) * a.rate
                if ahead > 0:
                    time.sleep(min(ahead / a.rate, 0.05))
                    continue
            # Up to 64 lines per send: the kernel decides the segments.
            for _ in range(64 if not a.rate else max(1, min(64, a.rate // 100))):
                line = next(gen)
                chunk.append(line + b"\n")
                self.digest.update(line + b"\n")
                self.lines += 1
                self.handed += len(line) + 1
                if a.bytes and self.handed >= a.bytes:
                    break
            self.sock.sendall(b"".join(chunk))
            chunk.clear()
        self.sock.shutdown(socket.SHUT_WR)
        while self.sock.recv(4096):
            pass
        self.final_acked = acked(self.sock)
        self.sock.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="10.88.0.2")
    ap.add_argument("--port", type=int, default=601)
    ap.add_argument("--conns", type=int, default=1)
    ap.add_argument("--bytes", type=int, default=0)
    ap.add_argument("--stop-file")
    ap.add_argument("--rate", type=int, default=0, help="lines/s per connection")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--progress")
    a = ap.parse_args()
    conns = [Conn(a, n) for n in range(a.conns)]
    for c in conns:
        c.start()

    def progress():
        ack = sum(acked(c.sock) if c.sock and c.is_alive() else c.final_acked
                  for c in conns)
        tmp = a.progress + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"handed": sum(c.handed for c in conns), "acked": ack,
                       "time": time.monotonic()}, f)
        os.replace(tmp, a.progress)

    while any(c.is_alive() for c in conns):
        if a.progress:
            progress()
        time.sleep(0.05)
    if a.progress:
        progress()
    print(json.dumps({"conns": [{"conn": c.n, "lines": c.lines, "bytes": c.handed,
                                 "sha256": c.digest.hexdigest(), "error": c.error}
                                for c in conns]}))


if __name__ == "__main__":
    main()
