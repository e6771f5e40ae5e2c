/*
 * Loading a configuration: which files (DIR/conf, then every DIR/conf.d file in
 * name order, or one file), the top-level keys, the plugins, and the
 * public entry points that turn a config into vhosts or a whole context.
 */
#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/private.h"
#include "core/abi.h"
#include "misc/misc.h"

#ifndef KITE_PLUGIN_DIR
#define KITE_PLUGIN_DIR "/usr/local/lib/kite/plugins"
#endif

static int add_vhosts(kite__cfg_t *cfg, json_t *arr, const kite__cfg_file_t *f)
{
    kite__cfg_vhost_t *nv;
    size_t i;
    json_t *e;
    int r = 0;

    if (!json_is_array(arr))
        return kite__cfg_error(cfg, f, "vhosts", "expected an array of vhosts");
    nv = realloc(cfg->vhosts, (cfg->nvhosts + json_array_size(arr) + 1) * sizeof(*nv));
    if (!nv)
        return KITE_ENOMEM;
    cfg->vhosts = nv;
    json_array_foreach(arr, i, e)
    {
        kite__cfg_vhost_t *vh = &cfg->vhosts[cfg->nvhosts++];
        memset(vh, 0, sizeof(*vh));
        vh->file = f;
        vh->cfg = cfg;
        kite__cfg_path(vh->path, "vhosts[%zu]", i);
        if (!json_is_object(e))
            r = kite__cfg_error(cfg, f, vh->path, "expected a vhost object");
        else if (kite__cfg_apply_object(cfg, KITE__SC_VHOST, vh, e, f, vh->path) < 0)
            r = KITE_EINVAL;
    }
    return r;
}

static int apply_file(kite__cfg_t *cfg, const kite__cfg_file_t *f)
{
    const char *key;
    json_t *v;
    int r = 0;

    if (!json_is_object(f->root))
        return kite__cfg_error(cfg, f, NULL, "the top level must be an object");
    json_object_foreach(f->root, key, v)
    {
        if (!strcmp(key, "global")) {
            if (!json_is_object(v))
                r = kite__cfg_error(cfg, f, key, "expected an object");
            else if (kite__cfg_apply_object(cfg, KITE__SC_GLOBAL, cfg, v, f, key) < 0)
                r = KITE_EINVAL;
        } else if (!strcmp(key, "vhosts")) {
            if (add_vhosts(cfg, v, f) < 0)
                r = KITE_EINVAL;
        } else {
            char hint[96];
            int other;
            kite__cfg_lookup(-1, key, hint, sizeof(hint), &other);
            r = kite__cfg_error(
                cfg, f, key, "unknown key \"%s\" (expected \"global\" or \"vhosts\")%s", key, hint);
        }
    }
    return r;
}

static int add_file(kite__cfg_t *cfg, kite__cfg_file_t *f)
{
    kite__cfg_file_t **tail;

    if (!f)
        return KITE_EINVAL;
    for (tail = &cfg->files; *tail; tail = &(*tail)->next)
        ;
    *tail = f;
    return apply_file(cfg, f);
}

static int read_one(kite__cfg_t *cfg, const char *name)
{
    return add_file(cfg, kite__cfg_file_read(cfg, name));
}

int kite__cfg_load_text(kite__cfg_t *cfg, const char *name, const char *text, size_t len)
{
    char *t = malloc(len + 1);
    int r;

    if (!t)
        return KITE_ENOMEM;
    memcpy(t, text, len);
    t[len] = '\0';
    r = add_file(cfg, kite__cfg_file_parse(cfg, name, t, len));

    /* resolved whatever happened before: every mistake in one run */
    return kite__cfg_resolve(cfg) < 0 || r < 0 || cfg->nerr ? KITE_EINVAL : 0;
}

static int wanted(const struct dirent *d)
{
    size_t n = strlen(d->d_name);

    /* hidden files and editor backups are not config */
    return d->d_name[0] != '.' && n && d->d_name[n - 1] != '~';
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int read_dir(kite__cfg_t *cfg, const char *dir)
{
    char p[4096];
    struct dirent **list;
    struct stat st;
    int n, i, r = 0, any = 0;

    snprintf(p, sizeof(p), "%s/conf", dir);
    if (stat(p, &st) == 0) {
        any = 1;
        r = read_one(cfg, p);
    }
    snprintf(p, sizeof(p), "%s/conf.d", dir);
    n = scandir(p, &list, wanted, by_name);
    if (n < 0 && !any)
        return kite__cfg_error(cfg, NULL, NULL, "%s: neither %s/conf nor %s/conf.d can be read",
                               dir, dir, dir);
    for (i = 0; i < n; i++) {
        snprintf(p, sizeof(p), "%s/conf.d/%s", dir, list[i]->d_name);
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && read_one(cfg, p) < 0)
            r = KITE_EINVAL;
        free(list[i]);
    }
    if (n >= 0)
        free(list);
    return r;
}

