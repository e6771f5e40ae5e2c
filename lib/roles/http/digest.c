/*
 * HTTP Digest authentication (RFC 7616, MD5, qop "auth" or none) against
 * LibHTTP password files. Which file guards a request: the first
 * protect-uri prefix it falls under, else global-auth-file, else a
 * .htpasswd in the directory of the requested file (file mounts). No
 * file: no authentication. A .htpasswd is never served.
 *
 * Nonces are stateless: the issue time, a serial number (so that no two
 * challenges share a nonce, whose counts are tracked below) and an MD5
 * over both and a secret drawn when the vhost is created, so any service
 * thread checks any nonce and a restart invalidates them. A nonce older than
 * auth-nonce-timeout with otherwise right credentials gets a new
 * challenge with stale=true (the client retries without asking the
 * user); a wrong answer gets a fresh challenge.
 *
 * Nonce counts are tracked so that a captured request cannot be replayed:
 * each vhost remembers, for the nonces recently answered correctly, the
 * highest nc seen, and refuses an nc that does not exceed it (a fresh
 * challenge, stale=false). Memory is bounded by a fixed table of
 * SEEN_MAX entries per vhost, shared by its service threads under a mutex
 * (a nonce may come back on any thread). An entry is free again once its
 * nonce has expired. When all are in use the oldest is dropped and the
 * vhost forgets nothing: every nonce issued no later than the dropped one
 * is then treated as expired (stale=true, the client retries at once with
 * a new nonce), so a dropped nonce cannot be replayed either. A request
 * without qop has no nc: its nonce is good for one request.
 */
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "roles/http/private-http.h"

#define FIELD_MAX 256
/* Nonces whose nc is remembered per vhost: 512 * 48 bytes = 24 KiB. */
#define SEEN_MAX  512
#define NONCE_LEN 48

struct prot {
    char *uri, *file;
    size_t len;
};

struct seen {
    char nonce[NONCE_LEN];
    uint32_t when; /* the nonce's issue time; 0: a free entry */
    uint32_t nc;
};

struct kite__dauth {
    char *realm, *global;
    struct prot *prot;
    int nprot;
    unsigned nonce_secs;
    int general; /* auth-domain, global-auth-file or protect-uri: not only PUT */
    char secret[33];
    uint32_t serial;      /* of the next nonce (atomic) */
    pthread_mutex_t lock; /* seen[] and floor */
    uint32_t floor;       /* nonces issued up to this time are treated as expired */
    struct seen seen[SEEN_MAX];
};

struct creds {
    char username[FIELD_MAX], realm[FIELD_MAX], nonce[FIELD_MAX], uri[2048];
    char response[FIELD_MAX], qop[FIELD_MAX], nc[FIELD_MAX], cnonce[FIELD_MAX];
    char algorithm[FIELD_MAX];
};

static int add_prot(struct kite__dauth *d, const char *list)
{
    const char *s, *e, *eq;
    int n = 1;

    for (s = list; *s; s++)
        n += *s == ',';
    if (!(d->prot = calloc((size_t)n, sizeof(*d->prot))))
        return KITE_ENOMEM;
    for (s = list; *s; s = *e ? e + 1 : e) {
        struct prot *p = &d->prot[d->nprot];
        if (!(e = strchr(s, ',')))
            e = s + strlen(s);
        while (s < e && *s == ' ')
            s++;
        if (s == e)
            continue;
        if (*s != '/' || !(eq = memchr(s, '=', (size_t)(e - s))) || eq + 1 == e)
            return KITE_EINVAL;
        p->len = (size_t)(eq - s);
        if (!(p->uri = strndup(s, p->len)) || !(p->file = strndup(eq + 1, (size_t)(e - eq - 1))))
            return KITE_ENOMEM;
        d->nprot++;
    }
    return 0;
}

const char *kite__http_auth_realm(const kite_vhost_t *vh)
{
    return kite__http_vh(vh)->dauth && kite__http_vh(vh)->dauth->realm
               ? kite__http_vh(vh)->dauth->realm
               : vh->name;
}

