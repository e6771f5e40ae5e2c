/*
 * Unit tests for lib/misc/path.c: percent-decoding of paths and queries,
 * path normalisation, and the two together against directory traversal
 * in its usual disguises (encoded dots and slashes, mixed-case escapes,
 * NUL bytes, double encoding), plus the case-insensitive compare.
 */
#include <stdio.h>

#include "misc/path.c"
#include "tap.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* An input and its result: the output text, or NULL and an error code. */
struct vector {
    const char *in;
    size_t len; /* 0: strlen(in) */
    const char *out;
    int err;
};

/* clang-format would spread each of these over four lines. */
/* clang-format off */
#define OK(in, out) {in, 0, out, 0}
#define BAD(in, err) {in, 0, NULL, err}
#define OK_LEN(in, len, out) {in, len, out, 0}
#define BAD_LEN(in, len, err) {in, len, NULL, err}
/* clang-format on */

typedef int (*transform_fn)(const char *in, size_t len, char *out);

/* @s (of @len bytes) with non-printable bytes as \xNN, so TAP lines stay whole. */
static const char *show(const char *s, size_t len)
{
    static char buf[4][512];
    static int slot;
    char *out = buf[slot++ % 4], *p = out;
    size_t i;

    for (i = 0; i < len && p < out + sizeof(buf[0]) - 5; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x20 || c >= 0x7f)
            p += sprintf(p, "\\x%02x", c);
        else
            *p++ = (char)c;
    }
    *p = '\0';
    return out;
}

/*
 * Runs @fn on each vector both into a separate buffer and in place. With
 * @exact, nothing past the result may be written; otherwise (a transform
 * that copies its input first) nothing past the input.
 */
static void run(const char *what, transform_fn fn, const struct vector *v, size_t n, int exact)
{
    size_t i;

    for (i = 0; i < n; i++) {
        size_t len = v[i].len ? v[i].len : strlen(v[i].in);
        const char *in = show(v[i].in, len);
        char out[256], inplace[256];
        int rc, rc2;

        memset(out, '#', sizeof(out));
        memcpy(inplace, v[i].in, len);
        memset(inplace + len, '#', sizeof(inplace) - len);
        rc = fn(v[i].in, len, out);
        rc2 = fn(inplace, len, inplace);
        tap_ok(out[exact && rc >= 0 ? (size_t)rc : len] == '#' && inplace[len] == '#',
               "%s writes nothing past its end for \"%s\"", what, in);
        if (!v[i].out) {
            tap_is_int(rc, v[i].err, "%s rejects \"%s\"", what, in);
            tap_is_int(rc2, v[i].err, "%s in place rejects \"%s\"", what, in);
            continue;
        }
        tap_is_int(rc, (int)strlen(v[i].out), "%s length for \"%s\"", what, in);
        tap_ok(rc >= 0 && !memcmp(out, v[i].out, strlen(v[i].out)), "%s(\"%s\") is \"%s\"", what,
               in, show(v[i].out, strlen(v[i].out)));
        if (rc >= 0 && memcmp(out, v[i].out, strlen(v[i].out)))
            printf("#   got \"%s\"\n", show(out, (size_t)rc));
        tap_ok(rc2 == rc && !memcmp(inplace, v[i].out, strlen(v[i].out)), "%s in place for \"%s\"",
               what, in);
    }
}

