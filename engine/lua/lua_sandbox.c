/* lua_sandbox.c - the C half of lore.sandbox (sandbox.lua): a run of a
 * function under three budgets, an instruction count (a count hook, and
 * the bytes of large blocks), a wall-clock deadline (a watchdog thread
 * that sets the hook when it passes, and inside lore's C loops through
 * the kb's deadline) and a memory cap over the Lua state's growth and the
 * kb's together (a counting allocator for the state, the kb's own cap for
 * the kb), in a transaction that is rolled back when the run fails. */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lualore.h"

typedef struct run {
    lore_kb *kb;
    lua_Alloc alloc; /* the state's allocator, restored after the run */
    void *aud;
    lua_Integer budget, used; /* instructions (0: none) */
    int step;                 /* the hook's count */
    uint64_t deadline, ms;    /* CLOCK_MONOTONIC ns; as given */
    size_t cap;               /* bytes (0: none) */
    size_t kb0;               /* the kb's bytes in use when the run began */
    long long lua;            /* the state's growth since the run began */
    long long mark, slack;    /* the growth the kb's cap last allowed for; its step */
    long long quick;          /* the state may grow to here without a look at the kb */
    long long lo, hi;         /* the band the state's use may move in on the fast path */
    size_t big;               /* blocks this big leave the fast path (charged, below) */
    int stop;                 /* 0, or why the run stops: 1 instructions, 2 deadline, 3 memory */
    volatile sig_atomic_t late; /* set by the watchdog when the deadline passed */
    lua_State *L;
    struct watchdog *dog;     /* watching this run's deadline, or NULL */
} run;

static const char RUN_KEY = 'r'; /* the registry holds the running run's address */
static const char STRINGS_KEY = 's'; /* and the run's string library, while it is set up */

/* Makes `__index` of the strings' metatable the value on top (popped),
 * and leaves the one it replaces on top. */
static void swap_string_index(lua_State *L)
{
    lua_pushliteral(L, "");
    if (!lua_getmetatable(L, -1)) {
        lua_pop(L, 2);
        lua_pushnil(L);
        return;
    }
    lua_remove(L, -2);                  /* value, mt */
    lua_getfield(L, -1, "__index");     /* value, mt, old */
    lua_rotate(L, -3, 1);               /* old, value, mt */
    lua_insert(L, -2);                  /* old, mt, value */
    lua_setfield(L, -2, "__index");     /* old, mt */
    lua_pop(L, 1);                      /* old */
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static run *running(lua_State *L)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &RUN_KEY);
    run *r = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return r;
}

lua_Alloc lualore_base_alloc(lua_State *L, void **ud)
{
    run *r = running(L);
    if (r) {
        *ud = r->aud;
        return r->alloc;
    }
    return lua_getallocf(L, ud);
}

/* The kb's cap: what the state may still take, the state counted at
 * `mark`, a little above its use, so that most allocations leave the
 * kb's cap alone (it moves when the state's use leaves [mark - 2 slack,
 * mark]); the kb is held to at most the cap, never more. */
static void kb_cap_follow(run *r)
{
    r->mark = r->lua + r->slack;
    long long left = (long long)r->cap - (r->mark > 0 ? r->mark : 0);
    lore_kb_set_memory_cap(r->kb, r->kb0 + (size_t)(left > 0 ? left : 1));
    /* from now on the kb grows past the run's start by at most the larger
     * of its cap's room and what it holds already: while the state stays
     * under both its mark and the cap less that, the sum cannot pass the
     * cap, and an allocation need not ask the kb */
    size_t kbnow = lore_kb_memory(r->kb);
    long long kbgrow = kbnow > r->kb0 ? (long long)(kbnow - r->kb0) : 0;
    long long most = kbgrow > left ? kbgrow : (left > 0 ? left : 1);
    r->quick = (long long)r->cap - most;
    r->lo = r->mark - 2 * r->slack;
    r->hi = r->mark < r->quick ? r->mark : r->quick;
}

static void hook(lua_State *L, lua_Debug *ar);

/* From now on every instruction raises: a run a budget stopped cannot go
 * on under a pcall of the script's. */
static void stop_run(lua_State *L, run *r, int why)
{
    r->stop = r->stop ? r->stop : why;
    lua_sethook(L, hook, LUA_MASKCOUNT, 1);
}

enum { CHARGE_MIN = 4096, CHARGE_BYTES = 64 }; /* a large block, and its bytes per step */

/* The state's allocator during a run: growth past the cap fails (Lua then
 * raises "not enough memory"); shrinking always succeeds.  Off the fast
 * path: the kb is asked, and its cap moved. */
