/*
 * A connection's lifetime in core (lib/core/conn.c) with a fake backend,
 * transport and role: a close asked for while a handler is on the stack
 * waits for the outermost leave, then runs once (role on_close with the
 * reason, transport and backend close, out of the thread's list); a
 * second close changes nothing; kite_close() sends what is queued first
 * and closes gracefully with KITE_CLOSE_NORMAL; the peer's end of input
 * closes with KITE_CLOSE_PEER when the role has no on_eof; bytes read go
 * through the transport to the role, and a failing rx closes with
 * KITE_CLOSE_ERROR.
 */
#include <stdlib.h>

#include "event/event.h"

#include "tap.h"

static int backend_closes, read_stops;
static void f_read_stop(kite_conn_t *c)
{
    (void)c;
    read_stops++;
}
static void f_conn_close(kite_conn_t *c)
{
    (void)c;
    backend_closes++;
}
static void f_ready_pending(kite__pt_t *pt, int on)
{
    (void)pt;
    (void)on;
}
static uint64_t f_now(kite__pt_t *pt)
{
    (void)pt;
    return 1000;
}
static void f_timer_arm(kite__pt_t *pt, uint64_t ms)
{
    (void)pt;
    (void)ms;
}
static const struct kite__event_ops evops = {.read_stop = f_read_stop,
                                             .conn_close = f_conn_close,
                                             .ready_pending = f_ready_pending,
                                             .now_ms = f_now,
                                             .timer_arm = f_timer_arm};

static char sent[64];
static size_t sent_len;
static int xp_closes, xp_graceful = -1, rx_fail;
static ssize_t x_writev(kite_conn_t *c, const struct iovec *iov, int n, int more)
{
    size_t k = 0;
    int i;

    (void)c;
    (void)more;
    for (i = 0; i < n; i++) {
        memcpy(sent + sent_len, iov[i].iov_base, iov[i].iov_len);
        sent_len += iov[i].iov_len;
        k += iov[i].iov_len;
    }
    return (ssize_t)k;
}
static void x_close(kite_conn_t *c, int graceful)
{
    (void)c;
    xp_closes++;
    xp_graceful = graceful;
}
static int role_rx_bytes;
static int x_rx(kite_conn_t *c, char *buf, size_t len)
{
    (void)buf;
    if (rx_fail)
        return KITE_EPROTO;
    return c->role->on_data(c, buf, len);
}
static const struct kite__xport_ops xops = {
    .name = "fake", .rx = x_rx, .writev = x_writev, .close = x_close};
static const kite__xport_t xport = {.ops = &xops};

static int closes, last_reason = -1;
static int r_on_data(kite_conn_t *c, char *buf, size_t len)
{
    (void)c;
    (void)buf;
    role_rx_bytes += (int)len;
    return 0;
}
static void r_on_close(kite_conn_t *c, int reason)
{
    (void)c;
    closes++;
    last_reason = reason;
}
static const struct kite__role_ops role = {
    .name = "fake", .on_data = r_on_data, .on_close = r_on_close};

static struct kite_context_s ctx;
static kite__pt_t pt;
static struct kite_vhost_s vh;

static kite_conn_t *new_conn(void)
{
    kite_conn_t *c = calloc(1, sizeof(*c));

    c->pt = &pt;
    c->vh = &vh;
    atomic_fetch_add(&vh.refs, 1);
    c->role = &role;
    c->xp = &xport;
    c->cnext = pt.conns;
    if (pt.conns)
        pt.conns->cprev = c;
    pt.conns = c;
    pt.nconns++;
    closes = xp_closes = backend_closes = 0;
    last_reason = xp_graceful = -1;
    return c;
}

int main(void)
{
    kite_conn_t *c, *d;

    pt.ctx = &ctx;
    pt.evops = &evops;
    atomic_init(&vh.refs, 1);

    c = new_conn();
    d = new_conn();
    c->flags |= KITE__C_IN_SVC;
    kite__conn_close_now(c, KITE_CLOSE_ERROR);
    tap_is_int(closes, 0, "a close inside a handler waits");
    tap_ok((c->flags & KITE__C_CLOSING) && !(c->flags & KITE__C_CLOSED), "the conn is closing");
    kite__conn_leave(c);
    tap_is_int(closes, 1, "the outermost leave closes it, once");
    tap_is_int(last_reason, KITE_CLOSE_ERROR, "with its reason");
    tap_ok(xp_closes == 1 && xp_graceful == 0, "the transport is closed, not gracefully");
    tap_is_int(backend_closes, 1, "the backend's handle is closed");
    tap_ok(pt.conns == d && pt.nconns == 1 && !d->cprev, "the conn left the thread's list");
    tap_is_int((int)atomic_load(&vh.refs), 2, "and let go of its vhost");
    kite__conn_close_now(c, KITE_CLOSE_PEER);
    tap_is_int(closes, 1, "closing a closed conn changes nothing");
    free(c);

    /* kite_close(): what is queued leaves first. The conn reads (core's
     * READING flag), so the backend is told to stop. */
    d->flags |= KITE__C_READING;
    kite__out_append(d, "bye", 3);
    tap_is_int(kite_close(d, 0, NULL), 0, "kite_close()");
    tap_is_int(read_stops, 1, "stops reading");
    tap_ok(sent_len == 3 && !memcmp(sent, "bye", 3), "the queued bytes were sent first");
    tap_is_int(last_reason, KITE_CLOSE_NORMAL, "then it closed: KITE_CLOSE_NORMAL");
    tap_is_int(xp_graceful, 1, "gracefully");
    tap_ok(!pt.conns && !pt.nconns, "no conn left");
    free(d);

    c = new_conn();
    kite__conn_on_data(c, "abc", 3);
    tap_is_int(role_rx_bytes, 3, "bytes read reach the role through the transport");
    rx_fail = 1;
    kite__conn_on_data(c, "x", 1);
    tap_is_int(last_reason, KITE_CLOSE_ERROR, "a failing rx closes: KITE_CLOSE_ERROR");
    free(c);

    c = new_conn();
    kite__conn_on_eof(c, 0);
    tap_is_int(last_reason, KITE_CLOSE_PEER, "the peer's end closes: KITE_CLOSE_PEER");
    tap_ok(c->flags & KITE__C_EOF, "and is remembered");
    free(c);
    kite__pt_segs_free(&pt);
    return tap_done();
}
