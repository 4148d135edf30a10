#!/bin/sh
# lore.sh - lore as one more peer of the benchmark rig (the rig's README,
# section 4): `lore.sh version | load FILE | closure FILE | join FILE`.
# Linked into a copy of the rig as peers/lore.sh; finds the lore program
# of this checkout (build/lore, or $LORE).
here=$(dirname "$(readlink -f "$0")")
lore=${LORE:-$here/../build/lore}
case "$1" in
  version) "$lore" --version | awk '{print $2}' ;;
  load) exec "$lore" --empty "$here/lore_driver.lua" "$@" ;;
  *) exit 3 ;; # closure and join come with the query and rules issues
esac
