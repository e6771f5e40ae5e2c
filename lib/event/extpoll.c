/*
 * The external-poll event backend: the application owns the poll loop.
 * Every fd kite opens (its wakeup eventfd, listen sockets, connections) is
 * handed to the application's add_fd and dropped with del_fd exactly once;
 * change_mode is called only when the wanted events really change. The
 * application reports readiness with kite_service_fd() and sleeps at most
 * kite_next_timeout_ms(); kite_service_pending() runs timers, posts and the
 * ready list. Writes go straight to the socket; only what the kernel
 * refuses waits for POLLOUT. Closed connections are freed at the end of
 * the service call, when no handler can still hold them.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "event/event.h"

#define container_of(p, type, member) ((type *)((char *)(p)-offsetof(type, member)))
#define MAX_IOV                       16
#define ACCEPTS_PER_EVENT             64

enum { X_EVENTFD, X_LISTEN, X_CONN };

typedef struct xobj {
    int fd;
    uint8_t kind;
    uint8_t added;
    uint8_t connecting; /* a client socket waiting for its connect */
    uint8_t closed;
    short events;
} xobj_t;

/* A name lookup run by getaddrinfo() on a thread of its own; the thread
 * marks it done and wakes the loop, which joins it and calls back. */
typedef struct xdns {
    struct xdns *next;
    pthread_t thread;
    struct xpt *xp;
    kite__dns_t *q; /* NULL once cancelled */
    char *host, *port;
    int family;
    int status;
    struct addrinfo *res;
    atomic_int done;
} xdns_t;

typedef struct xwrite {
    struct iovec iov[MAX_IOV];
    int n;
    size_t total; /* bytes still to write */
    size_t whole; /* bytes of the write as it was started */
} xwrite_t;

typedef struct xconn {
    xobj_t o;
    xwrite_t *w;             /* the write waiting for POLLOUT */
    struct xconn *free_next; /* closed, to be freed */
    struct kite_conn_s conn;
} xconn_t;

typedef struct xlisten {
    xobj_t o;
    kite__listener_t *ls;
} xlisten_t;

typedef struct xpt {
    kite__pt_t *pt;
    const kite_extpoll_t *app;
    xobj_t efd;
    xobj_t **table; /* fd -> object */
    int table_len;
    uint64_t timer_due; /* loop ms; UINT64_MAX: none */
    int ready;          /* the ready list is not empty */
    xconn_t *to_free;
    xdns_t *dns; /* lookups not yet called back */
} xpt_t;

static xpt_t *XP(const kite__pt_t *pt)
{
    return pt->ev;
}

static xconn_t *XC(const kite_conn_t *c)
{
    return container_of(c, xconn_t, conn);
}

static uint64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int table_set(xpt_t *xp, int fd, xobj_t *o)
{
    if (fd >= xp->table_len) {
        int n = xp->table_len ? xp->table_len : 64;
        xobj_t **t;
        while (n <= fd)
            n *= 2;
        t = realloc(xp->table, (size_t)n * sizeof(*t));
        if (!t)
            return KITE_ENOMEM;
        memset(t + xp->table_len, 0, (size_t)(n - xp->table_len) * sizeof(*t));
        xp->table = t;
        xp->table_len = n;
    }
    xp->table[fd] = o;
    return 0;
}

/* Tell the application the events we want on @o, only when they change. */
static int want(xpt_t *xp, xobj_t *o, short events)
{
    int r = 0;

    if (o->fd < 0 || (o->added && o->events == events))
        return 0;
    if (xp->app->lock)
        xp->app->lock(xp->app->user);
    if (!o->added) {
        r = xp->app->add_fd(xp->app->user, o->fd, events);
        if (r >= 0)
            o->added = 1;
    } else {
        r = xp->app->change_mode(xp->app->user, o->fd, events);
    }
    if (xp->app->unlock)
        xp->app->unlock(xp->app->user);
    if (r >= 0)
        o->events = events;
    return r < 0 ? KITE_EIO : 0;
}

static void forget(xpt_t *xp, xobj_t *o)
{
    if (o->added) {
        if (xp->app->lock)
            xp->app->lock(xp->app->user);
        xp->app->del_fd(xp->app->user, o->fd);
        if (xp->app->unlock)
            xp->app->unlock(xp->app->user);
    }
    o->added = 0;
    if (o->fd >= 0 && o->fd < xp->table_len)
        xp->table[o->fd] = NULL;
}

