/*
 * What kite-test-server and kite-test-extpoll share: the flags, the
 * protocols, the mounts and the vhosts. Each program's main() only runs
 * the loop (kite_run(), or its own poll() array).
 */
#ifndef KITE_TEST_SERVER_COMMON_H
#define KITE_TEST_SERVER_COMMON_H

#include "kite.h"

#define TEST_SERVER_MAX_EXTRA_VHOSTS 8
#define TEST_SERVER_MAX_LUA_HANDLERS 8

typedef struct test_server_s {
    kite_context_t *context;
    kite_vhost_t *vhost;     /* the main vhost ("localhost") */
    kite_vhost_t *raw_vhost; /* -R: the raw-only vhost, or NULL */
    int fifo_keep;           /* -f: the write end the server holds, or -1 */
    /* private: what the vhosts point at, which must outlive them */
    kite_mount_t m_root, m_form, m_test, m_redir, m_cgi, m_ssi, m_ssi_off, m_lua;
    kite_mount_t m_handlers[TEST_SERVER_MAX_LUA_HANDLERS];
    kite_mount_t extra_mounts[TEST_SERVER_MAX_EXTRA_VHOSTS];
    kite_ws_deflate_t deflate; /* permessage-deflate settings (-Z) */
    unsigned drain_ms;         /* -D: SIGTERM drains for this long instead of stopping */
} test_server_t;

/**
 * test_server_create() - parse the kite-test-server flags in @argv into
 * @ci (which the caller may have filled already, e.g. with an extpoll
 * pointer), create the context and the vhosts. Returns -1 when the
 * server is ready (ts->context, ts->vhost set), or else the exit status
 * main() should return (0 for -h, 2 for a usage error, 1 for a failure,
 * already reported on stderr).
 */
int test_server_create(test_server_t *ts, int argc, char **argv, kite_context_info_t *ci);

/**
 * test_server_tls() - make @vi a TLS vhost with @cert and @key, or with the
 * certificate the server keeps in its build directory (made on first use)
 * when both are NULL. Returns 0, or -1 (reported on stderr).
 */
int test_server_tls(kite_vhost_info_t *vi, const char *cert, const char *key);

/**
 * test_server_block_sighup() - block SIGHUP in the calling thread and the
 * threads it makes from now on (call before test_server_create()), and
 * test_server_tls_reload_on_sighup() - then reload the main vhost's TLS
 * files on each SIGHUP, printing "kite-test-server: TLS reload: ok" or the
 * error. Returns 0 or -1.
 */
void test_server_block_sighup(void);
int test_server_tls_reload_on_sighup(const test_server_t *ts);

/** test_server_announce() - print the line the test helpers wait for. */
void test_server_announce(const test_server_t *ts);

#endif
