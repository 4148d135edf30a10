/* dict.h - the term dictionary: every distinct value interned once, named
 * by a dense id.
 *
 * Invariants:
 *  - ids are 1..n, handed out in interning order; id 0 is never a term.
 *  - every term is in the hash table exactly once, and two distinct ids
 *    never hold equal values (same kind, same bytes, same language tag;
 *    numbers by bit pattern after -0.0 is folded into 0.0).
 *  - strings live in a chunked arena and never move, so pointers handed
 *    out stay valid until dict_free (or dict_rollback past their term).
 *  - dict_rollback(mark) restores exactly the state dict_mark returned. */
#ifndef LORE_DICT_H
#define LORE_DICT_H

#include "mem.h"

typedef struct term {
    union {
        const char *str; /* SYMBOL, TEXT, DATE */
        int64_t i;       /* INTEGER, BOOLEAN */
        double n;        /* NUMBER */
    } u;
    uint32_t len;  /* string length */
    uint8_t kind;  /* lore_kind */
    uint8_t pad;
    uint16_t lang; /* TEXT: index into the language table, 0 = none */
} term;

/* A slot of the id table: the id (0 when empty) and its hash's low 32 bits. */
typedef struct dslot {
    uint32_t id, hash;
} dslot;

typedef struct chunk chunk;

typedef struct dict {
    mem m;
    term *terms; /* terms[id], terms[0] unused */
    size_t n;    /* highest id */
    size_t cap;
    dslot *slots; /* open addressing, power-of-two size: a probe reads one line */
    size_t nslots;
    chunk *chunks;   /* string arena, newest first */
    char **langs;    /* language tags; langs[0] unused */
    uint64_t epoch;  /* bumped when a rollback takes terms back */
    size_t nlangs, langcap;
} dict;

typedef struct dict_mark {
    size_t n, nlangs;
    chunk *chunk;
    size_t used;
} dict_mark;

void dict_init(dict *d, const mem *m);
void dict_free(dict *d);

/* Validates v and interns it.  LORE_OK, LORE_ERR_ARG (with a reason in
 * *why), LORE_ERR_NOMEM.  On failure nothing changed. */
int dict_intern(dict *d, const lore_value *v, uint32_t *id, const char **why);
/* Validates v as a term would be: LORE_OK or LORE_ERR_ARG with *why. */
int dict_check(const lore_value *v, const char **why);
/* The length of the longest prefix of s[0..n) that is valid UTF-8 without
 * NUL bytes (n if all of it is): where a reader reports a bad byte. */
size_t dict_utf8_span(const char *s, size_t n);
/* LORE_OK, LORE_ERR_NOTFOUND, LORE_ERR_ARG. */
int dict_lookup(const dict *d, const lore_value *v, uint32_t *id, const char **why);

/* Fills v from term id (which must be valid). */
void dict_get(const dict *d, uint32_t id, lore_value *v);
static inline int dict_valid(const dict *d, uint32_t id) { return id != 0 && id <= d->n; }
static inline const term *dict_term(const dict *d, uint32_t id) { return &d->terms[id]; }

/* Makes room for n more terms, so that interning them does not grow the
 * tables on the way (restoring a snapshot).  LORE_OK or LORE_ERR_NOMEM;
 * nothing logical changes either way. */
int dict_reserve(dict *d, size_t n);
/* Asks the CPU to fetch the hash slot of v (interning it soon): bulk
 * restores call it a few terms ahead, since with millions of terms the
 * table is out of cache.  Changes nothing. */
void dict_prefetch(const dict *d, const lore_value *v);

dict_mark dict_mark_get(const dict *d);
void dict_rollback(dict *d, dict_mark mk);

/* Total order over terms, as lore_compare documents. */
int dict_compare(const dict *d, uint32_t a, uint32_t b);

/* Bytes held by the dictionary (for benchmarks). */
size_t dict_bytes(const dict *d);

#endif
