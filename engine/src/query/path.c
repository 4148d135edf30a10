/* path.c - property paths: compiling expressions to automata, adjacency
 * caches, and breadth-first walks (see path.h). */
#include "path.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* automata                                                           */

enum { MAX_STATES = 65535 };

typedef struct edge {
    int from, to;
    uint32_t pred;
    int inv, eps;
} edge;

typedef struct builder {
    const mem *m;
    const pnode *nodes;
    edge *e;
    size_t ne, cap;
    int nstates;
    int failed; /* a status when building failed */
} builder;

static int new_state(builder *b)
{
    if (b->nstates >= MAX_STATES) {
        b->failed = LORE_ERR_LIMIT;
        return 0;
    }
    return b->nstates++;
}

static void add_edge(builder *b, int from, int to, uint32_t pred, int inv, int eps)
{
    if (b->failed)
        return;
    if (mem_reserve(b->m, (void **)&b->e, &b->cap, b->ne + 1, sizeof *b->e) != 0) {
        b->failed = LORE_ERR_NOMEM;
        return;
    }
    edge *x = &b->e[b->ne++];
    x->from = from, x->to = to, x->pred = pred, x->inv = inv, x->eps = eps;
}

/* Thompson's construction: a fragment from *s to *e for node i. */
static void frag(builder *b, int i, int inv, int *s, int *e)
{
    const pnode *n = &b->nodes[i];
    int s1, e1, s2, e2;
    *s = new_state(b);
    *e = new_state(b);
    if (b->failed)
        return;
    switch (n->op) {
    case P_PRED:
        /* a predicate that is no term has no edges: no transition at all
         * (a label of 0 would read as any predicate) */
        if (n->any || n->pred)
            add_edge(b, *s, *e, n->any ? 0 : n->pred, inv, 0);
        break;
    case P_INV:
        frag(b, n->a, !inv, &s1, &e1);
        add_edge(b, *s, s1, 0, 0, 1);
        add_edge(b, e1, *e, 0, 0, 1);
        break;
    case P_SEQ:
        /* the inverse of a/b is ^b/^a */
        frag(b, inv ? n->b : n->a, inv, &s1, &e1);
        frag(b, inv ? n->a : n->b, inv, &s2, &e2);
        add_edge(b, *s, s1, 0, 0, 1);
        add_edge(b, e1, s2, 0, 0, 1);
        add_edge(b, e2, *e, 0, 0, 1);
        break;
    case P_ALT:
        frag(b, n->a, inv, &s1, &e1);
        frag(b, n->b, inv, &s2, &e2);
        add_edge(b, *s, s1, 0, 0, 1);
        add_edge(b, *s, s2, 0, 0, 1);
        add_edge(b, e1, *e, 0, 0, 1);
        add_edge(b, e2, *e, 0, 0, 1);
        break;
    default: /* P_PLUS, P_STAR, P_OPT */
        frag(b, n->a, inv, &s1, &e1);
        add_edge(b, *s, s1, 0, 0, 1);
        add_edge(b, e1, *e, 0, 0, 1);
        if (n->op != P_OPT)
            add_edge(b, e1, s1, 0, 0, 1);
        if (n->op != P_PLUS)
            add_edge(b, *s, *e, 0, 0, 1);
        break;
    }
}

void pnfa_free(const mem *m, pnfa *a)
{
    mem_free(m, a->accept, (size_t)a->nstates, 1);
    mem_free(m, a->toff, (size_t)a->nstates + 1, sizeof *a->toff);
    mem_free(m, a->trans, a->transcap, sizeof *a->trans);
    mem_free(m, a->labels, (size_t)a->nlabels, sizeof *a->labels);
    memset(a, 0, sizeof *a);
}

static int cmp_trans(const ptrans *x, const ptrans *y)
{
    if (x->pred != y->pred)
        return x->pred < y->pred ? -1 : 1;
    if (x->inv != y->inv)
        return x->inv < y->inv ? -1 : 1;
    return (x->to > y->to) - (x->to < y->to);
}

