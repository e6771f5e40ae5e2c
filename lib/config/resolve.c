/*
 * Resolving a loaded config: origins by scheme, docroots and files that
 * must be readable, protocol names against the plugins and the
 * embedder's protocols, duplicate vhosts. What cannot work is reported
 * here, with its file and line, before anything listens.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/private.h"
#include "misc/misc.h"

#ifndef KITE_DATA_DIR
#define KITE_DATA_DIR "/usr/local/share"
#endif
#define LWS_DDIR "_lws_ddir_"

char *kite__cfg_abspath(kite__cfg_t *cfg, const kite__cfg_file_t *f, const char *p)
{
    char buf[PATH_MAX], dd[PATH_MAX];
    const char *at = strstr(p, LWS_DDIR);

    /* lwsws's _lws_ddir_ is the install's data directory (the first one
     * in the value, as lws replaces it) */
    if (at && snprintf(dd, sizeof(dd), "%.*s%s%s", (int)(at - p), p, KITE_DATA_DIR,
                       at + strlen(LWS_DDIR)) < (int)sizeof(dd))
        p = dd;
    if (p[0] == '/' || !f)
        return kite__cfg_strdup(cfg, p);
    if (snprintf(buf, sizeof(buf), "%s/%s", f->dir, p) >= (int)sizeof(buf))
        return kite__cfg_strdup(cfg, p);
    return kite__cfg_strdup(cfg, buf);
}

static const kite_protocol_t *find_protocol(kite__cfg_t *cfg, const char *name)
{
    const kite_protocol_t *const *p;

    for (p = cfg->builtin; p && *p; p++)
        if (!strcmp((*p)->name, name))
            return *p;
    for (p = cfg->plugins ? kite_plugins_protocols(cfg->plugins) : NULL; p && *p; p++)
        if (!strcmp((*p)->name, name))
            return *p;
    return NULL;
}

/* "unknown protocol" with the names there are, so a typo is obvious. A
 * ws-protocols entry naming one is a warning (@level), as lws ignores its
 * pvo; a mount that needs one is an error. */
static int unknown_protocol(kite__cfg_t *cfg, const kite__cfg_file_t *f, const char *path,
                            const char *name, int level)
{
    char known[512] = "";
    const kite_protocol_t *const *lists[2], *const *p;
    size_t n = 0;
    int i;

    lists[0] = cfg->builtin;
    lists[1] = cfg->plugins ? kite_plugins_protocols(cfg->plugins) : NULL;
    for (i = 0; i < 2; i++)
        for (p = lists[i]; p && *p && n < sizeof(known); p++)
            n += (size_t)snprintf(known + n, sizeof(known) - n, "%s%s", n ? ", " : "", (*p)->name);
    if (level == KITE__CFG_ERROR)
        return kite__cfg_error(cfg, f, path, "unknown protocol \"%s\" (loaded: %s)", name,
                               n ? known : "none; is plugin-dir set?");
    kite__cfg_note(cfg, level, f, path,
                   "protocol \"%s\" is not loaded, the vhost runs without it (loaded: %s)", name,
                   n ? known : "none; is plugin-dir set?");
    return 0;
}

static int add_proto(kite__cfg_t *cfg, kite__cfg_vhost_t *vh, const char *name,
                     const kite__cfg_file_t *f, const char *path, int *n)
{
    const kite_protocol_t *p = find_protocol(cfg, name);
    int i;

    if (!p)
        return unknown_protocol(cfg, f, path, name, KITE__CFG_ERROR);
    for (i = 0; i < *n; i++)
        if (vh->protocols[i] == p)
            return 0;
    vh->protocols[(*n)++] = p;
    return 0;
}

