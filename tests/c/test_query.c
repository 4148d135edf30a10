/* test_query.c - queries through the public API: every operator with
 * exact rows, random conjunctive queries against a naive evaluation in
 * every pattern order, paths against breadth-first search and relation
 * algebra, bad queries with their exact messages, interruption, and every
 * allocation failure along a workload. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "kb.h"
#include "lore.h"
#include "store.h"

/* ------------------------------------------------------------------ */
/* helpers                                                            */

static lore_id sym(lore_kb *kb, const char *s)
{
    lore_value v = lore_symbol(s);
    lore_id id;
    assert_int_equal(lore_intern(kb, &v, &id), LORE_OK);
    return id;
}

static lore_id val(lore_kb *kb, lore_value v)
{
    lore_id id;
    assert_int_equal(lore_intern(kb, &v, &id), LORE_OK);
    return id;
}

static void add3(lore_kb *kb, const char *s, const char *p, lore_id o)
{
    assert_true(lore_add(kb, sym(kb, s), sym(kb, p), o, 0) >= 0);
}

/* A value as the tests write it. */
static void show(char *buf, size_t n, int rc, const lore_value *v)
{
    if (rc != LORE_OK) {
        snprintf(buf, n, "-");
        return;
    }
    switch (v->kind) {
    case LORE_SYMBOL:
        snprintf(buf, n, "%s", v->str);
        break;
    case LORE_TEXT:
        snprintf(buf, n, "\"%s\"%s%s", v->str, v->lang ? "@" : "", v->lang ? v->lang : "");
        break;
    case LORE_INTEGER:
        snprintf(buf, n, "%lld", (long long)v->i);
        break;
    case LORE_NUMBER:
        snprintf(buf, n, "%g.", v->n);
        break;
    case LORE_BOOLEAN:
        snprintf(buf, n, "%s", v->i ? "true" : "false");
        break;
    case LORE_DATE:
        snprintf(buf, n, "d%s", v->str);
        break;
    }
}

static int cmp_lines(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs q and returns its rows, "col=value ..." per line, in the order
 * produced (sorted if `sorted`).  The caller frees the string. */
static char *rows_of(lore_query *q, int sorted)
{
    char *lines[4096];
    size_t n = 0;
    int rc;
    while ((rc = lore_query_next(q)) == LORE_OK) {
        char line[512] = "()";
        if (lore_query_ncols(q))
            line[0] = '\0';
        for (size_t c = 0; c < lore_query_ncols(q); c++) {
            lore_value v;
            char cell[128];
            show(cell, sizeof cell, lore_query_value(q, c, &v), &v);
            size_t l = strlen(line);
            snprintf(line + l, sizeof line - l, "%s%s=%s", c ? " " : "", lore_query_colname(q, c),
                     cell);
        }
        assert_true(n < 4096);
        lines[n++] = strdup(line);
    }
    assert_int_equal(rc, LORE_DONE);
    if (sorted)
        qsort(lines, n, sizeof *lines, cmp_lines);
    size_t total = 1;
    for (size_t i = 0; i < n; i++)
        total += strlen(lines[i]) + 1;
    char *out = malloc(total);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        strcat(out, lines[i]);
        if (i + 1 < n)
            strcat(out, "\n");
        free(lines[i]);
    }
    return out;
}

static char *run_text(lore_kb *kb, const char *text, int sorted)
{
    lore_query *q;
    int rc = lore_query_parse(kb, text, strlen(text), &q);
    if (rc != LORE_OK)
        fail_msg("%s: %s", text, lore_errmsg(kb));
    rc = lore_query_prepare(q);
    if (rc != LORE_OK)
        fail_msg("%s: %s", text, lore_errmsg(kb));
    char *r = rows_of(q, sorted);
    /* the count agrees with the rows */
    uint64_t n;
    assert_int_equal(lore_query_count(q, &n), LORE_OK);
    size_t lines = r[0] ? 1 : 0; /* no row prints as "", an empty one as "()" */
    for (const char *c = r; *c; c++)
        lines += *c == '\n';
    if (n != lines)
        fail_msg("%s: count %llu, rows %zu", text, (unsigned long long)n, lines);
    lore_query_free(q);
    return r;
}

#define expect_rows(kb, text, want)                                                                \
    do {                                                                                           \
        char *got_ = run_text(kb, text, 1);                                                        \
        if (strcmp(got_, want) != 0)                                                               \
            fail_msg("%s\n--- expected\n%s\n--- got\n%s", text, want, got_);                       \
        free(got_);                                                                                \
    } while (0)

#define expect_ordered(kb, text, want)                                                             \
    do {                                                                                           \
        char *got_ = run_text(kb, text, 0);                                                        \
        if (strcmp(got_, want) != 0)                                                               \
            fail_msg("%s\n--- expected\n%s\n--- got\n%s", text, want, got_);                       \
        free(got_);                                                                                \
    } while (0)

/* Parsing or preparing text fails with status rc and message msg. */
static void expect_error(lore_kb *kb, const char *text, int rc, const char *msg)
{
    lore_query *q = NULL;
    int got = lore_query_parse(kb, text, strlen(text), &q);
    if (got == LORE_OK) {
        got = lore_query_prepare(q);
        lore_query_free(q);
    } else {
        assert_null(q);
    }
    if (got != rc || strcmp(lore_errmsg(kb), msg) != 0)
        fail_msg("%s\n--- expected %d %s\n--- got %d %s", text, rc, msg, got, lore_errmsg(kb));
}

/* The fixture: people, ages of both numeric kinds, names, dates. */
static lore_kb *people(void)
{
    lore_kb *kb;
    assert_int_equal(lore_kb_new(&kb, NULL, NULL), LORE_OK);
    add3(kb, "alice", "knows", sym(kb, "bob"));
    add3(kb, "bob", "knows", sym(kb, "carol"));
    add3(kb, "carol", "knows", sym(kb, "alice"));
    add3(kb, "carol", "knows", sym(kb, "dave"));
    add3(kb, "alice", "likes", sym(kb, "alice"));
    add3(kb, "alice", "age", val(kb, lore_integer(30)));
    add3(kb, "bob", "age", val(kb, lore_integer(25)));
    add3(kb, "carol", "age", val(kb, lore_number(35.5)));
    add3(kb, "dave", "age", val(kb, lore_number(30.0)));
    add3(kb, "alice", "name", val(kb, lore_text("Alice", "en")));
    add3(kb, "bob", "name", val(kb, lore_text("Bob", NULL)));
    add3(kb, "carol", "name", val(kb, lore_text("Carol", "fr")));
    add3(kb, "alice", "born", val(kb, lore_date("1990-05-01")));
    add3(kb, "bob", "born", val(kb, lore_date("1995")));
    add3(kb, "alice", "member", sym(kb, "club1"));
    add3(kb, "bob", "member", sym(kb, "club1"));
    add3(kb, "carol", "member", sym(kb, "club2"));
    add3(kb, "club1", "type", sym(kb, "Club"));
    add3(kb, "club2", "type", sym(kb, "Club"));
    add3(kb, "dave", "flag", val(kb, lore_boolean(1)));
    return kb;
}

/* ------------------------------------------------------------------ */
/* every operator, exact rows                                         */

static void test_patterns(void **state)
{
    (void)state;
    lore_kb *kb = people();
    expect_rows(kb, "?x knows ?y . ?y knows ?z",
                "x=alice y=bob z=carol\n"
                "x=bob y=carol z=alice\n"
                "x=bob y=carol z=dave\n"
                "x=carol y=alice z=bob");
    /* the order written changes nothing */
    expect_rows(kb, "?y knows ?z . ?x knows ?y",
                "y=alice z=bob x=carol\n"
                "y=bob z=carol x=alice\n"
                "y=carol z=alice x=bob\n"
                "y=carol z=dave x=bob");
    expect_rows(kb, "?x likes ?x", "x=alice");
    expect_rows(kb, "?x knows ?x", "");
    expect_rows(kb, "alice ?p bob", "p=knows");
    expect_rows(kb, "?x member _ . ?x age ?a", "x=alice a=30\nx=bob a=25\nx=carol a=35.5.");
    expect_rows(kb, "?x knows nobody", "");
    expect_rows(kb, "", "()"); /* no patterns: one empty row */
    lore_query *q;
    assert_int_equal(lore_query_new(kb, &q), LORE_OK);
    uint64_t n;
    assert_int_equal(lore_query_count(q, &n), LORE_OK);
    assert_int_equal(n, 1);
    lore_query_free(q);
    /* terms of every kind in the text */
    expect_rows(kb, "?x name \"Alice\"@en", "x=alice");
    expect_rows(kb, "?x name \"Bob\"", "x=bob");
    expect_rows(kb, "?x age 30", "x=alice");
    expect_rows(kb, "?x age 30.0", "x=dave");
    expect_rows(kb, "?x born 1990-05-01", "x=alice");
    expect_rows(kb, "?x born date(\"1995\")", "x=bob");
    expect_rows(kb, "?x flag true", "x=dave");
    expect_rows(kb, "'alice' knows <bob>", "");
    lore_kb_free(kb);
}

static void test_optional_without_union(void **state)
{
    (void)state;
    lore_kb *kb = people();
    expect_rows(kb, "?x knows ?y . optional { ?y member ?c }",
                "x=alice y=bob c=club1\n"
                "x=bob y=carol c=club2\n"
                "x=carol y=alice c=club1\n"
                "x=carol y=dave c=-");
    expect_rows(kb, "?x knows ?y . optional { ?y member ?c . ?c type Nothing }",
                "x=alice y=bob c=-\nx=bob y=carol c=-\nx=carol y=alice c=-\nx=carol y=dave c=-");
    /* two optionals sharing a variable: the second sees the first's binding */
    expect_rows(kb, "?x age ?a . optional { ?x name ?n } . optional { ?x born ?d }",
                "x=alice a=30 n=\"Alice\"@en d=d1990-05-01\n"
                "x=bob a=25 n=\"Bob\" d=d1995\n"
                "x=carol a=35.5. n=\"Carol\"@fr d=-\n"
                "x=dave a=30. n=- d=-");
    expect_rows(kb, "?x knows ?y . without { ?y member ?c }", "x=carol y=dave");
    expect_rows(kb, "?x age ?a . without { ?x knows ?y . ?y member club2 }",
                "x=alice a=30\nx=carol a=35.5.\nx=dave a=30.");
    expect_rows(kb, "{ ?x member club1 } union { ?x age 35.5 }", "x=alice\nx=bob\nx=carol");
    expect_rows(kb, "{ ?x member ?c } union { ?x flag ?f }",
                "x=alice c=club1 f=-\nx=bob c=club1 f=-\nx=carol c=club2 f=-\nx=dave c=- f=true");
    expect_rows(kb, "?x age ?a . { ?x member club1 } union { ?x flag true }",
                "x=alice a=30\nx=bob a=25\nx=dave a=30.");
    /* nested: a union inside an optional inside a without */
    expect_rows(kb,
                "?x knows ?y . without { ?x age ?a . optional { { ?a x ?z } union { ?x flag "
                "true } } . filter ?a > 26 }",
                "x=bob y=carol");
    /* braces whose computed values, filters and without-groups read the
     * row's variables run after what binds them (a plan that ran them
     * first, cheap as they look, read them unbound: no rows) */
    expect_rows(kb, "?x age ?a { ?b = ?a }",
                "x=alice a=30 b=30\nx=bob a=25 b=25\nx=carol a=35.5. b=35.5.\nx=dave a=30. b=30.");
    expect_rows(kb, "?x age ?a { filter ?a > 30 }", "x=carol a=35.5.");
    expect_rows(kb, "?x knows ?y { without { ?y member ?c } }", "x=carol y=dave");
    expect_rows(kb, "?x age ?a { ?b = ?a } union { filter ?a < 26 . ?b = 0 }",
                "x=alice a=30 b=30\nx=bob a=25 b=0\nx=bob a=25 b=25\nx=carol a=35.5. b=35.5.\n"
                "x=dave a=30. b=30.");
    expect_rows(kb, "?x age ?a { optional { ?x name ?n . filter ?a < 31 } }",
                "x=alice a=30 n=\"Alice\"@en\nx=bob a=25 n=\"Bob\"\nx=carol a=35.5. n=-\n"
                "x=dave a=30. n=-");
    lore_kb_free(kb);
}

