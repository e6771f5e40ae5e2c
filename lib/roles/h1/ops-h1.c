/*
 * The HTTP/1.1 role: the per-connection state machine (idle, head, body,
 * waiting for the response, closing), request heads parsed from the
 * thread's read buffer or from the bytes kept from earlier reads, request
 * bodies (Content-Length or chunked) streamed to the handler, pipelining
 * with responses in order, keep-alive and the timeouts of each state.
 * Input that arrives while a response is unfinished is held, and reading
 * stops once more than a head's worth is held.
 */
#include <stdlib.h>
#include <string.h>

#include "core/private.h"
#include "roles/h1/private-h1.h"

/* Stop taking pipelined requests while this much output is queued. */
#define OUTPUT_HIGH (256 * 1024)

static kite__h1_limits_t limits(const kite_conn_t *c)
{
    const kite_context_info_t *i = &c->pt->ctx->info;
    kite__h1_limits_t l = {i->max_header_size, i->max_uri_len, i->max_headers};
    return l;
}

/* request-timeout for a request head: the listen port's first vhost's, as
 * the Host is not known yet (the conn's vhost is its last request's). */
static unsigned head_ms(const kite_conn_t *c)
{
    return c->ls ? c->ls->vhosts[0]->request_ms : c->vh->request_ms;
}

/* Answer a request that could not be parsed (or timed out) and close. */
static void fail_request(kite_conn_t *c, int status)
{
    kite_http_req_t *t = c->rd;

    if (!t) {
        t = kite__http_txn_get(c->pt);
        if (!t) {
            kite__conn_close_now(c, KITE_CLOSE_SETUP);
            return;
        }
        t->wire = &kite__h1_wire;
        t->p.version = 11;
        t->p.content_length = -1;
        c->rd = t;
    }
    t->tflags &= ~KITE__T_KEEPALIVE;
    c->state = H1_CLOSING;
    /* The peer may still be sending: close only after draining it. */
    kite__conn_want_linger(c);
    if (!(t->tflags & KITE__T_HEAD_SENT))
        kite__http_error(c, t, status, NULL);
    else
        kite_close(c, 0, NULL);
}

/* ip-limit-ah: a connection holds a slot of its peer while it reads a
 * request head. Returns 0, or <0 when the peer has none left. */
static int ah_take(kite_conn_t *c)
{
    if ((c->rflags & H1_F_AH) || !c->peer)
        return 0;
    if (kite__peer_ah(c, 1) < 0)
        return KITE_EAGAIN;
    c->rflags |= H1_F_AH;
    return 0;
}

static void ah_give(kite_conn_t *c)
{
    if (!(c->rflags & H1_F_AH))
        return;
    c->rflags &= ~H1_F_AH;
    kite__peer_ah(c, 0);
}

void kite__h1_final(kite_conn_t *c, kite_http_req_t *t)
{
    /* After the peer's half-close, requests it pipelined before it are
     * still answered; the connection closes after the last of them. */
    int keep = (t->tflags & KITE__T_KEEPALIVE) && (!(c->flags & KITE__C_EOF) || c->in_len);

    if ((t->tflags & KITE__T_BODY) && !(t->tflags & KITE__T_BODY_DONE)) {
        /* The handler answered before the body was read: read and drop
         * the rest (bounded by the body timeout), or close. */
        if (!keep) {
            kite__conn_want_linger(c);
            c->state = H1_CLOSING;
            kite__http_txn_end(c, KITE_CLOSE_NORMAL);
            kite_close(c, 0, NULL);
        }
        return;
    }
    /* a mount's keepalive-timeout holds until the next answer */
    c->idle_ms = t->mrt && t->mrt->m->keepalive_timeout ? t->mrt->m->keepalive_timeout * 1000u : 0;
    kite__http_txn_end(c, KITE_CLOSE_NORMAL);
    if (!keep) {
        c->state = H1_CLOSING;
        kite_close(c, 0, NULL);
        return;
    }
    c->state = H1_IDLE;
    /* Requests that arrived behind this one wait in c->in; outside the
     * input loop they are picked up when the output drains. */
    if (c->in_len && !(c->rflags & H1_F_PROCESSING))
        c->rflags |= H1_F_HELD;
    kite__conn_set_state_timeout(c, c->idle_ms ? c->idle_ms : c->vh->keepalive_ms);
}

