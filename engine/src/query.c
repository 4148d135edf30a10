/* query.c - queries as the public API sees them: building programs,
 * checking them, and the output stage (projection, aggregates, distinct,
 * order, limit) over the executor's solutions.  See query.h. */
#define LORE_BUILDING 1
#include "query.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "date.h"
#include "lpat.h"

/* ------------------------------------------------------------------ */
/* the handle                                                         */

typedef struct qcell {
    uint32_t id;  /* a term, or 0 */
    uint32_t num; /* 0, or 1 + index of a computed value in q->nums */
} qcell;

typedef struct qnum {
    lore_kind kind; /* LORE_INTEGER or LORE_NUMBER */
    int64_t i;
    double n;
} qnum;

typedef struct qacc { /* one aggregate of one group */
    uint64_t count;   /* rows (count), numeric values (sum, avg) */
    int64_t isum;
    double dsum;
    int isint;     /* every value summed so far is an integer, no overflow */
    uint32_t best; /* min, max */
} qacc;

struct lore_query {
    lore_kb *kb;
    qprog prog;
    qplan plan;
    qexec x;
    int checked, planned, running, done, failed;
    uint64_t plan_size;  /* facts when planned */
    uint8_t *plan_bound; /* prebound set the plan was made for */
    uint32_t *bind;      /* pre-bound values, per variable */
    uint8_t *bound;
    int nbind; /* size of bind/bound/plan_bound */
    /* columns */
    int *cols;        /* variable per column (aggregates: their output variable) */
    int ncols, width; /* width: columns + hidden order keys */
    int colcap;       /* allocated entries of cols and hidden */
    int *hidden;      /* order variables that are not columns */
    int nhidden;
    int aggregating;
    /* output */
    qcell *cur;
    qcell *rows; /* materialised or remembered (distinct) rows, width cells each */
    size_t nrows, caprows, rowpos;
    int materialised;
    qnum *nums;
    size_t nnums, capnums;
    uint32_t *dset; /* distinct: hash of row index + 1 */
    size_t dcap, dn;
    uint64_t skipped, emitted;
    /* aggregation */
    uint32_t *gkeys; /* per group: ngroup ids */
    qacc *acc;       /* per group: one per item */
    size_t ngroups, capgroups, capacc;
    uint32_t *gslot; /* hash: group index + 1 */
    size_t gcap;
    uint64_t *aset; /* distinct aggregate inputs: (group, item, id) hashed */
    uint32_t *agen;
    size_t acap, an;
    /* kb:reach */
    int reach;
    uint32_t rstart, rdepth;
    int rroot;
    pnfa rnfa;
    /* text of the plan */
    char *text;
    size_t textlen, textcap;
    /* the row a filter function reads while some executor runs the
     * program (the rules engine runs executors of its own) */
    const uint32_t *filter_row;
};

void query_filter_row(lore_query *q, const uint32_t *row)
{
    q->filter_row = row;
}

/* ------------------------------------------------------------------ */
/* programs                                                           */

struct qchunk {
    qchunk *next;
    size_t cap, used;
    char data[];
};

char *qprog_strdup(qprog *p, const char *s, size_t n)
{
    const mem *m = &p->kb->m;
    qchunk *c = p->arena;
    if (!c || c->cap - c->used < n + 1) {
        size_t cap = n + 1 > 1024 ? n + 1 : 1024;
        qchunk *nc = mem_alloc(m, 1, sizeof *nc + cap);
        if (!nc)
            return NULL;
        nc->next = p->arena, nc->cap = cap, nc->used = 0;
        p->arena = c = nc;
    }
    char *d = c->data + c->used;
    if (n && s)
        memcpy(d, s, n);
    d[n] = '\0';
    c->used += n + 1;
    return d;
}

static int grow(qprog *p, void **v, int *cap, int need, size_t size)
{
    size_t c = (size_t)*cap;
    if (mem_reserve(&p->kb->m, v, &c, (size_t)need, size) != 0)
        return LORE_ERR_NOMEM;
    *cap = (int)c;
    return LORE_OK;
}

int qprog_node(qprog *p, int kind, int *node)
{
    if (grow(p, (void **)&p->nodes, &p->capnodes, p->nnodes + 1, sizeof *p->nodes) != LORE_OK)
        return kb_nomem(p->kb);
    int i = p->nnodes++;
    qnode *n = &p->nodes[i];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->parent = -1, n->first = n->last = n->next = -1, n->path = -1, n->filter = -1, n->pos = -1;
    n->var = n->expr = -1;
    if (i > 0) {
        int g = p->stack[p->nstack - 1];
        n->parent = g;
        if (p->nodes[g].last >= 0)
            p->nodes[p->nodes[g].last].next = i;
        else
            p->nodes[g].first = i;
        p->nodes[g].last = i;
    }
    *node = i;
    return LORE_OK;
}

int qprog_init(qprog *p, lore_kb *kb)
{
    memset(p, 0, sizeof *p);
    p->kb = kb;
    p->limit = UINT64_MAX;
    int root = 0;
    if (grow(p, (void **)&p->stack, &p->capstack, 8, sizeof *p->stack) != LORE_OK)
        return LORE_ERR_NOMEM;
    if (qprog_node(p, QN_GROUP, &root) != LORE_OK)
        return LORE_ERR_NOMEM;
    p->stack[p->nstack++] = root;
    return LORE_OK;
}

void qprog_free(qprog *p)
{
    if (!p->kb)
        return;
    const mem *m = &p->kb->m;
    for (int i = 0; i < p->nfilters; i++)
        mem_free(m, p->filters[i].set, (size_t)p->filters[i].nset, sizeof *p->filters[i].set);
    mem_free(m, p->nodes, (size_t)p->capnodes, sizeof *p->nodes);
    mem_free(m, p->vars, (size_t)p->capvars, sizeof *p->vars);
    mem_free(m, p->consts, (size_t)p->capconsts, sizeof *p->consts);
    mem_free(m, p->filters, (size_t)p->capfilters, sizeof *p->filters);
    mem_free(m, p->pnodes, (size_t)p->cappnodes, sizeof *p->pnodes);
    mem_free(m, p->exprs, (size_t)p->capexprs, sizeof *p->exprs);
    mem_free(m, p->args, (size_t)p->capargs, sizeof *p->args);
    mem_free(m, p->items, (size_t)p->capitems, sizeof *p->items);
    mem_free(m, p->group, (size_t)p->capgroup, sizeof *p->group);
    mem_free(m, p->order, (size_t)p->caporder, sizeof *p->order);
    mem_free(m, p->stack, (size_t)p->capstack, sizeof *p->stack);
    while (p->arena) {
        qchunk *c = p->arena;
        p->arena = c->next;
        mem_free(m, c, 1, sizeof *c + c->cap);
    }
    memset(p, 0, sizeof *p);
}

int qprog_var(qprog *p, const char *name, size_t len, int *var)
{
    if (len > 0 && name[0] == '?')
        name++, len--;
    int anon = len == 0 || (len == 1 && name[0] == '_');
    if (!anon) {
        for (int i = 0; i < p->nvars; i++) {
            if (strlen(p->vars[i]) == len && memcmp(p->vars[i], name, len) == 0) {
                *var = i;
                return LORE_OK;
            }
        }
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)name[i];
            if (c <= ' ' || c == '?' || c == 127)
                return kb_fail(p->kb, LORE_ERR_ARG, "bad variable name '?%.*s'", (int)len, name);
        }
    }
    if (grow(p, (void **)&p->vars, &p->capvars, p->nvars + 1, sizeof *p->vars) != LORE_OK)
        return kb_nomem(p->kb);
    char *s = qprog_strdup(p, name, anon ? 0 : len);
    if (!s)
        return kb_nomem(p->kb);
    p->vars[p->nvars] = s;
    *var = p->nvars++;
    return LORE_OK;
}

static int const_add(qprog *p, const lore_value *v, uint32_t id, int *c);

int qprog_const(qprog *p, const lore_value *v, uint32_t id, int *c)
{
    /* a symbol ex:name means what lore_intern makes of it (prefix.h) */
    expansion x;
    const lore_value *ev = v ? kb_expand(p->kb, v, &x) : NULL;
    if (v && !ev)
        return kb_nomem(p->kb);
    int rc = const_add(p, ev, id, c);
    if (v)
        kb_expand_done(p->kb, &x);
    return rc;
}

static int const_add(qprog *p, const lore_value *v, uint32_t id, int *c)
{
    if (grow(p, (void **)&p->consts, &p->capconsts, p->nconsts + 1, sizeof *p->consts) != LORE_OK)
        return kb_nomem(p->kb);
    qconst *k = &p->consts[p->nconsts];
    memset(k, 0, sizeof *k);
    if (v) {
        const char *why = NULL;
        if (dict_check(v, &why) != LORE_OK)
            return kb_fail(p->kb, LORE_ERR_ARG, "expected %s", why ? why : "a valid value");
        k->v = *v;
        k->has_value = 1;
        if (v->kind == LORE_SYMBOL || v->kind == LORE_TEXT || v->kind == LORE_DATE) {
            k->v.str = qprog_strdup(p, v->str, v->len);
            if (!k->v.str)
                return kb_nomem(p->kb);
            if (v->kind == LORE_TEXT && v->lang && v->langlen) {
                k->v.lang = qprog_strdup(p, v->lang, v->langlen);
                if (!k->v.lang)
                    return kb_nomem(p->kb);
            } else {
                k->v.lang = NULL, k->v.langlen = 0;
            }
        }
        uint32_t found = 0;
        if (dict_lookup(&p->kb->d, &k->v, &found, &why) == LORE_OK)
            k->id = found;
    } else {
        k->id = id;
        dict_get(&p->kb->d, id, &k->v);
    }
    *c = p->nconsts++;
    return LORE_OK;
}