static int cmp_trans_q(const void *x, const void *y)
{
    return cmp_trans(x, y);
}

#define HAS(c, x) ((c)[(x) >> 6] >> ((x) & 63) & 1)

int pnfa_build(const mem *m, const pnode *nodes, int root, int inv, pnfa *a)
{
    builder b = {m, nodes, NULL, 0, 0, 0, 0};
    int rc = LORE_OK;
    uint64_t *clos = NULL; /* a row of bits per state */
    uint8_t *reach = NULL;
    int *stack = NULL, *renum = NULL, *eoff = NULL, *eto = NULL;
    ptrans *tr = NULL;
    size_t ntr = 0, trcap = 0;
    int s, e, n = 0;
    memset(a, 0, sizeof *a);
    frag(&b, root, inv, &s, &e);
    if (b.failed) {
        rc = b.failed;
        goto cleanup;
    }
    n = b.nstates;
    /* epsilon closures, as an n x n matrix of bits, each a search over the
     * epsilon edges grouped by state (a scan of every edge per step cost
     * n^2 edges a closure: 400 nested stars took seconds) */
    size_t w = ((size_t)n + 63) / 64;
    clos = mem_calloc(m, (size_t)n * w, sizeof *clos);
    stack = mem_alloc(m, (size_t)n + 1, sizeof *stack);
    reach = mem_calloc(m, (size_t)n, 1);
    renum = mem_alloc(m, (size_t)n, sizeof *renum);
    eoff = mem_calloc(m, (size_t)n + 1, sizeof *eoff);
    eto = mem_alloc(m, b.ne + 1, sizeof *eto);
    TRY_PTR(clos);
    TRY_PTR(stack);
    TRY_PTR(reach);
    TRY_PTR(renum);
    TRY_PTR(eoff);
    TRY_PTR(eto);
    for (size_t i = 0; i < b.ne; i++)
        if (b.e[i].eps)
            eoff[b.e[i].from + 1]++;
    for (int q = 0; q < n; q++)
        eoff[q + 1] += eoff[q];
    memcpy(stack, eoff, (size_t)n * sizeof *stack); /* (next free slot per state) */
    for (size_t i = 0; i < b.ne; i++)
        if (b.e[i].eps)
            eto[stack[b.e[i].from]++] = b.e[i].to;
    for (int q = 0; q < n; q++) {
        uint64_t *c = clos + (size_t)q * w;
        int top = 0;
        c[q >> 6] |= (uint64_t)1 << (q & 63);
        stack[top++] = q;
        while (top) {
            int x = stack[--top];
            for (int k = eoff[x]; k < eoff[x + 1]; k++)
                if (!HAS(c, eto[k])) {
                    c[eto[k] >> 6] |= (uint64_t)1 << (eto[k] & 63);
                    stack[top++] = eto[k];
                }
        }
    }
    /* states reachable from s through labelled edges */
    int top = 0;
    reach[s] = 1;
    stack[top++] = s;
    while (top) {
        int x = stack[--top];
        const uint64_t *c = clos + (size_t)x * w;
        for (size_t i = 0; i < b.ne; i++) {
            if (!b.e[i].eps && HAS(c, b.e[i].from) && !reach[b.e[i].to]) {
                reach[b.e[i].to] = 1;
                stack[top++] = b.e[i].to;
            }
        }
    }
    int ns = 0;
    renum[s] = ns++;
    for (int q = 0; q < n; q++)
        if (reach[q] && q != s)
            renum[q] = ns++;
    for (int q = 0; q < n; q++) /* stack[] now maps new state -> old */
        if (reach[q])
            stack[renum[q]] = q;
    a->nstates = ns;
    a->accept = mem_calloc(m, (size_t)ns, 1);
    a->toff = mem_calloc(m, (size_t)ns + 1, sizeof *a->toff);
    TRY_PTR(a->accept);
    TRY_PTR(a->toff);
    for (int nq = 0; nq < ns; nq++) {
        int q = stack[nq];
        const uint64_t *c = clos + (size_t)q * w;
        a->accept[nq] = (uint8_t)HAS(c, e);
        a->toff[nq] = (int)ntr;
        size_t first = ntr;
        for (size_t i = 0; i < b.ne; i++) {
            const edge *x = &b.e[i];
            if (x->eps || !HAS(c, x->from))
                continue;
            if (mem_reserve(m, (void **)&tr, &trcap, ntr + 1, sizeof *tr) != 0) {
                rc = LORE_ERR_NOMEM;
                goto cleanup;
            }
            tr[ntr++] = (ptrans){x->pred, (uint16_t)x->inv, (uint16_t)renum[x->to], 0};
        }
        /* the state's transitions sorted, each once (an insertion sort
         * was quadratic in a state's transitions: (a|b|...)* has many) */
        if (ntr - first > 1) {
            qsort(tr + first, ntr - first, sizeof *tr, cmp_trans_q);
            size_t kept = first + 1;
            for (size_t i = first + 1; i < ntr; i++)
                if (cmp_trans(&tr[i], &tr[kept - 1]) != 0)
                    tr[kept++] = tr[i];
            ntr = kept;
        }
    }
    a->toff[ns] = (int)ntr;
    a->trans = tr;
    a->ntrans = (int)ntr;
    a->transcap = trcap;
    tr = NULL;
    trcap = 0;
    /* labels */
    for (int i = 0; i < a->ntrans; i++) {
        ptrans *t = &a->trans[i];
        int l;
        for (l = 0; l < a->nlabels; l++)
            if (a->labels[l].pred == t->pred && a->labels[l].inv == t->inv)
                break;
        if (l == a->nlabels) {
            plabel *nl = a->labels;
            if (mem_resize(m, (void **)&nl, (size_t)a->nlabels, (size_t)a->nlabels + 1,
                           sizeof *nl) != 0) {
                rc = LORE_ERR_NOMEM;
                goto cleanup;
            }
            a->labels = nl;
            a->labels[a->nlabels].pred = t->pred;
            a->labels[a->nlabels].inv = t->inv;
            a->nlabels++;
        }
        t->label = (uint16_t)l;
    }
cleanup:
    mem_free(m, b.e, b.cap, sizeof *b.e);
    mem_free(m, eoff, (size_t)n + 1, sizeof *eoff);
    mem_free(m, eto, b.ne + 1, sizeof *eto);
    mem_free(m, clos, (size_t)n * (((size_t)n + 63) / 64), sizeof *clos);
    mem_free(m, stack, (size_t)n + 1, sizeof *stack);
    mem_free(m, reach, (size_t)n, 1);
    mem_free(m, renum, (size_t)n, sizeof *renum);
    mem_free(m, tr, trcap, sizeof *tr);
    if (rc != LORE_OK)
        pnfa_free(m, a);
    return rc;
}

