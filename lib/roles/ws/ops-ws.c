/*
 * The WebSocket role (RFC 6455, server side): the frame parser as a
 * state machine that takes input split at any byte, unmasking in place
 * in the read buffer; the frame rules (masking, RSV bits, opcodes,
 * control frames, continuation, lengths, message size); UTF-8 of text
 * checked across fragments; pieces or whole messages to on_receive; ping
 * answered with pong; the close handshake both ways with code checks;
 * keepalive pings; writes as frames; rx flow control that stops between
 * pieces and keeps the rest for later. With permessage-deflate (pmd.c)
 * RSV1 marks the first frame of a compressed message: its payload is
 * inflated as it comes, in pieces that go through the same delivery.
 */
#include <stdlib.h>
#include <string.h>

#include "client/private-client.h"
#include "misc/utf8.h"
#include "roles/http/private-http.h"
#include "roles/ws/pmd.h"
#include "roles/ws/private-ws.h"
#include "tls/tls.h"

#define WS(c) ((kite__ws_t *)(c)->rd)

static const kite_context_info_t *info(const kite_conn_t *c)
{
    return &c->pt->ctx->info;
}

void kite__ws_idle_timeout(kite_conn_t *c)
{
    kite__ws_t *ws = WS(c);

    if (ws->close_sent)
        kite__conn_set_state_timeout(
            c, (info(c)->ws_close_timeout ? info(c)->ws_close_timeout : 5) * 1000u);
    else
        kite__conn_set_state_timeout(c, info(c)->ws_ping_pong_secs * 1000u);
}

/* Write a frame header for @len payload bytes at @p, with a fresh random
 * masking key when @client (RFC 6455 5.3); returns its size, or 0 when
 * no random bytes could be had. */
static size_t put_header(unsigned char *p, unsigned b0, uint64_t len, int client)
{
    size_t hl = len < 126 ? 2 : len < 65536 ? 4 : 10;
    int i;

    p[0] = (unsigned char)b0;
    if (hl == 2) {
        p[1] = (unsigned char)len;
    } else if (hl == 4) {
        p[1] = 126;
        p[2] = (unsigned char)(len >> 8);
        p[3] = (unsigned char)len;
    } else {
        p[1] = 127;
        for (i = 0; i < 8; i++)
            p[2 + i] = (unsigned char)(len >> (56 - 8 * i));
    }
    if (!client)
        return hl;
    p[1] |= 0x80;
    return kite__random(p + hl, 4) < 0 ? 0 : hl + 4;
}

static size_t header_size(size_t len, int client)
{
    return (len < 126 ? 2u : len < 65536 ? 4u : 10u) + (client ? 4u : 0u);
}

/* A client's payload, masked in place with the key just before it. */
static void mask_payload(unsigned char *p, size_t hl, size_t len)
{
    const unsigned char *key = p + hl - 4;
    size_t i;

    for (i = 0; i < len; i++)
        p[hl + i] ^= key[i & 3];
}

int kite__ws_send_frame(kite_conn_t *c, int opcode, int fin, const void *buf, size_t len)
{
    int client = WS(c)->client;
    unsigned char *p = (unsigned char *)kite__out_reserve(c, header_size(len, client) + len);
    size_t hl;

    if (!p)
        return KITE_ENOMEM;
    if (!(hl = put_header(p, (fin ? 0x80u : 0) | (unsigned)opcode, len, client)))
        return KITE_EIO;
    if (len)
        memcpy(p + hl, buf, len);
    if (client)
        mask_payload(p, hl, len);
    kite__out_commit(c, hl + len);
    return 0;
}

/* A frame of a compressed message, deflated straight into the output
 * queue after room for the largest header its payload can need; the
 * payload moves only when the header turns out shorter. RSV1 goes on
 * the first frame alone (RFC 7692 6). */
