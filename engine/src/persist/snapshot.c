/* snapshot.c - the .lore snapshot: a versioned, checksummed image of a
 * knowledge base, written atomically and read back by building the store's
 * base straight from its sorted rows.
 *
 * Layout (all integers little-endian):
 *
 *   file header, 32 bytes:
 *     magic "\x89LORE\r\n\x1a" (8) | u32 format version (1) | u32 flags (0)
 *     | u64 generation | u32 reserved (0) | u32 CRC-32C of the 28 bytes before
 *   sections, one after another, each:
 *     u32 tag (4 ASCII letters) | u16 section version | u16 flags (bit 0:
 *     required) | u64 payload length | u32 CRC-32C of the payload
 *     | u32 CRC-32C of the 20 header bytes before | payload
 *   the last section is END.
 *
 * Required sections of version 1:
 *   TERM  u32 n, then terms 1..n in id order (see term_put in snapshot.h)
 *   SRCS  u32 n, then n source sets: varint count (>= 2), varint first id,
 *         varint gaps to each next id (>= 1); ids are term ids, 0 the
 *         default source
 *   FACT  u64 n, then n (u32 predicate, u32 object) pairs sorted by
 *         (subject, predicate, object), n u32 meta words (META_* of
 *         store.h: DERIVED, ASSERTED, and either one source id or, with
 *         MULTI, k for the k-th source set, the k-th MULTI fact using the
 *         k-th set; a fact derived only carries its rank, rules.h), and
 *         u32 off[0..nterms+1]: the facts of subject s are rows off[s] to
 *         off[s+1] - 1
 *   END   u64 length of the whole file | u32 number of sections before END
 *
 * Optional sections of version 1 (a reader that does not know them skips
 * them):
 *   PRFX  the prefix table: varint n, then n bindings, each varint name
 *         length, name bytes, varint IRI length, IRI bytes (written only
 *         when the table is not empty)
 *   RULE  the rules: u8 flags (bit 0: the derived facts were settled, the
 *         fixpoint of these rules over the asserted facts) | u32 n, then n
 *         rules: varint name length, name, varint text length, text (the
 *         text form); rules that call host functions by pointer are left
 *         out (written only when there are rules; restored after PRFX)
 *
 * A reader skips a section it does not know unless it is marked required,
 * and refuses a required one it does not know or whose version it does
 * not read: rules, prefixes and what later versions add come as new
 * sections.  Every byte after the magic is under a checksum, so a flipped
 * byte is always reported as a checksum mismatch, and a cut file as
 * truncated (END is missing).  A file whose checksums hold is still
 * checked entry by entry before anything of it is used. */
#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "crc32c.h"
#include "file.h"
#include "journal.h"
#include "prefix.h"
#include "rules.h"

#define SNAP_MAGIC "\x89LORE\r\n\x1a"
#define TAG(a, b, c, d)                                                                            \
    ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

enum { SNAP_VERSION = 1, HEADER_SIZE = 32, SECTION_HEADER = 24, SEC_REQUIRED = 1, WBUF = 1 << 16 };

enum { T_TERMS, T_SETS, T_FACTS, T_PREFIXES, T_RULES, T_END, NKNOWN };

static const struct known {
    uint32_t tag;
    const char *name;
    int required;
} known[NKNOWN] = {
    {TAG('T', 'E', 'R', 'M'), "terms", 1}, {TAG('S', 'R', 'C', 'S'), "source sets", 1},
    {TAG('F', 'A', 'C', 'T'), "facts", 1}, {TAG('P', 'R', 'F', 'X'), "prefixes", 0},
    {TAG('R', 'U', 'L', 'E'), "rules", 0}, {TAG('E', 'N', 'D', ' '), "end", 1},
};

/* ------------------------------------------------------------------ */
/* terms                                                              */

void term_put(obuf *b, const dict *d, uint32_t id)
{
    const term *t = dict_term(d, id);
    ob_u8(b, t->kind);
    switch (t->kind) {
    case LORE_INTEGER:
        ob_u64(b, (uint64_t)t->u.i);
        break;
    case LORE_BOOLEAN:
        ob_u8(b, t->u.i != 0);
        break;
    case LORE_NUMBER: {
        uint64_t bits;
        memcpy(&bits, &t->u.n, 8);
        ob_u64(b, bits);
        break;
    }
    case LORE_TEXT: {
        const char *lang = t->lang ? d->langs[t->lang] : "";
        size_t n = strlen(lang);
        ob_var(b, n);
        ob_bytes(b, lang, n);
    }
        /* fall through */
    default:
        ob_var(b, t->len);
        ob_bytes(b, t->u.str, t->len);
    }
}

int term_get(ibuf *r, lore_value *v)
{
    memset(v, 0, sizeof *v);
    v->kind = (lore_kind)ib_u8(r);
    switch (v->kind) {
    case LORE_INTEGER: {
        uint64_t u = ib_u64(r);
        memcpy(&v->i, &u, 8);
        break;
    }
    case LORE_BOOLEAN:
        v->i = ib_u8(r);
        if (v->i > 1)
            return ib_fail(r);
        break;
    case LORE_NUMBER: {
        uint64_t bits = ib_u64(r);
        memcpy(&v->n, &bits, 8);
        break;
    }
    case LORE_TEXT:
        v->langlen = ib_var(r);
        v->lang = (const char *)ib_bytes(r, v->langlen);
        /* fall through */
    case LORE_SYMBOL:
    case LORE_DATE:
        v->len = ib_var(r);
        v->str = (const char *)ib_bytes(r, v->len);
        if (!v->str)
            v->len = 0;
        break;
    default:
        return ib_fail(r);
    }
    return !r->bad;
}

