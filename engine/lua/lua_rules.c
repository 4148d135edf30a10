/* lua_rules.c - the binding's rules part: kb:rule (text and table forms),
 * kb:rules, kb:remove_rule, kb:infer, kb:clear_derived, kb:why, kb:on
 * (triggers), kb:fn (named value functions).  A client of lore.h only.
 *
 * Lua functions the core calls back (filters and computed values in rule
 * bodies, triggers, named functions) are kept per kb in a "host": a
 * userdata whose user value is a table of the functions, found in a
 * registry table keyed (weakly) by the kb userdata.  Each callback runs
 * under lua_pcall on the host's current thread (the one that called
 * kb:infer, else the main thread); an error it raises is kept in the host
 * and raised again, as it was, once the C call has returned, so it never
 * unwinds through the core. */
#include <string.h>

#include "lualore.h"

#define LORE_PROOF_MT "lore.proof"
#define LORE_TRIGGER_MT "lore.trigger"

static const char HOSTS_KEY = 'h';
/* registry[TABLES_KEY] maps each host (by address) to its table, with weak
 * values, so a kb that is collected takes its host and table with it */
static const char TABLES_KEY = 't';

typedef struct lhost {
    lua_State *L; /* the thread calling into the core now */
    lore_kb *kb;
} lhost;

/* One Lua function the core may call: its slot in the host's table. */
typedef struct lcb {
    lhost *h;
    int k;
    int eq;            /* triggers: positions a repeated variable joins (bits 0-2) */
    uint32_t handle;   /* triggers: the core's handle */
    char names[3][32]; /* triggers: the pattern's variable names ("" for none) */
} lcb;

/* A registry table with weak keys or values, made on first use (pushed). */
static void weak_table(lua_State *L, const char *key, const char *mode)
{
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, key) == LUA_TTABLE)
        return;
    lua_pop(L, 1);
    lua_newtable(L);
    lua_createtable(L, 0, 1);
    lua_pushstring(L, mode);
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, key);
}

/* The host of the kb at index 1, made on first use; pushes its table. */
static lhost *host(lua_State *L)
{
    lkb *k = lualore_checkkb(L, 1);
    weak_table(L, &HOSTS_KEY, "k");
    int hosts = lua_gettop(L);
    lua_pushvalue(L, 1);
    if (lua_rawget(L, hosts) == LUA_TUSERDATA) {
        lhost *h = lua_touserdata(L, -1);
        lua_getiuservalue(L, -1, 1);
        lua_replace(L, hosts);
        lua_pop(L, 1);
        return h;
    }
    lua_pop(L, 1);
    lhost *h = lua_newuserdatauv(L, sizeof *h, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
    h->L = lua_tothread(L, -1);
    lua_pop(L, 1);
    h->kb = k->kb;
    lua_newtable(L);
    weak_table(L, &TABLES_KEY, "v");
    lua_pushvalue(L, -2);
    lua_rawsetp(L, -2, h); /* tables[h] = T */
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, -3, 1); /* the host holds T */
    lua_pushvalue(L, 1);
    lua_pushvalue(L, -3);
    lua_rawset(L, hosts); /* hosts[kb] = host */
    lua_replace(L, hosts);
    lua_pop(L, 1);
    return h;
}

/* Keeps the function at idx (and a callback record for it) in the host's
 * table on top of the stack; leaves the record on the stack. */
static lcb *keep(lua_State *L, lhost *h, int idx)
{
    idx = lua_absindex(L, idx);
    int t = lua_gettop(L);
    lua_Integer k = luaL_len(L, t) + 1;
    lcb *cb = lua_newuserdatauv(L, sizeof *cb, 1);
    memset(cb, 0, sizeof *cb);
    cb->h = h;
    cb->k = (int)k;
    lua_pushvalue(L, idx);
    lua_setiuservalue(L, -2, 1); /* the record holds its function */
    lua_pushvalue(L, -1);
    lua_rawseti(L, t, k); /* the table holds the record */
    return cb;
}

/* The host table of h (pushed). */
static void push_table(lua_State *L, lhost *h)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &TABLES_KEY);
    lua_rawgetp(L, -1, h);
    lua_remove(L, -2);
}

/* Calls cb's function with n arguments on the stack below it... pushed by
 * the caller after `prepare`; keeps an error in the host table. */
