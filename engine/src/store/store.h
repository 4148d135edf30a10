/* store.h - the fact store: triples of term ids with their sources, kept
 * in three sorted orderings (SPO, POS, OSP) so that every pattern shape is
 * one contiguous range per level.
 *
 * Layout, a small log-structured merge:
 *  - base: most facts, as compressed sparse rows per ordering: off[k1] gives
 *    the range of k1's entries, each entry the pair (k2, k3); meta[] runs
 *    parallel to the SPO entries.  Built in one pass from sorted input.
 *  - pend: an open-addressing table of every fact not in base, with its meta.
 *  - runs: sorted copies (orderings of full triples) of pend's facts, at
 *    most RUN_MAX of them, merged like a binary counter when a read makes
 *    one (or at the next write of a new fact, when an iterator may be
 *    reading around the tail: see below).  Every run holds
 *    SPO, and POS and OSP once a read has needed them since the last fold
 *    (run_ords): a stream of small writes read one way sorts and merges
 *    its facts once or twice, not three times.
 *  - tail: pend's facts not yet in a run.  A read first turns the tail into
 *    a run, so reads only ever look at base and runs; a read with a bound
 *    subject or object that no tail fact has (a filter of bits tells)
 *    leaves the tail as it is, so that a stream of writes read elsewhere
 *    makes fewer, larger runs.
 *  - pendids: the ids that are a subject, or an object, of a pending fact.
 *    A read that binds one that is not reads the base alone (the runs
 *    need not hold its ordering, and the tail stays).
 *
 * Invariants:
 *  - every fact sits exactly once in base or pend; a pend fact is in the
 *    tail or in exactly one run, never both.
 *  - a fact is live iff its meta is non-zero (ASSERTED or DERIVED set).
 *    Dead facts stay physically in place until a rebuild (never inside a
 *    transaction); dead base facts are also in dead_base, so the POS and OSP
 *    orderings (which have no meta) can skip them.
 *  - base and runs never change once built, except base->meta words.
 *  - every change of a fact's presence or meta bumps `version`, and so does
 *    every reorganisation that frees or moves what an iterator reads (runs
 *    merged, a rebuild).  They happen at writes, or at the first read after
 *    writes that needs the tail (unless a read since those writes left the
 *    tail: left_at), that is after a write made every open iterator stale
 *    anyway; an iterator checks `version` before each step and so never
 *    reads freed memory.  A tail turned into a run goes behind the runs
 *    and moves nothing: an iterator opened since the last write either
 *    found the tail empty or holds a key no fact of the tail has; and a
 *    read that leaves the tail leaves no fold due and two run slots free,
 *    so that the reads after it, up to the next write, add a run at most.
 *  - nlive is the number of live facts; nderived the number of live facts
 *    with the DERIVED mark.
 *  - the change log (when on) holds each fact whose ASSERTED or DERIVED
 *    mark changed since it was last cleared, exactly once, with the marks
 *    it had then (0: absent); it always has room for the changes a
 *    rollback of the open transaction would make.
 */
#ifndef LORE_STORE_H
#define LORE_STORE_H

#include "mem.h"

/* meta word of a fact */
#define META_DERIVED 0x80000000u
#define META_ASSERTED 0x40000000u
#define META_MULTI 0x20000000u /* low bits index a source set */
#define META_PAYLOAD 0x1fffffffu
/* An asserted fact with only the default source: ASSERTED | 0. */

enum { ORD_SPO = 0, ORD_POS = 1, ORD_OSP = 2 };

typedef struct pair {
    uint32_t a, b;
} pair;

typedef struct base {
    size_t n;                 /* entries, dead ones included */
    size_t cap_ent, cap_meta; /* allocated entries of ent[ORD_SPO], of meta */
    size_t cap_pos, cap_osp;  /* of ent[ORD_POS], ent[ORD_OSP] when not n (0) */
    uint32_t nkeys;           /* off[] has nkeys + 1 entries per ordering */
    uint32_t *off[3];
    pair *ent[3];
    uint32_t *meta; /* parallel to ent[ORD_SPO] */
    uint64_t *sig;  /* per subject: a two-bit Bloom signature of each of its
                     * (p, o) pairs, dead ones too, so that checking a new
                     * fact rarely has to read ent[] (a cache miss) */
} base;

