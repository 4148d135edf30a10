/* query.h - conjunctive queries with filters, optional, negation, union,
 * paths, aggregates and solution modifiers: compiled once (qprog),
 * planned by cost (qplan), executed many times (qexec).
 *
 * The three stages, and why they are apart: a rule body (rules.c) is a
 * query too, and semi-naive evaluation runs the same body over and over,
 * each time with one pattern reading only the new facts (a "delta") and
 * some variables bound by the caller.  So a qprog is built once; a qplan is
 * made for one set of pre-bound variables and, optionally, one pattern
 * marked as reading a small override source; a qexec runs a plan with the
 * pre-bound values and the override facts of the moment.  lore_query (the
 * public handle) is one qprog + one qplan + one qexec + the output stage
 * (projection, aggregates, distinct, order, limit).
 *
 * Model.  Terms in patterns are slots: a variable (an index into the
 * program's variables) or a constant (an index into its constants, each a
 * value and the term id it resolves to when planned; 0 if no term has that
 * value, so nothing can match it).  A program is a tree of nodes: groups
 * (the top level, union branches, optional and without bodies) whose
 * children are patterns, paths, filters and nested groups.
 *
 * Evaluation is depth-first over a flat array of steps (index nested
 * loops, one store range per step, read in batches), with choice points on
 * a stack: no recursion, so lore_query_next can return a row and resume.
 * The row is an array of term ids per variable, 0 while unbound.  A step
 * that binds variables unbinds them when it is exhausted, so the row is
 * always exactly the bindings of the active steps.  Every bound/free
 * decision is taken at run time from the row, because a variable bound by
 * an optional group may or may not be bound later on.
 *
 * Planning.  Within each group the required elements (patterns, paths,
 * unions) are ordered by a dynamic program over subsets (greedy above 12
 * elements) minimising estimated rows read plus index seeks.  Estimates
 * come from exact counts of each pattern's constants (store_count) and from
 * a sample of the pattern's matches: the harmonic mean of the counts with
 * the sampled values fixed is the expected fan-out when those positions
 * are bound, which also gives the number of distinct values.  Join
 * cardinality uses the containment assumption: rows * count / max(ndv of
 * the bound variables so far, distinct values in the pattern).  Ties are
 * broken by the patterns' content, so the order the user wrote changes
 * nothing.  Filters and without-groups run as soon as their variables are
 * bound; optional groups follow the required elements in written order,
 * and filter functions (which may look at any variable) come last.
 *
 * Paths are steps too: with one end bound they walk from it (path.c),
 * through the store's indexes at first and through an adjacency cache once
 * the walks have cost about as much as reading the path's facts; with both
 * ends free they read that cache and walk from every start.
 *
 * Interruption: the executor checks lore_kb_interrupt's flag (and a watched
 * host flag) every 1024 steps, inside scans that reject rows, and in walks
 * every 4096 expansions; it then stops with LORE_ERR_INTERRUPT, changing
 * nothing.  Counting (qexec_count) does not produce the last pattern's rows
 * when nothing follows it: it adds their count from the index.
 *
 * Files: query.c (the handle, building, checks, preparing), qout.c (the
 * output stage and reading results), qplan.c (planning, explanations),
 * qexec.c (execution), qparse.c (the text form), path.c (automata and
 * walks), lpat.c (Lua patterns).
 *
 * Invariants:
 *  - qprog: node 0 is the top group; a node's children are linked by
 *    `next` in written order; every slot refers to an existing variable or
 *    constant.  Variables named "" are anonymous (wildcards).
 *  - qplan: steps[] is a valid program for the executor: every OPT/NOT
 *    step's `end` points at its matching END step and back; a UNION's
 *    branch starts are steps[] indexes, each branch ends with BR_END whose
 *    `end` is the step after the union.
 *  - qexec: while it runs, the store's version equals the one it started
 *    with (else LORE_ERR_CHANGED); its row holds exactly the bindings of
 *    the steps on the choice stack plus the pre-bound ones.
 */
