/* loader.c - the bulk load path: caches in front of the dictionary, rows
 * of ids, blank node labels made unique per load, and the commit. */
#include "loader.h"

#include <stdio.h>
#include <string.h>

#include "journal.h"

static void cache_init(name_cache *c, const mem *m)
{
    c->id = 0;
    c->type = 0;
    sbuf_init(&c->raw, m);
}

int loader_begin(loader *ld, lore_kb *kb, int turtle, const lore_value *default_src)
{
    memset(ld, 0, sizeof *ld);
    ctx_clear(&kb->ctx);
    if (kb->ctx.busy)
        return ctx_busy(&kb->ctx, "lore_batch_new");
    kb->ctx.busy = 1; /* a guard: the kb is busy as under a batch */
    ld->mark = dict_mark_get(&kb->d);
    ld->kb = kb;
    int rc;
    ld->stride = 3;
    ld->turtle = turtle;
    sbuf_init(&ld->key, &kb->m);
    sbuf_init(&ld->tmp, &kb->m);
    sbuf_init(&ld->lex, &kb->m);
    sbuf_init(&ld->blank_labels, &kb->m);
    cache_init(&ld->subj, &kb->m);
    cache_init(&ld->graph, &kb->m);
    for (int i = 0; i < PCACHE; i++)
        cache_init(&ld->pred[i], &kb->m);
    if (default_src) {
        uint32_t id;
        const char *why = NULL;
        expansion x; /* a source named ex:g means what lore_intern makes of it */
        const lore_value *v = prefixes_expand_value(&kb->m, &kb->px, default_src, &x);
        rc = v ? dict_intern(&kb->d, v, &id, &why) : LORE_ERR_NOMEM;
        prefixes_expand_done(&kb->m, &x);
        if (rc == LORE_OK && id > META_PAYLOAD)
            rc = LORE_ERR_LIMIT;
        if (rc != LORE_OK) {
            loader_abort(ld);
            if (rc == LORE_ERR_NOMEM)
                return ctx_nomem(&kb->ctx);
            return ctx_fail(&kb->ctx, rc, "source: expected %s", why ? why : "an id under 2^29");
        }
        ld->src = ld->first_src = ld->default_src = id;
    }
    return LORE_OK;
}

static void release(loader *ld)
{
    const mem *m = &ld->kb->m;
    mem_free(m, ld->rows, ld->cap, sizeof *ld->rows);
    ld->rows = NULL;
    sbuf_free(&ld->key);
    sbuf_free(&ld->tmp);
    sbuf_free(&ld->lex);
    sbuf_free(&ld->blank_labels);
    sbuf_free(&ld->subj.raw);
    sbuf_free(&ld->graph.raw);
    for (int i = 0; i < PCACHE; i++)
        sbuf_free(&ld->pred[i].raw);
    mem_free(m, ld->blanks, ld->blankcap, sizeof *ld->blanks);
    ld->blanks = NULL;
    prefixes_free(m, &ld->px);
}

void loader_abort(loader *ld)
{
    if (!ld->kb)
        return;
    release(ld);
    dict_rollback(&ld->kb->d, ld->mark);
    ld->kb->ctx.busy = 0;
    ld->kb = NULL;
}

/* ------------------------------------------------------------------ */
/* terms                                                              */

static int intern(loader *ld, const lore_value *v, uint32_t *id)
{
    const char *why = NULL;
    int rc = dict_intern(&ld->kb->d, v, id, &why);
    if (rc == LORE_OK || rc == LORE_ERR_ARG)
        return rc;
    if (rc == LORE_ERR_NOMEM)
        return ctx_nomem(&ld->kb->ctx);
    return ctx_fail(&ld->kb->ctx, rc, "expected %s", why ? why : "fewer terms");
}

static int intern_symbol(loader *ld, const char *s, size_t n, uint32_t *id)
{
    lore_value v = {LORE_SYMBOL, s, n, NULL, 0, 0, 0};
    int rc = intern(ld, &v, id);
    if (rc == LORE_ERR_ARG)
        return ctx_fail(&ld->kb->ctx, LORE_ERR_SYNTAX,
                        "a name lore can store (valid UTF-8 without NUL)");
    return rc;
}

