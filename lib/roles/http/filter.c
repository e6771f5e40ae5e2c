/*
 * Checks made before a request is routed: strict-host-check (a Host that
 * names no vhost on the listener is refused when the listener's default
 * vhost asks for it) and reject-service-keywords (a User-Agent holding a
 * listed keyword gets the listed status and the built-in page). Both
 * cost nothing when not configured.
 */
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

int kite__http_filter(kite_conn_t *c, kite_http_req_t *t, int *answered)
{
    const kite_pvo_t *kw = c->pt->ctx->info.reject_service_keywords;
    const char *ua;

    *answered = 1;
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
