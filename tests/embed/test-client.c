/*
 * kite_client_connect() against kite servers in the same process and loop
 * (and a thread playing a misbehaving server): HTTP GET with headers and
 * body pieces, POST bodies by Content-Length and chunked, a redirect
 * followed, raw TCP, a WebSocket echo (text and a 200 KB binary message,
 * through a name lookup of "localhost"), wss with a self-signed
 * certificate accepted only when asked, and the reasons of the failures:
 * refused connect, connect timeout (a listener whose backlog is full),
 * a non-101 answer, a wrong Sec-WebSocket-Accept, a subprotocol not
 * offered; and the frame rules on the client side (its own frames
 * masked; a masked server frame, RSV1, a reserved opcode and bad UTF-8
 * close it with 1002/1007). IPv6 and a local address too. Run with
 * "extpoll" for the external-poll backend (its name lookups run on a
 * thread of their own).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "extpoll-loop.h"
#include "kite.h"
#include "tap.h"

static kite_context_t *ctx;
static kite_vhost_t *cvh;
static int use_extpoll, port, tls_port, port6;

/* --- the servers' protocols ---------------------------------------------- */

typedef struct srv_sess {
    size_t body;
} srv_sess_t;

static int srv_http(kite_conn_t *c, void *user, const kite_http_req_t *req)
{
    (void)user;
    if (!strcmp(kite_http_path(req), "/cb/redir"))
        return kite_http_redirect(c, 302, "/cb/hello");
    if (kite_http_method_id(req) == KITE_HTTP_POST)
        return 0;
    kite_http_add_header(c, "X-Test", "yes");
    kite_http_respond(c, 200, "text/plain", 5);
    return kite_write(c, "hello", 5, KITE_WRITE_HTTP_FINAL) < 0;
}

static int srv_body(kite_conn_t *c, void *user, const void *in, size_t len)
{
    (void)c;
    (void)in;
    ((srv_sess_t *)user)->body += len;
    return 0;
}

static int srv_body_done(kite_conn_t *c, void *user)
{
    char b[32];
    int n = snprintf(b, sizeof(b), "%zu", ((srv_sess_t *)user)->body);

    kite_http_respond(c, 200, "text/plain", n);
    return kite_write(c, b, (size_t)n, KITE_WRITE_HTTP_FINAL) < 0;
}

static int srv_echo(kite_conn_t *c, void *user, const void *in, size_t len, unsigned flags)
{
    (void)user;
    return kite_write(c, in, len, (flags & KITE_RX_BINARY) ? KITE_WRITE_BINARY : KITE_WRITE_TEXT) <
           0;
}

static const kite_protocol_t p_srv_http = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "srv-http",
    .per_session_size = sizeof(srv_sess_t),
    .on_http = srv_http,
    .on_http_body = srv_body,
    .on_http_body_done = srv_body_done,
};

static const kite_protocol_t p_srv_echo = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "echo-test",
    .rx_buffer_size = 1 << 20,
    .flags = KITE_PROTO_WHOLE_MESSAGES,
    .on_receive = srv_echo,
};

static const kite_protocol_t *const srv_protos[] = {&p_srv_echo, &p_srv_http, NULL};
static const kite_mount_t srv_mount =
    KITE_MOUNT_INIT(.mountpoint = "/cb", .origin = "callback://srv-http",
                    .origin_protocol = KITE_MOUNT_AUTO);

/* --- the client protocol: records what happened ------------------------- */

static struct {
    int established, done, closed, close_code, status, msgs;
    char error[300], xtest[16], body[512];
    size_t body_len, post_left, post_total, big_len;
    int big_ok;
} st;

static unsigned char big[200000];

static void reset(void)
{
    memset(&st, 0, sizeof(st));
}

static int cl_established(kite_conn_t *c, void *user)
{
    (void)user;
    st.established++;
    if (kite_ws_is_websocket(c))
        return kite_write(c, "hello ws", 8, KITE_WRITE_TEXT) < 0;
    if (st.post_left)
        kite_callback_on_writable(c);
    return 0;
}

