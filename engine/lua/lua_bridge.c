/* lua_bridge.c - lore_lua.h: a C host's kb handed to Lua (borrowed
 * handles, released by the host), and sandboxed runs and knowledge files
 * from C, through the module's own Lua (sandbox.lua, formats.lua). */
#include <string.h>

#include "lore_lua.h"
#include "lualore.h"

static const char HANDLES_KEY = 'h'; /* registry: kb address -> its handles (weak) */

/* The weak table of kb's handles, pushed (made if need be). */
static void handles_of(lua_State *L, lore_kb *kb)
{
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &HANDLES_KEY) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &HANDLES_KEY);
    }
    if (lua_rawgetp(L, -1, kb) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_newtable(L);
        lua_pushliteral(L, "k");
        lua_setfield(L, -2, "__mode");
        lua_setmetatable(L, -2);
        lua_pushvalue(L, -1);
        lua_rawsetp(L, -3, kb);
    }
    lua_remove(L, -2);
}

/* The module's internal table's field `name`, pushed. */
static void internal(lua_State *L, const char *name)
{
    lua_getfield(L, LUA_REGISTRYINDEX, "lore.internal");
    lua_getfield(L, -1, name);
    lua_remove(L, -2);
}

void lore_lua_pushkb(lua_State *L, lore_kb *kb, unsigned flags)
{
    lkb *k = lua_newuserdatauv(L, sizeof *k, 3);
    memset(k, 0, sizeof *k);
    k->kb = kb;
    k->borrowed = 1;
    luaL_setmetatable(L, LORE_KB_MT);
    handles_of(L, kb);
    lua_pushvalue(L, -2);
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    if ((flags & (LORE_LUA_WRITE | LORE_LUA_FILES)) == (LORE_LUA_WRITE | LORE_LUA_FILES))
        return;
    internal(L, "handle"); /* sandbox.lua: the restricted handle over it */
    lua_insert(L, -2);
    lua_pushboolean(L, !(flags & LORE_LUA_WRITE));
    lua_pushboolean(L, (flags & LORE_LUA_FILES) != 0);
    lua_call(L, 3, 1);
}

lore_kb *lore_lua_tokb(lua_State *L, int idx)
{
    lkb *k = luaL_testudata(L, idx, LORE_KB_MT);
    return k ? k->kb : NULL;
}

void lore_lua_release(lua_State *L, lore_kb *kb)
{
    /* queries, iterators and batches Lua no longer holds are freed now,
     * while their kb lives (lore.h wants them freed before it) */
    lua_gc(L, LUA_GCCOLLECT);
    handles_of(L, kb);
    for (lua_pushnil(L); lua_next(L, -2); lua_pop(L, 1)) {
        lkb *k = luaL_testudata(L, -2, LORE_KB_MT);
        if (k && k->kb == kb)
            k->kb = NULL;
    }
    lua_pop(L, 1);
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &HANDLES_KEY) == LUA_TTABLE) {
        lua_pushnil(L);
        lua_rawsetp(L, -2, kb);
    }
    lua_pop(L, 1);
}

/* Keeps the message at the top of the stack alive (in the registry) until
 * the next bridge call, and gives it. */
static const char *keep(lua_State *L)
{
    const char *s = lua_tostring(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, "lore.bridge.msg");
    lua_getfield(L, LUA_REGISTRYINDEX, "lore.bridge.msg");
    s = lua_tostring(L, -1);
    lua_pop(L, 1);
    return s;
}

typedef struct runargs {
    lore_kb *kb;
    const char *code, *name;
    size_t len;
    const lore_lua_budget *b;
    lua_Number kib; /* the state's use when lore_lua_run began */
} runargs;

