/* main.c - the lore program: runs scripts and the REPL on a knowledge base
 * (the shipped one unless told otherwise).  A client of the Lua module
 * only, in the manner of lua.c. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <editline/readline.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "complete.h"
#include "lualore.h"

#define PROGNAME "lore"
#define PROMPT "lore> "
#define PROMPT2 "  ... "
#define HISTORY_FILE ".lore_history"

/* The state a SIGINT has to reach; the handler only arms a hook (lua.c)
 * and sets the state's interrupt flag, which the knowledge bases watch:
 * hooks never fire inside the C core's loops (a long query). */
static lua_State *interrupted_L;
static volatile sig_atomic_t *interrupt_flag;

static const char usage_text[] =
    "usage: lore [options] [script [args]]\n"
    "Runs Lua with the lore module, on the shipped knowledge base (global kb).\n"
    "  -e CODE     run CODE\n"
    "  -i          enter the REPL after running a script or -e\n"
    "  -l NAME     require module NAME into global NAME (-l G=NAME: into global G)\n"
    "  -k FILE     load FILE into kb instead of the shipped knowledge (repeatable);\n"
    "              the format comes from the extension: .nt .nq .ttl .trig .json\n"
    "  --format F  read the -k files that follow as format F (nt, nq, ttl, trig, json)\n"
    "  -q QUERY    print the rows of QUERY (query text) and go on\n"
    "  --json, --csv, --tsv  print -q's rows as plain JSON, CSV (RFC 4180) or TSV\n"
    "  --export OUT  write kb to OUT (format from the extension; - for standard\n"
    "              output, in the --format before it, else N-Triples) once the other\n"
    "              options, the script and the REPL have run (repeatable)\n"
    "  --empty     start with an empty kb\n"
    "  -           run standard input as a script\n"
    "  --help      show this help\n"
    "  -v, --version  show the version (then go on if there is more to do)\n"
    "With no script, the REPL starts (or, if standard input is not a terminal,\n"
    "what it reads runs as a script), unless --export is given without -i.\n"
    "At the REPL, LORE_HISTORY names the history file (default ~/.lore_history)\n"
    "and LORE_HISTSIZE the lines it keeps (default 1000; 0 keeps none).\n";

static void stop_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    /* no position: where Ctrl-C happened to land says nothing useful */
    lua_pushliteral(L, "interrupted");
    lua_error(L);
}

