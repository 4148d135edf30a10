/* change.h - a change to a kb as the journal records it, and the hook
 * through which the layers below the journal (rules) record one without
 * including or calling the journal: journal.c installs its functions in
 * the handle (kb->log) when a kb opens in durable mode and removes them on
 * close.
 *
 * Invariant: kb->log is NULL or the journal's table, and change_on(kb) is
 * exactly journal_on(kb).  Not installed. */
#ifndef LORE_CHANGE_H
#define LORE_CHANGE_H

#include "kb.h"

/* One change, as the kb layer reports it. */
enum {
    JOP_ADD = 1,
    JOP_REMOVE = 2,
    JOP_RETRACT = 3,
    JOP_BULK = 4,
    JOP_DERIVE = 5,
    JOP_PREFIX = 6,
    JOP_RULE = 7,
    JOP_UNRULE = 8
};
typedef struct jop {
    int code;
    uint32_t s, p, o, src; /* JOP_DERIVE: src 1 sets the DERIVED mark, 0 clears it */
    /* JOP_BULK: rows as store_bulk and store_bulk_take take them: `stride`
     * 4 (or 0) ids per row, s p o meta; or stride 3, s p o, each row with
     * meta `xmeta` (a bulk loader that bypasses lore_batch_commit journals
     * its rows this way before merging them, and cancels if that fails) */
    const uint32_t *rows;
    size_t nrows;
    int stride;
    uint32_t xmeta;
    /* JOP_PREFIX: binds name to iri, or removes the binding (ilen 0);
     * JOP_RULE: a rule added (name and text); JOP_UNRULE: removed (name) */
    const char *name, *iri, *text;
    size_t nlen, ilen, textlen;
    /* written as a record of its own even inside a transaction: for what a
     * rollback does not undo (prefixes, like interned terms) */
    int outside;
} jop;

/* Where the journal stood before a change, to take it back. */
typedef struct jmark {
    int in_txn;
    size_t txn_n;
    uint32_t txn_ops;
    uint64_t end;
    uint32_t nterms;
} jmark;

/* The journal's entry points (journal.h says what each does). */
typedef struct change_log {
    int (*on)(const lore_kb *kb);
    int (*log)(lore_kb *kb, const jop *op, jmark *mk);
    void (*cancel)(lore_kb *kb, const jmark *mk);
} change_log;

/* 1 if kb keeps a journal (journal_on). */
static inline int change_on(const lore_kb *kb) { return kb->log && kb->log->on(kb); }

/* journal_log through the hook; LORE_OK when kb keeps no journal. */
static inline int change_log_op(lore_kb *kb, const jop *op, jmark *mk)
{
    return kb->log ? kb->log->log(kb, op, mk) : LORE_OK;
}

#endif
