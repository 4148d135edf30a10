/* lualore.c - the Lua module `lore`: knowledge bases as userdata, terms as
 * Lua values, matches as generic-for iterators.  Uses only lore.h. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "lualore.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lua_parts.h" /* the pure-Lua parts, embedded at build time */

/* ------------------------------------------------------------------ */
/* values                                                             */

static int has_metatable(lua_State *L, int i, const char *name)
{
    if (!lua_getmetatable(L, i))
        return 0;
    luaL_getmetatable(L, name);
    int same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return same;
}

/* A string field of the table at index i (absolute), or NULL. */
static const char *string_field(lua_State *L, int i, const char *key, size_t *len)
{
    const char *s = NULL;
    if (lua_getfield(L, i, key) == LUA_TSTRING)
        s = lua_tolstring(L, -1, len);
    lua_pop(L, 1); /* the table keeps the string alive */
    return s;
}

int lualore_tovalue(lua_State *L, int i, lore_value *v, const char **what)
{
    memset(v, 0, sizeof *v);
    i = lua_absindex(L, i);
    switch (lua_type(L, i)) {
    case LUA_TSTRING:
        v->kind = LORE_SYMBOL;
        v->str = lua_tolstring(L, i, &v->len);
        return 1;
    case LUA_TNUMBER:
        if (lua_isinteger(L, i)) {
            v->kind = LORE_INTEGER;
            v->i = lua_tointeger(L, i);
        } else {
            v->kind = LORE_NUMBER;
            v->n = lua_tonumber(L, i);
        }
        return 1;
    case LUA_TBOOLEAN:
        v->kind = LORE_BOOLEAN;
        v->i = lua_toboolean(L, i);
        return 1;
    case LUA_TTABLE:
        if (has_metatable(L, i, LORE_TEXT_MT)) {
            v->kind = LORE_TEXT;
            v->str = string_field(L, i, "text", &v->len);
            v->lang = string_field(L, i, "lang", &v->langlen);
            if (v->str)
                return 1;
        } else if (has_metatable(L, i, LORE_DATE_MT)) {
            v->kind = LORE_DATE;
            v->str = string_field(L, i, "date", &v->len);
            if (v->str)
                return 1;
        }
        break;
    default:
        break;
    }
    *what = luaL_typename(L, i);
    return 0;
}

static const char *const TERM_EXPECTED = "symbol, number, boolean, text or date expected";

/* The term at argument i as a value, or an argument error. */
static void check_value(lua_State *L, int i, lore_value *v)
{
    const char *what;
    if (!lualore_tovalue(L, i, v, &what))
        luaL_argerror(L, i, lua_pushfstring(L, "%s, got %s", TERM_EXPECTED, what));
    if (v->kind == LORE_SYMBOL && v->len > 0 && v->str[0] == '?')
        luaL_argerror(L, i, lua_pushfstring(L, "a fact cannot hold the variable '%s'", v->str));
}

static void push_text(lua_State *L, const char *s, size_t n, const char *lang)
{
    lua_createtable(L, 0, 2);
    lua_pushlstring(L, s, n);
    lua_setfield(L, -2, "text");
    if (lang) {
        lua_pushstring(L, lang);
        lua_setfield(L, -2, "lang");
    }
    luaL_setmetatable(L, LORE_TEXT_MT);
}

static void push_date(lua_State *L, const char *s, size_t n)
{
    lua_createtable(L, 0, 1);
    lua_pushlstring(L, s, n);
    lua_setfield(L, -2, "date");
    luaL_setmetatable(L, LORE_DATE_MT);
}

void lualore_pushvalue(lua_State *L, const lore_value *v)
{
    switch (v->kind) {
    case LORE_SYMBOL: lua_pushlstring(L, v->str, v->len); break;
    case LORE_TEXT: {
        /* a computed text's tag need not end with a NUL */
        char lang[64];
        const char *tag = NULL;
        if (v->lang && v->langlen && v->langlen < sizeof lang) {
            memcpy(lang, v->lang, v->langlen);
            lang[v->langlen] = '\0';
            tag = lang;
        }
        push_text(L, v->str, v->len, tag);
        break;
    }
    case LORE_INTEGER: lua_pushinteger(L, (lua_Integer)v->i); break;
    case LORE_NUMBER: lua_pushnumber(L, v->n); break;
    case LORE_BOOLEAN: lua_pushboolean(L, (int)v->i); break;
    case LORE_DATE: push_date(L, v->str, v->len); break;
    default: lua_pushnil(L); break;
    }
}

void lualore_pushterm(lua_State *L, lore_kb *kb, lore_id id)
{
    lore_value v;
    if (lore_term(kb, id, &v) != LORE_OK) {
        lua_pushnil(L);
        return;
    }
    lualore_pushvalue(L, &v);
}

const char *lualore_errmsg(lua_State *L, lore_kb *kb)
{
    /* the core's messages name the C function they come from ("lore_intern:
     * ...", "(lore_infer_limit)"); from Lua the method being called says
     * that, so the name goes, or becomes the Lua form */
    const char *msg = lore_errmsg(kb), *p = msg;
    if (strncmp(p, "lore_", 5) == 0) {
        p += 5;
        while ((*p >= 'a' && *p <= 'z') || *p == '_')
            p++;
        p = p[0] == ':' && p[1] == ' ' ? p + 2 : msg;
    }
    const char *lim = strstr(p, " (lore_infer_limit)");
    if (!lim)
        return lua_pushstring(L, p);
    lua_pushfstring(L, "%s (kb:infer's max)%s", lua_pushlstring(L, p, (size_t)(lim - p)),
                    lim + strlen(" (lore_infer_limit)"));
    lua_remove(L, -2);
    return lua_tostring(L, -1);
}

