/* store.c - the fact store: base rows, pending table, sorted runs,
 * transactions and iteration (the sets of sources are srcset.c).  See
 * store.h for the layout and invariants. */
#include "store.h"

#include <string.h>

#include "sort.h"
#include "srcset.h"

enum {
    TAIL_MAX = 1 << 14, /* pending facts not yet sorted into a run */
    PEND_MIN = 1 << 15  /* pend may hold this many before a rebuild */
};

#define NONE ((size_t)-1)

/* Which ordering answers a pattern, and how many leading keys it binds,
 * by the mask s=1 p=2 o=4 of bound positions. */
static const int shape_ord[8] = {ORD_SPO, ORD_SPO, ORD_POS, ORD_SPO,
                                 ORD_OSP, ORD_OSP, ORD_POS, ORD_SPO};
static const int shape_prefix[8] = {0, 1, 1, 2, 1, 2, 2, 3};

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

void store_init(store *st, const mem *m)
{
    memset(st, 0, sizeof *st);
    st->m = *m;
    st->dead_dirty = 1;
    st->tail_max = TAIL_MAX;
    st->pend_min = PEND_MIN;
}

/* ------------------------------------------------------------------ */
/* base                                                               */

static void base_free(const mem *m, base *b)
{
    if (!b)
        return;
    for (int x = 0; x < 3; x++) {
        mem_free(m, b->off[x], (size_t)b->nkeys + 1, sizeof *b->off[x]);
        mem_free(m, b->ent[x], x == ORD_SPO ? b->cap_ent : b->n, sizeof *b->ent[x]);
    }
    mem_free(m, b->meta, b->cap_meta, sizeof *b->meta);
    mem_free(m, b->sig, b->nkeys, sizeof *b->sig);
    mem_free(m, b, 1, sizeof *b);
}

