/*
 * Reverse proxy mounts (origin "http://host:port/path" or "https://..."):
 * each request on the mount becomes a client connection to the upstream
 * (lib/client), and two internal protocols pass what one side says to the
 * other. The request goes up with its hop-by-hop headers removed and
 * X-Forwarded-For/-Proto/-Host added, its body streamed as it arrives;
 * the response comes down the same way. Nothing is buffered whole in
 * either direction: a side whose peer has more than PROXY_HIGH bytes
 * queued stops reading (rx flow control) until the peer has drained.
 * An upstream that cannot be reached gets 502 at once, one that does not
 * answer within the mount's proxy-timeout gets 504. A websocket upgrade
 * is passed up as it is; when the upstream answers 101 both connections
 * become a raw tunnel (frames, extensions and all go through untouched).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/private-client.h"
#include "misc/misc.h"
#include "roles/http/private-http.h"
#include "roles/ws/private-ws.h"

#define PROXY_HIGH        (256 * 1024)
#define PROXY_TIMEOUT_DEF 30

/* The downstream side's session: the request being proxied. */
typedef struct psess {
    kite_conn_t *up; /* the upstream conn, or NULL */
    char *pend;      /* request body read before the upstream was ready */
    size_t pend_len;
    uint8_t ready;       /* the upstream is established */
    uint8_t body_done;   /* the whole request body was read before that */
    uint8_t head_sent;   /* the response head went down */
    uint8_t complete;    /* the whole response went down */
    uint8_t tunnel;      /* both sides are a raw tunnel now */
    uint8_t paused_down; /* we stopped reading the downstream client */
    uint8_t paused_up;   /* we stopped reading the upstream */
} psess_t;

/* The upstream side's session. */
typedef struct usess {
    kite_conn_t *down; /* the downstream conn, or NULL once it has gone */
} usess_t;

static const kite_protocol_t proxy_up_proto;
const kite_protocol_t kite__proxy_proto;

static psess_t *down_sess(kite_conn_t *up)
{
    usess_t *u = up->user;

    return u && u->down ? u->down->user : NULL;
}

