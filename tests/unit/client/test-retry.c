/*
 * A client connection walking its addresses (lib/client/connect.c
 * try_next / on_connect) with a fake backend: an address whose socket
 * cannot be made and one that refuses are passed over for the next, the
 * one that works is handed to the backend, and when every address has
 * failed the protocol hears one connection error naming the last reason,
 * and the conn closes with KITE_CLOSE_SETUP.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "../../../lib/client/connect.c"
#include "event/event.h"

#include "tap.h"

static int nconnect, fds[4];
static int f_connect_fd(kite_conn_t *c, int fd)
{
    (void)c;
    fds[nconnect++] = fd;
    return 0;
}
static const struct kite__event_ops evops = {.connect_fd = f_connect_fd};

static char error[300];
static int nerrors;
static void on_error(kite_conn_t *c, void *user, const char *why)
{
    (void)c;
    (void)user;
    nerrors++;
    snprintf(error, sizeof(error), "%s", why);
}
static const kite_protocol_t proto = {
    .abi = KITE_PROTOCOL_ABI, .name = "retry", .on_client_connection_error = on_error};

/* A loopback address on a port that listens (@listening) or refuses. */
static int loopback(struct sockaddr_in *a, int listening)
{
    socklen_t al = sizeof(*a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    memset(a, 0, sizeof(*a));
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)a, sizeof(*a)) ||
        getsockname(fd, (struct sockaddr *)a, &al) || (listening && listen(fd, 4)))
        return -1;
    if (!listening) {
        close(fd);
        return 0;
    }
    return fd;
}

static int peer_port(int fd)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);

    if (getpeername(fd, (struct sockaddr *)&a, &al))
        return -1;
    return ntohs(a.sin_port);
}

int main(void)
{
    static kite__pt_t pt;
    static struct kite_conn_s c;
    static kite__client_t cl;
    struct sockaddr_in refused, open;
    struct addrinfo bad = {.ai_family = 12345, .ai_socktype = SOCK_STREAM};
    struct addrinfo a_refused = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
    struct addrinfo a_open = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
    int lfd = -1, i;

    tap_ok(loopback(&refused, 0) == 0 && (lfd = loopback(&open, 1)) >= 0, "two loopback ports");
    a_refused.ai_addr = (struct sockaddr *)&refused;
    a_refused.ai_addrlen = sizeof(refused);
    a_open.ai_addr = (struct sockaddr *)&open;
    a_open.ai_addrlen = sizeof(open);
    bad.ai_next = &a_refused;
    a_refused.ai_next = &a_open;

    pt.evops = &evops;
    c.pt = &pt;
    c.rd = &cl;
    c.proto = &proto;
    c.flags = KITE__C_CLIENT | KITE__C_IN_SVC; /* a handler's view: nothing is freed */
    cl.i.address = "test.invalid";
    cl.i.port = 80;
    cl.next_ai = &bad;

    try_next(&c);
    /* The refused port fails at once or later: the backend reports it. */
    if (nconnect == 1 && peer_port(fds[0]) != ntohs(open.sin_port)) {
        close(fds[0]);
        on_connect(&c, KITE_ECONNREFUSED, NULL);
    }
    tap_ok(nconnect >= 1 && peer_port(fds[nconnect - 1]) == ntohs(open.sin_port),
           "the address that works is the one handed to the backend");
    tap_is_int(cl.phase, CL_CONNECT, "connecting");
    tap_ok(cl.last_err < 0, "the failures before it were noted (%s)", kite_err_name(cl.last_err));
    tap_is_int(nerrors, 0, "no error reported while an address is left");
    tap_ok(!cl.next_ai, "every address was tried in turn");

    /* That one fails too: nothing is left. */
    on_connect(&c, KITE_ECONNREFUSED, NULL);
    tap_is_int(nerrors, 1, "then one connection error");
    tap_ok(strstr(error, "connect to test.invalid port 80") && strstr(error, "refused"),
           "naming the address and the last reason (%s)", error);
    tap_is_int(c.close_reason, KITE_CLOSE_SETUP, "and the conn closes: KITE_CLOSE_SETUP");
    for (i = 0; i < nconnect; i++)
        close(fds[i]);
    close(lfd);
    return tap_done();
}
