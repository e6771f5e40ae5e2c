/*
 * Reload while serving, as kited does it on SIGHUP: the service threads
 * run (kite_run in a thread, or an application's poll loop with
 * "extpoll"), and the main thread stages a new vhost set and commits it.
 * Checked: a keep-alive connection made before the commit gets the new
 * vhost on its next request without reconnecting; a websocket keeps
 * echoing, and its old vhost is destroyed (on_vhost_destroy, then
 * on_destroyed) only once it closes, its self-rearming vhost timers
 * cancelled on every thread first; a port the reload adds accepts, one
 * it drops refuses; a kept unix socket serves the new set and a dropped
 * one is removed; a retired UDP vhost closes its socket; a port in use
 * (or a UDP vhost) fails the staged create and abort leaves the old set
 * serving; ten reloads in a row under a client that loops requests cost
 * no request. Argument: "uv" (one service thread), "threads" (two, for
 * TSan) or "extpoll".
 */
#include <pthread.h>
#include <stdatomic.h>

#include "kite.h"
#include "client-util.h"
#include "extpoll-loop.h"
#include "http-get.h"
#include "tap.h"

#define MAXV 64

static kite_context_t *ctx;
static char upath[64]; /* a unix socket the first reload keeps, the next drops */
static int use_extpoll;
static atomic_int stop;

/* --- the server side ------------------------------------------------------ */

struct slot {
    atomic_int vhd_destroyed;  /* on_vhost_destroy calls */
    atomic_int vhd_at_destroy; /* ... seen when on_destroyed ran */
    atomic_int destroyed;
};

static struct slot slots[MAXV];
static kite_pvo_t hdrs[MAXV];
static char hvals[MAXV][8];
static int nslots;

/* Per-vhost data: a vhost timer per service thread that re-arms itself
 * every few ms. It lives in memory on_vhost_destroy frees, so a timer left
 * in a heap after the vhost ended is a use after free (ASan). */
struct vhd {
    kite_timer_t t[2];
    int armed[2];
};

static void tick(kite_vhost_t *vh, kite_timer_t *t)
{
    struct vhd *d = kite_vhost_protocol_data(vh, kite_vhost_find_protocol(vh, "a"));
    int tsi = t == &d->t[0] ? 0 : 1;

    /* Refused (KITE_ESTATE) once the vhost's last reference is gone. */
    kite_vhost_timer_schedule(vh, tsi, t, 3000, tick);
}

static int serve(kite_conn_t *c, const char *body)
{
    kite_vhost_t *vh = kite_conn_vhost(c);
    struct vhd *d = kite_vhost_protocol_data(vh, kite_vhost_find_protocol(vh, "a"));
    int tsi = kite_conn_tsi(c);

    if (d && !d->armed[tsi]) {
        d->armed[tsi] = 1;
        kite_vhost_timer_schedule(vh, tsi, &d->t[tsi], 3000, tick);
    }
    if (kite_http_respond(c, 200, "text/plain", (int64_t)strlen(body)) < 0)
        return 1;
    return kite_write(c, body, strlen(body), KITE_WRITE_HTTP_FINAL) < 0;
}

static int http_a(kite_conn_t *c, void *user, const kite_http_req_t *req)
{
    (void)user;
    (void)req;
    return serve(c, "A");
}

static int http_b(kite_conn_t *c, void *user, const kite_http_req_t *req)
{
    (void)user;
    (void)req;
    return serve(c, "B");
}

static int vh_init_a(kite_vhost_t *vh, const kite_pvo_t *pvo, void **vhd)
{
    (void)vh;
    (void)pvo;
    *vhd = calloc(1, sizeof(struct vhd));
    return !*vhd;
}

static int vh_init_b(kite_vhost_t *vh, const kite_pvo_t *pvo, void **vhd)
{
    (void)vh;
    (void)pvo;
    (void)vhd;
    return 0;
}

static void vh_destroy(kite_vhost_t *vh, void *vhd)
{
    struct slot *s = kite_vhost_user(vh);

    free(vhd);
    atomic_fetch_add(&s->vhd_destroyed, 1);
}

