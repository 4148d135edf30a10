#!/bin/sh
# rules.sh - rule files on the command line: lore -k loads a .rules file
# beside facts, a bad one stops the program with file:line:col.
# Usage: rules.sh LORE_BINARY
set -u
LORE=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
check() { # NAME GOT WANT
  if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1"; echo "--- expected"; echo "$3"; echo "--- got"; echo "$2"; fails=$((fails + 1)); fi
}
cat > "$tmp/family.nt" <<'NT'
<http://example.org/a> <http://example.org/parent> <http://example.org/b> .
<http://example.org/b> <http://example.org/parent> <http://example.org/c> .
NT
cat > "$tmp/family.rules" <<'R'
# ancestors
base: ?x anc ?y :- ?x <http://example.org/parent> ?y
step: ?x anc ?z :-
    ?x <http://example.org/parent> ?y, ?y anc ?z
R
got=$("$LORE" -k "$tmp/family.nt" -k "$tmp/family.rules" -e 'kb:infer() print(kb:count(nil, "anc", nil), #kb:rules())' 2>&1)
check k-rules "$got" "3	2"
got=$("$LORE" -k "$tmp/family.nt" -k "$tmp/family.rules" -e 'kb:infer() print(kb:why("<http://example.org/a>", "anc", "<http://example.org/c>"))' 2>&1)
check k-why "$got" "<http://example.org/a> anc <http://example.org/c>  [rule step: ?x = <http://example.org/a>, ?y = <http://example.org/b>, ?z = <http://example.org/c>]
  <http://example.org/a> <http://example.org/parent> <http://example.org/b>  [asserted]
  <http://example.org/b> anc <http://example.org/c>  [rule base: ?x = <http://example.org/b>, ?y = <http://example.org/c>]
    <http://example.org/b> <http://example.org/parent> <http://example.org/c>  [asserted]"
printf 'bad: ?x anc ?y :-\n    ?x parent\n' > "$tmp/bad.rules"
"$LORE" -k "$tmp/bad.rules" -e 'print(1)' > "$tmp/out" 2>&1
status=$?
check k-bad-status "$status" "1"
check k-bad-message "$(cat "$tmp/out")" "lore: $tmp/bad.rules:2:14: expected an object (a term or a variable), got end of text"
# Ctrl-C stops a runaway inference inside the C core: an error, not a kill
out=$tmp/out2 err=$tmp/err2
"$LORE" --empty "$(dirname "$0")/long_infer.lua" >"$out" 2>"$err" &
pid=$!
tries=0
while ! grep -q ready "$out" 2>/dev/null && [ $tries -lt 200 ]; do sleep 0.05; tries=$((tries + 1)); done
sleep 0.3
kill -INT $pid
wait $pid
check interrupt "$?:$(cat "$out"):$(cat "$err")" "1:ready:lore: interrupted"
exit $fails