static void on_sigint(int sig)
{
    signal(sig, SIG_DFL); /* a second Ctrl-C ends the program */
    if (interrupt_flag)
        *interrupt_flag = 1;
    if (interrupted_L)
        lua_sethook(interrupted_L, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

/* Message handler: adds a traceback to errors that are not plain strings
 * produced by error() with a position... (lua.c) */
static int msghandler(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

static int docall(lua_State *L, int narg, int nres)
{
    int base = lua_gettop(L) - narg;
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    interrupted_L = L;
    interrupt_flag = lualore_interrupt_flag(L);
    *interrupt_flag = 0; /* an interrupt of an earlier command is spent */
    struct sigaction sa, before;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &before);
    int status = lua_pcall(L, narg, nres, base);
    sigaction(SIGINT, &before, NULL); /* the REPL's, or the default */
    interrupted_L = NULL;
    lua_remove(L, base);
    return status;
}

/* Prints an error: the first line of the message (file:line: message),
 * then the traceback only when LORE_TRACEBACK is set. */
static void report(lua_State *L, int status)
{
    if (status == LUA_OK)
        return;
    const char *msg = lua_tostring(L, -1);
    if (!msg)
        msg = "(error object is not a string)";
    const char *tb = strstr(msg, "\nstack traceback:");
    if (tb && !getenv("LORE_TRACEBACK"))
        fprintf(stderr, "%s: %.*s\n", PROGNAME, (int)(tb - msg), msg);
    else
        fprintf(stderr, "%s: %s\n", PROGNAME, msg);
    fflush(stderr);
    lua_pop(L, 1);
}

/* Under an empty result the REPL says why it may be empty (search.lua's
 * hints on the line typed: unknown names, strings where texts are). */
static void print_hints(lua_State *L, const char *line)
{
    lua_getfield(L, LUA_REGISTRYINDEX, "lore.internal");
    lua_getfield(L, -1, "repl_hint");
    lua_remove(L, -2);
    if (!lua_isfunction(L, -1) || lua_getglobal(L, "kb") == LUA_TNIL) {
        lua_pop(L, 2);
        return;
    }
    lua_pushstring(L, line);
    if (lua_pcall(L, 2, 1, 0) == LUA_OK && lua_isstring(L, -1) && *lua_tostring(L, -1))
        printf("%s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
}

static int empty_result(const char *s)
{
    size_t n = strlen(s);
    return strcmp(s, "(no facts)") == 0 || (n >= 10 && strcmp(s + n - 10, "\n(no rows)") == 0) ||
           strcmp(s, "(no matches)") == 0;
}

/* Prints the values on the stack above `base` through lore.pretty; under
 * an empty result, the hints for `line` (may be NULL). */
static void print_results(lua_State *L, int base, const char *line)
{
    int n = lua_gettop(L) - base;
    if (n <= 0)
        return;
    lua_getglobal(L, "lore");
    lua_getfield(L, -1, "pretty");
    lua_remove(L, -2);
    lua_insert(L, base + 1);
    if (docall(L, n, 1) != LUA_OK) {
        report(L, LUA_ERRRUN);
        return;
    }
    const char *s = lua_tostring(L, -1);
    if (s && *s)
        printf("%s\n", s);
    if (s && line && empty_result(s))
        print_hints(L, line);
    fflush(stdout);
    lua_pop(L, 1);
}

/* ---- the knowledge base the session starts with ---- */

/* The progress bar of a load on a terminal: drawn on stderr once a load
 * has taken more than a second, at most ten times a second. */
/* Progress is drawn after progress_after seconds (LORE_PROGRESS_AFTER at
 * the REPL); repl_bar_drawn: a line to clear once the command is done. */
static int repl_bar_drawn;
static double progress_after = 1.0;

typedef struct bar {
    double start, last;
    int drawn;
    const char *name;
} bar;

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* progress(bytes, total, facts): the callback kb:load calls */
static int draw_bar(lua_State *L)
{
    bar *b = lua_touserdata(L, lua_upvalueindex(1));
    double bytes = (double)luaL_checkinteger(L, 1), total = (double)luaL_checkinteger(L, 2);
    double facts = (double)luaL_checkinteger(L, 3);
    double t = now_seconds() - b->start;
    if (t < progress_after || (b->last >= 0 && t - b->last < 0.1))
        return 0;
    b->last = t;
    b->drawn = 1;
    repl_bar_drawn = 1;
    char cells[21];
    int pct = total > 0 ? (int)(bytes * 100 / total) : 0;
    for (int i = 0; i < 20; i++)
        cells[i] = i < pct / 5 ? '#' : ' ';
    cells[20] = '\0';
    fprintf(stderr, "\r%.30s [%s] %3d%%  %.1f/%.1f MB  %.2f M facts/s\033[K", b->name, cells, pct,
            bytes / 1e6, total / 1e6, facts / t / 1e6);
    fflush(stderr);
    return 0;
}

/* At the REPL on a terminal, kb:load and kb:infer draw their progress
 * (after LORE_PROGRESS_AFTER seconds, default 1); the line is cleared once
 * the command is done. */

/* lore.internal.load_progress(path) -> a progress function for kb:load */
static int load_progress(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    bar *b = lua_newuserdatauv(L, sizeof *b, 0);
    b->start = now_seconds(), b->last = -1, b->drawn = 0;
    const char *slash = strrchr(path, '/');
    b->name = slash ? slash + 1 : path;
    lua_pushvalue(L, 1); /* the name's string lives as long as the closure */
    lua_pushcclosure(L, draw_bar, 2);
    return 1;
}

/* lore.internal.infer_progress(rounds, derived), for kb:infer */
static int infer_progress(lua_State *L)
{
    static double start, last;
    lua_Integer rounds = luaL_checkinteger(L, 1), derived = luaL_checkinteger(L, 2);
    double now = now_seconds();
    if (rounds <= 1 || start == 0)
        start = now, last = -1;
    if (now - start < progress_after || (last >= 0 && now - last < 0.1))
        return 0;
    last = now;
    repl_bar_drawn = 1;
    fprintf(stderr, "\rinfer: round %lld, %lld facts derived\033[K", (long long)rounds,
            (long long)derived);
    fflush(stderr);
    return 0;
}

/* The end of a call to a kb method that returns a value or nil and a
 * message (docall's status, 2 results): reports an error or the message
 * and pops the results; 1 on success. */
static int checked(lua_State *L, int status)
{
    if (status != LUA_OK) {
        report(L, LUA_ERRRUN);
        return 0;
    }
    if (lua_isnil(L, -2)) {
        fprintf(stderr, "%s: %s\n", PROGNAME, lua_tostring(L, -1));
        lua_pop(L, 2);
        return 0;
    }
    lua_pop(L, 2);
    return 1;
}

/* Loads file into the kb on top of the stack; 1 on success. */
static int load_file(lua_State *L, const char *file, const char *format)
{
    int tty = isatty(STDERR_FILENO);
    lua_getfield(L, -1, "load");
    lua_pushvalue(L, -2);
    lua_pushstring(L, file);
    lua_createtable(L, 0, 2);
    if (format) {
        lua_pushstring(L, format);
        lua_setfield(L, -2, "format");
    }
    bar *b = NULL;
    if (tty) {
        b = lua_newuserdatauv(L, sizeof *b, 0);
        b->start = now_seconds(), b->last = 0, b->drawn = 0;
        const char *slash = strrchr(file, '/');
        b->name = slash ? slash + 1 : file;
        lua_pushcclosure(L, draw_bar, 1);
        lua_setfield(L, -2, "progress");
    }
    int status = docall(L, 3, 2);
    if (b && b->drawn) { /* the closure keeps b alive until collected */
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    return checked(L, status);
}

/* Makes the global kb: empty, from -k files, or the shipped knowledge. */
static int make_kb(lua_State *L, int empty, char **files, char **formats, int nfiles)
{
    lua_getglobal(L, "lore");
    if (nfiles == 0 && !empty) {
        lua_getfield(L, -1, "shipped");
        if (docall(L, 0, 1) != LUA_OK) {
            report(L, LUA_ERRRUN);
            lua_pop(L, 1);
            return 0;
        }
    } else {
        lua_getfield(L, -1, "new");
        lua_call(L, 0, 1);
        for (int i = 0; i < nfiles; i++) {
            if (!load_file(L, files[i], formats[i])) {
                lua_pop(L, 2);
                return 0;
            }
        }
    }
    lua_setglobal(L, "kb");
    lua_pop(L, 1);
    return 1;
}

/* Writes the global kb to each --export file ("-": standard output, in
 * the --format given before it, else N-Triples); 1 on success. */
static int export_kb(lua_State *L, char **files, char **formats, int n)
{
    for (int i = 0; i < n; i++) {
        if (lua_getglobal(L, "kb") == LUA_TNIL) {
            fprintf(stderr, "%s: --export: no knowledge base (global kb is nil)\n", PROGNAME);
            return 0;
        }
        lua_getfield(L, -1, "export");
        lua_insert(L, -2);
        lua_pushstring(L, files[i]);
        lua_createtable(L, 0, 1);
        if (formats[i]) {
            lua_pushstring(L, formats[i]);
            lua_setfield(L, -2, "format");
        }
        if (!checked(L, docall(L, 3, 2)))
            return 0;
        fflush(stdout);
    }
    return 1;
}

/* -q: the query's rows on standard output, as a table or in o->outfmt */
static int run_query(lua_State *L, const char *text, const char *fmt)
{
    lua_getfield(L, LUA_REGISTRYINDEX, "lore.internal");
    lua_getfield(L, -1, "cli_query");
    lua_remove(L, -2);
    lua_getglobal(L, "kb");
    lua_pushstring(L, text);
    if (fmt)
        lua_pushstring(L, fmt);
    else
        lua_pushnil(L);
    int status = docall(L, 3, 0);
    report(L, status);
    fflush(stdout);
    return status == LUA_OK;
}

/* ---- scripts ---- */

static int run_chunk(lua_State *L, int status)
{
    if (status == LUA_OK)
        status = docall(L, 0, 0);
    report(L, status);
    return status == LUA_OK;
}

static int run_string(lua_State *L, const char *code)
{
    return run_chunk(L, luaL_loadbuffer(L, code, strlen(code), "=(command line)"));
}

/* -l: `name` is require(name) into global name; `g=name` into global g
 * (lua.c) */
static int require_global(lua_State *L, const char *spec)
{
    const char *eq = strchr(spec, '=');
    const char *mod = eq ? eq + 1 : spec;
    lua_getglobal(L, "require");
    lua_pushstring(L, mod);
    int status = docall(L, 1, 1);
    if (status == LUA_OK) {
        if (eq)
            lua_pushlstring(L, spec, (size_t)(eq - spec));
        else
            lua_pushstring(L, mod);
        lua_insert(L, -2);
        lua_setglobal(L, lua_tostring(L, -2));
        lua_pop(L, 1);
    }
    report(L, status);
    return status == LUA_OK;
}

/* Runs a script file (NULL: stdin) with `arg` already set. */
static int run_script(lua_State *L, const char *file, int nargs)
{
    int status = luaL_loadfile(L, file);
    if (status == LUA_OK) {
        lua_getglobal(L, "arg");
        for (int i = 1; i <= nargs; i++)
            lua_rawgeti(L, -i, i);
        lua_remove(L, -(nargs + 1));
        status = docall(L, nargs, 0);
    }
    report(L, status);
    return status == LUA_OK;
}

/* The arg table of lua.c: arg[0] the script, arg[1..] its arguments,
 * negative indexes the interpreter and its options. */
static void make_arg(lua_State *L, char **argv, int argc, int script)
{
    lua_createtable(L, argc - script - 1, script + 1);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - script);
    }
    lua_setglobal(L, "arg");
}

/* ---- the REPL ---- */

static int incomplete(lua_State *L, int status)
{
    if (status != LUA_ERRSYNTAX)
        return 0;
    size_t n;
    const char *msg = lua_tolstring(L, -1, &n);
    const char eof[] = "<eof>";
    if (n >= sizeof eof - 1 && strcmp(msg + n - (sizeof eof - 1), eof) == 0) {
        lua_pop(L, 1);
        return 1;
    }
    return 0;
}

/* ---- reading lines ---- */

/* At the prompt, Ctrl-C only sets this flag: the wait for a key ends
 * (pselect returns EINTR) and the line is dropped, as in sqlite3 and
 * python.  libedit's readline() cannot be left that way, hence its
 * callback interface. */
static volatile sig_atomic_t prompt_interrupted;
static char *tty_line;
static int tty_done;

static void on_prompt_sigint(int sig)
{
    (void)sig;
    prompt_interrupted = 1;
}

static void take_line(char *line)
{
    tty_line = line;
    tty_done = 1;
    rl_callback_handler_remove(); /* so the prompt is not drawn again */
}

enum { LINE_OK, LINE_EOF, LINE_INTERRUPTED };

/* Reads a line at the terminal through libedit's callback interface,
 * which lets a signal end the wait for a key. */
static int tty_read(const char *prompt, char **line)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_prompt_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    /* SIGINT waits outside pselect, so none falls between a look at the
     * flag and the wait */
    sigset_t block, unblocked;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &unblocked);
    sigdelset(&unblocked, SIGINT);
    prompt_interrupted = 0;
    tty_done = 0;
    tty_line = NULL;
    rl_callback_handler_install(prompt, take_line);
    int rc = LINE_OK;
    while (!tty_done) {
        fd_set in;
        FD_ZERO(&in);
        FD_SET(STDIN_FILENO, &in);
        int n = pselect(STDIN_FILENO + 1, &in, NULL, NULL, NULL, &unblocked);
        if (prompt_interrupted) {
            rc = LINE_INTERRUPTED;
            break;
        }
        if (n < 0 && errno != EINTR) {
            rc = LINE_EOF;
            break;
        }
        if (n > 0)
            rl_callback_read_char();
    }
    if (rc == LINE_INTERRUPTED) {
        rl_replace_line("", 0); /* the half-typed line goes */
        rl_callback_handler_remove();
        fputs("\n", stdout);
        fflush(stdout);
    }
    sigprocmask(SIG_UNBLOCK, &block, NULL); /* a late Ctrl-C lands on the flag */
    sigaction(SIGINT, &old, NULL);
    if (rc == LINE_OK && !tty_line)
        rc = LINE_EOF;
    *line = tty_line;
    return rc;
}

