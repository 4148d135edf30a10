/* lua_search.c - the word handling of kb:search (search.lua): folding case
 * and accents with utf8proc (NFKC, case folded, marks stripped: "Corée"
 * and "COREE" are both "coree") and stemming with Snowball's stemmers
 * (French and English: "engagements" and "engagement" both "engag"). */
#include <stdlib.h>
#include <string.h>

#include <libstemmer.h>
#include <utf8proc.h>

#include "lualore.h"

/* lore._fold(s) -> s folded (invalid UTF-8: s as it is) */
static int l_fold(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    utf8proc_uint8_t *out = NULL;
    utf8proc_ssize_t len =
        utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &out,
                     UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
                         UTF8PROC_STRIPMARK);
    if (len < 0) {
        lua_pushvalue(L, 1);
        return 1;
    }
    lua_pushlstring(L, (const char *)out, (size_t)len);
    free(out);
    return 1;
}

/* The stemmers of this Lua state, made once: French and English. */
typedef struct stemmers {
    struct sb_stemmer *fr, *en;
} stemmers;

static int stemmers_gc(lua_State *L)
{
    stemmers *s = lua_touserdata(L, 1);
    if (s->fr)
        sb_stemmer_delete(s->fr);
    if (s->en)
        sb_stemmer_delete(s->en);
    s->fr = s->en = NULL;
    return 0;
}

/* lore._stem(word, lang) -> the word's stem in lang ("fr" or "en") */
static int l_stem(lua_State *L)
{
    size_t n;
    const char *w = luaL_checklstring(L, 1, &n);
    const char *lang = luaL_checkstring(L, 2);
    stemmers *s = lua_touserdata(L, lua_upvalueindex(1));
    struct sb_stemmer *st = strcmp(lang, "fr") == 0 ? s->fr : s->en;
    const sb_symbol *r = st ? sb_stemmer_stem(st, (const sb_symbol *)w, (int)n) : NULL;
    if (!r) { /* no stemmer or no memory: the word itself */
        lua_pushvalue(L, 1);
        return 1;
    }
    lua_pushlstring(L, (const char *)r, (size_t)sb_stemmer_length(st));
    return 1;
}

void lualore_open_search(lua_State *L)
{
    lua_pushcfunction(L, l_fold);
    lua_setfield(L, -2, "_fold");
    stemmers *s = lua_newuserdatauv(L, sizeof *s, 0);
    s->fr = sb_stemmer_new("french", "UTF_8");
    s->en = sb_stemmer_new("english", "UTF_8");
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, stemmers_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_pushcclosure(L, l_stem, 1);
    lua_setfield(L, -2, "_stem");
}
