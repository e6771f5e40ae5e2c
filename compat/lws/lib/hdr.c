/*
 * Request headers by lws token, url arguments as lws splits them (at '&',
 * each one url-decoded, '+' as a space), and the accessors of struct lws.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

/* The header name of each token, lws's spelling (with the colon). */
static const char *const names[WSI_TOKEN_COUNT] = {
    [WSI_TOKEN_GET_URI] = "get ",
    [WSI_TOKEN_POST_URI] = "post ",
    [WSI_TOKEN_OPTIONS_URI] = "options ",
    [WSI_TOKEN_HOST] = "host:",
    [WSI_TOKEN_CONNECTION] = "connection:",
    [WSI_TOKEN_UPGRADE] = "upgrade:",
    [WSI_TOKEN_ORIGIN] = "origin:",
    [WSI_TOKEN_EXTENSIONS] = "sec-websocket-extensions:",
    [WSI_TOKEN_PROTOCOL] = "sec-websocket-protocol:",
    [WSI_TOKEN_ACCEPT] = "sec-websocket-accept:",
    [WSI_TOKEN_HTTP_ACCEPT] = "accept:",
    [WSI_TOKEN_HTTP_AC_REQUEST_HEADERS] = "access-control-request-headers:",
    [WSI_TOKEN_HTTP_IF_MODIFIED_SINCE] = "if-modified-since:",
    [WSI_TOKEN_HTTP_IF_NONE_MATCH] = "if-none-match:",
    [WSI_TOKEN_HTTP_ACCEPT_ENCODING] = "accept-encoding:",
    [WSI_TOKEN_HTTP_ACCEPT_LANGUAGE] = "accept-language:",
    [WSI_TOKEN_HTTP_PRAGMA] = "pragma:",
    [WSI_TOKEN_HTTP_CACHE_CONTROL] = "cache-control:",
    [WSI_TOKEN_HTTP_AUTHORIZATION] = "authorization:",
    [WSI_TOKEN_HTTP_COOKIE] = "cookie:",
    [WSI_TOKEN_HTTP_CONTENT_LENGTH] = "content-length:",
    [WSI_TOKEN_HTTP_CONTENT_TYPE] = "content-type:",
    [WSI_TOKEN_HTTP_DATE] = "date:",
    [WSI_TOKEN_HTTP_RANGE] = "range:",
    [WSI_TOKEN_HTTP_REFERER] = "referer:",
    [WSI_TOKEN_KEY] = "sec-websocket-key:",
    [WSI_TOKEN_VERSION] = "sec-websocket-version:",
    [WSI_TOKEN_SWORIGIN] = "sec-websocket-origin:",
    [WSI_TOKEN_HTTP_ACCEPT_CHARSET] = "accept-charset:",
    [WSI_TOKEN_HTTP_ACCEPT_RANGES] = "accept-ranges:",
    [WSI_TOKEN_HTTP_ACCESS_CONTROL_ALLOW_ORIGIN] = "access-control-allow-origin:",
    [WSI_TOKEN_HTTP_AGE] = "age:",
    [WSI_TOKEN_HTTP_ALLOW] = "allow:",
    [WSI_TOKEN_HTTP_CONTENT_DISPOSITION] = "content-disposition:",
    [WSI_TOKEN_HTTP_CONTENT_ENCODING] = "content-encoding:",
    [WSI_TOKEN_HTTP_CONTENT_LANGUAGE] = "content-language:",
    [WSI_TOKEN_HTTP_CONTENT_LOCATION] = "content-location:",
    [WSI_TOKEN_HTTP_CONTENT_RANGE] = "content-range:",
    [WSI_TOKEN_HTTP_ETAG] = "etag:",
    [WSI_TOKEN_HTTP_EXPECT] = "expect:",
    [WSI_TOKEN_HTTP_EXPIRES] = "expires:",
    [WSI_TOKEN_HTTP_FROM] = "from:",
    [WSI_TOKEN_HTTP_IF_MATCH] = "if-match:",
    [WSI_TOKEN_HTTP_IF_RANGE] = "if-range:",
    [WSI_TOKEN_HTTP_IF_UNMODIFIED_SINCE] = "if-unmodified-since:",
    [WSI_TOKEN_HTTP_LAST_MODIFIED] = "last-modified:",
    [WSI_TOKEN_HTTP_LINK] = "link:",
    [WSI_TOKEN_HTTP_LOCATION] = "location:",
    [WSI_TOKEN_HTTP_MAX_FORWARDS] = "max-forwards:",
    [WSI_TOKEN_HTTP_PROXY_AUTHENTICATE] = "proxy-authenticate:",
    [WSI_TOKEN_HTTP_PROXY_AUTHORIZATION] = "proxy-authorization:",
    [WSI_TOKEN_HTTP_REFRESH] = "refresh:",
    [WSI_TOKEN_HTTP_RETRY_AFTER] = "retry-after:",
    [WSI_TOKEN_HTTP_SERVER] = "server:",
    [WSI_TOKEN_HTTP_SET_COOKIE] = "set-cookie:",
    [WSI_TOKEN_HTTP_STRICT_TRANSPORT_SECURITY] = "strict-transport-security:",
    [WSI_TOKEN_HTTP_TRANSFER_ENCODING] = "transfer-encoding:",
    [WSI_TOKEN_HTTP_USER_AGENT] = "user-agent:",
    [WSI_TOKEN_HTTP_VARY] = "vary:",
    [WSI_TOKEN_HTTP_VIA] = "via:",
    [WSI_TOKEN_HTTP_WWW_AUTHENTICATE] = "www-authenticate:",
    [WSI_TOKEN_PATCH_URI] = "patch",
    [WSI_TOKEN_PUT_URI] = "put",
    [WSI_TOKEN_DELETE_URI] = "delete",
    [WSI_TOKEN_HTTP_URI_ARGS] = "uri-args",
    [WSI_TOKEN_HTTP_X_REAL_IP] = "x-real-ip:",
    [WSI_TOKEN_X_FORWARDED_FOR] = "x-forwarded-for:",
    [WSI_TOKEN_HEAD_URI] = "head ",
    [WSI_TOKEN_TE] = "te:",
    [WSI_TOKEN_X_AUTH_TOKEN] = "x-auth-token:",
};