int lualore_fail(lua_State *L, lore_kb *kb, int rc)
{
    const char *msg = lualore_errmsg(L, kb);
    lualore_budget_hit(L, rc, msg);
    return luaL_error(L, "%s", msg[0] ? msg : lore_strerror(rc));
}

void lualore_checkoptions(lua_State *L, int arg, const char *const names[], const char *expected)
{
    arg = lua_absindex(L, arg);
    luaL_checktype(L, arg, LUA_TTABLE);
    for (lua_pushnil(L); lua_next(L, arg); lua_pop(L, 1)) {
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        int known = 0;
        for (size_t i = 0; k && names[i] && !known; i++)
            known = strcmp(k, names[i]) == 0;
        if (!known)
            luaL_argerror(L, arg,
                          lua_pushfstring(L, "unknown option '%s' (expected %s)",
                                          luaL_tolstring(L, -2, NULL), expected));
    }
}

/* lore.text(str [, lang]) */
static int l_text(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    const char *lang = luaL_optstring(L, 2, NULL);
    lore_value v = {LORE_TEXT, s, n, lang, lang ? strlen(lang) : 0, 0, 0};
    const char *why;
    if (lore_check_value(&v, &why) != LORE_OK)
        return luaL_argerror(L, lang && !strstr(why, "UTF-8") ? 2 : 1,
                             lua_pushfstring(L, "%s expected", why));
    push_text(L, s, n, lang && lang[0] ? lang : NULL);
    return 1;
}

/* lore.date(iso): validated now, so a bad date fails where it is written */
static int l_date(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    lore_value v = {LORE_DATE, s, n, NULL, 0, 0, 0};
    const char *why;
    if (lore_check_value(&v, &why) != LORE_OK)
        return luaL_argerror(L, 1, lua_pushfstring(L, "%s expected, got '%s'", why, s));
    push_date(L, s, n);
    return 1;
}

/* ------------------------------------------------------------------ */
/* knowledge bases                                                    */

lkb *lualore_checkkb(lua_State *L, int i)
{
    lkb *k = luaL_checkudata(L, i, LORE_KB_MT);
    if (!k->kb)
        luaL_argerror(L, i, "knowledge base is closed");
    return k;
}

/* The per-state interrupt flag, in a userdata under a static key. */
static const char INTERRUPT_KEY = 'i';

volatile sig_atomic_t *lualore_interrupt_flag(lua_State *L)
{
    volatile sig_atomic_t *flag;
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &INTERRUPT_KEY) == LUA_TUSERDATA) {
        flag = lua_touserdata(L, -1);
    } else {
        flag = lua_newuserdatauv(L, sizeof *flag, 0);
        *flag = 0;
        lua_rawsetp(L, LUA_REGISTRYINDEX, &INTERRUPT_KEY);
    }
    lua_pop(L, 1);
    return flag;
}

/* ---- the caches between Lua values and ids ---- */

/* Drops the caches when the kb's terms moved (see lkb in lualore.h). */
static void cache_sync(lua_State *L, lkb *k, int kbi)
{
    uint64_t e = lore_term_epoch(k->kb);
    if (e == k->epoch)
        return;
    lua_pushnil(L);
    lua_setiuservalue(L, kbi, 1);
    lua_pushnil(L);
    lua_setiuservalue(L, kbi, 2);
    lua_pushnil(L);
    lua_setiuservalue(L, kbi, 3);
    k->slots = NULL;
    k->nslots = 0;
    k->epoch = e;
}

/* Pushes user value `which` of the kb at kbi, making it if absent. */
static void cache_table(lua_State *L, lkb *k, int kbi, int which)
{
    if (lua_getiuservalue(L, kbi, which) == LUA_TTABLE)
        return;
    lua_pop(L, 1);
    if (which == 1) { /* the slots come with their anchors */
        size_t n = LUALORE_SLOTS_MIN, terms = lore_term_count(k->kb);
        while (n < 2 * terms && n < LUALORE_SLOTS_MAX)
            n *= 2;
        size_t line = LUALORE_WAYS * sizeof *k->slots;
        char *raw = lua_newuserdatauv(L, n * sizeof *k->slots + line, 0);
        k->slots = (uint64_t *)(void *)(raw + (line - (uintptr_t)raw % line) % line);
        memset(k->slots, 0, n * sizeof *k->slots);
        k->nslots = n;
        lua_setiuservalue(L, kbi, 3);
    }
    lua_createtable(L, which == 1 ? (int)k->nslots : 0, 0);
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, kbi, which);
}

/* The first slot of p's set. */
static inline size_t set_of(const lkb *k, const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ull;
    return (size_t)(x >> 32) & (k->nslots - LUALORE_WAYS);
}

/* p's compressed address shifted into a slot's high half, or 0 when p
 * cannot be cached (too far from base, or oddly aligned). */
static inline uint64_t key_of(const lkb *k, const void *p)
{
    uintptr_t d = (uintptr_t)p - k->base;
    if ((uintptr_t)p < k->base || d % 8 != 0 || (d >> 3) >= 0xffffffffu)
        return 0;
    return ((uint64_t)(d >> 3) + 1) << 32;
}

/* The id cached for string address p, or 0. */
static inline lore_id slot_find(const lkb *k, const void *p)
{
    uint64_t key = k->slots ? key_of(k, p) : 0;
    if (!key)
        return 0;
    const uint64_t *w = &k->slots[set_of(k, p)];
    for (int i = 0; i < LUALORE_WAYS; i++)
        if ((w[i] & 0xffffffff00000000ull) == key)
            return (lore_id)w[i];
    return 0;
}

/* Sets slot `at` to entry, anchoring there the string on top of the
 * stack (popped). */
