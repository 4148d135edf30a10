/* qparse.c - the text form of queries, a recursive-descent parser whose
 * functions are named after the grammar's productions:
 *
 *   query    := select | body
 *   select   := 'select' ['distinct'] ('*' | item+) ['where'] '{' body '}' modifier*
 *   body     := (element ['.' | ','])* modifier*      (modifiers only at top level)
 *   element  := triple | 'filter' condition | 'optional' '{' body '}'
 *             | 'without' '{' body '}' | '{' body '}' ('union' '{' body '}')*
 *             | variable '=' expr
 *   expr     := product (('+' | '-') product)*
 *   product  := unary (('*' | '/') unary)*
 *   unary    := '-' unary | '(' expr ')' | name '(' [expr (',' expr)*] ')' | term
 *   triple   := term verb term
 *   verb     := variable | path
 *   path     := sequence ('|' sequence)*
 *   sequence := unary ('/' unary)*
 *   unary    := '^' unary | primary ('+' | '*' | '?')*     (modifiers written attached)
 *   primary  := name | '<iri>' | 'quoted name' | '_' | '(' path ')'
 *   term     := variable | '_' | name | '<iri>' | 'quoted name' | "text"[@lang]
 *             | number | true | false | date | date("...")
 *   condition:= ['('] operand op operand [')'] | operand 'in' '(' term (',' term)* ')'
 *             | operand 'match' "pattern"
 *   item     := variable | agg '(' ['distinct'] (variable | '*') ')' ['as' variable]
 *   modifier := 'group' 'by' variable+ | 'order' 'by' key+ | 'limit' N | 'offset' N
 *   key      := ['-' | '+'] variable | 'desc' '(' variable ')' | 'asc' '(' variable ')'
 *
 * Names run over letters, digits, _ : - # and non-ASCII bytes, and over a
 * '.' followed by such a character; dates are bare (2024-07-11) or written
 * date("2025").  Errors say "query:LINE:COL: expected ..., got ...".
 *
 * The productions recurse, so every nested construct (a group, a
 * parenthesis or '^' in a path, a parenthesis, '-' or call in an
 * expression) counts one level in `depth`, bounded by LORE_MAX_NESTING:
 * no text can exhaust the C stack.  The text is checked to be valid UTF-8
 * without NUL bytes before it is read, as terms are. */
#include "query.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpat.h"

typedef struct parser {
    lore_kb *kb;
    qprog *p;
    const char *s, *e, *at;
    int rc;
    int depth;         /* nested constructs open at the cursor */
    unsigned elements; /* parsed so far: the kb's budgets are polled every 256 */
} parser;

/* ------------------------------------------------------------------ */
/* characters                                                         */

static int name_start(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || c >= 0x80;
}

static int name_char(int c)
{
    return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '#';
}

static int var_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c >= 0x80;
}

static int digit(int c)
{
    return c >= '0' && c <= '9';
}

static int peek(const parser *ps, size_t k)
{
    return ps->at + k < ps->e ? (unsigned char)ps->at[k] : -1;
}

static void skip_ws(parser *ps)
{
    while (ps->at < ps->e) {
        char c = *ps->at;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
            ps->at++;
        else if (c == '#') { /* a comment to the end of the line */
            while (ps->at < ps->e && *ps->at != '\n')
                ps->at++;
        } else
            break;
    }
}

/* ------------------------------------------------------------------ */
/* errors                                                             */

/* The line and column (in characters) of `at`. */
static void line_col(const parser *ps, const char *at, int *line, int *col)
{
    *line = 1, *col = 1;
    for (const char *c = ps->s; c < at; c++) {
        if (*c == '\n')
            (*line)++, *col = 1;
        else if (((unsigned char)*c & 0xc0) != 0x80)
            (*col)++;
    }
}

static int fail_at(parser *ps, const char *at, const char *expected)
{
    if (ps->rc)
        return ps->rc;
    int line, col;
    line_col(ps, at, &line, &col);
    char got[48];
    if (at >= ps->e) {
        snprintf(got, sizeof got, "end of text");
    } else {
        size_t n = 0;
        const char *c = at;
        if (name_char((unsigned char)*c) || *c == '?' || digit((unsigned char)*c)) {
            while (c + n < ps->e && n < 24 &&
                   (name_char((unsigned char)c[n]) || digit((unsigned char)c[n]) ||
                    (n == 0 && *c == '?')))
                n++;
        } else {
            n = 1;
            if ((*c == '<' || *c == '>' || *c == '~' || *c == '!' || *c == '=') && c + 1 < ps->e &&
                c[1] == '=')
                n = 2;
        }
        snprintf(got, sizeof got, "'%.*s'", (int)n, c);
    }
    ps->rc = ctx_fail(&ps->kb->ctx, LORE_ERR_SYNTAX, "query:%d:%d: expected %s, got %s", line, col,
                      expected, got);
    return ps->rc;
}

static int fail(parser *ps, const char *expected)
{
    skip_ws(ps);
    return fail_at(ps, ps->at, expected);
}

/* Opens a nested construct at `at`, or fails past LORE_MAX_NESTING; each
 * successful enter is paired with a leave. */
static int enter(parser *ps, const char *at)
{
    if (ps->depth >= LORE_MAX_NESTING) {
        if (ps->rc)
            return ps->rc;
        int line, col;
        line_col(ps, at, &line, &col);
        return ps->rc = ctx_fail(&ps->kb->ctx, LORE_ERR_LIMIT, "query:%d:%d: nesting deeper than %d", line,
                                col, LORE_MAX_NESTING);
    }
    ps->depth++;
    return LORE_OK;
}

