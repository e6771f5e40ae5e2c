/*
 * protocol-dumb-increment: "dumb-increment-protocol", on the wire as in
 * libwebsockets 4.1. Every connection has its own counter, sent as
 * decimal text every 50 ms from a per-connection timer that asks for
 * on_writeable (so a peer that does not read gets no backlog: requests
 * coalesce and on_writeable waits until the output has drained).
 * Received messages: "reset\n" sets the counter to 0, "closeme\n" closes
 * with 1001 "seeya"; anything under 6 bytes is ignored.
 * Per-vhost option "options": bit 0 set means never send (lws's -n).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kite.h"
#include "protocol-dumb-increment.h"

#define DUMB_PERIOD_US 50000

struct pss {
    kite_timer_t timer;
    unsigned number;
};

struct vhd {
    unsigned options;
};

static int quiet(const kite_conn_t *c)
{
    const struct vhd *vhd =
        kite_vhost_protocol_data(kite_conn_vhost(c), &kite_protocol_dumb_increment);

    return vhd && (vhd->options & 1);
}

static void tick(kite_conn_t *c, kite_timer_t *t)
{
    kite_callback_on_writable(c);
    kite_timer_schedule(c, t, DUMB_PERIOD_US, tick);
}

static int on_vhost_init(kite_vhost_t *vh, const kite_pvo_t *pvo, void **vhd)
{
    const char *opt = kite_pvo_get(pvo, "options");
    struct vhd *v = calloc(1, sizeof(*v));

    (void)vh;
    if (!v)
        return 1;
    v->options = opt ? (unsigned)strtoul(opt, NULL, 0) : 0;
    *vhd = v;
    return 0;
}

static void on_vhost_destroy(kite_vhost_t *vh, void *vhd)
{
    (void)vh;
    free(vhd);
}

static int on_established(kite_conn_t *c, void *user)
{
    struct pss *pss = user;

    pss->number = 0;
    if (quiet(c))
        return 0;
    /* The first number goes out at once, right behind the 101; then one
     * every period. */
    return kite_callback_on_writable(c) < 0 ||
           kite_timer_schedule(c, &pss->timer, DUMB_PERIOD_US, tick) < 0;
}

static int on_writeable(kite_conn_t *c, void *user)
{
    struct pss *pss = user;
    char buf[16];
    int n = snprintf(buf, sizeof(buf), "%u", pss->number), r;

    r = kite_write(c, buf, (size_t)n, KITE_WRITE_TEXT);
    if (r == KITE_EAGAIN)
        return 0; /* the output cap is full: skip this tick */
    if (r < 0)
        return 1;
    pss->number++;
    return 0;
}

static int on_receive(kite_conn_t *c, void *user, const void *in, size_t len, unsigned flags)
{
    struct pss *pss = user;

    /* Commands are whole short messages; the rest of a long one, or a
     * message under 6 bytes, means nothing to this protocol. */
    if (!(flags & KITE_RX_FIRST) || len < 6)
        return 0;
    if (!memcmp(in, "reset\n", 6))
        pss->number = 0;
    else if (len >= 8 && !memcmp(in, "closeme\n", 8)) {
        kite_notice("dumb-increment: closing as requested");
        kite_close(c, KITE_WS_CLOSE_GOING_AWAY, "seeya");
    }
    return 0;
}

static void on_closed(kite_conn_t *c, void *user, int code)
{
    struct pss *pss = user;

    (void)c;
    (void)code;
    kite_timer_cancel(&pss->timer);
}

const kite_protocol_t kite_protocol_dumb_increment = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "dumb-increment-protocol",
    .per_session_size = sizeof(struct pss),
    .on_vhost_init = on_vhost_init,
    .on_vhost_destroy = on_vhost_destroy,
    .on_established = on_established,
    .on_receive = on_receive,
    .on_writeable = on_writeable,
    .on_closed = on_closed,
    /* As with lws servers, which never negotiate permessage-deflate on it
     * (lws wants an rx buffer of 128 bytes for the extension, and this
     * protocol's is 10): the lws test client cannot build its inflater
     * for this protocol and drops compressed frames. */
    .flags = KITE_PROTO_NO_DEFLATE,
};

#ifdef KITE_BUILD_PLUGIN
KITE_PLUGIN_EXPORT("dumb-increment", &kite_protocol_dumb_increment);
#endif
