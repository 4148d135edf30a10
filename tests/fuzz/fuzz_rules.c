/* fuzz_rules.c - libFuzzer target for the text form of rules: the input
 * is one rule ("name: head :- body") added to a small knowledge base and
 * inferred from, with a cap on derived facts and a CPU budget.  Checked besides memory
 * safety and the C stack: a refused rule returns a negative status with
 * a message and leaves the knowledge base as it was (no rule, the same
 * facts); an accepted one infers, keeps its facts up through two rounds
 * of changes (facts removed, added, a source retracted) exactly as
 * inferring from scratch would, and can be removed again. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lore.h"

#include "budget.h"

static void check(int ok, const char *what, lore_kb *kb)
{
    if (!ok) {
        fprintf(stderr, "fuzz_rules: %s (%s)\n", what, kb ? lore_errmsg(kb) : "");
        abort();
    }
}

static lore_id sym(lore_kb *kb, const char *s)
{
    lore_value v = lore_symbol(s);
    lore_id id;
    check(lore_intern(kb, &v, &id) == LORE_OK, "intern", kb);
    return id;
}

/* The derived facts, sorted (*n of them; NULL when none or no memory). */
static lore_id *derived(lore_kb *kb, size_t *n)
{
    lore_iter *it;
    lore_id *v = NULL, t[3];
    size_t cap = 0;
    *n = 0;
    if (lore_match_flags(kb, 0, 0, 0, LORE_MATCH_DERIVED, &it) != LORE_OK)
        return NULL;
    while (lore_iter_next(it, t) == LORE_OK) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            lore_id *w = realloc(v, 3 * cap * sizeof *v);
            check(w != NULL, "memory", kb);
            v = w;
        }
        memcpy(v + 3 * (*n)++, t, sizeof t);
    }
    lore_iter_free(it);
    return v;
}

static int cmp3(const void *a, const void *b)
{
    const lore_id *x = a, *y = b;
    for (int k = 0; k < 3; k++)
        if (x[k] != y[k])
            return x[k] < y[k] ? -1 : 1;
    return 0;
}

/* After a change: what upkeep derived equals what inferring from scratch
 * derives (both inferences finished: a cap or the budget may stop one). */
static void same_as_scratch(lore_kb *kb)
{
    if (lore_infer(kb, NULL) != LORE_OK)
        return;
    size_t n1, n2;
    lore_id *a = derived(kb, &n1);
    if (lore_clear_derived(kb, NULL) >= 0 && lore_infer(kb, NULL) == LORE_OK) {
        lore_id *b = derived(kb, &n2);
        if (n1 > 1)
            qsort(a, n1, 3 * sizeof *a, cmp3);
        if (n2 > 1)
            qsort(b, n2, 3 * sizeof *b, cmp3);
        check(n1 == n2 && (n1 == 0 || memcmp(a, b, 3 * n1 * sizeof *a) == 0),
              "upkeep differs from inferring from scratch", kb);
        free(b);
    }
    free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lore_kb *kb;
    check(lore_kb_new(&kb, NULL, NULL) == LORE_OK, "kb", NULL);
    lore_id p = sym(kb, "p"), q = sym(kb, "q");
    static const char *const names[] = {"a", "b", "c", "d"};
    for (int i = 0; i < 3; i++) {
        check(lore_add(kb, sym(kb, names[i]), p, sym(kb, names[i + 1]), 0) >= 0, "add", kb);
        lore_value n = lore_integer(i);
        lore_id id;
        check(lore_intern(kb, &n, &id) == LORE_OK, "intern", kb);
        check(lore_add(kb, sym(kb, names[i]), q, id, 0) >= 0, "add", kb);
    }
    size_t facts = lore_size(kb);
    uint32_t id = 0;
    budget_start(kb);
    int rc = lore_rule_add(kb, (const char *)data, size, NULL, &id);
    if (rc < 0) {
        check(lore_errmsg(kb)[0] != '\0', "a refused rule without a message", kb);
        check(lore_rule_count(kb) == 0 && lore_size(kb) == facts, "a refused rule changed", kb);
    } else {
        check(lore_rule_count(kb) == 1, "the rule is not there", kb);
        lore_infer_limit(kb, 4096);
        lore_infer_stats st;
        rc = lore_infer(kb, &st);
        check(rc >= 0 || lore_errmsg(kb)[0] != '\0', "a failed inference without a message", kb);
        if (rc == LORE_OK) {
            /* a chain edge goes, a cycle closes, a number moves, a source's facts come */
            lore_id s1 = sym(kb, "s1"), a = sym(kb, "a"), b = sym(kb, "b"), c = sym(kb, "c"),
                    d = sym(kb, "d");
            lore_value two = lore_integer(2);
            lore_id n2;
            check(lore_intern(kb, &two, &n2) == LORE_OK, "intern", kb);
            check(lore_remove(kb, b, p, c, LORE_ANY_SOURCE) >= 0, "remove", kb);
            check(lore_add(kb, d, p, a, 0) >= 0, "add", kb);
            check(lore_add(kb, d, q, n2, s1) >= 0 && lore_add(kb, c, p, a, s1) >= 0, "add", kb);
            same_as_scratch(kb);
            /* back, and the source's facts go */
            check(lore_add(kb, b, p, c, 0) >= 0, "add", kb);
            check(lore_remove(kb, d, p, a, LORE_ANY_SOURCE) >= 0, "remove", kb);
            check(lore_retract_source(kb, s1, NULL) >= 0, "retract", kb);
            same_as_scratch(kb);
        }
        check(lore_rule_remove(kb, id) >= 0, "the rule cannot be removed", kb);
        check(lore_rule_count(kb) == 0, "the rule is still there", kb);
    }
    budget_stop();
    lore_kb_free(kb);
    return 0;
}