/* Adds @d to @dirs unless it names a directory already there: the same
 * directory from plugin-dir and -P (or the default) is loaded once. */
static int add_dir(const char **dirs, int n, const char *d)
{
    struct stat a, b;
    int i;

    for (i = 0; i < n; i++)
        if (!strcmp(dirs[i], d) || (stat(dirs[i], &a) == 0 && stat(d, &b) == 0 &&
                                    a.st_dev == b.st_dev && a.st_ino == b.st_ino))
            return n;
    dirs[n] = d;
    return n + 1;
}

static int load_plugins(kite__cfg_t *cfg, const kite_config_opts_t *opts)
{
    const char *dirs[72];
    char msg[512];
    struct stat st;
    int n = 0, i, r = 0;

    for (i = 0; i < cfg->nplugin_dirs && n < 64; i++)
        n = add_dir(dirs, n, cfg->plugin_dirs[i]);
    for (i = 0; opts && opts->plugin_dirs && opts->plugin_dirs[i] && n < 70; i++)
        n = add_dir(dirs, n, opts->plugin_dirs[i]);
    if (!(opts && (opts->flags & KITE_CONFIG_NO_DEFAULT_DIR)) && stat(KITE_PLUGIN_DIR, &st) == 0)
        n = add_dir(dirs, n, KITE_PLUGIN_DIR);
    dirs[n] = NULL;
    if (!n || (opts && (opts->flags & KITE_CONFIG_NO_PLUGINS)))
        return 0;
    kite__log_capture(msg, sizeof(msg));
    cfg->plugins = kite_plugins_load(dirs, &r);
    kite__log_capture(NULL, 0);
    if (!cfg->plugins)
        return kite__cfg_error(cfg, cfg->plugin_dir_file,
                               cfg->plugin_dir_file ? "global.plugin-dir" : NULL, "%s",
                               msg[0] ? msg : kite_strerror(r));
    return 0;
}

static void config_free(kite__cfg_t *cfg)
{
    kite__cfg_file_t *f;

    while ((f = cfg->files)) {
        cfg->files = f->next;
        kite__cfg_file_free(f);
    }
    kite_plugins_destroy(cfg->plugins);
    free(cfg->vhosts);
    kite__cfg_arena_free(cfg);
    free(cfg);
}

kite__cfg_t *kite__cfg_new(const kite_config_opts_t *opts)
{
    kite__cfg_t *cfg = calloc(1, sizeof(*cfg));

    if (!cfg)
        return NULL;
    atomic_init(&cfg->refs, 1);
    cfg->ci.struct_size = sizeof(cfg->ci);
    cfg->g.uid = cfg->g.gid = -1;
    if (opts) {
        cfg->check_only = (opts->flags & KITE_CONFIG_CHECK_ONLY) != 0;
        cfg->builtin = opts->protocols;
        cfg->errbuf = opts->errbuf;
        cfg->errlen = opts->errlen;
        if (cfg->errbuf && cfg->errlen)
            cfg->errbuf[0] = '\0';
    }
    return cfg;
}

kite_config_t *kite_config_load(const char *path, const kite_config_opts_t *opts, int *err)
{
    kite_config_opts_t full;
    int r;

    if (opts && (r = kite__abi_copy(&full, sizeof(full), opts, "kite_config_opts_t")) < 0) {
        if (err)
            *err = r;
        return NULL;
    }
    return kite__config_load(path, opts ? &full : NULL, err);
}

