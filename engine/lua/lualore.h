/* lualore.h - the Lua binding's entry point and the helpers its parts
 * share: converting between Lua values and lore terms. */
#ifndef LUALORE_H
#define LUALORE_H

#include <signal.h>

#include <lauxlib.h>
#include <lua.h>

#include "lore.h"

#define LORE_KB_MT "lore.kb"
#define LORE_ITER_MT "lore.iter"
#define LORE_TEXT_MT "lore.Text"
#define LORE_DATE_MT "lore.Date"

/* Opens the module: leaves its table on the stack. */
int luaopen_lore(lua_State *L);

/* The kb userdata.  Its user values are the binding's caches, dropped
 * whenever lore_term_epoch changes:
 *  1. an anchor table: slot h + 1 -> the Lua string cached in slot h, which
 *     keeps it alive, so its address cannot be reused while cached;
 *  2. a value table: id -> the Lua string of symbol id (ids up to
 *     LUALORE_VMAX), so pushing a symbol makes no new string;
 *  3. a userdata holding the slots: a set-associative cache from a Lua
 *     string's address (read without touching the string) to its id.
 * A slot is 8 bytes, the address compressed to 32 bits (its distance from
 * `base` in 8-byte steps, plus 1) beside the id, and a set of
 * LUALORE_WAYS slots is one cache line: a lookup costs one memory read,
 * and the whole cache stays small enough to stay in the processor's
 * caches.  A string too far from `base` is simply not cached. */
enum {
    LUALORE_WAYS = 8,
    LUALORE_SLOTS_MIN = 1 << 10,
    LUALORE_SLOTS_MAX = 1 << 20,
    LUALORE_VMAX = 1 << 20
};
typedef struct lkb {
    lore_kb *kb;
    uint64_t epoch;
    uint64_t *slots; /* in user value 3 (aligned inside it), NULL until first needed */
    size_t nslots;   /* a power of two, about twice the kb's terms */
    uintptr_t base;  /* addresses are cached relative to it, once `based` */
    int based;
    unsigned victim; /* turns through the ways of a full set */
    int borrowed;    /* the host owns kb (lore_lua_pushkb): never freed here */
} lkb;

/* The kb userdata at index i (raises unless it is an open kb). */
lkb *lualore_checkkb(lua_State *L, int i);
/* Pushes a new, empty kb userdata (raises on out of memory). */
lkb *lualore_newkb(lua_State *L);

/* Converts the Lua value at index i to a lore value.  Returns 1, or 0 if
 * the value has no term form (then *what names its Lua type).  Strings
 * point into the Lua value, valid while it is on the stack. */
int lualore_tovalue(lua_State *L, int i, lore_value *v, const char **what);

/* Pushes term id as a Lua value. */
void lualore_pushterm(lua_State *L, lore_kb *kb, lore_id id);

/* Pushes a value (a term or a computed value) as a Lua value. */
void lualore_pushvalue(lua_State *L, const lore_value *v);

/* Resolves the value at index i to an id through the kb's caches (the kb
 * userdata at index kbi).  Symbols that look like variables are refused
 * for interning.  Returns a lore status (LORE_ERR_NOTFOUND when looking
 * up an unknown term); *what gets the Lua type when the value has no term
 * form (then LORE_ERR_ARG). */
int lualore_toid(lua_State *L, int kbi, int i, int intern, lore_id *id, const char **what);

/* Pushes term id through the kb's value cache (the kb userdata at kbi). */
void lualore_pushid(lua_State *L, int kbi, lore_id id);

/* For the binding's parts: adds `funcs` to the module table on top of the
 * stack and `kb_methods` to the kb class (either may be NULL).  Each part
 * file has an opener, `void lualore_open_NAME(lua_State *L)`, called from
 * lualore_open_parts in lualore.c. */
void lualore_add_methods(lua_State *L, const luaL_Reg *kb_methods, const luaL_Reg *funcs);

/* The binding's parts (lualore_open_parts in lualore.c calls them). */
void lualore_open_query(lua_State *L);
void lualore_open_persist(lua_State *L); /* snapshots, durability, transactions */
void lualore_open_formats(lua_State *L); /* files and formats: RDF, export, prefixes */
void lualore_open_rules(lua_State *L);
void lualore_open_sandbox(lua_State *L); /* lore.sandbox's runner */
void lualore_open_search(lua_State *L);  /* kb:search's folding and stemming */

/* The allocator a new kb gets: the state's own, also while a sandboxed run
 * counts the state's allocations through its own (lua_sandbox.c). */
lua_Alloc lualore_base_alloc(lua_State *L, void **ud);
/* A lore call of a sandboxed run failed with rc and msg: when that was one
 * of the run's budgets (the kb's memory cap, the deadline or step budget
 * in lore's C loops), the run stops there, whatever the script catches. */
void lualore_budget_hit(lua_State *L, int rc, const char *msg);

/* How a query built from a Lua table takes its Lua functions: the rules
 * part keeps them its own way (they run during kb:infer, not during a
 * query's steps).  Each hook leaves the stack as it found it and gives
 * the C callback and its argument for the function at stack index idx. */
typedef struct lualore_fnhook {
    void (*filter)(lua_State *L, int idx, void *hud, lore_filter_fn *fn, void **ud);
    void (*let)(lua_State *L, int idx, void *hud, lore_value_fn *fn, void **ud);
    void *ud;
} lualore_fnhook;

/* Builds a query of the kb at index 1 from the query spec (kb:query's
 * table form) at index `spec`; misuse raises naming argument `arg`.  The
 * caller owns the query.  Lua functions in it go through `hook`. */
lore_query *lualore_query_build(lua_State *L, int spec, int arg, const lualore_fnhook *hook);

/* Pushes a table of the current row of q: each named, bound variable to
 * its term (what a filter function gets). */
void lualore_push_bindings(lua_State *L, lore_kb *kb, const lore_query *q);

/* The interrupt flag of this Lua state: every kb made by lore.new watches
 * it (lore_kb_watch), so a host's SIGINT handler sets it to stop a long
 * query, and clears it before the next command. */
volatile sig_atomic_t *lualore_interrupt_flag(lua_State *L);

/* Pushes kb's message as Lua shows it (without the C function's name the
 * core puts first) and returns it. */
const char *lualore_errmsg(lua_State *L, lore_kb *kb);

/* Raises a Lua error with kb's message for a failed status. */
int lualore_fail(lua_State *L, lore_kb *kb, int rc);

/* Raises unless the options table at `arg` is a table whose every key is
 * one of `names` (NULL-terminated); `expected` lists them for the message:
 * "unknown option 'x' (expected <expected>)". */
void lualore_checkoptions(lua_State *L, int arg, const char *const names[], const char *expected);

#endif
