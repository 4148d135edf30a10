/* rebuild.c - the store's reorganisation: the tail sorted into a run, runs
 * merged like a binary counter, and everything (with bulk rows, when a
 * batch or a load brings them) merged into a new base.  store.c holds the
 * indexes, writes and reads; storeint.h what the two share.  See store.h
 * for the layout and invariants. */
#include "storeint.h"

#include <string.h>

#include "sort.h"
#include "srcset.h"

/* ------------------------------------------------------------------ */
/* runs                                                               */

void store_run_free(const mem *m, run *r)
{
    if (!r)
        return;
    for (int x = 0; x < 3; x++)
        mem_free(m, r->k[x], 3 * r->cap[x], sizeof *r->k[x]);
    mem_free(m, r, 1, sizeof *r);
}

/* A run of n rows with the orderings in ords. */
static run *run_alloc(const mem *m, size_t n, int ords)
{
    run *r = mem_calloc(m, 1, sizeof *r);
    if (!r)
        return NULL;
    r->n = n;
    for (int x = 0; x < 3 && n > 0; x++) {
        if (!(ords >> x & 1))
            continue;
        r->k[x] = mem_alloc(m, 3 * n, sizeof *r->k[x]);
        if (!r->k[x]) {
            store_run_free(m, r);
            return NULL;
        }
        r->cap[x] = n;
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

/* Row e's first `prefix` ids against key's: e before key (-1), on it (0),
 * after it (1); the first two compared as one 64-bit integer. */
static inline int row_order(const uint32_t *e, const uint32_t key[3], int prefix)
{
    if (prefix == 1)
        return (e[0] > key[0]) - (e[0] < key[0]);
    uint64_t x = (uint64_t)e[0] << 32 | e[1], y = (uint64_t)key[0] << 32 | key[1];
    if (prefix == 2 || x != y)
        return (x > y) - (x < y);
    return (e[2] > key[2]) - (e[2] < key[2]);
}

/* Sorts a run's n rows of 3 ids.  With tmp (room for n rows, or NULL): a
 * few sorted stretches are merged (a tail of several batches of derived
 * facts, each made in order, that reads did not need sorted one by one),
 * else more than 4,096 rows take radix passes (a large tail is what a
 * batch of derived facts leaves).  A few rows are packed into integers
 * (the ids of a stream of small writes are close); else introsort. */
static void sort_run_rows(uint32_t *k, size_t n, uint32_t *tmp)
{
    /* sorted already, as a closure's pairs for one new edge come: one look */
    size_t i = 1;
    while (i < n && row_cmp(k + 3 * i - 3, k + 3 * i) <= 0)
        i++;
    if (i >= n)
        return;
    uint64_t packed[1024]; /* 512 rows and the radix passes' other half */
    if (tmp && sort_rows_stretches(k, n, tmp, 64))
        return; /* a tail of a few sorted batches */
    if (tmp && n > 4096)
        sort_rows_lsd(k, n, 3, tmp);
    else if (n > sizeof packed / sizeof *packed / 2 || !sort_rows_packed(k, n, packed))
        sort_rows(k, n, 3);
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
    run *r = run_alloc(&st->m, n, st->run_ords);
    if (!r)
        return NULL;
    uint32_t *tmp = n > 64 ? mem_alloc(&st->m, 3 * n, sizeof *tmp) : NULL;
    for (int x = 0; x < 3; x++) {
        uint32_t *k = r->k[x];
        size_t w = 0;
        if (!k)
            continue;
        for (size_t i = 0; i < st->ntail; i++) {
            const uint32_t *row = t + 3 * i;
            if (drop && !row_live_pend(st, ORD_SPO, row))
                continue;
            permute(x, row[0], row[1], row[2], k + 3 * w++);
        }
        sort_run_rows(k, n, tmp);
    }
    if (tmp)
        mem_free(&st->m, tmp, 3 * n, sizeof *tmp);
    return r;
}

/* Merges the smaller of two runs into the larger, whose arrays grow (a
 * large array grows by remapping: only the added part is fresh memory,
 * where a new run would be fresh whole, and the kernel zeroes each fresh
 * page).  From the back, so no row is overwritten before it is read; a
 * fact is in one run only, so no two rows are equal.  NULL when memory
 * runs out (both runs are as they were, perhaps with more room). */
static run *run_merge_grow(store *st, run *a, run *b)
{
    run *big = a->n >= b->n ? a : b, *small = big == a ? b : a;
    size_t n = a->n + b->n;
    for (int x = 0; x < 3; x++) {
        if (!big->k[x] || big->cap[x] >= n)
            continue;
        if (mem_resize(&st->m, (void **)&big->k[x], 3 * big->cap[x], 3 * n, sizeof *big->k[x]) != 0)
            return NULL;
        big->cap[x] = n;
    }
    for (int x = 0; x < 3; x++) {
        if (!big->k[x])
            continue;
        const uint32_t *gb = big->k[x], *pg = gb + 3 * big->n;
        const uint32_t *sb = small->k[x], *ps = sb + 3 * small->n;
        uint32_t *d = big->k[x] + 3 * n;
        while (ps > sb) {
            const uint32_t *src;
            if (pg > gb && row_cmp(pg - 3, ps - 3) > 0)
                src = pg -= 3;
            else
                src = ps -= 3;
            d -= 3;
            d[0] = src[0], d[1] = src[1], d[2] = src[2];
        }
        /* what is left of big's own rows is in place already */
    }
    big->n = n;
    return big;
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
    run *r = run_alloc(&st->m, n, st->run_ords);
    if (!r)
        return NULL;
    for (int x = 0; x < 3; x++) {
        if (!r->k[x])
            continue;
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

void store_run_range(const run *r, int ord, int prefix, const uint32_t key[3], size_t *lo,
                      size_t *hi)
{
    const uint32_t *k = r->k[ord];
    if (prefix == 0) {
        *lo = 0, *hi = r->n;
        return;
    }
    size_t l = 0, len = r->n;
    while (len > 0) { /* the first row not before key */
        size_t half = len / 2;
        if (row_order(k + 3 * (l + half), key, prefix) < 0)
            l += half + 1, len -= half + 1;
        else
            len = half;
    }
    /* the matching rows are few most often: gallop from the first, over
     * rows the search brought into the cache, then search the last step */
    size_t first = l, step = 1, h = first;
    while (h < r->n && row_order(k + 3 * h, key, prefix) == 0) {
        l = h + 1;
        h = first + step;
        step *= 2;
    }
    h = h < r->n ? h : r->n;
    while (l < h) { /* the first row after key, in [l, h] */
        size_t mid = l + (h - l) / 2;
        if (row_order(k + 3 * mid, key, prefix) <= 0)
            l = mid + 1;
        else
            h = mid;
    }
    *lo = first, *hi = l;
}

/* ------------------------------------------------------------------ */
/* reorganisation: tail into runs, everything into a new base          */

int store_runs_need(store *st, int ord)
{
    if (st->run_ords >> ord & 1)
        return LORE_OK;
    uint32_t *made[RUN_MAX] = {NULL};
    size_t most = 0;
    for (int q = 0; q < st->nruns; q++)
        most = st->runs[q]->n > most ? st->runs[q]->n : most;
    uint32_t *tmp = most > 4096 ? mem_alloc(&st->m, 3 * most, sizeof *tmp) : NULL;
    for (int q = 0; q < st->nruns; q++) {
        const run *r = st->runs[q];
        if (r->n == 0)
            continue;
        uint32_t *k = made[q] = mem_alloc(&st->m, 3 * r->n, sizeof *k);
        if (!k) {
            for (int j = 0; j < q; j++)
                mem_free(&st->m, made[j], 3 * st->runs[j]->n, sizeof *made[j]);
            mem_free(&st->m, tmp, 3 * most, sizeof *tmp);
            return LORE_ERR_NOMEM;
        }
        for (size_t i = 0; i < r->n; i++) {
            const uint32_t *t = r->k[ORD_SPO] + 3 * i;
            permute(ord, t[0], t[1], t[2], k + 3 * i);
        }
        sort_run_rows(k, r->n, r->n > 4096 ? tmp : NULL);
    }
    mem_free(&st->m, tmp, 3 * most, sizeof *tmp);
    for (int q = 0; q < st->nruns; q++) {
        run *r = st->runs[q];
        r->k[ord] = made[q];
        r->cap[ord] = made[q] ? r->n : 0;
    }
    st->run_ords |= 1 << ord;
    return LORE_OK;
}

void store_free_deadk(store *st)
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
    if (!drop) {
        run *r = run_merge_grow(st, a, b);
        if (!r)
            return LORE_ERR_NOMEM;
        store_run_free(&st->m, r == a ? b : a);
        st->runs[st->nruns - 2] = r;
        st->nruns--;
        st->version++;
        return LORE_OK;
    }
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
    store_run_free(&st->m, a);
    store_run_free(&st->m, b);
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

/* The pending facts' structures go: their facts are in the base now (or
 * on their way there: the in-place fold takes the hash table over first). */
static void pending_drop(store *st)
{
    for (int q = 0; q < st->nruns; q++)
        store_run_free(&st->m, st->runs[q]);
    st->nruns = 0;
    st->run_ords = 1 << ORD_SPO; /* the next runs hold what reads ask for again */
    tail_forget(st);
    pendids_forget(st);
    mem_free(&st->m, st->pend, st->pendcap, sizeof *st->pend);
    st->pend = NULL, st->pendcap = 0, st->npend = 0, st->ndead_pend = 0;
    dead_forget(st, DEAD_PEND);
}

/* After a rebuild's commit point: the pending facts are in the base now,
 * which holds nlive live facts, nder of them derived. */
static void pending_folded(store *st, size_t nlive, size_t nder)
{
    pending_drop(st);
    st->nlive = nlive;
    st->nderived = nder;
}

/* Sorts rows of 4 (s, p, o, meta; ids up to maxid): radix passes through
 * a copy when memory allows, in place otherwise (scratch: 2 * (maxid + 2)
 * ids). */
static void sort_fold_rows(store *st, uint32_t *rows, size_t n, uint32_t maxid, uint32_t *scratch)
{
    uint32_t *tmp = n > 4096 ? mem_alloc(&st->m, 4 * n, sizeof *tmp) : NULL;
    if (tmp) {
        sort_rows_radix(rows, n, 4, maxid, tmp);
        mem_free(&st->m, tmp, 4 * n, sizeof *tmp);
    } else if (n > 1) {
        sort_rows_bucketed(rows, n, 4, maxid + 1, scratch);
    }
}

/* x's rows (sorted) fold in place when they are distinct, live (meta not
 * 0) and new to the store: then nothing merges with them. */
static int extra_disjoint(const store *st, const rsrc *x)
{
    for (size_t q = 0; q < x->n; q++) {
        const uint32_t *r = x->rows + (size_t)x->stride * q;
        if ((x->stride == 4 ? r[3] : x->xmeta) == 0 || (q && row_cmp(r - x->stride, r) == 0) ||
            (st->npend && pend_find(st, r[0], r[1], r[2]) != NONE) ||
            store_base_find(st->b, r[0], r[1], r[2]) != NONE)
            return 0;
    }
    return 1;
}

/* The rebuild in place: the old base's arrays grow (a large array by
 * remapping, so only the added part is fresh memory and the old and new
 * bases are never both held), the pending facts are packed into rows
 * inside their own hash table (a slot is a row: s, p, o, meta), which then
 * shrinks to them, so no copy of them is made; those rows are sorted, and
 * they and x's rows (sorted, new to the store: extra_disjoint) merge into
 * SPO from the back; the other orders are scattered again into their grown
 * arrays.  Only when nothing is dropped: no transaction, no dead pending fact
 * (store_rebuild checks).  Every allocation the fold cannot do without
 * comes first: LORE_ERR_NOMEM leaves the store as it was (the base with
 * more room).  x's rows are let go (rsrc_release) once merged.  Dead base
 * facts, when few (!many_dead), stay where they are, dead: dropping them
 * would cost the full rebuild (a scratch evaluation after a small removal
 * merges its facts this way). */
static int rebuild_in_place(store *st, rsrc *x)
{
    base *b = st->b;
    size_t bn = b->n, np = st->npend, nx = x->n, n = bn + np + nx;
    uint32_t maxid = b->nkeys - 1;
    for (size_t q = 0; q < nx; q++)
        for (int k = 0; k < 3; k++) {
            uint32_t v = x->rows[(size_t)x->stride * q + (size_t)k];
            maxid = v > maxid ? v : maxid;
        }
    for (size_t i = 0; i < st->pendcap; i++) {
        const pend_slot *e = &st->pend[i];
        if (e->s) {
            uint32_t hi = e->s > e->p ? e->s : e->p;
            hi = hi > e->o ? hi : e->o;
            maxid = hi > maxid ? hi : maxid;
        }
    }
    if (n >= 0xffffffffu || maxid >= 0xfffffffeu)
        return LORE_ERR_LIMIT;
    uint32_t nk = maxid + 1;
    size_t nscratch = 2 * ((size_t)maxid + 2);
    uint32_t *scratch = mem_alloc(&st->m, nscratch, sizeof *scratch);
    uint32_t *off[3] = {NULL, NULL, NULL};
    uint64_t *sig = mem_alloc(&st->m, nk, sizeof *sig);
    int ok = sig != NULL && scratch != NULL;
    for (int o = 0; o < 3 && ok; o++)
        ok = (off[o] = mem_calloc(&st->m, (size_t)nk + 1, sizeof *off[o])) != NULL;
    void *p;
    if (ok && b->cap_ent < n) {
        p = b->ent[ORD_SPO];
        if ((ok = mem_resize(&st->m, &p, b->cap_ent, n, sizeof(pair)) == 0))
            b->ent[ORD_SPO] = p, b->cap_ent = n;
    }
    if (ok && b->cap_meta < n) {
        p = b->meta;
        if ((ok = mem_resize(&st->m, &p, b->cap_meta, n, sizeof *b->meta) == 0))
            b->meta = p, b->cap_meta = n;
    }
    for (int o = ORD_POS; o <= ORD_OSP && ok; o++) {
        size_t *cap = o == ORD_POS ? &b->cap_pos : &b->cap_osp, have = *cap ? *cap : bn;
        if (have >= n)
            continue;
        p = b->ent[o];
        if ((ok = mem_resize(&st->m, &p, have, n, sizeof(pair)) == 0))
            b->ent[o] = p, *cap = n;
    }
    int logged = nx && st->clog_on && !st->clog_quiet;
    if (ok && logged)
        ok = store_clog_reserve(st, clog_need(st, nx)) == LORE_OK;
    if (!ok) {
        for (int o = 0; o < 3; o++)
            mem_free(&st->m, off[o], (size_t)nk + 1, sizeof *off[o]);
        mem_free(&st->m, sig, nk, sizeof *sig);
        mem_free(&st->m, scratch, nscratch, sizeof *scratch);
        return LORE_ERR_NOMEM;
    }
    /* nothing below can fail.  The hash table becomes the pending rows:
     * each live slot moves down to the next free row (never above where
     * it was), then the table shrinks to them. */
    uint32_t *prow = (uint32_t *)(void *)st->pend;
    size_t pcap = st->pendcap, k = 0;
    for (size_t i = 0; i < pcap; i++) {
        pend_slot e = st->pend[i];
        if (e.s) {
            uint32_t *r = prow + 4 * k++;
            r[0] = e.s, r[1] = e.p, r[2] = e.o, r[3] = e.meta;
        }
    }
    p = prow;
    if (np && mem_resize(&st->m, &p, pcap, np, sizeof *st->pend) == 0)
        prow = p, pcap = np;
    st->pend = NULL, st->pendcap = 0; /* taken over */
    pending_drop(st);
    sort_fold_rows(st, prow, np, maxid, scratch);
    /* SPO's offsets from the old counts and the new rows, then the merge
     * from the back: the largest of the old row, the pending row and x's
     * row goes last */
    uint32_t *so = off[ORD_SPO];
    const uint32_t *xr = x->rows;
    size_t xs = (size_t)x->stride;
    for (uint32_t s = 0; s < b->nkeys; s++)
        so[s + 1] = b->off[ORD_SPO][s + 1] - b->off[ORD_SPO][s];
    for (size_t j = 0; j < np; j++)
        so[prow[4 * j] + 1]++;
    for (size_t q = 0; q < nx; q++) {
        const uint32_t *r = xr + xs * q;
        so[r[0] + 1]++;
        if (logged)
            clog_add(st, r[0], r[1], r[2], CLOG_TENTATIVE); /* absent before */
    }
    for (uint32_t s = 0; s < nk; s++)
        so[s + 1] += so[s];
    pair *ent = b->ent[ORD_SPO];
    const uint32_t *oo = b->off[ORD_SPO];
    size_t i = bn, j = np, q = nx, w = n;
    uint32_t bs = b->nkeys; /* subject of old row i - 1: oo[bs] <= i - 1 < oo[bs + 1] */
    while (j > 0 || q > 0) {
        const uint32_t *r = NULL; /* the larger of the pending and x rows */
        int fromx = 0;
        if (j > 0)
            r = prow + 4 * (j - 1);
        if (q > 0 && (!r || row_cmp(xr + xs * (q - 1), r) > 0))
            r = xr + xs * (q - 1), fromx = 1;
        int old = 0;
        if (i > 0) {
            while (oo[bs] > i - 1)
                bs--;
            pair e = ent[i - 1];
            old = bs > r[0] || (bs == r[0] && (e.a > r[1] || (e.a == r[1] && e.b > r[2])));
        }
        w--;
        if (old) {
            ent[w] = ent[i - 1], b->meta[w] = b->meta[i - 1];
            i--;
        } else {
            ent[w].a = r[1], ent[w].b = r[2];
            b->meta[w] = fromx ? (xs == 4 ? r[3] : x->xmeta) : r[3];
            if (fromx)
                q--;
            else
                j--;
        }
    }
    rsrc_release(st, x); /* its rows are in */
    mem_free(&st->m, prow, pcap, sizeof(pend_slot));
    for (int o = 0; o < 3; o++) {
        mem_free(&st->m, b->off[o], (size_t)b->nkeys + 1, sizeof *b->off[o]);
        b->off[o] = off[o];
    }
    mem_free(&st->m, b->sig, b->nkeys, sizeof *b->sig);
    b->sig = sig, b->nkeys = nk, b->n = n;
    b->cap_pos = b->cap_pos == n ? 0 : b->cap_pos;
    b->cap_osp = b->cap_osp == n ? 0 : b->cap_osp;
    store_base_permute(b, scratch);
    mem_free(&st->m, scratch, nscratch, sizeof *scratch);
    size_t nder = 0;
    for (size_t t = 0; t < n; t++)
        nder += (b->meta[t] & META_DERIVED) != 0;
    pending_folded(st, n - st->ndead_base, nder);
    if (logged)
        store_clog_settle(st, 1);
    store_free_deadk(st);
    st->version++;
    return LORE_OK;
}

/* Rebuilds base from the old base, every pend fact and the rows of x
 * (sorted by SPO; may be NULL).  Dead facts are dropped unless in a
 * transaction.  Atomic.  When x owns its array (x->cap != 0) or is a
 * stream, the rows are let go as soon as they are merged (before the other
 * orderings are built, which keeps the peak of a bulk load low): an array
 * is freed then, or on failure. */
int store_rebuild(store *st, rsrc *x, size_t *added)
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

    if (!x->stream && !st->in_txn && ob && ob->n && !many_dead(st) && st->ndead_pend == 0 &&
        (st->npend || nextra) && extra_disjoint(st, x)) {
        rc = rebuild_in_place(st, x);
        if (rc == LORE_OK && added)
            *added = nextra;
        goto cleanup;
    }
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
    sort_fold_rows(st, prow, np, maxid, scratch);
    if (st->in_txn && nextra &&
        (mem_reserve(&st->m, (void **)&st->log, &st->logcap, st->nlog + nextra, sizeof *st->log) ||
         mem_reserve(&st->m, (void **)&st->logsets, &st->logsetcap, st->nlogsets + nextra,
                     sizeof *st->logsets))) {
        rc = LORE_ERR_NOMEM;
        goto cleanup;
    }
    if (nextra && store_clog_reserve(st, clog_need(st, nextra)) != LORE_OK) {
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
    store_base_permute(nb, scratch);

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
    dead_forget(st, DEAD_BASE);
    for (size_t i = 0; i < tcap; i++)
        if (tab[3 * i])
            dead_mark(st, DEAD_BASE, tab[3 * i], tab[3 * i + 2]);
    tab = NULL;
    for (size_t i = 0; i < cx.nreplaced; i++) {
        if (st->in_txn)
            st->logsets[st->nlogsets++] = cx.replaced[i];
        else
            srcset_destroy(st, cx.replaced[i]);
    }
    store_base_release(&st->m, ob);
    st->b = nb;
    nb = NULL;
    pending_folded(st, out - ndead, nder);
    if (nclog_made)
        store_clog_settle(st, 1);
    store_free_deadk(st);
    st->version++;
    if (added)
        *added = nadd;

cleanup:
    if (rc != LORE_OK) {
        for (size_t i = cx.ncreated; i-- > 0;)
            srcset_destroy(st, cx.created[i]);
        st->nlog = nlog0, st->log_creates = log_creates0;
        if (nclog_made)
            store_clog_settle(st, 0);
    }
    store_base_release(&st->m, nb);
    mem_free(&st->m, tab, tcap, 3 * sizeof *tab);
    mem_free(&st->m, prow, np, 4 * sizeof *prow);
    mem_free(&st->m, scratch, nscratch, sizeof *scratch);
    mem_free(&st->m, cx.created, cx.createcap, sizeof *cx.created);
    mem_free(&st->m, cx.replaced, cx.replacecap, sizeof *cx.replaced);
    rsrc_release(st, x);
    return rc;
}

/* A read would fold rather than sort the tail into a run: the tail is too
 * large to sort on its own, or the pending facts have outgrown the base. */
static int fold_due(const store *st)
{
    size_t nb = st->b ? st->b->n : 0, inruns = st->npend - st->ntail;
    return !st->in_txn &&
           (st->ntail > st->tail_max + nb / 8 || inruns + st->ntail > nb + st->tail_max);
}

void store_merge_runs(store *st)
{
    /* a binary counter: a fact is copied about log2 times; a failure only
     * leaves more runs than ideal (store_prepare merges when none is free) */
    while (st->nruns >= 2 && (st->nruns >= RUN_MAX - 1 ||
                              st->runs[st->nruns - 2]->n <= 2 * st->runs[st->nruns - 1]->n))
        if (merge_last_runs(st) != LORE_OK)
            break;
}

/* Makes pending facts readable.  A tail large beside base is folded into
 * base; a small one becomes a sorted run behind the others.  Folds and
 * merges only happen when the tail holds something, that is after a
 * write, which already made every open iterator stale, and merges wait
 * for the next new fact when a read since that write left the tail: so
 * no iterator can see the structures move (store.h). */
int store_prepare(store *st)
{
    if (st->ntail == 0)
        return LORE_OK;
    if (fold_due(st))
        return store_rebuild(st, NULL, NULL);
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
    tail_forget(st);
    /* behind the others: an open iterator reads on undisturbed (store.h) */
    if (r->n)
        st->runs[st->nruns++] = r;
    else
        store_run_free(&st->m, r);
    /* the runs merge now unless a read since the last write left the tail
     * (its iterator may be open); then the next new fact merges them */
    if (st->left_at != st->version + 1)
        store_merge_runs(st);
    return LORE_OK;
}

int store_prepare_read(store *st, uint32_t s, uint32_t p, uint32_t o)
{
    if (st->ntail == 0)
        return LORE_OK;
    /* no fact of the tail matches: none pending has the subject (or the
     * object), or the tail's filter has not the key */
    int absent = pend_lacks(st, s, o) ||
                 (s ? !tail_may_hold(st, p ? TK_SP : TK_S, s, p)
                    : o && !tail_may_hold(st, p ? TK_PO : TK_O, p ? p : o, p ? o : 0));
    /* left as it is only when the reads that may follow before the next
     * write have nothing to fold or merge: they add one run at most */
    if (!absent || fold_due(st) || st->nruns >= RUN_MAX - 1)
        return store_prepare(st);
    st->left_at = st->version + 1;
    return LORE_OK;
}
