/* kb.c - the public API of terms, facts, iterators, transactions,
 * batches and prefixes: argument checks and messages around dict, store and
 * the prefix table, and the journal hooks of durable mode (every change is
 * journaled before it is applied, and taken back from the journal if it
 * then fails); loading a snapshot into a kb that already holds facts. */
#define LORE_BUILDING 1
#include "lore.h"

#include <stdio.h>
#include <string.h>

#include "fn.h"
#include "journal.h"
#include "kb.h"
#include "rules.h"
#include "snapshot.h"

/* Maps a store status to the handle's message. */
static int status(lore_kb *kb, int rc)
{
    if (rc == LORE_ERR_NOMEM)
        return ctx_nomem(&kb->ctx);
    if (rc == LORE_ERR_LIMIT)
        return ctx_fail(&kb->ctx, rc, "too many facts, terms or source sets");
    return rc;
}

/* ---- handles ---- */

void *lore_alloc_default(void *ud, void *ptr, size_t osize, size_t nsize)
{
    return mem_default(ud, ptr, osize, nsize);
}

int lore_kb_new(lore_kb **kbp, lore_alloc_fn alloc, void *ud)
{
    mem raw = {alloc ? alloc : mem_default, alloc ? ud : NULL};
    lore_kb *kb = mem_calloc(&raw, 1, sizeof *kb);
    *kbp = kb;
    if (!kb)
        return LORE_ERR_NOMEM;
    kb->raw = raw;
    kb->acct = (memacct){raw.fn, raw.ud, 0, 0, 0};
    kb->m = (mem){memacct_fn, &kb->acct};
    ctx_init(&kb->ctx, &kb->m);
    kb->ctx.acct = &kb->acct;
    dict_init(&kb->d, &kb->m);
    store_init(&kb->st, &kb->m);
    return LORE_OK;
}

void lore_kb_free(lore_kb *kb)
{
    if (!kb)
        return;
    if (kb->batch)
        lore_batch_free(kb->batch);
    journal_close(kb);
    rules_free(kb);
    fn_free(kb);
    store_free(&kb->st);
    dict_free(&kb->d);
    prefixes_free(&kb->m, &kb->px);
    mem m = kb->raw;
    mem_free(&m, kb, 1, sizeof *kb);
}

int lore_error(lore_kb *kb, int status, const char *msg)
{
    return ctx_fail(&kb->ctx, status, "%s", msg ? msg : lore_strerror(status));
}

const char *lore_errmsg(const lore_kb *kb)
{
    return kb ? kb->ctx.err : "no knowledge base";
}

void lore_kb_interrupt(lore_kb *kb)
{
    kb->ctx.interrupted = 1;
}

void lore_kb_clear_interrupt(lore_kb *kb)
{
    kb->ctx.interrupted = 0;
}

void lore_kb_watch(lore_kb *kb, const volatile sig_atomic_t *flag)
{
    kb->ctx.watch = flag;
}

void lore_kb_set_deadline(lore_kb *kb, uint64_t ms)
{
    ctx_set_deadline(&kb->ctx, ms);
}

void lore_kb_set_step_budget(lore_kb *kb, uint64_t steps)
{
    ctx_set_steps(&kb->ctx, steps);
}

void lore_kb_set_memory_cap(lore_kb *kb, size_t bytes)
{
    kb->acct.limit = bytes;
    kb->acct.over = 0;
}

size_t lore_kb_memory(const lore_kb *kb)
{
    return kb->acct.used;
}

/* ---- terms ---- */

static int value_error(lore_kb *kb, int rc, const char *fn, const char *why)
{
    if (rc == LORE_ERR_NOMEM)
        return ctx_nomem(&kb->ctx);
    if (rc == LORE_ERR_LIMIT)
        return ctx_fail(&kb->ctx, rc, "%s: expected %s", fn, why ? why : "fewer terms");
    return ctx_fail(&kb->ctx, rc, "%s: expected %s", fn, why ? why : "a valid value");
}

