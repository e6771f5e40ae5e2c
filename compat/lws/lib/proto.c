/*
 * The trampolines: each lws protocol is served by a kite_protocol_t whose
 * named callbacks find the connection's struct lws (at the start of
 * kite's per-session memory) and call the lws reason callback with the
 * reason lws would use. Receive pieces are cut to the protocol's
 * rx_buffer_size; a piece stopped by lws_rx_flow_control() is kept and
 * handed on when reading is allowed again.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "private.h"

__thread struct lws_vhost *lwsk_creating;

static int on_vhost_init(kite_vhost_t *kv, const kite_pvo_t *pvo, void **vhd);

int lwsk_is_tramp(const kite_protocol_t *p)
{
    return p && p->on_vhost_init == on_vhost_init;
}

void lwsk_fake_wsi(struct lws *w, struct lws_vhost *vh, const lwsk_tramp_t *t)
{
    memset(w, 0, sizeof(*w));
    w->vh = vh;
    w->t = t;
    w->file_fd = -1;
}

struct lws *lwsk_wsi(kite_conn_t *c, void *user)
{
    struct lws *w = user;

    if (!w->c) {
        const lwsk_tramp_t *t = (const lwsk_tramp_t *)kite_conn_protocol(c);
        lwsk_vpr_t *vpr = kite_vhost_protocol_data(kite_conn_vhost(c), &t->kp);

        w->c = c;
        w->t = t;
        w->vh = vpr ? vpr->vh : NULL;
        w->file_fd = -1;
        if (!w->user && t->lp->per_session_data_size)
            w->user = (char *)w + LWSK_ALIGN(sizeof(*w));
    }
    return w;
}

int lwsk_call(struct lws *w, enum lws_callback_reasons r, void *in, size_t len)
{
    return w->t->lp->callback(w, r, w->user, in, len);
}

/* A nonzero callback return closes; with lws_close_reason() set, with it. */
static int ret(struct lws *w, int r)
{
    if (r && w->close_code && w->c) {
        kite_close(w->c, w->close_code, w->close_len ? (const char *)w->close_reason : NULL);
        return 0;
    }
    return r ? 1 : 0;
}

static int on_vhost_init(kite_vhost_t *kv, const kite_pvo_t *pvo, void **vhd)
{
    const lwsk_tramp_t *t = NULL;
    const kite_protocol_t *p;
    struct lws_vhost *vh;
    lwsk_vpr_t *vpr, **nv;
    struct lws w;
    int i;

    lwsk_registry_lock();
    vh = lwsk_creating ? lwsk_creating : lwsk_vhost_for(kv);
    if (vh)
        vh->kv = kv;
    lwsk_registry_unlock();
    if (!vh)
        return -1;
    /* kite initialises the protocols in order and each of ours sets its
     * vhd: the first of ours without one is the one being initialised. */
    for (i = 0; (p = kite_vhost_protocol_at(kv, i)); i++)
        if (p->on_vhost_init == on_vhost_init && !kite_vhost_protocol_data(kv, p)) {
            t = (const lwsk_tramp_t *)p;
            break;
        }
    if (!t)
        return -1;
    vpr = calloc(1, sizeof(*vpr));
    nv = realloc(vh->vpr, (size_t)(vh->nvpr + 1) * sizeof(*nv));
    if (!vpr || !nv) {
        free(vpr);
        if (nv)
            vh->vpr = nv;
        return -1;
    }
    vh->vpr = nv;
    vpr->vh = vh;
    vpr->t = t;
    nv[vh->nvpr++] = vpr;
    *vhd = vpr;
    if (vh->cx && (vh->cx->options & LWS_SERVER_OPTION_SKIP_PROTOCOL_INIT))
        return 0;
    lwsk_fake_wsi(&w, vh, t);
    return t->lp->callback(&w, LWS_CALLBACK_PROTOCOL_INIT, NULL, (void *)pvo, 0) ? -1 : 0;
}

static void on_vhost_destroy(kite_vhost_t *kv, void *vhd)
{
    lwsk_vpr_t *vpr = vhd;
    struct lws w;

    if (!vpr)
        return;
    lwsk_fake_wsi(&w, vpr->vh, vpr->t);
    vpr->t->lp->callback(&w, LWS_CALLBACK_PROTOCOL_DESTROY, NULL, NULL, 0);
    free(vpr->priv);
    vpr->priv = NULL;
    /* The layer's own vhosts are freed by lws_context_destroy(); those it
     * made for kite's vhosts (kited's plugins) go with their last protocol. */
    if (!vpr->vh->own)
        lwsk_vpr_release(vpr);
}

static int on_filter(kite_conn_t *c, void *user, const kite_http_req_t *req)
{
    struct lws *w = lwsk_wsi(c, user);

    w->role = LWSK_R_WS;
    return lwsk_call(w, LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION, NULL, 0);
}

