/* why.c - proofs of facts: which rule derived a fact, from which premises,
 * down to asserted facts and their sources.  Derivations are chosen so
 * that every premise has a lower rank than the fact (rules.h), which
 * keeps proofs well-founded; a fact of unknown rank is searched for with
 * a budget, avoiding the facts being explained.  Closure facts are
 * explained by a shortest chain of edges. */
#define LORE_BUILDING 1
#include "rules.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sort.h"

enum {
    BUDGET = 20000, /* body solutions looked at per proof */
    AGG_MAX = 50    /* premises shown for an aggregate */
};

struct lore_proof {
    lore_kb *kb;
    lore_proof_step *steps;
    size_t n, cap;
    tset seen;         /* facts explained */
    uint32_t *seenidx; /* parallel to seen's slots: the step */
    tset active;       /* facts being explained (unknown ranks) */
    size_t budget;
    char *text;
    size_t textlen, textcap;
};

/* Per-step arrays live in one block each, freed with the step. */
static void step_free(const mem *m, lore_proof_step *s)
{
    mem_free(m, (void *)s->names, s->nbind, sizeof *s->names);
    mem_free(m, (void *)s->values, s->nbind, sizeof *s->values);
    mem_free(m, (void *)s->premises, s->npremises, sizeof *s->premises);
    mem_free(m, (void *)s->sources, s->nsources, sizeof *s->sources);
}

void lore_proof_free(lore_proof *pr)
{
    if (!pr)
        return;
    const mem *m = &pr->kb->m;
    for (size_t i = 0; i < pr->n; i++)
        step_free(m, &pr->steps[i]);
    mem_free(m, pr->steps, pr->cap, sizeof *pr->steps);
    mem_free(m, pr->seenidx, pr->seen.cap, sizeof *pr->seenidx);
    tset_free(m, &pr->seen);
    tset_free(m, &pr->active);
    mem_free(m, pr->text, pr->textcap, 1);
    mem_free(m, pr, 1, sizeof *pr);
}

size_t lore_proof_steps(const lore_proof *pr)
{
    return pr->n;
}

const lore_proof_step *lore_proof_step_at(const lore_proof *pr, size_t i)
{
    return i < pr->n ? &pr->steps[i] : NULL;
}

static int new_step(lore_proof *pr, const uint32_t t[3], int depth, size_t *at)
{
    if (mem_reserve(&pr->kb->m, (void **)&pr->steps, &pr->cap, pr->n + 1, sizeof *pr->steps) != 0)
        return ctx_nomem(&pr->kb->ctx);
    lore_proof_step *s = &pr->steps[pr->n];
    memset(s, 0, sizeof *s);
    memcpy(s->fact, t, 3 * sizeof *t);
    s->depth = depth;
    *at = pr->n++;
    return LORE_OK;
}

/* The step that explains t already, or -1. */
static long seen_at(const lore_proof *pr, const uint32_t t[3])
{
    if (!pr->seen.n)
        return -1;
    size_t mask = pr->seen.cap - 1, i = hash_triple(t[0], t[1], t[2]) & mask;
    for (;;) {
        const uint32_t *e = pr->seen.t + 3 * i;
        if (e[0] == 0)
            return -1;
        if (e[0] == t[0] && e[1] == t[1] && e[2] == t[2])
            return (long)pr->seenidx[i];
        i = (i + 1) & mask;
    }
}

