/* lore.h - the embedding API of lore, a knowledge engine: a store of
 * subject-predicate-object facts with sources, queries and rules.
 *
 * This header is the reference manual.  Conventions that hold for every
 * function below unless its comment says otherwise:
 *
 *  - Handles are opaque.  `lore_kb_free(NULL)` and `lore_iter_free(NULL)`
 *    are no-ops.  Nothing here is thread-safe: one handle is used by one
 *    thread at a time.  Two knowledge bases in one process share nothing.
 *  - Fallible calls return a status: LORE_OK (0) or another non-negative
 *    code on success, a negative LORE_ERR_* code on failure.  After a
 *    failure, `lore_errmsg(kb)` describes it; the message stays valid until
 *    the next call on the same handle.  No call exits, aborts or longjmps.
 *  - A failed call changes nothing: the knowledge base is exactly as before
 *    the call (this includes running out of memory half-way).
 *  - In durable mode (lore_open with a journal) every call that changes
 *    facts may also return LORE_ERR_IO: its change could not be journaled,
 *    so it was not made.
 *  - Terms are named by `lore_id`s.  An id is valid for the lifetime of the
 *    knowledge base that issued it; id 0 is never a term and means
 *    "wildcard" in patterns and "none" elsewhere.
 *  - Strings passed in are copied; the caller keeps ownership.  Strings
 *    handed out point into the knowledge base and stay valid until
 *    `lore_kb_free`, unless the comment says otherwise.
 */
#ifndef LORE_H
#define LORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(LORE_BUILDING) && defined(__GNUC__)
#define LORE_API __attribute__((visibility("default")))
#else
#define LORE_API
#endif

#define LORE_VERSION "0.1.0"
#define LORE_VERSION_NUM 100 /* major*10000 + minor*100 + patch */

/* ------------------------------------------------------------------ */
/* Status codes                                                       */

enum {
    LORE_OK = 0,       /* success */
    LORE_DONE = 1,     /* an iterator has no more rows */
    LORE_NOOP = 2,     /* success, but nothing changed (fact already there, or absent) */
    LORE_WARN = 3,     /* success, with a warning in lore_errmsg (e.g. lore_open discarded
                          a torn journal record) */

    LORE_ERR_NOMEM = -1,     /* an allocation failed; nothing changed */
    LORE_ERR_ARG = -2,       /* a bad argument: the caller's mistake */
    LORE_ERR_NOTFOUND = -3,  /* no such term or fact */
    LORE_ERR_CHANGED = -4,   /* the knowledge base changed while an iterator was open */
    LORE_ERR_SYNTAX = -5,    /* malformed input (a file, a value, a rule, a query) */
    LORE_ERR_IO = -6,        /* the operating system refused a read or write */
    LORE_ERR_CORRUPT = -7,   /* a snapshot or journal failed its checks */
    LORE_ERR_LIMIT = -8,     /* a configured limit was reached */
    LORE_ERR_INTERRUPT = -9, /* lore_kb_interrupt() was called */
    LORE_ERR_STATE = -10,    /* the call is not valid now (e.g. commit without begin) */
    LORE_ERR_RULE = -11      /* a rule is invalid (unsafe, unstratifiable, ...) */
};

/* A short static English description of a status code; never NULL. */
LORE_API const char *lore_strerror(int status);

/* ------------------------------------------------------------------ */
/* Terms                                                              */

typedef uint32_t lore_id;

typedef enum lore_kind {
    LORE_SYMBOL = 1,  /* an entity, predicate or class name, or an IRI */
    LORE_TEXT = 2,    /* a string literal with an optional language tag */
    LORE_INTEGER = 3, /* a signed 64-bit integer */
    LORE_NUMBER = 4,  /* a double */
    LORE_BOOLEAN = 5, /* true or false */
    LORE_DATE = 6     /* an ISO 8601 date or date-time, ordered in time */
} lore_kind;

/* A term's value, as passed in and handed out.  Which fields matter
 * depends on `kind`:
 *   SYMBOL, DATE: str/len (UTF-8, need not be NUL-terminated)
 *   TEXT:         str/len, and lang/langlen (lang NULL or langlen 0: none)
 *   INTEGER:      i;  BOOLEAN: i (0 or 1);  NUMBER: n
 * Handed-out strings are NUL-terminated as well. */
typedef struct lore_value {
    lore_kind kind;
    const char *str;
    size_t len;
    const char *lang;
    size_t langlen;
    int64_t i;
    double n;
} lore_value;