int kite__http_dauth_open(kite_vhost_t *vh, const kite_vhost_info_t *info)
{
    struct kite__dauth *d;
    unsigned char rnd[16];
    int i, r;

    if (!info->auth_domain && !info->global_auth_file && !info->protect_uri &&
        !info->put_delete_auth_file)
        return 0;
    if (!(d = kite__http_vh(vh)->dauth = calloc(1, sizeof(*d))))
        return KITE_ENOMEM;
    pthread_mutex_init(&d->lock, NULL);
    d->general = info->auth_domain || info->global_auth_file || info->protect_uri;
    d->nonce_secs = info->auth_nonce_timeout ? info->auth_nonce_timeout : 300;
    if (!(d->realm = strdup(info->auth_domain ? info->auth_domain : vh->name)) ||
        (info->global_auth_file && !(d->global = strdup(info->global_auth_file))))
        return KITE_ENOMEM;
    if (strpbrk(d->realm, "\"\\:\r\n")) {
        kite_err("vhost %s: auth-domain must not contain '\"', '\\', ':' or a newline", vh->name);
        return KITE_EINVAL;
    }
    if (info->protect_uri && (r = add_prot(d, info->protect_uri)) < 0) {
        if (r == KITE_EINVAL)
            kite_err("vhost %s: protect-uri: expected \"/uri=file,...\"", vh->name);
        return r;
    }
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        return KITE_EIO;
    for (i = 0; i < 16; i++)
        sprintf(d->secret + 2 * i, "%02x", rnd[i]);
    return 0;
}

void kite__http_dauth_close(kite_vhost_t *vh)
{
    struct kite__dauth *d = kite__http_vh(vh)->dauth;
    int i;

    if (!d)
        return;
    for (i = 0; i < d->nprot; i++) {
        free(d->prot[i].uri);
        free(d->prot[i].file);
    }
    free(d->prot);
    free(d->realm);
    free(d->global);
    pthread_mutex_destroy(&d->lock);
    free(d);
    kite__http_vh(vh)->dauth = NULL;
}

/* Equal, in a time that does not depend on where they differ. */
static int same(const char *a, const char *b, size_t n)
{
    unsigned char x = 0;
    size_t i;

    for (i = 0; i < n; i++)
        x |= (unsigned char)(a[i] ^ b[i]);
    return !x;
}

/* "tttttttt" "ssssssss" + MD5("secret:tttttttt:ssssssss") in hex (the
 * issue time and a serial number): NONCE_LEN characters. */
static void make_nonce(const struct kite__dauth *d, unsigned long when, unsigned long serial,
                       char out[NONCE_LEN + 1])
{
    char in[80];
    int n = snprintf(in, sizeof(in), "%s:%08lx:%08lx", d->secret, when & 0xffffffffUL,
                     serial & 0xffffffffUL);

    snprintf(out, 17, "%08lx%08lx", when & 0xffffffffUL, serial & 0xffffffffUL);
    kite__md5_hex(in, (size_t)n, out + 16);
}

/* 1: ours and fresh, 0: ours but expired, -1: not ours; *@issued: when. */
static int check_nonce(const struct kite__dauth *d, const char *nonce, uint32_t *issued)
{
    char want[NONCE_LEN + 1], ts[9], sn[9], *e, *e2;
    unsigned long when, serial;

    if (strlen(nonce) != NONCE_LEN)
        return -1;
    memcpy(ts, nonce, 8);
    memcpy(sn, nonce + 8, 8);
    ts[8] = sn[8] = '\0';
    when = strtoul(ts, &e, 16);
    serial = strtoul(sn, &e2, 16);
    if (*e || *e2 || strspn(nonce, "0123456789abcdef") < 16)
        return -1;
    make_nonce(d, when, serial, want);
    if (!same(want, nonce, NONCE_LEN))
        return -1;
    *issued = (uint32_t)when;
    return (uint32_t)((unsigned long)time(NULL) - when) <= d->nonce_secs ? 1 : 0;
}

/*
 * Remember nonce-count @nc of @nonce (issued at @when, fresh, the
 * response right). 1: a new count, go on; 0: treat the nonce as expired;
 * -1: a count not above the last one seen for it, a replay.
 */
static int count_nonce(struct kite__dauth *d, const char *nonce, uint32_t when, uint32_t nc)
{
    uint32_t now = (uint32_t)time(NULL);
    struct seen *e, *free_e = NULL, *oldest = NULL;
    int r = 1, i;

    pthread_mutex_lock(&d->lock);
    for (i = 0; i < SEEN_MAX; i++) {
        e = &d->seen[i];
        if (e->when && (uint32_t)(now - e->when) > d->nonce_secs)
            e->when = 0; /* its nonce has expired: no request can use it again */
        if (!e->when) {
            free_e = free_e ? free_e : e;
            continue;
        }
        if (!memcmp(e->nonce, nonce, NONCE_LEN)) {
            if (nc <= e->nc)
                r = -1;
            else
                e->nc = nc;
            goto out;
        }
        if (!oldest || (int32_t)(e->when - oldest->when) < 0)
            oldest = e;
    }
    if ((int32_t)(when - d->floor) <= 0 && d->floor) {
        r = 0;
        goto out;
    }
    if (!free_e) {
        /* Full: drop the oldest, and with it every nonce as old (see above). */
        if ((int32_t)(when - oldest->when) <= 0) {
            r = 0;
            goto out;
        }
        d->floor = oldest->when;
        free_e = oldest;
    }
    memcpy(free_e->nonce, nonce, NONCE_LEN);
    free_e->when = when;
    free_e->nc = nc;
out:
    pthread_mutex_unlock(&d->lock);
    return r;
}