/* Records that step `at` explains t (rehashing the index alongside). */
static int mark_seen(lore_proof *pr, const uint32_t t[3], size_t at)
{
    const mem *m = &pr->kb->m;
    size_t oldcap = pr->seen.cap;
    tset old = pr->seen;
    uint32_t *oldidx = pr->seenidx;
    if ((pr->seen.n + 1) * 2 > pr->seen.cap) {
        size_t cap = oldcap ? oldcap * 2 : 64;
        uint32_t *nt = mem_calloc(m, cap, 3 * sizeof *nt);
        uint32_t *ni = mem_alloc(m, cap, sizeof *ni);
        if (!nt || !ni) {
            mem_free(m, nt, cap, 3 * sizeof *nt);
            mem_free(m, ni, cap, sizeof *ni);
            return ctx_nomem(&pr->kb->ctx);
        }
        for (size_t i = 0; i < oldcap; i++) {
            const uint32_t *e = old.t + 3 * i;
            if (!e[0])
                continue;
            size_t j = hash_triple(e[0], e[1], e[2]) & (cap - 1);
            while (nt[3 * j])
                j = (j + 1) & (cap - 1);
            memcpy(nt + 3 * j, e, 3 * sizeof *e);
            ni[j] = oldidx[i];
        }
        mem_free(m, old.t, oldcap, 3 * sizeof *old.t);
        mem_free(m, oldidx, oldcap, sizeof *oldidx);
        pr->seen.t = nt, pr->seen.cap = cap, pr->seenidx = ni;
    }
    size_t mask = pr->seen.cap - 1, i = hash_triple(t[0], t[1], t[2]) & mask;
    while (pr->seen.t[3 * i])
        i = (i + 1) & mask;
    memcpy(pr->seen.t + 3 * i, t, 3 * sizeof *t);
    pr->seenidx[i] = (uint32_t)at;
    pr->seen.n++;
    return LORE_OK;
}

/* The rank of a present fact: 0 when asserted, its payload when derived
 * only (0 there means unknown). */
static uint32_t rank_of(const store *st, const uint32_t t[3], int *unknown)
{
    uint32_t m = store_meta(st, t[0], t[1], t[2]);
    *unknown = 0;
    if (!m || (m & META_ASSERTED))
        return 0;
    uint32_t r = m & META_PAYLOAD;
    *unknown = r == 0;
    return r;
}

/* ------------------------------------------------------------------ */
/* finding a derivation                                               */

typedef struct cand {
    lore_proof *pr;
    rule *r;
    uint32_t rank; /* the fact's (0: unknown) */
    int unknown;
    uint32_t *row; /* the chosen solution, copied */
    int found;
    tvec prem; /* its premises */
} cand;

/* The premises of a solution: the patterns outside without-groups whose
 * terms are all bound and whose facts are present. */
static int premises_of(lore_kb *kb, const rule *r, const uint32_t *row, tvec *out)
{
    const qprog *p = r->prog;
    out->n = 0;
    for (int i = 0; i < p->nnodes; i++) {
        const qnode *x = &p->nodes[i];
        if (x->kind != QN_PATTERN)
            continue;
        int neg = 0;
        for (int a = x->parent; a >= 0; a = p->nodes[a].parent)
            neg |= p->nodes[a].kind == QN_WITHOUT;
        if (neg)
            continue;
        uint32_t t[3];
        int ok = 1;
        for (int k = 0; k < 3; k++) {
            qslot sl = x->t[k];
            t[k] = sl.var >= 0 ? row[sl.var] : p->consts[-sl.var - 1].id;
            ok &= t[k] != 0;
        }
        if (!ok || !store_meta(&kb->st, t[0], t[1], t[2]))
            continue;
        int dupl = 0;
        for (size_t j = 0; j < out->n && !dupl; j++)
            dupl = row_cmp(out->t + 3 * j, t) == 0;
        if (!dupl && tvec_push(&kb->m, out, t) != LORE_OK)
            return ctx_nomem(&kb->ctx);
    }
    return LORE_OK;
}

static int accept(qexec *x, cand *c)
{
    lore_kb *kb = c->pr->kb;
    tvec prem = {NULL, 0, 0};
    int rc = premises_of(kb, c->r, x->row, &prem);
    if (rc != LORE_OK)
        return rc;
    int good = 1;
    for (size_t i = 0; i < prem.n && good; i++) {
        const uint32_t *t = prem.t + 3 * i;
        int unk;
        uint32_t r = rank_of(&kb->st, t, &unk);
        if (c->unknown)
            good = !tset_has(&c->pr->active, t); /* no cycle through the facts being explained */
        else
            good = unk ? 0 : r < c->rank;
    }
    if (good) {
        c->found = 1;
        memcpy(c->row, x->row, (size_t)c->r->prog->nvars * sizeof *c->row);
        tvec_free(&kb->m, &c->prem);
        c->prem = prem;
        return LORE_OK;
    }
    tvec_free(&kb->m, &prem);
    return LORE_OK;
}

