/* qplan.c - the query planner: orders each group's patterns by estimated
 * cost from the indexes' counts and samples, places filters, negations,
 * optional groups and unions, and explains the result.  See query.h. */
#include "query.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum {
    SAMPLE = 32, /* matches sampled per pattern for fan-out estimates */
    DP_MAX = 12  /* exhaustive ordering up to this many elements per group */
};

/* Relative costs, in rows read: a seek into an index per input row, a
 * cheaper probe for a fully bound pattern; in a rule body's run, a seek of
 * a key read before is a memo hit (an array read, no store lookup). */
#define SEEK 3.0
#define PROBE 2.0
#define MEMO_HIT 0.5

typedef struct pstat {
    int ready;
    double count;    /* matches of the constants (exact) */
    double eff;      /* of which satisfy repeated variables */
    double fan[8];   /* by mask of bound positions; < 0: not yet computed */
    uint32_t key[3]; /* constant ids, 0 at variable positions */
    int var[3];      /* variable per position, -1 for constants */
    uint32_t *sample;
    size_t nsample;
    int delta;
} pstat;

typedef struct planner {
    lore_kb *kb;
    const qprog *p;
    const qplan_opts *o;
    qplan *pl;
    pstat *stats;   /* per node */
    double *uest;   /* per union node: estimated rows, -1 unknown */
    double *pedges; /* per path node: facts on its predicates, -1 unknown */
    double *pzero;  /* per path node: with both ends free, its zero-length rows (every
                     * node: about the facts, if it may match zero steps; else 0) */
    uint8_t *corr;  /* per without node x variable: correlated */
    int *crow;      /* per node: its row in corr (without nodes only), else -1 */
    /* per union u (urow[node] = u, else -1), made once (union_vars): the
     * variables it reads from the row, uvar[uat[2u] ..] (uat[2u + 1] of
     * them), and those it binds, uvar[uat[2u + 2 nunion] ..] likewise;
     * uat[...] == SIZE_MAX: not made yet */
    int *uvar;
    size_t *uat, nuvar, ucap, nunion;
    int *urow;
    int nv;
    int rc;
    unsigned looks; /* statistics gathered: the kb's budgets are polled every 64 */
} planner;

/* Counts one gathering of statistics (index counts and samples, about a
 * microsecond each); every 64th polls the kb's deadline, step budget and
 * interrupt: a query of 50,000 patterns takes a fifth of a second to
 * gather them.  0 when planning must stop (pn->rc says why). */
static int look(planner *pn)
{
    if ((++pn->looks & 63) == 0 && pn->rc == LORE_OK && ctx_interrupted(&pn->kb->ctx))
        pn->rc = LORE_ERR_INTERRUPT;
    return pn->rc == LORE_OK;
}

/* ------------------------------------------------------------------ */
/* statistics                                                         */

static int same_var_ok(const pstat *s, const uint32_t *t)
{
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            if (s->var[i] >= 0 && s->var[i] == s->var[j] && t[i] != t[j])
                return 0;
    return 1;
}

static pstat *stat_of(planner *pn, int node)
{
    pstat *s = &pn->stats[node];
    if (s->ready)
        return s;
    s->ready = 1;
    for (int m = 0; m < 8; m++)
        s->fan[m] = -1;
    const qnode *x = &pn->p->nodes[node];
    int empty = 0;
    for (int k = 0; k < 3; k++) {
        qslot sl = x->t[k];
        if (sl.var >= 0) {
            s->var[k] = sl.var;
            s->key[k] = 0;
        } else {
            s->var[k] = -1;
            s->key[k] = pn->p->consts[-sl.var - 1].id;
            empty |= s->key[k] == 0;
        }
    }
    if (empty) {
        s->count = s->eff = 0;
        return s;
    }
    if (!look(pn))
        return s;
    uint64_t c;
    if (store_count(&pn->kb->st, s->key[0], s->key[1], s->key[2], &c) != LORE_OK) {
        pn->rc = LORE_ERR_NOMEM;
        return s;
    }
    s->count = (double)c;
    s->sample = mem_alloc(&pn->kb->m, 3 * SAMPLE, sizeof *s->sample);
    if (!s->sample) {
        pn->rc = LORE_ERR_NOMEM;
        return s;
    }
    if (store_sample(&pn->kb->st, s->key[0], s->key[1], s->key[2], s->sample, SAMPLE,
                     &s->nsample) != LORE_OK)
        pn->rc = LORE_ERR_NOMEM;
    size_t ok = 0;
    for (size_t i = 0; i < s->nsample; i++)
        ok += (size_t)same_var_ok(s, s->sample + 3 * i);
    s->eff = s->count;
    if (s->nsample && ok < s->nsample)
        s->eff =
            ok ? s->count * (double)ok / (double)s->nsample : s->count / (2.0 * (double)s->nsample);
    if (pn->o->delta_node == node) {
        s->delta = 1;
        double f = s->count > 0 ? pn->o->delta_rows / s->count : 0;
        s->count = pn->o->delta_rows;
        s->eff = s->eff * f;
    }
    return s;
}

/* Expected matches when the positions in mask are fixed to the values of a
 * match: the harmonic mean of the sampled counts (so count / fan is the
 * number of distinct value combinations). */
static double fan_of(planner *pn, pstat *s, int mask)
{
    if (mask == 0)
        return s->eff;
    if (s->fan[mask] >= 0)
        return s->fan[mask];
    if (!look(pn))
        return 1;
    double inv = 0;
    size_t n = 0;
    for (size_t i = 0; i < s->nsample; i++) {
        const uint32_t *t = s->sample + 3 * i;
        if (!same_var_ok(s, t))
            continue;
        uint32_t k[3];
        for (int j = 0; j < 3; j++)
            k[j] = (mask >> j & 1) ? t[j] : s->key[j];
        uint64_t c;
        if (store_count(&pn->kb->st, k[0], k[1], k[2], &c) != LORE_OK) {
            pn->rc = LORE_ERR_NOMEM;
            return 1;
        }
        inv += 1.0 / (double)(c ? c : 1);
        n++;
    }
    double f = n ? (double)n / inv : 1.0;
    if (s->delta && f > s->eff)
        f = s->eff > 1 ? s->eff : 1;
    s->fan[mask] = f;
    return f;
}

/* ------------------------------------------------------------------ */
/* estimates                                                          */

typedef struct est {
    double rows; /* rows out */
    double cost;
} est;

/* Variables a node certainly binds (for a union: those all its branches
 * bind), added to b. */
static void binds(const qprog *p, int node, uint8_t *b)
{
    const qnode *x = &p->nodes[node];
    if (x->kind == QN_BIND) {
        b[x->var] = 1;
        return;
    }
    if (x->kind == QN_PATTERN || x->kind == QN_PATH) {
        for (int k = 0; k < 3; k++)
            if (k != 1 || x->kind == QN_PATTERN)
                if (x->t[k].var >= 0)
                    b[x->t[k].var] = 1;
        return;
    }
    if (x->kind == QN_GROUP) {
        for (int c = x->first; c >= 0; c = p->nodes[c].next) {
            int k = p->nodes[c].kind;
            if (k == QN_PATTERN || k == QN_PATH || k == QN_UNION || k == QN_BIND)
                binds(p, c, b);
        }
        return;
    }
    if (x->kind == QN_UNION) {
        /* intersection over branches: count per variable */
        int nb = 0;
        int nv = p->nvars;
        uint8_t tmp[256];
        uint8_t *cnt = nv <= 256 ? tmp : NULL;
        if (!cnt)
            return; /* many variables: claim nothing (only costs precision) */
        memset(cnt, 0, (size_t)nv);
        for (int c = x->first; c >= 0; c = p->nodes[c].next) {
            uint8_t one[256];
            memset(one, 0, (size_t)nv);
            binds(p, c, one);
            for (int v = 0; v < nv; v++)
                cnt[v] = (uint8_t)(cnt[v] + one[v]);
            nb++;
        }
        for (int v = 0; v < nv && nb; v++)
            if (cnt[v] == nb)
                b[v] = 1;
    }
}

static void union_vars(planner *pn, int node);

/* The variables group g (a union's branch, or an optional group) binds
 * itself, added to own: its patterns', paths' and computed values', and
 * those every branch of a union in it binds (made once per union). */
static void group_binds(planner *pn, int g, uint8_t *own)
{
    const qprog *p = pn->p;
    for (int c = p->nodes[g].first; c >= 0 && pn->rc == LORE_OK; c = p->nodes[c].next) {
        int k = p->nodes[c].kind;
        if (k == QN_PATTERN || k == QN_PATH || k == QN_BIND) {
            binds(p, c, own);
        } else if (k == QN_UNION) {
            union_vars(pn, c);
            int u = pn->urow[c];
            size_t at = pn->uat[2 * (size_t)u + 2 * pn->nunion];
            for (size_t i = 0; pn->rc == LORE_OK && i < pn->uat[2 * (size_t)u + 2 * pn->nunion + 1]; i++)
                own[pn->uvar[at + i]] = 1;
        }
    }
}

