/*
 * The HTTP/1.1 request head parser (RFC 9112, RFC 9110). head_end() finds
 * where a head ends as bytes arrive and rejects NUL, bare CR and oversized
 * heads early; parse_head() then checks and splits the complete head in
 * one pass, in place, into the views of kite__h1_req_t. The rules are
 * strict on purpose, as in a hardened front server: anything that two
 * implementations could read differently (obs-fold, whitespace before
 * ':', Content-Length with Transfer-Encoding, odd transfer codings) is
 * refused rather than guessed, because this server may sit behind a proxy
 * and request smuggling lives in exactly those gaps.
 */
#include <limits.h>
#include <string.h>

#include "kite.h"
#include "roles/h1/parser.h"

/* RFC 9112 2.2 asks servers to skip at least one empty line before the request line. */
#define MAX_LEADING_EMPTY 8

/*
 * Bit 31 of *scan says the request line has ended; the bits below hold the
 * offset, which max_head (clamped to INT_MAX) keeps under 2^31. Bit 31
 * rather than the top bit so that callers may keep *scan in 32 bits.
 */
#define SCAN_RL_DONE ((size_t)1 << 31)

/*
 * Character classes, one byte each so a lookup is a single load. A table
 * beats a chain of comparisons here and keeps the rules in one readable
 * place.
 */
enum {
    C_TCHAR = 1,  /* token character (RFC 9110 5.6.2) */
    C_TARGET = 2, /* allowed in a request-target: VCHAR except '#' */
    C_VALUE = 4,  /* allowed inside a field value: VCHAR, obs-text, SP, HTAB */
    C_HOST = 8,   /* allowed in Host and in a URI authority */
};

#define T  (C_TCHAR | C_TARGET | C_VALUE)
#define TH (C_TCHAR | C_TARGET | C_VALUE | C_HOST)
#define V  (C_TARGET | C_VALUE)
#define VH (C_TARGET | C_VALUE | C_HOST)

/* clang-format off */
static const unsigned char cls[256] = {
    /* 0x00 - 0x1f: controls; only HTAB may appear in a value */
    0, 0, 0, 0, 0, 0, 0, 0, 0, C_VALUE, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* SP ! " # $ % & ' ( ) * + , - . / */
    C_VALUE, TH, V, C_TCHAR | C_VALUE, TH, TH, TH, TH, VH, VH, TH, TH, VH, TH, TH, V,
    /* 0-9 : ; < = > ? */
    TH, TH, TH, TH, TH, TH, TH, TH, TH, TH, VH, VH, V, VH, V, V,
    /* @ A-O */
    V, TH, TH, TH, TH, TH, TH, TH, TH, TH, TH, TH, TH, TH, TH, TH,
    /* P-Z [ \ ] ^ _ */
    TH, TH, TH, TH, TH, TH, TH, TH, TH, TH, TH, VH, V, VH, T, TH,
    /* ` a-o */
    T, TH, TH, TH, TH, TH, TH, TH, TH, TH, TH, TH, TH, TH, TH, TH,
    /* p-z { | } ~ DEL */
    TH, TH, TH, TH, TH, TH, TH, TH, TH, TH, TH, V, T, V, TH, 0,
    /* 0x80 - 0xff: obs-text, allowed in values only */
    C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE,
    C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE,
    C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE,
    C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE,
    C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE,
    C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE,
    C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE,
    C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE,
    C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE,
    C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE,
    C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE,
    C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE,
    C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE,
    C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE,
    C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE,
    C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE, C_VALUE,
};
/* clang-format on */

#undef T
#undef TH
#undef V
#undef VH

#define IS(c, k) (cls[(unsigned char)(c)] & (k))

/*
 * First index in [i, end) whose byte is <= '\r', or end. Eight bytes at a
 * time: the "has a byte less than n" trick (exact for n <= 128) lets the
 * common printable run go by without a branch per byte.
 */
static inline size_t skip_plain(const unsigned char *p, size_t i, size_t end)
{
    while (end - i >= 8) {
        uint64_t x;
        memcpy(&x, p + i, 8);
        if (((x - 0x0e0e0e0e0e0e0e0eULL) & ~x & 0x8080808080808080ULL) != 0)
            break;
        i += 8;
    }
    while (i < end && p[i] > '\r')
        i++;
    return i;
}

