/*
 * Request routing: the vhost by Host (and the checks of filter.c), the
 * path decoded and normalised, the mount by longest prefix, its
 * basic-auth, then the origin: files (or the protocol interpreting them),
 * redirects or a protocol's callbacks (with its request body streamed to
 * it in pieces). Also the end of a transaction: its access log line, and
 * on_closed for the bound protocol.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/private-client.h"
#include "misc/misc.h"
#include "roles/cgi/private-cgi.h"
#include "lua/hooks.h"
#include "roles/http/private-http.h"
#include "roles/ws/private-ws.h"

/* The longest mountpoint that is the path or a whole-segment prefix of
 * it; an exact-match mount only for the path itself (and it wins a tie),
 * a no-ws-upgrades mount never for an upgrade (lws_find_mount). */
static const kite__mount_rt_t *find_mount(const kite_vhost_t *vh, const char *path, int upgrade)
{
    const kite__mount_rt_t *best = NULL;
    int i;

    for (i = 0; i < vh->nmounts; i++) {
        const kite__mount_rt_t *m = &vh->mrt[i];
        unsigned fl = m->m->flags;
        char end;

        if (strncmp(path, m->m->mountpoint, m->mp_len))
            continue;
        end = path[m->mp_len];
        if ((end != '/' && end != '\0') || ((fl & KITE_MOUNT_F_EXACT_MATCH) && end) ||
            (upgrade && (fl & KITE_MOUNT_F_NO_WS_UPGRADES)))
            continue;
        if (!best || m->mp_len > best->mp_len ||
            (m->mp_len == best->mp_len && (fl & KITE_MOUNT_F_EXACT_MATCH)))
            best = m;
    }
    return best;
}

/* The mount's "headers", on whatever it answers. */
static int mount_headers(kite_http_req_t *t, const kite_mount_t *m)
{
    const kite_pvo_t *h;

    for (h = m->headers; h; h = h->next)
        if (kite__http_add_header_n(t, h->name, h->value, strlen(h->value)) < 0)
            return KITE_EINVAL;
    return 0;
}

/*
 * Percent-encode the decoded path @s for a URI: every byte but pchar and
 * '/' (RFC 3986 3.3), so that an escaped '?', '#', '%', space or UTF-8
 * byte stays what the client sent. Returns the length, or @cap when it
 * does not fit.
 */
static size_t path_encode(char *o, size_t cap, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;

    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;

        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            strchr("-._~!$&'()*+,;=:@/", ch)) {
            if (n + 1 >= cap)
                return cap;
            o[n++] = (char)ch;
        } else {
            if (n + 3 >= cap)
                return cap;
            o[n++] = '%';
            o[n++] = hex[ch >> 4];
            o[n++] = hex[ch & 15];
        }
    }
    o[n] = '\0';
    return n;
}

static int redirect(kite_conn_t *c, kite_http_req_t *t, const kite__mount_rt_t *m)
{
    const char *scheme = m->type == KITE_MOUNT_REDIR_HTTPS ? "https://" : "http://";
    int whole = !(m->m->flags & KITE_MOUNT_F_REDIRECT_ORIGIN_ONLY);
    const char *rest = whole ? t->mount_path : "", *query = whole ? t->p.query : NULL;
    size_t olen = strlen(m->origin);
    char loc[2048], enc[2048];
    int n;

    /* "/old" -> ">https://new/" keeps what follows the mountpoint, unless
     * the mount says the origin alone (lwsws without append-path). */
    if (olen && m->origin[olen - 1] == '/' && *rest == '/')
        rest++;
    /* The path was decoded for routing: encode it again for the URI. */
    if (path_encode(enc, sizeof(enc), rest) >= sizeof(enc))
        return kite__http_error(c, t, 414, NULL);
    n = snprintf(loc, sizeof(loc), "%s%s%s%s%s", scheme, m->origin, enc, query ? "?" : "",
                 query ? query : "");
    if (n < 0 || (size_t)n >= sizeof(loc))
        return kite__http_error(c, t, 414, NULL);
    return kite_http_redirect(c, 301, loc);
}

