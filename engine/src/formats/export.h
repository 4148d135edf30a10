/* export.h - what the writers share: the facts to write, in a
 * deterministic order, and a buffered output.
 *
 * Invariants:
 *  - rows are sorted by (src, s, p, o), each a rank in lore's term order
 *    (src 0 is the default source, named sources are their rank + 1), so
 *    the same facts always give the same rows whatever their ids;
 *  - order[r - 1] is the term id of rank r. */
#ifndef LORE_EXPORT_H
#define LORE_EXPORT_H

#include "kb.h"

typedef struct xrow {
    uint32_t src, s, p, o;
} xrow;

typedef struct xout {
    lore_write_fn write;
    void *ud;
    char buf[1 << 16];
    size_t n;
    int failed;
    uint64_t bytes;
} xout;

typedef struct xfacts {
    lore_kb *kb;
    uint32_t *order; /* term ids by rank */
    size_t nterms;
    xrow *rows;
    size_t n;
} xfacts;

/* The id of rank r (r >= 1). */
static inline uint32_t xid(const xfacts *x, uint32_t r)
{
    return x->order[r - 1];
}

void xout_put(xout *o, const void *s, size_t n);
static inline void xout_puts(xout *o, const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    xout_put(o, s, n);
}
void xout_flush(xout *o);

/* Writes x's rows as JSON: LORE_OK, or LORE_ERR_ARG (message set) before
 * writing anything when a symbol starts with '?'. */
int json_write(const xfacts *x, xout *o);

#endif
