/*
 * The ready list of a service thread: connections with an on_writeable
 * due or output to flush. It is run at the end of every loop pass, so a
 * writeable request on a conn with nothing pending costs no system call.
 * Each pass runs only the conns that were on the list when it started: a
 * handler that asks again from on_writeable is served in the next pass,
 * never in a busy loop inside this one.
 */
#include "event/event.h"

void kite__ready_add(kite_conn_t *c)
{
    kite__pt_t *pt = c->pt;

    if (c->flags & (KITE__C_READY | KITE__C_CLOSED))
        return;
    c->flags |= KITE__C_READY;
    c->rnext = NULL;
    c->rprev = pt->ready_tail;
    if (pt->ready_tail)
        pt->ready_tail->rnext = c;
    else {
        pt->ready_head = c;
        pt->evops->ready_pending(pt, 1);
    }
    pt->ready_tail = c;
}

void kite__ready_remove(kite_conn_t *c)
{
    kite__pt_t *pt = c->pt;

    if (!(c->flags & KITE__C_READY))
        return;
    c->flags &= ~KITE__C_READY;
    if (c->rprev)
        c->rprev->rnext = c->rnext;
    else
        pt->ready_head = c->rnext;
    if (c->rnext)
        c->rnext->rprev = c->rprev;
    else
        pt->ready_tail = c->rprev;
    c->rnext = c->rprev = NULL;
    if (!pt->ready_head)
        pt->evops->ready_pending(pt, 0);
}

void kite__pt_run_ready(kite__pt_t *pt)
{
    kite_conn_t *last = pt->ready_tail, *c;
    int done = 0;

    while (!done && (c = pt->ready_head)) {
        done = c == last;
        kite__ready_remove(c);
        c->flags |= KITE__C_IN_SVC;
        if (c->flags & KITE__C_DIRTY)
            kite__out_flush(c);
        if ((c->flags & KITE__C_RX_HELD) && !(c->flags & (KITE__C_RX_OFF | KITE__C_CLOSED))) {
            c->flags &= ~KITE__C_RX_HELD;
            c->role->on_rx_resume(c);
        }
        if ((c->flags & KITE__C_WANT_CB) && !c->out_head &&
            !(c->flags & (KITE__C_ASYNC_W | KITE__C_CLOSING | KITE__C_CLOSED))) {
            c->flags &= ~KITE__C_WANT_CB;
            if (c->role->on_writeable && c->role->on_writeable(c) < 0)
                kite__conn_close_now(c, KITE_CLOSE_WRITEABLE);
        }
        kite__conn_leave(c);
    }
}

int kite_callback_on_writable(kite_conn_t *c)
{
    if (c->flags & (KITE__C_CLOSED | KITE__C_CLOSING))
        return KITE_ECLOSED;
    c->flags |= KITE__C_WANT_CB;
    if (!c->out_head && !(c->flags & KITE__C_ASYNC_W))
        kite__ready_add(c);
    return 0;
}
