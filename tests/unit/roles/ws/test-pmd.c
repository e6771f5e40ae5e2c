/*
 * Unit tests for the permessage-deflate codec and negotiation
 * (lib/roles/ws/pmd.c, pmd-negotiate.c): the RFC 7692 7.2.3 examples both
 * ways, context takeover and its absence (with the zlib memory freed),
 * every window-bits pairing a negotiation can produce, 1 MiB random and
 * repetitive messages, small messages inflated from every split into
 * two pieces and byte by byte with one byte of output room, corrupt
 * data, and the server's and client's negotiation vectors.
 */
#include <stdlib.h>

#include "misc/path.c"
#include "roles/ws/pmd-negotiate.c"
#include "roles/ws/pmd.c"
#include "tap.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const kite_ws_deflate_t conf_default;

static kite__pmd_params_t params(int snct, int cnct, int sbits, int cbits)
{
    kite__pmd_params_t p = {(uint8_t)snct, (uint8_t)cnct, (uint8_t)sbits, (uint8_t)cbits};
    return p;
}

/* Compress one message (one fragment, or pieces of @frag bytes). */
static unsigned char *deflate_msg(kite__pmd_t *z, const void *in, size_t len, size_t frag,
                                  size_t *out_len)
{
    unsigned char *out =
        malloc(kite__pmd_deflate_bound(z, len) + 64 * (len / (frag ? frag : 1) + 1));
    size_t off = 0, n = 0, k;

    do {
        size_t piece = frag && len - off > frag ? frag : len - off;
        if (kite__pmd_deflate(z, (const char *)in + off, piece, off + piece == len, out + n, &k) <
            0) {
            free(out);
            return NULL;
        }
        n += k;
        off += piece;
    } while (off < len);
    *out_len = n;
    return out;
}

/* Inflate a whole message given in pieces cut at @cuts, with @cap bytes of
 * output room per call. Returns the message (malloc'd) or NULL on error. */
static unsigned char *inflate_msg(kite__pmd_t *z, const unsigned char *in, size_t len,
                                  const size_t *cuts, size_t ncuts, size_t cap, size_t *out_len)
{
    size_t from = 0, n = 0, room = 1024, i;
    unsigned char *out = malloc(room), *buf = malloc(cap);

    for (i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : len, used, got;
        int fin = i == ncuts, r;
        do {
            r = kite__pmd_inflate(z, in + from, to - from, fin, buf, cap, &used, &got);
            if (r < 0)
                goto fail;
            from += used;
            if (n + got > room) {
                while (n + got > room)
                    room *= 2;
                out = realloc(out, room);
            }
            memcpy(out + n, buf, got);
            n += got;
        } while (r == 1);
        if (from != to)
            goto fail;
    }
    free(buf);
    *out_len = n;
    return out;
fail:
    free(buf);
    free(out);
    return NULL;
}

static int bytes_eq(const void *a, size_t an, const void *b, size_t bn)
{
    return an == bn && (!an || !memcmp(a, b, an));
}