/* Convenience constructors (no allocation; the strings are borrowed). */
LORE_API lore_value lore_symbol(const char *name);
LORE_API lore_value lore_text(const char *str, const char *lang);
LORE_API lore_value lore_integer(int64_t i);
LORE_API lore_value lore_number(double n);
LORE_API lore_value lore_boolean(int b);
LORE_API lore_value lore_date(const char *iso);

/* Checks that `v` is a valid term without a knowledge base: a known kind,
 * UTF-8 without NUL bytes for symbols and texts, a well-formed language
 * tag, an ISO 8601 date, a number that is not NaN.  Returns LORE_OK, or
 * LORE_ERR_ARG with *why (may be NULL) set to a static description of
 * what was expected. */
LORE_API int lore_check_value(const lore_value *v, const char **why);

/* ------------------------------------------------------------------ */
/* Knowledge bases                                                    */

typedef struct lore_kb lore_kb;

/* An allocator with Lua's signature: free when nsize == 0 (returning NULL),
 * else (re)allocate `ptr` of `osize` bytes to `nsize` bytes, returning NULL
 * on failure and leaving `ptr` untouched.  `osize` is the size that was
 * allocated when ptr != NULL. */
typedef void *(*lore_alloc_fn)(void *ud, void *ptr, size_t osize, size_t nsize);

/* Creates an empty knowledge base in *kbp.  `alloc` may be NULL for the C
 * library's allocator; otherwise every allocation the knowledge base makes
 * goes through alloc(ud, ...).  Returns LORE_OK or LORE_ERR_NOMEM (then
 * *kbp is NULL).  The caller owns the handle and frees it with
 * lore_kb_free. */
LORE_API int lore_kb_new(lore_kb **kbp, lore_alloc_fn alloc, void *ud);

/* Frees the knowledge base and everything it owns.  Every iterator of it
 * must have been freed before.  In durable mode the journal is synced and
 * closed (an open transaction is dropped, as by lore_rollback). */
LORE_API void lore_kb_free(lore_kb *kb);

/* The message of the last failure on this handle ("" if none).  Valid
 * until the next call on the handle. */
LORE_API const char *lore_errmsg(const lore_kb *kb);

/* Asks the running or next long operation on kb (a query, inference, a
 * load) to stop with LORE_ERR_INTERRUPT.  Safe to call from a signal
 * handler or another thread; the request is consumed by the operation it
 * stops, or cleared by lore_kb_clear_interrupt. */
LORE_API void lore_kb_interrupt(lore_kb *kb);
LORE_API void lore_kb_clear_interrupt(lore_kb *kb);

/* Interns `v` and stores its id in *id: the same value always gets the
 * same id.  Returns LORE_OK, LORE_ERR_ARG (bad kind, a date that is not
 * ISO 8601, a NaN number, a string with a NUL byte, a string over 2^31
 * bytes) or LORE_ERR_NOMEM.  Interning is not undone by lore_rollback. */
LORE_API int lore_intern(lore_kb *kb, const lore_value *v, lore_id *id);

/* Like lore_intern, but never adds: LORE_OK with *id set if `v` is known,
 * else LORE_ERR_NOTFOUND (no message is set for that) or LORE_ERR_ARG. */
LORE_API int lore_lookup(lore_kb *kb, const lore_value *v, lore_id *id);

/* Fills *v with the value of term `id`.  Strings in *v stay valid until
 * lore_kb_free.  Returns LORE_OK or LORE_ERR_ARG (unknown id). */
LORE_API int lore_term(const lore_kb *kb, lore_id id, lore_value *v);

/* The number of distinct terms interned so far. */
LORE_API size_t lore_term_count(const lore_kb *kb);

/* Compares two terms in lore's total order and returns <0, 0 or >0:
 * booleans (false < true) < numbers (integers and doubles compared by
 * value; on a tie the integer first) < dates (by instant; a date alone is
 * its midnight UTC; ties by text) < texts (by bytes, then language tag) <
 * symbols (by bytes).  0 only for the same term.  Unknown ids sort last. */
LORE_API int lore_compare(const lore_kb *kb, lore_id a, lore_id b);

/* ------------------------------------------------------------------ */
/* Facts                                                              */

/* Adds the fact (s, p, o), asserted from source `src` (a term id, or 0 for
 * the unnamed default source).  Any term may stand in any position.
 * Returns LORE_OK if the fact or this source for it is new, LORE_NOOP if
 * the fact was already asserted from this source, LORE_ERR_ARG for an id
 * that is 0 or unknown, LORE_ERR_NOMEM. */
