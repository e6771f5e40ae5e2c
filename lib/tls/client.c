/*
 * The client side of TLS: settings per CA bundle, shared by the client
 * connections of a context (parsing a system bundle of a hundred and
 * more certificates once, not per connection), the start of a client
 * handshake with SNI and the host name to check, the certificate
 * allowances a connection asked for (self-signed, any name, nothing
 * checked), and the report of how the handshake ended to the role.
 * Also the random bytes WebSocket clients need for keys and masks.
 */
#include <mbedtls/error.h>
#include <mbedtls/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules.h"
#include "tls/private-tls.h"

#define SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"

typedef struct kite__tls_ccfg {
    struct kite__tls_ccfg *next;
    kite_context_t *ctx;
    atomic_int refs; /* the context's list holds one */
    char *ca;        /* the bundle's path */
    mbedtls_ssl_config conf;
    mbedtls_x509_crt chain;
    kite__tls_group_t groups[KITE__TLS_NGROUPS_DEFAULT];
} kite__tls_ccfg_t;

/* A context's client settings, few and made once each: the tls slot of
 * the context (ctx->mod[KITE__SLOT_TLS]), made with it. Service threads
 * look them up, hence the lock. */
struct ccfg_list {
    pthread_mutex_t lock;
    kite__tls_ccfg_t *all;
};

int kite__random(void *buf, size_t len)
{
    if (kite__tls_global_init() < 0 || kite__tls_rng(NULL, buf, len))
        return KITE_EIO;
    return 0;
}

void kite__tls_ccfg_put(kite__tls_ccfg_t *t)
{
    if (!t || atomic_fetch_sub(&t->refs, 1) != 1)
        return;
    mbedtls_ssl_config_free(&t->conf);
    mbedtls_x509_crt_free(&t->chain);
    free(t->ca);
    free(t);
}

static kite__tls_ccfg_t *ccfg_new(kite_context_t *ctx, const char *ca)
{
    kite__tls_ccfg_t *t = calloc(1, sizeof(*t));
    int r;

    if (!t || !(t->ca = strdup(ca))) {
        free(t);
        return NULL;
    }
    t->ctx = ctx;
    atomic_init(&t->refs, 1);
    mbedtls_ssl_config_init(&t->conf);
    mbedtls_x509_crt_init(&t->chain);
    /* A bundle may hold a certificate mbedTLS cannot parse: r > 0 counts
     * those, and the rest are still used. */
    if ((r = mbedtls_x509_crt_parse_file(&t->chain, ca)) < 0) {
        kite__tls_log_err("client CA bundle", ca, r);
        goto fail;
    }
    if ((r = mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_CLIENT,
                                         MBEDTLS_SSL_TRANSPORT_STREAM,
                                         MBEDTLS_SSL_PRESET_DEFAULT))) {
        kite__tls_log_err("client settings", NULL, r);
        goto fail;
    }
    mbedtls_ssl_conf_rng(&t->conf, kite__tls_rng, NULL);
    kite__ssl_conf_versions(&t->conf, 0x0303, KITE__TLS_VER_HIGHEST);
    kite__tls_default_groups(t->groups);
    kite__ssl_conf_groups(&t->conf, t->groups);
    mbedtls_ssl_conf_renegotiation(&t->conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
    mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&t->conf, &t->chain, NULL);
    return t;
fail:
    kite__tls_ccfg_put(t);
    return NULL;
}

/* A reference on @ctx's settings for @ca, made on first use. */
static kite__tls_ccfg_t *ccfg_get(kite_context_t *ctx, const char *ca)
{
    struct ccfg_list *l = ctx->mod[KITE__SLOT_TLS];
    kite__tls_ccfg_t *t;

    pthread_mutex_lock(&l->lock);
    for (t = l->all; t; t = t->next)
        if (!strcmp(t->ca, ca))
            break;
    if (!t && (t = ccfg_new(ctx, ca))) {
        t->next = l->all;
        l->all = t;
    }
    if (t)
        atomic_fetch_add(&t->refs, 1);
    pthread_mutex_unlock(&l->lock);
    return t;
}

int kite__tls_clients_init(kite_context_t *ctx, const kite_context_info_t *info)
{
    struct ccfg_list *l = calloc(1, sizeof(*l));

    (void)info;
    if (!l)
        return KITE_ENOMEM;
    pthread_mutex_init(&l->lock, NULL);
    ctx->mod[KITE__SLOT_TLS] = l;
    return 0;
}

