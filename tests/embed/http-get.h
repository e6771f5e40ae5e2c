/*
 * A blocking HTTP/1.1 client for the embedding tests: one GET over a new
 * TCP (127.0.0.1) or unix-socket connection, with a 5 s receive timeout.
 */
#ifndef KITE_TEST_HTTP_GET_H
#define KITE_TEST_HTTP_GET_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* A GET over a fresh connection; returns the status, body in @body. */
static int http_get(int port, const char *unix_path, const char *path, char *body, size_t cap)
{
    char req[256], resp[8192];
    size_t got = 0;
    ssize_t n;
    int fd, status = -1;
    struct timeval tv = {5, 0};

    if (unix_path) {
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", unix_path);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
            close(fd);
            return -1;
        }
    } else {
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
            close(fd);
            return -1;
        }
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", path);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    while (got < sizeof(resp) - 1 && (n = read(fd, resp + got, sizeof(resp) - 1 - got)) > 0)
        got += (size_t)n;
    close(fd);
    resp[got] = '\0';
    if (sscanf(resp, "HTTP/1.1 %d", &status) != 1)
        return -1;
    if (body) {
        const char *b = strstr(resp, "\r\n\r\n");
        snprintf(body, cap, "%s", b ? b + 4 : "");
    }
    return status;
}

#endif
