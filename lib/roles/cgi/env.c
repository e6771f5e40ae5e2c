/*
 * The CGI meta-variables (RFC 3875 section 4.1) of a request, built in one
 * growing block and handed to posix_spawn() as an envp array. Request
 * headers become HTTP_* variables, except those RFC 3875 4.1.18 says
 * carry nothing new or must not leak (Content-Type, Content-Length,
 * Authorization) and Proxy, which would become HTTP_PROXY (httpoxy,
 * CVE-2016-5385). A header sent twice is joined with ", " (RFC 9110
 * 5.3). The mount's cgi-env comes last and replaces a variable of the
 * same name.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "misc/misc.h"
#include "core/private.h"
#include "roles/cgi/private-cgi.h"

#define MAX_VARS 160

typedef struct envb {
    char *buf;
    size_t len, cap;
    size_t off[MAX_VARS]; /* where each "NAME=value" starts */
    int n;
    int oom;
} envb_t;

static int reserve(envb_t *e, size_t need)
{
    char *p;
    size_t cap = e->cap ? e->cap : 4096;

    if (e->len + need <= e->cap)
        return 0;
    while (cap < e->len + need)
        cap *= 2;
    if (!(p = realloc(e->buf, cap))) {
        e->oom = 1;
        return -1;
    }
    e->buf = p;
    e->cap = cap;
    return 0;
}

/* The index of the variable @name (@nlen bytes), or -1. */
static int find(const envb_t *e, const char *name, size_t nlen)
{
    int i;

    for (i = 0; i < e->n; i++)
        if (!strncmp(e->buf + e->off[i], name, nlen) && e->buf[e->off[i] + nlen] == '=')
            return i;
    return -1;
}

/* Add NAME=value; @replace drops an earlier NAME, else the value is
 * appended to it after ", ". */
static void put(envb_t *e, const char *name, size_t nlen, const char *v, size_t vlen, int replace)
{
    int i = find(e, name, nlen);

    if (i >= 0 && !replace) {
        /* Join: move the old entry to the end, then extend it. */
        size_t o = e->off[i], ol = strlen(e->buf + o);
        if (reserve(e, ol + vlen + 3) < 0)
            return;
        memcpy(e->buf + e->len, e->buf + o, ol);
        memcpy(e->buf + e->len + ol, ", ", 2);
        memcpy(e->buf + e->len + ol + 2, v, vlen);
        e->buf[e->len + ol + 2 + vlen] = '\0';
        e->off[i] = e->len;
        e->len += ol + vlen + 3;
        return;
    }
    if (i < 0 && e->n == MAX_VARS)
        return; /* the parser caps headers well below this */
    if (reserve(e, nlen + vlen + 2) < 0)
        return;
    if (i < 0)
        i = e->n++;
    e->off[i] = e->len;
    memcpy(e->buf + e->len, name, nlen);
    e->buf[e->len + nlen] = '=';
    memcpy(e->buf + e->len + nlen + 1, v, vlen);
    e->buf[e->len + nlen + 1 + vlen] = '\0';
    e->len += nlen + vlen + 2;
}

static void set(envb_t *e, const char *name, const char *v)
{
    put(e, name, strlen(name), v ? v : "", v ? strlen(v) : 0, 1);
}

static void set_int(envb_t *e, const char *name, long long v)
{
    char num[24];

    snprintf(num, sizeof(num), "%lld", v);
    set(e, name, num);
}

static void add_headers(envb_t *e, const kite_http_req_t *t)
{
    static const char *const skip[] = {"content-type", "content-length", "authorization",
                                       "proxy-authorization", "proxy"};
    char name[128];
    unsigned i;
    size_t j, k;

    for (i = 0; i < t->p.nhdrs; i++) {
        const kite__h1_hdr_t *h = &t->p.hdrs[i];
        int skipped = 0;
        if ((size_t)h->name_len + 5 >= sizeof(name))
            continue;
        for (k = 0; k < sizeof(skip) / sizeof(skip[0]); k++)
            if (h->name_len == strlen(skip[k]) && !kite__strncasecmp(h->name, skip[k], h->name_len))
                skipped = 1;
        if (skipped)
            continue;
        memcpy(name, "HTTP_", 5);
        for (j = 0; j < h->name_len; j++) {
            char ch = h->name[j];
            name[5 + j] = ch == '-' ? '_' : (ch >= 'a' && ch <= 'z') ? (char)(ch - 32) : ch;
        }
        put(e, name, h->name_len + 5, h->value, strlen(h->value), 0);
    }
}