static void cl_error(kite_conn_t *c, void *user, const char *why)
{
    (void)c;
    (void)user;
    snprintf(st.error, sizeof(st.error), "%s", why);
}

static int cl_response(kite_conn_t *c, void *user, int status)
{
    const char *x = kite_client_http_header(c, "x-test");

    (void)user;
    st.status = status;
    snprintf(st.xtest, sizeof(st.xtest), "%s", x ? x : "");
    return 0;
}

static int cl_body(kite_conn_t *c, void *user, const void *in, size_t len)
{
    (void)c;
    (void)user;
    if (st.body_len + len < sizeof(st.body))
        memcpy(st.body + st.body_len, in, len);
    st.body_len += len;
    return 0;
}

static int cl_done(kite_conn_t *c, void *user)
{
    (void)c;
    (void)user;
    st.done++;
    return 0;
}

static int cl_writeable(kite_conn_t *c, void *user)
{
    static char chunk[16384];
    size_t n = st.post_left < sizeof(chunk) ? st.post_left : sizeof(chunk);
    int final = n == st.post_left;

    (void)user;
    memset(chunk, 'p', n);
    if (kite_write(c, chunk, n, final ? KITE_WRITE_HTTP_FINAL : KITE_WRITE_HTTP) < 0)
        return -1;
    st.post_left -= n;
    if (!final)
        kite_callback_on_writable(c);
    return 0;
}

static int cl_receive(kite_conn_t *c, void *user, const void *in, size_t len, unsigned flags)
{
    (void)user;
    st.msgs++;
    if (st.msgs == 1) {
        if (len != 8 || memcmp(in, "hello ws", 8) || (flags & KITE_RX_BINARY))
            return -1;
        return kite_write(c, big, sizeof(big), KITE_WRITE_BINARY) < 0;
    }
    st.big_len = len;
    st.big_ok = len == sizeof(big) && !memcmp(in, big, len) && (flags & KITE_RX_BINARY);
    kite_close(c, KITE_WS_CLOSE_NORMAL, "bye");
    return 0;
}

static int cl_raw(kite_conn_t *c, void *user, const void *in, size_t len)
{
    (void)c;
    return cl_body(c, user, in, len);
}

static void cl_closed(kite_conn_t *c, void *user, int code)
{
    (void)c;
    (void)user;
    st.closed++;
    st.close_code = code;
}

static const kite_protocol_t p_cli = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "echo-test",
    .per_session_size = 16,
    .rx_buffer_size = 1 << 20,
    .flags = KITE_PROTO_WHOLE_MESSAGES,
    .on_client_established = cl_established,
    .on_client_connection_error = cl_error,
    .on_client_http_response = cl_response,
    .on_client_http_body = cl_body,
    .on_client_http_done = cl_done,
    .on_writeable = cl_writeable,
    .on_receive = cl_receive,
    .on_raw = cl_raw,
    .on_closed = cl_closed,
};
static const kite_protocol_t *const cli_protos[] = {&p_cli, NULL};

/* --- driving the loop ---------------------------------------------------- */

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Run the loop until *@flag is set or @ms pass. */
static void pump(const int *flag, unsigned ms)
{
    uint64_t end = now_ms() + ms;

    while (!*flag && now_ms() < end) {
        if (use_extpoll)
            el_pass(ctx, 20);
        else
            kite_service(ctx, 0, 20);
    }
}

static int finished(void)
{
    return st.closed || st.error[0];
}

static int fin_flag;

static void run_until_finished(unsigned ms)
{
    uint64_t end = now_ms() + ms;

    while (!finished() && now_ms() < end)
        pump(&fin_flag, 20);
}

