/* rules.c - rules: the text form, checks when a rule is added,
 * stratification, triggers, and the public API of rules, inference and
 * explanations (see rules.h; evaluation is in infer.c, proofs in why.c). */
#define LORE_BUILDING 1
#include "rules.h"

#include <stdio.h>
#include <string.h>

#include "change.h"
#include "sort.h"

/* ------------------------------------------------------------------ */
/* sets and vectors of triples                                        */

/* The slot holding t, or the free one where it would go, from slot i on. */
static inline size_t tslot_from(const tset *s, const uint32_t t[3], size_t i)
{
    size_t mask = s->cap - 1;
    for (;;) {
        const uint32_t *e = s->t + 3 * i;
        if (e[0] == 0 || (e[0] == t[0] && e[1] == t[1] && e[2] == t[2]))
            return i;
        i = (i + 1) & mask;
    }
}

static size_t tslot(const tset *s, const uint32_t t[3])
{
    return tslot_from(s, t, hash_triple(t[0], t[1], t[2]) & (s->cap - 1));
}

/* The home slots of a batch of k triples, each fetched before any is
 * probed: a large set misses the cache on nearly every probe, and the
 * misses then overlap. */
static void tset_homes(const tset *s, const uint32_t *t, size_t k, size_t *home, int write)
{
    size_t mask = s->cap - 1;
    for (size_t j = 0; j < k; j++) {
        home[j] = hash_triple(t[3 * j], t[3 * j + 1], t[3 * j + 2]) & mask;
#if defined(__GNUC__)
        if (write)
            __builtin_prefetch(s->t + 3 * home[j], 1);
        else
            __builtin_prefetch(s->t + 3 * home[j]);
#else
        (void)write;
#endif
    }
}

/* Makes room for `more` triples at a load of at most a half. */
static int tset_grow(const mem *m, tset *s, size_t more)
{
    if ((s->n + more) * 2 <= s->cap)
        return LORE_OK;
    size_t cap = s->cap ? s->cap * 2 : 64;
    while ((s->n + more) * 2 > cap)
        cap *= 2;
    uint32_t *nt = mem_calloc(m, cap, 3 * sizeof *nt);
    if (!nt)
        return LORE_ERR_NOMEM;
    tset old = *s;
    s->t = nt, s->cap = cap;
    for (size_t i = 0; i < old.cap; i++) {
        const uint32_t *e = old.t + 3 * i;
        if (e[0])
            memcpy(s->t + 3 * tslot(s, e), e, 3 * sizeof *e);
    }
    mem_free(m, old.t, old.cap, 3 * sizeof *old.t);
    return LORE_OK;
}

int tset_add(const mem *m, tset *s, const uint32_t t[3], int *isnew)
{
    if (tset_grow(m, s, 1) != LORE_OK)
        return LORE_ERR_NOMEM;
    size_t i = tslot(s, t);
    uint32_t *e = s->t + 3 * i;
    *isnew = e[0] == 0;
    if (*isnew) {
        memcpy(e, t, 3 * sizeof *t);
        s->n++;
    }
    return LORE_OK;
}

int tset_add_many(const mem *m, tset *s, const uint32_t *t, size_t k, size_t *added,
                  unsigned char *isnew)
{
    *added = 0;
    if (k > TSET_BATCH || tset_grow(m, s, k) != LORE_OK)
        return LORE_ERR_NOMEM;
    size_t home[TSET_BATCH];
    tset_homes(s, t, k, home, 1);
    for (size_t j = 0; j < k; j++) {
        const uint32_t *x = t + 3 * j;
        uint32_t *e = s->t + 3 * tslot_from(s, x, home[j]);
        int fresh = e[0] == 0;
        if (fresh) {
            memcpy(e, x, 3 * sizeof *x);
            s->n++, ++*added;
        }
        if (isnew)
            isnew[j] = (unsigned char)fresh;
    }
    return LORE_OK;
}

int tset_has(const tset *s, const uint32_t t[3])
{
    return s->n && s->t[3 * tslot(s, t)] != 0;
}

void tset_has_many(const tset *s, const uint32_t *t, size_t k, unsigned char *has)
{
    if (!s->n || k > TSET_BATCH) {
        for (size_t j = 0; j < k; j++)
            has[j] = (unsigned char)tset_has(s, t + 3 * j);
        return;
    }
    size_t home[TSET_BATCH];
    tset_homes(s, t, k, home, 0);
    for (size_t j = 0; j < k; j++)
        has[j] = s->t[3 * tslot_from(s, t + 3 * j, home[j])] != 0;
}

void tset_clear(tset *s)
{
    if (s->cap)
        memset(s->t, 0, s->cap * 3 * sizeof *s->t);
    s->n = 0;
}

void tset_free(const mem *m, tset *s)
{
    mem_free(m, s->t, s->cap, 3 * sizeof *s->t);
    s->t = NULL, s->n = s->cap = 0;
}

int slots_grow(const mem *m, uint64_t **slots, size_t *cap, size_t need)
{
    size_t big = (size_t)1 << 22, ncap = *cap ? *cap : 256;
    while (ncap < need)
        ncap *= ncap >= 65536 && ncap < big ? 4 : 2;
    if (ncap == *cap)
        return LORE_OK;
    uint64_t *ns = mem_calloc(m, ncap, sizeof *ns);
    if (!ns)
        return LORE_ERR_NOMEM;
    for (size_t i = 0; i < *cap; i++) {
        uint64_t e = (*slots)[i];
        if (!e)
            continue;
        size_t j = (size_t)(e >> 32) & (ncap - 1);
        while (ns[j])
            j = (j + 1) & (ncap - 1);
        ns[j] = e;
    }
    mem_free(m, *slots, *cap, sizeof **slots);
    *slots = ns, *cap = ncap;
    return LORE_OK;
}

static uint32_t rset_fp(const uint32_t t[3])
{
    return (uint32_t)(hash_triple(t[0], t[1], t[2]) >> 32);
}

/* Room for `more` triples at a load of at most a half. */
static int rset_grow(const mem *m, rset *s, size_t more)
{
    if (mem_reserve(m, (void **)&s->rows, &s->cap, 3 * (s->n + more), sizeof *s->rows) != 0)
        return LORE_ERR_NOMEM;
    size_t need = 2 * (s->n + more);
    return need <= s->scap ? LORE_OK : slots_grow(m, &s->slots, &s->scap, need);
}

/* The slot holding t, or the free one where it would go. */
static size_t rset_slot(const rset *s, const uint32_t t[3], uint32_t fp)
{
    size_t mask = s->scap - 1, i = fp & mask;
    for (;; i = (i + 1) & mask) {
        uint64_t e = s->slots[i];
        if (!e)
            return i;
        if ((uint32_t)(e >> 32) == fp) {
            const uint32_t *r = s->rows + 3 * ((e & 0xffffffffu) - 1);
            if (r[0] == t[0] && r[1] == t[1] && r[2] == t[2])
                return i;
        }
    }
}

static void rset_put(rset *s, size_t i, const uint32_t t[3], uint32_t fp)
{
    memcpy(s->rows + 3 * s->n++, t, 3 * sizeof *t);
    s->slots[i] = (uint64_t)fp << 32 | (uint32_t)s->n;
}

int rset_add(const mem *m, rset *s, const uint32_t t[3], int *isnew)
{
    if (s->n >= UINT32_MAX || rset_grow(m, s, 1) != LORE_OK)
        return LORE_ERR_NOMEM;
    uint32_t fp = rset_fp(t);
    size_t i = rset_slot(s, t, fp);
    *isnew = s->slots[i] == 0;
    if (*isnew)
        rset_put(s, i, t, fp);
    return LORE_OK;
}

int rset_add_many(const mem *m, rset *s, const uint32_t *t, size_t k, unsigned char *isnew)
{
    if (k > TSET_BATCH || s->n + k >= UINT32_MAX || rset_grow(m, s, k) != LORE_OK)
        return LORE_ERR_NOMEM;
    uint32_t fp[TSET_BATCH];
    for (size_t j = 0; j < k; j++)
        fp[j] = rset_fp(t + 3 * j);
    slots_prefetch(s->slots, s->scap, fp, k, s->rows, 3);
    for (size_t j = 0; j < k; j++) {
        size_t i = rset_slot(s, t + 3 * j, fp[j]);
        isnew[j] = s->slots[i] == 0;
        if (isnew[j])
            rset_put(s, i, t + 3 * j, fp[j]);
    }
    return LORE_OK;
}

int rset_has(const rset *s, const uint32_t t[3])
{
    return s->n && s->slots[rset_slot(s, t, rset_fp(t))] != 0;
}

void rset_has_many(const rset *s, const uint32_t *t, size_t k, unsigned char *has)
{
    if (!s->n || k > TSET_BATCH) {
        for (size_t j = 0; j < k; j++)
            has[j] = (unsigned char)rset_has(s, t + 3 * j);
        return;
    }
    uint32_t fp[TSET_BATCH];
    for (size_t j = 0; j < k; j++)
        fp[j] = rset_fp(t + 3 * j);
    slots_prefetch(s->slots, s->scap, fp, k, s->rows, 3);
    for (size_t j = 0; j < k; j++)
        has[j] = s->slots[rset_slot(s, t + 3 * j, fp[j])] != 0;
}

void rset_rows(const mem *m, rset *s, tvec *v)
{
    tvec_free(m, v);
    mem_free(m, s->slots, s->scap, sizeof *s->slots);
    *v = (tvec){s->rows, s->n, s->cap};
    memset(s, 0, sizeof *s);
}

void rset_free(const mem *m, rset *s)
{
    mem_free(m, s->rows, s->cap, sizeof *s->rows);
    mem_free(m, s->slots, s->scap, sizeof *s->slots);
    memset(s, 0, sizeof *s);
}

int tvec_push(const mem *m, tvec *v, const uint32_t t[3])
{
    if (mem_reserve(m, (void **)&v->t, &v->cap, 3 * (v->n + 1), sizeof *v->t) != 0)
        return LORE_ERR_NOMEM;
    memcpy(v->t + 3 * v->n++, t, 3 * sizeof *t);
    return LORE_OK;
}

int tvec_reserve(const mem *m, tvec *v, size_t rows)
{
    return mem_reserve(m, (void **)&v->t, &v->cap, 3 * rows, sizeof *v->t) != 0 ? LORE_ERR_NOMEM
                                                                                : LORE_OK;
}

void tvec_free(const mem *m, tvec *v)
{
    mem_free(m, v->t, v->cap, sizeof *v->t);
    v->t = NULL, v->n = v->cap = 0;
}

/* ------------------------------------------------------------------ */
/* the state                                                          */

rules *rules_get(lore_kb *kb)
{
    if (!kb->rules) {
        kb->rules = mem_calloc(&kb->m, 1, sizeof *kb->rules);
        if (!kb->rules) {
            ctx_nomem(&kb->ctx);
            return NULL;
        }
        kb->rules->next_id = 1;
        kb->rules->next_handle = 1;
        /* default names' numbers by stem: a hint, so a table that failed
         * to come costs only time */
        kb->rules->stemk = mem_calloc(&kb->m, 1024, sizeof *kb->rules->stemk);
        kb->rules->stemcap = kb->rules->stemk ? 1024 : 0;
    }
    return kb->rules;
}

