/*
 * The directive table: one row per key (name, scope, type, setter,
 * where the value goes, documentation). Loading, "did you mean", and
 * READMEs/README.config.md's key list all come from these rows, so a
 * key cannot be accepted without being documented or documented without
 * being accepted.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config/private.h"
#include "core/private.h"
#include "roles/http/private-http.h"

#define AT(obj, off, type) ((type *)(void *)((char *)(obj) + (off)))

static int set_str(kite__cfg_t *cfg, void *obj, const kite__directive_t *d, json_t *v,
                   const kite__cfg_file_t *f, const char *path)
{
    return kite__cfg_string(cfg, v, f, path, AT(obj, d->off, const char *));
}

/* A file or directory path: relative ones are taken from the config file's directory. */
static int set_path(kite__cfg_t *cfg, void *obj, const kite__directive_t *d, json_t *v,
                    const kite__cfg_file_t *f, const char *path)
{
    const char *s;

    if (kite__cfg_string(cfg, v, f, path, &s) < 0)
        return KITE_EINVAL;
    if (!*s)
        return kite__cfg_error(cfg, f, path, "empty path");
    *AT(obj, d->off, const char *) = kite__cfg_abspath(cfg, f, s);
    return *AT(obj, d->off, const char *) ? 0 : KITE_ENOMEM;
}

static int set_uint(kite__cfg_t *cfg, void *obj, const kite__directive_t *d, json_t *v,
                    const kite__cfg_file_t *f, const char *path)
{
    unsigned long n;

    if (kite__cfg_uint(cfg, v, f, path, d->arg, &n) < 0)
        return KITE_EINVAL;
    *AT(obj, d->off, unsigned) = (unsigned)n;
    return 0;
}

static int set_int(kite__cfg_t *cfg, void *obj, const kite__directive_t *d, json_t *v,
                   const kite__cfg_file_t *f, const char *path)
{
    unsigned long n;

    if (kite__cfg_uint(cfg, v, f, path, d->arg, &n) < 0)
        return KITE_EINVAL;
    if (!n) /* count-threads: 0 threads cannot serve */
        return kite__cfg_error(cfg, f, path, "must be at least 1");
    *AT(obj, d->off, int) = (int)n;
    return 0;
}

static int set_port(kite__cfg_t *cfg, void *obj, const kite__directive_t *d, json_t *v,
                    const kite__cfg_file_t *f, const char *path)
{
    kite__cfg_vhost_t *vh = obj;
    unsigned long n;

    vh->port_set = 1; /* a bad value is one mistake, not also "no port" */
    if (kite__cfg_uint(cfg, v, f, path, 65535, &n) < 0)
        return KITE_EINVAL;
    vh->info.port = (int)n;
    return 0;
}

static int set_ulong(kite__cfg_t *cfg, void *obj, const kite__directive_t *d, json_t *v,
                     const kite__cfg_file_t *f, const char *path)
{
    return kite__cfg_uint(cfg, v, f, path, d->arg ? d->arg : (unsigned long)-1,
                          AT(obj, d->off, unsigned long));
}

/* lua-instruction-budget: a count, or false for none. */
static int set_budget(kite__cfg_t *cfg, void *obj, const kite__directive_t *d, json_t *v,
                      const kite__cfg_file_t *f, const char *path)
{
    if (json_is_false(v)) {
        *AT(obj, d->off, unsigned long) = KITE_LUA_NO_BUDGET;
        return 0;
    }
    if (json_is_true(v))
        return kite__cfg_error(cfg, f, path, "expected a number or false, got true");
    return kite__cfg_uint(cfg, v, f, path, KITE_LUA_NO_BUDGET - 1, AT(obj, d->off, unsigned long));
}

static int set_size(kite__cfg_t *cfg, void *obj, const kite__directive_t *d, json_t *v,
                    const kite__cfg_file_t *f, const char *path)
{
    unsigned long n;

    if (kite__cfg_uint(cfg, v, f, path, (unsigned long)1 << 40, &n) < 0)
        return KITE_EINVAL;
    if (!n)
        return kite__cfg_error(cfg, f, path, "must be at least 1");
    *AT(obj, d->off, size_t) = n;
    return 0;
}

static int set_id(kite__cfg_t *cfg, void *obj, const kite__directive_t *d, json_t *v,
                  const kite__cfg_file_t *f, const char *path)
{
    unsigned long n;

    if (kite__cfg_uint(cfg, v, f, path, 0x7fffffff, &n) < 0)
        return KITE_EINVAL;
    *AT(obj, d->off, long) = (long)n;
    return 0;
}

/* The flag @d->arg set when the boolean equals @when. */
static int put_flag(kite__cfg_t *cfg, void *obj, const kite__directive_t *d, json_t *v,
                    const kite__cfg_file_t *f, const char *path, int when)
{
    int b;

    if (kite__cfg_bool(cfg, v, f, path, &b) < 0)
        return KITE_EINVAL;
    if (!b == !when)
        *AT(obj, d->off, unsigned) |= d->arg;
    else
        *AT(obj, d->off, unsigned) &= ~d->arg;
    return 0;
}

static int set_flag(kite__cfg_t *cfg, void *obj, const kite__directive_t *d, json_t *v,
                    const kite__cfg_file_t *f, const char *path)
{
    return put_flag(cfg, obj, d, v, f, path, 1);
}

static int set_max_age(kite__cfg_t *cfg, void *obj, const kite__directive_t *d, json_t *v,
                       const kite__cfg_file_t *f, const char *path)
{
    kite__cfg_vhost_t *vh = obj;

    if (set_uint(cfg, obj, d, v, f, path) < 0)
        return KITE_EINVAL;
    vh->max_age_set = 1;
    return 0;
}

/* lws ipv6only: "on" takes IPv6 alone, "off" IPv4 alone. */
static int set_ipv6only(kite__cfg_t *cfg, void *obj, const kite__directive_t *d, json_t *v,
                        const kite__cfg_file_t *f, const char *path)
{
    unsigned *o = AT(obj, d->off, unsigned);
    int b;

    if (kite__cfg_bool(cfg, v, f, path, &b) < 0)
        return KITE_EINVAL;
    *o = (*o & ~(unsigned)(KITE_VH_IPV6ONLY | KITE_VH_NOIPV6)) |
         (b ? KITE_VH_IPV6ONLY : KITE_VH_NOIPV6);
    return 0;
}

