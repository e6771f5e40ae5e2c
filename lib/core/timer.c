/*
 * The timer heap of a service thread: a binary min-heap of kite_timer_t
 * driven by the backend's one timer. Deadlines that move later (the
 * keep-alive timeout after every request) do not touch the heap: a timer
 * keeps its old key, and when that key comes due and the real deadline
 * is later it is simply pushed down again. Only earlier deadlines sift.
 */
#include <stdlib.h>

#include "event/event.h"

#define T_CONN  1 /* a kite_timer_schedule() timer, linked on its conn */
#define T_VHOST 2 /* a kite_vhost_timer_schedule() timer */

uint64_t kite__pt_now(kite__pt_t *pt)
{
    return pt->evops->now_ms(pt);
}

static void place(kite__pt_t *pt, uint32_t i, kite_timer_t *t)
{
    pt->heap[i] = t;
    t->heap_idx = i;
}

static void sift_up(kite__pt_t *pt, uint32_t i)
{
    kite_timer_t *t = pt->heap[i];

    while (i > 1 && pt->heap[i / 2]->key > t->key) {
        place(pt, i, pt->heap[i / 2]);
        i /= 2;
    }
    place(pt, i, t);
}

static void sift_down(kite__pt_t *pt, uint32_t i)
{
    kite_timer_t *t = pt->heap[i];
    uint32_t n = pt->heap_len, ch;

    while ((ch = i * 2) <= n) {
        if (ch < n && pt->heap[ch + 1]->key < pt->heap[ch]->key)
            ch++;
        if (pt->heap[ch]->key >= t->key)
            break;
        place(pt, i, pt->heap[ch]);
        i = ch;
    }
    place(pt, i, t);
}

static void arm(kite__pt_t *pt)
{
    uint64_t now;

    if (!pt->heap_len) {
        pt->evops->timer_arm(pt, UINT64_MAX);
        return;
    }
    now = kite__pt_now(pt);
    pt->evops->timer_arm(pt, pt->heap[1]->key > now ? pt->heap[1]->key - now : 0);
}

void kite__timer_set(kite__pt_t *pt, kite_timer_t *t, uint64_t deadline)
{
    t->deadline = deadline;
    if (t->heap_idx) {
        if (deadline >= t->key)
            return;
        t->key = deadline;
        sift_up(pt, t->heap_idx);
    } else {
        if (pt->heap_len + 1 >= pt->heap_cap) {
            uint32_t cap = pt->heap_cap ? pt->heap_cap * 2 : 64;
            kite_timer_t **h = realloc(pt->heap, cap * sizeof(*h));
            if (!h) {
                kite_err("timer heap: out of memory");
                return;
            }
            pt->heap = h;
            pt->heap_cap = cap;
        }
        t->key = deadline;
        place(pt, ++pt->heap_len, t);
        sift_up(pt, pt->heap_len);
    }
    if (pt->heap[1] == t)
        arm(pt);
}

void kite__timer_del(kite__pt_t *pt, kite_timer_t *t)
{
    uint32_t i = t->heap_idx;
    kite_timer_t *last;

    if (!i)
        return;
    t->heap_idx = 0;
    last = pt->heap[pt->heap_len--];
    if (last != t) {
        place(pt, i, last);
        sift_down(pt, i);
        sift_up(pt, last->heap_idx);
    }
    /* A timer that now fires early re-arms itself; no need to move it. */
}

static void unlink_conn_timer(kite_timer_t *t)
{
    kite_timer_t **pp;

    if (!(t->flags & T_CONN) || !t->conn)
        return;
    for (pp = &t->conn->timers; *pp; pp = &(*pp)->next)
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    t->flags &= ~T_CONN;
}

void kite__pt_run_timers(kite__pt_t *pt)
{
    uint64_t now = kite__pt_now(pt);
    kite_timer_t *t;
    kite_conn_t *c;

    while (pt->heap_len && (t = pt->heap[1])->key <= now) {
        if (t->deadline > now) {
            t->key = t->deadline;
            sift_down(pt, 1);
            continue;
        }
        kite__timer_del(pt, t);
        if (t->flags & T_VHOST) {
            t->flags &= ~T_VHOST;
            t->vcb(t->vh, t);
            continue;
        }
        c = t->conn;
        unlink_conn_timer(t);
        if (!c || (c->flags & KITE__C_CLOSED))
            continue;
        c->flags |= KITE__C_IN_SVC;
        t->cb(c, t);
        kite__conn_leave(c);
    }
    arm(pt);
}

