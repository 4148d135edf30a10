#!/bin/sh
# test_cli.sh - the lore program: options, exit statuses, script output,
# piped input.  Usage: test_cli.sh LORE_BINARY SOURCE_DIR
set -u
LORE=$1
ROOT=$2
cd "$ROOT" || exit 1
fails=0
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

# expect NAME STATUS STDOUT STDERR -- command... (stdin from $IN if set)
expect() {
  name=$1 status=$2 want_out=$3 want_err=$4
  shift 5
  if [ -n "${IN+x}" ]; then
    printf '%b' "$IN" | "$@" >"$out" 2>"$err"
  else
    "$@" </dev/null >"$out" 2>"$err"
  fi
  got=$?
  ok=1
  [ "$got" = "$status" ] || { echo "FAIL $name: status $got, expected $status"; ok=0; }
  if [ "$(cat "$out")" != "$want_out" ]; then
    echo "FAIL $name: stdout"; echo "--- expected"; printf '%s\n' "$want_out"; echo "--- got"; cat "$out"; ok=0
  fi
  if [ "$(cat "$err")" != "$want_err" ]; then
    echo "FAIL $name: stderr"; echo "--- expected"; printf '%s\n' "$want_err"; echo "--- got"; cat "$err"; ok=0
  fi
  [ $ok = 1 ] && echo "ok   $name" || fails=$((fails + 1))
}

expect version 0 "lore 0.1.0 (Lua 5.4)" "" -- "$LORE" --version
expect help 0 "$("$LORE" --help)" "" -- "$LORE" --help
usage=$("$LORE" --help)
expect unknown-option 2 "" "lore: unknown option: --bogus
$usage" -- "$LORE" --bogus
expect missing-argument 2 "" "lore: option needs an argument: -e
$usage" -- "$LORE" -e
expect exec 0 "3" "" -- "$LORE" --empty -e "print(1 + 2)"

# -q: a query's rows, as a table or for other tools; --export - to stdout
TRICKY='kb:add("a", "says", lore.text("x, \"y\"\nz\tw", "en")); kb:add("b", "says", 2.5); kb:add("c", "when", lore.date("2024-07-11"))'
expect query-table 0 "x  l
-  -------------------
a  \"x, \\\"y\\\"\\nz\\9w\"@en
b  2.5
(2 rows)" "" -- "$LORE" --empty -e "$TRICKY" -q "?x says ?l"
"$LORE" --empty -e "$TRICKY" --csv -q "?x says ?l . optional { ?x when ?d }" >"$out" 2>"$err"
if python3 -c '
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert rows == [["x", "l", "d"], ["a", "x, \"y\"\nz\tw", ""], ["b", "2.5", ""]], rows
assert open(sys.argv[1], "rb").read().count(b"\r\n") == 3
' "$out" && [ ! -s "$err" ]; then echo "ok   query-csv"; else echo "FAIL query-csv"; cat "$out" "$err"; fails=$((fails + 1)); fi
"$LORE" --empty -e "$TRICKY" --json -q "?x ?p ?v" >"$out" 2>"$err"
if python3 -c '
import json, sys
rows = json.load(open(sys.argv[1]))
assert rows == [{"x": "a", "p": "says", "v": "x, \"y\"\nz\tw"}, {"x": "b", "p": "says", "v": 2.5},
                {"x": "c", "p": "when", "v": "2024-07-11"}], rows
' "$out" && [ ! -s "$err" ]; then echo "ok   query-json"; else echo "FAIL query-json"; cat "$out" "$err"; fails=$((fails + 1)); fi
expect query-tsv 0 "x	l
a	x, \"y\"\\nz\\tw
b	2.5" "" -- "$LORE" --empty -e "$TRICKY" --tsv -q "?x says ?l"
expect query-error 1 "" "lore: bad argument #1 to 'q' (query:1:3: expected a predicate or a path, got end of text)" \
  -- "$LORE" --empty -q "?x"
expect export-stdout 0 '<urn:lore:a> <urn:lore:p> "1"^^<http://www.w3.org/2001/XMLSchema#integer> .' "" \
  -- "$LORE" --empty -e 'kb:add("a", "p", 1)' --export -
