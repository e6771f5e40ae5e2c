/*
 * Unit tests for lib/misc/utf8.c, the incremental UTF-8 validator that
 * WebSocket text goes through: table vectors (valid text, overlongs,
 * surrogates, code points above U+10FFFF, stray and missing continuation
 * bytes, truncated sequences) fed whole, split in two at every byte and
 * byte by byte, each way giving the same verdict; then every string of
 * one, two and three bytes, and four-byte strings over the bytes that
 * sit on a boundary, against a plain decoder that follows RFC 3629
 * literally.
 */
#include <stdlib.h>

#include "misc/utf8.c"
#include "tap.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

enum { V_VALID, V_INVALID, V_TRUNCATED };

/* The verdict of a whole string: valid, invalid, or a valid prefix cut short. */
static int verdict(uint32_t state)
{
    return state == KITE__UTF8_ACCEPT   ? V_VALID
           : state == KITE__UTF8_REJECT ? V_INVALID
                                        : V_TRUNCATED;
}

/* Feed @s in pieces cut at each offset in @cuts (ascending, < n), each piece an exact copy. */
static uint32_t feed(const unsigned char *s, size_t n, const size_t *cuts, size_t ncuts)
{
    uint32_t st = KITE__UTF8_ACCEPT;
    size_t from = 0, i;

    for (i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : n;
        unsigned char *piece = malloc(to - from + 1);

        memcpy(piece, s + from, to - from);
        st = kite__utf8_check(st, piece, to - from);
        free(piece);
        from = to;
    }
    return st;
}

static uint32_t feed_whole(const unsigned char *s, size_t n)
{
    return feed(s, n, NULL, 0);
}

