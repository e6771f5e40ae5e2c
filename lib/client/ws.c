/*
 * The client side of the WebSocket opening handshake (RFC 6455 4.1): the
 * upgrade request with a fresh random key, and the checks of the
 * server's answer (101, Upgrade and Connection, Sec-WebSocket-Accept, a
 * subprotocol among those offered, no extension that was not offered)
 * before the conn moves to the ws role, whose frame code then runs with
 * the client's rules (masking out, none in). Extensions have one place
 * here: ext_offer() adds what the client offers (permessage-deflate when
 * the info asks for it) and ext_accept() judges the server's choice; with
 * nothing offered, any choice fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/private-client.h"
#include "misc/misc.h"
#include "roles/ws/pmd.h"
#include "roles/ws/private-ws.h"
#include "tls/digest.h"
#include "tls/tls.h"

#define CL(c) ((kite__client_t *)(c)->rd)

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* Sec-WebSocket-Extensions offered: permessage-deflate when asked for.
 * Returns the bytes written to @buf, or <0. */
static int ext_offer(kite_conn_t *c, char *buf, size_t cap)
{
    kite__client_t *cl = CL(c);
    static const char name[] = "Sec-WebSocket-Extensions: ";
    int n;

    if (!cl->i.ws_deflate)
        return 0;
    if (cap < sizeof(name) + 2)
        return KITE_E2BIG;
    memcpy(buf, name, sizeof(name) - 1);
    n = kite__pmd_offer(cl->i.ws_deflate, buf + sizeof(name) - 1, cap - sizeof(name) - 1);
    if (n < 0)
        return n;
    memcpy(buf + sizeof(name) - 1 + n, "\r\n", 2);
    return (int)sizeof(name) - 1 + n + 2;
}

/* How many times the response head has header @name. */
static int header_count(const kite__client_t *cl, const char *name)
{
    int i, n = 0;

    for (i = 0; i < cl->nhdrs; i++)
        n += !kite__strncasecmp(cl->hdrs[i].name, name, strlen(name) + 1);
    return n;
}

/* The server's Sec-WebSocket-Extensions: 0 to accept (cl->pmd_agreed set
 * when it agreed to permessage-deflate), or <0 with *why. No header is a
 * declined offer; anything else must be exactly one valid answer to it,
 * or the connection fails (RFC 6455 4.1, RFC 7692 5). */
static int ext_accept(kite_conn_t *c, const char *value, const char **why)
{
    kite__client_t *cl = CL(c);

    if (!value || !*value)
        return 0;
    if (!cl->i.ws_deflate) {
        *why = "websocket handshake: the server chose an extension that was not offered";
        return KITE_EPROTO;
    }
    if (header_count(cl, "Sec-WebSocket-Extensions") != 1 ||
        kite__pmd_accept_response(value, cl->i.ws_deflate, &cl->pmd) < 0) {
        *why = "websocket handshake: the server's Sec-WebSocket-Extensions does not answer the "
               "permessage-deflate offer";
        return KITE_EPROTO;
    }
    cl->pmd_agreed = 1;
    return 0;
}

int kite__client_ws_request(kite_conn_t *c, char *buf, size_t cap)
{
    kite__client_t *cl = CL(c);
    unsigned char rnd[16];
    int n, e;

    if (kite__random(rnd, sizeof(rnd)) < 0 ||
        kite__base64_encode(rnd, sizeof(rnd), cl->key, sizeof(cl->key)) < 0)
        return KITE_EIO;
    n = snprintf(buf, cap,
                 "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                 "Sec-WebSocket-Version: 13\r\n%s%s%s%s%s%s",
                 cl->key, cl->i.protocol ? "Sec-WebSocket-Protocol: " : "",
                 cl->i.protocol ? cl->i.protocol : "", cl->i.protocol ? "\r\n" : "",
                 cl->i.origin ? "Origin: " : "", cl->i.origin ? cl->i.origin : "",
                 cl->i.origin ? "\r\n" : "");
    if (n < 0 || (size_t)n >= cap)
        return KITE_E2BIG;
    if ((e = ext_offer(c, buf + n, cap - (size_t)n)) < 0)
        return e;
    return n + e;
}

