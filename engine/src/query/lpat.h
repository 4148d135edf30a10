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

/* 1 if the (checked) pattern matches somewhere in s[0..sn) (as
 * string.find(s, p) ~= nil), 0 if not, -1 if it is too complex (too
 * deep a recursion). */
int lpat_find(const char *s, size_t sn, const char *p, size_t pn);

#endif
