#!/usr/bin/env python3
"""CPU seconds per million StatsD lines: the StatsD servers of Debian 12 / npm.

Peers, each fed the same --input over UDP loopback from this script:
  statsd    Etsy statsd (npm `statsd`, installed into --peer-dir on first use),
            with a backend of ours that only records what it aggregated;
  collectd  collectd's statsd plugin (Debian `collectd-core`; not installed
            here: a missing collectd is a skip line), writing with write_log;
  sluice    with --sluice-bench PATH: a row from `PATH --mix-file FILE --json OUT`.

Per peer: start it, send a warm-up slice, then --rounds rounds of the whole
input. The sender packs whole lines into datagrams of at most 1400 bytes and
paces itself on the peer's receive queue (/proc/net/udp), so the kernel drops
nothing. A round starts just after one of the peer's flushes (the first one
followed by a quiet half second on the machine, --wait-quiet), so a round
shorter than the 10 s flush interval holds parsing and aggregation only. Its
CPU is the peer's utime+stime (all threads, /proc/PID/stat fields 14 and 15)
from just before the first datagram until its socket is empty and its CPU
clock has stopped moving; nothing is subtracted. After each round the script
waits for the peer's next flush and reads what it counted:
statsd's own metrics_received / bad_lines_seen, collectd's "Unable to parse
line" errors, and for both the timer values and counter sum it aggregated,
checked against what that peer's parser should accept from the input.

usage: perf/bench_statsd_peers.py --input FILE [--generate N] [--rounds 3]
           [--peers statsd,collectd] [--plain] [--json OUT] [--sluice-bench PATH]
"""
import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

MAX_DATAGRAM = 1400
STATSD_VERSION = "0.9.0"        # the newest on npm (there is no 0.10.x)
FLUSH_S = 10                    # both peers' flush interval
QUEUE_HIGH = 64 * 1024          # sender waits while the peer's rx queue holds more (bytes)
BURST = 8                       # datagrams between two looks at the queue
TICK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- input

PART1 = "api web db cache queue worker auth billing search cdn".split()
PART2 = "requests latency errors bytes_sent connections hits misses queue_depth cpu memory".split()
PART3 = "count p99 total active".split()


def tag_text(k, v):
    return [f"env:{('prod', 'staging', 'dev')[v % 3]}", f"host:web-{v % 200:03d}",
            f"region:{'eu-west-1' if v % 2 else 'us-east-1'}", f"service:svc-{v % 40}",
            f"endpoint:/v1/items/{v % 25}", f"status_code:{200 + (v % 5) * 100}",
            f"version:1.{v % 4}.{v % 10}", f"az:{'abc'[v % 3]}"][k]


def make_series(rng):
    """A series: name, type (20% ms, 45% c, 20% g, 5% h, 5% d, 5% s), and for
    half of them 2 to 5 distinct tags in an unsorted order fixed per series."""
    r = rng.randrange(100)
    typ = "ms" if r < 20 else "c" if r < 65 else "g" if r < 85 else \
          "h" if r < 90 else "d" if r < 95 else "s"
    n = rng.randrange(4000)
    name = f"{PART1[n % 10]}.{PART2[n // 10 % 10]}.{PART3[n // 100 % 4]}"
    if n >= 400:
        name += f".shard{n // 400}"
    tags = ""
    if rng.randrange(2):
        keys = rng.sample(range(8), 2 + rng.randrange(4))
        tags = "|#" + ",".join(tag_text(k, rng.randrange(1000)) for k in keys)
    return name, typ, tags


def make_line(rng, series):
    name, typ, tags = series
    if typ == "c":
        val = str(1 + rng.randrange(3))
    elif typ == "g":
        val = f"{rng.randrange(100000) / 10:.1f}"
    elif typ == "s":
        val = f"user{rng.randrange(100000)}"
    else:
        val = f"{rng.randrange(2000000) / 1000:.3f}"
    rate = ""
    if typ in ("c", "ms") and rng.randrange(10) == 0:
        rate = "|@0.1" if rng.randrange(2) else "|@0.5"
    return f"{name}:{val}|{typ}{rate}{tags}\n"


