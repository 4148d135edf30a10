/* test_store.c - the store against a naive model: every pattern shape,
 * counts, sources, derived marks, transactions and bulk merges, on random
 * workloads, with the invariants checked after every step; and every
 * allocation failure along a workload. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sort.h"
#include "store.h"

#include "failalloc.h"

/* ---- a naive model: a dense cube of source bitmasks ---- */

#define MAXT 48
#define NSRC 5
static const uint32_t srcid[NSRC] = {0, 101, 102, 103, 104};
#define DERIVED_BIT (1u << 31)

typedef struct model {
    int nt; /* terms are 1..nt */
    uint32_t cell[MAXT + 1][MAXT + 1][MAXT + 1];
} model;

static uint64_t rng_state = 88172645463325252ull;
static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

static size_t model_size(const model *md)
{
    size_t n = 0;
    for (int s = 1; s <= md->nt; s++)
        for (int p = 1; p <= md->nt; p++)
            for (int o = 1; o <= md->nt; o++)
                n += md->cell[s][p][o] != 0;
    return n;
}

static int src_index(uint32_t src)
{
    for (int i = 0; i < NSRC; i++)
        if (srcid[i] == src)
            return i;
    return -1;
}

/* The model's meta, compared by sources and the derived mark. */
static void expect_meta(const store *st, const model *md, int s, int p, int o)
{
    uint32_t c = md->cell[s][p][o];
    uint32_t meta = store_meta(st, (uint32_t)s, (uint32_t)p, (uint32_t)o);
    assert_int_equal(meta != 0, c != 0);
    if (!c)
        return;
    assert_int_equal((meta & META_DERIVED) != 0, (c & DERIVED_BIT) != 0);
    uint32_t ids[NSRC + 1];
    size_t n = store_meta_sources(st, meta, ids, NSRC + 1);
    uint32_t got = 0;
    for (size_t i = 0; i < n; i++) {
        int k = src_index(ids[i]);
        assert_true(k >= 0);
        got |= 1u << k;
        if (i)
            assert_true(ids[i - 1] < ids[i]);
    }
    assert_int_equal(got, c & ~DERIVED_BIT);
}

