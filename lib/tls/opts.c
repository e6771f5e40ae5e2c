/*
 * The lws TLS keys that are not cipher suites: the key exchange groups of
 * a vhost ("ecdh-curve", e.g. "X25519:P-256"; OpenSSL's and the RFC names
 * both), and the OpenSSL option bits of "ssl-option-set" /
 * "ssl-option-clear" reduced to what they mean with mbedTLS. A bit with no
 * mbedTLS meaning is a notice naming it, so a configuration written for
 * lws on OpenSSL starts and says what it lost.
 */
#include <mbedtls/version.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tls/private-tls.h"

static const struct {
    const char *name;
    uint16_t iana;
} group_names[] = {
    {"X25519", 29},
    {"P-256", 23},
    {"prime256v1", 23},
    {"secp256r1", 23},
    {"P-384", 24},
    {"secp384r1", 24},
    {"P-521", 25},
    {"secp521r1", 25},
    {"X448", 30},
    {"brainpoolP256r1", 26},
    {"brainpoolP384r1", 27},
    {"brainpoolP512r1", 28},
    {"brainpoolP256r1tls13", 31},
    {"brainpoolP384r1tls13", 32},
    {"brainpoolP512r1tls13", 33},
};

static uint16_t group_id(const char *p, size_t n)
{
    size_t i;

    for (i = 0; i < sizeof(group_names) / sizeof(group_names[0]); i++)
        if (strlen(group_names[i].name) == n && !strncasecmp(group_names[i].name, p, n))
            return group_names[i].iana;
    return 0;
}

void kite__tls_default_groups(kite__tls_group_t out[KITE__TLS_NGROUPS_DEFAULT])
{
    /* P-256 first: on mbedTLS 3.6 a full handshake with it costs 17.2
     * million instructions against 21.9 with X25519 (its key generation
     * uses precomputed tables of the base point: 3.3 against 8.3 million;
     * on 2.28 the two cost the same), see bench/RESULTS.md. X25519 stays
     * offered for the clients that prefer it, then P-384. */
    static const uint16_t defaults[] = {23, 29, 24};
    size_t i, k = 0;

    for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
        if ((out[k] = kite__tls_group(defaults[i])))
            k++;
    out[k] = 0;
}

int kite__tls_groups(kite_vhost_t *vh, kite__tls_cfg_t *t, const kite_vhost_info_t *info)
{
    const size_t cap = sizeof(t->groups) / sizeof(t->groups[0]) - 1;
    const char *p, *e;
    size_t k = 0;
    uint16_t iana;

    if (!info->tls_groups) {
        kite__tls_default_groups(t->groups);
        kite__ssl_conf_groups(&t->conf, t->groups);
        return 0;
    }
    for (p = info->tls_groups; *p; p = *e ? e + 1 : e) {
        e = p + strcspn(p, ":, ");
        if (e == p)
            continue;
        iana = group_id(p, (size_t)(e - p));
        if (!iana || !(t->groups[k] = kite__tls_group(iana))) {
            kite_err("vhost %s: ecdh-curve: %s group \"%.*s\" (X25519, P-256, P-384, P-521%s)",
                     vh->name, iana ? "mbedTLS " MBEDTLS_VERSION_STRING " has no" : "unknown",
                     (int)(e - p), p, iana ? "" : ", X448, brainpoolP256r1 ...");
            return KITE_EINVAL;
        }
        if (++k == cap) {
            kite_err("vhost %s: ecdh-curve: more than %zu groups", vh->name, cap);
            return KITE_EINVAL;
        }
    }
    if (!k) {
        kite_err("vhost %s: ecdh-curve: no group", vh->name);
        return KITE_EINVAL;
    }
    t->groups[k] = 0;
    kite__ssl_conf_groups(&t->conf, t->groups);
    return 0;
}

/* OpenSSL's SSL_OP_* names by bit, for the notices. */
static const char *const op_names[32] = {[0] = "NO_EXTENDED_MASTER_SECRET",
                                         [2] = "LEGACY_SERVER_CONNECT",
                                         [3] = "ENABLE_KTLS",
                                         [4] = "TLSEXT_PADDING",
                                         [6] = "SAFARI_ECDHE_ECDSA_BUG",
                                         [7] = "IGNORE_UNEXPECTED_EOF",
                                         [8] = "ALLOW_CLIENT_RENEGOTIATION",
                                         [10] = "ALLOW_NO_DHE_KEX",
                                         [11] = "DONT_INSERT_EMPTY_FRAGMENTS",
                                         [12] = "NO_QUERY_MTU",
                                         [13] = "COOKIE_EXCHANGE",
                                         [14] = "NO_TICKET",
                                         [15] = "CISCO_ANYCONNECT",
                                         [16] = "NO_SESSION_RESUMPTION_ON_RENEGOTIATION",
                                         [17] = "NO_COMPRESSION",
                                         [18] = "ALLOW_UNSAFE_LEGACY_RENEGOTIATION",
                                         [19] = "NO_ENCRYPT_THEN_MAC",
                                         [20] = "ENABLE_MIDDLEBOX_COMPAT",
                                         [21] = "PRIORITIZE_CHACHA",
                                         [22] = "CIPHER_SERVER_PREFERENCE",
                                         [24] = "NO_ANTI_REPLAY",
                                         [25] = "NO_SSLv3",
                                         [26] = "NO_TLSv1",
                                         [27] = "NO_TLSv1_2",
                                         [28] = "NO_TLSv1_1",
                                         [29] = "NO_TLSv1_3",
                                         [30] = "NO_RENEGOTIATION",
                                         [31] = "CRYPTOPRO_TLSEXT_BUG"};

/* What kite always does, as OpenSSL bits: renegotiation is off, mbedTLS
 * picks the suite by the server's order, there is no compression, and
 * no 0-RTT to replay. */
#define ALWAYS                                                                                     \
    (KITE__SSL_OP_NO_RENEGOTIATION | KITE__SSL_OP_CIPHER_SERVER_PREFERENCE |                       \
     KITE__SSL_OP_NO_COMPRESSION | KITE__SSL_OP_NO_ANTI_REPLAY)
/* The bits that change something. */
#define APPLIED                                                                                    \
    (KITE__SSL_OP_NO_TICKET | KITE__SSL_OP_NO_SSLv3 | KITE__SSL_OP_NO_TLSv1 |                      \
     KITE__SSL_OP_NO_TLSv1_1 | KITE__SSL_OP_NO_TLSv1_2 | KITE__SSL_OP_NO_TLSv1_3)

static void op_notice(kite_vhost_t *vh, const char *key, unsigned long bits, const char *why)
{
    unsigned b;

    for (b = 0; b < 64; b++)
        if (bits & (1UL << b)) {
            if (b < 32 && op_names[b])
                kite_notice("vhost %s: %s: SSL_OP_%s (0x%lx) %s", vh->name, key, op_names[b],
                            1UL << b, why);
            else
                kite_notice("vhost %s: %s: bit %u (0x%lx) %s", vh->name, key, b, 1UL << b, why);
        }
}

unsigned long kite__tls_ssl_options(kite_vhost_t *vh, const kite_vhost_info_t *info)
{
    unsigned long set = info->tls_ssl_options_set, clr = info->tls_ssl_options_clear;

    op_notice(vh, "ssl-option-set", set & ~(ALWAYS | APPLIED),
              "has no meaning with mbedTLS: ignored");
    op_notice(vh, "ssl-option-clear", clr & ALWAYS & ~set,
              "cannot be cleared: kite always works so with mbedTLS");
    return ALWAYS | (set & ~clr & APPLIED);
}