static const struct {
    const char *name;
    const char *s;
    size_t n; /* 0: strlen */
    int want;
} vectors[] = {
    {"empty", "", 0, V_VALID},
    {"ASCII", "Hello, kite! ~\x7f", 0, V_VALID},
    {"NUL inside ASCII", "a\0b", 3, V_VALID},
    {"two-byte U+0080", "\xc2\x80", 0, V_VALID},
    {"two-byte U+07FF", "\xdf\xbf", 0, V_VALID},
    {"three-byte U+0800", "\xe0\xa0\x80", 0, V_VALID},
    {"three-byte U+D7FF (last before surrogates)", "\xed\x9f\xbf", 0, V_VALID},
    {"three-byte U+E000 (first after surrogates)", "\xee\x80\x80", 0, V_VALID},
    {"three-byte U+FFFD", "\xef\xbf\xbd", 0, V_VALID},
    {"three-byte U+FFFF (noncharacter, still valid)", "\xef\xbf\xbf", 0, V_VALID},
    {"four-byte U+10000", "\xf0\x90\x80\x80", 0, V_VALID},
    {"four-byte U+10FFFF", "\xf4\x8f\xbf\xbf", 0, V_VALID},
    {"Greek kosme", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", 0, V_VALID},
    {"mixed scripts and emoji", "h\xc3\xa9llo \xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\x98\x80!", 0,
     V_VALID},
    {"BOM then text", "\xef\xbb\xbftext", 0, V_VALID},
    /* Overlongs. */
    {"overlong '/' in two bytes (C0 AF)", "\xc0\xaf", 0, V_INVALID},
    {"overlong NUL in two bytes (C0 80)", "\xc0\x80", 0, V_INVALID},
    {"overlong U+007F in two bytes (C1 BF)", "\xc1\xbf", 0, V_INVALID},
    {"overlong '/' in three bytes (E0 80 AF)", "\xe0\x80\xaf", 0, V_INVALID},
    {"overlong U+07FF in three bytes (E0 9F BF)", "\xe0\x9f\xbf", 0, V_INVALID},
    {"overlong '/' in four bytes (F0 80 80 AF)", "\xf0\x80\x80\xaf", 0, V_INVALID},
    {"overlong U+FFFF in four bytes (F0 8F BF BF)", "\xf0\x8f\xbf\xbf", 0, V_INVALID},
    {"five-byte form (F8 88 80 80 80)", "\xf8\x88\x80\x80\x80", 0, V_INVALID},
    {"six-byte form (FC 84 80 80 80 80)", "\xfc\x84\x80\x80\x80\x80", 0, V_INVALID},
    /* Surrogates. */
    {"surrogate U+D800", "\xed\xa0\x80", 0, V_INVALID},
    {"surrogate U+DBFF", "\xed\xaf\xbf", 0, V_INVALID},
    {"surrogate U+DC00", "\xed\xb0\x80", 0, V_INVALID},
    {"surrogate U+DFFF", "\xed\xbf\xbf", 0, V_INVALID},
    {"surrogate pair as CESU-8", "\xed\xa0\xbd\xed\xb8\x80", 0, V_INVALID},
    /* Above U+10FFFF. */
    {"U+110000 (F4 90 80 80)", "\xf4\x90\x80\x80", 0, V_INVALID},
    {"U+13FFFF (F4 BF BF BF)", "\xf4\xbf\xbf\xbf", 0, V_INVALID},
    {"lead F5", "\xf5\x80\x80\x80", 0, V_INVALID},
    {"lead F7 (U+1FFFFF)", "\xf7\xbf\xbf\xbf", 0, V_INVALID},
    {"byte FE", "\xfe", 0, V_INVALID},
    {"byte FF", "\xff", 0, V_INVALID},
    /* Continuation bytes where none belongs, and missing ones. */
    {"lone continuation 80", "\x80", 0, V_INVALID},
    {"lone continuation BF", "a\xbf", 0, V_INVALID},
    {"one continuation too many", "\xc3\xa9\xa9", 0, V_INVALID},
    {"two-byte lead then ASCII",
     "\xc3"
     "a",
     0, V_INVALID},
    {"three-byte lead, one continuation, then ASCII",
     "\xe2\x82"
     "a",
     0, V_INVALID},
    {"four-byte lead then a new lead", "\xf0\x9f\xc3\xa9", 0, V_INVALID},
    {"valid text then an invalid byte", "valid text \xe4\xb8\x96 then \xff", 0, V_INVALID},
    {"invalid early, valid after", "\xc0\xafvalid", 0, V_INVALID},
    /* Truncated: a valid prefix whose sequence is not finished. */
    {"truncated two-byte", "ab\xc3", 0, V_TRUNCATED},
    {"truncated three-byte after one", "\xe2", 0, V_TRUNCATED},
    {"truncated three-byte after two", "\xe2\x82", 0, V_TRUNCATED},
    {"truncated four-byte after one", "\xf0", 0, V_TRUNCATED},
    {"truncated four-byte after two", "\xf0\x9f", 0, V_TRUNCATED},
    {"truncated four-byte after three", "\xf0\x9f\x98", 0, V_TRUNCATED},
    {"truncated U+10FFFF", "\xf4\x8f\xbf", 0, V_TRUNCATED},
    {"truncated after E0 A0", "\xe0\xa0", 0, V_TRUNCATED},
    {"truncated after ED 9F", "\xed\x9f", 0, V_TRUNCATED},
};

static void test_vectors(void)
{
    size_t i;

    for (i = 0; i < NELEM(vectors); i++) {
        const unsigned char *s = (const unsigned char *)vectors[i].s;
        size_t n = vectors[i].n ? vectors[i].n : strlen(vectors[i].s), k, bad2 = 0, bad_b = 0;
        size_t *cuts = malloc((n ? n : 1) * sizeof(*cuts));
        int want = vectors[i].want;

        tap_is_int(verdict(feed_whole(s, n)), want, "%s: whole", vectors[i].name);
        for (k = 1; k < n; k++)
            if (verdict(feed(s, n, &k, 1)) != want)
                bad2++;
        tap_is_int(bad2, 0, "%s: split in two at each of %zu places", vectors[i].name,
                   n ? n - 1 : 0);
        for (k = 1; k < n; k++)
            cuts[k - 1] = k;
        if (verdict(feed(s, n, cuts, n ? n - 1 : 0)) != want)
            bad_b++;
        tap_is_int(bad_b, 0, "%s: byte by byte", vectors[i].name);
        free(cuts);
    }
}

/* A REJECT state stays REJECT whatever follows, and empty input changes nothing. */
static void test_state_rules(void)
{
    static const unsigned char good[] = "ok \xc3\xa9", partial[] = "\xf0\x9f";
    uint32_t st;

    st = kite__utf8_check(KITE__UTF8_REJECT, good, sizeof(good) - 1);
    tap_ok(st == KITE__UTF8_REJECT, "reject is sticky across later valid input");
    st = kite__utf8_check(KITE__UTF8_ACCEPT, good, 0);
    tap_ok(st == KITE__UTF8_ACCEPT, "empty input leaves ACCEPT");
    st = kite__utf8_check(KITE__UTF8_ACCEPT, partial, 2);
    tap_ok(kite__utf8_check(st, good, 0) == st, "empty input keeps a mid-sequence state");
    tap_ok(kite__utf8_check(st, (const unsigned char *)"\x98\x80", 2) == KITE__UTF8_ACCEPT,
           "a sequence finished in the next call is accepted");
    tap_ok(kite__utf8_check(st, (const unsigned char *)"a", 1) == KITE__UTF8_REJECT,
           "ASCII where a continuation is due is rejected");
}

/*
 * The reference: decode literally. Returns V_VALID, V_INVALID, or
 * V_TRUNCATED when the string ends inside a sequence that could still
 * become valid.
 */
static int ref_check(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned c = s[i], need, k;
        uint32_t cp, min;

        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xe0) == 0xc0) {
            need = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            need = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            need = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return V_INVALID;
        }
        for (k = 1; k <= need; k++) {
            uint32_t lo, hi;
            unsigned rest = need - k;

            if (i + k == n) {
                /* Cut short: could some continuation bytes still make a valid code point? */
                lo = cp << (6 * (rest + 1));
                hi = lo | ((1u << (6 * (rest + 1))) - 1);
                if (hi < min || lo > 0x10ffff || (lo >= 0xd800 && hi <= 0xdfff))
                    return V_INVALID;
                return V_TRUNCATED;
            }
            if ((s[i + k] & 0xc0) != 0x80)
                return V_INVALID;
            cp = cp << 6 | (s[i + k] & 0x3f);
            /* Reject as soon as no completion can be valid, as a streaming checker must. */
            lo = cp << (6 * rest);
            hi = lo | ((1u << (6 * rest)) - 1);
            if (hi < min || lo > 0x10ffff || (lo >= 0xd800 && hi <= 0xdfff))
                return V_INVALID;
        }
        i += need + 1;
    }
    return V_VALID;
}

