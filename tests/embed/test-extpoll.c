/*
 * The external-poll contract (kite/extpoll.h) from an application's side:
 * the test owns a poll() loop built from what kite told it through
 * add_fd / del_fd / change_mode, plus a pipe of its own, and never sleeps
 * longer than kite_next_timeout_ms() (capped at 30 s, the application's
 * own long timeout). Checked: every fd is added once and deleted once,
 * none is left after kite_context_destroy(), change_mode only for added
 * fds and only when the mask changes, foreign fds are left alone, the
 * listen socket and connections are serviced, a 2 s kite timer fires on
 * time, and kite_post() / kite_cancel_service() from another thread wake
 * the poll through kite's eventfd. Clients are blocking sockets in their
 * own threads.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kite.h"
#include "tap.h"

#define MAXFD          4096
#define APP_TIMEOUT_MS 30000 /* the application's own idea of a long sleep */
#define BIG            (512 * 1024)

/* --- the application's view of kite's fds ------------------------------ */

static struct {
    int added;
    short events;
} tr[MAXFD];
static int n_add, n_del, n_chg, cur_added;
static int bad_add, bad_del, bad_chg, same_chg, out_of_range;
static int first_fd = -1; /* the first fd kite adds: its wakeup eventfd */

static int add_fd(void *user, int fd, short events)
{
    (void)user;
    if (fd < 0 || fd >= MAXFD) {
        out_of_range++;
        return -1;
    }
    if (tr[fd].added)
        bad_add++;
    if (first_fd < 0)
        first_fd = fd;
    tr[fd].added = 1;
    tr[fd].events = events;
    n_add++;
    cur_added++;
    return 0;
}

static int del_fd(void *user, int fd)
{
    (void)user;
    if (fd < 0 || fd >= MAXFD || !tr[fd].added) {
        bad_del++;
        return -1;
    }
    tr[fd].added = 0;
    n_del++;
    cur_added--;
    return 0;
}

static int change_mode(void *user, int fd, short events)
{
    (void)user;
    if (fd < 0 || fd >= MAXFD || !tr[fd].added) {
        bad_chg++;
        return -1;
    }
    if (tr[fd].events == events)
        same_chg++;
    tr[fd].events = events;
    n_chg++;
    return 0;
}

static const kite_extpoll_t xp =
    KITE_EXTPOLL_INIT(.add_fd = add_fd, .del_fd = del_fd, .change_mode = change_mode, );

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* --- the application's loop -------------------------------------------- */

static int app_pipe[2];           /* the application's own fd, in the same poll */
static atomic_int app_events;     /* bumped by client threads, then a pipe write */
static int foreign_touched;       /* kite claimed or cleared the app's fd */
static int passes, eventfd_wakes; /* loop passes, passes woken by kite's eventfd */
static int slept_fixed;           /* a sleep not bounded by kite_next_timeout_ms */

static void app_notify(void)
{
    char c = 1;

    atomic_fetch_add(&app_events, 1);
    if (write(app_pipe[1], &c, 1) != 1)
        perror("app pipe");
}

/* One pass: poll what kite asked for plus our pipe, service, run pending. */
static void loop_once(kite_context_t *ctx, int cap_ms)
{
    struct pollfd pfd[MAXFD + 1];
    int n = 0, fd, i, ms = kite_next_timeout_ms(ctx, 0), t;

    for (fd = 0; fd < MAXFD; fd++)
        if (tr[fd].added) {
            pfd[n].fd = fd;
            pfd[n].events = tr[fd].events;
            pfd[n++].revents = 0;
        }
    pfd[n].fd = app_pipe[0];
    pfd[n].events = POLLIN;
    pfd[n++].revents = 0;
    t = (ms < 0 || ms > cap_ms) ? cap_ms : ms;
    if (ms >= 0 && t != ms && cap_ms != APP_TIMEOUT_MS)
        slept_fixed++;
    passes++;
    if (poll(pfd, (nfds_t)n, t) < 0 && errno != EINTR)
        return;
    for (i = 0; i < n; i++) {
        if (!pfd[i].revents)
            continue;
        if (pfd[i].fd == app_pipe[0]) {
            char buf[64];
            short rev = pfd[i].revents;

            if (kite_service_pollfd(ctx, &pfd[i]) != 0 || pfd[i].revents != rev)
                foreign_touched++;
            while (read(app_pipe[0], buf, sizeof(buf)) == (ssize_t)sizeof(buf))
                ;
            continue;
        }
        if (pfd[i].fd == first_fd)
            eventfd_wakes++;
        /* kite may have dropped this fd while servicing an earlier one */
        if (!tr[pfd[i].fd].added)
            continue;
        kite_service_pollfd(ctx, &pfd[i]);
    }
    kite_service_pending(ctx, 0);
}

