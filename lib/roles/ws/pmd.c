/*
 * The permessage-deflate codec (RFC 7692 7.2) over zlib raw deflate: one
 * deflate stream for what this side sends and one inflate stream for
 * what it receives, each made at first use. Every write is flushed with
 * Z_SYNC_FLUSH so the peer can inflate each fragment as it comes; the
 * last one of a message loses its 00 00 ff ff, which the receiving side
 * puts back before the message ends. A direction without context
 * takeover frees its stream after each message, so an idle connection
 * holds no zlib memory then.
 *
 * zlib refuses a raw deflate window of 8 bits. kite deflates with 9 when
 * 8 was agreed: zlib never emits a distance above its window minus 262
 * (MAX_DIST), 250 bytes for a 512-byte window, so every stream it makes
 * then inflates with a 256-byte window, and the peer is told 8 (the RFC
 * lets a response only lower an offered server_max_window_bits).
 *
 * What this side receives is inflated with the largest window (15)
 * whatever the peer's agreed one. zlib checks a match's distance against
 * the window only for history from earlier inflate() calls; within one
 * call it reaches back through everything that call wrote. A peer that
 * breaks its agreed window would then be refused or accepted by how its
 * bytes happened to be split into reads (found by fuzz-ws). With 32 KiB,
 * the most DEFLATE can address, the split never matters: a match reaching
 * before the stream's start is always refused, and one within 32 KiB
 * always accepted.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "roles/ws/pmd.h"

struct kite__pmd {
    z_stream *tx, *rx;
    size_t mem; /* bytes zlib holds, z_streams included */
    int level, mem_level;
    uint8_t tx_bits;
    uint8_t tx_nct, rx_nct; /* free the stream after each message */
    uint8_t tail;           /* bytes of 00 00 ff ff inflated for this message */
};

static const unsigned char tail4[4] = {0x00, 0x00, 0xff, 0xff};

/* zlib's allocations carry their size in front, for kite__pmd_memory(). */
typedef union {
    size_t n;
    max_align_t align;
} zhdr_t;

static voidpf zalloc(voidpf opaque, uInt items, uInt size)
{
    kite__pmd_t *z = opaque;
    size_t n = (size_t)items * size;
    zhdr_t *h = malloc(sizeof(*h) + n);

    if (!h)
        return Z_NULL;
    h->n = n;
    z->mem += n;
    return h + 1;
}

static void zfree(voidpf opaque, voidpf p)
{
    kite__pmd_t *z = opaque;
    zhdr_t *h = (zhdr_t *)p - 1;

    z->mem -= h->n;
    free(h);
}

kite__pmd_t *kite__pmd_create(const kite__pmd_params_t *p, const kite_ws_deflate_t *conf_in,
                              int is_client)
{
    kite_ws_deflate_t conf;
    kite__pmd_t *z = calloc(1, sizeof(*z));
    int tx_max;

    if (!z)
        return NULL;
    kite__pmd_conf_defaults(&conf, conf_in);
    z->level = conf.level;
    z->mem_level = conf.mem_level;
    tx_max = is_client ? p->client_max_window_bits : p->server_max_window_bits;
    z->tx_bits = (uint8_t)(tx_max < conf.window_bits ? tx_max : conf.window_bits);
    if (z->tx_bits < 9)
        z->tx_bits = 9; /* see the top of the file */
    z->tx_nct = is_client ? p->client_no_context_takeover : p->server_no_context_takeover;
    z->rx_nct = is_client ? p->server_no_context_takeover : p->client_no_context_takeover;
    return z;
}

static void tx_free(kite__pmd_t *z)
{
    if (z->tx) {
        deflateEnd(z->tx);
        free(z->tx);
        z->mem -= sizeof(z_stream);
        z->tx = NULL;
    }
}

static void rx_free(kite__pmd_t *z)
{
    if (z->rx) {
        inflateEnd(z->rx);
        free(z->rx);
        z->mem -= sizeof(z_stream);
        z->rx = NULL;
    }
    z->tail = 0;
}

void kite__pmd_destroy(kite__pmd_t *z)
{
    if (!z)
        return;
    tx_free(z);
    rx_free(z);
    free(z);
}

size_t kite__pmd_memory(const kite__pmd_t *z)
{
    return z ? z->mem : 0;
}

static z_stream *stream_new(kite__pmd_t *z)
{
    z_stream *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    s->zalloc = zalloc;
    s->zfree = zfree;
    s->opaque = z;
    z->mem += sizeof(*s);
    return s;
}

