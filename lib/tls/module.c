/*
 * The tls module as core sees it: a vhost's certificate and settings, the
 * buffers of a service thread's TLS conns and the context's client
 * configurations, made and freed through core's module hooks
 * (lib/modules.c lists them).
 */
#include "tls/tls.h"

const kite__module_t kite__mod_tls = {
    .name = "tls",
    .ctx_destroy = kite__tls_clients_free,
    .vhost_open = kite__tls_vhost_init,
    .vhost_destroy = kite__tls_vhost_free,
    .pt_free = kite__tls_pt_free,
};
