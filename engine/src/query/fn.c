/* fn.c - value functions: builtins, the host's registry, arithmetic (see
 * fn.h). */
#define LORE_BUILDING 1
#include "fn.h"

#include "date.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

struct fnreg {
    struct fnent {
        char *name;
        size_t namelen;
        lore_value_fn f;
        void *ud;
    } * e;
    size_t n, cap;
};

/* ------------------------------------------------------------------ */
/* scratch                                                            */

struct fn_chunk {
    fn_chunk *next;
    size_t cap, used;
    char data[];
};

void fn_scratch_reset(fn_scratch *sc)
{
    for (fn_chunk *c = sc->first; c; c = c->next)
        c->used = 0;
    sc->cur = sc->first;
}

void fn_scratch_free(const mem *m, fn_scratch *sc)
{
    while (sc->first) {
        fn_chunk *c = sc->first;
        sc->first = c->next;
        mem_free(m, c, 1, sizeof *c + c->cap);
    }
    sc->cur = NULL;
}

/* n bytes that stay where they are until the next reset. */
static char *room(const mem *m, fn_scratch *sc, size_t n)
{
    fn_chunk *c = sc->cur;
    while (c && c->cap - c->used < n)
        c = c->next;
    if (!c) {
        size_t cap = n > 1024 ? n : 1024;
        c = mem_alloc(m, 1, sizeof *c + cap);
        if (!c)
            return NULL;
        c->cap = cap, c->used = 0;
        c->next = sc->first; /* new chunks go first; reset walks them all */
        sc->first = c;
    }
    sc->cur = c;
    char *d = c->data + c->used;
    c->used += n;
    return d;
}

/* ------------------------------------------------------------------ */
/* strings of values                                                  */

void fn_string(const lore_value *v, fn_scratch *sc, const mem *m, const char **s, size_t *n)
{
    char tmp[64];
    int k = 0;
    switch (v->kind) {
    case LORE_SYMBOL:
    case LORE_TEXT:
    case LORE_DATE:
        *s = v->str, *n = v->len;
        return;
    case LORE_INTEGER:
        k = snprintf(tmp, sizeof tmp, "%lld", (long long)v->i);
        break;
    case LORE_NUMBER:
        k = snprintf(tmp, sizeof tmp, "%.17g", v->n);
        /* the shortest form that reads back the same */
        for (int digits = 15; digits <= 17; digits++) {
            char t2[64];
            int k2 = snprintf(t2, sizeof t2, "%.*g", digits, v->n);
            double back;
            if (sscanf(t2, "%lf", &back) == 1 && back == v->n) {
                memcpy(tmp, t2, (size_t)k2 + 1);
                k = k2;
                break;
            }
        }
        break;
    case LORE_BOOLEAN:
        k = snprintf(tmp, sizeof tmp, "%s", v->i ? "true" : "false");
        break;
    }
    char *d = k > 0 ? room(m, sc, (size_t)k) : NULL;
    if (!d) {
        *s = "", *n = 0;
        return;
    }
    memcpy(d, tmp, (size_t)k);
    *s = d, *n = (size_t)k;
}

/* ------------------------------------------------------------------ */
/* arithmetic                                                         */

static int is_num(const lore_value *v)
{
    return v->kind == LORE_INTEGER || v->kind == LORE_NUMBER;
}

static double as_double(const lore_value *v)
{
    return v->kind == LORE_INTEGER ? (double)v->i : v->n;
}

static int number_out(double d, lore_value *out)
{
    if (d != d || d == INFINITY || d == -INFINITY)
        return LORE_NOOP;
    *out = lore_number(d == 0 ? 0.0 : d); /* no -0.0 */
    return LORE_OK;
}

int fn_arith(int op, const lore_value *a, const lore_value *b, lore_value *out)
{
    if (!is_num(a) || (op != QX_NEG && !is_num(b)))
        return LORE_NOOP;
    int ints = a->kind == LORE_INTEGER && (op == QX_NEG || b->kind == LORE_INTEGER);
    if (ints) {
        int64_t r;
        int over = 0;
        switch (op) {
        case QX_ADD:
            over = __builtin_add_overflow(a->i, b->i, &r);
            break;
        case QX_SUB:
            over = __builtin_sub_overflow(a->i, b->i, &r);
            break;
        case QX_MUL:
            over = __builtin_mul_overflow(a->i, b->i, &r);
            break;
        case QX_NEG:
            over = __builtin_sub_overflow((int64_t)0, a->i, &r);
            break;
        default: /* QX_DIV: exact quotients stay integers */
            if (b->i == 0)
                return LORE_NOOP;
            if (!(a->i == INT64_MIN && b->i == -1) && a->i % b->i == 0) {
                *out = lore_integer(a->i / b->i);
                return LORE_OK;
            }
            over = 1;
            break;
        }
        if (!over) {
            *out = lore_integer(r);
            return LORE_OK;
        }
    }
    double x = as_double(a), y = op == QX_NEG ? 0 : as_double(b);
    switch (op) {
    case QX_ADD:
        return number_out(x + y, out);
    case QX_SUB:
        return number_out(x - y, out);
    case QX_MUL:
        return number_out(x * y, out);
    case QX_NEG:
        return number_out(-x, out);
    default:
        if (y == 0)
            return LORE_NOOP;
        return number_out(x / y, out);
    }
}

