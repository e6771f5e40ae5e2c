/*
 * lhttpd-style handlers: a mount with lua-handler (kited -l prefix
 * script.lua) loads the script once per service thread, in an
 * environment of its own, where `httpd = require 'httpd'` and
 * httpd.register_handler("/bar", fn) name its handlers (run again, in a
 * new environment, when the file changes). A request for
 * <mountpoint>/bar calls fn(env, header) in a coroutine: env holds
 * CGI-like variables, header the request fields (lower-case names, and
 * :method, :path, :authority, :scheme). httpd.header{[":status"] = "200",
 * ...} sends the head; httpd.write(nil, s) and httpd.read(nil, n) write
 * the response and read the body, yielding when they would block; with
 * a Lua file instead of nil they are that file's write and read.
 */
#include <stdlib.h>
#include <string.h>

#include "lua/private-lua.h"

int kite__lua_httpd_serve(kite_conn_t *c, kite_http_req_t *t, const kite__mount_rt_t *m)
{
    (void)m;
    t->file_path = NULL;
    return kite__http_callback(c, t, &kite__lua_proto);
}

static int register_handler(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);

    kite__lua_pt_t *lp = *(kite__lua_pt_t **)lua_getextraspace(L);

    luaL_checktype(L, 2, LUA_TFUNCTION);
    if (lp->loading == LUA_NOREF)
        return luaL_error(L, "httpd.register_handler: only while the script loads");
    lua_rawgeti(L, LUA_REGISTRYINDEX, lp->loading);
    /* lhttpd names start with "/"; "bar" is taken as "/bar". */
    if (*name != '/')
        lua_pushfstring(L, "/%s", name);
    else
        lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_rawset(L, -3);
    return 0;
}

static int header(lua_State *L)
{
    kite__lua_run_t *r = kite__lua_cur(L);
    const char *ctype = NULL;
    int64_t clen = -1;
    int status = 200, rc;

    luaL_checktype(L, 1, LUA_TTABLE);
    if (!r->t || r->head == LR_HEAD_SENT)
        return luaL_error(L, "httpd.header: the head was sent already");
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        const char *k = lua_tostring(L, -2), *v = lua_tostring(L, -1);
        if (!k || !v)
            return luaL_error(L, "httpd.header: names and values must be strings");
        if (!strcmp(k, ":status"))
            status = atoi(v);
        else if (!kite__strncasecmp(k, "content-type", 13))
            ctype = v;
        else if (!kite__strncasecmp(k, "content-length", 15))
            clen = strtoll(v, NULL, 10);
        else if (*k != ':' && kite__http_add_header_n(r->t, k, v, strlen(v)) < 0)
            return luaL_error(L, "httpd.header: bad field %s", k);
        lua_pop(L, 1);
    }
    if (status < 200 || status > 999)
        return luaL_error(L, "httpd.header: bad :status");
    rc = r->t->wire->respond(r->c, r->t, status, ctype, clen);
    if (rc < 0)
        return luaL_error(L, "httpd.header: %s", kite_strerror(rc));
    r->head = LR_HEAD_SENT;
    return 0;
}

static int write_k(lua_State *L, int status, lua_KContext ctx)
{
    (void)status;
    (void)ctx;
    return 0;
}

static int hwrite(lua_State *L)
{
    kite__lua_run_t *r;
    int rc;

    if (!lua_isnil(L, 1)) {
        lua_settop(L, 2);
        lua_getfield(L, 1, "write");
        lua_insert(L, 1);
        lua_callk(L, 2, 1, 0, write_k);
        return 1;
    }
    r = kite__lua_cur(L);
    lua_settop(L, 2);
    luaL_checkstring(L, 2);
    if (!r->t)
        return luaL_error(L, "httpd.write: no request here");
    if (r->head != LR_HEAD_SENT && (rc = kite__lua_head_now(r)) < 0)
        return luaL_error(L, "httpd.write: %s", kite_strerror(rc));
    return kite__lua_write_k(L, LUA_OK, 2);
}

static int hread(lua_State *L)
{
    if (!lua_isnil(L, 1)) {
        lua_settop(L, 2);
        lua_getfield(L, 1, "read");
        lua_insert(L, 1);
        if (lua_isnil(L, 3)) {
            lua_pop(L, 1);
            lua_pushliteral(L, "a");
        }
        lua_callk(L, 2, 1, 0, write_k);
        return 1;
    }
    lua_settop(L, 2);
    return kite__lua_read_k(L, LUA_OK, 0);
}

static int open_httpd(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"register_handler", register_handler},
        {"header", header},
        {"write", hwrite},
        {"read", hread},
        {NULL, NULL},
    };

    luaL_newlib(L, fns);
    return 1;
}