/* One line of input without its newline in *line (to free); LINE_EOF at
 * the end of input, LINE_INTERRUPTED on Ctrl-C at the terminal. */
static int read_line(int tty, const char *prompt, char **line)
{
    *line = NULL;
    if (tty)
        return tty_read(prompt, line);
    static char buf[1 << 16];
    if (!fgets(buf, sizeof buf, stdin))
        return LINE_EOF;
    size_t n = strlen(buf);
    if (n && buf[n - 1] == '\n')
        buf[--n] = '\0';
    *line = strdup(buf);
    return *line ? LINE_OK : LINE_EOF;
}

/* ---- history: kept in a file, appended after every line ---- */

static char history_file[4096];
static int history_size = 1000;

/* The file is LORE_HISTORY or ~/.lore_history, at most LORE_HISTSIZE
 * lines (0 keeps none). */
static void history_open(void)
{
    const char *size = getenv("LORE_HISTSIZE");
    if (size && *size) {
        char *end;
        long n = strtol(size, &end, 10);
        if (*end == '\0' && n >= 0 && n <= 1000000)
            history_size = (int)n;
    }
    const char *file = getenv("LORE_HISTORY");
    const char *home = getenv("HOME");
    if (file && *file)
        snprintf(history_file, sizeof history_file, "%s", file);
    else
        snprintf(history_file, sizeof history_file, "%s/%s", home ? home : ".", HISTORY_FILE);
    using_history();
    stifle_history(history_size);
    if (history_size > 0)
        read_history(history_file);
}

