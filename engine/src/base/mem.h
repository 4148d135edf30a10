/* mem.h - the allocator every part of the core allocates through, and the
 * TRY/cleanup convention for status codes.
 *
 * Every block is freed with the size it was allocated with (the embedder's
 * allocator has Lua's signature and may rely on it).  Sizes are checked for
 * overflow before they reach the allocator. */
#ifndef LORE_MEM_H
#define LORE_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "lore.h"

typedef struct mem {
    lore_alloc_fn fn;
    void *ud;
} mem;

/* The C library's allocator with lore_alloc_fn's contract. */
void *mem_default(void *ud, void *ptr, size_t osize, size_t nsize);

/* NULL on failure or when n * size overflows; n == 0 gives NULL too. */
void *mem_alloc(const mem *m, size_t n, size_t size);
void *mem_calloc(const mem *m, size_t n, size_t size);
/* A NUL-terminated copy of the n bytes at s (n + 1 bytes to free), or NULL. */
char *mem_strndup(const mem *m, const char *s, size_t n);
/* Resizes *pp from on to nn elements of `size` bytes; on failure *pp is
 * untouched and -1 is returned. nn == 0 frees. */
int mem_resize(const mem *m, void **pp, size_t on, size_t nn, size_t size);
void mem_free(const mem *m, void *p, size_t n, size_t size);

/* Grows a vector's capacity to at least `need` elements (doubling). */
int mem_reserve(const mem *m, void **pp, size_t *cap, size_t need, size_t size);

/* Runs an expression yielding a status; on a failure (< 0) stores it in
 * `rc` and jumps to the function's single `cleanup:` label. */
#define TRY(expr)                                                                                  \
    do {                                                                                           \
        int try_rc_ = (expr);                                                                      \
        if (try_rc_ < 0) {                                                                         \
            rc = try_rc_;                                                                          \
            goto cleanup;                                                                          \
        }                                                                                          \
    } while (0)

/* Jumps to cleanup with LORE_ERR_NOMEM when a pointer is NULL. */
#define TRY_PTR(p)                                                                                 \
    do {                                                                                           \
        if ((p) == NULL) {                                                                         \
            rc = LORE_ERR_NOMEM;                                                                   \
            goto cleanup;                                                                          \
        }                                                                                          \
    } while (0)

#if defined(__GNUC__)
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define LIKELY(x) (x)
#define UNLIKELY(x) (x)
#endif

/* A fast 64-bit hash of bytes; `seed` lets callers mix in a kind. */
uint64_t hash_bytes(const void *p, size_t n, uint64_t seed);

static inline uint64_t hash_mix(uint64_t x)
{
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ull;
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ull;
    x ^= x >> 32;
    return x;
}

static inline uint64_t hash_triple(uint32_t s, uint32_t p, uint32_t o)
{
    return hash_mix(((uint64_t)s << 32 | p) * 0x9e3779b97f4a7c15ull ^ o);
}

#endif