/* Variables that group g's computed values, filters and correlated
 * without-groups read and that g does not bind itself (nor its nested
 * groups: an optional one, a union's branches), added to need: they come
 * from the row g joins, so a union of such branches can run only once
 * they are bound (run first, it would read them unbound: a computed value
 * fails, a filter drops the row, a without-group matches too much). */
static void reads_outside(planner *pn, int g, uint8_t *need)
{
    const qprog *p = pn->p;
    int nv = p->nvars;
    uint8_t *own = mem_calloc(&pn->kb->m, 2 * (size_t)nv + 2, 1), *r = own + nv + 1;
    if (!own) {
        pn->rc = LORE_ERR_NOMEM;
        return;
    }
    group_binds(pn, g, own);
    for (int c = p->nodes[g].first; c >= 0 && pn->rc == LORE_OK; c = p->nodes[c].next) {
        const qnode *x = &p->nodes[c];
        if (x->kind == QN_BIND) {
            qexpr_vars(p, x->expr, r);
        } else if (x->kind == QN_FILTER) {
            const qfilter *f = &p->filters[x->filter];
            if (f->op != QF_FN && f->a.var >= 0)
                r[f->a.var] = 1;
            if (f->op != QF_FN && f->op != QF_IN && f->op != QF_MATCH && f->b.var >= 0)
                r[f->b.var] = 1;
        } else if (x->kind == QN_WITHOUT) {
            const uint8_t *cv = pn->corr + (size_t)pn->crow[c] * (size_t)pn->nv;
            for (int v = 0; v < nv; v++)
                r[v] |= cv[v];
        } else if (x->kind == QN_OPTIONAL) {
            reads_outside(pn, c, r);
        } else if (x->kind == QN_UNION) {
            union_vars(pn, c);
            int u = pn->urow[c];
            for (size_t i = 0; pn->rc == LORE_OK && i < pn->uat[2 * (size_t)u + 1]; i++)
                r[pn->uvar[pn->uat[2 * (size_t)u] + i]] = 1;
        }
    }
    for (int v = 0; v < nv; v++)
        if (r[v] && !own[v])
            need[v] = 1;
    mem_free(&pn->kb->m, own, 2 * (size_t)nv + 2, 1);
}

/* Appends the variables marked in set to pn->uvar; *at and *n get where
 * and how many. */
static void keep_vars(planner *pn, const uint8_t *set, size_t *at, size_t *n)
{
    *at = pn->nuvar, *n = 0;
    for (int v = 0; v < pn->nv && pn->rc == LORE_OK; v++) {
        if (!set[v])
            continue;
        if (mem_reserve(&pn->kb->m, (void **)&pn->uvar, &pn->ucap, pn->nuvar + 1, sizeof *pn->uvar) != 0)
            pn->rc = LORE_ERR_NOMEM;
        else
            pn->uvar[pn->nuvar++] = v, ++*n;
    }
}

/* Makes union node's lists once (nested unions first, each once: a union
 * in each branch of the one before made this exponential): what its
 * branches read from the row, and what every branch binds. */
static void union_vars(planner *pn, int node)
{
    const qprog *p = pn->p;
    size_t u = (size_t)pn->urow[node], nu = pn->nunion;
    if (pn->uat[2 * u] != SIZE_MAX || pn->rc != LORE_OK)
        return;
    int nv = p->nvars, nbr = 0;
    uint8_t *need = mem_calloc(&pn->kb->m, 2 * (size_t)nv + 2, 1), *one = need + nv + 1;
    int *cnt = mem_calloc(&pn->kb->m, (size_t)nv + 1, sizeof *cnt);
    if (!need || !cnt) {
        pn->rc = LORE_ERR_NOMEM;
    } else {
        for (int g = p->nodes[node].first; g >= 0 && pn->rc == LORE_OK; g = p->nodes[g].next, nbr++) {
            reads_outside(pn, g, need);
            memset(one, 0, (size_t)nv);
            group_binds(pn, g, one);
            for (int v = 0; v < nv; v++)
                cnt[v] += one[v];
        }
        for (int v = 0; v < nv; v++)
            one[v] = nbr && cnt[v] == nbr;
        keep_vars(pn, need, &pn->uat[2 * u], &pn->uat[2 * u + 1]);
        keep_vars(pn, one, &pn->uat[2 * u + 2 * nu], &pn->uat[2 * u + 2 * nu + 1]);
    }
    mem_free(&pn->kb->m, need, 2 * (size_t)nv + 2, 1);
    mem_free(&pn->kb->m, cnt, (size_t)nv + 1, sizeof *cnt);
}

static double ndv_prod(const double *ndv, const int *vars, int n)
{
    double p = 1;
    for (int i = 0; i < n; i++)
        p *= ndv[vars[i]] > 1 ? ndv[vars[i]] : 1;
    return p;
}

static est plan_group_dry(planner *pn, int g, const uint8_t *b, double rows);

/* The estimate of element `node` after rows with bindings b and distinct
 * counts ndv; updates ndv for what it binds. */
static est estimate(planner *pn, int node, const uint8_t *b, double rows, double *ndv)
{
    const qprog *p = pn->p;
    const qnode *x = &p->nodes[node];
    est e = {0, 0};
    if (x->kind == QN_BIND) {
        /* ready once what it reads is bound; it costs little and keeps
         * the rows (or checks one value when its variable is bound) */
        uint8_t need[256];
        uint8_t *nd = p->nvars <= 256 ? need : mem_calloc(&pn->kb->m, (size_t)p->nvars, 1);
        if (!nd) {
            pn->rc = LORE_ERR_NOMEM;
            return e;
        }
        memset(nd, 0, (size_t)p->nvars);
        qexpr_vars(p, x->expr, nd);
        int ok = 1;
        for (int v = 0; v < p->nvars; v++)
            ok &= !nd[v] || b[v];
        if (nd != need)
            mem_free(&pn->kb->m, nd, (size_t)p->nvars, 1);
        e.rows = b[x->var] ? rows * 0.5 : rows;
        e.cost = ok ? rows * 0.5 : INFINITY;
        if (!b[x->var])
            ndv[x->var] = rows > 1 ? rows : 1;
        return e;
    }
    if (x->kind == QN_PATTERN) {
        pstat *s = stat_of(pn, node);
        int mask = 0, bv[3], nbv = 0, all = 1;
        for (int k = 0; k < 3; k++) {
            int v = s->var[k];
            if (v < 0)
                continue;
            if (b[v]) {
                mask |= 1 << k;
                int seen = 0;
                for (int j = 0; j < nbv; j++)
                    seen |= bv[j] == v;
                if (!seen)
                    bv[nbv++] = v;
            } else {
                all = 0;
            }
        }
        double cnt = s->eff;
        if (cnt <= 0) {
            e.rows = 0;
        } else if (mask == 0) {
            e.rows = rows * cnt;
        } else {
            double d = cnt / fan_of(pn, s, mask), prod = ndv_prod(ndv, bv, nbv);
            e.rows = rows * cnt / (prod > d ? prod : d);
        }
        if (pn->o->memo && !all) {
            /* one seek per distinct key, the repeats read from the memo */
            double prod = ndv_prod(ndv, bv, nbv), keys = prod < rows ? prod : rows;
            e.cost = (keys > 1 ? keys : 1) * SEEK + rows * MEMO_HIT + e.rows;
        } else {
            e.cost = rows * (all ? PROBE : SEEK) + e.rows;
        }
        for (int k = 0; k < 3; k++) {
            int v = s->var[k];
            if (v < 0 || b[v])
                continue;
            int pm = 0;
            for (int j = 0; j < 3; j++)
                if (s->var[j] == v)
                    pm |= 1 << j;
            double d = cnt > 0 ? cnt / fan_of(pn, s, pm) : 1;
            ndv[v] = d < e.rows ? d : e.rows;
            if (ndv[v] < 1)
                ndv[v] = 1;
        }
        for (int j = 0; j < nbv; j++)
            if (ndv[bv[j]] > e.rows && e.rows >= 1)
                ndv[bv[j]] = e.rows;
        return e;
    }
    if (x->kind == QN_PATH) {
        int sb = x->t[0].var < 0 || b[x->t[0].var];
        int ob = x->t[2].var < 0 || b[x->t[2].var];
        if (pn->pedges[node] < 0) { /* facts on the path's predicates */
            uint64_t edges = 0;
            pnfa a;
            int rc = pnfa_build(&pn->kb->m, p->pnodes, x->path, 0, &a);
            if (rc != LORE_OK) {
                pn->rc = rc;
                return e;
            }
            if (pnfa_edges(&pn->kb->st, &a, &edges) != LORE_OK)
                pn->rc = LORE_ERR_NOMEM;
            pn->pzero[node] = a.accept[0] ? (double)pn->kb->st.nlive : 0;
            pnfa_free(&pn->kb->m, &a);
            pn->pedges[node] = (double)edges;
        }
        double E = pn->pedges[node], Z = pn->pzero[node];
        if (sb && ob) {
            e.rows = rows * 0.5;
            e.cost = rows * SEEK * 4;
        } else if (sb || ob) {
            double f = E < 8 ? (E > 1 ? E : 1) : 8;
            e.rows = rows * f;
            e.cost = rows * SEEK * 4 + e.rows * 2;
        } else {
            e.rows = rows * (E * 3 + Z + 1);
            e.cost = rows * SEEK + e.rows * 2 + E + Z;
        }
        for (int k2 = 0; k2 < 3; k2 += 2) {
            int v = x->t[k2].var;
            if (v >= 0 && !b[v])
                ndv[v] = e.rows > 1 ? e.rows : 1;
        }
        return e;
    }
    /* a union */
    if (pn->uest[node] < 0) {
        double u = 0;
        for (int c = x->first; c >= 0; c = p->nodes[c].next)
            u += plan_group_dry(pn, c, b, 1).rows;
        pn->uest[node] = u;
    }
    uint8_t mine[256] = {0};
    int vars[256], nvars = 0;
    if (p->nvars <= 256) {
        binds(p, node, mine);
        for (int v = 0; v < p->nvars; v++)
            if (mine[v] && b[v])
                vars[nvars++] = v;
    }
    double prod = ndv_prod(ndv, vars, nvars);
    e.rows = rows * pn->uest[node] / (prod > 1 ? prod : 1);
    int nbr = 0;
    for (int c = x->first; c >= 0; c = p->nodes[c].next)
        nbr++;
    e.cost = rows * SEEK * (nbr ? nbr : 1) + e.rows;
    int u = pn->urow[node];
    for (size_t i = 0; u >= 0 && i < pn->uat[2 * (size_t)u + 1]; i++)
        if (!b[pn->uvar[pn->uat[2 * (size_t)u] + i]])
            e.cost = INFINITY; /* not ready: see reads_outside */
    for (int v = 0; v < p->nvars && p->nvars <= 256; v++)
        if (mine[v] && !b[v])
            ndv[v] = e.rows > 1 ? e.rows : 1;
    return e;
}

