/*
 * The HTTP/1.1 request head parser (RFC 9112). It works in two steps so
 * that it is cheap on the fast path and gives the same answer however the
 * bytes were split: kite__h1_head_end() finds the end of the head
 * incrementally as bytes arrive, then kite__h1_parse_head() parses the
 * complete head in one pass, in place. The chunked body decoder is an
 * incremental state machine that decodes in place.
 */
#ifndef KITE_H1_PARSER_H
#define KITE_H1_PARSER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define KITE_H1_MAX_HEADERS 128

typedef struct kite__h1_hdr {
    const char *name;  /* NUL-terminated in the head buffer */
    const char *value; /* NUL-terminated, leading/trailing OWS trimmed */
    uint16_t name_len;
    uint16_t value_len;
} kite__h1_hdr_t;

typedef struct kite__h1_limits {
    unsigned max_head;    /* head bytes; past it: 431 (or 414 if the request line is longer) */
    unsigned max_uri;     /* request-line bytes; past it: 414 */
    unsigned max_headers; /* header fields; past it: 431; at most KITE_H1_MAX_HEADERS */
} kite__h1_limits_t;

enum {
    KITE_H1_CONN_CLOSE = 1,     /* Connection: close seen */
    KITE_H1_CONN_KEEPALIVE = 2, /* Connection: keep-alive seen */
    KITE_H1_CONN_UPGRADE = 4,   /* Connection: upgrade seen */
    KITE_H1_CHUNKED = 8,        /* Transfer-Encoding: chunked */
    KITE_H1_EXPECT_CONTINUE = 16,
};

typedef struct kite__h1_req {
    const char *method;     /* NUL-terminated */
    const char *target;     /* raw request-target, NUL-terminated */
    const char *path;       /* origin-form path part of target (before '?'), not decoded */
    const char *query;      /* after '?', NUL-terminated, or NULL */
    const char *host;       /* Host header value, or NULL */
    const char *upgrade;    /* Upgrade header value, or NULL */
    int64_t content_length; /* -1: none */
    uint32_t method_len, target_len, path_len, query_len, host_len;
    uint16_t nhdrs;
    uint8_t method_id; /* enum kite_http_method */
    uint8_t version;   /* 10 or 11 */
    uint16_t flags;    /* KITE_H1_* */
    uint16_t status;   /* HTTP status to answer with when parsing failed */
    kite__h1_hdr_t hdrs[KITE_H1_MAX_HEADERS];
} kite__h1_req_t;

/*
 * Look for the end of a request head in buf[0..len). *scan holds the
 * progress between calls (start it at 0; keep it while the same bytes
 * are presented again with more appended). Leading empty lines before a
 * request line are allowed (RFC 9112 2.2) and count in the head.
 * Returns the head length including the final empty line, 0 when more
 * bytes are needed, or a negative value when the head is already known
 * to be bad: -414 when the request line passes max_uri, -431 when the
 * head passes max_head, -400 for a bare CR or NUL.
 */
int kite__h1_head_end(const char *buf, size_t len, size_t *scan, const kite__h1_limits_t *lim);

/*
 * Parse a complete head (as found by kite__h1_head_end) in place: CR, LF,
 * ':' and separators are overwritten with NULs. Returns 0, or -1 with
 * r->status set to the status to answer: 400 (syntax, Host rules,
 * Content-Length/Transfer-Encoding conflicts, obs-fold, whitespace before
 * ':'), 414, 431 (too many headers), 417 (Expect other than
 * 100-continue), 501 (unknown method or transfer coding), 505 (HTTP
 * version other than 1.0/1.1).
 */
int kite__h1_parse_head(char *head, size_t len, kite__h1_req_t *r, const kite__h1_limits_t *lim);

typedef struct kite__h1_chunked {
    uint64_t remaining; /* bytes left in the current chunk */
    uint32_t count;     /* bytes seen in the current size/ext/trailer line(s) */
    uint8_t state;
} kite__h1_chunked_t;

/*
 * Decode a chunked body in place. On return buf[0..*out_len) holds the
 * body bytes decoded from this call and *consumed says how many input
 * bytes were used. Returns 1 when the last chunk and the trailers are
 * complete (bytes after *consumed belong to the next request), 0 when
 * more input is needed, or -1 on bad syntax (size overflow, missing CRLF,
 * extension or trailer past 8 KiB).
 */
int kite__h1_chunked_decode(kite__h1_chunked_t *st, char *buf, size_t len, size_t *out_len,
                            size_t *consumed);

#endif