const unsigned char *lws_token_to_string(enum lws_token_indexes token)
{
    return (unsigned)token < WSI_TOKEN_COUNT ? (const unsigned char *)names[token] : NULL;
}

static const kite_http_req_t *req_of(struct lws *w)
{
    return w && w->c ? kite_http_request(w->c) : NULL;
}

/* The value of @h for the request, NULL when it has none. @q: URI_ARGS. */
static const char *value(struct lws *w, enum lws_token_indexes h)
{
    const kite_http_req_t *req = req_of(w);
    char name[48];
    size_t l;
    int m;

    if (!req || (unsigned)h >= WSI_TOKEN_COUNT || !names[h])
        return NULL;
    m = kite_http_method_id(req);
    switch (h) {
    case WSI_TOKEN_GET_URI:
        return m == KITE_HTTP_GET ? kite_http_path(req) : NULL;
    case WSI_TOKEN_POST_URI:
        return m == KITE_HTTP_POST ? kite_http_path(req) : NULL;
    case WSI_TOKEN_OPTIONS_URI:
        return m == KITE_HTTP_OPTIONS ? kite_http_path(req) : NULL;
    case WSI_TOKEN_PUT_URI:
        return m == KITE_HTTP_PUT ? kite_http_path(req) : NULL;
    case WSI_TOKEN_PATCH_URI:
        return m == KITE_HTTP_PATCH ? kite_http_path(req) : NULL;
    case WSI_TOKEN_DELETE_URI:
        return m == KITE_HTTP_DELETE ? kite_http_path(req) : NULL;
    case WSI_TOKEN_HEAD_URI:
        return m == KITE_HTTP_HEAD ? kite_http_path(req) : NULL;
    case WSI_TOKEN_HTTP_URI_ARGS:
        return kite_http_query(req);
    default:
        break;
    }
    l = strlen(names[h]) - 1;
    memcpy(name, names[h], l);
    name[l] = '\0';
    return kite_http_header(req, name);
}

