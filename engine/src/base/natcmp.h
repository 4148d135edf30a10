/* natcmp.h - the natural order of names: runs of digits compare by their
 * value, so press:s9 comes before press:s10 and item2 before item10.
 *
 * Other bytes compare as bytes.  Names equal but for leading zeros
 * (s01, s1) are then ordered by their bytes, so the order is total and
 * agrees with equality. */
#ifndef LORE_NATCMP_H
#define LORE_NATCMP_H

#include <stddef.h>
#include <string.h>

static inline int natcmp_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* <0, 0 or >0 as a[0..an) comes before, equals or comes after b[0..bn). */
static inline int natcmp(const char *a, size_t an, const char *b, size_t bn)
{
    size_t i = 0, j = 0;
    while (i < an && j < bn) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[j];
        if (natcmp_digit(x) && natcmp_digit(y)) {
            while (i < an && a[i] == '0') /* the value, without leading zeros */
                i++;
            while (j < bn && b[j] == '0')
                j++;
            size_t ei = i, ej = j;
            while (ei < an && natcmp_digit((unsigned char)a[ei]))
                ei++;
            while (ej < bn && natcmp_digit((unsigned char)b[ej]))
                ej++;
            if (ei - i != ej - j) /* more digits, a larger value */
                return ei - i < ej - j ? -1 : 1;
            int c = memcmp(a + i, b + j, ei - i);
            if (c)
                return c < 0 ? -1 : 1;
            i = ei, j = ej;
            continue;
        }
        if (x != y)
            return x < y ? -1 : 1;
        i++, j++;
    }
    if (i < an || j < bn)
        return i < an ? 1 : -1;
    int c = memcmp(a, b, an < bn ? an : bn); /* equal values: the bytes decide */
    if (c)
        return c < 0 ? -1 : 1;
    return an < bn ? -1 : an > bn;
}

#endif