static void rule_free(lore_kb *kb, rule *r)
{
    const mem *m = &kb->m;
    if (!r)
        return;
    rplan_free(m, &r->full);
    for (int i = 0; r->delta && i < r->nreads; i++)
        rplan_free(m, &r->delta[i]);
    for (int j = 0; r->check && j < r->nhead; j++) {
        rplan_free(m, &r->check[j]);
        if (r->checkbound)
            mem_free(m, r->checkbound[j], (size_t)r->prog->nvars + 1, 1);
    }
    for (int i = 0; r->slice && i < r->nreads; i++) {
        rplan_free(m, &r->slice[i]);
        mem_free(m, r->slicebound[i], (size_t)r->prog->nvars + 1, 1);
    }
    mem_free(m, r->slice, (size_t)r->nreads, sizeof *r->slice);
    mem_free(m, r->slicebound, (size_t)r->nreads, sizeof *r->slicebound);
    for (int i = 0; r->neg && i < r->nreads; i++) {
        rplan_free(m, &r->neg[i].pos);
        rplan_free(m, &r->neg[i].run);
        mem_free(m, r->neg[i].bound, (size_t)r->prog->nvars + 1, 1);
    }
    mem_free(m, r->neg, (size_t)r->nreads, sizeof *r->neg);
    mem_free(m, r->delta, (size_t)r->nreads, sizeof *r->delta);
    for (size_t i = 0; r->checklead && i < (size_t)r->nhead * (size_t)r->nreads; i++)
        rplan_free(m, &r->checklead[i]);
    mem_free(m, r->checklead, (size_t)r->nhead * (size_t)r->nreads, sizeof *r->checklead);
    mem_free(m, r->check, (size_t)r->nhead, sizeof *r->check);
    mem_free(m, r->checkbound, (size_t)r->nhead, sizeof *r->checkbound);
    for (int i = 0; i < r->nreads; i++)
        mem_free(m, r->reads[i].preds, (size_t)r->reads[i].npreds, sizeof *r->reads[i].preds);
    mem_free(m, r->reads, (size_t)r->nreads, sizeof *r->reads);
    mem_free(m, r->headcol, r->agg ? (size_t)r->prog->nvars + 1 : 0, sizeof *r->headcol);
    mem_free(m, r->head, (size_t)r->nhead, sizeof *r->head);
    mem_free(m, r->name, r->namelen + 1, 1);
    mem_free(m, r->text, r->textlen + 1, 1);
    lore_query_free(r->body);
    mem_free(m, r, 1, sizeof *r);
}

static void strata_free(lore_kb *kb, rules *R)
{
    for (int s = 0; s < R->nstrata; s++) {
        mem_free(&kb->m, R->strata[s].rules, (size_t)R->strata[s].nrules, sizeof(int));
        tset_free(&kb->m, &R->strata[s].multi);
    }
    mem_free(&kb->m, R->strata, (size_t)R->nstrata, sizeof *R->strata);
    R->strata = NULL, R->nstrata = 0;
}

void rules_free(lore_kb *kb)
{
    rules *R = kb->rules;
    if (!R)
        return;
    for (size_t i = 0; i < R->n; i++)
        rule_free(kb, R->v[i]);
    mem_free(&kb->m, R->v, R->cap, sizeof *R->v);
    strata_free(kb, R);
    mem_free(&kb->m, R->trig, R->trigcap, sizeof *R->trig);
    mem_free(&kb->m, R->nh, R->nhcap, sizeof *R->nh);
    mem_free(&kb->m, R->stemk, R->stemcap, sizeof *R->stemk);
    mem_free(&kb->m, R->pk, R->pcap, sizeof *R->pk);
    mem_free(&kb->m, R->ph, R->pcap, sizeof *R->ph);
    mem_free(&kb->m, R->pr, R->pcap, sizeof *R->pr);
    mem_free(&kb->m, R->round_t, R->round_cap, 3 * sizeof *R->round_t);
    mem_free(&kb->m, R, 1, sizeof *R);
    kb->rules = NULL;
}

int rules_sync_log(lore_kb *kb)
{
    rules *R = kb->rules;
    int want = R && (R->n > 0 || R->ntrig > 0);
    if (want == kb->st.clog_on)
        return LORE_OK;
    if (store_clog_enable(&kb->st, want) != LORE_OK)
        return ctx_nomem(&kb->ctx);
    return LORE_OK;
}

int rules_head_matches(const hterm h[3], const uint32_t t[3])
{
    for (int k = 0; k < 3; k++) {
        if (h[k].var < 0) {
            if (h[k].id != t[k])
                return 0;
            continue;
        }
        for (int j = 0; j < k; j++)
            if (h[j].var == h[k].var && t[j] != t[k])
                return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------ */
/* analysis of a body                                                 */

/* 1 if node n lies inside a without-group. */
static int under_without(const qprog *p, int n)
{
    for (int a = p->nodes[n].parent; a >= 0; a = p->nodes[a].parent)
        if (p->nodes[a].kind == QN_WITHOUT)
            return 1;
    return 0;
}

/* How many without-groups node n is under. */
static int withouts_over(const qprog *p, int n)
{
    int k = 0;
    for (int a = p->nodes[n].parent; a >= 0; a = p->nodes[a].parent)
        k += p->nodes[a].kind == QN_WITHOUT;
    return k;
}

/* Variables every solution of group g binds. */
static void certain(const qprog *p, int g, uint8_t *b)
{
    for (int c = p->nodes[g].first; c >= 0; c = p->nodes[c].next) {
        const qnode *x = &p->nodes[c];
        if (x->kind == QN_PATTERN || x->kind == QN_PATH) {
            for (int k = 0; k < 3; k++)
                if (x->t[k].var >= 0 && !(x->kind == QN_PATH && k == 1) && p->vars[x->t[k].var][0])
                    b[x->t[k].var] = 1;
        } else if (x->kind == QN_BIND) {
            b[x->var] = 1;
        } else if (x->kind == QN_UNION) {
            int nb = 0, nv = p->nvars;
            uint8_t cnt[512], one[512];
            if (nv > 512)
                continue;
            memset(cnt, 0, (size_t)nv);
            for (int br = x->first; br >= 0; br = p->nodes[br].next) {
                memset(one, 0, (size_t)nv);
                certain(p, br, one);
                for (int v = 0; v < nv; v++)
                    cnt[v] = (uint8_t)(cnt[v] + one[v]);
                nb++;
            }
            for (int v = 0; v < nv && nb; v++)
                if (cnt[v] == nb)
                    b[v] = 1;
        }
    }
}

/* Collects the predicates of path pnode i (0: any). */
static int path_preds(const mem *m, const qprog *p, int i, uint32_t **v, int *n, size_t *cap)
{
    const pnode *x = &p->pnodes[i];
    if (x->op == P_PRED) {
        uint32_t id = x->any ? 0 : x->cval >= 0 ? p->consts[x->cval].id : x->pred;
        if (!x->any && id == 0)
            id = ~0u; /* an unknown predicate: matches nothing */
        if (mem_reserve(m, (void **)v, cap, (size_t)*n + 1, sizeof **v) != 0)
            return LORE_ERR_NOMEM;
        (*v)[(*n)++] = id;
        return LORE_OK;
    }
    int rc = LORE_OK;
    if (x->a >= 0)
        rc = path_preds(m, p, x->a, v, n, cap);
    if (rc == LORE_OK && x->b >= 0)
        rc = path_preds(m, p, x->b, v, n, cap);
    return rc;
}

/* Can path i match zero steps?  Then, with both its ends free, it pairs
 * every node of the knowledge base with itself, and so reads every fact
 * (their subjects and objects), whatever its predicates. */
static int path_nullable(const qprog *p, int i)
{
    const pnode *x = &p->pnodes[i];
    switch (x->op) {
    case P_STAR:
    case P_OPT:
        return 1;
    case P_PLUS:
    case P_INV:
        return path_nullable(p, x->a);
    case P_SEQ:
        return path_nullable(p, x->a) && path_nullable(p, x->b);
    case P_ALT:
        return path_nullable(p, x->a) || path_nullable(p, x->b);
    default:
        return 0;
    }
}

/* The reads of r's body. */
static int analyse(lore_kb *kb, rule *r)
{
    const qprog *p = r->prog;
    int n = 0;
    for (int i = 0; i < p->nnodes; i++)
        n += p->nodes[i].kind == QN_PATTERN || p->nodes[i].kind == QN_PATH;
    r->reads = n ? mem_calloc(&kb->m, (size_t)n, sizeof *r->reads) : NULL;
    if (n && !r->reads)
        return ctx_nomem(&kb->ctx);
    r->nreads = n;
    int k = 0, j = 0;
    uint8_t sure[512];
    memset(sure, 0, sizeof sure);
    if (p->nvars <= 512)
        certain(p, 0, sure);
    for (int i = 0; i < p->nnodes; i++) {
        const qnode *x = &p->nodes[i];
        if (x->kind != QN_PATTERN && x->kind != QN_PATH)
            continue;
        rread *d = &r->reads[j++];
        d->node = i;
        d->k = -1;
        for (int a = x->parent; a >= 0; a = p->nodes[a].parent) {
            r->branchy |= p->nodes[a].kind == QN_OPTIONAL;
            d->branch |= p->nodes[a].kind == QN_UNION && p->nodes[a].first >= 0 &&
                         p->nodes[p->nodes[a].first].next >= 0;
        }
        d->how = r->agg ? RD_AGG : under_without(p, i) ? RD_NEG : RD_POS;
        if (x->kind == QN_PATTERN) {
            if (d->how == RD_NEG && withouts_over(p, i) == 1 && p->nvars <= 512)
                for (int t = 0; t < 3; t++) /* (more variables: sure is not made, none claimed) */
                    if (x->t[t].var >= 0 && sure[x->t[t].var] && p->vars[x->t[t].var][0])
                        d->outer |= 1 << t;
            d->alone = d->how == RD_NEG && p->nodes[x->parent].kind == QN_WITHOUT &&
                       p->nodes[x->parent].parent == 0 && p->nodes[x->parent].first == i &&
                       x->next < 0;
            d->k = k++;
            for (int t = 0; t < 3; t++) {
                qslot sl = x->t[t];
                d->key[t] = sl.var >= 0                 ? 0
                            : p->consts[-sl.var - 1].id ? p->consts[-sl.var - 1].id
                                                        : ~0u;
            }
        } else {
            if (d->how == RD_POS)
                d->how = RD_PATH;
            size_t cap = 0;
            int rc = path_preds(&kb->m, p, x->path, &d->preds, &d->npreds, &cap);
            if (rc == LORE_OK && path_nullable(p, x->path)) { /* any predicate: 0 */
                if (mem_reserve(&kb->m, (void **)&d->preds, &cap, (size_t)d->npreds + 1,
                                sizeof *d->preds) == 0)
                    d->preds[d->npreds++] = 0;
                else
                    rc = LORE_ERR_NOMEM;
            }
            if (rc != LORE_OK) {
                mem_free(&kb->m, d->preds, cap, sizeof *d->preds);
                d->preds = NULL, d->npreds = 0;
                return ctx_nomem(&kb->ctx);
            }
            /* keep exactly npreds (rule_free frees that many) */
            if (cap != (size_t)d->npreds) {
                void *q = d->preds;
                if (mem_resize(&kb->m, &q, cap, (size_t)d->npreds, sizeof *d->preds) != 0) {
                    mem_free(&kb->m, d->preds, cap, sizeof *d->preds);
                    d->preds = NULL, d->npreds = 0;
                    return ctx_nomem(&kb->ctx);
                }
                d->preds = q;
            }
        }
    }
    return LORE_OK;
}

/* Can a fact matching head h be read by read d? */
static int head_meets(const hterm h[3], const rread *d, const qprog *p)
{
    if (d->k >= 0) {
        for (int t = 0; t < 3; t++)
            if (h[t].var < 0 && d->key[t] && d->key[t] != h[t].id)
                return 0;
        return 1;
    }
    (void)p;
    for (int i = 0; i < d->npreds; i++)
        if (d->preds[i] == 0 || h[1].var >= 0 || d->preds[i] == h[1].id)
            return 1;
    return 0;
}

static int heads_unify(const hterm a[3], const hterm b[3])
{
    for (int t = 0; t < 3; t++)
        if (a[t].var < 0 && b[t].var < 0 && a[t].id != b[t].id)
            return 0;
    return 1;
}

/* ------------------------------------------------------------------ */
/* strata                                                             */

static int find(int *uf, int x)
{
    while (uf[x] != x)
        x = uf[x] = uf[uf[x]];
    return x;
}

static void name_list(char *buf, size_t cap, rules *R, const int *in, int n)
{
    size_t w = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && w + 1 < cap; i++) {
        int k = snprintf(buf + w, cap - w, "%s%s", i ? ", " : "", R->v[in[i]]->name);
        if (k < 0)
            break;
        w += (size_t)k;
    }
}

/* Recognises a transitive-closure stratum (see rules.h). */
static void detect_tc(rules *R, stratum *st)
{
    st->tc = TC_NONE;
    st->tcrule[0] = st->tcrule[1] = -1;
    if (st->nrules == 1) {
        const rule *r = R->v[st->rules[0]];
        const qprog *p = r->prog;
        const qnode *root = &p->nodes[0];
        if (r->agg || r->nhead != 1 || root->first < 0 || root->first != root->last)
            return;
        const qnode *x = &p->nodes[root->first];
        if (x->kind != QN_PATH)
            return;
        const pnode *pl = &p->pnodes[x->path];
        if (pl->op != P_PLUS || p->pnodes[pl->a].op != P_PRED || p->pnodes[pl->a].any)
            return;
        uint32_t e = p->consts[p->pnodes[pl->a].cval].id;
        const hterm *h = r->head[0];
        if (!e || h[1].var >= 0 || h[1].id == e || h[0].var < 0 || h[2].var < 0 ||
            h[0].var == h[2].var || x->t[0].var != h[0].var || x->t[2].var != h[2].var)
            return;
        st->tc = TC_PATH, st->e = e, st->r = h[1].id;
        st->tcrule[1] = st->rules[0];
        return;
    }
    if (st->nrules != 2)
        return;
    for (int bi = 0; bi < 2; bi++) {
        const rule *b = R->v[st->rules[bi]], *c = R->v[st->rules[1 - bi]];
        if (b->agg || c->agg || b->nhead != 1 || c->nhead != 1)
            continue;
        /* the base: ?x r ?y :- ?x e ?y */
        const qprog *p = b->prog;
        const qnode *root = &p->nodes[0];
        if (root->first < 0 || root->first != root->last)
            continue;
        const qnode *x = &p->nodes[root->first];
        const hterm *h = b->head[0];
        if (x->kind != QN_PATTERN || x->t[1].var >= 0 || x->t[0].var < 0 || x->t[2].var < 0 ||
            x->t[0].var == x->t[2].var || h[1].var >= 0 || h[0].var != x->t[0].var ||
            h[2].var != x->t[2].var)
            continue;
        uint32_t e = p->consts[-x->t[1].var - 1].id, r = h[1].id;
        if (!e || e == r)
            continue;
        /* the recursive rule: two patterns chained */
        const qprog *q = c->prog;
        const qnode *qr = &q->nodes[0];
        if (qr->first < 0 || q->nodes[qr->first].next != qr->last || qr->first == qr->last)
            continue;
        const qnode *u = &q->nodes[qr->first], *w = &q->nodes[qr->last];
        const hterm *hc = c->head[0];
        if (u->kind != QN_PATTERN || w->kind != QN_PATTERN || hc[1].var >= 0 || hc[1].id != r ||
            hc[0].var < 0 || hc[2].var < 0 || hc[0].var == hc[2].var)
            continue;
        for (int swap = 0; swap < 2 && st->tc == TC_NONE; swap++) {
            const qnode *f = swap ? w : u, *g = swap ? u : w; /* f: x -> y, g: y -> z */
            if (f->t[1].var >= 0 || g->t[1].var >= 0 || f->t[0].var != hc[0].var ||
                g->t[2].var != hc[2].var || f->t[2].var < 0 || f->t[2].var != g->t[0].var ||
                f->t[2].var == hc[0].var || f->t[2].var == hc[2].var)
                continue;
            uint32_t pf = q->consts[-f->t[1].var - 1].id, pg = q->consts[-g->t[1].var - 1].id;
            int form = pf == e && pg == r   ? TC_RIGHT
                       : pf == r && pg == e ? TC_LEFT
                       : pf == r && pg == r ? TC_DOUBLE
                                            : TC_NONE;
            if (form != TC_NONE) {
                st->tc = form, st->e = e, st->r = r;
                st->tcrule[0] = st->rules[bi], st->tcrule[1] = st->rules[1 - bi];
            }
        }
        if (st->tc != TC_NONE)
            return;
    }
}

/* A map from 64-bit keys to ints, for stratify's indexes (open
 * addressing; a key is never 0). */
typedef struct kmap {
    uint64_t *k;
    int *v;
    size_t cap, n;
} kmap;

static int kmap_init(const mem *m, kmap *mp, size_t n)
{
    mp->cap = 16;
    while (mp->cap < 2 * n + 2)
        mp->cap *= 2;
    mp->n = 0;
    mp->k = mem_calloc(m, mp->cap, sizeof *mp->k);
    mp->v = mem_alloc(m, mp->cap, sizeof *mp->v);
    return mp->k && mp->v ? LORE_OK : LORE_ERR_NOMEM;
}

static void kmap_free(const mem *m, kmap *mp)
{
    mem_free(m, mp->k, mp->cap, sizeof *mp->k);
    mem_free(m, mp->v, mp->cap, sizeof *mp->v);
}

/* The value slot of key (set to -1 when new); the map holds at most the
 * n keys it was made for. */
static int *kmap_at(kmap *mp, uint64_t key)
{
    size_t mask = mp->cap - 1, i = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 17) & mask;
    while (mp->k[i] && mp->k[i] != key)
        i = (i + 1) & mask;
    if (!mp->k[i])
        mp->k[i] = key, mp->v[i] = -1, mp->n++;
    return &mp->v[i];
}

