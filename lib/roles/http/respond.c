/*
 * The response API for handlers: extra headers, the status line through
 * the wire role, complete status pages (built in, or the vhost's 404
 * document), redirects and the reason phrases.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roles/http/private-http.h"

static const struct {
    unsigned short code;
    const char *text;
} reasons[] = {
    {100, "Continue"},
    {101, "Switching Protocols"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {203, "Non-Authoritative Information"},
    {204, "No Content"},
    {205, "Reset Content"},
    {206, "Partial Content"},
    {207, "Multi-Status"},
    {300, "Multiple Choices"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {303, "See Other"},
    {304, "Not Modified"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {402, "Payment Required"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {407, "Proxy Authentication Required"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {410, "Gone"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {416, "Range Not Satisfiable"},
    {417, "Expectation Failed"},
    {421, "Misdirected Request"},
    {422, "Unprocessable Content"},
    {423, "Locked"},
    {424, "Failed Dependency"},
    {426, "Upgrade Required"},
    {428, "Precondition Required"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {451, "Unavailable For Legal Reasons"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
    {507, "Insufficient Storage"},
    {508, "Loop Detected"},
    {511, "Network Authentication Required"},
};

const char *kite_http_status_text(int status)
{
    size_t i;

    for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (reasons[i].code == status)
            return reasons[i].text;
    return "";
}

static kite_http_req_t *txn_of(kite_conn_t *c)
{
    if (!c->role->http || (c->flags & (KITE__C_CLOSED | KITE__C_ABORT)))
        return NULL;
    return c->rd;
}

static int header_text_ok(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
            return 0;
    return 1;
}

int kite__http_add_header_n(kite_http_req_t *t, const char *name, const char *value, size_t vlen)
{
    size_t nlen = strlen(name), need = nlen + vlen + 4;
    char *p;

    if (!nlen || !header_text_ok(name, nlen) || strchr(name, ':') || !header_text_ok(value, vlen))
        return KITE_EINVAL;
    if (t->rh_len + need > 4096)
        return KITE_E2BIG;
    if (t->rh_len + need > t->rh_cap) {
        size_t cap = t->rh_len + need < 512 ? 512 : 4096;
        if (!t->rh && t->used + cap <= sizeof(t->arena)) {
            p = t->arena + t->used;
            t->used += cap;
        } else {
            p = malloc(cap);
            if (!p)
                return KITE_ENOMEM;
            if (t->rh_len)
                memcpy(p, t->rh, t->rh_len);
            if (t->rh && (t->rh < t->arena || t->rh >= t->arena + sizeof(t->arena)))
                free(t->rh);
        }
        t->rh = p;
        t->rh_cap = cap;
    }
    p = t->rh + t->rh_len;
    memcpy(p, name, nlen);
    memcpy(p + nlen, ": ", 2);
    memcpy(p + nlen + 2, value, vlen);
    memcpy(p + nlen + 2 + vlen, "\r\n", 2);
    t->rh_len += need;
    return 0;
}

static int name_is(const char *name, size_t n, const char *want)
{
    return n == strlen(want) && !kite__strncasecmp(name, want, n);
}

int kite__http_script_field(kite_http_req_t *t, const char *name, size_t nlen, char *v, char *e,
                            const char **ctype, int64_t *clen)
{
    while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
        *--e = '\0';
    if (name_is(name, nlen, "Content-Type")) {
        *ctype = v;
    } else if (name_is(name, nlen, "Content-Length")) {
        char *x;
        long long n = strtoll(v, &x, 10);
        if (x == v || *x || n < 0)
            return KITE_EPROTO;
        *clen = n;
    } else if (!name_is(name, nlen, "Connection") && !name_is(name, nlen, "Transfer-Encoding") &&
               !name_is(name, nlen, "Keep-Alive") && !name_is(name, nlen, "Date") &&
               !name_is(name, nlen, "Server")) {
        if (kite__http_add_header_n(t, name, v, (size_t)(e - v)) < 0)
            return KITE_EPROTO;
    }
    return 0;
}

int kite_http_add_header(kite_conn_t *c, const char *name, const char *value)
{
    kite_http_req_t *t = txn_of(c);

    if (!t)
        return KITE_ESTATE;
    if (t->tflags & KITE__T_HEAD_SENT)
        return KITE_ESTATE;
    return kite__http_add_header_n(t, name, value, strlen(value));
}

int kite_http_respond(kite_conn_t *c, int status, const char *content_type, int64_t content_length)
{
    kite_http_req_t *t = txn_of(c);

    if (!t || (t->tflags & KITE__T_HEAD_SENT))
        return KITE_ESTATE;
    if (status < 200 || status > 999)
        return KITE_EINVAL;
    return t->wire->respond(c, t, status, content_type, content_length);
}

static size_t html_escape(char *o, size_t cap, const char *s)
{
    size_t n = 0;

    for (; s && *s && n + 7 < cap; s++) {
        const char *e = NULL;
        switch (*s) {
        case '<':
            e = "&lt;";
            break;
        case '>':
            e = "&gt;";
            break;
        case '&':
            e = "&amp;";
            break;
        case '"':
            e = "&quot;";
            break;
        case '\'':
            e = "&#39;";
            break;
        }
        if (e) {
            size_t k = strlen(e);
            memcpy(o + n, e, k);
            n += k;
        } else {
            o[n++] = *s;
        }
    }
    o[n] = '\0';
    return n;
}

static int send_page(kite_conn_t *c, kite_http_req_t *t, int status, const char *detail)
{
    char esc[512], body[1024];
    const char *text = kite_http_status_text(status);
    int n, r;

    html_escape(esc, sizeof(esc), detail);
    n = snprintf(body, sizeof(body),
                 "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%d %s</title>"
                 "</head>\n<body><h1>%d %s</h1>%s%s%s</body></html>\n",
                 status, text, status, text, *esc ? "<p>" : "", esc, *esc ? "</p>" : "");
    if (status == 204 || status == 304)
        n = 0;
    r = t->wire->respond(c, t, status, n ? "text/html; charset=utf-8" : NULL, n);
    if (r < 0)
        return r;
    return t->wire->body(c, t, body, (size_t)n, 1);
}

int kite__http_error(kite_conn_t *c, kite_http_req_t *t, int status, const char *detail)
{
    kite_vhost_t *vh = c->vh;
    int i;

    if (t->tflags & KITE__T_HEAD_SENT)
        return KITE_ESTATE;
    kite__http_set_reason(t, NULL, 0); /* a script's phrase is not ours */
    /* The vhost's own 404 page: a path served by one of its file mounts. */
    if (status == 404 && vh->error_document_404 && !(t->tflags & KITE__T_IS_HEAD)) {
        const char *doc = vh->error_document_404;
        for (i = 0; i < vh->nmounts; i++) {
            const kite__mount_rt_t *m = &vh->mrt[i];
            if (m->type != KITE_MOUNT_FILE || strncmp(doc, m->m->mountpoint, m->mp_len) ||
                (doc[m->mp_len] != '/' && doc[m->mp_len]))
                continue;
            if (kite__http_serve_file(c, t, m, doc + m->mp_len, 404) == 0)
                return 0;
            break;
        }
    }
    if (status >= 400 && kite__http_vh(vh)->errpages && !(t->tflags & KITE__T_IS_HEAD) &&
        !kite__http_error_page(c, t, status))
        return 0;
    return send_page(c, t, status, detail);
}

