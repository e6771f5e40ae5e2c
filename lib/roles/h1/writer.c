/*
 * HTTP/1.1 response framing: the status line and headers (Server and a
 * per-second cached Date, Content-Length or chunked, Connection), body
 * bytes framed as chunks when the length is unknown, HEAD and bodiless
 * statuses, and "100 Continue". Everything goes into the output queue;
 * the head is formatted straight into it, without an intermediate copy.
 */
#include <stdio.h>
#include <string.h>

#include "misc/misc.h"
#include "roles/h1/private-h1.h"
#include "roles/ws/private-ws.h"

#define HEAD_FIXED 256

static char *put(char *p, const char *s, size_t n)
{
    /* s may be NULL when n is 0 (no vhost or handler headers). */
    if (n)
        memcpy(p, s, n);
    return p + n;
}

static int respond(kite_conn_t *c, kite_http_req_t *t, int status, const char *ctype, int64_t clen)
{
    const char *server = c->pt->ctx->server_string;
    const char *reason = t->reason ? t->reason : kite_http_status_text(status);
    size_t ctlen = ctype ? strlen(ctype) : 0, slen = strlen(server), max;
    kite_vhost_t *vh = c->vh;
    char *p, *start;

    if (status < 200 || status == 204 || status == 304)
        t->tflags |= KITE__T_NO_BODY;
    if (t->p.method_id == KITE_HTTP_HEAD)
        t->tflags |= KITE__T_IS_HEAD;
    /* Errors and unfinished request bodies end the connection. */
    if (status >= 400 && (t->tflags & KITE__T_BODY) && !(t->tflags & KITE__T_BODY_DONE) &&
        t->body_left > 64 * 1024)
        t->tflags &= ~KITE__T_KEEPALIVE;
    if (status == 400 || status == 408 || status == 413 || status == 414 || status == 431 ||
        status == 501 || status == 505)
        t->tflags &= ~KITE__T_KEEPALIVE;
    if (clen < 0 && !(t->tflags & KITE__T_NO_BODY)) {
        if (t->p.version >= 11)
            t->tflags |= KITE__T_CHUNKED;
        else
            t->tflags &= ~KITE__T_KEEPALIVE; /* the end of the body is the close */
    }
    t->resp_len = (t->tflags & KITE__T_NO_BODY) ? 0 : clen;
    t->status = (uint16_t)status;

    max = HEAD_FIXED + strlen(reason) + slen + ctlen + vh->headers_len + t->rh_len;
    start = p = kite__out_reserve(c, max);
    if (!p)
        return KITE_ENOMEM;
    p = put(p, "HTTP/1.1 ", 9);
    p = kite__put_u64(p, (uint64_t)status);
    *p++ = ' ';
    p = put(p, reason, strlen(reason));
    p = put(p, "\r\n", 2);
    if (slen) {
        p = put(p, "Server: ", 8);
        p = put(p, server, slen);
        p = put(p, "\r\n", 2);
    }
    p = put(p, "Date: ", 6);
    p = put(p, kite__pt_date(c->pt), 29);
    p = put(p, "\r\n", 2);
    if (ctlen) {
        p = put(p, "Content-Type: ", 14);
        p = put(p, ctype, ctlen);
        p = put(p, "\r\n", 2);
    }
    if (t->tflags & KITE__T_CHUNKED) {
        p = put(p, "Transfer-Encoding: chunked\r\n", 28);
    } else if (clen >= 0 && status != 304 && status != 204 && status >= 200) {
        p = put(p, "Content-Length: ", 16);
        p = kite__put_u64(p, (uint64_t)clen);
        p = put(p, "\r\n", 2);
    }
    if (!(t->tflags & KITE__T_KEEPALIVE))
        p = put(p, "Connection: close\r\n", 19);
    else if (t->p.version == 10)
        p = put(p, "Connection: keep-alive\r\n", 24);
    p = put(p, vh->headers, vh->headers_len);
    p = put(p, t->rh, t->rh_len);
    p = put(p, "\r\n", 2);
    kite__out_commit(c, (size_t)(p - start));
    t->tflags |= KITE__T_HEAD_SENT;
    return 0;
}

static int body(kite_conn_t *c, kite_http_req_t *t, const void *buf, size_t len, int final)
{
    int r = kite__http_body_count(t, len);

    if (r < 0)
        return r;
    if (!(t->tflags & (KITE__T_IS_HEAD | KITE__T_NO_BODY))) {
        if ((t->tflags & KITE__T_CHUNKED) && len) {
            char sz[24], *e = kite__put_hex(sz, len);
            *e++ = '\r';
            *e++ = '\n';
            r = kite__out_append(c, sz, (size_t)(e - sz));
            if (!r)
                r = kite__out_append(c, buf, len);
            if (!r)
                r = kite__out_append(c, "\r\n", 2);
        } else {
            r = kite__out_append(c, buf, len);
        }
        if (!r && final && (t->tflags & KITE__T_CHUNKED))
            r = kite__out_append(c, "0\r\n\r\n", 5);
    }
    if (r < 0)
        return r;
    if (final) {
        /* A response shorter than its Content-Length cannot be followed by
         * another on the same connection. */
        if (kite__http_body_short(t))
            t->tflags &= ~KITE__T_KEEPALIVE;
        t->tflags |= KITE__T_FINAL;
        kite__h1_final(c, t);
    }
    return 0;
}

static void send_continue(kite_conn_t *c, kite_http_req_t *t)
{
    (void)t;
    kite__out_append(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
}

const struct kite__http_wire kite__h1_wire = {
    .respond = respond,
    .body = body,
    .send_continue = send_continue,
    .ws_accept = kite__ws_accept_h1,
    .raw_ok = 1,
};
