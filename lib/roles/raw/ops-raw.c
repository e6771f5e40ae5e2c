/*
 * The raw role: bytes from the peer go to the protocol's on_raw as they
 * are read, kite_write() queues bytes as they are, and the writeable
 * discipline, output cap and rx flow control work as for every other
 * role. Raw connections come from kite_adopt_fd(), from vhosts that only
 * speak raw, and from the HTTP role when a connection's first bytes are
 * not HTTP (fallback to raw). Also kite_adopt_fd() itself.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "client/private-client.h"
#include "core/private.h"

static int raw_start(kite_conn_t *c, const kite_protocol_t *proto)
{
    c->role = &kite__role_raw;
    c->proto = proto;
    if (kite__conn_user_bind(c, proto->per_session_size) < 0)
        return KITE_ENOMEM;
    /* Raw protocols have no idle timeout of their own; kite_set_timeout()
     * sets one. */
    kite__conn_set_state_timeout(c, 0);
    if (proto->on_established && proto->on_established(c, c->user))
        return KITE_ECLOSED;
    return 0;
}

static int on_data(kite_conn_t *c, char *buf, size_t len)
{
    const kite_protocol_t *p = c->proto;

    if (kite__conn_join_input(c, &buf, &len) < 0)
        return KITE_ENOMEM;
    if (p->on_raw && p->on_raw(c, c->user, buf, len))
        return KITE_ECLOSED;
    /* Everything read was delivered: nothing is held. */
    return kite__conn_keep_input(c, buf + len, 0);
}

static void on_rx_resume(kite_conn_t *c)
{
    const kite_protocol_t *p = c->proto;

    /* Bytes held from before the pause, or from the role the conn had
     * before (a proxied upgrade's early frames): all of them to on_raw.
     * (on_data(c, c->in, 0) would have said "all of c->in was used".) */
    if (!c->in_len)
        return;
    if (p->on_raw && p->on_raw(c, c->user, c->in, c->in_len)) {
        kite__conn_close_now(c, KITE_CLOSE_ERROR);
        return;
    }
    kite__conn_keep_input(c, c->in + c->in_len, 0);
}

static void on_eof(kite_conn_t *c, int status)
{
    (void)status;
    kite__conn_close_now(c, KITE_CLOSE_PEER);
}

static int on_writeable(kite_conn_t *c)
{
    const kite_protocol_t *p = c->proto;

    return p->on_writeable && p->on_writeable(c, c->user) ? KITE_ECLOSED : 0;
}

static int on_timeout(kite_conn_t *c)
{
    (void)c;
    return -1;
}

int kite_udp_peer(const kite_conn_t *c, struct sockaddr_storage *ss, unsigned *len)
{
    const struct kite__udp *u = c->rd;

    if (!(c->flags & KITE__C_UDP) || !u)
        return KITE_EINVAL;
    if (!u->len)
        return KITE_ENOENT;
    memcpy(ss, &u->peer, u->len);
    *len = u->len;
    return 0;
}

int kite_udp_sendto(kite_conn_t *c, const void *buf, size_t len, const struct sockaddr *to,
                    unsigned tolen)
{
    if (!(c->flags & KITE__C_UDP))
        return KITE_EINVAL;
    if (c->flags & (KITE__C_CLOSING | KITE__C_CLOSED))
        return KITE_ECLOSED;
    return kite__conn_sendto(c, buf, len, to, tolen);
}

static int raw_write(kite_conn_t *c, const void *buf, size_t len, unsigned flags)
{
    (void)flags;
    if (c->flags & KITE__C_CLOSING)
        return KITE_ECLOSED;
    if (c->flags & KITE__C_UDP) {
        /* One datagram, straight back to whoever sent the last one. */
        const struct kite__udp *u = c->rd;
        if (!u || !u->len)
            return KITE_ENOENT;
        return kite_udp_sendto(c, buf, len, (const struct sockaddr *)&u->peer, u->len);
    }
    if (c->out_bytes + len > c->pt->ctx->info.max_output)
        return KITE_EAGAIN;
    return kite__out_append(c, buf, len);
}

