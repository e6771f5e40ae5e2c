/*
 * The TLS settings of a vhost: its certificate (RSA or ECDSA) with the
 * chain from the certificate file and host-ssl-ca, the key checked
 * against it, the cipher suites, ALPN, the key exchange groups and no
 * renegotiation (the cipher list is read in ciphers.c). Also what every
 * TLS object shares: one random generator and the choice of vhost by SNI
 * among those on a port.
 */
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "misc/misc.h"
#include "tls/private-tls.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int init_status;
static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;

static void global_init(void)
{
    static const unsigned char pers[] = "kite";

    if (kite__tls_crypto_init() < 0) {
        init_status = KITE_EIO;
        return;
    }
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    /* mbedTLS is built with its threading layer: the generator locks itself,
     * so the service threads share it. */
    if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, pers, sizeof(pers) - 1))
        init_status = KITE_EIO;
}

int kite__tls_global_init(void)
{
    pthread_once(&once, global_init);
    if (init_status < 0)
        kite_err("tls: cannot seed the random generator");
    return init_status;
}

int kite__tls_rng(void *p, unsigned char *out, size_t len)
{
    (void)p;
    return mbedtls_ctr_drbg_random(&drbg, out, len);
}

void kite__tls_log_err(const char *what, const char *name, int err)
{
    char buf[160];

    mbedtls_strerror(err, buf, sizeof(buf));
    kite_err("%s%s%s: %s (-0x%04x)", what, name ? " " : "", name ? name : "", buf, (unsigned)-err);
}

static int name_match(const char *pat, const char *name, size_t len)
{
    size_t n = strlen(pat);
    const char *dot;

    if (n == len && !kite__strncasecmp(pat, name, len))
        return 1;
    /* "*.example.org" covers one label: "a.example.org", not "a.b.example.org". */
    if (n < 3 || pat[0] != '*' || pat[1] != '.' || !(dot = memchr(name, '.', len)) || dot == name)
        return 0;
    return (size_t)(name + len - dot) == n - 1 && !kite__strncasecmp(pat + 1, dot, n - 1) ? 2 : 0;
}

kite_vhost_t *kite__tls_sni_vhost(const kite__listener_t *ls, const char *name, size_t len)
{
    kite_vhost_t *wild = NULL;
    int i, m;

    for (i = 0; i < ls->nvhosts; i++) {
        if (!ls->vhosts[i]->tls)
            continue;
        m = name_match(ls->vhosts[i]->name, name, len);
        if (m == 1)
            return ls->vhosts[i];
        if (m == 2 && !wild)
            wild = ls->vhosts[i];
    }
    return wild;
}

/* Another vhost on the connection's port named by the client's SNI:
 * present its certificate and serve the connection from it. */
static int on_sni(void *p, mbedtls_ssl_context *ssl, const unsigned char *name, size_t len)
{
    kite__tls_conn_t *tc = (kite__tls_conn_t *)((char *)ssl - offsetof(kite__tls_conn_t, ssl));
    kite_conn_t *c = tc->c;
    kite_vhost_t *vh;

    (void)p;
    if (!c->ls || !(vh = kite__tls_sni_vhost(c->ls, (const char *)name, len)) || vh == tc->cfg_vh ||
        tc->sni)
        return 0;
    kite__conn_set_vhost(c, vh);
    tc->sni = kite__tls_cfg_get(vh);
    kite__tls_sni_auth(ssl, tc->sni);
    return mbedtls_ssl_set_hs_own_cert(ssl, &tc->sni->crt, &tc->sni->pk);
}

static int load(kite_vhost_t *vh, kite__tls_cfg_t *t, const kite_vhost_info_t *info)
{
    int r;

    if ((r = mbedtls_x509_crt_parse_file(&t->crt, info->tls_cert))) {
        kite__tls_log_err("certificate", info->tls_cert, r);
        return KITE_EINVAL;
    }
    if (info->tls_ca && (r = mbedtls_x509_crt_parse_file(&t->crt, info->tls_ca))) {
        kite__tls_log_err("CA chain", info->tls_ca, r);
        return KITE_EINVAL;
    }
    if ((r = kite__pk_parse_keyfile(&t->pk, info->tls_key))) {
        kite__tls_log_err("private key", info->tls_key, r);
        return KITE_EINVAL;
    }
    if ((r = kite__pk_check_pair(&t->crt.pk, &t->pk))) {
        kite_err("vhost %s: private key %s does not match certificate %s", vh->name, info->tls_key,
                 info->tls_cert);
        return KITE_EINVAL;
    }
    if ((r = kite__pk_sign_in_place(&t->pk))) {
        kite__tls_log_err("private key", info->tls_key, r);
        return KITE_EINVAL;
    }
    return 0;
}

/* The versions asked for (0: TLS 1.2 up to the newest this mbedTLS has),
 * less those the option bits @ops turn off, within what this mbedTLS has:
 * a configuration written for the other library still starts, told what
 * changes. Less than asked for is refused. */