/* Headers that belong to one connection, not to the message (RFC 9110 7.6.1). */
static int hop_by_hop(const char *name, const char *connection)
{
    static const char *const hop[] = {"connection",
                                      "keep-alive",
                                      "proxy-connection",
                                      "te",
                                      "trailer",
                                      "transfer-encoding",
                                      "upgrade",
                                      "host",
                                      "content-length",
                                      "proxy-authenticate",
                                      "proxy-authorization",
                                      "expect"};
    size_t i, n = strlen(name);
    const char *p;

    for (i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
        if (strlen(hop[i]) == n && !kite__strncasecmp(name, hop[i], n))
            return 1;
    /* And those the Connection header names. */
    for (p = connection; p && *p;) {
        size_t k;
        p += strspn(p, " \t,");
        k = strcspn(p, " \t,");
        if (k == n && !kite__strncasecmp(p, name, n))
            return 1;
        p += k;
    }
    return 0;
}

static int grow_put(char **b, size_t *len, size_t *cap, const char *s1, const char *s2)
{
    size_t n1 = strlen(s1), n2 = strlen(s2), need = *len + n1 + n2 + 5;
    char *nb;

    if (need > *cap) {
        size_t c = *cap ? *cap * 2 : 1024;
        while (c < need)
            c *= 2;
        if (!(nb = realloc(*b, c)))
            return KITE_ENOMEM;
        *b = nb;
        *cap = c;
    }
    *len += (size_t)sprintf(*b + *len, "%s: %s\r\n", s1, s2);
    return 0;
}

/* The request headers to send up: end-to-end ones, the upgrade's, and
 * X-Forwarded-*. NULL when out of memory. */
static char *up_headers(kite_conn_t *c, const kite_http_req_t *t, int upgrade)
{
    const char *conn = kite_http_header(t, "Connection"), *name, *value, *xff;
    char *b = NULL, peer[64] = "unknown", fwd[512];
    size_t len = 0, cap = 0;
    int i, r = 0;

    for (i = 0; !r && kite_http_header_at(t, i, &name, &value) == 0; i++)
        if (!hop_by_hop(name, conn) && kite__strncasecmp(name, "x-forwarded-for", 16))
            r = grow_put(&b, &len, &cap, name, value);
    if (!r && upgrade)
        r = grow_put(&b, &len, &cap, "Upgrade", kite_http_header(t, "Upgrade"));
    kite_conn_peer(c, peer, sizeof(peer), NULL);
    xff = kite_http_header(t, "X-Forwarded-For");
    snprintf(fwd, sizeof(fwd), "%s%s%s", xff ? xff : "", xff ? ", " : "", peer);
    if (!r)
        r = grow_put(&b, &len, &cap, "X-Forwarded-For", fwd);
    if (!r)
        r = grow_put(&b, &len, &cap, "X-Forwarded-Proto",
                     c->xp != &kite__xport_tcp ? "https" : "http");
    if (!r && t->p.host)
        r = grow_put(&b, &len, &cap, "X-Forwarded-Host", t->p.host);
    if (r || !b) {
        free(b);
        return NULL;
    }
    return b;
}

/* The upstream request target: the origin's path, then what follows the
 * mountpoint in the request as it was sent, then the query. */
static char *up_target(const kite_http_req_t *t, const kite__mount_rt_t *m, const char *opath)
{
    const char *raw = t->p.path, *rest;
    size_t ol = strlen(opath), n, rl;
    char *s;

    /* The path as sent (not decoded) when it starts with the mountpoint. */
    if (t->p.path_len >= m->mp_len && !strncmp(raw, m->m->mountpoint, m->mp_len)) {
        rest = raw + m->mp_len;
        rl = t->p.path_len - m->mp_len;
    } else {
        rest = t->mount_path;
        rl = strlen(rest);
    }
    if (ol && opath[ol - 1] == '/' && rl && *rest == '/') {
        rest++;
        rl--;
    }
    n = ol + rl + (t->p.query ? strlen(t->p.query) + 1 : 0) + 2;
    if (!(s = malloc(n)))
        return NULL;
    snprintf(s, n, "%s%s%.*s%s", ol ? opath : "", ol || (rl && *rest == '/') ? "" : "/", (int)rl,
             rest, t->p.query ? "?" : "");
    if (t->p.query)
        strcat(s, t->p.query);
    if (!*s)
        strcpy(s, "/");
    return s;
}

/* Split the origin "host[:port][/path]" into @host (NUL-terminated, no
 * brackets), *port and *path. 0 or KITE_EINVAL. */
static int split_origin(const char *origin, char *host, size_t cap, int *port, const char **path)
{
    const char *p = origin, *end;
    size_t n;

    *path = strchr(origin, '/') ? strchr(origin, '/') : "";
    if (*p == '[') {
        end = strchr(p, ']');
        if (!end)
            return KITE_EINVAL;
        n = (size_t)(end - p - 1);
        p++;
        end++;
    } else {
        n = strcspn(p, ":/");
        end = p + n;
    }
    if (!n || n >= cap)
        return KITE_EINVAL;
    memcpy(host, p, n);
    host[n] = '\0';
    *port = *end == ':' ? atoi(end + 1) : 0;
    return 0;
}

static void resume_down(kite_conn_t *down, psess_t *s)
{
    if (s->paused_down) {
        s->paused_down = 0;
        kite_rx_flow_control(down, 1);
    }
}

/* An answer of our own: the upstream could not be had. */
static void answer_error(kite_conn_t *down, psess_t *s, int status)
{
    if (s->head_sent) {
        if (!s->complete)
            kite__http_abort(down, down->rd, KITE_CLOSE_ERROR);
        else
            kite_close(down, 0, NULL);
        return;
    }
    s->head_sent = s->complete = 1;
    kite_http_send_status(down, status, NULL);
    /* The rest of the request body is read and dropped. */
    resume_down(down, s);
}

static int write_up(kite_conn_t *down, psess_t *s, const void *in, size_t len, unsigned kind)
{
    if (kite_write(s->up, in, len, kind) < 0)
        return -1;
    if (kite_conn_pending(s->up) > PROXY_HIGH && !s->paused_down) {
        s->paused_down = 1;
        kite_rx_flow_control(down, 0);
        kite_callback_on_writable(s->up);
    }
    return 0;
}

static int write_down(kite_conn_t *up, psess_t *s, kite_conn_t *down, const void *in, size_t len,
                      unsigned kind)
{
    if (kite_write(down, in, len, kind) < 0)
        return -1;
    if (kite_conn_pending(down) > PROXY_HIGH && !s->paused_up) {
        s->paused_up = 1;
        kite_rx_flow_control(up, 0);
        kite_callback_on_writable(down);
    }
    return 0;
}

/* --- the downstream side ------------------------------------------------ */

int kite__proxy_serve(kite_conn_t *c, kite_http_req_t *t, const kite__mount_rt_t *m)
{
    (void)m;
    if (kite__ws_is_upgrade(t) && (t->p.method_id != KITE_HTTP_GET || t->p.version < 11))
        return kite__http_error(c, t, 400, "websocket upgrade needs GET over HTTP/1.1");
    /* The tunnel hands the conn's socket to the websocket's bytes, which
     * an HTTP/2 stream (RFC 8441) does not have. */
    if (kite__ws_is_upgrade(t) && !t->wire->raw_ok)
        return kite__http_error(c, t, 501, "websockets are not proxied over HTTP/2");
    return kite__http_callback(c, t, &kite__proxy_proto);
}

static int on_http(kite_conn_t *c, void *user, const kite_http_req_t *req)
{
    psess_t *s = user;
    kite_http_req_t *t = c->rd;
    const kite__mount_rt_t *m = t->mrt;
    kite_client_info_t ci = KITE_CLIENT_INFO_INIT();
    const char *opath, *ca = kite_http_mount_option(req, "proxy-ca");
    const char *insecure = kite_http_mount_option(req, "proxy-insecure");
    char host[256], *headers, *target;
    int upgrade = kite__ws_is_upgrade(t), err;
    usess_t *u;

    if (split_origin(m->origin, host, sizeof(host), &ci.port, &opath) < 0)
        return kite__http_error(c, t, 502, NULL) < 0;
    headers = up_headers(c, t, upgrade);
    target = up_target(t, m, opath);
    ci.vhost = c->vh;
    ci.address = host;
    ci.path = target;
    ci.method = kite_http_method(req);
    ci.headers = headers;
    ci.parent = c;
    ci.tls_ca = ca;
    ci.flags = m->type == KITE_MOUNT_PROXY_HTTPS ? KITE_CLIENT_TLS : 0;
    if (insecure && *insecure == '1')
        ci.flags |= KITE_CLIENT_INSECURE;
    ci.connect_timeout_ms = (m->m->proxy_timeout ? m->m->proxy_timeout : PROXY_TIMEOUT_DEF) * 1000u;
    ci.content_length = (t->p.flags & KITE_H1_CHUNKED) ? -1
                        : t->p.content_length > 0      ? t->p.content_length
                                                       : 0;
    if (!headers || !target)
        s->up = NULL;
    else
        s->up = kite__client_connect(c->pt->ctx, &ci, &proxy_up_proto, &err);
    free(headers);
    free(target);
    if (!s->up) {
        kite_notice("proxy %s: cannot start the upstream connection", m->origin);
        answer_error(c, s, 502);
        return 0;
    }
    u = s->up->user;
    u->down = c;
    if (upgrade)
        kite__client_of(s->up)->tunnel = 1;
    /* The body waits for the upstream (what one read already holds is kept). */
    if (t->tflags & KITE__T_BODY) {
        s->paused_down = 1;
        kite_rx_flow_control(c, 0);
    }
    return 0;
}

static int on_http_body(kite_conn_t *c, void *user, const void *in, size_t len)
{
    psess_t *s = user;
    char *p;

    if (!s->up || s->complete)
        return 0;
    if (s->ready)
        return write_up(c, s, in, len, KITE_WRITE_HTTP);
    if (!(p = realloc(s->pend, s->pend_len + len)))
        return -1;
    memcpy(p + s->pend_len, in, len);
    s->pend = p;
    s->pend_len += len;
    return 0;
}

static int on_http_body_done(kite_conn_t *c, void *user)
{
    psess_t *s = user;

    (void)c;
    if (!s->up || s->complete)
        return 0;
    if (!s->ready) {
        s->body_done = 1;
        return 0;
    }
    return kite_write(s->up, NULL, 0, KITE_WRITE_HTTP_FINAL) < 0;
}

/* The downstream client has taken what was queued: read the upstream again. */
static int on_writeable(kite_conn_t *c, void *user)
{
    psess_t *s = user;

    (void)c;
    if (s->up && s->paused_up) {
        s->paused_up = 0;
        kite_rx_flow_control(s->up, 1);
    }
    return 0;
}

static int on_raw(kite_conn_t *c, void *user, const void *in, size_t len)
{
    psess_t *s = user;

    if (!s->up)
        return -1;
    return write_up(c, s, in, len, KITE_WRITE_RAW);
}

static void on_closed(kite_conn_t *c, void *user, int code)
{
    psess_t *s = user;

    (void)c;
    (void)code;
    if (s->up) {
        usess_t *u = s->up->user;
        u->down = NULL;
        kite_close(s->up, 0, NULL);
        s->up = NULL;
    }
    free(s->pend);
    s->pend = NULL;
}

const kite_protocol_t kite__proxy_proto = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "kite-proxy",
    .per_session_size = sizeof(psess_t),
    .on_http = on_http,
    .on_http_body = on_http_body,
    .on_http_body_done = on_http_body_done,
    .on_writeable = on_writeable,
    .on_raw = on_raw,
    .on_closed = on_closed,
};

