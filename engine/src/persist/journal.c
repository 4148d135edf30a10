/* journal.c - durable mode: opening a knowledge base from its snapshot and
 * journal, journaling each change before it is acknowledged, checkpoints,
 * and the sync policies.
 *
 * The journal is the file PATH-journal beside the snapshot PATH.  Layout
 * (little-endian):
 *
 *   header, 32 bytes: magic "\x89LORJ\r\n\x1a" (8) | u32 version (1)
 *     | u32 flags (0) | u64 generation of the snapshot it follows
 *     | u32 reserved (0) | u32 CRC-32C of the 28 bytes before
 *   records, each: u32 payload length | u32 CRC-32C of the payload
 *     | u32 CRC-32C of the 8 bytes before | payload
 *   payload: u8 type (1: changes) | varint id of its first new term
 *     | varint number of new terms | the terms (term_put) | varint number
 *     of changes | the changes, each a u8 code and varints:
 *       1 add s p o src   2 remove s p o src (0xffffffff: every source)
 *       3 retract src     4 bulk n, then n times s p o meta
 *       5 derive s p o mark (1: set the DERIVED mark, 0: clear it)
 *       6 rule: varint name length, name, varint text length, text (a rule
 *         added, in the text form)   7 unrule: varint length, name
 *
 * A record is one acknowledged call: a change, a batch, or a whole
 * transaction (so replay gives all of a transaction or none of it).  A
 * record cut short or failing a checksum is the torn last write of a crash
 * when no whole, valid record follows it: it was never acknowledged, and
 * is discarded with a warning.  If whole records follow, it is corruption
 * before the last record, an error.
 *
 * Checkpoint: the new snapshot (generation g + 1) replaces the old one
 * atomically, then the journal is emptied and given a header naming g + 1.
 * A crash in between leaves a journal naming g beside a snapshot of
 * g + 1: it is already folded in, and is ignored and reset on open. */
#define _DEFAULT_SOURCE 1 /* flock */
#include "journal.h"
#include "prefix.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "bytes.h"
#include "crc32c.h"
#include "file.h"
#include "rules.h"
#include "snapshot.h"

#define JOURNAL_MAGIC "\x89LORJ\r\n\x1a"
#define JOURNAL_SUFFIX "-journal"

enum { JHEADER = 32, RHEADER = 12, REC_CHANGES = 1, BIG_BUFFER = 1 << 20 };

typedef struct journal {
    mem m;
    char *path, *jpath; /* the snapshot and the journal */
    size_t pathsize, jpathsize;
    int fd;          /* -1: opened without a journal */
    uint64_t gen;    /* generation of the snapshot at path */
    uint64_t end;    /* end of the last whole record */
    uint32_t nterms; /* terms the snapshot and journal hold */
    int policy;
    unsigned interval_ms;
    int broken; /* the file may hold what memory does not */
    obuf txn;   /* the open transaction's changes */
    uint32_t txn_ops;
    obuf rec; /* one record being made */
    /* LORE_SYNC_INTERVAL: a thread syncs the file when it is dirty */
    int thread;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop, dirty, sync_err;
} journal;

int journal_on(const lore_kb *kb)
{
    return kb->jr != NULL && kb->jr->fd >= 0;
}

uint64_t journal_generation(const lore_kb *kb)
{
    return kb->jr ? kb->jr->gen : 0;
}

/* ------------------------------------------------------------------ */
/* writing records                                                    */

static void encode_op(obuf *b, const jop *op)
{
    ob_u8(b, (unsigned)op->code);
    switch (op->code) {
    case JOP_ADD:
    case JOP_REMOVE:
    case JOP_DERIVE:
        ob_var(b, op->s);
        ob_var(b, op->p);
        ob_var(b, op->o);
        ob_var(b, op->src);
        break;
    case JOP_RETRACT:
        ob_var(b, op->src);
        break;
    case JOP_RULE:
    case JOP_UNRULE:
        ob_var(b, op->nlen);
        ob_bytes(b, op->name, op->nlen);
        if (op->code == JOP_RULE) {
            ob_var(b, op->textlen);
            ob_bytes(b, op->text, op->textlen);
        }
        break;
    case JOP_PREFIX:
        ob_var(b, op->nlen);
        ob_bytes(b, op->name, op->nlen);
        ob_var(b, op->ilen);
        ob_bytes(b, op->iri, op->ilen);
        break;
    case JOP_BULK: {
        size_t stride = op->stride == 3 ? 3 : 4;
        ob_var(b, op->nrows);
        if (!ob_room(b, op->nrows * 20))
            return;
        for (size_t i = 0; i < op->nrows; i++) {
            const uint32_t *r = op->rows + stride * i;
            for (int k = 0; k < 3; k++)
                b->n += put_var(b->p + b->n, r[k]);
            b->n += put_var(b->p + b->n, stride == 3 ? op->xmeta : r[3]);
        }
        break;
    }
    }
}

