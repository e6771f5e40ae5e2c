/*
 * HTTP/2 streams as conns. Each request stream is a kite_conn_t of its
 * own: roles/http routes it, handlers write to it and ask for
 * on_writeable on it, all as on an HTTP/1.1 conn. Its transport is the
 * stream: the request head arrives as HPACK-decoded fields (written out
 * as an HTTP/1.1 head and parsed by the h1 parser, so the same rules and
 * limits apply), request body bytes arrive from DATA frames, and what the
 * http layer queues on the conn leaves as DATA frames taken straight from
 * its queue: memory segments are copied once, cached file contents and
 * file ranges are referenced (sendfile on plain TCP).
 */
#include <stdlib.h>
#include <string.h>

#include "roles/h2/private-h2.h"

#define container_of(p, type, member) ((type *)((char *)(p)-offsetof(type, member)))

static kite__h2s_t *S(const kite_conn_t *c)
{
    return container_of(c, kite__h2s_t, c);
}

static void add(kite__h2s_t *s, const char *p, size_t n)
{
    if (s->head_cap == (size_t)-1)
        return;
    if (s->head_len + n > s->head_cap) {
        size_t cap = s->head_cap ? s->head_cap * 2 : 512;
        char *h;
        while (cap < s->head_len + n)
            cap *= 2;
        if (!(h = realloc(s->head, cap))) {
            s->head_cap = (size_t)-1; /* marks the head as lost: 500 */
            return;
        }
        s->head = h;
        s->head_cap = cap;
    }
    memcpy(s->head + s->head_len, p, n);
    s->head_len += n;
}

kite__h2s_t *kite__h2s_new(kite__h2_t *h2, int32_t id)
{
    kite__h2s_t *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    kite__conn_init_stream(&s->c, h2->c, &kite__h2s_xport, &kite__role_h2s);
    s->h2 = h2;
    s->pc = h2->c;
    s->id = id;
    s->next = h2->streams;
    h2->streams = s;
    h2->nstreams++;
    kite__conn_set_state_timeout(&s->c, s->c.pt->ctx->info.timeout_secs * 1000u);
    return s;
}

static int is(const uint8_t *name, size_t n, const char *lit)
{
    return n == strlen(lit) && !memcmp(name, lit, n);
}

static char *dup_n(const uint8_t *p, size_t n)
{
    char *d = malloc(n + 1);

    if (d) {
        memcpy(d, p, n);
        d[n] = '\0';
    }
    return d;
}

int kite__h2s_header(kite__h2s_t *s, const uint8_t *name, size_t nlen, const uint8_t *value,
                     size_t vlen)
{
    size_t limit = (size_t)s->c.pt->ctx->info.max_header_size * 2;

    /* nghttp2 has checked the fields (RFC 9113 8.2, 8.3): no CR, LF or
     * NUL, lower-case names, pseudo-headers first and each once. */
    if (nlen && name[0] == ':') {
        if (is(name, nlen, ":method")) {
            free(s->method);
            s->method = dup_n(value, vlen);
        } else if (is(name, nlen, ":path")) {
            free(s->path);
            s->path = dup_n(value, vlen);
        } else if (is(name, nlen, ":authority")) {
            free(s->authority);
            s->authority = dup_n(value, vlen);
        } else if (is(name, nlen, ":protocol")) {
            free(s->protocol);
            s->protocol = dup_n(value, vlen);
        }
        return 0;
    }
    /* :authority stands for Host (RFC 9113 8.3.1). */
    if (s->authority && is(name, nlen, "host"))
        return 0;
    if (s->head_len + nlen + vlen + 4 > limit) {
        s->too_big = 1;
        return 0;
    }
    add(s, (const char *)name, nlen);
    add(s, ": ", 2);
    add(s, (const char *)value, vlen);
    add(s, "\r\n", 2);
    return 0;
}

static const char ws_fields[] = "Upgrade: websocket\r\nConnection: Upgrade\r\n";

/* Run @s's handlers for one event, as core does for a socket's. */
static void enter(kite__h2s_t *s)
{
    kite__conn_enter(&s->c);
}

