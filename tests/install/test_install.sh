#!/bin/sh
# test_install.sh - lore as others build on it: `cmake --install` into a
# temporary prefix (and under DESTDIR), then, with nothing but that prefix,
# the host example built with pkg-config (shared with an rpath, shared with
# LD_LIBRARY_PATH, static) and with find_package (lore::lore,
# lore::lore_static), each run and its output compared exactly; a static
# program that reads Turtle (serd comes with the static link line); a stock
# lua5.4 requiring the installed module and opening the shipped knowledge
# through lore.shipped(); the installed lore program.
# Usage: test_install.sh CMAKE BUILD_DIR SOURCE_DIR [asan]
# With asan the programs are built with the sanitizers, as liblore was.
set -u
CMAKE=$1 BUILD=$2 SRC=$3 MODE=${4:-}
HERE=$SRC/tests/install
EX=$SRC/examples/host
T=$BUILD/install-test
CC=${CC:-cc}
rm -rf "$T" && mkdir -p "$T" || exit 1
T=$(cd "$T" && pwd -P) && P=$T/prefix
CONFIGURED_HOME=${LORE_CONFIGURED_HOME:-}
unset LORE_HOME LUA_PATH LUA_CPATH LUA_PATH_5_4 LUA_CPATH_5_4 PKG_CONFIG_PATH
export PKG_CONFIG_PATH="$P/lib/pkgconfig"
CFLAGS="-O1 -Wall -Wextra -Werror"
PRELOAD=
if [ "$MODE" = asan ]; then
  CFLAGS="$CFLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined"
  # a stock lua5.4 loads an ASan module only with the runtimes preloaded;
  # lua5.4 itself is not built for leak checking
  PRELOAD="$($CC -print-file-name=libasan.so) $($CC -print-file-name=libubsan.so)"
fi
export CFLAGS
fails=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; [ -n "${2:-}" ] && cat "$2"; fails=$((fails + 1)); }

# same NAME WANT_FILE -- command...: stdout and status 0, exactly
same() {
  name=$1 want=$2
  shift 3
  if "$@" >"$T/out" 2>"$T/err"; then
    if cmp -s "$T/out" "$want"; then pass "$name"; else
      echo "FAIL $name: output differs"; diff "$want" "$T/out" | head -20; cat "$T/err"
      fails=$((fails + 1))
    fi
  else
    fail "$name: status $?" "$T/err"
  fi
}

# 1. the install: exactly these files, the knowledge as shipped
if "$CMAKE" --install "$BUILD" --prefix "$P" >"$T/install.log" 2>&1; then pass install
else fail install "$T/install.log"; echo "$fails failed"; exit 1; fi
(cd "$P" && find . \( -path ./share/man -o -path './share/lore/knowledge/*' \) -prune -o -print | sort |
  sed 's/loreTargets-[a-z]*\.cmake/loreTargets-CONFIG.cmake/') >"$T/tree"
# the source tree's knowledge/ holds only files under git (build output
# never lands there); compare them by name and content
(cd "$SRC/knowledge" && find . -type f | sort) >"$T/knowledge.src"
(cd "$P/share/lore/knowledge" && find . -type f | sort) >"$T/knowledge.got"
if cmp -s "$T/tree" "$HERE/tree.expected" && cmp -s "$T/knowledge.src" "$T/knowledge.got" &&
   diff -r "$SRC/knowledge" "$P/share/lore/knowledge" >/dev/null; then pass tree
else fail tree; diff "$HERE/tree.expected" "$T/tree"; diff "$T/knowledge.src" "$T/knowledge.got"; fi
if [ -f "$SRC/doc/lore.1" ]; then
  if cmp -s "$SRC/doc/lore.1" "$P/share/man/man1/lore.1"; then pass man; else fail man; fi
