/* closure.h - the transitive closure of one binary relation, all pairs at
 * once: Tarjan's strongly connected components, then, in reverse
 * topological order, each component's reachable set as the sorted union of
 * its successors' sets.  Work and memory are proportional to the closure's
 * size, and sharing through components makes cycles cheap.
 *
 * Invariants of a computed closure:
 *  - nodes[] holds every node that has an outgoing edge, in increasing id;
 *  - reach(i) is the sorted, duplicate-free set of ids y such that a path of
 *    one or more edges leads from nodes[i] to y (y == nodes[i] only when it
 *    lies on a cycle);
 *  - total is the sum of the sizes of every reach(i). */
#ifndef LORE_CLOSURE_H
#define LORE_CLOSURE_H

#include "mem.h"

typedef struct closure closure;

/* Computes the closure of `n` edges (from, to), given as 2n ids (any
 * order, duplicates allowed, ids non-zero).  poll(ud) (poll may be NULL)
 * is called in long loops; when it returns non-zero the computation stops
 * with LORE_ERR_INTERRUPT.  Returns LORE_OK, LORE_ERR_NOMEM,
 * LORE_ERR_INTERRUPT; on failure *out is NULL. */
int closure_compute(const mem *m, const uint32_t *edges, size_t n, int (*poll)(void *),
                    void *ud, closure **out);

/* The number of nodes with an outgoing edge, and pairs in the closure. */
size_t closure_nodes(const closure *c);
size_t closure_total(const closure *c);

/* Node i (0 <= i < closure_nodes) and its reachable set (valid until
 * closure_free). */
uint32_t closure_node(const closure *c, size_t i, const uint32_t **reach, size_t *nreach);

/* The reachable set of node id x (empty if x has no outgoing edge). */
const uint32_t *closure_of(const closure *c, uint32_t x, size_t *nreach);

void closure_free(closure *c);

#endif
