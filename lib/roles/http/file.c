/*
 * Static files for file:// mounts: GET/HEAD, index files, the trailing
 * slash redirect for directories, MIME types, ETag/Last-Modified with
 * If-None-Match / If-Modified-Since (304), single byte ranges with
 * If-Range (206/416) and Cache-Control from the mount. Bodies are queued
 * as references to cached contents or as file ranges for sendfile; no
 * bytes are copied here.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "misc/misc.h"
#include "roles/http/fcache.h"
#include "roles/http/private-http.h"

/* Does the If-None-Match list contain @etag (weak comparison)? */
static int etag_match(const char *list, const char *etag)
{
    size_t n = strlen(etag);
    const char *p = list;

    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return 1;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        if (!strncmp(p, etag, n) && (p[n] == '\0' || p[n] == ',' || p[n] == ' ' || p[n] == '\t'))
            return 1;
        while (*p && *p != ',')
            p++;
    }
    return 0;
}

static int not_modified(const kite_http_req_t *t, const kite__fentry_t *fe)
{
    const char *inm = kite_http_header(t, "If-None-Match"), *ims;
    time_t when;

    if (inm)
        return etag_match(inm, fe->etag);
    ims = kite_http_header(t, "If-Modified-Since");
    if (ims && !kite__http_date_parse(ims, strlen(ims), &when))
        return fe->mtime <= when;
    return 0;
}

/*
 * Parse a single "bytes=" range against @size. Returns 1 with the range
 * set, 0 to ignore the header (serve everything), -1 when unsatisfiable.
 */
static int parse_range(const char *h, off_t size, off_t *start, off_t *end)
{
    const char *p;
    char *e;
    unsigned long long a, b;

    if (strncmp(h, "bytes=", 6))
        return 0;
    p = h + 6;
    while (*p == ' ')
        p++;
    if (strchr(p, ','))
        return 0; /* several ranges: a full 200 answers them correctly */
    if (*p == '-') {
        if (p[1] < '0' || p[1] > '9')
            return 0;
        b = strtoull(p + 1, &e, 10);
        if (*e)
            return 0;
        if (!b || !size)
            return -1;
        *start = (off_t)b >= size ? 0 : size - (off_t)b;
        *end = size - 1;
        return 1;
    }
    if (*p < '0' || *p > '9')
        return 0;
    a = strtoull(p, &e, 10);
    if (*e != '-')
        return 0;
    p = e + 1;
    if (!*p) {
        b = (unsigned long long)size - 1;
    } else {
        if (*p < '0' || *p > '9')
            return 0;
        b = strtoull(p, &e, 10);
        if (*e || b < a)
            return 0;
    }
    if ((off_t)a >= size)
        return -1;
    *start = (off_t)a;
    *end = (off_t)b >= size ? size - 1 : (off_t)b;
    return 1;
}

static void cache_control(kite_http_req_t *t, const kite_mount_t *m)
{
    char v[96];
    int n;

    if (m->flags & KITE_MOUNT_F_CACHE_NO) {
        kite__http_add_header_n(t, "Cache-Control", "no-cache", 8);
    } else if (m->cache_max_age > 0 || m->cache_reuse) {
        n = snprintf(v, sizeof(v), "%s, max-age=%d%s",
                     m->cache_intermediaries ? "public" : "private",
                     m->cache_max_age > 0 ? m->cache_max_age : 0,
                     m->cache_revalidate ? ", must-revalidate" : "");
        kite__http_add_header_n(t, "Cache-Control", v, (size_t)n);
    } else if (m->cache_revalidate) {
        kite__http_add_header_n(t, "Cache-Control", "no-cache", 8);
    } else if (m->flags & KITE_MOUNT_F_CACHE_NO_STORE) {
        kite__http_add_header_n(t, "Cache-Control", "no-store", 8);
    }
}

