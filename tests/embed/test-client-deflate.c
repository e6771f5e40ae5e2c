/*
 * permessage-deflate on client websockets (kite_client_info_t ws_deflate)
 * against kite servers in the same process: messages of 0 B to 1 MiB,
 * random and repetitive, text and binary, sent whole and in fragments,
 * echoed by a server that streams each inflated piece back as a fragment,
 * for client offers with context takeover on and off and window bits
 * 15, 10, 9 and 8, against a server with the defaults and one with no
 * context takeover and a 10-bit window; a client that pauses reading
 * after every piece (the rest of a compressed, unmasked server frame is
 * kept and read again); and a server without deflate, which leaves the
 * connection uncompressed. Bad extension answers are in
 * tests/integration/test_client_deflate.py.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kite.h"
#include "tap.h"

static kite_context_t *ctx;
static kite_vhost_t *cvh;

/* --- the server: streams each piece back as it arrives ------------------ */

static int srv_deflate; /* the server side of the last conn agreed to deflate */

static int srv_established(kite_conn_t *c, void *user)
{
    (void)user;
    srv_deflate = kite_ws_deflate_active(c);
    return 0;
}

static int srv_echo(kite_conn_t *c, void *user, const void *in, size_t len, unsigned flags)
{
    unsigned k = (flags & KITE_RX_FIRST)
                     ? ((flags & KITE_RX_BINARY) ? KITE_WRITE_BINARY : KITE_WRITE_TEXT)
                     : KITE_WRITE_CONTINUATION;

    (void)user;
    if (!(flags & KITE_RX_FINAL))
        k |= KITE_WRITE_NO_FIN;
    return kite_write(c, in, len, k) < 0;
}

static const kite_protocol_t p_srv = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "echo-z",
    .on_established = srv_established,
    .on_receive = srv_echo,
};
/* Whole messages back as one frame: compressed frames that inflate to
 * more than one piece, so that a paused client stops inside one. */
static int srv_echo_whole(kite_conn_t *c, void *user, const void *in, size_t len, unsigned flags)
{
    (void)user;
    return kite_write(c, in, len, (flags & KITE_RX_BINARY) ? KITE_WRITE_BINARY : KITE_WRITE_TEXT) <
           0;
}

static const kite_protocol_t p_srv_whole = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "echo-whole",
    .rx_buffer_size = 2u << 20,
    .flags = KITE_PROTO_WHOLE_MESSAGES,
    .on_established = srv_established,
    .on_receive = srv_echo_whole,
};
static const kite_protocol_t *const srv_protos[] = {&p_srv, &p_srv_whole, NULL};

/* --- the client: sends the messages one by one, checks each echo -------- */

#define NMSG   14
#define MAXMSG (1u << 20)

static unsigned char *msgs[NMSG], *rx;
static size_t sizes[NMSG];

static struct {
    int established, deflate, closed, close_code, next, bad, pause;
    size_t rx_len;
    char error[300];
    kite_timer_t resume;
} st;

/* Message i: sizes 0 .. 1 MiB; even ones repetitive text, odd ones random
 * (binary, or random letters when i % 4 == 1, still text). */
static void make_msgs(void)
{
    static const size_t sz[NMSG / 2] = {0, 1, 125, 126, 65536, 200000, MAXMSG};
    size_t i, k;

    srand(7);
    for (i = 0; i < NMSG; i++) {
        sizes[i] = sz[i / 2];
        msgs[i] = malloc(sizes[i] + 1);
        for (k = 0; k < sizes[i]; k++)
            msgs[i][k] = !(i & 1)       ? (unsigned char)("kite deflates this. "[k % 20])
                         : (i % 4 == 1) ? (unsigned char)('a' + rand() % 26)
                                        : (unsigned char)rand();
    }
}

static int is_binary(int i)
{
    return i % 4 == 3;
}

