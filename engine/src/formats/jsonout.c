/* jsonout.c - writing lore's JSON format (knowledge/README.md) with a
 * fixed layout: one fact per line, facts of the default source first,
 * then one group per source, keys always in the same order. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"

static void put_string(xout *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    xout_put(o, "\"", 1);
    size_t from = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *e = NULL;
        char u[7];
        switch (c) {
        case '"':
            e = "\\\"";
            break;
        case '\\':
            e = "\\\\";
            break;
        case '\b':
            e = "\\b";
            break;
        case '\f':
            e = "\\f";
            break;
        case '\n':
            e = "\\n";
            break;
        case '\r':
            e = "\\r";
            break;
        case '\t':
            e = "\\t";
            break;
        default:
            if (c < 0x20) {
                memcpy(u, "\\u00", 4);
                u[4] = hex[c >> 4], u[5] = hex[c & 15], u[6] = '\0';
                e = u;
            }
        }
        if (!e)
            continue;
        xout_put(o, s + from, i - from);
        xout_puts(o, e);
        from = i + 1;
    }
    xout_put(o, s + from, n - from);
    xout_put(o, "\"", 1);
}

/* Shortest decimal form of d that reads back as d. */
static void shortest(double d, char out[40])
{
    for (int p = 1; p <= 17; p++) {
        snprintf(out, 40, "%.*g", p, d);
        if (strtod(out, NULL) == d)
            return;
    }
}

static void put_term(xout *o, lore_kb *kb, uint32_t id)
{
    lore_value v;
    char num[48], sh[40];
    dict_get(&kb->d, id, &v); /* the caller wrote only valid ids */
    switch (v.kind) {
    case LORE_SYMBOL: /* json_write refused those starting with '?' */
        put_string(o, v.str, v.len);
        return;
    case LORE_TEXT:
        xout_puts(o, "{\"text\": ");
        put_string(o, v.str, v.len);
        if (v.lang) {
            xout_puts(o, ", \"lang\": ");
            put_string(o, v.lang, v.langlen);
        }
        xout_puts(o, "}");
        return;
    case LORE_INTEGER:
        /* JSON readers hold numbers as doubles: beyond 2^53 use a string */
        if (v.i > (INT64_C(1) << 53) || v.i < -(INT64_C(1) << 53)) {
            snprintf(num, sizeof num, "{\"integer\": \"%lld\"}", (long long)v.i);
        } else {
            snprintf(num, sizeof num, "%lld", (long long)v.i);
        }
        xout_puts(o, num);
        return;
    case LORE_NUMBER:
        if (isinf(v.n)) {
            xout_puts(o, v.n > 0 ? "{\"number\": 1e999}" : "{\"number\": -1e999}");
            return;
        }
        if (v.n == floor(v.n) && fabs(v.n) < 9007199254740992.0)
            snprintf(sh, sizeof sh, "%.0f", v.n);
        else
            shortest(v.n, sh);
        if (v.n == floor(v.n)) { /* would read back as an integer */
            xout_puts(o, "{\"number\": ");
            xout_puts(o, sh);
            xout_puts(o, "}");
        } else {
            xout_puts(o, sh);
        }
        return;
    case LORE_BOOLEAN:
        xout_puts(o, v.i ? "true" : "false");
        return;
    case LORE_DATE:
        xout_puts(o, "{\"date\": ");
        put_string(o, v.str, v.len);
        xout_puts(o, "}");
        return;
    }
}

/* A symbol starting with '?' has no JSON form: there such strings are
 * query variables.  Checked before anything is written. */
static int check_symbols(const xfacts *x)
{
    for (size_t i = 0; i < x->n; i++) {
        const xrow *r = &x->rows[i];
        uint32_t ranks[4] = {r->src ? r->src - 1 : 0, r->s, r->p, r->o};
        for (int k = r->src ? 0 : 1; k < 4; k++) {
            const term *t = dict_term(&x->kb->d, xid(x, ranks[k]));
            if (t->kind == LORE_SYMBOL && t->len && t->u.str[0] == '?')
                return ctx_fail(
                    &x->kb->ctx, LORE_ERR_ARG,
                    "the symbol '%.100s' has no JSON form (strings beginning with ? are "
                    "query variables there)",
                    t->u.str);
        }
    }
    return LORE_OK;
}

int json_write(const xfacts *x, xout *o)
{
    int rc = check_symbols(x);
    if (rc != LORE_OK)
        return rc;
    xout_puts(o, "{\n  \"lore\": 1,\n  \"facts\": [");
    uint32_t group = 0; /* source rank of the open group; 0: none */
    int first_top = 1, first_in = 1;
    for (size_t i = 0; i < x->n; i++) {
        const xrow *r = &x->rows[i];
        if ((i & 4095) == 4095 && ctx_interrupted(&x->kb->ctx))
            return LORE_ERR_INTERRUPT;
        if (r->src != group) {
            if (group)
                xout_puts(o, "\n    ]}");
            xout_puts(o, first_top ? "\n    {\"source\": " : ",\n    {\"source\": ");
            put_term(o, x->kb, xid(x, r->src - 1));
            xout_puts(o, ", \"facts\": [");
            group = r->src;
            first_top = 0;
            first_in = 1;
        }
        if (group) {
            xout_puts(o, first_in ? "\n      [" : ",\n      [");
            first_in = 0;
        } else {
            xout_puts(o, first_top ? "\n    [" : ",\n    [");
            first_top = 0;
        }
        put_term(o, x->kb, xid(x, r->s));
        xout_puts(o, ", ");
        put_term(o, x->kb, xid(x, r->p));
        xout_puts(o, ", ");
        put_term(o, x->kb, xid(x, r->o));
        xout_puts(o, "]");
    }
    if (group)
        xout_puts(o, "\n    ]}");
    xout_puts(o, x->n ? "\n  ]\n}\n" : "]\n}\n");
    return LORE_OK;
}
