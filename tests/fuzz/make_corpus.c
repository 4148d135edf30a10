/* make_corpus.c - writes the seed corpora of fuzz_snapshot and
 * fuzz_journal: small snapshots and journals covering every term kind,
 * source sets, derived marks, every kind of journal record, a torn tail.
 * usage: make_corpus DIR (DIR/snapshot and DIR/journal must exist) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"
#include "kb.h"
#include "store.h"

static const char *out;

static lore_id mk(lore_kb *kb, lore_value v)
{
    lore_id id;
    if (lore_intern(kb, &v, &id) != LORE_OK)
        exit(1);
    return id;
}

static void save(lore_kb *kb, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/snapshot/%s", out, name);
    unlink(path); /* generation 1, always the same bytes */
    if (lore_save(kb, path) != LORE_OK) {
        fprintf(stderr, "%s\n", lore_errmsg(kb));
        exit(1);
    }
}

static void copy(const char *from, const char *name, long cut)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/journal/%s", out, name);
    FILE *f = fopen(from, "rb"), *g = fopen(path, "wb");
    if (!f || !g)
        exit(1);
    int c;
    long n = 0;
    while ((c = getc(f)) != EOF && (cut < 0 || n++ < cut))
        putc(c, g);
    fclose(f);
    fclose(g);
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    out = argv[1];
    lore_kb *kb;
    lore_kb_new(&kb, NULL, NULL);
    save(kb, "empty.lore");
    lore_id nato = mk(kb, lore_symbol("nato")), held = mk(kb, lore_symbol("held"));
    lore_id s1 = mk(kb, lore_symbol("press:s1")), s2 = mk(kb, lore_symbol("press:s2"));
    lore_id city = mk(kb, lore_text("Washington", "en")), when = mk(kb, lore_date("2024-07-10"));
    lore_id n = mk(kb, lore_integer(-32)), yes = mk(kb, lore_boolean(1));
    lore_id pi = mk(kb, lore_number(3.25)), plain = mk(kb, lore_text("été", NULL));
    lore_add(kb, nato, held, city, s1);
    lore_add(kb, nato, held, city, s2);
    lore_add(kb, nato, held, city, 0);
    lore_add(kb, city, held, when, 0);
    lore_add(kb, nato, n, yes, s2);
    lore_add(kb, plain, pi, n, s1);
    store_set_derived(&kb->st, nato, pi, pi, 1);
    store_set_derived(&kb->st, nato, n, yes, 1);
    save(kb, "kinds.lore");
    for (int i = 0; i < 40; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "e%d", i);
        lore_id e = mk(kb, lore_symbol(buf));
        lore_add(kb, e, held, nato, i % 3 ? s1 : 0);
        lore_add(kb, e, held, nato, s2);
    }
    save(kb, "sets.lore");
    lore_kb_free(kb);

    char dir[] = "/tmp/lore-corpus-XXXXXX", snap[4096], journal[4200];
    if (!mkdtemp(dir))
        return 1;
    snprintf(snap, sizeof snap, "%s/j.lore", dir);
    snprintf(journal, sizeof journal, "%s-journal", snap);
    lore_kb_new(&kb, NULL, NULL);
    lore_open_options o = {1, LORE_SYNC_NONE, 0};
    if (lore_open(kb, snap, &o) != LORE_OK)
        return 1;
    copy(journal, "header-only", -1);
    lore_id a = mk(kb, lore_symbol("a")), b = mk(kb, lore_text("b", "fr"));
    lore_id c = mk(kb, lore_integer(7)), s = mk(kb, lore_symbol("src"));
    lore_add(kb, a, b, c, 0);
    lore_add(kb, a, b, c, s);
    lore_add(kb, c, b, a, s);
    lore_remove(kb, a, b, c, 0);
    copy(journal, "changes", -1);
    lore_begin(kb);
    lore_add(kb, mk(kb, lore_date("2024-07-11")), b, c, s);
    lore_remove(kb, c, b, a, LORE_ANY_SOURCE);
    lore_add(kb, b, b, b, 0);
    lore_commit(kb);
    lore_retract_source(kb, s, NULL);
    copy(journal, "transaction", -1);
    lore_batch *bt;
    lore_batch_new(kb, &bt);
    lore_value v = lore_number(2.5);
    lore_id d;
    lore_batch_intern(bt, &v, &d);
    lore_batch_add(bt, a, d, c, s);
    lore_batch_add(bt, d, d, d, 0);
    lore_batch_commit(bt, NULL);
    copy(journal, "batch", -1);
    jop op = {.code = JOP_DERIVE, .s = a, .p = d, .o = c, .src = 1}; /* as the rules layer journals a mark */
    jmark mk;
    if (journal_log(kb, &op, &mk) != LORE_OK || store_set_derived(&kb->st, a, d, c, 1) < 0)
        return 1;
    copy(journal, "derive", -1);
    copy(journal, "torn", 150);
    lore_kb_free(kb);
    unlink(journal);
    rmdir(dir);
    return 0;
}
