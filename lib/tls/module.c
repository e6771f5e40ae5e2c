/*
 * The tls module as core sees it: a vhost's certificate and settings (and
 * the handshake its accepted conns start with: vh->xport_start), the
 * buffers of a service thread's TLS conns and the context's client
 * configurations, made and freed through core's module hooks
 * (lib/modules.c lists them).
 */
#include "tls/tls.h"

/* A vhost with a certificate: its accepted conns start with a handshake. */
static int tls_vhost_open(kite_vhost_t *vh, const kite_vhost_info_t *info)
{
    int r = kite__tls_vhost_init(vh, info);

    if (r == 0 && vh->tls)
        vh->xport_start = kite__tls_conn_start;
    return r;
}

const kite__module_t kite__mod_tls = {
    .name = "tls",
    .ctx_init = kite__tls_clients_init,
    .ctx_destroy = kite__tls_clients_free,
    .vhost_open = tls_vhost_open,
    .vhost_destroy = kite__tls_vhost_free,
    .pt_free = kite__tls_pt_free,
};
