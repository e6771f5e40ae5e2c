/*
 * The ready list (lib/core/ready.c) with a fake backend and role: a
 * writeable request costs one list entry and one on_writeable however
 * often it is made; a pass runs only the conns listed when it started (a
 * handler asking again is served in the next pass, not in a busy loop);
 * the backend hears "pending" when the list fills and empties; a conn
 * taken off the middle leaves the list whole; on_writeable refusing
 * closes with KITE_CLOSE_WRITEABLE; flushing and held input come first.
 */
#include "event/event.h"

static int pending = -1, pending_calls;
static void fake_ready_pending(kite__pt_t *pt, int on)
{
    (void)pt;
    pending = on;
    pending_calls++;
}
static const struct kite__event_ops fake_ops = {.ready_pending = fake_ready_pending};

static int closed_reason[4] = {-1, -1, -1, -1}, flushed, resumed, left;
static struct kite_conn_s conns[4];

/* The pieces of core the ready list calls. */
void kite__out_flush(kite_conn_t *c)
{
    c->flags &= ~KITE__C_DIRTY;
    flushed++;
}
void kite__conn_leave(kite_conn_t *c)
{
    c->flags &= ~KITE__C_IN_SVC;
    left++;
}
void kite__conn_close_now(kite_conn_t *c, kite_close_reason_t reason)
{
    closed_reason[c - conns] = (int)reason;
    c->flags |= KITE__C_CLOSING;
}

#include "core/ready.c"

#include "tap.h"

static int writeable[4], again[4], refuse[4];

static int on_writeable(kite_conn_t *c)
{
    int i = (int)(c - conns);

    writeable[i]++;
    if (again[i]) {
        again[i]--;
        kite_callback_on_writable(c);
    }
    return refuse[i] ? -1 : 0;
}
static void on_rx_resume(kite_conn_t *c)
{
    (void)c;
    resumed++;
}
static const struct kite__role_ops role = {
    .name = "fake", .on_writeable = on_writeable, .on_rx_resume = on_rx_resume};

static int listed(const kite__pt_t *pt)
{
    const kite_conn_t *c;
    int n = 0;

    for (c = pt->ready_head; c; c = c->rnext, n++)
        if ((c->rnext ? c->rnext->rprev : pt->ready_tail) != c)
            return -1;
    return n;
}

int main(void)
{
    kite__pt_t pt = {.evops = &fake_ops};
    int i;

    for (i = 0; i < 4; i++) {
        conns[i].pt = &pt;
        conns[i].role = &role;
    }
    tap_is_int(kite_callback_on_writable(&conns[0]), 0, "a writeable request");
    kite_callback_on_writable(&conns[0]);
    tap_is_int(listed(&pt), 1, "asked twice, listed once");
    tap_ok(pending == 1 && pending_calls == 1, "the backend heard 'pending' once");
    kite_callback_on_writable(&conns[1]);
    kite_callback_on_writable(&conns[2]);
    tap_is_int(listed(&pt), 3, "three conns listed in order");
    kite__ready_remove(&conns[1]);
    tap_is_int(listed(&pt), 2, "one taken off the middle: the list is whole");
    tap_ok(pt.ready_head == &conns[0] && pt.ready_tail == &conns[2], "head and tail kept");
    kite_callback_on_writable(&conns[1]);

    again[0] = 1;
    kite__pt_run_ready(&pt);
    tap_ok(writeable[0] == 1 && writeable[1] == 1 && writeable[2] == 1,
           "one pass: one on_writeable each (%d %d %d)", writeable[0], writeable[1], writeable[2]);
    tap_is_int(listed(&pt), 1, "the one that asked again waits for the next pass");
    tap_is_int(left, 3, "every conn run was left (kite__conn_leave)");
    kite__pt_run_ready(&pt);
    tap_is_int(writeable[0], 2, "and gets it then");
    tap_ok(!pt.ready_head && pending == 0, "the list is empty and the backend told so");

    /* Output still queued: flushed, but no on_writeable before it drains. */
    conns[3].flags |= KITE__C_DIRTY | KITE__C_RX_HELD;
    conns[3].out_head = (void *)&conns[3];
    kite_callback_on_writable(&conns[3]);
    tap_is_int(listed(&pt), 0, "with output pending, on_writeable waits for the drain");
    kite__ready_add(&conns[3]);
    kite__pt_run_ready(&pt);
    tap_ok(flushed == 1 && resumed == 1, "a listed conn is flushed and its held input resumed");
    tap_is_int(writeable[3], 0, "no on_writeable while output is queued");
    conns[3].out_head = NULL;
    kite__ready_add(&conns[3]);
    refuse[3] = 1;
    kite__pt_run_ready(&pt);
    tap_is_int(writeable[3], 1, "once drained, the on_writeable comes");
    tap_is_int(closed_reason[3], KITE_CLOSE_WRITEABLE, "refusing it closes: KITE_CLOSE_WRITEABLE");
    tap_is_int(kite_callback_on_writable(&conns[3]), KITE_ECLOSED, "a closing conn: KITE_ECLOSED");
    conns[2].flags |= KITE__C_CLOSED;
    kite__ready_add(&conns[2]);
    tap_is_int(listed(&pt), 0, "a closed conn is never listed");
    return tap_done();
}