int pnfa_edges(store *st, const pnfa *a, uint64_t *n)
{
    *n = 0;
    for (int l = 0; l < a->nlabels; l++) {
        int seen = 0;
        for (int k = 0; k < l; k++)
            seen |= a->labels[k].pred == a->labels[l].pred;
        if (seen)
            continue;
        uint64_t c;
        int rc = store_count(st, 0, a->labels[l].pred, 0, &c);
        if (rc != LORE_OK)
            return rc;
        *n += c;
    }
    return LORE_OK;
}

/* ------------------------------------------------------------------ */
/* adjacency graphs                                                   */

void pgraph_free(const mem *m, pgraph *g)
{
    mem_free(m, g->ids, g->idcap, sizeof *g->ids);
    mem_free(m, g->slot, g->nslot, sizeof *g->slot);
    if (g->off) { /* off, adj and nadj come and go together */
        for (int l = 0; l < g->nlabels; l++) {
            mem_free(m, g->off[l], (size_t)g->n + 1, sizeof *g->off[l]);
            mem_free(m, g->adj[l], g->nadj[l], sizeof *g->adj[l]);
        }
        mem_free(m, g->off, (size_t)g->nlabels + 1, sizeof *g->off);
        mem_free(m, g->adj, (size_t)g->nlabels + 1, sizeof *g->adj);
        mem_free(m, g->nadj, (size_t)g->nlabels + 1, sizeof *g->nadj);
    }
    memset(g, 0, sizeof *g);
}

