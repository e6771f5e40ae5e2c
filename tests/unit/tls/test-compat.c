/*
 * lib/tls/compat.h, the one place where mbedTLS 2.28 and 3.x differ for
 * kite, checked against the mbedTLS this build uses: crypto starts, a key
 * file parses and matches its certificate (and not another's), the
 * protocol versions it has (TLS 1.3 only on 3.x, nothing below 1.2 there),
 * group ids mapped from IANA's (an unknown one is none), and the
 * sign-in-place conversion leaves a P-256 signing key (made ECDSA on
 * 2.28, unchanged on 3.x).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tls/compat.h"
#include "kite.h"
#include "tap.h"

static void versions(void)
{
    mbedtls_ssl_config conf;
    int v3 = MBEDTLS_VERSION_NUMBER >= 0x03000000;
    kite__tls_group_t groups[3] = {kite__tls_group(23), kite__tls_group(29), 0};

    tap_is_int(KITE__TLS_VER_HIGHEST, v3 ? 0x0304 : 0x0303, "the newest version on mbedTLS %s",
               MBEDTLS_VERSION_STRING);
    tap_is_int(KITE__TLS_VER_LOWEST, v3 ? 0x0303 : 0x0301, "the oldest");
    tap_ok(groups[0] != 0, "P-256 (IANA 23) is a group this mbedTLS has");
    tap_ok(kite__tls_group(0x1234) == 0, "an unknown group id is none");
    mbedtls_ssl_config_init(&conf);
    mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                MBEDTLS_SSL_PRESET_DEFAULT);
    kite__ssl_conf_versions(&conf, KITE__TLS_VER_LOWEST, KITE__TLS_VER_HIGHEST);
    kite__ssl_conf_groups(&conf, groups);
    mbedtls_ssl_config_free(&conf);
}

int main(void)
{
    char dir[] = "/tmp/kite-tls-compat-XXXXXX", crt1[64], key1[64], crt2[64], key2[64];
    mbedtls_x509_crt c1, c2;
    mbedtls_pk_context k1;

    kite_set_log_level(0, NULL);
    tap_is_int(kite__tls_crypto_init(), 0, "crypto starts");
    versions();
    if (!mkdtemp(dir))
        return tap_done();
    snprintf(crt1, sizeof(crt1), "%s/1.crt", dir);
    snprintf(key1, sizeof(key1), "%s/1.key", dir);
    snprintf(crt2, sizeof(crt2), "%s/2.crt", dir);
    snprintf(key2, sizeof(key2), "%s/2.key", dir);
    tap_ok(!kite_tls_selfsigned_create(crt1, key1, "one.test", 2) &&
               !kite_tls_selfsigned_create(crt2, key2, "two.test", 2),
           "two self-signed certificates");
    mbedtls_x509_crt_init(&c1);
    mbedtls_x509_crt_init(&c2);
    mbedtls_pk_init(&k1);
    tap_is_int(kite__pk_parse_keyfile(&k1, key1), 0, "a key file parses");
    tap_ok(!mbedtls_x509_crt_parse_file(&c1, crt1) && !mbedtls_x509_crt_parse_file(&c2, crt2),
           "the certificates parse");
    tap_is_int(kite__pk_check_pair(&c1.pk, &k1), 0, "the key matches its certificate");
    tap_ok(kite__pk_check_pair(&c2.pk, &k1) != 0, "and not another's");
    tap_is_int(kite__pk_sign_in_place(&k1), 0, "sign in place");
    tap_is_int(mbedtls_pk_get_type(&k1),
               MBEDTLS_VERSION_NUMBER >= 0x03000000 ? MBEDTLS_PK_ECKEY : MBEDTLS_PK_ECDSA,
               "the key's type after it");
    tap_ok(mbedtls_pk_can_do(&k1, MBEDTLS_PK_ECDSA) && mbedtls_pk_get_bitlen(&k1) == 256,
           "an ECDSA P-256 key still");
    tap_is_int(kite__pk_sign_in_place(&k1), 0, "twice is harmless");
    mbedtls_pk_free(&k1);
    mbedtls_x509_crt_free(&c1);
    mbedtls_x509_crt_free(&c2);
    unlink(crt1);
    unlink(key1);
    unlink(crt2);
    unlink(key2);
    rmdir(dir);
    return tap_done();
}