/* Message @st.next: whole, or (odd ones) in 7000-byte fragments. */
static int send_next(kite_conn_t *c)
{
    int i = st.next;
    size_t off = 0, n, len = sizes[i];
    unsigned k = is_binary(i) ? KITE_WRITE_BINARY : KITE_WRITE_TEXT;

    if (!(i & 1) || len <= 7000)
        return kite_write(c, msgs[i], len, k) < 0;
    while (off < len) {
        n = len - off < 7000 ? len - off : 7000;
        if (kite_write(c, msgs[i] + off, n,
                       (off ? KITE_WRITE_CONTINUATION : k) |
                           (off + n < len ? KITE_WRITE_NO_FIN : 0)) < 0)
            return 1;
        off += n;
    }
    return 0;
}

static int cl_established(kite_conn_t *c, void *user)
{
    (void)user;
    st.established = 1;
    st.deflate = kite_ws_deflate_active(c);
    return send_next(c);
}

static void cl_error(kite_conn_t *c, void *user, const char *why)
{
    (void)c;
    (void)user;
    snprintf(st.error, sizeof(st.error), "%s", why);
}

static void resume(kite_conn_t *c, kite_timer_t *t)
{
    (void)t;
    kite_rx_flow_control(c, 1);
}

static int cl_receive(kite_conn_t *c, void *user, const void *in, size_t len, unsigned flags)
{
    int i = st.next;

    (void)user;
    if (st.rx_len + len > MAXMSG)
        return -1;
    memcpy(rx + st.rx_len, in, len);
    st.rx_len += len;
    if (st.pause && !(flags & KITE_RX_FINAL)) {
        kite_rx_flow_control(c, 0);
        kite_timer_schedule(c, &st.resume, 1000, resume);
    }
    if (!(flags & KITE_RX_FINAL))
        return 0;
    if (st.rx_len != sizes[i] || (st.rx_len && memcmp(rx, msgs[i], st.rx_len)) ||
        !(flags & KITE_RX_BINARY) != !is_binary(i)) {
        printf("# message %d: %zu bytes back, want %zu\n", i, st.rx_len, sizes[i]);
        st.bad++;
    }
    st.rx_len = 0;
    if (++st.next == NMSG)
        return kite_close(c, KITE_WS_CLOSE_NORMAL, "done") < 0;
    return send_next(c);
}

static void cl_closed(kite_conn_t *c, void *user, int code)
{
    (void)c;
    (void)user;
    st.closed = 1;
    st.close_code = code;
}

static const kite_protocol_t p_cli = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "echo-z",
    .on_client_established = cl_established,
    .on_client_connection_error = cl_error,
    .on_receive = cl_receive,
    .on_closed = cl_closed,
};
static const kite_protocol_t *const cli_protos[] = {&p_cli, NULL};

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* One connection through all the messages; the client offers @offer. */
static void run(int port, const kite_ws_deflate_t *offer, const char *proto, int pause,
                int want_deflate, const char *what)
{
    kite_client_info_t ci =
        KITE_CLIENT_INFO_INIT(.vhost = cvh, .address = "127.0.0.1", .port = port);
    uint64_t end = now_ms() + 20000;
    int err;

    memset(&st, 0, sizeof(st));
    st.pause = pause;
    srv_deflate = -1;
    ci.protocol = proto;
    ci.local_protocol = "echo-z";
    ci.ws_deflate = offer;
    if (!kite_client_connect(ctx, &ci, &err)) {
        tap_ok(0, "%s: kite_client_connect: %s", what, kite_strerror(err));
        return;
    }
    while (!st.closed && !st.error[0] && now_ms() < end)
        kite_service(ctx, 0, 20);
    tap_ok(st.established && st.deflate == want_deflate && srv_deflate == want_deflate,
           "%s: deflate %s on both ends (%s)", what, want_deflate ? "agreed" : "not agreed",
           st.error);
    tap_ok(st.next == NMSG && !st.bad && st.closed && st.close_code == KITE_WS_CLOSE_NORMAL,
           "%s: %d of %d messages echoed intact, closed %d", what, st.next - st.bad, NMSG,
           st.close_code);
}