/* ------------------------------------------------------------------ */
/* ordering                                                           */

/* Content order of elements, so that the written order does not matter. */
static int slot_cmp(const qprog *p, qslot a, qslot b)
{
    if ((a.var >= 0) != (b.var >= 0))
        return a.var >= 0 ? 1 : -1;
    if (a.var >= 0)
        return strcmp(p->vars[a.var], p->vars[b.var]);
    uint32_t x = p->consts[-a.var - 1].id, y = p->consts[-b.var - 1].id;
    return (x > y) - (x < y);
}

static int elem_cmp(const qprog *p, int a, int b)
{
    const qnode *x = &p->nodes[a], *y = &p->nodes[b];
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    if (x->kind == QN_UNION || x->kind == QN_BIND)
        return (a > b) - (a < b);
    for (int k = 0; k < 3; k++) {
        if (k == 1 && x->kind == QN_PATH)
            continue;
        int c = slot_cmp(p, x->t[k], y->t[k]);
        if (c)
            return c;
    }
    if (x->kind == QN_PATH)
        return (x->path > y->path) - (x->path < y->path);
    return 0;
}

/* Canonical order of el[0..n) by elem_cmp: a merge sort (groups can hold
 * thousands of elements), stable so that ties keep the written order. */
static int sort_elements(planner *pn, int *el, int n)
{
    if (n < 2)
        return LORE_OK;
    int *tmp = mem_alloc(&pn->kb->m, (size_t)n, sizeof *tmp);
    if (!tmp)
        return LORE_ERR_NOMEM;
    for (int w = 1; w < n; w *= 2) {
        for (int lo = 0; lo < n - w; lo += 2 * w) {
            int mid = lo + w, hi = lo + 2 * w < n ? lo + 2 * w : n, i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = elem_cmp(pn->p, el[j], el[i]) < 0 ? el[j++] : el[i++];
            while (i < mid)
                tmp[k++] = el[i++];
            while (j < hi)
                tmp[k++] = el[j++];
            memcpy(el + lo, tmp + lo, (size_t)(hi - lo) * sizeof *el);
        }
        if (ctx_interrupted(&pn->kb->ctx)) {
            mem_free(&pn->kb->m, tmp, (size_t)n, sizeof *tmp);
            return LORE_ERR_INTERRUPT;
        }
    }
    mem_free(&pn->kb->m, tmp, (size_t)n, sizeof *tmp);
    return LORE_OK;
}

/* The variables a pattern or path element reads and binds (up to 3);
 * -1 for another kind of element. */
static int elem_vars(const qprog *p, int node, int v[3])
{
    const qnode *x = &p->nodes[node];
    if (x->kind != QN_PATTERN && x->kind != QN_PATH)
        return -1;
    int n = 0;
    for (int k = 0; k < 3; k++) {
        if (k == 1 && x->kind == QN_PATH)
            continue;
        int var = x->t[k].var;
        if (var >= 0 && (n == 0 || v[0] != var) && (n < 2 || v[1] != var))
            v[n++] = var;
    }
    return n;
}

/* A min-heap of (cost, element) with lazy deletion: an entry whose stamp
 * is not its element's current one is stale. */
typedef struct gent {
    double cost;
    int i;
    unsigned stamp;
} gent;

static int gent_less(const gent *a, const gent *b)
{
    return a->cost < b->cost || (a->cost == b->cost && a->i < b->i);
}

static void heap_push(gent *h, size_t *n, gent e)
{
    size_t k = (*n)++;
    while (k > 0 && gent_less(&e, &h[(k - 1) / 2])) {
        h[k] = h[(k - 1) / 2];
        k = (k - 1) / 2;
    }
    h[k] = e;
}

static gent heap_pop(gent *h, size_t *n)
{
    gent top = h[0], last = h[--*n];
    size_t k = 0;
    for (;;) {
        size_t c = 2 * k + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && gent_less(&h[c + 1], &h[c]))
            c++;
        if (!gent_less(&h[c], &last))
            break;
        h[k] = h[c];
        k = c;
    }
    if (*n)
        h[k] = last;
    return top;
}

/* The greedy order of a big group, near-linear in its size: the cheapest
 * element next, each time.  An element's cost is proportional to the rows
 * coming in, so candidates are ranked by their cost per input row, which
 * changes only when one of their variables gets bound: only the elements
 * sharing a variable with the one placed are estimated again (through a
 * variable -> elements index), and a heap gives the cheapest.  Elements
 * other than patterns and paths (unions, computed values; few in practice)
 * are estimated again at every step. */
