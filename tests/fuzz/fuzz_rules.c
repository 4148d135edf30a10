/* fuzz_rules.c - libFuzzer target for the text form of rules: the input
 * is one rule ("name: head :- body") added to a small knowledge base and
 * inferred from, with a cap on derived facts and a CPU budget.  Checked besides memory
 * safety and the C stack: a refused rule returns a negative status with
 * a message and leaves the knowledge base as it was (no rule, the same
 * facts); an accepted one infers and can be removed again. */
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
        check(lore_rule_remove(kb, id) >= 0, "the rule cannot be removed", kb);
        check(lore_rule_count(kb) == 0, "the rule is still there", kb);
    }
    budget_stop();
    lore_kb_free(kb);
    return 0;
}
