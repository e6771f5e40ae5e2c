/*
 * The role tables, for the code above core that starts or tests a conn's
 * role directly (lib/client, lib/lua, the roles themselves). Core never
 * includes this: it starts roles by name through their ops
 * (kite__conn_role_start, kite__conn_alpn) and lib/modules.c lists them.
 */
#ifndef KITE_ROLES_H
#define KITE_ROLES_H

#include "core/private.h"

extern const struct kite__role_ops kite__role_h1;
extern const struct kite__role_ops kite__role_ws;
extern const struct kite__role_ops kite__role_raw;
extern const struct kite__role_ops kite__role_h2;
/* roles/raw: raw conns that ignore a drain (the pipes of a CGI script). */
extern const struct kite__role_ops kite__role_cgi_pipe;

/* roles/h2/upgrade.c: an HTTP/1.1 request asking for "Upgrade: h2c", on a
 * vhost that allows it: 101, then @t is answered as stream 1 (1). 0: not
 * an upgrade we do; <0 to close. */
int kite__h2_upgrade(kite_conn_t *c, kite_http_req_t *t);

#endif