static int only_alice(void *ud, const lore_query *q)
{
    lore_id alice = *(lore_id *)ud;
    for (size_t v = 0; v < lore_query_nvars(q); v++)
        if (strcmp(lore_query_varname(q, v), "x") == 0)
            return lore_query_binding(q, v) == alice;
    return -1;
}

static void test_filters(void **state)
{
    (void)state;
    lore_kb *kb = people();
    /* numbers compare by value across integers and doubles */
    expect_rows(kb, "?x age ?a . filter ?a > 29", "x=alice a=30\nx=carol a=35.5.\nx=dave a=30.");
    expect_rows(kb, "?x age ?a . filter ?a = 30", "x=alice a=30\nx=dave a=30.");
    expect_rows(kb, "?x age ?a . filter ?a == 30.0", "x=alice a=30\nx=dave a=30.");
    expect_rows(kb, "?x age ?a . filter ?a ~= 30", "x=bob a=25\nx=carol a=35.5.");
    expect_rows(kb, "?x age ?a . filter ?a != 30", "x=bob a=25\nx=carol a=35.5.");
    expect_rows(kb, "?x age ?a . filter ?a <= 25", "x=bob a=25");
    expect_rows(kb, "?x age ?a . filter ?a >= 35.5", "x=carol a=35.5.");
    expect_rows(kb, "?x age ?a . filter (?a < 30)", "x=bob a=25");
    expect_rows(kb, "?x age ?a . filter 30 < ?a", "x=carol a=35.5.");
    /* dates by instant: a year is its first day */
    expect_rows(kb, "?x born ?d . filter ?d < 1995-01-02", "x=alice d=d1990-05-01\nx=bob d=d1995");
    expect_rows(kb, "?x born ?d . filter ?d > date(\"1994\")", "x=bob d=d1995");
    /* texts: bytes, then the language tag */
    expect_rows(kb, "?x name ?n . filter ?n = \"Bob\"", "x=bob n=\"Bob\"");
    expect_rows(kb, "?x name ?n . filter ?n = \"Alice\"@en", "x=alice n=\"Alice\"@en");
    expect_rows(kb, "?x name ?n . filter ?n = \"Alice\"", "");
    expect_rows(kb, "?x name ?n . filter ?n > \"B\"", "x=bob n=\"Bob\"\nx=carol n=\"Carol\"@fr");
    /* symbols by bytes; across kinds, lore's order (booleans < numbers) */
    expect_rows(kb, "?x knows ?y . filter ?y > carol", "x=carol y=dave");
    expect_rows(kb, "?x flag ?f . filter ?f < 0", "x=dave f=true");
    expect_rows(kb, "?x age ?a . filter ?a < \"text\"",
                "x=alice a=30\nx=bob a=25\nx=carol a=35.5.\nx=dave a=30.");
    /* two variables */
    expect_rows(kb, "?x age ?a . ?y age ?b . filter ?a < ?b . filter ?x = alice",
                "x=alice a=30 y=carol b=35.5.");
    /* membership, patterns */
    expect_rows(kb, "?x knows ?y . filter ?y in (bob, dave, nobody)",
                "x=alice y=bob\nx=carol y=dave");
    expect_rows(kb, "?x age ?a . filter ?a in (25, 35.5)", "x=bob a=25\nx=carol a=35.5.");
    expect_rows(kb, "?x age ?a . filter ?a in (30.0, 99)", "x=alice a=30\nx=dave a=30.");
    expect_rows(kb, "?x knows ?y . filter ?y in ()", "");
    expect_rows(kb, "?x name ?n . filter ?n match \"^[AB]\"",
                "x=alice n=\"Alice\"@en\nx=bob n=\"Bob\"");
    expect_rows(kb, "?x knows ?y . filter ?x match \"^c\"", "x=carol y=alice\nx=carol y=dave");
    expect_rows(kb, "?x born ?d . filter ?d match \"%-05%-\"", "x=alice d=d1990-05-01");
    expect_rows(kb, "?x age ?a . filter ?a match \"3\"", "");
    /* an unbound operand: no comparison holds */
    expect_rows(kb, "?x age ?a . optional { ?x born ?d } . filter ?d < 2000-01-01",
                "x=alice a=30 d=d1990-05-01\nx=bob a=25 d=d1995");
    expect_rows(kb, "?x age ?a . optional { ?x born ?d } . filter ?d ~= 1995",
                "x=alice a=30 d=d1990-05-01\nx=bob a=25 d=d1995");
    /* a C function */
    lore_id alice = sym(kb, "alice");
    lore_query *q;
    assert_int_equal(lore_query_new(kb, &q), LORE_OK);
    assert_int_equal(
        lore_query_pattern(q, lore_qvar("?x"), lore_qid(sym(kb, "knows")), lore_qvar("?y")),
        LORE_OK);
    assert_int_equal(lore_query_filter_fn(q, only_alice, &alice), LORE_OK);
    char *r = rows_of(q, 1);
    assert_string_equal(r, "x=alice y=bob");
    free(r);
    lore_query_free(q);
    lore_kb_free(kb);
}

static void test_modifiers(void **state)
{
    (void)state;
    lore_kb *kb = people();
    expect_rows(kb, "select ?x where { ?x knows ?y }", "x=alice\nx=bob\nx=carol\nx=carol");
    expect_rows(kb, "select distinct ?x where { ?x knows ?y }", "x=alice\nx=bob\nx=carol");
    expect_rows(kb, "select * where { ?x likes ?y }", "x=alice y=alice");
    expect_ordered(kb, "select ?x ?a where { ?x age ?a } order by -?a ?x",
                   "x=carol a=35.5.\nx=dave a=30.\nx=alice a=30\nx=bob a=25");
    expect_ordered(kb, "select ?x where { ?x age ?a } order by ?a",
                   "x=bob\nx=alice\nx=dave\nx=carol");
    expect_ordered(kb, "select ?x where { ?x age ?a } order by desc(?x) limit 2",
                   "x=dave\nx=carol");
    expect_ordered(kb, "select ?x where { ?x age ?a } order by asc(?x) limit 2 offset 1",
                   "x=bob\nx=carol");
    expect_ordered(kb, "?x age ?a order by ?x offset 3", "x=dave a=30.");
    expect_ordered(kb, "?x age ?a order by ?x limit 0", "");
    /* unbound values sort first */
    expect_ordered(kb, "?x age ?a . optional { ?x born ?d } order by ?d ?x",
                   "x=carol a=35.5. d=-\nx=dave a=30. d=-\nx=alice a=30 d=d1990-05-01\n"
                   "x=bob a=25 d=d1995");
    /* limit without order streams */
    char *r = run_text(kb, "select distinct ?x where { ?x knows ?y } limit 2", 1);
    assert_int_equal(strchr(r, '\n') != NULL, 1);
    assert_null(strchr(strchr(r, '\n') + 1, '\n'));
    free(r);
    lore_kb_free(kb);
}

static void test_aggregates(void **state)
{
    (void)state;
    lore_kb *kb = people();
    expect_rows(kb, "select count(*) as ?n where { ?x knows ?y }", "n=4");
    expect_rows(kb, "select count(*) where { ?x knows ?y }", "count=4");
    expect_ordered(kb, "select ?x count(?y) as ?n where { ?x knows ?y } group by ?x order by ?x",
                   "x=alice n=1\nx=bob n=1\nx=carol n=2");
    expect_rows(kb, "select count(distinct ?x) as ?n where { ?x knows ?y }", "n=3");
    expect_rows(kb, "select count(?x) where { ?x knows ?y }", "count_x=4");
    expect_rows(kb,
                "select sum(?a) as ?s avg(?a) as ?m min(?a) as ?lo max(?a) as ?hi where { ?x "
                "age ?a }",
                "s=120.5. m=30.125. lo=25 hi=35.5.");
    expect_rows(kb, "select sum(?a) where { ?x age ?a . filter ?a < 31 . filter ?x ~= dave }",
                "sum_a=55");
    expect_rows(kb, "select sum(distinct ?c) where { ?x age ?a . ?x member ?c }", "sum_c=0");
    expect_rows(kb, "select ?c count(?x) as ?n where { ?x member ?c } group by ?c",
                "c=club1 n=2\nc=club2 n=1");
    expect_rows(kb,
                "select ?c ?x count(*) as ?n where { ?x member ?c . ?x knows ?y } group by ?c ?x",
                "c=club1 x=alice n=1\nc=club1 x=bob n=1\nc=club2 x=carol n=2");
    expect_rows(kb, "select min(?n) max(?n) where { ?x name ?n }",
                "min_n=\"Alice\"@en max_n=\"Carol\"@fr");
    /* counting bound values only; aggregates of nothing */
    expect_rows(kb, "select count(?d) count(*) where { ?x age ?a . optional { ?x born ?d } }",
                "count_d=2 count=4");
    expect_rows(kb, "select count(*) as ?n sum(?y) avg(?y) min(?y) where { ?x nope ?y }",
                "n=0 sum_y=0 avg_y=- min_y=-");
    expect_rows(kb, "select ?x count(*) as ?n where { ?x nope ?y } group by ?x", "");
    expect_ordered(kb,
                   "select ?c count(?x) as ?n where { ?x member ?c } group by ?c order by -?n "
                   "limit 1",
                   "c=club1 n=2");
    /* group without select: the group variables */
    expect_rows(kb, "?x member ?c group by ?c", "c=club1\nc=club2");
    expect_ordered(kb, "?x member ?c group by ?c order by -?c", "c=club2\nc=club1");
    /* a variable grouped by twice (one clause or two, or the builder's
     * call twice) is grouped by once: its columns were written past their
     * array (found by the query fuzzer) */
    expect_rows(kb, "?x member ?c group by ?c ?c group by ?c ?x ?c group by ?x",
                "c=club1 x=alice\nc=club1 x=bob\nc=club2 x=carol");
    lore_query *q;
    const char *t = "?x member ?c";
    assert_int_equal(lore_query_parse(kb, t, strlen(t), &q), LORE_OK);
    for (int i = 0; i < 5; i++)
        assert_int_equal(lore_query_group(q, "c"), LORE_OK);
    assert_int_equal(lore_query_prepare(q), LORE_OK);
    assert_int_equal(lore_query_ncols(q), 1);
    uint64_t n = 0;
    assert_int_equal(lore_query_count(q, &n), LORE_OK);
    assert_int_equal(n, 2);
    lore_query_free(q);
    lore_kb_free(kb);
}

