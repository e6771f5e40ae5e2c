/*
 * libFuzzer target for the WebSocket frame parser (lib/roles/ws/ops-ws.c,
 * with lib/misc/utf8.c and core's kept input, lib/core/input.c). The role
 * is compiled in here and the few other pieces of core it calls are
 * stubbed, the way tests/unit/core/test-timer.c fakes the event backend:
 * output is captured in a buffer, close only sets the connection's flags,
 * timeouts and logging do nothing.
 *
 * The first input byte picks the run: how the rest is split into reads
 * (whole, byte by byte, small or large random pieces), whether the
 * protocol takes pieces or whole messages, whether it pauses reading now
 * and then (rx flow control, resumed the way core does), and the largest
 * message allowed. The protocol echoes what it gets, as the echo plugin
 * does, and checks on every call:
 *   - FIRST comes exactly at the start of a message, FINAL at its end,
 *     and the binary flag does not change inside a message;
 *   - text is valid UTF-8 as far as it has come, and whole at FINAL
 *     (checked with a decoder of its own, not kite's);
 *   - nothing arrives once the connection is closing;
 *   - a message is never larger than the limit.
 * Then the same input is run again in one read with no pauses, and both
 * runs must have delivered the same messages and produced the same
 * frames (after joining fragments): how input is split must not matter.
 * The server's output must be well-formed unmasked frames with nothing
 * after a close, whose code is one a server may send.
 * When the last input byte is odd, permessage-deflate is on (with context
 * takeover; window bits from that byte): frames with RSV1 are inflated,
 * the echo goes out compressed, and the output is inflated here with
 * zlib to compare the runs.
 * A broken promise aborts, so the fuzzer keeps the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "roles/ws/ops-ws.c"
/* Input kept between reads is core's own code, with a buffer of exactly
 * the size held (core rounds up to 1 KiB) so that an off-by-one in how
 * the parser hands back its buffer shows at once (that is how the
 * held-input replay bug was found). */
#define INPUT_MIN_CAP 1
#include "core/input.c"
#include "misc/path.c"
#include "misc/utf8.c"
#include "roles/ws/pmd-negotiate.c"
#include "roles/ws/pmd.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

/* ---------------------------------------------------------------- stubs of core */

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf_t;

static buf_t out;       /* everything the role queued */
static size_t reserved; /* bytes handed out by the last kite__out_reserve */

/* Room for @n more bytes after b->len. */
static void buf_grow(buf_t *b, size_t n)
{
    size_t cap = b->cap ? b->cap : 256;

    if (b->len + n <= b->cap)
        return;
    while (cap < b->len + n)
        cap *= 2;
    b->p = realloc(b->p, cap);
    CHECK(b->p);
    b->cap = cap;
}