/*
 * The only state kept between calls is the offset and one flag in *scan,
 * so everything else is derived from the bytes already seen: the start of
 * the request line (after at most MAX_LEADING_EMPTY empty lines, so a
 * short walk), the number of leading empty lines, and whether a line is
 * empty (two bytes of look-back). Every decision depends only on the
 * prefix up to the byte being looked at, which is why the answer is the
 * same however the input was split.
 */
int kite__h1_head_end(const char *buf, size_t len, size_t *scan, const kite__h1_limits_t *lim)
{
    const unsigned char *p = (const unsigned char *)buf;
    size_t i = *scan & ~SCAN_RL_DONE;
    int rl_done = (*scan & SCAN_RL_DONE) != 0;
    int rl_started;
    size_t rs = 0, end, max_uri = lim->max_uri;
    size_t max_head = lim->max_head < INT_MAX ? lim->max_head : INT_MAX;
    unsigned leading = 0;

    if (i > len) {
        /* Not the same bytes as before: start over rather than trust the offset. */
        i = 0;
        rl_done = 0;
    }
    rl_started = rl_done;
    if (!rl_done) {
        for (rs = 0; rs < i && (p[rs] == '\r' || p[rs] == '\n'); rs++)
            leading += p[rs] == '\n';
        rl_started = rs < i;
    }
    /* A CR that ended the previous call must be followed by LF. */
    if (i > 0 && i < len && p[i - 1] == '\r' && p[i] != '\n')
        return -400;

    end = len < max_head ? len : max_head;
    while (i < end) {
        unsigned c = p[i];

        if (c == '\n') {
            if (!rl_started) {
                if (++leading > MAX_LEADING_EMPTY)
                    return -400;
            } else if (!rl_done) {
                rl_done = 1;
            } else if (p[i - 1] == '\n' || (p[i - 1] == '\r' && p[i - 2] == '\n')) {
                /* The request line holds at least one byte, so i >= 2 here. */
                *scan = (i + 1) | SCAN_RL_DONE;
                return (int)(i + 1);
            }
            i++;
            continue;
        }
        if (c == '\r') {
            if (i + 1 < len && p[i + 1] != '\n')
                return -400;
            i++;
            continue;
        }
        if (c == 0)
            return -400;
        /* Any other byte is content; parse_head() judges the controls among them. */
        if (rl_done) {
            i = skip_plain(p, i + 1, end);
            continue;
        }
        if (!rl_started) {
            rl_started = 1;
            rs = i;
        }
        if (i - rs >= max_uri)
            return -414;
        i = skip_plain(p, i + 1, max_uri < end - rs ? rs + max_uri : end);
    }
    if (len > end) {
        /* The byte at max_head exists and the head has not ended. */
        return rl_started && !rl_done ? -414 : -431;
    }
    *scan = i | (rl_done ? SCAN_RL_DONE : 0);
    return 0;
}

/*
 * ASCII case-insensitive match against a lowercase word. Or-ing 0x20 folds
 * only letters as long as @s holds no control characters (0x10-0x1f would
 * pass for digits, CR for '-'), which the field syntax already excludes.
 */
static inline int token_is(const char *s, size_t len, const char *lower, size_t llen)
{
    size_t k;

    if (len != llen)
        return 0;
    for (k = 0; k < len; k++)
        if (((unsigned char)s[k] | 0x20) != (unsigned char)lower[k])
            return 0;
    return 1;
}

static inline int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static uint8_t method_id(const char *m, size_t len)
{
    switch (len) {
    case 3:
        if (!memcmp(m, "GET", 3))
            return KITE_HTTP_GET;
        if (!memcmp(m, "PUT", 3))
            return KITE_HTTP_PUT;
        break;
    case 4:
        if (!memcmp(m, "POST", 4))
            return KITE_HTTP_POST;
        if (!memcmp(m, "HEAD", 4))
            return KITE_HTTP_HEAD;
        break;
    case 5:
        if (!memcmp(m, "PATCH", 5))
            return KITE_HTTP_PATCH;
        if (!memcmp(m, "TRACE", 5))
            return KITE_HTTP_TRACE;
        if (!memcmp(m, "MKCOL", 5))
            return KITE_HTTP_MKCOL;
        break;
    case 6:
        if (!memcmp(m, "DELETE", 6))
            return KITE_HTTP_DELETE;
        break;
    case 7:
        if (!memcmp(m, "OPTIONS", 7))
            return KITE_HTTP_OPTIONS;
        if (!memcmp(m, "CONNECT", 7))
            return KITE_HTTP_CONNECT;
        break;
    }
    return KITE_HTTP_OTHER;
}