/* Is @tok one of the comma-separated tokens of @list (case-insensitive)? */
static int has_token(const char *list, const char *tok, int nocase)
{
    size_t n = strlen(tok), k;
    const char *p = list;

    while (p && *p) {
        p += strspn(p, " \t,");
        k = strcspn(p, " \t,");
        if (k == n && (nocase ? !kite__strncasecmp(p, tok, n) : !memcmp(p, tok, n)))
            return 1;
        p += k;
    }
    return 0;
}

static int accept_ok(const kite__client_t *cl, const char *got)
{
    char buf[96], want[32];
    unsigned char sha[20];
    size_t k = strlen(cl->key);

    memcpy(buf, cl->key, k);
    memcpy(buf + k, ws_guid, sizeof(ws_guid) - 1);
    if (kite__sha1(buf, k + sizeof(ws_guid) - 1, sha) < 0 ||
        kite__base64_encode(sha, sizeof(sha), want, sizeof(want)) < 0)
        return 0;
    return got && !strcmp(got, want);
}

/* The subprotocol: one that was offered, and the vhost protocol of that
 * name serves the conn when there is one. 0 or <0 with *why. */
static int subprotocol(kite_conn_t *c, const char **why)
{
    kite__client_t *cl = CL(c);
    const char *got = kite__client_header(cl, "Sec-WebSocket-Protocol");
    const kite_protocol_t *p;

    if (!got)
        return 0;
    if (!cl->i.protocol || !has_token(cl->i.protocol, got, 0) || strchr(got, ',')) {
        *why = "websocket handshake: the server chose a subprotocol that was not offered";
        return KITE_EPROTO;
    }
    if (!(cl->chosen = strdup(got)))
        return KITE_ENOMEM;
    p = kite_vhost_find_protocol(c->vh, got);
    if (!p || p == c->proto)
        return 0;
    c->proto = p;
    if (kite__conn_user_bind(c, p->per_session_size) < 0)
        return KITE_ENOMEM;
    return 0;
}

int kite__client_ws_upgrade(kite_conn_t *c, char *rest, size_t len)
{
    kite__client_t *cl = CL(c);
    const char *up = kite__client_header(cl, "Upgrade");
    const char *conn = kite__client_header(cl, "Connection");
    const char *why = NULL;
    char buf[120];
    kite__ws_t *ws;

    if (cl->status != 101) {
        snprintf(buf, sizeof(buf), "websocket handshake: the server answered %d", cl->status);
        kite__client_fail(c, buf);
        return KITE_EPROTO;
    }
    if (!up || !has_token(up, "websocket", 1) || !conn || !has_token(conn, "upgrade", 1))
        why = "websocket handshake: no Upgrade: websocket / Connection: upgrade in the 101";
    else if (!accept_ok(cl, kite__client_header(cl, "Sec-WebSocket-Accept")))
        why = "websocket handshake: wrong Sec-WebSocket-Accept";
    if (why || subprotocol(c, &why) < 0 ||
        ext_accept(c, kite__client_header(cl, "Sec-WebSocket-Extensions"), &why) < 0) {
        kite__client_fail(c, why ? why : "out of memory");
        return KITE_EPROTO;
    }
    if (!(ws = calloc(1, sizeof(*ws))) ||
        (cl->pmd_agreed && !(ws->pmd = kite__pmd_create(&cl->pmd, cl->i.ws_deflate, 1)))) {
        free(ws);
        kite__client_fail(c, "out of memory");
        return KITE_ENOMEM;
    }
    free(cl->head);
    cl->head = NULL;
    cl->nhdrs = 0;
    cl->phase = CL_UPGRADED;
    ws->client = 1;
    ws->first = 1;
    ws->cl = cl;
    c->rd = ws;
    c->role = &kite__role_ws;
    c->state = 0;
    kite__ws_idle_timeout(c);
    if (kite__client_established(c) < 0) {
        kite__ws_fail(c, KITE_WS_CLOSE_POLICY, "refused by the protocol");
        return 0;
    }
    if (len && kite__ws_process(c, rest, len) < 0)
        kite__conn_close_now(c, KITE_CLOSE_ERROR);
    else if (!len)
        kite__conn_keep_input(c, rest, 0);
    return 0;
}