static int send_deflated(kite_conn_t *c, int opcode, int fin, const void *buf, size_t len)
{
    kite__ws_t *ws = WS(c);
    size_t bound = kite__pmd_deflate_bound(ws->pmd, len), hb = header_size(bound, ws->client);
    size_t hl, n;
    unsigned char *p = (unsigned char *)kite__out_reserve(c, hb + bound);
    int r;

    if (!p)
        return KITE_ENOMEM;
    r = kite__pmd_deflate(ws->pmd, buf, len, fin, p + hb, &n);
    if (r < 0) {
        /* The peer's inflater follows our stream, which is gone now. */
        kite__ws_fail(c, KITE_WS_CLOSE_UNEXPECTED, "deflate failed");
        return r;
    }
    hl = header_size(n, ws->client);
    if (hl < hb)
        memmove(p + hl, p + hb, n);
    if (!put_header(p, (fin ? 0x80u : 0) | (opcode != WS_OP_CONT ? 0x40u : 0) | (unsigned)opcode, n,
                    ws->client))
        return KITE_EIO;
    if (ws->client)
        mask_payload(p, hl, n);
    kite__out_commit(c, hl + n);
    return 0;
}

static int send_close(kite_conn_t *c, int code, const char *reason)
{
    kite__ws_t *ws = WS(c);
    unsigned char b[125];
    size_t n = 0;

    if (ws->close_sent)
        return 0;
    ws->close_sent = 1;
    if (code) {
        b[0] = (unsigned char)(code >> 8);
        b[1] = (unsigned char)code;
        n = 2;
        if (reason) {
            size_t rl = strlen(reason);
            if (rl > sizeof(b) - 2)
                rl = sizeof(b) - 2;
            memcpy(b + 2, reason, rl);
            n += rl;
        }
    }
    ws->sent_code = (uint16_t)(code ? code : KITE_WS_CLOSE_NO_STATUS);
    return kite__ws_send_frame(c, WS_OP_CLOSE, 1, b, n);
}

void kite__ws_fail(kite_conn_t *c, int code, const char *why)
{
    kite_debug("ws conn %p: closing %d: %s", (void *)c, code, why);
    send_close(c, code, why);
    /* The peer may still be sending: shut our side, drain, then close. */
    kite__conn_want_linger(c);
    kite__conn_close_graceful(c);
}

