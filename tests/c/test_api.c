/* test_api.c - the public API as an embedder sees it: statuses, messages,
 * sources, iterators, transactions, batches, and every allocation failure
 * along a workload reported and harmless. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lore.h"

#include "failalloc.h"

static lore_id sym(lore_kb *kb, const char *s)
{
    lore_value v = lore_symbol(s);
    lore_id id;
    assert_int_equal(lore_intern(kb, &v, &id), LORE_OK);
    return id;
}

static uint64_t count(lore_kb *kb, lore_id s, lore_id p, lore_id o)
{
    uint64_t n;
    assert_int_equal(lore_count(kb, s, p, o, &n), LORE_OK);
    return n;
}

static void test_facts_and_sources(void **state)
{
    (void)state;
    lore_kb *kb;
    assert_int_equal(lore_kb_new(&kb, NULL, NULL), LORE_OK);
    lore_id pl = sym(kb, "poland"), in = sym(kb, "member_of"), nato = sym(kb, "nato");
    lore_id s1 = sym(kb, "press:s1"), s2 = sym(kb, "press:s2");
    assert_int_equal(lore_add(kb, pl, in, nato, s1), LORE_OK);
    assert_int_equal(lore_add(kb, pl, in, nato, s1), LORE_NOOP); /* says so */
    assert_int_equal(lore_add(kb, pl, in, nato, s2), LORE_OK);   /* a second source */
    assert_int_equal(lore_add(kb, pl, in, nato, 0), LORE_OK);    /* and the default one */
    assert_int_equal(lore_size(kb), 1);
    lore_fact_info info;
    lore_id srcs[4];
    assert_int_equal(lore_fact(kb, pl, in, nato, &info, srcs, 4), LORE_OK);
    assert_true(info.present && info.asserted && !info.derived && info.in_default);
    assert_int_equal(info.nsources, 2);
    assert_int_equal(srcs[0], s1);
    assert_int_equal(srcs[1], s2);
    /* removing one source keeps the fact while another holds it */
    assert_int_equal(lore_remove(kb, pl, in, nato, s1), LORE_OK);
    assert_int_equal(lore_remove(kb, pl, in, nato, s1), LORE_NOOP);
    assert_int_equal(lore_size(kb), 1);
    assert_int_equal(lore_remove(kb, pl, in, nato, 0), LORE_OK);
    assert_int_equal(lore_fact(kb, pl, in, nato, &info, srcs, 4), LORE_OK);
    assert_int_equal(info.nsources, 1);
    assert_false(info.in_default);
    /* retracting a whole source removes exactly what nothing else holds */
    lore_id uk = sym(kb, "ukraine"), aid = sym(kb, "aids");
    assert_int_equal(lore_add(kb, nato, aid, uk, s2), LORE_OK);
    assert_int_equal(lore_add(kb, uk, in, nato, s2), LORE_OK);
    assert_int_equal(lore_add(kb, uk, in, nato, s1), LORE_OK);
    size_t removed;
    assert_int_equal(lore_retract_source(kb, s2, &removed), LORE_OK);
    assert_int_equal(removed, 2); /* poland member_of nato, nato aids ukraine */
    assert_int_equal(lore_size(kb), 1);
    assert_int_equal(count(kb, uk, in, nato), 1);
    assert_int_equal(lore_retract_source(kb, s2, &removed), LORE_NOOP);
    assert_int_equal(lore_remove(kb, uk, in, nato, LORE_ANY_SOURCE), LORE_OK);
    assert_int_equal(lore_size(kb), 0);
    lore_kb_free(kb);
    lore_kb_free(NULL);
}