/* A boolean that is on by default: false sets the flag @d->arg. */
static int set_flag_off(kite__cfg_t *cfg, void *obj, const kite__directive_t *d, json_t *v,
                        const kite__cfg_file_t *f, const char *path)
{
    return put_flag(cfg, obj, d, v, f, path, 0);
}

/* access-control-list (arg 0) and throttle (arg 1): parsed here too, so
 * that a bad entry stops --check-config with its line rather than failing
 * vhost creation; the parsed form is the vhost's to make. */
static int set_list(kite__cfg_t *cfg, void *obj, const kite__directive_t *d, json_t *v,
                    const kite__cfg_file_t *f, const char *path)
{
    static const char *const expect[] = {
        "+NET or -NET, NET an IPv4 or IPv6 address with an optional /bits",
        "KEY=RATE, KEY \"*\", a subnet or a /uri-prefix, RATE bytes/s with an optional k or m"};
    struct kite__acl *acl = NULL;
    struct kite__throttle *th = NULL;
    const char *s;
    char bad[64];
    int r;

    if (set_str(cfg, obj, d, v, f, path) < 0)
        return KITE_EINVAL;
    s = *AT(obj, d->off, const char *);
    r = d->arg ? kite__throttle_parse(s, &th, bad, sizeof(bad))
               : kite__acl_parse(s, &acl, bad, sizeof(bad));
    if (r == KITE_EINVAL)
        return kite__cfg_error(cfg, f, path, "bad entry \"%s\" (expected %s)", bad, expect[d->arg]);
    if (r < 0)
        return r;
    kite__acl_free(acl);
    kite__throttle_free(th);
    return 0;
}

/* protect-uri "/uri=file,...": the files taken from the config's directory. */
static int set_protect(kite__cfg_t *cfg, void *obj, const kite__directive_t *d, json_t *v,
                       const kite__cfg_file_t *f, const char *path)
{
    const char *s, *e, *eq;
    char *out, *o, one[4096];
    size_t cap;

    if (kite__cfg_string(cfg, v, f, path, &s) < 0)
        return KITE_EINVAL;
    cap = strlen(s) * 2 + 1;
    for (e = s; *e; e++)
        cap += *e == ',' ? sizeof(one) : 0;
    if (!(o = out = kite__cfg_alloc(cfg, cap + sizeof(one))))
        return KITE_ENOMEM;
    for (; *s; s = *e ? e + 1 : e) {
        char *abs;
        if (!(e = strchr(s, ',')))
            e = s + strlen(s);
        if (e == s)
            continue;
        eq = memchr(s, '=', (size_t)(e - s));
        if (*s != '/' || !eq || eq + 1 == e || (size_t)(e - eq) >= sizeof(one))
            return kite__cfg_error(cfg, f, path, "expected \"/uri=file\" in \"%.*s\"", (int)(e - s),
                                   s);
        snprintf(one, sizeof(one), "%.*s", (int)(e - eq - 1), eq + 1);
        if (!(abs = kite__cfg_abspath(cfg, f, one)))
            return KITE_ENOMEM;
        if (access(abs, R_OK) < 0)
            return kite__cfg_error(cfg, f, path, "\"%s\": %s", abs, strerror(errno));
        o += sprintf(o, "%s%.*s=%s", o == out ? "" : ",", (int)(eq - s), s, abs);
    }
    *AT(obj, d->off, const char *) = out;
    return 0;
}

static int set_bool(kite__cfg_t *cfg, void *obj, const kite__directive_t *d, json_t *v,
                    const kite__cfg_file_t *f, const char *path)
{
    return kite__cfg_bool(cfg, v, f, path, AT(obj, d->off, int));
}

/* ws-deflate: true/false, or an object of settings (which turns it on). */
static int set_ws_deflate(kite__cfg_t *cfg, void *obj, const kite__directive_t *d, json_t *v,
                          const kite__cfg_file_t *f, const char *path)
{
    static const struct {
        const char *key;
        unsigned long min, max;
    } keys[] = {{"level", 1, 9}, {"mem-level", 1, 9}, {"window-bits", 8, 15}};
    kite__cfg_vhost_t *vh = obj;
    kite_ws_deflate_t *wd;
    const char *key;
    json_t *e;
    int b, r = 0;
    size_t i;

    (void)d;
    if (json_is_boolean(v) || !json_is_object(v)) {
        if (kite__cfg_bool(cfg, v, f, path, &b) < 0)
            return KITE_EINVAL;
        if (!b) {
            vh->info.ws_deflate = NULL;
            return 0;
        }
    }
    if (!(wd = kite__cfg_alloc(cfg, sizeof(*wd))))
        return KITE_ENOMEM;
    memset(wd, 0, sizeof(*wd));
    wd->struct_size = sizeof(*wd);
    vh->info.ws_deflate = wd;
    if (!json_is_object(v))
        return 0;
    json_object_foreach(v, key, e)
    {
        char kp[KITE__CFG_PATH_MAX];
        unsigned long n;

        kite__cfg_path(kp, "%s.%s", path, key);
        if (!strcmp(key, "no-context-takeover")) {
            if (kite__cfg_bool(cfg, e, f, kp, &b) < 0)
                r = KITE_EINVAL;
            else if (b)
                wd->flags |= KITE_WS_DEFLATE_NO_CONTEXT_TAKEOVER;
            continue;
        }
        for (i = 0; i < sizeof(keys) / sizeof(keys[0]) && strcmp(key, keys[i].key); i++)
            ;
        if (i == sizeof(keys) / sizeof(keys[0])) {
            r = kite__cfg_error(cfg, f, kp,
                                "unknown key (level, mem-level, window-bits, no-context-takeover)");
            continue;
        }
        if (kite__cfg_uint(cfg, e, f, kp, keys[i].max, &n) < 0) {
            r = KITE_EINVAL;
            continue;
        }
        if (n < keys[i].min) {
            r = kite__cfg_error(cfg, f, kp, "%lu is out of range (%lu-%lu)", n, keys[i].min,
                                keys[i].max);
            continue;
        }
        if (i == 0)
            wd->level = (int)n;
        else if (i == 1)
            wd->mem_level = (int)n;
        else
            wd->window_bits = (int)n;
    }
    return r;
}

