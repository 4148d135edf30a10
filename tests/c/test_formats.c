/* test_formats.c - files and formats through the public API: round trips
 * of every format on fixtures covering each mapping rule, the mapping
 * itself term by term, malformed files with their exact messages and an
 * unchanged store, a failure after 10^5 good lines, allocation failures,
 * prefixes, progress and interruption, blank nodes, export errors. */
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lore.h"

#include "failalloc.h"
#include "membuf.h"

#define DATA LORE_TEST_DATA /* tests/data, from the build */

/* ---- helpers ---- */

/* The export of kb in format f, as a malloc'd string. */
static char *export_str(lore_kb *kb, lore_format f)
{
    membuf b = {NULL, 0, 0};
    mem_write(&b, "", 0);
    assert_int_equal(lore_export_to(kb, f, mem_write, &b, NULL), LORE_OK);
    return b.p;
}

/* A term written unambiguously, independent of the writers under test. */
static void show(lore_kb *kb, lore_id id, membuf *out)
{
    lore_value v;
    char tmp[64];
    assert_int_equal(lore_term(kb, id, &v), LORE_OK);
    switch (v.kind) {
    case LORE_SYMBOL:
        mem_write(out, "S[", 2);
        break;
    case LORE_TEXT:
        mem_write(out, "T[", 2);
        break;
    case LORE_DATE:
        mem_write(out, "D[", 2);
        break;
    case LORE_INTEGER:
        snprintf(tmp, sizeof tmp, "I[%lld]", (long long)v.i);
        mem_write(out, tmp, strlen(tmp));
        return;
    case LORE_NUMBER:
        snprintf(tmp, sizeof tmp, "N[%.17g]", v.n);
        mem_write(out, tmp, strlen(tmp));
        return;
    case LORE_BOOLEAN:
        mem_write(out, v.i ? "B[1]" : "B[0]", 4);
        return;
    }
    for (size_t i = 0; i < v.len; i++) { /* bytes, with ] and \ escaped */
        unsigned char c = (unsigned char)v.str[i];
        if (c == ']' || c == '\\' || c < 0x20) {
            snprintf(tmp, sizeof tmp, "\\%02x", c);
            mem_write(out, tmp, 3);
        } else {
            mem_write(out, &v.str[i], 1);
        }
    }
    if (v.lang) {
        mem_write(out, "@", 1);
        mem_write(out, v.lang, v.langlen);
    }
    mem_write(out, "]", 1);
}

static int cmp_lines(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every fact with its sources and every prefix binding, sorted; with
 * `terms` the number of terms too (for "unchanged" checks). */
static char *dump(lore_kb *kb, int terms)
{
    char **lines = NULL;
    size_t n = 0;
    lore_iter *it;
    lore_id t[3];
    assert_int_equal(lore_match(kb, 0, 0, 0, &it), LORE_OK);
    while (lore_iter_next(it, t) == LORE_OK) {
        membuf b = {NULL, 0, 0};
        for (int k = 0; k < 3; k++) {
            show(kb, t[k], &b);
            mem_write(&b, " ", 1);
        }
        lore_fact_info info;
        lore_id srcs[16];
        assert_int_equal(lore_fact(kb, t[0], t[1], t[2], &info, srcs, 16), LORE_OK);
        mem_write(&b, info.in_default ? "{default}" : "{}", info.in_default ? 9 : 2);
        for (size_t i = 0; i < info.nsources && i < 16; i++)
            show(kb, srcs[i], &b);
        lines = realloc(lines, (n + 1) * sizeof *lines);
        lines[n++] = b.p;
    }
    lore_iter_free(it);
    qsort(lines, n, sizeof *lines, cmp_lines);
    membuf out = {NULL, 0, 0};
    mem_write(&out, "", 0);
    for (size_t i = 0; i < n; i++) {
        mem_write(&out, lines[i], strlen(lines[i]));
        mem_write(&out, "\n", 1);
        free(lines[i]);
    }
    free(lines);
    for (size_t i = 0; i < lore_prefix_count(kb); i++) {
        const char *name, *iri;
        assert_int_equal(lore_prefix_at(kb, i, &name, &iri), LORE_OK);
        mem_write(&out, "prefix ", 7);
        mem_write(&out, name, strlen(name));
        mem_write(&out, " ", 1);
        mem_write(&out, iri, strlen(iri));
        mem_write(&out, "\n", 1);
    }
    if (terms) {
        char tmp[64];
        snprintf(tmp, sizeof tmp, "terms %zu\n", lore_term_count(kb));
        mem_write(&out, tmp, strlen(tmp));
    }
    return out.p;
}

static lore_kb *new_kb(void)
{
    lore_kb *kb;
    assert_int_equal(lore_kb_new(&kb, NULL, NULL), LORE_OK);
    return kb;
}

static void load_ok(lore_kb *kb, const char *path)
{
    int rc = lore_import(kb, path, NULL, NULL);
    if (rc != LORE_OK)
        fail_msg("%s: %s", path, lore_errmsg(kb));
}

static int load_str(lore_kb *kb, const char *text, lore_format f)
{
    lore_load_opts o = {f, NULL, NULL, NULL, NULL};
    return lore_import_string(kb, text, strlen(text), "test", &o, NULL);
}

/* ---- round trips ---- */

/* fixture -> lore -> the same format -> lore: identical stores, and the
 * second export byte for byte the first (so output is deterministic). */
static void test_roundtrips(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        lore_format f;
        size_t facts;
    } cases[] = {
        {DATA "/formats/all.nt", LORE_FORMAT_NTRIPLES, 49},
        {DATA "/formats/all.nq", LORE_FORMAT_NQUADS, 8},
        {DATA "/formats/all.ttl", LORE_FORMAT_TURTLE, 35},
        {DATA "/formats/all.trig", LORE_FORMAT_TRIG, 11},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lore_kb *kb1 = new_kb(), *kb2 = new_kb();
        load_ok(kb1, cases[i].file);
        assert_int_equal(lore_size(kb1), cases[i].facts);
        char *out1 = export_str(kb1, cases[i].f);
        assert_int_equal(load_str(kb2, out1, cases[i].f), LORE_OK);
        char *d1 = dump(kb1, 0), *d2 = dump(kb2, 0);
        assert_string_equal(d1, d2);
        char *out2 = export_str(kb2, cases[i].f);
        assert_string_equal(out1, out2);
        /* through JSON's writer the facts and sources look the same too */
        char *j1 = export_str(kb1, LORE_FORMAT_JSON), *j2 = export_str(kb2, LORE_FORMAT_JSON);
        assert_string_equal(j1, j2);
        free(out1), free(out2), free(d1), free(d2), free(j1), free(j2);
        lore_kb_free(kb1);
        lore_kb_free(kb2);
    }
}