def generate(path, n_lines, n_series=10000, seed=1):
    """Stand-in for sluice's bench generator: the same shape of mix."""
    rng = random.Random(seed)
    series = [make_series(rng) for _ in range(n_series)]
    with open(path, "w") as f:
        for _ in range(n_lines):
            f.write(make_line(rng, series[rng.randrange(n_series)]))


def load_lines(path, plain):
    with open(path, "rb") as f:
        lines = [l.rstrip(b"\r\n") for l in f]
    lines = [l for l in lines if l]
    if plain:       # what every peer parses: no tags, only c, g, ms, s
        lines = [l for l in lines if b"|#" not in l and
                 l.split(b"|")[1] in (b"c", b"g", b"ms", b"s")]
    return lines


def pack(lines):
    """Whole LF-separated lines, at most MAX_DATAGRAM bytes a datagram."""
    out, cur, size = [], [], 0
    for l in lines:
        if len(l) > MAX_DATAGRAM:
            continue
        if cur and size + 1 + len(l) > MAX_DATAGRAM:
            out.append((b"\n".join(cur), len(cur)))
            cur, size = [], -1
        cur.append(l)
        size += 1 + len(l)
    if cur:
        out.append((b"\n".join(cur), len(cur)))
    return out


# ---------------------------------------------------------------- what each peer should count

def fields_of(line):
    """value, type, rate of a line, its tags cut off."""
    f = line.split(b"|#")[0].split(b":", 1)[1].split(b"|")
    rate = float(f[2][1:]) if len(f) > 2 and f[2].startswith(b"@") else 1.0
    return f[0], f[1], rate, len(f) > 2


def parse_etsy(line):
    """Etsy statsd 0.9: tags after |# become part of the key; every type
    but ms, g and s is a counter (h and d included), value/rate added."""
    value, typ, rate, _ = fields_of(line)
    if typ in (b"ms", b"g", b"s"):
        return typ.decode(), 0.0
    return "c", float(value) / rate


def parse_collectd(line):
    """collectd 5.12's statsd plugin: tags, h and d, and a field after g or
    s are parse errors; a timer value is value/rate truncated to whole
    milliseconds, and 0 is dropped without a word ("lost")."""
    if b"|#" in line:
        return "bad", 0.0
    value, typ, rate, extra = fields_of(line)
    if typ not in (b"c", b"ms", b"g", b"s") or (extra and typ in (b"g", b"s")):
        return "bad", 0.0
    if typ == b"ms":
        return ("ms" if int(float(value) / rate) > 0 else "lost"), 0.0
    if typ == b"c":
        return "c", float(value) / rate
    return typ.decode(), 0.0


def expected(lines, parse):
    """What a peer whose parser is `parse` should make of the lines."""
    exp = {"accepted": 0, "bad": 0, "lost": 0, "timer_values": 0, "counter_sum": 0.0,
           "h_d_as_counter": 0, "sampled_timers": 0, "bad_tagged": 0}
    for l in lines:
        kind, add = parse(l)
        if kind in ("bad", "lost"):
            exp[kind] += 1
            exp["bad_tagged"] += kind == "bad" and b"|#" in l
            continue
        exp["accepted"] += 1
        exp["counter_sum"] += add
        typ = fields_of(l)[1]
        exp["timer_values"] += kind == "ms"
        exp["sampled_timers"] += kind == "ms" and b"|@" in l
        exp["h_d_as_counter"] += kind == "c" and typ in (b"h", b"d")
    return exp


# ---------------------------------------------------------------- /proc

def cpu_seconds(pid):
    """utime + stime of the whole process (every thread), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK     # fields 14 and 15


def busy_seconds():
    """CPU seconds the whole machine has been busy (all CPUs, /proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v[:8]) - v[3] - v[4]) / TICK       # less idle and iowait


def own_seconds():
    t = os.times()
    return t.user + t.system


def udp_socket(port):
    """(rx queue bytes, drops) of the socket bound to 127.0.0.1:port."""
    want = "0100007F:%04X" % port
    with open("/proc/net/udp") as f:
        next(f)
        for line in f:
            c = line.split()
            if c[1] == want:
                return int(c[4].split(":")[1], 16), int(c[-1])
    return None


def rcvbuf_errors():
    with open("/proc/net/snmp") as f:
        rows = [l.split() for l in f if l.startswith("Udp:")]
    return int(rows[1][rows[0].index("RcvbufErrors")])


