/*
 * The libuv event backend. Each service thread has one loop (its own or a
 * foreign one), one timer for the whole timer heap, one async handle for
 * posts and cancel, a check handle that runs the ready list at the end of
 * every pass, and an idle handle that keeps poll from blocking while the
 * ready list is not empty. Connections are uv_tcp_t / uv_pipe_t embedded
 * in front of the kite_conn_t; reads land in the thread's one buffer,
 * writes go straight to the socket first and through uv_write only for
 * what the kernel refused.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "event/event.h"

_Static_assert(sizeof(uv_buf_t) == sizeof(struct iovec), "uv_buf_t is not an iovec");
_Static_assert(offsetof(uv_buf_t, base) == offsetof(struct iovec, iov_base), "uv_buf_t layout");
_Static_assert(offsetof(uv_buf_t, len) == offsetof(struct iovec, iov_len), "uv_buf_t layout");

#define container_of(p, type, member) ((type *)((char *)(p)-offsetof(type, member)))

typedef struct uvpt {
    uv_loop_t own;
    uv_loop_t *loop;
    int foreign;
    kite__pt_t *pt;
    uv_timer_t timer;
    uv_timer_t svc_timer;
    uv_async_t async;
    uv_check_t check;
    uv_idle_t idle;
    uint64_t armed_due; /* absolute loop ms the timer fires at; 0: not armed */
    unsigned open;      /* kite handles not yet closed */
    unsigned ndns;      /* name lookups not yet called back */
    struct wreq *wfree;
    unsigned nwfree;
} uvpt_t;

/* A stream handle of either kind (TCP or a unix socket). */
typedef union uvstream {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
    uv_udp_t udp;
} uvstream_t;

typedef struct uvconn {
    uvstream_t h;
    struct uvconnect *cw; /* client conns: the connect being waited for */
    struct kite_conn_s conn;
} uvconn_t;

/* A client socket's connect in progress, polled for writability; the
 * socket goes to the conn's uv_tcp_t once connected. */
typedef struct uvconnect {
    uv_poll_t poll;
    uvconn_t *uc;
    struct uvpt *up; /* the conn may be gone before the close callback */
    int fd;
} uvconnect_t;

/* A name lookup on libuv's thread pool. */
typedef struct uvdns {
    uv_getaddrinfo_t req;
    uvpt_t *up;
    kite__dns_t *q; /* NULL once cancelled */
} uvdns_t;

typedef struct wreq {
    uv_write_t req;
    size_t bytes;
    struct wreq *next;
} wreq_t;

typedef struct uvlisten {
    uvstream_t h;
    kite__listener_t *ls;
    uvpt_t *up; /* a reload may free ls before the close callback */
} uvlisten_t;

static uvpt_t *UP(kite__pt_t *pt)
{
    return pt->ev;
}

static uvconn_t *UC(const kite_conn_t *c)
{
    return container_of(c, uvconn_t, conn);
}

static int uverr(int e)
{
    /* libuv error codes are -errno on unix, which is what KITE_E* are. */
    return e;
}

static void pt_handle_closed(uv_handle_t *h)
{
    uvpt_t *up = h->data;
    up->open--;
}

static void on_timer(uv_timer_t *t)
{
    uvpt_t *up = container_of(t, uvpt_t, timer);
    kite__pt_set_current(up->pt);
    up->armed_due = 0;
    kite__pt_run_timers(up->pt);
}

static void on_svc_timer(uv_timer_t *t)
{
    /* Only there to bound the wait of kite_service(). */
    (void)t;
}

static void on_async(uv_async_t *a)
{
    uvpt_t *up = container_of(a, uvpt_t, async);
    kite__pt_set_current(up->pt);
    kite__pt_run_posts(up->pt);
    if (atomic_load(&up->pt->ctx->cancel) || up->pt->stop)
        uv_stop(up->loop);
}

static void on_check(uv_check_t *ch)
{
    uvpt_t *up = container_of(ch, uvpt_t, check);
    kite__pt_set_current(up->pt);
    up->pt->turns++;
    if (up->pt->ready_head)
        kite__pt_run_ready(up->pt);
}

static void on_idle(uv_idle_t *i)
{
    /* Nothing to do here: an active idle handle makes the poll phase
     * return at once, so the check handle runs the ready list. */
    (void)i;
}

