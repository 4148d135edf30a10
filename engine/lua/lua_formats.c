/* lua_formats.c - the Lua face of files and formats: the RDF half of
 * kb:load, kb:export, and the prefix table (kb:prefix, kb:prefixes,
 * kb:compact).  Uses only lore.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lualore.h"

/* lore._regular(path) -> true, or nil and "path: why" when path is not a
 * regular file that exists: kb:load refuses a directory, a device or a
 * FIFO up front (reading one would fail obscurely, never end, or block). */
static int l_regular(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    struct stat st;
    const char *why = NULL;
    if (stat(path, &st) != 0)
        why = strerror(errno);
    else if (S_ISDIR(st.st_mode))
        why = "is a directory";
    else if (!S_ISREG(st.st_mode))
        why = "not a regular file (a device, a FIFO or a socket)";
    if (!why) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", path, why);
    return 2;
}

/* A Lua progress function called from inside lore_import: it runs under
 * lua_pcall, so an error in it (or an interrupt) stops the load cleanly
 * and is raised again once the core has let go. */
typedef struct lprogress {
    lua_State *L;
    int fn;     /* stack index of the function */
    int failed; /* the error object is on top of the stack */
} lprogress;

static int on_progress(void *ud, uint64_t bytes, uint64_t total, uint64_t facts)
{
    lprogress *p = ud;
    lua_State *L = p->L;
    if (p->failed)
        return 1;
    lua_pushvalue(L, p->fn);
    lua_pushinteger(L, (lua_Integer)bytes);
    lua_pushinteger(L, (lua_Integer)total);
    lua_pushinteger(L, (lua_Integer)facts);
    if (lua_pcall(L, 3, 1, 0) != LUA_OK) {
        p->failed = 1;
        return 1;
    }
    int stop = lua_isboolean(L, -1) && !lua_toboolean(L, -1);
    lua_pop(L, 1);
    return stop;
}

/* nil and the message for an expected failure (a bad file); raises for
 * misuse and out of memory. */
static int load_failed(lua_State *L, lore_kb *kb, int rc)
{
    if (rc == LORE_ERR_NOMEM || rc == LORE_ERR_STATE)
        return lualore_fail(L, kb, rc);
    lua_pushnil(L);
    lualore_errmsg(L, kb);
    return 2;
}

/* kb:_import(path, format, opts) -> facts read, facts added | nil, msg
 * (kb:load calls it for .nt .nq .ttl .trig; opts: source, base, progress) */
static int kb_import(lua_State *L)
{
    lore_kb *kb = lualore_checkkb(L, 1)->kb;
    const char *path = luaL_checkstring(L, 2);
    const char *fmt = luaL_checkstring(L, 3);
    lore_load_opts o;
    memset(&o, 0, sizeof o);
    o.format = lore_format_of(fmt);
    lore_value src;
    lprogress p = {L, 0, 0};
    if (!lua_isnoneornil(L, 4)) {
        luaL_checktype(L, 4, LUA_TTABLE);
        lua_getfield(L, 4, "source"); /* stays on the stack while used */
        if (!lua_isnil(L, -1)) {
            const char *what;
            if (!lualore_tovalue(L, -1, &src, &what))
                return luaL_argerror(L, 4,
                                     lua_pushfstring(L, "source: a term expected, got %s", what));
            o.source = &src;
        }
        if (lua_getfield(L, 4, "base") != LUA_TNIL) {
            if (lua_type(L, -1) != LUA_TSTRING)
                return luaL_argerror(L, 4, "base: an IRI string expected");
            o.base = lua_tostring(L, -1);
        }
        if (lua_getfield(L, 4, "progress") != LUA_TNIL) {
            if (lua_type(L, -1) != LUA_TFUNCTION)
                return luaL_argerror(L, 4, "progress: a function expected");
            p.fn = lua_gettop(L);
            o.progress = on_progress;
            o.progress_ud = &p;
        }
    }
    lore_load_info info;
    int rc = lore_import(kb, path, &o, &info);
    if (p.failed)
        return lua_error(L); /* the progress function's error, on top */
    if (rc < 0)
        return load_failed(L, kb, rc);
    lua_pushinteger(L, (lua_Integer)info.facts);
    lua_pushinteger(L, (lua_Integer)info.added);
    return 2;
}

static size_t to_stdout(void *ud, const void *buf, size_t len)
{
    (void)ud;
    return fwrite(buf, 1, len, stdout);
}