static void buf_add(buf_t *b, const void *p, size_t n)
{
    buf_grow(b, n);
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

/* Client conns are not fuzzed here: the role never masks nor frees one. */
void kite__client_free(struct kite__client *cl)
{
    CHECK(!cl);
}

int kite__random(void *buf, size_t len)
{
    (void)buf;
    (void)len;
    abort();
}

void kite_log(int level, const char *fmt, ...)
{
    (void)level;
    (void)fmt;
}

int kite_log_enabled(int level)
{
    (void)level;
    return 0;
}

char *kite__out_reserve(kite_conn_t *c, size_t len)
{
    (void)c;
    buf_grow(&out, len);
    reserved = len;
    return (char *)out.p + out.len;
}

void kite__out_commit(kite_conn_t *c, size_t len)
{
    CHECK(len <= reserved);
    reserved = 0;
    out.len += len;
    c->out_bytes += len;
}

int kite__conn_close_graceful(kite_conn_t *c)
{
    c->flags |= KITE__C_CLOSING;
    return 0;
}

void kite__conn_close_now(kite_conn_t *c, kite_close_reason_t reason)
{
    (void)reason;
    c->flags |= KITE__C_CLOSED;
}

void kite__conn_set_state_timeout(kite_conn_t *c, unsigned ms)
{
    (void)c;
    (void)ms;
}

int kite_callback_on_writable(kite_conn_t *c)
{
    (void)c;
    return 0;
}

kite__pt_t *kite__pt_current(void)
{
    return NULL;
}

/* ---------------------------------------------------------------- a UTF-8 decoder of its own */

/* 1: @s is valid UTF-8 so far (a sequence may be unfinished unless @whole); 0: it is not. */
static int utf8_ok(const uint8_t *s, size_t n, int whole)
{
    size_t i = 0;

    while (i < n) {
        unsigned c = s[i], need, k;
        uint32_t cp, min;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            need = 1, cp = c & 0x1f, min = 0x80;
        else if (c >= 0xe0 && c <= 0xef)
            need = 2, cp = c & 0x0f, min = 0x800;
        else if (c >= 0xf0 && c <= 0xf4)
            need = 3, cp = c & 0x07, min = 0x10000;
        else
            return 0;
        for (k = 1; k <= need; k++) {
            if (i + k == n) {
                /* Unfinished: still fine if some ending makes it valid. */
                unsigned rest = need - k + 1;
                uint32_t lo = cp << (6 * rest), hi = lo | ((1u << (6 * rest)) - 1);
                return !whole && hi >= min && lo <= 0x10ffff && !(lo >= 0xd800 && hi <= 0xdfff);
            }
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += need + 1;
    }
    return 1;
}

/* ---------------------------------------------------------------- the protocol */

typedef struct run {
    int pause_every;    /* pause reading after every Nth piece; 0: never */
    size_t limit;       /* largest message */
    int in_msg;         /* a message has started and not finished */
    unsigned msg_flags; /* KITE_RX_BINARY of the current message */
    buf_t msg;          /* the current message so far */
    buf_t log;          /* completed messages: op byte, 8-byte length, bytes */
    int calls;
    int closed_cb;
    int closed_code;
} run_t;

static run_t *cur;

static void log_message(run_t *r, int binary, const uint8_t *p, size_t n)
{
    uint8_t h[9];
    int i;

    h[0] = binary ? 2 : 1;
    for (i = 0; i < 8; i++)
        h[1 + i] = (uint8_t)((uint64_t)n >> (8 * i));
    buf_add(&r->log, h, sizeof(h));
    buf_add(&r->log, p, n);
}

static int on_receive(kite_conn_t *c, void *user, const void *in, size_t len, unsigned flags)
{
    run_t *r = cur;
    int first = !!(flags & KITE_RX_FIRST), final = !!(flags & KITE_RX_FINAL), wr, rc;
    int whole = !!(c->proto->flags & KITE_PROTO_WHOLE_MESSAGES);
    unsigned kind;

    (void)user;
    CHECK(!(c->flags & (KITE__C_CLOSING | KITE__C_CLOSED)));
    CHECK(!WS(c)->close_sent);
    CHECK(!(flags & ~(unsigned)(KITE_RX_FIRST | KITE_RX_FINAL | KITE_RX_BINARY)));
    CHECK(first == !r->in_msg);
    CHECK(!whole || (first && final));
    CHECK(len == 0 || in != NULL);
    if (first) {
        r->msg_flags = flags & KITE_RX_BINARY;
        r->msg.len = 0;
    } else {
        CHECK((flags & KITE_RX_BINARY) == r->msg_flags);
    }
    CHECK(len || final); /* empty pieces only to end a message */
    buf_add(&r->msg, in, len);
    CHECK(r->msg.len <= r->limit);
    if (!(flags & KITE_RX_BINARY))
        CHECK(utf8_ok(r->msg.p, r->msg.len, final));
    r->in_msg = !final;
    r->calls++;

    /* Echo it the way the echo plugin does: fragments as they come. */
    kind = flags & KITE_RX_BINARY ? KITE_WRITE_BINARY : KITE_WRITE_TEXT;
    wr = kite__role_ws.write(c, in, len,
                             (first ? kind : (unsigned)KITE_WRITE_CONTINUATION) |
                                 (final ? 0u : (unsigned)KITE_WRITE_NO_FIN));
    CHECK(wr == 0);

    rc = 0;
    if (final) {
        log_message(r, flags & KITE_RX_BINARY, r->msg.p, r->msg.len);
        /* A decision on the whole message only, so both runs make it alike. */
        rc = r->msg.len == 7 && !memcmp(r->msg.p, "closeme", 7);
    }
    if (r->pause_every && r->calls % r->pause_every == 0)
        c->flags |= KITE__C_RX_OFF;
    return rc;
}

static void on_closed(kite_conn_t *c, void *user, int code)
{
    (void)c;
    (void)user;
    cur->closed_cb++;
    cur->closed_code = code;
}

/* ---------------------------------------------------------------- output checks */

typedef struct parsed {
    buf_t events;   /* joined messages and control frames, in order */
    int close_code; /* -1: no close frame; 0: one without a code */
} parsed_t;

static int server_may_send(unsigned code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

/* The server's bytes must be a run of unmasked frames, fragments in order, nothing after a close.
 */
/* Inflate a compressed message of the server's with the run's stream
 * (context taken over between messages), in place of its bytes. */
static void inflate_msg(z_stream *zs, buf_t *msg)
{
    static const uint8_t tail[4] = {0, 0, 0xff, 0xff};
    buf_t outb = {0};
    uint8_t chunk[4096];
    int r;

    buf_add(msg, tail, 4);
    zs->next_in = msg->p;
    zs->avail_in = (uInt)msg->len;
    do {
        zs->next_out = chunk;
        zs->avail_out = sizeof(chunk);
        r = inflate(zs, Z_SYNC_FLUSH);
        CHECK(r == Z_OK || r == Z_BUF_ERROR);
        buf_add(&outb, chunk, sizeof(chunk) - zs->avail_out);
    } while (zs->avail_in || !zs->avail_out);
    free(msg->p);
    *msg = outb;
}

static void parse_output(const uint8_t *p, size_t n, parsed_t *res, int deflate)
{
    size_t off = 0;
    int open = 0, op_open = 0, comp = 0;
    buf_t msg = {0};
    z_stream zs;

    memset(&zs, 0, sizeof(zs));
    CHECK(inflateInit2(&zs, -15) == Z_OK);

    memset(res, 0, sizeof(*res));
    res->close_code = -1;
    while (off < n) {
        unsigned fin, op, hl = 2;
        uint64_t len;
        uint8_t ev[9];
        int i;

        CHECK(res->close_code == -1); /* nothing after a close */
        CHECK(n - off >= 2);
        fin = p[off] >> 7;
        op = p[off] & 0x0f;
        /* RSV1 only with deflate, on the first frame of a data message. */
        CHECK(!(p[off] & 0x30));
        CHECK(!(p[off] & 0x40) || (deflate && !open && op && op <= WS_OP_BINARY));
        CHECK(!(p[off + 1] & 0x80)); /* servers never mask */
        len = p[off + 1] & 0x7f;
        if (len == 126) {
            CHECK(n - off >= 4);
            len = (uint64_t)p[off + 2] << 8 | p[off + 3];
            CHECK(len >= 126); /* shortest form */
            hl = 4;
        } else if (len == 127) {
            CHECK(n - off >= 10);
            len = 0;
            for (i = 0; i < 8; i++)
                len = len << 8 | p[off + 2 + i];
            CHECK(len >= 65536);
            hl = 10;
        }
        CHECK(n - off - hl >= len);
        if (op & 8) {
            CHECK(fin && len <= 125);
            CHECK(op == WS_OP_CLOSE || op == WS_OP_PONG || op == WS_OP_PING);
            if (op == WS_OP_CLOSE) {
                CHECK(len != 1);
                res->close_code = 0;
                if (len >= 2) {
                    res->close_code = p[off + hl] << 8 | p[off + hl + 1];
                    CHECK(server_may_send((unsigned)res->close_code));
                }
            }
            if (op != WS_OP_CLOSE) { /* a close is compared by its code alone */
                ev[0] = (uint8_t)(0x10 | op);
                for (i = 0; i < 8; i++)
                    ev[1 + i] = (uint8_t)(len >> (8 * i));
                buf_add(&res->events, ev, sizeof(ev));
                buf_add(&res->events, p + off + hl, (size_t)len);
            }
        } else {
            CHECK(op <= WS_OP_BINARY);
            CHECK(open ? op == WS_OP_CONT : op != WS_OP_CONT);
            if (!open) {
                op_open = (int)op;
                msg.len = 0;
                comp = !!(p[off] & 0x40);
            }
            buf_add(&msg, p + off + hl, (size_t)len);
            open = !fin;
            if (fin && comp)
                inflate_msg(&zs, &msg);
            if (fin) {
                ev[0] = (uint8_t)op_open;
                for (i = 0; i < 8; i++)
                    ev[1 + i] = (uint8_t)((uint64_t)msg.len >> (8 * i));
                buf_add(&res->events, ev, sizeof(ev));
                buf_add(&res->events, msg.p, msg.len);
            }
        }
        off += hl + (size_t)len;
    }
    /* An unfinished echoed message is fine only if the input stopped inside it. */
    free(msg.p);
    inflateEnd(&zs);
}

/* ---------------------------------------------------------------- driver */

typedef struct result {
    buf_t log;
    parsed_t parsed;
    uint32_t cflags;
    int closed_code;
} result_t;

static uint32_t rng;

static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static void one_run(const uint8_t *data, size_t size, uint8_t mode, int deflate, int split,
                    result_t *res)
{
    static kite_protocol_t proto;
    kite_context_t ctx;
    kite__pt_t pt;
    kite_conn_t c;
    kite__ws_t *ws;
    run_t r;
    size_t off = 0;
    static const size_t limits[4] = {0, 64, 1024, 70000};

    memset(&ctx, 0, sizeof(ctx));
    memset(&pt, 0, sizeof(pt));
    memset(&c, 0, sizeof(c));
    memset(&r, 0, sizeof(r));
    memset(&proto, 0, sizeof(proto));
    proto.abi = KITE_PROTOCOL_ABI;
    proto.name = "fuzz";
    proto.on_receive = on_receive;
    proto.on_closed = on_closed;
    if (mode & 0x04) {
        proto.flags = KITE_PROTO_WHOLE_MESSAGES;
        proto.rx_buffer_size = mode & 0x40 ? 100 : 0;
    }
    ctx.info.ws_max_message = limits[(mode >> 4) & 3];
    ctx.info.max_output = (size_t)1 << 40;
    ctx.info.ws_close_timeout = 5;
    r.limit = ctx.info.ws_max_message ? ctx.info.ws_max_message : 16u << 20;
    if (proto.rx_buffer_size && proto.rx_buffer_size < r.limit)
        r.limit = proto.rx_buffer_size;
    r.pause_every = split && (mode & 0x08) ? 1 + (mode >> 6) : 0;
    pt.ctx = &ctx;
    c.pt = &pt;
    c.role = &kite__role_ws;
    c.proto = &proto;
    ws = calloc(1, sizeof(*ws));
    CHECK(ws);
    ws->first = 1;
    if (deflate) {
        /* The peer's window 8-15 from the selecting byte; ours always 15
         * (what parse_output inflates with). */
        kite__pmd_params_t pp = {0, 0, 15, (uint8_t)(8 + ((deflate >> 1) & 7))};
        kite_ws_deflate_t conf = KITE_WS_DEFLATE_INIT();
        ws->pmd = kite__pmd_create(&pp, &conf, 0);
        CHECK(ws->pmd);
    }
    c.rd = ws;
    cur = &r;
    out.len = 0;
    rng = 0x9e3779b9u ^ mode;

    while (off < size && !(c.flags & (KITE__C_CLOSING | KITE__C_CLOSED))) {
        size_t n = size - off;
        char *piece;
        int rv;

        /* Reading is paused: core resumes it and hands over what was held. */
        while ((c.flags & KITE__C_RX_OFF) && !(c.flags & (KITE__C_CLOSING | KITE__C_CLOSED))) {
            c.flags &= ~KITE__C_RX_OFF;
            if (c.in_len)
                kite__role_ws.on_rx_resume(&c);
        }
        if (c.flags & (KITE__C_CLOSING | KITE__C_CLOSED))
            break;
        if (split) {
            switch (mode & 3) {
            case 0:
                n = 1 + next_rand() % 3;
                break;
            case 1:
                n = 1;
                break;
            case 2:
                n = 1 + next_rand() % 16;
                break;
            default:
                n = 1 + next_rand() % 300;
            }
            if (n > size - off)
                n = size - off;
        }
        /* An exact-size copy per read: the parser unmasks in place and must not read past it. */
        piece = malloc(n);
        CHECK(piece);
        memcpy(piece, data + off, n);
        rv = kite__role_ws.on_data(&c, piece, n);
        free(piece);
        off += n;
        CHECK(rv == 0 || rv == KITE_ECLOSED);
        if (rv == KITE_ECLOSED) {
            c.flags |= KITE__C_CLOSED;
            break;
        }
    }
    /* Input held by a pause at the end is delivered too. */
    while ((c.flags & KITE__C_RX_OFF) && c.in_len &&
           !(c.flags & (KITE__C_CLOSING | KITE__C_CLOSED))) {
        c.flags &= ~KITE__C_RX_OFF;
        kite__role_ws.on_rx_resume(&c);
    }
    /* Without a pause nothing is held back: a partial header lives in the parser. */
    if (!(c.flags & (KITE__C_CLOSING | KITE__C_CLOSED | KITE__C_RX_OFF)))
        CHECK(c.in_len == 0);

    CHECK(reserved == 0);
    parse_output(out.p, out.len, &res->parsed, deflate);
    if (ws->close_sent)
        CHECK(res->parsed.close_code != -1);
    if (res->parsed.close_code > 0 && ws->close_rcvd == 0) {
        /* We closed first: it must be one of the failure codes. */
        int cc = res->parsed.close_code;
        CHECK(cc == KITE_WS_CLOSE_PROTOCOL_ERR || cc == KITE_WS_CLOSE_INVALID_PAYLOAD ||
              cc == KITE_WS_CLOSE_TOO_BIG);
    }
    res->cflags = c.flags & (KITE__C_CLOSING | KITE__C_CLOSED);
    kite__role_ws.on_close(&c, 0);
    CHECK(c.rd == NULL && r.closed_cb == 1);
    res->closed_code = r.closed_code;
    res->log = r.log;
    free(r.msg.p);
    free(c.in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    result_t a, b;
    uint8_t mode;
    int deflate;

    if (size < 1)
        return 0;
    mode = data[0];
    data++;
    size--;
    deflate = size && (data[size - 1] & 1) ? data[size - 1] : 0;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    one_run(data, size, mode, deflate, 1, &a);
    one_run(data, size, mode, deflate, 0, &b);
    /* How the input was split and paused must change nothing. */
    CHECK(a.log.len == b.log.len && (!a.log.len || !memcmp(a.log.p, b.log.p, a.log.len)));
    CHECK(a.parsed.events.len == b.parsed.events.len &&
          (!a.parsed.events.len ||
           !memcmp(a.parsed.events.p, b.parsed.events.p, a.parsed.events.len)));
    if (a.parsed.close_code != b.parsed.close_code || a.closed_code != b.closed_code) {
        /* One case may differ: a message both too big and invalid (not
         * UTF-8, or with deflate not DEFLATE) fails with whichever error
         * the piece that reveals it shows first. Pieces end where reads
         * end only for whole messages capped by rx_buffer_size below the
         * frame limit, and for inflated ones. */
        CHECK((mode & 0x44) == 0x44 || deflate);
        CHECK(a.parsed.close_code == 1007 || a.parsed.close_code == 1009);
        CHECK(b.parsed.close_code == 1007 || b.parsed.close_code == 1009);
    }
    CHECK(a.cflags == b.cflags);
    free(a.log.p);
    free(b.log.p);
    free(a.parsed.events.p);
    free(b.parsed.events.p);
    return 0;
}
