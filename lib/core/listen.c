/*
 * Listening sockets: TCP on IPv4/IPv6 (dual stack by default), on an
 * address or an interface's (by name, as lwsws), maybe bound to that
 * interface (SO_BINDTODEVICE), or a unix socket path. Every service
 * thread binds its own socket with
 * SO_REUSEPORT so the kernel spreads connections between threads; the
 * first bind of an ephemeral port fixes the port for the others.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/private.h"

static int listen_unix(const char *path, int *family)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd, e;

    if (strlen(path) >= sizeof(sun.sun_path)) {
        kite_err("unix socket path too long: %s", path);
        return KITE_ENAMETOOLONG;
    }
    strcpy(sun.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    /* A stale socket file from an earlier run would make bind fail. */
    {
        struct stat st;
        if (!lstat(path, &st) && S_ISSOCK(st.st_mode))
            unlink(path);
    }
    /* 0600 before anyone can connect (a peer needs write permission):
     * the owner alone, as lws; unix-socket-perms gives it to another */
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) || chmod(path, 0600) ||
        listen(fd, SOMAXCONN)) {
        e = -errno;
        kite_err("unix socket %s: %s", path, strerror(-e));
        close(fd);
        return e;
    }
    *family = AF_UNIX;
    return fd;
}

/* KITE_VH_BIND_IFACE: all traffic of the socket stays on the interface
 * @iface names (Linux, CAP_NET_RAW). */
static int bind_device(int fd, const char *iface, unsigned options)
{
    if (!(options & KITE_VH_BIND_IFACE))
        return 0;
    if (!iface || !*iface || !if_nametoindex(iface)) {
        kite_err("bind-iface: \"%s\" is not an interface name", iface ? iface : "");
        return KITE_EINVAL;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, iface, (socklen_t)strlen(iface)) < 0) {
        int e = -errno;
        kite_err("bind-iface %s: %s%s", iface, strerror(-e),
                 e == -EPERM ? " (SO_BINDTODEVICE needs CAP_NET_RAW: run as root, or give "
                               "kited that capability)"
                             : "");
        return e;
    }
    return 0;
}

static int bind_listen(const struct sockaddr_storage *ss, socklen_t sl, const char *iface,
                       unsigned options, int reuseport)
{
    int fd, on = 1, e;

    fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    if ((e = bind_device(fd, iface, options)) < 0) {
        close(fd);
        return e;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (reuseport)
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on));
    if (ss->ss_family == AF_INET6) {
        int v6only = (options & KITE_VH_IPV6ONLY) ? 1 : 0;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
    }
    if (bind(fd, (const struct sockaddr *)ss, sl) || listen(fd, SOMAXCONN)) {
        e = -errno;
        close(fd);
        return e;
    }
    return fd;
}

/* The address of the interface named @name: IPv4 first (IPv6 first with
 * IPV6ONLY, IPv4 only with NOIPV6), not a link-local IPv6 one. An
 * interface with none is down (or not configured yet): KITE_EAGAIN. */
