/*
 * Helpers for the HTTP directive tests: a context run by kite_run() in
 * its own thread, and a blocking client that sends raw request bytes on
 * a new 127.0.0.1 connection and reads the answer until the server
 * closes (5 s receive timeout).
 */
#ifndef KITE_TEST_SRV_H
#define KITE_TEST_SRV_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kite.h"

static inline void *srv_main(void *ctx)
{
    kite_run(ctx);
    return NULL;
}

static inline void srv_start(kite_context_t *ctx, pthread_t *th)
{
    pthread_create(th, NULL, srv_main, ctx);
}

static inline void srv_stop(kite_context_t *ctx, pthread_t th)
{
    kite_cancel_service(ctx);
    pthread_join(th, NULL);
    kite_context_destroy(ctx);
}

static inline int srv_dial(int port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {5, 0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
        close(fd);
        return -1;
    }
    return fd;
}

static inline int srv_send(int fd, const char *s)
{
    return write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;
}

/* Read until EOF (or a timeout or reset); returns the bytes read. */
static inline int srv_read_all(int fd, char *out, size_t cap)
{
    size_t got = 0;
    ssize_t n;

    while (got < cap - 1 && (n = read(fd, out + got, cap - 1 - got)) > 0)
        got += (size_t)n;
    out[got] = '\0';
    return (int)got;
}

/* Send @req on a new connection; the whole answer in @out. Returns the status or -1. */
static inline int srv_request(int port, const char *req, char *out, size_t cap)
{
    int fd = srv_dial(port), status = -1;

    out[0] = '\0';
    if (fd < 0)
        return -1;
    if (srv_send(fd, req) == 0)
        srv_read_all(fd, out, cap);
    close(fd);
    if (sscanf(out, "HTTP/1.1 %d", &status) != 1)
        return -1;
    return status;
}

/* The body of a response in @resp. */
static inline const char *srv_body(const char *resp)
{
    const char *b = strstr(resp, "\r\n\r\n");
    return b ? b + 4 : "";
}

static inline void srv_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static inline double srv_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
