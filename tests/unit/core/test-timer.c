/*
 * The timer heap (lib/core/timer.c) against a fake clock: timers fire in
 * deadline order, never early, exactly once; moving a deadline later does
 * not re-sift (the lazy path) yet still fires at the new time; cancelled
 * timers never fire; the backend timer is armed for the earliest key.
 */
#include <stdlib.h>

#include "event/event.h"

static uint64_t fake_now, armed_ms = UINT64_MAX;
static uint64_t fake_now_ms(kite__pt_t *pt)
{
    (void)pt;
    return fake_now;
}
static void fake_arm(kite__pt_t *pt, uint64_t ms)
{
    (void)pt;
    armed_ms = ms;
}
static const struct kite__event_ops fake_ops = {.now_ms = fake_now_ms, .timer_arm = fake_arm};

/* Conn-less pieces of core the timer code calls. */
void kite__conn_leave(kite_conn_t *c)
{
    c->flags &= ~KITE__C_IN_SVC;
}

#include "core/timer.c"

#include "tap.h"

#define N 2000

static kite__pt_t pt;
static struct kite_conn_s conn;
static kite_timer_t timers[N];
static uint64_t fired_at[N];
static int fired_count[N], order_ok = 1;
static uint64_t last_fire;

static void cb(kite_conn_t *c, kite_timer_t *t)
{
    int i = (int)(t - timers);

    (void)c;
    fired_count[i]++;
    fired_at[i] = fake_now;
    if (t->deadline < last_fire)
        order_ok = 0;
    last_fire = t->deadline;
}

int main(void)
{
    int i, early = 0, twice = 0, missing = 0, cancelled_fired = 0;
    uint64_t want[N];

    srand(42);
    pt.evops = &fake_ops;
    conn.pt = &pt;
    for (i = 0; i < N; i++) {
        timers[i].conn = &conn;
        timers[i].cb = cb;
        want[i] = 1 + (uint64_t)(rand() % 10000);
        kite__timer_set(&pt, &timers[i], want[i]);
    }
    tap_is_int(pt.heap_len, N, "all timers in the heap");
    tap_ok(armed_ms == pt.heap[1]->key, "backend armed for the earliest key");
    /* Move a third later (lazy path), a third earlier (sift), cancel some. */
    for (i = 0; i < N; i++) {
        if (i % 3 == 0) {
            want[i] += 5000;
            kite__timer_set(&pt, &timers[i], want[i]);
        } else if (i % 3 == 1 && want[i] > 10) {
            want[i] -= 10;
            kite__timer_set(&pt, &timers[i], want[i]);
        }
        if (i % 50 == 7) {
            kite__timer_del(&pt, &timers[i]);
            want[i] = 0;
        }
    }
    for (fake_now = 0; fake_now <= 16000; fake_now += 7)
        kite__pt_run_timers(&pt);
    for (i = 0; i < N; i++) {
        if (!want[i]) {
            cancelled_fired += fired_count[i];
            continue;
        }
        if (fired_count[i] == 0)
            missing++;
        if (fired_count[i] > 1)
            twice++;
        if (fired_count[i] && fired_at[i] < want[i])
            early++;
    }
    tap_is_int(missing, 0, "every live timer fired");
    tap_is_int(twice, 0, "none fired twice");
    tap_is_int(early, 0, "none fired before its deadline");
    tap_is_int(cancelled_fired, 0, "cancelled timers never fired");
    tap_ok(order_ok, "fired in deadline order");
    tap_is_int(pt.heap_len, 0, "heap empty at the end");
    tap_ok(armed_ms == UINT64_MAX, "backend timer disarmed when empty");
    free(pt.heap);
    return tap_done();
}