static int pt_init(kite__pt_t *pt, void *foreign_loop)
{
    uvpt_t *up = calloc(1, sizeof(*up));
    int r;

    if (!up)
        return KITE_ENOMEM;
    up->pt = pt;
    if (foreign_loop) {
        up->loop = foreign_loop;
        up->foreign = 1;
    } else {
        r = uv_loop_init(&up->own);
        if (r) {
            free(up);
            return KITE_EUV;
        }
        up->loop = &up->own;
    }
    uv_timer_init(up->loop, &up->timer);
    uv_timer_init(up->loop, &up->svc_timer);
    uv_async_init(up->loop, &up->async, on_async);
    uv_check_init(up->loop, &up->check);
    uv_idle_init(up->loop, &up->idle);
    up->timer.data = up->svc_timer.data = up->async.data = up;
    up->check.data = up->idle.data = up;
    up->open = 5;
    uv_check_start(&up->check, on_check);
    /* The timer and check handles alone must not keep a foreign loop alive. */
    uv_unref((uv_handle_t *)&up->check);
    uv_unref((uv_handle_t *)&up->timer);
    uv_unref((uv_handle_t *)&up->svc_timer);
    pt->ev = up;
    return 0;
}

static void listener_closed(uv_handle_t *h)
{
    uvlisten_t *ul = container_of(h, uvlisten_t, h.handle);

    ul->up->open--;
    free(ul);
}

static void listen_close(kite__listener_t *ls)
{
    uvlisten_t *ul = ls->ev;

    if (!ul)
        return;
    ls->ev = NULL;
    uv_close(&ul->h.handle, listener_closed);
}

static void pt_destroy(kite__pt_t *pt)
{
    uvpt_t *up = UP(pt);
    kite__listener_t *ls;
    wreq_t *w;

    if (!up)
        return;
    /* Connections first: core runs their close callbacks and closes the
     * handles through conn_close(). */
    while (pt->conns)
        kite__conn_close_now(pt->conns, KITE_CLOSE_NORMAL);
    for (ls = pt->listeners; ls; ls = ls->next)
        listen_close(ls);
    uv_close((uv_handle_t *)&up->timer, pt_handle_closed);
    uv_close((uv_handle_t *)&up->svc_timer, pt_handle_closed);
    uv_close((uv_handle_t *)&up->async, pt_handle_closed);
    uv_close((uv_handle_t *)&up->check, pt_handle_closed);
    uv_close((uv_handle_t *)&up->idle, pt_handle_closed);
    /* Run the loop only until our own handles are closed: on a foreign
     * loop the application's handles stay as they are. */
    while (up->open || up->ndns)
        uv_run(up->loop, UV_RUN_NOWAIT);
    if (!up->foreign)
        uv_loop_close(up->loop);
    while ((w = up->wfree)) {
        up->wfree = w->next;
        free(w);
    }
    free(up);
    pt->ev = NULL;
}

static int run(kite__pt_t *pt, int timeout_ms)
{
    uvpt_t *up = UP(pt);

    if (timeout_ms < 0) {
        uv_run(up->loop, UV_RUN_DEFAULT);
        return 0;
    }
    if (timeout_ms == 0) {
        uv_run(up->loop, UV_RUN_NOWAIT);
        return 0;
    }
    uv_ref((uv_handle_t *)&up->svc_timer);
    uv_timer_start(&up->svc_timer, on_svc_timer, (uint64_t)timeout_ms, 0);
    uv_run(up->loop, UV_RUN_ONCE);
    uv_timer_stop(&up->svc_timer);
    uv_unref((uv_handle_t *)&up->svc_timer);
    return 0;
}

static void stop(kite__pt_t *pt)
{
    uv_stop(UP(pt)->loop);
}

static void wakeup(kite__pt_t *pt)
{
    uv_async_send(&UP(pt)->async);
}

static uint64_t now_ms(kite__pt_t *pt)
{
    return uv_now(UP(pt)->loop);
}

static void timer_arm(kite__pt_t *pt, uint64_t ms)
{
    uvpt_t *up = UP(pt);
    uint64_t due;

    if (ms == UINT64_MAX) {
        if (up->armed_due) {
            uv_timer_stop(&up->timer);
            up->armed_due = 0;
        }
        return;
    }
    due = uv_now(up->loop) + ms;
    /* A timer that fires early is harmless (the heap re-arms it), so only
     * move it when the new deadline is earlier: deadlines that move later
     * on every request cost nothing here. */
    if (up->armed_due && up->armed_due <= due)
        return;
    up->armed_due = due;
    uv_timer_start(&up->timer, on_timer, ms, 0);
}

