#!/bin/sh
# snapshot.sh - benchmark of snapshots (not a test): for each W1 file, the
# time to load the N-Triples through the batch API, serdi's parse-only time
# beside it, the time to save the snapshot and to open it again (medians),
# written as the "Snapshots" section of bench/RESULTS.md (through
# bench/results.py, which keeps the other sections).
#
#   bench/snapshot.sh                       # w1-1m and w1-5m, 5 and 3 runs
#   DATA=/path/to/data FILES="w1-100k" RUNS=3 bench/snapshot.sh
#
# The N-Triples reader of snapshot_bench.c is a plain line splitter (the
# RDF loader of lore is not used), so the load figure is a floor for what
# loading N-Triples costs.
set -eu
cd "$(dirname "$0")/.."
DATA=${DATA:-${RIG:-bench/rig}/data}
[ -d "$DATA" ] || { echo "snapshot.sh: no data in $DATA: run bench/setup-rig.sh (or set DATA)" >&2; exit 2; }
FILES=${FILES:-"w1-1m w1-5m"}
BUILD=${BUILD:-build}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" --target snapshot_bench -j2 >/dev/null

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

rows=""
for f in $FILES; do
  nt="$DATA/$f.nt"
  [ -f "$nt" ] || { echo "snapshot.sh: $nt is missing" >&2; exit 1; }
  runs=${RUNS:-$(case $f in *5m*) echo 3 ;; *) echo 5 ;; esac)}
  serdi_t=""
  if command -v serdi >/dev/null 2>&1; then
    serdi_t=$(for i in $(seq "$runs"); do
      /usr/bin/time -f %e serdi -i ntriples -o ntriples "$nt" 2>&1 >/dev/null | tail -1
    done | median)
  fi
  res=$("$BUILD/bench/snapshot_bench" "$nt" "$TMP/$f.lore" "$runs")
  echo "$f: $res" | tr '\n' ' '; echo
  rm -f "$TMP/$f.lore"
  row=$(echo "$res" | awk -v f="$f" -v serdi="$serdi_t" '
    /^facts/   { facts=$2; terms=$4; bpf=$8; mb=$6/1e6; runs=$10 }
    /^load_nt/ { load=$2; lrate=$3 }
    /^save/    { save=$2; srate=$3 }
    /^open/    { open=$2; orate=$3 }
    END {
      printf "| %s | %d | %d | %.1f MB (%.1f B/fact) | %.3f s (%.2f M/s) | %s | %.3f s (%.1f M/s) | %.3f s (%.1f M/s) | %.1fx | %s |",
        f, facts, terms, mb, bpf, load, lrate, (serdi == "" ? "-" : serdi " s"), save, srate,
        open, orate, load / open, (serdi == "" ? "-" : sprintf("%.1fx", serdi / open))
    }')
  rows="$rows$row
"
done

cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
medians="Medians of 5 runs (3 for 5M)"
[ -n "${RUNS:-}" ] && medians="Medians of $RUNS runs"
cmd="bench/snapshot.sh"
[ -n "${RUNS:-}" ] && cmd="RUNS=$RUNS $cmd"
[ "$FILES" != "w1-1m w1-5m" ] && cmd="FILES=\"$FILES\" $cmd"
cat > "$TMP/section" <<EOF
Saving a knowledge base as a \`.lore\` snapshot and opening it again, against loading the same
facts from N-Triples.  $medians; $(date -u +%Y-%m-%d), $(nproc) cores ($cpu).

Command: \`$cmd\` (DATA=$DATA)

| file | facts | terms | snapshot | load N-Triples (batch API) | serdi parse only | save | open | open vs load | open vs serdi |
|---|---|---|---|---|---|---|---|---|---|
$rows
- *load N-Triples*: \`bench/snapshot_bench.c\` splits lines and interns terms through
  \`lore_batch_*\`, one commit: a floor for any N-Triples loader (no escapes, no datatype
  mapping).  *serdi parse only*: \`serdi -i ntriples -o ntriples FILE >/dev/null\`, whole process.
- *save*: \`lore_save\` (temporary file, fsync, rename, directory fsync).  *open*: \`lore_open\`
  into a new kb: read, verify every checksum, intern the terms, build the store's three
  orderings from the saved sorted rows.
EOF

# bench/RESULTS.md is made of marked sections: this script replaces its own
python3 -c 'import sys; sys.path.insert(0, "bench"); import results; results.write_section("Snapshots", open(sys.argv[1]).read())' "$TMP/section"
echo "written: bench/RESULTS.md (section Snapshots)"
