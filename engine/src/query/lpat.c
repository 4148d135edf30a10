/* lpat.c - Lua string patterns: a checker and a backtracking matcher
 * written from the reference manual's description (see lpat.h). */
#include "lpat.h"

#include "kb.h"

typedef struct mstate {
    const char *s0, *se; /* subject */
    const char *pe;      /* pattern end */
    int depth;
    int stop;            /* 0, or why matching stops: LPAT_TOO_DEEP, _TOO_LONG, _STOPPED */
    unsigned long steps; /* left before LPAT_MAX_STEPS */
    unsigned poll_in;    /* steps left before the next poll */
    int (*poll)(void *);
    void *ud;
} mstate;

/* Counts a step; 0 when matching must stop (ms->stop says why). */
static int step(mstate *ms)
{
    if (ms->stop)
        return 0;
    if (ms->steps-- == 0) {
        ms->stop = LPAT_TOO_LONG;
        return 0;
    }
    if (--ms->poll_in == 0) {
        ms->poll_in = LPAT_POLL_STEPS;
        if (ms->poll && ms->poll(ms->ud)) {
            ms->stop = LPAT_STOPPED;
            return 0;
        }
    }
    return 1;
}

/* ASCII classes, independent of the process's locale. */
static int is_lower(int c)
{
    return c >= 'a' && c <= 'z';
}
static int is_upper(int c)
{
    return c >= 'A' && c <= 'Z';
}
static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}
static int is_alpha(int c)
{
    return is_lower(c) || is_upper(c);
}
static int is_space(int c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}
static int is_cntrl(int c)
{
    return c < 32 || c == 127;
}
static int is_graph(int c)
{
    return c > 32 && c < 127;
}
static int is_punct(int c)
{
    return is_graph(c) && !is_alpha(c) && !is_digit(c);
}
static int is_xdigit(int c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Does byte c belong to class letter cl (%a, %A, ...)?  Other letters stand
 * for themselves. */
static int class_has(int c, int cl)
{
    int r;
    switch (cl | 0x20) {
    case 'a':
        r = is_alpha(c);
        break;
    case 'c':
        r = is_cntrl(c);
        break;
    case 'd':
        r = is_digit(c);
        break;
    case 'g':
        r = is_graph(c);
        break;
    case 'l':
        r = is_lower(c);
        break;
    case 'p':
        r = is_punct(c);
        break;
    case 's':
        r = is_space(c);
        break;
    case 'u':
        r = is_upper(c);
        break;
    case 'w':
        r = is_alpha(c) || is_digit(c);
        break;
    case 'x':
        r = is_xdigit(c);
        break;
    default:
        return cl == c;
    }
    return is_upper(cl) ? !r : r;
}

/* The end of the set starting at p ('['), pointing at its ']', or NULL. */
static const char *set_end(const char *p, const char *pe)
{
    p++;
    if (p < pe && *p == '^')
        p++;
    do { /* the first character may be a literal ']' */
        if (p >= pe)
            return NULL;
        if (*p == '%') {
            if (++p >= pe)
                return NULL;
        }
        p++;
    } while (p >= pe || *p != ']');
    return p;
}

/* Set [..] from p to its ']' at ec: does c belong? */
static int set_has(int c, const char *p, const char *ec)
{
    int neg = 0;
    p++;
    if (*p == '^') {
        neg = 1;
        p++;
    }
    for (; p < ec; p++) {
        if (*p == '%') {
            p++;
            if (class_has(c, (unsigned char)*p))
                return !neg;
        } else if (p + 2 < ec && p[1] == '-') {
            if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2])
                return !neg;
            p += 2;
        } else if ((unsigned char)*p == c) {
            return !neg;
        }
    }
    return neg;
}

/* The end of the single-character item at p. */
static const char *item_end(const char *p, const char *pe)
{
    if (*p == '%')
        return p + 2;
    if (*p == '[')
        return set_end(p, pe) + 1;
    return p + 1;
}

