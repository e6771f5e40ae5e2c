/*
 * The event backend interface. lib/event is the only code that knows the
 * loop: core calls these to read, write, arm the one timer of a service
 * thread and wake it; the backend calls core back through the kite__conn_*,
 * kite__out_write_done, kite__pt_run_* entry points. uv.c implements it
 * on libuv; the external-poll backend implements the same set.
 */
#ifndef KITE_EVENT_H
#define KITE_EVENT_H

#include <sys/uio.h>

#include "core/private.h"

struct kite__event_ops {
    const char *name;
    int (*pt_init)(kite__pt_t *pt, void *foreign_loop);
    /* Close every handle of the pt (listeners, conns, timer, async) and run
     * the loop until they are closed. The loop itself is freed unless it
     * is foreign. */
    void (*pt_destroy)(kite__pt_t *pt);
    /* Run: @timeout_ms -1 until stopped; otherwise one pass waiting at most
     * that long. */
    int (*run)(kite__pt_t *pt, int timeout_ms);
    void (*stop)(kite__pt_t *pt);
    void (*wakeup)(kite__pt_t *pt); /* any thread */
    uint64_t (*now_ms)(kite__pt_t *pt);
    /* Fire kite__pt_run_timers() in @ms (UINT64_MAX: never). */
    void (*timer_arm)(kite__pt_t *pt, uint64_t ms);
    /* The ready list is (not) empty: do not block in poll while it is not. */
    void (*ready_pending)(kite__pt_t *pt, int on);
    int (*listen)(kite__pt_t *pt, kite__listener_t *ls);
    void (*listen_close)(kite__listener_t *ls);
    int (*read_start)(kite_conn_t *c);
    void (*read_stop)(kite_conn_t *c);
    /* Write what the kernel takes now: bytes written (maybe 0) or <0. */
    ssize_t (*try_writev)(kite_conn_t *c, const struct iovec *iov, int n, int more);
    /* Send a file range now: bytes sent (maybe 0) or <0. */
    ssize_t (*try_sendfile)(kite_conn_t *c, int fd, off_t *pos, size_t len);
    /* Write all of iov in the background; kite__out_write_done() follows.
     * The memory must stay valid until then. One at a time per conn. */
    int (*write_async)(kite_conn_t *c, const struct iovec *iov, int n);
    int (*shutdown_write)(kite_conn_t *c);
    int (*fd)(const kite_conn_t *c);
    /* Close the handle; kite__conn_freed() follows from the loop. */
    void (*conn_close)(kite_conn_t *c);
    /* Wrap an open fd (a stream socket, or a pipe/FIFO when !is_socket) in a
     * new connection of @vh; NULL with *err. */
    kite_conn_t *(*adopt)(kite__pt_t *pt, kite_vhost_t *vh, int fd, int is_socket, int *err);
    /* Wrap a bound UDP socket; datagrams come to kite__conn_on_datagram(). */
    kite_conn_t *(*udp_open)(kite__pt_t *pt, kite_vhost_t *vh, int fd, int *err);
    /* Client connections (lib/client). A new conn of @vh with no socket yet. */
    kite_conn_t *(*client_new)(kite__pt_t *pt, kite_vhost_t *vh, int *err);
    /* @fd is a non-blocking socket whose connect() is in progress: wait for
     * it, then kite__conn_on_connect(). On success @fd becomes the conn's
     * socket; on failure the backend has closed it (another may follow).
     * Returns 0, or <0 (then @fd is the caller's). */
    int (*connect_fd)(kite_conn_t *c, int fd);
    /* Start a lookup; 0 or <0. resolve_cancel(): @cb will not be called, and
     * @q may be freed at once. */
    int (*resolve)(kite__pt_t *pt, kite__dns_t *q);
    void (*resolve_cancel)(kite__pt_t *pt, kite__dns_t *q);
};

/* core: the connect of client conn @c finished (@status 0 or <0). */
void kite__conn_on_connect(kite_conn_t *c, int status);

/* core: a datagram from @from arrived on UDP conn @c. */
void kite__conn_on_datagram(kite_conn_t *c, char *buf, size_t len, const struct sockaddr *from,
                            unsigned fromlen);

extern const struct kite__event_ops kite__event_uv;
extern const struct kite__event_ops kite__event_extpoll;

/* sock.c: non-blocking socket writes shared by the backends. */
ssize_t kite__sock_writev(int fd, const struct iovec *iov, int n, int more, int is_socket);
ssize_t kite__sock_sendfile(int fd, int file, off_t *pos, size_t len);
int kite__sock_sendto(int fd, const void *buf, size_t len, const struct sockaddr *to,
                      unsigned tolen);

#endif