static void test_decode_path(void)
{
    static const struct vector v[] = {
        OK("/", "/"),
        OK("/index.html", "/index.html"),
        OK("/a%20b", "/a b"),
        OK("/a+b", "/a+b"),
        OK("/%2e%2e/x", "/../x"),
        OK("/%2E%2e/x", "/../x"),
        OK("/%2e%2E%2F%2f", "/..//"),
        OK("/a%2Fb", "/a/b"),
        OK("/%41%62%63", "/Abc"),
        OK("/%c3%A9t%C3%a9", "/\xc3\xa9t\xc3\xa9"),
        OK("/%ff%80", "/\xff\x80"),
        OK("/%25", "/%"),
        OK("/%252e%252e", "/%2e%2e"),
        OK("/%2b", "/+"),
        OK("/~user/a;b=c", "/~user/a;b=c"),
        OK("", ""),
        OK("%20", " "),
        BAD("/%", KITE_EINVAL),
        BAD("/%2", KITE_EINVAL),
        BAD("/%%32e", KITE_EINVAL),
        BAD("/%zz", KITE_EINVAL),
        BAD("/%g0", KITE_EINVAL),
        BAD("/%0g", KITE_EINVAL),
        BAD("/% 1", KITE_EINVAL),
        BAD("/%-1", KITE_EINVAL),
        BAD("/%+1", KITE_EINVAL),
        BAD("/a%00.html", KITE_EINVAL),
        BAD("/a%00", KITE_EINVAL),
        BAD("/%0a", KITE_EINVAL),
        BAD("/%0D%0A", KITE_EINVAL),
        BAD("/%1f", KITE_EINVAL),
        BAD("/%1F", KITE_EINVAL),
        BAD("/%7f", KITE_EINVAL),
        BAD("/%7F", KITE_EINVAL),
        BAD("/a\tb", KITE_EINVAL),
        BAD("/a\nb", KITE_EINVAL),
        BAD("/a\x7f", KITE_EINVAL),
        BAD("/a\x01", KITE_EINVAL),
        BAD_LEN("/a\0b", 4, KITE_EINVAL),
        BAD_LEN("\0", 1, KITE_EINVAL),
        /* Only @len bytes are read: a '%' cut off by len is a bad escape. */
        BAD_LEN("/a%41", 4, KITE_EINVAL),
        OK_LEN("/a%41", 2, "/a"),
    };

    run("decode_path", kite__url_decode_path, v, NELEM(v), 1);
}

static void test_decode_query(void)
{
    static const struct vector v[] = {
        OK("a=b&c=d", "a=b&c=d"),
        OK("q=a+b", "q=a b"),
        OK("q=a%2Bb", "q=a+b"),
        OK("q=a%2bb", "q=a+b"),
        OK("++", "  "),
        OK("%e2%82%AC", "\xe2\x82\xac"),
        OK("%3d%26", "=&"),
        OK("", ""),
        BAD("q=%00", KITE_EINVAL),
        BAD("q=%", KITE_EINVAL),
        BAD("q=%4", KITE_EINVAL),
        BAD("q=%4x", KITE_EINVAL),
        BAD("q=%0A", KITE_EINVAL),
        BAD("q=%7f", KITE_EINVAL),
        BAD("q=\r", KITE_EINVAL),
        BAD_LEN("q=\0", 3, KITE_EINVAL),
    };

    run("decode_query", kite__url_decode_query, v, NELEM(v), 1);
}

/* kite__path_normalise() as a transform from @in to @out, for run(). */
static int normalise(const char *in, size_t len, char *out)
{
    if (out != in)
        memcpy(out, in, len);
    return kite__path_normalise(out, len);
}

static void test_normalise(void)
{
    static const struct vector v[] = {
        OK("/", "/"),
        OK("//", "/"),
        OK("///", "/"),
        OK("/a", "/a"),
        OK("/a/", "/a/"),
        OK("/a/b", "/a/b"),
        OK("/a/b/", "/a/b/"),
        OK("/a/./b", "/a/b"),
        OK("/a//b", "/a/b"),
        OK("//a//b//", "/a/b/"),
        OK("/a/b/../c", "/a/c"),
        OK("/a/b/c/../../d", "/a/d"),
        OK("/a/./../b", "/b"),
        OK("/a/..", "/"),
        OK("/a/../", "/"),
        OK("/a/b/..", "/a/"),
        OK("/a/.", "/a/"),
        OK("/a/./", "/a/"),
        OK("/.", "/"),
        OK("/./", "/"),
        OK("/./a", "/a"),
        OK("/a/b/../../c/./d/", "/c/d/"),
        OK("/a/b/../..", "/"),
        OK("/...", "/..."),
        OK("/..a", "/..a"),
        OK("/a..", "/a.."),
        OK("/.a/b.", "/.a/b."),
        OK("/a/.../b", "/a/.../b"),
        OK("/%2e%2e", "/%2e%2e"),
        OK("/a\\..\\b", "/a\\..\\b"),
        OK("/x/y/z/../../../a", "/a"),
        BAD("/..", KITE_EPERM),
        BAD("/../", KITE_EPERM),
        BAD("/../a", KITE_EPERM),
        BAD("//..", KITE_EPERM),
        BAD("/./..", KITE_EPERM),
        BAD("/a/../..", KITE_EPERM),
        BAD("/a/../../b", KITE_EPERM),
        BAD("/a/b/../../../etc/passwd", KITE_EPERM),
        BAD("/a/./../../", KITE_EPERM),
        BAD("", KITE_EINVAL),
        BAD("a", KITE_EINVAL),
        BAD("a/b", KITE_EINVAL),
        BAD("./a", KITE_EINVAL),
        BAD("../a", KITE_EINVAL),
        BAD(".", KITE_EINVAL),
        BAD("\\a", KITE_EINVAL),
        /* Only @len bytes: "/a/.." cut to "/a/." is a directory, not the root. */
        OK_LEN("/a/..", 4, "/a/"),
        OK_LEN("/..", 2, "/"),
    };

    run("normalise", normalise, v, NELEM(v), 0);
}