/* The head in slot r of a map kept for one bucket at a time: -1 when it
 * is empty or left by another bucket (predicate pred). */
static int in_bucket(const rules *R, const int *hr, const int *hh, int r, uint32_t pred)
{
    return r >= 0 && R->v[hr[r]]->head[hh[r]][1].id == pred ? r : -1;
}

static void unite(int *uf, int a, int b)
{
    a = find(uf, a), b = find(uf, b);
    if (a != b)
        uf[a < b ? b : a] = a < b ? a : b;
}

/* The first head of a predicate's bucket, or -1 (without adding it). */
static int bucket_of(const kmap *mp, uint64_t key)
{
    size_t mask = mp->cap - 1, i = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 17) & mask;
    while (mp->k[i] && mp->k[i] != key)
        i = (i + 1) & mask;
    return mp->k[i] ? mp->v[i] : -1;
}

/* A dependency: a read of rule b meets a head of rule a's group. */
typedef struct dep {
    int gb, ga; /* groups */
    int b, a;   /* rules */
    int how;    /* RD_* of the read */
} dep;

/* Groups, dependencies, components; fails (LORE_ERR_RULE, message set)
 * when a cycle goes through negation or an aggregate.  Near-linear in the
 * rules and their dependencies: heads are indexed by predicate, so only
 * heads that can meet are compared (a variable predicate meets all). */