kite_config_t *kite__config_load(const char *path, const kite_config_opts_t *opts, int *err)
{
    kite__cfg_t *cfg = kite__cfg_new(opts);
    struct stat st;
    int r;

    if (!cfg) {
        if (err)
            *err = KITE_ENOMEM;
        return NULL;
    }
    if (stat(path, &st) < 0) {
        kite__cfg_error(cfg, NULL, NULL, "%s: %s", path, strerror(errno));
        r = KITE_ENOENT;
        goto fail;
    }
    r = S_ISDIR(st.st_mode) ? read_dir(cfg, path) : read_one(cfg, path);
    /* resolved whatever happened before: every mistake in one run */
    if (load_plugins(cfg, opts) < 0)
        r = KITE_EINVAL;
    if (kite__cfg_resolve(cfg) < 0 || r < 0 || cfg->nerr) {
        r = KITE_EINVAL;
        goto fail;
    }
    if (!cfg->ci.keepalive_timeout) {
        cfg->ci.keepalive_timeout = 60; /* lwsws's idle keep-alive */
        cfg->keepalive_default = 1;
    }
    return cfg;
fail:
    config_free(cfg);
    if (err)
        *err = r < 0 ? r : KITE_EINVAL;
    return NULL;
}

const kite_context_info_t *kite_config_context_info(const kite_config_t *cfg)
{
    return &cfg->ci;
}

const kite_config_global_t *kite_config_global(const kite_config_t *cfg)
{
    return &cfg->g;
}

void kite_config_put(kite_config_t *cfg)
{
    if (cfg && atomic_fetch_sub(&cfg->refs, 1) == 1)
        config_free(cfg);
}

static void vhost_gone(void *user)
{
    kite__cfg_vhost_t *vh = user;

    kite_config_put(vh->cfg);
}

static int chown_socket(kite__cfg_t *cfg, kite__cfg_vhost_t *vh)
{
    char user[128], *group;
    struct passwd *pw;
    struct group *gr;
    gid_t gid = (gid_t)-1;

    snprintf(user, sizeof(user), "%s", vh->unix_perms);
    group = strchr(user, ':');
    if (group)
        *group++ = '\0';
    pw = getpwnam(user);
    gr = group && *group ? getgrnam(group) : NULL;
    if (!pw || (group && *group && !gr))
        return kite__cfg_error(cfg, vh->file, vh->path, "unix-socket-perms \"%s\": no such %s",
                               vh->unix_perms, pw ? "group" : "user");
    if (gr)
        gid = gr->gr_gid;
    /* that user and group may connect, as lws (0660) */
    if (chown(vh->info.unix_socket, pw->pw_uid, gid) < 0 ||
        chmod(vh->info.unix_socket, gr ? 0660 : 0600) < 0)
        return kite__cfg_error(cfg, vh->file, vh->path, "unix-socket-perms: %s", strerror(errno));
    return 0;
}

/* Whether @path could be made (or appended to) without making it. */
static int creatable(kite__cfg_t *cfg, kite__cfg_vhost_t *vh, const char *key, const char *path)
{
    char dir[4096], kp[KITE__CFG_PATH_MAX], *slash;

    kite__cfg_path(kp, "%s.%s", vh->path, key);
    if (access(path, F_OK) == 0)
        return access(path, W_OK) == 0
                   ? 0
                   : kite__cfg_error(cfg, vh->file, kp, "\"%s\": %s", path, strerror(errno));
    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (slash)
        slash[slash == dir] = '\0';
    if (access(slash ? dir : ".", W_OK | X_OK) < 0)
        return kite__cfg_error(cfg, vh->file, kp, "\"%s\" cannot be created: %s", path,
                               strerror(errno));
    return 0;
}

/* --check-config: what the vhost would make on disk can be made. */
static int check_files(kite__cfg_t *cfg, kite__cfg_vhost_t *vh)
{
    int r = 0;

    if (vh->info.access_log && creatable(cfg, vh, "access-log", vh->info.access_log) < 0)
        r = KITE_EINVAL;
    if (vh->info.unix_socket && creatable(cfg, vh, "interface", vh->info.unix_socket) < 0)
        r = KITE_EINVAL;
    return r;
}