static void on_destroyed(void *user)
{
    struct slot *s = user;

    atomic_store(&s->vhd_at_destroy, atomic_load(&s->vhd_destroyed));
    atomic_store(&s->destroyed, 1);
}

static int echo_rx(kite_conn_t *c, void *user, const void *in, size_t len, unsigned flags)
{
    (void)user;
    (void)flags;
    return kite_write(c, in, len, KITE_WRITE_TEXT) < 0;
}

static const kite_protocol_t p_a = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "a",
    .on_vhost_init = vh_init_a,
    .on_vhost_destroy = vh_destroy,
    .on_http = http_a,
};
static const kite_protocol_t p_b = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "b",
    .on_vhost_init = vh_init_b,
    .on_vhost_destroy = vh_destroy,
    .on_http = http_b,
};
static const kite_protocol_t p_echo = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "echo",
    .on_receive = echo_rx,
};
static const kite_protocol_t *const protos[] = {&p_a, &p_b, &p_echo, NULL};
static const kite_mount_t m_a = KITE_MOUNT_INIT(.mountpoint = "/", .origin = "callback://a");
static const kite_mount_t m_b = KITE_MOUNT_INIT(.mountpoint = "/", .origin = "callback://b");

/* A vhost on 127.0.0.1:@port answering @which ('A' or 'B') with X-Set: @set.
 * Returns its slot, or -1 with *err. */
static int make_vh_on(int port, const char *unix_path, char which, const char *set, int *err,
                      kite_vhost_t **out)
{
    kite_vhost_info_t vi = KITE_VHOST_INFO_INIT();
    int i = nslots++;
    kite_vhost_t *vh;

    snprintf(hvals[i], sizeof(hvals[i]), "%s", set);
    hdrs[i].name = "X-Set";
    hdrs[i].value = hvals[i];
    vi.iface = "127.0.0.1";
    vi.port = port;
    vi.unix_socket = unix_path;
    vi.protocols = protos;
    vi.mounts = which == 'A' ? &m_a : &m_b;
    vi.headers = &hdrs[i];
    vi.user = &slots[i];
    vi.on_destroyed = on_destroyed;
    vh = kite_vhost_create(ctx, &vi, err);
    if (out)
        *out = vh;
    if (!vh)
        nslots--; /* never made: the slot is free again */
    return vh ? i : -1;
}

static int make_vh(int port, char which, const char *set, int *err, kite_vhost_t **out)
{
    return make_vh_on(port, NULL, which, set, err, out);
}

static int udp_rx(kite_conn_t *c, void *user, const void *in, size_t len)
{
    (void)c;
    (void)user;
    (void)in;
    (void)len;
    return 0;
}

static const kite_protocol_t p_udp = {.abi = KITE_PROTOCOL_ABI, .name = "udp", .on_raw = udp_rx};
static const kite_protocol_t *const uprotos[] = {&p_udp, NULL};
static const kite_pvo_t uopt = {.name = "raw", .value = "1"};
static const kite_pvo_t upvo = {.name = "udp", .options = &uopt};

/* A UDP vhost (its socket is a conn on the first service thread). */
static int make_vh_udp(int *err, kite_vhost_t **out)
{
    kite_vhost_info_t vi = KITE_VHOST_INFO_INIT();
    int i = nslots++;

    vi.iface = "127.0.0.1";
    vi.options = KITE_VH_UDP;
    vi.protocols = uprotos;
    vi.pvo = &upvo;
    vi.user = &slots[i];
    vi.on_destroyed = on_destroyed;
    *out = kite_vhost_create(ctx, &vi, err);
    if (!*out)
        nslots--;
    return *out ? i : -1;
}

/* 1 when a UDP socket can be bound to 127.0.0.1:@port (nobody holds it). */
static int udp_port_free(int port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_DGRAM, 0), ok;

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = !bind(fd, (struct sockaddr *)&sin, sizeof(sin));
    close(fd);
    return ok;
}

