#!/bin/sh
# lore-query-worst.sh - W3 written in the worst order (see lore-query.sh).
LORE_JOIN=worst exec "$(dirname "$(readlink -f "$0")")/lore-query.sh" "$@"
