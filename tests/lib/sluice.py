"""Run sluice under test: start, wait on conditions, stop, read stats.

Every process started here is ended by its PID in stop()/kill(), also
when a test fails (use it as a context manager).
"""
import json
import shutil
import os
import signal
import subprocess
import tempfile
import time


class Timeout(AssertionError):
    pass


def wait_for(cond, timeout, what, interval=0.05):
    """Polls cond() until it returns a true value or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = cond()
        except (OSError, ValueError, KeyError):
            last = None
        if last:
            return last
        time.sleep(interval)
    raise Timeout("timed out after %.1fs waiting for %s" % (timeout, what))


def yaml_dump(obj, indent=0):
    """Enough YAML for sluice configs: dicts, lists, scalars."""
    pad = "  " * indent
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, (dict, list)) and v:
                out.append("%s%s:" % (pad, k))
                out.append(yaml_dump(v, indent + 1))
            else:
                out.append("%s%s: %s" % (pad, k, scalar(v)))
    else:
        for v in obj:
            if isinstance(v, dict):
                first = True
                for k, vv in v.items():
                    lead = "- " if first else "  "
                    first = False
                    if isinstance(vv, (dict, list)) and vv:
                        out.append("%s%s%s:" % (pad, lead, k))
                        out.append(yaml_dump(vv, indent + 2))
                    else:
                        out.append("%s%s%s: %s" % (pad, lead, k, scalar(vv)))
            else:
                out.append("%s- %s" % (pad, scalar(v)))
    return "\n".join(out)


def scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(scalar(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{}"
    return json.dumps(str(v))


class Sluice:
    def __init__(self, binary, cfg, vdevs, lcores="0-1", extra_eal=(),
                 workdir=None, name="t"):
        self.binary = binary
        self.dir = workdir or tempfile.mkdtemp(prefix="sluice-test-")
        self.stats_path = os.path.join(self.dir, "stats.json")
        cfg.setdefault("stats", {})
        cfg["stats"].setdefault("file", self.stats_path)
        cfg["stats"].setdefault("interval_ms", 100)
        self.stats_path = cfg["stats"]["file"]
        # A spool of its own: one left by another test would be replayed.
        cfg.setdefault("export", {}).setdefault("spool", {}).setdefault(
            "dir", os.path.join(self.dir, "spool"))
        self.cfg_path = os.path.join(self.dir, "sluice.yaml")
        with open(self.cfg_path, "w") as f:
            f.write(yaml_dump(cfg) + "\n")
        self.prefix = "sl-%s-%d" % (name, os.getpid())
        self.argv = [binary, "--no-huge", "-m", "512", "--no-pci", "--no-telemetry",
                     "--file-prefix", self.prefix, "--no-shconf", "--log-level", "lib.*:warning"]
        if "@" in lcores:
            self.argv += ["--lcores", lcores]
        else:
            self.argv += ["-l", lcores]
        for v in vdevs:
            self.argv += ["--vdev", v]
        self.argv += list(extra_eal) + ["--", "-c", self.cfg_path]
        self.proc = None
        self.log_path = os.path.join(self.dir, "sluice.log")

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.kill()

    def start(self):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.argv, stdout=self.log, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: self.proc.poll() is not None or self.stats_ready(), 30,
                     "sluice to start")
        except AssertionError:
            self.kill()
            raise
        if self.proc.poll() is not None:
            out = self.output()
            self.kill()   # __exit__ does not run when __enter__ raises
            raise AssertionError("sluice exited at start (%d):\n%s" %
                                 (self.proc.returncode, out))

    def stats_ready(self):
        return os.path.exists(self.stats_path)

    def stats(self):
        with open(self.stats_path) as f:
            return json.load(f)

    def output(self):
        with open(self.log_path) as f:
            return f.read()

    def bootstrap(self):
        return self.stats()["export"]["bootstrap"]

    def signal(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)

    def stop(self, timeout=60):
        """SIGTERM, wait for the exit; returns (returncode, final stats)."""
        self.signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("sluice did not exit within %ds of SIGTERM" % timeout)
        return rc, self.stats()

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if getattr(self, "log", None):
            self.log.close()
        shutil.rmtree("/var/run/dpdk/" + self.prefix, ignore_errors=True)


def cat(sluice_cat, bootstrap, topic, count=None, timeout_ms=20000):
    argv = [sluice_cat, "-b", bootstrap, "-t", topic, "-e", "--timeout-ms", str(timeout_ms)]
    if count is not None:
        argv += ["-c", str(count)]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_ms / 1000 + 30)
    if r.returncode != 0:
        raise AssertionError("sluice-cat failed (%d): %s" % (r.returncode, r.stderr))
    out = []
    for line in r.stdout.splitlines():
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except ValueError as e:
            raise AssertionError("invalid NDJSON from %s: %s: %r" % (topic, e, line))
    return out
