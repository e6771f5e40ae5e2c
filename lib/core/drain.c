/*
 * Graceful stop. kite_context_drain() only posts, so any thread may call
 * it. On each service thread the listeners close, and every connection is
 * asked to finish through its role: an HTTP request in flight completes
 * (its response says Connection: close) and idle keep-alive connections
 * close, websockets get a 1001 close frame, raw connections close. A
 * thread whose last connection has gone is drained; when every thread
 * is, kite_cancel_service() makes kite_run() return. A timer closes what
 * is still open after the timeout.
 */
#include <stdlib.h>

#include "event/event.h"

#define container_of(p, type, member) ((type *)((char *)(p)-offsetof(type, member)))

void kite__conn_drain(kite_conn_t *c)
{
    if (c->flags & (KITE__C_CLOSED | KITE__C_CLOSING))
        return;
    /* As for a timer: handlers run inside, the leave flushes and closes. */
    c->flags |= KITE__C_IN_SVC;
    if (c->role->drain)
        c->role->drain(c);
    else
        kite__conn_close_graceful(c);
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
        kite__conn_close_now(c, 1);
    }
    /* Conns closed while they were busy are gone once they leave. */
    if (!pt->nconns)
        kite__drain_pt_done(pt);
}

static void drain_start(kite_context_t *ctx, void *arg)
{
    kite__pt_t *pt = arg;
    kite__listener_t *ls;
    kite_conn_t *c, *next;

    (void)ctx;
    if (!pt->ev)
        return; /* the context is being destroyed */
    pt->drain = 1;
    for (ls = pt->listeners; ls; ls = ls->next)
        pt->evops->listen_close(ls);
    kite__pt_timer_schedule(pt, &pt->drain_timer, ctx->drain_ms, drain_timeout);
    for (c = pt->conns; c; c = next) {
        next = c->cnext;
        kite__conn_drain(c);
    }
    if (!pt->nconns)
        kite__drain_pt_done(pt);
}

int kite_context_drain(kite_context_t *ctx, unsigned timeout_ms)
{
    kite__post_t **nodes;
    int i;

    if (!atomic_load(&ctx->running) && !ctx->info.extpoll && !ctx->info.foreign_loop &&
        !ctx->info.foreign_loops)
        return KITE_ESTATE;
    nodes = calloc((size_t)ctx->npts, sizeof(*nodes));
    for (i = 0; nodes && i < ctx->npts; i++)
        if (!(nodes[i] = malloc(sizeof(**nodes))))
            break;
    if (!nodes || i < ctx->npts) {
        for (i = 0; nodes && i < ctx->npts; i++)
            free(nodes[i]);
        free(nodes);
        return KITE_ENOMEM;
    }
    if (atomic_exchange(&ctx->draining, 1)) {
        for (i = 0; i < ctx->npts; i++)
            free(nodes[i]);
        free(nodes);
        return KITE_ESTATE;
    }
    ctx->drain_ms = timeout_ms;
    atomic_store(&ctx->drain_left, ctx->npts);
    for (i = 0; i < ctx->npts; i++) {
        nodes[i]->cb = drain_start;
        nodes[i]->arg = &ctx->pts[i];
        kite__post_node(&ctx->pts[i], nodes[i]);
    }
    free(nodes);
    return 0;
}