/* The path pipeline a request goes through: decode, then normalise. */
static int decode_normalise(const char *in, size_t len, char *out)
{
    int n = kite__url_decode_path(in, len, out);

    return n < 0 ? n : kite__path_normalise(out, (size_t)n);
}

static void test_traversal(void)
{
    static const struct vector v[] = {
        BAD("/%2e%2e/etc/passwd", KITE_EPERM),
        BAD("/%2E%2E/etc/passwd", KITE_EPERM),
        BAD("/%2e%2E/etc/passwd", KITE_EPERM),
        BAD("/.%2e/etc/passwd", KITE_EPERM),
        BAD("/%2e./etc/passwd", KITE_EPERM),
        BAD("/a/%2e%2e/%2e%2e/etc", KITE_EPERM),
        BAD("/a%2F..%2F..%2Fetc", KITE_EPERM),
        BAD("/a%2f%2e%2e%2f%2e%2e%2fetc", KITE_EPERM),
        BAD("/..%2fetc", KITE_EPERM),
        BAD("/..%2Fetc", KITE_EPERM),
        BAD("/%2F..", KITE_EPERM),
        BAD("%2F..%2F", KITE_EPERM),
        BAD("/files/..%2F..%2F..%2Fetc%2Fpasswd", KITE_EPERM),
        BAD("/a/b%2F..%2F..%2F..", KITE_EPERM),
        BAD("/index.html%00.png", KITE_EINVAL),
        BAD("/..%00/etc", KITE_EINVAL),
        BAD("/%2e%2e%00", KITE_EINVAL),
        BAD("a%2F..", KITE_EINVAL),
        BAD("%2e%2e/", KITE_EINVAL),
        OK("/a/%2e%2e%2fb", "/b"),
        OK("/a/b/%2E%2E/c", "/a/c"),
        OK("/%2e/x", "/x"),
        OK("/a/%2e", "/a/"),
        OK("/a/%2e%2e", "/"),
        OK("/%252e%252e/etc", "/%2e%2e/etc"),
        OK("/.%252e/etc", "/.%2e/etc"),
        OK("/a%2F%2Fb", "/a/b"),
        /* Neither an overlong UTF-8 '/' nor a backslash separates segments on POSIX. */
        OK("/..%c0%af", "/..\xc0\xaf"),
        OK("/a/..%c0%afb", "/a/..\xc0\xaf\x62"),
        OK("/a%5c..%5c..", "/a\\..\\.."),
    };

    run("decode+normalise", decode_normalise, v, NELEM(v), 0);
}

static void test_strncasecmp(void)
{
    static const struct {
        const char *a, *b;
        size_t len;
        int sign;
    } v[] = {
        {"abc", "ABC", 3, 0},
        {"Content-Length", "content-length", 14, 0},
        {"HOST", "host", 4, 0},
        {"abc", "abd", 3, -1},
        {"abd", "ABC", 3, 1},
        {"abc", "abd", 2, 0},
        {"a", "b", 0, 0},
        {"[", "{", 1, -1},
        {"@", "`", 1, -1},
        {"Z", "z", 1, 0},
        {"\xc3\xa9", "\xc3\x89", 2, 1},
        {"a\0x", "A\0y", 3, -1},
        {"a\0x", "A\0X", 3, 0},
        {"\x80", "a", 1, 1},
    };
    size_t i;

    for (i = 0; i < NELEM(v); i++) {
        int rc = kite__strncasecmp(v[i].a, v[i].b, v[i].len);
        int sign = (rc > 0) - (rc < 0);

        tap_is_int(sign, v[i].sign, "strncasecmp(\"%s\", \"%s\", %zu)", show(v[i].a, v[i].len),
                   show(v[i].b, v[i].len), v[i].len);
    }
}

int main(void)
{
    test_decode_path();
    test_decode_query();
    test_normalise();
    test_traversal();
    test_strncasecmp();
    return tap_done();
}