static int call(lua_State *L, lhost *h, int nargs, int nres)
{
    if (lua_pcall(L, nargs, nres, 0) == LUA_OK)
        return LORE_OK;
    /* the first error wins: it is raised again after the C call */
    push_table(L, h);
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "err");
        int had = !lua_isnil(L, -1);
        lua_pop(L, 1);
        if (!had) {
            lua_pushvalue(L, -2);
            lua_setfield(L, -2, "err");
        }
    }
    lua_pop(L, 1);
    const char *msg = lua_tostring(L, -1);
    lore_error(h->kb, LORE_ERR_CALLBACK, msg ? msg : "a Lua callback raised an error");
    lua_pop(L, 1);
    return LORE_ERR_CALLBACK;
}

/* Pushes the function of cb (from its record in the host table). */
static int fn_of(lua_State *L, const lcb *cb)
{
    push_table(L, cb->h);
    if (!lua_istable(L, -1) || lua_rawgeti(L, -1, cb->k) != LUA_TUSERDATA) {
        lua_pop(L, lua_istable(L, -1) ? 2 : 1);
        return 0;
    }
    lua_getiuservalue(L, -1, 1);
    lua_replace(L, -3);
    lua_pop(L, 1);
    return 1;
}

/* ---- the callbacks ---- */

static int cb_filter(void *ud, const lore_query *q)
{
    lcb *cb = ud;
    lua_State *L = cb->h->L;
    if (!lua_checkstack(L, 6))
        return LORE_ERR_NOMEM;
    if (!fn_of(L, cb))
        return lore_error(cb->h->kb, LORE_ERR_CALLBACK, "a filter function is gone");
    lualore_push_bindings(L, cb->h->kb, q);
    int rc = call(L, cb->h, 1, 1);
    if (rc != LORE_OK)
        return rc;
    int keep_row = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return keep_row;
}

static int cb_value(void *ud, lore_kb *kb, const lore_value *args, size_t nargs, lore_value *out)
{
    lcb *cb = ud;
    lua_State *L = cb->h->L;
    (void)kb;
    if (!lua_checkstack(L, (int)nargs + 6))
        return LORE_ERR_NOMEM;
    if (!fn_of(L, cb))
        return lore_error(cb->h->kb, LORE_ERR_CALLBACK, "a value function is gone");
    for (size_t i = 0; i < nargs; i++)
        lualore_pushvalue(L, &args[i]);
    int rc = call(L, cb->h, (int)nargs, 1);
    if (rc != LORE_OK)
        return rc;
    /* anchored in the host table until the next call: strings live on */
    push_table(L, cb->h);
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, "last");
    lua_pop(L, 1);
    const char *what;
    rc = !lua_isnil(L, -1) && lualore_tovalue(L, -1, out, &what) ? LORE_OK : LORE_NOOP;
    lua_pop(L, 1);
    return rc;
}

static int cb_trigger(void *ud, lore_kb *kb, const lore_id t[3], int event)
{
    lcb *cb = ud;
    lua_State *L = cb->h->L;
    for (int a = 0; a < 3; a++) /* a variable repeated in the pattern */
        for (int b = a + 1; b < 3; b++)
            if ((cb->eq >> a & 1) && (cb->eq >> b & 1) && cb->names[a][0] &&
                strcmp(cb->names[a], cb->names[b]) == 0 && t[a] != t[b])
                return 0;
    if (!lua_checkstack(L, 8))
        return LORE_ERR_NOMEM;
    if (!fn_of(L, cb))
        return 0; /* cancelled */
    lua_createtable(L, 3, 3);
    for (int k = 0; k < 3; k++) {
        lualore_pushterm(L, kb, t[k]);
        lua_pushvalue(L, -1);
        lua_rawseti(L, -3, k + 1);
        if (cb->names[k][0])
            lua_setfield(L, -2, cb->names[k]);
        else
            lua_pop(L, 1);
    }
    lua_pushstring(L, event == LORE_ON_ADDED ? "added" : "removed");
    return call(L, cb->h, 2, 0);
}

static void hook_filter(lua_State *L, int idx, void *hud, lore_filter_fn *fn, void **ud)
{
    lhost *h = hud;
    idx = lua_absindex(L, idx);
    push_table(L, h);
    lcb *cb = keep(L, h, idx);
    lua_pop(L, 2);
    *fn = cb_filter, *ud = cb;
}