#if defined(__GNUC__)
__attribute__((noinline)) /* the fast path stays a leaf: no frame, a jump */
#endif
static void *capped_slow(run *r, void *ptr, size_t osize, size_t nsize)
{
    size_t old = ptr ? osize : 0;
    if (nsize > old && r->cap &&
        (r->lua + (long long)(nsize - old) > r->mark ||
         r->lua + (long long)(nsize - old) > r->quick)) {
        size_t kbnow = lore_kb_memory(r->kb), kbgrow = kbnow > r->kb0 ? kbnow - r->kb0 : 0;
        long long after = r->lua + (long long)(nsize - old) + (long long)kbgrow;
        if (after > (long long)r->cap) {
            if (r->L) /* as any budget: no pcall of the script's carries on */
                stop_run(r->L, r, 3);
            else
                r->stop = r->stop ? r->stop : 3;
            return NULL;
        }
    }
    void *p = r->alloc(r->aud, ptr, osize, nsize);
    if (p || nsize == 0) {
        r->lua += (long long)nsize - (long long)old;
        if (r->cap && (r->lua > r->mark || r->lua < r->mark - 2 * r->slack))
            kb_cap_follow(r);
    }
    /* a large block's bytes are work an instruction does in C (a long
     * string made by .., rep, upper, table.concat, format): one step per
     * CHARGE_BYTES counts against the instruction budget, else a thousand
     * instructions on 32 MiB strings ran for seconds under a budget meant
     * to bound the work */
    if (p && r->budget && nsize >= old + CHARGE_MIN) {
        r->used += (lua_Integer)((nsize - old) / CHARGE_BYTES);
        if (!r->stop && r->used >= r->budget && r->L)
            stop_run(r->L, r, 1);
    }
    return p;
}

/* Most calls stay inside [lo, hi], where nothing but the count changes:
 * counted before the call, so that this is a leaf ending in a jump to the
 * host's allocator (with a frame of its own it cost a filtered query 5%
 * inside a sandbox; now under 1%).  A request the host's allocator fails
 * stays counted: the run stops sooner, never later. */
static void *capped(void *ud, void *ptr, size_t osize, size_t nsize)
{
    run *r = ud;
    long long now = r->lua + (long long)nsize - (long long)(ptr ? osize : 0);
    if (now > r->hi || now < r->lo || nsize >= r->big)
        return capped_slow(r, ptr, osize, nsize);
    r->lua = now;
    return r->alloc(r->aud, ptr, osize, nsize);
}

static void hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    run *r = running(L);
    if (!r)
        return;
    if (!r->stop && r->late)
        r->stop = 2;
    if (!r->stop) {
        r->used += r->step;
        if (r->budget && r->used >= r->budget)
            r->stop = 1;
        else if (r->deadline && now_ns() >= r->deadline)
            r->stop = 2;
        else if (r->budget && r->budget - r->used < r->step)
            lua_sethook(L, hook, LUA_MASKCOUNT, (int)(r->budget - r->used)); /* land exactly */
        if (r->late) /* the watchdog's hook may just have been overwritten */
            r->stop = 2;
    }
    if (r->stop) {
        /* every instruction from now on raises, so no pcall in the script
         * can carry on past the budget */
        lua_sethook(L, hook, LUA_MASKCOUNT, 1);
        luaL_error(L, "budget exhausted");
    }
}

void lualore_budget_hit(lua_State *L, int rc, const char *msg)
{
    run *r = running(L);
    if (!r || r->stop)
        return;
    if (rc == LORE_ERR_NOMEM && r->cap)
        stop_run(L, r, 3);
    else if (rc == LORE_ERR_INTERRUPT && strncmp(msg, "deadline reached", 16) == 0)
        stop_run(L, r, 2);
    else if (rc == LORE_ERR_INTERRUPT && strncmp(msg, "step budget exhausted", 21) == 0)
        stop_run(L, r, 1);
}

/* Calls the function at index i, if any, its errors ignored. */
static void cleanup(lua_State *L, int i)
{
    if (lua_type(L, i) != LUA_TFUNCTION)
        return;
    lua_pushvalue(L, i);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK)
        lua_pop(L, 1);
}

/* The deadline's watchdog: one thread per Lua state, made at the first
 * run with a deadline and kept (a thread per run cost each run 50 us),
 * that sets a count hook of 1 on the running state when the armed run's
 * deadline passes, as a signal handler would; the hook then raises at the
 * next instruction.  It watches the deadline whatever else is set: the
 * count hook alone looks at the clock every thousand instructions, and a
 * thousand instructions on long strings (s:upper(), .., a == b on 32 MiB)
 * took seven seconds past a 100 ms deadline.  Kept in the registry; its
 * __gc (at lua_close) stops and joins the thread. */
