/*
 * The role of an HTTP/2 stream conn and its response framing for
 * roles/http (struct kite__http_wire): the status and headers go out as
 * one HEADERS frame (HPACK by nghttp2; names lower-cased, connection
 * fields dropped as RFC 9113 8.2.2 requires), the body from the stream's
 * output queue as DATA frames, the end of the response as END_STREAM.
 * The transaction lives as long as the stream does.
 */
#include <stdlib.h>
#include <string.h>

#include "misc/misc.h"
#include "roles/h2/private-h2.h"

#define container_of(p, type, member) ((type *)((char *)(p)-offsetof(type, member)))

static kite__h2s_t *S(kite_conn_t *c)
{
    return container_of(c, kite__h2s_t, c);
}

static int live(const kite__h2s_t *s)
{
    return s->h2 && !s->h2->closing;
}

static void nv_set(nghttp2_nv *nv, const char *name, size_t nlen, const char *value, size_t vlen)
{
    nv->name = (uint8_t *)(uintptr_t)name;
    nv->namelen = nlen;
    nv->value = (uint8_t *)(uintptr_t)value;
    nv->valuelen = vlen;
    nv->flags = NGHTTP2_NV_FLAG_NONE;
}

static int connection_field(const char *n, size_t len)
{
    static const char *const bad[] = {"connection", "keep-alive", "proxy-connection",
                                      "transfer-encoding", "upgrade"};
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (strlen(bad[i]) == len && !memcmp(bad[i], n, len))
            return 1;
    return 0;
}

/* "Name: value\r\n" lines into @nv, names lower-cased into @lc. */
static size_t add_lines(nghttp2_nv *nv, char **lc, const char *p, size_t len)
{
    const char *end = p + len;
    size_t n = 0, i;

    while (p < end) {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *v, *ve;
        if (!eol)
            break;
        if (!colon || colon > eol) {
            p = eol + 1;
            continue;
        }
        for (i = 0; i < (size_t)(colon - p); i++)
            (*lc)[i] = (p[i] >= 'A' && p[i] <= 'Z') ? (char)(p[i] + 32) : p[i];
        v = colon + 1;
        while (v < eol && (*v == ' ' || *v == '\t'))
            v++;
        ve = eol;
        while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        if (!connection_field(*lc, i)) {
            nv_set(&nv[n++], *lc, i, v, (size_t)(ve - v));
            *lc += i;
        }
        p = eol + 1;
    }
    return n;
}

static int respond(kite_conn_t *c, kite_http_req_t *t, int status, const char *ctype, int64_t clen)
{
    kite__h2s_t *s = S(c);
    kite_vhost_t *vh = c->vh;
    const char *server = c->pt->ctx->server_string;
    nghttp2_data_provider prd = {.source.ptr = s, .read_callback = kite__h2s_read};
    char st[8], cl[24], *lc, *mem;
    size_t i, max, n = 0;
    nghttp2_nv *nv;
    int r, end;

    if (!live(s))
        return KITE_ECLOSED;
    if (status < 200 || status == 204 || status == 304)
        t->tflags |= KITE__T_NO_BODY;
    if (t->p.method_id == KITE_HTTP_HEAD)
        t->tflags |= KITE__T_IS_HEAD;
    t->resp_len = (t->tflags & KITE__T_NO_BODY) ? 0 : clen;
    t->status = (uint16_t)status;
    max = 6;
    for (i = 0; i < vh->headers_len; i++)
        max += vh->headers[i] == '\n';
    for (i = 0; i < t->rh_len; i++)
        max += t->rh[i] == '\n';
    mem = malloc(max * sizeof(*nv) + vh->headers_len + t->rh_len + 1);
    if (!mem)
        return KITE_ENOMEM;
    nv = (nghttp2_nv *)(void *)mem;
    lc = mem + max * sizeof(*nv);
    snprintf(st, sizeof(st), "%03d", status);
    nv_set(&nv[n++], ":status", 7, st, 3);
    if (*server)
        nv_set(&nv[n++], "server", 6, server, strlen(server));
    nv_set(&nv[n++], "date", 4, kite__pt_date(c->pt), 29);
    if (ctype)
        nv_set(&nv[n++], "content-type", 12, ctype, strlen(ctype));
    if (clen >= 0 && status != 304 && status != 204 && status >= 200) {
        char *e = kite__put_u64(cl, (uint64_t)clen);
        nv_set(&nv[n++], "content-length", 14, cl, (size_t)(e - cl));
    }
    n += add_lines(nv + n, &lc, vh->headers, vh->headers_len);
    n += add_lines(nv + n, &lc, t->rh, t->rh_len);
    end = (t->tflags & (KITE__T_NO_BODY | KITE__T_IS_HEAD)) || clen == 0;
    r = nghttp2_submit_response(s->h2->s, s->id, nv, n, end ? NULL : &prd);
    free(mem);
    if (r)
        return r == NGHTTP2_ERR_NOMEM ? KITE_ENOMEM : KITE_ESTATE;
    if (end)
        s->sflags |= H2S_FIN;
    s->sflags |= H2S_SUBMITTED;
    t->tflags |= KITE__T_HEAD_SENT;
    kite__h2_want_send(s->h2);
    return 0;
}