int qprog_pnode(qprog *p, int op, int a, int b, int *out)
{
    if (p->npnodes >= 4096)
        return kb_fail(p->kb, LORE_ERR_LIMIT, "path expression too long");
    if (grow(p, (void **)&p->pnodes, &p->cappnodes, p->npnodes + 1, sizeof *p->pnodes) != LORE_OK)
        return kb_nomem(p->kb);
    pnode *n = &p->pnodes[p->npnodes];
    memset(n, 0, sizeof *n);
    n->op = op, n->a = a, n->b = b, n->cval = -1;
    *out = p->npnodes++;
    return LORE_OK;
}

int qprog_filter(qprog *p, int *f)
{
    if (grow(p, (void **)&p->filters, &p->capfilters, p->nfilters + 1, sizeof *p->filters) !=
        LORE_OK)
        return kb_nomem(p->kb);
    memset(&p->filters[p->nfilters], 0, sizeof p->filters[0]);
    *f = p->nfilters++;
    return LORE_OK;
}

int qprog_expr(qprog *p, const qexpr *e, int *out)
{
    if (p->nexprs >= 4096)
        return kb_fail(p->kb, LORE_ERR_LIMIT, "expression too long");
    if (grow(p, (void **)&p->exprs, &p->capexprs, p->nexprs + 1, sizeof *p->exprs) != LORE_OK)
        return kb_nomem(p->kb);
    p->exprs[p->nexprs] = *e;
    *out = p->nexprs++;
    return LORE_OK;
}

int qprog_arg(qprog *p, int expr)
{
    if (grow(p, (void **)&p->args, &p->capargs, p->nargs + 1, sizeof *p->args) != LORE_OK)
        return kb_nomem(p->kb);
    p->args[p->nargs++] = expr;
    return LORE_OK;
}

int qprog_bind(qprog *p, int var, int expr)
{
    int n = -1;
    if (qprog_node(p, QN_BIND, &n) != LORE_OK)
        return LORE_ERR_NOMEM;
    p->nodes[n].var = var;
    p->nodes[n].expr = expr;
    return LORE_OK;
}

void qexpr_vars(const qprog *p, int e, uint8_t *vars)
{
    const qexpr *x = &p->exprs[e];
    switch (x->op) {
    case QX_SLOT:
        if (x->slot.var >= 0)
            vars[x->slot.var] = 1;
        return;
    case QX_CALL:
    case QX_HOST:
        for (int i = 0; i < x->b; i++)
            qexpr_vars(p, p->args[x->a + i], vars);
        return;
    case QX_NEG:
        qexpr_vars(p, x->a, vars);
        return;
    default:
        qexpr_vars(p, x->a, vars);
        qexpr_vars(p, x->b, vars);
        return;
    }
}

int qexpr_eval(lore_kb *kb, const qprog *p, int e, const uint32_t *row, lore_value *out,
               fn_scratch *sc)
{
    const qexpr *x = &p->exprs[e];
    switch (x->op) {
    case QX_SLOT: {
        uint32_t id = x->slot.var >= 0 ? row[x->slot.var] : p->consts[-x->slot.var - 1].id;
        if (id) {
            dict_get(&kb->d, id, out);
            return LORE_OK;
        }
        if (x->slot.var >= 0)
            return LORE_NOOP;                 /* unbound: no value */
        *out = p->consts[-x->slot.var - 1].v; /* a constant that is no term yet */
        return LORE_OK;
    }
    case QX_CALL:
    case QX_HOST: {
        lore_value buf[8], *args = buf;
        int n = x->b, rc = LORE_OK;
        if (n > 8) {
            args = mem_alloc(&kb->m, (size_t)n, sizeof *args);
            if (!args)
                return kb_nomem(kb);
        }
        for (int i = 0; i < n && rc == LORE_OK; i++)
            rc = qexpr_eval(kb, p, p->args[x->a + i], row, &args[i], sc);
        if (rc == LORE_OK)
            rc = fn_call(kb, x->op == QX_CALL ? x->fn : 0, x->op == QX_HOST ? x->hf : NULL, x->hud,
                         args, (size_t)n, out, sc);
        if (args != buf)
            mem_free(&kb->m, args, (size_t)n, sizeof *args);
        return rc;
    }
    case QX_NEG: {
        lore_value a;
        int rc = qexpr_eval(kb, p, x->a, row, &a, sc);
        return rc != LORE_OK ? rc : fn_arith(x->op, &a, &a, out);
    }
    default: {
        lore_value a, b;
        int rc = qexpr_eval(kb, p, x->a, row, &a, sc);
        if (rc == LORE_OK)
            rc = qexpr_eval(kb, p, x->b, row, &b, sc);
        return rc != LORE_OK ? rc : fn_arith(x->op, &a, &b, out);
    }
    }
}

static const char *kind_name(int kind)
{
    switch (kind) {
    case QN_OPTIONAL:
        return "optional";
    case QN_WITHOUT:
        return "without";
    case QN_UNION:
        return "union";
    default:
        return "group";
    }
}

/* The group new elements go to; a union only takes branches. */
static int open_group(qprog *p, int for_branch)
{
    int g = p->stack[p->nstack - 1];
    int is_union = p->nodes[g].kind == QN_UNION;
    if (is_union && !for_branch)
        return kb_fail(p->kb, LORE_ERR_STATE,
                       "a union holds branches: begin each with LORE_GROUP_BRANCH");
    if (!is_union && for_branch)
        return kb_fail(p->kb, LORE_ERR_STATE, "a branch belongs directly inside a union");
    return LORE_OK;
}

/* Groups open inside the top one, a union and its branch counting once:
 * the nesting a writer sees. */
static int nesting(const qprog *p)
{
    int d = 0;
    for (int i = 1; i < p->nstack; i++)
        d += p->nodes[p->stack[i]].kind != QN_UNION;
    return d;
}

int qprog_begin(qprog *p, int kind)
{
    int rc = open_group(p, kind == QN_GROUP);
    if (rc != LORE_OK)
        return rc;
    if (kind != QN_UNION && nesting(p) >= LORE_MAX_NESTING)
        return kb_fail(p->kb, LORE_ERR_LIMIT, "nesting deeper than %d", LORE_MAX_NESTING);
    int n;
    if (qprog_node(p, kind, &n) != LORE_OK)
        return LORE_ERR_NOMEM;
    if (grow(p, (void **)&p->stack, &p->capstack, p->nstack + 1, sizeof *p->stack) != LORE_OK)
        return kb_nomem(p->kb);
    p->stack[p->nstack++] = n;
    return LORE_OK;
}

int qprog_end(qprog *p, int kind)
{
    if (p->nstack <= 1)
        return kb_fail(p->kb, LORE_ERR_STATE, "no group is open");
    int g = p->stack[p->nstack - 1];
    if (kind >= 0 && p->nodes[g].kind != kind)
        return kb_fail(p->kb, LORE_ERR_STATE, "the open group is a %s",
                       kind_name(p->nodes[g].kind));
    p->nstack--;
    return LORE_OK;
}

/* ------------------------------------------------------------------ */
/* checks                                                             */

/* Marks in `vis` the variables bound by patterns and paths under node n,
 * not looking inside without-groups. */
static void bound_under(const qprog *p, int n, uint8_t *vis)
{
    const qnode *x = &p->nodes[n];
    if (x->kind == QN_PATTERN || x->kind == QN_PATH) {
        for (int k = 0; k < 3; k++)
            if (x->t[k].var >= 0 && !(x->kind == QN_PATH && k == 1))
                vis[x->t[k].var] = 1;
        return;
    }
    if (x->kind == QN_BIND) {
        vis[x->var] = 1;
        return;
    }
    if (x->kind == QN_WITHOUT || x->kind == QN_FILTER)
        return;
    for (int c = x->first; c >= 0; c = p->nodes[c].next)
        bound_under(p, c, vis);
}

static int filter_vars(const qfilter *f, int *v)
{
    int n = 0;
    if (f->op == QF_FN)
        return 0;
    if (f->a.var >= 0)
        v[n++] = f->a.var;
    if (f->op != QF_IN && f->op != QF_MATCH && f->b.var >= 0)
        v[n++] = f->b.var;
    return n;
}

static int var_used(const qprog *p, int v)
{
    for (int i = 0; i < p->nnodes; i++) {
        const qnode *x = &p->nodes[i];
        if (x->kind == QN_PATTERN || x->kind == QN_PATH)
            for (int k = 0; k < 3; k++)
                if (x->t[k].var == v && !(x->kind == QN_PATH && k == 1))
                    return 1;
    }
    return 0;
}

