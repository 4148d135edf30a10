#!/bin/sh
# test_rock.sh - the rockspec: `luarocks make` builds lore (in build-rock)
# and installs it into a tree in the build directory; a stock lua5.4 with
# that tree's paths requires lore and opens the shipped knowledge, and the
# rock's lore program finds it too, with no LORE_HOME.  Run by
# `make test-rock`, not by ctest: it builds lore once more.
# Usage: test_rock.sh SOURCE_DIR TREE
set -u
SRC=$1 TREE=$2
rm -rf "$TREE"
cd "$SRC" || exit 1
unset LORE_HOME LUA_PATH LUA_CPATH LUA_PATH_5_4 LUA_CPATH_5_4
if ! luarocks --lua-version=5.4 make rockspecs/lore-0.1.0-1.rockspec --tree "$TREE" >"$TREE.log" 2>&1; then
  cat "$TREE.log"; echo "FAIL luarocks make"; exit 1
fi
echo "ok   luarocks make"
eval "$(luarocks --lua-version=5.4 --tree "$TREE" path)"
cd "$TREE" || exit 1
fails=0
if lua5.4 "$SRC/tests/install/shipped.lua" "$TREE" | cmp -s - "$SRC/tests/install/shipped.expected"; then
  echo "ok   lua-shipped"
else
  echo "FAIL lua-shipped"; lua5.4 "$SRC/tests/install/shipped.lua" "$TREE"; fails=$((fails + 1))
fi
got=$("$TREE/bin/lore" -e 'print(#kb > 600, kb:value("signatory_count", "value"))' 2>&1)
if [ "$got" = "$(printf 'true\t20')" ]; then echo "ok   lore-program"; else
  echo "FAIL lore-program: $got"; fails=$((fails + 1)); fi
[ $fails = 0 ] && echo "the rock works" || echo "$fails failed"
exit $fails
