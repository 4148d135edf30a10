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
int srcset_has(const store *st, uint32_t meta, uint32_t src);

/* Makes a new set of n sorted ids; its index goes into *idx.  LORE_OK,
 * LORE_ERR_NOMEM or LORE_ERR_LIMIT. */
int srcset_new(store *st, const uint32_t *ids, uint32_t n, uint32_t *idx);

/* Frees set idx and puts its index on the free list. */
void srcset_destroy(store *st, uint32_t idx);

/* The meta after adding src (a fresh set if one is needed). */
int srcset_with(store *st, uint32_t meta, uint32_t src, uint32_t *out);

/* The meta after taking src away (src present; a fresh set if needed). */
int srcset_without(store *st, uint32_t meta, uint32_t src, uint32_t *out);

/* The union of two metas (bulk merges): sources and the DERIVED mark. */
int srcset_union(store *st, uint32_t a, uint32_t b, uint32_t *out);

/* Frees the set a meta word no longer uses, or hands it to the
 * transaction log (room was reserved). */
void srcset_release(store *st, uint32_t old, uint32_t now);

#endif
