/* bytes.h - the byte encodings of snapshots and journals: little-endian
 * integers and LEB128 varints, written to a growing buffer and read back
 * through a bounds-checked cursor.
 *
 * Invariants:
 *  - an obuf that failed to grow sets `nomem` and ignores later writes, so
 *    a writer checks once at the end.
 *  - an ibuf never reads outside [p, end); a read past the end or a
 *    malformed varint sets `bad`, yields 0 and leaves p at end, so a
 *    reader checks `bad` before acting on what it read. */
#ifndef LORE_BYTES_H
#define LORE_BYTES_H

#include <string.h>

#include "mem.h"

static inline void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16), p[3] = (unsigned char)(v >> 24);
}

static inline void put_u64(unsigned char *p, uint64_t v)
{
    put_u32(p, (uint32_t)v);
    put_u32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t get_u64(const unsigned char *p)
{
    return get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

/* Bytes a varint of v takes (1 to 10). */
static inline size_t var_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80)
        v >>= 7, n++;
    return n;
}

/* Writes v as a varint at p; returns the bytes written. */
static inline size_t put_var(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (unsigned char)v;
    return n;
}

/* ---- a growing output buffer ---- */

typedef struct obuf {
    const mem *m;
    unsigned char *p;
    size_t n, cap;
    int nomem;
} obuf;

/* Room for `extra` more bytes at p + n, or 0 (nomem set). */
static inline int ob_room(obuf *b, size_t extra)
{
    if (b->nomem)
        return 0;
    if (b->cap - b->n >= extra)
        return 1;
    if (extra > SIZE_MAX - b->n ||
        mem_reserve(b->m, (void **)&b->p, &b->cap, b->n + extra, 1) != 0) {
        b->nomem = 1;
        return 0;
    }
    return 1;
}

static inline void ob_u8(obuf *b, unsigned v)
{
    if (ob_room(b, 1))
        b->p[b->n++] = (unsigned char)v;
}

static inline void ob_u32(obuf *b, uint32_t v)
{
    if (ob_room(b, 4))
        put_u32(b->p + b->n, v), b->n += 4;
}

static inline void ob_u64(obuf *b, uint64_t v)
{
    if (ob_room(b, 8))
        put_u64(b->p + b->n, v), b->n += 8;
}

static inline void ob_var(obuf *b, uint64_t v)
{
    if (ob_room(b, 10))
        b->n += put_var(b->p + b->n, v);
}

static inline void ob_bytes(obuf *b, const void *s, size_t n)
{
    if (n && ob_room(b, n)) {
        memcpy(b->p + b->n, s, n);
        b->n += n;
    }
}

static inline void ob_free(obuf *b)
{
    mem_free(b->m, b->p, b->cap, 1);
    b->p = NULL, b->n = b->cap = 0;
}

/* ---- a bounds-checked input cursor ---- */

typedef struct ibuf {
    const unsigned char *p, *end;
    int bad;
} ibuf;

static inline size_t ib_left(const ibuf *r)
{
    return (size_t)(r->end - r->p);
}

static inline int ib_fail(ibuf *r)
{
    r->bad = 1;
    r->p = r->end;
    return 0;
}

static inline uint8_t ib_u8(ibuf *r)
{
    if (ib_left(r) < 1)
        return (uint8_t)ib_fail(r);
    return *r->p++;
}

static inline uint32_t ib_u32(ibuf *r)
{
    if (ib_left(r) < 4)
        return (uint32_t)ib_fail(r);
    uint32_t v = get_u32(r->p);
    r->p += 4;
    return v;
}

static inline uint64_t ib_u64(ibuf *r)
{
    if (ib_left(r) < 8)
        return (uint64_t)ib_fail(r);
    uint64_t v = get_u64(r->p);
    r->p += 8;
    return v;
}

/* A varint of at most 10 bytes whose value fits 64 bits. */
static inline uint64_t ib_var(ibuf *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (r->p == r->end)
            return (uint64_t)ib_fail(r);
        unsigned c = *r->p++;
        if (shift == 63 && c > 1)
            return (uint64_t)ib_fail(r);
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return v;
    }
    return (uint64_t)ib_fail(r);
}

/* A varint that must fit 32 bits. */
static inline uint32_t ib_var32(ibuf *r)
{
    uint64_t v = ib_var(r);
    if (v > 0xffffffffu)
        return (uint32_t)ib_fail(r);
    return (uint32_t)v;
}

/* n bytes in place, or NULL (bad set). */
static inline const unsigned char *ib_bytes(ibuf *r, size_t n)
{
    if (ib_left(r) < n) {
        ib_fail(r);
        return NULL;
    }
    const unsigned char *s = r->p;
    r->p += n;
    return s;
}

#endif
