/* host_lua.c - a rules host that lets its users write Lua: it owns its
 * knowledge base and Lua state, loads a user's rule file, runs a user's
 * script in lore's sandbox (instructions, deadline and memory budgets), and
 * then runs scripts written to do harm; each is stopped or refused, and the
 * store is exactly as it was after each.
 *
 *   usage: host_lua RULES SCRIPT
 */
#include <lore.h>
#include <lore_lua.h>

#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0, got;
    do {
        if (n + 4096 > cap) {
            char *b = realloc(buf, cap = cap * 2 + 4096);
            if (!b) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = b;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    fclose(f);
    *len = n;
    return buf;
}

/* What must not change: the facts, with their count. */
static size_t facts(lore_kb *kb) { return lore_size(kb); }

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: host_lua RULES SCRIPT\n");
        return 2;
    }
    lore_kb *kb;
    if (lore_kb_new(&kb, NULL, NULL) != LORE_OK)
        return 1;
    lua_State *L = luaL_newstate();
    if (!L)
        return 1;
    luaL_openlibs(L);
    luaL_requiref(L, "lore", luaopen_lore, 1);
    lua_pop(L, 1);

    /* the user's rules, as lore -k reads them */
    const char *msg;
    if (lore_lua_load(L, kb, argv[1], &msg) != LORE_OK) {
        fprintf(stderr, "host_lua: %s\n", msg);
        return 1;
    }
    printf("%zu rules from %s\n", lore_rule_count(kb), argv[1]);

    /* the user's script: may change the kb, no files, within budgets */
    lore_lua_budget budget = {1000000, 5000, 32u << 20, LORE_LUA_WRITE};
    size_t len;
    char *code = slurp(argv[2], &len);
    if (!code) {
        fprintf(stderr, "host_lua: %s: cannot read\n", argv[2]);
        return 1;
    }
    int rc = lore_lua_run(L, kb, code, len, argv[2], &budget, &msg);
    free(code);
    printf("user script: %s%s%s\n", rc == LORE_OK ? "ok" : "failed: ", rc == LORE_OK ? "" : msg, "");
    if (lore_infer(kb, NULL) != LORE_OK)
        return 1;
    printf("%zu facts\n", facts(kb));

    /* scripts written to do harm */
    static const struct {
        const char *what, *code;
    } hostile[] = {
        {"an endless loop", "kb:add('evil', 'uses', 'loop') while true do end"},
        {"a memory bomb", "local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 4096) .. i end"},
        {"reading a file", "return io.open('/etc/passwd'):read('a')"},
        {"running a command", "os.execute('rm -rf /tmp/x')"},
        {"dumping bytecode", "return string.dump(function() end)"},
        {"a hijacked method", "getmetatable(kb).__index.add = nil"},
        {"a pathological pattern",
         "return kb:q('?s note ?t . filter ?t match \"' .. string.rep('a*', 40) .. 'b\"'):count()"},
        {"saving over a file", "kb:save('/tmp/host_lua.lore')"},
        {"an error after changes", "kb:add('evil', 'uses', 'disk') kb:rule 'evil: ?a evil ?b :- ?a uses ?b' "
                                   "kb:infer() error('and then it fails')"},
    };
    size_t before = facts(kb), rules = lore_rule_count(kb);
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        rc = lore_lua_run(L, kb, hostile[i].code, strlen(hostile[i].code), "hostile", &budget, &msg);
        int same = facts(kb) == before && lore_rule_count(kb) == rules;
        printf("%s: %s (%s); store %s\n", hostile[i].what, rc == LORE_OK ? "ran" : "stopped",
               rc == LORE_OK ? "no error" : msg, same ? "unchanged" : "CHANGED");
    }

    /* and the host carries on: a query through Lua, read-only */
    lore_lua_budget reader = {0, 1000, 0, 0};
    const char *ask = "local n = kb:count(nil, 'at_risk', nil) assert(n > 0) return n";
    rc = lore_lua_run(L, kb, ask, strlen(ask), "reader", &reader, &msg);
    printf("afterwards: %s, %zu facts, %zu rules\n", rc == LORE_OK ? "queries answer" : msg, facts(kb),
           lore_rule_count(kb));
    lua_close(L);
    lore_kb_free(kb);
    return 0;
}