/* kb:export(path [, {format = "nt"|"nq"|"ttl"|"trig"|"json"}]) -> facts
 * written | nil, msg; path "-" writes to standard output (N-Triples unless
 * a format is given) */
static int kb_export(lua_State *L)
{
    lore_kb *kb = lualore_checkkb(L, 1)->kb;
    const char *path = luaL_checkstring(L, 2);
    lore_export_opts o = {LORE_FORMAT_AUTO};
    if (!lua_isnoneornil(L, 3)) {
        luaL_checktype(L, 3, LUA_TTABLE);
        if (lua_getfield(L, 3, "format") != LUA_TNIL) {
            const char *f = luaL_checkstring(L, -1);
            o.format = lore_format_of(f);
            if (o.format == LORE_FORMAT_AUTO) {
                lua_pushnil(L);
                lua_pushfstring(L,
                                "%s: unknown format '%s' (expected one of: json, nq, nt, "
                                "trig, ttl)",
                                path, f);
                return 2;
            }
        }
    }
    uint64_t n;
    int rc;
    if (strcmp(path, "-") == 0) /* standard output */
        rc = lore_export_to(kb, o.format == LORE_FORMAT_AUTO ? LORE_FORMAT_NTRIPLES : o.format,
                            to_stdout, NULL, &n);
    else
        rc = lore_export(kb, path, &o, &n);
    if (rc < 0)
        return load_failed(L, kb, rc);
    lua_pushinteger(L, (lua_Integer)n);
    return 1;
}

/* kb:prefix(name) -> iri | nil;  kb:prefix(name, iri) binds;
 * kb:prefix(name, false) unbinds.  Setting returns the kb. */
static int kb_prefix(lua_State *L)
{
    lore_kb *kb = lualore_checkkb(L, 1)->kb;
    const char *name = luaL_checkstring(L, 2);
    if (lua_isnone(L, 3)) {
        const char *iri = lore_prefix_get(kb, name);
        if (iri)
            lua_pushstring(L, iri);
        else
            lua_pushnil(L);
        return 1;
    }
    int rc;
    if (lua_isboolean(L, 3) && !lua_toboolean(L, 3)) {
        rc = lore_prefix_remove(kb, name);
    } else {
        const char *iri = luaL_checkstring(L, 3);
        rc = lore_prefix_set(kb, name, iri);
        if (rc == LORE_ERR_ARG) {
            const char *msg = lore_errmsg(kb), *e = strstr(msg, "expected ");
            return luaL_argerror(L, strstr(msg, "prefix name") ? 2 : 3, e ? e : msg);
        }
    }
    if (rc < 0)
        return lualore_fail(L, kb, rc);
    lua_settop(L, 1);
    return 1;
}

/* kb:prefixes() -> { name = iri, ... } */
static int kb_prefixes(lua_State *L)
{
    lore_kb *kb = lualore_checkkb(L, 1)->kb;
    size_t n = lore_prefix_count(kb);
    lua_createtable(L, 0, (int)n);
    for (size_t i = 0; i < n; i++) {
        const char *name, *iri;
        lore_prefix_at(kb, i, &name, &iri);
        lua_pushstring(L, iri);
        lua_setfield(L, -2, name);
    }
    return 1;
}

/* kb:compact(v) -> `ex:name` for an IRI symbol under a bound namespace,
 * else v unchanged (also on a closed kb: printing never fails) */
static int kb_compact(lua_State *L)
{
    lkb *k = luaL_checkudata(L, 1, LORE_KB_MT);
    luaL_checkany(L, 2);
    size_t len;
    if (!k->kb || lua_type(L, 2) != LUA_TSTRING) {
        lua_settop(L, 2);
        return 1;
    }
    const char *s = lua_tolstring(L, 2, &len);
    char buf[256];
    size_t n = lore_compact(k->kb, s, len, buf, sizeof buf);
    if (n == 0) {
        lua_settop(L, 2);
    } else if (n < sizeof buf) {
        lua_pushlstring(L, buf, n);
    } else {
        luaL_Buffer b;
        char *p = luaL_buffinitsize(L, &b, n + 1);
        lore_compact(k->kb, s, len, p, n + 1);
        luaL_pushresultsize(&b, n);
    }
    return 1;
}

static const luaL_Reg methods[] = {
    {"_import", kb_import},    {"export", kb_export},   {"prefix", kb_prefix},
    {"prefixes", kb_prefixes}, {"compact", kb_compact}, {NULL, NULL},
};