static int blank_id(loader *ld, const char *label, size_t n, uint32_t *id);

/* A writer puts a blank node where RDF allows none (a predicate) as
 * <urn:lore:_:label>: within one load it is the same term as _:label, so a
 * file lore wrote reads back to the same graph.  In Turtle the label is
 * keyed as the writer escaped it (an x before x..., b<digit>, B<digit>). */
static int blank_urn(loader *ld, const char *label, size_t n, uint32_t *id)
{
    int x = ld->turtle && (label[0] == 'x' || (n >= 2 && (label[0] == 'b' || label[0] == 'B') &&
                                                label[1] >= '0' && label[1] <= '9'));
    sbuf_reset(&ld->tmp);
    if ((x && sbuf_putc(&ld->tmp, 'x')) || sbuf_put(&ld->tmp, label, n))
        return ctx_nomem(&ld->kb->ctx);
    return blank_id(ld, ld->tmp.p, ld->tmp.n, id);
}

static int iri_id(loader *ld, const char *iri, size_t n, uint32_t *id)
{
    /* the common case: <iri> as it is */
    if (!(n >= 8 && memcmp(iri, "urn:lore", 8) == 0)) {
        sbuf *k = &ld->key;
        if (sbuf_reserve(k, n + 2) != LORE_OK)
            return ctx_nomem(&ld->kb->ctx);
        k->p[0] = '<';
        memcpy(k->p + 1, iri, n);
        k->p[n + 1] = '>';
        k->n = n + 2;
        return intern_symbol(ld, k->p, k->n, id);
    }
    lore_value v;
    if (rdf_iri_value(iri, n, &v, &ld->key) != LORE_OK)
        return ctx_nomem(&ld->kb->ctx);
    if (v.kind == LORE_SYMBOL && v.len > 2 && v.str[0] == '_' && v.str[1] == ':' &&
        rdf_label_ok(v.str + 2, v.len - 2))
        return blank_urn(ld, v.str + 2, v.len - 2, id);
    int rc = intern(ld, &v, id);
    if (rc != LORE_ERR_ARG)
        return rc;
    /* a urn:lore-literal: whose literal lore refuses: keep the IRI */
    sbuf_reset(&ld->key);
    if (sbuf_putc(&ld->key, '<') || sbuf_put(&ld->key, iri, n) || sbuf_putc(&ld->key, '>'))
        return ctx_nomem(&ld->kb->ctx);
    return intern_symbol(ld, ld->key.p, ld->key.n, id);
}

static int literal_id(loader *ld, const rdf_node *n, uint32_t *id)
{
    lore_value v;
    if (!n->dt && !n->lang) {
        lore_value t = {LORE_TEXT, n->str, n->len, NULL, 0, 0, 0};
        v = t;
    } else if (rdf_literal_value(n, &v, &ld->tmp) != LORE_OK) {
        return ctx_nomem(&ld->kb->ctx);
    }
    int rc = intern(ld, &v, id);
    if (rc != LORE_ERR_ARG)
        return rc;
    /* lore refuses the value (a NUL in a text, a language tag it does
     * not take): keep the literal's N-Triples form */
    if (rdf_literal_verbatim(n, &v, &ld->tmp) != LORE_OK)
        return ctx_nomem(&ld->kb->ctx);
    return intern_symbol(ld, v.str, v.len, id);
}

/* Turtle and TriG: serd names anonymous nodes b<digits>; lore's own
 * writer escaped labels starting with x, b<digit> or B<digit> with an x
 * (rdfterm.c), taken off here. */
static void unescape_label(const loader *ld, const char **s, size_t *n)
{
    if (!ld->turtle || *n < 2 || (*s)[0] != 'x')
        return;
    const char *r = *s + 1;
    if (r[0] == 'x' || (*n >= 3 && (r[0] == 'b' || r[0] == 'B') && r[1] >= '0' && r[1] <= '9')) {
        (*s)++;
        (*n)--;
    }
}