static void test_rfc_examples(void)
{
    static const unsigned char hello1[] = {0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00};
    static const unsigned char hello2[] = {0xf2, 0x00, 0x11, 0x00, 0x00};
    static const unsigned char stored[] = {0x00, 0x05, 0x00, 0xfa, 0xff, 0x48,
                                           0x65, 0x6c, 0x6c, 0x6f, 0x00};
    static const unsigned char two_blocks[] = {0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff,
                                               0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00};
    static const unsigned char bfinal[] = {0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00};
    kite__pmd_params_t p = params(0, 0, 15, 15);
    kite__pmd_t *srv = kite__pmd_create(&p, &conf_default, 0);
    kite__pmd_t *cli = kite__pmd_create(&p, &conf_default, 1);
    unsigned char *c, *m;
    size_t cn, mn, cut = 3;

    c = deflate_msg(srv, "Hello", 5, 0, &cn);
    tap_ok(c && bytes_eq(c, cn, hello1, sizeof(hello1)),
           "7.2.3.1: \"Hello\" is f2 48 cd c9 c9 07 00");
    free(c);
    c = deflate_msg(srv, "Hello", 5, 0, &cn);
    tap_ok(c && bytes_eq(c, cn, hello2, sizeof(hello2)),
           "7.2.3.2: the second \"Hello\" with context takeover is f2 00 11 00 00");
    free(c);

    m = inflate_msg(cli, hello1, sizeof(hello1), NULL, 0, 64, &mn);
    tap_ok(m && bytes_eq(m, mn, "Hello", 5), "7.2.3.1: f2 48 cd c9 c9 07 00 inflates to Hello");
    free(m);
    m = inflate_msg(cli, hello2, sizeof(hello2), NULL, 0, 64, &mn);
    tap_ok(m && bytes_eq(m, mn, "Hello", 5), "7.2.3.2: f2 00 11 00 00 after it inflates to Hello");
    free(m);
    kite__pmd_destroy(cli);

    cli = kite__pmd_create(&p, &conf_default, 1);
    m = inflate_msg(cli, hello1, sizeof(hello1), &cut, 1, 64, &mn);
    tap_ok(m && bytes_eq(m, mn, "Hello", 5), "7.2.3.1: fragments f2 48 cd | c9 c9 07 00");
    free(m);
    kite__pmd_destroy(cli);
    cli = kite__pmd_create(&p, &conf_default, 1);
    m = inflate_msg(cli, stored, sizeof(stored), NULL, 0, 64, &mn);
    tap_ok(m && bytes_eq(m, mn, "Hello", 5), "7.2.3.3: a stored block");
    free(m);
    m = inflate_msg(cli, two_blocks, sizeof(two_blocks), NULL, 0, 64, &mn);
    tap_ok(m && bytes_eq(m, mn, "Hello", 5), "7.2.3.4: two DEFLATE blocks in one message");
    free(m);
    kite__pmd_destroy(cli);
    cli = kite__pmd_create(&p, &conf_default, 1);
    m = inflate_msg(cli, bfinal, sizeof(bfinal), NULL, 0, 64, &mn);
    tap_ok(m && bytes_eq(m, mn, "Hello", 5), "7.2.3.5: a block with BFINAL set");
    free(m);
    m = inflate_msg(cli, hello1, sizeof(hello1), NULL, 0, 64, &mn);
    tap_ok(m && bytes_eq(m, mn, "Hello", 5), "a message after the BFINAL one");
    free(m);

    c = deflate_msg(srv, "", 0, 0, &cn);
    tap_ok(c && cn == 1 && c[0] == 0, "7.2.3.6: an empty message is the single byte 00");
    m = c ? inflate_msg(cli, c, cn, NULL, 0, 64, &mn) : NULL;
    tap_ok(m && mn == 0, "... and inflates to nothing");
    free(m);
    free(c);
    kite__pmd_destroy(cli);
    kite__pmd_destroy(srv);
}

static void test_no_context_takeover(void)
{
    kite__pmd_params_t p = params(1, 1, 15, 15);
    kite__pmd_t *srv = kite__pmd_create(&p, &conf_default, 0);
    kite__pmd_t *cli = kite__pmd_create(&p, &conf_default, 1);
    static const unsigned char hello1[] = {0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00};
    unsigned char *c, *m;
    size_t cn, mn;
    int i, ok = 1, freed = 1;

    for (i = 0; i < 3; i++) {
        c = deflate_msg(srv, "Hello", 5, 0, &cn);
        ok &= c && bytes_eq(c, cn, hello1, sizeof(hello1));
        freed &= kite__pmd_memory(srv) == 0;
        m = c ? inflate_msg(cli, c, cn, NULL, 0, 64, &mn) : NULL;
        ok &= m && bytes_eq(m, mn, "Hello", 5);
        freed &= kite__pmd_memory(cli) == 0;
        free(c);
        free(m);
    }
    tap_ok(ok, "no context takeover: every \"Hello\" is f2 48 cd c9 c9 07 00");
    tap_ok(freed, "no context takeover: no zlib memory held between messages");
    kite__pmd_destroy(srv);
    kite__pmd_destroy(cli);

    p = params(0, 0, 15, 15);
    srv = kite__pmd_create(&p, &conf_default, 0);
    c = deflate_msg(srv, "Hello", 5, 0, &cn);
    printf("# zlib memory with context takeover (level 1, memLevel 8, 15 bits): deflate %zu\n",
           kite__pmd_memory(srv));
    cli = kite__pmd_create(&p, &conf_default, 1);
    m = inflate_msg(cli, c, cn, NULL, 0, 64, &mn);
    printf("# ... inflate %zu\n", kite__pmd_memory(cli));
    tap_ok(kite__pmd_memory(srv) > 0 && kite__pmd_memory(cli) > 0,
           "context takeover: the streams are kept");
    free(c);
    free(m);
    kite__pmd_destroy(srv);
    kite__pmd_destroy(cli);
    {
        kite_ws_deflate_t small = KITE_WS_DEFLATE_INIT(.mem_level = 5, .window_bits = 12);
        p = params(0, 0, 12, 12);
        srv = kite__pmd_create(&p, &small, 0);
        cli = kite__pmd_create(&p, &small, 1);
        c = deflate_msg(srv, "Hello", 5, 0, &cn);
        m = inflate_msg(cli, c, cn, NULL, 0, 64, &mn);
        printf("# ... with mem-level 5 and 12 bits: deflate %zu, inflate %zu\n",
               kite__pmd_memory(srv), kite__pmd_memory(cli));
        tap_ok(kite__pmd_memory(srv) < 64 * 1024, "mem-level 5, 12 bits: deflate under 64 KiB");
        free(c);
        free(m);
        kite__pmd_destroy(srv);
        kite__pmd_destroy(cli);
    }
}

