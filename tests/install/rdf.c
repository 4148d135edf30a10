/* rdf.c - a program that reads Turtle through lore.h: linked statically, it
 * needs serd, so it checks that the static link line names it. */
#include <lore.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
    static const char ttl[] = "@prefix ex: <http://example.org/> .\n"
                              "ex:nato ex:held ex:summit_2024 ; ex:members 32 .\n";
    lore_kb *kb;
    if (lore_kb_new(&kb, NULL, NULL) != LORE_OK)
        return 1;
    lore_load_opts o = {LORE_FORMAT_TURTLE, NULL, NULL, NULL, NULL};
    lore_load_info info;
    int rc = lore_import_string(kb, ttl, strlen(ttl), "inline", &o, &info);
    if (rc != LORE_OK) {
        fprintf(stderr, "rdf: %s\n", lore_errmsg(kb));
        lore_kb_free(kb);
        return 1;
    }
    printf("%s: %zu facts from Turtle, prefix ex = %s\n", LORE_VERSION, lore_size(kb),
           lore_prefix_get(kb, "ex"));
    lore_kb_free(kb);
    return 0;
}
