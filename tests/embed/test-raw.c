/*
 * Raw connections: a raw-only vhost echoes TCP bytes; a vhost with
 * fallback-to-raw still answers HTTP, but a connection whose first bytes
 * are not HTTP becomes raw with those bytes delivered first; an adopted
 * socketpair end and an adopted pipe deliver to on_raw and can be written;
 * a regular file cannot be adopted. Run on both event backends.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kite.h"
#include "tap.h"

static kite_context_t *ctx;
static kite_vhost_t *vh_raw, *vh_fb, *vh_udp;
static char pipe_rx[256];
static size_t pipe_rx_len;
static int adopted_closed;
static int peer_closed; /* on_closed with KITE_CLOSE_PEER */
static atomic_int stop;

/* "echo" answers every raw piece with "echo:" + the piece. */
static int raw_rx(kite_conn_t *c, void *user, const void *in, size_t len)
{
    (void)user;
    if (kite_conn_vhost(c) == vh_fb && len && ((const char *)in)[0] == '|') {
        /* the adopted pipe: collect */
        if (pipe_rx_len + len < sizeof(pipe_rx)) {
            memcpy(pipe_rx + pipe_rx_len, in, len);
            pipe_rx_len += len;
        }
        return 0;
    }
    {
        /* One write, so that on UDP the answer is one datagram. */
        char out[2048];
        if (len > sizeof(out) - 5)
            len = sizeof(out) - 5;
        memcpy(out, "echo:", 5);
        memcpy(out + 5, in, len);
        return kite_write(c, out, len + 5, KITE_WRITE_RAW) < 0;
    }
}

static void raw_closed(kite_conn_t *c, void *user, int code)
{
    (void)c;
    (void)user;
    adopted_closed++;
    if (code == KITE_CLOSE_PEER)
        peer_closed++;
}

static int http_hello(kite_conn_t *c, void *user, const kite_http_req_t *req)
{
    (void)user;
    (void)req;
    if (kite_http_respond(c, 200, "text/plain", 6) < 0)
        return 1;
    return kite_write(c, "hello\n", 6, KITE_WRITE_HTTP_FINAL) < 0;
}

static const kite_protocol_t p_raw = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "raw-echo",
    .on_raw = raw_rx,
    .on_closed = raw_closed,
    .on_http = http_hello,
};
static const kite_protocol_t *const protos[] = {&p_raw, NULL};
static const kite_pvo_t raw_opt = {.name = "raw", .value = "1"};
static const kite_pvo_t pvo = {.name = "raw-echo", .options = &raw_opt};
static const kite_mount_t mount =
    KITE_MOUNT_INIT(.mountpoint = "/", .origin = "callback://raw-echo");