/* N-Quads keeps sources; N-Triples and Turtle write each fact once. */
static void test_sources_across_formats(void **state)
{
    (void)state;
    lore_kb *kb = new_kb(), *nt = new_kb(), *nq = new_kb();
    load_ok(kb, DATA "/formats/all.nq");
    char *q = export_str(kb, LORE_FORMAT_NQUADS), *t = export_str(kb, LORE_FORMAT_NTRIPLES);
    assert_int_equal(load_str(nq, q, LORE_FORMAT_NQUADS), LORE_OK);
    assert_int_equal(load_str(nt, t, LORE_FORMAT_NTRIPLES), LORE_OK);
    assert_int_equal(lore_size(nt), lore_size(kb));
    char *a = dump(kb, 0), *b = dump(nq, 0);
    assert_string_equal(a, b);
    /* the fact in g1, g2 and the default graph */
    lore_value s = lore_symbol("<http://example.org/a>"), p = lore_symbol("<http://example.org/p>");
    lore_value o = lore_text("in g1 and g2", NULL);
    lore_id ids[3];
    assert_int_equal(lore_lookup(kb, &s, &ids[0]), LORE_OK);
    assert_int_equal(lore_lookup(kb, &p, &ids[1]), LORE_OK);
    assert_int_equal(lore_lookup(kb, &o, &ids[2]), LORE_OK);
    lore_fact_info info;
    assert_int_equal(lore_fact(kb, ids[0], ids[1], ids[2], &info, NULL, 0), LORE_OK);
    assert_true(info.in_default);
    assert_int_equal(info.nsources, 2);
    free(q), free(t), free(a), free(b);
    lore_kb_free(kb), lore_kb_free(nt), lore_kb_free(nq);
}

/* ---- the mapping, term by term ---- */

#define XSD "http://www.w3.org/2001/XMLSchema#"

typedef struct mapcase {
    const char *object; /* as written in N-Triples */
    lore_kind kind;
    const char *str; /* SYMBOL, TEXT, DATE */
    const char *lang;
    int64_t i;
    double n;
} mapcase;

static const mapcase mapping[] = {
    {"<http://example.org/x>", LORE_SYMBOL, "<http://example.org/x>", NULL, 0, 0},
    {"<urn:lore:nato>", LORE_SYMBOL, "nato", NULL, 0, 0},
    {"<urn:lore:press:s1>", LORE_SYMBOL, "press:s1", NULL, 0, 0},
    {"<urn:lore:a%20b%25>", LORE_SYMBOL, "a b%", NULL, 0, 0},
    {"<urn:lore:bad%zz>", LORE_SYMBOL, "<urn:lore:bad%zz>", NULL, 0, 0},
    {"<urn:lore:%00>", LORE_SYMBOL, "<urn:lore:%00>", NULL, 0, 0},
    {"_:b0", LORE_SYMBOL, "_:b0", NULL, 0, 0},
    {"\"plain\"", LORE_TEXT, "plain", NULL, 0, 0},
    {"\"s\"^^<" XSD "string>", LORE_TEXT, "s", NULL, 0, 0},
    {"\"La Haye\"@fr", LORE_TEXT, "La Haye", "fr", 0, 0},
    {"\"x\"@EN-GB", LORE_TEXT, "x", "en-gb", 0, 0},
    {"\"x\"@en-toolongtag", LORE_SYMBOL, "\"x\"@en-toolongtag", NULL, 0, 0},
    {"\"a\\u0000b\"", LORE_SYMBOL, "\"a\\u0000b\"", NULL, 0, 0},
    {"\"42\"^^<" XSD "integer>", LORE_INTEGER, NULL, NULL, 42, 0},
    {"\"-0012\"^^<" XSD "long>", LORE_INTEGER, NULL, NULL, -12, 0},
    {"\"127\"^^<" XSD "byte>", LORE_INTEGER, NULL, NULL, 127, 0},
    {"\"128\"^^<" XSD "byte>", LORE_SYMBOL, "\"128\"^^<" XSD "byte>", NULL, 0, 0},
    {"\"0\"^^<" XSD "positiveInteger>", LORE_SYMBOL, "\"0\"^^<" XSD "positiveInteger>", NULL, 0, 0},
    {"\"-1\"^^<" XSD "negativeInteger>", LORE_INTEGER, NULL, NULL, -1, 0},
    {"\"4294967295\"^^<" XSD "unsignedInt>", LORE_INTEGER, NULL, NULL, 4294967295, 0},
    {"\"18446744073709551615\"^^<" XSD "unsignedLong>", LORE_SYMBOL,
     "\"18446744073709551615\"^^<" XSD "unsignedLong>", NULL, 0, 0},
    {"\"9223372036854775807\"^^<" XSD "integer>", LORE_INTEGER, NULL, NULL, INT64_MAX, 0},
    {"\"1e3\"^^<" XSD "integer>", LORE_SYMBOL, "\"1e3\"^^<" XSD "integer>", NULL, 0, 0},
    {"\"1.5\"^^<" XSD "decimal>", LORE_NUMBER, NULL, NULL, 0, 1.5},
    {"\"-.5\"^^<" XSD "decimal>", LORE_NUMBER, NULL, NULL, 0, -0.5},
    {"\"1e3\"^^<" XSD "decimal>", LORE_SYMBOL, "\"1e3\"^^<" XSD "decimal>", NULL, 0, 0},
    {"\"123456789012345.6\"^^<" XSD "decimal>", LORE_SYMBOL,
     "\"123456789012345.6\"^^<" XSD "decimal>", NULL, 0, 0},
    {"\"12345678901234.5\"^^<" XSD "decimal>", LORE_NUMBER, NULL, NULL, 0, 12345678901234.5},
    {"\"4.0E10\"^^<" XSD "double>", LORE_NUMBER, NULL, NULL, 0, 4e10},
    {"\"0.1\"^^<" XSD "float>", LORE_NUMBER, NULL, NULL, 0, 0.1},
    {"\"1e400\"^^<" XSD "double>", LORE_NUMBER, NULL, NULL, 0, HUGE_VAL},
    {"\"-INF\"^^<" XSD "double>", LORE_NUMBER, NULL, NULL, 0, -HUGE_VAL},
    {"\"NaN\"^^<" XSD "double>", LORE_SYMBOL, "\"NaN\"^^<" XSD "double>", NULL, 0, 0},
    {"\"0x10\"^^<" XSD "double>", LORE_SYMBOL, "\"0x10\"^^<" XSD "double>", NULL, 0, 0},
    {"\"true\"^^<" XSD "boolean>", LORE_BOOLEAN, NULL, NULL, 1, 0},
    {"\"1\"^^<" XSD "boolean>", LORE_BOOLEAN, NULL, NULL, 1, 0},
    {"\"false\"^^<" XSD "boolean>", LORE_BOOLEAN, NULL, NULL, 0, 0},
    {"\"TRUE\"^^<" XSD "boolean>", LORE_SYMBOL, "\"TRUE\"^^<" XSD "boolean>", NULL, 0, 0},
    {"\"2024-07-10\"^^<" XSD "date>", LORE_DATE, "2024-07-10", NULL, 0, 0},
    {"\"2024-07-10T10:00:00+02:00\"^^<" XSD "dateTime>", LORE_DATE, "2024-07-10T10:00:00+02:00",
     NULL, 0, 0},
    {"\"2024\"^^<" XSD "gYear>", LORE_DATE, "2024", NULL, 0, 0},
    {"\"2024-07\"^^<" XSD "gYearMonth>", LORE_DATE, "2024-07", NULL, 0, 0},
    {"\"2024-07\"^^<" XSD "date>", LORE_SYMBOL, "\"2024-07\"^^<" XSD "date>", NULL, 0, 0},
    {"\"-0044\"^^<" XSD "gYear>", LORE_SYMBOL, "\"-0044\"^^<" XSD "gYear>", NULL, 0, 0},
    {"\"5\"^^<http://example.org/unit>", LORE_SYMBOL, "\"5\"^^<http://example.org/unit>", NULL, 0,
     0},
    {"\"\"^^<http://example.org/dt>", LORE_SYMBOL, "\"\"^^<http://example.org/dt>", NULL, 0, 0},
    {"\"tab\\there\"^^<http://example.org/dt>", LORE_SYMBOL,
     "\"tab\\there\"^^<http://example.org/dt>", NULL, 0, 0},
    {"<urn:lore-literal:%2242%22%5E%5E%3C" XSD "integer%3E>", LORE_INTEGER, NULL, NULL, 42, 0},
    {"<urn:lore-literal:%22x%22@fr>", LORE_TEXT, "x", "fr", 0, 0},
};