def free_port(kind):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_until(cond, timeout, what, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(step)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")


# ---------------------------------------------------------------- peers

class Peer:
    """A peer process we started: its pid, UDP port and log."""
    name = "?"

    def __init__(self, tmp):
        self.tmp = tmp
        self.port = free_port(socket.SOCK_DGRAM)
        self.proc = None
        self.sent = False           # set once the peer has been sent lines
        self.log_path = os.path.join(tmp, self.name + ".log")

    def spawn(self, argv):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(lambda: self.proc.poll() is not None or udp_socket(self.port),
                   15, f"{self.name} to listen on UDP {self.port}")
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited ({self.proc.returncode}); "
                               f"see its log:\n{self.tail().decode(errors='replace')}")

    def tail(self, n=2000):
        """The log's last n bytes."""
        with open(self.log_path, "rb") as f:
            f.seek(max(0, os.path.getsize(self.log_path) - n))
            return f.read()

    def alive(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} died ({self.proc.returncode}):\n"
                               + self.tail().decode(errors="replace"))

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.log.close()


STATSD_BACKEND = r"""// bench_statsd_peers.py: records what statsd aggregated; sends nothing.
var tot = { flushes: 0, metrics_received: 0, bad_lines_seen: 0, packets_received: 0,
            timer_values: 0, counter_sum: 0, counter_keys: 0, timer_keys: 0,
            gauge_keys: 0, set_keys: 0 };
exports.init = function (startup, config, events) {
  var own = (config.prefixStats || 'statsd') + '.';
  events.on('flush', function (ts, m) {
    tot.flushes++;
    ['metrics_received', 'bad_lines_seen', 'packets_received'].forEach(function (k) {
      tot[k] += m.counters[own + k] || 0;
    });
    var n = 0, sum = 0;
    for (var k in m.counters)
      if (k.indexOf(own) !== 0) { n++; sum += m.counters[k]; }
    tot.counter_sum += sum;
    tot.counter_keys = n;
    n = 0;
    for (var k in m.timers) { n++; tot.timer_values += m.timers[k].length; }
    tot.timer_keys = n;
    tot.gauge_keys = Object.keys(m.gauges)
        .filter(function (k) { return k.indexOf(own) !== 0; }).length;
    tot.set_keys = Object.keys(m.sets).length;
  });
  events.on('status', function (write) {
    for (var k in tot) write(null, 'bench', k, tot[k]);
  });
  return true;
};
"""


class StatsdPeer(Peer):
    name = "statsd"

    def __init__(self, tmp, peer_dir, version):
        super().__init__(tmp)
        self.mgmt = free_port(socket.SOCK_STREAM)
        self.main = os.path.join(peer_dir, "node_modules", "statsd", "stats.js")
        self.version = f"statsd {version}, node {node_version()}"
        backend = os.path.join(tmp, "bench_backend.js")
        with open(backend, "w") as f:
            f.write(STATSD_BACKEND)
        self.conf = os.path.join(tmp, "statsd.js")
        with open(self.conf, "w") as f:
            json.dump({"address": "127.0.0.1", "port": self.port, "mgmt_address": "127.0.0.1",
                       "mgmt_port": self.mgmt, "flushInterval": FLUSH_S * 1000,
                       "backends": [backend], "automaticConfigReload": False}, f, indent=1)

    def start(self):
        self.spawn(["node", self.main, self.conf])
        wait_until(self.counts, 15, "statsd's management port")

    def counts(self):
        """statsd's totals as of its last flush (mgmt `stats`, our backend's lines)."""
        try:
            with socket.create_connection(("127.0.0.1", self.mgmt), timeout=5) as s:
                s.sendall(b"stats\n")
                buf = b""
                while not buf.endswith(b"END\n\n"):
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
        except OSError:
            return None
        out = {}
        for line in buf.decode().splitlines():
            if line.startswith("bench.") and ": " in line:
                k, v = line[6:].split(": ")
                out[k] = float(v)
        return out or None

    def mark(self):
        self.before = self.counts()

    def wait_flush(self):
        """Until statsd has flushed once more."""
        f0 = self.counts()["flushes"]
        wait_until(lambda: (c := self.counts()) and c["flushes"] > f0, FLUSH_S + 10,
                   "statsd's flush", step=0.25)

    def flushed_since_mark(self):
        return self.counts()["flushes"] > self.before["flushes"]

    def counted(self):
        """What statsd counted since mark(), by its own counters."""
        now, before = self.counts(), self.before
        d = {k: now[k] - before[k] for k in now if not k.endswith("_keys")}
        return {"received": int(d["metrics_received"]), "bad": int(d["bad_lines_seen"]),
                "aggregated": int(d["metrics_received"] - d["bad_lines_seen"]),
                "timer_values": int(d["timer_values"]), "counter_sum": d["counter_sum"],
                "series": {k: int(now[k]) for k in now if k.endswith("_keys")}}


