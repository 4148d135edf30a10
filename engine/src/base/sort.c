/* sort.c - introsort and an in-place bucket pass over rows of ids. */
#include "sort.h"

#include <stdlib.h>
#include <string.h>

static inline void swap_rows(uint32_t *x, uint32_t *y, int stride)
{
    for (int i = 0; i < stride; i++) {
        uint32_t t = x[i];
        x[i] = y[i];
        y[i] = t;
    }
}

#define ROW(i) (a + (size_t)(i) * (size_t)stride)

static void intro_u64(uint64_t *a, size_t n, int depth);

static void insertion(uint32_t *a, size_t n, int stride)
{
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j > 0 && row_cmp(ROW(j - 1), ROW(j)) > 0; j--)
            swap_rows(ROW(j - 1), ROW(j), stride);
    }
}

static void sift(uint32_t *a, size_t n, size_t i, int stride)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && row_cmp(ROW(l), ROW(m)) > 0)
            m = l;
        if (l + 1 < n && row_cmp(ROW(l + 1), ROW(m)) > 0)
            m = l + 1;
        if (m == i)
            return;
        swap_rows(ROW(i), ROW(m), stride);
        i = m;
    }
}

static void heapsort_rows(uint32_t *a, size_t n, int stride)
{
    for (size_t i = n / 2; i-- > 0;)
        sift(a, n, i, stride);
    for (size_t i = n; i-- > 1;) {
        swap_rows(ROW(0), ROW(i), stride);
        sift(a, i, 0, stride);
    }
}

static void intro(uint32_t *a, size_t n, int stride, int depth)
{
    while (n > 16) {
        if (depth-- == 0) {
            heapsort_rows(a, n, stride);
            return;
        }
        /* median of three to the front, then Hoare partition */
        size_t mid = n / 2;
        if (row_cmp(ROW(mid), ROW(0)) < 0)
            swap_rows(ROW(mid), ROW(0), stride);
        if (row_cmp(ROW(n - 1), ROW(0)) < 0)
            swap_rows(ROW(n - 1), ROW(0), stride);
        if (row_cmp(ROW(n - 1), ROW(mid)) < 0)
            swap_rows(ROW(n - 1), ROW(mid), stride);
        swap_rows(ROW(0), ROW(mid), stride);
        uint32_t pivot[4] = {0, 0, 0, 0};
        for (int k = 0; k < stride; k++)
            pivot[k] = ROW(0)[k];
        size_t i = 0, j = n;
        for (;;) {
            do
                i++;
            while (i < n && row_cmp(ROW(i), pivot) < 0);
            do
                j--;
            while (row_cmp(ROW(j), pivot) > 0);
            if (i >= j)
                break;
            swap_rows(ROW(i), ROW(j), stride);
        }
        swap_rows(ROW(0), ROW(j), stride);
        /* recurse on the smaller side */
        if (j < n - j - 1) {
            intro(a, j, stride, depth);
            a = ROW(j + 1);
            n = n - j - 1;
        } else {
            intro(ROW(j + 1), n - j - 1, stride, depth);
            n = j;
        }
    }
    insertion(a, n, stride);
}

void sort_rows(uint32_t *a, size_t n, int stride)
{
    int depth = 0;
    for (size_t m = n; m > 1; m >>= 1)
        depth += 2;
    intro(a, n, stride, depth);
}

void sort_rows_bucketed(uint32_t *a, size_t n, int stride, uint32_t nkeys, uint32_t *scratch)
{
    /* American flag sort on row[0]: each swap puts one row into its final
     * bucket; then each bucket is sorted on its own. */
    uint32_t *next = scratch, *end = scratch + nkeys + 1;
    for (uint32_t k = 0; k <= nkeys; k++)
        next[k] = 0;
    for (size_t i = 0; i < n; i++)
        next[ROW(i)[0]]++;
    uint32_t sum = 0;
    for (uint32_t k = 0; k < nkeys; k++) {
        uint32_t c = next[k];
        next[k] = sum;
        sum += c;
        end[k] = sum;
    }
    for (uint32_t k = 0; k < nkeys; k++) {
        while (next[k] < end[k]) {
            uint32_t *r = ROW(next[k]);
            uint32_t key = r[0];
            if (key == k)
                next[k]++;
            else
                swap_rows(r, ROW(next[key]++), stride);
        }
    }
    uint32_t lo = 0;
    for (uint32_t k = 0; k < nkeys; k++) {
        if (end[k] - lo > 1)
            sort_rows(ROW(lo), end[k] - lo, stride);
        lo = end[k];
    }
}