/* Filters: each variable must be bound in the filter's scope. */
static int check_filters(qprog *p, int n, const uint8_t *outer)
{
    qnode *x = &p->nodes[n];
    int nv = p->nvars;
    /* visible here: outer, plus what this group's subtree binds */
    uint8_t *scope = mem_calloc(&p->kb->m, nv ? (size_t)nv : 1, 1);
    if (!scope)
        return kb_nomem(p->kb);
    int rc = LORE_OK;
    for (int i = 0; i < nv; i++)
        scope[i] = outer[i];
    for (int c = x->first; c >= 0; c = p->nodes[c].next)
        if (p->nodes[c].kind != QN_BIND)
            bound_under(p, c, scope); /* the group itself may be a without-group */
    /* computed values: in scope once what they read is, in any order */
    for (int changed = 1; changed;) {
        changed = 0;
        for (int c = x->first; c >= 0; c = p->nodes[c].next) {
            const qnode *y = &p->nodes[c];
            if (y->kind != QN_BIND || scope[y->var])
                continue;
            uint8_t *need = mem_calloc(&p->kb->m, (size_t)nv + 1, 1);
            if (!need) {
                mem_free(&p->kb->m, scope, nv ? (size_t)nv : 1, 1);
                return kb_nomem(p->kb);
            }
            qexpr_vars(p, y->expr, need);
            int ok = 1;
            for (int v = 0; v < nv; v++)
                ok &= !need[v] || scope[v];
            mem_free(&p->kb->m, need, (size_t)nv + 1, 1);
            if (ok)
                scope[y->var] = 1, changed = 1;
        }
    }
    for (int c = x->first; c >= 0 && rc == LORE_OK; c = p->nodes[c].next) {
        qnode *y = &p->nodes[c];
        if (y->kind == QN_BIND) {
            uint8_t *need = mem_calloc(&p->kb->m, (size_t)nv + 1, 1);
            if (!need) {
                rc = kb_nomem(p->kb);
                break;
            }
            qexpr_vars(p, y->expr, need);
            for (int v = 0; v < nv && rc == LORE_OK; v++) {
                if (need[v] && !scope[v])
                    rc = kb_fail(p->kb, LORE_ERR_ARG,
                                 var_used(p, v) || v == y->var
                                     ? "?%s = ...: ?%s is not bound where the value is computed"
                                     : "?%s = ...: ?%s is bound by nothing",
                                 p->vars[y->var], p->vars[v]);
            }
            mem_free(&p->kb->m, need, (size_t)nv + 1, 1);
        } else if (y->kind == QN_FILTER) {
            int v[2], k = filter_vars(&p->filters[y->filter], v);
            for (int j = 0; j < k; j++) {
                if (!scope[v[j]]) {
                    const char *name = p->vars[v[j]];
                    rc = kb_fail(p->kb, LORE_ERR_ARG,
                                 var_used(p, v[j])
                                     ? "filter on ?%s, which is not bound where the filter is"
                                     : "filter on ?%s, which no pattern binds",
                                 name);
                    break;
                }
            }
        } else if (y->kind != QN_PATTERN && y->kind != QN_PATH) {
            rc = check_filters(p, c, scope);
        }
    }
    mem_free(&p->kb->m, scope, nv ? (size_t)nv : 1, 1);
    return rc;
}

int qprog_check(qprog *p, const uint8_t *prebound)
{
    lore_kb *kb = p->kb;
    for (int i = 0; i < p->nconsts; i++) {
        qconst *k = &p->consts[i];
        const char *why;
        uint32_t id;
        if (k->has_value && k->id == 0 && dict_lookup(&kb->d, &k->v, &id, &why) == LORE_OK)
            k->id = id;
    }
    for (int i = 0; i < p->npnodes; i++) {
        pnode *n = &p->pnodes[i];
        if (n->op == P_PRED && !n->any && n->cval >= 0)
            n->pred = p->consts[n->cval].id;
    }
    if (p->nstack > 1)
        return kb_fail(kb, LORE_ERR_STATE, "the %s group is not closed (lore_query_end)",
                       kind_name(p->nodes[p->stack[p->nstack - 1]].kind));
    int nv = p->nvars;
    uint8_t *outer = mem_calloc(&kb->m, nv ? (size_t)nv : 1, 1);
    if (!outer)
        return kb_nomem(kb);
    for (int i = 0; i < nv && prebound; i++)
        outer[i] = prebound[i];
    int rc = check_filters(p, 0, outer);
    if (rc == LORE_OK) {
        uint8_t *top = outer;
        bound_under(p, 0, top);
        int agg = p->ngroup > 0;
        for (int i = 0; i < p->nitems; i++)
            agg |= p->items[i].agg != QA_NONE;
        for (int i = 0; i < p->nitems && rc == LORE_OK; i++) {
            const qitem *it = &p->items[i];
            if (it->var >= 0 && !top[it->var])
                rc = kb_fail(kb, LORE_ERR_ARG,
                             it->agg ? "%s of ?%s, which no pattern binds"
                                     : "select ?%s%s, which no pattern binds",
                             it->agg ? "aggregate" : p->vars[it->var],
                             it->agg ? p->vars[it->var] : "");
            else if (agg && it->agg == QA_NONE) {
                int grouped = 0;
                for (int g = 0; g < p->ngroup; g++)
                    grouped |= p->group[g] == it->var;
                if (!grouped)
                    rc = kb_fail(kb, LORE_ERR_ARG,
                                 "?%s is selected but neither grouped nor aggregated",
                                 p->vars[it->var]);
            }
        }
        for (int i = 0; i < p->ngroup && rc == LORE_OK; i++)
            if (!top[p->group[i]])
                rc = kb_fail(kb, LORE_ERR_ARG, "group by ?%s, which no pattern binds",
                             p->vars[p->group[i]]);
        for (int i = 0; i < p->norder && rc == LORE_OK; i++) {
            int v = p->order[i].var, ok = top[v];
            if (agg) {
                ok = 0;
                for (int k = 0; k < p->nitems; k++)
                    ok |= (p->items[k].agg ? p->items[k].out : p->items[k].var) == v;
                for (int k = 0; k < p->ngroup && p->nitems == 0; k++)
                    ok |= p->group[k] == v; /* the columns are the group's variables */
                if (!ok)
                    rc = kb_fail(kb, LORE_ERR_ARG,
                                 "order by ?%s, which is not a column of the aggregated rows",
                                 p->vars[v]);
            } else if (!ok) {
                rc = kb_fail(kb, LORE_ERR_ARG, "order by ?%s, which no pattern binds", p->vars[v]);
            }
        }
    }
    mem_free(&kb->m, outer, nv ? (size_t)nv : 1, 1);
    return rc;
}

/* ------------------------------------------------------------------ */
/* values                                                             */

static int rank(lore_kind k)
{
    switch (k) {
    case LORE_BOOLEAN:
        return 0;
    case LORE_INTEGER:
    case LORE_NUMBER:
        return 1;
    case LORE_DATE:
        return 2;
    case LORE_TEXT:
        return 3;
    default:
        return 4;
    }
}

static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c != 0)
        return c < 0 ? -1 : 1;
    return an < bn ? -1 : an > bn;
}

/* An integer against a double, exactly. */
static int cmp_int_double(int64_t i, double d)
{
    if (d >= 9223372036854775808.0)
        return -1;
    if (d < -9223372036854775808.0)
        return 1;
    double f = floor(d);
    int64_t fi = (int64_t)f;
    if (i != fi)
        return i < fi ? -1 : 1;
    return d > f ? -1 : 0;
}

int query_compare_values(const lore_value *a, const lore_value *b)
{
    int ra = rank(a->kind), rb = rank(b->kind);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    switch (ra) {
    case 0:
        return (a->i > b->i) - (a->i < b->i);
    case 1:
        if (a->kind == LORE_INTEGER && b->kind == LORE_INTEGER)
            return (a->i > b->i) - (a->i < b->i);
        if (a->kind == LORE_NUMBER && b->kind == LORE_NUMBER)
            return (a->n > b->n) - (a->n < b->n);
        if (a->kind == LORE_INTEGER)
            return cmp_int_double(a->i, b->n);
        return -cmp_int_double(b->i, a->n);
    case 2: {
        date_key ka, kb;
        const char *why;
        if (date_parse(a->str, a->len, &ka, &why) == 0 &&
            date_parse(b->str, b->len, &kb, &why) == 0) {
            int c = date_cmp(ka, kb);
            if (c)
                return c;
        }
        return cmp_bytes(a->str, a->len, b->str, b->len);
    }
    case 3: {
        int c = cmp_bytes(a->str, a->len, b->str, b->len);
        if (c)
            return c;
        return cmp_bytes(a->lang ? a->lang : "", a->lang ? a->langlen : 0, b->lang ? b->lang : "",
                         b->lang ? b->langlen : 0);
    }
    default:
        return cmp_bytes(a->str, a->len, b->str, b->len);
    }
}

/* ------------------------------------------------------------------ */
/* building, the public way                                           */

lore_qterm lore_qvar(const char *name)
{
    lore_qterm t = {name ? name : "?", 0, NULL};
    return t;
}

lore_qterm lore_qid(lore_id id)
{
    lore_qterm t = {NULL, id, NULL};
    return t;
}

lore_qterm lore_qvalue(const lore_value *v)
{
    lore_qterm t = {NULL, 0, v};
    return t;
}

qprog *query_prog(lore_query *q)
{
    return &q->prog;
}

int qprog_pattern_node(const qprog *p, int k)
{
    for (int i = 0; i < p->nnodes; i++)
        if (p->nodes[i].kind == QN_PATTERN && k-- == 0)
            return i;
    return -1;
}

/* Invalidates what depends on the program: it changed. */
static void changed(lore_query *q)
{
    if (q->running) {
        qexec_close(&q->x);
        q->running = 0;
    }
    if (q->planned)
        qplan_free(&q->kb->m, &q->plan);
    q->checked = q->planned = 0;
    q->done = q->failed = 0;
}

static int slot_of(lore_query *q, const lore_qterm *t, qslot *s, const char *what)
{
    qprog *p = &q->prog;
    int v;
    int rc;
    if (t->var) {
        if ((rc = qprog_var(p, t->var, strlen(t->var), &v)) != LORE_OK)
            return rc;
        *s = qs_var(v);
        return LORE_OK;
    }
    if (t->value) {
        if ((rc = qprog_const(p, t->value, 0, &v)) != LORE_OK)
            return rc;
        *s = qs_const(v);
        return LORE_OK;
    }
    if (t->id == 0) { /* a wildcard, as in lore_match */
        if (qprog_var(p, "", 0, &v) != LORE_OK)
            return LORE_ERR_NOMEM;
        *s = qs_var(v);
        return LORE_OK;
    }
    if (!dict_valid(&q->kb->d, t->id))
        return kb_fail(q->kb, LORE_ERR_ARG, "%s is not a term id (%u)", what, (unsigned)t->id);
    if (qprog_const(p, NULL, t->id, &v) != LORE_OK)
        return LORE_ERR_NOMEM;
    *s = qs_const(v);
    return LORE_OK;
}

