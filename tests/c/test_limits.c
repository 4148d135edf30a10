/* test_limits.c - the readers' limits through the C API: nesting far past
 * LORE_MAX_NESTING in query text, paths, expressions, rule text and groups
 * built with lore_query_begin, and NUL bytes or invalid UTF-8 in texts and
 * values, each refused with its exact status and message and leaving the
 * knowledge base as it was.  Run under ASan too, whose larger stack frames
 * would make any recursion left unbounded overflow sooner. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "lore.h"

enum { DEEP = 100000 };

static lore_id sym(lore_kb *kb, const char *s)
{
    lore_value v = lore_symbol(s);
    lore_id id;
    assert_int_equal(lore_intern(kb, &v, &id), LORE_OK);
    return id;
}

/* A kb of 20 facts and one rule; nothing below may change it. */
static lore_kb *sample(void)
{
    lore_kb *kb;
    assert_int_equal(lore_kb_new(&kb, NULL, NULL), LORE_OK);
    lore_id p = sym(kb, "p");
    for (int i = 0; i < 20; i++) {
        char name[16];
        snprintf(name, sizeof name, "n%d", i);
        assert_int_equal(lore_add(kb, sym(kb, name), p, sym(kb, "x"), 0), LORE_OK);
    }
    const char *rule = "?x q ?y :- ?x p ?y";
    assert_int_equal(lore_rule_add(kb, rule, strlen(rule), "r", NULL), LORE_OK);
    return kb;
}

static void unchanged(lore_kb *kb)
{
    assert_int_equal(lore_size(kb), 20);
    assert_int_equal(lore_rule_count(kb), 1);
}

/* prefix + `open` n times + middle + `close` n times, NUL-terminated. */
static char *nested(const char *prefix, const char *open, size_t n, const char *middle,
                    const char *close)
{
    size_t lp = strlen(prefix), lo = strlen(open), lm = strlen(middle), lc = strlen(close);
    char *s = malloc(lp + n * (lo + lc) + lm + 1), *c = s;
    assert_non_null(s);
    memcpy(c, prefix, lp), c += lp;
    for (size_t i = 0; i < n; i++)
        memcpy(c, open, lo), c += lo;
    memcpy(c, middle, lm), c += lm;
    for (size_t i = 0; i < n; i++)
        memcpy(c, close, lc), c += lc;
    *c = '\0';
    return s;
}

static void parse_fails(lore_kb *kb, const char *text, size_t len, int rc, const char *msg)
{
    lore_query *q = (lore_query *)1;
    assert_int_equal(lore_query_parse(kb, text, len, &q), rc);
    assert_null(q);
    assert_string_equal(lore_errmsg(kb), msg);
    unchanged(kb);
}