static int all_host_chars(const char *s, size_t len)
{
    size_t k;

    for (k = 0; k < len; k++)
        if (!IS(s[k], C_HOST))
            return 0;
    return 1;
}

/*
 * Split the request-target into path and query by its form (RFC 9112
 * 3.2). Returns 0 or 400. For absolute-form the authority is remembered
 * in *auth; it wins over the Host header once headers are read.
 */
static int parse_target(kite__h1_req_t *r, char *t, size_t len, const char **auth, size_t *auth_len)
{
    char *q;

    if (t[0] == '/') {
        if (r->method_id == KITE_HTTP_CONNECT)
            return 400;
    } else if (len == 1 && t[0] == '*') {
        /* asterisk-form is for a server-wide OPTIONS only (RFC 9112 3.2.4). */
        if (r->method_id != KITE_HTTP_OPTIONS)
            return 400;
        r->path = t;
        r->path_len = 1;
        return 0;
    } else if (r->method_id == KITE_HTTP_CONNECT) {
        /* authority-form = uri-host ":" port; the server refuses CONNECT later. */
        size_t colon = len;

        while (colon > 0 && t[colon - 1] >= '0' && t[colon - 1] <= '9')
            colon--;
        if (colon == len || colon < 2 || t[colon - 1] != ':' || !all_host_chars(t, colon - 1))
            return 400;
        return 0;
    } else {
        size_t skip, a = 0;

        if (len >= 7 && token_is(t, 4, "http", 4) && !memcmp(t + 4, "://", 3))
            skip = 7;
        else if (len >= 8 && token_is(t, 5, "https", 5) && !memcmp(t + 5, "://", 3))
            skip = 8;
        else
            return 400;
        while (skip + a < len && t[skip + a] != '/' && t[skip + a] != '?')
            a++;
        if (a == 0 || !all_host_chars(t + skip, a))
            return 400;
        *auth = t + skip;
        *auth_len = a;
        t += skip + a;
        len -= skip + a;
        if (len == 0 || t[0] == '?') {
            /* "http://h" and "http://h?q" mean the path "/" (RFC 9110 4.2.3). */
            r->path = "/";
            r->path_len = 1;
            if (len != 0) {
                r->query = t + 1;
                r->query_len = (uint32_t)(len - 1);
            }
            return 0;
        }
    }
    r->path = t;
    q = memchr(t, '?', len);
    if (q) {
        r->path_len = (uint32_t)(q - t);
        r->query = q + 1;
        r->query_len = (uint32_t)(len - (size_t)(q - t) - 1);
    } else {
        r->path_len = (uint32_t)len;
    }
    return 0;
}

/*
 * What the framing headers said, gathered across all fields and judged
 * once the head is complete so that the outcome does not depend on their
 * order.
 */
typedef struct head_state {
    const char *auth;
    size_t auth_len;
    unsigned nhost;
    int te_seen, te_chunked_last, te_other, te_bad;
    int expect_bad;
} head_state_t;

static int content_length(kite__h1_req_t *r, const char *v, size_t len)
{
    int64_t n = 0;
    size_t k;

    if (len == 0)
        return 400;
    for (k = 0; k < len; k++) {
        int d = v[k] - '0';

        if (d < 0 || d > 9 || n > (((int64_t)1 << 62) - d) / 10)
            return 400;
        n = n * 10 + d;
    }
    /* Repeats are allowed only when they agree (RFC 9112 6.3 item 5). */
    if (r->content_length >= 0 && r->content_length != n)
        return 400;
    r->content_length = n;
    return 0;
}

/*
 * Transfer-Encoding is a list of codings; "chunked" must come last and
 * only once (RFC 9112 6.1, 6.3). A request is refused with 400 when it
 * is not, and with 501 when chunked is preceded by a coding we cannot
 * decode. Empty elements and parameters are refused: no client needs
 * them on this header and proxies disagree on what they mean.
 */