static size_t lower_pair(const pair *e, size_t lo, size_t hi, uint32_t a, uint32_t b, int useb)
{
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int less = e[mid].a < a || (useb && e[mid].a == a && e[mid].b < b);
        if (less)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static size_t upper_pair(const pair *e, size_t lo, size_t hi, uint32_t a, uint32_t b, int useb)
{
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int le = e[mid].a < a || (e[mid].a == a && (!useb || e[mid].b <= b));
        if (le)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void base_range(const base *b, int ord, int prefix, const uint32_t key[3], size_t *lo,
                       size_t *hi)
{
    if (prefix == 0) {
        *lo = 0, *hi = b->n;
        return;
    }
    if (key[0] >= b->nkeys) {
        *lo = *hi = 0;
        return;
    }
    size_t l = b->off[ord][key[0]], h = b->off[ord][key[0] + 1];
    if (prefix >= 2) {
        const pair *e = b->ent[ord];
        int useb = prefix == 3;
        size_t l2 = lower_pair(e, l, h, key[1], key[2], useb);
        h = upper_pair(e, l2, h, key[1], key[2], useb);
        l = l2;
    }
    *lo = l, *hi = h;
}

/* The two bits of (p, o) in a subject's signature. */
static inline uint64_t sig_bits(uint32_t p, uint32_t o)
{
    uint64_t h = hash_mix((uint64_t)p << 32 | o);
    return (1ull << (h & 63)) | (1ull << (h >> 6 & 63));
}

static size_t base_find(const base *b, uint32_t s, uint32_t p, uint32_t o)
{
    if (!b || s >= b->nkeys)
        return NONE;
    uint64_t bits = sig_bits(p, o);
    if ((b->sig[s] & bits) != bits)
        return NONE; /* certainly not there: ent[] stays unread */
    const pair *e = b->ent[ORD_SPO];
    size_t lo = b->off[ORD_SPO][s], hi = b->off[ORD_SPO][s + 1];
    lo = lower_pair(e, lo, hi, p, o, 1);
    if (lo < hi && e[lo].a == p && e[lo].b == o)
        return lo;
    return NONE;
}

/* Builds POS and OSP of b from its SPO rows by two stable counting
 * scatters: SPO order scattered by o gives OSP order, which scattered by p
 * gives POS order; and the subjects' signatures on the way.  `next` is
 * scratch of nkeys + 1. */
static void base_permute(base *b, uint32_t *next)
{
    uint32_t nk = b->nkeys;
    const uint32_t *so = b->off[ORD_SPO];
    const pair *spo = b->ent[ORD_SPO];
    uint32_t *oo = b->off[ORD_OSP], *po = b->off[ORD_POS];
    pair *osp = b->ent[ORD_OSP], *pos = b->ent[ORD_POS];

    memset(oo, 0, ((size_t)nk + 1) * sizeof *oo);
    memset(po, 0, ((size_t)nk + 1) * sizeof *po);
    for (size_t i = 0; i < b->n; i++) {
        oo[spo[i].b + 1]++;
        po[spo[i].a + 1]++;
    }
    for (uint32_t k = 0; k < nk; k++) {
        oo[k + 1] += oo[k];
        po[k + 1] += po[k];
    }
    memcpy(next, oo, ((size_t)nk + 1) * sizeof *next);
    for (uint32_t s = 0; s < nk; s++) {
        uint64_t sig = 0;
        for (uint32_t i = so[s]; i < so[s + 1]; i++) {
            pair e = spo[i];
            pair *d = &osp[next[e.b]++];
            d->a = s, d->b = e.a;
            sig |= sig_bits(e.a, e.b);
        }
        b->sig[s] = sig;
    }
    memcpy(next, po, ((size_t)nk + 1) * sizeof *next);
    for (uint32_t o = 0; o < nk; o++) {
        for (uint32_t i = oo[o]; i < oo[o + 1]; i++) {
            pair e = osp[i]; /* (s, p) */
            pair *d = &pos[next[e.b]++];
            d->a = o, d->b = e.a;
        }
    }
}

/* ------------------------------------------------------------------ */
/* hash tables: pend (facts with meta) and dead_base (triples)         */

/* The slot of (s,p,o), or NONE; *hole (may be NULL) gets the empty slot
 * where it would go. */
static size_t pend_lookup(const store *st, uint32_t s, uint32_t p, uint32_t o, size_t *hole)
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

static size_t pend_find(const store *st, uint32_t s, uint32_t p, uint32_t o)
{
    return pend_lookup(st, s, p, o, NULL);
}

static size_t pend_put(pend_slot *tab, size_t cap, uint32_t s, uint32_t p, uint32_t o,
                       uint32_t meta)
{
    size_t mask = cap - 1, i = hash_triple(s, p, o) & mask;
    while (tab[i].s != 0)
        i = (i + 1) & mask;
    tab[i].s = s, tab[i].p = p, tab[i].o = o, tab[i].meta = meta;
    return i;
}

static int pend_reserve(store *st, size_t extra)
{
    size_t need = st->npend + extra;
    if (need * 10 <= st->pendcap * 7)
        return LORE_OK;
    size_t cap = st->pendcap ? st->pendcap : 64;
    while (need * 10 > cap * 7)
        cap *= 2;
    pend_slot *tab = mem_calloc(&st->m, cap, sizeof *tab);
    if (!tab)
        return LORE_ERR_NOMEM;
    for (size_t i = 0; i < st->pendcap; i++) {
        const pend_slot *e = &st->pend[i];
        if (e->s)
            pend_put(tab, cap, e->s, e->p, e->o, e->meta);
    }
    mem_free(&st->m, st->pend, st->pendcap, sizeof *st->pend);
    st->pend = tab;
    st->pendcap = cap;
    return LORE_OK;
}

static void pend_delete(store *st, size_t i)
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

static size_t dead_find(const store *st, uint32_t s, uint32_t p, uint32_t o)
{
    if (st->deadcap == 0)
        return NONE;
    size_t mask = st->deadcap - 1, i = hash_triple(s, p, o) & mask;
    for (;;) {
        const uint32_t *e = st->dead_base + 3 * i;
        if (e[0] == 0)
            return NONE;
        if (e[0] == s && e[1] == p && e[2] == o)
            return i;
        i = (i + 1) & mask;
    }
}

static int dead_has(const store *st, const uint32_t t[3])
{
    return st->ndead_base && dead_find(st, t[0], t[1], t[2]) != NONE;
}

static void dead_put(uint32_t *tab, size_t cap, uint32_t s, uint32_t p, uint32_t o)
{
    size_t mask = cap - 1, i = hash_triple(s, p, o) & mask;
    while (tab[3 * i] != 0)
        i = (i + 1) & mask;
    tab[3 * i] = s, tab[3 * i + 1] = p, tab[3 * i + 2] = o;
}

/* Ensures room for `need` dead base facts in all (load at most 1/2). */
static int dead_reserve(store *st, size_t need)
{
    if (need * 2 <= st->deadcap)
        return LORE_OK;
    size_t cap = st->deadcap ? st->deadcap : 64;
    while (need * 2 > cap)
        cap *= 2;
    uint32_t *tab = mem_calloc(&st->m, cap, 3 * sizeof *tab);
    if (!tab)
        return LORE_ERR_NOMEM;
    for (size_t i = 0; i < st->deadcap; i++) {
        const uint32_t *e = st->dead_base + 3 * i;
        if (e[0])
            dead_put(tab, cap, e[0], e[1], e[2]);
    }
    mem_free(&st->m, st->dead_base, st->deadcap, 3 * sizeof *tab);
    st->dead_base = tab;
    st->deadcap = cap;
    return LORE_OK;
}

static void dead_delete(store *st, size_t i)
{
    size_t mask = st->deadcap - 1, j = i;
    uint32_t *t = st->dead_base;
    t[3 * i] = 0;
    st->ndead_base--;
    for (;;) {
        j = (j + 1) & mask;
        if (t[3 * j] == 0)
            return;
        size_t home = hash_triple(t[3 * j], t[3 * j + 1], t[3 * j + 2]) & mask;
        int stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!stays) {
            memcpy(t + 3 * i, t + 3 * j, 3 * sizeof *t);
            t[3 * j] = 0;
            i = j;
        }
    }
}

/* ------------------------------------------------------------------ */
/* runs                                                               */

static void run_free(const mem *m, run *r)
{
    if (!r)
        return;
    for (int x = 0; x < 3; x++)
        mem_free(m, r->k[x], 3 * r->n, sizeof *r->k[x]);
    mem_free(m, r, 1, sizeof *r);
}

static run *run_alloc(const mem *m, size_t n)
{
    run *r = mem_calloc(m, 1, sizeof *r);
    if (!r)
        return NULL;
    r->n = n;
    for (int x = 0; x < 3 && n > 0; x++) {
        r->k[x] = mem_alloc(m, 3 * n, sizeof *r->k[x]);
        if (!r->k[x]) {
            run_free(m, r);
            return NULL;
        }
    }
    return r;
}

static int row_live_pend(const store *st, int ord, const uint32_t *k)
{
    uint32_t t[3];
    unpermute(ord, k[0], k[1], k[2], t);
    size_t i = pend_find(st, t[0], t[1], t[2]);
    return i != NONE && st->pend[i].meta != 0;
}

/* A run of the tail's rows, without its dead facts when `drop` is set. */
static run *run_from_tail(store *st, int drop)
{
    const uint32_t *t = st->tail;
    size_t n = st->ntail;
    if (drop) {
        n = 0;
        for (size_t i = 0; i < st->ntail; i++)
            n += row_live_pend(st, ORD_SPO, t + 3 * i);
    }
    run *r = run_alloc(&st->m, n);
    if (!r)
        return NULL;
    /* radix passes through a copy when memory allows (a large tail is what
     * a batch of derived facts leaves); introsort in place otherwise */
    uint32_t *tmp = n > 4096 ? mem_alloc(&st->m, 3 * n, sizeof *tmp) : NULL;
    for (int x = 0; x < 3; x++) {
        uint32_t *k = r->k[x];
        size_t w = 0;
        for (size_t i = 0; i < st->ntail; i++) {
            const uint32_t *row = t + 3 * i;
            if (drop && !row_live_pend(st, ORD_SPO, row))
                continue;
            permute(x, row[0], row[1], row[2], k + 3 * w++);
        }
        if (tmp)
            sort_rows_lsd(k, n, 3, tmp);
        else
            sort_rows(k, n, 3);
    }
    if (tmp)
        mem_free(&st->m, tmp, 3 * n, sizeof *tmp);
    return r;
}

/* Merges two runs, dropping dead facts when `drop` is set. */
static run *run_merge(store *st, const run *a, const run *b, int drop)
{
    size_t n = a->n + b->n;
    if (drop) { /* count the survivors first, to allocate exactly */
        n = 0;
        for (size_t i = 0; i < a->n; i++)
            n += row_live_pend(st, ORD_SPO, a->k[ORD_SPO] + 3 * i);
        for (size_t i = 0; i < b->n; i++)
            n += row_live_pend(st, ORD_SPO, b->k[ORD_SPO] + 3 * i);
    }
    run *r = run_alloc(&st->m, n);
    if (!r)
        return NULL;
    for (int x = 0; x < 3; x++) {
        const uint32_t *pa = a->k[x], *pb = b->k[x];
        const uint32_t *ea = pa + 3 * a->n, *eb = pb + 3 * b->n;
        uint32_t *d = r->k[x];
        while (pa < ea || pb < eb) {
            const uint32_t *src;
            if (pb == eb || (pa < ea && row_cmp(pa, pb) < 0))
                src = pa, pa += 3;
            else
                src = pb, pb += 3;
            if (drop && !row_live_pend(st, x, src))
                continue;
            memcpy(d, src, 3 * sizeof *d);
            d += 3;
        }
    }
    return r;
}

static void run_range(const run *r, int ord, int prefix, const uint32_t key[3], size_t *lo,
                      size_t *hi)
{
    const uint32_t *k = r->k[ord];
    if (prefix == 0) {
        *lo = 0, *hi = r->n;
        return;
    }
    size_t l = 0, h = r->n;
    while (l < h) { /* first row >= key on prefix */
        size_t mid = l + (h - l) / 2;
        const uint32_t *e = k + 3 * mid;
        int c = 0;
        for (int i = 0; i < prefix && c == 0; i++)
            c = e[i] < key[i] ? -1 : e[i] > key[i];
        if (c < 0)
            l = mid + 1;
        else
            h = mid;
    }
    size_t first = l;
    h = r->n;
    while (l < h) { /* first row > key on prefix */
        size_t mid = l + (h - l) / 2;
        const uint32_t *e = k + 3 * mid;
        int c = 0;
        for (int i = 0; i < prefix && c == 0; i++)
            c = e[i] < key[i] ? -1 : e[i] > key[i];
        if (c <= 0)
            l = mid + 1;
        else
            h = mid;
    }
    *lo = first, *hi = l;
}

/* ------------------------------------------------------------------ */
/* the change log                                                     */

static inline uint32_t mflags(uint32_t meta)
{
    return meta & (META_ASSERTED | META_DERIVED);
}

static size_t clog_slot_of(const store *st, uint32_t s, uint32_t p, uint32_t o, int *found)
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

/* Room for `more` new entries without growing (load at most 1/2). */
static int clog_reserve(store *st, size_t more)
{
    if (!st->clog_on || st->clog_quiet) /* quiet: nothing will be noted */
        return LORE_OK;
    size_t need = st->nclog + more;
    if (need * 2 <= st->clogcap)
        return LORE_OK;
    size_t cap = st->clogcap ? st->clogcap : 64;
    while (need * 2 > cap)
        cap *= 2;
    clog_slot *tab = mem_calloc(&st->m, cap, sizeof *tab);
    if (!tab)
        return LORE_ERR_NOMEM;
    for (size_t i = 0; i < st->clogcap; i++) {
        const clog_slot *e = &st->clog[i];
        if (!e->s)
            continue;
        size_t j = hash_triple(e->s, e->p, e->o) & (cap - 1);
        while (tab[j].s)
            j = (j + 1) & (cap - 1);
        tab[j] = *e;
    }
    mem_free(&st->m, st->clog, st->clogcap, sizeof *st->clog);
    st->clog = tab;
    st->clogcap = cap;
    return LORE_OK;
}

/* The room one change needs: its own entry, and in a transaction one more
 * for each change a rollback would undo (its own included). */
static size_t clog_need(const store *st, size_t changes)
{
    return changes + (st->in_txn ? st->nlog + changes : 0);
}

/* Entries a rebuild made are tentative until its commit point. */
#define CLOG_TENTATIVE 1u

/* Records the marks a fact had before a change (room was reserved). */
static void clog_add(store *st, uint32_t s, uint32_t p, uint32_t o, uint32_t flags)
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

/* Ends a rebuild's tentative entries: kept (commit) or taken out. */
static void clog_settle(store *st, int keep)
{
    size_t mask = st->clogcap - 1;
    for (size_t i = 0; i < st->clogcap;) {
        clog_slot *e = &st->clog[i];
        if (!e->s || !(e->flags & CLOG_TENTATIVE)) {
            i++;
            continue;
        }
        if (keep) {
            e->flags &= ~CLOG_TENTATIVE;
            i++;
            continue;
        }
        /* backward-shift deletion; slot i is looked at again */
        size_t hole = i, j = i;
        st->clog[hole].s = 0;
        st->nclog--;
        for (;;) {
            j = (j + 1) & mask;
            clog_slot x = st->clog[j];
            if (x.s == 0)
                break;
            size_t home = hash_triple(x.s, x.p, x.o) & mask;
            int stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
            if (!stays) {
                st->clog[hole] = x;
                st->clog[j].s = 0;
                hole = j;
            }
        }
    }
}

int store_clog_enable(store *st, int on)
{
    st->clog_on = on != 0;
    if (!on) {
        mem_free(&st->m, st->clog, st->clogcap, sizeof *st->clog);
        st->clog = NULL, st->clogcap = 0, st->nclog = 0;
        return LORE_OK;
    }
    store_clog_clear(st);
    /* a rollback of the open transaction notes what it undoes */
    if (clog_reserve(st, st->in_txn ? st->nlog + 1 : 1) != LORE_OK) {
        st->clog_on = 0;
        return LORE_ERR_NOMEM;
    }
    return LORE_OK;
}

void store_clog_clear(store *st)
{
    if (st->clogcap)
        memset(st->clog, 0, st->clogcap * sizeof *st->clog);
    st->nclog = 0;
}

int store_clog_find(const store *st, uint32_t s, uint32_t p, uint32_t o, uint32_t *flags)
{
    if (!st->clog_on || st->nclog == 0)
        return 0;
    int found;
    size_t i = clog_slot_of(st, s, p, o, &found);
    if (found)
        *flags = st->clog[i].flags;
    return found;
}

/* ------------------------------------------------------------------ */
/* locating and changing one fact                                     */

typedef struct loc {
    int where;  /* 0 nowhere, 1 pend, 2 base */
    size_t idx; /* where 0: the empty pend slot it would take, if pendcap is unchanged */
    size_t cap; /* pendcap when idx was found */
    uint32_t meta;
} loc;

static loc locate(const store *st, uint32_t s, uint32_t p, uint32_t o)
{
    loc l = {0, NONE, st->pendcap, 0};
    size_t i = pend_lookup(st, s, p, o, &l.idx);
    if (i != NONE) {
        l.where = 1, l.idx = i, l.meta = st->pend[i].meta;
        return l;
    }
    i = base_find(st->b, s, p, o);
    if (i != NONE)
        l.where = 2, l.idx = i, l.meta = st->b->meta[i];
    return l;
}

uint32_t store_meta(const store *st, uint32_t s, uint32_t p, uint32_t o)
{
    return locate(st, s, p, o).meta;
}

/* Reserves what apply() may need: log room in a transaction, room in
 * dead_base, room for a new pending fact. */
static int reserve(store *st, const loc *l, uint32_t now)
{
    int creates = l->meta == 0, kills = now == 0;
    if (l->where == 0) {
        if (pend_reserve(st, 1) != 0 || mem_reserve(&st->m, (void **)&st->tail, &st->tailcap,
                                                    3 * (st->ntail + 1), sizeof *st->tail) != 0)
            return LORE_ERR_NOMEM;
    }
    if (st->in_txn) {
        if (mem_reserve(&st->m, (void **)&st->log, &st->logcap, st->nlog + 1, sizeof *st->log) !=
                0 ||
            mem_reserve(&st->m, (void **)&st->logsets, &st->logsetcap, st->nlogsets + 1,
                        sizeof *st->logsets) != 0)
            return LORE_ERR_NOMEM;
        /* a rollback may have to bury every fact this transaction made */
        if (dead_reserve(st, st->ndead_base + st->log_creates + creates + kills) != 0)
            return LORE_ERR_NOMEM;
    } else if (kills && l->where == 2) {
        if (dead_reserve(st, st->ndead_base + 1) != 0)
            return LORE_ERR_NOMEM;
    }
    if (mflags(l->meta) != mflags(now) && clog_reserve(st, clog_need(st, 1)) != LORE_OK)
        return LORE_ERR_NOMEM;
    return LORE_OK;
}

/* Sets a fact's meta; cannot fail once reserve() succeeded.  `log`: record
 * the change for rollback. */
static void apply(store *st, loc *l, uint32_t s, uint32_t p, uint32_t o, uint32_t now, int log)
{
    uint32_t old = l->meta;
    if (old == now)
        return;
    if (log && st->in_txn) {
        undo u = {s, p, o, old};
        st->log[st->nlog++] = u;
        if (old == 0)
            st->log_creates++;
    }
    if (log) {
        srcset_release(st, old, now);
        if (mflags(old) != mflags(now) && !st->clog_quiet)
            clog_add(st, s, p, o, mflags(old));
    }
    if ((old ^ now) & META_DERIVED)
        st->nderived += (now & META_DERIVED) ? 1 : (size_t)-1;
    if (l->where == 0) {
        if (l->idx != NONE && l->cap == st->pendcap) { /* the hole locate found */
            pend_slot *e = &st->pend[l->idx];
            e->s = s, e->p = p, e->o = o, e->meta = now;
        } else {
            l->idx = pend_put(st->pend, st->pendcap, s, p, o, now);
        }
        l->where = 1;
        st->npend++;
        uint32_t *t = st->tail + 3 * st->ntail++;
        t[0] = s, t[1] = p, t[2] = o;
    } else if (l->where == 1) {
        st->pend[l->idx].meta = now;
        if (old && !now)
            st->ndead_pend++;
        else if (!old && now)
            st->ndead_pend--;
    } else {
        st->b->meta[l->idx] = now;
        if (old && !now) {
            st->ndead_base++;
            dead_put(st->dead_base, st->deadcap, s, p, o);
        } else if (!old && now) {
            dead_delete(st, dead_find(st, s, p, o));
        }
    }
    if (!old != !now) {
        st->nlive += now ? 1 : (size_t)-1;
        st->dead_dirty = 1;
    }
    l->meta = now;
    st->version++;
}

/* ------------------------------------------------------------------ */
/* reorganisation: tail into runs, everything into a new base          */

static void free_deadk(store *st)
{
    for (int x = 0; x < 3; x++) {
        mem_free(&st->m, st->deadk[x], 3 * st->ndeadk, sizeof(uint32_t));
        st->deadk[x] = NULL;
    }
    st->ndeadk = 0;
    st->dead_dirty = 1;
}

static int merge_last_runs(store *st)
{
    run *a = st->runs[st->nruns - 2], *b = st->runs[st->nruns - 1];
    int drop = !st->in_txn && st->ndead_pend > 0;
    run *r = run_merge(st, a, b, drop);
    if (!r)
        return LORE_ERR_NOMEM;
    if (drop) { /* forget the dead facts the merge dropped */
        for (int x = 0; x < 2; x++) {
            const run *src = x ? b : a;
            for (size_t i = 0; i < src->n; i++) {
                const uint32_t *k = src->k[ORD_SPO] + 3 * i;
                size_t j = pend_find(st, k[0], k[1], k[2]);
                if (j != NONE && st->pend[j].meta == 0) {
                    pend_delete(st, j);
                    st->ndead_pend--;
                }
            }
        }
    }
    run_free(&st->m, a);
    run_free(&st->m, b);
    st->runs[st->nruns - 2] = r;
    st->nruns--;
    st->version++;
    return LORE_OK;
}

/* Rows of 4 ids (s, p, o, meta) of every pend fact, unsorted, into *out. */
static int gather_pend(store *st, int keep_dead, uint32_t **out, size_t *n)
{
    *out = NULL, *n = 0;
    if (st->npend == 0)
        return LORE_OK;
    size_t want = keep_dead ? st->npend : st->npend - st->ndead_pend;
    if (want == 0)
        return LORE_OK;
    uint32_t *rows = mem_alloc(&st->m, 4 * want, sizeof *rows);
    if (!rows)
        return LORE_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < st->pendcap; i++) {
        const pend_slot *e = &st->pend[i];
        if (e->s && (e->meta || keep_dead)) {
            uint32_t *r = rows + 4 * k++;
            r[0] = e->s, r[1] = e->p, r[2] = e->o, r[3] = e->meta;
        }
    }
    *out = rows;
    *n = k;
    return LORE_OK;
}

