/*
 * put-delete-auth-file: PUT, DELETE and MKCOL on file mounts, for users
 * of a LibHTTP password file (Digest). A PUT body is streamed into a
 * temporary file in the target's directory and renamed over the target
 * when complete, so a reader sees the old file or the new one, never
 * part of one; a PUT cut short leaves nothing behind. Statuses follow
 * RFC 9110 (and RFC 4918 for MKCOL): 201 created, 204 replaced or
 * deleted, 404 no such file, 405 on a directory or an existing
 * collection, 409 missing parent or non-empty directory, 412 for a
 * failed If-Match / If-None-Match: *, 415 a MKCOL with a body. The
 * target's directory must resolve inside the docroot (no way out by
 * "..", which routing refuses, or by a symlink), and hidden files and
 * .htpasswd cannot be written or removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roles/http/private-http.h"

struct kite__put {
    int fd, existed;
    char tmp[PATH_MAX], dst[PATH_MAX];
};

/* A 405 says what the target does allow (RFC 9110 15.5.6): the mount's
 * root can only be read, a directory deleted, a file replaced too. */
static void allow(kite_http_req_t *t, const char *dst)
{
    struct stat st;
    const char *a = "GET, HEAD, OPTIONS";

    if (dst && stat(dst, &st) == 0)
        a = S_ISDIR(st.st_mode) ? "GET, HEAD, OPTIONS, DELETE" : "GET, HEAD, OPTIONS, PUT, DELETE";
    kite__http_add_header_n(t, "Allow", a, strlen(a));
}

static int end_status(kite_conn_t *c, kite_http_req_t *t, int status, const char *dst)
{
    if (status == 405)
        allow(t, dst);
    if (status >= 400)
        return kite__http_error(c, t, status, NULL);
    if (t->wire->respond(c, t, status, NULL, 0) < 0)
        return KITE_ECLOSED;
    return t->wire->body(c, t, NULL, 0, 1);
}

/* Split root + rel into @dst, checking that its directory is inside the
 * docroot; 0, or the HTTP status to answer. A directory URL ("/d/", as
 * WebDAV clients write collections) names the directory d: DELETE and
 * MKCOL take it; dst keeps the slash, so that a file "d" does not match. */
static int target(const kite__mount_rt_t *m, const char *rel, char *dst, size_t cap)
{
    char dir[PATH_MAX], real[PATH_MAX];
    size_t len = strlen(rel), rl;
    const char *base;

    while (len > 1 && rel[len - 1] == '/')
        len--;
    base = memrchr(rel, '/', len);
    if (!base || base + 1 == rel + len)
        return 405; /* the mount's root */
    if ((len - (size_t)(base - rel) == 10 && !memcmp(base, "/.htpasswd", 10)) ||
        kite__http_hidden(m, rel, len))
        return 403;
    if (snprintf(dir, sizeof(dir), "%s%.*s", m->root, (int)(base - rel), rel) >= (int)sizeof(dir) ||
        snprintf(dst, cap, "%s%s", m->root, rel) >= (int)cap)
        return 414;
    if (!realpath(dir, real))
        return errno == ENOENT || errno == ENOTDIR ? 409 : 403;
    rl = m->root_len;
    if (strncmp(real, m->root, rl) || (real[rl] != '/' && real[rl] != '\0')) {
        kite_notice("refused %s: resolves outside the docroot", dst);
        return 403;
    }
    return 0;
}

static int do_delete(const char *dst)
{
    struct stat st;

    if (lstat(dst, &st) < 0)
        return 404;
    if (S_ISDIR(st.st_mode))
        return rmdir(dst) == 0 ? 204 : errno == ENOTEMPTY || errno == EEXIST ? 409 : 403;
    return unlink(dst) == 0 ? 204 : 403;
}

static int do_mkcol(kite_http_req_t *t, const char *dst)
{
    if (t->tflags & KITE__T_BODY)
        return 415;
    if (mkdir(dst, 0755) == 0)
        return 201;
    return errno == EEXIST ? 405 : errno == ENOENT ? 409 : 403;
}

static int start_put(kite_conn_t *c, kite_http_req_t *t, const char *dst)
{
    const char *inm = kite_http_header(t, "If-None-Match"), *im = kite_http_header(t, "If-Match");
    struct kite__put *p;
    struct stat st;
    int existed = stat(dst, &st) == 0;

    /* A directory URL takes MKCOL or DELETE, never a body. */
    if ((existed && S_ISDIR(st.st_mode)) || dst[strlen(dst) - 1] == '/')
        return 405;
    if ((inm && !strcmp(inm, "*") && existed) || (im && !strcmp(im, "*") && !existed))
        return 412;
    if (!(p = t->put = calloc(1, sizeof(*p))))
        return 500;
    p->existed = existed;
    snprintf(p->dst, sizeof(p->dst), "%s", dst);
    snprintf(p->tmp, sizeof(p->tmp), "%.*s/.kite-put-XXXXXX", (int)(strrchr(dst, '/') - dst), dst);
    if ((p->fd = mkstemp(p->tmp)) < 0) {
        kite_err("PUT %s: %s", dst, strerror(errno));
        free(p);
        t->put = NULL;
        return 500;
    }
    fchmod(p->fd, 0644);
    if (!(t->tflags & KITE__T_BODY))
        return kite__http_put_done(c, t) < 0 ? -1 : 0;
    if ((t->p.flags & KITE_H1_EXPECT_CONTINUE) && t->p.version >= 11) {
        t->tflags |= KITE__T_CONTINUE;
        t->wire->send_continue(c, t);
    }
    return 0;
}

void kite__http_put_abort(kite_http_req_t *t)
{
    if (!t->put)
        return;
    close(t->put->fd);
    unlink(t->put->tmp);
    free(t->put);
    t->put = NULL;
}

int kite__http_put_body(kite_conn_t *c, kite_http_req_t *t, const void *buf, size_t len)
{
    const char *p = buf;
    ssize_t n;

    while (len) {
        n = write(t->put->fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            kite_err("PUT %s: %s", t->put->dst, strerror(errno));
            kite__http_put_abort(t);
            return kite__http_error(c, t, errno == ENOSPC ? 507 : 500, NULL);
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int kite__http_put_done(kite_conn_t *c, kite_http_req_t *t)
{
    struct kite__put *p = t->put;
    int status = p->existed ? 204 : 201;

    if (close(p->fd) < 0 || rename(p->tmp, p->dst) < 0) {
        kite_err("PUT %s: %s", p->dst, strerror(errno));
        unlink(p->tmp);
        status = 500;
    }
    free(p);
    t->put = NULL;
    return end_status(c, t, status, NULL);
}

int kite__http_putdel(kite_conn_t *c, kite_http_req_t *t, const kite__mount_rt_t *m,
                      const char *rel)
{
    char dst[PATH_MAX];
    int answered, n, st;

    n = kite__http_digest_file(c, t, kite__http_vh(c->vh)->putdel, &answered);
    if (answered)
        return n;
    if ((st = target(m, rel, dst, sizeof(dst))))
        return end_status(c, t, st, st == 405 ? NULL : dst);
    if (t->p.method_id == KITE_HTTP_DELETE)
        st = do_delete(dst);
    else if (t->p.method_id == KITE_HTTP_PUT)
        st = start_put(c, t, dst);
    else
        st = do_mkcol(t, dst);
    if (st < 0)
        return KITE_ECLOSED;
    return st ? end_status(c, t, st, dst) : 0;
}
