/*
 * protocol-http-test: endpoints under a callback mount that show and test
 * the handler API from the outside:
 *   GET  hello                 "hello\n"
 *   GET  headers               the request as the handler sees it
 *   GET  stream?n=N&size=S     N chunks of S bytes, one per on_writeable
 *   GET  big?bytes=N           N bytes with Content-Length, written as fast
 *                              as the output cap allows (KITE_EAGAIN)
 *   GET  delay?ms=N            answers after N ms (a kite timer)
 *   GET  thread?ms=N           another thread posts back after N ms
 *   POST echo                  streams the body; answers its size and FNV-1a
 *   GET  peer                  the TLS client certificate's subject, "none"
 *                              or "not tls"
 * Bodies are deterministic ('a' + offset % 26) so clients can check them.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kite.h"
#include "protocol-http-test.h"

enum { EP_NONE, EP_STREAM, EP_BIG, EP_DELAY, EP_THREAD, EP_ECHO };

struct pss {
    int ep;
    long n, size, sent_pieces;
    long long total, sent;
    unsigned fnv;
    long pieces;
    kite_timer_t timer;
    struct post_arg *pa;
};

/* The vhost's worker threads: its destroy waits for them, since a post
 * to a context being destroyed would touch freed memory. */
struct vhd {
    pthread_mutex_t lock;
    pthread_cond_t idle;
    int running, stopping;
};

/* Shared with another thread: it reads ctx, tsi and ms; c is cleared (under
 * the vhd's lock) when the conn goes away first, and done set by a thread
 * that ended without posting, so that whichever comes last frees it. */
struct post_arg {
    struct vhd *vhd;
    kite_context_t *ctx;
    kite_conn_t *c;
    int tsi, done;
    long ms;
};

static long arg_long(const kite_http_req_t *req, const char *name, long def, long max)
{
    char buf[32];
    long v;

    if (kite_http_query_arg(req, name, buf, sizeof(buf)) <= 0)
        return def;
    v = strtol(buf, NULL, 10);
    return v < 0 ? 0 : v > max ? max : v;
}

static void fill(char *p, size_t n, long long off)
{
    size_t i;

    for (i = 0; i < n; i++)
        p[i] = (char)('a' + (off + (long long)i) % 26);
}

static int send_text(kite_conn_t *c, int status, const char *text, size_t n)
{
    if (kite_http_respond(c, status, "text/plain; charset=utf-8", (int64_t)n) < 0)
        return 1;
    return kite_write(c, text, n, KITE_WRITE_HTTP_FINAL) < 0;
}

static int show_headers(kite_conn_t *c, const kite_http_req_t *req)
{
    char out[8192];
    const char *name, *value, *q = kite_http_query(req);
    int i, w;

    w = snprintf(out, sizeof(out), "method: %s\npath: %s\nmount-path: %s\nquery: %s\nversion: %d\n",
                 kite_http_method(req), kite_http_path(req), kite_http_mount_path(req), q ? q : "",
                 kite_http_version(req));
    for (i = 0; i < kite_http_header_count(req) && w < (int)sizeof(out) - 1; i++) {
        kite_http_header_at(req, i, &name, &value);
        w += snprintf(out + w, sizeof(out) - (size_t)w, "h: %s: %s\n", name, value);
    }
    if (w >= (int)sizeof(out))
        w = (int)sizeof(out) - 1;
    return send_text(c, 200, out, (size_t)w);
}

static void delay_done(kite_conn_t *c, kite_timer_t *t)
{
    (void)t;
    send_text(c, 200, "delayed\n", 8);
}

static void posted(kite_context_t *ctx, void *arg)
{
    struct post_arg *pa = arg;

    (void)ctx;
    /* Runs on the conn's own service thread: now it may be touched. */
    if (pa->c) {
        ((struct pss *)kite_conn_user(pa->c))->pa = NULL;
        send_text(pa->c, 200, "posted\n", 7);
    }
    free(pa);
}

