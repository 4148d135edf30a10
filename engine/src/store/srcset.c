/* srcset.c - the sets of sources a fact carries: a fact asserted under
 * one source keeps it in its meta word; under several, the meta word names
 * an interned, sorted set (META_MULTI).  See srcset.h. */
#include "srcset.h"

#include <string.h>

int srcset_new(store *st, const uint32_t *ids, uint32_t n, uint32_t *idx)
{
    if (st->nfree == 0 && st->nsets >= META_PAYLOAD)
        return LORE_ERR_LIMIT;
    if (st->nfree == 0) {
        size_t need = st->nsets ? st->nsets + 1 : 2;
        size_t cap = st->setcap, fcap = st->freecap;
        if (mem_reserve(&st->m, (void **)&st->sets, &cap, need, sizeof *st->sets) != 0)
            return LORE_ERR_NOMEM;
        st->setcap = cap;
        /* the free list can always take back every set */
        if (mem_reserve(&st->m, (void **)&st->freesets, &fcap, cap, sizeof *st->freesets) != 0)
            return LORE_ERR_NOMEM;
        st->freecap = fcap;
        if (st->nsets == 0)
            st->nsets = 1; /* index 0 unused */
    }
    srcset *s = mem_alloc(&st->m, 1, sizeof *s + (size_t)n * sizeof *ids);
    if (!s)
        return LORE_ERR_NOMEM;
    s->n = s->cap = n;
    memcpy(s->ids, ids, (size_t)n * sizeof *ids);
    uint32_t i = st->nfree ? st->freesets[--st->nfree] : (uint32_t)st->nsets++;
    st->sets[i] = s;
    *idx = i;
    return LORE_OK;
}

void srcset_destroy(store *st, uint32_t idx)
{
    srcset *s = st->sets[idx];
    mem_free(&st->m, s, 1, sizeof *s + (size_t)s->cap * sizeof s->ids[0]);
    st->sets[idx] = NULL;
    st->freesets[st->nfree++] = idx;
}

int srcset_with(store *st, uint32_t meta, uint32_t src, uint32_t *out)
{
    uint32_t d = meta & META_DERIVED;
    if (!(meta & META_ASSERTED)) {
        *out = d | META_ASSERTED | src;
        return LORE_OK;
    }
    uint32_t buf[2], *ids, n;
    const uint32_t *old;
    uint32_t on;
    if (meta & META_MULTI) {
        const srcset *s = srcset_of(st, meta);
        old = s->ids, on = s->n;
    } else {
        buf[0] = meta & META_PAYLOAD;
        old = buf, on = 1;
    }
    ids = mem_alloc(&st->m, (size_t)on + 1, sizeof *ids);
    if (!ids)
        return LORE_ERR_NOMEM;
    n = 0;
    uint32_t i = 0;
    while (i < on && old[i] < src)
        ids[n++] = old[i++];
    ids[n++] = src;
    while (i < on)
        ids[n++] = old[i++];
    uint32_t idx;
    int rc = srcset_new(st, ids, n, &idx);
    mem_free(&st->m, ids, (size_t)on + 1, sizeof *ids);
    if (rc != LORE_OK)
        return rc;
    *out = d | META_ASSERTED | META_MULTI | idx;
    return LORE_OK;
}

int srcset_without(store *st, uint32_t meta, uint32_t src, uint32_t *out)
{
    uint32_t d = meta & META_DERIVED;
    if (src == LORE_ANY_SOURCE || !(meta & META_MULTI)) {
        *out = d;
        return LORE_OK;
    }
    const srcset *s = srcset_of(st, meta);
    if (s->n == 2) {
        *out = d | META_ASSERTED | (s->ids[0] == src ? s->ids[1] : s->ids[0]);
        return LORE_OK;
    }
    uint32_t *ids = mem_alloc(&st->m, s->n, sizeof *ids), n = 0, idx;
    if (!ids)
        return LORE_ERR_NOMEM;
    for (uint32_t i = 0; i < s->n; i++)
        if (s->ids[i] != src)
            ids[n++] = s->ids[i];
    int rc = srcset_new(st, ids, n, &idx);
    mem_free(&st->m, ids, s->n, sizeof *ids);
    if (rc != LORE_OK)
        return rc;
    *out = d | META_ASSERTED | META_MULTI | idx;
    return LORE_OK;
}

size_t store_meta_sources(const store *st, uint32_t meta, uint32_t *out, size_t cap)
{
    if (!(meta & META_ASSERTED))
        return 0;
    if (!(meta & META_MULTI)) {
        if (cap)
            out[0] = meta & META_PAYLOAD;
        return 1;
    }
    const srcset *s = srcset_of(st, meta);
    for (uint32_t i = 0; i < s->n && i < cap; i++)
        out[i] = s->ids[i];
    return s->n;
}