static void test_mapping(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof mapping / sizeof mapping[0]; i++) {
        const mapcase *c = &mapping[i];
        lore_kb *kb = new_kb();
        char line[512];
        snprintf(line, sizeof line, "<http://s> <http://p> %s .\n", c->object);
        if (load_str(kb, line, LORE_FORMAT_NTRIPLES) != LORE_OK)
            fail_msg("%s: %s", c->object, lore_errmsg(kb));
        lore_iter *it;
        lore_id t[3];
        assert_int_equal(lore_match(kb, 0, 0, 0, &it), LORE_OK);
        assert_int_equal(lore_iter_next(it, t), LORE_OK);
        lore_iter_free(it);
        lore_value v;
        assert_int_equal(lore_term(kb, t[2], &v), LORE_OK);
        if (v.kind != c->kind)
            fail_msg("%s: kind %d, expected %d", c->object, v.kind, c->kind);
        if (c->str)
            assert_string_equal(v.str, c->str);
        if (c->kind == LORE_TEXT) {
            if (c->lang)
                assert_string_equal(v.lang, c->lang);
            else
                assert_null(v.lang);
        }
        if (c->kind == LORE_INTEGER || c->kind == LORE_BOOLEAN)
            assert_true(v.i == c->i);
        if (c->kind == LORE_NUMBER && !(v.n == c->n))
            fail_msg("%s: %.17g, expected %.17g", c->object, v.n, c->n);
        /* and written back, it reads as the same term */
        char *out = export_str(kb, LORE_FORMAT_NTRIPLES);
        lore_kb *kb2 = new_kb();
        assert_int_equal(load_str(kb2, out, LORE_FORMAT_NTRIPLES), LORE_OK);
        char *d1 = dump(kb, 0), *d2 = dump(kb2, 0);
        assert_string_equal(d1, d2);
        free(out), free(d1), free(d2);
        lore_kb_free(kb);
        lore_kb_free(kb2);
    }
}