/* What a rebuild made or replaced, so that it can be undone or finished. */
typedef struct rebuild_ctx {
    uint32_t *created; /* set indexes made by unions (destroyed on failure) */
    size_t ncreated, createcap;
    uint32_t *replaced; /* set indexes no fact uses after success */
    size_t nreplaced, replacecap;
} rebuild_ctx;

static int push_idx(const mem *m, uint32_t **v, size_t *n, size_t *cap, uint32_t x)
{
    if (mem_reserve(m, (void **)v, cap, *n + 1, sizeof **v) != 0)
        return LORE_ERR_NOMEM;
    (*v)[(*n)++] = x;
    return LORE_OK;
}

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

/* The next row (4 ids: meta last), or NULL at the end. */
static const uint32_t *rsrc_peek(rsrc *x)
{
    if (x->stream) {
        if (!x->has && x->i < x->n) {
            x->has = x->stream->next(x->stream->ud, x->cur);
            if (!x->has)
                x->n = x->i; /* ended early */
        }
        return x->has ? x->cur : NULL;
    }
    if (x->i >= x->n)
        return NULL;
    const uint32_t *r = x->rows + (size_t)x->stride * x->i;
    if (x->stride == 4)
        return r;
    x->cur[0] = r[0], x->cur[1] = r[1], x->cur[2] = r[2], x->cur[3] = x->xmeta;
    return x->cur;
}

static void rsrc_pop(rsrc *x)
{
    x->i++;
    x->has = 0;
}

/* Frees an array the rebuild owns (no row is read after). */
static void rsrc_release(store *st, rsrc *x)
{
    if (x->cap) {
        mem_free(&st->m, (void *)x->rows, x->cap, sizeof *x->rows);
        x->rows = NULL, x->cap = 0;
    }
}

/* Folds the source's rows equal to `cand` into meta *now (starting from
 * `before`), recording sets made and dropped. */
static int fold_extra(store *st, rebuild_ctx *cx, rsrc *x, const uint32_t cand[3], uint32_t before,
                      uint32_t *now)
{
    uint32_t cur = before;
    int fresh = 0; /* cur's set was made here */
    const uint32_t *xr;
    while ((xr = rsrc_peek(x)) != NULL && row_cmp(xr, cand) == 0) {
        uint32_t xm = xr[3];
        uint32_t u;
        int rc = srcset_union(st, cur, xm, &u);
        if (rc != LORE_OK)
            return rc;
        int newset =
            (u & META_MULTI) && (!(cur & META_MULTI) || (u & META_PAYLOAD) != (cur & META_PAYLOAD));
        if (newset) {
            if (fresh) { /* an intermediate set of this fact: gone at once */
                srcset_destroy(st, cur & META_PAYLOAD);
                cx->ncreated--;
            }
            if (push_idx(&st->m, &cx->created, &cx->ncreated, &cx->createcap, u & META_PAYLOAD) !=
                LORE_OK) {
                srcset_destroy(st, u & META_PAYLOAD);
                return LORE_ERR_NOMEM;
            }
            fresh = 1;
        }
        cur = u;
        rsrc_pop(x);
    }
    if ((before & META_MULTI) && cur != before &&
        (!(cur & META_MULTI) || (cur & META_PAYLOAD) != (before & META_PAYLOAD))) {
        if (push_idx(&st->m, &cx->replaced, &cx->nreplaced, &cx->replacecap,
                     before & META_PAYLOAD) != LORE_OK)
            return LORE_ERR_NOMEM;
    }
    *now = cur;
    return LORE_OK;
}

/* Rebuilds base from the old base, every pend fact and the rows of x
 * (sorted by SPO; may be NULL).  Dead facts are dropped unless in a
 * transaction.  Atomic.  When x owns its array (x->cap != 0) or is a
 * stream, the rows are let go as soon as they are merged (before the other
 * orderings are built, which keeps the peak of a bulk load low): an array
 * is freed then, or on failure. */
