#!/usr/bin/env python3
"""make demo: sluice on the embedded default, fed by the kernel.

Starts sluice with config/demo.yaml on a net_tap port (the kernel side is
the interface sldemo0, 10.77.0.1/24; sluice answers on 10.77.0.2), sends
several seconds of syslog made from the Loghub samples (or a generated
sample when they are absent) from a kernel UDP socket, plus a few lines from
`logger` and a ping; reads the records back from the embedded Kafka with
sluice-cat, stops sluice with SIGTERM and prints what happened.

Everything it starts or creates is removed on exit, on failure and on
Ctrl-C.
"""
import argparse
import glob
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOGHUB = os.path.join(ROOT, "..", "shared", "data", "loghub")
IFACE = "sldemo0"
HOST_IP = "10.77.0.1"
SLUICE_IP = "10.77.0.2"
PREFIX = "sluice-demo"
CONFIG = os.path.join(ROOT, "config", "demo.yaml")
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def log(msg):
    print("demo: " + msg, flush=True)


def empty_spool():
    # The demo's embedded cluster starts empty each time: a spool an
    # earlier demo left would be replayed into it and counted twice.
    shutil.rmtree("/tmp/sluice-demo-spool", ignore_errors=True)


def stats_path():
    # The one key the demo needs from its config; the rest is sluice's.
    with open(CONFIG) as f:
        section = None
        for line in f:
            s = line.split("#")[0].rstrip()
            if s and not s.startswith(" "):
                section = s.rstrip(":")
            elif section == "stats" and s.strip().startswith("file:"):
                return s.split(":", 1)[1].strip()
    raise SystemExit("demo: stats.file not found in " + CONFIG)


def corpus():
    """(app, severity, line) from the Loghub samples, else generated."""
    out = []
    for path in sorted(glob.glob(os.path.join(LOGHUB, "*", "*_2k.log"))):
        app = os.path.basename(os.path.dirname(path)).lower()
        with open(path, errors="replace") as f:
            for line in f:
                line = line.rstrip("\n")
                if not line:
                    continue
                low = line.lower()
                sev = 3 if ("error" in low or "fatal" in low or "exception" in low) else \
                    4 if "warn" in low else 6
                out.append((app, sev, line))
    if out:
        return out, "Loghub samples (%d lines, %d data sets)" % (
            len(out), len(glob.glob(os.path.join(LOGHUB, "*", "*_2k.log"))))
    rnd = random.Random(7)
    for i in range(4000):
        sev = rnd.choice([6, 6, 6, 4, 3])
        out.append(("checkout", sev, "order %d for user %d took %d ms%s" % (
            i, rnd.randrange(10000), rnd.randrange(900),
            " error: connection refused" if sev == 3 else "")))
    return out, "a generated sample (Loghub not found at %s)" % LOGHUB


def frame(i, app, sev, line):
    t = time.gmtime()
    if i % 2:
        return ("<%d>%s %2d %02d:%02d:%02d node-%d %s[%d]: %s" % (
            8 + sev, MONTHS[t.tm_mon - 1], t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
            i % 5, app, 1000 + i % 50, line)).encode()
    return ("<%d>1 %s node-%d %s %d - - %s" % (
        8 + sev, time.strftime("%Y-%m-%dT%H:%M:%S.000Z", t), i % 5, app,
        1000 + i % 50, line)).encode()


def send_traffic(lines, seconds, rate):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    sent = nbytes = 0
    t0 = time.monotonic()
    i = 0
    while time.monotonic() - t0 < seconds:
        # Paced in slices of 1 ms so the tap queue is never flooded.
        due = int((time.monotonic() - t0) * rate)
        while sent < due:
            app, sev, line = lines[i % len(lines)]
            data = frame(i, app, sev, line)
            s.sendto(data, (SLUICE_IP, 514))
            sent += 1
            nbytes += len(data)
            i += 1
        time.sleep(0.001)
    s.close()
    return sent, nbytes


STATSD_LINES = 3000


