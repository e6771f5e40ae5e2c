/*
 * kite_tls_selfsigned_create(): a fresh ECDSA P-256 key and a self-signed
 * certificate for it, as kite-test-server -s makes for itself (P-256
 * rather than RSA: signing is what a TLS server spends its handshakes on,
 * and mbedTLS's RSA is slow at it).
 */
#include <errno.h>
#include <fcntl.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tls/private-tls.h"

#define PEM_MAX 4096

/* subjectAltName: DNS:@name, IP:127.0.0.1, IP:::1 (DER, lengths < 128). */
static size_t san_der(unsigned char *d, const char *name)
{
    static const unsigned char ips[] = {0x87, 4, 127, 0, 0, 1, 0x87, 16, 0, 0, 0, 0,
                                        0,    0, 0,   0, 0, 0, 0,    0,  0, 0, 0, 1};
    size_t n = strlen(name), len = 2 + n + sizeof(ips);

    d[0] = 0x30;
    d[1] = (unsigned char)len;
    d[2] = 0x82;
    d[3] = (unsigned char)n;
    memcpy(d + 4, name, n);
    memcpy(d + 4 + n, ips, sizeof(ips));
    return 2 + len;
}

static int write_file(const char *path, const unsigned char *pem, int mode)
{
    char tmp[4096];
    size_t len = strlen((const char *)pem);
    int fd, e = 0;

    if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid()) >= (int)sizeof(tmp))
        return KITE_ENAMETOOLONG;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -errno;
    if (write(fd, pem, len) != (ssize_t)len)
        e = errno ? -errno : KITE_EIO;
    if (close(fd) < 0 && !e)
        e = -errno;
    if (!e && rename(tmp, path) < 0)
        e = -errno;
    if (e)
        unlink(tmp);
    return e;
}

static void validity(char *from, char *to, unsigned days)
{
    time_t now = time(NULL), a = now - 86400, b = now + (time_t)days * 86400;
    struct tm tm;

    strftime(from, 16, "%Y%m%d%H%M%S", gmtime_r(&a, &tm));
    strftime(to, 16, "%Y%m%d%H%M%S", gmtime_r(&b, &tm));
}

int kite_tls_selfsigned_create(const char *cert_path, const char *key_path, const char *name,
                               unsigned days)
{
    mbedtls_pk_context key;
    mbedtls_x509write_cert crt;
    unsigned char pem[PEM_MAX], serial[16], san[256];
    char dn[256], from[16], to[16];
    int r = KITE_EIO;

    if (!name || strlen(name) > 200)
        return KITE_EINVAL;
    if (kite__tls_global_init() < 0)
        return KITE_EIO;
    mbedtls_pk_init(&key);
    mbedtls_x509write_crt_init(&crt);
    if (mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) ||
        mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key), kite__tls_rng, NULL) ||
        kite__tls_rng(NULL, serial, sizeof(serial)))
        goto cleanup;
    serial[0] &= 0x7f; /* a positive serial number */
    snprintf(dn, sizeof(dn), "CN=%s,O=kite", name);
    validity(from, to, days);
    mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&crt, &key);
    mbedtls_x509write_crt_set_issuer_key(&crt, &key);
    if (mbedtls_x509write_crt_set_subject_name(&crt, dn) ||
        mbedtls_x509write_crt_set_issuer_name(&crt, dn) ||
        kite__x509write_serial(&crt, serial, sizeof(serial)) ||
        mbedtls_x509write_crt_set_validity(&crt, from, to) ||
        mbedtls_x509write_crt_set_basic_constraints(&crt, 1, 0) ||
        mbedtls_x509write_crt_set_subject_key_identifier(&crt) ||
        mbedtls_x509write_crt_set_extension(&crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                            MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, san,
                                            san_der(san, name)))
        goto cleanup;
    if (mbedtls_pk_write_key_pem(&key, pem, sizeof(pem)) ||
        (r = write_file(key_path, pem, 0600)) < 0)
        goto cleanup;
    r = KITE_EIO;
    if (mbedtls_x509write_crt_pem(&crt, pem, sizeof(pem), kite__tls_rng, NULL))
        goto cleanup;
    r = write_file(cert_path, pem, 0644);
cleanup:
    mbedtls_x509write_crt_free(&crt);
    mbedtls_pk_free(&key);
    return r;
}