/* ------------------------------------------------------------------ */
/* writing                                                            */

typedef struct writer {
    lore_kb *kb;
    int fd;
    obuf b; /* bytes not yet written; b.p[0] is at file offset pos */
    uint64_t pos;
    uint64_t sec;    /* file offset of the open section's header */
    size_t crc_from; /* b.p[crc_from..] is not yet in crc */
    uint32_t crc;
    int in_sec, err; /* err: errno of the first failed write */
    uint32_t nsec;
} writer;

static void w_flush(writer *w)
{
    if (w->in_sec)
        w->crc = crc32c(w->crc, w->b.p + w->crc_from, w->b.n - w->crc_from);
    w->crc_from = 0;
    if (!w->err && w->b.n && file_write_all(w->fd, w->b.p, w->b.n) != 0)
        w->err = errno;
    w->pos += w->b.n;
    w->b.n = 0;
}

/* Room for k more bytes in the buffer. */
static void w_room(writer *w, size_t k)
{
    if (w->b.n + k > WBUF)
        w_flush(w);
}

static void sec_begin(writer *w)
{
    static const unsigned char zero[SECTION_HEADER];
    w_room(w, SECTION_HEADER);
    w->sec = w->pos + w->b.n;
    ob_bytes(&w->b, zero, sizeof zero);
    w->in_sec = 1;
    w->crc = 0;
    w->crc_from = w->b.n;
}

static void sec_end(writer *w, int which)
{
    unsigned char h[SECTION_HEADER];
    w_flush(w);
    w->in_sec = 0;
    put_u32(h, known[which].tag);
    h[4] = 1, h[5] = 0;                                        /* version 1 */
    h[6] = known[which].required ? SEC_REQUIRED : 0, h[7] = 0; /* flags */
    put_u64(h + 8, w->pos - w->sec - SECTION_HEADER);
    put_u32(h + 16, w->crc);
    put_u32(h + 20, crc32c(0, h, 20));
    if (!w->err && file_pwrite_all(w->fd, h, sizeof h, w->sec) != 0)
        w->err = errno;
    w->nsec++;
}

static void write_terms(writer *w)
{
    const dict *d = &w->kb->d;
    sec_begin(w);
    ob_u32(&w->b, (uint32_t)d->n);
    for (uint32_t id = 1; id <= d->n; id++) {
        const term *t = dict_term(d, id);
        if (t->len > WBUF / 2) { /* a long string goes out on its own */
            w_flush(w);
            obuf big = {&w->kb->m, NULL, 0, 0, 0};
            term_put(&big, d, id);
            if (big.nomem)
                w->b.nomem = 1;
            w->crc = crc32c(w->crc, big.p, big.n);
            if (!w->err && file_write_all(w->fd, big.p, big.n) != 0)
                w->err = errno;
            w->pos += big.n;
            ob_free(&big);
            continue;
        }
        w_room(w, t->len + 40);
        term_put(&w->b, d, id);
    }
    sec_end(w, T_TERMS);
}

/* What the two passes over the facts collect. */
typedef struct scan_ctx {
    writer *w;
    const mem *m;
    uint32_t *sets; /* store set index of the k-th MULTI fact, k from 0 */
    size_t nsets, setcap;
    uint32_t *meta; /* meta words as the file has them, room for cap */
    uint32_t *off;  /* facts per subject, then offsets */
    size_t n, cap, nkeys;
} scan_ctx;

static int collect_sets(void *ud, const uint32_t t[3], uint32_t meta)
{
    scan_ctx *cx = ud;
    (void)t;
    if (!(meta & META_MULTI))
        return 0;
    if (mem_reserve(cx->m, (void **)&cx->sets, &cx->setcap, cx->nsets + 1, sizeof *cx->sets))
        return LORE_ERR_NOMEM;
    cx->sets[cx->nsets++] = meta & META_PAYLOAD;
    return 0;
}

static int write_fact(void *ud, const uint32_t t[3], uint32_t meta)
{
    scan_ctx *cx = ud;
    writer *w = cx->w;
    if (cx->n == cx->cap) /* cannot happen: nlive counts the live facts */
        return LORE_ERR_STATE;
    if (meta & META_MULTI)
        meta = (meta & ~META_PAYLOAD) | (uint32_t)++cx->nsets;
    cx->meta[cx->n++] = meta;
    cx->off[t[0] + 1]++;
    w_room(w, 8);
    put_u32(w->b.p + w->b.n, t[1]);
    put_u32(w->b.p + w->b.n + 4, t[2]);
    w->b.n += 8;
    return 0;
}