/* kite_mount_t's cache flags are bit-fields: no offsetof for them. */
static int set_cache_flag(kite__cfg_t *cfg, void *obj, const kite__directive_t *d, json_t *v,
                          const kite__cfg_file_t *f, const char *path)
{
    kite_mount_t *m = &((kite__cfg_mount_t *)obj)->m;
    int b;

    if (kite__cfg_bool(cfg, v, f, path, &b) < 0)
        return KITE_EINVAL;
    ((kite__cfg_mount_t *)obj)->cache_keys = 1;
    if (d->arg == 4)
        m->flags =
            b ? m->flags | KITE_MOUNT_F_CACHE_NO : m->flags & ~(unsigned)KITE_MOUNT_F_CACHE_NO;
    else if (d->arg == 1)
        m->cache_reuse = b & 1;
    else if (d->arg == 2)
        m->cache_revalidate = b & 1;
    else
        m->cache_intermediaries = b & 1;
    return 0;
}

/* cache-max-age: a cache key, so the mount loses the no-store default */
static int set_cache_age(kite__cfg_t *cfg, void *obj, const kite__directive_t *d, json_t *v,
                         const kite__cfg_file_t *f, const char *path)
{
    ((kite__cfg_mount_t *)obj)->cache_keys = 1;
    return set_uint(cfg, obj, d, v, f, path);
}

/* lws alpn and default-alpn: "h2,http/1.1", the names kite speaks. */
static int set_alpn(kite__cfg_t *cfg, void *obj, const kite__directive_t *d, json_t *v,
                    const kite__cfg_file_t *f, const char *path)
{
    const char *s, *e;

    if (set_str(cfg, obj, d, v, f, path) < 0)
        return KITE_EINVAL;
    for (s = *AT(obj, d->off, const char *); *s; s = *e ? e + 1 : e) {
        e = s + strcspn(s, ",");
        if (!(e - s == 2 && !strncmp(s, "h2", 2)) && !(e - s == 8 && !strncmp(s, "http/1.1", 8)))
            return kite__cfg_error(cfg, f, path, "\"%.*s\": kite speaks \"h2\" and \"http/1.1\"",
                                   (int)(e - s), s);
    }
    return 0;
}

/* A key of lws's config that means nothing in kite: accepted (so that an
 * lwsws config starts) with one notice saying why, never silently. */
static int set_lws_only(kite__cfg_t *cfg, void *obj, const kite__directive_t *d, json_t *v,
                        const kite__cfg_file_t *f, const char *path)
{
    (void)obj;
    (void)v;
    kite__cfg_note(cfg, KITE__CFG_NOTICE, f, path, "accepted from lws, %s", d->doc);
    return 0;
}

/* A key of lws's config that guards something kite cannot guard that
 * way: ignoring it would serve with less protection than the config
 * asks for, so it is an error saying what to use instead. */
static int set_lws_unsafe(kite__cfg_t *cfg, void *obj, const kite__directive_t *d, json_t *v,
                          const kite__cfg_file_t *f, const char *path)
{
    (void)obj;
    (void)v;
    return kite__cfg_error(cfg, f, path, "%s", d->doc);
}

static int set_pvo(kite__cfg_t *cfg, void *obj, const kite__directive_t *d, json_t *v,
                   const kite__cfg_file_t *f, const char *path)
{
    return kite__cfg_pvo_list(cfg, v, f, path, AT(obj, d->off, const kite_pvo_t *));
}

/* "1.2" -> 0x0303, the TLS version as on the wire. */
static int set_tls_version(kite__cfg_t *cfg, void *obj, const kite__directive_t *d, json_t *v,
                           const kite__cfg_file_t *f, const char *path)
{
    static const char *const names[] = {"1.0", "1.1", "1.2", "1.3"};
    const char *s;
    size_t i;

    if (kite__cfg_string(cfg, v, f, path, &s) < 0)
        return KITE_EINVAL;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(s, names[i])) {
            *AT(obj, d->off, unsigned) = 0x0301 + (unsigned)i;
            return 0;
        }
    return kite__cfg_error(cfg, f, path, "\"%s\" is not a TLS version (1.0, 1.1, 1.2, 1.3)", s);
}

/* plugin-dir may be given several times in one object, as lwsws allows:
 * jansson keeps only the last, so the other values come from the text. */
static int add_plugin_dir(kite__cfg_t *cfg, json_t *v, const kite__cfg_file_t *f, const char *path)
{
    const char **dirs;
    const char *s;

    if (kite__cfg_string(cfg, v, f, path, &s) < 0)
        return KITE_EINVAL;
    dirs = kite__cfg_alloc(cfg, (size_t)(cfg->nplugin_dirs + 2) * sizeof(*dirs));
    if (!dirs)
        return KITE_ENOMEM;
    if (cfg->nplugin_dirs)
        memcpy(dirs, cfg->plugin_dirs, (size_t)cfg->nplugin_dirs * sizeof(*dirs));
    if (!(dirs[cfg->nplugin_dirs] = kite__cfg_abspath(cfg, f, s)))
        return KITE_ENOMEM;
    if (access(dirs[cfg->nplugin_dirs], R_OK | X_OK) < 0)
        return kite__cfg_error(cfg, f, path, "plugin dir \"%s\": %s", dirs[cfg->nplugin_dirs],
                               strerror(errno));
    cfg->nplugin_dirs++;
    cfg->plugin_dirs = dirs;
    if (!cfg->plugin_dir_file)
        cfg->plugin_dir_file = f;
    return 0;
}

static int set_plugin_dir(kite__cfg_t *cfg, void *obj, const kite__directive_t *d, json_t *v,
                          const kite__cfg_file_t *f, const char *path)
{
    int i, n = 0, r = 0;
    size_t k;
    json_t *e;

    if (json_is_array(v)) {
        json_array_foreach(v, k, e) if (add_plugin_dir(cfg, e, f, path) < 0) r = KITE_EINVAL;
        return r;
    }
    for (i = 0; i < f->npos; i++)
        if (!strcmp(f->pos[i].path, path))
            n++;
    if (n < 2)
        return add_plugin_dir(cfg, v, f, path);
    for (i = 0; i < f->npos; i++) {
        json_error_t je;
        json_t *one;
        if (strcmp(f->pos[i].path, path))
            continue;
        one = json_loadb(f->text + f->pos[i].voff, f->pos[i].vlen, JSON_DECODE_ANY, &je);
        if (!one)
            return kite__cfg_error(cfg, f, path, "%s", je.text);
        if (add_plugin_dir(cfg, one, f, path) < 0)
            r = KITE_EINVAL;
        json_decref(one);
    }
    return r;
}

