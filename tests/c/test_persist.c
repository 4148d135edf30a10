/* test_persist.c - snapshots, durable mode and transactions: save/open
 * identity on random stores, every truncation and every flipped byte of a
 * snapshot refused cleanly, atomic saves under failure and SIGKILL, the
 * journal's replay, torn records, checkpoints, and a child killed at random
 * moments whose acknowledged changes must all survive. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static void sleep_us(long us)
{
    struct timespec t = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&t, NULL);
}

#include "crc32c.h"
#include "failalloc.h"
#include "journal.h"
#include "kb.h"
#include "lore.h"
#include "store.h"

/* ------------------------------------------------------------------ */
/* scratch files                                                      */

static char dir[64];

static const char *at(const char *name)
{
    static char buf[16][512];
    static int k;
    k = (k + 1) % 16;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static void clean_dir(void)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            unlink(at(e->d_name));
    }
    closedir(d);
}

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/lore-persist-XXXXXX", tmp && strlen(tmp) < 30 ? tmp : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    clean_dir();
    rmdir(dir);
    return 0;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    unsigned char *p = malloc((size_t)n + 1);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

static void spit(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static off_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? sb.st_size : -1;
}

/* Files in the scratch directory whose name contains `part`. */
static int count_files(const char *part)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strstr(e->d_name, part) != NULL;
    closedir(d);
    return n;
}

/* ------------------------------------------------------------------ */
/* knowledge bases as text, to compare them                           */

typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (b->p && (size_t)k < b->cap - b->n) {
            b->n += (size_t)k;
            return;
        }
        b->cap = b->cap * 2 + (size_t)k + 64;
        b->p = realloc(b->p, b->cap);
    }
}