static int write_facts(writer *w)
{
    lore_kb *kb = w->kb;
    store *st = &kb->st;
    scan_ctx cx;
    memset(&cx, 0, sizeof cx);
    cx.w = w, cx.m = &kb->m;
    cx.nkeys = kb->d.n + 2;
    size_t nfacts = st->nlive;
    int rc = LORE_OK;

    /* the sets first, in the order of the facts that hold them */
    TRY(store_scan(st, collect_sets, &cx));
    sec_begin(w);
    ob_u32(&w->b, (uint32_t)cx.nsets);
    for (size_t k = 0; k < cx.nsets; k++) {
        const srcset *s = st->sets[cx.sets[k]];
        for (uint32_t i = 0; i < s->n; i++) {
            w_room(w, 20);
            if (i == 0) {
                ob_var(&w->b, s->n);
                ob_var(&w->b, s->ids[0]);
            } else {
                ob_var(&w->b, s->ids[i] - s->ids[i - 1]);
            }
        }
    }
    sec_end(w, T_SETS);

    cx.meta = mem_alloc(&kb->m, nfacts ? nfacts : 1, sizeof *cx.meta);
    cx.off = mem_calloc(&kb->m, cx.nkeys, sizeof *cx.off);
    cx.cap = nfacts;
    TRY_PTR(cx.meta);
    TRY_PTR(cx.off);
    sec_begin(w);
    ob_u64(&w->b, nfacts);
    cx.nsets = 0;
    rc = store_scan(st, write_fact, &cx);
    if (rc == LORE_ERR_STATE || (rc == LORE_OK && cx.n != nfacts)) {
        rc = ctx_fail(&kb->ctx, LORE_ERR_STATE, "lore_save: the store does not hold %zu facts",
                      nfacts);
        goto cleanup;
    }
    TRY(rc);
    for (size_t i = 0; i < nfacts; i++) {
        w_room(w, 4);
        ob_u32(&w->b, cx.meta[i]);
    }
    for (size_t k = 0; k + 1 < cx.nkeys; k++)
        cx.off[k + 1] += cx.off[k];
    for (size_t k = 0; k < cx.nkeys; k++) {
        w_room(w, 4);
        ob_u32(&w->b, cx.off[k]);
    }
    sec_end(w, T_FACTS);

cleanup:
    if (rc == LORE_ERR_NOMEM)
        ctx_nomem(&kb->ctx);
    mem_free(&kb->m, cx.sets, cx.setcap, sizeof *cx.sets);
    mem_free(&kb->m, cx.meta, nfacts ? nfacts : 1, sizeof *cx.meta);
    mem_free(&kb->m, cx.off, cx.nkeys, sizeof *cx.off);
    return rc;
}

/* The rules that can be saved, and whether the derived facts are settled. */
static void write_rules(writer *w)
{
    lore_kb *kb = w->kb;
    const char *name, *text;
    int ok;
    uint32_t n = 0;
    for (size_t i = 0; rules_saveable(kb, i, &name, &text, &ok); i++)
        n += (uint32_t)ok;
    if (lore_rule_count(kb) == 0)
        return;
    sec_begin(w);
    ob_u8(&w->b, rules_settled(kb) && n == lore_rule_count(kb) ? 1 : 0);
    ob_u32(&w->b, n);
    for (size_t i = 0; rules_saveable(kb, i, &name, &text, &ok); i++) {
        if (!ok)
            continue;
        size_t nl = strlen(name), tl = strlen(text);
        w_flush(w);
        if (!ob_room(&w->b, nl + tl + 20))
            continue; /* noted: nomem */
        ob_var(&w->b, nl);
        ob_bytes(&w->b, name, nl);
        ob_var(&w->b, tl);
        ob_bytes(&w->b, text, tl);
    }
    sec_end(w, T_RULES);
}

int snapshot_write(lore_kb *kb, const char *path, uint64_t gen)
{
    int rc;
    file_tmp t;
    writer w;
    memset(&w, 0, sizeof w);
    w.kb = kb;
    w.b.m = &kb->m;
    if (!ob_room(&w.b, WBUF + 64))
        return ctx_nomem(&kb->ctx);
    if ((rc = file_tmp_open(kb, path, &t)) != LORE_OK) {
        ob_free(&w.b);
        return rc;
    }
    w.fd = t.fd;

    unsigned char h[HEADER_SIZE];
    memset(h, 0, sizeof h);
    memcpy(h, SNAP_MAGIC, 8);
    put_u32(h + 8, SNAP_VERSION);
    put_u64(h + 16, gen);
    put_u32(h + 28, crc32c(0, h, 28));
    ob_bytes(&w.b, h, sizeof h);
    write_terms(&w);
    rc = write_facts(&w);
    if (rc == LORE_OK && kb->px.n > 0) { /* the prefix table, optional */
        sec_begin(&w);
        ob_var(&w.b, kb->px.n);
        for (size_t i = 0; i < kb->px.n; i++) {
            const prefix *px = &kb->px.v[i];
            w_room(&w, px->nlen + px->ilen + 20);
            ob_var(&w.b, px->nlen);
            ob_bytes(&w.b, px->name, px->nlen);
            ob_var(&w.b, px->ilen);
            ob_bytes(&w.b, px->iri, px->ilen);
        }
        sec_end(&w, T_PREFIXES);
    }
    if (rc == LORE_OK)
        write_rules(&w);
    if (rc == LORE_OK) {
        sec_begin(&w);
        ob_u64(&w.b, w.pos + w.b.n + 12);
        ob_u32(&w.b, w.nsec);
        sec_end(&w, T_END);
    }
    if (rc == LORE_OK && w.b.nomem)
        rc = ctx_nomem(&kb->ctx);
    if (rc == LORE_OK && w.err)
        rc = ctx_fail(&kb->ctx, LORE_ERR_IO, "%s: cannot write: %s", path, strerror(w.err));
    ob_free(&w.b);
    if (rc != LORE_OK) {
        file_tmp_abort(kb, &t);
        return rc;
    }
    return file_tmp_commit(kb, &t);
}