static void *thread_main(void *arg)
{
    struct post_arg *pa = arg;
    struct timespec ts = {pa->ms / 1000, (pa->ms % 1000) * 1000000L};

    struct vhd *v = pa->vhd;

    nanosleep(&ts, NULL);
    pthread_mutex_lock(&v->lock);
    /* The post is made under the lock, so never once destroy has begun.
     * On failure (out of memory) pa is left to leak: the conn may still
     * point at it. */
    if (!v->stopping)
        kite_post(pa->ctx, pa->tsi, posted, pa);
    else if (!pa->c)
        free(pa);
    else
        pa->done = 1;
    if (!--v->running)
        pthread_cond_signal(&v->idle);
    pthread_mutex_unlock(&v->lock);
    return NULL;
}

static int start_thread(kite_conn_t *c, long ms)
{
    struct post_arg *pa = malloc(sizeof(*pa));
    pthread_t th;

    struct vhd *v = kite_vhost_protocol_data(kite_conn_vhost(c), &kite_protocol_http_test);

    if (!pa || !v) {
        free(pa);
        return 1;
    }
    pa->vhd = v;
    pa->ctx = kite_conn_context(c);
    pa->c = c;
    pa->tsi = kite_conn_tsi(c);
    pa->done = 0;
    pa->ms = ms;
    ((struct pss *)kite_conn_user(c))->pa = pa;
    pthread_mutex_lock(&v->lock);
    v->running++;
    pthread_mutex_unlock(&v->lock);
    if (pthread_create(&th, NULL, thread_main, pa)) {
        pthread_mutex_lock(&v->lock);
        v->running--;
        pthread_mutex_unlock(&v->lock);
        ((struct pss *)kite_conn_user(c))->pa = NULL;
        free(pa);
        return 1;
    }
    pthread_detach(th);
    return 0;
}

static int show_peer(kite_conn_t *c)
{
    char subject[512];
    int n = kite_conn_tls_peer(c, subject, sizeof(subject) - 1);

    if (n == KITE_ENOTSUP)
        n = snprintf(subject, sizeof(subject), "not tls");
    else if (n < 0)
        n = snprintf(subject, sizeof(subject), "none");
    subject[n++] = '\n';
    return send_text(c, 200, subject, (size_t)n);
}

static int on_http(kite_conn_t *c, void *user, const kite_http_req_t *req)
{
    struct pss *pss = user;
    const char *p = kite_http_mount_path(req) + 1;
    int m = kite_http_method_id(req);

    pss->fnv = 2166136261u;
    if (!strcmp(p, "echo")) {
        if (m != KITE_HTTP_POST && m != KITE_HTTP_PUT) {
            kite_http_add_header(c, "Allow", "POST, PUT");
            return kite_http_send_status(c, 405, NULL) < 0;
        }
        pss->ep = EP_ECHO;
        return 0;
    }
    if (m != KITE_HTTP_GET && m != KITE_HTTP_HEAD) {
        kite_http_add_header(c, "Allow", "GET, HEAD");
        return kite_http_send_status(c, 405, NULL) < 0;
    }
    if (!strcmp(p, "hello"))
        return send_text(c, 200, "hello\n", 6);
    if (!strcmp(p, "headers"))
        return show_headers(c, req);
    if (!strcmp(p, "peer"))
        return show_peer(c);
    if (!strcmp(p, "stream")) {
        pss->ep = EP_STREAM;
        pss->n = arg_long(req, "n", 10, 100000);
        pss->size = arg_long(req, "size", 100, 1 << 20);
        if (kite_http_respond(c, 200, "text/plain", -1) < 0)
            return 1;
        return kite_callback_on_writable(c) < 0;
    }
    if (!strcmp(p, "big")) {
        pss->ep = EP_BIG;
        pss->total = arg_long(req, "bytes", 1 << 20, 1L << 30);
        if (kite_http_respond(c, 200, "application/octet-stream", pss->total) < 0)
            return 1;
        return kite_callback_on_writable(c) < 0;
    }
    if (!strcmp(p, "delay")) {
        pss->ep = EP_DELAY;
        return kite_timer_schedule(c, &pss->timer, (uint64_t)arg_long(req, "ms", 100, 60000) * 1000,
                                   delay_done) < 0;
    }
    if (!strcmp(p, "thread")) {
        pss->ep = EP_THREAD;
        return start_thread(c, arg_long(req, "ms", 10, 60000));
    }
    return kite_http_send_status(c, 404, "no such test endpoint") < 0;
}