static int single(const mstate *ms, const char *s, const char *p, const char *ep)
{
    if (s >= ms->se)
        return 0;
    int c = (unsigned char)*s;
    switch (*p) {
    case '.':
        return 1;
    case '%':
        return class_has(c, (unsigned char)p[1]);
    case '[':
        return set_has(c, p, ep - 1);
    default:
        return (unsigned char)*p == c;
    }
}

static const char *match(mstate *ms, const char *s, const char *p);

static const char *max_expand(mstate *ms, const char *s, const char *p, const char *ep)
{
    size_t i = 0;
    while (single(ms, s + i, p, ep))
        i++;
    for (;;) { /* try the longest run first */
        const char *r = match(ms, s + i, ep + 1);
        if (r)
            return r;
        if (i == 0 || ms->stop)
            return NULL;
        i--;
    }
}

static const char *min_expand(mstate *ms, const char *s, const char *p, const char *ep)
{
    for (;;) {
        const char *r = match(ms, s, ep + 1);
        if (r)
            return r;
        if (ms->stop || !single(ms, s, p, ep))
            return NULL;
        s++;
    }
}

static const char *balance(const mstate *ms, const char *s, const char *p)
{
    if (s >= ms->se || *s != p[0])
        return NULL;
    int open = p[0], close = p[1], depth = 1;
    while (++s < ms->se) {
        if (*s == close) {
            if (--depth == 0)
                return s + 1;
        } else if (*s == open) {
            depth++;
        }
    }
    return NULL;
}

static const char *match(mstate *ms, const char *s, const char *p)
{
    if (++ms->depth > LPAT_MAX_DEPTH) {
        ms->stop = LPAT_TOO_DEEP;
        ms->depth--;
        return NULL;
    }
    const char *r = NULL;
    for (;;) {
        if (!step(ms))
            break;
        if (p == ms->pe) {
            r = s;
            break;
        }
        if (*p == '(' || *p == ')') { /* captures only group */
            p++;
            continue;
        }
        if (*p == '$' && p + 1 == ms->pe) {
            r = s == ms->se ? s : NULL;
            break;
        }
        if (*p == '%' && p[1] == 'b') {
            s = balance(ms, s, p + 2);
            if (!s)
                break;
            p += 4;
            continue;
        }
        if (*p == '%' && p[1] == 'f') {
            const char *ep = set_end(p + 2, ms->pe) + 1;
            int prev = s == ms->s0 ? 0 : (unsigned char)s[-1];
            int cur = s < ms->se ? (unsigned char)*s : 0;
            if (set_has(prev, p + 2, ep - 1) || !set_has(cur, p + 2, ep - 1))
                break;
            p = ep;
            continue;
        }
        const char *ep = item_end(p, ms->pe);
        char q = ep < ms->pe ? *ep : '\0';
        if (q == '?') {
            if (single(ms, s, p, ep) && (r = match(ms, s + 1, ep + 1)) != NULL)
                break;
            p = ep + 1;
            continue;
        }
        if (q == '+') {
            r = single(ms, s, p, ep) ? max_expand(ms, s + 1, p, ep) : NULL;
            break;
        }
        if (q == '*') {
            r = max_expand(ms, s, p, ep);
            break;
        }
        if (q == '-') {
            r = min_expand(ms, s, p, ep);
            break;
        }
        if (!single(ms, s, p, ep))
            break;
        s++;
        p = ep;
    }
    ms->depth--;
    return r;
}

