/*
 * URL path handling for request targets: percent-decoding of paths and
 * query components, normalisation of a decoded path (".", ".." and "//"),
 * and the ASCII case-insensitive compare used across the library. This is
 * the first line of defence against directory traversal: decoding refuses
 * NUL and control bytes outright, and normalisation refuses any ".." that
 * would climb above the root instead of clamping it.
 */
#include <limits.h>
#include <string.h>

#include "misc/misc.h"

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* NUL, the C0 controls and DEL, whether they came raw or percent-encoded. */
static int is_forbidden(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

/*
 * The decoder shared by paths and queries. Writing never overtakes
 * reading (an escape of three bytes yields one), which is what lets
 * @out equal @in.
 */
static int url_decode(const char *in, size_t len, char *out, int plus_is_space)
{
    size_t i, o = 0;

    if (len > INT_MAX)
        return KITE_EINVAL;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];

        if (c == '%') {
            int hi, lo;

            if (len - i < 3)
                return KITE_EINVAL;
            hi = hex_value(in[i + 1]);
            lo = hex_value(in[i + 2]);
            if (hi < 0 || lo < 0)
                return KITE_EINVAL;
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        if (is_forbidden(c))
            return KITE_EINVAL;
        out[o++] = (char)c;
    }
    return (int)o;
}

int kite__url_decode_path(const char *in, size_t len, char *out)
{
    return url_decode(in, len, out, 0);
}

int kite__url_decode_query(const char *in, size_t len, char *out)
{
    return url_decode(in, len, out, 1);
}

/*
 * Segments are copied down as "/name"; a ".." drops the last one copied.
 * The output never grows past the input, so this works in place. The
 * result ends in '/' when the input did, or when its last segment was
 * "." or "..", since both of those name a directory.
 */
int kite__path_normalise(char *path, size_t len)
{
    size_t r = 0, w = 0;
    int trailing = 0;

    if (len == 0 || len > INT_MAX || path[0] != '/')
        return KITE_EINVAL;

    while (r < len) {
        size_t start, seg;

        while (r < len && path[r] == '/')
            r++;
        if (r == len) {
            trailing = 1;
            break;
        }
        start = r;
        while (r < len && path[r] != '/')
            r++;
        seg = r - start;
        trailing = 0;

        if (seg == 1 && path[start] == '.') {
            trailing = 1;
        } else if (seg == 2 && path[start] == '.' && path[start + 1] == '.') {
            if (w == 0)
                return KITE_EPERM;
            while (path[--w] != '/')
                ;
            trailing = 1;
        } else {
            path[w++] = '/';
            while (start < r)
                path[w++] = path[start++];
        }
    }

    if (w == 0 || trailing)
        path[w++] = '/';
    return (int)w;
}

int kite__strncasecmp(const char *a, const char *b, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char ca = (unsigned char)a[i], cb = (unsigned char)b[i];

        if (ca >= 'A' && ca <= 'Z')
            ca += 'a' - 'A';
        if (cb >= 'A' && cb <= 'Z')
            cb += 'a' - 'A';
        if (ca != cb)
            return ca - cb;
    }
    return 0;
}

long kite__head_end(const char *h, size_t len, size_t *hl)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (h[i] != '\n')
            continue;
        if (i + 1 < len && h[i + 1] == '\n') {
            *hl = i + 2;
            return (long)i + 1;
        }
        if (i + 2 < len && h[i + 1] == '\r' && h[i + 2] == '\n') {
            *hl = i + 3;
            return (long)i + 1;
        }
    }
    return -1;
}

int kite__path_within(const char *real, const char *root, size_t root_len)
{
    if (!root)
        return 1;
    if (!real)
        return 0;
    if (root_len == 1 && root[0] == '/')
        return 1;
    return !strncmp(real, root, root_len) && (real[root_len] == '/' || !real[root_len]);
}
