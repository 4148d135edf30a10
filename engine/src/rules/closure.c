/* closure.c - all-pairs transitive closure by strongly connected components
 * and sorted-set unions (see closure.h). */
#include "closure.h"

#include <string.h>

#include "sort.h"

struct closure {
    mem m;
    size_t n;        /* nodes (distinct ids among all endpoints) */
    uint32_t *ids;   /* dense index -> id, increasing */
    size_t idscap;   /* its allocated length */
    uint32_t *comp;  /* dense index -> component */
    size_t ncomp;
    size_t *rstart;  /* component -> start of its reachable set in r[] */
    uint32_t *rlen;  /* component -> its size */
    uint32_t *r;     /* reachable sets, as dense indexes (so sorted by id too) */
    size_t rcap, rn;
    uint32_t *out;   /* dense indexes of nodes with an outgoing edge */
    size_t nout;
    uint32_t *idbuf; /* reach() answers as ids: r[] translated once */
};

static int cmp_u32(uint32_t a, uint32_t b) { return (a > b) - (a < b); }

/* Sorts ids in place (heap of small code; n log n). */
static void sort_ids(uint32_t *a, size_t n)
{
    /* rows of 3 ids would waste memory: a plain heapsort */
    for (size_t i = n / 2; i-- > 0;) {
        size_t k = i;
        for (;;) {
            size_t l = 2 * k + 1, g = k;
            if (l < n && cmp_u32(a[l], a[g]) > 0) g = l;
            if (l + 1 < n && cmp_u32(a[l + 1], a[g]) > 0) g = l + 1;
            if (g == k) break;
            uint32_t t = a[k]; a[k] = a[g]; a[g] = t;
            k = g;
        }
    }
    for (size_t e = n; e-- > 1;) {
        uint32_t t = a[0]; a[0] = a[e]; a[e] = t;
        size_t k = 0;
        for (;;) {
            size_t l = 2 * k + 1, g = k;
            if (l < e && cmp_u32(a[l], a[g]) > 0) g = l;
            if (l + 1 < e && cmp_u32(a[l + 1], a[g]) > 0) g = l + 1;
            if (g == k) break;
            uint32_t u = a[k]; a[k] = a[g]; a[g] = u;
            k = g;
        }
    }
}

static size_t dense(const closure *c, uint32_t id)
{
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->n && c->ids[lo] == id ? lo : (size_t)-1;
}

/* Appends to r[], growing it. */
static int r_reserve(closure *c, size_t more)
{
    if (c->rn + more <= c->rcap)
        return LORE_OK;
    return mem_reserve(&c->m, (void **)&c->r, &c->rcap, c->rn + more, sizeof *c->r) == 0
               ? LORE_OK
               : LORE_ERR_NOMEM;
}

void closure_free(closure *c)
{
    if (!c)
        return;
    mem m = c->m;
    mem_free(&m, c->ids, c->idscap, sizeof *c->ids);
    mem_free(&m, c->comp, c->n, sizeof *c->comp);
    mem_free(&m, c->rstart, c->ncomp, sizeof *c->rstart);
    mem_free(&m, c->rlen, c->ncomp, sizeof *c->rlen);
    mem_free(&m, c->r, c->rcap, sizeof *c->r);
    mem_free(&m, c->out, c->nout, sizeof *c->out);
    mem_free(&m, c->idbuf, c->rn, sizeof *c->idbuf);
    mem_free(&m, c, 1, sizeof *c);
}

