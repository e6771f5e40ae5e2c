/*
 * The cipher suites of a vhost: its TLS 1.3 list ("tls13-ciphers") then
 * its TLS 1.2 list ("ciphers"), in mbedTLS names
 * ("TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256", "TLS1-3-AES-128-GCM-SHA256"),
 * the IANA spelling with '_' ("TLS_AES_128_GCM_SHA256") or the OpenSSL
 * names lwsws configurations carry ("ECDHE-ECDSA-AES128-GCM-SHA256"),
 * separated by ':' or ','. OpenSSL's keywords (HIGH, !aNULL ...) have no
 * mbedTLS meaning and are refused. Without a list, the hardened defaults:
 * forward secrecy and AEAD only.
 */
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/version.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/private-tls.h"

/* Replace the first @from in @s with @to (not longer than @from). */
static void subst(char *s, const char *from, const char *to)
{
    char *p = strstr(s, from);
    size_t f = strlen(from), t = strlen(to);

    if (!p)
        return;
    memcpy(p, to, t);
    memmove(p + t, p + f, strlen(p + f) + 1);
}

/* OpenSSL's name for an mbedTLS suite: "TLS-ECDHE-RSA-WITH-AES-128-CBC-SHA"
 * -> "ECDHE-RSA-AES128-SHA", "TLS-RSA-WITH-AES-128-GCM-SHA256" ->
 * "AES128-GCM-SHA256", "...-CHACHA20-POLY1305-SHA256" -> "...-CHACHA20-POLY1305",
 * "...-AES-128-CCM-8" -> "...-AES128-CCM8". */
static void openssl_name(const char *mbed, char *out, size_t cap)
{
    static const char *const sizes[][2] = {
        {"AES-128-", "AES128-"},           {"AES-256-", "AES256-"},
        {"CAMELLIA-128-", "CAMELLIA128-"}, {"CAMELLIA-256-", "CAMELLIA256-"},
        {"ARIA-128-", "ARIA128-"},         {"ARIA-256-", "ARIA256-"}};
    size_t i;

    snprintf(out, cap, "%s", strncmp(mbed, "TLS-", 4) ? mbed : mbed + 4);
    if (!strncmp(out, "RSA-WITH-", 9))
        subst(out, "RSA-WITH-", "");
    else
        subst(out, "-WITH-", "-");
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        subst(out, sizes[i][0], sizes[i][1]);
    subst(out, "CBC-", "");
    subst(out, "CHACHA20-POLY1305-SHA256", "CHACHA20-POLY1305");
    subst(out, "CCM-8", "CCM8");
}

static int by_openssl_name(const char *name)
{
    const int *id;
    char o[128];

    for (id = mbedtls_ssl_list_ciphersuites(); *id; id++) {
        const char *m = mbedtls_ssl_get_ciphersuite_name(*id);
        openssl_name(m, o, sizeof(o));
        if (!strcmp(o, name))
            return *id;
    }
    return 0;
}

static int lookup(const char *tok, size_t len)
{
    char name[128];
    size_t i;
    int id;

    if (len >= sizeof(name))
        return 0;
    for (i = 0; i < len; i++)
        name[i] = tok[i] == '_' ? '-' : tok[i];
    name[len] = '\0';
    if ((id = mbedtls_ssl_get_ciphersuite_id(name)))
        return id;
    /* IANA's TLS 1.3 names: "TLS_AES_128_GCM_SHA256" is mbedTLS's
     * "TLS1-3-AES-128-GCM-SHA256". */
    if (!strncmp(name, "TLS-", 4) && len + 3 < sizeof(name)) {
        char v13[sizeof(name) + 8];

        snprintf(v13, sizeof(v13), "TLS1-3-%s", name + 4);
        if ((id = mbedtls_ssl_get_ciphersuite_id(v13)))
            return id;
    }
    return by_openssl_name(name);
}

/* Add @list's suites to @out at *@k; @v13: only TLS 1.3 ones (IANA 0x13xx). */
static int parse(kite_vhost_t *vh, const char *key, const char *list, int v13, int *out, size_t *k)
{
    const char *p, *e;
    size_t k0 = *k;
    int id;

    for (p = list; *p; p = *e ? e + 1 : e) {
        e = p + strcspn(p, ":, ");
        if (e == p)
            continue;
        if (!(id = lookup(p, (size_t)(e - p)))) {
            kite_err("vhost %s: %s: unknown cipher suite \"%.*s\" (mbedTLS, IANA or OpenSSL "
                     "names, e.g. %s)",
                     vh->name, key, (int)(e - p), p,
                     v13 ? "TLS_AES_128_GCM_SHA256" : "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256");
            return KITE_EINVAL;
        }
        if (v13 && (id >> 8) != 0x13) {
            kite_err("vhost %s: %s: \"%.*s\" is not a TLS 1.3 suite", vh->name, key, (int)(e - p),
                     p);
            return KITE_EINVAL;
        }
        out[(*k)++] = id;
    }
    if (*k == k0) {
        kite_err("vhost %s: %s: empty cipher list", vh->name, key);
        return KITE_EINVAL;
    }
    return 0;
}

static size_t count(const char *list)
{
    size_t n = 1;

    for (; list && *list; list++)
        n += *list == ':' || *list == ',' || *list == ' ';
    return n;
}

int kite__tls_ciphers(kite_vhost_t *vh, kite__tls_cfg_t *t, const kite_vhost_info_t *info)
{
    /* ECDHE and AEAD only, server's order (mbedTLS picks by it on TLS 1.2):
     * AES-128-GCM (cheapest with AES-NI), AES-256-GCM, ChaCha20-Poly1305. */
    static const int v12[] = {MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                              MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
                              MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
                              MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
                              MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
                              MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256};
    static const int v13[] = {KITE__TLS13_SUITES 0};
    size_t k = 0, i;
    int r;

    t->ciphers = calloc(count(info->tls_ciphers) + count(info->tls13_ciphers) + 10, sizeof(int));
    if (!t->ciphers)
        return KITE_ENOMEM;
    if (info->tls13_ciphers && !v13[0])
        kite_notice(
            "vhost %s: tls13-ciphers: TLS 1.3 needs mbedTLS 3.6 (this is " MBEDTLS_VERSION_STRING
            "): not used",
            vh->name);
    else if (info->tls13_ciphers) {
        if ((r = parse(vh, "tls13-ciphers", info->tls13_ciphers, 1, t->ciphers, &k)) < 0)
            return r;
    } else
        for (i = 0; v13[i]; i++)
            t->ciphers[k++] = v13[i];
    if (info->tls_ciphers) {
        if ((r = parse(vh, "ciphers", info->tls_ciphers, 0, t->ciphers, &k)) < 0)
            return r;
    } else
        for (i = 0; i < sizeof(v12) / sizeof(v12[0]); i++)
            t->ciphers[k++] = v12[i];
    mbedtls_ssl_conf_ciphersuites(&t->conf, t->ciphers);
    return 0;
}