int kite__h2s_request(kite__h2s_t *s, int end_stream)
{
    const kite_context_info_t *ci = &s->c.pt->ctx->info;
    kite__h1_limits_t lim = {ci->max_header_size * 2, ci->max_uri_len, ci->max_headers};
    kite_conn_t *c = &s->c;
    kite_http_req_t *t;
    char *line = NULL;
    size_t n;
    int r, ws;

    s->sflags |= H2S_DISPATCHED;
    if (end_stream)
        s->sflags |= H2S_REMOTE_END;
    t = kite__http_txn_get(c->pt);
    if (!t)
        return KITE_ENOMEM;
    t->wire = &kite__h2_wire;
    t->p.version = 20;
    t->p.content_length = -1;
    c->rd = t;
    enter(s);
    /* RFC 8441: an extended CONNECT for a websocket is the HTTP/1.1
     * upgrade GET to roles/http and roles/ws; its DATA is not a body. */
    ws = s->method && s->protocol && !strcmp(s->method, "CONNECT") &&
         !kite__strncasecmp(s->protocol, "websocket", 10);
    if (ws) {
        free(s->method);
        s->method = strdup("GET");
        add(s, ws_fields, sizeof(ws_fields) - 1);
    }
    /* The request line and Host, then the fields as they came. */
    n = strlen(s->method ? s->method : "") + strlen(s->path ? s->path : "") +
        (s->authority ? strlen(s->authority) + 8 : 0) + 16 + s->head_len;
    if (s->head_cap != (size_t)-1 && (line = malloc(n + 3))) {
        int k = snprintf(line, n, "%s %s HTTP/1.1\r\n%s%s%s", s->method ? s->method : "",
                         s->path ? s->path : "", s->authority ? "Host: " : "",
                         s->authority ? s->authority : "", s->authority ? "\r\n" : "");
        if (s->head_len)
            memcpy(line + k, s->head, s->head_len);
        memcpy(line + k + s->head_len, "\r\n", 2);
        n = (size_t)k + s->head_len + 2;
        t->head = kite__http_txn_copy(t, line, n);
        free(line);
    }
    free(s->head);
    s->head = NULL;
    s->head_len = s->head_cap = 0;
    if (!t->head) {
        r = kite__http_error(c, t, 500, NULL);
    } else if (s->too_big) {
        r = kite__http_error(c, t, 431, NULL);
    } else if (kite__h1_parse_head(t->head, n, &t->p, &lim) < 0) {
        t->p.version = 20;
        r = kite__http_error(c, t, t->p.status ? t->p.status : 400, NULL);
    } else {
        t->p.version = 20;
        t->tflags |= KITE__T_KEEPALIVE;
        if (!end_stream && !ws) {
            t->tflags |= KITE__T_BODY;
            /* A body without Content-Length: its length is unknown, as
             * with a chunked one. */
            if (t->p.content_length < 0)
                t->p.flags |= KITE_H1_CHUNKED;
        }
        if (!end_stream)
            kite__conn_set_state_timeout(c, ci->timeout_secs * 1000u);
        else
            kite__conn_set_state_timeout(c, kite__send_ms(c));
        r = kite__http_dispatch(c, t);
    }
    if (r < 0 && !(c->flags & KITE__C_CLOSING))
        kite__conn_close_now(c, KITE_CLOSE_ERROR);
    kite__conn_leave(c);
    return 0;
}

void kite__h2s_take(kite__h2s_t *s, kite_http_req_t *t)
{
    kite_conn_t *c = &s->c;

    s->sflags |= H2S_DISPATCHED | H2S_REMOTE_END;
    t->wire = &kite__h2_wire;
    t->p.version = 20;
    c->rd = t;
    enter(s);
    kite__conn_set_state_timeout(c, kite__send_ms(c));
    if (kite__http_dispatch(c, t) < 0 && !(c->flags & KITE__C_CLOSING))
        kite__conn_close_now(c, KITE_CLOSE_ERROR);
    kite__conn_leave(c);
}

