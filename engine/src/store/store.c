/* store.c - the fact store: base rows, the pending table, locating and
 * changing facts, the change log, writes, transactions and reads (the
 * reorganisation into runs and new bases is rebuild.c, the sets of sources
 * srcset.c).  See store.h for the layout and invariants. */
#include "store.h"

#include <string.h>

#include "sort.h"
#include "srcset.h"
#include "storeint.h"

enum {
    TAIL_MAX = 1 << 14, /* pending facts not yet sorted into a run */
    PEND_MIN = 1 << 15, /* pend may hold this many before a rebuild */
    DROP_MIN = 1024     /* base facts to die at once before underive_drop pays */
};

/* Which ordering answers a pattern, and how many leading keys it binds,
 * by the mask s=1 p=2 o=4 of bound positions. */
static const int shape_ord[8] = {ORD_SPO, ORD_SPO, ORD_POS, ORD_SPO,
                                 ORD_OSP, ORD_OSP, ORD_POS, ORD_SPO};
static const int shape_prefix[8] = {0, 1, 1, 2, 1, 2, 2, 3};

void store_init(store *st, const mem *m)
{
    memset(st, 0, sizeof *st);
    st->m = *m;
    st->dead_dirty = 1;
    st->tail_max = TAIL_MAX;
    st->pend_min = PEND_MIN;
    st->drop_min = DROP_MIN;
    st->run_ords = 1 << ORD_SPO;
}

/* ------------------------------------------------------------------ */
/* base                                                               */

