/* test_dict.c - the term dictionary: every kind, interning identity,
 * validation with its reasons, the total order, rollback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "date.h"
#include "dict.h"

static dict d;
static const mem M = {mem_default, NULL};

static int setup(void **state)
{
    (void)state;
    dict_init(&d, &M);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dict_free(&d);
    return 0;
}

static uint32_t intern(lore_value v)
{
    uint32_t id = 0;
    const char *why = NULL;
    int rc = dict_intern(&d, &v, &id, &why);
    if (rc != LORE_OK)
        fail_msg("intern failed: %s", why ? why : "?");
    return id;
}

static const char *reject(lore_value v)
{
    uint32_t id;
    const char *why = NULL;
    assert_int_equal(dict_intern(&d, &v, &id, &why), LORE_ERR_ARG);
    assert_non_null(why);
    return why;
}

static void test_identity(void **state)
{
    (void)state;
    uint32_t a = intern(lore_symbol("nato"));
    assert_int_equal(intern(lore_symbol("nato")), a);
    assert_int_not_equal(intern(lore_symbol("NATO")), a);
    /* the same characters of other kinds are other terms */
    uint32_t t = intern(lore_text("nato", NULL));
    uint32_t tfr = intern(lore_text("nato", "fr"));
    assert_int_not_equal(t, a);
    assert_int_not_equal(tfr, t);
    /* tags compare without case, and are kept in lowercase */
    assert_int_equal(intern(lore_text("nato", "FR")), tfr);
    lore_value v;
    dict_get(&d, tfr, &v);
    assert_string_equal(v.lang, "fr");
    assert_int_equal(v.kind, LORE_TEXT);
    /* numbers: 2 and 2.0 are different terms; -0.0 is 0.0 */
    uint32_t i2 = intern(lore_integer(2)), n2 = intern(lore_number(2.0));
    assert_int_not_equal(i2, n2);
    assert_int_equal(intern(lore_number(-0.0)), intern(lore_number(0.0)));
    assert_int_equal(intern(lore_boolean(7)), intern(lore_boolean(1)));
    assert_int_not_equal(intern(lore_boolean(0)), intern(lore_boolean(1)));
    uint32_t dt = intern(lore_date("2024-07-10"));
    assert_int_equal(intern(lore_date("2024-07-10")), dt);
    dict_get(&d, dt, &v);
    assert_int_equal(v.kind, LORE_DATE);
    assert_string_equal(v.str, "2024-07-10");
    /* empty strings are terms too */
    assert_int_equal(intern(lore_symbol("")), intern(lore_symbol("")));
    /* many terms survive rehashing with their ids */
    char buf[32];
    uint32_t ids[5000];
    for (int i = 0; i < 5000; i++) {
        snprintf(buf, sizeof buf, "term%d", i);
        ids[i] = intern(lore_symbol(buf));
    }
    for (int i = 0; i < 5000; i++) {
        snprintf(buf, sizeof buf, "term%d", i);
        lore_value q = lore_symbol(buf);
        uint32_t id;
        const char *why;
        assert_int_equal(dict_lookup(&d, &q, &id, &why), LORE_OK);
        assert_int_equal(id, ids[i]);
    }
    lore_value q = lore_symbol("absent");
    uint32_t id;
    const char *why;
    assert_int_equal(dict_lookup(&d, &q, &id, &why), LORE_ERR_NOTFOUND);
}

static void test_validation(void **state)
{
    (void)state;
    assert_string_equal(reject(lore_date("2024-13-01")),
                        "a date as YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss][Z|+hh:mm]");
    reject(lore_date("2023-02-29"));
    reject(lore_date("10 juillet 2024"));
    reject(lore_date("2024-07-10T25:00"));
    reject(lore_date("2024-07-10T10:00+15:00"));
    reject(lore_date(""));
    intern(lore_date("2024-02-29"));
    intern(lore_date("2024"));
    intern(lore_date("2024-07"));
    intern(lore_date("2024-07-10T14:30"));
    intern(lore_date("2024-07-10T14:30:15.250Z"));
    intern(lore_date("2024-07-10T14:30:15-04:00"));
    assert_string_equal(reject(lore_symbol("bad\xff")), "valid UTF-8 without NUL bytes");
    reject(lore_symbol("\xc0\x80")); /* overlong */
    reject(lore_symbol("\xed\xa0\x80")); /* surrogate */
    lore_value nul = {LORE_SYMBOL, "a\0b", 3, NULL, 0, 0, 0};
    reject(nul);
    intern(lore_symbol("Pays-Bas \xc3\xa9\xe2\x82\xac\xf0\x9f\x8c\x8d"));
    assert_string_equal(reject(lore_text("x", "f r")), "a language tag like fr or en-GB");
    reject(lore_text("x", "-fr"));
    reject(lore_text("x", "1fr"));
    reject(lore_text("x", "abcdefghi"));
    intern(lore_text("x", "en-GB"));
    intern(lore_text("x", "zh-Hant-TW"));
    assert_string_equal(reject(lore_number(0.0 / 0.0)), "a number that is not NaN");
    lore_value bad = {(lore_kind)99, NULL, 0, NULL, 0, 0, 0};
    assert_string_equal(reject(bad), "a known term kind");
}

