/*
 * protocol-raw-test: "raw-test", the raw protocol of the test server, as
 * lws's protocol-lws-raw-test. On a raw TCP connection (a raw-only vhost,
 * or fallback-to-raw) every piece read is echoed back: it is queued and
 * written from on_writeable, and reading from the peer stops while more
 * than RAW_HIGH bytes are queued (kite_rx_flow_control()), so a peer that
 * sends without reading never grows the server. On an adopted FIFO (the
 * adopter marks the connection with kite_raw_test_mark_fifo()) each piece
 * is printed to stdout as "raw-test: fifo: <bytes>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kite.h"
#include "protocol-raw-test.h"

#define RAW_HIGH  (64u << 10) /* stop reading above this many queued bytes */
#define RAW_CHUNK (16u << 10) /* write at most this much per kite_write() */

struct pss {
    unsigned char *buf; /* queued bytes: buf[off, off + len) */
    size_t off, len, cap;
    unsigned fifo : 1;
    unsigned paused : 1;
};

void kite_raw_test_mark_fifo(kite_conn_t *c)
{
    struct pss *pss = kite_conn_user(c);

    if (pss)
        pss->fifo = 1;
}

static int queue(struct pss *pss, const void *in, size_t len)
{
    if (pss->off && pss->off + pss->len + len > pss->cap) {
        memmove(pss->buf, pss->buf + pss->off, pss->len);
        pss->off = 0;
    }
    if (pss->len + len > pss->cap) {
        size_t cap = pss->cap ? pss->cap : 4096;
        unsigned char *b;

        while (cap < pss->len + len)
            cap *= 2;
        b = realloc(pss->buf, cap);
        if (!b)
            return KITE_ENOMEM;
        pss->buf = b;
        pss->cap = cap;
    }
    memcpy(pss->buf + pss->off + pss->len, in, len);
    pss->len += len;
    return 0;
}

static int on_raw(kite_conn_t *c, void *user, const void *in, size_t len)
{
    struct pss *pss = user;

    if (pss->fifo) {
        printf("raw-test: fifo: %.*s", (int)len, (const char *)in);
        if (len && ((const char *)in)[len - 1] != '\n')
            putchar('\n');
        fflush(stdout);
        return 0;
    }
    if (!len)
        return 0;
    if (queue(pss, in, len) < 0)
        return 1;
    if (!pss->paused && pss->len > RAW_HIGH) {
        pss->paused = 1;
        kite_rx_flow_control(c, 0);
    }
    kite_callback_on_writable(c);
    return 0;
}

static int on_writeable(kite_conn_t *c, void *user)
{
    struct pss *pss = user;

    while (pss->len) {
        size_t n = pss->len < RAW_CHUNK ? pss->len : RAW_CHUNK;
        int r = kite_write(c, pss->buf + pss->off, n, KITE_WRITE_RAW);

        if (r == KITE_EAGAIN)
            break; /* over the output cap: again once it drains */
        if (r < 0)
            return 1;
        pss->off += n;
        pss->len -= n;
        if (kite_conn_pending(c) >= RAW_CHUNK)
            break; /* the kernel is not taking it: wait for the drain */
    }
    if (!pss->len)
        pss->off = 0;
    else
        kite_callback_on_writable(c);
    if (pss->paused && pss->len <= RAW_HIGH / 2) {
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
    if (pss->fifo) {
        printf("raw-test: fifo: closed\n");
        fflush(stdout);
    }
    free(pss->buf);
    pss->buf = NULL;
}

const kite_protocol_t kite_protocol_raw_test = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "raw-test",
    .per_session_size = sizeof(struct pss),
    .on_raw = on_raw,
    .on_writeable = on_writeable,
    .on_closed = on_closed,
};

#ifdef KITE_BUILD_PLUGIN
KITE_PLUGIN_EXPORT("raw-test", &kite_protocol_raw_test);
#endif
