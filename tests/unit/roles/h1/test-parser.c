/*
 * Unit test for the request head parser (lib/roles/h1/parser.c, included
 * here so static helpers and tables can be checked too). Every vector of
 * tests/data/h1/requests.txt is run three ways: whole, split in two at
 * every byte, and fed one byte at a time, always with the bytes placed
 * flush against a PROT_NONE page so any read past the end faults. The
 * three runs must agree with the vector's expectation, which is how the
 * "same answer however the bytes were split" promise is kept honest.
 * Usage: test-parser <requests.txt>.
 */
#include <stdarg.h>
#include <stdint.h>
#include <time.h>

#include "roles/h1/parser.c"

#include "tap.h"
#include "vectors.h"

static const char *const method_names[] = {"OTHER",   "GET",   "HEAD",  "POST",    "PUT",  "DELETE",
                                           "OPTIONS", "PATCH", "TRACE", "CONNECT", "MKCOL"};

static guard_t guard;
static char failbuf[512];

static const char *failf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(failbuf, sizeof(failbuf), fmt, ap);
    va_end(ap);
    return failbuf;
}

static kite__h1_limits_t vec_limits(const vec_t *v)
{
    kite__h1_limits_t lim = {8192, 4096, 100};
    const char *s = vec_meta(v, "limits");
    char *keys[8], *vals[8];
    int n, k;

    if (!s)
        return lim;
    n = kv_split(s, keys, vals, 8);
    for (k = 0; k < n; k++) {
        unsigned x = (unsigned)strtoul(vals[k], NULL, 10);

        if (!strcmp(keys[k], "max_head"))
            lim.max_head = x;
        else if (!strcmp(keys[k], "max_uri"))
            lim.max_uri = x;
        else if (!strcmp(keys[k], "max_headers"))
            lim.max_headers = x;
        else
            exit(99);
        free(keys[k]);
        free(vals[k]);
    }
    return lim;
}

/* Compare a view (possibly NULL) with an expected string, "(null)" meaning NULL. */
static int view_is(const char *p, size_t len, const char *want)
{
    if (!strcmp(want, "(null)"))
        return p == NULL;
    return p && strlen(want) == len && !memcmp(p, want, len);
}

/* Checks that hold for every successfully parsed head. */
static const char *invariants(const kite__h1_req_t *r, const char *head, size_t n)
{
    unsigned k;

#define INSIDE(p) ((p) >= head && (p) < head + n)
    if (!r->method || !INSIDE(r->method) || strlen(r->method) != r->method_len)
        return "method is not a NUL-terminated view of the head";
    if (!r->target || !INSIDE(r->target) || strlen(r->target) != r->target_len)
        return "target is not a NUL-terminated view of the head";
    if (r->query && (!INSIDE(r->query) || strlen(r->query) != r->query_len))
        return "query is not a NUL-terminated view of the head";
    if (r->path && r->path_len == 0)
        return "empty path";
    if (r->host && !r->host_len)
        return "empty host";
    if (r->version != 10 && r->version != 11)
        return "bad version";
    for (k = 0; k < r->nhdrs; k++) {
        const kite__h1_hdr_t *h = &r->hdrs[k];

        if (!INSIDE(h->name) || strlen(h->name) != h->name_len || h->name_len == 0)
            return failf("header %u name is not NUL-terminated", k);
        if (!INSIDE(h->value) || strlen(h->value) != h->value_len)
            return failf("header %u value is not NUL-terminated", k);
        if (h->value_len && (is_ows(h->value[0]) || is_ows(h->value[h->value_len - 1])))
            return failf("header %u value is not trimmed", k);
    }
#undef INSIDE
    return NULL;
}

