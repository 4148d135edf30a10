/* lua_persist.c - the binding of snapshots, durable mode and transactions:
 * lore.open, kb:save, kb:checkpoint, kb:sync, kb:transaction, and the
 * reader behind kb:load of .lore files.  Uses only lore.h.
 *
 * Expected failures (a file that cannot be read or written, a damaged
 * file, a knowledge base locked by another process) return nil and a
 * message; misuse (bad arguments, a save inside a transaction) raises. */
#include <string.h>

#include "lualore.h"

/* kb's message as a Lua user reads it: a leading C function name
 * ("lore_save: ...") becomes the method's ("save: ..."). */
static const char *lua_message(lua_State *L, lore_kb *kb)
{
    const char *msg = lore_errmsg(kb);
    size_t n = strspn(msg, "abcdefghijklmnopqrstuvwxyz_");
    if (strncmp(msg, "lore_", 5) != 0 || msg[n] != ':')
        return lua_pushstring(L, msg);
    if (n == strlen("lore_load_snapshot") && strncmp(msg, "lore_load_snapshot", n) == 0)
        return lua_pushfstring(L, "load%s", msg + n);
    return lua_pushstring(L, msg + 5);
}

static int nil_message(lua_State *L, lore_kb *kb)
{
    lua_pushnil(L);
    lua_message(L, kb);
    return 2;
}

/* raises kb's message (misuse) as lualore_fail does, in the Lua names */
static int fail(lua_State *L, lore_kb *kb, int rc)
{
    if (!lore_errmsg(kb)[0])
        return lualore_fail(L, kb, rc);
    luaL_where(L, 1);
    lua_message(L, kb);
    lua_concat(L, 2);
    return lua_error(L);
}

/* Options of lore.open: journal = bool, sync = "change" | "commit" |
 * "none" | milliseconds. */
static void check_options(lua_State *L, int i, lore_open_options *o)
{
    memset(o, 0, sizeof *o);
    if (lua_isnoneornil(L, i))
        return;
    static const char *const names[] = {"journal", "sync", NULL};
    lualore_checkoptions(L, i, names, "journal, sync");
    lua_getfield(L, i, "journal");
    o->journal = lua_toboolean(L, -1);
    lua_pop(L, 1);
    int t = lua_getfield(L, i, "sync");
    if (t != LUA_TNIL && !o->journal)
        luaL_argerror(L, i, "sync: only with journal = true");
    if (t == LUA_TSTRING) {
        const char *s = lua_tostring(L, -1);
        if (strcmp(s, "change") == 0)
            o->sync = LORE_SYNC_CHANGE;
        else if (strcmp(s, "commit") == 0)
            o->sync = LORE_SYNC_COMMIT;
        else if (strcmp(s, "none") == 0)
            o->sync = LORE_SYNC_NONE;
        else
            t = LUA_TBOOLEAN; /* reported below */
    } else if (t == LUA_TNUMBER) {
        lua_Integer ms = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : 0;
        if (ms < 1 || ms > 3600000)
            t = LUA_TBOOLEAN;
        o->sync = LORE_SYNC_INTERVAL;
        o->sync_ms = (unsigned)ms;
    }
    if (t != LUA_TNIL && t != LUA_TSTRING && t != LUA_TNUMBER)
        luaL_argerror(L, i,
                      "sync: expected 'change', 'commit', 'none' or milliseconds (1 to 3600000)");
    lua_pop(L, 1);
}

/* lore.open(path [, {journal = true, sync = ...}]) -> kb [, warning], or
 * nil, message */
static int l_open(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    lore_open_options o;
    check_options(L, 2, &o);
    lkb *k = lualore_newkb(L);
    int rc = lore_open(k->kb, path, &o);
    if (rc == LORE_WARN) {
        lualore_errmsg(L, k->kb);
        return 2;
    }
    if (rc == LORE_ERR_IO || rc == LORE_ERR_CORRUPT || rc == LORE_ERR_STATE)
        return nil_message(L, k->kb); /* the userdata frees the kb */
    if (rc < 0)
        return fail(L, k->kb, rc);
    return 1;
}