static void ready_pending(kite__pt_t *pt, int on)
{
    uvpt_t *up = UP(pt);

    if (on)
        uv_idle_start(&up->idle, on_idle);
    else
        uv_idle_stop(&up->idle);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    uvconn_t *uc = container_of(h, uvconn_t, h.handle);

    (void)suggested;
    buf->base = uc->conn.pt->rxbuf;
    buf->len = KITE__RXBUF_SIZE;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    uvconn_t *uc = container_of(s, uvconn_t, h.stream);

    kite__pt_set_current(uc->conn.pt);
    if (nread > 0)
        kite__conn_on_data(&uc->conn, buf->base, (size_t)nread);
    else if (nread < 0)
        kite__conn_on_eof(&uc->conn, nread == UV_EOF ? 0 : uverr((int)nread));
}

static void conn_closed(uv_handle_t *h)
{
    uvconn_t *uc = container_of(h, uvconn_t, h.handle);
    uvpt_t *up = UP(uc->conn.pt);

    up->open--;
    kite__conn_freed(&uc->conn);
    free(uc);
}

static void on_connection(uv_stream_t *server, int status)
{
    uvlisten_t *ul = container_of(server, uvlisten_t, h.stream);
    kite__listener_t *ls = ul->ls;
    uvpt_t *up = UP(ls->pt);
    uvconn_t *uc;
    int r;

    if (status < 0) {
        kite_warn("accept on port %d: %s", ls->port, uv_strerror(status));
        return;
    }
    uc = calloc(1, sizeof(*uc));
    if (!uc)
        return;
    if (ls->family == AF_UNIX)
        r = uv_pipe_init(up->loop, &uc->h.pipe, 0);
    else
        r = uv_tcp_init(up->loop, &uc->h.tcp);
    if (r) {
        free(uc);
        return;
    }
    up->open++;
    if (uv_accept(server, &uc->h.stream)) {
        uv_close(&uc->h.handle, conn_closed);
        return;
    }
    if (ls->family != AF_UNIX && !(ls->vhosts[0]->options & KITE_VH_NO_TCP_NODELAY))
        uv_tcp_nodelay(&uc->h.tcp, 1);
    kite__conn_init(&uc->conn, ls->pt, ls, ls->vhosts[0]);
    kite__conn_read_start(&uc->conn);
}

static int listen_start(kite__pt_t *pt, kite__listener_t *ls)
{
    uvpt_t *up = UP(pt);
    uvlisten_t *ul = calloc(1, sizeof(*ul));
    int r;

    if (!ul)
        return KITE_ENOMEM;
    ul->ls = ls;
    ul->up = up;
    if (ls->family == AF_UNIX) {
        uv_pipe_init(up->loop, &ul->h.pipe, 0);
        r = uv_pipe_open(&ul->h.pipe, ls->fd);
    } else {
        uv_tcp_init(up->loop, &ul->h.tcp);
        r = uv_tcp_open(&ul->h.tcp, ls->fd);
    }
    up->open++;
    if (!r)
        r = uv_listen(&ul->h.stream, SOMAXCONN, on_connection);
    ls->ev = ul;
    if (r) {
        kite_err("listen on port %d: %s", ls->port, uv_strerror(r));
        listen_close(ls);
        return uverr(r);
    }
    return 0;
}

static void on_udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                        const struct sockaddr *addr, unsigned flags)
{
    uvconn_t *uc = container_of(h, uvconn_t, h.udp);

    (void)flags;
    kite__pt_set_current(uc->conn.pt);
    if (nread > 0 || (nread == 0 && addr))
        kite__conn_on_datagram(&uc->conn, buf->base, (size_t)nread, addr,
                               addr && addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                                   : sizeof(struct sockaddr_in));
    else if (nread < 0)
        kite__conn_on_eof(&uc->conn, uverr((int)nread));
}

static int read_start(kite_conn_t *c)
{
    int r;

    if (c->flags & KITE__C_UDP)
        r = uv_udp_recv_start(&UC(c)->h.udp, on_alloc, on_udp_recv);
    else
        r = uv_read_start(&UC(c)->h.stream, on_alloc, on_read);
    return uverr(r);
}

static void read_stop(kite_conn_t *c)
{
    if (c->flags & KITE__C_UDP)
        uv_udp_recv_stop(&UC(c)->h.udp);
    else
        uv_read_stop(&UC(c)->h.stream);
}