static void hook_let(lua_State *L, int idx, void *hud, lore_value_fn *fn, void **ud)
{
    lhost *h = hud;
    idx = lua_absindex(L, idx);
    push_table(L, h);
    lcb *cb = keep(L, h, idx);
    lua_pop(L, 2);
    *fn = cb_value, *ud = cb;
}

/* Raises the error a callback kept, or the kb's message. */
static int fail(lua_State *L, lhost *h, int rc)
{
    push_table(L, h);
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "err");
        if (!lua_isnil(L, -1)) {
            lua_pushnil(L);
            lua_setfield(L, -3, "err");
            return lua_error(L);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return lualore_fail(L, h->kb, rc);
}

/* Runs fn with h->L set to L; restores it after. */
#define WITH_HOST(h, L, expr)                                                                      \
    do {                                                                                           \
        lua_State *saved_ = (h)->L;                                                                \
        (h)->L = (L);                                                                              \
        rc = (expr);                                                                               \
        (h)->L = saved_;                                                                           \
    } while (0)

/* ------------------------------------------------------------------ */
/* rules                                                              */

/* The string at index i, refused unless it is valid UTF-8 without NUL
 * bytes, as kb:add refuses a term (names and variables are read as C
 * strings: a NUL would cut them short unseen). */
static const char *checked_string(lua_State *L, int i, int arg, const char *where)
{
    lore_value v = lore_symbol(NULL);
    v.str = lua_tolstring(L, i, &v.len);
    const char *why = NULL;
    if (lore_check_value(&v, &why) != LORE_OK)
        luaL_argerror(L, arg,
                      lua_pushfstring(L, "%s: expected %s", where,
                                      why ? why : "valid UTF-8 without NUL bytes"));
    return v.str;
}

/* A head term from the Lua value at index i. */
static lore_qterm head_term(lua_State *L, int i, lore_value *v, int arg, const char *where)
{
    if (lua_type(L, i) == LUA_TSTRING) {
        const char *s = checked_string(L, i, arg, where);
        if (s[0] == '?' || strcmp(s, "_") == 0)
            return lore_qvar(s);
    }
    const char *what;
    if (!lualore_tovalue(L, i, v, &what))
        luaL_argerror(L, arg,
                      lua_pushfstring(L, "%s: a term or a variable expected, got %s", where, what));
    return lore_qvalue(v);
}

static const char *const RULE_KEYS[] = {"name", "when", "add", NULL};

/* kb:rule(text [, name]) or kb:rule{name = ..., when = {...}, add = {...}}
 * -> the rule's name */
static int kb_rule(lua_State *L)
{
    lua_settop(L, 3);
    lhost *h = host(L);
    lua_pop(L, 1);
    lore_kb *kb = h->kb;
    int rc;
    uint32_t id;
    if (lua_type(L, 2) == LUA_TSTRING) {
        size_t n;
        const char *text = lua_tolstring(L, 2, &n);
        const char *name = NULL;
        if (!lua_isnoneornil(L, 3)) {
            luaL_checkstring(L, 3);
            name = checked_string(L, 3, 3, "name");
        }
        rc = lore_rule_add(kb, text, n, name, &id);
        if (rc < 0)
            return luaL_argerror(L, 2, lualore_errmsg(L, kb));
    } else {
        luaL_checktype(L, 2, LUA_TTABLE);
        for (lua_pushnil(L); lua_next(L, 2); lua_pop(L, 1)) {
            const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
            int ok = 0;
            for (int i = 0; k && RULE_KEYS[i]; i++)
                ok |= strcmp(k, RULE_KEYS[i]) == 0;
            if (!ok)
                return luaL_argerror(L, 2,
                                     lua_pushfstring(L,
                                                     "unknown key '%s' (expected name, when "
                                                     "and add)",
                                                     luaL_tolstring(L, -2, NULL)));
        }
        const char *name = NULL;
        if (lua_getfield(L, 2, "name") != LUA_TNIL) {
            if (lua_type(L, -1) != LUA_TSTRING)
                return luaL_argerror(L, 2, "name: a string expected");
            name = checked_string(L, -1, 2, "name");
        }
        if (lua_getfield(L, 2, "when") != LUA_TTABLE)
            return luaL_argerror(L, 2, "when: a query (a list of patterns) expected");
        int when = lua_gettop(L);
        if (lua_getfield(L, 2, "add") != LUA_TTABLE)
            return luaL_argerror(L, 2, "add: a pattern {s, p, o} or a list of them expected");
        int add = lua_gettop(L);
        /* one pattern, or a list of them */
        lua_rawgeti(L, add, 1);
        int list = lua_istable(L, -1);
        lua_pop(L, 1);
        lua_Integer nh = list ? luaL_len(L, add) : 1;
        if (nh < 1 || nh > 64)
            return luaL_argerror(L, 2, "add: one to 64 patterns expected");
        lore_value vals[3 * 64];
        lore_qterm heads[3 * 64];
        luaL_checkstack(L, 4 * (int)nh + 4, "the head's patterns"); /* kept until defined */
        for (lua_Integer j = 0; j < nh; j++) {
            if (list)
                lua_rawgeti(L, add, j + 1);
            else
                lua_pushvalue(L, add);
            int pt = lua_gettop(L);
            if (!lua_istable(L, pt) || luaL_len(L, pt) != 3)
                return luaL_argerror(L, 2, "add: patterns of 3 terms {s, p, o} expected");
            for (int k = 0; k < 3; k++) {
                lua_rawgeti(L, pt, k + 1);
                heads[3 * j + k] = head_term(L, -1, &vals[3 * j + k], 2, "add");
            }
            /* the values' strings are held by the add table */
        }
        lualore_fnhook hook = {hook_filter, hook_let, h};
        lore_query *body = lualore_query_build(L, when, 2, &hook);
        rc = lore_rule_define(kb, name, heads, (size_t)nh, body, &id);
        if (rc < 0)
            return luaL_argerror(L, 2, lualore_errmsg(L, kb));
    }
    lua_pushstring(L, lore_rule_name(kb, id));
    return 1;
}

