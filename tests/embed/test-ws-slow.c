/*
 * Slow websocket readers: 50 clients upgrade and then never read while a
 * protocol pushes 64 KiB messages at them as fast as kite lets it. Each
 * connection's unsent output stays under the output cap (kite_write says
 * KITE_EAGAIN), every reader is closed by the send timeout, and the
 * server's RSS stays bounded. Also checks a vhost timer and
 * kite_callback_on_writable_all_protocol().
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

#define NCONNS 50
#define MSG    (64 * 1024)
#define CAP    (256 * 1024)

static int established, closed, eagain, max_pending_over_cap, writable_all;
static long rss_peak_kb;
static kite_vhost_t *the_vh;
static kite_timer_t vh_timer;
static int vh_timer_fired;
static uint64_t t_start, t_all_closed;

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;

    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, "VmRSS:", 6))
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

static int on_established(kite_conn_t *c, void *user)
{
    (void)user;
    established++;
    return kite_callback_on_writable(c) < 0;
}

static int on_writeable(kite_conn_t *c, void *user)
{
    static char buf[MSG];
    int r;

    (void)user;
    /* Push until the cap says stop; ask again for when it drains. */
    while ((r = kite_write(c, buf, sizeof(buf), KITE_WRITE_BINARY)) == 0)
        ;
    if (r != KITE_EAGAIN)
        return 1;
    eagain++;
    if (kite_conn_pending(c) > CAP + MSG)
        max_pending_over_cap++;
    return kite_callback_on_writable(c) < 0;
}

static void on_closed(kite_conn_t *c, void *user, int code)
{
    long kb = rss_kb();

    (void)c;
    (void)user;
    (void)code;
    if (kb > rss_peak_kb)
        rss_peak_kb = kb;
    if (++closed == NCONNS) {
        t_all_closed = uv_hrtime();
        kite_cancel_service(kite_vhost_context(the_vh));
    }
}

static const kite_protocol_t pusher = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "pusher",
    .on_established = on_established,
    .on_writeable = on_writeable,
    .on_closed = on_closed,
};
static const kite_protocol_t *const protos[] = {&pusher, NULL};

static void vh_timer_cb(kite_vhost_t *vh, kite_timer_t *t)
{
    (void)t;
    vh_timer_fired++;
    writable_all = kite_callback_on_writable_all_protocol(vh, &pusher);
}

struct client {
    int port;
    int fds[NCONNS];
    int upgraded;
};

static void *clients(void *arg)
{
    struct client *cl = arg;
    char req[256], resp[1024];
    int i, small = 4096;

    for (i = 0; i < NCONNS; i++) {
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)cl->port)};
        struct timeval tv = {5, 0};
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        ssize_t n;

        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        cl->fds[i] = fd;
        if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
            continue;
        n = snprintf(req, sizeof(req),
                     "GET / HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: pusher\r\n\r\n");
        if (write(fd, req, (size_t)n) != n)
            continue;
        /* Read just the 101 (the first bytes), then never read again. */
        n = recv(fd, resp, sizeof(resp) - 1, MSG_PEEK);
        if (n > 12 && !strncmp(resp, "HTTP/1.1 101", 12))
            cl->upgraded++;
    }
    return NULL;
}

int main(void)
{
    kite_context_info_t ci = KITE_CONTEXT_INFO_INIT(.send_timeout = 2, .max_output = CAP);
    kite_vhost_info_t vi = KITE_VHOST_INFO_INIT(.iface = "127.0.0.1", .protocols = protos);
    struct client cl = {0};
    kite_context_t *ctx;
    pthread_t th;
    long rss0;
    int i, err = 0;

    kite_set_log_level(KITE_LL_ERR, NULL);
    ctx = kite_context_create(&ci, &err);
    the_vh = ctx ? kite_vhost_create(ctx, &vi, &err) : NULL;
    tap_ok(the_vh != NULL, "context and vhost (%s)", kite_err_name(err));
    if (!the_vh)
        return tap_done();
    tap_is_int(kite_vhost_timer_schedule(the_vh, 0, &vh_timer, 300 * 1000, vh_timer_cb), 0,
               "vhost timer scheduled");
    rss0 = rss_kb();
    cl.port = kite_vhost_port(the_vh);
    t_start = uv_hrtime();
    pthread_create(&th, NULL, clients, &cl);
    kite_run(ctx);
    pthread_join(th, NULL);

    tap_is_int(cl.upgraded, NCONNS, "every client upgraded");
    tap_is_int(established, NCONNS, "every conn established");
    tap_is_int(closed, NCONNS, "every slow reader was closed");
    tap_ok(t_all_closed && (t_all_closed - t_start) / 1000000 < 10000,
           "closed by the send timeout (%llu ms)",
           (unsigned long long)((t_all_closed - t_start) / 1000000));
    tap_ok(eagain >= NCONNS, "writes stopped at the output cap (%d EAGAINs)", eagain);
    tap_is_int(max_pending_over_cap, 0, "queued output never passed the cap + one message");
#if defined(__SANITIZE_ADDRESS__)
    /* ASan's quarantine keeps freed memory resident: RSS says nothing here. */
    tap_ok(1, "RSS bound # SKIP under AddressSanitizer (grew %ld KiB)", rss_peak_kb - rss0);
#else
    tap_ok(rss_peak_kb - rss0 < 64 * 1024, "RSS grew %ld KiB for %d pushing conns",
           rss_peak_kb - rss0, NCONNS);
#endif
    tap_is_int(vh_timer_fired, 1, "the vhost timer fired once");
    tap_ok(writable_all >= 0, "writable_all_protocol from a vhost timer: %d conns", writable_all);
    for (i = 0; i < NCONNS; i++)
        close(cl.fds[i]);
    kite_context_destroy(ctx);
    return tap_done();
}