/* The nc field: 8 hex digits, 1 or more; 0 without qop; -1 when malformed. */
static int64_t nonce_count(const struct creds *c)
{
    char *e;
    unsigned long n;

    if (!c->qop[0])
        return 0;
    if (strlen(c->nc) != 8 || strspn(c->nc, "0123456789abcdefABCDEF") != 8)
        return -1;
    n = strtoul(c->nc, &e, 16);
    return n ? (int64_t)n : -1;
}

/* One name=value or name="value" of the header into @c; returns past it. */
static const char *param(const char *p, struct creds *c)
{
    static const struct {
        const char *name;
        size_t off, cap;
    } fields[] = {
#define F(x) {#x, offsetof(struct creds, x), sizeof(((struct creds *)0)->x)}
        F(username), F(realm), F(nonce),  F(uri),       F(response),
        F(qop),      F(nc),    F(cnonce), F(algorithm),
#undef F
    };
    char *out = NULL;
    size_t nlen = strcspn(p, "= \t,"), cap = 0, n = 0, i;

    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (strlen(fields[i].name) == nlen && !strncasecmp(p, fields[i].name, nlen)) {
            out = (char *)c + fields[i].off;
            cap = fields[i].cap;
        }
    p += nlen;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != '=')
        return p;
    p++;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++) {
            if (*p == '\\' && p[1])
                p++;
            if (out && n + 1 < cap)
                out[n++] = *p;
        }
        if (*p)
            p++;
    } else {
        for (; *p && *p != ',' && *p != ' ' && *p != '\t'; p++)
            if (out && n + 1 < cap)
                out[n++] = *p;
    }
    if (out)
        out[n] = '\0';
    return p;
}

static int parse(const char *h, struct creds *c)
{
    memset(c, 0, sizeof(*c));
    if (!h || strncasecmp(h, "Digest", 6) || (h[6] != ' ' && h[6] != '\t'))
        return -1;
    for (h += 7; *h;) {
        while (*h == ' ' || *h == '\t' || *h == ',')
            h++;
        if (*h)
            h = param(h, c);
    }
    return c->username[0] && c->nonce[0] && c->response[0] && c->uri[0] ? 0 : -1;
}

/* 1 when the response matches, 0 when not. */
static int verify(const kite_http_req_t *t, const struct creds *c, const char *ha1)
{
    char buf[4096], ha2[33], want[33];
    int n;

    n = snprintf(buf, sizeof(buf), "%s:%s", t->p.method, c->uri);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return 0;
    kite__md5_hex(buf, (size_t)n, ha2);
    if (c->qop[0])
        n = snprintf(buf, sizeof(buf), "%s:%s:%s:%s:%s:%s", ha1, c->nonce, c->nc, c->cnonce, c->qop,
                     ha2);
    else
        n = snprintf(buf, sizeof(buf), "%s:%s:%s", ha1, c->nonce, ha2);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return 0;
    kite__md5_hex(buf, (size_t)n, want);
    return strlen(c->response) == 32 && same(want, c->response, 32);
}

static int challenge(kite_conn_t *c, kite_http_req_t *t, struct kite__dauth *d, int stale)
{
    char nonce[NONCE_LEN + 1], h[512];
    int n;

    make_nonce(d, (unsigned long)time(NULL), __atomic_fetch_add(&d->serial, 1, __ATOMIC_RELAXED),
               nonce);
    n = snprintf(h, sizeof(h), "Digest realm=\"%s\", qop=\"auth\", algorithm=MD5, nonce=\"%s\"%s",
                 d->realm, nonce, stale ? ", stale=true" : "");
    kite__http_add_header_n(t, "WWW-Authenticate", h, (size_t)n);
    return kite__http_error(c, t, 401, NULL);
}

