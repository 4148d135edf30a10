/* rdfread.h - what the RDF readers share besides the loader: progress
 * reporting and interruption while input is read. */
#ifndef LORE_RDFREAD_H
#define LORE_RDFREAD_H

#include "kb.h"

/* Called as input is read (bytes so far of total, facts so far): calls
 * `progress` when `bytes` passed *next (then moves *next a mebibyte on)
 * or at the end of input (`last`).  Returns 1 if the load must stop: kb
 * was interrupted or the callback asked to stop. */
int rdfread_tick(lore_kb *kb, lore_progress_fn progress, void *ud, uint64_t bytes, uint64_t total,
                 uint64_t facts, uint64_t *next, int last);

#endif
