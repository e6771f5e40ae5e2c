/*
 * Role switches. A conn changes role (h1 to h2, ws or raw; ALPN after a
 * TLS handshake) by asking core for the role by name or ALPN id and
 * calling its start op, so that the transport and the roles never name
 * one another's tables; lib/modules.c lists the roles built in.
 */
#include <string.h>

#include "core/private.h"

const struct kite__role_ops *kite__role_find(const char *name)
{
    const struct kite__role_ops *const *r;

    for (r = kite__roles; *r; r++)
        if (!strcmp((*r)->name, name))
            return *r;
    return NULL;
}

int kite__conn_role_start(kite_conn_t *c, const char *name, char *buf, size_t len, const void *arg)
{
    const struct kite__role_ops *r = kite__role_find(name);

    if (!r || !r->start)
        return KITE_ENOTSUP;
    return r->start(c, buf, len, arg);
}

int kite__conn_alpn(kite_conn_t *c, const char *id)
{
    const struct kite__role_ops *const *r;

    for (r = kite__roles; *r; r++)
        if ((*r)->alpn && !strcmp((*r)->alpn, id))
            return *r == c->role || !(*r)->start ? 0 : (*r)->start(c, NULL, 0, NULL);
    return 0;
}
