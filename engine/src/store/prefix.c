/* prefix.c - the prefix table: binding, expanding `ex:name` symbols and
 * compacting IRIs back. */
#include "prefix.h"

#include <string.h>

void prefixes_free(const mem *m, prefixes *px)
{
    for (size_t i = 0; i < px->n; i++) {
        mem_free(m, px->v[i].name, px->v[i].nlen + 1, 1);
        mem_free(m, px->v[i].iri, px->v[i].ilen + 1, 1);
    }
    mem_free(m, px->v, px->cap, sizeof *px->v);
    memset(px, 0, sizeof *px);
}

static int name_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

static int name_char(unsigned char c)
{
    return name_start(c) || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

int prefix_name_ok(const char *s, size_t n)
{
    if (n == 0)
        return 1;
    if (!name_start((unsigned char)s[0]) || s[n - 1] == '.')
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!name_char((unsigned char)s[i]))
            return 0;
    return 1;
}

static int cmp_name(const prefix *p, const char *name, size_t nlen)
{
    size_t k = p->nlen < nlen ? p->nlen : nlen;
    int c = memcmp(p->name, name, k);
    if (c != 0)
        return c;
    return p->nlen < nlen ? -1 : p->nlen > nlen;
}

/* The index of name, or where it would go (*found says which). */
static size_t search(const prefixes *px, const char *name, size_t nlen, int *found)
{
    size_t lo = 0, hi = px->n;
    *found = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_name(&px->v[mid], name, nlen);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const prefix *prefixes_find(const prefixes *px, const char *name, size_t nlen)
{
    int found;
    size_t i = search(px, name, nlen, &found);
    return found ? &px->v[i] : NULL;
}

int prefixes_check(const char *name, size_t nlen, const char *iri, size_t ilen, const char **why)
{
    if (!prefix_name_ok(name, nlen) || memchr(name, 0, nlen)) {
        *why = "a prefix name: empty, or a letter then letters, digits, _ - . (not ending in .)";
        return LORE_ERR_ARG;
    }
    int ok = ilen > 0;
    for (size_t i = 0; i < ilen && ok; i++)
        ok = iri_char((unsigned char)iri[i]);
    if (!ok) {
        *why = "a namespace IRI (without angle brackets, spaces or <>\"{}|^`\\)";
        return LORE_ERR_ARG;
    }
    return LORE_OK;
}

int prefixes_set(const mem *m, prefixes *px, const char *name, size_t nlen, const char *iri,
                 size_t ilen, const char **why)
{
    if (prefixes_check(name, nlen, iri, ilen, why) != LORE_OK)
        return LORE_ERR_ARG;
    int found;
    size_t at = search(px, name, nlen, &found);
    if (found && px->v[at].ilen == ilen && memcmp(px->v[at].iri, iri, ilen) == 0)
        return LORE_NOOP;
    char *ci = mem_strndup(m, iri, ilen);
    if (!ci)
        return LORE_ERR_NOMEM;
    if (found) {
        mem_free(m, px->v[at].iri, px->v[at].ilen + 1, 1);
        px->v[at].iri = ci;
        px->v[at].ilen = ilen;
        return LORE_OK;
    }
    char *cn = mem_strndup(m, name, nlen);
    if (!cn || mem_reserve(m, (void **)&px->v, &px->cap, px->n + 1, sizeof *px->v) != 0) {
        mem_free(m, cn, nlen + 1, 1);
        mem_free(m, ci, ilen + 1, 1);
        return LORE_ERR_NOMEM;
    }
    memmove(px->v + at + 1, px->v + at, (px->n - at) * sizeof *px->v);
    px->v[at].name = cn, px->v[at].nlen = nlen;
    px->v[at].iri = ci, px->v[at].ilen = ilen;
    px->n++;
    return LORE_OK;
}

int prefixes_remove(const mem *m, prefixes *px, const char *name, size_t nlen)
{
    int found;
    size_t at = search(px, name, nlen, &found);
    if (!found)
        return LORE_NOOP;
    mem_free(m, px->v[at].name, px->v[at].nlen + 1, 1);
    mem_free(m, px->v[at].iri, px->v[at].ilen + 1, 1);
    memmove(px->v + at, px->v + at + 1, (px->n - at - 1) * sizeof *px->v);
    px->n--;
    return LORE_OK;
}

size_t prefixes_expand(const prefixes *px, const char *s, size_t n, char *buf, size_t cap)
{
    if (px->n == 0 || n == 0 || s[0] == '<')
        return 0;
    const char *colon = memchr(s, ':', n);
    if (!colon)
        return 0;
    size_t nlen = (size_t)(colon - s), llen = n - nlen - 1;
    const prefix *p = prefixes_find(px, s, nlen);
    if (!p)
        return 0;
    for (size_t i = 0; i < llen; i++)
        if (!iri_char((unsigned char)colon[1 + i]))
            return 0;
    size_t total = p->ilen + llen + 2;
    if (total <= cap) {
        buf[0] = '<';
        memcpy(buf + 1, p->iri, p->ilen);
        memcpy(buf + 1 + p->ilen, colon + 1, llen);
        buf[total - 1] = '>';
    }
    return total;
}

size_t prefixes_compact(const prefixes *px, const char *s, size_t n, char *buf, size_t cap)
{
    if (px->n == 0 || n < 2 || s[0] != '<' || s[n - 1] != '>')
        return 0;
    const char *iri = s + 1;
    size_t ilen = n - 2;
    const prefix *best = NULL;
    for (size_t i = 0; i < px->n; i++) {
        const prefix *p = &px->v[i];
        if (p->ilen > ilen || (best && p->ilen <= best->ilen) || memcmp(p->iri, iri, p->ilen) != 0)
            continue;
        size_t j = p->ilen;
        while (j < ilen && iri_char((unsigned char)iri[j]))
            j++;
        if (j == ilen)
            best = p;
    }
    if (!best)
        return 0;
    size_t llen = ilen - best->ilen, total = best->nlen + 1 + llen;
    if (total < cap) {
        memcpy(buf, best->name, best->nlen);
        buf[best->nlen] = ':';
        memcpy(buf + best->nlen + 1, iri + best->ilen, llen);
        buf[total] = '\0';
    }
    return total;
}

/* ------------------------------------------------------------------ */
/* symbols handed to the API, expanded                                */

const lore_value *prefixes_expand_value(const mem *m, const prefixes *px, const lore_value *v,
                                        expansion *x)
{
    x->heap = NULL;
    x->heapn = 0;
    if (px->n == 0 || v->kind != LORE_SYMBOL || v->len == 0 || !v->str || v->str[0] == '<')
        return v;
    size_t n = prefixes_expand(px, v->str, v->len, x->buf, sizeof x->buf);
    if (n == 0)
        return v;
    char *out = x->buf;
    if (n > sizeof x->buf) {
        x->heap = mem_alloc(m, n, 1);
        if (!x->heap)
            return NULL;
        x->heapn = n;
        prefixes_expand(px, v->str, v->len, x->heap, n);
        out = x->heap;
    }
    x->v = *v;
    x->v.str = out;
    x->v.len = n;
    return &x->v;
}

void prefixes_expand_done(const mem *m, expansion *x)
{
    mem_free(m, x->heap, x->heapn, 1);
    x->heap = NULL;
}