/* ------------------------------------------------------------------ */
/* builtins                                                           */

typedef int (*builtin_fn)(const mem *m, const lore_value *args, size_t n, lore_value *out,
                          fn_scratch *sc);

/* The year, month or day of a date (which = 0, 1, 2), as an integer. */
static int date_part(const lore_value *v, int which, lore_value *out)
{
    if (v->kind != LORE_DATE || v->len < 4)
        return LORE_NOOP;
    static const size_t at[3] = {0, 5, 8}, len[3] = {4, 2, 2};
    size_t a = at[which], l = len[which];
    if (v->len < a + l || (which > 0 && v->str[a - 1] != '-'))
        return LORE_NOOP;
    int64_t x = 0;
    for (size_t i = 0; i < l; i++) {
        char c = v->str[a + i];
        if (c < '0' || c > '9')
            return LORE_NOOP;
        x = x * 10 + (c - '0');
    }
    *out = lore_integer(x);
    return LORE_OK;
}

static int b_year(const mem *m, const lore_value *a, size_t n, lore_value *out, fn_scratch *sc)
{
    (void)m, (void)n, (void)sc;
    return date_part(&a[0], 0, out);
}

static int b_month(const mem *m, const lore_value *a, size_t n, lore_value *out, fn_scratch *sc)
{
    (void)m, (void)n, (void)sc;
    return date_part(&a[0], 1, out);
}

static int b_day(const mem *m, const lore_value *a, size_t n, lore_value *out, fn_scratch *sc)
{
    (void)m, (void)n, (void)sc;
    return date_part(&a[0], 2, out);
}

/* days_between(a, b), months_between(a, b), years_between(a, b): whole
 * units from date a to date b on the UTC calendar (negative when b is
 * earlier); no value unless both are dates. */
static int two_dates(const lore_value *a, date_key k[2])
{
    for (int i = 0; i < 2; i++) {
        const char *why;
        if (a[i].kind != LORE_DATE || date_parse(a[i].str, a[i].len, &k[i], &why) != 0)
            return 0;
    }
    return 1;
}

/* The whole units (0 days, 1 months, 2 years) from date a[0] to a[1]. */
static int between(const lore_value *a, lore_value *out, int unit)
{
    date_key k[2];
    if (!two_dates(a, k))
        return LORE_NOOP;
    int64_t n = unit == 0 ? date_days_between(k[0], k[1]) : date_months_between(k[0], k[1]);
    *out = lore_integer(unit == 2 ? n / 12 : n);
    return LORE_OK;
}

static int b_days_between(const mem *m, const lore_value *a, size_t n, lore_value *out,
                          fn_scratch *sc)
{
    (void)m, (void)n, (void)sc;
    return between(a, out, 0);
}

static int b_months_between(const mem *m, const lore_value *a, size_t n, lore_value *out,
                            fn_scratch *sc)
{
    (void)m, (void)n, (void)sc;
    return between(a, out, 1);
}

static int b_years_between(const mem *m, const lore_value *a, size_t n, lore_value *out,
                           fn_scratch *sc)
{
    (void)m, (void)n, (void)sc;
    return between(a, out, 2);
}

/* concat(a, b, ...): a text of the arguments' strings (with the language
 * tag of the texts among them when they all have the same one). */
static int b_concat(const mem *m, const lore_value *a, size_t n, lore_value *out, fn_scratch *sc)
{
    const char *s[16];
    size_t l[16], total = 0;
    if (n > 16)
        return LORE_NOOP;
    for (size_t i = 0; i < n; i++) {
        fn_string(&a[i], sc, m, &s[i], &l[i]);
        total += l[i];
    }
    char *d = room(m, sc, total + 1);
    if (!d)
        return LORE_ERR_NOMEM;
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(d + w, s[i], l[i]);
        w += l[i];
    }
    d[w] = '\0';
    const char *lang = NULL;
    size_t langlen = 0;
    int texts = 0, same = 1;
    for (size_t i = 0; i < n; i++) {
        if (a[i].kind != LORE_TEXT)
            continue;
        const char *tl = a[i].lang && a[i].langlen ? a[i].lang : NULL;
        size_t tn = tl ? a[i].langlen : 0;
        if (texts++ == 0)
            lang = tl, langlen = tn;
        else if (tn != langlen || (tn && memcmp(tl, lang, tn) != 0))
            same = 0;
    }
    *out = lore_text(NULL, NULL);
    out->str = d, out->len = w;
    if (same && lang)
        out->lang = lang, out->langlen = langlen;
    return LORE_OK;
}