#ifndef LORE_QUERY_H
#define LORE_QUERY_H

#include "fn.h"
#include "kb.h"
#include "path.h"

typedef struct qslot {
    int32_t var; /* >= 0: variable index; < 0: constant -var - 1 */
} qslot;

#define QS_NONE INT32_MIN /* a slot that is not used (a path's predicate) */

static inline qslot qs_var(int v)
{
    qslot s = {v};
    return s;
}
static inline qslot qs_const(int c)
{
    qslot s = {-c - 1};
    return s;
}

typedef struct qconst {
    lore_value v;  /* strings owned by the program (arena) */
    uint32_t id;   /* the term's id, 0 if unknown (resolved when planning) */
    int has_value; /* 0: given by id only */
} qconst;

enum qnode_kind {
    QN_GROUP,
    QN_PATTERN,
    QN_PATH,
    QN_FILTER,
    QN_OPTIONAL,
    QN_WITHOUT,
    QN_UNION,
    QN_BIND /* ?v = expression: a computed value (fn.h) */
};

enum qfilter_op { QF_EQ, QF_NE, QF_LT, QF_LE, QF_GT, QF_GE, QF_IN, QF_MATCH, QF_FN };

typedef int (*qfilter_fn)(void *ud, const lore_query *q);

typedef struct qfilter {
    int op;
    qslot a, b; /* operands (b unused for IN, FN; for MATCH a constant text) */
    int *set;   /* IN: constant indexes */
    int nset;
    qfilter_fn fn; /* FN */
    void *ud;
} qfilter;

typedef struct qnode {
    int kind;
    int parent, first, last, next; /* tree links, -1 for none */
    qslot t[3];                    /* PATTERN; PATH uses t[0] and t[2] */
    int path;                      /* PATH: root in prog->pnodes */
    int filter;                    /* FILTER: index in prog->filters */
    int pos;                       /* byte offset in the text form, or -1 */
    int var, expr;                 /* BIND: the variable, the expression's root in prog->exprs */
} qnode;

/* An expression node (QX_* of fn.h). */
typedef struct qexpr {
    int op;
    qslot slot;       /* QX_SLOT */
    int fn;           /* QX_CALL: builtin (< 0) or registered (>= 0) function */
    lore_value_fn hf; /* QX_HOST */
    void *hud;
    int a, b; /* operands; QX_CALL, QX_HOST: arguments prog->args[a .. a + b) */
} qexpr;

enum qagg { QA_NONE, QA_COUNT, QA_SUM, QA_MIN, QA_MAX, QA_AVG };

typedef struct qitem { /* a projected column */
    int var;           /* the variable shown, or for an aggregate its argument (-1: count(*)) */
    int agg;           /* QA_* */
    int distinct;
    int out; /* aggregates: the output variable (named by `as`) */
} qitem;

typedef struct qorder {
    int var;
    int desc;
} qorder;

typedef struct qchunk qchunk;

typedef struct qprog {
    lore_kb *kb;
    qnode *nodes;
    int nnodes, capnodes;
    char **vars; /* names without '?', "" for anonymous */
    int nvars, capvars;
    int *vhash; /* named variables by name: index + 1, 0 for a free slot */
    size_t vhcap;
    qconst *consts;
    int nconsts, capconsts;
    qfilter *filters;
    int nfilters, capfilters;
    pnode *pnodes;
    int npnodes, cappnodes;
    qexpr *exprs;
    int nexprs, capexprs;
    int *args; /* argument lists of calls: expression indexes */
    int nargs, capargs;
    /* solution modifiers */
    qitem *items;
    int nitems, capitems;
    int *group;
    int ngroup, capgroup;
    qorder *order;
    int norder, caporder;
    int distinct;
    uint64_t limit, offset;
    qchunk *arena;
    int open; /* the group nodes currently open (builder) */
    int *stack;
    int nstack, capstack;
} qprog;