/* Looks for a solution of r's body producing t by head j. */
static int try_rule(lore_proof *pr, rule *r, int j, const uint32_t t[3], cand *c)
{
    lore_kb *kb = pr->kb;
    const hterm *h = r->head[j];
    int nv = r->prog->nvars, rc;
    uint8_t *bound = mem_calloc(&kb->m, (size_t)nv + 1, 1);
    uint32_t *init = mem_calloc(&kb->m, (size_t)nv + 1, sizeof *init);
    if (!bound || !init) {
        rc = ctx_nomem(&kb->ctx);
        goto cleanup;
    }
    for (int k = 0; k < 3; k++)
        if (h[k].var >= 0) {
            bound[h[k].var] = 1;
            init[h[k].var] = t[k];
        }
    if (r->agg) {
        /* only the group's variables are pattern variables */
        for (int v = 0; v < nv; v++) {
            int grouped = 0;
            for (int g = 0; g < r->prog->ngroup; g++)
                grouped |= r->prog->group[g] == v;
            if (!grouped)
                bound[v] = 0, init[v] = 0;
        }
    }
    if ((rc = qprog_check(r->prog, bound)) != LORE_OK)
        goto cleanup;
    qplan pl;
    qplan_opts o = {bound, -1, 0, 0, 0, 0, 0};
    if ((rc = qplan_make(kb, r->prog, &o, &pl)) != LORE_OK)
        goto cleanup;
    qexec x;
    if (store_prepare(&kb->st) != LORE_OK ||
        (rc = qexec_open(&x, kb, r->prog, &pl, init)) != LORE_OK) {
        qplan_free(&kb->m, &pl);
        rc = ctx_nomem(&kb->ctx);
        goto cleanup;
    }
    x.q = r->body;
    c->r = r;
    if (r->agg) {
        /* an aggregate: every row of the group counts; show some */
        c->found = 1;
        tvec one = {NULL, 0, 0};
        while ((rc = qexec_next(&x)) == LORE_OK) {
            if (c->prem.n >= 3 * (size_t)AGG_MAX)
                continue;
            if ((rc = premises_of(kb, r, x.row, &one)) != LORE_OK)
                break;
            for (size_t i = 0; i < one.n && rc == LORE_OK; i++)
                if (c->prem.n < AGG_MAX)
                    rc = tvec_push(&kb->m, &c->prem, one.t + 3 * i) == LORE_OK
                             ? LORE_OK
                             : ctx_nomem(&kb->ctx);
        }
        tvec_free(&kb->m, &one);
        memcpy(c->row, init, (size_t)nv * sizeof *init);
        /* the aggregate's values: from the head */
        for (int k = 0; k < 3; k++)
            if (h[k].var >= 0)
                c->row[h[k].var] = t[k];
    } else {
        while (!c->found && (rc = qexec_next(&x)) == LORE_OK) {
            if (pr->budget == 0) {
                rc = LORE_DONE;
                break;
            }
            pr->budget--;
            if ((rc = accept(&x, c)) != LORE_OK)
                break;
        }
    }
    qexec_close(&x);
    qplan_free(&kb->m, &pl);
    if (rc == LORE_DONE)
        rc = LORE_OK;
cleanup:
    mem_free(&kb->m, bound, (size_t)nv + 1, 1);
    mem_free(&kb->m, init, (size_t)nv + 1, sizeof *init);
    return rc;
}

static int explain(lore_proof *pr, const uint32_t t[3], int depth, size_t *at);

