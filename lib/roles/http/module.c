/*
 * The http module and its access log as core sees them: the hooks core
 * calls on context, vhost, mount and service-thread creation and
 * destruction (lib/modules.c lists them). The work is done where it was:
 * vhostx.c, mountx.c, request.c, alog.c and filter.c.
 */
#include "roles/http/private-http.h"

static int http_ctx_init(kite_context_t *ctx, const kite_context_info_t *info)
{
    (void)ctx;
    return kite__http_reject_check(info->reject_service_keywords);
}

const kite__module_t kite__mod_http = {
    .name = "http",
    .ctx_init = http_ctx_init,
    .vhost_init = kite__http_vhost_open,
    .vhost_destroy = kite__http_vhost_close,
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
    .vhost_open = alog_open,
    .vhost_destroy = kite__alog_close,
};
