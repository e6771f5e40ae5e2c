/*
 * The context and its service threads: creation with defaults, running
 * all threads (kite_run) or one pass of one (kite_service), cancel and
 * posts from other threads, and destruction that leaves a foreign loop
 * with only its owner's handles. Also the per-thread cached Date value.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/abi.h"
#include "event/event.h"
#include "misc/misc.h"

static void set_defaults(kite_context_info_t *i)
{
    if (i->count_threads < 1)
        i->count_threads = 1;
    if (!i->timeout_secs)
        i->timeout_secs = 10;
    if (!i->keepalive_timeout)
        i->keepalive_timeout = 5;
    if (!i->send_timeout)
        i->send_timeout = 30;
    if (!i->max_output)
        i->max_output = 1024 * 1024;
    if (!i->max_header_size)
        i->max_header_size = 8192;
    if (!i->max_uri_len)
        i->max_uri_len = 8192;
    if (!i->h2_max_streams)
        i->h2_max_streams = 100;
    if (!i->h2_window)
        i->h2_window = 256 * 1024;
    if (i->h2_window > 0x7fffffff)
        i->h2_window = 0x7fffffff;
    if (!i->h2_settings_timeout)
        i->h2_settings_timeout = 10;
    if (!i->max_headers || i->max_headers > 128)
        i->max_headers = i->max_headers > 128 ? 128 : 64;
}

static void pt_free(kite__pt_t *pt)
{
    const kite__module_t *const *m;
    kite__post_t *p;

    pt->evops->pt_destroy(pt);
    /* Posts that never ran get their turn now, so their args can be freed. */
    while ((p = pt->posts)) {
        pt->posts = p->next;
        p->cb(pt->ctx, p->arg);
        free(p);
    }
    kite__pt_segs_free(pt);
    kite__pt_timers_drop(pt);
    for (m = kite__modules; *m; m++)
        if ((*m)->pt_free)
            (*m)->pt_free(pt);
    free(pt->user_spare);
    free(pt->heap);
    free(pt->rxbuf);
    pthread_mutex_destroy(&pt->post_lock);
}

/* A flat copy of a name/value list in one block: the caller's list (a
 * config's, which a reload may free) need not outlive the context. */
static kite_pvo_t *pvo_copy(const kite_pvo_t *l)
{
    const kite_pvo_t *p;
    size_t n = 0, bytes = 0;
    kite_pvo_t *out;
    char *s;

    for (p = l; p; p = p->next, n++)
        bytes += strlen(p->name ? p->name : "") + strlen(p->value ? p->value : "") + 2;
    out = malloc(n * sizeof(*out) + bytes);
    if (!out)
        return NULL;
    s = (char *)(out + n);
    for (p = l, n = 0; p; p = p->next, n++) {
        out[n].next = p->next ? &out[n + 1] : NULL;
        out[n].options = NULL;
        out[n].name = strcpy(s, p->name ? p->name : "");
        s += strlen(s) + 1;
        out[n].value = strcpy(s, p->value ? p->value : "");
        s += strlen(s) + 1;
    }
    return out;
}

kite_context_t *kite_context_create(const kite_context_info_t *info, int *err)
{
    kite_context_info_t full = KITE_CONTEXT_INFO_INIT();
    kite_extpoll_t xp;
    int r;

    if (info && (r = kite__context_info_in(&full, &xp, info, 1)) < 0) {
        if (err)
            *err = r;
        return NULL;
    }
    return kite__context_create(&full, err);
}