LORE_API int lore_add(lore_kb *kb, lore_id s, lore_id p, lore_id o, lore_id src);

/* Removes an assertion.  With src == LORE_ANY_SOURCE the fact loses every
 * source and is gone (unless rules derive it: see the rules section);
 * otherwise only source `src` (0: the default source) is taken from it, and
 * the fact stays while another source holds it.  Returns LORE_OK, LORE_NOOP
 * if there was nothing to remove, LORE_ERR_ARG, LORE_ERR_NOMEM. */
#define LORE_ANY_SOURCE ((lore_id)0xffffffffu)
LORE_API int lore_remove(lore_kb *kb, lore_id s, lore_id p, lore_id o, lore_id src);

/* Takes source `src` from every fact that has it; facts no other source
 * holds are removed.  *removed (may be NULL) gets the number of facts that
 * disappeared.  Time: one pass over the facts.  Returns LORE_OK, LORE_NOOP
 * (no fact had that source), LORE_ERR_NOMEM. */
LORE_API int lore_retract_source(lore_kb *kb, lore_id src, size_t *removed);

/* The number of facts in the knowledge base. */
LORE_API size_t lore_size(const lore_kb *kb);

/* Counts the facts matching a pattern; 0 in a position is a wildcard.
 * Answered from the indexes in O(log n) without enumerating.  Returns
 * LORE_OK or LORE_ERR_NOMEM (pending additions could not be indexed). */
LORE_API int lore_count(lore_kb *kb, lore_id s, lore_id p, lore_id o, uint64_t *n);

/* What is known of one fact. */
typedef struct lore_fact_info {
    int present;   /* the fact is in the knowledge base */
    int asserted;  /* it is asserted (from at least one source, maybe the default one) */
    int derived;   /* rules derive it */
    size_t nsources; /* named sources holding it (the default source not counted) */
    int in_default;  /* it is asserted from the default source */
} lore_fact_info;

/* Fills *info for fact (s, p, o) and writes up to `cap` of its named
 * sources, in increasing id order, to `srcs` (may be NULL when cap is 0).
 * info->nsources is the full number, which may exceed cap.  Returns
 * LORE_OK (also for an absent fact: info->present == 0). */
LORE_API int lore_fact(lore_kb *kb, lore_id s, lore_id p, lore_id o, lore_fact_info *info,
                       lore_id *srcs, size_t cap);

/* ------------------------------------------------------------------ */
/* Iterators                                                          */

typedef struct lore_iter lore_iter;

/* Starts an enumeration of the facts matching (s, p, o) (0 = wildcard) in
 * *itp.  The cost of the whole enumeration is proportional to the matches
 * (plus a logarithmic seek).  Returns LORE_OK or LORE_ERR_NOMEM.
 *
 * Changes while iterating: any change to the facts of kb (add, remove,
 * retract, load, commit, rollback, inference) after the iterator was made
 * makes its next step return LORE_ERR_CHANGED; it never returns a row
 * twice, skips one silently or reads freed memory.  Queries, counts and
 * other iterators do not disturb it.  The caller owns the iterator and
 * frees it with lore_iter_free before freeing kb. */
LORE_API int lore_match(lore_kb *kb, lore_id s, lore_id p, lore_id o, lore_iter **itp);

/* Writes the next matching fact to t[0..2] (s, p, o).  Returns LORE_OK,
 * LORE_DONE at the end (and every call after), or LORE_ERR_CHANGED. */
LORE_API int lore_iter_next(lore_iter *it, lore_id t[3]);

/* Writes up to `cap` next facts to `t` (3 ids each) and their number to
 * *n.  Returns LORE_OK (with *n > 0), LORE_DONE (*n == 0) or
 * LORE_ERR_CHANGED.  The fast way to enumerate many facts. */
LORE_API int lore_iter_read(lore_iter *it, lore_id *t, size_t cap, size_t *n);

LORE_API void lore_iter_free(lore_iter *it);

/* ------------------------------------------------------------------ */
/* Transactions                                                       */

