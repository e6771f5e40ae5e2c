/*
 * The WebSocket opening handshake (RFC 6455 4.2) on an HTTP/1.1 request:
 * version 13 only (426 otherwise), the key's shape, the subprotocol (the
 * first one the client lists that the vhost has; without the header the
 * vhost's default protocol; only unknown names: 400), the protocol's
 * on_filter, permessage-deflate when the vhost has it and the client
 * offers it (pmd-negotiate.c), then the 101 answer and the switch of the connection to the
 * ws role, with on_established called while the request is still
 * readable through kite_http_request().
 */
#include <stdlib.h>
#include <string.h>

#include "misc/misc.h"
#include "roles/http/private-http.h"
#include "roles/ws/pmd.h"
#include "roles/ws/private-ws.h"
#include "tls/digest.h"

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
static const char resp101[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                              "Connection: Upgrade\r\nSec-WebSocket-Accept: ";

/* Is @tok one of the comma-separated tokens of @list (case-insensitive)? */
static int has_token(const char *list, const char *tok)
{
    size_t n = strlen(tok);
    const char *p = list;

    while (p && *p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!kite__strncasecmp(p, tok, n) &&
            (p[n] == '\0' || p[n] == ',' || p[n] == ' ' || p[n] == '\t'))
            return 1;
        p = strchr(p, ',');
    }
    return 0;
}

static const kite_protocol_t *default_protocol(const kite_vhost_t *vh)
{
    const kite_pvo_t *pvo;
    const kite_protocol_t *p;

    for (pvo = vh->pvo; pvo; pvo = pvo->next) {
        if (!pvo->name || !kite_pvo_get(pvo->options, "default"))
            continue;
        p = kite_vhost_find_protocol(vh, pvo->name);
        if (p)
            return p;
    }
    return vh->nprotocols ? vh->protocols[0] : NULL;
}

/* The first name in the client's list(s) that the vhost has; *named
 * says whether the client sent the header at all. */
static const kite_protocol_t *choose(const kite_vhost_t *vh, const kite_http_req_t *t, int *named)
{
    const char *name, *value;
    int i;

    *named = 0;
    for (i = 0; i < kite_http_header_count(t); i++) {
        const char *p;
        kite_http_header_at(t, i, &name, &value);
        if (kite__strncasecmp(name, "Sec-WebSocket-Protocol", 23))
            continue;
        *named = 1;
        for (p = value; *p;) {
            char tok[64];
            size_t n;
            while (*p == ' ' || *p == '\t' || *p == ',')
                p++;
            n = strcspn(p, ", \t");
            if (n && n < sizeof(tok)) {
                const kite_protocol_t *pr;
                memcpy(tok, p, n);
                tok[n] = '\0';
                pr = kite_vhost_find_protocol(vh, tok);
                if (pr)
                    return pr;
            }
            p += n;
        }
    }
    return *named ? NULL : default_protocol(vh);
}

/* Has protocol @p the option @name among its pvos on @vh? */
static int proto_option(const kite_vhost_t *vh, const kite_protocol_t *p, const char *name)
{
    const kite_pvo_t *pvo;

    for (pvo = vh->pvo; pvo; pvo = pvo->next)
        if (pvo->name && !strcmp(pvo->name, p->name) && kite_pvo_get(pvo->options, name))
            return 1;
    return 0;
}

/* permessage-deflate: accept the client's first acceptable offer, if the
 * vhost has it on and the protocol has not opted out. Returns 1 with
 * ws->pmd made and the response value in @resp, 0 for none, or <0. */
static int deflate_offer(kite_conn_t *c, const kite_protocol_t *p, const kite_http_req_t *t,
                         kite__ws_t *ws, char *resp, size_t size)
{
    const char *vals[8], *name, *value;
    kite__pmd_params_t params;
    int i, n = 0;

    if (!c->vh->ws_deflate_on || (p->flags & KITE_PROTO_NO_DEFLATE) ||
        proto_option(c->vh, p, "no-deflate"))
        return 0;
    for (i = 0; i < kite_http_header_count(t) && n < (int)(sizeof(vals) / sizeof(vals[0])); i++) {
        kite_http_header_at(t, i, &name, &value);
        if (!kite__strncasecmp(name, "Sec-WebSocket-Extensions", 25))
            vals[n++] = value;
    }
    if (!n || !kite__pmd_negotiate(vals, n, &c->vh->ws_deflate, &params, resp, size))
        return 0;
    ws->pmd = kite__pmd_create(&params, &c->vh->ws_deflate, 0);
    return ws->pmd ? 1 : KITE_ENOMEM;
}

static int key_ok(const char *key)
{
    size_t n = key ? strlen(key) : 0, i;

    /* 16 random bytes in base64: 22 characters and "==". */
    if (n != 24 || key[22] != '=' || key[23] != '=')
        return 0;
    for (i = 0; i < 22; i++)
        if (!((key[i] >= 'A' && key[i] <= 'Z') || (key[i] >= 'a' && key[i] <= 'z') ||
              (key[i] >= '0' && key[i] <= '9') || key[i] == '+' || key[i] == '/'))
            return 0;
    return 1;
}