static int check_dir(kite__cfg_t *cfg, const kite__cfg_file_t *f, const char *path, const char *d)
{
    struct stat st;

    if (stat(d, &st) < 0)
        return kite__cfg_error(cfg, f, path, "docroot \"%s\": %s", d, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return kite__cfg_error(cfg, f, path, "docroot \"%s\" is not a directory", d);
    if (access(d, R_OK | X_OK) < 0)
        return kite__cfg_error(cfg, f, path, "docroot \"%s\": %s", d, strerror(errno));
    return 0;
}

static int resolve_origin(kite__cfg_t *cfg, kite__cfg_vhost_t *vh, kite__cfg_mount_t *cm, int *np)
{
    kite_mount_t *m = &cm->m;
    char op[KITE__CFG_PATH_MAX];
    const char *o = m->origin;

    kite__cfg_path(op, "%s.origin", cm->path);
    if (!strncmp(o, "file://", 7) || !strstr(o, "://")) {
        const char *dir = !strncmp(o, "file://", 7) ? o + 7 : o;
        if (!*dir)
            return kite__cfg_error(cfg, cm->file, op, "file:// needs a directory");
        m->origin = kite__cfg_abspath(cfg, cm->file, dir);
        m->origin_protocol = KITE_MOUNT_FILE;
        return m->origin ? check_dir(cfg, cm->file, op, m->origin) : KITE_ENOMEM;
    }
    if (!strncmp(o, "cgi://", 6)) {
        struct stat st;
        if (!o[6])
            return kite__cfg_error(cfg, cm->file, op, "cgi:// needs a directory or a program");
        if (!(m->origin = kite__cfg_abspath(cfg, cm->file, o + 6)))
            return KITE_ENOMEM;
        m->origin_protocol = KITE_MOUNT_CGI;
        /* a program serves the whole mount, the URL tail its PATH_INFO (lws) */
        if (stat(m->origin, &st) == 0 && S_ISREG(st.st_mode))
            return access(m->origin, X_OK) == 0 || m->cgi_interpreter
                       ? 0
                       : kite__cfg_error(cfg, cm->file, op, "program \"%s\": %s", m->origin,
                                         strerror(errno));
        return check_dir(cfg, cm->file, op, m->origin);
    }
    if (!strncmp(o, "callback://", 11)) {
        const char *name = m->protocol ? m->protocol : o + 11;
        if (!*name)
            return kite__cfg_error(cfg, cm->file, op, "callback:// needs a protocol name");
        return add_proto(cfg, vh, name, cm->file, m->protocol ? cm->path : op, np);
    }
    if (!strncmp(o, ">http://", 8) || !strncmp(o, ">https://", 9)) {
        if (!o[o[5] == 's' ? 9 : 8]) /* ">https://" or ">http://" */
            return kite__cfg_error(cfg, cm->file, op, "redirect needs a target");
        return 0;
    }
    if (!strncmp(o, "http://", 7) || !strncmp(o, "https://", 8)) {
        const char *h = o + (o[4] == 's' ? 8 : 7);
        if (!*h || *h == '/' || *h == ':')
            return kite__cfg_error(cfg, cm->file, op, "reverse proxy origin needs a host");
        return 0;
    }
    return kite__cfg_error(
        cfg, cm->file, op,
        "unknown origin scheme in \"%s\" (file://, cgi://, callback://, >http://, "
        ">https://, http://, https://)",
        o);
}

static int resolve_mount(kite__cfg_t *cfg, kite__cfg_vhost_t *vh, kite__cfg_mount_t *cm, int *np)
{
    kite_mount_t *m = &cm->m;
    const kite_pvo_t *p;
    char kp[KITE__CFG_PATH_MAX];
    int r = 0;

    if (!m->mountpoint)
        return kite__cfg_error(cfg, cm->file, cm->path, "mount has no \"mountpoint\"");
    if (m->mountpoint[0] != '/') {
        kite__cfg_path(kp, "%s.mountpoint", cm->path);
        return kite__cfg_error(cfg, cm->file, kp, "\"%s\" must start with '/'", m->mountpoint);
    }
    if (!m->origin)
        return kite__cfg_error(cfg, cm->file, cm->path, "mount has no \"origin\"");
    r = resolve_origin(cfg, vh, cm, np);
    /* lwsws's defaults: a redirect goes to the origin alone, a file
     * answered without cache keys is not to be stored, a file of no known
     * type is not served */
    if (!cm->append_path)
        m->flags |= KITE_MOUNT_F_REDIRECT_ORIGIN_ONLY;
    if (!cm->cache_keys && !vh->max_age_set)
        m->flags |= KITE_MOUNT_F_CACHE_NO_STORE;
    m->flags |= KITE_MOUNT_F_KNOWN_TYPES;
    for (p = m->interpret; p; p = p->next) {
        kite__cfg_path(kp, "%s.interpret.%s", cm->path, p->name);
        if (add_proto(cfg, vh, p->value, cm->file, kp, np) < 0)
            r = KITE_EINVAL;
    }
    if (m->basic_auth && access(m->basic_auth, R_OK) < 0) {
        kite__cfg_path(kp, "%s.basic-auth", cm->path);
        r = kite__cfg_error(cfg, cm->file, kp, "\"%s\": %s", m->basic_auth, strerror(errno));
    }
    return r;
}

/* The TLS keys: cert and key together, the files readable, the rest only with them. */
static int resolve_tls(kite__cfg_t *cfg, kite__cfg_vhost_t *vh)
{
    kite_vhost_info_t *in = &vh->info;
    const struct {
        const char *key, *file;
    } files[] = {{"host-ssl-cert", in->tls_cert},
                 {"host-ssl-key", in->tls_key},
                 {"host-ssl-ca", in->tls_ca},
                 {"ssl-ca-path", in->tls_ca_path}};
    const struct {
        int set;
        const char *key;
    } with_cert[] = {
        {in->tls_ca != NULL, "host-ssl-ca"},
        {in->tls_ca_path != NULL, "ssl-ca-path"},
        {in->tls_ciphers != NULL, "ciphers"},
        {in->tls13_ciphers != NULL, "tls13-ciphers"},
        {in->tls_groups != NULL, "ecdh-curve"},
        {in->tls_ssl_options_set != 0, "ssl-option-set"},
        {in->tls_ssl_options_clear != 0, "ssl-option-clear"},
        {(in->tls_options & KITE_TLS_STS) != 0, "sts"},
        {(in->tls_options & KITE_TLS_ALLOW_NON_TLS) != 0, "allow-non-tls"},
        {(in->tls_options & KITE_TLS_CLIENT_CERT_REQUIRED) != 0, "client-cert-required"},
        {in->tls_verify_depth != 0, "ssl-verify-depth"},
        {in->tls_min_version != 0, "ssl-min-version"},
        {in->tls_max_version != 0, "ssl-max-version"}};
    char kp[KITE__CFG_PATH_MAX];
    size_t i;
    int r = 0;

    if (!in->tls_cert != !in->tls_key) {
        kite__cfg_path(kp, "%s.%s", vh->path, in->tls_cert ? "host-ssl-cert" : "host-ssl-key");
        return kite__cfg_error(cfg, vh->file, kp, "needs %s too",
                               in->tls_cert ? "host-ssl-key" : "host-ssl-cert");
    }
    for (i = 0; !in->tls_cert && i < sizeof(with_cert) / sizeof(with_cert[0]); i++)
        if (with_cert[i].set) {
            kite__cfg_path(kp, "%s.%s", vh->path, with_cert[i].key);
            return kite__cfg_error(cfg, vh->file, kp, "needs host-ssl-cert and host-ssl-key");
        }
    if ((in->tls_options & KITE_TLS_CLIENT_CERT_REQUIRED) && !in->tls_ca && !in->tls_ca_path) {
        kite__cfg_path(kp, "%s.client-cert-required", vh->path);
        return kite__cfg_error(cfg, vh->file, kp,
                               "needs host-ssl-ca or ssl-ca-path (the CA of the clients)");
    }
    if (in->tls_min_version && in->tls_max_version && in->tls_min_version > in->tls_max_version) {
        kite__cfg_path(kp, "%s.ssl-min-version", vh->path);
        return kite__cfg_error(cfg, vh->file, kp, "is newer than ssl-max-version");
    }
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        if (!files[i].file || access(files[i].file, R_OK) == 0)
            continue;
        kite__cfg_path(kp, "%s.%s", vh->path, files[i].key);
        r = kite__cfg_error(cfg, vh->file, kp, "\"%s\": %s", files[i].file, strerror(errno));
    }
    return r;
}

