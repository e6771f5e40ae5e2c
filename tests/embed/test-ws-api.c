/*
 * The WebSocket API from a protocol's side, with raw-socket clients:
 * on_filter refusing an Origin (403), whole-message delivery of a
 * fragmented message and 1009 past rx_buffer_size, the keepalive ping
 * (a peer that answers stays, one that does not is closed), kite_close()
 * from a handler waiting for the peer's close frame only up to the close
 * timeout, the write rules kite_write() enforces, and kite_conn_fd().
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "kite.h"
#include "tap.h"

static kite_context_t *ctx;
static int port;

/* --- the protocols ------------------------------------------------------ */

static int got_whole, whole_flags;
static size_t whole_len;
static int write_rules[4];
static int fd_port;

static int filter(kite_conn_t *c, void *user, const kite_http_req_t *req)
{
    const char *origin = kite_http_header(req, "Origin");

    (void)c;
    (void)user;
    return origin && !strcmp(origin, "http://evil.example");
}

static int whole_rx(kite_conn_t *c, void *user, const void *in, size_t len, unsigned flags)
{
    (void)c;
    (void)user;
    (void)in;
    got_whole++;
    whole_len = len;
    whole_flags = (int)flags;
    return 0;
}

static const kite_protocol_t p_whole = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "whole",
    .rx_buffer_size = 1000,
    .flags = KITE_PROTO_WHOLE_MESSAGES,
    .on_filter = filter,
    .on_receive = whole_rx,
};

static int closer_established(kite_conn_t *c, void *user)
{
    static const char big[200];

    struct sockaddr_in sin;
    socklen_t sl = sizeof(sin);
    int fd = kite_conn_fd(c);

    (void)user;
    /* The fd kite_conn_fd() gives is the connection's: its local port is the vhost's. */
    if (fd >= 0 && !getsockname(fd, (struct sockaddr *)&sin, &sl))
        fd_port = ntohs(sin.sin_port);
    write_rules[0] = kite_write(c, "x", 1, KITE_WRITE_CONTINUATION);
    write_rules[1] = kite_write(c, big, sizeof(big), KITE_WRITE_PING);
    write_rules[2] = kite_write(c, "ab", 2, KITE_WRITE_TEXT | KITE_WRITE_NO_FIN);
    write_rules[3] = kite_write(c, "cd", 2, KITE_WRITE_BINARY);
    kite_write(c, "cd", 2, KITE_WRITE_CONTINUATION);
    return kite_close(c, 4000, "bye") < 0;
}

static const kite_protocol_t p_closer = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "closer",
    .on_established = closer_established,
};

static const kite_protocol_t p_idle = {.abi = KITE_PROTOCOL_ABI, .name = "idle"};

static const kite_protocol_t *const protos[] = {&p_whole, &p_closer, &p_idle, NULL};

/* --- a raw client ------------------------------------------------------- */

static int ws_connect(const char *proto, const char *origin, int *status)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {5, 0};
    char req[512], resp[1024];
    int fd = socket(AF_INET, SOCK_STREAM, 0), n, got = 0;

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
        close(fd);
        return -1;
    }
    n = snprintf(req, sizeof(req),
                 "GET / HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                 "Sec-WebSocket-Protocol: %s\r\n%s%s%s\r\n",
                 proto, origin ? "Origin: " : "", origin ? origin : "", origin ? "\r\n" : "");
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    /* Read the response head byte by byte so no frame is consumed. */
    while (got < (int)sizeof(resp) - 1 && read(fd, resp + got, 1) == 1) {
        got++;
        if (got >= 4 && !memcmp(resp + got - 4, "\r\n\r\n", 4))
            break;
    }
    resp[got] = '\0';
    *status = 0;
    sscanf(resp, "HTTP/1.1 %d", status);
    return fd;
}

static void send_frame(int fd, int op, int fin, const void *data, size_t len)
{
    unsigned char h[14], mask[4] = {1, 2, 3, 4};
    unsigned char *buf = malloc(len + 14);
    size_t hl = 2, i;

    h[0] = (unsigned char)((fin ? 0x80 : 0) | op);
    if (len < 126) {
        h[1] = (unsigned char)(0x80 | len);
    } else {
        h[1] = 0x80 | 126;
        h[2] = (unsigned char)(len >> 8);
        h[3] = (unsigned char)len;
        hl = 4;
    }
    memcpy(h + hl, mask, 4);
    hl += 4;
    memcpy(buf, h, hl);
    for (i = 0; i < len; i++)
        buf[hl + i] = ((const unsigned char *)data)[i] ^ mask[i & 3];
    if (write(fd, buf, hl + len) != (ssize_t)(hl + len))
        perror("write");
    free(buf);
}

/* Read one server frame; returns its opcode (payload in @pl) or -1. */
static int read_frame(int fd, unsigned char *pl, size_t cap, size_t *len)
{
    unsigned char h[4], skip;
    size_t n, i;

    if (recv(fd, h, 2, MSG_WAITALL) != 2)
        return -1;
    n = h[1] & 0x7f;
    if (n == 126) {
        if (recv(fd, h + 2, 2, MSG_WAITALL) != 2)
            return -1;
        n = (size_t)h[2] << 8 | h[3];
    }
    for (i = 0; i < n; i++)
        if (recv(fd, i < cap ? pl + i : &skip, 1, MSG_WAITALL) != 1)
            return -1;
    *len = n;
    return h[0] & 0x0f;
}