static int wait_destroyed(int slot, int ms)
{
    uint64_t end = cu_now_ms() + (uint64_t)ms;

    while (!atomic_load(&slots[slot].destroyed) && cu_now_ms() < end)
        cu_sleep_ms(5);
    return atomic_load(&slots[slot].destroyed);
}

/* --- the service: kite_run, or the application's poll loop --------------- */

static void *service(void *arg)
{
    (void)arg;
    if (!use_extpoll) {
        kite_run(ctx);
        return NULL;
    }
    while (!atomic_load(&stop))
        el_pass(ctx, 100);
    return NULL;
}

/* --- a client looping requests across reloads ----------------------------- */

struct looper {
    int port;
    atomic_int run;
    int requests, failures;
};

static void *loop_client(void *arg)
{
    struct looper *l = arg;
    cu_resp_t r;
    int fd = -1;

    while (atomic_load(&l->run)) {
        /* Mostly one kept connection, and a fresh one every 8th request. */
        if (fd < 0 || l->requests % 8 == 0) {
            if (fd >= 0)
                close(fd);
            fd = cu_connect(l->port);
        }
        l->requests++;
        if (fd < 0 || cu_get(fd, "/", &r) != 200 || (strcmp(r.body, "A") && strcmp(r.body, "B"))) {
            l->failures++;
            if (fd >= 0)
                close(fd);
            fd = -1;
        }
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

/* --- the test, from the control thread ------------------------------------ */

static void test_reload(void)
{
    kite_vhost_t *vh1, *vh3, *vh2, *vhu;
    int s1a, s1b, s1u, s1d, pu, s2a, s2c, s3a, err = 0, p1, p3, p2, k, w, fd, q, i, last[2];
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t sl = sizeof(sin);
    struct looper lp = {0};
    pthread_t th, lt;
    char body[64];
    cu_resp_t r;

    s1a = make_vh(0, 'A', "1", &err, &vh1);
    s1b = make_vh(0, 'A', "1b", &err, &vh3);
    s1u = make_vh_on(0, upath, 'A', "u1", &err, NULL);
    s1d = make_vh_udp(&err, &vhu);
    tap_ok(s1a >= 0 && s1b >= 0 && s1u >= 0 && s1d >= 0, "first set created (%s)",
           kite_err_name(err));
    if (s1a < 0 || s1b < 0 || s1u < 0 || s1d < 0)
        return;
    pu = kite_vhost_port(vhu);
    p1 = kite_vhost_port(vh1);
    p3 = kite_vhost_port(vh3);
    pthread_create(&th, NULL, service, NULL);

    k = cu_connect(p1);
    tap_ok(k >= 0 && cu_get(k, "/", &r) == 200 && !strcmp(r.body, "A") && !strcmp(r.xset, "1"),
           "keep-alive conn served by the first set");
    w = cu_ws_open(p1, "echo");
    tap_ok(w >= 0 && cu_ws_echo(w, "before"), "websocket echoes before the reload");

    tap_is_int(kite_context_reload_commit(ctx), KITE_ESTATE, "commit without begin: KITE_ESTATE");
    tap_is_int(kite_context_reload_begin(ctx), 0, "reload begins");
    tap_is_int(kite_context_reload_begin(ctx), KITE_ESTATE, "a second begin: KITE_ESTATE");
    s2a = make_vh(p1, 'B', "2", &err, NULL);
    s2c = make_vh(0, 'B', "3", &err, &vh2);
    make_vh_on(0, upath, 'B', "u2", &err, NULL);
    tap_ok(s2a >= 0 && s2c >= 0, "staged vhosts created while running (%s)", kite_err_name(err));
    if (s2a < 0 || s2c < 0)
        return;
    p2 = kite_vhost_port(vh2);
    tap_ok(p2 > 0 && p2 != p1 && p2 != p3, "the new port is bound when staged: %d", p2);
    tap_is_int(kite_context_reload_commit(ctx), 0, "commit");
    /* The vhost on the dropped port has no conn: its end says every
     * service thread has switched. */
    tap_ok(wait_destroyed(s1b, 5000), "the vhost on the dropped port is destroyed");
    tap_is_int(atomic_load(&slots[s1b].vhd_at_destroy), 2,
               "its protocols' on_vhost_destroy ran before on_destroyed");

    tap_ok(cu_get(k, "/", &r) == 200 && !strcmp(r.body, "B") && !strcmp(r.xset, "2"),
           "the same keep-alive conn gets the new vhost (body %s, X-Set %s)", r.body, r.xset);
    tap_ok(cu_ws_echo(w, "after"), "the websocket still echoes after the commit");
    tap_ok(!atomic_load(&slots[s1a].destroyed) && !atomic_load(&slots[s1a].vhd_destroyed),
           "the websocket's old vhost is kept while it is open");
    fd = cu_connect(p2);
    tap_ok(fd >= 0 && cu_get(fd, "/", &r) == 200 && !strcmp(r.xset, "3"), "the added port serves");
    if (fd >= 0)
        close(fd);
    fd = cu_connect(p3);
    tap_ok(fd < 0 && errno == ECONNREFUSED, "the dropped port refuses connections");
    if (fd >= 0)
        close(fd);
    tap_ok(http_get(0, upath, "/", body, sizeof(body)) == 200 && !strcmp(body, "B"),
           "the kept unix socket serves the new vhost");
    tap_ok(wait_destroyed(s1u, 5000), "the unix socket's old vhost is destroyed");
    tap_ok(wait_destroyed(s1d, 5000) && udp_port_free(pu),
           "a retired UDP vhost is destroyed with its socket");

    cu_ws_send(w, 8, "\x03\xe8", 2);
    tap_is_int(cu_ws_close_code(w), 1000, "websocket closed by the client");
    close(w);
    tap_ok(wait_destroyed(s1a, 5000), "the old vhost is destroyed once its websocket closed");
    tap_is_int(atomic_load(&slots[s1a].vhd_at_destroy), 2,
               "on_vhost_destroy ran for each protocol, before on_destroyed");

    /* A staged address in use: the staged create fails, abort, old set stays. */
    q = socket(AF_INET, SOCK_STREAM, 0);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(q, (struct sockaddr *)&sin, sizeof(sin));
    listen(q, 1);
    getsockname(q, (struct sockaddr *)&sin, &sl);
    tap_is_int(kite_context_reload_begin(ctx), 0, "second reload begins");
    s3a = make_vh(p1, 'A', "4", &err, NULL);
    tap_ok(s3a >= 0, "a staged vhost on the kept port");
    tap_ok(make_vh_udp(&err, &vhu) < 0 && err == KITE_ENOTSUP, "a UDP vhost cannot be staged: %s",
           kite_err_name(err));
    tap_ok(make_vh(ntohs(sin.sin_port), 'A', "5", &err, NULL) < 0 && err == KITE_EADDRINUSE,
           "a staged vhost on a port in use fails: %s", kite_err_name(err));
    kite_context_reload_abort(ctx);
    close(q);
    tap_ok(cu_get(k, "/", &r) == 200 && !strcmp(r.xset, "2"), "after abort the live set serves");
    tap_ok(s3a >= 0 && wait_destroyed(s3a, 5000) && atomic_load(&slots[s3a].vhd_at_destroy) == 2,
           "the aborted vhost is destroyed");
    close(k);

    /* Ten reloads while a client loops requests. */
    lp.port = p1;
    atomic_store(&lp.run, 1);
    pthread_create(&lt, NULL, loop_client, &lp);
    cu_sleep_ms(50);
    last[0] = s2a;
    last[1] = s2c;
    for (i = 0; i < 10; i++) {
        char set[8];
        int a, b;

        snprintf(set, sizeof(set), "r%d", i);
        if (kite_context_reload_begin(ctx) < 0)
            break;
        a = make_vh(p1, i & 1 ? 'A' : 'B', set, &err, NULL);
        b = make_vh(p2, 'B', set, &err, NULL);
        if (a < 0 || b < 0 || kite_context_reload_commit(ctx) < 0) {
            kite_context_reload_abort(ctx);
            break;
        }
        last[0] = a;
        last[1] = b;
        cu_sleep_ms(30);
    }
    tap_is_int(i, 10, "ten reloads committed");
    tap_ok(access(upath, F_OK) && http_get(0, upath, "/", NULL, 0) < 0,
           "the unix socket the reloads dropped is closed and removed");
    cu_sleep_ms(100);
    atomic_store(&lp.run, 0);
    pthread_join(lt, NULL);
    tap_ok(lp.requests > 20, "the client looped %d requests", lp.requests);
    tap_is_int(lp.failures, 0, "no request failed across the reloads");
    for (i = 0, k = 0; i < nslots; i++)
        if (i != last[0] && i != last[1])
            k += wait_destroyed(i, 5000) ? 0 : 1;
    tap_is_int(k, 0, "every retired vhost has been destroyed");

    /* A websocket still on a retired vhost when the context goes: destroy
     * frees that vhost with it. */
    w = cu_ws_open(p1, "echo");
    tap_ok(w >= 0 && kite_context_reload_begin(ctx) == 0 &&
               make_vh(p1, 'A', "end", &err, NULL) >= 0 && kite_context_reload_commit(ctx) == 0,
           "a reload with a websocket open");
    tap_ok(cu_ws_echo(w, "still") && !atomic_load(&slots[last[0]].destroyed),
           "the websocket keeps its retired vhost");
    atomic_store(&stop, 1);
    kite_cancel_service(ctx);
    pthread_join(th, NULL);
    if (w >= 0)
        close(w);
}

/* A context whose loops never run: a commit waits in the post queues,
 * destroy applies it, and frees every vhost, staged ones included. */
static void test_unserved(const kite_context_info_t *ci)
{
    int first = nslots, err = 0, i, gone = 0;

    ctx = kite_context_create(ci, &err);
    if (!ctx)
        return;
    tap_ok(make_vh(0, 'A', "x1", &err, NULL) >= 0 && kite_context_reload_begin(ctx) == 0 &&
               make_vh(0, 'B', "x2", &err, NULL) >= 0 && kite_context_reload_commit(ctx) == 0,
           "a reload committed before the loops run");
    tap_ok(make_vh(0, 'A', "x3", &err, NULL) < 0 && err == KITE_ESTATE,
           "no vhost outside a reload until the commit reached the threads");
    tap_ok(kite_context_reload_begin(ctx) == 0 && make_vh(0, 'B', "x4", &err, NULL) >= 0,
           "a reload left staged");
    kite_context_destroy(ctx);
    for (i = first; i < nslots; i++)
        gone += atomic_load(&slots[i].destroyed);
    tap_is_int(gone, nslots - first, "destroy freed the retired, live and staged vhosts");
}

int main(int argc, char **argv)
{
    kite_context_info_t ci = KITE_CONTEXT_INFO_INIT();
    const char *mode = argc > 1 ? argv[1] : "uv";
    int i, err = 0, gone = 0;

    kite_set_log_level(KITE_LL_ERR, NULL);
    use_extpoll = !strcmp(mode, "extpoll");
    ci.count_threads = !strcmp(mode, "threads") ? 2 : 1;
    ci.keepalive_timeout = 60;
    if (use_extpoll)
        ci.extpoll = &el_ops;
    snprintf(upath, sizeof(upath), "/tmp/kite-test-reload-%d.sock", (int)getpid());
    ctx = kite_context_create(&ci, &err);
    tap_ok(ctx != NULL, "context (%s, %d service threads)", mode, ci.count_threads);
    if (!ctx)
        return tap_done();
    test_reload();
    kite_context_destroy(ctx);
    for (i = 0; i < nslots; i++)
        gone += atomic_load(&slots[i].destroyed);
    tap_is_int(gone, nslots, "on_destroyed ran for every vhost made (%d)", nslots);
    /* With extpoll kite cannot tell a loop that never runs from a busy
     * one, and a second begin waits for the commit. */
    if (!use_extpoll)
        test_unserved(&ci);
    return tap_done();
}
