/* lua_query.c - the binding's query part: kb:query / kb:select (table
 * form), kb:q (text form), kb:plan, kb:reach, and the result object they
 * return.  A client of lore.h only.
 *
 * A result is a prepared query: iterating it (for row in r do ... end)
 * steps through its rows once; r:all(), r:first(), r:count(), r:json() and
 * printing run it from the start.  Rows are tables keyed by variable name
 * without the '?'; unbound variables are absent (nil).  Filter functions
 * are Lua functions called from C through lore_query_filter_fn: they run
 * under lua_pcall, and an error they raise is re-raised once the C query
 * has stopped, so it never unwinds through the core. */
#include <string.h>

#include "lualore.h"

#define LORE_QUERY_MT "lore.query"
enum { MAX_FNS = 32 }; /* filter and let functions per query */

typedef struct lquery lquery;

typedef struct lfilter {
    lquery *lq;
    int k; /* index in the function table */
} lfilter;

struct lquery {
    lore_query *q;
    lore_kb *kb;
    lua_State *L; /* the state running the query (set before each step) */
    int fntab;    /* stack index of the function table while running */
    int nfns;
    lfilter fns[MAX_FNS];
    int iterating;
};

/* The query userdata: uservalue 1 is its kb (kept alive), 2 the table of
 * filter functions (fns[k].k -> function; [0] a pending error). */

static lquery *check_query(lua_State *L, int i)
{
    lquery *lq = luaL_checkudata(L, i, LORE_QUERY_MT);
    if (!lq->q)
        luaL_argerror(L, i, "query is closed");
    return lq;
}

static int query_gc(lua_State *L)
{
    lquery *lq = luaL_checkudata(L, 1, LORE_QUERY_MT);
    lore_query_free(lq->q);
    lq->q = NULL;
    return 0;
}

/* A new empty query userdata for kb at index 1: left on the stack. */
static lquery *new_query(lua_State *L)
{
    lore_kb *kb = lualore_checkkb(L, 1)->kb;
    lquery *lq = lua_newuserdatauv(L, sizeof *lq, 2);
    memset(lq, 0, sizeof *lq);
    lq->kb = kb;
    luaL_setmetatable(L, LORE_QUERY_MT);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);
    lua_newtable(L);
    lua_setiuservalue(L, -2, 2);
    return lq;
}

/* ------------------------------------------------------------------ */
/* rows                                                               */

static void push_value(lua_State *L, lore_kb *kb, const lore_query *q, size_t col)
{
    lore_id id = lore_query_id(q, col);
    if (id) {
        lualore_pushterm(L, kb, id);
        return;
    }
    lore_value v;
    if (lore_query_value(q, col, &v) != LORE_OK)
        lua_pushnil(L);
    else if (v.kind == LORE_INTEGER)
        lua_pushinteger(L, (lua_Integer)v.i);
    else
        lua_pushnumber(L, v.n);
}

static void push_row(lua_State *L, lquery *lq)
{
    size_t n = lore_query_ncols(lq->q);
    lua_createtable(L, 0, (int)n);
    for (size_t c = 0; c < n; c++) {
        const char *name = lore_query_colname(lq->q, c);
        if (!name || !name[0])
            continue;
        push_value(L, lq->kb, lq->q, c);
        lua_setfield(L, -2, name);
    }
}

void lualore_push_bindings(lua_State *L, lore_kb *kb, const lore_query *q)
{
    size_t n = lore_query_nvars(q);
    lua_createtable(L, 0, (int)n);
    for (size_t v = 0; v < n; v++) {
        const char *name = lore_query_varname(q, v);
        lore_id id = lore_query_binding(q, v);
        if (!name[0] || !id)
            continue;
        lualore_pushterm(L, kb, id);
        lua_setfield(L, -2, name);
    }
}

/* The filter callback: the row as a table, the function's truth. */
static int call_filter(void *ud, const lore_query *q)
{
    lfilter *f = ud;
    lquery *lq = f->lq;
    lua_State *L = lq->L;
    if (!lua_checkstack(L, 4))
        return LORE_ERR_NOMEM;
    lua_rawgeti(L, lq->fntab, f->k);
    lualore_push_bindings(L, lq->kb, q);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        lua_rawseti(L, lq->fntab, 0); /* re-raised by step() */
        return LORE_ERR_STATE;
    }
    int keep = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return keep;
}

/* A let function's callback: the arguments as Lua values, the result as
 * a term (nil: no value).  The result stays anchored in the function
 * table (key -1) until the next call, so its strings live on. */