static int blank_grow(loader *ld)
{
    size_t cap = ld->blankcap ? 2 * ld->blankcap : 64;
    blank_slot *t = mem_calloc(&ld->kb->m, cap, sizeof *t);
    if (!t)
        return LORE_ERR_NOMEM;
    for (size_t i = 0; i < ld->blankcap; i++) {
        const blank_slot *e = &ld->blanks[i];
        if (!e->id)
            continue;
        size_t j = e->hash & (cap - 1);
        while (t[j].id)
            j = (j + 1) & (cap - 1);
        t[j] = *e;
    }
    mem_free(&ld->kb->m, ld->blanks, ld->blankcap, sizeof *ld->blanks);
    ld->blanks = t;
    ld->blankcap = cap;
    return LORE_OK;
}

/* A blank node: the same label within one load is the same term; a label
 * whose symbol already exists in the knowledge base gets a fresh one
 * (_:label_N), so two files' _:b0 never meet. */
static int blank_id(loader *ld, const char *label, size_t n, uint32_t *id)
{
    uint32_t h = (uint32_t)hash_bytes(label, n, 0xb1a4c);
    h = h ? h : 1;
    if (ld->blankcap) {
        size_t i = h & (ld->blankcap - 1);
        for (; ld->blanks[i].id; i = (i + 1) & (ld->blankcap - 1)) {
            const blank_slot *e = &ld->blanks[i];
            if (e->hash == h && e->len == n && memcmp(ld->blank_labels.p + e->off, label, n) == 0) {
                *id = e->id;
                return LORE_OK;
            }
        }
    }
    if ((ld->nblanks + 1) * 2 > ld->blankcap && blank_grow(ld) != LORE_OK)
        return ctx_nomem(&ld->kb->ctx);
    const char *c = label;
    size_t cn = n;
    unescape_label(ld, &c, &cn);
    sbuf *k = &ld->key;
    sbuf_reset(k);
    if (sbuf_put(k, "_:", 2) || sbuf_put(k, c, cn))
        return ctx_nomem(&ld->kb->ctx);
    size_t stem = k->n;
    for (;;) {
        lore_value v = {LORE_SYMBOL, k->p, k->n, NULL, 0, 0, 0};
        uint32_t found;
        const char *why;
        int rc = dict_lookup(&ld->kb->d, &v, &found, &why);
        if (rc == LORE_ERR_NOTFOUND)
            break;
        if (rc != LORE_OK)
            return ctx_fail(&ld->kb->ctx, LORE_ERR_SYNTAX, "a blank node label lore can store");
        char suffix[24];
        int sl = snprintf(suffix, sizeof suffix, "_%u", (unsigned)++ld->renames);
        k->n = stem;
        if (sbuf_put(k, suffix, (size_t)sl) != LORE_OK)
            return ctx_nomem(&ld->kb->ctx);
    }
    int rc = intern_symbol(ld, k->p, k->n, id);
    if (rc != LORE_OK)
        return rc;
    size_t off = ld->blank_labels.n;
    if (sbuf_put(&ld->blank_labels, label, n) != LORE_OK)
        return ctx_nomem(&ld->kb->ctx);
    size_t i = h & (ld->blankcap - 1);
    while (ld->blanks[i].id)
        i = (i + 1) & (ld->blankcap - 1);
    blank_slot e = {h, *id, off, n};
    ld->blanks[i] = e;
    ld->nblanks++;
    return LORE_OK;
}

static int node_id(loader *ld, const rdf_node *n, uint32_t *id)
{
    switch (n->type) {
    case RDF_IRI:
        return iri_id(ld, n->str, n->len, id);
    case RDF_BLANK:
        return blank_id(ld, n->str, n->len, id);
    case RDF_LITERAL:
        return literal_id(ld, n, id);
    default:
        return ctx_fail(&ld->kb->ctx, LORE_ERR_SYNTAX, "a term");
    }
}

