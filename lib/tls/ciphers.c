/*
 * The cipher list of a vhost ("ciphers"): mbedTLS names
 * ("TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256"), the IANA spelling with '_',
 * or the OpenSSL names lwsws configurations carry
 * ("ECDHE-ECDSA-AES128-GCM-SHA256"), separated by ':' or ','. OpenSSL's
 * keywords (HIGH, !aNULL ...) have no mbedTLS meaning and are refused.
 */
#include <mbedtls/ssl_ciphersuites.h>
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
 * "AES128-GCM-SHA256", "...-CHACHA20-POLY1305-SHA256" -> "...-CHACHA20-POLY1305". */
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
    id = mbedtls_ssl_get_ciphersuite_id(name);
    return id ? id : by_openssl_name(name);
}

int kite__tls_ciphers(kite_vhost_t *vh, kite__tls_cfg_t *t, const char *list)
{
    const char *p = list, *e;
    size_t n = 1;
    int k = 0, id;

    for (e = list; *e; e++)
        n += *e == ':' || *e == ',';
    t->ciphers = calloc(n + 1, sizeof(int));
    if (!t->ciphers)
        return KITE_ENOMEM;
    for (; *p; p = *e ? e + 1 : e) {
        e = p + strcspn(p, ":, ");
        if (e == p)
            continue;
        if (!(id = lookup(p, (size_t)(e - p)))) {
            kite_err("vhost %s: unknown cipher suite \"%.*s\" (mbedTLS or OpenSSL names, e.g. "
                     "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256)",
                     vh->name, (int)(e - p), p);
            return KITE_EINVAL;
        }
        t->ciphers[k++] = id;
    }
    if (!k) {
        kite_err("vhost %s: empty cipher list", vh->name);
        return KITE_EINVAL;
    }
    mbedtls_ssl_conf_ciphersuites(&t->conf, t->ciphers);
    return 0;
}