static void test_errors(void **state)
{
    (void)state;
    lore_kb *kb;
    assert_int_equal(lore_kb_new(&kb, NULL, NULL), LORE_OK);
    lore_id a = sym(kb, "a");
    assert_int_equal(lore_add(kb, a, 0, a, 0), LORE_ERR_ARG);
    assert_string_equal(lore_errmsg(kb), "lore_add: predicate is not a term id (0)");
    assert_int_equal(lore_add(kb, a, a, 77, 0), LORE_ERR_ARG);
    assert_string_equal(lore_errmsg(kb), "lore_add: object is not a term id (77)");
    assert_int_equal(lore_add(kb, a, a, a, 99), LORE_ERR_ARG);
    assert_string_equal(lore_errmsg(kb), "lore_add: source is not a term id (99)");
    lore_value bad = lore_date("10 juillet");
    lore_id id;
    assert_int_equal(lore_intern(kb, &bad, &id), LORE_ERR_ARG);
    assert_string_equal(lore_errmsg(kb), "lore_intern: expected a date as YYYY, YYYY-MM, "
                                         "YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss][Z|+hh:mm]");
    assert_int_equal(lore_commit(kb), LORE_ERR_STATE);
    assert_string_equal(lore_errmsg(kb), "lore_commit: no transaction is open");
    assert_string_equal(lore_strerror(LORE_ERR_CHANGED),
                        "knowledge base changed during iteration");
    lore_value v;
    assert_int_equal(lore_term(kb, 12345, &v), LORE_ERR_ARG);
    const char *why;
    assert_int_equal(lore_check_value(&bad, &why), LORE_ERR_ARG);
    lore_kb_free(kb);
}

static void test_iterators(void **state)
{
    (void)state;
    lore_kb *kb;
    assert_int_equal(lore_kb_new(&kb, NULL, NULL), LORE_OK);
    lore_id p = sym(kb, "p");
    char buf[16];
    for (int i = 0; i < 100; i++) {
        snprintf(buf, sizeof buf, "n%d", i);
        lore_id n = sym(kb, buf);
        assert_int_equal(lore_add(kb, n, p, n, 0), LORE_OK);
    }
    lore_iter *it;
    lore_id t[3];
    assert_int_equal(lore_match(kb, 0, p, 0, &it), LORE_OK);
    int rows = 0;
    while (lore_iter_next(it, t) == LORE_OK)
        rows++;
    assert_int_equal(rows, 100);
    assert_int_equal(lore_iter_next(it, t), LORE_DONE); /* and every call after */
    lore_iter_free(it);
    /* a change during iteration is a clean error */
    assert_int_equal(lore_match(kb, 0, p, 0, &it), LORE_OK);
    assert_int_equal(lore_iter_next(it, t), LORE_OK);
    assert_int_equal(lore_add(kb, p, p, p, 0), LORE_OK);
    assert_int_equal(lore_iter_next(it, t), LORE_ERR_CHANGED);
    assert_string_equal(lore_errmsg(kb), "the knowledge base changed during iteration");
    lore_iter_free(it);
    /* batch reads */
    lore_id many[3 * 40];
    size_t n, total = 0;
    assert_int_equal(lore_match(kb, 0, 0, 0, &it), LORE_OK);
    while (lore_iter_read(it, many, 40, &n) == LORE_OK)
        total += n;
    assert_int_equal(total, 101);
    lore_iter_free(it);
    lore_iter_free(NULL);
    lore_kb_free(kb);
}

static void test_transactions(void **state)
{
    (void)state;
    lore_kb *kb;
    assert_int_equal(lore_kb_new(&kb, NULL, NULL), LORE_OK);
    lore_id a = sym(kb, "a"), b = sym(kb, "b"), s = sym(kb, "src");
    assert_int_equal(lore_add(kb, a, a, a, 0), LORE_OK);
    assert_int_equal(lore_begin(kb), LORE_OK);
    assert_int_equal(lore_in_transaction(kb), 1);
    assert_int_equal(lore_begin(kb), LORE_ERR_STATE);
    assert_int_equal(lore_add(kb, b, b, b, s), LORE_OK);
    assert_int_equal(lore_add(kb, a, a, a, s), LORE_OK);
    assert_int_equal(lore_remove(kb, a, a, a, 0), LORE_OK);
    assert_int_equal(lore_rollback(kb), LORE_OK);
    assert_int_equal(lore_in_transaction(kb), 0);
    assert_int_equal(lore_size(kb), 1);
    lore_fact_info info;
    assert_int_equal(lore_fact(kb, a, a, a, &info, NULL, 0), LORE_OK);
    assert_true(info.present && info.in_default);
    assert_int_equal(info.nsources, 0);
    assert_int_equal(lore_begin(kb), LORE_OK);
    assert_int_equal(lore_add(kb, b, b, b, s), LORE_OK);
    assert_int_equal(lore_commit(kb), LORE_OK);
    assert_int_equal(lore_size(kb), 2);
    lore_kb_free(kb);
}