int kite__http_join_path(char *path, const char *root, size_t root_len, const char *rel,
                         size_t rlen, const char *index)
{
    size_t ilen = index ? strlen(index) : 0, n = root_len;

    if (root_len + 1 + rlen + ilen >= PATH_MAX)
        return -1;
    memcpy(path, root, root_len);
    if (*rel != '/')
        path[n++] = '/';
    memcpy(path + n, rel, rlen);
    n += rlen;
    if (ilen)
        memcpy(path + n, index, ilen);
    n += ilen;
    path[n] = '\0';
    return (int)n;
}

static int slash_redirect(kite_conn_t *c, kite_http_req_t *t)
{
    const char *path = t->p.path;
    size_t len = t->p.path_len;
    char loc[PATH_MAX + 16];
    int n;

    /* The redirect keeps the path as the client sent it (still encoded),
     * but with one leading slash: "//name/" would be a network-path
     * reference to the host "name", an open redirect. */
    while (len > 1 && path[1] == '/') {
        path++;
        len--;
    }
    n = snprintf(loc, sizeof(loc), "%.*s/%s%s", (int)len, path, t->p.query ? "?" : "",
                 t->p.query ? t->p.query : "");
    if (n < 0 || (size_t)n >= sizeof(loc))
        return kite__http_error(c, t, 414, NULL);
    return kite_http_redirect(c, 301, loc);
}

/*
 * The index file of the directory @rel (ending in '/'): the mount's
 * index-files in order, else its default. 0 with *fe and the file's
 * path in @path (length *plen), or KITE_ENOENT when there is none.
 */
static int open_index(kite_conn_t *c, const kite__mount_rt_t *mrt, char *path, const char *rel,
                      size_t rlen, kite__fentry_t **fe, int *plen)
{
    char *one[2] = {(char *)(mrt->m->def ? mrt->m->def : "index.html"), NULL};
    char *const *list = mrt->x && mrt->x->index ? mrt->x->index : one;
    int i, r = KITE_ENOENT;

    for (i = 0; list[i]; i++) {
        *plen = kite__http_join_path(path, mrt->root, mrt->root_len, rel, rlen, list[i]);
        if (*plen < 0)
            return KITE_ENAMETOOLONG;
        r = kite__fcache_get(c->pt, path, (size_t)*plen, mrt->root, fe);
        if (r == 0 && (*fe)->is_dir) {
            kite__fcache_unref(*fe);
            *fe = NULL;
            r = KITE_ENOENT;
        }
        if (r != KITE_ENOENT)
            return r;
    }
    return r;
}

