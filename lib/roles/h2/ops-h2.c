/*
 * The HTTP/2 role of a connection: the nghttp2 server session that reads
 * frames from the conn's input and writes frames into its output queue,
 * the session limits and the checks nghttp2 leaves to us (reset floods),
 * and the connection's life: idle timeout, graceful GOAWAY on drain,
 * close. Requests are streams (stream.c); frames are made only while the
 * conn's queued output is under KITE__H2_OUT_HIGH, and the rest waits
 * for it to drain, so a slow reader holds a bounded amount of memory.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "roles/h2/private-h2.h"

/* Rapid reset (CVE-2023-44487): more peer resets than this in a window
 * end the connection with GOAWAY ENHANCE_YOUR_CALM. */
#define RESET_MAX    200
#define RESET_WIN_MS 1000

static kite__h2_t *h2_of(kite_conn_t *c)
{
    return c->rd;
}

static ssize_t on_send(nghttp2_session *session, const uint8_t *data, size_t length, int flags,
                       void *user)
{
    kite__h2_t *h2 = user;

    (void)session;
    (void)flags;
    if (h2->c->out_bytes >= KITE__H2_OUT_HIGH)
        return NGHTTP2_ERR_WOULDBLOCK;
    if (kite__out_append(h2->c, data, length) < 0)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    return (ssize_t)length;
}

static kite__h2s_t *stream_of(nghttp2_session *session, int32_t id)
{
    return nghttp2_session_get_stream_user_data(session, id);
}

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *user)
{
    kite__h2_t *h2 = user;
    kite__h2s_t *s;

    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    if (h2->draining)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    s = kite__h2s_new(h2, frame->hd.stream_id);
    if (!s)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, s);
    return 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *user)
{
    kite__h2s_t *s = stream_of(session, frame->hd.stream_id);

    (void)flags;
    (void)user;
    if (!s || frame->hd.type != NGHTTP2_HEADERS)
        return 0;
    /* Trailers are not passed on (as h1 drops chunked trailers). */
    if (s->sflags & H2S_DISPATCHED)
        return 0;
    if (kite__h2s_header(s, name, namelen, value, valuelen) < 0)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    return 0;
}

/* Rapid reset: streams opened and reset at once cost us work each, and
 * never count against the concurrency limit. */
static void count_reset(kite__h2_t *h2)
{
    uint64_t now = kite__pt_now(h2->c->pt);

    if (now - h2->reset_win > RESET_WIN_MS) {
        h2->reset_win = now;
        h2->resets = 0;
    }
    if (++h2->resets == RESET_MAX + 1) {
        kite_notice("h2: more than %d stream resets in %d ms, closing", RESET_MAX, RESET_WIN_MS);
        nghttp2_session_terminate_session(h2->s, NGHTTP2_ENHANCE_YOUR_CALM);
    }
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user)
{
    kite__h2s_t *s;
    int end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;

    switch (frame->hd.type) {
    case NGHTTP2_RST_STREAM:
        count_reset(user);
        break;
    case NGHTTP2_SETTINGS:
        if (frame->hd.flags & NGHTTP2_FLAG_ACK)
            kite_timer_cancel(&((kite__h2_t *)user)->settings_timer);
        break;
    case NGHTTP2_HEADERS:
        s = stream_of(session, frame->hd.stream_id);
        if (!s)
            return 0;
        if (!(s->sflags & H2S_DISPATCHED)) {
            if (kite__h2s_request(s, end) < 0)
                return NGHTTP2_ERR_CALLBACK_FAILURE;
        } else if (end) {
            kite__h2s_remote_end(s);
        }
        break;
    case NGHTTP2_DATA:
        s = stream_of(session, frame->hd.stream_id);
        if (s && end)
            kite__h2s_remote_end(s);
        break;
    }
    return 0;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t id, const uint8_t *data,
                         size_t len, void *user)
{
    kite__h2s_t *s = stream_of(session, id);

    (void)flags;
    (void)user;
    if (!s) {
        /* A stream we reset or never took: its bytes still count. */
        nghttp2_session_consume(session, id, len);
        return 0;
    }
    return kite__h2s_data(s, data, len) < 0 ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;
}

static int on_stream_close(nghttp2_session *session, int32_t id, uint32_t error_code, void *user)
{
    kite__h2s_t *s = stream_of(session, id);

    (void)user;
    if (s) {
        nghttp2_session_set_stream_user_data(session, id, NULL);
        kite__h2s_ended(s, error_code);
    }
    return 0;
}

