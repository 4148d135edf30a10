/* rules_bench.c - lore's driver for the rig's closure task through rules
 * (bench/README.md of the shared rig, section 4), and for incremental
 * maintenance of that closure.
 *
 *   rules_bench version
 *   rules_bench closure FILE.nt
 *       loads FILE (lore_import), defines
 *         ?a anc ?b :- ?a <http://example.org/parent> ?b
 *         ?a anc ?c :- ?a <http://example.org/parent> ?b, ?b anc ?c
 *       and materialises anc with lore_infer; prints PHASE load, PHASE
 *       closure (its own clock) and RESULT <anc pairs>.
 *   rules_bench sg FILE.nt
 *       W4 same generation: sg(x,y) :- parent(x,p), parent(y,p), x != y;
 *       sg(x,y) :- parent(x,a), sg(a,b), parent(y,b); prints PHASE load,
 *       PHASE sg and RESULT <sg pairs>.
 *   rules_bench incremental FILE.nt [PERCENT] [SEED]
 *       the same, then adds PERCENT (default 1) % more parent edges (for
 *       random nodes, a second parent drawn as the generator draws them:
 *       from the 1000 nodes before it) and infers again, then removes
 *       PERCENT % of the edges (at random) and infers again; each result
 *       is checked against a fresh kb computing the same closure from
 *       scratch.  Prints PHASE scratch, add, remove (seconds), add-fresh
 *       and remove-fresh (the fresh kb's inference on the same final
 *       facts) and the pair counts and changes.
 *   rules_bench incremental-leaves FILE.nt [PERCENT] [SEED]
 *       the same, but the added edges are PERCENT % more nodes, each with
 *       one parent drawn as the generator draws them: the forest grows and
 *       stays a forest.
 *   rules_bench retract FILE.nt [PERCENT] [SEED]
 *       PERCENT % of the edges held by a source of their own, the closure
 *       inferred, the source retracted and the closure inferred again;
 *       PHASE retract and retract-fresh as above.
 *   rules_bench sg-incremental|sg-incremental-leaves|sg-retract FILE.nt [PERCENT] [SEED]
 *       the same upkeep for W4's same generation rules (sg pairs).
 *   rules_bench neg-incremental|neg-incremental-leaves|neg-retract FILE.nt [PERCENT] [SEED]
 *       the same for stratified negation and an aggregate: the leaves
 *       (`without` a child; leaf facts counted) and each parent's count of
 *       children.
 *   rules_bench blocks FILE.nt [PERCENT] [SEED]
 *       a recursive stratum with a negated input: the ancestors reached
 *       through nodes not blocked (`without { ?c blocked true }` in both
 *       rules).  PERCENT % of the nodes blocked (a source of their own),
 *       inferred; PERCENT % more blocked (PHASE add), then PERCENT % of the
 *       blocked nodes unblocked at random (PHASE remove); each with its
 *       -fresh phase and checked against a fresh kb as above. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_NAME "rules_bench"
#include "bench.h"


static const char *const RULES[2] = {
    "?a anc ?b :- ?a <http://example.org/parent> ?b",
    "?a anc ?c :- ?a <http://example.org/parent> ?b, ?b anc ?c",
};

/* W4 same generation (the rig's sg task). */
static const char *const SG_RULES[2] = {
    "?x sg ?y :- ?x <http://example.org/parent> ?p, ?y <http://example.org/parent> ?p, "
    "filter ?x != ?y",
    "?x sg ?y :- ?x <http://example.org/parent> ?a, ?a sg ?b, ?y <http://example.org/parent> ?b",
};

/* Stratified negation and an aggregate: the leaves (no child), and each
 * parent's count of children. */
static const char *const NEG_RULES[2] = {
    "?x leaf true :- ?x <http://example.org/parent> ?p, without { ?c <http://example.org/parent> ?x }",
    "?p children ?n :- select ?p count(?c) as ?n where { ?c <http://example.org/parent> ?p } "
    "group by ?p",
};

/* Ancestors through nodes not blocked. */
static const char *const BLOCK_RULES[2] = {
    "?a reach ?b :- ?a <http://example.org/parent> ?b, without { ?b blocked true }",
    "?a reach ?c :- ?a reach ?b, ?b <http://example.org/parent> ?c, without { ?c blocked true }",
};

static lore_kb *load(const char *file, double *secs)
{
    lore_kb *kb;
    if (lore_kb_new(&kb, NULL, NULL) != LORE_OK)
        die(NULL, "out of memory");
    double t0 = now();
    if (lore_import(kb, file, NULL, NULL) != LORE_OK)
        die(kb, file);
    *secs = now() - t0;
    return kb;
}

