/* test_header.c - lore.h must compile on its own, warning-free at the
 * strictest settings; this file is built with -Werror. */
#include "lore.h"

int lore_header_compiles(void);
int lore_header_compiles(void)
{
    lore_value v = lore_symbol("x");
    return (int)v.kind + LORE_OK;
}