int lore_intern(lore_kb *kb, const lore_value *v, lore_id *id)
{
    ctx_clear(&kb->ctx);
    if (kb->ctx.busy)
        return ctx_busy(&kb->ctx, "lore_intern");
    const char *why = NULL;
    expansion x;
    const lore_value *ev = prefixes_expand_value(&kb->m, &kb->px, v, &x);
    if (!ev)
        return ctx_nomem(&kb->ctx);
    int rc = dict_intern(&kb->d, ev, id, &why);
    prefixes_expand_done(&kb->m, &x);
    return rc == LORE_OK ? rc : value_error(kb, rc, "lore_intern", why);
}

int lore_lookup(lore_kb *kb, const lore_value *v, lore_id *id)
{
    ctx_clear(&kb->ctx);
    const char *why = NULL;
    expansion x;
    const lore_value *ev = prefixes_expand_value(&kb->m, &kb->px, v, &x);
    if (!ev)
        return ctx_nomem(&kb->ctx);
    int rc = dict_lookup(&kb->d, ev, id, &why);
    prefixes_expand_done(&kb->m, &x);
    if (rc == LORE_OK || rc == LORE_ERR_NOTFOUND)
        return rc;
    return value_error(kb, rc, "lore_lookup", why);
}

int lore_term(const lore_kb *kb, lore_id id, lore_value *v)
{
    if (!dict_valid(&kb->d, id))
        return LORE_ERR_ARG;
    dict_get(&kb->d, id, v);
    return LORE_OK;
}

uint64_t lore_term_epoch(const lore_kb *kb)
{
    return kb->d.epoch;
}

size_t lore_term_count(const lore_kb *kb)
{
    return kb->d.n;
}

int lore_compare(const lore_kb *kb, lore_id a, lore_id b)
{
    return dict_compare(&kb->d, a, b);
}

/* ---- facts ---- */

static int check_ids(lore_kb *kb, const char *fn, lore_id s, lore_id p, lore_id o, int wild)
{
    const lore_id t[3] = {s, p, o};
    static const char *const pos[3] = {"subject", "predicate", "object"};
    for (int i = 0; i < 3; i++) {
        if (t[i] == 0 && wild)
            continue;
        if (!dict_valid(&kb->d, t[i]))
            return ctx_fail(&kb->ctx, LORE_ERR_ARG, "%s: %s is not a term id (%u)", fn, pos[i],
                            (unsigned)t[i]);
    }
    return LORE_OK;
}

int lore_add(lore_kb *kb, lore_id s, lore_id p, lore_id o, lore_id src)
{
    ctx_clear(&kb->ctx);
    if (kb->ctx.busy)
        return ctx_busy(&kb->ctx, "lore_add");
    int rc = check_ids(kb, "lore_add", s, p, o, 0);
    if (rc != LORE_OK)
        return rc;
    if (src != 0 && !dict_valid(&kb->d, src))
        return ctx_fail(&kb->ctx, LORE_ERR_ARG, "lore_add: source is not a term id (%u)",
                        (unsigned)src);
    if (!journal_on(kb))
        return status(kb, store_assert(&kb->st, s, p, o, src));
    if (store_has(&kb->st, s, p, o, src))
        return LORE_NOOP; /* nothing to journal */
    jop op = {.code = JOP_ADD, .s = s, .p = p, .o = o, .src = src};
    jmark mk;
    if ((rc = journal_log(kb, &op, &mk)) < 0)
        return rc;
    if ((rc = store_assert(&kb->st, s, p, o, src)) != LORE_OK)
        journal_cancel(kb, &mk);
    return status(kb, rc);
}

int lore_remove(lore_kb *kb, lore_id s, lore_id p, lore_id o, lore_id src)
{
    ctx_clear(&kb->ctx);
    if (kb->ctx.busy)
        return ctx_busy(&kb->ctx, "lore_remove");
    int rc = check_ids(kb, "lore_remove", s, p, o, 0);
    if (rc != LORE_OK)
        return rc;
    if (src != 0 && src != LORE_ANY_SOURCE && !dict_valid(&kb->d, src))
        return ctx_fail(&kb->ctx, LORE_ERR_ARG, "lore_remove: source is not a term id (%u)",
                        (unsigned)src);
    if (!journal_on(kb))
        return status(kb, store_unassert(&kb->st, s, p, o, src));
    if (!store_has(&kb->st, s, p, o, src))
        return LORE_NOOP;
    jop op = {.code = JOP_REMOVE, .s = s, .p = p, .o = o, .src = src};
    jmark mk;
    if ((rc = journal_log(kb, &op, &mk)) < 0)
        return rc;
    if ((rc = store_unassert(&kb->st, s, p, o, src)) != LORE_OK)
        journal_cancel(kb, &mk);
    return status(kb, rc);
}