size_t sort_count_strays(const uint32_t *a, size_t n, int stride)
{
    size_t k = 0;
    uint32_t max = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t x = ROW(i)[0];
        if (x < max)
            k++;
        else
            max = x;
    }
    return k;
}

static inline void copy_row(uint32_t *d, const uint32_t *s, int stride)
{
    for (int i = 0; i < stride; i++)
        d[i] = s[i];
}

void sort_rows_strays(uint32_t *a, size_t n, int stride, uint32_t *spare, size_t nstrays)
{
    size_t m = 0, k = 0;
    uint32_t max = 0;
    for (size_t i = 0; i < n; i++) {
        const uint32_t *r = ROW(i);
        if (r[0] < max) {
            copy_row(spare + (size_t)stride * k++, r, stride);
        } else {
            max = r[0];
            if (m != i)
                copy_row(ROW(m), r, stride);
            m++;
        }
    }
    (void)nstrays; /* == k */
    sort_rows(spare, k, stride);
    size_t i = m, j = k, w = n;
    while (j > 0) {
        const uint32_t *sp = spare + (size_t)stride * (j - 1);
        if (i > 0 && ROW(i - 1)[0] > sp[0])
            copy_row(ROW(w - 1), ROW(i - 1), stride), i--;
        else
            copy_row(ROW(w - 1), sp, stride), j--;
        w--;
    }
    for (size_t lo = 0; lo < n;) {
        size_t hi = lo + 1;
        while (hi < n && ROW(hi)[0] == ROW(lo)[0])
            hi++;
        if (hi - lo > 1)
            sort_rows(ROW(lo), hi - lo, stride);
        lo = hi;
    }
}

/* Stable LSD passes of 11 bits on column `col`, whose values lie in
 * [lo, hi], moving rows between *src and *dst (which swap after each
 * pass): each pass reads one array in order and writes 2048 streams,
 * which the caches handle well, unlike one random swap per row. */
static void radix_column(uint32_t **src, uint32_t **dst, size_t n, int stride, int col,
                         uint32_t lo, uint32_t hi)
{
    enum { BITS = 11, RADIX = 1 << BITS };
    size_t count[RADIX];
    for (int shift = 0; shift < 32 && (hi - lo) >> shift; shift += BITS) {
        const uint32_t *in = *src;
        uint32_t *out = *dst;
        memset(count, 0, sizeof count);
        for (size_t i = 0; i < n; i++)
            count[((in[(size_t)stride * i + (size_t)col] - lo) >> shift) & (RADIX - 1)]++;
        size_t sum = 0;
        for (size_t d = 0; d < RADIX; d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) {
            const uint32_t *r = in + (size_t)stride * i;
            uint32_t *w = out + (size_t)stride * count[((r[col] - lo) >> shift) & (RADIX - 1)]++;
            for (int k = 0; k < stride; k++)
                w[k] = r[k];
        }
        *src = out, *dst = (uint32_t *)in;
    }
}

/* Sorts m rows that share row[0]: as one integer each (the two ids that
 * differ, or, in rows of 4 that share row[1] too, row[2] and the fourth
 * id that rides along) when the group is large enough to pay; `t` holds
 * m integers. */
static void sort_group(uint32_t *a, size_t m, int stride, uint64_t *t)
{
    int same1 = stride == 4;
    for (size_t i = 1; i < m && same1; i++)
        same1 = ROW(i)[1] == a[1];
    if (m <= 16 || (stride != 3 && !same1)) {
        sort_rows(a, m, stride);
        return;
    }
    int hi = stride == 3 ? 1 : 2; /* the ids packed: [hi] above [hi + 1] */
    for (size_t i = 0; i < m; i++)
        t[i] = (uint64_t)ROW(i)[hi] << 32 | ROW(i)[hi + 1];
    int depth = 0;
    for (size_t k = m; k > 1; k >>= 1)
        depth += 2;
    intro_u64(t, m, depth);
    for (size_t i = 0; i < m; i++) {
        uint32_t *r = ROW(i);
        r[1] = stride == 3 ? (uint32_t)(t[i] >> 32) : a[1];
        r[hi] = (uint32_t)(t[i] >> 32), r[hi + 1] = (uint32_t)t[i];
    }
}

static int bits_of(uint32_t v);

/* The smallest and largest id of each of the first three columns of n >= 1
 * rows of `stride` ids. */