typedef struct run {
    size_t n;
    uint32_t *k[3]; /* 3n ids each, sorted in the ordering's key order (NULL:
                     * an ordering the store's runs do not hold, run_ords) */
    size_t cap[3];  /* rows allocated in each k[x] (a merge grows one run) */
} run;

typedef struct pend_slot {
    uint32_t s, p, o, meta; /* s == 0: empty */
} pend_slot;

typedef struct srcset {
    uint32_t n, cap;
    uint32_t ids[]; /* sorted; 0 stands for the default source */
} srcset;

typedef struct undo {
    uint32_t s, p, o, meta; /* meta before the change (0: absent) */
} undo;

enum { RUN_MAX = 24 };

/* One entry of the change log: a fact and its marks (META_ASSERTED |
 * META_DERIVED, 0 for absent) when the log was last cleared. */
typedef struct clog_slot {
    uint32_t s, p, o, flags; /* s == 0: empty */
} clog_slot;

/* Bits of the tail's filter, per key (see tailbits), and of the dead
 * facts' filter, per role (see deadbits). */
enum { TAIL_BITS = 1 << 13, DEAD_BITS = 1 << 12 };

typedef struct store {
    mem m;
    base *b; /* NULL when empty */
    pend_slot *pend;
    size_t npend, pendcap; /* pendcap: power of two or 0 */
    size_t ndead_pend;
    uint32_t *tail; /* 3 ids per fact */
    size_t ntail, tailcap;
    /* a filter of the tail's subjects, objects, (subject, predicate) and
     * (predicate, object) pairs (tail_key): a read whose key no tail fact
     * has need not wait for the tail to become a run */
    uint64_t tailbits[4][TAIL_BITS / 64];
    uint64_t left_at; /* version + 1 when a read last left the tail (0: never) */
    /* a bit per id that is the subject [0] or the object [1] of a pending
     * fact (dead ones' may stay): a read that binds an id that is not
     * reads the base alone, and so does not need the runs sorted its
     * way.  pendids_cap ids are covered; pendids_off: a growth failed,
     * every id may be pending until the next rebuild */
    uint64_t *pendids[2];
    size_t pendids_cap;
    int pendids_off;
    run *runs[RUN_MAX];
    int nruns;
    int run_ords; /* the orderings every run holds (bit 1 << ORD_x); SPO always */
    uint32_t *dead_base; /* hash set of triples (3 ids per slot, s == 0 empty) */
    size_t ndead_base, deadcap;
    /* a filter of the dead facts' subjects [.][0] and objects [.][1], of the
     * base [0] and of the pending table [1]: a read checks a row against
     * the dead only when both its ids are marked (marks stay until every
     * dead fact of that part has gone) */
    uint64_t deadbits[2][2][DEAD_BITS / 64];
    uint32_t *deadk[3]; /* sorted dead facts (base and runs), for counts */
    size_t ndeadk;
    int dead_dirty;
    srcset **sets; /* source sets, by index */
    size_t nsets, setcap;
    uint32_t *freesets; /* free indexes of sets[] */
    size_t nfree, freecap;
    undo *log; /* transaction undo log */
    size_t nlog, logcap;
    uint32_t *logsets; /* set indexes the log owns (freed on commit) */
    size_t nlogsets, logsetcap;
    size_t log_creates; /* log entries whose old meta is 0 */
    int in_txn;
    size_t tail_max, pend_min; /* reorganisation thresholds (tests lower them) */
    size_t drop_min; /* base facts that die at once before store_underive_rows closes the
                      * base up over them (tests lower it) */
    size_t nlive, nderived;
    uint64_t version;
    /* the change log (rules.c reads it): open addressing, load <= 1/2 */
    clog_slot *clog;
    size_t nclog, clogcap; /* clogcap: power of two or 0 */
    int clog_on;           /* record changes */
    int clog_quiet;        /* recording suspended (the rules engine's own bulk work) */
} store;