int lore_retract_source(lore_kb *kb, lore_id src, size_t *removed)
{
    ctx_clear(&kb->ctx);
    if (removed)
        *removed = 0;
    if (kb->ctx.busy)
        return ctx_busy(&kb->ctx, "lore_retract_source");
    if (src != 0 && !dict_valid(&kb->d, src))
        return ctx_fail(&kb->ctx, LORE_ERR_ARG, "lore_retract_source: source is not a term id (%u)",
                        (unsigned)src);
    if (!journal_on(kb))
        return status(kb, store_retract_source(&kb->st, src, removed));
    jop op = {.code = JOP_RETRACT, .src = src};
    jmark mk;
    int rc = journal_log(kb, &op, &mk);
    if (rc < 0)
        return rc;
    if ((rc = store_retract_source(&kb->st, src, removed)) != LORE_OK)
        journal_cancel(kb, &mk); /* failed, or nothing had the source */
    return status(kb, rc);
}

size_t lore_size(const lore_kb *kb)
{
    return kb->st.nlive;
}

int lore_count(lore_kb *kb, lore_id s, lore_id p, lore_id o, uint64_t *n)
{
    ctx_clear(&kb->ctx);
    *n = 0;
    if (kb->ctx.busy)
        return ctx_busy(&kb->ctx, "lore_count");
    return status(kb, store_count(&kb->st, s, p, o, n));
}

int lore_fact(lore_kb *kb, lore_id s, lore_id p, lore_id o, lore_fact_info *info, lore_id *srcs,
              size_t cap)
{
    ctx_clear(&kb->ctx);
    memset(info, 0, sizeof *info);
    uint32_t meta = store_meta(&kb->st, s, p, o);
    if (meta == 0)
        return LORE_OK;
    info->present = 1;
    info->asserted = (meta & META_ASSERTED) != 0;
    info->derived = (meta & META_DERIVED) != 0;
    /* the default source (0) comes first in the sorted list */
    uint32_t first;
    size_t n = store_meta_sources(&kb->st, meta, &first, 1);
    info->in_default = n > 0 && first == 0;
    size_t skip = info->in_default ? 1 : 0;
    info->nsources = n - skip;
    if (cap && n > skip) {
        uint32_t buf[64];
        uint32_t *all = n <= 64 ? buf : mem_alloc(&kb->m, n, sizeof *all);
        if (!all)
            return ctx_nomem(&kb->ctx);
        store_meta_sources(&kb->st, meta, all, n);
        for (size_t i = 0; i < cap && i + skip < n; i++)
            srcs[i] = all[i + skip];
        if (all != buf)
            mem_free(&kb->m, all, n, sizeof *all);
    }
    return LORE_OK;
}

/* ---- iterators ---- */

struct lore_iter {
    lore_kb *kb;
    store_iter it;
    int flags; /* LORE_MATCH_*: only facts with these marks (0: all) */
};

int lore_match(lore_kb *kb, lore_id s, lore_id p, lore_id o, lore_iter **itp)
{
    ctx_clear(&kb->ctx);
    *itp = NULL;
    if (kb->ctx.busy)
        return ctx_busy(&kb->ctx, "lore_match");
    lore_iter *it = mem_alloc(&kb->m, 1, sizeof *it);
    if (!it)
        return ctx_nomem(&kb->ctx);
    it->kb = kb;
    it->flags = 0;
    int rc = store_iter_init(&kb->st, &it->it, s, p, o);
    if (rc != LORE_OK) {
        mem_free(&kb->m, it, 1, sizeof *it);
        return status(kb, rc);
    }
    *itp = it;
    return LORE_OK;
}

