/* path.h - property paths: `p+`, `p*`, `p?`, `^p`, `p1/p2`, `p1|p2` as
 * small automata walked breadth-first over the store.
 *
 * A path expression is parsed (qparse.c) into a tree of pnode, compiled
 * into an epsilon-free automaton (pnfa) whose transitions are labelled by a
 * predicate (0: any predicate) and a direction, once forwards and once
 * backwards (the inverse path, for walks from the object end).  A walk
 * visits (node, state) pairs at most once each, so cycles end and every
 * reached node is reported once, at its smallest depth (edges followed).
 *
 * Edges come from the store's indexes (one lookup per expansion) or, when a
 * walk has done enough lookups to pay for it, from a pgraph: the facts of
 * the path's predicates read once into compressed adjacency arrays over a
 * dense renumbering of their nodes.
 *
 * Invariants:
 *  - pnfa: states 0..nstates-1, start state 0, every state reachable from
 *    it; trans[toff[q] .. toff[q+1]) are q's transitions, without
 *    duplicates.  preds[] lists each (predicate, direction) label once.
 *  - pwalk: its sets are cleared by bumping a generation, never by
 *    rewriting memory, so a walk costs what it visits.
 *  - a pgraph mirrors the store at the version it was built; it is dropped
 *    when that version changes. */
#ifndef LORE_PATH_H
#define LORE_PATH_H

#include "kb.h"

/* ---- expressions ---- */

enum { P_PRED, P_INV, P_SEQ, P_ALT, P_PLUS, P_STAR, P_OPT };

typedef struct pnode {
    int op;
    int a, b;      /* operands (indexes in the same array), -1 if none */
    uint32_t pred; /* P_PRED: term id; 0 with any == 1: any predicate */
    int any;
    int cval; /* P_PRED: index of the predicate's value in the query's constants */
} pnode;

/* ---- automata ---- */

typedef struct ptrans {
    uint32_t pred; /* 0: any predicate */
    uint16_t inv;  /* 1: follow the edge from object to subject */
    uint16_t to;
    uint16_t label; /* index in pnfa.labels */
} ptrans;

typedef struct plabel {
    uint32_t pred;
    int inv;
} plabel;

typedef struct pnfa {
    int nstates;
    uint8_t *accept;
    int *toff; /* nstates + 1 */
    ptrans *trans;
    int ntrans;
    size_t transcap; /* allocated entries of trans */
    plabel *labels;
    int nlabels;
} pnfa;

/* Compiles the expression rooted at nodes[root] into a (forwards when inv
 * is 0, else inverse) automaton.  LORE_OK, LORE_ERR_NOMEM, LORE_ERR_LIMIT
 * (over 65535 states). */
int pnfa_build(const mem *m, const pnode *nodes, int root, int inv, pnfa *a);
void pnfa_free(const mem *m, pnfa *a);

/* ---- adjacency cache ---- */

typedef struct pgraph {
    uint64_t version; /* the store's version when built */
    uint32_t n;       /* dense nodes */
    uint32_t *ids;    /* dense index -> term id (idcap allocated) */
    size_t idcap;
    uint32_t *slot; /* hash: term id -> dense index + 1 (0: empty) */
    uint32_t nslot; /* power of two */
    int nlabels;
    uint32_t **off; /* per label: n + 1 offsets */
    uint32_t **adj; /* per label: neighbours (dense) */
    size_t *nadj;
} pgraph;

void pgraph_free(const mem *m, pgraph *g);

/* ---- walks ---- */

typedef struct pwalk {
    lore_kb *kb;
    const mem *m;
    /* visited (node, state) and reported nodes: generation-stamped hash
     * sets in index mode, stamp arrays over dense nodes in graph mode */
    uint64_t *vkey;
    uint32_t *vgen;
    size_t vcap, vn;
    uint64_t *rkey;
    uint32_t *rgen;
    size_t rcap, rn;
    uint32_t gen;
    uint32_t *dstamp, *rstamp; /* graph mode: per dense node x state, per node */
    uint32_t dcap, rscap;
    /* frontier queue: node, state, depth */
    uint32_t *queue;
    size_t qcap;
    uint32_t *nbuf; /* neighbours read from the store */
    size_t nbcap;
    uint64_t lookups; /* expansions done through the store */
    int checks;       /* interrupt check countdown */
} pwalk;

void pwalk_init(pwalk *w, lore_kb *kb);
void pwalk_free(pwalk *w);

/* Where a walk puts the nodes it reaches (and their depths if asked). */
typedef struct pout {
    uint32_t *node, *depth;
    size_t n, ncap, dcap;
    int want_depth;
} pout;

void pout_free(const mem *m, pout *o);

/* Walks automaton a from `start` and appends each node reached in an
 * accepting state, once, to out.  Stops at `target` if non-zero (then
 * *found says whether it was reached and nothing is appended), and follows
 * at most max_depth edges (UINT32_MAX: no limit).  g may be NULL (index
 * lookups) or a graph built for a's labels.  Returns LORE_OK,
 * LORE_ERR_NOMEM, LORE_ERR_INTERRUPT (message set), LORE_ERR_CHANGED. */
int pwalk_run(pwalk *w, const pnfa *a, const pgraph *g, uint32_t start, uint32_t target,
              uint32_t max_depth, pout *out, int *found);

/* Builds a graph of the facts of a's labels.  LORE_OK, LORE_ERR_NOMEM,
 * LORE_ERR_INTERRUPT. */
int pgraph_build(lore_kb *kb, const pnfa *a, pgraph *g);

/* The nodes where a walk of a over g can start producing: nodes with an
 * edge out of the start state, and every node when the start state
 * accepts (zero-length paths).  Appends term ids to *out. */
int pgraph_starts(const mem *m, const pnfa *a, const pgraph *g, pout *out);

/* Number of facts carrying a's labels (the work of building a graph). */
int pnfa_edges(store *st, const pnfa *a, uint64_t *n);

#endif