static unsigned char *make_data(int kind, size_t n)
{
    unsigned char *d = malloc(n ? n : 1);
    uint32_t x = 12345;
    size_t i;

    for (i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        d[i] = kind == 0   ? (unsigned char)(x >> 16)                               /* random */
               : kind == 1 ? (unsigned char)"kite websocket "[i % 15]               /* repetitive */
                           : (unsigned char)('a' + (x >> 16) % 4 + (i % 300 == 0)); /* text-ish */
    }
    return d;
}

/* Sender with @sbits, receiver inflating with @rbits (>= what was agreed). */
static int round_trip(int sbits, int rbits, int level, const unsigned char *d, size_t n,
                      size_t frag)
{
    kite_ws_deflate_t conf = KITE_WS_DEFLATE_INIT(.level = level);
    kite__pmd_params_t ps = params(0, 0, sbits, 15), pr = params(0, 0, rbits, 15);
    kite__pmd_t *srv = kite__pmd_create(&ps, &conf, 0), *cli = kite__pmd_create(&pr, &conf, 1);
    unsigned char *c, *m = NULL;
    size_t cn, mn;
    int ok = 0, i;

    for (i = 0; i < 2; i++) { /* twice: the second uses the first's window */
        c = deflate_msg(srv, d, n, frag, &cn);
        m = c ? inflate_msg(cli, c, cn, NULL, 0, 16384, &mn) : NULL;
        ok = m && bytes_eq(m, mn, d, n);
        free(c);
        free(m);
        if (!ok)
            break;
    }
    kite__pmd_destroy(srv);
    kite__pmd_destroy(cli);
    return ok;
}

static void test_window_bits(void)
{
    static const char *kinds[] = {"random", "repetitive", "text"};
    unsigned char *d;
    int sb, k, ok;

    for (k = 0; k < 3; k++) {
        d = make_data(k, 1u << 20);
        for (sb = 8, ok = 1; sb <= 15; sb++)
            ok &= round_trip(sb, sb, 1, d, 1u << 20, 0);
        tap_ok(ok, "1 MiB %s, twice, each window 8..15 inflated with the same", kinds[k]);
        ok = round_trip(15, 15, 9, d, 1u << 20, 100000);
        tap_ok(ok, "1 MiB %s at level 9 in 100000-byte fragments", kinds[k]);
        free(d);
    }
    d = make_data(2, 70000);
    for (sb = 8, ok = 1; sb <= 15; sb++) {
        int rb;
        for (rb = sb; rb <= 15; rb++)
            ok &= round_trip(sb, rb, 6, d, 70000, 0) && round_trip(sb, rb, 1, d, 70000, 4000);
    }
    tap_ok(ok, "every sender window 8..15 with every receiver window at least as large");
    free(d);
    /* The 8-bit case: a 512-byte zlib window against a true 256-byte inflater. */
    d = make_data(1, 4096);
    {
        kite__pmd_params_t p = params(0, 0, 8, 8);
        kite__pmd_t *z = kite__pmd_create(&p, &conf_default, 0);
        tap_is_int(z->tx_bits, 9, "server_max_window_bits=8 deflates with zlib's 9");
        kite__pmd_destroy(z);
    }
    free(d);
}

/* A peer that breaks its agreed window: client_max_window_bits=8, then a
 * match 400 bytes back. zlib alone would refuse it when the bytes come in
 * two reads and take it in one; kite must answer the same however they
 * are split (fuzz-ws found the difference). */