def node_version():
    try:
        return subprocess.run(["node", "--version"], capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except OSError:
        return "?"


def install_statsd(peer_dir, version):
    """npm install into peer_dir once; returns None or why it could not."""
    pkg = os.path.join(peer_dir, "node_modules", "statsd", "package.json")
    if os.path.exists(pkg):
        with open(pkg) as f:
            if json.load(f).get("version") == version:
                return None
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node or npm not found"
    os.makedirs(peer_dir, exist_ok=True)
    r = subprocess.run(["npm", "install", "--prefix", peer_dir, f"statsd@{version}",
                        "--omit=optional", "--ignore-scripts", "--no-audit", "--no-fund"],
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0 or not os.path.exists(pkg):
        err = [l for l in r.stderr.splitlines() if "error" in l] or ["?"]
        return f"npm install statsd@{version} failed: {err[0][:200]}"
    return None


COLLECTD_CONF = """# bench_statsd_peers.py: collectd's statsd plugin alone, everything under {tmp}
Hostname "bench"
FQDNLookup false
BaseDir "{tmp}"
PIDFile "{tmp}/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
Interval {interval}
ReadThreads 1
WriteThreads 1
AutoLoadPlugin false
CollectInternalStats false
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "stderr"
  Timestamp false
  PrintSeverity true
</Plugin>
LoadPlugin statsd
<Plugin statsd>
  Host "127.0.0.1"
  Port "{port}"
  TimerCount true
  CounterSum true
</Plugin>
LoadPlugin write_log
<Plugin write_log>
  Format "Graphite"
</Plugin>
"""


class CollectdPeer(Peer):
    """Logs to stderr (a file of ours): one write per parse error, where the
    logfile plugin with a File would open and close it per message."""
    name = "collectd"

    def __init__(self, tmp):
        super().__init__(tmp)
        self.conf = os.path.join(tmp, "collectd.conf")
        with open(self.conf, "w") as f:
            f.write(COLLECTD_CONF.format(tmp=tmp, port=self.port, interval=FLUSH_S))
        self.version = collectd_version()

    def start(self):
        self.spawn(["collectd", "-f", "-C", self.conf])
        self.mark()

    def mark(self):
        """The log restarts with each round (the file is O_APPEND for collectd)."""
        os.truncate(self.log_path, 0)
        self.pos, self.last_ts, self.bad, self.counter_sum = 0, 0, 0, 0.0
        self.timer_counts, self.timers = {}, set()

    def scan(self):
        """Reads the log's new whole lines: parse errors and write_log's values."""
        with open(self.log_path, "rb") as f:
            f.seek(self.pos)
            chunk = f.read()
        chunk = chunk[:chunk.rfind(b"\n") + 1]
        self.pos += len(chunk)
        for line in chunk.splitlines():
            if line.startswith(b"[error] statsd plugin: Unable to parse line"):
                self.bad += 1
            elif line.startswith(b"bench.statsd."):
                self.value(*line[len(b"bench.statsd."):].split()[:3])

    def value(self, ti, value, ts):
        """One Graphite line: counter sums (CounterSum), timer counts (TimerCount)."""
        self.last_ts = max(self.last_ts, int(ts))
        if ti.startswith(b"count-"):
            self.counter_sum += float(value)
        elif ti.startswith(b"latency-") and ti.endswith(b"-average"):
            self.timers.add(ti[len(b"latency-"):-len(b"-average")])
        elif ti.startswith(b"gauge-") and ti.endswith(b"-count"):
            name = ti[len(b"gauge-"):-len(b"-count")]
            self.timer_counts[name] = self.timer_counts.get(name, 0) + float(value)

    def wait_flush(self):
        """Until values read after now are in the log and it has gone quiet
        (at once while there are no values to write)."""
        if not self.sent:
            return
        t = time.time()
        wait_until(lambda: self.scan() or self.last_ts > t, FLUSH_S + 10,
                   "collectd's flush", step=0.25)
        size = -1
        while size != os.path.getsize(self.log_path):
            size = os.path.getsize(self.log_path)
            time.sleep(1.0)
        self.scan()

    def flushed_since_mark(self):
        self.scan()
        return self.last_ts > 0

    def counted(self):
        """What collectd made of the lines since mark(), from its log."""
        self.scan()
        timer_values = sum(v for k, v in self.timer_counts.items() if k in self.timers)
        return {"received": None, "bad": self.bad, "aggregated": None,
                "timer_values": int(timer_values), "counter_sum": self.counter_sum,
                "series": {"timer_keys": len(self.timers)}}


def collectd_version():
    r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "collectd-core"],
                       capture_output=True, text=True)
    return f"collectd {r.stdout.strip() or '?'} (statsd plugin)"