static int stratify(lore_kb *kb, rules *R)
{
    const mem *m = &kb->m;
    int n = (int)R->n, rc = LORE_OK;
    if (n == 0) {
        strata_free(kb, R);
        return LORE_OK;
    }
    size_t nn = (size_t)n, nh = 0;
    for (int i = 0; i < n; i++)
        nh += (size_t)R->v[i]->nhead;
    int *uf = mem_alloc(m, nn, sizeof *uf), *gid = mem_alloc(m, nn, sizeof *gid);
    int *hr = mem_alloc(m, nh + 1, sizeof *hr), *hh = mem_alloc(m, nh + 1, sizeof *hh);
    int *bnext = mem_alloc(m, nh + 1, sizeof *bnext), *vp = mem_alloc(m, nh + 1, sizeof *vp);
    int *stamp = NULL, *idx = NULL, *low = NULL, *stk = NULL, *on = NULL, *comp = NULL,
        *cstk = NULL, *cpos = NULL, *adj = NULL, *astart = NULL;
    dep *deps = NULL;
    size_t ndeps = 0, capdeps = 0, G = 0;
    int nvp = 0, ngroups = 0, nstrata = 0;
    stratum *strata = NULL;
    kmap bucket = {0}, sB = {0}, oC = {0}, sD = {0};
    if (!uf || !gid || !hr || !hh || !bnext || !vp ||
        kmap_init(m, &bucket, nh) != LORE_OK || kmap_init(m, &sB, nh) != LORE_OK ||
        kmap_init(m, &oC, nh) != LORE_OK || kmap_init(m, &sD, nh) != LORE_OK) {
        rc = LORE_ERR_NOMEM;
        goto cleanup;
    }
    /* the heads, in buckets by constant predicate (a list through bnext),
     * or apart when the predicate is a variable */
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        uf[i] = i;
        for (int j = 0; j < R->v[i]->nhead; j++, k++) {
            const hterm *h = R->v[i]->head[j];
            hr[k] = i, hh[k] = j;
            if (h[1].var >= 0) {
                vp[nvp++] = (int)k;
                continue;
            }
            int *b = kmap_at(&bucket, h[1].id);
            bnext[k] = *b, *b = (int)k;
        }
    }
    /* heads that unify go together: within a bucket, a head with both
     * subject and object variable unifies with all; one with a variable
     * object with each of the same subject, and with every head of a
     * variable subject (symmetrically for objects) */
    for (size_t bi = 0; bi < bucket.cap; bi++) {
        if (!bucket.k[bi])
            continue;
        /* the maps sB, oC, sD are keyed by subject, object, both: an
         * entry another bucket left is stale (in_bucket) */
        uint32_t pred = (uint32_t)bucket.k[bi];
        int any = -1, firstB = -1, firstC = -1;
        for (int x = bucket.v[bi]; x >= 0; x = bnext[x]) {
            const hterm *h = R->v[hr[x]]->head[hh[x]];
            int sv = h[0].var >= 0, ov = h[2].var >= 0;
            if (sv && ov) {
                any = x;
            } else if (!sv && ov) {
                int *r = kmap_at(&sB, h[0].id);
                if (in_bucket(R, hr, hh, *r, pred) >= 0)
                    unite(uf, hr[*r], hr[x]);
                *r = x;
                firstB = firstB < 0 ? x : firstB;
            } else if (sv && !ov) {
                int *r = kmap_at(&oC, h[2].id);
                if (in_bucket(R, hr, hh, *r, pred) >= 0)
                    unite(uf, hr[*r], hr[x]);
                *r = x;
                firstC = firstC < 0 ? x : firstC;
            }
        }
        for (int x = bucket.v[bi]; x >= 0; x = bnext[x]) {
            const hterm *h = R->v[hr[x]]->head[hh[x]];
            int sv = h[0].var >= 0, ov = h[2].var >= 0;
            if (any >= 0)
                unite(uf, hr[any], hr[x]);
            if (firstB >= 0 && firstC >= 0 && (sv != ov))
                unite(uf, hr[firstB], hr[x]); /* every such B meets every such C */
            if (sv || ov)
                continue;
            /* both constant: with the heads of its subject, of its object,
             * and the same head */
            int *r = kmap_at(&sB, h[0].id);
            if (in_bucket(R, hr, hh, *r, pred) >= 0 && R->v[hr[*r]]->head[hh[*r]][2].var >= 0)
                unite(uf, hr[*r], hr[x]);
            r = kmap_at(&oC, h[2].id);
            if (in_bucket(R, hr, hh, *r, pred) >= 0 && R->v[hr[*r]]->head[hh[*r]][0].var >= 0)
                unite(uf, hr[*r], hr[x]);
            r = kmap_at(&sD, (uint64_t)h[0].id << 32 | h[2].id);
            if (in_bucket(R, hr, hh, *r, pred) >= 0)
                unite(uf, hr[*r], hr[x]);
            else
                *r = x;
        }
    }
    for (int a = 0; a < nvp; a++) /* a variable predicate: compared with every head */
        for (size_t x = 0; x < nh; x++)
            if (heads_unify(R->v[hr[vp[a]]]->head[hh[vp[a]]], R->v[hr[x]]->head[hh[x]]))
                unite(uf, hr[vp[a]], hr[x]);
    for (int i = 0; i < n; i++)
        gid[i] = -1;
    for (int i = 0; i < n; i++) {
        int r = find(uf, i);
        if (gid[r] < 0)
            gid[r] = ngroups++;
        gid[i] = gid[r];
    }
    G = (size_t)ngroups;
    /* dependencies: each read against the heads it can meet, once per
     * group and read (stamp) */
    stamp = mem_alloc(m, G, sizeof *stamp);
    if (!stamp) {
        rc = LORE_ERR_NOMEM;
        goto cleanup;
    }
    for (size_t g = 0; g < G; g++)
        stamp[g] = -1;
    int serial = 0;
    for (int b = 0; b < n && rc == LORE_OK; b++) {
        const rule *rb = R->v[b];
        for (int i = 0; i < rb->nreads && rc == LORE_OK; i++, serial++) {
            const rread *d = &rb->reads[i];
            int npk = d->k >= 0 ? 1 : d->npreds;
            for (int q = 0; q <= npk && rc == LORE_OK; q++) {
                /* q < npk: a predicate's bucket (all heads for 0); q == npk:
                 * the heads with a variable predicate */
                uint32_t pred = q < npk ? (d->k >= 0 ? d->key[1] : d->preds[q]) : 0;
                int all = q < npk && pred == 0;
                size_t lim = all ? nh : q == npk ? (size_t)nvp : 0;
                int x = -1;
                if (q < npk && !all) {
                    x = bucket_of(&bucket, pred);
                }
                for (size_t t = 0;; t++) {
                    int hx;
                    if (q < npk && !all) {
                        if (x < 0)
                            break;
                        hx = x, x = bnext[x];
                    } else {
                        if (t >= lim)
                            break;
                        hx = all ? (int)t : vp[t];
                    }
                    int a = hr[hx], ga = gid[a];
                    if (stamp[ga] == serial)
                        continue;
                    if (!head_meets(R->v[a]->head[hh[hx]], d, rb->prog))
                        continue;
                    stamp[ga] = serial;
                    if (ndeps == capdeps) {
                        size_t nc = capdeps ? capdeps * 2 : 64;
                        dep *nd = deps;
                        if (mem_resize(m, (void **)&nd, capdeps, nc, sizeof *nd) != 0) {
                            rc = LORE_ERR_NOMEM;
                            break;
                        }
                        deps = nd, capdeps = nc;
                    }
                    deps[ndeps++] = (dep){gid[b], ga, b, a, d->how};
                }
            }
        }
    }
    if (rc != LORE_OK)
        goto cleanup;
    /* the groups' edges (g depends on h), sorted and without repeats, so
     * that the components come out as a matrix walk would give them */
    astart = mem_calloc(m, G + 1, sizeof *astart);
    adj = mem_alloc(m, ndeps + 1, sizeof *adj);
    idx = mem_calloc(m, G, sizeof *idx);
    low = mem_alloc(m, G, sizeof *low);
    stk = mem_alloc(m, G, sizeof *stk);
    on = mem_calloc(m, G, sizeof *on);
    comp = mem_alloc(m, G, sizeof *comp);
    cstk = mem_alloc(m, G, sizeof *cstk);
    cpos = mem_alloc(m, G, sizeof *cpos);
    if (!astart || !adj || !idx || !low || !stk || !on || !comp || !cstk || !cpos) {
        rc = LORE_ERR_NOMEM;
        goto cleanup;
    }
    for (size_t e = 0; e < ndeps; e++)
        astart[deps[e].gb + 1]++;
    for (size_t g = 0; g < G; g++)
        astart[g + 1] += astart[g];
    for (size_t g = 0; g < G; g++)
        cpos[g] = astart[g];
    for (size_t e = 0; e < ndeps; e++)
        adj[cpos[deps[e].gb]++] = deps[e].ga;
    for (size_t g = 0; g < G; g++) { /* each list: insertion sort, then unique */
        int lo = astart[g], hi = astart[g + 1];
        for (int i = lo + 1; i < hi; i++) {
            int v = adj[i], j = i;
            while (j > lo && adj[j - 1] > v) {
                adj[j] = adj[j - 1];
                j--;
            }
            adj[j] = v;
        }
    }
    {
        int counter = 0, sp = 0, ncomp = 0;
        for (int root = 0; root < ngroups; root++) {
            if (idx[root])
                continue;
            int csp = 0;
            cstk[csp] = root, cpos[csp] = astart[root], csp++;
            idx[root] = low[root] = ++counter;
            stk[sp++] = root, on[root] = 1;
            while (csp) {
                int v = cstk[csp - 1];
                if (cpos[csp - 1] < astart[v + 1]) {
                    int w = adj[cpos[csp - 1]++];
                    if (!idx[w]) {
                        idx[w] = low[w] = ++counter;
                        stk[sp++] = w, on[w] = 1;
                        cstk[csp] = w, cpos[csp] = astart[w], csp++;
                    } else if (on[w] && idx[w] < low[v]) {
                        low[v] = idx[w];
                    }
                    continue;
                }
                csp--;
                if (low[v] == idx[v]) {
                    int w;
                    do {
                        w = stk[--sp];
                        on[w] = 0;
                        comp[w] = ncomp;
                    } while (w != v);
                    ncomp++;
                }
                if (csp && low[v] < low[cstk[csp - 1]])
                    low[cstk[csp - 1]] = low[v];
            }
        }
        nstrata = ncomp;
    }
    /* a negative dependency inside a component cannot be stratified (the
     * first such, in the order of the rules that read) */
    {
        size_t worst = SIZE_MAX;
        for (size_t e = 0; e < ndeps; e++) {
            const dep *d = &deps[e];
            if ((d->how == RD_NEG || d->how == RD_AGG) && comp[d->gb] == comp[d->ga] &&
                (worst == SIZE_MAX || d->a < deps[worst].a ||
                 (d->a == deps[worst].a && d->b < deps[worst].b)))
                worst = e;
        }
        if (worst != SIZE_MAX) {
            const dep *d = &deps[worst];
            int a = d->a, b = d->b, h = d->how;
            int in[64], kk = 0;
            for (int i = 0; i < n && kk < 64; i++)
                if (comp[gid[i]] == comp[gid[a]])
                    in[kk++] = i;
            char names[256];
            name_list(names, sizeof names, R, in, kk);
            const char *through = h == RD_NEG ? "negation" : "an aggregate";
            if (a == b && kk == 1)
                rc = ctx_fail(&kb->ctx, LORE_ERR_RULE,
                              "rule %s: not stratifiable: %s depends on itself through %s",
                              R->v[a]->name, R->v[a]->name, through);
            else
                rc = ctx_fail(&kb->ctx, LORE_ERR_RULE,
                              "rules %s: not stratifiable: %s depends on %s through %s, and %s "
                              "depends on %s",
                              names, R->v[b]->name, R->v[a]->name, through, R->v[a]->name,
                              R->v[b]->name);
            goto cleanup;
        }
    }
    strata = mem_calloc(m, (size_t)nstrata, sizeof *strata);
    if (!strata) {
        rc = LORE_ERR_NOMEM;
        goto cleanup;
    }
    for (int i = 0; i < n; i++)
        strata[comp[gid[i]]].nrules++;
    for (int s = 0; s < nstrata; s++) {
        strata[s].rules = mem_alloc(m, (size_t)strata[s].nrules, sizeof(int));
        if (!strata[s].rules) {
            for (int t = 0; t < s; t++)
                mem_free(m, strata[t].rules, (size_t)strata[t].nrules, sizeof(int));
            mem_free(m, strata, (size_t)nstrata, sizeof *strata);
            strata = NULL;
            rc = LORE_ERR_NOMEM;
            goto cleanup;
        }
        strata[s].nrules = 0;
    }
    for (int i = 0; i < n; i++) {
        stratum *st = &strata[comp[gid[i]]];
        st->rules[st->nrules++] = i;
        R->v[i]->group = gid[i];
        R->v[i]->stratum = comp[gid[i]];
        R->v[i]->naive = 0;
    }
    for (int s = 0; s < nstrata; s++)
        detect_tc(R, &strata[s]);
    for (size_t e = 0; e < ndeps; e++) {
        const dep *d = &deps[e];
        if (comp[d->gb] != comp[d->ga])
            strata[comp[d->ga]].read_later = 1;
        else if (d->how == RD_PATH) /* it reads its own stratum through a path: re-run whole */
            R->v[d->b]->naive = 1;
    }
    strata_free(kb, R);
    R->strata = strata, R->nstrata = nstrata;
