#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build for a fixed time.
#
#   scripts/fuzz.sh BUILD_DIR SECONDS [TARGET...]
#
# Each target starts from its seeds (tests/fuzz/corpus/<target>, read only)
# plus a scratch corpus for what it finds; prints one line of figures per
# target. Exits non-zero if any target finds a crash, leak or timeout; its
# reproducer is then kept under BUILD_DIR/fuzz-artifacts/ and the path is
# printed. Otherwise nothing is left behind.
set -euo pipefail

if [ $# -lt 2 ]; then
	echo "usage: $0 BUILD_DIR SECONDS [TARGET...]" >&2
	exit 2
fi
build=$1
secs=$2
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_decode fuzz_syslog fuzz_ndjson fuzz_reasm fuzz_jsonl fuzz_plain fuzz_framer
	fuzz_framer_stream fuzz_tcp fuzz_statsd)

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-fuzz.XXXXXX")
cleanup() {
	rm -rf "$tmp"
	# EAL runtime directories of the DPDK targets (named after the target)
	for d in fuzz_decode fuzz_reasm fuzz_framer fuzz_tcp; do
		rm -rf "/var/run/dpdk/$d" "${XDG_RUNTIME_DIR:-/nonexistent}/dpdk/$d"
	done
}
trap cleanup EXIT

failed=0
for t in "${targets[@]}"; do
	exe=$build/tests/fuzz/$t
	seeds=$root/tests/fuzz/corpus/${t#fuzz_}
	if [ ! -x "$exe" ]; then
		echo "$t: $exe not built (make build-fuzz)" >&2
		failed=1
		continue
	fi
	work=$tmp/$t/corpus
	art=$tmp/$t/artifacts
	mkdir -p "$work" "$art"
	cp -R "$seeds/." "$work/"
	asan=${ASAN_OPTIONS:-}
	# The DPDK targets' EAL keeps allocations until exit by design.
	case $t in fuzz_decode|fuzz_reasm|fuzz_framer|fuzz_tcp) asan=${asan:+$asan:}detect_leaks=0 ;; esac
	dict=()
	case $t in
	fuzz_syslog|fuzz_ndjson) dict=(-dict="$root/tests/fuzz/syslog.dict") ;;
	esac
	log=$tmp/$t/log
	rc=0
	ASAN_OPTIONS=$asan "$exe" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art/" \
		"${dict[@]}" "$work" "$seeds" >"$log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(sed -n 's/.*DONE *cov: \([0-9]*\) ft: \([0-9]*\).*/cov \1 ft \2/p' "$log")
	corp=$(find "$work" -type f | wc -l)
	if [ $rc -eq 0 ] && [ -z "$(ls -A "$art")" ]; then
		printf '%-12s ok    %ss  %s execs  %s/s  %s  corpus %s\n' \
			"$t" "$secs" "${execs:-?}" "${rate:-?}" "${cov:-cov ?}" "$corp"
		continue
	fi
	failed=1
	keep=$build/fuzz-artifacts/$t-$(date +%Y%m%d-%H%M%S)
	mkdir -p "$keep"
	cp -R "$art/." "$keep/"
	cp "$log" "$keep/log"
	printf '%-12s FAIL  exit %s after %s execs; reproducer and log in %s\n' \
		"$t" "$rc" "${execs:-?}" "$keep"
	grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | head -5 || true
	for f in "$keep"/*; do
		[ "$(basename "$f")" = log ] || echo "  rerun: $exe $f"
	done
done
exit $failed
