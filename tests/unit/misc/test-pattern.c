/*
 * Unit tests for lib/misc/pattern.c: table-driven LibHTTP glob vectors
 * (the cgi_pattern and ssi_pattern defaults among them), a comparison
 * against a straightforward recursive matcher in LibHTTP's style on
 * thousands of generated cases, and patterns that would take exponential
 * time in that recursive matcher.
 */
#include <time.h>

#include "misc/pattern.c"
#include "tap.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int match(const char *pat, const char *str)
{
    return kite__pattern_match(pat, strlen(pat), str, strlen(str));
}

static void test_vectors(void)
{
    static const struct {
        const char *pat, *str;
        int want;
    } v[] = {
        /* LibHTTP's default cgi_pattern. */
        {"**.cgi$|**.pl$|**.php$", "/var/www/a.cgi", 14},
        {"**.cgi$|**.pl$|**.php$", "/var/www/cgi-bin/test.pl", 24},
        {"**.cgi$|**.pl$|**.php$", "/x.php", 6},
        {"**.cgi$|**.pl$|**.php$", "/X.PHP", 6},
        {"**.cgi$|**.pl$|**.php$", "/var/www/A.Cgi", 14},
        {"**.cgi$|**.pl$|**.php$", "/x.cgi.txt", -1},
        {"**.cgi$|**.pl$|**.php$", "/x.phpx", -1},
        {"**.cgi$|**.pl$|**.php$", "/x.html", -1},
        {"**.cgi$|**.pl$|**.php$", "cgi", -1},
        {"**.cgi$|**.pl$|**.php$", ".cgi", 4},
        {"**.cgi$|**.pl$|**.php$", "", -1},
        /* The default ssi_pattern. */
        {"**.shtml$|**.shtm$", "/a/b.shtml", 10},
        {"**.shtml$|**.shtm$", "/a/b.shtm", 9},
        {"**.shtml$|**.shtm$", "/a/b.html", -1},
        /* The suffix shape "**<literal>$" takes a short cut: same answers. */
        {"**.lp$|**.lsp$", "/d/x.LSP", 8},
        {"**/a.lp$", "x/a.lp", 6},
        {"**/a.lp$", "a.lp", -1},
        {"**.lp$", ".lp", 3},
        {"**.lp$", "lp", -1},
        {"**x?$", "/ax/b", -1},
        {"**x?$", "/axb", 4},
        /* Examples from the LibHTTP manual. */
        {"/foo", "/foo", 4},
        {"/foo", "/foobar", 4},
        {"/foo", "/FOO/x", 4},
        {"/foo", "/fo", -1},
        {"/foo", "foo", -1},
        {"**a$|**b$", "xxa", 3},
        {"**a$|**b$", "x/b", 3},
        {"**a$|**b$", "xxc", -1},
        {"/cgi-bin/**.cgi", "/cgi-bin/x/y.cgi", 16},
        {"/cgi-bin/*.cgi", "/cgi-bin/x/y.cgi", -1},
        {"/cgi-bin/*.cgi", "/cgi-bin/y.cgi", 14},
        {"/cgi-bin/*.cgi$", "/cgi-bin/y.cgi.bak", -1},
        {"/cgi-bin/*.cgi", "/cgi-bin/y.cgi.bak", 14},
        /* Single stars stop at '/', double stars do not. */
        {"*", "abc/def", 3},
        {"**", "abc/def", 7},
        {"*/", "abc/def", 4},
        {"*/*", "abc/def/ghi", 7},
        {"**/", "abc/def/ghi", 8},
        {"*$", "abc/def", -1},
        {"**$", "abc/def", 7},
        {"*", "", 0},
        {"**", "", 0},
        {"***", "a/b", 3},
        {"a*b", "axxb", 4},
        {"a*b", "ax/b", -1},
        {"a**b", "ax/b", 4},
        /* Greedy: the longest choice for each star that lets the rest match. */
        {"a*b", "abxbyb/b", 6},
        {"a**b", "abxbyb/b", 8},
        {"**b", "abxbyb/bq", 8},
        {"*b*", "abcb/x", 4},
        /* '?' is any one character but '/'. */
        {"?", "a", 1},
        {"?", "/", -1},
        {"?", "", -1},
        {"??", "a", -1},
        {"a?c", "abc", 3},
        {"a?c", "a/c", -1},
        {"??$", "ab", 2},
        {"??$", "abc", -1},
        /* '$' anchors; what follows it in its alternative is ignored. */
        {"$", "", 0},
        {"$", "a", -1},
        {"a$", "a", 1},
        {"a$", "ab", -1},
        {"a$b", "a", 1},
        {"a$b", "ab", -1},
        /* An empty pattern matches the empty prefix. */
        {"", "abc", 0},
        {"", "", 0},
        /* Alternatives: the first that matches wins, even when a later one is longer. */
        {"a|ab", "abc", 1},
        {"ab|a", "abc", 2},
        {"x|y|abc", "abcd", 3},
        {"x|y|z", "abcd", -1},
        {"|abc", "abc", 0},
        {"abc|", "xyz", 0},
        {"x$|", "xyz", 0},
        /* Case-insensitive both ways, and only for letters. */
        {"ABC", "abc", 3},
        {"abc", "ABC", 3},
        {"[", "{", -1},
        {"\xc3\xa9", "\xc3\x89", -1},
        {"\xc3\xa9", "\xc3\xa9", 2},
    };
    size_t i;

    for (i = 0; i < NELEM(v); i++)
        tap_is_int(match(v[i].pat, v[i].str), v[i].want, "match(\"%s\", \"%s\")", v[i].pat,
                   v[i].str);

    /* Lengths are honoured: neither string is read past its length. */
    tap_is_int(kite__pattern_match("**.cgi$|x", 7, "/a.cgi.bak", 6), 6, "plen and slen cut");
    tap_is_int(kite__pattern_match("abc", 3, "abcdef", 2), -1, "slen shorter than the pattern");
    tap_is_int(kite__pattern_match(NULL, 0, "abc", 3), 0, "empty pattern given as NULL");
    tap_is_int(kite__pattern_match("a?c", 3, "a\0c", 3), 3, "'?' matches a NUL byte");
}