/* The vhost's own file mount that would serve @prefix but for the
 * rewrite: the longest mountpoint that is @prefix or a whole-segment
 * prefix of it. NULL when no file mount covers it. */
static const kite__cfg_mount_t *covering_mount(const kite__cfg_vhost_t *vh, int nown,
                                               const char *prefix, size_t plen)
{
    const kite__cfg_mount_t *best = NULL;
    size_t best_len = 0;
    int i;

    for (i = 0; i < nown; i++) {
        const kite_mount_t *m = &vh->mounts[i].m;
        size_t ml = m->mountpoint ? strlen(m->mountpoint) : 0;
        int file = m->origin && (!strncmp(m->origin, "file://", 7) || !strstr(m->origin, "://"));
        if (!ml || !file || m->lua_handler || ml > plen || strncmp(m->mountpoint, prefix, ml) ||
            (m->mountpoint[ml - 1] != '/' && ml < plen && prefix[ml] != '/'))
            continue;
        if (!best || ml > best_len)
            best = &vh->mounts[i], best_len = ml;
    }
    return best;
}

/* LibHTTP url_rewrite_patterns "/prefix=dir,...": each becomes a file
 * mount after the vhost's own, so that it is checked like them. A
 * rewrite is a window onto another directory under the same rules: it
 * takes every option of the file mount that would have served its
 * prefix (CGI, SSI and Lua patterns, hidden files, index files,
 * listings, auth), or a script would be sent as its source there. Only
 * plain prefixes: a glob would route by pattern, which mounts do not. */
