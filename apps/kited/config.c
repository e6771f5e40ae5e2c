/*
 * kited and its config: loading with the plugin dirs of the command
 * line, --check-config (everything but serving, binding included),
 * startup, and SIGHUP reloads that swap the vhosts of the running
 * context without touching the listen sockets.
 */
#include <stdlib.h>
#include <string.h>

#include "kited.h"

kite_config_t *kited_load(kited_t *kd)
{
    kite_config_opts_t o = KITE_CONFIG_OPTS_INIT();
    kite_config_t *cfg;
    int err = 0;

    o.plugin_dirs = kd->plugin_dirs;
    if (kd->no_default_plugins)
        o.flags |= KITE_CONFIG_NO_DEFAULT_DIR;
    if (kd->check_only)
        o.flags |= KITE_CONFIG_CHECK_ONLY; /* nothing made on disk */
    cfg = kite_config_load(kd->conf_dir, &o, &err);
    if (!cfg)
        kite_err("%s: the config has errors (%s)", kd->conf_dir, kite_strerror(err));
    return cfg;
}

static kite_context_t *make_context(kited_t *kd)
{
    int err = 0;
    kite_context_t *ctx;

    kd->live = *kite_config_context_info(kd->cfg);
    ctx = kite_context_create(&kd->live, &err);
    /* kd->live outlives this config (a reload frees it with its last
     * vhost): keep its own copy of the one string it compares later. */
    kd->live.reject_service_keywords = NULL;
    if (kd->live.server_string &&
        !(kd->live.server_string = kd->server_string = strdup(kd->live.server_string))) {
        kite_context_destroy(ctx);
        ctx = NULL;
    }
    if (!ctx) {
        kite_err("cannot create the context: %s", kite_strerror(err));
        return NULL;
    }
    if (kite_config_create_vhosts(kd->cfg, ctx, NULL, 0) < 0) {
        kite_context_destroy(ctx);
        return NULL;
    }
    return ctx;
}

int kited_check(kited_t *kd)
{
    kite_context_t *ctx = make_context(kd);

    kite_config_put(kd->cfg);
    kd->cfg = NULL;
    free(kd->server_string);
    kd->server_string = NULL;
    if (!ctx)
        return -1;
    kite_context_destroy(ctx);
    kite_notice("%s: config OK", kd->conf_dir);
    return 0;
}

int kited_start(kited_t *kd)
{
    kd->g = *kite_config_global(kd->cfg);
    if (kd->g.username)
        kd->g.username = strdup(kd->g.username);
    if (kd->g.groupname)
        kd->g.groupname = strdup(kd->g.groupname);
    kd->ctx = make_context(kd);
    kite_config_put(kd->cfg); /* the vhosts hold it now */
    kd->cfg = NULL;
    return kd->ctx ? 0 : -1;
}

/* Settings of "global" are the context's, fixed at creation. */
static void warn_global_changes(kited_t *kd, const kite_context_info_t *n)
{
    const kite_context_info_t *o = &kd->live;
    const char *os = o->server_string ? o->server_string : "",
               *ns = n->server_string ? n->server_string : "";

    if (o->count_threads != n->count_threads || o->timeout_secs != n->timeout_secs ||
        o->keepalive_timeout != n->keepalive_timeout ||
        o->ws_ping_pong_secs != n->ws_ping_pong_secs || o->send_timeout != n->send_timeout ||
        o->max_output != n->max_output || o->ip_limit_ah != n->ip_limit_ah ||
        o->ip_limit_wsi != n->ip_limit_wsi || strcmp(os, ns))
        kite_warn("reload: changed \"global\" settings take effect at the next restart");
}

int kited_reload(kited_t *kd)
{
    kite_config_t *cfg = kited_load(kd);
    int r;

    if (!cfg) {
        kite_err("reload: keeping the running config");
        return -1;
    }
    warn_global_changes(kd, kite_config_context_info(cfg));
    r = kite_context_reload_begin(kd->ctx);
    if (r < 0) {
        kite_err("reload: %s", kite_strerror(r));
        kite_config_put(cfg);
        return r;
    }
    r = kite_config_create_vhosts(cfg, kd->ctx, NULL, 0);
    if (r < 0) {
        kite_context_reload_abort(kd->ctx);
        kite_config_put(cfg);
        kite_err("reload: keeping the running config");
        return r;
    }
    r = kite_context_reload_commit(kd->ctx);
    kite_config_put(cfg);
    if (r < 0)
        kite_err("reload: commit failed: %s", kite_strerror(r));
    else
        kite_notice("reload: done");
    return r;
}