cleanup:
    if (rc == LORE_ERR_NOMEM)
        ctx_nomem(&kb->ctx);
    mem_free(m, uf, nn, sizeof *uf);
    mem_free(m, gid, nn, sizeof *gid);
    mem_free(m, hr, nh + 1, sizeof *hr);
    mem_free(m, hh, nh + 1, sizeof *hh);
    mem_free(m, bnext, nh + 1, sizeof *bnext);
    mem_free(m, vp, nh + 1, sizeof *vp);
    kmap_free(m, &bucket);
    kmap_free(m, &sB);
    kmap_free(m, &oC);
    kmap_free(m, &sD);
    mem_free(m, deps, capdeps, sizeof *deps);
    mem_free(m, astart, G + 1, sizeof *astart);
    mem_free(m, adj, ndeps + 1, sizeof *adj);
    if (G) {
        mem_free(m, stamp, G, sizeof *stamp);
        mem_free(m, idx, G, sizeof *idx);
        mem_free(m, low, G, sizeof *low);
        mem_free(m, stk, G, sizeof *stk);
        mem_free(m, on, G, sizeof *on);
        mem_free(m, comp, G, sizeof *comp);
        mem_free(m, cstk, G, sizeof *cstk);
        mem_free(m, cpos, G, sizeof *cpos);
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* persistence                                                        */

/* A rule whose body calls no host function by pointer reads back from
 * its text. */
static int portable(const rule *r)
{
    const qprog *p = r->prog;
    for (int i = 0; i < p->nfilters; i++)
        if (p->filters[i].op == QF_FN)
            return 0;
    for (int i = 0; i < p->nexprs; i++)
        if (p->exprs[i].op == QX_HOST)
            return 0;
    return 1;
}

int rules_saveable(const lore_kb *kb, size_t i, const char **name, const char **text, int *ok)
{
    const rules *R = kb->rules;
    if (!R || i >= R->n)
        return 0;
    *name = R->v[i]->name;
    *text = R->v[i]->text;
    *ok = portable(R->v[i]);
    return 1;
}

int rules_settled(const lore_kb *kb)
{
    return kb->rules && !kb->rules->full && !lore_infer_pending(kb);
}

int rules_restore(lore_kb *kb, const char *name, size_t namelen, const char *text, size_t textlen)
{
    char nbuf[256];
    if (namelen >= sizeof nbuf)
        return ctx_fail(&kb->ctx, LORE_ERR_ARG, "a rule name is too long");
    memcpy(nbuf, name, namelen);
    nbuf[namelen] = '\0';
    rules *R = rules_get(kb);
    if (!R)
        return LORE_ERR_NOMEM;
    int quiet = R->restoring;
    R->restoring = 1; /* not journaled again */
    int rc = lore_rule_add(kb, text, textlen, nbuf, NULL);
    R->restoring = quiet;
    return rc;
}

void rules_mark_settled(lore_kb *kb)
{
    if (kb->rules) {
        kb->rules->full = 0;
        store_clog_clear(&kb->st);
        /* the facts came with their ranks: the counter goes on past them
         * (a fact derived next must rank above its premises) */
        uint32_t most = store_max_rank(&kb->st);
        if (kb->rules->round < most)
            kb->rules->round = most;
    }
}

/* Journals a rule change in durable mode (not while restoring one).
 * LORE_OK or the journal's error. */
static int journal_rule(lore_kb *kb, const rule *r, int add)
{
    rules *R = kb->rules;
    if (!change_on(kb) || R->restoring || !portable(r))
        return LORE_OK;
    jop op;
    memset(&op, 0, sizeof op);
    op.code = add ? JOP_RULE : JOP_UNRULE;
    op.name = r->name, op.nlen = r->namelen;
    op.text = r->text, op.textlen = strlen(r->text);
    jmark mk;
    return change_log_op(kb, &op, &mk);
}

/* Rules are not facts: a rollback keeps them, so in durable mode they
 * change outside transactions only (a journal record must not go with a
 * transaction that may be dropped). */
static int rules_may_change(lore_kb *kb, const char *fn)
{
    if (kb->st.in_txn && change_on(kb))
        return ctx_fail(&kb->ctx, LORE_ERR_STATE,
                        "%s: rules change outside transactions in durable mode", fn);
    return LORE_OK;
}

/* ------------------------------------------------------------------ */
/* adding rules                                                       */

/* ------------------------------------------------------------------ */
/* the predicate index (rules.h)                                      */

static size_t pslot(const rules *R, uint32_t pred)
{
    size_t mask = R->pcap - 1, i = (pred * 0x9e3779b9u) & mask;
    while (R->pk[i] && R->pk[i] != pred)
        i = (i + 1) & mask;
    return i;
}

/* Room for `more` new predicates (so that counting them cannot fail). */
static int pgrow(lore_kb *kb, rules *R, size_t more)
{
    if ((R->pn + more) * 2 <= R->pcap)
        return LORE_OK;
    size_t ncap = R->pcap ? R->pcap : 64;
    while ((R->pn + more) * 2 > ncap)
        ncap *= 2;
    rules old = *R;
    R->pk = mem_calloc(&kb->m, ncap, sizeof *R->pk);
    R->ph = mem_calloc(&kb->m, ncap, sizeof *R->ph);
    R->pr = mem_calloc(&kb->m, ncap, sizeof *R->pr);
    if (!R->pk || !R->ph || !R->pr) {
        mem_free(&kb->m, R->pk, ncap, sizeof *R->pk);
        mem_free(&kb->m, R->ph, ncap, sizeof *R->ph);
        mem_free(&kb->m, R->pr, ncap, sizeof *R->pr);
        R->pk = old.pk, R->ph = old.ph, R->pr = old.pr;
        return LORE_ERR_NOMEM;
    }
    R->pcap = ncap;
    for (size_t i = 0; i < old.pcap; i++) {
        if (!old.pk[i])
            continue;
        size_t j = pslot(R, old.pk[i]);
        R->pk[j] = old.pk[i], R->ph[j] = old.ph[i], R->pr[j] = old.pr[i];
    }
    mem_free(&kb->m, old.pk, old.pcap, sizeof *old.pk);
    mem_free(&kb->m, old.ph, old.pcap, sizeof *old.ph);
    mem_free(&kb->m, old.pr, old.pcap, sizeof *old.pr);
    return LORE_OK;
}

/* Counts pred (0: any) for a head (what 0) or a read (what 1); the room
 * was made by pgrow. */
static void pcount(rules *R, uint32_t pred, int what, int delta)
{
    if (!pred) {
        *(what ? &R->rvar : &R->hvar) += delta;
        return;
    }
    size_t i = pslot(R, pred);
    if (!R->pk[i])
        R->pk[i] = pred, R->pn++;
    (what ? R->pr : R->ph)[i] += delta;
}

/* The number of predicates r names (a bound on those new to the index). */
static size_t pnames(const rule *r)
{
    size_t n = (size_t)r->nhead;
    for (int i = 0; i < r->nreads; i++)
        n += r->reads[i].k >= 0 ? 1 : (size_t)r->reads[i].npreds;
    return n;
}

static void pindex(rules *R, const rule *r, int delta)
{
    for (int h = 0; h < r->nhead; h++)
        pcount(R, r->head[h][1].var >= 0 ? 0 : r->head[h][1].id, 0, delta);
    for (int i = 0; i < r->nreads; i++) {
        const rread *d = &r->reads[i];
        if (d->k >= 0)
            pcount(R, d->key[1], 1, delta);
        for (int j = 0; d->k < 0 && j < d->npreds; j++)
            pcount(R, d->preds[j], 1, delta);
    }
}

/* Can r close no cycle: no other rule shares a head predicate with it or
 * reads one, and it does not read its own heads? */
static int is_sink(const rules *R, const rule *r)
{
    for (int h = 0; h < r->nhead; h++) {
        if (r->head[h][1].var >= 0 || R->hvar || R->rvar)
            return 0;
        if (R->pcap) {
            size_t i = pslot(R, r->head[h][1].id);
            if (R->pk[i] && (R->ph[i] || R->pr[i]))
                return 0;
        }
        for (int i = 0; i < r->nreads; i++)
            if (head_meets(r->head[h], &r->reads[i], r->prog))
                return 0;
    }
    return 1;
}

int rules_stratify(lore_kb *kb)
{
    rules *R = kb->rules;
    if (!R || !R->n || (!R->stale && R->strata))
        return LORE_OK;
    int rc = stratify(kb, R);
    if (rc == LORE_OK)
        R->stale = 0;
    return rc;
}

/* The rules by name (rules.h: nh), so that names are checked and found
 * in constant time. */
static uint64_t name_hash(const char *s, size_t n)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h ^ (h >> 31);
}

static size_t name_slot(const rules *R, const char *name, size_t n)
{
    size_t mask = R->nhcap - 1, i = (size_t)name_hash(name, n) & mask;
    while (R->nh[i] && !(R->nh[i]->namelen == n && memcmp(R->nh[i]->name, name, n) == 0))
        i = (i + 1) & mask;
    return i;
}

/* Rebuilds the name table for R's rules (after a removal, or to grow it
 * to hold `more` more).  LORE_OK or LORE_ERR_NOMEM (the table unchanged). */
static int names_rebuild(lore_kb *kb, rules *R, size_t more)
{
    size_t cap = 64;
    while (cap < (R->n + more) * 2)
        cap *= 2;
    rule **t = mem_calloc(&kb->m, cap, sizeof *t);
    if (!t)
        return LORE_ERR_NOMEM;
    mem_free(&kb->m, R->nh, R->nhcap, sizeof *R->nh);
    R->nh = t, R->nhcap = cap;
    for (size_t i = 0; i < R->n; i++)
        R->nh[name_slot(R, R->v[i]->name, R->v[i]->namelen)] = R->v[i];
    return LORE_OK;
}

static int name_taken(const rules *R, const char *name, size_t n)
{
    if (R->nhcap)
        return R->nh[name_slot(R, name, n)] != NULL;
    for (size_t i = 0; i < R->n; i++)
        if (R->v[i]->namelen == n && memcmp(R->v[i]->name, name, n) == 0)
            return 1;
    return 0;
}

/* A default name: the head's first predicate (its local part for an
 * IRI), numbered when taken; rule_N for a variable predicate. */
static void default_name(lore_kb *kb, const rules *R, const hterm *h, char *out, size_t cap)
{
    char stem[96] = "";
    if (h[1].var < 0 && dict_valid(&kb->d, h[1].id)) { /* (not yet read when a message needs it) */
        lore_value v;
        dict_get(&kb->d, h[1].id, &v);
        const char *s = v.str;
        size_t n = v.kind == LORE_SYMBOL ? v.len : 0;
        if (n > 2 && s[0] == '<' && s[n - 1] == '>') {
            size_t i = n - 1;
            while (i > 1 && s[i - 1] != '/' && s[i - 1] != '#')
                i--;
            s += i, n = n - 1 - i;
        }
        int ok = n > 0 && n < sizeof stem;
        for (size_t i = 0; ok && i < n; i++) {
            char c = s[i];
            ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-' || c == ':' || (unsigned char)c >= 0x80;
        }
        if (ok) {
            memcpy(stem, s, n);
            stem[n] = '\0';
        }
    }
    if (!stem[0]) {
        for (uint32_t k = R->next_id;; k++) {
            snprintf(out, cap, "rule_%u", (unsigned)k);
            if (!name_taken(R, out, strlen(out)))
                return;
        }
    }
    snprintf(out, cap, "%s", stem);
    if (!name_taken(R, out, strlen(out)))
        return;
    /* stem_2, stem_3, ...: from the number the stem's last rule took */
    int k = 2;
    size_t hs = R->stemcap ? (size_t)name_hash(stem, strlen(stem)) & (R->stemcap - 1) : 0;
    if (R->stemcap && R->stemk[hs] > k)
        k = R->stemk[hs];
    for (;; k++) {
        snprintf(out, cap, "%s_%d", stem, k);
        if (!name_taken(R, out, strlen(out)))
            break;
    }
    if (R->stemcap)
        R->stemk[hs] = k + 1;
}