static int add_rewrites(kite__cfg_t *cfg, kite__cfg_vhost_t *vh)
{
    char kp[KITE__CFG_PATH_MAX], one[PATH_MAX];
    const char *s = vh->url_rewrite, *e, *eq;
    kite__cfg_mount_t *mm;
    const kite__cfg_mount_t *cover;
    int n = 1, nown = vh->nmounts;

    kite__cfg_path(kp, "%s.url-rewrite", vh->path);
    for (e = s; *e; e++)
        n += *e == ',';
    if (!(mm = kite__cfg_alloc(cfg, (size_t)(vh->nmounts + n) * sizeof(*mm))))
        return KITE_ENOMEM;
    if (vh->nmounts)
        memcpy(mm, vh->mounts, (size_t)vh->nmounts * sizeof(*mm));
    vh->mounts = mm;
    for (; *s; s = *e ? e + 1 : e) {
        kite__cfg_mount_t *m = &vh->mounts[vh->nmounts];
        if (!(e = strchr(s, ',')))
            e = s + strlen(s);
        if (e == s)
            continue;
        if ((size_t)(e - s) >= sizeof(one) || !(eq = memchr(s, '=', (size_t)(e - s))) || eq == s ||
            eq + 1 == e)
            return kite__cfg_error(cfg, vh->file, kp, "expected \"/prefix=directory\" in \"%.*s\"",
                                   (int)(e - s), s);
        if (*s != '/' || strcspn(s, "*?|$") < (size_t)(eq - s))
            return kite__cfg_error(cfg, vh->file, kp,
                                   "\"%.*s\": only URL prefixes starting with '/' are supported",
                                   (int)(eq - s), s);
        if ((cover = covering_mount(vh, nown, s, (size_t)(eq - s))))
            *m = *cover;
        else
            memset(m, 0, sizeof(*m));
        m->m.next = NULL;
        m->file = vh->file;
        kite__cfg_path(m->path, "%s", kp);
        snprintf(one, sizeof(one), "%.*s", (int)(e - eq - 1), eq + 1);
        m->m.origin = kite__cfg_abspath(cfg, vh->file, one);
        if (!m->m.origin || !(m->m.mountpoint = kite__cfg_alloc(cfg, (size_t)(eq - s) + 1)))
            return KITE_ENOMEM;
        memcpy((char *)m->m.mountpoint, s, (size_t)(eq - s));
        ((char *)m->m.mountpoint)[eq - s] = '\0';
        vh->nmounts++;
    }
    return 0;
}