static void term_text(lore_kb *kb, lore_id id, sbuf *b)
{
    lore_value v;
    assert_int_equal(lore_term(kb, id, &v), LORE_OK);
    switch (v.kind) {
    case LORE_SYMBOL:
        sb_printf(b, "S:%s", v.str);
        break;
    case LORE_TEXT:
        sb_printf(b, "T:%s@%s", v.str, v.lang ? v.lang : "");
        break;
    case LORE_DATE:
        sb_printf(b, "D:%s", v.str);
        break;
    case LORE_INTEGER:
        sb_printf(b, "I:%lld", (long long)v.i);
        break;
    case LORE_BOOLEAN:
        sb_printf(b, "B:%d", (int)v.i);
        break;
    case LORE_NUMBER:
        sb_printf(b, "N:%a", v.n);
        break;
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every fact with its marks and sources, one per line, sorted; with
 * `ids`, facts by id and the term table too (identity), else by value. */
static char *dump(lore_kb *kb, int ids)
{
    sbuf out = {0};
    if (ids) {
        for (lore_id id = 1; id <= lore_term_count(kb); id++) {
            sb_printf(&out, "%u ", (unsigned)id);
            term_text(kb, id, &out);
            sb_printf(&out, "\n");
        }
    }
    lore_iter *it;
    lore_id t[3];
    char **lines = NULL;
    size_t n = 0;
    assert_int_equal(lore_match(kb, 0, 0, 0, &it), LORE_OK);
    while (lore_iter_next(it, t) == LORE_OK) {
        sbuf l = {0};
        for (int i = 0; i < 3; i++) {
            if (ids)
                sb_printf(&l, "%u ", (unsigned)t[i]);
            else
                term_text(kb, t[i], &l), sb_printf(&l, " ");
        }
        lore_fact_info info;
        lore_id srcs[64];
        assert_int_equal(lore_fact(kb, t[0], t[1], t[2], &info, srcs, 64), LORE_OK);
        assert_true(info.present);
        sb_printf(&l, "|%s%s%s|", info.asserted ? "A" : "", info.derived ? "D" : "",
                  info.in_default ? "0" : "");
        /* by value, sources sorted by their text */
        char *st[64];
        size_t ns = info.nsources < 64 ? info.nsources : 64;
        for (size_t k = 0; k < ns; k++) {
            sbuf s = {0};
            if (ids)
                sb_printf(&s, "%u", (unsigned)srcs[k]);
            else
                term_text(kb, srcs[k], &s);
            st[k] = s.p;
        }
        if (!ids)
            qsort(st, ns, sizeof *st, cmp_str);
        for (size_t k = 0; k < ns; k++) {
            sb_printf(&l, " %s", st[k]);
            free(st[k]);
        }
        lines = realloc(lines, (n + 1) * sizeof *lines);
        lines[n++] = l.p;
    }
    lore_iter_free(it);
    if (n)
        qsort(lines, n, sizeof *lines, cmp_str);
    for (size_t i = 0; i < n; i++) {
        sb_printf(&out, "%s\n", lines[i]);
        free(lines[i]);
    }
    free(lines);
    sb_printf(&out, "%zu facts\n", lore_size(kb));
    return out.p;
}

static void assert_same(lore_kb *a, lore_kb *b, int ids)
{
    char *x = dump(a, ids), *y = dump(b, ids);
    if (strcmp(x, y) != 0)
        fail_msg("knowledge bases differ:\n--- one\n%.2000s\n--- other\n%.2000s", x, y);
    free(x);
    free(y);
}

static lore_kb *new_kb(void)
{
    lore_kb *kb;
    assert_int_equal(lore_kb_new(&kb, NULL, NULL), LORE_OK);
    return kb;
}

static lore_id intern(lore_kb *kb, lore_value v)
{
    lore_id id;
    assert_int_equal(lore_intern(kb, &v, &id), LORE_OK);
    return id;
}

static lore_id sym(lore_kb *kb, const char *s)
{
    return intern(kb, lore_symbol(s));
}

static uint64_t rnd(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* ------------------------------------------------------------------ */
/* snapshots                                                          */

/* A store of every term kind, several sources per fact, derived marks,
 * removals, retractions, and (with small thresholds) facts spread over
 * base, runs and the pending table. */
static lore_kb *random_kb(uint64_t seed, int nops)
{
    lore_kb *kb = new_kb();
    kb->st.tail_max = 16;
    kb->st.pend_min = 64;
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
    size_t nt = (size_t)nops / 4 + 8;
    lore_id *pool = malloc(nt * sizeof *pool);
    static const char *const langs[] = {NULL, "fr", "en-GB", "EN"};
    char buf[64];
    for (size_t i = 0; i < nt; i++) {
        lore_value v;
        switch (rnd(&x) % 7) {
        case 0:
            snprintf(buf, sizeof buf, "Text %zu, été \"%zu\"", i, i);
            v = lore_text(buf, langs[rnd(&x) % 4]);
            break;
        case 1:
            v = lore_integer((int64_t)(rnd(&x) - (UINT64_MAX / 2)));
            break;
        case 2:
            v = lore_number(i % 5 ? (double)i / 7.0 : -1e300 * (double)i);
            break;
        case 3:
            v = lore_boolean((int)(i & 1));
            break;
        case 4:
            snprintf(buf, sizeof buf, "2024-07-%02dT10:%02d:00Z", (int)(i % 28) + 1, (int)(i % 60));
            v = lore_date(buf);
            break;
        default:
            snprintf(buf, sizeof buf, "ex:e%zu", i);
            v = lore_symbol(buf);
        }
        pool[i] = intern(kb, v);
    }
    lore_id src[6] = {0};
    for (int k = 1; k < 6; k++) {
        snprintf(buf, sizeof buf, "press:s%d", k);
        src[k] = sym(kb, buf);
    }
    for (int i = 0; i < nops; i++) {
        lore_id s = pool[rnd(&x) % nt], p = pool[rnd(&x) % 8], o = pool[rnd(&x) % nt];
        lore_id from = src[rnd(&x) % 6];
        unsigned r = (unsigned)(rnd(&x) % 20);
        if (r < 13)
            assert_true(lore_add(kb, s, p, o, from) >= 0);
        else if (r < 16)
            assert_true(lore_remove(kb, s, p, o, r == 15 ? LORE_ANY_SOURCE : from) >= 0);
        else if (r < 19)
            assert_true(store_set_derived(&kb->st, s, p, o, r != 18) >= 0);
        else if (rnd(&x) % 8 == 0)
            assert_true(lore_retract_source(kb, from, NULL) >= 0);
    }
    free(pool);
    assert_null(store_check(&kb->st));
    return kb;
}

static void test_identity(void **state)
{
    (void)state;
    static const int sizes[] = {0, 1, 10, 200, 3000};
    for (int round = 0; round < 12; round++) {
        lore_kb *kb = random_kb((uint64_t)round + 1, sizes[round % 5]);
        assert_int_equal(lore_save(kb, at("id.lore")), LORE_OK);
        /* lore_open, and lore_load_snapshot into an empty kb: the same
         * terms with the same ids, the same facts, sources and marks */
        lore_kb *a = new_kb(), *b = new_kb();
        assert_int_equal(lore_open(a, at("id.lore"), NULL), LORE_OK);
        size_t added;
        assert_int_equal(lore_load_snapshot(b, at("id.lore"), &added), LORE_OK);
        assert_int_equal(added, lore_size(kb));
        assert_same(kb, a, 1);
        assert_same(kb, b, 1);
        assert_null(store_check(&a->st));
        /* what is restored behaves: changes and a second save */
        lore_id x = sym(a, "new");
        assert_int_equal(lore_add(a, x, x, x, 0), LORE_OK);
        assert_int_equal(lore_save(a, at("id2.lore")), LORE_OK);
        lore_kb *c = new_kb();
        assert_int_equal(lore_open(c, at("id2.lore"), NULL), LORE_OK);
        assert_same(a, c, 1);
        lore_kb_free(a);
        lore_kb_free(b);
        lore_kb_free(c);
        lore_kb_free(kb);
    }
}

/* A restored kb's derived facts keep their ranks (the evaluation round
 * that made each): a fact derived after the restore must rank above its
 * premises, or its proof, which follows ranks down, is not found. */
static void test_ranks_after_open(void **state)
{
    (void)state;
    static const char *step = "?x reach ?z :- ?x edge ?y, ?y reach ?z, ?x kind node";
    static const char *once = "?x reach ?y :- ?x edge ?y";
    lore_kb *kb = new_kb();
    assert_int_equal(lore_rule_add(kb, step, strlen(step), "step", NULL), LORE_OK);
    assert_int_equal(lore_rule_add(kb, once, strlen(once), "base", NULL), LORE_OK);
    lore_id n[42];
    for (int i = 0; i < 42; i++) {
        char name[8];
        snprintf(name, sizeof name, "n%d", i);
        n[i] = sym(kb, name);
        assert_int_equal(lore_add(kb, n[i], sym(kb, "kind"), sym(kb, "node"), 0), LORE_OK);
    }
    for (int i = 1; i < 41; i++)
        assert_int_equal(lore_add(kb, n[i], sym(kb, "edge"), n[i + 1], 0), LORE_OK);
    assert_int_equal(lore_infer(kb, NULL), LORE_OK);
    assert_int_equal(lore_save(kb, at("ranks.lore")), LORE_OK);
    for (int how = 0; how < 2; how++) {
        lore_kb *a = new_kb();
        size_t added;
        assert_int_equal(how ? lore_load_snapshot(a, at("ranks.lore"), &added)
                             : lore_open(a, at("ranks.lore"), NULL),
                         LORE_OK);
        assert_int_equal(lore_add(a, n[0], sym(a, "edge"), n[1], 0), LORE_OK);
        lore_infer_stats st;
        assert_int_equal(lore_infer(a, &st), LORE_OK);
        assert_int_equal(st.added, 41); /* n0 reaches n1 .. n41 */
        lore_proof *pr = NULL;
        assert_int_equal(lore_why(a, n[0], sym(a, "reach"), n[41], &pr), LORE_OK);
        /* step, 40 edges down to n40 edge n41 by the base rule: every
         * step a rule or an asserted fact */
        size_t rules = 0;
        for (size_t i = 0; i < lore_proof_steps(pr); i++) {
            int kind = lore_proof_step_at(pr, i)->kind;
            assert_true(kind == LORE_PROOF_RULE || kind == LORE_PROOF_ASSERTED);
            rules += kind == LORE_PROOF_RULE;
        }
        assert_int_equal(rules, 41);
        assert_int_equal(lore_proof_steps(pr), 41 + 41 + 40);
        lore_proof_free(pr);
        lore_kb_free(a);
    }
    lore_kb_free(kb);
}

/* Merging a snapshot into a kb that has facts of its own gives what
 * adding each saved assertion one by one gives. */
static void test_merge(void **state)
{
    (void)state;
    for (int round = 0; round < 6; round++) {
        lore_kb *saved = random_kb((uint64_t)round + 100, 400);
        assert_int_equal(lore_save(saved, at("m.lore")), LORE_OK);
        lore_kb *kb = random_kb((uint64_t)round + 200, 300);
        lore_kb *want = random_kb((uint64_t)round + 200, 300);
        /* the naive merge: every (fact, source) and every mark, one by one */
        lore_iter *it;
        lore_id t[3];
        assert_int_equal(lore_match(saved, 0, 0, 0, &it), LORE_OK);
        while (lore_iter_next(it, t) == LORE_OK) {
            lore_id w[3], srcs[64];
            for (int i = 0; i < 3; i++) {
                lore_value v;
                lore_term(saved, t[i], &v);
                w[i] = intern(want, v);
            }
            lore_fact_info info;
            lore_fact(saved, t[0], t[1], t[2], &info, srcs, 64);
            if (info.in_default)
                assert_true(lore_add(want, w[0], w[1], w[2], 0) >= 0);
            for (size_t k = 0; k < info.nsources; k++) {
                lore_value v;
                lore_term(saved, srcs[k], &v);
                assert_true(lore_add(want, w[0], w[1], w[2], intern(want, v)) >= 0);
            }
            if (info.derived)
                assert_true(store_set_derived(&want->st, w[0], w[1], w[2], 1) >= 0);
        }
        lore_iter_free(it);
        size_t before = lore_size(kb), added;
        assert_int_equal(lore_load_snapshot(kb, at("m.lore"), &added), LORE_OK);
        assert_int_equal(added, lore_size(kb) - before);
        assert_same(want, kb, 0);
        assert_null(store_check(&kb->st));
        /* inside a transaction, a merge rolls back like any change */
        char *pre = dump(kb, 1);
        assert_int_equal(lore_begin(kb), LORE_OK);
        lore_kb *other = random_kb((uint64_t)round + 300, 200);
        assert_int_equal(lore_save(other, at("m2.lore")), LORE_OK);
        assert_int_equal(lore_load_snapshot(kb, at("m2.lore"), NULL), LORE_OK);
        assert_int_equal(lore_rollback(kb), LORE_OK);
        char *post = dump(kb, 0), *pre_values = NULL;
        lore_kb *again = random_kb((uint64_t)round + 200, 300);
        assert_int_equal(lore_load_snapshot(again, at("m.lore"), NULL), LORE_OK);
        pre_values = dump(again, 0);
        assert_string_equal(post, pre_values);
        free(pre);
        free(post);
        free(pre_values);
        lore_kb_free(other);
        lore_kb_free(again);
        lore_kb_free(kb);
        lore_kb_free(want);
        lore_kb_free(saved);
    }
}

/* A small snapshot with every kind of term, language tags, several
 * sources, a default source and a derived mark. */
static lore_kb *small_kb(void)
{
    lore_kb *kb = new_kb();
    lore_id nato = sym(kb, "nato"), held = sym(kb, "held"), summit = sym(kb, "summit_2024");
    lore_id s1 = sym(kb, "press:s1"), s2 = sym(kb, "press:s2"), s3 = sym(kb, "press:s3");
    lore_id city = intern(kb, lore_text("Washington", "en")),
            when = intern(kb, lore_date("2024-07-10"));
    lore_id n = intern(kb, lore_integer(32)), yes = intern(kb, lore_boolean(1));
    lore_id pi = intern(kb, lore_number(3.25));
    assert_int_equal(lore_add(kb, nato, held, summit, s1), LORE_OK);
    assert_int_equal(lore_add(kb, nato, held, summit, s2), LORE_OK);
    assert_int_equal(lore_add(kb, nato, held, summit, 0), LORE_OK);
    assert_int_equal(lore_add(kb, summit, held, city, s3), LORE_OK);
    assert_int_equal(lore_add(kb, summit, held, when, 0), LORE_OK);
    assert_int_equal(lore_add(kb, nato, n, yes, s2), LORE_OK);
    assert_int_equal(lore_add(kb, nato, n, yes, s3), LORE_OK);
    assert_int_equal(store_set_derived(&kb->st, nato, pi, pi, 1), LORE_OK);
    return kb;
}

/* What a damaged byte at `pos` must be reported as, from the layout of
 * the good file. */
static void expected_flip(const unsigned char *f, size_t len, size_t pos, const char *name,
                          char *out, size_t cap)
{
    static const char *const names[][2] = {
        {"TERM", "terms"}, {"SRCS", "source sets"}, {"FACT", "facts"}, {"END ", "end"}};
    if (pos < 8) {
        snprintf(out, cap, "%s: not a lore snapshot (bad magic number)", name);
        return;
    }
    if (pos < 32) {
        snprintf(out, cap, "%s: checksum mismatch in the file header", name);
        return;
    }
    size_t h = 32;
    while (h < len) {
        uint64_t n;
        memcpy(&n, f + h + 8, 8);
        if (pos < h + 24) {
            snprintf(out, cap, "%s: checksum mismatch in the section header at offset %zu", name,
                     h);
            return;
        }
        if (pos < h + 24 + n) {
            const char *sec = "?";
            for (int k = 0; k < 4; k++)
                if (memcmp(f + h, names[k][0], 4) == 0)
                    sec = names[k][1];
            snprintf(out, cap, "%s: checksum mismatch in section %s", name, sec);
            return;
        }
        h += 24 + (size_t)n;
    }
    fail_msg("offset %zu beyond the file", pos);
}

static void test_damage(void **state)
{
    (void)state;
    lore_kb *src = small_kb();
    assert_int_equal(lore_save(src, at("small.lore")), LORE_OK);
    size_t len;
    unsigned char *good = slurp(at("small.lore"), &len);
    unsigned char *bad = malloc(len);
    const char *path = at("bad.lore");
    /* the kb a failed load must leave exactly as it was */
    lore_kb *kb = small_kb();
    lore_id extra = sym(kb, "extra");
    assert_int_equal(lore_add(kb, extra, extra, extra, 0), LORE_OK);
    char *before = dump(kb, 1);
    char want[1024];

    for (size_t cut = 0; cut < len; cut++) {
        spit(path, good, cut);
        assert_int_equal(lore_load_snapshot(kb, path, NULL), LORE_ERR_CORRUPT);
        const char *msg = lore_errmsg(kb);
        snprintf(want, sizeof want, "%s: truncated", path);
        if (strncmp(msg, want, strlen(want)) != 0)
            fail_msg("cut at %zu: got '%s'", cut, msg);
        lore_kb *fresh = new_kb();
        assert_int_equal(lore_open(fresh, path, NULL), LORE_ERR_CORRUPT);
        assert_string_equal(lore_errmsg(fresh), msg);
        assert_int_equal(lore_term_count(fresh), 0);
        lore_kb_free(fresh);
    }
    spit(path, good, 0);
    assert_int_equal(lore_load_snapshot(kb, path, NULL), LORE_ERR_CORRUPT);
    snprintf(want, sizeof want, "%s: truncated (empty file)", path);
    assert_string_equal(lore_errmsg(kb), want);
    spit(path, good, len - 1);
    assert_int_equal(lore_load_snapshot(kb, path, NULL), LORE_ERR_CORRUPT);
    snprintf(want, sizeof want, "%s: truncated in section end (12 bytes announced, 11 present)",
             path);
    assert_string_equal(lore_errmsg(kb), want);

    for (size_t pos = 0; pos < len; pos++) {
        for (int bit = 0; bit < 8; bit += 7) { /* the lowest and the highest bit */
            memcpy(bad, good, len);
            bad[pos] ^= (unsigned char)(1u << bit);
            spit(path, bad, len);
            assert_int_equal(lore_load_snapshot(kb, path, NULL), LORE_ERR_CORRUPT);
            expected_flip(good, len, pos, path, want, sizeof want);
            if (strcmp(lore_errmsg(kb), want) != 0)
                fail_msg("flip at %zu: got '%s', expected '%s'", pos, lore_errmsg(kb), want);
            lore_kb *fresh = new_kb();
            assert_int_equal(lore_open(fresh, path, NULL), LORE_ERR_CORRUPT);
            assert_int_equal(lore_term_count(fresh), 0);
            lore_kb_free(fresh);
        }
    }
    char *after = dump(kb, 1);
    assert_string_equal(before, after);
    assert_null(store_check(&kb->st));
    /* and the good file still loads */
    spit(path, good, len);
    assert_int_equal(lore_load_snapshot(kb, path, NULL), LORE_OK);
    free(before);
    free(after);
    free(good);
    free(bad);
    lore_kb_free(kb);
    lore_kb_free(src);
}

/* Writes a section with a correct header and checksums. */
static size_t put_section(unsigned char *p, const char *tag, unsigned version, unsigned flags,
                          const void *payload, size_t n)
{
    memcpy(p, tag, 4);
    p[4] = (unsigned char)version, p[5] = 0, p[6] = (unsigned char)flags, p[7] = 0;
    uint64_t len = n;
    memcpy(p + 8, &len, 8);
    uint32_t c = crc32c(0, payload, n);
    memcpy(p + 16, &c, 4);
    c = crc32c(0, p, 20);
    memcpy(p + 20, &c, 4);
    memcpy(p + 24, payload, n);
    return 24 + n;
}

/* Inserts a section before END and fixes END's counts. */
static size_t with_section(const unsigned char *good, size_t len, unsigned char *out,
                           const char *tag, unsigned version, unsigned flags)
{
    size_t end = len - 36; /* END: 24-byte header, 12-byte payload */
    memcpy(out, good, end);
    const char payload[] = "future things";
    size_t k = end + put_section(out + end, tag, version, flags, payload, sizeof payload);
    unsigned char e[12];
    uint64_t total = k + 36;
    uint32_t nsec;
    memcpy(&nsec, good + len - 4, 4);
    nsec++;
    memcpy(e, &total, 8);
    memcpy(e + 8, &nsec, 4);
    return k + put_section(out + k, "END ", 1, 1, e, 12);
}

static void test_sections(void **state)
{
    (void)state;
    lore_kb *src = small_kb();
    assert_int_equal(lore_save(src, at("s.lore")), LORE_OK);
    size_t len;
    unsigned char *good = slurp(at("s.lore"), &len);
    unsigned char *buf = malloc(len + 200);
    const char *path = at("s2.lore");
    char want[1024];
    /* an optional section a later version adds: skipped */
    spit(path, buf, with_section(good, len, buf, "PREF", 1, 0));
    lore_kb *kb = new_kb();
    assert_int_equal(lore_open(kb, path, NULL), LORE_OK);
    assert_same(src, kb, 1);
    lore_kb_free(kb);
    /* a required one: refused, saying why */
    spit(path, buf, with_section(good, len, buf, "XTRA", 1, 1));
    kb = new_kb();
    assert_int_equal(lore_open(kb, path, NULL), LORE_ERR_CORRUPT);
    snprintf(
        want, sizeof want,
        "%s: section 'XTRA' is required but unknown to this lore (written by a newer version?)",
        path);
    assert_string_equal(lore_errmsg(kb), want);
    lore_kb_free(kb);
    /* a known section in a version this lore does not read */
    memcpy(buf, good, len);
    buf[32 + 4] = 2;
    uint32_t c = crc32c(0, buf + 32, 20);
    memcpy(buf + 32 + 20, &c, 4);
    spit(path, buf, len);
    kb = new_kb();
    assert_int_equal(lore_open(kb, path, NULL), LORE_ERR_CORRUPT);
    snprintf(want, sizeof want, "%s: section terms has version 2, this lore reads version 1", path);
    assert_string_equal(lore_errmsg(kb), want);
    lore_kb_free(kb);
    /* a newer format version */
    memcpy(buf, good, len);
    buf[8] = 2;
    c = crc32c(0, buf, 28);
    memcpy(buf + 28, &c, 4);
    spit(path, buf, len);
    kb = new_kb();
    assert_int_equal(lore_open(kb, path, NULL), LORE_ERR_CORRUPT);
    snprintf(want, sizeof want, "%s: format version 2 is not supported (this lore reads version 1)",
             path);
    assert_string_equal(lore_errmsg(kb), want);
    /* not a snapshot at all */
    spit(path, "{\"lore\": 1}", 11);
    assert_int_equal(lore_open(kb, path, NULL), LORE_ERR_CORRUPT);
    snprintf(want, sizeof want, "%s: not a lore snapshot (bad magic number)", path);
    assert_string_equal(lore_errmsg(kb), want);
    /* bytes after the end */
    memcpy(buf, good, len);
    buf[len] = 0;
    spit(path, buf, len + 1);
    assert_int_equal(lore_open(kb, path, NULL), LORE_ERR_CORRUPT);
    snprintf(want, sizeof want, "%s: 1 unexpected bytes after the end section", path);
    assert_string_equal(lore_errmsg(kb), want);
    /* missing and unreadable files */
    assert_int_equal(lore_open(kb, at("none.lore"), NULL), LORE_ERR_IO);
    snprintf(want, sizeof want, "%s: No such file or directory", at("none.lore"));
    assert_string_equal(lore_errmsg(kb), want);
    assert_int_equal(lore_load_snapshot(kb, dir, NULL), LORE_ERR_IO);
    snprintf(want, sizeof want, "%s: not a regular file", dir);
    assert_string_equal(lore_errmsg(kb), want);
    assert_int_equal(lore_term_count(kb), 0);
    lore_kb_free(kb);
    free(good);
    free(buf);
    lore_kb_free(src);
}

/* A save that fails half-way (a write refused by a file size limit, a
 * rename refused) leaves the old file as it was and no temporary file. */
static void test_save_failures(void **state)
{
    (void)state;
    const char *path = at("keep.lore");
    lore_kb *old = small_kb();
    assert_int_equal(lore_save(old, path), LORE_OK);
    size_t len;
    unsigned char *before = slurp(path, &len);
    lore_kb *big = random_kb(7, 3000);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {4096, 4096};
        setrlimit(RLIMIT_FSIZE, &rl);
        int rc = lore_save(big, path);
        char want[1024];
        snprintf(want, sizeof want, "%s: cannot write: File too large", path);
        _exit(rc == LORE_ERR_IO && strcmp(lore_errmsg(big), want) == 0 ? 0 : 1);
    }
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    size_t len2;
    unsigned char *after = slurp(path, &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(before, after, len);
    assert_int_equal(count_files(".tmp."), 0);
    free(after);

    /* the rename fails: the target is a directory */
    const char *d = at("adir.lore");
    assert_int_equal(mkdir(d, 0755), 0);
    assert_int_equal(lore_save(old, d), LORE_ERR_IO);
    char want[1024];
    snprintf(want, sizeof want, "%s: cannot rename the temporary file over it: Is a directory", d);
    assert_string_equal(lore_errmsg(old), want);
    assert_int_equal(count_files(".tmp."), 0);
    rmdir(d);
    /* no directory to write in */
    assert_int_equal(lore_save(old, at("no/such/dir.lore")), LORE_ERR_IO);
    snprintf(want, sizeof want,
             "%s: cannot create a temporary file beside it: No such file or directory",
             at("no/such/dir.lore"));
    assert_string_equal(lore_errmsg(old), want);
    /* inside a transaction: refused */
    assert_int_equal(lore_begin(old), LORE_OK);
    assert_int_equal(lore_save(old, path), LORE_ERR_STATE);
    assert_string_equal(lore_errmsg(old), "lore_save: a transaction is open");
    assert_int_equal(lore_rollback(old), LORE_OK);
    free(before);
    lore_kb_free(big);
    lore_kb_free(old);
}

/* A child saving two different knowledge bases in turn over one file,
 * killed at random moments: the file is always one of them, whole. */
static void test_save_killed(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s", at("race.lore"));
    lore_kb *a = random_kb(11, 2000), *b = random_kb(12, 500);
    char *da = dump(a, 1), *db = dump(b, 1);
    assert_int_equal(lore_save(a, path), LORE_OK);
    uint64_t x = 99;
    int saw_b = 0;
    for (int round = 0; round < 20; round++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            for (int i = 0;; i++)
                lore_save(i % 2 ? a : b, path);
        }
        sleep_us((long)(rnd(&x) % 8000));
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        lore_kb *kb = new_kb();
        if (lore_open(kb, path, NULL) != LORE_OK)
            fail_msg("round %d: %s", round, lore_errmsg(kb));
        char *d = dump(kb, 1);
        assert_true(strcmp(d, da) == 0 || strcmp(d, db) == 0);
        saw_b |= strcmp(d, db) == 0;
        free(d);
        lore_kb_free(kb);
        /* a killed save may leave its temporary file: safe to delete */
        DIR *dd = opendir(dir);
        struct dirent *e;
        while ((e = readdir(dd)) != NULL)
            if (strstr(e->d_name, "race.lore.tmp."))
                unlink(at(e->d_name));
        closedir(dd);
    }
    assert_true(saw_b);
    free(da);
    free(db);
    lore_kb_free(a);
    lore_kb_free(b);
}

/* ------------------------------------------------------------------ */
/* durable mode                                                       */

static lore_kb *dopen(const char *path, int sync, int expect)
{
    lore_kb *kb = new_kb();
    lore_open_options o = {1, sync, 5};
    int rc = lore_open(kb, path, &o);
    if (rc != expect)
        fail_msg("lore_open %s: %d %s", path, rc, lore_errmsg(kb));
    return kb;
}

static void test_journal(void **state)
{
    (void)state;
    static const int policies[] = {LORE_SYNC_CHANGE, LORE_SYNC_COMMIT, LORE_SYNC_INTERVAL,
                                   LORE_SYNC_NONE};
    for (int pi = 0; pi < 4; pi++) {
        clean_dir();
        const char *path = at("j.lore"), *jpath = at("j.lore-journal");
        lore_kb *kb = dopen(path, policies[pi], LORE_OK);
        assert_int_equal(file_size(jpath), 32); /* a header, no record */
        assert_int_equal(file_size(path), -1);  /* no snapshot before a checkpoint */
        lore_id pl = sym(kb, "poland"), in = sym(kb, "member_of"), nato = sym(kb, "nato");
        lore_id s1 = sym(kb, "press:s1"), s2 = sym(kb, "press:s2");
        lore_id unused = sym(kb, "unused");
        assert_int_equal(lore_add(kb, pl, in, nato, s1), LORE_OK);
        assert_int_equal(lore_add(kb, pl, in, nato, s1), LORE_NOOP);
        off_t grown = file_size(jpath);
        assert_int_equal(lore_add(kb, pl, in, nato, s1), LORE_NOOP); /* nothing journaled */
        assert_int_equal(file_size(jpath), grown);
        assert_int_equal(lore_add(kb, pl, in, nato, s2), LORE_OK);
        assert_int_equal(lore_add(kb, nato, in, nato, 0), LORE_OK);
        assert_int_equal(lore_remove(kb, pl, in, nato, s1), LORE_OK);
        assert_int_equal(lore_remove(kb, pl, in, nato, s1), LORE_NOOP);
        lore_id t = intern(kb, lore_text("été", "fr")), d = intern(kb, lore_date("2024-07-11"));
        assert_int_equal(lore_begin(kb), LORE_OK);
        assert_int_equal(lore_add(kb, pl, t, d, s2), LORE_OK);
        assert_int_equal(lore_add(kb, nato, t, d, s2), LORE_OK);
        assert_int_equal(lore_commit(kb), LORE_OK);
        assert_int_equal(lore_begin(kb), LORE_OK); /* rolled back: not journaled */
        grown = file_size(jpath);
        assert_int_equal(lore_add(kb, d, d, d, 0), LORE_OK);
        assert_int_equal(lore_rollback(kb), LORE_OK);
        assert_int_equal(file_size(jpath), grown);
        lore_batch *b;
        assert_int_equal(lore_batch_new(kb, &b), LORE_OK);
        lore_id n7, n8;
        lore_value v7 = lore_integer(7), v8 = lore_number(8.5);
        assert_int_equal(lore_batch_intern(b, &v7, &n7), LORE_OK);
        assert_int_equal(lore_batch_intern(b, &v8, &n8), LORE_OK);
        assert_int_equal(lore_batch_add(b, nato, n7, n8, s1), LORE_OK);
        assert_int_equal(lore_batch_add(b, nato, n8, n7, 0), LORE_OK);
        assert_int_equal(lore_batch_commit(b, NULL), LORE_OK);
        assert_int_equal(lore_batch_new(kb, &b), LORE_OK); /* abandoned: nothing */
        lore_value v9 = lore_symbol("gone");
        lore_id n9;
        assert_int_equal(lore_batch_intern(b, &v9, &n9), LORE_OK);
        assert_int_equal(lore_batch_add(b, n9, n9, n9, 0), LORE_OK);
        lore_batch_free(b);
        size_t removed;
        assert_int_equal(lore_retract_source(kb, s2, &removed), LORE_OK);
        assert_int_equal(removed, 3);
        assert_int_equal(lore_retract_source(kb, s2, &removed), LORE_NOOP);
        assert_int_equal(lore_add(kb, unused, unused, unused, 0), LORE_OK);
        char *want = dump(kb, 1);
        lore_kb_free(kb);

        /* replayed: the same terms with the same ids, the same facts */
        kb = dopen(path, policies[pi], LORE_OK);
        char *got = dump(kb, 1);
        assert_string_equal(want, got);
        free(got);
        assert_null(store_check(&kb->st));
        /* read-only open of the same: the same, files untouched */
        off_t jsize = file_size(jpath);
        assert_true(jsize > 32);
        lore_kb *ro = new_kb();
        assert_int_equal(lore_open(ro, path, NULL), LORE_OK);
        got = dump(ro, 1);
        assert_string_equal(want, got);
        free(got);
        lore_kb_free(ro);
        assert_int_equal(file_size(jpath), jsize);
        /* one handle at a time in durable mode */
        lore_kb *second = dopen(path, policies[pi], LORE_ERR_STATE);
        char msg[1024];
        snprintf(msg, sizeof msg, "%s: already open in durable mode (%s is locked)", path, jpath);
        assert_string_equal(lore_errmsg(second), msg);
        lore_kb_free(second);
        /* a checkpoint folds the journal into the snapshot */
        assert_int_equal(lore_checkpoint(kb), LORE_OK);
        assert_int_equal(file_size(jpath), 32);
        assert_true(file_size(path) > 0);
        assert_int_equal(lore_add(kb, d, d, d, s1), LORE_OK);
        free(want);
        want = dump(kb, 1);
        lore_kb_free(kb);
        kb = dopen(path, policies[pi], LORE_OK);
        got = dump(kb, 1);
        assert_string_equal(want, got);
        free(got);
        free(want);
        /* saving to its own file is a checkpoint */
        assert_int_equal(lore_save(kb, path), LORE_OK);
        assert_int_equal(file_size(jpath), 32);
        lore_kb_free(kb);
    }
}

/* Derived marks, journaled the way the rules layer does it: replayed. */
static void test_journal_derived(void **state)
{
    (void)state;
    clean_dir();
    lore_kb *kb = dopen(at("r.lore"), LORE_SYNC_CHANGE, LORE_OK);
    lore_id a = sym(kb, "a"), b = sym(kb, "b");
    for (int mark = 1; mark >= 0; mark--) {
        jop op = {.code = JOP_DERIVE, .s = a, .p = b, .o = a, .src = (uint32_t)mark};
        jmark mk;
        assert_int_equal(journal_log(kb, &op, &mk), LORE_OK);
        assert_int_equal(store_set_derived(&kb->st, a, b, a, mark), LORE_OK);
    }
    jop op = {.code = JOP_DERIVE, .s = b, .p = b, .o = a, .src = 1};
    jmark mk;
    assert_int_equal(journal_log(kb, &op, &mk), LORE_OK);
    assert_int_equal(store_set_derived(&kb->st, b, b, a, 1), LORE_OK);
    assert_int_equal(lore_add(kb, a, a, a, 0), LORE_OK);
    char *want = dump(kb, 1);
    lore_kb_free(kb);
    kb = dopen(at("r.lore"), LORE_SYNC_CHANGE, LORE_OK);
    char *got = dump(kb, 1);
    assert_string_equal(want, got);
    assert_non_null(strstr(got, "|D|")); /* b b a, derived only */
    free(want);
    free(got);
    lore_kb_free(kb);
}

/* Rows a bulk loader merges itself (store_bulk), journaled before, in
 * both layouts: replayed. */
static void test_journal_bulk_rows(void **state)
{
    (void)state;
    clean_dir();
    lore_kb *kb = dopen(at("b.lore"), LORE_SYNC_CHANGE, LORE_OK);
    lore_id a = sym(kb, "a"), b = sym(kb, "b"), g = sym(kb, "graph");
    uint32_t three[6] = {a, b, a, b, b, a};
    jop op = {.code = JOP_BULK, .rows = three, .nrows = 2, .stride = 3, .xmeta = META_ASSERTED | g};
    jmark mk;
    assert_int_equal(journal_log(kb, &op, &mk), LORE_OK);
    uint32_t rows3[8] = {a, b, a, META_ASSERTED | g, b, b, a, META_ASSERTED | g};
    assert_int_equal(store_bulk(&kb->st, rows3, 2, NULL), LORE_OK);
    uint32_t four[8] = {a, a, a, META_ASSERTED, b, b, a, META_DERIVED};
    jop op4 = {.code = JOP_BULK, .rows = four, .nrows = 2, .stride = 4};
    assert_int_equal(journal_log(kb, &op4, &mk), LORE_OK);
    uint32_t rows4[8] = {a, a, a, META_ASSERTED, b, b, a, META_DERIVED};
    assert_int_equal(store_bulk(&kb->st, rows4, 2, NULL), LORE_OK);
    char *want = dump(kb, 1);
    assert_non_null(strstr(want, "|AD|"));
    lore_kb_free(kb);
    kb = dopen(at("b.lore"), LORE_SYNC_CHANGE, LORE_OK);
    char *got = dump(kb, 1);
    assert_string_equal(want, got);
    free(want);
    free(got);
    lore_kb_free(kb);
}

/* A checkpoint cut short after its snapshot was in place: the journal
 * left names the older generation and is not applied twice. */
static void test_checkpoint_crash(void **state)
{
    (void)state;
    clean_dir();
    const char *path = at("c.lore"), *jpath = at("c.lore-journal");
    lore_kb *kb = dopen(path, LORE_SYNC_CHANGE, LORE_OK);
    lore_id a = sym(kb, "a"), b = sym(kb, "b"), s = sym(kb, "s");
    assert_int_equal(lore_add(kb, a, a, a, s), LORE_OK);
    assert_int_equal(lore_checkpoint(kb), LORE_OK);
    assert_int_equal(lore_add(kb, b, b, b, s), LORE_OK);
    assert_int_equal(lore_add(kb, a, a, a, 0), LORE_OK);
    assert_int_equal(lore_remove(kb, a, a, a, s), LORE_OK);
    size_t jlen;
    unsigned char *journal = slurp(jpath, &jlen);
    assert_int_equal(lore_checkpoint(kb), LORE_OK);
    char *want = dump(kb, 1);
    lore_kb_free(kb);
    spit(jpath, journal, jlen); /* as if the crash came before the reset */
    kb = dopen(path, LORE_SYNC_CHANGE, LORE_OK);
    char *got = dump(kb, 1);
    assert_string_equal(want, got);
    assert_int_equal(file_size(jpath), 32); /* reset on open */
    free(got);
    lore_kb_free(kb);
    /* a journal newer than its snapshot: the snapshot was replaced */
    lore_kb *other = small_kb();
    spit(jpath, journal, jlen);
    unlink(path);
    kb = new_kb();
    assert_int_equal(lore_open(kb, path, NULL), LORE_ERR_CORRUPT);
    char msg[1024];
    snprintf(msg, sizeof msg, "%s: missing, but its journal follows snapshot generation 1", path);
    assert_string_equal(lore_errmsg(kb), msg);
    lore_kb_free(kb);
    /* a plain save over the file names a later generation: the journal
     * beside it is taken as folded in already */
    assert_int_equal(lore_save(other, path), LORE_OK);
    kb = dopen(path, LORE_SYNC_CHANGE, LORE_OK);
    assert_same(other, kb, 1);
    lore_kb_free(kb);
    free(journal);
    free(want);
    lore_kb_free(other);
}

/* Builds a journal of three records (two changes and a transaction) and
 * returns the offsets where each record starts. */
static void three_records(const char *path, size_t start[4], char **after2, char **after3)
{
    clean_dir();
    lore_kb *kb = dopen(path, LORE_SYNC_NONE, LORE_OK);
    char jpath[600];
    snprintf(jpath, sizeof jpath, "%s-journal", path);
    lore_id a = sym(kb, "a"), b = sym(kb, "b"), c = sym(kb, "c");
    start[0] = (size_t)file_size(jpath);
    assert_int_equal(lore_add(kb, a, b, c, 0), LORE_OK);
    start[1] = (size_t)file_size(jpath);
    assert_int_equal(lore_add(kb, c, b, a, a), LORE_OK);
    start[2] = (size_t)file_size(jpath);
    *after2 = dump(kb, 0);
    assert_int_equal(lore_begin(kb), LORE_OK);
    assert_int_equal(lore_add(kb, b, b, b, 0), LORE_OK);
    assert_int_equal(lore_add(kb, intern(kb, lore_text("x", "en")), b, c, c), LORE_OK);
    assert_int_equal(lore_remove(kb, a, b, c, 0), LORE_OK);
    assert_int_equal(lore_commit(kb), LORE_OK);
    start[3] = (size_t)file_size(jpath);
    *after3 = dump(kb, 0);
    lore_kb_free(kb);
}

static void test_torn(void **state)
{
    (void)state;
    char path[512], jpath[600], msg[1200];
    snprintf(path, sizeof path, "%s", at("t.lore"));
    snprintf(jpath, sizeof jpath, "%s-journal", path);
    size_t start[4], len;
    char *after2, *after3;
    three_records(path, start, &after2, &after3);
    unsigned char *good = slurp(jpath, &len);
    assert_int_equal(len, start[3]);
    /* the transaction's record cut anywhere: discarded whole, with a
     * warning; the journal is cut back so appending goes on cleanly */
    for (size_t cut = start[2] + 1; cut < len; cut++) {
        spit(jpath, good, cut);
        lore_kb *ro = new_kb();
        assert_int_equal(lore_open(ro, path, NULL), LORE_WARN);
        snprintf(msg, sizeof msg, "%s: discarded a torn last record at offset %zu (%zu bytes)",
                 jpath, start[2], cut - start[2]);
        assert_string_equal(lore_errmsg(ro), msg);
        char *got = dump(ro, 0);
        assert_string_equal(got, after2);
        free(got);
        lore_kb_free(ro);
        assert_int_equal(file_size(jpath), cut); /* read-only: untouched */
        lore_kb *kb = dopen(path, LORE_SYNC_CHANGE, LORE_WARN);
        assert_string_equal(lore_errmsg(kb), msg);
        assert_int_equal(file_size(jpath), start[2]);
        lore_id z = sym(kb, "z");
        assert_int_equal(lore_add(kb, z, z, z, 0), LORE_OK);
        lore_kb_free(kb);
        kb = dopen(path, LORE_SYNC_CHANGE, LORE_OK);
        assert_int_equal(lore_size(kb), 3);
        lore_kb_free(kb);
    }
    /* a damaged byte anywhere in the last record: discarded the same way */
    unsigned char *bad = malloc(len);
    for (size_t pos = start[2]; pos < len; pos++) {
        memcpy(bad, good, len);
        bad[pos] ^= 0x20;
        spit(jpath, bad, len);
        lore_kb *ro = new_kb();
        assert_int_equal(lore_open(ro, path, NULL), LORE_WARN);
        snprintf(msg, sizeof msg, "%s: discarded a torn last record at offset %zu (%zu bytes)",
                 jpath, start[2], len - start[2]);
        assert_string_equal(lore_errmsg(ro), msg);
        char *got = dump(ro, 0);
        assert_string_equal(got, after2);
        free(got);
        lore_kb_free(ro);
    }
    /* anywhere before it: an error, naming the record */
    for (size_t pos = 0; pos < start[2]; pos++) {
        memcpy(bad, good, len);
        bad[pos] ^= 0x20;
        spit(jpath, bad, len);
        lore_kb *kb = new_kb();
        assert_int_equal(lore_open(kb, path, NULL), LORE_ERR_CORRUPT);
        if (pos < 8)
            snprintf(msg, sizeof msg, "%s: not a lore journal (bad magic number)", jpath);
        else if (pos < 32)
            snprintf(msg, sizeof msg, "%s: checksum mismatch in the journal header", jpath);
        else
            snprintf(msg, sizeof msg,
                     "%s: record %d at offset %zu: cut short or checksum mismatch, with whole "
                     "records after it (corruption before the last record)",
                     jpath, pos < start[1] ? 1 : 2, pos < start[1] ? start[0] : start[1]);
        assert_string_equal(lore_errmsg(kb), msg);
        assert_int_equal(lore_term_count(kb), 0);
        lore_kb_free(kb);
        kb = dopen(path, LORE_SYNC_CHANGE, LORE_ERR_CORRUPT);
        assert_string_equal(lore_errmsg(kb), msg);
        lore_kb_free(kb);
        assert_int_equal(file_size(jpath), len); /* refused: nothing cut */
    }
    /* zeros where the last record should be (a file system that grew the
     * file but lost the data): torn */
    memcpy(bad, good, len);
    memset(bad + start[2], 0, len - start[2]);
    spit(jpath, bad, len);
    lore_kb *kb = dopen(path, LORE_SYNC_CHANGE, LORE_WARN);
    lore_kb_free(kb);
    /* a journal whose header was being written: nothing to replay */
    spit(jpath, good, 20);
    kb = dopen(path, LORE_SYNC_CHANGE, LORE_OK);
    assert_int_equal(lore_size(kb), 0);
    assert_int_equal(file_size(jpath), 32);
    lore_kb_free(kb);
    free(bad);
    free(good);
    free(after2);
    free(after3);
}

/* A journal write that fails (file size limit): the change fails with
 * LORE_ERR_IO and is not made; a failing commit leaves the transaction
 * open. */
static void test_journal_write_failure(void **state)
{
    (void)state;
    clean_dir();
    const char *path = at("f.lore");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        lore_kb *kb = dopen(path, LORE_SYNC_CHANGE, LORE_OK);
        lore_id a = sym(kb, "a");
        int ok = lore_add(kb, a, a, a, 0) == LORE_OK;
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {(rlim_t)file_size(at("f.lore-journal")) + 8,
                            (rlim_t)file_size(at("f.lore-journal")) + 8};
        setrlimit(RLIMIT_FSIZE, &rl);
        lore_id b = sym(kb, "b");
        ok &= lore_add(kb, b, b, b, 0) == LORE_ERR_IO;
        ok &= lore_size(kb) == 1;
        ok &= strstr(lore_errmsg(kb), "f.lore-journal: cannot write: File too large") != NULL;
        ok &= lore_begin(kb) == LORE_OK && lore_add(kb, b, b, b, 0) == LORE_OK;
        ok &= lore_commit(kb) == LORE_ERR_IO && lore_in_transaction(kb);
        ok &= lore_rollback(kb) == LORE_OK && lore_size(kb) == 1;
        /* the failed writes were cut off: the journal goes on */
        rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
        ok &= setrlimit(RLIMIT_FSIZE, &rl) == 0 || 1; /* raising may need privileges */
        lore_kb_free(kb);
        _exit(ok ? 0 : 1);
    }
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    lore_kb *kb = dopen(path, LORE_SYNC_CHANGE, LORE_OK);
    assert_int_equal(lore_size(kb), 1);
    lore_kb_free(kb);
}

/* ------------------------------------------------------------------ */
/* a writer killed at random moments                                  */

enum { NE = 10, NS = 4 }; /* entities; sources: default and s1..s3 */

typedef struct model {
    uint8_t m[NE][NE][NE]; /* bit k: asserted from source k (0: default) */
} model;

enum { ST_ADD, ST_REMOVE, ST_RETRACT, ST_TXN, ST_TXN_ROLLBACK, ST_BATCH, ST_CHECKPOINT };

typedef struct op {
    int remove, s, p, o, src; /* src NS: every source */
} op;

typedef struct step {
    int kind, n, src;
    op ops[6];
} step;

static void random_op(uint64_t *x, op *o, int may_remove)
{
    o->remove = may_remove && rnd(x) % 3 == 0;
    o->s = (int)(rnd(x) % NE), o->p = (int)(rnd(x) % 3), o->o = (int)(rnd(x) % NE);
    o->src = (int)(rnd(x) % (NS + (o->remove ? 1 : 0)));
}

static void make_step(uint64_t *x, step *st)
{
    unsigned r = (unsigned)(rnd(x) % 40);
    memset(st, 0, sizeof *st);
    st->kind = r < 18   ? ST_ADD
               : r < 25 ? ST_REMOVE
               : r < 26 ? ST_RETRACT
               : r < 33 ? ST_TXN
               : r < 35 ? ST_TXN_ROLLBACK
               : r < 39 ? ST_BATCH
                        : ST_CHECKPOINT;
    st->n = 1 + (int)(rnd(x) % 6);
    st->src = (int)(rnd(x) % NS);
    for (int i = 0; i < st->n; i++)
        random_op(x, &st->ops[i], st->kind != ST_BATCH && st->kind != ST_ADD);
}

static void model_op(model *m, const op *o)
{
    uint8_t *f = &m->m[o->s][o->p][o->o];
    if (!o->remove)
        *f |= (uint8_t)(1u << o->src);
    else if (o->src == NS)
        *f = 0;
    else
        *f &= (uint8_t) ~(1u << o->src);
}

static void model_step(model *m, const step *st)
{
    switch (st->kind) {
    case ST_ADD:
    case ST_REMOVE:
        model_op(m, &st->ops[0]);
        break;
    case ST_RETRACT:
        for (int s = 0; s < NE; s++)
            for (int p = 0; p < NE; p++)
                for (int o = 0; o < NE; o++)
                    m->m[s][p][o] &= (uint8_t) ~(1u << st->src);
        break;
    case ST_TXN:
    case ST_BATCH:
        for (int i = 0; i < st->n; i++)
            model_op(m, &st->ops[i]);
        break;
    default:
        break; /* a rolled back transaction, a checkpoint: no change */
    }
}

typedef struct names {
    lore_id e[NE], src[NS];
} names;

static void name_all(lore_kb *kb, names *nm)
{
    char buf[16];
    for (int i = 0; i < NE; i++) {
        snprintf(buf, sizeof buf, "e%d", i);
        nm->e[i] = sym(kb, buf);
    }
    nm->src[0] = 0;
    for (int i = 1; i < NS; i++) {
        snprintf(buf, sizeof buf, "s%d", i);
        nm->src[i] = sym(kb, buf);
    }
}

static int kb_op(lore_kb *kb, const names *nm, const op *o)
{
    lore_id s = nm->e[o->s], p = nm->e[o->p], ob = nm->e[o->o];
    if (!o->remove)
        return lore_add(kb, s, p, ob, nm->src[o->src]);
    return lore_remove(kb, s, p, ob, o->src == NS ? LORE_ANY_SOURCE : nm->src[o->src]);
}

/* Applies a step to kb: 0 when acknowledged. */
static int kb_step(lore_kb *kb, const names *nm, const step *st)
{
    int rc = 0;
    switch (st->kind) {
    case ST_ADD:
    case ST_REMOVE:
        return kb_op(kb, nm, &st->ops[0]) < 0;
    case ST_RETRACT:
        return lore_retract_source(kb, nm->src[st->src], NULL) < 0;
    case ST_TXN:
    case ST_TXN_ROLLBACK:
        rc |= lore_begin(kb) < 0;
        for (int i = 0; i < st->n; i++)
            rc |= kb_op(kb, nm, &st->ops[i]) < 0;
        rc |= (st->kind == ST_TXN ? lore_commit(kb) : lore_rollback(kb)) < 0;
        return rc;
    case ST_BATCH: {
        lore_batch *b;
        rc |= lore_batch_new(kb, &b) < 0;
        for (int i = 0; i < st->n; i++) {
            const op *o = &st->ops[i];
            rc |= lore_batch_add(b, nm->e[o->s], nm->e[o->p], nm->e[o->o], nm->src[o->src]) < 0;
        }
        rc |= lore_batch_commit(b, NULL) < 0;
        return rc;
    }
    default:
        return lore_checkpoint(kb) < 0;
    }
}

/* 1 if kb holds exactly the model. */
static int matches(lore_kb *kb, const names *nm, const model *m)
{
    size_t n = 0;
    for (int s = 0; s < NE; s++)
        for (int p = 0; p < NE; p++)
            for (int o = 0; o < NE; o++) {
                lore_fact_info info;
                lore_id srcs[NS];
                lore_fact(kb, nm->e[s], nm->e[p], nm->e[o], &info, srcs, NS);
                unsigned got = info.in_default ? 1 : 0;
                for (size_t k = 0; k < info.nsources && k < NS; k++)
                    for (int i = 1; i < NS; i++)
                        if (srcs[k] == nm->src[i])
                            got |= 1u << i;
                if (got != m->m[s][p][o] || info.derived)
                    return 0;
                n += got != 0;
            }
    return n == lore_size(kb);
}

static void test_killed(void **state)
{
    (void)state;
    clean_dir();
    static const int policies[] = {LORE_SYNC_NONE, LORE_SYNC_CHANGE, LORE_SYNC_COMMIT,
                                   LORE_SYNC_INTERVAL};
    const char *path = at("k.lore");
    model cur;
    memset(&cur, 0, sizeof cur);
    uint64_t x = 12345;
    int total_acks = 0, next_present = 0;
    for (int round = 0; round < 50; round++) {
        uint64_t seed = (uint64_t)round * 7919 + 17;
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            lore_kb *kb = new_kb();
            lore_open_options o = {1, policies[round % 4], 2};
            int rc = lore_open(kb, path, &o);
            if (rc < 0)
                _exit(2);
            names nm;
            name_all(kb, &nm);
            uint64_t y = seed;
            for (int i = 0; i < 1000000; i++) {
                step st;
                make_step(&y, &st);
                if (kb_step(kb, &nm, &st) != 0)
                    _exit(3);
                if (write(fds[1], &i, sizeof i) != (ssize_t)sizeof i) /* acknowledged */
                    _exit(4);
            }
            _exit(0);
        }
        close(fds[1]);
        sleep_us((long)(rnd(&x) % 12000));
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        assert_true(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0));
        int acks = 0, i;
        while (read(fds[0], &i, sizeof i) == (ssize_t)sizeof i) {
            assert_int_equal(i, acks);
            acks++;
        }
        close(fds[0]);
        /* every acknowledged step is there; the next may be, whole */
        model done = cur, next;
        uint64_t y = seed;
        step st;
        for (int k = 0; k < acks; k++) {
            make_step(&y, &st);
            model_step(&done, &st);
        }
        next = done;
        make_step(&y, &st);
        model_step(&next, &st);
        lore_kb *kb = new_kb();
        lore_open_options o = {1, LORE_SYNC_NONE, 0};
        int rc = lore_open(kb, path, &o);
        if (rc != LORE_OK && rc != LORE_WARN)
            fail_msg("round %d: %s", round, lore_errmsg(kb));
        names nm;
        name_all(kb, &nm);
        assert_null(store_check(&kb->st));
        if (matches(kb, &nm, &done)) {
            cur = done;
        } else if (matches(kb, &nm, &next)) {
            cur = next;
            next_present++;
        } else {
            fail_msg("round %d: after %d acknowledged steps the kb is neither before nor after "
                     "the next one",
                     round, acks);
        }
        total_acks += acks;
        lore_kb_free(kb);
    }
    assert_true(total_acks > 100);
    if (getenv("LORE_TEST_VERBOSE"))
        print_message("%d steps acknowledged in 50 rounds; the unacknowledged next step "
                      "was found applied %d times\n",
                      total_acks, next_present);
}