/* Dense index of term id, or UINT32_MAX. */
static uint32_t dense_of(const pgraph *g, uint32_t id)
{
    if (!g->nslot)
        return UINT32_MAX;
    uint32_t mask = g->nslot - 1, i = (uint32_t)hash_mix(id) & mask;
    for (;;) {
        uint32_t v = g->slot[i];
        if (v == 0)
            return UINT32_MAX;
        if (g->ids[v - 1] == id)
            return v - 1;
        i = (i + 1) & mask;
    }
}

typedef struct idvec {
    uint32_t *v;
    size_t n, cap;
} idvec;

static int push2(const mem *m, idvec *x, uint32_t a, uint32_t b)
{
    if (mem_reserve(m, (void **)&x->v, &x->cap, x->n + 2, sizeof *x->v) != 0)
        return LORE_ERR_NOMEM;
    x->v[x->n++] = a;
    x->v[x->n++] = b;
    return LORE_OK;
}

/* Adds id to the dense map (g->ids has room for cap ids, slot for nslot). */
static uint32_t dense_add(pgraph *g, uint32_t id)
{
    uint32_t mask = g->nslot - 1, i = (uint32_t)hash_mix(id) & mask;
    for (;;) {
        uint32_t v = g->slot[i];
        if (v == 0) {
            g->ids[g->n] = id;
            g->slot[i] = ++g->n;
            return g->n - 1;
        }
        if (g->ids[v - 1] == id)
            return v - 1;
        i = (i + 1) & mask;
    }
}

