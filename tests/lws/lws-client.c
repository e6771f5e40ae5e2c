/*
 * A client written to the lws 4.1 API, built against libkite-lws and
 * against Debian's libwebsockets: a ws connection with the subprotocol
 * "chat" writes three messages, one per CLIENT_WRITEABLE, and prints what
 * comes back; then an HTTP GET prints the status and the body read with
 * lws_http_client_read(). Usage: lws-client PORT. Exit 0 when all came.
 */
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct lws_context *context;
static int port, sent, got, done, failed;
static char body[512];
static size_t body_len;

static void start_http(void);

static int cb_chat(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    unsigned char buf[LWS_PRE + 64];
    int n;

    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        printf("ws error %s\n", in ? (const char *)in : "?");
        failed = done = 1;
        break;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        printf("ws established\n");
        lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (sent == 3)
            break;
        n = lws_snprintf((char *)buf + LWS_PRE, 64, "from-client-%d", sent++);
        if (lws_write(wsi, buf + LWS_PRE, (size_t)n, LWS_WRITE_TEXT) != n)
            return -1;
        if (sent < 3)
            lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        printf("ws got %.*s%s\n", (int)len, (const char *)in,
               lws_is_final_fragment(wsi) ? "" : " (more)");
        if (++got == 3) {
            start_http();
            return -1;
        }
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
        printf("ws closed\n");
        break;
    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
        printf("http status %d\n", lws_http_client_http_response(wsi));
        break;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
        if (body_len + len < sizeof(body)) {
            memcpy(body + body_len, in, len);
            body_len += len;
        }
        break;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
        char rbuf[LWS_PRE + 1024], *px = rbuf + LWS_PRE;
        int lenx = sizeof(rbuf) - LWS_PRE;
        if (lws_http_client_read(wsi, &px, &lenx) < 0)
            return -1;
        break;
    }
    case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
        printf("http body %.*s", (int)body_len, body);
        done = 1;
        break;
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
        done = 1;
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"chat", cb_chat, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* A connection to the server: ws with @method NULL, else HTTP. */
static struct lws *connect_to(const char *path, const char *method)
{
    struct lws_client_connect_info i;

    memset(&i, 0, sizeof(i));
    i.context = context;
    i.address = "127.0.0.1";
    i.port = port;
    i.path = path;
    i.host = "127.0.0.1";
    i.origin = "127.0.0.1";
    i.method = method;
    i.protocol = protocols[0].name;
    return lws_client_connect_via_info(&i);
}

static void start_http(void)
{
    if (!connect_to("/dyn/client?x=5", "GET"))
        failed = done = 1;
}

int main(int argc, const char **argv)
{
    struct lws_context_creation_info info;
    int n = 0;

    if (argc < 2)
        return 2;
    port = atoi(argv[1]);
    lws_set_log_level(LLL_ERR, NULL);
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    context = lws_create_context(&info);
    if (!context)
        return 1;
    if (!connect_to("/", NULL))
        return 1;
    while (n >= 0 && !done)
        n = lws_service(context, 0);
    lws_context_destroy(context);
    fflush(stdout);
    return failed;
}