/* kb:rules() -> {{name = ..., text = ..., stratum = n, closure = bool}, ...} */
static int kb_rules(lua_State *L)
{
    lore_kb *kb = lualore_checkkb(L, 1)->kb;
    size_t n = lore_rule_count(kb);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lore_rule_info info;
        lore_rule_info_at(kb, i, &info);
        lua_createtable(L, 0, 4);
        lua_pushstring(L, info.name);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, info.text);
        lua_setfield(L, -2, "text");
        lua_pushinteger(L, info.stratum + 1);
        lua_setfield(L, -2, "stratum");
        lua_pushboolean(L, info.closure);
        lua_setfield(L, -2, "closure");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* kb:remove_rule(name) -> true, or false if there is none */
static int kb_remove_rule(lua_State *L)
{
    lore_kb *kb = lualore_checkkb(L, 1)->kb;
    const char *name = luaL_checkstring(L, 2);
    uint32_t id;
    if (lore_rule_find(kb, name, &id) != LORE_OK) {
        lua_pushboolean(L, 0);
        return 1;
    }
    lore_rule_remove(kb, id);
    lua_pushboolean(L, 1);
    return 1;
}

/* kb:infer([{max = n}]) -> {added = n, removed = n, rounds = n, full = bool} */
/* The Lua progress function of kb:infer (at stack index `fn`), called
 * protected; an error or `false` stops the inference. */
typedef struct iprogress {
    lua_State *L;
    int fn, failed;
} iprogress;

static int infer_progress(void *ud, uint64_t rounds, uint64_t derived)
{
    iprogress *p = ud;
    lua_State *L = p->L;
    lua_pushvalue(L, p->fn);
    lua_pushinteger(L, (lua_Integer)rounds);
    lua_pushinteger(L, (lua_Integer)derived);
    if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
        p->failed = 1; /* the error stays on the stack, raised after */
        return 1;
    }
    int stop = lua_isboolean(L, -1) && !lua_toboolean(L, -1);
    lua_pop(L, 1);
    return stop;
}