static int leave(parser *ps, int rc)
{
    ps->depth--;
    return rc;
}

/* A builder call failed: keep its message (a bad value, memory). */
static int failed(parser *ps, int rc)
{
    if (!ps->rc)
        ps->rc = rc;
    return ps->rc;
}

/* ------------------------------------------------------------------ */
/* words                                                              */

/* The bare word at the cursor (after spaces): its length, 0 if none. */
static size_t word(parser *ps)
{
    skip_ws(ps);
    size_t n = 0;
    if (ps->at < ps->e && name_start((unsigned char)*ps->at)) {
        while (ps->at + n < ps->e) {
            int c = (unsigned char)ps->at[n];
            if (name_char(c) || digit(c))
                n++;
            else if (c == '.' && ps->at + n + 1 < ps->e &&
                     (name_char((unsigned char)ps->at[n + 1]) ||
                      digit((unsigned char)ps->at[n + 1])))
                n++;
            else
                break;
        }
    }
    return n;
}

/* Is the word at the cursor `kw` (case-insensitive)?  Consumes it if so. */
static int keyword(parser *ps, const char *kw)
{
    size_t n = word(ps), k = strlen(kw);
    if (n != k)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = ps->at[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != kw[i])
            return 0;
    }
    ps->at += n;
    return 1;
}

