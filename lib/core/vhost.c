/*
 * Vhosts: creation (mount checks, protocol init with per-vhost options,
 * listeners on every service thread, shared with vhosts already on the
 * same address and port), selection by the Host header, accessors, and
 * destruction.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/abi.h"
#include "event/event.h"
#include "misc/misc.h"

static int same_str(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return !strcmp(a, b);
}

const char *kite_pvo_get(const kite_pvo_t *pvo, const char *name)
{
    for (; pvo; pvo = pvo->next)
        if (pvo->name && !strcmp(pvo->name, name))
            return pvo->value;
    return NULL;
}

static const kite_pvo_t *pvo_for(const kite_pvo_t *pvo, const char *proto)
{
    for (; pvo; pvo = pvo->next)
        if (pvo->name && !strcmp(pvo->name, proto))
            return pvo->options;
    return NULL;
}

const kite_protocol_t *kite_vhost_protocol_at(const kite_vhost_t *vh, int i)
{
    return i >= 0 && i < vh->nprotocols ? vh->protocols[i] : NULL;
}

const kite_protocol_t *kite_vhost_find_protocol(const kite_vhost_t *vh, const char *name)
{
    const kite__module_t *const *m;
    const kite_protocol_t *p;
    int i;

    for (i = 0; i < vh->nprotocols; i++)
        if (!strcmp(vh->protocols[i]->name, name))
            return vh->protocols[i];
    /* kite's own, such as "lua" (interpret {".lp": "lua"}). */
    for (m = kite__modules; *m; m++)
        if ((*m)->protocol && (p = (*m)->protocol(name)))
            return p;
    return NULL;
}

void *kite_vhost_protocol_data(const kite_vhost_t *vh, const kite_protocol_t *proto)
{
    int i;

    for (i = 0; i < vh->nprotocols; i++)
        if (vh->protocols[i] == proto)
            return vh->vhd[i];
    return NULL;
}

static int bad_header_text(const char *s)
{
    for (; *s; s++)
        if (*s == '\r' || *s == '\n')
            return 1;
    return 0;
}

static int render_headers(kite_vhost_t *vh, const kite_pvo_t *h)
{
    size_t n = 0;
    const kite_pvo_t *p;
    char *o;

    for (p = h; p; p = p->next) {
        if (!p->name || !p->value || !*p->name || bad_header_text(p->name) ||
            bad_header_text(p->value)) {
            kite_err("vhost %s: bad extra header", vh->name);
            return KITE_EINVAL;
        }
        n += strlen(p->name) + strlen(p->value) + 4;
    }
    if (!n)
        return 0;
    vh->headers = o = malloc(n + 1);
    if (!o)
        return KITE_ENOMEM;
    for (p = h; p; p = p->next)
        o += sprintf(o, "%s: %s\r\n", p->name, p->value);
    vh->headers_len = n;
    return 0;
}

/* sts: browsers that saw it keep to https for half a year (lws's value). */
static int add_sts(kite_vhost_t *vh)
{
    static const char sts[] = "Strict-Transport-Security: max-age=15768000 ; includeSubDomains\r\n";
    char *h = realloc(vh->headers, vh->headers_len + sizeof(sts));

    if (!h)
        return KITE_ENOMEM;
    memcpy(h + vh->headers_len, sts, sizeof(sts));
    vh->headers = h;
    vh->headers_len += sizeof(sts) - 1;
    return 0;
}

static int mount_type(const kite_mount_t *m, const char **origin)
{
    static const struct {
        const char *scheme;
        int type;
    } schemes[] = {
        {"file://", KITE_MOUNT_FILE},         {"callback://", KITE_MOUNT_CALLBACK},
        {">http://", KITE_MOUNT_REDIR_HTTP},  {">https://", KITE_MOUNT_REDIR_HTTPS},
        {"cgi://", KITE_MOUNT_CGI},           {"http://", KITE_MOUNT_PROXY_HTTP},
        {"https://", KITE_MOUNT_PROXY_HTTPS},
    };
    size_t i;

    *origin = m->origin;
    for (i = 0; m->origin && i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        size_t n = strlen(schemes[i].scheme);
        if (!strncmp(m->origin, schemes[i].scheme, n)) {
            *origin = m->origin + n;
            if (m->origin_protocol && m->origin_protocol != schemes[i].type)
                return KITE_EINVAL;
            return schemes[i].type;
        }
    }
    if (m->origin_protocol)
        return m->origin_protocol;
    if (m->origin && strstr(m->origin, "://"))
        return KITE_ENOTSUP;
    return KITE_MOUNT_FILE; /* a plain directory path */
}

