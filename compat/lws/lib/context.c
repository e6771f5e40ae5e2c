/*
 * lws contexts over kite contexts: creation (the default vhost, the loop:
 * lws's own poll() loop over kite's extpoll fds, kite's libuv loops, or
 * the application's foreign libuv loops), the service calls, the
 * *_POLL_FD callbacks for applications that poll themselves, and the
 * registry that finds the lws objects of a kite vhost (plugins loaded by
 * kited meet kite vhosts the layer did not create).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lws_context *contexts;

void lwsk_registry_lock(void)
{
    pthread_mutex_lock(&reg_lock);
}

void lwsk_registry_unlock(void)
{
    pthread_mutex_unlock(&reg_lock);
}

/* Called with the registry locked: the lws vhost of @kv, made if needed. */
struct lws_vhost *lwsk_vhost_for(kite_vhost_t *kv)
{
    kite_context_t *kc = kite_vhost_context(kv);
    struct lws_context *cx;
    struct lws_vhost *vh;

    for (cx = contexts; cx && cx->kc != kc; cx = cx->next)
        ;
    if (!cx) {
        if (!(cx = calloc(1, sizeof(*cx))))
            return NULL;
        cx->kc = kc;
        cx->timer_vh = kv;
        cx->count_threads = kite_context_count_threads(kc);
        cx->next = contexts;
        contexts = cx;
    }
    for (vh = cx->vhosts; vh; vh = vh->next)
        if (vh->kv == kv)
            return vh;
    if (!(vh = calloc(1, sizeof(*vh))))
        return NULL;
    vh->cx = cx;
    vh->kv = kv;
    vh->name = strdup(kite_vhost_name(kv));
    vh->next = cx->vhosts;
    cx->vhosts = vh;
    return vh;
}

void lwsk_vpr_release(lwsk_vpr_t *vpr)
{
    struct lws_vhost *vh = vpr->vh, **pv;
    struct lws_context *cx = vh->cx, **pc;
    int i;

    lwsk_registry_lock();
    for (i = 0; i < vh->nvpr; i++)
        if (vh->vpr[i] == vpr) {
            memmove(&vh->vpr[i], &vh->vpr[i + 1], (size_t)(vh->nvpr - i - 1) * sizeof(*vh->vpr));
            vh->nvpr--;
            break;
        }
    free(vpr);
    if (!vh->nvpr) {
        for (pv = &cx->vhosts; *pv; pv = &(*pv)->next)
            if (*pv == vh) {
                *pv = vh->next;
                break;
            }
        if (cx->timer_vh == vh->kv)
            cx->timer_vh = cx->vhosts ? cx->vhosts->kv : NULL;
        free(vh->vpr);
        free(vh->name);
        free(vh);
        if (!cx->vhosts && !cx->own) {
            for (pc = &contexts; *pc; pc = &(*pc)->next)
                if (*pc == cx) {
                    *pc = cx->next;
                    break;
                }
            free(cx);
        }
    }
    lwsk_registry_unlock();
}

lwsk_vpr_t *lwsk_vpr_find(struct lws_vhost *vh, const struct lws_protocols *p)
{
    int i;

    if (!vh || !p)
        return NULL;
    for (i = 0; i < vh->nvpr; i++)
        if (vh->vpr[i]->t->lp == p)
            return vh->vpr[i];
    for (i = 0; i < vh->nvpr; i++)
        if (p->name && !strcmp(vh->vpr[i]->t->lp->name, p->name))
            return vh->vpr[i];
    return NULL;
}

/* The application's poll loop: mirror kite's fds and tell protocols[0]. */
static void poll_cb(struct lws_context *cx, int reason, int fd, int events, int prev)
{
    struct lws_pollargs pa = {fd, events, prev};
    struct lws w;

    if (!cx->poll_proto)
        return;
    lwsk_fake_wsi(&w, cx->poll_vh, cx->poll_proto);
    cx->poll_proto->lp->callback(&w, (enum lws_callback_reasons)reason, NULL, &pa, 0);
}

static int find_fd(struct lws_context *cx, int fd)
{
    int i;

    for (i = 0; i < cx->nfds; i++)
        if (cx->fds[i].fd == fd)
            return i;
    return -1;
}

static int add_fd(void *user, int fd, short events)
{
    struct lws_context *cx = user;

    if (cx->nfds == cx->cap) {
        int cap = cx->cap ? cx->cap * 2 : 32;
        struct pollfd *n = realloc(cx->fds, (size_t)cap * sizeof(*n));
        if (!n)
            return -1;
        cx->fds = n;
        cx->cap = cap;
    }
    cx->fds[cx->nfds++] = (struct pollfd){.fd = fd, .events = events};
    poll_cb(cx, LWS_CALLBACK_ADD_POLL_FD, fd, events, 0);
    return 0;
}

