/*
 * protocol-echo: "echo" sends every message back with its opcode and its
 * fragmentation as kite delivered it: each piece that arrives is queued
 * and written back as one frame (the first piece as TEXT or BINARY, the
 * others as CONTINUATION, all but the last with NO_FIN), as lws's
 * minimal-ws-server-echo does. The queue is a small per-connection ring
 * (allocated when the first message arrives, so idle connections cost
 * nothing); reading from the peer is paused while it holds more than
 * ECHO_HIGH pieces or ECHO_HIGH_BYTES bytes and resumed below the low
 * marks, so a peer that sends without reading never grows the server.
 * Pieces of up to INLINE_MAX bytes are kept inside the ring entry, which
 * saves an allocation per message for small-message traffic.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kite.h"
#include "protocol-echo.h"

#define RING_MIN        8  /* entries at first; the ring doubles as needed */
#define ECHO_HIGH       48 /* pause reading at this many queued pieces */
#define ECHO_LOW        16 /* and resume at this many */
#define ECHO_HIGH_BYTES (256u << 10)
#define ECHO_LOW_BYTES  (64u << 10)
#define INLINE_MAX      24
#define WRITES_PER_CALL 16          /* at most this many pieces per on_writeable, */
#define BATCH_BYTES     (16u << 10) /* while less than this is queued in kite */

struct piece {
    uint32_t len;
    uint32_t flags; /* kite_write() flags */
    union {
        unsigned char *p;
        unsigned char in[INLINE_MAX];
    } u;
};

struct pss {
    struct piece *ring;
    uint32_t cap;  /* entries in ring, a power of two */
    uint32_t head; /* next entry to fill (free-running) */
    uint32_t tail; /* next entry to send */
    size_t bytes;  /* payload bytes queued */
    unsigned paused : 1;
};

static const unsigned char *piece_data(const struct piece *pc)
{
    return pc->len > INLINE_MAX ? pc->u.p : pc->u.in;
}

static void piece_free(struct piece *pc)
{
    if (pc->len > INLINE_MAX)
        free(pc->u.p);
}

static int grow(struct pss *pss)
{
    uint32_t cap = pss->cap ? pss->cap * 2 : RING_MIN, i, n = pss->head - pss->tail;
    struct piece *r = malloc(cap * sizeof(*r));

    if (!r)
        return KITE_ENOMEM;
    for (i = 0; i < n; i++)
        r[i] = pss->ring[(pss->tail + i) & (pss->cap - 1)];
    free(pss->ring);
    pss->ring = r;
    pss->cap = cap;
    pss->tail = 0;
    pss->head = n;
    return 0;
}

static int on_receive(kite_conn_t *c, void *user, const void *in, size_t len, unsigned flags)
{
    struct pss *pss = user;
    struct piece *pc;

    if (len > UINT32_MAX)
        return 1;
    if (pss->head - pss->tail == pss->cap && grow(pss) < 0)
        return 1;
    pc = &pss->ring[pss->head & (pss->cap - 1)];
    pc->len = (uint32_t)len;
    pc->flags = !(flags & KITE_RX_FIRST)   ? KITE_WRITE_CONTINUATION
                : (flags & KITE_RX_BINARY) ? KITE_WRITE_BINARY
                                           : KITE_WRITE_TEXT;
    if (!(flags & KITE_RX_FINAL))
        pc->flags |= KITE_WRITE_NO_FIN;
    if (len > INLINE_MAX) {
        pc->u.p = malloc(len);
        if (!pc->u.p)
            return 1;
        memcpy(pc->u.p, in, len);
    } else if (len) {
        memcpy(pc->u.in, in, len);
    }
    pss->head++;
    pss->bytes += len;
    if (!pss->paused && (pss->head - pss->tail >= ECHO_HIGH || pss->bytes >= ECHO_HIGH_BYTES)) {
        pss->paused = 1;
        kite_rx_flow_control(c, 0);
    }
    kite_callback_on_writable(c);
    return 0;
}

static int on_writeable(kite_conn_t *c, void *user)
{
    struct pss *pss = user;
    int i, r;

    /* A few pieces per call while little is queued: kite sends what one
     * callback wrote in one writev, so a pipelining peer costs one loop
     * pass per batch, and the output per connection stays small (the
     * effect of lws's "write until lws_send_pipe_choked()"). */
    for (i = 0; i < WRITES_PER_CALL && pss->tail != pss->head; i++) {
        struct piece *pc = &pss->ring[pss->tail & (pss->cap - 1)];

        if (i && kite_conn_pending(c) >= BATCH_BYTES)
            break;
        r = kite_write(c, piece_data(pc), pc->len, pc->flags);
        if (r == KITE_EAGAIN)
            break; /* over the output cap: try again once it drains */
        if (r < 0)
            return 1;
        pss->bytes -= pc->len;
        piece_free(pc);
        pss->tail++;
    }
    if (pss->tail != pss->head)
        kite_callback_on_writable(c);
    if (pss->paused && pss->head - pss->tail <= ECHO_LOW && pss->bytes <= ECHO_LOW_BYTES) {
        pss->paused = 0;
        kite_rx_flow_control(c, 1);
    }
    return 0;
}

static void on_closed(kite_conn_t *c, void *user, int code)
{
    struct pss *pss = user;

    (void)c;
    (void)code;
    for (; pss->tail != pss->head; pss->tail++)
        piece_free(&pss->ring[pss->tail & (pss->cap - 1)]);
    free(pss->ring);
    pss->ring = NULL;
}

const kite_protocol_t kite_protocol_echo = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "echo",
    .per_session_size = sizeof(struct pss),
    .on_receive = on_receive,
    .on_writeable = on_writeable,
    .on_closed = on_closed,
};

#ifdef KITE_BUILD_PLUGIN
KITE_PLUGIN_EXPORT("echo", &kite_protocol_echo);
#endif