static int order_greedy(planner *pn, int *el, int n, const uint8_t *b0, const double *ndv0,
                        double rows0)
{
    const qprog *p = pn->p;
    const mem *m = &pn->kb->m;
    int nv = pn->nv, rc = LORE_OK;
    size_t hcap = (size_t)n * 4 + 16, nh = 0, nref = 0;
    uint8_t *b = mem_alloc(m, (size_t)nv + 1, 1), *placed = mem_calloc(m, (size_t)n, 1);
    double *cur = mem_alloc(m, (size_t)nv + 1, sizeof *cur);
    double *nd = mem_alloc(m, (size_t)nv + 1, sizeof *nd);
    unsigned *stamp = mem_calloc(m, (size_t)n, sizeof *stamp);
    int *first = mem_alloc(m, (size_t)nv + 1, sizeof *first), *refs = NULL, *nxt = NULL;
    int *others = mem_alloc(m, (size_t)n, sizeof *others), nothers = 0;
    /* the variables each other element binds (all an estimate of it may
     * write in nd): restored after each, not the whole of nd */
    int *owrite = NULL;
    size_t *ooff = mem_calloc(m, (size_t)n + 1, sizeof *ooff), nwrite = 0, wcap = 0;
    uint8_t *ob = mem_calloc(m, (size_t)nv + 1, 1);
    gent *h = mem_alloc(m, hcap, sizeof *h);
    int *ord = mem_alloc(m, (size_t)n, sizeof *ord);
    if (!b || !placed || !cur || !nd || !stamp || !first || !others || !ooff || !ob || !h || !ord) {
        rc = LORE_ERR_NOMEM;
        goto done;
    }
    memcpy(b, b0, (size_t)nv);
    memcpy(cur, ndv0, (size_t)nv * sizeof *cur);
    memcpy(nd, ndv0, (size_t)nv * sizeof *nd);
    for (int v = 0; v < nv; v++)
        first[v] = -1;
    /* the variable -> elements lists, linked through refs/nxt */
    refs = mem_alloc(m, (size_t)n * 3 + 1, sizeof *refs);
    nxt = mem_alloc(m, (size_t)n * 3 + 1, sizeof *nxt);
    if (!refs || !nxt) {
        rc = LORE_ERR_NOMEM;
        goto done;
    }
    for (int i = 0; i < n; i++) {
        int v[3], k = elem_vars(p, el[i], v);
        if (k < 0) {
            memset(ob, 0, (size_t)nv);
            binds(p, el[i], ob);
            for (int x = 0; x < nv; x++) {
                if (!ob[x])
                    continue;
                if (mem_reserve(m, (void **)&owrite, &wcap, nwrite + 1, sizeof *owrite) != 0) {
                    rc = LORE_ERR_NOMEM;
                    goto done;
                }
                owrite[nwrite++] = x;
            }
            ooff[nothers + 1] = nwrite;
            others[nothers++] = i;
        }
        for (int j = 0; j < k; j++) {
            refs[nref] = i, nxt[nref] = first[v[j]];
            first[v[j]] = (int)nref++;
        }
    }
    /* each element's first cost */
    for (int i = 0; i < n; i++) {
        int v[3], k = elem_vars(p, el[i], v);
        if (k < 0)
            continue;
        est e = estimate(pn, el[i], b, 1.0, nd);
        for (int j = 0; j < k; j++)
            nd[v[j]] = cur[v[j]];
        heap_push(h, &nh, (gent){e.cost, i, 0});
    }
    double r = rows0;
    for (int step = 0; step < n; step++) {
        if ((step & 255) == 0 && ctx_interrupted(&pn->kb->ctx)) {
            rc = LORE_ERR_INTERRUPT;
            goto done;
        }
        /* the others, estimated afresh on a copy of the current state */
        gent best = {INFINITY, -1, 0};
        int other_live = 0;
        for (int o = 0; o < nothers; o++) {
            int i = others[o];
            if (placed[i])
                continue;
            /* each step estimates every other element afresh: the work
             * grows as their square, and the budgets count it */
            if (!look(pn)) {
                rc = pn->rc;
                goto done;
            }
            if (!other_live++)
                memcpy(nd, cur, (size_t)nv * sizeof *nd);
            est e = estimate(pn, el[i], b, 1.0, nd);
            for (size_t w = ooff[o]; w < ooff[o + 1]; w++)
                nd[owrite[w]] = cur[owrite[w]];
            gent g = {e.cost, i, 0};
            if (best.i < 0 || gent_less(&g, &best))
                best = g;
        }
        while (nh && (placed[h[0].i] || h[0].stamp != stamp[h[0].i]))
            (void)heap_pop(h, &nh);
        if (nh && (best.i < 0 || gent_less(&h[0], &best)))
            best = heap_pop(h, &nh);
        if (best.i < 0) { /* nothing left with a cost: the first unplaced */
            for (int i = 0; i < n && best.i < 0; i++)
                if (!placed[i])
                    best.i = i;
        }
        int i = best.i;
        placed[i] = 1;
        ord[step] = el[i];
        int v[3], k = elem_vars(p, el[i], v);
        uint8_t was[3] = {1, 1, 1}; /* bound before this element */
        for (int j = 0; j < k; j++)
            was[j] = b[v[j]];
        est e = estimate(pn, el[i], b, r, cur);
        binds(p, el[i], b);
        r = e.rows;
        /* the elements sharing a variable it binds cost otherwise now (one
         * bound before changes them little: re-estimating every element of
         * a variable a thousand patterns share, at each of their steps, made
         * a star of 10,000 patterns take 40 seconds to plan) */
        if (k < 0) { /* another kind of element: its writes to cur are unknown */
            memcpy(nd, cur, (size_t)nv * sizeof *nd);
            continue;
        }
        for (int j = 0; j < k; j++) {
            nd[v[j]] = cur[v[j]];
            if (was[j])
                continue;
            for (int x = first[v[j]]; x >= 0; x = nxt[x]) {
                int o = refs[x];
                if (placed[o])
                    continue;
                int w[3], kw = elem_vars(p, el[o], w);
                for (int q = 0; q < kw; q++)
                    nd[w[q]] = cur[w[q]];
                est eo = estimate(pn, el[o], b, 1.0, nd);
                for (int q = 0; q < kw; q++)
                    nd[w[q]] = cur[w[q]];
                if (nh == hcap) {
                    gent *nh2 = h;
                    if (mem_resize(m, (void **)&nh2, hcap, hcap * 2, sizeof *h) != 0) {
                        rc = LORE_ERR_NOMEM;
                        goto done;
                    }
                    h = nh2, hcap *= 2;
                }
                heap_push(h, &nh, (gent){eo.cost, o, ++stamp[o]});
            }
        }
    }
    memcpy(el, ord, (size_t)n * sizeof *el);
done:
    mem_free(m, b, (size_t)nv + 1, 1);
    mem_free(m, placed, (size_t)n, 1);
    mem_free(m, cur, (size_t)nv + 1, sizeof *cur);
    mem_free(m, nd, (size_t)nv + 1, sizeof *nd);
    mem_free(m, stamp, (size_t)n, sizeof *stamp);
    mem_free(m, first, (size_t)nv + 1, sizeof *first);
    mem_free(m, refs, (size_t)n * 3 + 1, sizeof *refs);
    mem_free(m, nxt, (size_t)n * 3 + 1, sizeof *nxt);
    mem_free(m, others, (size_t)n, sizeof *others);
    mem_free(m, owrite, wcap, sizeof *owrite);
    mem_free(m, ooff, (size_t)n + 1, sizeof *ooff);
    mem_free(m, ob, (size_t)nv + 1, 1);
    mem_free(m, h, hcap, sizeof *h);
    mem_free(m, ord, (size_t)n, sizeof *ord);
    if (rc == LORE_ERR_INTERRUPT)
        return rc;
    return rc == LORE_OK ? pn->rc : rc;
}

/* Orders the n elements of el (node indexes) for bound set b0, ndv0 and
 * rows0; writes the order to el. */
static int order_elements(planner *pn, int *el, int n, const uint8_t *b0, const double *ndv0,
                          double rows0)
{
    const qprog *p = pn->p;
    const mem *m = &pn->kb->m;
    int nv = pn->nv;
    /* canonical order first, so that the written order does not matter */
    int src = sort_elements(pn, el, n);
    if (src != LORE_OK)
        return src;
    if (n <= 1)
        return LORE_OK;
    size_t states0 = n < 40 ? (size_t)1 << n : SIZE_MAX;
    if (!(n <= DP_MAX && states0 * (size_t)(nv + 1) <= ((size_t)1 << 22)))
        return order_greedy(pn, el, n, b0, ndv0, rows0);
    uint8_t *b = mem_alloc(m, (size_t)nv + 1, 1);
    double *nd = mem_alloc(m, (size_t)nv + 1, sizeof *nd);
    if (!b || !nd) {
        mem_free(m, b, (size_t)nv + 1, 1);
        mem_free(m, nd, (size_t)nv + 1, sizeof *nd);
        return LORE_ERR_NOMEM;
    }
    int rc = LORE_OK;
    size_t states = (size_t)1 << n;
    if (n <= DP_MAX && states * (size_t)(nv + 1) <= ((size_t)1 << 22)) {
        double *cost = mem_alloc(m, states, sizeof *cost);
        double *rows = mem_alloc(m, states, sizeof *rows);
        int *last = mem_alloc(m, states, sizeof *last);
        double *ndv = mem_alloc(m, states * (size_t)(nv + 1), sizeof *ndv);
        if (!cost || !rows || !last || !ndv) {
            rc = LORE_ERR_NOMEM;
        } else {
            for (size_t s = 0; s < states; s++)
                cost[s] = INFINITY, last[s] = -1;
            cost[0] = 0, rows[0] = rows0;
            memcpy(ndv, ndv0, (size_t)nv * sizeof *ndv);
            for (size_t s = 0; s < states && pn->rc == LORE_OK; s++) {
                if (s && last[s] < 0) /* not reached */
                    continue;
                memcpy(b, b0, (size_t)nv);
                for (int i = 0; i < n; i++)
                    if (s >> i & 1)
                        binds(p, el[i], b);
                for (int i = 0; i < n; i++) {
                    if (s >> i & 1)
                        continue;
                    memcpy(nd, ndv + s * (size_t)(nv + 1), (size_t)nv * sizeof *nd);
                    est e = estimate(pn, el[i], b, rows[s], nd);
                    size_t t = s | (size_t)1 << i;
                    double c = cost[s] + e.cost;
                    if (c < cost[t] || last[t] < 0) { /* an infinite cost is a way too */
                        cost[t] = c, rows[t] = e.rows, last[t] = i;
                        memcpy(ndv + t * (size_t)(nv + 1), nd, (size_t)nv * sizeof *nd);
                    }
                }
            }
            int *ord = pn->rc == LORE_OK ? mem_alloc(m, (size_t)n, sizeof *ord) : NULL;
            if (pn->rc != LORE_OK) {
                rc = pn->rc;
            } else if (!ord) {
                rc = LORE_ERR_NOMEM;
            } else {
                size_t s = states - 1;
                for (int k = n - 1; k >= 0; k--) {
                    int i = last[s];
                    ord[k] = el[i];
                    s &= ~((size_t)1 << i);
                }
                memcpy(el, ord, (size_t)n * sizeof *el);
                mem_free(m, ord, (size_t)n, sizeof *ord);
            }
        }
        mem_free(m, cost, states, sizeof *cost);
        mem_free(m, rows, states, sizeof *rows);
        mem_free(m, last, states, sizeof *last);
        mem_free(m, ndv, states * (size_t)(nv + 1), sizeof *ndv);
    }
    mem_free(m, b, (size_t)nv + 1, 1);
    mem_free(m, nd, (size_t)nv + 1, sizeof *nd);
    return rc == LORE_OK ? pn->rc : rc;
}

