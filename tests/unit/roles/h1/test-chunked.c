/*
 * Unit test for the chunked body decoder (lib/roles/h1/chunked.c). Every
 * vector of tests/data/h1/chunked.txt is decoded whole, split in two at
 * every byte and one byte at a time; each piece is copied flush against
 * a PROT_NONE page, decoded in place, and the decoded body, the result
 * and the bytes left over for the next request must be the same in all
 * three runs. Usage: test-chunked <chunked.txt>.
 */
#include <stdarg.h>

#include "roles/h1/chunked.c"

#include "tap.h"
#include "vectors.h"

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

typedef struct result {
    int ret;
    char *body;
    size_t body_len;
    size_t rest; /* offset in the input where the leftover starts (ret == 1) */
} result_t;

/*
 * Decode @v in pieces: piece boundaries are at @cuts (ascending, ending
 * with v->len). Returns NULL or a reason the decoder broke its contract.
 */
static const char *decode(const vec_t *v, const size_t *cuts, size_t ncuts, result_t *res)
{
    kite__h1_chunked_t st = {0};
    size_t from = 0, k;

    res->ret = 0;
    res->body = xrealloc(NULL, v->len + 1);
    res->body_len = 0;
    res->rest = v->len;
    for (k = 0; k < ncuts; k++) {
        size_t n = cuts[k] - from, out = (size_t)-1, used = (size_t)-1;
        char *p = guard_put(&guard, v->data + from, n);
        int r = kite__h1_chunked_decode(&st, p, n, &out, &used);

        if (used > n || out > used)
            return failf("consumed %zu, out %zu of %zu bytes", used, out, n);
        memcpy(res->body + res->body_len, p, out);
        res->body_len += out;
        if (r == 0 && used != n)
            return failf("needs more input but consumed %zu of %zu", used, n);
        if (r != 0) {
            res->ret = r;
            res->rest = from + used;
            return NULL;
        }
        from = cuts[k];
    }
    return NULL;
}

static const char *check(const vec_t *v, const result_t *res)
{
    const char *want = vec_meta(v, "result"), *body = vec_meta(v, "body");
    const char *rest = vec_meta(v, "rest");
    char *b;
    size_t bl;
    int mismatch;

    if (!want)
        return "vector has no result line";
    if (res->ret != atoi(want))
        return failf("result %d, want %s", res->ret, want);
    if (body && !strncmp(body, "@repeat ", 8)) {
        /* "@repeat N text", as in the raw lines, for long bodies. */
        char *endp, *one;
        long times = strtol(body + 8, &endp, 10);
        size_t ol;

        if (times <= 0 || *endp != ' ' || !(one = unescape(endp + 1, strlen(endp + 1), &ol)))
            return "bad @repeat in body";
        b = xrealloc(NULL, ol * (size_t)times + 1);
        for (bl = 0; times-- > 0; bl += ol)
            memcpy(b + bl, one, ol);
        free(one);
        mismatch = bl != res->body_len || memcmp(b, res->body, bl);
        free(b);
        if (mismatch)
            return failf("body of %zu bytes differs from the @repeat one", res->body_len);
    } else if (body) {
        if (!(b = unescape(body, strlen(body), &bl)))
            return "bad escape in body";
        mismatch = bl != res->body_len || memcmp(b, res->body, bl);
        free(b);
        if (mismatch)
            return failf("body \"%.*s\" (%zu bytes), want \"%s\"", (int)res->body_len, res->body,
                         res->body_len, body);
    }
    if (res->ret == 1) {
        if (!(b = unescape(rest ? rest : "", rest ? strlen(rest) : 0, &bl)))
            return "bad escape in rest";
        mismatch = bl != v->len - res->rest || memcmp(b, v->data + res->rest, bl);
        free(b);
        if (mismatch)
            return failf("leftover \"%.*s\", want \"%s\"", (int)(v->len - res->rest),
                         v->data + res->rest, rest ? rest : "");
    }
    return NULL;
}

static const char *run(const vec_t *v, const size_t *cuts, size_t ncuts)
{
    result_t res;
    const char *err = decode(v, cuts, ncuts, &res);

    if (!err)
        err = check(v, &res);
    free(res.body);
    return err;
}

static void run_vector(const vec_t *v)
{
    size_t *cuts = xrealloc(NULL, sizeof(*cuts) * (v->len + 1)), at;
    const char *err;

    cuts[0] = v->len;
    err = run(v, cuts, 1);
    tap_ok(!err, "%s (line %d): whole", v->name, v->line);
    if (err)
        printf("#   %s\n", err);

    err = NULL;
    for (at = 1; at < v->len && !err; at++) {
        cuts[0] = at;
        cuts[1] = v->len;
        if ((err = run(v, cuts, 2)) != NULL)
            printf("#   split at %zu: %s\n", at, err);
    }
    tap_ok(!err, "%s: split in two anywhere", v->name);

    for (at = 0; at < v->len; at++)
        cuts[at] = at + 1;
    err = run(v, cuts, v->len);
    tap_ok(!err, "%s: byte by byte", v->name);
    if (err)
        printf("#   %s\n", err);
    free(cuts);
}

/* After the end or an error the decoder stays put. */
static void test_sticky(void)
{
    kite__h1_chunked_t st = {0};
    char a[] = "0\r\n\r\nGET", b[] = "zz", c[] = "1\r\na\r\n";
    size_t out, used;

    tap_is_int(kite__h1_chunked_decode(&st, a, 8, &out, &used), 1, "last chunk ends the body");
    tap_is_int(used, 5, "the next request is left alone");
    tap_is_int(kite__h1_chunked_decode(&st, a + 5, 3, &out, &used), 1, "done stays done");
    tap_ok(used == 0 && out == 0, "done consumes nothing");

    memset(&st, 0, sizeof(st));
    tap_is_int(kite__h1_chunked_decode(&st, b, 2, &out, &used), -1, "bad size fails");
    tap_is_int(kite__h1_chunked_decode(&st, c, 6, &out, &used), -1, "an error is sticky");
}

int main(int argc, char **argv)
{
    static const char *const keys[] = {"result", "body", "rest", NULL};
    vec_t *v;
    int n, k;

    if (argc < 2) {
        fprintf(stderr, "usage: %s chunked.txt...\n", argv[0]);
        return 99;
    }
    guard_init(&guard, 1 << 17);
    test_sticky();
    for (k = 1; k < argc; k++) {
        int i;

        v = vec_load(argv[k], keys, &n);
        printf("# %s: %d vectors\n", argv[k], n);
        for (i = 0; i < n; i++)
            run_vector(&v[i]);
        vec_free(v, n);
    }
    guard_free(&guard);
    return tap_done();
}