static int rebuild(store *st, rsrc *x, size_t *added)
{
    int rc = LORE_OK;
    rsrc none;
    memset(&none, 0, sizeof none);
    if (!x)
        x = &none;
    size_t nextra = x->n;
    int keep_dead = st->in_txn;
    base *ob = st->b, *nb = NULL;
    uint32_t *prow = NULL, *scratch = NULL, *tab = NULL;
    size_t np = 0, cap, nadd = 0, tcap = 0, nscratch = 0;
    size_t nlog0 = st->nlog, log_creates0 = st->log_creates;
    size_t nclog_made = 0;
    rebuild_ctx cx;
    memset(&cx, 0, sizeof cx);

    TRY(gather_pend(st, keep_dead, &prow, &np));
    /* the largest id decides the size of the row offsets */
    uint32_t maxid = ob ? ob->nkeys - 1 : 0;
    for (size_t i = 0; i < np; i++)
        for (int k = 0; k < 3; k++)
            if (prow[4 * i + k] > maxid)
                maxid = prow[4 * i + k];
    if (x->stream) {
        if (x->stream->maxid > maxid)
            maxid = x->stream->maxid;
    } else {
        for (size_t i = 0; i < nextra; i++)
            for (int k = 0; k < 3; k++)
                if (x->rows[(size_t)x->stride * i + k] > maxid)
                    maxid = x->rows[(size_t)x->stride * i + k];
    }
    cap = (ob ? ob->n : 0) + np + nextra;
    if (cap >= 0xffffffffu || maxid >= 0xfffffffeu) {
        rc = LORE_ERR_LIMIT;
        goto cleanup;
    }
    nscratch = 2 * ((size_t)maxid + 2);
    scratch = mem_alloc(&st->m, nscratch, sizeof *scratch);
    TRY_PTR(scratch);
    {
        /* radix passes through a copy when memory allows; in place otherwise */
        uint32_t *tmp = np > 4096 ? mem_alloc(&st->m, 4 * np, sizeof *tmp) : NULL;
        if (tmp) {
            sort_rows_radix(prow, np, 4, maxid, tmp);
            mem_free(&st->m, tmp, 4 * np, sizeof *tmp);
        } else {
            sort_rows_bucketed(prow, np, 4, maxid + 1, scratch);
        }
    }
    if (st->in_txn && nextra &&
        (mem_reserve(&st->m, (void **)&st->log, &st->logcap, st->nlog + nextra, sizeof *st->log) ||
         mem_reserve(&st->m, (void **)&st->logsets, &st->logsetcap, st->nlogsets + nextra,
                     sizeof *st->logsets))) {
        rc = LORE_ERR_NOMEM;
        goto cleanup;
    }
    if (nextra && clog_reserve(st, clog_need(st, nextra)) != LORE_OK) {
        rc = LORE_ERR_NOMEM;
        goto cleanup;
    }
    nb = mem_calloc(&st->m, 1, sizeof *nb);
    TRY_PTR(nb);
    nb->nkeys = maxid + 1;
    nb->sig = mem_alloc(&st->m, nb->nkeys, sizeof *nb->sig);
    TRY_PTR(nb->sig);
    for (int k = 0; k < 3; k++) {
        nb->off[k] = mem_calloc(&st->m, (size_t)nb->nkeys + 1, sizeof *nb->off[k]);
        TRY_PTR(nb->off[k]);
    }
    if (cap) {
        nb->cap_ent = nb->cap_meta = cap;
        nb->ent[ORD_SPO] = mem_alloc(&st->m, cap, sizeof(pair));
        nb->meta = mem_alloc(&st->m, cap, sizeof *nb->meta);
        TRY_PTR(nb->ent[ORD_SPO]);
        TRY_PTR(nb->meta);
    }

    /* merge in SPO order: old base, pend rows and extra rows */
    size_t bi = 0, bn = ob ? ob->n : 0, pi = 0, out = 0;
    uint32_t bs = 0; /* subject of base row bi */
    pair *ent = nb->ent[ORD_SPO];
    uint32_t *soff = nb->off[ORD_SPO];
    if (nextra == 0) {
        /* the common case of a write-time rebuild: base and pend are
         * disjoint, so a plain two-way merge that drops dead rows */
        const uint32_t *boff = ob ? ob->off[ORD_SPO] : NULL;
        for (uint32_t sub = 0; ob && sub < ob->nkeys; sub++) {
            for (; bi < boff[sub + 1]; bi++) {
                pair e = ob->ent[ORD_SPO][bi];
                while (pi < np) {
                    const uint32_t *r = prow + 4 * pi;
                    if (r[0] > sub || (r[0] == sub && (r[1] > e.a || (r[1] == e.a && r[2] > e.b))))
                        break;
                    ent[out].a = r[1], ent[out].b = r[2];
                    nb->meta[out++] = r[3];
                    soff[r[0] + 1]++;
                    pi++;
                }
                uint32_t m = ob->meta[bi];
                if (m == 0 && !keep_dead)
                    continue;
                ent[out] = e;
                nb->meta[out++] = m;
                soff[sub + 1]++;
            }
        }
        for (; pi < np; pi++) {
            const uint32_t *r = prow + 4 * pi;
            ent[out].a = r[1], ent[out].b = r[2];
            nb->meta[out++] = r[3];
            soff[r[0] + 1]++;
        }
        bi = bn;
    }
    for (;;) {
        const uint32_t *m = NULL, *prw = pi < np ? prow + 4 * pi : NULL;
        const uint32_t *xrow = rsrc_peek(x);
        uint32_t brow[3];
        if (bi < bn) {
            while (ob->off[ORD_SPO][bs + 1] <= bi)
                bs++;
            brow[0] = bs, brow[1] = ob->ent[ORD_SPO][bi].a, brow[2] = ob->ent[ORD_SPO][bi].b;
            m = brow;
        }
        if (prw && (!m || row_cmp(prw, m) < 0))
            m = prw;
        if (xrow && (!m || row_cmp(xrow, m) < 0))
            m = xrow;
        if (!m)
            break;
        uint32_t cand[3] = {m[0], m[1], m[2]}, before = 0, now = 0;
        if (bi < bn && row_cmp(brow, cand) == 0)
            before = ob->meta[bi++];
        else if (prw && row_cmp(prw, cand) == 0)
            before = prw[3], pi++;
        TRY(fold_extra(st, &cx, x, cand, before, &now));
        if (now != before) {
            nadd += before == 0;
            if (st->in_txn) {
                undo u = {cand[0], cand[1], cand[2], before};
                st->log[st->nlog++] = u;
                st->log_creates += before == 0;
            }
            if (mflags(now) != mflags(before) && !st->clog_quiet && st->clog_on) {
                clog_add(st, cand[0], cand[1], cand[2], mflags(before) | CLOG_TENTATIVE);
                nclog_made++;
            }
        }
        if (now == 0 && !keep_dead)
            continue;
        ent[out].a = cand[1], ent[out].b = cand[2];
        nb->meta[out] = now;
        soff[cand[0] + 1]++;
        out++;
    }
    if (x->stream && x->stream->done)
        x->stream->done(x->stream->ud); /* its rows are in: let it go early */
    rsrc_release(st, x);
    for (uint32_t k = 0; k < nb->nkeys; k++)
        soff[k + 1] += soff[k];
    nb->n = out;
    if (out < cap) { /* give back the room duplicates and dead facts left */
        void *p = nb->ent[ORD_SPO];
        if (mem_resize(&st->m, &p, cap, out, sizeof(pair)) == 0)
            nb->ent[ORD_SPO] = p, nb->cap_ent = out;
        p = nb->meta;
        if (mem_resize(&st->m, &p, cap, out, sizeof(uint32_t)) == 0)
            nb->meta = p, nb->cap_meta = out;
    }
    if (out) {
        nb->ent[ORD_POS] = mem_alloc(&st->m, out, sizeof(pair));
        nb->ent[ORD_OSP] = mem_alloc(&st->m, out, sizeof(pair));
        TRY_PTR(nb->ent[ORD_POS]);
        TRY_PTR(nb->ent[ORD_OSP]);
    }
    base_permute(nb, scratch);

    /* dead base facts, kept only inside a transaction */
    size_t ndead = 0, nder = 0;
    for (size_t i = 0; i < out; i++) {
        ndead += nb->meta[i] == 0;
        nder += (nb->meta[i] & META_DERIVED) != 0;
    }
    size_t need = ndead + (st->in_txn ? st->log_creates : 0);
    if (need) {
        tcap = 64;
        while (need * 2 > tcap)
            tcap *= 2;
        tab = mem_calloc(&st->m, tcap, 3 * sizeof *tab);
        TRY_PTR(tab);
        uint32_t s = 0;
        for (size_t i = 0; i < out; i++) {
            while (nb->off[ORD_SPO][s + 1] <= i)
                s++;
            if (nb->meta[i] == 0)
                dead_put(tab, tcap, s, nb->ent[ORD_SPO][i].a, nb->ent[ORD_SPO][i].b);
        }
    }

    /* commit point: nothing below can fail */
    mem_free(&st->m, st->dead_base, st->deadcap, 3 * sizeof(uint32_t));
    st->dead_base = tab, st->deadcap = tcap, st->ndead_base = ndead;
    tab = NULL;
    for (size_t i = 0; i < cx.nreplaced; i++) {
        if (st->in_txn)
            st->logsets[st->nlogsets++] = cx.replaced[i];
        else
            srcset_destroy(st, cx.replaced[i]);
    }
    base_free(&st->m, ob);
    st->b = nb;
    nb = NULL;
    for (int q = 0; q < st->nruns; q++)
        run_free(&st->m, st->runs[q]);
    st->nruns = 0;
    st->ntail = 0;
    mem_free(&st->m, st->pend, st->pendcap, sizeof *st->pend);
    st->pend = NULL, st->pendcap = 0, st->npend = 0, st->ndead_pend = 0;
    st->nlive = out - ndead;
    st->nderived = nder;
    if (nclog_made)
        clog_settle(st, 1);
    free_deadk(st);
    st->version++;
    if (added)
        *added = nadd;

cleanup:
    if (rc != LORE_OK) {
        for (size_t i = cx.ncreated; i-- > 0;)
            srcset_destroy(st, cx.created[i]);
        st->nlog = nlog0, st->log_creates = log_creates0;
        if (nclog_made)
            clog_settle(st, 0);
    }
    base_free(&st->m, nb);
    mem_free(&st->m, tab, tcap, 3 * sizeof *tab);
    mem_free(&st->m, prow, np, 4 * sizeof *prow);
    mem_free(&st->m, scratch, nscratch, sizeof *scratch);
    mem_free(&st->m, cx.created, cx.createcap, sizeof *cx.created);
    mem_free(&st->m, cx.replaced, cx.replacecap, sizeof *cx.replaced);
    rsrc_release(st, x);
    return rc;
}

