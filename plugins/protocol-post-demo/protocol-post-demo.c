/*
 * protocol-post-demo: the lws "post demo" for kite. A callback mount
 * (/formtest in the test server) shows a form on GET and takes it by POST,
 * streaming the body in pieces, then answers with a page listing the
 * fields. Two encodings:
 *
 *  - application/x-www-form-urlencoded: the first MAX_FORM bytes are kept
 *    (the rest is counted and the page says "form truncated").
 *  - multipart/form-data: a streaming parser (the boundary may be split
 *    anywhere between pieces). Text fields go into the table, up to
 *    MAX_FORM bytes in all; file parts are written as they arrive to one
 *    temporary file (mkstemp in $TMPDIR or /tmp), their name and size
 *    listed in the table. More than max-file-size bytes of files (per-vhost
 *    option "max-file-size", default 16 MiB) is answered with 413 at once.
 *    The temporary file is removed when the transaction ends (on_closed),
 *    whatever the outcome.
 *
 * kite never holds a whole body: memory per request is the fixed
 * per-session struct below.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "kite.h"
#include "protocol-post-demo.h"

#define MAX_FORM         4096
#define MAX_PART_HEAD    1024
#define MAX_BOUNDARY     70
#define DEFAULT_MAX_FILE (16u << 20)

enum { MP_PREAMBLE, MP_AFTER_DELIM, MP_HEADERS, MP_DATA, MP_END };

struct vhd {
    long long max_file;
};

struct pss {
    size_t len;   /* bytes used in form[] */
    size_t total; /* body bytes received */
    int truncated;
    int multipart;
    int failed; /* answered early (400/413): ignore the rest */
    /* multipart parser */
    int state;
    size_t match; /* bytes of delim matched so far */
    size_t delim_len;
    char delim[4 + MAX_BOUNDARY + 1]; /* "\r\n--" boundary */
    int after_n;                      /* bytes seen after a delimiter */
    char after[2];
    size_t head_len;
    char head[MAX_PART_HEAD];
    int in_file;  /* the current part is a file */
    int in_field; /* the current part's value goes into form[] */
    char part_name[128];
    char file_name[256];
    long long part_size;
    long long files_total;
    long long max_file;
    int fd; /* the temporary file, while have_fd */
    int have_fd;
    char tmp_path[64];
    /* urlencoded: the raw form. multipart: records of
     * kind ('v' field, 'f' file), name, NUL, value, NUL. */
    char form[MAX_FORM + 1];
};

static const char form_page[] =
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>kite post demo</title></head>"
    "<body><form method=\"post\" action=\"/formtest\">"
    "<input type=\"text\" name=\"text\" value=\"hello\"><input type=\"submit\" name=\"send\">"
    "</form>\n<form method=\"post\" action=\"/formtest\" enctype=\"multipart/form-data\">"
    "<input type=\"text\" name=\"text\" value=\"hello\"><input type=\"file\" name=\"file\">"
    "<input type=\"submit\" name=\"upload\"></form></body></html>\n";

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Append one character to @o, HTML-escaped; returns bytes written. */
static size_t put_char(char *o, size_t cap, size_t w, int ch)
{
    static const char *const esc[] = {
        ['<'] = "&lt;", ['>'] = "&gt;", ['&'] = "&amp;", ['"'] = "&quot;"};

    if (ch < (int)(sizeof(esc) / sizeof(esc[0])) && esc[ch])
        return (size_t)snprintf(o + w, cap - w, "%s", esc[ch]);
    o[w] = (char)ch;
    return 1;
}

/* Decode one urlencoded component into @o, HTML-escaped; returns bytes. */
static size_t put_decoded(char *o, size_t cap, const char *s, size_t n)
{
    size_t i, w = 0;

    for (i = 0; i < n && w + 6 < cap; i++) {
        int ch = (unsigned char)s[i];
        if (ch == '+')
            ch = ' ';
        else if (ch == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            ch = hexval(s[i + 1]) * 16 + hexval(s[i + 2]);
            i += 2;
        }
        w += put_char(o, cap, w, ch);
    }
    o[w] = '\0';
    return w;
}