static int conn_fd(const kite_conn_t *c)
{
    uv_os_fd_t fd;

    if (uv_fileno(&UC(c)->h.handle, &fd))
        return -1;
    return fd;
}

static ssize_t try_writev(kite_conn_t *c, const struct iovec *iov, int n, int more)
{
    /* Straight to the socket rather than uv_try_write: MSG_NOSIGNAL and
     * MSG_MORE (see sock.c); libuv's own queue is empty whenever we get
     * here, so order is kept. */
    return kite__sock_writev(conn_fd(c), iov, n, more, !(c->flags & KITE__C_NOTSOCK));
}

static ssize_t try_sendfile(kite_conn_t *c, int fd, off_t *pos, size_t len)
{
    return kite__sock_sendfile(conn_fd(c), fd, pos, len);
}

static void on_write(uv_write_t *req, int status)
{
    wreq_t *w = container_of(req, wreq_t, req);
    uvconn_t *uc = req->data;
    uvpt_t *up = UP(uc->conn.pt);
    size_t bytes = w->bytes;

    if (up->nwfree < 64) {
        w->next = up->wfree;
        up->wfree = w;
        up->nwfree++;
    } else {
        free(w);
    }
    kite__out_write_done(&uc->conn, status ? uverr(status) : 0, bytes);
}

static int write_async(kite_conn_t *c, const struct iovec *iov, int n)
{
    uvpt_t *up = UP(c->pt);
    wreq_t *w = up->wfree;
    size_t bytes = 0;
    int i, r;

    if (w) {
        up->wfree = w->next;
        up->nwfree--;
    } else if (!(w = malloc(sizeof(*w)))) {
        return KITE_ENOMEM;
    }
    for (i = 0; i < n; i++)
        bytes += iov[i].iov_len;
    w->bytes = bytes;
    w->req.data = UC(c);
    r = uv_write(&w->req, &UC(c)->h.stream, (const uv_buf_t *)iov, (unsigned)n, on_write);
    if (r) {
        free(w);
        return uverr(r);
    }
    return 0;
}

static int shutdown_write(kite_conn_t *c)
{
    return shutdown(conn_fd(c), SHUT_WR) ? -errno : 0;
}

static void cw_closed(uv_handle_t *h)
{
    uvconnect_t *w = container_of(h, uvconnect_t, poll);

    w->up->open--;
    free(w);
}

/* Stop waiting for the connect; the socket is closed unless @keep. */
static void cw_end(uvconn_t *uc, int keep)
{
    uvconnect_t *w = uc->cw;

    uc->cw = NULL;
    /* uv_close() drops the fd from epoll at once, before the tcp handle
     * may take it over. */
    uv_close((uv_handle_t *)&w->poll, cw_closed);
    if (!keep)
        close(w->fd);
}

static void conn_close(kite_conn_t *c)
{
    uvconn_t *uc = UC(c);

    if (uc->cw)
        cw_end(uc, 0);
    if (!uv_is_closing(&uc->h.handle))
        uv_close(&uc->h.handle, conn_closed);
}

static void adopt_failed(uv_handle_t *h)
{
    free(container_of(h, uvconn_t, h.handle));
}

static kite_conn_t *adopt(kite__pt_t *pt, kite_vhost_t *vh, int fd, int is_socket, int *err)
{
    uvpt_t *up = UP(pt);
    uvconn_t *uc = calloc(1, sizeof(*uc));
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int r, pipe = !is_socket;

    if (!uc) {
        *err = KITE_ENOMEM;
        return NULL;
    }
    if (is_socket && !getsockname(fd, (struct sockaddr *)&ss, &sl) && ss.ss_family == AF_UNIX)
        pipe = 1;
    r = pipe ? uv_pipe_init(up->loop, &uc->h.pipe, 0) : uv_tcp_init(up->loop, &uc->h.tcp);
    if (r) {
        free(uc);
        *err = uverr(r);
        return NULL;
    }
    r = pipe ? uv_pipe_open(&uc->h.pipe, fd) : uv_tcp_open(&uc->h.tcp, fd);
    if (r) {
        uv_close(&uc->h.handle, adopt_failed);
        *err = uverr(r);
        return NULL;
    }
    up->open++;
    kite__conn_init(&uc->conn, pt, NULL, vh);
    return &uc->conn;
}

