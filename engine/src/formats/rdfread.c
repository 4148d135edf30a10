/* rdfread.c - reading RDF files into a knowledge base: lore_import, with
 * serd as the parser and the loader (loader.c) as the bulk path. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <serd/serd.h>

#include "kb.h"
#include "loader.h"
#include "rdfread.h"

enum { PAGE = 1 << 16, REPORT_EVERY = 1 << 20 };

typedef struct rctx {
    loader ld;
    lore_kb *kb;
    const char *name;
    int syntax, turtle;
    SerdEnv *env; /* Turtle and TriG: prefixes and base */
    /* input: a file or a string */
    FILE *f;
    const char *text;
    size_t textlen, textpos;
    uint64_t bytes, total, next_report;
    lore_progress_fn progress;
    void *pud;
    int stopped, io_error;
    int nul;         /* a NUL byte was read: the input is not text */
    uint64_t nul_at; /* its offset */
    int failed; /* a status from the statement sink */
    int have_serd_error;
    char serd_error[300];
    char curie[200]; /* an undefined prefixed name, to place it */
    sbuf nb[6];      /* expanded nodes: graph, subject, predicate, object, datatype */
} rctx;

/* ------------------------------------------------------------------ */
/* formats                                                            */

static const struct {
    const char *name;
    lore_format f;
} format_names[] = {
    {"nt", LORE_FORMAT_NTRIPLES}, {"ntriples", LORE_FORMAT_NTRIPLES},
    {"nq", LORE_FORMAT_NQUADS},   {"nquads", LORE_FORMAT_NQUADS},
    {"ttl", LORE_FORMAT_TURTLE},  {"turtle", LORE_FORMAT_TURTLE},
    {"trig", LORE_FORMAT_TRIG},   {"json", LORE_FORMAT_JSON},
};

static int same_nocase(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        if (x != *b)
            return 0;
    }
    return *a == *b;
}

lore_format lore_format_of(const char *name)
{
    if (!name)
        return LORE_FORMAT_AUTO;
    const char *dot = strrchr(name, '.');
    const char *slash = strrchr(name, '/');
    const char *ext = dot && (!slash || dot > slash) ? dot + 1 : name;
    for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++)
        if (same_nocase(ext, format_names[i].name))
            return format_names[i].f;
    return LORE_FORMAT_AUTO;
}

const char *lore_format_name(lore_format f)
{
    switch (f) {
    case LORE_FORMAT_NTRIPLES:
        return "nt";
    case LORE_FORMAT_NQUADS:
        return "nq";
    case LORE_FORMAT_TURTLE:
        return "ttl";
    case LORE_FORMAT_TRIG:
        return "trig";
    case LORE_FORMAT_JSON:
        return "json";
    default:
        return "";
    }
}

/* ------------------------------------------------------------------ */
/* input                                                              */

/* serd's byte source: counts, reports progress, and stops the parse (by
 * an early end of input) when asked to. */
static size_t source_read(void *buf, size_t size, size_t nmemb, void *stream)
{
    rctx *c = stream;
    size_t want = size * nmemb, got;
    if (c->stopped || c->nul)
        return 0;
    if (c->f) {
        got = fread(buf, 1, want, c->f);
        if (got < want && ferror(c->f))
            c->io_error = errno ? errno : EIO;
    } else {
        got = c->textlen - c->textpos < want ? c->textlen - c->textpos : want;
        memcpy(buf, c->text + c->textpos, got);
        c->textpos += got;
    }
    const char *z = memchr(buf, 0, got);
    if (z) { /* binary input: the parse ends here and fails */
        c->nul = 1;
        c->nul_at = c->bytes + (uint64_t)(z - (const char *)buf);
        got = (size_t)(z - (const char *)buf);
    }
    c->bytes += got;
    if (rdfread_tick(c->kb, c->progress, c->pud, c->bytes, c->total, c->ld.statements,
                     &c->next_report, got < want) != 0) {
        c->stopped = 1;
        return 0;
    }
    return got;
}

static int source_error(void *stream)
{
    rctx *c = stream;
    return c->io_error != 0 || c->stopped;
}