static void test_paths(void **state)
{
    (void)state;
    lore_kb *kb = people();
    expect_rows(kb, "alice knows+ ?y", "y=alice\ny=bob\ny=carol\ny=dave");
    expect_rows(kb, "alice knows* ?y", "y=alice\ny=bob\ny=carol\ny=dave");
    expect_rows(kb, "dave knows* ?y", "y=dave");
    expect_rows(kb, "dave knows+ ?y", "");
    expect_rows(kb, "?x ^knows alice", "x=bob");
    expect_rows(kb, "dave ^knows+ ?y", "y=alice\ny=bob\ny=carol");
    expect_rows(kb, "alice knows/knows ?z", "z=carol");
    expect_rows(kb, "alice (knows|member) ?z", "z=bob\nz=club1");
    expect_rows(kb, "alice knows? ?z", "z=alice\nz=bob");
    expect_rows(kb, "alice knows/member/^member ?z", "z=alice\nz=bob");
    expect_rows(kb, "alice knows+ dave", "()");
    expect_rows(kb, "dave knows+ alice", "");
    expect_rows(kb, "?x knows+ ?x", "x=alice\nx=bob\nx=carol");
    expect_rows(kb, "?x knows/knows/knows ?x", "x=alice\nx=bob\nx=carol");
    expect_rows(kb, "?x member/type ?t", "x=alice t=Club\nx=bob t=Club\nx=carol t=Club");
    expect_rows(kb, "?x ^type ?c", "x=Club c=club1\nx=Club c=club2");
    expect_rows(kb, "club1 ^member/knows+ carol", "()");
    expect_rows(kb, "club2 ^member/knows/member club2", "");
    expect_rows(kb, "?x knows+ dave . ?x age ?a . filter ?a < 30", "x=bob a=25");
    expect_rows(kb, "alice _ ?o . filter ?o match \"^c\"", "o=club1");
    /* closures nested a thousand deep compile in time linear in the
     * automaton's size per state (a scan of every edge per step took
     * seconds at 400) and mean one closure */
    char deep[1100] = "dave ^knows";
    memset(deep + strlen(deep), '*', 1000);
    strcpy(deep + 11 + 1000, " ?y");
    expect_rows(kb, deep, "y=alice\ny=bob\ny=carol\ny=dave");
    /* a predicate that is no term matches nothing, also inside paths */
    expect_rows(kb, "alice nosuch+ ?y", "");
    expect_rows(kb, "alice nosuch* ?y", "y=alice");
    expect_rows(kb, "alice (nosuch|member) ?y", "y=club1");
    expect_rows(kb, "?x nosuch/knows ?y", "");
    /* both ends free, with a repeat */
    expect_rows(kb, "?a knows* ?b . filter ?a = dave", "a=dave b=dave");
    /* lore_reach: breadth-first, each node once at its depth */
    lore_query *q;
    assert_int_equal(lore_reach(kb, sym(kb, "alice"), "knows+", 2, &q), LORE_OK);
    char *r = rows_of(q, 0);
    assert_string_equal(r, "node=bob depth=1\nnode=carol depth=2");
    free(r);
    lore_query_free(q);
    assert_int_equal(lore_reach(kb, sym(kb, "alice"), "knows*", UINT32_MAX, &q), LORE_OK);
    r = rows_of(q, 0);
    assert_string_equal(r, "node=alice depth=0\nnode=bob depth=1\nnode=carol depth=2\n"
                           "node=dave depth=3");
    free(r);
    lore_query_free(q);
    assert_int_equal(lore_reach(kb, sym(kb, "alice"), "knows+ )", 2, &q), LORE_ERR_SYNTAX);
    assert_null(q);
    assert_string_equal(lore_errmsg(kb), "query:1:8: expected the end of the path (paths use / "
                                         "| ^ + * ? and parentheses), got ')'");
    lore_kb_free(kb);
}

/* ------------------------------------------------------------------ */
/* bad queries                                                        */

static void test_errors(void **state)
{
    (void)state;
    lore_kb *kb = people();
    expect_error(kb, "?c beneficiary ukraine . ?c amount", LORE_ERR_SYNTAX,
                 "query:1:35: expected an object (a term or a variable), got end of text");
    expect_error(kb, "?x knows", LORE_ERR_SYNTAX,
                 "query:1:9: expected an object (a term or a variable), got end of text");
    expect_error(kb, "?x knows ?y .\n  ?y", LORE_ERR_SYNTAX,
                 "query:2:5: expected a predicate or a path, got end of text");
    expect_error(kb, "?x knows ?y . filter ?y <> 3", LORE_ERR_SYNTAX,
                 "query:1:26: expected a variable or a value, got '>'");
    expect_error(kb, "?x knows ?y . filter ?y is 3", LORE_ERR_SYNTAX,
                 "query:1:25: expected a comparison (=, ~=, <, <=, >, >=, in or match), got 'is'");
    expect_error(kb, "?x knows ?y . optional ?y", LORE_ERR_SYNTAX,
                 "query:1:24: expected '{' after optional, got '?y'");
    expect_error(kb, "{ ?x knows ?y } union ?y", LORE_ERR_SYNTAX,
                 "query:1:23: expected '{' after union, got '?y'");
    expect_error(kb, "?x knows ?y }", LORE_ERR_SYNTAX,
                 "query:1:13: expected a pattern (this '}' closes nothing), got '}'");
    expect_error(kb, "?x knows { ?y }", LORE_ERR_SYNTAX,
                 "query:1:10: expected an object (a term or a variable), got '{'");
    expect_error(kb, "optional { ?x knows ?y", LORE_ERR_SYNTAX,
                 "query:1:23: expected '}' or another pattern, got end of text");
    expect_error(kb, "?x name \"Alice", LORE_ERR_SYNTAX,
                 "query:1:9: expected a closing '\"' for this text, got '\"'");
    expect_error(kb, "?x knows ?y . filter ?y in (bob dave)", LORE_ERR_SYNTAX,
                 "query:1:33: expected ',' or ')' in the set, got 'dave'");
    expect_error(kb, "?x (knows ?y", LORE_ERR_SYNTAX,
                 "query:1:11: expected ')' closing the path, got '?y'");
    expect_error(kb, "?x knows/ ?y", LORE_ERR_SYNTAX,
                 "query:1:11: expected a predicate (a name, <iri>, _ or a path in parentheses), "
                 "got '?y'");
    expect_error(kb, "?x born 2024-13-45", LORE_ERR_SYNTAX,
                 "query:1:9: expected a date (YYYY-MM-DD, or date(\"...\")), got '2024-13-45'");
    expect_error(kb, "select where { ?x knows ?y }", LORE_ERR_SYNTAX,
                 "query:1:8: expected a variable, an aggregate or '*' after select, got 'where'");
    expect_error(kb, "select ?x { ?x knows ?y } order ?z sideways", LORE_ERR_SYNTAX,
                 "query:1:36: expected group, order, limit, offset or the end, got 'sideways'");
    expect_error(kb, "select nope(?x) { ?x knows ?y }", LORE_ERR_SYNTAX,
                 "query:1:8: expected a variable or an aggregate (count, sum, min, max, avg), got "
                 "'nope'");
    expect_error(kb, "?x knows ?y limit 5 ten", LORE_ERR_SYNTAX,
                 "query:1:21: expected order by, group by, limit, offset or the end, got 'ten'");
    expect_error(kb, "?x age 99999999999999999999", LORE_ERR_SYNTAX,
                 "query:1:8: expected an integer within 64 bits, got '99999999999999999999'");
    /* malformed pattern, unbound variables, grouping */
    expect_error(kb, "?x name ?n . filter ?n match \"[a\"", LORE_ERR_ARG,
                 "match \"[a\": malformed pattern (missing ']')");
    expect_error(kb, "?x name ?n . filter ?n match \"(%1)\"", LORE_ERR_ARG,
                 "match \"(%1)\": back-references (%1 ...) are not supported in match filters");
    expect_error(kb, "?x knows ?y . filter ?z > 1", LORE_ERR_ARG,
                 "filter on ?z, which no pattern binds");
    expect_error(kb, "?x knows ?y . without { ?y age ?a } . filter ?a > 1", LORE_ERR_ARG,
                 "filter on ?a, which is not bound where the filter is");
    expect_error(kb, "select ?x ?n where { ?x knows ?y } group by ?y", LORE_ERR_ARG,
                 "?x is selected but neither grouped nor aggregated");
    expect_error(kb, "select ?z where { ?x knows ?y }", LORE_ERR_ARG,
                 "select ?z, which no pattern binds");
    expect_error(kb, "select count(?x) count(?x) where { ?x knows ?y }", LORE_ERR_ARG,
                 "two aggregates named ?count_x: name one with 'as'");
    expect_error(kb, "select ?x count(*) as ?n where { ?x knows ?y } group by ?x order by ?y",
                 LORE_ERR_ARG, "order by ?y, which is not a column of the aggregated rows");
    expect_error(kb, "?x knows ?y order by ?w", LORE_ERR_ARG,
                 "order by ?w, which no pattern binds");
    /* the builder */
    lore_query *q;
    assert_int_equal(lore_query_new(kb, &q), LORE_OK);
    assert_int_equal(lore_query_filter(q, lore_qvar("?x"), "<>", lore_qid(sym(kb, "bob"))),
                     LORE_ERR_ARG);
    assert_string_equal(lore_errmsg(kb),
                        "unknown comparison '<>' (expected =, ~=, <, <=, >, >=, in or match)");
    assert_int_equal(lore_query_end(q), LORE_ERR_STATE);
    assert_string_equal(lore_errmsg(kb), "no group is open");
    assert_int_equal(lore_query_begin(q, LORE_GROUP_BRANCH), LORE_ERR_STATE);
    assert_string_equal(lore_errmsg(kb), "a branch belongs directly inside a union");
    assert_int_equal(lore_query_begin(q, 9), LORE_ERR_ARG);
    assert_string_equal(lore_errmsg(kb), "lore_query_begin: unknown group kind 9");
    assert_int_equal(lore_query_begin(q, LORE_GROUP_UNION), LORE_OK);
    assert_int_equal(lore_query_pattern(q, lore_qvar("x"), lore_qvar("p"), lore_qvar("y")),
                     LORE_ERR_STATE);
    assert_string_equal(lore_errmsg(kb),
                        "a union holds branches: begin each with LORE_GROUP_BRANCH");
    assert_int_equal(lore_query_begin(q, LORE_GROUP_BRANCH), LORE_OK);
    assert_int_equal(lore_query_pattern(q, lore_qvar("x"), lore_qid(12345), lore_qvar("y")),
                     LORE_ERR_ARG);
    assert_string_equal(lore_errmsg(kb), "predicate is not a term id (12345)");
    assert_int_equal(lore_query_prepare(q), LORE_ERR_STATE);
    assert_string_equal(lore_errmsg(kb), "the group group is not closed (lore_query_end)");
    assert_int_equal(lore_query_end(q), LORE_OK);
    assert_int_equal(lore_query_end(q), LORE_OK);
    assert_int_equal(lore_query_end(q), LORE_ERR_STATE);
    assert_int_equal(lore_query_bind(q, "?nope", 0), LORE_ERR_ARG);
    assert_string_equal(lore_errmsg(kb), "lore_query_bind: the query has no variable ?nope");
    assert_int_equal(lore_query_select(q, "?x count("), LORE_ERR_SYNTAX);
    assert_string_equal(lore_errmsg(kb), "query:1:10: expected a variable or '*', got end of text");
    lore_value bad = lore_date("yesterday");
    assert_int_equal(lore_query_pattern(q, lore_qvar("x"), lore_qvar("p"), lore_qvalue(&bad)),
                     LORE_ERR_ARG);
    lore_query_free(q);
    lore_query_free(NULL);
    lore_kb_free(kb);
}

