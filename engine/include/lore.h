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

#include <signal.h>
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
/* Limits                                                             */

/* The deepest nesting any reader accepts, the same from C and from Lua:
 * groups in a query or a rule body (optional, without, union branches and
 * braces, whether written as text, built with lore_query_begin or given as
 * Lua tables), parentheses and '^' in paths and expressions, and arrays
 * and objects in JSON knowledge files.  Deeper input is refused with
 * LORE_ERR_LIMIT and a message ending in "nesting deeper than 1000"; the
 * text forms say where, as in "query:1:4001: nesting deeper than 1000".
 * Nothing is changed.  Readers are bounded this way so that no input can
 * exhaust the C stack.  doc/limits.md lists every limit. */
#define LORE_MAX_NESTING 1000

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
    LORE_ERR_RULE = -11,     /* a rule is invalid (unsafe, unstratifiable, ...) */
    LORE_ERR_CALLBACK = -12  /* a host callback (trigger, value function) reported an error */
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

/* lore's default allocator (the one used when lore_kb_new gets NULL): the
 * C library's for small blocks, page mappings for blocks of 1 MiB and
 * more, so that memory the store releases goes back to the system.  It has
 * Lua's contract (when ptr is NULL, osize is ignored), so a host can give
 * it to lua_newstate too and have Lua and lore share one allocator. */
LORE_API void *lore_alloc_default(void *ud, void *ptr, size_t osize, size_t nsize);

/* Creates an empty knowledge base in *kbp.  `alloc` may be NULL for the C
 * library's allocator; otherwise every allocation the knowledge base makes
 * goes through alloc(ud, ...).  Returns LORE_OK or LORE_ERR_NOMEM (then
 * *kbp is NULL).  The caller owns the handle and frees it with
 * lore_kb_free. */
LORE_API int lore_kb_new(lore_kb **kbp, lore_alloc_fn alloc, void *ud);

/* Frees the knowledge base and everything it owns.  Every iterator and
 * query of it must have been freed before.  In durable mode the journal is
 * synced and closed (an open transaction is dropped, as by lore_rollback). */
LORE_API void lore_kb_free(lore_kb *kb);

/* The message of the last failure on this handle ("" if none).  Valid
 * until the next call on the handle. */
LORE_API const char *lore_errmsg(const lore_kb *kb);

/* Sets the handle's message to `msg` and returns `status`: for a host's
 * callback (a trigger, a value function, a filter) that fails, so that
 * the call it stops reports why. */
LORE_API int lore_error(lore_kb *kb, int status, const char *msg);

/* Asks the running or next long operation on kb to stop with
 * LORE_ERR_INTERRUPT: queries (their joins, path walks, `match` filters
 * inside the pattern matcher), planning, inference, loads and exports all
 * poll it every few thousand steps.  Safe to call from a signal handler or
 * another thread; the request is consumed by the operation it stops, or
 * cleared by lore_kb_clear_interrupt.  A stopped load or export changes
 * nothing; a stopped inference leaves the asserted facts untouched and the
 * next lore_infer recomputes.  doc/limits.md lists the pattern matcher's
 * budgets (recursion 200, 2^26 steps per value: LORE_ERR_LIMIT). */
LORE_API void lore_kb_interrupt(lore_kb *kb);
LORE_API void lore_kb_clear_interrupt(lore_kb *kb);

/* Makes long operations on kb also stop with LORE_ERR_INTERRUPT while
 * *flag is non-zero: a host shares one flag, set by its SIGINT handler,
 * with all its knowledge bases.  lore only reads the flag; the host clears
 * it (typically before each command it runs).  flag NULL stops watching;
 * the flag must outlive kb or be unwatched first. */
LORE_API void lore_kb_watch(lore_kb *kb, const volatile sig_atomic_t *flag);

/* Budgets for a host that runs other people's queries and rules (the
 * Lua sandbox, lore.sandbox, sets them per run).  A deadline `ms`
 * milliseconds from now (0: none): every long operation that polls for
 * interrupts (see lore_kb_interrupt) then stops as interrupted,
 * LORE_ERR_INTERRUPT, with the message "deadline reached (ms ms)"; it
 * stays set until changed.  A memory cap:
 * at most `bytes` in use by kb (0: none; lore_kb_memory gives the bytes in
 * use now): an allocation beyond it fails, the call reports
 * LORE_ERR_NOMEM with "memory cap reached (N MiB)", and what it changed is
 * undone as after any out-of-memory failure. */
LORE_API void lore_kb_set_deadline(lore_kb *kb, uint64_t ms);
/* A step budget: long operations stop as interrupted, with "step budget
 * exhausted (steps)", once their loops have taken about `steps` steps from
 * now (rows and candidates examined, matcher steps, placements; counted a
 * thousand at a time where they poll for interrupts); 0: none.  The
 * sandbox gives the kb its instruction budget this way. */
LORE_API void lore_kb_set_step_budget(lore_kb *kb, uint64_t steps);
LORE_API void lore_kb_set_memory_cap(lore_kb *kb, size_t bytes);
LORE_API size_t lore_kb_memory(const lore_kb *kb);

/* Lua's own string matcher (string.find, match, gmatch, gsub) has no
 * bound on its work, and a backtracking pattern can take hours on one
 * call.  This walks s[0..sn) from byte `init` as those functions try the
 * pattern p[0..pn) (a Lua 5.4 pattern; at most `max` matches: 1 for find
 * and match), only to count the work, against kb's deadline, step budget
 * and interrupt, and at most 2^26 matcher steps in all; a host calls it
 * before handing an untrusted pattern to Lua (the sandbox does).  LORE_OK;
 * LORE_ERR_INTERRUPT ("deadline reached (ms ms)", "step budget exhausted
 * (steps)", "interrupted"); LORE_ERR_LIMIT ("string pattern too costly
 * (more than 67108864 matcher steps)", "string pattern too complex ...");
 * LORE_ERR_ARG for a pattern it does not take (back-references %1, or
 * malformed: Lua would raise its own error). */
LORE_API int lore_pattern_walk(lore_kb *kb, const char *s, size_t sn, size_t init, const char *p,
                               size_t pn, size_t max);