/* Fills step `at` as derived by r with row c->row and its premises. */
static int rule_step(lore_proof *pr, size_t at, const rule *r, const uint32_t *row,
                     const tvec *prem, int depth)
{
    lore_kb *kb = pr->kb;
    const mem *m = &kb->m;
    const qprog *p = r->prog;
    size_t nb = 0;
    for (int v = 0; v < p->nvars; v++)
        nb += p->vars[v][0] != '\0';
    const char **names = nb ? mem_alloc(m, nb, sizeof *names) : NULL;
    lore_id *values = nb ? mem_alloc(m, nb, sizeof *values) : NULL;
    size_t *pi = prem->n ? mem_alloc(m, prem->n, sizeof *pi) : NULL;
    if ((nb && (!names || !values)) || (prem->n && !pi)) {
        mem_free(m, names, nb, sizeof *names);
        mem_free(m, values, nb, sizeof *values);
        mem_free(m, pi, prem->n, sizeof *pi);
        return ctx_nomem(&kb->ctx);
    }
    size_t k = 0;
    for (int v = 0; v < p->nvars; v++)
        if (p->vars[v][0])
            names[k] = p->vars[v], values[k++] = row[v];
    lore_proof_step *s = &pr->steps[at];
    s->kind = LORE_PROOF_RULE;
    s->rule = r->name;
    s->nbind = nb, s->names = names, s->values = values;
    s->premises = pi, s->npremises = prem->n;
    for (size_t i = 0; i < prem->n; i++) {
        size_t sub;
        int rc = explain(pr, prem->t + 3 * i, depth + 1, &sub);
        if (rc != LORE_OK)
            return rc;
        pi[i] = sub; /* pr->steps may have moved; pi is ours */
    }
    return LORE_OK;
}

/* ------------------------------------------------------------------ */
/* closure facts                                                      */

/* The shortest chain of e edges from x to y: nodes v[0] = x .. v[n-1] = y. */
static int chain(lore_kb *kb, uint32_t e, uint32_t x, uint32_t y, tvec *nodes)
{
    const mem *m = &kb->m;
    tvec q = {NULL, 0, 0}; /* (node, parent index, 0) */
    tset seen = {NULL, 0, 0};
    int rc = LORE_OK, isnew;
    uint32_t first[3] = {x, UINT32_MAX, 0}, key[3] = {x, 0, 0};
    nodes->n = 0;
    if (tvec_push(m, &q, first) != LORE_OK || tset_add(m, &seen, key, &isnew) != LORE_OK) {
        rc = ctx_nomem(&kb->ctx);
        goto cleanup;
    }
    size_t hit = SIZE_MAX;
    for (size_t i = 0; i < q.n && hit == SIZE_MAX && rc == LORE_OK; i++) {
        uint32_t v = q.t[3 * i];
        store_iter it;
        if (store_iter_init(&kb->st, &it, v, e, 0) != LORE_OK) {
            rc = ctx_nomem(&kb->ctx);
            break;
        }
        uint32_t t[3];
        while (hit == SIZE_MAX && store_iter_next(&it, t) == LORE_OK) {
            uint32_t k2[3] = {t[2], 0, 0};
            if (tset_add(m, &seen, k2, &isnew) != LORE_OK) {
                rc = ctx_nomem(&kb->ctx);
                break;
            }
            if (!isnew && t[2] != y)
                continue;
            uint32_t row[3] = {t[2], (uint32_t)i, 0};
            if (tvec_push(m, &q, row) != LORE_OK) {
                rc = ctx_nomem(&kb->ctx);
                break;
            }
            if (t[2] == y)
                hit = q.n - 1;
        }
        store_iter_done(&it);
    }
    if (rc == LORE_OK && hit != SIZE_MAX) {
        size_t len = 0;
        for (size_t i = hit; i != UINT32_MAX; i = q.t[3 * i + 1])
            len++;
        for (size_t k = 0; k < len; k++) {
            uint32_t z[3] = {0, 0, 0};
            if (tvec_push(m, nodes, z) != LORE_OK) {
                rc = ctx_nomem(&kb->ctx);
                break;
            }
        }
        size_t k = len;
        for (size_t i = hit; rc == LORE_OK && i != UINT32_MAX; i = q.t[3 * i + 1])
            nodes->t[3 * --k] = q.t[3 * i];
    }
cleanup:
    tvec_free(m, &q);
    tset_free(m, &seen);
    return rc;
}