/* ------------------------------------------------------------------ */
/* steps                                                              */

static int add_step(planner *pn, int kind, int node, int depth)
{
    qplan *pl = pn->pl;
    size_t cap = (size_t)pl->capsteps;
    if (mem_reserve(&pn->kb->m, (void **)&pl->steps, &cap, (size_t)pl->nsteps + 1,
                    sizeof *pl->steps) != 0)
        return -1;
    pl->capsteps = (int)cap;
    qstep *s = &pl->steps[pl->nsteps];
    memset(s, 0, sizeof *s);
    s->kind = kind, s->node = node, s->depth = depth;
    s->end = s->begin = s->pnfa = -1;
    return pl->nsteps++;
}

/* Variables of a without-group that are shared with the rest of the
 * program: those decide where it can run. */
static void mark_vars(const qprog *p, int n, uint8_t *v)
{
    const qnode *x = &p->nodes[n];
    if (x->kind == QN_PATTERN || x->kind == QN_PATH) {
        for (int k = 0; k < 3; k++)
            if (!(x->kind == QN_PATH && k == 1) && x->t[k].var >= 0)
                v[x->t[k].var] = 1;
    } else if (x->kind == QN_FILTER) {
        const qfilter *f = &p->filters[x->filter];
        if (f->op != QF_FN) {
            if (f->a.var >= 0)
                v[f->a.var] = 1;
            if (f->op != QF_IN && f->op != QF_MATCH && f->b.var >= 0)
                v[f->b.var] = 1;
        }
    } else if (x->kind == QN_BIND) {
        v[x->var] = 1;
        qexpr_vars(p, x->expr, v);
    }
    for (int c = x->first; c >= 0; c = p->nodes[c].next)
        mark_vars(p, c, v);
}

static int ready(planner *pn, int node, const uint8_t *b)
{
    const qprog *p = pn->p;
    const qnode *x = &p->nodes[node];
    if (x->kind == QN_FILTER) {
        const qfilter *f = &p->filters[x->filter];
        if (f->op == QF_FN) {
            /* a function sees the whole row: run it when the group's
             * required elements are all done (the caller decides) */
            return 0;
        }
        if (f->a.var >= 0 && !b[f->a.var])
            return 0;
        if (f->op != QF_IN && f->op != QF_MATCH && f->b.var >= 0 && !b[f->b.var])
            return 0;
        return 1;
    }
    /* a without-group: its correlated variables must be bound */
    const uint8_t *c = pn->corr + (size_t)pn->crow[node] * (size_t)pn->nv;
    for (int v = 0; v < pn->nv; v++)
        if (c[v] && !b[v])
            return 0;
    return 1;
}

static double emit_group(planner *pn, int g, uint8_t *b, double *ndv, double rows, int depth);

static double emit_elem(planner *pn, int node, uint8_t *b, double *ndv, double rows, int depth)
{
    const qprog *p = pn->p;
    const qnode *x = &p->nodes[node];
    qplan *pl = pn->pl;
    if (x->kind == QN_FILTER) {
        int i = add_step(pn, S_FILTER, node, depth);
        if (i < 0)
            return pn->rc = LORE_ERR_NOMEM, 0;
        pl->steps[i].est_in = rows;
        pl->steps[i].est_out = rows / 2;
        return rows / 2;
    }
    if (x->kind == QN_WITHOUT || x->kind == QN_OPTIONAL) {
        int begin = add_step(pn, x->kind == QN_WITHOUT ? S_NOT : S_OPT, node, depth);
        if (begin < 0)
            return pn->rc = LORE_ERR_NOMEM, 0;
        uint8_t *inner = mem_alloc(&pn->kb->m, (size_t)pn->nv + 1, 1);
        double *nd = mem_alloc(&pn->kb->m, (size_t)pn->nv + 1, sizeof *nd);
        double r = 0;
        if (!inner || !nd) {
            pn->rc = LORE_ERR_NOMEM;
        } else {
            memcpy(inner, b, (size_t)pn->nv);
            memcpy(nd, ndv, (size_t)pn->nv * sizeof *nd);
            r = emit_group(pn, node, inner, nd, 1, depth + 1);
        }
        mem_free(&pn->kb->m, inner, (size_t)pn->nv + 1, 1);
        mem_free(&pn->kb->m, nd, (size_t)pn->nv + 1, sizeof *nd);
        int end = add_step(pn, x->kind == QN_WITHOUT ? S_NOT_END : S_OPT_END, node, depth);
        if (end < 0)
            return pn->rc = LORE_ERR_NOMEM, 0;
        pl->steps[begin].end = end;
        pl->steps[end].begin = begin;
        double out = x->kind == QN_WITHOUT ? rows / 2 : rows * (r > 1 ? r : 1);
        pl->steps[begin].est_in = rows;
        pl->steps[begin].est_out = out;
        return out;
    }
    if (x->kind == QN_UNION) {
        int u = add_step(pn, S_UNION, node, depth);
        if (u < 0)
            return pn->rc = LORE_ERR_NOMEM, 0;
        /* a delta pattern in one branch: only that branch (a row of
         * another reads none of the delta's facts) */
        int nbr = 0, only = -1;
        for (int c = x->first; c >= 0; c = p->nodes[c].next) {
            nbr++;
            for (int a = pn->o->delta_node; a >= 0 && only < 0; a = p->nodes[a].parent)
                only = a == c ? c : -1;
        }
        nbr = only >= 0 ? 1 : nbr;
        size_t cap = (size_t)pl->capbrs;
        if (mem_reserve(&pn->kb->m, (void **)&pl->brs, &cap, (size_t)(pl->nbrs + nbr),
                        sizeof *pl->brs) != 0)
            return pn->rc = LORE_ERR_NOMEM, 0;
        pl->capbrs = (int)cap;
        int br = pl->nbrs;
        pl->nbrs += nbr;
        pl->steps[u].br = br, pl->steps[u].nbr = nbr;
        int *ends = mem_alloc(&pn->kb->m, (size_t)nbr + 1, sizeof *ends);
        uint8_t *inner = mem_alloc(&pn->kb->m, (size_t)pn->nv + 1, 1);
        double *nd = mem_alloc(&pn->kb->m, (size_t)pn->nv + 1, sizeof *nd);
        double total = 0;
        int k = 0;
        if (!ends || !inner || !nd)
            pn->rc = LORE_ERR_NOMEM;
        for (int c = x->first; c >= 0 && pn->rc == LORE_OK; c = p->nodes[c].next) {
            if (only >= 0 && c != only)
                continue;
            pl->brs[br + k] = pl->nsteps;
            memcpy(inner, b, (size_t)pn->nv);
            memcpy(nd, ndv, (size_t)pn->nv * sizeof *nd);
            total += emit_group(pn, c, inner, nd, rows, depth + 1);
            ends[k] = add_step(pn, S_BR_END, c, depth + 1);
            if (ends[k] < 0)
                pn->rc = LORE_ERR_NOMEM;
            k++;
        }
        for (int i = 0; i < k && pn->rc == LORE_OK; i++)
            pl->steps[ends[i]].end = pl->nsteps;
        mem_free(&pn->kb->m, ends, (size_t)nbr + 1, sizeof *ends);
        mem_free(&pn->kb->m, inner, (size_t)pn->nv + 1, 1);
        mem_free(&pn->kb->m, nd, (size_t)pn->nv + 1, sizeof *nd);
        estimate(pn, node, b, rows, ndv);
        binds(p, node, b);
        pl->steps[u].est_in = rows;
        pl->steps[u].est_out = total;
        return total;
    }
    if (x->kind == QN_BIND) {
        int i = add_step(pn, S_BIND, node, depth);
        if (i < 0)
            return pn->rc = LORE_ERR_NOMEM, 0;
        est e = estimate(pn, node, b, rows, ndv);
        binds(p, node, b);
        pl->steps[i].est_in = rows;
        pl->steps[i].est_out = e.rows;
        return e.rows;
    }
    /* a pattern or a path */
    int i = add_step(pn, x->kind == QN_PATH ? S_PATH : S_SCAN, node, depth);
    if (i < 0)
        return pn->rc = LORE_ERR_NOMEM, 0;
    if (x->kind == QN_PATH) {
        size_t cap = (size_t)pl->capnfas;
        if (mem_reserve(&pn->kb->m, (void **)&pl->nfas, &cap, (size_t)pl->nnfas + 2,
                        sizeof *pl->nfas) != 0)
            return pn->rc = LORE_ERR_NOMEM, 0;
        pl->capnfas = (int)cap;
        uint64_t *ed = pl->edges;
        if (mem_resize(&pn->kb->m, (void **)&ed, (size_t)pl->nnfas / 2, (size_t)pl->nnfas / 2 + 1,
                       sizeof *ed) != 0)
            return pn->rc = LORE_ERR_NOMEM, 0;
        pl->edges = ed;
        int k = pl->nnfas;
        memset(&pl->nfas[k], 0, 2 * sizeof *pl->nfas);
        int rc = pnfa_build(&pn->kb->m, p->pnodes, x->path, 0, &pl->nfas[k]);
        if (rc == LORE_OK)
            rc = pnfa_build(&pn->kb->m, p->pnodes, x->path, 1, &pl->nfas[k + 1]);
        pl->nnfas += 2;
        if (rc == LORE_OK)
            rc = pnfa_edges(&pn->kb->st, &pl->nfas[k], &pl->edges[k / 2]);
        if (rc != LORE_OK)
            return pn->rc = rc, 0;
        pl->steps[i].pnfa = k;
    }
    if (x->kind == QN_PATTERN && pn->o->delta_node == node)
        pl->steps[i].delta = 1;
    for (int k = 0; k < 3; k++)
        if (!(k == 1 && x->kind == QN_PATH) && (x->t[k].var < 0 || b[x->t[k].var]))
            pl->steps[i].mask |= 1 << k;
    est e = estimate(pn, node, b, rows, ndv);
    binds(p, node, b);
    pl->steps[i].est_in = rows;
    pl->steps[i].est_out = e.rows;
    return e.rows;
}