/* ------------------------------------------------------------------ */
/* running out of memory                                              */

/* n allocations succeed, then every one fails; n < 0: none fails */
static void fail_after(failing *f, long n)
{
    f->calls = 0;
    f->fail_at = n < 0 ? 0 : n + 1;
}

/* Every allocation of an open, a merge, a save and journaled changes
 * failing in turn: a clean status, nothing changed, nothing leaked
 * (ASan). */
static void test_nomem(void **state)
{
    (void)state;
    clean_dir();
    lore_kb *src = random_kb(5, 300);
    assert_int_equal(lore_save(src, at("n.lore")), LORE_OK);
    char *want = dump(src, 1);
    for (long n = 0;; n++) {
        failing f = {.fail_at = n + 1};
        lore_kb *kb;
        if (lore_kb_new(&kb, failing_alloc, &f) != LORE_OK)
            continue;
        int rc = lore_open(kb, at("n.lore"), NULL);
        fail_after(&f, -1);
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", lore_errmsg(kb));
        if (rc == LORE_OK) {
            char *got = dump(kb, 1);
            assert_string_equal(want, got);
            free(got);
            lore_kb_free(kb);
            break;
        }
        assert_int_equal(rc, LORE_ERR_NOMEM);
        assert_string_equal(msg, "out of memory");
        assert_int_equal(lore_term_count(kb), 0);
        assert_int_equal(lore_size(kb), 0);
        lore_kb_free(kb);
    }
    for (long n = 0;; n++) {
        failing f = {0};
        lore_kb *kb;
        assert_int_equal(lore_kb_new(&kb, failing_alloc, &f), LORE_OK);
        lore_id a = sym(kb, "a");
        assert_int_equal(lore_add(kb, a, a, a, 0), LORE_OK);
        char *before = dump(kb, 1);
        fail_after(&f, n);
        int rc = lore_load_snapshot(kb, at("n.lore"), NULL);
        fail_after(&f, -1);
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", lore_errmsg(kb));
        if (rc == LORE_OK) {
            free(before);
            lore_kb_free(kb);
            break;
        }
        assert_int_equal(rc, LORE_ERR_NOMEM);
        assert_string_equal(msg, "out of memory");
        char *after = dump(kb, 1);
        assert_string_equal(before, after);
        free(before);
        free(after);
        lore_kb_free(kb);
    }
    for (long n = 0;; n++) {
        failing f = {0};
        lore_kb *kb;
        assert_int_equal(lore_kb_new(&kb, failing_alloc, &f), LORE_OK);
        assert_int_equal(lore_load_snapshot(kb, at("n.lore"), NULL), LORE_OK);
        fail_after(&f, n);
        int rc = lore_save(kb, at("n2.lore"));
        fail_after(&f, -1);
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", lore_errmsg(kb));
        lore_kb_free(kb);
        if (rc == LORE_OK)
            break;
        assert_int_equal(rc, LORE_ERR_NOMEM);
        assert_string_equal(msg, "out of memory");
        assert_int_equal(count_files(".tmp."), 0);
    }
    for (long n = 0;; n++) {
        clean_dir();
        failing f = {0};
        lore_kb *kb;
        assert_int_equal(lore_kb_new(&kb, failing_alloc, &f), LORE_OK);
        lore_open_options o = {1, LORE_SYNC_NONE, 0};
        assert_int_equal(lore_open(kb, at("d.lore"), &o), LORE_OK);
        lore_id a = sym(kb, "a"), b = sym(kb, "b");
        fail_after(&f, n);
        int rc = lore_add(kb, a, b, a, b);
        if (rc == LORE_OK)
            rc = lore_begin(kb);
        if (rc == LORE_OK && (rc = lore_add(kb, b, b, b, a)) == LORE_OK)
            rc = lore_commit(kb);
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", lore_errmsg(kb));
        if (lore_in_transaction(kb))
            lore_rollback(kb);
        fail_after(&f, -1);
        char *held = dump(kb, 0);
        lore_kb_free(kb);
        /* what the journal holds is what memory held */
        lore_kb *re = new_kb();
        assert_int_equal(lore_open(re, at("d.lore"), &o), LORE_OK);
        char *disk = dump(re, 0);
        lore_kb_free(re);
        assert_string_equal(held, disk);
        free(held);
        free(disk);
        if (rc == LORE_OK)
            break;
        assert_int_equal(rc, LORE_ERR_NOMEM);
        assert_string_equal(msg, "out of memory");
    }
    /* a durable open replaying a journal: refused cleanly at every
     * allocation, the files left as they were */
    clean_dir();
    lore_open_options o = {1, LORE_SYNC_NONE, 0};
    lore_kb *kb = new_kb();
    assert_int_equal(lore_open(kb, at("r.lore"), &o), LORE_OK);
    lore_id a = sym(kb, "a"), b = sym(kb, "b");
    assert_int_equal(lore_add(kb, a, b, a, 0), LORE_OK);
    assert_int_equal(lore_checkpoint(kb), LORE_OK);
    assert_int_equal(lore_add(kb, b, b, a, a), LORE_OK);
    assert_int_equal(lore_begin(kb), LORE_OK);
    assert_int_equal(lore_add(kb, intern(kb, lore_integer(5)), b, a, b), LORE_OK);
    assert_int_equal(lore_commit(kb), LORE_OK);
    free(want);
    want = dump(kb, 1);
    lore_kb_free(kb);
    size_t jlen, jlen2;
    unsigned char *journal = slurp(at("r.lore-journal"), &jlen);
    for (long n = 0;; n++) {
        failing f = {.fail_at = n + 1};
        if (lore_kb_new(&kb, failing_alloc, &f) != LORE_OK)
            continue;
        int rc = lore_open(kb, at("r.lore"), &o);
        fail_after(&f, -1);
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", lore_errmsg(kb));
        unsigned char *now = slurp(at("r.lore-journal"), &jlen2);
        assert_int_equal(jlen, jlen2);
        assert_memory_equal(journal, now, jlen);
        free(now);
        if (rc == LORE_OK) {
            char *got = dump(kb, 1);
            assert_string_equal(want, got);
            free(got);
            lore_kb_free(kb);
            break;
        }
        assert_int_equal(rc, LORE_ERR_NOMEM);
        assert_string_equal(msg, "out of memory");
        assert_int_equal(lore_term_count(kb), 0);
        lore_kb_free(kb);
    }
    free(journal);
    free(want);
    lore_kb_free(src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_damage),
        cmocka_unit_test(test_sections),
        cmocka_unit_test(test_save_failures),
        cmocka_unit_test(test_save_killed),
        cmocka_unit_test(test_journal),
        cmocka_unit_test(test_journal_derived),
        cmocka_unit_test(test_journal_bulk_rows),
        cmocka_unit_test(test_ranks_after_open),
        cmocka_unit_test(test_checkpoint_crash),
        cmocka_unit_test(test_torn),
        cmocka_unit_test(test_journal_write_failure),
        cmocka_unit_test(test_killed),
        cmocka_unit_test(test_nomem),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