static int call_let(void *ud, lore_kb *kb, const lore_value *args, size_t nargs, lore_value *out)
{
    lfilter *f = ud;
    lquery *lq = f->lq;
    lua_State *L = lq->L;
    (void)kb;
    if (!lua_checkstack(L, (int)nargs + 4))
        return LORE_ERR_NOMEM;
    lua_rawgeti(L, lq->fntab, f->k);
    for (size_t i = 0; i < nargs; i++)
        lualore_pushvalue(L, &args[i]);
    if (lua_pcall(L, (int)nargs, 1, 0) != LUA_OK) {
        lua_rawseti(L, lq->fntab, 0);
        return LORE_ERR_CALLBACK;
    }
    lua_pushvalue(L, -1);
    lua_rawseti(L, lq->fntab, -1); /* anchored: its strings live on */
    const char *what;
    int rc = !lua_isnil(L, -1) && lualore_tovalue(L, -1, out, &what) ? LORE_OK : LORE_NOOP;
    lua_pop(L, 1);
    return rc;
}

/* Raises for a failed status: a filter function's own error, or the
 * query's message. */
static int raise_error(lua_State *L, lquery *lq, int rc)
{
    if (lq->fntab) {
        lua_rawgeti(L, lq->fntab, 0);
        if (!lua_isnil(L, -1)) {
            lua_pushnil(L);
            lua_rawseti(L, lq->fntab, 0);
            return lua_error(L);
        }
        lua_pop(L, 1);
    }
    if (rc == LORE_ERR_CHANGED)
        return luaL_error(L, "the knowledge base changed during the query "
                             "(collect the rows first, e.g. with :all())");
    return lualore_fail(L, lq->kb, rc);
}

/* Runs fn(lq) with the function table on the stack for callbacks. */
static int with_fns(lua_State *L, int self, lquery *lq, int (*fn)(lquery *, void *), void *arg)
{
    lua_getiuservalue(L, self, 2);
    lq->L = L;
    lq->fntab = lua_gettop(L);
    int rc = fn(lq, arg);
    if (rc < 0)
        raise_error(L, lq, rc);
    lua_settop(L, lq->fntab - 1);
    lq->fntab = 0;
    return rc;
}

static int do_next(lquery *lq, void *arg)
{
    (void)arg;
    return lore_query_next(lq->q);
}

static int do_count(lquery *lq, void *arg)
{
    return lore_query_count(lq->q, arg);
}

/* __call: the next row, or nil at the end (a generic for) */
static int query_call(lua_State *L)
{
    lquery *lq = check_query(L, 1);
    if (!lq->iterating) {
        lore_query_reset(lq->q);
        lq->iterating = 1;
    }
    int rc = with_fns(L, 1, lq, do_next, NULL);
    if (rc == LORE_DONE) {
        lq->iterating = 0;
        lore_query_reset(lq->q);
        return 0;
    }
    push_row(L, lq);
    return 1;
}

/* r:all() -> array of rows */
static int query_all(lua_State *L)
{
    lquery *lq = check_query(L, 1);
    lore_query_reset(lq->q);
    lq->iterating = 0;
    lua_newtable(L);
    int t = lua_gettop(L);
    lua_Integer k = 0;
    while (with_fns(L, 1, lq, do_next, NULL) == LORE_OK) {
        push_row(L, lq);
        lua_rawseti(L, t, ++k);
    }
    lore_query_reset(lq->q);
    return 1;
}

/* r:first() -> the first row, or nil */
static int query_first(lua_State *L)
{
    lquery *lq = check_query(L, 1);
    lore_query_reset(lq->q);
    lq->iterating = 0;
    int rc = with_fns(L, 1, lq, do_next, NULL);
    if (rc == LORE_OK)
        push_row(L, lq);
    else
        lua_pushnil(L);
    lore_query_reset(lq->q);
    return 1;
}

/* r:count() -> number of rows */
static int query_count(lua_State *L)
{
    lquery *lq = check_query(L, 1);
    uint64_t n = 0;
    lq->iterating = 0;
    with_fns(L, 1, lq, do_count, &n);
    lore_query_reset(lq->q);
    lua_pushinteger(L, (lua_Integer)n);
    return 1;
}