const char *lpat_check(const char *p, size_t n)
{
    const char *pe = p + n;
    int open = 0;
    if (p < pe && *p == '^')
        p++;
    while (p < pe) {
        switch (*p) {
        case '(':
            open++;
            p++;
            continue;
        case ')':
            if (--open < 0)
                return "malformed pattern (unmatched ')')";
            p++;
            continue;
        case '%':
            if (p + 1 >= pe)
                return "malformed pattern (ends with '%')";
            if (p[1] == 'b') {
                if (p + 3 >= pe)
                    return "malformed pattern (missing arguments to '%b')";
                p += 4;
                continue;
            }
            if (p[1] == 'f') {
                if (p + 2 >= pe || p[2] != '[')
                    return "malformed pattern (missing '[' after '%f')";
                if (!set_end(p + 2, pe))
                    return "malformed pattern (missing ']')";
                p = set_end(p + 2, pe) + 1;
                continue;
            }
            if (p[1] >= '0' && p[1] <= '9')
                return "back-references (%1 ...) are not supported in match filters";
            break;
        case '[':
            if (!set_end(p, pe))
                return "malformed pattern (missing ']')";
            break;
        default:
            break;
        }
        p = item_end(p, pe);
        if (p < pe && (*p == '*' || *p == '+' || *p == '-' || *p == '?'))
            p++;
    }
    if (open > 0)
        return "malformed pattern (unfinished capture)";
    return NULL;
}

int lpat_find(const char *s, size_t sn, const char *p, size_t pn, int (*poll)(void *), void *ud)
{
    mstate ms = {s, s + sn, p + pn, 0, 0, LPAT_MAX_STEPS, LPAT_POLL_STEPS, poll, ud};
    int anchor = pn > 0 && *p == '^';
    if (anchor)
        p++;
    const char *at = s;
    do {
        ms.depth = 0;
        if (match(&ms, at, p))
            return 1;
        if (ms.stop)
            return ms.stop;
    } while (at++ < ms.se && !anchor);
    return 0;
}

int lpat_walk(const char *s, size_t sn, size_t init, const char *p, size_t pn, size_t max,
              int (*poll)(void *), void *ud)
{
    mstate ms = {s, s + sn, p + pn, 0, 0, LPAT_MAX_STEPS, LPAT_POLL_STEPS, poll, ud};
    int anchor = pn > 0 && *p == '^';
    if (anchor)
        p++;
    const char *src = s + (init < sn ? init : sn), *last = NULL;
    for (size_t n = 0; n < max;) {
        ms.depth = 0;
        const char *e = match(&ms, src, p);
        if (ms.stop)
            return ms.stop;
        if (e && e != last)
            n++, src = last = e;
        else if (src < ms.se)
            src++;
        else
            break;
        if (anchor)
            break;
    }
    return 0;
}

/* lore_pattern_walk's poll: the matcher polls every LPAT_POLL_STEPS steps,
 * the kb's step budget counts a poll as 1,024 steps, so each poll of the
 * matcher is that many of the kb's. */
static int poll_budget(void *ud)
{
    ctx *c = ud;
    for (int k = 0; k < LPAT_POLL_STEPS / 1024; k++)
        if (ctx_interrupted(c))
            return 1;
    return 0;
}

int lore_pattern_walk(lore_kb *kb, const char *s, size_t sn, size_t init, const char *p, size_t pn,
                      size_t max)
{
    ctx_clear(&kb->ctx);
    const char *why = lpat_check(p, pn);
    if (why)
        return ctx_fail(&kb->ctx, LORE_ERR_ARG, "%s", why);
    int r = lpat_walk(s, sn, init, p, pn, max, poll_budget, &kb->ctx);
    if (r == LPAT_STOPPED)
        return LORE_ERR_INTERRUPT; /* the poll set the message */
    if (r == LPAT_TOO_DEEP)
        return ctx_fail(&kb->ctx, LORE_ERR_LIMIT,
                        "string pattern too complex (recursion deeper than %d)", LPAT_MAX_DEPTH);
    if (r == LPAT_TOO_LONG)
        return ctx_fail(&kb->ctx, LORE_ERR_LIMIT,
                        "string pattern too costly (more than %d matcher steps)", LPAT_MAX_STEPS);
    return LORE_OK;
}
