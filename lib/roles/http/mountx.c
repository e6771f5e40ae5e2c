/*
 * The lwsws mount directives that act per request: basic-auth (with
 * auth-mask) in front of any mount, interpret (a file of a listed suffix
 * goes to a protocol's on_http instead of being sent) on file mounts,
 * and the accessors for pmo, the authenticated user and the interpreted
 * file. Settings are checked and resolved at vhost creation; mounts
 * without them carry no extra data and cost nothing per request.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roles/http/fcache.h"
#include "roles/http/private-http.h"

#define USER_CAP 128

static int prepare_auth(kite_vhost_t *vh, kite__mount_rt_t *rt)
{
    struct kite__mount_x *x = rt->x;
    const char *n;
    char *o;
    int r;

    x->auth = kite__auth_load(rt->m->basic_auth, vh->ctx->npts, &r);
    if (!x->auth) {
        kite_err("vhost %s: mount %s: basic-auth file \"%s\": %s", vh->name, rt->m->mountpoint,
                 rt->m->basic_auth, kite_strerror(r));
        return r;
    }
    /* The realm is the vhost name, without what would end the quoted string. */
    x->realm_hdr = o = malloc(strlen(vh->name) + 16);
    if (!o)
        return KITE_ENOMEM;
    o += sprintf(o, "Basic realm=\"");
    for (n = vh->name; *n; n++)
        if (*n != '"' && *n != '\\' && (unsigned char)*n >= 0x20)
            *o++ = *n;
    strcpy(o, "\"");
    return 0;
}

static int prepare_interpret(kite_vhost_t *vh, kite__mount_rt_t *rt)
{
    struct kite__mount_x *x = rt->x;
    const kite_pvo_t *p;
    int n = 0;

    if (rt->type != KITE_MOUNT_FILE) {
        kite_err("vhost %s: mount %s: interpret needs a file mount", vh->name, rt->m->mountpoint);
        return KITE_EINVAL;
    }
    for (p = rt->m->interpret; p; p = p->next)
        n++;
    if (!(x->interp = calloc((size_t)n, sizeof(*x->interp))))
        return KITE_ENOMEM;
    for (p = rt->m->interpret; p; p = p->next) {
        struct kite__interp *ip = &x->interp[x->ninterp];
        if (!p->name || !*p->name || !p->value) {
            kite_err("vhost %s: mount %s: interpret needs \"suffix\": \"protocol\"", vh->name,
                     rt->m->mountpoint);
            return KITE_EINVAL;
        }
        ip->suffix = p->name;
        ip->len = strlen(p->name);
        ip->proto = kite_vhost_find_protocol(vh, p->value);
        if (!ip->proto) {
            kite_err("vhost %s: mount %s: interpret %s: unknown protocol \"%s\"", vh->name,
                     rt->m->mountpoint, p->name, p->value);
            return KITE_EINVAL;
        }
        x->ninterp++;
    }
    return 0;
}

/* index-files, hide-files, directory-listing: split the list once here. */
static int prepare_files(kite_vhost_t *vh, kite__mount_rt_t *rt)
{
    struct kite__mount_x *x = rt->x;
    const char *s = rt->m->index_files, *e;
    int n = 1;

    if (rt->type != KITE_MOUNT_FILE) {
        kite_err("vhost %s: mount %s: index-files, hide-files, ssi-pattern and directory-listing "
                 "need a file mount",
                 vh->name, rt->m->mountpoint);
        return KITE_EINVAL;
    }
    x->listing = rt->m->dir_listing;
    if ((x->ssi = rt->m->ssi_pattern) && *x->ssi)
        x->ssi_len = strlen(x->ssi);
    else
        x->ssi = NULL;
    if ((x->hide = rt->m->hide_files) && *x->hide)
        x->hide_len = strlen(x->hide);
    else
        x->hide = NULL;
    if (!s)
        return 0;
    for (e = s; *e; e++)
        n += *e == ',';
    if (!(x->index = calloc((size_t)n + 1, sizeof(*x->index))))
        return KITE_ENOMEM;
    for (n = 0; *s; s = *e ? e + 1 : e) {
        e = strchr(s, ',');
        if (!e)
            e = s + strlen(s);
        while (s < e && *s == ' ')
            s++;
        if (s == e)
            continue;
        if (memchr(s, '/', (size_t)(e - s))) {
            kite_err("vhost %s: mount %s: index-files: \"%.*s\" is not a file name", vh->name,
                     rt->m->mountpoint, (int)(e - s), s);
            return KITE_EINVAL;
        }
        if (!(x->index[n++] = strndup(s, (size_t)(e - s))))
            return KITE_ENOMEM;
    }
    return 0;
}