static int del_fd(void *user, int fd)
{
    struct lws_context *cx = user;
    int i = find_fd(cx, fd);

    if (i < 0)
        return 0;
    poll_cb(cx, LWS_CALLBACK_DEL_POLL_FD, fd, 0, cx->fds[i].events);
    cx->fds[i] = cx->fds[--cx->nfds];
    return 0;
}

static int change_mode(void *user, int fd, short events)
{
    struct lws_context *cx = user;
    int i = find_fd(cx, fd), prev;

    if (i < 0)
        return 0;
    prev = cx->fds[i].events;
    cx->fds[i].events = events;
    poll_cb(cx, LWS_CALLBACK_CHANGE_MODE_POLL_FD, fd, events, prev);
    return 0;
}

/* The first vhost's protocols[0] hears of the fds, those before it too. */
void lwsk_poll_vhost_added(struct lws_context *cx, struct lws_vhost *vh)
{
    int i;

    if (!cx->extpoll || cx->poll_proto || !vh->ntramps)
        return;
    cx->poll_vh = vh;
    cx->poll_proto = &vh->tramps[0];
    for (i = 0; i < cx->nfds; i++)
        poll_cb(cx, LWS_CALLBACK_ADD_POLL_FD, cx->fds[i].fd, cx->fds[i].events, 0);
}

struct lws_context *lws_create_context(const struct lws_context_creation_info *info)
{
    kite_context_info_t ci = KITE_CONTEXT_INFO_INIT();
    kite_vhost_info_t ti = KITE_VHOST_INFO_INIT();
    static const kite_protocol_t *const none[] = {NULL};
    struct lws_context *cx = calloc(1, sizeof(*cx));
    int err;

    if (!cx)
        return NULL;
    cx->own = 1;
    cx->user = info->user;
    cx->options = info->options;
    cx->count_threads = info->count_threads ? (int)info->count_threads : 1;
    ci.count_threads = cx->count_threads;
    ci.server_string = info->server_string;
    ci.timeout_secs = info->timeout_secs;
    ci.keepalive_timeout = info->keepalive_timeout > 0 ? (unsigned)info->keepalive_timeout : 0;
    ci.ws_ping_pong_secs = info->retry_and_idle_policy
                               ? info->retry_and_idle_policy->secs_since_valid_ping
                               : info->ws_ping_pong_interval;
    ci.ip_limit_ah = info->ip_limit_ah;
    ci.ip_limit_wsi = info->ip_limit_wsi;
    ci.reject_service_keywords = (const kite_pvo_t *)info->reject_service_keywords;
    ci.user = cx;
    if ((info->options & LWS_SERVER_OPTION_LIBUV) && info->foreign_loops)
        ci.foreign_loops = (void *const *)info->foreign_loops;
    else if (!(info->options & LWS_SERVER_OPTION_LIBUV) && cx->count_threads == 1) {
        /* lws's default loop is poll() over its own fds: so is ours. */
        cx->extpoll = 1;
        cx->xp.struct_size = sizeof(cx->xp);
        cx->xp.add_fd = add_fd;
        cx->xp.del_fd = del_fd;
        cx->xp.change_mode = change_mode;
        cx->xp.user = cx;
        ci.extpoll = &cx->xp;
    }
    cx->kc = kite_context_create(&ci, &err);
    if (!cx->kc) {
        lwsl_err("lws_create_context: %s\n", kite_strerror(err));
        free(cx->fds);
        free(cx);
        return NULL;
    }
    lwsk_registry_lock();
    cx->next = contexts;
    contexts = cx;
    lwsk_registry_unlock();
    /* lws timers (sul) need a vhost on every context: a hidden one. */
    ti.name = "lws-timers";
    ti.options = KITE_VH_NO_LISTEN;
    ti.protocols = none;
    cx->timer_vh = kite_vhost_create(cx->kc, &ti, &err);
    if (info->pcontext)
        *info->pcontext = cx;
    if (!(info->options & LWS_SERVER_OPTION_EXPLICIT_VHOSTS) && !lws_create_vhost(cx, info)) {
        lws_context_destroy(cx);
        return NULL;
    }
    return cx;
}

void lwsk_vhost_free(struct lws_vhost *vh);

