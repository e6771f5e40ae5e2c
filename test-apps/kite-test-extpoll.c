/*
 * kite-test-extpoll: kite-test-server (same flags, same page, same
 * protocols and mounts) running on the application's own poll() array
 * instead of kite's libuv loop, as lws's test-server-extpoll does. kite
 * tells us which fds to watch through the add_fd / del_fd / change_mode
 * callbacks; main() polls them, hands what poll reported back with
 * kite_service_pollfd() and never sleeps longer than
 * kite_next_timeout_ms(). One service thread only (-t is refused by kite
 * for more than one). SIGINT / SIGTERM end the loop; the signals are
 * blocked outside ppoll() so one arriving just before it is not lost.
 * It prints "kite-test-server: listening on port N" once ready, so the
 * integration suites run against it unchanged.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test-server-common.h"

/* The application's poll array: kite's fds (and any of our own). */
static struct pollfd *fds;
static int nfds, cap_fds;
static volatile sig_atomic_t stop;

static int find_fd(int fd)
{
    int i;

    for (i = 0; i < nfds; i++)
        if (fds[i].fd == fd)
            return i;
    return -1;
}

static int add_fd(void *user, int fd, short events)
{
    (void)user;
    if (find_fd(fd) >= 0) {
        fprintf(stderr, "kite-test-extpoll: fd %d added twice\n", fd);
        return -1;
    }
    if (nfds == cap_fds) {
        int ncap = cap_fds ? cap_fds * 2 : 64;
        struct pollfd *n = realloc(fds, (size_t)ncap * sizeof(*n));

        if (!n)
            return -1;
        fds = n;
        cap_fds = ncap;
    }
    fds[nfds].fd = fd;
    fds[nfds].events = events;
    fds[nfds].revents = 0; /* not reported by the poll() being serviced */
    nfds++;
    return 0;
}

static int del_fd(void *user, int fd)
{
    int i = find_fd(fd);

    (void)user;
    if (i < 0) {
        fprintf(stderr, "kite-test-extpoll: fd %d deleted but not added\n", fd);
        return -1;
    }
    fds[i] = fds[--nfds]; /* the last entry moves into the hole */
    return 0;
}

static int change_mode(void *user, int fd, short events)
{
    int i = find_fd(fd);

    (void)user;
    if (i < 0) {
        fprintf(stderr, "kite-test-extpoll: mode of fd %d changed but not added\n", fd);
        return -1;
    }
    fds[i].events = events;
    return 0;
}

static const kite_extpoll_t extpoll =
    KITE_EXTPOLL_INIT(.add_fd = add_fd, .del_fd = del_fd, .change_mode = change_mode, );

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    static test_server_t ts;
    kite_context_info_t ci = KITE_CONTEXT_INFO_INIT();
    struct sigaction sa;
    sigset_t block, during_poll;
    int rc, i;

    /* SIGINT/SIGTERM are only delivered inside ppoll(), which then fails
     * with EINTR: no race between checking `stop` and going to sleep. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &during_poll);
    sigdelset(&during_poll, SIGINT);
    sigdelset(&during_poll, SIGTERM);

    ci.extpoll = &extpoll;
    rc = test_server_create(&ts, argc, argv, &ci);
    if (rc >= 0)
        return rc;
    test_server_announce(&ts);

    while (!stop) {
        int ms = kite_next_timeout_ms(ts.context, 0), n;
        struct timespec tmo = {ms / 1000, (long)(ms % 1000) * 1000000L};

        n = ppoll(fds, (nfds_t)nfds, ms < 0 ? NULL : &tmo, &during_poll);
        if (n < 0 && errno != EINTR) {
            perror("kite-test-extpoll: poll");
            break;
        }
        /* Servicing may add fds (realloc moves the array) or delete them
         * (the last entry moves into the hole), so service a copy and walk
         * by index; an entry skipped this way is still ready next poll. */
        for (i = 0; n > 0 && i < nfds; i++) {
            struct pollfd p = fds[i];

            if (!p.revents)
                continue;
            fds[i].revents = 0;
            if (kite_service_pollfd(ts.context, &p) < 0)
                fprintf(stderr, "kite-test-extpoll: service of fd %d failed\n", p.fd);
        }
        kite_service_pending(ts.context, 0);
    }

    kite_context_destroy(ts.context);
    if (nfds)
        fprintf(stderr, "kite-test-extpoll: %d fd(s) left in the poll array after destroy\n", nfds);
    free(fds);
    return 0;
}
