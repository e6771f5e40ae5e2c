/*
 * HTTP transactions: the per-thread freelist they come from, their small
 * arena, the public accessors for the request (method, path, query,
 * headers, query arguments), and the end of a response cut short.
 */
#include <stdlib.h>
#include <string.h>

#include "misc/misc.h"
#include "roles/http/fcache.h"
#include "roles/http/private-http.h"
#include "roles/ws/private-ws.h"

#define MAX_FREE_TXN 32

kite_http_req_t *kite__http_txn_get(kite__pt_t *pt)
{
    kite_http_req_t *t = pt->txn_free;

    if (t) {
        pt->txn_free = t->free_next;
        pt->ntxn_free--;
    } else if (!(t = malloc(sizeof(*t)))) {
        return NULL;
    }
    /* Only the fixed part is reset: the header array and the arena are
     * written before they are read. */
    memset(t, 0, offsetof(kite_http_req_t, p.hdrs));
    t->wire = NULL;
    t->free_next = NULL;
    t->mrt = NULL;
    t->head = t->path = t->rh = NULL;
    t->mount_path = NULL;
    t->auth_user = t->file_path = t->reason = NULL;
    t->file_kind = 0;
    t->put = NULL;
    t->rh_len = t->rh_cap = t->used = 0;
    t->resp_len = -1;
    t->resp_sent = t->body_left = 0;
    memset(&t->chunk, 0, sizeof(t->chunk));
    t->status = 0;
    t->tflags = 0;
    t->redirects = 0;
    return t;
}

static int in_arena(const kite_http_req_t *t, const char *p)
{
    return p >= t->arena && p < t->arena + sizeof(t->arena);
}

void kite__http_txn_put(kite__pt_t *pt, kite_http_req_t *t)
{
    if (t->head && !in_arena(t, t->head))
        free(t->head);
    if (t->path && !in_arena(t, t->path))
        free(t->path);
    if (t->rh && !in_arena(t, t->rh))
        free(t->rh);
    if (t->auth_user && !in_arena(t, t->auth_user))
        free(t->auth_user);
    if (t->file_path && !in_arena(t, t->file_path))
        free(t->file_path);
    kite__http_set_reason(t, NULL, 0);
    if (pt->ntxn_free >= MAX_FREE_TXN) {
        free(t);
        return;
    }
    t->free_next = pt->txn_free;
    pt->txn_free = t;
    pt->ntxn_free++;
}

void kite__http_pt_free(kite__pt_t *pt)
{
    kite_http_req_t *t;

    while ((t = pt->txn_free)) {
        pt->txn_free = t->free_next;
        free(t);
    }
    pt->ntxn_free = 0;
    kite__fcache_destroy(pt);
}

int kite__http_txn_set_target(kite_http_req_t *t, const char *loc)
{
    size_t n = strlen(loc);
    char *p, *q;

    if (t->used + n + 1 > sizeof(t->arena))
        return KITE_E2BIG;
    p = t->arena + t->used;
    t->used += n + 1;
    memcpy(p, loc, n + 1);
    q = strchr(p, '?');
    t->p.path = p;
    t->p.path_len = (uint32_t)(q ? (size_t)(q - p) : n);
    if (q)
        *q++ = '\0';
    t->p.query = q;
    t->p.query_len = q ? (uint32_t)strlen(q) : 0;
    return 0;
}

void kite__http_txn_reroute(kite_conn_t *c, kite_http_req_t *t)
{
    c->proto = NULL;
    t->tflags &= (uint16_t) ~(KITE__T_PROTO | KITE__T_CONTINUE | KITE__T_DIGEST);
    kite__http_set_reason(t, NULL, 0);
    if (t->path && !in_arena(t, t->path))
        free(t->path);
    if (t->auth_user && !in_arena(t, t->auth_user))
        free(t->auth_user);
    if (t->file_path && !in_arena(t, t->file_path))
        free(t->file_path);
    t->path = t->auth_user = t->file_path = NULL;
    t->file_kind = 0;
    t->rh_len = 0;
    t->mrt = NULL;
    t->mount_path = NULL;
}

