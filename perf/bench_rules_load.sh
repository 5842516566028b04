#!/usr/bin/env bash
# Start-up cost of a large rule set: compile vs the compiled-database cache.
# Generates N rules (default 10,000) in the shapes operators write, runs
# `sluice --check` (which loads the rules exactly as a start does) with an
# empty cache, then again with the cache warm, and prints both times.
#   perf/bench_rules_load.sh [BUILD_DIR] [N]
set -euo pipefail
build=${1:-build}
n=${2:-10000}
tmp=$(mktemp -d /tmp/sluice-bench-rules.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

python3 - "$tmp/rules.yaml" "$n" <<'PY'
import random, sys
path, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(42)
shapes = [
    lambda i: r"error code %d in module \w+" % i,
    lambda i: r"user%d (logged in|failed password)" % i,
    lambda i: r"\bblk_%d\b" % (i * 7919),
    lambda i: r"svc-%d: timeout after \d+ ?ms" % i,
    lambda i: r"GET /api/v\d+/tenant/%d/\S+ HTTP/1\.[01]\" 5\d\d" % i,
    lambda i: r"Exception in thread \"worker-%d\"" % i,
    lambda i: r"disk /dev/sd[a-z]%d (full|read-only)" % i,
    lambda i: r"(?i)payment %d (declined|reversed)" % i,
]
with open(path, "w") as f:
    f.write("rules:\n")
    for i in range(n):
        pat = rnd.choice(shapes)(i).replace("(?i)", "")
        f.write("  - id: r%05d\n    pattern: '%s'\n" % (i, pat.replace("'", "''")))
PY
cat > "$tmp/sluice.yaml" <<YAML
ports:
  - device: net_null0
    ipv4: [10.0.0.2/24]
stats:
  file: $tmp/stats.json
rules:
  files: [rules.yaml]
  cache_dir: $tmp/cache
YAML
t0=$(date +%s.%N)
"$build/sluice" -- -c "$tmp/sluice.yaml" --check >/dev/null 2>&1
t1=$(date +%s.%N)
"$build/sluice" -- -c "$tmp/sluice.yaml" --check >/dev/null 2>&1
t2=$(date +%s.%N)
size=$(du -k "$tmp/cache" | cut -f1)
python3 -c "
c, w = $t1 - $t0, $t2 - $t1
print('| rules | compile (cold cache) | load (warm cache) | speed-up | cache size |')
print('|---:|---:|---:|---:|---:|')
print('| $n | %.2f s | %.3f s | %.0fx | $size KiB |' % (c, w, c / w))
"