/* Interns `v` and stores its id in *id: the same value always gets the
 * same id.  A symbol `NAME:LOCAL` whose prefix NAME is bound stands for
 * its IRI (see "Prefixes" below; lore_lookup and lore_batch_intern too).
 * Returns LORE_OK, LORE_ERR_ARG (bad kind, a date that is not ISO 8601, a
 * NaN number, a string with a NUL byte, a string over 2^31 bytes) or
 * LORE_ERR_NOMEM.  Interning is not undone by lore_rollback. */
LORE_API int lore_intern(lore_kb *kb, const lore_value *v, lore_id *id);

/* Like lore_intern, but never adds: LORE_OK with *id set if `v` is known,
 * else LORE_ERR_NOTFOUND (no message is set for that) or LORE_ERR_ARG. */
LORE_API int lore_lookup(lore_kb *kb, const lore_value *v, lore_id *id);

/* Fills *v with the value of term `id`.  Strings in *v stay valid until
 * lore_kb_free.  Returns LORE_OK or LORE_ERR_ARG (unknown id). */
LORE_API int lore_term(const lore_kb *kb, lore_id id, lore_value *v);

/* A number that changes whenever the mapping between values and ids may
 * change: interned terms undone (an abandoned batch or a failed load takes
 * back the ids it issued, and later terms may get them again).  A host
 * caching id <-> value pairs clears its cache when this changes. */
LORE_API uint64_t lore_term_epoch(const lore_kb *kb);

/* The number of distinct terms interned so far. */
LORE_API size_t lore_term_count(const lore_kb *kb);

/* Compares two terms in lore's total order and returns <0, 0 or >0:
 * booleans (false < true) < numbers (integers and doubles compared by
 * value; on a tie the integer first) < dates (by instant; a date alone is
 * its midnight UTC; ties by text) < texts (by bytes, then language tag) <
 * symbols (in natural order: runs of digits by their value, so s9 < s10;
 * names equal but for leading zeros by bytes).  0 only for the same term.
 * Unknown ids sort last. */
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
/* Queries                                                            */

/* A query: triple patterns whose terms may be variables, with filters,
 * optional parts, negation (without), unions, property paths, aggregates
 * and solution modifiers.  Build one with the lore_query_* calls below or
 * from the text form (lore_query_parse), then step through its rows with
 * lore_query_next.  The same query can be run again (lore_query_reset),
 * with other pre-bound values (lore_query_bind): it is compiled once and
 * planned when first run (re-planned when the facts have changed by more
 * than a quarter, or other variables are pre-bound).
 *
 * The join order is chosen from the indexes' counts, not from the order
 * the patterns were given in; lore_query_plan shows it with its estimates.
 *
 * Text form (one line or many; '#' starts a comment):
 *
 *     ?c beneficiary ukraine . ?c amount ?a . ?a value ?eur
 *     ?x type Commitment . optional { ?x amount ?a } . without { ?x place ?p }
 *     { ?x member_of nato } union { ?x partner_of nato }
 *     ?x type Country . filter ?x in (poland, ukraine) . filter ?n match "^Pol"
 *     ?a parent+ ?b      ?a ^parent/parent ?c     ?x (a|b)* ?y
 *     select ?who count(?c) as ?n where { ?c committed_by ?who } group by ?who order by -?n limit 3
 *
 * Terms: ?name (variable), _ (wildcard), names (symbols: letters, digits,
 * _ : - # and non-ASCII, and '.' inside a name), <iri> and 'any symbol'
 * (symbols), "text" and "text"@lang, integers, numbers (1.5, 4e10), true,
 * false, dates (2024-07-11, or date("2025") for a year alone).
 * Elements are separated by optional dots.  Comparisons: = ~= (also !=)
 * < <= > >=; numbers compare by value (1 = 1.0), other terms in
 * lore_compare's order, and = between other kinds means the same term; an
 * unbound operand makes every comparison false.  `in` tests membership of
 * a set of values (numbers by value again), `match` a Lua pattern (Lua
 * 5.4's syntax; captures only group, back-references are refused) against
 * a text's, symbol's or date's string.  Paths follow the predicate once (p), one or more times (p+),
 * zero or more (p*), at most once (p?), backwards (^p), in sequence (p/q),
 * or either (p|q), with parentheses; _ is any predicate.  Modifiers are
 * written attached (parent+).  A walk never visits a node twice in one
 * state, so cycles end and each reached node comes once.  For p* with both
 * ends unbound, the zero-length matches are the nodes that appear in facts
 * of the path's predicates.
 *
 * Evaluation order: within each group (the whole query, a union branch,
 * an optional or without body), the patterns, paths and unions run first,
 * in the planner's order; a filter runs as soon as its variables are bound,
 * a without-group as soon as its variables shared with the rest are bound;
 * optional groups run after the required part, in the order written, and
 * see its bindings.  Filter functions run after the group's patterns.
 *
 * Lifetime: a query belongs to its knowledge base and must be freed before
 * it.  While a query runs, the knowledge base must not change: a change
 * makes the next lore_query_next return LORE_ERR_CHANGED (reset to run it
 * again).  Building calls reset a running query. */
typedef struct lore_query lore_query;

/* A term of a query being built: a variable, or a constant given by id or
 * by value.  A constant by value need not be a term yet (then nothing
 * matches it in a pattern, and filters compare with the value). */
typedef struct lore_qterm {
    const char *var;         /* "?x" or "x"; "_" or "?" a wildcard; NULL: a constant */
    lore_id id;              /* the constant, when var and value are NULL (0: wildcard) */
    const lore_value *value; /* the constant by value (copied) */
} lore_qterm;

LORE_API lore_qterm lore_qvar(const char *name);
LORE_API lore_qterm lore_qid(lore_id id);
LORE_API lore_qterm lore_qvalue(const lore_value *v);

/* Creates an empty query in *qp (one empty row when run).  LORE_OK or
 * LORE_ERR_NOMEM.  The caller frees it with lore_query_free. */
LORE_API int lore_query_new(lore_kb *kb, lore_query **qp);

/* Creates a query from the text form (text[0..len)).  LORE_OK,
 * LORE_ERR_SYNTAX with a message "query:LINE:COL: expected ..., got ..."
 * (also for a text that is not valid UTF-8 or holds a NUL byte: "expected
 * valid UTF-8 without NUL bytes"), LORE_ERR_LIMIT with
 * "query:LINE:COL: nesting deeper than 1000" (LORE_MAX_NESTING),
 * LORE_ERR_ARG (a bad value or name), LORE_ERR_NOMEM; on failure *qp is
 * NULL. */
