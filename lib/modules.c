/*
 * The modules and roles built into libkite. Modules are listed in the
 * order core runs their creation hooks (destruction runs backwards); roles
 * are found by name or ALPN id for a switch, and accepted conns start in
 * the first. Core knows modules only through this
 * list: a new one (metrics, PROXY protocol, zip mounts, Redis broadcast)
 * defines its kite__module_t in its own directory and is added here.
 * http comes first: its vhost_init renders headers the others extend, and
 * the access log and tls open after the mounts, as before the hooks.
 */
#include "roles/roles.h"

extern const kite__module_t kite__mod_http, kite__mod_alog, kite__mod_tls, kite__mod_lua;

const kite__module_t *const kite__modules[] = {
    &kite__mod_http, &kite__mod_alog, &kite__mod_tls, &kite__mod_lua, NULL,
};

const struct kite__role_ops *const kite__roles[] = {
    &kite__role_h1, &kite__role_h2, &kite__role_ws, &kite__role_raw, NULL,
};