/* A program whose upkeep is measured: its two rules and their head. */
typedef struct program {
    const char *const *rules;
    const char *head;
    const char *input; /* a predicate the rules read beside parent (NULL: none) */
} program;
static const program CLOSURE = {RULES, "anc", NULL}, SAMEGEN = {SG_RULES, "sg", NULL},
                     NEGAGG = {NEG_RULES, "leaf", NULL}, BLOCKS = {BLOCK_RULES, "reach", "blocked"};

static void define(lore_kb *kb, const program *P)
{
    for (int i = 0; i < 2; i++)
        if (lore_rule_add(kb, P->rules[i], strlen(P->rules[i]), NULL, NULL) != LORE_OK)
            die(kb, P->rules[i]);
}

static uint64_t pairs(lore_kb *kb, const program *P)
{
    uint64_t n;
    if (lore_count(kb, 0, sym(kb, P->head), 0, &n) != LORE_OK)
        die(kb, "count");
    return n;
}

static double infer(lore_kb *kb, lore_infer_stats *st)
{
    double t0 = now();
    if (lore_infer(kb, st) != LORE_OK)
        die(kb, "infer");
    return now() - t0;
}

/* The parent edges, as (child, parent) ids. */
static lore_id *edges(lore_kb *kb, lore_id parent, size_t *n)
{
    uint64_t cnt;
    lore_count(kb, 0, parent, 0, &cnt);
    lore_id *e = malloc(2 * (cnt + 1) * sizeof *e);
    lore_iter *it;
    lore_match(kb, 0, parent, 0, &it);
    lore_id t[3];
    size_t k = 0;
    while (lore_iter_next(it, t) == LORE_OK)
        e[2 * k] = t[0], e[2 * k + 1] = t[2], k++;
    lore_iter_free(it);
    *n = k;
    return e;
}

/* A fresh kb with kb's parent edges, its closure from scratch: the pairs. */
static uint64_t scratch_pairs(lore_kb *kb, lore_id parent, const program *P, double *secs)
{
    size_t n;
    lore_id *e = edges(kb, parent, &n);
    lore_kb *f;
    lore_kb_new(&f, NULL, NULL);
    lore_id fp = sym(f, "<http://example.org/parent>");
    for (size_t i = 0; i < n; i++) {
        lore_value a, b;
        lore_term(kb, e[2 * i], &a);
        lore_term(kb, e[2 * i + 1], &b);
        lore_id ia, ib;
        lore_intern(f, &a, &ia);
        lore_intern(f, &b, &ib);
        lore_add(f, ia, fp, ib, 0);
    }
    if (P->input) { /* its facts too */
        lore_iter *it;
        lore_id t[3];
        lore_match(kb, 0, sym(kb, P->input), 0, &it);
        while (lore_iter_next(it, t) == LORE_OK) {
            lore_id g[3];
            for (int k = 0; k < 3; k++) {
                lore_value v;
                lore_term(kb, t[k], &v);
                lore_intern(f, &v, &g[k]);
            }
            lore_add(f, g[0], g[1], g[2], 0);
        }
        lore_iter_free(it);
    }
    define(f, P);
    *secs = infer(f, NULL);
    uint64_t p = pairs(f, P);
    lore_kb_free(f);
    free(e);
    return p;
}

static unsigned long long rnd_state = 88172645463325252ull;
static unsigned long long rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

/* FILE loaded (PHASE load), the random draws moved by seed (0: as they are). */
static lore_kb *start(const char *file, unsigned long long seed)
{
    double tload;
    lore_kb *kb = load(file, &tload);
    printf("PHASE load %.4f\n", tload);
    if (seed)
        rnd_state ^= seed * 0x9e3779b97f4a7c15ull;
    return kb;
}

/* PERCENT % of the edges, at random, held by a source of their own (taken
 * from the default source before the first inference); then that source
 * is retracted and the rules infer again. */