static int close_code_ok(unsigned code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

static void on_close_frame(kite_conn_t *c)
{
    kite__ws_t *ws = WS(c);
    unsigned code = KITE_WS_CLOSE_NO_STATUS;

    if (ws->ctl_len == 1) {
        kite__ws_fail(c, KITE_WS_CLOSE_PROTOCOL_ERR, "close payload of one byte");
        return;
    }
    if (ws->ctl_len >= 2) {
        code = (unsigned)ws->ctl[0] << 8 | ws->ctl[1];
        if (!close_code_ok(code)) {
            kite__ws_fail(c, KITE_WS_CLOSE_PROTOCOL_ERR, "bad close code");
            return;
        }
        if (kite__utf8_check(0, ws->ctl + 2, ws->ctl_len - 2u) != KITE__UTF8_ACCEPT) {
            kite__ws_fail(c, KITE_WS_CLOSE_INVALID_PAYLOAD, "close reason is not UTF-8");
            return;
        }
    }
    ws->close_rcvd = 1;
    ws->peer_code = (uint16_t)code;
    /* Answer with the same code (or none), then close the TCP side: the
     * server closes first (RFC 6455 7.1.1). */
    if (!ws->close_sent)
        send_close(c, code == KITE_WS_CLOSE_NO_STATUS ? 0 : (int)code, NULL);
    kite__conn_close_graceful(c);
}

static void on_control(kite_conn_t *c)
{
    kite__ws_t *ws = WS(c);

    switch (ws->opcode) {
    case WS_OP_PING:
        if (!ws->close_sent)
            kite__ws_send_frame(c, WS_OP_PONG, 1, ws->ctl, ws->ctl_len);
        break;
    case WS_OP_PONG:
        if (ws->ping_out) {
            ws->ping_out = 0;
            kite__ws_idle_timeout(c);
        }
        break;
    default:
        on_close_frame(c);
    }
}

/* Parse the frame header in ws->hbuf; 0 or a close code. */
static int header_done(kite_conn_t *c)
{
    kite__ws_t *ws = WS(c);
    const uint8_t *h = ws->hbuf;
    uint64_t len = h[1] & 0x7f;
    int i, ctl;

    ws->fin = h[0] >> 7;
    ws->opcode = h[0] & 0x0f;
    ctl = ws->opcode & 8;
    if ((ws->opcode > 2 && ws->opcode < 8) || ws->opcode > 10)
        return KITE_WS_CLOSE_PROTOCOL_ERR;
    if (h[0] & 0x30)
        return KITE_WS_CLOSE_PROTOCOL_ERR; /* RSV2/RSV3: no extension defines them */
    /* RSV1 is permessage-deflate's "compressed", on a message's first
     * frame only: never on a continuation or a control frame. */
    if ((h[0] & 0x40) && (!ws->pmd || ctl || ws->opcode == WS_OP_CONT))
        return KITE_WS_CLOSE_PROTOCOL_ERR;
    if (len == 126) {
        len = (uint64_t)h[2] << 8 | h[3];
    } else if (len == 127) {
        len = 0;
        for (i = 0; i < 8; i++)
            len = len << 8 | h[2 + i];
        if (len >> 63)
            return KITE_WS_CLOSE_PROTOCOL_ERR;
    }
    if (ws->masked)
        memcpy(ws->mask, h + ws->hneed - 4, 4);
    ws->mask_off = 0;
    ws->remaining = len;
    if (ctl) {
        if (!ws->fin || len > 125)
            return KITE_WS_CLOSE_PROTOCOL_ERR;
        ws->ctl_len = 0;
        return 0;
    }
    if (ws->opcode == WS_OP_CONT && !ws->msg_op)
        return KITE_WS_CLOSE_PROTOCOL_ERR; /* continuation of nothing */
    if (ws->opcode != WS_OP_CONT && ws->msg_op)
        return KITE_WS_CLOSE_PROTOCOL_ERR; /* new message inside a fragmented one */
    if (ws->opcode != WS_OP_CONT) {
        ws->msg_op = ws->opcode;
        ws->rx_comp = (h[0] & 0x40) != 0;
        ws->rx_out = 0;
        ws->first = 1;
        ws->utf8 = KITE__UTF8_ACCEPT;
        ws->msg_len = 0;
        ws->msg_used = 0;
    }
    if (ws->msg_len + len > (info(c)->ws_max_message ? info(c)->ws_max_message : 16u << 20))
        return KITE_WS_CLOSE_TOO_BIG;
    ws->msg_len += len;
    return 0;
}

static void unmask(kite__ws_t *ws, uint8_t *p, size_t n)
{
    unsigned o = ws->mask_off;
    uint8_t rm[8];
    uint64_t m64, v;
    size_t i = 0;
    int k;

    for (k = 0; k < 8; k++)
        rm[k] = ws->mask[(o + (unsigned)k) & 3];
    memcpy(&m64, rm, 8);
    for (; i + 8 <= n; i += 8) {
        memcpy(&v, p + i, 8);
        v ^= m64;
        memcpy(p + i, &v, 8);
    }
    for (; i < n; i++)
        p[i] ^= ws->mask[(o + i) & 3];
    ws->mask_off = (uint8_t)((o + n) & 3);
}

/* Deliver a piece of the current message; 0, a close code, or -1 (closed). */
static int deliver(kite_conn_t *c, const uint8_t *p, size_t n, int final)
{
    kite__ws_t *ws = WS(c);
    const kite_protocol_t *pr = c->proto;
    unsigned flags = (ws->msg_op == WS_OP_BINARY ? KITE_RX_BINARY : 0u);

    if (ws->msg_op == WS_OP_TEXT) {
        ws->utf8 = kite__utf8_check(ws->utf8, p, n);
        if (ws->utf8 == KITE__UTF8_REJECT || (final && ws->utf8 != KITE__UTF8_ACCEPT))
            return KITE_WS_CLOSE_INVALID_PAYLOAD;
    }
    if (ws->close_sent || !pr->on_receive)
        return 0;
    if (pr->flags & KITE_PROTO_WHOLE_MESSAGES) {
        size_t lim = pr->rx_buffer_size        ? pr->rx_buffer_size
                     : info(c)->ws_max_message ? info(c)->ws_max_message
                                               : 16u << 20;
        if (ws->msg_used + n > lim)
            return KITE_WS_CLOSE_TOO_BIG;
        if (ws->msg_used + n > ws->msg_cap) {
            size_t cap = ws->msg_cap ? ws->msg_cap : 1024;
            char *m;
            while (cap < ws->msg_used + n)
                cap *= 2;
            if (cap > lim)
                cap = lim;
            m = realloc(ws->msg, cap);
            if (!m)
                return KITE_WS_CLOSE_UNEXPECTED;
            ws->msg = m;
            ws->msg_cap = cap;
        }
        /* An empty message may leave ws->msg NULL: no arithmetic on it then. */
        if (n)
            memcpy(ws->msg + ws->msg_used, p, n);
        ws->msg_used += n;
        if (!final)
            return 0;
        n = ws->msg_used;
        ws->msg_used = 0;
        return pr->on_receive(c, c->user, ws->msg ? ws->msg : "", n,
                              flags | KITE_RX_FIRST | KITE_RX_FINAL)
                   ? -1
                   : 0;
    }
    if (ws->first)
        flags |= KITE_RX_FIRST;
    if (final)
        flags |= KITE_RX_FINAL;
    ws->first = 0;
    return pr->on_receive(c, c->user, p, n, flags) ? -1 : 0;
}

/* The largest message a protocol takes, as inflated: ws_max_message,
 * and rx_buffer_size too for whole messages. */
static size_t max_message(const kite_conn_t *c)
{
    const kite_protocol_t *pr = c->proto;
    size_t lim = info(c)->ws_max_message ? info(c)->ws_max_message : 16u << 20;

    if ((pr->flags & KITE_PROTO_WHOLE_MESSAGES) && pr->rx_buffer_size && pr->rx_buffer_size < lim)
        lim = pr->rx_buffer_size;
    return lim;
}

/* Inflate a payload piece of a compressed message and deliver what comes
 * out as it comes, never more than the message limit (a bomb is cut off
 * within 16 KiB of it). *used gets the input consumed: less than @n only
 * when the handler paused reading, which stops inflating between output
 * pieces. Returns as deliver(). */
static int rx_inflate(kite_conn_t *c, const uint8_t *p, size_t n, int final, size_t *used)
{
    kite__ws_t *ws = WS(c);
    uint8_t out[16384];
    size_t lim = max_message(c), u, got, room;
    int r, d;

    *used = 0;
    /* No payload at all: an empty message, whose bare 00 00 ff ff tail
     * would be no complete block. */
    if (final && ws->msg_len == 0)
        return deliver(c, (const uint8_t *)"", 0, 1);
    do {
        room = lim - ws->rx_out < sizeof(out) ? (size_t)(lim - ws->rx_out) + 1 : sizeof(out);
        r = kite__pmd_inflate(ws->pmd, p + *used, n - *used, final, out, room, &u, &got);
        *used += u;
        if (r < 0)
            return r == KITE_ENOMEM ? KITE_WS_CLOSE_UNEXPECTED : KITE_WS_CLOSE_INVALID_PAYLOAD;
        ws->rx_out += got;
        if (ws->rx_out > lim)
            return KITE_WS_CLOSE_TOO_BIG;
        if (got || (r == 0 && final)) {
            d = deliver(c, out, got, r == 0 && final);
            if (d)
                return d;
        }
        if (r == 1 && *used < n && (c->flags & (KITE__C_RX_OFF | KITE__C_CLOSING | KITE__C_CLOSED)))
            break;
    } while (r == 1);
    return 0;
}

static const char *fail_reason(int code)
{
    return code == KITE_WS_CLOSE_INVALID_PAYLOAD ? "invalid payload"
           : code == KITE_WS_CLOSE_TOO_BIG       ? "message too big"
                                                 : "internal error";
}

int kite__ws_process(kite_conn_t *c, char *buf, size_t len)
{
    kite__ws_t *ws = WS(c);
    size_t off = 0;
    int r = 0;

    c->rflags |= WS_F_PROCESSING;
    while (off < len) {
        if (c->flags & (KITE__C_CLOSING | KITE__C_CLOSED))
            goto out; /* input after the close is dropped */
        if (c->flags & KITE__C_RX_OFF)
            break; /* flow control: keep the rest */
        if (ws->pstate == WSP_HEADER) {
            if (ws->hlen < 2) {
                ws->hbuf[ws->hlen++] = (uint8_t)buf[off++];
                if (ws->hlen < 2)
                    continue;
                ws->masked = ws->hbuf[1] >> 7;
                if (ws->masked == ws->client) {
                    kite__ws_fail(c, KITE_WS_CLOSE_PROTOCOL_ERR,
                                  ws->client ? "masked server frame" : "unmasked client frame");
                    goto out;
                }
                ws->hneed = (uint8_t)(2 + (ws->masked ? 4 : 0) +
                                      ((ws->hbuf[1] & 0x7f) == 126   ? 2
                                       : (ws->hbuf[1] & 0x7f) == 127 ? 8
                                                                     : 0));
            }
            while (ws->hlen < ws->hneed && off < len)
                ws->hbuf[ws->hlen++] = (uint8_t)buf[off++];
            if (ws->hlen < ws->hneed)
                continue;
            ws->hlen = 0;
            r = header_done(c);
            if (r) {
                kite__ws_fail(c, r,
                              r == KITE_WS_CLOSE_TOO_BIG ? "message too big" : "bad frame header");
                r = 0;
                goto out;
            }
            ws->pstate = WSP_PAYLOAD;
        }
        /* Payload (possibly empty). */
        {
            size_t k = len - off < ws->remaining ? len - off : (size_t)ws->remaining;
            uint8_t *p = (uint8_t *)buf + off;
            int end;

            if (ws->masked)
                unmask(ws, p, k);
            off += k;
            ws->remaining -= k;
            end = ws->remaining == 0;
            if (ws->opcode & 8) {
                memcpy(ws->ctl + ws->ctl_len, p, k);
                ws->ctl_len = (uint8_t)(ws->ctl_len + k);
                if (end) {
                    ws->pstate = WSP_HEADER;
                    on_control(c);
                }
                continue;
            }
            if (k || (end && ws->fin)) {
                int final = end && ws->fin;
                size_t used = k;
                r = ws->rx_comp ? rx_inflate(c, p, k, final, &used) : deliver(c, p, k, final);
                if (r < 0) {
                    r = KITE_ECLOSED;
                    goto out;
                }
                if (r) {
                    kite__ws_fail(c, r, fail_reason(r));
                    r = 0;
                    goto out;
                }
                if (used < k) {
                    /* Paused inside the piece: mask the rest again (it is
                     * unmasked when read again) and keep it. */
                    size_t left = k - used;
                    uint8_t at = (uint8_t)((ws->mask_off + 4u - (left & 3u)) & 3u);
                    if (ws->masked) {
                        ws->mask_off = at;
                        unmask(ws, p + used, left);
                        ws->mask_off = at;
                    }
                    off -= left;
                    ws->remaining += left;
                    end = final = 0;
                }
                if (final)
                    ws->msg_op = 0;
            }
            if (end)
                ws->pstate = WSP_HEADER;
        }
    }
    /* Keep what a pause left unread. With nothing left, pass the start of
     * the buffer: buf + len is one past the end of c->in, which
     * kite__conn_keep_input() does not take for c->in, and the stale bytes
     * (already unmasked) would be parsed again after the next read. */
    if (kite__conn_keep_input(c, off < len ? buf + off : buf, len - off) < 0)
        r = KITE_ENOMEM;
    c->rflags &= ~WS_F_PROCESSING;
    return r;
out:
    kite__conn_keep_input(c, buf, 0);
    c->rflags &= ~WS_F_PROCESSING;
    return r;
}

static int on_data(kite_conn_t *c, char *buf, size_t len)
{
    if (kite__conn_join_input(c, &buf, &len) < 0)
        return KITE_ENOMEM;
    return kite__ws_process(c, buf, len);
}

static void on_rx_resume(kite_conn_t *c)
{
    if (c->in_len && !(c->rflags & WS_F_PROCESSING) && kite__ws_process(c, c->in, c->in_len) < 0)
        kite__conn_close_now(c, KITE_CLOSE_ERROR);
}

static void on_eof(kite_conn_t *c, int status)
{
    (void)status;
    kite__conn_close_now(c, KITE_CLOSE_PEER);
}

static int on_writeable(kite_conn_t *c)
{
    const kite_protocol_t *p = c->proto;

    if (WS(c)->close_sent || !p->on_writeable)
        return 0;
    return p->on_writeable(c, c->user) ? KITE_ECLOSED : 0;
}

static void on_drain(kite_conn_t *c)
{
    kite__ws_idle_timeout(c);
}

static int on_timeout(kite_conn_t *c)
{
    kite__ws_t *ws = WS(c);

    if (ws->close_sent || ws->ping_out || !info(c)->ws_ping_pong_secs)
        return -1; /* no close answer, no pong, or a blocked peer */
    ws->ping_out = 1;
    kite__ws_send_frame(c, WS_OP_PING, 1, NULL, 0);
    kite__conn_set_state_timeout(c, info(c)->ws_ping_pong_secs * 1000u);
    return 0;
}

static int ws_write(kite_conn_t *c, const void *buf, size_t len, unsigned flags)
{
    kite__ws_t *ws = WS(c);
    unsigned kind = flags & KITE_WRITE_KIND_MASK;
    int fin = !(flags & KITE_WRITE_NO_FIN), op;

    if (ws->close_sent || (c->flags & KITE__C_CLOSING))
        return KITE_ECLOSED;
    switch (kind) {
    case KITE_WRITE_PING:
    case KITE_WRITE_PONG:
        if (len > 125 || !fin)
            return KITE_EINVAL;
        return kite__ws_send_frame(c, kind == KITE_WRITE_PING ? WS_OP_PING : WS_OP_PONG, 1, buf,
                                   len);
    case KITE_WRITE_TEXT:
    case KITE_WRITE_BINARY:
        if (ws->tx_open)
            return KITE_EINVAL; /* the fragmented message must be finished first */
        op = kind == KITE_WRITE_TEXT ? WS_OP_TEXT : WS_OP_BINARY;
        break;
    case KITE_WRITE_CONTINUATION:
        if (!ws->tx_open)
            return KITE_EINVAL;
        op = WS_OP_CONT;
        break;
    default:
        return KITE_EINVAL;
    }
    if (c->out_bytes + len > info(c)->max_output)
        return KITE_EAGAIN;
    /* With permessage-deflate every message is compressed but an empty
     * one sent whole (its compressed form, 00, is no shorter). */
    if (op != WS_OP_CONT)
        ws->tx_comp = ws->pmd && (len || !fin);
    ws->tx_open = !fin;
    if (ws->tx_comp)
        return send_deflated(c, op, fin, buf, len);
    return kite__ws_send_frame(c, op, fin, buf, len);
}

static int ws_close(kite_conn_t *c, int code, const char *reason)
{
    kite__ws_t *ws = WS(c);

    if (ws->close_sent)
        return 0;
    if (code && !close_code_ok((unsigned)code))
        return KITE_EINVAL;
    send_close(c, code ? code : KITE_WS_CLOSE_NORMAL, reason);
    /* Wait (bounded) for the peer's close frame before closing TCP. */
    kite__ws_idle_timeout(c);
    return 0;
}

static void on_close(kite_conn_t *c, int reason)
{
    kite__ws_t *ws = WS(c);
    const kite_protocol_t *p = c->proto;
    int code;

    (void)reason;
    if (!ws)
        return;
    code = ws->close_rcvd ? ws->peer_code : ws->close_sent ? ws->sent_code : KITE_WS_CLOSE_ABNORMAL;
    if (p && p->on_closed)
        p->on_closed(c, c->user, code);
    kite__pmd_destroy(ws->pmd);
    kite__client_free(ws->cl);
    free(ws->msg);
    free(ws);
    c->rd = NULL;
}

static void ws_drain(kite_conn_t *c)
{
    ws_close(c, KITE_WS_CLOSE_GOING_AWAY, "going away");
}

int kite_ws_is_websocket(const kite_conn_t *c)
{
    return c->role == &kite__role_ws;
}

int kite_ws_peer_close_code(const kite_conn_t *c)
{
    return c->role == &kite__role_ws && WS(c) && WS(c)->close_rcvd ? WS(c)->peer_code : 0;
}

int kite_ws_deflate_active(const kite_conn_t *c)
{
    return c->role == &kite__role_ws && WS(c) && WS(c)->pmd;
}

int kite_callback_on_writable_all_protocol(kite_vhost_t *vh, const kite_protocol_t *proto)
{
    kite__pt_t *pt = kite__pt_current();
    kite_conn_t *c;
    int n = 0;

    if (!pt && vh->ctx->npts == 1)
        pt = &vh->ctx->pts[0];
    if (!pt)
        return KITE_ESTATE;
    for (c = pt->conns; c; c = c->cnext)
        if (c->vh == vh && c->proto == proto && c->role == &kite__role_ws &&
            kite_callback_on_writable(c) == 0)
            n++;
    return n;
}

const struct kite__role_ops kite__role_ws = {
    .name = "ws",
    .on_data = on_data,
    .on_eof = on_eof,
    .on_writeable = on_writeable,
    .on_drain = on_drain,
    .on_timeout = on_timeout,
    .write = ws_write,
    .on_close = on_close,
    .close = ws_close,
    .on_rx_resume = on_rx_resume,
    .drain = ws_drain,
};