static int kb_infer(lua_State *L)
{
    lua_settop(L, 2);
    lhost *h = host(L);
    lua_pop(L, 1);
    lore_kb *kb = h->kb;
    lua_Integer max = -1;
    int fn = 0;
    if (!lua_isnoneornil(L, 2)) {
        static const char *const names[] = {"max", "progress", NULL};
        lualore_checkoptions(L, 2, names, "max or progress");
        if (lua_getfield(L, 2, "max") != LUA_TNIL) {
            if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0)
                return luaL_argerror(L, 2, "max: a number of derived facts expected");
            max = lua_tointeger(L, -1);
        }
        lua_pop(L, 1);
        if (lua_getfield(L, 2, "progress") != LUA_TNIL) {
            if (!lua_isfunction(L, -1))
                return luaL_argerror(L, 2, "progress: a function expected");
            fn = lua_gettop(L);
        } else {
            lua_pop(L, 1);
        }
    }
    if (!fn) { /* the lore program's display at a terminal, if it set one */
        lua_getfield(L, LUA_REGISTRYINDEX, "lore.internal");
        if (lua_istable(L, -1) && lua_getfield(L, -1, "infer_progress") == LUA_TFUNCTION) {
            lua_remove(L, -2);
            fn = lua_gettop(L);
        } else {
            lua_pop(L, lua_istable(L, -1) ? 2 : 1);
        }
    }
    if (max >= 0)
        lore_infer_limit(kb, (uint64_t)max);
    iprogress prog = {L, fn, 0};
    if (fn)
        lore_infer_progress(kb, infer_progress, &prog);
    lore_infer_stats st;
    int rc;
    WITH_HOST(h, L, lore_infer(kb, &st));
    if (fn)
        lore_infer_progress(kb, NULL, NULL);
    if (max >= 0)
        lore_infer_limit(kb, 0);
    if (prog.failed)
        return lua_error(L);
    if (rc < 0)
        return fail(L, h, rc);
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, (lua_Integer)st.added);
    lua_setfield(L, -2, "added");
    lua_pushinteger(L, (lua_Integer)st.removed);
    lua_setfield(L, -2, "removed");
    lua_pushinteger(L, (lua_Integer)st.rounds);
    lua_setfield(L, -2, "rounds");
    lua_pushboolean(L, st.full);
    lua_setfield(L, -2, "full");
    return 1;
}

/* kb:clear_derived() -> number of facts that disappeared */
static int kb_clear_derived(lua_State *L)
{
    lore_kb *kb = lualore_checkkb(L, 1)->kb;
    size_t n = 0;
    int rc = lore_clear_derived(kb, &n);
    if (rc < 0)
        return lualore_fail(L, kb, rc);
    lua_pushinteger(L, (lua_Integer)n);
    return 1;
}

/* ------------------------------------------------------------------ */
/* proofs                                                             */

static void push_fact(lua_State *L, lore_kb *kb, const lore_id t[3])
{
    lua_createtable(L, 3, 0);
    for (int k = 0; k < 3; k++) {
        lualore_pushterm(L, kb, t[k]);
        lua_rawseti(L, -2, k + 1);
    }
}

/* The `text` fact of a source (a sentence), pushed, or nothing (0). */
static int push_source_text(lua_State *L, lore_kb *kb, lore_id src)
{
    lore_value v = lore_symbol("text");
    lore_id text, t[3];
    lore_iter *it;
    if (!src || lore_lookup(kb, &v, &text) != LORE_OK ||
        lore_match(kb, src, text, 0, &it) != LORE_OK)
        return 0;
    int found = lore_iter_next(it, t) == LORE_OK;
    lore_iter_free(it);
    if (found)
        lualore_pushterm(L, kb, t[2]);
    return found;
}

/* kb:why(s, p, o) -> a proof (prints as a tree), or nil if the fact is
 * not present */