static int prepare_mount(kite_vhost_t *vh, const kite_mount_t *m, kite__mount_rt_t *rt)
{
    const kite__module_t *const *mod;
    const char *name;
    int r;

    rt->m = m;
    if (!m->mountpoint || m->mountpoint[0] != '/') {
        kite_err("vhost %s: mountpoint \"%s\" must start with '/'", vh->name,
                 m->mountpoint ? m->mountpoint : "");
        return KITE_EINVAL;
    }
    rt->mp_len = strlen(m->mountpoint);
    while (rt->mp_len && m->mountpoint[rt->mp_len - 1] == '/')
        rt->mp_len--;
    rt->type = mount_type(m, &rt->origin);
    if (rt->type < 0) {
        kite_err("vhost %s: mount %s: unsupported origin \"%s\"", vh->name, m->mountpoint,
                 m->origin ? m->origin : "");
        return KITE_EINVAL;
    }
    switch (rt->type) {
    case KITE_MOUNT_FILE:
    case KITE_MOUNT_CGI:
        if (!rt->origin || !(rt->root = realpath(rt->origin, NULL))) {
            kite_err("vhost %s: mount %s: docroot \"%s\": %s", vh->name, m->mountpoint,
                     rt->origin ? rt->origin : "", strerror(errno));
            return KITE_ENOENT;
        }
        rt->root_len = strlen(rt->root);
        break;
    case KITE_MOUNT_CALLBACK:
        name = m->protocol ? m->protocol : rt->origin;
        rt->proto = name ? kite_vhost_find_protocol(vh, name) : NULL;
        if (!rt->proto) {
            kite_err("vhost %s: mount %s: unknown protocol \"%s\"", vh->name, m->mountpoint,
                     name ? name : "");
            return KITE_EINVAL;
        }
        break;
    default:
        if (!rt->origin || !*rt->origin || *rt->origin == '/') {
            kite_err("vhost %s: mount %s: %s without a host", vh->name, m->mountpoint,
                     rt->type >= KITE_MOUNT_PROXY_HTTP ? "proxy" : "redirect");
            return KITE_EINVAL;
        }
    }
    for (mod = kite__modules; *mod; mod++)
        if ((*mod)->mount_prepare && (r = (*mod)->mount_prepare(vh, rt)) < 0)
            return r;
    return 0;
}

/* A full copy of the caller's mount @src (a 0.1 one when @abi is 0). */
static int copy_mount(kite_vhost_t *vh, kite_mount_t *dst, const kite_mount_t *src, int abi)
{
    char what[96];

    if (!abi) {
        kite__abi_from_v0(dst, sizeof(*dst), src, KITE__V0_MOUNT_END);
        return 0;
    }
    snprintf(what, sizeof(what), "vhost %s: kite_mount_t", vh->name);
    return kite__abi_copy(dst, sizeof(*dst), src, what);
}

/* kite works on full copies of the mounts, linked as the caller's were. */
static int prepare_mounts(kite_vhost_t *vh, const kite_mount_t *first, int abi)
{
    const kite_mount_t *m;
    kite_mount_t tmp;
    int n = 0, i, r;

    for (m = first; m; m = tmp.next, n++)
        if ((r = copy_mount(vh, &tmp, m, abi)) < 0)
            return r;
    if (!n)
        return 0;
    vh->mcopy = calloc((size_t)n, sizeof(*vh->mcopy));
    vh->mrt = calloc((size_t)n, sizeof(*vh->mrt));
    if (!vh->mcopy || !vh->mrt)
        return KITE_ENOMEM;
    for (m = first, i = 0; i < n; m = vh->mcopy[i++].next) {
        copy_mount(vh, &vh->mcopy[i], m, abi);
        if (i)
            vh->mcopy[i - 1].next = &vh->mcopy[i];
    }
    vh->mcopy[n - 1].next = NULL;
    vh->mounts = vh->mcopy;
    for (i = 0; i < n; i++) {
        r = prepare_mount(vh, &vh->mcopy[i], &vh->mrt[vh->nmounts++]);
        if (r < 0)
            return r;
    }
    return 0;
}

