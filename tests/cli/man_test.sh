#!/bin/sh
# man_test.sh - the lore(1) man page (doc/lore.1) against the program: every
# option `lore --help` lists is described in its OPTIONS section, the usual
# sections are there, and, where groff (and man) are installed, it renders
# without a warning.
# Usage: man_test.sh LORE ROOT
LORE=$1
PAGE=$2/doc/lore.1
fails=0

# The options of the help text: the first word of each line indented by two.
opts=$("$LORE" --help | sed -n 's/^  \(-[^ ,]*\).*/\1/p')
[ -n "$opts" ] || { echo "FAIL no options found in lore --help"; exit 1; }

# The options the page describes: the first word of each .B/.BI/.BR line
# right after a .TP in OPTIONS, with \- read as -.
described=$(awk '
  /^\.SH / { in_opts = ($2 == "OPTIONS") ; next }
  in_opts && /^\.TP/ { tag = 1; next }
  in_opts && tag { tag = 0; if ($1 ~ /^\.B[IR]?$/) print $2 }
' "$PAGE" | sed 's/\\-/-/g; s/,$//; s/"//g')

for o in $opts; do
  if printf '%s\n' "$described" | grep -qx -- "$o"; then
    echo "ok   option $o"
  else
    echo "FAIL option $o (in lore --help) is not described in the OPTIONS of doc/lore.1"
    fails=$((fails + 1))
  fi
done

for s in NAME SYNOPSIS DESCRIPTION OPTIONS ENVIRONMENT FILES "EXIT STATUS" EXAMPLES "SEE ALSO"; do
  if ! grep -qx ".SH \"*$s\"*" "$PAGE"; then
    echo "FAIL section $s is missing"
    fails=$((fails + 1))
  fi
done

# Rendering: groff's warnings (all of them, -ww), and man's own.
if command -v groff >/dev/null 2>&1; then
  warn=$(groff -man -ww -z "$PAGE" 2>&1)
  if [ -n "$warn" ]; then
    echo "FAIL groff warns:"; echo "$warn" | head -10
    fails=$((fails + 1))
  else
    echo "ok   groff renders it without warnings"
  fi
  if command -v man >/dev/null 2>&1; then
    warn=$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$PAGE" 2>&1 >/dev/null)
    if [ -n "$warn" ]; then
      echo "FAIL man warns:"; echo "$warn" | head -10
      fails=$((fails + 1))
    else
      echo "ok   man renders it without warnings"
    fi
  fi
else
  echo "skip rendering: groff is not installed (Debian: groff-base)"
fi

[ $fails = 0 ] && echo "all passed" || echo "$fails failed"
[ $fails = 0 ]