static kite_conn_t *udp_open(kite__pt_t *pt, kite_vhost_t *vh, int fd, int *err)
{
    uvpt_t *up = UP(pt);
    uvconn_t *uc = calloc(1, sizeof(*uc));
    int r;

    if (!uc) {
        *err = KITE_ENOMEM;
        return NULL;
    }
    r = uv_udp_init(up->loop, &uc->h.udp);
    if (r) {
        free(uc);
        *err = uverr(r);
        return NULL;
    }
    r = uv_udp_open(&uc->h.udp, fd);
    if (r) {
        uv_close(&uc->h.handle, adopt_failed);
        *err = uverr(r);
        return NULL;
    }
    up->open++;
    kite__conn_init(&uc->conn, pt, NULL, vh);
    return &uc->conn;
}

static kite_conn_t *client_new(kite__pt_t *pt, kite_vhost_t *vh, int *err)
{
    uvpt_t *up = UP(pt);
    uvconn_t *uc = calloc(1, sizeof(*uc));

    if (!uc) {
        *err = KITE_ENOMEM;
        return NULL;
    }
    uv_tcp_init(up->loop, &uc->h.tcp);
    up->open++;
    kite__conn_init(&uc->conn, pt, NULL, vh);
    return &uc->conn;
}

static void on_connect_poll(uv_poll_t *p, int status, int events)
{
    uvconnect_t *w = container_of(p, uvconnect_t, poll);
    uvconn_t *uc = w->uc;
    int fd = w->fd, err = 0;
    socklen_t len = sizeof(err);

    (void)events;
    kite__pt_set_current(uc->conn.pt);
    /* libuv reports POLLERR as UV_EBADF: the socket says what it was. */
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
        err = -errno;
    else
        err = err ? -err : status < 0 ? uverr(status) : 0;
    cw_end(uc, !err);
    if (!err && (err = uverr(uv_tcp_open(&uc->h.tcp, fd))) < 0)
        close(fd);
    if (!err)
        uv_tcp_nodelay(&uc->h.tcp, 1);
    kite__conn_on_connect(&uc->conn, err);
}

static int connect_fd(kite_conn_t *c, int fd)
{
    uvpt_t *up = UP(c->pt);
    uvconnect_t *w = calloc(1, sizeof(*w));
    int r;

    if (!w)
        return KITE_ENOMEM;
    w->uc = UC(c);
    w->up = up;
    w->fd = fd;
    if ((r = uv_poll_init_socket(up->loop, &w->poll, fd)) < 0) {
        free(w);
        return uverr(r);
    }
    up->open++;
    UC(c)->cw = w;
    if ((r = uv_poll_start(&w->poll, UV_WRITABLE | UV_DISCONNECT, on_connect_poll)) < 0) {
        UC(c)->cw = NULL;
        uv_close((uv_handle_t *)&w->poll, cw_closed);
        return uverr(r);
    }
    return 0;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    uvdns_t *d = container_of(req, uvdns_t, req);
    kite__dns_t *q = d->q;

    d->up->ndns--;
    if (q) {
        kite__pt_set_current(d->up->pt);
        q->ev = NULL;
        /* libuv's EAI codes (-3000 and below) have no KITE_E* twin: a name
         * that cannot be had is KITE_ENOENT, as for the extpoll backend. */
        q->cb(q,
              status == UV_EAI_MEMORY             ? KITE_ENOMEM
              : status <= -3000 && status > -3100 ? KITE_ENOENT
                                                  : uverr(status),
              res);
    } else if (res) {
        uv_freeaddrinfo(res);
    }
    free(d);
}

static int resolve(kite__pt_t *pt, kite__dns_t *q)
{
    struct addrinfo hints = {.ai_family = q->family, .ai_socktype = SOCK_STREAM};
    uvdns_t *d = calloc(1, sizeof(*d));
    int r;

    if (!d)
        return KITE_ENOMEM;
    d->up = UP(pt);
    d->q = q;
    hints.ai_flags = AI_ADDRCONFIG;
    r = uv_getaddrinfo(d->up->loop, &d->req, on_resolved, q->host, q->port, &hints);
    if (r < 0) {
        free(d);
        return uverr(r);
    }
    d->up->ndns++;
    q->ev = d;
    return 0;
}

static void resolve_cancel(kite__pt_t *pt, kite__dns_t *q)
{
    uvdns_t *d = q->ev;

    (void)pt;
    if (!d)
        return;
    q->ev = NULL;
    d->q = NULL;
    /* Only a lookup still queued can be cancelled; one already running
     * finishes and its callback just frees it. */
    uv_cancel((uv_req_t *)&d->req);
}

const struct kite__event_ops kite__event_uv = {
    .name = "libuv",
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
