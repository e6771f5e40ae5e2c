/*
 * kite-test-server -s: https and wss with the certificate given by -C/-K,
 * or else one the server makes for "localhost" (ECDSA P-256, self-signed)
 * in its build directory on first use and reuses after. A lock file keeps
 * servers started together from writing a key and a certificate that do
 * not match. SIGHUP reads the main vhost's certificate files again
 * (kite_vhost_tls_reload()), from a thread of its own that waits for it.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

#include "test-server-common.h"

#ifndef KITE_TEST_CERT_DIR
#define KITE_TEST_CERT_DIR "."
#endif

static char cert_path[1024], key_path[1024];

int test_server_tls(kite_vhost_info_t *vi, const char *cert, const char *key)
{
    int fd, r = 0;

    if (cert || key) {
        if (!cert || !key) {
            fprintf(stderr, "kite-test-server: -C and -K go together\n");
            return -1;
        }
        vi->tls_cert = cert;
        vi->tls_key = key;
        return 0;
    }
    snprintf(cert_path, sizeof(cert_path), "%s/kite-test-server.crt", KITE_TEST_CERT_DIR);
    snprintf(key_path, sizeof(key_path), "%s/kite-test-server.key", KITE_TEST_CERT_DIR);
    fd = open(KITE_TEST_CERT_DIR "/kite-test-server.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || flock(fd, LOCK_EX) < 0) {
        perror("kite-test-server: " KITE_TEST_CERT_DIR "/kite-test-server.lock");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (access(cert_path, R_OK) < 0 || access(key_path, R_OK) < 0) {
        r = kite_tls_selfsigned_create(cert_path, key_path, "localhost", 3650);
        if (r < 0)
            fprintf(stderr, "kite-test-server: certificate %s: %s\n", cert_path, kite_strerror(r));
    }
    close(fd); /* and the lock with it */
    if (r < 0)
        return -1;
    vi->tls_cert = cert_path;
    vi->tls_key = key_path;
    printf("kite-test-server: TLS certificate %s\n", cert_path);
    return 0;
}

static void *reload_thread(void *arg)
{
    kite_vhost_t *vh = arg;
    sigset_t set;
    int sig, r;

    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    while (!sigwait(&set, &sig)) {
        r = kite_vhost_tls_reload(vh, NULL, NULL, NULL);
        printf("kite-test-server: TLS reload: %s\n", r < 0 ? kite_strerror(r) : "ok");
        fflush(stdout);
    }
    return NULL;
}

void test_server_block_sighup(void)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int test_server_tls_reload_on_sighup(const test_server_t *ts)
{
    pthread_t t;

    if (pthread_create(&t, NULL, reload_thread, ts->vhost))
        return -1;
    pthread_detach(t);
    return 0;
}