typedef struct watchdog {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    run *armed;     /* the run watched, or NULL */
    uint64_t gen;   /* moves at every arming and disarming */
    uint64_t until; /* when the thread wakes by itself (0: it waits to be armed) */
    int quit, made; /* made: the thread, mutex and condition exist */
    pid_t pid;      /* the process the thread runs in */
} watchdog;

static const char DOG_KEY = 'w';

static void *dog_main(void *arg)
{
    watchdog *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->quit) {
        if (!w->armed) {
            w->until = 0;
            pthread_cond_wait(&w->cv, &w->mu);
            continue;
        }
        run *r = w->armed;
        uint64_t gen = w->gen;
        struct timespec until;
        until.tv_sec = (time_t)(r->deadline / 1000000000u);
        until.tv_nsec = (long)(r->deadline % 1000000000u);
        w->until = r->deadline;
        pthread_cond_timedwait(&w->cv, &w->mu, &until);
        if (w->gen == gen && w->armed == r && now_ns() >= r->deadline) {
            r->late = 1;
            lua_sethook(r->L, hook, LUA_MASKCOUNT, 1);
            w->armed = NULL;
        }
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static int dog_gc(lua_State *L)
{
    watchdog *w = lua_touserdata(L, 1);
    if (w && w->made) {
        pthread_mutex_lock(&w->mu);
        w->quit = 1;
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->thread, NULL);
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        w->made = 0;
    }
    return 0;
}

/* The state's watchdog, made if need be; NULL if no thread can be made
 * (the count hook then watches the deadline alone). */
static watchdog *dog_of(lua_State *L)
{
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &DOG_KEY) == LUA_TUSERDATA) {
        watchdog *w = lua_touserdata(L, -1);
        lua_pop(L, 1);
        if (!w->made || w->pid == getpid())
            return w->made ? w : NULL;
        /* a child of fork(): the thread stayed in the parent, and its
         * mutex may have been held there; left alone, and a new one made */
        w->made = 0;
    } else {
        lua_pop(L, 1);
    }
    watchdog *w = lua_newuserdatauv(L, sizeof *w, 0);
    memset(w, 0, sizeof *w);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, dog_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &DOG_KEY); /* kept, made or not: tried once */
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0)
        return NULL;
    int ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
             pthread_cond_init(&w->cv, &ca) == 0;
    pthread_condattr_destroy(&ca);
    if (!ok)
        return NULL;
    if (pthread_mutex_init(&w->mu, NULL) != 0) {
        pthread_cond_destroy(&w->cv);
        return NULL;
    }
    if (pthread_create(&w->thread, NULL, dog_main, w) != 0) {
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        return NULL;
    }
    w->made = 1;
    w->pid = getpid();
    return w;
}

/* Has watchdog w (may be NULL) watch r's deadline: 0 if there is none. */
static int dog_arm(watchdog *w, run *r)
{
    if (!w)
        return 0;
    pthread_mutex_lock(&w->mu);
    w->armed = r;
    w->gen++;
    /* a thread asleep until an earlier time takes the new run up when it
     * wakes: waking it at each run cost a run 18 us */
    if (w->until == 0 || r->deadline < w->until)
        pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    r->dog = w;
    return 1;
}

/* Before anything is restored: after this the watchdog sets no hook for
 * r (it touches a run only under its mutex, while armed with it). */
static void dog_disarm(run *r)
{
    watchdog *w = r->dog;
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->armed = NULL;
    w->gen++;
    pthread_mutex_unlock(&w->mu);
    r->dog = NULL;
}

static void push_stop(lua_State *L, const run *r)
{
    switch (r->stop) {
    case 1:
        lua_pushfstring(L, "instruction budget exhausted (%I)", r->budget);
        break;
    case 2:
        lua_pushfstring(L, "deadline reached (%I ms)", (lua_Integer)r->ms);
        break;
    default:
        lua_pushfstring(L, "memory cap reached (%I MiB)", (lua_Integer)((r->cap + (1u << 20) - 1) >> 20));
    }
}

/* lore._run(kb, fn, instructions, deadline_ms, memory_bytes [, cleanup
 * [, kib_before]]) -> true, results... or nil, message: fn() under the
 * budgets (0: none) in a transaction on kb, committed if it returns, rolled
 * back if it raises or a budget stops it; cleanup() (outside the budgets,
 * its errors ignored) runs first either way, to close what the run left
 * open.  kib_before: the state's use (collectgarbage "count") before the
 * caller prepared the run (fn compiled, its environment made): that growth
 * counts against the memory cap too. */
