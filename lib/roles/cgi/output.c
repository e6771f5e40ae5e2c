/*
 * A script's stdout: the CGI response head (RFC 3875 6.3: Status,
 * Location, Content-Type and other header fields, ended by an empty line,
 * "\n" or "\r\n" line ends), then the body relayed to the client. A body
 * without Content-Length goes out chunked on HTTP/1.1 (the connection stays
 * open) and close-delimited on 1.0; the wire role decides. "Location: /x"
 * with no Status is a local redirect (6.2.2): the request is routed again
 * as a GET of /x. NPH scripts (nph-*) write the whole HTTP response
 * themselves and it goes out untouched, with the connection closed after.
 *
 * While more than KITE__CGI_HIGH bytes wait for the client, stdout is not
 * read: the script blocks on its own write and memory stays bounded.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "core/private.h"
#include "misc/misc.h"
#include "roles/cgi/private-cgi.h"

static int name_is(const char *name, size_t n, const char *want)
{
    return n == strlen(want) && !kite__strncasecmp(name, want, n);
}

static int relay(kite__cgi_t *g, const char *buf, size_t len)
{
    kite_conn_t *c = g->client;
    kite_http_req_t *t = g->t;
    int r;

    if ((g->flags & CGI_NPH) && t->wire->raw_ok) {
        r = kite__out_append(c, buf, len);
    } else {
        /* A script that writes past its own Content-Length is cut there. */
        if (t->resp_len >= 0 && t->resp_sent + (int64_t)len > t->resp_len)
            len = (size_t)(t->resp_len - t->resp_sent);
        r = len ? t->wire->body(c, t, buf, len, 0) : 0;
    }
    if (r == 0 && c->out_bytes > KITE__CGI_HIGH && g->out) {
        kite_rx_flow_control(g->out, 0);
        kite_callback_on_writable(c);
    }
    return r;
}

static int local_redirect(kite__cgi_t *g, const char *loc)
{
    kite_conn_t *c = g->client;
    kite_http_req_t *t = g->t;

    /* The request body, if any, was the script's. */
    if (((t->tflags & KITE__T_BODY) && !(t->tflags & KITE__T_BODY_DONE)) ||
        kite__http_txn_set_target(t, loc) < 0)
        return 1;
    t->p.method = "GET";
    t->p.method_id = KITE_HTTP_GET;
    t->p.content_length = -1; /* the GET has no body (for CONTENT_LENGTH) */
    t->redirects++;
    kite__cgi_release(c);
    kite__http_txn_reroute(c, t);
    if (kite__http_dispatch(c, t) < 0 && !(c->flags & KITE__C_CLOSING))
        kite__conn_close_now(c, KITE_CLOSE_ERROR);
    return 0;
}

/* Parse head[0..len) (the empty line excluded) and send the response head. */
static int send_head(kite__cgi_t *g, char *head, size_t len)
{
    kite_conn_t *c = g->client;
    kite_http_req_t *t = g->t;
    const char *ctype = NULL, *loc = NULL;
    int64_t clen = -1;
    int status = 0;
    char *p = head, *end = head + len;

    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p)), *colon, *v, *e;
        e = nl ? nl : end;
        if (e > p && e[-1] == '\r')
            e--;
        *e = '\0';
        /* An NPH script's status line, where the wire cannot pass its
         * output as is (HTTP/2): its status, as a Status field would be. */
        if (p == head && (g->flags & CGI_NPH) && e - p > 12 && !memcmp(p, "HTTP/1.", 7)) {
            status = atoi(p + 9);
            if (status < 200 || status > 999)
                return KITE_EPROTO;
            p = nl ? nl + 1 : end;
            continue;
        }
        colon = memchr(p, ':', (size_t)(e - p));
        if (!colon || colon == p)
            return KITE_EPROTO;
        *colon = '\0';
        for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
            ;
        while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
            *--e = '\0';
        if (name_is(p, (size_t)(colon - p), "Status")) {
            char *rs;
            status = (int)strtol(v, &rs, 10);
            if (status < 200 || status > 999)
                return KITE_EPROTO;
            /* Its own reason phrase ("203 Non-Authoritative") is kept. */
            kite__http_set_reason(t, rs, (size_t)(e - rs));
        } else if (name_is(p, (size_t)(colon - p), "Location")) {
            loc = v;
        } else if (kite__http_script_field(t, p, (size_t)(colon - p), v, e, &ctype, &clen) < 0) {
            return KITE_EPROTO;
        }
        p = nl ? nl + 1 : end;
    }
    if (loc && *loc == '/' && !status && !local_redirect(g, loc))
        return 1;
    if (loc) {
        if (kite__http_add_header_n(t, "Location", loc, strlen(loc)) < 0)
            return KITE_EPROTO;
        if (!status)
            status = 302;
    }
    return t->wire->respond(c, t, status ? status : 200, ctype, clen < 0 ? -1 : clen);
}