/* ---- steps ---- */

enum qstep_kind {
    S_SCAN,
    S_PATH,
    S_FILTER,
    S_OPT,
    S_OPT_END,
    S_NOT,
    S_NOT_END,
    S_UNION,
    S_BR_END,
    S_BIND
};

typedef struct qstep {
    int kind;
    int node;               /* the program node it runs */
    int end;                /* OPT, NOT: their END step; BR_END: the step after the union */
    int begin;              /* OPT_END, NOT_END: their begin step */
    int br, nbr;            /* UNION: branch starts in plan->brs[br .. br + nbr) */
    int delta;              /* SCAN: reads the override source (qexec_source) */
    int mask;               /* SCAN, PATH: positions bound when planned (s=1 p=2 o=4) */
    int depth;              /* nesting, for the explanation */
    double est_in, est_out; /* estimated rows before and after */
    int pnfa;               /* PATH: index of its automata (forwards, inverse) in plan->nfas */
} qstep;

typedef struct qplan {
    qstep *steps;
    int nsteps, capsteps;
    int *brs;
    int nbrs, capbrs;
    pnfa *nfas; /* two per path step */
    int nnfas, capnfas;
    uint64_t *edges;   /* per path step pair: facts on its labels */
    uint8_t *prebound; /* nvars */
    int nvars;
    double est;
} qplan;

/* Options of qplan_make. */
typedef struct qplan_opts {
    const uint8_t *prebound; /* per variable: bound by the caller (NULL: none) */
    int delta_node;          /* a pattern node reading an override source, or -1 (in a
                                union's branch: the union runs that branch alone) */
    double delta_rows;       /* its expected number of facts */
    int delta_first;         /* run the delta pattern first when it is a top-level one (the
                                override is scanned whole at each activation) */
    int skip_without;        /* leave the without-groups out (the rules engine's upkeep
                                looks for what a body derived before a negated fact came) */
    int memo;                /* scans are remembered per key (a rule body's run): a scan of a
                                key read before costs little, a probe of a whole fact does not */
    int lead;                /* 1 + a top-level pattern node to run first, the rest ordered
                                after it (the caller knows its values: a check picks the
                                pattern that matches fewest facts); 0: the planner's choice */
} qplan_opts;

/* ---- execution ---- */

typedef struct qstate qstate;

/* Facts a run sees as well as the store's (the rules engine's "ghosts":
 * facts just removed, visible while the old state is evaluated): n facts
 * in three sorted copies, k[ORD_SPO] as (s,p,o), k[ORD_POS] as (p,o,s),
 * k[ORD_OSP] as (o,s,p).  They must not be in the store.  Patterns read
 * them (not paths). */
typedef struct qfacts {
    const uint32_t *k[3];
    size_t n;
} qfacts;
/* Is t among g's facts (g may be NULL)? */
int qfacts_has(const qfacts *g, const uint32_t t[3]);

/* A memo of scans for a caller that runs many bodies over one state of
 * the store (the rules engine, one round's deltas): the facts a pattern
 * matched for a key, kept so that the same key is read from the indexes
 * once (with the run's ghost facts, when it has some).  Valid while the
 * store's version and the ghosts stay; cleared when they change or when it
 * holds more than its cap, never under a scan still reading it.  Owned by
 * the caller (qmemo_free). */
typedef struct qmemo_ent {
    uint32_t node, key[3];
    uint32_t off, n; /* facts arena[3*off .. 3*(off+n)); n == UINT32_MAX: too many to keep */
} qmemo_ent;

/* A key shape read for many values of one id (a pattern with one bound
 * variable: (?, p, ?o) for each ?o): its entries by that id, 8 bytes each
 * (the memo's gen in the low 24 bits, then the count in 14 and the
 * arena offset in 26; gen 0: not read), so lookups stay in a small
 * array rather than probing a large table. */