def collectd_missing():
    if shutil.which("collectd") is None:
        return "collectd not found (apt-get install -y collectd-core)"
    if not os.path.exists("/usr/lib/collectd/statsd.so"):
        return "collectd has no statsd plugin (/usr/lib/collectd/statsd.so)"
    return None


# ---------------------------------------------------------------- one round

def send(datagrams, port, rate):
    """Sends every datagram; pauses while the peer's receive queue holds more
    than QUEUE_HIGH bytes, and, with rate > 0, to at most rate lines/s."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(("127.0.0.1", port))
    t0 = time.monotonic()
    sent = 0
    try:
        for i in range(0, len(datagrams), BURST):
            for dg, n in datagrams[i:i + BURST]:
                s.send(dg)
                sent += n
            while (q := udp_socket(port)) is not None and q[0] > QUEUE_HIGH:
                time.sleep(0.0002)
            if rate > 0:
                ahead = sent / rate - (time.monotonic() - t0)
                if ahead > 0:
                    time.sleep(ahead)
    finally:
        s.close()
    return sent


def wait_drained(peer, timeout=300):
    """When the socket is empty and the CPU clock has not moved for 0.5 s:
    (time the queue was first seen empty, CPU seconds then)."""
    drained = None
    last = (None, -1.0)
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        peer.alive()
        q = udp_socket(peer.port)
        now = time.monotonic()
        if q is None:
            raise RuntimeError(f"{peer.name}'s socket is gone")
        if q[0] > 0:
            drained, last = None, (None, -1.0)
            time.sleep(0.01)
            continue
        drained = drained or now
        cpu = cpu_seconds(peer.proc.pid)
        if last[0] is not None and cpu == last[1] and now - last[0] >= 0.5:
            return drained, cpu
        if cpu != last[1]:
            last = (now, cpu)
        time.sleep(0.05)
    raise RuntimeError(f"{peer.name} did not go idle within {timeout} s of the last datagram")


def others_busy(pid, seconds):
    """CPU seconds the rest of the machine used over the next `seconds`:
    all of it less this script and the peer (softirq included)."""
    b0, o0, p0 = busy_seconds(), own_seconds(), cpu_seconds(pid)
    time.sleep(seconds)
    return busy_seconds() - b0 - (own_seconds() - o0) - (cpu_seconds(pid) - p0)


def align(peer, quiet_s):
    """Starts a round just after a flush, so that no flush falls in a round
    shorter than the flush interval; with quiet_s > 0, after the first flush
    followed by half a second in which other processes used under 10% of a
    CPU, or after quiet_s anyway. Returns the seconds waited."""
    t0 = time.monotonic()
    while True:
        peer.wait_flush()
        if time.monotonic() - t0 >= quiet_s or others_busy(peer.proc.pid, 0.5) < 0.05:
            return round(time.monotonic() - t0, 1)


def run_round(peer, datagrams, rate, quiet_s=0):
    """Sends the datagrams once and measures; then waits for the peer's next
    flush and returns the round's figures, what the peer counted included."""
    waited = align(peer, quiet_s)
    peer.mark()
    drops0 = udp_socket(peer.port)[1]
    snmp0 = rcvbuf_errors()
    busy0, own0 = busy_seconds(), own_seconds()
    cpu0 = cpu_seconds(peer.proc.pid)
    t0 = time.monotonic()
    lines = send(datagrams, peer.port, rate)
    peer.sent = True
    t_end, cpu1 = wait_drained(peer)
    other = busy_seconds() - busy0 - (own_seconds() - own0) - (cpu1 - cpu0)
    drops = udp_socket(peer.port)[1] - drops0
    snmp = rcvbuf_errors() - snmp0
    flushed = peer.flushed_since_mark()
    peer.wait_flush()
    wall, cpu = t_end - t0, cpu1 - cpu0
    return {"lines_sent": lines, "datagrams": len(datagrams), "kernel_drops": drops,
            "rcvbuf_errors_all_udp": snmp, "cpu_s": round(cpu, 3), "wall_s": round(wall, 3),
            "cpu_s_per_mline": round(cpu / (lines / 1e6), 3),
            "lines_per_s": round(lines / wall), "other_cpu_s": round(max(0.0, other), 2),
            "waited_s": waited, "flush_in_round": flushed, **peer.counted()}


