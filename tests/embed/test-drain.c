/*
 * Graceful stop, as kited does it on SIGTERM: kite_run() serves in the
 * main thread while another thread holds client connections and calls
 * kite_context_drain(). Checked: an idle keep-alive connection is closed
 * at once; a slow request in flight is answered, with Connection: close;
 * websockets get a close frame with 1001; raw connections are closed; a
 * half-sent request head and a websocket that never answers the close
 * are cut at the timeout, and kite_run() returns then; with nothing
 * stubborn left kite_run() returns well before the timeout; nobody is
 * accepted once draining. Argument:
 * the number of service threads (2 runs in the TSan suite), or "extpoll"
 * (the application's poll loop: the drain is over when kite keeps no fd
 * but its wakeup eventfd).
 */
#include <pthread.h>
#include <stdatomic.h>

#include "kite.h"
#include "client-util.h"
#include "extpoll-loop.h"
#include "tap.h"

#define SLOW_MS 300

static kite_context_t *ctx;
static int port;
static atomic_ullong t_drain; /* when the client thread called drain */

/* --- the server side ------------------------------------------------------ */

static void slow_done(kite_conn_t *c, kite_timer_t *t)
{
    (void)t;
    if (kite_http_respond(c, 200, "text/plain", 4) == 0)
        kite_write(c, "done", 4, KITE_WRITE_HTTP_FINAL);
}

static int on_http(kite_conn_t *c, void *user, const kite_http_req_t *req)
{
    if (!strcmp(kite_http_path(req), "/slow"))
        return kite_timer_schedule(c, user, SLOW_MS * 1000, slow_done) < 0;
    if (kite_http_respond(c, 200, "text/plain", 2) < 0)
        return 1;
    return kite_write(c, "ok", 2, KITE_WRITE_HTTP_FINAL) < 0;
}

static int echo_rx(kite_conn_t *c, void *user, const void *in, size_t len, unsigned flags)
{
    (void)user;
    (void)flags;
    return kite_write(c, in, len, KITE_WRITE_TEXT) < 0;
}

static const kite_protocol_t p_app = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "app",
    .per_session_size = sizeof(kite_timer_t),
    .on_http = on_http,
};
static const kite_protocol_t p_echo = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "echo",
    .on_receive = echo_rx,
};
static int raw_rx(kite_conn_t *c, void *user, const void *in, size_t len)
{
    (void)user;
    return kite_write(c, in, len, KITE_WRITE_RAW) < 0;
}

static const kite_protocol_t p_raw = {.abi = KITE_PROTOCOL_ABI, .name = "raw", .on_raw = raw_rx};
static const kite_protocol_t *const protos[] = {&p_app, &p_echo, NULL};
static const kite_protocol_t *const raw_protos[] = {&p_raw, NULL};
static const kite_pvo_t raw_opt = {.name = "raw", .value = "1"};
static const kite_pvo_t raw_pvo = {.name = "raw", .options = &raw_opt};
static int raw_port;
static const kite_mount_t mount = KITE_MOUNT_INIT(.mountpoint = "/", .origin = "callback://app");

/* --- extpoll: the application's loop, in the main thread ----------------- */

static atomic_int drain_called;

/* Serve until the drain is over: kite keeps no fd but its eventfd. */
static int extpoll_run(void)
{
    uint64_t end = cu_now_ms() + 20000;

    while (!(atomic_load(&drain_called) && el_nadded == 1)) {
        if (cu_now_ms() > end)
            return -1;
        el_pass(ctx, 50);
    }
    return 0;
}

static kite_context_t *make_ctx(int threads, int extpoll)
{
    kite_context_info_t ci =
        KITE_CONTEXT_INFO_INIT(.count_threads = threads, .keepalive_timeout = 60);
    kite_vhost_info_t vi = KITE_VHOST_INFO_INIT();
    kite_context_t *c;
    kite_vhost_t *vh;

    if (extpoll)
        ci.extpoll = &el_ops;
    c = kite_context_create(&ci, NULL);
    if (!c)
        return NULL;
    vi.iface = "127.0.0.1";
    vi.protocols = protos;
    vi.mounts = &mount;
    vh = kite_vhost_create(c, &vi, NULL);
    if (!vh) {
        kite_context_destroy(c);
        return NULL;
    }
    port = kite_vhost_port(vh);
    /* A raw-only vhost on a port of its own. */
    vi = (kite_vhost_info_t)KITE_VHOST_INFO_INIT();
    vi.iface = "127.0.0.1";
    vi.options = KITE_VH_RAW_ONLY;
    vi.protocols = raw_protos;
    vi.pvo = &raw_pvo;
    vh = kite_vhost_create(c, &vi, NULL);
    if (!vh) {
        kite_context_destroy(c);
        return NULL;
    }
    raw_port = kite_vhost_port(vh);
    return c;
}

static unsigned long long since_drain(void)
{
    return cu_now_ms() - atomic_load(&t_drain);
}

/* --- stubborn clients: cut at the timeout --------------------------------- */

