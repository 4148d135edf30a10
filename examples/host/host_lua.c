/* host_lua.c - a rules host that lets its users write Lua: it owns its
 * knowledge base and Lua state, loads a user's rule file, runs a user's
 * script in lore's sandbox (instructions, deadline and memory budgets), and
 * then runs scripts written to do harm; each is stopped or refused, and the
 * store is exactly as it was after each.
 *
 * Then it streams events in, one fact at a time, each inferred at once,
 * hears every new at_risk fact through a trigger, answers a query through
 * Lua and asks why one alert holds.
 *
 *   usage: host_lua RULES SCRIPT EVENTS   (EVENTS: "subject predicate object" lines)
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

static const char *name_of(lore_kb *kb, lore_id id)
{
    lore_value v;
    return lore_term(kb, id, &v) == LORE_OK && v.kind == LORE_SYMBOL ? v.str : "?";
}

static lore_id sym(lore_kb *kb, const char *s)
{
    lore_value v = lore_symbol(s);
    lore_id id = 0;
    lore_intern(kb, &v, &id);
    return id;
}

/* The trigger: lore_infer calls it once per new at_risk fact. */
static int alert(void *ud, lore_kb *kb, const lore_id f[3], int event)
{
    (void)event;
    printf("  alert: %s is at risk: %s is down\n", name_of(kb, f[0]), name_of(kb, f[2]));
    ++*(int *)ud;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: host_lua RULES SCRIPT EVENTS\n");
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
        {"a memory bomb", "local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end"},
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
    const char *ask = "local n = kb:count(nil, 'uses', nil) assert(n > 0) return n";
    rc = lore_lua_run(L, kb, ask, strlen(ask), "reader", &reader, &msg);
    printf("afterwards: %s, %zu facts, %zu rules\n", rc == LORE_OK ? "queries answer" : msg, facts(kb),
           lore_rule_count(kb));

    /* events, one fact at a time, each inferred at once; alerts by trigger */
    int alerts = 0, n = 0;
    if (lore_on(kb, 0, sym(kb, "at_risk"), 0, LORE_ON_ADDED, alert, &alerts, NULL) != LORE_OK)
        return 1;
    FILE *ev = fopen(argv[3], "r");
    char s[64], p[64], o[64];
    while (ev && fscanf(ev, "%63s %63s %63s", s, p, o) == 3) {
        printf("event %d: %s %s %s\n", ++n, s, p, o);
        if (lore_add(kb, sym(kb, s), sym(kb, p), sym(kb, o), 0) < 0 || lore_infer(kb, NULL) != LORE_OK)
            return 1;
    }
    if (ev)
        fclose(ev);
    printf("%d events, %d alerts, %zu facts\n", n, alerts, facts(kb));

    /* a query, and why one alert holds */
    const char *q = "?what at_risk disk . ?what uses ?x";
    lore_query *qy;
    uint64_t count = 0;
    if (lore_query_parse(kb, q, strlen(q), &qy) == LORE_OK) {
        lore_query_count(qy, &count);
        lore_query_free(qy);
    }
    printf("query: %s: %llu rows\n", q, (unsigned long long)count);
    lore_proof *pr;
    if (lore_why(kb, sym(kb, "web"), sym(kb, "at_risk"), sym(kb, "disk"), &pr) == LORE_OK) {
        printf("why web at_risk disk:\n%s\n", lore_proof_text(pr));
        lore_proof_free(pr);
    }
    lua_close(L);
    lore_kb_free(kb);
    return 0;
}
