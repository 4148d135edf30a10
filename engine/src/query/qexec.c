/* qexec.c - the query executor: depth-first evaluation of a plan's steps
 * with a choice stack, so a solution can be returned and the run resumed.
 * See query.h for the model. */
#include "query.h"

#include <string.h>

#include "lpat.h"
#include "sort.h"

enum { BUF = 128 }; /* facts read from an index per batch */

enum { ENTER, BACK };

/* What one step returns to the loop. */
enum { R_FAIL = -1000 };

struct qstate {
    store_iter it;
    uint32_t *buf; /* BUF facts */
    size_t n, pos;
    uint32_t key[3];
    int nb; /* free positions this activation binds */
    int bpos[3], bvar[3];
    int eq[3][2]; /* positions that must hold equal values (a repeated free variable) */
    int neq;
    size_t dpos; /* delta: next override fact */
    int found, branch;
    /* paths */
    int pmode; /* 1: from s, 2: from o, 3: every start, 4: every start back to itself */
    pout out, starts;
    uint64_t starts_version; /* the store's version + 1 when starts were made (0: not) */
    const void *starts_ghost; /* and the ghosts then */
    size_t opos, spos;
    uint32_t cur; /* mode 3, 4: the current start */
    pgraph g[2];      /* the adjacency of the forward and of the inverse automaton */
    int has_graph[2]; /* (a walk from the object end follows the inverse's labels) */
    uint64_t lookups; /* index lookups done by this step's walks */
    /* the ghost facts' range, after the store's */
    int gphase; /* 0: reading the store, 1: reading ghosts */
    int gord;
    size_t gpos, gend;
    /* a remembered scan (qmemo): its facts are read from the arena */
    int mphase;
    size_t mpos, mend;
    qmemo_dense *dense; /* the memo's map for this step's key shape, */
    int dense_mask;     /* the positions bound when it was found */
    uint32_t dense_gen; /* and the memo's gen then (a clear gives the maps out anew) */
};

/* ------------------------------------------------------------------ */
/* setup                                                              */

static int qexec_open_with(qexec *x, lore_kb *kb, const qprog *p, const qplan *pl,
                           const uint32_t *init, qpool *pool)
{
    const mem *m = &kb->m;
    memset(x, 0, sizeof *x);
    x->kb = kb, x->prog = p, x->plan = pl;
    size_t nv = (size_t)p->nvars, ns = (size_t)pl->nsteps;
    if (pool) {
        if (pool->nrow < nv + 1) {
            if (mem_resize(m, (void **)&pool->row, pool->nrow, nv + 1, sizeof *pool->row) != 0)
                return LORE_ERR_NOMEM;
            pool->nrow = nv + 1;
        }
        if (pool->nst < ns + 1) { /* both anew, or neither */
            qstate *st = mem_alloc(m, ns + 1, sizeof *st);
            int *ch = mem_alloc(m, ns + 1, sizeof *ch);
            if (!st || !ch) {
                mem_free(m, st, ns + 1, sizeof *st);
                mem_free(m, ch, ns + 1, sizeof *ch);
                return LORE_ERR_NOMEM;
            }
            mem_free(m, pool->st, pool->nst, sizeof *pool->st);
            mem_free(m, pool->choice, pool->nst, sizeof *pool->choice);
            pool->st = st, pool->choice = ch, pool->nst = ns + 1;
        }
        memset(pool->row, 0, (nv + 1) * sizeof *pool->row);
        memset(pool->st, 0, (ns + 1) * sizeof *pool->st);
        x->row = pool->row, x->st = pool->st, x->choice = pool->choice;
        x->pool = pool;
        pool->busy = 1;
    } else {
        x->row = mem_calloc(m, nv + 1, sizeof *x->row);
        x->st = mem_calloc(m, ns + 1, sizeof *x->st);
        x->choice = mem_alloc(m, ns + 1, sizeof *x->choice);
        if (!x->row || !x->st || !x->choice) {
            qexec_close(x);
            return LORE_ERR_NOMEM;
        }
    }
    /* a scan's buffer comes when it first reads the store (a query of
     * many patterns needs few at a time) */
    if (init)
        for (size_t v = 0; v < nv; v++)
            x->row[v] = pl->prebound && pl->prebound[v] ? init[v] : 0;
    pwalk_init(&x->walk, kb);
    x->version = kb->st.version;
    x->checks = 1024;
    return LORE_OK;
}

void qpool_free(const mem *m, qpool *p)
{
    mem_free(m, p->row, p->nrow, sizeof *p->row);
    mem_free(m, p->st, p->nst, sizeof *p->st);
    mem_free(m, p->choice, p->nst, sizeof *p->choice);
    memset(p, 0, sizeof *p);
}

int qexec_open_in(qexec *x, lore_kb *kb, const qprog *p, const qplan *pl, const uint32_t *init,
                  qpool *pool)
{
    return qexec_open_with(x, kb, p, pl, init, pool && !pool->busy ? pool : NULL);
}

int qexec_open(qexec *x, lore_kb *kb, const qprog *p, const qplan *pl, const uint32_t *init)
{
    return qexec_open_with(x, kb, p, pl, init, NULL);
}

void qexec_source(qexec *x, const uint32_t *facts, size_t n)
{
    x->delta = facts;
    x->ndelta = n;
}

