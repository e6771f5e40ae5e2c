/*
 * ws-deflate-load: the load generator of bench/issue9.sh's ws deflate
 * echo figure, on kite's client API (a Python generator would be the
 * bottleneck). N connections offer permessage-deflate and each keeps one
 * text message in flight: send, wait for its echo, check it, send the
 * next. The messages are JSON-like text of the given size (compressible,
 * as real traffic is, about 4:1), 64 different ones in turn.
 *
 *   ws-deflate-load [-c CONNS] [-d SECS] [-w WARMUP] [-s SIZE] [-P PROTO]
 *                   [-z] ws://HOST:PORT/PATH
 *   -c 50 connections, -d 10 s measured after -w 1 s of warm-up, -s 16384
 *   bytes a message, -P echo (the subprotocol), -z: offer no deflate
 *
 * Prints one line: the connections made and how many agreed to deflate,
 * the echoes counted in the measured time, messages/s, payload MB/s each
 * way, and the errors (mismatched echoes, failed or closed connections).
 * Exit status 0 when every connection lasted and every echo matched.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kite.h"

#define NPOOL 64

static struct {
    int conns, secs, warmup, nodeflate;
    size_t size;
    const char *proto, *host, *path;
    int port;
} o = {.conns = 50, .secs = 10, .warmup = 1, .size = 16384, .proto = "echo", .path = "/"};

static kite_context_t *ctx;
static kite_vhost_t *vh;
static char *pool[NPOOL];
static int measuring, done, established, agreed, errors, closed;
static long counted;

typedef struct sess {
    unsigned next; /* pool index of the message in flight */
} sess_t;

static void make_pool(void)
{
    static const char *const words[] = {"kite",   "deflate", "message", "window", "client",
                                        "server", "echo",    "frame",   "stream", "payload"};
    size_t k, n;
    int i;

    srand(9);
    for (i = 0; i < NPOOL; i++) {
        pool[i] = malloc(o.size + 64);
        for (k = 0; k < o.size;) {
            n = (size_t)snprintf(pool[i] + k, 64, "{\"%s\":%d,\"%s\":\"%s-%d\"},",
                                 words[rand() % 10], rand() % 100000, words[rand() % 10],
                                 words[rand() % 10], rand() % 1000);
            k += n;
        }
    }
}

static int send_msg(kite_conn_t *c, sess_t *s)
{
    s->next = (s->next + 1) % NPOOL;
    return kite_write(c, pool[s->next], o.size, KITE_WRITE_TEXT) < 0;
}

static int on_established(kite_conn_t *c, void *user)
{
    sess_t *s = user;

    established++;
    agreed += kite_ws_deflate_active(c) != 0;
    s->next = (unsigned)established;
    return send_msg(c, s);
}

static void on_error(kite_conn_t *c, void *user, const char *why)
{
    (void)c;
    (void)user;
    fprintf(stderr, "ws-deflate-load: connection error: %s\n", why);
    errors++;
}

static int on_receive(kite_conn_t *c, void *user, const void *in, size_t len, unsigned flags)
{
    sess_t *s = user;

    (void)flags;
    if (len != o.size || memcmp(in, pool[s->next], len)) {
        errors++;
        return -1;
    }
    if (measuring)
        counted++;
    if (done)
        return kite_close(c, KITE_WS_CLOSE_NORMAL, "done") < 0;
    return send_msg(c, s);
}

static void on_closed(kite_conn_t *c, void *user, int code)
{
    (void)c;
    (void)user;
    (void)code;
    if (!done)
        errors++;
    if (++closed == established)
        kite_cancel_service(ctx);
}

static const kite_protocol_t p_load = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "ws-deflate-load",
    .per_session_size = sizeof(sess_t),
    .rx_buffer_size = 1 << 20,
    .flags = KITE_PROTO_WHOLE_MESSAGES,
    .on_client_established = on_established,
    .on_client_connection_error = on_error,
    .on_receive = on_receive,
    .on_closed = on_closed,
};
static const kite_protocol_t *const protos[] = {&p_load, NULL};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double t_start, t_end;
static kite_timer_t t_phase, t_quit;

static void quit(kite_vhost_t *v, kite_timer_t *t)
{
    (void)v;
    (void)t;
    kite_cancel_service(ctx);
}

