/* lpat.h - Lua 5.4 string patterns, matched in C so that `match` filters
 * need no Lua state (the core knows nothing of Lua).
 *
 * Supported as in Lua's manual (section 6.4.1): single characters, `.`,
 * the classes %a %c %d %g %l %p %s %u %w %x and their complements in upper
 * case, %-escapes of punctuation, sets `[...]` with ranges, classes and `^`,
 * the quantifiers `*` `+` `-` `?`, the anchors `^` and `$`, `%b()` and
 * `%f[set]`.  Captures `(...)` and `()` only group; back-references `%1`
 * are refused at compile time.  Classes follow the C locale (bytes over
 * 127 belong to no class), as Lua does by default. */
#ifndef LORE_LPAT_H
#define LORE_LPAT_H

#include <stddef.h>

/* Checks that p[0..n) is a well-formed pattern.  Returns NULL, or a static
 * description of the problem. */
const char *lpat_check(const char *p, size_t n);

enum {
    LPAT_MAX_DEPTH = 200,        /* recursion bound, as Lua's MAXCCALLS */
    LPAT_MAX_STEPS = 1 << 26,    /* matcher steps for one subject (about a second) */
    LPAT_POLL_STEPS = 1 << 16,   /* steps between two calls of the poll function */
    LPAT_TOO_DEEP = -1,
    LPAT_TOO_LONG = -2,
    LPAT_STOPPED = -3
};

/* 1 if the (checked) pattern matches somewhere in s[0..sn) (as
 * string.find(s, p) ~= nil), 0 if not; LPAT_TOO_DEEP when the recursion
 * goes deeper than LPAT_MAX_DEPTH, LPAT_TOO_LONG after LPAT_MAX_STEPS
 * steps (a backtracking pattern can take exponential time: Lua's own
 * matcher has no such bound), LPAT_STOPPED when poll (called every
 * LPAT_POLL_STEPS steps; may be NULL) returns non-zero. */
int lpat_find(const char *s, size_t sn, const char *p, size_t pn, int (*poll)(void *), void *ud);

/* Walks s[0..sn) from byte `init` as Lua's string.gsub and gmatch (and,
 * with max 1, find and match) try the pattern: at each position, a match
 * moves on past it, no match one byte on; at most max matches.  Only the
 * work is of interest (a host bounding Lua's own matcher runs this first):
 * 0 when done, or LPAT_TOO_DEEP, LPAT_TOO_LONG (LPAT_MAX_STEPS steps over
 * the whole walk), LPAT_STOPPED. */
int lpat_walk(const char *s, size_t sn, size_t init, const char *p, size_t pn, size_t max,
              int (*poll)(void *), void *ud);

#endif