/* Does the fact have the marks the iterator asks for? */
static int wanted(const lore_iter *it, const lore_id t[3])
{
    uint32_t m = store_meta(&it->kb->st, t[0], t[1], t[2]);
    return ((it->flags & LORE_MATCH_ASSERTED) && (m & META_ASSERTED)) ||
           ((it->flags & LORE_MATCH_DERIVED) && (m & META_DERIVED));
}

int lore_iter_next(lore_iter *it, lore_id t[3])
{
    int rc;
    do
        rc = store_iter_next(&it->it, t);
    while (rc == LORE_OK && it->flags && !wanted(it, t));
    if (rc == LORE_ERR_CHANGED)
        ctx_fail(&it->kb->ctx, rc, "the knowledge base changed during iteration");
    return rc;
}

int lore_iter_read(lore_iter *it, lore_id *t, size_t cap, size_t *n)
{
    int rc;
    do {
        rc = store_iter_read(&it->it, t, cap, n);
        if (rc == LORE_OK && it->flags) {
            size_t w = 0;
            for (size_t i = 0; i < *n; i++)
                if (wanted(it, t + 3 * i))
                    memmove(t + 3 * w++, t + 3 * i, 3 * sizeof *t);
            *n = w;
        }
    } while (rc == LORE_OK && *n == 0);
    if (rc == LORE_ERR_CHANGED)
        ctx_fail(&it->kb->ctx, rc, "the knowledge base changed during iteration");
    return rc;
}

int lore_match_flags(lore_kb *kb, lore_id s, lore_id p, lore_id o, int flags, lore_iter **itp)
{
    if (flags & ~(LORE_MATCH_ASSERTED | LORE_MATCH_DERIVED)) {
        *itp = NULL;
        return ctx_fail(&kb->ctx, LORE_ERR_ARG, "lore_match_flags: unknown flags %d", flags);
    }
    int rc = lore_match(kb, s, p, o, itp);
    if (rc == LORE_OK)
        (*itp)->flags = flags;
    return rc;
}

void lore_iter_free(lore_iter *it)
{
    if (!it)
        return;
    mem m = it->kb->m;
    mem_free(&m, it, 1, sizeof *it);
}

/* ---- transactions ---- */

int lore_begin(lore_kb *kb)
{
    ctx_clear(&kb->ctx);
    if (kb->ctx.busy)
        return ctx_busy(&kb->ctx, "lore_begin");
    if (kb->st.in_txn)
        return ctx_fail(&kb->ctx, LORE_ERR_STATE, "lore_begin: a transaction is already open");
    return store_begin(&kb->st);
}

int lore_commit(lore_kb *kb)
{
    ctx_clear(&kb->ctx);
    if (kb->ctx.busy)
        return ctx_busy(&kb->ctx, "lore_commit");
    if (!kb->st.in_txn)
        return ctx_fail(&kb->ctx, LORE_ERR_STATE, "lore_commit: no transaction is open");
    if (journal_on(kb)) {
        int rc = journal_commit(kb); /* the whole transaction, one record */
        if (rc < 0)
            return rc; /* still open: the caller may retry or roll back */
    }
    store_commit(&kb->st);
    return LORE_OK;
}

int lore_rollback(lore_kb *kb)
{
    ctx_clear(&kb->ctx);
    if (kb->ctx.busy)
        return ctx_busy(&kb->ctx, "lore_rollback");
    if (!kb->st.in_txn)
        return ctx_fail(&kb->ctx, LORE_ERR_STATE, "lore_rollback: no transaction is open");
    if (journal_on(kb))
        journal_rollback(kb);
    store_rollback(&kb->st);
    return LORE_OK;
}

int lore_in_transaction(const lore_kb *kb)
{
    return kb->st.in_txn;
}

/* ---- batches ---- */

struct lore_batch {
    lore_kb *kb;
    dict_mark mark;
    uint32_t *rows; /* 4 ids per fact: s, p, o, meta */
    size_t n, cap;
};

