# Makefile - the README's two commands, `make run` and `make test`, and a
# few more.  Each installs the Debian packages lore needs when they are
# missing (as root; otherwise it prints the apt-get line and stops), then
# configures and builds with CMake.
# (python3: the REPL's test types into a pseudo-terminal with its pty module)
PACKAGES := cmake make gcc pkg-config liblua5.4-dev lua5.4 lua-cjson lua-cjson-dev \
            libcmocka-dev libedit-dev libserd-dev libutf8proc-dev libstemmer-dev python3
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

FUZZ_BUILD ?= build-fuzz
FUZZ_TIME ?= 60
FUZZ_PACKAGES := clang libclang-rt-14-dev

.PHONY: all deps build run test test-fast test-asan test-rock fuzz clean

all: build

deps:
	@missing=""; \
	for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else \
	    echo "lore needs these Debian packages:$$missing"; \
	    echo "install them with:  sudo apt-get install -y --no-install-recommends$$missing"; \
	    exit 1; \
	  fi; \
	fi

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

# The REPL on the shipped knowledge.  The build shows only what it does
# (nothing when all is built) and its errors.  Ctrl-C reaches make as well
# as lore, but make only waits for its command to end and says nothing when
# that command survives, as lore does: then make ends by the signal, quietly.
# (lore in a process group of its own, with `set -m`, would keep Ctrl-C from
# make, but Ctrl-Z would then end the session.)
run: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@{ cmake --build $(BUILD) -j$(JOBS) -- --no-print-directory 2>&1; echo $$? >$(BUILD)/.run-build; } | \
	  grep -v -e 'Built target' -e 'Scanning dependencies' -e 'Consolidate compiler'; \
	  exit $$(cat $(BUILD)/.run-build)
	@./$(BUILD)/lore

# every test, in a normal build and again under ASan + UBSan
test: test-fast test-asan

test-fast: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

test-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DLORE_SANITIZE=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j$(JOBS)

# The rockspec (rockspecs/lore-0.1.0-1.rockspec), outside `make test`: it
# builds lore once more (in build-rock) and installs it into a tree in
# $(BUILD).  Needs luarocks, installed when missing; Debian's luarocks
# brings Lua 5.1 and may point /usr/bin/lua at it (lore always runs lua5.4
# by name).
test-rock: deps
	@$(MAKE) --no-print-directory deps PACKAGES="luarocks"
	sh tests/install/test_rock.sh $(CURDIR) $(CURDIR)/$(BUILD)/rock-tree

# libFuzzer on each reader (FUZZ_TARGETS: snapshot, journal, RDF adapter,
# JSON, query text, rule text, the Lua table form of queries and rules) for
# FUZZ_TIME seconds each, with inputs up to 64 KB and the target's
# dictionary if it has one, outside `make test`; new inputs go to
# $(FUZZ_BUILD)/corpus-*, the seeds in tests/fuzz/corpus stay as they are.
# Needs clang and its runtime, installed when missing.
FUZZ_TARGETS ?= snapshot journal rdf json query rules table
fuzz: deps
	@$(MAKE) --no-print-directory deps PACKAGES="$(FUZZ_PACKAGES)"
	@cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang -DLORE_FUZZ=ON \
	    -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(FUZZ_BUILD) -j$(JOBS) --target $(addprefix fuzz_,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_BUILD)/corpus-$$t; \
	  echo "fuzz: the $$t reader for $(FUZZ_TIME) s"; \
	  dict=; [ -f tests/fuzz/$$t.dict ] && dict=-dict=tests/fuzz/$$t.dict; \
	  ./$(FUZZ_BUILD)/tests/fuzz/fuzz_$$t -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
	      -max_len=65536 -timeout=10 $$dict $(FUZZ_BUILD)/corpus-$$t tests/fuzz/corpus/$$t || exit 1; \
	done

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) build-rock
