/*
 * lws vhosts over kite vhosts: the creation info translated (ports, the
 * LWS_SERVER_OPTION_* bits that have a kite meaning, TLS files, mounts in
 * lws's layout, pvos, the security-headers option), a trampoline per lws
 * protocol, and the per-vhost protocol data (lws_protocol_vh_priv_*).
 */
#include <stdlib.h>
#include <string.h>

#include "private.h"

_Static_assert(sizeof(struct lws_protocol_vhost_options) == sizeof(kite_pvo_t) &&
                   offsetof(struct lws_protocol_vhost_options, value) ==
                       offsetof(kite_pvo_t, value),
               "lws pvos are kite pvos");

#define PVO(p) ((const kite_pvo_t *)(p))

/* lws's HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE headers (Mozilla
 * Observatory's advice), added to every response. */
static const kite_pvo_t security[] = {
    {&security[1], NULL, "content-security-policy",
     "default-src 'none'; img-src 'self' data: ; script-src 'self'; font-src 'self'; "
     "style-src 'self'; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri "
     "'none';form-action 'self';"},
    {&security[2], NULL, "x-content-type-options", "nosniff"},
    {&security[3], NULL, "x-xss-protection", "1; mode=block"},
    {&security[4], NULL, "x-frame-options", "deny"},
    {NULL, NULL, "referrer-policy", "no-referrer"},
};

