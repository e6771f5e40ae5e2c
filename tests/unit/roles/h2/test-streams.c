/*
 * An HTTP/2 connection's table of stream conns (lib/roles/h2/stream.c)
 * on a fake backend, with the session closing so that no frame is made:
 * new streams are linked and counted, each a stream conn of the parent
 * (its socket is the parent's); a stream the peer reset or ended leaves
 * the table for the dead list with KITE_CLOSE_PEER / KITE_CLOSE_NORMAL,
 * one whose handler runs only when that handler leaves; the dead are
 * freed by the reaper, and the thread's conn count follows.
 */
#include "event/event.h"
#include "roles/h2/private-h2.h"

#include "tap.h"

static uint64_t f_now(kite__pt_t *pt)
{
    (void)pt;
    return 1000;
}
static void f_timer_arm(kite__pt_t *pt, uint64_t ms)
{
    (void)pt;
    (void)ms;
}
static void f_ready_pending(kite__pt_t *pt, int on)
{
    (void)pt;
    (void)on;
}
static const struct kite__event_ops evops = {
    .now_ms = f_now, .timer_arm = f_timer_arm, .ready_pending = f_ready_pending};

static int listed(const kite__h2s_t *s)
{
    int n = 0;

    for (; s; s = s->next)
        n++;
    return n;
}

int main(void)
{
    static struct kite_context_s ctx;
    static kite__pt_t pt;
    static struct kite_vhost_s vh;
    static struct kite_conn_s parent;
    static kite__h2_t h2;
    kite__h2s_t *s1, *s3, *s5;

    ctx.info.timeout_secs = 10;
    pt.ctx = &ctx;
    pt.evops = &evops;
    atomic_init(&vh.refs, 1);
    parent.pt = &pt;
    parent.vh = &vh;
    h2.c = &parent;
    h2.closing = 1; /* no session: streams only detach */

    s1 = kite__h2s_new(&h2, 1);
    s3 = kite__h2s_new(&h2, 3);
    s5 = kite__h2s_new(&h2, 5);
    tap_ok(s1 && s3 && s5, "three streams");
    if (!s1 || !s3 || !s5)
        return tap_done();
    tap_ok(h2.nstreams == 3 && listed(h2.streams) == 3, "in the table, counted");
    tap_is_int(pt.nconns, 3, "each a conn of the thread");
    tap_ok((s3->c.flags & KITE__C_STREAM) && kite__conn_sock(&s3->c) == &parent,
           "a stream conn whose socket is the parent's");
    tap_is_int((int)atomic_load(&vh.refs), 4, "holding the parent's vhost");

    kite__h2s_ended(s3, 8 /* CANCEL */);
    tap_ok(h2.nstreams == 2 && listed(h2.streams) == 2 && h2.dead == s3,
           "a stream the peer reset leaves the table for the dead list");
    tap_is_int(s3->c.close_reason, KITE_CLOSE_PEER, "KITE_CLOSE_PEER");

    s1->c.flags |= KITE__C_IN_SVC;
    kite__h2s_ended(s1, 0);
    tap_ok(h2.nstreams == 2 && h2.dead == s3, "one whose handler runs stays until it leaves");
    kite__conn_leave(&s1->c);
    tap_ok(h2.nstreams == 1 && h2.streams == s5 && listed(h2.dead) == 2, "then it goes (%u left)",
           h2.nstreams);
    tap_is_int(s1->c.close_reason, KITE_CLOSE_NORMAL, "ended without error: KITE_CLOSE_NORMAL");
    tap_is_int(pt.nconns, 1, "the thread counts one conn");

    kite__conn_close_now(&s5->c, KITE_CLOSE_TIMEOUT);
    tap_ok(!h2.streams && !h2.nstreams && listed(h2.dead) == 3, "the last one closes");
    kite__h2s_reap(&h2);
    tap_ok(!h2.dead && !pt.nconns, "the reaper frees the dead");
    tap_is_int((int)atomic_load(&vh.refs), 1, "and the vhost is let go");
    kite__pt_segs_free(&pt);
    return tap_done();
}
