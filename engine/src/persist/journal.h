/* journal.h - durable mode: the journal of changes kept beside a snapshot,
 * written before each change is acknowledged, replayed on open and folded
 * into the snapshot by a checkpoint.  The kb layer (kb.c) calls the hooks
 * below from its mutation functions; the format is described at the top
 * of journal.c.
 *
 * Invariants (of a kb in durable mode):
 *  - the snapshot (generation gen) followed by the journal's records gives
 *    exactly the acknowledged state of the kb, outside a transaction.
 *  - terms 1..nterms are in the snapshot or the journal; a record carries
 *    the terms from nterms + 1 to the dictionary's last, in id order, so
 *    replay gives every term its id again.
 *  - the journal file ends at `end`, after the last whole record: a failed
 *    write is cut off again, or the journal is marked broken and refuses
 *    changes until a checkpoint succeeds. */
#ifndef LORE_JOURNAL_H
#define LORE_JOURNAL_H

#include "change.h"
#include "kb.h"

/* 1 if kb keeps a journal. */
int journal_on(const lore_kb *kb);
/* 1 if kb was opened from the file `path` (as spelled then). */
int journal_owns(const lore_kb *kb, const char *path);
/* The generation named by the journal beside the snapshot `path`, or 0
 * if there is none or its header is not valid. */
uint64_t journal_file_generation(const char *path);
/* 1 if another handle holds the journal of the snapshot `path` open in
 * durable mode (its lock is taken). */
int journal_locked_elsewhere(const char *path);
/* The generation of the snapshot kb was opened from (0 if none). */
uint64_t journal_generation(const lore_kb *kb);

/* Journals a change before it is applied: inside a transaction it joins
 * the transaction's record; otherwise it is written now as a record of its
 * own (and synced, as the policy says).  LORE_OK, LORE_ERR_IO,
 * LORE_ERR_NOMEM (with the message set; nothing journaled). */
int journal_log(lore_kb *kb, const jop *op, jmark *mk);
/* Takes back what journal_log(mk) wrote, when the change then failed or
 * changed nothing. */
void journal_cancel(lore_kb *kb, const jmark *mk);
/* Writes the open transaction's changes as one record (none: nothing).
 * LORE_OK, LORE_ERR_IO, LORE_ERR_NOMEM; on failure the transaction's
 * changes stay pending, so the commit can be retried or rolled back. */
int journal_commit(lore_kb *kb);
/* Forgets the open transaction's changes. */
void journal_rollback(lore_kb *kb);
/* Syncs and closes the journal (lore_kb_free). */
void journal_close(lore_kb *kb);

/* Adds rows of 4 ids (s, p, o, meta with ASSERTED | one source and/or
 * DERIVED, as store_bulk takes them) whose new terms were interned since
 * `mark`: journals them in durable mode, then merges them into the store
 * (sorting the rows in place).  On failure the dictionary is rolled back to
 * `mark` and nothing changed.  The shared path of batches and snapshot
 * merges. */
int journal_merge_rows(lore_kb *kb, dict_mark mark, uint32_t *rows, size_t n, size_t *added);

enum {
    JR_NOCHECK = 1, /* do not verify checksums (fuzzing) */
    JR_ANYGEN = 2   /* replay whatever generation the journal names */
};

/* Replays the journal image buf[0..len) onto kb, whose snapshot had
 * generation `gen`; `name` names it in messages.  *end gets the length of
 * its good prefix (0 if it has no whole header, so nothing to replay);
 * *stale is set when it follows an older snapshot (then nothing is
 * replayed: a checkpoint was cut short after its snapshot was in place).
 * LORE_OK, LORE_WARN (a torn last record was discarded: the message says
 * so), LORE_ERR_CORRUPT, LORE_ERR_NOMEM, LORE_ERR_LIMIT.  On failure kb may
 * hold part of the journal: the caller resets it. */
int journal_replay(lore_kb *kb, const unsigned char *buf, size_t len, const char *name, int flags,
                   uint64_t gen, size_t *end, int *stale);

#endif
