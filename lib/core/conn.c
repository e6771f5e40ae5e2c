/*
 * Connection lifecycle: set-up after accept, the entry from the event
 * backend for input and end of input, state timeouts, graceful and
 * immediate close (with lingering close when the peer may still be
 * sending), kept input between reads, flow control, kite_write() and
 * kite_close() (which hand over to the role) and the public accessors. Every entry from the loop
 * into a connection is bracketed by IN_SVC and kite__conn_leave(), which flushes output and
 * finishes a close requested while handlers were still on the stack.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "event/event.h"
#include "misc/misc.h"

#define LINGER_MS 2000

static void state_timeout_cb(kite_conn_t *c, kite_timer_t *t)
{
    (void)t;
    if (c->flags & (KITE__C_CLOSING | KITE__C_LINGER)) {
        kite__conn_close_now(c, KITE_CLOSE_TIMEOUT);
        return;
    }
    if (!c->role->on_timeout || c->role->on_timeout(c) < 0)
        kite__conn_close_now(c, KITE_CLOSE_TIMEOUT);
}

/* Into the thread's list of conns, with its state timer. */
static void link_conn(kite_conn_t *c, kite__pt_t *pt)
{
    c->tmo.conn = c;
    c->tmo.cb = state_timeout_cb;
    c->cnext = pt->conns;
    if (pt->conns)
        pt->conns->cprev = c;
    pt->conns = c;
    pt->nconns++;
}

void kite__conn_init(kite_conn_t *c, kite__pt_t *pt, const kite__listener_t *ls, kite_vhost_t *vh)
{
    c->pt = pt;
    c->ls = ls;
    c->vh = vh;
    kite__vhost_ref(vh);
    c->role = kite__roles[0];
    c->xp = &kite__xport_tcp;
    link_conn(c, pt);
    kite__conn_set_state_timeout(c, pt->ctx->info.timeout_secs * 1000u);
    if (ls && vh->admit && vh->admit(c) < 0) {
        /* Closed without a word (LibHTTP's ACL): the peer learns nothing. */
        c->flags |= KITE__C_CLOSING | KITE__C_ABORT;
        kite__timer_set(pt, &c->tmo, kite__pt_now(pt));
        return;
    }
    if (kite__peer_add(c) < 0) {
        /* Over ip-limit-wsi. The backend has yet to start reading, so the
         * close comes from the timer heap, in this same loop pass. */
        c->flags |= KITE__C_CLOSING | KITE__C_ABORT;
        kite__timer_set(pt, &c->tmo, kite__pt_now(pt));
        return;
    }
    if (ls && ls->vhosts[0]->xport_start) {
        /* The handshake comes first; the role sees only what it carries. */
        if (ls->vhosts[0]->xport_start(c) < 0)
            kite__conn_close_now(c, KITE_CLOSE_SETUP);
        return;
    }
    if (ls && (ls->vhosts[0]->options & KITE__VH_TO_HTTPS))
        c->flags |= KITE__C_TO_HTTPS;
    if (ls && (vh->options & KITE_VH_RAW_ONLY) &&
        kite__conn_role_start(c, "raw", NULL, 0, vh->raw_proto) < 0)
        kite__conn_close_now(c, KITE_CLOSE_SETUP);
}

void kite__conn_init_stream(kite_conn_t *c, kite_conn_t *parent, const kite__xport_t *xp,
                            const struct kite__role_ops *role)
{
    kite__pt_t *pt = parent->pt;

    c->pt = pt;
    c->ls = parent->ls;
    c->vh = parent->vh;
    kite__vhost_ref(c->vh);
    c->role = role;
    c->xp = xp;
    /* The peer entry is the parent's: named in logs, counted once. */
    c->peer = parent->peer;
    c->flags = KITE__C_STREAM | (parent->flags & KITE__C_TO_HTTPS);
    link_conn(c, pt);
}

