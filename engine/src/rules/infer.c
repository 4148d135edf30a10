/* infer.c - evaluation of rules to a fixpoint and its maintenance: semi-
 * naive rounds over deltas, delete-and-rederive, recomputation of strata
 * whose non-monotone inputs changed, transitive closures by graph
 * algorithms, and the triggers that fire once the facts have settled.
 * See rules.h for the model. */
#define LORE_BUILDING 1
#include "rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "closure.h"
#include "sort.h"

enum {
    BULK_MIN = 1 << 14, /* facts at least this many, and half the store (a deferred
                         * evaluation's: an eighth), go in bulk */
    DEFER_SEED = 64     /* new facts that make an insertion's rounds keep theirs aside */
};

typedef struct ictx {
    lore_kb *kb;
    rules *R;
    store *st;
    const mem *m;
    tset round;          /* facts derived in this round, to be added */
    tvec fresh;          /* facts that became live at the last commit */
    const qfacts *ghost; /* overdeletion: the facts just removed */
    lore_infer_stats stats;
    uint32_t *vals; /* scratch row for aggregated bodies */
    size_t nvals;
    qmemo memo; /* the scans of a round's bodies, read once per key */
    qpool pool; /* the arrays of each body's run (a check runs one per fact) */
    size_t pending; /* facts a deferred stratum has derived, not yet in the store */
    uint32_t batch[3 * TSET_BATCH]; /* the round's next facts, added together */
    size_t nbatch;
    int round_new; /* every fact of the round is known not live (the closure's additions) */
    tset *multi;    /* facts found derived twice go here (stratum.multi; NULL: nowhere) */
    int multi_lost; /* one could not (no memory) */
    /* the counts check_plan asked the store for, by key (4 ids an entry:
     * the key's three, 0 where free, and the count; key 0 0 0 free):
     * candidates share keys, and a count is a search of the base and of
     * every run.  Only a plan's choice rests on them, so they may be a
     * little old (cleared when half full and after each deletion) */
    uint32_t *counts;
    size_t ncounts, countcap;
} ictx;

/* A second derivation of t was found.  The set stays small next to the
 * store (a sixteenth): past that, so many facts hold twice over that
 * rederiving them all costs what skipping the others saves; it is given
 * up (multi_lost). */
static void note_multi(ictx *c, const uint32_t *t)
{
    int isnew;
    if (!c->multi)
        return;
    if (c->multi->n >= 4096 + (c->st->nlive + c->pending) / 16 ||
        tset_add(c->m, c->multi, t, &isnew) != LORE_OK) {
        c->multi_lost = 1;
        c->multi = NULL;
    }
}

/* The closure kernel's poll. */
static int poll_kb(void *ud)
{
    lore_kb *kb = ud;
    return ctx_interrupted(&kb->ctx);
}

static int interrupted(ictx *c)
{
    return ctx_interrupted(&c->kb->ctx) ? LORE_ERR_INTERRUPT : LORE_OK;
}

void rplan_free(const mem *m, rplan *p)
{
    if (p->made)
        qplan_free(m, &p->pl);
    p->made = 0;
}

/* A plan of r's body: no delta (node -1) or one delta pattern, with
 * pre-bound variables (NULL: none), its without-groups left out when
 * skip.  Made again when the store or the delta changed much since. */
static int plan_of(ictx *c, rule *r, rplan *rp, int node, double delta, const uint8_t *prebound,
                   int skip, int lead)
{
    uint64_t size = c->st->nlive;
    if (rp->made) {
        int stale = size > rp->size + rp->size / 4 + 64 || size + size / 4 + 64 < rp->size;
        if (node >= 0)
            stale |= delta > rp->delta * 8 + 64 || delta * 8 + 64 < rp->delta;
        if (!stale)
            return LORE_OK;
        rplan_free(c->m, rp);
    }
    int rc = qprog_check(r->prog, prebound);
    if (rc != LORE_OK)
        return rc;
    for (int i = 0; i < r->prog->npnodes; i++) {
        pnode *n = &r->prog->pnodes[i];
        if (n->op == P_PRED && !n->any && n->cval >= 0)
            n->pred = r->prog->consts[n->cval].id;
    }
    qplan_opts o = {prebound, node, delta, node >= 0, skip, 1, lead};
    rc = qplan_make(c->kb, r->prog, &o, &rp->pl);
    if (rc != LORE_OK)
        return rc;
    rp->made = 1, rp->size = size, rp->delta = delta;
    return LORE_OK;
}

static int plan(ictx *c, rule *r, rplan *rp, int node, double delta, const uint8_t *prebound)
{
    return plan_of(c, r, rp, node, delta, prebound, 0, 0);
}

/* ------------------------------------------------------------------ */
/* running bodies                                                     */

typedef int (*emit_fn)(ictx *c, rule *r, const uint32_t *row, void *arg);

static int run_body(ictx *c, rule *r, const qplan *pl, const uint32_t *init, const uint32_t *delta,
                    size_t nd, emit_fn emit, void *arg)
{
    qexec x;
    /* the tail of recent writes becomes a run now, not under the run */
    if (store_prepare(c->st) != LORE_OK)
        return ctx_nomem(&c->kb->ctx);
    int rc = qexec_open_in(&x, c->kb, r->prog, pl, init, &c->pool);
    if (rc != LORE_OK)
        return ctx_nomem(&c->kb->ctx);
    x.q = r->body;
    x.ghost = c->ghost;
    x.memo = &c->memo;
    qexec_source(&x, delta, nd);
    while ((rc = qexec_next(&x)) == LORE_OK)
        if ((rc = emit(c, r, x.row, arg)) != LORE_OK)
            break;
    qexec_close(&x);
    return rc == LORE_DONE ? LORE_OK : rc;
}

/* The facts of r's head for one row; fn(c, t, arg) for each. */
static int heads(ictx *c, rule *r, const uint32_t *row, int (*fn)(ictx *, const uint32_t *, void *),
                 void *arg)
{
    for (int j = 0; j < r->nhead; j++) {
        uint32_t t[3];
        int ok = 1;
        for (int k = 0; k < 3; k++) {
            const hterm *h = &r->head[j][k];
            t[k] = h->var >= 0 ? row[h->var] : h->id;
            ok &= t[k] != 0;
        }
        if (!ok)
            continue;
        int rc = fn(c, t, arg);
        if (rc != LORE_OK)
            return rc;
    }
    return LORE_OK;
}

/* Adds the batch to the round's set. */
static int flush_round(ictx *c)
{
    size_t k = c->nbatch, added;
    c->nbatch = 0;
    if (k == 0)
        return LORE_OK;
    unsigned char isnew[TSET_BATCH];
    if (tset_add_many(c->m, &c->round, c->batch, k, &added, isnew) != LORE_OK)
        return ctx_nomem(&c->kb->ctx);
    for (size_t j = 0; j < k && added < k; j++)
        if (!isnew[j])
            note_multi(c, c->batch + 3 * j);
    if (added && c->R->max_derived && c->st->nderived + c->round.n > c->R->max_derived)
        return ctx_fail(&c->kb->ctx, LORE_ERR_LIMIT,
                        "more than %llu derived facts (lore_infer_limit)",
                        (unsigned long long)c->R->max_derived);
    return LORE_OK;
}

/* A derived fact for the round.  Without a limit on derived facts, one
 * derived already is weeded out by commit, which looks each fact up once
 * anyway (a round derives most facts many times: one lookup per distinct
 * fact, not per derivation).  Under a limit the round counts only new
 * facts, so it looks them up here (arg non-NULL: the caller knows it is
 * new).  Facts wait in a batch for the set (flush_round). */
static int add_round(ictx *c, const uint32_t *t, void *arg)
{
    if (!arg && c->R->max_derived && (store_meta(c->st, t[0], t[1], t[2]) & META_DERIVED)) {
        note_multi(c, t);
        return LORE_OK;
    }
    memcpy(c->batch + 3 * c->nbatch++, t, 3 * sizeof *t);
    return c->nbatch == TSET_BATCH ? flush_round(c) : LORE_OK;
}

static int emit_derive(ictx *c, rule *r, const uint32_t *row, void *arg)
{
    return heads(c, r, row, add_round, arg);
}

/* Adds t to the set arg. */
static int set_add(ictx *c, const uint32_t *t, void *arg)
{
    int isnew;
    return tset_add(c->m, arg, t, &isnew) == LORE_OK ? LORE_OK : ctx_nomem(&c->kb->ctx);
}

/* c->vals with room for nv ids (kept from call to call). */
static int vals_reserve(ictx *c, size_t nv)
{
    if (c->nvals >= nv)
        return LORE_OK;
    uint32_t *v = c->vals;
    if (mem_resize(c->m, (void **)&v, c->nvals, nv, sizeof *v) != 0)
        return ctx_nomem(&c->kb->ctx);
    c->vals = v, c->nvals = nv;
    return LORE_OK;
}

/* Runs aggregate rule r's query whole (its output stage; the variables
 * lore_query_bind pre-binds fixed), each row's head variables to fn. */
static int run_agg_rows(ictx *c, rule *r, emit_fn fn, void *arg)
{
    size_t nv = (size_t)r->prog->nvars + 1;
    if (vals_reserve(c, nv) != LORE_OK)
        return LORE_ERR_NOMEM;
    lore_query_reset(r->body);
    int rc;
    while ((rc = lore_query_next(r->body)) == LORE_OK) {
        memset(c->vals, 0, nv * sizeof *c->vals);
        for (size_t v = 0; v + 1 < nv; v++) {
            int col = r->headcol[v];
            if (col < 0)
                continue;
            lore_id id = lore_query_id(r->body, (size_t)col);
            if (!id) {
                lore_value val;
                if (lore_query_value(r->body, (size_t)col, &val) != LORE_OK)
                    continue;
                const char *why;
                int irc = dict_intern(&c->kb->d, &val, &id, &why);
                if (irc == LORE_ERR_NOMEM) {
                    lore_query_reset(r->body);
                    return ctx_nomem(&c->kb->ctx);
                }
            }
            c->vals[v] = id;
        }
        if ((rc = fn(c, r, c->vals, arg)) != LORE_OK)
            break;
    }
    lore_query_reset(r->body);
    return rc == LORE_DONE ? LORE_OK : rc;
}

/* Runs an aggregated body whole, deriving its head for each row. */
static int run_agg(ictx *c, rule *r)
{
    return run_agg_rows(c, r, emit_derive, NULL);
}

/* Runs r's whole body, deriving. */
static int run_full(ictx *c, rule *r)
{
    if (r->agg)
        return run_agg(c, r);
    int rc = plan(c, r, &r->full, -1, 0, NULL);
    if (rc != LORE_OK)
        return rc;
    return run_body(c, r, &r->full.pl, NULL, NULL, 0, emit_derive, NULL);
}

/* Does fact t match read d's constants? */
static int read_matches(const rread *d, const uint32_t *t)
{
    if (d->k >= 0) {
        for (int k = 0; k < 3; k++)
            if (d->key[k] && d->key[k] != t[k])
                return 0;
        return 1;
    }
    for (int i = 0; i < d->npreds; i++)
        if (d->preds[i] == 0 || d->preds[i] == t[1])
            return 1;
    return 0;
}

/* Runs r with read d's pattern reading the facts of `from` it matches. */
static int run_delta(ictx *c, rule *r, int di, const tvec *from, emit_fn emit, void *arg)
{
    const rread *d = &r->reads[di];
    tvec slice = {NULL, 0, 0};
    int rc = LORE_OK;
    size_t i = 0;
    while (i < from->n && read_matches(d, from->t + 3 * i))
        i++;
    /* most often every fact matches (a round's facts of one predicate):
     * they are read where they are, not copied */
    const uint32_t *rows = from->t;
    size_t n = from->n;
    if (i < from->n) {
        if (tvec_reserve(c->m, &slice, from->n) != LORE_OK)
            return ctx_nomem(&c->kb->ctx);
        memcpy(slice.t, from->t, 3 * i * sizeof *slice.t);
        slice.n = i;
        for (; i < from->n; i++) {
            const uint32_t *t = from->t + 3 * i;
            if (read_matches(d, t))
                memcpy(slice.t + 3 * slice.n++, t, 3 * sizeof *t); /* room made */
        }
        rows = slice.t, n = slice.n;
    }
    if (n) {
        rc = plan(c, r, &r->delta[di], d->node, (double)n, NULL);
        if (rc == LORE_OK)
            rc = run_body(c, r, &r->delta[di].pl, NULL, rows, n, emit, arg);
    }
    tvec_free(c->m, &slice);
    return rc;
}

/* ------------------------------------------------------------------ */
/* adding a round's facts                                             */

static int next_rank(ictx *c, uint32_t *rank)
{
    int rc = flush_round(c);
    if (rc != LORE_OK)
        return rc;
    if (c->R->round >= META_PAYLOAD - 1)
        return ctx_fail(&c->kb->ctx, LORE_ERR_LIMIT, "too many evaluation rounds");
    *rank = ++c->R->round;
    c->stats.rounds++;
    if (c->R->progress &&
        c->R->progress(c->R->progress_ud, c->stats.rounds,
                       c->stats.added + c->round.n + c->pending) != 0)
        return ctx_fail(&c->kb->ctx, LORE_ERR_INTERRUPT,
                        "inference stopped by its progress function");
    return LORE_OK;
}

/* Derives the facts of n slots of 3 ids (an empty slot's first id is 0;
 * nfacts of them are not), each one's lookup prefetched a little ahead
 * (the misses overlap);
 * `known`: each is known not to be live, looked for in the pending table
 * alone (store_derive_new).  Those new to the store go to c->fresh. */
static int derive_slots(ictx *c, const uint32_t *slots, size_t n, size_t nfacts, uint32_t rank,
                        int known)
{
    store *st = c->st;
    if (nfacts >= 1024)
        (void)store_reserve(st, nfacts, 0); /* a hint: failing it is no error */
    enum { AHEAD = 16 };
    void (*ahead)(const store *, uint32_t, uint32_t, uint32_t) =
        known ? store_pend_prefetch : store_meta_prefetch;
    for (size_t i = 0; i < n && i < AHEAD; i++)
        if (slots[3 * i])
            ahead(st, slots[3 * i], slots[3 * i + 1], slots[3 * i + 2]);
    for (size_t i = 0; i < n; i++) {
        const uint32_t *t = slots + 3 * i;
        if (i + AHEAD < n && t[3 * AHEAD])
            ahead(st, t[3 * AHEAD], t[3 * AHEAD + 1], t[3 * AHEAD + 2]);
        if (!t[0])
            continue;
        uint32_t was;
        int rc = known ? store_derive_new(st, t[0], t[1], t[2], rank, &was)
                       : store_derive(st, t[0], t[1], t[2], rank, &was);
        if (rc < 0)
            return ctx_nomem(&c->kb->ctx);
        if (was & META_DERIVED)
            note_multi(c, t);
        if (!was) {
            c->stats.added++;
            if (tvec_push(c->m, &c->fresh, t) != LORE_OK)
                return ctx_nomem(&c->kb->ctx);
        }
    }
    return LORE_OK;
}

/* Adds v's facts as derived, facts the caller has just read as absent
 * and made no two alike (the closure's pairs of one new edge, in the
 * order it made them): no set to weed out doubles, no base lookups, and
 * the store's tail gets them sorted.  c->fresh gets them, as commit's
 * does. */
static int commit_new(ictx *c, const tvec *v)
{
    c->fresh.n = 0;
    if (v->n == 0)
        return LORE_OK;
    if (c->R->max_derived && c->st->nderived + v->n > c->R->max_derived)
        return ctx_fail(&c->kb->ctx, LORE_ERR_LIMIT, "more than %llu derived facts (lore_infer_limit)",
                        (unsigned long long)c->R->max_derived);
    uint32_t rank = 0;
    int rc = next_rank(c, &rank);
    if (rc == LORE_OK)
        rc = derive_slots(c, v->t, v->n, v->n, rank, 1);
    return rc == LORE_OK ? interrupted(c) : rc;
}

/* Adds the round's facts as derived; c->fresh gets those that were not
 * present before. */
static int commit(ictx *c)
{
    int known = c->round_new;
    c->round_new = 0;
    c->fresh.n = 0;
    int rc = flush_round(c);
    size_t n = c->round.n;
    if (rc != LORE_OK || n == 0)
        return rc;
    uint32_t rank = 0;
    rc = next_rank(c, &rank);
    if (rc != LORE_OK)
        return rc;
    store *st = c->st;
    if (n >= BULK_MIN && n * 2 >= st->nlive) {
        /* the round's facts sorted, then looked up in one walk of the
         * store (in the set's order each lookup was a cache miss), and
         * those new to it go in sorted */
        uint32_t *rows = mem_alloc(c->m, 4 * n, sizeof *rows);
        if (!rows)
            return ctx_nomem(&c->kb->ctx);
        size_t m = 0, k = 0;
        for (size_t i = 0; i < c->round.cap; i++) {
            const uint32_t *t = c->round.t + 3 * i;
            if (t[0]) {
                uint32_t *w = rows + 4 * m++;
                w[0] = t[0], w[1] = t[1], w[2] = t[2], w[3] = 0;
            }
        }
        rc = store_sort_rows(st, rows, m, 4);
        if (rc == LORE_OK)
            store_metas_sorted(st, rows, m);
        for (size_t i = 0; i < m && rc == LORE_OK; i++) {
            const uint32_t *t = rows + 4 * i;
            uint32_t meta = t[3];
            if (meta & META_DERIVED) { /* derived already: keeps its round */
                note_multi(c, t);
                continue;
            }
            if (meta == 0 && (rc = tvec_push(c->m, &c->fresh, t)))
                break;
            uint32_t *w = rows + 4 * k++;
            w[0] = t[0], w[1] = t[1], w[2] = t[2], w[3] = META_DERIVED | rank;
        }
        if (rc == LORE_OK)
            rc = store_bulk(st, rows, k, NULL);
        mem_free(c->m, rows, 4 * n, sizeof *rows);
        if (rc != LORE_OK) {
            c->fresh.n = 0;
            return rc == LORE_ERR_NOMEM ? ctx_nomem(&c->kb->ctx) : rc;
        }
        c->stats.added += c->fresh.n;
    } else if ((rc = derive_slots(c, c->round.t, c->round.cap, n, rank, known)) != LORE_OK) {
        return rc;
    }
    tset_clear(&c->round);
    return interrupted(c);
}