static int set_mounts(kite__cfg_t *cfg, void *obj, const kite__directive_t *d, json_t *v,
                      const kite__cfg_file_t *f, const char *path)
{
    kite__cfg_vhost_t *vh = obj;
    size_t i;
    json_t *e;
    int r = 0;

    if (!json_is_array(v))
        return kite__cfg_error(cfg, f, path, "expected an array of mounts");
    vh->mounts = kite__cfg_alloc(cfg, json_array_size(v) * sizeof(*vh->mounts) + 1);
    if (!vh->mounts)
        return KITE_ENOMEM;
    json_array_foreach(v, i, e)
    {
        kite__cfg_mount_t *m = &vh->mounts[vh->nmounts++];
        m->file = f;
        kite__cfg_path(m->path, "%s[%zu]", path, i);
        if (!json_is_object(e))
            r = kite__cfg_error(cfg, f, m->path, "expected a mount object");
        else if (kite__cfg_apply_object(cfg, KITE__SC_MOUNT, m, e, f, m->path) < 0)
            r = KITE_EINVAL;
    }
    return r;
}

/* "ws-protocols": [{ "name": { "pvo": "value", ... } }, ...] */
static int add_protocol(kite__cfg_t *cfg, kite__cfg_vhost_t *vh, const char *name, json_t *opts,
                        const kite__cfg_file_t *f, const char *path, kite_pvo_t ***tail)
{
    kite_pvo_t *p = kite__cfg_alloc(cfg, sizeof(*p));
    const char **names = kite__cfg_alloc(cfg, (size_t)(vh->nproto_names + 1) * sizeof(*names));
    const char **paths = kite__cfg_alloc(cfg, (size_t)(vh->nproto_names + 1) * sizeof(*paths));
    int i;

    if (!p || !names || !paths || !(p->name = kite__cfg_strdup(cfg, name)))
        return KITE_ENOMEM;
    for (i = 0; i < vh->nproto_names; i++)
        if (!strcmp(vh->proto_names[i], name))
            return kite__cfg_error(cfg, f, path, "protocol \"%s\" is listed twice", name);
    if (vh->nproto_names) {
        memcpy(names, vh->proto_names, (size_t)vh->nproto_names * sizeof(*names));
        memcpy(paths, vh->proto_paths, (size_t)vh->nproto_names * sizeof(*paths));
    }
    if (!(paths[vh->nproto_names] = kite__cfg_strdup(cfg, path)))
        return KITE_ENOMEM;
    names[vh->nproto_names++] = p->name;
    vh->proto_names = names;
    vh->proto_paths = paths;
    if (!json_is_object(opts))
        return kite__cfg_error(cfg, f, path, "expected an object of per-vhost options");
    if (kite__cfg_pvo_list(cfg, opts, f, path, &p->options) < 0)
        return KITE_EINVAL;
    **tail = p;
    *tail = (kite_pvo_t **)&p->next;
    return 0;
}

static int set_protocols(kite__cfg_t *cfg, void *obj, const kite__directive_t *d, json_t *v,
                         const kite__cfg_file_t *f, const char *path)
{
    kite__cfg_vhost_t *vh = obj;
    kite_pvo_t **tail = &vh->pvo;
    json_t *arr = v, *e, *opts;
    const char *name;
    size_t i;
    int r = 0;

    if (json_is_object(v)) {
        arr = json_array();
        if (!arr || json_array_append(arr, v) < 0)
            return KITE_ENOMEM;
    } else if (!json_is_array(v)) {
        return kite__cfg_error(cfg, f, path, "expected an array of {\"protocol\": {options}}");
    } else {
        json_incref(arr);
    }
    json_array_foreach(arr, i, e)
    {
        char ep[KITE__CFG_PATH_MAX];
        kite__cfg_path(ep, json_is_array(v) ? "%s[%zu]" : "%s", path, i);
        if (!json_is_object(e)) {
            r = kite__cfg_error(cfg, f, ep, "expected {\"protocol\": {options}}");
            continue;
        }
        json_object_foreach(e, name, opts)
        {
            char pp[KITE__CFG_PATH_MAX];
            kite__cfg_path(pp, "%s.%s", ep, name);
            if (add_protocol(cfg, vh, name, opts, f, pp, &tail) < 0)
                r = KITE_EINVAL;
        }
    }
    json_decref(arr);
    return r;
}

#define G(f)  offsetof(kite__cfg_t, f)
#define V(f)  offsetof(kite__cfg_vhost_t, f)
#define M(f)  offsetof(kite__cfg_mount_t, f)
#define GLOB  KITE__SC_GLOBAL
#define VHOST KITE__SC_VHOST
#define MOUNT KITE__SC_MOUNT