int lore_query_new(lore_kb *kb, lore_query **qp)
{
    kb_clear(kb);
    *qp = NULL;
    lore_query *q = mem_calloc(&kb->m, 1, sizeof *q);
    if (!q)
        return kb_nomem(kb);
    q->kb = kb;
    if (qprog_init(&q->prog, kb) != LORE_OK) {
        qprog_free(&q->prog);
        mem_free(&kb->m, q, 1, sizeof *q);
        return kb_nomem(kb);
    }
    *qp = q;
    return LORE_OK;
}

int lore_query_parse(lore_kb *kb, const char *text, size_t len, lore_query **qp)
{
    int rc = lore_query_new(kb, qp);
    if (rc != LORE_OK)
        return rc;
    rc = qparse_query(*qp, text, len);
    if (rc != LORE_OK) {
        char keep[sizeof kb->err];
        memcpy(keep, kb->err, sizeof keep);
        lore_query_free(*qp);
        *qp = NULL;
        memcpy(kb->err, keep, sizeof keep);
    }
    return rc;
}

int lore_query_pattern(lore_query *q, lore_qterm s, lore_qterm p, lore_qterm o)
{
    kb_clear(q->kb);
    changed(q);
    qslot t[3];
    int rc;
    if ((rc = open_group(&q->prog, 0)) != LORE_OK || (rc = slot_of(q, &s, &t[0], "subject")) ||
        (rc = slot_of(q, &p, &t[1], "predicate")) || (rc = slot_of(q, &o, &t[2], "object")))
        return rc;
    int n;
    if (qprog_node(&q->prog, QN_PATTERN, &n) != LORE_OK)
        return LORE_ERR_NOMEM;
    memcpy(q->prog.nodes[n].t, t, sizeof t);
    return LORE_OK;
}

int lore_query_path(lore_query *q, lore_qterm s, const char *path, lore_qterm o)
{
    kb_clear(q->kb);
    changed(q);
    qslot t[3];
    int rc, root, n;
    if ((rc = open_group(&q->prog, 0)) != LORE_OK || (rc = slot_of(q, &s, &t[0], "subject")) ||
        (rc = slot_of(q, &o, &t[2], "object")))
        return rc;
    if (!path)
        return kb_fail(q->kb, LORE_ERR_ARG, "lore_query_path: no path");
    if ((rc = qparse_path(&q->prog, path, strlen(path), &root)) != LORE_OK)
        return rc;
    if (qprog_node(&q->prog, QN_PATH, &n) != LORE_OK)
        return LORE_ERR_NOMEM;
    qnode *x = &q->prog.nodes[n];
    x->t[0] = t[0], x->t[2] = t[2];
    x->t[1].var = QS_NONE;
    x->path = root;
    return LORE_OK;
}

/* Adds a filter node; *f gets the filter. */
static int add_filter(lore_query *q, int op, qfilter **f)
{
    int rc = open_group(&q->prog, 0), i = 0, n = 0;
    if (rc != LORE_OK)
        return rc;
    if (qprog_filter(&q->prog, &i) != LORE_OK || qprog_node(&q->prog, QN_FILTER, &n) != LORE_OK)
        return LORE_ERR_NOMEM;
    q->prog.nodes[n].filter = i;
    *f = &q->prog.filters[i];
    (*f)->op = op;
    (*f)->a.var = (*f)->b.var = QS_NONE;
    return LORE_OK;
}

static int op_of(const char *op)
{
    static const struct {
        const char *name;
        int op;
    } ops[] = {{"=", QF_EQ},  {"==", QF_EQ}, {"~=", QF_NE}, {"!=", QF_NE},      {"<", QF_LT},
               {"<=", QF_LE}, {">", QF_GT},  {">=", QF_GE}, {"match", QF_MATCH}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(op, ops[i].name) == 0)
            return ops[i].op;
    return -1;
}

int lore_query_filter(lore_query *q, lore_qterm a, const char *op, lore_qterm b)
{
    kb_clear(q->kb);
    changed(q);
    int o = op ? op_of(op) : -1;
    if (o < 0)
        return kb_fail(q->kb, LORE_ERR_ARG,
                       "unknown comparison '%s' (expected =, ~=, <, <=, >, >=, in or match)",
                       op ? op : "(null)");
    qslot sa, sb;
    int rc;
    if ((rc = slot_of(q, &a, &sa, "operand")) || (rc = slot_of(q, &b, &sb, "operand")))
        return rc;
    if (o == QF_MATCH) {
        const qconst *k = sb.var < 0 ? &q->prog.consts[-sb.var - 1] : NULL;
        if (!k || (k->v.kind != LORE_TEXT && k->v.kind != LORE_SYMBOL))
            return kb_fail(q->kb, LORE_ERR_ARG, "match needs a pattern string");
        const char *why = lpat_check(k->v.str, k->v.len);
        if (why)
            return kb_fail(q->kb, LORE_ERR_ARG, "match \"%s\": %s", k->v.str, why);
    }
    qfilter *f;
    if ((rc = add_filter(q, o, &f)) != LORE_OK)
        return rc;
    f->a = sa, f->b = sb;
    return LORE_OK;
}

int lore_query_filter_in(lore_query *q, lore_qterm a, const lore_qterm *set, size_t n)
{
    kb_clear(q->kb);
    changed(q);
    qslot sa;
    int rc = slot_of(q, &a, &sa, "operand");
    if (rc)
        return rc;
    int *ks = n ? mem_alloc(&q->kb->m, n, sizeof *ks) : NULL;
    if (n && !ks)
        return kb_nomem(q->kb);
    for (size_t i = 0; i < n; i++) {
        qslot s;
        if (set[i].var) {
            rc = kb_fail(q->kb, LORE_ERR_ARG, "a set holds values, not variables ('%s')",
                         set[i].var);
        } else if (set[i].value == NULL && set[i].id == 0) {
            rc = kb_fail(q->kb, LORE_ERR_ARG, "a set holds values, not wildcards");
        } else {
            rc = slot_of(q, &set[i], &s, "set member");
            if (rc == LORE_OK)
                ks[i] = -s.var - 1;
        }
        if (rc) {
            mem_free(&q->kb->m, ks, n, sizeof *ks);
            return rc;
        }
    }
    qfilter *f;
    if ((rc = add_filter(q, QF_IN, &f)) != LORE_OK) {
        mem_free(&q->kb->m, ks, n, sizeof *ks);
        return rc;
    }
    f->a = sa, f->set = ks, f->nset = (int)n;
    return LORE_OK;
}

int lore_query_filter_text(lore_query *q, const char *expr, size_t len)
{
    kb_clear(q->kb);
    changed(q);
    int rc = open_group(&q->prog, 0);
    return rc ? rc : qparse_filter(q, expr, len);
}

int lore_query_filter_fn(lore_query *q, lore_filter_fn fn, void *ud)
{
    kb_clear(q->kb);
    changed(q);
    if (!fn)
        return kb_fail(q->kb, LORE_ERR_ARG, "lore_query_filter_fn: no function");
    qfilter *f;
    int rc = add_filter(q, QF_FN, &f);
    if (rc)
        return rc;
    f->fn = fn, f->ud = ud;
    return LORE_OK;
}

int lore_function(lore_kb *kb, const char *name, lore_value_fn fn, void *ud)
{
    kb_clear(kb);
    return fn_register(kb, name, fn, ud);
}

/* The variable a let element binds. */
static int let_var(lore_query *q, const char *var, int *v)
{
    const char *name = var && var[0] == '?' ? var + 1 : var;
    if (!name || !name[0] || strcmp(name, "_") == 0)
        return kb_fail(q->kb, LORE_ERR_ARG, "let: a variable name expected");
    return qprog_var(&q->prog, var, strlen(var), v);
}

int lore_query_let(lore_query *q, const char *var, const char *expr, size_t len)
{
    kb_clear(q->kb);
    changed(q);
    int v, root, rc;
    if ((rc = open_group(&q->prog, 0)) != LORE_OK || (rc = let_var(q, var, &v)) != LORE_OK)
        return rc;
    if (!expr)
        return kb_fail(q->kb, LORE_ERR_ARG, "let: no expression");
    if ((rc = qparse_expr(q, expr, len, &root)) != LORE_OK)
        return rc;
    return qprog_bind(&q->prog, v, root);
}

int lore_query_let_fn(lore_query *q, const char *var, lore_value_fn fn, void *ud,
                      const lore_qterm *args, size_t nargs)
{
    kb_clear(q->kb);
    changed(q);
    int v, rc;
    if ((rc = open_group(&q->prog, 0)) != LORE_OK || (rc = let_var(q, var, &v)) != LORE_OK)
        return rc;
    if (!fn)
        return kb_fail(q->kb, LORE_ERR_ARG, "lore_query_let_fn: no function");
    if (nargs > 64)
        return kb_fail(q->kb, LORE_ERR_ARG, "lore_query_let_fn: at most 64 arguments");
    int ex[64];
    for (size_t i = 0; i < nargs; i++) {
        qexpr e;
        memset(&e, 0, sizeof e);
        e.op = QX_SLOT;
        if ((rc = slot_of(q, &args[i], &e.slot, "argument")) != LORE_OK)
            return rc;
        if (e.slot.var >= 0 && q->prog.vars[e.slot.var][0] == '\0')
            return kb_fail(q->kb, LORE_ERR_ARG, "lore_query_let_fn: an argument is a wildcard");
        if ((rc = qprog_expr(&q->prog, &e, &ex[i])) != LORE_OK)
            return rc;
    }
    qexpr call;
    memset(&call, 0, sizeof call);
    call.op = QX_HOST, call.hf = fn, call.hud = ud, call.a = q->prog.nargs, call.b = (int)nargs;
    for (size_t i = 0; i < nargs; i++)
        if ((rc = qprog_arg(&q->prog, ex[i])) != LORE_OK)
            return rc;
    int root;
    if ((rc = qprog_expr(&q->prog, &call, &root)) != LORE_OK)
        return rc;
    return qprog_bind(&q->prog, v, root);
}