static void test_dates(void **state)
{
    (void)state;
    date_key k;
    const char *why;
    assert_int_equal(date_parse("1970-01-01", 10, &k, &why), 0);
    assert_int_equal(k.secs, 0);
    assert_int_equal(date_parse("2024-07-10", 10, &k, &why), 0);
    assert_int_equal(k.secs, 1720569600);
    assert_int_equal(date_parse("2024-07-10T02:00+02:00", 22, &k, &why), 0);
    assert_int_equal(k.secs, 1720569600);
    assert_int_equal(date_parse("2024", 4, &k, &why), 0);
    assert_int_equal(k.secs, 1704067200);
    assert_int_equal(date_parse("2024-07-10T00:00:00.5", 21, &k, &why), 0);
    assert_int_equal(k.nsec, 500000000);
}

/* Sorted order of a mixed set must be exactly this. */
static void test_order(void **state)
{
    (void)state;
    lore_value vals[] = {
        lore_boolean(0),
        lore_boolean(1),
        lore_number(-1e300),
        lore_integer(INT64_MIN),
        lore_number(-2.5),
        lore_integer(-2),
        lore_integer(2),
        lore_number(2.0),
        lore_number(2.5),
        lore_integer(9007199254740993), /* 2^53 + 1 */
        lore_number(9007199254740994.0),
        lore_integer(INT64_MAX),
        lore_number(1e300),
        lore_date("2023"),
        lore_date("2024-07-10"),
        lore_date("2024-07-10T02:00+02:00"),    /* the date's instant: ties by text */
        lore_date("2024-07-09T23:00:00-03:00"), /* = 2024-07-10T02:00Z */
        lore_date("2024-07-10T02:00Z"),
        lore_text("", NULL),
        lore_text("La Haye", NULL),
        lore_text("La Haye", "fr"),
        lore_text("Pologne", "fr"),
        lore_symbol("Alliance"),
        lore_symbol("nato"),
        lore_symbol("nato_ukraine"),
    };
    size_t n = sizeof vals / sizeof vals[0];
    uint32_t ids[sizeof vals / sizeof vals[0]];
    /* intern in a scrambled order so ids do not follow the order */
    for (size_t i = 0; i < n; i++)
        ids[(i * 7) % n] = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = (i * 7) % n;
        ids[j] = intern(vals[j]);
    }
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(dict_compare(&d, ids[i], ids[i]), 0);
        for (size_t j = i + 1; j < n; j++) {
            if (dict_compare(&d, ids[i], ids[j]) >= 0)
                fail_msg("order: item %zu should sort before item %zu", i, j);
            assert_true(dict_compare(&d, ids[j], ids[i]) > 0);
        }
    }
}

static void test_rollback(void **state)
{
    (void)state;
    uint32_t a = intern(lore_symbol("kept"));
    size_t n = d.n;
    dict_mark mk = dict_mark_get(&d);
    char buf[32];
    for (int i = 0; i < 3000; i++) {
        snprintf(buf, sizeof buf, "temp%d", i);
        intern(lore_text(buf, i % 3 ? "de" : "it"));
    }
    dict_rollback(&d, mk);
    assert_int_equal(d.n, n);
    uint32_t id;
    const char *why;
    lore_value q = lore_text("temp5", "de");
    assert_int_equal(dict_lookup(&d, &q, &id, &why), LORE_ERR_NOTFOUND);
    assert_int_equal(intern(lore_symbol("kept")), a);
    /* ids are handed out again from the mark */
    assert_int_equal(intern(lore_symbol("new")), n + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validation, setup, teardown),
        cmocka_unit_test(test_dates),
        cmocka_unit_test_setup_teardown(test_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