/* ------------------------------------------------------------------ */
/* reading                                                            */

typedef struct section {
    const unsigned char *p;
    size_t n;
    int seen;
} section;

typedef struct snap {
    lore_kb *kb;
    const char *name;
    uint64_t gen;
    section sec[NKNOWN];
} snap;

static int corrupt(snap *sn, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static int corrupt(snap *sn, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return ctx_fail(&sn->kb->ctx, LORE_ERR_CORRUPT, "%s: %s", sn->name, what);
}

/* A tag as text for messages: its letters, or its number. */
static void tag_text(uint32_t tag, char out[16])
{
    unsigned char c[4];
    put_u32(c, tag);
    for (int i = 0; i < 4; i++) {
        if (c[i] < 0x20 || c[i] > 0x7e) {
            snprintf(out, 16, "0x%08x", (unsigned)tag);
            return;
        }
    }
    snprintf(out, 16, "'%c%c%c%c'", c[0], c[1], c[2], c[3]);
}

/* Checks the framing and the checksums, and finds the sections. */
static int parse(snap *sn, const unsigned char *buf, size_t len, int flags)
{
    int check = !(flags & SNAP_NOCHECK);
    if (len < HEADER_SIZE) {
        size_t k = len < 8 ? len : 8;
        if (memcmp(buf, SNAP_MAGIC, k) != 0)
            return corrupt(sn, "not a lore snapshot (bad magic number)");
        if (len == 0)
            return corrupt(sn, "truncated (empty file)");
        return corrupt(sn, "truncated (%zu bytes, shorter than the %d-byte header)", len,
                       HEADER_SIZE);
    }
    if (memcmp(buf, SNAP_MAGIC, 8) != 0)
        return corrupt(sn, "not a lore snapshot (bad magic number)");
    if (check && get_u32(buf + 28) != crc32c(0, buf, 28))
        return corrupt(sn, "checksum mismatch in the file header");
    uint32_t version = get_u32(buf + 8);
    if (version != SNAP_VERSION)
        return corrupt(sn, "format version %u is not supported (this lore reads version %d)",
                       (unsigned)version, SNAP_VERSION);
    if (get_u32(buf + 12) != 0 || get_u32(buf + 24) != 0)
        return corrupt(sn, "unknown header flags (written by a newer lore?)");
    sn->gen = get_u64(buf + 16);

    size_t at = HEADER_SIZE;
    uint32_t nsec = 0;
    for (;;) {
        if (at == len)
            return corrupt(sn, "truncated (no end section)");
        if (len - at < SECTION_HEADER)
            return corrupt(sn, "truncated (a section header at offset %zu is cut short)", at);
        const unsigned char *h = buf + at;
        if (check && get_u32(h + 20) != crc32c(0, h, 20))
            return corrupt(sn, "checksum mismatch in the section header at offset %zu", at);
        uint32_t tag = get_u32(h);
        unsigned sver = h[4] | h[5] << 8, sflags = h[6] | h[7] << 8;
        uint64_t n = get_u64(h + 8);
        int which = -1;
        for (int k = 0; k < NKNOWN; k++)
            if (known[k].tag == tag)
                which = k;
        char tname[40];
        if (which >= 0)
            snprintf(tname, sizeof tname, "%s", known[which].name);
        else
            tag_text(tag, tname);
        at += SECTION_HEADER;
        if (n > len - at)
            return corrupt(sn, "truncated in section %s (%" PRIu64 " bytes announced, %zu present)",
                           tname, n, len - at);
        if (check && get_u32(h + 16) != crc32c(0, buf + at, (size_t)n))
            return corrupt(sn, "checksum mismatch in section %s", tname);
        if (which < 0 || sver != 1) {
            if (sflags & SEC_REQUIRED) {
                if (which < 0)
                    return corrupt(sn,
                                   "section %s is required but unknown to this lore "
                                   "(written by a newer version?)",
                                   tname);
                return corrupt(sn, "section %s has version %u, this lore reads version 1", tname,
                               sver);
            }
            at += (size_t)n; /* optional and unknown: skip it */
            nsec++;
            continue;
        }
        if (sn->sec[which].seen)
            return corrupt(sn, "section %s appears twice", tname);
        sn->sec[which].seen = 1;
        sn->sec[which].p = buf + at;
        sn->sec[which].n = (size_t)n;
        at += (size_t)n;
        if (which == T_END) {
            if (n != 12 || get_u64(buf + at - 12) != at || get_u32(buf + at - 4) != nsec)
                return corrupt(sn, "bad section end: it does not match the file");
            if (at != len)
                return corrupt(sn, "%zu unexpected bytes after the end section", len - at);
            break;
        }
        nsec++;
    }
    for (int k = 0; k < NKNOWN; k++)
        if (!sn->sec[k].seen && known[k].required)
            return corrupt(sn, "missing section %s", known[k].name);
    return LORE_OK;
}

static int bad(snap *sn, int which, const char *what, uint64_t at)
{
    return corrupt(sn, "bad section %s: %s (%" PRIu64 ")", known[which].name, what, at);
}

static int restore_terms(snap *sn)
{
    lore_kb *kb = sn->kb;
    const section *s = &sn->sec[T_TERMS];
    ibuf r = {s->p, s->p + s->n, 0};
    uint32_t n = ib_u32(&r);
    if (r.bad || n > ib_left(&r) / 2 || n > 0xfffffff0u)
        return bad(sn, T_TERMS, "more terms than bytes", n);
    if (dict_reserve(&kb->d, n) != LORE_OK)
        return ctx_nomem(&kb->ctx);
    /* terms are decoded a few ahead of their interning, and their hash
     * slots prefetched: with millions of terms the table is out of cache */
    enum { AHEAD = 16 };
    lore_value ring[AHEAD];
    uint32_t decoded = 0;
    for (uint32_t id = 1; id <= n; id++) {
        for (; decoded < n && decoded < id - 1 + AHEAD; decoded++) {
            lore_value *v = &ring[decoded % AHEAD];
            if (!term_get(&r, v))
                return bad(sn, T_TERMS, "malformed term", decoded + 1);
            dict_prefetch(&kb->d, v);
        }
        const lore_value *v = &ring[(id - 1) % AHEAD];
        const char *why = NULL;
        uint32_t got;
        int rc = dict_intern(&kb->d, v, &got, &why);
        if (rc == LORE_ERR_NOMEM)
            return ctx_nomem(&kb->ctx);
        if (rc != LORE_OK)
            return corrupt(sn, "bad section terms: term %u is not %s", (unsigned)id,
                           why ? why : "valid");
        if (got != id)
            return corrupt(sn, "bad section terms: term %u repeats term %u", (unsigned)id,
                           (unsigned)got);
    }
    if (ib_left(&r))
        return bad(sn, T_TERMS, "bytes after the last term", ib_left(&r));
    return LORE_OK;
}

static int restore_sets(snap *sn, uint32_t *nsets)
{
    lore_kb *kb = sn->kb;
    const section *s = &sn->sec[T_SETS];
    ibuf r = {s->p, s->p + s->n, 0};
    uint32_t n = ib_u32(&r), nterms = (uint32_t)kb->d.n;
    uint32_t *ids = NULL;
    size_t cap = 0;
    int rc = LORE_OK;
    if (r.bad || n > ib_left(&r) / 3)
        return bad(sn, T_SETS, "more sets than bytes", n);
    for (uint32_t k = 1; k <= n; k++) {
        uint32_t cnt = ib_var32(&r);
        if (r.bad || cnt < 2 || cnt > ib_left(&r)) {
            rc = bad(sn, T_SETS, "bad set size", k);
            goto cleanup;
        }
        if (mem_reserve(&kb->m, (void **)&ids, &cap, cnt, sizeof *ids) != 0) {
            rc = ctx_nomem(&kb->ctx);
            goto cleanup;
        }
        uint64_t id = 0;
        for (uint32_t i = 0; i < cnt; i++) {
            uint64_t step = ib_var(&r);
            if (r.bad || (i > 0 && step == 0) || step > nterms || (id += step) > nterms) {
                rc = bad(sn, T_SETS, "bad source id in set", k);
                goto cleanup;
            }
            ids[i] = (uint32_t)id;
        }
        uint32_t idx;
        rc = store_add_set(&kb->st, ids, cnt, &idx);
        if (rc != LORE_OK) {
            rc = rc == LORE_ERR_NOMEM
                     ? ctx_nomem(&kb->ctx)
                     : ctx_fail(&kb->ctx, rc, "%s: too many source sets", sn->name);
            goto cleanup;
        }
        if (idx != k) { /* a fresh store numbers its sets 1, 2, ... */
            rc = ctx_fail(&kb->ctx, LORE_ERR_STATE, "%s: source sets out of step", sn->name);
            goto cleanup;
        }
    }
    if (ib_left(&r))
        rc = bad(sn, T_SETS, "bytes after the last set", ib_left(&r));
    *nsets = n;
cleanup:
    mem_free(&kb->m, ids, cap, sizeof *ids);
    return rc;
}

static int restore_facts(snap *sn, uint32_t nsets)
{
    lore_kb *kb = sn->kb;
    const section *s = &sn->sec[T_FACTS];
    size_t nterms = kb->d.n, nkeys = nterms + 1;
    if (s->n < 8)
        return bad(sn, T_FACTS, "no fact count", s->n);
    uint64_t n = get_u64(s->p);
    if (n > (s->n - 8) / 12 || s->n - 8 - 12 * n != 4 * (nkeys + 1))
        return bad(sn, T_FACTS, "its size does not match its counts", n);
    if (n >= 0xffffffffu)
        return ctx_fail(&kb->ctx, LORE_ERR_LIMIT, "%s: too many facts", sn->name);
    const unsigned char *pairs = s->p + 8, *metas = pairs + 8 * n, *offs = metas + 4 * n;
    base *b = store_base_alloc(&kb->st, (uint32_t)nkeys, (size_t)n);
    if (!b)
        return ctx_nomem(&kb->ctx);
    int rc = LORE_OK;
    uint32_t *off = b->off[ORD_SPO], *meta = b->meta;
    pair *ent = b->ent[ORD_SPO];
    for (size_t k = 0; k <= nkeys; k++) {
        off[k] = get_u32(offs + 4 * k);
        if (k == 0 ? off[k] != 0 : off[k] < off[k - 1]) {
            rc = bad(sn, T_FACTS, "subject offsets out of order", k);
            goto cleanup;
        }
    }
    if (off[1] != 0 || off[nkeys] != n) {
        rc = bad(sn, T_FACTS, "subject offsets do not span the facts", n);
        goto cleanup;
    }
    for (size_t subj = 1; subj < nkeys; subj++) {
        for (size_t i = off[subj]; i < off[subj + 1]; i++) {
            uint32_t p = get_u32(pairs + 8 * i), o = get_u32(pairs + 8 * i + 4);
            if (p == 0 || p > nterms || o == 0 || o > nterms) {
                rc = bad(sn, T_FACTS, "term id out of range in fact", i);
                goto cleanup;
            }
            if (i > off[subj] && (p < ent[i - 1].a || (p == ent[i - 1].a && o <= ent[i - 1].b))) {
                rc = bad(sn, T_FACTS, "facts out of order or repeated at fact", i);
                goto cleanup;
            }
            ent[i].a = p, ent[i].b = o;
        }
    }
    uint32_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t m = get_u32(metas + 4 * i), payload = m & META_PAYLOAD;
        int ok;
        if (m & META_MULTI)
            ok = (m & META_ASSERTED) && payload == ++k && k <= nsets;
        else if (m & META_ASSERTED)
            ok = payload <= nterms;
        else
            ok = (m & META_DERIVED) != 0; /* the payload is its rank */
        if (!ok) {
            rc = bad(sn, T_FACTS, "bad meta word of fact", i);
            goto cleanup;
        }
        meta[i] = m;
    }
    if (k != nsets) {
        rc = bad(sn, T_FACTS, "source sets not all used", k);
        goto cleanup;
    }
    if (n == 0)
        goto cleanup; /* an empty store has no base */
    if ((rc = store_adopt(&kb->st, b)) != LORE_OK) {
        rc = ctx_nomem(&kb->ctx);
        goto cleanup;
    }
    return LORE_OK;
cleanup:
    store_base_free(&kb->st, b);
    return rc;
}