/* true, or nil and a message for a failure of the file system or file. */
static int result(lua_State *L, lore_kb *kb, int rc)
{
    if (rc == LORE_ERR_IO || rc == LORE_ERR_CORRUPT)
        return nil_message(L, kb);
    if (rc < 0)
        return fail(L, kb, rc);
    lua_pushboolean(L, 1);
    return 1;
}

/* kb:save(path) -> true, or nil and a message */
static int kb_save(lua_State *L)
{
    lore_kb *kb = lualore_checkkb(L, 1)->kb;
    const char *path = luaL_checkstring(L, 2);
    return result(L, kb, lore_save(kb, path));
}

/* kb:checkpoint() -> true, or nil and a message */
static int kb_checkpoint(lua_State *L)
{
    lore_kb *kb = lualore_checkkb(L, 1)->kb;
    return result(L, kb, lore_checkpoint(kb));
}

/* kb:sync() -> true, or nil and a message */
static int kb_sync(lua_State *L)
{
    lore_kb *kb = lualore_checkkb(L, 1)->kb;
    return result(L, kb, lore_sync(kb));
}

/* kb:transaction(fn, ...) -> what fn(kb, ...) returns.  All of fn's
 * changes are applied, or, if fn raises, none: the error is raised again
 * as it was. */
static int kb_transaction(lua_State *L)
{
    lkb *k = lualore_checkkb(L, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    int rc = lore_begin(k->kb);
    if (rc == LORE_ERR_STATE && lore_in_transaction(k->kb))
        return luaL_error(L, "transaction: a transaction is already open (they do not nest)");
    if (rc < 0)
        return fail(L, k->kb, rc);
    int n = lua_gettop(L);
    luaL_checkstack(L, n, "transaction arguments"); /* fn, kb and each argument again */
    lua_pushvalue(L, 2);
    lua_pushvalue(L, 1);
    for (int i = 3; i <= n; i++)
        lua_pushvalue(L, i);
    int st = lua_pcall(L, n - 1, LUA_MULTRET, 0);
    if (!k->kb) /* closed inside fn: nothing is left to commit */
        return st == LUA_OK ? luaL_error(L, "transaction: the knowledge base was closed")
                            : lua_error(L);
    if (st != LUA_OK) {
        lore_rollback(k->kb);
        return lua_error(L); /* the same error value */
    }
    rc = lore_commit(k->kb);
    if (rc < 0) {
        lualore_errmsg(L, k->kb);
        lore_rollback(k->kb);
        return lua_error(L);
    }
    return lua_gettop(L) - n;
}

/* lore._load_snapshot(kb, path) -> facts added, or nil and a message (the
 * .lore loader of kb:load) */
static int l_load_snapshot(lua_State *L)
{
    lore_kb *kb = lualore_checkkb(L, 1)->kb;
    const char *path = luaL_checkstring(L, 2);
    size_t added;
    int rc = lore_load_snapshot(kb, path, &added);
    if (rc == LORE_ERR_IO || rc == LORE_ERR_CORRUPT)
        return nil_message(L, kb);
    if (rc < 0)
        return fail(L, kb, rc);
    lua_pushinteger(L, (lua_Integer)added);
    return 1;
}

static const luaL_Reg methods[] = {
    {"save", kb_save}, {"checkpoint", kb_checkpoint},
    {"sync", kb_sync}, {"transaction", kb_transaction},
    {NULL, NULL},
};

static const luaL_Reg funcs[] = {
    {"open", l_open},
    {"_load_snapshot", l_load_snapshot},
    {NULL, NULL},
};

void lualore_open_persist(lua_State *L)
{
    lualore_add_methods(L, methods, funcs);
}
