/*
 * HTTP/2 from an HTTP/1.1 request with "Upgrade: h2c" (RFC 7540 3.2) on a
 * plain vhost with h2c: the 101, then the session begins with the
 * client's HTTP2-Settings applied, and the request that asked becomes
 * stream 1, answered over HTTP/2. A request with a body is answered
 * over HTTP/1.1 instead (the RFC lets the server ignore the upgrade),
 * as is any request on TLS, where h2 comes by ALPN.
 */
#include <stdlib.h>
#include <string.h>

#include "roles/h2/private-h2.h"
#include "tls/digest.h"

static const char resp101[] = "HTTP/1.1 101 Switching Protocols\r\n"
                              "Connection: Upgrade\r\nUpgrade: h2c\r\n\r\n";

static int has_token(const char *list, const char *tok)
{
    size_t n = strlen(tok);

    while (list && *list) {
        while (*list == ' ' || *list == '\t' || *list == ',')
            list++;
        if (!kite__strncasecmp(list, tok, n) &&
            (!list[n] || list[n] == ',' || list[n] == ' ' || list[n] == '\t'))
            return 1;
        list = strchr(list, ',');
    }
    return 0;
}

/* HTTP2-Settings is base64url without padding. */
static int settings_payload(const char *v, unsigned char *out, size_t cap)
{
    char b64[512];
    size_t i, n = strlen(v);

    if (n + 4 > sizeof(b64))
        return KITE_E2BIG;
    for (i = 0; i < n; i++)
        b64[i] = v[i] == '-' ? '+' : v[i] == '_' ? '/' : v[i];
    while (i % 4)
        b64[i++] = '=';
    return kite__base64_decode(b64, i, out, cap);
}

int kite__h2_upgrade(kite_conn_t *c, kite_http_req_t *t)
{
    const char *hs = kite_http_header(t, "HTTP2-Settings");
    unsigned char set[384];
    kite__h2s_t *s;
    kite__h2_t *h2;
    int n, r;

    if (!(c->vh->options & KITE_VH_H2C) || c->xp != &kite__xport_tcp || !hs || !t->p.upgrade ||
        !(t->p.flags & KITE_H1_CONN_UPGRADE) || !has_token(t->p.upgrade, "h2c") ||
        (t->tflags & KITE__T_BODY))
        return 0;
    if ((n = settings_payload(hs, set, sizeof(set))) < 0 || n % 6)
        return 0;
    if ((r = kite__out_append(c, resp101, sizeof(resp101) - 1)) < 0)
        return r;
    c->rd = NULL;
    if ((r = kite__h2_start(c, NULL, 0)) < 0) {
        c->rd = t;
        return r;
    }
    h2 = c->rd;
    r = nghttp2_session_upgrade2(h2->s, set, (size_t)n, t->p.method_id == KITE_HTTP_HEAD, NULL);
    if (r || !(s = kite__h2s_new(h2, 1))) {
        kite__http_txn_put(c->pt, t);
        return KITE_EPROTO;
    }
    nghttp2_session_set_stream_user_data(h2->s, 1, s);
    kite__h2s_take(s, t);
    return 1;
}