int lore_batch_new(lore_kb *kb, lore_batch **bp)
{
    ctx_clear(&kb->ctx);
    *bp = NULL;
    if (kb->ctx.busy)
        return ctx_busy(&kb->ctx, "lore_batch_new");
    lore_batch *b = mem_calloc(&kb->m, 1, sizeof *b);
    if (!b)
        return ctx_nomem(&kb->ctx);
    b->kb = kb;
    b->mark = dict_mark_get(&kb->d);
    kb->batch = b;
    kb->ctx.busy = 1;
    *bp = b;
    return LORE_OK;
}

int lore_batch_intern(lore_batch *b, const lore_value *v, lore_id *id)
{
    const char *why = NULL;
    expansion x;
    const lore_value *ev = prefixes_expand_value(&b->kb->m, &b->kb->px, v, &x);
    if (!ev)
        return ctx_nomem(&b->kb->ctx);
    int rc = dict_intern(&b->kb->d, ev, id, &why);
    prefixes_expand_done(&b->kb->m, &x);
    return rc == LORE_OK ? rc : value_error(b->kb, rc, "lore_batch_intern", why);
}

int lore_batch_add(lore_batch *b, lore_id s, lore_id p, lore_id o, lore_id src)
{
    lore_kb *kb = b->kb;
    if (check_ids(kb, "lore_batch_add", s, p, o, 0) != LORE_OK)
        return LORE_ERR_ARG;
    if (src != 0 && !dict_valid(&kb->d, src))
        return ctx_fail(&kb->ctx, LORE_ERR_ARG, "lore_batch_add: source is not a term id (%u)",
                        (unsigned)src);
    if (src > META_PAYLOAD)
        return ctx_fail(&kb->ctx, LORE_ERR_LIMIT, "lore_batch_add: source id over 2^29");
    /* cap counts ids, 4 per fact */
    if (mem_reserve(&kb->m, (void **)&b->rows, &b->cap, 4 * (b->n + 1), sizeof *b->rows) != 0)
        return ctx_nomem(&kb->ctx);
    uint32_t *r = b->rows + 4 * b->n++;
    r[0] = s, r[1] = p, r[2] = o, r[3] = META_ASSERTED | src;
    return LORE_OK;
}

size_t lore_batch_size(const lore_batch *b)
{
    return b->n;
}

static void batch_release(lore_batch *b)
{
    lore_kb *kb = b->kb;
    mem_free(&kb->m, b->rows, b->cap, sizeof *b->rows);
    kb->batch = NULL;
    kb->ctx.busy = 0;
    mem_free(&kb->m, b, 1, sizeof *b);
}

int lore_batch_commit(lore_batch *b, size_t *added)
{
    lore_kb *kb = b->kb;
    ctx_clear(&kb->ctx);
    int rc = journal_merge_rows(kb, b->mark, b->rows, b->n, added);
    batch_release(b);
    return rc;
}

void lore_batch_free(lore_batch *b)
{
    if (!b)
        return;
    dict_rollback(&b->kb->d, b->mark);
    batch_release(b);
}

/* ---- prefixes: the table is prefix.c's; changes are journaled here ---- */

/* Binds or unbinds (iri NULL) a prefix, journaled first in durable mode.
 * A change of the table changes what names mean, so the term epoch moves
 * (hosts caching name -> id drop their caches). */
static int prefix_change(lore_kb *kb, const char *fn, const char *name, const char *iri)
{
    size_t nlen = strlen(name), ilen = iri ? strlen(iri) : 0;
    const char *why = NULL;
    /* checked before journaling: the journal holds only valid bindings */
    if (iri && prefixes_check(name, nlen, iri, ilen, &why) != LORE_OK)
        return ctx_fail(&kb->ctx, LORE_ERR_ARG, "%s: expected %s", fn, why);
    const prefix *cur = prefixes_find(&kb->px, name, nlen);
    if (iri ? (cur && cur->ilen == ilen && memcmp(cur->iri, iri, ilen) == 0) : !cur)
        return LORE_NOOP;
    jmark mk;
    int logged = 0, rc;
    if (journal_on(kb)) {
        jop op = {.code = JOP_PREFIX, .name = name, .nlen = nlen, .iri = iri, .ilen = ilen,
                  .outside = 1};
        if ((rc = journal_log(kb, &op, &mk)) < 0)
            return rc;
        logged = 1;
    }
    rc = iri ? prefixes_set(&kb->m, &kb->px, name, nlen, iri, ilen, &why)
             : prefixes_remove(&kb->m, &kb->px, name, nlen);
    if (rc != LORE_OK && logged)
        journal_cancel(kb, &mk);
    if (rc == LORE_ERR_NOMEM)
        return ctx_nomem(&kb->ctx);
    if (rc == LORE_ERR_ARG)
        return ctx_fail(&kb->ctx, rc, "%s: expected %s", fn, why ? why : "a valid binding");
    if (rc == LORE_OK)
        kb->d.epoch++;
    return rc;
}