int pgraph_build(lore_kb *kb, const pnfa *a, pgraph *g)
{
    const mem *m = &kb->m;
    store *st = &kb->st;
    int rc = LORE_OK;
    int nl = a->nlabels;
    idvec *pairs = NULL; /* per label: (s, o) term ids, shared by labels of one predicate */
    uint32_t *buf = NULL;
    enum { BUF = 512 };
    memset(g, 0, sizeof *g);
    pairs = mem_calloc(m, nl ? (size_t)nl : 1, sizeof *pairs);
    buf = mem_alloc(m, 3 * BUF, sizeof *buf);
    TRY_PTR(pairs);
    TRY_PTR(buf);
    size_t total = 0;
    for (int l = 0; l < nl; l++) {
        int same = -1;
        for (int k = 0; k < l; k++)
            if (a->labels[k].pred == a->labels[l].pred)
                same = k;
        if (same >= 0)
            continue;
        store_iter it;
        TRY(store_iter_init(st, &it, 0, a->labels[l].pred, 0));
        size_t n;
        int r;
        while ((r = store_iter_read(&it, buf, BUF, &n)) == LORE_OK) {
            for (size_t i = 0; i < n; i++)
                TRY(push2(m, &pairs[l], buf[3 * i], buf[3 * i + 2]));
            if (ctx_interrupted(&kb->ctx)) {
                rc = LORE_ERR_INTERRUPT;
                goto cleanup;
            }
        }
        if (r < 0) {
            rc = r;
            goto cleanup;
        }
        total += pairs[l].n;
    }
    /* dense numbering of every endpoint */
    uint32_t nslot = 16;
    while (nslot < total * 2 + 16) /* total counts 2 ids per fact */
        nslot *= 2;
    g->nslot = nslot;
    g->slot = mem_calloc(m, nslot, sizeof *g->slot);
    g->idcap = total ? total : 1;
    g->ids = mem_alloc(m, g->idcap, sizeof *g->ids);
    TRY_PTR(g->slot);
    TRY_PTR(g->ids);
    for (int l = 0; l < nl; l++) {
        uint32_t *v = pairs[l].v;
        for (size_t i = 0; i < pairs[l].n; i++)
            v[i] = dense_add(g, v[i]);
    }
    {
        uint32_t **off = mem_calloc(m, (size_t)nl + 1, sizeof *off);
        uint32_t **adj = mem_calloc(m, (size_t)nl + 1, sizeof *adj);
        size_t *nadj = mem_calloc(m, (size_t)nl + 1, sizeof *nadj);
        if (!off || !adj || !nadj) {
            mem_free(m, off, (size_t)nl + 1, sizeof *off);
            mem_free(m, adj, (size_t)nl + 1, sizeof *adj);
            mem_free(m, nadj, (size_t)nl + 1, sizeof *nadj);
            rc = LORE_ERR_NOMEM;
            goto cleanup;
        }
        g->off = off, g->adj = adj, g->nadj = nadj, g->nlabels = nl;
    }
    for (int l = 0; l < nl; l++) {
        int src = l;
        for (int k = 0; k < l; k++)
            if (a->labels[k].pred == a->labels[l].pred)
                src = k;
        const idvec *pv = &pairs[src];
        size_t ne = pv->n / 2;
        int inv = a->labels[l].inv;
        uint32_t *off = mem_calloc(m, (size_t)g->n + 1, sizeof *off);
        TRY_PTR(off);
        g->off[l] = off;
        uint32_t *adj = mem_alloc(m, ne ? ne : 1, sizeof *adj);
        TRY_PTR(adj);
        g->adj[l] = adj;
        g->nadj[l] = ne ? ne : 1;
        for (size_t i = 0; i < ne; i++)
            off[pv->v[2 * i + inv] + 1]++;
        for (uint32_t i = 0; i < g->n; i++)
            off[i + 1] += off[i];
        /* counting sort; off[] is shifted by one slot during the scatter */
        for (size_t i = 0; i < ne; i++) {
            uint32_t from = pv->v[2 * i + inv], to = pv->v[2 * i + !inv];
            adj[off[from]++] = to;
        }
        for (uint32_t i = g->n; i > 0; i--)
            off[i] = off[i - 1];
        off[0] = 0;
    }
    g->version = st->version;
cleanup:
    if (pairs) {
        for (int l = 0; l < nl; l++)
            mem_free(m, pairs[l].v, pairs[l].cap, sizeof *pairs[l].v);
        mem_free(m, pairs, nl ? (size_t)nl : 1, sizeof *pairs);
    }
    mem_free(m, buf, 3 * BUF, sizeof *buf);
    if (rc != LORE_OK)
        pgraph_free(m, g);
    return rc;
}

int pgraph_starts(const mem *m, const pnfa *a, const pgraph *g, pout *out)
{
    uint8_t *mark = g->n ? mem_calloc(m, g->n, 1) : NULL;
    if (g->n && !mark)
        return LORE_ERR_NOMEM;
    int rc = LORE_OK;
    for (uint32_t v = 0; v < g->n; v++) {
        int ok = a->accept[0];
        for (int i = a->toff[0]; i < a->toff[1] && !ok; i++) {
            int l = a->trans[i].label;
            ok = g->off[l][v + 1] > g->off[l][v];
        }
        if (!ok || mark[v])
            continue;
        mark[v] = 1;
        if (mem_reserve(m, (void **)&out->node, &out->ncap, out->n + 1, sizeof *out->node) != 0) {
            rc = LORE_ERR_NOMEM;
            break;
        }
        out->node[out->n++] = g->ids[v];
    }
    mem_free(m, mark, g->n, 1);
    return rc;
}

/* ------------------------------------------------------------------ */
/* walks                                                              */

void pwalk_init(pwalk *w, lore_kb *kb)
{
    memset(w, 0, sizeof *w);
    w->kb = kb;
    w->m = &kb->m;
}

