/*
 * Raw connections: bytes in, bytes out, no protocol framing, through the
 * same callbacks and writeable discipline as everything else. A raw
 * connection is bound to one protocol: on_established when it starts,
 * on_raw for each piece read, on_writeable, on_closed.
 *
 * Three ways in: kite_adopt_fd() (an open socket, pipe or FIFO), a vhost
 * with KITE_VH_RAW_ONLY (every accepted connection is raw), and a vhost
 * with KITE_VH_FALLBACK_TO_RAW (a connection whose first bytes are not an
 * HTTP request line becomes raw, those bytes delivered first). The
 * protocol is the vhost's one whose pvo has the option "raw".
 */
#ifndef KITE_RAW_H
#define KITE_RAW_H

enum {
    KITE_ADOPT_SOCKET = 1, /* a connected stream socket */
    KITE_ADOPT_FILE = 2,   /* a pollable file descriptor: pipe, FIFO, tty */
    KITE_ADOPT_UDP = 3,    /* a bound UDP socket: one on_raw per datagram */
};

struct sockaddr;
struct sockaddr_storage;

/**
 * kite_adopt_fd() - make @fd (non-blocking or not; kite sets O_NONBLOCK)
 * a raw connection of @vh bound to the protocol called @protocol, on the
 * calling service thread (thread 0 when called before the loop runs).
 * kite owns and closes the fd from then on. Returns the connection, or
 * NULL with *err (KITE_EINVAL: unknown protocol or flags, KITE_ENOTSUP: a
 * regular file, which cannot be polled).
 */
KITE_EXTERN kite_conn_t *kite_adopt_fd(kite_vhost_t *vh, int fd, unsigned flags,
                                       const char *protocol, int *err);

/*
 * UDP. A vhost with KITE_VH_UDP listens on a UDP port instead of TCP, and
 * kite_adopt_fd(..., KITE_ADOPT_UDP, ...) takes a bound UDP socket. Such a
 * connection stands for the socket: on_raw gets one datagram per call,
 * and kite_write() sends one datagram back to the sender of the last one.
 */

/** kite_udp_peer() - the sender of the last datagram; 0 or KITE_ENOENT / KITE_EINVAL. */
KITE_EXTERN int kite_udp_peer(const kite_conn_t *c, struct sockaddr_storage *ss, unsigned *len);

/**
 * kite_udp_sendto() - send one datagram to @to now. Returns 0, KITE_EAGAIN
 * when the socket's buffer is full (ask for on_writeable and retry), or
 * another negative code.
 */
KITE_EXTERN int kite_udp_sendto(kite_conn_t *c, const void *buf, size_t len,
                                const struct sockaddr *to, unsigned tolen);

#endif
