/*
 * Making a client connection: the checks and copies of
 * kite_client_connect(), the name lookup (skipped for an address
 * literal), the TCP connect tried on each address in turn (IPv6 and
 * IPv4), the TLS handshake, the connect timeout over all of it, and the
 * one report of a failure with its reason. Every outcome reaches the
 * protocol from the loop, never from inside kite_client_connect(), so the
 * caller always has the connection before its first callback.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/private-client.h"
#include "core/abi.h"
#include "roles/ws/private-ws.h"
#include "tls/tls.h"

#define CL(c) ((kite__client_t *)(c)->rd)

static const struct kite__role_ops role_connecting;

kite__client_t *kite__client_of(const kite_conn_t *c)
{
    if (!(c->flags & KITE__C_CLIENT) || !c->rd)
        return NULL;
    if (c->role == &kite__role_ws)
        return ((kite__ws_t *)c->rd)->cl;
    return c->rd;
}

void kite__client_free(kite__client_t *cl)
{
    if (!cl)
        return;
    if (cl->ai)
        freeaddrinfo(cl->ai);
    free(cl->strs);
    free(cl->head);
    free(cl->chosen);
    free(cl);
}

static int has_v2(const kite_protocol_t *p)
{
    return p && p->abi >= 2;
}

/* The one report of a connection that never became established. */
static void report(kite_conn_t *c, kite__client_t *cl, const char *why)
{
    const kite_protocol_t *p = c->proto;

    if (cl->failed)
        return;
    cl->failed = 1;
    kite_info("client %s port %d: %s", cl->i.address, cl->i.port, why);
    if (!cl->established && has_v2(p) && p->on_client_connection_error)
        p->on_client_connection_error(c, c->user, why);
}

void kite__client_fail(kite_conn_t *c, const char *why)
{
    kite__client_t *cl = kite__client_of(c);

    if (!cl || (c->flags & KITE__C_CLOSED))
        return;
    report(c, cl, why);
    kite__conn_close_now(c, KITE_CLOSE_SETUP);
}

int kite__client_established(kite_conn_t *c)
{
    kite__client_t *cl = kite__client_of(c);
    const kite_protocol_t *p = c->proto;

    if (cl->established)
        return 0;
    cl->established = 1;
    if (has_v2(p) && p->on_client_established && p->on_client_established(c, c->user))
        return KITE_ECLOSED;
    return 0;
}

/* The transport is up: raw conns are ready, HTTP and ws send their head. */
static void ready(kite_conn_t *c)
{
    kite__client_t *cl = CL(c);

    kite__conn_set_state_timeout(c, 0);
    if (cl->mode == CL_RAW) {
        cl->phase = CL_UPGRADED;
        c->role = &kite__role_raw;
        if (kite__client_established(c) < 0)
            kite__conn_close_now(c, KITE_CLOSE_SETUP);
        return;
    }
    c->role = &kite__role_client_http;
    cl->phase = CL_HEAD;
    if (kite__client_send_head(c) < 0) {
        kite__client_fail(c, "cannot queue the request");
        return;
    }
    /* The response head must come within what is left of the timeout. */
    kite__conn_set_state_timeout(c, cl->i.connect_timeout_ms);
    if (cl->mode == CL_HTTP && kite__client_established(c) < 0)
        kite__conn_close_now(c, KITE_CLOSE_SETUP);
}

static void fail_connect(kite_conn_t *c)
{
    kite__client_t *cl = CL(c);
    char why[300];

    snprintf(why, sizeof(why), "connect to %s port %d: %s", cl->i.address, cl->i.port,
             kite_strerror(cl->last_err ? cl->last_err : KITE_ENOENT));
    kite__client_fail(c, why);
}

static int bind_local(int fd, const char *local, int family)
{
    struct addrinfo hints = {.ai_family = family, .ai_flags = AI_NUMERICHOST | AI_PASSIVE};
    struct addrinfo *res = NULL;
    int r;

    if (getaddrinfo(local, NULL, &hints, &res))
        return KITE_EADDRNOTAVAIL;
    r = bind(fd, res->ai_addr, res->ai_addrlen) ? -errno : 0;
    freeaddrinfo(res);
    return r;
}