static int start_request(kite_conn_t *c, char *buf, size_t n)
{
    kite__h1_limits_t lim = limits(c);
    kite_http_req_t *t = kite__http_txn_get(c->pt);
    const kite__h1_req_t *p;

    if (!t)
        return KITE_ENOMEM;
    t->wire = &kite__h1_wire;
    c->rd = t;
    t->head = kite__http_txn_copy(t, buf, n);
    if (!t->head)
        return KITE_ENOMEM;
    if (kite__h1_parse_head(t->head, n, &t->p, &lim) < 0) {
        kite_debug("bad request head: %d", t->p.status);
        if (!t->p.version)
            t->p.version = 11;
        fail_request(c, t->p.status ? t->p.status : 400);
        return 0;
    }
    p = &t->p;
    if (((p->version == 11 && !(p->flags & KITE_H1_CONN_CLOSE)) ||
         (p->version == 10 && (p->flags & KITE_H1_CONN_KEEPALIVE))) &&
        !(c->rflags & H1_F_LAST))
        t->tflags |= KITE__T_KEEPALIVE;
    if (p->flags & KITE_H1_CHUNKED) {
        t->tflags |= KITE__T_BODY;
    } else if (p->content_length > 0) {
        t->tflags |= KITE__T_BODY;
        t->body_left = p->content_length;
    }
    if ((c->vh->options & KITE_VH_H2C) && p->upgrade) {
        int u = kite__h2_upgrade(c, t);
        if (u)
            return u < 0 ? u : 0;
    }
    c->state = (t->tflags & KITE__T_BODY) ? H1_BODY : H1_WAIT;
    kite__conn_set_state_timeout(c,
                                 (t->tflags & KITE__T_BODY) ? c->vh->request_ms : kite__send_ms(c));
    if (kite__http_dispatch(c, t) < 0 && !(c->flags & KITE__C_CLOSING))
        return KITE_ECLOSED;
    return 0;
}

/* Feed request body bytes; returns bytes used or <0. */
static ssize_t feed_body(kite_conn_t *c, kite_http_req_t *t, char *buf, size_t len)
{
    size_t used, out = 0;
    int r, done = 0;

    if (t->p.flags & KITE_H1_CHUNKED) {
        r = kite__h1_chunked_decode(&t->chunk, buf, len, &out, &used);
        if (r < 0) {
            fail_request(c, 400);
            return (ssize_t)len;
        }
        done = r == 1;
    } else {
        used = out = len < (size_t)t->body_left ? len : (size_t)t->body_left;
        t->body_left -= (int64_t)used;
        done = t->body_left == 0;
    }
    if (out && kite__http_body(c, t, buf, out) < 0)
        return KITE_ECLOSED;
    /* The body timeout catches a peer that stops sending, not a long
     * upload: each piece starts it again (the head's is for the whole). */
    if (used && !done && c->rd == t && c->state == H1_BODY)
        kite__conn_set_state_timeout(c, c->vh->request_ms);
    if (done) {
        if (kite__http_body_done(c, t) < 0)
            return KITE_ECLOSED;
        if (c->rd == t && (t->tflags & KITE__T_FINAL)) {
            /* Response already queued while the body was being dropped. */
            kite__h1_final(c, t);
        } else if (c->rd == t && c->state == H1_BODY) {
            c->state = H1_WAIT;
            kite__conn_set_state_timeout(c, kite__send_ms(c));
        }
    }
    return (ssize_t)used;
}