int kite_timer_schedule(kite_conn_t *c, kite_timer_t *t, uint64_t us, kite_timer_cb cb)
{
    if (c->flags & (KITE__C_CLOSED | KITE__C_CLOSING))
        return KITE_ECLOSED;
    if (!(t->flags & T_CONN)) {
        t->heap_idx = 0;
        t->conn = c;
        t->next = c->timers;
        c->timers = t;
        t->flags |= T_CONN;
    }
    t->cb = cb;
    if (t->heap_idx)
        kite__timer_del(c->pt, t);
    kite__timer_set(c->pt, t, kite__pt_now(c->pt) + (us + 999) / 1000);
    return 0;
}

void kite_timer_cancel(kite_timer_t *t)
{
    if (t->flags & T_VHOST) {
        kite__timer_del(&t->vh->ctx->pts[t->key_tsi], t);
        t->flags &= ~T_VHOST;
        return;
    }
    if (!(t->flags & T_CONN) || !t->conn)
        return;
    kite__timer_del(t->conn->pt, t);
    unlink_conn_timer(t);
}

int kite_vhost_timer_schedule(kite_vhost_t *vh, int tsi, kite_timer_t *t, uint64_t us,
                              kite_vhost_timer_cb cb)
{
    kite__pt_t *pt;

    if (tsi < 0 || tsi >= vh->ctx->npts || (t->flags & T_CONN))
        return KITE_EINVAL;
    /* A vhost on its way out (its timers are being cancelled) takes none. */
    if (!atomic_load_explicit(&vh->refs, memory_order_acquire))
        return KITE_ESTATE;
    pt = &vh->ctx->pts[tsi];
    if (t->flags & T_VHOST)
        kite__timer_del(&vh->ctx->pts[t->key_tsi], t);
    else
        t->heap_idx = 0;
    t->flags |= T_VHOST;
    t->vh = vh;
    t->vcb = cb;
    t->key_tsi = (uint16_t)tsi;
    kite__timer_set(pt, t, kite__pt_now(pt) + (us + 999) / 1000);
    return 0;
}

void kite__pt_vhost_timers_cancel(kite__pt_t *pt, const kite_vhost_t *vh)
{
    kite_timer_t *list = NULL, *t;
    uint32_t i;

    /* Collect first: deleting reorders the heap under the scan. Vhost
     * timers do not use ->next otherwise. */
    for (i = 1; i <= pt->heap_len; i++) {
        t = pt->heap[i];
        if ((t->flags & T_VHOST) && t->vh == vh) {
            t->next = list;
            list = t;
        }
    }
    while ((t = list)) {
        list = t->next;
        t->next = NULL;
        kite__timer_del(pt, t);
        t->flags &= ~T_VHOST;
    }
}

void kite__pt_timer_schedule(kite__pt_t *pt, kite_timer_t *t, uint64_t ms, kite_vhost_timer_cb cb)
{
    if (t->flags & T_VHOST)
        kite__timer_del(pt, t);
    else
        t->heap_idx = 0;
    t->flags = T_VHOST;
    t->vh = NULL;
    t->vcb = cb;
    t->key_tsi = (uint16_t)pt->tsi;
    kite__timer_set(pt, t, kite__pt_now(pt) + ms);
}

void kite__pt_timers_drop(kite__pt_t *pt)
{
    uint32_t i;

    /* What is left are vhost and pt timers (conns cancel theirs when they
     * close): a kite_timer_cancel() after this must not reach the heap. */
    for (i = 1; i <= pt->heap_len; i++) {
        pt->heap[i]->heap_idx = 0;
        pt->heap[i]->flags &= ~T_VHOST;
    }
    pt->heap_len = 0;
    free(pt->heap);
    pt->heap = NULL;
    pt->heap_cap = 0;
}