expect export-stdout-turtle 0 "@prefix lore: <urn:lore:> .

lore:a
	lore:p 1 ." "" -- "$LORE" --empty -e 'kb:add("a", "p", 1)' --format ttl --export -
expect shipped-kb 0 "703" "" -- "$LORE" -e "print(#kb)"
expect empty-kb 0 "0" "" -- "$LORE" --empty -e "print(#kb)"
expect k-file 0 "9" "" -- "$LORE" -k tests/data/json/good.json -e "print(#kb)"
expect k-bad-file 1 "" "lore: tests/data/json/bad/short-fact.json:5:5: facts[1]: expected a fact of 3 terms (or 4 with a source), got 2" \
  -- "$LORE" -k tests/data/json/bad/short-fact.json -e "print(#kb)"
dir=$(mktemp -d) && mkdir "$dir/x.json"
expect k-directory 1 "" "lore: $dir/x.json: is a directory" -- "$LORE" -k "$dir/x.json" -e "print(#kb)"
rm -rf "$dir"
expect k-big-integer 1 "" "lore: tests/data/bad/beyond-2-53.json:2:14: expected a number a double holds exactly, got 9007199254740993 (write an integer beyond 2^53 as {\"integer\": \"9007199254740993\"})" \
  -- "$LORE" -k tests/data/bad/beyond-2-53.json -e "print(#kb)"
expect script-error 1 "" "lore: tests/cli/fail.lua:3: boom at 1" -- "$LORE" --empty tests/cli/fail.lua
expect exec-error 1 "" "lore: (command line):1: attempt to call a nil value (global 'nope')" -- "$LORE" --empty -e "nope()"
expect missing-script 1 "" "lore: cannot open nofile.lua: No such file or directory" -- "$LORE" --empty nofile.lua
expect syntax-error 1 "" "lore: (command line):1: unexpected symbol near '+'" -- "$LORE" --empty -e "+"
expect args 0 "2	tests/cli/args.lua	a	b	2	a	b
0" "" -- "$LORE" --empty tests/cli/args.lua a b
expect bilateral-accords 0 "$(cat tests/cli/expected/bilateral-accords.out)" "" -- "$LORE" scripts/bilateral-accords.lua
expect commitments 0 "$(cat tests/cli/expected/commitments.out)" "" -- "$LORE" scripts/commitments.lua
for s in timeline who-met-whom decisions countries; do
  expect "$s" 0 "$(cat tests/cli/expected/$s.out)" "" -- "$LORE" scripts/$s.lua
done
expect find-Pologne 0 "$(cat tests/cli/expected/find-Pologne.out)" "" -- "$LORE" scripts/find.lua Pologne
expect find-la-haye 0 "$(cat tests/cli/expected/find-la-haye.out)" "" -- "$LORE" scripts/find.lua la haye
expect find-nothing 0 'Nothing is named or described like "zzz".' "" -- "$LORE" scripts/find.lua zzz
expect find-usage 2 "" "usage: lore scripts/find.lua WORDS   (e.g. Pologne, \"La Haye\", coree, nsatu)" -- "$LORE" scripts/find.lua
# the same scripts under a stock lua5.4 with the module on its path
if [ -n "${LORE_MODULE_DIR:-}" ]; then
  expect stock-lua 0 "$(cat tests/cli/expected/bilateral-accords.out)" "" -- \
    lua5.4 -e "package.cpath='$LORE_MODULE_DIR/?.so;'..package.cpath" scripts/bilateral-accords.lua
fi

# standard input: a script when not a terminal, lines with -i
IN='print("from stdin")\nprint(#kb)\n' expect stdin-script 0 "from stdin
0" "" -- "$LORE" --empty
IN='print(1)\n' expect dash-script 0 "1" "" -- "$LORE" --empty -
IN='x = 41\nx + 1\nfor i = 1, 2 do\n  print(i)\nend\nerror("oops")\nprint("after")\nkb:count()\n"a", 2, nil\n{1, 2, k = "v"}\nlore.text("La Haye", "fr")\n' \
  expect repl-piped 0 "42
