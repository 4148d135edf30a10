/* lore_lua.h - the bridge between a C host's knowledge base and Lua.
 *
 * A rules host owns its lore_kb (lore.h) and its Lua state, and wants the
 * people it serves to write facts, rules and queries in Lua: this header
 * opens the lore module in the host's state, hands the host's kb to Lua as
 * a borrowed handle, and runs a user's chunk or knowledge file against it,
 * sandboxed (lore.sandbox, doc/embedding.md) with three budgets.
 *
 * Ownership: a handle pushed by lore_lua_pushkb borrows the kb; Lua never
 * frees it.  Before freeing the kb, the host calls lore_lua_release: every
 * handle on it pushed into that state then raises "knowledge base is
 * closed" when used, and nothing else happens.  Release first collects
 * Lua's garbage, so queries, iterators and batches made through the
 * handles are freed while the kb lives; one the host's Lua code still
 * holds must be dropped before (as lore.h asks of C: freed before the kb).
 * lore_lua_run and lore_lua_load release their handles themselves.  Strings returned through
 * `msg` belong to the Lua state and stay valid until its next bridge call.
 *
 * Errors: status codes of lore.h.  No function here raises a Lua error
 * into the host (each runs protected), except lore_lua_pushkb and
 * lore_lua_release, which raise only when Lua runs out of memory, as any
 * Lua API call may.  Link with the lore binding and Lua 5.4. */
#ifndef LORE_LUA_H
#define LORE_LUA_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "lore.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a pushed handle allows, beyond reading. */
enum {
    LORE_LUA_WRITE = 1, /* changes: add, remove, rules, inference, ... */
    LORE_LUA_FILES = 2  /* files: load, export, save */
};

/* Opens the lore module (as require "lore" does) and leaves it on the
 * stack.  Call it through luaL_requiref(L, "lore", luaopen_lore, 1). */
LORE_API int luaopen_lore(lua_State *L);

/* Pushes a handle on kb, which the host keeps owning.  flags
 * LORE_LUA_WRITE | LORE_LUA_FILES give the full handle (the methods of
 * lore.new()'s); fewer give a restricted one whose refused methods raise
 * ("kb:add: this knowledge base is read-only", "kb:load: file access is
 * not allowed here") and whose metatable is protected.  The lore module
 * must have been opened in L. */
LORE_API void lore_lua_pushkb(lua_State *L, lore_kb *kb, unsigned flags);

/* The kb behind the full handle at index idx, or NULL (not a handle, a
 * restricted one, or released). */
LORE_API lore_kb *lore_lua_tokb(lua_State *L, int idx);

/* Invalidates every handle on kb pushed into L (see Ownership). */
LORE_API void lore_lua_release(lua_State *L, lore_kb *kb);

/* The budgets of one sandboxed run (0: no limit). */
typedef struct lore_lua_budget {
    uint64_t instructions; /* Lua VM instructions, exactly, plus a step per 64
                            * bytes of each block of 4 KiB or more the state
                            * allocates; as many steps in lore's C loops */
    uint64_t deadline_ms;  /* wall-clock, checked in lore's C loops too */
    size_t memory;         /* bytes the Lua state and kb may grow by, together,
                            * from the call on (the sandbox's preparation too) */
    unsigned flags;        /* LORE_LUA_WRITE, LORE_LUA_FILES for the run's `kb` */
} lore_lua_budget;

/* Runs Lua source `code` (len bytes, named `name` in messages) in a fresh
 * sandbox (lore.sandbox) with global `kb` a handle on kb.  Returns LORE_OK;
 * LORE_ERR_LIMIT when a budget stopped it (*msg: "instruction budget
 * exhausted (N)", "deadline reached (N ms)", "memory cap reached (N
 * MiB)"); LORE_ERR_CALLBACK when the code raised or did not compile (*msg:
 * its message); LORE_ERR_STATE (a transaction open on kb, or a run going on
 * in L).  On any failure kb is exactly as before: the run was a
 * transaction, rolled back, and the rules it added are removed.  msg may
 * be NULL. */
LORE_API int lore_lua_run(lua_State *L, lore_kb *kb, const char *code, size_t len,
                          const char *name, const lore_lua_budget *budget, const char **msg);

/* Loads a knowledge file into kb as `lore -k` does (.json with its rules,
 * .rules, .nt .nq .ttl .trig): all or nothing.  LORE_OK, or an error
 * status with *msg "FILE:LINE:COL: what was expected". */
LORE_API int lore_lua_load(lua_State *L, lore_kb *kb, const char *path, const char **msg);

#ifdef __cplusplus
}
#endif

#endif
