/*
 * The HTTP/1.1 client role: the request head (or the WebSocket upgrade
 * request), a request body written by the protocol from on_writeable
 * (Content-Length or chunked), then the response: its head found with the
 * server's head scanner and parsed in place, interim 1xx answers
 * skipped, the body framed by Content-Length, chunked coding (decoded
 * with the server's decoder) or the end of the connection, delivered in
 * pieces under rx flow control. One request per connection: kite sends
 * "Connection: close" and closes when the response is complete.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/private-client.h"
#include "misc/misc.h"

#define CL(c)         ((kite__client_t *)(c)->rd)
#define MAX_HEAD      (32 * 1024)
#define MAX_REDIRECTS 4

static int has_v2(const kite_protocol_t *p)
{
    return p && p->abi >= 2;
}

static int put(char **p, char *end, const char *s)
{
    size_t n = strlen(s);

    if ((size_t)(end - *p) < n)
        return KITE_E2BIG;
    memcpy(*p, s, n);
    *p += n;
    return 0;
}

static int method_has_body(const kite__client_t *cl)
{
    return cl->i.content_length != 0;
}

int kite__client_send_head(kite_conn_t *c)
{
    kite__client_t *cl = CL(c);
    size_t cap =
        1024 + strlen(cl->i.path) + strlen(cl->i.address) + (cl->i.host ? strlen(cl->i.host) : 0) +
        (cl->i.headers ? strlen(cl->i.headers) : 0) + (cl->i.origin ? strlen(cl->i.origin) : 0) +
        (cl->i.protocol ? strlen(cl->i.protocol) : 0);
    char *buf = malloc(cap), *p = buf, *end = buf + cap, num[64];
    int r = 0, v6 = strchr(cl->i.address, ':') != NULL;
    int defport = cl->i.port == ((cl->i.flags & KITE_CLIENT_TLS) ? 443 : 80);

    if (!buf)
        return KITE_ENOMEM;
    r |= put(&p, end, cl->mode == CL_WS ? "GET" : cl->i.method);
    r |= put(&p, end, " ");
    r |= put(&p, end, cl->i.path);
    r |= put(&p, end, " HTTP/1.1\r\nHost: ");
    if (cl->i.host) {
        r |= put(&p, end, cl->i.host);
    } else {
        r |= put(&p, end, v6 ? "[" : "");
        r |= put(&p, end, cl->i.address);
        r |= put(&p, end, v6 ? "]" : "");
        if (!defport) {
            snprintf(num, sizeof(num), ":%d", cl->i.port);
            r |= put(&p, end, num);
        }
    }
    r |= put(&p, end, "\r\n");
    if (cl->mode == CL_WS) {
        int n = kite__client_ws_request(c, p, (size_t)(end - p));
        if (n < 0)
            r = n;
        else
            p += n;
    } else {
        /* A proxied upgrade asks for it (its Upgrade is in the headers). */
        r |= put(&p, end, cl->tunnel ? "Connection: Upgrade\r\n" : "Connection: close\r\n");
        if (cl->i.content_length > 0) {
            snprintf(num, sizeof(num), "Content-Length: %lld\r\n", (long long)cl->i.content_length);
            r |= put(&p, end, num);
            cl->req_left = cl->i.content_length;
        } else if (cl->i.content_length < 0) {
            r |= put(&p, end, "Transfer-Encoding: chunked\r\n");
            cl->req_chunked = 1;
        }
        cl->req_done = !method_has_body(cl);
    }
    if (cl->i.headers)
        r |= put(&p, end, cl->i.headers);
    r |= put(&p, end, "\r\n");
    if (!r)
        r = kite__out_append(c, buf, (size_t)(p - buf));
    free(buf);
    return r < 0 ? r : 0;
}

static int done(kite_conn_t *c)
{
    kite__client_t *cl = CL(c);
    const kite_protocol_t *p = c->proto;

    cl->phase = CL_DONE;
    if (has_v2(p) && p->on_client_http_done)
        p->on_client_http_done(c, c->user);
    kite__conn_close_graceful(c);
    return KITE_ECLOSED;
}

static int follow(kite_conn_t *c)
{
    kite__client_t *cl = CL(c);
    const char *loc = kite__client_header(cl, "Location");

    if (!(cl->i.flags & KITE_CLIENT_FOLLOW_REDIRECTS) || !loc || cl->redirects >= MAX_REDIRECTS ||
        (cl->status != 301 && cl->status != 302 && cl->status != 303 && cl->status != 307 &&
         cl->status != 308))
        return 0;
    return kite__client_redirect(c, loc) == 0;
}