/* --- the upstream side -------------------------------------------------- */

static int up_established(kite_conn_t *up, void *user)
{
    usess_t *u = user;
    psess_t *s = down_sess(up);
    int r = 0;

    if (!s)
        return -1;
    s->ready = 1;
    if (s->pend_len)
        r = write_up(u->down, s, s->pend, s->pend_len, KITE_WRITE_HTTP);
    free(s->pend);
    s->pend = NULL;
    s->pend_len = 0;
    if (!r && s->body_done)
        r = kite_write(up, NULL, 0, KITE_WRITE_HTTP_FINAL);
    if (kite_conn_pending(up) <= PROXY_HIGH)
        resume_down(u->down, s);
    return r < 0;
}

static void up_error(kite_conn_t *up, void *user, const char *why)
{
    usess_t *u = user;
    psess_t *s = down_sess(up);
    kite__client_t *cl = kite__client_of(up);

    if (!s)
        return;
    kite_notice("proxy: upstream: %s", why);
    s->up = NULL;
    answer_error(u->down, s, cl && cl->timed_out ? 504 : 502);
    u->down = NULL;
}

/* The upstream switched protocols: its 101 goes down as it is (with its
 * Sec-WebSocket-* answers), and the downstream conn leaves HTTP for a raw
 * tunnel as the upstream conn has. */
