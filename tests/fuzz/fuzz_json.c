/* fuzz_json.c - libFuzzer target for the JSON reader (engine/lua/lore.lua
 * through lua-cjson): a Lua state with the lore module reads the input as
 * a knowledge file.  Checked besides memory safety: it never raises (it
 * returns nil and `fuzz:LINE:COLUMN: ...` for a bad file), a failed load
 * adds nothing, and what loads writes out as JSON, reads back and writes
 * out again to the same bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lualore.h"

#include "../c/membuf.h"

static void check(int ok, const char *what, const char *detail)
{
    if (!ok) {
        fprintf(stderr, "fuzz_json: %s %s\n", what, detail ? detail : "");
        abort();
    }
}

/* The harness's one Lua state (a test program, not the core). */
static lua_State *state(void)
{
    static lua_State *L;
    if (!L) {
        L = luaL_newstate();
        check(L != NULL, "no Lua state", NULL);
        luaL_openlibs(L);
        luaL_requiref(L, "lore", luaopen_lore, 1);
        lua_pop(L, 1);
    }
    return L;
}

/* Pushes a new kb; loads text into it with the module's internal
 * load_json_text (registry table "lore.internal"); returns
 * the number of results left above the kb (1: n, 2: nil and message). */
static int load(lua_State *L, const char *text, size_t len, const char *name)
{
    lua_getglobal(L, "lore");
    lua_getfield(L, -1, "new");
    lua_call(L, 0, 1);
    lua_replace(L, -2);
    int kb = lua_gettop(L);
    lua_getfield(L, LUA_REGISTRYINDEX, "lore.internal");
    lua_getfield(L, -1, "load_json_text");
    lua_remove(L, -2);
    lua_pushvalue(L, kb);
    lua_pushlstring(L, text, len);
    lua_pushstring(L, name);
    int st = lua_pcall(L, 3, 2, 0);
    check(st == LUA_OK, "the JSON reader raised:", lua_tostring(L, -1));
    return 2;
}

static membuf dump(lore_kb *kb)
{
    membuf b = {NULL, 0, 0};
    check(lore_export_to(kb, LORE_FORMAT_JSON, mem_write, &b, NULL) == LORE_OK, "export",
          lore_errmsg(kb));
    return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lua_State *L = state();
    int top = lua_gettop(L);
    load(L, (const char *)data, size, "fuzz");
    lore_kb *kb = lualore_checkkb(L, top + 1)->kb;
    if (lua_isnil(L, -2)) {
        const char *msg = lua_tostring(L, -1);
        check(msg && strncmp(msg, "fuzz:", 5) == 0, "message does not name the input:", msg);
        check(lore_size(kb) == 0 && lore_term_count(kb) == 0, "failed load added", msg);
    } else {
        membuf one = dump(kb);
        load(L, one.p, one.n, "again");
        lore_kb *kb2 = lualore_checkkb(L, top + 4)->kb;
        check(!lua_isnil(L, -2), "lore's own JSON does not read back:", lua_tostring(L, -1));
        membuf two = dump(kb2);
        check(one.n == two.n && memcmp(one.p, two.p, one.n) == 0, "written twice, different", NULL);
        free(one.p), free(two.p);
    }
    lua_settop(L, top);
    lua_gc(L, LUA_GCCOLLECT);
    return 0;
}