/* Starts a record in j->rec: header room, type, and the new terms. */
static void begin_record(lore_kb *kb, journal *j)
{
    obuf *b = &j->rec;
    b->n = 0;
    b->nomem = 0;
    if (!ob_room(b, RHEADER))
        return;
    b->n = RHEADER;
    ob_u8(b, REC_CHANGES);
    ob_var(b, (uint64_t)j->nterms + 1);
    ob_var(b, kb->d.n - j->nterms);
    for (uint32_t id = j->nterms + 1; id <= kb->d.n; id++)
        term_put(b, &kb->d, id);
}

static void mark_dirty(journal *j)
{
    if (!j->thread)
        return;
    pthread_mutex_lock(&j->mu);
    j->dirty = 1;
    pthread_mutex_unlock(&j->mu);
}

static int jfail(lore_kb *kb, journal *j, const char *what, int err)
{
    return ctx_fail(&kb->ctx, LORE_ERR_IO, "%s: %s: %s", j->jpath, what, strerror(err));
}

/* Cuts the file back to `end` after a write that must not count. */
static void cut_back(journal *j, uint64_t end)
{
    if (ftruncate(j->fd, (off_t)end) != 0 || (j->policy != LORE_SYNC_NONE && fdatasync(j->fd) != 0))
        j->broken = 1;
}

/* Writes the record in j->rec at the end of the file; syncs if `sync`. */
static int write_record(lore_kb *kb, journal *j, int sync)
{
    obuf *b = &j->rec;
    int rc = LORE_OK;
    if (b->nomem) {
        rc = ctx_nomem(&kb->ctx);
        goto done;
    }
    size_t len = b->n - RHEADER;
    if (len > 0xffffffffu) {
        rc = ctx_fail(&kb->ctx, LORE_ERR_LIMIT, "%s: a change too large for one journal record",
                      j->jpath);
        goto done;
    }
    put_u32(b->p, (uint32_t)len);
    put_u32(b->p + 4, crc32c(0, b->p + RHEADER, len));
    put_u32(b->p + 8, crc32c(0, b->p, 8));
    const char *what = NULL;
    if (file_pwrite_all(j->fd, b->p, b->n, j->end) != 0)
        what = "cannot write";
    else if (sync && fdatasync(j->fd) != 0)
        what = "cannot sync";
    if (what) {
        rc = jfail(kb, j, what, errno);
        cut_back(j, j->end);
        goto done;
    }
    j->end += b->n;
    if (!sync)
        mark_dirty(j);
done:
    if (b->cap > BIG_BUFFER) /* do not keep a large batch's buffer */
        ob_free(b);
    b->n = 0;
    b->nomem = 0;
    return rc;
}

/* LORE_OK if changes may be journaled now. */
static int usable(lore_kb *kb, journal *j)
{
    if (j->thread) {
        pthread_mutex_lock(&j->mu);
        int err = j->sync_err;
        j->sync_err = 0;
        pthread_mutex_unlock(&j->mu);
        if (err) {
            j->broken = 1;
            return jfail(kb, j,
                         "background sync failed (changes since the last sync may not "
                         "survive a system crash; checkpoint to recover)",
                         err);
        }
    }
    if (j->broken)
        return ctx_fail(&kb->ctx, LORE_ERR_IO,
                        "%s: the journal could not be written; no change is "
                        "accepted until a checkpoint succeeds",
                        j->jpath);
    return LORE_OK;
}

int journal_log(lore_kb *kb, const jop *op, jmark *mk)
{
    journal *j = kb->jr;
    memset(mk, 0, sizeof *mk);
    int rc = usable(kb, j);
    if (rc != LORE_OK)
        return rc;
    if (kb->st.in_txn && !op->outside) {
        mk->in_txn = 1;
        mk->txn_n = j->txn.n;
        mk->txn_ops = j->txn_ops;
        encode_op(&j->txn, op);
        if (j->txn.nomem) {
            j->txn.nomem = 0;
            j->txn.n = mk->txn_n;
            return ctx_nomem(&kb->ctx);
        }
        j->txn_ops++;
        return LORE_OK;
    }
    mk->end = j->end;
    mk->nterms = j->nterms;
    begin_record(kb, j);
    ob_var(&j->rec, 1);
    encode_op(&j->rec, op);
    int sync =
        j->policy == LORE_SYNC_CHANGE || (j->policy == LORE_SYNC_COMMIT && op->code == JOP_BULK);
    rc = write_record(kb, j, sync);
    if (rc == LORE_OK)
        j->nterms = (uint32_t)kb->d.n;
    return rc;
}