static void slot_set(lua_State *L, lkb *k, int anchors, size_t at, uint64_t entry)
{
    k->slots[at] = entry;
    lua_rawseti(L, anchors, (lua_Integer)at + 1); /* anchored: the address stays this string's */
}

/* A free slot of p's set, or the next victim of a full one. */
static size_t slot_for(lkb *k, const void *p)
{
    size_t s = set_of(k, p);
    for (int i = 0; i < LUALORE_WAYS; i++)
        if (k->slots[s + i] == 0)
            return s + i;
    return s + (k->victim++ % LUALORE_WAYS);
}

/* Caches p -> id with the string at index i (when p can be cached). */
static void slot_put(lua_State *L, lkb *k, int anchors, int i, const void *p, lore_id id)
{
    if (!k->based) { /* the first string cached: the others lie around it */
        uintptr_t below = (uintptr_t)1 << 33;
        k->base = (uintptr_t)p > below ? (uintptr_t)p - below : (uintptr_t)p % 8;
        k->based = 1;
    }
    uint64_t key = key_of(k, p);
    if (!key)
        return;
    lua_pushvalue(L, i);
    slot_set(L, k, anchors, slot_for(k, p), key | id);
}

/* Moves the cache to a larger one as the kb grows, carrying its entries
 * over (they are still valid: the epoch has not moved) rather than
 * finding every cached string again through the dictionary. */
static void cache_grow(lua_State *L, lkb *k, int kbi)
{
    const uint64_t *old = k->slots;
    size_t n = k->nslots;
    lua_getiuservalue(L, kbi, 3); /* keeps the old slots alive meanwhile */
    lua_getiuservalue(L, kbi, 1);
    int oldanchors = lua_gettop(L);
    lua_pushnil(L);
    lua_setiuservalue(L, kbi, 1); /* makes cache_table build anew */
    k->slots = NULL;
    cache_table(L, k, kbi, 1);
    int anchors = lua_gettop(L);
    for (size_t j = 0; j < n; j++) {
        if (!old[j])
            continue;
        const void *p = (const void *)(k->base + (uintptr_t)((old[j] >> 32) - 1) * 8);
        lua_rawgeti(L, oldanchors, (lua_Integer)j + 1);
        slot_set(L, k, anchors, slot_for(k, p), old[j]);
    }
    lua_pop(L, 3);
}

/* Interns (through `b` when a batch is open) or looks up; see lualore_toid. */
static int resolve(lore_kb *kb, lore_batch *b, const lore_value *v, int intern, lore_id *id)
{
    if (!intern)
        return lore_lookup(kb, v, id);
    return b ? lore_batch_intern(b, v, id) : lore_intern(kb, v, id);
}

static int toid(lua_State *L, int kbi, int i, int intern, lore_batch *b, lore_id *id,
                const char **what);

int lualore_toid(lua_State *L, int kbi, int i, int intern, lore_id *id, const char **what)
{
    return toid(L, kbi, i, intern, NULL, id, what);
}

/* Terms a batch interns may be cached like any: if the batch is dropped,
 * its terms are taken back and the term epoch moves, which empties the
 * cache before it could hand out a stale id. */
static int toid(lua_State *L, int kbi, int i, int intern, lore_batch *b, lore_id *id,
                const char **what)
{
    lkb *k = lua_touserdata(L, kbi);
    lore_value v;
    i = lua_absindex(L, i);
    cache_sync(L, k, kbi);
    if (lua_type(L, i) != LUA_TSTRING) {
        if (!lualore_tovalue(L, i, &v, what))
            return LORE_ERR_ARG;
        return resolve(k->kb, b, &v, intern, id);
    }
    const void *p = lua_tolstring(L, i, NULL); /* its address: the string is not read */
    lore_id hit = slot_find(k, p);
    if (hit) {
        *id = hit;
        return LORE_OK;
    }
    lualore_tovalue(L, i, &v, what);
    int rc = resolve(k->kb, b, &v, intern, id);
    if (rc == LORE_OK) {
        if (k->slots && k->nslots < LUALORE_SLOTS_MAX && lore_term_count(k->kb) > k->nslots)
            cache_grow(L, k, kbi);
        cache_table(L, k, kbi, 1);
        slot_put(L, k, lua_gettop(L), i, p, *id);
        lua_pop(L, 1);
    }
    return rc;
}

void lualore_pushid(lua_State *L, int kbi, lore_id id)
{
    lkb *k = lua_touserdata(L, kbi);
    cache_sync(L, k, kbi);
    if (id > LUALORE_VMAX) {
        lualore_pushterm(L, k->kb, id);
        return;
    }
    cache_table(L, k, kbi, 2);
    if (lua_rawgeti(L, -1, (lua_Integer)id) != LUA_TNIL) {
        lua_remove(L, -2);
        return;
    }
    lua_pop(L, 1);
    lore_value v;
    if (lore_term(k->kb, id, &v) == LORE_OK && v.kind == LORE_SYMBOL) {
        lua_pushlstring(L, v.str, v.len);
        lua_pushvalue(L, -1);
        lua_rawseti(L, -3, (lua_Integer)id);
    } else {
        lualore_pushterm(L, k->kb, id); /* texts and dates are fresh tables each time */
    }
    lua_remove(L, -2);
}

/* A new kb userdata on the stack, using Lua's allocator, so that a host's
 * memory limit covers both.  It watches the state's interrupt flag. */