static void add_addresses(envb_t *e, kite_conn_t *c)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char addr[64];
    int port, fd = kite__conn_fd(kite__conn_sock(c));

    if (kite_conn_peer(c, addr, sizeof(addr), &port) == 0) {
        /* A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d. */
        set(e, "REMOTE_ADDR", !strncmp(addr, "::ffff:", 7) && strchr(addr, '.') ? addr + 7 : addr);
        set_int(e, "REMOTE_PORT", port);
    }
    port = c->vh->port;
    if (fd >= 0 && !getsockname(fd, (struct sockaddr *)&ss, &sl)) {
        if (ss.ss_family == AF_INET)
            port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    set_int(e, "SERVER_PORT", port);
}

static void add_server(envb_t *e, kite_conn_t *c, const kite_http_req_t *t)
{
    const char *host = t->p.host, *end;
    size_t hl = t->p.host_len;
    char tls[2];

    set(e, "GATEWAY_INTERFACE", "CGI/1.1");
    set(e, "SERVER_SOFTWARE", *c->pt->ctx->server_string ? c->pt->ctx->server_string : "kite");
    set(e, "SERVER_PROTOCOL",
        t->p.version == 10   ? "HTTP/1.0"
        : t->p.version == 20 ? "HTTP/2.0"
                             : "HTTP/1.1");
    /* The name the client used (without its port), else the vhost's. */
    if (host && hl) {
        end = host[0] == '[' ? memchr(host, ']', hl) : memchr(host, ':', hl);
        if (end && host[0] == '[')
            end++;
        put(e, "SERVER_NAME", 11, host, end ? (size_t)(end - host) : hl, 1);
    } else {
        set(e, "SERVER_NAME", c->vh->name);
    }
    add_addresses(e, c);
    /* Not RFC 3875's, but what scripts look at (Apache, LibHTTP, PHP):
     * "on" when the request came over TLS. */
    if (kite_conn_tls_peer(c, tls, sizeof(tls)) != KITE_ENOTSUP)
        set(e, "HTTPS", "on");
}

char **kite__cgi_env(kite_conn_t *c, kite_http_req_t *t, const char *script, size_t info_off)
{
    const kite__mount_rt_t *m = t->mrt;
    const char *info = t->mount_path + info_off, *path = getenv("PATH"), *ct;
    envb_t *e = calloc(1, sizeof(*e));
    const kite_pvo_t *p;
    char **env = NULL;
    int i;

    if (!e)
        return NULL;
    add_server(e, c, t);
    set(e, "REQUEST_METHOD", t->p.method);
    set(e, "REQUEST_URI", t->p.target);
    /* SCRIPT_NAME is the URL path up to the script: the mountpoint, then
     * the part of the mount path that named the file. */
    put(e, "SCRIPT_NAME", 11, t->path, m->mp_len + info_off, 1);
    set(e, "SCRIPT_FILENAME", script);
    set(e, "DOCUMENT_ROOT", m->root);
    if (*info) {
        set(e, "PATH_INFO", info);
        char *pt = malloc(m->root_len + strlen(info) + 1);
        if (!pt)
            e->oom = 1;
        else {
            memcpy(pt, m->root, m->root_len);
            strcpy(pt + m->root_len, info);
            set(e, "PATH_TRANSLATED", pt);
            free(pt);
        }
    }
    set(e, "QUERY_STRING", t->p.query ? t->p.query : "");
    if ((ct = kite_http_header(t, "Content-Type")))
        set(e, "CONTENT_TYPE", ct);
    if (t->p.content_length >= 0 && (t->tflags & KITE__T_BODY))
        set_int(e, "CONTENT_LENGTH", t->p.content_length);
    if (t->auth_user) {
        set(e, "AUTH_TYPE", (t->tflags & KITE__T_DIGEST) ? "Digest" : "Basic");
        set(e, "REMOTE_USER", t->auth_user);
    }
    /* php-cgi refuses to run without it (its force-cgi-redirect check). */
    set(e, "REDIRECT_STATUS", "200");
    set(e, "PATH", path ? path : "/usr/local/bin:/usr/bin:/bin");
    add_headers(e, t);
    for (p = m->m->cgi_env; p; p = p->next)
        if (p->name && *p->name && !strchr(p->name, '='))
            set(e, p->name, p->value);
    if (e->oom || !(env = malloc((size_t)(e->n + 1) * sizeof(char *) + e->len)))
        goto done;
    memcpy(env + e->n + 1, e->buf, e->len);
    for (i = 0; i < e->n; i++)
        env[i] = (char *)(env + e->n + 1) + e->off[i];
    env[e->n] = NULL;
done:
    free(e->buf);
    free(e);
    return env;
}