/* How lore terms are written, where RDF has no exact form. */
static void test_writing(void **state)
{
    (void)state;
    lore_kb *kb = new_kb();
    lore_value vals[] = {
        lore_symbol("nato"),         lore_symbol("a b"),  lore_integer(7),
        lore_number(4e10),           lore_date("2024"),   lore_date("2024-07"),
        lore_text("x", "fr"),        lore_boolean(0),     lore_symbol("<not an iri>"),
        lore_symbol("<urn:lore:x>"), lore_symbol("_:b0"), lore_symbol("\"5\"^^<http://x/dt>"),
    };
    lore_id id[12];
    for (int i = 0; i < 12; i++)
        assert_int_equal(lore_intern(kb, &vals[i], &id[i]), LORE_OK);
    assert_int_equal(lore_add(kb, id[0], id[0], id[1], 0), LORE_OK);
    assert_int_equal(lore_add(kb, id[2], id[6], id[3], 0), LORE_OK); /* literal subject */
    assert_int_equal(lore_add(kb, id[0], id[0], id[4], id[0]), LORE_OK);
    assert_int_equal(lore_add(kb, id[0], id[0], id[5], 0), LORE_OK);
    assert_int_equal(lore_add(kb, id[10], id[0], id[7], 0), LORE_OK);
    assert_int_equal(lore_add(kb, id[8], id[9], id[11], 0), LORE_OK);
    char *nq = export_str(kb, LORE_FORMAT_NQUADS);
    assert_string_equal(
        nq,
        "<urn:lore-literal:%227%22%5E%5E%3Chttp://www.w3.org/2001/XMLSchema%23integer%3E> "
        "<urn:lore-literal:%22x%22@fr> \"4.0E10\"^^<http://www.w3.org/2001/XMLSchema#double> .\n"
        "<urn:lore:%3Cnot%20an%20iri%3E> <urn:lore:%3Curn:lore:x%3E> "
        "\"5\"^^<http://x/dt> .\n"
        "_:b0 <urn:lore:nato> \"false\"^^<http://www.w3.org/2001/XMLSchema#boolean> .\n"
        "<urn:lore:nato> <urn:lore:nato> "
        "\"2024-07\"^^<http://www.w3.org/2001/XMLSchema#gYearMonth> "
        ".\n"
        "<urn:lore:nato> <urn:lore:nato> <urn:lore:a%20b> .\n"
        "<urn:lore:nato> <urn:lore:nato> \"2024\"^^<http://www.w3.org/2001/XMLSchema#gYear> "
        "<urn:lore:nato> .\n");
    free(nq);
    /* a source that is not a symbol names its graph with urn:lore-literal */
    lore_value five = lore_integer(5);
    lore_id f;
    assert_int_equal(lore_intern(kb, &five, &f), LORE_OK);
    assert_int_equal(lore_add(kb, id[0], id[0], id[0], f), LORE_OK);
    char *trig = export_str(kb, LORE_FORMAT_TRIG);
    assert_non_null(strstr(trig,
                           "<urn:lore-literal:%225%22%5E%5E%3Chttp://www.w3.org/2001/"
                           "XMLSchema%23integer%3E> {\n\t lore:nato\n\t\tlore:nato lore:nato"));
    lore_kb *back = new_kb();
    assert_int_equal(load_str(back, trig, LORE_FORMAT_TRIG), LORE_OK);
    char *d1 = dump(kb, 0), *d2 = dump(back, 0);
    assert_string_equal(d1, d2);
    free(trig), free(d1), free(d2);
    lore_kb_free(back);
    lore_kb_free(kb);
}

/* Texts with quotes and backslashes read back the same through Turtle and
 * TriG, where serd's long strings would misread a backslash after a bare
 * quote (found by a 10-minute fuzz run). */
static void test_quotes_and_backslashes(void **state)
{
    (void)state;
    static const char *texts[] = {"a\"\\b", "x\t\"\\\bline\n", "\"\\", "two\nlines \"q\"",
                                  "ends with \"", "\\\"\\", "q\"\x1c x\nline",
                                  "q\"\ttab\nline", "q\"\x7f\nline", "q\"\b\n"};
    static const lore_format fs[] = {LORE_FORMAT_TURTLE, LORE_FORMAT_TRIG, LORE_FORMAT_NTRIPLES};
    for (size_t f = 0; f < sizeof fs / sizeof fs[0]; f++) {
        lore_kb *kb = new_kb();
        for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
            lore_value s = lore_symbol("t"), p = lore_symbol("v"), o = lore_text(texts[i], NULL);
            lore_id id[3];
            assert_int_equal(lore_intern(kb, &s, &id[0]), LORE_OK);
            assert_int_equal(lore_intern(kb, &p, &id[1]), LORE_OK);
            assert_int_equal(lore_intern(kb, &o, &id[2]), LORE_OK);
            assert_int_equal(lore_add(kb, id[0], id[1], id[2], 0), LORE_OK);
        }
        char *out = export_str(kb, fs[f]);
        lore_kb *back = new_kb();
        assert_int_equal(load_str(back, out, fs[f]), LORE_OK);
        char *d1 = dump(kb, 0), *d2 = dump(back, 0);
        assert_string_equal(d1, d2);
        free(out), free(d1), free(d2);
        lore_kb_free(back);
        lore_kb_free(kb);
    }
}

static void test_json_writer(void **state)
{
    (void)state;
    lore_kb *kb = new_kb();
    lore_value vals[] = {
        lore_symbol("a"),
        lore_symbol("?x"),
        lore_integer(INT64_C(1) << 53),
        lore_integer((INT64_C(1) << 53) + 1),
        lore_number(2.0),
        lore_number(0.1),
        lore_number(-HUGE_VAL),
        lore_text("q\"\\\n\x01", NULL),
        lore_date("2024-07-10"),
        lore_boolean(1),
        lore_symbol("press:s1"),
    };
    lore_id id[11];
    for (int i = 0; i < 11; i++)
        assert_int_equal(lore_intern(kb, &vals[i], &id[i]), LORE_OK);
    for (int i = 1; i < 10; i++)
        assert_int_equal(lore_add(kb, id[0], id[0], id[i], i % 2 ? 0 : id[10]), LORE_OK);
    /* a symbol starting with '?' has no JSON form: refused before writing */
    membuf none = {NULL, 0, 0};
    assert_int_equal(lore_export_to(kb, LORE_FORMAT_JSON, mem_write, &none, NULL), LORE_ERR_ARG);
    assert_string_equal(lore_errmsg(kb), "the symbol '?x' has no JSON form (strings beginning "
                                         "with ? are query variables there)");
    assert_null(none.p);
    assert_int_equal(lore_remove(kb, id[0], id[0], id[1], LORE_ANY_SOURCE), LORE_OK);
    char *js = export_str(kb, LORE_FORMAT_JSON);
    assert_string_equal(js, "{\n"
                            "  \"lore\": 1,\n"
                            "  \"facts\": [\n"
                            "    [\"a\", \"a\", true],\n"
                            "    [\"a\", \"a\", 0.1],\n"
                            "    [\"a\", \"a\", {\"integer\": \"9007199254740993\"}],\n"
                            "    [\"a\", \"a\", {\"text\": \"q\\\"\\\\\\n\\u0001\"}],\n"
                            "    {\"source\": \"press:s1\", \"facts\": [\n"
                            "      [\"a\", \"a\", {\"number\": -1e999}],\n"
                            "      [\"a\", \"a\", {\"number\": 2}],\n"
                            "      [\"a\", \"a\", 9007199254740992],\n"
                            "      [\"a\", \"a\", {\"date\": \"2024-07-10\"}]\n"
                            "    ]}\n"
                            "  ]\n"
                            "}\n");
    free(js);
    lore_kb_free(kb);
    kb = new_kb();
    js = export_str(kb, LORE_FORMAT_JSON);
    assert_string_equal(js, "{\n  \"lore\": 1,\n  \"facts\": []\n}\n");
    free(js);
    lore_kb_free(kb);
}

