/* fuzz_journal.c - fuzz target of the journal reader: arbitrary bytes
 * replayed onto an empty kb, with checksums checked and then skipped (so
 * that mutations reach the record decoder).  Whatever it does, the store's
 * invariants must hold and a clean status come back. */
#include <stdint.h>
#include <stdlib.h>

#include "journal.h"
#include "kb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int pass = 0; pass < 2; pass++) {
        lore_kb *kb;
        if (lore_kb_new(&kb, NULL, NULL) != LORE_OK)
            return 0;
        size_t end;
        int stale;
        int rc = journal_replay(kb, data, size, "fuzz", JR_ANYGEN | (pass ? JR_NOCHECK : 0), 0,
                                &end, &stale);
        if (rc != LORE_OK && rc != LORE_WARN && rc != LORE_ERR_CORRUPT && rc != LORE_ERR_NOMEM &&
            rc != LORE_ERR_LIMIT)
            abort();
        if (end > size || (rc != LORE_OK && kb->ctx.err[0] == '\0'))
            abort();
        if (store_check(&kb->st) != NULL)
            abort();
        lore_kb_free(kb);
    }
    return 0;
}