/* A complete head of @hl bytes at @buf: 0 to go on with the body, 1 for
 * an interim answer, or <0 (the conn is closing). */
static int on_head(kite_conn_t *c, char *buf, size_t hl, char *rest, size_t rlen)
{
    kite__client_t *cl = CL(c);
    const kite_protocol_t *p = c->proto;

    free(cl->head);
    if (!(cl->head = malloc(hl + 1))) {
        kite__client_fail(c, "out of memory");
        return KITE_ECLOSED;
    }
    memcpy(cl->head, buf, hl);
    cl->head[hl] = '\0';
    if (kite__client_parse_head(cl, hl) < 0 || kite__client_framing(cl) < 0) {
        kite__client_fail(c, "bad response head");
        return KITE_ECLOSED;
    }
    if (cl->mode == CL_WS) {
        /* The ws role takes the conn and the bytes after the head. */
        kite__client_ws_upgrade(c, rest, rlen);
        return KITE_ECLOSED;
    }
    if (cl->status == 101 && cl->tunnel) {
        /* The protocol copies the head; then bytes pass as they are. */
        cl->phase = CL_UPGRADED;
        c->role = &kite__role_raw;
        kite__conn_set_state_timeout(c, 0);
        if (has_v2(p) && p->on_client_http_response &&
            p->on_client_http_response(c, c->user, cl->status)) {
            kite__conn_close_now(c, KITE_CLOSE_SETUP);
            return KITE_ECLOSED;
        }
        free(cl->head);
        cl->head = NULL;
        cl->nhdrs = 0;
        if (rlen && c->role->on_data(c, rest, rlen) < 0)
            kite__conn_close_now(c, KITE_CLOSE_ERROR);
        else if (!rlen)
            kite__conn_keep_input(c, rest, 0);
        return KITE_ECLOSED;
    }
    if (cl->status < 200)
        return 1;
    if (follow(c))
        return KITE_ECLOSED;
    cl->phase = CL_BODY;
    kite__conn_set_state_timeout(c, c->pt->ctx->info.timeout_secs * 1000u);
    if (has_v2(p) && p->on_client_http_response &&
        p->on_client_http_response(c, c->user, cl->status))
        return KITE_ECLOSED;
    if (cl->body_left == 0 && !cl->chunked)
        return done(c);
    return 0;
}

static int body_piece(kite_conn_t *c, const char *buf, size_t n)
{
    const kite_protocol_t *p = c->proto;

    if (!n)
        return 0;
    return has_v2(p) && p->on_client_http_body && p->on_client_http_body(c, c->user, buf, n)
               ? KITE_ECLOSED
               : 0;
}

/* Body bytes: how many were used, or <0 when the conn is closing. */
static ssize_t body(kite_conn_t *c, char *buf, size_t len)
{
    kite__client_t *cl = CL(c);
    size_t out = 0, used = 0, k;
    int r;

    if (cl->chunked) {
        r = kite__h1_chunked_decode(&cl->chunk, buf, len, &out, &used);
        if (r < 0) {
            kite__client_fail(c, "bad chunked response body");
            return KITE_ECLOSED;
        }
        if (body_piece(c, buf, out) < 0)
            return KITE_ECLOSED;
        if (r == 1)
            return done(c);
        return (ssize_t)used;
    }
    k = cl->body_left >= 0 && (uint64_t)cl->body_left < len ? (size_t)cl->body_left : len;
    if (cl->body_left > 0)
        cl->body_left -= (int64_t)k;
    if (body_piece(c, buf, k) < 0)
        return KITE_ECLOSED;
    if (cl->body_left == 0)
        return done(c);
    return (ssize_t)k;
}

static int process(kite_conn_t *c, char *buf, size_t len)
{
    kite__client_t *cl = CL(c);
    kite__h1_limits_t lim = {MAX_HEAD, MAX_HEAD, KITE__CL_MAX_HEADERS};
    size_t off = 0, scan = 0;
    ssize_t n;
    int hl, r;

    while (off < len && !(c->flags & (KITE__C_CLOSING | KITE__C_CLOSED | KITE__C_RX_OFF))) {
        if (cl->phase == CL_HEAD) {
            hl = kite__h1_head_end(buf + off, len - off, &scan, &lim);
            if (hl < 0) {
                kite__client_fail(c, "bad response head");
                return 0;
            }
            if (!hl)
                break;
            r = on_head(c, buf + off, (size_t)hl, buf + off + hl, len - off - (size_t)hl);
            if (r < 0)
                return 0;
            off += (size_t)hl;
            scan = 0;
            continue;
        }
        if (cl->phase != CL_BODY)
            return 0; /* input after the response is dropped */
        n = body(c, buf + off, len - off);
        if (n < 0)
            return 0;
        off += (size_t)n;
    }
    return kite__conn_keep_input(c, off < len ? buf + off : buf, len - off);
}