void journal_cancel(lore_kb *kb, const jmark *mk)
{
    journal *j = kb->jr;
    if (mk->in_txn) {
        j->txn.n = mk->txn_n;
        j->txn_ops = mk->txn_ops;
        return;
    }
    cut_back(j, mk->end);
    j->end = mk->end;
    j->nterms = mk->nterms;
}

/* What the layers below the journal call it through (change.h). */
static const change_log journal_hook = {journal_on, journal_log, journal_cancel};

int journal_commit(lore_kb *kb)
{
    journal *j = kb->jr;
    if (j->txn_ops == 0)
        return LORE_OK;
    int rc = usable(kb, j);
    if (rc != LORE_OK)
        return rc;
    begin_record(kb, j);
    ob_var(&j->rec, j->txn_ops);
    ob_bytes(&j->rec, j->txn.p, j->txn.n);
    rc = write_record(kb, j, j->policy == LORE_SYNC_CHANGE || j->policy == LORE_SYNC_COMMIT);
    if (rc != LORE_OK)
        return rc;
    j->nterms = (uint32_t)kb->d.n;
    journal_rollback(kb); /* the changes are out: forget them */
    return LORE_OK;
}

void journal_rollback(lore_kb *kb)
{
    journal *j = kb->jr;
    if (j->txn.cap > BIG_BUFFER)
        ob_free(&j->txn);
    j->txn.n = 0;
    j->txn_ops = 0;
}

/* ------------------------------------------------------------------ */
/* the sync thread                                                    */

static void *sync_main(void *arg)
{
    journal *j = arg;
    pthread_mutex_lock(&j->mu);
    while (!j->stop) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        t.tv_sec += j->interval_ms / 1000;
        t.tv_nsec += (long)(j->interval_ms % 1000) * 1000000L;
        if (t.tv_nsec >= 1000000000L)
            t.tv_sec++, t.tv_nsec -= 1000000000L;
        while (!j->stop && pthread_cond_timedwait(&j->cv, &j->mu, &t) != ETIMEDOUT)
            ;
        if (j->stop || !j->dirty)
            continue;
        j->dirty = 0;
        pthread_mutex_unlock(&j->mu); /* writers go on meanwhile */
        int err = fdatasync(j->fd) != 0 ? errno : 0;
        pthread_mutex_lock(&j->mu);
        if (err)
            j->sync_err = err;
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

static int start_thread(journal *j)
{
    pthread_condattr_t ca;
    if (pthread_mutex_init(&j->mu, NULL) != 0)
        return -1;
    if (pthread_condattr_init(&ca) != 0) {
        pthread_mutex_destroy(&j->mu);
        return -1;
    }
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&j->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0) {
        pthread_mutex_destroy(&j->mu);
        return -1;
    }
    if (pthread_create(&j->th, NULL, sync_main, j) != 0) {
        pthread_cond_destroy(&j->cv);
        pthread_mutex_destroy(&j->mu);
        return -1;
    }
    j->thread = 1;
    return 0;
}

static void stop_thread(journal *j)
{
    if (!j->thread)
        return;
    pthread_mutex_lock(&j->mu);
    j->stop = 1;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    pthread_join(j->th, NULL);
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->mu);
    j->thread = 0;
}

/* ------------------------------------------------------------------ */
/* replay                                                             */

typedef struct replay {
    lore_kb *kb;
    const char *name;
    uint32_t rec;
    size_t at;
} replay;

static int rfail(replay *rp, int status, const char *what)
{
    return ctx_fail(&rp->kb->ctx, status, "%s: record %u at offset %zu: %s", rp->name,
                    (unsigned)rp->rec, rp->at, what);
}

static int valid_id(const lore_kb *kb, uint32_t id)
{
    return dict_valid(&kb->d, id);
}

/* Maps a store failure while replaying to a message. */
static int apply_status(replay *rp, int rc)
{
    if (rc >= 0)
        return LORE_OK;
    if (rc == LORE_ERR_NOMEM)
        return ctx_nomem(&rp->kb->ctx);
    return rfail(rp, rc, "a change could not be applied (too many facts or sources)");
}

