-- lore-0.1.0-1.rockspec - the lore Lua module as a rock, built from this
-- source tree with CMake:
--   luarocks --lua-version=5.4 make rockspecs/lore-0.1.0-1.rockspec [--tree DIR]
-- It installs the module (require "lore"), the shipped knowledge (found by
-- lore.shipped()) and the lore program.  Needs, as Debian packages: cmake,
-- a C compiler, pkg-config, liblua5.4-dev, lua-cjson, libserd-dev,
-- libedit-dev, libcmocka-dev, libutf8proc-dev and libstemmer-dev (the
-- configure step looks for all of them).
rockspec_format = "3.0"
package = "lore"
version = "0.1.0-1"
source = {
  url = "git+file://.", -- built from a checkout: luarocks make
}
description = {
  summary = "A knowledge engine: facts with sources, queries, rules with proofs",
  detailed = [[
lore keeps subject-predicate-object facts with their sources, answers
queries, derives facts with rules and explains each derived fact down to
the sentences it came from. A C core with a Lua 5.4 module.]],
}
dependencies = {
  "lua >= 5.4, < 5.5",
}
external_dependencies = {
  SERD = { header = "serd-0/serd/serd.h" },
  UTF8PROC = { header = "utf8proc.h" },
  STEMMER = { header = "libstemmer.h" },
}
build = {
  type = "command",
  -- its own build directory (build-rock, ignored by git); only what the
  -- rock installs is built: the module, the program and the libraries
  build_command = [[
cmake -S . -B build-rock -DCMAKE_BUILD_TYPE=Release "-DCMAKE_INSTALL_PREFIX=$(PREFIX)" "-DLORE_LUA_CMOD_DIR=$(LIBDIR)" >/dev/null &&
cmake --build build-rock -j2 --target lore_module_install lore_install
]],
  install_command = [[
cmake --install build-rock --component lua &&
cmake --install build-rock --component data &&
cmake --install build-rock --component program
]],
}