static int l_run(lua_State *L)
{
    lore_kb *kb = lualore_checkkb(L, 1)->kb;
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_Integer ni = luaL_optinteger(L, 3, 0), ms = luaL_optinteger(L, 4, 0);
    lua_Integer mem = luaL_optinteger(L, 5, 0);
    luaL_argcheck(L, ni >= 0 && ms >= 0 && mem >= 0, 3, "budgets are counts >= 0");
    if (running(L))
        return luaL_error(L, "a sandboxed run is already going on in this Lua state");
    if (lore_in_transaction(kb))
        return luaL_error(L, "a transaction is open on this knowledge base");
    lua_Number kib0 = luaL_optnumber(L, 7, -1);
    int strings = lua_type(L, 8) == LUA_TTABLE; /* the run's string library */
    if (strings) /* strings' methods (s:find) are the run's during it: its own copy */
        lua_pushvalue(L, 8);
    else
        lua_pushnil(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &STRINGS_KEY);
    /* made before the run is set up: making it may raise */
    watchdog *dog = ms ? dog_of(L) : NULL;
    run r;
    memset(&r, 0, sizeof r);
    r.kb = kb, r.budget = ni, r.ms = (uint64_t)ms, r.cap = (size_t)mem;
    r.step = ni && ni < 1000 ? (int)ni : 1000;
    r.deadline = ms ? now_ns() + (uint64_t)ms * 1000000u : 0;
    r.kb0 = lore_kb_memory(kb);
    if (lore_begin(kb) != LORE_OK)
        return lualore_fail(L, kb, LORE_ERR_STATE);
    lua_settop(L, 6);
    lua_pushvalue(L, 2); /* the function on top, the arguments kept below */
    lua_Hook oldhook = lua_gethook(L);
    int oldmask = lua_gethookmask(L), oldcount = lua_gethookcount(L);
    lua_pushlightuserdata(L, &r);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &RUN_KEY);
    r.alloc = lua_getallocf(L, &r.aud);
    if (kib0 >= 0) { /* the state's growth since the caller began, up to here */
        lua_Number kib = lua_gc(L, LUA_GCCOUNT, 0) + lua_gc(L, LUA_GCCOUNTB, 0) / 1024.0;
        r.lua = kib > kib0 ? (long long)((kib - kib0) * 1024) : 0;
    }
    r.lo = LLONG_MIN, r.hi = LLONG_MAX; /* no cap: every call on the fast path */
    r.big = ni ? CHARGE_MIN : SIZE_MAX;
    lua_setallocf(L, capped, &r);
    if (mem) { /* the kb's cap trails the state's use by at most 1/256 of the cap */
        r.slack = (long long)(r.cap / 512);
        kb_cap_follow(&r);
    }
    if (ms)
        lore_kb_set_deadline(kb, (uint64_t)ms);
    if (ni) /* lore's C loops get the same count of steps */
        lore_kb_set_step_budget(kb, (uint64_t)ni);
    r.L = L;
    int watched = ms && dog_arm(dog, &r);
    if (ni || (ms && !watched))
        lua_sethook(L, hook, LUA_MASKCOUNT, r.step);
    int base = 6;
    int status;
    /* the strings' methods become the run's own (guarded) library; the
     * registry keeps the host's meanwhile */
    if (strings) {
        lua_rawgetp(L, LUA_REGISTRYINDEX, &STRINGS_KEY);
        swap_string_index(L);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &STRINGS_KEY);
    }
    if (mem && r.lua > (long long)r.cap) { /* the preparation alone took more */
        r.stop = 3;
        status = LUA_ERRMEM;
    } else {
        status = lua_pcall(L, 0, LUA_MULTRET, 0);
    }
    if (strings) { /* the host's string methods back */
        lua_rawgetp(L, LUA_REGISTRYINDEX, &STRINGS_KEY);
        swap_string_index(L);
        lua_pop(L, 1);
    }
    lua_pushnil(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &STRINGS_KEY);
    dog_disarm(&r);
    /* the state and the kb as they were */
    lua_sethook(L, oldhook, oldmask, oldcount);
    lua_setallocf(L, r.alloc, r.aud);
    lua_pushnil(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &RUN_KEY);
    lore_kb_set_deadline(kb, 0);
    lore_kb_set_step_budget(kb, 0);
    lore_kb_set_memory_cap(kb, 0);
    if (status == LUA_OK && !r.stop) {
        cleanup(L, 6);
        if (lore_commit(kb) != LORE_OK) {
            lore_rollback(kb);
            lua_pushnil(L);
            lualore_errmsg(L, kb);
            return 2;
        }
        lua_pushboolean(L, 1);
        lua_insert(L, base + 1);
        return lua_gettop(L) - base;
    }
    /* what the failed run left is garbage now: collected before the
     * clean-up and the message take memory, so that they do not add to
     * the run's high-water mark (a memory bomb stops at its cap) */
    lua_gc(L, LUA_GCCOLLECT, 0);
    cleanup(L, 6);
    lore_rollback(kb);
    const char *m = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
    if (!r.stop && strstr(m, "memory cap reached")) /* the kb's cap, inside a call */
        r.stop = 3;
    else if (!r.stop && strstr(m, "deadline reached")) /* in a C loop */
        r.stop = 2;
    else if (!r.stop && strstr(m, "step budget exhausted")) /* the instructions, in a C loop */
        r.stop = 1;
    else if (!r.stop && status == LUA_ERRMEM && r.cap)
        r.stop = 3;
    lua_pushnil(L);
    if (r.stop)
        push_stop(L, &r);
    else if (lua_type(L, -2) == LUA_TSTRING || lua_type(L, -2) == LUA_TNUMBER)
        lua_pushstring(L, lua_tostring(L, -2)); /* the script's own error, as Lua shows it */
    else /* no __tostring of the script's: it would run outside every budget */
        lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, -2));
    return 2;
}

