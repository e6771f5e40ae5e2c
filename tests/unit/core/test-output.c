/*
 * A connection's output queue (lib/core/output.c) over a fake transport
 * that takes a set number of bytes per write: queued pieces leave in one
 * writev, in order; what the kernel refuses goes to one asynchronous write
 * (under the send timeout) and nothing more is written until it is done;
 * the role hears on_drain once the queue is empty, and a waiting
 * on_writeable is listed then; a failed write, now or in the background,
 * closes with KITE_CLOSE_WRITE; output queued outside the conn's own event
 * puts it on the ready list once.
 */
#include "event/event.h"

static int ready_adds, leaves, close_reason = -1;
static unsigned timeout_ms;

/* The pieces of core the output queue calls. */
void kite__ready_add(kite_conn_t *c)
{
    (void)c;
    ready_adds++;
}
void kite__conn_leave(kite_conn_t *c)
{
    c->flags &= ~KITE__C_IN_SVC;
    leaves++;
}
void kite__conn_close_now(kite_conn_t *c, kite_close_reason_t reason)
{
    close_reason = (int)reason;
    c->flags |= KITE__C_CLOSING;
}
void kite__conn_set_state_timeout(kite_conn_t *c, unsigned ms)
{
    (void)c;
    timeout_ms = ms;
}

#include "core/output.c"

#include "tap.h"

/* --- the fake transport: takes @budget bytes per writev ------------------ */

static char sink[300000];
static size_t sink_len, budget = (size_t)-1, async_len;
static int writevs, asyncs, fail_writes, drains;

static ssize_t x_writev(kite_conn_t *c, const struct iovec *iov, int n, int more)
{
    size_t k = 0;
    int i;

    (void)c;
    (void)more;
    writevs++;
    if (fail_writes)
        return KITE_EPIPE;
    for (i = 0; i < n && k < budget; i++) {
        size_t take = iov[i].iov_len < budget - k ? iov[i].iov_len : budget - k;
        memcpy(sink + sink_len, iov[i].iov_base, take);
        sink_len += take;
        k += take;
    }
    return (ssize_t)k;
}
static int x_write_async(kite_conn_t *c, const struct iovec *iov, int n)
{
    int i;

    (void)c;
    asyncs++;
    for (i = 0; i < n; i++) {
        memcpy(sink + sink_len, iov[i].iov_base, iov[i].iov_len);
        sink_len += iov[i].iov_len;
        async_len += iov[i].iov_len;
    }
    return 0;
}
static size_t x_written(kite_conn_t *c, size_t bytes)
{
    (void)c;
    return bytes;
}
static const struct kite__xport_ops xops = {
    .name = "fake", .writev = x_writev, .write_async = x_write_async, .written = x_written};
static const kite__xport_t xport = {.ops = &xops};

static void on_drain(kite_conn_t *c)
{
    (void)c;
    drains++;
}
static const struct kite__role_ops role = {.name = "fake", .on_drain = on_drain};

int main(void)
{
    static struct kite_context_s ctx;
    static kite__pt_t pt;
    static struct kite_conn_s c;
    static char big[100000];
    size_t i;

    ctx.info.send_timeout = 30;
    pt.ctx = &ctx;
    c.pt = &pt;
    c.xp = &xport;
    c.role = &role;
    for (i = 0; i < sizeof(big); i++)
        big[i] = (char)('a' + i % 26);

    kite__out_append(&c, "one ", 4);
    kite__out_append(&c, "two ", 4);
    kite__out_append(&c, "three", 5);
    tap_is_int(c.out_bytes, 13, "three pieces queued");
    tap_is_int(ready_adds, 1, "outside its event the conn is listed once to flush");
    tap_ok(c.flags & KITE__C_DIRTY, "and marked dirty");
    kite__out_flush(&c);
    tap_is_int(writevs, 1, "they leave in one writev");
    tap_ok(sink_len == 13 && !memcmp(sink, "one two three", 13), "in order");
    tap_ok(!c.out_head && !c.out_bytes && !(c.flags & KITE__C_DIRTY), "the queue is empty");
    tap_is_int(drains, 1, "on_drain");

    /* The kernel takes 1000 bytes: the rest goes in the background. */
    sink_len = 0;
    budget = 1000;
    c.flags |= KITE__C_IN_SVC | KITE__C_WANT_CB;
    ready_adds = 0;
    kite__out_append(&c, big, sizeof(big));
    tap_is_int(ready_adds, 0, "inside its event the conn is not listed");
    kite__out_flush(&c);
    tap_ok(asyncs == 1 && async_len == sizeof(big) - 1000,
           "what the kernel refused went to one asynchronous write (%zu)", async_len);
    tap_ok(c.flags & KITE__C_ASYNC_W, "which is in flight");
    tap_is_int(timeout_ms, 30000, "under the send timeout");
    tap_is_int(c.out_bytes, sizeof(big) - 1000, "the queue keeps the bytes in flight until then");
    kite__out_append(&c, "tail", 4);
    kite__out_flush(&c);
    tap_ok(writevs == 2 && asyncs == 1, "nothing is written while it is in flight");
    budget = (size_t)-1;
    kite__out_write_done(&c, 0, async_len);
    tap_ok(!(c.flags & KITE__C_ASYNC_W), "the background write is done");
    tap_ok(sink_len == sizeof(big) + 4 && !memcmp(sink, big, sizeof(big)) &&
               !memcmp(sink + sizeof(big), "tail", 4),
           "every byte left in order, the tail after it");
    tap_ok(!c.out_head && !c.out_bytes, "the queue is empty");
    tap_is_int(drains, 2, "on_drain once more");
    tap_is_int(ready_adds, 1, "the waiting on_writeable is listed");
    tap_is_int(leaves, 1, "the event was left");
    tap_ok(pt.nseg_free > 0 && pt.nseg_free <= MAX_FREE_SEGS, "segments kept for reuse (%d)",
           (int)pt.nseg_free);

    fail_writes = 1;
    kite__out_append(&c, "x", 1);
    kite__out_flush(&c);
    tap_is_int(close_reason, KITE_CLOSE_WRITE, "a failed write closes: KITE_CLOSE_WRITE");
    c.flags &= ~KITE__C_CLOSING;
    close_reason = -1;
    fail_writes = 0;
    budget = 0;
    kite__out_flush(&c);
    tap_ok(c.flags & KITE__C_ASYNC_W, "a write the kernel takes none of goes to the background");
    kite__out_write_done(&c, KITE_EPIPE, 0);
    tap_is_int(close_reason, KITE_CLOSE_WRITE, "and its failure closes: KITE_CLOSE_WRITE");
    kite__out_free(&c);
    tap_ok(!c.out_head && !c.out_tail && !c.out_bytes, "kite__out_free empties the queue");
    kite__pt_segs_free(&pt);
    return tap_done();
}