int lore_query_begin(lore_query *q, int kind)
{
    kb_clear(q->kb);
    changed(q);
    static const int kinds[] = {0, QN_OPTIONAL, QN_WITHOUT, QN_UNION, QN_GROUP};
    if (kind < LORE_GROUP_OPTIONAL || kind > LORE_GROUP_BRANCH)
        return kb_fail(q->kb, LORE_ERR_ARG, "lore_query_begin: unknown group kind %d", kind);
    return qprog_begin(&q->prog, kinds[kind]);
}

int lore_query_end(lore_query *q)
{
    kb_clear(q->kb);
    changed(q);
    return qprog_end(&q->prog, -1);
}

int lore_query_select(lore_query *q, const char *item)
{
    kb_clear(q->kb);
    changed(q);
    return qparse_item(q, item, strlen(item));
}

/* A variable given by name for a modifier. */
static int modifier_var(lore_query *q, const char *var, const char *fn, int *v)
{
    size_t n = strlen(var);
    const char *name = var[0] == '?' ? var + 1 : var;
    if (n == 0 || name[0] == '\0' || strcmp(name, "_") == 0)
        return kb_fail(q->kb, LORE_ERR_ARG, "%s: a variable name expected", fn);
    return qprog_var(&q->prog, var, n, v);
}

int lore_query_group(lore_query *q, const char *var)
{
    kb_clear(q->kb);
    changed(q);
    qprog *p = &q->prog;
    int v, rc = modifier_var(q, var, "group", &v);
    if (rc)
        return rc;
    if (grow(p, (void **)&p->group, &p->capgroup, p->ngroup + 1, sizeof *p->group) != LORE_OK)
        return kb_nomem(q->kb);
    p->group[p->ngroup++] = v;
    return LORE_OK;
}

int lore_query_order(lore_query *q, const char *var, int descending)
{
    kb_clear(q->kb);
    changed(q);
    qprog *p = &q->prog;
    int v, rc = modifier_var(q, var, "order", &v);
    if (rc)
        return rc;
    if (grow(p, (void **)&p->order, &p->caporder, p->norder + 1, sizeof *p->order) != LORE_OK)
        return kb_nomem(q->kb);
    p->order[p->norder].var = v;
    p->order[p->norder].desc = descending != 0;
    p->norder++;
    return LORE_OK;
}

int lore_query_distinct(lore_query *q)
{
    kb_clear(q->kb);
    changed(q);
    q->prog.distinct = 1;
    return LORE_OK;
}

int lore_query_limit(lore_query *q, uint64_t limit, uint64_t offset)
{
    kb_clear(q->kb);
    changed(q);
    q->prog.limit = limit;
    q->prog.offset = offset;
    return LORE_OK;
}

/* ------------------------------------------------------------------ */
/* preparing                                                          */

/* bind, bound and plan_bound live in one block, so growing them is one
 * allocation that either happens or not. */
static size_t bind_bytes(int n)
{
    return (size_t)n * (sizeof(uint32_t) + 2);
}

static int ensure_bind(lore_query *q)
{
    int nv = q->prog.nvars, old = q->nbind;
    if (old >= nv)
        return LORE_OK;
    const mem *m = &q->kb->m;
    uint8_t *blk = mem_calloc(m, bind_bytes(nv), 1);
    if (!blk)
        return kb_nomem(q->kb);
    uint32_t *b = (uint32_t *)blk;
    uint8_t *bd = blk + (size_t)nv * sizeof(uint32_t), *pb = bd + nv;
    if (old) {
        memcpy(b, q->bind, (size_t)old * sizeof *b);
        memcpy(bd, q->bound, (size_t)old);
        memcpy(pb, q->plan_bound, (size_t)old);
        mem_free(m, q->bind, bind_bytes(old), 1);
    }
    q->bind = b, q->bound = bd, q->plan_bound = pb;
    q->nbind = nv;
    return LORE_OK;
}

int lore_query_bind(lore_query *q, const char *var, lore_id id)
{
    kb_clear(q->kb);
    if (q->running) {
        qexec_close(&q->x);
        q->running = 0;
    }
    q->done = q->failed = 0;
    const char *name = var && var[0] == '?' ? var + 1 : var;
    int v = -1;
    for (int i = 0; name && i < q->prog.nvars; i++)
        if (q->prog.vars[i][0] && strcmp(q->prog.vars[i], name) == 0)
            v = i;
    if (v < 0)
        return kb_fail(q->kb, LORE_ERR_ARG, "lore_query_bind: the query has no variable ?%s",
                       name ? name : "(null)");
    if (id != 0 && !dict_valid(&q->kb->d, id))
        return kb_fail(q->kb, LORE_ERR_ARG, "lore_query_bind: not a term id (%u)", (unsigned)id);
    if (ensure_bind(q) != LORE_OK)
        return LORE_ERR_NOMEM;
    q->bind[v] = id;
    q->bound[v] = id != 0;
    return LORE_OK;
}

/* The columns: the select items, or every named variable that patterns
 * bind outside without-groups, in order of first appearance. */
static int make_columns(lore_query *q)
{
    qprog *p = &q->prog;
    const mem *m = &q->kb->m;
    mem_free(m, q->cols, (size_t)q->colcap, sizeof *q->cols);
    mem_free(m, q->hidden, (size_t)q->colcap, sizeof *q->hidden);
    q->cols = q->hidden = NULL;
    q->ncols = q->nhidden = q->width = q->colcap = 0;
    int nv = p->nvars, cap = nv + p->nitems + 1;
    q->cols = mem_alloc(m, (size_t)cap, sizeof *q->cols);
    q->hidden = mem_alloc(m, (size_t)cap, sizeof *q->hidden);
    uint8_t *vis = mem_calloc(m, (size_t)nv + 1, 1);
    q->colcap = cap;
    if (!q->cols || !q->hidden || !vis) {
        mem_free(m, vis, (size_t)nv + 1, 1);
        mem_free(m, q->cols, (size_t)cap, sizeof *q->cols);
        mem_free(m, q->hidden, (size_t)cap, sizeof *q->hidden);
        q->cols = q->hidden = NULL;
        q->colcap = 0;
        return kb_nomem(q->kb);
    }
    q->aggregating = p->ngroup > 0;
    for (int i = 0; i < p->nitems; i++)
        q->aggregating |= p->items[i].agg != QA_NONE;
    if (q->reach) {
        q->cols[q->ncols++] = 0;
        q->cols[q->ncols++] = 1;
    } else if (p->nitems) {
        for (int i = 0; i < p->nitems; i++)
            q->cols[q->ncols++] = p->items[i].agg ? p->items[i].out : p->items[i].var;
    } else if (q->aggregating) {
        for (int i = 0; i < p->ngroup; i++)
            q->cols[q->ncols++] = p->group[i];
    } else {
        bound_under(p, 0, vis);
        /* first appearance: scan nodes in creation order */
        uint8_t *done = vis + 0;
        for (int i = 0; i < p->nnodes; i++) {
            const qnode *x = &p->nodes[i];
            if (x->kind == QN_BIND) {
                int v = x->var;
                if (p->vars[v][0] && done[v] == 1) {
                    done[v] = 2;
                    q->cols[q->ncols++] = v;
                }
                continue;
            }
            if (x->kind != QN_PATTERN && x->kind != QN_PATH)
                continue;
            for (int k = 0; k < 3; k++) {
                int v = x->t[k].var;
                if (v < 0 || (x->kind == QN_PATH && k == 1) || !p->vars[v][0] || done[v] != 1)
                    continue;
                done[v] = 2;
                q->cols[q->ncols++] = v;
            }
        }
    }
    if (!q->aggregating) {
        for (int i = 0; i < p->norder; i++) {
            int v = p->order[i].var, in = 0;
            for (int c = 0; c < q->ncols; c++)
                in |= q->cols[c] == v;
            for (int c = 0; c < q->nhidden; c++)
                in |= q->hidden[c] == v;
            if (!in)
                q->hidden[q->nhidden++] = v;
        }
    }
    q->width = q->ncols + q->nhidden;
    if (q->width == 0)
        q->width = 1; /* rows of no column still take a cell */
    mem_free(m, vis, (size_t)nv + 1, 1);
    return LORE_OK;
}

static void release_output(lore_query *q)
{
    const mem *m = &q->kb->m;
    mem_free(m, q->rows, q->caprows, sizeof *q->rows);
    mem_free(m, q->nums, q->capnums, sizeof *q->nums);
    mem_free(m, q->dset, q->dcap, sizeof *q->dset);
    mem_free(m, q->gkeys, q->capgroups * (size_t)(q->prog.ngroup ? q->prog.ngroup : 1),
             sizeof *q->gkeys);
    mem_free(m, q->acc, q->capacc, sizeof *q->acc);
    mem_free(m, q->gslot, q->gcap, sizeof *q->gslot);
    mem_free(m, q->aset, q->acap, sizeof *q->aset);
    mem_free(m, q->agen, q->acap, sizeof *q->agen);
    q->rows = NULL, q->nums = NULL, q->dset = NULL, q->gkeys = NULL, q->acc = NULL;
    q->gslot = NULL, q->aset = NULL, q->agen = NULL;
    q->nrows = q->caprows = q->rowpos = q->nnums = q->capnums = q->dcap = q->dn = 0;
    q->ngroups = q->capgroups = q->capacc = q->gcap = q->acap = q->an = 0;
    q->materialised = 0;
    q->skipped = q->emitted = 0;
}