static int cmp3(const void *a, const void *b)
{
    const uint32_t *x = a, *y = b;
    for (int i = 0; i < 3; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

/* Every shape against a naive scan, for one random pattern each. */
static void check_patterns(store *st, const model *md, int rounds)
{
    static uint32_t got[(MAXT + 1) * (MAXT + 1) * (MAXT + 1) * 3];
    static uint32_t want[(MAXT + 1) * (MAXT + 1) * (MAXT + 1) * 3];
    for (int r = 0; r < rounds; r++) {
        for (int shape = 0; shape < 8; shape++) {
            uint32_t q[3];
            for (int i = 0; i < 3; i++)
                q[i] = (shape >> i & 1) ? 1 + rnd((uint32_t)md->nt + 1) : 0; /* nt+1: absent */
            size_t nw = 0;
            for (int s = 1; s <= md->nt; s++)
                for (int p = 1; p <= md->nt; p++)
                    for (int o = 1; o <= md->nt; o++) {
                        if (!md->cell[s][p][o])
                            continue;
                        if ((q[0] && q[0] != (uint32_t)s) || (q[1] && q[1] != (uint32_t)p) ||
                            (q[2] && q[2] != (uint32_t)o))
                            continue;
                        want[3 * nw] = (uint32_t)s, want[3 * nw + 1] = (uint32_t)p;
                        want[3 * nw + 2] = (uint32_t)o;
                        nw++;
                    }
            uint64_t cnt = 0;
            assert_int_equal(store_count(st, q[0], q[1], q[2], &cnt), LORE_OK);
            assert_int_equal(cnt, nw);
            store_iter it;
            assert_int_equal(store_iter_init(st, &it, q[0], q[1], q[2]), LORE_OK);
            size_t ng = 0;
            uint32_t t[3];
            int rc;
            /* alternate single steps and batched reads */
            if (r % 2 == 0) {
                while ((rc = store_iter_next(&it, t)) == LORE_OK) {
                    assert_true(ng < nw);
                    memcpy(got + 3 * ng++, t, sizeof t);
                }
            } else {
                size_t n;
                while ((rc = store_iter_read(&it, got + 3 * ng, 7, &n)) == LORE_OK) {
                    ng += n;
                    assert_true(ng <= nw);
                }
            }
            assert_int_equal(rc, LORE_DONE);
            store_iter_done(&it);
            assert_int_equal(ng, nw);
            qsort(got, ng, 3 * sizeof *got, cmp3);
            assert_memory_equal(got, want, 3 * nw * sizeof *got);
        }
    }
}

static void check_all(store *st, const model *md)
{
    const char *bad = store_check(st);
    if (bad)
        fail_msg("invariant broken: %s", bad);
    assert_int_equal(st->nlive, model_size(md));
    for (int s = 1; s <= md->nt; s++)
        for (int p = 1; p <= md->nt; p++)
            for (int o = 1; o <= md->nt; o++)
                expect_meta(st, md, s, p, o);
}

/* One random operation applied to both; returns the store's status. */
static int random_op(store *st, model *md, int allow_bulk)
{
    uint32_t s = 1 + rnd((uint32_t)md->nt), p = 1 + rnd((uint32_t)md->nt),
             o = 1 + rnd((uint32_t)md->nt);
    int k = (int)rnd(NSRC);
    uint32_t *c = &md->cell[s][p][o];
    int op = (int)rnd(allow_bulk ? 100 : 97);
    int rc;
    if (op < 55) {
        rc = store_assert(st, s, p, o, srcid[k]);
        if (rc == LORE_OK || rc == LORE_NOOP) {
            assert_int_equal(rc == LORE_NOOP, (*c >> k & 1) != 0);
            *c |= 1u << k;
        }
    } else if (op < 75) {
        uint32_t src = rnd(4) == 0 ? LORE_ANY_SOURCE : srcid[k];
        rc = store_unassert(st, s, p, o, src);
        if (rc == LORE_OK || rc == LORE_NOOP) {
            uint32_t mask = src == LORE_ANY_SOURCE ? 0x1fu : 1u << k;
            assert_int_equal(rc == LORE_NOOP, (*c & mask) == 0);
            *c &= ~mask;
        }
    } else if (op < 90) {
        int d = (int)rnd(2);
        rc = store_set_derived(st, s, p, o, d);
        if (rc == LORE_OK || rc == LORE_NOOP) {
            assert_int_equal(rc == LORE_NOOP, ((*c & DERIVED_BIT) != 0) == d);
            *c = d ? *c | DERIVED_BIT : *c & ~DERIVED_BIT;
        }
    } else if (op < 97) {
        size_t removed = 0, want = 0;
        rc = store_retract_source(st, srcid[k], &removed);
        if (rc == LORE_OK || rc == LORE_NOOP) {
            int any = 0;
            for (int a = 1; a <= md->nt; a++)
                for (int b = 1; b <= md->nt; b++)
                    for (int e = 1; e <= md->nt; e++) {
                        uint32_t *x = &md->cell[a][b][e];
                        if (*x >> k & 1) {
                            any = 1;
                            *x &= ~(1u << k);
                            want += *x == 0;
                        }
                    }
            assert_int_equal(rc == LORE_NOOP, !any);
            assert_int_equal(removed, want);
        }
    } else {
        /* a bulk merge of random rows, duplicates included */
        size_t n = 1 + rnd(200);
        uint32_t *rows = malloc(4 * n * sizeof *rows);
        for (size_t i = 0; i < n; i++) {
            uint32_t *r = rows + 4 * i;
            r[0] = 1 + rnd((uint32_t)md->nt), r[1] = 1 + rnd((uint32_t)md->nt);
            r[2] = 1 + rnd((uint32_t)md->nt);
            r[3] = rnd(5) == 0 ? META_DERIVED : META_ASSERTED | srcid[rnd(NSRC)];
        }
        uint32_t *copy = malloc(4 * n * sizeof *copy);
        memcpy(copy, rows, 4 * n * sizeof *rows);
        size_t added = 0;
        rc = store_bulk(st, rows, n, &added);
        if (rc == LORE_OK) {
            size_t want = 0;
            for (size_t i = 0; i < n; i++) {
                uint32_t *r = copy + 4 * i;
                uint32_t *x = &md->cell[r[0]][r[1]][r[2]];
                want += *x == 0;
                *x |= r[3] & META_DERIVED ? DERIVED_BIT : 1u << src_index(r[3] & META_PAYLOAD);
            }
            assert_int_equal(added, want);
        }
        free(rows);
        free(copy);
    }
    return rc;
}

static void run_workload(int nt, int steps, size_t tail_max, size_t pend_min, int check_every)
{
    static model md;
    memset(&md, 0, sizeof md);
    md.nt = nt;
    mem m = {mem_default, NULL};
    store st;
    store_init(&st, &m);
    st.tail_max = tail_max;
    st.pend_min = pend_min;
    for (int i = 0; i < steps; i++) {
        int rc = random_op(&st, &md, 1);
        assert_true(rc == LORE_OK || rc == LORE_NOOP);
        if (i % check_every == 0) {
            check_all(&st, &md);
            check_patterns(&st, &md, 1);
        }
    }
    check_all(&st, &md);
    check_patterns(&st, &md, 4);
    store_free(&st);
}

/* Small thresholds: every reorganisation path runs many times. */
static void test_random_small_levels(void **state)
{
    (void)state;
    run_workload(6, 3000, 4, 16, 7);
    run_workload(10, 6000, 16, 64, 13);
}

/* The setting: stores of about 10^4 facts, adds and removes. */
static void test_random_10k(void **state)
{
    (void)state;
    static model md;
    memset(&md, 0, sizeof md);
    md.nt = 40;
    mem m = {mem_default, NULL};
    store st;
    store_init(&st, &m);
    st.tail_max = 512;
    st.pend_min = 2048;
    /* grow to ~10^4 facts, then churn */
    for (int i = 0; i < 14000; i++) {
        uint32_t s = 1 + rnd(40), p = 1 + rnd(40), o = 1 + rnd(40);
        int k = (int)rnd(NSRC);
        int rc = store_assert(&st, s, p, o, srcid[k]);
        assert_true(rc == LORE_OK || rc == LORE_NOOP);
        md.cell[s][p][o] |= 1u << k;
    }
    assert_true(st.nlive > 9000);
    for (int round = 0; round < 6; round++) {
        for (int i = 0; i < 3000; i++)
            random_op(&st, &md, 1);
        check_all(&st, &md);
        check_patterns(&st, &md, 20);
    }
    store_free(&st);
}

static model snap, txn_snap;

/* Transactions: rollback restores the exact state; commit keeps it. */
static void test_transactions(void **state)
{
    (void)state;
    static model md;
    memset(&md, 0, sizeof md);
    md.nt = 8;
    mem m = {mem_default, NULL};
    store st;
    store_init(&st, &m);
    st.tail_max = 8;
    st.pend_min = 32;
    for (int i = 0; i < 300; i++)
        random_op(&st, &md, 1);
    for (int round = 0; round < 200; round++) {
        memcpy(&snap, &md, sizeof md);
        assert_int_equal(store_begin(&st), LORE_OK);
        assert_int_equal(store_begin(&st), LORE_ERR_STATE);
        int n = (int)rnd(60);
        for (int i = 0; i < n; i++)
            random_op(&st, &md, 1);
        const char *bad = store_check(&st);
        if (bad)
            fail_msg("in transaction: %s", bad);
        if (rnd(2)) {
            store_rollback(&st);
            memcpy(&md, &snap, sizeof md);
        } else {
            store_commit(&st);
        }
        check_all(&st, &md);
        if (round % 10 == 0)
            check_patterns(&st, &md, 1);
    }
    store_free(&st);
}

/* Iterators: a change makes the next step fail cleanly; reads don't. */
static void test_iterator_changes(void **state)
{
    (void)state;
    mem m = {mem_default, NULL};
    store st;
    store_init(&st, &m);
    for (uint32_t i = 1; i <= 50; i++)
        assert_int_equal(store_assert(&st, i, 2, 3, 0), LORE_OK);
    store_iter a, b;
    uint32_t t[3];
    assert_int_equal(store_iter_init(&st, &a, 0, 2, 0), LORE_OK);
    assert_int_equal(store_iter_next(&a, t), LORE_OK);
    /* another iterator and a count do not disturb it */
    assert_int_equal(store_iter_init(&st, &b, 0, 0, 3), LORE_OK);
    uint64_t n;
    assert_int_equal(store_count(&st, 0, 2, 0, &n), LORE_OK);
    assert_int_equal(n, 50);
    assert_int_equal(store_iter_next(&a, t), LORE_OK);
    /* a no-op write does not either */
    assert_int_equal(store_assert(&st, 1, 2, 3, 0), LORE_NOOP);
    assert_int_equal(store_iter_next(&a, t), LORE_OK);
    /* a real one does */
    assert_int_equal(store_assert(&st, 60, 2, 3, 0), LORE_OK);
    assert_int_equal(store_iter_next(&a, t), LORE_ERR_CHANGED);
    assert_int_equal(store_iter_next(&b, t), LORE_ERR_CHANGED);
    store_free(&st);
}

/* Runs `work` on a fresh store (low reorganisation thresholds) with the
 * Nth allocation failing, for N = 1, 2, ... until a run meets no failure;
 * each run must leave no byte allocated (the failing allocator also
 * checks every block is freed with the size it was given).  Returns the
 * N of that last run: how many allocations the workload makes, plus 1. */
/* A store that reorganises after a few writes (tail and pending
 * thresholds lowered), so that small workloads make runs and folds. */
static void store_small(store *st, const mem *m)
{
    store_init(st, m);
    st->tail_max = 4;
    st->pend_min = 8;
}

static long each_failure(void (*work)(store *st, int *saw_fail))
{
    for (long n = 1;; n++) {
        failing f = {.fail_at = n};
        mem m = {failing_alloc, &f};
        store st;
        store_small(&st, &m);
        int saw_fail = 0;
        work(&st, &saw_fail);
        store_free(&st);
        if (f.live != 0)
            fail_msg("allocation %ld failing: %zu bytes unaccounted", n, f.live);
        if (!saw_fail && f.failed == 0)
            return n;
    }
}

/* The workload once with memory to spare (it must not see a failure),
 * then with every allocation failing in turn: more than `allocs` of them. */
static void clean_then_failing(void (*work)(store *st, int *saw_fail), long allocs)
{
    mem m = {mem_default, NULL};
    store st;
    store_small(&st, &m);
    int saw = 0;
    work(&st, &saw);
    assert_int_equal(saw, 0);
    store_free(&st);
    assert_true(each_failure(work) > allocs);
}

/* ---- the rebuild in place ---- */

/* Adds only (asserts and derived marks on new facts, bulks of new facts),
 * a read now and then: rebuilds without a dead fact, which grow the base's
 * arrays in place.
 * A failed step changes nothing; the model is checked every `every`
 * steps. */
static void grow_workload(store *st, model *md, int steps, int every, int *saw_fail)
{
    static model snap2;
    for (int i = 0; i < steps; i++) {
        memcpy(&snap2, md, sizeof *md);
        uint32_t s = 1 + rnd((uint32_t)md->nt), p = 1 + rnd((uint32_t)md->nt),
                 o = 1 + rnd((uint32_t)md->nt);
        int k = (int)rnd(NSRC), rc;
        uint32_t *c = &md->cell[s][p][o];
        if (rnd(4) == 0 && *c == 0) {
            rc = store_set_derived(st, s, p, o, 1);
            if (rc == LORE_OK)
                *c |= DERIVED_BIT;
        } else {
            rc = store_assert(st, s, p, o, srcid[k]);
            if (rc == LORE_OK || rc == LORE_NOOP)
                *c |= 1u << k;
        }
        if (rc == LORE_ERR_NOMEM) {
            *saw_fail = 1;
            memcpy(md, &snap2, sizeof *md);
        } else {
            assert_true(rc == LORE_OK || rc == LORE_NOOP);
        }
        if (i % 11 == 10) { /* a bulk of facts new to the store: folded in place */
            uint32_t rows[4 * 5];
            size_t nr = 0, added = 0;
            memcpy(&snap2, md, sizeof *md);
            for (int t = 0; t < 5; t++) {
                uint32_t *r = rows + 4 * nr;
                r[0] = 1 + rnd((uint32_t)md->nt), r[1] = 1 + rnd((uint32_t)md->nt);
                r[2] = 1 + rnd((uint32_t)md->nt);
                r[3] = rnd(3) == 0 ? META_DERIVED : META_ASSERTED | srcid[rnd(NSRC)];
                uint32_t *x = &md->cell[r[0]][r[1]][r[2]];
                if (*x == 0) { /* new, and now taken */
                    *x = r[3] & META_DERIVED ? DERIVED_BIT : 1u << src_index(r[3] & META_PAYLOAD);
                    nr++;
                }
            }
            rc = store_bulk(st, rows, nr, &added);
            if (rc == LORE_ERR_NOMEM) {
                *saw_fail = 1;
                memcpy(md, &snap2, sizeof *md);
            } else {
                assert_int_equal(rc, LORE_OK);
                assert_int_equal(added, nr);
            }
        }
        if (i % 7 == 6) { /* a read: the tail becomes a run, or folds in */
            uint64_t cnt;
            rc = store_count(st, 0, 0, 0, &cnt);
            assert_true(rc == LORE_OK || rc == LORE_ERR_NOMEM);
            *saw_fail |= rc == LORE_ERR_NOMEM;
        }
        if (i % every == every - 1)
            check_all(st, md);
    }
}

static void grow_failing(store *st, int *saw_fail)
{
    static model md;
    memset(&md, 0, sizeof md);
    md.nt = 6;
    rng_state = 4321;
    grow_workload(st, &md, 120, 1, saw_fail);
    assert_null(store_check(st));
}

static void test_rebuild_in_place(void **state)
{
    (void)state;
    static model md;
    /* as it runs: every fact and count as the model says, the base grown
     * many times over */
    mem m0 = {mem_default, NULL};
    store st;
    store_small(&st, &m0);
    memset(&md, 0, sizeof md);
    md.nt = 24;
    rng_state = 777;
    int saw = 0;
    grow_workload(&st, &md, 3000, 250, &saw);
    assert_int_equal(saw, 0);
    assert_true(st.b && st.b->n > 1500);
    assert_null(store_check(&st));
    store_free(&st);
    /* every allocation failing in turn: nothing changes, nothing leaks, and
     * the sizes blocks are freed with are those they were given */
    assert_true(each_failure(grow_failing) > 30);
}

/* ---- allocation failures ---- */


/* For every N: run the workload with the Nth allocation failing; the
 * failed operation changes nothing, the others are exact. */
static void churn_failing(store *st, int *saw_fail)
{
    static model md;
    memset(&md, 0, sizeof md);
    md.nt = 5;
    rng_state = 12345;
    for (int i = 0; i < 150; i++) {
        memcpy(&snap, &md, sizeof md);
        if (i == 60) {
            assert_int_equal(store_begin(st), LORE_OK);
            memcpy(&txn_snap, &md, sizeof md);
        }
        int rc = random_op(st, &md, 1);
        if (rc == LORE_ERR_NOMEM) {
            *saw_fail = 1;
            memcpy(&md, &snap, sizeof md); /* nothing changed */
        } else {
            assert_true(rc == LORE_OK || rc == LORE_NOOP);
        }
        if (i == 110) { /* everything since step 60 is undone */
            store_rollback(st);
            memcpy(&md, &txn_snap, sizeof md);
        }
        check_all(st, &md);
        uint64_t cnt;
        rc = store_count(st, 0, 0, 0, &cnt);
        assert_true(rc == LORE_OK || rc == LORE_ERR_NOMEM);
    }
}

static void test_alloc_failures(void **state)
{
    (void)state;
    assert_true(each_failure(churn_failing) > 50);
}

/* ---- the runs' orderings, made when a read needs them ---- */

/* Counts of (0, p, o) and (0, 0, o) against the model: the POS and OSP
 * orderings.  0 when a read ran out of memory. */
static int counts_agree(store *st, const model *md, int *saw_fail)
{
    for (uint32_t a = 1; a <= (uint32_t)md->nt; a++)
        for (uint32_t b = 0; b <= (uint32_t)md->nt; b++) {
            uint64_t got, want = 0; /* subjects (and predicates, when b is 0) */
            for (int x = 1; x <= md->nt; x++)
                for (int y = 1; y <= md->nt; y++)
                    if (b == 0 || (uint32_t)y == b)
                        want += md->cell[x][y][a] != 0;
            int rc = store_count(st, 0, b, a, &got);
            if (rc == LORE_ERR_NOMEM) {
                *saw_fail = 1;
                return 0;
            }
            assert_int_equal(rc, LORE_OK);
            assert_int_equal(got, want);
        }
    return 1;
}

/* Writes with reads of one shape only (the runs hold SPO alone), then
 * reads by predicate and object and by object (POS and OSP made for every
 * run, then kept by the runs that follow), more writes and merges. */
static void orders_workload(store *st, int *saw_fail)
{
    static model md;
    memset(&md, 0, sizeof md);
    md.nt = 10;
    rng_state = 31337;
    /* a base first (else the first reads fold everything into one) */
    uint32_t rows[4 * 300];
    size_t nr = 0;
    for (uint32_t s = 1; s <= 3; s++)
        for (uint32_t p = 1; p <= 10; p++)
            for (uint32_t o = 1; o <= 10; o++) {
                uint32_t *r = rows + 4 * nr++;
                r[0] = s, r[1] = p, r[2] = o, r[3] = META_ASSERTED;
                md.cell[s][p][o] = 1u;
            }
    if (store_bulk(st, rows, nr, NULL) == LORE_ERR_NOMEM) {
        *saw_fail = 1;
        return;
    }
    for (int phase = 0; phase < 2; phase++) {
        for (int i = 0; i < 80 || (phase == 0 && st->nruns < 3 && i < 400); i++) {
            uint32_t s = 4 + rnd(7), p = 1 + rnd(10), o = 1 + rnd(10);
            int rc = store_assert(st, s, p, o, 0);
            if (rc == LORE_ERR_NOMEM) {
                *saw_fail = 1;
                return;
            }
            md.cell[s][p][o] |= 1u;
            if (i % 5 == 4) { /* a read by subject: SPO only */
                uint64_t n;
                rc = store_count(st, s, 0, 0, &n);
                if (rc == LORE_ERR_NOMEM) {
                    *saw_fail = 1;
                    return;
                }
            }
        }
        if (phase == 0) {
            assert_true(st->nruns >= 3);
            assert_int_equal(st->run_ords, 1 << ORD_SPO);
        }
        if (!counts_agree(st, &md, saw_fail))
            return;
        assert_int_equal(st->run_ords, 7);
        assert_null(store_check(st));
    }
    check_all(st, &md);
}

static void test_run_orders(void **state)
{
    (void)state;
    clean_then_failing(orders_workload, 10);
}

/* ---- clearing a predicate's derived marks ---- */

static int matches(const uint32_t *pats, size_t npats, uint32_t a, uint32_t p, uint32_t b)
{
    for (size_t i = 0; i < npats; i++) {
        const uint32_t *q = pats + 3 * i;
        if ((!q[0] || q[0] == a) && (!q[1] || q[1] == p) && (!q[2] || q[2] == b))
            return 1;
    }
    return 0;
}

/* The change log holds exactly the facts (of predicates 5 to 8) whose
 * derived mark went between the models before and after, each with its
 * marks before. */
static void expect_log(store *st, const model *before, const model *after)
{
    for (int a = 1; a <= MAXT; a++)
        for (int p = 5; p <= 8; p++)
            for (int b = 1; b <= MAXT; b++) {
                uint32_t was = before->cell[a][p][b], flags = 0;
                int found = store_clog_find(st, (uint32_t)a, (uint32_t)p, (uint32_t)b, &flags);
                int changed = (was & DERIVED_BIT) && !(after->cell[a][p][b] & DERIVED_BIT);
                assert_int_equal(found, changed);
                if (found)
                    assert_int_equal(flags,
                                     META_DERIVED | (was & ~DERIVED_BIT ? META_ASSERTED : 0));
            }
}

/* Predicate 5's facts, most derived (some asserted too), in the base (a
 * bulk into the empty store), others pending, facts of other predicates
 * beside them and a dead base fact; then every derived mark of the facts
 * matching pats cleared with the change log on: when many base facts go,
 * they leave the base's arrays at once (more than min_gone of them).  The
 * model, the counts of every shape, the invariants and the log's entries
 * (the marks before) are checked; a failed clear changes nothing. */
static void clear_run(store *st, int *saw_fail, const uint32_t *pats, size_t npats,
                      size_t min_gone)
{
    static model md, before;
    memset(&md, 0, sizeof md);
    md.nt = MAXT;
    rng_state = 9090;
    size_t n = 0, cap = 4 * (MAXT * MAXT * 2 + 1);
    uint32_t *rows = malloc(cap * sizeof *rows);
    assert_non_null(rows);
    for (uint32_t a = 1; a <= MAXT; a++)
        for (uint32_t b = 1; b <= MAXT; b++) {
            uint32_t *r = rows + 4 * n;
            if (rnd(5) != 0) { /* predicate 5: derived, sometimes asserted too */
                r[0] = a, r[1] = 5, r[2] = b, r[3] = META_DERIVED | 1;
                if (rnd(4) == 0) {
                    int k = (int)rnd(NSRC);
                    r[3] = META_DERIVED | META_ASSERTED | srcid[k];
                    md.cell[a][5][b] = DERIVED_BIT | 1u << k;
                } else {
                    md.cell[a][5][b] = DERIVED_BIT;
                }
                r = rows + 4 * ++n;
            }
            if (rnd(3) == 0) { /* other predicates, asserted or derived */
                uint32_t p = 6 + rnd(3);
                r[0] = a, r[1] = p, r[2] = b;
                r[3] = rnd(2) ? META_DERIVED | 1 : META_ASSERTED;
                md.cell[a][p][b] = r[3] & META_DERIVED ? DERIVED_BIT : 1u;
                n++;
            }
        }
    if (!md.cell[1][6][1]) { /* the fact to remove below */
        uint32_t *r = rows + 4 * n++;
        r[0] = 1, r[1] = 6, r[2] = 1, r[3] = META_ASSERTED;
        md.cell[1][6][1] = 1u;
    }
    int rc = store_bulk(st, rows, n, NULL);
    free(rows);
    if (rc == LORE_ERR_NOMEM) {
        *saw_fail = 1;
        return;
    }
    assert_int_equal(rc, LORE_OK);
    assert_true(st->b && st->b->n == n);
    /* a dead base fact, and pending facts of 5 (derived, asserted) */
    rc = store_unassert(st, 1, 6, 1, LORE_ANY_SOURCE);
    if (rc == LORE_OK)
        md.cell[1][6][1] = 0;
    else
        assert_int_equal(rc, LORE_ERR_NOMEM);
    for (int i = 0; i < 30 && rc != LORE_ERR_NOMEM; i++) {
        uint32_t a = 1 + rnd(MAXT), b = 1 + rnd(MAXT);
        if (rnd(2)) {
            rc = store_set_derived(st, a, 5, b, 1);
            if (rc == LORE_OK)
                md.cell[a][5][b] |= DERIVED_BIT;
        } else {
            rc = store_assert(st, a, 5, b, 0);
            if (rc == LORE_OK)
                md.cell[a][5][b] |= 1u;
        }
    }
    if (rc == LORE_ERR_NOMEM) {
        *saw_fail = 1;
        return;
    }
    if (store_clog_enable(st, 1) != LORE_OK) {
        *saw_fail = 1;
        return;
    }
    check_all(st, &md);
    memcpy(&before, &md, sizeof md);
    size_t want = 0;
    for (int a = 1; a <= MAXT; a++)
        for (int p = 5; p <= 8; p++)
            for (int b = 1; b <= MAXT; b++) {
                uint32_t *c = &md.cell[a][p][b];
                if (!matches(pats, npats, (uint32_t)a, (uint32_t)p, (uint32_t)b))
                    continue;
                want += *c == DERIVED_BIT;
                *c &= ~DERIVED_BIT;
            }
    size_t removed = 0;
    rc = store_clear_derived_like(st, pats, npats, &removed);
    if (rc == LORE_ERR_NOMEM) {
        *saw_fail = 1;
        check_all(st, &before);
        return;
    }
    assert_int_equal(rc, LORE_OK);
    assert_true(want > min_gone);
    assert_int_equal(removed, want);
    if (min_gone >= 1024) /* they left the arrays: the fact removed before is the one dead */
        assert_int_equal(st->ndead_base, 1);
    check_all(st, &md);
    /* counts of every shape, from the other orders too; the counts with
     * the dead facts still in them exceed them by the dead facts */
    uint64_t over = 0;
    for (uint32_t p = 5; p <= 8; p++)
        for (uint32_t k = 1; k <= MAXT; k++) {
            uint64_t got, exp_o = 0, exp_s = 0;
            for (int x = 1; x <= MAXT; x++) {
                exp_o += md.cell[x][p][k] != 0;
                exp_s += md.cell[k][p][x] != 0;
            }
            rc = store_count(st, 0, p, k, &got);
            if (rc == LORE_ERR_NOMEM) { /* a read's own room (the dead facts sorted) */
                *saw_fail = 1;
                return;
            }
            assert_int_equal(rc, LORE_OK);
            assert_int_equal(got, exp_o);
            assert_int_equal(store_count(st, k, p, 0, &got), LORE_OK);
            assert_int_equal(got, exp_s);
            assert_int_equal(store_count_upto(st, k, p, 0, &got), LORE_OK);
            assert_true(got >= exp_s);
            over += got - exp_s;
        }
    assert_int_equal(over, st->ndead_base + st->ndead_pend);
    expect_log(st, &before, &md);
    assert_null(store_check(st));
}

/* Every derived mark of predicate 5: most of the base goes */
static void clear_pred(store *st, int *saw_fail)
{
    static const uint32_t pat[3] = {0, 5, 0};
    clear_run(st, saw_fail, pat, 1, 1024);
}

/* Predicate 5's, and of the others those with subject 2 or object 3
 * (heads of a variable predicate): the facts matched by subject and
 * object too, in the base and pending */
static void clear_like(store *st, int *saw_fail)
{
    static const uint32_t pats[9] = {0, 5, 0, 2, 0, 0, 0, 0, 3};
    clear_run(st, saw_fail, pats, 3, 1024);
}

/* Subject 2 or object 3 only: too few to leave the arrays at once */
static void clear_few(store *st, int *saw_fail)
{
    static const uint32_t pats[6] = {2, 0, 0, 0, 0, 3};
    clear_run(st, saw_fail, pats, 2, 20);
}

static void test_clear_derived(void **state)
{
    (void)state;
    clean_then_failing(clear_pred, 5);
    clean_then_failing(clear_like, 5);
    clean_then_failing(clear_few, 5);
}

/* store_underive_rows against the model: rows grouped by subject with
 * their objects mostly ascending (as a closure's lost pairs come), some
 * out of order (one back, or two back and on from there), some twice, some of facts never there or not derived, over
 * base facts (one dead), pending ones and the change log. */
static void underive_rows_run(store *st, int *saw_fail, size_t drop_min)
{
    static model md, before;
    st->drop_min = drop_min;
    memset(&md, 0, sizeof md);
    md.nt = MAXT;
    rng_state = 4242;
    size_t n = 0;
    uint32_t *rows = malloc(4 * MAXT * MAXT * sizeof *rows);
    assert_non_null(rows);
    for (uint32_t a = 1; a <= MAXT; a++)
        for (uint32_t b = 1; b <= MAXT; b++) {
            if (rnd(3) == 0)
                continue;
            uint32_t *r = rows + 4 * n++;
            int k = (int)rnd(NSRC);
            r[0] = a, r[1] = 5 + rnd(2), r[2] = b;
            r[3] = rnd(4) == 0 ? META_DERIVED | META_ASSERTED | srcid[k] : META_DERIVED | 1;
            md.cell[a][r[1]][b] = DERIVED_BIT | (r[3] & META_ASSERTED ? 1u << k : 0);
        }
    int rc = store_bulk(st, rows, n, NULL);
    free(rows);
    if (rc == LORE_ERR_NOMEM) {
        *saw_fail = 1;
        return;
    }
    assert_int_equal(rc, LORE_OK);
    for (int i = 0; i < 40 && rc != LORE_ERR_NOMEM; i++) { /* pending facts */
        uint32_t a = 1 + rnd(MAXT), b = 1 + rnd(MAXT);
        rc = store_set_derived(st, a, 5, b, 1);
        if (rc == LORE_OK)
            md.cell[a][5][b] |= DERIVED_BIT;
    }
    if (rc != LORE_ERR_NOMEM && md.cell[2][5][3]) { /* and a dead base fact */
        rc = store_set_derived(st, 2, 5, 3, 0);
        rc = rc == LORE_OK ? store_unassert(st, 2, 5, 3, LORE_ANY_SOURCE) : rc;
        if (rc != LORE_ERR_NOMEM)
            md.cell[2][5][3] = 0;
    }
    if (rc == LORE_ERR_NOMEM || store_clog_enable(st, 1) != LORE_OK) {
        *saw_fail = 1;
        return;
    }
    check_all(st, &md);
    memcpy(&before, &md, sizeof md);
    /* the rows: subjects in a shuffled order, each one's objects ascending
     * with every seventh swapped with the one before and every eleventh
     * twice */
    uint32_t order[MAXT];
    for (uint32_t i = 0; i < MAXT; i++)
        order[i] = i + 1;
    for (uint32_t i = MAXT - 1; i > 0; i--) {
        uint32_t j = rnd(i + 1), t = order[i];
        order[i] = order[j], order[j] = t;
    }
    uint32_t *kill = malloc(3 * 2 * MAXT * MAXT * sizeof *kill);
    assert_non_null(kill);
    size_t nk = 0, want = 0;
    for (uint32_t i = 0; i < MAXT; i++)
        for (uint32_t b = 1; b <= MAXT; b++) {
            if (rnd(2))
                continue;
            uint32_t *r = kill + 3 * nk++;
            r[0] = order[i], r[1] = 5, r[2] = b;
            if (nk % 7 == 0 && nk > 1 && r[-3] == r[0]) { /* out of order */
                uint32_t t = r[2];
                r[2] = r[-1], r[-1] = t;
            } else if (nk % 13 == 0 && nk > 2 && r[-3] == r[0] && r[-6] == r[0]) {
                /* c, a, b: two back, then on from there */
                uint32_t c = r[2];
                r[2] = r[-1], r[-1] = r[-4], r[-4] = c;
            }
            if (nk % 11 == 0) { /* twice */
                memcpy(r + 3, r, 3 * sizeof *r);
                nk++;
            }
        }
    for (size_t i = 0; i < nk; i++) {
        uint32_t *c = &md.cell[kill[3 * i]][5][kill[3 * i + 2]];
        want += *c == DERIVED_BIT;
        *c &= ~DERIVED_BIT;
    }
    size_t removed = 0;
    rc = store_underive_rows(st, kill, nk, &removed);
    free(kill);
    if (rc == LORE_ERR_NOMEM) { /* the rows before it changed: the store stays whole */
        *saw_fail = 1;
        assert_null(store_check(st));
        return;
    }
    assert_int_equal(rc, LORE_OK);
    assert_true(want > 100);
    assert_int_equal(removed, want);
    check_all(st, &md);
    expect_log(st, &before, &md);
}

static void underive_rows_workload(store *st, int *saw_fail)
{
    underive_rows_run(st, saw_fail, SIZE_MAX); /* the dead table's way */
    if (!*saw_fail)
        assert_true(st->ndead_base > 100);
}

static void test_underive_rows(void **state)
{
    (void)state;
    clean_then_failing(underive_rows_workload, 5);
}

/* The same when so many base facts die that the base closes up over them
 * (and over the dead fact it held) at once: no dead fact is left. */
static void underive_drop_workload(store *st, int *saw_fail)
{
    underive_rows_run(st, saw_fail, 64);
    if (!*saw_fail) {
        assert_int_equal(st->ndead_base, 0);
        assert_int_equal(st->b->n + st->npend - st->ndead_pend, st->nlive);
    }
}

static void test_underive_drop(void **state)
{
    (void)state;
    clean_then_failing(underive_drop_workload, 5);
}

/* store_derive_new on facts known not to be live: new ones, pending dead
 * ones (their meta comes back), and, once the base holds a dead fact, by
 * the full lookup (a dead base fact comes back in place). */
static void test_derive_new(void **state)
{
    (void)state;
    static model md;
    memset(&md, 0, sizeof md);
    md.nt = MAXT;
    mem m = {mem_default, NULL};
    store st;
    store_small(&st, &m);
    uint32_t rows[4 * 8];
    for (uint32_t i = 0; i < 8; i++) { /* a base of 8 derived facts */
        uint32_t *r = rows + 4 * i;
        r[0] = 1 + i, r[1] = 5, r[2] = 2 + i, r[3] = META_DERIVED | 1;
        md.cell[1 + i][5][2 + i] = DERIVED_BIT;
    }
    assert_int_equal(store_bulk(&st, rows, 8, NULL), LORE_OK);
    uint32_t was = 99;
    assert_int_equal(store_derive_new(&st, 20, 5, 21, 1, &was), LORE_OK); /* new */
    assert_int_equal(was, 0);
    md.cell[20][5][21] = DERIVED_BIT;
    assert_int_equal(store_assert(&st, 22, 5, 23, 0), LORE_OK); /* pending, then dead */
    assert_int_equal(store_unassert(&st, 22, 5, 23, LORE_ANY_SOURCE), LORE_OK);
    assert_int_equal(st.ndead_pend, 1);
    assert_int_equal(store_derive_new(&st, 22, 5, 23, 1, &was), LORE_OK);
    assert_int_equal(was, 0);
    assert_int_equal(st.ndead_pend, 0);
    md.cell[22][5][23] = DERIVED_BIT;
    check_all(&st, &md);
    /* a dead base fact: the base is looked at again, the fact revived there */
    assert_int_equal(store_set_derived(&st, 3, 5, 4, 0), LORE_OK);
    assert_int_equal(st.ndead_base, 1);
    md.cell[3][5][4] = 0;
    check_all(&st, &md);
    assert_int_equal(store_derive_new(&st, 3, 5, 4, 1, &was), LORE_OK);
    assert_int_equal(was, 0);
    assert_int_equal(st.ndead_base, 0);
    md.cell[3][5][4] = DERIVED_BIT;
    assert_int_equal(store_derive_new(&st, 30, 5, 31, 1, &was), LORE_OK);
    md.cell[30][5][31] = DERIVED_BIT;
    check_all(&st, &md);
    store_free(&st);
}

/* store_metas_sorted gives store_meta's word for every row: facts of
 * the base (alive and dead), pending ones (alive and dead), absent ones,
 * and subjects past the base's keys; the rows come shuffled and are put
 * in order by store_sort_rows. */
static void test_metas_sorted(void **state)
{
    (void)state;
    mem m = {mem_default, NULL};
    store st;
    store_small(&st, &m);
    uint32_t brows[4 * 140];
    for (uint32_t i = 0; i < 140; i++) { /* a base: s 1..20, two objects each; */
        uint32_t *r = brows + 4 * i;  /* and 46 5 100..199, looked up sparsely */
        r[0] = i < 40 ? 1 + i / 2 : 46, r[1] = 5, r[2] = i < 40 ? 2 + i : 60 + i;
        r[3] = META_DERIVED | 1;
    }
    assert_int_equal(store_bulk(&st, brows, 140, NULL), LORE_OK);
    assert_int_equal(store_assert(&st, 3, 5, 30, 0), LORE_OK);  /* pending, base subject */
    assert_int_equal(store_assert(&st, 40, 6, 41, 0), LORE_OK); /* pending, new subject */
    assert_int_equal(store_assert(&st, 41, 5, 2, 0), LORE_OK);  /* pending, then dead */
    assert_int_equal(store_unassert(&st, 41, 5, 2, LORE_ANY_SOURCE), LORE_OK);
    assert_int_equal(store_set_derived(&st, 4, 5, 8, 0), LORE_OK); /* a dead base fact */
    assert_int_equal(store_assert(&st, 6, 5, 12, 0), LORE_OK);   /* a base fact, asserted too */
    enum { NS = 44, NO = 44 };
    static uint32_t rows[4 * (NS * 2 * NO + 3)];
    size_t n = 0;
    const uint32_t sparse[3][3] = {{46, 5, 150}, {46, 5, 190}, {46, 5, 999}};
    for (int k = 0; k < 3; k++) {
        uint32_t *r = rows + 4 * n++;
        r[0] = sparse[k][0], r[1] = sparse[k][1], r[2] = sparse[k][2], r[3] = 77;
    }
    for (uint32_t k = 0; k < NS * 2 * NO; k++) { /* every (s, 5 or 6, o), shuffled */
        uint32_t x = (k * 7919u) % (NS * 2 * NO);
        uint32_t *r = rows + 4 * n++;
        r[0] = 1 + x / (2 * NO), r[1] = 5 + x / NO % 2, r[2] = 1 + x % NO, r[3] = 77;
    }
    assert_int_equal(store_sort_rows(&st, rows, n, 4), LORE_OK);
    store_metas_sorted(&st, rows, n);
    size_t live = 0;
    for (size_t i = 0; i < n; i++) {
        const uint32_t *r = rows + 4 * i;
        if (i)
            assert_true(row_cmp(r - 4, r) < 0);
        uint32_t want = store_meta(&st, r[0], r[1], r[2]);
        if (r[3] != want)
            fail_msg("%u %u %u: meta %#x, store_meta %#x", r[0], r[1], r[2], r[3], want);
        live += want != 0;
    }
    assert_int_equal(live, 39 + 2 + 2); /* the small groups' 40 but one dead, two pending,
                                          * two of the large group */
    store_free(&st);
}

static int cmp_ids(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* sort_ids_unique on a[0..n) against qsort and a pass (b: room for n). */
static void expect_sorted_unique(uint32_t *a, uint32_t *b, size_t n)
{
    memcpy(b, a, n * sizeof *a);
    if (n)
        qsort(b, n, sizeof *b, cmp_ids);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || b[m - 1] != b[i])
            b[m++] = b[i];
    assert_int_equal(sort_ids_unique(a, n), m);
    if (m)
        assert_memory_equal(a, b, m * sizeof *a);
}

static int cmp_rows3(const void *a, const void *b)
{
    return row_cmp(a, b);
}

/* The radix sorts and the packed sort give qsort's order: one column
 * constant, small and wide ranges, duplicates; the packed sort refuses
 * rows whose spreads need more than 64 bits. */
static void test_sorts(void **state)
{
    (void)state;
    unsigned long long x = 12345;
    for (int round = 0; round < 12; round++) {
        size_t n = round < 4 ? (size_t)round : 1000 + 3000 * (size_t)round;
        uint32_t *a = malloc(3 * (n + 1) * sizeof *a), *b = malloc(3 * (n + 1) * sizeof *b),
                 *c = malloc(3 * (n + 1) * sizeof *c), *tmp = malloc(3 * (n + 1) * sizeof *tmp);
        assert_non_null(a);
        assert_non_null(b);
        assert_non_null(c);
        assert_non_null(tmp);
        uint32_t range[3] = {round % 3 == 0 ? 1u : 70000u, round % 2 ? 5u : 4000000000u,
                             round % 4 == 0 ? 4000000000u : 300u};
        uint32_t maxkey = 0;
        for (size_t i = 0; i < 3 * n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            a[i] = 1 + (uint32_t)(x % range[i % 3]);
            if (i % 3 == 0 && a[i] > maxkey)
                maxkey = a[i];
        }
        memcpy(b, a, 3 * n * sizeof *a);
        memcpy(c, a, 3 * n * sizeof *a);
        uint32_t *d = malloc(3 * (n + 1) * sizeof *d);
        uint64_t *packed = malloc(2 * (n + 1) * sizeof *packed);
        assert_non_null(d);
        assert_non_null(packed);
        memcpy(d, a, 3 * n * sizeof *a);
        if (n)
            qsort(a, n, 3 * sizeof *a, cmp_rows3);
        sort_rows_lsd(b, n, 3, tmp);
        sort_rows_radix(c, n, 3, maxkey, tmp);
        /* packed: refused when two columns span 32 bits and the first 17 */
        int fits = sort_rows_packed(d, n, packed);
        assert_int_equal(fits, n < 2 || round % 4 != 0);
        if (n) {
            assert_memory_equal(a, b, 3 * n * sizeof *a);
            assert_memory_equal(a, c, 3 * n * sizeof *a);
            if (fits)
                assert_memory_equal(a, d, 3 * n * sizeof *a);
        }
        free(a), free(b), free(c), free(d), free(tmp), free(packed);
    }
    /* ids sorted and made unique: sorted already, a few (insertion),
     * hundreds of small or wide ids (radix passes over the bits they use),
     * many (qsort); duplicates go */
    size_t sizes[] = {0, 1, 9, 16, 17, 300, 1024, 1025, 5000};
    for (size_t z = 0; z < sizeof sizes / sizeof *sizes; z++)
        for (int wide = 0; wide < 2; wide++) {
            size_t n = sizes[z];
            uint32_t *a = malloc((n + 1) * sizeof *a), *b = malloc((n + 1) * sizeof *b);
            assert_non_null(a);
            assert_non_null(b);
            for (size_t i = 0; i < n; i++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                a[i] = 1 + (uint32_t)(x % (wide ? 4000000000u : n / 2 + 1));
            }
            if (z == 2) /* sorted already */
                for (size_t i = 1; i < n; i++)
                    a[i] = a[i - 1] + (uint32_t)(i % 2);
            expect_sorted_unique(a, b, n);
            free(a), free(b);
        }
    /* two sorted stretches (a reach read from the base, then from one run):
     * merged; duplicates across them go; a first stretch too long for the
     * merge's buffer is sorted whole */
    size_t shapes[][2] = {{2, 1}, {40, 20}, {300, 7}, {300, 293}, {2000, 1024}, {3000, 1500}};
    for (size_t z = 0; z < sizeof shapes / sizeof *shapes; z++) {
        size_t n = shapes[z][0], cut = shapes[z][1];
        uint32_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
        assert_non_null(a);
        assert_non_null(b);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            a[i] = 1 + (uint32_t)(x % (n + 1));
        }
        qsort(a, cut, sizeof *a, cmp_ids);
        qsort(a + cut, n - cut, sizeof *a, cmp_ids);
        if (a[cut - 1] <= a[cut]) /* make the stretches two */
            a[cut - 1] = a[cut] + 1, qsort(a, cut, sizeof *a, cmp_ids);
        expect_sorted_unique(a, b, n);
        free(a), free(b);
    }
    /* rows of 3 in k sorted stretches (a tail of k sorted batches): merged
     * when k is at most the limit, else refused with the rows untouched */
    size_t ks[] = {1, 2, 3, 5, 17, 64, 65};
    for (size_t z = 0; z < sizeof ks / sizeof *ks; z++) {
        size_t k = ks[z], n = 40 * k + 3;
        uint32_t *a = malloc(3 * n * sizeof *a), *b = malloc(3 * n * sizeof *b),
                 *tmp = malloc(3 * n * sizeof *tmp);
        assert_non_null(a);
        assert_non_null(b);
        assert_non_null(tmp);
        for (size_t i = 0; i < 3 * n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            a[i] = 1 + (uint32_t)(x % (i % 3 == 1 ? 3 : 90));
        }
        for (size_t j = 0; j < k; j++) { /* stretch j: rows [j n / k, (j + 1) n / k) */
            size_t lo = j * n / k, hi = (j + 1) * n / k;
            qsort(a + 3 * lo, hi - lo, 3 * sizeof *a, cmp_rows3);
            if (j > 0 && cmp_rows3(a + 3 * lo - 3, a + 3 * lo) <= 0) /* a real break */
                a[3 * lo - 3] = 1000, a[3 * lo] = 1;
        }
        memcpy(b, a, 3 * n * sizeof *a);
        int merged = sort_rows_stretches(b, n, tmp, 64);
        assert_int_equal(merged, k <= 64);
        if (merged)
            qsort(a, n, 3 * sizeof *a, cmp_rows3);
        assert_memory_equal(a, b, 3 * n * sizeof *a);
        free(a), free(b), free(tmp);
    }
    /* rows of 4 (a fact and its meta): ids close enough to pack with the
     * meta riding below them (one predicate or several; keys of 29-31,
     * 18 and 9 bits: three radix passes, two, one), or objects too wide,
     * then by subject groups, sorted as integers or as rows */
    for (int round = 0; round < 6; round++) {
        int preds = round % 2 ? 3 : 1, wide = round == 2 || round == 3;
        size_t n = round < 4 ? 50000 : round == 4 ? 3000 : 512;
        uint32_t *a = malloc(4 * n * sizeof *a), *b = malloc(4 * n * sizeof *b),
                 *tmp = malloc(4 * n * sizeof *tmp);
        assert_non_null(a);
        assert_non_null(b);
        assert_non_null(tmp);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            a[4 * i] = 1 + (uint32_t)(x % 500);
            a[4 * i + 1] = 7 + (uint32_t)(x >> 20) % (uint32_t)preds;
            /* distinct objects */
            a[4 * i + 2] = 1 + (uint32_t)(i * 2654435761u % (wide ? 4000000007u : 1000003u));
            a[4 * i + 3] = (uint32_t)(x >> 24);
            if (round >= 4) { /* distinct (subject, object) pairs in a small space */
                size_t j = i * 37 % n;
                a[4 * i] = 1 + (uint32_t)(round == 4 ? j % 50 : j / 32);
                a[4 * i + 2] = 1 + (uint32_t)(round == 4 ? j * 7919 % 3001 : j % 32);
            }
        }
        memcpy(b, a, 4 * n * sizeof *a);
        qsort(a, n, 4 * sizeof *a, cmp_rows3); /* facts are distinct: meta rides along */
        sort_rows_radix(b, n, 4, 500, tmp);
        assert_memory_equal(a, b, 4 * n * sizeof *a);
        free(a), free(b), free(tmp);
    }
}