void kite__lua_httpd_open_lib(lua_State *L)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, open_httpd);
    lua_setfield(L, -2, "httpd");
    lua_pop(L, 1);
}

static void set(lua_State *L, const char *k, const char *v)
{
    lua_pushstring(L, v ? v : "");
    lua_setfield(L, -2, k);
}

/* env at 1: find the script's handlers (loading it the first time on
 * this thread), then call the handler of the request's path. */
static int handler_k(lua_State *L, int status, lua_KContext ctx)
{
    kite__lua_run_t *r = kite__lua_cur(L);
    const char *script = r->m->lua_handler;
    char num[32];
    int i, port;

    (void)status;
    if (ctx == 0) {
        /* 2: the script's chunk (compiled again when the file changed),
         * 3: all scripts' handlers, 4: this one's {handlers, chunk}. */
        kite__lua_load(r->lp, L, script, 0);
        lua_rawgeti(L, LUA_REGISTRYINDEX, r->lp->handlers);
        if (lua_getfield(L, 3, script) != LUA_TTABLE || lua_rawgeti(L, 4, 2) == LUA_TNIL ||
            !lua_rawequal(L, -1, 2)) {
            /* First use on this thread, or a changed script: run it. */
            lua_settop(L, 3);
            lua_newtable(L);
            lua_pushvalue(L, 4);
            luaL_unref(L, LUA_REGISTRYINDEX, r->lp->loading);
            r->lp->loading = luaL_ref(L, LUA_REGISTRYINDEX);
            /* Loading may not wait: no handler of it runs yet. */
            if (r->m->lua_preload) {
                kite__lua_load(r->lp, L, r->m->lua_preload, 0);
                lua_pushvalue(L, 1);
                lua_call(L, 1, 0);
            }
            lua_pushvalue(L, 2);
            lua_pushvalue(L, 1);
            lua_call(L, 1, 0);
            luaL_unref(L, LUA_REGISTRYINDEX, r->lp->loading);
            r->lp->loading = LUA_NOREF;
            lua_createtable(L, 2, 0);
            lua_pushvalue(L, 4);
            lua_rawseti(L, -2, 1);
            lua_pushvalue(L, 2);
            lua_rawseti(L, -2, 2);
            lua_setfield(L, 3, script);
        } else {
            lua_settop(L, 4);
            lua_rawgeti(L, 4, 1);
            lua_replace(L, 4);
        }
        if (lua_getfield(L, -1, r->t->mount_path) != LUA_TFUNCTION) {
            lua_pushboolean(L, 0);
            return 1;
        }
        lua_createtable(L, 0, 12);
        set(L, "REQUEST_METHOD", r->t->p.method);
        set(L, "REQUEST_URI", r->t->p.target);
        set(L, "SCRIPT_NAME", r->t->mrt->m->mountpoint);
        set(L, "PATH_INFO", r->t->mount_path);
        set(L, "QUERY_STRING", r->t->p.query);
        set(L, "SERVER_PROTOCOL", r->t->p.version >= 11 ? "HTTP/1.1" : "HTTP/1.0");
        if (kite_conn_peer(r->c, num, sizeof(num), &port) == 0) {
            set(L, "REMOTE_ADDR", num);
            snprintf(num, sizeof(num), "%d", port);
            set(L, "REMOTE_PORT", num);
        }
        snprintf(num, sizeof(num), "%d", kite_vhost_port(r->c->vh));
        set(L, "SERVER_PORT", num);
        lua_createtable(L, 0, kite_http_header_count(r->t) + 4);
        set(L, ":method", r->t->p.method);
        set(L, ":path", r->t->p.target);
        set(L, ":scheme", r->c->xp != &kite__xport_tcp ? "https" : "http");
        if (r->t->p.host)
            set(L, ":authority", r->t->p.host);
        for (i = 0; i < kite_http_header_count(r->t); i++) {
            const char *name, *value;
            char low[128];
            size_t j;
            kite_http_header_at(r->t, i, &name, &value);
            for (j = 0; name[j] && j < sizeof(low) - 1; j++)
                low[j] = (char)(name[j] >= 'A' && name[j] <= 'Z' ? name[j] + 32 : name[j]);
            low[j] = '\0';
            set(L, low, value);
        }
        lua_callk(L, 2, 0, 1, handler_k);
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int handler_main(lua_State *L)
{
    return handler_k(L, LUA_OK, 0);
}

int kite__lua_httpd_start(kite_conn_t *c, kite__lua_run_t *r)
{
    return kite__lua_start(c, r, handler_main, LR_HTTPD);
}