# ---------------------------------------------------------------- per peer

def account(r, exp):
    """Fills in what collectd does not count itself: the lines it aggregated
    are those delivered less its parse errors and less the timer lines that
    parsed but are missing from its timer counts. Then checks the round
    against what the peer's parser should take from the input (r["check"]:
    empty when all matches, else the differences)."""
    if r["aggregated"] is None and not r["kernel_drops"]:
        timer_lines = exp["timer_values"] + exp["lost"]
        r["lost"] = timer_lines - r["timer_values"]
        r["aggregated"] = r["lines_sent"] - r["bad"] - r["lost"]
    bad = []
    if r["kernel_drops"]:
        bad.append(f"{r['kernel_drops']} datagrams dropped by the kernel")
    if r["aggregated"] != exp["accepted"]:
        bad.append(f"aggregated {r['aggregated']} (expected {exp['accepted']})")
    if r["bad"] != exp["bad"]:
        bad.append(f"bad lines {r['bad']} (expected {exp['bad']})")
    if r["timer_values"] != exp["timer_values"]:
        bad.append(f"timer values {r['timer_values']} (expected {exp['timer_values']})")
    if abs(r["counter_sum"] - exp["counter_sum"]) > 1e-6 * max(1.0, exp["counter_sum"]):
        bad.append(f"counter sum {r['counter_sum']:.1f} (expected {exp['counter_sum']:.1f})")
    r["check"] = bad


def run_peer(peer, datagrams, warmup, args, exp):
    """Starts the peer, warms it up, runs the rounds; the peer's row."""
    peer.start()
    if warmup:
        run_round(peer, warmup, args.rate)
    rounds = []
    for i in range(args.rounds):
        r = run_round(peer, datagrams, args.rate, args.wait_quiet)
        account(r, exp)
        rounds.append(r)
        print(f"  {peer.name} round {i + 1}: {r['cpu_s']:.2f} CPU s, {r['wall_s']:.2f} s, "
              f"{r['cpu_s_per_mline']:.2f} CPU s/M lines, {r['lines_per_s']:,} lines/s, "
              f"aggregated {r['aggregated']}, bad {r['bad']}, drops {r['kernel_drops']}, "
              f"other processes {r['other_cpu_s']:.2f} CPU s, waited {r['waited_s']} s"
              + (", a flush fell in the round" if r["flush_in_round"] else "")
              + ("" if not r["check"] else "; " + "; ".join(r["check"])), file=sys.stderr)
    peer.stop()
    return summarize(peer.name, peer.version, rounds, exp)