kite_context_t *kite__context_create(const kite_context_info_t *info, int *err)
{
    kite_context_t *ctx;
    const kite__module_t *const *m;
    int i, r = KITE_ENOMEM;
    struct sigaction sa;

    if ((info->foreign_loop || info->extpoll) && info->count_threads > 1) {
        kite_err("foreign_loop and extpoll serve one thread (foreign_loops[] serves several)");
        r = KITE_EINVAL;
        goto fail0;
    }
    if ((info->foreign_loop || info->foreign_loops) && info->extpoll) {
        kite_err("foreign_loop and extpoll exclude each other");
        r = KITE_EINVAL;
        goto fail0;
    }
    if (info->extpoll &&
        (!info->extpoll->add_fd || !info->extpoll->del_fd || !info->extpoll->change_mode)) {
        kite_err("extpoll needs add_fd, del_fd and change_mode");
        r = KITE_EINVAL;
        goto fail0;
    }
    /* Writes use MSG_NOSIGNAL, but sendfile can still raise SIGPIPE. Leave
     * an application's own handler alone. */
    if (!sigaction(SIGPIPE, NULL, &sa) && sa.sa_handler == SIG_DFL)
        signal(SIGPIPE, SIG_IGN);

    ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        goto fail0;
    ctx->info = *info;
    if (info->extpoll) {
        ctx->xpoll = *info->extpoll;
        ctx->info.extpoll = &ctx->xpoll;
    }
    set_defaults(&ctx->info);
    ctx->user = info->user;
    ctx->server_string = strdup(info->server_string ? info->server_string : "kite");
    ctx->npts = ctx->info.count_threads;
    ctx->pts = calloc((size_t)ctx->npts, sizeof(*ctx->pts));
    if (!ctx->server_string || !ctx->pts || kite__peers_create(ctx) < 0)
        goto fail;
    for (m = kite__modules; *m; m++)
        if ((*m)->ctx_init && (r = (*m)->ctx_init(ctx, info)) < 0)
            goto fail;
    r = KITE_ENOMEM;
    if (info->reject_service_keywords && !(ctx->info.reject_service_keywords = ctx->reject_copy =
                                               pvo_copy(info->reject_service_keywords)))
        goto fail;
    r = KITE_ENOMEM;
    for (i = 0; i < ctx->npts; i++) {
        kite__pt_t *pt = &ctx->pts[i];

        pt->ctx = ctx;
        pt->tsi = i;
        pt->posts_tail = &pt->posts;
        pthread_mutex_init(&pt->post_lock, NULL);
        pt->rxbuf = malloc(KITE__RXBUF_SIZE);
        if (!pt->rxbuf)
            goto fail;
        pt->evops = info->extpoll ? &kite__event_extpoll : &kite__event_uv;
        r = pt->evops->pt_init(pt, info->foreign_loops ? info->foreign_loops[i]
                                   : i                 ? NULL
                                                       : info->foreign_loop);
        if (r < 0)
            goto fail;
    }
    return ctx;

fail:
    kite_context_destroy(ctx);
fail0:
    if (err)
        *err = r;
    return NULL;
}

void kite_context_destroy(kite_context_t *ctx)
{
    const kite__module_t *const *m;
    int i;

    if (!ctx)
        return;
    /* Vhosts whose last reference goes from here on are freed at once. */
    atomic_store(&ctx->destroying, 1);
    kite_context_reload_abort(ctx);
    for (i = 0; ctx->pts && i < ctx->npts; i++)
        if (ctx->pts[i].rxbuf)
            pt_free(&ctx->pts[i]);
    kite__vhosts_destroy(ctx);
    kite__peers_destroy(ctx);
    for (m = kite__modules; *m; m++)
        ;
    while (m-- > kite__modules)
        if ((*m)->ctx_destroy)
            (*m)->ctx_destroy(ctx);
    free(ctx->pts);
    free(ctx->server_string);
    free(ctx->reject_copy);
    free(ctx);
}

/* initial-exec: a plain %fs-relative access, not a __tls_get_addr call on every
 * read callback (libkite is linked at startup, or dlopen()ed into a process
 * with static TLS to spare, as glibc reserves). */
static __thread kite__pt_t *current_pt __attribute__((tls_model("initial-exec")));

kite__pt_t *kite__pt_current(void)
{
    return current_pt;
}

void kite__pt_set_current(kite__pt_t *pt)
{
    current_pt = pt;
}