static int punct(parser *ps, char c)
{
    skip_ws(ps);
    if (ps->at < ps->e && *ps->at == c) {
        ps->at++;
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* terms                                                              */

static int variable(parser *ps, int *v)
{
    skip_ws(ps);
    if (peek(ps, 0) != '?')
        return 0;
    size_t n = 1;
    while (ps->at + n < ps->e && var_char((unsigned char)ps->at[n]))
        n++;
    int rc = qprog_var(ps->p, ps->at, n, v);
    if (rc != LORE_OK)
        return failed(ps, rc), -1;
    ps->at += n;
    return 1;
}

static int add_const(parser *ps, const lore_value *v, int *c)
{
    int rc = qprog_const(ps->p, v, 0, c);
    return rc == LORE_OK ? rc : failed(ps, rc);
}

/* A quoted string with escapes into a scratch copy (arena). */
static int string(parser *ps, char quote, const char **out, size_t *len)
{
    const char *start = ps->at;
    ps->at++; /* the quote */
    size_t cap = 0;
    for (const char *c = ps->at; c < ps->e && *c != quote; c++, cap++)
        if (*c == '\\')
            c++;
    char *buf = qprog_strdup(ps->p, NULL, cap);
    if (!buf)
        return failed(ps, ctx_nomem(&ps->kb->ctx));
    size_t n = 0;
    while (ps->at < ps->e && *ps->at != quote) {
        char c = *ps->at++;
        if (c == '\\') {
            if (ps->at >= ps->e)
                break;
            char x = *ps->at++;
            switch (x) {
            case 'n':
                c = '\n';
                break;
            case 't':
                c = '\t';
                break;
            case 'r':
                c = '\r';
                break;
            case '\\':
            case '"':
            case '\'':
                c = x;
                break;
            default:
                return fail_at(ps, ps->at - 2, "an escape (\\n \\t \\r \\\\ \\\" \\')");
            }
        }
        buf[n++] = c;
    }
    if (ps->at >= ps->e)
        return fail_at(ps, start,
                       quote == '"' ? "a closing '\"' for this text" : "a closing ' for this name");
    ps->at++;
    buf[n] = '\0';
    *out = buf, *len = n;
    return LORE_OK;
}

/* A number or a bare date at the cursor. */
static int number(parser *ps, int *c)
{
    const char *b = ps->at, *x = b;
    if (*x == '-' || *x == '+')
        x++;
    /* YYYY-MM...: a date */
    if (*b != '-' && *b != '+' && ps->e - b >= 7 && digit(b[0]) && digit(b[1]) && digit(b[2]) &&
        digit(b[3]) && b[4] == '-' && digit(b[5])) {
        const char *d = b;
        while (d < ps->e &&
               (digit((unsigned char)*d) || *d == '-' || *d == ':' || *d == 'T' || *d == 'Z' ||
                *d == '+' || (*d == '.' && d + 1 < ps->e && digit((unsigned char)d[1]))))
            d++;
        lore_value v = lore_date(NULL);
        v.str = b, v.len = (size_t)(d - b);
        const char *why;
        if (lore_check_value(&v, &why) != LORE_OK)
            return fail_at(ps, b, "a date (YYYY-MM-DD, or date(\"...\"))");
        ps->at = d;
        return add_const(ps, &v, c);
    }
    while (x < ps->e && digit((unsigned char)*x))
        x++;
    int isfloat = 0;
    if (x < ps->e && *x == '.' && x + 1 < ps->e && digit((unsigned char)x[1])) {
        isfloat = 1;
        x++;
        while (x < ps->e && digit((unsigned char)*x))
            x++;
    }
    if (x < ps->e && (*x == 'e' || *x == 'E')) {
        const char *y = x + 1;
        if (y < ps->e && (*y == '-' || *y == '+'))
            y++;
        if (y < ps->e && digit((unsigned char)*y)) {
            isfloat = 1;
            x = y;
            while (x < ps->e && digit((unsigned char)*x))
                x++;
        }
    }
    char tmp[64];
    size_t n = (size_t)(x - b);
    if (n >= sizeof tmp)
        return fail_at(ps, b, "a shorter number");
    memcpy(tmp, b, n);
    tmp[n] = '\0';
    lore_value v;
    if (isfloat) {
        v = lore_number(strtod(tmp, NULL));
    } else {
        char *end;
        errno = 0;
        long long i = strtoll(tmp, &end, 10);
        if (errno == ERANGE)
            return fail_at(ps, b, "an integer within 64 bits");
        v = lore_integer(i);
    }
    ps->at = x;
    return add_const(ps, &v, c);
}

/* term := ...; *slot is set.  Returns 1 if a term was read, 0 if none is
 * at the cursor (nothing consumed), -1 on an error. */
static int read_term(parser *ps, qslot *slot)
{
    skip_ws(ps);
    int c = peek(ps, 0), v, k;
    if (c < 0)
        return 0;
    if (c == '?') {
        if (variable(ps, &v) < 0)
            return -1;
        *slot = qs_var(v);
        return 1;
    }
    lore_value val;
    memset(&val, 0, sizeof val);
    if (c == '"') {
        const char *str;
        size_t n;
        if (string(ps, '"', &str, &n) != LORE_OK)
            return -1;
        val = lore_text(str, NULL);
        val.len = n;
        if (peek(ps, 0) == '@') {
            size_t m = 1;
            while (ps->at + m < ps->e && (var_char((unsigned char)ps->at[m]) || ps->at[m] == '-'))
                m++;
            if (m == 1) {
                fail_at(ps, ps->at + 1, "a language tag after '@'");
                return -1;
            }
            val.lang = ps->at + 1, val.langlen = m - 1;
            ps->at += m;
        }
    } else if (c == '\'') {
        const char *str;
        size_t n;
        if (string(ps, '\'', &str, &n) != LORE_OK)
            return -1;
        val = lore_symbol(str);
        val.len = n;
    } else if (c == '<') {
        size_t n = 1;
        while (ps->at + n < ps->e && ps->at[n] != '>' && ps->at[n] != ' ' && ps->at[n] != '\n')
            n++;
        if (ps->at + n >= ps->e || ps->at[n] != '>') {
            fail_at(ps, ps->at, "an IRI closed by '>'");
            return -1;
        }
        val = lore_symbol(NULL);
        val.str = ps->at, val.len = n + 1;
        ps->at += n + 1;
    } else if (digit(c) || ((c == '-' || c == '+') && digit(peek(ps, 1)))) {
        if (number(ps, &k) != LORE_OK)
            return -1;
        *slot = qs_const(k);
        return 1;
    } else {
        size_t n = word(ps);
        if (n == 0)
            return 0;
        if (n == 1 && ps->at[0] == '_') {
            ps->at++;
            int rc = qprog_var(ps->p, "", 0, &v);
            if (rc != LORE_OK)
                return failed(ps, rc), -1;
            *slot = qs_var(v);
            return 1;
        }
        if ((n == 4 && memcmp(ps->at, "true", 4) == 0) ||
            (n == 5 && memcmp(ps->at, "false", 5) == 0)) {
            val = lore_boolean(n == 4);
            ps->at += n;
        } else if (n == 4 && memcmp(ps->at, "date", 4) == 0 && peek(ps, 4) == '(') {
            ps->at += 5;
            skip_ws(ps);
            if (peek(ps, 0) != '"') {
                fail(ps, "a quoted date in date(...)");
                return -1;
            }
            const char *str;
            size_t sn;
            const char *at = ps->at;
            if (string(ps, '"', &str, &sn) != LORE_OK)
                return -1;
            if (!punct(ps, ')')) {
                fail(ps, "')' after the date");
                return -1;
            }
            val = lore_date(str);
            val.len = sn;
            const char *why;
            if (lore_check_value(&val, &why) != LORE_OK) {
                fail_at(ps, at, "an ISO 8601 date");
                return -1;
            }
        } else {
            val = lore_symbol(NULL);
            val.str = ps->at, val.len = n;
            ps->at += n;
        }
    }
    if (add_const(ps, &val, &k) != LORE_OK)
        return -1;
    *slot = qs_const(k);
    return 1;
}

/* ------------------------------------------------------------------ */
/* paths                                                              */

static int path_alt(parser *ps, int *out);

static int path_primary(parser *ps, int *out)
{
    skip_ws(ps);
    int c = peek(ps, 0);
    if (c == '(') {
        if (enter(ps, ps->at) != LORE_OK)
            return ps->rc;
        ps->at++;
        if (path_alt(ps, out) != LORE_OK)
            return leave(ps, ps->rc);
        if (!punct(ps, ')'))
            return leave(ps, fail(ps, "')' closing the path"));
        return leave(ps, LORE_OK);
    }
    if (c == '_' && !name_char(peek(ps, 1)) && !digit(peek(ps, 1))) {
        ps->at++;
        if (qprog_pnode(ps->p, P_PRED, -1, -1, out) != LORE_OK)
            return failed(ps, LORE_ERR_NOMEM);
        ps->p->pnodes[*out].any = 1;
        return LORE_OK;
    }
    if (c == '<' || c == '\'' || name_start(c)) {
        qslot sl;
        /* keywords are not special here: a predicate may be called 'union' */
        if (read_term(ps, &sl) != 1)
            return ps->rc ? ps->rc : fail(ps, "a predicate");
        if (sl.var >= 0)
            return fail(ps, "a predicate name in a path");
        if (qprog_pnode(ps->p, P_PRED, -1, -1, out) != LORE_OK)
            return failed(ps, LORE_ERR_NOMEM);
        pnode *n = &ps->p->pnodes[*out];
        n->cval = -sl.var - 1;
        n->pred = ps->p->consts[n->cval].id;
        return LORE_OK;
    }
    return fail(ps, "a predicate (a name, <iri>, _ or a path in parentheses)");
}

static int path_unary(parser *ps, int *out)
{
    skip_ws(ps);
    if (peek(ps, 0) == '^') {
        if (enter(ps, ps->at) != LORE_OK)
            return ps->rc;
        ps->at++;
        int a;
        if (path_unary(ps, &a) != LORE_OK)
            return leave(ps, ps->rc);
        return leave(ps, qprog_pnode(ps->p, P_INV, a, -1, out) == LORE_OK
                             ? LORE_OK
                             : failed(ps, LORE_ERR_NOMEM));
    }
    if (path_primary(ps, out) != LORE_OK)
        return ps->rc;
    for (;;) { /* modifiers are written attached: parent+ */
        int c = peek(ps, 0), op;
        if (c == '+')
            op = P_PLUS;
        else if (c == '*')
            op = P_STAR;
        else if (c == '?' && !var_char(peek(ps, 1)))
            op = P_OPT;
        else
            break;
        ps->at++;
        int a = *out;
        if (qprog_pnode(ps->p, op, a, -1, out) != LORE_OK)
            return failed(ps, LORE_ERR_NOMEM);
    }
    return LORE_OK;
}

static int path_seq(parser *ps, int *out)
{
    if (path_unary(ps, out) != LORE_OK)
        return ps->rc;
    while (punct(ps, '/')) {
        int a = *out, b;
        if (path_unary(ps, &b) != LORE_OK)
            return ps->rc;
        if (qprog_pnode(ps->p, P_SEQ, a, b, out) != LORE_OK)
            return failed(ps, LORE_ERR_NOMEM);
    }
    return LORE_OK;
}

static int path_alt(parser *ps, int *out)
{
    if (path_seq(ps, out) != LORE_OK)
        return ps->rc;
    while (punct(ps, '|')) {
        int a = *out, b;
        if (path_seq(ps, &b) != LORE_OK)
            return ps->rc;
        if (qprog_pnode(ps->p, P_ALT, a, b, out) != LORE_OK)
            return failed(ps, LORE_ERR_NOMEM);
    }
    return LORE_OK;
}

/* ------------------------------------------------------------------ */
/* elements                                                           */

static int triple(parser *ps)
{
    qslot t[3];
    const char *start = ps->at;
    int r = read_term(ps, &t[0]);
    if (r < 0)
        return ps->rc;
    if (r == 0)
        return fail(ps, "a subject (a term or a variable)");
    skip_ws(ps);
    int path = -1, v;
    if (peek(ps, 0) == '?') {
        if (variable(ps, &v) < 0)
            return ps->rc;
        t[1] = qs_var(v);
    } else {
        int root;
        if (ps->at >= ps->e)
            return fail(ps, "a predicate or a path");
        if (path_alt(ps, &root) != LORE_OK)
            return ps->rc;
        const pnode *n = &ps->p->pnodes[root];
        if (n->op == P_PRED && !n->any) {
            t[1] = qs_const(n->cval);
            ps->p->npnodes--; /* a plain predicate: no path needed */
        } else {
            path = root;
            t[1].var = QS_NONE;
        }
    }
    r = read_term(ps, &t[2]);
    if (r < 0)
        return ps->rc;
    if (r == 0)
        return fail(ps, "an object (a term or a variable)");
    int node;
    if (qprog_node(ps->p, path >= 0 ? QN_PATH : QN_PATTERN, &node) != LORE_OK)
        return failed(ps, LORE_ERR_NOMEM);
    qnode *x = &ps->p->nodes[node];
    memcpy(x->t, t, sizeof t);
    x->path = path;
    x->pos = (int)(start - ps->s);
    return LORE_OK;
}

static int condition(parser *ps)
{
    int paren = punct(ps, '(');
    qslot a, b;
    int r = read_term(ps, &a);
    if (r < 0)
        return ps->rc;
    if (r == 0)
        return fail(ps, "a variable or a value to compare");
    skip_ws(ps);
    const char *opat = ps->at;
    static const struct {
        const char *op;
        int code;
    } ops[] = {{"<=", QF_LE}, {">=", QF_GE}, {"~=", QF_NE}, {"!=", QF_NE},
               {"==", QF_EQ}, {"<", QF_LT},  {">", QF_GT},  {"=", QF_EQ}};
    int op = -1;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0] && op < 0; i++) {
        size_t n = strlen(ops[i].op);
        if ((size_t)(ps->e - ps->at) >= n && memcmp(ps->at, ops[i].op, n) == 0) {
            op = ops[i].code;
            ps->at += n;
        }
    }
    int fi, node;
    if (op < 0 && keyword(ps, "in")) {
        if (!punct(ps, '('))
            return fail(ps, "'(' opening the set");
        int *set = NULL;
        size_t n = 0, cap = 0;
        if (!punct(ps, ')')) {
            do {
                qslot m;
                r = read_term(ps, &m);
                if (r < 0)
                    break;
                if (r == 0 || m.var >= 0) {
                    fail(ps, "a value in the set");
                    break;
                }
                if (mem_reserve(&ps->kb->m, (void **)&set, &cap, n + 1, sizeof *set) != 0) {
                    failed(ps, ctx_nomem(&ps->kb->ctx));
                    break;
                }
                set[n++] = -m.var - 1;
            } while (punct(ps, ','));
            if (!ps->rc && !punct(ps, ')'))
                fail(ps, "',' or ')' in the set");
        }
        if (!ps->rc &&
            (qprog_filter(ps->p, &fi) != LORE_OK || qprog_node(ps->p, QN_FILTER, &node) != LORE_OK))
            failed(ps, LORE_ERR_NOMEM);
        if (ps->rc) {
            mem_free(&ps->kb->m, set, cap, sizeof *set);
            return ps->rc;
        }
        /* keep exactly n ints (the filter frees nset of them) */
        int *exact = n ? mem_alloc(&ps->kb->m, n, sizeof *exact) : NULL;
        if (n && !exact) {
            mem_free(&ps->kb->m, set, cap, sizeof *set);
            return failed(ps, ctx_nomem(&ps->kb->ctx));
        }
        if (n)
            memcpy(exact, set, n * sizeof *set);
        mem_free(&ps->kb->m, set, cap, sizeof *set);
        qfilter *f = &ps->p->filters[fi];
        f->op = QF_IN, f->a = a, f->set = exact, f->nset = (int)n;
        f->b.var = QS_NONE;
        ps->p->nodes[node].filter = fi;
        ps->p->nodes[node].pos = (int)(opat - ps->s);
    } else {
        if (op < 0 && keyword(ps, "match"))
            op = QF_MATCH;
        if (op < 0)
            return fail_at(ps, opat, "a comparison (=, ~=, <, <=, >, >=, in or match)");
        skip_ws(ps);
        const char *bat = ps->at;
        r = read_term(ps, &b);
        if (r < 0)
            return ps->rc;
        if (r == 0)
            return fail(ps, op == QF_MATCH ? "a pattern string" : "a variable or a value");
        if (op == QF_MATCH) {
            const qconst *k = b.var < 0 ? &ps->p->consts[-b.var - 1] : NULL;
            if (!k || k->v.kind != LORE_TEXT)
                return fail_at(ps, bat, "a pattern string");
            const char *why = lpat_check(k->v.str, k->v.len);
            if (why)
                return ps->rc =
                           ctx_fail(&ps->kb->ctx, LORE_ERR_ARG, "match \"%s\": %s", k->v.str, why);
        }
        if (qprog_filter(ps->p, &fi) != LORE_OK || qprog_node(ps->p, QN_FILTER, &node) != LORE_OK)
            return failed(ps, LORE_ERR_NOMEM);
        qfilter *f = &ps->p->filters[fi];
        f->op = op, f->a = a, f->b = b;
        ps->p->nodes[node].filter = fi;
        ps->p->nodes[node].pos = (int)(opat - ps->s);
    }
    if (paren && !punct(ps, ')'))
        return fail(ps, "')' closing the condition");
    return LORE_OK;
}