static int on_frame_send(nghttp2_session *session, const nghttp2_frame *frame, void *user)
{
    kite__h2s_t *s;

    (void)user;
    if (frame->hd.type != NGHTTP2_DATA && frame->hd.type != NGHTTP2_HEADERS)
        return 0;
    if (!(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
        return 0;
    s = stream_of(session, frame->hd.stream_id);
    /* The response is complete while the request body is still coming:
     * ask the peer to stop sending it (RFC 9113 8.1). */
    if (s && !(s->sflags & H2S_REMOTE_END))
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
                                  NGHTTP2_NO_ERROR);
    return 0;
}

static int on_invalid_frame(nghttp2_session *session, const nghttp2_frame *frame, int err,
                            void *user)
{
    (void)session;
    (void)user;
    kite_debug("h2: invalid frame type %d on stream %d: %s", frame->hd.type, frame->hd.stream_id,
               nghttp2_strerror(err));
    return 0;
}

static pthread_once_t cbs_once = PTHREAD_ONCE_INIT;
static nghttp2_session_callbacks *cbs;
static nghttp2_option *opts;

static void cbs_init(void)
{
    if (nghttp2_session_callbacks_new(&cbs) || nghttp2_option_new(&opts)) {
        cbs = NULL;
        return;
    }
    nghttp2_session_callbacks_set_send_callback(cbs, on_send);
    nghttp2_session_callbacks_set_send_data_callback(cbs, kite__h2s_send_data);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
    nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cbs, on_invalid_frame);
    nghttp2_session_callbacks_set_on_frame_send_callback(cbs, on_frame_send);
    /* Window updates follow what reached the handler, not what arrived. */
    nghttp2_option_set_no_auto_window_update(opts, 1);
    /* Bounded queues of control frames (ping and settings floods), few
     * CONTINUATIONs per header block, a small HPACK table to encode with. */
    nghttp2_option_set_max_outbound_ack(opts, 1000);
    nghttp2_option_set_max_settings(opts, 32);
    nghttp2_option_set_max_continuations(opts, 8);
    nghttp2_option_set_max_deflate_dynamic_table_size(opts, 4096);
    nghttp2_option_set_stream_reset_rate_limit(opts, RESET_MAX, RESET_MAX);
}

/* RFC 9113 6.5.3: a peer that does not acknowledge our SETTINGS in time. */
static void settings_timeout(kite_conn_t *c, kite_timer_t *t)
{
    kite__h2_t *h2 = c->rd;

    (void)t;
    kite_notice("h2: SETTINGS not acknowledged in time, closing");
    nghttp2_session_terminate_session(h2->s, NGHTTP2_SETTINGS_TIMEOUT);
    kite__h2_pump(h2);
    kite_close(c, 0, NULL);
}

int kite__h2_start(kite_conn_t *c, char *buf, size_t len)
{
    const kite_context_info_t *ci = &c->pt->ctx->info;
    nghttp2_settings_entry iv[5];
    kite__h2_t *h2;

    pthread_once(&cbs_once, cbs_init);
    if (!cbs || !(h2 = calloc(1, sizeof(*h2))))
        return KITE_ENOMEM;
    h2->c = c;
    if (nghttp2_session_server_new2(&h2->s, cbs, h2, opts)) {
        free(h2);
        return KITE_ENOMEM;
    }
    iv[0] = (nghttp2_settings_entry){NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, ci->h2_max_streams};
    iv[1] = (nghttp2_settings_entry){NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, ci->h2_window};
    iv[2] =
        (nghttp2_settings_entry){NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, ci->max_header_size * 2};
    iv[3] = (nghttp2_settings_entry){NGHTTP2_SETTINGS_ENABLE_PUSH, 0};
    /* RFC 8441: websockets over streams (extended CONNECT). */
    iv[4] = (nghttp2_settings_entry){NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1};
    if (nghttp2_submit_settings(h2->s, NGHTTP2_FLAG_NONE, iv, 5) ||
        nghttp2_session_set_local_window_size(h2->s, NGHTTP2_FLAG_NONE, 0,
                                              ci->h2_window > 0x1fffffff ? 0x7fffffff
                                                                         : 4 * ci->h2_window)) {
        nghttp2_session_del(h2->s);
        free(h2);
        return KITE_ENOMEM;
    }
    c->role = &kite__role_h2;
    c->rd = h2;
    c->state = 0;
    kite_timer_schedule(c, &h2->settings_timer, ci->h2_settings_timeout * 1000000ull,
                        settings_timeout);
    kite__conn_set_state_timeout(c, c->vh->keepalive_ms);
    kite_callback_on_writable(c);
    if (len)
        return c->role->on_data(c, buf, len);
    return 0;
}

/* The conn has nothing left to do: close it once the output is sent. */
static void maybe_close(kite__h2_t *h2)
{
    if (nghttp2_session_want_read(h2->s) || nghttp2_session_want_write(h2->s))
        return;
    kite_close(h2->c, 0, NULL);
}

void kite__h2_pump(kite__h2_t *h2)
{
    kite_conn_t *c = h2->c;
    int r;

    if (c->flags & (KITE__C_CLOSED | KITE__C_ABORT))
        return;
    /* Not from inside nghttp2: after its callbacks return. */
    if (h2->in_recv || h2->in_send || c->out_bytes >= KITE__H2_OUT_HIGH) {
        kite_callback_on_writable(c);
        return;
    }
    h2->in_send = 1;
    r = nghttp2_session_send(h2->s);
    h2->in_send = 0;
    if (r) {
        kite_debug("h2: send: %s", nghttp2_strerror(r));
        kite__conn_close_now(c, KITE_CLOSE_WRITE);
        return;
    }
    /* Frames are waiting for the output to drain. */
    if (nghttp2_session_want_write(h2->s) && c->out_bytes >= KITE__H2_OUT_HIGH)
        kite_callback_on_writable(c);
    if (!h2->nstreams && h2->draining)
        nghttp2_session_terminate_session(h2->s, NGHTTP2_NO_ERROR);
    maybe_close(h2);
}