/* Copy @s into @o HTML-escaped; returns bytes. */
static size_t put_escaped(char *o, size_t cap, const char *s)
{
    size_t w = 0;

    for (; *s && w + 6 < cap; s++)
        w += put_char(o, cap, w, (unsigned char)*s);
    o[w] = '\0';
    return w;
}

static void drop_file(struct pss *pss)
{
    if (pss->have_fd) {
        close(pss->fd);
        pss->have_fd = 0;
    }
    if (pss->tmp_path[0]) {
        unlink(pss->tmp_path);
        kite_debug("post-demo: removed %s", pss->tmp_path);
        pss->tmp_path[0] = '\0';
    }
}

/* Answer early with @status; the rest of the body is dropped by kite. */
static int fail(kite_conn_t *c, struct pss *pss, int status, const char *why)
{
    pss->failed = 1;
    drop_file(pss);
    return kite_http_send_status(c, status, why) < 0;
}

/* The boundary parameter of a multipart Content-Type, into pss->delim. */
static int set_boundary(struct pss *pss, const char *ct)
{
    const char *p = ct, *b = NULL, *e;

    for (; *p; p++)
        if ((p == ct || p[-1] == ';' || p[-1] == ' ' || p[-1] == '\t') &&
            !strncasecmp(p, "boundary=", 9)) {
            b = p + 9;
            break;
        }
    if (!b)
        return -1;
    if (*b == '"') {
        e = strchr(++b, '"');
        if (!e)
            return -1;
    } else {
        e = b + strcspn(b, "; \t");
    }
    if (e == b || e - b > MAX_BOUNDARY || memchr(b, '\r', (size_t)(e - b)))
        return -1;
    memcpy(pss->delim, "\r\n--", 4);
    memcpy(pss->delim + 4, b, (size_t)(e - b));
    pss->delim_len = 4 + (size_t)(e - b);
    pss->delim[pss->delim_len] = '\0';
    return 0;
}

static int on_vhost_init(kite_vhost_t *vh, const kite_pvo_t *pvo, void **vhd)
{
    const char *max = kite_pvo_get(pvo, "max-file-size");
    struct vhd *v = calloc(1, sizeof(*v));

    (void)vh;
    if (!v)
        return 1;
    v->max_file = max ? strtoll(max, NULL, 10) : DEFAULT_MAX_FILE;
    *vhd = v;
    return 0;
}

static void on_vhost_destroy(kite_vhost_t *vh, void *vhd)
{
    (void)vh;
    free(vhd);
}

static int on_http(kite_conn_t *c, void *user, const kite_http_req_t *req)
{
    const struct vhd *vhd = kite_vhost_protocol_data(kite_conn_vhost(c), &kite_protocol_post_demo);
    struct pss *pss = user;
    const char *ct;

    pss->max_file = vhd ? vhd->max_file : DEFAULT_MAX_FILE;
    if (kite_http_method_id(req) == KITE_HTTP_POST) {
        ct = kite_http_header(req, "Content-Type");
        if (ct && !strncasecmp(ct, "multipart/form-data", 19)) {
            if (set_boundary(pss, ct) < 0)
                return fail(c, pss, 400, "multipart/form-data needs a boundary");
            pss->multipart = 1;
            pss->state = MP_PREAMBLE;
            pss->match = 2; /* the first delimiter has no CRLF before it */
        }
        return 0; /* answered when the body is complete */
    }
    if (kite_http_method_id(req) != KITE_HTTP_GET && kite_http_method_id(req) != KITE_HTTP_HEAD) {
        kite_http_add_header(c, "Allow", "GET, HEAD, POST");
        return kite_http_send_status(c, 405, NULL) < 0;
    }
    if (kite_http_respond(c, 200, "text/html; charset=utf-8", sizeof(form_page) - 1) < 0)
        return 1;
    return kite_write(c, form_page, sizeof(form_page) - 1, KITE_WRITE_HTTP_FINAL) < 0;
}

