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
 * It prints "kite-test-server: listening on port N" once ready.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kite.h"
#include "protocol-dumb-increment.h"
#include "protocol-echo.h"
#include "protocol-http-test.h"
#include "protocol-lws-mirror.h"
#include "protocol-lws-status.h"
#include "protocol-post-demo.h"

#ifndef KITE_TEST_HTML
#define KITE_TEST_HTML "./test-apps/html"
#endif

#define MAX_EXTRA_VHOSTS 8

static kite_context_t *context;

static void on_signal(int sig)
{
    (void)sig;
    kite_cancel_service(context);
}

static const kite_protocol_t *const protocols[] = {
    &kite_protocol_dumb_increment,
    &kite_protocol_lws_mirror,
    &kite_protocol_lws_status,
    &kite_protocol_echo,
    &kite_protocol_post_demo,
    &kite_protocol_http_test,
    NULL,
};

/* Per-vhost protocol options: dumb-increment is the default protocol
 * (pvo->name is the protocol, pvo->options its options). */
static kite_pvo_t pvo_di_options = {.name = "options", .value = "0"};
static const kite_pvo_t pvo_di_default = {.next = &pvo_di_options, .name = "default", .value = "1"};
static const kite_pvo_t pvo = {
    .name = "dumb-increment-protocol",
    .options = &pvo_di_default,
};

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [-p port] [-i iface] [-r resource-dir] [-d logmask] [-t threads] [-n]\n"
            "          [-U unix-socket] [-V name=dir]... [-E /404.html] [-k keepalive-secs]\n"
            "          [-T timeout-secs] [-m cache-max-age]\n",
            argv0);
}

int main(int argc, char **argv)
{
    kite_context_info_t ci = {0};
    kite_vhost_info_t vi = {0};
    kite_mount_t m_root = {0}, m_form = {0}, m_test = {0}, m_redir = {0};
    kite_mount_t extra_mounts[MAX_EXTRA_VHOSTS];
    const char *resource = KITE_TEST_HTML, *unix_path = NULL;
    char *extra[MAX_EXTRA_VHOSTS];
    int nextra = 0, opt, err = 0, i, logmask = KITE_LL_DEFAULT;
    kite_vhost_t *vh;

    vi.port = 7681;
    while ((opt = getopt(argc, argv, "p:i:r:d:t:nU:V:E:k:T:m:h")) != -1) {
        switch (opt) {
        case 'p':
            vi.port = atoi(optarg);
            break;
        case 'i':
            vi.iface = optarg;
            break;
        case 'r':
            resource = optarg;
            break;
        case 'd':
            logmask = atoi(optarg);
            break;
        case 't':
            ci.count_threads = atoi(optarg);
            break;
        case 'n':
            pvo_di_options.value = "1"; /* dumb-increment: do not send */
            break;
        case 'U':
            unix_path = optarg;
            break;
        case 'V':
            if (nextra == MAX_EXTRA_VHOSTS || !strchr(optarg, '=')) {
                usage(argv[0]);
                return 2;
            }
            extra[nextra++] = optarg;
            break;
        case 'E':
            vi.error_document_404 = optarg;
            break;
        case 'k':
            ci.keepalive_timeout = (unsigned)atoi(optarg);
            break;
        case 'T':
            ci.timeout_secs = (unsigned)atoi(optarg);
            break;
        case 'm':
            m_root.cache_max_age = atoi(optarg);
            break;
        default:
            usage(argv[0]);
            return opt == 'h' ? 0 : 2;
        }
    }
    kite_set_log_level(logmask, NULL);

    context = kite_context_create(&ci, &err);
    if (!context) {
        fprintf(stderr, "kite-test-server: context: %s\n", kite_strerror(err));
        return 1;
    }

    m_root.mountpoint = "/";
    m_root.origin = resource;
    m_root.origin_protocol = KITE_MOUNT_FILE;
    m_root.def = "index.html";
    m_root.next = &m_form;
    m_form.mountpoint = "/formtest";
    m_form.origin = "callback://protocol-post-demo";
    m_form.next = &m_test;
    m_test.mountpoint = "/test";
    m_test.origin = "callback://http-test";
    m_test.next = &m_redir;
    m_redir.mountpoint = "/kite-site";
    m_redir.origin = ">https://github.com/";

    vi.name = "localhost";
    vi.protocols = protocols;
    vi.pvo = &pvo;
    vi.mounts = &m_root;
    vh = kite_vhost_create(context, &vi, &err);
    if (!vh) {
        fprintf(stderr, "kite-test-server: vhost: %s\n", kite_strerror(err));
        kite_context_destroy(context);
        return 1;
    }
    for (i = 0; i < nextra; i++) {
        kite_vhost_info_t xi = vi;
        char *eq = strchr(extra[i], '=');

        *eq = '\0';
        memset(&extra_mounts[i], 0, sizeof(extra_mounts[i]));
        extra_mounts[i].mountpoint = "/";
        extra_mounts[i].origin = eq + 1;
        extra_mounts[i].origin_protocol = KITE_MOUNT_FILE;
        xi.name = extra[i];
        xi.port = kite_vhost_port(vh);
        xi.mounts = &extra_mounts[i];
        xi.error_document_404 = NULL;
        if (!kite_vhost_create(context, &xi, &err)) {
            fprintf(stderr, "kite-test-server: vhost %s: %s\n", extra[i], kite_strerror(err));
            kite_context_destroy(context);
            return 1;
        }
    }
    if (unix_path) {
        kite_vhost_info_t ui = vi;
        ui.name = "unix";
        ui.unix_socket = unix_path;
        if (!kite_vhost_create(context, &ui, &err)) {
            fprintf(stderr, "kite-test-server: unix socket: %s\n", kite_strerror(err));
            kite_context_destroy(context);
            return 1;
        }
    }

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    printf("kite-test-server: listening on port %d\n", kite_vhost_port(vh));
    fflush(stdout);
    kite_run(context);
    kite_context_destroy(context);
    return 0;
}