static int tunnel(kite_conn_t *down, kite_conn_t *up, psess_t *s)
{
    static const char *const drop[] = {"connection", "upgrade", "keep-alive", "content-length",
                                       "transfer-encoding"};
    kite_http_req_t *t = down->rd;
    const char *name, *value;
    char *b = NULL, line[] = "HTTP/1.1 101 Switching Protocols\r\n";
    size_t len = 0, cap = 0, k;
    int i, r = 0;

    for (i = 0; !r && kite_client_http_header_at(up, i, &name, &value) == 0; i++) {
        for (k = 0; k < sizeof(drop) / sizeof(drop[0]); k++)
            if (!kite__strncasecmp(name, drop[k], strlen(drop[k]) + 1))
                break;
        if (k == sizeof(drop) / sizeof(drop[0]))
            r = grow_put(&b, &len, &cap, name, value);
    }
    value = kite_client_http_header(up, "Upgrade");
    if (!r)
        r = grow_put(&b, &len, &cap, "Upgrade", value ? value : "websocket");
    if (!r)
        r = grow_put(&b, &len, &cap, "Connection", "Upgrade");
    if (!r)
        r = kite__out_append(down, line, sizeof(line) - 1);
    if (!r)
        r = kite__out_append(down, b, len);
    if (!r)
        r = kite__out_append(down, "\r\n", 2);
    free(b);
    if (r < 0)
        return -1;
    s->tunnel = s->head_sent = s->complete = 1;
    t->status = 101;
    kite__alog_txn(down, t);
    kite__http_txn_put(down->pt, t);
    down->rd = NULL;
    down->role = &kite__role_raw;
    down->state = 0;
    kite__conn_set_state_timeout(down, 0);
    /* Frames the client sent early wait in the conn's input: deliver them. */
    kite_rx_flow_control(down, 1);
    return 0;
}