/* ---- malformed input ---- */

/* Each file of tests/data/bad (but JSON, read by the Lua module) fails
 * with the message messages.txt gives, and the knowledge base it was
 * loaded into is exactly as before. */
static void test_bad_files(void **state)
{
    (void)state;
    assert_int_equal(chdir(DATA "/bad"), 0);
    FILE *f = fopen("messages.txt", "r");
    assert_non_null(f);
    char line[1024];
    int n = 0;
    lore_kb *kb = new_kb();
    load_ok(kb, DATA "/formats/all.nq");
    load_ok(kb, DATA "/formats/all.ttl");
    char *before = dump(kb, 1);
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *colon = strchr(line, ':');
        if (line[0] == '#' || !colon)
            continue;
        char file[256];
        snprintf(file, sizeof file, "%.*s", (int)(colon - line), line);
        if (strstr(file, ".json"))
            continue;
        int rc = lore_import(kb, file, NULL, NULL);
        if (rc != LORE_ERR_SYNTAX)
            fail_msg("%s: status %d (%s)", file, rc, lore_errmsg(kb));
        assert_string_equal(lore_errmsg(kb), line);
        char *after = dump(kb, 1);
        assert_string_equal(before, after);
        free(after);
        n++;
    }
    fclose(f);
    assert_true(n >= 25);
    free(before);
    lore_kb_free(kb);
}

/* 10^5 good lines, then a bad one: the message names line 100001 and
 * nothing of the good lines stays (nor their terms). */
static void test_fail_late(void **state)
{
    (void)state;
    static const lore_format formats[] = {LORE_FORMAT_NTRIPLES, LORE_FORMAT_TURTLE};
    for (int k = 0; k < 2; k++) {
        size_t cap = 100001 * 96, n = 0;
        char *text = malloc(cap);
        assert_non_null(text);
        for (int i = 0; i < 100000; i++)
            n += (size_t)snprintf(text + n, cap - n,
                                  "<http://example.org/s%d> <http://example.org/p> \"v%d\" .\n", i,
                                  i % 1000);
        n += (size_t)snprintf(text + n, cap - n,
                              "<http://example.org/s> <http://example.org/p> .\n");
        lore_kb *kb = new_kb();
        load_ok(kb, DATA "/formats/all.nt");
        char *before = dump(kb, 1);
        lore_load_opts o = {formats[k], NULL, NULL, NULL, NULL};
        assert_int_equal(lore_import_string(kb, text, n, "big", &o, NULL), LORE_ERR_SYNTAX);
        assert_string_equal(lore_errmsg(kb), k == 0 ? "big:100001:46: expected: ':', '<', or '_'"
                                                    : "big:100001:47: expected digit");
        char *after = dump(kb, 1);
        assert_string_equal(before, after);
        free(before), free(after), free(text);
        lore_kb_free(kb);
    }
}

/* Errors that are not syntax: they name the file and say why. */
static void test_import_errors(void **state)
{
    (void)state;
    lore_kb *kb = new_kb();
    assert_int_equal(lore_import(kb, DATA "/nonexistent.nt", NULL, NULL), LORE_ERR_IO);
    assert_string_equal(lore_errmsg(kb), DATA "/nonexistent.nt: No such file or directory");
    assert_int_equal(lore_import(kb, DATA "/formats/all.json", NULL, NULL), LORE_ERR_ARG);
    assert_string_equal(lore_errmsg(kb), DATA "/formats/all.json: JSON files are read by the Lua "
                                              "module (kb:load), not by lore_import");
    assert_int_equal(lore_import(kb, DATA "/bad/messages.txt", NULL, NULL), LORE_ERR_ARG);
    assert_string_equal(lore_errmsg(kb),
                        DATA "/bad/messages.txt: unknown format (expected a name ending in .nt, "
                             ".nq, .ttl or .trig, or a format in the options)");
    lore_load_opts o = {LORE_FORMAT_NTRIPLES, NULL, NULL, NULL, NULL};
    assert_int_equal(lore_import(kb, DATA "/bad/messages.txt", &o, NULL), LORE_ERR_SYNTAX);
    assert_int_equal(lore_import_string(kb, "", 0, NULL, NULL, NULL), LORE_ERR_ARG);
    assert_string_equal(lore_errmsg(kb), "lore_import_string: expected a format in the options");
    lore_value bad = lore_date("never");
    o.source = &bad;
    assert_int_equal(lore_import_string(kb, "", 0, NULL, &o, NULL), LORE_ERR_ARG);
    assert_string_equal(lore_errmsg(kb),
                        "lore_import_string: source: expected a date as YYYY, YYYY-MM, YYYY-MM-DD "
                        "or YYYY-MM-DDThh:mm[:ss][Z|+hh:mm]");
    lore_batch *b;
    assert_int_equal(lore_batch_new(kb, &b), LORE_OK);
    assert_int_equal(lore_import(kb, DATA "/formats/all.nt", NULL, NULL), LORE_ERR_STATE);
    assert_int_equal(lore_export_to(kb, LORE_FORMAT_NTRIPLES, mem_write, NULL, NULL),
                     LORE_ERR_STATE);
    lore_batch_free(b);
    /* an empty input is a valid empty file */
    o.source = NULL;
    lore_load_info info;
    assert_int_equal(lore_import_string(kb, "", 0, NULL, &o, &info), LORE_OK);
    assert_int_equal(info.facts, 0);
    lore_kb_free(kb);
}

/* ---- blank nodes, sources, transactions ---- */