static int versions(kite_vhost_t *vh, kite__tls_cfg_t *t, const kite_vhost_info_t *info,
                    unsigned long ops)
{
    static const unsigned long off[] = {KITE__SSL_OP_NO_TLSv1, KITE__SSL_OP_NO_TLSv1_1,
                                        KITE__SSL_OP_NO_TLSv1_2, KITE__SSL_OP_NO_TLSv1_3};
    unsigned lo = info->tls_min_version ? info->tls_min_version : 0x0303;
    unsigned hi = info->tls_max_version ? info->tls_max_version : KITE__TLS_VER_HIGHEST;

    while (lo <= hi && lo >= 0x0301 && lo <= 0x0304 && (ops & off[lo - 0x0301]))
        lo++;
    while (hi >= lo && hi >= 0x0301 && hi <= 0x0304 && (ops & off[hi - 0x0301]))
        hi--;
    if (lo < KITE__TLS_VER_LOWEST && lo <= hi) {
        kite_notice("vhost %s: mbedTLS " MBEDTLS_VERSION_STRING " has no TLS 1.%u: TLS 1.%u is "
                    "the lowest version offered",
                    vh->name, (lo & 0xff) - 1, (KITE__TLS_VER_LOWEST & 0xff) - 1);
        lo = KITE__TLS_VER_LOWEST;
    }
    if (hi > KITE__TLS_VER_HIGHEST && lo <= KITE__TLS_VER_HIGHEST) {
        kite_notice("vhost %s: TLS 1.3 needs mbedTLS 3.6 (this is " MBEDTLS_VERSION_STRING
                    "): up to TLS 1.2",
                    vh->name);
        hi = KITE__TLS_VER_HIGHEST;
    }
    if (lo > hi || hi > KITE__TLS_VER_HIGHEST || lo < 0x0301) {
        kite_err("vhost %s: mbedTLS " MBEDTLS_VERSION_STRING " cannot do TLS versions 0x%04x to "
                 "0x%04x%s",
                 vh->name, lo, hi, lo >= 0x0304 ? " (TLS 1.3 needs mbedTLS 3.6)" : "");
        return KITE_EINVAL;
    }
    if (lo < 0x0303 && !info->tls_ciphers)
        kite_warn("vhost %s: TLS 1.%u is let in, but the default suites (AEAD) are TLS 1.2 and "
                  "up: \"ciphers\" must name suites it has",
                  vh->name, (lo & 0xff) - 1);
    kite__ssl_conf_versions(&t->conf, lo, hi);
    return 0;
}

/* Everything but the files: protocol versions, groups, ALPN, SNI,
 * resumption, ciphers, client certificates. */
static int configure(kite_vhost_t *vh, kite__tls_cfg_t *t, const kite_vhost_info_t *info)
{
    unsigned long ops = kite__tls_ssl_options(vh, info);
    int r;

    if ((r = mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_SERVER,
                                         MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT)))
        goto fail;
    mbedtls_ssl_conf_rng(&t->conf, kite__tls_rng, NULL);
    if ((r = versions(vh, t, info, ops)) < 0 || (r = kite__tls_groups(vh, t, info)) < 0 ||
        (r = kite__tls_ciphers(vh, t, info)) < 0)
        return r;
    mbedtls_ssl_conf_renegotiation(&t->conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
    if ((r = mbedtls_ssl_conf_own_cert(&t->conf, &t->crt, &t->pk)))
        goto fail;
    /* Only what kite speaks is offered, in our order of preference (which
     * mbedTLS follows). */
    r = 0;
    if (!(vh->options & KITE_VH_NO_H2))
        t->alpn[r++] = "h2";
    t->alpn[r++] = "http/1.1";
    t->alpn[r++] = "http/1.0";
    t->alpn[r] = NULL;
    if ((r = mbedtls_ssl_conf_alpn_protocols(&t->conf, t->alpn)))
        goto fail;
    mbedtls_ssl_conf_sni(&t->conf, on_sni, NULL);
    mbedtls_ssl_conf_session_cache(&t->conf, &t->cache, mbedtls_ssl_cache_get,
                                   mbedtls_ssl_cache_set);
    /* Tickets are sealed with a key of these settings, made now and rotated
     * daily by mbedTLS: a restart or a reload ends resumption, no more.
     * TLS 1.3 resumes by ticket only; there is no 0-RTT (early data is off
     * by default in mbedTLS and kite does not turn it on). */
    if (!(ops & KITE__SSL_OP_NO_TICKET)) {
        if ((r = mbedtls_ssl_ticket_setup(&t->ticket, kite__tls_rng, NULL,
                                          MBEDTLS_CIPHER_AES_256_GCM, 86400)))
            goto fail;
        mbedtls_ssl_conf_session_tickets_cb(&t->conf, mbedtls_ssl_ticket_write,
                                            mbedtls_ssl_ticket_parse, &t->ticket);
    }
    return kite__tls_client_auth(vh, t, info);
fail:
    kite__tls_log_err("vhost", vh->name, r);
    return KITE_EINVAL;
}

kite__tls_cfg_t *kite__tls_cfg_new(kite_vhost_t *vh, const kite_vhost_info_t *info, int *err)
{
    kite__tls_cfg_t *t = calloc(1, sizeof(*t));

    if (!t) {
        *err = KITE_ENOMEM;
        return NULL;
    }
    atomic_init(&t->refs, 1);
    t->options = info->tls_options;
    mbedtls_ssl_config_init(&t->conf);
    mbedtls_x509_crt_init(&t->crt);
    mbedtls_pk_init(&t->pk);
    mbedtls_x509_crt_init(&t->ca);
    mbedtls_ssl_cache_init(&t->cache);
    mbedtls_ssl_ticket_init(&t->ticket);
    if ((*err = load(vh, t, info)) < 0 || (*err = configure(vh, t, info)) < 0) {
        kite__tls_cfg_put(t);
        return NULL;
    }
    return t;
}

void kite__tls_cfg_put(kite__tls_cfg_t *t)
{
    if (!t || atomic_fetch_sub(&t->refs, 1) != 1)
        return;
    mbedtls_ssl_config_free(&t->conf);
    mbedtls_x509_crt_free(&t->crt);
    mbedtls_pk_free(&t->pk);
    mbedtls_x509_crt_free(&t->ca);
    mbedtls_ssl_cache_free(&t->cache);
    mbedtls_ssl_ticket_free(&t->ticket);
    free(t->ciphers);
    free(t);
}
