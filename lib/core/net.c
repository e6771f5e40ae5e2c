/*
 * Subnets and peer addresses, for the access-control-list and throttle
 * rules of roles/http: "192.168/16", "10.1.2.3", "::1/128" parsed into a
 * struct kite__net, matched against a peer's address (IPv4-mapped IPv6
 * peers taken as IPv4). IPv4 entries may leave out trailing octets.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "event/event.h"

int kite__net_parse(const char *s, size_t n, struct kite__net *ru)
{
    char buf[64], *slash, *end;
    unsigned long bits;
    unsigned o[4] = {0, 0, 0, 0};
    int k = 0, used;

    if (!n || n >= sizeof(buf))
        return KITE_EINVAL;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if ((slash = strchr(buf, '/')))
        *slash++ = '\0';
    if (strchr(buf, ':')) {
        if (inet_pton(AF_INET6, buf, ru->addr) != 1)
            return KITE_EINVAL;
        ru->len = 16;
    } else {
        for (s = buf; k < 4; k++) {
            if (sscanf(s, "%3u%n", &o[k], &used) != 1 || o[k] > 255)
                return KITE_EINVAL;
            s += used;
            if (*s != '.')
                break;
            s++;
        }
        if (*s || k == 4)
            return KITE_EINVAL;
        for (k = 0; k < 4; k++)
            ru->addr[k] = (uint8_t)o[k];
        ru->len = 4;
    }
    bits = (unsigned long)ru->len * 8;
    if (slash) {
        if (*slash < '0' || *slash > '9')
            return KITE_EINVAL;
        bits = strtoul(slash, &end, 10);
        if (*end || bits > (unsigned long)ru->len * 8)
            return KITE_EINVAL;
    }
    ru->bits = (uint8_t)bits;
    return 0;
}

int kite__net_match(const struct kite__net *ru, const uint8_t *a, unsigned len)
{
    unsigned full = ru->bits / 8u, rest = ru->bits % 8u;

    if (ru->len != len || memcmp(ru->addr, a, full))
        return 0;
    return !rest || !((ru->addr[full] ^ a[full]) & (0xff00u >> rest));
}

int kite__conn_peer_ip(kite_conn_t *c, uint8_t *addr, unsigned *len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    const uint8_t *a;
    int fd = c->pt->evops->fd(c);

    if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &sl))
        return KITE_ENOENT;
    if (ss.ss_family == AF_INET6) {
        a = ((struct sockaddr_in6 *)&ss)->sin6_addr.s6_addr;
        *len = 16;
        if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)a)) {
            a += 12;
            *len = 4;
        }
    } else if (ss.ss_family == AF_INET) {
        a = (const uint8_t *)&((struct sockaddr_in *)&ss)->sin_addr;
        *len = 4;
    } else {
        return KITE_ENOENT;
    }
    memcpy(addr, a, *len);
    return 0;
}