void qexec_close(qexec *x)
{
    if (!x->kb)
        return;
    const mem *m = &x->kb->m;
    size_t nv = (size_t)x->prog->nvars, ns = (size_t)x->plan->nsteps;
    if (x->st) {
        for (size_t i = 0; i < ns; i++) {
            qstate *s = &x->st[i];
            mem_free(m, s->buf, 3 * BUF, sizeof *s->buf);
            pout_free(m, &s->out);
            pout_free(m, &s->starts);
            for (int d = 0; d < 2; d++)
                if (s->has_graph[d])
                    pgraph_free(m, &s->g[d]);
        }
    }
    if (x->pool) {
        x->pool->busy = 0;
    } else {
        mem_free(m, x->row, nv + 1, sizeof *x->row);
        mem_free(m, x->st, ns + 1, sizeof *x->st);
        mem_free(m, x->choice, ns + 1, sizeof *x->choice);
    }
    fn_scratch_free(m, &x->scratch);
    pwalk_free(&x->walk);
    memset(x, 0, sizeof *x);
}

/* ------------------------------------------------------------------ */
/* helpers                                                            */

static inline uint32_t slot_value(const qexec *x, qslot s)
{
    return s.var >= 0 ? x->row[s.var] : x->prog->consts[-s.var - 1].id;
}

static inline void unbind(qexec *x, qstate *s)
{
    for (int k = 0; k < s->nb; k++)
        x->row[s->bvar[k]] = 0;
}

static int changed(qexec *x)
{
    return ctx_fail(&x->kb->ctx, LORE_ERR_CHANGED, "the knowledge base changed during the query");
}

/* ------------------------------------------------------------------ */
/* filters                                                            */

/* The matcher's poll: has the knowledge base been interrupted? */
static int poll_ctx(void *ud)
{
    return ctx_interrupted(ud);
}

static void value_of(const qexec *x, qslot s, uint32_t id, lore_value *v)
{
    if (id)
        dict_get(&x->kb->d, id, v);
    else
        *v = x->prog->consts[-s.var - 1].v;
}

/* 1 keep, 0 drop, < 0 an error. */
static int run_filter(qexec *x, const qfilter *f)
{
    if (f->op == QF_FN) {
        query_filter_row((lore_query *)x->q, x->row);
        int r = f->fn(f->ud, x->q);
        query_filter_row((lore_query *)x->q, NULL);
        if (r < 0)
            return r;
        if (x->kb->st.version != x->version)
            return changed(x);
        return r != 0;
    }
    uint32_t a = slot_value(x, f->a);
    if (f->a.var >= 0 && a == 0)
        return 0; /* unbound: no comparison holds */
    if (f->op == QF_IN) {
        const term *t = a ? dict_term(&x->kb->d, a) : NULL;
        int numeric = t && (t->kind == LORE_INTEGER || t->kind == LORE_NUMBER);
        lore_value va;
        if (numeric)
            dict_get(&x->kb->d, a, &va);
        for (int i = 0; i < f->nset; i++) {
            const qconst *k = &x->prog->consts[f->set[i]];
            if (k->id == a && a)
                return 1;
            /* numbers by value, as with = */
            if (numeric && (k->v.kind == LORE_INTEGER || k->v.kind == LORE_NUMBER) &&
                query_compare_values(&va, &k->v) == 0)
                return 1;
        }
        return 0;
    }
    lore_value va, vb;
    value_of(x, f->a, a, &va);
    if (f->op == QF_MATCH) {
        if (va.kind != LORE_TEXT && va.kind != LORE_SYMBOL && va.kind != LORE_DATE)
            return 0;
        const lore_value *pat = &x->prog->consts[-f->b.var - 1].v;
        int r = lpat_find(va.str, va.len, pat->str, pat->len, poll_ctx, &x->kb->ctx);
        if (r == LPAT_STOPPED)
            return LORE_ERR_INTERRUPT; /* the poll set the message */
        if (r == LPAT_TOO_DEEP || r == LPAT_TOO_LONG) {
            /* the pattern, cut (at a character) so that the reason shows */
            int shown = pat->len > 60 ? 60 : (int)pat->len;
            while (shown > 0 && shown < (int)pat->len && (pat->str[shown] & 0xC0) == 0x80)
                shown--;
            const char *more = shown < (int)pat->len ? "..." : "";
            if (r == LPAT_TOO_DEEP)
                return ctx_fail(&x->kb->ctx, LORE_ERR_LIMIT,
                                "match '%.*s%s': pattern too complex (recursion deeper than %d)",
                                shown, pat->str, more, LPAT_MAX_DEPTH);
            return ctx_fail(&x->kb->ctx, LORE_ERR_LIMIT,
                            "match '%.*s%s': pattern too costly (more than %d matcher steps on "
                            "one value)",
                            shown, pat->str, more, LPAT_MAX_STEPS);
        }
        return r;
    }
    uint32_t b = slot_value(x, f->b);
    if (f->b.var >= 0 && b == 0)
        return 0;
    int c;
    if (a && b && a == b) {
        c = 0;
    } else {
        value_of(x, f->b, b, &vb);
        c = query_compare_values(&va, &vb);
        /* distinct terms of equal value: only numbers (1 and 1.0) */
        if (c == 0 && a && b && !(va.kind == LORE_INTEGER || va.kind == LORE_NUMBER))
            c = a < b ? -1 : 1;
    }
    switch (f->op) {
    case QF_EQ:
        return c == 0;
    case QF_NE:
        return c != 0;
    case QF_LT:
        return c < 0;
    case QF_LE:
        return c <= 0;
    case QF_GT:
        return c > 0;
    default:
        return c >= 0;
    }
}

/* ------------------------------------------------------------------ */
/* ghost facts                                                        */

/* Ordering and prefix length by the mask of bound positions (as the
 * store's). */