static void test_blank_nodes(void **state)
{
    (void)state;
    lore_kb *kb = new_kb();
    const char *text = "_:b0 <http://p> _:b1 .\n_:b1 <http://p> _:b0 .\n";
    assert_int_equal(load_str(kb, text, LORE_FORMAT_NTRIPLES), LORE_OK);
    assert_int_equal(load_str(kb, text, LORE_FORMAT_NTRIPLES), LORE_OK);
    assert_int_equal(lore_size(kb), 4); /* two files' _:b0 never meet */
    char *d = dump(kb, 0);
    assert_string_equal(d, "S[_:b0] S[<http://p>] S[_:b1] {default}\n"
                           "S[_:b0_1] S[<http://p>] S[_:b1_2] {default}\n"
                           "S[_:b1] S[<http://p>] S[_:b0] {default}\n"
                           "S[_:b1_2] S[<http://p>] S[_:b0_1] {default}\n");
    free(d);
    /* Turtle: anonymous nodes are fresh, and labels keep their names */
    lore_kb *t = new_kb();
    assert_int_equal(load_str(t, "[] <http://p> [] . _:b1 <http://p> _:x .", LORE_FORMAT_TURTLE),
                     LORE_OK);
    d = dump(t, 0);
    assert_string_equal(d, "S[_:B1] S[<http://p>] S[_:x] {default}\n"
                           "S[_:b1] S[<http://p>] S[_:b2] {default}\n");
    free(d);
    char *ttl = export_str(t, LORE_FORMAT_TURTLE);
    assert_string_equal(ttl, "_:xB1\n\t<http://p> _:xx .\n\n_:xb1\n\t<http://p> _:xb2 .\n\n");
    free(ttl);
    lore_kb_free(t);
    lore_kb_free(kb);

    /* a blank node as a predicate is written <urn:lore:_:label>; read back
     * in the same file it is the same term as _:label (found by fuzzing:
     * the second export named it _:b1_1) */
    const lore_format fs[] = {LORE_FORMAT_NTRIPLES, LORE_FORMAT_TURTLE};
    for (size_t i = 0; i < 2; i++) {
        lore_kb *a = new_kb();
        assert_int_equal(load_str(a, "<urn:lore:n> <urn:lore:_:b1> _:b1 .\n"
                                     "_:b1 <http://p> <urn:lore:_:x1> .\n",
                                  LORE_FORMAT_NTRIPLES),
                         LORE_OK);
        char *da = dump(a, 0);
        assert_string_equal(da, "S[_:b1] S[<http://p>] S[_:x1] {default}\n"
                                "S[n] S[_:b1] S[_:b1] {default}\n");
        char *out = export_str(a, fs[i]);
        lore_kb *b = new_kb();
        assert_int_equal(load_str(b, out, fs[i]), LORE_OK);
        char *db = dump(b, 0);
        assert_string_equal(db, da);
        char *again = export_str(b, fs[i]);
        assert_string_equal(again, out);
        free(again), free(db), free(out), free(da);
        lore_kb_free(b);
        lore_kb_free(a);
    }
}

static void test_source_option_and_transactions(void **state)
{
    (void)state;
    lore_kb *kb = new_kb();
    lore_value src = lore_symbol("press:s1");
    lore_load_opts o = {LORE_FORMAT_NQUADS, &src, NULL, NULL, NULL};
    const char *text = "<http://a> <http://p> \"x\" .\n<http://a> <http://p> \"y\" <http://g> .\n";
    assert_int_equal(lore_import_string(kb, text, strlen(text), NULL, &o, NULL), LORE_OK);
    char *d = dump(kb, 0);
    assert_string_equal(d, "S[<http://a>] S[<http://p>] T[x] {}S[press:s1]\n"
                           "S[<http://a>] S[<http://p>] T[y] {}S[<http://g>]\n");
    free(d);
    /* a load inside a transaction is taken back by the rollback */
    assert_int_equal(lore_begin(kb), LORE_OK);
    load_ok(kb, DATA "/formats/all.nt");
    assert_int_equal(lore_size(kb), 51);
    assert_int_equal(lore_rollback(kb), LORE_OK);
    assert_int_equal(lore_size(kb), 2);
    lore_kb_free(kb);
}

/* ---- prefixes ---- */

