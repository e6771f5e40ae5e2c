/*
 * Reload: replacing the vhosts of a running context without dropping a
 * listen socket or a connection. The control thread stages the new set
 * (kite_vhost_create() between begin and commit): addresses the live set
 * does not listen on are bound at once, one socket per service thread,
 * so "address in use" is reported while the old set still serves. Commit
 * prepares everything that can fail on the control thread (the new
 * vhost array of every listener on every thread, the post nodes) and then
 * posts one part to each service thread, which swaps its listeners' arrays,
 * starts the new sockets and closes the unused ones on its own thread.
 * The last part drops the context's references on the retired vhosts;
 * connections still on them keep them alive (core/refs.c).
 */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "event/event.h"
#include "misc/misc.h"

struct kite__reload {
    kite_vhost_t *staged, **tail; /* in creation order */
    kite__listener_t **nls;       /* per pt: sockets bound for new addresses */
};

struct part {
    struct job *j;
    int tsi;
};

struct job {
    atomic_int left; /* parts not yet run */
    int ngroups;     /* addresses the new set listens on */
    kite_vhost_t **addr;
    int *n;
    kite_vhost_t ***arr;    /* [tsi * ngroups + g]: a listener's new array */
    kite__listener_t **nls; /* per pt, from the reload */
    kite_vhost_t **retired;
    int nretired;
    struct part *parts;
};

static int listens(const kite_vhost_t *vh)
{
    return !(vh->options & (KITE_VH_NO_LISTEN | KITE_VH_UDP));
}

static void wait_applied(kite_context_t *ctx)
{
    struct timespec ms = {0, 1000000};
    int i;

    /* An address the last commit gave up is free only once every service
     * thread has closed its socket; wait for that (bounded) when the loops
     * are running elsewhere. */
    if (kite__pt_current() || !(atomic_load(&ctx->running) || ctx->info.extpoll ||
                                ctx->info.foreign_loop || ctx->info.foreign_loops))
        return;
    for (i = 0; i < 2000 && atomic_load(&ctx->reload_pending); i++)
        nanosleep(&ms, NULL);
}

int kite_context_reload_begin(kite_context_t *ctx)
{
    struct kite__reload *r;

    if (ctx->reload || atomic_load(&ctx->draining))
        return KITE_ESTATE;
    wait_applied(ctx);
    r = calloc(1, sizeof(*r));
    if (!r || !(r->nls = calloc((size_t)ctx->npts, sizeof(*r->nls)))) {
        free(r);
        return KITE_ENOMEM;
    }
    r->tail = &r->staged;
    ctx->reload = r;
    return 0;
}

static void socket_free(kite__listener_t *ls)
{
    if (ls->family == AF_UNIX)
        unlink(ls->vhosts[0]->unix_path);
    close(ls->fd);
    free(ls->vhosts);
    free(ls);
}

/* Close the sockets staged for @vh (all of them when NULL). */
static void sockets_drop(kite_context_t *ctx, struct kite__reload *r, const kite_vhost_t *vh)
{
    kite__listener_t **pp, *ls;
    int i;

    for (i = 0; i < ctx->npts; i++)
        for (pp = &r->nls[i]; (ls = *pp);) {
            if (vh && ls->vhosts[0] != vh) {
                pp = &ls->next;
                continue;
            }
            *pp = ls->next;
            socket_free(ls);
        }
}

/* Does a live or staged vhost already listen on @vh's address? */
static int shared(kite_context_t *ctx, kite_vhost_t *vh)
{
    kite_vhost_t *lists[2] = {ctx->vhosts, ctx->reload->staged}, *o;
    int k;

    for (k = 0; k < 2; k++)
        for (o = lists[k]; o; o = o->next)
            if (listens(o) && kite__vhost_same_addr(vh, o)) {
                vh->port = o->port;
                return 1;
            }
    return 0;
}