static kite__listener_t *find_shared(kite_context_t *ctx, kite__pt_t *pt, const kite_vhost_t *vh)
{
    kite__listener_t *ls;
    kite_vhost_t *o;

    if (vh->unix_path || !vh->port)
        return NULL;
    for (o = ctx->vhosts; o; o = o->next) {
        if (o->port != vh->port || !same_str(o->iface, vh->iface) || o->unix_path)
            continue;
        for (ls = pt->listeners; ls; ls = ls->next)
            if (ls->vhosts[0] == o || ls->port == o->port)
                return ls;
    }
    return NULL;
}

static int add_to_listener(kite__listener_t *ls, kite_vhost_t *vh)
{
    kite_vhost_t **v = realloc(ls->vhosts, (size_t)(ls->nvhosts + 1) * sizeof(*v));

    if (!v)
        return KITE_ENOMEM;
    v[ls->nvhosts++] = vh;
    ls->vhosts = v;
    return 0;
}

static int listen_udp(kite_vhost_t *vh, int port)
{
    int fd, r = 0, bound;

    fd = kite__udp_socket(vh->iface, port, vh->options, &bound);
    if (fd < 0)
        return fd;
    vh->port = bound;
    /* Adopted by the raw role on the first service thread (no thread is
     * running yet). On failure the socket is closed with its conn (or,
     * when even the conn could not be made, left to process exit). */
    return kite_adopt_fd(vh, fd, KITE_ADOPT_UDP, vh->raw_proto->name, &r) ? 0 : r;
}

static int listen_all(kite_context_t *ctx, kite_vhost_t *vh, int port)
{
    int i, r;

    if (vh->options & KITE_VH_UDP)
        return listen_udp(vh, port);

    for (i = 0; i < ctx->npts; i++) {
        kite__pt_t *pt = &ctx->pts[i];
        kite__listener_t *ls = find_shared(ctx, pt, vh);
        int fd, bound, family;

        if (ls && !ls->vhosts[0]->tls != !vh->tls) {
            kite_err("vhost %s: port %d is served %s TLS by vhost %s", vh->name, vh->port,
                     vh->tls ? "without" : "with", ls->vhosts[0]->name);
            return KITE_EINVAL;
        }
        if (ls) {
            r = add_to_listener(ls, vh);
            if (r < 0)
                return r;
            continue;
        }
        fd = kite__listen_socket(vh->iface, i ? vh->port : port, vh->unix_path, vh->options,
                                 ctx->npts > 1 ? (i ? 1 : 2) : 0, &bound, &family);
        if (fd < 0)
            return fd;
        vh->port = bound;
        ls = calloc(1, sizeof(*ls));
        if (!ls || add_to_listener(ls, vh) < 0) {
            free(ls);
            close(fd);
            return KITE_ENOMEM;
        }
        ls->pt = pt;
        ls->fd = fd;
        ls->port = bound;
        ls->family = family;
        ls->next = pt->listeners;
        pt->listeners = ls;
        r = pt->evops->listen(pt, ls);
        if (r < 0)
            return r;
        if (vh->unix_path)
            break; /* one accept queue is enough for a local socket */
    }
    return 0;
}

static void vhost_free(kite_vhost_t *vh)
{
    const kite__module_t *const *m;
    int i;

    for (i = 0; vh->vhd && i < vh->ninit; i++)
        if (vh->protocols[i]->on_vhost_destroy)
            vh->protocols[i]->on_vhost_destroy(vh, vh->vhd[i]);
    for (m = kite__modules; *m; m++)
        ;
    while (m-- > kite__modules) {
        for (i = 0; (*m)->mount_free && i < vh->nmounts; i++)
            (*m)->mount_free(&vh->mrt[i]);
        if ((*m)->vhost_destroy)
            (*m)->vhost_destroy(vh);
    }
    for (i = 0; i < vh->nmounts; i++)
        free(vh->mrt[i].root);
    free(vh->mrt);
    free(vh->vhd);
    free(vh->name);
    free(vh->iface);
    free(vh->unix_path);
    free(vh->mcopy);
    free(vh->headers);
    free(vh->error_document_404);
    free(vh);
}