static double emit_group(planner *pn, int g, uint8_t *b, double *ndv, double rows, int depth)
{
    const qprog *p = pn->p;
    const mem *m = &pn->kb->m;
    int n = 0, nreq = 0, npend = 0, nopt = 0;
    for (int c = p->nodes[g].first; c >= 0; c = p->nodes[c].next)
        n++;
    int *req = mem_alloc(m, (size_t)n + 1, sizeof *req);
    int *pend = mem_alloc(m, (size_t)n + 1, sizeof *pend);
    int *opt = mem_alloc(m, (size_t)n + 1, sizeof *opt);
    if (!req || !pend || !opt) {
        pn->rc = LORE_ERR_NOMEM;
        goto cleanup;
    }
    for (int c = p->nodes[g].first; c >= 0; c = p->nodes[c].next) {
        switch (p->nodes[c].kind) {
        case QN_PATTERN:
        case QN_PATH:
        case QN_UNION:
        case QN_BIND:
            req[nreq++] = c;
            break;
        case QN_OPTIONAL:
            opt[nopt++] = c;
            break;
        case QN_WITHOUT:
            if (!pn->o->skip_without)
                pend[npend++] = c;
            break;
        default:
            pend[npend++] = c;
            break; /* filters, without-groups */
        }
    }
    /* the delta pattern, or the caller's, leads: the others are ordered after it */
    int first = 0, lead = pn->o->delta_first ? pn->o->delta_node : pn->o->lead - 1;
    for (int i = 0; lead >= 0 && g == 0 && i < nreq && !first; i++) {
        if (req[i] != lead)
            continue;
        int d = req[i];
        memmove(req + 1, req, (size_t)i * sizeof *req);
        req[0] = d;
        first = 1;
    }
    int orc;
    if (first) {
        /* the bindings and distinct counts after it, in copies (emit_elem
         * makes the real ones below) */
        size_t nv = (size_t)pn->nv + 1;
        uint8_t *b1 = mem_alloc(m, nv, 1);
        double *ndv1 = mem_alloc(m, nv, sizeof *ndv1);
        orc = b1 && ndv1 ? LORE_OK : LORE_ERR_NOMEM;
        if (orc == LORE_OK) {
            memcpy(b1, b, nv - 1);
            memcpy(ndv1, ndv, (nv - 1) * sizeof *ndv1);
            est e = estimate(pn, req[0], b1, rows, ndv1);
            binds(p, req[0], b1);
            orc = order_elements(pn, req + 1, nreq - 1, b1, ndv1, e.rows);
        }
        mem_free(m, b1, nv, 1);
        mem_free(m, ndv1, nv, sizeof *ndv1);
    } else {
        orc = order_elements(pn, req, nreq, b, ndv, rows);
    }
    if (orc != LORE_OK) {
        if (pn->rc == LORE_OK)
            pn->rc = orc;
        goto cleanup;
    }
    for (int i = 0; i <= nreq && pn->rc == LORE_OK; i++) {
        /* what is ready now runs now: filters prune early */
        for (int k = 0; k < npend; k++) {
            if (pend[k] >= 0 && ready(pn, pend[k], b)) {
                rows = emit_elem(pn, pend[k], b, ndv, rows, depth);
                pend[k] = -1;
            }
        }
        if (i < nreq)
            rows = emit_elem(pn, req[i], b, ndv, rows, depth);
    }
    for (int k = 0; k < nopt && pn->rc == LORE_OK; k++)
        rows = emit_elem(pn, opt[k], b, ndv, rows, depth);
    for (int k = 0; k < npend && pn->rc == LORE_OK; k++)
        if (pend[k] >= 0)
            rows = emit_elem(pn, pend[k], b, ndv, rows, depth);
cleanup:
    mem_free(m, req, (size_t)n + 1, sizeof *req);
    mem_free(m, pend, (size_t)n + 1, sizeof *pend);
    mem_free(m, opt, (size_t)n + 1, sizeof *opt);
    return rows;
}

/* An estimate of a group without emitting steps (for unions). */
static est plan_group_dry(planner *pn, int g, const uint8_t *b0, double rows)
{
    const qprog *p = pn->p;
    const mem *m = &pn->kb->m;
    est e = {rows, 0};
    uint8_t *b = mem_alloc(m, (size_t)pn->nv + 1, 1);
    double *ndv = mem_alloc(m, (size_t)pn->nv + 1, sizeof *ndv);
    if (!b || !ndv) {
        pn->rc = LORE_ERR_NOMEM;
    } else {
        memcpy(b, b0, (size_t)pn->nv);
        for (int v = 0; v < pn->nv; v++)
            ndv[v] = 1;
        for (int c = p->nodes[g].first; c >= 0; c = p->nodes[c].next) {
            int k = p->nodes[c].kind;
            if (k != QN_PATTERN && k != QN_PATH && k != QN_UNION)
                continue;
            est x = estimate(pn, c, b, e.rows, ndv);
            binds(p, c, b);
            e.rows = x.rows;
            e.cost += x.cost;
        }
    }
    mem_free(m, b, (size_t)pn->nv + 1, 1);
    mem_free(m, ndv, (size_t)pn->nv + 1, sizeof *ndv);
    return e;
}

void qplan_free(const mem *m, qplan *pl)
{
    for (int i = 0; i < pl->nnfas; i++)
        pnfa_free(m, &pl->nfas[i]);
    mem_free(m, pl->nfas, (size_t)pl->capnfas, sizeof *pl->nfas);
    mem_free(m, pl->edges, (size_t)pl->nnfas / 2, sizeof *pl->edges);
    mem_free(m, pl->steps, (size_t)pl->capsteps, sizeof *pl->steps);
    mem_free(m, pl->brs, (size_t)pl->capbrs, sizeof *pl->brs);
    mem_free(m, pl->prebound, (size_t)pl->nvars + 1, 1);
    memset(pl, 0, sizeof *pl);
}