/* ------------------------------------------------------------------ */
/* the C API: bind, reset, columns, values, plans, changes            */

static void test_c_api(void **state)
{
    (void)state;
    lore_kb *kb = people();
    lore_query *q;
    assert_int_equal(lore_query_new(kb, &q), LORE_OK);
    lore_value knows = lore_symbol("knows");
    assert_int_equal(lore_query_pattern(q, lore_qvar("?x"), lore_qvalue(&knows), lore_qvar("y")),
                     LORE_OK);
    assert_int_equal(lore_query_path(q, lore_qvar("?y"), "knows+", lore_qvar("?z")), LORE_OK);
    assert_int_equal(lore_query_filter_text(q, "?z = dave", 9), LORE_OK);
    assert_int_equal(lore_query_prepare(q), LORE_OK);
    assert_int_equal(lore_query_ncols(q), 3);
    assert_string_equal(lore_query_colname(q, 0), "x");
    assert_string_equal(lore_query_colname(q, 2), "z");
    assert_null(lore_query_colname(q, 3));
    char *r = rows_of(q, 1);
    assert_string_equal(r, "x=alice y=bob z=dave\nx=bob y=carol z=dave\nx=carol y=alice z=dave");
    free(r);
    /* pre-bound: the same query for one value */
    assert_int_equal(lore_query_bind(q, "x", sym(kb, "bob")), LORE_OK);
    r = rows_of(q, 1);
    assert_string_equal(r, "x=bob y=carol z=dave");
    free(r);
    lore_query_reset(q);
    assert_int_equal(lore_query_next(q), LORE_OK);
    assert_int_equal(lore_query_id(q, 0), sym(kb, "bob"));
    lore_value v;
    assert_int_equal(lore_query_value(q, 1, &v), LORE_OK);
    assert_string_equal(v.str, "carol");
    assert_int_equal(lore_query_value(q, 7, &v), LORE_ERR_ARG);
    assert_int_equal(lore_query_next(q), LORE_DONE);
    assert_int_equal(lore_query_next(q), LORE_DONE);
    assert_int_equal(lore_query_id(q, 0), 0);
    assert_int_equal(lore_query_bind(q, "x", 0), LORE_OK);
    uint64_t n;
    assert_int_equal(lore_query_count(q, &n), LORE_OK);
    assert_int_equal(n, 3);
    assert_ptr_equal(lore_query_kb(q), kb);
    /* the plan names each step and how it reads the indexes */
    const char *plan = lore_query_plan(q);
    assert_non_null(plan);
    assert_string_equal(plan, "plan (estimated rows: 2)\n"
                              "  1 ?y knows+ ?z      path, every start  est 13\n"
                              "  2 filter ?z = dave                     est 6.5\n"
                              "  3 ?x knows ?y       index (p o)        est 2");
    /* a plain group is a union of one branch inside: the plan says group */
    lore_query *g;
    const char *gt = "?x knows ?y { ?y age ?a }";
    assert_int_equal(lore_query_parse(kb, gt, strlen(gt), &g), LORE_OK);
    assert_int_equal(lore_query_prepare(g), LORE_OK);
    assert_non_null(strstr(lore_query_plan(g), " group {"));
    assert_null(strstr(lore_query_plan(g), "union"));
    lore_query_free(g);
    /* a change while running stops the query; a reset runs it again */
    lore_query_reset(q);
    assert_int_equal(lore_query_next(q), LORE_OK);
    add3(kb, "dave", "knows", sym(kb, "erin"));
    assert_int_equal(lore_query_next(q), LORE_ERR_CHANGED);
    assert_string_equal(lore_errmsg(kb), "the knowledge base changed during the query");
    assert_int_equal(lore_query_next(q), LORE_ERR_CHANGED);
    lore_query_reset(q);
    assert_int_equal(lore_query_count(q, &n), LORE_OK);
    assert_int_equal(n, 3); /* dave knows erin: no new row reaches dave */
    /* a constant unknown when built matches once it is a term */
    lore_query_free(q);
    assert_int_equal(lore_query_parse(kb, "?x knows frank", 14, &q), LORE_OK);
    assert_int_equal(lore_query_count(q, &n), LORE_OK);
    assert_int_equal(n, 0);
    add3(kb, "erin", "knows", sym(kb, "frank"));
    lore_query_reset(q);
    assert_int_equal(lore_query_count(q, &n), LORE_OK);
    assert_int_equal(n, 1);
    lore_query_free(q);
    /* filters by value: a value that is no term still compares */
    assert_int_equal(lore_query_new(kb, &q), LORE_OK);
    lore_value age = lore_symbol("age"), limit = lore_number(26.5), twenty5 = lore_integer(25);
    assert_int_equal(lore_query_pattern(q, lore_qvar("x"), lore_qvalue(&age), lore_qvar("a")),
                     LORE_OK);
    assert_int_equal(lore_query_filter(q, lore_qvar("a"), "<", lore_qvalue(&limit)), LORE_OK);
    lore_qterm set[2] = {lore_qvalue(&twenty5), lore_qvalue(&limit)};
    assert_int_equal(lore_query_filter_in(q, lore_qvar("a"), set, 2), LORE_OK);
    assert_int_equal(lore_query_select(q, "?x"), LORE_OK);
    r = rows_of(q, 1);
    assert_string_equal(r, "x=bob");
    free(r);
    lore_query_free(q);
    /* groups through the builder */
    assert_int_equal(lore_query_new(kb, &q), LORE_OK);
    assert_int_equal(lore_query_pattern(q, lore_qvar("x"), lore_qvalue(&age), lore_qvar("a")),
                     LORE_OK);
    assert_int_equal(lore_query_begin(q, LORE_GROUP_WITHOUT), LORE_OK);
    assert_int_equal(lore_query_pattern(q, lore_qvar("x"), lore_qvalue(&knows), lore_qid(0)),
                     LORE_OK);
    assert_int_equal(lore_query_end(q), LORE_OK);
    assert_int_equal(lore_query_begin(q, LORE_GROUP_OPTIONAL), LORE_OK);
    lore_value flag = lore_symbol("flag");
    assert_int_equal(lore_query_pattern(q, lore_qvar("x"), lore_qvalue(&flag), lore_qvar("f")),
                     LORE_OK);
    assert_int_equal(lore_query_end(q), LORE_OK);
    assert_int_equal(lore_query_order(q, "?a", 1), LORE_OK);
    assert_int_equal(lore_query_limit(q, 5, 0), LORE_OK);
    r = rows_of(q, 0);
    assert_string_equal(r, ""); /* everyone with an age knows someone */
    free(r);
    assert_int_equal(lore_query_distinct(q), LORE_OK);
    lore_query_free(q);
    lore_kb_free(kb);
}

/* ------------------------------------------------------------------ */
/* random conjunctive queries against a naive evaluation              */

enum { NT = 9, NV = 4 };

typedef struct rng {
    uint64_t s;
} rng;

static uint32_t rnd(rng *r, uint32_t n)
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return (uint32_t)(r->s % n);
}

typedef struct rpat {
    int var[3]; /* 0..NV-1 a named variable, NV.. anonymous, -1 a constant */
    int con[3]; /* constant: term index 0..NT-1, or NT: no such term */
} rpat;

static uint8_t facts[NT][NT][NT];

/* Rows of the naive evaluation: every assignment of the variables over
 * the terms, kept when each pattern is a fact; projected on the named
 * variables (anonymous ones multiply rows, as in the engine). */
static size_t naive(const rpat *ps, int np, int nanon, char **out)
{
    int nv = NV + nanon;
    int a[NV + 8];
    int used[NV + 8] = {0};
    for (int i = 0; i < np; i++)
        for (int k = 0; k < 3; k++)
            if (ps[i].var[k] >= 0)
                used[ps[i].var[k]] = 1;
    size_t n = 0;
    long total = 1;
    for (int v = 0; v < nv; v++)
        total *= used[v] ? NT : 1;
    for (long code = 0; code < total; code++) {
        long c = code;
        for (int v = 0; v < nv; v++) {
            a[v] = used[v] ? (int)(c % NT) : -1;
            if (used[v])
                c /= NT;
        }
        int ok = 1;
        for (int i = 0; i < np && ok; i++) {
            int t[3];
            for (int k = 0; k < 3; k++)
                t[k] = ps[i].var[k] >= 0 ? a[ps[i].var[k]] : ps[i].con[k];
            ok = t[0] < NT && t[1] < NT && t[2] < NT && facts[t[0]][t[1]][t[2]];
        }
        if (!ok)
            continue;
        char line[64] = "";
        for (int v = 0; v < NV; v++) {
            size_t l = strlen(line);
            if (used[v])
                snprintf(line + l, sizeof line - l, "%c=t%d ", 'a' + v, a[v]);
        }
        out[n++] = strdup(line);
    }
    qsort(out, n, sizeof *out, cmp_lines);
    return n;
}

/* The engine's rows in the same form. */
static size_t engine(lore_kb *kb, const rpat *ps, const int *order, int np, char **out, char *plan,
                     size_t plancap)
{
    lore_query *q;
    assert_int_equal(lore_query_new(kb, &q), LORE_OK);
    for (int j = 0; j < np; j++) {
        const rpat *p = &ps[order[j]];
        lore_qterm t[3];
        char names[3][8];
        lore_value vals[3];
        for (int k = 0; k < 3; k++) {
            if (p->var[k] >= 0) {
                if (p->var[k] < NV)
                    snprintf(names[k], 8, "?%c", 'a' + p->var[k]);
                else
                    snprintf(names[k], 8, "_");
                t[k] = lore_qvar(names[k]);
            } else {
                snprintf(names[k], 8, "t%d", p->con[k]);
                vals[k] = lore_symbol(names[k]);
                lore_id id;
                if (lore_lookup(kb, &vals[k], &id) == LORE_OK)
                    t[k] = lore_qid(id);
                else
                    t[k] = lore_qvalue(&vals[k]);
            }
        }
        /* constants by value are copied: the stack names may go */
        assert_int_equal(lore_query_pattern(q, t[0], t[1], t[2]), LORE_OK);
    }
    assert_int_equal(lore_query_prepare(q), LORE_OK);
    const char *pl = lore_query_plan(q);
    snprintf(plan, plancap, "%s", pl);
    size_t n = 0;
    int rc;
    while ((rc = lore_query_next(q)) == LORE_OK) {
        char cols[NV][16] = {{0}};
        for (size_t c = 0; c < lore_query_ncols(q); c++) {
            lore_value v;
            assert_int_equal(lore_query_value(q, c, &v), LORE_OK);
            snprintf(cols[lore_query_colname(q, c)[0] - 'a'], 16, "%s", v.str);
        }
        char line[96] = "";
        for (int v = 0; v < NV; v++) {
            size_t l = strlen(line);
            if (cols[v][0])
                snprintf(line + l, sizeof line - l, "%c=%s ", 'a' + v, cols[v]);
        }
        out[n++] = strdup(line);
    }
    assert_int_equal(rc, LORE_DONE);
    uint64_t cnt;
    assert_int_equal(lore_query_count(q, &cnt), LORE_OK);
    assert_int_equal(cnt, n);
    lore_query_free(q);
    qsort(out, n, sizeof *out, cmp_lines);
    return n;
}