void kite__conn_set_state_timeout(kite_conn_t *c, unsigned ms)
{
    if (!ms) {
        kite__timer_del(c->pt, &c->tmo);
        return;
    }
    kite__timer_set(c->pt, &c->tmo, kite__pt_now(c->pt) + ms);
}

int kite__conn_user_bind(kite_conn_t *c, size_t size)
{
    kite__pt_t *pt = c->pt;

    kite__conn_user_free(c);
    if (!size)
        return 0;
    if (pt->user_spare && pt->user_spare_size == size) {
        c->user = pt->user_spare;
        pt->user_spare = NULL;
        memset(c->user, 0, size);
    } else if (!(c->user = calloc(1, size))) {
        return KITE_ENOMEM;
    }
    c->user_size = size;
    return 0;
}

/* No spare under AddressSanitizer: a use of per-session memory after its
 * conn let go of it must be caught, not served by the next request's. */
#define USER_SPARE_MAX (KITE__ASAN ? 0 : 4096)

void kite__conn_user_free(kite_conn_t *c)
{
    kite__pt_t *pt = c->pt;

    if (c->user && c->user_size <= USER_SPARE_MAX) {
        free(pt->user_spare);
        pt->user_spare = c->user;
        pt->user_spare_size = c->user_size;
    } else {
        free(c->user);
    }
    c->user = NULL;
    c->user_size = 0;
}

void kite__conn_user_move(kite_conn_t *dst, kite_conn_t *src)
{
    kite__conn_user_free(dst);
    dst->user = src->user;
    dst->user_size = src->user_size;
    src->user = NULL;
    src->user_size = 0;
}

static void finish_close(kite_conn_t *c)
{
    kite__pt_t *pt = c->pt;
    kite_timer_t *t;

    c->flags |= KITE__C_CLOSED;
    kite__ready_remove(c);
    kite__timer_del(pt, &c->tmo);
    kite__conn_throttle_free(c);
    while ((t = c->timers)) {
        c->timers = t->next;
        kite__timer_del(pt, t);
        t->conn = NULL;
        t->flags = 0;
    }
    if (c->role->on_close)
        c->role->on_close(c, c->close_reason);
    c->xp->ops->close(c, !(c->flags & KITE__C_ABORT));
    if (!(c->flags & KITE__C_STREAM))
        c->pt->evops->conn_close(c);
    kite__out_free(c);
    free(c->in);
    c->in = NULL;
    c->in_len = c->in_cap = 0;
    kite__conn_user_free(c);
    if (c->cprev)
        c->cprev->cnext = c->cnext;
    else
        pt->conns = c->cnext;
    if (c->cnext)
        c->cnext->cprev = c->cprev;
    c->cnext = c->cprev = NULL;
    pt->nconns--;
    if (!(c->flags & KITE__C_STREAM))
        kite__peer_del(c);
    /* A retired vhost may go with its last conn (freed from a post). */
    kite__vhost_unref(c->vh);
    if (pt->drain == 1 && !pt->nconns)
        kite__drain_pt_done(pt);
}

void kite__conn_close_now(kite_conn_t *c, kite_close_reason_t reason)
{
    if (c->flags & KITE__C_CLOSED)
        return;
    c->close_reason = (uint8_t)reason;
    if (c->flags & KITE__C_IN_SVC) {
        /* Handlers are still on the stack and may use role data: finish
         * when the outermost entry leaves. */
        c->flags |= KITE__C_CLOSING | KITE__C_ABORT;
        return;
    }
    finish_close(c);
}

void kite__conn_abort(kite_conn_t *c, kite_close_reason_t reason, int rst)
{
    static const struct linger now = {1, 0};
    int fd;

    if (c->flags & KITE__C_CLOSED)
        return;
    if (rst && !(c->flags & KITE__C_STREAM) && (fd = kite__conn_fd(c)) >= 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &now, sizeof(now));
    c->flags |= KITE__C_ABORT;
    kite__conn_close_now(c, reason);
}