/* A cached node: the parser repeats subjects, predicates and graphs. */
static int cached_id(loader *ld, name_cache *c, const rdf_node *n, uint32_t *id)
{
    if (c->id && c->type == (int)n->type && c->raw.n == n->len &&
        memcmp(c->raw.p, n->str, n->len) == 0) {
        *id = c->id;
        return LORE_OK;
    }
    int rc = node_id(ld, n, id);
    if (rc != LORE_OK)
        return rc;
    c->id = 0;
    sbuf_reset(&c->raw);
    if (sbuf_put(&c->raw, n->str, n->len) != LORE_OK)
        return LORE_OK; /* the cache is only an accelerator */
    c->id = *id;
    c->type = (int)n->type;
    return LORE_OK;
}

/* ------------------------------------------------------------------ */
/* facts                                                              */

/* From rows of 3 ids with source first_src to rows of 4. */
static int widen(loader *ld)
{
    size_t cap = ld->nrows ? 4 * ld->nrows * 2 : 64;
    uint32_t *r = mem_alloc(&ld->kb->m, cap, sizeof *r);
    if (!r)
        return ctx_nomem(&ld->kb->ctx);
    for (size_t i = 0; i < ld->nrows; i++) {
        memcpy(r + 4 * i, ld->rows + 3 * i, 3 * sizeof *r);
        r[4 * i + 3] = META_ASSERTED | ld->first_src;
    }
    mem_free(&ld->kb->m, ld->rows, ld->cap, sizeof *ld->rows);
    ld->rows = r;
    ld->cap = cap;
    ld->stride = 4;
    return LORE_OK;
}

static int set_source(loader *ld, uint32_t src)
{
    if (src > META_PAYLOAD)
        return ctx_fail(&ld->kb->ctx, LORE_ERR_LIMIT, "a source (graph) id under 2^29");
    ld->src = src;
    if (ld->stride == 3 && src != ld->first_src) {
        if (ld->nrows == 0)
            ld->first_src = src;
        else
            return widen(ld);
    }
    return LORE_OK;
}

int loader_graph(loader *ld, const rdf_node *g)
{
    uint32_t src = ld->default_src;
    if (g && g->type != RDF_NONE) {
        if (g->type == RDF_LITERAL)
            return ctx_fail(&ld->kb->ctx, LORE_ERR_SYNTAX, "a graph name (an IRI or a blank node)");
        int rc = cached_id(ld, &ld->graph, g, &src);
        if (rc != LORE_OK)
            return rc;
    }
    return src == ld->src ? LORE_OK : set_source(ld, src);
}

static unsigned pred_slot(const rdf_node *n)
{
    size_t l = n->len;
    unsigned h = (unsigned)l * 31u;
    if (l)
        h += (unsigned char)n->str[l - 1] * 7u;
    if (l > 1)
        h += (unsigned char)n->str[l - 2];
    return h & (PCACHE - 1);
}

int loader_triple(loader *ld, const rdf_node *s, const rdf_node *p, const rdf_node *o)
{
    uint32_t t[3];
    int rc = cached_id(ld, &ld->subj, s, &t[0]);
    if (rc == LORE_OK)
        rc = cached_id(ld, &ld->pred[pred_slot(p)], p, &t[1]);
    if (rc == LORE_OK)
        rc = node_id(ld, o, &t[2]);
    if (rc != LORE_OK)
        return rc;
    size_t k = (size_t)ld->stride;
    if (ld->nrows * k + k > ld->cap &&
        mem_reserve(&ld->kb->m, (void **)&ld->rows, &ld->cap, ld->nrows * k + k, sizeof *ld->rows))
        return ctx_nomem(&ld->kb->ctx);
    uint32_t *r = ld->rows + ld->nrows * k;
    r[0] = t[0], r[1] = t[1], r[2] = t[2];
    if (k == 4)
        r[3] = META_ASSERTED | ld->src;
    ld->nrows++;
    ld->statements++;
    return LORE_OK;
}