static int retract(const char *file, const program *P, double pct, unsigned long long seed)
{
    lore_kb *kb = start(file, seed);
    lore_id parent = sym(kb, "<http://example.org/parent>"), src = sym(kb, "s1");
    size_t ne;
    lore_id *e = edges(kb, parent, &ne);
    size_t k = (size_t)((double)ne * pct / 100.0 + 0.5), moved = 0;
    while (moved < k) {
        size_t i = (size_t)(rnd() % ne);
        if (!e[2 * i])
            continue;
        if (lore_remove(kb, e[2 * i], parent, e[2 * i + 1], LORE_ANY_SOURCE) != LORE_OK ||
            lore_add(kb, e[2 * i], parent, e[2 * i + 1], src) != LORE_OK)
            die(kb, "move an edge");
        e[2 * i] = 0, moved++;
    }
    free(e);
    define(kb, P);
    lore_infer_stats st;
    double tscratch = infer(kb, &st);
    uint64_t np = pairs(kb, P);
    printf("PHASE scratch %.4f\n", tscratch);
    size_t gone = 0;
    if (lore_retract_source(kb, src, &gone) != LORE_OK)
        die(kb, "retract");
    double tr = infer(kb, &st), fresh;
    uint64_t np2 = pairs(kb, P), want = scratch_pairs(kb, parent, P, &fresh);
    printf("PHASE retract %.4f\n", tr);
    printf("PHASE retract-fresh %.4f\n", fresh);
    printf("retract: %zu edges, %llu -> %llu pairs, from scratch %llu %s\n", gone,
           (unsigned long long)np, (unsigned long long)np2, (unsigned long long)want,
           np2 == want ? "ok" : "WRONG");
    lore_kb_free(kb);
    return 0;
}

/* PERCENT % of the nodes blocked, then PERCENT % more, then PERCENT % of
 * the blocked ones unblocked (see the head comment). */
