/*
 * The option parsing and the context/vhost setup of kite-test-server,
 * shared with kite-test-extpoll. See kite-test-server.c for the flags.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol-dumb-increment.h"
#include "protocol-echo.h"
#include "protocol-http-test.h"
#include "protocol-lws-mirror.h"
#include "protocol-lws-status.h"
#include "protocol-post-demo.h"
#include "test-server-common.h"

#ifndef KITE_TEST_HTML
#define KITE_TEST_HTML "./test-apps/html"
#endif

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

int test_server_create(test_server_t *ts, int argc, char **argv, kite_context_info_t *ci)
{
    kite_vhost_info_t vi = {0};
    const char *resource = KITE_TEST_HTML, *unix_path = NULL;
    char *extra[TEST_SERVER_MAX_EXTRA_VHOSTS];
    int nextra = 0, opt, err = 0, i, logmask = KITE_LL_DEFAULT;

    memset(ts, 0, sizeof(*ts));
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
            ci->count_threads = atoi(optarg);
            break;
        case 'n':
            pvo_di_options.value = "1"; /* dumb-increment: do not send */
            break;
        case 'U':
            unix_path = optarg;
            break;
        case 'V':
            if (nextra == TEST_SERVER_MAX_EXTRA_VHOSTS || !strchr(optarg, '=')) {
                usage(argv[0]);
                return 2;
            }
            extra[nextra++] = optarg;
            break;
        case 'E':
            vi.error_document_404 = optarg;
            break;
        case 'k':
            ci->keepalive_timeout = (unsigned)atoi(optarg);
            break;
        case 'T':
            ci->timeout_secs = (unsigned)atoi(optarg);
            break;
        case 'm':
            ts->m_root.cache_max_age = atoi(optarg);
            break;
        default:
            usage(argv[0]);
            return opt == 'h' ? 0 : 2;
        }
    }
    kite_set_log_level(logmask, NULL);

    ts->context = kite_context_create(ci, &err);
    if (!ts->context) {
        fprintf(stderr, "kite-test-server: context: %s\n", kite_strerror(err));
        return 1;
    }

    ts->m_root.mountpoint = "/";
    ts->m_root.origin = resource;
    ts->m_root.origin_protocol = KITE_MOUNT_FILE;
    ts->m_root.def = "index.html";
    ts->m_root.next = &ts->m_form;
    ts->m_form.mountpoint = "/formtest";
    ts->m_form.origin = "callback://protocol-post-demo";
    ts->m_form.next = &ts->m_test;
    ts->m_test.mountpoint = "/test";
    ts->m_test.origin = "callback://http-test";
    ts->m_test.next = &ts->m_redir;
    ts->m_redir.mountpoint = "/kite-site";
    ts->m_redir.origin = ">https://github.com/";

    vi.name = "localhost";
    vi.protocols = protocols;
    vi.pvo = &pvo;
    vi.mounts = &ts->m_root;
    ts->vhost = kite_vhost_create(ts->context, &vi, &err);
    if (!ts->vhost) {
        fprintf(stderr, "kite-test-server: vhost: %s\n", kite_strerror(err));
        goto fail;
    }
    for (i = 0; i < nextra; i++) {
        kite_vhost_info_t xi = vi;
        kite_mount_t *m = &ts->extra_mounts[i];
        char *eq = strchr(extra[i], '=');

        *eq = '\0';
        m->mountpoint = "/";
        m->origin = eq + 1;
        m->origin_protocol = KITE_MOUNT_FILE;
        xi.name = extra[i];
        xi.port = kite_vhost_port(ts->vhost);
        xi.mounts = m;
        xi.error_document_404 = NULL;
        if (!kite_vhost_create(ts->context, &xi, &err)) {
            fprintf(stderr, "kite-test-server: vhost %s: %s\n", extra[i], kite_strerror(err));
            goto fail;
        }
    }
    if (unix_path) {
        kite_vhost_info_t ui = vi;
        ui.name = "unix";
        ui.unix_socket = unix_path;
        if (!kite_vhost_create(ts->context, &ui, &err)) {
            fprintf(stderr, "kite-test-server: unix socket: %s\n", kite_strerror(err));
            goto fail;
        }
    }
    return -1;

fail:
    kite_context_destroy(ts->context);
    ts->context = NULL;
    return 1;
}

void test_server_announce(const test_server_t *ts)
{
    printf("kite-test-server: listening on port %d\n", kite_vhost_port(ts->vhost));
    fflush(stdout);
}