static kite_conn_t *connect_to(const char *addr, int p, const char *path, const char *method,
                               unsigned flags)
{
    kite_client_info_t ci =
        KITE_CLIENT_INFO_INIT(.vhost = cvh, .address = addr, .port = p, .path = path,
                              .method = method, .flags = flags, .connect_timeout_ms = 3000);
    int err = 0;
    kite_conn_t *c;

    if (!method)
        ci.protocol = "echo-test";
    if (flags & KITE_CLIENT_TLS)
        ci.sni = "localhost"; /* the certificate's name (mbedTLS 2.28 does not match IPs) */
    if (method && !strcmp(method, "POST"))
        ci.content_length = st.post_total == 100000 ? -1 : (int64_t)st.post_total;
    c = kite_client_connect(ctx, &ci, &err);
    if (!c)
        printf("# kite_client_connect: %s\n", kite_strerror(err));
    return c;
}

/* --- a misbehaving server on a thread ------------------------------------ */

static int bad_fd, bad_port;
static const char *bad_answer;

static void *bad_server(void *arg)
{
    char buf[4096];
    int fd;

    (void)arg;
    fd = accept(bad_fd, NULL, NULL);
    if (fd < 0)
        return NULL;
    if (read(fd, buf, sizeof(buf)) > 0 && write(fd, bad_answer, strlen(bad_answer)) < 0)
        perror("write");
    usleep(300 * 1000);
    close(fd);
    return NULL;
}

static int listen_any(int backlog, int *p)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t sl = sizeof(sin);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) || listen(fd, backlog) ||
        getsockname(fd, (struct sockaddr *)&sin, &sl))
        return -1;
    *p = ntohs(sin.sin_port);
    return fd;
}

static void bad_case(const char *answer, const char *want, const char *what)
{
    pthread_t th;

    bad_answer = answer;
    reset();
    pthread_create(&th, NULL, bad_server, NULL);
    connect_to("127.0.0.1", bad_port, "/", NULL, 0);
    run_until_finished(3000);
    pthread_join(th, NULL);
    tap_ok(strstr(st.error, want) && !st.established && !st.closed, "%s: \"%s\"", what, st.error);
}

/* --- a websocket server on a thread that breaks the frame rules --------- */

/* SHA-1 (FIPS 180-4), for the accept key only: the test sees kite's public API. */
static void sha1(const unsigned char *msg, size_t len, unsigned char out[20])
{
    uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0}, w[80];
    size_t total = ((len + 8) / 64 + 1) * 64, i, j;
    unsigned char *m = calloc(1, total);

    memcpy(m, msg, len);
    m[len] = 0x80;
    for (i = 0; i < 8; i++)
        m[total - 1 - i] = (unsigned char)((uint64_t)len * 8 >> (8 * i));
    for (i = 0; i < total; i += 64) {
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f, k, t;
        for (j = 0; j < 16; j++)
            w[j] = (uint32_t)m[i + 4 * j] << 24 | (uint32_t)m[i + 4 * j + 1] << 16 |
                   (uint32_t)m[i + 4 * j + 2] << 8 | m[i + 4 * j + 3];
        for (j = 16; j < 80; j++) {
            t = w[j - 3] ^ w[j - 8] ^ w[j - 14] ^ w[j - 16];
            w[j] = t << 1 | t >> 31;
        }
        for (j = 0; j < 80; j++) {
            if (j < 20) {
                f = (b & c) | (~b & d);
                k = 0x5A827999;
            } else if (j < 40) {
                f = b ^ c ^ d;
                k = 0x6ED9EBA1;
            } else if (j < 60) {
                f = (b & c) | (b & d) | (c & d);
                k = 0x8F1BBCDC;
            } else {
                f = b ^ c ^ d;
                k = 0xCA62C1D6;
            }
            t = (a << 5 | a >> 27) + f + e + k + w[j];
            e = d;
            d = c;
            c = b << 30 | b >> 2;
            b = a;
            a = t;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
    }
    for (i = 0; i < 20; i++)
        out[i] = (unsigned char)(h[i / 4] >> (24 - 8 * (i % 4)));
    free(m);
}

