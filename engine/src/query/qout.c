/* qout.c - the output stage of a query: the executor's solutions become
 * rows through projection, aggregates, distinct, order and limit, and the
 * public calls that step through and read them.  See query.h. */
#define LORE_BUILDING 1
#include "query.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "date.h"
#include "lpat.h"

void qout_release(lore_query *q)
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

/* ------------------------------------------------------------------ */
/* output stage                                                       */

static int push_num(lore_query *q, lore_kind kind, int64_t i, double n, qcell *c)
{
    if (mem_reserve(&q->kb->m, (void **)&q->nums, &q->capnums, q->nnums + 1, sizeof *q->nums))
        return ctx_nomem(&q->kb->ctx);
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
        return ctx_nomem(&q->kb->ctx);
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
            return ctx_nomem(&q->kb->ctx);
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
        return ctx_fail(&q->kb->ctx, LORE_ERR_LIMIT, "too many distinct rows");
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
            return ctx_nomem(&q->kb->ctx);
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
            return ctx_nomem(&q->kb->ctx);
        q->gkeys = gk;
        q->capgroups = nc;
    }
    size_t ni = (size_t)(p->nitems ? p->nitems : 1);
    if (mem_reserve(m, (void **)&q->acc, &q->capacc, (q->ngroups + 1) * ni, sizeof *q->acc) != 0)
        return ctx_nomem(&q->kb->ctx);
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
            return ctx_nomem(&q->kb->ctx);
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
        return ctx_nomem(&q->kb->ctx);
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
        rc = ctx_nomem(&q->kb->ctx);
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
        if (ctx_interrupted(&q->kb->ctx)) {
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
        return ctx_nomem(&q->kb->ctx);
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
    qout_release(q);
    q->cur = NULL;
    if (!q->reach) {
        /* recent writes become readable now: doing it under the run would
         * look like a change of the knowledge base */
        if (store_prepare(&q->kb->st) != LORE_OK)
            return ctx_nomem(&q->kb->ctx);
        rc = qexec_open(&q->x, q->kb, &q->prog, &q->plan, q->bind);
        if (rc != LORE_OK)
            return ctx_nomem(&q->kb->ctx);
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
    ctx_clear(&kb->ctx);
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
                    return stop(q, ctx_nomem(&kb->ctx));
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
                    return stop(q, ctx_nomem(&kb->ctx));
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
    ctx_clear(&q->kb->ctx);
    if (q->running && !q->reach)
        qexec_close(&q->x);
    q->running = 0;
    q->done = q->failed = 0;
    q->cur = NULL;
    qout_release(q);
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
