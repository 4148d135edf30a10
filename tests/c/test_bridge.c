/* test_bridge.c - lore_lua.h as a C rules host uses it: its own kb seen
 * from Lua and from C alike; restricted handles; a released handle raising
 * "knowledge base is closed" after the host frees the kb; sandboxed runs
 * with their budgets and their rollback; knowledge files (.json, .rules)
 * loaded from C with lore -k's errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <lauxlib.h>
#include <lualib.h>

#include "lore_lua.h"

static lua_State *state(void)
{
    lua_State *L = luaL_newstate();
    assert_non_null(L);
    luaL_openlibs(L);
    luaL_requiref(L, "lore", luaopen_lore, 1);
    lua_pop(L, 1);
    return L;
}

static lore_id sym(lore_kb *kb, const char *s)
{
    lore_value v = lore_symbol(s);
    lore_id id;
    assert_int_equal(lore_intern(kb, &v, &id), LORE_OK);
    return id;
}

/* Runs Lua text with the global `kb` set to the value on top; returns its
 * string result (or error), kept in buf. */
static const char *lua(lua_State *L, const char *code, char *buf, size_t n)
{
    lua_setglobal(L, "kb");
    int rc = luaL_dostring(L, code);
    snprintf(buf, n, "%s%s", rc == LUA_OK ? "" : "error: ", lua_tostring(L, -1) ? lua_tostring(L, -1) : "nil");
    lua_settop(L, 0);
    return buf;
}

static void test_borrowed(void **state_)
{
    (void)state_;
    lua_State *L = state();
    lore_kb *kb;
    assert_int_equal(lore_kb_new(&kb, NULL, NULL), LORE_OK);
    assert_int_equal(lore_add(kb, sym(kb, "ann"), sym(kb, "parent"), sym(kb, "bob"), 0), LORE_OK);
    char buf[256];
    /* a full handle: what C added, Lua sees; what Lua adds, C sees */
    lore_lua_pushkb(L, kb, LORE_LUA_WRITE | LORE_LUA_FILES);
    assert_ptr_equal(lore_lua_tokb(L, -1), kb);
    assert_string_equal(lua(L, "kb:add('bob', 'parent', 'cid') return tostring(#kb)", buf, sizeof buf), "2");
    uint64_t n;
    assert_int_equal(lore_count(kb, 0, sym(kb, "parent"), 0, &n), LORE_OK);
    assert_int_equal(n, 2);
    /* a read-only one: reads, refuses changes, and its metatable is protected */
    lore_lua_pushkb(L, kb, 0);
    assert_null(lore_lua_tokb(L, -1));
    assert_string_equal(lua(L, "return tostring(kb:count(nil, 'parent', nil))", buf, sizeof buf), "2");
    lore_lua_pushkb(L, kb, 0);
    assert_string_equal(lua(L, "kb:add('x', 'y', 'z')", buf, sizeof buf),
                        "error: [string \"kb:add('x', 'y', 'z')\"]:1: kb:add: this knowledge base is read-only");
    lore_lua_pushkb(L, kb, LORE_LUA_WRITE);
    assert_string_equal(lua(L, "return kb:export('/tmp/x.nt')", buf, sizeof buf),
                        "error: kb:export: file access is not allowed here");
    lore_lua_pushkb(L, kb, 0);
    assert_string_equal(lua(L, "return getmetatable(kb)", buf, sizeof buf), "lore.kb (sandboxed)");
    /* released: Lua still holds the handle (a global), the host frees the
     * kb, and using the handle raises, nothing worse */
    lore_lua_pushkb(L, kb, LORE_LUA_WRITE | LORE_LUA_FILES);
    lua_setglobal(L, "held");
    lore_lua_release(L, kb);
    lore_kb_free(kb);
    assert_true(luaL_dostring(L, "return held:count()") != 0); /* an error */
    assert_non_null(strstr(lua_tostring(L, -1), "knowledge base is closed"));
    lua_settop(L, 0);
    lua_gc(L, LUA_GCCOLLECT); /* the handle's finaliser frees nothing */
    lua_close(L);
}

