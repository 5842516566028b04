# Thin wrapper over meson/ninja. `make demo` and `make test` are the two
# commands of the README: each installs what is missing, builds, runs.
BUILD      ?= build
ASAN_BUILD ?= build-asan
MESON_OPTS ?= -Ddeveloper=true
# Sanitizer runs: leaks are checked by the unit tests; the component tests
# run sluice with DPDK, whose EAL keeps allocations until exit by design.
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1

.PHONY: all deps build build-asan demo test test-fast docs clean

all: build

deps:
	@./scripts/install-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) $(MESON_OPTS) -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

build-asan: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)

demo: build
	python3 scripts/demo.py --build $(BUILD)

# Every suite, then the unit and component suites again under ASan+UBSan.
test: build build-asan
	meson test -C $(BUILD) --print-errorlogs --num-processes 2
	ASAN_OPTIONS=detect_leaks=1 meson test -C $(ASAN_BUILD) --print-errorlogs --suite fast --num-processes 2
	ASAN_OPTIONS=detect_leaks=0 meson test -C $(ASAN_BUILD) --print-errorlogs --suite component --num-processes 1

test-fast: build
	meson test -C $(BUILD) --print-errorlogs --suite fast

# Regenerates docs/config.md from the schema.
docs: build
	SL_UPDATE_DOCS=1 SL_SOURCE_ROOT=$(CURDIR) $(BUILD)/tests/test_config

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