/* lore._check_json(text) -> nil, or the (1-based) offset and what was
 * expected there: text is JSON that lua-cjson decoded (so well formed and
 * nested at most 1000 deep), checked for what the decoder changed
 * silently: an integer a double cannot hold exactly, a key given twice in
 * one object (the decoder keeps the last).  No object of the knowledge
 * format has more than a few keys, so one of more than CHECK_KEYS is
 * refused, which keeps the search for duplicates short. */
#define CHECK_DEPTH 1024
#define CHECK_KEYS 64
typedef struct jkey {
    size_t off, len;
} jkey;

static int l_check_json(lua_State *L)
{
    size_t len;
    const char *t = luaL_checklstring(L, 1, &len);
    /* per open container: its first key in keys[] (-1 for an array) */
    long first[CHECK_DEPTH];
    jkey keys[4096]; /* the keys of the open objects */
    size_t nkeys = 0;
    int top = -1, expect_key = 0;
    char what[200];
    size_t at = (size_t)-1;
    for (size_t i = 0; i < len;) {
        char c = t[i];
        if (c == '"') {
            size_t e = i + 1;
            while (e < len && t[e] != '"')
                e += t[e] == '\\' ? 2 : 1;
            if (expect_key) {
                size_t k = (size_t)first[top], klen = e - i - 1;
                for (; k < nkeys; k++)
                    if (keys[k].len == klen && memcmp(t + keys[k].off, t + i + 1, klen) == 0)
                        break;
                if (k < nkeys) {
                    snprintf(what, sizeof what, "each key once in an object, got '%.*s' twice",
                             klen > 100 ? 100 : (int)klen, t + i + 1);
                    at = i;
                    break;
                }
                if (nkeys - (size_t)first[top] >= CHECK_KEYS) {
                    snprintf(what, sizeof what, "at most %d keys in an object", CHECK_KEYS);
                    at = i;
                    break;
                }
                if (nkeys >= sizeof keys / sizeof *keys) {
                    snprintf(what, sizeof what, "at most %d keys in the objects around a value",
                             (int)(sizeof keys / sizeof *keys));
                    at = i;
                    break;
                }
                keys[nkeys].off = i + 1;
                keys[nkeys++].len = klen;
                expect_key = 0;
            }
            i = e + 1;
        } else if (c == '{' || c == '[') {
            if (++top >= CHECK_DEPTH) {
                snprintf(what, sizeof what, "nesting at most 1000 deep");
                at = i;
                break;
            }
            first[top] = c == '{' ? (long)nkeys : -1;
            expect_key = c == '{';
            i++;
        } else if (c == '}' || c == ']') {
            if (top >= 0 && first[top] >= 0)
                nkeys = (size_t)first[top];
            top--;
            expect_key = 0;
            i++;
        } else if (c == ',') {
            expect_key = top >= 0 && first[top] >= 0;
            i++;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            size_t e = i + (c == '-'), digits = 0;
            while (e < len && t[e] >= '0' && t[e] <= '9')
                e++, digits++;
            int integral = e >= len || (t[e] != '.' && t[e] != 'e' && t[e] != 'E');
            if (integral && digits >= 16) {
                char num[400];
                int n = e - i < sizeof num - 1 ? (int)(e - i) : (int)sizeof num - 1;
                memcpy(num, t + i, (size_t)n);
                num[n] = 0;
                errno = 0;
                long long v = strtoll(num, NULL, 10);
                double d = (double)v;
                if (errno == ERANGE || e - i >= sizeof num - 1) {
                    snprintf(what, sizeof what, "an integer within 64 bits, got %.100s%s", num,
                             n > 100 ? "..." : "");
                    at = i;
                    break;
                }
                if (d >= 9223372036854775808.0 || d < -9223372036854775808.0 || (long long)d != v) {
                    snprintf(what, sizeof what,
                             "a number a double holds exactly, got %.40s (write an integer beyond "
                             "2^53 as {\"integer\": \"%.40s\"})",
                             num, num);
                    at = i;
                    break;
                }
            }
            while (e < len && strchr("0123456789.eE+-", t[e]))
                e++;
            i = e;
        } else {
            i++;
        }
    }
    if (at == (size_t)-1) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushinteger(L, (lua_Integer)at + 1);
    lua_pushstring(L, what);
    return 2;
}

static const luaL_Reg funcs[] = {
    {"_regular", l_regular},
    {"_check_json", l_check_json},
    {NULL, NULL},
};

void lualore_open_formats(lua_State *L)
{
    lualore_add_methods(L, methods, funcs);
}
