/*
 * The few places where mbedTLS 2.28 (Debian's) and 3.x differ in the API
 * subset kite uses, in one place: everything else in lib/tls calls
 * mbedTLS directly and must build on both.
 */
#ifndef KITE_TLS_COMPAT_H
#define KITE_TLS_COMPAT_H

#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>

/* lib/tls/ctx.c: the one random generator (a locked CTR-DRBG). */
int kite__tls_rng(void *p, unsigned char *out, size_t len);

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#include <psa/crypto.h>

/* 3.x does its hashing through PSA, which must be started first. */
static inline int kite__tls_crypto_init(void)
{
    return psa_crypto_init() == PSA_SUCCESS ? 0 : -1;
}

static inline int kite__pk_parse_keyfile(mbedtls_pk_context *pk, const char *path)
{
    return mbedtls_pk_parse_keyfile(pk, path, NULL, kite__tls_rng, NULL);
}

static inline int kite__pk_check_pair(const mbedtls_pk_context *pub, const mbedtls_pk_context *prv)
{
    return mbedtls_pk_check_pair(pub, prv, kite__tls_rng, NULL);
}

/* Key exchange groups as the library takes them: 3.x by their IANA ids. */
typedef uint16_t kite__tls_group_t;

/* @iana: a group's TLS id; 0 when this mbedTLS cannot do it. */
static inline kite__tls_group_t kite__tls_group(uint16_t iana)
{
    return mbedtls_ecp_curve_info_from_tls_id(iana) ? iana : 0;
}

/* @g: 0-terminated, kept as long as @conf. */
static inline void kite__ssl_conf_groups(mbedtls_ssl_config *conf, const kite__tls_group_t *g)
{
    mbedtls_ssl_conf_groups(conf, g);
}

/* The TLS 1.3 suites, best first: all three are AEAD with forward secrecy;
 * AES-128-GCM costs least with AES-NI. 2.28 has none. */
#define KITE__TLS13_SUITES                                                                         \
    MBEDTLS_TLS1_3_AES_128_GCM_SHA256, MBEDTLS_TLS1_3_AES_256_GCM_SHA384,                          \
        MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,

/* The protocol versions this mbedTLS has, as on the wire. */
#define KITE__TLS_VER_LOWEST  0x0303
#define KITE__TLS_VER_HIGHEST 0x0304

/* @min .. @max: wire versions within the two above (ctx.c checks). */
static inline void kite__ssl_conf_versions(mbedtls_ssl_config *conf, unsigned min, unsigned max)
{
    mbedtls_ssl_conf_min_tls_version(conf, (mbedtls_ssl_protocol_version)min);
    mbedtls_ssl_conf_max_tls_version(conf, (mbedtls_ssl_protocol_version)max);
}

static inline int kite__x509write_serial(mbedtls_x509write_cert *w, const unsigned char *s,
                                         size_t n)
{
    return mbedtls_x509write_crt_set_serial_raw(w, (unsigned char *)s, n);
}

/* 3.x keeps the parsed key as it is (see the 2.28 version below). */
static inline int kite__pk_sign_in_place(mbedtls_pk_context *pk)
{
    (void)pk;
    return 0;
}
#else
static inline int kite__tls_crypto_init(void)
{
    return 0;
}

static inline int kite__pk_parse_keyfile(mbedtls_pk_context *pk, const char *path)
{
    return mbedtls_pk_parse_keyfile(pk, path, NULL);
}

static inline int kite__pk_check_pair(const mbedtls_pk_context *pub, const mbedtls_pk_context *prv)
{
    return mbedtls_pk_check_pair(pub, prv);
}

/* 2.28 takes its own curve ids. */
typedef mbedtls_ecp_group_id kite__tls_group_t;

static inline kite__tls_group_t kite__tls_group(uint16_t iana)
{
    const mbedtls_ecp_curve_info *i = mbedtls_ecp_curve_info_from_tls_id(iana);

    return i ? i->grp_id : MBEDTLS_ECP_DP_NONE;
}

/* @g: MBEDTLS_ECP_DP_NONE-terminated. Without a list, 2.28 prefers
 * secp521r1 against OpenSSL clients (a third of the handshake rate). */
static inline void kite__ssl_conf_groups(mbedtls_ssl_config *conf, const kite__tls_group_t *g)
{
    mbedtls_ssl_conf_curves(conf, g);
}

#define KITE__TLS13_SUITES

#define KITE__TLS_VER_LOWEST  0x0301
#define KITE__TLS_VER_HIGHEST 0x0303

static inline void kite__ssl_conf_versions(mbedtls_ssl_config *conf, unsigned min, unsigned max)
{
    mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, (int)(min & 0xff));
    mbedtls_ssl_conf_max_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, (int)(max & 0xff));
}

static inline int kite__x509write_serial(mbedtls_x509write_cert *w, const unsigned char *s,
                                         size_t n)
{
    mbedtls_mpi m;
    int r;

    mbedtls_mpi_init(&m);
    r = mbedtls_mpi_read_binary(&m, s, n);
    if (!r)
        r = mbedtls_x509write_crt_set_serial(w, &m);
    mbedtls_mpi_free(&m);
    return r;
}

/* 2.28 signs with a parsed EC key ("ECKEY") on a copy of its curve group,
 * so every handshake rebuilds the comb table of the base point: signing
 * costs 2.5 x what it does on a group that keeps its table (1479 against
 * 3642 signatures/s, P-256, measured here). As an "ECDSA" key it signs in
 * place; one multiplication by G now builds the table, so service threads
 * only ever read it. Returns 0 or an mbedTLS error; @pk is unchanged on
 * error. */
static inline int kite__pk_sign_in_place(mbedtls_pk_context *pk)
{
    mbedtls_pk_context e;
    mbedtls_ecp_keypair *k;
    mbedtls_ecp_point r;
    int ret;

    if (mbedtls_pk_get_type(pk) != MBEDTLS_PK_ECKEY)
        return 0;
    mbedtls_pk_init(&e);
    mbedtls_ecp_point_init(&r);
    if (!(ret = mbedtls_pk_setup(&e, mbedtls_pk_info_from_type(MBEDTLS_PK_ECDSA))) &&
        !(ret = mbedtls_ecdsa_from_keypair(mbedtls_pk_ec(e), mbedtls_pk_ec(*pk)))) {
        k = mbedtls_pk_ec(e);
        ret = mbedtls_ecp_mul(&k->grp, &r, &k->d, &k->grp.G, kite__tls_rng, NULL);
    }
    mbedtls_ecp_point_free(&r);
    if (ret) {
        mbedtls_pk_free(&e);
        return ret;
    }
    mbedtls_pk_free(pk);
    *pk = e;
    return 0;
}
#endif

#endif
