/*
 * WebSocket (RFC 6455). A request with "Upgrade: websocket" on any vhost
 * becomes a websocket bound to the first protocol in its
 * Sec-WebSocket-Protocol list that the vhost has, or to the vhost's
 * default protocol (pvo "default") when it names none. Messages reach
 * on_receive; kite_write() sends them; kite_close() closes with a code.
 */
#ifndef KITE_WS_H
#define KITE_WS_H

/* on_receive flags. */
enum {
    KITE_RX_FIRST = 1 << 0,  /* first piece of a message */
    KITE_RX_FINAL = 1 << 1,  /* last piece of a message */
    KITE_RX_BINARY = 1 << 2, /* a binary message (else text, valid UTF-8) */
};

/* kite_protocol_t.flags */
enum {
    /* Deliver whole messages (up to rx_buffer_size, else close 1009)
     * instead of pieces as they arrive. */
    KITE_PROTO_WHOLE_MESSAGES = 1 << 0,
    /* Never negotiate permessage-deflate for this protocol, even on a
     * vhost that has it (the pvo option "no-deflate" does the same from
     * a config file). */
    KITE_PROTO_NO_DEFLATE = 1 << 1,
};

/* kite_ws_deflate_t.flags */
enum {
    /* Never keep an LZ77 window between messages in either direction: the
     * response carries server_no_context_takeover and
     * client_no_context_takeover, and the zlib state of a connection is
     * freed after each message (idle connections hold none). */
    KITE_WS_DEFLATE_NO_CONTEXT_TAKEOVER = 1 << 0,
};

/**
 * permessage-deflate settings (RFC 7692) of a vhost (kite_vhost_info_t
 * ws_deflate) or a client (kite_client_info_t ws_deflate), made with
 * KITE_WS_DEFLATE_INIT(...). Caller-owned; kite copies it at vhost
 * creation or connect. Zero members take the defaults.
 */
typedef struct kite_ws_deflate_s {
    size_t struct_size; /* sizeof(kite_ws_deflate_t): KITE_WS_DEFLATE_INIT */
    int level;          /* zlib compression level 1-9; 0: 1 (fastest) */
    int mem_level;      /* zlib memLevel 1-9; 0: 8 */
    int window_bits;    /* 8-15: the largest LZ77 window (log2) used either way; 0: 15 */
    unsigned flags;     /* KITE_WS_DEFLATE_* */
} kite_ws_deflate_t;

#define KITE_WS_DEFLATE_INIT(...)                                                                  \
    {                                                                                              \
        .struct_size = sizeof(kite_ws_deflate_t), __VA_ARGS__                                      \
    }

/* Close codes (RFC 6455 7.4.1). */
enum {
    KITE_WS_CLOSE_NORMAL = 1000,
    KITE_WS_CLOSE_GOING_AWAY = 1001,
    KITE_WS_CLOSE_PROTOCOL_ERR = 1002,
    KITE_WS_CLOSE_UNACCEPTABLE = 1003,
    KITE_WS_CLOSE_NO_STATUS = 1005,
    KITE_WS_CLOSE_ABNORMAL = 1006,
    KITE_WS_CLOSE_INVALID_PAYLOAD = 1007,
    KITE_WS_CLOSE_POLICY = 1008,
    KITE_WS_CLOSE_TOO_BIG = 1009,
    KITE_WS_CLOSE_EXTENSION = 1010,
    KITE_WS_CLOSE_UNEXPECTED = 1011,
};

/** kite_ws_is_websocket() - nonzero when @c speaks WebSocket. */
KITE_EXTERN int kite_ws_is_websocket(const kite_conn_t *c);

/**
 * kite_callback_on_writable_all_protocol() - kite_callback_on_writable()
 * for every websocket of @proto on @vh served by the calling service
 * thread (each thread owns its connections; reach the others with
 * kite_post()). Returns the number of connections asked, or KITE_ESTATE
 * when called from outside a service thread.
 */
KITE_EXTERN int kite_callback_on_writable_all_protocol(kite_vhost_t *vh,
                                                       const kite_protocol_t *proto);

/** kite_ws_peer_close_code() - the close code the peer sent, or 0. */
KITE_EXTERN int kite_ws_peer_close_code(const kite_conn_t *c);

/**
 * kite_ws_deflate_active() - nonzero when permessage-deflate was
 * negotiated on the websocket @c (then kite compresses the messages it
 * writes and inflates those the peer sent compressed; handlers see plain
 * data either way).
 */
KITE_EXTERN int kite_ws_deflate_active(const kite_conn_t *c);

#endif