void kite__tls_clients_free(kite_context_t *ctx)
{
    struct ccfg_list *l = ctx->mod[KITE__SLOT_TLS];
    kite__tls_ccfg_t *t;

    if (!l)
        return;
    while ((t = l->all)) {
        l->all = t->next;
        kite__tls_ccfg_put(t);
    }
    pthread_mutex_destroy(&l->lock);
    free(l);
    ctx->mod[KITE__SLOT_TLS] = NULL;
}

/* Clear the problems this connection was allowed to have. */
static int verify(void *p, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    kite__tls_conn_t *tc = p;

    (void)crt;
    (void)depth;
    if (tc->vflags & KITE_CLIENT_INSECURE)
        *flags = 0;
    if (tc->vflags & KITE_CLIENT_ALLOW_SELFSIGNED)
        *flags &= ~(uint32_t)MBEDTLS_X509_BADCERT_NOT_TRUSTED;
    if (tc->vflags & KITE_CLIENT_SKIP_HOST_CHECK)
        *flags &= ~(uint32_t)MBEDTLS_X509_BADCERT_CN_MISMATCH;
    return 0;
}

int kite__tls_client_start(kite_conn_t *c, const char *name, const char *ca, unsigned flags)
{
    kite__tls_conn_t *tc;
    int r;

    if (kite__tls_global_init() < 0)
        return KITE_EIO;
    if (!c->pt->tls && !(c->pt->tls = malloc(sizeof(*c->pt->tls))))
        return KITE_ENOMEM;
    c->pt->tls->out_len = c->pt->tls->rwin_len = 0;
    if (!(tc = calloc(1, sizeof(*tc))))
        return KITE_ENOMEM;
    tc->xp.ops = &kite__tls_ops;
    tc->c = c;
    tc->client = 1;
    tc->started = 1;
    tc->vflags = flags;
    mbedtls_ssl_init(&tc->ssl);
    c->xp = &tc->xp;
    if (!(tc->ccfg = ccfg_get(c->pt->ctx, ca ? ca : SYSTEM_CA)))
        return KITE_EINVAL; /* the conn's close frees tc */
    if ((r = mbedtls_ssl_setup(&tc->ssl, &tc->ccfg->conf)) ||
        (name && (r = mbedtls_ssl_set_hostname(&tc->ssl, name)))) {
        kite__tls_log_err("client tls setup", name, r);
        return KITE_ENOMEM;
    }
    mbedtls_ssl_set_verify(&tc->ssl, verify, tc);
    mbedtls_ssl_set_bio(&tc->ssl, tc, kite__tls_bio_send, kite__tls_bio_recv, NULL);
    /* The client speaks first: the ClientHello goes out now. */
    r = mbedtls_ssl_handshake(&tc->ssl);
    if (r && r != MBEDTLS_ERR_SSL_WANT_READ) {
        kite__tls_log_err("client handshake", name, r);
        return KITE_EPROTO;
    }
    return kite__tls_emit(tc);
}

int kite__tls_client_done(kite__tls_conn_t *tc, int err)
{
    kite_conn_t *c = tc->c;
    char why[200];

    /* A raw conn kite connected itself (Lua's connect) has no on_connect:
     * its writes wait for the handshake (kite__tls_ready), and a failed
     * one closes it. */
    if (!c->role->on_connect) {
        if (err)
            return KITE_EPROTO;
        kite_callback_on_writable(c);
        return 0;
    }
    if (!err) {
        c->role->on_connect(c, 0, NULL);
        return 0;
    }
    if (err == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
        char v[160];
        int n =
            mbedtls_x509_crt_verify_info(v, sizeof(v), "", mbedtls_ssl_get_verify_result(&tc->ssl));
        /* The first reason only, without its newline. */
        v[n > 0 ? strcspn(v, "\n") : 0] = '\0';
        snprintf(why, sizeof(why), "tls: certificate verification failed: %s", v);
    } else {
        char e[160];
        mbedtls_strerror(err, e, sizeof(e));
        snprintf(why, sizeof(why), "tls: handshake failed: %s", e);
    }
    c->role->on_connect(c, KITE_EPROTO, why);
    return KITE_EPROTO;
}

int kite__tls_ready(const kite_conn_t *c)
{
    return c->xp == &kite__xport_tcp || KITE__TC(c)->hs_done;
}
