/* rdfterm.c - the RDF <-> lore term mapping and its codecs (see rdfterm.h
 * and the mapping table in README.md). */
#include "rdfterm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "dict.h"
#include "prefix.h"

/* ------------------------------------------------------------------ */
/* buffers                                                            */

void sbuf_init(sbuf *b, const mem *m)
{
    b->m = m;
    b->p = NULL;
    b->n = b->cap = 0;
}

void sbuf_free(sbuf *b)
{
    mem_free(b->m, b->p, b->cap, 1);
    b->p = NULL;
    b->n = b->cap = 0;
}

int sbuf_reserve(sbuf *b, size_t extra)
{
    if (extra > SIZE_MAX / 2 - b->n)
        return LORE_ERR_NOMEM;
    size_t need = b->n + extra + 1;
    if (need <= b->cap)
        return LORE_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    void *p = b->p;
    if (mem_resize(b->m, &p, b->cap, cap, 1) != 0)
        return LORE_ERR_NOMEM;
    b->p = p;
    b->cap = cap;
    return LORE_OK;
}

int sbuf_put(sbuf *b, const void *s, size_t n)
{
    if (sbuf_reserve(b, n) != LORE_OK)
        return LORE_ERR_NOMEM;
    if (n)
        memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
    return LORE_OK;
}

int sbuf_putc(sbuf *b, char c)
{
    return sbuf_put(b, &c, 1);
}

static int sbuf_puts(sbuf *b, const char *s)
{
    return sbuf_put(b, s, strlen(s));
}

/* ------------------------------------------------------------------ */
/* codecs                                                             */

static int pct_plain(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80)
        return 1;
    return c && strchr("-._~!$&'()*+,;=:@/", c) != NULL;
}

int rdf_pct_encode(sbuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    if (sbuf_reserve(b, 3 * n) != LORE_OK)
        return LORE_ERR_NOMEM;
    char *d = b->p + b->n;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (pct_plain(c)) {
            *d++ = (char)c;
        } else {
            *d++ = '%';
            *d++ = hex[c >> 4];
            *d++ = hex[c & 15];
        }
    }
    b->n = (size_t)(d - b->p);
    b->p[b->n] = '\0';
    return LORE_OK;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes %XX escapes into b: LORE_OK, 1 for a broken escape, NOMEM. */
static int pct_decode(sbuf *b, const char *s, size_t n)
{
    if (sbuf_reserve(b, n) != LORE_OK)
        return LORE_ERR_NOMEM;
    char *d = b->p + b->n;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            *d++ = s[i];
            continue;
        }
        if (i + 2 >= n)
            return 1;
        int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
        if (hi < 0 || lo < 0)
            return 1;
        *d++ = (char)(hi << 4 | lo);
        i += 2;
    }
    b->n = (size_t)(d - b->p);
    b->p[b->n] = '\0';
    return LORE_OK;
}

int rdf_nt_escape(sbuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    if (sbuf_reserve(b, 6 * n) != LORE_OK)
        return LORE_ERR_NOMEM;
    char *d = b->p + b->n;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char e = 0;
        switch (c) {
        case '\b':
            e = 'b';
            break;
        case '\t':
            e = 't';
            break;
        case '\n':
            e = 'n';
            break;
        case '\f':
            e = 'f';
            break;
        case '\r':
            e = 'r';
            break;
        case '"':
            e = '"';
            break;
        case '\\':
            e = '\\';
            break;
        default:
            break;
        }
        if (e) {
            *d++ = '\\';
            *d++ = e;
        } else if (c < 0x20 || c == 0x7f) {
            memcpy(d, "\\u00", 4);
            d[4] = hex[c >> 4];
            d[5] = hex[c & 15];
            d += 6;
        } else {
            *d++ = (char)c;
        }
    }
    b->n = (size_t)(d - b->p);
    b->p[b->n] = '\0';
    return LORE_OK;
}

