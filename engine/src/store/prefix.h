/* prefix.h - a knowledge base's prefix table: short names for IRI
 * namespaces, so that the symbol `ex:Ally` stands for
 * `<http://example.org/Ally>` once `ex` is bound to `http://example.org/`.
 *
 * Invariants:
 *  - entries are sorted by name (bytes), names are unique;
 *  - a name is empty or PN_PREFIX-shaped (a letter, then letters, digits,
 *    `_`, `-`, `.`, not ending with `.`); an IRI is non-empty and holds
 *    only characters an IRI may hold (iri_char below);
 *  - both strings are NUL-terminated copies owned by the table. */
#ifndef LORE_PREFIX_H
#define LORE_PREFIX_H

#include "mem.h"

typedef struct prefix {
    char *name, *iri;
    size_t nlen, ilen;
} prefix;

typedef struct prefixes {
    prefix *v;
    size_t n, cap;
} prefixes;

void prefixes_free(const mem *m, prefixes *px);

/* 1 if byte c may appear inside an IRI as lore writes and reads them:
 * not a control, space, or one of <>"{}|^`\ (bytes >= 0x80 pass). */
static inline int iri_char(unsigned char c)
{
    if (c >= 0x80)
        return 1;
    if (c <= 0x20 || c == 0x7f)
        return 0;
    switch (c) {
    case '<':
    case '>':
    case '"':
    case '{':
    case '}':
    case '|':
    case '^':
    case '`':
    case '\\':
        return 0;
    default:
        return 1;
    }
}

/* 1 if s[0..n) is a valid prefix name (see above). */
int prefix_name_ok(const char *s, size_t n);

/* LORE_OK if name and iri make a valid binding, else LORE_ERR_ARG with
 * *why saying what was expected. */
int prefixes_check(const char *name, size_t nlen, const char *iri, size_t ilen, const char **why);

/* Binds name to iri (replacing a binding).  LORE_OK, LORE_NOOP (already so
 * bound), LORE_ERR_ARG (*why says what was expected), LORE_ERR_NOMEM. */
int prefixes_set(const mem *m, prefixes *px, const char *name, size_t nlen, const char *iri,
                 size_t ilen, const char **why);

/* LORE_OK or LORE_NOOP (no such name). */
int prefixes_remove(const mem *m, prefixes *px, const char *name, size_t nlen);

const prefix *prefixes_find(const prefixes *px, const char *name, size_t nlen);

/* If s[0..n) is `name:local` with `name` bound and `local` made of IRI
 * characters, returns the length of `<iri local>` and writes it to buf
 * when it fits in cap (not NUL-terminated).  Returns 0 when s is not
 * such a name (then nothing is written). */
size_t prefixes_expand(const prefixes *px, const char *s, size_t n, char *buf, size_t cap);

/* If s[0..n) is `<IRI>` and a bound namespace is a prefix of IRI, returns
 * the length of `name:local` for the longest such namespace whose local
 * part is made of IRI characters, writing it (NUL-terminated) to buf if
 * it fits in cap (like snprintf).  0: no compact form. */
size_t prefixes_compact(const prefixes *px, const char *s, size_t n, char *buf, size_t cap);

/* Expansion of the symbols handed to lore_intern, lore_lookup and
 * lore_batch_intern. */
typedef struct expansion {
    lore_value v;
    char buf[256];
    char *heap;
    size_t heapn;
} expansion;

/* v itself, or its expansion (in x) when it names a bound prefix; NULL
 * when out of memory (m allocates a long one).  prefixes_expand_done
 * releases what x holds. */
const lore_value *prefixes_expand_value(const mem *m, const prefixes *px, const lore_value *v,
                                        expansion *x);
void prefixes_expand_done(const mem *m, expansion *x);

#endif