lkb *lualore_newkb(lua_State *L)
{
    lkb *k = lua_newuserdatauv(L, sizeof *k, 3);
    k->kb = NULL; /* owned by the userdata before anything can raise */
    k->epoch = 0;
    k->slots = NULL;
    k->nslots = 0;
    k->base = 0;
    k->based = 0;
    k->victim = 0;
    k->borrowed = 0;
    luaL_setmetatable(L, LORE_KB_MT);
    void *ud;
    lua_Alloc f = lualore_base_alloc(L, &ud);
    if (lore_kb_new(&k->kb, (lore_alloc_fn)f, ud) != LORE_OK)
        luaL_error(L, "out of memory");
    lore_kb_watch(k->kb, lualore_interrupt_flag(L));
    return k;
}

/* lore.new() */
static int l_new(lua_State *L)
{
    lualore_newkb(L);
    return 1;
}

static int kb_gc(lua_State *L)
{
    lkb *k = luaL_checkudata(L, 1, LORE_KB_MT);
    if (!k->borrowed)
        lore_kb_free(k->kb);
    k->kb = NULL;
    return 0;
}

static int kb_tostring(lua_State *L)
{
    lkb *k = luaL_checkudata(L, 1, LORE_KB_MT);
    if (!k->kb)
        lua_pushliteral(L, "lore.kb (closed)");
    else
        lua_pushfstring(L, "lore.kb (%d facts)", (int)lore_size(k->kb));
    return 1;
}

static int kb_len(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)lore_size(lualore_checkkb(L, 1)->kb));
    return 1;
}

/* The source named in an options table at index i: 0 if none. */
static lore_id opt_source(lua_State *L, lore_kb *kb, int i, int intern, int *missing)
{
    *missing = 0;
    if (lua_isnoneornil(L, i))
        return 0;
    luaL_checktype(L, i, LUA_TTABLE);
    int top = lua_gettop(L);
    if (lua_getfield(L, i, "source") == LUA_TNIL) {
        lua_settop(L, top);
        return 0;
    }
    lore_value v;
    const char *what;
    if (!lualore_tovalue(L, -1, &v, &what))
        luaL_argerror(L, i, lua_pushfstring(L, "source: %s, got %s", TERM_EXPECTED, what));
    lore_id id = 0;
    int rc = intern ? lore_intern(kb, &v, &id) : lore_lookup(kb, &v, &id);
    if (rc == LORE_ERR_NOTFOUND)
        *missing = 1;
    else if (rc != LORE_OK)
        luaL_argerror(L, i, lualore_errmsg(L, kb));
    lua_settop(L, top);
    return id;
}

/* Interns argument i of a fact (the kb at index 1). */
static void intern_arg(lua_State *L, lore_kb *kb, int i, lore_id *id)
{
    const char *what = NULL;
    if (lua_type(L, i) == LUA_TSTRING) {
        const char *s = lua_tostring(L, i);
        if (s[0] == '?')
            luaL_argerror(L, i, lua_pushfstring(L, "a fact cannot hold the variable '%s'", s));
    }
    int rc = lualore_toid(L, 1, i, 1, id, &what);
    if (rc == LORE_ERR_ARG && what)
        luaL_argerror(L, i, lua_pushfstring(L, "%s, got %s", TERM_EXPECTED, what));
    if (rc != LORE_OK)
        luaL_argerror(L, i, lualore_errmsg(L, kb));
}

/* The kb at argument 1 for this file's own kb methods, which carry the kb
 * class's metatable as upvalue 1: comparing with it is cheaper on hot
 * paths than looking the class up by name; the slow check gives the
 * error message. */
static lkb *self_kb(lua_State *L)
{
    lkb *k = lua_touserdata(L, 1);
    if (k && k->kb && lua_getmetatable(L, 1)) {
        int same = lua_rawequal(L, -1, lua_upvalueindex(1));
        lua_pop(L, 1);
        if (same)
            return k;
    }
    return lualore_checkkb(L, 1);
}

/* kb:add(s, p, o [, {source = src}]) -> true if new, false if known */
static int kb_add(lua_State *L)
{
    lkb *k = self_kb(L);
    lore_kb *kb = k->kb;
    lore_id t[3];
    /* the hot path: symbols whose strings sit in the cache */
    cache_sync(L, k, 1);
    int hits = 0;
    const void *str[3] = {NULL, NULL, NULL};
    if (k->slots) {
        /* the three slots are fetched from memory at once, not one after
         * another: each is likely a cache miss */
        for (int i = 0; i < 3 && lua_type(L, i + 2) == LUA_TSTRING; i++) {
            str[i] = lua_tolstring(L, i + 2, NULL);
            __builtin_prefetch(&k->slots[set_of(k, str[i])]);
        }
    }
    for (int i = 0; i < 3 && str[i]; i++) {
        if (!(t[i] = slot_find(k, str[i])))
            break;
        hits++;
    }
    for (int i = hits; i < 3; i++)
        intern_arg(L, kb, i + 2, &t[i]);
    lore_id src = 0;
    if (!lua_isnoneornil(L, 5)) {
        int missing;
        src = opt_source(L, kb, 5, 1, &missing);
    }
    int rc = lore_add(kb, t[0], t[1], t[2], src);
    if (rc < 0)
        return lualore_fail(L, kb, rc);
    lua_pushboolean(L, rc == LORE_OK);
    return 1;
}

/* Looks up argument i for reading: 0 for nil or a wildcard, *missing set
 * when the term is unknown (so nothing can match). */