static void test_query_text(void **state)
{
    (void)state;
    lore_kb *kb = sample();
    static const struct {
        const char *prefix, *open, *middle, *close, *msg;
    } cases[] = {
        {"", "{", "?x p ?y", "}", "query:1:1001: nesting deeper than 1000"},
        {"", "optional {", "?x p ?y", "}", "query:1:10010: nesting deeper than 1000"},
        {"select * where { ", "{ ", "?x p ?y", "}", "query:1:2018: nesting deeper than 1000"},
        {"?x ", "(", "p", ")", "query:1:1004: nesting deeper than 1000"},
        {"?x ", "^", "p ?y", "", "query:1:1004: nesting deeper than 1000"},
        {"?x p ?y . ?z = ", "(", "?y", ")", "query:1:1016: nesting deeper than 1000"},
        {"?x p ?y . ?z = ", "-", "?y", "", "query:1:1016: nesting deeper than 1000"},
        {"?x p ?y . ?z = ", "abs(", "?y", ")", "query:1:4016: nesting deeper than 1000"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *s = nested(cases[i].prefix, cases[i].open, DEEP, cases[i].middle, cases[i].close);
        parse_fails(kb, s, strlen(s), LORE_ERR_LIMIT, cases[i].msg);
        free(s);
    }
    /* at the limit, a query runs */
    char *s = nested("", "{", LORE_MAX_NESTING, "?x p ?y", "}");
    lore_query *q;
    assert_int_equal(lore_query_parse(kb, s, strlen(s), &q), LORE_OK);
    uint64_t n = 0;
    assert_int_equal(lore_query_count(q, &n), LORE_OK);
    assert_int_equal(n, 20);
    lore_query_free(q);
    free(s);
    lore_kb_free(kb);
}

static void test_paths_and_expressions(void **state)
{
    (void)state;
    lore_kb *kb = sample();
    lore_query *q;
    assert_int_equal(lore_query_new(kb, &q), LORE_OK);
    char *s = nested("", "(", DEEP, "p", ")");
    assert_int_equal(lore_query_path(q, lore_qvar("?x"), s, lore_qvar("?y")), LORE_ERR_LIMIT);
    assert_string_equal(lore_errmsg(kb), "query:1:1001: nesting deeper than 1000");
    free(s);
    s = nested("", "-(", DEEP, "1", ")");
    assert_int_equal(lore_query_let(q, "?z", s, strlen(s)), LORE_ERR_LIMIT);
    assert_string_equal(lore_errmsg(kb), "query:1:1001: nesting deeper than 1000");
    free(s);
    s = nested("?x = ", "(", DEEP, "1", ")");
    assert_int_equal(lore_query_filter_text(q, s, strlen(s)), LORE_ERR_SYNTAX);
    assert_string_equal(lore_errmsg(kb), "query:1:6: expected a variable or a value, got '('");
    free(s);
    lore_id start = sym(kb, "n1");
    s = nested("", "(", DEEP, "p", ")");
    lore_query *r = (lore_query *)1;
    assert_int_equal(lore_reach(kb, start, s, 5, &r), LORE_ERR_LIMIT);
    assert_string_equal(lore_errmsg(kb), "query:1:1001: nesting deeper than 1000");
    free(s);
    lore_query_free(q);
    unchanged(kb);
    lore_kb_free(kb);
}

static void test_groups(void **state)
{
    (void)state;
    lore_kb *kb = sample();
    static const int kinds[] = {LORE_GROUP_OPTIONAL, LORE_GROUP_WITHOUT, LORE_GROUP_UNION};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        lore_query *q;
        assert_int_equal(lore_query_new(kb, &q), LORE_OK);
        int rc = LORE_OK, depth = 0;
        for (int i = 0; i < DEEP && rc == LORE_OK; i++) {
            rc = lore_query_begin(q, kinds[k]);
            if (rc == LORE_OK && kinds[k] == LORE_GROUP_UNION)
                rc = lore_query_begin(q, LORE_GROUP_BRANCH);
            depth += rc == LORE_OK;
        }
        assert_int_equal(rc, LORE_ERR_LIMIT);
        assert_string_equal(lore_errmsg(kb), "nesting deeper than 1000");
        assert_int_equal(depth, LORE_MAX_NESTING);
        lore_query_free(q);
    }
    unchanged(kb);
    lore_kb_free(kb);
}

static void test_rule_text(void **state)
{
    (void)state;
    lore_kb *kb = sample();
    char *s = nested("deep: ?x q ?y :-\n  ", "{", DEEP, "?x p ?y", "}");
    assert_int_equal(lore_rule_add(kb, s, strlen(s), NULL, NULL), LORE_ERR_LIMIT);
    assert_string_equal(lore_errmsg(kb), "rule:2:1003: nesting deeper than 1000");
    free(s);
    s = nested("", "{", DEEP, "?x q ?y", "}");
    char *t = malloc(strlen(s) + 32);
    assert_non_null(t);
    sprintf(t, "%s :- ?x p ?y", s);
    assert_int_equal(lore_rule_add(kb, t, strlen(t), NULL, NULL), LORE_ERR_LIMIT);
    assert_string_equal(lore_errmsg(kb), "rule:1:1001: nesting deeper than 1000");
    free(s), free(t);
    unchanged(kb);
    lore_kb_free(kb);
}

