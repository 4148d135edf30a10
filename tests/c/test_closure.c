/* test_closure.c - the closure kernel against a breadth-first search on
 * random graphs with cycles, self-loops and duplicate edges; and every
 * allocation failing in turn. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "closure.h"

#include "failalloc.h"

static uint64_t rs = 0x2545f4914f6cdd1dull;
static uint32_t rnd(uint32_t n)
{
    rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
    return (uint32_t)(rs % n);
}

/* The ids reachable from x in one or more steps, sorted, by BFS. */
static size_t bfs(const uint32_t *e, size_t n, uint32_t x, uint32_t maxid, uint32_t *out)
{
    char *seen = calloc(maxid + 1, 1);
    uint32_t *q = malloc((maxid + 1) * sizeof *q);
    size_t qh = 0, qt = 0, k = 0;
    q[qt++] = x;
    while (qh < qt) {
        uint32_t v = q[qh++];
        for (size_t i = 0; i < n; i++) {
            if (e[2 * i] == v && !seen[e[2 * i + 1]]) {
                seen[e[2 * i + 1]] = 1;
                q[qt++] = e[2 * i + 1];
            }
        }
    }
    for (uint32_t y = 1; y <= maxid; y++)
        if (seen[y])
            out[k++] = y;
    free(seen);
    free(q);
    return k;
}

static void check_graph(const uint32_t *e, size_t n, uint32_t maxid)
{
    mem m = {mem_default, NULL};
    closure *c;
    assert_int_equal(closure_compute(&m, e, n, NULL, NULL, &c), LORE_OK);
    uint32_t *want = malloc((maxid + 1) * sizeof *want);
    size_t total = 0, nodes = 0;
    for (uint32_t x = 1; x <= maxid; x++) {
        size_t nw = bfs(e, n, x, maxid, want), ng;
        int has_out = 0;
        for (size_t i = 0; i < n; i++)
            has_out |= e[2 * i] == x;
        nodes += has_out;
        const uint32_t *got = closure_of(c, x, &ng);
        assert_int_equal(ng, nw);
        if (nw)
            assert_memory_equal(got, want, nw * sizeof *want);
        total += nw;
    }
    assert_int_equal(closure_total(c), total);
    assert_int_equal(closure_nodes(c), nodes);
    uint32_t prev = 0;
    for (size_t i = 0; i < closure_nodes(c); i++) {
        const uint32_t *r;
        size_t nr;
        uint32_t x = closure_node(c, i, &r, &nr);
        assert_true(x > prev);
        prev = x;
        size_t ng;
        assert_ptr_equal(closure_of(c, x, &ng), r);
        assert_int_equal(ng, nr);
    }
    free(want);
    closure_free(c);
}

static void test_random_graphs(void **state)
{
    (void)state;
    for (int round = 0; round < 300; round++) {
        uint32_t maxid = 1 + rnd(40);
        size_t n = rnd(3 * maxid + 1);
        uint32_t *e = malloc((2 * n + 2) * sizeof *e);
        for (size_t i = 0; i < n; i++) {
            /* sparse ids: every other id, so dense remapping is exercised */
            e[2 * i] = 2 * (1 + rnd(maxid)) - 1;
            e[2 * i + 1] = rnd(4) == 0 ? e[2 * i] : 2 * (1 + rnd(maxid)) - 1;
        }
        check_graph(e, n, 2 * maxid);
        free(e);
    }
}

static void test_shapes(void **state)
{
    (void)state;
    uint32_t chain[2 * 99], cycle[2 * 50], forest[2 * 300];
    for (uint32_t i = 0; i < 99; i++)
        chain[2 * i] = i + 1, chain[2 * i + 1] = i + 2; /* 1 -> 2 -> ... -> 100 */
    check_graph(chain, 99, 100);
    for (uint32_t i = 0; i < 50; i++)
        cycle[2 * i] = i + 1, cycle[2 * i + 1] = (i + 1) % 50 + 1; /* a 50-cycle */
    check_graph(cycle, 50, 50);
    for (uint32_t i = 0; i < 300; i++) /* node i+11 -> a parent among the 10 before it */
        forest[2 * i] = i + 11, forest[2 * i + 1] = i + 1 + rnd(10);
    check_graph(forest, 300, 310);
    check_graph(NULL, 0, 3);
}


static void test_alloc_failures(void **state)
{
    (void)state;
    uint32_t e[2 * 60];
    for (int i = 0; i < 60; i++)
        e[2 * i] = 1 + rnd(25), e[2 * i + 1] = 1 + rnd(25);
    for (long k = 1;; k++) {
        failing f = {.fail_at = k};
        mem m = {failing_alloc, &f};
        closure *c;
        int rc = closure_compute(&m, e, 60, NULL, NULL, &c);
        if (rc == LORE_OK) {
            closure_free(c);
            assert_int_equal(f.live, 0);
            if (f.calls < k)
                break;
        } else {
            assert_int_equal(rc, LORE_ERR_NOMEM);
            assert_null(c);
            assert_int_equal(f.live, 0);
        }
    }
}

static int stop_now(void *ud)
{
    (void)ud;
    return 1;
}

static void test_interrupt(void **state)
{
    (void)state;
    uint32_t e[2 * 5000];
    for (uint32_t i = 0; i < 5000; i++)
        e[2 * i] = i + 1, e[2 * i + 1] = i + 2;
    mem m = {mem_default, NULL};
    closure *c;
    assert_int_equal(closure_compute(&m, e, 5000, stop_now, NULL, &c), LORE_ERR_INTERRUPT);
    assert_null(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_graphs),
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_interrupt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