static int transfer_encoding(head_state_t *hs, const char *v, size_t len)
{
    size_t k = 0;

    hs->te_seen = 1;
    for (;;) {
        size_t s;

        while (k < len && is_ows(v[k]))
            k++;
        s = k;
        while (k < len && IS(v[k], C_TCHAR))
            k++;
        if (k == s)
            return 400;
        if (hs->te_chunked_last)
            hs->te_bad = 1; /* anything after chunked, including chunked again */
        hs->te_chunked_last = token_is(v + s, k - s, "chunked", 7);
        if (!hs->te_chunked_last)
            hs->te_other = 1;
        while (k < len && is_ows(v[k]))
            k++;
        if (k == len)
            return 0;
        if (v[k++] != ',')
            return 400;
    }
}

static void connection(kite__h1_req_t *r, const char *v, size_t len)
{
    size_t k = 0;

    while (k < len) {
        size_t s, e;

        while (k < len && (is_ows(v[k]) || v[k] == ','))
            k++;
        s = k;
        while (k < len && v[k] != ',')
            k++;
        e = k;
        while (e > s && is_ows(v[e - 1]))
            e--;
        if (token_is(v + s, e - s, "close", 5))
            r->flags |= KITE_H1_CONN_CLOSE;
        else if (token_is(v + s, e - s, "keep-alive", 10))
            r->flags |= KITE_H1_CONN_KEEPALIVE;
        else if (token_is(v + s, e - s, "upgrade", 7))
            r->flags |= KITE_H1_CONN_UPGRADE;
    }
}

/* Act on the fields that change how the request is framed or answered. */
static int known_header(kite__h1_req_t *r, head_state_t *hs, const char *n, size_t nl,
                        const char *v, size_t vl)
{
    switch (nl) {
    case 4:
        if (token_is(n, nl, "host", 4)) {
            /*
             * RFC 9110 7.2 allows an empty Host only for URIs without an authority,
             * which http URIs never are; refusing it keeps vhost lookup simple.
             */
            if (++hs->nhost > 1 || vl == 0 || !all_host_chars(v, vl))
                return 400;
            r->host = v;
            r->host_len = (uint32_t)vl;
        }
        break;
    case 6:
        if (token_is(n, nl, "expect", 6)) {
            /* 100-continue is the only expectation defined (RFC 9110 10.1.1). */
            if (token_is(v, vl, "100-continue", 12))
                r->flags |= KITE_H1_EXPECT_CONTINUE;
            else
                hs->expect_bad = 1;
        }
        break;
    case 7:
        if (token_is(n, nl, "upgrade", 7) && !r->upgrade)
            r->upgrade = v;
        break;
    case 10:
        if (token_is(n, nl, "connection", 10))
            connection(r, v, vl);
        break;
    case 14:
        if (token_is(n, nl, "content-length", 14))
            return content_length(r, v, vl);
        break;
    case 17:
        if (token_is(n, nl, "transfer-encoding", 17))
            return transfer_encoding(hs, v, vl);
        break;
    }
    return 0;
}

/*
 * Read the header fields from p up to and including the empty line.
 * Returns 0 or the status to answer with.
 */
static int parse_fields(kite__h1_req_t *r, head_state_t *hs, char *p, char *end,
                        const kite__h1_limits_t *lim)
{
    unsigned max = lim->max_headers < KITE_H1_MAX_HEADERS ? lim->max_headers : KITE_H1_MAX_HEADERS;

    for (;;) {
        char *name = p, *v, *ve;
        size_t nl, vl;

        if (p < end && *p == '\n')
            return 0;
        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
            return 0;
        while (p < end && IS(*p, C_TCHAR))
            p++;
        /* Catches an empty name, whitespace before ':' and a folded line (RFC 9112 5.1, 5.2). */
        if (p == name || p == end || *p != ':')
            return 400;
        nl = (size_t)(p - name);
        *p++ = '\0';
        while (p < end && is_ows(*p))
            p++;
        v = p;
        while (p < end && IS(*p, C_VALUE))
            p++;
        if (p == end)
            return 400;
        ve = p;
        if (*p == '\r' && end - p >= 2 && p[1] == '\n')
            p += 2;
        else if (*p == '\n')
            p += 1;
        else
            return 400;
        while (ve > v && is_ows(ve[-1]))
            ve--;
        *ve = '\0';
        vl = (size_t)(ve - v);
        if (r->nhdrs >= max || nl > UINT16_MAX || vl > UINT16_MAX)
            return 431;
        r->hdrs[r->nhdrs].name = name;
        r->hdrs[r->nhdrs].name_len = (uint16_t)nl;
        r->hdrs[r->nhdrs].value = v;
        r->hdrs[r->nhdrs].value_len = (uint16_t)vl;
        r->nhdrs++;
        if (nl >= 4 && nl <= 17) {
            int st = known_header(r, hs, name, nl, v, vl);
            if (st)
                return st;
        }
    }
}

