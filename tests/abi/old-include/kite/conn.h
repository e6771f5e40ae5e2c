/*
 * Connections. A kite_conn_t belongs to one service thread and is only
 * touched from it. Handles stay valid until the protocol's on_closed has
 * returned; after that the pointer must not be used.
 */
#ifndef KITE_CONN_H
#define KITE_CONN_H

enum {
    KITE_WRITE_TEXT = 0,
    KITE_WRITE_BINARY = 1,
    KITE_WRITE_CONTINUATION = 2,
    KITE_WRITE_HTTP = 3,       /* HTTP response body bytes */
    KITE_WRITE_HTTP_FINAL = 4, /* the last HTTP body bytes (len may be 0) */
    KITE_WRITE_PING = 5,
    KITE_WRITE_PONG = 6,
    KITE_WRITE_RAW = 7, /* raw connections: bytes as they are */
    KITE_WRITE_KIND_MASK = 0xf,
    KITE_WRITE_NO_FIN = 1 << 4, /* ws: more fragments follow */
};

/**
 * kite_write() - queue bytes for the peer. Never blocks: what the kernel
 * does not take at once is copied and kept by kite, and the next
 * on_writeable comes only after it has drained. @buf may be reused as
 * soon as this returns.
 * Returns 0, KITE_EAGAIN when the connection's output cap would be
 * passed (nothing is queued), KITE_ECLOSED when it is closing, or
 * KITE_ESTATE / KITE_EINVAL for a write that does not fit the state.
 */
KITE_EXTERN int kite_write(kite_conn_t *c, const void *buf, size_t len, unsigned flags);

/**
 * kite_callback_on_writable() - ask for one on_writeable. Requests made
 * before it runs are coalesced into one. Costs no system call when
 * nothing is pending: the callback runs at the end of the current loop
 * pass. Returns 0 or KITE_ECLOSED.
 */
KITE_EXTERN int kite_callback_on_writable(kite_conn_t *c);

/**
 * kite_close() - close the connection after queued output has been sent
 * (bounded by the send timeout). @code/@reason are used by roles that
 * have them (WebSocket). on_closed follows, once.
 */
KITE_EXTERN int kite_close(kite_conn_t *c, int code, const char *reason);

/** kite_set_timeout() - close the conn if nothing happens for @secs (0: clear). */
KITE_EXTERN int kite_set_timeout(kite_conn_t *c, int secs);

/**
 * kite_rx_flow_control() - @enable 0 stops reading from the peer, 1
 * resumes it. Data already read is delivered first.
 */
KITE_EXTERN int kite_rx_flow_control(kite_conn_t *c, int enable);

KITE_EXTERN kite_vhost_t *kite_conn_vhost(const kite_conn_t *c);
KITE_EXTERN kite_context_t *kite_conn_context(const kite_conn_t *c);
KITE_EXTERN const kite_protocol_t *kite_conn_protocol(const kite_conn_t *c);
KITE_EXTERN void *kite_conn_user(const kite_conn_t *c);
KITE_EXTERN int kite_conn_tsi(const kite_conn_t *c);
/** kite_conn_pending() - bytes queued for the peer but not yet sent. */
KITE_EXTERN size_t kite_conn_pending(const kite_conn_t *c);
/**
 * kite_conn_peer() - peer address as text ("127.0.0.1", "::1", "unix")
 * into @buf. Returns 0 or KITE_E2BIG / KITE_EBADF.
 */
KITE_EXTERN int kite_conn_peer(const kite_conn_t *c, char *buf, size_t len, int *port);

/**
 * kite_conn_fd() - the connection's socket (or pipe) fd, for getsockopt()
 * and the like, or KITE_EBADF once it has none. The fd stays kite's: do
 * not read, write or close it.
 */
KITE_EXTERN int kite_conn_fd(const kite_conn_t *c);

#endif