static int valid_rule_name(const char *s, size_t n)
{
    if (n == 0 || n > 200)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && ((c >= '0' && c <= '9') || c == '-'))))
            return 0;
    }
    return 1;
}

/* Interns the constants the body's patterns and paths name, so the rule's
 * reads are comparable by id from now on. */
static int intern_constants(lore_kb *kb, qprog *p)
{
    for (int i = 0; i < p->nnodes; i++) {
        const qnode *x = &p->nodes[i];
        if (x->kind != QN_PATTERN && x->kind != QN_PATH)
            continue;
        for (int t = 0; t < 3; t++) {
            qslot sl = x->t[t];
            if (sl.var >= 0 || sl.var == QS_NONE)
                continue;
            qconst *k = &p->consts[-sl.var - 1];
            if (k->id == 0 && k->has_value) {
                const char *why;
                int rc = dict_intern(&kb->d, &k->v, &k->id, &why);
                if (rc == LORE_ERR_NOMEM)
                    return ctx_nomem(&kb->ctx);
            }
        }
    }
    for (int i = 0; i < p->npnodes; i++) {
        pnode *n = &p->pnodes[i];
        if (n->op != P_PRED || n->any || n->cval < 0)
            continue;
        qconst *k = &p->consts[n->cval];
        if (k->id == 0 && k->has_value) {
            const char *why;
            int rc = dict_intern(&kb->d, &k->v, &k->id, &why);
            if (rc == LORE_ERR_NOMEM)
                return ctx_nomem(&kb->ctx);
        }
        n->pred = k->id;
    }
    return LORE_OK;
}

/* The message of a failed step, prefixed with the rule's name. */
static int prefixed(lore_kb *kb, int rc, const char *name)
{
    char keep[sizeof kb->ctx.err];
    memcpy(keep, kb->ctx.err, sizeof keep);
    if (strncmp(keep, "rule ", 5) == 0 || strncmp(keep, "rules ", 6) == 0)
        return rc;
    return ctx_fail(&kb->ctx, rc, "rule %s: %s", name, keep[0] ? keep : lore_strerror(rc));
}

/* Completes and adds a rule whose body and head are built (takes r). */
static int install(lore_kb *kb, rules *R, rule *r, const char *name, size_t namelen, uint32_t *id)
{
    int rc = LORE_OK;
    char defname[128];
    const mem *m = &kb->m;
    if (name) {
        if (!valid_rule_name(name, namelen)) {
            rc = ctx_fail(&kb->ctx, LORE_ERR_ARG,
                          "rule name '%.*s': letters, digits, _ and - expected (a letter or _ "
                          "first)",
                          (int)(namelen > 60 ? 60 : namelen), name);
            goto fail;
        }
    } else {
        default_name(kb, R, r->head[0], defname, sizeof defname);
        name = defname, namelen = strlen(defname);
    }
    r->name = mem_strndup(m, name, namelen);
    if (!r->name) {
        rc = ctx_nomem(&kb->ctx);
        goto fail;
    }
    r->namelen = namelen;
    if (name_taken(R, name, namelen)) {
        rc = ctx_fail(&kb->ctx, LORE_ERR_ARG, "rule %s: a rule of this name exists", r->name);
        goto fail;
    }
    /* the body must be a valid query */
    rc = lore_query_prepare(r->body);
    if (rc != LORE_OK) {
        rc = prefixed(kb, rc, r->name);
        goto fail;
    }
    qprog *p = r->prog;
    r->agg = p->ngroup > 0;
    for (int i = 0; i < p->nitems; i++)
        r->agg |= p->items[i].agg != QA_NONE;
    if ((p->nitems > 0 && !r->agg) || p->distinct || p->norder || p->limit != UINT64_MAX ||
        p->offset) {
        rc = ctx_fail(&kb->ctx, LORE_ERR_RULE,
                      "rule %s: a rule's body takes no select, distinct, order, limit or offset "
                      "(except to aggregate)",
                      r->name);
        goto fail;
    }
    /* safety: every head variable bound in every solution */
    {
        int nv = p->nvars;
        uint8_t *b = mem_calloc(m, (size_t)nv + 1, 1);
        if (!b) {
            rc = ctx_nomem(&kb->ctx);
            goto fail;
        }
        if (r->agg) {
            r->headcol = mem_alloc(m, (size_t)nv + 1, sizeof *r->headcol);
            if (!r->headcol) {
                mem_free(m, b, (size_t)nv + 1, 1);
                rc = ctx_nomem(&kb->ctx);
                goto fail;
            }
            for (int v = 0; v <= nv; v++)
                r->headcol[v] = -1;
            size_t nc = lore_query_ncols(r->body);
            for (size_t c = 0; c < nc; c++) {
                const char *cn = lore_query_colname(r->body, c);
                for (int v = 0; v < nv; v++)
                    if (strcmp(p->vars[v], cn) == 0) {
                        b[v] = 1;
                        r->headcol[v] = (int)c;
                    }
            }
        } else {
            certain(p, 0, b);
        }
        for (int j = 0; j < r->nhead && rc == LORE_OK; j++)
            for (int t = 0; t < 3 && rc == LORE_OK; t++) {
                int v = r->head[j][t].var;
                if (v >= 0 && !b[v])
                    rc = ctx_fail(&kb->ctx, LORE_ERR_RULE,
                                  r->agg ? "rule %s: ?%s is in the head but not a column of the "
                                           "aggregated body"
                                         : "rule %s: ?%s is in the head but not bound by the body",
                                  r->name, p->vars[v]);
            }
        mem_free(m, b, (size_t)nv + 1, 1);
        if (rc != LORE_OK)
            goto fail;
    }
    if ((rc = intern_constants(kb, p)) != LORE_OK || (rc = analyse(kb, r)) != LORE_OK)
        goto fail;
    r->delta = r->nreads ? mem_calloc(m, (size_t)r->nreads, sizeof *r->delta) : NULL;
    r->check = mem_calloc(m, (size_t)r->nhead, sizeof *r->check);
    r->checkbound = mem_calloc(m, (size_t)r->nhead, sizeof *r->checkbound);
    if ((r->nreads && !r->delta) || !r->check || !r->checkbound) {
        rc = ctx_nomem(&kb->ctx);
        goto fail;
    }
    if (!r->text) {
        char *buf = NULL;
        size_t len = 0, cap = 0;
        for (int j = 0; j < r->nhead && rc == LORE_OK; j++) {
            for (int t = 0; t < 3 && rc == LORE_OK; t++) {
                const hterm *h = &r->head[j][t];
                char tmp[64];
                const char *piece;
                size_t pn;
                lore_value v;
                if (h->var >= 0) {
                    snprintf(tmp, sizeof tmp, "?%.60s", p->vars[h->var]);
                    piece = tmp, pn = strlen(tmp);
                } else {
                    dict_get(&kb->d, h->id, &v);
                    piece = NULL, pn = 0;
                }
                const char *sep = t ? " " : j ? ", " : "";
                size_t need = len + strlen(sep) + (piece ? pn : v.len + 16) + 32;
                if (mem_reserve(m, (void **)&buf, &cap, need, 1) != 0) {
                    rc = ctx_nomem(&kb->ctx);
                    break;
                }
                len += (size_t)snprintf(buf + len, cap - len, "%s", sep);
                if (piece) {
                    memcpy(buf + len, piece, pn);
                    len += pn;
                } else if (v.kind == LORE_SYMBOL) {
                    memcpy(buf + len, v.str, v.len);
                    len += v.len;
                } else if (v.kind == LORE_INTEGER) {
                    len += (size_t)snprintf(buf + len, cap - len, "%lld", (long long)v.i);
                } else if (v.kind == LORE_NUMBER) {
                    len += (size_t)snprintf(buf + len, cap - len, "%.17g", v.n);
                } else if (v.kind == LORE_BOOLEAN) {
                    len += (size_t)snprintf(buf + len, cap - len, "%s", v.i ? "true" : "false");
                } else {
                    if (mem_reserve(m, (void **)&buf, &cap, len + v.len + v.langlen + 16, 1) != 0) {
                        rc = ctx_nomem(&kb->ctx);
                        break;
                    }
                    len += (size_t)snprintf(buf + len, cap - len, "%s\"",
                                            v.kind == LORE_DATE ? "date(" : "");
                    memcpy(buf + len, v.str, v.len);
                    len += v.len;
                    len += (size_t)snprintf(buf + len, cap - len, "\"%s",
                                            v.kind == LORE_DATE ? ")" : "");
                    if (v.kind == LORE_TEXT && v.langlen) {
                        buf[len++] = '@';
                        memcpy(buf + len, v.lang, v.langlen);
                        len += v.langlen;
                    }
                }
            }
        }
        if (rc == LORE_OK && (mem_reserve(m, (void **)&buf, &cap, len + 8, 1) != 0))
            rc = ctx_nomem(&kb->ctx);
        if (rc == LORE_OK) {
            memcpy(buf + len, " :- ", 4);
            len += 4;
            if (qplan_put_body(p, &buf, &len, &cap, m) != LORE_OK)
                rc = ctx_nomem(&kb->ctx);
        }
        if (rc == LORE_OK) {
            r->text = mem_strndup(m, buf, len);
            r->textlen = len;
            if (!r->text)
                rc = ctx_nomem(&kb->ctx);
        }
        mem_free(m, buf, cap, 1);
        if (rc != LORE_OK)
            goto fail;
    }
    /* place it, then stratify; undo on failure */
    if (mem_reserve(m, (void **)&R->v, &R->cap, R->n + 1, sizeof *R->v) != 0) {
        rc = ctx_nomem(&kb->ctx);
        goto fail;
    }
    if (pgrow(kb, R, pnames(r)) != LORE_OK) {
        rc = ctx_nomem(&kb->ctx);
        goto fail;
    }
    /* a rule that no other reads or shares a head with cannot make the
     * rules unstratifiable: its strata can wait for the next need */
    int sink = R->strata && is_sink(R, r);
    R->v[R->n++] = r;
    r->id = R->next_id;
    rc = sink ? LORE_OK : stratify(kb, R);
    if (rc == LORE_OK)
        rc = rules_sync_log(kb);
    if (rc != LORE_OK) {
        R->n--;
        if (rc == LORE_ERR_NOMEM)
            ctx_nomem(&kb->ctx);
        int keep = rc;
        char msg[sizeof kb->ctx.err];
        memcpy(msg, kb->ctx.err, sizeof msg);
        stratify(kb, R); /* the old rules stratified before: this succeeds, or leaves them */
        memcpy(kb->ctx.err, msg, sizeof msg);
        rc = keep;
        goto fail;
    }
    if ((rc = journal_rule(kb, r, 1)) != LORE_OK) {
        /* not journaled: not added */
        char msg[sizeof kb->ctx.err];
        memcpy(msg, kb->ctx.err, sizeof msg);
        R->n--;
        if (stratify(kb, R) != LORE_OK)
            strata_free(kb, R);
        rules_sync_log(kb);
        memcpy(kb->ctx.err, msg, sizeof msg);
        goto fail;
    }
    R->next_id++;
    R->full = 1;
    R->stale = sink; /* else stratify made them all */
    pindex(R, r, 1);
    if (R->n * 2 > R->nhcap) {
        if (names_rebuild(kb, R, R->n) != LORE_OK) { /* then names are looked for one by one */
            mem_free(&kb->m, R->nh, R->nhcap, sizeof *R->nh);
            R->nh = NULL, R->nhcap = 0;
        }
    } else {
        R->nh[name_slot(R, r->name, r->namelen)] = r;
    }
    if (id)
        *id = r->id;
    return LORE_OK;
fail:
    rule_free(kb, r);
    return rc;
}