int lore_query_prepare(lore_query *q)
{
    lore_kb *kb = q->kb;
    kb_clear(kb);
    if (kb->batch)
        return kb_busy(kb, "lore_query_prepare");
    if (ensure_bind(q) != LORE_OK)
        return LORE_ERR_NOMEM;
    int rc;
    if (!q->checked) {
        if ((rc = qprog_check(&q->prog, q->bound)) != LORE_OK)
            return rc;
        if ((rc = make_columns(q)) != LORE_OK)
            return rc;
        q->checked = 1;
    }
    if (q->reach)
        return LORE_OK;
    /* constants may name terms interned since the query was built: then
     * the plan's estimates are off too */
    int same = q->planned;
    for (int i = 0; i < q->prog.nconsts; i++) {
        qconst *k = &q->prog.consts[i];
        const char *why;
        uint32_t id;
        if (k->has_value && k->id == 0 && dict_lookup(&kb->d, &k->v, &id, &why) == LORE_OK) {
            k->id = id;
            same = 0;
        }
    }
    for (int i = 0; same && i < q->prog.nvars; i++)
        same = q->plan_bound[i] == q->bound[i];
    /* re-plan when the facts have changed much since */
    uint64_t now = kb->st.nlive;
    if (same && (now > q->plan_size + q->plan_size / 4 + 64 || now + now / 4 + 64 < q->plan_size))
        same = 0;
    if (same)
        return LORE_OK;
    if (q->planned) {
        qplan_free(&kb->m, &q->plan);
        q->planned = 0;
    }
    if (q->text)
        q->textlen = 0;
    for (int i = 0; i < q->prog.npnodes; i++) {
        pnode *n = &q->prog.pnodes[i];
        if (n->op == P_PRED && !n->any && n->cval >= 0)
            n->pred = q->prog.consts[n->cval].id;
    }
    qplan_opts o = {q->bound, -1, 0, 0};
    if ((rc = qplan_make(kb, &q->prog, &o, &q->plan)) != LORE_OK)
        return rc;
    if (q->prog.nvars)
        memcpy(q->plan_bound, q->bound, (size_t)q->prog.nvars);
    q->plan_size = now;
    q->planned = 1;
    return LORE_OK;
}

/* ------------------------------------------------------------------ */
/* output stage                                                       */

static int push_num(lore_query *q, lore_kind kind, int64_t i, double n, qcell *c)
{
    if (mem_reserve(&q->kb->m, (void **)&q->nums, &q->capnums, q->nnums + 1, sizeof *q->nums))
        return kb_nomem(q->kb);
    qnum *x = &q->nums[q->nnums++];
    x->kind = kind, x->i = i, x->n = n;
    c->id = 0, c->num = (uint32_t)q->nnums;
    return LORE_OK;
}

static void cell_value(const lore_query *q, const qcell *c, lore_value *v)
{
    memset(v, 0, sizeof *v);
    if (c->id) {
        dict_get(&q->kb->d, c->id, v);
    } else if (c->num) {
        const qnum *x = &q->nums[c->num - 1];
        v->kind = x->kind, v->i = x->i, v->n = x->n;
    }
}

/* Unbound first, then lore's order (computed values by value). */
static int cell_compare(const lore_query *q, const qcell *a, const qcell *b)
{
    int ua = !a->id && !a->num, ub = !b->id && !b->num;
    if (ua || ub)
        return ub - ua;
    if (a->id && b->id)
        return dict_compare(&q->kb->d, a->id, b->id);
    lore_value va, vb;
    cell_value(q, a, &va);
    cell_value(q, b, &vb);
    return query_compare_values(&va, &vb);
}

static int cells_equal(const lore_query *q, const qcell *a, const qcell *b, int n)
{
    for (int i = 0; i < n; i++) {
        if (a[i].id != b[i].id)
            return 0;
        if (a[i].id == 0 && (a[i].num != 0) != (b[i].num != 0))
            return 0;
        if (a[i].id == 0 && a[i].num && cell_compare(q, &a[i], &b[i]) != 0)
            return 0;
    }
    return 1;
}

static uint64_t cells_hash(const lore_query *q, const qcell *c, int n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < n; i++) {
        uint64_t x = c[i].id;
        if (!x && c[i].num) {
            const qnum *v = &q->nums[c[i].num - 1];
            double d = v->kind == LORE_INTEGER ? (double)v->i : v->n;
            memcpy(&x, &d, sizeof x);
            x ^= 0xabcdefull;
        }
        h = hash_mix(h ^ x) + (uint64_t)i;
    }
    return h;
}

/* Appends a row of q->width cells to q->rows; returns its index. */
static int push_row(lore_query *q, const qcell *r, size_t *idx)
{
    size_t w = (size_t)q->width;
    if (mem_reserve(&q->kb->m, (void **)&q->rows, &q->caprows, (q->nrows + 1) * w,
                    sizeof *q->rows) != 0)
        return kb_nomem(q->kb);
    memcpy(q->rows + q->nrows * w, r, w * sizeof *r);
    *idx = q->nrows++;
    return LORE_OK;
}

/* Distinct: 1 if row r (width cells, first ncols compared) is new (then it
 * is remembered), 0 if seen. */
static int distinct_new(lore_query *q, const qcell *r, int *isnew)
{
    const mem *m = &q->kb->m;
    size_t w = (size_t)q->width;
    if ((q->dn + 1) * 2 > q->dcap) {
        size_t nc = q->dcap ? q->dcap * 2 : 64;
        uint32_t *ns = mem_calloc(m, nc, sizeof *ns);
        if (!ns)
            return kb_nomem(q->kb);
        for (size_t i = 0; i < q->dcap; i++) {
            uint32_t e = q->dset[i];
            if (!e)
                continue;
            size_t j = cells_hash(q, q->rows + (e - 1) * w, q->ncols) & (nc - 1);
            while (ns[j])
                j = (j + 1) & (nc - 1);
            ns[j] = e;
        }
        mem_free(m, q->dset, q->dcap, sizeof *q->dset);
        q->dset = ns, q->dcap = nc;
    }
    size_t j = cells_hash(q, r, q->ncols) & (q->dcap - 1);
    while (q->dset[j]) {
        if (cells_equal(q, q->rows + (q->dset[j] - 1) * w, r, q->ncols)) {
            *isnew = 0;
            return LORE_OK;
        }
        j = (j + 1) & (q->dcap - 1);
    }
    size_t idx = 0;
    if (push_row(q, r, &idx) != LORE_OK)
        return LORE_ERR_NOMEM;
    if (idx >= UINT32_MAX)
        return kb_fail(q->kb, LORE_ERR_LIMIT, "too many distinct rows");
    q->dset[j] = (uint32_t)idx + 1;
    q->dn++;
    *isnew = 1;
    return LORE_OK;
}

/* The executor's row as an output row (columns, then hidden order keys). */
static void project(lore_query *q, qcell *out)
{
    const uint32_t *row = q->x.row;
    for (int c = 0; c < q->ncols; c++)
        out[c].id = row[q->cols[c]], out[c].num = 0;
    for (int h = 0; h < q->nhidden; h++)
        out[q->ncols + h].id = row[q->hidden[h]], out[q->ncols + h].num = 0;
}

/* ---- aggregation ---- */

static int group_of(lore_query *q, size_t *g)
{
    const qprog *p = &q->prog;
    const mem *m = &q->kb->m;
    int ng = p->ngroup, k = ng ? ng : 1;
    const uint32_t *row = q->x.row;
    uint64_t h = 0x12345;
    for (int i = 0; i < ng; i++)
        h = hash_mix(h ^ row[p->group[i]]) + (uint64_t)i;
    if ((q->ngroups + 1) * 2 > q->gcap) {
        size_t nc = q->gcap ? q->gcap * 2 : 64;
        uint32_t *ns = mem_calloc(m, nc, sizeof *ns);
        if (!ns)
            return kb_nomem(q->kb);
        for (size_t i = 0; i < q->gcap; i++) {
            uint32_t e = q->gslot[i];
            if (!e)
                continue;
            uint64_t hh = 0x12345;
            for (int j = 0; j < ng; j++)
                hh = hash_mix(hh ^ q->gkeys[(size_t)(e - 1) * (size_t)k + (size_t)j]) + (uint64_t)j;
            size_t at = hh & (nc - 1);
            while (ns[at])
                at = (at + 1) & (nc - 1);
            ns[at] = e;
        }
        mem_free(m, q->gslot, q->gcap, sizeof *q->gslot);
        q->gslot = ns, q->gcap = nc;
    }
    size_t at = h & (q->gcap - 1);
    while (q->gslot[at]) {
        uint32_t e = q->gslot[at];
        const uint32_t *key = q->gkeys + (size_t)(e - 1) * (size_t)k;
        int same = 1;
        for (int i = 0; i < ng && same; i++)
            same = key[i] == row[p->group[i]];
        if (same) {
            *g = e - 1;
            return LORE_OK;
        }
        at = (at + 1) & (q->gcap - 1);
    }
    size_t oc = q->capgroups;
    if (q->ngroups + 1 > oc) {
        size_t nc = oc ? oc * 2 : 16;
        uint32_t *gk = q->gkeys;
        if (mem_resize(m, (void **)&gk, oc * (size_t)k, nc * (size_t)k, sizeof *gk) != 0)
            return kb_nomem(q->kb);
        q->gkeys = gk;
        q->capgroups = nc;
    }
    size_t ni = (size_t)(p->nitems ? p->nitems : 1);
    if (mem_reserve(m, (void **)&q->acc, &q->capacc, (q->ngroups + 1) * ni, sizeof *q->acc) != 0)
        return kb_nomem(q->kb);
    size_t gi = q->ngroups++;
    for (int i = 0; i < ng; i++)
        q->gkeys[gi * (size_t)k + (size_t)i] = row[p->group[i]];
    for (size_t i = 0; i < ni; i++) {
        qacc *a = &q->acc[gi * ni + i];
        memset(a, 0, sizeof *a);
        a->isint = 1;
    }
    q->gslot[at] = (uint32_t)gi + 1;
    *g = gi;
    return LORE_OK;
}