/* Before a write: fold pend into base when it has outgrown base (so that
 * base at least doubles each time), or when dead facts pile up. */
static int maintain(store *st)
{
    size_t nb = st->b ? st->b->n : 0;
    size_t dead = st->ndead_base + st->ndead_pend;
    if (st->in_txn)
        return LORE_OK;
    if ((st->npend > st->pend_min && st->npend > nb) || (dead > 1024 && dead > st->nlive / 8))
        return rebuild(st, NULL, NULL);
    return LORE_OK;
}

/* Makes pending facts readable.  A tail large beside base is folded into
 * base; a small one becomes a sorted run.  Only ever reorganises when the
 * tail holds something, that is after a write, which already made every
 * open iterator stale: so no iterator can see the structures move. */
int store_prepare(store *st)
{
    if (st->ntail == 0)
        return LORE_OK;
    size_t nb = st->b ? st->b->n : 0, inruns = st->npend - st->ntail;
    if (!st->in_txn &&
        (st->ntail > st->tail_max + nb / 8 || inruns + st->ntail > nb / 2 + st->tail_max))
        return rebuild(st, NULL, NULL);
    if (st->nruns == RUN_MAX && merge_last_runs(st) != LORE_OK)
        return LORE_ERR_NOMEM;
    /* dead rows go, unless a rollback may still need them */
    int drop = !st->in_txn && st->ndead_pend > 0;
    run *r = run_from_tail(st, drop);
    if (!r)
        return LORE_ERR_NOMEM;
    if (drop) {
        for (size_t i = 0; i < st->ntail; i++) {
            const uint32_t *row = st->tail + 3 * i;
            size_t j = pend_find(st, row[0], row[1], row[2]);
            if (st->pend[j].meta == 0) {
                pend_delete(st, j);
                st->ndead_pend--;
            }
        }
    }
    st->ntail = 0;
    if (r->n)
        st->runs[st->nruns++] = r;
    else
        run_free(&st->m, r);
    st->version++;
    /* binary-counter merging keeps runs few; a failure here only leaves
     * more runs than ideal */
    while (st->nruns >= 2 && st->runs[st->nruns - 2]->n <= 2 * st->runs[st->nruns - 1]->n) {
        if (merge_last_runs(st) != LORE_OK)
            break;
    }
    return LORE_OK;
}

/* ------------------------------------------------------------------ */
/* writes                                                             */

void store_free(store *st)
{
    if (!st)
        return;
    if (st->in_txn)
        store_commit(st); /* frees the sets the log owns */
    base_free(&st->m, st->b);
    for (int q = 0; q < st->nruns; q++)
        run_free(&st->m, st->runs[q]);
    mem_free(&st->m, st->pend, st->pendcap, sizeof *st->pend);
    mem_free(&st->m, st->tail, st->tailcap, sizeof *st->tail);
    mem_free(&st->m, st->dead_base, st->deadcap, 3 * sizeof(uint32_t));
    free_deadk(st);
    for (size_t i = 1; i < st->nsets; i++) {
        srcset *s = st->sets[i];
        if (s)
            mem_free(&st->m, s, 1, sizeof *s + (size_t)s->cap * sizeof s->ids[0]);
    }
    mem_free(&st->m, st->sets, st->setcap, sizeof *st->sets);
    mem_free(&st->m, st->freesets, st->freecap, sizeof *st->freesets);
    mem_free(&st->m, st->log, st->logcap, sizeof *st->log);
    mem_free(&st->m, st->logsets, st->logsetcap, sizeof *st->logsets);
    mem_free(&st->m, st->clog, st->clogcap, sizeof *st->clog);
    memset(st, 0, sizeof *st);
}

/* Destroys a set made for a change that then could not be applied. */
static void drop_new_set(store *st, uint32_t old, uint32_t now)
{
    if ((now & META_MULTI) && (!(old & META_MULTI) || (now & META_PAYLOAD) != (old & META_PAYLOAD)))
        srcset_destroy(st, now & META_PAYLOAD);
}

/* Moves one fact from meta l.meta to `now`: reserve, then apply. */
static int change(store *st, loc *l, uint32_t s, uint32_t p, uint32_t o, uint32_t now)
{
    if (reserve(st, l, now) != LORE_OK) {
        drop_new_set(st, l->meta, now);
        return LORE_ERR_NOMEM;
    }
    apply(st, l, s, p, o, now, 1);
    return LORE_OK;
}

int store_reserve(store *st, size_t nnew, size_t nkill)
{
    if (pend_reserve(st, nnew) != LORE_OK ||
        mem_reserve(&st->m, (void **)&st->tail, &st->tailcap, 3 * (st->ntail + nnew),
                    sizeof *st->tail) != 0 ||
        dead_reserve(st, st->ndead_base + nkill) != LORE_OK ||
        (st->clog_on && clog_reserve(st, clog_need(st, nnew + nkill)) != LORE_OK))
        return LORE_ERR_NOMEM;
    return LORE_OK;
}

int store_assert(store *st, uint32_t s, uint32_t p, uint32_t o, uint32_t src)
{
    if (src > META_PAYLOAD)
        return LORE_ERR_LIMIT;
    int rc = maintain(st);
    if (rc != LORE_OK)
        return rc;
    loc l = locate(st, s, p, o);
    if (srcset_has(st, l.meta, src))
        return LORE_NOOP;
    uint32_t now;
    rc = srcset_with(st, l.meta, src, &now);
    if (rc != LORE_OK)
        return rc;
    return change(st, &l, s, p, o, now);
}

int store_unassert(store *st, uint32_t s, uint32_t p, uint32_t o, uint32_t src)
{
    loc l = locate(st, s, p, o);
    if (!(l.meta & META_ASSERTED))
        return LORE_NOOP;
    if (src != LORE_ANY_SOURCE && !srcset_has(st, l.meta, src))
        return LORE_NOOP;
    uint32_t now;
    int rc = srcset_without(st, l.meta, src, &now);
    if (rc != LORE_OK)
        return rc;
    return change(st, &l, s, p, o, now);
}

int store_set_derived(store *st, uint32_t s, uint32_t p, uint32_t o, int derived)
{
    int rc = derived ? maintain(st) : LORE_OK;
    if (rc != LORE_OK)
        return rc;
    loc l = locate(st, s, p, o);
    uint32_t now = derived ? l.meta | META_DERIVED : l.meta & ~META_DERIVED;
    if (!(now & META_ASSERTED) && !(now & META_DERIVED))
        now = 0; /* a derived fact's payload (its rank) goes with it */
    if (now == l.meta)
        return LORE_NOOP;
    return change(st, &l, s, p, o, now);
}

int store_underive(store *st, uint32_t s, uint32_t p, uint32_t o, uint32_t *was)
{
    loc l = locate(st, s, p, o);
    *was = l.meta;
    if (!(l.meta & META_DERIVED))
        return LORE_NOOP;
    uint32_t now = (l.meta & META_ASSERTED) ? l.meta & ~META_DERIVED : 0;
    return change(st, &l, s, p, o, now);
}

int store_derive(store *st, uint32_t s, uint32_t p, uint32_t o, uint32_t rank, uint32_t *was)
{
    int rc = maintain(st);
    if (rc != LORE_OK)
        return rc;
    loc l = locate(st, s, p, o);
    if (was)
        *was = l.meta;
    uint32_t now =
        (l.meta & META_ASSERTED) ? l.meta | META_DERIVED : META_DERIVED | (rank & META_PAYLOAD);
    if (now == l.meta)
        return LORE_NOOP;
    return change(st, &l, s, p, o, now);
}

