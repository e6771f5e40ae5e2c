/*
 * The transport of plain connections: bytes go to the role as read, and
 * writes go straight to the event backend. It holds no state, so every
 * plain conn points at the same one and pays one indirect call per event.
 */
#include "event/event.h"

static int tcp_rx(kite_conn_t *c, char *buf, size_t len)
{
    return c->role->on_data(c, buf, len);
}

static ssize_t tcp_writev(kite_conn_t *c, const struct iovec *iov, int n, int more)
{
    return c->pt->evops->try_writev(c, iov, n, more);
}

static ssize_t tcp_sendfile(kite_conn_t *c, int fd, off_t *pos, size_t len)
{
    return c->pt->evops->try_sendfile(c, fd, pos, len);
}

static int tcp_write_async(kite_conn_t *c, const struct iovec *iov, int n)
{
    return c->pt->evops->write_async(c, iov, n);
}

static size_t tcp_written(kite_conn_t *c, size_t bytes)
{
    (void)c;
    return bytes;
}

static int tcp_shutdown(kite_conn_t *c)
{
    return c->pt->evops->shutdown_write(c);
}

static void tcp_close(kite_conn_t *c, int graceful)
{
    (void)c;
    (void)graceful;
}

static const struct kite__xport_ops tcp_ops = {
    .name = "tcp",
    .rx = tcp_rx,
    .writev = tcp_writev,
    .sendfile = tcp_sendfile,
    .write_async = tcp_write_async,
    .written = tcp_written,
    .shutdown = tcp_shutdown,
    .close = tcp_close,
};

const kite__xport_t kite__xport_tcp = {&tcp_ops};