static int apply_bulk(replay *rp, ibuf *r)
{
    lore_kb *kb = rp->kb;
    uint64_t n = ib_var(r);
    if (r->bad || n > ib_left(r) / 4)
        return rfail(rp, LORE_ERR_CORRUPT, "malformed bulk change");
    uint32_t *rows = mem_alloc(&kb->m, 4 * (size_t)n + 1, sizeof *rows);
    if (!rows)
        return ctx_nomem(&kb->ctx);
    int rc = LORE_OK;
    for (size_t i = 0; i < n; i++) {
        uint32_t *row = rows + 4 * i;
        for (int k = 0; k < 4; k++)
            row[k] = ib_var32(r);
        uint32_t m = row[3], src = m & META_PAYLOAD;
        int ok = !r->bad && valid_id(kb, row[0]) && valid_id(kb, row[1]) && valid_id(kb, row[2]) &&
                 !(m & META_MULTI) &&
                 ((m & META_ASSERTED) ? (src == 0 || valid_id(kb, src))
                                      : ((m & META_DERIVED) && src == 0));
        if (!ok) {
            rc = rfail(rp, LORE_ERR_CORRUPT, "malformed bulk change");
            goto done;
        }
    }
    rc = apply_status(rp, store_bulk(&kb->st, rows, (size_t)n, NULL));
done:
    mem_free(&kb->m, rows, 4 * (size_t)n + 1, sizeof *rows);
    return rc;
}

static int apply_record(replay *rp, const unsigned char *p, size_t n)
{
    lore_kb *kb = rp->kb;
    ibuf r = {p, p + n, 0};
    if (ib_u8(&r) != REC_CHANGES)
        return rfail(rp, LORE_ERR_CORRUPT, "unknown record type (written by a newer lore?)");
    uint64_t first = ib_var(&r), nt = ib_var(&r);
    if (r.bad || first != kb->d.n + 1)
        return rfail(rp, LORE_ERR_CORRUPT, "its terms do not follow the terms before it");
    if (nt > ib_left(&r) / 2)
        return rfail(rp, LORE_ERR_CORRUPT, "malformed terms");
    for (uint64_t i = 0; i < nt; i++) {
        lore_value v;
        uint32_t id;
        const char *why = NULL;
        if (!term_get(&r, &v))
            return rfail(rp, LORE_ERR_CORRUPT, "malformed terms");
        int rc = dict_intern(&kb->d, &v, &id, &why);
        if (rc == LORE_ERR_NOMEM)
            return ctx_nomem(&kb->ctx);
        if (rc != LORE_OK)
            return rfail(rp, LORE_ERR_CORRUPT, "a term is not valid");
        if (id != first + i)
            return rfail(rp, LORE_ERR_CORRUPT, "a term repeats an earlier one");
    }
    uint64_t nops = ib_var(&r);
    if (r.bad || nops > ib_left(&r))
        return rfail(rp, LORE_ERR_CORRUPT, "malformed changes");
    for (uint64_t i = 0; i < nops; i++) {
        int code = ib_u8(&r), rc;
        uint32_t s = 0, pr = 0, o = 0, src;
        if (code == JOP_ADD || code == JOP_REMOVE || code == JOP_DERIVE) {
            s = ib_var32(&r), pr = ib_var32(&r), o = ib_var32(&r);
        }
        switch (code) {
        case JOP_ADD:
            src = ib_var32(&r);
            if (r.bad || !valid_id(kb, s) || !valid_id(kb, pr) || !valid_id(kb, o) ||
                (src && !valid_id(kb, src)))
                return rfail(rp, LORE_ERR_CORRUPT, "malformed change");
            rc = apply_status(rp, store_assert(&kb->st, s, pr, o, src));
            break;
        case JOP_REMOVE:
            src = ib_var32(&r);
            if (r.bad || !valid_id(kb, s) || !valid_id(kb, pr) || !valid_id(kb, o) ||
                (src && src != LORE_ANY_SOURCE && !valid_id(kb, src)))
                return rfail(rp, LORE_ERR_CORRUPT, "malformed change");
            rc = apply_status(rp, store_unassert(&kb->st, s, pr, o, src));
            break;
        case JOP_RETRACT:
            src = ib_var32(&r);
            if (r.bad || (src && !valid_id(kb, src)))
                return rfail(rp, LORE_ERR_CORRUPT, "malformed change");
            rc = apply_status(rp, store_retract_source(&kb->st, src, NULL));
            break;
        case JOP_BULK:
            rc = apply_bulk(rp, &r);
            break;
        case JOP_RULE:
        case JOP_UNRULE: {
            uint64_t nl = ib_var(&r);
            const unsigned char *name = nl <= ib_left(&r) ? ib_bytes(&r, (size_t)nl) : NULL;
            uint64_t tl = code == JOP_RULE ? ib_var(&r) : 0;
            const unsigned char *text =
                code == JOP_RULE && tl <= ib_left(&r) ? ib_bytes(&r, (size_t)tl) : NULL;
            if (r.bad || !name || (code == JOP_RULE && !text) || nl == 0 || nl > 200)
                return rfail(rp, LORE_ERR_CORRUPT, "malformed change");
            char nbuf[256];
            memcpy(nbuf, name, (size_t)nl);
            nbuf[nl] = '\0';
            if (code == JOP_RULE) {
                rc = rules_restore(kb, nbuf, (size_t)nl, (const char *)text, (size_t)tl);
                if (rc == LORE_ERR_NOMEM)
                    return rc;
                if (rc != LORE_OK) {
                    char msg[sizeof kb->ctx.err];
                    snprintf(msg, sizeof msg, "%s", kb->ctx.err);
                    return rfail(rp, LORE_ERR_CORRUPT, msg);
                }
            } else {
                uint32_t id;
                if (lore_rule_find(kb, nbuf, &id) == LORE_OK)
                    lore_rule_remove(kb, id);
                rc = LORE_OK;
            }
            break;
        }
        case JOP_DERIVE:
            src = ib_var32(&r);
            if (r.bad || !valid_id(kb, s) || !valid_id(kb, pr) || !valid_id(kb, o) || src > 1)
                return rfail(rp, LORE_ERR_CORRUPT, "malformed change");
            rc = apply_status(rp, store_set_derived(&kb->st, s, pr, o, (int)src));
            break;
        case JOP_PREFIX: {
            size_t nlen = ib_var(&r);
            const char *name = (const char *)ib_bytes(&r, nlen);
            size_t ilen = ib_var(&r);
            const char *iri = (const char *)ib_bytes(&r, ilen);
            const char *why = NULL;
            if (r.bad || !name || (ilen && !iri))
                return rfail(rp, LORE_ERR_CORRUPT, "malformed change");
            rc = ilen ? prefixes_set(&kb->m, &kb->px, name, nlen, iri, ilen, &why)
                      : prefixes_remove(&kb->m, &kb->px, name, nlen);
            if (rc == LORE_ERR_NOMEM)
                return ctx_nomem(&kb->ctx);
            if (rc < 0)
                return rfail(rp, LORE_ERR_CORRUPT, "a prefix binding is not valid");
            kb->d.epoch++;
            rc = LORE_OK;
            break;
        }
        default:
            return rfail(rp, LORE_ERR_CORRUPT, "unknown change (written by a newer lore?)");
        }
        if (rc != LORE_OK)
            return rc;
    }
    if (ib_left(&r))
        return rfail(rp, LORE_ERR_CORRUPT, "bytes after its last change");
    return LORE_OK;
}

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* The size of the whole, valid record at `at`, or 0. */
static size_t record_at(const unsigned char *buf, size_t len, size_t at, int check)
{
    const unsigned char *h = buf + at;
    size_t left = len - at;
    if (left < RHEADER || (check && get_u32(h + 8) != crc32c(0, h, 8)))
        return 0;
    uint32_t n = get_u32(h);
    if (n > left - RHEADER || (check && get_u32(h + 4) != crc32c(0, h + RHEADER, n)))
        return 0;
    return RHEADER + (size_t)n;
}

