/* complete.c - Tab completion at the REPL: Lua names, the knowledge base's
 * symbols inside strings, the query language's words inside a query. */
#include "complete.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <editline/readline.h>
#include <lauxlib.h>

/* Symbols offered at once: beyond libedit's question ("Display all N
 * possibilities?") a list helps nobody. */
#define MAX_TERMS 100

/* The state whose names complete (libedit's callback has no user data). */
static lua_State *complete_L;

/* What ends a word.  Not `:` or `.`, so that `kb:ma`, `lore.te` and
 * `press:s1` are one word each; not `?`, so a query's variables are; not
 * `/` or `-`, so a path is (Lua names cut the word again). */
static char word_breaks[] = " \t\n\"'`@$><=;|&{}()[],+*%^~#\\";

static const char *const lua_keywords[] = {
    "and",      "break",  "do",   "else", "elseif", "end",   "false", "for",
    "function", "goto",   "if",   "in",   "local",  "nil",   "not",   "or",
    "repeat",   "return", "then", "true", "until",  "while", NULL};

/* The query language's words (qparse.c) */
static const char *const query_words[] = {
    "select", "where",  "filter",   "optional", "without", "union", "group", "by",    "order",
    "limit",  "offset", "distinct", "as",       "asc",     "desc",  "in",    "match", "count",
    "sum",    "min",    "max",      "avg",      "true",    "false", "date",  NULL};

/* Calls whose string is a file name, a query (or a rule), or a topic of
 * help, named by the last part of the callee (`kb:load` -> load). */
static const char *const file_calls[] = {"load",   "loadfile", "dofile",  "open",   "lines",
                                         "input",  "output",   "export",  "import", "save",
                                         "remove", "rename",   "execute", NULL};
static const char *const query_calls[] = {"q", "query", "select", "plan", "rule", NULL};
static const char *const help_calls[] = {"help", NULL};

static int is_name_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static int in_list(const char *const list[], const char *s, size_t n)
{
    for (int i = 0; list[i]; i++)
        if (strlen(list[i]) == n && memcmp(list[i], s, n) == 0)
            return 1;
    return 0;
}

/* Where the cursor stands in the line before it: in a string (opened by
 * quote at offset open), in a comment, or in code. */
typedef struct context {
    char quote; /* 0: not in a string */
    size_t open;
    int comment;
} context;

static context scan(const char *s, size_t end)
{
    context c = {0, 0, 0};
    for (size_t i = 0; i < end; i++) {
        if (c.quote) {
            if (s[i] == '\\')
                i++;
            else if (s[i] == c.quote)
                c.quote = 0;
        } else if (s[i] == '"' || s[i] == '\'') {
            c.quote = s[i], c.open = i;
        } else if (s[i] == '-' && i + 1 < end && s[i + 1] == '-') {
            c.comment = 1;
            break;
        }
    }
    return c;
}

/* The last part of the name called with the string opened at `open`
 * (`kb:q "...`, `kb:load("...`): its start in *name, its length returned. */