/* r:columns() -> array of column names */
static int query_columns(lua_State *L)
{
    lquery *lq = check_query(L, 1);
    size_t n = lore_query_ncols(lq->q);
    lua_createtable(L, (int)n, 0);
    for (size_t c = 0; c < n; c++) {
        lua_pushstring(L, lore_query_colname(lq->q, c));
        lua_rawseti(L, -2, (lua_Integer)c + 1);
    }
    return 1;
}

/* r:plan() -> the plan as text */
static int query_plan(lua_State *L)
{
    lquery *lq = check_query(L, 1);
    const char *s = lore_query_plan(lq->q);
    if (!s)
        return lualore_fail(L, lq->kb, LORE_ERR_NOMEM);
    lua_pushstring(L, s);
    return 1;
}

/* ------------------------------------------------------------------ */
/* the table form                                                     */

typedef struct builder {
    lua_State *L;
    lquery *lq;
    int arg;  /* the spec's argument index */
    int self; /* the query userdata's index */
    char where[64];
    const lualore_fnhook *hook; /* the rules part's way with functions, or NULL */
} builder;

static int bad(builder *b, const char *fmt, ...)
{
    lua_State *L = b->L;
    va_list ap;
    va_start(ap, fmt);
    const char *msg = lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    if (b->where[0])
        msg = lua_pushfstring(L, "%s: %s", b->where, msg);
    return luaL_argerror(L, b->arg, msg);
}

static void check(builder *b, int rc)
{
    if (rc < 0) {
        const char *msg = lore_errmsg(b->lq->kb);
        bad(b, "%s", msg[0] ? msg : lore_strerror(rc));
    }
}

/* Does this string name a path rather than a symbol? */
static int is_path(const char *s, size_t n)
{
    if (n >= 2 && s[0] == '<' && s[n - 1] == '>' && !memchr(s + 1, '>', n - 2))
        return 0;
    int in_iri = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '<')
            in_iri = 1;
        else if (c == '>')
            in_iri = 0;
        else if (!in_iri && (strchr("+*^/|()", c) || (c == '?' && i > 0)))
            return 1;
    }
    return 0;
}

/* The string at index i, refused as kb:add refuses a term unless it is
 * valid UTF-8 without NUL bytes (the core reads names, paths and
 * operators as C strings: a NUL would cut them short unseen). */
static const char *checked_string(builder *b, int i, size_t *len)
{
    size_t n;
    const char *s = lua_tolstring(b->L, i, &n);
    lore_value v = lore_symbol(NULL);
    v.str = s, v.len = n;
    const char *why = NULL;
    if (lore_check_value(&v, &why) != LORE_OK)
        bad(b, "expected %s", why ? why : "valid UTF-8 without NUL bytes");
    if (len)
        *len = n;
    return s;
}

/* A query term from the Lua value at index i: variables are strings
 * starting with '?' (and "_"); other values are constants. */
static lore_qterm qterm_at(builder *b, int i, lore_value *v)
{
    lua_State *L = b->L;
    if (lua_type(L, i) == LUA_TSTRING) {
        const char *s = checked_string(b, i, NULL);
        if (s[0] == '?' || strcmp(s, "_") == 0)
            return lore_qvar(s);
    }
    const char *what;
    if (!lualore_tovalue(L, i, v, &what))
        bad(b, "a term or a variable expected, got %s", what);
    return lore_qvalue(v);
}

static void build_group(builder *b, int t);

static void build_pattern(builder *b, int t)
{
    lua_State *L = b->L;
    lua_Integer n = luaL_len(L, t);
    if (n != 3)
        bad(b, "a pattern has 3 terms {s, p, o} (use \"_\" for any), got %d", (int)n);
    for (int k = 1; k <= 3; k++)
        lua_rawgeti(L, t, k);
    lore_value vs, vp, vo;
    lore_qterm s = qterm_at(b, -3, &vs), o = qterm_at(b, -1, &vo);
    size_t pn;
    const char *ps = lua_type(L, -2) == LUA_TSTRING ? checked_string(b, -2, &pn) : NULL;
    if (ps && ps[0] != '?' && is_path(ps, pn)) {
        check(b, lore_query_path(b->lq->q, s, ps, o));
    } else {
        lore_qterm p = qterm_at(b, -2, &vp);
        check(b, lore_query_pattern(b->lq->q, s, p, o));
    }
    lua_pop(L, 3);
}