/* The matches of (s, p, o) as rows of 3, read through one iterator. */
static size_t read_all(store *st, uint32_t s, uint32_t p, uint32_t o, uint32_t *out, size_t cap)
{
    store_iter it;
    assert_int_equal(store_iter_init(st, &it, s, p, o), LORE_OK);
    size_t n = 0;
    uint32_t t[3];
    int rc;
    while ((rc = store_iter_next(&it, t)) == LORE_OK) {
        assert_true(n < cap);
        memcpy(out + 3 * n++, t, sizeof t);
    }
    assert_int_equal(rc, LORE_DONE);
    store_iter_done(&it);
    return n;
}

/* A read whose subject (or object) no fact of the tail has leaves the
 * tail as it is; one the tail may hold, or with neither bound, turns it
 * into a run.  An iterator opened over a tail left so reads on, exactly,
 * while a later read turns the tail into a run; a no-op write merges
 * nothing and the next new fact merges the runs. */
static void test_tail_reads(void **state)
{
    (void)state;
    mem m = {mem_default, NULL};
    store st;
    store_init(&st, &m);
    for (uint32_t s = 1; s <= 3; s++)
        assert_int_equal(store_assert(&st, s, 2, s + 100, 0), LORE_OK);
    assert_int_equal(store_prepare(&st), LORE_OK);
    assert_int_equal(st.nruns, 1);
    assert_int_equal(store_assert(&st, 50, 2, 150, 0), LORE_OK);
    assert_int_equal(store_assert(&st, 51, 3, 151, 0), LORE_OK);
    assert_int_equal(st.ntail, 2);
    uint32_t got[30];
    /* a subject, a subject and predicate, an object, a predicate and
     * object that the tail does not hold: the tail stays */
    assert_int_equal(read_all(&st, 2, 2, 0, got, 10), 1);
    assert_memory_equal(got, ((uint32_t[]){2, 2, 102}), 3 * sizeof *got);
    assert_int_equal(read_all(&st, 50, 3, 0, got, 10), 0);
    assert_int_equal(read_all(&st, 0, 0, 103, got, 10), 1);
    assert_int_equal(read_all(&st, 0, 3, 150, got, 10), 0);
    assert_int_equal(st.ntail, 2);
    assert_int_equal(st.nruns, 1);
    assert_null(store_check(&st));
    /* an iterator over a tail left as it is; a read the tail answers makes
     * a run behind it, and it reads on */
    store_iter outer;
    uint32_t t[3];
    assert_int_equal(store_iter_init(&st, &outer, 0, 2, 0), LORE_OK);
    assert_int_equal(st.ntail, 0); /* a predicate alone: the tail became a run */
    store_iter_done(&outer);
    assert_int_equal(st.nruns, 2);
    assert_int_equal(store_assert(&st, 60, 2, 160, 0), LORE_OK); /* merges 3 + 2 */
    assert_int_equal(st.nruns, 1);
    assert_int_equal(store_assert(&st, 61, 4, 161, 0), LORE_OK);
    assert_int_equal(store_assert(&st, 63, 4, 163, 0), LORE_OK);
    assert_int_equal(st.ntail, 3);
    assert_int_equal(store_iter_init(&st, &outer, 1, 0, 0), LORE_OK);
    assert_int_equal(st.ntail, 3);
    assert_int_equal(store_iter_next(&outer, t), LORE_OK);
    assert_memory_equal(t, ((uint32_t[]){1, 2, 101}), sizeof t);
    assert_int_equal(read_all(&st, 61, 0, 0, got, 10), 1);
    assert_memory_equal(got, ((uint32_t[]){61, 4, 161}), 3 * sizeof *got);
    assert_int_equal(st.ntail, 0);
    assert_int_equal(st.nruns, 2);
    assert_int_equal(store_iter_next(&outer, t), LORE_DONE);
    store_iter_done(&outer);
    /* every fact is read, from runs that were tails */
    assert_int_equal(read_all(&st, 0, 0, 0, got, 10), 8);
    /* a no-op write merges nothing; a new fact merges the runs */
    assert_int_equal(store_assert(&st, 61, 4, 161, 0), LORE_NOOP);
    assert_int_equal(st.nruns, 2);
    assert_int_equal(store_assert(&st, 62, 4, 162, 0), LORE_OK);
    assert_int_equal(st.nruns, 1);
    assert_null(store_check(&st));
    assert_int_equal(read_all(&st, 0, 4, 0, got, 10), 3);
    store_free(&st);
}