/*
 * The order of the checks decides which status a request with several
 * faults gets: request-line syntax, then the version (the rest of the
 * head may follow other rules), then field syntax, then framing, Host,
 * the method and last Expect, so that a 501 or 417 is only sent for a
 * request that is otherwise well formed.
 */
static int parse(char *head, size_t len, kite__h1_req_t *r, const kite__h1_limits_t *lim)
{
    char *p = head, *end = head + len, *le, *line_end, *t;
    head_state_t hs;
    unsigned leading = 0;
    size_t tlen;
    int st;

    memset(&hs, 0, sizeof(hs));
    while (p < end && (*p == '\n' || (*p == '\r' && end - p >= 2 && p[1] == '\n'))) {
        p += *p == '\r' ? 2 : 1;
        if (++leading > MAX_LEADING_EMPTY)
            return 400;
    }
    le = memchr(p, '\n', (size_t)(end - p));
    if (!le || le == p)
        return 400;
    line_end = le[-1] == '\r' ? le - 1 : le;
    if ((size_t)(line_end - p) > lim->max_uri)
        return 414;

    /* method SP */
    r->method = p;
    while (p < line_end && IS(*p, C_TCHAR))
        p++;
    if (p == r->method || p == line_end || *p != ' ')
        return 400;
    r->method_len = (uint32_t)(p - r->method);
    r->method_id = method_id(r->method, r->method_len);
    *p++ = '\0';

    /* request-target SP */
    t = p;
    while (p < line_end && IS(*p, C_TARGET))
        p++;
    if (p == t || p == line_end || *p != ' ')
        return 400;
    tlen = (size_t)(p - t);
    *p++ = '\0';
    r->target = t;
    r->target_len = (uint32_t)tlen;

    /* HTTP-version: "HTTP/" DIGIT "." DIGIT and nothing more (RFC 9112 2.3). */
    if (line_end - p != 8 || memcmp(p, "HTTP/", 5) || p[5] < '0' || p[5] > '9' || p[6] != '.' ||
        p[7] < '0' || p[7] > '9')
        return 400;
    if ((st = parse_target(r, t, tlen, &hs.auth, &hs.auth_len)) != 0)
        return st;
    if (p[5] != '1' || (p[7] != '0' && p[7] != '1'))
        return 505;
    r->version = p[7] == '1' ? 11 : 10;

    if ((st = parse_fields(r, &hs, le + 1, end, lim)) != 0)
        return st;

    if (hs.te_seen) {
        if (r->content_length >= 0 || r->version == 10 || hs.te_bad || !hs.te_chunked_last)
            return 400;
        if (hs.te_other)
            return 501;
        r->flags |= KITE_H1_CHUNKED;
    }
    if (r->version == 11 && hs.nhost == 0)
        return 400;
    if (hs.auth) {
        /* RFC 9112 3.2.2: the authority of an absolute-form target wins over Host. */
        r->host = hs.auth;
        r->host_len = (uint32_t)hs.auth_len;
    }
    if (r->method_id == KITE_HTTP_OTHER)
        return 501;
    if (hs.expect_bad)
        return 417;
    return 0;
}

int kite__h1_parse_head(char *head, size_t len, kite__h1_req_t *r, const kite__h1_limits_t *lim)
{
    int st;

    r->method = r->target = r->path = r->query = r->host = r->upgrade = NULL;
    r->content_length = -1;
    r->method_len = r->target_len = r->path_len = r->query_len = r->host_len = 0;
    r->nhdrs = 0;
    r->method_id = KITE_HTTP_OTHER;
    r->version = 0;
    r->flags = 0;
    r->status = 0;
    st = parse(head, len, r, lim);
    if (st) {
        r->status = (uint16_t)st;
        return -1;
    }
    return 0;
}
