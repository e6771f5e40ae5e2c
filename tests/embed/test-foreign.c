/*
 * Foreign libuv loops over a context's whole life: an application loop
 * with a timer of its own hosts three contexts one after the other, each
 * serving a request; then two application threads, each running its own
 * loop, host one context with two service threads (foreign_loops[]).
 * After every destroy only the application's handles are left on its
 * loops (uv_walk), its timer kept ticking, and the loops close cleanly.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "kite.h"
#include "http-get.h"
#include "tap.h"

static int on_http(kite_conn_t *c, void *user, const kite_http_req_t *req)
{
    char out[32];
    int n = snprintf(out, sizeof(out), "tsi %d", kite_conn_tsi(c));

    (void)user;
    (void)req;
    if (kite_http_respond(c, 200, "text/plain", n) < 0)
        return 1;
    return kite_write(c, out, (size_t)n, KITE_WRITE_HTTP_FINAL) < 0;
}

static const kite_protocol_t proto = {.abi = KITE_PROTOCOL_ABI, .name = "p", .on_http = on_http};
static const kite_protocol_t *const protos[] = {&proto, NULL};
static const kite_mount_t mount = KITE_MOUNT_INIT(.mountpoint = "/", .origin = "callback://p");

static int foreign_handles;
static void count_foreign(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        foreign_handles++;
}

static int walk_count(uv_loop_t *loop)
{
    foreign_handles = 0;
    uv_walk(loop, count_foreign, NULL);
    return foreign_handles;
}

/* --- one loop, three contexts ----------------------------------------- */

struct client {
    uv_async_t done;
    int port, status;
    char body[64];
};

static void *client_main(void *arg)
{
    struct client *cl = arg;

    cl->status = http_get(cl->port, NULL, "/", cl->body, sizeof(cl->body));
    uv_async_send(&cl->done);
    return NULL;
}

static void stop_loop(uv_async_t *a)
{
    uv_stop(a->loop);
}

static int ticks, client_done;
static void tick(uv_timer_t *t)
{
    /* The loop runs until the client is done and the app's timer has
     * ticked a few times beside kite. */
    if (++ticks >= 3 && client_done)
        uv_stop(t->loop);
}

static void client_finished(uv_async_t *a)
{
    (void)a;
    client_done = 1;
}

static void test_three_lives(void)
{
    uv_loop_t loop;
    uv_timer_t timer;
    int life;

    uv_loop_init(&loop);
    uv_timer_init(&loop, &timer);
    uv_timer_start(&timer, tick, 1, 1);
    for (life = 0; life < 3; life++) {
        void *loops[1] = {&loop};
        kite_context_info_t ci = KITE_CONTEXT_INFO_INIT(.foreign_loops = loops);
        kite_vhost_info_t vi =
            KITE_VHOST_INFO_INIT(.iface = "127.0.0.1", .protocols = protos, .mounts = &mount);
        struct client cl = {0};
        kite_context_t *ctx = kite_context_create(&ci, NULL);
        kite_vhost_t *vh = ctx ? kite_vhost_create(ctx, &vi, NULL) : NULL;
        pthread_t th;
        int before;

        if (!vh) {
            tap_ok(0, "life %d: context on the application's loop", life);
            return;
        }
        uv_async_init(&loop, &cl.done, client_finished);
        cl.port = kite_vhost_port(vh);
        ticks = client_done = 0;
        pthread_create(&th, NULL, client_main, &cl);
        uv_run(&loop, UV_RUN_DEFAULT);
        pthread_join(th, NULL);
        tap_ok(cl.status == 200 && !strcmp(cl.body, "tsi 0"), "life %d: request served", life);
        tap_ok(ticks >= 3, "life %d: the application's timer ticks beside kite", life);
        uv_close((uv_handle_t *)&cl.done, NULL);
        uv_run(&loop, UV_RUN_NOWAIT);
        before = walk_count(&loop);
        kite_context_destroy(ctx);
        tap_is_int(walk_count(&loop), 1,
                   "life %d: after destroy only the app's timer is left (%d "
                   "before)",
                   life, before);
        tap_ok(uv_is_active((uv_handle_t *)&timer), "life %d: the app's timer is still active",
               life);
    }
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    tap_is_int(uv_loop_close(&loop), 0, "the application's loop closes cleanly");
}

/* --- two application threads, foreign_loops[] -------------------------- */

struct app_thread {
    uv_loop_t loop;
    uv_async_t stop;
    pthread_t th;
};

static void *app_main(void *arg)
{
    struct app_thread *a = arg;

    uv_run(&a->loop, UV_RUN_DEFAULT);
    return NULL;
}

static void test_two_threads(void)
{
    struct app_thread a[2];
    void *loops[2] = {&a[0].loop, &a[1].loop};
    kite_context_info_t ci = KITE_CONTEXT_INFO_INIT(.count_threads = 2, .foreign_loops = loops);
    kite_vhost_info_t vi =
        KITE_VHOST_INFO_INIT(.iface = "127.0.0.1", .protocols = protos, .mounts = &mount);
    kite_context_t *ctx;
    kite_vhost_t *vh;
    int i, ok = 0, seen = 0;
    char body[64];

    for (i = 0; i < 2; i++) {
        uv_loop_init(&a[i].loop);
        uv_async_init(&a[i].loop, &a[i].stop, stop_loop);
    }
    ctx = kite_context_create(&ci, NULL);
    vh = ctx ? kite_vhost_create(ctx, &vi, NULL) : NULL;
    tap_ok(vh != NULL, "a context with two service threads on two application loops");
    if (!vh)
        return;
    for (i = 0; i < 2; i++)
        pthread_create(&a[i].th, NULL, app_main, &a[i]);
    for (i = 0; i < 40; i++)
        if (http_get(kite_vhost_port(vh), NULL, "/", body, sizeof(body)) == 200 &&
            !strncmp(body, "tsi ", 4)) {
            ok++;
            seen |= 1 << (body[4] - '0');
        }
    tap_is_int(ok, 40, "every request answered on the application's loops");
    for (i = 0; i < 2; i++) {
        uv_async_send(&a[i].stop);
        pthread_join(a[i].th, NULL);
    }
    kite_context_destroy(ctx);
    for (i = 0; i < 2; i++) {
        tap_is_int(walk_count(&a[i].loop), 1, "loop %d: only the application's handle is left", i);
        uv_close((uv_handle_t *)&a[i].stop, NULL);
        uv_run(&a[i].loop, UV_RUN_DEFAULT);
        tap_is_int(uv_loop_close(&a[i].loop), 0, "loop %d closes cleanly", i);
    }
    tap_ok(seen != 0, "requests were served by service thread(s) 0x%x", seen);
}

int main(void)
{
    kite_set_log_level(KITE_LL_ERR, NULL);
    test_three_lives();
    test_two_threads();
    return tap_done();
}