typedef struct qmemo_dense {
    int pos;          /* the key position the id fills; -1: unused */
    uint32_t rest[3]; /* the key's other ids (0 at pos) */
    uint64_t *e;
    size_t cap; /* ids */
} qmemo_dense;

enum { QMEMO_DENSE = 4 };

typedef struct qmemo {
    qmemo_ent *e; /* open addressing; node == UINT32_MAX marks a free slot */
    size_t cap, used;
    qmemo_dense dense[QMEMO_DENSE];
    uint32_t gen; /* bumped when cleared: dense entries of another gen are stale */
    uint32_t *arena; /* facts, 3 ids each */
    size_t nfacts, acap;
    size_t max_facts; /* the arena's cap (0: the default, 4 Mi facts; tests lower it) */
    uint64_t version;
    const struct qfacts *ghost; /* the ghost facts its entries include (NULL: none) */
} qmemo;

void qmemo_free(const mem *m, qmemo *mo);

/* Makes the memo start again at its next use: for a caller whose ghost
 * facts change while the store does not. */
void qmemo_invalidate(qmemo *mo);

typedef struct qexec {
    lore_kb *kb;
    const qprog *prog;
    const qplan *plan;
    const lore_query *q; /* handed to filter callbacks */
    uint32_t *row;       /* nvars */
    qstate *st;          /* nsteps */
    int *choice;         /* choice stack of step indexes */
    int nchoice;
    int pc, mode, started, done;
    uint64_t version;
    const uint32_t *delta; /* override facts, 3 ids each */
    size_t ndelta;
    pwalk walk;
    int checks;
    uint64_t counted; /* count mode: rows counted without being produced */
    int count_mode;
    fn_scratch scratch;  /* computed values' strings */
    const qfacts *ghost; /* extra facts patterns read (NULL: none) */
    qmemo *memo;         /* scans to remember (NULL: none); not with ghosts */
    struct qpool *pool;  /* where row, st and choice are borrowed from (NULL: own) */
} qexec;

/* A run's arrays, kept by a caller that runs many short bodies (the rules
 * engine's checks, one per fact) and lent to each run in turn
 * (qexec_open_in): a run then allocates none.  Zeroed to start; freed
 * with qpool_free. */
typedef struct qpool {
    uint32_t *row;
    qstate *st;
    int *choice;
    size_t nrow, nst; /* room: ids of row; entries of st and of choice */
    int busy;         /* lent to a run not yet closed */
} qpool;
void qpool_free(const mem *m, qpool *p);

/* Builds a program on kb (empty top group). */
int qprog_init(qprog *p, lore_kb *kb);
void qprog_free(qprog *p);

/* Resolves constants to term ids (after terms were added) and checks what
 * can only be checked on the whole program: filters and modifiers naming
 * variables that nothing binds.  LORE_OK or LORE_ERR_ARG with a message. */
int qprog_check(qprog *p, const uint8_t *prebound);

/* Plans p.  LORE_OK, LORE_ERR_NOMEM, LORE_ERR_LIMIT.  */
int qplan_make(lore_kb *kb, const qprog *p, const qplan_opts *o, qplan *pl);
void qplan_free(const mem *m, qplan *pl);

/* Writes the plan as text ("1. ?x p ?y  scan  est 12") to a growing
 * buffer. */
int qplan_explain(const qprog *p, const qplan *pl, char **buf, size_t *len, size_t *cap,
                  const mem *m);

/* Starts a run: `init` gives the pre-bound variables' values (nvars ids,
 * 0 where unbound; NULL: none).  LORE_OK or LORE_ERR_NOMEM. */
int qexec_open(qexec *x, lore_kb *kb, const qprog *p, const qplan *pl, const uint32_t *init);
/* qexec_open with the arrays of `pool` (grown as needed), or its own when
 * the pool is lent to another run. */
