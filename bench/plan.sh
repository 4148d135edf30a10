#!/bin/sh
# plan.sh - planning time of chained queries of 10 to 100,000 patterns and
# the pattern matcher's worst case under its step budget (bench/plan.lua),
# with the machine's load before and after.
#   bench/plan.sh [RUNS]          (default 5)
set -eu
here=$(dirname "$(readlink -f "$0")")
uptime
"$here/../build/lore" --empty "$here/plan.lua" "${1:-5}"
uptime