kite_vhost_t *kite_vhost_create(kite_context_t *ctx, const kite_vhost_info_t *info, int *err)
{
    kite_vhost_info_t full;
    int r = KITE_EINVAL;

    if (!info || (r = kite__abi_copy(&full, sizeof(full), info, "kite_vhost_info_t")) < 0) {
        if (err)
            *err = r;
        return NULL;
    }
    return kite__vhost_create(ctx, &full, 1, err);
}

kite_vhost_t *kite__vhost_create(kite_context_t *ctx, const kite_vhost_info_t *info, int abi,
                                 int *err)
{
    const kite__module_t *const *m;
    kite_vhost_t *vh, **tail;
    int i, r = KITE_ENOMEM;

    /* Serving vhosts change only through a reload (core/reload.c). */
    if ((ctx->running && !ctx->reload) || (!ctx->reload && atomic_load(&ctx->reload_pending))) {
        r = KITE_ESTATE;
        goto fail0;
    }
    vh = calloc(1, sizeof(*vh));
    if (!vh)
        goto fail0;
    vh->ctx = ctx;
    atomic_init(&vh->refs, 1);
    vh->name = strdup(info->name ? info->name : "localhost");
    vh->iface = info->iface ? strdup(info->iface) : NULL;
    vh->unix_path = info->unix_socket ? strdup(info->unix_socket) : NULL;
    vh->error_document_404 = info->error_document_404 ? strdup(info->error_document_404) : NULL;
    if (!vh->name || (info->iface && !vh->iface) || (info->unix_socket && !vh->unix_path) ||
        (info->error_document_404 && !vh->error_document_404))
        goto fail;
    vh->port = info->port;
    vh->options = info->options & ~KITE__VH_TO_HTTPS;
    if (info->tls_options & KITE_TLS_REDIRECT_HTTP)
        vh->options |= KITE__VH_TO_HTTPS;
    vh->keepalive_ms =
        1000u * (info->keepalive_timeout ? info->keepalive_timeout : ctx->info.keepalive_timeout);
    vh->https_port = info->redirect_https_port;
    vh->request_ms =
        info->request_timeout_ms ? info->request_timeout_ms : 1000u * ctx->info.timeout_secs;
    vh->protocols = info->protocols;
    for (i = 0; info->protocols && info->protocols[i]; i++)
        if (info->protocols[i]->abi < 1 || info->protocols[i]->abi > KITE_PROTOCOL_ABI ||
            !info->protocols[i]->name) {
            kite_err("vhost %s: protocol %d has a bad abi or no name", vh->name, i);
            r = KITE_EABI;
            goto fail;
        }
    vh->nprotocols = i;
    vh->pvo = info->pvo;
    vh->user = info->user;
    if (info->ws_deflate) {
        if ((r = kite__ws_deflate_in(&vh->ws_deflate, info->ws_deflate, abi)) < 0)
            goto fail;
        vh->ws_deflate_on = 1;
    }
    if ((r = render_headers(vh, info->headers)) < 0)
        goto fail;
    for (m = kite__modules; *m; m++)
        if ((*m)->vhost_init && (r = (*m)->vhost_init(vh, info)) < 0)
            goto fail;
    if ((r = prepare_mounts(vh, info->mounts, abi)) < 0)
        goto fail;
    for (m = kite__modules; *m; m++)
        if ((*m)->vhost_open && (r = (*m)->vhost_open(vh, info)) < 0)
            goto fail;
    if (vh->tls && (info->tls_options & KITE_TLS_STS) && (r = add_sts(vh)) < 0)
        goto fail;
    vh->vhd = calloc((size_t)vh->nprotocols + 1, sizeof(void *));
    if (!vh->vhd) {
        r = KITE_ENOMEM;
        goto fail;
    }
    for (i = 0; i < vh->nprotocols; i++)
        if (kite_pvo_get(pvo_for(vh->pvo, vh->protocols[i]->name), "raw"))
            vh->raw_proto = vh->protocols[i];
    if ((vh->options & (KITE_VH_RAW_ONLY | KITE_VH_FALLBACK_TO_RAW | KITE_VH_UDP)) &&
        !vh->raw_proto) {
        kite_err("vhost %s: raw needs a protocol with the pvo option \"raw\"", vh->name);
        r = KITE_EINVAL;
        goto fail;
    }
    if (vh->tls && (vh->options & (KITE_VH_RAW_ONLY | KITE_VH_UDP))) {
        kite_err("vhost %s: raw-only and UDP vhosts cannot have TLS", vh->name);
        r = KITE_EINVAL;
        goto fail;
    }
    for (i = 0; i < vh->nprotocols; i++) {
        const kite_protocol_t *p = vh->protocols[i];
        if (p->on_vhost_init && p->on_vhost_init(vh, pvo_for(vh->pvo, p->name), &vh->vhd[i])) {
            kite_err("vhost %s: protocol %s failed to initialise", vh->name, p->name);
            r = KITE_EINVAL;
            goto fail;
        }
        vh->ninit = i + 1;
    }
    if (ctx->reload) {
        /* Staged: sockets bound now, served from the commit on. */
        if ((r = kite__reload_stage(ctx, vh, info->port)) < 0)
            goto fail;
        vh->on_destroyed = info->on_destroyed;
        return vh;
    }
    if (!(vh->options & KITE_VH_NO_LISTEN) && (r = listen_all(ctx, vh, info->port)) < 0)
        goto fail_listen;
    for (tail = &ctx->vhosts; *tail; tail = &(*tail)->next)
        ;
    *tail = vh;
    vh->on_destroyed = info->on_destroyed;
    return vh;

fail_listen:
    /* Listeners already started on some threads keep pointing at vh:
     * leave it in the list so destroy frees them together. */
    for (tail = &ctx->vhosts; *tail; tail = &(*tail)->next)
        ;
    *tail = vh;
    if (err)
        *err = r;
    return NULL;
fail:
    vhost_free(vh);
fail0:
    if (err)
        *err = r;
    return NULL;
}