void pwalk_free(pwalk *w)
{
    const mem *m = w->m;
    if (!m)
        return;
    mem_free(m, w->vkey, w->vcap, sizeof *w->vkey);
    mem_free(m, w->vgen, w->vcap, sizeof *w->vgen);
    mem_free(m, w->rkey, w->rcap, sizeof *w->rkey);
    mem_free(m, w->rgen, w->rcap, sizeof *w->rgen);
    mem_free(m, w->dstamp, w->dcap, sizeof *w->dstamp);
    mem_free(m, w->rstamp, w->rscap, sizeof *w->rstamp);
    mem_free(m, w->queue, w->qcap, sizeof *w->queue);
    mem_free(m, w->nbuf, w->nbcap, sizeof *w->nbuf);
    memset(w, 0, sizeof *w);
}

/* Inserts key into a generation-stamped set; 1 if it was new, 0 if
 * present, -1 out of memory. */
static int set_put(const mem *m, uint64_t **keys, uint32_t **gens, size_t *cap, size_t *n,
                   uint32_t gen, uint64_t key)
{
    if ((*n + 1) * 2 > *cap) {
        size_t nc = *cap ? *cap * 2 : 256;
        uint64_t *nk = mem_alloc(m, nc, sizeof *nk);
        uint32_t *ng = mem_calloc(m, nc, sizeof *ng);
        if (!nk || !ng) {
            mem_free(m, nk, nc, sizeof *nk);
            mem_free(m, ng, nc, sizeof *ng);
            return -1;
        }
        for (size_t i = 0; i < *cap; i++) {
            if ((*gens)[i] != gen)
                continue;
            size_t j = hash_mix((*keys)[i]) & (nc - 1);
            while (ng[j] == gen)
                j = (j + 1) & (nc - 1);
            nk[j] = (*keys)[i];
            ng[j] = gen;
        }
        mem_free(m, *keys, *cap, sizeof **keys);
        mem_free(m, *gens, *cap, sizeof **gens);
        *keys = nk, *gens = ng, *cap = nc;
    }
    size_t mask = *cap - 1, j = hash_mix(key) & mask;
    while ((*gens)[j] == gen) {
        if ((*keys)[j] == key)
            return 0;
        j = (j + 1) & mask;
    }
    (*keys)[j] = key;
    (*gens)[j] = gen;
    (*n)++;
    return 1;
}

static int push_q(pwalk *w, size_t *qn, uint32_t node, uint32_t state, uint32_t depth)
{
    if (mem_reserve(w->m, (void **)&w->queue, &w->qcap, *qn + 3, sizeof *w->queue) != 0)
        return LORE_ERR_NOMEM;
    w->queue[(*qn)++] = node;
    w->queue[(*qn)++] = state;
    w->queue[(*qn)++] = depth;
    return LORE_OK;
}

void pout_free(const mem *m, pout *o)
{
    mem_free(m, o->node, o->ncap, sizeof *o->node);
    mem_free(m, o->depth, o->dcap, sizeof *o->depth);
    o->node = o->depth = NULL;
    o->n = o->ncap = o->dcap = 0;
}

static int emit(pwalk *w, uint32_t node, uint32_t depth, pout *o)
{
    if (mem_reserve(w->m, (void **)&o->node, &o->ncap, o->n + 1, sizeof *o->node) != 0)
        return LORE_ERR_NOMEM;
    if (o->want_depth &&
        mem_reserve(w->m, (void **)&o->depth, &o->dcap, o->n + 1, sizeof *o->depth) != 0)
        return LORE_ERR_NOMEM;
    o->node[o->n] = node;
    if (o->want_depth)
        o->depth[o->n] = depth;
    o->n++;
    return LORE_OK;
}