/* The file is libedit's (read_history reads it): a first line
 * "_HiStOrY_V2_", then a line per entry in vis(3) form.  Every byte but
 * printable ASCII is written as a 3-digit octal escape, which unvis reads
 * back whatever flags it was given. */
static const char history_cookie[] = "_HiStOrY_V2_\n";

static void put_entry(FILE *f, const char *line)
{
    for (const unsigned char *c = (const unsigned char *)line; *c; c++) {
        if (*c == '\\')
            fputs("\\\\", f);
        else if (*c > ' ' && *c < 127)
            fputc(*c, f);
        else
            fprintf(f, "\\%03o", *c);
    }
    fputc('\n', f);
}

/* Keeps the last history_size entries of the file open as f (locked),
 * through a copy renamed over it. */
static void cut_history(FILE *f)
{
    char *text = NULL;
    size_t cap = 0, len = 0, lines = 0;
    int c;
    rewind(f);
    while ((c = getc(f)) != EOF) {
        if (len + 1 >= cap) {
            char *more = realloc(text, cap = cap ? 2 * cap : 4096);
            if (!more) {
                free(text);
                return;
            }
            text = more;
        }
        text[len++] = (char)c;
        lines += c == '\n';
    }
    size_t skip = strncmp(text ? text : "", history_cookie, sizeof history_cookie - 1) == 0;
    if (lines - skip > (size_t)history_size) {
        size_t drop = lines - (size_t)history_size, at = 0;
        for (size_t n = 0; n < drop; at++)
            n += text[at] == '\n';
        char tmp[sizeof history_file + 16];
        snprintf(tmp, sizeof tmp, "%s.%ld", history_file, (long)getpid());
        FILE *out = fopen(tmp, "w");
        if (out) {
            fputs(history_cookie, out);
            fwrite(text + at, 1, len - at, out);
            if (fclose(out) == 0)
                rename(tmp, history_file);
            else
                remove(tmp);
        }
    }
    free(text);
}

