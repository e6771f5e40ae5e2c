/*
 * A minimal application poll loop for the extpoll tests: kite's fds are
 * kept in a table by the add_fd / del_fd / change_mode callbacks (only the
 * loop thread touches it: kite calls them on its service thread), and one
 * pass polls them, services what is ready and runs what is pending.
 */
#ifndef KITE_TEST_EXTPOLL_LOOP_H
#define KITE_TEST_EXTPOLL_LOOP_H

#include <poll.h>

#include "kite.h"

#define EL_MAXFD 4096

static short el_events[EL_MAXFD];
static char el_added[EL_MAXFD];
static int el_nadded; /* fds kite has asked for */

static inline int el_add(void *user, int fd, short events)
{
    (void)user;
    if (fd < 0 || fd >= EL_MAXFD)
        return -1;
    el_nadded += !el_added[fd];
    el_added[fd] = 1;
    el_events[fd] = events;
    return 0;
}

static inline int el_del(void *user, int fd)
{
    (void)user;
    if (fd < 0 || fd >= EL_MAXFD)
        return -1;
    el_nadded -= el_added[fd];
    el_added[fd] = 0;
    return 0;
}

static inline int el_chg(void *user, int fd, short events)
{
    (void)user;
    if (fd < 0 || fd >= EL_MAXFD)
        return -1;
    el_events[fd] = events;
    return 0;
}

static const kite_extpoll_t el_ops =
    KITE_EXTPOLL_INIT(.add_fd = el_add, .del_fd = el_del, .change_mode = el_chg);

/* One pass, sleeping at most @cap_ms (less when a kite timer is due). */
static inline void el_pass(kite_context_t *ctx, int cap_ms)
{
    static struct pollfd pfd[EL_MAXFD];
    int n = 0, i, fd, ms = kite_next_timeout_ms(ctx, 0);

    for (fd = 0; fd < EL_MAXFD; fd++)
        if (el_added[fd]) {
            pfd[n].fd = fd;
            pfd[n].events = el_events[fd];
            pfd[n++].revents = 0;
        }
    if (poll(pfd, (nfds_t)n, ms < 0 || ms > cap_ms ? cap_ms : ms) > 0)
        for (i = 0; i < n; i++)
            /* An earlier fd's service may have closed this one. */
            if (pfd[i].revents && el_added[pfd[i].fd])
                kite_service_pollfd(ctx, &pfd[i]);
    kite_service_pending(ctx, 0);
}

#endif