static void base64(const unsigned char *in, size_t n, char *out)
{
    static const char tb[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i;

    for (i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        *out++ = tb[v >> 18 & 63];
        *out++ = tb[v >> 12 & 63];
        *out++ = i + 1 < n ? tb[v >> 6 & 63] : '=';
        *out++ = i + 2 < n ? tb[v & 63] : '=';
    }
    *out = '\0';
}

static const char *extra_101 = ""; /* header lines added to the 101 */
static const unsigned char *frame_after;
static size_t frame_after_len;
static int client_masked; /* the client's first frame: 1 masked "hello ws", 0 not, -1 none */

static void *ws_server(void *arg)
{
    char buf[4096], acc[64], resp[256];
    unsigned char sha[20], f[64];
    char *k, *e;
    ssize_t n;
    int fd;

    (void)arg;
    client_masked = -1;
    fd = accept(bad_fd, NULL, NULL);
    if (fd < 0)
        return NULL;
    n = read(fd, buf, sizeof(buf) - 100);
    buf[n > 0 ? n : 0] = '\0';
    k = strstr(buf, "Sec-WebSocket-Key: ");
    if (k && (e = strstr(k, "\r\n"))) {
        k += 19;
        *e = '\0';
        strcat(k, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
        sha1((unsigned char *)k, strlen(k), sha);
        base64(sha, 20, acc);
        snprintf(resp, sizeof(resp),
                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n%s\r\n",
                 acc, extra_101);
        if (write(fd, resp, strlen(resp)) < 0)
            perror("write");
        /* The client says "hello ws" at once: masked, with a key. */
        if (read(fd, f, 14) == 14)
            client_masked = (f[1] & 0x80) && (f[1] & 0x7f) == 8 && (f[6] ^ f[2]) == 'h' &&
                            (f[13] ^ f[5]) == 's';
        if (write(fd, frame_after, frame_after_len) < 0)
            perror("write");
    }
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    close(fd);
    return NULL;
}

/* The server sends @frame after the handshake: the client must close with @code. */
static void frame_case(const void *frame, size_t len, int code, const char *what)
{
    pthread_t th;

    frame_after = frame;
    frame_after_len = len;
    reset();
    pthread_create(&th, NULL, ws_server, NULL);
    connect_to("127.0.0.1", bad_port, "/", NULL, 0);
    run_until_finished(3000);
    pthread_join(th, NULL);
    tap_ok(st.established && client_masked == 1 && st.closed && st.close_code == code,
           "%s: closed with %d (got %d, client frame masked: %d)", what, code, st.close_code,
           client_masked);
}

static void t_frames(void)
{
    static const unsigned char masked[] = {0x81, 0x82, 1, 2, 3, 4, 'h' ^ 1, 'i' ^ 2};
    static const unsigned char rsv[] = {0xc1, 0x02, 'h', 'i'};
    static const unsigned char opcode[] = {0x83, 0x00};
    static const unsigned char bad_utf8[] = {0x81, 0x02, 0xc3, 0x28};
    static const unsigned char close_ok[] = {0x88, 0x02, 0x03, 0xe8};

    bad_fd = listen_any(4, &bad_port);
    frame_case(masked, sizeof(masked), KITE_WS_CLOSE_PROTOCOL_ERR, "a masked server frame");
    frame_case(rsv, sizeof(rsv), KITE_WS_CLOSE_PROTOCOL_ERR, "RSV1 with no extension");
    frame_case(opcode, sizeof(opcode), KITE_WS_CLOSE_PROTOCOL_ERR, "a reserved opcode");
    frame_case(bad_utf8, sizeof(bad_utf8), KITE_WS_CLOSE_INVALID_PAYLOAD, "text that is not UTF-8");
    frame_case(close_ok, sizeof(close_ok), KITE_WS_CLOSE_NORMAL, "the server's close 1000");
    close(bad_fd);
}

/* A 101 with the right key naming what the client did not offer. */
static void t_not_offered(void)
{
    static const struct {
        const char *hdr, *want, *what;
    } c[] = {
        {"Sec-WebSocket-Protocol: other\r\n", "subprotocol that was not offered",
         "a subprotocol that was not offered"},
        {"Sec-WebSocket-Protocol: echo-test, other\r\n", "subprotocol that was not offered",
         "two subprotocols"},
        {"Sec-WebSocket-Extensions: permessage-deflate\r\n", "extension that was not offered",
         "an extension that was not offered"},
    };
    pthread_t th;
    size_t i;

    bad_fd = listen_any(4, &bad_port);
    frame_after = (const unsigned char *)"";
    frame_after_len = 0;
    for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        extra_101 = c[i].hdr;
        reset();
        pthread_create(&th, NULL, ws_server, NULL);
        connect_to("127.0.0.1", bad_port, "/", NULL, 0);
        run_until_finished(3000);
        pthread_join(th, NULL);
        tap_ok(strstr(st.error, c[i].want) && !st.established, "ws: %s refused (\"%s\")", c[i].what,
               st.error);
    }
    extra_101 = "";
    close(bad_fd);
}

/* --- the cases ----------------------------------------------------------- */

static void t_http(void)
{
    reset();
    connect_to("127.0.0.1", port, "/cb/hello", "GET", 0);
    run_until_finished(3000);
    tap_ok(st.established == 1 && st.status == 200 && !strcmp(st.xtest, "yes"),
           "GET: established, 200, X-Test header (%d %d %s)", st.established, st.status, st.xtest);
    tap_ok(st.body_len == 5 && !memcmp(st.body, "hello", 5) && st.done == 1 && st.closed == 1,
           "GET: body \"hello\", done, closed");

    reset();
    connect_to("127.0.0.1", port, "/cb/redir", "GET", KITE_CLIENT_FOLLOW_REDIRECTS);
    run_until_finished(3000);
    tap_ok(st.status == 200 && st.body_len == 5 && st.done == 1 && st.closed == 1 &&
               st.established == 1,
           "redirect followed: 200 \"hello\" on the same protocol user (%d)", st.status);

    reset();
    connect_to("127.0.0.1", port, "/cb/redir", "GET", 0);
    run_until_finished(3000);
    tap_ok(st.status == 302 && st.done == 1, "redirect not followed without the flag (%d)",
           st.status);

    reset();
    st.post_left = st.post_total = 300000;
    connect_to("127.0.0.1", port, "/cb/post", "POST", 0);
    run_until_finished(5000);
    tap_ok(st.status == 200 && st.body_len == 6 && !memcmp(st.body, "300000", 6),
           "POST 300000 bytes by Content-Length: the server got them all (%.*s)", (int)st.body_len,
           st.body);

    reset();
    st.post_left = st.post_total = 100000;
    connect_to("127.0.0.1", port, "/cb/post", "POST", 0);
    run_until_finished(5000);
    tap_ok(st.status == 200 && st.body_len == 6 && !memcmp(st.body, "100000", 6),
           "POST 100000 bytes chunked: the server got them all (%.*s)", (int)st.body_len, st.body);

    reset();
    {
        kite_conn_t *c = connect_to("127.0.0.1", port, "/", "RAW", 0);
        pump(&st.established, 3000);
        tap_ok(st.established &&
                   kite_write(c, "GET /cb/x HTTP/1.0\r\n\r\n", 22, KITE_WRITE_RAW) == 0,
               "raw: established, request written");
        run_until_finished(3000);
        tap_ok(st.closed && st.body_len > 5 && !memcmp(st.body + st.body_len - 5, "hello", 5),
               "raw: the response came through on_raw (%zu bytes)", st.body_len);
    }
}

/* IPv6, and a local address to connect from. */
static void t_addresses(void)
{
    kite_client_info_t ci =
        KITE_CLIENT_INFO_INIT(.vhost = cvh, .address = "::1", .port = port6, .path = "/cb/hello",
                              .method = "GET", .connect_timeout_ms = 3000);
    int err;

    reset();
    if (!port6) {
        tap_ok(1, "# SKIP no ::1 on this machine");
    } else {
        kite_client_connect(ctx, &ci, &err);
        run_until_finished(3000);
        tap_ok(st.status == 200 && st.body_len == 5 && st.done == 1,
               "GET http://[::1]:port/: 200 \"hello\" (%d %s)", st.status, st.error);
    }
    reset();
    ci.address = "127.0.0.1";
    ci.port = port;
    ci.local_address = "127.0.0.1";
    kite_client_connect(ctx, &ci, &err);
    run_until_finished(3000);
    tap_ok(st.status == 200 && st.done == 1, "local_address 127.0.0.1: 200 (%s)", st.error);
    reset();
    ci.local_address = "192.0.2.1"; /* TEST-NET: not an address of this host */
    kite_client_connect(ctx, &ci, &err);
    run_until_finished(3000);
    tap_ok(strstr(st.error, "connect to 127.0.0.1") && !st.established,
           "a local_address this host does not have: connection error \"%s\"", st.error);
}

static void t_ws(const char *addr, int p, unsigned flags, const char *what)
{
    reset();
    connect_to(addr, p, "/", NULL, flags);
    run_until_finished(5000);
    tap_ok(st.established == 1 && st.msgs == 2 && st.big_ok,
           "%s: echo of a text and a 200 KB binary message (%d msgs, %zu) %s", what, st.msgs,
           st.big_len, st.error);
    tap_ok(st.closed == 1 && st.close_code == KITE_WS_CLOSE_NORMAL, "%s: closed with 1000 (%d)",
           what, st.close_code);
}

static void t_errors(void)
{
    int p, fd, i, fill[4];

    fd = listen_any(1, &p);
    close(fd);
    reset();
    connect_to("127.0.0.1", p, "/", "GET", 0);
    run_until_finished(3000);
    tap_ok(strstr(st.error, "refused") && !st.established && !st.closed,
           "closed port: connection error \"%s\", no on_closed", st.error);

    /* A listener that never accepts, its backlog full: SYNs are dropped. */
    fd = listen_any(0, &p);
    for (i = 0; i < 4; i++) {
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p)};
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (connect(fill[i], (struct sockaddr *)&sin, sizeof(sin)) && errno != EINPROGRESS)
            perror("connect");
    }
    usleep(100 * 1000);
    reset();
    {
        kite_client_info_t ci =
            KITE_CLIENT_INFO_INIT(.vhost = cvh, .address = "127.0.0.1", .port = p, .method = "GET",
                                  .connect_timeout_ms = 400);
        uint64_t t0 = now_ms();
        int err;
        kite_client_connect(ctx, &ci, &err);
        run_until_finished(3000);
        tap_ok(strstr(st.error, "timed out") && now_ms() - t0 < 2000,
               "connect timeout: \"%s\" after %llu ms", st.error,
               (unsigned long long)(now_ms() - t0));
    }
    for (i = 0; i < 4; i++)
        close(fill[i]);
    close(fd);

    bad_fd = listen_any(4, &bad_port);
    bad_case("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", "answered 404",
             "ws to a server that answers 404");
    bad_case("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n",
             "wrong Sec-WebSocket-Accept", "ws: a wrong accept key");
    bad_case("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n", "closed the connection before",
             "ws: the server closes in the head");
    close(bad_fd);
}