static const struct lws_protocols default_protocols[] = {
    {"http-only", lws_callback_http_dummy, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static const kite_ws_deflate_t deflate = KITE_WS_DEFLATE_INIT();

static int has_opt(uint64_t o, uint64_t bits)
{
    return (o & bits) == bits;
}

static int origin_kind(unsigned char p)
{
    switch (p) {
    case LWSMPRO_HTTP:
        return KITE_MOUNT_PROXY_HTTP;
    case LWSMPRO_HTTPS:
        return KITE_MOUNT_PROXY_HTTPS;
    case LWSMPRO_CGI:
        return KITE_MOUNT_CGI;
    case LWSMPRO_REDIR_HTTP:
        return KITE_MOUNT_REDIR_HTTP;
    case LWSMPRO_REDIR_HTTPS:
        return KITE_MOUNT_REDIR_HTTPS;
    case LWSMPRO_CALLBACK:
        return KITE_MOUNT_CALLBACK;
    default:
        return KITE_MOUNT_FILE;
    }
}

/* lws mounts to kite mounts; requests no mount covers go to protocols[0]
 * (LWS_CALLBACK_HTTP with the whole path), as on lws. */
static int convert_mounts(struct lws_vhost *vh, const struct lws_http_mount *m)
{
    const struct lws_http_mount *i;
    int n = 0, root = 0, k = 0;

    for (i = m; i; i = i->mount_next, n++)
        root |= i->mountpoint && !strcmp(i->mountpoint, "/");
    vh->mounts = calloc((size_t)n + 1, sizeof(*vh->mounts));
    if (!vh->mounts)
        return -1;
    for (i = m; i; i = i->mount_next) {
        kite_mount_t *km = &vh->mounts[k++];
        km->struct_size = sizeof(*km);
        km->mountpoint = i->mountpoint;
        km->origin = i->origin;
        km->def = i->def;
        km->origin_protocol = origin_kind(i->origin_protocol);
        km->protocol = i->origin_protocol == LWSMPRO_CALLBACK
                           ? (i->protocol ? i->protocol : i->origin)
                           : i->protocol;
        km->extra_mimetypes = PVO(i->extra_mimetypes);
        km->interpret = PVO(i->interpret);
        km->cgi_env = PVO(i->cgienv);
        km->cgi_timeout = i->cgi_timeout > 0 ? (unsigned)i->cgi_timeout : 0;
        km->cache_max_age = i->cache_max_age;
        km->cache_reuse = i->cache_reusable;
        km->cache_revalidate = i->cache_revalidate;
        km->cache_intermediaries = i->cache_intermediaries;
        km->basic_auth = i->basic_auth_login_file;
        km->auth_mask = i->auth_mask;
    }
    if (!root && vh->ntramps) {
        kite_mount_t *km = &vh->mounts[k++];
        km->struct_size = sizeof(*km);
        km->mountpoint = "/";
        km->origin_protocol = KITE_MOUNT_CALLBACK;
        km->protocol = vh->tramps[0].lp->name;
    }
    for (n = 0; n + 1 < k; n++)
        vh->mounts[n].next = &vh->mounts[n + 1];
    vh->nmounts = k;
    return 0;
}

/* The application's extra headers ("name:" in lws) and the security ones. */
static int convert_headers(struct lws_vhost *vh, const struct lws_context_creation_info *info,
                           kite_vhost_info_t *vi)
{
    const struct lws_protocol_vhost_options *h;
    int n = 0, k = 0;

    for (h = info->headers; h; h = h->next)
        n++;
    if (!n) {
        if (info->options & LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE)
            vi->headers = security;
        return 0;
    }
    vh->pvo_extra = calloc((size_t)n, sizeof(kite_pvo_t) + 64);
    if (!vh->pvo_extra)
        return -1;
    for (h = info->headers; h; h = h->next, k++) {
        char *name = (char *)(vh->pvo_extra + n) + (size_t)k * 64;
        size_t l = strlen(h->name);
        if (l && h->name[l - 1] == ':')
            l--;
        if (l > 63)
            l = 63;
        memcpy(name, h->name, l);
        vh->pvo_extra[k].name = name;
        vh->pvo_extra[k].value = h->value;
        vh->pvo_extra[k].next = k + 1 < n ? &vh->pvo_extra[k + 1] : NULL;
    }
    if (info->options & LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE)
        vh->pvo_extra[n - 1].next = security;
    vi->headers = vh->pvo_extra;
    return 0;
}

static int protocols(struct lws_vhost *vh, const struct lws_context_creation_info *info)
{
    const struct lws_protocols *p = info->protocols;
    int n = 0, i;

    if (info->pprotocols)
        while (info->pprotocols[n])
            n++;
    else {
        if (!p)
            p = default_protocols;
        while (p[n].callback)
            n++;
    }
    vh->tramps = calloc((size_t)n + 1, sizeof(*vh->tramps));
    vh->kprotos = calloc((size_t)n + 1, sizeof(*vh->kprotos));
    if (!vh->tramps || !vh->kprotos)
        return -1;
    for (i = 0; i < n; i++) {
        lwsk_tramp_init(&vh->tramps[i], info->pprotocols ? info->pprotocols[i] : &p[i]);
        vh->kprotos[i] = &vh->tramps[i].kp;
    }
    vh->ntramps = n;
    return 0;
}

/* ONLY_RAW / FALLBACK_TO_RAW: kite's raw protocol is the one whose pvo has
 * "raw": listen_accept_protocol, else protocols[0], as on lws. Its entry
 * comes first and keeps the application's options for it. */
static const kite_pvo_t *raw_pvo(struct lws_vhost *vh, const struct lws_context_creation_info *info)
{
    const char *name = info->listen_accept_protocol;
    const kite_pvo_t *user = PVO(info->pvo), *e;

    if (!name && vh->ntramps)
        name = vh->tramps[0].lp->name;
    if (!name)
        return user;
    for (e = user; e && strcmp(e->name, name); e = e->next)
        ;
    vh->pvo_raw[1] = (kite_pvo_t){e ? e->options : NULL, NULL, "raw", "1"};
    vh->pvo_raw[0] = (kite_pvo_t){user, &vh->pvo_raw[1], name, NULL};
    return &vh->pvo_raw[0];
}

void lwsk_vhost_free(struct lws_vhost *vh)
{
    int i;

    for (i = 0; i < vh->nvpr; i++) {
        free(vh->vpr[i]->priv);
        free(vh->vpr[i]);
    }
    free(vh->vpr);
    free(vh->tramps);
    free(vh->kprotos);
    free(vh->mounts);
    free(vh->pvo_extra);
    free(vh->name);
    free(vh);
}

void lwsk_poll_vhost_added(struct lws_context *cx, struct lws_vhost *vh);

struct lws_vhost *lws_create_vhost(struct lws_context *cx,
                                   const struct lws_context_creation_info *info)
{
    kite_vhost_info_t vi = KITE_VHOST_INFO_INIT();
    struct lws_vhost *vh = calloc(1, sizeof(*vh)), **pp;
    uint64_t o = info->options;
    int err;

    if (!vh)
        return NULL;
    vh->cx = cx;
    vh->own = 1;
    vh->user = info->user;
    vh->name = strdup(info->vhost_name ? info->vhost_name : "default");
    if (!vh->name || protocols(vh, info) || convert_mounts(vh, info->mounts) ||
        convert_headers(vh, info, &vi))
        goto fail;
    vi.name = vh->name;
    vi.protocols = vh->kprotos;
    vi.mounts = vh->nmounts ? vh->mounts : NULL;
    vi.pvo = PVO(info->pvo);
    vi.error_document_404 = info->error_document_404;
    vi.keepalive_timeout = info->keepalive_timeout > 0 ? (unsigned)info->keepalive_timeout : 0;
    vi.user = vh;
    if (info->port == CONTEXT_PORT_NO_LISTEN || info->port == CONTEXT_PORT_NO_LISTEN_SERVER)
        vi.options |= KITE_VH_NO_LISTEN;
    else
        vi.port = info->port;
    if (has_opt(o, LWS_SERVER_OPTION_UNIX_SOCK))
        vi.unix_socket = info->iface;
    else
        vi.iface = info->iface;
    if (has_opt(o, LWS_SERVER_OPTION_DISABLE_IPV6))
        vi.options |= KITE_VH_NOIPV6;
    if (has_opt(o, LWS_SERVER_OPTION_IPV6_V6ONLY_MODIFY | LWS_SERVER_OPTION_IPV6_V6ONLY_VALUE))
        vi.options |= KITE_VH_IPV6ONLY;
    if (has_opt(o, LWS_SERVER_OPTION_VHOST_UPG_STRICT_HOST_CHECK))
        vi.options |= KITE_VH_STRICT_HOST;
    if (has_opt(o, LWS_SERVER_OPTION_ONLY_RAW))
        vi.options |= KITE_VH_RAW_ONLY;
    else if (has_opt(o, LWS_SERVER_OPTION_FALLBACK_TO_RAW))
        vi.options |= KITE_VH_FALLBACK_TO_RAW;
    if (vi.options & (KITE_VH_RAW_ONLY | KITE_VH_FALLBACK_TO_RAW))
        vi.pvo = raw_pvo(vh, info);
    if (has_opt(o, LWS_SERVER_OPTION_H2_PRIOR_KNOWLEDGE))
        vi.options |= KITE_VH_H2C;
    vi.tls_cert = info->ssl_cert_filepath;
    vi.tls_key = info->ssl_private_key_filepath;
    vi.tls_ca = info->ssl_ca_filepath;
    vi.tls_ciphers = info->ssl_cipher_list;
    if (has_opt(o, LWS_SERVER_OPTION_ALLOW_NON_SSL_ON_SSL_PORT))
        vi.tls_options |= KITE_TLS_ALLOW_NON_TLS;
    if (has_opt(o, LWS_SERVER_OPTION_REDIRECT_HTTP_TO_HTTPS))
        vi.tls_options |= KITE_TLS_REDIRECT_HTTP;
    if (has_opt(o, LWS_SERVER_OPTION_STS))
        vi.tls_options |= KITE_TLS_STS;
    if (has_opt(o, LWS_SERVER_OPTION_REQUIRE_VALID_OPENSSL_CLIENT_CERT))
        vi.tls_options |= KITE_TLS_CLIENT_CERT_REQUIRED;
    if (info->extensions && info->extensions[0].name &&
        !strcmp(info->extensions[0].name, "permessage-deflate"))
        vi.ws_deflate = &deflate;
    lwsk_creating = vh;
    vh->kv = kite_vhost_create(cx->kc, &vi, &err);
    lwsk_creating = NULL;
    if (!vh->kv) {
        lwsl_err("lws_create_vhost %s: %s\n", vh->name, kite_strerror(err));
        goto fail;
    }
    lwsk_registry_lock();
    for (pp = &cx->vhosts; *pp; pp = &(*pp)->next)
        ;
    *pp = vh;
    lwsk_registry_unlock();
    lwsk_poll_vhost_added(cx, vh);
    if (info->finalize)
        info->finalize(vh, info->finalize_arg);
    return vh;
fail:
    lwsk_vhost_free(vh);
    return NULL;
}

void lws_vhost_destroy(struct lws_vhost *vh)
{
    /* kite frees vhosts with their context (or a reload): nothing now. */
}

struct lws_vhost *lws_get_vhost_by_name(struct lws_context *cx, const char *name)
{
    struct lws_vhost *vh;

    for (vh = cx->vhosts; vh; vh = vh->next)
        if (!strcmp(vh->name, name))
            return vh;
    return NULL;
}

const char *lws_get_vhost_name(struct lws_vhost *vh)
{
    return vh->name;
}

int lws_get_vhost_port(struct lws_vhost *vh)
{
    return kite_vhost_port(vh->kv);
}

void *lws_get_vhost_user(struct lws_vhost *vh)
{
    return vh->user;
}

const char *lws_get_vhost_iface(struct lws_vhost *vh)
{
    return NULL;
}

kite_vhost_t *lws_kite_vhost(struct lws_vhost *vh)
{
    return vh->kv;
}

const struct lws_protocols *lws_vhost_name_to_protocol(struct lws_vhost *vh, const char *name)
{
    int i;

    for (i = 0; i < vh->nvpr; i++)
        if (!strcmp(vh->vpr[i]->t->lp->name, name))
            return vh->vpr[i]->t->lp;
    return NULL;
}

void *lws_protocol_vh_priv_zalloc(struct lws_vhost *vh, const struct lws_protocols *prot, int size)
{
    lwsk_vpr_t *vpr = lwsk_vpr_find(vh, prot);

    if (!vpr)
        return NULL;
    free(vpr->priv);
    vpr->priv = calloc(1, (size_t)size);
    return vpr->priv;
}

void *lws_protocol_vh_priv_get(struct lws_vhost *vh, const struct lws_protocols *prot)
{
    lwsk_vpr_t *vpr = lwsk_vpr_find(vh, prot);

    return vpr ? vpr->priv : NULL;
}

const struct lws_protocol_vhost_options *
lws_pvo_search(const struct lws_protocol_vhost_options *pvo, const char *name)
{
    for (; pvo; pvo = pvo->next)
        if (!strcmp(pvo->name, name))
            return pvo;
    return NULL;
}

int lws_pvo_get_str(void *in, const char *name, const char **result)
{
    const struct lws_protocol_vhost_options *pv = lws_pvo_search(in, name);

    if (!pv)
        return 1;
    *result = pv->value;
    return 0;
}

int lws_callback_on_writable_all_protocol_vhost(const struct lws_vhost *vh,
                                                const struct lws_protocols *p)
{
    lwsk_vpr_t *vpr = lwsk_vpr_find((struct lws_vhost *)vh, p);

    return vpr ? kite_callback_on_writable_all_protocol(vh->kv, &vpr->t->kp) : 0;
}

int lws_callback_on_writable_all_protocol(const struct lws_context *cx,
                                          const struct lws_protocols *p)
{
    struct lws_vhost *vh;
    int n = 0;

    for (vh = cx->vhosts; vh; vh = vh->next)
        n += lws_callback_on_writable_all_protocol_vhost(vh, p);
    return n;
}