static void build_filter(builder *b, int i)
{
    lua_State *L = b->L;
    lquery *lq = b->lq;
    i = lua_absindex(L, i);
    switch (lua_type(L, i)) {
    case LUA_TFUNCTION: {
        if (b->hook) {
            lore_filter_fn fn;
            void *ud;
            b->hook->filter(L, i, b->hook->ud, &fn, &ud);
            check(b, lore_query_filter_fn(lq->q, fn, ud));
            return;
        }
        if (lq->nfns >= MAX_FNS)
            bad(b, "more than %d filter functions", MAX_FNS);
        lfilter *f = &lq->fns[lq->nfns++];
        f->lq = lq;
        f->k = lq->nfns;
        lua_getiuservalue(L, b->self, 2);
        lua_pushvalue(L, i);
        lua_rawseti(L, -2, f->k);
        lua_pop(L, 1);
        check(b, lore_query_filter_fn(lq->q, call_filter, f));
        return;
    }
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, i, &n);
        check(b, lore_query_filter_text(lq->q, s, n));
        return;
    }
    case LUA_TTABLE:
        break;
    default:
        bad(b, "a filter is a function, a condition string or {a, op, b}, got %s",
            luaL_typename(L, i));
    }
    if (luaL_len(L, i) != 3)
        bad(b, "a condition has 3 parts {a, op, b}, got %d", (int)luaL_len(L, i));
    lua_rawgeti(L, i, 1);
    lua_rawgeti(L, i, 2);
    lua_rawgeti(L, i, 3);
    lore_value va, vb;
    lore_qterm a = qterm_at(b, -3, &va);
    if (lua_type(L, -2) != LUA_TSTRING)
        bad(b, "a comparison operator expected, got %s", luaL_typename(L, -2));
    const char *op = checked_string(b, -2, NULL);
    if (strcmp(op, "in") == 0) {
        if (!lua_istable(L, -1))
            bad(b, "'in' takes a table of values, got %s", luaL_typename(L, -1));
        lua_Integer n = luaL_len(L, -1);
        lore_value *vals = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *vals, 0);
        lore_qterm *set = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *set, 0);
        int base = lua_gettop(L);
        for (lua_Integer k = 1; k <= n; k++) {
            lua_rawgeti(L, base - 2, k);
            const char *what;
            if (lua_type(L, -1) == LUA_TSTRING && lua_tostring(L, -1)[0] == '?')
                bad(b, "a set holds values, not variables ('%s')", lua_tostring(L, -1));
            if (!lualore_tovalue(L, -1, &vals[k - 1], &what))
                bad(b, "a set holds terms, got %s", what);
            set[k - 1] = lore_qvalue(&vals[k - 1]);
            lua_pop(L, 1); /* the set table keeps its strings alive */
        }
        check(b, lore_query_filter_in(lq->q, a, set, (size_t)n));
        lua_settop(L, base - 5);
        return;
    }
    lore_qterm c = qterm_at(b, -1, &vb);
    check(b, lore_query_filter(lq->q, a, op, c));
    lua_pop(L, 3);
}

/* {let = {"?v", "expression"}} or {let = {"?v", function, arg...}} */
static void build_let(builder *b, int i)
{
    lua_State *L = b->L;
    lquery *lq = b->lq;
    i = lua_absindex(L, i);
    if (!lua_istable(L, i) || luaL_len(L, i) < 2)
        bad(b, "let takes {\"?var\", \"expression\"} or {\"?var\", function, arguments...}");
    lua_rawgeti(L, i, 1);
    if (lua_type(L, -1) != LUA_TSTRING || lua_tostring(L, -1)[0] != '?')
        bad(b, "let: a variable (\"?name\") first, got %s", luaL_typename(L, -1));
    const char *var = checked_string(b, -1, NULL);
    int t = lua_rawgeti(L, i, 2);
    if (t == LUA_TSTRING) {
        if (luaL_len(L, i) != 2)
            bad(b, "let: an expression string takes no arguments");
        size_t n;
        const char *e = lua_tolstring(L, -1, &n);
        check(b, lore_query_let(lq->q, var, e, n));
        lua_pop(L, 2);
        return;
    }
    if (t != LUA_TFUNCTION)
        bad(b, "let: an expression string or a function second, got %s", luaL_typename(L, -1));
    lore_value_fn fn;
    void *ud;
    if (b->hook) {
        b->hook->let(L, lua_gettop(L), b->hook->ud, &fn, &ud);
    } else {
        if (lq->nfns >= MAX_FNS)
            bad(b, "more than %d filter or let functions", MAX_FNS);
        lfilter *f = &lq->fns[lq->nfns++];
        f->lq = lq;
        f->k = lq->nfns;
        lua_getiuservalue(L, b->self, 2);
        lua_pushvalue(L, -2);
        lua_rawseti(L, -2, f->k);
        lua_pop(L, 1);
        fn = call_let, ud = f;
    }
    lua_Integer n = luaL_len(L, i) - 2;
    if (n > 64)
        bad(b, "let: at most 64 arguments");
    luaL_checkstack(L, (int)n + 4, "let arguments");
    lore_value vals[64];
    lore_qterm args[64];
    int base = lua_gettop(L);
    for (lua_Integer k = 0; k < n; k++) {
        lua_rawgeti(L, i, k + 3);
        args[k] = qterm_at(b, -1, &vals[k]);
    }
    check(b, lore_query_let_fn(lq->q, var, fn, ud, args, (size_t)n));
    lua_settop(L, base - 2);
}