LORE_API int lore_query_parse(lore_kb *kb, const char *text, size_t len, lore_query **qp);

/* Adds the pattern (s, p, o) to the open group.  LORE_OK, LORE_ERR_ARG (an
 * unknown id, a bad value or variable name), LORE_ERR_STATE (the open
 * group is a union: open a branch first), LORE_ERR_NOMEM. */
LORE_API int lore_query_pattern(lore_query *q, lore_qterm s, lore_qterm p, lore_qterm o);

/* Adds a path pattern: `path` in the text form ("parent+", "^a/b").  Also
 * LORE_ERR_SYNTAX for a malformed path. */
LORE_API int lore_query_path(lore_query *q, lore_qterm s, const char *path, lore_qterm o);

/* Adds the filter `a op b` to the open group; op is one of "=", "==",
 * "~=", "!=", "<", "<=", ">", ">=", "match" (b: the pattern, a text or
 * symbol value).  LORE_ERR_ARG for an unknown op or a malformed pattern. */
LORE_API int lore_query_filter(lore_query *q, lore_qterm a, const char *op, lore_qterm b);

/* Adds the filter "a is one of set[0..n)" (constants only). */
LORE_API int lore_query_filter_in(lore_query *q, lore_qterm a, const lore_qterm *set, size_t n);

/* Adds a filter written in the text form ("?eur > 1e9", "?x in (a, b)"). */
LORE_API int lore_query_filter_text(lore_query *q, const char *expr, size_t len);

/* A filter function: returns 1 to keep the row, 0 to drop it, or a
 * negative status to stop the query with it.  It reads the row with
 * lore_query_binding; it must not change the knowledge base (that stops
 * the query with LORE_ERR_CHANGED). */
typedef int (*lore_filter_fn)(void *ud, const lore_query *q);
LORE_API int lore_query_filter_fn(lore_query *q, lore_filter_fn fn, void *ud);

/* Groups: lore_query_begin opens one inside the open group, lore_query_end
 * closes the innermost.  A union holds branches only, each opened with
 * LORE_GROUP_BRANCH.  LORE_ERR_ARG (unknown kind), LORE_ERR_STATE (a branch
 * outside a union, nothing inside a union but branches, end without
 * begin), LORE_ERR_LIMIT (more than LORE_MAX_NESTING groups open, a union
 * and its branch counting as one: "nesting deeper than 1000"),
 * LORE_ERR_NOMEM. */
enum {
    LORE_GROUP_OPTIONAL = 1, /* rows keep going with its variables unbound if it has no match */
    LORE_GROUP_WITHOUT = 2,  /* rows for which the group has no match */
    LORE_GROUP_UNION = 3,    /* the rows of each branch */
    LORE_GROUP_BRANCH = 4    /* one branch of a union */
};
LORE_API int lore_query_begin(lore_query *q, int kind);
LORE_API int lore_query_end(lore_query *q);

/* Solution modifiers.  lore_query_select adds columns, one or more in a
 * string ("?who count(?c) as ?n"): each "?x", or an
 * aggregate "count(?x)", "count(distinct ?x)", "count(*)", "sum(?x)",
 * "min(?x)", "max(?x)", "avg(?x)", optionally "... as ?name" (else the
 * column is named count_x, sum_x ...; count(*) is count).  Without select,
 * the columns are the named variables, in order of first appearance.
 * Aggregates: count counts bound values, sum and avg add numbers (others
 * are skipped; sum of integers stays an integer), min and max use lore's
 * order; with no group, all rows make one group (one row even when there
 * are none).  lore_query_order sorts by a variable (unbound first when
 * ascending), lore_query_limit keeps `limit` rows (UINT64_MAX: all) after
 * skipping `offset`.  LORE_ERR_SYNTAX, LORE_ERR_ARG, LORE_ERR_NOMEM. */
LORE_API int lore_query_select(lore_query *q, const char *item);
LORE_API int lore_query_group(lore_query *q, const char *var);
LORE_API int lore_query_order(lore_query *q, const char *var, int descending);
LORE_API int lore_query_distinct(lore_query *q);
LORE_API int lore_query_limit(lore_query *q, uint64_t limit, uint64_t offset);

/* Pre-binds variable `var` to term `id` (0: unbinds) for the next runs:
 * the query then answers for that value, as if it were a constant.
 * LORE_OK, LORE_ERR_ARG (no such variable, unknown id). */
LORE_API int lore_query_bind(lore_query *q, const char *var, lore_id id);

/* Checks and plans the query without running it: LORE_OK, or
 * LORE_ERR_ARG for a query that cannot run (a filter on a variable no
 * pattern binds, a selected variable neither grouped nor aggregated, an
 * order key that is not a column of aggregated rows), LORE_ERR_STATE (a
 * group left open), LORE_ERR_NOMEM.  lore_query_next prepares as needed. */
LORE_API int lore_query_prepare(lore_query *q);

/* Steps to the next row: LORE_OK (read it with lore_query_id/value),
 * LORE_DONE at the end (and after), or an error: those of
 * lore_query_prepare, LORE_ERR_INTERRUPT (lore_kb_interrupt or a watched
 * flag; the query is then at its end), LORE_ERR_CHANGED, LORE_ERR_NOMEM, a
 * filter function's status.  The knowledge base is never changed. */
LORE_API int lore_query_next(lore_query *q);

/* Rewinds the query: the next lore_query_next starts again. */
LORE_API int lore_query_reset(lore_query *q);

/* Runs the query from the start and counts its rows into *n (faster than
 * stepping through them when there are no modifiers); the query is then
 * at its end.  Returns what lore_query_next would fail with, or LORE_OK. */
LORE_API int lore_query_count(lore_query *q, uint64_t *n);

/* The columns (valid once prepared): their number and names (without '?',
 * valid while q lives). */
LORE_API size_t lore_query_ncols(const lore_query *q);
LORE_API const char *lore_query_colname(const lore_query *q, size_t col);

/* The current row's value in column col: its term id (0 when unbound or a
 * computed aggregate), or its value (LORE_OK; LORE_ERR_NOTFOUND when
 * unbound; LORE_ERR_ARG without a current row).  Valid until the next call
 * on q. */
