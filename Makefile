# Thin wrapper over meson/ninja. `make demo` and `make test` are the two
# commands of the README: each installs what is missing, builds, runs.
BUILD      ?= build
ASAN_BUILD ?= build-asan
BUILD_FUZZ ?= build-fuzz
MESON_OPTS ?= -Ddeveloper=true
# Sanitizer runs: leaks are checked by the unit tests; the component tests
# run sluice with DPDK, whose EAL keeps allocations until exit by design.
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1

.PHONY: all deps build build-asan build-fuzz demo test test-fast fuzz docs clean

all: build

deps:
	@./scripts/install-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) $(MESON_OPTS) -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug

# libFuzzer needs clang; the core library is built again with it, under
# ASan+UBSan, so the fuzzers see inside it. developer stays off: clang's
# warnings differ from gcc's. Only the fuzz targets are built here.
$(BUILD_FUZZ)/build.ninja:
	CC=clang meson setup $(BUILD_FUZZ) -Dfuzz=true -Dtests=false -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

build-asan: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)

build-fuzz: deps $(BUILD_FUZZ)/build.ninja
	ninja -C $(BUILD_FUZZ) fuzzers

demo: build
	python3 scripts/demo.py --build $(BUILD)

# Every suite, then the unit and component suites again under ASan+UBSan,
# then 10 s of each fuzz target from its seeds.
test: build build-asan build-fuzz
	meson test -C $(BUILD) --print-errorlogs --num-processes 2
	ASAN_OPTIONS=detect_leaks=1 meson test -C $(ASAN_BUILD) --print-errorlogs --suite fast --num-processes 2
	ASAN_OPTIONS=detect_leaks=0 meson test -C $(ASAN_BUILD) --print-errorlogs --suite component --num-processes 1
	./scripts/fuzz.sh $(BUILD_FUZZ) 10

# 60 s per fuzz target; one target longer:
#   scripts/fuzz.sh build-fuzz 3600 fuzz_decode
fuzz: build-fuzz
	./scripts/fuzz.sh $(BUILD_FUZZ) 60

test-fast: build
	meson test -C $(BUILD) --print-errorlogs --suite fast

# Regenerates docs/config.md from the schema.
docs: build
	SL_UPDATE_DOCS=1 SL_SOURCE_ROOT=$(CURDIR) $(BUILD)/tests/test_config

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(BUILD_FUZZ)

# Micro-benchmarks: rx + decode + demux (cycles per packet), then the log
# pipeline stages (cycles per record): the figures of docs/perf.md. No
# hugepages, no runtime files: the decode benchmark removes its empty EAL
# runtime directory on exit; the log one needs no EAL and keeps only its
# compiled rule databases (/tmp/sluice-bench-log-cache). More: perf/README.md.
BENCH_EAL  ?= --no-huge -m 512 --no-pci --no-telemetry --no-shconf \
              --file-prefix sluice-bench -l 0-1 --log-level '*:error'
BENCH_ARGS ?=
BENCH_LOG_ARGS ?=

BENCH_DECODE_CMD = $(BUILD)/perf/sluice-bench-decode $(BENCH_EAL) -- $(BENCH_ARGS)
BENCH_LOG_CMD    = $(BUILD)/perf/sluice-bench-log $(BENCH_LOG_ARGS)
BENCH_PIPE_CMD   = python3 perf/bench_pipeline.py --build $(BUILD)
BENCH_TCP_ARGS ?=
BENCH_TCP_CMD    = $(BUILD)/perf/sluice-bench-tcp $(BENCH_EAL) -- $(BENCH_TCP_ARGS)
BENCH_EXPORT_ARGS ?=
BENCH_EXPORT_CMD = $(BUILD)/perf/sluice-bench-export --no-huge -m 1024 --no-pci --no-telemetry \
                   --no-shconf --file-prefix sluice-bench-export -l 0-1 --log-level '*:error' \
                   -- $(BENCH_EXPORT_ARGS)

.PHONY: bench bench-log bench-tcp bench-pipeline bench-templates bench-rules bench-export
# One recipe, so that even `make -j bench` runs them one after the other:
# two benchmarks at once would measure each other.
bench: build
	$(BENCH_DECODE_CMD)
	$(BENCH_LOG_CMD)
	$(BENCH_TCP_CMD)
	$(BENCH_EXPORT_CMD)
	$(BENCH_PIPE_CMD)
	python3 perf/template_accuracy.py --build $(BUILD)

# The control core's export against the mock cluster (docs/perf.md,
# "Kafka export").
bench-export: build
	$(BENCH_EXPORT_CMD)

# parse, match (10..10,000 rules, two families), template, encode,
# compress, per-record path on the Loghub lines. The first run compiles
# the rule sets (about 90 s here; later runs load them from the cache).
bench-log: build
	$(BENCH_LOG_CMD)

# TCP ingest against UDP: sl_tcp_input's fast path, then the worker over
# TCP and over UDP on the same records (docs/perf.md, "TCP endpoint").
bench-tcp: build
	$(BENCH_TCP_CMD)

# The real sluice, one worker, net_pcap replay, embedded Kafka (as root).
bench-pipeline: build
	$(BENCH_PIPE_CMD)

# Template grouping accuracy on the eight Loghub sets.
bench-templates: build
	python3 perf/template_accuracy.py --build $(BUILD)

# Start-up with 10,000 rules: compile vs the compiled-database cache (~75 s).
bench-rules: build
	perf/bench_rules_load.sh $(BUILD) 10000