static int next_perm(int *a, int n)
{
    int i = n - 2;
    while (i >= 0 && a[i] >= a[i + 1])
        i--;
    if (i < 0)
        return 0;
    int j = n - 1;
    while (a[j] <= a[i])
        j--;
    int t = a[i];
    a[i] = a[j], a[j] = t;
    for (int l = i + 1, r = n - 1; l < r; l++, r--)
        t = a[l], a[l] = a[r], a[r] = t;
    return 1;
}

static char *want_rows[NT * NT * NT * NT * 8], *got_rows[NT * NT * NT * NT * 8];

static void test_random_conjunctive(void **state)
{
    (void)state;
    rng r = {0x9e3779b97f4a7c15ull};
    for (int round = 0; round < 40; round++) {
        lore_kb *kb;
        assert_int_equal(lore_kb_new(&kb, NULL, NULL), LORE_OK);
        lore_id ids[NT];
        char name[16];
        for (int i = 0; i < NT; i++) {
            snprintf(name, sizeof name, "t%d", i);
            ids[i] = sym(kb, name);
        }
        memset(facts, 0, sizeof facts);
        int nf = 20 + (int)rnd(&r, 60);
        for (int i = 0; i < nf; i++) {
            /* predicates from a few terms, so patterns join */
            int s = (int)rnd(&r, NT), p = (int)rnd(&r, 3), o = (int)rnd(&r, NT);
            facts[s][p][o] = 1;
            assert_true(lore_add(kb, ids[s], ids[p], ids[o], 0) >= 0);
        }
        for (int qn = 0; qn < 25; qn++) {
            int np = 2 + (int)rnd(&r, 4), nanon = 0;
            rpat ps[5];
            for (int i = 0; i < np; i++) {
                for (int k = 0; k < 3; k++) {
                    uint32_t x = rnd(&r, 20);
                    if (x < 10) {
                        ps[i].var[k] = (int)rnd(&r, NV);
                    } else if (x < 11 && nanon < 2) {
                        ps[i].var[k] = NV + nanon++;
                    } else {
                        ps[i].var[k] = -1;
                        ps[i].con[k] = x == 19 ? NT : (k == 1 ? (int)rnd(&r, 3) : (int)rnd(&r, NT));
                    }
                }
            }
            size_t nw = naive(ps, np, nanon, want_rows);
            int order[5] = {0, 1, 2, 3, 4};
            char plan0[2048] = "", plan[2048];
            int perms = 0;
            do {
                size_t ng = engine(kb, ps, order, np, got_rows, plan, sizeof plan);
                if (ng != nw) {
                    for (int i = 0; i < np; i++)
                        for (int k = 0; k < 3; k++)
                            fprintf(stderr, "%d/%d%s", ps[i].var[k], ps[i].con[k],
                                    k == 2 ? "\n" : " ");
                    for (int a = 0; a < NT; a++)
                        for (int b = 0; b < NT; b++)
                            for (int c = 0; c < NT; c++)
                                if (facts[a][b][c])
                                    fprintf(stderr, "t%d t%d t%d\n", a, b, c);
                    fail_msg("round %d query %d: %zu rows, expected %zu\n%s", round, qn, ng, nw,
                             plan);
                }
                for (size_t i = 0; i < nw; i++)
                    assert_string_equal(got_rows[i], want_rows[i]);
                for (size_t i = 0; i < ng; i++)
                    free(got_rows[i]);
                /* the plan does not depend on the order written */
                if (perms == 0)
                    memcpy(plan0, plan, sizeof plan0);
                else
                    assert_string_equal(plan, plan0);
                perms++;
            } while (next_perm(order, np) && (np < 5 || perms < 30));
            for (size_t i = 0; i < nw; i++)
                free(want_rows[i]);
        }
        lore_kb_free(kb);
    }
}

/* ------------------------------------------------------------------ */
/* paths against relation algebra and breadth-first search            */

enum { NN = 14 };

typedef struct rel {
    uint8_t m[NN][NN];
} rel;

static rel rel_seq(const rel *a, const rel *b)
{
    rel r;
    memset(&r, 0, sizeof r);
    for (int i = 0; i < NN; i++)
        for (int k = 0; k < NN; k++)
            if (a->m[i][k])
                for (int j = 0; j < NN; j++)
                    r.m[i][j] |= b->m[k][j];
    return r;
}

static rel rel_alt(const rel *a, const rel *b)
{
    rel r;
    for (int i = 0; i < NN; i++)
        for (int j = 0; j < NN; j++)
            r.m[i][j] = a->m[i][j] | b->m[i][j];
    return r;
}

static rel rel_inv(const rel *a)
{
    rel r;
    for (int i = 0; i < NN; i++)
        for (int j = 0; j < NN; j++)
            r.m[i][j] = a->m[j][i];
    return r;
}

/* One or more steps: breadth-first search from every node. */
static rel rel_plus(const rel *a)
{
    rel r;
    memset(&r, 0, sizeof r);
    for (int s = 0; s < NN; s++) {
        int queue[NN], head = 0, tail = 0;
        for (int j = 0; j < NN; j++)
            if (a->m[s][j] && !r.m[s][j])
                r.m[s][j] = 1, queue[tail++] = j;
        while (head < tail) {
            int x = queue[head++];
            for (int j = 0; j < NN; j++)
                if (a->m[x][j] && !r.m[s][j])
                    r.m[s][j] = 1, queue[tail++] = j;
        }
    }
    return r;
}

static rel rel_id(const uint8_t *nodes)
{
    rel r;
    memset(&r, 0, sizeof r);
    for (int i = 0; i < NN; i++)
        r.m[i][i] = nodes[i];
    return r;
}

/* The nodes of the knowledge base (a subject or object of some fact): with
 * both ends free, a path that can match zero steps (innodes NULL) has a
 * zero-length row for each. */
static uint8_t kbnodes[NN];

static void check_path(lore_kb *kb, const char *path, const rel *want, const uint8_t *innodes)
{
    char text[256];
    /* every start bound, every end bound, and both free */
    for (int s = 0; s < NN; s++) {
        snprintf(text, sizeof text, "n%d %s ?o", s, path);
        lore_query *q;
        assert_int_equal(lore_query_parse(kb, text, strlen(text), &q), LORE_OK);
        uint8_t got[NN] = {0};
        int rc;
        while ((rc = lore_query_next(q)) == LORE_OK) {
            lore_value v;
            assert_int_equal(lore_query_value(q, 0, &v), LORE_OK);
            int o = atoi(v.str + 1);
            if (got[o])
                fail_msg("%s: n%d twice", text, o);
            got[o] = 1;
        }
        assert_int_equal(rc, LORE_DONE);
        lore_query_free(q);
        for (int o = 0; o < NN; o++) {
            /* a bound start reaches itself in zero steps even off the graph */
            int w = want->m[s][o] || (o == s && innodes == NULL);
            if (got[o] != w)
                fail_msg("%s: n%d %s, expected %s", text, o, got[o] ? "found" : "missing",
                         w ? "found" : "missing");
        }
    }
    for (int o = 0; o < NN; o++) {
        snprintf(text, sizeof text, "?s %s n%d", path, o);
        lore_query *q;
        assert_int_equal(lore_query_parse(kb, text, strlen(text), &q), LORE_OK);
        uint8_t got[NN] = {0};
        while (lore_query_next(q) == LORE_OK) {
            lore_value v;
            assert_int_equal(lore_query_value(q, 0, &v), LORE_OK);
            got[atoi(v.str + 1)]++;
        }
        lore_query_free(q);
        for (int s = 0; s < NN; s++) {
            int w = want->m[s][o] || (o == s && innodes == NULL);
            if (got[s] != w)
                fail_msg("%s: n%d found %d times, expected %d", text, s, got[s], w);
        }
    }
    snprintf(text, sizeof text, "?s %s ?o", path);
    lore_query *q;
    assert_int_equal(lore_query_parse(kb, text, strlen(text), &q), LORE_OK);
    uint8_t got[NN][NN];
    memset(got, 0, sizeof got);
    while (lore_query_next(q) == LORE_OK) {
        lore_value a, b;
        lore_query_value(q, 0, &a);
        lore_query_value(q, 1, &b);
        got[atoi(a.str + 1)][atoi(b.str + 1)]++;
    }
    lore_query_free(q);
    for (int s = 0; s < NN; s++)
        for (int o = 0; o < NN; o++) {
            int w = want->m[s][o] || (o == s && innodes == NULL && kbnodes[s]);
            if (got[s][o] != w)
                fail_msg("%s: (n%d, n%d) found %d times, expected %d", text, s, o, got[s][o], w);
        }
}

