/*
 * The http module and its access log as core sees them: the hooks core
 * calls on context, vhost, mount and service-thread creation and
 * destruction (lib/modules.c lists them), and the vhost's admit hook for
 * its access-control-list. The work is done in vhostx.c, mountx.c,
 * request.c, acl.c, throttle.c, alog.c and filter.c.
 */
#include <arpa/inet.h>
#include <stdlib.h>

#include "roles/http/private-http.h"

static int http_ctx_init(kite_context_t *ctx, const kite_context_info_t *info)
{
    (void)ctx;
    return kite__http_reject_check(info->reject_service_keywords);
}

/* A new conn on a vhost with an access-control-list. */
static int admit(kite_conn_t *c)
{
    const struct kite__http_vh *hv = kite__http_vh(c->vh);
    char addr[INET6_ADDRSTRLEN];

    if (kite__acl_check(hv->acl, c, addr))
        return 0;
    kite_notice("vhost %s: %s refused by access-control-list", c->vh->name, addr);
    return KITE_EACCES;
}

/* access-control-list and throttle rules. */
static int open_rules(kite_vhost_t *vh, struct kite__http_vh *hv, const kite_vhost_info_t *info)
{
    char bad[64];
    int r;

    if (info->access_control_list) {
        r = kite__acl_parse(info->access_control_list, &hv->acl, bad, sizeof(bad));
        if (r == KITE_EINVAL)
            kite_err("vhost %s: access-control-list: bad entry \"%s\"", vh->name, bad);
        if (r < 0)
            return r;
        vh->admit = admit;
    }
    if (info->throttle &&
        (r = kite__throttle_parse(info->throttle, &hv->throttle, bad, sizeof(bad))) < 0) {
        if (r == KITE_EINVAL)
            kite_err("vhost %s: throttle: bad entry \"%s\"", vh->name, bad);
        return r;
    }
    return 0;
}

static int http_vhost_init(kite_vhost_t *vh, const kite_vhost_info_t *info)
{
    struct kite__http_vh *hv = calloc(1, sizeof(*hv));
    int r;

    if (!hv)
        return KITE_ENOMEM;
    vh->mod[KITE__SLOT_HTTP] = hv;
    r = kite__http_vhost_open(vh, info);
    return r < 0 ? r : open_rules(vh, hv, info);
}

static void http_vhost_destroy(kite_vhost_t *vh)
{
    struct kite__http_vh *hv = kite__http_vh(vh);

    if (!hv)
        return; /* the vhost failed before this module's vhost_init */
    kite__http_vhost_close(vh);
    kite__acl_free(hv->acl);
    kite__throttle_free(hv->throttle);
    free(hv);
    vh->mod[KITE__SLOT_HTTP] = NULL;
}

const kite__module_t kite__mod_http = {
    .name = "http",
    .ctx_init = http_ctx_init,
    .vhost_init = http_vhost_init,
    .vhost_destroy = http_vhost_destroy,
    .mount_prepare = kite__http_mount_prepare,
    .mount_free = kite__http_mount_free,
    .pt_free = kite__http_pt_free,
};

static int alog_open(kite_vhost_t *vh, const kite_vhost_info_t *info)
{
    return kite__alog_open(vh, info->access_log);
}

const kite__module_t kite__mod_alog = {
    .name = "access-log",
    .ctx_init = kite__alog_ctx_init,
    .ctx_destroy = kite__alog_ctx_free,
    .vhost_open = alog_open,
    .vhost_destroy = kite__alog_close,
};