int kite__ws_is_upgrade(const kite_http_req_t *t)
{
    return t->p.upgrade && (t->p.flags & KITE_H1_CONN_UPGRADE) &&
           has_token(t->p.upgrade, "websocket");
}

int kite__ws_accept_h1(kite_conn_t *c, kite_http_req_t *t, const char *subprotocol,
                       const char *extensions)
{
    const char *key = kite_http_header(t, "Sec-WebSocket-Key");
    unsigned char sha[20];
    char buf[128], accept[32];
    size_t klen;
    int r;

    if (!key_ok(key))
        return KITE_EINVAL;
    klen = strlen(key);
    memcpy(buf, key, klen);
    memcpy(buf + klen, ws_guid, sizeof(ws_guid) - 1);
    if (kite__sha1(buf, klen + sizeof(ws_guid) - 1, sha) < 0 ||
        kite__base64_encode(sha, sizeof(sha), accept, sizeof(accept)) < 0)
        return KITE_ENOMEM;
    r = kite__out_append(c, resp101, sizeof(resp101) - 1);
    if (!r)
        r = kite__out_append(c, accept, strlen(accept));
    if (!r && extensions) {
        r = kite__out_append(c, "\r\nSec-WebSocket-Extensions: ", 28);
        if (!r)
            r = kite__out_append(c, extensions, strlen(extensions));
    }
    if (!r && subprotocol) {
        r = kite__out_append(c, "\r\nSec-WebSocket-Protocol: ", 26);
        if (!r)
            r = kite__out_append(c, subprotocol, strlen(subprotocol));
    }
    if (!r)
        r = kite__out_append(c, "\r\n\r\n", 4);
    t->status = 101;
    return r;
}

int kite__ws_upgrade(kite_conn_t *c, kite_http_req_t *t)
{
    return kite__ws_upgrade_proto(c, t, NULL);
}

int kite__ws_upgrade_proto(kite_conn_t *c, kite_http_req_t *t, const kite_protocol_t *only)
{
    const char *ver = kite_http_header(t, "Sec-WebSocket-Version");
    const kite_protocol_t *p;
    char ext[160];
    kite__ws_t *ws;
    int named, r, deflate;

    if (t->p.method_id != KITE_HTTP_GET || t->p.version < 11)
        return kite__http_error(c, t, 400, "websocket upgrade needs GET over HTTP/1.1");
    if (!ver || strcmp(ver, "13")) {
        kite__http_add_header_n(t, "Sec-WebSocket-Version", "13", 2);
        return kite__http_error(c, t, 426, "websocket version 13 only");
    }
    /* A protocol of kite's own (a Lua websocket) takes the request
     * whatever subprotocols the client lists, and names none. */
    p = only ? only : choose(c->vh, t, &named);
    if (only)
        named = 0;
    else if (!named && (c->vh->options & KITE_VH_WS_NEED_PROTOCOL))
        p = NULL;
    if (!p) {
        kite_notice("vhost %s: websocket upgrade refused: no protocol in \"%s\"", c->vh->name,
                    named ? kite_http_header(t, "Sec-WebSocket-Protocol") : "");
        return kite__http_error(c, t, 400, "no supported websocket subprotocol");
    }
    if (kite__conn_user_bind(c, p->per_session_size) < 0)
        return kite__http_error(c, t, 500, NULL);
    c->proto = p;
    if (p->on_filter && p->on_filter(c, c->user, t)) {
        c->proto = NULL;
        kite__conn_user_free(c);
        return kite__http_error(c, t, 403, NULL);
    }
    ws = calloc(1, sizeof(*ws));
    if (!ws)
        return kite__http_error(c, t, 500, NULL);

    deflate = deflate_offer(c, p, t, ws, ext, sizeof(ext));
    /* The wire answers: a 101 with the accept key, or an HTTP/2 200. */
    r = deflate < 0 ? deflate
                    : t->wire->ws_accept(c, t, named ? p->name : NULL, deflate ? ext : NULL);
    if (r < 0) {
        kite__pmd_destroy(ws->pmd);
        free(ws);
        if (r != KITE_EINVAL)
            return deflate < 0 ? kite__http_error(c, t, 500, NULL) : r;
        c->proto = NULL;
        kite__conn_user_free(c);
        return kite__http_error(c, t, 400, "bad Sec-WebSocket-Key");
    }

    /* From here on the connection speaks WebSocket. */
    ws->req = t;
    ws->first = 1;
    c->rd = ws;
    c->role = &kite__role_ws;
    c->state = 0;
    kite__ws_idle_timeout(c);
    r = p->on_established ? p->on_established(c, c->user) : 0;
    ws->req = NULL;
    kite__alog_txn(c, t);
    kite__http_txn_put(c->pt, t);
    if (r)
        kite__ws_fail(c, KITE_WS_CLOSE_POLICY, "refused by the protocol");
    return 0;
}