/* One element of a group: a pattern or an operator table. */
static void build_element(builder *b, int t, lua_Integer k, const char *where)
{
    lua_State *L = b->L;
    luaL_checkstack(L, 8, "nested groups"); /* each level pushes a few values */
    char saved[64];
    memcpy(saved, b->where, sizeof saved);
    if (lua_type(L, t) != LUA_TTABLE)
        bad(b,
            "%s[%d]: a pattern {s, p, o} or {filter = ...}, {let = {...}}, {optional = {...}}, "
            "{without = {...}} or {union = {...}} expected, got %s",
            where, (int)k, luaL_typename(L, t));
    const char *w = lua_pushfstring(L, "%s[%d]", where, (int)k);
    size_t wl = strlen(w);
    if (wl < sizeof b->where) {
        memcpy(b->where, w, wl + 1);
    } else { /* deep: the root and the innermost steps, "where...[2][1]" */
        size_t root = strcspn(w, "[.");
        const char *tail = w + wl - (sizeof b->where - 4 - root);
        while (*tail && *tail != '[')
            tail++;
        snprintf(b->where, sizeof b->where, "%.*s...%s", (int)root, w, tail);
    }
    lua_pop(L, 1);
    lua_pushnil(L);
    if (luaL_len(L, t) == 0 && lua_next(L, t)) {
        /* an operator table: exactly one key */
        lua_pop(L, 1);
        const char *key = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        lua_pushvalue(L, -1);
        if (lua_next(L, t)) {
            const char *one = key ? key : "?";
            const char *other = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
            if (strcmp(one, other) > 0) { /* the same message whatever the table order */
                const char *x = one;
                one = other, other = x;
            }
            bad(b, "one operator per table, got '%s' and '%s'", one, other);
        }
        lua_pop(L, 1); /* the key */
        lua_getfield(L, t, key ? key : "");
        int v = lua_gettop(L);
        if (key && strcmp(key, "filter") == 0) {
            build_filter(b, v);
        } else if (key && strcmp(key, "let") == 0) {
            build_let(b, v);
        } else if (key && (strcmp(key, "optional") == 0 || strcmp(key, "without") == 0)) {
            if (!lua_istable(L, v))
                bad(b, "%s takes a list of patterns, got %s", key, luaL_typename(L, v));
            check(b, lore_query_begin(b->lq->q,
                                      key[0] == 'o' ? LORE_GROUP_OPTIONAL : LORE_GROUP_WITHOUT));
            build_group(b, v);
            check(b, lore_query_end(b->lq->q));
        } else if (key && strcmp(key, "union") == 0) {
            if (!lua_istable(L, v))
                bad(b, "union takes a list of groups, got %s", luaL_typename(L, v));
            check(b, lore_query_begin(b->lq->q, LORE_GROUP_UNION));
            lua_Integer n = luaL_len(L, v);
            if (n == 0)
                bad(b, "union takes a list of groups {{...}, {...}}");
            for (lua_Integer i = 1; i <= n; i++) {
                lua_rawgeti(L, v, i);
                if (!lua_istable(L, -1))
                    bad(b, "union branch %d: a list of patterns expected, got %s", (int)i,
                        luaL_typename(L, -1));
                check(b, lore_query_begin(b->lq->q, LORE_GROUP_BRANCH));
                build_group(b, lua_gettop(L));
                check(b, lore_query_end(b->lq->q));
                lua_pop(L, 1);
            }
            check(b, lore_query_end(b->lq->q));
        } else {
            lua_pushvalue(L, -2);
            bad(b, "unknown operator '%s' (expected filter, let, optional, without or union)",
                key ? key : luaL_tolstring(L, -1, NULL));
        }
        lua_settop(L, v - 1);
    } else {
        build_pattern(b, t);
    }
    memcpy(b->where, saved, sizeof saved);
}

