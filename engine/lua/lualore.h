/* lualore.h - the Lua binding's entry point and the helpers its parts
 * share: converting between Lua values and lore terms. */
#ifndef LUALORE_H
#define LUALORE_H

#include <lauxlib.h>
#include <lua.h>

#include "lore.h"

#define LORE_KB_MT "lore.kb"
#define LORE_ITER_MT "lore.iter"
#define LORE_TEXT_MT "lore.Text"
#define LORE_DATE_MT "lore.Date"

/* Opens the module: leaves its table on the stack. */
int luaopen_lore(lua_State *L);

/* The kb userdata at index i (raises unless it is an open kb). */
typedef struct lkb {
    lore_kb *kb;
} lkb;
lkb *lualore_checkkb(lua_State *L, int i);
/* Pushes a new, empty kb userdata (raises on out of memory). */
lkb *lualore_newkb(lua_State *L);

/* Converts the Lua value at index i to a lore value.  Returns 1, or 0 if
 * the value has no term form (then *what names its Lua type).  Strings
 * point into the Lua value, valid while it is on the stack. */
int lualore_tovalue(lua_State *L, int i, lore_value *v, const char **what);

/* Pushes term id as a Lua value. */
void lualore_pushterm(lua_State *L, lore_kb *kb, lore_id id);

/* For the binding's parts: adds `funcs` to the module table on top of the
 * stack and `kb_methods` to the kb class (either may be NULL).  Each part
 * file has an opener, `void lualore_open_NAME(lua_State *L)`, called from
 * lualore_open_parts in lualore.c. */
void lualore_add_methods(lua_State *L, const luaL_Reg *kb_methods, const luaL_Reg *funcs);

/* Raises a Lua error with kb's message for a failed status. */
int lualore_fail(lua_State *L, lore_kb *kb, int rc);

/* The parts' openers (see lualore_add_methods). */
void lualore_open_persist(lua_State *L); /* lua_persist.c: snapshots, durability, transactions */

#endif