/* Opens the history file for appending, locked against other sessions
 * (again if one of them replaced it meanwhile); NULL on failure. */
static FILE *lock_history(void)
{
    for (int tries = 0; tries < 10; tries++) {
        FILE *f = fopen(history_file, "a+");
        if (!f)
            return NULL;
        struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        struct stat open_st, path_st;
        if (fcntl(fileno(f), F_SETLKW, &lk) == 0 && fstat(fileno(f), &open_st) == 0 &&
            stat(history_file, &path_st) == 0 && open_st.st_ino == path_st.st_ino &&
            open_st.st_dev == path_st.st_dev)
            return f;
        fclose(f);
    }
    return NULL;
}

/* Adds a line to the history, and to the end of its file at once, then
 * cuts the file to its size: sessions side by side each add their own
 * lines (under a lock), and a session killed loses nothing it was given. */
static void history_keep(const char *line)
{
    if (!line[0] || history_size == 0)
        return;
    add_history(line);
    FILE *f = lock_history();
    if (!f)
        return;
    fseek(f, 0, SEEK_END);
    if (ftell(f) == 0)
        fputs(history_cookie, f);
    put_entry(f, line);
    fflush(f);
    cut_history(f);
    fclose(f); /* the lock goes with it */
}

/* Compiles a line, trying "return line" first so expressions print
 * ("=expr" is "return expr", lua.c's old habit); reads continuation lines
 * while the chunk is incomplete (lua.c).  LINE_INTERRUPTED when Ctrl-C
 * drops a statement of several lines (nothing is pushed then). */