/* Run the loop until @target app events, at most @limit_ms. */
static int loop_until(kite_context_t *ctx, int target, int limit_ms)
{
    uint64_t end = now_ms() + (uint64_t)limit_ms;

    while (atomic_load(&app_events) < target && now_ms() < end)
        loop_once(ctx, APP_TIMEOUT_MS);
    return atomic_load(&app_events) >= target;
}

/* --- the server side: a protocol ------------------------------------- */

struct sess {
    kite_timer_t t;
};

static uint64_t timer_set_at, timer_fired_at;

static void on_timer(kite_conn_t *c, kite_timer_t *t)
{
    (void)t;
    timer_fired_at = now_ms();
    if (kite_http_respond(c, 200, "text/plain", 5) < 0 ||
        kite_write(c, "later", 5, KITE_WRITE_HTTP_FINAL) < 0)
        return;
}

static int on_http(kite_conn_t *c, void *user, const kite_http_req_t *req)
{
    struct sess *s = user;
    const char *path = kite_http_mount_path(req);

    if (!strcmp(path, "/slow")) {
        timer_set_at = now_ms();
        return kite_timer_schedule(c, &s->t, 2000 * 1000, on_timer) < 0;
    }
    if (!strcmp(path, "/big")) {
        static char big[BIG];

        memset(big, 'b', sizeof(big));
        if (kite_http_respond(c, 200, "application/octet-stream", BIG) < 0)
            return 1;
        return kite_write(c, big, sizeof(big), KITE_WRITE_HTTP_FINAL) < 0;
    }
    if (kite_http_respond(c, 200, "text/plain", 2) < 0)
        return 1;
    return kite_write(c, "hi", 2, KITE_WRITE_HTTP_FINAL) < 0;
}

static const kite_protocol_t proto = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "xp",
    .per_session_size = sizeof(struct sess),
    .on_http = on_http,
};
static const kite_protocol_t *const protos[] = {&proto, NULL};
static const kite_mount_t mount = KITE_MOUNT_INIT(.mountpoint = "/", .origin = "callback://xp", );

/* --- clients ------------------------------------------------------------ */

struct client {
    int port, delay_ms, slow_reader;
    const char *path;
    int status;
    size_t body_len;
    char body[64];
    uint64_t sent_at, done_at;
};

static void *client_main(void *arg)
{
    struct client *cl = arg;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)cl->port)};
    struct timeval tv = {10, 0};
    char req[256], *resp = malloc(BIG + 4096);
    size_t got = 0, cap = BIG + 4096;
    ssize_t n;
    int fd, rcvbuf = 4096;

    cl->status = -1;
    usleep((useconds_t)cl->delay_ms * 1000);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (cl->slow_reader)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
        goto out;
    n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                 cl->path);
    cl->sent_at = now_ms();
    if (write(fd, req, (size_t)n) != n)
        goto out;
    if (cl->slow_reader)
        usleep(300 * 1000); /* let kite's output back up: it must ask for POLLOUT */
    while (got < cap - 1 && (n = read(fd, resp + got, cap - 1 - got)) > 0)
        got += (size_t)n;
    cl->done_at = now_ms();
    resp[got] = '\0';
    if (sscanf(resp, "HTTP/1.1 %d", &cl->status) == 1) {
        const char *b = strstr(resp, "\r\n\r\n");
        if (b) {
            cl->body_len = got - (size_t)(b + 4 - resp);
            snprintf(cl->body, sizeof(cl->body), "%s", b + 4);
        }
    }
out:
    close(fd);
    free(resp);
    app_notify();
    return NULL;
}