/* The neighbours of node through one label, from the store, into w->nbuf. */
static int neighbours(pwalk *w, const plabel *lb, uint32_t node, size_t *nn)
{
    store_iter it;
    uint32_t s = lb->inv ? 0 : node, o = lb->inv ? node : 0;
    int rc = store_iter_init(&w->kb->st, &it, s, lb->pred, o);
    *nn = 0;
    if (rc != LORE_OK)
        return rc;
    uint32_t t[3 * 64];
    size_t n;
    while ((rc = store_iter_read(&it, t, 64, &n)) == LORE_OK) {
        if (mem_reserve(w->m, (void **)&w->nbuf, &w->nbcap, *nn + n, sizeof *w->nbuf) != 0)
            return LORE_ERR_NOMEM;
        for (size_t i = 0; i < n; i++)
            w->nbuf[(*nn)++] = t[3 * i + (lb->inv ? 0 : 2)];
    }
    w->lookups++;
    return rc == LORE_DONE ? LORE_OK : rc;
}

static int interrupted(pwalk *w)
{
    if (--w->checks > 0)
        return 0;
    w->checks = 4096;
    return ctx_interrupted(&w->kb->ctx);
}

static void next_gen(pwalk *w)
{
    if (++w->gen == 0) {
        if (w->vgen)
            memset(w->vgen, 0, w->vcap * sizeof *w->vgen);
        if (w->rgen)
            memset(w->rgen, 0, w->rcap * sizeof *w->rgen);
        if (w->dstamp)
            memset(w->dstamp, 0, (size_t)w->dcap * sizeof *w->dstamp);
        if (w->rstamp)
            memset(w->rstamp, 0, (size_t)w->rscap * sizeof *w->rstamp);
        w->gen = 1;
    }
    w->vn = w->rn = 0;
}

/* A walk over the store's indexes. */
static int walk_index(pwalk *w, const pnfa *a, uint32_t start, uint32_t target, uint32_t maxd,
                      pout *out, int *found)
{
    const mem *m = w->m;
    size_t qn = 0, qh = 0;
    int rc;
    if (set_put(m, &w->vkey, &w->vgen, &w->vcap, &w->vn, w->gen, (uint64_t)start << 16) < 0)
        return LORE_ERR_NOMEM;
    if (a->accept[0]) {
        if (target) {
            if (start == target) {
                *found = 1;
                return LORE_OK;
            }
        } else {
            if (set_put(m, &w->rkey, &w->rgen, &w->rcap, &w->rn, w->gen, start) < 0)
                return LORE_ERR_NOMEM;
            if ((rc = emit(w, start, 0, out)) != LORE_OK)
                return rc;
        }
    }
    if ((rc = push_q(w, &qn, start, 0, 0)) != LORE_OK)
        return rc;
    while (qh < qn) {
        uint32_t node = w->queue[qh], q = w->queue[qh + 1], d = w->queue[qh + 2];
        qh += 3;
        if (d >= maxd)
            continue;
        if (interrupted(w))
            return LORE_ERR_INTERRUPT;
        for (int i = a->toff[q]; i < a->toff[q + 1]; i++) {
            const ptrans *t = &a->trans[i];
            size_t nn;
            if ((rc = neighbours(w, &a->labels[t->label], node, &nn)) != LORE_OK)
                return rc;
            for (size_t k = 0; k < nn; k++) {
                uint32_t v = w->nbuf[k];
                int r = set_put(m, &w->vkey, &w->vgen, &w->vcap, &w->vn, w->gen,
                                (uint64_t)v << 16 | t->to);
                if (r < 0)
                    return LORE_ERR_NOMEM;
                if (r == 0)
                    continue;
                if (a->accept[t->to]) {
                    if (target) {
                        if (v == target) {
                            *found = 1;
                            return LORE_OK;
                        }
                    } else {
                        r = set_put(m, &w->rkey, &w->rgen, &w->rcap, &w->rn, w->gen, v);
                        if (r < 0)
                            return LORE_ERR_NOMEM;
                        if (r && (rc = emit(w, v, d + 1, out)) != LORE_OK)
                            return rc;
                    }
                }
                if ((rc = push_q(w, &qn, v, t->to, d + 1)) != LORE_OK)
                    return rc;
            }
        }
    }
    return LORE_OK;
}