static int kb_why(lua_State *L)
{
    lua_settop(L, 4);
    lhost *h = host(L);
    lua_pop(L, 1);
    lore_kb *kb = h->kb;
    lore_id t[3];
    for (int i = 0; i < 3; i++) {
        lore_value v;
        const char *what;
        if (!lualore_tovalue(L, i + 2, &v, &what))
            return luaL_argerror(
                L, i + 2,
                lua_pushfstring(L, "symbol, number, boolean, text or date expected, got %s", what));
        if (lore_lookup(kb, &v, &t[i]) != LORE_OK)
            return 0;
    }
    lore_proof *pr = NULL;
    int rc;
    WITH_HOST(h, L, lore_why(kb, t[0], t[1], t[2], &pr));
    if (rc == LORE_ERR_NOTFOUND)
        return 0;
    if (rc < 0)
        return fail(L, h, rc);
    size_t n = lore_proof_steps(pr);
    const char *text = lore_proof_text(pr);
    if (!lua_checkstack(L, 8)) {
        lore_proof_free(pr);
        return luaL_error(L, "out of memory");
    }
    /* the steps as tables: all made first, then filled, since a premise
     * may be a step explained earlier (a repeat) */
    lua_createtable(L, (int)n, 0);
    int all = lua_gettop(L);
    for (size_t i = 0; i < n; i++) {
        const lore_proof_step *s = lore_proof_step_at(pr, i);
        if (s->kind == LORE_PROOF_REPEAT)
            continue;
        lua_createtable(L, 0, 6);
        luaL_setmetatable(L, LORE_PROOF_MT);
        lua_rawseti(L, all, (lua_Integer)i + 1);
    }
    for (size_t i = 0; i < n; i++) {
        const lore_proof_step *s = lore_proof_step_at(pr, i);
        if (s->kind == LORE_PROOF_REPEAT)
            continue;
        lua_rawgeti(L, all, (lua_Integer)i + 1);
        push_fact(L, kb, s->fact);
        lua_setfield(L, -2, "fact");
        if (s->kind == LORE_PROOF_ASSERTED) {
            lua_pushboolean(L, 1);
            lua_setfield(L, -2, "asserted");
            lua_createtable(L, (int)s->nsources, 0);
            lua_newtable(L);
            int k = 0;
            for (size_t j = 0; j < s->nsources; j++) {
                if (!s->sources[j]) {
                    lua_pushboolean(L, 1);
                    lua_setfield(L, -3, "default");
                    continue;
                }
                lualore_pushterm(L, kb, s->sources[j]);
                lua_rawseti(L, -3, ++k);
                lualore_pushterm(L, kb, s->sources[j]);
                if (push_source_text(L, kb, s->sources[j]))
                    lua_rawset(L, -3);
                else
                    lua_pop(L, 1);
            }
            lua_setfield(L, -2, "sentences");
            lua_setfield(L, -2, "sources");
        } else if (s->kind == LORE_PROOF_RULE) {
            lua_pushstring(L, s->rule);
            lua_setfield(L, -2, "rule");
            lua_createtable(L, 0, (int)s->nbind);
            lua_createtable(L, (int)s->nbind, 0);
            for (size_t j = 0; j < s->nbind; j++) {
                lua_pushstring(L, s->names[j]);
                lua_rawseti(L, -2, (lua_Integer)j + 1);
                if (!s->values[j])
                    continue;
                lualore_pushterm(L, kb, s->values[j]);
                lua_setfield(L, -3, s->names[j]);
            }
            lua_setfield(L, -3, "vars");
            lua_setfield(L, -2, "bindings");
            lua_createtable(L, (int)s->npremises, 0);
            for (size_t j = 0; j < s->npremises; j++) {
                size_t p = s->premises[j];
                const lore_proof_step *ps = lore_proof_step_at(pr, p);
                if (ps->kind == LORE_PROOF_REPEAT)
                    p = ps->same;
                lua_rawgeti(L, all, (lua_Integer)p + 1);
                lua_rawseti(L, -2, (lua_Integer)j + 1);
            }
            lua_setfield(L, -2, "premises");
        } else {
            lua_pushboolean(L, 1);
            lua_setfield(L, -2, "unknown");
        }
        lua_pop(L, 1);
    }
    lua_rawgeti(L, all, 1);
    if (text) {
        lua_pushstring(L, text);
        lua_setfield(L, -2, "text");
    }
    lore_proof_free(pr);
    return 1;
}

/* ------------------------------------------------------------------ */
/* triggers and functions                                             */

/* kb:on(pattern, fn [, {added = bool, removed = bool}]) -> a trigger
 * (t:cancel() removes it) */
