#!/bin/sh
# cspa.sh - the pointer analysis of bench/general.sh (its figures in
# bench/RESULTS.md were made with this name).
#   bench/cspa.sh [SIZES...]   (a size: N,A,D,SEED)
exec "$(dirname "$(readlink -f "$0")")/general.sh" cspa "$@"