void kite__conn_freed(kite_conn_t *c)
{
    (void)c;
}

static void start_linger(kite_conn_t *c)
{
    /* Closing with unread input in the socket would make the kernel send
     * an RST that can destroy the response before the peer reads it, so
     * shut our side and read until the peer closes, for a bounded time. */
    c->flags |= KITE__C_LINGER;
    c->flags &= ~KITE__C_RX_OFF;
    if (c->xp->ops->shutdown(c) < 0) {
        finish_close(c);
        return;
    }
    kite__conn_read_start(c);
    kite__conn_set_state_timeout(c, LINGER_MS);
}

void kite__conn_leave(kite_conn_t *c)
{
    c->flags &= ~KITE__C_IN_SVC;
    if (c->flags & KITE__C_CLOSED)
        return;
    /* A flush can run role code (on_drain) that queues more output. */
    while ((c->flags & KITE__C_DIRTY) &&
           !(c->flags & (KITE__C_ABORT | KITE__C_CLOSED | KITE__C_ASYNC_W)))
        kite__out_flush(c);
    if (c->flags & KITE__C_CLOSED)
        return;
    if (c->flags & KITE__C_ABORT) {
        finish_close(c);
        return;
    }
    if ((c->flags & KITE__C_CLOSING) && !(c->flags & KITE__C_LINGER) && !c->out_head &&
        !(c->flags & KITE__C_ASYNC_W)) {
        if ((c->flags & KITE__C_WANT_LINGER) && !(c->flags & (KITE__C_EOF | KITE__C_STREAM)))
            start_linger(c);
        else
            finish_close(c);
    }
}

void kite__conn_on_data(kite_conn_t *c, char *buf, size_t len)
{
    int r;

    if (c->flags & (KITE__C_CLOSED | KITE__C_LINGER))
        return;
    c->flags |= KITE__C_IN_SVC;
    if (!(c->flags & KITE__C_CLOSING)) {
        r = c->xp->ops->rx(c, buf, len);
        if (r < 0)
            kite__conn_close_now(c, KITE_CLOSE_ERROR);
    }
    kite__conn_leave(c);
}

void kite__conn_on_datagram(kite_conn_t *c, char *buf, size_t len, const struct sockaddr *from,
                            unsigned fromlen)
{
    struct kite__udp *u = c->rd;

    if (u && from && fromlen <= sizeof(u->peer)) {
        memcpy(&u->peer, from, fromlen);
        u->len = (socklen_t)fromlen;
    }
    kite__conn_on_data(c, buf, len);
}

void kite__conn_on_eof(kite_conn_t *c, int status)
{
    if (c->flags & KITE__C_CLOSED)
        return;
    c->flags |= KITE__C_EOF;
    kite__conn_read_stop(c);
    if ((c->flags & KITE__C_LINGER) || status < 0 || !c->role->on_eof) {
        kite__conn_close_now(c, KITE_CLOSE_PEER);
        return;
    }
    c->flags |= KITE__C_IN_SVC;
    c->role->on_eof(c, status);
    kite__conn_leave(c);
}

void kite__conn_on_connect(kite_conn_t *c, int status)
{
    if (c->flags & KITE__C_CLOSED)
        return;
    c->flags |= KITE__C_IN_SVC;
    if (!(c->flags & KITE__C_CLOSING) && c->role->on_connect)
        c->role->on_connect(c, status, NULL);
    kite__conn_leave(c);
}

void kite__conn_rx_pause(kite_conn_t *c, int pause)
{
    /* A stream's input is held by its parent's role while RX_OFF is set;
     * its transport gives the window back on resume. */
    if (c->flags & KITE__C_STREAM) {
        c->xp->ops->rx_pause(c, pause);
        return;
    }
    if (pause) {
        kite__conn_read_stop(c);
        return;
    }
    if (!(c->flags & (KITE__C_RX_OFF | KITE__C_EOF | KITE__C_CLOSED)))
        kite__conn_read_start(c);
}

