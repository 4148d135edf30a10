/* snapshot_bench.c - times loading an N-Triples file through the batch API,
 * saving it as a snapshot, and opening the snapshot again (benchmark, not
 * a test).  The N-Triples reader here is a plain line splitter for the
 * generated benchmark files, not lore's RDF support: IRIs and blank nodes
 * become symbols, literals texts (with their language tag; datatypes are
 * kept in the text), escapes are left as they are.
 *
 * usage: snapshot_bench FILE.nt OUT.lore [RUNS]
 * prints one line per measurement: "<what> <median seconds> <detail>". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lore.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void die(const char *what, lore_kb *kb)
{
    fprintf(stderr, "snapshot_bench: %s: %s\n", what, kb ? lore_errmsg(kb) : "");
    exit(1);
}

/* Reads one term starting at *p; returns 0 at a malformed line. */
static int read_term(char **p, lore_value *v)
{
    char *s = *p;
    while (*s == ' ' || *s == '\t')
        s++;
    memset(v, 0, sizeof *v);
    if (*s == '<') {
        char *e = strchr(s, '>');
        if (!e)
            return 0;
        v->kind = LORE_SYMBOL, v->str = s + 1, v->len = (size_t)(e - s - 1);
        *p = e + 1;
        return 1;
    }
    if (s[0] == '_' && s[1] == ':') {
        char *e = s;
        while (*e && *e != ' ' && *e != '\t')
            e++;
        v->kind = LORE_SYMBOL, v->str = s, v->len = (size_t)(e - s);
        *p = e;
        return 1;
    }
    if (*s == '"') {
        char *e = s + 1;
        while (*e && !(*e == '"' && e[-1] != '\\'))
            e++;
        if (!*e)
            return 0;
        v->kind = LORE_TEXT, v->str = s + 1, v->len = (size_t)(e - s - 1);
        e++;
        if (*e == '@') {
            char *l = ++e;
            while (*e && *e != ' ' && *e != '\t')
                e++;
            v->lang = l, v->langlen = (size_t)(e - l);
        } else if (e[0] == '^' && e[1] == '^') {
            char *d = strchr(e, '>');
            if (!d)
                return 0;
            v->len = (size_t)(d + 1 - (s + 1)); /* keep the datatype in the text */
            e = d + 1;
        }
        *p = e;
        return 1;
    }
    return 0;
}

static lore_kb *load_nt(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    lore_kb *kb;
    lore_batch *b;
    if (lore_kb_new(&kb, NULL, NULL) != LORE_OK || lore_batch_new(kb, &b) != LORE_OK)
        die("new", NULL);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        char *p = line;
        lore_value v[3];
        lore_id id[3];
        if (line[0] == '#' || line[0] == '\n')
            continue;
        for (int i = 0; i < 3; i++) {
            if (!read_term(&p, &v[i]))
                die("malformed line", NULL);
            if (lore_batch_intern(b, &v[i], &id[i]) != LORE_OK)
                die("intern", kb);
        }
        if (lore_batch_add(b, id[0], id[1], id[2], 0) != LORE_OK)
            die("add", kb);
    }
    free(line);
    fclose(f);
    if (lore_batch_commit(b, NULL) != LORE_OK)
        die("commit", kb);
    return kb;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: snapshot_bench FILE.nt OUT.lore [RUNS]\n");
        return 2;
    }
    const char *nt = argv[1], *out = argv[2];
    int runs = argc > 3 ? atoi(argv[3]) : 3;
    if (runs < 1 || runs > 50)
        runs = 3;
    double tl[50], ts[50], to[50];
    size_t facts = 0, terms = 0;
    lore_kb *kb = NULL;
    for (int r = 0; r < runs; r++) {
        lore_kb_free(kb);
        double t0 = now();
        kb = load_nt(nt);
        tl[r] = now() - t0;
    }
    facts = lore_size(kb), terms = lore_term_count(kb);
    for (int r = 0; r < runs; r++) {
        double t0 = now();
        if (lore_save(kb, out) != LORE_OK)
            die("save", kb);
        ts[r] = now() - t0;
    }
    lore_kb_free(kb);
    for (int r = 0; r < runs; r++) {
        lore_kb *k2;
        if (lore_kb_new(&k2, NULL, NULL) != LORE_OK)
            die("new", NULL);
        double t0 = now();
        if (lore_open(k2, out, NULL) != LORE_OK)
            die("open", k2);
        to[r] = now() - t0;
        if (lore_size(k2) != facts || lore_term_count(k2) != terms)
            die("the snapshot does not hold what was saved", NULL);
        lore_kb_free(k2);
    }
    struct stat sb;
    stat(out, &sb);
    double ml = median(tl, runs), ms = median(ts, runs), mo = median(to, runs);
    printf("facts %zu terms %zu snapshot_bytes %lld bytes_per_fact %.1f runs %d\n", facts, terms,
           (long long)sb.st_size, (double)sb.st_size / (double)(facts ? facts : 1), runs);
    printf("load_nt %.3f %.2f Mfacts/s\n", ml, (double)facts / ml / 1e6);
    printf("save %.3f %.2f Mfacts/s\n", ms, (double)facts / ms / 1e6);
    printf("open %.3f %.2f Mfacts/s\n", mo, (double)facts / mo / 1e6);
    printf("speedup %.1f open vs load_nt\n", ml / mo);
    return 0;
}