static void test_window_split_independent(void)
{
    kite__pmd_params_t p = params(0, 0, 15, 8);
    unsigned char *d = make_data(0, 800), c[2048], *m;
    z_stream zs;
    size_t cn, i, mn;
    int ok = 1;

    memcpy(d + 400, d, 400);
    memset(&zs, 0, sizeof(zs));
    deflateInit2(&zs, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    zs.next_in = d;
    zs.avail_in = 800;
    zs.next_out = c;
    zs.avail_out = sizeof(c);
    deflate(&zs, Z_SYNC_FLUSH);
    cn = sizeof(c) - zs.avail_out - 4; /* without 00 00 ff ff */
    deflateEnd(&zs);
    tap_ok(cn < 600, "the test data has a match 400 bytes back (%zu bytes compressed)", cn);
    for (i = 0; i < cn; i++) {
        kite__pmd_t *srv = kite__pmd_create(&p, &conf_default, 0);
        m = inflate_msg(srv, c, cn, &i, i ? 1 : 0, 4096, &mn);
        ok &= m && bytes_eq(m, mn, d, 800);
        free(m);
        kite__pmd_destroy(srv);
    }
    tap_ok(ok, "a match past the agreed 8-bit window inflates alike whole and cut at every byte");
    free(d);
}

static void test_splits(void)
{
    kite__pmd_params_t p = params(0, 0, 15, 15);
    unsigned char *d = make_data(2, 300), *c, *m;
    kite__pmd_t *srv = kite__pmd_create(&p, &conf_default, 0);
    size_t cn, mn, i, cuts[400];
    int ok = 1, okb = 1;

    c = deflate_msg(srv, d, 300, 0, &cn);
    for (i = 1; i < cn; i++) {
        kite__pmd_t *cli = kite__pmd_create(&p, &conf_default, 1);
        m = inflate_msg(cli, c, cn, &i, 1, 7, &mn);
        ok &= m && bytes_eq(m, mn, d, 300);
        free(m);
        kite__pmd_destroy(cli);
    }
    tap_ok(ok, "a 300-byte message split in two at every byte (%zu compressed)", cn);
    for (i = 0; i + 1 < cn; i++)
        cuts[i] = i + 1;
    {
        kite__pmd_t *cli = kite__pmd_create(&p, &conf_default, 1);
        m = inflate_msg(cli, c, cn, cuts, cn - 1, 1, &mn);
        okb = m && bytes_eq(m, mn, d, 300);
        free(m);
        kite__pmd_destroy(cli);
    }
    tap_ok(okb, "byte by byte with one byte of output room per call");
    free(c);
    /* Fragments of every size from 1 to 40 bytes of a 120-byte message. */
    for (i = 1, ok = 1; i <= 40; i++) {
        kite__pmd_t *cli = kite__pmd_create(&p, &conf_default, 1);
        c = deflate_msg(srv, d, 120, i, &cn);
        m = c ? inflate_msg(cli, c, cn, NULL, 0, 1000, &mn) : NULL;
        ok &= m && bytes_eq(m, mn, d, 120);
        free(c);
        free(m);
        kite__pmd_destroy(cli);
        kite__pmd_destroy(srv);
        srv = kite__pmd_create(&p, &conf_default, 0);
    }
    tap_ok(ok, "written in fragments of 1..40 bytes, each sync-flushed");
    kite__pmd_destroy(srv);
    free(d);
}

static void test_bad_data(void)
{
    static const unsigned char reserved[] = {0x07, 0x00};                  /* BTYPE 11 */
    static const unsigned char bad_len[] = {0x00, 0x05, 0x00, 0x00, 0x00}; /* NLEN wrong */
    /* RFC 7692's second "Hello": a match into a window this inflater never had. */
    static const unsigned char far[] = {0xf2, 0x00, 0x11, 0x00, 0x00};
    kite__pmd_params_t p = params(0, 0, 15, 15);
    const unsigned char *v[] = {reserved, bad_len, far};
    size_t vl[] = {sizeof(reserved), sizeof(bad_len), sizeof(far)}, i, used, got;
    unsigned char out[64];
    int ok = 1;

    for (i = 0; i < NELEM(v); i++) {
        kite__pmd_t *cli = kite__pmd_create(&p, &conf_default, 1);
        int r = kite__pmd_inflate(cli, v[i], vl[i], 1, out, sizeof(out), &used, &got);
        if (r != KITE_EPROTO) {
            printf("# vector %zu: %d\n", i, r);
            ok = 0;
        }
        kite__pmd_destroy(cli);
    }
    tap_ok(ok, "corrupt DEFLATE data is KITE_EPROTO");
    {
        /* 4 MiB of zeros: each call stops when the room is full. */
        unsigned char *zeros = calloc(1, 4u << 20), *c;
        kite__pmd_t *srv = kite__pmd_create(&p, &conf_default, 0);
        kite__pmd_t *cli = kite__pmd_create(&p, &conf_default, 1);
        size_t cn;
        int r;

        c = deflate_msg(srv, zeros, 4u << 20, 0, &cn);
        r = kite__pmd_inflate(cli, c, cn, 1, out, sizeof(out), &used, &got);
        tap_ok(r == 1 && got == sizeof(out) && used < cn,
               "a bomb (4 MiB in %zu bytes) gives no more than the room per call", cn);
        free(c);
        free(zeros);
        kite__pmd_destroy(srv);
        kite__pmd_destroy(cli);
    }
}

struct nego {
    const char *hdr[3];
    unsigned flags;
    int bits;
    const char *resp; /* NULL: declined */
};

static void test_negotiate(void)
{
    static const struct nego v[] = {
        {{"permessage-deflate"}, 0, 0, "permessage-deflate"},
        {{"permessage-deflate; client_max_window_bits"}, 0, 0, "permessage-deflate"},
        {{"permessage-deflate; client_max_window_bits"},
         0,
         10,
         "permessage-deflate; server_max_window_bits=10; client_max_window_bits=10"},
        {{"permessage-deflate; client_max_window_bits=12"},
         0,
         0,
         "permessage-deflate; client_max_window_bits=12"},
        {{"permessage-deflate; client_max_window_bits=\"12\""},
         0,
         0,
         "permessage-deflate; client_max_window_bits=12"},
        {{"permessage-deflate; server_max_window_bits=8"},
         0,
         0,
         "permessage-deflate; server_max_window_bits=8"},
        {{"permessage-deflate; server_max_window_bits=12"},
         0,
         10,
         "permessage-deflate; server_max_window_bits=10"},
        {{"permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
         0,
         0,
         "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
        {{"permessage-deflate"},
         KITE_WS_DEFLATE_NO_CONTEXT_TAKEOVER,
         0,
         "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
        {{"Permessage-Deflate ; Client_Max_Window_Bits = 9"},
         0,
         0,
         "permessage-deflate; client_max_window_bits=9"},
        /* The first acceptable offer wins; bad ones are skipped. */
        {{"permessage-deflate; server_max_window_bits=7, permessage-deflate"},
         0,
         0,
         "permessage-deflate"},
        {{"x-webkit-deflate-frame", "permessage-deflate; client_no_context_takeover"},
         0,
         0,
         "permessage-deflate; client_no_context_takeover"},
        {{"permessage-deflate; foo=1", "permessage-deflate; server_max_window_bits=09",
          "permessage-deflate; server_max_window_bits=11"},
         0,
         0,
         "permessage-deflate; server_max_window_bits=11"},
        {{"foo; a=\"x,y\", permessage-deflate"}, 0, 0, "permessage-deflate"},
        /* Declined: unknown, repeated, valueless or out-of-range parameters. */
        {{"permessage-deflate; foo"}, 0, 0, NULL},
        {{"permessage-deflate; server_max_window_bits"}, 0, 0, NULL},
        {{"permessage-deflate; server_max_window_bits=16"}, 0, 0, NULL},
        {{"permessage-deflate; client_max_window_bits=7"}, 0, 0, NULL},
        {{"permessage-deflate; server_no_context_takeover; server_no_context_takeover"},
         0,
         0,
         NULL},
        {{"permessage-deflate; server_no_context_takeover=1"}, 0, 0, NULL},
        {{"permessage-deflate; client_max_window_bits=10; client_max_window_bits"}, 0, 0, NULL},
        {{"permessage-deflate; server_max_window_bits=1a"}, 0, 0, NULL},
        {{"permessage-deflate; server_max_window_bits=\"10"}, 0, 0, NULL},
        {{"permessage-deflate;;"}, 0, 0, NULL},
        {{"deflate-frame"}, 0, 0, NULL},
        {{""}, 0, 0, NULL},
    };
    size_t i;

    for (i = 0; i < NELEM(v); i++) {
        kite_ws_deflate_t conf =
            KITE_WS_DEFLATE_INIT(.flags = v[i].flags, .window_bits = v[i].bits);
        kite__pmd_params_t p;
        char resp[200];
        int n = 0, r;

        while (n < 3 && v[i].hdr[n])
            n++;
        r = kite__pmd_negotiate(v[i].hdr, n, &conf, &p, resp, sizeof(resp));
        tap_is_str(r ? resp : NULL, v[i].resp, "offer \"%s%s%s\"", v[i].hdr[0],
                   n > 1 ? "\" + \"" : "", n > 1 ? v[i].hdr[1] : "");
    }
    {
        kite_ws_deflate_t conf = KITE_WS_DEFLATE_INIT(.window_bits = 10);
        const char *h = "permessage-deflate; server_max_window_bits=12; client_max_window_bits=9";
        kite__pmd_params_t p;
        char resp[200];

        kite__pmd_negotiate(&h, 1, &conf, &p, resp, sizeof(resp));
        tap_ok(p.server_max_window_bits == 10 && p.client_max_window_bits == 9 &&
                   !p.server_no_context_takeover && !p.client_no_context_takeover,
               "agreed parameters: server 10 bits, client 9");
    }
}

static void test_client(void)
{
    kite_ws_deflate_t conf = KITE_WS_DEFLATE_INIT(),
                      small = KITE_WS_DEFLATE_INIT(.window_bits = 10),
                      nct = KITE_WS_DEFLATE_INIT(.flags = KITE_WS_DEFLATE_NO_CONTEXT_TAKEOVER);
    kite__pmd_params_t p;
    char buf[200];

    kite__pmd_offer(&conf, buf, sizeof(buf));
    tap_is_str(buf, "permessage-deflate; client_max_window_bits", "the default offer");
    kite__pmd_offer(&small, buf, sizeof(buf));
    tap_is_str(buf, "permessage-deflate; client_max_window_bits; server_max_window_bits=10",
               "an offer with window-bits 10");
    kite__pmd_offer(&nct, buf, sizeof(buf));
    tap_is_str(buf,
               "permessage-deflate; client_max_window_bits; server_no_context_takeover; "
               "client_no_context_takeover",
               "an offer without context takeover");
    tap_is_int(kite__pmd_offer(&conf, buf, 10), KITE_E2BIG, "an offer too big for the buffer");

    tap_ok(kite__pmd_accept_response("permessage-deflate", &conf, &p) == 0 &&
               p.server_max_window_bits == 15 && p.client_max_window_bits == 15,
           "response: permessage-deflate");
    tap_ok(kite__pmd_accept_response(
               "permessage-deflate; server_no_context_takeover; client_max_window_bits=10", &conf,
               &p) == 0 &&
               p.server_no_context_takeover && p.client_max_window_bits == 10,
           "response: no server context takeover, client window 10");
    tap_is_int(kite__pmd_accept_response("permessage-deflate, permessage-deflate", &conf, &p),
               KITE_EPROTO, "response: two extensions");
    tap_is_int(kite__pmd_accept_response("permessage-deflate; foo", &conf, &p), KITE_EPROTO,
               "response: an unknown parameter");
    tap_is_int(kite__pmd_accept_response("permessage-deflate; client_max_window_bits", &conf, &p),
               KITE_EPROTO, "response: client_max_window_bits without a value");
    tap_is_int(kite__pmd_accept_response("x-foo", &conf, &p), KITE_EPROTO,
               "response: another extension");
    tap_is_int(kite__pmd_accept_response("permessage-deflate", &small, &p), KITE_EPROTO,
               "response: server_max_window_bits offered but not answered");
    tap_is_int(
        kite__pmd_accept_response("permessage-deflate; server_max_window_bits=12", &small, &p),
        KITE_EPROTO, "response: a larger server window than offered");
    tap_is_int(
        kite__pmd_accept_response("permessage-deflate; client_no_context_takeover", &nct, &p),
        KITE_EPROTO, "response: server_no_context_takeover asked for but missing");
    tap_ok(kite__pmd_accept_response(
               "permessage-deflate; server_no_context_takeover; client_no_context_takeover", &nct,
               &p) == 0 &&
               p.client_no_context_takeover,
           "response: both no-context-takeovers");
}

int main(void)
{
    test_rfc_examples();
    test_no_context_takeover();
    test_window_bits();
    test_splits();
    test_window_split_independent();
    test_bad_data();
    test_negotiate();
    test_client();
    return tap_done();
}