int qplan_make(lore_kb *kb, const qprog *p, const qplan_opts *o, qplan *pl)
{
    const mem *m = &kb->m;
    memset(pl, 0, sizeof *pl);
    planner pn = {kb, p, o, pl, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, NULL,
                  p->nvars, LORE_OK, 0};
    size_t nn = (size_t)p->nnodes, nv = (size_t)p->nvars, nwith = 0, nunion = 0;
    for (size_t n = 0; n < nn; n++) {
        nwith += p->nodes[n].kind == QN_WITHOUT;
        nunion += p->nodes[n].kind == QN_UNION;
    }
    uint8_t *b = mem_calloc(m, nv + 1, 1);
    double *ndv = mem_alloc(m, nv + 1, sizeof *ndv);
    uint8_t *outside = mem_calloc(m, nv + 1, 1);
    pn.stats = mem_calloc(m, nn, sizeof *pn.stats);
    pn.uest = mem_alloc(m, nn, sizeof *pn.uest);
    pn.pedges = mem_alloc(m, nn, sizeof *pn.pedges);
    pn.pzero = mem_alloc(m, nn, sizeof *pn.pzero);
    /* a row of variables for each without-group only (nodes x variables
     * would grow as the square of a query's size) */
    pn.corr = mem_calloc(m, (nwith ? nwith : 1) * (nv ? nv : 1), 1);
    pn.crow = mem_alloc(m, nn + 1, sizeof *pn.crow);
    pn.nunion = nunion;
    pn.uat = mem_alloc(m, 4 * nunion + 1, sizeof *pn.uat);
    pn.urow = mem_alloc(m, nn + 1, sizeof *pn.urow);
    pl->prebound = mem_calloc(m, nv + 1, 1);
    pl->nvars = (int)nv;
    if (!b || !ndv || !outside || !pn.stats || !pn.uest || !pn.pedges || !pn.pzero || !pn.corr || !pn.crow ||
        !pn.uat || !pn.urow || !pl->prebound) {
        pn.rc = LORE_ERR_NOMEM;
        goto cleanup;
    }
    for (size_t i = 0, w = 0, u = 0; i < nn; i++) {
        pn.uest[i] = pn.pedges[i] = -1, pn.pzero[i] = 0;
        pn.crow[i] = p->nodes[i].kind == QN_WITHOUT ? (int)w++ : -1;
        pn.urow[i] = p->nodes[i].kind == QN_UNION ? (int)u++ : -1;
    }
    for (size_t i = 0; i < 4 * nunion; i++)
        pn.uat[i] = i % 2 ? 0 : SIZE_MAX;
    for (size_t v = 0; v < nv; v++) {
        b[v] = o->prebound ? o->prebound[v] : 0;
        pl->prebound[v] = b[v];
        ndv[v] = 1;
    }
    /* correlated variables of each without-group: its variables that also
     * occur outside it, or are pre-bound */
    for (size_t n = 0; n < nn; n++) {
        if (p->nodes[n].kind != QN_WITHOUT)
            continue;
        uint8_t *c = pn.corr + (size_t)pn.crow[n] * nv;
        mark_vars(p, (int)n, c);
        memset(outside, 0, nv);
        for (size_t k = 0; k < nn; k++) {
            int inside = 0;
            for (int a = (int)k; a >= 0 && !inside; a = p->nodes[a].parent)
                inside = a == (int)n;
            if (inside)
                continue;
            const qnode *x = &p->nodes[k];
            if (x->kind == QN_BIND) {
                outside[x->var] = 1;
                qexpr_vars(p, x->expr, outside);
            } else if (x->kind == QN_PATTERN || x->kind == QN_PATH || x->kind == QN_FILTER) {
                if (x->kind == QN_FILTER) {
                    const qfilter *f = &p->filters[x->filter];
                    if (f->op != QF_FN && f->a.var >= 0)
                        outside[f->a.var] = 1;
                    if (f->op != QF_FN && f->op != QF_IN && f->op != QF_MATCH && f->b.var >= 0)
                        outside[f->b.var] = 1;
                } else {
                    for (int t = 0; t < 3; t++)
                        if (!(x->kind == QN_PATH && t == 1) && x->t[t].var >= 0)
                            outside[x->t[t].var] = 1;
                }
            }
        }
        for (size_t v = 0; v < nv; v++) {
            c[v] = c[v] && (outside[v] || b[v]);
            for (int i = 0; i < p->nitems; i++)
                if (c[v] == 0 && p->items[i].var == (int)v && outside[v])
                    c[v] = 1;
        }
    }
    /* what each union's branches read from the row they join */
    for (size_t n = 0; n < nn && pn.rc == LORE_OK; n++)
        if (p->nodes[n].kind == QN_UNION)
            union_vars(&pn, (int)n);
    if (pn.rc == LORE_OK)
        pl->est = emit_group(&pn, 0, b, ndv, 1, 0);
cleanup:
    if (pn.stats)
        for (size_t i = 0; i < nn; i++)
            mem_free(m, pn.stats[i].sample, 3 * SAMPLE, sizeof *pn.stats[i].sample);
    mem_free(m, pn.stats, nn, sizeof *pn.stats);
    mem_free(m, pn.uest, nn, sizeof *pn.uest);
    mem_free(m, pn.pedges, nn, sizeof *pn.pedges);
    mem_free(m, pn.pzero, nn, sizeof *pn.pzero);
    mem_free(m, pn.corr, (nwith ? nwith : 1) * (nv ? nv : 1), 1);
    mem_free(m, pn.crow, nn + 1, sizeof *pn.crow);
    mem_free(m, pn.uvar, pn.ucap, sizeof *pn.uvar);
    mem_free(m, pn.uat, 4 * nunion + 1, sizeof *pn.uat);
    mem_free(m, pn.urow, nn + 1, sizeof *pn.urow);
    mem_free(m, b, nv + 1, 1);
    mem_free(m, ndv, nv + 1, sizeof *ndv);
    mem_free(m, outside, nv + 1, 1);
    if (pn.rc != LORE_OK) {
        qplan_free(m, pl);
        if (pn.rc == LORE_ERR_NOMEM)
            ctx_nomem(&kb->ctx);
        else if (pn.rc == LORE_ERR_LIMIT)
            ctx_fail(&kb->ctx, pn.rc, "a path expression is too complex");
    }
    return pn.rc;
}

/* ------------------------------------------------------------------ */
/* explanation                                                        */

typedef struct sbuf {
    char **buf;
    size_t *len, *cap;
    const mem *m;
    int rc;
} sbuf;