/* Protected: lore.sandbox{...}:run(handle, code, name) -> ok, msg */
static int do_run(lua_State *L)
{
    runargs *a = lua_touserdata(L, 1);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "lore");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "sandbox");
    lua_createtable(L, 0, 4);
    if (a->b) {
        if (a->b->instructions) {
            lua_pushinteger(L, (lua_Integer)a->b->instructions);
            lua_setfield(L, -2, "instructions");
        }
        if (a->b->deadline_ms) {
            lua_pushinteger(L, (lua_Integer)a->b->deadline_ms);
            lua_setfield(L, -2, "deadline");
        }
        if (a->b->memory) {
            lua_pushinteger(L, (lua_Integer)a->b->memory);
            lua_setfield(L, -2, "memory");
        }
        lua_pushboolean(L, (a->b->flags & LORE_LUA_FILES) != 0);
        lua_setfield(L, -2, "files");
        lua_pushboolean(L, !(a->b->flags & LORE_LUA_WRITE));
        lua_setfield(L, -2, "readonly");
    }
    lua_call(L, 1, 1); /* the sandbox */
    /* what the run's preparation takes counts against its memory cap
     * (sandbox.lua reads it) */
    lua_pushnumber(L, a->kib);
    lua_setfield(L, -2, "_kib_before");
    lua_getfield(L, -1, "run");
    lua_insert(L, -2);
    lore_lua_pushkb(L, a->kb, LORE_LUA_WRITE | LORE_LUA_FILES); /* the sandbox restricts it */
    lua_pushlstring(L, a->code, a->len);
    lua_pushstring(L, a->name ? a->name : "chunk");
    lua_call(L, 4, 2);
    return 2;
}

int lore_lua_run(lua_State *L, lore_kb *kb, const char *code, size_t len, const char *name,
                 const lore_lua_budget *budget, const char **msg)
{
    runargs a = {kb, code, name, len, budget,
                 lua_gc(L, LUA_GCCOUNT, 0) + lua_gc(L, LUA_GCCOUNTB, 0) / 1024.0};
    int top = lua_gettop(L), rc = LORE_OK;
    if (msg)
        *msg = "";
    lua_pushcfunction(L, do_run);
    lua_pushlightuserdata(L, &a);
    if (lua_pcall(L, 1, 2, 0) != LUA_OK) { /* misuse: a run going on, a transaction open */
        const char *m = keep(L);
        if (msg)
            *msg = m;
        rc = LORE_ERR_STATE;
    } else if (lua_isnil(L, -2)) {
        const char *m = keep(L);
        if (msg)
            *msg = m;
        rc = strstr(m, "budget exhausted") || strncmp(m, "deadline reached", 16) == 0 ||
                     strncmp(m, "memory cap reached", 18) == 0
                 ? LORE_ERR_LIMIT
                 : LORE_ERR_CALLBACK;
    }
    lore_lua_release(L, kb);
    lua_settop(L, top);
    return rc;
}

/* Protected: kb:load(path) -> n or nil, msg */
static int do_load(lua_State *L)
{
    lore_kb *kb = lua_touserdata(L, 1);
    const char *path = lua_tostring(L, 2);
    lore_lua_pushkb(L, kb, LORE_LUA_WRITE | LORE_LUA_FILES);
    lua_getfield(L, -1, "load");
    lua_insert(L, -2);
    lua_pushstring(L, path);
    lua_call(L, 2, 2);
    return 2;
}

int lore_lua_load(lua_State *L, lore_kb *kb, const char *path, const char **msg)
{
    int top = lua_gettop(L), rc = LORE_OK;
    if (msg)
        *msg = "";
    lua_pushcfunction(L, do_load);
    lua_pushlightuserdata(L, kb);
    lua_pushstring(L, path);
    if (lua_pcall(L, 2, 2, 0) != LUA_OK || lua_isnil(L, -2)) {
        const char *m = keep(L);
        if (msg)
            *msg = m;
        rc = strstr(m, "cannot open") || strstr(m, "No such file") ? LORE_ERR_IO : LORE_ERR_SYNTAX;
    }
    lore_lua_release(L, kb);
    lua_settop(L, top);
    return rc;
}