static void spreads(const uint32_t *a, size_t n, int stride, uint32_t lo[3], uint32_t hi[3])
{
    for (int c = 0; c < 3; c++)
        lo[c] = hi[c] = a[c];
    for (size_t i = 1; i < n; i++)
        for (int c = 0; c < 3; c++) {
            uint32_t v = a[(size_t)stride * i + (size_t)c];
            lo[c] = v < lo[c] ? v : lo[c];
            hi[c] = v > hi[c] ? v : hi[c];
        }
}

/* Rows of 4 whose three ids' spreads fit in 32 bits together (ids close
 * to one another, as rules derive them): each row becomes one integer,
 * the packed ids above the fourth id, sorted by radix passes over the key
 * bits only; 0 (rows untouched) when they do not fit.  tmp: 4n ids. */
static int sort_rows4_packed(uint32_t *a, size_t n, uint32_t *tmp)
{
    uint32_t lo[3], hi[3];
    spreads(a, n, 4, lo, hi);
    int b1 = bits_of(hi[1] - lo[1]), b2 = bits_of(hi[2] - lo[2]);
    int bits = bits_of(hi[0] - lo[0]) + b1 + b2;
    if (bits > 32 || n > UINT32_MAX)
        return 0;
    /* passes of at most 11 bits (2048 counters stay in the cache), as
     * even as the bits allow; every pass's counts come from the one pass
     * that packs the rows */
    enum { MAXPASS = 3, RADIX = 1 << 11 };
    int npass = (bits + 10) / 11, width = npass ? (bits + npass - 1) / npass : 0;
    uint32_t count[MAXPASS][RADIX]; /* 24 KiB of stack */
    memset(count, 0, sizeof count);
    uint32_t dmask = ((uint32_t)1 << width) - 1;
    uint64_t *t = (uint64_t *)(void *)tmp, *buf = t + n;
    for (size_t i = 0; i < n; i++) {
        const uint32_t *r = a + 4 * i;
        uint32_t k = (uint32_t)(((uint64_t)(r[0] - lo[0]) << b1 | (r[1] - lo[1])) << b2 | (r[2] - lo[2]));
        t[i] = (uint64_t)k << 32 | r[3];
        for (int q = 0; q < npass; q++)
            count[q][(k >> (q * width)) & dmask]++;
    }
    uint64_t *src = t, *dst = buf;
    for (int q = 0; q < npass; q++) {
        uint32_t sum = 0, *c = count[q];
        for (size_t d = 0; d <= dmask; d++) {
            uint32_t m = c[d];
            c[d] = sum;
            sum += m;
        }
        int shift = 32 + q * width;
        for (size_t i = 0; i < n; i++)
            dst[c[(src[i] >> shift) & dmask]++] = src[i];
        uint64_t *sw = src;
        src = dst, dst = sw;
    }
    const uint64_t *out = src;
    uint32_t m1 = (uint32_t)(((uint64_t)1 << b1) - 1), m2 = (uint32_t)(((uint64_t)1 << b2) - 1);
    for (size_t i = 0; i < n; i++) {
        uint64_t v = out[i];
        uint32_t k = (uint32_t)(v >> 32), *r = a + 4 * i;
        r[3] = (uint32_t)v;
        r[2] = lo[2] + (k & m2);
        r[1] = lo[1] + ((uint32_t)((uint64_t)k >> b2) & m1);
        r[0] = lo[0] + (uint32_t)((uint64_t)k >> b2 >> b1);
    }
    return 1;
}

void sort_rows_radix(uint32_t *a, size_t n, int stride, uint32_t maxkey, uint32_t *tmp)
{
    if (stride == 4 && n > 1 && sort_rows4_packed(a, n, tmp))
        return;
    uint32_t *src = a, *dst = tmp;
    radix_column(&src, &dst, n, stride, 0, 0, maxkey);
    if (src != a)
        memcpy(a, src, n * (size_t)stride * sizeof *a);
    /* rows of one subject are together now: order each group */
    for (size_t lo = 0; lo < n;) {
        size_t hi = lo + 1;
        while (hi < n && ROW(hi)[0] == ROW(lo)[0])
            hi++;
        if (hi - lo > 1)
            sort_group(ROW(lo), hi - lo, stride, (uint64_t *)tmp);
        lo = hi;
    }
}