/* A read that binds a subject or an object no pending fact has reads the
 * base alone: the runs are not sorted its way, the tail stays, and an
 * iteration of it reads on while another read makes a run.  After a
 * rebuild no id is pending. */
static void test_pending_ids(void **state)
{
    (void)state;
    mem m = {mem_default, NULL};
    store st;
    store_init(&st, &m);
    uint32_t rows[] = {1, 2, 3, META_ASSERTED, 4, 2, 3, META_ASSERTED, 5, 6, 7, META_ASSERTED};
    assert_int_equal(store_bulk(&st, rows, 3, NULL), LORE_OK);
    assert_int_equal(store_assert(&st, 10, 2, 11, 0), LORE_OK);
    assert_int_equal(store_assert(&st, 10, 6, 7, 0), LORE_OK);
    uint32_t got[30];
    /* object 3 and subject 5 are in no pending fact */
    assert_int_equal(read_all(&st, 0, 2, 3, got, 10), 2);
    assert_memory_equal(got, ((uint32_t[]){1, 2, 3, 4, 2, 3}), 6 * sizeof *got);
    assert_int_equal(read_all(&st, 5, 0, 0, got, 10), 1);
    assert_int_equal(read_all(&st, 99999, 0, 0, got, 10), 0);
    assert_int_equal(st.run_ords, 1 << ORD_SPO);
    assert_int_equal(st.ntail, 2);
    /* an iteration of the base alone reads on while a read of a pending
     * object sorts the tail into a run, the POS ordering with it */
    store_iter outer;
    uint32_t t[3];
    assert_int_equal(store_iter_init(&st, &outer, 0, 2, 3), LORE_OK);
    assert_int_equal(store_iter_next(&outer, t), LORE_OK);
    assert_int_equal(read_all(&st, 0, 6, 7, got, 10), 2);
    assert_memory_equal(got, ((uint32_t[]){5, 6, 7, 10, 6, 7}), 6 * sizeof *got);
    assert_int_equal(st.ntail, 0);
    assert_int_equal(st.nruns, 1);
    assert_true(st.run_ords & (1 << ORD_POS));
    assert_int_equal(store_iter_next(&outer, t), LORE_OK);
    assert_memory_equal(t, ((uint32_t[]){4, 2, 3}), sizeof t);
    assert_int_equal(store_iter_next(&outer, t), LORE_DONE);
    store_iter_done(&outer);
    assert_null(store_check(&st));
    /* a rebuild folds the pending facts: no id is pending */
    uint32_t more[] = {20, 2, 21, META_ASSERTED};
    assert_int_equal(store_bulk(&st, more, 1, NULL), LORE_OK);
    assert_int_equal(st.npend, 0);
    for (size_t i = 0; i < st.pendids_cap / 64; i++)
        assert_true(st.pendids[0][i] == 0 && st.pendids[1][i] == 0);
    assert_int_equal(read_all(&st, 0, 2, 0, got, 10), 4);
    store_free(&st);
}

