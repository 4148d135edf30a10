/* store_bench.c - the fact store from C: adding N distinct facts, matching
 * every pattern shape, counting, and memory per fact.
 * Usage: store_bench N [TERMS]   (prints one "key value" per line) */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lore.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Resident set size in bytes, from /proc. */
static long rss(void)
{
    long pages = 0, res = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &res) != 2)
            res = 0;
        fclose(f);
    }
    return res * 4096;
}

static long peak_rss(void)
{
    char line[256];
    long kb = 0;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kb = atol(line + 6);
    if (f)
        fclose(f);
    return kb * 1024;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)atof(argv[1]) : 1000000;
    uint32_t nterms = argc > 2 ? (uint32_t)atof(argv[2]) : 100000;
    uint32_t npred = 100; /* predicates: the first 100 terms */
    lore_kb *kb;
    if (lore_kb_new(&kb, NULL, NULL) != LORE_OK)
        return 1;
    long rss0 = rss();
    lore_id *ids = malloc((size_t)nterms * sizeof *ids);
    size_t strbytes = 0;
    char name[32];
    for (uint32_t i = 0; i < nterms; i++) {
        int len = snprintf(name, sizeof name, "e%u", i);
        lore_value v = lore_symbol(name);
        if (lore_intern(kb, &v, &ids[i]) != LORE_OK)
            return 1;
        strbytes += (size_t)len + 1;
    }
    long rss_terms = rss();
    /* the facts, drawn up front so that only adding is timed */
    lore_id *f = malloc(3 * n * sizeof *f);
    for (size_t i = 0; i < n; i++) {
        f[3 * i] = ids[rnd(nterms)];
        f[3 * i + 1] = ids[rnd(npred)];
        f[3 * i + 2] = ids[rnd(nterms)];
    }
    long rss_facts_in = rss();
    double t0 = now();
    size_t added = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = lore_add(kb, f[3 * i], f[3 * i + 1], f[3 * i + 2], 0);
        if (rc < 0) {
            fprintf(stderr, "add: %s\n", lore_errmsg(kb));
            return 1;
        }
        added += rc == LORE_OK;
    }
    double t_add = now() - t0;
    uint64_t c;
    t0 = now();
    lore_count(kb, 0, 0, 0, &c); /* the first read indexes what is pending */
    double t_first_read = now() - t0;
    long rss_store = rss() - (rss_facts_in - rss_terms);
    printf("facts %zu\n", added);
    printf("add_s %.4f\n", t_add);
    printf("add_per_s %.0f\n", (double)n / t_add);
    printf("first_read_s %.4f\n", t_first_read);
    printf("bytes_per_fact %.1f\n", (double)(rss_store - rss_terms) / (double)added);
    printf("term_string_bytes %zu\n", strbytes);
    printf("dict_bytes_beyond_strings_per_fact %.2f\n",
           (double)(rss_terms - rss0 - (long)strbytes) / (double)added);
    printf("peak_rss_bytes_per_fact %.1f\n", (double)(peak_rss() - rss0 - (long)(3 * n * sizeof *f)) / (double)added);

    /* the same facts through a batch, into a second knowledge base */
    {
        lore_kb *kb2;
        if (lore_kb_new(&kb2, NULL, NULL) != LORE_OK)
            return 1;
        lore_id *ids2 = malloc((size_t)nterms * sizeof *ids2);
        for (uint32_t i = 0; i < nterms; i++) {
            snprintf(name, sizeof name, "e%u", i);
            lore_value v = lore_symbol(name);
            lore_intern(kb2, &v, &ids2[i]);
        }
        t0 = now();
        lore_batch *b;
        if (lore_batch_new(kb2, &b) != LORE_OK)
            return 1;
        for (size_t i = 0; i < n; i++)
            lore_batch_add(b, f[3 * i], f[3 * i + 1], f[3 * i + 2], 0); /* same ids: same order */
        size_t badded;
        if (lore_batch_commit(b, &badded) != LORE_OK)
            return 1;
        double t_batch = now() - t0;
        printf("batch_add_per_s %.0f\n", (double)n / t_batch);
        free(ids2);
        lore_kb_free(kb2);
    }

    /* enumeration of every shape: random bound values taken from facts */
    static const char *shape[8] = {"???", "s??", "?p?", "sp?", "??o", "s?o", "?po", "spo"};
    lore_id *buf = malloc(3 * 4096 * sizeof *buf);
    for (int sh = 0; sh < 8; sh++) {
        size_t rows = 0, queries = 0;
        double budget = sh == 0 ? 0 : 0.3, t = 0;
        t0 = now();
        do {
            size_t k = rnd((uint32_t)n);
            lore_id q[3];
            for (int j = 0; j < 3; j++)
                q[j] = (sh >> j & 1) ? f[3 * k + j] : 0;
            lore_iter *it;
            if (lore_match(kb, q[0], q[1], q[2], &it) != LORE_OK)
                return 1;
            size_t got;
            while (lore_iter_read(it, buf, 4096, &got) == LORE_OK)
                rows += got;
            lore_iter_free(it);
            queries++;
            t = now() - t0;
        } while (t < budget);
        printf("match_%s_rows_per_s %.0f\n", shape[sh], (double)rows / t);
        printf("match_%s_queries_per_s %.0f\n", shape[sh], (double)queries / t);
    }
    /* one row at a time, the whole store */
    {
        lore_iter *it;
        lore_id t[3];
        size_t rows = 0;
        t0 = now();
        lore_match(kb, 0, 0, 0, &it);
        while (lore_iter_next(it, t) == LORE_OK)
            rows++;
        lore_iter_free(it);
        printf("match_next_rows_per_s %.0f\n", (double)rows / (now() - t0));
    }
    /* counts of every shape */
    for (int sh = 0; sh < 8; sh++) {
        size_t reps = 1000000;
        lore_id *q = malloc(3 * reps * sizeof *q);
        for (size_t r = 0; r < reps; r++) {
            size_t k = rnd((uint32_t)n);
            for (int j = 0; j < 3; j++)
                q[3 * r + j] = (sh >> j & 1) ? f[3 * k + j] : 0;
        }
        uint64_t sum = 0;
        t0 = now();
        for (size_t r = 0; r < reps; r++) {
            lore_count(kb, q[3 * r], q[3 * r + 1], q[3 * r + 2], &c);
            sum += c;
        }
        double t = now() - t0;
        printf("count_%s_ns %.0f\n", shape[sh], t / (double)reps * 1e9);
        free(q);
        if (sum == 0)
            fprintf(stderr, "(no matches for %s)\n", shape[sh]);
    }
    free(buf);
    free(f);
    free(ids);
    lore_kb_free(kb);
    return 0;
}
