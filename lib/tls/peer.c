/*
 * Client certificates: a vhost with KITE_TLS_CLIENT_CERT_REQUIRED asks for
 * one, verifies it against its tls_ca and the CAs of tls_ca_path with a
 * limit on the CAs above it,
 * and fails the handshake without one. Handlers read the subject with
 * kite_conn_tls_peer().
 */
#include <mbedtls/x509.h>

#include "tls/private-tls.h"

#define DEFAULT_DEPTH 9

/* mbedTLS calls this for each certificate of the chain, the client's own
 * at depth 0: a chain longer than allowed fails like a bad signature. */
static int check_depth(void *p, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    const kite__tls_cfg_t *t = p;

    (void)crt;
    if (depth > t->depth)
        *flags |= MBEDTLS_X509_BADCERT_OTHER;
    return 0;
}

/* Every PEM file of @dir joins the CAs. A file that is not a certificate
 * is skipped with a warning (CA directories often hold other things); a
 * directory that gives no CA at all is an error. */
static int ca_path(kite_vhost_t *vh, kite__tls_cfg_t *t, const char *dir)
{
    const mbedtls_x509_crt *c;
    int r, n = 0;

    r = mbedtls_x509_crt_parse_path(&t->ca, dir);
    if (r < 0) {
        kite__tls_log_err("client CA directory", dir, r);
        return KITE_EINVAL;
    }
    if (r > 0)
        kite_warn("vhost %s: %s: %d file(s) that are not PEM certificates skipped", vh->name, dir,
                  r);
    for (c = &t->ca; c && c->raw.len; c = c->next)
        n++;
    if (!n) {
        kite_err("vhost %s: client CA directory %s holds no certificate", vh->name, dir);
        return KITE_EINVAL;
    }
    return 0;
}

int kite__tls_client_auth(kite_vhost_t *vh, kite__tls_cfg_t *t, const kite_vhost_info_t *info)
{
    int r;

    if (!(info->tls_options & KITE_TLS_CLIENT_CERT_REQUIRED))
        return 0;
    if (!info->tls_ca && !info->tls_ca_path) {
        kite_err("vhost %s: client certificates need a CA to check them (tls_ca or tls_ca_path)",
                 vh->name);
        return KITE_EINVAL;
    }
    if (info->tls_ca && (r = mbedtls_x509_crt_parse_file(&t->ca, info->tls_ca))) {
        kite__tls_log_err("client CA", info->tls_ca, r);
        return KITE_EINVAL;
    }
    if (info->tls_ca_path && (r = ca_path(vh, t, info->tls_ca_path)) < 0)
        return r;
    t->depth = info->tls_verify_depth ? (int)info->tls_verify_depth : DEFAULT_DEPTH;
    mbedtls_ssl_conf_ca_chain(&t->conf, &t->ca, NULL);
    mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_verify(&t->conf, check_depth, t);
    return 0;
}

void kite__tls_sni_auth(mbedtls_ssl_context *ssl, kite__tls_cfg_t *t)
{
    if (!(t->options & KITE_TLS_CLIENT_CERT_REQUIRED)) {
        mbedtls_ssl_set_hs_authmode(ssl, MBEDTLS_SSL_VERIFY_NONE);
        return;
    }
    mbedtls_ssl_set_hs_ca_chain(ssl, &t->ca, NULL);
    mbedtls_ssl_set_hs_authmode(ssl, MBEDTLS_SSL_VERIFY_REQUIRED);
}

int kite_conn_tls_peer(const kite_conn_t *c, char *buf, size_t len)
{
    const mbedtls_x509_crt *crt;
    int n;

    c = kite__conn_sock(c);
    if (c->xp == &kite__xport_tcp)
        return KITE_ENOTSUP;
    crt = mbedtls_ssl_get_peer_cert(&KITE__TC(c)->ssl);
    if (!crt)
        return KITE_ENOENT;
    n = mbedtls_x509_dn_gets(buf, len, &crt->subject);
    return n < 0 ? KITE_E2BIG : n;
}