/* lore._pattern_walk(s, pattern, init, max): before one of Lua's pattern
 * functions runs in a sandbox, the same walk through s under the run's
 * budgets (lore_pattern_walk), since Lua's matcher is not bounded and the
 * hook cannot stop it; max < 0: every match.  Returns nothing, or the
 * message for the caller to raise where the script called (the matcher's
 * own bound, a back-reference); raises when a budget stops the run.
 * Arguments Lua's function would refuse are left for it to refuse. */
static int l_pattern_walk(lua_State *L)
{
    run *r = running(L);
    int t1 = lua_type(L, 1), t2 = lua_type(L, 2);
    if (!r || (t1 != LUA_TSTRING && t1 != LUA_TNUMBER) || (t2 != LUA_TSTRING && t2 != LUA_TNUMBER))
        return 0;
    size_t sn, pn;
    const char *s = lua_tolstring(L, 1, &sn), *p = lua_tolstring(L, 2, &pn);
    int isnum;
    lua_Integer init = lua_isnoneornil(L, 3) ? 1 : lua_tointegerx(L, 3, &isnum);
    if (!lua_isnoneornil(L, 3) && !isnum)
        return 0;
    /* as Lua takes a start position: negative from the end, 0 as 1 */
    if (init < 0)
        init = -init > (lua_Integer)sn ? 1 : (lua_Integer)sn + init + 1;
    else if (init == 0)
        init = 1;
    if ((size_t)(init - 1) > sn)
        return 0; /* past the end: no match is tried */
    lua_Integer max = luaL_optinteger(L, 4, -1);
    int rc = lore_pattern_walk(r->kb, s, sn, (size_t)(init - 1), p, pn,
                               max < 0 ? (size_t)-1 : (size_t)max);
    if (rc == LORE_OK)
        return 0;
    const char *m = lore_errmsg(r->kb);
    if (rc == LORE_ERR_ARG && strncmp(m, "back-references", 15) != 0)
        return 0; /* malformed: Lua says how */
    if (rc == LORE_ERR_ARG) {
        lua_pushliteral(L, "string pattern: back-references (%1 ...) are not available in the sandbox");
        return 1;
    }
    lualore_budget_hit(L, rc, m);
    if (r->stop)
        return luaL_error(L, "budget exhausted");
    lua_pushstring(L, m);
    return 1;
}

/* lore._charge(n): n steps of a library loop the sandbox runs in pieces
 * (table.move) count against the run's instruction budget, and the
 * deadline is looked at; raises when either stops the run. */
static int l_charge(lua_State *L)
{
    run *r = running(L);
    lua_Integer n = luaL_checkinteger(L, 1);
    if (!r || r->stop)
        return 0;
    r->used += n > 0 ? n : 0;
    if (r->budget && r->used >= r->budget)
        stop_run(L, r, 1);
    else if (r->deadline && now_ns() >= r->deadline)
        stop_run(L, r, 2);
    return r->stop ? luaL_error(L, "budget exhausted") : 0;
}

static const luaL_Reg funcs[] = {
    {"_run", l_run}, {"_pattern_walk", l_pattern_walk}, {"_charge", l_charge}, {NULL, NULL}};

void lualore_open_sandbox(lua_State *L)
{
    lualore_add_methods(L, NULL, funcs);
}