/* 1 if (group, item, id) was not seen before. */
static int agg_first(lore_query *q, size_t g, int item, uint32_t id, int *first)
{
    uint64_t key = (uint64_t)g << 40 ^ (uint64_t)item << 32 ^ id;
    const mem *m = &q->kb->m;
    if ((q->an + 1) * 2 > q->acap) {
        size_t nc = q->acap ? q->acap * 2 : 256;
        uint64_t *nk = mem_alloc(m, nc, sizeof *nk);
        uint32_t *ng = mem_calloc(m, nc, sizeof *ng);
        if (!nk || !ng) {
            mem_free(m, nk, nc, sizeof *nk);
            mem_free(m, ng, nc, sizeof *ng);
            return kb_nomem(q->kb);
        }
        for (size_t i = 0; i < q->acap; i++) {
            if (!q->agen[i])
                continue;
            size_t j = hash_mix(q->aset[i]) & (nc - 1);
            while (ng[j])
                j = (j + 1) & (nc - 1);
            nk[j] = q->aset[i], ng[j] = 1;
        }
        mem_free(m, q->aset, q->acap, sizeof *q->aset);
        mem_free(m, q->agen, q->acap, sizeof *q->agen);
        q->aset = nk, q->agen = ng, q->acap = nc;
    }
    size_t j = hash_mix(key) & (q->acap - 1);
    while (q->agen[j]) {
        if (q->aset[j] == key) {
            *first = 0;
            return LORE_OK;
        }
        j = (j + 1) & (q->acap - 1);
    }
    q->aset[j] = key, q->agen[j] = 1, q->an++;
    *first = 1;
    return LORE_OK;
}

static int accumulate(lore_query *q)
{
    const qprog *p = &q->prog;
    size_t g;
    if (group_of(q, &g) != LORE_OK)
        return LORE_ERR_NOMEM;
    size_t ni = (size_t)(p->nitems ? p->nitems : 1);
    for (int i = 0; i < p->nitems; i++) {
        const qitem *it = &p->items[i];
        if (it->agg == QA_NONE)
            continue;
        qacc *a = &q->acc[g * ni + (size_t)i];
        uint32_t id = it->var >= 0 ? q->x.row[it->var] : 0;
        if (it->var >= 0 && id == 0)
            continue; /* unbound values do not count */
        if (it->distinct && id) {
            int first;
            if (agg_first(q, g, i, id, &first) != LORE_OK)
                return LORE_ERR_NOMEM;
            if (!first)
                continue;
        }
        if (it->agg == QA_COUNT) {
            a->count++;
            continue;
        }
        const term *t = dict_term(&q->kb->d, id);
        if (it->agg == QA_MIN || it->agg == QA_MAX) {
            int c = a->best ? dict_compare(&q->kb->d, id, a->best) : 0;
            if (!a->best || (it->agg == QA_MIN ? c < 0 : c > 0))
                a->best = id;
            continue;
        }
        /* sum, avg: numbers only */
        if (t->kind == LORE_INTEGER) {
            int64_t r;
            if (a->isint && !__builtin_add_overflow(a->isum, t->u.i, &r))
                a->isum = r;
            else
                a->isint = 0;
            a->dsum += (double)t->u.i;
            a->count++;
        } else if (t->kind == LORE_NUMBER) {
            a->isint = 0;
            a->dsum += t->u.n;
            a->count++;
        }
    }
    return LORE_OK;
}

/* Turns the groups into rows. */
static int emit_groups(lore_query *q)
{
    const qprog *p = &q->prog;
    int ng = p->ngroup, k = ng ? ng : 1;
    size_t ni = (size_t)(p->nitems ? p->nitems : 1);
    qcell *r = mem_calloc(&q->kb->m, (size_t)q->width, sizeof *r);
    if (!r)
        return kb_nomem(q->kb);
    int rc = LORE_OK;
    if (q->ngroups == 0 && ng == 0) { /* aggregates over nothing: one row */
        size_t g;
        if ((rc = group_of(q, &g)) != LORE_OK)
            goto cleanup;
    }
    for (size_t g = 0; g < q->ngroups; g++) {
        memset(r, 0, (size_t)q->width * sizeof *r);
        for (int c = 0; c < q->ncols; c++) {
            int v = q->cols[c];
            const qitem *it = NULL;
            for (int i = 0; i < p->nitems && !it; i++)
                if ((p->items[i].agg ? p->items[i].out : p->items[i].var) == v)
                    it = &p->items[i];
            if (!it || it->agg == QA_NONE) {
                for (int j = 0; j < ng; j++)
                    if (p->group[j] == v)
                        r[c].id = q->gkeys[g * (size_t)k + (size_t)j];
                continue;
            }
            const qacc *a = &q->acc[g * ni + (size_t)(it - p->items)];
            switch (it->agg) {
            case QA_COUNT:
                rc = push_num(q, LORE_INTEGER, (int64_t)a->count, 0, &r[c]);
                break;
            case QA_SUM:
                rc = a->isint ? push_num(q, LORE_INTEGER, a->isum, 0, &r[c])
                              : push_num(q, LORE_NUMBER, 0, a->dsum, &r[c]);
                break;
            case QA_AVG:
                if (a->count)
                    rc = push_num(q, LORE_NUMBER, 0, a->dsum / (double)a->count, &r[c]);
                break;
            default:
                r[c].id = a->best;
                break;
            }
            if (rc != LORE_OK)
                goto cleanup;
        }
        if (p->distinct) {
            int isnew;
            if ((rc = distinct_new(q, r, &isnew)) != LORE_OK)
                goto cleanup;
        } else {
            size_t idx;
            if ((rc = push_row(q, r, &idx)) != LORE_OK)
                goto cleanup;
        }
    }
cleanup:
    mem_free(&q->kb->m, r, (size_t)q->width, sizeof *r);
    return rc;
}

/* ---- sorting: a merge sort of row indexes (stable, no recursion) ---- */

static int row_less(const lore_query *q, size_t a, size_t b)
{
    const qprog *p = &q->prog;
    size_t w = (size_t)q->width;
    const qcell *ra = q->rows + a * w, *rb = q->rows + b * w;
    for (int i = 0; i < p->norder; i++) {
        int v = p->order[i].var, col = -1;
        for (int c = 0; c < q->ncols && col < 0; c++)
            if (q->cols[c] == v)
                col = c;
        for (int h = 0; h < q->nhidden && col < 0; h++)
            if (q->hidden[h] == v)
                col = q->ncols + h;
        if (col < 0)
            continue;
        int c = cell_compare(q, &ra[col], &rb[col]);
        if (c)
            return p->order[i].desc ? c > 0 : c < 0;
    }
    return 0;
}

static int sort_rows(lore_query *q)
{
    size_t n = q->nrows, w = (size_t)q->width;
    if (n < 2)
        return LORE_OK;
    const mem *m = &q->kb->m;
    size_t *ix = mem_alloc(m, n, sizeof *ix), *tmp = mem_alloc(m, n, sizeof *tmp);
    qcell *sorted = mem_alloc(m, n * w, sizeof *sorted);
    int rc = LORE_OK;
    if (!ix || !tmp || !sorted) {
        rc = kb_nomem(q->kb);
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++)
        ix[i] = i;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = row_less(q, ix[j], ix[i]) ? ix[j++] : ix[i++];
            while (i < mid)
                tmp[k++] = ix[i++];
            while (j < hi)
                tmp[k++] = ix[j++];
        }
        size_t *t = ix;
        ix = tmp, tmp = t;
        if (kb_interrupted(q->kb)) {
            rc = LORE_ERR_INTERRUPT;
            goto cleanup;
        }
    }
    for (size_t i = 0; i < n; i++)
        memcpy(sorted + i * w, q->rows + ix[i] * w, w * sizeof *sorted);
    memcpy(q->rows, sorted, n * w * sizeof *sorted);
cleanup:
    mem_free(m, ix, n, sizeof *ix);
    mem_free(m, tmp, n, sizeof *tmp);
    mem_free(m, sorted, n * w, sizeof *sorted);
    return rc;
}

/* ---- kb:reach ---- */

static int run_reach(lore_query *q)
{
    pwalk w;
    pwalk_init(&w, q->kb);
    pout out;
    memset(&out, 0, sizeof out);
    out.want_depth = 1;
    int found, rc = LORE_OK;
    qcell r[2];
    if (q->rstart)
        rc = pwalk_run(&w, &q->rnfa, NULL, q->rstart, 0, q->rdepth, &out, &found);
    for (size_t i = 0; i < out.n && rc == LORE_OK; i++) {
        size_t idx;
        r[0].id = out.node[i], r[0].num = 0;
        if ((rc = push_num(q, LORE_INTEGER, out.depth[i], 0, &r[1])) == LORE_OK)
            rc = push_row(q, r, &idx);
    }
    pout_free(&q->kb->m, &out);
    pwalk_free(&w);
    return rc;
}

