/* dict.c - interning terms: a string arena, a term table and a hash index;
 * and the value constructors of the API (lore_symbol ... lore_check_value). */
#include "dict.h"

#include <math.h>
#include <string.h>

#include "date.h"
#include "natcmp.h"

struct chunk {
    chunk *next;
    size_t cap, used;
    char data[];
};

enum { CHUNK_SIZE = 1 << 16, MAX_STRING = 0x7fffffff };

void dict_init(dict *d, const mem *m)
{
    memset(d, 0, sizeof *d);
    d->m = *m;
}

static void free_chunks(dict *d, chunk *stop)
{
    while (d->chunks != stop) {
        chunk *c = d->chunks;
        d->chunks = c->next;
        mem_free(&d->m, c, 1, sizeof *c + c->cap);
    }
}

void dict_free(dict *d)
{
    if (!d)
        return;
    free_chunks(d, NULL);
    mem_free(&d->m, d->terms, d->cap, sizeof *d->terms);
    mem_free(&d->m, d->slots, d->nslots, sizeof *d->slots);
    for (size_t i = 1; i < d->nlangs; i++)
        mem_free(&d->m, d->langs[i], strlen(d->langs[i]) + 1, 1);
    mem_free(&d->m, d->langs, d->langcap, sizeof *d->langs);
    memset(d, 0, sizeof *d);
}

/* ---- validation ---- */

size_t dict_utf8_span(const char *text, size_t n)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            if (c == 0)
                return i;
            i++;
            continue;
        }
        size_t k;
        unsigned min;
        if ((c & 0xe0) == 0xc0) {
            k = 1, min = 0x80, c &= 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            k = 2, min = 0x800, c &= 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            k = 3, min = 0x10000, c &= 0x07;
        } else {
            return i;
        }
        if (i + k >= n)
            return i;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return i;
            c = c << 6 | (s[i + j] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return i;
        i += k + 1;
    }
    return n;
}

static int valid_utf8(const unsigned char *s, size_t n)
{
    return dict_utf8_span((const char *)s, n) == n;
}

/* A BCP 47-shaped tag: alpha{1,8} ("-" alnum{1,8})*. */
static int valid_lang(const char *s, size_t n)
{
    size_t run = 0, i;
    if (n == 0)
        return 0;
    for (i = 0; i < n; i++) {
        char c = s[i];
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        int digit = c >= '0' && c <= '9';
        if (c == '-') {
            if (run == 0)
                return 0;
            run = 0;
        } else if (alpha || (digit && memchr(s, '-', i) != NULL)) {
            if (++run > 8)
                return 0;
        } else {
            return 0;
        }
    }
    return run > 0;
}

/* A normalised copy of v in *t (strings still borrowed), or an error. */
static int normalise(const lore_value *v, lore_value *t, const char **why)
{
    *t = *v;
    switch (v->kind) {
    case LORE_SYMBOL:
    case LORE_TEXT:
    case LORE_DATE:
        if (v->str == NULL && v->len != 0) {
            *why = "a string";
            return LORE_ERR_ARG;
        }
        if (v->len > MAX_STRING) {
            *why = "a string shorter than 2^31 bytes";
            return LORE_ERR_ARG;
        }
        if (v->kind == LORE_TEXT && v->lang != NULL && v->langlen > 0) {
            if (!valid_lang(v->lang, v->langlen)) {
                *why = "a language tag like fr or en-GB";
                return LORE_ERR_ARG;
            }
        } else {
            t->lang = NULL;
            t->langlen = 0;
        }
        if (v->kind != LORE_TEXT) {
            t->lang = NULL;
            t->langlen = 0;
        }
        t->i = 0;
        t->n = 0;
        return LORE_OK;
    case LORE_INTEGER:
        t->str = NULL, t->len = 0, t->n = 0;
        return LORE_OK;
    case LORE_BOOLEAN:
        t->str = NULL, t->len = 0, t->n = 0;
        t->i = v->i != 0;
        return LORE_OK;
    case LORE_NUMBER:
        if (isnan(v->n)) {
            *why = "a number that is not NaN";
            return LORE_ERR_ARG;
        }
        t->str = NULL, t->len = 0, t->i = 0;
        if (t->n == 0)
            t->n = 0.0; /* fold -0.0 */
        return LORE_OK;
    }
    *why = "a known term kind";
    return LORE_ERR_ARG;
}