/* ------------------------------------------------------------------ */
/* computed values                                                    */

static int expr_sum(parser *ps, int *out);

static int new_expr(parser *ps, int op, int a, int b, int *out)
{
    qexpr e;
    memset(&e, 0, sizeof e);
    e.op = op, e.a = a, e.b = b;
    int rc = qprog_expr(ps->p, &e, out);
    return rc == LORE_OK ? rc : failed(ps, rc);
}

/* name '(' args ')': a builtin or a registered function. */
static int expr_call(parser *ps, size_t n, int *out)
{
    const char *name = ps->at;
    int minargs = 0, maxargs = 0, fn = fn_builtin(name, n, &minargs, &maxargs);
    if (fn >= 0) {
        fn = -fn - 1;
    } else {
        fn = fn_lookup(ps->kb, name, n);
        minargs = 0, maxargs = 64;
        if (fn < 0) {
            char msg[160];
            snprintf(msg, sizeof msg, "a function (%s, or one registered with lore_function)",
                     fn_builtin_names());
            return fail_at(ps, name, msg);
        }
    }
    ps->at += n;
    punct(ps, '(');
    int args[64], nargs = 0;
    skip_ws(ps);
    if (!punct(ps, ')')) {
        do {
            if (nargs == 64)
                return fail(ps, "at most 64 arguments");
            if (expr_sum(ps, &args[nargs]) != LORE_OK)
                return ps->rc;
            nargs++;
        } while (punct(ps, ','));
        if (!punct(ps, ')'))
            return fail(ps, "',' or ')' after an argument");
    }
    if (nargs < minargs || nargs > maxargs) {
        char msg[96];
        if (minargs == maxargs)
            snprintf(msg, sizeof msg, "%d argument%s to %.*s", minargs, minargs == 1 ? "" : "s",
                     (int)n, name);
        else
            snprintf(msg, sizeof msg, "%d to %d arguments to %.*s", minargs, maxargs, (int)n, name);
        return fail_at(ps, name, msg);
    }
    qexpr e;
    memset(&e, 0, sizeof e);
    e.op = QX_CALL, e.fn = fn, e.a = ps->p->nargs, e.b = nargs;
    for (int i = 0; i < nargs; i++)
        if (qprog_arg(ps->p, args[i]) != LORE_OK)
            return failed(ps, LORE_ERR_NOMEM);
    int rc = qprog_expr(ps->p, &e, out);
    return rc == LORE_OK ? rc : failed(ps, rc);
}