static int body(kite_conn_t *c, kite_http_req_t *t, const void *buf, size_t len, int final)
{
    kite__h2s_t *s = S(c);
    int r = kite__http_body_count(t, len);

    if (r < 0)
        return r;
    if (len && !(s->sflags & H2S_FIN))
        r = kite__out_append(c, buf, len);
    if (r < 0)
        return r;
    if (final) {
        t->tflags |= KITE__T_FINAL;
        s->sflags |= H2S_FIN;
        /* Shorter than its Content-Length: the peer must not take it as
         * whole, so the stream is reset instead of ended. */
        if (kite__http_body_short(t)) {
            kite__conn_close_now(c, KITE_CLOSE_WRITE);
            return 0;
        }
        if (live(s) && (s->sflags & H2S_DEFERRED)) {
            s->sflags &= ~H2S_DEFERRED;
            nghttp2_session_resume_data(s->h2->s, s->id);
        }
        /* The leave flushes the stream, which makes the frames. */
        kite__conn_mark_dirty(c);
    }
    return 0;
}

static void send_continue(kite_conn_t *c, kite_http_req_t *t)
{
    kite__h2s_t *s = S(c);
    nghttp2_nv nv;

    (void)t;
    if (!live(s))
        return;
    nv_set(&nv, ":status", 7, "100", 3);
    nghttp2_submit_headers(s->h2->s, NGHTTP2_FLAG_NONE, s->id, NULL, &nv, 1, NULL);
    kite__h2_want_send(s->h2);
}

/* RFC 8441: a 200 to the extended CONNECT; the stream stays open and
 * carries websocket frames in DATA frames both ways. */
static int ws_accept(kite_conn_t *c, kite_http_req_t *t, const char *subprotocol,
                     const char *extensions)
{
    int r;

    if (subprotocol && (r = kite__http_add_header_n(t, "Sec-WebSocket-Protocol", subprotocol,
                                                    strlen(subprotocol))) < 0)
        return r;
    if (extensions && (r = kite__http_add_header_n(t, "Sec-WebSocket-Extensions", extensions,
                                                   strlen(extensions))) < 0)
        return r;
    return respond(c, t, 200, NULL, -1);
}

const struct kite__http_wire kite__h2_wire = {
    .respond = respond,
    .body = body,
    .send_continue = send_continue,
    .ws_accept = ws_accept,
};

static int on_data(kite_conn_t *c, char *buf, size_t len)
{
    kite_http_req_t *t = c->rd;

    if (!t || !(t->tflags & KITE__T_BODY) || (t->tflags & KITE__T_BODY_DONE))
        return 0;
    /* The body timeout catches a peer that stops sending, not a long upload. */
    if (!(t->tflags & KITE__T_FINAL))
        kite__conn_set_state_timeout(c, c->pt->ctx->info.timeout_secs * 1000u);
    return kite__http_body(c, t, buf, len) < 0 ? KITE_ECLOSED : 0;
}

static void on_rx_resume(kite_conn_t *c)
{
    kite__h2s_t *s = S(c);
    kite_http_req_t *t = c->rd;
    char *in = c->in;
    uint32_t len = c->in_len;

    /* Input held while paused (its window was given back by the resume):
     * deliver it, then the end it was followed by. */
    c->in = NULL;
    c->in_len = c->in_cap = 0;
    if (len && on_data(c, in, len) < 0)
        kite__conn_close_now(c, KITE_CLOSE_ERROR);
    free(in);
    if ((s->sflags & H2S_REMOTE_END) && t && (t->tflags & KITE__T_BODY) &&
        !(t->tflags & KITE__T_BODY_DONE) && !(c->flags & (KITE__C_CLOSING | KITE__C_CLOSED)) &&
        !(c->flags & KITE__C_RX_OFF) && kite__http_body_done(c, t) < 0)
        kite__conn_close_now(c, KITE_CLOSE_ERROR);
}

static int on_writeable(kite_conn_t *c)
{
    kite_http_req_t *t = c->rd;
    const kite_protocol_t *p = c->proto;

    if (t && p && p->on_writeable && !(t->tflags & KITE__T_FINAL)) {
        kite__conn_set_state_timeout(c, kite__send_ms(c));
        return p->on_writeable(c, c->user) ? KITE_ECLOSED : 0;
    }
    return 0;
}

static int on_timeout(kite_conn_t *c)
{
    kite_http_req_t *t = c->rd;

    if (t && !(t->tflags & KITE__T_HEAD_SENT) && (t->tflags & KITE__T_BODY) &&
        !(t->tflags & KITE__T_BODY_DONE)) {
        kite__http_error(c, t, 408, NULL);
        kite__conn_set_state_timeout(c, KITE__ANSWER_GRACE_MS);
        return 0;
    }
    return -1;
}

static int s_close(kite_conn_t *c, int code, const char *reason)
{
    kite_http_req_t *t = c->rd;

    (void)code;
    (void)reason;
    /* A finished response ends the stream by itself. */
    if (t && (t->tflags & KITE__T_FINAL))
        return 0;
    return kite__conn_close_graceful(c);
}

static void s_drain(kite_conn_t *c)
{
    /* The parent's GOAWAY lets streams already open finish. */
    (void)c;
}

const struct kite__role_ops kite__role_h2s = {
    .name = "h2-stream",
    .on_data = on_data,
    .on_writeable = on_writeable,
    .on_timeout = on_timeout,
    .write = kite__http_write,
    .on_close = kite__http_txn_end, /* a stream is one transaction */
    .close = s_close,
    .on_rx_resume = on_rx_resume,
    .drain = s_drain,
    .http = 1,
};