static size_t callee(const char *s, size_t open, const char **name)
{
    size_t i = open;
    while (i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t' || s[i - 1] == '('))
        i--;
    size_t stop = i;
    while (i > 0 && is_name_char((unsigned char)s[i - 1]))
        i--;
    *name = s + i;
    return stop - i;
}

/* ---- candidates, gathered under lua_pcall into a table ---- */

/* Appends the value on top of the stack to the list at t (pops it). */
static void append(lua_State *L, int t)
{
    lua_rawseti(L, t, (lua_Integer)lua_rawlen(L, t) + 1);
}

static void add_words(lua_State *L, int t, const char *const words[], const char *prefix)
{
    size_t n = strlen(prefix);
    for (int i = 0; words[i]; i++)
        if (strncmp(words[i], prefix, n) == 0) {
            lua_pushstring(L, words[i]);
            append(L, t);
        }
}

/* The keys of the value at v that start with `prefix`, names only (and
 * only functions when `methods`), then those of its metatable's __index
 * table, as `head` .. key. */
static void add_keys(lua_State *L, int t, int v, const char *head, const char *prefix, int methods,
                     int depth)
{
    size_t n = strlen(prefix);
    v = lua_absindex(L, v);
    if (lua_type(L, v) == LUA_TTABLE) {
        lua_pushnil(L);
        while (lua_next(L, v)) {
            if (lua_type(L, -2) == LUA_TSTRING && (!methods || lua_isfunction(L, -1))) {
                const char *k = lua_tostring(L, -2);
                int name = 1;
                for (const char *c = k; *c && name; c++)
                    name = is_name_char((unsigned char)*c);
                /* internals (`_name`) only when asked for */
                if (name && (k[0] < '0' || k[0] > '9') && (k[0] != '_' || prefix[0] == '_') &&
                    strncmp(k, prefix, n) == 0) {
                    lua_pushfstring(L, "%s%s", head, k);
                    append(L, t);
                }
            }
            lua_pop(L, 1);
        }
    }
    if (depth < 4 && lua_getmetatable(L, v)) {
        lua_pushliteral(L, "__index");
        if (lua_rawget(L, -2) == LUA_TTABLE)
            add_keys(L, t, -1, head, prefix, methods, depth + 1);
        lua_pop(L, 2);
    }
}

/* Lua names: `a.b.c` completes the fields of a.b, `a.b:m` its methods,
 * a bare word the globals and Lua's keywords. */
static void add_lua_names(lua_State *L, int t, const char *word)
{
    /* the name starts after the last character no name holds (a `-`) */
    const char *name = word;
    for (const char *c = word; *c; c++)
        if (!is_name_char((unsigned char)*c) && *c != '.' && *c != ':')
            name = c + 1;
    if (name != word) {
        lua_newtable(L);
        int inner = lua_gettop(L);
        add_lua_names(L, inner, name);
        lua_settop(L, inner);
        for (lua_Integer i = 1; lua_rawgeti(L, -1, i) == LUA_TSTRING; i++) {
            lua_pushlstring(L, word, (size_t)(name - word));
            lua_insert(L, -2);
            lua_concat(L, 2);
            append(L, t);
        }
        return;
    }
    const char *sep = strpbrk(word, ".:"), *last = NULL;
    for (const char *p = sep; p; p = strpbrk(p + 1, ".:"))
        last = p;
    if (!last) {
        lua_pushglobaltable(L);
        add_keys(L, t, -1, "", word, 0, 0);
        lua_pop(L, 1);
        add_words(L, t, lua_keywords, word);
        return;
    }
    /* the path before the last separator: names joined by dots */
    lua_pushglobaltable(L);
    const char *p = word;
    while (p < last) {
        const char *e = p;
        while (e < last && is_name_char((unsigned char)*e))
            e++;
        if (e == p || (e < last && *e != '.') || lua_type(L, -1) == LUA_TNIL)
            return;
        lua_pushlstring(L, p, (size_t)(e - p));
        if (lua_type(L, -2) != LUA_TTABLE && lua_type(L, -2) != LUA_TUSERDATA &&
            lua_type(L, -2) != LUA_TSTRING)
            return;
        lua_gettable(L, -2);
        lua_remove(L, -2);
        p = e + 1;
    }
    lua_pushlstring(L, word, (size_t)(last - word) + 1);
    add_keys(L, t, -2, lua_tostring(L, -1), last + 1, *last == ':', 0);
}

/* The global kb's symbols that start with prefix, as kb:terms gives them. */
static void add_terms(lua_State *L, int t, const char *prefix)
{
    if (lua_getglobal(L, "kb") != LUA_TUSERDATA || lua_getfield(L, -1, "terms") != LUA_TFUNCTION)
        return;
    lua_insert(L, -2);
    lua_pushstring(L, prefix);
    lua_pushinteger(L, MAX_TERMS);
    lua_call(L, 3, 1);
    if (lua_type(L, -1) != LUA_TTABLE)
        return;
    for (lua_Integer i = 1; lua_rawgeti(L, -1, i) == LUA_TSTRING; i++)
        append(L, t);
}

/* The variables (`?name`) the text before the cursor names that start
 * with word (itself starting with `?`). */
static void add_variables(lua_State *L, int t, const char *word, const char *text)
{
    size_t n = strlen(word);
    for (const char *v = strchr(text, '?'); v; v = strchr(v + 1, '?')) {
        size_t len = 1;
        while (is_name_char((unsigned char)v[len]))
            len++;
        if (len > 1 && len >= n && strncmp(v, word, n) == 0) {
            lua_pushlstring(L, v, len);
            append(L, t);
        }
    }
}

/* help's topics: the kb's methods and the module's functions, by name */
static void add_topics(lua_State *L, int t, const char *prefix)
{
    if (lua_getglobal(L, "kb") == LUA_TUSERDATA)
        add_keys(L, t, -1, "", prefix, 1, 0);
    if (lua_getglobal(L, "lore") == LUA_TTABLE)
        add_keys(L, t, -1, "", prefix, 1, 0);
}

enum { WANT_LUA, WANT_TERM, WANT_QUERY, WANT_TOPIC };

/* collect(kind, word, text before the word) -> the candidates, in a table */
static int collect(lua_State *L)
{
    int kind = (int)lua_tointeger(L, 1);
    const char *word = lua_tostring(L, 2);
    lua_newtable(L);
    int t = lua_gettop(L);
    if (kind == WANT_LUA) {
        add_lua_names(L, t, word);
    } else if (kind == WANT_TOPIC) {
        add_topics(L, t, word);
    } else if (word[0] == '?') {
        if (kind == WANT_QUERY)
            add_variables(L, t, word, lua_tostring(L, 3));
    } else {
        if (kind == WANT_QUERY)
            add_words(L, t, query_words, word);
        add_terms(L, t, word);
    }
    lua_settop(L, t);
    return 1;
}

static int compare(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* libedit's form of an answer: [0] what replaces the word (the longest
 * prefix the candidates share), then the candidates, NULL-terminated;
 * a single candidate followed by `after` (unless 0).  libedit frees it. */
static char **matches_of(lua_State *L, int t, char after)
{
    size_t n = lua_rawlen(L, t), k = 0;
    if (n == 0)
        return NULL;
    char **m = calloc(n + 2, sizeof *m);
    if (!m)
        return NULL;
    for (size_t i = 1; i <= n; i++) {
        lua_rawgeti(L, t, (lua_Integer)i);
        const char *s = lua_tostring(L, -1);
        if (s && (m[k + 1] = strdup(s)) != NULL)
            k++;
        lua_pop(L, 1);
    }
    qsort(m + 1, k, sizeof *m, compare);
    size_t u = 0; /* drop duplicates */
    for (size_t i = 1; i <= k; i++) {
        if (u > 0 && strcmp(m[u], m[i]) == 0)
            free(m[i]);
        else
            m[++u] = m[i];
        if (i > u)
            m[i] = NULL;
    }
    if (u == 0) {
        free(m);
        return NULL;
    }
    if (u == 1) { /* what follows a whole word is part of it: libedit adds no quote */
        m[0] = m[1], m[1] = NULL;
        if (after) {
            size_t len = strlen(m[0]);
            char *w = realloc(m[0], len + 2);
            if (w) {
                w[len] = after, w[len + 1] = '\0';
                m[0] = w;
            }
        }
        return m;
    }
    size_t len = 0; /* sorted: the first and last share what all share */
    while (m[1][len] && m[1][len] == m[u][len])
        len++;
    m[0] = strndup(m[1], len);
    if (!m[0]) {
        for (size_t i = 1; i <= u; i++)
            free(m[i]);
        free(m);
        return NULL;
    }
    return m;
}

static char **complete(const char *text, int start, int end)
{
    (void)end;
    lua_State *L = complete_L;
    context c = scan(rl_line_buffer, (size_t)start);
    int kind = WANT_LUA;
    rl_attempted_completion_over = 1; /* no file names in code */
    rl_completion_append_character = '\0';
    char after = 0;
    if (c.comment)
        return NULL;
    if (c.quote) {
        const char *name;
        size_t n = callee(rl_line_buffer, c.open, &name);
        if (in_list(file_calls, name, n)) {
            rl_attempted_completion_over = 0;
            return NULL;
        }
        if (in_list(query_calls, name, n))
            kind = WANT_QUERY;
        else if (in_list(help_calls, name, n))
            kind = WANT_TOPIC;
        else
            kind = WANT_TERM;
        after = kind == WANT_QUERY ? ' ' : c.quote;
    }
    int top = lua_gettop(L);
    lua_pushcfunction(L, collect);
    lua_pushinteger(L, kind);
    lua_pushstring(L, text);
    lua_pushlstring(L, rl_line_buffer, (size_t)start);
    char **m = NULL;
    if (lua_pcall(L, 3, 1, 0) == LUA_OK)
        m = matches_of(L, -1, after);
    lua_settop(L, top);
    if (!m && kind == WANT_TERM)
        rl_attempted_completion_over = 0; /* a string of no symbol: maybe a file */
    return m;
}

void complete_init(lua_State *L)
{
    complete_L = L;
    rl_readline_name = "lore";
    rl_basic_word_break_characters = word_breaks;
    rl_completer_word_break_characters = word_breaks;
    rl_attempted_completion_function = complete;
}
