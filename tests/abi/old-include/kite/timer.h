/*
 * Per-connection timers on the service thread's timer heap. The timer
 * struct is caller-allocated (typically in the per-session user memory)
 * and must stay valid until it fires or is cancelled; closing the
 * connection cancels its timers.
 */
#ifndef KITE_TIMER_H
#define KITE_TIMER_H

typedef struct kite_timer_s kite_timer_t;
typedef void (*kite_timer_cb)(kite_conn_t *c, kite_timer_t *t);
typedef void (*kite_vhost_timer_cb)(kite_vhost_t *vh, kite_timer_t *t);

struct kite_timer_s {
    /* private: */
    uint64_t deadline; /* when it is due (loop ms) */
    uint64_t key;      /* its place in the heap: <= deadline, see core/timer.c */
    uint32_t heap_idx; /* 1-based; 0: not in the heap */
    uint16_t flags;
    uint16_t key_tsi; /* vhost timers: the service thread */
    union {
        kite_conn_t *conn; /* connection timers */
        kite_vhost_t *vh;  /* vhost timers (flags say which) */
    };
    union {
        kite_timer_cb cb;
        kite_vhost_timer_cb vcb;
    };
    kite_timer_t *next;
};

/**
 * kite_timer_schedule() - call @cb once, @us microseconds from now
 * (millisecond resolution). Rescheduling a pending timer moves it.
 * Returns 0 or KITE_ECLOSED.
 */
KITE_EXTERN int kite_timer_schedule(kite_conn_t *c, kite_timer_t *t, uint64_t us, kite_timer_cb cb);
/** kite_timer_cancel() - cancel @t if it is pending; safe to call twice. */
KITE_EXTERN void kite_timer_cancel(kite_timer_t *t);

/**
 * kite_vhost_timer_schedule() - call @cb(@vh, @t) once on service thread
 * @tsi, @us microseconds from now. Call it from that thread (for another
 * thread, from a kite_post() callback). Cancel with kite_timer_cancel();
 * pending vhost timers are dropped when the vhost or the context is
 * destroyed. Returns 0, KITE_EINVAL, or KITE_ESTATE for a vhost a reload
 * retired whose last connection has gone.
 */
KITE_EXTERN int kite_vhost_timer_schedule(kite_vhost_t *vh, int tsi, kite_timer_t *t, uint64_t us,
                                          kite_vhost_timer_cb cb);

#endif