static int kb_on(lua_State *L)
{
    lua_settop(L, 4);
    lhost *h = host(L);
    int tab = lua_gettop(L);
    lore_kb *kb = h->kb;
    luaL_checktype(L, 2, LUA_TTABLE);
    luaL_checktype(L, 3, LUA_TFUNCTION);
    int events = LORE_ON_ADDED;
    if (!lua_isnoneornil(L, 4)) {
        static const char *const names[] = {"added", "removed", NULL};
        lualore_checkoptions(L, 4, names, "added or removed");
        lua_getfield(L, 4, "added");
        lua_getfield(L, 4, "removed");
        int rem = lua_toboolean(L, -1), add = lua_isnil(L, -2) ? !rem : lua_toboolean(L, -2);
        lua_pop(L, 2);
        events = (add ? LORE_ON_ADDED : 0) | (rem ? LORE_ON_REMOVED : 0);
        if (!events)
            return luaL_argerror(L, 4, "no event: added, removed or both expected");
    }
    if (luaL_len(L, 2) != 3)
        return luaL_argerror(L, 2, "a pattern of 3 terms {s, p, o} expected (\"_\" for any)");
    lore_id t[3];
    char names[3][32];
    for (int k = 0; k < 3; k++) {
        names[k][0] = '\0';
        lua_rawgeti(L, 2, k + 1);
        t[k] = 0;
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            continue;
        }
        if (lua_type(L, -1) == LUA_TSTRING) {
            const char *s = lua_tostring(L, -1);
            if (s[0] == '?' || strcmp(s, "_") == 0) {
                if (s[0] == '?' && s[1])
                    snprintf(names[k], sizeof names[k], "%s", s + 1);
                lua_pop(L, 1);
                continue;
            }
        }
        lore_value v;
        const char *what;
        if (!lualore_tovalue(L, -1, &v, &what))
            return luaL_argerror(L, 2,
                                 lua_pushfstring(L, "a term or a variable expected, got %s", what));
        if (lore_intern(kb, &v, &t[k]) != LORE_OK)
            return luaL_argerror(L, 2, lualore_errmsg(L, kb));
        lua_pop(L, 1);
    }
    lua_settop(L, tab);
    lcb *cb = keep(L, h, 3);
    memcpy(cb->names, names, sizeof names);
    for (int k = 0; k < 3; k++)
        if (names[k][0])
            cb->eq |= 1 << k;
    int rc = lore_on(kb, t[0], t[1], t[2], events, cb_trigger, cb, &cb->handle);
    if (rc < 0)
        return lualore_fail(L, kb, rc);
    /* the handle: a small table with cancel() */
    lua_createtable(L, 0, 2);
    lua_pushvalue(L, -2); /* the record */
    lua_setfield(L, -2, "_cb");
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, "_kb");
    luaL_setmetatable(L, LORE_TRIGGER_MT);
    return 1;
}

/* t:cancel() -> true, or false if it was cancelled already */
static int trigger_cancel(lua_State *L)
{
    int ok = lua_getmetatable(L, 1);
    luaL_getmetatable(L, LORE_TRIGGER_MT);
    if (!ok || !lua_rawequal(L, -1, -2))
        return luaL_typeerror(L, 1, LORE_TRIGGER_MT);
    lua_pop(L, 2);
    lua_getfield(L, 1, "_cb");
    lcb *cb = lua_touserdata(L, -1);
    lua_getfield(L, 1, "_kb");
    lkb *k = lua_touserdata(L, -1);
    int done = cb && k && k->kb && cb->handle && lore_off(k->kb, cb->handle) == LORE_OK;
    if (cb)
        cb->handle = 0;
    lua_pushboolean(L, done);
    return 1;
}

/* kb:fn(name, function): a named value function for the text form */
static int kb_fn(lua_State *L)
{
    lua_settop(L, 3);
    lhost *h = host(L);
    lore_kb *kb = h->kb;
    const char *name = luaL_checkstring(L, 2);
    luaL_checktype(L, 3, LUA_TFUNCTION);
    lcb *cb = keep(L, h, 3);
    int rc = lore_function(kb, name, cb_value, cb);
    if (rc < 0)
        return luaL_argerror(L, 2, lualore_errmsg(L, kb));
    return 0;
}

static const luaL_Reg kb_methods[] = {
    {"rule", kb_rule},
    {"rules", kb_rules},
    {"remove_rule", kb_remove_rule},
    {"infer", kb_infer},
    {"clear_derived", kb_clear_derived},
    {"why", kb_why},
    {"on", kb_on},
    {"fn", kb_fn},
    {NULL, NULL},
};

static const luaL_Reg trigger_methods[] = {{"cancel", trigger_cancel}, {NULL, NULL}};

void lualore_open_rules(lua_State *L)
{
    luaL_newmetatable(L, LORE_PROOF_MT);
    lua_setfield(L, -2, "_Proof"); /* for rules.lua, which removes it */
    luaL_newmetatable(L, LORE_TRIGGER_MT);
    lua_newtable(L);
    luaL_setfuncs(L, trigger_methods, 0);
    lua_setfield(L, -2, "__index");
    lua_setfield(L, -2, "_Trigger");
    lualore_add_methods(L, kb_methods, NULL);
}