static void run_pt(kite__pt_t *pt, int timeout_ms)
{
    kite__pt_t *saved = current_pt;

    current_pt = pt;
    pt->evops->run(pt, timeout_ms);
    current_pt = saved;
}

static void *thread_main(void *arg)
{
    run_pt(arg, -1);
    return NULL;
}

int kite_run(kite_context_t *ctx)
{
    int i, started = 1;

    if (ctx->info.extpoll)
        return KITE_ENOTSUP; /* the application runs its poll loop */
    atomic_store(&ctx->cancel, 0);
    ctx->running = 1;
    for (i = 1; i < ctx->npts; i++) {
        ctx->pts[i].stop = 0;
        if (pthread_create(&ctx->pts[i].thread, NULL, thread_main, &ctx->pts[i])) {
            kite_err("cannot start service thread %d", i);
            break;
        }
        started++;
    }
    if (started == ctx->npts)
        run_pt(&ctx->pts[0], -1);
    /* Thread 0 returns on cancel: stop and join the others. */
    atomic_store(&ctx->cancel, 1);
    for (i = 1; i < started; i++) {
        ctx->pts[i].evops->wakeup(&ctx->pts[i]);
        pthread_join(ctx->pts[i].thread, NULL);
    }
    ctx->running = 0;
    return started == ctx->npts ? 0 : KITE_ENOMEM;
}

int kite_service(kite_context_t *ctx, int tsi, int timeout_ms)
{
    if (tsi < 0 || tsi >= ctx->npts)
        return KITE_EINVAL;
    if (ctx->info.extpoll)
        return KITE_ENOTSUP;
    if (atomic_exchange(&ctx->cancel, 0))
        return 1;
    run_pt(&ctx->pts[tsi], timeout_ms);
    return atomic_exchange(&ctx->cancel, 0) ? 1 : 0;
}

void kite_cancel_service(kite_context_t *ctx)
{
    int i;

    /* Only an atomic store and uv_async_send: safe from a signal handler. */
    atomic_store(&ctx->cancel, 1);
    for (i = 0; i < ctx->npts; i++)
        ctx->pts[i].evops->wakeup(&ctx->pts[i]);
}

int kite_post(kite_context_t *ctx, int tsi, kite_post_cb cb, void *arg)
{
    kite__pt_t *pt;
    kite__post_t *p;

    if (!cb || tsi < 0 || tsi >= ctx->npts)
        return KITE_EINVAL;
    p = malloc(sizeof(*p));
    if (!p)
        return KITE_ENOMEM;
    p->cb = cb;
    p->arg = arg;
    pt = &ctx->pts[tsi];
    kite__post_node(pt, p);
    return 0;
}

void kite__post_node(kite__pt_t *pt, kite__post_t *p)
{
    p->next = NULL;
    pthread_mutex_lock(&pt->post_lock);
    *pt->posts_tail = p;
    pt->posts_tail = &p->next;
    pthread_mutex_unlock(&pt->post_lock);
    pt->evops->wakeup(pt);
}

void kite__pt_run_posts(kite__pt_t *pt)
{
    kite__post_t *p;

    pthread_mutex_lock(&pt->post_lock);
    p = pt->posts;
    pt->posts = NULL;
    pt->posts_tail = &pt->posts;
    pthread_mutex_unlock(&pt->post_lock);
    kite__drain_check(pt);
    while (p) {
        kite__post_t *next = p->next;
        p->cb(pt->ctx, p->arg);
        free(p);
        p = next;
    }
}

const char *kite__pt_date(kite__pt_t *pt)
{
    time_t now = time(NULL);

    if (now != pt->date_sec) {
        pt->date_sec = now;
        kite__http_date(now, pt->date);
    }
    return pt->date;
}

void *kite_context_user(const kite_context_t *ctx)
{
    return ctx->user;
}

int kite_context_count_threads(const kite_context_t *ctx)
{
    return ctx->npts;
}