/* A few dead base facts do not stop a bulk merge from folding in place
 * (a full rebuild would cost more than they do): they stay in the base,
 * dead, and no read, count or ordering sees them; the filter of the dead
 * lets most rows skip the dead table. */
static void test_in_place_keeps_dead(void **state)
{
    (void)state;
    mem m = {mem_default, NULL};
    store st;
    store_init(&st, &m);
    enum { N = 3000 };
    uint32_t *rows = malloc(4 * N * sizeof *rows);
    for (uint32_t i = 0; i < N; i++) {
        uint32_t *r = rows + 4 * i;
        r[0] = 1 + i, r[1] = 5000, r[2] = 2 + i, r[3] = META_ASSERTED;
    }
    assert_int_equal(store_bulk(&st, rows, N, NULL), LORE_OK);
    for (uint32_t i = 0; i < N; i += 300) /* ten die */
        assert_int_equal(store_unassert(&st, 1 + i, 5000, 2 + i, 0), LORE_OK);
    assert_int_equal(st.ndead_base, 10);
    for (uint32_t i = 0; i < N; i++) { /* new facts, none alike */
        uint32_t *r = rows + 4 * i;
        r[0] = 1 + i, r[1] = 5001, r[2] = 1 + i, r[3] = META_DERIVED | 7;
    }
    assert_int_equal(store_bulk(&st, rows, N, NULL), LORE_OK);
    assert_int_equal(st.b->n, 2 * N); /* folded in place: the dead are rows yet */
    assert_int_equal(st.ndead_base, 10);
    assert_int_equal(st.nlive, 2 * N - 10);
    assert_null(store_check(&st));
    uint64_t n;
    assert_int_equal(store_count(&st, 0, 5000, 0, &n), LORE_OK);
    assert_int_equal(n, N - 10);
    uint32_t got[3 * 4];
    assert_int_equal(read_all(&st, 301, 0, 0, got, 4), 1); /* dead: 301 5000 302 */
    assert_memory_equal(got, ((uint32_t[]){301, 5001, 301}), 3 * sizeof *got);
    assert_int_equal(read_all(&st, 0, 0, 302, got, 4), 1);
    assert_memory_equal(got, ((uint32_t[]){302, 5001, 302}), 3 * sizeof *got);
    assert_int_equal(read_all(&st, 0, 5000, 302, got, 4), 0);
    assert_int_equal(read_all(&st, 0, 5000, 303, got, 4), 1);
    /* a dead fact asserted again lives where it is */
    assert_int_equal(store_assert(&st, 301, 5000, 302, 0), LORE_OK);
    assert_int_equal(st.ndead_base, 9);
    assert_int_equal(read_all(&st, 0, 5000, 302, got, 4), 1);
    assert_null(store_check(&st));
    /* a bulk merge that brings back a dead fact is no fold in place: the
     * full rebuild drops the dead */
    rows[0] = 601, rows[1] = 5000, rows[2] = 602, rows[3] = META_ASSERTED;
    assert_int_equal(store_bulk(&st, rows, 1, NULL), LORE_OK);
    assert_int_equal(st.ndead_base, 0);
    assert_int_equal(st.b->n, 2 * N - 8);
    assert_int_equal(read_all(&st, 0, 5000, 602, got, 4), 1);
    for (size_t i = 0; i < DEAD_BITS / 64; i++) /* the base's marks are gone */
        assert_true(st.deadbits[0][0][i] == 0 && st.deadbits[0][1][i] == 0);
    assert_null(store_check(&st));
    free(rows);
    store_free(&st);
}