static lore_id lookup_arg(lua_State *L, lore_kb *kb, int i, int *missing)
{
    if (lua_isnoneornil(L, i))
        return 0;
    if (lua_type(L, i) == LUA_TSTRING) {
        /* a cached string is a known symbol, never a wildcard: look there
         * first, before reading the string itself */
        lkb *k = lua_touserdata(L, 1);
        const void *p = lua_tolstring(L, i, NULL);
        if (k->slots && k->epoch == lore_term_epoch(kb)) {
            lore_id id = slot_find(k, p);
            if (id)
                return id;
        }
        const char *s = p;
        if (s[0] == '?' || (s[0] == '_' && s[1] == '\0'))
            return 0; /* "?", "?name" and "_" are wildcards here */
    }
    lore_id id;
    const char *what = NULL;
    int rc = lualore_toid(L, 1, i, 0, &id, &what);
    if (rc == LORE_ERR_NOTFOUND) {
        *missing = 1;
        return 0;
    }
    if (rc == LORE_ERR_ARG && what)
        luaL_argerror(L, i, lua_pushfstring(L, "%s, got %s", TERM_EXPECTED, what));
    if (rc != LORE_OK)
        luaL_argerror(L, i, lualore_errmsg(L, kb));
    return id;
}

/* Looks up a fact given as arguments 2..4 (all bound). */
static int lookup_fact(lua_State *L, lore_kb *kb, lore_id t[3])
{
    int missing = 0;
    for (int i = 0; i < 3; i++) {
        lore_value v;
        check_value(L, i + 2, &v);
        int rc = lore_lookup(kb, &v, &t[i]);
        if (rc == LORE_ERR_NOTFOUND)
            missing = 1;
        else if (rc != LORE_OK)
            luaL_argerror(L, i + 2, lualore_errmsg(L, kb));
    }
    return !missing;
}

/* kb:remove(s, p, o [, {source = src}]) -> true if something changed */
static int kb_remove(lua_State *L)
{
    lore_kb *kb = lualore_checkkb(L, 1)->kb;
    lore_id t[3];
    int known = lookup_fact(L, kb, t), missing = 0;
    lore_id src = LORE_ANY_SOURCE;
    if (!lua_isnoneornil(L, 5)) {
        luaL_checktype(L, 5, LUA_TTABLE);
        lua_getfield(L, 5, "source");
        int has = !lua_isnil(L, -1);
        lua_pop(L, 1);
        if (has)
            src = opt_source(L, kb, 5, 0, &missing);
    }
    if (!known || missing) {
        lua_pushboolean(L, 0);
        return 1;
    }
    int rc = lore_remove(kb, t[0], t[1], t[2], src);
    if (rc < 0)
        return lualore_fail(L, kb, rc);
    lua_pushboolean(L, rc == LORE_OK);
    return 1;
}

/* kb:count(s, p, o) */
static int kb_count(lua_State *L)
{
    lore_kb *kb = self_kb(L)->kb;
    int missing = 0;
    lore_id t[3];
    for (int i = 0; i < 3; i++)
        t[i] = lookup_arg(L, kb, i + 2, &missing);
    if (missing) {
        lua_pushinteger(L, 0);
        return 1;
    }
    uint64_t n;
    int rc = lore_count(kb, t[0], t[1], t[2], &n);
    if (rc < 0)
        return lualore_fail(L, kb, rc);
    lua_pushinteger(L, (lua_Integer)n);
    return 1;
}

/* kb:sources(s, p, o) -> nil if absent, else { named sources...,
 * asserted = bool, derived = bool, default = bool } */
