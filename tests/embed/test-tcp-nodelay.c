/*
 * tcp-nodelay (KITE_VH_NO_TCP_NODELAY): the server's end of an accepted
 * connection has TCP_NODELAY by default and not with the option, on both
 * event backends ("extpoll" as the argument: an application poll loop).
 * The server's fd is found from the client's side: the socket of this
 * process whose local and peer ports are the client's reversed.
 */
#include <dirent.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "extpoll-loop.h"
#include "srv.h"
#include "tap.h"

static atomic_int stop;

static int on_http(kite_conn_t *c, void *user, const kite_http_req_t *req)
{
    (void)user;
    (void)req;
    if (kite_http_respond(c, 200, "text/plain", 2) < 0)
        return 1;
    return kite_write(c, "ok", 2, KITE_WRITE_HTTP_FINAL) < 0;
}

static const kite_protocol_t proto = {.abi = KITE_PROTOCOL_ABI, .name = "ok", .on_http = on_http};
static const kite_protocol_t *const protos[] = {&proto, NULL};
static const kite_mount_t mount = KITE_MOUNT_INIT(.mountpoint = "/", .origin = "callback://ok");

static int port_of(int fd, int peer)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);

    if ((peer ? getpeername(fd, (struct sockaddr *)&sin, &len)
              : getsockname(fd, (struct sockaddr *)&sin, &len)) < 0 ||
        sin.sin_family != AF_INET)
        return -1;
    return ntohs(sin.sin_port);
}

/* TCP_NODELAY of the server's end of the client socket @cfd: 0, 1, or -1 not found. */
static int server_nodelay(int cfd)
{
    int here = port_of(cfd, 0), there = port_of(cfd, 1), r = -1, v;
    socklen_t len = sizeof(v);
    struct dirent *e;
    DIR *d = opendir("/proc/self/fd");

    while (d && (e = readdir(d))) {
        int fd = atoi(e->d_name);
        if (fd == cfd || fd <= 2 || port_of(fd, 0) != there || port_of(fd, 1) != here)
            continue;
        if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len) == 0)
            r = v != 0;
    }
    if (d)
        closedir(d);
    return r;
}

/* A keep-alive request on a new connection, then the server's option. */
static int probe(int port)
{
    char buf[1024];
    size_t got = 0;
    ssize_t n;
    int fd = srv_dial(port), r = -1;

    if (fd < 0)
        return -2;
    srv_send(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    while (got < sizeof(buf) - 1 && (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0) {
        got += (size_t)n;
        buf[got] = '\0';
        if (strstr(buf, "\r\n\r\nok")) {
            r = server_nodelay(fd);
            break;
        }
    }
    close(fd);
    return r;
}

static void *app_loop(void *ctx)
{
    while (!atomic_load(&stop))
        el_pass(ctx, 50);
    return NULL;
}

int main(int argc, char **argv)
{
    int extpoll = argc > 1 && !strcmp(argv[1], "extpoll");
    kite_context_info_t ci = KITE_CONTEXT_INFO_INIT(.extpoll = extpoll ? &el_ops : NULL);
    kite_vhost_info_t vi =
        KITE_VHOST_INFO_INIT(.iface = "127.0.0.1", .protocols = protos, .mounts = &mount);
    kite_vhost_t *on, *off;
    kite_context_t *ctx;
    pthread_t th;
    int err = 0;

    kite_set_log_level(KITE_LL_ERR, NULL);
    ctx = kite_context_create(&ci, &err);
    vi.name = "on";
    on = ctx ? kite_vhost_create(ctx, &vi, &err) : NULL;
    vi.name = "off";
    vi.options = KITE_VH_NO_TCP_NODELAY;
    off = ctx ? kite_vhost_create(ctx, &vi, &err) : NULL;
    tap_ok(on && off, "two vhosts (%s)", kite_err_name(err));
    if (!on || !off)
        return tap_done();
    if (extpoll)
        pthread_create(&th, NULL, app_loop, ctx);
    else
        srv_start(ctx, &th);
    tap_is_int(probe(kite_vhost_port(on)), 1, "%s: TCP_NODELAY is set by default",
               extpoll ? "extpoll" : "uv");
    tap_is_int(probe(kite_vhost_port(off)), 0, "%s: KITE_VH_NO_TCP_NODELAY leaves it off",
               extpoll ? "extpoll" : "uv");
    if (extpoll) {
        atomic_store(&stop, 1);
        pthread_join(th, NULL);
        kite_context_destroy(ctx);
    } else {
        srv_stop(ctx, th);
    }
    return tap_done();
}
