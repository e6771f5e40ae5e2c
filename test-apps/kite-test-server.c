/*
 * kite-test-server: the libwebsockets-test-server of kite. It serves the
 * test page from a resource directory and mounts the example protocols:
 *   /            file://  the resource dir (test-apps/html)
 *   /formtest    callback://protocol-post-demo
 *   /test/       callback://http-test (endpoints for tests and demos)
 *   /kite-site   >https://github.com/ redirect example
 * and speaks the websocket protocols of the lws test server on every
 * path: dumb-increment-protocol (the default for clients that name no
 * protocol), lws-mirror-protocol, lws-status, plus echo.
 * Flags follow libwebsockets-test-server where they overlap:
 *   -p PORT (0: ephemeral; the bound port is printed), -i IFACE,
 *   -r DIR, -d LOGMASK, -t THREADS, -n (dumb-increment sends nothing),
 *   plus kite's own:
 *   -U PATH      also listen on a unix socket
 *   -V NAME=DIR  another vhost on the same port, chosen by Host
 *   -E PATH      error-document-404 for the main vhost
 *   -k SECS      keep-alive timeout, -T SECS request timeout
 *   -m SECS      cache-max-age for the file mount
 *   -R PORT      a raw-only vhost (raw-test echoes; 0: ephemeral, printed
 *                as "kite-test-server: raw port N")
 *   -F           fallback to raw on the main vhost (raw-test echoes)
 *   -f FIFO      adopt FIFO (made if missing) into raw-test, which prints
 *                what arrives as "raw-test: fifo: <bytes>"
 *   -s           https and wss, with -C CERT -K KEY or a self-signed
 *                certificate made in the build directory (its path is
 *                printed as "kite-test-server: TLS certificate PATH");
 *                with -s, -V NAME=DIR:CERT:KEY gives a vhost its own;
 *                SIGHUP reloads the main vhost's certificate files
 * It prints "kite-test-server: listening on port N" once ready.
 * The flags and the setup live in test-server-common.c, shared with
 * kite-test-extpoll (the same server on the application's poll()).
 */
#include <signal.h>

#include "test-server-common.h"

static test_server_t ts;

static void on_signal(int sig)
{
    /* -D: a graceful stop (kite_context_drain only sets atomics and wakes
     * the loop, so a signal handler may call it). */
    if (sig == SIGTERM && ts.drain_ms)
        kite_context_drain(ts.context, ts.drain_ms);
    else
        kite_cancel_service(ts.context);
}

int main(int argc, char **argv)
{
    kite_context_info_t ci = KITE_CONTEXT_INFO_INIT();
    int rc;

    test_server_block_sighup();
    rc = test_server_create(&ts, argc, argv, &ci);
    if (rc >= 0)
        return rc;
    if (test_server_tls_reload_on_sighup(&ts) < 0)
        return 1;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    test_server_announce(&ts);
    kite_run(ts.context);
    kite_context_destroy(ts.context);
    return 0;
}