int main(void)
{
    kite_context_info_t ci = KITE_CONTEXT_INFO_INIT();
    kite_vhost_info_t vi = KITE_VHOST_INFO_INIT(), cvi = KITE_VHOST_INFO_INIT();
    kite_ws_deflate_t def = KITE_WS_DEFLATE_INIT(),
                      strict = KITE_WS_DEFLATE_INIT(.window_bits = 10,
                                                    .flags = KITE_WS_DEFLATE_NO_CONTEXT_TAKEOVER);
    static const struct {
        kite_ws_deflate_t offer;
        const char *what;
    } offers[] = {
        {KITE_WS_DEFLATE_INIT(), "defaults"},
        {KITE_WS_DEFLATE_INIT(.flags = KITE_WS_DEFLATE_NO_CONTEXT_TAKEOVER), "no context takeover"},
        {KITE_WS_DEFLATE_INIT(.window_bits = 10), "window bits 10"},
        {KITE_WS_DEFLATE_INIT(.window_bits = 9, .level = 6), "window bits 9, level 6"},
        {KITE_WS_DEFLATE_INIT(.window_bits = 8, .flags = KITE_WS_DEFLATE_NO_CONTEXT_TAKEOVER),
         "window bits 8, no context takeover"},
        {KITE_WS_DEFLATE_INIT(.level = 9, .mem_level = 9), "level 9, mem level 9"},
    };
    kite_vhost_t *vh, *vh_strict, *vh_plain;
    char what[160];
    size_t i;
    int err;

    make_msgs();
    rx = malloc(MAXMSG);
    ci.max_output = 8u << 20;
    ctx = kite_context_create(&ci, &err);
    vi.iface = "127.0.0.1";
    vi.protocols = srv_protos;
    vi.ws_deflate = &def;
    vh = kite_vhost_create(ctx, &vi, &err);
    vi.name = "strict";
    vi.ws_deflate = &strict;
    vh_strict = kite_vhost_create(ctx, &vi, &err);
    vi.name = "plain";
    vi.ws_deflate = NULL;
    vh_plain = kite_vhost_create(ctx, &vi, &err);
    cvi.name = "client";
    cvi.options = KITE_VH_NO_LISTEN;
    cvi.protocols = cli_protos;
    cvh = kite_vhost_create(ctx, &cvi, &err);
    tap_ok(ctx && vh && vh_strict && vh_plain && cvh, "context, three servers, client vhost");
    if (!ctx || !vh || !vh_strict || !vh_plain || !cvh)
        return tap_done();

    for (i = 0; i < sizeof(offers) / sizeof(offers[0]); i++) {
        snprintf(what, sizeof(what), "offer %s, server defaults", offers[i].what);
        run(kite_vhost_port(vh), &offers[i].offer, "echo-z", 0, 1, what);
        snprintf(what, sizeof(what), "offer %s, server no context takeover, 10 bits",
                 offers[i].what);
        run(kite_vhost_port(vh_strict), &offers[i].offer, "echo-z", 0, 1, what);
    }
    run(kite_vhost_port(vh), &offers[0].offer, "echo-whole", 0, 1, "whole messages echoed");
    run(kite_vhost_port(vh), &offers[0].offer, "echo-whole", 1, 1,
        "reading paused after every piece");
    run(kite_vhost_port(vh), &offers[1].offer, "echo-whole", 1, 1,
        "reading paused after every piece, no context takeover");
    run(kite_vhost_port(vh), &offers[0].offer, "echo-z", 1, 1,
        "reading paused after every piece, fragments");
    run(kite_vhost_port(vh_plain), &offers[0].offer, "echo-z", 0, 0, "a server without deflate");
    run(kite_vhost_port(vh), NULL, "echo-z", 0, 0, "no offer");

    kite_context_destroy(ctx);
    for (i = 0; i < NMSG; i++)
        free(msgs[i]);
    free(rx);
    return tap_done();
}