/* The password file guarding the request, in @buf if it must be built:
 * the .htpasswd of the directory that holds the requested file. The
 * URL's directory part is not always a directory: with PATH_INFO
 * ("/cgi/env.cgi/extra/pi") or a name that does not exist, the nearest
 * existing directory above it is the one whose file guards the request,
 * so a tail after a script never steps around that script's password. */
static const char *file_for(const struct kite__dauth *d, const kite_http_req_t *t,
                            const kite__mount_rt_t *m, char *buf, size_t cap)
{
    const char *rel = t->mount_path, *slash;
    struct stat st;
    int i, n;

    for (i = 0; i < d->nprot; i++)
        if (!strncmp(t->path, d->prot[i].uri, d->prot[i].len))
            return d->prot[i].file;
    if (d->global)
        return d->global;
    if (!m || m->type != KITE_MOUNT_FILE || !(slash = strrchr(rel, '/')))
        return NULL;
    for (;;) {
        n = snprintf(buf, cap, "%s%.*s", m->root, (int)(slash - rel), rel);
        if (n < 0 || (size_t)n >= cap)
            return NULL;
        if (slash == rel || (stat(buf, &st) == 0 && S_ISDIR(st.st_mode)))
            break;
        while (--slash > rel && *slash != '/')
            ;
    }
    if ((size_t)n + sizeof("/.htpasswd") > cap)
        return NULL;
    memcpy(buf + n, "/.htpasswd", sizeof("/.htpasswd"));
    return buf;
}

/* Digest against @file: 0 to go on (t->auth_user set; or no such file
 * when @need is 0), or the result of the answer sent (*answered set). */
static int check(kite_conn_t *c, kite_http_req_t *t, const char *file, int need, int *answered)
{
    struct kite__dauth *d = kite__http_vh(c->vh)->dauth;
    char ha1[33];
    struct creds cr;
    uint32_t issued = 0;
    int64_t nc;
    int r, fresh;

    *answered = 1;
    if (parse(kite_http_header(t, "Authorization"), &cr) < 0)
        r = kite__htpasswd_ha1(file, "", d->realm, ha1); /* does the file exist at all? */
    else
        r = kite__htpasswd_ha1(file, cr.username, d->realm, ha1);
    if (r == KITE_ENOENT && !need) {
        *answered = 0; /* no password file here: nothing to check */
        return 0;
    }
    if (r == KITE_EACCES || r == KITE_ENOENT) {
        kite_err("vhost %s: password file \"%s\" cannot be read", c->vh->name, file);
        return kite__http_error(c, t, 500, NULL);
    }
    if (!cr.username[0] || r < 0 || strcmp(cr.realm, d->realm) || strcmp(cr.uri, t->p.target) ||
        (cr.algorithm[0] && strcasecmp(cr.algorithm, "MD5")) ||
        (cr.qop[0] && strcmp(cr.qop, "auth")) || (nc = nonce_count(&cr)) < 0 ||
        (fresh = check_nonce(d, cr.nonce, &issued)) < 0 || !verify(t, &cr, ha1))
        return challenge(c, t, d, 0);
    if (fresh && !(t->tflags & KITE__T_NC_DONE) &&
        (fresh = count_nonce(d, cr.nonce, issued, (uint32_t)nc)) < 0) {
        kite_notice("vhost %s: digest: user \"%s\" nonce count %s replayed", c->vh->name,
                    cr.username, cr.qop[0] ? cr.nc : "(none)");
        return challenge(c, t, d, 0);
    }
    if (!fresh)
        return challenge(c, t, d, 1);
    t->tflags |= KITE__T_NC_DONE;
    if (kite__http_txn_set_user(t, cr.username) < 0)
        return kite__http_error(c, t, 500, NULL);
    t->tflags |= KITE__T_DIGEST; /* CGI's AUTH_TYPE */
    *answered = 0;
    return 0;
}

int kite__http_digest(kite_conn_t *c, kite_http_req_t *t, const kite__mount_rt_t *m, int *answered)
{
    const struct kite__dauth *d = kite__http_vh(c->vh)->dauth;
    const char *file, *base = strrchr(t->path, '/');
    char path[PATH_MAX];

    *answered = 0;
    if (!d->general)
        return 0;
    if (base && !strcmp(base, "/.htpasswd")) {
        *answered = 1;
        return kite__http_error(c, t, 404, NULL);
    }
    if (!(file = file_for(d, t, m, path, sizeof(path))))
        return 0;
    return check(c, t, file, 0, answered);
}

int kite__http_digest_file(kite_conn_t *c, kite_http_req_t *t, const char *file, int *answered)
{
    return check(c, t, file, 1, answered);
}