int kite__reload_stage(kite_context_t *ctx, kite_vhost_t *vh, int port)
{
    struct kite__reload *r = ctx->reload;
    kite__listener_t *ls;
    int i, fd, bound, family;

    if (vh->options & KITE_VH_UDP) {
        kite_err("vhost %s: UDP vhosts cannot be reloaded", vh->name);
        return KITE_ENOTSUP;
    }
    for (i = 0; listens(vh) && !shared(ctx, vh) && i < ctx->npts; i++) {
        fd = kite__listen_socket(vh->iface, i ? vh->port : port, vh->unix_path, vh->options,
                                 ctx->npts > 1 ? (i ? 1 : 2) : 0, &bound, &family);
        if (fd < 0) {
            sockets_drop(ctx, r, vh);
            return fd;
        }
        ls = calloc(1, sizeof(*ls));
        if (!ls || !(ls->vhosts = malloc(sizeof(*ls->vhosts)))) {
            free(ls);
            close(fd);
            sockets_drop(ctx, r, vh);
            return KITE_ENOMEM;
        }
        ls->vhosts[0] = vh;
        ls->nvhosts = 1;
        ls->pt = &ctx->pts[i];
        ls->fd = fd;
        ls->port = bound;
        ls->family = family;
        ls->next = r->nls[i];
        r->nls[i] = ls;
        vh->port = bound;
        if (vh->unix_path)
            break; /* one accept queue is enough for a local socket */
    }
    *r->tail = vh;
    r->tail = &vh->next;
    return 0;
}

void kite_context_reload_abort(kite_context_t *ctx)
{
    struct kite__reload *r = ctx->reload;
    kite_vhost_t *vh;

    if (!r)
        return;
    ctx->reload = NULL;
    sockets_drop(ctx, r, NULL);
    while ((vh = r->staged)) {
        r->staged = vh->next;
        vh->next = NULL;
        kite__vhost_unref(vh);
    }
    free(r->nls);
    free(r);
}

static void job_free(struct job *j, int npts)
{
    int i;

    for (i = 0; j->arr && i < npts * j->ngroups; i++)
        free(j->arr[i]);
    free(j->arr);
    free(j->addr);
    free(j->n);
    free(j->retired);
    free(j->parts);
    free(j);
}

static int group_of(const struct job *j, const kite_vhost_t *vh)
{
    int g;

    for (g = 0; g < j->ngroups; g++)
        if (kite__vhost_same_addr(j->addr[g], vh))
            return g;
    return -1;
}

/* Everything a commit needs, allocated on the control thread. */
static struct job *job_new(kite_context_t *ctx, kite_vhost_t *staged)
{
    struct job *j = calloc(1, sizeof(*j));
    kite_vhost_t *vh;
    int nv = 0, g, i, k;

    if (!j)
        return NULL;
    for (vh = staged; vh; vh = vh->next)
        nv++;
    for (vh = ctx->vhosts; vh; vh = vh->next)
        j->nretired++;
    j->addr = calloc((size_t)nv + 1, sizeof(*j->addr));
    j->n = calloc((size_t)nv + 1, sizeof(*j->n));
    j->retired = calloc((size_t)j->nretired + 1, sizeof(*j->retired));
    j->parts = calloc((size_t)ctx->npts, sizeof(*j->parts));
    if (!j->addr || !j->n || !j->retired || !j->parts)
        goto fail;
    for (vh = staged; vh; vh = vh->next) {
        if (!listens(vh))
            continue;
        g = group_of(j, vh);
        if (g < 0)
            j->addr[g = j->ngroups++] = vh;
        j->n[g]++;
    }
    j->arr = calloc((size_t)(ctx->npts * j->ngroups) + 1, sizeof(*j->arr));
    if (!j->arr)
        goto fail;
    for (i = 0; i < ctx->npts * j->ngroups; i++) {
        g = i % j->ngroups;
        if (!(j->arr[i] = malloc((size_t)j->n[g] * sizeof(kite_vhost_t *))))
            goto fail;
        k = 0;
        /* In creation order: the first vhost on an address is its default. */
        for (vh = staged; vh; vh = vh->next)
            if (listens(vh) && kite__vhost_same_addr(j->addr[g], vh))
                j->arr[i][k++] = vh;
    }
    i = 0;
    for (vh = ctx->vhosts; vh; vh = vh->next)
        j->retired[i++] = vh;
    return j;
fail:
    job_free(j, ctx->npts);
    return NULL;
}

static kite_vhost_t **take(struct job *j, int tsi, int g)
{
    kite_vhost_t **a = j->arr[tsi * j->ngroups + g];

    j->arr[tsi * j->ngroups + g] = NULL;
    return a;
}

static int retired(const struct job *j, const kite_vhost_t *vh)
{
    int i;

    for (i = 0; i < j->nretired; i++)
        if (j->retired[i] == vh)
            return 1;
    return 0;
}

