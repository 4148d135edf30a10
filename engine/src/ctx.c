/* ctx.c - the per-kb context: messages, out-of-memory, busy and interrupt
 * reports that every layer makes without calling the facade. */
#include "ctx.h"

#include <stdarg.h>
#include <stdio.h>

void ctx_init(ctx *c, const mem *m)
{
    c->m = m;
    c->interrupted = 0;
    c->watch = NULL;
    c->busy = 0;
    c->err[0] = '\0';
}

int ctx_fail(ctx *c, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    return status;
}

int ctx_nomem(ctx *c)
{
    return ctx_fail(c, LORE_ERR_NOMEM, "out of memory");
}

int ctx_busy(ctx *c, const char *fn)
{
    return ctx_fail(c, LORE_ERR_STATE, "%s: a batch is open on this knowledge base", fn);
}

int ctx_poll(ctx *c)
{
    if (!c->interrupted && !(c->watch && *c->watch))
        return LORE_OK;
    c->interrupted = 0;
    return ctx_fail(c, LORE_ERR_INTERRUPT, "interrupted");
}