1
2
after
0
a	2	nil
{1, 2, k = v}
\"La Haye\"@fr" "lore: stdin:1: oops" -- "$LORE" --empty -i
IN='for i = 1, 2 do\n' expect repl-incomplete 0 "" "lore: stdin:1: 'end' expected near <eof>" -- "$LORE" --empty -i
IN='kb:add("a", "p", "b")\nkb:add("a", "q", 1)\nkb:match("a", nil, nil)\n' expect repl-match 0 "true
true
a  p  b
a  q  1
(2 facts)" "" -- "$LORE" --empty -i

IN='kb:add("a", "p", "b")\nkb:add("a", "p", 2)\nkb:q "?x p ?y"\nkb:q "?x p nothing"\nkb:q "?x p"\n' \
  expect repl-query 0 "true
true
x  y
-  -
a  b
a  2
(2 rows)
x
(no rows)
no fact uses 'nothing'" "lore: stdin:1: bad argument #1 to 'q' (query:1:5: expected an object (a term or a variable), got end of text)" \
  -- "$LORE" --empty -i
# hints under an empty result: a misspelt name, a string where texts are
IN='kb:add("ann", "beneficiary", "bob")\nkb:add("ann", "label", lore.text("Anne", "fr"))\nkb:q "?x benefeciary ?y"\nkb:match(nil, "label", "Anne")\nkb:hint("?x benefeciary ?y")\n' \
  expect repl-hints 0 "true
true
x  y
(no rows)
no fact uses 'benefeciary'; did you mean 'beneficiary'?
(no facts)
'Anne' is a symbol, not a text; the facts hold lore.text(\"Anne\", \"fr\")
{no fact uses 'benefeciary'; did you mean 'beneficiary'?}" "" -- "$LORE" --empty -i
# view(x): kb:dot drawn by Graphviz where dot is installed, a clear message where not
expect view-no-dot 0 "nil	view: Graphviz's dot is not installed (Debian: apt-get install graphviz); kb:dot(x) gives the DOT text" "" \
  -- env PATH=/nonexistent "$LORE" -e 'print(view("poland"))'
if command -v dot >/dev/null 2>&1; then
  expect view-svg 0 "true	true" "" -- "$LORE" -e 'local f = view("poland", {file = os.tmpname() .. ".svg"}); local h = io.open(f):read("a"); os.remove(f); print(h:find("<svg") ~= nil, h:find("Poland", 1, true) ~= nil)'
else
  echo "skip view-svg: Graphviz's dot is not installed"
fi
expect script-no-hints 0 "0" "" -- "$LORE" --empty -e 'kb:add("a", "p", "b"); print(kb:q("?x benefeciary ?y"):count())'

# Ctrl-C stops a long operation inside the C core: an error, not a killed
# process; a join, the Lua-pattern matcher, reading and planning a huge query
for long in long_query long_match long_plan; do
  : >"$out" # emptied here: the job's own redirection may come after the first grep
  "$LORE" --empty tests/cli/$long.lua >"$out" 2>"$err" &
  pid=$!
  tries=0
  while ! grep -q ready "$out" && [ $tries -lt 200 ]; do sleep 0.05; tries=$((tries + 1)); done
  sleep 0.2
  kill -INT $pid
  wait $pid
  got=$?
  if [ "$got" = 1 ] && [ "$(cat "$out")" = "ready" ] && [ "$(cat "$err")" = "lore: interrupted" ]; then
    echo "ok   interrupt ($long)"
  else
    echo "FAIL interrupt ($long): status $got, stdout $(cat "$out"), stderr $(cat "$err")"
    fails=$((fails + 1))
  fi
done

# REPL.md: every example's output, in one session, exactly as the document shows it
doc=$(mktemp -d)
"$LORE" --empty tests/cli/repl_doc.lua REPL.md "$doc/commands" "$doc/expected"
# (errors appear in the document where they happen: stderr goes with stdout)
"$LORE" -i <"$doc/commands" >"$doc/got" 2>&1
if cmp -s "$doc/expected" "$doc/got"; then
  echo "ok   repl-md"
else
  echo "FAIL repl-md: REPL.md shows other output"; diff "$doc/expected" "$doc/got" | head -20
  fails=$((fails + 1))
fi
rm -rf "$doc"

[ $fails = 0 ] && echo "all passed" || echo "$fails failed"
[ $fails = 0 ]