void store_init(store *st, const mem *m);
void store_free(store *st);

/* Asserts (s,p,o) from source src (0: default).  LORE_OK if anything
 * changed, LORE_NOOP if it was already asserted from src, LORE_ERR_NOMEM. */
int store_assert(store *st, uint32_t s, uint32_t p, uint32_t o, uint32_t src);

/* Takes source src from the fact (src == LORE_ANY_SOURCE: every source).
 * The fact goes when no source and no derivation holds it. */
int store_unassert(store *st, uint32_t s, uint32_t p, uint32_t o, uint32_t src);

/* Sets or clears the DERIVED mark (rules).  Clearing it on a fact that
 * is not asserted removes the fact.  LORE_OK, LORE_NOOP, LORE_ERR_NOMEM. */
int store_set_derived(store *st, uint32_t s, uint32_t p, uint32_t o, int derived);

/* Clears the DERIVED mark as store_set_derived(.., 0) does; *was gets the
 * fact's meta before (one lookup where two would do). */
int store_underive(store *st, uint32_t s, uint32_t p, uint32_t o, uint32_t *was);
/* store_underive on each of n rows of 3 ids; *removed (may be NULL) gets
 * the facts that went (derived, not asserted).  Rows of one subject and
 * predicate in a row, by object, find their base facts in one walk of the
 * base's rows (a closure's lost pairs come so, node by node); any order
 * is right.  So many rows that a rebuild would soon drop their facts
 * (outside a transaction) make the base close up over them at once.
 * LORE_OK or LORE_ERR_NOMEM (the rows before stay changed). */
int store_underive_rows(store *st, const uint32_t *rows, size_t n, size_t *removed);

/* Sets the DERIVED mark, and on a fact that is not asserted the payload
 * `rank` (the rules engine's derivation round; it is lost if the fact is
 * asserted later).  A fact derived already keeps its mark and rank (the
 * earliest round is the one its proofs go down from).  *was (may be NULL)
 * gets the fact's meta before.  LORE_OK, LORE_NOOP (already so),
 * LORE_ERR_NOMEM. */
int store_derive(store *st, uint32_t s, uint32_t p, uint32_t o, uint32_t rank, uint32_t *was);
/* store_derive of a fact the caller knows is not live (a read of the
 * store just missed it): with no dead fact in the base, only the pending
 * table is looked at (a subject's base rows are a few cache misses).
 * Wrong if the fact is live. */
int store_derive_new(store *st, uint32_t s, uint32_t p, uint32_t o, uint32_t rank, uint32_t *was);
/* Asks the memory for the pending table's slot of (s, p, o): what
 * store_derive_new reads. */
void store_pend_prefetch(const store *st, uint32_t s, uint32_t p, uint32_t o);

/* A hint before many single changes: room for nnew facts that may be new
 * and nkill that may disappear, so that the changes that follow grow no
 * table one doubling at a time.  Changes nothing a reader sees; LORE_OK or
 * LORE_ERR_NOMEM (then each change reserves for itself as usual). */
int store_reserve(store *st, size_t nnew, size_t nkill);

/* Clears every DERIVED mark; facts that are not asserted disappear.
 * *removed (may be NULL) gets their number.  One pass over the facts,
 * no memory per fact beyond the logs.  LORE_OK, LORE_NOOP (none was
 * derived), LORE_ERR_NOMEM (nothing changed). */
int store_clear_derived(store *st, size_t *removed);
/* The same for the facts that match one of pats[0..npats): triples, 0
 * for any term (NULL: every fact). */
int store_clear_derived_like(store *st, const uint32_t *pats, size_t npats, size_t *removed);
/* The highest rank a derived-only fact of the store carries (0: none). */
uint32_t store_max_rank(const store *st);
/* Rebuilds without the dead facts when they are many (an eighth of the
 * live ones) and no transaction is open, as the next write would: after
 * a mass removal, reads then do not pay for them.  LORE_OK or NOMEM. */
int store_compact(store *st);

int store_retract_source(store *st, uint32_t src, size_t *removed);

