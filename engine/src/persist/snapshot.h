/* snapshot.h - saved knowledge bases (.lore files): writing one
 * atomically, restoring one into an empty kb from its sorted rows, and
 * the term encoding the journal shares.  The format is described at the
 * top of snapshot.c and in README.md. */
#ifndef LORE_SNAPSHOT_H
#define LORE_SNAPSHOT_H

#include "bytes.h"
#include "kb.h"

enum {
    SNAP_NOCHECK = 1 /* do not verify checksums (fuzzing reaches the decoder) */
};

/* Writes everything kb holds to `path` atomically, as generation `gen`.
 * LORE_OK, LORE_ERR_IO, LORE_ERR_NOMEM; on failure `path` is untouched. */
int snapshot_write(lore_kb *kb, const char *path, uint64_t gen);

/* Restores the snapshot image buf[0..len) into kb, which must hold no
 * terms; `name` names it in messages.  *gen (may be NULL) gets its
 * generation.  LORE_OK, LORE_ERR_CORRUPT ("name: what is wrong"),
 * LORE_ERR_NOMEM, LORE_ERR_LIMIT; on failure kb is empty again. */
int snapshot_restore(lore_kb *kb, const unsigned char *buf, size_t len, const char *name, int flags,
                     uint64_t *gen);

/* snapshot_restore of the file at `path`.  LORE_ERR_IO if it cannot be
 * read (*missing, if not NULL, set when it does not exist). */
int snapshot_read_file(lore_kb *kb, const char *path, uint64_t *gen, int *missing);

/* The generation of the snapshot at `path`, or 0 if there is none or its
 * header is not valid. */
uint64_t snapshot_generation(const char *path);

/* Adds every fact of `from` (sources and marks included) to kb, interning
 * its terms, as one batch (journaled in durable mode).  *added gets the
 * number of new facts.  All or nothing. */
int snapshot_merge(lore_kb *kb, lore_kb *from, size_t *added);

/* The term encoding of snapshots and journals: a kind byte, then
 * SYMBOL, DATE: varint length, bytes;  TEXT: varint tag length, tag bytes,
 * varint length, bytes;  INTEGER: 8 bytes two's complement;  NUMBER: 8
 * bytes IEEE 754;  BOOLEAN: 1 byte (0 or 1).  All little-endian. */
void term_put(obuf *b, const dict *d, uint32_t id);
/* Reads one term into *v (strings point into r's bytes); 0 if malformed. */
int term_get(ibuf *r, lore_value *v);

/* Empties a kb that held no facts before a restore that failed half-way:
 * back to no terms, no facts and no rules, iterators invalidated. */
void snapshot_empty(lore_kb *kb);

#endif