/* lore_begin starts a transaction: until lore_commit, every change is
 * recorded so that lore_rollback can undo all of them.  Transactions do
 * not nest (LORE_ERR_STATE).  Rollback restores facts and sources exactly;
 * terms interned meanwhile stay interned (they are names, not facts).
 * Iterators opened before a commit or rollback that changed something
 * return LORE_ERR_CHANGED.  In durable mode (lore_open) lore_commit writes
 * the whole transaction to the journal as one record; if that fails it
 * returns LORE_ERR_IO and the transaction stays open (commit again, or
 * roll back). */
LORE_API int lore_begin(lore_kb *kb);
LORE_API int lore_commit(lore_kb *kb);
LORE_API int lore_rollback(lore_kb *kb);
/* 1 inside a transaction, else 0. */
LORE_API int lore_in_transaction(const lore_kb *kb);

/* ------------------------------------------------------------------ */
/* Bulk loading                                                       */

typedef struct lore_batch lore_batch;

/* A batch collects facts and adds them in one step, much faster than
 * lore_add one by one (facts are sorted and merged into the indexes
 * together).  Terms interned through lore_batch_intern are undone if the
 * batch is freed without lore_batch_commit, so an abandoned load leaves
 * the knowledge base exactly as it was.  While a batch is open, kb must
 * not be changed by other calls (they return LORE_ERR_STATE).
 * Returns LORE_OK, LORE_ERR_STATE (another batch is open), LORE_ERR_NOMEM. */
LORE_API int lore_batch_new(lore_kb *kb, lore_batch **bp);

/* Interns a value for this batch (see lore_intern). */
LORE_API int lore_batch_intern(lore_batch *b, const lore_value *v, lore_id *id);

/* Queues fact (s, p, o) from source src (0: default).  Nothing is visible
 * before lore_batch_commit.  Returns LORE_OK, LORE_ERR_ARG, LORE_ERR_NOMEM. */
LORE_API int lore_batch_add(lore_batch *b, lore_id s, lore_id p, lore_id o, lore_id src);

/* The number of facts queued so far (duplicates included). */
LORE_API size_t lore_batch_size(const lore_batch *b);

/* Adds every queued fact and frees the batch.  *added (may be NULL) gets
 * the number of facts that were new.  On failure nothing is added and the
 * batch is freed all the same, its terms undone. */
LORE_API int lore_batch_commit(lore_batch *b, size_t *added);

/* Frees the batch without adding anything; its terms are undone. */
LORE_API void lore_batch_free(lore_batch *b);

/* ------------------------------------------------------------------ */
/* Snapshots and durability                                           */

/* A snapshot (by convention a `.lore` file) holds everything a knowledge
 * base holds: every term with its id (ids are 1..n, and a knowledge base
 * opened from a snapshot gives every term its old id), every fact with its
 * sources and its asserted/derived marks.  It is versioned (a reader
 * refuses a file it cannot read fully, and says why), checksummed (CRC-32C
 * over every byte after the magic number), and written atomically.  README.md describes the
 * format.
 *
 * Durable mode keeps a journal beside the snapshot (PATH-journal): each
 * change is appended to it, with a checksum, before the call that makes
 * it returns, and replayed when the knowledge base is opened again;
 * lore_checkpoint folds it into the snapshot.  A process crash loses no
 * acknowledged change; what a system crash or power loss may lose depends
 * on the sync policy below. */

/* Saves kb to the file `path`: written to a temporary file in the same
 * directory, synced, renamed over `path`, and the directory synced, so that
 * a crash at any point leaves either the old file or the new one (an
 * interrupted save may leave a `path`.tmp.* file behind, safe to delete).
 * Saving to the file kb was opened from is lore_checkpoint.  Returns
 * LORE_OK, LORE_ERR_ARG (no path), LORE_ERR_STATE (a transaction or a
 * batch is open, or `path` is open in durable mode by another handle),
 * LORE_ERR_IO ("path: what failed: why"; `path` is untouched, unless only
 * the final sync of the directory failed: then the message says the file
 * is saved but might not survive a system crash),
 * LORE_ERR_NOMEM.  kb is not changed; open iterators stay valid. */
LORE_API int lore_save(lore_kb *kb, const char *path);

/* Adds the contents of the snapshot `path` to kb, as any load: facts are
 * merged with kb's (sources and marks united), terms interned (a kb with
 * no terms, outside a transaction and durable mode, takes the snapshot's
 * ids and is built straight from its sorted rows, the fast way to load).  Only the snapshot is read, not a journal beside
 * it (lore_open reads both).  *added (may be NULL) gets the number of new
 * facts.  All or nothing: on failure kb is exactly as before.  Returns
 * LORE_OK, LORE_ERR_IO (cannot read the file), LORE_ERR_CORRUPT (the file
 * is damaged or not a snapshot: "path: what is wrong", e.g. "x.lore:
 * checksum mismatch in section facts", "x.lore: truncated (no end
 * section)"), LORE_ERR_LIMIT, LORE_ERR_STATE (a batch is open),
 * LORE_ERR_NOMEM.  Iterators of kb return LORE_ERR_CHANGED afterwards. */
