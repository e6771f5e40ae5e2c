/*
 * Writing: lws_write() with its write protocols onto kite_write(); the
 * response head an lws application builds as text in its own buffer is
 * read back (status, Content-Type, Content-Length, the other headers) and
 * handed to kite_http_respond(); status pages, redirects, completion and
 * file serving, one piece per writeable callback.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "private.h"

/* Send the head held in @buf: "HTTP/1.1 200 OK\r\n", "name: value\r\n"s. */
static int send_head(struct lws *w, const char *buf, size_t len)
{
    const char *p = buf, *end = buf + len, *type = NULL;
    char tbuf[128], name[64], value[1024];
    int64_t clen = -1;
    int status = 200;

    if (len > 5 && !strncmp(p, "HTTP/", 5)) {
        const char *sp = memchr(p, ' ', len);
        if (sp)
            status = atoi(sp + 1);
        p = memchr(p, '\n', len);
        p = p ? p + 1 : end;
    }
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p)), *colon, *v;
        size_t nl, vl;
        if (!eol)
            eol = end;
        colon = memchr(p, ':', (size_t)(eol - p));
        if (colon && colon > p) {
            nl = (size_t)(colon - p);
            for (v = colon + 1; v < eol && *v == ' '; v++)
                ;
            vl = (size_t)(eol - v);
            if (vl && v[vl - 1] == '\r')
                vl--;
            if (nl < sizeof(name) && vl < sizeof(value)) {
                memcpy(name, p, nl);
                name[nl] = '\0';
                memcpy(value, v, vl);
                value[vl] = '\0';
                if (!strcasecmp(name, "content-length"))
                    clen = strtoll(value, NULL, 10);
                else if (!strcasecmp(name, "content-type") && vl < sizeof(tbuf)) {
                    memcpy(tbuf, value, vl + 1);
                    type = tbuf;
                } else if (strcasecmp(name, "connection") &&
                           strcasecmp(name, "transfer-encoding") && strcasecmp(name, "server") &&
                           strcasecmp(name, "date") && kite_http_add_header(w->c, name, value) < 0)
                    return -1;
            }
        }
        p = eol + 1;
    }
    w->head_sent = 1;
    return kite_http_respond(w->c, status, type, clen) < 0 ? -1 : 0;
}

int lws_write(struct lws *w, unsigned char *buf, size_t len, enum lws_write_protocol wp)
{
    unsigned flags;

    if (!w || !w->c)
        return -1;
    switch (wp & 0x1f) {
    case LWS_WRITE_TEXT:
        flags = KITE_WRITE_TEXT;
        break;
    case LWS_WRITE_BINARY:
        flags = KITE_WRITE_BINARY;
        break;
    case LWS_WRITE_CONTINUATION:
        flags = KITE_WRITE_CONTINUATION;
        break;
    case LWS_WRITE_PING:
        flags = KITE_WRITE_PING;
        break;
    case LWS_WRITE_PONG:
        flags = KITE_WRITE_PONG;
        break;
    case LWS_WRITE_HTTP: /* and LWS_WRITE_RAW */
        flags = w->role == LWSK_R_RAW || w->role == LWSK_R_CLIENT_RAW ? KITE_WRITE_RAW
                                                                      : KITE_WRITE_HTTP;
        break;
    case LWS_WRITE_HTTP_FINAL:
        flags = KITE_WRITE_HTTP_FINAL;
        w->finished = 1;
        break;
    case LWS_WRITE_HTTP_HEADERS:
    case LWS_WRITE_HTTP_HEADERS_CONTINUATION:
        return send_head(w, (const char *)buf, len) < 0 ? -1 : (int)len;
    default:
        return -1;
    }
    if ((wp & LWS_WRITE_NO_FIN) && flags <= KITE_WRITE_CONTINUATION)
        flags |= KITE_WRITE_NO_FIN;
    return kite_write(w->c, buf, len, flags) < 0 ? -1 : (int)len;
}

int lws_write_ws_flags(int initial, int is_start, int is_end)
{
    int r = is_start ? initial : LWS_WRITE_CONTINUATION;

    return is_end ? r : r | LWS_WRITE_NO_FIN;
}

static int put(unsigned char **p, unsigned char *end, const char *fmt, const char *a, const char *b,
               int blen)
{
    int n = snprintf((char *)*p, (size_t)(end - *p), fmt, a, blen, b);

    if (n < 0 || n >= end - *p)
        return 1;
    *p += n;
    return 0;
}

int lws_add_http_header_status(struct lws *w, unsigned int code, unsigned char **p,
                               unsigned char *end)
{
    char c[64];

    snprintf(c, sizeof(c), "%u %s", code, kite_http_status_text((int)code));
    return put(p, end, "HTTP/1.1 %s%.*s\r\n", c, "", 0);
}

int lws_add_http_header_by_name(struct lws *w, const unsigned char *name,
                                const unsigned char *value, int length, unsigned char **p,
                                unsigned char *end)
{
    return put(p, end, "%s %.*s\r\n", (const char *)name, (const char *)value, length);
}

int lws_add_http_header_by_token(struct lws *w, enum lws_token_indexes token,
                                 const unsigned char *value, int length, unsigned char **p,
                                 unsigned char *end)
{
    const unsigned char *name = lws_token_to_string(token);

    return name ? lws_add_http_header_by_name(w, name, value, length, p, end) : 1;
}

