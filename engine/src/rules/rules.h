/* rules.h - rules over the store: definitions and their checks (rules.c),
 * evaluation to a fixpoint and its maintenance (infer.c), proofs (why.c),
 * triggers.
 *
 * Model.  The asserted facts are the base; the derived facts are the
 * least fixpoint of the rules over them, stratum by stratum.  A derived
 * fact carries META_DERIVED; one that is not asserted also carries its
 * rank in the meta word's payload: the evaluation round that derived it,
 * from a counter that only grows.  Every derived fact of rank k has a
 * derivation whose premises are asserted or of rank < k, so proofs that
 * follow ranks down are well-founded (rank 0 on a derived-only fact means
 * "unknown": its assertion was removed since; why.c then searches).
 *
 * Rules are grouped: two rules whose heads can match a common fact are in
 * one group, so every derived fact belongs to the group of any rule whose
 * head matches it.  Groups depend on groups (a head that can match a body
 * pattern or path, positively or through negation / an aggregate); the
 * strongly connected components of that graph, in topological order, are
 * the strata.  A cycle through negation or an aggregate is refused when
 * the rule is added.
 *
 * Maintenance.  The store's change log (store.h) holds every fact whose
 * marks changed since the last settled state Q, with its marks at Q.
 * lore_infer reads it stratum by stratum: a stratum whose inputs changed
 * only in positive patterns is maintained by semi-naive insertion and by
 * delete-and-rederive (overdeletion runs on the old state: facts that
 * disappeared are visible again as "ghosts" to the executor); a negated
 * fact that came seeds the overdeletion with what it blocks (the body
 * without its negation, the variables the fact fixes bound), one that
 * went seeds the insertion with what it unblocks; a stratum that reads
 * none of its own facts is kept up by slices when its negated or
 * aggregated inputs change; one whose other inputs change (a path, a
 * negated pattern that fixes nothing of the body) is recomputed; a
 * transitive-closure stratum uses graph algorithms.  After a failure, or
 * when the rules changed, everything is recomputed (R->full).
 *
 * Invariants (outside lore_infer):
 *  - R->full == 0 implies: the derived facts are exactly the fixpoint of
 *    the rules over the asserted facts as they were at Q, and the change
 *    log holds every change since Q (it is on while rules or triggers
 *    exist).
 *  - strata[] is consistent with rules[] (rebuilt whenever a rule is
 *    added or removed). */
#ifndef LORE_RULES_H
#define LORE_RULES_H

#include "query.h"

/* A term of a head pattern: a body variable (var >= 0) or a constant. */
typedef struct hterm {
    int var;
    uint32_t id;
} hterm;

/* One read of a rule's body: a pattern or a path node. */
enum { RD_POS = 0, RD_NEG = 1, RD_AGG = 2, RD_PATH = 3 };
typedef struct rread {
    int node;        /* the qprog node */
    int k;           /* PATTERN: its index for qprog_pattern_node, else -1 */
    int how;         /* RD_*: delta-able positive pattern, or not */
    uint32_t key[3]; /* PATTERN: constant ids (0 where a variable; an unknown constant: ~0) */
    uint32_t *preds; /* PATH: its predicates (0 = any predicate) */
    int npreds;
    int outer;       /* RD_NEG pattern under one without-group and no other: bit k when
                      * position k holds a variable every solution outside binds (a
                      * fact it matches then fixes those of the body); else 0 */
    int branch;      /* under a union of two branches or more: a row of the body may
                      * have come through another branch, its values no fact this
                      * pattern read */
    int alone;       /* RD_NEG: the pattern is the only element of a without-group
                      * of the body's top level (a fact it matches blocks every row
                      * it fixes) */
} rread;

typedef struct rplan {
    int made;
    qplan pl;
    uint64_t size; /* facts when planned */
    double delta;  /* the delta size planned for */
} rplan;

typedef struct rule {
    uint32_t id;
    char *name;
    size_t namelen;
    char *text;
    size_t textlen;
    lore_query *body; /* owns the program */
    qprog *prog;
    int nhead;
    hterm (*head)[3];
    int agg;      /* the body aggregates: evaluated through the query's output stage */
    int *headcol; /* agg: per head term var, the query column (or -1) */
    rread *reads;
    int nreads;
    int naive; /* reads its own stratum through a path: re-run whole each round */
    int branchy; /* the body has an optional group: a delta run over a pattern in it
                  * also makes rows that do not read that pattern */
    int group, stratum;
    rplan full;   /* no delta */
    rplan *delta; /* per read (patterns only) */
    rplan *check; /* per head pattern: body with that head's variables pre-bound */
    uint8_t **checkbound;
    rplan *checklead; /* per head and read (nhead * nreads, made when first needed): the
                       * check's body led by that read's pattern */
    rplan *slice; /* per read: body with the head's variables the read has pre-bound */
    uint8_t **slicebound;
    struct rneg *neg; /* per read (RD_NEG with outer): its upkeep's plans (infer.c) */
} rule;