/* Fragment @idx of @h: URI_ARGS split at '&' and decoded, else the value. */
static int fragment(struct lws *w, enum lws_token_indexes h, int idx, char *dst, int len)
{
    const char *v = value(w, h), *s, *e;
    int n;

    if (!v)
        return -1;
    if (h != WSI_TOKEN_HTTP_URI_ARGS) {
        if (idx)
            return -1;
        n = (int)strlen(v);
        if (dst) {
            if (n >= len)
                return -1;
            memcpy(dst, v, (size_t)n + 1);
        }
        return n;
    }
    for (s = v; idx--; s = e + 1)
        if (!(e = strchr(s, '&')))
            return -1;
    e = strchr(s, '&');
    n = e ? (int)(e - s) : (int)strlen(s);
    {
        char tmp[n + 1];
        memcpy(tmp, s, (size_t)n);
        tmp[n] = '\0';
        for (char *t = tmp; *t; t++)
            if (*t == '+')
                *t = ' ';
        if (!dst) {
            char out[n + 1];
            return lws_urldecode(out, tmp, n + 1);
        }
        n = lws_urldecode(dst, tmp, len);
    }
    return n;
}

int lws_hdr_total_length(struct lws *w, enum lws_token_indexes h)
{
    const char *v = value(w, h);

    return v ? (int)strlen(v) : 0;
}

int lws_hdr_fragment_length(struct lws *w, enum lws_token_indexes h, int frag_idx)
{
    int n = fragment(w, h, frag_idx, NULL, 0);

    return n < 0 ? 0 : n;
}

int lws_hdr_copy(struct lws *w, char *dst, int len, enum lws_token_indexes h)
{
    const char *v = value(w, h);
    int n;

    if (len > 0)
        dst[0] = '\0';
    if (!v)
        return 0;
    n = (int)strlen(v);
    if (n >= len)
        return -1;
    memcpy(dst, v, (size_t)n + 1);
    return n;
}

int lws_hdr_copy_fragment(struct lws *w, char *dst, int len, enum lws_token_indexes h, int frag_idx)
{
    if (len > 0)
        dst[0] = '\0';
    return fragment(w, h, frag_idx, dst, len);
}

static const char *custom(struct lws *w, const char *name, int nlen)
{
    const kite_http_req_t *req = req_of(w);
    char n[128];

    if (!req || nlen <= 0 || nlen >= (int)sizeof(n))
        return NULL;
    memcpy(n, name, (size_t)nlen);
    n[nlen] = '\0';
    if (n[nlen - 1] == ':')
        n[nlen - 1] = '\0';
    return kite_http_header(req, n);
}

int lws_hdr_custom_length(struct lws *w, const char *name, int nlen)
{
    const char *v = custom(w, name, nlen);

    return v ? (int)strlen(v) : -1;
}

int lws_hdr_custom_copy(struct lws *w, char *dst, int len, const char *name, int nlen)
{
    const char *v = custom(w, name, nlen);
    int n;

    if (!v)
        return -1;
    n = (int)strlen(v);
    if (n >= len)
        return -1;
    memcpy(dst, v, (size_t)n + 1);
    return n;
}

const char *lws_get_urlarg_by_name(struct lws *w, const char *name, char *buf, int len)
{
    int n = 0, sl = (int)strlen(name);

    /* As lws 4.1: the whole "name=value" stays in @buf, the value is returned. */
    while (lws_hdr_copy_fragment(w, buf, len, WSI_TOKEN_HTTP_URI_ARGS, n++) >= 0)
        if (!strncmp(buf, name, (size_t)sl))
            return buf + sl;
    return NULL;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int lws_urldecode(char *string, const char *escaped, int len)
{
    int n = 0;

    while (*escaped && n < len - 1) {
        if (*escaped == '%' && hexval(escaped[1]) >= 0 && hexval(escaped[2]) >= 0) {
            string[n++] = (char)(hexval(escaped[1]) << 4 | hexval(escaped[2]));
            escaped += 3;
        } else
            string[n++] = *escaped++;
    }
    if (len > 0)
        string[n] = '\0';
    return *escaped ? -1 : n;
}

int lws_http_get_uri_and_method(struct lws *w, char **puri_ptr, int *puri_len)
{
    static const enum lws_token_indexes m[] = {
        WSI_TOKEN_GET_URI,   WSI_TOKEN_POST_URI,   WSI_TOKEN_OPTIONS_URI, WSI_TOKEN_PUT_URI,
        WSI_TOKEN_PATCH_URI, WSI_TOKEN_DELETE_URI, WSI_TOKEN_HEAD_URI};
    unsigned i;

    for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
        const char *v = value(w, m[i]);
        if (v) {
            *puri_ptr = (char *)v;
            *puri_len = (int)strlen(v);
            return (int)m[i];
        }
    }
    return -1;
}