int kite_rx_flow_control(kite_conn_t *c, int enable)
{
    if (c->flags & (KITE__C_CLOSED | KITE__C_CLOSING))
        return KITE_ECLOSED;
    if (enable) {
        c->flags &= ~KITE__C_RX_OFF;
        kite__conn_rx_pause(c, 0);
        /* Input read before the pause is delivered first, from the end
         * of this loop pass rather than inside the caller's callback. */
        if (c->in_len && c->role->on_rx_resume) {
            c->flags |= KITE__C_RX_HELD;
            kite__ready_add(c);
        }
    } else {
        c->flags |= KITE__C_RX_OFF;
        kite__conn_rx_pause(c, 1);
    }
    return 0;
}

/* The role frames what the handler writes (an HTTP body, a ws message,
 * raw bytes). */
int kite_write(kite_conn_t *c, const void *buf, size_t len, unsigned flags)
{
    if (!c || (len && !buf))
        return KITE_EINVAL;
    if (c->flags & (KITE__C_CLOSED | KITE__C_ABORT))
        return KITE_ECLOSED;
    if (!c->role->write)
        return KITE_ENOTSUP;
    return c->role->write(c, buf, len, flags);
}

int kite_close(kite_conn_t *c, int code, const char *reason)
{
    if (c->flags & KITE__C_CLOSED)
        return KITE_ECLOSED;
    if (c->role->close)
        return c->role->close(c, code, reason);
    return kite__conn_close_graceful(c);
}

int kite__conn_close_graceful(kite_conn_t *c)
{
    if (c->flags & KITE__C_CLOSED)
        return KITE_ECLOSED;
    c->flags |= KITE__C_CLOSING;
    if (!(c->flags & KITE__C_STREAM))
        kite__conn_read_stop(c);
    if (!(c->flags & KITE__C_IN_SVC)) {
        c->flags |= KITE__C_IN_SVC;
        kite__conn_leave(c);
    }
    return 0;
}

int kite_set_timeout(kite_conn_t *c, int secs)
{
    if (c->flags & KITE__C_CLOSED)
        return KITE_ECLOSED;
    kite__conn_set_state_timeout(c, secs > 0 ? (unsigned)secs * 1000u : 0);
    return 0;
}

kite_vhost_t *kite_conn_vhost(const kite_conn_t *c)
{
    return c->vh;
}

kite_context_t *kite_conn_context(const kite_conn_t *c)
{
    return c->pt->ctx;
}

const kite_protocol_t *kite_conn_protocol(const kite_conn_t *c)
{
    return c->proto;
}

void *kite_conn_user(const kite_conn_t *c)
{
    return c->user;
}

int kite_conn_tsi(const kite_conn_t *c)
{
    return c->pt->tsi;
}

size_t kite_conn_pending(const kite_conn_t *c)
{
    return c->out_bytes;
}

int kite_conn_fd(const kite_conn_t *c)
{
    int fd = c->pt->evops->fd(c);

    return fd < 0 ? KITE_EBADF : fd;
}

int kite_conn_peer(const kite_conn_t *c, char *buf, size_t len, int *port)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int fd = c->pt->evops->fd(kite__conn_sock(c));

    if (port)
        *port = 0;
    if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &sl))
        return KITE_EBADF;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        if (!inet_ntop(AF_INET, &sin->sin_addr, buf, (socklen_t)len))
            return KITE_E2BIG;
        if (port)
            *port = ntohs(sin->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        if (!inet_ntop(AF_INET6, &sin6->sin6_addr, buf, (socklen_t)len))
            return KITE_E2BIG;
        if (port)
            *port = ntohs(sin6->sin6_port);
    } else {
        if (len < 5)
            return KITE_E2BIG;
        memcpy(buf, "unix", 5);
    }
    return 0;
}