/* Append to form[] (multipart records), always leaving room for the NUL
 * that ends a record. */
static void form_add(struct pss *pss, const char *p, size_t n)
{
    size_t room = MAX_FORM - 1 - pss->len;

    if (n > room) {
        n = room;
        pss->truncated = 1;
    }
    memcpy(pss->form + pss->len, p, n);
    pss->len += n;
}

/* A parameter of the Content-Disposition header in @h, into @out. */
static void disp_param(const char *h, const char *name, char *out, size_t cap, int *found)
{
    size_t nl = strlen(name), w = 0;
    const char *p;

    *found = 0;
    out[0] = '\0';
    for (p = h; (p = strcasestr(p, name)); p += nl) {
        if ((p != h && p[-1] != ';' && p[-1] != ' ' && p[-1] != '\t') || p[nl] != '=')
            continue;
        p += nl + 1;
        *found = 1;
        if (*p == '"') {
            for (p++; *p && *p != '"' && *p != '\r'; p++) {
                if (*p == '\\' && p[1] && p[1] != '\r')
                    p++;
                if (w + 1 < cap)
                    out[w++] = *p;
            }
        } else {
            for (; *p && !strchr("; \t\r", *p); p++)
                if (w + 1 < cap)
                    out[w++] = *p;
        }
        out[w] = '\0';
        return;
    }
}

/* The headers of a part are complete: where does its body go. */
static int part_start(struct pss *pss)
{
    const char *cd = NULL, *l;
    int has_name, has_file;

    pss->head[pss->head_len] = '\0';
    for (l = pss->head; *l; l = strstr(l, "\r\n") ? strstr(l, "\r\n") + 2 : l + strlen(l))
        if (!strncasecmp(l, "Content-Disposition:", 20)) {
            cd = l + 20;
            break;
        }
    if (!cd)
        return -1;
    disp_param(cd, "name", pss->part_name, sizeof(pss->part_name), &has_name);
    disp_param(cd, "filename", pss->file_name, sizeof(pss->file_name), &has_file);
    if (!has_name)
        return -1;
    pss->in_file = has_file;
    pss->in_field = 0;
    pss->part_size = 0;
    if (!has_file && pss->len + strlen(pss->part_name) + 3 < MAX_FORM) {
        form_add(pss, "v", 1);
        form_add(pss, pss->part_name, strlen(pss->part_name) + 1);
        pss->in_field = 1;
    } else if (!has_file) {
        pss->truncated = 1;
    }
    return 0;
}