/* static-file-max-age: the Cache-Control of file mounts that set none;
 * 0 means no caching, as in LibHTTP. */
static void static_max_age(kite__cfg_vhost_t *vh)
{
    int i;

    for (i = 0; i < vh->nmounts; i++) {
        kite_mount_t *m = &vh->mounts[i].m;
        if (m->origin_protocol != KITE_MOUNT_FILE || m->cache_max_age || m->cache_reuse ||
            m->cache_revalidate)
            continue;
        m->cache_max_age = (int)vh->static_max_age;
        m->cache_intermediaries = 1;
        m->cache_revalidate = !vh->static_max_age;
    }
}

/* lws "alpn" (checked when read): without h2 the vhost speaks HTTP/1 only. */
static void resolve_alpn(kite__cfg_t *cfg, kite__cfg_vhost_t *vh)
{
    const char *a = vh->alpn ? vh->alpn : cfg->default_alpn;

    if (a && strcmp(a, "h2") && strncmp(a, "h2,", 3) && !strstr(a, ",h2"))
        vh->info.options |= KITE_VH_NO_H2;
}

/* lws listen-accept-protocol: that protocol takes the raw connections, as
 * if its pvo said "raw". */
static int resolve_listen_accept(kite__cfg_t *cfg, kite__cfg_vhost_t *vh, int *np)
{
    char kp[KITE__CFG_PATH_MAX];
    kite_pvo_t *p, *raw;

    if (vh->la_role && strcmp(vh->la_role, "raw-skt") && strcmp(vh->la_role, "raw")) {
        kite__cfg_path(kp, "%s.listen-accept-role", vh->path);
        return kite__cfg_error(cfg, vh->file, kp, "role \"%s\": kite has \"raw-skt\"", vh->la_role);
    }
    if (!vh->la_protocol)
        return 0;
    kite__cfg_path(kp, "%s.listen-accept-protocol", vh->path);
    if (add_proto(cfg, vh, vh->la_protocol, vh->file, kp, np) < 0)
        return KITE_EINVAL;
    for (p = vh->pvo; p && strcmp(p->name, vh->la_protocol); p = (kite_pvo_t *)p->next)
        ;
    if (!p) {
        if (!(p = kite__cfg_alloc(cfg, sizeof(*p))))
            return KITE_ENOMEM;
        memset(p, 0, sizeof(*p));
        p->name = vh->la_protocol;
        p->next = vh->pvo;
        vh->pvo = p;
    }
    if (!(raw = kite__cfg_alloc(cfg, sizeof(*raw))))
        return KITE_ENOMEM;
    memset(raw, 0, sizeof(*raw));
    raw->name = "raw";
    raw->value = "1";
    raw->next = p->options;
    p->options = raw;
    return 0;
}

static int resolve_lws_vhost(kite__cfg_t *cfg, kite__cfg_vhost_t *vh, int *np)
{
    resolve_alpn(cfg, vh);
    return resolve_listen_accept(cfg, vh, np);
}