int kite__http_serve_file(kite_conn_t *c, kite_http_req_t *t, const kite__mount_rt_t *mrt,
                          const char *rel, int status)
{
    const kite_mount_t *m = mrt->m;
    char path[PATH_MAX];
    kite__fentry_t *fe = NULL;
    const char *range, *ifr, *mime;
    off_t start = 0, end;
    size_t rlen = strlen(rel);
    int n, r, is_head = t->p.method_id == KITE_HTTP_HEAD;

    if (status == 200 && t->p.method_id != KITE_HTTP_GET && !is_head) {
        if (kite__http_vh(c->vh)->putdel &&
            (t->p.method_id == KITE_HTTP_PUT || t->p.method_id == KITE_HTTP_DELETE ||
             t->p.method_id == KITE_HTTP_MKCOL))
            return kite__http_putdel(c, t, mrt, rel);
        if (kite__http_vh(c->vh)->putdel)
            kite__http_add_header_n(t, "Allow", "GET, HEAD, OPTIONS, PUT, DELETE, MKCOL", 38);
        else
            kite__http_add_header_n(t, "Allow", "GET, HEAD, OPTIONS", 18);
        if (t->p.method_id == KITE_HTTP_OPTIONS) {
            if (t->wire->respond(c, t, 204, NULL, 0) < 0)
                return KITE_ECLOSED;
            return t->wire->body(c, t, NULL, 0, 1);
        }
        return kite__http_error(c, t, 405, NULL);
    }
    if (status == 200 && kite__http_hidden(mrt, rel, rlen))
        return kite__http_error(c, t, 404, NULL);
    n = kite__http_join_path(path, mrt->root, mrt->root_len, rel, rlen, NULL);
    if (n < 0)
        return kite__http_error(c, t, 414, NULL);
    r = kite__fcache_get(c->pt, path, (size_t)n, mrt->root, &fe);
    if (r == 0 && fe->is_dir) {
        kite__fcache_unref(fe);
        fe = NULL;
        if (status != 200)
            return KITE_ENOENT;
        if (!rlen || rel[rlen - 1] != '/')
            return slash_redirect(c, t);
        r = open_index(c, mrt, path, rel, rlen, &fe, &n);
        if (r == KITE_ENOENT && mrt->x && mrt->x->listing) {
            kite__http_join_path(path, mrt->root, mrt->root_len, rel, rlen,
                                 NULL); /* fitted above */
            return kite__http_dir_listing(c, t, mrt, path);
        }
        if (r == KITE_ENOENT)
            r = KITE_EACCES; /* a directory without an index: no listing */
        else if (r == KITE_ENAMETOOLONG)
            return kite__http_error(c, t, 414, NULL);
    }
    if (r < 0) {
        if (status != 200)
            return r;
        return kite__http_error(c, t, r == KITE_ENOENT ? 404 : r == KITE_EACCES ? 403 : 500, NULL);
    }

    /* lwsws: a file of no known type is not served (a suffix-less
     * password file, say) unless extra-mimetypes has "*" */
    mime = kite__mime_known(path, (size_t)n, m->extra_mimetypes);
    if (!mime && (m->flags & KITE_MOUNT_F_KNOWN_TYPES)) {
        kite__fcache_unref(fe);
        return status == 200 ? kite__http_error(c, t, 403, NULL) : KITE_EACCES;
    }
    if (!mime)
        mime = "application/octet-stream";
    else if (!*mime)
        mime = NULL; /* "*": "" sends no Content-Type */
    if (status == 200 && mrt->x && mrt->x->ssi &&
        kite__pattern_match(mrt->x->ssi, mrt->x->ssi_len, path + mrt->root_len,
                            (size_t)n - mrt->root_len) > 0) {
        kite__fcache_unref(fe);
        return kite__http_ssi(c, t, mrt, path, mime);
    }
    end = fe->size - 1;
    if (status == 200) {
        kite__http_add_header_n(t, "ETag", fe->etag, strlen(fe->etag));
        kite__http_add_header_n(t, "Last-Modified", fe->lastmod, strlen(fe->lastmod));
        kite__http_add_header_n(t, "Accept-Ranges", "bytes", 5);
        cache_control(t, m);
        if (not_modified(t, fe)) {
            r = t->wire->respond(c, t, 304, NULL, -1);
            goto finish_empty;
        }
        range = kite_http_header(t, "Range");
        ifr = kite_http_header(t, "If-Range");
        if (range && ifr && strcmp(ifr, fe->etag) && strcmp(ifr, fe->lastmod))
            range = NULL;
        if (range) {
            char cr[80];
            int k = parse_range(range, fe->size, &start, &end);
            if (k < 0) {
                n = snprintf(cr, sizeof(cr), "bytes */%lld", (long long)fe->size);
                kite__http_add_header_n(t, "Content-Range", cr, (size_t)n);
                kite__fcache_unref(fe);
                return kite__http_error(c, t, 416, NULL);
            }
            if (k > 0) {
                status = 206;
                n = snprintf(cr, sizeof(cr), "bytes %lld-%lld/%lld", (long long)start,
                             (long long)end, (long long)fe->size);
                kite__http_add_header_n(t, "Content-Range", cr, (size_t)n);
            }
        }
    }
    r = t->wire->respond(c, t, status, mime, end - start + 1);
    if (r < 0 || is_head)
        goto finish_empty;
    if (end >= start) {
        size_t len = (size_t)(end - start + 1);
        r = fe->data ? kite__out_ref(c, &fe->src, fe->data + start, len)
                     : kite__out_file(c, &fe->src, start, len);
        t->resp_sent += (int64_t)len;
    }
finish_empty:
    kite__fcache_unref(fe);
    if (r < 0)
        return r;
    return t->wire->body(c, t, NULL, 0, 1);
}