static int part_data(kite_conn_t *c, struct pss *pss, const char *p, size_t n)
{
    if (!n)
        return 0;
    if (pss->in_field) {
        form_add(pss, p, n);
        return 0;
    }
    if (!pss->in_file)
        return 0;
    pss->part_size += (long long)n;
    pss->files_total += (long long)n;
    if (pss->files_total > pss->max_file) {
        char why[64];
        snprintf(why, sizeof(why), "files larger than %lld bytes", pss->max_file);
        return fail(c, pss, 413, why) ? -1 : 1;
    }
    if (!pss->have_fd) {
        const char *dir = getenv("TMPDIR");
        snprintf(pss->tmp_path, sizeof(pss->tmp_path), "%s/kite-post-XXXXXX",
                 dir && *dir && strlen(dir) < 40 ? dir : "/tmp");
        pss->fd = mkstemp(pss->tmp_path);
        if (pss->fd < 0) {
            kite_err("post-demo: mkstemp %s: %s", pss->tmp_path, strerror(errno));
            pss->tmp_path[0] = '\0';
            return fail(c, pss, 500, "cannot store the upload") ? -1 : 1;
        }
        pss->have_fd = 1;
        kite_debug("post-demo: storing uploads in %s", pss->tmp_path);
    }
    while (n) {
        ssize_t k = write(pss->fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            kite_err("post-demo: write %s: %s", pss->tmp_path, strerror(errno));
            return fail(c, pss, 500, "cannot store the upload") ? -1 : 1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static void part_end(struct pss *pss)
{
    char v[sizeof(pss->file_name) + 48];
    int n;

    if (pss->in_field) {
        pss->form[pss->len++] = '\0'; /* form_add left room for it */
    } else if (pss->in_file) {
        n = snprintf(v, sizeof(v), "%s (%lld bytes)", pss->file_name[0] ? pss->file_name : "(none)",
                     pss->part_size);
        if (pss->len + strlen(pss->part_name) + (size_t)n + 4 < MAX_FORM) {
            form_add(pss, "f", 1);
            form_add(pss, pss->part_name, strlen(pss->part_name) + 1);
            form_add(pss, v, (size_t)n + 1);
        } else {
            pss->truncated = 1;
        }
    }
    pss->in_field = pss->in_file = 0;
}

/* Feed multipart body bytes: 0, 1 when answered early, -1 to close. */
static int multipart_feed(kite_conn_t *c, struct pss *pss, const char *in, size_t len)
{
    size_t i = 0, run = 0;
    int r;

    while (i < len) {
        char ch = in[i];

        switch (pss->state) {
        case MP_PREAMBLE:
        case MP_DATA:
            if (ch == pss->delim[pss->match]) {
                if (!pss->match && pss->state == MP_DATA &&
                    (r = part_data(c, pss, in + run, i - run)))
                    return r;
                i++;
                if (++pss->match == pss->delim_len) {
                    if (pss->state == MP_DATA)
                        part_end(pss);
                    pss->state = MP_AFTER_DELIM;
                    pss->after_n = 0;
                    pss->match = 0;
                }
                run = i;
                continue;
            }
            if (pss->match) {
                /* The bytes that looked like a delimiter were data. The
                 * delimiter has no CR after its first byte, so the match
                 * restarts at this byte. */
                if (pss->state == MP_DATA && (r = part_data(c, pss, pss->delim, pss->match)))
                    return r;
                pss->match = 0;
                run = i;
                continue;
            }
            i++;
            break;
        case MP_AFTER_DELIM:
            i++;
            if (!pss->after_n && (ch == ' ' || ch == '\t'))
                break; /* transport padding */
            pss->after[pss->after_n++] = ch;
            if (pss->after_n < 2)
                break;
            if (!memcmp(pss->after, "--", 2))
                pss->state = MP_END;
            else if (!memcmp(pss->after, "\r\n", 2)) {
                pss->state = MP_HEADERS;
                pss->head_len = 0;
            } else
                return fail(c, pss, 400, "bad multipart delimiter") ? -1 : 1;
            break;
        case MP_HEADERS:
            i++;
            if (pss->head_len == sizeof(pss->head) - 1)
                return fail(c, pss, 400, "multipart part headers too long") ? -1 : 1;
            pss->head[pss->head_len++] = ch;
            if (pss->head_len == 2 && !memcmp(pss->head, "\r\n", 2))
                return fail(c, pss, 400, "multipart part without headers") ? -1 : 1;
            if (pss->head_len >= 4 && !memcmp(pss->head + pss->head_len - 4, "\r\n\r\n", 4)) {
                if (part_start(pss) < 0)
                    return fail(c, pss, 400, "multipart part without a name") ? -1 : 1;
                pss->state = MP_DATA;
                pss->match = 0;
                run = i;
            }
            break;
        default: /* MP_END: the epilogue is ignored */
            i = len;
        }
    }
    if (pss->state == MP_DATA && !pss->match)
        return part_data(c, pss, in + run, i - run);
    return 0;
}

static int on_http_body(kite_conn_t *c, void *user, const void *in, size_t len)
{
    struct pss *pss = user;
    size_t room = MAX_FORM - pss->len, k = len < room ? len : room;

    pss->total += len;
    if (pss->failed)
        return 0;
    if (pss->multipart)
        return multipart_feed(c, pss, in, len) < 0;
    memcpy(pss->form + pss->len, in, k);
    pss->len += k;
    if (k < len)
        pss->truncated = 1;
    return 0;
}

static size_t page_head(char *page, size_t cap, const struct pss *pss)
{
    return (size_t)snprintf(page, cap,
                            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>kite post "
                            "demo</title></head><body><p>%zu bytes received%s</p><table>\n",
                            pss->total, pss->truncated ? " (form truncated)" : "");
}

static size_t rows_urlencoded(char *page, size_t cap, size_t w, const struct pss *pss)
{
    const char *p = pss->form, *end = pss->form + pss->len;

    while (p < end && w + 64 < cap) {
        const char *amp = memchr(p, '&', (size_t)(end - p)), *eq;
        const char *fend = amp ? amp : end;

        eq = memchr(p, '=', (size_t)(fend - p));
        w += (size_t)snprintf(page + w, cap - w, "<tr><td>");
        w += put_decoded(page + w, cap - w, p, (size_t)((eq ? eq : fend) - p));
        w += (size_t)snprintf(page + w, cap - w, "</td><td>");
        if (eq)
            w += put_decoded(page + w, cap - w, eq + 1, (size_t)(fend - eq - 1));
        w += (size_t)snprintf(page + w, cap - w, "</td></tr>\n");
        p = amp ? amp + 1 : end;
    }
    return w;
}

static size_t rows_multipart(char *page, size_t cap, size_t w, const struct pss *pss)
{
    const char *p = pss->form, *end = pss->form + pss->len;

    while (p < end && w + 64 < cap) {
        const char *name = p + 1, *value = name + strlen(name) + 1;

        if (value >= end)
            break;
        w += (size_t)snprintf(page + w, cap - w, "<tr><td>");
        w += put_escaped(page + w, cap - w, name);
        w += (size_t)snprintf(page + w, cap - w, "</td><td>");
        w += put_escaped(page + w, cap - w, value);
        w += (size_t)snprintf(page + w, cap - w, "</td></tr>\n");
        p = value + strlen(value) + 1;
    }
    return w;
}

static int on_http_body_done(kite_conn_t *c, void *user)
{
    struct pss *pss = user;
    char page[MAX_FORM * 6 + 1024];
    size_t w;

    if (pss->failed)
        return 0;
    if (pss->multipart && pss->state != MP_END)
        return fail(c, pss, 400, "incomplete multipart body");
    if (pss->have_fd) {
        /* The upload is complete in pss->tmp_path; a real application
         * would take it from here. It is removed in on_closed. */
        close(pss->fd);
        pss->have_fd = 0;
    }
    w = page_head(page, sizeof(page), pss);
    w = pss->multipart ? rows_multipart(page, sizeof(page), w, pss)
                       : rows_urlencoded(page, sizeof(page), w, pss);
    w += (size_t)snprintf(page + w, sizeof(page) - w, "</table></body></html>\n");
    if (kite_http_respond(c, 200, "text/html; charset=utf-8", (int64_t)w) < 0)
        return 1;
    return kite_write(c, page, w, KITE_WRITE_HTTP_FINAL) < 0;
}

static void on_closed(kite_conn_t *c, void *user, int code)
{
    struct pss *pss = user;

    (void)c;
    (void)code;
    drop_file(pss);
}

const kite_protocol_t kite_protocol_post_demo = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "protocol-post-demo",
    .per_session_size = sizeof(struct pss),
    .on_vhost_init = on_vhost_init,
    .on_vhost_destroy = on_vhost_destroy,
    .on_http = on_http,
    .on_http_body = on_http_body,
    .on_http_body_done = on_http_body_done,
    .on_closed = on_closed,
};

#ifdef KITE_BUILD_PLUGIN
KITE_PLUGIN_EXPORT("post-demo", &kite_protocol_post_demo);
#endif
