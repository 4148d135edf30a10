/* complete.h - Tab completion at the REPL, through libedit. */
#ifndef LORE_COMPLETE_H
#define LORE_COMPLETE_H

#include <lua.h>

/* Makes Tab complete, in the state L: Lua names (globals, fields after
 * `.`, methods after `:`), the global kb's symbols inside strings, and
 * the query language's words and the variables already named inside a
 * query's text; help's topics in the string of help("...").  Inside the string
 * of a call that takes a file name (load, dofile, ...), and in any other
 * string where no symbol fits, file names complete as before. */
void complete_init(lua_State *L);

#endif