/* Check the parsed request against the "key=value" list after "expect: ok". */
static const char *check_fields(const kite__h1_req_t *r, int head, const char *spec)
{
    char *keys[32], *vals[32];
    const char *err = NULL;
    int n = kv_split(spec, keys, vals, 32), k;

    for (k = 0; k < n && !err; k++) {
        const char *key = keys[k], *val = vals[k];
        long long num = strtoll(val, NULL, 10);

        if (!strcmp(key, "ok")) {
            continue;
        } else if (!strcmp(key, "method")) {
            if (strcmp(r->method, val))
                err = failf("method \"%s\", want \"%s\"", r->method, val);
        } else if (!strcmp(key, "id")) {
            if (r->method_id >= sizeof(method_names) / sizeof(method_names[0]) ||
                strcmp(method_names[r->method_id], val))
                err = failf("method id %d, want %s", r->method_id, val);
        } else if (!strcmp(key, "target")) {
            if (strcmp(r->target, val))
                err = failf("target \"%s\", want \"%s\"", r->target, val);
        } else if (!strcmp(key, "path")) {
            if (!view_is(r->path, r->path_len, val))
                err = failf("path \"%.*s\", want \"%s\"", (int)r->path_len,
                            r->path ? r->path : "(null)", val);
        } else if (!strcmp(key, "query")) {
            if (!view_is(r->query, r->query_len, val))
                err = failf("query \"%s\", want \"%s\"", r->query ? r->query : "(null)", val);
        } else if (!strcmp(key, "host")) {
            if (!view_is(r->host, r->host_len, val))
                err = failf("host \"%.*s\", want \"%s\"", (int)r->host_len,
                            r->host ? r->host : "(null)", val);
        } else if (!strcmp(key, "upgrade_hdr")) {
            if (!view_is(r->upgrade, r->upgrade ? strlen(r->upgrade) : 0, val))
                err = failf("upgrade \"%s\", want \"%s\"", r->upgrade ? r->upgrade : "(null)", val);
        } else if (!strcmp(key, "version")) {
            if (r->version != num)
                err = failf("version %d, want %lld", r->version, num);
        } else if (!strcmp(key, "cl")) {
            if (r->content_length != num)
                err = failf("content_length %lld, want %lld", (long long)r->content_length, num);
        } else if (!strcmp(key, "headers")) {
            if (r->nhdrs != num)
                err = failf("%u headers, want %lld", r->nhdrs, num);
        } else if (!strcmp(key, "headlen")) {
            if (head != num)
                err = failf("head length %d, want %lld", head, num);
        } else if (!strcmp(key, "chunked") || !strcmp(key, "close") || !strcmp(key, "keepalive") ||
                   !strcmp(key, "upgrade") || !strcmp(key, "continue")) {
            unsigned bit = key[1] == 'h'   ? KITE_H1_CHUNKED
                           : key[1] == 'l' ? KITE_H1_CONN_CLOSE
                           : key[1] == 'e' ? KITE_H1_CONN_KEEPALIVE
                           : key[1] == 'p' ? KITE_H1_CONN_UPGRADE
                                           : KITE_H1_EXPECT_CONTINUE;
            if (!!(r->flags & bit) != !!num)
                err = failf("flag %s is %d, want %lld", key, !!(r->flags & bit), num);
        } else if (key[0] == 'h' && key[1] >= '0' && key[1] <= '9') {
            /* hN="name: value" */
            unsigned i = (unsigned)strtoul(key + 1, NULL, 10);
            char got[600];

            if (i >= r->nhdrs)
                err = failf("no header %u", i);
            else if (snprintf(got, sizeof(got), "%s: %s", r->hdrs[i].name, r->hdrs[i].value),
                     strcmp(got, val))
                err = failf("header %u \"%s\", want \"%s\"", i, got, val);
        } else {
            err = failf("unknown key %s in the vector", key);
        }
    }
    for (k = 0; k < n; k++) {
        free(keys[k]);
        free(vals[k]);
    }
    return err;
}

enum { WHOLE, SPLITS, BYTEWISE };

/* head_end over the vector as @mode presents it; for SPLITS at byte @at. */
static int find_end(const vec_t *v, int mode, size_t at, const kite__h1_limits_t *lim)
{
    size_t scan = 0, k;
    int n;

    if (mode == WHOLE)
        return kite__h1_head_end(guard_put(&guard, v->data, v->len), v->len, &scan, lim);
    if (mode == SPLITS) {
        char *p = guard_put(&guard, v->data, v->len);

        n = kite__h1_head_end(p, at, &scan, lim);
        return n ? n : kite__h1_head_end(p, v->len, &scan, lim);
    }
    /* Keep the state in 32 bits, as the connection code does. */
    for (k = 1; k <= v->len; k++) {
        uint32_t saved = (uint32_t)scan;

        scan = saved;
        n = kite__h1_head_end(guard_put(&guard, v->data, k), k, &scan, lim);
        if (n)
            return n;
    }
    return 0;
}

/* Run one presentation of a vector; NULL when it met the expectation, else why not. */
static const char *run(const vec_t *v, int mode, size_t at)
{
    kite__h1_limits_t lim = vec_limits(v);
    const char *expect = vec_meta(v, "expect");
    static kite__h1_req_t r;
    const char *err;
    char *head;
    int n, st;

    if (!expect)
        return "vector has no expect line";
    n = find_end(v, mode, at, &lim);
    if (!strcmp(expect, "incomplete"))
        return n == 0 ? NULL : failf("head_end %d, want 0", n);
    if (n == 0)
        return "head_end says incomplete";
    if (n < 0) {
        if (!strncmp(expect, "ok", 2))
            return failf("head_end %d, want a head", n);
        return atoi(expect) == -n ? NULL : failf("head_end %d, want status %s", n, expect);
    }
    if (!strstr(expect, "headlen=") && (size_t)n != v->len)
        return failf("head length %d, want %zu", n, v->len);
    head = guard_put(&guard, v->data, (size_t)n);
    memset(&r, 0xa5, sizeof(r));
    st = kite__h1_parse_head(head, (size_t)n, &r, &lim);
    if (st < 0) {
        if (!strncmp(expect, "ok", 2))
            return failf("parse failed with %d, want ok", r.status);
        return atoi(expect) == r.status ? NULL : failf("status %d, want %s", r.status, expect);
    }
    if (strncmp(expect, "ok", 2))
        return failf("parsed fine, want %s", expect);
    if (st != 0 || r.status != 0)
        return failf("parse returned %d with status %d", st, r.status);
    if ((err = invariants(&r, head, (size_t)n)) != NULL)
        return err;
    return check_fields(&r, n, expect);
}