static int on_writeable(kite_conn_t *c, void *user)
{
    struct pss *pss = user;
    char buf[65536];

    if (pss->ep == EP_STREAM) {
        size_t n = (size_t)pss->size < sizeof(buf) ? (size_t)pss->size : sizeof(buf);
        int last = pss->sent_pieces + 1 >= pss->n;
        fill(buf, n, pss->sent);
        if (kite_write(c, buf, pss->n ? n : 0, last ? KITE_WRITE_HTTP_FINAL : KITE_WRITE_HTTP))
            return 1;
        pss->sent += (long long)n;
        if (++pss->sent_pieces < pss->n)
            return kite_callback_on_writable(c) < 0;
        return 0;
    }
    if (pss->ep == EP_BIG) {
        /* Write until the output cap says stop; kite calls back when the
         * queue has drained. */
        while (pss->sent < pss->total) {
            size_t n = sizeof(buf);
            int r;
            if ((long long)n > pss->total - pss->sent)
                n = (size_t)(pss->total - pss->sent);
            fill(buf, n, pss->sent);
            r = kite_write(c, buf, n,
                           pss->sent + (long long)n == pss->total ? KITE_WRITE_HTTP_FINAL
                                                                  : KITE_WRITE_HTTP);
            if (r == KITE_EAGAIN)
                return kite_callback_on_writable(c) < 0;
            if (r < 0)
                return 1;
            pss->sent += (long long)n;
        }
        if (!pss->total)
            return kite_write(c, NULL, 0, KITE_WRITE_HTTP_FINAL) < 0;
    }
    return 0;
}

static int on_http_body(kite_conn_t *c, void *user, const void *in, size_t len)
{
    struct pss *pss = user;
    const unsigned char *p = in;
    size_t i;

    (void)c;
    for (i = 0; i < len; i++)
        pss->fnv = (pss->fnv ^ p[i]) * 16777619u;
    pss->total += (long long)len;
    pss->pieces++;
    return 0;
}

static int on_http_body_done(kite_conn_t *c, void *user)
{
    struct pss *pss = user;
    char out[128];
    int n;

    if (pss->ep != EP_ECHO)
        return 0;
    n = snprintf(out, sizeof(out), "{\"bytes\":%lld,\"fnv1a\":\"%08x\",\"pieces\":%ld}\n",
                 pss->total, pss->fnv, pss->pieces);
    if (kite_http_respond(c, 200, "application/json", n) < 0)
        return 1;
    return kite_write(c, out, (size_t)n, KITE_WRITE_HTTP_FINAL) < 0;
}

static void on_closed(kite_conn_t *c, void *user, int code)
{
    struct pss *pss = user;

    struct vhd *v;

    (void)code;
    if (!pss->pa)
        return;
    v = pss->pa->vhd;
    pthread_mutex_lock(&v->lock);
    if (pss->pa->done)
        free(pss->pa);
    else
        pss->pa->c = NULL;
    pss->pa = NULL;
    pthread_mutex_unlock(&v->lock);
    (void)c;
}

static int on_vhost_init(kite_vhost_t *vh, const kite_pvo_t *pvo, void **vhd)
{
    struct vhd *v = calloc(1, sizeof(*v));

    (void)vh;
    (void)pvo;
    if (!v)
        return 1;
    pthread_mutex_init(&v->lock, NULL);
    pthread_cond_init(&v->idle, NULL);
    *vhd = v;
    return 0;
}

static void on_vhost_destroy(kite_vhost_t *vh, void *vhd)
{
    struct vhd *v = vhd;

    (void)vh;
    if (!v)
        return;
    pthread_mutex_lock(&v->lock);
    v->stopping = 1;
    while (v->running)
        pthread_cond_wait(&v->idle, &v->lock);
    pthread_mutex_unlock(&v->lock);
    pthread_cond_destroy(&v->idle);
    pthread_mutex_destroy(&v->lock);
    free(v);
}

const kite_protocol_t kite_protocol_http_test = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "http-test",
    .per_session_size = sizeof(struct pss),
    .on_vhost_init = on_vhost_init,
    .on_vhost_destroy = on_vhost_destroy,
    .on_http = on_http,
    .on_writeable = on_writeable,
    .on_closed = on_closed,
    .on_http_body = on_http_body,
    .on_http_body_done = on_http_body_done,
};

#ifdef KITE_BUILD_PLUGIN
KITE_PLUGIN_EXPORT("http-test", &kite_protocol_http_test);
#endif