/* A closure fact r(v[a], v[b]) along the chain v, as the stratum's rules
 * derive it. */
/* Starts the step of fact t at *at: a repeat of an earlier step of the
 * same fact (*fresh = 0), or a new one, remembered (*fresh = 1). */
static int begin_step(lore_proof *pr, const uint32_t t[3], int depth, size_t *at, int *fresh)
{
    long j = seen_at(pr, t);
    int rc = new_step(pr, t, depth, at);
    *fresh = 0;
    if (rc != LORE_OK)
        return rc;
    if (j >= 0) {
        pr->steps[*at].kind = LORE_PROOF_REPEAT;
        pr->steps[*at].same = (size_t)j;
        return LORE_OK;
    }
    *fresh = 1;
    return mark_seen(pr, t, *at);
}

static int tc_step(lore_proof *pr, const stratum *s, const tvec *v, size_t a, size_t b, int depth,
                   size_t *at);

static int tc_fill(lore_proof *pr, const stratum *s, const tvec *v, size_t a, size_t b, int depth,
                   size_t at)
{
    lore_kb *kb = pr->kb;
    rules *R = kb->rules;
    const uint32_t *n = v->t;
    uint32_t x = n[3 * a], z = n[3 * b];
    tvec prem = {NULL, 0, 0};
    int rc = LORE_OK;
    const rule *r;
    if (s->tc == TC_PATH || b == a + 1) {
        r = R->v[s->tc == TC_PATH ? s->tcrule[1] : s->tcrule[0]];
        /* the base rule (or the path rule): its edges are the premises */
        for (size_t i = a; i < b && rc == LORE_OK; i++) {
            uint32_t t[3] = {n[3 * i], s->e, n[3 * (i + 1)]};
            rc = tvec_push(&kb->m, &prem, t);
        }
        size_t nv = (size_t)r->prog->nvars + 1;
        uint32_t *row = rc == LORE_OK ? mem_calloc(&kb->m, nv, sizeof *row) : NULL;
        if (row) {
            const qnode *body = &r->prog->nodes[r->prog->nodes[0].first];
            row[body->t[0].var] = x, row[body->t[2].var] = z;
            rc = rule_step(pr, at, r, row, &prem, depth);
            mem_free(&kb->m, row, nv, sizeof *row);
        } else {
            rc = ctx_nomem(&kb->ctx);
        }
        tvec_free(&kb->m, &prem);
        return rc;
    }
    r = R->v[s->tcrule[1]];
    size_t mid = s->tc == TC_RIGHT ? a + 1 : s->tc == TC_LEFT ? b - 1 : a + (b - a) / 2;
    uint32_t y = n[3 * mid];
    /* the recursive rule: its two patterns, in its written order */
    const qprog *p = r->prog;
    const qnode *f = &p->nodes[p->nodes[0].first], *g = &p->nodes[p->nodes[0].last];
    uint32_t row[64];
    if (p->nvars > 64)
        return LORE_OK; /* the recursive rule has three variables */
    memset(row, 0, (size_t)p->nvars * sizeof *row);
    const hterm *h = r->head[0];
    row[h[0].var] = x, row[h[2].var] = z;
    /* the chained variable is the one the two patterns share */
    int yv = f->t[2].var == g->t[0].var ? f->t[2].var : g->t[2].var;
    row[yv] = y;
    uint32_t t1[3] = {x, s->tc == TC_LEFT || s->tc == TC_DOUBLE ? s->r : s->e, y};
    uint32_t t2[3] = {y, s->tc == TC_RIGHT || s->tc == TC_DOUBLE ? s->r : s->e, z};
    lore_proof_step *st = &pr->steps[at];
    const char **names = NULL;
    lore_id *values = NULL;
    size_t nb = 0;
    for (int i = 0; i < p->nvars; i++)
        nb += p->vars[i][0] != '\0';
    names = nb ? mem_alloc(&kb->m, nb, sizeof *names) : NULL;
    values = nb ? mem_alloc(&kb->m, nb, sizeof *values) : NULL;
    size_t *pi = mem_alloc(&kb->m, 2, sizeof *pi);
    if ((nb && (!names || !values)) || !pi) {
        mem_free(&kb->m, names, nb, sizeof *names);
        mem_free(&kb->m, values, nb, sizeof *values);
        mem_free(&kb->m, pi, 2, sizeof *pi);
        return ctx_nomem(&kb->ctx);
    }
    size_t k = 0;
    for (int i = 0; i < p->nvars; i++)
        if (p->vars[i][0])
            names[k] = p->vars[i], values[k++] = row[i];
    st->kind = LORE_PROOF_RULE;
    st->rule = r->name;
    st->nbind = nb, st->names = names, st->values = values;
    st->premises = pi, st->npremises = 2;
    size_t sub;
    /* first premise */
    if (t1[1] == s->e)
        rc = explain(pr, t1, depth + 1, &sub);
    else
        rc = tc_step(pr, s, v, a, mid, depth + 1, &sub);
    if (rc != LORE_OK)
        return rc;
    pi[0] = sub;
    if (t2[1] == s->e)
        rc = explain(pr, t2, depth + 1, &sub);
    else
        rc = tc_step(pr, s, v, mid, b, depth + 1, &sub);
    if (rc != LORE_OK)
        return rc;
    pi[1] = sub;
    return LORE_OK;
}

