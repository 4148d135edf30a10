/* ctx.c - the per-kb context: messages, out-of-memory, busy and interrupt
 * reports that every layer makes without calling the facade, and the text
 * of each status (lore_strerror). */
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

const char *lore_strerror(int status)
{
    switch (status) {
    case LORE_OK: return "ok";
    case LORE_DONE: return "no more rows";
    case LORE_NOOP: return "nothing changed";
    case LORE_WARN: return "success, with a warning";
    case LORE_ERR_NOMEM: return "out of memory";
    case LORE_ERR_ARG: return "bad argument";
    case LORE_ERR_NOTFOUND: return "not found";
    case LORE_ERR_CHANGED: return "knowledge base changed during iteration";
    case LORE_ERR_SYNTAX: return "syntax error";
    case LORE_ERR_IO: return "input/output error";
    case LORE_ERR_CORRUPT: return "corrupt file";
    case LORE_ERR_LIMIT: return "limit reached";
    case LORE_ERR_INTERRUPT: return "interrupted";
    case LORE_ERR_STATE: return "not valid in this state";
    case LORE_ERR_RULE: return "invalid rule";
    case LORE_ERR_CALLBACK: return "a callback failed";
    default: return "unknown status";
    }
}
