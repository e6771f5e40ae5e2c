/*
 * The embedding API from an application's side: a context on a foreign
 * libuv loop that the application keeps running after kite is destroyed,
 * kite_service() with kite_cancel_service() from another thread, kite_run()
 * with several service threads and kite_post() to each, unix sockets, the
 * ephemeral port read back, and the errors of bad vhosts. Clients are
 * plain blocking sockets in their own threads. Runs under ASan (leaks)
 * and TSan (the threads suite).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include "kite.h"
#include "http-get.h"
#include "tap.h"

/* A protocol answering "hi from tsi N". */
static int on_http(kite_conn_t *c, void *user, const kite_http_req_t *req)
{
    char out[64];
    int n = snprintf(out, sizeof(out), "hi from tsi %d", kite_conn_tsi(c));

    (void)user;
    (void)req;
    if (kite_http_respond(c, 200, "text/plain", n) < 0)
        return 1;
    return kite_write(c, out, (size_t)n, KITE_WRITE_HTTP_FINAL) < 0;
}

static const kite_protocol_t proto = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "hi",
    .on_http = on_http,
};
static const kite_protocol_t *const protos[] = {&proto, NULL};
static const kite_mount_t mount = KITE_MOUNT_INIT(.mountpoint = "/", .origin = "callback://hi", );

static kite_vhost_t *make_vhost(kite_context_t *ctx, const char *unix_path, int *err)
{
    kite_vhost_info_t vi = KITE_VHOST_INFO_INIT();

    vi.iface = "127.0.0.1";
    vi.port = 0;
    vi.unix_socket = unix_path;
    vi.protocols = protos;
    vi.mounts = &mount;
    return kite_vhost_create(ctx, &vi, err);
}

/* --- foreign loop ------------------------------------------------------ */

struct foreign {
    uv_async_t done;
    int port, status;
    char body[128];
};

static void *foreign_client(void *arg)
{
    struct foreign *f = arg;

    f->status = http_get(f->port, NULL, "/x", f->body, sizeof(f->body));
    uv_async_send(&f->done);
    return NULL;
}

static void foreign_done(uv_async_t *a)
{
    uv_stop(a->loop);
}

static int app_ticks;
static void app_tick(uv_timer_t *t)
{
    (void)t;
    app_ticks++;
}