static int tc_step(lore_proof *pr, const stratum *s, const tvec *v, size_t a, size_t b, int depth,
                   size_t *at)
{
    uint32_t t[3] = {v->t[3 * a], s->r, v->t[3 * b]};
    int fresh, rc = begin_step(pr, t, depth, at, &fresh);
    if (rc != LORE_OK || !fresh)
        return rc;
    return tc_fill(pr, s, v, a, b, depth, *at);
}

/* ------------------------------------------------------------------ */
/* one fact                                                           */

static int explain(lore_proof *pr, const uint32_t t[3], int depth, size_t *at)
{
    lore_kb *kb = pr->kb;
    rules *R = kb->rules;
    int fresh, rc = begin_step(pr, t, depth, at, &fresh);
    if (rc != LORE_OK || !fresh)
        return rc;
    uint32_t meta = store_meta(&kb->st, t[0], t[1], t[2]);
    if (meta & META_ASSERTED) {
        size_t n = store_meta_sources(&kb->st, meta, NULL, 0);
        lore_id *src = mem_alloc(&kb->m, n, sizeof *src);
        if (!src)
            return ctx_nomem(&kb->ctx);
        store_meta_sources(&kb->st, meta, src, n);
        lore_proof_step *s = &pr->steps[*at];
        s->kind = LORE_PROOF_ASSERTED;
        s->sources = src, s->nsources = n;
        return LORE_OK;
    }
    pr->steps[*at].kind = LORE_PROOF_UNKNOWN;
    if (!(meta & META_DERIVED) || !R || !R->strata)
        return LORE_OK;
    if (ctx_interrupted(&kb->ctx))
        return LORE_ERR_INTERRUPT;
    /* a closure fact: the shortest chain of edges */
    for (int si = 0; si < R->nstrata; si++) {
        const stratum *s = &R->strata[si];
        if (s->tc == TC_NONE || s->r != t[1] || s->nasserted)
            continue;
        tvec v = {NULL, 0, 0};
        rc = chain(kb, s->e, t[0], t[2], &v);
        if (rc == LORE_OK && v.n >= 2)
            rc = tc_fill(pr, s, &v, 0, v.n - 1, depth, *at);
        tvec_free(&kb->m, &v);
        if (rc != LORE_OK || pr->steps[*at].kind != LORE_PROOF_UNKNOWN)
            return rc;
    }
    int unknown;
    uint32_t rank = rank_of(&kb->st, t, &unknown);
    cand c;
    memset(&c, 0, sizeof c);
    c.pr = pr, c.rank = rank, c.unknown = unknown;
    int isnew;
    if (unknown && tset_add(&kb->m, &pr->active, t, &isnew) != LORE_OK)
        return ctx_nomem(&kb->ctx);
    for (size_t i = 0; i < R->n && !c.found && rc == LORE_OK; i++) {
        rule *r = R->v[i];
        for (int h = 0; h < r->nhead && !c.found && rc == LORE_OK; h++) {
            if (!rules_head_matches(r->head[h], t))
                continue;
            c.row = mem_calloc(&kb->m, (size_t)r->prog->nvars + 1, sizeof *c.row);
            if (!c.row) {
                rc = ctx_nomem(&kb->ctx);
                break;
            }
            rc = try_rule(pr, r, h, t, &c);
            if (rc == LORE_OK && c.found)
                rc = rule_step(pr, *at, r, c.row, &c.prem, depth);
            mem_free(&kb->m, c.row, (size_t)r->prog->nvars + 1, sizeof *c.row);
            c.row = NULL;
        }
    }
    tvec_free(&kb->m, &c.prem);
    return rc;
}