static int on_established(kite_conn_t *c, void *user)
{
    struct lws *w = lwsk_wsi(c, user);

    if (kite_ws_is_websocket(c)) {
        w->role = LWSK_R_WS;
        return ret(w, lwsk_call(w, LWS_CALLBACK_ESTABLISHED, NULL, 0));
    }
    if (!w->role)
        w->role = LWSK_R_RAW;
    return ret(w, lwsk_call(w, LWS_CALLBACK_RAW_ADOPT, NULL, 0));
}

/* Hand @in on in pieces of at most rx_buffer_size; keep the rest when the
 * callback stopped reading. */
static int deliver(struct lws *w, const unsigned char *in, size_t len, unsigned flags)
{
    size_t max = w->t->lp->rx_buffer_size ? w->t->lp->rx_buffer_size : 4096, off = 0, n;
    int reason = w->role == LWSK_R_CLIENT_WS ? LWS_CALLBACK_CLIENT_RECEIVE : LWS_CALLBACK_RECEIVE;
    int r;

    do {
        n = len - off < max ? len - off : max;
        w->rx_first = (flags & KITE_RX_FIRST) && !off;
        w->rx_final = (flags & KITE_RX_FINAL) && off + n == len;
        w->rx_binary = !!(flags & KITE_RX_BINARY);
        w->rx_remaining = len - off - n;
        r = lwsk_call(w, reason, (void *)(in + off), n);
        if (r)
            return ret(w, r);
        off += n;
        if (w->rx_paused && off < len) {
            unsigned char *h = malloc(len - off);
            if (!h)
                return 1;
            memcpy(h, in + off, len - off);
            w->held = h;
            w->held_len = len - off;
            w->held_off = 0;
            w->held_flags = flags & ~(unsigned)KITE_RX_FIRST;
            return 0;
        }
    } while (off < len);
    return 0;
}

static void held_cb(kite_conn_t *c, kite_timer_t *t)
{
    struct lws *w = lws_container_of(t, struct lws, rx_timer);
    unsigned char *h = w->held;
    size_t len = w->held_len;

    if (!h || w->rx_paused)
        return;
    w->held = NULL;
    if (deliver(w, h, len, w->held_flags))
        kite_close(c, KITE_WS_CLOSE_UNEXPECTED, NULL);
    free(h);
    if (!w->held && !w->rx_paused)
        kite_rx_flow_control(c, 1);
}

int lws_rx_flow_control(struct lws *w, int enable)
{
    if (!w || !w->c)
        return -1;
    w->rx_paused = !(enable & 1);
    if (w->rx_paused)
        return kite_rx_flow_control(w->c, 0) < 0 ? -1 : 0;
    if (w->held)
        return kite_timer_schedule(w->c, &w->rx_timer, 0, held_cb) < 0 ? -1 : 0;
    return kite_rx_flow_control(w->c, 1) < 0 ? -1 : 0;
}

static int on_receive(kite_conn_t *c, void *user, const void *in, size_t len, unsigned flags)
{
    return deliver(lwsk_wsi(c, user), in, len, flags);
}

static int on_writeable(kite_conn_t *c, void *user)
{
    struct lws *w = lwsk_wsi(c, user);
    int reason;

    switch (w->role) {
    case LWSK_R_HTTP:
        if (w->file_fd >= 0)
            return lwsk_serve_file_step(w);
        reason = LWS_CALLBACK_HTTP_WRITEABLE;
        break;
    case LWSK_R_RAW:
    case LWSK_R_CLIENT_RAW:
        reason = LWS_CALLBACK_RAW_WRITEABLE;
        break;
    case LWSK_R_CLIENT_WS:
        reason = LWS_CALLBACK_CLIENT_WRITEABLE;
        break;
    case LWSK_R_CLIENT_HTTP:
        reason = LWS_CALLBACK_CLIENT_HTTP_WRITEABLE;
        break;
    default:
        reason = LWS_CALLBACK_SERVER_WRITEABLE;
    }
    return ret(w, lwsk_call(w, reason, NULL, 0));
}

static void on_closed(kite_conn_t *c, void *user, int code)
{
    struct lws *w = lwsk_wsi(c, user);

    switch (w->role) {
    case LWSK_R_HTTP:
        if (w->file_fd >= 0)
            close(w->file_fd);
        w->file_fd = -1;
        lwsk_call(w, LWS_CALLBACK_HTTP_DROP_PROTOCOL, NULL, 0);
        if (code != KITE_CLOSE_NORMAL)
            lwsk_call(w, LWS_CALLBACK_CLOSED_HTTP, NULL, 0);
        break;
    case LWSK_R_RAW:
    case LWSK_R_CLIENT_RAW:
        lwsk_call(w, LWS_CALLBACK_RAW_CLOSE, NULL, 0);
        break;
    case LWSK_R_CLIENT_WS:
        lwsk_call(w, LWS_CALLBACK_CLIENT_CLOSED, NULL, 0);
        break;
    case LWSK_R_CLIENT_HTTP:
        lwsk_call(w, LWS_CALLBACK_CLOSED_CLIENT_HTTP, NULL, 0);
        break;
    case LWSK_R_WS:
        lwsk_call(w, LWS_CALLBACK_CLOSED, NULL, 0);
        lwsk_call(w, LWS_CALLBACK_WS_SERVER_DROP_PROTOCOL, NULL, 0);
        break;
    default:
        break;
    }
    free(w->held);
    w->held = NULL;
}