static void put(sbuf *s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void put(sbuf *s, const char *fmt, ...)
{
    if (s->rc)
        return;
    va_list ap;
    va_start(ap, fmt);
    char tmp[512];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t k = (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1;
    if (mem_reserve(s->m, (void **)s->buf, s->cap, *s->len + k + 1, 1) != 0) {
        s->rc = LORE_ERR_NOMEM;
        return;
    }
    memcpy(*s->buf + *s->len, tmp, k);
    *s->len += k;
    (*s->buf)[*s->len] = '\0';
}

static void put_value(sbuf *s, const lore_value *v)
{
    switch (v->kind) {
    case LORE_SYMBOL:
        put(s, "%.*s", (int)v->len, v->str);
        break;
    case LORE_TEXT:
        put(s, "\"%.*s\"", (int)(v->len > 60 ? 60 : v->len), v->str);
        if (v->lang && v->langlen)
            put(s, "@%.*s", (int)v->langlen, v->lang);
        break;
    case LORE_INTEGER:
        put(s, "%lld", (long long)v->i);
        break;
    case LORE_NUMBER:
        put(s, "%.17g", v->n);
        break;
    case LORE_BOOLEAN:
        put(s, "%s", v->i ? "true" : "false");
        break;
    case LORE_DATE:
        put(s, "date(\"%.*s\")", (int)v->len, v->str);
        break;
    }
}

static void put_slot(sbuf *s, const qprog *p, qslot sl)
{
    if (sl.var >= 0) {
        put(s, p->vars[sl.var][0] ? "?%s" : "_", p->vars[sl.var]);
        return;
    }
    put_value(s, &p->consts[-sl.var - 1].v);
}

static void put_path(sbuf *s, const qprog *p, int i, int prec)
{
    const pnode *n = &p->pnodes[i];
    switch (n->op) {
    case P_PRED:
        if (n->any)
            put(s, "_");
        else if (n->cval >= 0)
            put_value(s, &p->consts[n->cval].v);
        break;
    case P_INV:
        put(s, "^");
        put_path(s, p, n->a, 3);
        break;
    case P_SEQ:
    case P_ALT: {
        int my = n->op == P_ALT ? 1 : 2;
        if (prec > my)
            put(s, "(");
        put_path(s, p, n->a, my);
        put(s, n->op == P_ALT ? "|" : "/");
        put_path(s, p, n->b, my + 1);
        if (prec > my)
            put(s, ")");
        break;
    }
    default:
        put_path(s, p, n->a, 3);
        put(s, n->op == P_PLUS ? "+" : n->op == P_STAR ? "*" : "?");
        break;
    }
}

static void put_filter(sbuf *s, const qprog *p, const qfilter *f)
{
    static const char *const ops[] = {"=", "~=", "<", "<=", ">", ">=", "in", "match"};
    if (f->op == QF_FN) {
        put(s, "filter function");
        return;
    }
    put(s, "filter ");
    put_slot(s, p, f->a);
    put(s, " %s ", ops[f->op]);
    if (f->op == QF_IN) {
        put(s, "(");
        for (int i = 0; i < f->nset; i++) {
            if (i)
                put(s, ", ");
            put_value(s, &p->consts[f->set[i]].v);
        }
        put(s, ")");
    } else {
        put_slot(s, p, f->b);
    }
}

static void put_expr(sbuf *s, const qprog *p, int e, int prec)
{
    const qexpr *x = &p->exprs[e];
    switch (x->op) {
    case QX_SLOT:
        put_slot(s, p, x->slot);
        return;
    case QX_CALL:
    case QX_HOST: {
        if (x->op == QX_HOST)
            put(s, "function");
        else if (x->fn < 0)
            put(s, "%s", fn_builtin_name(-x->fn - 1));
        else
            put(s, "%s", fn_registered_name(p->kb, x->fn));
        put(s, "(");
        for (int i = 0; i < x->b; i++) {
            if (i)
                put(s, ", ");
            put_expr(s, p, p->args[x->a + i], 0);
        }
        put(s, ")");
        return;
    }
    case QX_NEG:
        put(s, "-");
        put_expr(s, p, x->a, 3);
        return;
    default: {
        int my = x->op == QX_ADD || x->op == QX_SUB ? 1 : 2;
        static const char *const ops[] = {"", "", "", " + ", " - ", " * ", " / "};
        if (prec > my)
            put(s, "(");
        put_expr(s, p, x->a, my);
        put(s, "%s", ops[x->op]);
        put_expr(s, p, x->b, my + 1);
        if (prec > my)
            put(s, ")");
        return;
    }
    }
}

/* The elements of group g in the text form, separated by ", ". */
static void put_group(sbuf *s, const qprog *p, int g)
{
    int first = 1;
    for (int c = p->nodes[g].first; c >= 0; c = p->nodes[c].next) {
        const qnode *x = &p->nodes[c];
        if (!first)
            put(s, ", ");
        first = 0;
        switch (x->kind) {
        case QN_PATTERN:
        case QN_PATH:
            put_slot(s, p, x->t[0]);
            put(s, " ");
            if (x->kind == QN_PATH)
                put_path(s, p, x->path, 0);
            else
                put_slot(s, p, x->t[1]);
            put(s, " ");
            put_slot(s, p, x->t[2]);
            break;
        case QN_FILTER:
            put_filter(s, p, &p->filters[x->filter]);
            break;
        case QN_BIND:
            put(s, "?%s = ", p->vars[x->var]);
            put_expr(s, p, x->expr, 0);
            break;
        case QN_OPTIONAL:
        case QN_WITHOUT:
            put(s, "%s { ", x->kind == QN_OPTIONAL ? "optional" : "without");
            put_group(s, p, c);
            put(s, " }");
            break;
        case QN_UNION: {
            int b = 0;
            for (int br = x->first; br >= 0; br = p->nodes[br].next) {
                put(s, b++ ? " union { " : "{ ");
                put_group(s, p, br);
                put(s, " }");
            }
            break;
        }
        default:
            break;
        }
    }
}

int qplan_put_body(const qprog *p, char **buf, size_t *len, size_t *cap, const mem *m)
{
    sbuf s = {buf, len, cap, m, LORE_OK};
    static const char *const agg[] = {"", "count", "sum", "min", "max", "avg"};
    int select = p->nitems > 0 || p->ngroup > 0;
    if (select) {
        put(&s, "select");
        for (int i = 0; i < p->nitems; i++) {
            const qitem *it = &p->items[i];
            if (!it->agg) {
                put(&s, " ?%s", p->vars[it->var]);
                continue;
            }
            put(&s, " %s(%s", agg[it->agg], it->distinct ? "distinct " : "");
            if (it->var < 0)
                put(&s, "*");
            else
                put(&s, "?%s", p->vars[it->var]);
            put(&s, ") as ?%s", p->vars[it->out]);
        }
        put(&s, " where { ");
    }
    put_group(&s, p, 0);
    if (select) {
        put(&s, " }");
        if (p->ngroup)
            put(&s, " group by");
        for (int i = 0; i < p->ngroup; i++)
            put(&s, " ?%s", p->vars[p->group[i]]);
    }
    return s.rc;
}

/* An expression in the text form (rules print their bodies with it). */
int qplan_put_expr(const qprog *p, int e, char **buf, size_t *len, size_t *cap, const mem *m)
{
    sbuf s = {buf, len, cap, m, LORE_OK};
    put_expr(&s, p, e, 0);
    return s.rc;
}

static void put_est(sbuf *s, double x)
{
    if (x < 10)
        put(s, "%.2g", x);
    else
        put(s, "%.0f", x);
}

/* Display width of s[0..n): UTF-8 characters. */
static size_t width(const char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        w += ((unsigned char)s[i] & 0xc0) != 0x80;
    return w;
}

/* Lines written with tabs between three columns become aligned columns. */
static void align(sbuf *s)
{
    size_t w[2] = {0, 0}, n = *s->len;
    char *text = *s->buf;
    for (size_t a = 0; a < n;) {
        size_t e = a;
        while (e < n && text[e] != '\n')
            e++;
        for (int c = 0, start = (int)a; c < 2; c++) {
            const char *tab = memchr(text + start, '\t', e - (size_t)start);
            if (!tab)
                break;
            size_t cw = width(text + start, (size_t)(tab - text) - (size_t)start);
            if (cw > w[c])
                w[c] = cw;
            start = (int)(tab - text) + 1;
        }
        a = e + 1;
    }
    char *old = text;
    size_t oldcap = *s->cap;
    *s->buf = NULL, *s->len = 0, *s->cap = 0;
    for (size_t a = 0; a < n && s->rc == LORE_OK;) {
        size_t e = a;
        while (e < n && old[e] != '\n')
            e++;
        size_t start = a;
        for (int c = 0; c < 3; c++) {
            const char *tab = c < 2 ? memchr(old + start, '\t', e - start) : NULL;
            size_t end = tab ? (size_t)(tab - old) : e;
            put(s, "%.*s", (int)(end - start), old + start);
            if (!tab)
                break;
            put(s, "%*s", (int)(w[c] - width(old + start, end - start) + 2), "");
            start = end + 1;
        }
        put(s, "\n");
        a = e + 1;
    }
    if (s->rc != LORE_OK) { /* keep the unaligned text */
        mem_free(s->m, *s->buf, *s->cap, 1);
        *s->buf = old, *s->len = n, *s->cap = oldcap;
        return;
    }
    mem_free(s->m, old, oldcap, 1);
}

int qplan_explain(const qprog *p, const qplan *pl, char **buf, size_t *len, size_t *cap,
                  const mem *m)
{
    sbuf s = {buf, len, cap, m, LORE_OK};
    put(&s, "plan (estimated rows: ");
    put_est(&s, pl->est);
    put(&s, ")\n");
    int n = 0;
    for (int i = 0; i < pl->nsteps; i++) {
        const qstep *st = &pl->steps[i];
        const qnode *x = &p->nodes[st->node];
        if (st->kind == S_OPT_END || st->kind == S_NOT_END || st->kind == S_BR_END) {
            int d = st->kind == S_BR_END ? st->depth - 1 : st->depth;
            put(&s, "%*s}%s\n", 4 + 2 * d, "",
                st->kind == S_BR_END && i + 1 != st->end ? " or {" : "");
            continue;
        }
        put(&s, "%3d %*s", ++n, 2 * st->depth, "");
        switch (st->kind) {
        case S_SCAN:
        case S_PATH: {
            const char *how;
            int mask = st->mask;
            put_slot(&s, p, x->t[0]);
            put(&s, " ");
            if (st->kind == S_PATH)
                put_path(&s, p, x->path, 0);
            else
                put_slot(&s, p, x->t[1]);
            put(&s, " ");
            put_slot(&s, p, x->t[2]);
            if (st->kind == S_PATH)
                how = (mask & 5) == 5 ? "path check" : mask ? "path walk" : "path, every start";
            else if (st->delta)
                how = "delta";
            else if (mask == 7)
                how = "exists";
            else if (mask == 0)
                how = "scan all";
            else
                how = NULL;
            put(&s, "\t");
            if (how) {
                put(&s, "%s", how);
            } else {
                put(&s, "index (");
                static const char *const pos[3] = {"s", "p", "o"};
                int first = 1;
                for (int k = 0; k < 3; k++)
                    if (mask >> k & 1) {
                        put(&s, "%s%s", first ? "" : " ", pos[k]);
                        first = 0;
                    }
                put(&s, ")");
            }
            break;
        }
        case S_FILTER:
            put_filter(&s, p, &p->filters[x->filter]);
            break;
        case S_BIND:
            put(&s, "?%s = ", p->vars[x->var]);
            put_expr(&s, p, x->expr, 0);
            break;
        case S_OPT:
            put(&s, "optional {");
            break;
        case S_NOT:
            put(&s, "without {");
            break;
        case S_UNION: /* (one branch: a plain group, `{ ... }` in the text) */
            put(&s, st->nbr == 1 ? "group {" : "union {");
            break;
        default:
            break;
        }
        if (st->kind != S_SCAN && st->kind != S_PATH)
            put(&s, "\t");
        put(&s, "\test ");
        put_est(&s, st->est_out);
        put(&s, "\n");
    }
    if (pl->nsteps == 0)
        put(&s, "  (no patterns: one empty row)\n");
    if (s.rc == LORE_OK)
        align(&s);
    if (s.rc == LORE_OK && *len > 0 && (*buf)[*len - 1] == '\n')
        (*buf)[--*len] = '\0'; /* lines end with newlines, the text does not */
    return s.rc;
}