void store_base_release(const mem *m, base *b)
{
    if (!b)
        return;
    for (int x = 0; x < 3; x++) {
        mem_free(m, b->off[x], (size_t)b->nkeys + 1, sizeof *b->off[x]);
        size_t cap = x == ORD_SPO ? b->cap_ent : x == ORD_POS ? b->cap_pos : b->cap_osp;
        mem_free(m, b->ent[x], x == ORD_SPO || cap ? cap : b->n, sizeof *b->ent[x]);
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

size_t store_base_find(const base *b, uint32_t s, uint32_t p, uint32_t o)
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
void store_base_permute(base *b, uint32_t *next)
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
/* hash tables (the probes both files use are in storeint.h)           */

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
    /* A large table grows four times over (each growth reads every slot
     * again, and the kernel zeroes every fresh page) while that stays
     * within the table the pending facts will need before the next fold
     * (store_prepare's thresholds: the base's size once reads made runs,
     * an eighth of it before); beyond, twice, so that the table at a fold,
     * where memory peaks, is no larger than doubling makes it. */
    size_t nb = st->b ? st->b->n : 0, fold_at = st->tail_max + (st->nruns ? nb : nb / 8);
    size_t most = 64;
    while (fold_at * 10 > most * 7)
        most *= 2;
    size_t cap = st->pendcap ? st->pendcap : 64;
    while (need * 10 > cap * 7)
        cap *= cap >= 65536 && cap * 4 <= most ? 4 : 2;
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
/* the change log                                                     */

/* Room for `more` new entries without growing (load at most 1/2). */
int store_clog_reserve(store *st, size_t more)
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

/* Entries a rebuild made are tentative until its commit point. */
/* Ends a rebuild's tentative entries: kept (commit) or taken out. */
void store_clog_settle(store *st, int keep)
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
    if (store_clog_reserve(st, st->in_txn ? st->nlog + 1 : 1) != LORE_OK) {
        st->clog_on = 0;
        return LORE_ERR_NOMEM;
    }
    return LORE_OK;
}

void store_clog_clear(store *st)
{
    /* A log grown by one big change (a first inference) would make every
     * later clear, and every walk over the log, cost its size: a table
     * used to a quarter or less goes back to one that this use would fill
     * to half (an event stream's inferences walk it three times each). */
    if (st->clogcap > 64 && st->nclog * 4 < st->clogcap) {
        size_t cap = 64;
        while (st->nclog * 2 > cap)
            cap *= 2;
        clog_slot *tab = mem_calloc(&st->m, cap, sizeof *tab);
        if (tab) {
            mem_free(&st->m, st->clog, st->clogcap, sizeof *st->clog);
            st->clog = tab, st->clogcap = cap, st->nclog = 0;
            return;
        }
    }
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
    size_t i;
    /* the pending table's probe (a cache miss most often) only when some
     * pending fact has this subject and some this object */
    if (pend_may_have(st, 0, s) && pend_may_have(st, 1, o)) {
        i = pend_lookup(st, s, p, o, &l.idx);
        if (i != NONE) {
            l.where = 1, l.idx = i, l.meta = st->pend[i].meta;
            return l;
        }
    }
    i = store_base_find(st->b, s, p, o);
    if (i != NONE)
        l.where = 2, l.idx = i, l.meta = st->b->meta[i];
    return l;
}

void store_pend_prefetch(const store *st, uint32_t s, uint32_t p, uint32_t o)
{
#if defined(__GNUC__)
    if (st->pendcap)
        __builtin_prefetch(&st->pend[hash_triple(s, p, o) & (st->pendcap - 1)]);
#else
    (void)st, (void)s, (void)p, (void)o;
#endif
}

void store_meta_prefetch(const store *st, uint32_t s, uint32_t p, uint32_t o)
{
    store_pend_prefetch(st, s, p, o);
#if defined(__GNUC__)
    const base *b = st->b;
    if (b && s < b->nkeys) {
        __builtin_prefetch(&b->sig[s]);
        __builtin_prefetch(&b->off[ORD_SPO][s]);
    }
#else
    (void)st, (void)s, (void)p, (void)o;
#endif
}

void store_change_prefetch(const store *st, uint32_t s, uint32_t p, uint32_t o)
{
#if defined(__GNUC__)
    size_t h = hash_triple(s, p, o);
    if (st->clog_on && st->clogcap)
        __builtin_prefetch(&st->clog[h & (st->clogcap - 1)], 1);
    if (st->deadcap)
        __builtin_prefetch(&st->dead_base[3 * (h & (st->deadcap - 1))], 1);
#else
    (void)st, (void)s, (void)p, (void)o;
#endif
}

uint32_t store_meta(const store *st, uint32_t s, uint32_t p, uint32_t o)
{
    return locate(st, s, p, o).meta;
}

/* Room in the pending ids' bits for id; when memory is short, every id
 * counts as pending instead (not an error). */
static void pendids_reserve(store *st, uint32_t id)
{
    if (id < st->pendids_cap || st->pendids_off)
        return;
    size_t cap = st->pendids_cap ? st->pendids_cap : 4096, old = st->pendids_cap / 64;
    while (cap <= id && cap <= SIZE_MAX / 2)
        cap *= 2;
    if (cap <= id) { /* (only where size_t is narrow) */
        st->pendids_off = 1;
        return;
    }
    uint64_t *bits[2];
    bits[0] = mem_alloc(&st->m, cap / 64, sizeof *bits[0]);
    bits[1] = mem_alloc(&st->m, cap / 64, sizeof *bits[1]);
    if (!bits[0] || !bits[1]) {
        mem_free(&st->m, bits[0], cap / 64, sizeof *bits[0]);
        mem_free(&st->m, bits[1], cap / 64, sizeof *bits[1]);
        st->pendids_off = 1;
        return;
    }
    for (int r = 0; r < 2; r++) {
        if (old)
            memcpy(bits[r], st->pendids[r], old * sizeof *bits[r]);
        memset(bits[r] + old, 0, (cap / 64 - old) * sizeof *bits[r]);
        mem_free(&st->m, st->pendids[r], old, sizeof *bits[r]);
        st->pendids[r] = bits[r];
    }
    st->pendids_cap = cap;
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
    if (mflags(l->meta) != mflags(now) && store_clog_reserve(st, clog_need(st, 1)) != LORE_OK)
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
        if (s < st->pendids_cap && o < st->pendids_cap) {
            st->pendids[0][s / 64] |= 1ull << (s % 64);
            st->pendids[1][o / 64] |= 1ull << (o % 64);
        } else {
            st->pendids_off = 1; /* (change() makes room; other paths may not) */
        }
        uint32_t *t = st->tail + 3 * st->ntail++;
        t[0] = s, t[1] = p, t[2] = o;
        tail_mark(st, s, p, o);
    } else if (l->where == 1) {
        st->pend[l->idx].meta = now;
        if (old && !now) {
            st->ndead_pend++;
            dead_mark(st, DEAD_PEND, s, o);
        } else if (!old && now)
            st->ndead_pend--;
    } else {
        st->b->meta[l->idx] = now;
        if (old && !now) {
            st->ndead_base++;
            dead_put(st->dead_base, st->deadcap, s, p, o);
            dead_mark(st, DEAD_BASE, s, o);
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
/* writes                                                             */

/* Dead facts worth a rebuild to drop: more than 1024, and an eighth of
 * the live ones. */
int store_compact(store *st)
{
    return st->in_txn || !many_dead(st) ? LORE_OK : store_rebuild(st, NULL, NULL);
}

/* Before a write: fold pend into base when it has outgrown base (so that
 * base at least doubles each time), or when dead facts pile up. */
static int maintain(store *st)
{
    size_t nb = st->b ? st->b->n : 0;
    if (st->in_txn)
        return LORE_OK;
    if ((st->npend > st->pend_min && st->npend > nb) || many_dead(st))
        return store_rebuild(st, NULL, NULL);
    return LORE_OK;
}

/* maintain() before a change the caller has found real (a no-op returns
 * before it, so it ends no iteration); a fold moves facts, so *l is found
 * again. */
static int maintain_at(store *st, loc *l, uint32_t s, uint32_t p, uint32_t o)
{
    uint64_t v = st->version;
    int rc = maintain(st);
    if (rc == LORE_OK && st->version != v)
        *l = locate(st, s, p, o);
    return rc;
}

void store_free(store *st)
{
    if (!st)
        return;
    if (st->in_txn)
        store_commit(st); /* frees the sets the log owns */
    store_base_release(&st->m, st->b);
    for (int q = 0; q < st->nruns; q++)
        store_run_free(&st->m, st->runs[q]);
    mem_free(&st->m, st->pend, st->pendcap, sizeof *st->pend);
    mem_free(&st->m, st->tail, st->tailcap, sizeof *st->tail);
    mem_free(&st->m, st->pendids[0], st->pendids_cap / 64, sizeof *st->pendids[0]);
    mem_free(&st->m, st->pendids[1], st->pendids_cap / 64, sizeof *st->pendids[1]);
    mem_free(&st->m, st->dead_base, st->deadcap, 3 * sizeof(uint32_t));
    store_free_deadk(st);
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
    if (l->where == 0) {
        if (st->nruns >= 2) {
            /* a new fact makes every open iterator stale: the time to merge
             * the runs reads made (store_prepare leaves that to writes) */
            store_merge_runs(st);
            l->idx = NONE; /* a merge may take dead facts out of the pending table */
        }
        pendids_reserve(st, s > o ? s : o);
    }
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
        (st->clog_on && store_clog_reserve(st, clog_need(st, nnew + nkill)) != LORE_OK))
        return LORE_ERR_NOMEM;
    return LORE_OK;
}

int store_assert(store *st, uint32_t s, uint32_t p, uint32_t o, uint32_t src)
{
    if (src > META_PAYLOAD)
        return LORE_ERR_LIMIT;
    loc l = locate(st, s, p, o);
    if (srcset_has(st, l.meta, src))
        return LORE_NOOP;
    int rc = maintain_at(st, &l, s, p, o);
    if (rc != LORE_OK)
        return rc;
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
    loc l = locate(st, s, p, o);
    uint32_t now = derived ? l.meta | META_DERIVED : l.meta & ~META_DERIVED;
    if (!(now & META_ASSERTED) && !(now & META_DERIVED))
        now = 0; /* a derived fact's payload (its rank) goes with it */
    if (now == l.meta)
        return LORE_NOOP;
    int rc = derived ? maintain_at(st, &l, s, p, o) : LORE_OK;
    if (rc != LORE_OK)
        return rc;
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

/* Rows of 3 ids by their third id, in a stable counting pass, the key
 * first: SPO rows become OSP rows (o, s, p), those POS rows (p, o, s).
 * count: nkeys + 1. */
static void rows_by_third(const uint32_t *in, uint32_t *out, size_t n, uint32_t *count,
                          uint32_t nkeys)
{
    memset(count, 0, ((size_t)nkeys + 1) * sizeof *count);
    for (size_t i = 0; i < n; i++)
        count[in[3 * i + 2] + 1]++;
    for (uint32_t k = 0; k < nkeys; k++)
        count[k + 1] += count[k];
    for (size_t i = 0; i < n; i++) {
        const uint32_t *r = in + 3 * i;
        uint32_t *w = out + 3 * (size_t)count[r[2]]++;
        w[0] = r[2], w[1] = r[0], w[2] = r[1];
    }
}

/* Closes order `ord` of the base up over the n entries of rows (key,
 * a, b, in the order's order, each held): one walk. */
static void close_order(base *b, int ord, const uint32_t *rows, size_t n)
{
    uint32_t *off = b->off[ord];
    pair *ent = b->ent[ord];
    size_t w = 0, j = 0;
    for (uint32_t k = 0; k < b->nkeys; k++) {
        size_t from = off[k], to = off[k + 1];
        off[k] = (uint32_t)w; /* off[k + 1] is still the old one */
        for (size_t i = from; i < to; i++) {
            const uint32_t *r = rows + 3 * j;
            if (j < n && r[0] == k && r[1] == ent[i].a && r[2] == ent[i].b)
                j++;
            else
                ent[w++] = ent[i];
        }
    }
    off[b->nkeys] = (uint32_t)w;
}

/* After a pass closed the base's SPO rows up from n0 to w (its offsets
 * set but the last): the other orders, in the arrays they keep (their
 * room stated now), follow, and the dead facts' orders are made again.
 * When the n rows SPO dropped are known (rows, in its order, with room
 * for 3n ids more), POS and OSP close up over them in place, a walk
 * each; else (rows NULL) they are made again from SPO, two scatters of
 * the whole base.  The signatures keep dropped pairs' bits either way,
 * which only costs a rare read. */
static void base_closed(store *st, size_t n0, size_t w, uint32_t *scratch, uint32_t *rows,
                        size_t n)
{
    base *b = st->b;
    b->off[ORD_SPO][b->nkeys] = (uint32_t)w;
    b->n = w;
    b->cap_pos = b->cap_pos ? b->cap_pos : n0;
    b->cap_osp = b->cap_osp ? b->cap_osp : n0;
    if (rows) {
        uint32_t *tmp = rows + 3 * n;
        rows_by_third(rows, tmp, n, scratch, b->nkeys);
        close_order(b, ORD_OSP, tmp, n);
        rows_by_third(tmp, rows, n, scratch, b->nkeys);
        close_order(b, ORD_POS, rows, n);
    } else {
        store_base_permute(b, scratch);
    }
    store_free_deadk(st);
    st->version++;
}

/* The base's slot of row i of rows (`stride` ids each, grouped by
 * subject and predicate, by object within a group), searched on from *lo
 * in the group's range [*lo, *hi): a few steps, or halving when the group
 * is large and its rows sparse among the lookups; NONE when the base
 * lacks it. */
static size_t walk_base(const base *b, const uint32_t *rows, int stride, size_t i, size_t *lo,
                        size_t *hi)
{
    const uint32_t *t = rows + (size_t)stride * i;
    if (i == 0 || t[0] != t[-stride] || t[1] != t[1 - stride]) {
        const uint32_t key[3] = {t[0], t[1], 0};
        base_range(b, ORD_SPO, 2, key, lo, hi);
    }
    const pair *e = b->ent[ORD_SPO];
    for (int k = 0; k < 8 && *lo < *hi && e[*lo].b < t[2]; k++)
        (*lo)++;
    if (*lo < *hi && e[*lo].b < t[2])
        *lo = lower_pair(e, *lo, *hi, t[1], t[2], 1);
    if (*lo < *hi && e[*lo].b == t[2])
        return *lo;
    /* absent, unless the walk may have passed it (rows out of order: the
     * entry before is of the predicate and not below t; searched afresh) */
    if (*lo > 0 && e[*lo - 1].a == t[1] && e[*lo - 1].b >= t[2])
        return store_base_find(b, t[0], t[1], t[2]);
    return NONE;
}

/* store_underive_rows for many rows outside a transaction, so many that
 * if they are base facts that die, a rebuild would soon drop them
 * (many_dead's measure): their derived marks go in one walk, the base
 * closes up over those that die and over the dead it held, and its other
 * orders are made again: no dead table to fill and empty.  Pending facts
 * change one by one after.  LORE_ERR_NOMEM before anything changed. */
static int underive_drop(store *st, const uint32_t *rows, size_t n, size_t *removed)
{
    base *b = st->b;
    size_t lo = 0, hi = 0;
    size_t nscratch = (size_t)b->nkeys + 1;
    uint32_t *scratch = mem_alloc(&st->m, nscratch, sizeof *scratch);
    /* the rows found in the base, which the pending table cannot hold:
     * its pass below skips them (a probe and a cache miss each) */
    size_t nwords = n / 64 + 1;
    uint64_t *inbase = st->npend ? mem_calloc(&st->m, nwords, sizeof *inbase) : NULL;
    int logged = st->clog_on && !st->clog_quiet;
    if (!scratch || (st->npend && !inbase) ||
        (logged && store_clog_reserve(st, clog_need(st, n)) != LORE_OK)) {
        mem_free(&st->m, scratch, nscratch, sizeof *scratch);
        mem_free(&st->m, inbase, nwords, sizeof *inbase);
        return LORE_ERR_NOMEM;
    }
    /* the marks go; a dying row's meta is 0, as a dead one's */
    size_t gone = 0;
    for (size_t i = 0; i < n; i++) {
        const uint32_t *t = rows + 3 * i;
        size_t at = walk_base(b, rows, 3, i, &lo, &hi);
        if (at != NONE && inbase)
            inbase[i / 64] |= 1ull << (i % 64);
        if (at == NONE || !(b->meta[at] & META_DERIVED))
            continue;
        uint32_t m = b->meta[at], now = m & META_ASSERTED ? m & ~META_DERIVED : 0;
        if (logged)
            clog_add(st, t[0], t[1], t[2], mflags(m));
        b->meta[at] = now;
        st->nderived--;
        if (!now)
            st->nlive--, gone++;
    }
    /* the base closes up over its dead rows, the other orders follow:
     * over the rows SPO drops when at most a fifth goes (beyond, two
     * scatters of what stays beat sorting those and a walk of each
     * order: W4's removals), else, or without the memory, made again */
    uint32_t *off = b->off[ORD_SPO];
    pair *ent = b->ent[ORD_SPO];
    size_t w = 0, n0 = b->n, nd = 0, ndrop = st->ndead_base + gone;
    uint32_t *drop = ndrop && ndrop * 5 <= n0 ? mem_alloc(&st->m, 6 * ndrop, sizeof *drop) : NULL;
    for (uint32_t sub = 0; sub < b->nkeys; sub++) {
        size_t from = off[sub], to = off[sub + 1];
        off[sub] = (uint32_t)w; /* off[sub + 1] is still the old one */
        for (size_t i = from; i < to; i++) {
            if (b->meta[i]) {
                ent[w] = ent[i], b->meta[w++] = b->meta[i];
            } else if (drop && nd < ndrop) {
                uint32_t *r = drop + 3 * nd++;
                r[0] = sub, r[1] = ent[i].a, r[2] = ent[i].b;
            } else {
                nd = ndrop + 1; /* more than counted (cannot be): made again */
            }
        }
    }
    base_closed(st, n0, w, scratch, drop && nd == ndrop ? drop : NULL, nd);
    mem_free(&st->m, drop, 6 * ndrop, sizeof *drop);
    mem_free(&st->m, scratch, nscratch, sizeof *scratch);
    if (st->deadcap)
        memset(st->dead_base, 0, st->deadcap * 3 * sizeof *st->dead_base);
    st->ndead_base = 0;
    dead_forget(st, DEAD_BASE);
    /* the pending facts among the rows */
    int rc = LORE_OK;
    enum { AHEAD = 16 }; /* the pending table's misses overlap */
    for (size_t i = 0; i < n && st->npend && rc == LORE_OK; i++) {
        const uint32_t *t = rows + 3 * i;
        size_t a = i + AHEAD;
        if (a < n && !(inbase[a / 64] >> (a % 64) & 1))
            store_pend_prefetch(st, rows[3 * a], rows[3 * a + 1], rows[3 * a + 2]);
        if ((inbase[i / 64] >> (i % 64) & 1) || !pend_may_have(st, 0, t[0]) ||
            !pend_may_have(st, 1, t[2]))
            continue;
        loc l = locate(st, t[0], t[1], t[2]);
        if (l.where != 1 || !(l.meta & META_DERIVED))
            continue;
        int goes = !(l.meta & META_ASSERTED);
        rc = change(st, &l, t[0], t[1], t[2], goes ? 0 : l.meta & ~META_DERIVED);
        gone += rc == LORE_OK && goes;
    }
    mem_free(&st->m, inbase, nwords, sizeof *inbase);
    if (removed)
        *removed = gone;
    return rc;
}

int store_underive_rows(store *st, const uint32_t *rows, size_t n, size_t *removed)
{
    enum { AHEAD = 16 }; /* the change log's and dead table's misses overlap */
    const base *b = st->b;
    if (!st->in_txn && b && n > st->drop_min && n + st->ndead_base >= b->n / 8)
        return underive_drop(st, rows, n, removed);
    if (n >= 1024)
        (void)store_reserve(st, 0, n); /* a hint: failing it is no error */
    size_t i = 0, gone = 0;
    int rc = LORE_OK;
    while (i < n && rc == LORE_OK) {
        uint32_t s = rows[3 * i], p = rows[3 * i + 1];
        size_t end = i + 1, lo = 0, hi = 0;
        while (end < n && rows[3 * end] == s && rows[3 * end + 1] == p)
            end++;
        if (b) { /* the group's rows in the base, found once */
            const uint32_t key[3] = {s, p, 0};
            base_range(b, ORD_SPO, 2, key, &lo, &hi);
        }
        for (; i < end && rc == LORE_OK; i++) {
            const uint32_t *t = rows + 3 * i;
            if (i + AHEAD < n) {
                const uint32_t *a = rows + 3 * (i + AHEAD);
                store_change_prefetch(st, a[0], a[1], a[2]);
            }
            while (lo < hi && b->ent[ORD_SPO][lo].b < t[2])
                lo++;
            loc l;
            if (lo < hi && b->ent[ORD_SPO][lo].b == t[2]) /* in base, so not in pend */
                l = (loc){2, lo, st->pendcap, b->meta[lo]};
            else
                l = locate(st, s, p, t[2]);
            if (!(l.meta & META_DERIVED))
                continue;
            int goes = !(l.meta & META_ASSERTED);
            rc = change(st, &l, s, p, t[2], goes ? 0 : l.meta & ~META_DERIVED);
            gone += rc == LORE_OK && goes;
        }
    }
    if (removed)
        *removed = gone;
    return rc;
}

/* store_derive and store_derive_new: `absent` says the fact is known not
 * to be live, so that with no dead base fact the base cannot hold it. */
static int derive(store *st, uint32_t s, uint32_t p, uint32_t o, uint32_t rank, uint32_t *was,
                  int absent)
{
    loc l;
    uint32_t t[3] = {s, p, o};
    if (absent && (st->ndead_base == 0 || !dead_may(st, DEAD_BASE, t))) {
        /* the pending table's probe alone */
        l = (loc){0, NONE, st->pendcap, 0};
        size_t i = pend_lookup(st, s, p, o, &l.idx);
        if (i != NONE)
            l.where = 1, l.idx = i, l.meta = st->pend[i].meta;
    } else {
        l = locate(st, s, p, o);
    }
    if (was)
        *was = l.meta;
    if (l.meta & META_DERIVED)
        return LORE_NOOP;
    uint32_t now =
        (l.meta & META_ASSERTED) ? l.meta | META_DERIVED : META_DERIVED | (rank & META_PAYLOAD);
    if (now == l.meta)
        return LORE_NOOP;
    int rc = maintain_at(st, &l, s, p, o);
    if (rc != LORE_OK)
        return rc;
    return change(st, &l, s, p, o, now);
}

int store_derive(store *st, uint32_t s, uint32_t p, uint32_t o, uint32_t rank, uint32_t *was)
{
    return derive(st, s, p, o, rank, was, 0);
}

int store_derive_new(store *st, uint32_t s, uint32_t p, uint32_t o, uint32_t rank, uint32_t *was)
{
    return derive(st, s, p, o, rank, was, 1);
}

/* Does (s, p, o) match one of pats[0..npats) (triples, 0 for any; NULL
 * for every fact)? */
static int pat_in(const uint32_t *pats, size_t npats, uint32_t s, uint32_t p, uint32_t o)
{
    if (!pats)
        return 1;
    for (size_t i = 0; i < npats; i++) {
        const uint32_t *q = pats + 3 * i;
        if ((!q[0] || q[0] == s) && (!q[1] || q[1] == p) && (!q[2] || q[2] == o))
            return 1;
    }
    return 0;
}

uint32_t store_max_rank(const store *st)
{
    uint32_t most = 0;
    const base *b = st->b;
    for (size_t i = 0; b && i < b->n; i++) {
        uint32_t m = b->meta[i];
        if ((m & (META_DERIVED | META_ASSERTED)) == META_DERIVED && (m & META_PAYLOAD) > most)
            most = m & META_PAYLOAD;
    }
    for (size_t i = 0; i < st->pendcap; i++) {
        uint32_t m = st->pend[i].meta;
        if (st->pend[i].s && (m & (META_DERIVED | META_ASSERTED)) == META_DERIVED &&
            (m & META_PAYLOAD) > most)
            most = m & META_PAYLOAD;
    }
    return most;
}

int store_clear_derived(store *st, size_t *removed)
{
    return store_clear_derived_like(st, NULL, 0, removed);
}

/* store_clear_derived_like's pass over the base outside a transaction: the
 * DERIVED mark of each fact of pats goes, and a fact left with no mark
 * leaves the arrays (SPO closed up in place, POS and OSP made again from
 * it); the change log has room.  scratch: nkeys + 1 ids. */
static void base_drop_derived(store *st, const uint32_t *pats, size_t npats, uint32_t *scratch)
{
    base *b = st->b;
    uint32_t *off = b->off[ORD_SPO];
    pair *ent = b->ent[ORD_SPO];
    size_t w = 0, n0 = b->n;
    int logged = st->clog_on && !st->clog_quiet;
    for (uint32_t sub = 0; sub < b->nkeys; sub++) {
        size_t lo = off[sub], hi = off[sub + 1];
        off[sub] = (uint32_t)w; /* off[sub + 1] is still the old one */
        for (size_t i = lo; i < hi; i++) {
            pair e = ent[i];
            uint32_t m = b->meta[i];
            if ((m & META_DERIVED) && pat_in(pats, npats, sub, e.a, e.b)) {
                if (logged)
                    clog_add(st, sub, e.a, e.b, mflags(m));
                st->nderived--;
                if (!(m & META_ASSERTED)) {
                    st->nlive--;
                    continue;
                }
                m &= ~META_DERIVED;
            }
            ent[w] = e, b->meta[w] = m;
            w++;
        }
    }
    base_closed(st, n0, w, scratch, NULL, 0);
}

int store_clear_derived_like(store *st, const uint32_t *pats, size_t npats, size_t *removed)
{
    size_t n = 0, kills_base = 0, kills = 0;
    if (removed)
        *removed = 0;
    /* pass 1: count, to reserve everything before changing anything */
    base *b = st->b;
    for (uint32_t sub = 0; b && sub < b->nkeys; sub++)
        for (size_t i = b->off[ORD_SPO][sub]; i < b->off[ORD_SPO][sub + 1]; i++) {
            uint32_t m = b->meta[i];
            pair e = b->ent[ORD_SPO][i];
            if ((m & META_DERIVED) && pat_in(pats, npats, sub, e.a, e.b)) {
                n++;
                if (!(m & META_ASSERTED))
                    kills_base++;
            }
        }
    for (size_t i = 0; i < st->pendcap; i++) {
        const pend_slot *e = &st->pend[i];
        if (e->s && (e->meta & META_DERIVED) && pat_in(pats, npats, e->s, e->p, e->o)) {
            n++;
            kills += !(e->meta & META_ASSERTED);
        }
    }
    kills += kills_base;
    if (n == 0)
        return LORE_NOOP;
    if (store_clog_reserve(st, clog_need(st, n)) != LORE_OK)
        return LORE_ERR_NOMEM;
    /* many base facts to go, outside a transaction: they leave the base's
     * arrays at once (a pass that closes them up, the other orders made
     * again) rather than each staying as a dead fact in dead_base until a
     * rebuild copies the base without them */
    uint32_t *scratch = NULL;
    size_t nscratch = b ? (size_t)b->nkeys + 1 : 0;
    int drop = !st->in_txn && kills_base > 1024 && kills_base >= b->n / 8;
    if (drop && !(scratch = mem_alloc(&st->m, nscratch, sizeof *scratch)))
        return LORE_ERR_NOMEM;
    if (drop) {
        base_drop_derived(st, pats, npats, scratch);
        mem_free(&st->m, scratch, nscratch, sizeof *scratch);
        b = NULL; /* done with */
    } else if (st->in_txn) {
        if (mem_reserve(&st->m, (void **)&st->log, &st->logcap, st->nlog + n, sizeof *st->log) ||
            dead_reserve(st, st->ndead_base + st->log_creates + kills_base))
            return LORE_ERR_NOMEM;
    } else if (kills_base && dead_reserve(st, st->ndead_base + kills_base) != 0) {
        return LORE_ERR_NOMEM;
    }
    /* pass 2: apply (the marks' sets are untouched, so no set changes) */
    for (uint32_t sub = 0; b && sub < b->nkeys; sub++)
        for (size_t i = b->off[ORD_SPO][sub]; i < b->off[ORD_SPO][sub + 1]; i++) {
            uint32_t m = b->meta[i];
            pair e = b->ent[ORD_SPO][i];
            if (!(m & META_DERIVED) || !pat_in(pats, npats, sub, e.a, e.b))
                continue;
            loc l = {2, i, st->pendcap, m};
            uint32_t now = (m & META_ASSERTED) ? m & ~META_DERIVED : 0;
            apply(st, &l, sub, e.a, e.b, now, 1);
        }
    for (size_t i = 0; i < st->pendcap; i++) {
        pend_slot *e = &st->pend[i];
        if (!e->s || !(e->meta & META_DERIVED) || !pat_in(pats, npats, e->s, e->p, e->o))
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
    if (store_clog_reserve(st, clog_need(st, n)) != LORE_OK) {
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

int store_sort_rows(store *st, uint32_t *rows, size_t n, int stride)
{
    return sort_bulk(st, rows, n, stride);
}

void store_metas_sorted(const store *st, uint32_t *rows, size_t n)
{
    const base *b = st->b;
    size_t lo = 0, hi = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t *t = rows + 4 * i;
        size_t at = b ? walk_base(b, rows, 4, i, &lo, &hi) : NONE;
        if (at != NONE) { /* in the base (alive or dead), so not pending */
            t[3] = b->meta[at];
        } else if (pend_may_have(st, 0, t[0]) && pend_may_have(st, 1, t[2])) {
            size_t j = pend_find(st, t[0], t[1], t[2]);
            t[3] = j == NONE ? 0 : st->pend[j].meta;
        } else {
            t[3] = 0;
        }
    }
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
    return store_rebuild(st, &x, added);
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
    return store_rebuild(st, &x, added);
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
    return store_rebuild(st, &x, added);
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
    store_free_deadk(st);
    for (int x = 0; x < 3; x++)
        st->deadk[x] = k[x];
    st->ndeadk = n;
    st->dead_dirty = 0;
    return LORE_OK;
}

/* Matches of (s, p, o), the dead facts subtracted when exact. */
static int count(store *st, uint32_t s, uint32_t p, uint32_t o, int exact, uint64_t *out)
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
    if ((rc = store_runs_need(st, ord)) != LORE_OK)
        return rc;
    uint32_t key[3];
    permute(ord, s, p, o, key);
    uint64_t n = 0;
    size_t lo, hi;
    if (st->b) {
        base_range(st->b, ord, prefix, key, &lo, &hi);
        n += hi - lo;
    }
    for (int q = 0; q < st->nruns; q++) {
        store_run_range(st->runs[q], ord, prefix, key, &lo, &hi);
        n += hi - lo;
    }
    if (exact && st->ndead_base + st->ndead_pend) {
        rc = ensure_deadk(st);
        if (rc != LORE_OK)
            return rc;
        run dead = {st->ndeadk, {st->deadk[0], st->deadk[1], st->deadk[2]}, {0, 0, 0}};
        store_run_range(&dead, ord, prefix, key, &lo, &hi);
        n -= hi - lo;
    }
    *out = n;
    return LORE_OK;
}

int store_count(store *st, uint32_t s, uint32_t p, uint32_t o, uint64_t *out)
{
    return count(st, s, p, o, 1, out);
}

int store_count_upto(store *st, uint32_t s, uint32_t p, uint32_t o, uint64_t *out)
{
    return count(st, s, p, o, 0, out);
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
    if ((rc = store_runs_need(st, ord)) != LORE_OK)
        return rc;
    uint32_t key[3];
    permute(ord, s, p, o, key);
    size_t lo[RUN_MAX + 1], hi[RUN_MAX + 1], total = 0;
    int nl = st->nruns + 1; /* level 0: base, then the runs */
    for (int l = 0; l < nl; l++) {
        lo[l] = hi[l] = 0;
        if (l == 0 && st->b)
            base_range(st->b, ord, prefix, key, &lo[l], &hi[l]);
        else if (l > 0)
            store_run_range(st->runs[l - 1], ord, prefix, key, &lo[l], &hi[l]);
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
            if (ord == ORD_SPO ? st->b->meta[i] == 0 : dead_may(st, DEAD_BASE, t) && dead_has(st, t))
                continue;
        } else {
            const uint32_t *r = st->runs[l - 1]->k[ord] + 3 * i;
            unpermute(ord, r[0], r[1], r[2], t);
            if (st->ndead_pend && dead_may(st, DEAD_PEND, t)) {
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
        } else if (!it->base_only && it->level < st->nruns) {
            store_run_range(st->runs[it->level], it->ord, it->prefix, it->key, &it->pos, &it->end);
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
    int shape = shape_of(s, p, o);
    int rc = store_prepare_read(st, s, p, o);
    if (rc != LORE_OK)
        return rc;
    /* no pending fact has the subject, or the object: the base answers,
     * and the runs need not hold the ordering */
    int base_only = pend_lacks(st, s, o);
    if (!base_only && (rc = store_runs_need(st, shape_ord[shape])) != LORE_OK)
        return rc;
    memset(it, 0, sizeof *it);
    it->base_only = base_only;
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
                if (check && (it->ord == ORD_SPO ? b->meta[i] == 0
                                                 : dead_may(st, DEAD_BASE, d) && dead_has(st, d)))
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
                if (check && dead_may(st, DEAD_PEND, d)) {
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
        const base *q = st->b;
        b += (q->cap_ent + (q->cap_pos ? q->cap_pos : q->n) + (q->cap_osp ? q->cap_osp : q->n)) *
                 sizeof(pair) +
             q->cap_meta * sizeof(uint32_t);
    }
    for (int q = 0; q < st->nruns; q++)
        for (int x = 0; x < 3; x++)
            b += 3 * st->runs[q]->cap[x] * sizeof(uint32_t);
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
    store_base_release(&st->m, b);
    return NULL;
}

void store_base_free(store *st, base *b)
{
    store_base_release(&st->m, b);
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
    store_base_permute(b, next);
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
                    if (x && store_base_find(b, t[0], t[1], t[2]) == NONE)
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
            uint32_t t[3] = {s, b->ent[ORD_SPO][i].a, b->ent[ORD_SPO][i].b};
            if (dead && !dead_may(st, DEAD_BASE, t))
                return "a dead base fact is not in the dead facts' filter";
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
        uint32_t ft[3] = {e->s, e->p, e->o};
        if (e->meta)
            live++;
        else if (dead_pend++, !dead_may(st, DEAD_PEND, ft))
            return "a dead pending fact is not in the dead facts' filter";
        size_t where = 0;
        for (size_t j = 0; j < st->ntail; j++) {
            const uint32_t *t = st->tail + 3 * j;
            where += t[0] == e->s && t[1] == e->p && t[2] == e->o;
        }
        for (int q = 0; q < st->nruns; q++) {
            size_t in[3] = {0, 0, 0}; /* SPO is always held: in[0] is set first */
            for (int x = 0; x < 3; x++) {
                size_t lo = 0, hi = 0;
                uint32_t key[3];
                permute(x, e->s, e->p, e->o, key);
                if (st->run_ords >> x & 1)
                    store_run_range(st->runs[q], x, 3, key, &lo, &hi);
                in[x] = st->run_ords >> x & 1 ? hi - lo : in[0];
            }
            if (in[0] != in[1] || in[0] != in[2])
                return "a run lacks an ordering of one of its facts";
            where += in[0];
        }
        if (where != 1)
            return "a pending fact is not exactly once in the tail or the runs";
        if (!pend_may_have(st, 0, e->s) || !pend_may_have(st, 1, e->o))
            return "a pending fact's subject or object is not marked pending";
        if ((e->meta & META_MULTI) && st->sets[e->meta & META_PAYLOAD] == NULL)
            return "a fact names a freed source set";
    }
    if (np != st->npend)
        return "npend is wrong";
    for (size_t j = 0; j < st->ntail; j++) {
        const uint32_t *t = st->tail + 3 * j;
        if (!tail_may_hold(st, TK_S, t[0], 0) || !tail_may_hold(st, TK_O, t[2], 0) ||
            !tail_may_hold(st, TK_SP, t[0], t[1]) || !tail_may_hold(st, TK_PO, t[1], t[2]))
            return "a fact of the tail is not in the tail's filter";
    }
    if (dead_pend != st->ndead_pend)
        return "ndead_pend is wrong";
    size_t inruns = 0;
    if (!(st->run_ords >> ORD_SPO & 1))
        return "runs lack SPO";
    for (int q = 0; q < st->nruns; q++) {
        const run *r = st->runs[q];
        inruns += r->n;
        for (int x = 0; x < 3; x++) {
            if ((r->k[x] != NULL) != (st->run_ords >> x & 1) && r->n)
                return "a run's orderings are not the store's";
            for (size_t i = 1; r->k[x] && i < r->n; i++)
                if (row_cmp(r->k[x] + 3 * (i - 1), r->k[x] + 3 * i) >= 0)
                    return "run rows out of order";
        }
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
