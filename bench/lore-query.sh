#!/bin/sh
# lore-query.sh - lore as a peer of the shared benchmark rig for the query
# tasks (the rig's README, section 4): `join` (W3, counted) and `closure`
# (W2 as the path query ?a parent+ ?b, counted).  `load` is the formats
# driver's (bench/lore.sh); this one says "not supported" (exit 3).
# Link it into a copy of the rig as peers/lore-query.sh.  LORE_JOIN=worst
# writes W3's patterns in the worst order (peers/lore-query-worst.sh).
# Needs the build: cmake --build build --target query_bench
here=$(dirname "$(readlink -f "$0")")
bin=${LORE_QUERY_BENCH:-$here/../build/bench/query_bench}
case "$1" in
version) exec "$bin" version ;;
join) [ "${LORE_JOIN:-}" = worst ] && exec "$bin" join-worst "$2"; exec "$bin" join "$2" ;;
closure) exec "$bin" closure "$2" ;;
*) exit 3 ;;
esac