void lws_context_destroy(struct lws_context *cx)
{
    struct lws_context **pp;
    struct lws_vhost *vh;

    if (!cx || !cx->own)
        return;
    cx->stopping = 1;
    kite_context_destroy(cx->kc);
    lwsk_registry_lock();
    for (pp = &contexts; *pp; pp = &(*pp)->next)
        if (*pp == cx) {
            *pp = cx->next;
            break;
        }
    lwsk_registry_unlock();
    while ((vh = cx->vhosts)) {
        cx->vhosts = vh->next;
        lwsk_vhost_free(vh);
    }
    free(cx->fds);
    free(cx);
}

int lwsk_poll_service(struct lws_context *cx, int timeout_ms)
{
    int n, i, to = kite_next_timeout_ms(cx->kc, 0);

    if (timeout_ms >= 0 && (to < 0 || to > timeout_ms))
        to = timeout_ms;
    n = poll(cx->fds, (nfds_t)cx->nfds, to);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    for (i = 0; n > 0 && i < cx->nfds; i++) {
        struct pollfd p = cx->fds[i];
        if (!p.revents)
            continue;
        cx->fds[i].revents = 0;
        n--;
        kite_service_pollfd(cx->kc, &p);
    }
    return kite_service_pending(cx->kc, 0) < 0 ? -1 : 0;
}

int lws_service_tsi(struct lws_context *cx, int timeout_ms, int tsi)
{
    if (!cx || cx->stopping)
        return -1;
    /* lws 4.1: a negative timeout runs what is pending and does not wait
     * (an application polling itself calls it after servicing its fds). */
    if (timeout_ms < 0)
        return (cx->extpoll ? kite_service_pending(cx->kc, tsi) : kite_service(cx->kc, tsi, 0)) < 0
                   ? -1
                   : 0;
    if (cx->extpoll)
        return lwsk_poll_service(cx, -1);
    /* A bounded wait, so that a signal handler's flag is seen. */
    return kite_service(cx->kc, tsi, 250) < 0 ? -1 : 0;
}

int lws_service(struct lws_context *cx, int timeout_ms)
{
    return lws_service_tsi(cx, timeout_ms, 0);
}

int lws_service_fd_tsi(struct lws_context *cx, struct lws_pollfd *pfd, int tsi)
{
    if (!cx || cx->stopping)
        return -1;
    if (pfd && cx->extpoll && kite_service_pollfd(cx->kc, pfd) < 0)
        return -1;
    return kite_service_pending(cx->kc, tsi) < 0 ? -1 : 0;
}

int lws_service_fd(struct lws_context *cx, struct lws_pollfd *pfd)
{
    return lws_service_fd_tsi(cx, pfd, 0);
}

int lws_service_adjust_timeout(struct lws_context *cx, int timeout_ms, int tsi)
{
    int to = kite_next_timeout_ms(cx->kc, tsi);

    if (to < 0)
        return timeout_ms;
    return timeout_ms < 0 || to < timeout_ms ? to : timeout_ms;
}

int lws_callback_vhost_protocols_vhost(struct lws_vhost *vh, int reason, void *in, size_t len)
{
    struct lws w;
    int i;

    for (i = 0; i < vh->nvpr; i++) {
        lwsk_fake_wsi(&w, vh, vh->vpr[i]->t);
        w.user = NULL;
        if (vh->vpr[i]->t->lp->callback(&w, (enum lws_callback_reasons)reason, NULL, in, len))
            return 1;
    }
    return 0;
}

/* lws_cancel_service(): every protocol hears EVENT_WAIT_CANCELLED on the
 * service thread, soon. */
static void cancelled(kite_context_t *kc, void *arg)
{
    struct lws_context *cx = arg;
    struct lws_vhost *vh;

    for (vh = cx->vhosts; vh; vh = vh->next)
        lws_callback_vhost_protocols_vhost(vh, LWS_CALLBACK_EVENT_WAIT_CANCELLED, NULL, 0);
}

void lws_cancel_service(struct lws_context *cx)
{
    int i;

    if (!cx || cx->stopping)
        return;
    for (i = 0; i < cx->count_threads; i++)
        kite_post(cx->kc, i, cancelled, cx);
}

void lws_cancel_service_pt(struct lws *wsi)
{
    lws_cancel_service(lws_get_context(wsi));
}

void *lws_context_user(struct lws_context *cx)
{
    return cx->user;
}

int lws_get_count_threads(struct lws_context *cx)
{
    return cx->count_threads;
}

kite_context_t *lws_kite_context(struct lws_context *cx)
{
    return cx->kc;
}

int lws_context_is_deprecated(struct lws_context *cx)
{
    return 0;
}

const char *lws_canonical_hostname(struct lws_context *cx)
{
    static char host[256];

    if (!host[0] && gethostname(host, sizeof(host) - 1))
        strcpy(host, "localhost");
    return host;
}