static int load_input(lua_State *L, int tty, char *first, int *status)
{
    const char *retline = first[0] == '=' ? lua_pushfstring(L, "return %s;", first + 1)
                                          : lua_pushfstring(L, "return %s;", first);
    *status = luaL_loadbuffer(L, retline, strlen(retline), "=stdin");
    if (*status == LUA_OK) {
        lua_remove(L, -2);
        if (tty)
            history_keep(first);
        free(first);
        return LINE_OK;
    }
    lua_pop(L, 2);
    if (first[0] == '=')
        lua_pushfstring(L, "return %s", first + 1);
    else
        lua_pushstring(L, first);
    free(first);
    for (;;) {
        size_t n;
        const char *code = lua_tolstring(L, -1, &n);
        *status = luaL_loadbuffer(L, code, n, "=stdin");
        if (!incomplete(L, *status))
            break;
        char *more;
        int rc = read_line(tty, PROMPT2, &more);
        if (rc == LINE_INTERRUPTED) {
            if (tty)
                history_keep(code); /* what was typed is not lost */
            lua_pop(L, 1);
            return rc;
        }
        if (rc == LINE_EOF) { /* input ended inside a statement: report it */
            *status = luaL_loadbuffer(L, code, n, "=stdin");
            break;
        }
        lua_pushliteral(L, "\n");
        lua_pushstring(L, more);
        free(more);
        lua_concat(L, 3);
    }
    if (tty)
        history_keep(lua_tostring(L, -2));
    lua_remove(L, -2); /* the source text */
    return LINE_OK;
}

static const char leave_hint[] =
    "(Ctrl-C drops the line; to leave, press Ctrl-D or type os.exit())";