static int read_close_code(int fd)
{
    unsigned char pl[256];
    size_t len;
    int op;

    while ((op = read_frame(fd, pl, sizeof(pl), &len)) >= 0)
        if (op == 8)
            return len >= 2 ? pl[0] << 8 | pl[1] : 1005;
    return -1;
}

/* 1 when the server closed the TCP connection within @secs. */
static int closed_within(int fd, int secs)
{
    struct timeval tv = {secs, 0};
    unsigned char b[256];
    ssize_t r;

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    while ((r = read(fd, b, sizeof(b))) > 0)
        ;
    return r == 0;
}

/* --- the checks, from a client thread ---------------------------------- */

static void *client(void *arg)
{
    unsigned char pl[256];
    size_t len;
    int fd, status, op;
    uint64_t t0;

    (void)arg;
    fd = ws_connect("whole", "http://evil.example", &status);
    tap_is_int(status, 403, "on_filter refuses an Origin: 403");
    close(fd);

    fd = ws_connect("whole", "http://good.example", &status);
    tap_is_int(status, 101, "on_filter lets another Origin in");
    send_frame(fd, 1, 0, "hello ", 6);
    send_frame(fd, 9, 1, "p", 1); /* a ping between the fragments */
    send_frame(fd, 0, 0, "whole ", 6);
    send_frame(fd, 0, 1, "world", 5);
    op = read_frame(fd, pl, sizeof(pl), &len);
    tap_ok(op == 10 && len == 1 && pl[0] == 'p', "the ping between fragments is answered");
    send_frame(fd, 2, 1, (char[900]){0}, 900);
    usleep(100 * 1000);
    tap_is_int(got_whole, 2, "two whole messages delivered");
    send_frame(fd, 2, 1, (char[1001]){0}, 1001);
    tap_is_int(read_close_code(fd), 1009, "a message past rx_buffer_size: 1009");
    close(fd);

    fd = ws_connect("closer", NULL, &status);
    t0 = uv_hrtime();
    op = read_frame(fd, pl, sizeof(pl), &len);
    tap_ok(op == 1 && len == 2 && !memcmp(pl, "ab", 2), "a first text fragment arrives");
    op = read_frame(fd, pl, sizeof(pl), &len);
    tap_ok(op == 0 && len == 2 && !memcmp(pl, "cd", 2), "... then its continuation");
    op = read_frame(fd, pl, sizeof(pl), &len);
    tap_ok(op == 8 && len == 5 && (pl[0] << 8 | pl[1]) == 4000 && !memcmp(pl + 2, "bye", 3),
           "kite_close() sends 4000 \"bye\"");
    tap_ok(closed_within(fd, 6), "no close answer: TCP closed after the close timeout");
    tap_ok((uv_hrtime() - t0) / 1000000 >= 900, "... which it waited for (%llu ms)",
           (unsigned long long)((uv_hrtime() - t0) / 1000000));
    close(fd);

    /* Keepalive: ws_ping_pong_secs is 1. */
    fd = ws_connect("idle", NULL, &status);
    op = read_frame(fd, pl, sizeof(pl), &len);
    tap_is_int(op, 9, "an idle websocket is pinged");
    send_frame(fd, 10, 1, pl, len);
    op = read_frame(fd, pl, sizeof(pl), &len);
    tap_is_int(op, 9, "after the pong it stays open and is pinged again");
    tap_ok(closed_within(fd, 4), "no pong: the server closes the connection");
    close(fd);

    kite_cancel_service(ctx);
    return NULL;
}

int main(void)
{
    kite_context_info_t ci = KITE_CONTEXT_INFO_INIT(.ws_ping_pong_secs = 1, .ws_close_timeout = 1);
    kite_vhost_info_t vi = KITE_VHOST_INFO_INIT(.iface = "127.0.0.1", .protocols = protos);
    kite_vhost_t *vh;
    pthread_t th;
    int err = 0;

    kite_set_log_level(KITE_LL_ERR, NULL);
    ctx = kite_context_create(&ci, &err);
    vh = ctx ? kite_vhost_create(ctx, &vi, &err) : NULL;
    tap_ok(vh != NULL, "context and vhost");
    if (!vh)
        return tap_done();
    tap_ok(kite_vhost_protocol_at(vh, 0) == protos[0] &&
               kite_vhost_protocol_at(vh, 2) == protos[2] && !kite_vhost_protocol_at(vh, 3) &&
               !kite_vhost_protocol_at(vh, -1),
           "kite_vhost_protocol_at: the protocols in order, NULL outside");
    port = kite_vhost_port(vh);
    pthread_create(&th, NULL, client, NULL);
    kite_run(ctx);
    pthread_join(th, NULL);
    tap_is_int(whole_len, 900, "the last whole message had all its bytes");
    tap_is_int(whole_flags, KITE_RX_FIRST | KITE_RX_FINAL | KITE_RX_BINARY,
               "whole messages come with FIRST|FINAL (and BINARY)");
    tap_is_int(write_rules[0], KITE_EINVAL, "continuation with no message open: KITE_EINVAL");
    tap_is_int(write_rules[1], KITE_EINVAL, "a 200-byte ping: KITE_EINVAL");
    tap_is_int(write_rules[2], 0, "a first fragment");
    tap_is_int(write_rules[3], KITE_EINVAL, "a new message inside a fragmented one: KITE_EINVAL");
    tap_is_int(fd_port, port, "kite_conn_fd() is the connection's socket");
    kite_context_destroy(ctx);
    return tap_done();
}
