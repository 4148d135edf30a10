/* loader.h - the bulk path every RDF reader feeds: terms interned straight
 * into the dictionary (with caches for the repeated subject, predicate
 * and graph), facts queued as rows of 3 ids (4 once a second source
 * appears), and one sorted merge into the store at the end.
 *
 * Invariants:
 *  - while a loader is open, the kb is busy (ctx.busy, as under a batch),
 *    so every other call on kb refuses (LORE_ERR_STATE), and `mark` is
 *    where loader_abort rolls the dictionary back to;
 *  - rows hold nrows facts of `stride` ids: (s, p, o) with source
 *    first_src when stride is 3, (s, p, o, ASSERTED | source) when 4;
 *  - nothing in the store or the prefix table changes before
 *    loader_commit, which either applies everything or nothing. */
#ifndef LORE_LOADER_H
#define LORE_LOADER_H

#include "kb.h"
#include "prefix.h"
#include "rdfterm.h"

enum { PCACHE = 32 };

typedef struct name_cache {
    uint32_t id; /* 0: empty */
    sbuf raw;    /* the node as the parser gave it */
    int type;
} name_cache;

typedef struct blank_slot {
    uint32_t hash, id; /* id 0: empty */
    size_t off, len;   /* label in blank_labels */
} blank_slot;

typedef struct loader {
    lore_kb *kb;
    dict_mark mark; /* the dictionary before the load */
    int stride, turtle;
    uint32_t *rows;
    size_t nrows, cap; /* cap in ids */
    uint32_t src, first_src, default_src;
    sbuf key, tmp, lex;
    name_cache subj, graph;
    name_cache pred[PCACHE];
    blank_slot *blanks;
    size_t nblanks, blankcap;
    sbuf blank_labels;
    uint32_t renames; /* counter for renamed blank labels */
    prefixes px;      /* bindings read from the file, applied at commit */
    uint64_t statements;
} loader;

/* Opens a loader on kb (which must have no open batch).  `turtle`: blank
 * labels come from serd's Turtle/TriG reader (see rdfterm.h).
 * default_src: the source of facts outside any graph (NULL: the default
 * source), interned by the load.  LORE_OK, or a failure with kb's message
 * set (then the loader is closed). */
int loader_begin(loader *ld, lore_kb *kb, int turtle, const lore_value *default_src);

/* Sets the graph of the next triples (NULL or RDF_NONE: default graph). */
int loader_graph(loader *ld, const rdf_node *g);

/* Queues one triple.  LORE_OK or a failure (message set, without a
 * position: the reader adds it). */
int loader_triple(loader *ld, const rdf_node *s, const rdf_node *p, const rdf_node *o);

/* Records a prefix binding read from the file (applied at commit;
 * bindings lore cannot keep are skipped). */
int loader_prefix(loader *ld, const char *name, size_t nlen, const char *iri, size_t ilen);

/* Adds everything and closes the loader; on failure nothing changed and
 * the loader is closed all the same. */
int loader_commit(loader *ld, size_t *added);

/* Closes the loader, undoing every term it interned. */
void loader_abort(loader *ld);

#endif