static void repl(lua_State *L)
{
    int tty = isatty(STDIN_FILENO);

    if (tty) {
        /* between commands too, Ctrl-C must not end the session */
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_prompt_sigint;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        history_open();
        complete_init(L);
        const char *after = getenv("LORE_PROGRESS_AFTER");
        if (after && *after)
            progress_after = atof(after);
        lua_getfield(L, LUA_REGISTRYINDEX, "lore.internal");
        if (lua_istable(L, -1)) {
            lua_pushcfunction(L, load_progress);
            lua_setfield(L, -2, "load_progress");
            lua_pushcfunction(L, infer_progress);
            lua_setfield(L, -2, "infer_progress");
        }
        lua_pop(L, 1);
        printf("lore %s  (kb: %s; type help() for a tour, Ctrl-D to leave)\n", LORE_VERSION,
               lua_getglobal(L, "kb") != LUA_TNIL ? luaL_tolstring(L, -1, NULL) : "none");
        lua_settop(L, 0);
    }
    for (;;) {
        char *line;
        int rc = read_line(tty, PROMPT, &line);
        if (rc == LINE_EOF)
            break;
        int base = lua_gettop(L), status = LUA_OK;
        char typed[1024] = ""; /* the first line, for the hints under an empty result */
        if (line)
            snprintf(typed, sizeof typed, "%s", line);
        if (rc == LINE_OK)
            rc = load_input(L, tty, line, &status);
        if (rc == LINE_INTERRUPTED) {
            puts(leave_hint);
            fflush(stdout);
            continue;
        }
        if (status == LUA_OK)
            status = docall(L, 0, LUA_MULTRET);
        if (repl_bar_drawn) { /* a progress line goes before what the command printed */
            fputs("\r\033[K", stderr);
            fflush(stderr);
            repl_bar_drawn = 0;
        }
        if (status == LUA_OK)
            print_results(L, base, typed);
        else
            report(L, status);
        lua_settop(L, base);
    }
    if (tty)
        printf("\n");
}

/* ---- main ---- */

static int panic(lua_State *L)
{
    fprintf(stderr, "%s: unprotected error: %s\n", PROGNAME, lua_tostring(L, -1));
    return 0; /* abort: Lua's contract for a panic handler that returns */
}

typedef struct opts {
    int interactive, empty, stdin_script, script, version, help;
    char **exec;    /* -e codes and -l modules, in order */
    char *execkind; /* 'e' or 'l' for each */
    int nexec;
    char **kfiles, **kformats; /* -k files and the --format before each */
    int nk;
    char **exports; /* --export files */
    char **exportfmts; /* the --format before each, or NULL */
    int nexport;
    const char *outfmt; /* -q's output: NULL (a table), "json", "csv" or "tsv" */
} opts;

static int usage(const char *msg, const char *arg)
{
    fprintf(stderr, "%s: %s%s%s\n%s", PROGNAME, msg, arg ? " " : "", arg ? arg : "", usage_text);
    return 2;
}

/* Parses options; returns 0 or an exit status. */
static int parse_args(int argc, char **argv, opts *o)
{
    int i;
    char *format = NULL;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || strcmp(a, "-") == 0)
            break;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(a, "-i") == 0) {
            o->interactive = 1;
        } else if (strcmp(a, "--empty") == 0) {
            o->empty = 1;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            o->help = 1;
        } else if (strcmp(a, "--version") == 0 || strcmp(a, "-v") == 0) {
            o->version = 1;
        } else if (strcmp(a, "--json") == 0 || strcmp(a, "--csv") == 0 || strcmp(a, "--tsv") == 0) {
            o->outfmt = a + 2;
        } else if (strcmp(a, "-e") == 0 || strcmp(a, "-l") == 0 || strcmp(a, "-k") == 0 ||
                   strcmp(a, "-q") == 0 || strcmp(a, "--format") == 0 ||
                   strcmp(a, "--export") == 0) {
            if (i + 1 >= argc)
                return usage("option needs an argument:", a);
            if (a[1] == 'e' || a[1] == 'l' || a[1] == 'q') {
                o->execkind[o->nexec] = a[1];
                o->exec[o->nexec++] = argv[++i];
            } else if (a[1] == 'k') {
                o->kformats[o->nk] = format;
                o->kfiles[o->nk++] = argv[++i];
            } else if (a[2] == 'f') {
                format = argv[++i];
            } else {
                o->exportfmts[o->nexport] = format;
                o->exports[o->nexport++] = argv[++i];
            }
        } else {
            return usage("unknown option:", a);
        }
    }
    if (i < argc) {
        o->script = i;
        o->stdin_script = strcmp(argv[i], "-") == 0;
    }
    return 0;
}