int kite_config_create_vhosts(kite_config_t *cfg, kite_context_t *ctx, char *errbuf, size_t errlen)
{
    int i, r = 0;

    cfg->errbuf = errbuf;
    cfg->errlen = errlen;
    cfg->errused = 0;
    cfg->nerr = 0;
    cfg->nnote = 0;
    if (errbuf && errlen)
        errbuf[0] = '\0';
    for (i = 0; i < cfg->nvhosts; i++) {
        kite__cfg_vhost_t *vh = &cfg->vhosts[i];
        kite_vhost_t *created;
        char msg[512];
        int e = 0;
        kite_vhost_info_t info = vh->info;
        vh->info.user = info.user = vh;
        vh->info.on_destroyed = info.on_destroyed = vhost_gone;
        if (cfg->check_only) {
            /* checked, not made: a log file, a socket (which would
             * replace a running kited's) */
            if (check_files(cfg, vh) < 0)
                r = KITE_EINVAL;
            if (vh->info.unix_socket)
                continue;
            info.access_log = NULL;
        }
        kite__log_capture(msg, sizeof(msg));
        created = kite_vhost_create(ctx, &info, &e);
        if (created)
            atomic_fetch_add(&cfg->refs, 1);
        kite__log_capture(NULL, 0);
        if (e < 0) {
            char kp[KITE__CFG_PATH_MAX];
            kite__cfg_path(kp, "%s%s", vh->path,
                           e == KITE_EADDRINUSE || e == KITE_EACCES ? ".port" : "");
            /* the next vhosts are still tried: every port in use in one run */
            r = kite__cfg_error(cfg, vh->file, kp, "%s", msg[0] ? msg : kite_strerror(e));
            continue;
        }
        if (vh->unix_perms && chown_socket(cfg, vh) < 0) {
            r = KITE_EINVAL;
            continue;
        }
        if (vh->info.unix_socket)
            kite_notice("vhost %s: listening on unix:%s", vh->info.name, vh->info.unix_socket);
        else
            kite_notice("vhost %s: listening on %s port %d", vh->info.name,
                        vh->info.iface ? vh->info.iface : "*", kite_vhost_port(created));
    }
    cfg->errbuf = NULL;
    cfg->errlen = 0;
    return r;
}

kite_context_t *kite_context_create_from_json(const char *path, const kite_context_info_t *base,
                                              const kite_config_opts_t *opts, int *err)
{
    kite_context_info_t full;
    kite_extpoll_t xp;
    kite_config_opts_t ofull;
    int r = 0;

    if ((base && (r = kite__context_info_in(&full, &xp, base, 1)) < 0) ||
        (opts && (r = kite__abi_copy(&ofull, sizeof(ofull), opts, "kite_config_opts_t")) < 0)) {
        if (err)
            *err = r;
        return NULL;
    }
    return kite__context_create_from_json(path, base ? &full : NULL, opts ? &ofull : NULL, err);
}

kite_context_t *kite__context_create_from_json(const char *path, const kite_context_info_t *base,
                                               const kite_config_opts_t *opts, int *err)
{
    kite_context_info_t ci;
    kite_config_t *cfg = kite__config_load(path, opts, err);
    kite_context_t *ctx;

    if (!cfg)
        return NULL;
    ci = cfg->ci;
    if (base) {
#define KEEP_BASE(m)                                                                               \
    if (!ci.m)                                                                                     \
    ci.m = base->m
        KEEP_BASE(count_threads);
        KEEP_BASE(foreign_loop);
        KEEP_BASE(server_string);
        KEEP_BASE(timeout_secs);
        if (cfg->keepalive_default && base->keepalive_timeout)
            ci.keepalive_timeout = base->keepalive_timeout;
        KEEP_BASE(send_timeout);
        KEEP_BASE(max_output);
        KEEP_BASE(max_header_size);
        KEEP_BASE(max_uri_len);
        KEEP_BASE(max_headers);
        KEEP_BASE(user);
        KEEP_BASE(ws_ping_pong_secs);
        KEEP_BASE(ws_max_message);
        KEEP_BASE(ws_close_timeout);
        KEEP_BASE(extpoll);
        KEEP_BASE(foreign_loops);
        KEEP_BASE(reject_service_keywords);
        KEEP_BASE(ip_limit_ah);
        KEEP_BASE(ip_limit_wsi);
        KEEP_BASE(h2_max_streams);
        KEEP_BASE(h2_window);
        KEEP_BASE(h2_settings_timeout);
#undef KEEP_BASE
    }
    ctx = kite_context_create(&ci, err);
    if (ctx && kite_config_create_vhosts(cfg, ctx, opts ? opts->errbuf : NULL,
                                         opts ? opts->errlen : 0) < 0) {
        kite_context_destroy(ctx);
        ctx = NULL;
        if (err)
            *err = KITE_EINVAL;
    }
    kite_config_put(cfg);
    return ctx;
}
