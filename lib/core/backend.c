/*
 * The event backend as the layers above core see it. Roles, transports and
 * modules (raw, cgi, client, lua, tls) adopt fds, start reads, write and
 * resolve names through these calls, so that lib/core and lib/event are
 * the only code that includes event/event.h and a backend can change
 * without touching them.
 */
#include "event/event.h"

kite_conn_t *kite__conn_adopt(kite__pt_t *pt, kite_vhost_t *vh, int fd, int is_socket, int *err)
{
    kite_conn_t *c = pt->evops->adopt(pt, vh, fd, is_socket, err);

    if (c && !is_socket)
        c->flags |= KITE__C_NOTSOCK;
    return c;
}

kite_conn_t *kite__conn_udp_open(kite__pt_t *pt, kite_vhost_t *vh, int fd, int *err)
{
    kite_conn_t *c = pt->evops->udp_open(pt, vh, fd, err);

    if (c)
        c->flags |= KITE__C_UDP;
    return c;
}

kite_conn_t *kite__conn_client_new(kite__pt_t *pt, kite_vhost_t *vh, int *err)
{
    kite_conn_t *c = pt->evops->client_new(pt, vh, err);

    if (c)
        c->flags |= KITE__C_CLIENT;
    return c;
}

int kite__conn_connect_fd(kite_conn_t *c, int fd)
{
    return c->pt->evops->connect_fd(c, fd);
}

/* READING is core's flag: set before the backend starts (extpoll builds
 * its poll mask from it), cleared if it could not. */
int kite__conn_read_start(kite_conn_t *c)
{
    int r;

    if (c->flags & KITE__C_READING)
        return 0;
    c->flags |= KITE__C_READING;
    if ((r = c->pt->evops->read_start(c)) < 0)
        c->flags &= ~KITE__C_READING;
    return r;
}

void kite__conn_read_stop(kite_conn_t *c)
{
    if (!(c->flags & KITE__C_READING))
        return;
    c->flags &= ~KITE__C_READING;
    c->pt->evops->read_stop(c);
}

int kite__conn_fd(const kite_conn_t *c)
{
    return c->pt->evops->fd(c);
}

ssize_t kite__conn_try_writev(kite_conn_t *c, const struct iovec *iov, int n, int more)
{
    return c->pt->evops->try_writev(c, iov, n, more);
}

int kite__conn_write_async(kite_conn_t *c, const struct iovec *iov, int n)
{
    return c->pt->evops->write_async(c, iov, n);
}

int kite__conn_shutdown_write(kite_conn_t *c)
{
    return c->pt->evops->shutdown_write(c);
}

int kite__conn_sendto(kite_conn_t *c, const void *buf, size_t len, const struct sockaddr *to,
                      unsigned tolen)
{
    return kite__sock_sendto(c->pt->evops->fd(c), buf, len, to, tolen);
}

int kite__pt_resolve(kite__pt_t *pt, kite__dns_t *q)
{
    return pt->evops->resolve(pt, q);
}

void kite__pt_resolve_cancel(kite__pt_t *pt, kite__dns_t *q)
{
    pt->evops->resolve_cancel(pt, q);
}
