/* query.c - queries as the public API sees them: building programs,
 * checking and preparing them; the output stage is qout.c.  See query.h. */
#define LORE_BUILDING 1
#include "query.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "date.h"
#include "natcmp.h"
#include "lpat.h"

/* ------------------------------------------------------------------ */
/* the handle (struct lore_query is in query.h)                       */

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
        return ctx_nomem(&p->kb->ctx);
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
    mem_free(m, p->vhash, p->vhcap, sizeof *p->vhash);
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

static size_t var_hash(const char *s, size_t n)
{
    uint64_t h = 14695981039346656037ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return (size_t)(h ^ (h >> 29));
}

/* The slot of name in the variables' hash (its variable, or a free slot). */
static size_t var_slot(const qprog *p, const char *name, size_t len)
{
    size_t mask = p->vhcap - 1, i = var_hash(name, len) & mask;
    while (p->vhash[i]) {
        const char *v = p->vars[p->vhash[i] - 1];
        if (strlen(v) == len && memcmp(v, name, len) == 0)
            break;
        i = (i + 1) & mask;
    }
    return i;
}

/* Room in the variables' hash for one more name (kept at most half full). */
static int var_room(qprog *p)
{
    if ((size_t)(p->nvars + 1) * 2 <= p->vhcap)
        return LORE_OK;
    const mem *m = &p->kb->m;
    size_t ncap = p->vhcap ? p->vhcap * 2 : 64;
    int *nh = mem_calloc(m, ncap, sizeof *nh);
    if (!nh)
        return LORE_ERR_NOMEM;
    int *old = p->vhash;
    size_t ocap = p->vhcap;
    p->vhash = nh, p->vhcap = ncap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i]) {
            const char *v = p->vars[old[i] - 1];
            p->vhash[var_slot(p, v, strlen(v))] = old[i];
        }
    mem_free(m, old, ocap, sizeof *old);
    return LORE_OK;
}

int qprog_var(qprog *p, const char *name, size_t len, int *var)
{
    if (len > 0 && name[0] == '?')
        name++, len--;
    int anon = len == 0 || (len == 1 && name[0] == '_');
    if (!anon) {
        if (var_room(p) != LORE_OK)
            return ctx_nomem(&p->kb->ctx);
        size_t slot = var_slot(p, name, len);
        if (p->vhash[slot]) {
            *var = p->vhash[slot] - 1;
            return LORE_OK;
        }
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)name[i];
            if (c <= ' ' || c == '?' || c == 127)
                return ctx_fail(&p->kb->ctx, LORE_ERR_ARG, "bad variable name '?%.*s'", (int)len,
                                name);
        }
    }
    if (grow(p, (void **)&p->vars, &p->capvars, p->nvars + 1, sizeof *p->vars) != LORE_OK)
        return ctx_nomem(&p->kb->ctx);
    char *s = qprog_strdup(p, name, anon ? 0 : len);
    if (!s)
        return ctx_nomem(&p->kb->ctx);
    p->vars[p->nvars] = s;
    if (!anon)
        p->vhash[var_slot(p, name, len)] = p->nvars + 1;
    *var = p->nvars++;
    return LORE_OK;
}

static int const_add(qprog *p, const lore_value *v, uint32_t id, int *c);

int qprog_const(qprog *p, const lore_value *v, uint32_t id, int *c)
{
    /* a symbol ex:name means what lore_intern makes of it (prefix.h) */
    expansion x;
    const lore_value *ev = v ? prefixes_expand_value(&p->kb->m, &p->kb->px, v, &x) : NULL;
    if (v && !ev)
        return ctx_nomem(&p->kb->ctx);
    int rc = const_add(p, ev, id, c);
    if (v)
        prefixes_expand_done(&p->kb->m, &x);
    return rc;
}