/* Connect to the next address; when none is left, report the last error. */
static void try_next(kite_conn_t *c)
{
    kite__client_t *cl = CL(c);
    struct addrinfo *a;
    int fd, r;

    while ((a = cl->next_ai)) {
        cl->next_ai = a->ai_next;
        fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            cl->last_err = -errno;
            continue;
        }
        r = cl->i.local_address ? bind_local(fd, cl->i.local_address, a->ai_family) : 0;
        if (!r && connect(fd, a->ai_addr, a->ai_addrlen) && errno != EINPROGRESS)
            r = -errno;
        /* Even a connect that finished at once is reported from the loop. */
        if (!r && (r = kite__conn_connect_fd(c, fd)) == 0) {
            cl->phase = CL_CONNECT;
            return;
        }
        close(fd);
        cl->last_err = r;
    }
    fail_connect(c);
}

static void on_resolved(kite__dns_t *q, int status, struct addrinfo *res)
{
    kite__client_t *cl = (kite__client_t *)((char *)q - offsetof(kite__client_t, dns));
    kite_conn_t *c = cl->step.conn;
    char why[300];

    kite__conn_enter(c);
    if (status < 0 || !res) {
        snprintf(why, sizeof(why), "cannot resolve %s: %s", cl->i.address,
                 kite_strerror(status < 0 ? status : KITE_ENOENT));
        kite__client_fail(c, why);
    } else {
        cl->ai = cl->next_ai = res;
        try_next(c);
    }
    kite__conn_leave(c);
}

/* The first step, from the timer heap: an address literal is connected
 * to at once, a name is looked up. */
