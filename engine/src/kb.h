/* kb.h - the lore_kb handle as the core's modules see it: its context
 * (message, allocator, interrupt and busy flags), dictionary, store and
 * prefixes, and the state of the layers above (rules, journal, functions)
 * behind opaque pointers.  Not installed. */
#ifndef LORE_KB_H
#define LORE_KB_H

#include "ctx.h"
#include "dict.h"
#include "prefix.h"
#include "store.h"

struct lore_kb {
    mem m;
    ctx ctx; /* every layer fails and polls through it */
    dict d;
    store st;
    struct lore_batch *batch; /* the open batch, if any */
    struct fnreg *fns;        /* value functions the host registered (fn.c) */
    struct rules *rules;      /* rules, triggers and inference state (rules.c) */
    struct journal *jr;       /* opened from a file (journal.c), else NULL */
    prefixes px;              /* prefix table (prefix.h) */
};

/* Adds rows of 4 ids (s, p, o, meta with ASSERTED | one source and/or
 * DERIVED, as store_bulk takes them) whose new terms were interned since
 * `mark`: journals them in durable mode, then merges them into the store
 * (sorting the rows in place).  On failure the dictionary is rolled back to
 * `mark` and nothing changed.  The shared path of batches and merges. */
int kb_commit_rows(lore_kb *kb, dict_mark mark, uint32_t *rows, size_t n, size_t *added);

/* Empties a kb that held no facts before a restore that failed half-way:
 * back to no terms and no facts, iterators invalidated. */
void kb_reset(lore_kb *kb);

#endif
