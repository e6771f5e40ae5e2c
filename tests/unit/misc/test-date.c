/*
 * Unit tests for lib/misc/date.c: IMF-fixdate formatting (including the
 * clamp to four-digit years), parsing of all three HTTP date forms, round
 * trips over a wide range of times, and rejection of malformed dates.
 */
#include <stdint.h>

#include "misc/date.c"
#include "tap.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void test_format(void)
{
    static const struct {
        int64_t t;
        const char *s;
    } vectors[] = {
        {0, "Thu, 01 Jan 1970 00:00:00 GMT"},
        {784111777, "Sun, 06 Nov 1994 08:49:37 GMT"},
        {951782400, "Tue, 29 Feb 2000 00:00:00 GMT"},
        {1709164799, "Wed, 28 Feb 2024 23:59:59 GMT"},
        {2147483647, "Tue, 19 Jan 2038 03:14:07 GMT"},
        {2147483648, "Tue, 19 Jan 2038 03:14:08 GMT"},
        {4102444800, "Fri, 01 Jan 2100 00:00:00 GMT"},
        {-1, "Wed, 31 Dec 1969 23:59:59 GMT"},
        {-2208988800, "Mon, 01 Jan 1900 00:00:00 GMT"},
        {253402300799, "Fri, 31 Dec 9999 23:59:59 GMT"},
        {253402300800, "Fri, 31 Dec 9999 23:59:59 GMT"},
        {INT64_MAX, "Fri, 31 Dec 9999 23:59:59 GMT"},
        {-62167219200, "Sat, 01 Jan 0000 00:00:00 GMT"},
        {INT64_MIN, "Sat, 01 Jan 0000 00:00:00 GMT"},
    };
    size_t i;

    for (i = 0; i < NELEM(vectors); i++) {
        char out[40];

        memset(out, '#', sizeof(out));
        tap_is_int(kite__http_date((time_t)vectors[i].t, out), 29, "format %lld returns 29",
                   (long long)vectors[i].t);
        tap_is_str(out, vectors[i].s, "format %lld", (long long)vectors[i].t);
        tap_ok(out[30] == '#', "format %lld writes 30 bytes only", (long long)vectors[i].t);
    }
}

static void test_parse_valid(void)
{
    static const struct {
        const char *s;
        int64_t t;
    } vectors[] = {
        {"Sun, 06 Nov 1994 08:49:37 GMT", 784111777},
        {"Sunday, 06-Nov-94 08:49:37 GMT", 784111777},
        {"Sun Nov  6 08:49:37 1994", 784111777},
        {"Sun Nov 06 08:49:37 1994", 784111777},
        {"Thu, 01 Jan 1970 00:00:00 GMT", 0},
        {"Wed, 31 Dec 1969 23:59:59 GMT", -1},
        {"Thursday, 01-Jan-70 00:00:00 GMT", 0},
        {"Thu Jan  1 00:00:00 1970", 0},
        {"Tue, 29 Feb 2000 00:00:00 GMT", 951782400},
        {"Tuesday, 29-Feb-00 00:00:00 GMT", 951782400},
        {"Tue Feb 29 00:00:00 2000", 951782400},
        {"Monday, 01-Jan-01 00:00:00 GMT", 978307200},
        {"Saturday, 31-Dec-69 23:59:59 GMT", 3155759999},
        {"Wednesday, 01-Jan-99 00:00:00 GMT", 915148800},
        {"Tue, 19 Jan 2038 03:14:08 GMT", 2147483648},
        {"Fri, 31 Dec 9999 23:59:59 GMT", 253402300799},
        {"Fri Dec 31 23:59:59 9999", 253402300799},
        /* A leap second is allowed by the grammar and lands on the next second. */
        {"Sat, 31 Dec 2016 23:59:60 GMT", 1483228800},
        /* The weekday is spelled right but wrong for the date: accepted. */
        {"Mon, 06 Nov 1994 08:49:37 GMT", 784111777},
    };
    size_t i;

    for (i = 0; i < NELEM(vectors); i++) {
        time_t t = 12345;
        int rc = kite__http_date_parse(vectors[i].s, strlen(vectors[i].s), &t);

        tap_is_int(rc, 0, "parse \"%s\"", vectors[i].s);
        tap_is_int(t, vectors[i].t, "value of \"%s\"", vectors[i].s);
    }
}

