/* events_bench.c - lore as a rules host on an event stream (bench/events.sh):
 * the W2 forest with the ancestor rules, then each event (a new parent
 * edge) added with lore_add and lore_infer called at once, every new
 * derived fact received through a trigger.  Prints events/s, the
 * per-event latency's median and 99th percentile (add + infer), and the
 * facts the trigger received.
 *   events_bench FOREST.nt EVENTS.txt */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_NAME "events_bench"
#include "bench.h"


static int heard(void *ud, lore_kb *kb, const lore_id f[3], int event)
{
    (void)kb, (void)f, (void)event;
    ++*(unsigned long long *)ud;
    return LORE_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: events_bench FOREST.nt EVENTS.txt\n");
        return 2;
    }
    lore_kb *kb;
    if (lore_kb_new(&kb, NULL, NULL) != LORE_OK || lore_import(kb, argv[1], NULL, NULL) != LORE_OK)
        die(kb, argv[1]);
    const char *r1 = "?a anc ?b :- ?a <http://example.org/parent> ?b";
    const char *r2 = "?a anc ?c :- ?a <http://example.org/parent> ?b, ?b anc ?c";
    if (lore_rule_add(kb, r1, strlen(r1), NULL, NULL) != LORE_OK ||
        lore_rule_add(kb, r2, strlen(r2), NULL, NULL) != LORE_OK)
        die(kb, "rules");
    unsigned long long got = 0;
    lore_id anc = sym(kb, "anc"), parent = sym(kb, "<http://example.org/parent>");
    if (lore_on(kb, 0, anc, 0, LORE_ON_ADDED, heard, &got, NULL) != LORE_OK)
        die(kb, "trigger");
    if (lore_infer(kb, NULL) != LORE_OK)
        die(kb, "infer");
    unsigned long long initial = got;
    FILE *f = fopen(argv[2], "r");
    if (!f)
        die(NULL, argv[2]);
    size_t cap = 1 << 17, n = 0;
    double *lat = malloc(cap * sizeof *lat);
    char a[64], b[64], ia[96], ib[96];
    double t0 = now();
    while (fscanf(f, "%63s %63s", a, b) == 2) {
        snprintf(ia, sizeof ia, "<http://example.org/%s>", a);
        snprintf(ib, sizeof ib, "<http://example.org/%s>", b);
        double s = now();
        if (lore_add(kb, sym(kb, ia), parent, sym(kb, ib), 0) < 0 || lore_infer(kb, NULL) != LORE_OK)
            die(kb, "event");
        if (n == cap)
            lat = realloc(lat, (cap *= 2) * sizeof *lat);
        lat[n++] = now() - s;
    }
    double total = now() - t0;
    fclose(f);
    qsort(lat, n, sizeof *lat, cmp_double);
    printf("lore events %zu seconds %.4f events/s %.0f p50_us %.2f p99_us %.2f heard %llu\n", n, total,
           (double)n / total, lat[n / 2] * 1e6, lat[(size_t)((double)n * 0.99)] * 1e6, got - initial);
    free(lat);
    lore_kb_free(kb);
    return 0;
}