int rdfread_tick(lore_kb *kb, lore_progress_fn progress, void *ud, uint64_t bytes, uint64_t total,
                 uint64_t facts, uint64_t *next, int last)
{
    if (kb->ctx.interrupted ||
        (kb->ctx.watch && *kb->ctx.watch)) /* the host's flag: lore_kb_watch */
        return 1;
    if (progress && (bytes >= *next || last)) {
        *next = bytes + REPORT_EVERY;
        if (progress(ud, bytes, total, facts) != 0)
            return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* serd's callbacks                                                   */

/* serd's messages, said as what was expected (serd 0.30).  Others pass
 * through as serd wrote them. */
static const struct {
    const char *serd, *lore;
} serd_messages[] = {
    {"bad verb", "expected a predicate (an IRI)"},
    {"bad subject", "expected a subject (an IRI or a blank node)"},
    {"bad object", "expected an object (an IRI, a blank node or a literal)"},
    {"bad literal", "expected a literal: \"text\" with an optional @language or ^^<datatype>"},
    {"unexpected end of file", "unexpected end of file (expected the rest of a statement, "
                               "ending with '.')"},
    {"missing ';' or '.'", "expected '.' (or ';') after the object"},
    {"missing IRI scheme", "expected an absolute IRI (with a scheme, like http:)"},
    {"expected IRI scheme", "expected an absolute IRI (with a scheme, like http:)"},
    {"line end in short string", "expected the closing quote of the string on the same line"},
    {"end of file in long string", "expected the closing \"\"\" of a long string before the end "
                                   "of the file"},
    {"invalid UTF-8 start", "expected UTF-8 text (found an invalid byte)"},
    {"invalid escape", "expected an escape like \\n, \\\" or \\uXXXX after a backslash"},
    {"invalid IRI character", "expected an IRI without spaces or <>\"{}|^`\\ (write them "
                              "%-escaped)"},
    {"found both `b' and `B' blank IDs", "expected blank node labels that do not mix _:b<digits> "
                                         "and _:B<digits> (serd cannot keep them apart)"},
};

static SerdStatus on_error(void *handle, const SerdError *e)
{
    rctx *c = handle;
    if (c->have_serd_error)
        return SERD_SUCCESS; /* the first error says what was expected */
    char msg[200];
    va_list ap;
    va_copy(ap, *e->args);
    vsnprintf(msg, sizeof msg, e->fmt, ap);
    va_end(ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    char *nt = strstr(msg, ", not `");
    if (nt && ((unsigned char)nt[7] < 0x20 || (unsigned char)nt[7] >= 0x80))
        *nt = '\0', n = strlen(msg); /* serd quoted a byte past the end */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)msg[i] < 0x20)
            msg[i] = '?';
    const char *what = msg;
    for (size_t i = 0; i < sizeof serd_messages / sizeof serd_messages[0]; i++)
        if (strncmp(msg, serd_messages[i].serd, strlen(serd_messages[i].serd)) == 0)
            what = serd_messages[i].lore;
    snprintf(c->serd_error, sizeof c->serd_error, "%s:%u:%u: %s", c->name, e->line,
             e->col ? e->col : 1, what);
    c->have_serd_error = 1;
    return SERD_SUCCESS;
}

static SerdStatus on_base(void *handle, const SerdNode *uri)
{
    rctx *c = handle;
    return serd_env_set_base_uri(c->env, uri);
}

static SerdStatus on_prefix(void *handle, const SerdNode *name, const SerdNode *uri)
{
    rctx *c = handle;
    SerdStatus st = serd_env_set_prefix(c->env, name, uri);
    if (st != SERD_SUCCESS)
        return st;
    /* the namespace as the environment resolved it */
    sbuf *b = &c->nb[5];
    sbuf_reset(b);
    if (sbuf_put(b, name->buf, name->n_bytes) || sbuf_putc(b, ':')) {
        c->failed = ctx_nomem(&c->kb->ctx);
        return SERD_ERR_UNKNOWN;
    }
    SerdNode curie = serd_node_from_substring(SERD_CURIE, (const uint8_t *)b->p, b->n);
    SerdChunk pre, suf;
    if (serd_env_expand(c->env, &curie, &pre, &suf) != SERD_SUCCESS)
        return SERD_SUCCESS;
    int rc = loader_prefix(&c->ld, (const char *)name->buf, name->n_bytes, (const char *)pre.buf,
                           pre.len);
    if (rc != LORE_OK) {
        c->failed = rc;
        return SERD_ERR_UNKNOWN;
    }
    return SERD_SUCCESS;
}

/* An IRI node (a URI, relative or not, or a CURIE) into b. */
static int expand_iri(rctx *c, const SerdNode *sn, sbuf *b, const char **s, size_t *n)
{
    if (sn->type == SERD_URI && (!c->turtle || serd_uri_string_has_scheme(sn->buf))) {
        *s = (const char *)sn->buf, *n = sn->n_bytes;
        return LORE_OK;
    }
    sbuf_reset(b);
    if (sn->type == SERD_CURIE) {
        SerdChunk pre, suf;
        if (serd_env_expand(c->env, sn, &pre, &suf) != SERD_SUCCESS) {
            size_t k = sn->n_bytes < sizeof c->curie - 1 ? sn->n_bytes : sizeof c->curie - 1;
            memcpy(c->curie, sn->buf, k);
            c->curie[k] = '\0';
            return LORE_ERR_SYNTAX;
        }
        if (sbuf_put(b, pre.buf, pre.len) || sbuf_put(b, suf.buf, suf.len))
            return ctx_nomem(&c->kb->ctx);
    } else {
        SerdNode full = serd_env_expand_node(c->env, sn);
        if (!full.buf) { /* no base to resolve against: keep it as written */
            if (sbuf_put(b, sn->buf, sn->n_bytes))
                return ctx_nomem(&c->kb->ctx);
        } else {
            int rc = sbuf_put(b, full.buf, full.n_bytes);
            serd_node_free(&full);
            if (rc)
                return ctx_nomem(&c->kb->ctx);
        }
    }
    *s = b->p, *n = b->n;
    return LORE_OK;
}

static int to_node(rctx *c, const SerdNode *sn, const SerdNode *dt, const SerdNode *lang,
                   rdf_node *out, sbuf *b, sbuf *dtb)
{
    memset(out, 0, sizeof *out);
    switch (sn->type) {
    case SERD_URI:
    case SERD_CURIE:
        out->type = RDF_IRI;
        return expand_iri(c, sn, b, &out->str, &out->len);
    case SERD_BLANK:
        out->type = RDF_BLANK;
        out->str = (const char *)sn->buf, out->len = sn->n_bytes;
        return LORE_OK;
    case SERD_LITERAL:
        out->type = RDF_LITERAL;
        out->str = (const char *)sn->buf, out->len = sn->n_bytes;
        if (lang && lang->buf && lang->n_bytes) {
            out->lang = (const char *)lang->buf, out->langlen = lang->n_bytes;
        } else if (dt && dt->buf) {
            int rc = expand_iri(c, dt, dtb, &out->dt, &out->dtlen);
            if (rc != LORE_OK)
                return rc;
        }
        return LORE_OK;
    default:
        return LORE_ERR_SYNTAX;
    }
}

static SerdStatus on_statement(void *handle, SerdStatementFlags flags, const SerdNode *graph,
                               const SerdNode *subject, const SerdNode *predicate,
                               const SerdNode *object, const SerdNode *datatype,
                               const SerdNode *lang)
{
    (void)flags;
    rctx *c = handle;
    rdf_node g, s, p, o;
    int rc = LORE_OK;
    memset(&g, 0, sizeof g);
    if (graph && graph->buf)
        rc = to_node(c, graph, NULL, NULL, &g, &c->nb[0], &c->nb[4]);
    if (rc == LORE_OK)
        rc = to_node(c, subject, NULL, NULL, &s, &c->nb[1], &c->nb[4]);
    if (rc == LORE_OK)
        rc = to_node(c, predicate, NULL, NULL, &p, &c->nb[2], &c->nb[4]);
    if (rc == LORE_OK)
        rc = to_node(c, object, datatype, lang, &o, &c->nb[3], &c->nb[4]);
    if (rc == LORE_OK)
        rc = loader_graph(&c->ld, &g);
    if (rc == LORE_OK)
        rc = loader_triple(&c->ld, &s, &p, &o);
    if (rc == LORE_OK)
        return SERD_SUCCESS;
    c->failed = rc;
    return SERD_ERR_BAD_SYNTAX;
}

/* ------------------------------------------------------------------ */
/* errors that serd does not place                                    */

/* The next chunk of the input, read again from the start (after a rewind
 * of a file, or from *pos = 0 of a text): its length, 0 at the end. */
static size_t input_chunk(rctx *c, char *buf, size_t cap, size_t *pos)
{
    if (c->f)
        return fread(buf, 1, cap, c->f);
    size_t n = c->textlen - *pos < cap ? c->textlen - *pos : cap;
    memcpy(buf, c->text + *pos, n);
    *pos += n;
    return n;
}

/* Line and column (1-based) of the first use of prefixed name `curie` in
 * the input, by scanning it again: only on the error path. */
static void place_curie(rctx *c, unsigned *line, unsigned *col)
{
    size_t k = strlen(c->curie);
    const char *colon = strchr(c->curie, ':');
    size_t pk = colon ? (size_t)(colon - c->curie) + 1 : k;
    unsigned l = 1, cl = 1;
    int prev_name = 0;
    size_t match = 0;
    *line = *col = 0;
    char buf[4096];
    size_t pos = 0, n;
    if (c->f)
        rewind(c->f);
    for (;;) {
        n = input_chunk(c, buf, sizeof buf, &pos);
        if (n == 0)
            return;
        for (size_t i = 0; i < n; i++) {
            char ch = buf[i];
            if (match < pk && ch == c->curie[match] && (match > 0 || !prev_name)) {
                if (++match == pk) {
                    *line = l;
                    *col = cl + 1 - (unsigned)pk;
                    return;
                }
            } else {
                match = ch == c->curie[0] && !prev_name ? 1 : 0;
            }
            prev_name = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                        (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == ':' ||
                        (unsigned char)ch >= 0x80;
            if (ch == '\n')
                l++, cl = 1;
            else
                cl++;
        }
    }
}

/* Line and column (1-based, in bytes) of input offset `at`, by reading
 * the input again: only on the error path. */
static void place_offset(rctx *c, uint64_t at, unsigned *line, unsigned *col)
{
    char buf[4096];
    size_t pos = 0, n;
    uint64_t off = 0;
    *line = *col = 1;
    if (c->f)
        rewind(c->f);
    while (off < at && (n = input_chunk(c, buf, sizeof buf, &pos)) > 0) {
        for (size_t i = 0; i < n && off < at; i++, off++) {
            if (buf[i] == '\n')
                ++*line, *col = 1;
            else
                ++*col;
        }
    }
}

/* The line of statement number k (1-based) of N-Triples or N-Quads
 * input: its k-th line holding more than blanks and a comment.  For the
 * few malformed inputs serd rejects without saying where. */
static unsigned statement_line(rctx *c, uint64_t k)
{
    char buf[4096];
    size_t pos = 0, n;
    unsigned line = 1;
    int content = 0, comment = 0;
    uint64_t seen = 0;
    if (c->f)
        rewind(c->f);
    for (;;) {
        n = input_chunk(c, buf, sizeof buf, &pos);
        if (n == 0)
            return content ? line : 0;
        for (size_t i = 0; i < n; i++) {
            char ch = buf[i];
            if (ch == '\n' || ch == '\r') {
                line += ch == '\n';
                content = comment = 0;
            } else if (!content && !comment && ch == '#') {
                comment = 1;
            } else if (!comment && !content && ch != ' ' && ch != '\t') {
                content = 1;
                if (++seen == k)
                    return line;
            }
        }
    }
}

/* ------------------------------------------------------------------ */
/* lore_import                                                        */

static SerdSyntax serd_syntax(lore_format f)
{
    switch (f) {
    case LORE_FORMAT_NQUADS:
        return SERD_NQUADS;
    case LORE_FORMAT_TURTLE:
        return SERD_TURTLE;
    case LORE_FORMAT_TRIG:
        return SERD_TRIG;
    default:
        return SERD_NTRIPLES;
    }
}

/* The file:// IRI of path, as the base of relative IRIs. */
static SerdNode file_base(const char *path)
{
    char *abs = realpath(path, NULL);
    SerdNode n = serd_node_new_file_uri((const uint8_t *)(abs ? abs : path), NULL, NULL, true);
    free(abs);
    return n;
}

static int check_opts(lore_kb *kb, const char *fn, const lore_load_opts *o)
{
    const char *why = NULL;
    if (o && o->source && lore_check_value(o->source, &why) != LORE_OK)
        return ctx_fail(&kb->ctx, LORE_ERR_ARG, "%s: source: expected %s", fn, why);
    return LORE_OK;
}

/* Parses with serd into c->ld; LORE_OK or a failure with the message. */
static int parse_serd(rctx *c, const lore_load_opts *o)
{
    lore_kb *kb = c->kb;
    int rc = LORE_OK;
    SerdNode bnode = SERD_NODE_NULL;
    if (c->turtle) {
        if (o && o->base)
            bnode = serd_node_from_string(SERD_URI, (const uint8_t *)o->base);
        else if (c->f)
            bnode = file_base(c->name);
        c->env = serd_env_new(bnode.buf ? &bnode : NULL);
        if (!(o && o->base))
            serd_node_free(&bnode);
        if (!c->env)
            return ctx_nomem(&kb->ctx);
    }
    SerdReader *r = serd_reader_new((SerdSyntax)c->syntax, c, NULL, c->turtle ? on_base : NULL,
                                    c->turtle ? on_prefix : NULL, on_statement, NULL);
    if (!r) {
        serd_env_free(c->env);
        return ctx_nomem(&kb->ctx);
    }
    serd_reader_set_strict(r, true);
    serd_reader_set_error_sink(r, on_error, c);
    SerdStatus st =
        serd_reader_read_source(r, source_read, source_error, c, (const uint8_t *)c->name, PAGE);
    serd_reader_free(r);
    if (c->io_error) {
        rc = ctx_fail(&kb->ctx, LORE_ERR_IO, "%s: %s", c->name, strerror(c->io_error));
    } else if (c->nul) {
        unsigned line, col;
        place_offset(c, c->nul_at, &line, &col);
        rc = ctx_fail(&kb->ctx, LORE_ERR_SYNTAX, "%s:%u:%u: expected text, found a NUL byte (a binary file?)",
                     c->name, line, col);
    } else if (c->stopped) {
        kb->ctx.interrupted = 0;
        rc = ctx_fail(&kb->ctx, LORE_ERR_INTERRUPT, "%s: load interrupted", c->name);
    } else if (c->failed == LORE_ERR_SYNTAX && c->curie[0]) {
        unsigned line, col;
        place_curie(c, &line, &col);
        const char *colon = strchr(c->curie, ':');
        int pl = colon ? (int)(colon - c->curie) : (int)strlen(c->curie);
        if (line)
            rc = ctx_fail(
                &kb->ctx, LORE_ERR_SYNTAX,
                "%s:%u:%u: undefined prefix '%.*s' (expected a name declared with @prefix)",
                c->name, line, col, pl, c->curie);
        else
            rc = ctx_fail(&kb->ctx, LORE_ERR_SYNTAX,
                          "%s: undefined prefix '%.*s' (expected a name declared with @prefix)",
                          c->name, pl, c->curie);
    } else if (c->failed == LORE_ERR_NOMEM) {
        rc = ctx_nomem(&kb->ctx);
    } else if (c->failed) {
        char what[sizeof kb->ctx.err];
        snprintf(what, sizeof what, "%s", kb->ctx.err);
        rc = ctx_fail(&kb->ctx, c->failed, "%.200s: statement %llu: %.250s", c->name,
                      (unsigned long long)c->ld.statements + 1, what);
    } else if (c->have_serd_error) {
        rc = ctx_fail(&kb->ctx, LORE_ERR_SYNTAX, "%s", c->serd_error);
    } else if (st > SERD_FAILURE) {
        unsigned line = c->turtle ? 0 : statement_line(c, c->ld.statements + 1);
        if (line)
            rc = ctx_fail(&kb->ctx, LORE_ERR_SYNTAX,
                          "%s:%u:1: expected a statement: subject, predicate, object%s and '.'",
                          c->name, line, c->syntax == SERD_NQUADS ? ", an optional graph" : "");
        else
            rc = ctx_fail(&kb->ctx, LORE_ERR_SYNTAX,
                          "%s: malformed input (the parser gave no position)", c->name);
    }
    serd_env_free(c->env);
    c->env = NULL;
    return rc;
}

static int import(lore_kb *kb, const char *fn, rctx *c, const lore_load_opts *o,
                  lore_load_info *info)
{
    lore_format f = o ? o->format : LORE_FORMAT_AUTO;
    if (f == LORE_FORMAT_AUTO)
        f = lore_format_of(c->name);
    if (f == LORE_FORMAT_JSON)
        return ctx_fail(&kb->ctx, LORE_ERR_ARG,
                        "%s: JSON files are read by the Lua module (kb:load), not by %s", c->name,
                        fn);
    if (f < LORE_FORMAT_NTRIPLES || f > LORE_FORMAT_TRIG)
        return ctx_fail(&kb->ctx, LORE_ERR_ARG,
                        "%s: unknown format (expected a name ending in .nt, .nq, .ttl or .trig, "
                        "or a format in the options)",
                        c->name);
    c->syntax = (int)serd_syntax(f);
    c->turtle = f == LORE_FORMAT_TURTLE || f == LORE_FORMAT_TRIG;
    c->progress = o ? o->progress : NULL;
    c->pud = o ? o->progress_ud : NULL;
    int rc = loader_begin(&c->ld, kb, c->turtle, o ? o->source : NULL);
    if (rc != LORE_OK)
        return rc;
    for (int i = 0; i < 6; i++)
        sbuf_init(&c->nb[i], &kb->m);
    /* numbers are read in the C locale, whatever the host set */
    locale_t cloc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0), old = (locale_t)0;
    if (cloc)
        old = uselocale(cloc);
    rc = cloc ? parse_serd(c, o) : ctx_nomem(&kb->ctx);
    if (cloc) {
        uselocale(old);
        freelocale(cloc);
    }
    for (int i = 0; i < 6; i++)
        sbuf_free(&c->nb[i]);
    uint64_t statements = c->ld.statements;
    size_t added = 0;
    if (rc != LORE_OK) {
        char msg[sizeof kb->ctx.err];
        memcpy(msg, kb->ctx.err, sizeof msg);
        loader_abort(&c->ld);
        memcpy(kb->ctx.err, msg, sizeof msg); /* closing the guard batch cleared it */
        return rc;
    }
    rc = loader_commit(&c->ld, &added);
    if (rc != LORE_OK)
        return rc;
    if (info) {
        info->facts = statements;
        info->added = added;
        info->bytes = c->bytes;
    }
    return LORE_OK;
}

int lore_import(lore_kb *kb, const char *path, const lore_load_opts *opts, lore_load_info *info)
{
    ctx_clear(&kb->ctx);
    if (info)
        memset(info, 0, sizeof *info);
    if (kb->ctx.busy)
        return ctx_busy(&kb->ctx, "lore_import");
    if (!path)
        return ctx_fail(&kb->ctx, LORE_ERR_ARG, "lore_import: expected a file name");
    int rc = check_opts(kb, "lore_import", opts);
    if (rc != LORE_OK)
        return rc;
    rctx *c = mem_calloc(&kb->m, 1, sizeof *c);
    if (!c)
        return ctx_nomem(&kb->ctx);
    c->kb = kb;
    c->name = path;
    c->f = fopen(path, "rb");
    if (!c->f) {
        rc = ctx_fail(&kb->ctx, LORE_ERR_IO, "%s: %s", path, strerror(errno));
    } else {
        struct stat sb;
        if (fstat(fileno(c->f), &sb) == 0 && S_ISREG(sb.st_mode))
            c->total = (uint64_t)sb.st_size;
        rc = import(kb, "lore_import", c, opts, info);
        fclose(c->f);
    }
    mem_free(&kb->m, c, 1, sizeof *c);
    return rc;
}

int lore_import_string(lore_kb *kb, const char *text, size_t len, const char *name,
                       const lore_load_opts *opts, lore_load_info *info)
{
    ctx_clear(&kb->ctx);
    if (info)
        memset(info, 0, sizeof *info);
    if (kb->ctx.busy)
        return ctx_busy(&kb->ctx, "lore_import_string");
    if (!text && len)
        return ctx_fail(&kb->ctx, LORE_ERR_ARG, "lore_import_string: expected a text");
    if (!opts || opts->format == LORE_FORMAT_AUTO)
        return ctx_fail(&kb->ctx, LORE_ERR_ARG,
                        "lore_import_string: expected a format in the options");
    int rc = check_opts(kb, "lore_import_string", opts);
    if (rc != LORE_OK)
        return rc;
    rctx *c = mem_calloc(&kb->m, 1, sizeof *c);
    if (!c)
        return ctx_nomem(&kb->ctx);
    c->kb = kb;
    c->name = name ? name : "string";
    c->text = text ? text : "";
    c->textlen = len;
    c->total = len;
    rc = import(kb, "lore_import_string", c, opts, info);
    mem_free(&kb->m, c, 1, sizeof *c);
    return rc;
}
