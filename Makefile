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