/* The meta word of a live fact, or 0 if absent. */
uint32_t store_meta(const store *st, uint32_t s, uint32_t p, uint32_t o);
/* store_meta of many facts at once: rows of 4 ids sorted by SPO (as
 * store_sort_rows sorts them), each row's fourth id set to its fact's
 * meta word.  The base is walked subject by subject rather than searched
 * fact by fact (a bulk of lookups in hash order misses the cache each). */
void store_metas_sorted(const store *st, uint32_t *rows, size_t n);
/* Sorts rows of `stride` (3 or 4) ids by SPO the way store_bulk does
 * (sorted rows then cost store_bulk one pass).  LORE_OK or NOMEM. */
int store_sort_rows(store *st, uint32_t *rows, size_t n, int stride);
/* Asks the memory for what store_meta(s, p, o) will read first: a batch
 * of lookups prefetched before any is made overlaps their cache misses. */
void store_meta_prefetch(const store *st, uint32_t s, uint32_t p, uint32_t o);
/* Starts loading what changing the fact's flags writes besides the fact:
 * its slots in the change log and the dead facts' table (a removal's
 * three hash tables, each a miss). */
void store_change_prefetch(const store *st, uint32_t s, uint32_t p, uint32_t o);

/* The sources of a meta word: writes up to cap ids (0 = default source
 * included) to out and returns their number. */
size_t store_meta_sources(const store *st, uint32_t meta, uint32_t *out, size_t cap);

/* Makes every pending fact readable (tail into a run).  LORE_OK or NOMEM;
 * reorganisation only, nothing logical changes. */
int store_prepare(store *st);
/* The same for a read of the pattern (s, p, o) (0: wildcard) alone: when
 * the pattern binds a subject or an object that no fact of the tail has,
 * the tail stays as it is (base and runs hold every match). */
int store_prepare_read(store *st, uint32_t s, uint32_t p, uint32_t o);

/* Counts matches; 0 is a wildcard.  Calls store_prepare. */
int store_count(store *st, uint32_t s, uint32_t p, uint32_t o, uint64_t *n);
/* The same with the dead facts still counted (at least the matches, and
 * no sorting of the dead facts: an estimate's count). */
int store_count_upto(store *st, uint32_t s, uint32_t p, uint32_t o, uint64_t *n);

/* Writes up to m matches of (s, p, o) (0: wildcard) to out (3 ids each),
 * spread evenly over the matches in index order, and their number to *n
 * (fewer than m when dead facts are met).  For the query planner's
 * estimates.  Calls store_prepare (LORE_OK or NOMEM). */
int store_sample(store *st, uint32_t s, uint32_t p, uint32_t o, uint32_t *out, size_t m, size_t *n);

/* An iteration over matches.  Lives on the caller's stack or in a heap
 * handle; store_iter_done releases what it holds. */
typedef struct store_iter {
    store *st;
    uint64_t version;
    int ord, prefix;
    uint32_t key[3];
    int level; /* -1: base, then runs[0..] */
    int base_only; /* no pending fact can match: the runs are not read */
    size_t pos, end;
    uint32_t k1; /* base: current first key when prefix == 0 */
    int done;
} store_iter;

/* Starts an iteration; calls store_prepare_read (LORE_OK or NOMEM).  A
 * pattern that binds a subject or an object no pending fact has is read
 * from the base alone. */
int store_iter_init(store *st, store_iter *it, uint32_t s, uint32_t p, uint32_t o);
/* LORE_OK with t = (s,p,o), LORE_DONE, LORE_ERR_CHANGED. */
int store_iter_next(store_iter *it, uint32_t t[3]);
/* Up to cap facts into t (3 ids each). */
int store_iter_read(store_iter *it, uint32_t *t, size_t cap, size_t *n);
void store_iter_done(store_iter *it);

/* Bulk addition: facts are 4 ids each (s, p, o, meta), any order, meta
 * with ASSERTED (payload = one source id, no MULTI) and/or DERIVED.
 * Merged with the store in one rebuild.  *added gets the number of new
 * facts.  The array is sorted in place.  Atomic: LORE_OK or NOMEM with
 * nothing changed. */