/* A walk over a graph: dense nodes, stamp arrays. */
static int walk_graph(pwalk *w, const pnfa *a, const pgraph *g, uint32_t start, uint32_t target,
                      uint32_t maxd, pout *out, int *found)
{
    const mem *m = w->m;
    int rc;
    uint32_t ns = (uint32_t)a->nstates;
    if ((uint64_t)g->n * ns > UINT32_MAX)
        return walk_index(w, a, start, target, maxd, out, found);
    uint32_t need = g->n * ns;
    if (w->dcap < need) {
        uint32_t *d = w->dstamp;
        if (mem_resize(m, (void **)&d, w->dcap, need, sizeof *d) != 0)
            return LORE_ERR_NOMEM;
        memset(d + w->dcap, 0, (size_t)(need - w->dcap) * sizeof *d);
        w->dstamp = d, w->dcap = need;
    }
    if (w->rscap < g->n) {
        uint32_t *r = w->rstamp;
        if (mem_resize(m, (void **)&r, w->rscap, g->n, sizeof *r) != 0)
            return LORE_ERR_NOMEM;
        memset(r + w->rscap, 0, (size_t)(g->n - w->rscap) * sizeof *r);
        w->rstamp = r, w->rscap = g->n;
    }
    uint32_t gen = w->gen, *vis = w->dstamp, *rep = w->rstamp;
    if (a->accept[0]) {
        if (target) {
            if (start == target) {
                *found = 1;
                return LORE_OK;
            }
        } else if ((rc = emit(w, start, 0, out)) != LORE_OK) {
            return rc;
        }
    }
    uint32_t s = dense_of(g, start);
    if (s == UINT32_MAX)
        return LORE_OK; /* no edge touches it */
    if (a->accept[0])
        rep[s] = gen;
    uint32_t dt = target ? dense_of(g, target) : UINT32_MAX;
    if (target && dt == UINT32_MAX)
        return LORE_OK;
    size_t qn = 0, qh = 0;
    vis[s * ns] = gen;
    if ((rc = push_q(w, &qn, s, 0, 0)) != LORE_OK)
        return rc;
    while (qh < qn) {
        uint32_t node = w->queue[qh], q = w->queue[qh + 1], d = w->queue[qh + 2];
        qh += 3;
        if (d >= maxd)
            continue;
        if (interrupted(w))
            return LORE_ERR_INTERRUPT;
        for (int i = a->toff[q]; i < a->toff[q + 1]; i++) {
            const ptrans *t = &a->trans[i];
            const uint32_t *off = g->off[t->label], *adj = g->adj[t->label];
            int acc = a->accept[t->to];
            for (uint32_t k = off[node]; k < off[node + 1]; k++) {
                uint32_t v = adj[k];
                uint32_t *vs = &vis[v * ns + t->to];
                if (*vs == gen)
                    continue;
                *vs = gen;
                if (acc) {
                    if (target) {
                        if (v == dt) {
                            *found = 1;
                            return LORE_OK;
                        }
                    } else if (rep[v] != gen) {
                        rep[v] = gen;
                        if ((rc = emit(w, g->ids[v], d + 1, out)) != LORE_OK)
                            return rc;
                    }
                }
                if (qn + 3 > w->qcap &&
                    mem_reserve(m, (void **)&w->queue, &w->qcap, qn + 3, sizeof *w->queue) != 0)
                    return LORE_ERR_NOMEM;
                w->queue[qn++] = v;
                w->queue[qn++] = t->to;
                w->queue[qn++] = d + 1;
            }
        }
    }
    return LORE_OK;
}

int pwalk_run(pwalk *w, const pnfa *a, const pgraph *g, uint32_t start, uint32_t target,
              uint32_t max_depth, pout *out, int *found)
{
    *found = 0;
    next_gen(w);
    int rc = g ? walk_graph(w, a, g, start, target, max_depth, out, found)
               : walk_index(w, a, start, target, max_depth, out, found);
    if (rc == LORE_ERR_NOMEM)
        ctx_nomem(&w->kb->ctx);
    return rc;
}