void sort_rows_lsd(uint32_t *a, size_t n, int stride, uint32_t *tmp)
{
    /* every column, the last first; a column whose values are all equal
     * costs one read and no pass */
    uint32_t *src = a, *dst = tmp;
    if (n < 2)
        return;
    for (int col = stride - 1; col >= 0; col--) {
        uint32_t lo = src[col], hi = src[col];
        for (size_t i = 1; i < n; i++) {
            uint32_t v = src[(size_t)stride * i + (size_t)col];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        radix_column(&src, &dst, n, stride, col, lo, hi);
    }
    if (src != a)
        memcpy(a, src, n * (size_t)stride * sizeof *a);
}

/* ---- rows packed into integers ---- */

/* Insertion sorts of n integers of type T, for the short ones. */
#define DEFINE_INSERTION(name, T)                                                                  \
    static void name(T *a, size_t n)                                                               \
    {                                                                                              \
        for (size_t i = 1; i < n; i++) {                                                           \
            T v = a[i];                                                                            \
            size_t j = i;                                                                          \
            for (; j > 0 && a[j - 1] > v; j--)                                                     \
                a[j] = a[j - 1];                                                                   \
            a[j] = v;                                                                              \
        }                                                                                          \
    }

DEFINE_INSERTION(insertion_u64, uint64_t)
DEFINE_INSERTION(insertion_u32, uint32_t)

static void sift_u64(uint64_t *a, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && a[l] > a[m])
            m = l;
        if (l + 1 < n && a[l + 1] > a[m])
            m = l + 1;
        if (m == i)
            return;
        uint64_t t = a[i];
        a[i] = a[m], a[m] = t, i = m;
    }
}

static void heapsort_u64(uint64_t *a, size_t n)
{
    for (size_t k = n / 2; k-- > 0;)
        sift_u64(a, n, k);
    for (size_t e = n; e-- > 1;) {
        uint64_t t = a[0];
        a[0] = a[e], a[e] = t;
        sift_u64(a, e, 0);
    }
}

static void intro_u64(uint64_t *a, size_t n, int depth)
{
    while (n > 16) {
        if (depth-- == 0) {
            heapsort_u64(a, n);
            return;
        }
        size_t mid = n / 2;
        uint64_t x = a[0], y = a[mid], z = a[n - 1];
        uint64_t pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        size_t i = 0, j = n - 1;
        for (;;) { /* Hoare: both sides stop at the pivot's equals */
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i >= j)
                break;
            uint64_t t = a[i];
            a[i] = a[j], a[j] = t;
            i++, j--;
        }
        /* [0, j] <= pivot <= [j + 1, n): the smaller side first */
        if (j + 1 < n - j - 1) {
            intro_u64(a, j + 1, depth);
            a += j + 1, n -= j + 1;
        } else {
            intro_u64(a + j + 1, n - j - 1, depth);
            n = j + 1;
        }
    }
    insertion_u64(a, n);
}

/* LSD radix passes of 8 bits over the low `bits` bits of n integers of
 * type T, through buf (n more); the result ends in a.  For 64-bit packed
 * rows and 32-bit ids alike. */
#define DEFINE_RADIX8(name, T)                                                                     \
    static void name(T *a, size_t n, int bits, T *buf)                                             \
    {                                                                                              \
        T *src = a, *dst = buf;                                                                    \
        for (int shift = 0; shift < bits; shift += 8) {                                            \
            size_t count[256] = {0};                                                               \
            for (size_t i = 0; i < n; i++)                                                         \
                count[(src[i] >> shift) & 255]++;                                                  \
            size_t sum = 0;                                                                        \
            for (int d = 0; d < 256; d++) {                                                        \
                size_t k = count[d];                                                               \
                count[d] = sum;                                                                    \
                sum += k;                                                                          \
            }                                                                                      \
            for (size_t i = 0; i < n; i++)                                                         \
                dst[count[(src[i] >> shift) & 255]++] = src[i];                                    \
            T *t = src;                                                                            \
            src = dst, dst = t;                                                                    \
        }                                                                                          \
        if (src != a)                                                                              \
            memcpy(a, src, n * sizeof *a);                                                         \
    }

DEFINE_RADIX8(radix_u64, uint64_t)
DEFINE_RADIX8(radix_u32, uint32_t)

static int bits_of(uint32_t v)
{
    int b = 0;
    while (v)
        b++, v >>= 1;
    return b;
}

