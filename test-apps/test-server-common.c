/*
 * The option parsing and the context/vhost setup of kite-test-server,
 * shared with kite-test-extpoll. See kite-test-server.c for the flags.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "protocol-dumb-increment.h"
#include "protocol-echo.h"
#include "protocol-http-test.h"
#include "protocol-lws-mirror.h"
#include "protocol-lws-status.h"
#include "protocol-post-demo.h"
#include "protocol-raw-test.h"
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

/* The same plus raw-test, for the main vhost with -F or -f only, so that
 * without them nothing changes. */
static const kite_protocol_t *const protocols_raw[] = {
    &kite_protocol_dumb_increment, &kite_protocol_lws_mirror,
    &kite_protocol_lws_status,     &kite_protocol_echo,
    &kite_protocol_post_demo,      &kite_protocol_http_test,
    &kite_protocol_raw_test,       NULL,
};

/* -R's raw-only vhost: raw-test alone. */
static const kite_protocol_t *const protocols_raw_only[] = {
    &kite_protocol_raw_test,
    NULL,
};

/* Per-vhost protocol options: dumb-increment is the default protocol
 * (pvo->name is the protocol, pvo->options its options). */
static kite_pvo_t pvo_di_options = {.name = "options", .value = "0"};
static const kite_pvo_t pvo_di_default = {.next = &pvo_di_options, .name = "default", .value = "1"};
/* -G: every script also gets this (cgi-env). */
static const kite_pvo_t cgi_env = {.name = "KITE_TEST_ENV", .value = "yes"};
/* -L: the lwsws interpret key hands *.luax files to kite's "lua" protocol. */
static const kite_pvo_t lua_interpret = {.name = ".luax", .value = "lua"};
static const kite_pvo_t pvo_raw_opt = {.name = "raw", .value = "1"};
/* raw-test as the protocol of raw connections (pvo option "raw"): on the
 * -R vhost, and chained after the main vhost's pvo with -F. */
static const kite_pvo_t pvo_raw = {.name = "raw-test", .options = &pvo_raw_opt};
static kite_pvo_t pvo = {
    .name = "dumb-increment-protocol",
    .options = &pvo_di_default,
};

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [-p port] [-i iface] [-r resource-dir] [-d logmask] [-t threads] [-n]\n"
            "          [-U unix-socket] [-V name=dir]... [-E /404.html] [-k keepalive-secs]\n"
            "          [-T timeout-secs] [-m cache-max-age] [-R raw-port] [-F] [-f fifo]\n"
            "          [-G cgi-dir] [-g cgi-timeout-secs] [-S ssi-dir] [-s [-C cert -K key]]\n"
            "          [-z | -Z level:mem-level:window-bits[:nct]]\n"
            "          [-L lua-dir [-B lua-budget] [-M lua-max-memory] [-P lua-preload]\n"
            "          [-W lua-websocket-root]] [-l prefix script.lua]...\n"
            "          [-2 (h2c by prior knowledge)] [-H (no h2 by ALPN)]\n"
            "          [-w send-timeout-secs] [-o h2-settings-timeout-secs]\n"
            "          [-D drain-ms (SIGTERM drains)]\n"
            "  permessage-deflate is on (as in the lws test server): -z turns it off,\n"
            "  -Z sets it (nct: no context takeover)\n",
            argv0);
}

/* -f: the FIFO's read end becomes a raw connection of raw-test on the main
 * vhost. The server also holds a write end open, so that writers coming
 * and going never make the read end see EOF (which would close it). */
static int adopt_fifo(test_server_t *ts, const char *path)
{
    kite_conn_t *c;
    int fd, err = 0;

    if (mkfifo(path, 0600) && errno != EEXIST) {
        fprintf(stderr, "kite-test-server: mkfifo %s: %s\n", path, strerror(errno));
        return -1;
    }
    fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "kite-test-server: open %s: %s\n", path, strerror(errno));
        return -1;
    }
    ts->fifo_keep = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    c = kite_adopt_fd(ts->vhost, fd, KITE_ADOPT_FILE, "raw-test", &err);
    if (!c) {
        fprintf(stderr, "kite-test-server: adopt %s: %s\n", path, kite_strerror(err));
        return -1;
    }
    kite_raw_test_mark_fifo(c);
    return 0;
}

