/*
 * protocol-post-demo: the lws "post demo" for kite. A callback mount
 * (/formtest in the test server) takes a urlencoded form by POST, streams
 * the body in pieces (never holding more than the form fields it keeps,
 * bounded), and answers with a page listing the fields. GET shows the form.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kite.h"
#include "protocol-post-demo.h"

#define MAX_FORM 4096

struct pss {
    size_t len;
    size_t total;
    int truncated;
    char form[MAX_FORM + 1];
};

static const char form_page[] =
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>kite post demo</title></head>"
    "<body><form method=\"post\" action=\"/formtest\">"
    "<input type=\"text\" name=\"text\" value=\"hello\"><input type=\"submit\" name=\"send\">"
    "</form></body></html>\n";

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode one urlencoded component into @o, HTML-escaped; returns bytes. */
static size_t put_decoded(char *o, size_t cap, const char *s, size_t n)
{
    size_t i, w = 0;

    for (i = 0; i < n && w + 6 < cap; i++) {
        int ch = (unsigned char)s[i];
        if (ch == '+')
            ch = ' ';
        else if (ch == '%' && i + 2 < n + 0 && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            ch = hexval(s[i + 1]) * 16 + hexval(s[i + 2]);
            i += 2;
        }
        if (ch == '<')
            w += (size_t)snprintf(o + w, cap - w, "&lt;");
        else if (ch == '>')
            w += (size_t)snprintf(o + w, cap - w, "&gt;");
        else if (ch == '&')
            w += (size_t)snprintf(o + w, cap - w, "&amp;");
        else if (ch == '"')
            w += (size_t)snprintf(o + w, cap - w, "&quot;");
        else
            o[w++] = (char)ch;
    }
    o[w] = '\0';
    return w;
}

static int on_http(kite_conn_t *c, void *user, const kite_http_req_t *req)
{
    (void)user;
    if (kite_http_method_id(req) == KITE_HTTP_POST)
        return 0; /* answered when the body is complete */
    if (kite_http_method_id(req) != KITE_HTTP_GET && kite_http_method_id(req) != KITE_HTTP_HEAD) {
        kite_http_add_header(c, "Allow", "GET, HEAD, POST");
        return kite_http_send_status(c, 405, NULL) < 0;
    }
    if (kite_http_respond(c, 200, "text/html; charset=utf-8", sizeof(form_page) - 1) < 0)
        return 1;
    return kite_write(c, form_page, sizeof(form_page) - 1, KITE_WRITE_HTTP_FINAL) < 0;
}

static int on_http_body(kite_conn_t *c, void *user, const void *in, size_t len)
{
    struct pss *pss = user;
    size_t room = MAX_FORM - pss->len, k = len < room ? len : room;

    (void)c;
    memcpy(pss->form + pss->len, in, k);
    pss->len += k;
    pss->total += len;
    if (k < len)
        pss->truncated = 1;
    return 0;
}

static int on_http_body_done(kite_conn_t *c, void *user)
{
    struct pss *pss = user;
    char page[MAX_FORM * 6 + 1024];
    size_t w = 0;
    const char *p = pss->form, *end = pss->form + pss->len;

    w += (size_t)snprintf(page, sizeof(page),
                          "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>kite post "
                          "demo</title></head><body><p>%zu bytes received%s</p><table>\n",
                          pss->total, pss->truncated ? " (form truncated)" : "");
    while (p < end && w + 64 < sizeof(page)) {
        const char *amp = memchr(p, '&', (size_t)(end - p)), *eq;
        const char *fend = amp ? amp : end;

        eq = memchr(p, '=', (size_t)(fend - p));
        w += (size_t)snprintf(page + w, sizeof(page) - w, "<tr><td>");
        w += put_decoded(page + w, sizeof(page) - w, p, (size_t)((eq ? eq : fend) - p));
        w += (size_t)snprintf(page + w, sizeof(page) - w, "</td><td>");
        if (eq)
            w += put_decoded(page + w, sizeof(page) - w, eq + 1, (size_t)(fend - eq - 1));
        w += (size_t)snprintf(page + w, sizeof(page) - w, "</td></tr>\n");
        p = amp ? amp + 1 : end;
    }
    w += (size_t)snprintf(page + w, sizeof(page) - w, "</table></body></html>\n");
    if (kite_http_respond(c, 200, "text/html; charset=utf-8", (int64_t)w) < 0)
        return 1;
    return kite_write(c, page, w, KITE_WRITE_HTTP_FINAL) < 0;
}

const kite_protocol_t kite_protocol_post_demo = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "protocol-post-demo",
    .per_session_size = sizeof(struct pss),
    .on_http = on_http,
    .on_http_body = on_http_body,
    .on_http_body_done = on_http_body_done,
};
