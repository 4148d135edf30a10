/* fuzz_snapshot.c - fuzz target of the snapshot reader: arbitrary bytes
 * restored with checksums checked, then again with checksums skipped so
 * that mutations reach the decoder itself.  A refused input must leave the
 * kb empty; an accepted one must give a store whose invariants hold, that
 * reads back, and that merges into another kb. */
#include <stdint.h>
#include <stdlib.h>

#include "kb.h"
#include "snapshot.h"

static void use(lore_kb *kb)
{
    if (store_check(&kb->st) != NULL)
        abort();
    lore_iter *it;
    lore_id t[3];
    size_t n = 0;
    if (lore_match(kb, 0, 0, 0, &it) != LORE_OK)
        return;
    while (lore_iter_next(it, t) == LORE_OK) {
        lore_fact_info info;
        lore_id srcs[8];
        if (lore_fact(kb, t[0], t[1], t[2], &info, srcs, 8) != LORE_OK || !info.present)
            abort();
        n++;
    }
    lore_iter_free(it);
    if (n != lore_size(kb))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int pass = 0; pass < 2; pass++) {
        lore_kb *kb, *into;
        if (lore_kb_new(&kb, NULL, NULL) != LORE_OK)
            return 0;
        int rc = snapshot_restore(kb, data, size, "fuzz", pass ? SNAP_NOCHECK : 0, NULL);
        if (rc == LORE_OK) {
            use(kb);
            if (lore_kb_new(&into, NULL, NULL) == LORE_OK) {
                lore_value v = lore_symbol("x");
                lore_id x;
                if (lore_intern(into, &v, &x) == LORE_OK && lore_add(into, x, x, x, 0) == LORE_OK &&
                    snapshot_merge(into, kb, NULL) == LORE_OK)
                    use(into);
                lore_kb_free(into);
            }
        } else if (rc != LORE_ERR_CORRUPT && rc != LORE_ERR_NOMEM && rc != LORE_ERR_LIMIT) {
            abort();
        } else if (lore_term_count(kb) != 0 || lore_size(kb) != 0 || kb->ctx.err[0] == '\0') {
            abort(); /* refused: empty again, and saying why */
        }
        lore_kb_free(kb);
    }
    return 0;
}