/* The mounts and deflate settings are filled in member by member from the options. */
static void init_mounts(test_server_t *ts)
{
    kite_mount_t *m[] = {&ts->m_root, &ts->m_form, &ts->m_test, &ts->m_redir,
                         &ts->m_cgi,  &ts->m_ssi,  &ts->m_lua,  &ts->m_ssi_off};
    size_t i;

    for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
        *m[i] = (kite_mount_t)KITE_MOUNT_INIT();
    for (i = 0; i < TEST_SERVER_MAX_LUA_HANDLERS; i++)
        ts->m_handlers[i] = (kite_mount_t)KITE_MOUNT_INIT();
    for (i = 0; i < TEST_SERVER_MAX_EXTRA_VHOSTS; i++)
        ts->extra_mounts[i] = (kite_mount_t)KITE_MOUNT_INIT();
    ts->deflate = (kite_ws_deflate_t)KITE_WS_DEFLATE_INIT();
}

int test_server_create(test_server_t *ts, int argc, char **argv, kite_context_info_t *ci)
{
    kite_vhost_info_t vi = KITE_VHOST_INFO_INIT();
    const char *resource = KITE_TEST_HTML, *unix_path = NULL, *fifo = NULL, *cgi_dir = NULL;
    const char *ssi_dir = NULL;
    const char *cert = NULL, *key = NULL;
    char *extra[TEST_SERVER_MAX_EXTRA_VHOSTS], nct[4] = "";
    const char *lua_dir = NULL;
    kite_mount_t **tail;
    int nhandlers = 0, nextra = 0, opt, err = 0, i, logmask = KITE_LL_DEFAULT, raw_port = -1,
        fallback = 0, tls = 0;

    memset(ts, 0, sizeof(*ts));
    init_mounts(ts);
    ts->fifo_keep = -1;
    vi.port = 7681;
    vi.ws_deflate = &ts->deflate;
    while ((opt = getopt(argc, argv,
                         "p:i:r:d:t:nU:V:E:k:T:m:R:Ff:G:g:S:sC:K:zZ:L:B:M:P:W:l:2Hw:o:D:h")) !=
           -1) {
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
        case 'R':
            raw_port = atoi(optarg);
            break;
        case 'F':
            fallback = 1;
            break;
        case 'f':
            fifo = optarg;
            break;
        case 'G':
            cgi_dir = optarg;
            break;
        case 'g':
            ts->m_cgi.cgi_timeout = ts->m_ssi.cgi_timeout = (unsigned)atoi(optarg);
            break;
        case 'S':
            ssi_dir = optarg;
            break;
        case 's':
            tls = 1;
            break;
        case 'C':
            cert = optarg;
            break;
        case 'K':
            key = optarg;
            break;
        case 'z':
            vi.ws_deflate = NULL;
            break;
        case 'Z':
            if (sscanf(optarg, "%d:%d:%d:%3s", &ts->deflate.level, &ts->deflate.mem_level,
                       &ts->deflate.window_bits, nct) < 3) {
                usage(argv[0]);
                return 2;
            }
            if (!strcmp(nct, "nct"))
                ts->deflate.flags = KITE_WS_DEFLATE_NO_CONTEXT_TAKEOVER;
            vi.ws_deflate = &ts->deflate;
            break;
        case 'L':
            lua_dir = optarg;
            break;
        case 'B':
            ts->m_lua.lua_budget =
                strcmp(optarg, "off") ? strtoul(optarg, NULL, 10) : KITE_LUA_NO_BUDGET;
            break;
        case 'M':
            ts->m_lua.lua_max_memory = strtoul(optarg, NULL, 10);
            break;
        case 'P':
            ts->m_lua.lua_preload = optarg;
            break;
        case 'W':
            ts->m_lua.lua_ws_root = optarg;
            break;
        case 'l':
            /* lhttpd: -l prefix script.lua */
            if (nhandlers == TEST_SERVER_MAX_LUA_HANDLERS || optind >= argc) {
                usage(argv[0]);
                return 2;
            }
            ts->m_handlers[nhandlers].mountpoint = optarg;
            ts->m_handlers[nhandlers].lua_handler = argv[optind++];
            nhandlers++;
            break;
        case '2':
            vi.options |= KITE_VH_H2C;
            break;
        case 'H':
            vi.options |= KITE_VH_NO_H2;
            break;
        case 'w':
            ci->send_timeout = (unsigned)atoi(optarg);
            break;
        case 'o':
            ci->h2_settings_timeout = (unsigned)atoi(optarg);
            break;
        case 'D':
            ts->drain_ms = (unsigned)atoi(optarg);
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
    if (cgi_dir) {
        ts->m_redir.next = &ts->m_cgi;
        ts->m_cgi.mountpoint = "/cgi-bin";
        ts->m_cgi.origin = cgi_dir;
        ts->m_cgi.origin_protocol = KITE_MOUNT_CGI;
        ts->m_cgi.cgi_env = &cgi_env;
    }
    tail = (kite_mount_t **)(cgi_dir ? &ts->m_cgi.next : &ts->m_redir.next);
    if (ssi_dir) {
        /* -S: *.shtml files of the directory, with exec at /ssi and
         * without at /ssi-noexec. */
        ts->m_ssi.mountpoint = "/ssi";
        ts->m_ssi.origin = ssi_dir;
        ts->m_ssi.origin_protocol = KITE_MOUNT_FILE;
        ts->m_ssi.ssi_pattern = "**.shtml$";
        ts->m_ssi.ssi_exec = 1;
        ts->m_ssi_off = ts->m_ssi;
        ts->m_ssi_off.mountpoint = "/ssi-noexec";
        ts->m_ssi_off.ssi_exec = 0;
        ts->m_ssi.next = &ts->m_ssi_off;
        *tail = &ts->m_ssi;
        tail = (kite_mount_t **)&ts->m_ssi_off.next;
    }
    if (lua_dir) {
        /* -L: Lua pages, scripts and websockets under /lua. */
        ts->m_lua.mountpoint = "/lua";
        ts->m_lua.origin = lua_dir;
        ts->m_lua.origin_protocol = KITE_MOUNT_FILE;
        ts->m_lua.lua_page_pattern = "**.lp$|**.lsp$";
        ts->m_lua.lua_script_pattern = "**.lua$";
        ts->m_lua.index_files = "index.html";
        ts->m_lua.interpret = &lua_interpret;
        *tail = &ts->m_lua;
        tail = (kite_mount_t **)&ts->m_lua.next;
    }
    for (i = 0; i < nhandlers; i++) {
        kite_mount_t *h = &ts->m_handlers[i];
        h->origin = resource;
        h->origin_protocol = KITE_MOUNT_FILE;
        h->lua_budget = ts->m_lua.lua_budget;
        h->lua_preload = ts->m_lua.lua_preload;
        *tail = h;
        tail = (kite_mount_t **)&h->next;
    }

    vi.name = "localhost";
    vi.protocols = fallback || fifo ? protocols_raw : protocols;
    vi.pvo = &pvo;
    if (fallback) {
        pvo.next = &pvo_raw;
        vi.options |= KITE_VH_FALLBACK_TO_RAW;
    }
    vi.mounts = &ts->m_root;
    if (tls && test_server_tls(&vi, cert, key) < 0)
        goto fail;
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
        if (tls && (xi.tls_cert = strchr(eq + 1, ':')) &&
            (xi.tls_key = strchr(xi.tls_cert + 1, ':'))) {
            /* NAME=DIR:CERT:KEY: this vhost's own certificate, picked by SNI */
            *(char *)xi.tls_cert++ = '\0';
            *(char *)xi.tls_key++ = '\0';
        } else {
            xi.tls_cert = vi.tls_cert;
            xi.tls_key = vi.tls_key;
        }
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
    if (raw_port >= 0) {
        kite_vhost_info_t ri = KITE_VHOST_INFO_INIT();

        ri.name = "raw";
        ri.iface = vi.iface;
        ri.port = raw_port;
        ri.options = KITE_VH_RAW_ONLY;
        ri.protocols = protocols_raw_only;
        ri.pvo = &pvo_raw;
        ts->raw_vhost = kite_vhost_create(ts->context, &ri, &err);
        if (!ts->raw_vhost) {
            fprintf(stderr, "kite-test-server: raw vhost: %s\n", kite_strerror(err));
            goto fail;
        }
    }
    if (fifo && adopt_fifo(ts, fifo) < 0)
        goto fail;
    return -1;

fail:
    kite_context_destroy(ts->context);
    ts->context = NULL;
    return 1;
}

void test_server_announce(const test_server_t *ts)
{
    printf("kite-test-server: listening on port %d\n", kite_vhost_port(ts->vhost));
    if (ts->raw_vhost)
        printf("kite-test-server: raw port %d\n", kite_vhost_port(ts->raw_vhost));
    fflush(stdout);
}