static void first_step(kite_conn_t *c, kite_timer_t *t)
{
    kite__client_t *cl = CL(c);
    int fam = (cl->i.flags & KITE_CLIENT_IPV4_ONLY)   ? AF_INET
              : (cl->i.flags & KITE_CLIENT_IPV6_ONLY) ? AF_INET6
                                                      : AF_UNSPEC;
    struct addrinfo hints = {
        .ai_family = fam, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
    int r;

    (void)t;
    if (!getaddrinfo(cl->i.address, cl->port, &hints, &cl->ai)) {
        cl->next_ai = cl->ai;
        try_next(c);
        return;
    }
    cl->ai = NULL;
    cl->phase = CL_RESOLVE;
    cl->dns.host = cl->i.address;
    cl->dns.port = cl->port;
    cl->dns.family = fam;
    cl->dns.cb = on_resolved;
    if ((r = kite__pt_resolve(c->pt, &cl->dns)) < 0) {
        cl->last_err = r;
        fail_connect(c);
    }
}

static void on_connect(kite_conn_t *c, int status, const char *why)
{
    kite__client_t *cl = CL(c);
    int r;

    if (cl->phase == CL_TLS) {
        if (status < 0)
            kite__client_fail(c, why ? why : "tls handshake failed");
        else
            ready(c);
        return;
    }
    if (status < 0) {
        cl->last_err = status;
        try_next(c);
        return;
    }
    freeaddrinfo(cl->ai);
    cl->ai = cl->next_ai = NULL;
    if ((r = kite__conn_read_start(c)) < 0) {
        cl->last_err = r;
        fail_connect(c);
        return;
    }
    if (!(cl->i.flags & KITE_CLIENT_TLS)) {
        ready(c);
        return;
    }
    cl->phase = CL_TLS;
    if (kite__tls_client_start(c, cl->i.sni, cl->i.tls_ca, cl->i.flags) < 0)
        kite__client_fail(c, "tls: cannot start the handshake");
}

static const char *phase_name(int phase)
{
    switch (phase) {
    case CL_RESOLVE:
        return "resolving the name";
    case CL_CONNECT:
        return "connecting";
    case CL_TLS:
        return "in the TLS handshake";
    default:
        return "waiting for the response";
    }
}

int kite__client_timeout(kite_conn_t *c)
{
    kite__client_t *cl = kite__client_of(c);
    char why[200];

    cl->timed_out = 1;
    snprintf(why, sizeof(why), "timed out %s", phase_name(cl->phase));
    kite__client_fail(c, why);
    return 0;
}

static int on_timeout(kite_conn_t *c)
{
    return kite__client_timeout(c);
}

static void on_eof(kite_conn_t *c, int status)
{
    (void)status;
    kite__client_fail(c, "the server closed the connection during the TLS handshake");
}

static int on_data(kite_conn_t *c, char *buf, size_t len)
{
    (void)buf;
    (void)len;
    kite__client_fail(c, "data before the connection was ready");
    return 0;
}

static int cl_write(kite_conn_t *c, const void *buf, size_t len, unsigned flags)
{
    (void)c;
    (void)buf;
    (void)len;
    (void)flags;
    return KITE_ESTATE;
}

void kite__client_on_close(kite_conn_t *c, int reason)
{
    kite__client_t *cl = CL(c);
    const kite_protocol_t *p = c->proto;

    if (!cl)
        return;
    if (cl->dns.ev)
        kite__pt_resolve_cancel(c->pt, &cl->dns);
    if (!cl->established)
        report(c, cl, "closed before the connection was established");
    else if (p && p->on_closed)
        p->on_closed(c, c->user, reason);
    kite__client_free(cl);
    c->rd = NULL;
}

static const struct kite__role_ops role_connecting = {
    .name = "client-connecting",
    .on_data = on_data,
    .on_eof = on_eof,
    .on_timeout = on_timeout,
    .write = cl_write,
    .on_close = kite__client_on_close,
    .on_connect = on_connect,
};

/* Copy the strings of @in into one allocation that @out points into. */
static int copy_info(kite__client_t *cl, const kite_client_info_t *in)
{
    const char *const *src[] = {&in->address,  &in->path,    &in->host,           &in->origin,
                                &in->protocol, &in->method,  &in->local_protocol, &in->tls_ca,
                                &in->sni,      &in->headers, &in->local_address};
    const char **dst[] = {&cl->i.address,  &cl->i.path,    &cl->i.host,           &cl->i.origin,
                          &cl->i.protocol, &cl->i.method,  &cl->i.local_protocol, &cl->i.tls_ca,
                          &cl->i.sni,      &cl->i.headers, &cl->i.local_address};
    size_t n = 0, k, i;
    char *p;

    for (i = 0; i < sizeof(src) / sizeof(src[0]); i++)
        n += *src[i] ? strlen(*src[i]) + 1 : 0;
    if (!(p = cl->strs = malloc(n + 1)))
        return KITE_ENOMEM;
    for (i = 0; i < sizeof(src) / sizeof(src[0]); i++) {
        if (!*src[i]) {
            *dst[i] = NULL;
            continue;
        }
        k = strlen(*src[i]) + 1;
        memcpy(p, *src[i], k);
        *dst[i] = p;
        p += k;
    }
    return 0;
}

/* The vhost protocol that serves the conn. */
static const kite_protocol_t *local_protocol(const kite_vhost_t *vh, const kite_client_info_t *in)
{
    char name[64];
    size_t n;

    if (in->local_protocol)
        return kite_vhost_find_protocol(vh, in->local_protocol);
    if (in->protocol) {
        n = strcspn(in->protocol + strspn(in->protocol, " \t"), ", \t");
        if (n && n < sizeof(name)) {
            memcpy(name, in->protocol + strspn(in->protocol, " \t"), n);
            name[n] = '\0';
            if (kite_vhost_find_protocol(vh, name))
                return kite_vhost_find_protocol(vh, name);
        }
    }
    return vh->nprotocols ? vh->protocols[0] : NULL;
}

kite_conn_t *kite_client_connect(kite_context_t *ctx, const kite_client_info_t *info, int *err)
{
    kite_client_info_t full;
    kite_ws_deflate_t wd;
    int r = KITE_EINVAL;

    if (!info || (r = kite__abi_copy(&full, sizeof(full), info, "kite_client_info_t")) < 0 ||
        (full.ws_deflate && (r = kite__ws_deflate_in(&wd, full.ws_deflate, 1)) < 0)) {
        if (err)
            *err = r;
        return NULL;
    }
    if (full.ws_deflate)
        full.ws_deflate = &wd;
    return kite__client_connect(ctx, &full, NULL, err);
}

kite_conn_t *kite__client_connect(kite_context_t *ctx, const kite_client_info_t *info,
                                  const kite_protocol_t *p, int *err)
{
    kite__pt_t *pt = kite__pt_current();
    kite__client_t *cl = NULL;
    kite_conn_t *c;
    int r = KITE_EINVAL;

    if (!ctx || !info || !info->vhost || info->vhost->ctx != ctx || !info->address ||
        !*info->address || info->port < 0 || info->port > 65535 ||
        (!p && !(p = local_protocol(info->vhost, info))))
        goto fail;
    if (info->parent)
        pt = info->parent->pt;
    if (!pt || pt->ctx != ctx)
        pt = &ctx->pts[0];
    r = KITE_ENOMEM;
    if (!(cl = calloc(1, sizeof(*cl))))
        goto fail;
    cl->i = *info;
    if ((r = copy_info(cl, info)) < 0)
        goto fail;
    if (info->ws_deflate) {
        kite__pmd_conf_defaults(&cl->deflate, info->ws_deflate);
        cl->i.ws_deflate = &cl->deflate;
    }
    cl->mode = !cl->i.method ? CL_WS : !strcmp(cl->i.method, "RAW") ? CL_RAW : CL_HTTP;
    if (!cl->i.port)
        cl->i.port = (cl->i.flags & KITE_CLIENT_TLS) ? 443 : 80;
    if (!cl->i.path)
        cl->i.path = "/";
    if (!cl->i.sni)
        cl->i.sni = cl->i.address;
    if (!cl->i.connect_timeout_ms)
        cl->i.connect_timeout_ms = 10000;
    snprintf(cl->port, sizeof(cl->port), "%d", cl->i.port);
    if (!(c = kite__conn_client_new(pt, info->vhost, &r)))
        goto fail;
    c->role = &role_connecting;
    c->rd = cl;
    c->proto = p;
    if (kite__conn_user_bind(c, p->per_session_size) < 0) {
        /* The conn is not known to anyone yet: close it quietly. */
        cl->failed = 1;
        kite__conn_close_now(c, KITE_CLOSE_SETUP);
        *err = KITE_ENOMEM;
        return NULL;
    }
    kite__conn_set_state_timeout(c, cl->i.connect_timeout_ms);
    kite_timer_schedule(c, &cl->step, 0, first_step);
    return c;
fail:
    kite__client_free(cl);
    if (err)
        *err = r;
    return NULL;
}

int kite_client_is_client(const kite_conn_t *c)
{
    return c && (c->flags & KITE__C_CLIENT) != 0;
}

void *kite_client_opaque(const kite_conn_t *c)
{
    kite__client_t *cl = kite__client_of(c);

    return cl ? cl->i.opaque : NULL;
}

kite_conn_t *kite_client_parent(const kite_conn_t *c)
{
    kite__client_t *cl = kite__client_of(c);

    return cl ? cl->i.parent : NULL;
}

const char *kite_client_protocol(const kite_conn_t *c)
{
    kite__client_t *cl = kite__client_of(c);

    return cl ? cl->chosen : NULL;
}

/* Split "http[s]://host[:port]/path" or "/path" into @in (pointing into
 * @buf). 0 or KITE_EINVAL. */
static int parse_location(char *buf, kite_client_info_t *in)
{
    char *p = buf, *path, *colon;

    if (*p == '/') {
        in->path = p;
        return 0;
    }
    if (!strncmp(p, "https://", 8)) {
        in->flags |= KITE_CLIENT_TLS;
        p += 8;
    } else if (!strncmp(p, "http://", 7)) {
        in->flags &= ~(unsigned)KITE_CLIENT_TLS;
        p += 7;
    } else {
        return KITE_EINVAL;
    }
    path = strchr(p, '/');
    in->path = "/";
    if (path) {
        memmove(path + 1, path, strlen(path) + 1);
        *path++ = '\0';
        in->path = path;
    }
    in->port = 0;
    if (*p == '[' && (colon = strchr(p, ']'))) {
        *colon++ = '\0';
        in->address = p + 1;
        if (*colon == ':')
            in->port = atoi(colon + 1);
    } else {
        in->address = p;
        if ((colon = strchr(p, ':'))) {
            *colon++ = '\0';
            in->port = atoi(colon);
        }
    }
    in->host = NULL;
    in->sni = NULL;
    return *in->address ? 0 : KITE_EINVAL;
}

int kite__client_redirect(kite_conn_t *c, const char *url)
{
    kite__client_t *cl = CL(c), *ncl;
    kite_client_info_t in = cl->i;
    size_t n = strlen(url);
    char *buf = malloc(n + 2);
    kite_conn_t *nc;
    int r;

    if (!buf)
        return KITE_ENOMEM;
    memcpy(buf, url, n + 1);
    /* A body cannot be sent again: 307 and 308 keep the method, so only
     * bodiless requests follow them; 301-303 become GET, as browsers do. */
    if (cl->i.content_length) {
        if (cl->status == 307 || cl->status == 308) {
            free(buf);
            return KITE_ENOTSUP;
        }
        in.method = "GET";
        in.content_length = 0;
    }
    in.local_protocol = c->proto->name;
    if ((r = parse_location(buf, &in)) < 0 || !(nc = kite_client_connect(c->pt->ctx, &in, &r))) {
        free(buf);
        return r;
    }
    free(buf);
    ncl = nc->rd;
    ncl->redirects = (uint8_t)(cl->redirects + 1);
    /* The protocol goes on with the same user memory and hears nothing of
     * this conn again. */
    ncl->established = cl->established;
    kite__conn_user_move(nc, c);
    cl->failed = 1;
    cl->established = 0;
    kite__conn_close_now(c, KITE_CLOSE_NORMAL);
    return 0;
}