def summarize(name, version, rounds, exp):
    med = lambda k: statistics.median(r[k] for r in rounds)   # noqa: E731
    agg = sorted({r["aggregated"] for r in rounds}, key=lambda v: (v is None, v))
    return {"peer": name, "version": version, "status": "ok", "rounds": rounds,
            "expected": exp, "lines_sent": rounds[0]["lines_sent"],
            "received": rounds[0]["received"], "aggregated": agg,
            "bad": sorted({r["bad"] for r in rounds}),
            "kernel_drops": sum(r["kernel_drops"] for r in rounds),
            "cpu_s_per_mline": med("cpu_s_per_mline"), "lines_per_s": round(med("lines_per_s")),
            "cpu_s_per_mline_min": min(r["cpu_s_per_mline"] for r in rounds),
            "other_cpu_s_max": max(r["other_cpu_s"] for r in rounds),
            "wall_s": med("wall_s"), "verified": all(not r["check"] for r in rounds)}


def sluice_row(path, input_path, tmp):
    """A row from `PATH --mix-file FILE --json OUT` (sluice-bench-statsd)."""
    row = {"peer": "sluice", "version": os.path.basename(path)}
    if not os.access(path, os.X_OK):
        return {**row, "status": f"skipped: {path} is not an executable"}
    out = os.path.join(tmp, "sluice.json")
    try:
        r = subprocess.run([path, "--mix-file", input_path, "--json", out],
                           capture_output=True, text=True, timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as e:
        return {**row, "status": f"failed: {e}"}
    if r.returncode != 0:
        return {**row, "status": f"failed: exit {r.returncode}: {r.stderr.strip()[-300:]}"}
    try:
        with open(out) as f:
            got = json.load(f)
        cpu, lps = float(got["cpu_s_per_mline"]), round(float(got["lines_per_s"]))
    except (OSError, ValueError, KeyError, TypeError) as e:
        return {**row, "status": f"failed: no usable {out}: {e!r}"}
    lines = got.get("lines")
    return {**row, "status": "ok", "cpu_s_per_mline": cpu, "lines_per_s": lps,
            "lines_sent": lines, "aggregated": [lines] if lines is not None else [], "raw": got}


# ---------------------------------------------------------------- report

def cell(v, fmt="{:,}"):
    if v is None or v == []:
        return "–"
    if isinstance(v, list):
        return " / ".join(cell(x, fmt) for x in v)
    return fmt.format(v)


def cpu_cell(v):
    return f"{v:.2f}" if v >= 1 else f"{v:.3g}"


def table(rows):
    out = ["| peer | version | lines sent | received (peer's count) | aggregated | bad lines "
           "| kernel drops | CPU s / M lines | lines/s at that pace | checked |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        if r["status"] != "ok":
            why = " ".join(r["status"].split()).replace("|", "/")
            out.append(f"| {r['peer']} | {r.get('version', '–')} | {why} "
                       "| | | | | | | |")
            continue
        checked = "–" if "verified" not in r else "yes" if r["verified"] else \
            "NO: " + "; ".join(sorted({c for x in r["rounds"] for c in x["check"]}))
        out.append(f"| {r['peer']} | {r['version']} | {cell(r.get('lines_sent'))} "
                   f"| {cell(r.get('received'))} | {cell(r.get('aggregated'))} "
                   f"| {cell(r.get('bad'))} | {cell(r.get('kernel_drops'))} "
                   f"| {cpu_cell(r['cpu_s_per_mline'])} | {cell(r['lines_per_s'])} "
                   f"| {checked} |")
    return "\n".join(out)


def notes(rows):
    out = []
    for r in rows:
        exp = r.get("expected")
        if r["status"] != "ok" or exp is None:
            continue
        if exp["bad"]:
            out.append(f"- {r['peer']}: its parser rejects {exp['bad']:,} of "
                       f"{r['lines_sent']:,} lines, one error each: {exp['bad_tagged']:,} "
                       f"with DogStatsD tags, {exp['bad'] - exp['bad_tagged']:,} others "
                       "(h and d types)")
        if exp["lost"]:
            out.append(f"- {r['peer']}: {exp['lost']:,} timer lines parse but are dropped "
                       "without an error: values under 1 ms (timers are truncated to whole ms)")
        if exp["h_d_as_counter"]:
            out.append(f"- {r['peer']}: {exp['h_d_as_counter']:,} h/d lines are "
                       "aggregated as counters (summed), not as histograms")
        if r["peer"] == "collectd" and exp["sampled_timers"]:
            out.append(f"- collectd: {exp['sampled_timers']:,} timer lines carry a sample "
                       "rate, and collectd divides their values by it (`3|ms|@0.1` is "
                       "aggregated as 30 ms)")
    return "\n".join(out)


# ---------------------------------------------------------------- main

def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--input", required=True, help="LF-separated StatsD/DogStatsD lines")
    ap.add_argument("--generate", type=int, metavar="N",
                    help="first write N stand-in lines (10,000 series, fixed seed) to --input")
    ap.add_argument("--seed", type=int, default=1, help="the generator's seed")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=100000, metavar="LINES",
                    help="lines sent unmeasured after a peer starts")
    ap.add_argument("--peers", default="statsd,collectd", help="comma list, or none")
    ap.add_argument("--peer-dir", default="/var/tmp/sluice-peers", help="npm cache for statsd")
    ap.add_argument("--statsd-version", default=STATSD_VERSION)
    ap.add_argument("--rate", type=float, default=0,
                    help="cap in lines/s (default 0: as fast as the peer drains its socket)")
    ap.add_argument("--wait-quiet", type=float, default=30, metavar="S",
                    help="before a round, wait up to S s for other processes to use "
                         "under 10%% of a CPU (0: do not wait)")
    ap.add_argument("--plain", action="store_true",
                    help="send only the lines every peer parses: no tags, c/g/ms/s")
    ap.add_argument("--json", metavar="FILE")
    ap.add_argument("--sluice-bench", metavar="PATH", help="sluice-bench-statsd, for a sluice row")
    return ap.parse_args()


def make_peer(name, args, tmp):
    """(peer, None) or (None, why it is skipped)."""
    if name == "statsd":
        why = install_statsd(args.peer_dir, args.statsd_version)
        return (None, why) if why else (StatsdPeer(tmp, args.peer_dir, args.statsd_version), None)
    if name == "collectd":
        why = collectd_missing()
        return (None, why) if why else (CollectdPeer(tmp), None)
    return None, "unknown peer"


def bench(args, tmp, live):
    lines = load_lines(args.input, args.plain)
    datagrams = pack(lines)
    warm = pack(lines[:args.warmup])
    print(f"{len(lines):,} lines from {args.input} in {len(datagrams):,} datagrams"
          f"{' (--plain)' if args.plain else ''}", file=sys.stderr)
    rows = []
    models = {"statsd": parse_etsy, "collectd": parse_collectd}
    for name in [p for p in args.peers.split(",") if p and p != "none"]:
        peer, why = make_peer(name, args, tmp)
        if peer is None:
            print(f"{name}: skipped: {why}", file=sys.stderr)
            rows.append({"peer": name, "status": f"skipped: {why}"})
            continue
        live.append(peer)
        try:
            rows.append(run_peer(peer, datagrams, warm, args, expected(lines, models[name])))
        except RuntimeError as e:
            peer.stop()
            print(f"{name}: failed: {e}", file=sys.stderr)
            rows.append({"peer": name, "version": peer.version, "status": f"failed: {e}"})
    if args.sluice_bench:
        path = args.input
        if args.plain:          # sluice measures the lines the peers were sent
            path = os.path.join(tmp, "plain.txt")
            with open(path, "wb") as f:
                f.write(b"".join(l + b"\n" for l in lines))
        rows.append(sluice_row(args.sluice_bench, path, tmp))
        if rows[-1]["status"] != "ok":
            print(f"sluice: {rows[-1]['status']}", file=sys.stderr)
    return rows


def main():
    args = parse_args()
    if not args.generate and not os.path.isfile(args.input):
        sys.exit(f"{args.input}: no such file (--generate N writes one)")
    if args.generate:
        generate(args.input, args.generate, seed=args.seed)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = tempfile.mkdtemp(prefix="sluice-peers-")
    live = []
    try:
        rows = bench(args, tmp, live)
    finally:
        for p in live:
            p.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(table(rows))
    n = notes(rows)
    if n:
        print("\n" + n)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"input": os.path.abspath(args.input), "plain": args.plain,
                       "rounds": args.rounds, "warmup_lines": args.warmup,
                       "flush_interval_s": FLUSH_S, "max_datagram": MAX_DATAGRAM,
                       "cpus": os.cpu_count(), "peers": rows}, f, indent=1)


if __name__ == "__main__":
    main()