LORE_API lore_id lore_query_id(const lore_query *q, size_t col);
LORE_API int lore_query_value(const lore_query *q, size_t col, lore_value *v);

/* Every variable of the query (anonymous ones have the name ""), and its
 * binding in the row being evaluated (0: unbound): for filter functions. */
LORE_API size_t lore_query_nvars(const lore_query *q);
LORE_API const char *lore_query_varname(const lore_query *q, size_t var);
LORE_API lore_id lore_query_binding(const lore_query *q, size_t var);
LORE_API lore_kb *lore_query_kb(const lore_query *q);

/* The plan as text: one line per step in execution order, with how each
 * pattern reads the indexes (scan, index on the bound positions, exists)
 * and the estimated rows after it.  Owned by q, valid until the next call
 * on q; NULL on failure (see lore_errmsg). */
LORE_API const char *lore_query_plan(lore_query *q);

LORE_API void lore_query_free(lore_query *q);

/* A query whose rows are the nodes reached from `start` by `path` (text
 * form), each once, with the number of edges followed on the shortest way
 * (columns "node" and "depth"), breadth-first, following at most
 * max_depth edges (UINT32_MAX: no limit).  The start itself comes first
 * with depth 0 when the path accepts zero steps (p*).  LORE_OK,
 * LORE_ERR_ARG, LORE_ERR_SYNTAX, LORE_ERR_NOMEM. */
LORE_API int lore_reach(lore_kb *kb, lore_id start, const char *path, uint32_t max_depth,
                        lore_query **qp);

/* ------------------------------------------------------------------ */
/* Snapshots and durability                                           */

/* A snapshot (by convention a `.lore` file) holds everything a knowledge
 * base holds: every term with its id (ids are 1..n, and a knowledge base
 * opened from a snapshot gives every term its old id), every fact with its
 * sources and its asserted/derived marks.  It is versioned (a reader
 * refuses a file it cannot read fully, and says why), checksummed (CRC-32C
 * over every byte after the magic number), and written atomically.
 * README.md describes the format.
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
 * batch is open), LORE_ERR_IO (`path` is open in durable mode by another
 * handle, which holds its lock; or "path: what failed: why"; `path` is untouched, unless only
 * the final sync of the directory failed: then the message says the file
 * is saved but might not survive a system crash),
 * LORE_ERR_NOMEM.  kb is not changed; open iterators stay valid. */
LORE_API int lore_save(lore_kb *kb, const char *path);

/* Adds the contents of the snapshot `path` to kb, as any load: facts are
 * merged with kb's (sources and marks united), terms interned (a kb with
 * no terms, outside a transaction and durable mode, takes the snapshot's
 * ids and is built straight from its sorted rows, the fast way to load).
 * Only the snapshot is read, not a journal beside it (lore_open reads
 * both).  *added (may be NULL) gets the number of new
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
    /* after every change, before the call returns: nothing acknowledged is
     * ever lost (the default) */
    LORE_SYNC_CHANGE = 0,
    /* at lore_commit and lore_batch_commit: a committed transaction or
     * batch is never lost; single changes outside a transaction are synced
     * with the next commit, checkpoint, lore_sync or close */
    LORE_SYNC_COMMIT = 1,
    /* every sync_ms milliseconds, by a background thread: a system crash
     * loses at most the changes of the last sync_ms (plus the time one sync
     * takes) */
    LORE_SYNC_INTERVAL = 2,
    /* only at checkpoint, lore_sync and close */
    LORE_SYNC_NONE = 3
};