static int tx_open(kite__pmd_t *z)
{
    if (z->tx)
        return 0;
    if (!(z->tx = stream_new(z)))
        return KITE_ENOMEM;
    if (deflateInit2(z->tx, z->level, Z_DEFLATED, -(int)z->tx_bits, z->mem_level,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
        free(z->tx);
        z->mem -= sizeof(z_stream);
        z->tx = NULL;
        return KITE_ENOMEM;
    }
    return 0;
}

static int rx_open(kite__pmd_t *z)
{
    if (z->rx)
        return 0;
    if (!(z->rx = stream_new(z)))
        return KITE_ENOMEM;
    if (inflateInit2(z->rx, -MAX_WBITS) != Z_OK) {
        free(z->rx);
        z->mem -= sizeof(z_stream);
        z->rx = NULL;
        return KITE_ENOMEM;
    }
    return 0;
}

size_t kite__pmd_deflate_bound(const kite__pmd_t *z, size_t len)
{
    (void)z;
    /* Above zlib's own conservative bound (stored blocks, 9-bit literal
     * codes), plus the sync flush's empty stored block and bits pending. */
    return len + (len >> 3) + (len >> 6) + 64;
}

int kite__pmd_deflate(kite__pmd_t *z, const void *in, size_t len, int fin, void *out,
                      size_t *out_len)
{
    size_t cap = kite__pmd_deflate_bound(z, len), n;
    unsigned char *o = out;
    z_stream *s;
    int r;

    if ((r = tx_open(z)) < 0)
        return r;
    s = z->tx;
    s->next_in = (Bytef *)(uintptr_t)in;
    s->next_out = o;
    /* A message can exceed uInt: feed it in pieces, flushing after the last. */
    for (;;) {
        size_t left = len - (size_t)(s->next_in - (const Bytef *)in);
        size_t room = cap - (size_t)(s->next_out - o);
        int last = left <= (1u << 30);

        s->avail_in = last ? (uInt)left : 1u << 30;
        s->avail_out = room > (1u << 30) ? 1u << 30 : (uInt)room;
        r = deflate(s, last ? Z_SYNC_FLUSH : Z_NO_FLUSH);
        /* Output room to spare means all input taken (and flushed). */
        if ((r != Z_OK && r != Z_BUF_ERROR) || !s->avail_out || s->avail_in) {
            tx_free(z); /* never reused after a failure */
            return KITE_EIO;
        }
        if (last)
            break;
    }
    n = (size_t)(s->next_out - o);
    if (fin) {
        if (n >= 4 && !memcmp(o + n - 4, tail4, 4))
            n -= 4;
        else if (n == 0)
            o[n++] = 0x00; /* RFC 7692 7.2.3.6: an empty block, its LEN/NLEN removed */
        if (z->tx_nct)
            tx_free(z);
    }
    *out_len = n;
    return 0;
}

/* Inflate what z->rx holds as input into its output room. */
static int run_inflate(kite__pmd_t *z)
{
    z_stream *s = z->rx;
    int r;

    for (;;) {
        r = inflate(s, Z_SYNC_FLUSH);
        if (r == Z_STREAM_END) {
            /* A block with BFINAL set ends the stream; what follows (the
             * tail at least) starts a new one. */
            inflateReset(s);
            if (s->avail_in && s->avail_out)
                continue;
            return 0;
        }
        if (r == Z_OK || r == Z_BUF_ERROR)
            return 0;
        return r == Z_MEM_ERROR ? KITE_ENOMEM : KITE_EPROTO;
    }
}

int kite__pmd_inflate(kite__pmd_t *z, const void *in, size_t len, int fin, void *out, size_t cap,
                      size_t *used, size_t *produced)
{
    z_stream *s;
    int r;

    *used = *produced = 0;
    if ((r = rx_open(z)) < 0)
        return r;
    s = z->rx;
    if (cap > (1u << 30))
        cap = 1u << 30;
    if (len > (1u << 30)) {
        len = 1u << 30; /* the rest comes in the next call */
        fin = 0;
    }
    s->next_in = (Bytef *)(uintptr_t)in;
    s->avail_in = (uInt)len;
    s->next_out = out;
    s->avail_out = (uInt)cap;
    r = run_inflate(z);
    *used = len - s->avail_in;
    *produced = cap - s->avail_out;
    if (r < 0)
        goto fail;
    if (!s->avail_out)
        return 1;
    if (*used < len) {
        r = KITE_EPROTO; /* input left with room to spare: zlib is stuck */
        goto fail;
    }
    if (!fin)
        return 0;
    if (z->tail < 4) {
        s->next_in = (Bytef *)(uintptr_t)(tail4 + z->tail);
        s->avail_in = 4u - z->tail;
        r = run_inflate(z);
        z->tail = (uint8_t)(4u - s->avail_in);
        *produced = cap - s->avail_out;
        if (r < 0)
            goto fail;
        if (!s->avail_out)
            return 1;
    }
    /* The message is complete, and must end between blocks: data cut
     * short would leave the next message inflating from its middle. */
    if (!(s->data_type & 128)) {
        r = KITE_EPROTO;
        goto fail;
    }
    z->tail = 0;
    if (z->rx_nct)
        rx_free(z);
    return 0;
fail:
    rx_free(z);
    return r;
}