char *kite__http_txn_copy(kite_http_req_t *t, const char *s, size_t len)
{
    char *p;

    if (t->used + len + 1 <= sizeof(t->arena)) {
        p = t->arena + t->used;
        t->used += len + 1;
    } else if (!(p = malloc(len + 1))) {
        return NULL;
    }
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

int kite__http_txn_set_user(kite_http_req_t *t, const char *user)
{
    if (t->auth_user && !in_arena(t, t->auth_user))
        free(t->auth_user);
    t->auth_user = kite__http_txn_copy(t, user, strlen(user));
    return t->auth_user ? 0 : KITE_ENOMEM;
}

void kite__http_set_reason(kite_http_req_t *t, const char *s, size_t len)
{
    char *d;
    size_t i;

    if (t->reason && !in_arena(t, t->reason))
        free(t->reason);
    t->reason = NULL;
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    if (!len || len > KITE__REASON_MAX || !(t->reason = kite__http_txn_copy(t, s, len)))
        return;
    /* RFC 9112 4: HTAB, SP, VCHAR, obs-text. Anything else (a CR or LF
     * smuggling a header in) is dropped. */
    for (d = t->reason, i = 0; i < len; i++)
        if (s[i] == '\t' || (unsigned char)s[i] >= 0x20) {
            if (s[i] != 0x7f)
                *d++ = s[i];
        }
    *d = '\0';
    if (d == t->reason)
        kite__http_set_reason(t, NULL, 0);
}

void kite__http_abort(kite_conn_t *c, kite_http_req_t *t, int reason)
{
    if (c->flags & KITE__C_CLOSED)
        return;
    if (t) {
        t->tflags |= KITE__T_BROKEN;
        t->tflags &= (uint16_t)~KITE__T_KEEPALIVE;
    }
    /* HTTP/2: RST_STREAM INTERNAL_ERROR instead of END_STREAM. */
    if (c->flags & KITE__C_STREAM) {
        kite__conn_abort(c, (kite_close_reason_t)reason, 0);
        return;
    }
    /* A close-delimited body (HTTP/1.0, no Content-Length): its clean
     * close would read as its end, a reset does not. */
    if (t && t->resp_len < 0 && !(t->tflags & (KITE__T_CHUNKED | KITE__T_NO_BODY))) {
        kite__conn_abort(c, (kite_close_reason_t)reason, 1);
        return;
    }
    /* Chunked or with a Content-Length: what was queued still goes, and
     * the close without the last chunk (or short of the length) is what
     * tells the client. */
    kite_close(c, 0, NULL);
}

const char *kite_http_method(const kite_http_req_t *req)
{
    return req->p.method;
}

int kite_http_method_id(const kite_http_req_t *req)
{
    return req->p.method_id;
}

const char *kite_http_path(const kite_http_req_t *req)
{
    return req->path ? req->path : "/";
}

const char *kite_http_mount_path(const kite_http_req_t *req)
{
    return req->mount_path && *req->mount_path ? req->mount_path : "/";
}

const char *kite_http_query(const kite_http_req_t *req)
{
    return req->p.query;
}

const char *kite_http_uri(const kite_http_req_t *req)
{
    return req->p.target;
}

int kite_http_version(const kite_http_req_t *req)
{
    return req->p.version;
}

const char *kite_http_header(const kite_http_req_t *req, const char *name)
{
    size_t n = strlen(name);
    unsigned i;

    for (i = 0; i < req->p.nhdrs; i++)
        if (req->p.hdrs[i].name_len == n && !kite__strncasecmp(req->p.hdrs[i].name, name, n))
            return req->p.hdrs[i].value;
    return NULL;
}

int kite_http_header_count(const kite_http_req_t *req)
{
    return req->p.nhdrs;
}

int kite_http_header_at(const kite_http_req_t *req, int i, const char **name, const char **value)
{
    if (i < 0 || i >= req->p.nhdrs)
        return KITE_EINVAL;
    *name = req->p.hdrs[i].name;
    *value = req->p.hdrs[i].value;
    return 0;
}

int64_t kite_http_content_length(const kite_http_req_t *req)
{
    return req->p.content_length;
}

int kite_http_query_arg(const kite_http_req_t *req, const char *name, char *buf, size_t len)
{
    const char *q = req->p.query, *e, *v;
    size_t n = strlen(name);
    int r;

    for (; q && *q; q = *e ? e + 1 : e) {
        e = strchr(q, '&');
        if (!e)
            e = q + strlen(q);
        v = memchr(q, '=', (size_t)(e - q));
        if ((size_t)((v ? v : e) - q) != n || memcmp(q, name, n))
            continue;
        v = v ? v + 1 : e;
        if ((size_t)(e - v) >= len)
            return KITE_E2BIG;
        r = kite__url_decode_query(v, (size_t)(e - v), buf);
        if (r < 0)
            return r;
        buf[r] = '\0';
        return r;
    }
    return KITE_ENOENT;
}

const kite_http_req_t *kite_http_request(const kite_conn_t *c)
{
    if (c->role == &kite__role_ws)
        return c->rd ? ((const kite__ws_t *)c->rd)->req : NULL; /* during on_established */
    if (!c->role->http)
        return NULL;
    return c->rd;
}
