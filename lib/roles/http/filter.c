/*
 * Checks made before a request is routed: strict-host-check (a Host that
 * names no vhost on the listener is refused when the listener's default
 * vhost asks for it) and reject-service-keywords (a User-Agent holding a
 * listed keyword gets the listed status and the built-in page), and
 * redirect-http (a conn core marked as plain HTTP its vhost wants on
 * https gets a 301 there). They cost nothing when not configured.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roles/http/private-http.h"

/* "404" or "404 Not Found": the status, or -1. */
static int reject_status(const char *v)
{
    char *e;
    long n = v ? strtol(v, &e, 10) : -1;

    if (!v || e == v || (*e && *e != ' ') || n < 200 || n > 999)
        return -1;
    return (int)n;
}

int kite__http_reject_check(const kite_pvo_t *kw)
{
    for (; kw; kw = kw->next)
        if (!kw->name || !*kw->name || reject_status(kw->value) < 0) {
            kite_err("reject-service-keywords: \"%s\": the value must be a status (\"404\" or "
                     "\"404 Not Found\"), not \"%s\"",
                     kw->name ? kw->name : "", kw->value ? kw->value : "");
            return KITE_EINVAL;
        }
    return 0;
}

static int to_https(kite_conn_t *c, kite_http_req_t *t)
{
    const char *host = t->p.host ? t->p.host : c->vh->name, *e;
    int hlen = t->p.host ? (int)t->p.host_len : (int)strlen(c->vh->name);
    unsigned port = c->ls ? c->ls->vhosts[0]->https_port : 0;
    char loc[2048], hp[300];
    int n;

    /* redirect-http-port: the Host's name ("[::1]" or "name", its port
     * dropped) with that port. */
    if (port) {
        if (host[0] == '[' && (e = memchr(host, ']', (size_t)hlen)))
            hlen = (int)(e + 1 - host);
        else if ((e = memchr(host, ':', (size_t)hlen)))
            hlen = (int)(e - host);
        n = snprintf(hp, sizeof(hp), port == 443 ? "%.*s" : "%.*s:%u", hlen, host, port);
        if (n < 0 || (size_t)n >= sizeof(hp))
            return kite__http_error(c, t, 400, NULL);
        host = hp;
        hlen = n;
    }
    /* The path and query as they came (still encoded); no Host (HTTP/1.0):
     * the vhost's name. */
    n = snprintf(loc, sizeof(loc), "https://%.*s%.*s%s%.*s", hlen, host,
                 t->p.path ? (int)t->p.path_len : 1, t->p.path ? t->p.path : "/",
                 t->p.query ? "?" : "", t->p.query ? (int)t->p.query_len : 0,
                 t->p.query ? t->p.query : "");
    if (n < 0 || (size_t)n >= sizeof(loc))
        return kite__http_error(c, t, 414, NULL);
    return kite_http_redirect(c, 301, loc);
}

int kite__http_filter(kite_conn_t *c, kite_http_req_t *t, int *answered)
{
    const kite_pvo_t *kw = c->pt->ctx->info.reject_service_keywords;
    const char *ua;

    *answered = 1;
    if (c->flags & KITE__C_TO_HTTPS)
        return to_https(c, t);
    if (c->ls && (c->ls->vhosts[0]->options & KITE_VH_STRICT_HOST) &&
        (!t->p.host || !kite__vhost_named(c->ls, t->p.host, t->p.host_len)))
        return kite__http_error(c, t, 400, "unknown host");
    if (kw && (ua = kite_http_header(t, "User-Agent")))
        for (; kw; kw = kw->next)
            if (strstr(ua, kw->name))
                return kite__http_error(c, t, reject_status(kw->value), NULL);
    *answered = 0;
    return 0;
}