static void test_runs(void **state_)
{
    (void)state_;
    lua_State *L = state();
    lore_kb *kb;
    assert_int_equal(lore_kb_new(&kb, NULL, NULL), LORE_OK);
    assert_int_equal(lore_add(kb, sym(kb, "ann"), sym(kb, "parent"), sym(kb, "bob"), 0), LORE_OK);
    const char *msg;
    lore_lua_budget b = {1000000, 500, 16u << 20, LORE_LUA_WRITE};
    const char *ok = "kb:add('bob', 'parent', 'cid') kb:rule 'anc: ?a anc ?b :- ?a parent ?b' kb:infer()";
    assert_int_equal(lore_lua_run(L, kb, ok, strlen(ok), "user", &b, &msg), LORE_OK);
    assert_int_equal(lore_size(kb), 4);
    assert_int_equal(lore_rule_count(kb), 1);
    /* each failure leaves the kb as it was */
    static const struct {
        const char *code;
        int rc;
        const char *msg;
    } bad[] = {
        {"kb:add('x', 'p', 'y') while true do end", LORE_ERR_LIMIT,
         "instruction budget exhausted (1000000)"},
        {"local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end", LORE_ERR_LIMIT,
         "memory cap reached (16 MiB)"},
        {"kb:rule 'r2: ?a r2 ?b :- ?a anc ?b' kb:infer() error('no')", LORE_ERR_CALLBACK, "user:1: no"},
        {"io.open('/etc/passwd')", LORE_ERR_CALLBACK, "user:1: attempt to index a nil value (global 'io')"},
        {"kb:save('/tmp/x.lore')", LORE_ERR_CALLBACK, "user:1: kb:save: file access is not allowed here"},
        {"return +", LORE_ERR_CALLBACK, "user:1: unexpected symbol near '+'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = lore_lua_run(L, kb, bad[i].code, strlen(bad[i].code), "user", &b, &msg);
        assert_int_equal(rc, bad[i].rc);
        assert_string_equal(msg, bad[i].msg);
        assert_int_equal(lore_size(kb), 4);
        assert_int_equal(lore_rule_count(kb), 1);
    }
    /* a deadline inside a C loop: a long join */
    const char *ring = "local b = kb:batch() for i = 1, 2000 do b:add('n' .. i, 'q', 'n' .. (i % 2000 + 1)) end "
                       "b:commit()";
    assert_int_equal(lore_lua_run(L, kb, ring, strlen(ring), "user", &b, &msg), LORE_OK);
    lore_lua_budget quick = {0, 50, 0, 0};
    const char *join = "return kb:q('?a q ?b . ?c q ?d . ?e q ?f . filter ?a = ?f'):count()";
    assert_int_equal(lore_lua_run(L, kb, join, strlen(join), "user", &quick, &msg), LORE_ERR_LIMIT);
    assert_string_equal(msg, "deadline reached (50 ms)");
    assert_int_equal(lore_size(kb), 2004);
    assert_int_equal(lua_gettop(L), 0);
    lore_kb_free(kb);
    lua_close(L);
}

static double wall(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Runs one after another share the state's watchdog: each stops at its
 * own deadline on the wall clock, neither at an earlier one's nor later,
 * with an instruction budget set or not. */
static void test_deadlines_in_turn(void **state_)
{
    (void)state_;
    lua_State *L = state();
    lore_kb *kb;
    assert_int_equal(lore_kb_new(&kb, NULL, NULL), LORE_OK);
    const char *endless = "local s = ('x'):rep(2^16) while true do local t = s:upper() end", *msg;
    static const unsigned ms[] = {150, 30, 80, 20, 60};
    char want[64];
    for (size_t i = 0; i < sizeof ms / sizeof *ms; i++) {
        lore_lua_budget b = {i % 2 ? 0 : 1000000000000, ms[i], 0, 0};
        double t0 = wall();
        assert_int_equal(lore_lua_run(L, kb, endless, strlen(endless), "user", &b, &msg), LORE_ERR_LIMIT);
        double took = wall() - t0;
        snprintf(want, sizeof want, "deadline reached (%u ms)", ms[i]);
        assert_string_equal(msg, want);
        if (took < ms[i] / 1000.0 || took > ms[i] / 1000.0 + 0.1)
            fail_msg("a %u ms deadline stopped the run after %.3f s", ms[i], took);
    }
    lore_kb_free(kb);
    lua_close(L);
}

/* A deadline's watchdog is a thread of the Lua state's; a child of
 * fork() has none of the parent's threads: its runs get a watchdog of
 * their own, and an endless loop under a deadline alone still stops. */
static void test_deadline_after_fork(void **state_)
{
    (void)state_;
    lua_State *L = state();
    lore_kb *kb;
    assert_int_equal(lore_kb_new(&kb, NULL, NULL), LORE_OK);
    const char *msg;
    lore_lua_budget wide = {0, 1000, 0, 0}, quick = {0, 50, 0, 0};
    const char *nothing = "return 1", *endless = "while true do end";
    assert_int_equal(lore_lua_run(L, kb, nothing, strlen(nothing), "user", &wide, &msg), LORE_OK);
    /* the watchdog thread, made just now, settles first: a fork while a
     * thread is still starting can leave the C library's or a sanitizer's
     * own locks held in the child (a child hung once so under ASan) */
    struct timespec settle = {0, 50 * 1000 * 1000};
    nanosleep(&settle, NULL);
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        alarm(5); /* a loop nothing stops ends here, as a failure */
        int rc = lore_lua_run(L, kb, endless, strlen(endless), "user", &quick, &msg);
        _exit(rc == LORE_ERR_LIMIT && strcmp(msg, "deadline reached (50 ms)") == 0 ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* and the parent's watchdog goes on */
    assert_int_equal(lore_lua_run(L, kb, endless, strlen(endless), "user", &quick, &msg),
                     LORE_ERR_LIMIT);
    assert_string_equal(msg, "deadline reached (50 ms)");
    lore_kb_free(kb);
    lua_close(L);
}

/* One allocator for the Lua state and the kb, counting the bytes both
 * hold and their high-water mark. */
typedef struct counted {
    size_t now, peak;
} counted;

static void *counting(void *ud, void *ptr, size_t osize, size_t nsize)
{
    counted *c = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        c->now -= old;
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (p) {
        c->now += nsize - old;
        c->peak = c->now > c->peak ? c->now : c->peak;
    }
    return p;
}

/* The memory cap holds the state's growth and the kb's together under it:
 * a script that grows both in turn is stopped with their sum, at its
 * highest, within the cap; and so with the kb growing alone. */
static void test_memory_within_cap(void **state_)
{
    (void)state_;
    counted c = {0, 0};
    lua_State *L = lua_newstate(counting, &c);
    assert_non_null(L);
    luaL_openlibs(L);
    luaL_requiref(L, "lore", luaopen_lore, 1);
    lua_pop(L, 1);
    lore_kb *kb;
    assert_int_equal(lore_kb_new(&kb, (lore_alloc_fn)counting, &c), LORE_OK);
    static const char *const bombs[] = {
        "local t = {} for i = 1, 1e8 do t[i] = string.rep('y', 200) .. i; kb:add('k' .. i, 'p', i) end",
        "for i = 1, 1e8 do kb:add('k' .. i, 'p', i) end",
        "local b = kb:batch() for i = 1, 1e8 do b:add('k' .. i, 'p', i) end b:commit()",
    };
    for (size_t i = 0; i < sizeof bombs / sizeof *bombs; i++) {
        lua_gc(L, LUA_GCCOLLECT);
        size_t base = c.now;
        c.peak = base;
        lore_lua_budget b = {0, 0, 4u << 20, LORE_LUA_WRITE};
        const char *msg;
        assert_int_equal(lore_lua_run(L, kb, bombs[i], strlen(bombs[i]), "user", &b, &msg),
                         LORE_ERR_LIMIT);
        assert_string_equal(msg, "memory cap reached (4 MiB)");
        if (c.peak - base > (4u << 20))
            fail_msg("bomb %zu: %zu bytes grown at the peak, past the cap of %u", i, c.peak - base,
                     4u << 20);
        assert_int_equal(lore_size(kb), 0);
    }
    lore_kb_free(kb);
    lua_close(L);
}

static void test_files(void **state_)
{
    (void)state_;
    lua_State *L = state();
    lore_kb *kb;
    assert_int_equal(lore_kb_new(&kb, NULL, NULL), LORE_OK);
    const char *msg;
    assert_int_equal(lore_lua_load(L, kb, DATA "/bridge/family.json", &msg), LORE_OK);
    assert_int_equal(lore_lua_load(L, kb, DATA "/bridge/family.rules", &msg), LORE_OK);
    assert_int_equal(lore_rule_count(kb), 2);
    assert_int_equal(lore_infer(kb, NULL), LORE_OK);
    uint64_t n;
    assert_int_equal(lore_count(kb, 0, sym(kb, "anc"), 0, &n), LORE_OK);
    assert_int_equal(n, 3);
    assert_int_equal(lore_lua_load(L, kb, DATA "/bridge/bad.rules", &msg), LORE_ERR_SYNTAX);
    assert_string_equal(msg, DATA "/bridge/bad.rules:2:20: expected a predicate (a name, <iri>, _ or a path "
                             "in parentheses), got ','");
    assert_int_equal(lore_rule_count(kb), 2);
    assert_int_equal(lore_lua_load(L, kb, DATA "/bridge/missing.json", &msg), LORE_ERR_IO);
    lore_kb_free(kb);
    lua_close(L);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_borrowed),
        cmocka_unit_test(test_runs),
        cmocka_unit_test(test_deadlines_in_turn),
        cmocka_unit_test(test_deadline_after_fork),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_memory_within_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