static void test_random_paths(void **state)
{
    (void)state;
    rng r = {12345};
    for (int round = 0; round < 25; round++) {
        lore_kb *kb;
        assert_int_equal(lore_kb_new(&kb, NULL, NULL), LORE_OK);
        lore_id n[NN], p = sym(kb, "p"), qq = sym(kb, "q");
        char name[16];
        for (int i = 0; i < NN; i++) {
            snprintf(name, sizeof name, "n%d", i);
            n[i] = sym(kb, name);
        }
        rel P, Q;
        memset(&P, 0, sizeof P);
        memset(&Q, 0, sizeof Q);
        uint8_t inp[NN] = {0}, inpq[NN] = {0};
        int ne = 8 + (int)rnd(&r, 20);
        for (int i = 0; i < ne; i++) {
            int a = (int)rnd(&r, NN), b = (int)rnd(&r, NN), which = (int)rnd(&r, 3);
            rel *m = which ? &P : &Q;
            m->m[a][b] = 1;
            assert_true(lore_add(kb, n[a], which ? p : qq, n[b], 0) >= 0);
            if (which)
                inp[a] = inp[b] = 1;
            inpq[a] = inpq[b] = 1;
        }
        /* an unrelated fact: paths ignore it, but for their zero steps */
        assert_true(lore_add(kb, n[0], sym(kb, "other"), n[1], 0) >= 0);
        memcpy(kbnodes, inpq, sizeof kbnodes);
        kbnodes[0] = kbnodes[1] = 1;
        rel Pp = rel_plus(&P), Pi = rel_inv(&P);
        rel idp = rel_id(inp), idpq = rel_id(inpq);
        rel PQ = rel_alt(&P, &Q);
        rel x, y;
        check_path(kb, "p", &P, inp);
        check_path(kb, "p+", &Pp, inp);
        /* p*: for bound ends the start itself; both free, every node of the kb */
        x = rel_alt(&Pp, &idp);
        check_path(kb, "p*", &x, NULL);
        x = rel_alt(&P, &idp);
        check_path(kb, "p?", &x, NULL);
        check_path(kb, "^p", &Pi, inp);
        x = rel_seq(&P, &Q);
        check_path(kb, "p/q", &x, inp);
        check_path(kb, "p|q", &PQ, inpq);
        x = rel_plus(&PQ);
        check_path(kb, "(p|q)+", &x, inpq);
        y = rel_plus(&Q);
        y = rel_alt(&y, &idpq);
        x = rel_seq(&Pi, &y);
        check_path(kb, "^p/q*", &x, inpq);
        x = rel_seq(&P, &Q);
        x = rel_plus(&x);
        check_path(kb, "(p/q)+", &x, inpq);
        x = rel_seq(&P, &Pi);
        check_path(kb, "p/^p", &x, inp);
        x = rel_alt(&Pi, &Q);
        x = rel_plus(&x);
        x = rel_alt(&x, &idpq);
        x = rel_seq(&x, &P);
        check_path(kb, "(^p|q)*/p", &x, inpq);
        x = rel_inv(&Pp);
        check_path(kb, "^(p+)", &x, inp);
        check_path(kb, "(^p)+", &x, inp);
        /* reach: depths are breadth-first distances, limited */
        for (int s = 0; s < NN; s++) {
            int dist[NN], queue[NN], head = 0, tail = 0;
            for (int i = 0; i < NN; i++)
                dist[i] = -1;
            for (int j = 0; j < NN; j++)
                if (P.m[s][j] && dist[j] < 0)
                    dist[j] = 1, queue[tail++] = j;
            while (head < tail) {
                int v = queue[head++];
                for (int j = 0; j < NN; j++)
                    if (P.m[v][j] && dist[j] < 0)
                        dist[j] = dist[v] + 1, queue[tail++] = j;
            }
            for (uint32_t limit = 1; limit <= 4; limit += 3) {
                lore_query *q;
                assert_int_equal(lore_reach(kb, n[s], "p+", limit, &q), LORE_OK);
                int got[NN];
                for (int i = 0; i < NN; i++)
                    got[i] = -1;
                int last = 0;
                while (lore_query_next(q) == LORE_OK) {
                    lore_value a, d;
                    lore_query_value(q, 0, &a);
                    lore_query_value(q, 1, &d);
                    int i = atoi(a.str + 1);
                    assert_int_equal(got[i], -1);
                    got[i] = (int)d.i;
                    assert_true(d.i >= last); /* breadth-first order */
                    last = (int)d.i;
                }
                lore_query_free(q);
                for (int i = 0; i < NN; i++) {
                    int w = dist[i] >= 0 && dist[i] <= (int)limit ? dist[i] : -1;
                    assert_int_equal(got[i], w);
                }
            }
        }
        lore_kb_free(kb);
    }
}

/* A long path query uses its adjacency cache and gives the same rows. */
static void test_path_graph(void **state)
{
    (void)state;
    lore_kb *kb;
    assert_int_equal(lore_kb_new(&kb, NULL, NULL), LORE_OK);
    lore_id p = sym(kb, "parent"), nodes[300];
    char name[16];
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "n%d", i);
        nodes[i] = sym(kb, name);
    }
    for (int i = 1; i < 300; i++)
        assert_int_equal(lore_add(kb, nodes[i], p, nodes[(i - 1) / 2], 0), LORE_OK);
    /* every pair of the closure: sum of depths in a binary heap */
    uint64_t want = 0;
    for (int i = 1; i < 300; i++)
        for (int j = i; j > 0; j = (j - 1) / 2)
            want++;
    lore_query *q;
    const char *t = "?a parent+ ?b";
    assert_int_equal(lore_query_parse(kb, t, strlen(t), &q), LORE_OK);
    uint64_t n;
    assert_int_equal(lore_query_count(q, &n), LORE_OK);
    assert_int_equal(n, want);
    lore_query_free(q);
    /* bound starts in a join: walks through the store, then the cache */
    t = "?a parent ?x . ?a parent+ ?b";
    assert_int_equal(lore_query_parse(kb, t, strlen(t), &q), LORE_OK);
    assert_int_equal(lore_query_count(q, &n), LORE_OK);
    assert_int_equal(n, want);
    lore_query_free(q);
    /* bound ends: walks from the object end, the inverse automaton's, once
     * cached over its own graph (over the forward one's they walked up:
     * 240 rows) */
    uint64_t want_up = 0;
    for (int x = (200 - 1) / 2; x >= 0; x = x ? (x - 1) / 2 : -1) /* n200's ancestors */
        for (int i = 1; i < 300; i++)
            for (int j = (i - 1) / 2;; j = (j - 1) / 2) {
                if (j == x) {
                    want_up++;
                    break;
                }
                if (j == 0)
                    break;
            }
    t = "n200 parent+ ?x . ?b parent+ ?x";
    assert_int_equal(lore_query_parse(kb, t, strlen(t), &q), LORE_OK);
    assert_int_equal(lore_query_count(q, &n), LORE_OK);
    assert_int_equal(want_up, 539);
    assert_int_equal(n, want_up);
    lore_query_free(q);
    lore_kb_free(kb);
}

/* ------------------------------------------------------------------ */
/* the internal API the rules engine uses: a delta source, pre-binding */

#include "query.h"

#include "failalloc.h"

static void test_delta_and_prebound(void **state)
{
    (void)state;
    lore_kb *kb;
    assert_int_equal(lore_kb_new(&kb, NULL, NULL), LORE_OK);
    lore_id a = sym(kb, "a"), b = sym(kb, "b"), c = sym(kb, "c"), d = sym(kb, "d");
    lore_id parent = sym(kb, "parent"), anc = sym(kb, "anc");
    assert_int_equal(lore_add(kb, a, parent, b, 0), LORE_OK);
    assert_int_equal(lore_add(kb, b, parent, c, 0), LORE_OK);
    assert_int_equal(lore_add(kb, c, parent, d, 0), LORE_OK);
    assert_int_equal(lore_add(kb, c, anc, d, 0), LORE_OK); /* in the store, not the delta */
    /* anc(x, z) :- parent(x, y), anc(y, z) with anc read from a delta */
    lore_query *body;
    const char *t = "?x parent ?y . ?y anc ?z";
    assert_int_equal(lore_query_parse(kb, t, strlen(t), &body), LORE_OK);
    qprog *p = query_prog(body);
    assert_int_equal(qprog_check(p, NULL), LORE_OK);
    assert_int_equal(qprog_pattern_node(p, 1), 2);
    assert_int_equal(qprog_pattern_node(p, 2), -1);
    qplan_opts o = {NULL, qprog_pattern_node(p, 1), 2, 0, 0, 0, 0};
    qplan plan;
    assert_int_equal(qplan_make(kb, p, &o, &plan), LORE_OK);
    assert_int_equal(plan.steps[0].delta, 1); /* the small delta runs first */
    uint32_t delta[] = {b, anc, d, c, anc, a, d, anc, a};
    qexec x;
    for (int round = 0; round < 2; round++) { /* one plan, many runs */
        assert_int_equal(qexec_open(&x, kb, p, &plan, NULL), LORE_OK);
        x.q = body;
        qexec_source(&x, delta, round == 0 ? 1 : 3); /* facts, 3 ids each */
        int v_x, v_z, n = 0;
        assert_int_equal(qprog_var(p, "x", 1, &v_x), LORE_OK);
        assert_int_equal(qprog_var(p, "z", 1, &v_z), LORE_OK);
        char got[64] = "";
        while (qexec_next(&x) == LORE_OK) {
            lore_value vx, vz;
            lore_term(kb, x.row[v_x], &vx);
            lore_term(kb, x.row[v_z], &vz);
            size_t l = strlen(got);
            snprintf(got + l, sizeof got - l, "%s%s", vx.str, vz.str);
            n++;
        }
        qexec_close(&x);
        /* round 0: parent(a, b), anc(b, d) -> ad; round 1 adds parent(b, c),
         * anc(c, a) -> ba and parent(c, d), anc(d, a) -> ca; the store's
         * anc(c, d) is not read */
        assert_string_equal(got, round == 0 ? "ad" : "adbaca");
    }
    qplan_free(&kb->m, &plan);
    /* pre-bound: plan for ?x given, run for a value */
    uint8_t pre[8] = {0};
    int v_x;
    assert_int_equal(qprog_var(p, "x", 1, &v_x), LORE_OK);
    pre[v_x] = 1;
    qplan_opts o2 = {pre, -1, 0, 0, 0, 0, 0};
    assert_int_equal(qplan_make(kb, p, &o2, &plan), LORE_OK);
    uint32_t init[8] = {0};
    init[v_x] = b;
    assert_int_equal(qexec_open(&x, kb, p, &plan, init), LORE_OK);
    uint64_t n;
    assert_int_equal(qexec_count(&x, &n), LORE_OK);
    assert_int_equal(n, 1); /* parent(b, c), anc(c, d) */
    qexec_close(&x);
    qplan_free(&kb->m, &plan);
    lore_query_free(body);
    lore_kb_free(kb);
}

/* The plan of "?p load ?q . ?q pt ?r . ?r pt ?o" with its last pattern a
 * delta of 200 facts, over n facts p_i load q_i and nr facts q_i pt r for
 * each q_i (r_(nr*i+j) when `own`, else the same r_0 .. r_(nr-1) for
 * every q_i): the pattern read by each step after the delta and the
 * positions bound there (s=1 p=2 o=4). */
static void load_pt_plan(int n, int nr, int own, int memo, int pat[2], int mask[2])
{
    lore_kb *kb;
    assert_int_equal(lore_kb_new(&kb, NULL, NULL), LORE_OK);
    lore_id load = sym(kb, "load"), pt = sym(kb, "pt");
    char name[32];
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "p%d", i);
        lore_id pi = sym(kb, name);
        snprintf(name, sizeof name, "q%d", i);
        lore_id qi = sym(kb, name);
        assert_int_equal(lore_add(kb, pi, load, qi, 0), LORE_OK);
        for (int j = 0; j < nr; j++) {
            snprintf(name, sizeof name, "r%d", own ? nr * i + j : j);
            assert_int_equal(lore_add(kb, qi, pt, sym(kb, name), 0), LORE_OK);
        }
    }
    lore_query *body;
    const char *t = "?p load ?q . ?q pt ?r . ?r pt ?o";
    assert_int_equal(lore_query_parse(kb, t, strlen(t), &body), LORE_OK);
    qprog *p = query_prog(body);
    assert_int_equal(qprog_check(p, NULL), LORE_OK);
    qplan_opts o = {NULL, qprog_pattern_node(p, 2), 200, 1, 0, memo, 0};
    qplan plan;
    assert_int_equal(qplan_make(kb, p, &o, &plan), LORE_OK);
    assert_int_equal(plan.nsteps, 3);
    assert_int_equal(plan.steps[0].delta, 1);
    for (int i = 0; i < 2; i++) {
        pat[i] = -1;
        for (int k = 0; k < 3; k++)
            if (plan.steps[i + 1].node == qprog_pattern_node(p, k))
                pat[i] = k;
        mask[i] = plan.steps[i + 1].mask;
    }
    qplan_free(&kb->m, &plan);
    lore_query_free(body);
    lore_kb_free(kb);
}

