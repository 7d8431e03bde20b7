# Front door. `make` installs missing Debian packages, configures and builds
# into build/ (the CLI is build/leadscore). `make test`, `make demo`.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure build test demo clean

all: build

deps:
	@bash scripts/deps.sh

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

configure: deps $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

demo: build
	@bash examples/demo/run_demo.sh $(BUILD)

clean:
	rm -rf $(BUILD)

# libFuzzer targets (clang, ASan+UBSan), each run FUZZ_SECONDS seconds:
# `make fuzz FUZZ_SECONDS=600`. New findings land in build-fuzz/findings/.
FUZZ_SECONDS ?= 60
.PHONY: fuzz
fuzz: deps
	@bash scripts/fuzz.sh $(FUZZ_SECONDS)

# The test suite under ASan+UBSan, and the threaded paths under TSan.
.PHONY: sanitize
sanitize: deps
	@bash scripts/sanitize.sh

# --- Benchmarks (docs/performance.md). Not part of `make test` or CI. -------
# Built in their own Release tree, BENCH_BUILD (default build-bench/).
BENCH_BUILD ?= build-bench

.PHONY: bench-build bench bench-quick bench-smoke compare

bench-build: deps
	@bash scripts/bench-deps.sh micro
	cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release \
	  -DLEADSCORE_BUILD_BENCHMARKS=ON -DLEADSCORE_BUILD_TESTS=OFF $(CMAKE_FLAGS)
	cmake --build $(BENCH_BUILD) -j $(JOBS)

# Every micro benchmark at full size (several minutes).
bench: bench-build
	@bash bench/run_micro.sh $(BENCH_BUILD)

# A short subset, under a minute: run before and after a change.
bench-quick: bench-build
	@bash bench/quick.sh $(BENCH_BUILD)

# Each benchmark binary once with tiny sizes (a smoke test, ctest -L bench).
bench-smoke: bench-build
	cd $(BENCH_BUILD) && ctest -L bench --output-on-failure

# leadscore vs DuckDB vs SQLite; writes bench/results/compare.{md,svg,json}.
# SIZES="1000000 2000000" REPS=3 make compare for a quicker run.
compare: bench-build
	@bash scripts/bench-deps.sh compare
	@bash bench/compare/run.sh $(BENCH_BUILD)