static int b_case(const mem *m, const lore_value *a, lore_value *out, fn_scratch *sc, int up)
{
    if (a->kind != LORE_TEXT && a->kind != LORE_SYMBOL)
        return LORE_NOOP;
    char *d = room(m, sc, a->len + 1);
    if (!d)
        return LORE_ERR_NOMEM;
    for (size_t i = 0; i < a->len; i++) {
        char c = a->str[i];
        if (up && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        else if (!up && c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        d[i] = c;
    }
    *out = *a;
    out->str = d;
    return LORE_OK;
}

static int b_lower(const mem *m, const lore_value *a, size_t n, lore_value *out, fn_scratch *sc)
{
    (void)n;
    return b_case(m, &a[0], out, sc, 0);
}

static int b_upper(const mem *m, const lore_value *a, size_t n, lore_value *out, fn_scratch *sc)
{
    (void)n;
    return b_case(m, &a[0], out, sc, 1);
}

static int b_str(const mem *m, const lore_value *a, size_t n, lore_value *out, fn_scratch *sc)
{
    (void)n;
    const char *s;
    size_t l;
    fn_string(&a[0], sc, m, &s, &l);
    *out = lore_text(NULL, NULL);
    out->str = s, out->len = l;
    return LORE_OK;
}

static int b_abs(const mem *m, const lore_value *a, size_t n, lore_value *out, fn_scratch *sc)
{
    (void)m, (void)n, (void)sc;
    if (a->kind == LORE_INTEGER && a->i != INT64_MIN) {
        *out = lore_integer(a->i < 0 ? -a->i : a->i);
        return LORE_OK;
    }
    if (!is_num(a))
        return LORE_NOOP;
    return number_out(fabs(as_double(a)), out);
}

/* round, floor, ceil: integers (when they fit) */
static int to_int(double d, lore_value *out)
{
    if (d != d || d >= 9223372036854775808.0 || d < -9223372036854775808.0)
        return LORE_NOOP;
    *out = lore_integer((int64_t)d);
    return LORE_OK;
}

static int b_round(const mem *m, const lore_value *a, size_t n, lore_value *out, fn_scratch *sc)
{
    (void)m, (void)n, (void)sc;
    if (a->kind == LORE_INTEGER) {
        *out = *a;
        return LORE_OK;
    }
    return is_num(a) ? to_int(round(a->n), out) : LORE_NOOP;
}

static int b_floor(const mem *m, const lore_value *a, size_t n, lore_value *out, fn_scratch *sc)
{
    (void)m, (void)n, (void)sc;
    if (a->kind == LORE_INTEGER) {
        *out = *a;
        return LORE_OK;
    }
    return is_num(a) ? to_int(floor(a->n), out) : LORE_NOOP;
}

static int b_ceil(const mem *m, const lore_value *a, size_t n, lore_value *out, fn_scratch *sc)
{
    (void)m, (void)n, (void)sc;
    if (a->kind == LORE_INTEGER) {
        *out = *a;
        return LORE_OK;
    }
    return is_num(a) ? to_int(ceil(a->n), out) : LORE_NOOP;
}

static int b_number(const mem *m, const lore_value *a, size_t n, lore_value *out, fn_scratch *sc)
{
    (void)m, (void)n, (void)sc;
    return is_num(a) ? number_out(as_double(a), out) : LORE_NOOP;
}

static const struct builtin {
    const char *name;
    int min, max;
    builtin_fn f;
} builtins[] = {
    {"year", 1, 1, b_year},      {"month", 1, 1, b_month}, {"day", 1, 1, b_day},
    {"concat", 1, 16, b_concat}, {"lower", 1, 1, b_lower}, {"upper", 1, 1, b_upper},
    {"str", 1, 1, b_str},        {"abs", 1, 1, b_abs},     {"round", 1, 1, b_round},
    {"floor", 1, 1, b_floor},    {"ceil", 1, 1, b_ceil},   {"number", 1, 1, b_number},
    {"days_between", 2, 2, b_days_between}, {"months_between", 2, 2, b_months_between},
    {"years_between", 2, 2, b_years_between},
};

enum { NBUILTINS = sizeof builtins / sizeof builtins[0] };

int fn_builtin(const char *name, size_t n, int *minargs, int *maxargs)
{
    for (int i = 0; i < NBUILTINS; i++) {
        if (strlen(builtins[i].name) == n && memcmp(builtins[i].name, name, n) == 0) {
            if (minargs)
                *minargs = builtins[i].min;
            if (maxargs)
                *maxargs = builtins[i].max;
            return i;
        }
    }
    return -1;
}

const char *fn_builtin_name(int i)
{
    return builtins[i].name;
}

const char *fn_registered_name(const lore_kb *kb, int i)
{
    return kb->fns->e[i].name;
}

const char *fn_builtin_names(void)
{
    return "year, month, day, concat, lower, upper, str, abs, round, floor, ceil, number";
}

/* ------------------------------------------------------------------ */
/* the registry                                                       */

static int valid_name(const char *s)
{
    if (!s || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    return 1;
}

int fn_register(lore_kb *kb, const char *name, lore_value_fn f, void *ud)
{
    if (!valid_name(name))
        return ctx_fail(&kb->ctx, LORE_ERR_ARG,
                        "lore_function: a name of letters, digits and _ expected, got '%s'",
                        name ? name : "(null)");
    size_t n = strlen(name);
    if (fn_builtin(name, n, NULL, NULL) >= 0)
        return ctx_fail(&kb->ctx, LORE_ERR_ARG, "lore_function: '%s' is a builtin function", name);
    if (!f)
        return ctx_fail(&kb->ctx, LORE_ERR_ARG, "lore_function: no function");
    int at = fn_lookup(kb, name, n);
    if (at >= 0) {
        kb->fns->e[at].f = f;
        kb->fns->e[at].ud = ud;
        return LORE_OK;
    }
    if (!kb->fns) {
        kb->fns = mem_calloc(&kb->m, 1, sizeof *kb->fns);
        if (!kb->fns)
            return ctx_nomem(&kb->ctx);
    }
    fnreg *r = kb->fns;
    char *copy = mem_strndup(&kb->m, name, n);
    if (!copy || mem_reserve(&kb->m, (void **)&r->e, &r->cap, r->n + 1, sizeof *r->e) != 0) {
        mem_free(&kb->m, copy, n + 1, 1);
        return ctx_nomem(&kb->ctx);
    }
    r->e[r->n].name = copy;
    r->e[r->n].namelen = n;
    r->e[r->n].f = f;
    r->e[r->n].ud = ud;
    r->n++;
    return LORE_OK;
}

int fn_lookup(const lore_kb *kb, const char *name, size_t n)
{
    const fnreg *r = kb->fns;
    for (size_t i = 0; r && i < r->n; i++)
        if (r->e[i].namelen == n && memcmp(r->e[i].name, name, n) == 0)
            return (int)i;
    return -1;
}

void fn_free(lore_kb *kb)
{
    fnreg *r = kb->fns;
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        mem_free(&kb->m, r->e[i].name, r->e[i].namelen + 1, 1);
    mem_free(&kb->m, r->e, r->cap, sizeof *r->e);
    mem_free(&kb->m, r, 1, sizeof *r);
    kb->fns = NULL;
}

/* ------------------------------------------------------------------ */
/* calls                                                              */

int fn_call(lore_kb *kb, int fn, lore_value_fn hf, void *hud, const lore_value *args, size_t nargs,
            lore_value *out, fn_scratch *sc)
{
    memset(out, 0, sizeof *out);
    if (!hf && fn < 0) {
        const struct builtin *b = &builtins[-fn - 1];
        int rc = b->f(&kb->m, args, nargs, out, sc);
        if (rc == LORE_ERR_NOMEM)
            return ctx_nomem(&kb->ctx);
        return rc;
    }
    const char *name = "function";
    if (!hf) {
        hf = kb->fns->e[fn].f;
        hud = kb->fns->e[fn].ud;
        name = kb->fns->e[fn].name;
    }
    int rc = hf(hud, kb, args, nargs, out);
    if (rc < 0) {
        if (kb->ctx.err[0] == '\0')
            ctx_fail(&kb->ctx, rc, "%s failed (%s)", name, lore_strerror(rc));
        return rc;
    }
    if (rc != LORE_OK)
        return LORE_NOOP;
    const char *why;
    if (lore_check_value(out, &why) != LORE_OK)
        return ctx_fail(&kb->ctx, LORE_ERR_ARG, "%s returned a bad value: expected %s", name, why);
    return LORE_OK;
}