/* ------------------------------------------------------------------ */
/* the text                                                           */

typedef struct tbuf {
    lore_proof *pr;
    int rc;
} tbuf;

static void put(tbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void putn(tbuf *b, const char *s, size_t n)
{
    lore_proof *pr = b->pr;
    if (b->rc)
        return;
    if (mem_reserve(&pr->kb->m, (void **)&pr->text, &pr->textcap, pr->textlen + n + 1, 1) != 0) {
        b->rc = LORE_ERR_NOMEM;
        return;
    }
    memcpy(pr->text + pr->textlen, s, n);
    pr->textlen += n;
    pr->text[pr->textlen] = '\0';
}

static void put(tbuf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        putn(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* A term as lore writes it: symbols and dates bare, texts quoted with
 * their tag, numbers as read back. */
static void put_term(tbuf *b, lore_id id)
{
    lore_value v;
    if (!dict_valid(&b->pr->kb->d, id)) {
        putn(b, "_", 1);
        return;
    }
    dict_get(&b->pr->kb->d, id, &v);
    switch (v.kind) {
    case LORE_SYMBOL:
    case LORE_DATE:
        putn(b, v.str, v.len);
        break;
    case LORE_TEXT:
        putn(b, "\"", 1);
        for (size_t i = 0; i < v.len; i++) {
            char c = v.str[i];
            if (c == '"' || c == '\\')
                putn(b, "\\", 1);
            if (c == '\n')
                putn(b, "\\n", 2);
            else
                putn(b, &c, 1);
        }
        putn(b, "\"", 1);
        if (v.lang && v.langlen) {
            putn(b, "@", 1);
            putn(b, v.lang, v.langlen);
        }
        break;
    case LORE_INTEGER:
        put(b, "%lld", (long long)v.i);
        break;
    case LORE_NUMBER: {
        char t[40];
        int digits = 15;
        for (; digits < 17; digits++) {
            snprintf(t, sizeof t, "%.*g", digits, v.n);
            double back;
            if (sscanf(t, "%lf", &back) == 1 && back == v.n)
                break;
        }
        snprintf(t, sizeof t, "%.*g", digits, v.n);
        if (!strpbrk(t, ".eEn")) /* a double looks like one */
            strcat(t, ".0");
        put(b, "%s", t);
        break;
    }
    case LORE_BOOLEAN:
        put(b, "%s", v.i ? "true" : "false");
        break;
    }
}

static void put_fact(tbuf *b, const lore_id t[3])
{
    put_term(b, t[0]);
    putn(b, " ", 1);
    put_term(b, t[1]);
    putn(b, " ", 1);
    put_term(b, t[2]);
}

/* The `text` of a source (its sentence), or 0. */
static lore_id source_text(lore_kb *kb, lore_id src)
{
    lore_value v = {LORE_SYMBOL, "text", 4, NULL, 0, 0, 0};
    lore_id text, t[3];
    const char *why;
    if (!src || dict_lookup(&kb->d, &v, &text, &why) != LORE_OK)
        return 0;
    store_iter it;
    if (store_iter_init(&kb->st, &it, src, text, 0) != LORE_OK)
        return 0;
    lore_id found = 0;
    if (store_iter_next(&it, t) == LORE_OK)
        found = t[2];
    store_iter_done(&it);
    return found;
}

const char *lore_proof_text(lore_proof *pr)
{
    if (pr->text)
        return pr->text;
    tbuf b = {pr, LORE_OK};
    putn(&b, "", 0);
    /* depth-first from step 0: premises come after their step, in order */
    size_t *stack = mem_alloc(&pr->kb->m, pr->n + 1, sizeof *stack);
    if (!stack)
        return NULL;
    size_t sp = 0;
    tset shown = {NULL, 0, 0};
    stack[sp++] = 0;
    while (sp && b.rc == LORE_OK) {
        size_t i = stack[--sp];
        const lore_proof_step *s = &pr->steps[i];
        for (int d = 0; d < s->depth; d++)
            putn(&b, "  ", 2);
        put_fact(&b, s->fact);
        switch (s->kind) {
        case LORE_PROOF_ASSERTED: {
            size_t named = 0;
            for (size_t k = 0; k < s->nsources; k++)
                named += s->sources[k] != 0;
            putn(&b, "  [asserted", 11);
            for (size_t k = 0, first = 1; k < s->nsources; k++) {
                if (!s->sources[k])
                    continue;
                putn(&b, first ? ": " : ", ", 2);
                first = 0;
                put_term(&b, s->sources[k]);
            }
            putn(&b, "]\n", 2);
            for (size_t k = 0; k < s->nsources; k++) {
                lore_id tx = source_text(pr->kb, s->sources[k]);
                if (!tx)
                    continue;
                /* each source's sentence once, where it is first met */
                uint32_t key[3] = {s->sources[k], 0, 0};
                int isnew;
                if (tset_add(&pr->kb->m, &shown, key, &isnew) != LORE_OK) {
                    b.rc = LORE_ERR_NOMEM;
                    break;
                }
                if (!isnew)
                    continue;
                for (int d = 0; d < s->depth + 2; d++)
                    putn(&b, "  ", 2);
                put_term(&b, s->sources[k]);
                putn(&b, ": ", 2);
                put_term(&b, tx);
                putn(&b, "\n", 1);
            }
            (void)named;
            break;
        }
        case LORE_PROOF_RULE:
            put(&b, "  [rule %s", s->rule);
            for (size_t k = 0, first = 1; k < s->nbind; k++) {
                if (!s->values[k])
                    continue; /* unbound (an aggregate's inner variable) */
                putn(&b, first ? ": " : ", ", 2);
                first = 0;
                put(&b, "?%s = ", s->names[k]);
                put_term(&b, s->values[k]);
            }
            putn(&b, "]\n", 2);
            for (size_t k = s->npremises; k-- > 0;)
                stack[sp++] = s->premises[k];
            break;
        case LORE_PROOF_REPEAT:
            putn(&b, "  [shown above]\n", 16);
            break;
        case LORE_PROOF_ABSENT:
            putn(&b, "  [absent]\n", 11);
            break;
        default:
            putn(&b, "  [derived; no proof found]\n", 28);
            break;
        }
    }
    mem_free(&pr->kb->m, stack, pr->n + 1, sizeof *stack);
    tset_free(&pr->kb->m, &shown);
    if (b.rc == LORE_OK && pr->textlen && pr->text[pr->textlen - 1] == '\n')
        pr->text[--pr->textlen] = '\0';
    if (b.rc != LORE_OK) {
        ctx_nomem(&pr->kb->ctx);
        return NULL;
    }
    return pr->text;
}

int why_explain(lore_kb *kb, const uint32_t t[3], lore_proof **out)
{
    lore_proof *pr = mem_calloc(&kb->m, 1, sizeof *pr);
    if (!pr)
        return ctx_nomem(&kb->ctx);
    pr->kb = kb;
    pr->budget = BUDGET;
    size_t at;
    int rc = explain(pr, t, 0, &at);
    if (rc != LORE_OK) {
        lore_proof_free(pr);
        return rc;
    }
    *out = pr;
    return LORE_OK;
}