static void phase(kite_vhost_t *v, kite_timer_t *t)
{
    if (!measuring) {
        measuring = 1;
        t_start = now_s();
        kite_vhost_timer_schedule(v, 0, t, (uint64_t)o.secs * 1000000u, phase);
        return;
    }
    measuring = 0;
    done = 1;
    t_end = now_s();
    /* Echoes in flight end each connection; give them a second at most. */
    kite_vhost_timer_schedule(v, 0, &t_quit, 1000000u, quit);
}

static int parse_url(char *u)
{
    char *p, *slash, *colon;

    if (strncmp(u, "ws://", 5))
        return -1;
    p = u + 5;
    if ((slash = strchr(p, '/'))) {
        static char path[1024];
        snprintf(path, sizeof(path), "%s", slash);
        o.path = path;
        *slash = '\0';
    }
    if (!(colon = strrchr(p, ':')))
        return -1;
    *colon = '\0';
    o.host = p;
    o.port = atoi(colon + 1);
    return *o.host && o.port > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    static const kite_ws_deflate_t deflate = KITE_WS_DEFLATE_INIT();
    kite_context_info_t ci = KITE_CONTEXT_INFO_INIT();
    kite_vhost_info_t vi = KITE_VHOST_INFO_INIT();
    double secs;
    int opt, err, i;

    while ((opt = getopt(argc, argv, "c:d:w:s:P:z")) != -1) {
        switch (opt) {
        case 'c':
            o.conns = atoi(optarg);
            break;
        case 'd':
            o.secs = atoi(optarg);
            break;
        case 'w':
            o.warmup = atoi(optarg);
            break;
        case 's':
            o.size = (size_t)atol(optarg);
            break;
        case 'P':
            o.proto = optarg;
            break;
        case 'z':
            o.nodeflate = 1;
            break;
        default:
            goto usage;
        }
    }
    if (optind != argc - 1 || parse_url(argv[optind]) < 0 || o.conns < 1 || o.secs < 1 ||
        o.size < 1 || o.size > (1u << 20))
        goto usage;
    make_pool();
    ci.ws_max_message = 1 << 20;
    if (!(ctx = kite_context_create(&ci, &err))) {
        fprintf(stderr, "ws-deflate-load: context: %s\n", kite_strerror(err));
        return 1;
    }
    vi.name = "ws-deflate-load";
    vi.options = KITE_VH_NO_LISTEN;
    vi.protocols = protos;
    if (!(vh = kite_vhost_create(ctx, &vi, &err))) {
        fprintf(stderr, "ws-deflate-load: vhost: %s\n", kite_strerror(err));
        return 1;
    }
    for (i = 0; i < o.conns; i++) {
        kite_client_info_t c =
            KITE_CLIENT_INFO_INIT(.vhost = vh, .address = o.host, .port = o.port, .path = o.path);
        c.protocol = o.proto;
        c.local_protocol = p_load.name;
        c.ws_deflate = o.nodeflate ? NULL : &deflate;
        if (!kite_client_connect(ctx, &c, &err)) {
            fprintf(stderr, "ws-deflate-load: connect: %s\n", kite_strerror(err));
            return 1;
        }
    }
    kite_vhost_timer_schedule(vh, 0, &t_phase, (uint64_t)o.warmup * 1000000u, phase);
    kite_run(ctx);
    secs = t_end > t_start ? t_end - t_start : 0;
    printf("conns %d/%d deflate %d size %zu msgs %ld in %.2f s: %.0f msg/s %.1f MB/s errors %d\n",
           established, o.conns, agreed, o.size, counted, secs, secs ? counted / secs : 0,
           secs ? counted * (double)o.size / secs / 1e6 : 0, errors);
    kite_context_destroy(ctx);
    for (i = 0; i < NPOOL; i++)
        free(pool[i]);
    return established == o.conns && !errors && secs > 0 ? 0 : 1;
usage:
    fprintf(stderr,
            "usage: %s [-c CONNS] [-d SECS] [-w WARMUP] [-s SIZE] [-P PROTO] [-z] "
            "ws://HOST:PORT/PATH\n",
            argv[0]);
    return 2;
}
