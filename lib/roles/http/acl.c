/*
 * access-control-list: LibHTTP's "-0.0.0.0/0,+192.168/16,+::1/128" list
 * of subnets, each allowed (+) or denied (-). The last entry that
 * matches the peer decides; with none matching, the peer is allowed
 * when the list starts with '-' and denied otherwise (as LibHTTP's
 * check_acl()). The list is parsed once when the vhost is created (the
 * http module's vhost_init) and checked once per accepted connection
 * (the vhost's admit hook, which core calls at accept).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "roles/http/private-http.h"

struct rule {
    struct kite__net net;
    uint8_t allow;
};

struct kite__acl {
    int n;
    int dflt; /* allowed when no rule matches */
    struct rule r[];
};

int kite__acl_parse(const char *list, struct kite__acl **out, char *bad, size_t blen)
{
    struct kite__acl *acl;
    const char *s, *e;
    int n = 1;

    for (s = list; *s; s++)
        n += *s == ',';
    if (!(acl = calloc(1, sizeof(*acl) + (size_t)n * sizeof(acl->r[0]))))
        return KITE_ENOMEM;
    for (s = list; *s == ' '; s++)
        ;
    acl->dflt = *s == '-';
    for (s = list; *s; s = *e ? e + 1 : e) {
        struct rule *ru = &acl->r[acl->n];
        if (!(e = strchr(s, ',')))
            e = s + strlen(s);
        while (s < e && *s == ' ')
            s++;
        if (s == e)
            continue;
        if ((*s != '+' && *s != '-') || kite__net_parse(s + 1, (size_t)(e - s - 1), &ru->net) < 0) {
            snprintf(bad, blen, "%.*s", (int)(e - s), s);
            free(acl);
            return KITE_EINVAL;
        }
        ru->allow = *s == '+';
        acl->n++;
    }
    *out = acl;
    return 0;
}

void kite__acl_free(struct kite__acl *acl)
{
    free(acl);
}

int kite__acl_check(const struct kite__acl *acl, kite_conn_t *c, char *text)
{
    uint8_t a[16];
    unsigned len;
    int i, allow = acl->dflt;

    /* Adopted fds and unix sockets have no address to check. */
    if (kite__conn_peer_ip(c, a, &len) < 0)
        return 1;
    for (i = 0; i < acl->n; i++)
        if (kite__net_match(&acl->r[i].net, a, len))
            allow = acl->r[i].allow;
    if (!allow)
        inet_ntop(len == 4 ? AF_INET : AF_INET6, a, text, INET6_ADDRSTRLEN);
    return allow;
}