static int pt_init(kite__pt_t *pt, void *foreign_loop)
{
    xpt_t *xp = calloc(1, sizeof(*xp));
    int r;

    (void)foreign_loop;
    if (!xp)
        return KITE_ENOMEM;
    xp->pt = pt;
    xp->app = pt->ctx->info.extpoll;
    xp->timer_due = UINT64_MAX;
    xp->efd.kind = X_EVENTFD;
    xp->efd.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    pt->ev = xp;
    if (xp->efd.fd < 0)
        return -errno;
    if ((r = table_set(xp, xp->efd.fd, &xp->efd)) < 0 || (r = want(xp, &xp->efd, POLLIN)) < 0)
        return r;
    return 0;
}

static void free_closed(xpt_t *xp)
{
    xconn_t *x;

    while ((x = xp->to_free)) {
        xp->to_free = x->free_next;
        kite__conn_freed(&x->conn);
        free(x->w);
        free(x);
    }
}

static void wakeup(kite__pt_t *pt);

static void dns_free(xdns_t *d)
{
    if (d->res)
        freeaddrinfo(d->res);
    free(d->host);
    free(d->port);
    free(d);
}

/* Call back the lookups that are done. */
static void dns_poll(xpt_t *xp)
{
    xdns_t **pp = &xp->dns, *d;

    while ((d = *pp)) {
        if (!atomic_load(&d->done)) {
            pp = &d->next;
            continue;
        }
        *pp = d->next;
        pthread_join(d->thread, NULL);
        if (d->q) {
            struct addrinfo *res = d->res;
            d->res = NULL;
            d->q->ev = NULL;
            d->q->cb(d->q, d->status, res);
        }
        dns_free(d);
    }
}

static void *dns_thread(void *arg)
{
    xdns_t *d = arg;
    struct addrinfo hints = {
        .ai_family = d->family, .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG};
    int r = getaddrinfo(d->host, d->port, &hints, &d->res);

    d->status = !r ? 0 : r == EAI_SYSTEM ? -errno : r == EAI_MEMORY ? KITE_ENOMEM : KITE_ENOENT;
    atomic_store(&d->done, 1);
    wakeup(d->xp->pt);
    return NULL;
}

static int resolve(kite__pt_t *pt, kite__dns_t *q)
{
    xdns_t *d = calloc(1, sizeof(*d));

    if (!d || !(d->host = strdup(q->host)) || !(d->port = strdup(q->port))) {
        if (d)
            free(d->host);
        free(d);
        return KITE_ENOMEM;
    }
    d->xp = XP(pt);
    d->q = q;
    d->family = q->family;
    atomic_init(&d->done, 0);
    if (pthread_create(&d->thread, NULL, dns_thread, d)) {
        dns_free(d);
        return KITE_ENOMEM;
    }
    d->next = d->xp->dns;
    d->xp->dns = d;
    q->ev = d;
    return 0;
}

static void resolve_cancel(kite__pt_t *pt, kite__dns_t *q)
{
    xdns_t *d = q->ev;

    (void)pt;
    if (d)
        d->q = NULL;
    q->ev = NULL;
}

static void pt_destroy(kite__pt_t *pt)
{
    xpt_t *xp = XP(pt);
    kite__listener_t *ls;

    if (!xp)
        return;
    while (pt->conns)
        kite__conn_close_now(pt->conns, KITE_CLOSE_NORMAL);
    for (ls = pt->listeners; ls; ls = ls->next)
        pt->evops->listen_close(ls);
    free_closed(xp);
    while (xp->dns) {
        xdns_t *d = xp->dns;
        xp->dns = d->next;
        pthread_join(d->thread, NULL);
        dns_free(d);
    }
    if (xp->efd.fd >= 0) {
        forget(xp, &xp->efd);
        close(xp->efd.fd);
    }
    free(xp->table);
    free(xp);
    pt->ev = NULL;
}

static int run(kite__pt_t *pt, int timeout_ms)
{
    (void)pt;
    (void)timeout_ms;
    return KITE_ENOTSUP; /* the application runs the loop */
}

static void stop(kite__pt_t *pt)
{
    (void)pt;
}

