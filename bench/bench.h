/* bench.h - what the C benchmark drivers share: a monotonic clock, leaving
 * with the kb's message, and interning a symbol.  Each driver defines
 * BENCH_NAME (its name in messages) before including it. */
#ifndef LORE_BENCH_H
#define LORE_BENCH_H

#include <stdio.h>
#include <stdlib.h>
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
    fprintf(stderr, "%s: %s: %s\n", BENCH_NAME, what, kb ? lore_errmsg(kb) : "");
    exit(1);
}

static lore_id sym(lore_kb *kb, const char *s)
{
    lore_value v = lore_symbol(s);
    lore_id id;
    if (lore_intern(kb, &v, &id) != LORE_OK)
        die(kb, "intern");
    return id;
}

#endif
