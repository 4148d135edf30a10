/* kb.h - the lore_kb handle as the core's modules see it: dictionary,
 * store, error message, interrupt flag, and the file it was opened from.
 * Not installed. */
#ifndef LORE_KB_H
#define LORE_KB_H

#include <signal.h>
#include <stdarg.h>

#include "dict.h"
#include "prefix.h"
#include "store.h"

struct lore_kb {
    mem m;
    dict d;
    store st;
    struct lore_batch *batch; /* the open batch, if any */
    struct fnreg *fns;        /* value functions the host registered (fn.c) */
    struct rules *rules;      /* rules, triggers and inference state (rules.c) */
    struct journal *jr;       /* opened from a file (journal.c), else NULL */
    prefixes px;              /* prefix table (prefix.h) */
    volatile sig_atomic_t interrupted;
    const volatile sig_atomic_t *watch; /* a host's interrupt flag (lore_kb_watch) */
    char err[512];
};

/* Sets the handle's message (printf-style) and returns `status`. */
int kb_fail(lore_kb *kb, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Records a plain out-of-memory failure. */
int kb_nomem(lore_kb *kb);

/* Clears the message at the start of a public call. */
static inline void kb_clear(lore_kb *kb) { kb->err[0] = '\0'; }

/* LORE_ERR_STATE with a message when a batch is open. */
int kb_busy(lore_kb *kb, const char *fn);

/* 1 if the interrupt flag or the watched host flag is set; then the
 * kb's own flag is cleared (the host clears its own) and a message set. */
int kb_interrupted(lore_kb *kb);

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