static int expr_unary(parser *ps, int *out)
{
    skip_ws(ps);
    int c = peek(ps, 0);
    if (c == '-' && !digit(peek(ps, 1))) {
        if (enter(ps, ps->at) != LORE_OK)
            return ps->rc;
        ps->at++;
        int a;
        if (expr_unary(ps, &a) != LORE_OK)
            return leave(ps, ps->rc);
        return leave(ps, new_expr(ps, QX_NEG, a, -1, out));
    }
    if (c == '(') {
        if (enter(ps, ps->at) != LORE_OK)
            return ps->rc;
        ps->at++;
        if (expr_sum(ps, out) != LORE_OK)
            return leave(ps, ps->rc);
        if (!punct(ps, ')'))
            return leave(ps, fail(ps, "')' closing the expression"));
        return leave(ps, LORE_OK);
    }
    size_t n = word(ps);
    if (n > 0 && peek(ps, n) == '(' &&
        !(n == 4 && memcmp(ps->at, "date", 4) == 0 && peek(ps, 5) == '"')) {
        if (enter(ps, ps->at) != LORE_OK)
            return ps->rc;
        return leave(ps, expr_call(ps, n, out));
    }
    qexpr e;
    memset(&e, 0, sizeof e);
    e.op = QX_SLOT;
    int r = read_term(ps, &e.slot);
    if (r < 0)
        return ps->rc;
    if (r == 0)
        return fail(ps, "a value, a variable or a function call");
    if (e.slot.var >= 0 && ps->p->vars[e.slot.var][0] == '\0')
        return fail_at(ps, ps->at - 1, "a named variable (not _)");
    int rc = qprog_expr(ps->p, &e, out);
    return rc == LORE_OK ? rc : failed(ps, rc);
}