/* A negated read's plans: the body with the read's outer variables
 * pre-bound (bound), with its without-groups left out (pos) and whole
 * (run). */
typedef struct rneg {
    rplan pos, run;
    uint8_t *bound;
} rneg;

/* Transitive-closure forms of a stratum. */
enum { TC_NONE = 0, TC_RIGHT, TC_LEFT, TC_DOUBLE, TC_PATH };

/* A set of triples (open addressing). */
typedef struct tset {
    uint32_t *t; /* 3 ids per slot, s == 0 empty */
    size_t n, cap;
} tset;

typedef struct stratum {
    int *rules; /* indexes into R->v */
    int nrules;
    int tc;           /* TC_*: the stratum computes r = e+ */
    uint32_t e, r;    /* the closure's edge and result predicates */
    int tcrule[2];    /* TC: the base rule and the recursive one (-1 for TC_PATH) */
    size_t nasserted; /* asserted facts of the heads' predicates at the settled state:
                       * exact for a closure (its path needs none), else at least
                       * as many (SIZE_MAX: not known); none: the overdeletion
                       * need not look its candidates up */
    int read_later;   /* a later stratum reads facts this one derives */
    int sliceable;    /* kept up by slices (infer.c): 0 not known yet, 1 no, 2 yes */
    tset multi;       /* facts of it found with more than one derivation (some may
                       * have gone since, or have one now) */
    int multi_known;  /* every fact of it not in multi came of one derivation: since
                       * its last evaluation from nothing, every second derivation
                       * found was noted; a removal's overdeletion then need not
                       * rederive any other */
} stratum;

typedef struct trigger {
    uint32_t handle;
    uint32_t t[3];
    int events;
    lore_trigger_fn fn;
    void *ud;
} trigger;

typedef struct rules {
    rule **v;
    size_t n, cap;
    uint32_t next_id;
    stratum *strata;
    int nstrata;
    trigger *trig;
    size_t ntrig, trigcap;
    uint32_t next_handle;
    uint64_t max_derived;
    size_t memo_max; /* the scan memo's cap in facts (0: its default; tests lower it) */
    size_t defer_seed; /* new facts that make an insertion keep its derived facts aside
                        * until its fixpoint (0: DEFER_SEED; tests lower it) */
    size_t lead_min;   /* a check's first pattern matching more facts than this lets
                        * another lead (0: LEAD_MIN; tests lower it) */
    uint32_t *round_t; /* a small round set's slots (empty), kept for the next inference */
    size_t round_cap;
    uint32_t round; /* the last rank given */
    int full;       /* the next lore_infer recomputes everything */
    int firing;     /* triggers are being called */
    int restoring;  /* rules read back from a snapshot or journal: not journaled */
    int stale;      /* rules were added since the strata were made (rules_stratify) */
    /* how many heads and reads name each predicate (pk: ids, open
     * addressing, 0 free), and name none (a variable predicate or a path
     * through any): a rule whose heads no other rule reads or shares
     * cannot close a cycle, so adding it needs no stratification yet */
    uint32_t *pk;
    int32_t *ph, *pr;
    size_t pcap, pn;
    long hvar, rvar;
    lore_infer_progress_fn progress; /* lore_infer_progress */
    void *progress_ud;
    struct rule **nh; /* the rules by name, open addressing (rules.c) */
    size_t nhcap;
    int *stemk;       /* by a stem's hash: the number a default name tries first */
    size_t stemcap;
} rules;

/* Makes the strata of rules added since the last time.  LORE_OK or
 * LORE_ERR_NOMEM. */
int rules_stratify(lore_kb *kb);

/* The kb's rules state, made on first use (NULL on NOMEM, message set). */
rules *rules_get(lore_kb *kb);
void rules_free(lore_kb *kb);

/* Whether the change log must be on: rules or triggers exist. */
int rules_sync_log(lore_kb *kb);

/* Does head pattern h match fact t?  (Repeated variables must agree.) */
int rules_head_matches(const hterm h[3], const uint32_t t[3]);

/* infer.c */
int infer_run(lore_kb *kb, lore_infer_stats *stats);
void rplan_free(const mem *m, rplan *p);

/* why.c */
int why_explain(lore_kb *kb, const uint32_t t[3], lore_proof **pr);