int kite__h2s_data(kite__h2s_t *s, const uint8_t *data, size_t len)
{
    kite_conn_t *c = &s->c;

    if (c->flags & (KITE__C_CLOSED | KITE__C_CLOSING)) {
        nghttp2_session_consume(s->h2->s, s->id, len);
        return 0;
    }
    /* Paused: held, and not counted as consumed, so the peer's window
     * closes and it stops sending. */
    if (c->flags & KITE__C_RX_OFF) {
        s->held += len;
        return kite__conn_keep_input(c, (const char *)data, len) < 0 ? KITE_ENOMEM : 0;
    }
    /* The bytes are in the conn's input buffer, ours to modify. */
    kite__conn_on_data(c, (char *)(uintptr_t)data, len);
    return 0;
}

void kite__h2s_remote_end(kite__h2s_t *s)
{
    kite_conn_t *c = &s->c;
    kite_http_req_t *t = c->rd;

    s->sflags |= H2S_REMOTE_END;
    if (!t || !c->role->http || (c->flags & (KITE__C_CLOSED | KITE__C_CLOSING)))
        return;
    /* Input held by a pause is delivered first, by the resume. */
    if (c->in_len)
        return;
    if (!(t->tflags & KITE__T_BODY) || (t->tflags & KITE__T_BODY_DONE))
        return;
    enter(s);
    if (kite__http_body_done(c, t) < 0)
        kite__conn_close_now(c, KITE_CLOSE_ERROR);
    else if (!(t->tflags & KITE__T_FINAL))
        kite__conn_set_state_timeout(c, kite__send_ms(c));
    kite__conn_leave(c);
}

void kite__h2s_ended(kite__h2s_t *s, uint32_t error_code)
{
    s->sflags |= H2S_ENDED;
    kite__conn_close_now(&s->c, error_code ? KITE_CLOSE_PEER : KITE_CLOSE_NORMAL);
}

static void free_stream(kite_context_t *ctx, void *arg)
{
    (void)ctx;
    free(arg);
}

void kite__h2s_reap(kite__h2_t *h2)
{
    kite__h2s_t *s;

    while ((s = h2->dead)) {
        h2->dead = s->next;
        free(s);
    }
}

ssize_t kite__h2s_read(nghttp2_session *session, int32_t id, uint8_t *buf, size_t length,
                       uint32_t *data_flags, nghttp2_data_source *source, void *user)
{
    kite__h2s_t *s = nghttp2_session_get_stream_user_data(session, id);
    size_t avail;

    (void)buf;
    (void)source;
    (void)user;
    if (!s)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    avail = s->c.out_bytes;
    if (!avail) {
        if (s->sflags & H2S_FIN) {
            *data_flags |= NGHTTP2_DATA_FLAG_EOF;
            return 0;
        }
        s->sflags |= H2S_DEFERRED;
        return NGHTTP2_ERR_DEFERRED;
    }
    if (length > avail)
        length = avail;
    /* throttle: the stream's bucket says how much may go now; when it is
     * empty its timer flushes the stream, which resumes it. */
    if (s->c.thr) {
        size_t budget = kite__thr_budget(&s->c);
        if (!budget) {
            kite__thr_wait(&s->c);
            s->sflags |= H2S_DEFERRED;
            return NGHTTP2_ERR_DEFERRED;
        }
        if (length > budget)
            length = budget;
    }
    *data_flags |= NGHTTP2_DATA_FLAG_NO_COPY;
    if (length == avail && (s->sflags & H2S_FIN))
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)length;
}