/* Copy the upstream's response head down, without its hop-by-hop headers. */
static int up_response(kite_conn_t *up, void *user, int status)
{
    usess_t *u = user;
    psess_t *s = down_sess(up);
    kite_conn_t *down;
    const char *conn = kite_client_http_header(up, "Connection"), *name, *value, *cl, *ctype;
    int i;

    if (!s)
        return -1;
    down = u->down;
    if (status == 101)
        return tunnel(down, up, s);
    for (i = 0; kite_client_http_header_at(up, i, &name, &value) == 0; i++) {
        if (hop_by_hop(name, conn) || !kite__strncasecmp(name, "content-type", 13) ||
            !kite__strncasecmp(name, "date", 5) || !kite__strncasecmp(name, "server", 7))
            continue;
        if (kite_http_add_header(down, name, value) < 0) {
            kite_notice("proxy: the upstream's response head is too big");
            answer_error(down, s, 502);
            return -1;
        }
    }
    cl = kite_client_http_header(up, "Content-Length");
    ctype = kite_client_http_header(up, "Content-Type");
    s->head_sent = 1;
    return kite_http_respond(down, status, ctype,
                             cl && !kite_client_http_header(up, "Transfer-Encoding")
                                 ? strtoll(cl, NULL, 10)
                                 : -1) < 0;
}

static int up_body(kite_conn_t *up, void *user, const void *in, size_t len)
{
    usess_t *u = user;
    psess_t *s = down_sess(up);

    if (!s)
        return -1;
    return write_down(up, s, u->down, in, len, KITE_WRITE_HTTP);
}

static int up_done(kite_conn_t *up, void *user)
{
    usess_t *u = user;
    psess_t *s = down_sess(up);
    kite_conn_t *down = u->down;

    if (!s)
        return 0;
    s->complete = 1;
    s->up = NULL;
    u->down = NULL;
    resume_down(down, s);
    kite_write(down, NULL, 0, KITE_WRITE_HTTP_FINAL);
    return 0;
}

/* The upstream has drained what the client sent: read the client again. */
static int up_writeable(kite_conn_t *up, void *user)
{
    usess_t *u = user;
    psess_t *s = down_sess(up);

    (void)up;
    if (s && s->ready)
        resume_down(u->down, s);
    return 0;
}

static int up_raw(kite_conn_t *up, void *user, const void *in, size_t len)
{
    usess_t *u = user;
    psess_t *s = down_sess(up);

    if (!s)
        return -1;
    return write_down(up, s, u->down, in, len, KITE_WRITE_RAW);
}

static void up_closed(kite_conn_t *up, void *user, int code)
{
    usess_t *u = user;
    psess_t *s = down_sess(up);
    kite__client_t *cl = kite__client_of(up);
    kite_conn_t *down = u->down;

    (void)code;
    if (!s)
        return;
    s->up = NULL;
    u->down = NULL;
    if (s->tunnel)
        kite_close(down, 0, NULL);
    else if (!s->head_sent)
        answer_error(down, s, cl && cl->timed_out ? 504 : 502);
    else if (!s->complete)
        kite__http_abort(down, down->rd, KITE_CLOSE_ERROR); /* cut short: the client must see it */
}

static const kite_protocol_t proxy_up_proto = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "kite-proxy-upstream",
    .per_session_size = sizeof(usess_t),
    .on_client_established = up_established,
    .on_client_connection_error = up_error,
    .on_client_http_response = up_response,
    .on_client_http_body = up_body,
    .on_client_http_done = up_done,
    .on_writeable = up_writeable,
    .on_raw = up_raw,
    .on_closed = up_closed,
};
