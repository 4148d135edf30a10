/* mem.c - allocation through the embedder's allocator, and the byte hash. */
#define _GNU_SOURCE /* mremap */
#include "mem.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Blocks this big are mapped directly: freeing one gives its pages back to
 * the system at once, so the store's large arrays (rebuilt wholesale) do
 * not leave the heap holding their old size. */
enum { MAP_MIN = 1 << 20 };

static void *map_block(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
#ifdef MADV_HUGEPAGE
    /* Large tables are probed at random: huge pages mean fewer page faults
     * when they are first written and fewer TLB misses afterwards.  Only
     * advice; ignored where the system does not offer them. */
    if (n >= (4u << 20))
        madvise(p, n, MADV_HUGEPAGE);
#endif
    return p;
}

void *mem_default(void *ud, void *ptr, size_t osize, size_t nsize)
{
    (void)ud;
    int was_mapped = ptr != NULL && osize >= MAP_MIN;
    if (nsize == 0) {
        if (was_mapped)
            munmap(ptr, osize);
        else
            free(ptr);
        return NULL;
    }
    if (nsize < MAP_MIN && !was_mapped)
        return realloc(ptr, nsize);
    if (was_mapped && nsize >= MAP_MIN) {
        void *q = mremap(ptr, osize, nsize, MREMAP_MAYMOVE);
        return q == MAP_FAILED ? NULL : q;
    }
    /* crossing the threshold: copy between the heap and a mapping */
    void *q = nsize >= MAP_MIN ? map_block(nsize) : malloc(nsize);
    if (q == NULL)
        return NULL;
    if (ptr) {
        memcpy(q, ptr, osize < nsize ? osize : nsize);
        if (was_mapped)
            munmap(ptr, osize);
        else
            free(ptr);
    }
    return q;
}

static int mul_ok(size_t n, size_t size, size_t *out)
{
    if (size != 0 && n > SIZE_MAX / size)
        return 0;
    *out = n * size;
    return 1;
}

void *mem_alloc(const mem *m, size_t n, size_t size)
{
    size_t bytes;
    if (n == 0 || !mul_ok(n, size, &bytes))
        return NULL;
    return m->fn(m->ud, NULL, 0, bytes);
}

void *mem_calloc(const mem *m, size_t n, size_t size)
{
    void *p = mem_alloc(m, n, size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

char *mem_strndup(const mem *m, const char *s, size_t n)
{
    char *d = mem_alloc(m, n + 1, 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

int mem_resize(const mem *m, void **pp, size_t on, size_t nn, size_t size)
{
    size_t ob, nb;
    if (!mul_ok(nn, size, &nb) || !mul_ok(on, size, &ob))
        return -1;
    if (*pp == NULL)
        ob = 0;
    if (nb == 0) {
        if (*pp)
            m->fn(m->ud, *pp, ob, 0);
        *pp = NULL;
        return 0;
    }
    void *q = m->fn(m->ud, *pp, ob, nb);
    if (q == NULL)
        return -1;
    *pp = q;
    return 0;
}

void mem_free(const mem *m, void *p, size_t n, size_t size)
{
    if (p)
        m->fn(m->ud, p, n * size, 0);
}

int mem_reserve(const mem *m, void **pp, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 8;
    while (nc < need) {
        if (nc > SIZE_MAX / 2)
            return -1;
        nc *= 2;
    }
    if (mem_resize(m, pp, *cap, nc, size) != 0)
        return -1;
    *cap = nc;
    return 0;
}

static uint64_t read64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

uint64_t hash_bytes(const void *data, size_t n, uint64_t seed)
{
    /* Multiply-xorshift over 8-byte words: fast on short keys (names and
     * IRIs), good enough spread for open addressing with a final mix. */
    const unsigned char *p = data;
    uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ull);
    while (n >= 8) {
        h = (h ^ read64(p)) * 0xff51afd7ed558ccdull;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    uint64_t last = 0;
    memcpy(&last, p, n);
    h = (h ^ last) * 0xc4ceb9fe1a85ec53ull;
    return hash_mix(h);
}