static int dial(int port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {5, 0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Send @msg, read until @want bytes came back (or a timeout). */
static int roundtrip(int fd, const char *msg, char *out, size_t want)
{
    size_t got = 0;
    ssize_t n;

    if (write(fd, msg, strlen(msg)) != (ssize_t)strlen(msg))
        return -1;
    while (got < want && (n = read(fd, out + got, want - got)) > 0)
        got += (size_t)n;
    out[got] = '\0';
    return (int)got;
}

static int app_sock[2], app_pipe[2];

static void *client(void *arg)
{
    char buf[512];
    int fd;

    (void)arg;
    fd = dial(kite_vhost_port(vh_raw));
    roundtrip(fd, "ping", buf, 9);
    tap_is_str(buf, "echo:ping", "raw-only vhost: bytes echoed");
    roundtrip(fd, "GET / HTTP/1.1\r\n\r\n", buf, 23);
    tap_is_str(buf, "echo:GET / HTTP/1.1\r\n\r\n",
               "raw-only vhost: even HTTP-looking bytes are raw");
    close(fd);

    fd = dial(kite_vhost_port(vh_fb));
    roundtrip(fd, "hello raw\n", buf, 15);
    tap_is_str(buf, "echo:hello raw\n", "fallback-to-raw: a non-HTTP first line comes back");
    close(fd);

    fd = dial(kite_vhost_port(vh_fb));
    roundtrip(fd, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", buf, sizeof(buf) - 1);
    tap_ok(!strncmp(buf, "HTTP/1.1 200", 12) && strstr(buf, "\r\n\r\nhello\n"),
           "fallback-to-raw vhost: HTTP still answered");
    close(fd);

    fd = dial(kite_vhost_port(vh_fb));
    if (write(fd, "GE", 2) != 2)
        perror("write");
    usleep(50 * 1000);
    roundtrip(fd, "T /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", buf, sizeof(buf) - 1);
    tap_ok(!strncmp(buf, "HTTP/1.1 200", 12), "fallback-to-raw: a method split over reads is HTTP");
    close(fd);

    {
        struct sockaddr_in to = {.sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)kite_vhost_port(vh_udp))};
        struct timeval tv = {5, 0};
        int u = socket(AF_INET, SOCK_DGRAM, 0), i, ok = 0;
        ssize_t n;

        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        setsockopt(u, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        for (i = 0; i < 5; i++) {
            char msg[32];
            int len = snprintf(msg, sizeof(msg), "dgram %d", i);
            sendto(u, msg, (size_t)len, 0, (struct sockaddr *)&to, sizeof(to));
            n = recv(u, buf, sizeof(buf) - 1, 0);
            buf[n > 0 ? n : 0] = '\0';
            if (n == len + 5 && !strncmp(buf, "echo:", 5) && !strcmp(buf + 5, msg))
                ok++;
        }
        tap_is_int(ok, 5, "UDP vhost: each datagram echoed to its sender");
        close(u);
    }
    roundtrip(app_sock[0], "sock", buf, 9);
    tap_is_str(buf, "echo:sock", "adopted socket: echoed");
    if (write(app_pipe[1], "|from the pipe", 14) != 14)
        perror("write");
    usleep(100 * 1000);
    close(app_pipe[1]);
    close(app_sock[0]);
    usleep(100 * 1000);
    atomic_store(&stop, 1);
    kite_cancel_service(ctx);
    return NULL;
}

/* The external-poll variant: the test owns a poll() array. */
static struct pollfd pfds[64];
static int npfds;

static int unlocked_call, locked, lock_calls, unlocked_calls;

static int x_add(void *u, int fd, short ev)
{
    (void)u;
    unlocked_call += locked != 1;
    if (npfds == 64)
        return -1;
    pfds[npfds].fd = fd;
    pfds[npfds++].events = ev;
    return 0;
}

static int x_del(void *u, int fd)
{
    int i;

    (void)u;
    unlocked_call += locked != 1;
    for (i = 0; i < npfds; i++)
        if (pfds[i].fd == fd) {
            pfds[i] = pfds[--npfds];
            return 0;
        }
    return -1;
}

static int x_mode(void *u, int fd, short ev)
{
    int i;

    (void)u;
    unlocked_call += locked != 1;
    for (i = 0; i < npfds; i++)
        if (pfds[i].fd == fd) {
            pfds[i].events = ev;
            return 0;
        }
    return -1;
}

/* The optional lock pair: every callback comes between lock and unlock. */

static void x_lock(void *u)
{
    (void)u;
    locked++;
    lock_calls++;
}

static void x_unlock(void *u)
{
    (void)u;
    locked--;
    unlocked_calls++;
}

static const kite_extpoll_t xops =
    KITE_EXTPOLL_INIT(.add_fd = x_add, .del_fd = x_del, .change_mode = x_mode, .lock = x_lock,
                      .unlock = x_unlock);

static void run_extpoll(void)
{
    while (!atomic_load(&stop)) {
        struct pollfd copy[64];
        int i, n = npfds;

        memcpy(copy, pfds, sizeof(copy[0]) * (size_t)n);
        if (poll(copy, (nfds_t)n, kite_next_timeout_ms(ctx, 0)) > 0)
            for (i = 0; i < n; i++)
                if (copy[i].revents)
                    kite_service_pollfd(ctx, &copy[i]);
        kite_service_pending(ctx, 0);
    }
}

int main(int argc, char **argv)
{
    int extpoll = argc > 1 && !strcmp(argv[1], "extpoll");
    kite_context_info_t ci = KITE_CONTEXT_INFO_INIT(.extpoll = extpoll ? &xops : NULL);
    kite_vhost_info_t vi =
        KITE_VHOST_INFO_INIT(.iface = "127.0.0.1", .protocols = protos, .pvo = &pvo);
    kite_vhost_info_t bad = vi;
    pthread_t th;
    int err = 0, fd;

    kite_set_log_level(KITE_LL_ERR, NULL);
    ctx = kite_context_create(&ci, &err);
    vi.options = KITE_VH_RAW_ONLY;
    vh_raw = kite_vhost_create(ctx, &vi, &err);
    vi.options = KITE_VH_FALLBACK_TO_RAW;
    vi.mounts = &mount;
    vh_fb = kite_vhost_create(ctx, &vi, &err);
    tap_ok(vh_raw && vh_fb, "raw-only and fallback vhosts");
    if (!vh_raw || !vh_fb)
        return tap_done();
    vi.options = KITE_VH_UDP;
    vi.mounts = NULL;
    vh_udp = kite_vhost_create(ctx, &vi, &err);
    tap_ok(vh_udp && kite_vhost_port(vh_udp) > 0, "a UDP vhost on an ephemeral port");
    if (!vh_udp)
        return tap_done();
    bad.options = KITE_VH_RAW_ONLY;
    bad.pvo = NULL;
    tap_ok(!kite_vhost_create(ctx, &bad, &err) && err == KITE_EINVAL,
           "a raw vhost without a \"raw\" protocol is refused");

    socketpair(AF_UNIX, SOCK_STREAM, 0, app_sock);
    tap_ok(pipe(app_pipe) == 0, "pipe");
    err = 0;
    tap_ok(kite_adopt_fd(vh_raw, app_sock[1], KITE_ADOPT_SOCKET, "raw-echo", &err) != NULL,
           "adopt a socket (%s)", kite_err_name(err));
    err = 0;
    tap_ok(kite_adopt_fd(vh_fb, app_pipe[0], KITE_ADOPT_FILE, "raw-echo", &err) != NULL,
           "adopt a pipe (%s)", kite_err_name(err));
    fd = open("/etc/hostname", O_RDONLY);
    tap_ok(!kite_adopt_fd(vh_raw, fd, KITE_ADOPT_FILE, "raw-echo", &err) && err == KITE_ENOTSUP,
           "a regular file cannot be adopted: %s", kite_err_name(err));
    close(fd);
    tap_ok(!kite_adopt_fd(vh_raw, 0, KITE_ADOPT_FILE, "nope", &err) && err == KITE_EINVAL,
           "unknown protocol: KITE_EINVAL");

    pthread_create(&th, NULL, client, NULL);
    if (extpoll)
        run_extpoll();
    else
        kite_run(ctx);
    pthread_join(th, NULL);
    tap_is_int((int)pipe_rx_len, 14, "the pipe's bytes reached on_raw");
    tap_ok(adopted_closed >= 2, "closing the far ends closed the adopted conns (%d on_closed)",
           adopted_closed);
    tap_ok(peer_closed >= 2, "their on_closed said KITE_CLOSE_PEER (%d)", peer_closed);
    kite_context_destroy(ctx);
    if (extpoll) {
        tap_ok(lock_calls > 0 && lock_calls == unlocked_calls, "extpoll lock/unlock paired (%d)",
               lock_calls);
        tap_is_int(unlocked_call, 0, "every add/del/change_mode came under the lock");
        tap_is_int(npfds, 0, "every fd was deleted from the app's poll array");
    }
    return tap_done();
}
