# Thin wrapper over CMake for the README's commands.
#   make        build everything into build/
#   make test   build, then run every test through ctest
#   make demo   build, then run the flagship: toolpath planning over a shared mesh
#   make bench  build, then run the benchmarks against the anchors
BUILD ?= build
CMAKE ?= cmake
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all configure test demo bench install clean

all: configure
	$(CMAKE) --build $(BUILD) -j $(JOBS)

configure:
	@scripts/setup-deps
	@test -f $(BUILD)/CMakeCache.txt || $(CMAKE) -S . -B $(BUILD) $(CMAKE_FLAGS)

test: all
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

demo: all
	$(BUILD)/examples/clearing/manycore-clearing --output $(BUILD)/clearing-out

bench: all
	bench/run $(BUILD)

install: all
	$(CMAKE) --install $(BUILD)

clean:
	rm -rf $(BUILD)