/* A set of triples (tset, above), and a vector of them. */
int tset_add(const mem *m, tset *s, const uint32_t t[3], int *isnew);
/* Adds k triples (k <= TSET_BATCH), their slots prefetched together;
 * *added gets how many were new, and isnew (may be NULL) which. */
#define TSET_BATCH 32
int tset_add_many(const mem *m, tset *s, const uint32_t *t, size_t k, size_t *added,
                  unsigned char *isnew);
int tset_has(const tset *s, const uint32_t t[3]);
/* tset_has for k triples (k <= TSET_BATCH), their slots prefetched
 * together: has[j] for t's row j. */
void tset_has_many(const tset *s, const uint32_t *t, size_t k, unsigned char *has);
void tset_clear(tset *s);
void tset_free(const mem *m, tset *s);

typedef struct tvec {
    uint32_t *t;
    size_t n, cap;
} tvec;

/* A table of 8-byte slots that each hold a hash's high 32 bits beside an
 * index (0: free), placed by those bits: grown to `need` slots at least
 * without reading what the indexes point to.  Large tables grow four
 * times over (each growth reads every slot again, and the kernel zeroes
 * every fresh page), past 4 Mi slots twice (four times would zero more
 * than it saves: 2.3 million same-generation pairs took 128 MiB of slots
 * for 64 needed).  LORE_OK or LORE_ERR_NOMEM (the table unchanged). */
int slots_grow(const mem *m, uint64_t **slots, size_t *cap, size_t need);
/* Fetches, for a batch of k hashes' high bits, their home slots, then
 * the rows (`stride` ids each) of the slots that match: the probes'
 * cache misses overlap instead of following one another. */
static inline void slots_prefetch(const uint64_t *slots, size_t cap, const uint32_t *fp,
                                  size_t k, const uint32_t *rows, int stride)
{
#if defined(__GNUC__)
    size_t mask = cap - 1;
    for (size_t j = 0; j < k; j++)
        __builtin_prefetch(&slots[fp[j] & mask]);
    for (size_t j = 0; j < k; j++) {
        uint64_t e = slots[fp[j] & mask];
        if (e && (uint32_t)(e >> 32) == fp[j])
            __builtin_prefetch(rows + (size_t)stride * ((e & 0xffffffffu) - 1));
    }
#else
    (void)slots, (void)cap, (void)fp, (void)k, (void)rows, (void)stride;
#endif
}

/* A set of triples kept in the order they came: rows, 3 ids each, found
 * by 8-byte slots (the hash's high 32 bits beside the row's index + 1; 0
 * free).  Its table is two thirds a tset's, growing it reads no row, and
 * its rows list it without a walk of the table. */
typedef struct rset {
    uint32_t *rows;
    size_t n, cap; /* rows held, room in ids (3 a row, as a tvec's) */
    uint64_t *slots;
    size_t scap;
} rset;
int rset_add(const mem *m, rset *s, const uint32_t t[3], int *isnew);
/* Adds k triples (k <= TSET_BATCH), their slots and then the rows those
 * point to prefetched together; isnew gets which were new. */
int rset_add_many(const mem *m, rset *s, const uint32_t *t, size_t k, unsigned char *isnew);
int rset_has(const rset *s, const uint32_t t[3]);
/* rset_has for k triples (k <= TSET_BATCH), prefetched as rset_add_many's. */
void rset_has_many(const rset *s, const uint32_t *t, size_t k, unsigned char *has);
/* Frees the table and hands the rows to *v (freed before): s is empty. */
void rset_rows(const mem *m, rset *s, tvec *v);
void rset_free(const mem *m, rset *s);
int tvec_push(const mem *m, tvec *v, const uint32_t t[3]);
/* Room for `rows` rows in all (LORE_OK or LORE_ERR_NOMEM). */
int tvec_reserve(const mem *m, tvec *v, size_t rows);
void tvec_free(const mem *m, tvec *v);

/* Persistence (snapshot.c, journal.c).  A rule can be saved when its
 * body calls no host function by pointer: rules_saveable gives the i-th
 * rule's name and text (0 past the last; *ok 0 for one that cannot be
 * saved).  rules_settled: the derived facts are the fixpoint of the rules
 * over the asserted facts (nothing pending).  rules_restore adds a saved
 * rule (lore_rule_add, without journaling); rules_mark_settled says the
 * derived facts restored with the rules are their fixpoint. */
int rules_saveable(const lore_kb *kb, size_t i, const char **name, const char **text, int *ok);
int rules_settled(const lore_kb *kb);
int rules_restore(lore_kb *kb, const char *name, size_t namelen, const char *text, size_t textlen);
void rules_mark_settled(lore_kb *kb);

#endif