static int iface_addr(const char *name, unsigned options, struct sockaddr_storage *ss)
{
    struct ifaddrs *all, *i;
    int pass, fam, r;

    if (!if_nametoindex(name)) {
        kite_err("listen: \"%s\" is not an IPv4 or IPv6 address or an interface", name);
        return KITE_EINVAL;
    }
    if (getifaddrs(&all) < 0)
        return -errno;
    r = KITE_EAGAIN;
    for (pass = 0; pass < 2 && r == KITE_EAGAIN; pass++) {
        fam = (pass == 0) == !(options & KITE_VH_IPV6ONLY) ? AF_INET : AF_INET6;
        if ((fam == AF_INET6 && (options & KITE_VH_NOIPV6)) ||
            (fam == AF_INET && (options & KITE_VH_IPV6ONLY)))
            continue;
        for (i = all; i; i = i->ifa_next) {
            if (!i->ifa_addr || i->ifa_addr->sa_family != fam || strcmp(i->ifa_name, name) ||
                !(i->ifa_flags & IFF_UP))
                continue;
            if (fam == AF_INET6 &&
                IN6_IS_ADDR_LINKLOCAL(&((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr))
                continue;
            memcpy(ss, i->ifa_addr,
                   fam == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
            r = 0;
            break;
        }
    }
    freeifaddrs(all);
    if (r == KITE_EAGAIN)
        kite_err("listen: interface %s has no usable address (is it up?)", name);
    return r;
}

/* The address to bind: @iface (IPv4, IPv6, "[v6]", an interface name) or
 * any (dual stack). */
static int make_addr(const char *iface, int port, unsigned options, struct sockaddr_storage *ss,
                     socklen_t *sl)
{
    memset(ss, 0, sizeof(*ss));
    if (!iface || !*iface) {
        if (options & KITE_VH_NOIPV6) {
            struct sockaddr_in *sin = (struct sockaddr_in *)ss;
            sin->sin_family = AF_INET;
            sin->sin_addr.s_addr = htonl(INADDR_ANY);
        } else {
            struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
            sin6->sin6_family = AF_INET6;
            sin6->sin6_addr = in6addr_any;
        }
    } else {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
        const char *a = iface;
        char buf[64];
        size_t n = strlen(a);

        /* Accept "[::1]" as well as "::1". */
        if (a[0] == '[' && n > 2 && n < sizeof(buf) && a[n - 1] == ']') {
            memcpy(buf, a + 1, n - 2);
            buf[n - 2] = '\0';
            a = buf;
        }
        if (inet_pton(AF_INET, a, &sin->sin_addr) == 1) {
            sin->sin_family = AF_INET;
        } else if (inet_pton(AF_INET6, a, &sin6->sin6_addr) == 1) {
            sin6->sin6_family = AF_INET6;
        } else {
            int r = iface_addr(iface, options, ss);
            if (r < 0)
                return r;
        }
    }
    if (ss->ss_family == AF_INET) {
        ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
        *sl = sizeof(struct sockaddr_in);
    } else {
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
        *sl = sizeof(struct sockaddr_in6);
    }
    return 0;
}

/* A UDP socket bound to @iface/@port for a KITE_VH_UDP vhost. */
int kite__udp_socket(const char *iface, int port, unsigned options, int *bound_port)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    int fd, on = 1, e;

    if ((fd = make_addr(iface, port, options, &ss, &sl)) < 0)
        return fd;
    fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (ss.ss_family == AF_INET6) {
        int v6only = (options & KITE_VH_IPV6ONLY) ? 1 : 0;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
    }
    if (bind(fd, (struct sockaddr *)&ss, sl)) {
        e = -errno;
        kite_err("udp on %s port %d: %s", iface ? iface : "*", port, strerror(-e));
        close(fd);
        return e;
    }
    sl = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *bound_port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                                : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return fd;
}

int kite__listen_socket(const char *iface, int port, const char *unix_path, unsigned options,
                        int reuseport, int *bound_port, int *family)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    int fd;

    if (unix_path) {
        *bound_port = -1;
        return listen_unix(unix_path, family);
    }
    if ((fd = make_addr(iface, port, options, &ss, &sl)) < 0)
        return fd;
    /* SO_REUSEPORT lets another process that sets it too share the port
     * silently, so the first thread's socket is bound once without it:
     * that bind fails if anyone else holds the port. */
    fd = reuseport == 2 && port ? bind_listen(&ss, sl, iface, options, 0) : 0;
    if (fd > 0) {
        close(fd);
        fd = 0;
    }
    if (!fd)
        fd = bind_listen(&ss, sl, iface, options, reuseport);
    if (fd < 0) {
        kite_err("listen on %s port %d: %s", iface ? iface : "*", port, strerror(-fd));
        return fd;
    }
    sl = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *bound_port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                                : ((struct sockaddr_in6 *)&ss)->sin6_port);
    *family = ss.ss_family;
    return fd;
}