static int on_data(kite_conn_t *c, char *buf, size_t len)
{
    if (kite__conn_join_input(c, &buf, &len) < 0)
        return KITE_ENOMEM;
    return process(c, buf, len);
}

static void on_rx_resume(kite_conn_t *c)
{
    if (c->in_len && process(c, c->in, c->in_len) < 0)
        kite__conn_close_now(c, KITE_CLOSE_ERROR);
}

static void on_eof(kite_conn_t *c, int status)
{
    kite__client_t *cl = CL(c);

    (void)status;
    if (cl->phase == CL_BODY && cl->body_left < 0 && !cl->chunked) {
        done(c);
        return;
    }
    kite__client_fail(c, cl->phase == CL_HEAD ? "the server closed the connection before answering"
                                              : "the server closed the connection in the body");
}

static int on_writeable(kite_conn_t *c)
{
    const kite_protocol_t *p = c->proto;

    return p->on_writeable && p->on_writeable(c, c->user) ? KITE_ECLOSED : 0;
}

static int on_timeout(kite_conn_t *c)
{
    return kite__client_timeout(c);
}

/* The request body, from the protocol. */
static int cl_write(kite_conn_t *c, const void *buf, size_t len, unsigned flags)
{
    kite__client_t *cl = CL(c);
    unsigned kind = flags & KITE_WRITE_KIND_MASK;
    int final = kind == KITE_WRITE_HTTP_FINAL, r = 0;
    char hex[24];

    if (c->flags & KITE__C_CLOSING)
        return KITE_ECLOSED;
    if (kind != KITE_WRITE_HTTP && !final)
        return KITE_ESTATE;
    /* A Content-Length body is complete with its last byte; a final empty
     * write after it is harmless. */
    if (cl->req_done)
        return final && !len && !cl->req_chunked ? 0 : KITE_ESTATE;
    if (c->out_bytes + len > c->pt->ctx->info.max_output)
        return KITE_EAGAIN;
    if (!cl->req_chunked) {
        if ((int64_t)len > cl->req_left || (final && (int64_t)len != cl->req_left))
            return KITE_EINVAL;
        cl->req_left -= (int64_t)len;
        r = len ? kite__out_append(c, buf, len) : 0;
    } else {
        if (len) {
            snprintf(hex, sizeof(hex), "%zx\r\n", len);
            r = kite__out_append(c, hex, strlen(hex));
            if (!r)
                r = kite__out_append(c, buf, len);
            if (!r)
                r = kite__out_append(c, "\r\n", 2);
        }
        if (!r && final)
            r = kite__out_append(c, "0\r\n\r\n", 5);
    }
    if (final || (!cl->req_chunked && !cl->req_left))
        cl->req_done = 1;
    return r;
}

const struct kite__role_ops kite__role_client_http = {
    .name = "client-http",
    .on_data = on_data,
    .on_eof = on_eof,
    .on_writeable = on_writeable,
    .on_timeout = on_timeout,
    .write = cl_write,
    .on_close = kite__client_on_close,
    .on_rx_resume = on_rx_resume,
};

int kite_client_http_status(const kite_conn_t *c)
{
    kite__client_t *cl = kite__client_of(c);

    return cl && cl->head ? cl->status : 0;
}

const char *kite_client_http_header(const kite_conn_t *c, const char *name)
{
    kite__client_t *cl = kite__client_of(c);

    return cl && cl->head ? kite__client_header(cl, name) : NULL;
}

int kite_client_http_header_count(const kite_conn_t *c)
{
    kite__client_t *cl = kite__client_of(c);

    return cl && cl->head ? cl->nhdrs : 0;
}

int kite_client_http_header_at(const kite_conn_t *c, int i, const char **name, const char **value)
{
    kite__client_t *cl = kite__client_of(c);

    if (!cl || !cl->head || i < 0 || i >= cl->nhdrs)
        return KITE_EINVAL;
    *name = cl->hdrs[i].name;
    *value = cl->hdrs[i].value;
    return 0;
}