int kite__h2s_send_data(nghttp2_session *session, nghttp2_frame *frame, const uint8_t *framehd,
                        size_t length, nghttp2_data_source *source, void *user)
{
    kite__h2_t *h2 = user;
    kite_conn_t *pc = h2->c;
    kite__h2s_t *s = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    size_t left = length;
    int r;

    (void)source;
    if (pc->out_bytes >= KITE__H2_OUT_HIGH)
        return NGHTTP2_ERR_WOULDBLOCK;
    if (!s || frame->data.padlen)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    if ((r = kite__out_append(pc, framehd, 9)) < 0)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    while (left) {
        kite__oseg_t *g = s->c.out_head;
        size_t k;

        if (g->kind == KITE__SEG_MEM) {
            k = g->len - g->off < left ? g->len - g->off : left;
            r = kite__out_append(pc, g->data + g->off, k);
        } else {
            k = g->len < left ? g->len : left;
            if (g->kind == KITE__SEG_REF) {
                r = kite__out_ref(pc, g->src, g->ref, k);
            } else {
                r = kite__out_file(pc, g->src, g->pos, k);
                g->pos += (off_t)k;
            }
        }
        if (r < 0)
            return NGHTTP2_ERR_CALLBACK_FAILURE;
        kite__out_taken(&s->c, k);
        left -= k;
    }
    if (s->c.thr)
        kite__thr_spend(&s->c, length);
    /* The send timeout runs while a stream has output waiting (for its
     * window, say); each frame taken starts it again. */
    if (s->c.out_bytes)
        kite__conn_set_state_timeout(&s->c, kite__send_ms(&s->c));
    return 0;
}

/* The stream's transport. */

static int s_rx(kite_conn_t *c, char *buf, size_t len)
{
    kite__h2s_t *s = S(c);

    /* What reaches the role opens the window again. */
    if (s->h2 && !s->h2->closing) {
        nghttp2_session_consume(s->h2->s, s->id, len);
        if (!s->h2->in_recv)
            kite__h2_want_send(s->h2);
    }
    return c->role->on_data(c, buf, len);
}

static void s_flush(kite_conn_t *c)
{
    kite__h2s_t *s = S(c);

    if (!s->h2 || s->h2->closing)
        return;
    if (c->out_bytes)
        kite__conn_set_state_timeout(c, kite__send_ms(c));
    if (s->sflags & H2S_DEFERRED) {
        s->sflags &= ~H2S_DEFERRED;
        nghttp2_session_resume_data(s->h2->s, s->id);
    }
    /* Frames now, as h1 writes at the end of the event: a close of the
     * stream right after its response then loses nothing. */
    kite__h2_pump(s->h2);
}

/* Reading resumed: what was held (uncounted) now counts as consumed,
 * which reopens the peer's window. */
static void s_rx_pause(kite_conn_t *c, int pause)
{
    kite__h2s_t *s = S(c);

    if (pause || !s->held || !s->h2 || s->h2->closing)
        return;
    nghttp2_session_consume(s->h2->s, s->id, s->held);
    s->held = 0;
    kite__h2_want_send(s->h2);
}

static int s_shutdown(kite_conn_t *c)
{
    (void)c;
    return KITE_ENOTSUP;
}

static void s_close(kite_conn_t *c, int graceful)
{
    kite__h2s_t *s = S(c), **pp;
    kite__h2_t *h2 = s->h2;

    free(s->head);
    free(s->method);
    free(s->path);
    free(s->authority);
    free(s->protocol);
    s->head = s->method = s->path = s->authority = s->protocol = NULL;
    if (!h2) {
        /* The parent went while a handler of this stream ran. */
        if (kite_post(c->pt->ctx, c->pt->tsi, free_stream, s) < 0)
            kite_err("h2: a stream could not be freed");
        return;
    }
    for (pp = &h2->streams; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    h2->nstreams--;
    if (!h2->closing) {
        nghttp2_session_set_stream_user_data(h2->s, s->id, NULL);
        if (!(s->sflags & H2S_ENDED))
            nghttp2_submit_rst_stream(h2->s, NGHTTP2_FLAG_NONE, s->id,
                                      graceful ? NGHTTP2_NO_ERROR : NGHTTP2_INTERNAL_ERROR);
        kite__h2_want_send(h2);
    }
    s->next = h2->dead;
    h2->dead = s;
}

static kite_conn_t *s_parent(const kite_conn_t *c)
{
    return S(c)->pc;
}

static const struct kite__xport_ops s_ops = {
    .name = "h2-stream",
    .rx = s_rx,
    .shutdown = s_shutdown,
    .close = s_close,
    .flush = s_flush,
    .parent = s_parent,
    .rx_pause = s_rx_pause,
};

const kite__xport_t kite__h2s_xport = {&s_ops};