static void test_foreign_loop(void)
{
    uv_loop_t loop;
    uv_timer_t app_timer;
    struct foreign f = {0};
    kite_context_info_t ci = KITE_CONTEXT_INFO_INIT();
    kite_context_t *ctx;
    kite_vhost_t *vh;
    pthread_t th;
    int err = 0;

    uv_loop_init(&loop);
    uv_timer_init(&loop, &app_timer);
    uv_timer_start(&app_timer, app_tick, 1, 1);
    uv_async_init(&loop, &f.done, foreign_done);
    ci.foreign_loop = &loop;
    ctx = kite_context_create(&ci, &err);
    tap_ok(ctx != NULL, "context on a foreign loop (err %d)", err);
    if (!ctx)
        return;
    vh = make_vhost(ctx, NULL, &err);
    tap_ok(vh && kite_vhost_port(vh) > 0, "ephemeral port read back: %d",
           vh ? kite_vhost_port(vh) : -1);
    f.port = vh ? kite_vhost_port(vh) : 0;
    pthread_create(&th, NULL, foreign_client, &f);
    uv_run(&loop, UV_RUN_DEFAULT); /* the application runs its loop */
    pthread_join(th, NULL);
    tap_is_int(f.status, 200, "request served on the application's loop");
    tap_is_str(f.body, "hi from tsi 0", "body from the callback mount");

    kite_context_destroy(ctx);
    tap_ok(uv_is_active((uv_handle_t *)&app_timer), "the application's timer survives destroy");
    app_ticks = 0;
    uv_run(&loop, UV_RUN_ONCE);
    tap_ok(app_ticks > 0, "the application's loop still runs its own handles");
    uv_close((uv_handle_t *)&app_timer, NULL);
    uv_close((uv_handle_t *)&f.done, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    tap_is_int(uv_loop_close(&loop), 0, "no kite handle left on the foreign loop");
}

/* --- kite_service + cancel from another thread ------------------------- */

static void *canceller(void *arg)
{
    usleep(100 * 1000);
    kite_cancel_service(arg);
    return NULL;
}

static void test_service_cancel(void)
{
    kite_context_t *ctx = kite_context_create(NULL, NULL);
    pthread_t th;
    int r, passes = 0;
    uint64_t t0, t1;

    tap_ok(ctx != NULL, "context with defaults");
    if (!ctx)
        return;
    t0 = uv_hrtime();
    pthread_create(&th, NULL, canceller, ctx);
    while ((r = kite_service(ctx, 0, 5000)) == 0 && passes < 100)
        passes++;
    t1 = uv_hrtime();
    pthread_join(th, NULL);
    tap_is_int(r, 1, "kite_service returns 1 after kite_cancel_service");
    tap_ok((t1 - t0) / 1000000 < 3000, "the cancel woke the wait (%llu ms)",
           (unsigned long long)((t1 - t0) / 1000000));
    tap_is_int(kite_service(ctx, 0, 0), 0, "the next pass runs normally");
    tap_is_int(kite_service(ctx, 7, 0), KITE_EINVAL, "bad tsi is KITE_EINVAL");
    kite_context_destroy(ctx);
}

/* --- kite_run with threads, kite_post ----------------------------------- */

struct posted {
    atomic_int ran[2];
    pthread_t who[2];
};

static struct posted posted;

static void post_cb(kite_context_t *ctx, void *arg)
{
    int tsi = (int)(intptr_t)arg;

    (void)ctx;
    posted.who[tsi] = pthread_self();
    atomic_fetch_add(&posted.ran[tsi], 1);
}

struct runner {
    kite_context_t *ctx;
    int port;
    int ok;
    int tsis;
};

static void *client_then_cancel(void *arg)
{
    struct runner *r = arg;
    char body[128];
    int i, ok = 0;

    for (i = 0; i < 2; i++)
        kite_post(r->ctx, i, post_cb, (void *)(intptr_t)i);
    for (i = 0; i < 40; i++) {
        if (http_get(r->port, NULL, "/", body, sizeof(body)) == 200 &&
            !strncmp(body, "hi from tsi ", 12)) {
            ok++;
            r->tsis |= 1 << (body[12] - '0');
        }
    }
    r->ok = ok;
    kite_cancel_service(r->ctx);
    return NULL;
}

static void test_threads(void)
{
    kite_context_info_t ci = KITE_CONTEXT_INFO_INIT(.count_threads = 2);
    struct runner r = {0};
    kite_context_t *ctx = kite_context_create(&ci, NULL);
    kite_vhost_t *vh;
    pthread_t th;

    tap_ok(ctx && kite_context_count_threads(ctx) == 2, "two service threads");
    if (!ctx)
        return;
    vh = make_vhost(ctx, NULL, NULL);
    tap_ok(vh != NULL, "vhost on both threads (SO_REUSEPORT)");
    r.ctx = ctx;
    r.port = vh ? kite_vhost_port(vh) : 0;
    pthread_create(&th, NULL, client_then_cancel, &r);
    tap_is_int(kite_run(ctx), 0, "kite_run returns 0 after cancel");
    pthread_join(th, NULL);
    tap_is_int(r.ok, 40, "every request answered");
    tap_ok(atomic_load(&posted.ran[0]) == 1 && atomic_load(&posted.ran[1]) == 1,
           "each post ran once");
    tap_ok(!pthread_equal(posted.who[0], posted.who[1]), "posts ran on their own threads");
    kite_context_destroy(ctx);
}

/* --- unix sockets and vhost errors ------------------------------------- */

static void *unix_client(void *arg)
{
    struct runner *r = arg;

    r->ok = http_get(0, "/tmp/kite-test-embed.sock", "/u", NULL, 0);
    kite_cancel_service(r->ctx);
    return NULL;
}

static void test_unix_and_errors(void)
{
    kite_context_t *ctx = kite_context_create(NULL, NULL);
    kite_vhost_info_t vi = KITE_VHOST_INFO_INIT();
    kite_mount_t bad = KITE_MOUNT_INIT(.mountpoint = "/", .origin = "callback://nope");
    kite_mount_t nodir = KITE_MOUNT_INIT(.mountpoint = "/", .origin = "/nonexistent/kite/dir");
    struct runner r = {0};
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t sl = sizeof(sin);
    pthread_t th;
    int err = 0, fd;

    if (!ctx)
        return;
    tap_ok(make_vhost(ctx, "/tmp/kite-test-embed.sock", &err) != NULL, "unix socket vhost");
    r.ctx = ctx;
    pthread_create(&th, NULL, unix_client, &r);
    kite_run(ctx);
    pthread_join(th, NULL);
    tap_is_int(r.ok, 200, "request over the unix socket");

    vi.iface = "127.0.0.1";
    vi.protocols = protos;
    vi.mounts = &bad;
    tap_ok(!kite_vhost_create(ctx, &vi, &err) && err == KITE_EINVAL,
           "unknown callback protocol: %s", kite_err_name(err));
    vi.mounts = &nodir;
    tap_ok(!kite_vhost_create(ctx, &vi, &err) && err == KITE_ENOENT, "missing docroot: %s",
           kite_err_name(err));
    vi.mounts = &mount;
    vi.iface = "not-an-address";
    tap_ok(!kite_vhost_create(ctx, &vi, &err) && err == KITE_EINVAL, "bad interface: %s",
           kite_err_name(err));

    fd = socket(AF_INET, SOCK_STREAM, 0);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&sin, sizeof(sin));
    listen(fd, 1);
    getsockname(fd, (struct sockaddr *)&sin, &sl);
    vi.iface = "127.0.0.1";
    vi.port = ntohs(sin.sin_port);
    tap_ok(!kite_vhost_create(ctx, &vi, &err) && err == KITE_EADDRINUSE, "port in use: %s",
           kite_err_name(err));
    close(fd);
    tap_is_str(kite_strerror(KITE_EADDRINUSE), "address already in use", "kite_strerror");
    kite_context_destroy(ctx);
}

int main(void)
{
    kite_set_log_level(KITE_LL_ERR, NULL);
    test_foreign_loop();
    test_service_cancel();
    test_threads();
    test_unix_and_errors();
    return tap_done();
}
