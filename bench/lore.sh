#!/bin/sh
# lore.sh - lore as one more peer of the benchmark rig (the rig's README,
# section 4): `lore.sh version | load FILE | closure FILE | join FILE | sg FILE`.
# Linked into a copy of the rig as peers/lore.sh; finds the lore program
# of this checkout (build/lore, or $LORE) and the drivers in build/bench.
#   load     the lore program reads the file (lore_driver.lua)
#   closure  rules materialise anc (bench/rules_bench.c)
#   join     the query engine counts W3 (bench/query_bench.c)
#   sg       rules materialise W4 same generation (bench/rules_bench.c)
here=$(dirname "$(readlink -f "$0")")
lore=${LORE:-$here/../build/lore}
case "$1" in
  version) "$lore" --version | awk '{print $2}' ;;
  load) exec "$lore" --empty "$here/lore_driver.lua" "$@" ;;
  closure) exec "${LORE_RULES_BENCH:-$here/../build/bench/rules_bench}" closure "$2" ;;
  join) exec "${LORE_QUERY_BENCH:-$here/../build/bench/query_bench}" join "$2" ;;
  sg) exec "${LORE_RULES_BENCH:-$here/../build/bench/rules_bench}" sg "$2" ;;
  *) exit 3 ;;
esac
