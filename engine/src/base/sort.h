/* sort.h - sorting rows of uint32 ids lexicographically on their first
 * three ids (rows of 3 or 4 ids), in place. */
#ifndef LORE_SORT_H
#define LORE_SORT_H

#include <stddef.h>
#include <stdint.h>

/* Sorts n rows of `stride` (3 or 4) ids by (row[0], row[1], row[2]). */
void sort_rows(uint32_t *a, size_t n, int stride);

/* Same order, but first distributes the rows by row[0] (every row[0] <
 * nkeys, n < 2^32) in one in-place pass, then sorts each bucket: close to
 * linear for dense first ids.  `scratch` holds 2 * (nkeys + 1) ids. */
void sort_rows_bucketed(uint32_t *a, size_t n, int stride, uint32_t nkeys, uint32_t *scratch);

/* Rows of a bulk load usually come grouped by subject, in nearly
 * increasing subject id.  "Strays" are the rows whose row[0] is below the
 * running maximum of the rows before them; this counts them. */
size_t sort_count_strays(const uint32_t *a, size_t n, int stride);

/* Sorts rows with `nstrays` strays (as counted above): the strays move to
 * `spare` (room for nstrays rows) and are sorted, the other rows close up
 * (already in row[0] order), the two merge back from the end, and each run
 * of equal row[0] is sorted.  Linear but for the strays and the runs. */
void sort_rows_strays(uint32_t *a, size_t n, int stride, uint32_t *spare, size_t nstrays);

static inline int row_cmp(const uint32_t *x, const uint32_t *y)
{
    if (x[0] != y[0])
        return x[0] < y[0] ? -1 : 1;
    if (x[1] != y[1])
        return x[1] < y[1] ? -1 : 1;
    if (x[2] != y[2])
        return x[2] < y[2] ? -1 : 1;
    return 0;
}

/* Same order, out of place: radix passes on row[0] (every row[0] <=
 * maxkey) through `tmp`, room for n rows, then each group sorted.  Faster
 * than the bucketed sort on large random input, at the price of tmp.
 * Rows of 4 whose three ids span at most 32 bits together are sorted as
 * one integer each instead (the fourth id riding below the key). */
void sort_rows_radix(uint32_t *a, size_t n, int stride, uint32_t maxkey, uint32_t *tmp);

/* Same order, out of place: stable LSD radix passes on every column,
 * the last first, through `tmp`, room for n rows (columns that hold one
 * value are skipped).  For rows whose leading column has few values,
 * where sort_rows_radix would leave one large group to introsort. */
void sort_rows_lsd(uint32_t *a, size_t n, int stride, uint32_t *tmp);

/* Sorts n rows of 3 ids when each column's spread (max - min) fits, the
 * three together, in 64 bits (always when the ids are below 2^21): the
 * rows become one integer each, sorted as such (radix passes of 8 bits
 * over the bits they use, or introsort when few), then unpacked.  `tmp`
 * holds 2n integers.  Returns 0, the rows untouched, when they do not fit. */
int sort_rows_packed(uint32_t *a, size_t n, uint64_t *tmp);

/* Sorts n rows of 3 ids made of at most `most` ascending stretches (a
 * tail that several sorted batches of writes left) by merging the
 * stretches pairwise through `tmp` (room for n rows).  Returns 0, the
 * rows untouched, when there are more stretches than `most` (at most 64). */
int sort_rows_stretches(uint32_t *a, size_t n, uint32_t *tmp, int most);

/* Sorts n ids ascending (often sorted already: a subject's facts come
 * sorted unless spread over runs) and takes out duplicates: the count
 * left.  Uses up to 4 KiB of stack. */
size_t sort_ids_unique(uint32_t *x, size_t n);

#endif