static void run_vector(const vec_t *v)
{
    const char *err;
    size_t at;

    err = run(v, WHOLE, 0);
    tap_ok(!err, "%s (line %d): whole", v->name, v->line);
    if (err)
        printf("#   %s\n", err);

    err = NULL;
    for (at = 1; at < v->len && !err; at++)
        if ((err = run(v, SPLITS, at)) != NULL)
            printf("#   split at %zu: %s\n", at, err);
    tap_ok(!err, "%s: split in two anywhere", v->name);

    err = run(v, BYTEWISE, 0);
    tap_ok(!err, "%s: byte by byte", v->name);
    if (err)
        printf("#   %s\n", err);
}

/* The character tables, checked byte by byte against the RFC grammar. */
static void test_tables(void)
{
    int c, bad = 0;

    for (c = 0; c < 256; c++) {
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        int tchar = alnum || (c && strchr("!#$%&'*+-.^_`|~", c));
        int vchar = c > 0x20 && c < 0x7f;
        int target = vchar && c != '#';
        int value = vchar || c >= 0x80 || c == ' ' || c == '\t';
        int host = alnum || (c && strchr("-._~:[]%!$&'()*+,;=", c));

        if (!!IS(c, C_TCHAR) != tchar || !!IS(c, C_TARGET) != target || !!IS(c, C_VALUE) != value ||
            !!IS(c, C_HOST) != host) {
            printf("#   class of 0x%02x is %d\n", c, cls[c]);
            bad++;
        }
    }
    tap_ok(bad == 0, "character classes match RFC 9110 and RFC 3986");
}

/* A complete head ending exactly at a PROT_NONE page, and every prefix of it. */
static void test_guard_page(void)
{
    static const char req[] = "POST /upload?x=1 HTTP/1.1\r\nHost: example.com\r\n"
                              "Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n";
    kite__h1_limits_t lim = {8192, 4096, 100};
    kite__h1_req_t r;
    size_t len = sizeof(req) - 1, k, scan;
    int n = 0, ok = 1;

    for (k = 1; k < len; k++) {
        scan = 0;
        n = kite__h1_head_end(guard_put(&guard, req, k), k, &scan, &lim);
        ok &= n == 0;
    }
    scan = 0;
    n = kite__h1_head_end(guard_put(&guard, req, len), len, &scan, &lim);
    tap_ok(ok && n == (int)len, "guard page: prefixes incomplete, whole head found");
    n = kite__h1_parse_head(guard_put(&guard, req, len), len, &r, &lim);
    tap_ok(n == 0 && (r.flags & KITE_H1_CHUNKED) && (r.flags & KITE_H1_EXPECT_CONTINUE) &&
               r.method_id == KITE_HTTP_POST,
           "guard page: parsed in place");
}

/* head_end must not depend on the scan offset lying: an offset past len restarts. */
static void test_scan_reset(void)
{
    static const char req[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    kite__h1_limits_t lim = {8192, 4096, 100};
    size_t scan = 1000;

    tap_is_int(kite__h1_head_end(req, sizeof(req) - 1, &scan, &lim), (int)sizeof(req) - 1,
               "a stale scan offset beyond the buffer starts over");
}

/* Throughput on a typical small request, printed for information with KITE_H1_BENCH=1. */
static void bench(void)
{
    static const char req[] = "GET /index.html?x=1 HTTP/1.1\r\nHost: localhost:8080\r\n"
                              "User-Agent: bench/1.0\r\nAccept: */*\r\n"
                              "Connection: keep-alive\r\n\r\n";
    kite__h1_limits_t lim = {8192, 4096, 100};
    static kite__h1_req_t r;
    char buf[sizeof(req)];
    struct timespec a, b;
    long k, iters = 2000000;
    double s;

    clock_gettime(CLOCK_MONOTONIC, &a);
    for (k = 0; k < iters; k++) {
        size_t scan = 0;
        int n;

        memcpy(buf, req, sizeof(req));
        n = kite__h1_head_end(buf, sizeof(req) - 1, &scan, &lim);
        if (n <= 0 || kite__h1_parse_head(buf, (size_t)n, &r, &lim))
            break;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    printf("# %ld requests in %.3f s: %.2f M/s\n", k, s, (double)k / s / 1e6);
}

int main(int argc, char **argv)
{
    static const char *const keys[] = {"expect", "limits", NULL};
    vec_t *v;
    int n, k;

    if (argc < 2) {
        fprintf(stderr, "usage: %s requests.txt...\n", argv[0]);
        return 99;
    }
    guard_init(&guard, 1 << 17);
    test_tables();
    test_guard_page();
    test_scan_reset();
    for (k = 1; k < argc; k++) {
        int i;

        v = vec_load(argv[k], keys, &n);
        printf("# %s: %d vectors\n", argv[k], n);
        for (i = 0; i < n; i++)
            run_vector(&v[i]);
        vec_free(v, n);
    }
    if (getenv("KITE_H1_BENCH"))
        bench();
    guard_free(&guard);
    return tap_done();
}