/* Runs everything at once: aggregates, order. */
static int materialise(lore_query *q)
{
    const qprog *p = &q->prog;
    int rc;
    qcell *r = mem_calloc(&q->kb->m, (size_t)q->width, sizeof *r);
    if (!r)
        return kb_nomem(q->kb);
    if (q->reach) {
        rc = run_reach(q);
    } else {
        while ((rc = qexec_next(&q->x)) == LORE_OK) {
            if (q->aggregating) {
                rc = accumulate(q);
            } else {
                project(q, r);
                if (p->distinct) {
                    int isnew;
                    rc = distinct_new(q, r, &isnew);
                } else {
                    size_t idx;
                    rc = push_row(q, r, &idx);
                }
            }
            if (rc != LORE_OK)
                break;
        }
        if (rc == LORE_DONE)
            rc = q->aggregating ? emit_groups(q) : LORE_OK;
    }
    mem_free(&q->kb->m, r, (size_t)q->width, sizeof *r);
    if (rc == LORE_OK && p->norder)
        rc = sort_rows(q);
    q->materialised = 1;
    q->rowpos = 0;
    return rc;
}

static int start(lore_query *q)
{
    int rc = lore_query_prepare(q);
    if (rc != LORE_OK)
        return rc;
    release_output(q);
    q->cur = NULL;
    if (!q->reach) {
        /* recent writes become readable now: doing it under the run would
         * look like a change of the knowledge base */
        if (store_prepare(&q->kb->st) != LORE_OK)
            return kb_nomem(q->kb);
        rc = qexec_open(&q->x, q->kb, &q->prog, &q->plan, q->bind);
        if (rc != LORE_OK)
            return kb_nomem(q->kb);
        q->x.q = q;
    }
    q->running = 1;
    return LORE_OK;
}

static int stop(lore_query *q, int rc)
{
    if (q->running && !q->reach)
        qexec_close(&q->x);
    q->running = 0;
    q->done = 1;
    q->cur = NULL;
    if (rc < 0)
        q->failed = rc;
    return rc;
}

int lore_query_next(lore_query *q)
{
    lore_kb *kb = q->kb;
    kb_clear(kb);
    if (q->failed)
        return q->failed;
    if (q->done)
        return LORE_DONE;
    int rc;
    if (!q->running && (rc = start(q)) != LORE_OK)
        return stop(q, rc);
    const qprog *p = &q->prog;
    if (q->reach || q->aggregating || p->norder) {
        if (!q->materialised && (rc = materialise(q)) != LORE_OK)
            return stop(q, rc);
        for (;;) {
            if (q->rowpos >= q->nrows || q->emitted >= p->limit)
                return stop(q, LORE_DONE);
            q->cur = q->rows + q->rowpos++ * (size_t)q->width;
            if (q->skipped < p->offset) {
                q->skipped++;
                continue;
            }
            q->emitted++;
            return LORE_OK;
        }
    }
    /* streaming: the row in q->rows[0] (not distinct), or the row just
     * remembered as new (distinct) */
    for (;;) {
        if (q->emitted >= p->limit)
            return stop(q, LORE_DONE);
        rc = qexec_next(&q->x);
        if (rc != LORE_OK)
            return stop(q, rc);
        qcell *r;
        if (p->distinct) {
            size_t w = (size_t)q->width;
            qcell tmp[64], *t = tmp; /* the candidate row, kept only if new */
            if (w > 64) {
                t = mem_alloc(&kb->m, w, sizeof *t);
                if (!t)
                    return stop(q, kb_nomem(kb));
            }
            project(q, t);
            int isnew;
            rc = distinct_new(q, t, &isnew);
            if (t != tmp)
                mem_free(&kb->m, t, w, sizeof *t);
            if (rc != LORE_OK)
                return stop(q, rc);
            if (!isnew)
                continue;
            r = q->rows + (q->nrows - 1) * w;
        } else {
            if (!q->rows) {
                if (mem_reserve(&kb->m, (void **)&q->rows, &q->caprows, (size_t)q->width,
                                sizeof *q->rows) != 0)
                    return stop(q, kb_nomem(kb));
            }
            r = q->rows;
            project(q, r);
        }
        if (q->skipped < p->offset) {
            q->skipped++;
            continue;
        }
        q->emitted++;
        q->cur = r;
        return LORE_OK;
    }
}

int lore_query_reset(lore_query *q)
{
    kb_clear(q->kb);
    if (q->running && !q->reach)
        qexec_close(&q->x);
    q->running = 0;
    q->done = q->failed = 0;
    q->cur = NULL;
    release_output(q);
    return LORE_OK;
}

int lore_query_count(lore_query *q, uint64_t *n)
{
    *n = 0;
    lore_query_reset(q);
    const qprog *p = &q->prog;
    int rc;
    if (!q->reach && !q->aggregating && !p->norder && !p->distinct && p->limit == UINT64_MAX &&
        p->offset == 0) {
        if ((rc = start(q)) != LORE_OK)
            return stop(q, rc);
        rc = qexec_count(&q->x, n);
        return stop(q, rc == LORE_OK ? LORE_DONE : rc) == LORE_DONE ? LORE_OK : rc;
    }
    while ((rc = lore_query_next(q)) == LORE_OK)
        (*n)++;
    return rc == LORE_DONE ? LORE_OK : rc;
}

size_t lore_query_ncols(const lore_query *q)
{
    return q->checked ? (size_t)q->ncols : 0;
}

const char *lore_query_colname(const lore_query *q, size_t col)
{
    if (!q->checked || col >= (size_t)q->ncols)
        return NULL;
    if (q->reach)
        return col == 0 ? "node" : "depth";
    return q->prog.vars[q->cols[col]];
}

lore_id lore_query_id(const lore_query *q, size_t col)
{
    if (!q->cur || col >= (size_t)q->ncols)
        return 0;
    return q->cur[col].id;
}

int lore_query_value(const lore_query *q, size_t col, lore_value *v)
{
    memset(v, 0, sizeof *v);
    if (!q->cur || col >= (size_t)q->ncols)
        return LORE_ERR_ARG;
    const qcell *c = &q->cur[col];
    if (!c->id && !c->num)
        return LORE_ERR_NOTFOUND;
    cell_value(q, c, v);
    return LORE_OK;
}

size_t lore_query_nvars(const lore_query *q)
{
    return (size_t)q->prog.nvars;
}

const char *lore_query_varname(const lore_query *q, size_t var)
{
    return var < (size_t)q->prog.nvars ? q->prog.vars[var] : NULL;
}

lore_id lore_query_binding(const lore_query *q, size_t var)
{
    if (q->filter_row)
        return var < (size_t)q->prog.nvars ? q->filter_row[var] : 0;
    if (!q->running || q->reach || var >= (size_t)q->prog.nvars || !q->x.row)
        return 0;
    return q->x.row[var];
}

lore_kb *lore_query_kb(const lore_query *q)
{
    return q->kb;
}

const char *lore_query_plan(lore_query *q)
{
    int rc = lore_query_prepare(q);
    if (rc != LORE_OK)
        return NULL;
    if (q->reach)
        return "reach: a breadth-first walk from the start";
    q->textlen = 0;
    if (qplan_explain(&q->prog, &q->plan, &q->text, &q->textlen, &q->textcap, &q->kb->m) !=
        LORE_OK) {
        kb_nomem(q->kb);
        return NULL;
    }
    return q->text;
}

void lore_query_free(lore_query *q)
{
    if (!q)
        return;
    const mem *m = &q->kb->m;
    if (q->running && !q->reach)
        qexec_close(&q->x);
    release_output(q);
    if (q->planned)
        qplan_free(m, &q->plan);
    pnfa_free(m, &q->rnfa);
    if (q->nbind)
        mem_free(m, q->bind, bind_bytes(q->nbind), 1);
    mem_free(m, q->cols, (size_t)q->colcap, sizeof *q->cols);
    mem_free(m, q->hidden, (size_t)q->colcap, sizeof *q->hidden);
    mem_free(m, q->text, q->textcap, 1);
    qprog_free(&q->prog);
    mem_free(m, q, 1, sizeof *q);
}

int lore_reach(lore_kb *kb, lore_id start_id, const char *path, uint32_t max_depth, lore_query **qp)
{
    int rc = lore_query_new(kb, qp);
    if (rc != LORE_OK)
        return rc;
    lore_query *q = *qp;
    int root, v;
    if (start_id != 0 && !dict_valid(&kb->d, start_id))
        rc = kb_fail(kb, LORE_ERR_ARG, "lore_reach: start is not a term id (%u)",
                     (unsigned)start_id);
    else if (!path)
        rc = kb_fail(kb, LORE_ERR_ARG, "lore_reach: no path");
    else
        rc = qparse_path(&q->prog, path, strlen(path), &root);
    if (rc == LORE_OK && ((rc = qprog_var(&q->prog, "node", 4, &v)) != LORE_OK ||
                          (rc = qprog_var(&q->prog, "depth", 5, &v)) != LORE_OK))
        rc = LORE_ERR_NOMEM;
    if (rc == LORE_OK) {
        q->reach = 1;
        q->rstart = start_id;
        q->rdepth = max_depth;
        q->rroot = root;
        rc = qprog_check(&q->prog, NULL);
        if (rc == LORE_OK)
            rc = pnfa_build(&kb->m, q->prog.pnodes, root, 0, &q->rnfa);
        if (rc == LORE_ERR_NOMEM)
            kb_nomem(kb);
        else if (rc == LORE_ERR_LIMIT)
            kb_fail(kb, rc, "lore_reach: path too complex");
    }
    if (rc != LORE_OK) {
        char keep[sizeof kb->err];
        memcpy(keep, kb->err, sizeof keep);
        lore_query_free(q);
        *qp = NULL;
        memcpy(kb->err, keep, sizeof keep);
    }
    return rc;
}