int kite__http_mount_prepare(kite_vhost_t *vh, kite__mount_rt_t *rt)
{
    const kite_mount_t *m = rt->m;
    int r;

    if (!m->basic_auth && !m->interpret && !m->dir_listing && !m->index_files && !m->hide_files &&
        !m->ssi_pattern)
        return 0;
    if (!(rt->x = calloc(1, sizeof(*rt->x))))
        return KITE_ENOMEM;
    if (m->basic_auth && (r = prepare_auth(vh, rt)) < 0)
        return r;
    if (m->interpret && (r = prepare_interpret(vh, rt)) < 0)
        return r;
    if ((m->dir_listing || m->index_files || m->hide_files || m->ssi_pattern) &&
        (r = prepare_files(vh, rt)) < 0)
        return r;
    return 0;
}

void kite__http_mount_free(kite__mount_rt_t *rt)
{
    int i;

    if (!rt->x)
        return;
    kite__auth_free(rt->x->auth);
    free(rt->x->realm_hdr);
    free(rt->x->interp);
    for (i = 0; rt->x->index && rt->x->index[i]; i++)
        free(rt->x->index[i]);
    free(rt->x->index);
    free(rt->x);
    rt->x = NULL;
}

/* LibHTTP's hide_files_patterns name files, not paths: each component is
 * matched, so that a hidden directory hides what is under it too. */
int kite__http_hidden_path(const kite__mount_rt_t *m, const char *rel, size_t len)
{
    const char *s = rel, *end = rel + len, *e;

    for (; s < end; s = e + 1) {
        if (!(e = memchr(s, '/', (size_t)(end - s))))
            e = end;
        if (e > s && kite__pattern_match(m->x->hide, m->x->hide_len, s, (size_t)(e - s)) > 0)
            return 1;
    }
    return 0;
}

int kite__http_mount_auth(kite_conn_t *c, kite_http_req_t *t, const kite__mount_rt_t *m,
                          int *answered)
{
    const char *authz = kite_http_header(t, "Authorization");
    unsigned need = m->m->auth_mask, mask = 0;
    char user[USER_CAP];

    *answered = 0;
    if (!m->x || !m->x->auth)
        return 0;
    *answered = 1;
    if (kite__auth_check(m->x->auth, c->pt, authz, user, sizeof(user), &mask) < 0) {
        kite__http_add_header_n(t, "WWW-Authenticate", m->x->realm_hdr, strlen(m->x->realm_hdr));
        return kite__http_error(c, t, 401, NULL);
    }
    if (!(t->auth_user = kite__http_txn_copy(t, user, strlen(user))))
        return kite__http_error(c, t, 500, NULL);
    if (need && (mask & need) != need)
        return kite__http_error(c, t, 403, NULL);
    *answered = 0;
    return 0;
}

static const struct kite__interp *interp_for(const struct kite__mount_x *x, const char *name)
{
    size_t n = strlen(name);
    int i;

    for (i = 0; i < x->ninterp; i++)
        if (n >= x->interp[i].len && !strcmp(name + n - x->interp[i].len, x->interp[i].suffix))
            return &x->interp[i];
    return NULL;
}

int kite__http_interpret(kite_conn_t *c, kite_http_req_t *t, const kite__mount_rt_t *m,
                         const char *rel, int *handled)
{
    const struct kite__interp *ip;
    const char *index = NULL;
    char path[PATH_MAX];
    kite__fentry_t *fe;
    size_t rlen = strlen(rel);
    int n, r;

    *handled = 0;
    if (!m->x || !m->x->ninterp)
        return 0;
    /* A directory URL is its index file, which may be interpreted too. */
    if (!rlen || rel[rlen - 1] == '/')
        index = m->m->def ? m->m->def : "index.html";
    if (!(ip = interp_for(m->x, index ? index : rel)))
        return 0;
    n = snprintf(path, sizeof(path), "%s%s%s%s", m->root, *rel == '/' ? "" : "/", rel,
                 index ? index : "");
    if (n < 0 || (size_t)n >= sizeof(path))
        return 0;
    /* Only an existing file inside the docroot: everything else is
     * answered by file serving as usual (404, 403, the slash redirect). */
    if (kite__fcache_get(c->pt, path, (size_t)n, m->root, &fe) < 0)
        return 0;
    r = fe->is_dir;
    kite__fcache_unref(fe);
    if (r)
        return 0;
    *handled = 1;
    if (!(t->file_path = kite__http_txn_copy(t, path, (size_t)n)))
        return kite__http_error(c, t, 500, NULL);
    return kite__http_callback(c, t, ip->proto);
}

const char *kite_http_mount_option(const kite_http_req_t *req, const char *name)
{
    return req->mrt && name ? kite_pvo_get(req->mrt->m->pmo, name) : NULL;
}

const char *kite_http_auth_user(const kite_http_req_t *req)
{
    return req->auth_user;
}

const char *kite_http_file_path(const kite_http_req_t *req)
{
    return req->file_path;
}