/* 1 if a whole, valid record starts anywhere after `at`: then the damage
 * at `at` is not a torn last write. */
static int record_after(const unsigned char *buf, size_t len, size_t at, int check)
{
    for (size_t q = at + 1; q + RHEADER <= len; q++)
        if (record_at(buf, len, q, check))
            return 1;
    return 0;
}

int journal_replay(lore_kb *kb, const unsigned char *buf, size_t len, const char *name, int flags,
                   uint64_t gen, size_t *end, int *stale)
{
    int check = !(flags & JR_NOCHECK);
    *end = 0;
    *stale = 0;
    if (len == 0)
        return LORE_OK;
    /* a header cut short, or a file of zeros (a crash while one was being
     * written): no record can follow, there is nothing to replay */
    if (len < JHEADER || all_zero(buf, len)) {
        size_t k = len < 8 ? len : 8;
        if (memcmp(buf, JOURNAL_MAGIC, k) != 0 && !all_zero(buf, len))
            return ctx_fail(&kb->ctx, LORE_ERR_CORRUPT, "%s: not a lore journal (bad magic number)",
                            name);
        return LORE_OK;
    }
    if (memcmp(buf, JOURNAL_MAGIC, 8) != 0)
        return ctx_fail(&kb->ctx, LORE_ERR_CORRUPT, "%s: not a lore journal (bad magic number)",
                        name);
    if (check && get_u32(buf + 28) != crc32c(0, buf, 28))
        return ctx_fail(&kb->ctx, LORE_ERR_CORRUPT, "%s: checksum mismatch in the journal header",
                        name);
    if (get_u32(buf + 8) != 1)
        return ctx_fail(&kb->ctx, LORE_ERR_CORRUPT,
                        "%s: journal version %u is not supported (this lore reads version 1)", name,
                        (unsigned)get_u32(buf + 8));
    if (get_u32(buf + 12) != 0 || get_u32(buf + 24) != 0)
        return ctx_fail(&kb->ctx, LORE_ERR_CORRUPT,
                        "%s: unknown header flags (written by a newer lore?)", name);
    uint64_t jgen = get_u64(buf + 16);
    if (!(flags & JR_ANYGEN) && jgen != gen) {
        if (jgen < gen) {
            *stale = 1;
            *end = JHEADER;
            return LORE_OK;
        }
        return ctx_fail(&kb->ctx, LORE_ERR_CORRUPT,
                        "%s: follows snapshot generation %" PRIu64 ", but the snapshot is "
                        "generation %" PRIu64 " (was the snapshot replaced or lost?)",
                        name, jgen, gen);
    }
    replay rp = {kb, name, 1, JHEADER};
    int torn = 0;
    while (rp.at < len) {
        size_t n = record_at(buf, len, rp.at, check);
        if (n == 0) {
            if (record_after(buf, len, rp.at, check))
                return rfail(&rp, LORE_ERR_CORRUPT,
                             "cut short or checksum mismatch, with whole "
                             "records after it (corruption before the last "
                             "record)");
            torn = 1; /* a write cut short by a crash: never acknowledged */
            break;
        }
        int rc = apply_record(&rp, buf + rp.at + RHEADER, n - RHEADER);
        if (rc != LORE_OK)
            return rc;
        rp.at += n;
        rp.rec++;
    }
    *end = rp.at;
    if (torn) {
        ctx_fail(&kb->ctx, LORE_WARN, "%s: discarded a torn last record at offset %zu (%zu bytes)",
                 name, rp.at, len - rp.at);
        return LORE_WARN;
    }
    return LORE_OK;
}

