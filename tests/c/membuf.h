/* membuf.h - a growing memory buffer for the tests and the fuzz targets:
 * mem_write is a lore write callback (lore_export_to and the like) that
 * appends to it, keeping it NUL-terminated.  Out of memory aborts: it is
 * the test's own allocation, not lore's. */
#ifndef LORE_TEST_MEMBUF_H
#define LORE_TEST_MEMBUF_H

#include <stdlib.h>
#include <string.h>

typedef struct membuf {
    char *p;
    size_t n, cap;
} membuf;

static size_t mem_write(void *ud, const void *buf, size_t len)
{
    membuf *b = ud;
    if (b->n + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->n + len + 1 > cap)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            abort();
        b->p = p, b->cap = cap;
    }
    memcpy(b->p + b->n, buf, len);
    b->n += len;
    b->p[b->n] = '\0';
    return len;
}

#endif