/* The prefix table, when the file has one, added to kb's: built in a copy
 * and swapped in whole, so that a bad binding changes nothing. */
static int restore_prefixes(snap *sn)
{
    const section *s = &sn->sec[T_PREFIXES];
    lore_kb *kb = sn->kb;
    if (!s->seen)
        return LORE_OK;
    prefixes px = {NULL, 0, 0};
    int rc = LORE_OK;
    const char *why = NULL;
    for (size_t i = 0; i < kb->px.n && rc >= 0; i++) {
        const prefix *p = &kb->px.v[i];
        rc = prefixes_set(&kb->m, &px, p->name, p->nlen, p->iri, p->ilen, &why);
    }
    ibuf r = {s->p, s->p + s->n, 0};
    uint64_t n = ib_var(&r);
    if (rc >= 0 && (r.bad || n > s->n))
        rc = bad(sn, T_PREFIXES, "malformed count", n);
    for (uint64_t i = 0; i < n && rc >= 0; i++) {
        size_t nlen = ib_var(&r);
        const char *name = (const char *)ib_bytes(&r, nlen);
        size_t ilen = ib_var(&r);
        const char *iri = (const char *)ib_bytes(&r, ilen);
        if (r.bad || !name || !iri) {
            rc = bad(sn, T_PREFIXES, "malformed binding", i);
            break;
        }
        rc = prefixes_set(&kb->m, &px, name, nlen, iri, ilen, &why);
        if (rc == LORE_ERR_ARG)
            rc = bad(sn, T_PREFIXES, "invalid binding", i);
    }
    if (rc >= 0 && ib_left(&r))
        rc = bad(sn, T_PREFIXES, "bytes after the last binding", s->n - ib_left(&r));
    if (rc == LORE_ERR_NOMEM)
        rc = ctx_nomem(&kb->ctx);
    if (rc < 0) {
        prefixes_free(&kb->m, &px);
        return rc;
    }
    prefixes_free(&kb->m, &kb->px);
    kb->px = px;
    kb->d.epoch++; /* names may mean other terms now */
    return LORE_OK;
}

