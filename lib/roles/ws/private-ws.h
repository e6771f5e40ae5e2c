/*
 * WebSocket role internals: the per-connection state (frame parser,
 * message assembly, close handshake, keepalive ping) and the entry
 * points between the handshake, the parser and the role ops.
 */
#ifndef KITE_WS_PRIVATE_H
#define KITE_WS_PRIVATE_H

#include "core/private.h"
#include "roles/roles.h"

enum {
    WS_OP_CONT = 0,
    WS_OP_TEXT = 1,
    WS_OP_BINARY = 2,
    WS_OP_CLOSE = 8,
    WS_OP_PING = 9,
    WS_OP_PONG = 10,
};

enum { WSP_HEADER, WSP_PAYLOAD };

/* The role's bits in conn->rflags */
#define WS_F_PROCESSING (1u << 0) /* inside the input loop */

typedef struct kite__ws {
    struct kite_http_req_s *req; /* the upgrade request, during on_established only */
    struct kite__pmd *pmd;       /* permessage-deflate when negotiated, else NULL */
    uint64_t rx_out;             /* inflated bytes of the current compressed message */
    uint64_t remaining;          /* payload bytes left in the current frame */
    uint64_t msg_len;            /* bytes of the current message so far */
    char *msg;                   /* whole-message mode: the assembled message */
    size_t msg_used, msg_cap;
    uint32_t utf8;  /* validator state of the current text message */
    uint8_t pstate; /* WSP_* */
    uint8_t hlen;   /* header bytes collected */
    uint8_t hneed;  /* header bytes needed (2..14) */
    uint8_t opcode; /* of the current frame */
    uint8_t fin;
    uint8_t msg_op; /* TEXT/BINARY while a message is open, else 0 */
    uint8_t first;  /* the next data piece starts a message */
    uint8_t mask_off;
    uint8_t tx_open; /* we are sending a fragmented message */
    uint8_t rx_comp; /* the message being received is compressed (RSV1) */
    uint8_t tx_comp; /* the message being sent is compressed */
    uint8_t close_sent;
    uint8_t close_rcvd;
    uint8_t ping_out; /* a keepalive ping awaits its pong */
    uint8_t ctl_len;
    uint16_t peer_code;
    uint16_t sent_code;
    uint8_t client; /* kite made the conn: masks what it sends, none on input */
    uint8_t masked; /* the current frame is masked */
    uint8_t mask[4];
    uint8_t hbuf[14];
    uint8_t ctl[125];        /* control frame payload */
    struct kite__client *cl; /* client conns: lib/client's state */
} kite__ws_t;

/* handshake.c: is this a websocket upgrade request; answer one. */
int kite__ws_is_upgrade(const struct kite_http_req_s *t);
int kite__ws_upgrade(kite_conn_t *c, struct kite_http_req_s *t);
/* The same with the protocol @only instead of the vhost's choice. */
int kite__ws_upgrade_proto(kite_conn_t *c, struct kite_http_req_s *t, const kite_protocol_t *only);
/* The HTTP/1.1 answer to an upgrade (kite__http_wire.ws_accept): the 101
 * with the accept key made from Sec-WebSocket-Key (KITE_EINVAL if bad),
 * naming @subprotocol and @extensions when not NULL. */
int kite__ws_accept_h1(kite_conn_t *c, struct kite_http_req_s *t, const char *subprotocol,
                       const char *extensions);

/* ops-ws.c */
int kite__ws_process(kite_conn_t *c, char *buf, size_t len);
/* Send a close frame with @code and fail or finish the connection. */
void kite__ws_fail(kite_conn_t *c, int code, const char *why);
int kite__ws_send_frame(kite_conn_t *c, int opcode, int fin, const void *buf, size_t len);
void kite__ws_idle_timeout(kite_conn_t *c);

#endif