int store_clear_derived(store *st, size_t *removed)
{
    size_t n = 0, kills_base = 0, kills = 0;
    if (removed)
        *removed = 0;
    /* pass 1: count, to reserve everything before changing anything */
    base *b = st->b;
    for (size_t i = 0; b && i < b->n; i++) {
        uint32_t m = b->meta[i];
        if (m & META_DERIVED) {
            n++;
            if (!(m & META_ASSERTED))
                kills_base++;
        }
    }
    for (size_t i = 0; i < st->pendcap; i++) {
        const pend_slot *e = &st->pend[i];
        if (e->s && (e->meta & META_DERIVED)) {
            n++;
            kills += !(e->meta & META_ASSERTED);
        }
    }
    kills += kills_base;
    if (n == 0)
        return LORE_NOOP;
    if (clog_reserve(st, clog_need(st, n)) != LORE_OK)
        return LORE_ERR_NOMEM;
    if (st->in_txn) {
        if (mem_reserve(&st->m, (void **)&st->log, &st->logcap, st->nlog + n, sizeof *st->log) ||
            dead_reserve(st, st->ndead_base + st->log_creates + kills_base))
            return LORE_ERR_NOMEM;
    } else if (kills_base && dead_reserve(st, st->ndead_base + kills_base) != 0) {
        return LORE_ERR_NOMEM;
    }
    /* pass 2: apply (the marks' sets are untouched, so no set changes) */
    uint32_t sub = 0;
    for (size_t i = 0; b && i < b->n; i++) {
        uint32_t m = b->meta[i];
        if (!(m & META_DERIVED))
            continue;
        while (b->off[ORD_SPO][sub + 1] <= i)
            sub++;
        loc l = {2, i, st->pendcap, m};
        uint32_t now = (m & META_ASSERTED) ? m & ~META_DERIVED : 0;
        apply(st, &l, sub, b->ent[ORD_SPO][i].a, b->ent[ORD_SPO][i].b, now, 1);
    }
    for (size_t i = 0; i < st->pendcap; i++) {
        pend_slot *e = &st->pend[i];
        if (!e->s || !(e->meta & META_DERIVED))
            continue;
        loc l = {1, i, st->pendcap, e->meta};
        uint32_t now = (e->meta & META_ASSERTED) ? e->meta & ~META_DERIVED : 0;
        apply(st, &l, e->s, e->p, e->o, now, 1);
    }
    if (removed)
        *removed = kills;
    return LORE_OK;
}

/* One fact touched by a source retraction, and its meta afterwards. */
typedef struct retract_item {
    loc l;
    uint32_t s, p, o, now;
} retract_item;

int store_retract_source(store *st, uint32_t src, size_t *removed)
{
    int rc = LORE_OK;
    retract_item *items = NULL;
    size_t n = 0, cap = 0, gone = 0, kills_base = 0, made = 0;
    if (removed)
        *removed = 0;
    /* pass 1: find every fact with the source and its meta afterwards */
    if (st->b) {
        const base *b = st->b;
        uint32_t s = 0;
        for (size_t i = 0; i < b->n; i++) {
            if (!srcset_has(st, b->meta[i], src))
                continue;
            while (b->off[ORD_SPO][s + 1] <= i)
                s++;
            if (mem_reserve(&st->m, (void **)&items, &cap, n + 1, sizeof *items) != 0) {
                rc = LORE_ERR_NOMEM;
                goto cleanup;
            }
            retract_item *it = &items[n++];
            it->l.where = 2, it->l.idx = i, it->l.meta = b->meta[i];
            it->s = s, it->p = b->ent[ORD_SPO][i].a, it->o = b->ent[ORD_SPO][i].b;
        }
    }
    for (size_t i = 0; i < st->pendcap; i++) {
        const pend_slot *e = &st->pend[i];
        if (!e->s || !srcset_has(st, e->meta, src))
            continue;
        if (mem_reserve(&st->m, (void **)&items, &cap, n + 1, sizeof *items) != 0) {
            rc = LORE_ERR_NOMEM;
            goto cleanup;
        }
        retract_item *it = &items[n++];
        it->l.where = 1, it->l.idx = i, it->l.meta = e->meta;
        it->s = e->s, it->p = e->p, it->o = e->o;
    }
    if (n == 0)
        goto cleanup;
    for (made = 0; made < n; made++) {
        retract_item *it = &items[made];
        TRY(srcset_without(st, it->l.meta, src, &it->now));
        if (it->now == 0) {
            gone++;
            kills_base += it->l.where == 2;
        }
    }
    /* reserve for all, then apply all */
    if (clog_reserve(st, clog_need(st, n)) != LORE_OK) {
        rc = LORE_ERR_NOMEM;
        goto cleanup;
    }
    if (st->in_txn) {
        if (mem_reserve(&st->m, (void **)&st->log, &st->logcap, st->nlog + n, sizeof *st->log) ||
            mem_reserve(&st->m, (void **)&st->logsets, &st->logsetcap, st->nlogsets + n,
                        sizeof *st->logsets) ||
            dead_reserve(st, st->ndead_base + st->log_creates + kills_base)) {
            rc = LORE_ERR_NOMEM;
            goto cleanup;
        }
    } else if (kills_base && dead_reserve(st, st->ndead_base + kills_base) != 0) {
        rc = LORE_ERR_NOMEM;
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++)
        apply(st, &items[i].l, items[i].s, items[i].p, items[i].o, items[i].now, 1);
    made = 0; /* the new sets now belong to facts */
    if (removed)
        *removed = gone;

cleanup:
    for (size_t i = 0; i < made; i++)
        drop_new_set(st, items[i].l.meta, items[i].now);
    mem_free(&st->m, items, cap, sizeof *items);
    if (rc == LORE_OK && n == 0)
        return LORE_NOOP;
    return rc;
}

/* Sorts bulk rows by SPO: rows that come nearly in subject order (a file
 * grouped by subject) take a linear path, others a bucket sort. */
static int sort_bulk(store *st, uint32_t *rows, size_t n, int stride)
{
    size_t strays = sort_count_strays(rows, n, stride);
    if (strays <= n / 8) {
        uint32_t *spare = NULL;
        if (strays) {
            spare = mem_alloc(&st->m, (size_t)stride * strays, sizeof *spare);
            if (!spare)
                return LORE_ERR_NOMEM;
        }
        sort_rows_strays(rows, n, stride, spare, strays);
        mem_free(&st->m, spare, (size_t)stride * strays, sizeof *spare);
        return LORE_OK;
    }
    uint32_t maxs = 0;
    for (size_t i = 0; i < n; i++)
        if (rows[(size_t)stride * i] > maxs)
            maxs = rows[(size_t)stride * i];
    /* radix passes through a copy when memory allows; in place otherwise */
    uint32_t *tmp = n > 4096 ? mem_alloc(&st->m, n * (size_t)stride, sizeof *tmp) : NULL;
    if (tmp) {
        sort_rows_radix(rows, n, stride, maxs, tmp);
        mem_free(&st->m, tmp, n * (size_t)stride, sizeof *tmp);
        return LORE_OK;
    }
    uint32_t *scratch = mem_alloc(&st->m, 2 * ((size_t)maxs + 2), sizeof *scratch);
    if (!scratch)
        return LORE_ERR_NOMEM;
    sort_rows_bucketed(rows, n, stride, maxs + 1, scratch);
    mem_free(&st->m, scratch, 2 * ((size_t)maxs + 2), sizeof *scratch);
    return LORE_OK;
}

int store_bulk(store *st, uint32_t *facts, size_t n, size_t *added)
{
    if (added)
        *added = 0;
    if (n == 0)
        return LORE_OK;
    int rc = sort_bulk(st, facts, n, 4);
    if (rc != LORE_OK)
        return rc;
    rsrc x;
    memset(&x, 0, sizeof x);
    x.rows = facts, x.stride = 4, x.n = n;
    return rebuild(st, &x, added);
}

int store_bulk_take(store *st, uint32_t *rows, size_t n, size_t cap, int stride, uint32_t meta,
                    size_t *added)
{
    if (added)
        *added = 0;
    if (n == 0) {
        mem_free(&st->m, rows, cap, sizeof *rows);
        return LORE_OK;
    }
    int rc = sort_bulk(st, rows, n, stride);
    if (rc != LORE_OK) {
        mem_free(&st->m, rows, cap, sizeof *rows);
        return rc;
    }
    rsrc x;
    memset(&x, 0, sizeof x);
    x.rows = rows, x.stride = stride, x.xmeta = meta, x.n = n, x.cap = cap;
    return rebuild(st, &x, added);
}

int store_bulk_stream(store *st, const store_rows *rows, size_t *added)
{
    if (added)
        *added = 0;
    if (rows->n == 0) {
        if (rows->done)
            rows->done(rows->ud);
        return LORE_OK;
    }
    rsrc x;
    memset(&x, 0, sizeof x);
    x.stream = rows, x.n = rows->n;
    return rebuild(st, &x, added);
}

/* ------------------------------------------------------------------ */
/* transactions                                                       */

int store_begin(store *st)
{
    if (st->in_txn)
        return LORE_ERR_STATE;
    st->in_txn = 1;
    st->nlog = st->nlogsets = st->log_creates = 0;
    return LORE_OK;
}

void store_commit(store *st)
{
    st->in_txn = 0;
    for (size_t i = 0; i < st->nlogsets; i++)
        srcset_destroy(st, st->logsets[i]);
    st->nlog = st->nlogsets = st->log_creates = 0;
}

void store_rollback(store *st)
{
    /* Reverse order: each entry finds its fact in the state its change
     * left.  Facts made in the transaction are still physically present
     * (nothing dead is dropped in a transaction), and dead_base has room. */
    for (size_t i = st->nlog; i-- > 0;) {
        const undo *u = &st->log[i];
        loc l = locate(st, u->s, u->p, u->o);
        uint32_t cur = l.meta;
        /* the change log learns what the rollback changes (room was kept) */
        if (mflags(cur) != mflags(u->meta))
            clog_add(st, u->s, u->p, u->o, mflags(cur));
        if ((cur & META_MULTI) &&
            (!(u->meta & META_MULTI) || (u->meta & META_PAYLOAD) != (cur & META_PAYLOAD)))
            srcset_destroy(st, cur & META_PAYLOAD);
        apply(st, &l, u->s, u->p, u->o, u->meta, 0);
    }
    /* every set the log held is back in its fact */
    st->in_txn = 0;
    st->nlog = st->nlogsets = st->log_creates = 0;
    st->version++;
}

