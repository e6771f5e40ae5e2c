/*
 * lws-deflate-echo: a libwebsockets server with its permessage-deflate
 * extension and an "echo" protocol, for interop tests of kite's client
 * side (Debian's libwebsockets-test-server registers no extensions).
 * Each message is echoed once complete, in 1 KB fragments, one per
 * writeable callback. Prints "port N" when listening and "extension
 * permessage-deflate" each time lws agrees to it; runs until SIGTERM or
 * 30 s.
 *
 *   lws-deflate-echo
 */
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAXMSG (1 << 21)

typedef struct sess {
    unsigned char *buf; /* LWS_PRE + the message */
    size_t len, sent;
    int binary, ready;
} sess_t;

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int write_piece(struct lws *wsi, sess_t *s)
{
    size_t n = s->len - s->sent < 1024 ? s->len - s->sent : 1024;
    int fin = s->sent + n == s->len;
    int flags = lws_write_ws_flags(s->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT, !s->sent, fin);

    if (lws_write(wsi, s->buf + LWS_PRE + s->sent, n, (enum lws_write_protocol)flags) < (int)n)
        return -1;
    s->sent += n;
    if (fin)
        s->ready = 0;
    else
        lws_callback_on_writable(wsi);
    return 0;
}

static int cb_echo(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    sess_t *s = user;

    switch (reason) {
    case LWS_CALLBACK_CONFIRM_EXTENSION_OKAY:
        printf("extension %s\n", (const char *)in);
        fflush(stdout);
        return 0;
    case LWS_CALLBACK_ESTABLISHED:
        s->buf = malloc(LWS_PRE + MAXMSG);
        return s->buf ? 0 : -1;
    case LWS_CALLBACK_RECEIVE:
        if (s->ready || s->len + len > MAXMSG)
            return -1;
        if (lws_is_first_fragment(wsi))
            s->binary = lws_frame_is_binary(wsi);
        memcpy(s->buf + LWS_PRE + s->len, in, len);
        s->len += len;
        if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
            s->ready = 1;
            s->sent = 0;
            lws_callback_on_writable(wsi);
        }
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (!s->ready)
            return 0;
        if (write_piece(wsi, s) < 0)
            return -1;
        if (!s->ready)
            s->len = 0;
        return 0;
    case LWS_CALLBACK_CLOSED:
        free(s->buf);
        s->buf = NULL;
        return 0;
    default:
        return 0;
    }
}

static const struct lws_protocols protocols[] = {
    {"http", lws_callback_http_dummy, 0, 0, 0, NULL, 0},
    {"echo", cb_echo, sizeof(sess_t), 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static const struct lws_extension exts[] = {
    {"permessage-deflate", lws_extension_callback_pm_deflate,
     "permessage-deflate; client_max_window_bits"},
    {NULL, NULL, NULL},
};

int main(void)
{
    struct lws_context_creation_info info;
    struct lws_context *ctx;
    struct lws_vhost *vh;
    time_t end = time(NULL) + 30;

    lws_set_log_level(LLL_ERR, NULL);
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    info.protocols = protocols;
    info.extensions = exts;
    info.iface = "127.0.0.1";
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    if (!(ctx = lws_create_context(&info)))
        return 1;
    info.port = 0;
    if (!(vh = lws_create_vhost(ctx, &info)))
        return 1;
    printf("port %d\n", lws_get_vhost_listen_port(vh));
    fflush(stdout);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    while (!stop && time(NULL) < end && lws_service(ctx, 0) >= 0)
        ;
    lws_context_destroy(ctx);
    return 0;
}