/* Random writes, reads and iterations nested up to three deep, on a store
 * that reorganises often: neither a read nor a write that changes nothing
 * ends an open iteration (only a change does: LORE_ERR_CHANGED), an iteration that
 * runs to its end gives exactly the facts that matched when it opened,
 * and every read gives exactly the matches of the moment. */
static void test_nested_reads(void **state)
{
    (void)state;
    enum { NS = 10, NP = 3, NO = 10, OPEN = 3 };
    for (int small = 0; small < 2; small++) {
        mem m = {mem_default, NULL};
        store st;
        if (small)
            store_small(&st, &m);
        else
            store_init(&st, &m);
        static unsigned char has[NS + 1][NP + 1][NO + 1];
        memset(has, 0, sizeof has);
        struct {
            store_iter it;
            int open, changed; /* changed: a write changed a fact since it opened */
            unsigned char want[NS + 1][NP + 1][NO + 1]; /* matches left to give */
            size_t left;
        } its[OPEN];
        memset(its, 0, sizeof its);
        for (int step = 0; step < 4000; step++) {
            uint32_t s = rnd(3) ? 1 + rnd(NS) : 0, p = rnd(2) ? 1 + rnd(NP) : 0,
                     o = rnd(3) ? 1 + rnd(NO) : 0;
            int what = (int)rnd(10);
            if (what < 4) { /* a write: assert or take back a fact */
                s = s ? s : 1, p = p ? p : 1, o = o ? o : 1;
                int rc = what < 3 ? store_assert(&st, s, p, o, 0)
                                  : store_unassert(&st, s, p, o, LORE_ANY_SOURCE);
                assert_true(rc == LORE_OK || rc == LORE_NOOP);
                if (rc == LORE_OK)
                    has[s][p][o] = what < 3;
                /* a write that changes a fact ends them; a no-op does not
                 * (nor folds first) */
                for (int k = 0; k < OPEN; k++)
                    its[k].changed |= rc == LORE_OK;
            } else if (what < 6) { /* open an iteration */
                int k = (int)rnd(OPEN);
                if (its[k].open)
                    store_iter_done(&its[k].it);
                assert_int_equal(store_iter_init(&st, &its[k].it, s, p, o), LORE_OK);
                its[k].open = 1, its[k].changed = 0, its[k].left = 0;
                for (uint32_t a = 1; a <= NS; a++)
                    for (uint32_t b = 1; b <= NP; b++)
                        for (uint32_t c = 1; c <= NO; c++) {
                            int w = has[a][b][c] && (!s || s == a) && (!p || p == b) && (!o || o == c);
                            its[k].want[a][b][c] = (unsigned char)w;
                            its[k].left += (size_t)w;
                        }
            } else if (what < 9) { /* step an open iteration */
                int k = (int)rnd(OPEN);
                if (!its[k].open)
                    continue;
                uint32_t t[3];
                int rc = store_iter_next(&its[k].it, t);
                if (rc == LORE_ERR_CHANGED) {
                    assert_true(its[k].changed);
                    store_iter_done(&its[k].it);
                    its[k].open = 0;
                } else if (rc == LORE_OK) {
                    assert_false(its[k].changed);
                    assert_true(its[k].want[t[0]][t[1]][t[2]]);
                    its[k].want[t[0]][t[1]][t[2]] = 0;
                    its[k].left--;
                } else {
                    assert_int_equal(rc, LORE_DONE);
                    assert_false(its[k].changed);
                    assert_int_equal(its[k].left, 0);
                    store_iter_done(&its[k].it);
                    its[k].open = 0;
                }
            } else { /* a read of its own, whole */
                uint32_t got[3 * NS * NP * NO];
                size_t n = read_all(&st, s, p, o, got, NS * NP * NO), want = 0;
                for (size_t i = 0; i < n; i++)
                    assert_true(has[got[3 * i]][got[3 * i + 1]][got[3 * i + 2]]);
                for (uint32_t a = 1; a <= NS; a++)
                    for (uint32_t b = 1; b <= NP; b++)
                        for (uint32_t c = 1; c <= NO; c++)
                            want += has[a][b][c] && (!s || s == a) && (!p || p == b) && (!o || o == c);
                assert_int_equal(n, want);
            }
            if (step % 97 == 0)
                assert_null(store_check(&st));
        }
        for (int k = 0; k < OPEN; k++)
            if (its[k].open)
                store_iter_done(&its[k].it);
        store_free(&st);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_small_levels), cmocka_unit_test(test_random_10k),
        cmocka_unit_test(test_transactions),        cmocka_unit_test(test_iterator_changes),
        cmocka_unit_test(test_alloc_failures),      cmocka_unit_test(test_sorts),
        cmocka_unit_test(test_rebuild_in_place),    cmocka_unit_test(test_clear_derived),
        cmocka_unit_test(test_run_orders),         cmocka_unit_test(test_underive_rows), cmocka_unit_test(test_underive_drop),
        cmocka_unit_test(test_derive_new),
        cmocka_unit_test(test_metas_sorted), cmocka_unit_test(test_tail_reads),
        cmocka_unit_test(test_pending_ids), cmocka_unit_test(test_in_place_keeps_dead),        cmocka_unit_test(test_nested_reads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