static int kb_sources(lua_State *L)
{
    lore_kb *kb = lualore_checkkb(L, 1)->kb;
    lore_id t[3];
    lua_pushnil(L); /* an absent fact: nil, not nothing (print shows "nil") */
    if (!lookup_fact(L, kb, t))
        return 1;
    lua_pop(L, 1);
    lore_fact_info info;
    lore_id buf[32];
    int rc = lore_fact(kb, t[0], t[1], t[2], &info, buf, 32);
    if (rc < 0)
        return lualore_fail(L, kb, rc);
    if (!info.present) {
        lua_pushnil(L);
        return 1;
    }
    lore_id *ids = buf;
    if (info.nsources > 32) {
        ids = lua_newuserdatauv(L, info.nsources * sizeof *ids, 0);
        rc = lore_fact(kb, t[0], t[1], t[2], &info, ids, info.nsources);
        if (rc < 0)
            return lualore_fail(L, kb, rc);
    }
    lua_createtable(L, (int)info.nsources, 3);
    for (size_t i = 0; i < info.nsources; i++) {
        lualore_pushterm(L, kb, ids[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_pushboolean(L, info.asserted);
    lua_setfield(L, -2, "asserted");
    lua_pushboolean(L, info.derived);
    lua_setfield(L, -2, "derived");
    lua_pushboolean(L, info.in_default);
    lua_setfield(L, -2, "default");
    return 1;
}

/* kb:retract_source(src) -> number of facts that disappeared */
static int kb_retract_source(lua_State *L)
{
    lore_kb *kb = lualore_checkkb(L, 1)->kb;
    lore_value v;
    check_value(L, 2, &v);
    lore_id id;
    int rc = lore_lookup(kb, &v, &id);
    if (rc == LORE_ERR_NOTFOUND) {
        lua_pushinteger(L, 0);
        return 1;
    }
    if (rc != LORE_OK)
        return luaL_argerror(L, 2, lualore_errmsg(L, kb));
    size_t removed;
    rc = lore_retract_source(kb, id, &removed);
    if (rc < 0)
        return lualore_fail(L, kb, rc);
    lua_pushinteger(L, (lua_Integer)removed);
    return 1;
}

/* ------------------------------------------------------------------ */
/* match iterators                                                    */

typedef struct liter {
    lore_iter *it; /* NULL once exhausted or closed */
    lore_id t[3];
} liter;

static int iter_close(lua_State *L)
{
    liter *li = luaL_checkudata(L, 1, LORE_ITER_MT);
    lore_iter_free(li->it);
    li->it = NULL;
    return 0;
}

/* The next row's ids, or NULL at the end; raises if the kb changed.  One
 * row at a time, so a change is noticed at the very next step. */
static const lore_id *iter_step(lua_State *L, liter *li)
{
    if (!li->it)
        return NULL;
    int rc = lore_iter_next(li->it, li->t);
    if (rc == LORE_DONE) {
        lore_iter_free(li->it);
        li->it = NULL;
        return NULL;
    }
    if (rc < 0)
        luaL_error(L, "knowledge base changed during iteration "
                      "(collect the matches first, e.g. with :all())");
    return li->t;
}

/* __call: one step of a generic for.  The iterator class's metatable is
 * its upvalue, which makes the type check cheap on this hot path. */
static int iter_call(lua_State *L)
{
    liter *li = lua_touserdata(L, 1);
    if (!li || !lua_getmetatable(L, 1) || !lua_rawequal(L, -1, lua_upvalueindex(1)))
        return luaL_typeerror(L, 1, LORE_ITER_MT);
    lua_pop(L, 1);
    const lore_id *t = iter_step(L, li);
    if (!t)
        return 0;
    lua_getiuservalue(L, 1, 1); /* the kb */
    int kbi = lua_gettop(L);
    lkb *k = lua_touserdata(L, kbi);
    cache_sync(L, k, kbi);
    cache_table(L, k, kbi, 2); /* the value cache, fetched once per row */
    int vt = lua_gettop(L);
    for (int i = 0; i < 3; i++) {
        if (t[i] > LUALORE_VMAX || lua_rawgeti(L, vt, (lua_Integer)t[i]) == LUA_TNIL) {
            if (t[i] <= LUALORE_VMAX)
                lua_pop(L, 1);
            lualore_pushid(L, kbi, t[i]);
        }
    }
    return 3;
}

/* it:all() -> array of {s, p, o} */
static int iter_all(lua_State *L)
{
    liter *li = luaL_checkudata(L, 1, LORE_ITER_MT);
    lua_getiuservalue(L, 1, 1);
    int kbi = lua_gettop(L);
    lua_newtable(L);
    const lore_id *t;
    lua_Integer k = 0;
    while ((t = iter_step(L, li)) != NULL) {
        lua_createtable(L, 3, 0);
        for (int i = 0; i < 3; i++) {
            lualore_pushid(L, kbi, t[i]);
            lua_rawseti(L, -2, i + 1);
        }
        lua_rawseti(L, -2, ++k);
    }
    return 1;
}

static const luaL_Reg iter_methods[] = {{"all", iter_all}, {NULL, NULL}};
static const luaL_Reg iter_meta[] = {{"__close", iter_close}, {"__gc", iter_close}, {NULL, NULL}};

/* kb:match(s, p, o [, {derived = true} or {asserted = true}]):
 * for s, p, o in kb:match(nil, "type", nil) do ... end */
static int kb_match(lua_State *L)
{
    lore_kb *kb = self_kb(L)->kb;
    int missing = 0;
    lore_id t[3];
    for (int i = 0; i < 3; i++)
        t[i] = lookup_arg(L, kb, i + 2, &missing);
    int flags = 0;
    if (!lua_isnoneornil(L, 5)) { /* {derived = true} and/or {asserted = true} */
        static const char *const names[] = {"derived", "asserted", NULL};
        lualore_checkoptions(L, 5, names, "derived or asserted");
        lua_getfield(L, 5, "derived");
        lua_getfield(L, 5, "asserted");
        flags = (lua_toboolean(L, -2) ? LORE_MATCH_DERIVED : 0) |
                (lua_toboolean(L, -1) ? LORE_MATCH_ASSERTED : 0);
        lua_pop(L, 2);
    }
    liter *li = lua_newuserdatauv(L, sizeof *li, 1);
    li->it = NULL;
    luaL_setmetatable(L, LORE_ITER_MT);
    lua_pushvalue(L, 1); /* the iterator keeps its kb alive */
    lua_setiuservalue(L, -2, 1);
    if (!missing) {
        int rc = flags ? lore_match_flags(kb, t[0], t[1], t[2], flags, &li->it)
                       : lore_match(kb, t[0], t[1], t[2], &li->it);
        if (rc < 0)
            return lualore_fail(L, kb, rc);
    }
    /* one callable value: the REPL shows it whole; an exhausted iterator
     * frees itself, an abandoned one is freed by the collector */
    return 1;
}

/* ------------------------------------------------------------------ */
/* batches: the Lua-side loaders' way in (all-or-nothing)             */

#define LORE_BATCH_MT "lore.batch"

typedef struct lbatch {
    lore_batch *b;
    lore_kb *kb;
} lbatch;

static int batch_gc(lua_State *L)
{
    lbatch *lb = luaL_checkudata(L, 1, LORE_BATCH_MT);
    lore_batch_free(lb->b);
    lb->b = NULL;
    return 0;
}

static lbatch *check_batch(lua_State *L)
{
    lbatch *lb = luaL_checkudata(L, 1, LORE_BATCH_MT);
    if (!lb->b)
        luaL_argerror(L, 1, "batch is closed");
    return lb;
}

/* b:add(s, p, o [, src]) -> true, or nil and a message for a bad term */
static int batch_add(lua_State *L)
{
    lbatch *lb = check_batch(L);
    lore_id t[4] = {0, 0, 0, 0};
    int n = lua_isnoneornil(L, 5) ? 3 : 4;
    lua_getiuservalue(L, 1, 1); /* the kb, whose caches serve the batch too */
    int kbi = lua_gettop(L);
    lkb *k = lua_touserdata(L, kbi);
    cache_sync(L, k, kbi);
    for (int i = 0; i < n; i++) {
        const char *what = NULL;
        if (k->slots && lua_type(L, i + 2) == LUA_TSTRING) { /* a cached symbol, unread */
            const void *p = lua_tolstring(L, i + 2, NULL);
            if ((t[i] = slot_find(k, p)) != 0)
                continue;
        }
        if (lua_type(L, i + 2) == LUA_TSTRING) {
            const char *s = lua_tostring(L, i + 2);
            if (s[0] == '?') {
                lua_pushnil(L);
                lua_pushfstring(L, "a fact cannot hold the variable '%s'", s);
                return 2;
            }
        }
        int rc = toid(L, kbi, i + 2, 1, lb->b, &t[i], &what);
        if (rc != LORE_OK) {
            lua_pushnil(L);
            if (what)
                lua_pushfstring(L, "%s, got %s", TERM_EXPECTED, what);
            else
                lualore_errmsg(L, lb->kb);
            return 2;
        }
    }
    int rc = lore_batch_add(lb->b, t[0], t[1], t[2], t[3]);
    if (rc < 0)
        return lualore_fail(L, lb->kb, rc);
    lua_pushboolean(L, 1);
    return 1;
}

/* b:commit() -> number of new facts */
static int batch_commit(lua_State *L)
{
    lbatch *lb = check_batch(L);
    lore_batch *b = lb->b;
    lb->b = NULL; /* commit frees it, whatever happens */
    size_t added;
    int rc = lore_batch_commit(b, &added);
    if (rc < 0)
        return lualore_fail(L, lb->kb, rc);
    lua_pushinteger(L, (lua_Integer)added);
    return 1;
}

static const luaL_Reg batch_methods[] = {
    {"add", batch_add}, {"commit", batch_commit}, {"abort", batch_gc}, {NULL, NULL}};
static const luaL_Reg batch_meta[] = {{"__gc", batch_gc}, {"__close", batch_gc}, {NULL, NULL}};

/* kb:batch() -> a batch; facts appear at b:commit(), none if dropped */
static int kb_batch(lua_State *L)
{
    lore_kb *kb = lualore_checkkb(L, 1)->kb;
    lbatch *lb = lua_newuserdatauv(L, sizeof *lb, 1);
    lb->b = NULL, lb->kb = kb;
    luaL_setmetatable(L, LORE_BATCH_MT);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);
    int rc = lore_batch_new(kb, &lb->b);
    if (rc < 0)
        return lualore_fail(L, kb, rc);
    return 1;
}

/* The symbol of term id as a name starting with `prefix`: the symbol
 * itself, or an IRI's compact form written to buf (cap bytes); NULL when
 * neither starts with prefix.  *len gets the name's length. */
static const char *term_name(lore_kb *kb, lore_id id, const char *prefix, size_t plen, char *buf,
                             size_t cap, size_t *len)
{
    lore_value v;
    if (lore_term(kb, id, &v) != LORE_OK || v.kind != LORE_SYMBOL)
        return NULL;
    if (v.len >= plen && memcmp(v.str, prefix, plen) == 0) {
        *len = v.len;
        return v.str;
    }
    if (v.str[0] != '<')
        return NULL;
    size_t n = lore_compact(kb, v.str, v.len, buf, cap);
    if (n == 0 || n >= cap || n < plen || memcmp(buf, prefix, plen) != 0)
        return NULL;
    *len = n;
    return buf;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* kb:terms([prefix [, limit]]) -> a list of the symbols whose name starts
 * with prefix (IRIs also by their compact form), in byte order, at most
 * limit of them; and how many there are.  For completion at a prompt. */
static int kb_terms(lua_State *L)
{
    lore_kb *kb = lualore_checkkb(L, 1)->kb;
    size_t plen, len;
    const char *prefix = luaL_optlstring(L, 2, "", &plen);
    lua_Integer limit = luaL_optinteger(L, 3, LUA_MAXINTEGER);
    luaL_argcheck(L, limit >= 0, 3, "a limit of 0 or more expected");
    size_t nterms = lore_term_count(kb), count = 0, bytes = 0;
    char buf[256];
    for (lore_id id = 1; id <= nterms; id++) { /* ids are 1..n */
        const char *name = term_name(kb, id, prefix, plen, buf, sizeof buf, &len);
        if (name) {
            count++;
            bytes += name == buf ? len + 1 : 0;
        }
    }
    /* the names, and the compact forms after them, in one block */
    const char **names = lua_newuserdatauv(L, count * sizeof *names + bytes, 0);
    char *copies = (char *)(names + count);
    size_t i = 0;
    for (lore_id id = 1; id <= nterms && i < count; id++) {
        const char *name = term_name(kb, id, prefix, plen, buf, sizeof buf, &len);
        if (name == buf) {
            memcpy(copies, buf, len + 1);
            name = copies;
            copies += len + 1;
        }
        if (name)
            names[i++] = name;
    }
    qsort(names, count, sizeof *names, compare_names);
    size_t shown = (lua_Unsigned)limit < count ? (size_t)limit : count;
    lua_createtable(L, (int)shown, 0);
    for (i = 0; i < shown; i++) {
        lua_pushstring(L, names[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_pushinteger(L, (lua_Integer)count);
    return 2;
}

/* ------------------------------------------------------------------ */
/* the module                                                         */

static const luaL_Reg kb_methods[] = {
    {"add", kb_add},
    {"remove", kb_remove},
    {"match", kb_match},
    {"count", kb_count},
    {"sources", kb_sources},
    {"retract_source", kb_retract_source},
    {"batch", kb_batch},
    {"terms", kb_terms},
    {NULL, NULL},
};

static const luaL_Reg kb_meta[] = {
    {"__gc", kb_gc},     {"__close", kb_gc}, {"__len", kb_len},
    {"__tostring", kb_tostring}, {NULL, NULL},
};

static const luaL_Reg module_funcs[] = {
    {"new", l_new},
    {"text", l_text},
    {"date", l_date},
    {NULL, NULL},
};

void lualore_add_methods(lua_State *L, const luaL_Reg *methods, const luaL_Reg *funcs)
{
    if (funcs)
        luaL_setfuncs(L, funcs, 0);
    if (methods) {
        luaL_getmetatable(L, LORE_KB_MT);
        lua_getfield(L, -1, "__index");
        luaL_setfuncs(L, methods, 0);
        lua_pop(L, 2);
    }
}

/* The C parts of the binding beyond this file, in order. */
static void lualore_open_parts(lua_State *L)
{
    lualore_open_query(L);
    lualore_open_rules(L);
    lualore_open_persist(L);
    lualore_open_formats(L);
    lualore_open_sandbox(L);
    lualore_open_search(L);
}

/* Makes metatable `name` with metamethods `meta` and `methods` as __index. */
static void new_class(lua_State *L, const char *name, const luaL_Reg *meta, const luaL_Reg *methods)
{
    luaL_newmetatable(L, name);
    luaL_setfuncs(L, meta, 0);
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}

/* Where the shipped knowledge lives (lore.home; $LORE_HOME overrides it in
 * lore.lua).  The build tree's module and program say the source tree; an
 * installed module first looks beside itself (the data directory relative
 * to the module's directory, so a moved or staged install still finds its
 * knowledge), then at the data directory it was installed for.  Both
 * strings come from a small generated file (see CMakeLists.txt). */
extern const char lualore_home[], lualore_home_rel[];

static void push_home(lua_State *L, int file)
{
    char real[PATH_MAX];
    if (file && lualore_home_rel[0]) {
        size_t n;
        const char *path = lua_tolstring(L, file, &n);
        while (n > 0 && path[n - 1] != '/')
            n--;
        lua_pushlstring(L, n ? path : "./", n ? n : 2); /* the module's directory */
        lua_pushstring(L, lualore_home_rel);
        lua_concat(L, 2);
        int found = realpath(lua_tostring(L, -1), real) != NULL;
        lua_pop(L, 1);
        if (found) {
            lua_pushfstring(L, "%s/knowledge", real);
            found = access(lua_tostring(L, -1), F_OK) == 0;
            lua_pop(L, 1);
        }
        if (found) {
            lua_pushstring(L, real);
            return;
        }
    }
    lua_pushstring(L, lualore_home);
}

/* The module's internals (fields named _x, for the parts and the tests)
 * move to the registry table "lore.internal" as x, so that a script
 * enumerating the module sees only its API; _VERSION stays. */
static void hide_internals(lua_State *L)
{
    int mod = lua_gettop(L);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, "lore.internal");
    lua_pushnil(L);
    while (lua_next(L, mod)) {
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
        if (k[0] == '_' && strcmp(k, "_VERSION") != 0) {
            lua_setfield(L, mod + 1, k + 1);
            lua_pushvalue(L, -1);
            lua_pushnil(L);
            lua_rawset(L, mod); /* clearing a field while traversing is allowed */
        } else {
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
}

int luaopen_lore(lua_State *L)
{
    new_class(L, LORE_KB_MT, kb_meta, kb_methods);
    luaL_getmetatable(L, LORE_KB_MT); /* the methods again, with the class as upvalue */
    lua_getfield(L, -1, "__index");
    lua_pushvalue(L, -2);
    luaL_setfuncs(L, kb_methods, 1);
    lua_pop(L, 2);
    new_class(L, LORE_ITER_MT, iter_meta, iter_methods);
    luaL_getmetatable(L, LORE_ITER_MT);
    lua_pushvalue(L, -1);
    lua_pushcclosure(L, iter_call, 1);
    lua_setfield(L, -2, "__call");
    lua_pop(L, 1);
    new_class(L, LORE_BATCH_MT, batch_meta, batch_methods);
    luaL_newmetatable(L, LORE_TEXT_MT);
    lua_pop(L, 1);
    luaL_newmetatable(L, LORE_DATE_MT);
    lua_pop(L, 1);

    int file = lua_type(L, 2) == LUA_TSTRING ? 2 : 0; /* require's file name */
    luaL_newlib(L, module_funcs);
    lua_pushliteral(L, LORE_VERSION);
    lua_setfield(L, -2, "version");
    lua_pushliteral(L, "lore " LORE_VERSION);
    lua_setfield(L, -2, "_VERSION");
    lua_pushinteger(L, LORE_MAX_NESTING); /* the readers' nesting limit (lore.h) */
    lua_setfield(L, -2, "max_nesting");
    push_home(L, file);
    lua_setfield(L, -2, "home");
    /* the C parts add their functions and kb methods */
    lualore_open_parts(L);
    /* The pure-Lua parts complete the module: each gets the module table,
     * the kb methods table and the Text, Date and iterator metatables. */
    for (size_t i = 0; i < sizeof lua_parts / sizeof lua_parts[0]; i++) {
        const struct lua_part *p = &lua_parts[i];
        lua_pushfstring(L, "=%s.lua", p->name);
        if (luaL_loadbufferx(L, (const char *)p->src, p->len, lua_tostring(L, -1), "t") != LUA_OK)
            return lua_error(L);
        lua_remove(L, -2);
        lua_pushvalue(L, -2);
        luaL_getmetatable(L, LORE_KB_MT);
        lua_getfield(L, -1, "__index");
        lua_remove(L, -2);
        luaL_getmetatable(L, LORE_TEXT_MT);
        luaL_getmetatable(L, LORE_DATE_MT);
        luaL_getmetatable(L, LORE_ITER_MT);
        lua_call(L, 5, 0);
    }
    hide_internals(L);
    return 1;
}