/* Allocates an empty rule owning `body`. */
static rule *rule_new(lore_kb *kb, lore_query *body)
{
    rule *r = mem_calloc(&kb->m, 1, sizeof *r);
    if (!r) {
        lore_query_free(body);
        ctx_nomem(&kb->ctx);
        return NULL;
    }
    r->body = body;
    r->prog = query_prog(body);
    return r;
}

/* ---- the text form ---- */

/* Position of byte `at` of text as "LINE:COL". */
static void line_col(const char *text, size_t at, int *line, int *col)
{
    *line = 1, *col = 1;
    for (size_t i = 0; i < at; i++) {
        if (text[i] == '\n')
            (*line)++, *col = 1;
        else if (((unsigned char)text[i] & 0xc0) != 0x80)
            (*col)++;
    }
}

/* Rewrites a "query:L:C: ..." message of a part that starts at byte
 * `off` of the rule's text into "rule:L':C': ...".  The head's end of
 * text is the arrow. */
static int relocate(lore_kb *kb, int rc, const char *text, size_t off, int head)
{
    int l, c, n = 0;
    if (sscanf(kb->ctx.err, "query:%d:%d:%n", &l, &c, &n) != 2 || n == 0)
        return rc;
    int bl, bc;
    line_col(text, off, &bl, &bc);
    if (l == 1)
        c += bc - 1;
    l += bl - 1;
    char rest[sizeof kb->ctx.err];
    snprintf(rest, sizeof rest, "%s", kb->ctx.err + n);
    size_t rl = strlen(rest);
    static const char eot[] = "got end of text";
    if (head && rl >= sizeof eot - 1 && strcmp(rest + rl - (sizeof eot - 1), eot) == 0)
        snprintf(rest + rl - (sizeof eot - 1), sizeof rest - (rl - (sizeof eot - 1)), "got ':-'");
    return ctx_fail(&kb->ctx, rc, "rule:%d:%d:%s", l, c, rest);
}

/* The ':-' outside quotes, IRIs and comments, or NULL. */
static const char *find_arrow(const char *s, const char *e)
{
    for (const char *c = s; c + 1 < e; c++) {
        if (*c == '"' || *c == '\'') {
            char q = *c;
            for (c++; c < e && *c != q; c++)
                if (*c == '\\')
                    c++;
            continue;
        }
        if (*c == '<') {
            const char *d = c + 1;
            while (d < e && *d != '>' && *d != ' ' && *d != '\n')
                d++;
            if (d < e && *d == '>') {
                c = d;
                continue;
            }
        }
        if (*c == '#') {
            while (c < e && *c != '\n')
                c++;
            continue;
        }
        if (c[0] == ':' && c[1] == '-')
            return c;
    }
    return NULL;
}

/* "NAME: " at the start (after spaces): its span, else 0. */
static size_t leading_name(const char *s, const char *e, const char **name)
{
    const char *c = s;
    while (c < e && (*c == ' ' || *c == '\t' || *c == '\n' || *c == '\r'))
        c++;
    const char *b = c;
    while (c < e && ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || *c == '_' ||
                     (c > b && ((*c >= '0' && *c <= '9') || *c == '-'))))
        c++;
    if (c == b || c + 1 >= e || *c != ':' || !(c[1] == ' ' || c[1] == '\t' || c[1] == '\n'))
        return 0;
    *name = b;
    return (size_t)(c - b);
}

int lore_rule_add(lore_kb *kb, const char *text, size_t len, const char *name, uint32_t *id)
{
    ctx_clear(&kb->ctx);
    if (kb->ctx.busy)
        return ctx_busy(&kb->ctx, "lore_rule_add");
    if (!text)
        return ctx_fail(&kb->ctx, LORE_ERR_ARG, "lore_rule_add: no text");
    int mrc = rules_may_change(kb, "lore_rule_add");
    if (mrc != LORE_OK)
        return mrc;
    rules *R = rules_get(kb);
    if (!R)
        return LORE_ERR_NOMEM;
    const char *e = text + len, *nm = NULL;
    size_t nml = leading_name(text, e, &nm);
    const char *start = nml ? nm + nml + 1 : text;
    if (name) {
        nm = name;
        nml = strlen(name);
    }
    const char *arrow = find_arrow(start, e);
    if (!arrow) {
        int l, c;
        const char *end = e;
        while (end > start && (end[-1] == ' ' || end[-1] == '\n' || end[-1] == '\t'))
            end--;
        line_col(text, (size_t)(end - text), &l, &c);
        return ctx_fail(&kb->ctx, LORE_ERR_SYNTAX,
                        "rule:%d:%d: expected ':-' between the head and the body, got end of text",
                        l, c);
    }
    /* the body */
    lore_query *body = NULL;
    size_t boff = (size_t)(arrow + 2 - text);
    int rc = lore_query_parse(kb, arrow + 2, (size_t)(e - arrow - 2), &body);
    if (rc != LORE_OK)
        return relocate(kb, rc, text, boff, 0);
    rule *r = rule_new(kb, body);
    if (!r)
        return LORE_ERR_NOMEM;
    qprog *p = r->prog;
    /* the head: triple patterns in the text form, read as a query of
     * their own, its variables mapped onto the body's by name */
    lore_query *hq = NULL;
    size_t hoff = (size_t)(start - text);
    rc = lore_query_parse(kb, start, (size_t)(arrow - start), &hq);
    if (rc != LORE_OK) {
        rc = relocate(kb, rc, text, hoff, 1);
        rule_free(kb, r);
        return rc;
    }
    qprog *hp = query_prog(hq);
    int n = 0;
    const char *bad = NULL;
    for (int i = hp->nodes[0].first; i >= 0; i = hp->nodes[i].next) {
        const qnode *x = &hp->nodes[i];
        if (x->kind != QN_PATTERN) {
            bad = x->kind == QN_PATH ? "a predicate name or variable, not a path"
                                     : "triple patterns only (subject predicate object)";
            break;
        }
        n++;
    }
    if (!bad && (hp->nnodes != n + 1 || n == 0))
        bad = n == 0 ? "a triple pattern before ':-'" : "triple patterns only";
    if (!bad && (hp->nitems || hp->ngroup || hp->norder || hp->distinct || hp->limit != UINT64_MAX))
        bad = "triple patterns only";
    const char *rname = nml ? nm : "";
    int rnl = (int)(nml ? nml : 0);
    if (bad) {
        rc = ctx_fail(&kb->ctx, LORE_ERR_RULE, "rule%s%.*s: head: expected %s", rnl ? " " : "", rnl,
                      rname, bad);
        goto done;
    }
    r->head = mem_calloc(&kb->m, (size_t)n, sizeof *r->head);
    if (!r->head) {
        rc = ctx_nomem(&kb->ctx);
        goto done;
    }
    r->nhead = n;
    int j = 0;
    for (int i = hp->nodes[0].first; i >= 0 && rc == LORE_OK; i = hp->nodes[i].next, j++) {
        const qnode *x = &hp->nodes[i];
        for (int t = 0; t < 3 && rc == LORE_OK; t++) {
            qslot sl = x->t[t];
            hterm *h = &r->head[j][t];
            if (sl.var >= 0) {
                const char *vn = hp->vars[sl.var];
                if (!vn[0]) {
                    rc = ctx_fail(&kb->ctx, LORE_ERR_RULE,
                                  "rule%s%.*s: head: expected variables or terms, not _",
                                  rnl ? " " : "", rnl, rname);
                    break;
                }
                h->var = -1;
                for (int v = 0; v < p->nvars; v++)
                    if (strcmp(p->vars[v], vn) == 0)
                        h->var = v;
                if (h->var < 0) {
                    char nbuf[128];
                    if (!nml)
                        default_name(kb, R, r->head[0], nbuf, sizeof nbuf);
                    rc = ctx_fail(&kb->ctx, LORE_ERR_RULE,
                                  "rule %.*s: ?%s is in the head but not bound by the body",
                                  nml ? (int)nml : (int)strlen(nbuf), nml ? nm : nbuf, vn);
                }
            } else {
                h->var = -1;
                const char *why;
                int irc = dict_intern(&kb->d, &hp->consts[-sl.var - 1].v, &h->id, &why);
                if (irc != LORE_OK)
                    rc = irc == LORE_ERR_NOMEM
                             ? ctx_nomem(&kb->ctx)
                             : ctx_fail(&kb->ctx, LORE_ERR_ARG, "rule: head: %s", why);
            }
        }
    }
    if (rc != LORE_OK)
        goto done;
    r->text = mem_strndup(&kb->m, start, (size_t)(e - start));
    if (!r->text) {
        rc = ctx_nomem(&kb->ctx);
        goto done;
    }
    /* trim the text's surrounding space */
    {
        size_t a = 0, b = (size_t)(e - start);
        while (a < b && (r->text[a] == ' ' || r->text[a] == '\n' || r->text[a] == '\t'))
            a++;
        while (b > a && (r->text[b - 1] == ' ' || r->text[b - 1] == '\n' || r->text[b - 1] == '\t'))
            b--;
        memmove(r->text, r->text + a, b - a);
        r->text[b - a] = '\0';
        r->textlen = (size_t)(e - start); /* the allocation's size, for freeing */
        /* keep the allocated size: textlen is used to free; store the
         * visible length apart by shrinking the block */
        void *q = r->text;
        if (mem_resize(&kb->m, &q, r->textlen + 1, b - a + 1, 1) == 0) {
            r->text = q;
            r->textlen = b - a;
        } else {
            r->text[b - a] = '\0';
        }
    }
    lore_query_free(hq);
    return install(kb, R, r, nml ? nm : NULL, nml, id);
done:
    lore_query_free(hq);
    rule_free(kb, r);
    return rc;
}