def send_statsd():
    """StatsD/DogStatsD lines from a kernel UDP socket, 20 per datagram:
    request counters by service, latency timers, a set of users, a queue
    gauge. Returns (lines, the exact per-service request counts, the
    latencies sent)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    counts, lat, batch = {}, [], []
    for i in range(STATSD_LINES):
        svc = ("checkout", "search", "auth")[i % 3]
        k = i % 4
        if k == 0:
            batch.append("demo.requests:1|c|#service:%s,env:demo" % svc)
            counts[svc] = counts.get(svc, 0) + 1
        elif k == 1:
            v = round(2 + (i * 7919 % 1000) / 10.0, 1)
            lat.append(v)
            batch.append("demo.latency_ms:%s|ms|#env:demo,service:%s" % (v, svc))
        elif k == 2:
            batch.append("demo.users:user%d|s" % (i % 500))
        else:
            batch.append("demo.queue_depth:%d|g" % (i % 50))
        if len(batch) == 20:
            s.sendto(("\n".join(batch) + "\n").encode(), (SLUICE_IP, 8125))
            batch = []
            time.sleep(0.0005)
    s.close()
    return STATSD_LINES, counts, lat


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def wait_for(cond, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            v = cond()
            if v:
                return v
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(interval)
    raise RuntimeError("timed out waiting for " + what)


class Demo:
    def __init__(self, args):
        self.args = args
        self.proc = None
        self.stats_file = stats_path()
        self.logf = None

    def stats(self):
        with open(self.stats_file) as f:
            return json.load(f)

    def start(self):
        binary = os.path.join(self.args.build, "sluice")
        if os.path.exists(self.stats_file):
            os.unlink(self.stats_file)
        empty_spool()
        argv = [binary, "--no-huge", "-m", "1024", "--no-pci", "--no-telemetry",
                "--file-prefix", PREFIX, "-l", "0-1", "--log-level", "lib.*:error",
                "--vdev", "net_tap0,iface=%s" % IFACE, "--", "-c", CONFIG]
        self.logpath = "/tmp/sluice-demo.log"
        self.logf = open(self.logpath, "w")
        log("starting: " + " ".join(argv))
        self.proc = subprocess.Popen(argv, stdout=self.logf, stderr=subprocess.STDOUT)
        wait_for(lambda: self.proc.poll() is not None or os.path.exists(self.stats_file),
                 60, "sluice to start")
        if self.proc.poll() is not None:
            raise RuntimeError("sluice exited at start:\n" + open(self.logpath).read())
        # replace, not add: idempotent if the address is already there
        run(["ip", "addr", "replace", HOST_IP + "/24", "dev", IFACE], check=True)
        run(["ip", "link", "set", IFACE, "up"], check=True)
        log("kernel side: %s %s/24 -> sluice %s, Kafka embedded at %s" % (
            IFACE, HOST_IP, SLUICE_IP, self.stats()["export"]["bootstrap"]))

    def traffic(self, lines):
        ping = run(["ping", "-c", "3", "-i", "0.2", "-W", "1", SLUICE_IP])
        replies = sum(1 for l in ping.stdout.splitlines() if "bytes from" in l)
        log("ping %s: %d/3 replies" % (SLUICE_IP, replies))
        for msg in ("user root: authentication failure from 10.1.2.3",
                    "kernel: Out of memory: Killed process 4242 (java)",
                    "app started, version 1.4.2"):
            run(["logger", "-n", SLUICE_IP, "-P", "514", "-d", "--rfc5424",
                 "-t", "demo-logger", msg], check=True)
        log("logger: 3 lines sent over UDP (RFC 5424)")
        for i in range(3):
            run(["logger", "--tcp", "--octet-count", "-n", SLUICE_IP, "-P", "601",
                 "--rfc5424", "-t", "demo-tcp", "line %d over TCP, octet-counted" % i],
                check=True)
        log("logger: 3 lines sent over TCP (RFC 6587 octet counting)")
        self.statsd = send_statsd()
        log("statsd: %d metric lines sent over UDP" % self.statsd[0])
        log("sending %d s of syslog at %d lines/s ..." % (self.args.seconds, self.args.rate))
        sent, nbytes = send_traffic(lines, self.args.seconds, self.args.rate)
        return sent + 6, nbytes, replies

    def drain(self, expect):
        """Waits until every record is out of flight and the packet count
        has stopped moving (lines the kernel fragmented never become
        records in this build, so `expect` is an upper bound)."""
        last = [None]

        def settled():
            d = self.stats()
            r = d["ledger"]["records"]
            seen = d["ledger"]["packets"]["received"]
            done = r["in_flight"] == 0 and (r["received"] >= expect or seen == last[0])
            last[0] = seen
            return d if done else None
        try:
            return wait_for(settled, 30, "records to be exported", interval=0.5)
        except RuntimeError:
            return self.stats()

    def read_back(self, topic="sluice.logs"):
        cat = os.path.join(self.args.build, "sluice-cat")
        r = run([cat, "-b", self.stats()["export"]["bootstrap"], "-t", topic, "-e",
                 "--timeout-ms", "20000"], timeout=120)
        if r.returncode != 0:
            raise RuntimeError("sluice-cat failed: " + r.stderr)
        return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                rc = self.proc.wait()
            self.proc = None
            return rc
        return None

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.logf:
            self.logf.close()
        # The tap disappears with sluice; remove it if a crash left it.
        if os.path.exists("/sys/class/net/" + IFACE):
            run(["ip", "link", "del", IFACE])
        shutil.rmtree("/var/run/dpdk/" + PREFIX, ignore_errors=True)


def human(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024:
            return "%.1f %s" % (n, unit)
        n /= 1024.0
    return "%.1f TiB" % n


def metric_summary(statsd, metrics):
    """The StatsD series read back, summed over intervals."""
    _, counts, lat = statsd
    got, n_lat, top_p99 = {}, 0, 0
    for m in metrics:
        if m.get("source") != "statsd":
            continue
        if m["name"] == "demo.requests":
            svc = m["labels"]["service"]
            got[svc] = got.get(svc, 0) + m["value"]
        elif m["name"] == "demo.latency_ms":
            n_lat += m["count"]
            top_p99 = max(top_p99, m["quantiles"]["0.99"])
    series = {(m["name"], json.dumps(m["labels"], sort_keys=True)) for m in metrics
              if m.get("source") == "statsd"}
    exact = all(got.get(k) == v for k, v in counts.items())
    text = (" metrics          %d StatsD lines -> %d series; demo.requests by service %s (%s),\n"
            "                  %d latencies, p99 %.1f ms (of the values sent: %.1f)" % (
                statsd[0], len(series), ", ".join("%s=%d" % kv for kv in sorted(got.items())),
                "exact" if exact else "MISMATCH", n_lat, top_p99,
                sorted(lat)[int(0.99 * (len(lat) - 1))] if lat else 0))
    return text, exact and n_lat == len(lat)


def summary(sent, sent_bytes, replies, fin, recs, rc, kernel_drops, source, metrics_text):
    w = fin["workers"]
    pk = fin["ledger"]["packets"]
    rec = fin["ledger"]["records"]
    logs = fin["export"]["topics"]["logs"]
    parsed = sum(x["records"]["parsed"] for x in w)
    unparsed = sum(x["records"]["unparsed"] for x in w)
    matched = sum(x["records"]["matched"] for x in w)
    drops = {}
    for x in w:
        for k, v in list(x["packets"]["dropped"].items()) + list(x["records"]["dropped"].items()):
            drops[k] = drops.get(k, 0) + v
    for k, v in fin["export"]["dropped"].items():
        drops[k] = drops.get(k, 0) + v
    top = sorted(fin["rules"], key=lambda r: -r["matches"])[:5]
    print()
    print("=" * 66)
    print(" sluice demo: what happened")
    print("=" * 66)
    print(" traffic          %d syslog lines from %s, %d StatsD lines" % (
        sent, source, STATSD_LINES))
    print("                  + ping (%d replies), sent through the kernel over net_tap" % replies)
    print(" packets          %d received: %d delivered, %d answered, %d dropped" % (
        pk["received"], pk["delivered"], pk["answered"], pk["dropped"]))
    print(" records          %d received, %d parsed as syslog, %d kept raw (flagged), "
          "%d metric lines aggregated" % (rec["received"], parsed, unparsed, rec["aggregated"]))
    print(" rules            %d records matched at least one of %d rules; top:" % (
        matched, len(fin["rules"])))
    for r in top:
        print("                    %-22s %d" % (r["id"], r["matches"]))
    tpl = fin.get("templates", {})
    print(" templates        %d templates learned over %d records; top:" % (
        tpl.get("known", 0), tpl.get("records", 0)))
    for t in tpl.get("top", [])[:3]:
        print("                    %6d  %s" % (t["count"], t["template"][:56]))
    acts = {k: sum(x["actions"][k] for x in w) for k in ("events_handed", "routed")}
    topics = fin["export"]["topics"]
    print(" derived          %d events to %s, %d metric lines (rule counts, template counts) to %s, %d template lines to %s" % (
        acts["events_handed"], topics["alerts"]["topic"], fin["metrics"]["lines_sent"],
        topics["metrics"]["topic"], tpl.get("lines_sent", 0), topics["templates"]["topic"]))
    tcp = {k: sum(x["tcp"][k] for x in w) for k in ("established", "fin_closed", "bytes")}
    print(metrics_text)
    print(" tcp              %d connections (logger --tcp), %d closed by FIN, %d bytes in order" % (
        tcp["established"], tcp["fin_closed"], tcp["bytes"]))
    print(" exported         %d records in %d zstd batches to Kafka topic %s" % (
        logs["records"], logs["batches"], logs["topic"]))
    print(" read back        %d records from Kafka with sluice-cat" % len(recs))
    print(" bytes            %s of syslog in -> %s NDJSON -> %s on the wire to Kafka (%.1fx)" % (
        human(sent_bytes), human(logs["bytes_raw"]), human(logs["bytes_out"]),
        logs["bytes_raw"] / max(1, logs["bytes_out"])))
    print(" drops by reason  %s" % (", ".join("%s=%d" % kv for kv in sorted(drops.items()))
                                      or "none"))
    if kernel_drops:
        print("                  (the kernel dropped %d before they reached sluice)" % kernel_drops)
    print(" ledger           received %d = dropped %d + aggregated %d + exported %d + in flight "
          "%d: %s" % (rec["received"], rec["dropped_worker"] + rec["dropped_export"],
                      rec["aggregated"], rec["exported"], rec["in_flight"],
                      "balanced" if fin["ledger"]["balanced"] else "NOT BALANCED"))
    print(" exit             sluice exited %s after SIGTERM (ordered shutdown)" % rc)
    if recs:
        print(" a record         " + json.dumps(recs[len(recs) // 2])[:300])
    print("=" * 66)
    print(" stats file: %s   sluice log: /tmp/sluice-demo.log" % stats_path())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--rate", type=int, default=20000)
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("demo: needs root (a tap interface and DPDK)")
    lines, source = corpus()
    demo = Demo(args)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(130))
    try:
        demo.start()
        sent, sent_bytes, replies = demo.traffic(lines)
        tx_drop_path = "/sys/class/net/%s/statistics/tx_dropped" % IFACE
        kernel_drops = int(open(tx_drop_path).read()) if os.path.exists(tx_drop_path) else 0
        demo.drain(sent + STATSD_LINES - kernel_drops)
        # The metric interval (1 s in the demo config) holding the last
        # StatsD lines has been sent once two more have passed.
        n = demo.stats()["metrics"]["intervals"]
        wait_for(lambda: demo.stats()["metrics"]["intervals"] >= n + 2, 10, "metric intervals")
        recs = demo.read_back()
        metrics = demo.read_back("sluice.metrics")
        rc = demo.stop()
        fin = demo.stats()
        metrics_text, metrics_ok = metric_summary(demo.statsd, metrics)
        summary(sent, sent_bytes, replies, fin, recs, rc, kernel_drops, source, metrics_text)
        ok = rc == 0 and fin["ledger"]["balanced"] and len(recs) > 0 and \
            len(recs) == fin["export"]["topics"]["logs"]["records"] and metrics_ok
        return 0 if ok else 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        demo.cleanup()


if __name__ == "__main__":
    sys.exit(main())