static int expr_product(parser *ps, int *out)
{
    if (expr_unary(ps, out) != LORE_OK)
        return ps->rc;
    for (;;) {
        int op;
        if (punct(ps, '*'))
            op = QX_MUL;
        else if (punct(ps, '/'))
            op = QX_DIV;
        else
            return LORE_OK;
        int b;
        if (expr_unary(ps, &b) != LORE_OK)
            return ps->rc;
        if (new_expr(ps, op, *out, b, out) != LORE_OK)
            return ps->rc;
    }
}

static int expr_sum(parser *ps, int *out)
{
    if (expr_product(ps, out) != LORE_OK)
        return ps->rc;
    for (;;) {
        int op;
        skip_ws(ps);
        if (punct(ps, '+'))
            op = QX_ADD;
        else if (punct(ps, '-'))
            op = QX_SUB;
        else
            return LORE_OK;
        int b;
        if (expr_product(ps, &b) != LORE_OK)
            return ps->rc;
        if (new_expr(ps, op, *out, b, out) != LORE_OK)
            return ps->rc;
    }
}

/* variable '=' expr, the variable read already. */
static int bind_element(parser *ps, int var, const char *start)
{
    if (!ps->p->vars[var][0])
        return fail_at(ps, start, "a named variable before '='");
    int root;
    if (expr_sum(ps, &root) != LORE_OK)
        return ps->rc;
    int rc = qprog_bind(ps->p, var, root);
    if (rc != LORE_OK)
        return failed(ps, rc);
    ps->p->nodes[ps->p->nnodes - 1].pos = (int)(start - ps->s);
    return LORE_OK;
}

static int body(parser *ps, int top);

static int braced(parser *ps, int kind, const char *what)
{
    skip_ws(ps);
    if (peek(ps, 0) != '{')
        return fail(ps, what);
    if (enter(ps, ps->at) != LORE_OK)
        return ps->rc;
    ps->at++;
    int rc = qprog_begin(ps->p, kind);
    if (rc != LORE_OK)
        return leave(ps, failed(ps, rc));
    if (body(ps, 0) != LORE_OK)
        return leave(ps, ps->rc);
    if (!punct(ps, '}'))
        return leave(ps, fail(ps, "'}' or another pattern"));
    if (qprog_end(ps->p, kind) != LORE_OK)
        return leave(ps, failed(ps, LORE_ERR_STATE));
    return leave(ps, LORE_OK);
}

static int modifiers(parser *ps, int after_select);

/* Is a modifier next?  (Not consumed.) */
static int modifier_next(parser *ps, int loose)
{
    const char *save = ps->at;
    int yes = 0;
    if (keyword(ps, "order") || keyword(ps, "group")) {
        yes = loose || keyword(ps, "by");
    } else if (keyword(ps, "limit") || keyword(ps, "offset")) {
        skip_ws(ps);
        yes = digit(peek(ps, 0));
    }
    ps->at = save;
    return yes;
}

static int element(parser *ps)
{
    const char *save = ps->at;
    /* a text of a million patterns takes seconds to read: a host's
     * deadline, step budget and interrupt reach the parser too */
    if ((++ps->elements & 255) == 0 && ctx_interrupted(&ps->kb->ctx))
        return failed(ps, LORE_ERR_INTERRUPT);
    if (keyword(ps, "filter"))
        return condition(ps);
    skip_ws(ps);
    if (peek(ps, 0) == '?') { /* ?v = expr, a computed value */
        const char *start = ps->at;
        size_t n = 1;
        while (ps->at + n < ps->e && var_char((unsigned char)ps->at[n]))
            n++;
        const char *after = ps->at + n;
        while (after < ps->e && (*after == ' ' || *after == '\t'))
            after++;
        if (after < ps->e && *after == '=' && !(after + 1 < ps->e && after[1] == '=')) {
            int v;
            if (variable(ps, &v) < 0)
                return ps->rc;
            ps->at = after + 1;
            return bind_element(ps, v, start);
        }
    }
    if (keyword(ps, "optional"))
        return braced(ps, QN_OPTIONAL, "'{' after optional");
    if (keyword(ps, "without"))
        return braced(ps, QN_WITHOUT, "'{' after without");
    ps->at = save;
    skip_ws(ps);
    if (peek(ps, 0) == '{') {
        int rc = qprog_begin(ps->p, QN_UNION);
        if (rc != LORE_OK)
            return failed(ps, rc);
        do {
            if (braced(ps, QN_GROUP, "'{' after union") != LORE_OK)
                return ps->rc;
        } while (keyword(ps, "union"));
        if (qprog_end(ps->p, QN_UNION) != LORE_OK)
            return failed(ps, LORE_ERR_STATE);
        return LORE_OK;
    }
    return triple(ps);
}

