# Thin wrapper over CMake, the way Neovim does it. `make`, `make test`, `make demo`.
# Every target installs missing Debian packages first (scripts/install-deps).
BUILD_DIR ?= build
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_FLAGS ?= --output-on-failure

.PHONY: all deps configure build test test-variants test-notrace test-asan demo bench clean distclean format format-check
.PHONY: soak test-repeat check-readme
.PHONY: fuzz fuzz-ci fuzz-build
.PHONY: verify-soak
.PHONY: install

all: build

deps:
	@scripts/install-deps

$(BUILD_DIR)/CMakeCache.txt:
	@scripts/install-deps
	cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS)

configure: $(BUILD_DIR)/CMakeCache.txt

build: configure
	@scripts/install-deps
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest $(CTEST_FLAGS) -j $(JOBS)

# The whole suite N times in a row, each suite's failure count printed (scripts/test-repeat).
# LOAD=1 keeps one core busy beside it. A suite that fails once is a bug to root-cause.
N ?= 5
test-repeat: build
	scripts/test-repeat --build $(BUILD_DIR) --runs $(N) $(if $(filter 1,$(LOAD)),--load,)

# The README's runnable blocks, as printed (also a CTest test, readme_commands).
check-readme: build
	scripts/check-readme --build $(BUILD_DIR)

# The other configurations CI keeps honest:
# - test-notrace: tracing compiled out (the trace calls must still type-check), with its core
#   suites, and the core and model suites under valgrind (scripts/valgrind-tests: no memory
#   errors, no leaks);
# - test-asan: ASan+UBSan over the whole suite, integration tests included.
test-variants: test-notrace test-asan

test-notrace: deps
	cmake -S . -B build-notrace -DOFFRX_TRACING=NONE
	cmake --build build-notrace -j $(JOBS)
	cd build-notrace && ctest $(CTEST_FLAGS) -j $(JOBS) -L core
	scripts/valgrind-tests build-notrace

# Every test, built with AddressSanitizer and UndefinedBehaviorSanitizer (-O1 keeps the
# integration tests' streams near real speed). Leaks fail too. Two suites are left to make test:
# the soak (label soak: two minutes of the same code paths the other suites run) and the
# mutation suite (verify_mutants: it judges the verifier's power with faults planted in a
# separate test-only build, not the memory safety of the code users run). ASAN_CTEST_FLAGS=
# runs them too.
ASAN_CTEST_FLAGS ?= -LE soak -E '^verify_mutants$$'
test-asan: deps
	cmake -S . -B build-asan -DOFFRX_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-g -O1"
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		LSAN_OPTIONS=suppressions=$(CURDIR)/tests/support/lsan.supp \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest $(CTEST_FLAGS) -j $(JOBS) \
		$(ASAN_CTEST_FLAGS)

# The main job (root): kernel senders in a namespace, the engine over AF_XDP, a live LTTng
# session, and offrx-view on it. DEMO_ARGS="--headless --duration 20" runs it without the viewer.
demo: build
	$(BUILD_DIR)/samples/demo/offrx-demo $(DEMO_ARGS)

# Benchmarks print figures and ratios, never verdicts; the wire and trace ones need root.
# bench/RESULTS.md keeps the figures with the commands that made them.
bench: build
	$(BUILD_DIR)/bench/offrx-bench-core
	OFFRX_BIN=$(BUILD_DIR) bench/bench_wire.sh
	OFFRX_BIN=$(BUILD_DIR) bench/bench_trace.sh
	@for b in bench/bench_view.sh bench/bench_export.sh; do \
		if [ -x $$b ]; then OFFRX_BIN=$(BUILD_DIR) $$b || exit 1; fi; done
	bench/bench_scale.sh --build $(BUILD_DIR)

# Soak (root, not part of make test; CTest runs a 2-minute one, tests/soak): the demo's mix
# plus 1% drop, 1% reorder and 100 connections a second, byte-exact, RSS slopes reported.
SOAK_MINUTES ?= 30
soak: build
	bench/soak.sh --minutes $(SOAK_MINUTES) --build $(BUILD_DIR)

# libFuzzer harnesses (tests/fuzz, README "Fuzzing"): clang, ASan and UBSan in $(FUZZ_DIR);
# FUZZ_SECONDS per harness, two harnesses at a time. fuzz-ci: 60 s each. Non-zero on a crash.
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 300

fuzz-build: deps
	cmake -S . -B $(FUZZ_DIR) -DCMAKE_C_COMPILER=clang -DOFFRX_FUZZ=ON -DOFFRX_TRACING=NONE
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target fuzz-targets

fuzz: fuzz-build
	tests/fuzz/run_fuzz.sh --build $(FUZZ_DIR) --seconds $(FUZZ_SECONDS)

fuzz-ci: fuzz-build
	tests/fuzz/run_fuzz.sh --build $(FUZZ_DIR) --seconds 60 $(if $(FUZZ_JOBS),--jobs $(FUZZ_JOBS),)

# The verifier raises no false alarm (root: lttng-sessiond; bench/RESULTS.md "Verifier"):
# VERIFY_SOAK random engine scenarios (tests/verify/gen_scenarios.c) recorded under LTTng, 500
# to a session, every trace verified clean by offrx-export --verify. make test runs 100.
VERIFY_SOAK ?= 10000
VERIFY_SEED ?= 100000
VERIFY_SOAK_ARGS ?= # e.g. --lock /tmp/offrx-itest.lock: hold it per session only
verify-soak: build
	OFFRX_BIN=$(abspath $(BUILD_DIR)) OFFRX_SRC=$(CURDIR) \
		tests/verify/run_scenarios.sh --count $(VERIFY_SOAK) --seed $(VERIFY_SEED) $(VERIFY_SOAK_ARGS)

# liboffrx (shared and static), its headers, offrx.pc, the tools and their man pages under
# PREFIX (docs/LIBRARY.md). DESTDIR is honoured, for packaging.
PREFIX ?= /usr/local
install: build
	cmake --install $(BUILD_DIR) --prefix $(PREFIX)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	cmake --build $(BUILD_DIR) --target clean 2>/dev/null || true

distclean:
	rm -rf $(BUILD_DIR) build-*