typedef struct lore_open_options {
    int journal;      /* non-zero: durable mode, keep a journal */
    int sync;         /* LORE_SYNC_*; zeroed options give LORE_SYNC_CHANGE */
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
LORE_API int lore_open(lore_kb *kb, const char *path,
                       const lore_open_options *opts);

/* Saves kb over the snapshot it was opened from (as lore_save, with the
 * next generation number), then empties its journal.  A crash between the
 * two is safe: the journal names the snapshot generation it follows, and
 * an older one is known to be folded in already.  Returns LORE_OK,
 * LORE_ERR_STATE (not opened with lore_open, a transaction or batch is
 * open, or kb was opened without a journal and another handle has the file
 * open in durable mode), LORE_ERR_IO, LORE_ERR_NOMEM.  If the snapshot
 * was saved but the journal could not be emptied, LORE_ERR_IO, and changes
 * are refused until a checkpoint succeeds. */
LORE_API int lore_checkpoint(lore_kb *kb);

/* Syncs the journal to disk now, whatever the policy.  LORE_OK (also for a
 * knowledge base without a journal) or LORE_ERR_IO. */
LORE_API int lore_sync(lore_kb *kb);

/* ------------------------------------------------------------------ */
/* Prefixes                                                           */

/* A knowledge base has a prefix table: short names for IRI namespaces.
 * Once `ex` is bound to `http://example.org/`, the symbol `ex:Ally` given
 * to lore_intern, lore_lookup or lore_batch_intern stands for the symbol
 * `<http://example.org/Ally>` (IRIs are symbols with their angle
 * brackets).  Expansion applies to a symbol `NAME:LOCAL` whose NAME is
 * bound and whose LOCAL holds only characters an IRI may hold (no space,
 * control or <>"{}|^`\); symbols starting with `<` and every symbol while
 * no prefix is bound are taken as they are, at no cost.  Binding a prefix
 * changes what later calls mean; terms already interned stay as they are.
 * Loading a Turtle or TriG file binds its @prefix names (see lore_import). */

/* Binds prefix `name` (empty, or a letter followed by letters, digits,
 * `_`, `-`, `.`, not ending in `.`) to namespace `iri` (without angle
 * brackets; only characters an IRI may hold), replacing an earlier
 * binding.  Returns LORE_OK, LORE_NOOP (already bound so), LORE_ERR_ARG
 * (message says what was expected), LORE_ERR_NOMEM.  Strings are copied. */
LORE_API int lore_prefix_set(lore_kb *kb, const char *name, const char *iri);

/* Unbinds `name`: LORE_OK, or LORE_NOOP if it was not bound. */
LORE_API int lore_prefix_remove(lore_kb *kb, const char *name);

/* The namespace bound to `name`, or NULL.  Valid until the binding changes
 * (lore_prefix_set/remove, a load that binds prefixes) or lore_kb_free. */
LORE_API const char *lore_prefix_get(const lore_kb *kb, const char *name);

/* The number of bindings, and binding i (0 <= i < count) in the order of
 * the names' bytes: LORE_OK or LORE_ERR_ARG (i out of range).  The
 * strings stay valid as for lore_prefix_get. */
LORE_API size_t lore_prefix_count(const lore_kb *kb);
LORE_API int lore_prefix_at(const lore_kb *kb, size_t i, const char **name, const char **iri);

/* The compact form `name:local` of the IRI symbol sym[0..len) (`<...>`)
 * under the longest bound namespace that starts it, such that expanding
 * it gives sym back.  Writes it NUL-terminated to buf if it fits in cap
 * bytes (buf may be NULL when cap is 0) and returns its length, like
 * snprintf; returns 0 when no binding applies (sym is not an IRI, or no
 * namespace starts it). */
LORE_API size_t lore_compact(const lore_kb *kb, const char *sym, size_t len, char *buf,
                             size_t cap);

/* ------------------------------------------------------------------ */
/* Files and formats                                                  */

/* The formats lore reads and writes; README.md ("Files and formats") has
 * the mapping between RDF terms and lore terms, in short:
 *  - an IRI is the symbol `<IRI>`; a plain name (a symbol without angle
 *    brackets, like `nato`) is written as the IRI `urn:lore:NAME`
 *    (percent-encoded) and read back as the plain name;
 *  - xsd:integer and the integer types within 64 bits <-> integer;
 *    xsd:double, xsd:float, xsd:decimal <-> number; xsd:boolean <->
 *    boolean; xsd:date, xsd:dateTime, xsd:gYear, xsd:gYearMonth <-> date;
 *    language strings <-> text with its tag; plain strings <-> text;
 *  - a literal without an exact lore value (another datatype, a value out
 *    of range, an ill-formed lexical form) is the symbol holding its
 *    N-Triples form, e.g. `"1"^^<http://example.org/dt>`, written back as
 *    that literal;
 *  - a blank node is the symbol `_:label`, made unique per load (a label
 *    whose symbol already exists before the load gets a fresh name);
 *  - graphs (N-Quads, TriG) <-> sources; the default graph <-> the default
 *    source.
 * Writing then reading gives back exactly the same terms and facts. */
typedef enum lore_format {
    LORE_FORMAT_AUTO = 0,     /* from the file name's extension */
    LORE_FORMAT_NTRIPLES = 1, /* .nt */
    LORE_FORMAT_NQUADS = 2,   /* .nq */
    LORE_FORMAT_TURTLE = 3,   /* .ttl */
    LORE_FORMAT_TRIG = 4,     /* .trig */
    LORE_FORMAT_JSON = 5      /* .json: lore's own format (knowledge/README.md);
                                 written here, read by the Lua module */
} lore_format;

/* The format a name stands for: a file name by its extension (`x.nt`), or
 * a format name (`nt`, `ntriples`, `nq`, `nquads`, `ttl`, `turtle`,
 * `trig`, `json`), case-insensitive.  LORE_FORMAT_AUTO if none. */
LORE_API lore_format lore_format_of(const char *name);

/* The short name of a format ("nt", "nq", "ttl", "trig", "json"), or "". */
LORE_API const char *lore_format_name(lore_format f);

/* Progress of a load: `bytes` read so far of `total` (0 if unknown) and
 * the facts read so far.  Called about every mebibyte of input and once
 * at the end of the input.  Return 0 to go on; anything else stops the
 * load, which then fails with LORE_ERR_INTERRUPT and changes nothing.
 * It must not call lore functions on the knowledge base being loaded
 * (they would return LORE_ERR_STATE). */
typedef int (*lore_progress_fn)(void *ud, uint64_t bytes, uint64_t total, uint64_t facts);

typedef struct lore_load_opts {
    lore_format format;        /* LORE_FORMAT_AUTO: from the file name */
    const lore_value *source;  /* source of facts outside any named graph
                                  (NULL: the default source); interned as
                                  part of the load */
    const char *base;          /* base IRI for relative IRIs in Turtle and
                                  TriG; NULL: the file's own file:// IRI
                                  (lore_import_string: none, relative IRIs
                                  stay as written) */
    lore_progress_fn progress; /* may be NULL */
    void *progress_ud;
} lore_load_opts;

typedef struct lore_load_info {
    uint64_t facts; /* statements read (duplicates included) */
    size_t added;   /* facts that were new */
    uint64_t bytes; /* bytes read */
} lore_load_info;

/* Reads an RDF file (N-Triples, N-Quads, Turtle or TriG) into kb, all or
 * nothing: on any failure the knowledge base (terms, facts, sources,
 * prefixes) is exactly as before.  `opts` and `info` may be NULL.
 * Turtle and TriG @prefix bindings are added to kb's prefix table
 * (except for the urn:lore: namespace, which is lore's own, and
 * namespaces that stay relative for want of a base).  Large
 * N-Triples and N-Quads files go through a path built for them: terms
 * are interned with caches for repeated subjects and predicates, facts
 * are sorted and merged into the indexes once.
 * Returns LORE_OK; LORE_ERR_SYNTAX with the message
 * `FILE:LINE:COLUMN: what was expected` (a failure found after parsing,
 * such as a term lore cannot hold, names the statement instead of a
 * column); LORE_ERR_IO (cannot open or read: the message says why);
 * LORE_ERR_ARG (unknown format, an invalid opts->source, JSON: read JSON
 * with the Lua module's kb:load); LORE_ERR_STATE (a batch or load is open);
 * LORE_ERR_INTERRUPT (lore_kb_interrupt or the progress callback);
 * LORE_ERR_LIMIT; LORE_ERR_NOMEM.  Inside a transaction the added facts
 * belong to it (lore_rollback takes them back).  Iterators opened before
 * a load that added facts return LORE_ERR_CHANGED.  serd, the RDF
 * library, allocates its parser buffers with malloc, outside `alloc`. */
LORE_API int lore_import(lore_kb *kb, const char *path, const lore_load_opts *opts,
                         lore_load_info *info);

/* The same, reading text[0..len) (need not be NUL-terminated); `name`
 * stands for the file in messages (NULL: "string").  opts->format must
 * name a format (there is no extension to go by). */
LORE_API int lore_import_string(lore_kb *kb, const char *text, size_t len, const char *name,
                                const lore_load_opts *opts, lore_load_info *info);

/* Where lore_export_to writes: returns the number of bytes taken (less
 * than len is a write error, which stops the export). */
typedef size_t (*lore_write_fn)(void *ud, const void *buf, size_t len);

typedef struct lore_export_opts {
    lore_format format; /* LORE_FORMAT_AUTO: from the file name */
} lore_export_opts;

/* Writes every asserted fact of kb to `path` in a format of lore_format,
 * deterministically: the same facts give the same bytes, whatever the
 * order they were added in.  Facts are grouped by source (the default
 * source first, then sources in lore_compare order) and sorted by
 * subject, predicate and object in lore_compare order.  N-Quads, TriG and
 * JSON keep sources (a fact with two sources is written twice); N-Triples
 * and Turtle have no graphs and write each fact once.  Turtle and TriG
 * start with kb's prefixes.  Facts that rules derive but no source
 * asserts are not written.  The file is written beside `path` and renamed
 * over it at the end, so `path` is never left half-written.  *written (may
 * be NULL) gets the number of facts (statements) written.
 * A source that is not a symbol (a text, a number...) names its graph
 * with a `urn:lore-literal:` IRI, which reads back as that term.
 * Returns LORE_OK; LORE_ERR_ARG (unknown format; JSON: a symbol starting
 * with `?`, which JSON reads as a query variable); LORE_ERR_IO (with the
 * reason); LORE_ERR_STATE (a batch is open); LORE_ERR_NOMEM.  On failure
 * lore_export leaves `path` as it was; lore_export_to may have written
 * part of the output. */
LORE_API int lore_export(lore_kb *kb, const char *path, const lore_export_opts *opts,
                         uint64_t *written);

/* The same, through `write` (format must not be LORE_FORMAT_AUTO). */
LORE_API int lore_export_to(lore_kb *kb, lore_format format, lore_write_fn write, void *ud,
                            uint64_t *written);

/* ------------------------------------------------------------------ */
/* Computed values                                                    */

/* A body (of a query or a rule) can compute a value and bind it to a
 * variable: in the text form `?y = EXPR`, where EXPR is a term, a
 * variable, arithmetic (+ - * / and unary -, with parentheses) or a call
 * name(EXPR, ...).  Integers stay integers (an overflow or an inexact
 * division gives a number); anything with a double is a double.
 * Builtin functions (no Lua needed, so rules in knowledge files can use
 * them): year(d) month(d) day(d) of a date (integers; no value when the
 * date leaves the part out), concat(x, ...) (a text of the arguments'
 * strings), lower(x) upper(x) (ASCII letters, of a text or a symbol),
 * str(x) (a text), abs(x) round(x) floor(x) ceil(x) (round, floor and ceil
 * give integers) and number(x) (a double).
 *
 * A computed value becomes a term (it is interned).  When an expression
 * has no value (a non-number in arithmetic, a division by zero, a month
 * of a year-only date, a function that says so) the row is dropped, as
 * by a filter.  If the variable is already bound when the element runs,
 * the element keeps the row only when the values are equal (numbers by
 * value).  The element runs as soon as the variables it reads are bound;
 * lore_query_prepare fails (LORE_ERR_ARG) when one of them is bound by
 * nothing before it.
 *
 * A value function computes a value from nargs argument values: it
 * returns LORE_OK with *out set (strings in *out must stay valid until
 * the function is called again or the query or inference ends), LORE_NOOP
 * for "no value" (the row is dropped), or a negative status to stop the
 * query or inference with it (LORE_ERR_CALLBACK is the one meant for
 * that).  It must not change the knowledge base. */
typedef int (*lore_value_fn)(void *ud, lore_kb *kb, const lore_value *args, size_t nargs,
                             lore_value *out);

/* Registers `name` (letters, digits, _; not a builtin's name) as a
 * function usable in the text form of every later query and rule of kb;
 * registering a name again replaces its function (bodies compiled before
 * call the new one).  LORE_OK, LORE_ERR_ARG, LORE_ERR_NOMEM. */
LORE_API int lore_function(lore_kb *kb, const char *name, lore_value_fn fn, void *ud);

/* Adds the element `var = expr` to the open group (expr in the text form,
 * expr[0..len)).  LORE_OK, LORE_ERR_SYNTAX ("query:1:COL: expected ...",
 * an unknown function), LORE_ERR_ARG, LORE_ERR_NOMEM. */
LORE_API int lore_query_let(lore_query *q, const char *var, const char *expr, size_t len);

/* Adds the element `var = fn(args...)` with a host function given by
 * pointer (nargs terms: variables or constants).  LORE_OK, LORE_ERR_ARG,
 * LORE_ERR_NOMEM. */
LORE_API int lore_query_let_fn(lore_query *q, const char *var, lore_value_fn fn, void *ud,
                               const lore_qterm *args, size_t nargs);

/* ------------------------------------------------------------------ */
/* Rules                                                              */

/* A rule derives facts: when its body (a query) has a solution, the
 * facts of its head (one or more triple patterns over the body's
 * variables and constants) hold.  Text form, with an optional name:
 *
 *     ancestor: ?a ancestor ?c :- ?a parent ?b, ?b ancestor ?c
 *     ?a ancestor ?b :- ?a parent ?b
 *     ?x year ?y :- ?x date ?d, ?y = year(?d)
 *     ?c reaches ?w, ?w receives ?c :- ?c beneficiary ?w . without { ?c status planned }
 *     ?g size ?n :- select ?g count(?m) as ?n where { ?m member_of ?g } group by ?g
 *
 * The body is the query text form of lore_query_parse, where ',' also
 * separates elements; head patterns are separated by ','.  A name is
 * letters, digits, _ and - followed by ':' and a space; without one, a
 * rule is named after its head's first predicate (with _2, _3 ... when
 * taken), or rule_N when that is a variable.
 *
 * Checks when a rule is added (LORE_ERR_RULE unless said otherwise, and
 * then the rule is not added):
 *  - "rule NAME: ?x is in the head but not bound by the body": every head
 *    variable must be bound in every solution (by a required pattern or
 *    path, a computed value, a union's every branch, or a select column);
 *  - "rule NAME: head: expected a triple pattern (subject predicate
 *    object), got ...": the head is patterns only, and a head predicate
 *    is a name or a variable, never a path;
 *  - "rules A, B: not stratifiable: A depends on B through negation (or:
 *    an aggregate), and B depends on A": a rule may not read, inside a
 *    `without` group or an aggregated body, facts that depend on its own
 *    head (the rules named are those of the cycle, in definition order);
 *  - the body's own errors, with their status (LORE_ERR_SYNTAX for text,
 *    LORE_ERR_ARG for an unknown operator, function or variable),
 *    prefixed "rule NAME: ";
 *  - "rule NAME: a rule of this name exists" (LORE_ERR_ARG).
 * Rules are stratified over predicates: a rule depends on every rule whose
 * head may match one of its body patterns (a variable predicate matches
 * every predicate), and all rules that may derive the same predicate
 * are evaluated together.
 *
 * Adding or removing a rule changes no fact until lore_infer (which then
 * recomputes every derived fact).  Rules are kept in definition order;
 * their ids are never reused.  Rules are not facts: a rollback keeps them.
 * Snapshots (lore_save, lore_checkpoint) save the rules whose bodies call
 * no host function by pointer (filter functions, lore_query_let_fn), with
 * whether the derived facts were settled, so that an opened knowledge base
 * goes on incrementally; rules that name a function registered with
 * lore_function need it registered before the snapshot is opened.  In
 * durable mode, adding and removing rules is journaled and must happen
 * outside transactions (LORE_ERR_STATE); derived facts are not journaled:
 * after a crash the next lore_infer derives them again from the replayed
 * changes. */

/* Adds the rule text[0..len).  `name` (may be NULL) overrides a name in
 * the text.  *id (may be NULL) gets its id.  LORE_OK, LORE_ERR_SYNTAX
 * ("rule:LINE:COL: expected ..., got ...", positions in the rule's text),
 * LORE_ERR_RULE, LORE_ERR_ARG, LORE_ERR_STATE (a batch is open; durable
 * mode inside a transaction), LORE_ERR_IO (durable mode: the journal
 * refused it; the rule is not added), LORE_ERR_NOMEM. */
LORE_API int lore_rule_add(lore_kb *kb, const char *text, size_t len, const char *name,
                           uint32_t *id);

/* Adds a rule built with the query builder: the head is nhead triple
 * patterns (3 * nhead terms: variables of the body, or constants; no
 * wildcards), the body a query of kb (which the rule owns from now on, in
 * every case: the caller must not use or free it again).  name may be
 * NULL.  Same statuses as lore_rule_add. */
LORE_API int lore_rule_define(lore_kb *kb, const char *name, const lore_qterm *head, size_t nhead,
                              lore_query *body, uint32_t *id);

/* Removes rule `id`.  LORE_OK, LORE_ERR_NOTFOUND, LORE_ERR_STATE and
 * LORE_ERR_IO as for lore_rule_add. */
LORE_API int lore_rule_remove(lore_kb *kb, uint32_t id);

/* Finds the rule named `name`.  LORE_OK with *id, or LORE_ERR_NOTFOUND. */
LORE_API int lore_rule_find(const lore_kb *kb, const char *name, uint32_t *id);

/* The name of rule `id` (valid until the rule is removed), or NULL if
 * there is none.  Cheap: it does not stratify the rules, as
 * lore_rule_info_at may. */
LORE_API const char *lore_rule_name(const lore_kb *kb, uint32_t id);

/* The number of rules, and what is known of the i-th (0 <= i < count, in
 * definition order).  Strings are valid until the rule is removed. */
typedef struct lore_rule_info {
    uint32_t id;
    const char *name;
    const char *text;  /* the text form as given (table-form rules: as rebuilt) */
    int stratum;       /* evaluation order: lower strata first */
    int closure;       /* 1 if its stratum is evaluated as a transitive closure */
} lore_rule_info;
LORE_API size_t lore_rule_count(const lore_kb *kb);
LORE_API int lore_rule_info_at(const lore_kb *kb, size_t i, lore_rule_info *info);

/* What an inference did.  A fact taken out and put back during the call
 * (a full recomputation takes out every derived fact first; delete and
 * rederive takes out what may have lost its support) counts in both. */
typedef struct lore_infer_stats {
    size_t added;   /* facts that appeared (derived) */
    size_t removed; /* derived facts that disappeared */
    size_t rounds;  /* evaluation rounds (each adds what it derived in one step) */
    int full;       /* 1 if it recomputed everything (rules changed, or after a failure) */
} lore_infer_stats;

/* Called by lore_infer after each evaluation round with the rounds and
 * the facts derived so far in the call; a non-zero return stops it as an
 * interrupt does (LORE_ERR_INTERRUPT, "inference stopped by its progress
 * function").  For a progress display; fn NULL removes it. */
typedef int (*lore_infer_progress_fn)(void *ud, uint64_t rounds, uint64_t derived);
LORE_API void lore_infer_progress(lore_kb *kb, lore_infer_progress_fn fn, void *ud);

/* Brings the derived facts up to date: afterwards they are exactly the
 * facts the rules derive from the asserted facts (the least fixpoint,
 * strata in order: a `without` or an aggregate reads lower strata
 * complete).  Semi-naive evaluation with index-backed joins; after
 * changes, the work is proportional to what changed: added facts are
 * propagated, and for removed facts the derived facts that depended on
 * them are taken out and those that still hold put back (delete and
 * rederive).  A stratum that computes the transitive closure of one
 * predicate (r(x,y) :- e(x,y) with r(x,z) :- e(x,y), r(y,z), or the
 * left-linear or doubling forms, or r(x,y) :- e+(x,y)) runs as a graph
 * closure, with the same result.
 *
 * Derived facts are marked (lore_fact_info.derived); a fact both asserted
 * and derived keeps both marks, and removing its assertions keeps it while
 * rules derive it.  Triggers fire after the facts have settled (see
 * lore_on), also when there are no rules.
 *
 * Returns LORE_OK (stats, may be NULL, filled), or on failure
 * LORE_ERR_LIMIT (more derived facts than lore_infer_limit allows, or a
 * knowledge base too large), LORE_ERR_INTERRUPT, LORE_ERR_NOMEM, a value
 * or filter function's error (LORE_ERR_CALLBACK), LORE_ERR_STATE (a batch
 * is open, or called from a trigger).  After a failure the asserted facts
 * are untouched and the store is consistent, but the derived facts are
 * partly updated: each was derived by a rule (for rules without negation
 * or aggregates, they are a subset of the fixpoint), and the next
 * lore_infer recomputes every derived fact from scratch.  A trigger
 * callback's failure is returned after the inference completed (see
 * lore_on).  Inside a transaction, a rollback also takes back what
 * lore_infer did, and the next lore_infer brings the facts up to date
 * again. */
LORE_API int lore_infer(lore_kb *kb, lore_infer_stats *stats);

/* At most max_derived facts may be derived (0: no limit); lore_infer
 * stops with LORE_ERR_LIMIT before passing it. */
LORE_API void lore_infer_limit(lore_kb *kb, uint64_t max_derived);

/* The number of facts with the derived mark. */
LORE_API size_t lore_derived_count(const lore_kb *kb);

/* 1 if facts or rules changed since the last successful lore_infer. */
LORE_API int lore_infer_pending(const lore_kb *kb);

/* Takes the derived mark from every fact: facts that are not asserted
 * disappear.  *removed (may be NULL) gets their number.  The rules stay,
 * and the next lore_infer derives everything again.  LORE_OK, LORE_NOOP,
 * LORE_ERR_NOMEM, LORE_ERR_STATE. */
LORE_API int lore_clear_derived(lore_kb *kb, size_t *removed);

/* Like lore_match, but only derived facts (flags LORE_MATCH_DERIVED) or
 * only asserted ones (LORE_MATCH_ASSERTED). */
enum { LORE_MATCH_ASSERTED = 1, LORE_MATCH_DERIVED = 2 };
LORE_API int lore_match_flags(lore_kb *kb, lore_id s, lore_id p, lore_id o, int flags,
                              lore_iter **itp);

/* ------------------------------------------------------------------ */
/* Explanations                                                       */

/* A proof of a fact, as steps: step 0 is the fact asked about; a step
 * derived by a rule names the rule, its bindings and its premises (steps
 * whose facts the body matched); an asserted step gives its sources.
 * Proofs are well-founded: no step depends on itself.  A fact explained
 * once is referred to again by a REPEAT step naming the first one. */
enum {
    LORE_PROOF_ASSERTED = 1, /* an asserted fact: see sources */
    LORE_PROOF_RULE = 2,     /* derived by `rule` from `premises` */
    LORE_PROOF_ABSENT = 3,   /* a negated condition: no fact matches `fact` (0 = any) */
    LORE_PROOF_REPEAT = 4,   /* explained at step `same` */
    LORE_PROOF_UNKNOWN = 5   /* derived, but no proof was found within the budget */
};

typedef struct lore_proof_step {
    lore_id fact[3];
    int kind;
    const char *rule;         /* RULE: the rule's name */
    size_t nbind;             /* RULE: the body's named variables and their values */
    const char *const *names; /* (values 0 when unbound; aggregates' values as terms) */
    const lore_id *values;
    size_t npremises; /* RULE: steps of the premises, in body order */
    const size_t *premises;
    size_t nsources; /* ASSERTED: its named sources (0 stands for the default source) */
    const lore_id *sources;
    size_t same;  /* REPEAT: the step explaining the fact */
    int depth;    /* nesting in the tree (0 for step 0) */
} lore_proof_step;

typedef struct lore_proof lore_proof;

/* Explains fact (s, p, o).  LORE_OK with *pr (the caller frees it with
 * lore_proof_free), LORE_ERR_NOTFOUND (the fact is not present; *pr NULL),
 * LORE_ERR_NOMEM, LORE_ERR_INTERRUPT.  The proof is read from the facts as
 * they are: after changes it explains only once lore_infer has run. */
LORE_API int lore_why(lore_kb *kb, lore_id s, lore_id p, lore_id o, lore_proof **pr);

LORE_API size_t lore_proof_steps(const lore_proof *pr);
/* Step i (NULL past the end); valid until lore_proof_free. */
LORE_API const lore_proof_step *lore_proof_step_at(const lore_proof *pr, size_t i);
/* The proof as an indented tree, one step a line, asserted facts with
 * their sources and, for a source that has a `text` fact (a sentence),
 * that text.  Owned by pr; NULL on failure to allocate. */
LORE_API const char *lore_proof_text(lore_proof *pr);
LORE_API void lore_proof_free(lore_proof *pr);

/* ------------------------------------------------------------------ */
/* Triggers                                                           */

/* A trigger calls fn for each fact matching (s, p, o) (0 = any) that
 * appeared (LORE_ON_ADDED) or disappeared (LORE_ON_REMOVED), asserted or
 * derived, between two settled states: lore_infer settles the facts, and
 * then fires the triggers, once per fact and event, for the net change
 * since the previous successful lore_infer (a fact added and removed in
 * between fires nothing).  A trigger added since then sees all of that
 * change.  Changes made by the callbacks are settled by the next
 * lore_infer.
 *
 * fn returns 0, or a negative status: lore_infer then calls the remaining
 * callbacks and returns the first such status (the facts stay settled;
 * the events are not fired again).  fn may change the knowledge base; it
 * must not free it, nor remove its own trigger.
 *
 * events: LORE_ON_ADDED, LORE_ON_REMOVED or both.  *handle gets the
 * trigger's handle for lore_off.  LORE_OK, LORE_ERR_ARG, LORE_ERR_NOMEM. */
enum { LORE_ON_ADDED = 1, LORE_ON_REMOVED = 2 };
typedef int (*lore_trigger_fn)(void *ud, lore_kb *kb, const lore_id fact[3], int event);
LORE_API int lore_on(lore_kb *kb, lore_id s, lore_id p, lore_id o, int events, lore_trigger_fn fn,
                     void *ud, uint32_t *handle);

/* Removes a trigger.  LORE_OK, LORE_ERR_NOTFOUND. */
LORE_API int lore_off(lore_kb *kb, uint32_t handle);

#ifdef __cplusplus
}
#endif
#endif /* LORE_H */
