/* fuzz_query.c - libFuzzer target for the text form of queries: the input
 * is a query over a small knowledge base (a chain, numbers, texts, dates).
 * Checked besides memory safety and the C stack (the parser recurses, so
 * deep nesting must be refused, not followed): a refused query returns a
 * negative status with a message, a read one prepares and runs (its first
 * rows, within a CPU budget), and neither changes the knowledge base. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lore.h"

#include "budget.h"

static void check(int ok, const char *what, lore_kb *kb)
{
    if (!ok) {
        fprintf(stderr, "fuzz_query: %s (%s)\n", what, kb ? lore_errmsg(kb) : "");
        abort();
    }
}

static lore_id term(lore_kb *kb, lore_value v)
{
    lore_id id;
    check(lore_intern(kb, &v, &id) == LORE_OK, "intern", kb);
    return id;
}

/* The harness's one knowledge base, made on the first input. */
static lore_kb *sample(void)
{
    static lore_kb *kb;
    if (kb)
        return kb;
    check(lore_kb_new(&kb, NULL, NULL) == LORE_OK, "kb", NULL);
    static const char *const names[] = {"a", "b", "c", "d", "e"};
    lore_id p = term(kb, lore_symbol("p")), q = term(kb, lore_symbol("q"));
    lore_id n[5];
    for (int i = 0; i < 5; i++)
        n[i] = term(kb, lore_symbol(names[i]));
    for (int i = 0; i < 4; i++) {
        check(lore_add(kb, n[i], p, n[i + 1], 0) >= 0, "add", kb);
        check(lore_add(kb, n[i], q, term(kb, lore_integer(i)), 0) >= 0, "add", kb);
    }
    check(lore_add(kb, n[4], p, n[0], 0) >= 0, "add", kb);
    check(lore_add(kb, n[0], q, term(kb, lore_number(2.5)), 0) >= 0, "add", kb);
    check(lore_add(kb, n[1], q, term(kb, lore_text("ceci", "fr")), 0) >= 0, "add", kb);
    check(lore_add(kb, n[2], q, term(kb, lore_date("2024-07-11")), 0) >= 0, "add", kb);
    check(lore_add(kb, n[3], q, term(kb, lore_boolean(1)), 0) >= 0, "add", kb);
    return kb;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lore_kb *kb = sample();
    size_t facts = lore_size(kb);
    lore_query *q = NULL;
    budget_start(kb);
    int rc = lore_query_parse(kb, (const char *)data, size, &q);
    if (rc < 0) {
        check(q == NULL, "a refused query was handed out", kb);
        check(lore_errmsg(kb)[0] != '\0', "a refused query without a message", kb);
    } else {
        rc = lore_query_prepare(q);
        for (int rows = 0; rc >= 0 && rows < 256; rows++) {
            rc = lore_query_next(q);
            if (rc == LORE_DONE)
                break;
        }
        if (rc < 0)
            check(lore_errmsg(kb)[0] != '\0', "a failed query without a message", kb);
        lore_query_free(q);
    }
    budget_stop();
    check(lore_size(kb) == facts, "a query changed the facts", kb);
    return 0;
}
