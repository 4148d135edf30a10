/* failalloc.h - the tests' allocator that fails on purpose: the fail_at-th
 * allocation returns NULL, and every block carries its size in a header,
 * so that freeing or resizing a block with another size than it was given
 * aborts the test on the spot.  `live` counts the bytes not given back. */
#ifndef LORE_TEST_FAILALLOC_H
#define LORE_TEST_FAILALLOC_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct failing {
    long calls, fail_at; /* allocations so far; which one fails (1-based, 0: none) */
    long failed;         /* allocations refused */
    size_t live;         /* bytes allocated and not freed */
    int paused;          /* while set, allocations neither count nor fail */
} failing;

static void *failing_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    failing *f = ud;
    size_t *h = ptr ? (size_t *)ptr - 2 : NULL;
    if (h && h[0] != osize) {
        fprintf(stderr, "block of %zu bytes freed or resized as %zu\n", h[0], osize);
        abort();
    }
    if (nsize == 0) {
        if (ptr)
            f->live -= osize;
        free(h);
        return NULL;
    }
    if (!f->paused && ++f->calls == f->fail_at) {
        f->failed++;
        return NULL;
    }
    size_t *q = realloc(h, nsize + 2 * sizeof *q);
    if (!q)
        return NULL;
    q[0] = nsize;
    f->live += nsize - (ptr ? osize : 0);
    return q + 2;
}

#endif