int loader_prefix(loader *ld, const char *name, size_t nlen, const char *iri, size_t ilen)
{
    /* urn:lore: is lore's own namespace for plain names: binding it would
     * make `lore:x` mean something else than the name x */
    if ((ilen >= sizeof URN_LORE - 1 && memcmp(iri, URN_LORE, sizeof URN_LORE - 1) == 0) ||
        (ilen >= sizeof URN_LORE_LITERAL - 1 &&
         memcmp(iri, URN_LORE_LITERAL, sizeof URN_LORE_LITERAL - 1) == 0))
        return LORE_OK;
    if (!rdf_iri_ok(iri, ilen))
        return LORE_OK; /* a relative namespace (no base to resolve it) */
    const char *why;
    int rc = prefixes_set(&ld->kb->m, &ld->px, name, nlen, iri, ilen, &why);
    if (rc == LORE_ERR_NOMEM)
        return ctx_nomem(&ld->kb->ctx);
    return LORE_OK; /* a binding lore cannot hold is skipped */
}

/* kb's prefix table with the file's bindings applied, in *out. */
static int merged_prefixes(loader *ld, prefixes *out)
{
    const mem *m = &ld->kb->m;
    const prefixes *cur = &ld->kb->px;
    memset(out, 0, sizeof *out);
    const char *why;
    for (size_t i = 0; i < cur->n; i++) {
        const prefix *p = &cur->v[i];
        if (prefixes_set(m, out, p->name, p->nlen, p->iri, p->ilen, &why) == LORE_ERR_NOMEM)
            goto fail;
    }
    for (size_t i = 0; i < ld->px.n; i++) {
        const prefix *p = &ld->px.v[i];
        if (prefixes_set(m, out, p->name, p->nlen, p->iri, p->ilen, &why) == LORE_ERR_NOMEM)
            goto fail;
    }
    return LORE_OK;
fail:
    prefixes_free(m, out);
    return LORE_ERR_NOMEM;
}

int loader_commit(loader *ld, size_t *added)
{
    lore_kb *kb = ld->kb;
    prefixes np;
    memset(&np, 0, sizeof np);
    if (added)
        *added = 0;
    if (ld->px.n && merged_prefixes(ld, &np) != LORE_OK) {
        loader_abort(ld);
        return ctx_nomem(&kb->ctx);
    }
    /* durable mode: the rows (and the terms they need) go to the journal
     * before they are merged, and are taken back if the merge fails */
    jmark mk;
    int logged = journal_on(kb) && ld->nrows > 0;
    if (logged) {
        jop op = {.code = JOP_BULK,
                  .rows = ld->rows,
                  .nrows = ld->nrows,
                  .stride = ld->stride,
                  .xmeta = META_ASSERTED | ld->first_src};
        int jrc = journal_log(kb, &op, &mk);
        if (jrc < 0) {
            char msg[sizeof kb->ctx.err];
            memcpy(msg, kb->ctx.err, sizeof msg);
            prefixes_free(&kb->m, &np);
            loader_abort(ld);
            memcpy(kb->ctx.err, msg, sizeof msg);
            return jrc;
        }
    }
    int rc = store_bulk_take(&kb->st, ld->rows, ld->nrows, ld->cap, ld->stride,
                             META_ASSERTED | ld->first_src, added);
    ld->rows = NULL; /* the store took them */
    ld->cap = 0;
    if (rc != LORE_OK) {
        if (logged)
            journal_cancel(kb, &mk);
        prefixes_free(&kb->m, &np);
        loader_abort(ld);
        if (rc == LORE_ERR_NOMEM)
            return ctx_nomem(&kb->ctx);
        return ctx_fail(&kb->ctx, rc, "too many facts or terms");
    }
    if (ld->px.n) {
        prefixes_free(&kb->m, &kb->px);
        kb->px = np;
    }
    release(ld);
    ctx_clear(&kb->ctx); /* keeps the terms */
    kb->ctx.busy = 0;
    ld->kb = NULL;
    return LORE_OK;
}