static const int g_ord[8] = {ORD_SPO, ORD_SPO, ORD_POS, ORD_SPO,
                             ORD_OSP, ORD_OSP, ORD_POS, ORD_SPO};
static const int g_prefix[8] = {0, 1, 1, 2, 1, 2, 2, 3};

static void g_permute(int ord, const uint32_t t[3], uint32_t k[3])
{
    switch (ord) {
    case ORD_SPO:
        k[0] = t[0], k[1] = t[1], k[2] = t[2];
        break;
    case ORD_POS:
        k[0] = t[1], k[1] = t[2], k[2] = t[0];
        break;
    default:
        k[0] = t[2], k[1] = t[0], k[2] = t[1];
        break;
    }
}

static void g_unpermute(int ord, const uint32_t *k, uint32_t t[3])
{
    switch (ord) {
    case ORD_SPO:
        t[0] = k[0], t[1] = k[1], t[2] = k[2];
        break;
    case ORD_POS:
        t[1] = k[0], t[2] = k[1], t[0] = k[2];
        break;
    default:
        t[2] = k[0], t[0] = k[1], t[1] = k[2];
        break;
    }
}

/* The range of ghost rows whose first `prefix` ids are key's. */
static void g_range(const qfacts *g, int ord, int plen, const uint32_t key[3], size_t *lo,
                    size_t *hi)
{
    const uint32_t *k = g->k[ord];
    size_t l = 0, h = g->n;
    for (int pass = 0; pass < 2; pass++) {
        size_t a = pass ? l : 0, b = g->n;
        while (a < b) {
            size_t mid = a + (b - a) / 2;
            const uint32_t *e = k + 3 * mid;
            int c = 0;
            for (int i = 0; i < plen && c == 0; i++)
                c = e[i] < key[i] ? -1 : e[i] > key[i];
            if (pass == 0 ? c < 0 : c <= 0)
                a = mid + 1;
            else
                b = mid;
        }
        if (pass == 0)
            l = a;
        else
            h = a;
    }
    *lo = l, *hi = h;
}

