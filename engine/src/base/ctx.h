/* ctx.h - the per-kb context every layer reports through: the status
 * message, the allocator, the interrupt flags and the busy flag.
 *
 * It sits at the bottom (base), below the dictionary and the store, so that
 * a module anywhere in the core can fail, run out of memory or notice an
 * interrupt without calling up into the facade (kb.c), which owns the
 * handle and embeds one ctx in it.
 *
 * Invariants: `m` points at the handle's allocator and never changes; `err`
 * is always NUL-terminated (empty after ctx_clear); `interrupted` is only
 * cleared by ctx_poll when it reports it, or by the host; the host's flag
 * (`watch`) is never written here.  Not installed. */
#ifndef LORE_CTX_H
#define LORE_CTX_H

#include <signal.h>

#include "mem.h"

/* The kb's allocations, counted: every block goes through memacct_fn to
 * the embedder's allocator, and past `limit` bytes in use (0: none) an
 * allocation fails and `over` is set (lore_kb_set_memory_cap). */
typedef struct memacct {
    lore_alloc_fn fn;
    void *ud;
    size_t used, limit;
    int over;
} memacct;

void *memacct_fn(void *ud, void *ptr, size_t osize, size_t nsize);

typedef struct ctx {
    const mem *m;                       /* the kb's allocator */
    volatile sig_atomic_t interrupted;  /* lore_kb_interrupt */
    const volatile sig_atomic_t *watch; /* a host's interrupt flag (lore_kb_watch) */
    int busy;                           /* a batch is open: calls that read or change
                                           the facts are refused (ctx_busy) */
    memacct *acct;                      /* the kb's allocations (NULL: not counted) */
    uint64_t deadline;                  /* CLOCK_MONOTONIC ns when long calls stop; 0: none */
    uint64_t polls, poll_limit;         /* polls so far, and where they stop (0: no limit) */
    uint64_t steps;                     /* the step budget as the host gave it, for the message */
    uint64_t deadline_ms;               /* as the host gave it, for the message */
    char err[512];
} ctx;

/* Starts a context on allocator m: no message, no interrupt, not busy. */
void ctx_init(ctx *c, const mem *m);

/* Long calls stop as interrupted (LORE_ERR_INTERRUPT), with the message
 * "deadline reached (ms ms)", from ms milliseconds on (0: no deadline). */
void ctx_set_deadline(ctx *c, uint64_t ms);

/* Long calls stop as interrupted, "step budget exhausted (steps)", after
 * about `steps` steps of their loops (counted by the polls, one per 1,024
 * steps); 0: no budget. */
void ctx_set_steps(ctx *c, uint64_t steps);

/* Sets the message (printf-style) and returns `status`. */
int ctx_fail(ctx *c, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Records an out-of-memory failure: LORE_ERR_NOMEM, with the message
 * "memory cap reached (N MiB)" when the kb's cap refused the block. */
int ctx_nomem(ctx *c);

/* LORE_ERR_STATE with the message that a batch is open, for `fn`. */
int ctx_busy(ctx *c, const char *fn);

/* Clears the message at the start of a public call. */
static inline void ctx_clear(ctx *c) { c->err[0] = '\0'; }

/* The one place long loops ask whether to stop: LORE_OK, or
 * LORE_ERR_INTERRUPT with the message set when the kb's flag or the watched
 * host flag is set (the kb's own flag is then cleared; the host clears its
 * own).  Budgets that later stop a call belong here too. */
int ctx_poll(ctx *c);

/* 1 when ctx_poll reports a stop (message set), else 0. */
static inline int ctx_interrupted(ctx *c) { return ctx_poll(c) != LORE_OK; }

#endif
