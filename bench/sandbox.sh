#!/bin/sh
# sandbox.sh - the sandbox's cost (bench/sandbox.lua), with the load before
# and after.   bench/sandbox.sh [RUNS]     (default 7)
set -eu
here=$(dirname "$(readlink -f "$0")")
uptime
"$here/../build/lore" --empty "$here/sandbox.lua" "${1:-7}"
uptime
