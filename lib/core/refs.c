/*
 * Vhost lifetime. A vhost is referenced by the context while it is live
 * (or staged by a reload) and by every connection whose c->vh it is; the
 * references are atomic because connections live on several service
 * threads. When a reload has retired a vhost and the last reference goes,
 * its vhost timers are cancelled on each service thread (timers belong to
 * their thread's heap), and the last thread to do so runs the protocols'
 * on_vhost_destroy, frees it and calls info->on_destroyed. While the
 * context is being destroyed everything is on one thread and the vhost is
 * freed at once.
 */
#include <stdlib.h>

#include "core/private.h"

struct vh_end {
    kite_vhost_t *vh;
    atomic_int left; /* service threads that have not cancelled yet */
};

void kite__vhost_ref(kite_vhost_t *vh)
{
    if (vh)
        atomic_fetch_add_explicit(&vh->refs, 1, memory_order_relaxed);
}

static void end_on_pt(kite_context_t *ctx, void *arg)
{
    struct vh_end *e = arg;
    int i;

    /* Posts run on their pt, or from kite_context_destroy() once the loops
     * are gone, all on one thread: then every heap left is reachable. */
    if (atomic_load(&ctx->destroying)) {
        for (i = 0; i < ctx->npts; i++)
            kite__pt_vhost_timers_cancel(&ctx->pts[i], e->vh);
    } else {
        kite__pt_vhost_timers_cancel(kite__pt_current(), e->vh);
    }
    if (atomic_fetch_sub_explicit(&e->left, 1, memory_order_acq_rel) != 1)
        return;
    kite__vhost_free(e->vh);
    free(e);
}

static void vhost_end(kite_vhost_t *vh)
{
    kite_context_t *ctx = vh->ctx;
    kite__post_t **nodes;
    struct vh_end *e;
    int i;

    if (atomic_load(&ctx->destroying)) {
        for (i = 0; i < ctx->npts; i++)
            kite__pt_vhost_timers_cancel(&ctx->pts[i], vh);
        kite__vhost_free(vh);
        return;
    }
    e = malloc(sizeof(*e));
    nodes = calloc((size_t)ctx->npts, sizeof(*nodes));
    for (i = 0; e && nodes && i < ctx->npts; i++)
        if (!(nodes[i] = malloc(sizeof(**nodes))))
            break;
    if (!e || !nodes || i < ctx->npts) {
        /* Its timers could not be reached safely: better leaked than
         * freed under a pending timer. */
        kite_err("vhost %s: out of memory, not freed", vh->name);
        for (i = 0; nodes && i < ctx->npts; i++)
            free(nodes[i]);
        free(nodes);
        free(e);
        return;
    }
    e->vh = vh;
    atomic_init(&e->left, ctx->npts);
    for (i = 0; i < ctx->npts; i++) {
        nodes[i]->cb = end_on_pt;
        nodes[i]->arg = e;
        kite__post_node(&ctx->pts[i], nodes[i]);
    }
    free(nodes);
}

void kite__vhost_unref(kite_vhost_t *vh)
{
    if (vh && atomic_fetch_sub_explicit(&vh->refs, 1, memory_order_acq_rel) == 1)
        vhost_end(vh);
}

void kite__conn_set_vhost(kite_conn_t *c, kite_vhost_t *vh)
{
    kite_vhost_t *old = c->vh;

    if (vh == old)
        return;
    kite__vhost_ref(vh);
    c->vh = vh;
    kite__vhost_unref(old);
}