/*
 * Fallback to raw: could buf[0..len) start an HTTP request? 1 yes, 0 no,
 * -1 not known yet. A method is upper-case letters then a space; leading
 * empty lines are allowed before it.
 */
/* Bytes looked at before deciding: longer than any method name. */
#define SNIFF_LEN 24

static int looks_http(const char *buf, size_t len)
{
    size_t i = 0;

    while (i < len && (buf[i] == '\r' || buf[i] == '\n'))
        i++;
    for (; i < len && i < SNIFF_LEN; i++) {
        if (buf[i] == ' ')
            return 1;
        if (buf[i] < 'A' || buf[i] > 'Z')
            return 0;
    }
    return i < SNIFF_LEN ? -1 : 0;
}

/* h2c by prior knowledge: does buf[0..len) start with the HTTP/2
 * connection preface? 1 yes, 0 no, -1 not known yet. */
static int h2_preface(const char *buf, size_t len)
{
    static const char pri[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    size_t n = len < sizeof(pri) - 1 ? len : sizeof(pri) - 1;

    if (memcmp(buf, pri, n))
        return 0;
    return n == sizeof(pri) - 1 ? 1 : -1;
}

/* Run the state machine over buf[0..len); keep what is left for later. */
/* What sniff() and scan_head() found. */
enum { GO_ON, HOLD, SWITCHED, FAILED };

/* Before the first request: a prior-knowledge HTTP/2 preface (h2c
 * vhosts), or bytes that cannot be HTTP (fallback-to-raw vhosts), hand the
 * conn to another role, whose result is *r (SWITCHED). HOLD: too few
 * bytes to tell. */
static int sniff(kite_conn_t *c, char *buf, size_t len, int *r)
{
    int h;

    if (c->vh->options & KITE_VH_H2C) {
        if ((h = h2_preface(buf, len)) < 0)
            return HOLD;
        if (h > 0) {
            c->rflags &= ~H1_F_PROCESSING;
            ah_give(c);
            c->scan = 0;
            *r = kite__conn_role_start(c, "h2", buf, len, NULL);
            return SWITCHED;
        }
    }
    if (c->vh->options & KITE_VH_FALLBACK_TO_RAW) {
        if ((h = looks_http(buf, len)) < 0)
            return HOLD;
        if (h == 0) {
            /* Not HTTP: the conn is the raw protocol's, and the bytes
             * read so far are its first. */
            c->rflags &= ~H1_F_PROCESSING;
            ah_give(c);
            if (kite__conn_role_start(c, "raw", NULL, 0, c->vh->raw_proto) < 0)
                *r = KITE_ECLOSED;
            else
                *r = c->role->on_data(c, buf, len);
            return SWITCHED;
        }
    }
    return GO_ON;
}

/* Look for the end of a request head in buf[0..len), resuming the scan
 * where the last read left it: GO_ON with its length in *n, HOLD (not
 * whole yet, or the output is backed up), or FAILED (answered with an
 * error; the rest of the input is dropped). */
static int scan_head(kite_conn_t *c, const char *buf, size_t len, const kite__h1_limits_t *lim,
                     int *n)
{
    size_t scan = c->scan;

    if (c->out_bytes > OUTPUT_HIGH) {
        c->rflags |= H1_F_HELD;
        return HOLD;
    }
    *n = kite__h1_head_end(buf, len, &scan, lim);
    c->scan = (uint32_t)scan;
    if (*n < 0) {
        fail_request(c, -*n);
        return FAILED;
    }
    /* A head that arrived whole holds its slot only for this moment, but
     * is refused all the same when the peer has none left. */
    if (ah_take(c) < 0) {
        fail_request(c, 503);
        return FAILED;
    }
    if (*n == 0) {
        if (c->state == H1_IDLE) {
            c->state = H1_HEAD;
            kite__conn_set_state_timeout(c, head_ms(c));
        }
        return HOLD;
    }
    return GO_ON;
}

/* The input loop: sniffing, request heads, bodies, and the hand-off to
 * the role a request upgraded to; what is not used yet is kept. */
static int process(kite_conn_t *c, char *buf, size_t len)
{
    kite__h1_limits_t lim = limits(c);
    size_t off = 0;
    ssize_t k;
    int n, r = 0;

    c->rflags |= H1_F_PROCESSING;
    while (off < len && !(c->flags & (KITE__C_CLOSING | KITE__C_CLOSED))) {
        switch (c->state) {
        case H1_IDLE:
        case H1_HEAD:
            if (!(c->rflags & H1_F_SERVED) &&
                (c->vh->options & (KITE_VH_H2C | KITE_VH_FALLBACK_TO_RAW))) {
                int s = sniff(c, buf + off, len - off, &r);
                if (s == HOLD)
                    goto hold;
                if (s == SWITCHED)
                    return r;
            }
            switch (scan_head(c, buf + off, len - off, &lim, &n)) {
            case HOLD:
                goto hold;
            case FAILED:
                off = len;
                continue;
            }
            ah_give(c);
            c->scan = 0;
            c->rflags |= H1_F_SERVED;
            r = start_request(c, buf + off, (size_t)n);
            off += (size_t)n;
            if (r < 0)
                goto out;
            if (c->role != &kite__role_h1) {
                /* Upgraded: what follows the request is the new role's. */
                c->rflags &= ~H1_F_PROCESSING;
                if (off < len && !(c->flags & (KITE__C_CLOSING | KITE__C_CLOSED)))
                    return c->role->on_data(c, buf + off, len - off);
                return kite__conn_keep_input(c, buf + off, 0);
            }
            break;
        case H1_BODY:
            k = feed_body(c, c->rd, buf + off, len - off);
            if (k < 0) {
                r = (int)k;
                goto out;
            }
            off += (size_t)k;
            break;
        case H1_WAIT:
            goto hold;
        default:
            off = len; /* closing: input is dropped */
        }
    }
hold:
    /* Keep unprocessed input; a head's worth is enough while we wait. */
    if (kite__conn_keep_input(c, buf + off, len - off) < 0)
        r = KITE_ENOMEM;
    else if (c->in_len > lim.max_head && !(c->flags & KITE__C_CLOSING))
        kite__conn_rx_pause(c, 1);
    /* The peer half-closed and every request it sent has been answered. */
    if (c->state == H1_IDLE && (c->flags & KITE__C_EOF) && !c->in_len && !c->rd)
        kite_close(c, 0, NULL);
out:
    c->rflags &= ~H1_F_PROCESSING;
    return r;
}

/* Go on with held input after a response finished outside the input loop. */
static void resume(kite_conn_t *c)
{
    if ((c->rflags & H1_F_PROCESSING) || (c->flags & (KITE__C_CLOSING | KITE__C_CLOSED)))
        return;
    if (c->state != H1_IDLE && c->state != H1_HEAD)
        return;
    c->rflags &= ~H1_F_HELD;
    if (c->in_len && process(c, c->in, c->in_len) < 0)
        kite__conn_close_now(c, KITE_CLOSE_ERROR);
    if (!(c->flags & (KITE__C_CLOSING | KITE__C_CLOSED)) && c->in_len <= limits(c).max_head)
        kite__conn_rx_pause(c, 0);
}

static int on_data(kite_conn_t *c, char *buf, size_t len)
{
    if (kite__conn_join_input(c, &buf, &len) < 0)
        return KITE_ENOMEM;
    return process(c, buf, len);
}

static void on_eof(kite_conn_t *c, int status)
{
    kite_http_req_t *t = c->rd;

    (void)status;
    if (c->state == H1_WAIT && t)
        return; /* a half-closed client still gets its answers, then the close */
    if (c->state == H1_CLOSING || (c->state == H1_IDLE && c->out_head)) {
        kite_close(c, 0, NULL);
        return;
    }
    kite__conn_close_now(c, KITE_CLOSE_PEER);
}

static int on_writeable(kite_conn_t *c)
{
    kite_http_req_t *t = c->rd;
    const kite_protocol_t *p = c->proto;
    int r = 0;

    if (t && p && p->on_writeable && !(t->tflags & KITE__T_FINAL)) {
        if (c->state == H1_WAIT)
            kite__conn_set_state_timeout(c, kite__send_ms(c));
        r = p->on_writeable(c, c->user) ? KITE_ECLOSED : 0;
    }
    resume(c);
    return r;
}

static void on_drain(kite_conn_t *c)
{
    unsigned in_svc;

    /* The last transaction's per-session memory: its handler is no longer
     * on the stack once the output has drained, and idle conns keep none. */
    if (!c->rd && !c->proto && c->user)
        kite__conn_user_free(c);
    /* Output may have been blocked under the send timeout: back to the
     * timeout of the state we are in. */
    if (c->state == H1_WAIT)
        kite__conn_set_state_timeout(c, kite__send_ms(c));
    else if (c->state == H1_IDLE)
        kite__conn_set_state_timeout(c, c->idle_ms ? c->idle_ms : c->vh->keepalive_ms);
    else if (c->state == H1_HEAD)
        kite__conn_set_state_timeout(c, head_ms(c));
    else if (c->state == H1_BODY)
        kite__conn_set_state_timeout(c, c->vh->request_ms);
    if (!(c->rflags & H1_F_HELD) || (c->rflags & H1_F_PROCESSING))
        return;
    /* We may be inside kite__conn_leave(): mark the conn busy so that a
     * close or a write from the handlers is finished by the caller. */
    in_svc = kite__conn_enter(c);
    resume(c);
    kite__conn_exit_quiet(c, in_svc);
}

static int on_timeout(kite_conn_t *c)
{
    switch (c->state) {
    case H1_HEAD:
    case H1_BODY:
        if (!c->rd || !(((kite_http_req_t *)c->rd)->tflags & KITE__T_HEAD_SENT)) {
            fail_request(c, 408);
            kite__conn_set_state_timeout(c, KITE__ANSWER_GRACE_MS);
            return 0;
        }
        return -1;
    default:
        return -1;
    }
}

static int h1_write(kite_conn_t *c, const void *buf, size_t len, unsigned flags)
{
    int r;

    if (c->flags & (KITE__C_CLOSED | KITE__C_ABORT))
        return KITE_ECLOSED;
    r = kite__http_write(c, buf, len, flags);
    if (r == 0 && (flags & KITE_WRITE_KIND_MASK) == KITE_WRITE_HTTP_FINAL &&
        !(c->flags & KITE__C_IN_SVC))
        resume(c);
    return r;
}

static void on_close(kite_conn_t *c, int reason)
{
    ah_give(c);
    kite__http_txn_end(c, reason ? reason : KITE_CLOSE_UNFINISHED);
}

static void h1_drain(kite_conn_t *c)
{
    kite_http_req_t *t = c->rd;

    /* A request in flight (or whose head is arriving) is answered, with
     * Connection: close; an idle connection closes now. */
    c->rflags |= H1_F_LAST;
    if (t)
        t->tflags &= ~KITE__T_KEEPALIVE;
    else if (c->state == H1_IDLE)
        kite_close(c, 0, NULL);
}

const struct kite__role_ops kite__role_h1 = {
    .name = "h1",
    .on_data = on_data,
    .on_eof = on_eof,
    .on_writeable = on_writeable,
    .on_drain = on_drain,
    .on_timeout = on_timeout,
    .write = h1_write,
    .on_close = on_close,
    .drain = h1_drain,
    .http = 1,
    .alpn = "http/1.1",
    .traits = KITE__ROLE_LINGER | KITE__ROLE_RETIRE,
};
