#!/usr/bin/env python3
"""System tests: sluice on net_af_packet (qpairs=2, two workers) at one end
of a veth pair, real kernel clients in a network namespace at the other.

The namespace holds 10.88.0.1/24 and fd88::1/64; sluice answers for
10.88.0.2 and fd88::2. Everything created here (namespace, veth pair,
processes, temporary files) is removed at the end, also on failure.
Prints 'N passed, N failed'.
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

from sluice import Sluice, cat, wait_for  # noqa: E402

NS = "slsys%d" % os.getpid()
HOST_IF = "slh%d" % (os.getpid() % 100000)
NS_IF = "sln%d" % (os.getpid() % 100000)
ARGS = None


def sh(*cmd, check=True, ns=False):
    if ns:
        cmd = ("ip", "netns", "exec", NS) + cmd
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if check and r.returncode != 0:
        raise AssertionError("%s: %s" % (" ".join(cmd), r.stderr.strip()))
    return r


def setup_net():
    sh("ip", "netns", "add", NS)
    sh("ip", "link", "add", HOST_IF, "type", "veth", "peer", "name", NS_IF)
    sh("ip", "link", "set", NS_IF, "netns", NS)
    # The host end belongs to sluice alone: no addresses, no IPv6 chatter.
    sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % HOST_IF)
    sh("ip", "link", "set", HOST_IF, "up")
    sh("ip", "link", "set", "lo", "up", ns=True)
    sh("ip", "addr", "add", "10.88.0.1/24", "dev", NS_IF, ns=True)
    sh("ip", "-6", "addr", "add", "fd88::1/64", "dev", NS_IF, "nodad", ns=True)
    # veth hands AF_PACKET half-done checksums and unsegmented GSO super-
    # frames unless the sender does that work: a real wire carries whole
    # checksums and MTU-sized fragments.
    sh("ethtool", "-K", NS_IF, "tx", "off", "gso", "off", "tso", "off", ns=True)
    sh("ethtool", "-K", HOST_IF, "gro", "off")
    sh("ip", "link", "set", NS_IF, "up", ns=True)


def teardown_net():
    sh("ip", "netns", "del", NS, check=False)
    sh("ip", "link", "del", HOST_IF, check=False)


def ping_replies(*args):
    r = sh("ping", "-c", "3", "-i", "0.2", "-W", "2", *args, check=False, ns=True)
    return sum(1 for line in r.stdout.splitlines() if "bytes from" in line)


def send_udp(payload, family=socket.AF_INET, dst="10.88.0.2", port=514):
    code = ("import socket,sys; s=socket.socket(%d, socket.SOCK_DGRAM); "
            "s.sendto(sys.stdin.buffer.read(), ('%s', %d))" % (family, dst, port))
    r = subprocess.run(["ip", "netns", "exec", NS, "python3", "-c", code], input=payload,
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr


def test_kernel_clients():
    tmp = tempfile.mkdtemp(prefix="sl-sys-")
    try:
        cfg = {
            "node": {"name": "system"},
            # mbuf_size: see the vdev below.
            "ports": [{"device": "net_af_packet0", "ipv4": ["10.88.0.2/24"],
                       "ipv6": ["fd88::2/64"], "mbufs": 8191, "mbuf_size": 16384}],
            "listeners": [{"proto": "udp", "port": 514, "format": "syslog"}],
            "worker": {"idle_sleep_us": 50},
            "batch": {"max_delay_ms": 20, "pool_size": 16, "max_bytes": 65536},
        }
        # With qpairs > 1, DPDK joins an AF_PACKET fanout group with the
        # DEFRAG flag: the kernel reassembles IP fragments before the PMD
        # sees them, so frames must hold a whole datagram (on a real NIC
        # the fragments arrive one by one and sluice reassembles them;
        # the component tests cover that path).
        vdev = "net_af_packet0,iface=%s,qpairs=2,framesz=16384,blocksz=16384" % HOST_IF
        with Sluice(ARGS.sluice, cfg, [vdev], lcores="0@0,1@1,2@1", workdir=tmp,
                    name="sys") as s:
            v4 = ping_replies("10.88.0.2")
            v6 = ping_replies("-6", "fd88::2")
            assert v4 == 3, "IPv4 ping: %d/3 replies" % v4
            assert v6 == 3, "IPv6 ping: %d/3 replies" % v6
            for i in range(5):
                sh("logger", "-n", "10.88.0.2", "-P", "514", "-d", "--rfc5424",
                   "-t", "systest", "logger line %d" % i, ns=True)
            # 9000 bytes at MTU 1500: the kernel sends 7 fragments.
            big = b"".join(b"<14>Nov 24 10:00:00 ns big: fragment line %04d\n" % i
                           for i in range(200))
            send_udp(big)
            send_udp(b"<13>over ipv6 from the kernel", socket.AF_INET6, "fd88::2")
            want = 5 + big.count(b"\n") + 1
            try:
                wait_for(lambda: s.stats()["ledger"]["records"]["exported"] >= want, 30,
                         "%d records exported" % want)
            except AssertionError:
                print(json.dumps(s.stats()["workers"], indent=1))
                raise
            recs = cat(ARGS.sluice_cat, s.bootstrap(), "sluice.logs")
            rc, fin = s.stop()
        assert rc == 0, s.output()
        assert len(recs) == want, (len(recs), want)
        bodies = [r["body"] for r in recs]
        for i in range(5):
            assert "logger line %d" % i in bodies, bodies
        assert sum(1 for b in bodies if b.startswith("fragment line")) == big.count(b"\n")
        assert "over ipv6 from the kernel" in bodies
        ws = fin["workers"]
        assert sum(w["records"]["received"] for w in ws) == want, ws
        assert fin["ledger"]["balanced"] and fin["ledger"]["records"]["exported"] == want
        # Echo replies at least: 3 + 3, plus ARP and neighbour answers.
        assert sum(w["packets"]["answered"] for w in ws) >= 8, ws
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


TESTS = [test_kernel_clients]


def run_tests(tests, only=None):
    """Runs each test (whose name holds `only`, when given) between a
    fresh namespace and veth pair and their removal; prints PASS/FAIL per
    test and 'N passed, N failed'. Returns the exit status: 0, 1 when a
    test failed, 77 (skipped) without root. Shared by the system tests."""
    if os.geteuid() != 0:
        print("system tests need root (network namespaces); 0 passed, 0 failed")
        return 77
    passed = failed = 0
    for t in tests:
        if only and only not in t.__name__:
            continue
        t0 = time.monotonic()
        try:
            setup_net()
            t()
            passed += 1
            print("PASS %s (%.1fs)" % (t.__name__, time.monotonic() - t0), flush=True)
        except Exception:
            failed += 1
            print("FAIL %s (%.1fs)" % (t.__name__, time.monotonic() - t0), flush=True)
            traceback.print_exc()
        finally:
            teardown_net()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--sluice-cat", required=True)
    ARGS = ap.parse_args()
    return run_tests(TESTS)


if __name__ == "__main__":
    sys.exit(main())
