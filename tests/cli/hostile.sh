#!/bin/sh
# hostile.sh - a data file cannot kill the program: `lore -k` on a 40 KB
# rule file nested far past the limit, on a JSON knowledge file of the
# same kind, and a query nested as deep from -e, each print lore's message
# and exit 1.
# Usage: hostile.sh LORE_BINARY
set -u
LORE=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
check() { # NAME GOT WANT
  if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1"; echo "--- expected"; echo "$3"; echo "--- got"; echo "$2"; fails=$((fails + 1)); fi
}
# 20,000 braces each way: 40 KB
{
  printf 'deep: ?x q ?y :-\n  '
  i=0; while [ $i -lt 1000 ]; do printf '{{{{{{{{{{{{{{{{{{{{'; i=$((i + 1)); done
  printf ' ?x p ?y '
  i=0; while [ $i -lt 1000 ]; do printf '}}}}}}}}}}}}}}}}}}}}'; i=$((i + 1)); done
  printf '\n'
} > "$tmp/deep.rules"
"$LORE" -k "$tmp/deep.rules" -e 'print(1)' > "$tmp/out" 2>&1
check deep-rules-status "$?" "1"
check deep-rules-message "$(cat "$tmp/out")" "lore: $tmp/deep.rules:2:1003: nesting deeper than 1000"
{
  printf '{"lore": 1, "facts": '
  i=0; while [ $i -lt 1000 ]; do printf '[[[[[[[[[[[[[[[[[[[['; i=$((i + 1)); done
  i=0; while [ $i -lt 1000 ]; do printf ']]]]]]]]]]]]]]]]]]]]'; i=$((i + 1)); done
  printf '}\n'
} > "$tmp/deep.json"
"$LORE" -k "$tmp/deep.json" -e 'print(1)' > "$tmp/out" 2>&1
check deep-json-status "$?" "1"
check deep-json-message "$(cat "$tmp/out")" "lore: $tmp/deep.json:1:1021: nesting deeper than 1000"
"$LORE" --empty -e 'print(kb:q(string.rep("{", 100000)))' > "$tmp/out" 2>&1
check deep-query-status "$?" "1"
check deep-query-message "$(cat "$tmp/out")" "lore: (command line):1: bad argument #1 to 'q' (query:1:1001: nesting deeper than 1000)"
exit $fails
