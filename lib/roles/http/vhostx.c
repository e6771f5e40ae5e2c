/*
 * LibHTTP options of a whole vhost: access-control-allow-origin (the
 * header joins the vhost's pre-rendered headers, so it costs nothing per
 * response, and CORS preflight OPTIONS requests get their answer here)
 * and error-pages (a directory served like a file mount, looked up only
 * when an error is sent). Vhosts without them carry two NULL pointers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roles/http/private-http.h"

/* The error-pages directory as a file mount with no options. */
struct errpages {
    kite__mount_rt_t rt;
    kite_mount_t m;
};

static int add_cors_header(kite_vhost_t *vh, const char *origin)
{
    size_t len = strlen(origin);
    char *h;

    if (!*origin || strpbrk(origin, "\r\n")) {
        kite_err("vhost %s: bad access-control-allow-origin", vh->name);
        return KITE_EINVAL;
    }
    if (!(kite__http_vh(vh)->cors_origin = strdup(origin)))
        return KITE_ENOMEM;
    if (!(h = realloc(vh->headers, vh->headers_len + len + 32)))
        return KITE_ENOMEM;
    vh->headers = h;
    vh->headers_len +=
        (size_t)sprintf(h + vh->headers_len, "Access-Control-Allow-Origin: %s\r\n", origin);
    return 0;
}

static int open_errpages(kite_vhost_t *vh, const char *dir)
{
    struct errpages *ep = calloc(1, sizeof(*ep));

    if (!ep)
        return KITE_ENOMEM;
    kite__http_vh(vh)->errpages = &ep->rt;
    ep->rt.m = &ep->m;
    ep->m.mountpoint = "/";
    ep->rt.type = KITE_MOUNT_FILE;
    if (!(ep->rt.root = realpath(dir, NULL))) {
        kite_err("vhost %s: error-pages \"%s\": %s", vh->name, dir, strerror(errno));
        return KITE_ENOENT;
    }
    ep->rt.root_len = strlen(ep->rt.root);
    return 0;
}

int kite__http_vhost_open(kite_vhost_t *vh, const kite_vhost_info_t *info)
{
    int r;

    if (info->cors_origin && (r = add_cors_header(vh, info->cors_origin)) < 0)
        return r;
    if (info->error_pages && (r = open_errpages(vh, info->error_pages)) < 0)
        return r;
    if (info->put_delete_auth_file &&
        !(kite__http_vh(vh)->putdel = strdup(info->put_delete_auth_file)))
        return KITE_ENOMEM;
    return kite__http_dauth_open(vh, info);
}

void kite__http_vhost_close(kite_vhost_t *vh)
{
    kite__http_dauth_close(vh);
    free(kite__http_vh(vh)->putdel);
    free(kite__http_vh(vh)->cors_origin);
    if (kite__http_vh(vh)->errpages) {
        free(kite__http_vh(vh)->errpages->root);
        free(kite__http_vh(vh)->errpages); /* the first member of struct errpages */
    }
}

int kite__http_cors_preflight(kite_conn_t *c, kite_http_req_t *t)
{
    const char *method = kite_http_header(t, "Access-Control-Request-Method");
    const char *hdrs = kite_http_header(t, "Access-Control-Request-Headers");

    kite__http_add_header_n(t, "Access-Control-Allow-Methods", method, strlen(method));
    if (hdrs)
        kite__http_add_header_n(t, "Access-Control-Allow-Headers", hdrs, strlen(hdrs));
    kite__http_add_header_n(t, "Access-Control-Max-Age", "60", 2);
    if (t->wire->respond(c, t, 200, NULL, 0) < 0)
        return KITE_ECLOSED;
    return t->wire->body(c, t, NULL, 0, 1);
}

int kite__http_error_page(kite_conn_t *c, kite_http_req_t *t, int status)
{
    char name[32];

    snprintf(name, sizeof(name), "/error%d.html", status);
    if (!kite__http_serve_file(c, t, kite__http_vh(c->vh)->errpages, name, status))
        return 0;
    snprintf(name, sizeof(name), "/error%dxx.html", status / 100);
    if (!kite__http_serve_file(c, t, kite__http_vh(c->vh)->errpages, name, status))
        return 0;
    return kite__http_serve_file(c, t, kite__http_vh(c->vh)->errpages, "/error.html", status);
}