static char fold(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/*
 * LibHTTP's match_prefix(), made length-aware and with this library's two
 * deliberate differences: '?' does not match '/', and the first matching
 * alternative wins even with length 0. Exponential in the worst case, so
 * it only runs on short inputs.
 */
static int reference(const char *pat, size_t plen, const char *str, size_t slen)
{
    const char *bar = plen ? memchr(pat, '|', plen) : NULL;
    size_t i, j;

    if (bar) {
        int res = reference(pat, (size_t)(bar - pat), str, slen);

        return res >= 0 ? res : reference(bar + 1, plen - (size_t)(bar - pat) - 1, str, slen);
    }
    for (i = 0, j = 0; i < plen; i++, j++) {
        if (pat[i] == '?' && j < slen && str[j] != '/') {
            continue;
        } else if (pat[i] == '$') {
            return j == slen ? (int)j : -1;
        } else if (pat[i] == '*') {
            size_t len = 0;
            int res;

            i++;
            if (i < plen && pat[i] == '*') {
                i++;
                len = slen - j;
            } else {
                while (j + len < slen && str[j + len] != '/')
                    len++;
            }
            if (i == plen)
                return (int)(j + len);
            for (;;) {
                res = reference(pat + i, plen - i, str + j + len, slen - j - len);
                if (res >= 0 || len == 0)
                    break;
                len--;
            }
            return res < 0 ? -1 : (int)(j + len) + res;
        } else if (pat[i] == '?' || j >= slen || fold(pat[i]) != fold(str[j])) {
            return -1;
        }
    }
    return (int)j;
}

static unsigned long rng = 12345;

static unsigned pick(unsigned n)
{
    rng = rng * 6364136223846793005ul + 1442695040888963407ul;
    return (unsigned)((rng >> 33) % n);
}

static void test_against_reference(void)
{
    static const char pat_chars[] = "ab/*?$|A";
    static const char str_chars[] = "abB/";
    int n, bad = 0, matched = 0;

    for (n = 0; n < 200000; n++) {
        char pat[12], str[14];
        size_t plen = pick(sizeof(pat)), slen = pick(sizeof(str)), i;
        int want, got;

        for (i = 0; i < plen; i++)
            pat[i] = pat_chars[pick(sizeof(pat_chars) - 1)];
        for (i = 0; i < slen; i++)
            str[i] = str_chars[pick(sizeof(str_chars) - 1)];
        want = reference(pat, plen, str, slen);
        got = kite__pattern_match(pat, plen, str, slen);
        matched += want >= 0;
        if (got != want && bad++ < 10)
            printf("# \"%.*s\" on \"%.*s\": got %d, want %d\n", (int)plen, pat, (int)slen, str, got,
                   want);
    }
    tap_is_int(bad, 0, "agrees with the recursive matcher on 200000 cases (%d matched)", matched);
    tap_ok(matched > 20000 && matched < 180000, "the generated cases both match and fail");
}

static double elapsed(clock_t since)
{
    return (double)(clock() - since) / CLOCKS_PER_SEC;
}

/* Inputs on which backtracking takes exponential time finish at once. */
static void test_bounded(void)
{
    static char str[100001], pat[2000];
    size_t i;
    clock_t t0;
    int rc;

    memset(str, 'a', sizeof(str) - 1);
    str[sizeof(str) - 2] = 'b';

    t0 = clock();
    rc = match("**a**a**a**a**a**a**a**a**a**a**a**a**a**a**a**a$", str);
    tap_is_int(rc, -1, "\"**a**a...a$\" against 100000 bytes ending in 'b'");
    tap_ok(elapsed(t0) < 2.0, "... in %.3f s", elapsed(t0));

    t0 = clock();
    rc = match("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*ac", str);
    tap_is_int(rc, -1, "\"*a*a...ac\" against 100000 bytes");
    tap_ok(elapsed(t0) < 2.0, "... in %.3f s", elapsed(t0));

    t0 = clock();
    rc = match("**a**a**a**a**a**a**a**a**a**a**a**a**a**a**a**a", str);
    tap_is_int(rc, (int)sizeof(str) - 2, "prefix \"**a**a...a\" ends at the last 'a'");
    tap_ok(elapsed(t0) < 2.0, "... in %.3f s", elapsed(t0));

    /* The longest alternative that is run, and one byte more. */
    for (i = 0; i < ALT_MAX; i++)
        pat[i] = i % 2 ? '*' : 'a';
    rc = kite__pattern_match(pat, ALT_MAX, str, 1000);
    tap_is_int(rc, 1000, "an alternative of %d bytes runs", ALT_MAX);
    pat[ALT_MAX] = 'a';
    rc = kite__pattern_match(pat, ALT_MAX + 1, str, 1000);
    tap_is_int(rc, -1, "an alternative of %d bytes never matches", ALT_MAX + 1);
    pat[ALT_MAX + 1] = '|';
    pat[ALT_MAX + 2] = 'a';
    rc = kite__pattern_match(pat, ALT_MAX + 3, str, 1000);
    tap_is_int(rc, 1, "... but the alternatives after it still run");
}

int main(void)
{
    test_vectors();
    test_against_reference();
    test_bounded();
    return tap_done();
}
