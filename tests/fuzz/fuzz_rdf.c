/* fuzz_rdf.c - libFuzzer target for the RDF adapter: the first byte picks
 * the format (its value mod 4: N-Triples, N-Quads, Turtle, TriG), the
 * rest is the document.  Checked besides memory safety: a failed load
 * leaves the knowledge base as it was; a successful one writes out, reads
 * back and writes out again to the same bytes (lore -> RDF -> lore is the
 * identity, and output is deterministic). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lore.h"

#include "../c/membuf.h"

static void check(int ok, const char *what, lore_kb *kb)
{
    if (!ok) {
        fprintf(stderr, "fuzz_rdf: %s (%s)\n", what, kb ? lore_errmsg(kb) : "");
        abort();
    }
}

static membuf dump(lore_kb *kb, lore_format f)
{
    membuf b = {NULL, 0, 0};
    check(lore_export_to(kb, f, mem_write, &b, NULL) == LORE_OK, "export", kb);
    mem_write(&b, "", 0);
    return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const lore_format formats[4] = {LORE_FORMAT_NTRIPLES, LORE_FORMAT_NQUADS,
                                           LORE_FORMAT_TURTLE, LORE_FORMAT_TRIG};
    if (size < 1)
        return 0;
    lore_format f = formats[data[0] % 4];
    lore_kb *kb;
    check(lore_kb_new(&kb, NULL, NULL) == LORE_OK, "kb", NULL);
    /* something already there, which a failed load must not touch */
    lore_load_opts o = {LORE_FORMAT_NTRIPLES, NULL, NULL, NULL, NULL};
    const char *seed = "_:b0 <http://e/p> \"x\" .\n<urn:lore:n> <http://e/p> _:b1 .\n";
    check(lore_import_string(kb, seed, strlen(seed), "seed", &o, NULL) == LORE_OK, "seed", kb);
    size_t terms = lore_term_count(kb), facts = lore_size(kb);
    membuf before = dump(kb, LORE_FORMAT_NQUADS);
    o.format = f;
    int rc = lore_import_string(kb, (const char *)data + 1, size - 1, "fuzz", &o, NULL);
    if (rc != LORE_OK) {
        check(rc == LORE_ERR_SYNTAX || rc == LORE_ERR_LIMIT, "unexpected status", kb);
        check(strncmp(lore_errmsg(kb), "fuzz:", 5) == 0, "message names the input", kb);
        check(lore_term_count(kb) == terms && lore_size(kb) == facts, "failed load changed kb", kb);
        membuf after = dump(kb, LORE_FORMAT_NQUADS);
        check(strcmp(before.p, after.p) == 0, "failed load changed the facts", kb);
        free(after.p);
    } else {
        membuf one = dump(kb, f);
        lore_kb *kb2;
        check(lore_kb_new(&kb2, NULL, NULL) == LORE_OK, "kb", NULL);
        rc = lore_import_string(kb2, one.p, one.n, "again", &o, NULL);
        if (rc != LORE_OK) {
            fprintf(stderr, "---- written:\n%s----\n", one.p);
            check(0, "lore's own output does not read back", kb2);
        }
        membuf two = dump(kb2, f);
        if (strcmp(one.p, two.p) != 0) {
            fprintf(stderr, "---- first:\n%s---- second:\n%s----\n", one.p, two.p);
            check(0, "written twice, different bytes", NULL);
        }
        if (f == LORE_FORMAT_TRIG) { /* sources too, written the other way */
            membuf j1 = dump(kb, LORE_FORMAT_NQUADS), j2 = dump(kb2, LORE_FORMAT_NQUADS);
            check(strcmp(j1.p, j2.p) == 0, "stores differ after a round trip", NULL);
            free(j1.p), free(j2.p);
        }
        free(one.p), free(two.p);
        lore_kb_free(kb2);
    }
    free(before.p);
    lore_kb_free(kb);
    return 0;
}