static void *clients_cut(void *arg)
{
    int idle, slow, w1, w2, part, raw, fd;
    unsigned long long ms;
    char echo[8] = "";
    cu_resp_t r;

    (void)arg;
    idle = cu_connect(port);
    tap_ok(idle >= 0 && cu_get(idle, "/", &r) == 200 && !r.conn_close, "an idle keep-alive conn");
    w1 = cu_ws_open(port, "echo");
    w2 = cu_ws_open(port, "echo");
    tap_ok(w1 >= 0 && w2 >= 0 && cu_ws_echo(w1, "x") && cu_ws_echo(w2, "y"), "two websockets");
    raw = cu_connect(raw_port);
    tap_ok(raw >= 0 && !cu_send(raw, "raw") && recv(raw, echo, 3, MSG_WAITALL) == 3 &&
               !strcmp(echo, "raw"),
           "a raw connection");
    part = cu_connect(port);
    cu_send(part, "GET / HTTP/1.1\r\nHost: lo");
    slow = cu_connect(port);
    cu_send(slow, "GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n");
    cu_sleep_ms(SLOW_MS / 3);

    atomic_store(&t_drain, cu_now_ms());
    tap_is_int(kite_context_drain(ctx, 1000), 0, "drain from another thread");
    atomic_store(&drain_called, 1);
    tap_is_int(kite_context_drain(ctx, 1000), KITE_ESTATE, "a second drain: KITE_ESTATE");

    tap_ok(cu_closed_within(idle, 500) && since_drain() < 500,
           "the idle keep-alive conn is closed at once (%llu ms)", since_drain());
    tap_ok(cu_closed_within(raw, 500) && since_drain() < 500,
           "the raw connection is closed at once (%llu ms)", since_drain());
    tap_ok(cu_read_resp(slow, &r) == 200 && !strcmp(r.body, "done") && r.conn_close,
           "the request in flight is answered with Connection: close");
    tap_ok(cu_closed_within(slow, 2000), "... and its connection closed after it");
    tap_is_int(cu_ws_close_code(w1), 1001, "a websocket gets close code 1001");
    cu_ws_send(w1, 8, "\x03\xe9", 2);
    tap_ok(cu_closed_within(w1, 2000), "... and is closed when it answers the close");
    tap_is_int(cu_ws_close_code(w2), 1001, "the other websocket gets 1001 too");
    fd = cu_connect(port);
    tap_ok(fd < 0 && errno == ECONNREFUSED, "new connections are refused while draining");
    if (fd >= 0)
        close(fd);
    tap_ok(cu_closed_within(w2, 4000), "a websocket that never answers the close is cut");
    ms = since_drain();
    tap_ok(ms >= 900 && ms < 3000, "... at the timeout (%llu ms)", ms);
    tap_ok(cu_closed_within(part, 4000), "a half-sent request head is cut at the timeout");
    close(idle);
    close(slow);
    close(w1);
    close(w2);
    close(part);
    close(raw);
    return NULL;
}

/* --- cooperative clients: done before the timeout ------------------------- */

static void *clients_quick(void *arg)
{
    int idle, w;
    cu_resp_t r;

    (void)arg;
    idle = cu_connect(port);
    w = cu_ws_open(port, "echo");
    tap_ok(idle >= 0 && cu_get(idle, "/", &r) == 200 && w >= 0 && cu_ws_echo(w, "z"),
           "an idle conn and a websocket");
    atomic_store(&t_drain, cu_now_ms());
    tap_is_int(kite_context_drain(ctx, 10000), 0, "drain with a 10 s timeout");
    atomic_store(&drain_called, 1);
    tap_is_int(cu_ws_close_code(w), 1001, "the websocket gets 1001");
    cu_ws_send(w, 8, "\x03\xe9", 2);
    tap_ok(cu_closed_within(w, 2000) && cu_closed_within(idle, 2000), "both are closed");
    close(idle);
    close(w);
    return NULL;
}

static void run_case(int threads, int extpoll, void *(*clients)(void *), unsigned max_ms,
                     const char *what)
{
    pthread_t th;
    unsigned long long ms;
    int r;

    ctx = make_ctx(threads, extpoll);
    tap_ok(ctx != NULL, "context with %d service thread(s)%s", threads, extpoll ? ", extpoll" : "");
    if (!ctx)
        return;
    if (!extpoll)
        tap_is_int(kite_context_drain(ctx, 100), KITE_ESTATE, "drain before kite_run: KITE_ESTATE");
    atomic_store(&t_drain, cu_now_ms() + 3600 * 1000);
    atomic_store(&drain_called, 0);
    pthread_create(&th, NULL, clients, NULL);
    r = extpoll ? extpoll_run() : kite_run(ctx);
    ms = since_drain();
    /* The client thread reports too: report once it is done. */
    pthread_join(th, NULL);
    tap_is_int(r, 0, "the loop is over after the drain");
    tap_ok(ms < max_ms, "... %llu ms after the drain (%s)", ms, what);
    kite_context_destroy(ctx);
}

int main(int argc, char **argv)
{
    int extpoll = argc > 1 && !strcmp(argv[1], "extpoll");
    int threads = argc > 1 && !extpoll ? atoi(argv[1]) : 1;

    kite_set_log_level(KITE_LL_ERR, NULL);
    run_case(threads, extpoll, clients_cut, 3000, "stubborn clients cut at the 1 s timeout");
    run_case(threads, extpoll, clients_quick, 2000, "well before the 10 s timeout");
    return tap_done();
}