static void test_exhaustive(void)
{
    static const unsigned char edge[] = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0,
                                         0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0,
                                         0xf1, 0xf3, 0xf4, 0xf5, 0xf7, 0xf8, 0xfe, 0xff};
    unsigned char s[4];
    unsigned long checked = 0, bad1 = 0, bad2 = 0, bad3 = 0, bad4 = 0, bad_split = 0;
    unsigned a, b, c, d;

    for (a = 0; a < 256; a++) {
        s[0] = (unsigned char)a;
        bad1 += verdict(feed_whole(s, 1)) != ref_check(s, 1);
        checked++;
        for (b = 0; b < 256; b++) {
            s[1] = (unsigned char)b;
            bad2 += verdict(feed_whole(s, 2)) != ref_check(s, 2);
            checked++;
        }
    }
    tap_is_int(bad1, 0, "all 256 one-byte strings agree with the reference");
    tap_is_int(bad2, 0, "all 65536 two-byte strings agree with the reference");
    /* Three bytes: all 16.7 million, the verdict of the state after each byte checked too. */
    for (a = 0; a < 256; a++) {
        uint32_t s1;

        s[0] = (unsigned char)a;
        s1 = kite__utf8_check(KITE__UTF8_ACCEPT, s, 1);
        for (b = 0; b < 256; b++) {
            uint32_t s2;

            s[1] = (unsigned char)b;
            s2 = kite__utf8_check(s1, s + 1, 1);
            for (c = 0; c < 256; c++) {
                int want;

                s[2] = (unsigned char)c;
                want = ref_check(s, 3);
                bad3 += verdict(kite__utf8_check(KITE__UTF8_ACCEPT, s, 3)) != want;
                bad_split += verdict(kite__utf8_check(s2, s + 2, 1)) != want;
                checked++;
            }
        }
    }
    tap_is_int(bad3, 0, "all 16777216 three-byte strings agree with the reference");
    tap_is_int(bad_split, 0, "and fed byte by byte they agree too");
    /* Four bytes over the boundary values. */
    for (a = 0; a < sizeof(edge); a++)
        for (b = 0; b < sizeof(edge); b++)
            for (c = 0; c < sizeof(edge); c++)
                for (d = 0; d < sizeof(edge); d++) {
                    size_t k;
                    int want;

                    s[0] = edge[a], s[1] = edge[b], s[2] = edge[c], s[3] = edge[d];
                    want = ref_check(s, 4);
                    bad4 += verdict(feed_whole(s, 4)) != want;
                    for (k = 1; k < 4; k++)
                        bad4 += verdict(feed(s, 4, &k, 1)) != want;
                    checked++;
                }
    tap_is_int(bad4, 0, "four-byte strings over %zu boundary bytes agree, whole and split",
               sizeof(edge));
    tap_ok(checked > 16000000, "%lu strings compared", checked);
}

int main(void)
{
    test_vectors();
    test_state_rules();
    test_exhaustive();
    return tap_done();
}