/* The server picks a subprotocol the client did not offer. */
static void t_bad_subprotocol(void)
{
    kite_client_info_t ci =
        KITE_CLIENT_INFO_INIT(.vhost = cvh, .address = "127.0.0.1", .port = port,
                              .protocol = "nothing-here", .local_protocol = "echo-test");
    int err;

    /* kite's server refuses unknown subprotocols with a 400. */
    reset();
    kite_client_connect(ctx, &ci, &err);
    run_until_finished(3000);
    tap_ok(strstr(st.error, "answered 400") != NULL, "ws: unknown subprotocol refused (\"%s\")",
           st.error);
}

static void t_tls(void)
{
    reset();
    connect_to("127.0.0.1", tls_port, "/", NULL, KITE_CLIENT_TLS);
    run_until_finished(3000);
    tap_ok(strstr(st.error, "certificate verification failed") && !st.established,
           "wss: a self-signed certificate is refused by default (\"%s\")", st.error);
    t_ws("127.0.0.1", tls_port, KITE_CLIENT_TLS | KITE_CLIENT_ALLOW_SELFSIGNED,
         "wss (self-signed allowed)");
    reset();
    connect_to("127.0.0.1", tls_port, "/cb/hello", "GET",
               KITE_CLIENT_TLS | KITE_CLIENT_ALLOW_SELFSIGNED);
    run_until_finished(3000);
    tap_ok(st.status == 200 && st.body_len == 5 && st.done == 1, "https GET: 200 \"hello\"");
}