/* Adds the saved rules (their constants are terms already: the rules
 * section adds none). */
static int restore_rules(snap *sn)
{
    const section *s = &sn->sec[T_RULES];
    lore_kb *kb = sn->kb;
    if (!s->seen)
        return LORE_OK;
    ibuf r = {s->p, s->p + s->n, 0};
    unsigned flags = ib_u8(&r);
    uint32_t n = ib_u32(&r);
    size_t nterms = kb->d.n;
    for (uint32_t i = 0; i < n && !r.bad; i++) {
        uint64_t nl = ib_var(&r);
        const unsigned char *nm = nl <= ib_left(&r) ? ib_bytes(&r, (size_t)nl) : NULL;
        uint64_t tl = ib_var(&r);
        const unsigned char *tx = tl <= ib_left(&r) ? ib_bytes(&r, (size_t)tl) : NULL;
        if (r.bad || !nm || !tx)
            break;
        int rc = rules_restore(kb, (const char *)nm, (size_t)nl, (const char *)tx, (size_t)tl);
        if (rc == LORE_ERR_NOMEM)
            return rc;
        if (rc != LORE_OK) {
            char msg[sizeof kb->ctx.err];
            snprintf(msg, sizeof msg, "%s", kb->ctx.err);
            return corrupt(sn, "bad section rules: %s", msg);
        }
    }
    if (r.bad || ib_left(&r))
        return bad(sn, T_RULES, "malformed rules", s->n);
    if (kb->d.n != nterms)
        return corrupt(sn, "bad section rules: a rule names a term the terms section lacks");
    if (flags & 1)
        rules_mark_settled(kb);
    return LORE_OK;
}