/* A listener the new set does not use: stop accepting, free it. Its h1
 * conns finish their request and close; websockets and raw conns stay. */
static void listener_retire(kite__pt_t *pt, kite__listener_t *ls)
{
    kite_conn_t *c, *next;

    pt->evops->listen_close(ls);
    if (ls->family == AF_UNIX)
        unlink(ls->vhosts[0]->unix_path);
    for (c = pt->conns; c; c = next) {
        next = c->cnext;
        if (c->ls != ls)
            continue;
        c->ls = NULL;
        if (c->role->traits & KITE__ROLE_RETIRE)
            kite__conn_drain(c);
    }
    free(ls->vhosts);
    free(ls);
}

static void apply(kite_context_t *ctx, void *arg)
{
    struct part *p = arg;
    struct job *j = p->j;
    kite__pt_t *pt = &ctx->pts[p->tsi];
    kite__listener_t **pp, *ls, *next;
    kite_conn_t *c, *cnext;
    int g, i, serving = pt->ev && !pt->drain; /* no ev: the context is being destroyed */

    for (pp = &pt->listeners; (ls = *pp);) {
        g = group_of(j, ls->vhosts[0]);
        if (g < 0 || !j->arr[p->tsi * j->ngroups + g]) {
            *pp = ls->next;
            listener_retire(pt, ls);
            continue;
        }
        /* The swap is on this thread: accepts and Host lookups here see
         * the old array or the new one, never a torn one. */
        free(ls->vhosts);
        ls->vhosts = take(j, p->tsi, g);
        ls->nvhosts = j->n[g];
        pp = &ls->next;
    }
    for (ls = j->nls[p->tsi]; ls; ls = next) {
        next = ls->next;
        g = group_of(j, ls->vhosts[0]);
        if (!serving || g < 0 || !j->arr[p->tsi * j->ngroups + g]) {
            socket_free(ls);
            continue;
        }
        free(ls->vhosts);
        ls->vhosts = take(j, p->tsi, g);
        ls->nvhosts = j->n[g];
        ls->next = pt->listeners;
        pt->listeners = ls;
        if (pt->evops->listen(pt, ls) < 0)
            kite_err("reload: listen on port %d failed on service thread %d", ls->port, p->tsi);
    }
    /* A UDP vhost's socket is its conn: a retired one closes with it. */
    for (c = pt->conns; c; c = cnext) {
        cnext = c->cnext;
        if ((c->flags & KITE__C_UDP) && retired(j, c->vh))
            kite__conn_drain(c);
    }
    if (atomic_fetch_sub_explicit(&j->left, 1, memory_order_acq_rel) != 1)
        return;
    /* Every thread has switched: nothing points at the old set but the
     * conns still on it. */
    for (i = 0; i < j->nretired; i++)
        kite__vhost_unref(j->retired[i]);
    free(j->nls);
    job_free(j, ctx->npts);
    atomic_fetch_sub(&ctx->reload_pending, 1);
}

int kite_context_reload_commit(kite_context_t *ctx)
{
    struct kite__reload *r = ctx->reload;
    kite__post_t **nodes;
    struct job *j;
    int i;

    if (!r)
        return KITE_ESTATE;
    j = job_new(ctx, r->staged);
    nodes = calloc((size_t)ctx->npts, sizeof(*nodes));
    for (i = 0; j && nodes && i < ctx->npts; i++)
        if (!(nodes[i] = malloc(sizeof(**nodes))))
            break;
    if (!j || !nodes || i < ctx->npts) {
        /* Nothing changed: the caller can still abort. */
        for (i = 0; nodes && i < ctx->npts; i++)
            free(nodes[i]);
        free(nodes);
        if (j)
            job_free(j, ctx->npts);
        return KITE_ENOMEM;
    }
    j->nls = r->nls;
    atomic_init(&j->left, ctx->npts);
    ctx->vhosts = r->staged;
    ctx->reload = NULL;
    free(r);
    atomic_fetch_add(&ctx->reload_pending, 1);
    for (i = 0; i < ctx->npts; i++) {
        j->parts[i].j = j;
        j->parts[i].tsi = i;
        nodes[i]->cb = apply;
        nodes[i]->arg = &j->parts[i];
        kite__post_node(&ctx->pts[i], nodes[i]);
    }
    free(nodes);
    return 0;
}
