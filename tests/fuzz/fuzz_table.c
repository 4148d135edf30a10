/* fuzz_table.c - libFuzzer target for the table form of queries and rules
 * (engine/lua/lua_query.c, lua_rules.c): the input is read as a small
 * notation for nested Lua tables, built without recursion however deep,
 * and given to kb:query and to kb:rule{when = ..., add = ...} through the
 * binding.  The notation, one byte at a time:
 *
 *   {        opens a table (the value of a pending key, else the next element)
 *   }        closes it (unclosed tables close at the end)
 *   O W U F L V G R D   a pending key: optional, without, union, filter,
 *            let, vars, group, order, distinct, for the next value
 *   "..."    a string of the bytes between the quotes (NUL and bad UTF-8 too)
 *   ?x       a variable (? and the letters or digits after it)
 *   0-9      an integer (digits in a row)
 *   . ~      the floats 0.5 and -1e300
 *   other    a one-byte string ("p", "=", "i" for "in" is not special)
 *
 * Checked besides memory safety, the Lua stack and the C stack (within a
 * CPU budget): neither
 * call raises anything but an error message (a string), and neither
 * changes the facts; a rule that is accepted is removed again. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lualore.h"

#include "budget.h"

static void check(int ok, const char *what, const char *detail)
{
    if (!ok) {
        fprintf(stderr, "fuzz_table: %s %s\n", what, detail ? detail : "");
        abort();
    }
}

static const char SETUP[] =
    "local lore = require 'lore'\n"
    "local kb = lore.new()\n"
    "for i, n in ipairs {'a', 'b', 'c', 'd'} do\n"
    "  kb:add(n, 'p', ({'b', 'c', 'd', 'a'})[i]); kb:add(n, 'q', i)\n"
    "end\n"
    "kb:add('a', 'q', lore.text('ceci', 'fr')); kb:add('b', 'q', lore.date('2024-07-11'))\n"
    "local function run(spec)\n"
    "  local n = #kb\n"
    "  local ok, r = pcall(kb.query, kb, spec)\n"
    "  if ok then ok, r = pcall(function() return r:first() end) end\n"
    "  if not ok then assert(type(r) == 'string', 'query: a non-string error') end\n"
    "  ok, r = pcall(kb.rule, kb, {when = spec, add = {'?x', 'derived', '?y'}})\n"
    "  if ok then assert(kb:remove_rule(r), 'the rule cannot be removed')\n"
    "  else assert(type(r) == 'string', 'rule: a non-string error') end\n"
    "  assert(#kb == n, 'the facts changed')\n"
    "end\n"
    "return run, kb\n";

/* The harness's one Lua state; the runner function is left at index 1,
 * the knowledge base at 2. */
static lua_State *state(void)
{
    static lua_State *L;
    if (!L) {
        L = luaL_newstate();
        check(L != NULL, "no Lua state", NULL);
        luaL_openlibs(L);
        luaL_requiref(L, "lore", luaopen_lore, 1);
        lua_pop(L, 1);
        check(luaL_loadstring(L, SETUP) == LUA_OK && lua_pcall(L, 0, 2, 0) == LUA_OK,
              "setup:", lua_tostring(L, -1));
    }
    return L;
}

static const char *key_of(int c)
{
    switch (c) {
    case 'O':
        return "optional";
    case 'W':
        return "without";
    case 'U':
        return "union";
    case 'F':
        return "filter";
    case 'L':
        return "let";
    case 'V':
        return "vars";
    case 'G':
        return "group";
    case 'R':
        return "order";
    case 'D':
        return "distinct";
    default:
        return NULL;
    }
}

/* Stores the value on top into the table below it: under its pending key
 * (kept at keys[depth]) or as the next element. */
static void store(lua_State *L, const char **keys, int depth)
{
    if (keys[depth]) {
        lua_setfield(L, -2, keys[depth]);
        keys[depth] = NULL;
    } else {
        lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lua_State *L = state();
    int top = lua_gettop(L);
    /* one pending key per open table: at most one table per byte */
    const char **keys = calloc(size + 2, sizeof *keys);
    check(keys != NULL, "no memory", NULL);
    check(lua_checkstack(L, (int)size + 8), "no Lua stack", NULL);
    lua_pushvalue(L, 1); /* the runner */
    lua_newtable(L);     /* the spec */
    int depth = 0;
    for (size_t i = 0; i < size;) {
        int c = data[i];
        const char *key = key_of(c);
        if (key) {
            keys[depth] = key, i++;
        } else if (c == '{') {
            lua_newtable(L);
            keys[++depth] = NULL, i++;
        } else if (c == '}') {
            i++;
            if (depth > 0)
                store(L, keys, --depth);
        } else if (c == '"') {
            size_t j = i + 1;
            while (j < size && data[j] != '"')
                j++;
            lua_pushlstring(L, (const char *)data + i + 1, j - i - 1);
            store(L, keys, depth);
            i = j < size ? j + 1 : j;
        } else if (c == '?') {
            size_t j = i + 1;
            while (j < size &&
                   ((data[j] >= 'a' && data[j] <= 'z') || (data[j] >= '0' && data[j] <= '9')))
                j++;
            lua_pushlstring(L, (const char *)data + i, j - i);
            store(L, keys, depth);
            i = j;
        } else if (c >= '0' && c <= '9') {
            lua_Integer n = 0;
            while (i < size && data[i] >= '0' && data[i] <= '9' && n < 100000000)
                n = n * 10 + (data[i++] - '0');
            lua_pushinteger(L, n);
            store(L, keys, depth);
        } else if (c == '.' || c == '~') {
            lua_pushnumber(L, c == '.' ? 0.5 : -1e300);
            store(L, keys, depth);
            i++;
        } else {
            lua_pushlstring(L, (const char *)data + i, 1);
            store(L, keys, depth);
            i++;
        }
    }
    while (depth > 0)
        store(L, keys, --depth);
    free(keys);
    budget_start(lualore_checkkb(L, 2)->kb);
    int st = lua_pcall(L, 1, 0, 0);
    budget_stop();
    check(st == LUA_OK, "the binding misbehaved:", lua_tostring(L, -1));
    lua_settop(L, top);
    lua_gc(L, LUA_GCCOLLECT);
    return 0;
}