fi
soname=$(readelf -d "$P/lib/liblore.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = liblore.so.0 ] && pass soname || fail "soname: '$soname'"
# nothing installed names the source tree (debugging information aside;
# the sanitizers keep source file names in the data for their reports)
leak=$(grep -rl "$SRC" "$P/lib/pkgconfig" "$P/lib/cmake")
if [ "$MODE" != asan ]; then
  for f in "$P/bin/lore" "$P/lib/lua/5.4/lore.so" "$P/lib/liblore.so"; do
    objcopy -O binary --only-section=.rodata "$f" "$T/rodata" && grep -q -a -F "$SRC" "$T/rodata" &&
      leak="$leak $f"
  done
fi
[ -z "$leak" ] && pass no-source-paths || fail "no-source-paths: $leak"

# 2. DESTDIR staging: the files land under it, and lore.pc, placed
# relative to itself, still gives their paths
if DESTDIR="$T/stage" "$CMAKE" --install "$BUILD" --prefix /opt/lore >"$T/stage.log" 2>&1 &&
   [ -f "$T/stage/opt/lore/include/lore.h" ] && [ -f "$T/stage/opt/lore/lib/liblore.a" ] &&
   [ "$(PKG_CONFIG_PATH=$T/stage/opt/lore/lib/pkgconfig pkg-config --variable=includedir lore)" = \
     "$T/stage/opt/lore/lib/pkgconfig/../../include" ]; then pass destdir
else fail destdir "$T/stage.log"; fi

# 3. pkg-config: the example's Makefile, as a user runs it
cp -r "$EX" "$T/pc"
if make -s -C "$T/pc" host host-static host-lua >"$T/make.log" 2>&1; then pass make
else fail make "$T/make.log"; fi
cd "$T/pc" || exit 1
same pkg-config-shared "$EX/expected.txt" -- ./host alerts.rules events.txt
same pkg-config-static "$EX/expected.txt" -- ./host-static alerts.rules events.txt
same pkg-config-lua "$EX/expected_lua.txt" -- ./host-lua alerts.rules user.lua events.txt
readelf -d host | grep -q "RUNPATH.*$P/lib" && pass rpath || fail rpath
readelf -d host-static | grep -q 'NEEDED.*liblore' && fail "static: needs liblore.so" ||
  pass static-needs-no-liblore
# the shared library found through LD_LIBRARY_PATH instead of an rpath
# shellcheck disable=SC2046
$CC $CFLAGS -o host-ld host.c $(pkg-config --cflags --libs lore) 2>"$T/err" || fail "cc host-ld" "$T/err"
./host-ld alerts.rules events.txt >/dev/null 2>&1 && fail "host-ld ran without the library path" ||
  pass host-ld-needs-path
same ld-library-path "$EX/expected.txt" -- env LD_LIBRARY_PATH="$(pkg-config --variable=libdir lore)" \
  ./host-ld alerts.rules events.txt
# the static link line of doc/embedding.md, on a program that needs serd
# shellcheck disable=SC2046
$CC $CFLAGS -o rdf "$HERE/rdf.c" $(pkg-config --cflags lore) -Wl,--as-needed -l:liblore.a \
  $(pkg-config --static --libs lore) 2>"$T/err" || fail "cc rdf" "$T/err"
printf '0.1.0: 2 facts from Turtle, prefix ex = http://example.org/\n' >"$T/rdf.expected"
same static-serd "$T/rdf.expected" -- ./rdf

# 4. find_package: the example's CMakeLists.txt
cp -r "$EX" "$T/cm-src"
if "$CMAKE" -S "$T/cm-src" -B "$T/cm" -DCMAKE_PREFIX_PATH="$P" -DCMAKE_C_FLAGS="$CFLAGS" \
     >"$T/cm.log" 2>&1 && "$CMAKE" --build "$T/cm" >>"$T/cm.log" 2>&1; then pass find_package
else fail find_package "$T/cm.log"; fi
same find_package-shared "$EX/expected.txt" -- "$T/cm/host" alerts.rules events.txt
same find_package-static "$EX/expected.txt" -- "$T/cm/host_static" alerts.rules events.txt
same find_package-lua "$EX/expected_lua.txt" -- "$T/cm/host_lua" alerts.rules user.lua events.txt

# 5. a stock lua5.4 with only the installed paths (and its own defaults,
# for lua-cjson): require "lore", lore.shipped() from share/lore
cd "$T" || exit 1
same lua-shipped "$HERE/shipped.expected" -- env LD_PRELOAD="$PRELOAD" ASAN_OPTIONS=detect_leaks=0 \
  LUA_CPATH="$P/lib/lua/5.4/?.so;;" LUA_PATH="$P/share/lua/5.4/?.lua;;" lua5.4 "$HERE/shipped.lua" "$P"
printf 'false\t/nowhere\tcannot load the shipped knowledge: /nowhere/knowledge/press.json: No such file or directory\n' \
  >"$T/home.expected"
same lua-lore-home "$T/home.expected" -- env LD_PRELOAD="$PRELOAD" ASAN_OPTIONS=detect_leaks=0 \
  LORE_HOME=/nowhere LUA_CPATH="$P/lib/lua/5.4/?.so;;" lua5.4 -e \
  'local lore = require "lore"; local ok, e = pcall(lore.shipped); print(ok, lore.home, e)'

# 6. the installed program: it reads the share/lore of the prefix it was
# configured for (the one the tests install into is another: $LORE_HOME)
printf '%s\n' "${CONFIGURED_HOME:-unknown}" >"$T/confhome.expected"
same lore-home-configured "$T/confhome.expected" -- "$P/bin/lore" --empty -e 'print(lore.home)'
printf 'lore 0.1.0 (Lua 5.4)\n' >"$T/version.expected"
same lore-version "$T/version.expected" -- "$P/bin/lore" --version
printf 'true\t20\n' >"$T/prog.expected"
same lore-shipped "$T/prog.expected" -- env LORE_HOME="$P/share/lore" "$P/bin/lore" -e \
  'print(#kb > 600, kb:value("signatory_count", "value"))'

[ $fails = 0 ] && echo "all install checks passed" || echo "$fails failed"
exit $fails
