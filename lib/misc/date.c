/*
 * HTTP dates (RFC 9110 section 5.6.7): formatting the IMF-fixdate used in
 * Date and Last-Modified headers, and parsing the three forms a server
 * must accept in If-Modified-Since and friends: IMF-fixdate, the obsolete
 * RFC 850 form and C's asctime() form. Parsing is strict about the shape
 * and the ranges of the fields so that garbage is rejected rather than
 * normalised into some other date by timegm().
 */
#include <stdint.h>
#include <string.h>

#include "misc/misc.h"

/* Years outside 0000-9999 do not fit the 4-digit field of an IMF-fixdate. */
#define DATE_MIN INT64_C(-62167219200) /* 0000-01-01 00:00:00 */
#define DATE_MAX INT64_C(253402300799) /* 9999-12-31 23:59:59 */

static const char wkday_short[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const wkday_long[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                          "Thursday", "Friday", "Saturday"};
static const char month_names[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Writes @v as @n decimal digits, zero-padded, and returns the end. */
static char *put_digits(char *p, int v, int n)
{
    int i;

    for (i = n - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + n;
}

size_t kite__http_date(time_t t, char *out)
{
    int64_t v = (int64_t)t;
    struct tm tm;
    char *p = out;

    if (v < DATE_MIN)
        t = (time_t)DATE_MIN;
    else if (v > DATE_MAX)
        t = (time_t)DATE_MAX;
    /* gmtime_r() cannot fail within the clamped range; the fallback is the epoch. */
    if (!gmtime_r(&t, &tm)) {
        t = 0;
        gmtime_r(&t, &tm);
    }

    /* Built by hand: every field has a fixed width, so this is always 29 bytes. */
    memcpy(p, wkday_short[tm.tm_wday], 3);
    memcpy(p + 3, ", ", 2);
    p += 5;
    p = put_digits(p, tm.tm_mday, 2);
    *p++ = ' ';
    memcpy(p, month_names[tm.tm_mon], 3);
    p += 3;
    *p++ = ' ';
    p = put_digits(p, tm.tm_year + 1900, 4);
    *p++ = ' ';
    p = put_digits(p, tm.tm_hour, 2);
    *p++ = ':';
    p = put_digits(p, tm.tm_min, 2);
    *p++ = ':';
    p = put_digits(p, tm.tm_sec, 2);
    memcpy(p, " GMT", 5);
    return 29;
}

/* Exactly @n ASCII digits at @s, stored in *val; 0 on success, -1 otherwise. */
static int parse_digits(const char *s, size_t n, int *val)
{
    int v = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *val = v;
    return 0;
}

/* "HH:MM:SS" into @tm; the ranges are checked later, with the date. */
static int parse_time(const char *s, struct tm *tm)
{
    if (s[2] != ':' || s[5] != ':')
        return -1;
    if (parse_digits(s, 2, &tm->tm_hour) || parse_digits(s + 3, 2, &tm->tm_min) ||
        parse_digits(s + 6, 2, &tm->tm_sec))
        return -1;
    return 0;
}

/* A three-letter month name (case-sensitive, as the grammar says) into tm_mon. */
static int parse_month(const char *s, struct tm *tm)
{
    int i;

    for (i = 0; i < 12; i++) {
        if (!memcmp(s, month_names[i], 3)) {
            tm->tm_mon = i;
            return 0;
        }
    }
    return -1;
}

static int is_short_wkday(const char *s)
{
    int i;

    for (i = 0; i < 7; i++)
        if (!memcmp(s, wkday_short[i], 3))
            return 1;
    return 0;
}

static int is_leap(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

/* Checks every field of @tm (tm_year holds the full year here) against its range. */
static int check_fields(const struct tm *tm)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int dim = mdays[tm->tm_mon] + (tm->tm_mon == 1 && is_leap(tm->tm_year));

    /* Second 60 is a leap second, which the grammar allows; timegm() rolls it over. */
    if (tm->tm_mday < 1 || tm->tm_mday > dim || tm->tm_hour > 23 || tm->tm_min > 59 ||
        tm->tm_sec > 60)
        return -1;
    return 0;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" */
static int parse_imf(const char *s, size_t len, struct tm *tm)
{
    if (len != 29 || !is_short_wkday(s) || memcmp(s + 3, ", ", 2) || s[7] != ' ' || s[11] != ' ' ||
        s[16] != ' ' || memcmp(s + 25, " GMT", 4))
        return -1;
    if (parse_digits(s + 5, 2, &tm->tm_mday) || parse_month(s + 8, tm) ||
        parse_digits(s + 12, 4, &tm->tm_year) || parse_time(s + 17, tm))
        return -1;
    return 0;
}

/*
 * "Sunday, 06-Nov-94 08:49:37 GMT". The two-digit year pivots at 70:
 * 70-99 are 1970-1999 and 00-69 are 2000-2069. RFC 9110 asks for a pivot
 * 50 years after the current time instead; a fixed one keeps this a pure
 * function, and the two agree on every date a client can plausibly send.
 */
static int parse_rfc850(const char *s, size_t len, struct tm *tm)
{
    const char *p;
    size_t i, n = 0;

    for (i = 0; i < 7; i++) {
        n = strlen(wkday_long[i]);
        if (len == n + 24 && !memcmp(s, wkday_long[i], n))
            break;
    }
    if (i == 7)
        return -1;
    p = s + n;
    if (memcmp(p, ", ", 2) || p[4] != '-' || p[8] != '-' || p[11] != ' ' ||
        memcmp(p + 20, " GMT", 4))
        return -1;
    if (parse_digits(p + 2, 2, &tm->tm_mday) || parse_month(p + 5, tm) ||
        parse_digits(p + 9, 2, &tm->tm_year) || parse_time(p + 12, tm))
        return -1;
    tm->tm_year += tm->tm_year < 70 ? 2000 : 1900;
    return 0;
}

/* "Sun Nov  6 08:49:37 1994"; the day may also be written "06". */
static int parse_asctime(const char *s, size_t len, struct tm *tm)
{
    if (len != 24 || !is_short_wkday(s) || s[3] != ' ' || s[7] != ' ' || s[10] != ' ' ||
        s[19] != ' ')
        return -1;
    if (parse_month(s + 4, tm))
        return -1;
    if (s[8] == ' ') {
        if (parse_digits(s + 9, 1, &tm->tm_mday))
            return -1;
    } else if (parse_digits(s + 8, 2, &tm->tm_mday)) {
        return -1;
    }
    if (parse_time(s + 11, tm) || parse_digits(s + 20, 4, &tm->tm_year))
        return -1;
    return 0;
}

/*
 * The day name is checked for spelling but not against the date: RFC 9110
 * does not ask recipients to, and a wrong weekday does not make the
 * instant ambiguous.
 */
int kite__http_date_parse(const char *s, size_t len, time_t *out)
{
    struct tm tm;
    time_t t;
    int rc;

    if (!s || len < 24)
        return KITE_EINVAL;
    memset(&tm, 0, sizeof(tm));
    if (s[3] == ',')
        rc = parse_imf(s, len, &tm);
    else if (s[3] == ' ')
        rc = parse_asctime(s, len, &tm);
    else
        rc = parse_rfc850(s, len, &tm);
    if (rc || check_fields(&tm))
        return KITE_EINVAL;

    tm.tm_year -= 1900;
    tm.tm_isdst = 0;
    t = timegm(&tm);
    /* -1 is also 1969-12-31 23:59:59, but otherwise it means the year does not fit time_t. */
    if (t == (time_t)-1 && !(tm.tm_year == 69 && tm.tm_mon == 11 && tm.tm_mday == 31 &&
                             tm.tm_hour == 23 && tm.tm_min == 59 && tm.tm_sec == 59))
        return KITE_EINVAL;
    *out = t;
    return 0;
}