/* struct lws accessors. */
struct lws_vhost *lws_get_vhost(struct lws *w)
{
    return w->vh;
}

const struct lws_protocols *lws_get_protocol(struct lws *w)
{
    return w->t ? w->t->lp : NULL;
}

struct lws_context *lws_get_context(const struct lws *w)
{
    return w->vh ? w->vh->cx : NULL;
}

void *lws_wsi_user(struct lws *w)
{
    return w->user;
}

void lws_set_wsi_user(struct lws *w, void *user)
{
    w->user = user;
}

void *lws_get_opaque_user_data(const struct lws *w)
{
    return w->opaque;
}

void lws_set_opaque_user_data(struct lws *w, void *data)
{
    w->opaque = data;
}

struct lws *lws_get_parent(const struct lws *w)
{
    return w->parent;
}

int lws_get_tsi(struct lws *w)
{
    return w->c ? kite_conn_tsi(w->c) : 0;
}

kite_conn_t *lws_kite_conn(struct lws *w)
{
    return w->c;
}

lws_sockfd_type lws_get_socket_fd(struct lws *w)
{
    int fd = w && w->c ? kite_conn_fd(w->c) : -1;

    return fd < 0 ? -1 : fd;
}

const char *lws_get_peer_simple(struct lws *w, char *name, size_t namelen)
{
    int port;

    if (!w->c || kite_conn_peer(w->c, name, namelen, &port) < 0)
        return NULL;
    return name;
}

void lws_get_peer_addresses(struct lws *w, lws_sockfd_type fd, char *name, int name_len, char *rip,
                            int rip_len)
{
    if (rip_len > 0 && !lws_get_peer_simple(w, rip, (size_t)rip_len))
        rip[0] = '\0';
    if (name_len > 0)
        lws_strncpy(name, rip_len > 0 ? rip : "", (size_t)name_len);
}

int lws_is_ssl(struct lws *w)
{
    return 0;
}

int lws_is_first_fragment(struct lws *w)
{
    return w->rx_first;
}

int lws_is_final_fragment(struct lws *w)
{
    return w->rx_final;
}

int lws_frame_is_binary(struct lws *w)
{
    return w->rx_binary;
}

size_t lws_remaining_packet_payload(struct lws *w)
{
    return w->rx_remaining;
}

int lws_callback_on_writable(struct lws *w)
{
    return w && w->c && kite_callback_on_writable(w->c) == 0 ? 1 : -1;
}

int lws_send_pipe_choked(struct lws *w)
{
    return w->c && kite_conn_pending(w->c) > 0;
}

int lws_partial_buffered(struct lws *w)
{
    return lws_send_pipe_choked(w);
}

void lws_close_reason(struct lws *w, enum lws_close_status status, unsigned char *buf, size_t len)
{
    w->close_code = (int)status;
    if (len > sizeof(w->close_reason) - 1)
        len = sizeof(w->close_reason) - 1;
    if (buf)
        memcpy(w->close_reason, buf, len);
    w->close_reason[len] = '\0';
    w->close_len = len;
}

void lws_set_timeout(struct lws *w, enum pending_timeout reason, int secs)
{
    if (!w->c)
        return;
    if (secs == LWS_TO_KILL_ASYNC || secs == LWS_TO_KILL_SYNC)
        kite_close(w->c, w->close_code ? w->close_code : KITE_WS_CLOSE_NORMAL, NULL);
    else
        kite_set_timeout(w->c, secs);
}

static void timer_cb(kite_conn_t *c, kite_timer_t *t)
{
    struct lws *w = lws_container_of(t, struct lws, timer);

    if (lwsk_call(w, LWS_CALLBACK_TIMER, NULL, 0))
        kite_close(c, w->close_code ? w->close_code : KITE_WS_CLOSE_NORMAL, NULL);
}

void lws_set_timer_usecs(struct lws *w, lws_usec_t usecs)
{
    if (!w->c)
        return;
    if (usecs == LWS_SET_TIMER_USEC_CANCEL)
        kite_timer_cancel(&w->timer);
    else
        kite_timer_schedule(w->c, &w->timer, (uint64_t)usecs, timer_cb);
}