int lws_add_http_header_content_length(struct lws *w, unsigned long content_length,
                                       unsigned char **p, unsigned char *end)
{
    char b[24];

    snprintf(b, sizeof(b), "%lu", content_length);
    return put(p, end, "%scontent-length: %.*s\r\n", "", b, (int)strlen(b));
}

int lws_finalize_http_header(struct lws *w, unsigned char **p, unsigned char *end)
{
    return put(p, end, "%s\r\n%.*s", "", "", 0);
}

int lws_finalize_write_http_header(struct lws *w, unsigned char *start, unsigned char **pp,
                                   unsigned char *end)
{
    size_t l;

    if (lws_finalize_http_header(w, pp, end))
        return 1;
    l = (size_t)(*pp - start);
    return lws_write(w, start, l, LWS_WRITE_HTTP_HEADERS) != (int)l;
}

int lws_add_http_common_headers(struct lws *w, unsigned int code, const char *content_type,
                                unsigned long content_len, unsigned char **p, unsigned char *end)
{
    if (lws_add_http_header_status(w, code, p, end))
        return 1;
    if (content_type &&
        put(p, end, "%scontent-type: %.*s\r\n", "", content_type, (int)strlen(content_type)))
        return 1;
    if (content_len != LWS_ILLEGAL_HTTP_CONTENT_LEN &&
        lws_add_http_header_content_length(w, content_len, p, end))
        return 1;
    return 0;
}

int lws_http_transaction_completed(struct lws *w)
{
    if (w->c && w->head_sent && !w->finished) {
        w->finished = 1;
        kite_write(w->c, "", 0, KITE_WRITE_HTTP_FINAL);
    }
    return 0;
}

int lws_return_http_status(struct lws *w, unsigned int code, const char *html_body)
{
    w->head_sent = w->finished = 1;
    return kite_http_send_status(w->c, (int)code, html_body) < 0 ? -1 : 0;
}

int lws_http_redirect(struct lws *w, int code, const unsigned char *loc, int len, unsigned char **p,
                      unsigned char *end)
{
    char *l = strndup((const char *)loc, (size_t)len);
    int r;

    if (!l)
        return -1;
    w->head_sent = w->finished = 1;
    r = kite_http_redirect(w->c, code, l);
    free(l);
    return r < 0 ? -1 : len + 1;
}

int lws_serve_http_file(struct lws *w, const char *file, const char *content_type,
                        const char *other_headers, int other_headers_len)
{
    struct stat st;
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    char *head;
    int r;

    if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        lws_return_http_status(w, HTTP_STATUS_NOT_FOUND, NULL);
        return -1;
    }
    /* The extra headers are lws text lines: send them with the head. */
    head = malloc((size_t)other_headers_len + 256);
    if (!head) {
        close(fd);
        return -1;
    }
    r = snprintf(head, 256, "HTTP/1.1 200 OK\r\ncontent-type: %s\r\ncontent-length: %lld\r\n",
                 content_type ? content_type : "application/octet-stream", (long long)st.st_size);
    if (other_headers_len > 0)
        memcpy(head + r, other_headers, (size_t)other_headers_len);
    r = send_head(w, head, (size_t)r + (size_t)(other_headers_len > 0 ? other_headers_len : 0));
    free(head);
    if (r < 0) {
        close(fd);
        return -1;
    }
    w->file_fd = fd;
    w->file_left = st.st_size;
    return kite_callback_on_writable(w->c) < 0 ? -1 : 0;
}

int lwsk_serve_file_step(struct lws *w)
{
    char buf[16384];
    ssize_t n = read(w->file_fd, buf,
                     w->file_left < (int64_t)sizeof(buf) ? (size_t)w->file_left : sizeof(buf));

    if (n < 0 || (n == 0 && w->file_left))
        return 1;
    w->file_left -= n;
    if (kite_write(w->c, buf, (size_t)n, w->file_left ? KITE_WRITE_HTTP : KITE_WRITE_HTTP_FINAL) <
        0)
        return 1;
    if (w->file_left)
        return kite_callback_on_writable(w->c) < 0;
    close(w->file_fd);
    w->file_fd = -1;
    w->finished = 1;
    return lwsk_call(w, LWS_CALLBACK_HTTP_FILE_COMPLETION, NULL, 0) ? 1 : 0;
}

int lws_http_mark_sse(struct lws *w)
{
    return 0;
}

int lws_http_is_redirected_to_get(struct lws *w)
{
    return 0;
}

/* protocols[0] of most lws applications: requests no mount took get 404. */
int lws_callback_http_dummy(struct lws *w, enum lws_callback_reasons reason, void *user, void *in,
                            size_t len)
{
    if (reason == LWS_CALLBACK_HTTP) {
        if (lws_return_http_status(w, HTTP_STATUS_NOT_FOUND, NULL))
            return -1;
        return lws_http_transaction_completed(w);
    }
    return 0;
}

int lws_extension_callback_pm_deflate(struct lws_context *context, const struct lws_extension *ext,
                                      struct lws *wsi, int reason, void *user, void *in, size_t len)
{
    return 0;
}
