/*
 * The A/B server of README.lws-compat.md's speed figures, written to the
 * lws 4.1 API and built against libkite-lws (lws-echo-kite) and against
 * Debian's lws (lws-echo-native). It takes kite-test-server's flags that
 * bench/ab.sh passes (-p PORT, -i IFACE, -r DOCROOT; -k and -n are
 * accepted and ignored) and serves the docroot at "/" and the websocket
 * protocol "echo" (each message back, one per SERVER_WRITEABLE, from a
 * queue of 8 whose filling holds reading with rx flow control).
 */
#include <libwebsockets.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static volatile int interrupted;

#define SLOTS 8

struct pss {
    struct {
        unsigned char buf[LWS_PRE + 2048];
        size_t len;
        int flags;
    } q[SLOTS];
    unsigned head, tail, paused;
};

static int cb_echo(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    struct pss *pss = user;
    unsigned i;

    switch (reason) {
    case LWS_CALLBACK_RECEIVE:
        i = pss->head % SLOTS;
        if (len > sizeof(pss->q[i].buf) - LWS_PRE || pss->head - pss->tail == SLOTS)
            return -1;
        memcpy(pss->q[i].buf + LWS_PRE, in, len);
        pss->q[i].len = len;
        pss->q[i].flags =
            lws_write_ws_flags(lws_frame_is_binary(wsi) ? LWS_WRITE_BINARY : LWS_WRITE_TEXT,
                               lws_is_first_fragment(wsi), lws_is_final_fragment(wsi));
        pss->head++;
        /* A full queue holds reading until the writes caught up. */
        if (pss->head - pss->tail == SLOTS) {
            pss->paused = 1;
            lws_rx_flow_control(wsi, 0);
        }
        lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (pss->tail == pss->head)
            break;
        i = pss->tail % SLOTS;
        if (lws_write(wsi, pss->q[i].buf + LWS_PRE, pss->q[i].len,
                      (enum lws_write_protocol)pss->q[i].flags) < (int)pss->q[i].len)
            return -1;
        pss->tail++;
        if (pss->tail != pss->head)
            lws_callback_on_writable(wsi);
        if (pss->paused && pss->head - pss->tail < SLOTS / 2) {
            pss->paused = 0;
            lws_rx_flow_control(wsi, 1);
        }
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"http", lws_callback_http_dummy, 0, 0, 0, NULL, 0},
    {"echo", cb_echo, sizeof(struct pss), 2048, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static struct lws_http_mount mount = {
    NULL, "/", ".", "index.html", NULL, NULL, NULL,        NULL, 0, 0, 0,
    0,    0,   0,   LWSMPRO_FILE, 1,    NULL, {NULL, NULL}};

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

int main(int argc, const char **argv)
{
    struct lws_context_creation_info info;
    struct lws_context *context;
    const char *p;
    int n = 0;

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    lws_set_log_level(LLL_ERR, NULL);
    memset(&info, 0, sizeof(info));
    info.port = (p = lws_cmdline_option(argc, argv, "-p")) ? atoi(p) : 7681;
    info.iface = lws_cmdline_option(argc, argv, "-i");
    if ((p = lws_cmdline_option(argc, argv, "-r")))
        mount.origin = p;
    info.mounts = &mount;
    info.protocols = protocols;
    info.keepalive_timeout = 300;
    context = lws_create_context(&info);
    if (!context)
        return 1;
    while (n >= 0 && !interrupted)
        n = lws_service(context, 0);
    lws_context_destroy(context);
    return 0;
}