/* ------------------------------------------------------------------ */
/* reads                                                              */

static int shape_of(uint32_t s, uint32_t p, uint32_t o)
{
    return (s != 0) | (p != 0) << 1 | (o != 0) << 2;
}

/* The dead facts sitting in base or runs, sorted three ways, for counts. */
static int ensure_deadk(store *st)
{
    if (!st->dead_dirty)
        return LORE_OK;
    size_t n = st->ndead_base + st->ndead_pend;
    uint32_t *k[3] = {NULL, NULL, NULL};
    for (int x = 0; x < 3 && n; x++) {
        k[x] = mem_alloc(&st->m, 3 * n, sizeof(uint32_t));
        if (!k[x]) {
            for (int y = 0; y < x; y++)
                mem_free(&st->m, k[y], 3 * n, sizeof(uint32_t));
            return LORE_ERR_NOMEM;
        }
    }
    size_t w = 0;
    for (size_t i = 0; i < st->deadcap; i++) {
        const uint32_t *e = st->dead_base + 3 * i;
        if (e[0])
            memcpy(k[0] + 3 * w++, e, 3 * sizeof *e);
    }
    for (size_t i = 0; i < st->pendcap; i++) {
        const pend_slot *e = &st->pend[i];
        if (e->s && e->meta == 0) {
            uint32_t *d = k[0] + 3 * w++;
            d[0] = e->s, d[1] = e->p, d[2] = e->o;
        }
    }
    uint32_t *tmp = n > 4096 ? mem_alloc(&st->m, 3 * n, sizeof *tmp) : NULL;
    for (int x = 2; x >= 0; x--) { /* k[0] last: the others read it unsorted */
        for (size_t i = 0; x && i < n; i++) {
            const uint32_t *t = k[0] + 3 * i;
            permute(x, t[0], t[1], t[2], k[x] + 3 * i);
        }
        if (tmp)
            sort_rows_lsd(k[x], n, 3, tmp);
        else
            sort_rows(k[x], n, 3);
    }
    if (tmp)
        mem_free(&st->m, tmp, 3 * n, sizeof *tmp);
    free_deadk(st);
    for (int x = 0; x < 3; x++)
        st->deadk[x] = k[x];
    st->ndeadk = n;
    st->dead_dirty = 0;
    return LORE_OK;
}

int store_count(store *st, uint32_t s, uint32_t p, uint32_t o, uint64_t *out)
{
    int rc = store_prepare(st);
    if (rc != LORE_OK)
        return rc;
    int shape = shape_of(s, p, o);
    if (shape == 0) {
        *out = st->nlive;
        return LORE_OK;
    }
    int ord = shape_ord[shape], prefix = shape_prefix[shape];
    uint32_t key[3];
    permute(ord, s, p, o, key);
    uint64_t n = 0;
    size_t lo, hi;
    if (st->b) {
        base_range(st->b, ord, prefix, key, &lo, &hi);
        n += hi - lo;
    }
    for (int q = 0; q < st->nruns; q++) {
        run_range(st->runs[q], ord, prefix, key, &lo, &hi);
        n += hi - lo;
    }
    if (st->ndead_base + st->ndead_pend) {
        rc = ensure_deadk(st);
        if (rc != LORE_OK)
            return rc;
        run dead = {st->ndeadk, {st->deadk[0], st->deadk[1], st->deadk[2]}};
        run_range(&dead, ord, prefix, key, &lo, &hi);
        n -= hi - lo;
    }
    *out = n;
    return LORE_OK;
}

/* A fact of a base range by position: the first key of entry i is found
 * by binary search on the offsets when the range does not fix it. */
static void base_row(const base *b, int ord, int prefix, const uint32_t key[3], size_t i,
                     uint32_t t[3])
{
    uint32_t k1 = key[0];
    if (prefix == 0) {
        const uint32_t *off = b->off[ord];
        uint32_t lo = 0, hi = b->nkeys; /* last k with off[k] <= i */
        while (lo + 1 < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (off[mid] <= i)
                lo = mid;
            else
                hi = mid;
        }
        k1 = lo;
    }
    const pair *e = &b->ent[ord][i];
    unpermute(ord, k1, e->a, e->b, t);
}

int store_sample(store *st, uint32_t s, uint32_t p, uint32_t o, uint32_t *out, size_t m, size_t *n)
{
    *n = 0;
    int rc = store_prepare(st);
    if (rc != LORE_OK)
        return rc;
    int shape = shape_of(s, p, o);
    int ord = shape_ord[shape], prefix = shape_prefix[shape];
    uint32_t key[3];
    permute(ord, s, p, o, key);
    size_t lo[RUN_MAX + 1], hi[RUN_MAX + 1], total = 0;
    int nl = st->nruns + 1; /* level 0: base, then the runs */
    for (int l = 0; l < nl; l++) {
        lo[l] = hi[l] = 0;
        if (l == 0 && st->b)
            base_range(st->b, ord, prefix, key, &lo[l], &hi[l]);
        else if (l > 0)
            run_range(st->runs[l - 1], ord, prefix, key, &lo[l], &hi[l]);
        total += hi[l] - lo[l];
    }
    if (total == 0 || m == 0)
        return LORE_OK;
    size_t want = m < total ? m : total;
    for (size_t k = 0; k < want; k++) {
        size_t at = want == total ? k : (size_t)(((double)k + 0.5) * (double)total / (double)want);
        int l = 0;
        while (at >= hi[l] - lo[l]) {
            at -= hi[l] - lo[l];
            l++;
        }
        uint32_t *t = out + 3 * *n;
        size_t i = lo[l] + at;
        if (l == 0) {
            base_row(st->b, ord, prefix, key, i, t);
            if (ord == ORD_SPO ? st->b->meta[i] == 0 : dead_has(st, t))
                continue;
        } else {
            const uint32_t *r = st->runs[l - 1]->k[ord] + 3 * i;
            unpermute(ord, r[0], r[1], r[2], t);
            if (st->ndead_pend) {
                size_t j = pend_find(st, t[0], t[1], t[2]);
                if (st->pend[j].meta == 0)
                    continue;
            }
        }
        (*n)++;
    }
    return LORE_OK;
}

/* Positions the iterator on level it->level, or past the last one. */
static void iter_level(store_iter *it)
{
    store *st = it->st;
    for (;;) {
        if (it->level == -1) {
            if (st->b) {
                base_range(st->b, it->ord, it->prefix, it->key, &it->pos, &it->end);
                it->k1 = it->prefix ? it->key[0] : 0;
                if (it->pos < it->end)
                    return;
            }
        } else if (it->level < st->nruns) {
            run_range(st->runs[it->level], it->ord, it->prefix, it->key, &it->pos, &it->end);
            if (it->pos < it->end)
                return;
        } else {
            it->done = 1;
            return;
        }
        it->level++;
    }
}

int store_iter_init(store *st, store_iter *it, uint32_t s, uint32_t p, uint32_t o)
{
    int rc = store_prepare(st);
    if (rc != LORE_OK)
        return rc;
    int shape = shape_of(s, p, o);
    memset(it, 0, sizeof *it);
    it->st = st;
    it->version = st->version;
    it->ord = shape_ord[shape];
    it->prefix = shape_prefix[shape];
    permute(it->ord, s, p, o, it->key);
    it->level = -1;
    iter_level(it);
    return LORE_OK;
}

/* Reads up to cap live facts; the shared loop of next and read. */
static size_t iter_fill(store_iter *it, uint32_t *t, size_t cap)
{
    store *st = it->st;
    size_t n = 0;
    while (n < cap && !it->done) {
        if (it->pos >= it->end) {
            it->level++;
            iter_level(it);
            continue;
        }
        if (it->level == -1) {
            const base *b = st->b;
            const pair *e = b->ent[it->ord];
            const uint32_t *off = b->off[it->ord];
            int check = it->ord == ORD_SPO ? 1 : st->ndead_base > 0;
            while (n < cap && it->pos < it->end) {
                size_t i = it->pos++;
                while (off[it->k1 + 1] <= i)
                    it->k1++;
                uint32_t *d = t + 3 * n;
                unpermute(it->ord, it->k1, e[i].a, e[i].b, d);
                if (check && (it->ord == ORD_SPO ? b->meta[i] == 0 : dead_has(st, d)))
                    continue;
                n++;
            }
        } else {
            const uint32_t *k = st->runs[it->level]->k[it->ord];
            int check = st->ndead_pend > 0;
            while (n < cap && it->pos < it->end) {
                const uint32_t *r = k + 3 * it->pos++;
                uint32_t *d = t + 3 * n;
                unpermute(it->ord, r[0], r[1], r[2], d);
                if (check) {
                    size_t j = pend_find(st, d[0], d[1], d[2]);
                    if (st->pend[j].meta == 0)
                        continue;
                }
                n++;
            }
        }
    }
    return n;
}

int store_iter_next(store_iter *it, uint32_t t[3])
{
    if (it->st->version != it->version)
        return LORE_ERR_CHANGED;
    return iter_fill(it, t, 1) ? LORE_OK : LORE_DONE;
}

int store_iter_read(store_iter *it, uint32_t *t, size_t cap, size_t *n)
{
    *n = 0;
    if (it->st->version != it->version)
        return LORE_ERR_CHANGED;
    *n = iter_fill(it, t, cap);
    return *n ? LORE_OK : LORE_DONE;
}

void store_iter_done(store_iter *it)
{
    it->done = 1;
}