int kite_http_send_status(kite_conn_t *c, int status, const char *detail)
{
    kite_http_req_t *t = txn_of(c);

    if (!t)
        return KITE_ESTATE;
    if (status < 200 || status > 999)
        return KITE_EINVAL;
    return kite__http_error(c, t, status, detail);
}

int kite_http_redirect(kite_conn_t *c, int status, const char *location)
{
    kite_http_req_t *t = txn_of(c);
    char esc[512], body[768];
    int n, r;

    if (!t || (t->tflags & KITE__T_HEAD_SENT))
        return KITE_ESTATE;
    if (status < 300 || status > 399 || !location)
        return KITE_EINVAL;
    r = kite_http_add_header(c, "Location", location);
    if (r < 0)
        return r;
    html_escape(esc, sizeof(esc), location);
    n = snprintf(body, sizeof(body),
                 "<!DOCTYPE html>\n<html><body><a href=\"%s\">%s</a></body></html>\n", esc, esc);
    r = t->wire->respond(c, t, status, "text/html; charset=utf-8", n);
    if (r < 0)
        return r;
    return t->wire->body(c, t, body, (size_t)n, 1);
}

int kite__http_write(kite_conn_t *c, const void *buf, size_t len, unsigned flags)
{
    kite_http_req_t *t = c->rd;
    unsigned kind = flags & KITE_WRITE_KIND_MASK;

    if (kind != KITE_WRITE_HTTP && kind != KITE_WRITE_HTTP_FINAL)
        return KITE_EINVAL;
    if (!t || !(t->tflags & KITE__T_HEAD_SENT) || (t->tflags & KITE__T_FINAL))
        return KITE_ESTATE;
    if (c->out_bytes + len > c->pt->ctx->info.max_output)
        return KITE_EAGAIN;
    return t->wire->body(c, t, buf, len, kind == KITE_WRITE_HTTP_FINAL);
}
