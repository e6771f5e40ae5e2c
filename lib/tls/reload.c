/*
 * A TLS vhost's settings over time: made at vhost creation from the files
 * its info names, made again by kite_vhost_tls_reload(). New handshakes
 * take the current ones; a conn keeps those its handshake began with (a
 * reference) however many reloads follow, so live conns are untouched.
 * A reload that cannot read or match its files leaves the current ones.
 */
#include <stdlib.h>
#include <string.h>

#include "tls/private-tls.h"

/* Reloads one at a time: each reads the paths the last one left. */
static pthread_mutex_t reload_lock = PTHREAD_MUTEX_INITIALIZER;

static int dup_str(const char **dst, const char *s)
{
    *dst = s ? strdup(s) : NULL;
    return s && !*dst ? KITE_ENOMEM : 0;
}

static void free_paths(kite_vhost_info_t *in)
{
    free((char *)in->tls_cert);
    free((char *)in->tls_key);
    free((char *)in->tls_ca);
    free((char *)in->tls_ca_path);
}

int kite__tls_vhost_init(kite_vhost_t *vh, const kite_vhost_info_t *info)
{
    struct kite__tls_vhost *v;
    int r;

    if (!info->tls_cert && !info->tls_key)
        return 0;
    if (!info->tls_cert || !info->tls_key) {
        kite_err("vhost %s: TLS needs both a certificate and a private key", vh->name);
        return KITE_EINVAL;
    }
    if ((r = kite__tls_global_init()) < 0)
        return r;
    v = calloc(1, sizeof(*v));
    if (!v)
        return KITE_ENOMEM;
    pthread_mutex_init(&v->lock, NULL);
    vh->tls = v;
    v->info.tls_options = info->tls_options;
    v->info.tls_verify_depth = info->tls_verify_depth;
    v->info.tls_min_version = info->tls_min_version;
    v->info.tls_max_version = info->tls_max_version;
    v->info.tls_ssl_options_set = info->tls_ssl_options_set;
    v->info.tls_ssl_options_clear = info->tls_ssl_options_clear;
    if (dup_str(&v->info.tls_cert, info->tls_cert) < 0 ||
        dup_str(&v->info.tls_key, info->tls_key) < 0 ||
        dup_str(&v->info.tls_ca, info->tls_ca) < 0 ||
        dup_str(&v->info.tls_ca_path, info->tls_ca_path) < 0 ||
        dup_str(&v->info.tls_ciphers, info->tls_ciphers) < 0 ||
        dup_str(&v->info.tls13_ciphers, info->tls13_ciphers) < 0 ||
        dup_str(&v->info.tls_groups, info->tls_groups) < 0)
        return KITE_ENOMEM;
    v->cur = kite__tls_cfg_new(vh, &v->info, &r);
    return v->cur ? 0 : r;
}

void kite__tls_vhost_free(kite_vhost_t *vh)
{
    struct kite__tls_vhost *v = vh->tls;

    if (!v)
        return;
    kite__tls_cfg_put(v->cur);
    /* Ordered after any reload that ran (on another thread) before. */
    pthread_mutex_lock(&reload_lock);
    free_paths(&v->info);
    pthread_mutex_unlock(&reload_lock);
    free((char *)v->info.tls_ciphers);
    free((char *)v->info.tls13_ciphers);
    free((char *)v->info.tls_groups);
    pthread_mutex_destroy(&v->lock);
    free(v);
    vh->tls = NULL;
}

kite__tls_cfg_t *kite__tls_cfg_get(kite_vhost_t *vh)
{
    struct kite__tls_vhost *v = vh->tls;
    kite__tls_cfg_t *t;

    pthread_mutex_lock(&v->lock);
    t = v->cur;
    atomic_fetch_add(&t->refs, 1);
    pthread_mutex_unlock(&v->lock);
    return t;
}

int kite_vhost_tls_reload(kite_vhost_t *vh, const char *cert, const char *key, const char *ca)
{
    struct kite__tls_vhost *v = vh->tls;
    kite_vhost_info_t in, paths = {0};
    kite__tls_cfg_t *t, *old;
    int r;

    if (!v)
        return KITE_EINVAL;
    pthread_mutex_lock(&reload_lock);
    in = v->info;
    if (cert)
        in.tls_cert = cert;
    if (key)
        in.tls_key = key;
    if (ca)
        in.tls_ca = ca;
    if (dup_str(&paths.tls_cert, in.tls_cert) < 0 || dup_str(&paths.tls_key, in.tls_key) < 0 ||
        dup_str(&paths.tls_ca, in.tls_ca) < 0) {
        r = KITE_ENOMEM;
        goto fail;
    }
    if (!(t = kite__tls_cfg_new(vh, &in, &r))) {
        kite_err("vhost %s: TLS reload failed, the current certificate stays", vh->name);
        goto fail;
    }
    /* The new paths are the vhost's from now on; the old ones go. */
    in = v->info;
    v->info.tls_cert = paths.tls_cert;
    v->info.tls_key = paths.tls_key;
    v->info.tls_ca = paths.tls_ca;
    paths = in;
    paths.tls_ca_path = NULL; /* not reloadable by name: the vhost keeps it */
    pthread_mutex_lock(&v->lock);
    old = v->cur;
    v->cur = t;
    pthread_mutex_unlock(&v->lock);
    kite__tls_cfg_put(old);
    kite_notice("vhost %s: TLS certificate reloaded from %s", vh->name, v->info.tls_cert);
    r = 0;
fail:
    pthread_mutex_unlock(&reload_lock);
    free_paths(&paths);
    return r;
}