size_t store_bytes(const store *st)
{
    size_t b = 0;
    if (st->b) {
        b += 3 * ((size_t)st->b->nkeys + 1) * sizeof(uint32_t);
        b += (st->b->cap_ent + 2 * st->b->n) * sizeof(pair) + st->b->cap_meta * sizeof(uint32_t);
    }
    for (int q = 0; q < st->nruns; q++)
        b += 9 * st->runs[q]->n * sizeof(uint32_t);
    b += st->pendcap * sizeof(pend_slot) + st->tailcap * sizeof(uint32_t);
    b += st->deadcap * 3 * sizeof(uint32_t) + 9 * st->ndeadk * sizeof(uint32_t);
    b += st->clogcap * sizeof(clog_slot);
    return b;
}

/* ------------------------------------------------------------------ */
/* saving and restoring (snapshot.c)                                  */

int store_has(const store *st, uint32_t s, uint32_t p, uint32_t o, uint32_t src)
{
    uint32_t meta = locate(st, s, p, o).meta;
    if (src == LORE_ANY_SOURCE)
        return (meta & META_ASSERTED) != 0;
    return srcset_has(st, meta, src);
}

int store_scan(store *st, int (*fn)(void *ud, const uint32_t t[3], uint32_t meta), void *ud)
{
    int rc = store_prepare(st);
    if (rc != LORE_OK)
        return rc;
    /* base and every run are sorted by SPO and disjoint: merge them */
    const base *b = st->b;
    size_t bi = 0, bn = b ? b->n : 0, pos[RUN_MAX] = {0};
    uint32_t bs = 0;
    for (;;) {
        uint32_t t[3];
        int from = -2;
        if (bi < bn) {
            while (b->off[ORD_SPO][bs + 1] <= bi)
                bs++;
            t[0] = bs, t[1] = b->ent[ORD_SPO][bi].a, t[2] = b->ent[ORD_SPO][bi].b;
            from = -1;
        }
        for (int q = 0; q < st->nruns; q++) {
            if (pos[q] == st->runs[q]->n)
                continue;
            const uint32_t *r = st->runs[q]->k[ORD_SPO] + 3 * pos[q];
            if (from == -2 || row_cmp(r, t) < 0) {
                memcpy(t, r, sizeof t);
                from = q;
            }
        }
        if (from == -2)
            return LORE_OK;
        uint32_t meta;
        if (from == -1) {
            meta = b->meta[bi++];
        } else {
            pos[from]++;
            meta = st->pend[pend_find(st, t[0], t[1], t[2])].meta;
        }
        if (meta != 0 && (rc = fn(ud, t, meta)) != 0)
            return rc;
    }
}

base *store_base_alloc(store *st, uint32_t nkeys, size_t n)
{
    base *b = mem_calloc(&st->m, 1, sizeof *b);
    if (!b)
        return NULL;
    b->nkeys = nkeys;
    b->n = b->cap_ent = b->cap_meta = n;
    if (!(b->sig = mem_alloc(&st->m, nkeys, sizeof *b->sig)))
        goto fail;
    for (int x = 0; x < 3; x++) {
        b->off[x] = mem_calloc(&st->m, (size_t)nkeys + 1, sizeof *b->off[x]);
        if (!b->off[x])
            goto fail;
        if (n && !(b->ent[x] = mem_alloc(&st->m, n, sizeof *b->ent[x])))
            goto fail;
    }
    if (n && !(b->meta = mem_alloc(&st->m, n, sizeof *b->meta)))
        goto fail;
    return b;
fail:
    base_free(&st->m, b);
    return NULL;
}

void store_base_free(store *st, base *b)
{
    base_free(&st->m, b);
}

int store_add_set(store *st, const uint32_t *ids, uint32_t n, uint32_t *idx)
{
    return srcset_new(st, ids, n, idx);
}

int store_adopt(store *st, base *b)
{
    if (st->b || st->npend)
        return LORE_ERR_STATE;
    uint32_t *next = mem_alloc(&st->m, (size_t)b->nkeys + 1, sizeof *next);
    if (!next)
        return LORE_ERR_NOMEM;
    base_permute(b, next);
    mem_free(&st->m, next, (size_t)b->nkeys + 1, sizeof *next);
    st->b = b;
    st->nlive = b->n;
    st->nderived = 0;
    for (size_t i = 0; i < b->n; i++)
        st->nderived += (b->meta[i] & META_DERIVED) != 0;
    st->dead_dirty = 1;
    st->version++;
    return LORE_OK;
}

/* ------------------------------------------------------------------ */
/* invariants (tests)                                                 */

const char *store_check(store *st)
{
    size_t live = 0, dead_base = 0, dead_pend = 0;
    const base *b = st->b;
    if (b) {
        for (int x = 0; x < 3; x++) {
            if (b->off[x][0] != 0 || b->off[x][b->nkeys] != b->n)
                return "base offsets do not span the entries";
            for (uint32_t k = 0; k < b->nkeys; k++) {
                if (b->off[x][k] > b->off[x][k + 1])
                    return "base offsets decrease";
                for (uint32_t i = b->off[x][k]; i + 1 < b->off[x][k + 1]; i++) {
                    const pair *e = b->ent[x];
                    if (e[i].a > e[i + 1].a || (e[i].a == e[i + 1].a && e[i].b >= e[i + 1].b))
                        return "base rows out of order";
                }
                for (uint32_t i = b->off[x][k]; i < b->off[x][k + 1]; i++) {
                    uint32_t t[3];
                    unpermute(x, k, b->ent[x][i].a, b->ent[x][i].b, t);
                    if (x && base_find(b, t[0], t[1], t[2]) == NONE)
                        return "a POS or OSP row has no SPO row";
                    if (pend_find(st, t[0], t[1], t[2]) != NONE)
                        return "a fact is both in base and pending";
                }
            }
        }
        for (size_t i = 0; i < b->n; i++) {
            if (b->meta[i])
                live++;
            else
                dead_base++;
        }
        uint32_t s = 0;
        for (size_t i = 0; i < b->n; i++) {
            while (b->off[ORD_SPO][s + 1] <= i)
                s++;
            int dead = dead_find(st, s, b->ent[ORD_SPO][i].a, b->ent[ORD_SPO][i].b) != NONE;
            if (dead != (b->meta[i] == 0))
                return "dead_base disagrees with base meta";
        }
    }
    if (dead_base != st->ndead_base)
        return "ndead_base is wrong";
    size_t np = 0;
    for (size_t i = 0; i < st->pendcap; i++) {
        const pend_slot *e = &st->pend[i];
        if (!e->s)
            continue;
        np++;
        if (e->meta)
            live++;
        else
            dead_pend++;
        size_t where = 0;
        for (size_t j = 0; j < st->ntail; j++) {
            const uint32_t *t = st->tail + 3 * j;
            where += t[0] == e->s && t[1] == e->p && t[2] == e->o;
        }
        for (int q = 0; q < st->nruns; q++) {
            size_t in[3];
            for (int x = 0; x < 3; x++) {
                size_t lo, hi;
                uint32_t key[3];
                permute(x, e->s, e->p, e->o, key);
                run_range(st->runs[q], x, 3, key, &lo, &hi);
                in[x] = hi - lo;
            }
            if (in[0] != in[1] || in[0] != in[2])
                return "a run lacks an ordering of one of its facts";
            where += in[0];
        }
        if (where != 1)
            return "a pending fact is not exactly once in the tail or the runs";
        if ((e->meta & META_MULTI) && st->sets[e->meta & META_PAYLOAD] == NULL)
            return "a fact names a freed source set";
    }
    if (np != st->npend)
        return "npend is wrong";
    if (dead_pend != st->ndead_pend)
        return "ndead_pend is wrong";
    size_t inruns = 0;
    for (int q = 0; q < st->nruns; q++) {
        const run *r = st->runs[q];
        inruns += r->n;
        for (int x = 0; x < 3; x++)
            for (size_t i = 1; i < r->n; i++)
                if (row_cmp(r->k[x] + 3 * (i - 1), r->k[x] + 3 * i) >= 0)
                    return "run rows out of order";
    }
    if (inruns + st->ntail != st->npend)
        return "runs and tail do not hold exactly the pending facts";
    if (live != st->nlive)
        return "nlive is wrong";
    for (size_t i = 0; b && i < b->n; i++)
        if (b->meta[i] && !(b->meta[i] & (META_ASSERTED | META_DERIVED)))
            return "a live fact has neither mark";
    for (size_t i = 0; i < st->pendcap; i++)
        if (st->pend[i].s && st->pend[i].meta &&
            !(st->pend[i].meta & (META_ASSERTED | META_DERIVED)))
            return "a live fact has neither mark";
    size_t nder = 0;
    for (size_t i = 0; b && i < b->n; i++)
        nder += (b->meta[i] & META_DERIVED) != 0;
    for (size_t i = 0; i < st->pendcap; i++)
        nder += st->pend[i].s && (st->pend[i].meta & META_DERIVED);
    if (nder != st->nderived)
        return "nderived is wrong";
    size_t nc = 0;
    for (size_t i = 0; i < st->clogcap; i++) {
        if (!st->clog[i].s)
            continue;
        nc++;
        int found;
        clog_slot_of(st, st->clog[i].s, st->clog[i].p, st->clog[i].o, &found);
        if (!found || (st->clog[i].flags & ~(META_ASSERTED | META_DERIVED)))
            return "a change log entry is misplaced or malformed";
    }
    if (nc != st->nclog)
        return "nclog is wrong";
    if (st->clog_on && st->nclog && st->nclog * 2 > st->clogcap)
        return "the change log is over its load";
    if (b) {
        for (size_t i = 0; i < b->n; i++)
            if ((b->meta[i] & META_MULTI) && st->sets[b->meta[i] & META_PAYLOAD] == NULL)
                return "a fact names a freed source set";
    }
    return NULL;
}
