/* host.c - a rules host on lore.h alone: loads a user's rule file, streams
 * events in one fact at a time, reacts to what the rules derive, answers a
 * query and explains one answer.
 *
 *   usage: host RULES EVENTS   (EVENTS: one "subject predicate object" a line)
 */
#include <lore.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints the failed call's message and leaves; the kb is freed by the OS. */
static void check(lore_kb *kb, int rc, const char *what)
{
    if (rc < 0) {
        fprintf(stderr, "host: %s: %s (%s)\n", what, kb ? lore_errmsg(kb) : "", lore_strerror(rc));
        exit(1);
    }
}

static lore_id sym(lore_kb *kb, const char *name)
{
    lore_value v = lore_symbol(name);
    lore_id id;
    check(kb, lore_intern(kb, &v, &id), name);
    return id;
}

/* A term's text (symbols only in this example). */
static const char *name_of(lore_kb *kb, lore_id id)
{
    lore_value v;
    return lore_term(kb, id, &v) == LORE_OK && v.kind == LORE_SYMBOL ? v.str : "?";
}

/* The trigger: called by lore_infer once per new at_risk fact. */
static int on_risk(void *ud, lore_kb *kb, const lore_id f[3], int event)
{
    int *alerts = ud;
    (void)event;
    printf("  alert: %s is at risk: %s is down\n", name_of(kb, f[0]), name_of(kb, f[2]));
    ++*alerts;
    return 0;
}

/* Reads a whole file into a NUL-terminated buffer (the caller frees it). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    if (!buf) {
        fprintf(stderr, "host: out of memory\n");
        exit(1);
    }
    buf[n] = '\0';
    return buf;
}

/* Adds the rules of a .rules file: a rule starts at the beginning of a
 * line, indented lines continue it, '#' lines are comments.  (lore.h alone
 * has no reader of .rules files, so this host splits them itself and adds
 * each rule with lore_rule_add; host_lua.c reads them with lore_lua_load.) */
static void load_rules(lore_kb *kb, const char *path)
{
    char *text = slurp(path), *rule = NULL, *line = text;
    size_t count = 0;
    for (;;) {
        char *end = line + strcspn(line, "\n");
        int more = *end != '\0', starts = line < end && *line != ' ' && *line != '\t';
        if ((starts || !more) && rule) { /* the rule so far is complete */
            char *stop = starts ? line : end;
            check(kb, lore_rule_add(kb, rule, (size_t)(stop - rule), NULL, NULL), path);
            count++;
            rule = NULL;
        }
        if (starts && *line != '#')
            rule = line;
        if (!more)
            break;
        line = end + 1;
    }
    free(text);
    printf("%zu rules from %s\n", count, path);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: host RULES EVENTS\n");
        return 2;
    }
    lore_kb *kb;
    check(NULL, lore_kb_new(&kb, NULL, NULL), "lore_kb_new");
    load_rules(kb, argv[1]);

    int alerts = 0;
    check(kb, lore_on(kb, 0, sym(kb, "at_risk"), 0, LORE_ON_ADDED, on_risk, &alerts, NULL),
          "lore_on");

    /* the event stream: each fact is added with its own source, then the
     * rules catch up (incrementally) and the triggers fire */
    FILE *events = fopen(argv[2], "r");
    if (!events) {
        perror(argv[2]);
        return 1;
    }
    char s[128], p[128], o[128], src[32];
    int n = 0;
    while (fscanf(events, "%127s %127s %127s", s, p, o) == 3) {
        snprintf(src, sizeof src, "event:%d", ++n);
        printf("event %d: %s %s %s\n", n, s, p, o);
        check(kb, lore_add(kb, sym(kb, s), sym(kb, p), sym(kb, o), sym(kb, src)), "lore_add");
        check(kb, lore_infer(kb, NULL), "lore_infer");
    }
    fclose(events);
    printf("%d events, %d alerts, %zu facts (%zu derived)\n", n, alerts, lore_size(kb),
           lore_derived_count(kb));

    /* a query: what does web depend on, in order */
    const char *q = "web depends_on ?what . order by ?what";
    lore_query *query;
    check(kb, lore_query_parse(kb, q, strlen(q), &query), "lore_query_parse");
    printf("query: %s\n", q);
    int rc;
    while ((rc = lore_query_next(query)) == LORE_OK)
        printf("  %s\n", name_of(kb, lore_query_id(query, 0)));
    check(kb, rc, "lore_query_next");
    lore_query_free(query);

    /* why is web at risk? the proof down to the events */
    lore_proof *proof;
    check(kb, lore_why(kb, sym(kb, "web"), sym(kb, "at_risk"), sym(kb, "disk"), &proof), "lore_why");
    printf("why web at_risk disk:\n%s\n", lore_proof_text(proof));
    lore_proof_free(proof);

    lore_kb_free(kb);
    return 0;
}