static void build_group(builder *b, int t)
{
    lua_State *L = b->L;
    t = lua_absindex(L, t);
    char where[64];
    snprintf(where, sizeof where, "%s", b->where[0] ? b->where : "where");
    char saved[64];
    memcpy(saved, b->where, sizeof saved);
    lua_Integer n = luaL_len(L, t);
    for (lua_Integer k = 1; k <= n; k++) {
        lua_rawgeti(L, t, k);
        b->where[0] = '\0';
        build_element(b, lua_gettop(L), k, where);
        memcpy(b->where, saved, sizeof saved);
        lua_pop(L, 1);
    }
}

/* A list of strings (or one string) from field `key` of table t. */
static void each_string(builder *b, int t, const char *key, void (*fn)(builder *, const char *))
{
    lua_State *L = b->L;
    int ty = lua_getfield(L, t, key);
    snprintf(b->where, sizeof b->where, "%s", key);
    if (ty == LUA_TSTRING) {
        /* several in one string, separated by spaces: "?a -?b" */
        const char *s = checked_string(b, -1, NULL);
        while (*s) {
            while (*s == ' ')
                s++;
            const char *e = s;
            while (*e && *e != ' ')
                e++;
            if (e > s) {
                lua_pushlstring(L, s, (size_t)(e - s));
                fn(b, lua_tostring(L, -1));
                lua_pop(L, 1);
            }
            s = e;
        }
    } else if (ty == LUA_TTABLE) {
        lua_Integer n = luaL_len(L, -1);
        for (lua_Integer i = 1; i <= n; i++) {
            if (lua_rawgeti(L, -1, i) != LUA_TSTRING)
                bad(b, "strings expected, got %s", luaL_typename(L, -1));
            fn(b, checked_string(b, -1, NULL));
            lua_pop(L, 1);
        }
    } else if (ty != LUA_TNIL) {
        bad(b, "a string or a list of strings expected, got %s", luaL_typename(L, -1));
    }
    lua_pop(L, 1);
    b->where[0] = '\0';
}

static void add_item(builder *b, const char *s)
{
    check(b, lore_query_select(b->lq->q, s));
}

static void add_group(builder *b, const char *s)
{
    check(b, lore_query_group(b->lq->q, s));
}

static void add_order(builder *b, const char *s)
{
    int desc = s[0] == '-';
    check(b, lore_query_order(b->lq->q, s[0] == '-' || s[0] == '+' ? s + 1 : s, desc));
}

static const char *const SPEC_KEYS[] = {"where", "vars",   "distinct", "group", "order",
                                        "limit", "offset", "filter",   NULL};

/* The modifiers of a spec (or options) table at index t. */
static void build_modifiers(builder *b, int t)
{
    lua_State *L = b->L;
    lquery *lq = b->lq;
    for (lua_pushnil(L); lua_next(L, t); lua_pop(L, 1)) {
        if (lua_type(L, -2) == LUA_TNUMBER && lua_isinteger(L, -2))
            continue;
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        int ok = 0;
        for (int i = 0; k && SPEC_KEYS[i]; i++)
            ok |= strcmp(k, SPEC_KEYS[i]) == 0;
        if (!ok)
            bad(b,
                "unknown key '%s' (expected where, vars, distinct, group, order, limit, "
                "offset or filter)",
                k ? k : luaL_typename(L, -2));
    }
    /* vars: items in a string ("?who count(?c) as ?n") or a list of them */
    int ty = lua_getfield(L, t, "vars");
    snprintf(b->where, sizeof b->where, "vars");
    if (ty == LUA_TSTRING) {
        add_item(b, checked_string(b, -1, NULL));
    } else if (ty == LUA_TTABLE) {
        lua_Integer n = luaL_len(L, -1);
        for (lua_Integer i = 1; i <= n; i++) {
            if (lua_rawgeti(L, -1, i) != LUA_TSTRING)
                bad(b, "strings expected, got %s", luaL_typename(L, -1));
            add_item(b, checked_string(b, -1, NULL));
            lua_pop(L, 1);
        }
    } else if (ty != LUA_TNIL) {
        bad(b, "a string or a list of strings expected, got %s", luaL_typename(L, -1));
    }
    lua_pop(L, 1);
    b->where[0] = '\0';
    each_string(b, t, "group", add_group);
    each_string(b, t, "order", add_order);
    if (lua_getfield(L, t, "distinct") != LUA_TNIL && lua_toboolean(L, -1))
        check(b, lore_query_distinct(lq->q));
    lua_pop(L, 1);
    lua_Integer limit = -1, offset = 0;
    if (lua_getfield(L, t, "limit") != LUA_TNIL) {
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0) {
            snprintf(b->where, sizeof b->where, "limit");
            bad(b, "a count expected, got %s", luaL_typename(L, -1));
        }
        limit = lua_tointeger(L, -1);
    }
    if (lua_getfield(L, t, "offset") != LUA_TNIL) {
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0) {
            snprintf(b->where, sizeof b->where, "offset");
            bad(b, "a count expected, got %s", luaL_typename(L, -1));
        }
        offset = lua_tointeger(L, -1);
    }
    lua_pop(L, 2);
    if (limit >= 0 || offset > 0)
        check(b,
              lore_query_limit(lq->q, limit >= 0 ? (uint64_t)limit : UINT64_MAX, (uint64_t)offset));
}