int qfacts_has(const qfacts *g, const uint32_t t[3])
{
    if (!g || !g->n)
        return 0;
    const uint32_t *k = g->k[ORD_SPO];
    size_t lo = 0, hi = g->n; /* the first row not below t */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (row_cmp(k + 3 * mid, t) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < g->n && row_cmp(k + 3 * lo, t) == 0;
}

static void g_start(const qexec *x, qstate *s)
{
    uint32_t key[3];
    int mask = (s->key[0] != 0) | (s->key[1] != 0) << 1 | (s->key[2] != 0) << 2;
    s->gord = g_ord[mask];
    g_permute(s->gord, s->key, key);
    g_range(x->ghost, s->gord, g_prefix[mask], key, &s->gpos, &s->gend);
    s->gphase = 1;
}

/* ------------------------------------------------------------------ */
/* the scan memo                                                      */

enum {
    MEMO_MAX_FACTS = 1 << 22, /* the arena's cap (48 MiB); beyond it the memo starts again */
    MEMO_MAX_KEY = 4096       /* a key matching more is read from the store each time */
};

void qmemo_free(const mem *m, qmemo *mo)
{
    for (int d = 0; d < QMEMO_DENSE; d++)
        mem_free(m, mo->dense[d].e, mo->dense[d].cap, sizeof *mo->dense[d].e);
    mem_free(m, mo->e, mo->cap, sizeof *mo->e);
    mem_free(m, mo->arena, 3 * mo->acap, sizeof *mo->arena);
    memset(mo, 0, sizeof *mo);
}

void qmemo_invalidate(qmemo *mo)
{
    mo->version = UINT64_MAX; /* never a store's */
}

enum {
    DENSE_IDS = 1 << 20, /* ids at or past this go to the table */
    DGEN_BITS = 24,
    DN_BITS = 14,
    DN_MANY = (1 << DN_BITS) - 1, /* too many facts to keep */
    DOFF_BITS = 64 - DGEN_BITS - DN_BITS
};
#define DGEN_MASK ((1u << DGEN_BITS) - 1)

static void memo_clear(const mem *m, qmemo *mo, uint64_t version)
{
    if (mo->cap > 1024 && mo->used * 8 < mo->cap) {
        /* far larger than its last use needed (a big round, then small
         * ones, each clearing it): it grows again from small */
        mem_free(m, mo->e, mo->cap, sizeof *mo->e);
        mo->e = NULL, mo->cap = 0;
    }
    for (size_t i = 0; i < mo->cap; i++)
        mo->e[i].node = UINT32_MAX;
    mo->used = mo->nfacts = 0;
    mo->version = version;
    mo->gen++;
    /* the maps go to the shapes read from now (those of the first reads
     * kept them before: an upkeep's deletion, then another program's
     * rounds); their arrays stay, the gen makes their entries stale */
    for (int d = 0; d < QMEMO_DENSE; d++)
        mo->dense[d].pos = -1;
    if ((mo->gen & DGEN_MASK) == 0) { /* the tags wrapped: no entry may match by chance */
        for (int d = 0; d < QMEMO_DENSE; d++)
            if (mo->dense[d].e)
                memset(mo->dense[d].e, 0, mo->dense[d].cap * sizeof *mo->dense[d].e);
        mo->gen++;
    }
}

/* The dense entry for s's key when its pattern has exactly one position
 * bound from a variable (with an id below DENSE_IDS), else NULL (the
 * table then serves; also when memory for the map runs out).  The shape's
 * map is found once per step and kept in s while the same positions are
 * bound (a step runs thousands of times a body). */
static uint64_t *dense_slot(const qexec *x, const qstep *st, qstate *s)
{
    const qnode *n = &x->prog->nodes[st->node];
    int pos = -1, mask = 0;
    for (int k = 0; k < 3; k++)
        if (n->t[k].var >= 0 && s->key[k])
            mask |= 1 << k, pos = k;
    if (mask == 0 || (mask & (mask - 1)) || s->key[pos] >= DENSE_IDS)
        return NULL;
    qmemo *mo = x->memo;
    if ((mo->gen & DGEN_MASK) == 0)
        mo->gen++; /* gen 0 tags entries never read */
    qmemo_dense *d = s->dense_mask == mask && s->dense_gen == mo->gen ? s->dense : NULL;
    if (!d) {
        uint32_t rest[3] = {s->key[0], s->key[1], s->key[2]};
        rest[pos] = 0;
        for (int i = 0; i < QMEMO_DENSE && !d; i++) {
            qmemo_dense *c = &mo->dense[i];
            if (!c->e || c->pos < 0 || (c->pos == pos && !memcmp(c->rest, rest, sizeof rest)))
                d = c;
        }
        if (!d)
            return NULL;
        if (!d->e || d->pos < 0) {
            d->pos = pos;
            memcpy(d->rest, rest, sizeof rest);
        }
    }
    uint32_t id = s->key[pos];
    if (id >= d->cap) {
        size_t ncap = d->cap ? d->cap : 1024;
        while (ncap <= id)
            ncap *= 2;
        uint64_t *e = d->e;
        if (mem_resize(&x->kb->m, (void **)&e, d->cap, ncap, sizeof *e) != 0)
            return NULL;
        memset(e + d->cap, 0, (ncap - d->cap) * sizeof *e);
        d->e = e, d->cap = ncap;
    }
    s->dense = d, s->dense_mask = mask, s->dense_gen = mo->gen; /* d's shape until a clear */
    return &d->e[id];
}

static size_t memo_hash(uint32_t node, const uint32_t key[3])
{
    uint64_t h = (uint64_t)node * 0x9e3779b97f4a7c15ull;
    for (int k = 0; k < 3; k++)
        h = (h ^ key[k]) * 0xff51afd7ed558ccdull;
    return (size_t)(h ^ (h >> 32));
}

/* The entry for (node, key), or a free slot to fill; NULL without memory. */
static qmemo_ent *memo_slot(const mem *m, qmemo *mo, uint32_t node, const uint32_t key[3])
{
    if (mo->used * 2 >= mo->cap) {
        size_t ncap = mo->cap ? mo->cap * 2 : 1024;
        qmemo_ent *ne = mem_alloc(m, ncap, sizeof *ne);
        if (!ne)
            return NULL;
        for (size_t i = 0; i < ncap; i++)
            ne[i].node = UINT32_MAX;
        for (size_t i = 0; i < mo->cap; i++) {
            if (mo->e[i].node == UINT32_MAX)
                continue;
            size_t j = memo_hash(mo->e[i].node, mo->e[i].key) & (ncap - 1);
            while (ne[j].node != UINT32_MAX)
                j = (j + 1) & (ncap - 1);
            ne[j] = mo->e[i];
        }
        mem_free(m, mo->e, mo->cap, sizeof *mo->e);
        mo->e = ne, mo->cap = ncap;
    }
    size_t j = memo_hash(node, key) & (mo->cap - 1);
    for (;;) {
        qmemo_ent *e = &mo->e[j];
        if (e->node == UINT32_MAX ||
            (e->node == node && e->key[0] == key[0] && e->key[1] == key[1] && e->key[2] == key[2]))
            return e;
        j = (j + 1) & (mo->cap - 1);
    }
}

/* Reads the scan's facts through the memo: from the arena if its key was
 * read before, else from the store into the arena.  1 when the facts are
 * in the arena (s->mpos .. s->mend), 0 to read the store as usual, or an
 * error status (< 0). */
static int memo_scan(qexec *x, const qstep *st, qstate *s)
{
    qmemo *mo = x->memo;
    const mem *m = &x->kb->m;
    if (mo->version != x->kb->st.version || mo->ghost != x->ghost ||
        mo->nfacts > (mo->max_facts ? mo->max_facts : MEMO_MAX_FACTS)) {
        /* stale (another state of the store, or other ghosts) or full: it
         * starts again, unless a scan of this run is still reading
         * remembered facts (they would be overwritten under it); then this
         * one reads the store */
        for (int j = 0; j < x->plan->nsteps; j++)
            if (x->st[j].mphase && x->st[j].mpos < x->st[j].mend)
                return 0;
        memo_clear(m, mo, x->kb->st.version);
        mo->ghost = x->ghost;
    }
    qmemo_ent *e = NULL;
    uint64_t *de = mo->nfacts < ((size_t)1 << DOFF_BITS) - MEMO_MAX_KEY - 1 ? dense_slot(x, st, s)
                                                                            : NULL;
    if (de) {
        uint64_t v = *de;
        if ((v & DGEN_MASK) == (mo->gen & DGEN_MASK)) {
            uint32_t n = (uint32_t)(v >> DGEN_BITS) & DN_MANY;
            if (n == DN_MANY)
                return 0;
            s->mpos = (size_t)(v >> (DGEN_BITS + DN_BITS)), s->mend = s->mpos + n;
            return 1;
        }
    } else {
        e = memo_slot(m, mo, (uint32_t)st->node, s->key);
        if (!e)
            return LORE_ERR_NOMEM;
        if (e->node != UINT32_MAX) {
            if (e->n == UINT32_MAX)
                return 0;
            s->mpos = e->off, s->mend = (size_t)e->off + e->n;
            return 1;
        }
    }
    /* not read yet: the store's facts for the key, up to MEMO_MAX_KEY */
    store_iter it;
    int rc = store_iter_init(&x->kb->st, &it, s->key[0], s->key[1], s->key[2]);
    if (rc != LORE_OK)
        return rc;
    size_t off = mo->nfacts, n = 0;
    for (;;) {
        if (mo->acap - mo->nfacts < BUF) {
            size_t ncap = mo->acap ? mo->acap * 2 : 4096;
            uint32_t *a = mo->arena;
            if (mem_resize(m, (void **)&a, 3 * mo->acap, 3 * ncap, sizeof *a) != 0) {
                store_iter_done(&it);
                mo->nfacts = off;
                return LORE_ERR_NOMEM;
            }
            mo->arena = a, mo->acap = ncap;
        }
        size_t got;
        rc = store_iter_read(&it, mo->arena + 3 * mo->nfacts, BUF, &got);
        if (rc == LORE_DONE)
            break;
        if (rc != LORE_OK) {
            store_iter_done(&it);
            mo->nfacts = off;
            return rc;
        }
        mo->nfacts += got, n += got;
        if (n > MEMO_MAX_KEY)
            break;
    }
    store_iter_done(&it);
    if (x->ghost && x->ghost->n && n <= MEMO_MAX_KEY) {
        /* then the ghosts that match, as a scan reads them after the store */
        qstate g;
        memcpy(g.key, s->key, sizeof g.key);
        g_start(x, &g);
        if (mem_reserve(m, (void **)&mo->arena, &mo->acap, mo->nfacts + (g.gend - g.gpos),
                        3 * sizeof *mo->arena) != 0) {
            mo->nfacts = off;
            return LORE_ERR_NOMEM;
        }
        for (size_t i = g.gpos; i < g.gend; i++)
            g_unpermute(g.gord, x->ghost->k[g.gord] + 3 * i, mo->arena + 3 * mo->nfacts++);
        n += g.gend - g.gpos;
    }
    int many = n > MEMO_MAX_KEY;
    if (many)
        mo->nfacts = off;
    if (de) {
        *de = (uint64_t)(many ? 0 : off) << (DGEN_BITS + DN_BITS) |
              (uint64_t)(many ? DN_MANY : n) << DGEN_BITS | (mo->gen & DGEN_MASK);
    } else {
        e->node = (uint32_t)st->node;
        memcpy(e->key, s->key, sizeof e->key);
        mo->used++;
        e->off = many ? 0 : (uint32_t)off, e->n = many ? UINT32_MAX : (uint32_t)n;
    }
    if (many)
        return 0;
    s->mpos = off, s->mend = off + n;
    return 1;
}

/* ------------------------------------------------------------------ */
/* scans                                                              */

/* Sets up a scan's key and the positions it binds; 0 if a constant is
 * unknown (nothing can match). */
static int scan_setup(qexec *x, const qnode *n, qstate *s)
{
    s->nb = s->neq = 0;
    for (int k = 0; k < 3; k++) {
        qslot sl = n->t[k];
        if (sl.var < 0) {
            s->key[k] = x->prog->consts[-sl.var - 1].id;
            if (!s->key[k])
                return 0;
            continue;
        }
        s->key[k] = x->row[sl.var];
        if (s->key[k])
            continue;
        int dup = -1;
        for (int j = 0; j < s->nb; j++)
            if (s->bvar[j] == sl.var)
                dup = s->bpos[j];
        if (dup >= 0) {
            s->eq[s->neq][0] = dup, s->eq[s->neq][1] = k;
            s->neq++;
        } else {
            s->bpos[s->nb] = k, s->bvar[s->nb] = sl.var;
            s->nb++;
        }
    }
    return 1;
}

static int scan_next(qexec *x, int i, qstate *s)
{
    const qstep *st = &x->plan->steps[i];
    for (;;) {
        const uint32_t *t;
        if (--x->checks <= 0) { /* rows rejected here never reach the loop's check */
            x->checks = 1024;
            if (ctx_interrupted(&x->kb->ctx))
                return LORE_ERR_INTERRUPT;
        }
        if (st->delta) {
            if (s->dpos >= x->ndelta)
                break;
            t = x->delta + 3 * s->dpos++;
            if ((s->key[0] && t[0] != s->key[0]) || (s->key[1] && t[1] != s->key[1]) ||
                (s->key[2] && t[2] != s->key[2]))
                continue;
        } else if (s->mphase) {
            if (s->mpos >= s->mend)
                break;
            t = x->memo->arena + 3 * s->mpos++;
        } else if (s->gphase) {
            if (s->gpos >= s->gend)
                break;
            uint32_t *d = s->buf; /* the scan's buffer is free once the store is read */
            g_unpermute(s->gord, x->ghost->k[s->gord] + 3 * s->gpos++, d);
            t = d;
        } else {
            if (s->pos == s->n) {
                int rc = store_iter_read(&s->it, s->buf, BUF, &s->n);
                if (rc == LORE_DONE) {
                    if (x->ghost && x->ghost->n) {
                        g_start(x, s);
                        continue;
                    }
                    break;
                }
                if (rc != LORE_OK)
                    return rc == LORE_ERR_CHANGED ? changed(x) : rc;
                s->pos = 0;
            }
            t = s->buf + 3 * s->pos++;
        }
        int ok = 1;
        for (int e = 0; e < s->neq; e++)
            ok &= t[s->eq[e][0]] == t[s->eq[e][1]];
        if (!ok)
            continue;
        for (int k = 0; k < s->nb; k++)
            x->row[s->bvar[k]] = t[s->bpos[k]];
        x->choice[x->nchoice++] = i;
        return i + 1;
    }
    unbind(x, s);
    return R_FAIL;
}

static int scan_enter(qexec *x, int i, qstate *s)
{
    const qstep *st = &x->plan->steps[i];
    const qnode *n = &x->prog->nodes[st->node];
    if (!scan_setup(x, n, s))
        return R_FAIL;
    if (st->delta) {
        s->dpos = 0;
        return scan_next(x, i, s);
    }
    if (s->nb == 0 && s->neq == 0) {
        /* fully bound: a probe, no choice point */
        int held = store_meta(&x->kb->st, s->key[0], s->key[1], s->key[2]) ||
                   qfacts_has(x->ghost, s->key);
        return held ? i + 1 : R_FAIL;
    }
    s->mphase = 0;
    if (x->memo) {
        int rc = memo_scan(x, st, s);
        if (rc < 0)
            return rc == LORE_ERR_NOMEM ? ctx_nomem(&x->kb->ctx) : rc;
        if (rc == 1) {
            s->mphase = 1;
            return scan_next(x, i, s);
        }
    }
    if (!s->buf && !(s->buf = mem_alloc(&x->kb->m, 3 * BUF, sizeof *s->buf)))
        return ctx_nomem(&x->kb->ctx);
    int rc = store_iter_init(&x->kb->st, &s->it, s->key[0], s->key[1], s->key[2]);
    if (rc != LORE_OK)
        return rc;
    s->n = s->pos = 0;
    s->gphase = 0;
    return scan_next(x, i, s);
}

/* ------------------------------------------------------------------ */
/* paths                                                              */

/* Builds the step's graph for the forward automaton (back == 0) or the
 * inverse one when walks through the store have done about as many
 * lookups as the graph has edges to read; the graph to walk with, or
 * NULL. */
static int path_graph(qexec *x, int i, qstate *s, int back, int force, const pgraph **g)
{
    const qplan *pl = x->plan;
    const qstep *st = &pl->steps[i];
    *g = NULL;
    if (s->has_graph[back] && s->g[back].version == x->kb->st.version) {
        *g = &s->g[back];
        return LORE_OK;
    }
    if (s->has_graph[back]) {
        pgraph_free(&x->kb->m, &s->g[back]);
        s->has_graph[back] = 0;
    }
    uint64_t edges = pl->edges[st->pnfa / 2];
    if (!force && s->lookups * 4 < edges + 256)
        return LORE_OK;
    int rc = pgraph_build(x->kb, &pl->nfas[st->pnfa + back], &s->g[back]);
    if (rc != LORE_OK)
        return rc;
    s->has_graph[back] = 1;
    *g = &s->g[back];
    return LORE_OK;
}

static int walk(qexec *x, qstate *s, const pnfa *a, const pgraph *g, uint32_t from, uint32_t target,
                int *found)
{
    uint64_t before = x->walk.lookups;
    s->out.n = 0;
    int rc = pwalk_run(&x->walk, a, g, from, target, UINT32_MAX, &s->out, found);
    s->lookups += x->walk.lookups - before;
    return rc;
}

static int path_next(qexec *x, int i, qstate *s)
{
    const qstep *st = &x->plan->steps[i];
    const pnfa *fw = &x->plan->nfas[st->pnfa];
    int rc, found;
    for (;;) {
        if (s->pmode == 1 || s->pmode == 2) {
            if (s->opos >= s->out.n)
                break;
            x->row[s->bvar[0]] = s->out.node[s->opos++];
            x->choice[x->nchoice++] = i;
            return i + 1;
        }
        if (s->pmode == 3 && s->opos < s->out.n) {
            x->row[s->bvar[0]] = s->cur;
            x->row[s->bvar[1]] = s->out.node[s->opos++];
            x->choice[x->nchoice++] = i;
            return i + 1;
        }
        if (s->spos >= s->starts.n)
            break;
        s->cur = s->starts.node[s->spos++];
        if (s->pmode == 3) {
            if ((rc = walk(x, s, fw, &s->g[0], s->cur, 0, &found)) != LORE_OK)
                return rc;
            s->opos = 0;
        } else {
            if ((rc = walk(x, s, fw, &s->g[0], s->cur, s->cur, &found)) != LORE_OK)
                return rc;
            if (found) {
                x->row[s->bvar[0]] = s->cur;
                x->choice[x->nchoice++] = i;
                return i + 1;
            }
        }
        if ((x->checks -= 16) <= 0) {
            x->checks = 1024;
            if (ctx_interrupted(&x->kb->ctx))
                return LORE_ERR_INTERRUPT;
        }
    }
    unbind(x, s);
    return R_FAIL;
}

/* Appends id to starts unless marked (then marks it). */
static int start_once(const mem *m, uint8_t *mark, size_t nt, pout *starts, uint32_t id)
{
    if (id >= nt || (mark[id / 8] >> (id % 8) & 1))
        return LORE_OK;
    mark[id / 8] |= (uint8_t)(1u << (id % 8));
    if (mem_reserve(m, (void **)&starts->node, &starts->ncap, starts->n + 1, sizeof *starts->node) != 0)
        return LORE_ERR_NOMEM;
    starts->node[starts->n++] = id;
    return LORE_OK;
}

/* Appends to starts every node of the knowledge base it lacks (a subject
 * or object of a live fact or of a ghost): with both ends free, a path
 * that can match zero steps has a zero-length row for each, whichever
 * facts it reads (as SPARQL has it), so that its rows do not depend on
 * whether an end was bound first. */
static int all_node_starts(qexec *x, pout *starts)
{
    const mem *m = &x->kb->m;
    size_t nt = (size_t)x->kb->d.n + 1;
    uint8_t *mark = mem_calloc(m, (nt + 7) / 8, 1);
    store_iter it;
    if (!mark || store_iter_init(&x->kb->st, &it, 0, 0, 0) != LORE_OK) {
        mem_free(m, mark, (nt + 7) / 8, 1);
        return LORE_ERR_NOMEM;
    }
    for (size_t k = 0; k < starts->n; k++)
        if (starts->node[k] < nt)
            mark[starts->node[k] / 8] |= (uint8_t)(1u << (starts->node[k] % 8));
    uint32_t buf[3 * 256];
    size_t got;
    int rc = LORE_OK;
    while (rc == LORE_OK && store_iter_read(&it, buf, 256, &got) == LORE_OK)
        for (size_t k = 0; k < got && rc == LORE_OK; k++)
            if ((rc = start_once(m, mark, nt, starts, buf[3 * k])) == LORE_OK)
                rc = start_once(m, mark, nt, starts, buf[3 * k + 2]);
    store_iter_done(&it);
    const qfacts *gh = x->ghost;
    for (size_t k = 0; gh && k < gh->n && rc == LORE_OK; k++) {
        const uint32_t *t = gh->k[ORD_SPO] + 3 * k;
        if ((rc = start_once(m, mark, nt, starts, t[0])) == LORE_OK)
            rc = start_once(m, mark, nt, starts, t[2]);
    }
    mem_free(m, mark, (nt + 7) / 8, 1);
    return rc;
}

static int path_enter(qexec *x, int i, qstate *s)
{
    const qstep *st = &x->plan->steps[i];
    const qnode *n = &x->prog->nodes[st->node];
    const pnfa *fw = &x->plan->nfas[st->pnfa], *bw = &x->plan->nfas[st->pnfa + 1];
    qslot ss = n->t[0], os = n->t[2];
    uint32_t sv = slot_value(x, ss), ov = slot_value(x, os);
    int rc, found;
    if ((ss.var < 0 && !sv) || (os.var < 0 && !ov))
        return R_FAIL; /* an unknown constant */
    s->nb = 0;
    s->opos = s->spos = 0;
    s->out.n = 0;
    /* a walk from the object end follows the inverse automaton: its
     * graph is its own (the forward one's labels are the other way) */
    const pgraph *g;
    if ((rc = path_graph(x, i, s, !sv && ov, 0, &g)) != LORE_OK)
        return rc;
    if (sv && ov) {
        if ((rc = walk(x, s, fw, g, sv, ov, &found)) != LORE_OK)
            return rc;
        return found ? i + 1 : R_FAIL;
    }
    if (sv || ov) {
        s->pmode = sv ? 1 : 2;
        s->bvar[0] = sv ? os.var : ss.var;
        s->nb = 1;
        if ((rc = walk(x, s, sv ? fw : bw, g, sv ? sv : ov, 0, &found)) != LORE_OK)
            return rc;
        return path_next(x, i, s);
    }
    /* both ends free: every start node, over a graph (made once for a
     * state of the store: with zero steps allowed, they are every node) */
    if ((rc = path_graph(x, i, s, 0, 1, &g)) != LORE_OK)
        return rc;
    if (s->starts_version != x->kb->st.version + 1 || s->starts_ghost != x->ghost) {
        s->starts.n = 0;
        s->starts_version = 0;
        if ((rc = pgraph_starts(&x->kb->m, fw, &s->g[0], &s->starts)) != LORE_OK ||
            (fw->accept[0] && (rc = all_node_starts(x, &s->starts)) != LORE_OK))
            return rc;
        s->starts_version = x->kb->st.version + 1, s->starts_ghost = x->ghost;
    }

    s->bvar[0] = ss.var;
    if (ss.var == os.var) {
        s->pmode = 4;
        s->nb = 1;
    } else {
        s->pmode = 3;
        s->bvar[1] = os.var;
        s->nb = 2;
    }
    return path_next(x, i, s);
}

/* ------------------------------------------------------------------ */
/* computed values                                                    */

/* Evaluates ?var = expr: binds the variable (a choice point that unbinds
 * it on the way back) or, when it is bound, compares. */
static int bind_enter(qexec *x, int i, qstate *s)
{
    const qnode *n = &x->prog->nodes[x->plan->steps[i].node];
    lore_value v;
    fn_scratch_reset(&x->scratch);
    int rc = qexpr_eval(x->kb, x->prog, n->expr, x->row, &v, &x->scratch);
    if (rc < 0)
        return rc;
    if (x->kb->st.version != x->version)
        return changed(x);
    if (rc != LORE_OK)
        return R_FAIL;
    uint32_t cur = x->row[n->var];
    if (cur) { /* a check: numbers by value, other terms by identity */
        lore_value c;
        dict_get(&x->kb->d, cur, &c);
        int numeric = (c.kind == LORE_INTEGER || c.kind == LORE_NUMBER) &&
                      (v.kind == LORE_INTEGER || v.kind == LORE_NUMBER);
        if (numeric)
            return query_compare_values(&c, &v) == 0 ? i + 1 : R_FAIL;
        uint32_t id;
        const char *why;
        rc = dict_lookup(&x->kb->d, &v, &id, &why);
        return rc == LORE_OK && id == cur ? i + 1 : R_FAIL;
    }
    uint32_t id;
    const char *why;
    rc = dict_intern(&x->kb->d, &v, &id, &why);
    if (rc == LORE_ERR_NOMEM)
        return rc;
    if (rc != LORE_OK)
        return R_FAIL; /* not a valid term (a text with a NUL byte): no value */
    x->row[n->var] = id;
    s->nb = 1, s->bvar[0] = n->var;
    x->choice[x->nchoice++] = i;
    return i + 1;
}

/* ------------------------------------------------------------------ */
/* the loop                                                           */

/* Unwinds the choice stack down to and including step `begin` (a match
 * was found inside a without-group: no need for more). */
static void cut(qexec *x, int begin)
{
    while (x->nchoice > 0) {
        int j = x->choice[--x->nchoice];
        int k = x->plan->steps[j].kind;
        if (k == S_SCAN || k == S_PATH || k == S_BIND)
            unbind(x, &x->st[j]);
        if (j == begin)
            break;
    }
}

/* Enters step i: the next step to enter, R_FAIL, or an error (< 0). */
static int enter(qexec *x, int i)
{
    const qstep *st = &x->plan->steps[i];
    qstate *s = &x->st[i];
    switch (st->kind) {
    case S_SCAN:
        return scan_enter(x, i, s);
    case S_PATH:
        return path_enter(x, i, s);
    case S_FILTER: {
        int r = run_filter(x, &x->prog->filters[x->prog->nodes[st->node].filter]);
        return r < 0 ? r : r ? i + 1 : R_FAIL;
    }
    case S_BIND:
        s->nb = 0;
        return bind_enter(x, i, s);
    case S_OPT:
        s->found = 0;
        x->choice[x->nchoice++] = i;
        return i + 1;
    case S_OPT_END:
        x->st[st->begin].found = 1;
        return i + 1;
    case S_NOT:
        x->choice[x->nchoice++] = i;
        return i + 1;
    case S_NOT_END:
        cut(x, st->begin);
        return R_FAIL;
    case S_UNION:
        if (st->nbr == 0)
            return R_FAIL;
        s->branch = 0;
        x->choice[x->nchoice++] = i;
        return x->plan->brs[st->br];
    default: /* S_BR_END */
        return st->end;
    }
}

/* Resumes step i popped from the choice stack. */
static int redo(qexec *x, int i)
{
    const qstep *st = &x->plan->steps[i];
    qstate *s = &x->st[i];
    switch (st->kind) {
    case S_SCAN:
        return scan_next(x, i, s);
    case S_PATH:
        return path_next(x, i, s);
    case S_OPT:
        if (s->found)
            return R_FAIL;
        s->found = 1; /* the row without the optional part, once */
        return st->end + 1;
    case S_NOT:
        return st->end + 1; /* no match inside: the row stands */
    case S_BIND:
        unbind(x, s);
        s->nb = 0;
        return R_FAIL;
    case S_UNION:
        if (++s->branch >= st->nbr)
            return R_FAIL;
        x->choice[x->nchoice++] = i;
        return x->plan->brs[st->br + s->branch];
    default:
        return R_FAIL;
    }
}

/* Runs until a solution (LORE_OK), the end, or an error.  In count mode,
 * a last scan is counted from the index instead of enumerated. */
static int loop(qexec *x)
{
    const qplan *pl = x->plan;
    int ns = pl->nsteps;
    if (x->done)
        return LORE_DONE;
    if (x->kb->st.version != x->version)
        return changed(x);
    int pc = x->pc, mode = x->started ? BACK : ENTER;
    x->started = 1;
    for (;;) {
        if (--x->checks <= 0) {
            x->checks = 1024;
            if (ctx_interrupted(&x->kb->ctx)) {
                x->done = 1;
                return LORE_ERR_INTERRUPT;
            }
        }
        int r;
        if (mode == ENTER) {
            if (pc == ns) {
                if (!x->count_mode) {
                    x->pc = pc;
                    return LORE_OK;
                }
                x->counted++;
                mode = BACK;
                continue;
            }
            if (x->count_mode && pc == ns - 1 && pl->steps[pc].kind == S_SCAN &&
                !pl->steps[pc].delta) {
                qstate *s = &x->st[pc];
                int known = scan_setup(x, &x->prog->nodes[pl->steps[pc].node], s);
                if (!known || s->neq == 0) {
                    uint64_t c = 0;
                    int rc = known ? store_count(&x->kb->st, s->key[0], s->key[1], s->key[2], &c)
                                   : LORE_OK;
                    if (rc != LORE_OK) {
                        x->done = 1;
                        return rc;
                    }
                    x->counted += c;
                    mode = BACK;
                    continue;
                }
            }
            r = enter(x, pc);
        } else {
            if (x->nchoice == 0) {
                x->done = 1;
                return LORE_DONE;
            }
            pc = x->choice[--x->nchoice];
            r = redo(x, pc);
        }
        if (r == R_FAIL) {
            mode = BACK;
        } else if (r < 0) {
            x->done = 1;
            if (r == LORE_ERR_NOMEM)
                ctx_nomem(&x->kb->ctx);
            return r;
        } else {
            pc = r;
            mode = ENTER;
        }
    }
}

int qexec_next(qexec *x)
{
    return loop(x);
}

int qexec_count(qexec *x, uint64_t *n)
{
    x->count_mode = 1;
    x->counted = 0;
    int rc = loop(x);
    x->count_mode = 0;
    *n = x->counted;
    return rc == LORE_DONE ? LORE_OK : rc;
}