static void test_prefixes(void **state)
{
    (void)state;
    lore_kb *kb = new_kb();
    lore_value ally = lore_symbol("ex:Ally");
    lore_id plain, iri, got;
    assert_int_equal(lore_intern(kb, &ally, &plain), LORE_OK); /* no binding: a plain name */
    assert_int_equal(lore_prefix_set(kb, "ex", "http://example.org/"), LORE_OK);
    assert_int_equal(lore_prefix_set(kb, "ex", "http://example.org/"), LORE_NOOP);
    assert_int_equal(lore_intern(kb, &ally, &iri), LORE_OK);
    assert_int_not_equal(plain, iri);
    lore_value v;
    assert_int_equal(lore_term(kb, iri, &v), LORE_OK);
    assert_string_equal(v.str, "<http://example.org/Ally>");
    assert_int_equal(lore_lookup(kb, &ally, &got), LORE_OK);
    assert_int_equal(got, iri);
    lore_value spaced = lore_symbol("ex:a b"), bracket = lore_symbol("<ex:Ally>");
    assert_int_equal(lore_intern(kb, &spaced, &got), LORE_OK);
    assert_int_equal(lore_term(kb, got, &v), LORE_OK);
    assert_string_equal(v.str, "ex:a b"); /* not an IRI's local part */
    assert_int_equal(lore_intern(kb, &bracket, &got), LORE_OK);
    assert_int_equal(lore_term(kb, got, &v), LORE_OK);
    assert_string_equal(v.str, "<ex:Ally>");
    /* compacting: the longest namespace wins; snprintf-like */
    assert_int_equal(lore_prefix_set(kb, "exb", "http://example.org/b/"), LORE_OK);
    assert_int_equal(lore_prefix_set(kb, "", "http://default/"), LORE_OK);
    char buf[64];
    const char *b1 = "<http://example.org/b/x>";
    assert_int_equal(lore_compact(kb, b1, strlen(b1), buf, sizeof buf), 5);
    assert_string_equal(buf, "exb:x");
    assert_int_equal(lore_compact(kb, b1, strlen(b1), NULL, 0), 5);
    const char *d1 = "<http://default/y>";
    assert_int_equal(lore_compact(kb, d1, strlen(d1), buf, sizeof buf), 2);
    assert_string_equal(buf, ":y");
    const char *sp = "<http://example.org/a b>";
    assert_int_equal(lore_compact(kb, sp, strlen(sp), buf, sizeof buf), 0);
    assert_int_equal(lore_compact(kb, "nato", 4, buf, sizeof buf), 0);
    /* listing, in name order */
    assert_int_equal(lore_prefix_count(kb), 3);
    const char *name, *ns;
    assert_int_equal(lore_prefix_at(kb, 0, &name, &ns), LORE_OK);
    assert_string_equal(name, "");
    assert_int_equal(lore_prefix_at(kb, 2, &name, &ns), LORE_OK);
    assert_string_equal(name, "exb");
    assert_int_equal(lore_prefix_at(kb, 3, &name, &ns), LORE_ERR_ARG);
    assert_string_equal(lore_prefix_get(kb, "ex"), "http://example.org/");
    assert_null(lore_prefix_get(kb, "nope"));
    /* removing, and refusing what cannot be a prefix */
    assert_int_equal(lore_prefix_remove(kb, "exb"), LORE_OK);
    assert_int_equal(lore_prefix_remove(kb, "exb"), LORE_NOOP);
    assert_int_equal(lore_prefix_set(kb, "9x", "http://x/"), LORE_ERR_ARG);
    assert_string_equal(lore_errmsg(kb), "lore_prefix_set: expected a prefix name: empty, or a "
                                         "letter then letters, digits, _ - . (not ending in .)");
    assert_int_equal(lore_prefix_set(kb, "x", "http://a b/"), LORE_ERR_ARG);
    assert_string_equal(lore_errmsg(kb), "lore_prefix_set: expected a namespace IRI (without "
                                         "angle brackets, spaces or <>\"{}|^`\\)");
    /* Turtle binds its prefixes, except lore's own namespace; a failed
     * load binds none */
    lore_kb *t = new_kb();
    assert_int_equal(
        load_str(t, "@prefix a: <http://a/> . @prefix lore: <urn:lore:> . a:x a:y lore:z .",
                 LORE_FORMAT_TURTLE),
        LORE_OK);
    assert_int_equal(lore_prefix_count(t), 1);
    assert_string_equal(lore_prefix_get(t, "a"), "http://a/");
    assert_int_equal(load_str(t, "@prefix b: <http://b/> . b:x b:y .", LORE_FORMAT_TURTLE),
                     LORE_ERR_SYNTAX);
    assert_int_equal(lore_prefix_count(t), 1);
    /* relative namespaces resolve against the base */
    lore_load_opts o = {LORE_FORMAT_TURTLE, NULL, "http://base/dir/", NULL, NULL};
    const char *rel = "@prefix r: <sub/> . r:x <p> <../up> .";
    assert_int_equal(lore_import_string(t, rel, strlen(rel), NULL, &o, NULL), LORE_OK);
    assert_string_equal(lore_prefix_get(t, "r"), "http://base/dir/sub/");
    lore_value up = lore_symbol("<http://base/up>");
    assert_int_equal(lore_lookup(t, &up, &got), LORE_OK);
    /* without a base a relative namespace is not bound */
    o.base = NULL;
    const char *relns = "@prefix q: <sub/> . q:x q:y q:z .";
    assert_int_equal(lore_import_string(t, relns, strlen(relns), NULL, &o, NULL), LORE_OK);
    assert_null(lore_prefix_get(t, "q"));
    /* Turtle output starts with the prefixes and uses them */
    lore_kb_free(t);
    t = new_kb();
    assert_int_equal(lore_prefix_set(t, "ex", "http://example.org/"), LORE_OK);
    lore_value s = lore_symbol("ex:s"), n = lore_symbol("nato");
    lore_id ids[2];
    assert_int_equal(lore_intern(t, &s, &ids[0]), LORE_OK);
    assert_int_equal(lore_intern(t, &n, &ids[1]), LORE_OK);
    assert_int_equal(lore_add(t, ids[0], ids[0], ids[1], 0), LORE_OK);
    char *ttl = export_str(t, LORE_FORMAT_TURTLE);
    assert_string_equal(ttl, "@prefix ex: <http://example.org/> .\n@prefix lore: <urn:lore:> .\n\n"
                             "ex:s\n\tex:s lore:nato .\n\n");
    free(ttl);
    lore_kb_free(t);
    lore_kb_free(kb);
}

/* ---- progress and interruption ---- */

typedef struct prog {
    int calls, stop_at;
    uint64_t last_bytes, total, facts;
} prog;

static int on_progress(void *ud, uint64_t bytes, uint64_t total, uint64_t facts)
{
    prog *p = ud;
    p->calls++;
    assert_true(bytes >= p->last_bytes);
    p->last_bytes = bytes, p->total = total, p->facts = facts;
    return p->calls == p->stop_at;
}

static void test_progress(void **state)
{
    (void)state;
    size_t cap = 3 << 20, n = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    for (int i = 0; n + 100 < cap; i++)
        n += (size_t)snprintf(text + n, cap - n, "<http://e/s%d> <http://e/p> \"%d\" .\n", i, i);
    lore_kb *kb = new_kb();
    prog p = {0, 0, 0, 0, 0};
    lore_load_opts o = {LORE_FORMAT_NTRIPLES, NULL, NULL, on_progress, &p};
    lore_load_info info;
    assert_int_equal(lore_import_string(kb, text, n, "p", &o, &info), LORE_OK);
    assert_true(p.calls >= 3);
    assert_int_equal(p.last_bytes, n);
    assert_int_equal(p.total, n);
    assert_int_equal(info.bytes, n);
    assert_int_equal(info.facts, lore_size(kb));
    /* a callback asking to stop, or an interrupt, changes nothing */
    lore_kb *k2 = new_kb();
    prog q = {0, 2, 0, 0, 0};
    o.progress_ud = &q;
    assert_int_equal(lore_import_string(k2, text, n, "p", &o, NULL), LORE_ERR_INTERRUPT);
    assert_string_equal(lore_errmsg(k2), "p: load interrupted");
    assert_int_equal(lore_size(k2), 0);
    assert_int_equal(lore_term_count(k2), 0);
    lore_kb_interrupt(k2);
    o.progress = NULL;
    assert_int_equal(lore_import_string(k2, text, n, "p", &o, NULL), LORE_ERR_INTERRUPT);
    assert_int_equal(lore_import_string(k2, text, n, "p", &o, NULL), LORE_OK); /* consumed */
    /* a host's watched flag stops it too, until the host clears it */
    volatile sig_atomic_t flag = 1;
    lore_kb *k3 = new_kb();
    lore_kb_watch(k3, &flag);
    assert_int_equal(lore_import_string(k3, text, n, "p", &o, NULL), LORE_ERR_INTERRUPT);
    assert_int_equal(lore_size(k3), 0);
    flag = 0;
    assert_int_equal(lore_import_string(k3, text, n, "p", &o, NULL), LORE_OK);
    lore_kb_free(k3);
    free(text);
    lore_kb_free(kb);
    lore_kb_free(k2);
}