/* Checks what only needs checking before a term is stored. */
static int validate_new(const lore_value *t, const char **why)
{
    if (t->kind == LORE_SYMBOL || t->kind == LORE_TEXT) {
        if (!valid_utf8((const unsigned char *)t->str, t->len)) {
            *why = "valid UTF-8 without NUL bytes";
            return LORE_ERR_ARG;
        }
    } else if (t->kind == LORE_DATE) {
        date_key k;
        if (date_parse(t->str, t->len, &k, why) != 0)
            return LORE_ERR_ARG;
    }
    return LORE_OK;
}

/* ---- hashing and probing ---- */

static int lang_eq(const dict *d, uint16_t lang, const lore_value *t)
{
    if (lang == 0)
        return t->langlen == 0;
    const char *l = d->langs[lang];
    if (strlen(l) != t->langlen)
        return 0;
    for (size_t i = 0; i < t->langlen; i++) {
        char c = t->lang[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (l[i] != c)
            return 0;
    }
    return 1;
}

static uint32_t hash_value(const lore_value *t)
{
    uint64_t seed = (uint64_t)t->kind * 0x9e3779b97f4a7c15ull;
    uint64_t h;
    switch (t->kind) {
    case LORE_INTEGER:
    case LORE_BOOLEAN:
        h = hash_mix((uint64_t)t->i ^ seed);
        break;
    case LORE_NUMBER: {
        uint64_t bits;
        memcpy(&bits, &t->n, 8);
        h = hash_mix(bits ^ seed);
        break;
    }
    default:
        h = hash_bytes(t->str, t->len, seed);
        if (t->langlen) {
            /* Tags compare case-insensitively: hash their lowercase. */
            char buf[64];
            size_t n = t->langlen < sizeof buf ? t->langlen : sizeof buf;
            for (size_t i = 0; i < n; i++) {
                char c = t->lang[i];
                buf[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
            }
            h ^= hash_bytes(buf, n, 0x51ed);
        }
    }
    uint32_t h32 = (uint32_t)h;
    return h32 ? h32 : 1; /* 0 marks an empty slot */
}

static int term_eq(const dict *d, const term *x, const lore_value *t)
{
    if (x->kind != t->kind)
        return 0;
    switch (t->kind) {
    case LORE_INTEGER:
    case LORE_BOOLEAN:
        return x->u.i == t->i;
    case LORE_NUMBER:
        return memcmp(&x->u.n, &t->n, sizeof t->n) == 0;
    default:
        return x->len == t->len && memcmp(x->u.str, t->str, t->len) == 0 &&
               lang_eq(d, x->lang, t);
    }
}

/* The slot holding t, or the empty slot where it would go. */
static size_t probe(const dict *d, const lore_value *t, uint32_t h)
{
    size_t mask = d->nslots - 1, i = h & mask;
    for (;;) {
        uint32_t id = d->slots[i].id;
        if (id == 0 || (d->slots[i].hash == h && term_eq(d, &d->terms[id], t)))
            return i;
        i = (i + 1) & mask;
    }
}

static int rehash(dict *d, size_t nslots)
{
    dslot *slots = mem_calloc(&d->m, nslots, sizeof *slots);
    if (!slots)
        return LORE_ERR_NOMEM;
    size_t mask = nslots - 1;
    for (size_t i = 0; i < d->nslots; i++) {
        if (d->slots[i].id == 0)
            continue;
        size_t j = d->slots[i].hash & mask;
        while (slots[j].id != 0)
            j = (j + 1) & mask;
        slots[j] = d->slots[i];
    }
    mem_free(&d->m, d->slots, d->nslots, sizeof *d->slots);
    d->slots = slots;
    d->nslots = nslots;
    return LORE_OK;
}

/* ---- the arena and the language table ---- */

static const char *arena_copy(dict *d, const char *s, size_t n)
{
    chunk *c = d->chunks;
    if (c == NULL || c->cap - c->used < n + 1) {
        size_t cap = n + 1 > CHUNK_SIZE ? n + 1 : CHUNK_SIZE;
        chunk *nc = mem_alloc(&d->m, 1, sizeof *nc + cap);
        if (nc == NULL)
            return NULL;
        nc->next = d->chunks;
        nc->cap = cap;
        nc->used = 0;
        d->chunks = nc;
        c = nc;
    }
    char *p = c->data + c->used;
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    c->used += n + 1;
    return p;
}

static int lang_id(dict *d, const lore_value *t, uint16_t *out)
{
    if (t->langlen == 0) {
        *out = 0;
        return LORE_OK;
    }
    for (size_t i = 1; i < d->nlangs; i++) {
        if (lang_eq(d, (uint16_t)i, t)) {
            *out = (uint16_t)i;
            return LORE_OK;
        }
    }
    if (d->nlangs >= 0xffff)
        return LORE_ERR_LIMIT;
    if (mem_reserve(&d->m, (void **)&d->langs, &d->langcap, d->nlangs ? d->nlangs + 1 : 2,
                    sizeof *d->langs) != 0)
        return LORE_ERR_NOMEM;
    if (d->nlangs == 0)
        d->nlangs = 1;
    char *l = mem_alloc(&d->m, t->langlen + 1, 1);
    if (l == NULL)
        return LORE_ERR_NOMEM;
    for (size_t i = 0; i < t->langlen; i++) {
        char c = t->lang[i];
        l[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    l[t->langlen] = '\0';
    d->langs[d->nlangs] = l;
    *out = (uint16_t)d->nlangs++;
    return LORE_OK;
}

/* ---- public operations ---- */

int dict_check(const lore_value *v, const char **why)
{
    lore_value t;
    int rc = normalise(v, &t, why);
    return rc != LORE_OK ? rc : validate_new(&t, why);
}

int dict_lookup(const dict *d, const lore_value *v, uint32_t *id, const char **why)
{
    lore_value t;
    int rc = normalise(v, &t, why);
    if (rc != LORE_OK)
        return rc;
    if (d->n == 0)
        return LORE_ERR_NOTFOUND;
    size_t i = probe(d, &t, hash_value(&t));
    if (d->slots[i].id == 0)
        return LORE_ERR_NOTFOUND;
    *id = d->slots[i].id;
    return LORE_OK;
}

int dict_intern(dict *d, const lore_value *v, uint32_t *id, const char **why)
{
    lore_value t;
    int rc = normalise(v, &t, why);
    if (rc != LORE_OK)
        return rc;
    uint32_t h = hash_value(&t);
    if (d->nslots) {
        size_t i = probe(d, &t, h);
        if (d->slots[i].id != 0) {
            *id = d->slots[i].id;
            return LORE_OK;
        }
    }
    rc = validate_new(&t, why);
    if (rc != LORE_OK)
        return rc;
    if (d->n >= 0xfffffff0u) {
        *why = "fewer than 2^32 terms";
        return LORE_ERR_LIMIT;
    }
    /* Reserve everything before changing anything. */
    if ((d->n + 2) * 10 > d->nslots * 7 &&
        rehash(d, d->nslots ? d->nslots * 2 : 64) != LORE_OK)
        return LORE_ERR_NOMEM;
    if (mem_reserve(&d->m, (void **)&d->terms, &d->cap, d->n + 2, sizeof *d->terms) != 0)
        return LORE_ERR_NOMEM;
    term x;
    memset(&x, 0, sizeof x);
    x.kind = (uint8_t)t.kind;
    if (t.kind == LORE_INTEGER || t.kind == LORE_BOOLEAN) {
        x.u.i = t.i;
    } else if (t.kind == LORE_NUMBER) {
        x.u.n = t.n;
    } else {
        size_t nlangs = d->nlangs;
        rc = lang_id(d, &t, &x.lang);
        if (rc != LORE_OK) {
            *why = rc == LORE_ERR_LIMIT ? "fewer than 65535 language tags" : NULL;
            return rc;
        }
        x.u.str = arena_copy(d, t.str, t.len);
        if (x.u.str == NULL) {
            if (d->nlangs != nlangs) { /* undo a tag made just now */
                d->nlangs--;
                mem_free(&d->m, d->langs[d->nlangs], strlen(d->langs[d->nlangs]) + 1, 1);
            }
            return LORE_ERR_NOMEM;
        }
        x.len = (uint32_t)t.len;
    }
    uint32_t nid = (uint32_t)++d->n;
    d->terms[nid] = x;
    size_t i = probe(d, &t, h);
    d->slots[i].id = nid;
    d->slots[i].hash = h;
    *id = nid;
    return LORE_OK;
}

void dict_prefetch(const dict *d, const lore_value *v)
{
    lore_value t;
    const char *why;
    if (d->nslots == 0 || normalise(v, &t, &why) != LORE_OK)
        return;
    size_t i = hash_value(&t) & (d->nslots - 1);
#if defined(__GNUC__)
    __builtin_prefetch(&d->slots[i]);
#endif
}

int dict_reserve(dict *d, size_t n)
{
    if (n > 0xfffffff0u)
        return LORE_ERR_NOMEM;
    size_t need = d->n + n + 2, nslots = d->nslots ? d->nslots : 64;
    while (need * 10 > nslots * 7)
        nslots *= 2;
    if (nslots != d->nslots && rehash(d, nslots) != LORE_OK)
        return LORE_ERR_NOMEM;
    if (mem_reserve(&d->m, (void **)&d->terms, &d->cap, need, sizeof *d->terms) != 0)
        return LORE_ERR_NOMEM;
    return LORE_OK;
}

void dict_get(const dict *d, uint32_t id, lore_value *v)
{
    const term *x = &d->terms[id];
    memset(v, 0, sizeof *v);
    v->kind = (lore_kind)x->kind;
    switch (x->kind) {
    case LORE_INTEGER:
    case LORE_BOOLEAN:
        v->i = x->u.i;
        break;
    case LORE_NUMBER:
        v->n = x->u.n;
        break;
    default:
        v->str = x->u.str;
        v->len = x->len;
        if (x->lang) {
            v->lang = d->langs[x->lang];
            v->langlen = strlen(v->lang);
        }
    }
}

dict_mark dict_mark_get(const dict *d)
{
    dict_mark mk = {d->n, d->nlangs, d->chunks, d->chunks ? d->chunks->used : 0};
    return mk;
}

/* Removes slot i by backward shifting (linear probing keeps no tombstones). */
static void slot_delete(dict *d, size_t i)
{
    size_t mask = d->nslots - 1, j = i;
    d->slots[i].id = 0;
    for (;;) {
        j = (j + 1) & mask;
        if (d->slots[j].id == 0)
            return;
        size_t home = d->slots[j].hash & mask;
        /* Move j back to i unless its home lies cyclically in (i, j]. */
        int stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!stays) {
            d->slots[i] = d->slots[j];
            d->slots[j].id = 0;
            i = j;
        }
    }
}

void dict_rollback(dict *d, dict_mark mk)
{
    if (d->n > mk.n)
        d->epoch++;
    while (d->n > mk.n) {
        lore_value t;
        dict_get(d, (uint32_t)d->n, &t);
        size_t i = probe(d, &t, hash_value(&t));
        slot_delete(d, i);
        d->n--;
    }
    while (d->nlangs > mk.nlangs && d->nlangs > 1) {
        d->nlangs--;
        mem_free(&d->m, d->langs[d->nlangs], strlen(d->langs[d->nlangs]) + 1, 1);
    }
    free_chunks(d, mk.chunk);
    if (d->chunks)
        d->chunks->used = mk.used;
}

/* ---- ordering ---- */

static int rank(uint8_t kind)
{
    switch (kind) {
    case LORE_BOOLEAN: return 0;
    case LORE_INTEGER:
    case LORE_NUMBER: return 1;
    case LORE_DATE: return 2;
    case LORE_TEXT: return 3;
    default: return 4;
    }
}

/* Exact comparison of an int64 with a double. */
static int cmp_int_num(int64_t i, double n)
{
    if (n >= 9223372036854775808.0)
        return -1;
    if (n < -9223372036854775808.0)
        return 1;
    double f = floor(n);
    int64_t fi = (int64_t)f;
    if (i != fi)
        return i < fi ? -1 : 1;
    return n > f ? -1 : 0;
}

static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c != 0)
        return c < 0 ? -1 : 1;
    return an < bn ? -1 : an > bn;
}

int dict_compare(const dict *d, uint32_t a, uint32_t b)
{
    int va = dict_valid(d, a), vb = dict_valid(d, b);
    if (!va || !vb)
        return va - vb ? (va ? -1 : 1) : (a < b ? -1 : a > b);
    if (a == b)
        return 0;
    const term *x = &d->terms[a], *y = &d->terms[b];
    int rx = rank(x->kind), ry = rank(y->kind);
    if (rx != ry)
        return rx < ry ? -1 : 1;
    int c = 0;
    switch (rx) {
    case 0:
        c = (x->u.i > y->u.i) - (x->u.i < y->u.i);
        break;
    case 1:
        if (x->kind == LORE_INTEGER && y->kind == LORE_INTEGER)
            c = (x->u.i > y->u.i) - (x->u.i < y->u.i);
        else if (x->kind == LORE_NUMBER && y->kind == LORE_NUMBER)
            c = (x->u.n > y->u.n) - (x->u.n < y->u.n);
        else if (x->kind == LORE_INTEGER)
            c = cmp_int_num(x->u.i, y->u.n);
        else
            c = -cmp_int_num(y->u.i, x->u.n);
        if (c == 0) /* 2 and 2.0: the integer first */
            c = x->kind == LORE_INTEGER ? -1 : 1;
        break;
    case 2: {
        date_key kx, ky;
        const char *why;
        date_parse(x->u.str, x->len, &kx, &why);
        date_parse(y->u.str, y->len, &ky, &why);
        c = date_cmp(kx, ky);
        if (c == 0)
            c = cmp_bytes(x->u.str, x->len, y->u.str, y->len);
        break;
    }
    default:
        /* symbols in their natural order (press:s9 before press:s10) */
        c = rx == 4 ? natcmp(x->u.str, x->len, y->u.str, y->len)
                    : cmp_bytes(x->u.str, x->len, y->u.str, y->len);
        if (c == 0 && rx == 3) {
            const char *lx = x->lang ? d->langs[x->lang] : "";
            const char *ly = y->lang ? d->langs[y->lang] : "";
            c = cmp_bytes(lx, strlen(lx), ly, strlen(ly));
        }
    }
    return c;
}

size_t dict_bytes(const dict *d)
{
    size_t b = d->cap * sizeof *d->terms + d->nslots * sizeof *d->slots;
    for (const chunk *c = d->chunks; c; c = c->next)
        b += sizeof *c + c->cap;
    return b;
}

/* ---- values as the API hands them in (lore.h) ---- */

lore_value lore_symbol(const char *name)
{
    lore_value v = {LORE_SYMBOL, name, name ? strlen(name) : 0, NULL, 0, 0, 0};
    return v;
}

lore_value lore_text(const char *str, const char *lang)
{
    lore_value v = {LORE_TEXT, str, str ? strlen(str) : 0, lang, lang ? strlen(lang) : 0, 0, 0};
    return v;
}

lore_value lore_integer(int64_t i)
{
    lore_value v = {LORE_INTEGER, NULL, 0, NULL, 0, i, 0};
    return v;
}

lore_value lore_number(double n)
{
    lore_value v = {LORE_NUMBER, NULL, 0, NULL, 0, 0, n};
    return v;
}

lore_value lore_boolean(int b)
{
    lore_value v = {LORE_BOOLEAN, NULL, 0, NULL, 0, b != 0, 0};
    return v;
}

lore_value lore_date(const char *iso)
{
    lore_value v = {LORE_DATE, iso, iso ? strlen(iso) : 0, NULL, 0, 0, 0};
    return v;
}

int lore_check_value(const lore_value *v, const char **why)
{
    const char *w = NULL;
    int rc = dict_check(v, &w);
    if (why)
        *why = w;
    return rc;
}