static void test_bad_bytes(void **state)
{
    (void)state;
    lore_kb *kb = sample();
    static const struct {
        const char *text;
        size_t len;
        const char *msg;
    } texts[] = {
        {"?x p\0q ?y", 10, "query:1:5: expected valid UTF-8 without NUL bytes"},
        {"?x p\xffq ?y", 10, "query:1:5: expected valid UTF-8 without NUL bytes"},
        {"?x p ?y .\n?y \"t\xc3\" ?z", 21, "query:2:6: expected valid UTF-8 without NUL bytes"},
        {"?x p ?y # \xed\xa0\x80", 13, "query:1:11: expected valid UTF-8 without NUL bytes"},
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        parse_fails(kb, texts[i].text, texts[i].len, LORE_ERR_SYNTAX, texts[i].msg);
    const char rule[] = "?x q ?y :- ?x p\0q ?y";
    assert_int_equal(lore_rule_add(kb, rule, sizeof rule - 1, NULL, NULL), LORE_ERR_SYNTAX);
    assert_string_equal(lore_errmsg(kb), "rule:1:16: expected valid UTF-8 without NUL bytes");
    /* a value with a NUL: refused by the pattern as by lore_intern */
    lore_query *q;
    assert_int_equal(lore_query_new(kb, &q), LORE_OK);
    lore_value v = lore_symbol(NULL);
    v.str = "p\0q", v.len = 3;
    assert_int_equal(lore_query_pattern(q, lore_qvar("?x"), lore_qvalue(&v), lore_qvar("?y")),
                     LORE_ERR_ARG);
    assert_string_equal(lore_errmsg(kb), "expected valid UTF-8 without NUL bytes");
    lore_id id;
    assert_int_equal(lore_intern(kb, &v, &id), LORE_ERR_ARG);
    assert_string_equal(lore_errmsg(kb), "lore_intern: expected valid UTF-8 without NUL bytes");
    lore_query_free(q);
    unchanged(kb);
    lore_kb_free(kb);
}

/* The host's budgets: a deadline stops a long join and a long inference
 * within its time; a memory cap stops a growing load and a growing
 * transaction, each undone; after both are lifted the kb works as before. */
static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void test_budgets(void **state)
{
    (void)state;
    lore_kb *kb;
    assert_int_equal(lore_kb_new(&kb, NULL, NULL), LORE_OK);
    lore_id p = sym(kb, "p");
    char name[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(name, sizeof name, "n%d", i);
        lore_id a = sym(kb, name);
        snprintf(name, sizeof name, "n%d", (i + 1) % 2000);
        assert_int_equal(lore_add(kb, a, p, sym(kb, name), 0), LORE_OK);
    }
    /* a deadline: a join of 8e9 rows stops within it */
    const char *t = "?a p ?b . ?c p ?d . ?e p ?f . filter ?a = ?f";
    lore_query *q;
    uint64_t n;
    assert_int_equal(lore_query_parse(kb, t, strlen(t), &q), LORE_OK);
    lore_kb_set_deadline(kb, 50);
    double t0 = now_ms();
    assert_int_equal(lore_query_count(q, &n), LORE_ERR_INTERRUPT);
    double took = now_ms() - t0;
    assert_string_equal(lore_errmsg(kb), "deadline reached (50 ms)");
    assert_true(took >= 45 && took < 300); /* 50 ms, and a loaded machine's slack */
    lore_query_free(q);
    lore_kb_set_deadline(kb, 0); /* past, it would stop every call after */
    /* a step budget: the same join stops after about 10^6 rows */
    assert_int_equal(lore_query_parse(kb, t, strlen(t), &q), LORE_OK);
    lore_kb_set_step_budget(kb, 1000000);
    assert_int_equal(lore_query_count(q, &n), LORE_ERR_INTERRUPT);
    assert_string_equal(lore_errmsg(kb), "step budget exhausted (1000000)");
    lore_kb_set_step_budget(kb, 0);
    lore_query_free(q);
    /* and an inference (the ring's pairs, 4e6, by semi-naive rounds: the
     * filter keeps the closure kernel out) */
    const char *r1 = "?a anc ?b :- ?a p ?b",
               *r2 = "?a anc ?c :- ?a p ?b, ?b anc ?c, filter ?a != ?b";
    assert_int_equal(lore_rule_add(kb, r1, strlen(r1), NULL, NULL), LORE_OK);
    assert_int_equal(lore_rule_add(kb, r2, strlen(r2), NULL, NULL), LORE_OK);
    lore_kb_set_deadline(kb, 20);
    assert_int_equal(lore_infer(kb, NULL), LORE_ERR_INTERRUPT);
    assert_string_equal(lore_errmsg(kb), "deadline reached (20 ms)");
    lore_kb_set_deadline(kb, 0);
    assert_true(lore_clear_derived(kb, NULL) >= 0); /* nothing derived yet: the rounds keep
                                                       their facts apart until the end */
    assert_int_equal(lore_size(kb), 2000);
    /* a memory cap: 1 MiB more than in use now */
    size_t used = lore_kb_memory(kb);
    assert_true(used > 0);
    lore_kb_set_memory_cap(kb, used + (1u << 20));
    size_t cap = 200000 * 40, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    for (int i = 0; i < 200000; i++)
        len += (size_t)snprintf(text + len, cap - len, "<urn:x:a%d> <urn:x:p> \"%d\" .\n", i, i);
    lore_load_opts o = {LORE_FORMAT_NTRIPLES, NULL, NULL, NULL, NULL};
    int rc = lore_import_string(kb, text, len, "big", &o, NULL);
    assert_int_equal(rc, LORE_ERR_NOMEM);
    assert_non_null(strstr(lore_errmsg(kb), "memory cap reached ("));
    assert_int_equal(lore_size(kb), 2000);
    /* a transaction that grows past it is rolled back whole */
    assert_int_equal(lore_begin(kb), LORE_OK);
    rc = LORE_OK;
    for (int i = 0; i < 200000 && rc >= 0; i++) {
        snprintf(name, sizeof name, "m%d", i);
        lore_value v = lore_symbol(name);
        lore_id id;
        rc = lore_intern(kb, &v, &id);
        if (rc >= 0)
            rc = lore_add(kb, id, p, id, 0);
    }
    assert_int_equal(rc, LORE_ERR_NOMEM);
    assert_non_null(strstr(lore_errmsg(kb), "memory cap reached ("));
    assert_int_equal(lore_rollback(kb), LORE_OK);
    assert_int_equal(lore_size(kb), 2000);
    /* lifted: the load goes through */
    lore_kb_set_memory_cap(kb, 0);
    assert_int_equal(lore_import_string(kb, text, len, "big", &o, NULL), LORE_OK);
    assert_int_equal(lore_size(kb), 202000);
    free(text);
    lore_kb_free(kb);
}

/* lore_pattern_walk: the work of Lua's matcher on an untrusted pattern,
 * bounded by the kb's budgets and by its own cap. */
static void test_pattern_walk(void **state)
{
    (void)state;
    lore_kb *kb;
    assert_int_equal(lore_kb_new(&kb, NULL, NULL), LORE_OK);
    const char *s = "key = value; other=  x", *ok = "(%w+)%s*=%s*(%w+)";
    assert_int_equal(lore_pattern_walk(kb, s, strlen(s), 0, ok, strlen(ok), (size_t)-1), LORE_OK);
    assert_int_equal(lore_pattern_walk(kb, s, strlen(s), 99, ok, strlen(ok), 1), LORE_OK);
    assert_int_equal(lore_pattern_walk(kb, s, strlen(s), 0, "(%w)%1", 6, 1), LORE_ERR_ARG);
    assert_string_equal(lore_errmsg(kb), "back-references (%1 ...) are not supported in match filters");
    assert_int_equal(lore_pattern_walk(kb, s, strlen(s), 0, "a%", 2, 1), LORE_ERR_ARG);
    assert_string_equal(lore_errmsg(kb), "malformed pattern (ends with '%')");
    /* a backtracking pattern on 3,000 bytes: about 3000^6 steps */
    char subject[3001], pat[16];
    memset(subject, 'a', 3000);
    subject[3000] = '\0';
    snprintf(pat, sizeof pat, "a-a-a-a-a-a-b");
    size_t pn = strlen(pat);
    lore_kb_set_step_budget(kb, 1000000);
    assert_int_equal(lore_pattern_walk(kb, subject, 3000, 0, pat, pn, 1), LORE_ERR_INTERRUPT);
    assert_string_equal(lore_errmsg(kb), "step budget exhausted (1000000)");
    lore_kb_set_step_budget(kb, 0);
    lore_kb_set_deadline(kb, 30);
    double t0 = now_ms();
    assert_int_equal(lore_pattern_walk(kb, subject, 3000, 0, pat, pn, (size_t)-1), LORE_ERR_INTERRUPT);
    assert_string_equal(lore_errmsg(kb), "deadline reached (30 ms)");
    assert_true(now_ms() - t0 < 300);
    lore_kb_set_deadline(kb, 0);
    assert_int_equal(lore_pattern_walk(kb, subject, 3000, 0, pat, pn, 1), LORE_ERR_LIMIT);
    assert_string_equal(lore_errmsg(kb), "string pattern too costly (more than 67108864 matcher steps)");
    lore_kb_free(kb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_text), cmocka_unit_test(test_paths_and_expressions),
        cmocka_unit_test(test_groups),     cmocka_unit_test(test_rule_text),
        cmocka_unit_test(test_bad_bytes),  cmocka_unit_test(test_budgets),
        cmocka_unit_test(test_pattern_walk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