static void on_close(kite_conn_t *c, int reason)
{
    const kite_protocol_t *p = c->proto;

    if (p && p->on_closed)
        p->on_closed(c, c->user, reason);
    if (c->flags & KITE__C_UDP) {
        free(c->rd);
        c->rd = NULL;
    } else if (c->flags & KITE__C_CLIENT) {
        kite__client_free(c->rd);
        c->rd = NULL;
    }
}

/* A UDP socket (bound, non-blocking) as a raw connection of @vh. */
static kite_conn_t *udp_start(kite__pt_t *pt, kite_vhost_t *vh, int fd,
                              const kite_protocol_t *proto, int *err)
{
    kite_conn_t *c;
    int r;

    c = kite__conn_udp_open(pt, vh, fd, err);
    if (!c)
        return NULL;
    kite__conn_enter(c);
    c->rd = calloc(1, sizeof(struct kite__udp));
    r = c->rd ? raw_start(c, proto) : KITE_ENOMEM;
    if (r == 0)
        r = kite__conn_read_start(c);
    if (r < 0)
        kite__conn_close_now(c, KITE_CLOSE_SETUP);
    kite__conn_leave(c);
    if (r < 0) {
        *err = r;
        return NULL;
    }
    return c;
}

/* A switch to raw (kite__conn_role_start): @arg is the protocol. */
static int raw_start_op(kite_conn_t *c, char *buf, size_t len, const void *arg)
{
    (void)buf;
    (void)len;
    return raw_start(c, arg);
}

#define RAW_OPS                                                                                    \
    .on_data = on_data, .on_eof = on_eof, .on_writeable = on_writeable, .on_timeout = on_timeout,  \
    .write = raw_write, .on_close = on_close, .on_rx_resume = on_rx_resume

const struct kite__role_ops kite__role_raw = {
    .name = "raw",
    RAW_OPS,
    .start = raw_start_op,
};

/* cgi pipes ignore a drain: the script's HTTP conn finishes its response
 * first (the h1 role's drain), and the pipes close with it; the drain
 * timeout closes whatever is left. */
static void pipe_drain(kite_conn_t *c)
{
    (void)c;
}

const struct kite__role_ops kite__role_cgi_pipe = {
    .name = "cgi-pipe",
    RAW_OPS,
    .drain = pipe_drain,
};

kite_conn_t *kite_adopt_fd(kite_vhost_t *vh, int fd, unsigned flags, const char *protocol, int *err)
{
    kite__pt_t *pt = kite__pt_current();
    const kite_protocol_t *p = protocol ? kite_vhost_find_protocol(vh, protocol) : NULL;
    struct stat st;
    kite_conn_t *c;
    int r = KITE_EINVAL;

    if (!pt || pt->ctx != vh->ctx)
        pt = &vh->ctx->pts[0];
    if (!p || fd < 0 ||
        (flags != KITE_ADOPT_SOCKET && flags != KITE_ADOPT_FILE && flags != KITE_ADOPT_UDP))
        goto fail;
    if (fstat(fd, &st)) {
        r = KITE_EBADF;
        goto fail;
    }
    if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
        r = KITE_ENOTSUP; /* epoll and poll cannot wait on regular files */
        goto fail;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (flags == KITE_ADOPT_UDP) {
        c = udp_start(pt, vh, fd, p, &r);
        if (!c)
            goto fail;
        return c;
    }
    c = kite__conn_adopt(pt, vh, fd, flags == KITE_ADOPT_SOCKET, &r);
    if (!c)
        goto fail;
    kite__conn_enter(c);
    r = raw_start(c, p);
    if (r == 0)
        r = kite__conn_read_start(c);
    if (r < 0)
        kite__conn_close_now(c, KITE_CLOSE_SETUP);
    kite__conn_leave(c);
    if (r < 0)
        goto fail;
    return c;
fail:
    if (err)
        *err = r;
    return NULL;
}
