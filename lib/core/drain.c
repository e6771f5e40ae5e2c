/*
 * Graceful stop. kite_context_drain() only sets atomics and wakes the
 * service threads, so any thread or a signal handler may call it. Each
 * service thread, when it wakes, closes its listeners and asks every
 * connection to finish through its role: an HTTP request in flight
 * completes (its response says Connection: close) and idle keep-alive
 * connections close, websockets get a 1001 close frame, raw connections
 * close. A thread whose last connection has gone is drained; when every
 * thread is, kite_cancel_service() makes kite_run() return. A timer
 * closes what is still open after the timeout.
 */
#include "event/event.h"

#define container_of(p, type, member) ((type *)((char *)(p)-offsetof(type, member)))

void kite__conn_drain(kite_conn_t *c)
{
    uint32_t busy = c->flags & KITE__C_IN_SVC;

    if (c->flags & (KITE__C_CLOSED | KITE__C_CLOSING))
        return;
    /* As for a timer: handlers run inside, the leave flushes and closes
     * (or the outer entry does, when there is one). */
    c->flags |= KITE__C_IN_SVC;
    /* We close first: an HTTP/1 peer may be sending its next request
     * already. Closing with it unread would reset the conn (and the reset
     * can destroy a response the peer has yet to read): shut down and
     * drain its input first. */
    if (c->role->traits & KITE__ROLE_LINGER)
        c->flags |= KITE__C_WANT_LINGER;
    if (c->role->drain)
        c->role->drain(c);
    else
        kite__conn_close_graceful(c);
    if (!busy)
        kite__conn_leave(c);
}

void kite__drain_pt_done(kite__pt_t *pt)
{
    kite_context_t *ctx = pt->ctx;

    if (pt->drain != 1 || atomic_load(&ctx->destroying))
        return;
    pt->drain = 2;
    kite__timer_del(pt, &pt->drain_timer);
    if (atomic_fetch_sub(&ctx->drain_left, 1) == 1)
        kite_cancel_service(ctx);
}

static void drain_timeout(kite_vhost_t *vh, kite_timer_t *t)
{
    kite__pt_t *pt = container_of(t, kite__pt_t, drain_timer);
    kite_conn_t *c, *next;

    (void)vh;
    kite_notice("drain: closing %u connection(s) left on service thread %d", pt->nconns, pt->tsi);
    for (c = pt->conns; c; c = next) {
        next = c->cnext;
        kite__conn_close_now(c, KITE_CLOSE_TIMEOUT);
    }
    /* Conns closed while they were busy are gone once they leave. */
    if (!pt->nconns)
        kite__drain_pt_done(pt);
}

void kite__drain_check(kite__pt_t *pt)
{
    kite_context_t *ctx = pt->ctx;
    kite__listener_t *ls;
    kite_conn_t *c, *next;

    if (pt->drain || atomic_load_explicit(&ctx->draining, memory_order_acquire) != 2 || !pt->ev)
        return;
    pt->drain = 1;
    for (ls = pt->listeners; ls; ls = ls->next)
        pt->evops->listen_close(ls);
    kite__pt_timer_schedule(pt, &pt->drain_timer, atomic_load(&ctx->drain_ms), drain_timeout);
    for (c = pt->conns; c; c = next) {
        next = c->cnext;
        kite__conn_drain(c);
    }
    if (!pt->nconns)
        kite__drain_pt_done(pt);
}

int kite_context_drain(kite_context_t *ctx, unsigned timeout_ms)
{
    int i, zero = 0;

    if (!atomic_load(&ctx->running) && !ctx->info.extpoll && !ctx->info.foreign_loop &&
        !ctx->info.foreign_loops)
        return KITE_ESTATE;
    if (!atomic_compare_exchange_strong(&ctx->draining, &zero, 1))
        return KITE_ESTATE;
    /* Atomics and wakeups only, as kite_cancel_service(): a signal handler
     * may call this. Each thread starts draining when it wakes. */
    atomic_store(&ctx->drain_ms, timeout_ms);
    atomic_store(&ctx->drain_left, ctx->npts);
    atomic_store_explicit(&ctx->draining, 2, memory_order_release);
    for (i = 0; i < ctx->npts; i++)
        ctx->pts[i].evops->wakeup(&ctx->pts[i]);
    return 0;
}