typedef struct pmain_args {
    int argc;
    char **argv;
    opts *o;
    int ok;
} pmain_args;

static int pmain(lua_State *L)
{
    pmain_args *a = lua_touserdata(L, 1);
    opts *o = a->o;
    a->ok = 0;
    luaL_openlibs(L);
    luaL_requiref(L, "lore", luaopen_lore, 1); /* require "lore" gives the same table */
    lua_pop(L, 1);
    make_arg(L, a->argv, a->argc, o->script ? o->script : 0);
    if (!make_kb(L, o->empty, o->kfiles, o->kformats, o->nk))
        return 0;
    lua_getglobal(L, "lore"); /* help() at the REPL */
    lua_getfield(L, -1, "help");
    lua_setglobal(L, "help");
    /* view(x [, opts]): kb:dot(x) drawn by Graphviz (search.lua) */
    luaL_dostring(L, "local v = debug.getregistry()['lore.internal'].view\n"
                     "view = function(x, o) return v(kb, x, o) end\n"
                     "describe = function(x, o) print(kb:describe(x, o)) end");
    lua_pop(L, 1);
    for (int i = 0; i < o->nexec; i++)
        if (!(o->execkind[i] == 'e'   ? run_string(L, o->exec[i])
              : o->execkind[i] == 'q' ? run_query(L, o->exec[i], o->outfmt)
                                      : require_global(L, o->exec[i])))
            return 0;
    if (o->script) {
        int nargs = a->argc - o->script - 1;
        if (!run_script(L, o->stdin_script ? NULL : a->argv[o->script], nargs))
            return 0;
    }
    if (!o->interactive && o->nexport > 0) {
        a->ok = export_kb(L, o->exports, o->exportfmts, o->nexport);
        return 0;
    }
    if (o->interactive || (!o->script && o->nexec == 0)) {
        if (!o->interactive && !isatty(STDIN_FILENO)) {
            if (!run_script(L, NULL, 0))
                return 0;
        } else {
            repl(L);
        }
    }
    a->ok = o->nexport ? export_kb(L, o->exports, o->exportfmts, o->nexport) : 1;
    return 0;
}

int main(int argc, char **argv)
{
    char *execs[64], execkinds[64], *kfiles[64], *kformats[64], *exports[64], *exportfmts[64];
    opts o = {0, 0, 0, 0, 0, 0, execs, execkinds, 0, kfiles, kformats, 0, exports, exportfmts, 0, NULL};
    if (argc > 64)
        return usage("too many arguments", NULL);
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc;
    if (o.help) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (o.version) { /* lua.c: alone, -v only prints the version */
        printf("lore %s (%s)\n", LORE_VERSION, LUA_VERSION);
        fflush(stdout);
        if (!o.interactive && !o.script && o.nexec == 0 && o.nexport == 0)
            return 0;
    }
    /* Lua and the knowledge bases share lore's allocator (lore.new takes
     * the state's), which returns large freed blocks to the system. */
    lua_State *L = lua_newstate(lore_alloc_default, NULL);
    if (L)
        lua_atpanic(L, panic);
    if (!L) {
        fprintf(stderr, "%s: cannot create a Lua state: out of memory\n", PROGNAME);
        return 1;
    }
    pmain_args a = {argc, argv, &o, 0};
    lua_pushcfunction(L, pmain);
    lua_pushlightuserdata(L, &a);
    int status = lua_pcall(L, 1, 0, 0);
    if (status != LUA_OK) {
        fprintf(stderr, "%s: %s\n", PROGNAME, lua_tostring(L, -1));
        a.ok = 0;
    }
    lua_close(L);
    return a.ok ? 0 : 1;
}