static void wakeup(kite__pt_t *pt)
{
    uint64_t one = 1;

    /* Any thread, or a signal handler: one write to the eventfd. */
    if (write(XP(pt)->efd.fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        return;
}

static uint64_t now_ms(kite__pt_t *pt)
{
    (void)pt;
    return mono_ms();
}

static void timer_arm(kite__pt_t *pt, uint64_t ms)
{
    XP(pt)->timer_due = ms == UINT64_MAX ? UINT64_MAX : mono_ms() + ms;
}

static void ready_pending(kite__pt_t *pt, int on)
{
    XP(pt)->ready = on;
}

static int listen_start(kite__pt_t *pt, kite__listener_t *ls)
{
    xpt_t *xp = XP(pt);
    xlisten_t *xl = calloc(1, sizeof(*xl));
    int r;

    if (!xl)
        return KITE_ENOMEM;
    xl->o.kind = X_LISTEN;
    xl->o.fd = ls->fd;
    xl->ls = ls;
    ls->ev = xl;
    if ((r = table_set(xp, ls->fd, &xl->o)) < 0 || (r = want(xp, &xl->o, POLLIN)) < 0)
        return r;
    return 0;
}

static void listen_close(kite__listener_t *ls)
{
    xlisten_t *xl = ls->ev;

    if (!xl)
        return;
    forget(XP(ls->pt), &xl->o);
    close(xl->o.fd);
    ls->ev = NULL;
    free(xl);
}

static int conn_fd(const kite_conn_t *c)
{
    return XC(c)->o.fd;
}

static short conn_events(const kite_conn_t *c)
{
    return (short)(((c->flags & KITE__C_READING) ? POLLIN : 0) | (XC(c)->w ? POLLOUT : 0));
}

/* Core sets or clears READING first; the mask follows it. */
static int read_start(kite_conn_t *c)
{
    return want(XP(c->pt), &XC(c)->o, conn_events(c));
}

static void read_stop(kite_conn_t *c)
{
    want(XP(c->pt), &XC(c)->o, conn_events(c));
}

static ssize_t try_writev(kite_conn_t *c, const struct iovec *iov, int n, int more)
{
    return kite__sock_writev(conn_fd(c), iov, n, more, !(c->flags & KITE__C_NOTSOCK));
}

static ssize_t try_sendfile(kite_conn_t *c, int fd, off_t *pos, size_t len)
{
    return kite__sock_sendfile(conn_fd(c), fd, pos, len);
}

static int write_async(kite_conn_t *c, const struct iovec *iov, int n)
{
    xconn_t *x = XC(c);
    int i;

    if (!x->w && !(x->w = malloc(sizeof(*x->w))))
        return KITE_ENOMEM;
    x->w->n = n < MAX_IOV ? n : MAX_IOV;
    x->w->total = 0;
    for (i = 0; i < x->w->n; i++) {
        x->w->iov[i] = iov[i];
        x->w->total += iov[i].iov_len;
    }
    x->w->whole = x->w->total;
    return want(XP(c->pt), &x->o, conn_events(c));
}

static int shutdown_write(kite_conn_t *c)
{
    return shutdown(conn_fd(c), SHUT_WR) ? -errno : 0;
}

static void conn_close(kite_conn_t *c)
{
    xconn_t *x = XC(c);
    xpt_t *xp = XP(c->pt);

    if (x->o.closed)
        return;
    x->o.closed = 1;
    if (x->o.fd >= 0) {
        forget(xp, &x->o);
        close(x->o.fd);
    }
    x->o.fd = -1;
    /* Freed at the end of the service call: handlers up the stack may
     * still hold the conn. */
    x->free_next = xp->to_free;
    xp->to_free = x;
}

static void on_writable(xconn_t *x)
{
    xwrite_t *w = x->w;
    /* The whole write is reported done, not only what this POLLOUT sent:
     * a pipe often takes a big write in several pieces. */
    size_t total = w->whole;
    ssize_t r = kite__sock_writev(x->o.fd, w->iov, w->n, 0, !(x->conn.flags & KITE__C_NOTSOCK));
    int i;

    if (r < 0) {
        x->w = NULL;
        free(w);
        kite__out_write_done(&x->conn, (int)r, 0);
        return;
    }
    /* Keep what is left of the iovec for the next POLLOUT. */
    w->total -= (size_t)r;
    for (i = 0; r > 0 && i < w->n; i++) {
        size_t k = (size_t)r < w->iov[i].iov_len ? (size_t)r : w->iov[i].iov_len;
        w->iov[i].iov_base = (char *)w->iov[i].iov_base + k;
        w->iov[i].iov_len -= k;
        r -= (ssize_t)k;
    }
    if (w->total)
        return;
    x->w = NULL;
    free(w);
    want(XP(x->conn.pt), &x->o, conn_events(&x->conn));
    kite__out_write_done(&x->conn, 0, total);
}

static void on_datagram(xconn_t *x)
{
    kite__pt_t *pt = x->conn.pt;
    struct sockaddr_storage from;
    socklen_t fl = sizeof(from);
    ssize_t n = recvfrom(x->o.fd, pt->rxbuf, KITE__RXBUF_SIZE, 0, (struct sockaddr *)&from, &fl);

    if (n >= 0)
        kite__conn_on_datagram(&x->conn, pt->rxbuf, (size_t)n, (struct sockaddr *)&from, fl);
}

static void on_readable(xconn_t *x)
{
    kite__pt_t *pt = x->conn.pt;
    ssize_t n;

    if (x->conn.flags & KITE__C_UDP) {
        on_datagram(x);
        return;
    }
    do
        n = read(x->o.fd, pt->rxbuf, KITE__RXBUF_SIZE);
    while (n < 0 && errno == EINTR);
    if (n > 0)
        kite__conn_on_data(&x->conn, pt->rxbuf, (size_t)n);
    else if (n == 0)
        kite__conn_on_eof(&x->conn, 0);
    else if (errno != EAGAIN && errno != EWOULDBLOCK)
        kite__conn_on_eof(&x->conn, -errno);
}

static void on_accept(xpt_t *xp, xlisten_t *xl)
{
    kite__listener_t *ls = xl->ls;
    int i, fd, one = 1;

    for (i = 0; i < ACCEPTS_PER_EVENT; i++) {
        xconn_t *x;
        fd = accept4(xl->o.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                kite_warn("accept on port %d: %s", ls->port, kite_strerror(-errno));
            return;
        }
        x = calloc(1, sizeof(*x));
        if (!x || table_set(xp, fd, &x->o) < 0) {
            free(x);
            close(fd);
            continue;
        }
        x->o.kind = X_CONN;
        x->o.fd = fd;
        if (ls->family != AF_UNIX && !(ls->vhosts[0]->options & KITE_VH_NO_TCP_NODELAY))
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        kite__conn_init(&x->conn, xp->pt, ls, ls->vhosts[0]);
        if (kite__conn_read_start(&x->conn) < 0)
            kite__conn_close_now(&x->conn, KITE_CLOSE_SETUP);
    }
}

static void on_connected(xconn_t *x)
{
    xpt_t *xp = XP(x->conn.pt);
    int err = 0, one = 1;
    socklen_t len = sizeof(err);

    x->o.connecting = 0;
    if (getsockopt(x->o.fd, SOL_SOCKET, SO_ERROR, &err, &len))
        err = errno;
    if (err) {
        forget(xp, &x->o);
        close(x->o.fd);
        x->o.fd = -1;
    } else {
        setsockopt(x->o.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        want(xp, &x->o, conn_events(&x->conn));
    }
    kite__conn_on_connect(&x->conn, -err);
}

/* The end of a pass: the ready list, then closed conns are freed. */
static void end_of_pass(xpt_t *xp)
{
    xp->pt->turns++;
    if (xp->pt->ready_head)
        kite__pt_run_ready(xp->pt);
    free_closed(xp);
}

static xpt_t *extpoll_pt(kite_context_t *ctx, int tsi)
{
    if (!ctx || tsi < 0 || tsi >= ctx->npts || ctx->pts[tsi].evops != &kite__event_extpoll)
        return NULL;
    return XP(&ctx->pts[tsi]);
}

int kite_service_fd(kite_context_t *ctx, int fd, short revents)
{
    xpt_t *xp = extpoll_pt(ctx, 0);
    xobj_t *o;

    if (!xp)
        return KITE_ESTATE;
    kite__pt_set_current(xp->pt);
    if (fd < 0)
        return kite_service_pending(ctx, 0) < 0 ? KITE_EIO : 1;
    if (fd >= xp->table_len || !(o = xp->table[fd]))
        return 0;
    switch (o->kind) {
    case X_EVENTFD: {
        uint64_t v;
        if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
            return -errno;
        kite__pt_run_posts(xp->pt);
        dns_poll(xp);
        break;
    }
    case X_LISTEN:
        if (revents & POLLIN)
            on_accept(xp, container_of(o, xlisten_t, o));
        break;
    default: {
        xconn_t *x = container_of(o, xconn_t, o);
        if (x->o.connecting) {
            if (revents & (POLLOUT | POLLERR | POLLHUP))
                on_connected(x);
            break;
        }
        if ((revents & POLLOUT) && x->w)
            on_writable(x);
        if (x->o.fd < 0)
            break;
        if ((x->conn.flags & KITE__C_READING) && (revents & (POLLIN | POLLHUP | POLLERR)))
            on_readable(x);
        else if ((revents & (POLLHUP | POLLERR)) == POLLHUP && (x->conn.flags & KITE__C_NOTSOCK))
            /* A paused pipe whose writer has gone: what it still holds
             * (at most the pipe's capacity) is the end of the stream, not
             * garbage; read it rather than lose it (a CGI's last 8 KiB).
             * libuv does not see this: a stopped read is not polled. */
            on_readable(x);
        else if (revents & (POLLHUP | POLLERR))
            /* poll reports these whatever we asked for: a paused conn
             * whose peer is gone would spin the application's loop. */
            kite__conn_on_eof(&x->conn, KITE_ECONNRESET);
    }
    }
    end_of_pass(xp);
    return 1;
}

int kite_service_pollfd(kite_context_t *ctx, struct pollfd *pfd)
{
    int r = kite_service_fd(ctx, pfd->fd, pfd->revents);

    if (r == 1)
        pfd->revents = 0;
    return r;
}

int kite_next_timeout_ms(kite_context_t *ctx, int tsi)
{
    xpt_t *xp = extpoll_pt(ctx, tsi);
    uint64_t now;

    if (!xp)
        return KITE_EINVAL;
    /* Posts from other threads are not looked at here (that would race):
     * each one also wakes the application's poll through the eventfd. */
    if (xp->ready || xp->pt->ready_head)
        return 0;
    if (xp->timer_due == UINT64_MAX)
        return -1;
    now = mono_ms();
    if (xp->timer_due <= now)
        return 0;
    return xp->timer_due - now > INT32_MAX ? INT32_MAX : (int)(xp->timer_due - now);
}

int kite_service_pending(kite_context_t *ctx, int tsi)
{
    xpt_t *xp = extpoll_pt(ctx, tsi);

    if (!xp)
        return KITE_EINVAL;
    kite__pt_set_current(xp->pt);
    kite__pt_run_posts(xp->pt);
    dns_poll(xp);
    if (xp->timer_due != UINT64_MAX && xp->timer_due <= mono_ms()) {
        xp->timer_due = UINT64_MAX;
        kite__pt_run_timers(xp->pt);
    }
    end_of_pass(xp);
    return 0;
}

static kite_conn_t *adopt(kite__pt_t *pt, kite_vhost_t *vh, int fd, int is_socket, int *err)
{
    xpt_t *xp = XP(pt);
    xconn_t *x = calloc(1, sizeof(*x));

    (void)is_socket;
    if (!x || table_set(xp, fd, &x->o) < 0) {
        free(x);
        *err = KITE_ENOMEM;
        return NULL;
    }
    x->o.kind = X_CONN;
    x->o.fd = fd;
    kite__conn_init(&x->conn, pt, NULL, vh);
    return &x->conn;
}

static kite_conn_t *udp_open(kite__pt_t *pt, kite_vhost_t *vh, int fd, int *err)
{
    return adopt(pt, vh, fd, 1, err);
}

static kite_conn_t *client_new(kite__pt_t *pt, kite_vhost_t *vh, int *err)
{
    xconn_t *x = calloc(1, sizeof(*x));

    if (!x) {
        *err = KITE_ENOMEM;
        return NULL;
    }
    x->o.kind = X_CONN;
    x->o.fd = -1;
    kite__conn_init(&x->conn, pt, NULL, vh);
    return &x->conn;
}

static int connect_fd(kite_conn_t *c, int fd)
{
    xpt_t *xp = XP(c->pt);
    xconn_t *x = XC(c);
    int r;

    if ((r = table_set(xp, fd, &x->o)) < 0)
        return r;
    x->o.fd = fd;
    x->o.added = 0;
    x->o.connecting = 1;
    if ((r = want(xp, &x->o, POLLOUT)) < 0) {
        forget(xp, &x->o);
        x->o.fd = -1;
        x->o.connecting = 0;
        return r;
    }
    return 0;
}

const struct kite__event_ops kite__event_extpoll = {
    .name = "extpoll",
    .pt_init = pt_init,
    .pt_destroy = pt_destroy,
    .run = run,
    .stop = stop,
    .wakeup = wakeup,
    .now_ms = now_ms,
    .timer_arm = timer_arm,
    .ready_pending = ready_pending,
    .listen = listen_start,
    .listen_close = listen_close,
    .read_start = read_start,
    .read_stop = read_stop,
    .try_writev = try_writev,
    .try_sendfile = try_sendfile,
    .write_async = write_async,
    .shutdown_write = shutdown_write,
    .fd = conn_fd,
    .conn_close = conn_close,
    .adopt = adopt,
    .udp_open = udp_open,
    .client_new = client_new,
    .connect_fd = connect_fd,
    .resolve = resolve,
    .resolve_cancel = resolve_cancel,
};