/* Underives the facts of v: rows of one subject and predicate in a row
 * find their base facts in one walk (store_underive_rows). */
static int underive_all(ictx *c, const tvec *v)
{
    size_t gone = 0;
    if (store_underive_rows(c->st, v->t, v->n, &gone) != LORE_OK)
        return ctx_nomem(&c->kb->ctx);
    c->stats.removed += gone;
    return LORE_OK;
}

/* ------------------------------------------------------------------ */
/* one stratum from scratch                                           */

/* Does read d of a rule read facts the stratum's own heads derive? */
static int reads_own(const rules *R, const stratum *s, const rread *d)
{
    for (int i = 0; i < s->nrules; i++) {
        const rule *h = R->v[s->rules[i]];
        for (int j = 0; j < h->nhead; j++) {
            const hterm *ht = h->head[j];
            if (d->k >= 0) {
                int ok = 1;
                for (int k = 0; k < 3; k++)
                    if (ht[k].var < 0 && d->key[k] && d->key[k] != ht[k].id)
                        ok = 0;
                if (ok)
                    return 1;
            } else {
                for (int p = 0; p < d->npreds; p++)
                    if (d->preds[p] == 0 || ht[1].var >= 0 || d->preds[p] == ht[1].id)
                        return 1;
            }
        }
    }
    return 0;
}

/* Semi-naive rounds from c->fresh until nothing new: each positive read
 * of the stratum's rules reads the last round's new facts. */
static int propagate(ictx *c, const stratum *s)
{
    rules *R = c->R;
    int rc = LORE_OK;
    tvec delta = {NULL, 0, 0};
    while (c->fresh.n && rc == LORE_OK) {
        /* the round's delta is the last commit's new facts */
        tvec t = delta;
        delta = c->fresh;
        c->fresh = t;
        c->fresh.n = 0;
        for (int i = 0; i < s->nrules && rc == LORE_OK; i++) {
            rule *r = R->v[s->rules[i]];
            if (r->agg)
                continue;
            if (r->naive) {
                rc = run_full(c, r);
                continue;
            }
            for (int d = 0; d < r->nreads && rc == LORE_OK; d++)
                if (r->reads[d].how == RD_POS && r->reads[d].k >= 0)
                    rc = run_delta(c, r, d, &delta, emit_derive, NULL);
        }
        if (rc == LORE_OK)
            rc = commit(c);
    }
    tvec_free(c->m, &delta);
    return rc;
}

static int tc_scratch(ictx *c, const stratum *s);

/* ------------------------------------------------------------------ */
/* a stratum from nothing, its facts kept aside until the fixpoint     */

/* Can stratum s be evaluated with its derived facts kept out of the store
 * until the end?  Yes when no body reads the stratum's own facts but
 * through one plain pattern, which the semi-naive rounds feed from the
 * last round's new facts alone: every other read is of facts that stay as
 * they are.  (Aggregates, naive rules and paths over its own facts read
 * the store whole.) */
static int deferrable(const rules *R, const stratum *s)
{
    if (s->tc != TC_NONE)
        return 0;
    for (int i = 0; i < s->nrules; i++) {
        const rule *r = R->v[s->rules[i]];
        if (r->agg || r->naive)
            return 0;
        int own = 0;
        for (int d = 0; d < r->nreads; d++) {
            const rread *rd = &r->reads[d];
            if (!reads_own(R, s, rd))
                continue;
            if (rd->how != RD_POS || rd->k < 0 || ++own > 1)
                return 0;
        }
    }
    return 1;
}

typedef struct defer {
    /* every fact derived in this evaluation, as rows: s, p, o, meta (meta 0:
     * seen, but not to go in the store: derived by an earlier stratum) */
    uint32_t *rows;
    size_t nrows, cap, ninsert;
    size_t resolved; /* rows before this one know their meta (defer_resolve) */
    /* rows by hash: a slot is the hash's high 32 bits beside the row's index
     * + 1 (0: free), 8 bytes, so the table probed once per derivation stays
     * small; the hash's bits place the slot too, so growing reads no row;
     * filled to 7/10 (an 8-byte slot is cheap to step over, a larger table
     * is fresh pages to fault in) */
    uint64_t *slots;
    size_t scap;
    tvec next; /* the new facts of the current round */
    uint32_t rank;
    uint32_t batch[3 * TSET_BATCH]; /* derivations waiting for defer_flush */
    size_t nbatch;
    int unseen; /* the store holds no fact of the heads' predicates: each fact
                 * new to this evaluation is new to the store (no lookup) */
} defer;

/* The distinct predicates of s's heads into preds (room for cap): how
 * many, or -1 when a head's predicate is a variable or there are more. */
static int head_preds(const rules *R, const stratum *s, uint32_t *preds, int cap)
{
    int n = 0;
    for (int i = 0; i < s->nrules; i++) {
        const rule *r = R->v[s->rules[i]];
        for (int j = 0; j < r->nhead; j++) {
            if (r->head[j][1].var >= 0)
                return -1;
            int k = 0;
            while (k < n && preds[k] != r->head[j][1].id)
                k++;
            if (k == n && n == cap)
                return -1;
            if (k == n)
                preds[n++] = r->head[j][1].id;
        }
    }
    return n;
}

/* The facts of s's head predicates in the store, into *n (UINT64_MAX when
 * a head's predicate is a variable, or there are too many to list).
 * LORE_OK or LORE_ERR_NOMEM. */
static int head_facts(ictx *c, const stratum *s, uint64_t *n)
{
    uint32_t preds[16];
    int np = head_preds(c->R, s, preds, 16);
    *n = np < 0 ? UINT64_MAX : 0;
    for (int k = 0; k < np; k++) {
        uint64_t m = 0;
        if (store_count(c->st, 0, preds[k], 0, &m) != LORE_OK)
            return LORE_ERR_NOMEM;
        *n += m;
    }
    return LORE_OK;
}

/* Does the store hold no fact of any of s's head predicates (each head's
 * predicate a constant)? */
static int heads_unseen(ictx *c, const stratum *s)
{
    uint64_t n;
    return head_facts(c, s, &n) == LORE_OK && n == 0;
}

static int defer_grow(ictx *c, defer *df)
{
    return slots_grow(c->m, &df->slots, &df->scap, df->scap ? df->scap + 1 : 4096) == LORE_OK
               ? LORE_OK
               : ctx_nomem(&c->kb->ctx);
}

/* A row new to this evaluation: does it go in the store (a fact derived
 * by an earlier stratum keeps its round), and, new to the store, in the
 * next delta? */
static int defer_place(ictx *c, defer *df, uint32_t *w, uint32_t meta)
{
    int insert = !(meta & META_DERIVED);
    if (!insert)
        note_multi(c, w);
    if (insert && c->R->max_derived && c->st->nderived + df->ninsert + 1 > c->R->max_derived)
        return ctx_fail(&c->kb->ctx, LORE_ERR_LIMIT, "more than %llu derived facts (lore_infer_limit)",
                        (unsigned long long)c->R->max_derived);
    w[3] = insert ? (META_DERIVED | df->rank) : 0;
    df->ninsert += insert;
    /* an asserted fact gets the mark; only one not there before is new */
    if (meta == 0 && tvec_push(c->m, &df->next, w) != LORE_OK)
        return ctx_nomem(&c->kb->ctx);
    return LORE_OK;
}

/* The round's new rows looked up in the store together, once the round
 * is over (the store does not change meanwhile): sorted, then found in
 * one walk of the store instead of a search each, most of them a cache
 * miss. */
static int defer_resolve(ictx *c, defer *df)
{
    size_t r0 = df->resolved, m = df->nrows - r0;
    df->resolved = df->nrows;
    if (m == 0)
        return LORE_OK;
    uint32_t *tmp = mem_alloc(c->m, 5 * m, sizeof *tmp), *at = tmp + 4 * m;
    if (!tmp)
        return ctx_nomem(&c->kb->ctx);
    for (size_t i = 0; i < m; i++) {
        memcpy(tmp + 4 * i, df->rows + 4 * (r0 + i), 3 * sizeof *tmp);
        tmp[4 * i + 3] = (uint32_t)i;
    }
    int rc = store_sort_rows(c->st, tmp, m, 4);
    if (rc != LORE_OK) {
        mem_free(c->m, tmp, 5 * m, sizeof *tmp);
        return rc == LORE_ERR_NOMEM ? ctx_nomem(&c->kb->ctx) : rc;
    }
    for (size_t i = 0; i < m; i++)
        at[i] = tmp[4 * i + 3];
    store_metas_sorted(c->st, tmp, m);
    for (size_t i = 0; i < m && rc == LORE_OK; i++)
        rc = defer_place(c, df, df->rows + 4 * (r0 + at[i]), tmp[4 * i + 3]);
    mem_free(c->m, tmp, 5 * m, sizeof *tmp);
    return rc;
}

/* One derivation: a fact new to this evaluation becomes a row, placed at
 * once when the store holds no fact of the heads, else by
 * defer_resolve at the round's end. */
static int defer_one(ictx *c, defer *df, const uint32_t *t)
{
    if ((df->nrows + 1) * 10 > df->scap * 7 && defer_grow(c, df) != LORE_OK)
        return LORE_ERR_NOMEM;
    uint32_t fp = (uint32_t)(hash_triple(t[0], t[1], t[2]) >> 32);
    size_t mask = df->scap - 1, i = fp & mask;
    for (;; i = (i + 1) & mask) {
        uint64_t e = df->slots[i];
        if (!e)
            break;
        if ((uint32_t)(e >> 32) == fp) {
            const uint32_t *r = df->rows + 4 * ((e & 0xffffffffu) - 1);
            if (r[0] == t[0] && r[1] == t[1] && r[2] == t[2]) {
                note_multi(c, t);
                return LORE_OK; /* derived already in this evaluation */
            }
        }
    }
    if (df->nrows == df->cap) {
        size_t ncap = df->cap ? df->cap * 2 : 1024;
        uint32_t *r = df->rows;
        if (mem_resize(c->m, (void **)&r, 4 * df->cap, 4 * ncap, sizeof *r) != 0)
            return ctx_nomem(&c->kb->ctx);
        df->rows = r, df->cap = ncap;
    }
    uint32_t *w = df->rows + 4 * df->nrows++;
    w[0] = t[0], w[1] = t[1], w[2] = t[2], w[3] = 0;
    df->slots[i] = (uint64_t)fp << 32 | (uint32_t)df->nrows;
    if (df->unseen) {
        df->resolved = df->nrows;
        return defer_place(c, df, w, 0);
    }
    /* under a limit on derived facts, the rows waiting could pass it:
     * placed now, so that the limit stops the evaluation in time */
    uint64_t most = c->R->max_derived;
    if (most && c->st->nderived + df->ninsert + (df->nrows - df->resolved) > most)
        return defer_resolve(c, df);
    return LORE_OK;
}

/* The batch's derivations, their probes' cache misses overlapped: the
 * slots first, then the rows those slots point to. */
static int defer_flush(ictx *c, defer *df)
{
    size_t k = df->nbatch;
    df->nbatch = 0;
    if (k == 0)
        return LORE_OK;
    while ((df->nrows + k) * 10 > df->scap * 7)
        if (defer_grow(c, df) != LORE_OK)
            return LORE_ERR_NOMEM;
    uint32_t fp[TSET_BATCH];
    for (size_t j = 0; j < k; j++) {
        const uint32_t *t = df->batch + 3 * j;
        fp[j] = (uint32_t)(hash_triple(t[0], t[1], t[2]) >> 32);
    }
    slots_prefetch(df->slots, df->scap, fp, k, df->rows, 4);
    for (size_t j = 0; j < k; j++) {
        int rc = defer_one(c, df, df->batch + 3 * j);
        if (rc != LORE_OK)
            return rc;
    }
    return LORE_OK;
}

static int defer_add(ictx *c, const uint32_t *t, void *arg)
{
    defer *df = arg;
    memcpy(df->batch + 3 * df->nbatch++, t, 3 * sizeof *t);
    return df->nbatch == TSET_BATCH ? defer_flush(c, df) : LORE_OK;
}

static int emit_defer(ictx *c, rule *r, const uint32_t *row, void *arg)
{
    return heads(c, r, row, defer_add, arg);
}

/* An insertion's first round: a derivation that reads new facts at
 * several patterns comes once per such pattern; only the first pattern's
 * counts (the others would look like second derivations, stratum.multi). */
typedef struct seeded {
    defer *df;
    tset seed; /* the new facts */
    int d;     /* the pattern that reads them now */
} seeded;

static int emit_seeded(ictx *c, rule *r, const uint32_t *row, void *arg)
{
    seeded *sd = arg;
    for (int e = 0; e < sd->d; e++) {
        const rread *rd = &r->reads[e];
        /* (a pattern in a union's branch: the row may have come through
         * another, which that pattern's own delta run does not make; such
         * a derivation may be counted twice, noted in multi for nothing) */
        if (rd->how != RD_POS || rd->k < 0 || rd->branch)
            continue;
        const qnode *n = &r->prog->nodes[rd->node];
        uint32_t t[3];
        for (int k = 0; k < 3; k++)
            t[k] = n->t[k].var >= 0 ? row[n->t[k].var] : rd->key[k];
        if (tset_has(&sd->seed, t))
            return LORE_OK; /* it came at pattern e */
    }
    return heads(c, r, row, defer_add, sd->df);
}

/* Semi-naive rounds as propagate does them, the store unchanged until the
 * last: rounds neither rebuild the store's indexes nor look facts up in
 * it but once each, and the scans' memo stays valid throughout.  The
 * first round runs each rule whole, or with `seed` (facts new to the
 * store) as the delta of each of its positive reads. */
static int eval_deferred(ictx *c, stratum *s, const tvec *seed)
{
    rules *R = c->R;
    defer df;
    memset(&df, 0, sizeof df);
    /* from scratch, eval_fresh has just counted the heads' facts */
    df.unseen = seed ? heads_unseen(c, s) : s->nasserted == 0;
    seeded sd = {&df, {NULL, 0, 0}, 0};
    for (size_t i = 0; seed && i < seed->n; i++) {
        int isnew;
        if (tset_add(c->m, &sd.seed, seed->t + 3 * i, &isnew) != LORE_OK) {
            tset_free(c->m, &sd.seed);
            return ctx_nomem(&c->kb->ctx);
        }
    }
    tvec delta = {NULL, 0, 0};
    int rc = LORE_OK;
    /* a round's facts get the next rank, taken (as commit does) only when
     * the round adds some */
    for (int first = 1; rc == LORE_OK && (first || df.next.n); first = 0) {
        tvec t = delta;
        delta = df.next;
        df.next = t;
        df.next.n = 0;
        if (c->R->round >= META_PAYLOAD - 1 || (!first && (rc = interrupted(c)) != LORE_OK)) {
            if (rc == LORE_OK)
                rc = next_rank(c, &df.rank); /* says: too many rounds */
            break;
        }
        df.rank = c->R->round + 1;
        size_t before = df.ninsert;
        for (int i = 0; i < s->nrules && rc == LORE_OK; i++) {
            rule *r = R->v[s->rules[i]];
            if (first && seed) {
                for (int d = 0; d < r->nreads && rc == LORE_OK; d++)
                    if (r->reads[d].how == RD_POS && r->reads[d].k >= 0) {
                        sd.d = d;
                        rc = run_delta(c, r, d, seed, emit_seeded, &sd);
                    }
                continue;
            }
            if (first) {
                if ((rc = plan(c, r, &r->full, -1, 0, NULL)) == LORE_OK)
                    rc = run_body(c, r, &r->full.pl, NULL, NULL, 0, emit_defer, &df);
                continue;
            }
            for (int d = 0; d < r->nreads && rc == LORE_OK; d++)
                if (reads_own(R, s, &r->reads[d]))
                    rc = run_delta(c, r, d, &delta, emit_defer, &df);
        }
        if (rc == LORE_OK)
            rc = defer_flush(c, &df);
        if (rc == LORE_OK && !df.unseen)
            rc = defer_resolve(c, &df);
        if (rc == LORE_OK && df.ninsert > before) {
            c->pending = df.ninsert;
            rc = next_rank(c, &df.rank);
        }
    }
    /* the fixpoint is reached: the hash set and the deltas go before the
     * merge into the store, which is when memory peaks */
    mem_free(c->m, df.slots, df.scap, sizeof *df.slots);
    df.slots = NULL, df.scap = 0;
    tvec_free(c->m, &df.next);
    tvec_free(c->m, &delta);
    if (rc == LORE_OK && df.ninsert < df.nrows) { /* the rows not to insert go */
        size_t w = 0;
        for (size_t i = 0; i < df.nrows; i++)
            if (df.rows[4 * i + 3])
                memmove(df.rows + 4 * w++, df.rows + 4 * i, 4 * sizeof *df.rows);
        df.nrows = w;
    }
    if (rc == LORE_OK && df.nrows >= BULK_MIN && df.nrows * 8 >= c->st->nlive) {
        size_t added = 0; /* many: merged with the store in one rebuild */
        rc = store_bulk(c->st, df.rows, df.nrows, &added);
        if (rc != LORE_OK)
            rc = rc == LORE_ERR_NOMEM ? ctx_nomem(&c->kb->ctx) : rc;
        else
            c->stats.added += added;
    } else if (rc == LORE_OK && df.nrows) {
        if (df.nrows >= 1024)
            (void)store_reserve(c->st, df.nrows, 0); /* a hint: failing it is no error */
        for (size_t i = 0; i < df.nrows && rc == LORE_OK; i++) {
            const uint32_t *w = df.rows + 4 * i;
            uint32_t was;
            if (store_derive(c->st, w[0], w[1], w[2], w[3] & META_PAYLOAD, &was) < 0)
                rc = ctx_nomem(&c->kb->ctx);
            else if (!was)
                c->stats.added++;
        }
    }
    mem_free(c->m, df.slots, df.scap, sizeof *df.slots);
    mem_free(c->m, df.rows, 4 * df.cap, sizeof *df.rows);
    tvec_free(c->m, &df.next);
    tvec_free(c->m, &delta);
    tset_free(c->m, &sd.seed);
    c->fresh.n = 0;
    c->pending = 0;
    return rc;
}