static int head_bytes(kite__cgi_t *g, const char *buf, size_t len)
{
    size_t hl, take = len;
    long n;
    int r;

    if (!g->head && !(g->head = malloc(KITE__CGI_HEAD_MAX)))
        return KITE_ENOMEM;
    if (take > KITE__CGI_HEAD_MAX - g->head_len)
        take = KITE__CGI_HEAD_MAX - g->head_len;
    memcpy(g->head + g->head_len, buf, take);
    n = kite__head_end(g->head, g->head_len + take, &hl);
    if (n < 0) {
        g->head_len += take;
        return g->head_len == KITE__CGI_HEAD_MAX ? KITE_E2BIG : 0;
    }
    g->flags |= CGI_HEAD_DONE;
    r = send_head(g, g->head, (size_t)n);
    if (r != 0)
        return r;
    /* What followed the empty line, from the head buffer then @buf. */
    hl -= g->head_len;
    g->head_len = 0;
    return hl < len ? relay(g, buf + hl, len - hl) : 0;
}

int kite__cgi_output(kite__cgi_t *g, const char *buf, size_t len)
{
    kite_conn_t *c = g->client;
    unsigned was;
    int r;

    if (!c)
        return 0;
    was = kite__conn_enter(c);
    if ((g->flags & CGI_NPH) && g->t->wire->raw_ok) {
        if (!(g->flags & CGI_HEAD_DONE)) {
            g->flags |= CGI_HEAD_DONE;
            g->t->tflags |= KITE__T_HEAD_SENT;
            g->t->tflags &= ~KITE__T_KEEPALIVE;
            g->t->status = len > 12 && !memcmp(buf, "HTTP/1.", 7) ? (uint16_t)atoi(buf + 9) : 200;
        }
        r = relay(g, buf, len);
    } else if (g->flags & CGI_HEAD_DONE) {
        r = relay(g, buf, len);
    } else {
        r = head_bytes(g, buf, len);
        if (r < 0 && g->client) {
            g->t->rh_len = 0; /* the script's fields are not the error page's */
            kite_err("cgi %s: bad response head from the script (%s)", g->name, kite_strerror(r));
            if (kite__http_error(c, g->t, 502, NULL) < 0)
                kite__conn_close_now(c, KITE_CLOSE_ERROR);
        }
        r = r < 0 ? 0 : r;
    }
    if (r < 0)
        kite__conn_close_now(c, KITE_CLOSE_ERROR);
    kite__conn_exit(c, was);
    return 0;
}

/* The end of a body whose script has exited: whole if it exited 0 (or
 * sent all of its Content-Length); else cut (kite__http_abort), since a
 * crash or a failure status mid-body must not look like a success. */
static void body_end(kite__cgi_t *g)
{
    kite_conn_t *c = g->client;
    kite_http_req_t *t = g->t;
    int st = g->wstatus, failed = (g->flags & CGI_REAPED) && !(WIFEXITED(st) && !WEXITSTATUS(st));

    if (failed && !(t->resp_len >= 0 && t->resp_sent >= t->resp_len)) {
        if (WIFEXITED(st))
            kite_warn("cgi %s: exit status %d after the response began: it is cut", g->name,
                      WEXITSTATUS(st));
        else
            kite_warn("cgi %s: died after the response began: it is cut", g->name);
        kite__http_abort(c, t, KITE_CLOSE_ERROR);
        return;
    }
    /* Not inside kite__conn_enter(): the h1 role then goes on at once with a
     * request that arrived behind this one, even with no bytes left
     * to send (a body that had its Content-Length already). */
    if (kite_write(c, NULL, 0, KITE_WRITE_HTTP_FINAL) < 0)
        kite__conn_close_now(c, KITE_CLOSE_ERROR);
}

void kite__cgi_exited(kite__cgi_t *g)
{
    if (g->client && (g->flags & CGI_OUT_EOF))
        body_end(g);
}

void kite__cgi_output_end(kite__cgi_t *g, int eof)
{
    kite_conn_t *c = g->client;
    unsigned was;

    if (!c)
        return;
    if (!eof && (g->flags & CGI_HEAD_DONE)) {
        /* A complete-looking end (the last chunk) would be a lie. */
        kite__http_abort(c, g->t, KITE_CLOSE_ERROR);
        return;
    }
    if (g->flags & CGI_HEAD_DONE) {
        /* The exit status says whether the body is whole: wait for it
         * (the pidfd conn reports it, cgi-timeout bounds it). */
        if (!(g->flags & CGI_REAPED) && g->pidc) {
            g->flags |= CGI_OUT_EOF;
            return;
        }
        body_end(g);
        return;
    }
    was = kite__conn_enter(c);
    kite_err("cgi %s: %s", g->name,
             g->head_len ? "the output ended inside the response head" : "no output");
    if (kite__http_error(c, g->t, 502, NULL) < 0)
        kite__conn_close_now(c, KITE_CLOSE_ERROR);
    kite__conn_exit(c, was);
}