static int const_add(qprog *p, const lore_value *v, uint32_t id, int *c)
{
    if (grow(p, (void **)&p->consts, &p->capconsts, p->nconsts + 1, sizeof *p->consts) != LORE_OK)
        return ctx_nomem(&p->kb->ctx);
    qconst *k = &p->consts[p->nconsts];
    memset(k, 0, sizeof *k);
    if (v) {
        const char *why = NULL;
        if (dict_check(v, &why) != LORE_OK)
            return ctx_fail(&p->kb->ctx, LORE_ERR_ARG, "expected %s", why ? why : "a valid value");
        k->v = *v;
        k->has_value = 1;
        if (v->kind == LORE_SYMBOL || v->kind == LORE_TEXT || v->kind == LORE_DATE) {
            k->v.str = qprog_strdup(p, v->str, v->len);
            if (!k->v.str)
                return ctx_nomem(&p->kb->ctx);
            if (v->kind == LORE_TEXT && v->lang && v->langlen) {
                k->v.lang = qprog_strdup(p, v->lang, v->langlen);
                if (!k->v.lang)
                    return ctx_nomem(&p->kb->ctx);
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
        return ctx_fail(&p->kb->ctx, LORE_ERR_LIMIT, "path expression too long");
    if (grow(p, (void **)&p->pnodes, &p->cappnodes, p->npnodes + 1, sizeof *p->pnodes) != LORE_OK)
        return ctx_nomem(&p->kb->ctx);
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
        return ctx_nomem(&p->kb->ctx);
    memset(&p->filters[p->nfilters], 0, sizeof p->filters[0]);
    *f = p->nfilters++;
    return LORE_OK;
}

int qprog_expr(qprog *p, const qexpr *e, int *out)
{
    if (p->nexprs >= 4096)
        return ctx_fail(&p->kb->ctx, LORE_ERR_LIMIT, "expression too long");
    if (grow(p, (void **)&p->exprs, &p->capexprs, p->nexprs + 1, sizeof *p->exprs) != LORE_OK)
        return ctx_nomem(&p->kb->ctx);
    p->exprs[p->nexprs] = *e;
    *out = p->nexprs++;
    return LORE_OK;
}

int qprog_arg(qprog *p, int expr)
{
    if (grow(p, (void **)&p->args, &p->capargs, p->nargs + 1, sizeof *p->args) != LORE_OK)
        return ctx_nomem(&p->kb->ctx);
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
                return ctx_nomem(&kb->ctx);
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
        return ctx_fail(&p->kb->ctx, LORE_ERR_STATE,
                        "a union holds branches: begin each with LORE_GROUP_BRANCH");
    if (!is_union && for_branch)
        return ctx_fail(&p->kb->ctx, LORE_ERR_STATE, "a branch belongs directly inside a union");
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
        return ctx_fail(&p->kb->ctx, LORE_ERR_LIMIT, "nesting deeper than %d", LORE_MAX_NESTING);
    int n;
    if (qprog_node(p, kind, &n) != LORE_OK)
        return LORE_ERR_NOMEM;
    if (grow(p, (void **)&p->stack, &p->capstack, p->nstack + 1, sizeof *p->stack) != LORE_OK)
        return ctx_nomem(&p->kb->ctx);
    p->stack[p->nstack++] = n;
    return LORE_OK;
}

int qprog_end(qprog *p, int kind)
{
    if (p->nstack <= 1)
        return ctx_fail(&p->kb->ctx, LORE_ERR_STATE, "no group is open");
    int g = p->stack[p->nstack - 1];
    if (kind >= 0 && p->nodes[g].kind != kind)
        return ctx_fail(&p->kb->ctx, LORE_ERR_STATE, "the open group is a %s",
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
        return ctx_nomem(&p->kb->ctx);
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
                return ctx_nomem(&p->kb->ctx);
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
                rc = ctx_nomem(&p->kb->ctx);
                break;
            }
            qexpr_vars(p, y->expr, need);
            for (int v = 0; v < nv && rc == LORE_OK; v++) {
                if (need[v] && !scope[v])
                    rc = ctx_fail(&p->kb->ctx, LORE_ERR_ARG,
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
                    rc = ctx_fail(&p->kb->ctx, LORE_ERR_ARG,
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
        return ctx_fail(&kb->ctx, LORE_ERR_STATE, "the %s group is not closed (lore_query_end)",
                        kind_name(p->nodes[p->stack[p->nstack - 1]].kind));
    int nv = p->nvars;
    uint8_t *outer = mem_calloc(&kb->m, nv ? (size_t)nv : 1, 1);
    if (!outer)
        return ctx_nomem(&kb->ctx);
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
                rc = ctx_fail(&kb->ctx, LORE_ERR_ARG,
                              it->agg ? "%s of ?%s, which no pattern binds"
                                      : "select ?%s%s, which no pattern binds",
                              it->agg ? "aggregate" : p->vars[it->var],
                              it->agg ? p->vars[it->var] : "");
            else if (agg && it->agg == QA_NONE) {
                int grouped = 0;
                for (int g = 0; g < p->ngroup; g++)
                    grouped |= p->group[g] == it->var;
                if (!grouped)
                    rc = ctx_fail(&kb->ctx, LORE_ERR_ARG,
                                  "?%s is selected but neither grouped nor aggregated",
                                  p->vars[it->var]);
            }
        }
        for (int i = 0; i < p->ngroup && rc == LORE_OK; i++)
            if (!top[p->group[i]])
                rc = ctx_fail(&kb->ctx, LORE_ERR_ARG, "group by ?%s, which no pattern binds",
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
                    rc = ctx_fail(&kb->ctx, LORE_ERR_ARG,
                                  "order by ?%s, which is not a column of the aggregated rows",
                                  p->vars[v]);
            } else if (!ok) {
                rc = ctx_fail(&kb->ctx, LORE_ERR_ARG, "order by ?%s, which no pattern binds",
                              p->vars[v]);
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
    default: /* symbols in their natural order, as dict_compare */
        return natcmp(a->str, a->len, b->str, b->len);
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
        return ctx_fail(&q->kb->ctx, LORE_ERR_ARG, "%s is not a term id (%u)", what,
                        (unsigned)t->id);
    if (qprog_const(p, NULL, t->id, &v) != LORE_OK)
        return LORE_ERR_NOMEM;
    *s = qs_const(v);
    return LORE_OK;
}

int lore_query_new(lore_kb *kb, lore_query **qp)
{
    ctx_clear(&kb->ctx);
    *qp = NULL;
    lore_query *q = mem_calloc(&kb->m, 1, sizeof *q);
    if (!q)
        return ctx_nomem(&kb->ctx);
    q->kb = kb;
    if (qprog_init(&q->prog, kb) != LORE_OK) {
        qprog_free(&q->prog);
        mem_free(&kb->m, q, 1, sizeof *q);
        return ctx_nomem(&kb->ctx);
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
        char keep[sizeof kb->ctx.err];
        memcpy(keep, kb->ctx.err, sizeof keep);
        lore_query_free(*qp);
        *qp = NULL;
        memcpy(kb->ctx.err, keep, sizeof keep);
    }
    return rc;
}

int lore_query_pattern(lore_query *q, lore_qterm s, lore_qterm p, lore_qterm o)
{
    ctx_clear(&q->kb->ctx);
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
    ctx_clear(&q->kb->ctx);
    changed(q);
    qslot t[3];
    int rc, root, n;
    if ((rc = open_group(&q->prog, 0)) != LORE_OK || (rc = slot_of(q, &s, &t[0], "subject")) ||
        (rc = slot_of(q, &o, &t[2], "object")))
        return rc;
    if (!path)
        return ctx_fail(&q->kb->ctx, LORE_ERR_ARG, "lore_query_path: no path");
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
    ctx_clear(&q->kb->ctx);
    changed(q);
    int o = op ? op_of(op) : -1;
    if (o < 0)
        return ctx_fail(&q->kb->ctx, LORE_ERR_ARG,
                        "unknown comparison '%s' (expected =, ~=, <, <=, >, >=, in or match)",
                        op ? op : "(null)");
    qslot sa, sb;
    int rc;
    if ((rc = slot_of(q, &a, &sa, "operand")) || (rc = slot_of(q, &b, &sb, "operand")))
        return rc;
    if (o == QF_MATCH) {
        const qconst *k = sb.var < 0 ? &q->prog.consts[-sb.var - 1] : NULL;
        if (!k || (k->v.kind != LORE_TEXT && k->v.kind != LORE_SYMBOL))
            return ctx_fail(&q->kb->ctx, LORE_ERR_ARG, "match needs a pattern string");
        const char *why = lpat_check(k->v.str, k->v.len);
        if (why)
            return ctx_fail(&q->kb->ctx, LORE_ERR_ARG, "match \"%s\": %s", k->v.str, why);
    }
    qfilter *f;
    if ((rc = add_filter(q, o, &f)) != LORE_OK)
        return rc;
    f->a = sa, f->b = sb;
    return LORE_OK;
}

int lore_query_filter_in(lore_query *q, lore_qterm a, const lore_qterm *set, size_t n)
{
    ctx_clear(&q->kb->ctx);
    changed(q);
    qslot sa;
    int rc = slot_of(q, &a, &sa, "operand");
    if (rc)
        return rc;
    int *ks = n ? mem_alloc(&q->kb->m, n, sizeof *ks) : NULL;
    if (n && !ks)
        return ctx_nomem(&q->kb->ctx);
    for (size_t i = 0; i < n; i++) {
        qslot s;
        if (set[i].var) {
            rc = ctx_fail(&q->kb->ctx, LORE_ERR_ARG, "a set holds values, not variables ('%s')",
                          set[i].var);
        } else if (set[i].value == NULL && set[i].id == 0) {
            rc = ctx_fail(&q->kb->ctx, LORE_ERR_ARG, "a set holds values, not wildcards");
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
    ctx_clear(&q->kb->ctx);
    changed(q);
    int rc = open_group(&q->prog, 0);
    return rc ? rc : qparse_filter(q, expr, len);
}

int lore_query_filter_fn(lore_query *q, lore_filter_fn fn, void *ud)
{
    ctx_clear(&q->kb->ctx);
    changed(q);
    if (!fn)
        return ctx_fail(&q->kb->ctx, LORE_ERR_ARG, "lore_query_filter_fn: no function");
    qfilter *f;
    int rc = add_filter(q, QF_FN, &f);
    if (rc)
        return rc;
    f->fn = fn, f->ud = ud;
    return LORE_OK;
}

int lore_function(lore_kb *kb, const char *name, lore_value_fn fn, void *ud)
{
    ctx_clear(&kb->ctx);
    return fn_register(kb, name, fn, ud);
}

/* The variable a let element binds. */
static int let_var(lore_query *q, const char *var, int *v)
{
    const char *name = var && var[0] == '?' ? var + 1 : var;
    if (!name || !name[0] || strcmp(name, "_") == 0)
        return ctx_fail(&q->kb->ctx, LORE_ERR_ARG, "let: a variable name expected");
    return qprog_var(&q->prog, var, strlen(var), v);
}

int lore_query_let(lore_query *q, const char *var, const char *expr, size_t len)
{
    ctx_clear(&q->kb->ctx);
    changed(q);
    int v, root, rc;
    if ((rc = open_group(&q->prog, 0)) != LORE_OK || (rc = let_var(q, var, &v)) != LORE_OK)
        return rc;
    if (!expr)
        return ctx_fail(&q->kb->ctx, LORE_ERR_ARG, "let: no expression");
    if ((rc = qparse_expr(q, expr, len, &root)) != LORE_OK)
        return rc;
    return qprog_bind(&q->prog, v, root);
}

int lore_query_let_fn(lore_query *q, const char *var, lore_value_fn fn, void *ud,
                      const lore_qterm *args, size_t nargs)
{
    ctx_clear(&q->kb->ctx);
    changed(q);
    int v, rc;
    if ((rc = open_group(&q->prog, 0)) != LORE_OK || (rc = let_var(q, var, &v)) != LORE_OK)
        return rc;
    if (!fn)
        return ctx_fail(&q->kb->ctx, LORE_ERR_ARG, "lore_query_let_fn: no function");
    if (nargs > 64)
        return ctx_fail(&q->kb->ctx, LORE_ERR_ARG, "lore_query_let_fn: at most 64 arguments");
    int ex[64];
    for (size_t i = 0; i < nargs; i++) {
        qexpr e;
        memset(&e, 0, sizeof e);
        e.op = QX_SLOT;
        if ((rc = slot_of(q, &args[i], &e.slot, "argument")) != LORE_OK)
            return rc;
        if (e.slot.var >= 0 && q->prog.vars[e.slot.var][0] == '\0')
            return ctx_fail(&q->kb->ctx, LORE_ERR_ARG,
                            "lore_query_let_fn: an argument is a wildcard");
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
    ctx_clear(&q->kb->ctx);
    changed(q);
    static const int kinds[] = {0, QN_OPTIONAL, QN_WITHOUT, QN_UNION, QN_GROUP};
    if (kind < LORE_GROUP_OPTIONAL || kind > LORE_GROUP_BRANCH)
        return ctx_fail(&q->kb->ctx, LORE_ERR_ARG, "lore_query_begin: unknown group kind %d", kind);
    return qprog_begin(&q->prog, kinds[kind]);
}

int lore_query_end(lore_query *q)
{
    ctx_clear(&q->kb->ctx);
    changed(q);
    return qprog_end(&q->prog, -1);
}

int lore_query_select(lore_query *q, const char *item)
{
    ctx_clear(&q->kb->ctx);
    changed(q);
    return qparse_item(q, item, strlen(item));
}

/* A variable given by name for a modifier. */
static int modifier_var(lore_query *q, const char *var, const char *fn, int *v)
{
    size_t n = strlen(var);
    const char *name = var[0] == '?' ? var + 1 : var;
    if (n == 0 || name[0] == '\0' || strcmp(name, "_") == 0)
        return ctx_fail(&q->kb->ctx, LORE_ERR_ARG, "%s: a variable name expected", fn);
    return qprog_var(&q->prog, var, n, v);
}

int lore_query_group(lore_query *q, const char *var)
{
    ctx_clear(&q->kb->ctx);
    changed(q);
    qprog *p = &q->prog;
    int v, rc = modifier_var(q, var, "group", &v);
    if (rc)
        return rc;
    for (int g = 0; g < p->ngroup; g++)
        if (p->group[g] == v)
            return LORE_OK; /* grouped by already: once is the same */
    if (grow(p, (void **)&p->group, &p->capgroup, p->ngroup + 1, sizeof *p->group) != LORE_OK)
        return ctx_nomem(&q->kb->ctx);
    p->group[p->ngroup++] = v;
    return LORE_OK;
}

int lore_query_order(lore_query *q, const char *var, int descending)
{
    ctx_clear(&q->kb->ctx);
    changed(q);
    qprog *p = &q->prog;
    int v, rc = modifier_var(q, var, "order", &v);
    if (rc)
        return rc;
    if (grow(p, (void **)&p->order, &p->caporder, p->norder + 1, sizeof *p->order) != LORE_OK)
        return ctx_nomem(&q->kb->ctx);
    p->order[p->norder].var = v;
    p->order[p->norder].desc = descending != 0;
    p->norder++;
    return LORE_OK;
}

int lore_query_distinct(lore_query *q)
{
    ctx_clear(&q->kb->ctx);
    changed(q);
    q->prog.distinct = 1;
    return LORE_OK;
}

int lore_query_limit(lore_query *q, uint64_t limit, uint64_t offset)
{
    ctx_clear(&q->kb->ctx);
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
        return ctx_nomem(&q->kb->ctx);
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

/* Ends a run under way: the next lore_query_next starts again. */
static void query_stop(lore_query *q)
{
    if (q->running) {
        qexec_close(&q->x);
        q->running = 0;
    }
    q->done = q->failed = 0;
}

int query_bind_var(lore_query *q, int v, lore_id id)
{
    query_stop(q);
    if (v < 0 || v >= q->prog.nvars)
        return LORE_ERR_ARG;
    if (ensure_bind(q) != LORE_OK)
        return LORE_ERR_NOMEM;
    q->bind[v] = id;
    q->bound[v] = id != 0;
    return LORE_OK;
}

int lore_query_bind(lore_query *q, const char *var, lore_id id)
{
    ctx_clear(&q->kb->ctx);
    query_stop(q); /* even when the binding fails */
    const char *name = var && var[0] == '?' ? var + 1 : var;
    int v = -1;
    for (int i = 0; name && i < q->prog.nvars; i++)
        if (q->prog.vars[i][0] && strcmp(q->prog.vars[i], name) == 0)
            v = i;
    if (v < 0)
        return ctx_fail(&q->kb->ctx, LORE_ERR_ARG, "lore_query_bind: the query has no variable ?%s",
                        name ? name : "(null)");
    if (id != 0 && !dict_valid(&q->kb->d, id))
        return ctx_fail(&q->kb->ctx, LORE_ERR_ARG, "lore_query_bind: not a term id (%u)",
                        (unsigned)id);
    return query_bind_var(q, v, id);
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
    int nv = p->nvars, cap = nv + p->nitems + p->ngroup + 1;
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
        return ctx_nomem(&q->kb->ctx);
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

int lore_query_prepare(lore_query *q)
{
    lore_kb *kb = q->kb;
    ctx_clear(&kb->ctx);
    if (kb->ctx.busy)
        return ctx_busy(&kb->ctx, "lore_query_prepare");
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
    qplan_opts o = {q->bound, -1, 0, 0, 0, 0, 0};
    if ((rc = qplan_make(kb, &q->prog, &o, &q->plan)) != LORE_OK)
        return rc;
    if (q->prog.nvars)
        memcpy(q->plan_bound, q->bound, (size_t)q->prog.nvars);
    q->plan_size = now;
    q->planned = 1;
    return LORE_OK;
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
        ctx_nomem(&q->kb->ctx);
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
    qout_release(q);
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
        rc = ctx_fail(&kb->ctx, LORE_ERR_ARG, "lore_reach: start is not a term id (%u)",
                      (unsigned)start_id);
    else if (!path)
        rc = ctx_fail(&kb->ctx, LORE_ERR_ARG, "lore_reach: no path");
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
            ctx_nomem(&kb->ctx);
        else if (rc == LORE_ERR_LIMIT)
            ctx_fail(&kb->ctx, rc, "lore_reach: path too complex");
    }
    if (rc != LORE_OK) {
        char keep[sizeof kb->ctx.err];
        memcpy(keep, kb->ctx.err, sizeof keep);
        lore_query_free(q);
        *qp = NULL;
        memcpy(kb->ctx.err, keep, sizeof keep);
    }
    return rc;
}
