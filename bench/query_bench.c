/* query_bench.c - lore's driver for the rig's query tasks (bench/README.md
 * of the shared rig, section 4): `join` (W3, the 3-pattern join, counted)
 * and `closure` (W2 as the path query ?a parent+ ?b, counted), plus
 * `join-worst` (W3 written in the worst order) and `version`.
 *
 *   query_bench TASK FILE.nt [REPEAT]
 *
 * Loads FILE with a minimal N-Triples line reader through the batch API
 * (the formats issue's loader replaces it once on main), then times the
 * query phase with its own clock.  Prints PHASE and RESULT lines.  REPEAT
 * (default 1) repeats the query phase and reports the median.  The query
 * phase counts the answers (lore_query_count); a second figure, PHASE
 * join_rows / closure_rows, steps through every row (lore_query_next). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lore.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(lore_kb *kb, const char *what)
{
    fprintf(stderr, "query_bench: %s: %s\n", what, kb ? lore_errmsg(kb) : "");
    exit(1);
}

/* One N-Triples term at *p: IRIs become symbols written <...>, blank nodes
 * symbols _:x, literals texts (integers for xsd:integer). */
static int read_term(lore_batch *b, char **p, lore_id *id)
{
    char *s = *p;
    while (*s == ' ' || *s == '\t')
        s++;
    lore_value v;
    char *end;
    if (*s == '<') {
        end = strchr(s, '>');
        if (!end)
            return -1;
        v = lore_symbol(NULL);
        v.str = s, v.len = (size_t)(end - s + 1);
        *p = end + 1;
    } else if (*s == '_' && s[1] == ':') {
        end = s;
        while (*end && *end != ' ' && *end != '\t')
            end++;
        v = lore_symbol(NULL);
        v.str = s, v.len = (size_t)(end - s);
        *p = end;
    } else if (*s == '"') {
        end = s + 1;
        while (*end && *end != '"') {
            if (*end == '\\' && end[1])
                end++;
            end++;
        }
        if (*end != '"')
            return -1;
        char *lex = s + 1;
        size_t n = (size_t)(end - lex);
        char *q = end + 1;
        if (strncmp(q, "^^<http://www.w3.org/2001/XMLSchema#integer>", 45) == 0) {
            char tmp[32];
            if (n >= sizeof tmp)
                return -1;
            memcpy(tmp, lex, n);
            tmp[n] = '\0';
            v = lore_integer(strtoll(tmp, NULL, 10));
            q += 45;
        } else {
            v = lore_text(NULL, NULL);
            v.str = lex, v.len = n;
            if (*q == '@') {
                char *l = q + 1;
                while (*q && *q != ' ')
                    q++;
                v.lang = l, v.langlen = (size_t)(q - l);
            } else if (*q == '^' && q[1] == '^') {
                char *t = strchr(q, '>');
                q = t ? t + 1 : q + 2;
            }
        }
        *p = q;
    } else {
        return -1;
    }
    return lore_batch_intern(b, &v, id) == LORE_OK ? 0 : -1;
}

static size_t load(lore_kb *kb, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    lore_batch *b;
    if (lore_batch_new(kb, &b) != LORE_OK)
        die(kb, "batch");
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        lineno++;
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == '\n' || *p == '\0')
            continue;
        lore_id t[3];
        for (int i = 0; i < 3; i++) {
            if (read_term(b, &p, &t[i]) != 0) {
                fprintf(stderr, "%s:%zu: cannot read this line\n", path, lineno);
                exit(1);
            }
        }
        if (lore_batch_add(b, t[0], t[1], t[2], 0) != LORE_OK)
            die(kb, "add");
    }
    free(line);
    fclose(f);
    size_t added;
    if (lore_batch_commit(b, &added) != LORE_OK)
        die(kb, "commit");
    return added;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define UB "<http://example.org/ub/"

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "version") == 0) {
        printf("lore %s\n", LORE_VERSION);
        return 0;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: query_bench join|join-worst|closure|plan FILE.nt [REPEAT]\n");
        return 2;
    }
    const char *task = argv[1];
    int repeat = argc > 3 ? atoi(argv[3]) : 1;
    if (repeat < 1)
        repeat = 1;
    const char *text;
    if (strcmp(task, "join") == 0 || strcmp(task, "plan") == 0)
        text = "?x " UB "memberOf> ?d . ?d " UB "subOrganizationOf> ?u . ?x " UB
               "undergraduateDegreeFrom> ?u";
    else if (strcmp(task, "join-worst") == 0)
        /* the first two patterns share nothing: a cross product if run as written */
        text = "?d " UB "subOrganizationOf> ?u . ?x " UB "undergraduateDegreeFrom> ?u . ?x " UB
               "memberOf> ?d";
    else if (strcmp(task, "closure") == 0)
        text = "?a <http://example.org/parent>+ ?b";
    else
        return 3;
    lore_kb *kb;
    if (lore_kb_new(&kb, NULL, NULL) != LORE_OK)
        return 1;
    double t0 = now();
    load(kb, argv[2]);
    printf("PHASE load %.4f\n", now() - t0);
    lore_query *q;
    if (lore_query_parse(kb, text, strlen(text), &q) != LORE_OK)
        die(kb, "query");
    if (strcmp(task, "plan") == 0) {
        const char *plan = lore_query_plan(q);
        printf("%s", plan ? plan : lore_errmsg(kb));
        return 0;
    }
    double *times = calloc((size_t)repeat, sizeof *times);
    uint64_t n = 0;
    for (int r = 0; r < repeat; r++) {
        double t1 = now();
        if (lore_query_count(q, &n) != LORE_OK)
            die(kb, "count");
        times[r] = now() - t1;
    }
    qsort(times, (size_t)repeat, sizeof *times, cmp_double);
    const char *phase = strncmp(task, "join", 4) == 0 ? "join" : "closure";
    printf("PHASE %s %.4f\n", phase, times[repeat / 2]);
    /* the same, stepping through every row (an extra figure) */
    for (int r = 0; r < repeat; r++) {
        double t1 = now();
        uint64_t k = 0;
        int rc;
        lore_query_reset(q);
        while ((rc = lore_query_next(q)) == LORE_OK)
            k++;
        if (rc != LORE_DONE || k != n)
            die(kb, "rows");
        times[r] = now() - t1;
    }
    qsort(times, (size_t)repeat, sizeof *times, cmp_double);
    printf("PHASE %s_rows %.4f\n", phase, times[repeat / 2]);
    printf("RESULT %llu\n", (unsigned long long)n);
    free(times);
    lore_query_free(q);
    lore_kb_free(kb);
    return 0;
}