/* The spec's top-level filter(s): a function, a string, a condition
 * {a, op, b}, or a list of those. */
static void build_top_filter(builder *b, int t)
{
    lua_State *L = b->L;
    if (lua_getfield(L, t, "filter") == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    snprintf(b->where, sizeof b->where, "filter");
    int f = lua_gettop(L);
    if (lua_istable(L, f) && luaL_len(L, f) > 0) {
        lua_rawgeti(L, f, 1);
        int list = lua_istable(L, -1) || lua_isfunction(L, -1) ||
                   (lua_type(L, -1) == LUA_TSTRING && luaL_len(L, f) != 3);
        lua_pop(L, 1);
        if (list) {
            lua_Integer n = luaL_len(L, f);
            for (lua_Integer i = 1; i <= n; i++) {
                lua_rawgeti(L, f, i);
                build_filter(b, -1);
                lua_pop(L, 1);
            }
            lua_settop(L, f - 1);
            b->where[0] = '\0';
            return;
        }
    }
    build_filter(b, f);
    lua_settop(L, f - 1);
    b->where[0] = '\0';
}

static void prepare(builder *b)
{
    int rc = lore_query_prepare(b->lq->q);
    if (rc < 0) {
        b->where[0] = '\0';
        check(b, rc);
    }
}

/* kb:query(spec) and kb:select(spec): the patterns are spec.where or the
 * array part of spec. */
static int kb_query(lua_State *L)
{
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    lquery *lq = new_query(L);
    int self = lua_gettop(L);
    builder b = {L, lq, 2, self, "", NULL};
    check(&b, lore_query_new(lq->kb, &lq->q));
    int where = 2;
    if (lua_getfield(L, 2, "where") != LUA_TNIL) {
        if (!lua_istable(L, -1))
            bad(&b, "where: a list of patterns expected, got %s", luaL_typename(L, -1));
        if (luaL_len(L, 2) > 0)
            bad(&b, "patterns both in 'where' and in the list");
        where = lua_gettop(L);
    }
    build_group(&b, where);
    lua_settop(L, self);
    build_top_filter(&b, 2);
    build_modifiers(&b, 2);
    prepare(&b);
    lua_settop(L, self);
    return 1;
}

lore_query *lualore_query_build(lua_State *L, int spec, int arg, const lualore_fnhook *hook)
{
    spec = lua_absindex(L, spec);
    int top = lua_gettop(L);
    lquery *lq = new_query(L); /* owns the query until it is handed over */
    int self = lua_gettop(L);
    builder b = {L, lq, arg, self, "", hook};
    check(&b, lore_query_new(lq->kb, &lq->q));
    int where = spec;
    if (lua_getfield(L, spec, "where") != LUA_TNIL) {
        if (!lua_istable(L, -1))
            bad(&b, "where: a list of patterns expected, got %s", luaL_typename(L, -1));
        if (luaL_len(L, spec) > 0)
            bad(&b, "patterns both in 'where' and in the list");
        where = lua_gettop(L);
    }
    snprintf(b.where, sizeof b.where, "when");
    build_group(&b, where);
    b.where[0] = '\0';
    lua_settop(L, self);
    build_top_filter(&b, spec);
    build_modifiers(&b, spec);
    lore_query *q = lq->q;
    lq->q = NULL;
    lua_settop(L, top);
    return q;
}

/* kb:q(text [, options]): the text form; options as for kb:query. */
static int kb_q(lua_State *L)
{
    size_t n;
    const char *text = luaL_checklstring(L, 2, &n);
    if (!lua_isnoneornil(L, 3))
        luaL_checktype(L, 3, LUA_TTABLE);
    lua_settop(L, 3);
    lquery *lq = new_query(L);
    int self = lua_gettop(L);
    builder b = {L, lq, 2, self, "", NULL};
    int rc = lore_query_parse(lq->kb, text, n, &lq->q);
    if (rc < 0)
        check(&b, rc);
    if (!lua_isnoneornil(L, 3)) {
        b.arg = 3;
        lua_getfield(L, 3, "where");
        if (!lua_isnil(L, -1))
            bad(&b, "unknown key 'where' (the text holds the patterns)");
        lua_pop(L, 1);
        build_top_filter(&b, 3);
        build_modifiers(&b, 3);
        b.arg = 2;
    }
    prepare(&b);
    lua_settop(L, self);
    return 1;
}

/* kb:plan(spec or text) -> the plan as text */
static int kb_plan(lua_State *L)
{
    int text = lua_type(L, 2) == LUA_TSTRING;
    lua_settop(L, text ? 3 : 2);
    lua_pushcfunction(L, text ? kb_q : kb_query);
    lua_insert(L, 1);
    lua_call(L, text ? 3 : 2, 1);
    lquery *lq = check_query(L, -1);
    const char *s = lore_query_plan(lq->q);
    if (!s)
        return lualore_fail(L, lq->kb, LORE_ERR_NOMEM);
    lua_pushstring(L, s);
    return 1;
}

/* kb:reach(start, path [, {depth = n}]) -> rows {node = ..., depth = ...} */
static int kb_reach(lua_State *L)
{
    lore_kb *kb = lualore_checkkb(L, 1)->kb;
    lua_settop(L, 4);
    lore_value v;
    const char *what;
    if (lua_isnoneornil(L, 2) || !lualore_tovalue(L, 2, &v, &what))
        return luaL_argerror(
            L, 2, lua_pushfstring(L, "a start term expected, got %s", luaL_typename(L, 2)));
    size_t pathlen;
    const char *path = luaL_checklstring(L, 3, &pathlen);
    if (strlen(path) != pathlen) /* lore_reach reads a C string */
        return luaL_argerror(L, 3, "expected valid UTF-8 without NUL bytes");
    lua_Integer depth = -1;
    if (!lua_isnoneornil(L, 4)) {
        static const char *const names[] = {"depth", NULL};
        lualore_checkoptions(L, 4, names, "depth");
        if (lua_getfield(L, 4, "depth") != LUA_TNIL) {
            if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0)
                return luaL_argerror(L, 4, "depth: a count of edges expected");
            depth = lua_tointeger(L, -1);
        }
        lua_pop(L, 1);
    }
    lore_id start = 0;
    int rc = lore_lookup(kb, &v, &start);
    if (rc != LORE_OK && rc != LORE_ERR_NOTFOUND)
        return luaL_argerror(L, 2, lualore_errmsg(L, kb));
    lquery *lq = new_query(L);
    rc = lore_reach(kb, start, path, depth < 0 || depth > UINT32_MAX ? UINT32_MAX : (uint32_t)depth,
                    &lq->q);
    if (rc < 0)
        return luaL_argerror(L, 3, lualore_errmsg(L, kb));
    rc = lore_query_prepare(lq->q);
    if (rc < 0)
        return lualore_fail(L, kb, rc);
    return 1;
}

static const luaL_Reg query_methods[] = {
    {"all", query_all},         {"first", query_first}, {"count", query_count},
    {"columns", query_columns}, {"plan", query_plan},   {NULL, NULL},
};

static const luaL_Reg query_meta[] = {
    {"__call", query_call}, {"__gc", query_gc}, {"__close", query_gc}, {NULL, NULL}};

static const luaL_Reg kb_methods[] = {
    {"query", kb_query}, {"select", kb_query}, {"q", kb_q},
    {"plan", kb_plan},   {"reach", kb_reach},  {NULL, NULL},
};

void lualore_open_query(lua_State *L)
{
    luaL_newmetatable(L, LORE_QUERY_MT);
    luaL_setfuncs(L, query_meta, 0);
    lua_newtable(L);
    luaL_setfuncs(L, query_methods, 0);
    lua_setfield(L, -2, "__index");
    lua_setfield(L, -2, "_Query"); /* for query.lua, which removes it */
    lualore_add_methods(L, kb_methods, NULL);
}
