/* date.c - parsing ISO 8601 dates into comparable instants. */
#include "date.h"

static int digits(const char *s, size_t n, size_t at, size_t k, unsigned *v)
{
    unsigned x = 0;
    if (at + k > n)
        return -1;
    for (size_t i = at; i < at + k; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        x = x * 10 + (unsigned)(s[i] - '0');
    }
    *v = x;
    return 0;
}

static int leap(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(unsigned y, unsigned m)
{
    static const unsigned days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : days[m - 1];
}

int64_t date_days(int64_t y, unsigned m, unsigned d)
{
    /* Howard Hinnant's days_from_civil. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void date_civil(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
    /* the steps of days_from_civil above, undone: eras of 400 years
     * (146097 days), then the year of the era, then a year that starts
     * in March so that the leap day comes last */
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int64_t date_days_between(date_key a, date_key b)
{
    int64_t s = b.secs - a.secs;
    /* a part-second short of a whole second does not complete it */
    if (s > 0 && b.nsec < a.nsec)
        s--;
    else if (s < 0 && b.nsec > a.nsec)
        s++;
    return s / 86400;
}

/* A key's calendar month (y * 12 + m - 1) and its place within the month
 * (day, seconds of the day, nanoseconds) for comparing. */
static void month_and_rest(date_key k, int64_t *month, int64_t rest[3])
{
    int64_t days = k.secs >= 0 ? k.secs / 86400 : -((-k.secs + 86399) / 86400);
    int64_t y;
    unsigned m, d;
    date_civil(days, &y, &m, &d);
    *month = y * 12 + (int64_t)m - 1;
    rest[0] = d, rest[1] = k.secs - days * 86400, rest[2] = k.nsec;
}

static int rest_cmp(const int64_t a[3], const int64_t b[3])
{
    for (int i = 0; i < 3; i++)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return 0;
}

int64_t date_months_between(date_key a, date_key b)
{
    int64_t ma, mb, ra[3], rb[3];
    month_and_rest(a, &ma, ra);
    month_and_rest(b, &mb, rb);
    int64_t n = mb - ma;
    if (n > 0 && rest_cmp(rb, ra) < 0)
        n--;
    else if (n < 0 && rest_cmp(rb, ra) > 0)
        n++;
    return n;
}

int date_parse(const char *s, size_t n, date_key *k, const char **why)
{
    unsigned y, mo = 1, d = 1, h = 0, mi = 0, se = 0;
    uint32_t ns = 0;
    int64_t off = 0;
    size_t i;

    *why = "a date as YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss][Z|+hh:mm]";
    if (digits(s, n, 0, 4, &y) != 0)
        return -1;
    i = 4;
    if (i < n) {
        if (s[i] != '-' || digits(s, n, i + 1, 2, &mo) != 0 || mo < 1 || mo > 12)
            return -1;
        i += 3;
    }
    if (i < n) {
        if (s[i] != '-' || digits(s, n, i + 1, 2, &d) != 0 || d < 1 || d > month_days(y, mo))
            return -1;
        i += 3;
    }
    if (i < n) {
        if (s[i] != 'T' || i != 10)
            return -1;
        if (digits(s, n, i + 1, 2, &h) != 0 || i + 3 >= n || s[i + 3] != ':' ||
            digits(s, n, i + 4, 2, &mi) != 0 || h > 23 || mi > 59)
            return -1;
        i += 6;
        if (i < n && s[i] == ':') {
            if (digits(s, n, i + 1, 2, &se) != 0 || se > 59)
                return -1;
            i += 3;
            if (i < n && s[i] == '.') {
                size_t nd = 0;
                i++;
                while (i < n && s[i] >= '0' && s[i] <= '9') {
                    if (nd < 9)
                        ns = ns * 10 + (uint32_t)(s[i] - '0');
                    nd++;
                    i++;
                }
                if (nd == 0)
                    return -1;
                for (; nd < 9; nd++)
                    ns *= 10;
            }
        }
        if (i < n) {
            unsigned zh, zm;
            if (s[i] == 'Z') {
                i++;
            } else if (s[i] == '+' || s[i] == '-') {
                if (digits(s, n, i + 1, 2, &zh) != 0 || i + 3 >= n || s[i + 3] != ':' ||
                    digits(s, n, i + 4, 2, &zm) != 0 || zh > 14 || zm > 59)
                    return -1;
                off = (int64_t)(zh * 3600 + zm * 60) * (s[i] == '-' ? -1 : 1);
                i += 6;
            } else {
                return -1;
            }
        }
    }
    if (i != n)
        return -1;
    k->secs = date_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off;
    k->nsec = ns;
    *why = NULL;
    return 0;
}