int snapshot_restore(lore_kb *kb, const unsigned char *buf, size_t len, const char *name, int flags,
                     uint64_t *gen)
{
    snap sn;
    memset(&sn, 0, sizeof sn);
    sn.kb = kb, sn.name = name;
    if (kb->d.n != 0 || kb->st.nlive != 0)
        return ctx_fail(&kb->ctx, LORE_ERR_STATE, "%s: a snapshot is restored into an empty kb",
                        name);
    uint32_t nsets = 0;
    int rc = parse(&sn, buf, len, flags);
    if (rc == LORE_OK)
        rc = restore_terms(&sn);
    if (rc == LORE_OK)
        rc = restore_sets(&sn, &nsets);
    if (rc == LORE_OK)
        rc = restore_facts(&sn, nsets);
    if (rc == LORE_OK)
        rc = restore_prefixes(&sn);
    if (rc == LORE_OK)
        rc = restore_rules(&sn);
    if (rc != LORE_OK) {
        snapshot_empty(kb);
        return rc;
    }
    if (gen)
        *gen = sn.gen;
    return LORE_OK;
}

int snapshot_read_file(lore_kb *kb, const char *path, uint64_t *gen, int *missing)
{
    unsigned char *buf;
    size_t len;
    int rc = file_read(kb, path, &buf, &len, missing);
    if (rc != LORE_OK)
        return rc;
    rc = snapshot_restore(kb, buf, len, path, 0, gen);
    file_free(kb, buf, len);
    return rc;
}

uint64_t snapshot_generation(const char *path)
{
    return file_generation(path, SNAP_MAGIC, HEADER_SIZE);
}

/* ------------------------------------------------------------------ */
/* merging a restored kb into another                                 */

typedef struct merge_ctx {
    const store *from;
    const uint32_t *map; /* from's term ids to kb's */
    uint32_t *rows;
    size_t n;
    int count_only;
} merge_ctx;

static int merge_fact(void *ud, const uint32_t t[3], uint32_t meta)
{
    merge_ctx *cx = ud;
    uint32_t one;
    const uint32_t *srcs = &one;
    size_t k = store_meta_sources(cx->from, meta, NULL, 0);
    if (cx->count_only) {
        cx->n += k ? k : 1;
        return 0;
    }
    uint32_t s = cx->map[t[0]], p = cx->map[t[1]], o = cx->map[t[2]];
    uint32_t d = meta & META_DERIVED;
    if (k == 0) {
        uint32_t *r = cx->rows + 4 * cx->n++;
        r[0] = s, r[1] = p, r[2] = o, r[3] = d;
        return 0;
    }
    if (meta & META_MULTI) /* a set: read it in place */
        srcs = cx->from->sets[meta & META_PAYLOAD]->ids;
    else
        store_meta_sources(cx->from, meta, &one, 1);
    for (size_t i = 0; i < k; i++) {
        uint32_t src = srcs[i] ? cx->map[srcs[i]] : 0;
        if (src > META_PAYLOAD)
            return LORE_ERR_LIMIT;
        uint32_t *r = cx->rows + 4 * cx->n++;
        r[0] = s, r[1] = p, r[2] = o, r[3] = d | META_ASSERTED | src;
    }
    return 0;
}

/* Adds from's rules to kb, before its terms are merged (a rule's terms
 * must outlive a failed merge); a rule kb has under the same name must
 * be the same.  *nadded gets how many were added (for taking them back). */
static int merge_rules(lore_kb *kb, lore_kb *from, uint32_t *ids, size_t *nadded)
{
    const char *name, *text;
    int ok;
    *nadded = 0;
    for (size_t i = 0; rules_saveable(from, i, &name, &text, &ok); i++) {
        uint32_t id;
        if (lore_rule_find(kb, name, &id) == LORE_OK) {
            const char *mine = NULL;
            for (size_t k = 0; k < lore_rule_count(kb); k++) {
                lore_rule_info info;
                lore_rule_info_at(kb, k, &info);
                if (info.id == id)
                    mine = info.text;
            }
            if (mine && strcmp(mine, text) == 0)
                continue;
            return ctx_fail(&kb->ctx, LORE_ERR_RULE,
                            "rule %s: the knowledge base has another rule of this name", name);
        }
        int rc = lore_rule_add(kb, text, strlen(text), name, &ids[*nadded]);
        if (rc != LORE_OK)
            return rc;
        (*nadded)++;
    }
    return LORE_OK;
}