static int bind_protocol(kite_conn_t *c, const kite_protocol_t *p)
{
    c->proto = p;
    return kite__conn_user_bind(c, p->per_session_size);
}

int kite__http_callback(kite_conn_t *c, kite_http_req_t *t, const kite_protocol_t *p)
{
    int r;

    t->tflags |= KITE__T_PROTO;
    if (bind_protocol(c, p) < 0)
        return kite__http_error(c, t, 500, NULL);
    if (p->on_filter && p->on_filter(c, c->user, t))
        return kite__http_error(c, t, 403, NULL);
    if (!p->on_http)
        return kite__http_error(c, t, 404, NULL);
    r = p->on_http(c, c->user, t);
    if (r)
        return KITE_ECLOSED;
    /* A client waiting for "100 Continue" gets it only when the handler
     * wants the body and has not answered already. An HTTP/1.0 client
     * never gets a 1xx: its expectation is ignored (RFC 9110 10.1.1). */
    if ((t->p.flags & KITE_H1_EXPECT_CONTINUE) && t->p.version >= 11 &&
        (t->tflags & KITE__T_BODY) && !(t->tflags & (KITE__T_HEAD_SENT | KITE__T_BODY_DONE)) &&
        p->on_http_body) {
        t->tflags |= KITE__T_CONTINUE;
        t->wire->send_continue(c, t);
    }
    /* A body-carrying method with an empty body still gets its "body
     * done", which is where such handlers answer. */
    if (!(t->tflags & (KITE__T_BODY | KITE__T_HEAD_SENT)) &&
        (t->p.method_id == KITE_HTTP_POST || t->p.method_id == KITE_HTTP_PUT ||
         t->p.method_id == KITE_HTTP_PATCH))
        return kite__http_body_done(c, t);
    return 0;
}

int kite__http_dispatch(kite_conn_t *c, kite_http_req_t *t)
{
    const kite__mount_rt_t *m;
    kite_vhost_t *vh;
    int n, answered, upgrade;

    /* From the listener's current array: after a reload a keep-alive conn
     * gets the new vhost. No listener (a reload removed it, or an adopted
     * fd): the conn keeps its vhost. References move only on a change. */
    if (c->ls && (vh = kite__vhost_by_host(c->ls, t->p.host, t->p.host_len)) != c->vh)
        kite__conn_set_vhost(c, vh);
    n = kite__http_filter(c, t, &answered);
    if (answered)
        return n;
    /* A websocket upgrade needs no mount, but one with basic-auth guards it. */
    upgrade = kite__ws_is_upgrade(t);
    if (upgrade && (!t->p.path || t->p.path[0] != '/'))
        return kite__ws_upgrade(c, t);
    if (t->p.method_id == KITE_HTTP_CONNECT || !t->p.path) {
        kite__http_add_header_n(t, "Allow", "GET, HEAD, POST, OPTIONS", 24);
        return kite__http_error(c, t, 405, NULL);
    }
    if (t->p.method_id == KITE_HTTP_OPTIONS && kite__http_vh(c->vh)->cors_origin &&
        kite_http_header(t, "Access-Control-Request-Method"))
        return kite__http_cors_preflight(c, t);
    if (t->p.path[0] == '*') {
        /* OPTIONS * asks about the server as a whole. */
        kite__http_add_header_n(t, "Allow", "GET, HEAD, POST, PUT, DELETE, OPTIONS", 37);
        if (t->wire->respond(c, t, 200, NULL, 0) < 0)
            return KITE_ECLOSED;
        return t->wire->body(c, t, NULL, 0, 1);
    }
    t->path = kite__http_txn_copy(t, t->p.path, t->p.path_len);
    if (!t->path)
        return kite__http_error(c, t, 500, NULL);
    n = (int)t->p.path_len;
    if (!(c->vh->options & KITE_VH_NO_DECODE_URL) &&
        (n = kite__url_decode_path(t->path, t->p.path_len, t->path)) < 0)
        return kite__http_error(c, t, 400, "bad escape in path");
    n = kite__path_normalise(t->path, (size_t)n);
    if (n < 0)
        return kite__http_error(c, t, n == KITE_EPERM ? 403 : 400, NULL);
    t->path[n] = '\0';
    /* A conn throttled before stays so only while its vhost says so (a
     * reload, or another vhost of the port by Host, may not). */
    if ((c->thr || kite__http_vh_throttle(c->vh)) && kite__http_throttle(c, t->path) < 0)
        return kite__http_error(c, t, 500, NULL);
    m = find_mount(c->vh, t->path, upgrade);
    if (!m)
        return upgrade ? kite__ws_upgrade(c, t) : kite__http_error(c, t, 404, NULL);
    t->mrt = m;
    if (m->m->headers && mount_headers(t, m->m) < 0)
        return kite__http_error(c, t, 500, NULL);
    t->mount_path = t->path + m->mp_len;
    n = kite__http_mount_auth(c, t, m, &answered);
    if (answered)
        return n;
    if (kite__http_vh(c->vh)->dauth && (n = kite__http_digest(c, t, m, &answered), answered))
        return n;
    if (m->type == KITE_MOUNT_PROXY_HTTP || m->type == KITE_MOUNT_PROXY_HTTPS)
        return kite__proxy_serve(c, t, m);
    if (upgrade && m->type == KITE_MOUNT_FILE &&
        (n = kite__lua_ws_try(c, t, m, &answered), answered))
        return n;
    if (upgrade)
        return kite__ws_upgrade(c, t);
    if (m->m->lua_handler)
        return kite__lua_httpd_serve(c, t, m);
    switch (m->type) {
    case KITE_MOUNT_FILE:
        n = kite__http_interpret(c, t, m, t->mount_path, &answered);
        if (answered)
            return n;
        if ((m->m->lua_page_pattern || m->m->lua_script_pattern) &&
            (n = kite__lua_try(c, t, m, &answered), answered))
            return n;
        if (m->m->cgi_pattern && (n = kite__cgi_try(c, t, m, &answered), answered))
            return n;
        return kite__http_serve_file(c, t, m, t->mount_path, 200);
    case KITE_MOUNT_CGI:
        return kite__cgi_serve(c, t, m);
    case KITE_MOUNT_CALLBACK:
        return kite__http_callback(c, t, m->proto);
    default:
        return redirect(c, t, m);
    }
}