/* ------------------------------------------------------------------ */
/* opening, checkpoints, syncing                                      */

static void journal_free(journal *j)
{
    if (!j)
        return;
    mem m = j->m;
    stop_thread(j);
    if (j->fd >= 0)
        close(j->fd);
    ob_free(&j->txn);
    ob_free(&j->rec);
    mem_free(&m, j->path, j->pathsize, 1);
    mem_free(&m, j->jpath, j->jpathsize, 1);
    mem_free(&m, j, 1, sizeof *j);
}

void journal_close(lore_kb *kb)
{
    journal *j = kb->jr;
    if (!j)
        return;
    stop_thread(j);
    if (j->fd >= 0 && j->policy != LORE_SYNC_CHANGE)
        (void)fdatasync(j->fd); /* a clean close loses nothing */
    journal_free(j);
    kb->jr = NULL;
    kb->log = NULL;
}

static char *copy_path(const mem *m, const char *a, const char *b, size_t *size)
{
    size_t na = strlen(a), nb = strlen(b);
    *size = na + nb + 1;
    char *p = mem_alloc(m, *size, 1);
    if (p) {
        memcpy(p, a, na);
        memcpy(p + na, b, nb + 1);
    }
    return p;
}

/* Empties the journal and gives it a header naming generation `gen`:
 * first cut to nothing (a crash then leaves an empty journal, which holds
 * nothing to replay), then the header, synced. */
static int reset_journal(lore_kb *kb, journal *j, uint64_t gen)
{
    unsigned char h[JHEADER];
    memset(h, 0, sizeof h);
    memcpy(h, JOURNAL_MAGIC, 8);
    put_u32(h + 8, 1);
    put_u64(h + 16, gen);
    put_u32(h + 28, crc32c(0, h, 28));
    const char *what = NULL;
    if (ftruncate(j->fd, 0) != 0)
        what = "cannot empty";
    else if (file_pwrite_all(j->fd, h, sizeof h, 0) != 0)
        what = "cannot write";
    else if (fdatasync(j->fd) != 0)
        what = "cannot sync";
    if (what)
        return jfail(kb, j, what, errno);
    j->end = JHEADER;
    return LORE_OK;
}