int store_bulk(store *st, uint32_t *facts, size_t n, size_t *added);

/* The same for a bulk loader's rows of `stride` ids: 3 (s, p, o; every
 * fact gets meta `meta`, which takes a quarter less memory) or 4 (s, p, o,
 * meta as above).  The store takes the array over (allocated with `cap`
 * ids) and frees it, on success as soon as it is merged, and on failure. */
int store_bulk_take(store *st, uint32_t *rows, size_t n, size_t cap, int stride, uint32_t meta,
                    size_t *added);

/* 1 if (s,p,o) is asserted from src (LORE_ANY_SOURCE: from any source):
 * exactly when store_assert would say LORE_NOOP, and store_unassert would
 * not. */
int store_has(const store *st, uint32_t s, uint32_t p, uint32_t o, uint32_t src);

/* Calls fn(ud, t, meta) for every live fact in SPO order, t = (s, p, o);
 * stops at the first non-zero return of fn and returns it.  Calls
 * store_prepare first (LORE_ERR_NOMEM); changes nothing logical.  Source
 * sets named by meta are read with store_meta_sources. */
int store_scan(store *st, int (*fn)(void *ud, const uint32_t t[3], uint32_t meta), void *ud);

/* Restoring a saved store (snapshot.c), without inserting facts one by one:
 * store_base_alloc gives a base of n facts over keys 0..nkeys-1 with every
 * array allocated; the caller fills off[ORD_SPO], ent[ORD_SPO] and meta
 * with valid, strictly SPO-ordered live facts whose MULTI metas name sets
 * made by store_add_set, then hands it to store_adopt.  NULL on NOMEM. */
base *store_base_alloc(store *st, uint32_t nkeys, size_t n);
void store_base_free(store *st, base *b);
/* Makes source set `ids` (n >= 2 sorted distinct ids) and gives its
 * index: on an empty store, the k-th call gives k.  LORE_OK, NOMEM, LIMIT. */
int store_add_set(store *st, const uint32_t *ids, uint32_t n, uint32_t *idx);
/* Installs b (filled as above) as the base of a store that holds no facts
 * (only sets from store_add_set): builds the POS and OSP orderings.
 * LORE_OK, or NOMEM with b still the caller's. */
int store_adopt(store *st, base *b);

/* A stream of rows (s, p, o, meta) in increasing SPO order, without
 * duplicates, for store_bulk_stream: next() writes the next row and
 * returns 1, or returns 0 at the end; done() (may be NULL) is called as
 * soon as the rows are no longer needed, before the new indexes are
 * built, so the producer can free its memory early.  n is the number of
 * rows next() will give and maxid the largest id in any of them. */
typedef struct store_rows {
    int (*next)(void *ud, uint32_t row[4]);
    void (*done)(void *ud);
    void *ud;
    size_t n;
    uint32_t maxid;
} store_rows;

/* store_bulk for rows that come sorted from a producer: nothing is
 * materialised beyond the new base.  Same contract as store_bulk. */
int store_bulk_stream(store *st, const store_rows *rows, size_t *added);

/* The change log.  While on, every change of a fact's ASSERTED or DERIVED
 * mark records the fact with its marks before the change, unless it is
 * already recorded, or clog_quiet is set (never inside a transaction:
 * then neither room nor entries are made).  Turning it on or off empties
 * it (off frees it); LORE_OK or NOMEM. */
int store_clog_enable(store *st, int on);
/* Forgets every entry (keeps the table). */
void store_clog_clear(store *st);
/* The marks of (s,p,o) when the log was cleared, if it is recorded: 1 and
 * *flags set, else 0. */
int store_clog_find(const store *st, uint32_t s, uint32_t p, uint32_t o, uint32_t *flags);
/* The entries: slots 0..clogcap-1, empty where s == 0. */

/* Transactions (see lore.h). */
int store_begin(store *st);
void store_commit(store *st);
void store_rollback(store *st);

/* Checks every invariant above; returns NULL or a description of the
 * first one broken (tests). */
const char *store_check(store *st);

/* Bytes held by the store's structures (benchmarks). */
size_t store_bytes(const store *st);

#endif
