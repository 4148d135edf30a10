/* kb.h - the lore_kb handle as the core's modules see it: its context
 * (message, allocator, interrupt and busy flags), dictionary, store and
 * prefixes, and the state of the layers above (rules, journal, functions)
 * behind opaque pointers.  It declares no functions: a module that
 * includes it reads the kb's state; the facade (api/kb.c) owns the handle.
 *
 * Invariants:
 *  - ctx.m points at m, and d, st and px allocate through m;
 *  - batch != NULL implies ctx.busy (a bulk load sets ctx.busy too, with no
 *    batch);
 *  - log != NULL exactly while jr != NULL (the journal installs its hook).
 * Not installed. */
#ifndef LORE_KB_H
#define LORE_KB_H

#include "ctx.h"
#include "dict.h"
#include "prefix.h"
#include "store.h"

struct lore_kb {
    mem raw;     /* the embedder's allocator, which the handle itself comes from */
    memacct acct; /* counts what goes through m */
    mem m;       /* raw through acct: what the core allocates with */
    ctx ctx; /* every layer fails and polls through it */
    dict d;
    store st;
    struct lore_batch *batch;     /* the open batch, if any */
    struct fnreg *fns;            /* value functions the host registered (fn.c) */
    struct rules *rules;          /* rules, triggers and inference state (rules.c) */
    struct journal *jr;           /* opened from a file (journal.c), else NULL */
    const struct change_log *log; /* the journal's hook while jr is set (change.h) */
    prefixes px;                  /* prefix table (prefix.h) */
};

#endif