static int eval_fresh(ictx *c, stratum *s);

/* Evaluates stratum s from nothing (its facts are not derived yet), and
 * notes the facts it finds with more than one derivation (s->multi). */
static int eval_scratch(ictx *c, stratum *s)
{
    int plain = s->tc == TC_NONE;
    for (int i = 0; i < s->nrules && plain; i++)
        plain = !c->R->v[s->rules[i]]->agg && !c->R->v[s->rules[i]]->naive;
    if (s->multi.cap > 4096)
        tset_free(c->m, &s->multi);
    tset_clear(&s->multi);
    c->multi = plain ? &s->multi : NULL, c->multi_lost = 0;
    int rc = eval_fresh(c, s);
    s->multi_known = rc == LORE_OK && plain && !c->multi_lost;
    c->multi = NULL;
    if (!s->multi_known)
        tset_free(c->m, &s->multi);
    return rc;
}

static int eval_fresh(ictx *c, stratum *s)
{
    rules *R = c->R;
    if (s->tc == TC_NONE) { /* what the heads match now is asserted, or another stratum's */
        uint64_t n;
        if (head_facts(c, s, &n) != LORE_OK)
            return ctx_nomem(&c->kb->ctx);
        s->nasserted = n == UINT64_MAX ? SIZE_MAX : (size_t)n;
    }
    if (deferrable(R, s))
        return eval_deferred(c, s, NULL);
    if (s->tc != TC_NONE) {
        /* its derived facts are gone: what is left is asserted */
        uint64_t nr = 0;
        if (store_count(c->st, 0, s->r, 0, &nr) != LORE_OK)
            return ctx_nomem(&c->kb->ctx);
        s->nasserted = (size_t)nr;
        if (nr == 0)
            return tc_scratch(c, s);
    }
    int rc = LORE_OK;
    for (int i = 0; i < s->nrules && rc == LORE_OK; i++)
        rc = run_full(c, R->v[s->rules[i]]);
    if (rc == LORE_OK)
        rc = commit(c);
    /* only what the stratum itself derives feeds the next rounds */
    if (rc == LORE_OK) {
        size_t w = 0;
        for (size_t i = 0; i < c->fresh.n; i++) {
            const uint32_t *t = c->fresh.t + 3 * i;
            int own = 0;
            for (int j = 0; j < s->nrules && !own; j++) {
                const rule *r = R->v[s->rules[j]];
                for (int d = 0; d < r->nreads && !own; d++)
                    own = read_matches(&r->reads[d], t) && reads_own(R, s, &r->reads[d]);
            }
            if (own)
                memmove(c->fresh.t + 3 * w++, t, 3 * sizeof *t);
        }
        c->fresh.n = w;
        rc = propagate(c, s);
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* transitive closures                                                */

typedef struct tcstream {
    closure *cl;
    const mem *m;
    uint32_t r, meta;
    size_t node, nnodes, at, nreach;
    const uint32_t *reach;
    uint32_t x;
} tcstream;

static int tc_next(void *ud, uint32_t row[4])
{
    tcstream *ts = ud;
    while (ts->at >= ts->nreach) {
        if (ts->node >= ts->nnodes)
            return 0;
        ts->x = closure_node(ts->cl, ts->node++, &ts->reach, &ts->nreach);
        ts->at = 0;
    }
    row[0] = ts->x, row[1] = ts->r, row[2] = ts->reach[ts->at++], row[3] = ts->meta;
    return 1;
}

static void tc_done(void *ud)
{
    tcstream *ts = ud;
    closure_free(ts->cl);
    ts->cl = NULL;
}

/* The edges (s, o) of predicate e, 2 ids each. */
static int read_edges(ictx *c, uint32_t e, uint32_t **out, size_t *n, uint32_t *maxid)
{
    uint64_t cnt;
    *out = NULL, *n = 0, *maxid = 0;
    if (store_count(c->st, 0, e, 0, &cnt) != LORE_OK)
        return ctx_nomem(&c->kb->ctx);
    if (cnt == 0)
        return LORE_OK;
    uint32_t *ed = mem_alloc(c->m, 2 * (size_t)cnt, sizeof *ed);
    if (!ed)
        return ctx_nomem(&c->kb->ctx);
    store_iter it;
    if (store_iter_init(c->st, &it, 0, e, 0) != LORE_OK) {
        mem_free(c->m, ed, 2 * (size_t)cnt, sizeof *ed);
        return ctx_nomem(&c->kb->ctx);
    }
    uint32_t t[3 * 256];
    size_t got, k = 0;
    while (store_iter_read(&it, t, 256, &got) == LORE_OK) {
        for (size_t i = 0; i < got && k < cnt; i++) {
            ed[2 * k] = t[3 * i], ed[2 * k + 1] = t[3 * i + 2];
            if (t[3 * i] > *maxid)
                *maxid = t[3 * i];
            if (t[3 * i + 2] > *maxid)
                *maxid = t[3 * i + 2];
            k++;
        }
    }
    store_iter_done(&it);
    *out = ed, *n = k;
    return LORE_OK;
}

/* The closure of the facts of predicate e (*n of them, ids up to *maxid)
 * into *out, which the caller frees; an interruption or no memory fails
 * with the kb's message. */
static int edge_closure(ictx *c, uint32_t e, closure **out, size_t *n, uint32_t *maxid)
{
    uint32_t *ed;
    int rc = read_edges(c, e, &ed, n, maxid);
    if (rc != LORE_OK)
        return rc;
    rc = closure_compute(c->m, ed, *n, poll_kb, c->kb, out);
    mem_free(c->m, ed, 2 * *n, sizeof *ed);
    if (rc == LORE_ERR_INTERRUPT)
        return rc; /* the poll set the message (interrupted, deadline reached) */
    if (rc != LORE_OK)
        return ctx_nomem(&c->kb->ctx);
    return LORE_OK;
}

/* The closure of e into r, streamed into the store in SPO order. */
static int tc_scratch(ictx *c, const stratum *s)
{
    uint32_t maxid;
    size_t n;
    closure *cl = NULL;
    int rc = edge_closure(c, s->e, &cl, &n, &maxid);
    if (rc != LORE_OK || n == 0) {
        closure_free(cl);
        return rc;
    }
    if ((rc = interrupted(c)) != LORE_OK) {
        closure_free(cl);
        return rc;
    }
    size_t total = closure_total(cl);
    if (c->R->max_derived && c->st->nderived + total > c->R->max_derived) {
        closure_free(cl);
        return ctx_fail(&c->kb->ctx, LORE_ERR_LIMIT,
                        "more than %llu derived facts (lore_infer_limit)",
                        (unsigned long long)c->R->max_derived);
    }
    uint32_t rank = 0;
    if ((rc = next_rank(c, &rank)) != LORE_OK) {
        closure_free(cl);
        return rc;
    }
    tcstream ts = {cl, c->m, s->r, META_DERIVED | rank, 0, closure_nodes(cl), 0, 0, NULL, 0};
    store_rows rows = {tc_next, tc_done, &ts, total, maxid > s->r ? maxid : s->r};
    size_t added = 0;
    rc = store_bulk_stream(c->st, &rows, &added);
    closure_free(ts.cl);
    if (rc != LORE_OK)
        return rc == LORE_ERR_NOMEM ? ctx_nomem(&c->kb->ctx)
                                    : ctx_fail(&c->kb->ctx, rc, "too many facts");
    c->stats.added += added;
    return LORE_OK;
}

/* A set of node ids. */
typedef struct uset {
    uint32_t *v;
    size_t n, cap;
} uset;

static int uset_add(const mem *m, uset *s, uint32_t x, int *isnew)
{
    if ((s->n + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        uint32_t *nv = mem_calloc(m, cap, sizeof *nv);
        if (!nv)
            return LORE_ERR_NOMEM;
        for (size_t i = 0; i < s->cap; i++) {
            uint32_t y = s->v[i];
            if (!y)
                continue;
            size_t j = hash_mix(y) & (cap - 1);
            while (nv[j])
                j = (j + 1) & (cap - 1);
            nv[j] = y;
        }
        mem_free(m, s->v, s->cap, sizeof *s->v);
        s->v = nv, s->cap = cap;
    }
    size_t j = hash_mix(x) & (s->cap - 1);
    while (s->v[j] && s->v[j] != x)
        j = (j + 1) & (s->cap - 1);
    *isnew = s->v[j] == 0;
    if (*isnew) {
        s->v[j] = x;
        s->n++;
    }
    return LORE_OK;
}

static int uset_has(const uset *s, uint32_t x)
{
    if (!s->n)
        return 0;
    size_t j = hash_mix(x) & (s->cap - 1);
    while (s->v[j] && s->v[j] != x)
        j = (j + 1) & (s->cap - 1);
    return s->v[j] == x;
}

static void uset_clear(uset *s)
{
    if (s->cap)
        memset(s->v, 0, s->cap * sizeof *s->v);
    s->n = 0;
}

static void uset_free(const mem *m, uset *s)
{
    mem_free(m, s->v, s->cap, sizeof *s->v);
    s->v = NULL, s->n = s->cap = 0;
}

/* Where read_ids puts what it reads: rows of three ({id, 0, 0}) in a
 * tvec, or else ids in the array *v (*n of them, room for *cap). */
typedef struct idsink {
    tvec *rows;
    uint32_t **v;
    size_t *n, *cap;
} idsink;

/* Appends the ids at position `pos` (0: subject, 2: object) of the facts
 * matching (a, p, b) (0: any) to out. */
static int read_ids(ictx *c, uint32_t a, uint32_t p, uint32_t b, int pos, const idsink *out)
{
    store_iter it;
    if (store_iter_init(c->st, &it, a, p, b) != LORE_OK)
        return ctx_nomem(&c->kb->ctx);
    uint32_t t[3 * 256];
    size_t got;
    int rc = LORE_OK;
    while (rc == LORE_OK && store_iter_read(&it, t, 256, &got) == LORE_OK) {
        tvec *r = out->rows;
        if (r ? tvec_reserve(c->m, r, r->n + got) != LORE_OK
              : mem_reserve(c->m, (void **)out->v, out->cap, *out->n + got, sizeof **out->v) != 0) {
            rc = ctx_nomem(&c->kb->ctx);
            break;
        }
        if (r) {
            uint32_t *w = r->t + 3 * r->n;
            for (size_t i = 0; i < got; i++)
                w[3 * i] = t[3 * i + pos], w[3 * i + 1] = 0, w[3 * i + 2] = 0;
            r->n += got;
        } else {
            uint32_t *w = *out->v + *out->n;
            for (size_t i = 0; i < got; i++)
                w[i] = t[3 * i + pos];
            *out->n += got;
        }
    }
    store_iter_done(&it);
    return rc;
}

/* The ids as rows of three in *out (the closure's walks keep them so). */
static int ids_of(ictx *c, uint32_t a, uint32_t p, uint32_t b, int pos, tvec *out)
{
    idsink k = {out, NULL, NULL, NULL};
    return read_ids(c, a, p, b, pos, &k);
}

/* The ids in the array *v (*n ids, room for *cap), for the closure's
 * reads of a node's whole reach. */
static int ids_append(ictx *c, uint32_t a, uint32_t p, uint32_t b, int pos, uint32_t **v, size_t *n,
                      size_t *cap)
{
    idsink k = {NULL, v, n, cap};
    return read_ids(c, a, p, b, pos, &k);
}

/* The ids at `pos` of the facts matching (a, p, b), sorted, duplicates
 * out, into *v (n ids; the array, of *cap ids, reused from call to call). */
static int sorted_ids_of(ictx *c, uint32_t a, uint32_t p, uint32_t b, int pos, uint32_t **v,
                         size_t *cap, size_t *n)
{
    *n = 0;
    int rc = ids_append(c, a, p, b, pos, v, n, cap);
    if (rc == LORE_OK)
        *n = sort_ids_unique(*v, *n);
    return rc;
}

/* x in the sorted ids a[0..n), or NULL (bsearch's comparisons through a
 * pointer cost several times this) */
static inline const uint32_t *id_find(const uint32_t *a, size_t n, uint32_t x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && a[lo] == x ? a + lo : NULL;
}

/* The ids in v (3 ids a row, the first counts), sorted, duplicates out,
 * into *a (n ids; the array, of *cap ids, is reused from call to call). */
static int sorted_ids(ictx *c, const tvec *v, uint32_t **a, size_t *cap, size_t *n)
{
    *n = 0;
    if (v->n == 0)
        return LORE_OK;
    if (mem_reserve(c->m, (void **)a, cap, v->n, sizeof **a) != 0)
        return ctx_nomem(&c->kb->ctx);
    for (size_t i = 0; i < v->n; i++)
        (*a)[i] = v->t[3 * i];
    *n = sort_ids_unique(*a, v->n);
    return LORE_OK;
}

/* The ids of set u, sorted, into *a (n ids; *cap as for sorted_ids): to
 * visit subjects in the store's order. */
static int uset_sorted(ictx *c, const uset *u, uint32_t **a, size_t *cap, size_t *n)
{
    *n = 0;
    if (u->n == 0)
        return LORE_OK;
    if (mem_reserve(c->m, (void **)a, cap, u->n, sizeof **a) != 0)
        return ctx_nomem(&c->kb->ctx);
    for (size_t i = 0; i < u->cap; i++)
        if (u->v[i])
            (*a)[(*n)++] = u->v[i];
    *n = sort_ids_unique(*a, *n); /* (no two alike already) */
    return LORE_OK;
}

/* What v reaches over e edges (forward, pos 2) or what reaches v
 * (backward, pos 0), v included, into out (cleared first). */
static int walk_edges(ictx *c, uint32_t e, uint32_t v, int back, tvec *out, uset *seen)
{
    int isnew, rc = LORE_OK;
    out->n = 0;
    uset_clear(seen);
    uint32_t v3[3] = {v, 0, 0};
    if (tvec_push(c->m, out, v3) != LORE_OK || uset_add(c->m, seen, v, &isnew) != LORE_OK)
        return ctx_nomem(&c->kb->ctx);
    tvec next = {NULL, 0, 0};
    for (size_t i = 0; i < out->n && rc == LORE_OK; i++) {
        uint32_t u = out->t[3 * i];
        next.n = 0;
        rc = back ? ids_of(c, 0, e, u, 0, &next) : ids_of(c, u, e, 0, 2, &next);
        for (size_t k = 0; k < next.n && rc == LORE_OK; k++) {
            uint32_t w = next.t[3 * k];
            if (uset_add(c->m, seen, w, &isnew) != LORE_OK)
                rc = ctx_nomem(&c->kb->ctx);
            else if (isnew) {
                uint32_t w3[3] = {w, 0, 0};
                rc = tvec_push(c->m, out, w3) == LORE_OK ? LORE_OK : ctx_nomem(&c->kb->ctx);
            }
        }
        if (rc == LORE_OK && (i & 1023) == 1023)
            rc = interrupted(c);
    }
    tvec_free(c->m, &next);
    return rc;
}

/* The closure again, with the kernel, compared subject by subject with
 * the pairs of the affected subjects `aff` (the others cannot change):
 * for changes that touch much of the closure, cheaper than walking from
 * each affected node. */
static int tc_rediff(ictx *c, const stratum *s, const uset *aff)
{
    uint32_t maxid;
    size_t n;
    closure *cl = NULL;
    int rc = edge_closure(c, s->e, &cl, &n, &maxid);
    if (rc != LORE_OK)
        return rc;
    tvec kill = {NULL, 0, 0};
    uint32_t *oa = NULL, *subj = NULL;
    size_t no = 0, ocap = 0, nsubj = 0, scap = 0;
    rc = uset_sorted(c, aff, &subj, &scap, &nsubj);
    for (size_t ai = 0; ai < nsubj && rc == LORE_OK; ai++) {
        uint32_t a = subj[ai];
        size_t nn = 0;
        const uint32_t *nw = closure_of(cl, a, &nn);
        if ((rc = sorted_ids_of(c, a, s->r, 0, 2, &oa, &ocap, &no)) != LORE_OK)
            break;
        size_t i = 0, j = 0;
        while ((i < no || j < nn) && rc == LORE_OK) {
            if (j == nn || (i < no && oa[i] < nw[j])) { /* lost */
                uint32_t t[3] = {a, s->r, oa[i++]};
                rc = tvec_push(c->m, &kill, t) == LORE_OK ? LORE_OK : ctx_nomem(&c->kb->ctx);
            } else if (i == no || nw[j] < oa[i]) { /* gained */
                uint32_t t[3] = {a, s->r, nw[j++]};
                rc = add_round(c, t, (void *)1);
            } else {
                i++, j++;
            }
        }
        if (rc == LORE_OK && (ai & 1023) == 1023)
            rc = interrupted(c);
    }
    closure_free(cl);
    rc = rc == LORE_OK ? underive_all(c, &kill) : rc;
    if (rc == LORE_OK)
        rc = commit(c);
    tvec_free(c->m, &kill);
    mem_free(c->m, oa, ocap, sizeof *oa);
    mem_free(c->m, subj, scap, sizeof *subj);
    return rc;
}

/* Removals, when the affected sources (those that reached a removed
 * edge's tail) form no cycle among themselves: each one's reach is made
 * once, from its edges' heads and their reach (made already when the head
 * is affected, read from the closure when not), the affected taken in an
 * order where each comes after the affected nodes its edges lead to.  The
 * cost follows the affected pairs, not the closure's size.  The pairs an
 * affected source had and no longer reaches go to *kill.  *cyclic is set
 * (and nothing done) when the affected nodes hold a cycle. */
static int tc_reach_affected(ictx *c, const stratum *s, const uset *aff, tvec *kill, int *cyclic)
{
    *cyclic = 0;
    uint32_t *node = NULL, *ids = NULL, *cnt = NULL, *next = NULL, *queue = NULL, *pool = NULL;
    uint32_t *tmp = NULL, *old = NULL;
    size_t nn = 0, ncap = 0, idcap = 0, nids = 0, poolcap = 0, npool = 0, tmpcap = 0, ntmp = 0;
    size_t oldcap = 0, nold = 0;
    size_t *succ = NULL, *roff = NULL, *rlen = NULL, *ooff = NULL;
    tvec list = {NULL, 0, 0};
    int rc = uset_sorted(c, aff, &node, &ncap, &nn);
    if (rc != LORE_OK || nn == 0)
        goto done;
    /* the heads of each affected node's edges: ids[succ[i] .. succ[i+1]) */
    succ = mem_alloc(c->m, nn + 1, sizeof *succ);
    cnt = mem_calloc(c->m, nn, sizeof *cnt);    /* affected heads not yet made */
    next = mem_calloc(c->m, nn + 1, sizeof *next); /* who leads to i: counts, then offsets */
    roff = mem_alloc(c->m, nn, sizeof *roff);
    rlen = mem_alloc(c->m, nn, sizeof *rlen);
    queue = mem_alloc(c->m, nn, sizeof *queue);
    ooff = mem_alloc(c->m, nn + 1, sizeof *ooff); /* node i's reach now: old[ooff[i] ..) */
    if (!succ || !cnt || !next || !roff || !rlen || !queue || !ooff) {
        rc = ctx_nomem(&c->kb->ctx);
        goto done;
    }
#define AFF_INDEX(x) id_find(node, nn, (x))
    /* each node's edges and its reach as the store holds it, read one
     * after the other in the subjects' order (the second read finds the
     * first's cache lines) */
    for (size_t i = 0; i < nn && rc == LORE_OK; i++) {
        succ[i] = nids;
        list.n = 0;
        if ((rc = ids_of(c, node[i], s->e, 0, 2, &list)) != LORE_OK)
            break;
        size_t at = nold;
        if ((rc = ids_append(c, node[i], s->r, 0, 2, &old, &nold, &oldcap)) != LORE_OK)
            break;
        ooff[i] = at;
        nold = at + sort_ids_unique(old + at, nold - at);
        if (mem_reserve(c->m, (void **)&ids, &idcap, nids + list.n, sizeof *ids) != 0) {
            rc = ctx_nomem(&c->kb->ctx);
            break;
        }
        for (size_t k = 0; k < list.n; k++) {
            uint32_t b = list.t[3 * k];
            ids[nids++] = b;
            const uint32_t *j = AFF_INDEX(b);
            if (j) {
                cnt[i]++;
                next[j - node]++;
            }
        }
    }
    if (rc != LORE_OK)
        goto done;
    succ[nn] = nids;
    ooff[nn] = nold;
    /* the reverse edges among the affected, by counting */
    uint32_t *rev = mem_alloc(c->m, nids + 1, sizeof *rev);
    if (!rev) {
        rc = ctx_nomem(&c->kb->ctx);
        goto done;
    }
    {
        uint32_t sum = 0;
        for (size_t i = 0; i <= nn; i++) {
            uint32_t k = next[i];
            next[i] = sum;
            sum += k;
        }
        for (size_t i = 0; i < nn; i++)
            for (size_t k = succ[i]; k < succ[i + 1]; k++) {
                const uint32_t *j = AFF_INDEX(ids[k]);
                if (j)
                    rev[next[j - node]++] = (uint32_t)i;
            }
        for (size_t i = nn; i-- > 0;) /* back to starting offsets */
            next[i + 1] = next[i];
        next[0] = 0;
    }
    /* the affected with no affected head first; each made releases those
     * that lead to it */
    size_t qh = 0, qt = 0;
    for (size_t i = 0; i < nn; i++)
        if (cnt[i] == 0)
            queue[qt++] = (uint32_t)i;
    while (qh < qt && rc == LORE_OK) {
        uint32_t i = queue[qh++];
        ntmp = 0;
        for (size_t k = succ[i]; k < succ[i + 1] && rc == LORE_OK; k++) {
            uint32_t b = ids[k];
            const uint32_t *j = AFF_INDEX(b);
            size_t add = 1 + (j ? rlen[j - node] : 0);
            if (mem_reserve(c->m, (void **)&tmp, &tmpcap, ntmp + add, sizeof *tmp) != 0) {
                rc = ctx_nomem(&c->kb->ctx);
                break;
            }
            tmp[ntmp++] = b;
            if (j && rlen[j - node]) {
                memcpy(tmp + ntmp, pool + roff[j - node], rlen[j - node] * sizeof *tmp);
                ntmp += rlen[j - node];
            } else if (!j) {
                rc = ids_append(c, b, s->r, 0, 2, &tmp, &ntmp, &tmpcap);
            }
        }
        if (rc != LORE_OK)
            break;
        size_t u = sort_ids_unique(tmp, ntmp);
        if (mem_reserve(c->m, (void **)&pool, &poolcap, npool + u, sizeof *pool) != 0) {
            rc = ctx_nomem(&c->kb->ctx);
            break;
        }
        if (u)
            memcpy(pool + npool, tmp, u * sizeof *pool);
        roff[i] = npool, rlen[i] = u;
        npool += u;
        /* what the node reached before and does not now goes: both
         * sorted, one merge (a search for each old pair cost more than
         * making the reach) */
        const uint32_t *now = pool + roff[i], *was = old + ooff[i];
        size_t nwas = ooff[i + 1] - ooff[i];
        if (tvec_reserve(c->m, kill, kill->n + nwas) != LORE_OK) {
            rc = ctx_nomem(&c->kb->ctx);
            break;
        }
        for (size_t q = 0, j = 0; q < nwas; q++) {
            while (j < rlen[i] && now[j] < was[q])
                j++;
            if (j < rlen[i] && now[j] == was[q])
                continue;
            uint32_t *t = kill->t + 3 * kill->n++; /* room made above */
            t[0] = node[i], t[1] = s->r, t[2] = was[q];
        }
        for (uint32_t k = next[i]; k < next[i + 1]; k++)
            if (--cnt[rev[k]] == 0)
                queue[qt++] = rev[k];
        if (rc == LORE_OK && (qh & 1023) == 0)
            rc = interrupted(c);
    }
#undef AFF_INDEX
    mem_free(c->m, rev, nids + 1, sizeof *rev);
    if (rc == LORE_OK && qt < nn) { /* a cycle among the affected */
        *cyclic = 1;
        kill->n = 0;
    }
done:
    mem_free(c->m, node, ncap, sizeof *node);
    mem_free(c->m, ids, idcap, sizeof *ids);
    mem_free(c->m, cnt, nn, sizeof *cnt);
    mem_free(c->m, next, nn + 1, sizeof *next);
    mem_free(c->m, queue, nn, sizeof *queue);
    mem_free(c->m, pool, poolcap, sizeof *pool);
    mem_free(c->m, tmp, tmpcap, sizeof *tmp);
    mem_free(c->m, old, oldcap, sizeof *old);
    mem_free(c->m, ooff, nn + 1, sizeof *ooff);
    mem_free(c->m, succ, nn + 1, sizeof *succ);
    mem_free(c->m, roff, nn, sizeof *roff);
    mem_free(c->m, rlen, nn, sizeof *rlen);
    tvec_free(c->m, &list);
    return rc;
}

/* Edges removed and edges added since the settled state.  Removals: the
 * sources that may lose pairs (the tail of a removed edge and what
 * reached it) get their reach again, walking edges through affected nodes
 * only and taking an unaffected node's reach whole; the pairs they lost
 * go.  Additions: a pair is new when its path uses a new edge (x, y):
 * every pair of what reaches x (x included) and what y reaches (y
 * included), both in the graph as it is now.  All is computed before the
 * store changes, then the pairs go and come in one step each. */
static int tc_incremental(ictx *c, const stratum *s, const tvec *ins, const tvec *del)
{
    int rc = LORE_OK;
    uset aff = {NULL, 0, 0}, seen = {NULL, 0, 0};
    tvec work = {NULL, 0, 0}, list = {NULL, 0, 0}, old = {NULL, 0, 0}, kill = {NULL, 0, 0};
    tvec pre = {NULL, 0, 0}, post = {NULL, 0, 0}, made = {NULL, 0, 0};
    uint32_t *qa = NULL, *ra = NULL, *subj = NULL, *pa = NULL;
    size_t nq = 0, nr = 0, qcap = 0, rcap = 0, nsubj = 0, scap = 0, npa = 0, pcap = 0;
    for (size_t i = 0; i < del->n && rc == LORE_OK; i++) {
        const uint32_t *t = del->t + 3 * i;
        if (t[1] != s->e)
            continue;
        int isnew;
        if (uset_add(c->m, &aff, t[0], &isnew) != LORE_OK) {
            rc = ctx_nomem(&c->kb->ctx);
            break;
        }
        list.n = 0;
        if ((rc = ids_of(c, 0, s->r, t[0], 0, &list)) != LORE_OK)
            break;
        for (size_t k = 0; k < list.n && rc == LORE_OK; k++)
            if (uset_add(c->m, &aff, list.t[3 * k], &isnew) != LORE_OK)
                rc = ctx_nomem(&c->kb->ctx);
    }
    /* without a cycle among the affected sources, each one's reach is made
     * once from those of what its edges lead to */
    int cyclic = 1;
    if (rc == LORE_OK && aff.n) {
        rc = tc_reach_affected(c, s, &aff, &kill, &cyclic);
        if (rc != LORE_OK)
            goto cleanup;
        if (!cyclic)
            nsubj = aff.n; /* sources changed: no direct additions below */
    }
    /* when the sources removals affect hold much of the closure,
     * computing it again and comparing their pairs (and those of what
     * reaches each new edge's tail) is cheaper (with no removal, nothing
     * is affected: additions alone go below) */
    if (rc == LORE_OK && cyclic && aff.n) {
        uset pre_all = {NULL, 0, 0};
        uint64_t work_est = 0, total = 0;
        for (size_t i = 0; i < ins->n && rc == LORE_OK; i++) {
            const uint32_t *t = ins->t + 3 * i;
            if (t[1] != s->e)
                continue;
            rc = walk_edges(c, s->e, t[0], 1, &pre, &seen);
            for (size_t k = 0; k < pre.n && rc == LORE_OK; k++) {
                int isnew;
                if (uset_add(c->m, &pre_all, pre.t[3 * k], &isnew) != LORE_OK)
                    rc = ctx_nomem(&c->kb->ctx);
            }
        }
        if (rc == LORE_OK && store_count(c->st, 0, s->r, 0, &total) != LORE_OK)
            rc = ctx_nomem(&c->kb->ctx);
        /* removals walk from each affected source through the others: that
         * costs a few times their pairs; additions are cheap either way */
        for (size_t i = 0; i < aff.cap && rc == LORE_OK; i++) {
            uint64_t k = 0;
            if (aff.v[i] && store_count(c->st, aff.v[i], s->r, 0, &k) != LORE_OK)
                rc = ctx_nomem(&c->kb->ctx);
            work_est += k + 1;
        }
        if (rc == LORE_OK && work_est * 4 > total + 4096) {
            for (size_t i = 0; i < pre_all.cap && rc == LORE_OK; i++) {
                int isnew;
                if (pre_all.v[i] && uset_add(c->m, &aff, pre_all.v[i], &isnew) != LORE_OK)
                    rc = ctx_nomem(&c->kb->ctx);
            }
            uset_free(c->m, &pre_all);
            if (rc == LORE_OK)
                rc = tc_rediff(c, s, &aff);
            goto cleanup;
        }
        uset_free(c->m, &pre_all);
    }
    if (rc == LORE_OK && cyclic)
        rc = uset_sorted(c, &aff, &subj, &scap, &nsubj);
    for (size_t ai = 0; ai < nsubj && rc == LORE_OK && cyclic; ai++) {
        uint32_t a = subj[ai];
        uset_clear(&seen);
        work.n = 0;
        uint32_t a3[3] = {a, 0, 0};
        if (tvec_push(c->m, &work, a3) != LORE_OK) {
            rc = ctx_nomem(&c->kb->ctx);
            break;
        }
        for (size_t w = 0; w < work.n && rc == LORE_OK; w++) {
            list.n = 0;
            if ((rc = ids_of(c, work.t[3 * w], s->e, 0, 2, &list)) != LORE_OK)
                break;
            for (size_t k = 0; k < list.n && rc == LORE_OK; k++) {
                uint32_t b = list.t[3 * k];
                int isnew;
                if (uset_add(c->m, &seen, b, &isnew) != LORE_OK) {
                    rc = ctx_nomem(&c->kb->ctx);
                    break;
                }
                if (!isnew)
                    continue;
                if (uset_has(&aff, b)) { /* affected: walk on */
                    uint32_t b3[3] = {b, 0, 0};
                    if (tvec_push(c->m, &work, b3) != LORE_OK)
                        rc = ctx_nomem(&c->kb->ctx);
                    continue;
                }
                /* unaffected: its reach is right, take it whole */
                old.n = 0;
                if ((rc = ids_of(c, b, s->r, 0, 2, &old)) != LORE_OK)
                    break;
                for (size_t q = 0; q < old.n && rc == LORE_OK; q++)
                    if (uset_add(c->m, &seen, old.t[3 * q], &isnew) != LORE_OK)
                        rc = ctx_nomem(&c->kb->ctx);
            }
        }
        if (rc != LORE_OK)
            break;
        old.n = 0;
        if ((rc = ids_of(c, a, s->r, 0, 2, &old)) != LORE_OK)
            break;
        for (size_t q = 0; q < old.n && rc == LORE_OK; q++) {
            uint32_t t[3] = {a, s->r, old.t[3 * q]};
            if (!uset_has(&seen, t[2]))
                rc = tvec_push(c->m, &kill, t) == LORE_OK ? LORE_OK : ctx_nomem(&c->kb->ctx);
        }
        /* reached over added edges too: added below with the others */
        if (rc == LORE_OK && (ai & 255) == 255)
            rc = interrupted(c);
    }
    rc = rc == LORE_OK ? underive_all(c, &kill) : rc;

    /* additions: each new edge's pairs that are not there yet.  With one
     * new edge and nothing taken out, the closure as it stands is right
     * for every other edge: what reaches the edge's tail and what its head
     * reaches are read from it in one scan each, not walked edge by edge
     * (an event stream adds one edge at a time) */
    size_t nins = 0;
    for (size_t i = 0; i < ins->n; i++)
        nins += ins->t[3 * i + 1] == s->e;
    int direct = nins == 1 && kill.n == 0 && nsubj == 0;
    for (size_t i = 0; i < ins->n && rc == LORE_OK; i++) {
        const uint32_t *t = ins->t + 3 * i;
        if (t[1] != s->e)
            continue;
        if (direct) {
            uint32_t u3[3] = {t[0], 0, 0}, v3[3] = {t[2], 0, 0};
            pre.n = post.n = 0;
            if (tvec_push(c->m, &pre, u3) != LORE_OK || tvec_push(c->m, &post, v3) != LORE_OK) {
                rc = ctx_nomem(&c->kb->ctx);
                break;
            }
            if ((rc = ids_of(c, 0, s->r, t[0], 0, &pre)) != LORE_OK ||
                (rc = ids_of(c, t[2], s->r, 0, 2, &post)) != LORE_OK)
                break;
        } else if ((rc = walk_edges(c, s->e, t[0], 1, &pre, &seen)) != LORE_OK ||
                   (rc = walk_edges(c, s->e, t[2], 0, &post, &seen)) != LORE_OK) {
            break;
        }
        if ((rc = sorted_ids(c, &post, &qa, &qcap, &nq)) != LORE_OK)
            break;
        /* each pair below was just looked for in the store and is not
         * there: commit need not look in the base again; with one new
         * edge, the sources in order and no two alike, the pairs are
         * made sorted and each once, and go in without the round's set */
        if (direct && (rc = sorted_ids(c, &pre, &pa, &pcap, &npa)) != LORE_OK)
            break;
        if (c->round.n == 0 && c->nbatch == 0)
            c->round_new = 1;
        size_t nsrc = direct ? npa : pre.n;
        for (size_t k = 0; k < nsrc && rc == LORE_OK; k++) {
            uint32_t a = direct ? pa[k] : pre.t[3 * k];
            /* what a reaches already, sorted, against what it should */
            if ((rc = sorted_ids_of(c, a, s->r, 0, 2, &ra, &rcap, &nr)) != LORE_OK)
                break;
            for (size_t q = 0, j = 0; q < nq && rc == LORE_OK; q++) {
                while (j < nr && ra[j] < qa[q])
                    j++;
                if (j < nr && ra[j] == qa[q])
                    continue;
                uint32_t f[3] = {a, s->r, qa[q]}; /* not there: a's reach lacks it */
                rc = direct ? (tvec_push(c->m, &made, f) == LORE_OK ? LORE_OK : ctx_nomem(&c->kb->ctx))
                            : add_round(c, f, (void *)1);
            }
        }
    }
    /* a pairing this big goes in bulk, through the round, as it does
     * beside facts the round holds already */
    if (rc == LORE_OK && made.n &&
        ((made.n >= BULK_MIN && made.n * 2 >= c->st->nlive) || c->round.n || c->nbatch)) {
        for (size_t i = 0; i < made.n && rc == LORE_OK; i++)
            rc = add_round(c, made.t + 3 * i, (void *)1);
        made.n = 0;
    }
    if (rc == LORE_OK)
        rc = made.n ? commit_new(c, &made) : commit(c);
cleanup:
    c->round_new = 0; /* (commit clears it; a failure before it must too) */
    tvec_free(c->m, &made);
    mem_free(c->m, pa, pcap, sizeof *pa);
    uset_free(c->m, &aff);
    uset_free(c->m, &seen);
    tvec_free(c->m, &work);
    tvec_free(c->m, &list);
    tvec_free(c->m, &old);
    tvec_free(c->m, &kill);
    tvec_free(c->m, &pre);
    tvec_free(c->m, &post);
    mem_free(c->m, qa, qcap, sizeof *qa);
    mem_free(c->m, ra, rcap, sizeof *ra);
    mem_free(c->m, subj, scap, sizeof *subj);
    return rc;
}

/* ------------------------------------------------------------------ */
/* maintenance of a stratum                                           */

/* The facts the stratum's heads match that are derived, into out. */
static int stratum_facts(ictx *c, const stratum *s, tvec *out)
{
    rules *R = c->R;
    tset seen = {NULL, 0, 0};
    int rc = LORE_OK;
    for (int i = 0; i < s->nrules && rc == LORE_OK; i++) {
        const rule *r = R->v[s->rules[i]];
        for (int j = 0; j < r->nhead && rc == LORE_OK; j++) {
            const hterm *h = r->head[j];
            store_iter it;
            uint32_t k[3];
            for (int x = 0; x < 3; x++)
                k[x] = h[x].var < 0 ? h[x].id : 0;
            if (store_iter_init(c->st, &it, k[0], k[1], k[2]) != LORE_OK) {
                rc = ctx_nomem(&c->kb->ctx);
                break;
            }
            uint32_t t[3 * 256];
            size_t got;
            while (rc == LORE_OK && store_iter_read(&it, t, 256, &got) == LORE_OK) {
                for (size_t q = 0; q < got && rc == LORE_OK; q++) {
                    const uint32_t *f = t + 3 * q;
                    if (!rules_head_matches(h, f) ||
                        !(store_meta(c->st, f[0], f[1], f[2]) & META_DERIVED))
                        continue;
                    int isnew;
                    if (tset_add(c->m, &seen, f, &isnew) != LORE_OK ||
                        (isnew && tvec_push(c->m, out, f) != LORE_OK))
                        rc = ctx_nomem(&c->kb->ctx);
                }
            }
            store_iter_done(&it);
        }
    }
    tset_free(c->m, &seen);
    return rc;
}

/* Does no rule of another stratum than s derive facts of preds[0..n) (or
 * of any predicate)? */
static int preds_own(const rules *R, const stratum *s, const uint32_t *preds, int n)
{
    for (size_t i = 0; i < R->n; i++) {
        const rule *r = R->v[i];
        for (int j = 0; j < r->nhead && r->stratum != (int)(s - R->strata); j++) {
            if (r->head[j][1].var >= 0)
                return 0;
            for (int k = 0; k < n; k++)
                if (r->head[j][1].id == preds[k])
                    return 0;
        }
    }
    return 1;
}

/* The predicates of s's heads into preds (room for `cap`), when every
 * head is (?, p, ?) with its own constant p that no rule of another
 * stratum derives: then s's derived facts are those of these predicates.
 * Returns how many, or 0 when s is not of that shape. */
static size_t own_predicates(const rules *R, const stratum *s, uint32_t *preds, size_t cap)
{
    for (int i = 0; i < s->nrules; i++) {
        const rule *r = R->v[s->rules[i]];
        for (int j = 0; j < r->nhead; j++)
            if (r->head[j][0].var < 0 || r->head[j][2].var < 0)
                return 0;
    }
    int n = head_preds(R, s, preds, (int)cap);
    return n > 0 && preds_own(R, s, preds, n) ? (size_t)n : 0;
}

/* The patterns of s's heads (0 for a variable) into *pats, when one pass
 * over the store finds its derived facts best: every head reads (?, p, ?)
 * or one has a variable predicate (a lookup by the heads would read as
 * much).  Heads that unify share a stratum, so a derived fact that matches
 * one is s's.  Returns how many, 0 when not of that shape or out of
 * memory (then the heads are looked up). */
static size_t head_patterns(ictx *c, const stratum *s, uint32_t **pats)
{
    const rules *R = c->R;
    size_t n = 0;
    int open = 1, anyp = 0;
    for (int i = 0; i < s->nrules; i++) {
        const rule *r = R->v[s->rules[i]];
        n += (size_t)r->nhead;
        for (int j = 0; j < r->nhead; j++) {
            open &= r->head[j][0].var >= 0 && r->head[j][2].var >= 0;
            anyp |= r->head[j][1].var >= 0;
        }
    }
    if (!n || !(open || anyp) || !(*pats = mem_alloc(c->m, 3 * n, sizeof **pats)))
        return 0;
    size_t k = 0;
    for (int i = 0; i < s->nrules; i++) {
        const rule *r = R->v[s->rules[i]];
        for (int j = 0; j < r->nhead; j++, k++)
            for (int x = 0; x < 3; x++)
                (*pats)[3 * k + x] = r->head[j][x].var < 0 ? r->head[j][x].id : 0;
    }
    return n;
}

/* Recomputes stratum s: its derived facts go, then it runs from scratch. */
static int recompute(ictx *c, stratum *s)
{
    uint32_t *pats = NULL;
    size_t np = head_patterns(c, s, &pats);
    if (np) { /* one pass over the store clears them all */
        size_t gone = 0;
        int rc = store_clear_derived_like(c->st, pats, np, &gone);
        mem_free(c->m, pats, 3 * np, sizeof *pats);
        if (rc < 0)
            return rc == LORE_ERR_NOMEM ? ctx_nomem(&c->kb->ctx) : rc;
        c->stats.removed += gone;
        if (store_compact(c->st) != LORE_OK) /* the plans count facts: not the dead */
            return ctx_nomem(&c->kb->ctx);
        return eval_scratch(c, s);
    }
    tvec old = {NULL, 0, 0};
    int rc = stratum_facts(c, s, &old);
    rc = rc == LORE_OK ? underive_all(c, &old) : rc;
    tvec_free(c->m, &old);
    if (rc == LORE_OK)
        rc = eval_scratch(c, s);
    return rc;
}

/* Three sorted copies of facts, for the executor's ghosts. */
typedef struct ghosts {
    qfacts q;
    uint32_t *buf;
    size_t n;
} ghosts;

static int ghosts_make(ictx *c, const tvec *v, ghosts *g)
{
    memset(g, 0, sizeof *g);
    if (!v->n)
        return LORE_OK;
    g->buf = mem_alloc(c->m, 9 * v->n, sizeof *g->buf);
    if (!g->buf)
        return ctx_nomem(&c->kb->ctx);
    g->n = v->n;
    for (int o = 0; o < 3; o++) {
        uint32_t *k = g->buf + 3 * v->n * (size_t)o;
        for (size_t i = 0; i < v->n; i++) {
            const uint32_t *t = v->t + 3 * i;
            uint32_t *d = k + 3 * i;
            if (o == ORD_SPO)
                d[0] = t[0], d[1] = t[1], d[2] = t[2];
            else if (o == ORD_POS)
                d[0] = t[1], d[1] = t[2], d[2] = t[0];
            else
                d[0] = t[2], d[1] = t[0], d[2] = t[1];
        }
        sort_rows(k, v->n, 3);
        g->q.k[o] = k;
    }
    g->q.n = v->n;
    return LORE_OK;
}

static void ghosts_free(ictx *c, ghosts *g)
{
    mem_free(c->m, g->buf, 9 * g->n, sizeof *g->buf);
    memset(g, 0, sizeof *g);
}

/* Overdeletion: facts of the stratum derived from a fact that goes. */
enum { OVER_BATCH = 32 };
_Static_assert(OVER_BATCH <= TSET_BATCH, "a batch goes to rset_add_many whole");
typedef struct over {
    rset del;     /* facts whose derived mark goes (but those of `rest`) */
    tvec next;    /* facts that go and were not yet followed */
    tvec rest;    /* once: the facts that go and are not in del */
    size_t limit; /* more facts to go than this: recompute instead */
    int bail;     /* the limit was passed */
    int look;     /* look candidates up: some fact of the heads may be asserted */
    /* After the first round of an exact deletion whose rules read their
     * own facts through one pattern (dred): a derivation that reads a fact
     * that went was found in that round and is passed over, and each
     * candidate not in `multi` is new */
    int once;
    const stratum *s;
    const tset *multi;
    const ghosts *went;  /* the facts that went */
    uint64_t wsub[64], wobj[64]; /* a filter of them: their subjects' and objects' bits */
    const rule *wr;      /* the rule whose premises wp lists (wn of them) */
    struct {
        int var[3];      /* the row's variable at each place, or -1 */
        uint32_t id[3];  /* else the constant */
    } wp[8];
    int wn;
    uint32_t batch[3 * OVER_BATCH]; /* candidates, looked up together */
    size_t nbatch;
} over;

/* The facts the overdeletion takes out so far. */
static size_t over_count(const over *ov) { return ov->del.n + ov->rest.n; }

static int over_one(ictx *c, over *ov, const uint32_t *t)
{
    /* a candidate is derived (a head over the facts as they were); an
     * asserted one stays and is not followed, which only saves work (with
     * no fact of the heads asserted, over_flush does not look) */
    uint32_t meta = store_meta(c->st, t[0], t[1], t[2]);
    if (!(meta & META_DERIVED))
        return LORE_OK;
    int isnew;
    if (rset_add(c->m, &ov->del, t, &isnew) != LORE_OK)
        return ctx_nomem(&c->kb->ctx);
    if (isnew && !(meta & META_ASSERTED) && tvec_push(c->m, &ov->next, t) != LORE_OK)
        return ctx_nomem(&c->kb->ctx);
    if (over_count(ov) > ov->limit) {
        ov->bail = 1;
        return LORE_DONE; /* stops the body; dred sees bail */
    }
    return LORE_OK;
}

/* The batch's candidates, their lookups prefetched before any is made:
 * the misses overlap (each was a binary search in the base, one after
 * another); with nothing to look up, the set's probes are.  LORE_DONE
 * once the limit is passed. */
static int over_flush(ictx *c, over *ov)
{
    int rc = LORE_OK;
    if (ov->once) { /* (nothing looked up: an exact deletion's) */
        unsigned char multi[OVER_BATCH];
        tset_has_many(ov->multi, ov->batch, ov->nbatch, multi);
        if (tvec_reserve(c->m, &ov->rest, ov->rest.n + ov->nbatch) != LORE_OK ||
            tvec_reserve(c->m, &ov->next, ov->next.n + ov->nbatch) != LORE_OK)
            return ctx_nomem(&c->kb->ctx);
        for (size_t i = 0; i < ov->nbatch && rc == LORE_OK; i++) {
            const uint32_t *t = ov->batch + 3 * i;
            int isnew = 1;
            if (multi[i] && rset_add(c->m, &ov->del, t, &isnew) != LORE_OK)
                rc = ctx_nomem(&c->kb->ctx);
            else if (!multi[i])
                memcpy(ov->rest.t + 3 * ov->rest.n++, t, 3 * sizeof *t); /* room made */
            if (isnew)
                memcpy(ov->next.t + 3 * ov->next.n++, t, 3 * sizeof *t);
        }
        ov->nbatch = 0;
        if (rc == LORE_OK && over_count(ov) > ov->limit) {
            ov->bail = 1;
            rc = LORE_DONE;
        }
        return rc;
    }
    if (!ov->look && ov->nbatch) {
        unsigned char isnew[OVER_BATCH];
        if (rset_add_many(c->m, &ov->del, ov->batch, ov->nbatch, isnew) != LORE_OK)
            return ctx_nomem(&c->kb->ctx);
        for (size_t i = 0; i < ov->nbatch && rc == LORE_OK; i++)
            if (isnew[i] && tvec_push(c->m, &ov->next, ov->batch + 3 * i) != LORE_OK)
                rc = ctx_nomem(&c->kb->ctx);
        ov->nbatch = 0;
        if (rc == LORE_OK && over_count(ov) > ov->limit) {
            ov->bail = 1;
            rc = LORE_DONE;
        }
        return rc;
    }
    /* those the set holds already are not looked up again (most of an
     * RDFS-style deletion's candidates: one in six was new) */
    size_t k = 0;
    unsigned char has[OVER_BATCH];
    rset_has_many(&ov->del, ov->batch, ov->nbatch, has);
    for (size_t i = 0; i < ov->nbatch; i++) {
        const uint32_t *t = ov->batch + 3 * i;
        if (has[i])
            continue;
        store_meta_prefetch(c->st, t[0], t[1], t[2]);
        memmove(ov->batch + 3 * k++, t, 3 * sizeof *t);
    }
    for (size_t i = 0; i < k && rc == LORE_OK; i++)
        rc = over_one(c, ov, ov->batch + 3 * i);
    ov->nbatch = 0;
    return rc;
}

static int over_fact(ictx *c, const uint32_t *t, void *arg)
{
    over *ov = arg;
    memcpy(ov->batch + 3 * ov->nbatch++, t, 3 * sizeof *t);
    return ov->nbatch == OVER_BATCH ? over_flush(c, ov) : LORE_OK;
}

/* A sixteenth of the facts of s's head predicates (all facts when a
 * head's predicate is a variable), at least 4096: dred's limit counts in
 * these (past it recomputing s is cheaper).  Deleting and rederiving a
 * fact costs several times what deriving it from scratch does
 * (bench/RESULTS.md, upkeep). */
static size_t over_limit(ictx *c, const stratum *s)
{
    uint64_t n;
    if (head_facts(c, s, &n) != LORE_OK || n == UINT64_MAX)
        n = c->st->nlive;
    return n / 16 > 4096 ? (size_t)(n / 16) : 4096;
}

/* Is t one of the facts that went?  (The filter first: most are not.) */
static inline uint32_t went_bit(uint32_t id) { return (id * 0x9e3779b1u) >> 20; }

static int went(const over *ov, const uint32_t t[3])
{
    uint32_t hs = went_bit(t[0]), ho = went_bit(t[2]);
    return (ov->wsub[hs >> 6] >> (hs & 63) & ov->wobj[ho >> 6] >> (ho & 63) & 1) &&
           qfacts_has(&ov->went->q, t);
}

static int emit_over(ictx *c, rule *r, const uint32_t *row, void *arg)
{
    over *ov = arg;
    if (ov->once) {
        if (ov->wr != r) { /* r's premises, listed once */
            ov->wn = 0;
            for (int d = 0; d < r->nreads && ov->wn < 8; d++) {
                const rread *rd = &r->reads[d];
                if (rd->how != RD_POS || reads_own(c->R, ov->s, rd))
                    continue; /* (a fact that went is not the stratum's: exact) */
                const qnode *n = &r->prog->nodes[rd->node];
                for (int k = 0; k < 3; k++)
                    ov->wp[ov->wn].var[k] = n->t[k].var, ov->wp[ov->wn].id[k] = rd->key[k];
                ov->wn++;
            }
            ov->wr = r;
        }
        for (int d = 0; d < ov->wn; d++) {
            uint32_t t[3];
            for (int k = 0; k < 3; k++)
                t[k] = ov->wp[d].var[k] >= 0 ? row[ov->wp[d].var[k]] : ov->wp[d].id[k];
            if (went(ov, t))
                return LORE_OK; /* found in the first round */
        }
    }
    return heads(c, r, row, over_fact, arg);
}

/* May an exact deletion of s go by ov.once?  When its rules read their
 * own facts through one plain pattern (deferrable) and every fact a
 * derivation stands on through plain patterns (emit_over checks those). */
static int once_able(const rules *R, const stratum *s)
{
    if (!deferrable(R, s))
        return 0;
    for (int i = 0; i < s->nrules; i++) {
        const rule *r = R->v[s->rules[i]];
        int npos = 0;
        for (int d = 0; d < r->nreads; d++)
            if (r->reads[d].how == RD_POS
                    ? r->reads[d].k < 0 || r->reads[d].branch || ++npos > 8
                    : r->reads[d].how != RD_NEG)
                return 0;
    }
    return 1;
}

/* Does some rule of s derive t from the facts as they are? */
typedef struct found {
    int yes;
} found;

static int emit_found(ictx *c, rule *r, const uint32_t *row, void *arg)
{
    (void)c, (void)r, (void)row;
    ((found *)arg)->yes = 1;
    return LORE_DONE; /* one solution is enough */
}

/* How many facts read rd matches with the values of init (0 where not
 * bound) into *n; *fixed 0 when it fixes no term (a scan of everything). */
static int read_count(ictx *c, const rule *r, const rread *rd, const uint32_t *init, uint64_t *n,
                      int *fixed)
{
    const qnode *x = &r->prog->nodes[rd->node];
    uint32_t k[3];
    *fixed = 0;
    for (int i = 0; i < 3; i++) {
        k[i] = x->t[i].var >= 0 ? init[x->t[i].var] : rd->key[i];
        *fixed |= k[i] != 0;
    }
    if (k[0] == ~0u || k[1] == ~0u || k[2] == ~0u) { /* an unknown constant: nothing */
        *n = 0;
        return LORE_OK;
    }
    if (!*fixed)
        return LORE_OK;
    if (c->ncounts >= c->countcap / 2) { /* (none yet, or half full) start again */
        size_t cap = c->countcap ? c->countcap : 4096;
        if (!c->counts && !(c->counts = mem_alloc(c->m, 4 * cap, sizeof *c->counts)))
            return ctx_nomem(&c->kb->ctx);
        memset(c->counts, 0, 4 * cap * sizeof *c->counts);
        c->countcap = cap, c->ncounts = 0;
    }
    size_t mask = c->countcap - 1, i = hash_triple(k[0], k[1], k[2]) & mask;
    uint32_t *e = c->counts + 4 * i;
    while ((e[0] | e[1] | e[2]) && (e[0] != k[0] || e[1] != k[1] || e[2] != k[2])) {
        i = (i + 1) & mask;
        e = c->counts + 4 * i;
    }
    if (e[0] | e[1] | e[2]) {
        *n = e[3];
        return LORE_OK;
    }
    int rc = store_count_upto(c->st, k[0], k[1], k[2], n);
    if (rc != LORE_OK)
        return rc == LORE_ERR_NOMEM ? ctx_nomem(&c->kb->ctx) : rc;
    e[0] = k[0], e[1] = k[1], e[2] = k[2];
    e[3] = *n < UINT32_MAX ? (uint32_t)*n : UINT32_MAX;
    c->ncounts++;
    return LORE_OK;
}

/* The plan that checks a fact against head j of r (its values in init).
 * The check's plan is ordered by average counts, but a check asks about
 * one fact and data are skewed (a class near the root of a tree has
 * thousands of subclasses, a leaf none): when the plan's first pattern,
 * with the fact's values, matches more than LEAD_MIN facts, the top-level
 * pattern with a fixed term that matches fewest leads instead, the rest
 * ordered after it (a plan kept per head and pattern). */
enum { LEAD_MIN = 16 };
static int check_plan(ictx *c, rule *r, int j, const uint32_t *init, const qplan **out)
{
    const qplan *pl = &r->check[j].pl;
    *out = pl;
    if (r->nreads < 2 || !pl->nsteps || pl->steps[0].kind != S_SCAN)
        return LORE_OK;
    int first = -1, lead = -1;
    for (int d = 0; d < r->nreads && first < 0; d++)
        if (r->reads[d].node == pl->steps[0].node && r->reads[d].how == RD_POS)
            first = d;
    if (first < 0)
        return LORE_OK;
    uint64_t best = 0, n;
    int fixed, rc = read_count(c, r, &r->reads[first], init, &best, &fixed);
    if (rc != LORE_OK || best <= (c->R->lead_min ? c->R->lead_min : LEAD_MIN))
        return rc;
    for (int d = 0; d < r->nreads; d++) {
        const rread *rd = &r->reads[d];
        if (d == first || rd->how != RD_POS || rd->k < 0 || r->prog->nodes[rd->node].parent != 0)
            continue;
        if ((rc = read_count(c, r, rd, init, &n, &fixed)) != LORE_OK)
            return rc;
        if (fixed && n < best)
            best = n, lead = d;
    }
    if (lead < 0)
        return LORE_OK;
    if (!r->checklead) {
        r->checklead = mem_calloc(c->m, (size_t)r->nhead * (size_t)r->nreads, sizeof *r->checklead);
        if (!r->checklead)
            return ctx_nomem(&c->kb->ctx);
    }
    rplan *lp = &r->checklead[j * r->nreads + lead];
    rc = plan_of(c, r, lp, -1, 0, r->checkbound[j], 0, r->reads[lead].node + 1);
    if (rc == LORE_OK)
        *out = &lp->pl;
    return rc;
}

static int derivable(ictx *c, const stratum *s, const uint32_t *t, int *yes)
{
    rules *R = c->R;
    *yes = 0;
    for (int i = 0; i < s->nrules && !*yes; i++) {
        rule *r = R->v[s->rules[i]];
        if (r->agg)
            continue; /* strata with aggregates are recomputed, never here */
        for (int j = 0; j < r->nhead && !*yes; j++) {
            const hterm *h = r->head[j];
            if (!rules_head_matches(h, t))
                continue;
            int nv = r->prog->nvars;
            if (!r->checkbound[j]) {
                r->checkbound[j] = mem_calloc(c->m, (size_t)nv + 1, 1);
                if (!r->checkbound[j])
                    return ctx_nomem(&c->kb->ctx);
                for (int k = 0; k < 3; k++)
                    if (h[k].var >= 0)
                        r->checkbound[j][h[k].var] = 1;
            }
            int rc = plan(c, r, &r->check[j], -1, 0, r->checkbound[j]);
            if (rc != LORE_OK)
                return rc;
            if (vals_reserve(c, (size_t)nv + 1) != LORE_OK)
                return LORE_ERR_NOMEM;
            uint32_t *init = c->vals;
            memset(init, 0, ((size_t)nv + 1) * sizeof *init);
            for (int k = 0; k < 3; k++)
                if (h[k].var >= 0)
                    init[h[k].var] = t[k];
            const qplan *pl;
            if ((rc = check_plan(c, r, j, init, &pl)) != LORE_OK)
                return rc;
            found f = {0};
            rc = run_body(c, r, pl, init, NULL, 0, emit_found, &f);
            if (rc == LORE_DONE)
                rc = LORE_OK;
            if (rc != LORE_OK)
                return rc;
            *yes = f.yes;
        }
    }
    return LORE_OK;
}

/* Sorted rows of 3 ids with each repeat dropped: how many stay. */
static size_t unique_rows(uint32_t *t, size_t n)
{
    size_t w = n ? 1 : 0;
    for (size_t i = 1; i < n; i++) {
        const uint32_t *a = t + 3 * (w - 1), *b = t + 3 * i;
        if (a[0] == b[0] && a[1] == b[1] && a[2] == b[2])
            continue;
        if (w != i)
            t[3 * w] = b[0], t[3 * w + 1] = b[1], t[3 * w + 2] = b[2];
        w++;
    }
    return w;
}

/* Sorts v's rows, through a copy when memory allows: each row packed
 * into one integer (radix passes over the bits its ids use), else radix
 * passes on the subjects and each subject's rows sorted. */
static void sort_gone(ictx *c, tvec *v)
{
    if (v->n <= 4096) {
        sort_rows(v->t, v->n, 3);
        return;
    }
    uint64_t *packed = mem_alloc(c->m, 2 * v->n, sizeof *packed);
    int done = packed && sort_rows_packed(v->t, v->n, packed);
    mem_free(c->m, packed, 2 * v->n, sizeof *packed);
    if (done)
        return;
    uint32_t maxkey = 0;
    for (size_t i = 0; i < v->n; i++)
        maxkey = v->t[3 * i] > maxkey ? v->t[3 * i] : maxkey;
    uint32_t *tmp = mem_alloc(c->m, 3 * v->n, sizeof *tmp);
    if (tmp)
        sort_rows_radix(v->t, v->n, 3, maxkey, tmp);
    else
        sort_rows(v->t, v->n, 3);
    mem_free(c->m, tmp, 3 * v->n, sizeof *tmp);
}

/* ------------------------------------------------------------------ */
/* upkeep by slices: negation and aggregates over other strata's facts  */

/* Does a rule other than `self` derive facts of predicate p (or of any)? */
static int others_derive(const rules *R, const rule *self, uint32_t p)
{
    for (size_t i = 0; i < R->n; i++) {
        const rule *r = R->v[i];
        for (int j = 0; j < r->nhead && r != self; j++)
            if (r->head[j][1].var >= 0 || r->head[j][1].id == p)
                return 1;
    }
    return 0;
}

/* Can s be kept up by slices?  Its rules read no fact of its own heads
 * (a change in it then changes nothing else in it) and only patterns
 * (plain, under `without`, or an aggregate's), its heads' predicates are
 * constants no rule of another stratum derives, and an aggregate's only
 * it derives (a slice's facts are then all that rule's). */
static int sliceable(const rules *R, const stratum *s)
{
    uint32_t preds[16];
    int np = head_preds(R, s, preds, 16);
    if (s->tc != TC_NONE || np <= 0)
        return 0;
    for (int i = 0; i < s->nrules; i++) {
        const rule *r = R->v[s->rules[i]];
        if (r->naive)
            return 0;
        for (int d = 0; d < r->nreads; d++) {
            const rread *rd = &r->reads[d];
            if (rd->k < 0 || rd->how == RD_PATH || reads_own(R, s, rd))
                return 0;
        }
        for (int j = 0; j < r->nhead && r->agg; j++)
            if (others_derive(R, r, r->head[j][1].id))
                return 0;
    }
    return preds_own(R, s, preds, np);
}

/* Puts the head facts of a row into the set arg. */
static int emit_now(ictx *c, rule *r, const uint32_t *row, void *arg)
{
    return heads(c, r, row, set_add, arg);
}

/* Runs aggregate rule r with the variables `bound` marks pre-bound to
 * vals, each row's head facts to fn (as run_agg does, whole). */
static int run_agg_bound(ictx *c, rule *r, const uint32_t *vals, const uint8_t *bound, emit_fn fn,
                         void *arg)
{
    int nv = r->prog->nvars, rc = LORE_OK;
    for (int v = 0; v < nv && rc == LORE_OK; v++)
        if (bound[v])
            rc = query_bind_var(r->body, v, vals[v]);
    if (rc == LORE_OK)
        rc = run_agg_rows(c, r, fn, arg);
    for (int v = 0; v < nv; v++)
        if (bound[v])
            (void)query_bind_var(r->body, v, 0); /* (unbinding allocates nothing) */
    return rc == LORE_ERR_NOMEM ? ctx_nomem(&c->kb->ctx) : rc;
}

/* Binds read d's pattern to fact t: vals[var] gets t's id (vals zeroed by
 * the caller); 0 when t does not fit it. */
static int bind_read(const rule *r, const rread *d, const uint32_t *t, uint32_t *vals)
{
    const qnode *n = &r->prog->nodes[d->node];
    for (int k = 0; k < 3; k++) {
        int v = n->t[k].var;
        if (v < 0 && d->key[k] != t[k])
            return 0;
        if (v >= 0 && vals[v] && vals[v] != t[k])
            return 0;
        if (v >= 0)
            vals[v] = t[k];
    }
    return 1;
}

/* The head's variables that read d of r binds (of an aggregate's, those
 * it groups by: another would change what it aggregates):
 * r->slicebound[d]. */
static int slice_bound(ictx *c, rule *r, int d)
{
    int nv = r->prog->nvars;
    if (!r->slice) {
        r->slice = mem_calloc(c->m, (size_t)r->nreads, sizeof *r->slice);
        r->slicebound = mem_calloc(c->m, (size_t)r->nreads, sizeof *r->slicebound);
        if (!r->slice || !r->slicebound) {
            mem_free(c->m, r->slice, (size_t)r->nreads, sizeof *r->slice);
            mem_free(c->m, r->slicebound, (size_t)r->nreads, sizeof *r->slicebound);
            r->slice = NULL, r->slicebound = NULL;
            return ctx_nomem(&c->kb->ctx);
        }
    }
    if (!r->slicebound[d]) {
        uint8_t *b = mem_calloc(c->m, (size_t)nv + 1, 1);
        if (!b)
            return ctx_nomem(&c->kb->ctx);
        const qnode *n = &r->prog->nodes[r->reads[d].node];
        for (int j = 0; j < r->nhead; j++)
            for (int k = 0; k < 3; k++) {
                int v = r->head[j][k].var, grouped = !r->agg;
                for (int g = 0; g < r->prog->ngroup && !grouped; g++)
                    grouped = r->prog->group[g] == v;
                for (int q = 0; q < 3 && grouped; q++)
                    if (v >= 0 && v == n->t[q].var)
                        b[v] = 1;
            }
        r->slicebound[d] = b;
    }
    return LORE_OK;
}

/* The work of upkeep by slices. */
typedef struct slicer {
    tset cand;            /* facts of the slices that held: to be checked */
    tset now;             /* facts of the slices that hold now */
    tset seen;            /* the slices made: rule and read, up to two bound values */
    uint32_t *vals, *init; /* a rule's variables: fixed by the fact, pre-bound */
    int whole;            /* a slice would be every fact of a predicate */
} slicer;

/* Head h's pattern with the variables `bound` marks fixed to vals (0
 * where free): a slice of its facts. */
static void slice_head(const hterm *h, const uint8_t *bound, const uint32_t *vals, uint32_t q[3])
{
    for (int k = 0; k < 3; k++)
        q[k] = h[k].var < 0 ? h[k].id : bound[h[k].var] ? vals[h[k].var] : 0;
}

/* The slice that fact f fixes through read d of s's i-th rule.  On pass 0
 * only whether it fixes something of each head (else sl->whole); on pass
 * 1, once per slice, its facts that held go to cand and those that hold
 * now to now. */
static int slice_one(ictx *c, stratum *s, slicer *sl, int i, int d, const uint32_t *f, int pass)
{
    rule *r = c->R->v[s->rules[i]];
    int nv = r->prog->nvars, rc;
    memset(sl->vals, 0, ((size_t)nv + 1) * sizeof *sl->vals);
    if (!bind_read(r, &r->reads[d], f, sl->vals))
        return LORE_OK;
    if ((rc = slice_bound(c, r, d)) != LORE_OK)
        return rc;
    const uint8_t *bound = r->slicebound[d];
    for (int j = 0; j < r->nhead; j++) {
        uint32_t q[3];
        slice_head(r->head[j], bound, sl->vals, q);
        if (q[0] == 0 && q[2] == 0) {
            sl->whole = 1; /* (found on pass 0: nothing changed) */
            return LORE_OK;
        }
    }
    if (pass == 0)
        return LORE_OK;
    /* a slice once (many changed facts may fix the same one: a thousand
     * new members of one group) */
    if (i < 0xffff && d < 0xffff) {
        uint32_t key[3] = {((uint32_t)i << 16 | (uint32_t)d) + 1, 0, 0};
        int nb = 0, isnew = 1;
        for (int v = 0; v <= nv; v++)
            if (bound[v] && nb++ < 2)
                key[nb] = sl->vals[v];
        if (nb <= 2 && tset_add(c->m, &sl->seen, key, &isnew) != LORE_OK)
            return ctx_nomem(&c->kb->ctx);
        if (!isnew)
            return LORE_OK;
    }
    /* the head facts of the slice: kept or checked */
    for (int j = 0; j < r->nhead; j++) {
        const hterm *h = r->head[j];
        uint32_t q[3], t[3];
        slice_head(h, bound, sl->vals, q);
        store_iter it;
        if (store_iter_init(c->st, &it, q[0], q[1], q[2]) != LORE_OK)
            return ctx_nomem(&c->kb->ctx);
        while (rc == LORE_OK && store_iter_next(&it, t) == LORE_OK) {
            int isnew;
            if (rules_head_matches(h, t) && (store_meta(c->st, t[0], t[1], t[2]) & META_DERIVED) &&
                tset_add(c->m, &sl->cand, t, &isnew) != LORE_OK)
                rc = ctx_nomem(&c->kb->ctx);
        }
        store_iter_done(&it);
        if (rc != LORE_OK)
            return rc;
    }
    /* what holds in the slice now */
    memset(sl->init, 0, ((size_t)nv + 1) * sizeof *sl->init);
    for (int v = 0; v <= nv; v++)
        if (bound[v])
            sl->init[v] = sl->vals[v];
    if (r->agg)
        return run_agg_bound(c, r, sl->init, bound, emit_now, &sl->now);
    if ((rc = plan(c, r, &r->slice[d], -1, 0, bound)) != LORE_OK)
        return rc;
    return run_body(c, r, &r->slice[d].pl, sl->init, NULL, 0, emit_now, &sl->now);
}

/* Brings a sliceable stratum s up to date with the facts that appeared
 * (ins) or went (del).  A fact that one of its rules' patterns matches
 * fixes the head's variables that pattern shares with it: a slice of the
 * head's facts.  A fact of the slice that held may not now (its check
 * runs the whole body), and the body run with those variables bound makes
 * every fact of the slice that holds now; no other fact of s can have
 * changed.  A head that a pattern fixes nothing of (the slice would be
 * every fact of its predicate): recomputed instead.  *whole is set then,
 * before anything changed. */
static int slice_upkeep(ictx *c, stratum *s, const tvec *ins, const tvec *del, int *whole)
{
    rules *R = c->R;
    slicer sl;
    memset(&sl, 0, sizeof sl);
    tvec gone = {NULL, 0, 0};
    size_t nvmax = 1;
    int rc = LORE_OK;
    /* its facts now come without their second derivations noted */
    s->multi_known = 0;
    tset_free(c->m, &s->multi);
    for (int i = 0; i < s->nrules; i++)
        if ((size_t)R->v[s->rules[i]]->prog->nvars + 1 > nvmax)
            nvmax = (size_t)R->v[s->rules[i]]->prog->nvars + 1;
    sl.vals = mem_alloc(c->m, 2 * nvmax, sizeof *sl.vals);
    if (!sl.vals)
        return ctx_nomem(&c->kb->ctx);
    sl.init = sl.vals + nvmax;
    /* pass 0: every slice's head pattern fixes something, or all again */
    for (int pass = 0; pass < 2 && rc == LORE_OK && !sl.whole; pass++)
        for (size_t x = 0; x < ins->n + del->n && rc == LORE_OK && !sl.whole; x++) {
            const uint32_t *f = x < ins->n ? ins->t + 3 * x : del->t + 3 * (x - ins->n);
            for (int i = 0; i < s->nrules && rc == LORE_OK && !sl.whole; i++)
                for (int d = 0; d < R->v[s->rules[i]]->nreads && rc == LORE_OK && !sl.whole; d++)
                    rc = slice_one(c, s, &sl, i, d, f, pass);
            if (rc == LORE_OK && (x & 255) == 255)
                rc = interrupted(c);
        }
    *whole = sl.whole;
    if (rc != LORE_OK || *whole)
        goto done;
    /* the facts that held and do not now go (one of an aggregate's slice
     * not made again; another not derivable), those that hold come */
    for (size_t i = 0; i < sl.cand.cap && rc == LORE_OK; i++) {
        const uint32_t *t = sl.cand.t + 3 * i;
        if (!t[0] || tset_has(&sl.now, t))
            continue;
        int yes = 0;
        for (int k = 0; k < s->nrules && !yes; k++) {
            const rule *r = R->v[s->rules[k]];
            for (int j = 0; j < r->nhead && r->agg; j++)
                yes |= r->head[j][1].id == t[1];
        }
        if (yes) /* an aggregate's: gone */
            yes = 0;
        else if ((rc = derivable(c, s, t, &yes)) != LORE_OK)
            break;
        if (!yes && tvec_push(c->m, &gone, t) != LORE_OK)
            rc = ctx_nomem(&c->kb->ctx);
    }
    if (rc == LORE_OK) {
        sort_gone(c, &gone);
        rc = underive_all(c, &gone);
    }
    for (size_t i = 0; i < sl.now.cap && rc == LORE_OK; i++)
        if (sl.now.t[3 * i])
            rc = add_round(c, sl.now.t + 3 * i, NULL);
    if (rc == LORE_OK)
        rc = commit(c);
    c->fresh.n = 0; /* nothing of s reads them */
done:
    tset_free(c->m, &sl.cand);
    tset_free(c->m, &sl.now);
    tset_free(c->m, &sl.seen);
    tvec_free(c->m, &gone);
    mem_free(c->m, sl.vals, 2 * nvmax, sizeof *sl.vals);
    return rc;
}

/* ------------------------------------------------------------------ */
/* negated inputs of a stratum that reads its own facts                */

/* A plan of r's body with negated read d's outer variables pre-bound:
 * whole, or without its without-groups. */
static int neg_plan(ictx *c, rule *r, int d, int whole, rplan **out)
{
    int nv = r->prog->nvars;
    if (!r->neg && !(r->neg = mem_calloc(c->m, (size_t)r->nreads, sizeof *r->neg)))
        return ctx_nomem(&c->kb->ctx);
    rneg *n = &r->neg[d];
    if (!n->bound) {
        if (!(n->bound = mem_calloc(c->m, (size_t)nv + 1, 1)))
            return ctx_nomem(&c->kb->ctx);
        const qnode *x = &r->prog->nodes[r->reads[d].node];
        for (int k = 0; k < 3; k++)
            if (r->reads[d].outer & 1 << k)
                n->bound[x->t[k].var] = 1;
    }
    *out = whole ? &n->run : &n->pos;
    return plan_of(c, r, *out, -1, 0, n->bound, !whole, 0);
}

/* Can dred keep s up with these changes?  Yes when each that a rule of s
 * reads otherwise than through a plain pattern meets a negated pattern
 * whose fact fixes some of the body's variables (rread.outer), and no rule
 * of s aggregates or runs whole. */
static int neg_only(const rules *R, const stratum *s, const tvec *ins, const tvec *del)
{
    for (int i = 0; i < s->nrules; i++)
        if (R->v[s->rules[i]]->agg || R->v[s->rules[i]]->naive)
            return 0;
    for (size_t x = 0; x < ins->n + del->n; x++) {
        const uint32_t *t = x < ins->n ? ins->t + 3 * x : del->t + 3 * (x - ins->n);
        for (int i = 0; i < s->nrules; i++) {
            const rule *r = R->v[s->rules[i]];
            for (int d = 0; d < r->nreads; d++) {
                const rread *rd = &r->reads[d];
                if (read_matches(rd, t) && !(rd->how == RD_POS && rd->k >= 0) &&
                    !(rd->how == RD_NEG && rd->outer))
                    return 0;
            }
        }
    }
    return 1;
}

/* Do the facts of v only block?  Each meets no plain pattern of s, and
 * the negated ones it meets are their without-groups whole, the only
 * negation of their rules: every derivation its seed (neg_seeds) finds,
 * but those blocked before, is lost for certain, as one that reads a fact
 * taken out is. */
static int blocks_only(const rules *R, const stratum *s, const tvec *v)
{
    for (size_t x = 0; x < v->n; x++)
        for (int i = 0; i < s->nrules; i++) {
            const rule *r = R->v[s->rules[i]];
            int nneg = 0, hit = 0;
            for (int d = 0; d < r->nreads; d++) {
                const rread *rd = &r->reads[d];
                nneg += rd->how == RD_NEG;
                if (!read_matches(rd, v->t + 3 * x))
                    continue;
                if (rd->how != RD_NEG || !rd->alone)
                    return 0;
                hit = 1;
            }
            if (hit && nneg > 1)
                return 0;
        }
    return 1;
}

/* Fixes in init the outer variables of read d (of s's i-th rule) from
 * fact f, and makes key: the rule and read, and the values.  Returns 1
 * when key says all that (at most two values, small indexes), else 0. */
static int neg_key(const rule *r, int i, int d, const uint32_t *f, uint32_t *init, uint32_t key[3])
{
    const rread *rd = &r->reads[d];
    const qnode *n = &r->prog->nodes[rd->node];
    int nb = 0;
    key[0] = ((uint32_t)i << 16 | (uint32_t)d) + 1, key[1] = key[2] = 0;
    for (int k = 0; k < 3; k++)
        if (rd->outer & 1 << k) {
            init[n->t[k].var] = f[k];
            if (nb < 2)
                key[1 + nb] = f[k];
            nb++;
        }
    return nb <= 2 && i < 0xffff && d < 0xffff;
}

/* Was what a new fact of read d blocks (its outer variables fixed in
 * init) blocked before already?  Yes when the read is its without-group
 * whole and another fact fits it with those values: one that stays (not
 * in the new facts, ins) or went (a key of gone). */
static int blocked_before(ictx *c, const rule *r, const rread *rd, const uint32_t *init,
                          const uint32_t key[3], int keyed, const tset *ins, const tset *gone,
                          uint32_t *vals, int *yes)
{
    *yes = 0;
    if (!rd->alone)
        return LORE_OK;
    if (keyed && tset_has(gone, key)) {
        *yes = 1;
        return LORE_OK;
    }
    const qnode *n = &r->prog->nodes[rd->node];
    size_t nv = (size_t)r->prog->nvars + 1;
    uint32_t q[3], t[3];
    for (int k = 0; k < 3; k++)
        q[k] = n->t[k].var < 0 ? rd->key[k] : rd->outer & 1 << k ? init[n->t[k].var] : 0;
    store_iter it;
    if (store_iter_init(c->st, &it, q[0], q[1], q[2]) != LORE_OK)
        return ctx_nomem(&c->kb->ctx);
    while (!*yes && store_iter_next(&it, t) == LORE_OK) {
        memcpy(vals, init, nv * sizeof *vals);
        *yes = bind_read(r, rd, t, vals) && !tset_has(ins, t);
    }
    store_iter_done(&it);
    return LORE_OK;
}

/* For each fact of v a negated read of s's rules matches, runs the rule
 * with the read's outer variables fixed by the fact, once per rule, read
 * and values: without its without-groups (whole == 0: every derivation
 * the fact, new, may block, over the facts as they were; those another
 * fact blocked before, when that is known, are left: del holds the facts
 * that went) or whole (whole == 1: what the fact, gone, no longer
 * blocks). */
static int neg_seeds(ictx *c, const stratum *s, const tvec *v, const tvec *del, int whole, emit_fn emit,
                     void *arg)
{
    rules *R = c->R;
    tset seen = {NULL, 0, 0}, ins = {NULL, 0, 0}, gone = {NULL, 0, 0};
    uint32_t *vals = NULL, *init = NULL, *tmp = NULL;
    size_t cap = 0;
    int rc = LORE_OK, isnew, made = 0; /* made: ins holds v */
    for (int i = 0; i < s->nrules && rc == LORE_OK; i++) {
        rule *r = R->v[s->rules[i]];
        size_t nv = (size_t)r->prog->nvars + 1;
        if (nv > cap) {
            mem_free(c->m, vals, 3 * cap, sizeof *vals);
            if (!(vals = mem_alloc(c->m, 3 * nv, sizeof *vals))) {
                cap = 0;
                rc = ctx_nomem(&c->kb->ctx);
                break;
            }
            cap = nv, init = vals + nv, tmp = vals + 2 * nv;
        }
        /* what blocked before: the new facts, and the keys of those gone */
        for (int d = 0; d < r->nreads && !whole && rc == LORE_OK; d++) {
            const rread *rd = &r->reads[d];
            if (rd->how != RD_NEG || !rd->outer || !rd->alone)
                continue;
            for (size_t x = 0; x < v->n && !made && rc == LORE_OK; x++) /* (once) */
                rc = tset_add(c->m, &ins, v->t + 3 * x, &isnew) == LORE_OK ? LORE_OK
                                                                   : ctx_nomem(&c->kb->ctx);
            made = 1;
            for (size_t x = 0; x < del->n && rc == LORE_OK; x++) {
                const uint32_t *f = del->t + 3 * x;
                uint32_t key[3];
                memset(vals, 0, 2 * nv * sizeof *vals);
                if (read_matches(rd, f) && bind_read(r, rd, f, vals) && neg_key(r, i, d, f, init, key) &&
                    tset_add(c->m, &gone, key, &isnew) != LORE_OK)
                    rc = ctx_nomem(&c->kb->ctx);
            }
        }
        for (int d = 0; d < r->nreads && rc == LORE_OK; d++) {
            const rread *rd = &r->reads[d];
            if (rd->how != RD_NEG || !rd->outer)
                continue;
            rplan *rp = NULL;
            for (size_t x = 0; x < v->n && rc == LORE_OK; x++) {
                const uint32_t *f = v->t + 3 * x;
                memset(vals, 0, 2 * nv * sizeof *vals);
                if (!read_matches(rd, f) || !bind_read(r, rd, f, vals))
                    continue;
                uint32_t key[3];
                int keyed = neg_key(r, i, d, f, init, key), before = 0;
                isnew = 1;
                if (keyed && tset_add(c->m, &seen, key, &isnew) != LORE_OK)
                    rc = ctx_nomem(&c->kb->ctx);
                if (rc == LORE_OK && isnew && !whole)
                    rc = blocked_before(c, r, rd, init, key, keyed, &ins, &gone, tmp, &before);
                if (rc != LORE_OK || !isnew || before)
                    continue;
                if (!rp && (rc = neg_plan(c, r, d, whole, &rp)) != LORE_OK)
                    break;
                rc = run_body(c, r, &rp->pl, init, NULL, 0, emit, arg);
                if (rc == LORE_OK && (x & 255) == 255)
                    rc = interrupted(c);
            }
        }
    }
    mem_free(c->m, vals, 3 * cap, sizeof *vals);
    tset_free(c->m, &seen);
    tset_free(c->m, &ins);
    tset_free(c->m, &gone);
    return rc;
}

/* While s's facts are derived more, a second derivation of one of them is
 * noted in s->multi (when s knows them all); after, s stops knowing when a
 * note could not be made or the step failed. */
static void multi_watch(ictx *c, stratum *s)
{
    c->multi = s->multi_known ? &s->multi : NULL, c->multi_lost = 0;
}

static void multi_unwatch(ictx *c, stratum *s, int rc)
{
    c->multi = NULL;
    if (c->multi_lost || rc != LORE_OK) {
        s->multi_known = 0;
        tset_free(c->m, &s->multi);
    }
}

/* Has a rule of s an optional group?  Its overdeletion then finds facts
 * that lost no derivation (a row whose optional part matches no more
 * holds still, and one that reads the delta but outside the group is
 * made whether the group matches it or not): each is checked. */
static int branchy(const rules *R, const stratum *s)
{
    for (int i = 0; i < s->nrules; i++)
        if (R->v[s->rules[i]]->branchy)
            return 1;
    return 0;
}

/* Reorders v so that each eighth of it is every eighth fact: the first
 * eighth a round runs is then a fair sample of the round (in the order
 * the facts came, those of one fact's many consequences come together). */
static int deal8(ictx *c, tvec *v)
{
    uint32_t *t = mem_alloc(c->m, 3 * v->n, sizeof *t);
    if (!t)
        return ctx_nomem(&c->kb->ctx);
    size_t w = 0;
    for (size_t k = 0; k < 8; k++)
        for (size_t i = k; i < v->n; i += 8, w++)
            memcpy(t + 3 * w, v->t + 3 * i, 3 * sizeof *t);
    mem_free(c->m, v->t, v->cap, sizeof *v->t);
    v->t = t, v->cap = 3 * v->n;
    return LORE_OK;
}

/* Delete and rederive, then insert: ins are facts that appeared, del
 * facts that disappeared (visible as ghosts while the overdeletion runs),
 * lost facts of the stratum that lost their assertions.  When s knows
 * its facts of more than one derivation (s->multi_known), its heads'
 * facts are its own and none is asserted, and facts only went, a fact the
 * overdeletion takes out that had one derivation has lost it: only those
 * of s->multi are rederived (what the rederived lead to comes back with
 * the insertion's rounds), and, few of them, the overdeletion may take out
 * much more before recomputing s is cheaper. */
static int dred(ictx *c, stratum *s, const tvec *ins, const tvec *del, const tvec *lost, int neg)
{
    rules *R = c->R;
    int rc = LORE_OK;
    over ov;
    memset(&ov, 0, sizeof ov);
    tvec frontier = {NULL, 0, 0}, gone = {NULL, 0, 0}, held = {NULL, 0, 0};
    ghosts g;
    memset(&g, 0, sizeof g);
    uint32_t preds[8];
    int exact = s->multi_known && (!ins->n || (neg && blocks_only(R, s, ins))) && !lost->n &&
                s->nasserted == 0 && !branchy(R, s) && own_predicates(R, s, preds, 8) > 0;
    int once = exact && !ins->n && once_able(R, s);
    ov.s = s;
    ov.multi = &s->multi;
    if (del->n || lost->n || (neg && ins->n)) {
        ov.limit = over_limit(c, s); /* counts facts: only when some go */
        /* an eighth (RDFS-style rules: a fact taken out and checked
         * costs about 6 times one derived from scratch; past it a
         * cascade is most often far past), or with nothing to rederive
         * a half: a fact taken out then costs about 1.3 times one
         * derived, and what a stop wastes is the deletion so far (W4
         * losing 48%: 1.15 of a fresh inference finished, 1.6 stopped at
         * 3/8; past a half a stop wastes more than it did) */
        ov.limit = exact && s->multi.n * 8 <= ov.limit ? ov.limit * 8 : ov.limit * 2;
        ov.look = s->nasserted != 0;
        if ((rc = ghosts_make(c, del, &g)) != LORE_OK)
            goto cleanup;
        ov.went = &g;
        for (size_t i = 0; i < del->n; i++) {
            const uint32_t *t = del->t + 3 * i;
            uint32_t hs = went_bit(t[0]), ho = went_bit(t[2]);
            ov.wsub[hs >> 6] |= 1ull << (hs & 63);
            ov.wobj[ho >> 6] |= 1ull << (ho & 63);
        }
        for (size_t i = 0; i < del->n && rc == LORE_OK; i++)
            rc = tvec_push(c->m, &frontier, del->t + 3 * i);
        for (size_t i = 0; i < lost->n && rc == LORE_OK; i++) {
            int isnew;
            rc = tvec_push(c->m, &frontier, lost->t + 3 * i);
            if (rc == LORE_OK)
                rc = rset_add(c->m, &ov.del, lost->t + 3 * i, &isnew);
        }
        if (rc != LORE_OK) {
            rc = ctx_nomem(&c->kb->ctx);
            goto cleanup;
        }
        c->ghost = &g.q;
        qmemo_invalidate(&c->memo); /* its scans include these ghosts from now */
        if (neg && ins->n && rc == LORE_OK) {
            /* a negated fact that came may block derivations: their heads
             * are candidates (each looked up: a blocked one may never have
             * held) */
            ov.look = 1;
            rc = neg_seeds(c, s, ins, del, 0, emit_over, &ov);
            rc = rc == LORE_OK ? over_flush(c, &ov) : rc;
            rc = rc == LORE_DONE ? LORE_OK : rc;
            ov.look = s->nasserted != 0;
            for (size_t i = 0; i < ov.next.n && rc == LORE_OK; i++)
                if (tvec_push(c->m, &frontier, ov.next.t + 3 * i) != LORE_OK)
                    rc = ctx_nomem(&c->kb->ctx);
        }
        while (frontier.n && rc == LORE_OK && !ov.bail) {
            ov.next.n = 0;
            /* a round in eighths: when its first ones already point past
             * the limit, stop there (what goes then is recomputed; the
             * cascade grows round by round, so going on would cost most
             * of the deletion's work for nothing).  Without the exact
             * case's knowledge, the eighths are dealt (a fair sample
             * each) and the second one's new facts, fewer than the first
             * one's once they meet, tell the rest */
            size_t step = frontier.n >= 64 ? (frontier.n + 7) / 8 : frontier.n;
            size_t del0 = over_count(&ov), del1 = 0;
            if (!exact && step < frontier.n && (rc = deal8(c, &frontier)) != LORE_OK)
                break;
            for (size_t at = 0; at < frontier.n && rc == LORE_OK && !ov.bail; at += step) {
                size_t k = frontier.n - at < step ? frontier.n - at : step;
                tvec part = {frontier.t + 3 * at, k, k};
                for (int i = 0; i < s->nrules && rc == LORE_OK && !ov.bail; i++) {
                    rule *r = R->v[s->rules[i]];
                    for (int d = 0; d < r->nreads && rc == LORE_OK && !ov.bail; d++)
                        if (r->reads[d].how == RD_POS && r->reads[d].k >= 0) {
                            rc = run_delta(c, r, d, &part, emit_over, &ov);
                            rc = rc == LORE_OK ? over_flush(c, &ov) : rc;
                            rc = rc == LORE_DONE ? LORE_OK : rc;
                        }
                }
                size_t now = over_count(&ov);
                if (at == 0)
                    del1 = now;
                if (exact && at == 0 && step < frontier.n &&
                    del0 + (now - del0) * (frontier.n / step) > ov.limit)
                    ov.bail = 1;
                if (!exact && at == step && 2 * step < frontier.n &&
                    now + (now - del1) * (frontier.n / step - 2) > ov.limit)
                    ov.bail = 1;
            }
            tvec t = frontier;
            frontier = ov.next;
            ov.next = t;
            /* Past the first round (that of the facts that went), an
             * exact deletion of linear rules finds a derivation through
             * the one fact of s it reads, and that fact comes to a round
             * once.  A derivation that also reads a fact that went was
             * found in the first round: emit_over passes it over.  So a
             * fact of one derivation (not in s->multi) comes once and is
             * new: it needs no set of what goes (W4's removals 5-9% the
             * faster; the set's probes missed the cache) */
            ov.once = once;
            if (rc == LORE_OK)
                rc = interrupted(c);
        }
        c->ghost = NULL;
        qmemo_invalidate(&c->memo);
        ov.once = 0;
        if (rc == LORE_OK && ov.bail) { /* too much goes: start s again */
            ghosts_free(c, &g);
            rset_free(c->m, &ov.del);
            tvec_free(c->m, &ov.rest);
            tvec_free(c->m, &ov.next);
            tvec_free(c->m, &frontier);
            return recompute(c, s);
        }
        if (rc != LORE_OK)
            goto cleanup;
        /* exact: only facts of s->multi may hold still; when they are
         * fewer, each is looked for among those that went rather than
         * each that went among them (the set is not written meanwhile:
         * c->multi is not watching yet) */
        int by_multi = exact && s->multi.n < over_count(&ov);
        for (size_t i = 0; by_multi && i < s->multi.cap && rc == LORE_OK; i++) {
            const uint32_t *t = s->multi.t + 3 * i;
            if (t[0] && rset_has(&ov.del, t) && tvec_push(c->m, &held, t) != LORE_OK)
                rc = ctx_nomem(&c->kb->ctx);
        }
        if (rc != LORE_OK)
            goto cleanup;
        /* out with them, in the store's order (many go in one walk),
         * then back with those that still hold (by_multi: of held) */
        rset_rows(c->m, &ov.del, &gone);
        if (ov.rest.n) {
            if (tvec_reserve(c->m, &ov.rest, ov.rest.n + gone.n) != LORE_OK) {
                rc = ctx_nomem(&c->kb->ctx);
                goto cleanup;
            }
            memcpy(ov.rest.t + 3 * ov.rest.n, gone.t, 3 * gone.n * sizeof *gone.t);
            ov.rest.n += gone.n;
            tvec t = gone;
            gone = ov.rest;
            ov.rest = t;
        }
        sort_gone(c, &gone);
        if (once) /* none alike by ov.once's reasoning; should two be, one goes */
            gone.n = unique_rows(gone.t, gone.n);
        rc = underive_all(c, &gone);
        c->ncounts = c->countcap; /* counts from before are old: cleared at the next */
        for (size_t i = 0; by_multi && i < held.n && rc == LORE_OK; i++) {
            const uint32_t *t = held.t + 3 * i;
            int yes;
            if ((rc = derivable(c, s, t, &yes)) == LORE_OK && yes)
                rc = add_round(c, t, NULL);
        }
        for (size_t i = 0; !by_multi && i < gone.n && rc == LORE_OK; i++) {
            const uint32_t *t = gone.t + 3 * i;
            int yes, isnew;
            if (exact && !tset_has(&s->multi, t))
                continue;
            if ((rc = derivable(c, s, t, &yes)) != LORE_OK || !yes)
                continue;
            rc = add_round(c, t, NULL);
            /* it may have more derivations than the one found */
            if (rc == LORE_OK && !exact && s->multi_known &&
                tset_add(c->m, &s->multi, t, &isnew) != LORE_OK)
                s->multi_known = 0;
        }
        /* a negated fact that went may unblock derivations (one of a fact
         * that holds is its second: noted) */
        multi_watch(c, s);
        if (neg && del->n && rc == LORE_OK)
            rc = neg_seeds(c, s, del, NULL, 1, emit_derive, NULL);
        if (rc == LORE_OK)
            rc = commit(c);
        multi_unwatch(c, s, rc);
        if (rc != LORE_OK)
            goto cleanup;
    }
    /* insertion: the new facts, and the rederived ones, propagate; many
     * of them (a cascade grows with its seed) with the derived facts kept
     * aside until the fixpoint, as from scratch */
    {
        for (size_t i = 0; i < ins->n && rc == LORE_OK; i++)
            rc = tvec_push(c->m, &c->fresh, ins->t + 3 * i);
        if (rc != LORE_OK) {
            rc = ctx_nomem(&c->kb->ctx);
            goto cleanup;
        }
        multi_watch(c, s);
        if (c->fresh.n >= (R->defer_seed ? R->defer_seed : DEFER_SEED) && deferrable(R, s)) {
            tvec seed = c->fresh;
            c->fresh = (tvec){NULL, 0, 0};
            rc = eval_deferred(c, s, &seed);
            tvec_free(c->m, &seed);
        } else {
            rc = propagate(c, s);
        }
        multi_unwatch(c, s, rc);
    }
cleanup:
    c->ghost = NULL;
    qmemo_invalidate(&c->memo);
    tvec_free(c->m, &gone);
    tvec_free(c->m, &held);
    ghosts_free(c, &g);
    rset_free(c->m, &ov.del);
    tvec_free(c->m, &ov.rest);
    tvec_free(c->m, &ov.next);
    tvec_free(c->m, &frontier);
    return rc;
}

/* Does fact t touch a read of s, and how: bit 1 a positive pattern, bit 2
 * another read (negation, aggregate, path). */
static int touches(const rules *R, const stratum *s, const uint32_t *t)
{
    int how = 0;
    for (int i = 0; i < s->nrules; i++) {
        const rule *r = R->v[s->rules[i]];
        for (int d = 0; d < r->nreads; d++) {
            const rread *rd = &r->reads[d];
            if (!read_matches(rd, t))
                continue;
            how |= rd->how == RD_POS && rd->k >= 0 && !r->naive ? 1 : 2;
        }
    }
    return how;
}

static int is_head_fact(const rules *R, const stratum *s, const uint32_t *t)
{
    for (int i = 0; i < s->nrules; i++) {
        const rule *r = R->v[s->rules[i]];
        for (int j = 0; j < r->nhead; j++)
            if (rules_head_matches(r->head[j], t))
                return 1;
    }
    return 0;
}

/* Brings stratum s up to date with the changes since the settled state. */
static int maintain_stratum(ictx *c, stratum *s)
{
    rules *R = c->R;
    store *st = c->st;
    tvec ins = {NULL, 0, 0}, del = {NULL, 0, 0}, lost = {NULL, 0, 0};
    int rc = LORE_OK, other = 0, rfacts = 0;
    for (size_t i = 0; i < st->clogcap && rc == LORE_OK; i++) {
        const clog_slot *e = &st->clog[i];
        if (!e->s)
            continue;
        uint32_t t[3] = {e->s, e->p, e->o};
        uint32_t now = store_meta(st, t[0], t[1], t[2]);
        int was_live = e->flags != 0, is_live = now != 0;
        int head = is_head_fact(R, s, t);
        if (head && s->nasserted != SIZE_MAX) {
            /* a fact of the heads' predicates changed: asserted facts of them */
            int a0 = (e->flags & META_ASSERTED) != 0, a1 = (now & META_ASSERTED) != 0;
            s->nasserted += (size_t)(a1 - a0);
            rfacts |= a0 != a1 || was_live != is_live;
        }
        if (head && (e->flags & META_ASSERTED) && !(now & META_ASSERTED) && (now & META_DERIVED)) {
            if (tvec_push(c->m, &lost, t) != LORE_OK)
                rc = ctx_nomem(&c->kb->ctx);
        }
        if (was_live == is_live)
            continue;
        int how = touches(R, s, t);
        if (!how)
            continue;
        other |= how & 2;
        if (tvec_push(c->m, is_live ? &ins : &del, t) != LORE_OK)
            rc = ctx_nomem(&c->kb->ctx);
    }
    int any = ins.n || del.n || lost.n;
    for (int i = 0; i < s->nrules && any; i++)
        other |= R->v[s->rules[i]]->agg || R->v[s->rules[i]]->naive;
    if (other && !s->sliceable)
        s->sliceable = 1 + sliceable(R, s);
    if (rc == LORE_OK && any) {
        if (s->tc != TC_NONE && s->nasserted == 0 && !rfacts && !lost.n)
            rc = tc_incremental(c, s, &ins, &del);
        else if (other && !lost.n && s->sliceable == 2) {
            /* negated or aggregated inputs changed, none of its own read */
            int whole = 0;
            rc = slice_upkeep(c, s, &ins, &del, &whole);
            if (rc == LORE_OK && whole)
                rc = neg_only(R, s, &ins, &del) ? dred(c, s, &ins, &del, &lost, 1) : recompute(c, s);
        } else if (other && neg_only(R, s, &ins, &del))
            rc = dred(c, s, &ins, &del, &lost, 1);
        else if (other)
            rc = recompute(c, s);
        else
            rc = dred(c, s, &ins, &del, &lost, 0);
    }
    tvec_free(c->m, &ins);
    tvec_free(c->m, &del);
    tvec_free(c->m, &lost);
    return rc;
}

/* ------------------------------------------------------------------ */
/* the whole inference                                                */

/* The change log's derived marks as they were at the settled state (a
 * rollback may have moved them). */
static int normalise(ictx *c)
{
    store *st = c->st;
    tvec fix = {NULL, 0, 0};
    int rc = LORE_OK;
    for (size_t i = 0; i < st->clogcap && rc == LORE_OK; i++) {
        const clog_slot *e = &st->clog[i];
        if (!e->s)
            continue;
        uint32_t now = store_meta(st, e->s, e->p, e->o);
        if ((now ^ e->flags) & META_DERIVED) {
            uint32_t t[3] = {e->s, e->p, e->o};
            rc = tvec_push(c->m, &fix, t);
        }
    }
    for (size_t i = 0; i < fix.n && rc == LORE_OK; i++) {
        const uint32_t *t = fix.t + 3 * i;
        uint32_t flags = 0, now = store_meta(st, t[0], t[1], t[2]);
        store_clog_find(st, t[0], t[1], t[2], &flags);
        if (flags & META_DERIVED)
            rc = store_derive(st, t[0], t[1], t[2], 0, NULL) < 0 ? LORE_ERR_NOMEM : LORE_OK;
        else if (now & META_DERIVED)
            rc = store_set_derived(st, t[0], t[1], t[2], 0) < 0 ? LORE_ERR_NOMEM : LORE_OK;
    }
    tvec_free(c->m, &fix);
    return rc == LORE_OK ? rc : ctx_nomem(&c->kb->ctx);
}

typedef struct event {
    uint32_t t[3];
    int ev;
    size_t trig;
} event;

static int event_cmp(const event *a, const event *b)
{
    if (a->trig != b->trig)
        return a->trig < b->trig ? -1 : 1;
    int c = row_cmp(a->t, b->t);
    if (c)
        return c;
    return (a->ev > b->ev) - (a->ev < b->ev);
}

/* Fires the triggers for the net change since the settled state, then
 * starts a new one (the change log empties first: what the callbacks
 * change belongs to the next). */
static int fire(ictx *c)
{
    rules *R = c->R;
    store *st = c->st;
    event *ev = NULL;
    size_t n = 0, cap = 0;
    enum { AHEAD = 16 }; /* the lookups' misses overlap, this many slots ahead */
    for (size_t i = 0; i < st->clogcap && i < AHEAD && R->ntrig; i++)
        if (st->clog[i].s)
            store_meta_prefetch(st, st->clog[i].s, st->clog[i].p, st->clog[i].o);
    for (size_t i = 0; i < st->clogcap && R->ntrig; i++) {
        const clog_slot *e = &st->clog[i];
        if (i + AHEAD < st->clogcap && e[AHEAD].s)
            store_meta_prefetch(st, e[AHEAD].s, e[AHEAD].p, e[AHEAD].o);
        if (!e->s)
            continue;
        uint32_t t[3] = {e->s, e->p, e->o};
        int was = e->flags != 0, is = store_meta(st, t[0], t[1], t[2]) != 0;
        if (was == is)
            continue;
        int kind = is ? LORE_ON_ADDED : LORE_ON_REMOVED;
        for (size_t g = 0; g < R->ntrig; g++) {
            const trigger *tr = &R->trig[g];
            if (!(tr->events & kind) || (tr->t[0] && tr->t[0] != t[0]) ||
                (tr->t[1] && tr->t[1] != t[1]) || (tr->t[2] && tr->t[2] != t[2]))
                continue;
            if (mem_reserve(c->m, (void **)&ev, &cap, n + 1, sizeof *ev) != 0) {
                mem_free(c->m, ev, cap, sizeof *ev);
                return ctx_nomem(&c->kb->ctx);
            }
            memcpy(ev[n].t, t, sizeof t);
            ev[n].ev = kind, ev[n].trig = g;
            n++;
        }
    }
    store_clog_clear(st);
    /* a deterministic order: by trigger, then fact; an insertion sort is
     * too slow for many events, so a merge sort, or, when all are of one
     * trigger and one kind (the usual case), a sort of the facts alone */
    int one = n > 1;
    for (size_t i = 1; i < n && one; i++)
        one = ev[i].trig == ev[0].trig && ev[i].ev == ev[0].ev;
    if (one) {
        uint32_t *rows = mem_alloc(c->m, 3 * n, sizeof *rows);
        uint64_t *tmp = mem_alloc(c->m, 2 * n, sizeof *tmp);
        if (!rows || !tmp) {
            mem_free(c->m, rows, 3 * n, sizeof *rows);
            mem_free(c->m, tmp, 2 * n, sizeof *tmp);
            mem_free(c->m, ev, cap, sizeof *ev);
            return ctx_nomem(&c->kb->ctx);
        }
        for (size_t i = 0; i < n; i++)
            memcpy(rows + 3 * i, ev[i].t, sizeof ev[i].t);
        if (!sort_rows_packed(rows, n, tmp))
            sort_rows(rows, n, 3);
        for (size_t i = 0; i < n; i++)
            memcpy(ev[i].t, rows + 3 * i, sizeof ev[i].t);
        mem_free(c->m, rows, 3 * n, sizeof *rows);
        mem_free(c->m, tmp, 2 * n, sizeof *tmp);
    } else if (n > 1) {
        event *tmp = mem_alloc(c->m, n, sizeof *tmp);
        if (!tmp) {
            mem_free(c->m, ev, cap, sizeof *ev);
            return ctx_nomem(&c->kb->ctx);
        }
        for (size_t w = 1; w < n; w *= 2) {
            for (size_t lo = 0; lo < n; lo += 2 * w) {
                size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
                size_t i = lo, j = mid, k = lo;
                while (i < mid && j < hi)
                    tmp[k++] = event_cmp(&ev[j], &ev[i]) < 0 ? ev[j++] : ev[i++];
                while (i < mid)
                    tmp[k++] = ev[i++];
                while (j < hi)
                    tmp[k++] = ev[j++];
            }
            memcpy(ev, tmp, n * sizeof *ev);
        }
        mem_free(c->m, tmp, n, sizeof *tmp);
    }
    int first = LORE_OK;
    char msg[sizeof c->kb->ctx.err] = "";
    R->firing = 1;
    for (size_t i = 0; i < n; i++) {
        const trigger *tr = &R->trig[ev[i].trig];
        if (!tr->fn)
            continue; /* removed by an earlier callback */
        c->kb->ctx.err[0] = '\0';
        int rc = tr->fn(tr->ud, c->kb, ev[i].t, ev[i].ev);
        if (rc < 0 && first == LORE_OK) {
            first = rc;
            snprintf(msg, sizeof msg, "%s",
                     c->kb->ctx.err[0] ? c->kb->ctx.err : "a trigger failed");
        }
    }
    R->firing = 0;
    /* triggers removed while firing */
    size_t w = 0;
    for (size_t i = 0; i < R->ntrig; i++)
        if (R->trig[i].fn)
            R->trig[w++] = R->trig[i];
    R->ntrig = w;
    mem_free(c->m, ev, cap, sizeof *ev);
    if (first != LORE_OK)
        return ctx_fail(&c->kb->ctx, first, "%s", msg);
    ctx_clear(&c->kb->ctx);
    return rules_sync_log(c->kb);
}

int infer_run(lore_kb *kb, lore_infer_stats *stats)
{
    rules *R = kb->rules;
    ictx c;
    memset(&c, 0, sizeof c);
    c.kb = kb, c.R = R, c.st = &kb->st, c.m = &kb->m;
    c.memo.max_facts = R->memo_max;
    int rc = LORE_OK;
    if ((rc = rules_stratify(kb)) != LORE_OK)
        return rc == LORE_ERR_NOMEM ? ctx_nomem(&kb->ctx) : rc;
    if (R->n && !R->strata) { /* a failed restratification left none */
        R->full = 1;
        return ctx_fail(&kb->ctx, LORE_ERR_NOMEM, "out of memory");
    }
    if (!kb->st.clog_on && (rc = rules_sync_log(kb)) != LORE_OK)
        return rc;
    /* the last inference's round set, when small: an event stream's
     * inferences would each grow one from nothing */
    c.round.t = R->round_t, c.round.cap = R->round_cap;
    R->round_t = NULL, R->round_cap = 0;
    int full = R->full;
    c.stats.full = full;
    if (full) {
        /* everything again: the change log is kept for the triggers only */
        kb->st.clog_quiet = R->ntrig == 0 && !kb->st.in_txn;
        if (!kb->st.in_txn && R->round > META_PAYLOAD / 2)
            R->round = 0;
        size_t gone = 0;
        rc = store_clear_derived(&kb->st, &gone);
        if (rc == LORE_NOOP)
            rc = LORE_OK;
        if (rc != LORE_OK)
            rc = ctx_nomem(&kb->ctx);
        c.stats.removed += gone;
        for (int s = 0; s < R->nstrata && rc == LORE_OK; s++)
            rc = eval_scratch(&c, &R->strata[s]);
    } else {
        rc = normalise(&c);
        for (int s = 0; s < R->nstrata && rc == LORE_OK; s++) {
            /* the changes of a stratum no later one reads need no log,
             * unless triggers watch (or a rollback may need it) */
            kb->st.clog_quiet = !R->strata[s].read_later && R->ntrig == 0 && !kb->st.in_txn;
            rc = maintain_stratum(&c, &R->strata[s]);
            kb->st.clog_quiet = 0;
        }
    }
    kb->st.clog_quiet = 0;
    if (c.round.cap <= 4096) { /* 48 KiB at most, kept empty */
        tset_clear(&c.round);
        R->round_t = c.round.t, R->round_cap = c.round.cap;
    } else {
        tset_free(c.m, &c.round);
    }
    tvec_free(c.m, &c.fresh);
    mem_free(c.m, c.vals, c.nvals, sizeof *c.vals);
    mem_free(c.m, c.counts, 4 * c.countcap, sizeof *c.counts);
    qpool_free(c.m, &c.pool);
    qmemo_free(c.m, &c.memo);
    if (rc != LORE_OK) {
        R->full = 1;
        return rc;
    }
    R->full = 0;
    if (stats)
        *stats = c.stats;
    return fire(&c);
}
