/* ctx.c - the per-kb context: messages, out-of-memory, busy and interrupt
 * reports that every layer makes without calling the facade, and the text
 * of each status (lore_strerror). */
#include "ctx.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

void *memacct_fn(void *ud, void *ptr, size_t osize, size_t nsize)
{
    memacct *a = ud;
    if (!ptr)
        osize = 0; /* a new block: Lua's convention puts a type tag there */
    if (nsize > osize && a->limit && a->used + (nsize - osize) > a->limit) {
        a->over = 1;
        return NULL;
    }
    void *p = a->fn(a->ud, ptr, osize, nsize);
    if (p || nsize == 0)
        a->used = a->used + nsize - osize;
    return p;
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

void ctx_init(ctx *c, const mem *m)
{
    c->m = m;
    c->interrupted = 0;
    c->watch = NULL;
    c->busy = 0;
    c->acct = NULL;
    c->deadline = c->deadline_ms = 0;
    c->polls = c->poll_limit = c->steps = 0;
    c->err[0] = '\0';
}

void ctx_set_deadline(ctx *c, uint64_t ms)
{
    c->deadline_ms = ms;
    c->deadline = ms ? now_ns() + ms * 1000000u : 0;
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
    if (c->acct && c->acct->over)
        return ctx_fail(c, LORE_ERR_NOMEM, "memory cap reached (%zu MiB)",
                        (c->acct->limit + (1u << 20) - 1) >> 20);
    return ctx_fail(c, LORE_ERR_NOMEM, "out of memory");
}

int ctx_busy(ctx *c, const char *fn)
{
    return ctx_fail(c, LORE_ERR_STATE, "%s: a batch is open on this knowledge base", fn);
}

void ctx_set_steps(ctx *c, uint64_t steps)
{
    /* long loops poll about every thousand steps */
    c->steps = steps;
    c->polls = 0;
    c->poll_limit = steps ? (steps + 1023) / 1024 : 0;
}

int ctx_poll(ctx *c)
{
    if (c->poll_limit && ++c->polls > c->poll_limit)
        return ctx_fail(c, LORE_ERR_INTERRUPT, "step budget exhausted (%llu)",
                        (unsigned long long)c->steps);
    if (c->deadline && now_ns() >= c->deadline)
        return ctx_fail(c, LORE_ERR_INTERRUPT, "deadline reached (%llu ms)",
                        (unsigned long long)c->deadline_ms);
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
