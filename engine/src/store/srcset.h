/* srcset.h - the sets of sources a fact carries (srcset.c), shared by the
 * store's writes, merges and snapshots.
 *
 * Invariants: a set's ids are sorted and distinct; a set index is either
 * in use by some meta word (or the open transaction's log) or on the free
 * list, never both.  Not installed. */
#ifndef LORE_SRCSET_H
#define LORE_SRCSET_H

#include "store.h"

/* The set a META_MULTI meta word names. */
static inline srcset *srcset_of(const store *st, uint32_t meta)
{
    return st->sets[meta & META_PAYLOAD];
}

/* 1 if the meta word's fact is asserted under src. */
static inline int srcset_has(const store *st, uint32_t meta, uint32_t src)
{
    if (!(meta & META_ASSERTED))
        return 0;
    if (!(meta & META_MULTI))
        return (meta & META_PAYLOAD) == src;
    const srcset *s = srcset_of(st, meta);
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->ids[mid] == src)
            return 1;
        if (s->ids[mid] < src)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* Makes a new set of n sorted ids; its index goes into *idx.  LORE_OK,
 * LORE_ERR_NOMEM or LORE_ERR_LIMIT. */
int srcset_new(store *st, const uint32_t *ids, uint32_t n, uint32_t *idx);

/* Frees set idx and puts its index on the free list. */
void srcset_destroy(store *st, uint32_t idx);

/* The meta after adding src (a fresh set if one is needed). */
int srcset_with(store *st, uint32_t meta, uint32_t src, uint32_t *out);

/* The meta after taking src away (src present; a fresh set if needed). */
int srcset_without(store *st, uint32_t meta, uint32_t src, uint32_t *out);

/* The union of two metas (bulk merges): sources and the DERIVED mark.
 * Inline, as it runs once per merged row and the common cases need no set. */
static inline int srcset_union(store *st, uint32_t a, uint32_t b, uint32_t *out)
{
    uint32_t d = (a | b) & META_DERIVED;
    if (a == 0) { /* a new fact: b whole, with a derived row's payload */
        *out = b;
        return LORE_OK;
    }
    if (!(b & META_ASSERTED)) {
        *out = a | d;
        return LORE_OK;
    }
    if (!(a & META_ASSERTED)) {
        *out = b | d;
        return LORE_OK;
    }
    /* b is a single source (bulk input never carries sets) */
    uint32_t src = b & META_PAYLOAD;
    if (srcset_has(st, a, src)) {
        *out = a | d;
        return LORE_OK;
    }
    int rc = srcset_with(st, a, src, out);
    *out |= d;
    return rc;
}

/* Frees the set a meta word no longer uses, or hands it to the
 * transaction log (room was reserved). */
static inline void srcset_release(store *st, uint32_t old, uint32_t now)
{
    if (!(old & META_MULTI))
        return;
    if ((now & META_MULTI) && (now & META_PAYLOAD) == (old & META_PAYLOAD))
        return;
    if (st->in_txn)
        st->logsets[st->nlogsets++] = old & META_PAYLOAD;
    else
        srcset_destroy(st, old & META_PAYLOAD);
}

#endif