const kite__directive_t kite__directives[] = {
    {"uid", GLOB, "number", set_id, G(g.uid), 0, "user id to switch to after binding"},
    {"gid", GLOB, "number", set_id, G(g.gid), 0, "group id to switch to after binding"},
    {"username", GLOB, "string", set_str, G(g.username), 0, "user to switch to (instead of uid)"},
    {"groupname", GLOB, "string", set_str, G(g.groupname), 0,
     "group to switch to (instead of gid)"},
    {"count-threads", GLOB, "number", set_int, G(ci.count_threads), 64,
     "service threads, each with its own event loop (1-64)"},
    {"server-string", GLOB, "string", set_str, G(ci.server_string), 0,
     "the Server: header value; \"\" sends none"},
    {"plugin-dir", GLOB, "string, repeatable", set_plugin_dir, 0, 0,
     "a directory of protocol plugins (*.so) to load; may be given more than once"},
    {"timeout-secs", GLOB, "number", set_uint, G(ci.timeout_secs), 3600,
     "time allowed to send a request head or body"},
    {"ws-pingpong-secs", GLOB, "number", set_uint, G(ci.ws_ping_pong_secs), 86400,
     "ping idle websockets this often and close those that do not answer; 0: off"},
    {"reject-service-keywords", GLOB, "[{\"keyword\": \"status\"}]", set_pvo,
     G(ci.reject_service_keywords), 0,
     "a User-Agent containing a keyword gets that status (\"404\") and nothing else"},
    {"rlimit-nofile", GLOB, "number", set_ulong, G(g.rlimit_nofile), 0,
     "raise the open file limit (RLIMIT_NOFILE) to this at startup"},
    {"ip-limit-ah", GLOB, "number", set_uint, G(ci.ip_limit_ah), 1000000,
     "connections per peer IP that may be sending a request head at once; 0: no limit"},
    {"ip-limit-wsi", GLOB, "number", set_uint, G(ci.ip_limit_wsi), 1000000,
     "connections per peer IP; 0: no limit"},
    {"init-ssl", GLOB, "boolean", set_bool, G(init_ssl), 0,
     "accepted for lwsws configs; TLS is set up when a vhost has a certificate"},
    {"keepalive_timeout", GLOB, "number", set_uint, G(ci.keepalive_timeout), 86400,
     "idle keep-alive time for vhosts without their own (default 60, as lwsws)"},
    {"send-timeout-secs", GLOB, "number", set_uint, G(ci.send_timeout), 86400,
     "a peer that reads nothing of pending output for this long is closed (default 30)"},
    {"max-output", GLOB, "number", set_size, G(ci.max_output), 0,
     "bytes of unsent output allowed per connection (default 1048576)"},
    {"h2-max-concurrent-streams", GLOB, "number", set_uint, G(ci.h2_max_streams), 100000,
     "HTTP/2: streams a connection may have open at once (default 100)"},
    {"h2-initial-window-size", GLOB, "number", set_uint, G(ci.h2_window), 0x7fffffff,
     "HTTP/2: bytes of request body a stream may send before the handler takes them "
     "(default 262144)"},
    {"h2-settings-timeout-secs", GLOB, "number", set_uint, G(ci.h2_settings_timeout), 3600,
     "HTTP/2: the peer must acknowledge kite's SETTINGS within this time (default 10)"},
    {"max-header-size", GLOB, "number", set_uint, G(ci.max_header_size), 1u << 20,
     "largest request head; 431 past it (default 8192)"},
    {"ws-max-message", GLOB, "number", set_size, G(ci.ws_max_message), 0,
     "largest websocket message; 1009 past it (default 16777216)"},
    {"default-alpn", GLOB, "\"h2,http/1.1\"", set_alpn, G(default_alpn), 0,
     "lws: the alpn of TLS vhosts that set none"},
    {"count-async-threads", GLOB, "lws", set_lws_only, 0, 0,
     "no effect: kite has no async thread pool to size (count-threads sets the service "
     "threads)"},
    {"cpd-bypass", GLOB, "lws", set_lws_only, 0, 0,
     "no effect: kite does no captive portal detection"},
    {"allow-early-data", GLOB, "lws", set_lws_only, 0, 0,
     "no effect: kite never takes TLS 1.3 early data (0-RTT), which a peer could replay"},
    {"quic-pad-crypto", GLOB, "lws", set_lws_only, 0, 0, "no effect: kite has no QUIC (HTTP/3)"},
    {"quic-only-latest", GLOB, "lws", set_lws_only, 0, 0, "no effect: kite has no QUIC (HTTP/3)"},
    {"quic-early-key-update", GLOB, "lws", set_lws_only, 0, 0,
     "no effect: kite has no QUIC (HTTP/3)"},

    {"name", VHOST, "string", set_str, V(info.name), 0,
     "the vhost's name, matched against the Host header"},
    {"port", VHOST, "number", set_port, 0, 0, "TCP port to listen on (0: any free port)"},
    {"interface", VHOST, "string", set_str, V(info.iface), 0,
     "address or interface name (\"lo\", \"eth0\": its address) to listen on (default: all); "
     "with unix-socket, the socket's path"},
    {"bind-iface", VHOST, "boolean", set_flag, V(info.options), KITE_VH_BIND_IFACE,
     "bind the listen socket to the interface named by interface (SO_BINDTODEVICE; needs root "
     "or CAP_NET_RAW)"},
    {"unix-socket", VHOST, "boolean", set_bool, V(unix_socket), 0,
     "listen on the AF_UNIX socket named by interface"},
    {"unix-socket-perms", VHOST, "\"user:group\"", set_str, V(unix_perms), 0,
     "owner given to the unix socket"},
    {"host-ssl-key", VHOST, "string", set_path, V(info.tls_key), 0,
     "PEM private key (RSA or ECDSA); with host-ssl-cert the vhost serves https and wss"},
    {"host-ssl-cert", VHOST, "string", set_path, V(info.tls_cert), 0,
     "PEM certificate, maybe followed by its chain"},
    {"host-ssl-ca", VHOST, "string", set_path, V(info.tls_ca), 0,
     "PEM certificates sent after the certificate as its chain"},
    {"ssl-ca-path", VHOST, "string", set_path, V(info.tls_ca_path), 0,
     "a directory of PEM CA certificates for client certificates, with or instead of "
     "host-ssl-ca (LibHTTP ssl_ca_path)"},
    {"client-cert-required", VHOST, "boolean", set_flag, V(info.tls_options),
     KITE_TLS_CLIENT_CERT_REQUIRED,
     "require a client certificate issued by host-ssl-ca or ssl-ca-path; handlers can read its "
     "subject"},
    {"ssl-min-version", VHOST, "\"1.2\"", set_tls_version, V(info.tls_min_version), 0,
     "oldest TLS version accepted (default 1.2)"},
    {"ssl-max-version", VHOST, "\"1.3\"", set_tls_version, V(info.tls_max_version), 0,
     "newest TLS version offered (default: the newest mbedTLS has)"},
    {"ssl-verify-depth", VHOST, "number", set_uint, V(info.tls_verify_depth), 100,
     "client certificates: how many CAs may be above one (default 9)"},
    {"allow-non-tls", VHOST, "boolean", set_flag, V(info.tls_options), KITE_TLS_ALLOW_NON_TLS,
     "plain HTTP on the TLS port too, told apart by the first byte (the port's first vhost "
     "decides)"},
    {"redirect-http", VHOST, "boolean", set_flag, V(info.tls_options), KITE_TLS_REDIRECT_HTTP,
     "plain HTTP requests get a 301 to https (all of them without host-ssl-cert; with it, those "
     "allow-non-tls lets in)"},
    {"redirect-http-port", VHOST, "number", set_uint, V(info.redirect_https_port), 65535,
     "with redirect-http: the Location names the Host's name with this https port (LibHTTP "
     "\"r\" ports); 0: the Host as sent"},
    {"ciphers", VHOST, "string", set_str, V(info.tls_ciphers), 0,
     "TLS 1.2 cipher suites, mbedTLS or OpenSSL names separated by ':' "
     "(TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256); default: ECDHE with AES-GCM and "
     "ChaCha20-Poly1305"},
    {"tls13-ciphers", VHOST, "string", set_str, V(info.tls13_ciphers), 0,
     "TLS 1.3 cipher suites separated by ':' (TLS_AES_128_GCM_SHA256); mbedTLS 3.6 only"},
    {"ecdh-curve", VHOST, "string", set_str, V(info.tls_groups), 0,
     "key exchange groups, best first, separated by ':' (default P-256:X25519:P-384)"},
    {"ssl-option-set", VHOST, "number", set_ulong, V(info.tls_ssl_options_set), 0,
     "OpenSSL SSL_OP_* bits: NO_TLSv1_2, NO_TLSv1_3, NO_TICKET ... apply, others are a notice"},
    {"ssl-option-clear", VHOST, "number", set_ulong, V(info.tls_ssl_options_clear), 0,
     "OpenSSL SSL_OP_* bits cleared (those kite always keeps are a notice)"},
    {"sts", VHOST, "boolean", set_flag, V(info.tls_options), KITE_TLS_STS,
     "send Strict-Transport-Security on a TLS vhost's responses"},
    {"access-log", VHOST, "string", set_path, V(info.access_log), 0,
     "append a combined-format access log to this file"},
    {"keepalive_timeout", VHOST, "number", set_uint, V(info.keepalive_timeout), 86400,
     "idle keep-alive time in seconds"},
    {"headers", VHOST, "[{\"name\": \"value\"}]", set_pvo, V(info.headers), 0,
     "headers added to every response"},
    {"error-document-404", VHOST, "string", set_str, V(info.error_document_404), 0,
     "URL path of the page served with 404s"},
    {"ws-deflate", VHOST, "boolean or {\"level\": 1, ...}", set_ws_deflate, 0, 0,
     "permessage-deflate on the vhost's websockets when the client offers it; an object sets "
     "level (1-9, default 1), mem-level (1-9, default 8), window-bits (8-15, default 15) and "
     "no-context-takeover (default false), see README.websockets.md"},
    {"strict-host-check", VHOST, "boolean", set_flag, V(info.options), KITE_VH_STRICT_HOST,
     "a Host header naming no vhost on the port gets 400"},
    {"noipv6", VHOST, "boolean", set_flag, V(info.options), KITE_VH_NOIPV6, "listen on IPv4 only"},
    {"ipv6only", VHOST, "boolean", set_ipv6only, V(info.options), 0,
     "on: IPv6 only; off: IPv4 only (as README.lwsws.md); unset: both"},
    {"onlyraw", VHOST, "boolean", set_flag, V(info.options), KITE_VH_RAW_ONLY,
     "connections are raw sockets for the protocol with the pvo \"raw\""},
    {"access-control-list", VHOST, "\"-0.0.0.0/0,+192.168/16,+::1\"", set_list,
     V(info.access_control_list), 0,
     "LibHTTP ACL: peers denied by it are closed at accept (the last matching entry decides)"},
    {"throttle", VHOST, "\"*=1k,10.0.0.0/8=0,/downloads/=5k\"", set_list, V(info.throttle), 1,
     "LibHTTP throttle: bytes/s per response by peer subnet or URI prefix; last match wins"},
    {"auth-domain", VHOST, "string", set_str, V(info.auth_domain), 0,
     "realm of HTTP Digest authentication (LibHTTP authentication_domain; default the vhost "
     "name); a .htpasswd file then guards its directory"},
    {"global-auth-file", VHOST, "string", set_path, V(info.global_auth_file), 0,
     "LibHTTP password file (user:realm:ha1) guarding every request of the vhost (Digest)"},
    {"protect-uri", VHOST, "\"/uri=file,...\"", set_protect, V(info.protect_uri), 0,
     "URI prefixes each guarded by a LibHTTP password file (Digest)"},
    {"auth-nonce-timeout", VHOST, "number", set_uint, V(info.auth_nonce_timeout), 86400,
     "seconds a Digest nonce is good for (default 300); then stale=true"},
    {"put-delete-auth-file", VHOST, "string", set_path, V(info.put_delete_auth_file), 0,
     "LibHTTP password file whose users may PUT, DELETE and MKCOL on file mounts (Digest)"},
    {"access-control-allow-origin", VHOST, "string", set_str, V(info.cors_origin), 0,
     "CORS: Access-Control-Allow-Origin on every response (\"*\" or an origin); preflight "
     "OPTIONS requests are answered"},
    {"tcp-nodelay", VHOST, "boolean", set_flag_off, V(info.options), KITE_VH_NO_TCP_NODELAY,
     "set TCP_NODELAY on accepted connections (default on; LibHTTP tcp_nodelay); the listen "
     "port's first vhost decides"},
    {"request-timeout", VHOST, "number", set_uint, V(info.request_timeout_ms), 3600000,
     "milliseconds a client has to send a request head once it began it, and each piece of "
     "a body; then 408 and close (default: timeout-secs; LibHTTP request_timeout_ms)"},
    {"http2", VHOST, "boolean", set_flag_off, V(info.options), KITE_VH_NO_H2,
     "offer HTTP/2 (\"h2\") by ALPN on a TLS vhost (default true; the port's first vhost "
     "decides)"},
    {"h2c", VHOST, "boolean", set_flag, V(info.options), KITE_VH_H2C,
     "HTTP/2 without TLS: to clients that start with the HTTP/2 preface (prior knowledge) or "
     "ask with Upgrade: h2c; default false"},
    {"decode-url", VHOST, "boolean", set_flag_off, V(info.options), KITE_VH_NO_DECODE_URL,
     "percent-decode the URL path before routing (default on); off: %XX names files literally"},
    {"error-pages", VHOST, "string", set_path, V(info.error_pages), 0,
     "directory of error pages: error404.html, then error4xx.html, then error.html"},
    {"static-file-max-age", VHOST, "number", set_max_age, V(static_max_age), 0x7fffffff,
     "Cache-Control max-age for file mounts without cache keys of their own"},
    {"url-rewrite", VHOST, "\"/prefix=dir,...\"", set_str, V(url_rewrite), 0,
     "LibHTTP url_rewrite_patterns: each URL prefix served from another directory, with the "
     "options of the file mount that covers the prefix"},
    {"allow-http-on-https", VHOST, "boolean", set_flag, V(info.tls_options), KITE_TLS_ALLOW_NON_TLS,
     "lws: the same as allow-non-tls"},
    {"apply-listen-accept", VHOST, "boolean", set_flag, V(info.options), KITE_VH_RAW_ONLY,
     "lws: every accepted connection goes to listen-accept-protocol (as onlyraw)"},
    {"fallback-listen-accept", VHOST, "boolean", set_flag, V(info.options), KITE_VH_FALLBACK_TO_RAW,
     "lws: a connection whose first bytes are not HTTP (or TLS) goes to listen-accept-protocol "
     "as a raw socket"},
    {"listen-accept-role", VHOST, "\"raw-skt\"", set_str, V(la_role), 0,
     "lws: the role of connections taken by apply-listen-accept or fallback-listen-accept; kite "
     "has raw-skt"},
    {"listen-accept-protocol", VHOST, "string", set_str, V(la_protocol), 0,
     "lws: the protocol those connections are given (as the pvo \"raw\" names it)"},
    {"alpn", VHOST, "\"h2,http/1.1\"", set_alpn, V(alpn), 0,
     "lws: the ALPN names a TLS vhost offers; without h2 it is HTTP/1 only (as \"http2\": false)"},
    {"enable-client-ssl", VHOST, "lws", set_lws_only, 0, 0,
     "no effect: client TLS (proxy mounts, kite_client_connect) is always available"},
    {"client-ssl-key", VHOST, "lws", set_lws_only, 0, 0,
     "no effect: kite's client connections send no client certificate"},
    {"client-ssl-cert", VHOST, "lws", set_lws_only, 0, 0,
     "no effect: kite's client connections send no client certificate"},
    {"client-ssl-ca", VHOST, "lws", set_lws_only, 0, 0,
     "no effect: https proxy mounts name their CA bundle with the pmo proxy-ca"},
    {"client-ssl-ciphers", VHOST, "lws", set_lws_only, 0, 0,
     "no effect: client connections use mbedTLS's default suites"},
    {"client-tls13-ciphers", VHOST, "lws", set_lws_only, 0, 0,
     "no effect: client connections use mbedTLS's default suites"},
    {"client-ecdh-curve", VHOST, "lws", set_lws_only, 0, 0,
     "no effect: client connections use mbedTLS's default groups"},
    {"ssl-client-option-set", VHOST, "lws", set_lws_only, 0, 0,
     "no effect: OpenSSL SSL_OP_* bits of client connections"},
    {"ssl-client-option-clear", VHOST, "lws", set_lws_only, 0, 0,
     "no effect: OpenSSL SSL_OP_* bits of client connections"},
    {"ignore-missing-cert", VHOST, "lws", set_lws_only, 0, 0,
     "no effect: a missing certificate file is an error in kite (a vhost never starts without "
     "the TLS it was given)"},
    {"fo-listen-queue", VHOST, "lws", set_lws_only, 0, 0,
     "no effect: kite listens with the system's largest backlog (SOMAXCONN)"},
    {"disable-no-protocol-ws-upgrades", VHOST, "boolean", set_flag, V(info.options),
     KITE_VH_WS_NEED_PROTOCOL,
     "a websocket upgrade naming no subprotocol gets 400 instead of the default protocol"},
    {"h2-half-closed-long-poll", VHOST, "lws", set_lws_only, 0, 0,
     "no effect: a kite HTTP/2 stream the client half-closed stays open until its answer "
     "ends"},
    {"quic-mtu", VHOST, "lws", set_lws_only, 0, 0, "no effect: kite has no QUIC (HTTP/3)"},
    {"quic-preferred-addresses", VHOST, "lws", set_lws_only, 0, 0,
     "no effect: kite has no QUIC (HTTP/3)"},
    {"dht", VHOST, "lws", set_lws_only, 0, 0, "no effect: kite has no DHT"},
    {"mounts", VHOST, "[mount]", set_mounts, 0, 0, "URL space: see the mount keys"},
    {"ws-protocols", VHOST, "[{\"protocol\": {pvo}}]", set_protocols, 0, 0,
     "the protocols enabled on the vhost, each with its options; \"default\": 1 picks the "
     "protocol for websockets that ask for none"},

    {"mountpoint", MOUNT, "string", set_str, M(m.mountpoint), 0, "URL prefix (\"/\", \"/app\")"},
    {"origin", MOUNT, "string", set_str, M(m.origin), 0,
     "file:///dir, cgi:///dir, callback://protocol, >http://host/path, >https://host/path (301), "
     "http://host:port/path, https://host:port/path (reverse proxy)"},
    {"default", MOUNT, "string", set_str, M(m.def), 0, "index file of directories"},
    {"protocol", MOUNT, "string", set_str, M(m.protocol), 0,
     "protocol serving a callback mount (instead of the origin's name)"},
    {"cache-max-age", MOUNT, "number", set_cache_age, M(m.cache_max_age), 0x7fffffff,
     "Cache-Control max-age in seconds; a file mount without any cache key sends no-store "
     "(lwsws)"},
    {"cache-no", MOUNT, "boolean", set_cache_flag, 0, 4, "Cache-Control: no-cache"},
    {"cache-reuse", MOUNT, "boolean", set_cache_flag, 0, 1,
     "responses may be reused without revalidating (not no-cache)"},
    {"cache-revalidate", MOUNT, "boolean", set_cache_flag, 0, 2, "must-revalidate"},
    {"cache-intermediaries", MOUNT, "boolean", set_cache_flag, 0, 3,
     "public (shared caches may keep it) instead of private"},
    {"extra-mimetypes", MOUNT, "{\".ext\": \"type\"}", set_pvo, M(m.extra_mimetypes), 0,
     "MIME types for more file extensions"},
    {"interpret", MOUNT, "{\".ext\": \"protocol\"}", set_pvo, M(m.interpret), 0,
     "files with the suffix are handed to the protocol instead of being sent"},
    {"basic-auth", MOUNT, "string", set_path, M(m.basic_auth), 0,
     "file of user:password lines; the mount then needs HTTP basic authentication"},
    {"auth-mask", MOUNT, "number", set_uint, M(m.auth_mask), 0xffffffffu,
     "with basic-auth: the user's mask (third field) must have these bits"},
    {"directory-listing", MOUNT, "boolean", set_bool, M(m.dir_listing), 0,
     "a directory without an index file gets an HTML listing (else 403)"},
    {"index-files", MOUNT, "\"a,b,...\"", set_str, M(m.index_files), 0,
     "index files of directories, tried in order (instead of default)"},
    {"hide-files", MOUNT, "pattern", set_str, M(m.hide_files), 0,
     "LibHTTP glob (*, ?, $, |) of file names answered 404 and not listed; a matching "
     "directory hides all below it"},
    {"ssi-pattern", MOUNT, "pattern", set_str, M(m.ssi_pattern), 0,
     "LibHTTP glob (\"**.shtml$|**.shtm$\") of files whose <!--#include --> directives "
     "(and <!--#exec --> with ssi-exec) are done"},
    {"ssi-exec", MOUNT, "boolean", set_bool, M(m.ssi_exec), 0,
     "SSI files may run commands: <!--#exec \"cmd\" --> is replaced by the output of "
     "/bin/sh -c cmd, run in the page's directory with cgi-timeout (default off: dropped)"},
    {"exact-match", MOUNT, "boolean", set_flag, M(m.flags), KITE_MOUNT_F_EXACT_MATCH,
     "the mount serves its mountpoint only, nothing below it"},
    {"append-path", MOUNT, "boolean", set_bool, M(append_path), 0,
     "redirect mounts: the Location gets the path below the mountpoint and the query (default "
     "false: the origin alone, as lwsws)"},
    {"no-ws-upgrades", MOUNT, "boolean", set_flag, M(m.flags), KITE_MOUNT_F_NO_WS_UPGRADES,
     "websocket upgrades pass over this mount (to a shorter one, or the vhost's protocols)"},
    {"headers", MOUNT, "[{\"name\": \"value\"}]", set_pvo, M(m.headers), 0,
     "headers added to the mount's responses"},
    {"keepalive-timeout", MOUNT, "number", set_uint, M(m.keepalive_timeout), 86400,
     "HTTP/1 idle keep-alive seconds after an answer of this mount (default: the vhost's)"},
    {"cgi-chdir", MOUNT, "string", set_path, M(m.cgi_chdir), 0,
     "CGI mounts: the scripts' working directory (default: the script's own)"},
    {"cgi-chroot", MOUNT, "lws (refused)", set_lws_unsafe, 0, 0,
     "kite cannot chroot CGI scripts, and will not run them outside the jail asked for (run "
     "kited itself in a chroot or container)"},
    {"interceptor-path", MOUNT, "lws (refused)", set_lws_unsafe, 0, 0,
     "kite has no JWT interceptor, and will not serve the mount unguarded (use basic-auth, or "
     "auth-domain with Digest)"},
    {"pmo", MOUNT, "[{\"name\": \"value\"}]", set_pvo, M(m.pmo), 0,
     "per-mount options for the protocol serving it"},
    {"cgi-timeout", MOUNT, "number", set_uint, M(m.cgi_timeout), 86400,
     "seconds a CGI script may run before its process group is killed; 0: no limit"},
    {"proxy-timeout", MOUNT, "number", set_uint, M(m.proxy_timeout), 3600,
     "reverse proxy mounts: seconds the upstream has to connect and answer with its "
     "response head (504 past it); 0: 30"},
    {"cgi-env", MOUNT, "[{\"NAME\": \"value\"}]", set_pvo, M(m.cgi_env), 0,
     "extra CGI environment variables (LibHTTP cgi_environment)"},
    {"cgi-pattern", MOUNT, "string", set_str, M(m.cgi_pattern), 0,
     "file mounts: files whose full path matches this glob run as CGI, e.g. "
     "\"**.cgi$|**.pl$\" (LibHTTP cgi_pattern)"},
    {"cgi-interpreter", MOUNT, "string", set_str, M(m.cgi_interpreter), 0,
     "program that runs every CGI script of the mount, the script its argument "
     "(LibHTTP cgi_interpreter); unset: the script itself (#!)"},
    {"lua-server-page-pattern", MOUNT, "pattern", set_str, M(m.lua_page_pattern), 0,
     "file mounts: files whose full path matches run as Lua server pages, e.g. "
     "\"**.lp$|**.lsp$\" (LibHTTP lua_server_page_pattern); unset: none"},
    {"lua-script-pattern", MOUNT, "pattern", set_str, M(m.lua_script_pattern), 0,
     "file mounts: files whose full path matches run as Lua scripts (and serve websockets), "
     "e.g. \"**.lua$\" (LibHTTP lua_script_pattern); unset: none"},
    {"lua-preload-file", MOUNT, "string", set_path, M(m.lua_preload), 0,
     "Lua file run in each new environment before the page, script, websocket or lhttpd script "
     "(LibHTTP lua_preload_file)"},
    {"lua-websocket-root", MOUNT, "string", set_path, M(m.lua_ws_root), 0,
     "directory of the Lua websocket scripts of the mount's URLs (LibHTTP websocket_root); "
     "unset: the mount's directory, with lua-script-pattern"},
    {"lua-handler", MOUNT, "string", set_path, M(m.lua_handler), 0,
     "lhttpd script whose httpd.register_handler(\"/name\", fn) handlers serve "
     "<mountpoint>/name"},
    {"lua-max-memory", MOUNT, "number", set_size, M(m.lua_max_memory), 0,
     "bytes the service thread's Lua state may hold while this mount's code runs; default "
     "256 MiB"},
    {"lua-instruction-budget", MOUNT, "number or false", set_budget, M(m.lua_budget), 0,
     "Lua VM instructions a page, script or callback may run before it next waits; past it: "
     "500 (or websocket close 1011); default 100000000; false: none (no count hook, tight "
     "loops about twice as fast, nothing ends a runaway script)"},
};

const size_t kite__ndirectives = sizeof(kite__directives) / sizeof(kite__directives[0]);

void kite_config_write_reference(FILE *out)
{
    static const char *const heads[] = {"global", "vhosts[]", "vhosts[].mounts[]"};
    int sc;
    size_t i;

    for (sc = 0; sc < 3; sc++) {
        fprintf(out, "\n### %s\n\n| key | type | meaning |\n|---|---|---|\n", heads[sc]);
        for (i = 0; i < kite__ndirectives; i++)
            if (kite__directives[i].scope == sc)
                fprintf(out, "| `%s` | %s | %s |\n", kite__directives[i].name,
                        kite__directives[i].type, kite__directives[i].doc);
    }
}
