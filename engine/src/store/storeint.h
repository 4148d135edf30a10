/* storeint.h - what the store's two files share: store.c (indexes,
 * writes, transactions, reads) and rebuild.c (the tail sorted into runs,
 * runs merged, everything rebuilt into a new base).  The hash tables and
 * the change log's probes are inline here because both files call them
 * once per row.  Not installed: only the store's own files include it. */
#ifndef LORE_STOREINT_H
#define LORE_STOREINT_H

#include <string.h>

#include "store.h"

#define NONE ((size_t)-1)

static inline void permute(int ord, uint32_t s, uint32_t p, uint32_t o, uint32_t k[3])
{
    switch (ord) {
    case ORD_SPO:
        k[0] = s, k[1] = p, k[2] = o;
        break;
    case ORD_POS:
        k[0] = p, k[1] = o, k[2] = s;
        break;
    default:
        k[0] = o, k[1] = s, k[2] = p;
        break;
    }
}

static inline void unpermute(int ord, uint32_t k0, uint32_t k1, uint32_t k2, uint32_t t[3])
{
    switch (ord) {
    case ORD_SPO:
        t[0] = k0, t[1] = k1, t[2] = k2;
        break;
    case ORD_POS:
        t[1] = k0, t[2] = k1, t[0] = k2;
        break;
    default:
        t[2] = k0, t[0] = k1, t[1] = k2;
        break;
    }
}

/* ---- hash tables: pend (facts with meta) and dead_base (triples) ---- */

/* The slot of (s,p,o), or NONE; *hole (may be NULL) gets the empty slot
 * where it would go. */
static inline size_t pend_lookup(const store *st, uint32_t s, uint32_t p, uint32_t o, size_t *hole)
{
    if (st->pendcap == 0) {
        if (hole)
            *hole = NONE;
        return NONE;
    }
    size_t mask = st->pendcap - 1, i = hash_triple(s, p, o) & mask;
    for (;;) {
        const pend_slot *e = &st->pend[i];
        if (e->s == 0) {
            if (hole)
                *hole = i;
            return NONE;
        }
        if (e->s == s && e->p == p && e->o == o)
            return i;
        i = (i + 1) & mask;
    }
}

static inline size_t pend_find(const store *st, uint32_t s, uint32_t p, uint32_t o)
{
    return pend_lookup(st, s, p, o, NULL);
}

static inline void pend_delete(store *st, size_t i)
{
    size_t mask = st->pendcap - 1, j = i;
    st->pend[i].s = 0;
    st->npend--;
    for (;;) {
        j = (j + 1) & mask;
        pend_slot e = st->pend[j];
        if (e.s == 0)
            return;
        size_t home = hash_triple(e.s, e.p, e.o) & mask;
        int stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!stays) {
            st->pend[i] = e;
            st->pend[j].s = 0;
            i = j;
        }
    }
}

static inline void dead_put(uint32_t *tab, size_t cap, uint32_t s, uint32_t p, uint32_t o)
{
    size_t mask = cap - 1, i = hash_triple(s, p, o) & mask;
    while (tab[3 * i] != 0)
        i = (i + 1) & mask;
    tab[3 * i] = s, tab[3 * i + 1] = p, tab[3 * i + 2] = o;
}

/* ---- the tail's filter ---- */

/* The filter's keys: a subject, an object, a subject with a predicate, a
 * predicate with an object. */
enum { TK_S, TK_O, TK_SP, TK_PO };

_Static_assert(TAIL_BITS == 1 << 13, "tail_bit takes the top 13 bits");

static inline size_t tail_bit(uint32_t a, uint32_t b)
{
    return (size_t)((((uint64_t)a << 32 | b) * 0x9e3779b97f4a7c15ull) >> 51);
}

static inline void tail_set(store *st, int key, size_t bit)
{
    st->tailbits[key][bit / 64] |= 1ull << (bit % 64);
}

static inline void tail_mark(store *st, uint32_t s, uint32_t p, uint32_t o)
{
    tail_set(st, TK_S, tail_bit(s, 0));
    tail_set(st, TK_O, tail_bit(o, 0));
    tail_set(st, TK_SP, tail_bit(s, p));
    tail_set(st, TK_PO, tail_bit(p, o));
}

/* 0 when no fact of the tail has a and b as `key` says (b = 0 for the
 * keys of one id); 1 when some may. */
static inline int tail_may_hold(const store *st, int key, uint32_t a, uint32_t b)
{
    size_t bit = tail_bit(a, b);
    return (st->tailbits[key][bit / 64] >> (bit % 64)) & 1;
}

/* Empties the tail (its facts are in a run or the base now): a few facts'
 * words of the filter are cleared one by one, many at once. */
static inline void tail_forget(store *st)
{
    if (st->ntail >= TAIL_BITS / 256) {
        memset(st->tailbits, 0, sizeof st->tailbits);
    } else {
        for (size_t i = 0; i < st->ntail; i++) {
            const uint32_t *t = st->tail + 3 * i;
            st->tailbits[TK_S][tail_bit(t[0], 0) / 64] = 0;
            st->tailbits[TK_O][tail_bit(t[2], 0) / 64] = 0;
            st->tailbits[TK_SP][tail_bit(t[0], t[1]) / 64] = 0;
            st->tailbits[TK_PO][tail_bit(t[1], t[2]) / 64] = 0;
        }
    }
    st->ntail = 0;
}

/* ---- dead facts ---- */

/* Enough dead facts that a rebuild should drop them. */
static inline int many_dead(const store *st)
{
    size_t dead = st->ndead_base + st->ndead_pend;
    return dead > 1024 && dead > st->nlive / 8;
}