static void test_batches(void **state)
{
    (void)state;
    lore_kb *kb;
    assert_int_equal(lore_kb_new(&kb, NULL, NULL), LORE_OK);
    lore_id a = sym(kb, "a");
    assert_int_equal(lore_add(kb, a, a, a, 0), LORE_OK);
    size_t terms = lore_term_count(kb);
    lore_batch *b;
    assert_int_equal(lore_batch_new(kb, &b), LORE_OK);
    lore_batch *b2;
    assert_int_equal(lore_batch_new(kb, &b2), LORE_ERR_STATE);
    assert_int_equal(lore_add(kb, a, a, a, 0), LORE_ERR_STATE);
    assert_string_equal(lore_errmsg(kb), "lore_add: a batch is open on this knowledge base");
    lore_value v = lore_text("temporary", "fr");
    lore_id t;
    assert_int_equal(lore_batch_intern(b, &v, &t), LORE_OK);
    assert_int_equal(lore_batch_add(b, a, a, t, 0), LORE_OK);
    assert_int_equal(lore_batch_size(b), 1);
    lore_batch_free(b); /* abandoned: nothing added, its terms gone */
    assert_int_equal(lore_size(kb), 1);
    assert_int_equal(lore_term_count(kb), terms);
    assert_int_equal(lore_lookup(kb, &v, &t), LORE_ERR_NOTFOUND);
    /* committed: duplicates within and against the store counted once */
    assert_int_equal(lore_batch_new(kb, &b), LORE_OK);
    lore_id ids[10];
    char buf[16]; /* room for any int: -Wformat-truncation at -O1 */
    for (int i = 0; i < 10; i++) {
        snprintf(buf, sizeof buf, "x%d", i);
        lore_value x = lore_symbol(buf);
        assert_int_equal(lore_batch_intern(b, &x, &ids[i]), LORE_OK);
    }
    for (int i = 0; i < 10; i++) {
        assert_int_equal(lore_batch_add(b, ids[i], a, ids[(i + 1) % 10], 0), LORE_OK);
        assert_int_equal(lore_batch_add(b, ids[i], a, ids[(i + 1) % 10], ids[0]), LORE_OK);
    }
    assert_int_equal(lore_batch_add(b, a, a, a, 0), LORE_OK);
    size_t added;
    assert_int_equal(lore_batch_commit(b, &added), LORE_OK);
    assert_int_equal(added, 10);
    assert_int_equal(lore_size(kb), 11);
    lore_fact_info info;
    lore_id src;
    assert_int_equal(lore_fact(kb, ids[3], a, ids[4], &info, &src, 1), LORE_OK);
    assert_true(info.in_default);
    assert_int_equal(info.nsources, 1);
    assert_int_equal(src, ids[0]);
    lore_kb_free(kb);
}

/* ---- allocation failures through the public API ---- */


/* The state a workload leaves, as a sorted list of (s, p, o) names. */
static size_t snapshot(lore_kb *kb, char out[][64], size_t cap)
{
    lore_iter *it;
    if (lore_match(kb, 0, 0, 0, &it) != LORE_OK)
        return (size_t)-1;
    lore_id t[3];
    size_t n = 0;
    int rc;
    while ((rc = lore_iter_next(it, t)) == LORE_OK && n < cap) {
        lore_value v[3];
        for (int i = 0; i < 3; i++)
            lore_term(kb, t[i], &v[i]);
        snprintf(out[n++], 64, "%s %s %s", v[0].str, v[1].str, v[2].str);
    }
    lore_iter_free(it);
    qsort(out, n, 64, (int (*)(const void *, const void *))strcmp);
    return rc == LORE_DONE ? n : (size_t)-1;
}

