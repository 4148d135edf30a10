/* date.h - ISO 8601 dates and date-times: validation and their instant.
 *
 * Accepted: YYYY, YYYY-MM, YYYY-MM-DD, and YYYY-MM-DDThh:mm[:ss[.f+]]
 * optionally followed by Z or +hh:mm / -hh:mm.  Years 0000-9999.  A value
 * without a zone is taken as UTC; a reduced date stands for its first
 * instant (2024 is 2024-01-01T00:00:00Z). */
#ifndef LORE_DATE_H
#define LORE_DATE_H

#include <stddef.h>
#include <stdint.h>

typedef struct date_key {
    int64_t secs;  /* seconds since 1970-01-01T00:00:00Z */
    uint32_t nsec; /* fraction, in nanoseconds (digits past 9 ignored) */
} date_key;

/* 0 and *k set if s[0..n) is a valid date; else -1 and *why says what is
 * wrong (a static string). */
int date_parse(const char *s, size_t n, date_key *k, const char **why);

/* Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t date_days(int64_t y, unsigned m, unsigned d);

/* The proleptic Gregorian date of a day number (days since 1970-01-01):
 * the inverse of date_days. */
void date_civil(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* Whole days, months or years from a to b (negative when b is earlier),
 * counted on the UTC calendar: a month is complete when b's day and time
 * reach a's (2024-01-31 to 2024-02-29 is 0 months, to 2024-03-01 is 1). */
int64_t date_days_between(date_key a, date_key b);
int64_t date_months_between(date_key a, date_key b);

static inline int date_cmp(date_key a, date_key b)
{
    if (a.secs != b.secs)
        return a.secs < b.secs ? -1 : 1;
    if (a.nsec != b.nsec)
        return a.nsec < b.nsec ? -1 : 1;
    return 0;
}

#endif