/* Appends code point c as UTF-8; -1 if it is not a scalar value. */
static int put_utf8(sbuf *b, unsigned long c)
{
    char u[4];
    size_t k;
    if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return -1;
    if (c < 0x80) {
        u[0] = (char)c, k = 1;
    } else if (c < 0x800) {
        u[0] = (char)(0xc0 | c >> 6), u[1] = (char)(0x80 | (c & 0x3f)), k = 2;
    } else if (c < 0x10000) {
        u[0] = (char)(0xe0 | c >> 12), u[1] = (char)(0x80 | (c >> 6 & 0x3f));
        u[2] = (char)(0x80 | (c & 0x3f)), k = 3;
    } else {
        u[0] = (char)(0xf0 | c >> 18), u[1] = (char)(0x80 | (c >> 12 & 0x3f));
        u[2] = (char)(0x80 | (c >> 6 & 0x3f)), u[3] = (char)(0x80 | (c & 0x3f)), k = 4;
    }
    return sbuf_put(b, u, k) == LORE_OK ? 0 : -1;
}

static int lang_shape(const char *s, size_t n)
{
    /* LANGTAG: [a-zA-Z]+ ('-' [a-zA-Z0-9]+)* */
    size_t i = 0, run = 0;
    int first = 1;
    if (n == 0)
        return 0;
    for (; i < n; i++) {
        char c = s[i];
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        int digit = c >= '0' && c <= '9';
        if (c == '-') {
            if (run == 0)
                return 0;
            run = 0, first = 0;
        } else if (alpha || (digit && !first)) {
            run++;
        } else {
            return 0;
        }
    }
    return run > 0;
}

int rdf_nt_literal_parse(const char *s, size_t n, sbuf *lex, rdf_node *node)
{
    if (n < 2 || s[0] != '"')
        return -1;
    sbuf_reset(lex);
    size_t i = 1;
    for (;;) {
        if (i >= n)
            return -1;
        char c = s[i];
        if (c == '"')
            break;
        if (c != '\\') {
            if (c == '\n' || c == '\r')
                return -1;
            if (sbuf_putc(lex, c) != LORE_OK)
                return -1;
            i++;
            continue;
        }
        if (i + 1 >= n)
            return -1;
        char e = s[i + 1], r = 0;
        switch (e) {
        case 'b':
            r = '\b';
            break;
        case 't':
            r = '\t';
            break;
        case 'n':
            r = '\n';
            break;
        case 'f':
            r = '\f';
            break;
        case 'r':
            r = '\r';
            break;
        case '"':
            r = '"';
            break;
        case '\'':
            r = '\'';
            break;
        case '\\':
            r = '\\';
            break;
        default:
            break;
        }
        if (r) {
            if (sbuf_putc(lex, r) != LORE_OK)
                return -1;
            i += 2;
            continue;
        }
        size_t k = e == 'u' ? 4 : e == 'U' ? 8 : 0;
        if (k == 0 || i + 2 + k > n)
            return -1;
        unsigned long cp = 0;
        for (size_t j = 0; j < k; j++) {
            int h = hexval(s[i + 2 + j]);
            if (h < 0)
                return -1;
            cp = cp << 4 | (unsigned long)h;
        }
        if (put_utf8(lex, cp) != 0)
            return -1;
        i += 2 + k;
    }
    memset(node, 0, sizeof *node);
    node->type = RDF_LITERAL;
    node->str = lex->p ? lex->p : "";
    node->len = lex->n;
    i++; /* closing quote */
    if (i == n)
        return 0;
    if (s[i] == '@') {
        if (!lang_shape(s + i + 1, n - i - 1))
            return -1;
        node->lang = s + i + 1;
        node->langlen = n - i - 1;
        return 0;
    }
    if (n - i >= 4 && s[i] == '^' && s[i + 1] == '^' && s[i + 2] == '<' && s[n - 1] == '>') {
        node->dt = s + i + 3;
        node->dtlen = n - i - 4;
        return rdf_iri_ok(node->dt, node->dtlen) ? 0 : -1;
    }
    return -1;
}

int rdf_iri_ok(const char *iri, size_t n)
{
    size_t i = 0;
    if (n == 0 || !((iri[0] >= 'a' && iri[0] <= 'z') || (iri[0] >= 'A' && iri[0] <= 'Z')))
        return 0;
    while (i < n && iri[i] != ':') {
        char c = iri[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '-' || c == '.'))
            return 0;
        i++;
    }
    if (i == n)
        return 0;
    for (i = 0; i < n; i++)
        if (!iri_char((unsigned char)iri[i]))
            return 0;
    /* a broken %-escape makes a strict reader balk */
    for (i = 0; i < n; i++)
        if (iri[i] == '%' && (i + 2 >= n || hexval(iri[i + 1]) < 0 || hexval(iri[i + 2]) < 0))
            return 0;
    return 1;
}