static char before[400][64], after[400][64];

/* Every allocation of a workload fails in turn: the failing call reports
 * LORE_ERR_NOMEM with its message and leaves the facts exactly as they
 * were; no memory is lost. */
/* Symbols sort in natural order (digit runs by value), texts by bytes; the
 * order is total: only the same term compares equal. */
static void test_order(void **state)
{
    (void)state;
    lore_kb *kb;
    assert_int_equal(lore_kb_new(&kb, NULL, NULL), LORE_OK);
    static const char *sorted[] = {"a",     "a-",    "a0",     "a00",  "a01",  "a1",
                                   "a2",    "a9",    "a10",    "a10b", "a10x", "a011x",
                                   "a99",   "a100",  "b",      "press:s1", "press:s2",
                                   "press:s10", "press:s13", "x18446744073709551616",
                                   "x98765432109876543210987654321"};
    enum { N = sizeof sorted / sizeof sorted[0] };
    lore_id id[N];
    for (size_t i = 0; i < N; i++)
        id[i] = sym(kb, sorted[i]);
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < N; j++) {
            int c = lore_compare(kb, id[i], id[j]);
            int want = (i > j) - (i < j);
            if ((c > 0) - (c < 0) != want)
                fail_msg("%s vs %s: %d", sorted[i], sorted[j], c);
        }
    /* texts stay in byte order */
    lore_value t9 = lore_text("s9", NULL), t10 = lore_text("s10", NULL);
    lore_id a, b;
    assert_int_equal(lore_intern(kb, &t9, &a), LORE_OK);
    assert_int_equal(lore_intern(kb, &t10, &b), LORE_OK);
    assert_true(lore_compare(kb, b, a) < 0);
    lore_kb_free(kb);
}

static void test_alloc_failures(void **state)
{
    (void)state;
    int done = 0;
    for (long n = 1; !done; n++) {
        failing f = {.fail_at = n};
        lore_kb *kb;
        if (lore_kb_new(&kb, failing_alloc, &f) != LORE_OK) {
            assert_int_equal(f.live, 0);
            continue;
        }
        int failures = 0;
        char name[16];
        for (int i = 0; i < 120; i++) {
            size_t nb = snapshot(kb, before, 400);
            if (nb == (size_t)-1) { /* the snapshot itself ran out */
                failures++;
                continue;
            }
            lore_id t[4];
            int ok = 1;
            for (int k = 0; k < 4 && ok; k++) {
                snprintf(name, sizeof name, "t%d", (i * (k + 3) + k) % 9);
                lore_value v = lore_symbol(name);
                int rc = lore_intern(kb, &v, &t[k]);
                if (rc == LORE_ERR_NOMEM) {
                    assert_string_equal(lore_errmsg(kb), "out of memory");
                    ok = 0;
                }
            }
            if (!ok) {
                failures++;
                continue;
            }
            int rc;
            size_t removed;
            switch (i % 5) {
            case 0:
            case 1:
            case 2: rc = lore_add(kb, t[0], t[1], t[2], i % 3 ? t[3] : 0); break;
            case 3: rc = lore_remove(kb, t[0], t[1], t[2], LORE_ANY_SOURCE); break;
            default: rc = lore_retract_source(kb, t[3], &removed); break;
            }
            if (rc == LORE_ERR_NOMEM) {
                failures++;
                assert_string_equal(lore_errmsg(kb), "out of memory");
                size_t na = snapshot(kb, after, 400);
                if (na != (size_t)-1) {
                    assert_int_equal(na, nb);
                    for (size_t j = 0; j < na; j++)
                        assert_string_equal(after[j], before[j]);
                }
            } else {
                assert_true(rc >= 0);
            }
        }
        lore_kb_free(kb);
        assert_int_equal(f.live, 0);
        if (failures == 0 && f.calls < n)
            done = 1;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_facts_and_sources),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_iterators),
        cmocka_unit_test(test_transactions),
        cmocka_unit_test(test_batches),
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
