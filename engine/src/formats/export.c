/* export.c - writing a knowledge base out: lore_export and lore_export_to,
 * facts in lore's term order, RDF through serd's writer, JSON through
 * jsonout.c. */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <serd/serd.h>

#include "export.h"
#include "rdfterm.h"

/* ------------------------------------------------------------------ */
/* output                                                             */

void xout_flush(xout *o)
{
    if (o->n && !o->failed && o->write(o->ud, o->buf, o->n) != o->n)
        o->failed = 1;
    o->bytes += o->n;
    o->n = 0;
}

void xout_put(xout *o, const void *s, size_t n)
{
    const char *p = s;
    while (n) {
        size_t k = sizeof o->buf - o->n < n ? sizeof o->buf - o->n : n;
        memcpy(o->buf + o->n, p, k);
        o->n += k, p += k, n -= k;
        if (o->n == sizeof o->buf)
            xout_flush(o);
    }
}

static size_t serd_sink(const void *buf, size_t len, void *stream)
{
    xout_put(stream, buf, len);
    return len;
}

/* ------------------------------------------------------------------ */
/* the facts, in order                                                */

/* Sorts ids a[0..n) in lore's term order: a bottom-up merge sort, since
 * the comparison needs the dictionary and qsort takes no context. */
static int sort_terms(const dict *d, const mem *m, uint32_t *a, size_t n)
{
    uint32_t *tmp = mem_alloc(m, n, sizeof *tmp), *src = a, *dst = tmp;
    if (!tmp)
        return LORE_ERR_NOMEM;
    enum { RUN = 16 };
    for (size_t lo = 0; lo < n; lo += RUN) { /* insertion-sorted runs */
        size_t hi = lo + RUN < n ? lo + RUN : n;
        for (size_t i = lo + 1; i < hi; i++)
            for (size_t j = i; j > lo && dict_compare(d, a[j - 1], a[j]) > 0; j--) {
                uint32_t t = a[j - 1];
                a[j - 1] = a[j], a[j] = t;
            }
    }
    for (size_t w = RUN; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                dst[k++] = dict_compare(d, src[j], src[i]) < 0 ? src[j++] : src[i++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        uint32_t *t = src;
        src = dst, dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
    mem_free(m, tmp, n, sizeof *tmp);
    return LORE_OK;
}

static int cmp_rows(const void *a, const void *b)
{
    const xrow *x = a, *y = b;
    if (x->src != y->src)
        return x->src < y->src ? -1 : 1;
    if (x->s != y->s)
        return x->s < y->s ? -1 : 1;
    if (x->p != y->p)
        return x->p < y->p ? -1 : 1;
    if (x->o != y->o)
        return x->o < y->o ? -1 : 1;
    return 0;
}

static void xfacts_free(xfacts *x, size_t rowcap)
{
    const mem *m = &x->kb->m;
    mem_free(m, x->order, x->nterms, sizeof *x->order);
    mem_free(m, x->rows, rowcap, sizeof *x->rows);
    x->order = NULL, x->rows = NULL;
}

/* Collects every asserted fact (with each of its sources when `graphs`)
 * as rows of ranks, sorted.  *rowcap gets the rows' allocated size. */
static int collect(lore_kb *kb, int graphs, xfacts *x, size_t *rowcap)
{
    const mem *m = &kb->m;
    int rc = LORE_OK;
    uint32_t *rank = NULL, *srcs = NULL;
    size_t nsrcs = 0;
    store_iter it;
    int iter_open = 0;
    memset(x, 0, sizeof *x);
    x->kb = kb;
    *rowcap = 0;
    size_t T = kb->d.n;
    if (T) {
        x->order = mem_alloc(m, T, sizeof *x->order);
        TRY_PTR(x->order);
        x->nterms = T; /* before anything else can fail: xfacts_free needs it */
        rank = mem_alloc(m, T + 1, sizeof *rank);
        TRY_PTR(rank);
        for (size_t i = 0; i < T; i++)
            x->order[i] = (uint32_t)(i + 1);
        /* lore's term order is the writers' order: ranks make the output
         * independent of when terms were interned */
        TRY(sort_terms(&kb->d, m, x->order, T));
        for (size_t r = 0; r < T; r++)
            rank[x->order[r]] = (uint32_t)(r + 1);
    }
    TRY(store_iter_init(&kb->st, &it, 0, 0, 0));
    iter_open = 1;
    uint32_t t[3 * 256];
    size_t got;
    while (store_iter_read(&it, t, 256, &got) == LORE_OK) {
        for (size_t k = 0; k < got; k++) {
            const uint32_t *f = t + 3 * k;
            uint32_t meta = store_meta(&kb->st, f[0], f[1], f[2]);
            if (!(meta & META_ASSERTED))
                continue;
            size_t ns = 1;
            uint32_t one = 0;
            const uint32_t *sv = &one;
            if (graphs) {
                ns = store_meta_sources(&kb->st, meta, NULL, 0);
                if (ns > nsrcs) {
                    mem_free(m, srcs, nsrcs, sizeof *srcs);
                    srcs = mem_alloc(m, ns, sizeof *srcs);
                    nsrcs = srcs ? ns : 0;
                    TRY_PTR(srcs);
                }
                store_meta_sources(&kb->st, meta, srcs, ns);
                sv = srcs;
            }
            if (mem_reserve(m, (void **)&x->rows, rowcap, x->n + ns, sizeof *x->rows) != 0) {
                rc = LORE_ERR_NOMEM;
                goto cleanup;
            }
            for (size_t j = 0; j < ns; j++) {
                xrow *r = &x->rows[x->n++];
                r->src = sv[j] ? rank[sv[j]] + 1 : 0;
                r->s = rank[f[0]], r->p = rank[f[1]], r->o = rank[f[2]];
            }
        }
    }
    if (x->n)
        qsort(x->rows, x->n, sizeof *x->rows, cmp_rows);

cleanup:
    if (iter_open)
        store_iter_done(&it);
    mem_free(m, rank, T + 1, sizeof *rank);
    mem_free(m, srcs, nsrcs, sizeof *srcs);
    if (rc != LORE_OK) {
        xfacts_free(x, *rowcap);
        *rowcap = 0;
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* RDF through serd                                                   */

typedef struct rdfw {
    const xfacts *x;
    lore_kb *kb;
    int turtle, graphs;
    SerdEnv *env;
    SerdWriter *w;
    sbuf buf[4], dt[4];
} rdfw;

static SerdNode snode(SerdType t, const char *s, size_t n)
{
    return serd_node_from_substring(t, (const uint8_t *)s, n);
}

static int write_statement(rdfw *rw, const xrow *r)
{
    lore_value v[4];
    rdf_node n[4];
    static const int pos[4] = {POS_GRAPH, POS_SUBJECT, POS_PREDICATE, POS_OBJECT};
    uint32_t ranks[4] = {r->src ? r->src - 1 : 0, r->s, r->p, r->o};
    for (int k = rw->graphs && r->src ? 0 : 1; k < 4; k++) {
        dict_get(&rw->kb->d, xid(rw->x, ranks[k]), &v[k]);
        int rc = rdf_term_node(&v[k], pos[k], rw->turtle, &n[k], &rw->buf[k], &rw->dt[k]);
        if (rc != LORE_OK)
            return rc;
    }
    SerdNode sn[4], dt = SERD_NODE_NULL, lang = SERD_NODE_NULL;
    static const SerdType types[4] = {SERD_NOTHING, SERD_URI, SERD_BLANK, SERD_LITERAL};
    int first = rw->graphs && r->src ? 0 : 1;
    for (int k = first; k < 4; k++)
        sn[k] = snode(types[n[k].type], n[k].str, n[k].len);
    const rdf_node *o = &n[3];
    if (o->type == RDF_LITERAL) {
        /* serd 0.30 writes a text holding a quote or a newline as a long
         * string (triple quotes) with its quotes bare; its reader then takes
         * a backslash right after a bare quote as a plain character, so a
         * quote, an escaped backslash and a b come back as two backslashes.
         * A text with a quote before a backslash or a control character
         * (written as an escape) goes out as a short string, where quotes
         * are escaped. */
        for (size_t i = 0; i + 1 < o->len; i++) {
            unsigned char next = (unsigned char)o->str[i + 1];
            if (o->str[i] == '"' && (next == '\\' || next < 0x20 || next == 0x7f)) {
                sn[3].flags &= ~(SerdNodeFlags)(SERD_HAS_NEWLINE | SERD_HAS_QUOTE);
                break;
            }
        }
        if (o->lang) {
            lang = snode(SERD_LITERAL, o->lang, o->langlen);
        } else if (o->dt) {
            dt = snode(SERD_URI, o->dt, o->dtlen);
        }
    }
    SerdStatus st =
        serd_writer_write_statement(rw->w, 0, first == 0 ? &sn[0] : NULL, &sn[1], &sn[2], &sn[3],
                                    dt.buf ? &dt : NULL, lang.buf ? &lang : NULL);
    return st == SERD_SUCCESS ? LORE_OK : LORE_ERR_IO;
}

static int set_prefix(rdfw *rw, const char *name, const char *iri)
{
    SerdNode n = serd_node_from_string(SERD_LITERAL, (const uint8_t *)name);
    SerdNode u = serd_node_from_string(SERD_URI, (const uint8_t *)iri);
    if (serd_env_set_prefix(rw->env, &n, &u) != SERD_SUCCESS)
        return LORE_ERR_NOMEM;
    serd_writer_set_prefix(rw->w, &n, &u);
    return LORE_OK;
}

/* Whether Turtle and TriG output needs `lore:` for plain names. */
static int needs_lore_prefix(rdfw *rw)
{
    const xfacts *x = rw->x;
    for (size_t i = 0; i < x->n; i++) {
        const xrow *r = &x->rows[i];
        uint32_t ranks[3] = {r->s, r->p, r->o};
        for (int k = 0; k < 3; k++) {
            const term *t = dict_term(&rw->kb->d, xid(x, ranks[k]));
            if (t->kind == LORE_SYMBOL && t->len && t->u.str[0] != '<' && t->u.str[0] != '"' &&
                !(t->len > 2 && t->u.str[0] == '_' && t->u.str[1] == ':' &&
                  rdf_label_ok(t->u.str + 2, t->len - 2)))
                return 1;
        }
    }
    return 0;
}

static int write_rdf(const xfacts *x, lore_format f, xout *o)
{
    lore_kb *kb = x->kb;
    rdfw rw;
    int rc = LORE_OK;
    memset(&rw, 0, sizeof rw);
    rw.x = x, rw.kb = kb;
    rw.turtle = f == LORE_FORMAT_TURTLE || f == LORE_FORMAT_TRIG;
    rw.graphs = f == LORE_FORMAT_NQUADS || f == LORE_FORMAT_TRIG;
    for (int k = 0; k < 4; k++) {
        sbuf_init(&rw.buf[k], &kb->m);
        sbuf_init(&rw.dt[k], &kb->m);
    }
    static const SerdSyntax syn[] = {SERD_NTRIPLES, SERD_NTRIPLES, SERD_NQUADS, SERD_TURTLE,
                                     SERD_TRIG};
    rw.env = serd_env_new(NULL);
    if (!rw.env) {
        rc = LORE_ERR_NOMEM;
        goto cleanup;
    }
    SerdStyle style = rw.turtle ? (SerdStyle)(SERD_STYLE_ABBREVIATED | SERD_STYLE_CURIED) : 0;
    rw.w = serd_writer_new(syn[f], style, rw.env, NULL, serd_sink, o);
    if (!rw.w) {
        rc = LORE_ERR_NOMEM;
        goto cleanup;
    }
    if (rw.turtle) {
        for (size_t i = 0; i < kb->px.n; i++) /* a relative one would resolve to another */
            if (rdf_iri_ok(kb->px.v[i].iri, kb->px.v[i].ilen))
                TRY(set_prefix(&rw, kb->px.v[i].name, kb->px.v[i].iri));
        if (!prefixes_find(&kb->px, "lore", 4) && needs_lore_prefix(&rw))
            TRY(set_prefix(&rw, "lore", URN_LORE));
    }
    for (size_t i = 0; i < x->n; i++) {
        if ((i & 4095) == 4095 && ctx_interrupted(&kb->ctx)) {
            rc = LORE_ERR_INTERRUPT; /* a file export then keeps no half file */
            goto cleanup;
        }
        rc = write_statement(&rw, &x->rows[i]);
        if (rc != LORE_OK)
            goto cleanup;
        if (o->failed)
            break;
    }
    serd_writer_finish(rw.w);

cleanup:
    serd_writer_free(rw.w);
    serd_env_free(rw.env);
    for (int k = 0; k < 4; k++) {
        sbuf_free(&rw.buf[k]);
        sbuf_free(&rw.dt[k]);
    }
    if (rc == LORE_ERR_NOMEM)
        return ctx_nomem(&kb->ctx);
    return rc;
}

/* ------------------------------------------------------------------ */
/* public                                                             */

static int export_to(lore_kb *kb, lore_format f, lore_write_fn write, void *ud, uint64_t *written,
                     const char *name)
{
    if (f < LORE_FORMAT_NTRIPLES || f > LORE_FORMAT_JSON)
        return ctx_fail(&kb->ctx, LORE_ERR_ARG,
                        "%s: unknown format (expected .nt, .nq, .ttl, .trig or .json)", name);
    xfacts x;
    size_t rowcap;
    int graphs = f == LORE_FORMAT_NQUADS || f == LORE_FORMAT_TRIG || f == LORE_FORMAT_JSON;
    int rc = collect(kb, graphs, &x, &rowcap);
    if (rc != LORE_OK)
        return ctx_nomem(&kb->ctx);
    xout *o = mem_alloc(&kb->m, 1, sizeof *o);
    if (!o) {
        xfacts_free(&x, rowcap);
        return ctx_nomem(&kb->ctx);
    }
    o->write = write, o->ud = ud, o->n = 0, o->failed = 0, o->bytes = 0;
    /* numbers are written in the C locale, whatever the host set */
    locale_t cloc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0), old = (locale_t)0;
    if (!cloc) {
        rc = ctx_nomem(&kb->ctx);
    } else {
        old = uselocale(cloc);
        rc = f == LORE_FORMAT_JSON ? json_write(&x, o) : write_rdf(&x, f, o);
        uselocale(old);
        freelocale(cloc);
    }
    xout_flush(o);
    if (rc == LORE_OK && o->failed)
        rc = ctx_fail(&kb->ctx, LORE_ERR_IO, "%s: write failed", name);
    if (rc == LORE_OK && written)
        *written = x.n;
    mem_free(&kb->m, o, 1, sizeof *o);
    xfacts_free(&x, rowcap);
    return rc;
}

int lore_export_to(lore_kb *kb, lore_format format, lore_write_fn write, void *ud,
                   uint64_t *written)
{
    ctx_clear(&kb->ctx);
    if (written)
        *written = 0;
    if (kb->ctx.busy)
        return ctx_busy(&kb->ctx, "lore_export_to");
    if (!write)
        return ctx_fail(&kb->ctx, LORE_ERR_ARG, "lore_export_to: expected a write function");
    return export_to(kb, format, write, ud, written, "lore_export_to");
}

typedef struct fsink {
    FILE *f;
    int err;
} fsink;

static size_t file_write(void *ud, const void *buf, size_t len)
{
    fsink *s = ud;
    size_t n = fwrite(buf, 1, len, s->f);
    if (n < len && !s->err)
        s->err = errno ? errno : EIO;
    return n;
}

int lore_export(lore_kb *kb, const char *path, const lore_export_opts *opts, uint64_t *written)
{
    ctx_clear(&kb->ctx);
    if (written)
        *written = 0;
    if (kb->ctx.busy)
        return ctx_busy(&kb->ctx, "lore_export");
    if (!path)
        return ctx_fail(&kb->ctx, LORE_ERR_ARG, "lore_export: expected a file name");
    lore_format f = opts && opts->format ? opts->format : lore_format_of(path);
    if (f < LORE_FORMAT_NTRIPLES || f > LORE_FORMAT_JSON)
        return ctx_fail(&kb->ctx, LORE_ERR_ARG,
                        "%s: unknown format (expected a name ending in .nt, .nq, .ttl, .trig or "
                        ".json, or a format in the options)",
                        path);
    /* written beside path, then renamed over it: never half a file */
    size_t plen = strlen(path), tlen = plen + 48;
    char *tmp = mem_alloc(&kb->m, tlen, 1);
    if (!tmp)
        return ctx_nomem(&kb->ctx);
    int fd = -1;
    for (int attempt = 0; fd < 0 && attempt < 100; attempt++) {
        snprintf(tmp, tlen, "%s.tmp%ld.%d", path, (long)getpid(), attempt);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        int rc = ctx_fail(&kb->ctx, LORE_ERR_IO, "%s: %s", path, strerror(errno));
        mem_free(&kb->m, tmp, tlen, 1);
        return rc;
    }
    fsink s = {fdopen(fd, "wb"), 0};
    int rc;
    if (!s.f) {
        close(fd);
        rc = ctx_fail(&kb->ctx, LORE_ERR_IO, "%s: %s", path, strerror(errno));
    } else {
        rc = export_to(kb, f, file_write, &s, written, path);
        if (fflush(s.f) != 0 && !s.err)
            s.err = errno;
        if (rc == LORE_OK && !s.err && fsync(fileno(s.f)) != 0)
            s.err = errno;
        if (fclose(s.f) != 0 && !s.err)
            s.err = errno;
        if (rc == LORE_OK && s.err)
            rc = ctx_fail(&kb->ctx, LORE_ERR_IO, "%s: %s", path, strerror(s.err));
        if (rc == LORE_OK && rename(tmp, path) != 0)
            rc = ctx_fail(&kb->ctx, LORE_ERR_IO, "%s: %s", path, strerror(errno));
    }
    if (rc != LORE_OK) {
        if (written)
            *written = 0;
        unlink(tmp);
    }
    mem_free(&kb->m, tmp, tlen, 1);
    return rc;
}
