/*
 * Blocking clients for the reload and drain tests: a keep-alive HTTP/1.1
 * connection that sends one request at a time and reads the response by
 * its Content-Length, and a websocket (handshake, masked frames, server
 * frames read back). Everything on 127.0.0.1 with a receive timeout.
 */
#ifndef KITE_TEST_CLIENT_UTIL_H
#define KITE_TEST_CLIENT_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static inline uint64_t cu_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline void cu_sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static inline void cu_timeout(int fd, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* A connected socket, or -1 (errno set: ECONNREFUSED when nobody listens). */
static inline int cu_connect(int port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0), e;

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
        e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    cu_timeout(fd, 5000);
    return fd;
}

static inline int cu_send(int fd, const char *s)
{
    size_t n = strlen(s);

    return send(fd, s, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

typedef struct cu_resp {
    int status;
    char body[256];
    char xset[32];  /* the X-Set header, or "" */
    int conn_close; /* Connection: close was in the head */
} cu_resp_t;

static inline const char *cu_header(const char *head, const char *name)
{
    size_t n = strlen(name);
    const char *p;

    for (p = strstr(head, "\r\n"); p && p[2] != '\r'; p = strstr(p + 2, "\r\n"))
        if (!strncasecmp(p + 2, name, n) && p[2 + n] == ':')
            return p + 3 + n + strspn(p + 3 + n, " ");
    return NULL;
}

/* Read one response (head, then Content-Length bytes); the status or -1. */
static inline int cu_read_resp(int fd, cu_resp_t *r)
{
    char head[4096];
    const char *v;
    size_t got = 0, want, i;
    ssize_t n;

    memset(r, 0, sizeof(*r));
    r->status = -1;
    while (got < sizeof(head) - 1) {
        if ((n = recv(fd, head + got, 1, 0)) != 1)
            return -1;
        got++;
        if (got >= 4 && !memcmp(head + got - 4, "\r\n\r\n", 4))
            break;
    }
    head[got] = '\0';
    if (sscanf(head, "HTTP/1.1 %d", &r->status) != 1)
        return -1;
    v = cu_header(head, "Content-Length");
    want = v ? (size_t)strtoul(v, NULL, 10) : 0;
    for (i = 0; i < want; i++) {
        char ch;
        if (recv(fd, &ch, 1, MSG_WAITALL) != 1)
            return -1;
        if (i < sizeof(r->body) - 1)
            r->body[i] = ch;
    }
    if ((v = cu_header(head, "X-Set")))
        snprintf(r->xset, sizeof(r->xset), "%.*s", (int)strcspn(v, "\r"), v);
    v = cu_header(head, "Connection");
    r->conn_close = v && !strncasecmp(v, "close", 5);
    return r->status;
}

/* One request on a kept connection. */
static inline int cu_get(int fd, const char *path, cu_resp_t *r)
{
    char req[256];

    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", path);
    if (cu_send(fd, req) < 0) {
        memset(r, 0, sizeof(*r));
        return r->status = -1;
    }
    return cu_read_resp(fd, r);
}

/* 1 when the server closes the connection within @ms (input is skipped). */
static inline int cu_closed_within(int fd, int ms)
{
    char b[256];
    ssize_t r;

    cu_timeout(fd, ms);
    while ((r = read(fd, b, sizeof(b))) > 0)
        ;
    return r == 0 || (r < 0 && errno == ECONNRESET);
}

/* A websocket for @proto: the fd after a 101, or -1. */
static inline int cu_ws_open(int port, const char *proto)
{
    char req[512], head[1024];
    int fd = cu_connect(port), status = 0;
    size_t got = 0;

    if (fd < 0)
        return -1;
    snprintf(req, sizeof(req),
             "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
             "Sec-WebSocket-Protocol: %s\r\n\r\n",
             proto);
    if (cu_send(fd, req) < 0)
        goto fail;
    while (got < sizeof(head) - 1 && recv(fd, head + got, 1, 0) == 1) {
        got++;
        if (got >= 4 && !memcmp(head + got - 4, "\r\n\r\n", 4))
            break;
    }
    head[got] = '\0';
    if (sscanf(head, "HTTP/1.1 %d", &status) == 1 && status == 101)
        return fd;
fail:
    close(fd);
    return -1;
}

/* Send one masked frame (payload < 126 bytes). */
static inline int cu_ws_send(int fd, int op, const void *data, size_t len)
{
    unsigned char b[140], mask[4] = {7, 1, 3, 9};
    size_t i;

    if (len >= 126)
        return -1;
    b[0] = (unsigned char)(0x80 | op);
    b[1] = (unsigned char)(0x80 | len);
    memcpy(b + 2, mask, 4);
    for (i = 0; i < len; i++)
        b[6 + i] = ((const unsigned char *)data)[i] ^ mask[i & 3];
    return send(fd, b, 6 + len, MSG_NOSIGNAL) == (ssize_t)(6 + len) ? 0 : -1;
}

/* Read one server frame (payload < 126 bytes): its opcode, or -1. */
static inline int cu_ws_recv(int fd, unsigned char *pl, size_t cap, size_t *len)
{
    unsigned char h[2];
    size_t n;

    if (recv(fd, h, 2, MSG_WAITALL) != 2)
        return -1;
    n = h[1] & 0x7f;
    if (n >= 126 || n > cap || (n && recv(fd, pl, n, MSG_WAITALL) != (ssize_t)n))
        return -1;
    *len = n;
    return h[0] & 0x0f;
}

/* Send @msg as text and read it back; 1 when the echo matches. */
static inline int cu_ws_echo(int fd, const char *msg)
{
    unsigned char pl[128];
    size_t len;

    if (cu_ws_send(fd, 1, msg, strlen(msg)) < 0 || cu_ws_recv(fd, pl, sizeof(pl), &len) != 1)
        return 0;
    return len == strlen(msg) && !memcmp(pl, msg, len);
}

/* The next close frame's code (1005 without one), or -1. */
static inline int cu_ws_close_code(int fd)
{
    unsigned char pl[128];
    size_t len;
    int op;

    while ((op = cu_ws_recv(fd, pl, sizeof(pl), &len)) >= 0)
        if (op == 8)
            return len >= 2 ? pl[0] << 8 | pl[1] : 1005;
    return -1;
}

#endif
