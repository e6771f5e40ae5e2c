/*
 * External polling: the application owns the poll()/epoll loop and kite
 * tells it which fds to watch. Set kite_context_info_t.extpoll; kite then
 * calls add_fd/change_mode/del_fd for every fd it opens (listen sockets,
 * connections, its wakeup eventfd), and the application hands back what
 * poll reported with kite_service_fd() and sleeps at most
 * kite_next_timeout_ms(). One service thread only (count_threads 1).
 */
#ifndef KITE_EXTPOLL_H
#define KITE_EXTPOLL_H

#include <poll.h>

/**
 * The application's callbacks, called on the service thread, made with
 * KITE_EXTPOLL_INIT(...). @events are POLLIN / POLLOUT bits. Return 0, or
 * a negative value to refuse (kite then closes that fd). kite copies the
 * struct at kite_context_create().
 */
typedef struct kite_extpoll_s {
    size_t struct_size; /* sizeof(kite_extpoll_t): KITE_EXTPOLL_INIT */
    int (*add_fd)(void *user, int fd, short events);
    int (*del_fd)(void *user, int fd);
    int (*change_mode)(void *user, int fd, short events);
    void *user;
    /* Optional: called around each of the three calls above, for an
     * application whose poll array other threads touch too. */
    void (*lock)(void *user);
    void (*unlock)(void *user);
} kite_extpoll_t;

#define KITE_EXTPOLL_INIT(...)                                                                     \
    {                                                                                              \
        .struct_size = sizeof(kite_extpoll_t), __VA_ARGS__                                         \
    }

/**
 * kite_service_fd() - service @fd for the poll result @revents. Returns 1
 * when the fd was kite's and has been serviced, 0 when kite does not own
 * it (nothing done), or a negative KITE_E* code. Work that became due
 * (writeable callbacks, output to flush) runs before it returns.
 */
KITE_EXTERN int kite_service_fd(kite_context_t *ctx, int fd, short revents);

/**
 * kite_service_pollfd() - the same for a struct pollfd: when the fd was
 * kite's, pfd->revents is set to 0 so the application can tell which
 * entries are left for it (the lws way).
 */
KITE_EXTERN int kite_service_pollfd(kite_context_t *ctx, struct pollfd *pfd);

/**
 * kite_next_timeout_ms() - the longest the application may sleep in poll
 * before calling kite_service_pending(): 0 when work is pending now, -1
 * when kite has no timer at all.
 */
KITE_EXTERN int kite_next_timeout_ms(kite_context_t *ctx, int tsi);

/**
 * kite_service_pending() - run what is due without an fd event: timers
 * (keep-alive, ws pings, handler timers), posts from other threads and
 * writeable callbacks. Returns 0 or a negative code.
 */
KITE_EXTERN int kite_service_pending(kite_context_t *ctx, int tsi);

#endif