int qexec_open_in(qexec *x, lore_kb *kb, const qprog *p, const qplan *pl, const uint32_t *init,
                  qpool *pool);

/* The override source for the plan's delta pattern: n facts (3 ids
 * each), borrowed until the run ends. */
void qexec_source(qexec *x, const uint32_t *facts, size_t n);

/* The next solution: LORE_OK with x->row filled, LORE_DONE,
 * LORE_ERR_INTERRUPT, LORE_ERR_CHANGED, LORE_ERR_NOMEM, or a filter
 * callback's error. */
int qexec_next(qexec *x);

/* Counts the remaining solutions, faster than stepping through them (the
 * last pattern is counted from the index when nothing follows it). */
int qexec_count(qexec *x, uint64_t *n);

void qexec_close(qexec *x);

/* Values and order for filters and sorting: numbers compare by value
 * (1 = 1.0), everything else by lore_compare's order. */
int query_compare_values(const lore_value *a, const lore_value *b);

/* lore_query_bind by variable index (the rules' slices): LORE_OK,
 * LORE_ERR_ARG (no such variable), LORE_ERR_NOMEM (the context says). */
int query_bind_var(lore_query *q, int v, lore_id id);

/* The row lore_query_binding reads while a filter function runs (NULL:
 * the handle's own run). */
void query_filter_row(lore_query *q, const uint32_t *row);

/* The public handle's program, for the rules engine (it builds rule bodies
 * with the lore_query_* builder and plans them itself). */
qprog *query_prog(lore_query *q);

/* The node of the k-th pattern added (0-based, in the order built; paths
 * not counted), or -1: what qplan_opts.delta_node names. */
int qprog_pattern_node(const qprog *p, int k);

/* How the rules engine is expected to use this (semi-naive evaluation):
 *
 *   lore_query *body;  lore_query_new + lore_query_pattern ... (or
 *                      lore_query_parse); qprog *p = query_prog(body);
 *   qprog_check(p, NULL);                      once, for its messages
 *   for each body pattern k that can read new facts:
 *       qplan_opts o = {NULL, qprog_pattern_node(p, k), expected_delta};
 *       qplan_make(kb, p, &o, &plan[k]);       once per rule and k
 *   each round, for each k:
 *       qexec_open(&x, kb, p, &plan[k], NULL); x.q = body (for filter functions)
 *       qexec_source(&x, delta_facts, ndelta);
 *       while (qexec_next(&x) == LORE_OK)  ... x.row[var] is each binding ...
 *       qexec_close(&x);
 *
 * The store must not change while a qexec runs (LORE_ERR_CHANGED): collect
 * the derived facts, then add them.  Variables can also be pre-bound
 * (o.prebound[v] = 1 when planning, init[v] = id when opening), e.g. to
 * check one candidate fact against a body. */

/* Text form (qparse.c): parses a whole query into q's program, a select
 * item, a filter expression or a path.  LORE_OK or LORE_ERR_SYNTAX with a
 * message "query:LINE:COL: expected ..., got ...". */
int qparse_query(lore_query *q, const char *text, size_t len);
int qparse_item(lore_query *q, const char *text, size_t len);
int qparse_filter(lore_query *q, const char *text, size_t len);
int qparse_path(qprog *p, const char *text, size_t len, int *root);

/* Computed values (query.c): adds a node `?var = expr` (expression root
 * `expr`) to the open group; an expression node; evaluates expression e
 * with variable values from the row (ids; 0 unbound: no value).
 * qexpr_eval returns LORE_OK, LORE_NOOP (no value), or an error. */
int qprog_bind(qprog *p, int var, int expr);
int qprog_expr(qprog *p, const qexpr *e, int *out);
int qprog_arg(qprog *p, int expr);
int qexpr_eval(lore_kb *kb, const qprog *p, int e, const uint32_t *row, lore_value *out,
               fn_scratch *sc);