/* The dead facts' filter: */

enum { DEAD_BASE, DEAD_PEND };

_Static_assert(DEAD_BITS == 1 << 12, "dead_bit takes the top 12 bits");

static inline uint32_t dead_bit(uint32_t id)
{
    return (id * 0x9e3779b1u) >> 20;
}

/* Notes that s ... o died in the base or the pending table (`part`). */
static inline void dead_mark(store *st, int part, uint32_t s, uint32_t o)
{
    uint32_t a = dead_bit(s), b = dead_bit(o);
    st->deadbits[part][0][a / 64] |= 1ull << (a % 64);
    st->deadbits[part][1][b / 64] |= 1ull << (b % 64);
}

/* 0 when fact t of `part` is surely not dead; 1 when it may be. */
static inline int dead_may(const store *st, int part, const uint32_t t[3])
{
    uint32_t a = dead_bit(t[0]), b = dead_bit(t[2]);
    return (st->deadbits[part][0][a / 64] >> (a % 64) & 1) &&
           (st->deadbits[part][1][b / 64] >> (b % 64) & 1);
}

/* Forgets the marks of `part` (it holds no dead fact now). */
static inline void dead_forget(store *st, int part)
{
    memset(st->deadbits[part], 0, sizeof st->deadbits[part]);
}

/* ---- the ids of pending facts ---- */

/* 0 when no pending fact has id as its subject (role 0) or object (1). */
static inline int pend_may_have(const store *st, int role, uint32_t id)
{
    if (st->npend == 0)
        return 0;
    if (st->pendids_off)
        return 1;
    return id < st->pendids_cap && (st->pendids[role][id / 64] >> (id % 64) & 1);
}

/* 1 when a pattern binds a subject, or else an object, that no pending
 * fact has: the base holds all its matches. */
static inline int pend_lacks(const store *st, uint32_t s, uint32_t o)
{
    return s ? !pend_may_have(st, 0, s) : o && !pend_may_have(st, 1, o);
}

/* Forgets every pending id (the pending facts have gone). */
static inline void pendids_forget(store *st)
{
    if (st->pendids_cap) {
        memset(st->pendids[0], 0, st->pendids_cap / 8);
        memset(st->pendids[1], 0, st->pendids_cap / 8);
    }
    st->pendids_off = 0;
}

/* ---- the change log's probes ---- */

#define CLOG_TENTATIVE 1u

static inline uint32_t mflags(uint32_t meta)
{
    return meta & (META_ASSERTED | META_DERIVED);
}

static inline size_t clog_slot_of(const store *st, uint32_t s, uint32_t p, uint32_t o, int *found)
{
    size_t mask = st->clogcap - 1, i = hash_triple(s, p, o) & mask;
    for (;;) {
        const clog_slot *e = &st->clog[i];
        if (e->s == 0) {
            *found = 0;
            return i;
        }
        if (e->s == s && e->p == p && e->o == o) {
            *found = 1;
            return i;
        }
        i = (i + 1) & mask;
    }
}

/* The room one change needs: its own entry, and in a transaction one more
 * for each change a rollback would undo (its own included). */
static inline size_t clog_need(const store *st, size_t changes)
{
    return changes + (st->in_txn ? st->nlog + changes : 0);
}

/* Records the marks a fact had before a change (room was reserved). */
static inline void clog_add(store *st, uint32_t s, uint32_t p, uint32_t o, uint32_t flags)
{
    if (!st->clog_on || st->clogcap == 0)
        return;
    int found;
    size_t i = clog_slot_of(st, s, p, o, &found);
    if (found)
        return;
    clog_slot *e = &st->clog[i];
    e->s = s, e->p = p, e->o = o, e->flags = flags;
    st->nclog++;
}

/* ---- store.c ---- */

void store_base_release(const mem *m, base *b);
/* The index of (s, p, o) among b's SPO entries, or NONE (b may be NULL). */
size_t store_base_find(const base *b, uint32_t s, uint32_t p, uint32_t o);
void store_base_permute(base *b, uint32_t *next);
int store_clog_reserve(store *st, size_t more);
void store_clog_settle(store *st, int keep);

/* ---- rebuild.c ---- */

/* The rows a rebuild merges in: an array (rows of `stride` ids, with
 * meta xmeta when the stride is 3) or a producer's stream. */
typedef struct rsrc {
    const uint32_t *rows;
    int stride;
    uint32_t xmeta;
    size_t n, i;
    size_t cap; /* the array's allocated ids when the rebuild owns it, else 0 */
    const store_rows *stream;
    uint32_t cur[4];
    int has; /* stream: cur holds the next row */
} rsrc;

void store_run_free(const mem *m, run *r);
/* Gives every run ordering ord (sorted from its SPO rows) when the runs do
 * not hold it yet (run_ords), for a read that needs it.  LORE_OK or
 * LORE_ERR_NOMEM (no run changed). */
int store_runs_need(store *st, int ord);
void store_run_range(const run *r, int ord, int prefix, const uint32_t key[3], size_t *lo,
                     size_t *hi);
void store_free_deadk(store *st);
/* Merges the runs that reads made (store_prepare) as a binary counter
 * would, and keeps two run slots free.  Only where no open iterator can
 * be reading the runs it frees (store.h): at writes of new facts, and at
 * a read that made a run when no read since the last write left the tail. */
void store_merge_runs(store *st);
/* Merges everything, and x's rows when x is not NULL, into a new base. */
int store_rebuild(store *st, rsrc *x, size_t *added);

#endif