static int resolve_vhost(kite__cfg_t *cfg, kite__cfg_vhost_t *vh, int idx)
{
    kite_vhost_info_t *in = &vh->info;
    char kp[KITE__CFG_PATH_MAX];
    const kite_pvo_t *p;
    int i, n = 0, r = 0, max;

    in->struct_size = sizeof(*in);
    if (!in->name)
        in->name = "localhost";
    if (resolve_tls(cfg, vh) < 0)
        r = KITE_EINVAL;
    if (vh->unix_socket) {
        if (!in->iface)
            return kite__cfg_error(cfg, vh->file, vh->path,
                                   "unix-socket needs \"interface\" set to the socket's path");
        in->unix_socket = kite__cfg_abspath(cfg, vh->file, in->iface);
        in->iface = NULL;
    } else if (!vh->port_set && !(in->options & KITE_VH_NO_LISTEN)) {
        return kite__cfg_error(cfg, vh->file, vh->path, "vhost \"%s\" has no \"port\"", in->name);
    }
    if (in->error_document_404 && in->error_document_404[0] != '/') {
        kite__cfg_path(kp, "%s.error-document-404", vh->path);
        r = kite__cfg_error(cfg, vh->file, kp, "must be a URL path starting with '/'");
    }
    for (i = 0; i < idx; i++) {
        kite__cfg_vhost_t *o = &cfg->vhosts[i];
        if (!strcmp(o->info.name, in->name) && o->info.port == in->port &&
            !o->unix_socket == !vh->unix_socket)
            r = kite__cfg_error(cfg, vh->file, vh->path,
                                "vhost \"%s\" on port %d is already defined at %s:%d", in->name,
                                in->port, o->file->name, kite__cfg_line(o->file, o->path));
    }
    if (vh->url_rewrite && add_rewrites(cfg, vh) < 0)
        return KITE_EINVAL;
    kite__cfg_path(kp, "%s.global-auth-file", vh->path);
    if (in->global_auth_file && access(in->global_auth_file, R_OK) < 0)
        r = kite__cfg_error(cfg, vh->file, kp, "\"%s\": %s", in->global_auth_file, strerror(errno));
    kite__cfg_path(kp, "%s.put-delete-auth-file", vh->path);
    if (in->put_delete_auth_file && access(in->put_delete_auth_file, R_OK) < 0)
        r = kite__cfg_error(cfg, vh->file, kp, "\"%s\": %s", in->put_delete_auth_file,
                            strerror(errno));
    kite__cfg_path(kp, "%s.error-pages", vh->path);
    if (in->error_pages && check_dir(cfg, vh->file, kp, in->error_pages) < 0)
        r = KITE_EINVAL;
    /* at most: every ws-protocols name, a callback per mount, every interpret entry */
    max = vh->nproto_names + vh->nmounts + 2; /* + listen-accept-protocol */
    for (i = 0; i < vh->nmounts; i++)
        for (p = vh->mounts[i].m.interpret; p; p = p->next)
            max++;
    vh->protocols = kite__cfg_alloc(cfg, (size_t)max * sizeof(*vh->protocols));
    if (!vh->protocols)
        return KITE_ENOMEM;
    for (i = 0; i < vh->nproto_names; i++)
        if (!find_protocol(cfg, vh->proto_names[i]))
            unknown_protocol(cfg, vh->file, vh->proto_paths[i], vh->proto_names[i],
                             KITE__CFG_WARNING);
        else if (add_proto(cfg, vh, vh->proto_names[i], vh->file, vh->proto_paths[i], &n) < 0)
            r = KITE_EINVAL;
    if (resolve_lws_vhost(cfg, vh, &n) < 0)
        r = KITE_EINVAL;
    for (i = 0; i < vh->nmounts; i++) {
        vh->mounts[i].m.struct_size = sizeof(kite_mount_t);
        if (resolve_mount(cfg, vh, &vh->mounts[i], &n) < 0)
            r = KITE_EINVAL;
        if (i)
            vh->mounts[i - 1].m.next = &vh->mounts[i].m;
    }
    if (vh->max_age_set)
        static_max_age(vh);
    in->protocols = vh->protocols;
    in->pvo = vh->pvo;
    in->mounts = vh->nmounts ? &vh->mounts[0].m : NULL;
    return r;
}

int kite__cfg_resolve(kite__cfg_t *cfg)
{
    int i, r = 0;

    for (i = 0; i < cfg->nvhosts; i++)
        if (resolve_vhost(cfg, &cfg->vhosts[i], i) < 0)
            r = KITE_EINVAL;
    return r;
}