int lore_prefix_set(lore_kb *kb, const char *name, const char *iri)
{
    ctx_clear(&kb->ctx);
    if (kb->ctx.busy)
        return ctx_busy(&kb->ctx, "lore_prefix_set");
    if (!name || !iri)
        return ctx_fail(&kb->ctx, LORE_ERR_ARG, "lore_prefix_set: expected a name and an IRI");
    return prefix_change(kb, "lore_prefix_set", name, iri);
}

int lore_prefix_remove(lore_kb *kb, const char *name)
{
    ctx_clear(&kb->ctx);
    if (kb->ctx.busy)
        return ctx_busy(&kb->ctx, "lore_prefix_remove");
    if (!name)
        return ctx_fail(&kb->ctx, LORE_ERR_ARG, "lore_prefix_remove: expected a name");
    return prefix_change(kb, "lore_prefix_remove", name, NULL);
}

const char *lore_prefix_get(const lore_kb *kb, const char *name)
{
    const prefix *p = name ? prefixes_find(&kb->px, name, strlen(name)) : NULL;
    return p ? p->iri : NULL;
}

size_t lore_prefix_count(const lore_kb *kb)
{
    return kb->px.n;
}

int lore_prefix_at(const lore_kb *kb, size_t i, const char **name, const char **iri)
{
    if (i >= kb->px.n)
        return LORE_ERR_ARG;
    if (name)
        *name = kb->px.v[i].name;
    if (iri)
        *iri = kb->px.v[i].iri;
    return LORE_OK;
}

size_t lore_compact(const lore_kb *kb, const char *sym, size_t len, char *buf, size_t cap)
{
    if (!sym)
        return 0;
    return prefixes_compact(&kb->px, sym, len, buf, cap);
}

/* ---- snapshots merged into a kb that holds facts ---- */

int lore_load_snapshot(lore_kb *kb, const char *path, size_t *added)
{
    ctx_clear(&kb->ctx);
    if (added)
        *added = 0;
    if (kb->ctx.busy)
        return ctx_busy(&kb->ctx, "lore_load_snapshot");
    if (!path || !*path)
        return ctx_fail(&kb->ctx, LORE_ERR_ARG, "lore_load_snapshot: expected a file name");
    if (kb->d.n == 0 && !kb->st.in_txn && !journal_on(kb)) {
        /* an empty kb takes the snapshot's rows as they are */
        int rc = snapshot_read_file(kb, path, NULL, NULL);
        if (rc == LORE_OK && added)
            *added = kb->st.nlive;
        return rc;
    }
    lore_kb *from;
    if (lore_kb_new(&from, kb->m.fn, kb->m.ud) != LORE_OK)
        return ctx_nomem(&kb->ctx);
    int rc = snapshot_read_file(from, path, NULL, NULL);
    if (rc != LORE_OK)
        ctx_fail(&kb->ctx, rc, "%s", from->ctx.err);
    else
        rc = snapshot_merge(kb, from, added);
    /* then the file's prefixes, as a loaded Turtle file's are (journaled) */
    for (size_t i = 0; rc == LORE_OK && i < from->px.n; i++) {
        int prc = lore_prefix_set(kb, from->px.v[i].name, from->px.v[i].iri);
        if (prc < 0)
            rc = prc;
    }
    lore_kb_free(from);
    return rc;
}