/* A delta pattern that runs first has the others ordered after it: not
 * the best order without it with the delta moved to the front, which here
 * joined the delta with every `load` fact and then probed `pt` for each
 * (the order a points-to analysis ran for seconds in).  Either way of
 * costing scans: ?q pt ?r by ?r, then ?p load ?q by ?q. */
static void test_delta_first_order(void **state)
{
    (void)state;
    for (int memo = 0; memo < 2; memo++) {
        int pat[2], mask[2];
        load_pt_plan(50, 2, 1, memo, pat, mask);
        assert_int_equal(pat[0], 1);
        assert_int_equal(mask[0], 6);
        assert_int_equal(pat[1], 0);
        assert_int_equal(mask[1], 6);
    }
}

/* qplan_opts.lead runs the pattern asked for first, the rest ordered
 * after it: a rule's check ("?x type ?d" with both bound) led by either
 * pattern of "?c sub ?d . ?x type ?c"; the other then has every position
 * bound (s=1 p=2 o=4), a probe. */
static void test_lead_first(void **state)
{
    (void)state;
    lore_kb *kb;
    assert_int_equal(lore_kb_new(&kb, NULL, NULL), LORE_OK);
    lore_id sub = sym(kb, "sub"), type = sym(kb, "type");
    char name[32];
    for (int i = 1; i < 200; i++) {
        snprintf(name, sizeof name, "c%d", i);
        lore_id ci = sym(kb, name);
        snprintf(name, sizeof name, "c%d", i / 2);
        assert_int_equal(lore_add(kb, ci, sub, sym(kb, name), 0), LORE_OK);
        snprintf(name, sizeof name, "x%d", i);
        assert_int_equal(lore_add(kb, sym(kb, name), type, ci, 0), LORE_OK);
    }
    lore_query *body;
    const char *t = "?c sub ?d . ?x type ?c";
    assert_int_equal(lore_query_parse(kb, t, strlen(t), &body), LORE_OK);
    qprog *p = query_prog(body);
    int nv = p->nvars;
    uint8_t *pre = calloc((size_t)nv + 1, 1);
    assert_non_null(pre);
    for (int v = 0; v < nv; v++) /* ?d and ?x */
        pre[v] = strcmp(p->vars[v], "d") == 0 || strcmp(p->vars[v], "x") == 0;
    assert_int_equal(qprog_check(p, pre), LORE_OK);
    for (int k = 0; k < 2; k++) {
        qplan_opts o = {pre, -1, 0, 0, 0, 1, qprog_pattern_node(p, k) + 1};
        qplan plan;
        assert_int_equal(qplan_make(kb, p, &o, &plan), LORE_OK);
        assert_int_equal(plan.nsteps, 2);
        assert_int_equal(plan.steps[0].node, qprog_pattern_node(p, k));
        assert_int_equal(plan.steps[0].mask, k == 0 ? 6 : 3);
        assert_int_equal(plan.steps[1].node, qprog_pattern_node(p, 1 - k));
        assert_int_equal(plan.steps[1].mask, 7);
        qplan_free(&kb->m, &plan);
    }
    free(pre);
    lore_query_free(body);
    lore_kb_free(kb);
}

/* Runs text (one pattern) through memo mo with its variable `var` bound
 * to val (and `var2` to val2 when given); returns the rows. */
static size_t memo_run(lore_kb *kb, qmemo *mo, const char *text, const char *var, lore_id val,
                       const char *var2, lore_id val2)
{
    lore_query *q;
    assert_int_equal(lore_query_parse(kb, text, strlen(text), &q), LORE_OK);
    qprog *p = query_prog(q);
    uint8_t pre[8] = {0};
    uint32_t init[8] = {0};
    assert_true(p->nvars < 8);
    for (int v = 0; v < p->nvars; v++) {
        if (strcmp(p->vars[v], var) == 0)
            pre[v] = 1, init[v] = val;
        if (var2 && strcmp(p->vars[v], var2) == 0)
            pre[v] = 1, init[v] = val2;
    }
    assert_int_equal(qprog_check(p, pre), LORE_OK);
    qplan_opts o = {pre, -1, 0, 0, 0, 1, 0};
    qplan plan;
    assert_int_equal(qplan_make(kb, p, &o, &plan), LORE_OK);
    qexec x;
    assert_int_equal(qexec_open(&x, kb, p, &plan, init), LORE_OK);
    x.memo = mo;
    size_t n = 0;
    int rc;
    while ((rc = qexec_next(&x)) == LORE_OK)
        n++;
    assert_int_equal(rc, LORE_DONE);
    qexec_close(&x);
    qplan_free(&kb->m, &plan);
    lore_query_free(q);
    return n;
}

/* The memo's dense maps (four key shapes) go to the shapes read after a
 * clear, not only to the first four it met; and its table, far larger
 * than the keys read before a clear, starts small again. */
static void test_memo_reuse(void **state)
{
    (void)state;
    lore_kb *kb;
    assert_int_equal(lore_kb_new(&kb, NULL, NULL), LORE_OK);
    char name[32];
    lore_id pk[5];
    for (int k = 0; k < 5; k++) {
        snprintf(name, sizeof name, "p%d", k);
        pk[k] = sym(kb, name);
        for (int i = 0; i < 3000; i++) {
            snprintf(name, sizeof name, "n%d", i);
            lore_id a = sym(kb, name);
            snprintf(name, sizeof name, "m%d", i % 7);
            assert_int_equal(lore_add(kb, a, pk[k], sym(kb, name), 0), LORE_OK);
        }
    }
    static const char *const text[5] = {"?x p0 ?y", "?x p1 ?y", "?x p2 ?y", "?x p3 ?y",
                                         "?x p4 ?y"};
    qmemo mo;
    memset(&mo, 0, sizeof mo);
    lore_id n5 = sym(kb, "n5");
    for (int k = 0; k < 5; k++) /* the fifth shape finds the maps taken */
        assert_int_equal(memo_run(kb, &mo, text[k], "x", n5, NULL, 0), 1);
    int has5 = 0;
    for (int d = 0; d < QMEMO_DENSE; d++)
        has5 |= mo.dense[d].e && mo.dense[d].pos == 0 && mo.dense[d].rest[1] == pk[4];
    assert_false(has5);
    /* a write: the next read clears the memo, and the fifth shape has a map */
    assert_int_equal(lore_add(kb, sym(kb, "w"), sym(kb, "q"), sym(kb, "v"), 0), LORE_OK);
    assert_int_equal(memo_run(kb, &mo, text[4], "x", n5, NULL, 0), 1);
    assert_int_equal(memo_run(kb, &mo, text[4], "x", n5, NULL, 0), 1);
    for (int d = 0; d < QMEMO_DENSE; d++)
        has5 |= mo.dense[d].e && mo.dense[d].pos == 0 && mo.dense[d].rest[1] == pk[4];
    assert_true(has5);
    /* 3,000 keys of two bound places fill the table; after two clears
     * with one key read between, it is small again */
    lore_id m3 = sym(kb, "m3");
    for (int i = 0; i < 3000; i++) {
        snprintf(name, sizeof name, "n%d", i);
        assert_int_equal(memo_run(kb, &mo, "?x ?p ?y", "x", sym(kb, name), "y", m3),
                         i % 7 == 3 ? 5 : 0);
    }
    assert_true(mo.cap >= 4096);
    for (int w = 0; w < 2; w++) {
        snprintf(name, sizeof name, "w%d", w);
        assert_int_equal(lore_add(kb, sym(kb, name), sym(kb, "q"), sym(kb, "v"), 0), LORE_OK);
        assert_int_equal(memo_run(kb, &mo, "?x ?p ?y", "x", sym(kb, "n3"), "y", m3), 5);
    }
    assert_int_equal(mo.cap, 1024);
    qmemo_free(&kb->m, &mo);
    lore_kb_free(kb);
}

/* In a rule body's run (qplan_opts.memo) a scan of a key read before
 * comes from the memo, a probe of a whole fact from the store: here each
 * new fact r_j pt o_k meets ten q_i pt r_j and ten q_i have a `load`;
 * seeking by ?r and then by ?q reads ten keys of each, while joining the
 * ten `load` facts first and probing `pt` for each row goes to the store
 * 2,000 times.  Without the memo (a query), every seek costs the same,
 * and the probes are the cheaper way. */
static void test_memo_costs(void **state)
{
    (void)state;
    int pat[2], mask[2];
    load_pt_plan(10, 20, 0, 1, pat, mask); /* by ?r, then by ?q */
    assert_int_equal(pat[0], 1);
    assert_int_equal(pat[1], 0);
    assert_int_equal(mask[1], 6);
    load_pt_plan(10, 20, 0, 0, pat, mask); /* every load fact, then a probe */
    assert_int_equal(pat[0], 0);
    assert_int_equal(mask[0], 2);
    assert_int_equal(pat[1], 1);
    assert_int_equal(mask[1], 7);
}

/* ------------------------------------------------------------------ */
/* interruption                                                       */

typedef struct stopper {
    lore_kb *kb;
    int calls, at;
} stopper;

static int stop_after(void *ud, const lore_query *q)
{
    (void)q;
    stopper *s = ud;
    if (++s->calls == s->at)
        lore_kb_interrupt(s->kb);
    return 0;
}

static lore_kb *ring(int n)
{
    lore_kb *kb;
    assert_int_equal(lore_kb_new(&kb, NULL, NULL), LORE_OK);
    lore_batch *b;
    assert_int_equal(lore_batch_new(kb, &b), LORE_OK);
    char name[16];
    lore_id p, first = 0, prev = 0;
    lore_value pv = lore_symbol("p");
    assert_int_equal(lore_batch_intern(b, &pv, &p), LORE_OK);
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "n%d", i);
        lore_value v = lore_symbol(name);
        lore_id id;
        assert_int_equal(lore_batch_intern(b, &v, &id), LORE_OK);
        if (i)
            assert_int_equal(lore_batch_add(b, prev, p, id, 0), LORE_OK);
        else
            first = id;
        prev = id;
    }
    assert_int_equal(lore_batch_add(b, prev, p, first, 0), LORE_OK);
    assert_int_equal(lore_batch_commit(b, NULL), LORE_OK);
    return kb;
}

static void *interrupt_later(void *arg)
{
    struct timespec ts = {0, 30 * 1000 * 1000};
    nanosleep(&ts, NULL);
    lore_kb_interrupt(arg);
    return NULL;
}

static volatile sig_atomic_t host_flag;

static void *flag_later(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 30 * 1000 * 1000};
    nanosleep(&ts, NULL);
    host_flag = 1;
    return NULL;
}