int main(int argc, char **argv)
{
    kite_context_info_t ci = KITE_CONTEXT_INFO_INIT();
    kite_vhost_info_t vi = KITE_VHOST_INFO_INIT(), ti = KITE_VHOST_INFO_INIT(),
                      cvi = KITE_VHOST_INFO_INIT();
    char dir[] = "/tmp/kite-test-client-XXXXXX", crt[64], key[64];
    kite_vhost_t *vh, *tvh;
    size_t i;
    int err;

    use_extpoll = argc > 1 && !strcmp(argv[1], "extpoll");
    if (use_extpoll)
        ci.extpoll = &el_ops;
    for (i = 0; i < sizeof(big); i++)
        big[i] = (unsigned char)(i * 7 + (i >> 9));
    ctx = kite_context_create(&ci, &err);
    tap_ok(ctx != NULL, "context (%s)", use_extpoll ? "extpoll" : "libuv");
    vi.iface = "127.0.0.1";
    vi.protocols = srv_protos;
    vi.mounts = &srv_mount;
    vh = kite_vhost_create(ctx, &vi, &err);
    port = kite_vhost_port(vh);
    if (!mkdtemp(dir))
        return 1;
    snprintf(crt, sizeof(crt), "%s/c.pem", dir);
    snprintf(key, sizeof(key), "%s/k.pem", dir);
    kite_tls_selfsigned_create(crt, key, "localhost", 2);
    ti = vi;
    ti.name = "tls";
    ti.tls_cert = crt;
    ti.tls_key = key;
    tvh = kite_vhost_create(ctx, &ti, &err);
    tls_port = tvh ? kite_vhost_port(tvh) : 0;
    cvi.name = "client";
    cvi.options = KITE_VH_NO_LISTEN;
    cvi.protocols = cli_protos;
    cvh = kite_vhost_create(ctx, &cvi, &err);
    tap_ok(vh && tvh && cvh, "server, TLS server and client vhosts");

    {
        kite_vhost_info_t v6 = vi;
        kite_vhost_t *vh6;
        v6.name = "v6";
        v6.iface = "::1";
        v6.options = KITE_VH_IPV6ONLY;
        vh6 = kite_vhost_create(ctx, &v6, &err);
        port6 = vh6 ? kite_vhost_port(vh6) : 0;
    }

    t_http();
    t_addresses();
    t_ws("127.0.0.1", port, 0, "ws to 127.0.0.1");
    t_ws("localhost", port, 0, "ws to localhost (name lookup)");
    t_bad_subprotocol();
    t_frames();
    t_not_offered();
    t_errors();
    t_tls();

    kite_context_destroy(ctx);
    unlink(crt);
    unlink(key);
    rmdir(dir);
    return tap_done();
}