/* ---- export to files ---- */

static void test_export_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/lore-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], bad[256];
    snprintf(path, sizeof path, "%s/out.nq", dir);
    snprintf(bad, sizeof bad, "%s/missing/out.nq", dir);
    lore_kb *kb = new_kb(), *kb2 = new_kb();
    load_ok(kb, DATA "/formats/all.nq");
    uint64_t n;
    assert_int_equal(lore_export(kb, path, NULL, &n), LORE_OK);
    assert_int_equal(n, 10); /* facts times sources */
    load_ok(kb2, path);
    char *d1 = dump(kb, 0), *d2 = dump(kb2, 0);
    assert_string_equal(d1, d2);
    free(d1), free(d2);
    assert_int_equal(lore_export(kb, bad, NULL, NULL), LORE_ERR_IO);
    char msg[512];
    snprintf(msg, sizeof msg, "%s: No such file or directory", bad);
    assert_string_equal(lore_errmsg(kb), msg);
    snprintf(bad, sizeof bad, "%s/out.xyz", dir);
    assert_int_equal(lore_export(kb, bad, NULL, NULL), LORE_ERR_ARG);
    lore_export_opts o = {LORE_FORMAT_TRIG};
    assert_int_equal(lore_export(kb, bad, &o, NULL), LORE_OK);
    /* only the two files: no temporary left behind */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "test $(ls %s | wc -l) = 2", dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    lore_kb_free(kb);
    lore_kb_free(kb2);
}

static size_t failing_write(void *ud, const void *buf, size_t len)
{
    (void)ud, (void)buf;
    return len / 2;
}

static void test_write_failure(void **state)
{
    (void)state;
    lore_kb *kb = new_kb();
    load_ok(kb, DATA "/formats/all.nt");
    assert_int_equal(lore_export_to(kb, LORE_FORMAT_TURTLE, failing_write, NULL, NULL),
                     LORE_ERR_IO);
    assert_string_equal(lore_errmsg(kb), "lore_export_to: write failed");
    assert_int_equal(lore_export_to(kb, LORE_FORMAT_AUTO, mem_write, NULL, NULL), LORE_ERR_ARG);
    lore_kb_free(kb);
}

/* ---- durable mode ---- */

/* A load into a knowledge base with a journal is journaled before it is
 * merged: reopened, the facts (and their terms) are there; a failed load
 * leaves nothing behind in the journal either. */
static void test_durable_load(void **state)
{
    (void)state;
    char dir[] = "/tmp/lore-durable-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/kb.lore", dir);
    lore_open_options o = {1, LORE_SYNC_CHANGE, 0};
    lore_kb *kb = new_kb();
    assert_int_equal(lore_open(kb, path, &o), LORE_OK);
    load_ok(kb, DATA "/formats/all.nq");
    load_ok(kb, DATA "/formats/all.nt");
    assert_int_equal(lore_import(kb, DATA "/bad/no-dot.nt", NULL, NULL), LORE_ERR_SYNTAX);
    char *before = dump(kb, 1);
    lore_kb_free(kb);
    kb = new_kb();
    assert_int_equal(lore_open(kb, path, &o), LORE_OK);
    char *after = dump(kb, 1);
    assert_string_equal(before, after);
    /* and once more after a checkpoint folds the journal into the snapshot */
    assert_int_equal(lore_checkpoint(kb), LORE_OK);
    lore_kb_free(kb);
    kb = new_kb();
    assert_int_equal(lore_open(kb, path, NULL), LORE_OK);
    free(after);
    after = dump(kb, 1);
    assert_string_equal(before, after);
    free(before), free(after);
    lore_kb_free(kb);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* ---- allocation failures ---- */


/* Every allocation of a load, an export and prefix calls fails in turn:
 * each failure is reported and changes nothing. */
static void test_alloc_failures(void **state)
{
    (void)state;
    for (long n = 1;; n++) {
        failing f = {.fail_at = n, .paused = 1}; /* paused until the workload starts */
        lore_kb *kb;
        assert_int_equal(lore_kb_new(&kb, failing_alloc, &f), LORE_OK);
        load_ok(kb, DATA "/formats/all.nq");
        char *before = dump(kb, 1);
        f.paused = 0;
        int failures = 0, rc;
        rc = lore_import(kb, DATA "/formats/all.ttl", NULL, NULL);
        if (rc != LORE_OK) {
            assert_int_equal(rc, LORE_ERR_NOMEM);
            assert_string_equal(lore_errmsg(kb), "out of memory");
            f.paused = 1;
            char *after = dump(kb, 1);
            assert_string_equal(before, after);
            free(after);
            failures++;
        }
        f.paused = 0;
        membuf b = {NULL, 0, 0};
        rc = lore_export_to(kb, LORE_FORMAT_TRIG, mem_write, &b, NULL);
        free(b.p);
        if (rc != LORE_OK) {
            assert_int_equal(rc, LORE_ERR_NOMEM);
            failures++;
        }
        rc = lore_prefix_set(kb, "zz", "http://zz/");
        if (rc != LORE_OK) {
            assert_int_equal(rc, LORE_ERR_NOMEM);
            assert_null(lore_prefix_get(kb, "zz"));
            failures++;
        }
        f.paused = 1;
        free(before);
        lore_kb_free(kb);
        if (f.calls < n) { /* the workload made fewer than n allocations: all were tried */
            assert_int_equal(failures, 0);
            assert_true(n > 50);
            break;
        }
        assert_true(n < 100000);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrips),   cmocka_unit_test(test_sources_across_formats),
        cmocka_unit_test(test_mapping),      cmocka_unit_test(test_writing), cmocka_unit_test(test_quotes_and_backslashes),
        cmocka_unit_test(test_json_writer),  cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_fail_late),    cmocka_unit_test(test_import_errors),
        cmocka_unit_test(test_blank_nodes),  cmocka_unit_test(test_source_option_and_transactions),
        cmocka_unit_test(test_prefixes),     cmocka_unit_test(test_progress),
        cmocka_unit_test(test_export_files), cmocka_unit_test(test_write_failure),
        cmocka_unit_test(test_durable_load), cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