static void test_interrupt(void **state)
{
    (void)state;
    lore_kb *kb = ring(2000);
    const char *t = "?a p ?b . ?c p ?d . ?e p ?f";
    /* from a filter callback */
    lore_query *q;
    assert_int_equal(lore_query_parse(kb, t, strlen(t), &q), LORE_OK);
    stopper s = {kb, 0, 5000};
    assert_int_equal(lore_query_filter_fn(q, stop_after, &s), LORE_OK);
    assert_int_equal(lore_query_next(q), LORE_ERR_INTERRUPT);
    assert_string_equal(lore_errmsg(kb), "interrupted");
    assert_true(s.calls >= 5000 && s.calls < 5000 + 2048);
    assert_int_equal(lore_query_next(q), LORE_ERR_INTERRUPT); /* it stays stopped */
    /* everything intact: the store, and the query runs again */
    assert_int_equal(lore_size(kb), 2000);
    assert_null(store_check(&kb->st));
    lore_query_free(q);
    t = "?a p ?b . ?b p ?c";
    assert_int_equal(lore_query_parse(kb, t, strlen(t), &q), LORE_OK);
    uint64_t n;
    assert_int_equal(lore_query_count(q, &n), LORE_OK);
    assert_int_equal(n, 2000);
    lore_query_free(q);
    /* from another thread, in a long join and in a long walk */
    const char *longs[] = {"?a p ?b . ?c p ?d . ?e p ?f . filter ?a = ?f",
                           "?a p+ ?b . ?c p+ ?d . filter ?a = ?d"};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(lore_query_parse(kb, longs[i], strlen(longs[i]), &q), LORE_OK);
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, interrupt_later, kb), 0);
        assert_int_equal(lore_query_count(q, &n), LORE_ERR_INTERRUPT);
        pthread_join(th, NULL);
        lore_query_free(q);
    }
    /* a watched host flag; the host clears it */
    lore_kb_watch(kb, &host_flag);
    assert_int_equal(lore_query_parse(kb, longs[0], strlen(longs[0]), &q), LORE_OK);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, flag_later, NULL), 0);
    assert_int_equal(lore_query_count(q, &n), LORE_ERR_INTERRUPT);
    pthread_join(th, NULL);
    assert_int_equal(lore_query_count(q, &n), LORE_ERR_INTERRUPT); /* still set */
    host_flag = 0;
    lore_query_free(q);
    t = "?a p ?b";
    assert_int_equal(lore_query_parse(kb, t, strlen(t), &q), LORE_OK);
    assert_int_equal(lore_query_count(q, &n), LORE_OK);
    assert_int_equal(n, 2000);
    lore_query_free(q);
    lore_kb_watch(kb, NULL);
    assert_null(store_check(&kb->st));
    lore_kb_free(kb);
}

/* The Lua-pattern matcher: a pattern that backtracks without end stops at
 * its step budget, one too deep at its recursion bound, and an interrupt
 * reaches it inside one value; the store is unchanged each time. */
static void test_match_limits(void **state)
{
    (void)state;
    lore_kb *kb;
    assert_int_equal(lore_kb_new(&kb, NULL, NULL), LORE_OK);
    char text[64];
    memset(text, 'a', 40);
    for (int i = 0; i < 400; i++) {
        snprintf(text + 40, sizeof text - 40, "%d", i);
        add3(kb, "t", "is", val(kb, lore_text(text, NULL)));
    }
    char longer[301];
    memset(longer, 'a', 300);
    longer[300] = '\0';
    add3(kb, "u", "is", val(kb, lore_text(longer, NULL)));
    const char *t = "?x is ?y . filter ?y match \"a*a*a*a*a*a*a*a*b\"";
    lore_query *q;
    uint64_t n;
    assert_int_equal(lore_query_parse(kb, t, strlen(t), &q), LORE_OK);
    assert_int_equal(lore_query_count(q, &n), LORE_ERR_LIMIT);
    assert_string_equal(lore_errmsg(kb), "match 'a*a*a*a*a*a*a*a*b': pattern too costly (more than "
                                         "67108864 matcher steps on one value)");
    lore_query_free(q);
    char deep[700] = "?x is ?y . filter ?y match \"";
    for (int i = 0; i < 250; i++)
        strcat(deep, "a?");
    strcat(deep, "\"");
    assert_int_equal(lore_query_parse(kb, deep, strlen(deep), &q), LORE_OK);
    assert_int_equal(lore_query_count(q, &n), LORE_ERR_LIMIT);
    assert_string_equal(lore_errmsg(kb), "match 'a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?...': "
                                         "pattern too complex (recursion deeper than 200)");
    lore_query_free(q);
    /* under the budget, each value takes a while: an interrupt stops it */
    t = "?x is ?y . filter ?y match \"a*a*a*a*a*b\"";
    assert_int_equal(lore_query_parse(kb, t, strlen(t), &q), LORE_OK);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, interrupt_later, kb), 0);
    assert_int_equal(lore_query_count(q, &n), LORE_ERR_INTERRUPT);
    assert_string_equal(lore_errmsg(kb), "interrupted");
    pthread_join(th, NULL);
    lore_query_free(q);
    /* one set before the call stops it at its first poll */
    lore_kb_interrupt(kb);
    assert_int_equal(lore_query_parse(kb, t, strlen(t), &q), LORE_OK);
    assert_int_equal(lore_query_count(q, &n), LORE_ERR_INTERRUPT);
    lore_query_free(q);
    /* the store is as it was, and a plain pattern still matches */
    assert_int_equal(lore_size(kb), 401);
    assert_null(store_check(&kb->st));
    t = "?x is ?y . filter ?y match \"^a+1%d$\"";
    assert_int_equal(lore_query_parse(kb, t, strlen(t), &q), LORE_OK);
    assert_int_equal(lore_query_count(q, &n), LORE_OK);
    assert_int_equal(n, 10);
    lore_query_free(q);
    lore_kb_free(kb);
}

/* A query of 20,000 chained patterns plans in linear time and runs; an
 * interrupt set before planning stops it. */
static void test_big_plan(void **state)
{
    (void)state;
    lore_kb *kb = ring(50);
    enum { N = 20000 };
    size_t cap = (size_t)N * 32, len = 0;
    char *t = malloc(cap);
    assert_non_null(t);
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(t + len, cap - len, "%s?v%d p ?v%d", i ? " . " : "", i, i + 1);
    lore_query *q;
    uint64_t n;
    assert_int_equal(lore_query_parse(kb, t, len, &q), LORE_OK);
    assert_int_equal(lore_query_count(q, &n), LORE_OK);
    assert_int_equal(n, 50); /* around the ring of 50, every start */
    lore_query_free(q);
    lore_kb_interrupt(kb);
    int rc = lore_query_parse(kb, t, len, &q);
    if (rc == LORE_OK) { /* planned on first use */
        rc = lore_query_count(q, &n);
        lore_query_free(q);
    }
    assert_int_equal(rc, LORE_ERR_INTERRUPT);
    assert_string_equal(lore_errmsg(kb), "interrupted");
    assert_int_equal(lore_size(kb), 50);
    free(t);
    lore_kb_free(kb);
}

/* ------------------------------------------------------------------ */
/* allocation failures                                                */


static const char *const workload[] = {
    "?x knows ?y . ?y knows ?z . optional { ?z age ?a } . filter ?x ~= dave",
    "{ ?x member club1 } union { ?x age ?a . without { ?x born ?d } }",
    ("select ?c count(distinct ?x) as ?n sum(?a) where { ?x member ?c . ?x age ?a } group by ?c "
     "order by -?n"),
    "select distinct ?y where { ?x knows+ ?y . ?y (knows|member)* ?z } order by ?y limit 3",
    "?a knows/^knows ?b . filter ?a in (alice, bob) . filter ?b match \"^[a-c]\"",
};

/* Every allocation of a workload fails in turn: the call reports
 * LORE_ERR_NOMEM, nothing leaks, and the facts stay as they were. */
static void test_alloc_failures(void **state)
{
    (void)state;
    lore_kb *ref = people();
    uint64_t want[5];
    for (int i = 0; i < 5; i++) {
        lore_query *q;
        assert_int_equal(lore_query_parse(ref, workload[i], strlen(workload[i]), &q), LORE_OK);
        assert_int_equal(lore_query_count(q, &want[i]), LORE_OK);
        lore_query_free(q);
    }
    lore_kb_free(ref);
    int done = 0;
    for (long n = 1; !done; n++) {
        failing f = {.fail_at = -1};
        lore_kb *kb;
        assert_int_equal(lore_kb_new(&kb, failing_alloc, &f), LORE_OK);
        /* the same facts as people(), through the failing allocator */
        lore_kb *src = people();
        lore_iter *it;
        assert_int_equal(lore_match(src, 0, 0, 0, &it), LORE_OK);
        lore_id t[3];
        while (lore_iter_next(it, t) == LORE_OK) {
            lore_id d[3];
            for (int k = 0; k < 3; k++) {
                lore_value v;
                lore_term(src, t[k], &v);
                assert_int_equal(lore_intern(kb, &v, &d[k]), LORE_OK);
            }
            assert_int_equal(lore_add(kb, d[0], d[1], d[2], 0), LORE_OK);
        }
        lore_iter_free(it);
        lore_kb_free(src);
        size_t size = lore_size(kb);
        f.fail_at = f.calls + n;
        int failures = 0;
        for (int i = 0; i < 5; i++) {
            lore_query *q = NULL;
            int rc = lore_query_parse(kb, workload[i], strlen(workload[i]), &q);
            uint64_t cnt = 0;
            if (rc == LORE_OK) {
                rc = lore_query_count(q, &cnt);
                if (rc == LORE_OK) {
                    assert_int_equal(cnt, want[i]);
                    /* and once more, stepping through rows */
                    lore_query_reset(q);
                    uint64_t k = 0;
                    while ((rc = lore_query_next(q)) == LORE_OK)
                        k++;
                    if (rc == LORE_DONE) {
                        assert_int_equal(k, want[i]);
                        rc = LORE_OK;
                    }
                }
            }
            if (rc != LORE_OK) {
                assert_int_equal(rc, LORE_ERR_NOMEM);
                assert_string_equal(lore_errmsg(kb), "out of memory");
                failures++;
            }
            lore_query_free(q);
        }
        assert_int_equal(lore_size(kb), size);
        assert_null(store_check(&kb->st));
        lore_kb_free(kb);
        assert_int_equal(f.live, 0);
        if (failures == 0 && f.calls < f.fail_at)
            done = 1;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_patterns),
        cmocka_unit_test(test_optional_without_union),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_modifiers),
        cmocka_unit_test(test_aggregates),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_c_api),
        cmocka_unit_test(test_random_conjunctive),
        cmocka_unit_test(test_random_paths),
        cmocka_unit_test(test_path_graph),
        cmocka_unit_test(test_delta_and_prebound),
        cmocka_unit_test(test_delta_first_order),
        cmocka_unit_test(test_lead_first),
        cmocka_unit_test(test_memo_reuse),
        cmocka_unit_test(test_memo_costs),
        cmocka_unit_test(test_interrupt),
        cmocka_unit_test(test_match_limits),
        cmocka_unit_test(test_big_plan),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