static int body(parser *ps, int top)
{
    for (;;) {
        skip_ws(ps);
        if (ps->at >= ps->e || peek(ps, 0) == '}')
            return LORE_OK;
        if (top && modifier_next(ps, 0))
            return modifiers(ps, 0);
        if (element(ps) != LORE_OK)
            return ps->rc;
        if (!punct(ps, '.'))
            punct(ps, ','); /* Datalog's separator */
    }
}

static int order_key(parser *ps)
{
    int desc = 0, v, paren = 0;
    skip_ws(ps);
    if (punct(ps, '-'))
        desc = 1;
    else if (punct(ps, '+'))
        desc = 0;
    else if (keyword(ps, "desc"))
        desc = paren = 1;
    else if (keyword(ps, "asc"))
        paren = 1;
    if (paren && !punct(ps, '('))
        return fail(ps, "'(' after asc or desc");
    int r = variable(ps, &v);
    if (r < 0)
        return ps->rc;
    if (r == 0)
        return fail(ps, "a variable to order by");
    if (paren && !punct(ps, ')'))
        return fail(ps, "')'");
    qprog *p = ps->p;
    size_t cap = (size_t)p->caporder;
    if (mem_reserve(&ps->kb->m, (void **)&p->order, &cap, (size_t)p->norder + 1,
                    sizeof *p->order) != 0)
        return failed(ps, ctx_nomem(&ps->kb->ctx));
    p->caporder = (int)cap;
    p->order[p->norder].var = v, p->order[p->norder].desc = desc;
    p->norder++;
    return LORE_OK;
}

static int count_arg(parser *ps, uint64_t *n)
{
    skip_ws(ps);
    if (!digit(peek(ps, 0)))
        return fail(ps, "a number");
    uint64_t x = 0;
    while (digit(peek(ps, 0))) {
        unsigned d = (unsigned)(*ps->at++ - '0');
        if (x > (UINT64_MAX - d) / 10)
            return fail(ps, "a smaller number");
        x = x * 10 + d;
    }
    *n = x;
    return LORE_OK;
}

static int modifiers(parser *ps, int after_select)
{
    qprog *p = ps->p;
    for (;;) {
        skip_ws(ps);
        if (ps->at >= ps->e)
            return LORE_OK;
        if (keyword(ps, "group")) {
            if (!keyword(ps, "by") && !after_select)
                return fail(ps, "'by' after group");
            int v, r, n = 0;
            while ((r = variable(ps, &v)) == 1) {
                int seen = 0; /* grouped by already: once is the same */
                for (int g = 0; g < p->ngroup; g++)
                    seen |= p->group[g] == v;
                n++;
                if (seen)
                    continue;
                size_t cap = (size_t)p->capgroup;
                if (mem_reserve(&ps->kb->m, (void **)&p->group, &cap, (size_t)p->ngroup + 1,
                                sizeof *p->group) != 0)
                    return failed(ps, ctx_nomem(&ps->kb->ctx));
                p->capgroup = (int)cap;
                p->group[p->ngroup++] = v;
            }
            if (r < 0)
                return ps->rc;
            if (n == 0)
                return fail(ps, "a variable to group by");
        } else if (keyword(ps, "order")) {
            if (!keyword(ps, "by") && !after_select)
                return fail(ps, "'by' after order");
            do {
                if (order_key(ps) != LORE_OK)
                    return ps->rc;
                skip_ws(ps);
            } while (peek(ps, 0) == '?' || peek(ps, 0) == '-' || peek(ps, 0) == '+' ||
                     (word(ps) == 4 && memcmp(ps->at, "desc", 4) == 0) ||
                     (word(ps) == 3 && memcmp(ps->at, "asc", 3) == 0));
        } else if (keyword(ps, "limit")) {
            if (count_arg(ps, &p->limit) != LORE_OK)
                return ps->rc;
        } else if (keyword(ps, "offset")) {
            if (count_arg(ps, &p->offset) != LORE_OK)
                return ps->rc;
        } else {
            return fail(ps, after_select ? "group, order, limit, offset or the end"
                                         : "order by, group by, limit, offset or the end");
        }
    }
}