int rdf_label_ok(const char *s, size_t n)
{
    if (n == 0 || s[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || (i > 0 && (c == '-' || c == '.'));
        if (!ok)
            return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------ */
/* literals -> values                                                 */

static int xsd_is(const rdf_node *n, const char *local)
{
    size_t k = sizeof NS_XSD - 1, l = strlen(local);
    return n->dtlen == k + l && memcmp(n->dt, NS_XSD, k) == 0 && memcmp(n->dt + k, local, l) == 0;
}

/* [+-]?[0-9]+ into *out; 0 ok, 1 out of int64, -1 not an integer. */
static int parse_integer(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    if (i == n)
        return -1;
    uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    int over = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (lim - d) / 10)
            over = 1;
        else
            v = v * 10 + d;
    }
    if (over)
        return 1;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

/* Integer datatypes of XSD whose values fit an int64, with their range. */
static const struct {
    const char *name;
    int64_t lo, hi;
} int_types[] = {
    {"integer", INT64_MIN, INT64_MAX},  {"long", INT64_MIN, INT64_MAX},
    {"int", INT32_MIN, INT32_MAX},      {"short", INT16_MIN, INT16_MAX},
    {"byte", INT8_MIN, INT8_MAX},       {"nonNegativeInteger", 0, INT64_MAX},
    {"positiveInteger", 1, INT64_MAX},  {"nonPositiveInteger", INT64_MIN, 0},
    {"negativeInteger", INT64_MIN, -1}, {"unsignedLong", 0, INT64_MAX},
    {"unsignedInt", 0, UINT32_MAX},     {"unsignedShort", 0, UINT16_MAX},
    {"unsignedByte", 0, UINT8_MAX},
};

/* The XSD double/float/decimal lexical forms, checked before strtod (which
 * accepts more).  `decimal` forbids exponents and INF/NaN.  Sets *sig to
 * the number of significant digits. */
static int number_shape(const char *s, size_t n, int decimal, int *sig)
{
    size_t i = 0, digits = 0, lead = 1, zeros = 0;
    *sig = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    if (!decimal && n - i == 3 && memcmp(s + i, "INF", 3) == 0)
        return 1;
    int seen_dot = 0;
    for (; i < n; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            digits++;
            if (c == '0' && lead)
                continue;
            lead = 0;
            if (c == '0') {
                zeros++;
            } else {
                *sig += (int)zeros + 1;
                zeros = 0;
            }
        } else if (c == '.' && !seen_dot) {
            seen_dot = 1;
        } else {
            break;
        }
    }
    if (digits == 0)
        return 0;
    if (i == n)
        return 1;
    if (decimal || (s[i] != 'e' && s[i] != 'E'))
        return 0;
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    if (i == n)
        return 0;
    for (; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int parse_double(const char *s, size_t n, double *out)
{
    char buf[64], *end;
    if (n >= sizeof buf) {
        /* long forms are rare: a heap copy would need an allocator, and
         * every digit past the 17th cannot change a double much; but to
         * stay exact such literals are left verbatim */
        return -1;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (strcmp(buf, "INF") == 0 || strcmp(buf, "+INF") == 0) {
        *out = HUGE_VAL;
        return 0;
    }
    if (strcmp(buf, "-INF") == 0) {
        *out = -HUGE_VAL;
        return 0;
    }
    *out = strtod(buf, &end);
    return *end == '\0' ? 0 : -1;
}

int rdf_literal_verbatim(const rdf_node *n, lore_value *v, sbuf *b)
{
    sbuf_reset(b);
    if (sbuf_putc(b, '"') || rdf_nt_escape(b, n->str, n->len) || sbuf_putc(b, '"'))
        return LORE_ERR_NOMEM;
    if (n->lang && n->langlen) {
        if (sbuf_putc(b, '@') || sbuf_put(b, n->lang, n->langlen))
            return LORE_ERR_NOMEM;
    } else if (n->dt && !xsd_is(n, "string")) {
        if (sbuf_put(b, "^^<", 3) || sbuf_put(b, n->dt, n->dtlen) || sbuf_putc(b, '>'))
            return LORE_ERR_NOMEM;
    }
    memset(v, 0, sizeof *v);
    v->kind = LORE_SYMBOL;
    v->str = b->p;
    v->len = b->n;
    return LORE_OK;
}

int rdf_literal_value(const rdf_node *n, lore_value *v, sbuf *scratch)
{
    memset(v, 0, sizeof *v);
    if (n->lang && n->langlen) {
        v->kind = LORE_TEXT;
        v->str = n->str, v->len = n->len;
        v->lang = n->lang, v->langlen = n->langlen;
        return LORE_OK;
    }
    if (!n->dt || xsd_is(n, "string")) {
        v->kind = LORE_TEXT;
        v->str = n->str, v->len = n->len;
        return LORE_OK;
    }
    size_t k = sizeof NS_XSD - 1;
    if (n->dtlen > k && memcmp(n->dt, NS_XSD, k) == 0) {
        const char *local = n->dt + k;
        size_t ll = n->dtlen - k;
        for (size_t t = 0; t < sizeof int_types / sizeof int_types[0]; t++) {
            if (strlen(int_types[t].name) != ll || memcmp(int_types[t].name, local, ll) != 0)
                continue;
            int64_t i;
            if (parse_integer(n->str, n->len, &i) == 0 && i >= int_types[t].lo &&
                i <= int_types[t].hi) {
                v->kind = LORE_INTEGER;
                v->i = i;
                return LORE_OK;
            }
            return rdf_literal_verbatim(n, v, scratch);
        }
        int dec = xsd_is(n, "decimal"), sig;
        if (dec || xsd_is(n, "double") || xsd_is(n, "float")) {
            double d;
            /* a decimal with more digits than a double keeps stays verbatim */
            if (number_shape(n->str, n->len, dec, &sig) && (!dec || sig <= 15) &&
                parse_double(n->str, n->len, &d) == 0 && (!dec || isfinite(d))) {
                v->kind = LORE_NUMBER;
                v->n = d;
                return LORE_OK;
            }
            return rdf_literal_verbatim(n, v, scratch);
        }
        if (xsd_is(n, "boolean")) {
            int b = -1;
            if ((n->len == 4 && memcmp(n->str, "true", 4) == 0) ||
                (n->len == 1 && n->str[0] == '1'))
                b = 1;
            else if ((n->len == 5 && memcmp(n->str, "false", 5) == 0) ||
                     (n->len == 1 && n->str[0] == '0'))
                b = 0;
            if (b < 0)
                return rdf_literal_verbatim(n, v, scratch);
            v->kind = LORE_BOOLEAN;
            v->i = b;
            return LORE_OK;
        }
        int shape_ok = 0;
        if (xsd_is(n, "date"))
            shape_ok = n->len == 10;
        else if (xsd_is(n, "dateTime"))
            shape_ok = n->len > 10 && n->str[10] == 'T';
        else if (xsd_is(n, "gYear"))
            shape_ok = n->len == 4;
        else if (xsd_is(n, "gYearMonth"))
            shape_ok = n->len == 7;
        if (shape_ok) {
            date_key dk;
            const char *why;
            if (date_parse(n->str, n->len, &dk, &why) == 0) {
                v->kind = LORE_DATE;
                v->str = n->str, v->len = n->len;
                return LORE_OK;
            }
        }
    }
    return rdf_literal_verbatim(n, v, scratch);
}

/* 1 if s[0..n) is valid UTF-8 without NUL (what a symbol may hold). */
static int utf8_ok(const char *s, size_t n)
{
    lore_value v = {LORE_SYMBOL, s, n, NULL, 0, 0, 0};
    const char *why;
    return dict_check(&v, &why) == LORE_OK;
}

int rdf_iri_value(const char *iri, size_t n, lore_value *v, sbuf *b)
{
    size_t k = sizeof URN_LORE - 1, kl = sizeof URN_LORE_LITERAL - 1;
    memset(v, 0, sizeof *v);
    v->kind = LORE_SYMBOL;
    sbuf_reset(b);
    if (n >= k && memcmp(iri, URN_LORE, k) == 0) {
        int rc = pct_decode(b, iri + k, n - k);
        if (rc == LORE_ERR_NOMEM)
            return rc;
        if (rc == LORE_OK && utf8_ok(b->p, b->n)) {
            v->str = b->p, v->len = b->n;
            return LORE_OK;
        }
    } else if (n >= kl && memcmp(iri, URN_LORE_LITERAL, kl) == 0) {
        int rc = pct_decode(b, iri + kl, n - kl);
        if (rc == LORE_ERR_NOMEM)
            return rc;
        if (rc == LORE_OK) {
            /* the decoded form is parsed from b, unescaped into lex, and
             * mapped into b2: three buffers, made here */
            sbuf lex, out;
            sbuf_init(&lex, b->m);
            sbuf_init(&out, b->m);
            rdf_node node;
            lore_value lv;
            int ok = rdf_nt_literal_parse(b->p, b->n, &lex, &node) == 0 &&
                     rdf_literal_value(&node, &lv, &out) == LORE_OK;
            if (ok) {
                /* copy the value's strings back into b, which outlives this */
                size_t sl = lv.str ? lv.len : 0, gl = lv.lang ? lv.langlen : 0;
                char *tmp = NULL;
                if (sl + gl > 0) {
                    tmp = mem_alloc(b->m, sl + gl, 1);
                    if (!tmp) {
                        sbuf_free(&lex);
                        sbuf_free(&out);
                        return LORE_ERR_NOMEM;
                    }
                    if (sl)
                        memcpy(tmp, lv.str, sl);
                    if (gl)
                        memcpy(tmp + sl, lv.lang, gl);
                }
                sbuf_reset(b);
                int rc2 = sbuf_put(b, tmp, sl + gl);
                mem_free(b->m, tmp, sl + gl, 1);
                sbuf_free(&lex);
                sbuf_free(&out);
                if (rc2 != LORE_OK)
                    return rc2;
                *v = lv;
                if (lv.str)
                    v->str = b->p;
                if (lv.lang)
                    v->lang = b->p + sl;
                if (v->kind == LORE_TEXT || v->kind == LORE_SYMBOL || v->kind == LORE_DATE) {
                    if (utf8_ok(v->str, v->len))
                        return LORE_OK;
                } else {
                    return LORE_OK;
                }
            } else {
                sbuf_free(&lex);
                sbuf_free(&out);
            }
        }
    } else {
        if (sbuf_reserve(b, n + 2) != LORE_OK)
            return LORE_ERR_NOMEM;
        b->p[0] = '<';
        memcpy(b->p + 1, iri, n);
        b->p[n + 1] = '>';
        b->n = n + 2;
        b->p[b->n] = '\0';
        v->str = b->p, v->len = b->n;
        return LORE_OK;
    }
    /* an undecodable urn:lore IRI stays the IRI it is */
    sbuf_reset(b);
    memset(v, 0, sizeof *v);
    v->kind = LORE_SYMBOL;
    if (sbuf_putc(b, '<') || sbuf_put(b, iri, n) || sbuf_putc(b, '>'))
        return LORE_ERR_NOMEM;
    v->str = b->p, v->len = b->n;
    return LORE_OK;
}

/* ------------------------------------------------------------------ */
/* values -> RDF terms                                                */

/* XSD canonical double: shortest digits that read back, as d.dddEx. */
static void format_double(double d, char out[40])
{
    if (isinf(d)) {
        strcpy(out, d > 0 ? "INF" : "-INF");
        return;
    }
    char tmp[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(tmp, sizeof tmp, "%.*e", p - 1, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    /* tmp: [-]d[.ddd]e[+-]xx */
    char *e = strchr(tmp, 'e');
    size_t w = 0;
    for (char *c = tmp; c < e; c++)
        out[w++] = *c;
    if (!memchr(tmp, '.', (size_t)(e - tmp))) {
        out[w++] = '.';
        out[w++] = '0';
    }
    out[w++] = 'E';
    const char *x = e + 1;
    if (*x == '-')
        out[w++] = *x++;
    else if (*x == '+')
        x++;
    while (*x == '0' && x[1])
        x++;
    while (*x)
        out[w++] = *x++;
    out[w] = '\0';
}

static const char *date_type(size_t len)
{
    switch (len) {
    case 4:
        return NS_XSD "gYear";
    case 7:
        return NS_XSD "gYearMonth";
    case 10:
        return NS_XSD "date";
    default:
        return NS_XSD "dateTime";
    }
}

/* The literal node of a non-symbol value (strings in v or buf). */
static int literal_node(const lore_value *v, rdf_node *out, sbuf *buf)
{
    char tmp[40];
    memset(out, 0, sizeof *out);
    out->type = RDF_LITERAL;
    sbuf_reset(buf);
    switch (v->kind) {
    case LORE_TEXT:
        out->str = v->str ? v->str : "", out->len = v->len;
        if (v->lang && v->langlen)
            out->lang = v->lang, out->langlen = v->langlen;
        return LORE_OK;
    case LORE_INTEGER:
        snprintf(tmp, sizeof tmp, "%lld", (long long)v->i);
        out->dt = NS_XSD "integer";
        break;
    case LORE_NUMBER:
        format_double(v->n, tmp);
        out->dt = NS_XSD "double";
        break;
    case LORE_BOOLEAN:
        strcpy(tmp, v->i ? "true" : "false");
        out->dt = NS_XSD "boolean";
        break;
    case LORE_DATE:
        out->str = v->str, out->len = v->len;
        out->dt = date_type(v->len);
        out->dtlen = strlen(out->dt);
        return LORE_OK;
    default:
        return LORE_ERR_ARG;
    }
    out->dtlen = strlen(out->dt);
    if (sbuf_puts(buf, tmp) != LORE_OK)
        return LORE_ERR_NOMEM;
    out->str = buf->p, out->len = buf->n;
    return LORE_OK;
}

/* serd writes xsd:integer, xsd:boolean and some xsd:decimal literals bare
 * in Turtle and TriG without checking them: 1 if n, so written, reads
 * back as the same literal. */
static int bare_token_ok(const rdf_node *n)
{
    size_t k = sizeof NS_XSD - 1, i = 0;
    const char *s = n->str;
    size_t len = n->len;
    if (!n->dt || n->dtlen <= k || memcmp(n->dt, NS_XSD, k) != 0)
        return 1;
    const char *local = n->dt + k;
    size_t ll = n->dtlen - k;
    if (ll == 7 && memcmp(local, "boolean", 7) == 0)
        return (len == 4 && memcmp(s, "true", 4) == 0) || (len == 5 && memcmp(s, "false", 5) == 0);
    int integer = ll == 7 && memcmp(local, "integer", 7) == 0;
    int decimal = ll == 7 && memcmp(local, "decimal", 7) == 0;
    if (!integer && !decimal)
        return 1;
    if (decimal && (!memchr(s, '.', len) || (len && s[len - 1] == '.')))
        return 1; /* serd quotes these */
    if (i < len && (s[i] == '+' || s[i] == '-'))
        i++;
    size_t digits = 0, dots = 0;
    for (; i < len; i++) {
        if (s[i] >= '0' && s[i] <= '9')
            digits++;
        else if (s[i] == '.' && decimal && !dots)
            dots++;
        else
            return 0;
    }
    return digits > 0;
}

/* 1 if symbol s is the N-Triples form of a literal lore cannot hold,
 * written exactly as the reader would write it: then it is written as
 * that literal.  *node (strings in lex and s) is the literal. */
static int faithful_verbatim(const char *s, size_t n, sbuf *lex, rdf_node *node, sbuf *tmp)
{
    if (n < 2 || s[0] != '"' || rdf_nt_literal_parse(s, n, lex, node) != 0)
        return 0;
    if (memchr(node->str, 0, node->len))
        return 0; /* serd's writer stops at a NUL */
    lore_value v;
    if (rdf_literal_value(node, &v, tmp) != LORE_OK)
        return 0;
    if (v.kind != LORE_SYMBOL) {
        /* lore holds this literal as a value unless it refuses it */
        const char *why;
        if (dict_check(&v, &why) == LORE_OK)
            return 0;
        if (rdf_literal_verbatim(node, &v, tmp) != LORE_OK)
            return 0;
    }
    return v.len == n && memcmp(v.str, s, n) == 0;
}

static int has_prefix(const char *s, size_t n, const char *p)
{
    size_t k = strlen(p);
    return n >= k && memcmp(s, p, k) == 0;
}

/* Blank labels in Turtle and TriG: serd renames b<digit> labels there, so
 * labels starting with x, b<digit> or B<digit> are written with an extra x
 * (which the reader takes off). */
static int label_needs_x(const char *l, size_t n)
{
    if (n >= 1 && l[0] == 'x')
        return 1;
    return n >= 2 && (l[0] == 'b' || l[0] == 'B') && l[1] >= '0' && l[1] <= '9';
}

int rdf_term_node(const lore_value *v, int pos, int turtle, rdf_node *out, sbuf *buf, sbuf *dtbuf)
{
    memset(out, 0, sizeof *out);
    sbuf_reset(buf);
    if (v->kind != LORE_SYMBOL) {
        int rc = literal_node(v, out, buf);
        if (rc != LORE_OK || pos == POS_OBJECT)
            return rc;
        /* a literal where RDF allows none: urn:lore-literal:<its N-Triples form> */
        sbuf_reset(dtbuf);
        if (sbuf_putc(dtbuf, '"') || rdf_nt_escape(dtbuf, out->str, out->len) ||
            sbuf_putc(dtbuf, '"'))
            return LORE_ERR_NOMEM;
        if (out->lang) {
            if (sbuf_putc(dtbuf, '@') || sbuf_put(dtbuf, out->lang, out->langlen))
                return LORE_ERR_NOMEM;
        } else if (out->dt) {
            if (sbuf_put(dtbuf, "^^<", 3) || sbuf_put(dtbuf, out->dt, out->dtlen) ||
                sbuf_putc(dtbuf, '>'))
                return LORE_ERR_NOMEM;
        }
        sbuf_reset(buf);
        if (sbuf_puts(buf, URN_LORE_LITERAL) || rdf_pct_encode(buf, dtbuf->p, dtbuf->n))
            return LORE_ERR_NOMEM;
        memset(out, 0, sizeof *out);
        out->type = RDF_IRI;
        out->str = buf->p, out->len = buf->n;
        return LORE_OK;
    }
    const char *s = v->str ? v->str : "";
    size_t n = v->len;
    if (n >= 2 && s[0] == '<' && s[n - 1] == '>' && rdf_iri_ok(s + 1, n - 2) &&
        !has_prefix(s + 1, n - 2, URN_LORE) && !has_prefix(s + 1, n - 2, URN_LORE_LITERAL)) {
        out->type = RDF_IRI;
        if (sbuf_put(buf, s + 1, n - 2) != LORE_OK) /* serd wants NUL-terminated */
            return LORE_ERR_NOMEM;
        out->str = buf->p, out->len = buf->n;
        return LORE_OK;
    }
    if (pos != POS_PREDICATE && n > 2 && s[0] == '_' && s[1] == ':' && rdf_label_ok(s + 2, n - 2)) {
        out->type = RDF_BLANK;
        if (turtle && label_needs_x(s + 2, n - 2) && sbuf_putc(buf, 'x') != LORE_OK)
            return LORE_ERR_NOMEM;
        if (sbuf_put(buf, s + 2, n - 2) != LORE_OK)
            return LORE_ERR_NOMEM;
        out->str = buf->p, out->len = buf->n;
        return LORE_OK;
    }
    if (pos == POS_OBJECT) {
        sbuf tmp;
        sbuf_init(&tmp, buf->m);
        int ok = faithful_verbatim(s, n, buf, out, &tmp) && (!turtle || bare_token_ok(out));
        sbuf_free(&tmp);
        if (ok) {
            /* the datatype points into s (the dictionary's copy): give
             * serd a NUL-terminated one */
            if (out->dt) {
                sbuf_reset(dtbuf);
                if (sbuf_put(dtbuf, out->dt, out->dtlen) != LORE_OK)
                    return LORE_ERR_NOMEM;
                out->dt = dtbuf->p;
            }
            if (out->lang) {
                sbuf_reset(dtbuf);
                if (sbuf_put(dtbuf, out->lang, out->langlen) != LORE_OK)
                    return LORE_ERR_NOMEM;
                out->lang = dtbuf->p;
            }
            out->str = buf->p ? buf->p : ""; /* an empty lexical form */
            return LORE_OK;
        }
    }
    memset(out, 0, sizeof *out);
    sbuf_reset(buf);
    if (sbuf_puts(buf, URN_LORE) || rdf_pct_encode(buf, s, n))
        return LORE_ERR_NOMEM;
    out->type = RDF_IRI;
    out->str = buf->p, out->len = buf->n;
    return LORE_OK;
}