static int on_http(kite_conn_t *c, void *user, const kite_http_req_t *req)
{
    struct lws *w = lwsk_wsi(c, user);
    /* lws 4.1 passes the whole path, mount point included. */
    const char *path = kite_http_path(req);

    w->role = LWSK_R_HTTP;
    return ret(w, lwsk_call(w, LWS_CALLBACK_HTTP, (void *)path, strlen(path)));
}

static int on_http_body(kite_conn_t *c, void *user, const void *in, size_t len)
{
    return ret(user, lwsk_call(lwsk_wsi(c, user), LWS_CALLBACK_HTTP_BODY, (void *)in, len));
}

static int on_http_body_done(kite_conn_t *c, void *user)
{
    return ret(user, lwsk_call(lwsk_wsi(c, user), LWS_CALLBACK_HTTP_BODY_COMPLETION, NULL, 0));
}

static int on_raw(kite_conn_t *c, void *user, const void *in, size_t len)
{
    struct lws *w = lwsk_wsi(c, user);

    if (!w->role)
        w->role = LWSK_R_RAW;
    return ret(w, lwsk_call(w, LWS_CALLBACK_RAW_RX, (void *)in, len));
}

static int on_client_established(kite_conn_t *c, void *user)
{
    struct lws *w = lwsk_wsi(c, user);

    if (w->role == LWSK_R_CLIENT_RAW)
        return ret(w, lwsk_call(w, LWS_CALLBACK_RAW_CONNECTED, NULL, 0));
    if (w->role == LWSK_R_CLIENT_WS) {
        /* lws tells of the 101 as an HTTP response first. */
        w->status = 101;
        if (lwsk_call(w, LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP, NULL, 0))
            return ret(w, 1);
        return ret(w, lwsk_call(w, LWS_CALLBACK_CLIENT_ESTABLISHED, NULL, 0));
    }
    return 0; /* HTTP: lws says ESTABLISHED_CLIENT_HTTP once the response head is in */
}

static void on_client_connection_error(kite_conn_t *c, void *user, const char *reason)
{
    struct lws *w = lwsk_wsi(c, user);

    lwsk_call(w, LWS_CALLBACK_CLIENT_CONNECTION_ERROR, (void *)reason, reason ? strlen(reason) : 0);
}

static int on_client_http_response(kite_conn_t *c, void *user, int status)
{
    return ret(user, lwsk_call(lwsk_wsi(c, user), LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP, NULL, 0));
}

static int on_client_http_body(kite_conn_t *c, void *user, const void *in, size_t len)
{
    struct lws *w = lwsk_wsi(c, user);
    int r;

    w->cbody = in;
    w->cbody_len = len;
    r = lwsk_call(w, LWS_CALLBACK_RECEIVE_CLIENT_HTTP, NULL, 0);
    w->cbody = NULL;
    return ret(w, r);
}

static int on_client_http_done(kite_conn_t *c, void *user)
{
    return ret(user, lwsk_call(lwsk_wsi(c, user), LWS_CALLBACK_COMPLETED_CLIENT_HTTP, NULL, 0));
}

int lws_http_client_read(struct lws *w, char **buf, int *len)
{
    int r;

    if (!w->cbody) {
        *len = 0;
        return 0;
    }
    r = lwsk_call(w, LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ, (void *)w->cbody, w->cbody_len);
    w->cbody = NULL;
    *len = 0;
    return r ? -1 : 0;
}

void lwsk_tramp_init(lwsk_tramp_t *t, const struct lws_protocols *lp)
{
    memset(t, 0, sizeof(*t));
    t->lp = lp;
    t->kp.abi = KITE_PROTOCOL_ABI;
    t->kp.name = lp->name;
    t->kp.per_session_size = LWSK_ALIGN(sizeof(struct lws)) + lp->per_session_data_size;
    t->kp.on_vhost_init = on_vhost_init;
    t->kp.on_vhost_destroy = on_vhost_destroy;
    t->kp.on_filter = on_filter;
    t->kp.on_established = on_established;
    t->kp.on_receive = on_receive;
    t->kp.on_writeable = on_writeable;
    t->kp.on_closed = on_closed;
    t->kp.on_http = on_http;
    t->kp.on_http_body = on_http_body;
    t->kp.on_http_body_done = on_http_body_done;
    t->kp.on_raw = on_raw;
    t->kp.on_client_established = on_client_established;
    t->kp.on_client_connection_error = on_client_connection_error;
    t->kp.on_client_http_response = on_client_http_response;
    t->kp.on_client_http_body = on_client_http_body;
    t->kp.on_client_http_done = on_client_http_done;
}
