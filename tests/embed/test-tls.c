/*
 * The TLS API without a TLS client (tests/integration/test_tls*.py talk
 * to it): kite_tls_selfsigned_create(), TLS vhosts accepted and refused
 * (no key, unreadable files, a key that does not match, an unknown cipher
 * suite, client certificates without a CA, plain and TLS on one port, TLS
 * on a raw-only vhost), kite_vhost_tls_reload() with good and bad files.
 * Run under ASan, it also checks that every path frees what it loaded.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kite.h"
#include "tap.h"

static char dir[] = "/tmp/kite-test-tls-XXXXXX";
static char crt1[128], key1[128], crt2[128], key2[128];

static const kite_protocol_t p_app = {.abi = KITE_PROTOCOL_ABI, .name = "app"};
static const kite_protocol_t *const protocols[] = {&p_app, NULL};

static kite_vhost_t *vhost(kite_context_t *ctx, const char *name, int port, const char *crt,
                           const char *key, int *err)
{
    kite_vhost_info_t vi = KITE_VHOST_INFO_INIT();

    vi.name = name;
    vi.iface = "127.0.0.1";
    vi.port = port;
    vi.protocols = protocols;
    vi.tls_cert = crt;
    vi.tls_key = key;
    *err = 0;
    return kite_vhost_create(ctx, &vi, err);
}

static void refused(kite_context_t *ctx, kite_vhost_info_t *vi, const char *what)
{
    int err = 0;

    vi->name = "refused";
    vi->iface = "127.0.0.1";
    vi->protocols = protocols;
    tap_ok(!kite_vhost_create(ctx, vi, &err) && err == KITE_EINVAL, "refused: %s (%s)", what,
           kite_strerror(err));
}

int main(void)
{
    kite_context_info_t ci = KITE_CONTEXT_INFO_INIT();
    kite_context_t *ctx;
    kite_vhost_t *a, *b;
    kite_vhost_info_t vi;
    struct stat st;
    int err = 0, port;

    kite_set_log_level(0, NULL);
    if (!mkdtemp(dir))
        return 1;
    snprintf(crt1, sizeof(crt1), "%s/one.crt", dir);
    snprintf(key1, sizeof(key1), "%s/one.key", dir);
    snprintf(crt2, sizeof(crt2), "%s/two.crt", dir);
    snprintf(key2, sizeof(key2), "%s/two.key", dir);
    tap_is_int(kite_tls_selfsigned_create(crt1, key1, "one.test", 2), 0, "selfsigned: one.test");
    tap_is_int(kite_tls_selfsigned_create(crt2, key2, "two.test", 2), 0, "selfsigned: two.test");
    tap_ok(!stat(key1, &st) && (st.st_mode & 077) == 0, "the key file is private (0600)");
    tap_is_int(kite_tls_selfsigned_create("/nonexistent/x.crt", "/nonexistent/x.key", "x", 2) < 0,
               1, "an unwritable path fails");

    ctx = kite_context_create(&ci, &err);
    tap_ok(ctx != NULL, "context");
    a = vhost(ctx, "one.test", 0, crt1, key1, &err);
    tap_ok(a != NULL, "a TLS vhost from the generated files (%d)", err);
    port = a ? kite_vhost_port(a) : 0;
    b = vhost(ctx, "two.test", port, crt2, key2, &err);
    tap_ok(b != NULL, "a second TLS vhost on the same port (%d)", err);
    tap_ok(!vhost(ctx, "plain.test", port, NULL, NULL, &err) && err == KITE_EINVAL,
           "a plain vhost on the TLS port is refused");

    vi = (kite_vhost_info_t)KITE_VHOST_INFO_INIT();
    vi.tls_cert = crt1;
    refused(ctx, &vi, "a certificate without a key");
    vi.tls_key = "/nonexistent/kite.key";
    refused(ctx, &vi, "an unreadable key");
    vi.tls_key = key2;
    refused(ctx, &vi, "a key that does not match the certificate");
    vi.tls_key = key1;
    vi.tls_ciphers = "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256:NOT-A-SUITE";
    refused(ctx, &vi, "an unknown cipher suite");
    vi.tls_ciphers = NULL;
    vi.tls_options = KITE_TLS_CLIENT_CERT_REQUIRED;
    refused(ctx, &vi, "client certificates without a CA");
    vi.tls_options = 0;
    vi.options = KITE_VH_RAW_ONLY;
    refused(ctx, &vi, "TLS on a raw-only vhost");

    vi = (kite_vhost_info_t)KITE_VHOST_INFO_INIT();
    vi.name = "ciphers.test";
    vi.iface = "127.0.0.1";
    vi.protocols = protocols;
    vi.tls_cert = crt1;
    vi.tls_key = key1;
    vi.tls_ca = crt2;
    vi.tls_ciphers = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS-ECDHE-ECDSA-WITH-CHACHA20-"
                     "POLY1305-SHA256";
    vi.tls_options = KITE_TLS_STS | KITE_TLS_CLIENT_CERT_REQUIRED | KITE_TLS_ALLOW_NON_TLS;
    err = 0;
    tap_ok(kite_vhost_create(ctx, &vi, &err) != NULL,
           "ciphers in both spellings, a chain, client certificates, sts (%s)", kite_strerror(err));

    /* The list of the lwsws README, in OpenSSL's names. */
    vi.name = "openssl.test";
    vi.tls_ca = NULL;
    vi.tls_options = 0;
    vi.tls_ciphers = "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                     "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
                     "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                     "ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:"
                     "ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:AES128-GCM-SHA256";
    err = 0;
    tap_ok(kite_vhost_create(ctx, &vi, &err) != NULL, "ciphers in OpenSSL's names (%d)", err);
    vi.tls_ciphers = "HIGH:!aNULL";
    refused(ctx, &vi, "OpenSSL cipher keywords");

    if (a) {
        tap_is_int(kite_vhost_tls_reload(a, NULL, NULL, NULL), 0, "reload from the same files");
        tap_is_int(kite_vhost_tls_reload(a, crt2, key2, NULL), 0, "reload from new files");
        tap_is_int(kite_vhost_tls_reload(a, NULL, key1, NULL), KITE_EINVAL,
                   "reload with a key that does not match: refused");
        tap_is_int(kite_vhost_tls_reload(a, "/nonexistent/x.crt", NULL, NULL), KITE_EINVAL,
                   "reload with an unreadable file: refused");
        tap_is_int(kite_vhost_tls_reload(a, NULL, NULL, NULL), 0,
                   "the paths of the last good reload stay");
    }
    a = vhost(ctx, "plain.test", 0, NULL, NULL, &err);
    tap_ok(a && kite_vhost_tls_reload(a, NULL, NULL, NULL) == KITE_EINVAL,
           "reload on a plain vhost: KITE_EINVAL");
    kite_context_destroy(ctx);

    unlink(crt1);
    unlink(key1);
    unlink(crt2);
    unlink(key2);
    rmdir(dir);
    return tap_done();
}
