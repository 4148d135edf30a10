#!/bin/sh
# setup-rig.sh - prepares the peer rig that the benchmarks run lore beside:
# a writable copy of the shared rig (read-only where it lives) in bench/rig,
# its peers installed (Debian packages, and n3 and oxigraph from npm) and
# its data generated (about 720 MB, byte-identical for the same seed).
#   bench/setup-rig.sh [SHARED_RIG]        (default ../shared/bench)
# The benchmark scripts use bench/rig unless RIG (or their argument) says
# otherwise.  Running it again keeps the data already generated.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=${1:-$here/../../shared/bench}
dst=${RIG:-$here/rig}
[ -f "$src/harness.py" ] || { echo "setup-rig: no rig at $src (give its path)" >&2; exit 2; }

packages="serdi sordi raptor2-utils swi-prolog-nox clips gringo python3-rdflib lua5.4 time"
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
command -v npm >/dev/null || missing="$missing nodejs npm" # node may come from elsewhere
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update && apt-get install -y $missing
  else
    echo "setup-rig: missing packages; run: sudo apt-get install -y$missing" >&2
    exit 1
  fi
fi

mkdir -p "$dst"
cp "$src"/*.py "$src"/*.sh "$src"/README.md "$dst"/
mkdir -p "$dst/peers"
for f in "$src"/peers/*; do
  [ -d "$f" ] || cp "$f" "$dst/peers/"
done
(cd "$dst/peers" && npm install --no-audit --no-fund >/dev/null)
if [ -f "$dst/data/w1-5m.nt" ] && [ -f "$dst/data/w2-chain.nt" ]; then
  echo "setup-rig: data already in $dst/data"
else
  (cd "$dst" && python3 gen.py all)
fi
echo "setup-rig: the rig is ready in $dst"