int sort_rows_stretches(uint32_t *a, size_t n, uint32_t *tmp, int most)
{
    size_t bound[65]; /* stretch k is rows bound[k] .. bound[k + 1] */
    int k = 0;
    if (most > 64)
        most = 64;
    bound[0] = 0;
    for (size_t i = 1; i < n; i++)
        if (row_cmp(a + 3 * i - 3, a + 3 * i) > 0) {
            if (++k == most)
                return 0;
            bound[k] = i;
        }
    bound[++k] = n;
    uint32_t *src = a, *dst = tmp;
    while (k > 1) {
        int m = 0;
        for (int j = 0; j < k; j += 2, m++) {
            const uint32_t *x = src + 3 * bound[j], *xe = src + 3 * bound[j + 1];
            const uint32_t *y = xe, *ye = j + 1 < k ? src + 3 * bound[j + 2] : xe;
            uint32_t *d = dst + 3 * bound[j];
            while (x < xe && y < ye) {
                const uint32_t *from = row_cmp(y, x) < 0 ? y : x;
                d[0] = from[0], d[1] = from[1], d[2] = from[2];
                d += 3;
                if (from == x)
                    x += 3;
                else
                    y += 3;
            }
            memcpy(d, x, (size_t)(xe - x) * sizeof *d);
            d += xe - x;
            memcpy(d, y, (size_t)(ye - y) * sizeof *d);
            bound[m] = bound[j];
        }
        bound[m] = n;
        k = m;
        uint32_t *t = src;
        src = dst, dst = t;
    }
    if (src != a)
        memcpy(a, src, 3 * n * sizeof *a);
    return 1;
}

int sort_rows_packed(uint32_t *a, size_t n, uint64_t *tmp)
{
    if (n < 2)
        return 1;
    uint32_t lo[3], hi[3];
    spreads(a, n, 3, lo, hi);
    int b0 = bits_of(hi[0] - lo[0]), b1 = bits_of(hi[1] - lo[1]), b2 = bits_of(hi[2] - lo[2]);
    if (b0 + b1 + b2 > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        const uint32_t *r = a + 3 * i;
        uint64_t v = (uint64_t)(r[0] - lo[0]);
        v = b1 ? v << b1 | (r[1] - lo[1]) : v;
        tmp[i] = b2 ? v << b2 | (r[2] - lo[2]) : v;
    }
    int bits = b0 + b1 + b2;
    if (n >= 64 && bits <= 48) {
        radix_u64(tmp, n, bits, tmp + n);
    } else {
        int depth = 0;
        for (size_t m = n; m > 1; m >>= 1)
            depth += 2;
        intro_u64(tmp, n, depth);
    }
    uint64_t m1 = b1 ? ((uint64_t)1 << b1) - 1 : 0, m2 = b2 ? ((uint64_t)1 << b2) - 1 : 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t v = tmp[i];
        uint32_t *r = a + 3 * i;
        r[2] = lo[2] + (uint32_t)(v & m2);
        v = b2 ? v >> b2 : v;
        r[1] = lo[1] + (uint32_t)(v & m1);
        v = b1 ? v >> b1 : v;
        r[0] = lo[0] + (uint32_t)v;
    }
    return 1;
}

static int cmp_id(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Sorts x[0..n) (often sorted already: a subject's facts come sorted
 * unless spread over runs, and then mostly as two sorted stretches, the
 * base's and one run's) and takes out duplicates: the count left. */
size_t sort_ids_unique(uint32_t *x, size_t n)
{
    size_t breaks = 0, cut = 0;
    uint32_t hi = n ? x[0] : 0;
    for (size_t i = 1; i < n; i++) {
        if (x[i - 1] > x[i])
            breaks++, cut = i;
        hi = x[i] > hi ? x[i] : hi;
    }
    enum { STACK = 1024 }; /* a closure's reach of one node: most are small */
    uint32_t buf[STACK];
    if (breaks == 1 && cut <= STACK) {
        /* two sorted stretches: one merge, the first moved aside (the
         * radix passes' histograms cost a small reach more than sorting
         * it: a closure's removal spent a quarter of its time there) */
        memcpy(buf, x, cut * sizeof *x);
        size_t i = 0, j = cut, w = 0;
        while (i < cut && j < n) /* w <= j: nothing unread is overwritten */
            x[w++] = buf[i] <= x[j] ? buf[i++] : x[j++];
        while (i < cut)
            x[w++] = buf[i++];
    } else if (breaks && n <= 32) {
        insertion_u32(x, n);
    } else if (breaks && n <= STACK) {
        /* radix passes of 8 bits over the bits the ids use, through a
         * buffer on the stack (qsort's comparisons through a pointer cost
         * an event stream several per cent) */
        radix_u32(x, n, bits_of(hi), buf);
    } else if (breaks) {
        qsort(x, n, sizeof *x, cmp_id);
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || x[k - 1] != x[i])
            x[k++] = x[i];
    return k;
}