int kite__http_body(kite_conn_t *c, kite_http_req_t *t, const void *buf, size_t len)
{
    const kite_protocol_t *p = c->proto;

    if (!len || (t->tflags & KITE__T_FINAL))
        return 0;
    if (t->put)
        return kite__http_put_body(c, t, buf, len);
    if (!(t->tflags & KITE__T_PROTO) || !p->on_http_body)
        return 0;
    return p->on_http_body(c, c->user, buf, len) ? KITE_ECLOSED : 0;
}

int kite__http_body_done(kite_conn_t *c, kite_http_req_t *t)
{
    const kite_protocol_t *p = c->proto;

    t->tflags |= KITE__T_BODY_DONE;
    if (t->put && !(t->tflags & KITE__T_FINAL))
        return kite__http_put_done(c, t);
    if ((t->tflags & KITE__T_FINAL) || !(t->tflags & KITE__T_PROTO) || !p->on_http_body_done)
        return 0;
    return p->on_http_body_done(c, c->user) ? KITE_ECLOSED : 0;
}

void kite__http_txn_end(kite_conn_t *c, int closing)
{
    const kite_protocol_t *p = c->proto;
    kite_http_req_t *t = c->rd;

    if (!t)
        return;
    c->rd = NULL;

    /* For HTTP, on_closed marks the end of the transaction on a callback
     * mount. The per-session memory is freed later, when the next request
     * binds a protocol or the connection closes: the transaction usually
     * ends inside the handler's own kite_write(KITE_WRITE_HTTP_FINAL), and
     * the handler may still use @user after that call returns. */
    if (t->put)
        kite__http_put_abort(t);
    if (t->tflags & KITE__T_HEAD_SENT)
        kite__alog_txn(c, t);
    if (p && (t->tflags & KITE__T_PROTO)) {
        if (p->on_closed)
            p->on_closed(c, c->user, closing);
        c->proto = NULL;
    }
    kite__http_txn_put(c->pt, t);
}
