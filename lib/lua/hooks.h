/*
 * What the rest of kite calls in lib/lua, without Lua's headers: the
 * routing hooks of file mounts, the "lua" protocol (for interpret), and
 * the end of a service thread. lib/lua is the only code that includes
 * lua.h.
 */
#ifndef KITE_LUA_HOOKS_H
#define KITE_LUA_HOOKS_H

#include "roles/http/private-http.h"

/* The protocol of pages, scripts and handlers ("lua"). */
extern const kite_protocol_t kite__lua_proto;
/* A file mount's lua patterns: serve @t with Lua when its file matches
 * (*answered set); else leave it to file serving. */
int kite__lua_try(kite_conn_t *c, kite_http_req_t *t, const kite__mount_rt_t *m, int *answered);
/* An upgrade request on a file mount: a Lua websocket when the file is a
 * Lua script (lua-websocket-root, else the mount's directory). */
int kite__lua_ws_try(kite_conn_t *c, kite_http_req_t *t, const kite__mount_rt_t *m, int *answered);
/* A lua-handler mount (lhttpd): its script's handler serves @t. */
int kite__lua_httpd_serve(kite_conn_t *c, kite_http_req_t *t, const kite__mount_rt_t *m);
/* The service thread is going away: close its Lua state. */
void kite__lua_pt_free(kite__pt_t *pt);

#endif
