/*
 * Client connections and adoption: lws_client_connect_via_info() onto
 * kite_client_connect() (ws when no method, "RAW", or an HTTP method), and
 * lws_adopt_*() onto kite_adopt_fd(). The struct lws of the new
 * connection is its kite per-session memory, ready when the call returns.
 */
#include <stdlib.h>
#include <string.h>

#include "private.h"

static lwsk_vpr_t *vpr_named(struct lws_vhost *vh, const char *name)
{
    int i;

    for (i = 0; vh && i < vh->nvpr; i++)
        if (!name || !strcmp(vh->vpr[i]->t->lp->name, name))
            return vh->vpr[i];
    return NULL;
}

static struct lws_vhost *default_vhost(struct lws_context *cx)
{
    return cx ? cx->vhosts : NULL;
}

struct lws *lws_client_connect_via_info(const struct lws_client_connect_info *i)
{
    struct lws_vhost *vh = i->vhost ? i->vhost : default_vhost(i->context);
    kite_client_info_t ki = KITE_CLIENT_INFO_INIT();
    const char *local = i->local_protocol_name ? i->local_protocol_name : i->protocol;
    lwsk_vpr_t *vpr;
    kite_conn_t *c;
    struct lws *w;
    char first[64];
    int err;

    if (!vh)
        return NULL;
    if (local) {
        /* the first name of a "a, b" list */
        size_t l = strcspn(local, ", ");
        if (l >= sizeof(first))
            return NULL;
        memcpy(first, local, l);
        first[l] = '\0';
        local = first;
    }
    vpr = vpr_named(vh, local);
    if (!vpr)
        vpr = vpr_named(vh, NULL);
    if (!vpr)
        return NULL;
    ki.vhost = vh->kv;
    ki.address = i->address;
    ki.port = i->port;
    ki.path = i->path;
    ki.host = i->host;
    ki.origin = i->origin;
    ki.protocol = i->method ? NULL : i->protocol;
    ki.local_protocol = vpr->t->lp->name;
    ki.method = i->method;
    ki.local_address = i->iface;
    if (i->ssl_connection & LCCSCF_USE_SSL)
        ki.flags |= KITE_CLIENT_TLS;
    if (i->ssl_connection & LCCSCF_ALLOW_SELFSIGNED)
        ki.flags |= KITE_CLIENT_ALLOW_SELFSIGNED;
    if (i->ssl_connection & LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK)
        ki.flags |= KITE_CLIENT_SKIP_HOST_CHECK;
    if (i->ssl_connection & LCCSCF_ALLOW_INSECURE)
        ki.flags |= KITE_CLIENT_INSECURE;
    if (i->method && strcmp(i->method, "RAW") &&
        !(i->ssl_connection & LCCSCF_HTTP_NO_FOLLOW_REDIRECT))
        ki.flags |= KITE_CLIENT_FOLLOW_REDIRECTS;
    if (i->parent_wsi)
        ki.parent = i->parent_wsi->c;
    c = kite_client_connect(vh->cx->kc, &ki, &err);
    if (!c) {
        lwsl_err("lws_client_connect_via_info: %s\n", kite_strerror(err));
        return NULL;
    }
    w = lwsk_wsi(c, kite_conn_user(c));
    w->vh = vh;
    w->parent = i->parent_wsi;
    w->opaque = i->opaque_user_data;
    if (i->userdata)
        w->user = i->userdata;
    w->role = !i->method                  ? LWSK_R_CLIENT_WS
              : !strcmp(i->method, "RAW") ? LWSK_R_CLIENT_RAW
                                          : LWSK_R_CLIENT_HTTP;
    if (i->pwsi)
        *i->pwsi = w;
    return w;
}

int lws_http_client_http_response(struct lws *w)
{
    if (w->status)
        return w->status;
    return w->c ? kite_client_http_status(w->c) : 0;
}

int lws_client_http_body_pending(struct lws *w, int something_left_to_send)
{
    return 0;
}

struct lws *lws_adopt_descriptor_vhost(struct lws_vhost *vh, lws_adoption_type type,
                                       lws_sock_file_fd_type fd, const char *vh_prot_name,
                                       struct lws *parent)
{
    lwsk_vpr_t *vpr = vpr_named(vh, vh_prot_name);
    kite_conn_t *c;
    struct lws *w;
    int err;

    if (!vpr)
        return NULL;
    c = kite_adopt_fd(vh->kv, type & LWS_ADOPT_SOCKET ? fd.sockfd : fd.filefd,
                      type & LWS_ADOPT_SOCKET ? KITE_ADOPT_SOCKET : KITE_ADOPT_FILE,
                      vpr->t->lp->name, &err);
    if (!c) {
        lwsl_err("lws_adopt_descriptor_vhost: %s\n", kite_strerror(err));
        return NULL;
    }
    w = lwsk_wsi(c, kite_conn_user(c));
    w->vh = vh;
    w->parent = parent;
    w->role = LWSK_R_RAW;
    return w;
}

struct lws *lws_adopt_socket_vhost(struct lws_vhost *vh, lws_sockfd_type accept_fd)
{
    lws_sock_file_fd_type fd;

    fd.sockfd = accept_fd;
    return lws_adopt_descriptor_vhost(vh, LWS_ADOPT_SOCKET, fd, NULL, NULL);
}