void kite__h2_want_send(kite__h2_t *h2)
{
    kite_callback_on_writable(h2->c);
}

static int on_data(kite_conn_t *c, char *buf, size_t len)
{
    kite__h2_t *h2 = h2_of(c);
    ssize_t r;

    kite__h2s_reap(h2);
    h2->in_recv = 1;
    r = nghttp2_session_mem_recv(h2->s, (const uint8_t *)buf, len);
    h2->in_recv = 0;
    if (r < 0) {
        kite_debug("h2: %s", nghttp2_strerror((int)r));
        /* Floods and too many CONTINUATIONs come back as errors without a
         * GOAWAY queued: say why, then close (after what is queued). */
        if (r == NGHTTP2_ERR_FLOODED || r == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS)
            nghttp2_session_terminate_session(h2->s, NGHTTP2_ENHANCE_YOUR_CALM);
        else if (r != NGHTTP2_ERR_BAD_CLIENT_MAGIC && r != NGHTTP2_ERR_NOMEM)
            nghttp2_session_terminate_session(h2->s, NGHTTP2_PROTOCOL_ERROR);
        if (c->out_bytes < KITE__H2_OUT_HIGH)
            nghttp2_session_send(h2->s);
        kite_close(c, 0, NULL);
        return 0;
    }
    if (!h2->nstreams)
        kite__conn_set_state_timeout(c, c->vh->keepalive_ms);
    else
        kite__conn_set_state_timeout(c, 0);
    kite__h2_pump(h2);
    return 0;
}

static void on_eof(kite_conn_t *c, int status)
{
    (void)status;
    kite_close(c, 0, NULL);
}

static int on_writeable(kite_conn_t *c)
{
    /* A pass of the loop: no stream handler is on the stack. */
    kite__h2s_reap(h2_of(c));
    kite__h2_pump(h2_of(c));
    return 0;
}

static void on_drain(kite_conn_t *c)
{
    kite__h2_t *h2 = h2_of(c);

    if (!h2)
        return;
    if (!h2->nstreams)
        kite__conn_set_state_timeout(c, c->vh->keepalive_ms);
    else
        kite__conn_set_state_timeout(c, 0);
    if (nghttp2_session_want_write(h2->s))
        kite_callback_on_writable(c);
}

static int on_timeout(kite_conn_t *c)
{
    kite__h2_t *h2 = h2_of(c);

    /* Idle: say goodbye properly, then close (bounded by the flush). */
    if (!h2->nstreams && !(c->flags & KITE__C_CLOSING)) {
        nghttp2_session_terminate_session(h2->s, NGHTTP2_NO_ERROR);
        nghttp2_session_send(h2->s);
        kite_close(c, 0, NULL);
        kite__conn_set_state_timeout(c, KITE__ANSWER_GRACE_MS);
        return 0;
    }
    return -1;
}

static void on_close(kite_conn_t *c, int reason)
{
    kite__h2_t *h2 = h2_of(c);
    kite__h2s_t *s;

    if (!h2)
        return;
    /* Streams go first (each moves itself to the dead list). One inside a
     * handler now finishes when that returns, and frees itself. */
    h2->closing = 1;
    while ((s = h2->streams)) {
        if (s->c.flags & KITE__C_IN_SVC) {
            h2->streams = s->next;
            s->next = NULL;
            s->h2 = NULL;
        }
        kite__conn_close_now(&s->c, reason ? (kite_close_reason_t)reason : KITE_CLOSE_UNFINISHED);
    }
    kite__h2s_reap(h2);
    nghttp2_session_del(h2->s);
    free(h2);
    c->rd = NULL;
}

static void h2_drain(kite_conn_t *c)
{
    kite__h2_t *h2 = h2_of(c);

    /* Streams already opened are served; new ones are refused. */
    h2->draining = 1;
    nghttp2_submit_goaway(h2->s, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(h2->s),
                          NGHTTP2_NO_ERROR, NULL, 0);
    kite__h2_want_send(h2);
}

static int h2_start(kite_conn_t *c, char *buf, size_t len, const void *arg)
{
    (void)arg;
    return kite__h2_start(c, buf, len);
}

const struct kite__role_ops kite__role_h2 = {
    .name = "h2",
    .on_data = on_data,
    .on_eof = on_eof,
    .on_writeable = on_writeable,
    .on_drain = on_drain,
    .on_timeout = on_timeout,
    .on_close = on_close,
    .drain = h2_drain,
    .alpn = "h2",
    .start = h2_start,
    .traits = KITE__ROLE_RETIRE,
};