int closure_compute(const mem *m, const uint32_t *edges, size_t n, int (*poll)(void *),
                    void *ud, closure **out)
{
    int rc = LORE_OK;
    closure *c = NULL;
    uint32_t *soff = NULL, *succ = NULL, *idx = NULL, *low = NULL, *stack = NULL, *cstack = NULL,
             *cpos = NULL, *stamp = NULL, *members = NULL, *moff = NULL;
    size_t nsucc = 0, ns = 0, ncomp_alloc = 0;
    *out = NULL;

    c = mem_calloc(m, 1, sizeof *c);
    TRY_PTR(c);
    c->m = *m;
    if (n == 0) { /* no edges, no nodes */
        *out = c;
        return LORE_OK;
    }
    /* the nodes: distinct endpoint ids, increasing */
    c->ids = mem_alloc(m, 2 * n, sizeof *c->ids);
    TRY_PTR(c->ids);
    c->idscap = 2 * n;
    memcpy(c->ids, edges, 2 * n * sizeof *c->ids);
    sort_ids(c->ids, 2 * n);
    {
        size_t k = 0;
        for (size_t i = 0; i < 2 * n; i++)
            if (k == 0 || c->ids[k - 1] != c->ids[i])
                c->ids[k++] = c->ids[i];
        void *p = c->ids;
        if (mem_resize(m, &p, 2 * n, k, sizeof *c->ids) == 0)
            c->ids = p, c->idscap = k;
        c->n = k;
    }
    ns = c->n;
    /* successors in compressed rows, deduplicated */
    soff = mem_calloc(m, ns + 1, sizeof *soff);
    TRY_PTR(soff);
    {
        succ = mem_alloc(m, n, sizeof *succ);
        TRY_PTR(succ);
        nsucc = n;
        for (size_t i = 0; i < n; i++)
            soff[dense(c, edges[2 * i]) + 1]++;
        for (size_t v = 0; v < ns; v++)
            soff[v + 1] += soff[v];
        uint32_t *fill = mem_alloc(m, ns + 1, sizeof *fill);
        TRY_PTR(fill);
        memcpy(fill, soff, (ns + 1) * sizeof *fill);
        for (size_t i = 0; i < n; i++)
            succ[fill[dense(c, edges[2 * i])]++] = (uint32_t)dense(c, edges[2 * i + 1]);
        mem_free(m, fill, ns + 1, sizeof *fill);
        for (size_t v = 0; v < ns; v++) {
            uint32_t lo = soff[v], hi = soff[v + 1];
            sort_ids(succ + lo, hi - lo);
        }
    }

    /* Tarjan, iteratively: idx 0 = unvisited; components numbered in the
     * order they complete, which is reverse topological. */
    c->comp = mem_alloc(m, ns, sizeof *c->comp);
    idx = mem_calloc(m, ns, sizeof *idx);
    low = mem_alloc(m, ns, sizeof *low);
    stack = mem_alloc(m, ns, sizeof *stack);
    cstack = mem_alloc(m, ns, sizeof *cstack);
    cpos = mem_alloc(m, ns, sizeof *cpos);
    TRY_PTR(c->comp);
    TRY_PTR(idx);
    TRY_PTR(low);
    TRY_PTR(stack);
    TRY_PTR(cstack);
    TRY_PTR(cpos);
    {
        uint32_t counter = 0, ncomp = 0;
        size_t sp = 0, csp = 0;
        const uint32_t ONSTACK = 0x80000000u; /* low[] high bit: on the SCC stack */
        for (size_t root = 0; root < ns; root++) {
            if (idx[root])
                continue;
            cstack[csp] = (uint32_t)root, cpos[csp] = soff[root], csp++;
            idx[root] = ++counter, low[root] = counter | ONSTACK;
            stack[sp++] = (uint32_t)root;
            while (csp) {
                uint32_t v = cstack[csp - 1];
                if (cpos[csp - 1] < soff[v + 1]) {
                    uint32_t w = succ[cpos[csp - 1]++];
                    if (!idx[w]) {
                        idx[w] = ++counter, low[w] = counter | ONSTACK;
                        stack[sp++] = w;
                        cstack[csp] = w, cpos[csp] = soff[w], csp++;
                    } else if (low[w] & ONSTACK) {
                        uint32_t lv = low[v] & ~ONSTACK, iw = idx[w];
                        if (iw < lv)
                            low[v] = iw | ONSTACK;
                    }
                    continue;
                }
                csp--;
                if ((low[v] & ~ONSTACK) == idx[v]) { /* v roots a component */
                    uint32_t w;
                    do {
                        w = stack[--sp];
                        low[w] &= ~ONSTACK;
                        c->comp[w] = ncomp;
                    } while (w != v);
                    ncomp++;
                }
                if (csp) {
                    uint32_t u = cstack[csp - 1];
                    uint32_t lu = low[u] & ~ONSTACK, lv = low[v] & ~ONSTACK;
                    if (lv < lu)
                        low[u] = lv | ONSTACK;
                }
                if (poll && (counter & 4095) == 0 && poll(ud)) {
                    rc = LORE_ERR_INTERRUPT;
                    goto cleanup;
                }
            }
        }
        c->ncomp = ncomp;
    }
    /* members of each component, in increasing dense index */
    moff = mem_calloc(m, c->ncomp + 1, sizeof *moff);
    ncomp_alloc = c->ncomp + 1;
    members = mem_alloc(m, ns, sizeof *members);
    TRY_PTR(moff);
    TRY_PTR(members);
    for (size_t v = 0; v < ns; v++)
        moff[c->comp[v] + 1]++;
    for (size_t k = 0; k < c->ncomp; k++)
        moff[k + 1] += moff[k];
    {
        uint32_t *fill = low; /* reuse: Tarjan is done */
        memcpy(fill, moff, c->ncomp * sizeof *fill);
        for (size_t v = 0; v < ns; v++)
            members[fill[c->comp[v]]++] = (uint32_t)v;
    }

    /* reachable sets, sinks first */
    c->rstart = mem_alloc(m, c->ncomp, sizeof *c->rstart);
    c->rlen = mem_alloc(m, c->ncomp, sizeof *c->rlen);
    stamp = mem_alloc(m, ns, sizeof *stamp);
    TRY_PTR(c->rstart);
    TRY_PTR(c->rlen);
    TRY_PTR(stamp);
    for (size_t v = 0; v < ns; v++)
        stamp[v] = 0xffffffffu;
    for (size_t k = 0; k < c->ncomp; k++) {
        if (poll && (k & 1023) == 0 && poll(ud)) {
            rc = LORE_ERR_INTERRUPT;
            goto cleanup;
        }
        /* the successor components, and whether k is a cycle */
        uint32_t one = 0xffffffffu; /* the only successor component, if one */
        int many = 0, cyclic = moff[k + 1] - moff[k] > 1;
        size_t bound = 0;
        for (uint32_t i = moff[k]; i < moff[k + 1]; i++) {
            uint32_t v = members[i];
            for (uint32_t e = soff[v]; e < soff[v + 1]; e++) {
                uint32_t d = c->comp[succ[e]];
                if (d == k) {
                    cyclic = 1;
                    continue;
                }
                if (one == 0xffffffffu)
                    one = d;
                else if (d != one)
                    many = 1;
                bound += c->rlen[d] + (moff[d + 1] - moff[d]);
            }
        }
        if (cyclic)
            bound += moff[k + 1] - moff[k];
        TRY(r_reserve(c, bound));
        uint32_t *dst = c->r + c->rn;
        size_t len = 0;
        if (!many && !cyclic && one != 0xffffffffu) {
            /* one successor component D: merge members(D) into R(D) */
            const uint32_t *a = members + moff[one], *ea = members + moff[one + 1];
            const uint32_t *b = c->r + c->rstart[one], *eb = b + c->rlen[one];
            while (a < ea || b < eb) {
                uint32_t x;
                if (b == eb || (a < ea && *a < *b))
                    x = *a++;
                else if (a == ea || *b < *a)
                    x = *b++;
                else
                    x = *a++, b++;
                dst[len++] = x;
            }
        } else if (one != 0xffffffffu || cyclic) {
            /* several sources: collect once each, then sort */
            if (cyclic) {
                for (uint32_t i = moff[k]; i < moff[k + 1]; i++) {
                    stamp[members[i]] = (uint32_t)k;
                    dst[len++] = members[i];
                }
            }
            for (uint32_t i = moff[k]; i < moff[k + 1]; i++) {
                uint32_t v = members[i];
                for (uint32_t e = soff[v]; e < soff[v + 1]; e++) {
                    uint32_t d = c->comp[succ[e]];
                    if (d == k)
                        continue;
                    const uint32_t *s = members + moff[d], *es = members + moff[d + 1];
                    for (; s < es; s++)
                        if (stamp[*s] != k)
                            stamp[*s] = (uint32_t)k, dst[len++] = *s;
                    s = c->r + c->rstart[d], es = s + c->rlen[d];
                    for (; s < es; s++)
                        if (stamp[*s] != k)
                            stamp[*s] = (uint32_t)k, dst[len++] = *s;
                }
            }
            sort_ids(dst, len);
        }
        c->rstart[k] = c->rn;
        c->rlen[k] = (uint32_t)len;
        c->rn += len;
    }
    /* nodes with an outgoing edge, and the sets as ids */
    for (size_t v = 0; v < ns; v++)
        c->nout += soff[v + 1] > soff[v];
    if (c->nout) {
        c->out = mem_alloc(m, c->nout, sizeof *c->out);
        TRY_PTR(c->out);
    }
    for (size_t v = 0, k = 0; v < ns; v++)
        if (soff[v + 1] > soff[v])
            c->out[k++] = (uint32_t)v;
    if (c->rn) {
        c->idbuf = mem_alloc(m, c->rn, sizeof *c->idbuf);
        TRY_PTR(c->idbuf);
        for (size_t i = 0; i < c->rn; i++)
            c->idbuf[i] = c->ids[c->r[i]];
    }
    /* r[] in dense indexes is no longer needed */
    mem_free(m, c->r, c->rcap, sizeof *c->r);
    c->r = NULL, c->rcap = 0;
    *out = c;
    c = NULL;

cleanup:
    closure_free(c);
    mem_free(m, soff, ns + 1, sizeof *soff);
    mem_free(m, succ, nsucc, sizeof *succ);
    mem_free(m, idx, ns, sizeof *idx);
    mem_free(m, low, ns, sizeof *low);
    mem_free(m, stack, ns, sizeof *stack);
    mem_free(m, cstack, ns, sizeof *cstack);
    mem_free(m, cpos, ns, sizeof *cpos);
    mem_free(m, stamp, ns, sizeof *stamp);
    mem_free(m, members, ns, sizeof *members);
    mem_free(m, moff, ncomp_alloc, sizeof *moff);
    return rc;
}

size_t closure_nodes(const closure *c) { return c->nout; }

size_t closure_total(const closure *c)
{
    size_t t = 0;
    for (size_t i = 0; i < c->nout; i++)
        t += c->rlen[c->comp[c->out[i]]];
    return t;
}

uint32_t closure_node(const closure *c, size_t i, const uint32_t **reach, size_t *nreach)
{
    uint32_t v = c->out[i], k = c->comp[v];
    *reach = c->idbuf ? c->idbuf + c->rstart[k] : NULL;
    *nreach = c->rlen[k];
    return c->ids[v];
}

const uint32_t *closure_of(const closure *c, uint32_t x, size_t *nreach)
{
    size_t v = dense(c, x);
    *nreach = 0;
    if (v == (size_t)-1)
        return NULL;
    uint32_t k = c->comp[v];
    *nreach = c->rlen[k];
    return c->idbuf ? c->idbuf + c->rstart[k] : NULL;
}