int snapshot_merge(lore_kb *kb, lore_kb *from, size_t *added)
{
    size_t nr = lore_rule_count(from), nrules = 0;
    uint32_t *rids = nr ? mem_alloc(&kb->m, nr, sizeof *rids) : NULL;
    if (nr && !rids)
        return ctx_nomem(&kb->ctx);
    int rrc = merge_rules(kb, from, rids, &nrules);
    if (rrc != LORE_OK) {
        char msg[sizeof kb->ctx.err];
        snprintf(msg, sizeof msg, "%s", kb->ctx.err);
        for (size_t i = nrules; i-- > 0;)
            lore_rule_remove(kb, rids[i]);
        mem_free(&kb->m, rids, nr, sizeof *rids);
        return ctx_fail(&kb->ctx, rrc, "%s", msg);
    }
    dict_mark mark = dict_mark_get(&kb->d);
    size_t nmap = from->d.n + 1, nrows = 0;
    merge_ctx cx;
    memset(&cx, 0, sizeof cx);
    cx.from = &from->st;
    uint32_t *map = mem_alloc(&kb->m, nmap, sizeof *map);
    int rc = LORE_OK;
    if (added)
        *added = 0;
    TRY_PTR(map);
    map[0] = 0;
    for (uint32_t id = 1; id < nmap; id++) {
        lore_value v;
        const char *why = NULL;
        dict_get(&from->d, id, &v);
        TRY(dict_intern(&kb->d, &v, &map[id], &why));
    }
    cx.map = map;
    cx.count_only = 1;
    TRY(store_scan(&from->st, merge_fact, &cx));
    nrows = cx.n;
    cx.count_only = 0;
    cx.n = 0;
    if (nrows) {
        cx.rows = mem_alloc(&kb->m, 4 * nrows, sizeof *cx.rows);
        TRY_PTR(cx.rows);
        TRY(store_scan(&from->st, merge_fact, &cx));
    }

cleanup:
    if (rc == LORE_OK) { /* rolls the dictionary back itself on failure */
        rc = journal_merge_rows(kb, mark, cx.rows, nrows, added);
    } else {
        dict_rollback(&kb->d, mark);
        if (rc == LORE_ERR_NOMEM)
            ctx_nomem(&kb->ctx);
        else
            ctx_fail(&kb->ctx, rc, "too many terms or sources");
    }
    mem_free(&kb->m, cx.rows, 4 * nrows, sizeof *cx.rows);
    mem_free(&kb->m, map, nmap, sizeof *map);
    if (rc != LORE_OK) {
        char msg[sizeof kb->ctx.err];
        snprintf(msg, sizeof msg, "%s", kb->ctx.err);
        for (size_t i = nrules; i-- > 0;)
            lore_rule_remove(kb, rids[i]);
        ctx_fail(&kb->ctx, rc, "%s", msg);
    }
    mem_free(&kb->m, rids, nr, sizeof *rids);
    return rc;
}

/* ------------------------------------------------------------------ */
/* the public calls                                                   */

int lore_save(lore_kb *kb, const char *path)
{
    ctx_clear(&kb->ctx);
    if (kb->ctx.busy)
        return ctx_busy(&kb->ctx, "lore_save");
    if (kb->st.in_txn)
        return ctx_fail(&kb->ctx, LORE_ERR_STATE, "lore_save: a transaction is open");
    if (!path || !*path)
        return ctx_fail(&kb->ctx, LORE_ERR_ARG, "lore_save: expected a file name");
    if (journal_owns(kb, path))
        return lore_checkpoint(kb); /* its own file: the journal must follow */
    if (journal_locked_elsewhere(path))
        return ctx_fail(&kb->ctx, LORE_ERR_IO,
                       "save: %s is open in durable mode (by another handle, or by this one "
                       "under another name: checkpoint it instead)",
                       path);
    /* a later generation than the file it replaces and any journal left
     * beside it, so that the journal is not taken for this file's */
    uint64_t gen = snapshot_generation(path), jgen = journal_file_generation(path);
    uint64_t own = journal_generation(kb);
    if (jgen > gen)
        gen = jgen;
    return snapshot_write(kb, path, (gen > own ? gen : own) + 1);
}

void snapshot_empty(lore_kb *kb)
{
    rules_free(kb); /* rules read back with the facts name their terms */
    uint64_t version = kb->st.version, epoch = kb->d.epoch;
    size_t tail_max = kb->st.tail_max, pend_min = kb->st.pend_min;
    store_free(&kb->st);
    dict_free(&kb->d);
    dict_init(&kb->d, &kb->m);
    store_init(&kb->st, &kb->m);
    kb->st.version = version + 1;
    kb->d.epoch = epoch + 1; /* terms were taken back: caches of ids are stale */
    kb->st.tail_max = tail_max, kb->st.pend_min = pend_min;
}
