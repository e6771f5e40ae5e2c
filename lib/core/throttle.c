/*
 * throttle on the write path: a token bucket per throttled connection.
 * Tokens (in thousandths of a byte, so that no fraction is lost between
 * refills) grow at the rate and are capped at a tenth of a second's
 * worth, so a transfer starts with at most that burst and then keeps the
 * rate. A flush writes only what the tokens allow; when they run out it
 * arms a timer for when the next burst is due and writes nothing until
 * then (no write interest, no polling). Unthrottled connections carry a
 * NULL pointer and the flush costs one test.
 */
#include <stdlib.h>

#include "event/event.h"

struct kite__thr {
    kite_timer_t tm;
    uint32_t rate;   /* bytes per second; 0: not throttled now */
    uint64_t last;   /* loop ms of the last refill */
    uint64_t tokens; /* thousandths of a byte */
};

static uint64_t burst(const struct kite__thr *th)
{
    uint64_t b = (uint64_t)th->rate * 100; /* a tenth of a second, in thousandths */

    return b < 1000 ? 1000 : b;
}

static void due(kite_conn_t *c, kite_timer_t *t)
{
    (void)t;
    kite__out_flush(c);
}

int kite__conn_throttle(kite_conn_t *c, uint32_t rate)
{
    struct kite__thr *th = c->thr;

    if (!th && !rate)
        return 0;
    if (!th) {
        if (!(th = c->thr = calloc(1, sizeof(*th))))
            return KITE_ENOMEM;
        th->tm.conn = c;
        th->tm.cb = due;
        th->last = kite__pt_now(c->pt);
    }
    if (th->rate != rate) {
        th->rate = rate;
        th->tokens = 0;
        th->last = kite__pt_now(c->pt);
    }
    if (!rate && th->tm.heap_idx) {
        /* No longer throttled: what was waiting goes now. */
        kite__timer_del(c->pt, &th->tm);
        kite__conn_mark_dirty(c);
    }
    return 0;
}

void kite__conn_throttle_free(kite_conn_t *c)
{
    if (!c->thr)
        return;
    kite__timer_del(c->pt, &c->thr->tm);
    free(c->thr);
    c->thr = NULL;
}

size_t kite__thr_budget(kite_conn_t *c)
{
    struct kite__thr *th = c->thr;
    uint64_t now;

    if (!th || !th->rate)
        return (size_t)-1;
    if (th->tm.heap_idx)
        return 0; /* waiting for the timer already */
    now = kite__pt_now(c->pt);
    th->tokens += (now - th->last) * th->rate;
    th->last = now;
    if (th->tokens > burst(th))
        th->tokens = burst(th);
    return (size_t)(th->tokens / 1000);
}

void kite__thr_spend(kite_conn_t *c, size_t n)
{
    struct kite__thr *th = c->thr;

    if (!th || !th->rate)
        return;
    th->tokens = th->tokens > (uint64_t)n * 1000 ? th->tokens - (uint64_t)n * 1000 : 0;
}

void kite__thr_wait(kite_conn_t *c)
{
    struct kite__thr *th = c->thr;
    uint64_t need = burst(th) - (th->tokens < burst(th) ? th->tokens : burst(th));
    uint64_t ms = (need + th->rate - 1) / th->rate;

    if (th->tm.heap_idx)
        return;
    kite__timer_set(c->pt, &th->tm, kite__pt_now(c->pt) + (ms ? ms : 1));
    /* The peer is not the one holding the bytes back: the send timeout
     * counts from when they may go. */
    kite__conn_set_state_timeout(c, (unsigned)ms + kite__send_ms(c));
}