static void run_client(kite_context_t *ctx, struct client *cl, const char *what)
{
    pthread_t th;
    int target = atomic_load(&app_events) + 1;

    pthread_create(&th, NULL, client_main, cl);
    tap_ok(loop_until(ctx, target, 15000), "%s: the client finished", what);
    pthread_join(th, NULL);
}

/* --- other threads ------------------------------------------------------ */

static atomic_int posted;
static uint64_t posted_at;

static void on_post(kite_context_t *ctx, void *arg)
{
    (void)ctx;
    (void)arg;
    posted_at = now_ms();
    atomic_store(&posted, 1);
}

static void *poster(void *arg)
{
    usleep(200 * 1000);
    kite_post(arg, 0, on_post, NULL);
    return NULL;
}

static void *canceller(void *arg)
{
    usleep(200 * 1000);
    kite_cancel_service(arg);
    return NULL;
}

int main(void)
{
    kite_context_info_t ci = KITE_CONTEXT_INFO_INIT();
    kite_vhost_info_t vi = KITE_VHOST_INFO_INIT();
    kite_context_t *ctx;
    kite_vhost_t *vh;
    struct client cl;
    pthread_t th;
    int err = 0, port, ms, p2[2], conns = 0, r;
    struct pollfd fpd;
    uint64_t t0, dt;

    if (pipe(app_pipe) || pipe(p2))
        return 1;
    ci.extpoll = &xp;
    ctx = kite_context_create(&ci, &err);
    tap_ok(ctx != NULL, "context on an external poll (err %d)", err);
    if (!ctx)
        return tap_done();
    tap_is_int(n_add, 1, "context creation adds one fd (the wakeup eventfd)");

    ci.count_threads = 2;
    tap_ok(kite_context_create(&ci, &err) == NULL && err == KITE_EINVAL,
           "external poll with 2 service threads is refused (err %d)", err);
    tap_is_int(n_add, 1, "the refused context added nothing");

    vi.iface = "127.0.0.1";
    vi.protocols = protos;
    vi.mounts = &mount;
    vh = kite_vhost_create(ctx, &vi, &err);
    tap_ok(vh != NULL, "vhost on 127.0.0.1, ephemeral port");
    if (!vh) {
        kite_context_destroy(ctx);
        return tap_done();
    }
    port = kite_vhost_port(vh);
    tap_is_int(n_add, 2, "the listen socket is added");
    ms = kite_next_timeout_ms(ctx, 0);
    tap_ok(ms == -1 || ms >= 1000, "idle with no timers: next timeout %d ms (-1 or long)", ms);

    /* fds kite does not own */
    tap_is_int(kite_service_fd(ctx, p2[0], POLLIN), 0, "kite_service_fd on an app fd: 0");
    tap_is_int(kite_service_fd(ctx, 100000, POLLIN), 0, "kite_service_fd on a huge fd: 0");
    fpd.fd = p2[0];
    fpd.events = POLLIN;
    fpd.revents = POLLIN;
    tap_is_int(kite_service_pollfd(ctx, &fpd), 0, "kite_service_pollfd on an app fd: 0");
    tap_is_int(fpd.revents, POLLIN, "... and its revents are left alone");
    fpd.fd = first_fd;
    fpd.revents = POLLIN;
    tap_is_int(kite_service_pollfd(ctx, &fpd), 1, "kite_service_pollfd on kite's eventfd: 1");
    tap_is_int(fpd.revents, 0, "... and its revents are cleared");

    /* A request while the application sleeps as long as kite allows: the
     * client connects 300 ms into that sleep. */
    memset(&cl, 0, sizeof(cl));
    cl.port = port;
    cl.delay_ms = 300;
    cl.path = "/x";
    t0 = now_ms();
    passes = 0;
    run_client(ctx, &cl, "GET /x");
    conns++;
    dt = now_ms() - t0;
    tap_is_int(cl.status, 200, "GET /x served from the listen socket on the app's poll");
    tap_is_str(cl.body, "hi", "GET /x body");
    tap_ok(dt < 3000, "served %llu ms after the start of a long sleep", (unsigned long long)dt);
    tap_ok(passes < 30, "in %d loop passes (no busy polling)", passes);

    /* A 2 s kite timer, the application sleeping kite_next_timeout_ms. */
    memset(&cl, 0, sizeof(cl));
    cl.port = port;
    cl.path = "/slow";
    passes = 0;
    run_client(ctx, &cl, "GET /slow");
    conns++;
    dt = cl.done_at - cl.sent_at;
    tap_is_int(cl.status, 200, "GET /slow answered by the timer");
    tap_is_str(cl.body, "later", "GET /slow body");
    tap_ok(dt >= 2000 && dt <= 2600, "the 2 s timer answered after %llu ms",
           (unsigned long long)dt);
    tap_ok(timer_fired_at - timer_set_at >= 2000 && timer_fired_at - timer_set_at <= 2600,
           "the timer callback ran %llu ms after scheduling",
           (unsigned long long)(timer_fired_at - timer_set_at));
    tap_ok(passes < 40, "in %d loop passes (slept until the timer, no busy polling)", passes);

    /* A slow reader: kite's output backs up and it asks for POLLOUT. */
    memset(&cl, 0, sizeof(cl));
    cl.port = port;
    cl.path = "/big";
    cl.slow_reader = 1;
    r = n_chg;
    run_client(ctx, &cl, "GET /big (slow reader)");
    conns++;
    tap_is_int(cl.status, 200, "GET /big served");
    tap_is_int(cl.body_len, BIG, "GET /big: the whole body");
    tap_ok(n_chg > r, "change_mode was called (%d times) for the backed-up output", n_chg - r);

    /* kite_post from another thread wakes the app's poll. */
    while (kite_next_timeout_ms(ctx, 0) == 0)
        loop_once(ctx, APP_TIMEOUT_MS);
    pthread_create(&th, NULL, poster, ctx);
    t0 = now_ms();
    r = eventfd_wakes;
    while (!atomic_load(&posted) && now_ms() - t0 < 10000)
        loop_once(ctx, APP_TIMEOUT_MS);
    pthread_join(th, NULL);
    tap_ok(atomic_load(&posted), "kite_post from another thread ran");
    tap_ok(posted_at - t0 < 1000, "... %llu ms after it was posted 200 ms in",
           (unsigned long long)(posted_at - t0));
    tap_ok(eventfd_wakes > r, "... woken through kite's eventfd");

    /* kite_cancel_service from another thread wakes the app's poll. */
    while (kite_next_timeout_ms(ctx, 0) == 0)
        loop_once(ctx, APP_TIMEOUT_MS);
    pthread_create(&th, NULL, canceller, ctx);
    t0 = now_ms();
    r = eventfd_wakes;
    while (eventfd_wakes == r && now_ms() - t0 < 10000)
        loop_once(ctx, APP_TIMEOUT_MS);
    dt = now_ms() - t0;
    pthread_join(th, NULL);
    tap_ok(eventfd_wakes > r && dt < 1000,
           "kite_cancel_service from another thread wakes the poll (%llu ms)",
           (unsigned long long)dt);
    ms = kite_next_timeout_ms(ctx, 0);
    tap_ok(ms != 0, "... and leaves nothing pending (next timeout %d)", ms);

    /* Idle again with no connection: nothing to wake for. */
    {
        int i;

        for (i = 0; i < 10 && kite_next_timeout_ms(ctx, 0) == 0; i++)
            loop_once(ctx, APP_TIMEOUT_MS);
    }
    tap_is_int(slept_fixed, 0, "the app never slept for a fixed time instead of kite's");
    tap_is_int(foreign_touched, 0, "the app's own fd was never claimed by kite");
    tap_is_int(cur_added, 2, "with the clients gone, eventfd and listen socket are left");

    kite_context_destroy(ctx);
    tap_is_int(cur_added, 0, "after kite_context_destroy no fd is left added");
    tap_is_int(n_add, n_del, "every fd added was deleted (%d)", n_add);
    tap_is_int(n_add, 2 + conns, "added: the eventfd, the listen socket and the %d conns", conns);
    tap_is_int(bad_add, 0, "no fd added twice");
    tap_is_int(bad_del, 0, "no fd deleted that was not added");
    tap_is_int(bad_chg, 0, "change_mode only for added fds");
    tap_is_int(same_chg, 0, "change_mode only when the mask changes");
    tap_is_int(out_of_range, 0, "no fd out of range");
    close(app_pipe[0]);
    close(app_pipe[1]);
    close(p2[0]);
    close(p2[1]);
    return tap_done();
}