static int blocks(const char *file, double pct, unsigned long long seed)
{
    lore_kb *kb = start(file, seed);
    lore_id parent = sym(kb, "<http://example.org/parent>"), blocked = sym(kb, "blocked");
    lore_id src = sym(kb, "s1");
    lore_value tv = lore_boolean(1);
    lore_id yes;
    if (lore_intern(kb, &tv, &yes) != LORE_OK)
        die(kb, "intern true");
    size_t ne;
    lore_id *e = edges(kb, parent, &ne); /* the nodes: each edge's child */
    size_t k = (size_t)((double)ne * pct / 100.0 + 0.5), nb = 0;
    lore_id *b = malloc(2 * k * sizeof *b);
    while (nb < k) {
        lore_id x = e[2 * (rnd() % ne)];
        if (lore_add(kb, x, blocked, yes, src) == LORE_OK)
            b[nb++] = x;
    }
    define(kb, &BLOCKS);
    lore_infer_stats st;
    double tscratch = infer(kb, &st), fresh;
    uint64_t np = pairs(kb, &BLOCKS);
    printf("PHASE scratch %.4f\n", tscratch);
    printf("edges %zu, pairs %llu\n", ne, (unsigned long long)np);
    while (nb < 2 * k) {
        lore_id x = e[2 * (rnd() % ne)];
        if (lore_add(kb, x, blocked, yes, src) == LORE_OK)
            b[nb++] = x;
    }
    double tadd = infer(kb, &st);
    uint64_t np2 = pairs(kb, &BLOCKS), want = scratch_pairs(kb, parent, &BLOCKS, &fresh);
    printf("PHASE add %.4f\n", tadd);
    printf("PHASE add-fresh %.4f\n", fresh);
    printf("add: %zu blocked, %zu pairs removed, %llu pairs, from scratch %llu %s\n", k, st.removed,
           (unsigned long long)np2, (unsigned long long)want, np2 == want ? "ok" : "WRONG");
    for (size_t gone = 0; gone < k;) {
        size_t i = (size_t)(rnd() % nb);
        if (b[i] && lore_remove(kb, b[i], blocked, yes, LORE_ANY_SOURCE) == LORE_OK)
            b[i] = 0, gone++;
    }
    double tremove = infer(kb, &st);
    uint64_t np3 = pairs(kb, &BLOCKS);
    want = scratch_pairs(kb, parent, &BLOCKS, &fresh);
    printf("PHASE remove %.4f\n", tremove);
    printf("PHASE remove-fresh %.4f\n", fresh);
    printf("remove: %zu unblocked, %zu pairs added, %llu pairs, from scratch %llu %s\n", k, st.added,
           (unsigned long long)np3, (unsigned long long)want, np3 == want ? "ok" : "WRONG");
    free(b);
    free(e);
    lore_kb_free(kb);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "version") == 0) {
        printf("lore %s\n", LORE_VERSION);
        return 0;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: rules_bench closure|incremental FILE.nt [PERCENT] [SEED]\n");
        return 3;
    }
    const char *task = argv[1], *file = argv[2];
    if (strcmp(task, "sg") == 0) {
        double tl;
        lore_kb *kb = load(file, &tl);
        printf("PHASE load %.4f\n", tl);
        for (int i = 0; i < 2; i++)
            if (lore_rule_add(kb, SG_RULES[i], strlen(SG_RULES[i]), NULL, NULL) != LORE_OK)
                die(kb, SG_RULES[i]);
        double t = infer(kb, NULL);
        uint64_t n;
        if (lore_count(kb, 0, sym(kb, "sg"), 0, &n) != LORE_OK)
            die(kb, "count");
        printf("PHASE sg %.4f\n", t);
        printf("RESULT %llu\n", (unsigned long long)n);
        lore_kb_free(kb);
        return 0;
    }
    if (strcmp(task, "blocks") == 0)
        return blocks(file, argc > 3 ? atof(argv[3]) : 1.0, argc > 4 ? strtoull(argv[4], NULL, 10) : 0);
    const program *P = &CLOSURE;
    if (strncmp(task, "sg-", 3) == 0)
        P = &SAMEGEN, task += 3;
    else if (strncmp(task, "neg-", 4) == 0)
        P = &NEGAGG, task += 4;
    if (strcmp(task, "retract") == 0)
        return retract(file, P, argc > 3 ? atof(argv[3]) : 1.0,
                       argc > 4 ? strtoull(argv[4], NULL, 10) : 0);
    int leaves = strcmp(task, "incremental-leaves") == 0;
    int incremental = leaves || strcmp(task, "incremental") == 0;
    if (!incremental && strcmp(task, "closure") != 0)
        return 3;
    double tload;
    lore_kb *kb = load(file, &tload);
    printf("PHASE load %.4f\n", tload);
    define(kb, P);
    lore_infer_stats st;
    double tscratch = infer(kb, &st);
    uint64_t np = pairs(kb, P);
    if (!incremental) {
        printf("PHASE closure %.4f\n", tscratch);
        printf("RESULT %llu\n", (unsigned long long)np);
        lore_kb_free(kb);
        return 0;
    }
    double pct = argc > 3 ? atof(argv[3]) : 1.0;
    if (argc > 4)
        rnd_state ^= strtoull(argv[4], NULL, 10) * 0x9e3779b97f4a7c15ull;
    lore_id parent = sym(kb, "<http://example.org/parent>");
    size_t ne;
    lore_id *e = edges(kb, parent, &ne);
    size_t k = (size_t)((double)ne * pct / 100.0 + 0.5);
    printf("PHASE scratch %.4f\n", tscratch);
    printf("edges %zu, pairs %llu\n", ne, (unsigned long long)np);

    /* more edges: node n{i} gets a second parent among the 1000 before it
     * (or a new node n{i} gets its parent so) */
    size_t added = 0;
    unsigned long long next = 0;
    for (lore_id t = 1; t <= (lore_id)lore_term_count(kb); t++) { /* the first free node */
        lore_value v;
        unsigned long long x;
        if (lore_term(kb, t, &v) == LORE_OK && v.kind == LORE_SYMBOL &&
            sscanf(v.str, "<http://example.org/n%llu>", &x) == 1 && x >= next)
            next = x + 1;
    }
    while (added < k) {
        unsigned long long i = leaves ? next + added : 1000 + rnd() % 19000;
        unsigned long long j = i - 1 - rnd() % 1000;
        char a[64], b[64];
        snprintf(a, sizeof a, "<http://example.org/n%llu>", i);
        snprintf(b, sizeof b, "<http://example.org/n%llu>", j);
        if (lore_add(kb, sym(kb, a), parent, sym(kb, b), 0) == LORE_OK)
            added++;
    }
    double tadd = infer(kb, &st);
    double fresh;
    uint64_t np2 = pairs(kb, P), want = scratch_pairs(kb, parent, P, &fresh);
    printf("PHASE add %.4f\n", tadd);
    printf("PHASE add-fresh %.4f\n", fresh);
    printf("add: %zu edges, %zu pairs added, %llu pairs, from scratch %llu %s\n", added, st.added,
           (unsigned long long)np2, (unsigned long long)want, np2 == want ? "ok" : "WRONG");

    /* fewer edges: PERCENT % of them, at random */
    free(e);
    e = edges(kb, parent, &ne);
    size_t removed = 0;
    while (removed < k) {
        size_t i = (size_t)(rnd() % ne);
        if (e[2 * i] && lore_remove(kb, e[2 * i], parent, e[2 * i + 1], LORE_ANY_SOURCE) == LORE_OK)
            removed++, e[2 * i] = 0;
    }
    double tremove = infer(kb, &st);
    uint64_t np3 = pairs(kb, P);
    want = scratch_pairs(kb, parent, P, &fresh);
    printf("PHASE remove %.4f\n", tremove);
    printf("PHASE remove-fresh %.4f\n", fresh);
    printf("remove: %zu edges, %zu pairs removed, %zu added, %llu pairs, from scratch %llu %s\n",
           removed, st.removed, st.added, (unsigned long long)np3, (unsigned long long)want,
           np3 == want ? "ok" : "WRONG");
    free(e);
    lore_kb_free(kb);
    return 0;
}
