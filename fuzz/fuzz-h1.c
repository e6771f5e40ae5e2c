/*
 * libFuzzer target for the HTTP/1.1 request parser: head_end, parse_head
 * and the chunked decoder. Beyond "does not crash" it checks the
 * promises the rest of kite relies on: head_end gives the same answer
 * whole, split in two and byte by byte; a parsed request only points
 * into its head and its strings are NUL-terminated where the contract
 * says so; errors carry one of the documented statuses; the chunked
 * decoder gives the same body and leftover however its input is split.
 * A broken promise aborts so the fuzzer keeps the input. Each step works
 * on a malloc'd copy of exactly the right size, so that AddressSanitizer
 * sees any read past the end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kite.h"
#include "roles/h1/parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

static char *dup_exact(const uint8_t *data, size_t n)
{
    char *p = malloc(n ? n : 1);

    CHECK(p);
    if (n)
        memcpy(p, data, n);
    else
        p[0] = '\0'; /* never read; keeps gcc's -Wmaybe-uninitialized quiet */
    return p;
}

/* head_end over data presented in two calls, the first one a copy of exactly @at bytes. */
static int head_end_split(const uint8_t *data, size_t size, size_t at, const kite__h1_limits_t *lim)
{
    char *a = dup_exact(data, at), *b;
    size_t scan = 0;
    int n = kite__h1_head_end(a, at, &scan, lim);

    free(a);
    if (n)
        return n;
    b = dup_exact(data, size);
    n = kite__h1_head_end(b, size, &scan, lim);
    free(b);
    return n;
}

/* head_end fed one more byte per call, its state kept in 32 bits as the server does. */
static int head_end_bytewise(const char *buf, size_t size, const kite__h1_limits_t *lim)
{
    size_t k, scan = 0;

    for (k = 1; k <= size; k++) {
        int n;
        uint32_t saved = (uint32_t)scan;

        scan = saved;
        n = kite__h1_head_end(buf, k, &scan, lim);
        if (n)
            return n;
    }
    return 0;
}

static int within(const char *p, size_t len, const char *head, size_t n)
{
    return p >= head && p + len <= head + n;
}

static void check_request(const kite__h1_req_t *r, const char *head, size_t n)
{
    unsigned k;

    CHECK(r->status == 0 && (r->version == 10 || r->version == 11));
    CHECK(r->method && within(r->method, r->method_len + 1, head, n));
    CHECK(strlen(r->method) == r->method_len && r->method_len > 0);
    CHECK(r->target && within(r->target, r->target_len + 1, head, n));
    CHECK(strlen(r->target) == r->target_len && r->target_len > 0);
    CHECK(!r->query ||
          (within(r->query, r->query_len + 1, head, n) && strlen(r->query) == r->query_len));
    CHECK(r->path ? r->path_len > 0 : r->method_id == KITE_HTTP_CONNECT);
    CHECK(!r->host || (r->host_len > 0 && within(r->host, r->host_len, head, n)));
    CHECK(!r->upgrade || within(r->upgrade, strlen(r->upgrade) + 1, head, n));
    CHECK(r->method_id <= KITE_HTTP_CONNECT && r->method_id != KITE_HTTP_OTHER);
    CHECK(r->content_length >= -1 && r->content_length <= ((int64_t)1 << 62));
    CHECK(!(r->flags & KITE_H1_CHUNKED) || r->content_length == -1);
    CHECK(r->version == 10 || r->host);
    for (k = 0; k < r->nhdrs; k++) {
        const kite__h1_hdr_t *h = &r->hdrs[k];

        CHECK(within(h->name, h->name_len + 1u, head, n) && strlen(h->name) == h->name_len);
        CHECK(within(h->value, h->value_len + 1u, head, n) && strlen(h->value) == h->value_len);
    }
}

static void fuzz_head(const uint8_t *data, size_t size, const kite__h1_limits_t *lim,
                      size_t *head_len)
{
    char *buf = dup_exact(data, size), *head;
    size_t scan = 0;
    int n = kite__h1_head_end(buf, size, &scan, lim);
    kite__h1_req_t *r;

    CHECK(n >= 0 || n == -400 || n == -414 || n == -431);
    CHECK(head_end_bytewise(buf, size, lim) == n);
    if (size > 1)
        CHECK(head_end_split(data, size, 1 + data[size / 2] % (size - 1), lim) == n);
    free(buf);
    *head_len = n > 0 ? (size_t)n : 0;
    if (n <= 0)
        return;

    head = dup_exact(data, (size_t)n);
    r = malloc(sizeof(*r));
    CHECK(r);
    if (kite__h1_parse_head(head, (size_t)n, r, lim) == 0) {
        check_request(r, head, (size_t)n);
    } else {
        CHECK(r->status == 400 || r->status == 414 || r->status == 417 || r->status == 431 ||
              r->status == 501 || r->status == 505);
    }
    free(r);
    free(head);
}

typedef struct chunk_run {
    int ret;
    size_t consumed; /* input bytes used in total */
    size_t out_len;
    char *out;
} chunk_run_t;

/* Decode data in pieces of @step bytes (0: all at once), each an exact-size copy. */
static void chunk_decode(const uint8_t *data, size_t size, size_t step, chunk_run_t *res)
{
    kite__h1_chunked_t st;
    size_t off = 0;

    memset(&st, 0, sizeof(st));
    res->ret = 0;
    res->out_len = 0;
    res->out = malloc(size ? size : 1);
    CHECK(res->out);
    while (off < size) {
        size_t n = step && size - off > step ? step : size - off, out, used;
        char *piece = dup_exact(data + off, n);

        res->ret = kite__h1_chunked_decode(&st, piece, n, &out, &used);
        CHECK(used <= n && out <= used);
        CHECK(res->ret != 0 || used == n);
        memcpy(res->out + res->out_len, piece, out);
        res->out_len += out;
        free(piece);
        off += used;
        if (res->ret != 0)
            break;
    }
    res->consumed = off;
}

static void fuzz_chunked(const uint8_t *data, size_t size)
{
    chunk_run_t whole, bytes, split;

    chunk_decode(data, size, 0, &whole);
    chunk_decode(data, size, 1, &bytes);
    chunk_decode(data, size, size > 2 ? size / 2 - 1 : 1, &split);
    CHECK(whole.ret >= -1 && whole.ret <= 1);
    CHECK(whole.ret == bytes.ret && whole.ret == split.ret);
    CHECK(whole.out_len == bytes.out_len && whole.out_len == split.out_len);
    CHECK(!memcmp(whole.out, bytes.out, whole.out_len));
    CHECK(!memcmp(whole.out, split.out, whole.out_len));
    CHECK(whole.consumed == bytes.consumed && whole.consumed == split.consumed);
    free(whole.out);
    free(bytes.out);
    free(split.out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Ordinary limits, and tight ones so that the 414/431 edges are reached often. */
    static const kite__h1_limits_t normal = {8192, 4096, 100}, tight = {200, 48, 6};
    size_t head_len, ignored;

    fuzz_head(data, size, &normal, &head_len);
    fuzz_head(data, size, &tight, &ignored);
    /* The bytes after a head are its body; inputs that are no head are fed as a body. */
    fuzz_chunked(data + head_len, size - head_len);
    return 0;
}