int lore_open(lore_kb *kb, const char *path, const lore_open_options *opts)
{
    ctx_clear(&kb->ctx);
    if (kb->ctx.busy)
        return ctx_busy(&kb->ctx, "lore_open");
    if (kb->d.n || kb->st.nlive || kb->st.in_txn || kb->jr)
        return ctx_fail(&kb->ctx, LORE_ERR_STATE,
                        "lore_open: expected a new, empty knowledge base");
    if (!path || !*path)
        return ctx_fail(&kb->ctx, LORE_ERR_ARG, "lore_open: expected a file name");
    lore_open_options o = {0, LORE_SYNC_CHANGE, 0};
    if (opts)
        o = *opts;
    if (o.journal && (o.sync < LORE_SYNC_CHANGE || o.sync > LORE_SYNC_NONE))
        return ctx_fail(&kb->ctx, LORE_ERR_ARG, "lore_open: unknown sync policy %d", o.sync);
    if (o.journal && o.sync == LORE_SYNC_INTERVAL && (o.sync_ms == 0 || o.sync_ms > 3600000))
        return ctx_fail(&kb->ctx, LORE_ERR_ARG,
                        "lore_open: expected a sync interval of 1 ms to 1 hour");

    int rc = LORE_OK, warn = 0, missing = 0, stale = 0, created = 0;
    unsigned char *buf = NULL;
    size_t len = 0, end = 0;
    uint64_t gen = 0;
    journal *j = mem_calloc(&kb->m, 1, sizeof *j);
    if (!j)
        return ctx_nomem(&kb->ctx);
    j->m = kb->m;
    j->fd = -1;
    j->txn.m = j->rec.m = &j->m;
    j->policy = o.sync;
    j->interval_ms = o.sync_ms;
    j->path = copy_path(&kb->m, path, "", &j->pathsize);
    j->jpath = copy_path(&kb->m, path, JOURNAL_SUFFIX, &j->jpathsize);
    if (!j->path || !j->jpath) {
        rc = ctx_nomem(&kb->ctx);
        goto fail;
    }

    /* durable: the journal's lock first, so that no one else writes */
    if (o.journal) {
        j->fd = open(j->jpath, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (j->fd < 0) {
            rc = jfail(kb, j, "cannot open", errno);
            goto fail;
        }
        if (flock(j->fd, LOCK_EX | LOCK_NB) != 0) {
            rc = errno == EWOULDBLOCK
                     ? ctx_fail(&kb->ctx, LORE_ERR_STATE,
                                "%s: already open in durable mode (%s is locked)", path, j->jpath)
                     : jfail(kb, j, "cannot lock", errno);
            goto fail;
        }
    }
    rc = snapshot_read_file(kb, path, &gen, &missing);
    if (rc != LORE_OK && !missing)
        goto fail;
    if (o.journal) {
        rc = file_read_fd(kb, j->fd, j->jpath, &buf, &len);
        created = len == 0;
    } else {
        int jmissing = 0;
        char snapmsg[sizeof kb->ctx.err];
        memcpy(snapmsg, kb->ctx.err, sizeof snapmsg);
        rc = file_read(kb, j->jpath, &buf, &len, &jmissing);
        if (rc != LORE_OK && jmissing) {
            if (missing) { /* neither a snapshot nor a journal */
                memcpy(kb->ctx.err, snapmsg, sizeof snapmsg);
                rc = LORE_ERR_IO;
                goto fail;
            }
            rc = LORE_OK;
        }
    }
    if (rc != LORE_OK)
        goto fail;
    if (missing && len >= JHEADER && memcmp(buf, JOURNAL_MAGIC, 8) == 0 &&
        get_u32(buf + 28) == crc32c(0, buf, 28) && get_u64(buf + 16) > 0) {
        rc = ctx_fail(&kb->ctx, LORE_ERR_CORRUPT,
                      "%s: missing, but its journal follows snapshot generation %" PRIu64, path,
                      get_u64(buf + 16));
        goto fail;
    }
    ctx_clear(&kb->ctx);
    rc = journal_replay(kb, buf, len, j->jpath, 0, gen, &end, &stale);
    if (rc < 0)
        goto fail;
    warn = rc == LORE_WARN;
    rc = LORE_OK;

    if (o.journal) {
        if (end == 0 || stale) {
            if ((rc = reset_journal(kb, j, gen)) != LORE_OK)
                goto fail;
            if (created && file_sync_dir(j->jpath) != 0) {
                rc = jfail(kb, j, "cannot sync its directory", errno);
                goto fail;
            }
        } else if (end < len) { /* cut the torn record off before appending */
            if (ftruncate(j->fd, (off_t)end) != 0 || fdatasync(j->fd) != 0) {
                rc = jfail(kb, j, "cannot cut off the torn record", errno);
                goto fail;
            }
        }
        if (!(end == 0 || stale))
            j->end = end;
        if (o.sync == LORE_SYNC_INTERVAL && start_thread(j) != 0) {
            rc = ctx_fail(&kb->ctx, LORE_ERR_NOMEM, "lore_open: cannot start the sync thread");
            goto fail;
        }
    }
    j->gen = gen;
    j->nterms = (uint32_t)kb->d.n;
    kb->jr = j;
    kb->log = &journal_hook;
    file_free(kb, buf, len);
    return warn ? LORE_WARN : LORE_OK; /* a warning is in the message */

fail:
    file_free(kb, buf, len);
    journal_free(j);
    snapshot_empty(kb);
    return rc;
}

int lore_checkpoint(lore_kb *kb)
{
    ctx_clear(&kb->ctx);
    if (kb->ctx.busy)
        return ctx_busy(&kb->ctx, "lore_checkpoint");
    if (kb->st.in_txn)
        return ctx_fail(&kb->ctx, LORE_ERR_STATE, "lore_checkpoint: a transaction is open");
    journal *j = kb->jr;
    if (!j)
        return ctx_fail(&kb->ctx, LORE_ERR_STATE,
                        "lore_checkpoint: the knowledge base was not opened from a file "
                        "(lore_open; lore_save saves to a file)");
    if (j->fd < 0 && journal_locked_elsewhere(j->path))
        return ctx_fail(&kb->ctx, LORE_ERR_STATE,
                        "lore_checkpoint: %s is open in durable mode by another handle", j->path);
    uint64_t on_disk = snapshot_generation(j->path);
    uint64_t gen = (on_disk > j->gen ? on_disk : j->gen) + 1;
    int rc = snapshot_write(kb, j->path, gen);
    if (rc != LORE_OK)
        return rc; /* the old snapshot and the journal still hold everything */
    j->gen = gen;
    if (j->fd < 0)
        return LORE_OK;
    rc = reset_journal(kb, j, gen);
    if (rc != LORE_OK) {
        /* the snapshot holds everything, but records appended to this
         * journal would be taken for stale: refuse them until a retry */
        char why[sizeof kb->ctx.err];
        memcpy(why, kb->ctx.err, sizeof why);
        j->broken = 1;
        return ctx_fail(&kb->ctx, rc,
                        "%s: the snapshot is saved, but the journal could not be reset (%s)",
                        j->path, why);
    }
    j->broken = 0;
    j->nterms = (uint32_t)kb->d.n;
    if (j->thread) {
        pthread_mutex_lock(&j->mu);
        j->dirty = 0;
        pthread_mutex_unlock(&j->mu);
    }
    return LORE_OK;
}

int lore_sync(lore_kb *kb)
{
    ctx_clear(&kb->ctx);
    if (!journal_on(kb))
        return LORE_OK;
    journal *j = kb->jr;
    if (fdatasync(j->fd) != 0)
        return jfail(kb, j, "cannot sync", errno);
    return LORE_OK;
}

int journal_locked_elsewhere(const char *path)
{
    char jpath[4200];
    if (snprintf(jpath, sizeof jpath, "%s%s", path, JOURNAL_SUFFIX) >= (int)sizeof jpath)
        return 0;
    int fd = open(jpath, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int locked = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);
    return locked;
}

uint64_t journal_file_generation(const char *path)
{
    char jpath[4200];
    if (snprintf(jpath, sizeof jpath, "%s%s", path, JOURNAL_SUFFIX) >= (int)sizeof jpath)
        return 0;
    return file_generation(jpath, JOURNAL_MAGIC, JHEADER);
}

int journal_owns(const lore_kb *kb, const char *path)
{
    return kb->jr && strcmp(kb->jr->path, path) == 0;
}

/* Maps a store status of a merge to the handle's message. */
static int merge_status(lore_kb *kb, int rc)
{
    if (rc == LORE_ERR_NOMEM)
        return ctx_nomem(&kb->ctx);
    if (rc == LORE_ERR_LIMIT)
        return ctx_fail(&kb->ctx, rc, "too many facts, terms or source sets");
    return rc;
}

int journal_merge_rows(lore_kb *kb, dict_mark mark, uint32_t *rows, size_t n, size_t *added)
{
    jmark mk;
    int rc, logged = journal_on(kb) && n > 0;
    if (added)
        *added = 0;
    if (logged) {
        jop op = {.code = JOP_BULK, .rows = rows, .nrows = n, .stride = 4};
        if ((rc = journal_log(kb, &op, &mk)) < 0) {
            dict_rollback(&kb->d, mark);
            return rc;
        }
    }
    rc = store_bulk(&kb->st, rows, n, added);
    if (rc != LORE_OK) {
        if (logged)
            journal_cancel(kb, &mk);
        dict_rollback(&kb->d, mark);
        return merge_status(kb, rc);
    }
    return LORE_OK;
}