LORE_API int lore_load_snapshot(lore_kb *kb, const char *path, size_t *added);

/* When the journal reaches the disk (fsync): the guarantee against a
 * system crash or power loss.  Every policy writes each change to the
 * journal (the operating system has it) before the call returns, so a
 * crash of the process itself never loses an acknowledged change. */
enum {
    LORE_SYNC_CHANGE = 0,   /* after every change, before the call returns: nothing
                               acknowledged is ever lost (the default) */
    LORE_SYNC_COMMIT = 1,   /* at lore_commit and lore_batch_commit: a committed
                               transaction or batch is never lost; single changes
                               outside a transaction are synced with the next commit,
                               checkpoint, lore_sync or close */
    LORE_SYNC_INTERVAL = 2, /* every sync_ms milliseconds, by a background thread: a
                               system crash loses at most the changes of the last
                               sync_ms (plus the time one sync takes) */
    LORE_SYNC_NONE = 3      /* only at checkpoint, lore_sync and close */
};

typedef struct lore_open_options {
    int journal;      /* non-zero: durable mode, keep a journal */
    int sync;         /* LORE_SYNC_*; zero-initialised options give LORE_SYNC_CHANGE */
    unsigned sync_ms; /* LORE_SYNC_INTERVAL: the period, 1 to 3600000 ms */
} lore_open_options;

/* Opens the knowledge base saved at `path` into kb, which must be new (no
 * terms, no facts).  opts may be NULL (no journal).
 *
 * The snapshot is read (with every term's id as saved), then the journal
 * PATH-journal if there is one is replayed.  A torn or corrupt last journal
 * record (a write cut short by a crash, never acknowledged) is discarded:
 * the call then returns LORE_WARN with the warning in lore_errmsg.
 * Corruption before the last record is an error.
 *
 * Without a journal (opts->journal == 0) the files are only read; the
 * snapshot must exist (or, for a knowledge base never checkpointed, its
 * journal).  In durable mode a missing snapshot is a new, empty knowledge
 * base; the journal is created if needed and locked, so that one handle at
 * a time has it open in durable mode, and every later change (lore_add,
 * lore_remove, lore_retract_source, lore_batch_commit, lore_commit, loads)
 * is journaled before it returns: a transaction as one record, replayed
 * all or nothing.  A change whose journal write fails fails with
 * LORE_ERR_IO and changes nothing (lore_commit then leaves the transaction
 * open).  If a failed write could not even be taken back from the journal,
 * every change is refused with LORE_ERR_IO until lore_checkpoint succeeds.
 *
 * Returns LORE_OK, LORE_WARN, LORE_ERR_ARG (bad options), LORE_ERR_STATE
 * (kb is not new, or the journal is locked by another handle), LORE_ERR_IO,
 * LORE_ERR_CORRUPT ("file: what is wrong"), LORE_ERR_LIMIT, LORE_ERR_NOMEM.
 * On failure kb is still new and empty. */
LORE_API int lore_open(lore_kb *kb, const char *path, const lore_open_options *opts);

/* Saves kb over the snapshot it was opened from (as lore_save, with the
 * next generation number), then empties its journal.  A crash between the
 * two is safe: the journal names the snapshot generation it follows, and
 * an older one is known to be folded in already.  Returns LORE_OK,
 * LORE_ERR_STATE (not opened with lore_open, a transaction or batch is
 * open, or kb was opened without a journal and another handle has the file
 * open in durable mode), LORE_ERR_IO, LORE_ERR_NOMEM.  If the snapshot was saved but the
 * journal could not be emptied, LORE_ERR_IO, and changes are refused until
 * a checkpoint succeeds. */
LORE_API int lore_checkpoint(lore_kb *kb);

/* Syncs the journal to disk now, whatever the policy.  LORE_OK (also for a
 * knowledge base without a journal) or LORE_ERR_IO. */
LORE_API int lore_sync(lore_kb *kb);

#ifdef __cplusplus
}
#endif
#endif /* LORE_H */