kite_vhost_t *kite__vhost_named(const kite__listener_t *ls, const char *host, size_t len)
{
    size_t n = len;
    int i;

    /* Drop the port: "name:port" or "[v6]:port". */
    if (n && host[0] == '[') {
        const char *e = memchr(host, ']', n);
        if (e)
            n = (size_t)(e - host) + 1;
    } else {
        const char *e = memchr(host, ':', n);
        if (e)
            n = (size_t)(e - host);
    }
    if (n && host[n - 1] == '.')
        n--;
    for (i = 0; i < ls->nvhosts; i++) {
        const char *name = ls->vhosts[i]->name;
        if (strlen(name) == n && !kite__strncasecmp(name, host, n))
            return ls->vhosts[i];
    }
    return NULL;
}

kite_vhost_t *kite__vhost_by_host(const kite__listener_t *ls, const char *host, size_t len)
{
    kite_vhost_t *vh;

    if (!host || ls->nvhosts == 1)
        return ls->vhosts[0];
    vh = kite__vhost_named(ls, host, len);
    return vh ? vh : ls->vhosts[0];
}

void kite__vhosts_destroy(kite_context_t *ctx)
{
    kite_vhost_t *vh;
    int i;

    for (i = 0; ctx->pts && i < ctx->npts; i++) {
        kite__listener_t *ls;
        while ((ls = ctx->pts[i].listeners)) {
            ctx->pts[i].listeners = ls->next;
            free(ls->vhosts);
            free(ls);
        }
    }
    while ((vh = ctx->vhosts)) {
        ctx->vhosts = vh->next;
        if (vh->unix_path)
            unlink(vh->unix_path);
        kite__vhost_free(vh);
    }
}

void kite__vhost_free(kite_vhost_t *vh)
{
    void (*done)(void *) = vh->on_destroyed;
    void *user = vh->user;

    vhost_free(vh);
    /* Last: what the info referenced (mounts, pvos) was in use until now. */
    if (done)
        done(user);
}

int kite__vhost_same_addr(const kite_vhost_t *a, const kite_vhost_t *b)
{
    if (a->unix_path || b->unix_path)
        return a->unix_path && b->unix_path && !strcmp(a->unix_path, b->unix_path);
    return a->port && a->port == b->port && same_str(a->iface, b->iface);
}

int kite_vhost_port(const kite_vhost_t *vh)
{
    return vh->unix_path ? -1 : vh->port;
}

const char *kite_vhost_name(const kite_vhost_t *vh)
{
    return vh->name;
}

void *kite_vhost_user(const kite_vhost_t *vh)
{
    return vh->user;
}

kite_context_t *kite_vhost_context(const kite_vhost_t *vh)
{
    return vh->ctx;
}