static void test_parse_invalid(void)
{
    static const char *const vectors[] = {
        "",
        "garbage",
        "Sun, 06 Nov 1994 08:49:37",
        "Sun, 06 Nov 1994 08:49:37 GMT ",
        " Sun, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Nov 1994 08:49:37 gmt",
        "Sun,  06 Nov 1994 08:49:37 GMT",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 94 08:49:37 GMT",
        "Sun, 06 Nov 19940 08:49:37 GMT",
        "Sun, 06-Nov-1994 08:49:37 GMT",
        "Sun 06 Nov 1994 08:49:37 GMT",
        "Xyz, 06 Nov 1994 08:49:37 GMT",
        "sun, 06 Nov 1994 08:49:37 GMT",
        "SUN, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 nov 1994 08:49:37 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 31 Nov 1994 08:49:37 GMT",
        "Sun, 32 Dec 1994 08:49:37 GMT",
        "Sun, 29 Feb 1900 00:00:00 GMT",
        "Sun, 29 Feb 2023 00:00:00 GMT",
        "Sun, 30 Feb 2024 00:00:00 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:37 GMT",
        "Sun, 06 Nov 1994 08:49:61 GMT",
        "Sun, 06 Nov 1994 08:49:99 GMT",
        "Sun, 06 Nov 1994 08-49-37 GMT",
        "Sun, 06 Nov 1994 8:49:37 GMT",
        "Sun, 0a Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 19x4 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:4 :37 GMT",
        "Sun, +6 Nov 1994 08:49:37 GMT",
        "Sun, -6 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov -994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMTX",
        "Sunday, 06-Nov-94 08:49:37 GMTX",
        "Sunday, 06-Nov-94 08:49:37",
        "Sunday, 06 Nov 94 08:49:37 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sunday, 6-Nov-94 08:49:37 GMT",
        "Sundae, 06-Nov-94 08:49:37 GMT",
        "sunday, 06-Nov-94 08:49:37 GMT",
        "Sun, 06-Nov-94 08:49:37 GMT    ",
        "Sunday,06-Nov-94 08:49:37 GMT ",
        "Sunday, 31-Apr-94 08:49:37 GMT",
        "Sunday, 06-Nov-94 25:49:37 GMT",
        "Sun Nov  6 08:49:37 1994 ",
        "Sun Nov 6 08:49:37 1994",
        "Sun Nov  6 08:49:37 94",
        "Sun Nov 6  08:49:37 1994",
        "Sun Nov 36 08:49:37 1994",
        "Sun Nov  0 08:49:37 1994",
        "Sun Nov x6 08:49:37 1994",
        "Sun Nov  x 08:49:37 1994",
        "Sun Noo  6 08:49:37 1994",
        "Sux Nov  6 08:49:37 1994",
        "Sun Nov  6 08:49:37 1994 GMT",
        "Sun  Nov 6 08:49:37 1994",
        "Sun Nov  6 08:49:3X 1994",
        "Sun Feb 29 08:49:37 1994",
        "Sun, 06 Nov 1994 08:49:37\tGMT",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT",
    };
    size_t i;

    for (i = 0; i < NELEM(vectors); i++) {
        time_t t = 12345;

        tap_is_int(kite__http_date_parse(vectors[i], strlen(vectors[i]), &t), KITE_EINVAL,
                   "reject \"%s\"", vectors[i]);
        tap_is_int(t, 12345, "*out untouched for \"%s\"", vectors[i]);
    }

    {
        static const char nul[] = "Sun, 06 Nov 1994 08:49:37 G\0T";
        static const char fix[] = "Sun, 06 Nov 1994 08:49:37 GMT";
        time_t t;

        tap_is_int(kite__http_date_parse(nul, sizeof(nul) - 1, &t), KITE_EINVAL,
                   "reject an embedded NUL");
        tap_is_int(kite__http_date_parse(fix, sizeof(fix) - 2, &t), KITE_EINVAL,
                   "len counts, not the NUL: a cut date is rejected");
        tap_is_int(kite__http_date_parse(NULL, 0, &t), KITE_EINVAL, "reject NULL");
    }
}

/* A small deterministic generator, so the test fails the same way every run. */
static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/*
 * Format random times, parse them back; also build the RFC 850 and
 * asctime forms with strftime() and check that they parse to the same
 * instant (RFC 850 only within its 1970-2069 window).
 */
static void test_round_trip(void)
{
    int bad_imf = 0, bad_850 = 0, bad_asc = 0, n;

    for (n = 0; n < 20000; n++) {
        int64_t v = (int64_t)(next_rand() % (uint64_t)DATE_MAX);
        time_t t = (time_t)v, back = 0;
        char imf[30], other[64];
        struct tm tm;
        size_t len;

        if (n % 4 == 0)
            t = (time_t)(next_rand() % UINT64_C(3155760000)); /* 1970-2069 */
        kite__http_date(t, imf);
        if (kite__http_date_parse(imf, 29, &back) || back != t) {
            if (bad_imf++ < 5)
                printf("# IMF round trip of %lld failed: %s -> %lld\n", (long long)t, imf,
                       (long long)back);
        }

        gmtime_r(&t, &tm);
        len = strftime(other, sizeof(other), "%a %b %e %H:%M:%S %Y", &tm);
        if (kite__http_date_parse(other, len, &back) || back != t) {
            if (bad_asc++ < 5)
                printf("# asctime form \"%s\" of %lld failed\n", other, (long long)t);
        }
        if (t < (time_t)3155760000) {
            len = strftime(other, sizeof(other), "%A, %d-%b-%y %H:%M:%S GMT", &tm);
            if (kite__http_date_parse(other, len, &back) || back != t) {
                if (bad_850++ < 5)
                    printf("# RFC 850 form \"%s\" of %lld failed\n", other, (long long)t);
            }
        }
    }
    tap_is_int(bad_imf, 0, "IMF-fixdate round trips");
    tap_is_int(bad_asc, 0, "asctime forms parse to the same time");
    tap_is_int(bad_850, 0, "RFC 850 forms parse to the same time");
}

/* Every day of a leap and a common year: the day-of-month limits are exact. */
static void test_month_lengths(void)
{
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    static const int days_2023[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    static const int years[] = {2023, 2024};
    int bad = 0;
    size_t y, m;
    int d;

    for (y = 0; y < NELEM(years); y++) {
        for (m = 0; m < 12; m++) {
            int dim = days_2023[m] + (m == 1 && years[y] == 2024);

            for (d = 1; d <= 31; d++) {
                char s[40];
                time_t t;
                int rc;

                snprintf(s, sizeof(s), "Mon, %02d %s %04d 12:00:00 GMT", d, months[m], years[y]);
                rc = kite__http_date_parse(s, strlen(s), &t);
                if ((rc == 0) != (d <= dim)) {
                    printf("# %s: got %d\n", s, rc);
                    bad++;
                }
            }
        }
    }
    tap_is_int(bad, 0, "days past the end of each month are rejected, the others kept");
}

int main(void)
{
    test_format();
    test_parse_valid();
    test_parse_invalid();
    test_round_trip();
    test_month_lengths();
    return tap_done();
}
