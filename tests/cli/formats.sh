#!/bin/sh
# formats.sh - the lore program's file options: -k in every format (by
# extension or --format), --export, messages for bad files, and no progress
# output when stderr is not a terminal.  Run in tests/data with the lore
# program as $1.
set -u
lore=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fail() { echo "not ok: $*" >&2; exit 1; }
ok() { n=$((n + 1)); echo "ok $n $1"; }

# a conversion: Turtle in, N-Quads out, nothing on stderr
"$lore" -k formats/all.ttl --export "$tmp/a.nq" 2>"$tmp/err" || fail "convert"
[ -s "$tmp/err" ] && fail "stderr not empty: $(cat "$tmp/err")"
"$lore" -k "$tmp/a.nq" --export "$tmp/b.nq" || fail "reconvert"
cmp -s "$tmp/a.nq" "$tmp/b.nq" || fail "N-Quads written twice differ"
ok "-k FILE --export OUT converts, deterministically"

# every format, several files, a script, then the export
out=$("$lore" -k formats/all.nt -k formats/all.nq -k formats/all.trig -k formats/all.json \
      -e 'kb:add("extra", "fact", 1)' -e 'print(#kb)' --export "$tmp/all.json") || fail "load all"
[ "$out" = 87 ] || fail "expected 87 facts, got $out"
out=$("$lore" -k "$tmp/all.json" -e 'print(#kb, kb:count("extra", "fact", 1))') || fail "reload"
[ "$out" = "87	1" ] || fail "reloaded: $out"
ok "several -k files of every format, -e, then --export"

# --format for a file without a known extension
cp formats/all.nt "$tmp/noext"
out=$("$lore" --format nt -k "$tmp/noext" -e 'print(#kb)') || fail "--format"
[ "$out" = 49 ] || fail "--format: $out"
out=$("$lore" -k "$tmp/noext" -e 'print(#kb)' 2>&1) && fail "no extension should fail"
[ "$out" = "lore: $tmp/noext: no format (the name has no extension) (expected one of: json, lore, nq, nquads, nt, ntriples, rules, trig, ttl, turtle)" ] || fail "no extension: $out"
ok "--format FMT for the -k files after it"

# a malformed file: the exact message, exit status 1, no REPL or script
while IFS= read -r line; do
  case $line in '#'*) continue ;; esac
  file=${line%%:*}
  out=$("$lore" -k "bad/$file" -e 'print("ran")' 2>&1) && fail "bad/$file loaded"
  [ "$out" = "lore: bad/$line" ] || fail "bad/$file: $out"
done < bad/messages.txt
ok "malformed files: exact messages on stderr, exit status 1"

# export errors
out=$("$lore" --empty --export "$tmp/x.unknown" 2>&1) && fail "unknown export format"
[ "$out" = "lore: $tmp/x.unknown: unknown format (expected a name ending in .nt, .nq, .ttl, .trig or .json, or a format in the options)" ] || fail "export: $out"
out=$("$lore" --empty --export "$tmp/missing/x.nt" 2>&1) && fail "export to a missing directory"
[ "$out" = "lore: $tmp/missing/x.nt: No such file or directory" ] || fail "export: $out"
ok "--export errors"

# the REPL does not start when only converting; -i keeps it
out=$(echo 'print("repl ran")' | "$lore" -k formats/all.nt --export "$tmp/c.nt") || fail "no repl"
[ -z "$out" ] || fail "REPL ran: $out"
out=$(echo 'print("repl ran")' | "$lore" -i -k formats/all.nt --export "$tmp/d.nt") || fail "-i"
[ "$out" = "repl ran" ] || fail "-i: $out"
cmp -s "$tmp/c.nt" "$tmp/d.nt" || fail "-i export differs"
ok "--export without -i runs no REPL"
echo "$n checks passed"