/* item := variable | agg '(' ['distinct'] (variable | '*') ')' ['as' variable] */
static int item(parser *ps)
{
    static const struct {
        const char *name;
        int agg;
    } aggs[] = {
        {"count", QA_COUNT}, {"sum", QA_SUM}, {"min", QA_MIN}, {"max", QA_MAX}, {"avg", QA_AVG}};
    qprog *p = ps->p;
    qitem it = {-1, QA_NONE, 0, -1};
    int v, r = variable(ps, &v);
    if (r < 0)
        return ps->rc;
    if (r == 1) {
        if (!p->vars[v][0])
            return fail(ps, "a named variable");
        it.var = v;
    } else {
        for (size_t i = 0; i < sizeof aggs / sizeof aggs[0] && it.agg == QA_NONE; i++) {
            const char *save = ps->at;
            if (keyword(ps, aggs[i].name)) {
                if (punct(ps, '('))
                    it.agg = aggs[i].agg;
                else
                    ps->at = save;
            }
        }
        if (it.agg == QA_NONE)
            return fail(ps, "a variable or an aggregate (count, sum, min, max, avg)");
        it.distinct = keyword(ps, "distinct");
        if (it.agg == QA_COUNT && punct(ps, '*')) {
            it.var = -1;
        } else {
            r = variable(ps, &v);
            if (r < 0)
                return ps->rc;
            if (r == 0 || !p->vars[v][0])
                return fail(ps, it.agg == QA_COUNT ? "a variable or '*'" : "a variable");
            it.var = v;
        }
        if (!punct(ps, ')'))
            return fail(ps, "')'");
        char name[80];
        if (keyword(ps, "as")) {
            r = variable(ps, &v);
            if (r < 0)
                return ps->rc;
            if (r == 0 || !p->vars[v][0])
                return fail(ps, "a variable name after as");
            it.out = v;
        } else {
            static const char *const fn[] = {"", "count", "sum", "min", "max", "avg"};
            if (it.var >= 0)
                snprintf(name, sizeof name, "%s_%.60s", fn[it.agg], p->vars[it.var]);
            else
                snprintf(name, sizeof name, "%s", fn[it.agg]);
            int rc = qprog_var(p, name, strlen(name), &it.out);
            if (rc != LORE_OK)
                return failed(ps, rc);
        }
        for (int i = 0; i < p->nitems; i++)
            if (p->items[i].agg && p->items[i].out == it.out)
                return ps->rc = ctx_fail(&ps->kb->ctx, LORE_ERR_ARG,
                                         "two aggregates named ?%s: name one with 'as'",
                                         p->vars[it.out]);
    }
    size_t cap = (size_t)p->capitems;
    if (mem_reserve(&ps->kb->m, (void **)&p->items, &cap, (size_t)p->nitems + 1,
                    sizeof *p->items) != 0)
        return failed(ps, ctx_nomem(&ps->kb->ctx));
    p->capitems = (int)cap;
    p->items[p->nitems++] = it;
    return LORE_OK;
}

static int select_query(parser *ps)
{
    if (keyword(ps, "distinct"))
        ps->p->distinct = 1;
    if (!punct(ps, '*')) {
        int n = 0;
        for (;;) {
            skip_ws(ps);
            const char *save = ps->at;
            if (keyword(ps, "where") || peek(ps, 0) == '{') {
                ps->at = save;
                break;
            }
            if (item(ps) != LORE_OK)
                return ps->rc;
            n++;
        }
        if (n == 0)
            return fail(ps, "a variable, an aggregate or '*' after select");
    }
    keyword(ps, "where");
    if (!punct(ps, '{'))
        return fail(ps, "'{' opening the patterns");
    if (body(ps, 0) != LORE_OK)
        return ps->rc;
    if (!punct(ps, '}'))
        return fail(ps, "'}' or another pattern");
    return modifiers(ps, 1);
}

/* Starts reading text[0..len): LORE_OK, or a syntax error at the first
 * byte that is not valid UTF-8 or is NUL. */
static int init(parser *ps, qprog *p, const char *text, size_t len)
{
    ps->kb = p->kb, ps->p = p, ps->s = ps->at = text, ps->e = text + len, ps->rc = LORE_OK;
    ps->depth = 0, ps->elements = 0;
    if (!text && len)
        return ps->rc = ctx_fail(&ps->kb->ctx, LORE_ERR_ARG, "no text");
    size_t ok = len ? dict_utf8_span(text, len) : 0;
    if (ok < len) {
        int line, col;
        line_col(ps, text + ok, &line, &col);
        ps->rc = ctx_fail(&ps->kb->ctx, LORE_ERR_SYNTAX,
                         "query:%d:%d: expected valid UTF-8 without NUL bytes", line, col);
    }
    return ps->rc;
}

int qparse_query(lore_query *q, const char *text, size_t len)
{
    parser ps;
    if (init(&ps, query_prog(q), text, len) != LORE_OK)
        return ps.rc;
    if (keyword(&ps, "select"))
        select_query(&ps);
    else
        body(&ps, 1);
    if (!ps.rc) {
        skip_ws(&ps);
        if (ps.at < ps.e)
            fail(&ps,
                 ps.at[0] == '}' ? "a pattern (this '}' closes nothing)" : "a pattern or the end");
    }
    return ps.rc;
}

int qparse_item(lore_query *q, const char *text, size_t len)
{
    parser ps;
    if (init(&ps, query_prog(q), text, len) != LORE_OK)
        return ps.rc;
    do {
        if (item(&ps) != LORE_OK)
            break;
        skip_ws(&ps);
    } while (ps.at < ps.e);
    return ps.rc;
}

int qparse_filter(lore_query *q, const char *text, size_t len)
{
    parser ps;
    if (init(&ps, query_prog(q), text, len) != LORE_OK)
        return ps.rc;
    keyword(&ps, "filter");
    if (condition(&ps) == LORE_OK) {
        skip_ws(&ps);
        if (ps.at < ps.e)
            fail(&ps, "the end of the condition");
    }
    return ps.rc;
}

int qparse_expr(lore_query *q, const char *text, size_t len, int *root)
{
    parser ps;
    if (init(&ps, query_prog(q), text, len) != LORE_OK)
        return ps.rc;
    if (expr_sum(&ps, root) == LORE_OK) {
        skip_ws(&ps);
        if (ps.at < ps.e)
            fail(&ps, "an operator (+ - * /) or the end of the expression");
    }
    return ps.rc;
}

int qparse_path(qprog *p, const char *text, size_t len, int *root)
{
    parser ps;
    if (init(&ps, p, text, len) != LORE_OK)
        return ps.rc;
    if (path_alt(&ps, root) == LORE_OK) {
        skip_ws(&ps);
        if (ps.at < ps.e)
            fail(&ps, "the end of the path (paths use / | ^ + * ? and parentheses)");
    }
    return ps.rc;
}