int lore_rule_define(lore_kb *kb, const char *name, const lore_qterm *head, size_t nhead,
                     lore_query *body, uint32_t *id)
{
    ctx_clear(&kb->ctx);
    if (!body)
        return ctx_fail(&kb->ctx, LORE_ERR_ARG, "lore_rule_define: no body");
    if (kb->ctx.busy) {
        lore_query_free(body);
        return ctx_busy(&kb->ctx, "lore_rule_define");
    }
    if (lore_query_kb(body) != kb) {
        lore_query_free(body);
        return ctx_fail(&kb->ctx, LORE_ERR_ARG, "lore_rule_define: the body belongs to another kb");
    }
    int mrc = rules_may_change(kb, "lore_rule_define");
    if (mrc != LORE_OK) {
        lore_query_free(body);
        return mrc;
    }
    rules *R = rules_get(kb);
    if (!R) {
        lore_query_free(body);
        return LORE_ERR_NOMEM;
    }
    rule *r = rule_new(kb, body);
    if (!r)
        return LORE_ERR_NOMEM;
    int rc = LORE_OK;
    size_t nml = name ? strlen(name) : 0;
    if (nhead == 0 || !head) {
        rc = ctx_fail(&kb->ctx, LORE_ERR_RULE, "rule%s%s: head: expected a triple pattern",
                      name ? " " : "", name ? name : "");
        goto fail;
    }
    r->head = mem_calloc(&kb->m, nhead, sizeof *r->head);
    if (!r->head) {
        rc = ctx_nomem(&kb->ctx);
        goto fail;
    }
    r->nhead = (int)nhead;
    qprog *p = r->prog;
    for (size_t j = 0; j < nhead && rc == LORE_OK; j++) {
        for (int t = 0; t < 3 && rc == LORE_OK; t++) {
            const lore_qterm *q = &head[3 * j + (size_t)t];
            hterm *h = &r->head[j][t];
            h->var = -1;
            if (q->var) {
                const char *vn = q->var[0] == '?' ? q->var + 1 : q->var;
                if (!vn[0] || strcmp(vn, "_") == 0) {
                    rc = ctx_fail(&kb->ctx, LORE_ERR_RULE,
                                  "rule%s%s: head: expected variables or terms, not _",
                                  name ? " " : "", name ? name : "");
                    break;
                }
                for (int v = 0; v < p->nvars; v++)
                    if (strcmp(p->vars[v], vn) == 0)
                        h->var = v;
                if (h->var < 0) {
                    char nbuf[128];
                    if (!name) {
                        hterm tmp[3] = {{-1, 0}, {-1, 0}, {-1, 0}};
                        const lore_qterm *hp1 = &head[1];
                        if (!hp1->var && hp1->id && dict_valid(&kb->d, hp1->id))
                            tmp[1].id = hp1->id;
                        else if (!hp1->var && hp1->value)
                            dict_lookup(&kb->d, hp1->value, &tmp[1].id, &(const char *){NULL});
                        if (!tmp[1].id)
                            tmp[1].var = 0;
                        default_name(kb, R, tmp, nbuf, sizeof nbuf);
                    }
                    rc = ctx_fail(&kb->ctx, LORE_ERR_RULE,
                                  "rule %s: ?%s is in the head but not bound by the body",
                                  name ? name : nbuf, vn);
                }
            } else if (q->value) {
                const char *why;
                int irc = dict_intern(&kb->d, q->value, &h->id, &why);
                if (irc != LORE_OK)
                    rc = irc == LORE_ERR_NOMEM
                             ? ctx_nomem(&kb->ctx)
                             : ctx_fail(&kb->ctx, LORE_ERR_ARG, "rule: head: %s", why);
            } else if (q->id && dict_valid(&kb->d, q->id)) {
                h->id = q->id;
            } else {
                rc = ctx_fail(&kb->ctx, LORE_ERR_RULE,
                              q->id ? "rule%s%s: head: not a term id (%u)"
                                    : "rule%s%s: head: expected variables or terms, not wildcards",
                              name ? " " : "", name ? name : "", (unsigned)q->id);
            }
        }
    }
    if (rc != LORE_OK)
        goto fail;
    return install(kb, R, r, name, nml, id);
fail:
    rule_free(kb, r);
    return rc;
}

int lore_rule_remove(lore_kb *kb, uint32_t id)
{
    ctx_clear(&kb->ctx);
    rules *R = kb->rules;
    for (size_t i = 0; R && i < R->n; i++) {
        if (R->v[i]->id != id)
            continue;
        rule *r = R->v[i];
        int rc = rules_may_change(kb, "lore_rule_remove");
        if (rc == LORE_OK)
            rc = journal_rule(kb, r, 0);
        if (rc != LORE_OK)
            return rc;
        memmove(R->v + i, R->v + i + 1, (R->n - i - 1) * sizeof *R->v);
        R->n--;
        pindex(R, r, -1);
        if (R->nhcap && names_rebuild(kb, R, 0) != LORE_OK) {
            mem_free(&kb->m, R->nh, R->nhcap, sizeof *R->nh);
            R->nh = NULL, R->nhcap = 0;
        }
        /* fewer rules always stratify; only memory can fail, and then the
         * strata are rebuilt at the next lore_infer */
        if (stratify(kb, R) != LORE_OK)
            strata_free(kb, R);
        else
            R->stale = 0;
        rule_free(kb, r);
        R->full = 1;
        if (rules_sync_log(kb) != LORE_OK)
            ctx_clear(&kb->ctx); /* the log stays on: harmless */
        return LORE_OK;
    }
    return ctx_fail(&kb->ctx, LORE_ERR_NOTFOUND, "lore_rule_remove: no rule %u", (unsigned)id);
}

int lore_rule_find(const lore_kb *kb, const char *name, uint32_t *id)
{
    const rules *R = kb->rules;
    size_t n = name ? strlen(name) : 0;
    for (size_t i = 0; R && name && i < R->n; i++) {
        if (R->v[i]->namelen == n && memcmp(R->v[i]->name, name, n) == 0) {
            *id = R->v[i]->id;
            return LORE_OK;
        }
    }
    return LORE_ERR_NOTFOUND;
}

void lore_infer_progress(lore_kb *kb, lore_infer_progress_fn fn, void *ud)
{
    rules *R = rules_get(kb);
    if (R)
        R->progress = fn, R->progress_ud = ud;
}

const char *lore_rule_name(const lore_kb *kb, uint32_t id)
{
    const rules *R = kb->rules;
    if (!R)
        return NULL;
    /* rules stay in the order of their ids */
    size_t lo = 0, hi = R->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (R->v[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < R->n && R->v[lo]->id == id ? R->v[lo]->name : NULL;
}

size_t lore_rule_count(const lore_kb *kb)
{
    return kb->rules ? kb->rules->n : 0;
}

int lore_rule_info_at(const lore_kb *kb, size_t i, lore_rule_info *info)
{
    const rules *R = kb->rules;
    memset(info, 0, sizeof *info);
    if (!R || i >= R->n)
        return LORE_ERR_NOTFOUND;
    if (R->stale) /* the strata are a cache: made here when a rule awaits them */
        (void)rules_stratify((lore_kb *)kb);
    const rule *r = R->v[i];
    info->id = r->id;
    info->name = r->name;
    info->text = r->text;
    info->stratum = R->strata && !R->stale ? r->stratum : -1;
    info->closure = R->strata && !R->stale && R->strata[r->stratum].tc != TC_NONE;
    return LORE_OK;
}

/* ------------------------------------------------------------------ */
/* inference, derived facts                                           */

int lore_infer(lore_kb *kb, lore_infer_stats *stats)
{
    ctx_clear(&kb->ctx);
    if (stats)
        memset(stats, 0, sizeof *stats);
    if (kb->ctx.busy)
        return ctx_busy(&kb->ctx, "lore_infer");
    rules *R = kb->rules;
    if (R && R->firing)
        return ctx_fail(&kb->ctx, LORE_ERR_STATE, "lore_infer: called from a trigger");
    if (!R || (R->n == 0 && R->ntrig == 0 && !R->full && kb->st.nderived == 0))
        return LORE_OK;
    return infer_run(kb, stats);
}

void lore_infer_limit(lore_kb *kb, uint64_t max_derived)
{
    rules *R = rules_get(kb);
    if (R)
        R->max_derived = max_derived;
}

size_t lore_derived_count(const lore_kb *kb)
{
    return kb->st.nderived;
}

int lore_infer_pending(const lore_kb *kb)
{
    const rules *R = kb->rules;
    if (!R)
        return 0;
    if (R->full)
        return 1;
    const store *st = &kb->st;
    for (size_t i = 0; i < st->clogcap; i++) {
        const clog_slot *e = &st->clog[i];
        if (e->s && (store_meta(st, e->s, e->p, e->o) & (META_ASSERTED | META_DERIVED)) != e->flags)
            return 1;
    }
    return 0;
}

int lore_clear_derived(lore_kb *kb, size_t *removed)
{
    ctx_clear(&kb->ctx);
    if (removed)
        *removed = 0;
    if (kb->ctx.busy)
        return ctx_busy(&kb->ctx, "lore_clear_derived");
    int rc = store_clear_derived(&kb->st, removed);
    if (rc == LORE_ERR_NOMEM)
        return ctx_nomem(&kb->ctx);
    if (kb->rules)
        kb->rules->full = 1;
    return rc;
}

/* ------------------------------------------------------------------ */
/* explanations                                                       */

int lore_why(lore_kb *kb, lore_id s, lore_id p, lore_id o, lore_proof **pr)
{
    ctx_clear(&kb->ctx);
    *pr = NULL;
    if (kb->ctx.busy)
        return ctx_busy(&kb->ctx, "lore_why");
    uint32_t t[3] = {s, p, o};
    if (!store_meta(&kb->st, s, p, o))
        return LORE_ERR_NOTFOUND;
    int rc = rules_stratify(kb);
    if (rc != LORE_OK)
        return rc;
    return why_explain(kb, t, pr);
}

/* ------------------------------------------------------------------ */
/* triggers                                                           */

int lore_on(lore_kb *kb, lore_id s, lore_id p, lore_id o, int events, lore_trigger_fn fn, void *ud,
            uint32_t *handle)
{
    ctx_clear(&kb->ctx);
    const lore_id t[3] = {s, p, o};
    for (int k = 0; k < 3; k++)
        if (t[k] && !dict_valid(&kb->d, t[k]))
            return ctx_fail(&kb->ctx, LORE_ERR_ARG, "lore_on: not a term id (%u)", (unsigned)t[k]);
    if (!fn)
        return ctx_fail(&kb->ctx, LORE_ERR_ARG, "lore_on: no function");
    if (events & ~(LORE_ON_ADDED | LORE_ON_REMOVED) || !events)
        return ctx_fail(&kb->ctx, LORE_ERR_ARG,
                        "lore_on: events: LORE_ON_ADDED and/or LORE_ON_REMOVED");
    rules *R = rules_get(kb);
    if (!R)
        return LORE_ERR_NOMEM;
    if (mem_reserve(&kb->m, (void **)&R->trig, &R->trigcap, R->ntrig + 1, sizeof *R->trig) != 0)
        return ctx_nomem(&kb->ctx);
    trigger *g = &R->trig[R->ntrig++];
    memcpy(g->t, t, sizeof t);
    g->events = events, g->fn = fn, g->ud = ud;
    g->handle = R->next_handle++;
    int rc = rules_sync_log(kb);
    if (rc != LORE_OK) {
        R->ntrig--;
        return rc;
    }
    if (handle)
        *handle = g->handle;
    return LORE_OK;
}

int lore_off(lore_kb *kb, uint32_t handle)
{
    ctx_clear(&kb->ctx);
    rules *R = kb->rules;
    for (size_t i = 0; R && i < R->ntrig; i++) {
        if (R->trig[i].handle != handle)
            continue;
        if (R->firing) { /* keep the array still while it is walked */
            R->trig[i].fn = NULL;
            return LORE_OK;
        }
        memmove(R->trig + i, R->trig + i + 1, (R->ntrig - i - 1) * sizeof *R->trig);
        R->ntrig--;
        if (rules_sync_log(kb) != LORE_OK)
            ctx_clear(&kb->ctx);
        return LORE_OK;
    }
    return ctx_fail(&kb->ctx, LORE_ERR_NOTFOUND, "lore_off: no trigger %u", (unsigned)handle);
}