/* The variables expression e reads, marked in vars (nvars). */
void qexpr_vars(const qprog *p, int e, uint8_t *vars);
/* Writes expression e in the text form to a growing buffer (qplan.c). */
int qplan_put_expr(const qprog *p, int e, char **buf, size_t *len, size_t *cap, const mem *m);
/* Writes the program's body in the text form (rules built with the
 * builder print themselves with it; filter and host functions print as
 * "filter function" and "function"). */
int qplan_put_body(const qprog *p, char **buf, size_t *len, size_t *cap, const mem *m);
/* Parses an expression (qparse.c) into *root. */
int qparse_expr(lore_query *q, const char *text, size_t len, int *root);

/* Builder internals shared with the parser. */
int qprog_var(qprog *p, const char *name, size_t len, int *var);
int qprog_const(qprog *p, const lore_value *v, uint32_t id, int *c);
int qprog_node(qprog *p, int kind, int *node);
int qprog_pnode(qprog *p, int op, int a, int b, int *out);
int qprog_filter(qprog *p, int *f);
int qprog_begin(qprog *p, int kind);
int qprog_end(qprog *p, int kind);
/* n bytes of s (NULL: uninitialised) and a NUL, in the program's arena. */
char *qprog_strdup(qprog *p, const char *s, size_t n);

/* The query handle: its program and plan (query.c), the executor, and the
 * output stage's rows, groups and computed values (qout.c). */
typedef struct qcell {
    uint32_t id;  /* a term, or 0 */
    uint32_t num; /* 0, or 1 + index of a computed value in q->nums */
} qcell;

typedef struct qnum {
    lore_kind kind; /* LORE_INTEGER or LORE_NUMBER */
    int64_t i;
    double n;
} qnum;

typedef struct qacc { /* one aggregate of one group */
    uint64_t count;   /* rows (count), numeric values (sum, avg) */
    int64_t isum;
    double dsum;
    int isint;     /* every value summed so far is an integer, no overflow */
    uint32_t best; /* min, max */
} qacc;

struct lore_query {
    lore_kb *kb;
    qprog prog;
    qplan plan;
    qexec x;
    int checked, planned, running, done, failed;
    uint64_t plan_size;  /* facts when planned */
    uint8_t *plan_bound; /* prebound set the plan was made for */
    uint32_t *bind;      /* pre-bound values, per variable */
    uint8_t *bound;
    int nbind; /* size of bind/bound/plan_bound */
    /* columns */
    int *cols;        /* variable per column (aggregates: their output variable) */
    int ncols, width; /* width: columns + hidden order keys */
    int colcap;       /* allocated entries of cols and hidden */
    int *hidden;      /* order variables that are not columns */
    int nhidden;
    int aggregating;
    /* output */
    qcell *cur;
    qcell *rows; /* materialised or remembered (distinct) rows, width cells each */
    size_t nrows, caprows, rowpos;
    int materialised;
    qnum *nums;
    size_t nnums, capnums;
    uint32_t *dset; /* distinct: hash of row index + 1 */
    size_t dcap, dn;
    uint64_t skipped, emitted;
    /* aggregation */
    uint32_t *gkeys; /* per group: ngroup ids */
    qacc *acc;       /* per group: one per item */
    size_t ngroups, capgroups, capacc;
    uint32_t *gslot; /* hash: group index + 1 */
    size_t gcap;
    uint64_t *aset; /* distinct aggregate inputs: (group, item, id) hashed */
    uint32_t *agen;
    size_t acap, an;
    /* kb:reach */
    int reach;
    uint32_t rstart, rdepth;
    int rroot;
    pnfa rnfa;
    /* text of the plan */
    char *text;
    size_t textlen, textcap;
    /* the row a filter function reads while some executor runs the
     * program (the rules engine runs executors of its own) */
    const uint32_t *filter_row;
};

/* Frees what the output stage (qout.c) holds: rows, computed numbers,
 * distinct and group tables; the query can run again. */
void qout_release(lore_query *q);

#endif
