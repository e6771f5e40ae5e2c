/*
 * websockets.context{...}: the config table read into a kite context with
 * one vhost (the Lua protocols, sorted by name, and a callback mount for
 * on_http), and the context methods. Every method that calls into kite is
 * an entry (entry.c); destroy() and __gc close every connection, which
 * calls on_closed, and free what the context owns.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lua-kite.h"

static lk_ctx_t *check_ctx(lua_State *L)
{
    lk_ctx_t *lc = luaL_checkudata(L, 1, LK_CTX_META);

    if (lc->destroyed)
        luaL_error(L, "context is destroyed");
    return lc;
}

static lk_ctx_t *check_idle_ctx(lua_State *L, const char *what)
{
    lk_ctx_t *lc = check_ctx(L);

    if (lc->depth)
        luaL_error(L, "context:%s() from inside one of the context's callbacks", what);
    return lc;
}

static void free_c_side(lk_ctx_t *lc)
{
    int i;

    for (i = 0; lc->protos && i < lc->nprotos; i++)
        free((char *)lc->protos[i].p.name);
    free(lc->protos);
    free(lc->plist);
    lk_extpoll_free(lc);
    lc->protos = NULL;
    lc->plist = NULL;
    lc->nprotos = 0;
}

/* Destroys the kite context (its callbacks run: on_closed, on_del_fd) and
 * drops every reference the callbacks table holds. The callbacks table
 * is at @cbs. */
static void destroy(lua_State *L, lk_ctx_t *lc, int cbs)
{
    lk_entry_t save;

    lc->destroyed = 1;
    if (lc->ctx) {
        lk_enter(lc, L, cbs, &save);
        kite_context_destroy(lc->ctx);
        lc->ctx = NULL;
        if (lk_leave(lc, &save))
            lua_pop(L, 1); /* no caller to raise it to: the context is gone */
    }
    free_c_side(lc);
    cbs = lua_absindex(L, cbs);
    lua_pushnil(L);
    while (lua_next(L, cbs)) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_pushnil(L);
        lua_rawset(L, cbs);
    }
}

/* --- config ---------------------------------------------------------------- */

static int cmp_names(const void *a, const void *b)
{
    return strcmp(((const lk_proto_t *)a)->p.name, ((const lk_proto_t *)b)->p.name);
}

/* protocols = {name = function(ws), ...}: at least one, names sorted so
 * the first (the default for clients that name none) is predictable. */
static void read_protocols(lua_State *L, lk_ctx_t *lc, int cbs)
{
    int n = 0, i;

    if (lua_getfield(L, 1, "protocols") != LUA_TTABLE)
        luaL_error(L, "websockets.context: protocols must be a table of name = function(ws)");
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        if (lua_type(L, -2) != LUA_TSTRING || !lua_isfunction(L, -1))
            luaL_error(L, "websockets.context: protocols[%s] must be a function(ws) under a name",
                       luaL_tolstring(L, -2, NULL));
        lua_pop(L, 1);
        n++;
    }
    if (!n)
        luaL_error(L, "websockets.context: protocols must name at least one protocol");
    if (!(lc->protos = calloc((size_t)n, sizeof(*lc->protos))) ||
        !(lc->plist = calloc((size_t)n + 2, sizeof(*lc->plist))))
        luaL_error(L, "websockets.context: out of memory");
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lk_proto_t *pr = &lc->protos[lc->nprotos];
        pr->p = lk_ws_protocol_template;
        if (!(pr->p.name = strdup(lua_tostring(L, -2))))
            luaL_error(L, "websockets.context: out of memory");
        lc->nprotos++;
        lua_pop(L, 1);
    }
    qsort(lc->protos, (size_t)n, sizeof(*lc->protos), cmp_names);
    for (i = 0; i < n; i++) {
        lk_proto_t *pr = &lc->protos[i];
        pr->lc = lc;
        pr->key = LK_CB_PROTO0 + i;
        lc->plist[i] = &pr->p;
        lua_getfield(L, -1, pr->p.name);
        lua_rawseti(L, cbs, pr->key);
    }
    lua_pop(L, 1);
}

static void read_function(lua_State *L, const char *name, int cbs, int key)
{
    int t = lua_getfield(L, 1, name);

    if (t != LUA_TNIL && t != LUA_TFUNCTION)
        luaL_error(L, "websockets.context: %s must be a function", name);
    lua_rawseti(L, cbs, key);
}

static const char *opt_string(lua_State *L, const char *name, const char *alt)
{
    const char *s;

    if (lua_getfield(L, 1, name) == LUA_TNIL && alt) {
        lua_pop(L, 1);
        lua_getfield(L, 1, alt);
    }
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return NULL;
    }
    if (!(s = lua_tostring(L, -1)))
        luaL_error(L, "websockets.context: %s must be a string", name);
    lua_pop(L, 1); /* still referenced by the config table */
    return s;
}

static lua_Integer opt_int(lua_State *L, const char *name, lua_Integer def)
{
    lua_Integer v;
    int isnum;

    if (lua_getfield(L, 1, name) == LUA_TNIL) {
        lua_pop(L, 1);
        return def;
    }
    v = lua_tointegerx(L, -1, &isnum);
    if (!isnum)
        luaL_error(L, "websockets.context: %s must be an integer", name);
    lua_pop(L, 1);
    return v;
}

/* interf: an address as it is, or an interface name ("eth0", "lo") as its
 * first IPv4 address (else IPv6), pushed as a string. */
static const char *resolve_interf(lua_State *L, const char *interf)
{
    struct in6_addr a6;
    struct ifaddrs *ifs, *i;
    char buf[INET6_ADDRSTRLEN];
    int found = 0;

    if (!interf || inet_pton(AF_INET, interf, &a6) == 1 || inet_pton(AF_INET6, interf, &a6) == 1)
        return interf;
    if (!if_nametoindex(interf) || getifaddrs(&ifs))
        luaL_error(L, "websockets.context: interf '%s' is neither an address nor an interface",
                   interf);
    for (int fam = AF_INET; !found && fam; fam = fam == AF_INET ? AF_INET6 : 0) {
        for (i = ifs; i && !found; i = i->ifa_next) {
            if (!i->ifa_addr || i->ifa_addr->sa_family != fam || strcmp(i->ifa_name, interf))
                continue;
            found =
                inet_ntop(fam,
                          fam == AF_INET ? (void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr
                                         : (void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
                          buf, sizeof(buf)) != NULL;
        }
    }
    freeifaddrs(ifs);
    if (!found)
        luaL_error(L, "websockets.context: interface '%s' has no address", interf);
    return lua_pushstring(L, buf);
}

static void drop_privileges(lua_State *L, lua_Integer gid, lua_Integer uid)
{
    if (gid >= 0 && setgid((gid_t)gid))
        luaL_error(L, "websockets.context: setgid(%I): %s", gid, strerror(errno));
    if (uid >= 0 && setuid((uid_t)uid))
        luaL_error(L, "websockets.context: setuid(%I): %s", uid, strerror(errno));
}

int lk_context_new(lua_State *L)
{
    kite_context_info_t ci = KITE_CONTEXT_INFO_INIT();
    kite_vhost_info_t vi = KITE_VHOST_INFO_INIT();
    lk_entry_t save;
    lk_ctx_t *lc;
    lua_Integer port, max_queue, gid, uid;
    int err = 0, cbs, failed;

    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    lc = lua_newuserdatauv(L, sizeof(*lc), 1);
    memset(lc, 0, sizeof(*lc));
    lc->destroyed = 1; /* until the kite context exists */
    luaL_setmetatable(L, LK_CTX_META);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, 2, 1);
    cbs = lua_gettop(L);
    lua_newtable(L);
    lua_rawseti(L, cbs, LK_CB_CONNS);

    read_protocols(L, lc, cbs);
    read_function(L, "on_http", cbs, LK_CB_HTTP);
    read_function(L, "on_add_fd", cbs, LK_CB_ADD_FD);
    read_function(L, "on_del_fd", cbs, LK_CB_DEL_FD);
    read_function(L, "on_change_fd", cbs, LK_CB_CHANGE_FD);
    port = opt_int(L, "port", 0);
    max_queue = opt_int(L, "max_queue", LK_DEFAULT_MAX_QUEUE);
    gid = opt_int(L, "gid", -1);
    uid = opt_int(L, "uid", -1);
    opt_int(L, "options", 0); /* lws option bits: none applies to kite */
    if (port < 0 || port > 65535)
        luaL_error(L, "websockets.context: port %I out of range", port);
    if (max_queue < 1024 || max_queue > (lua_Integer)1 << 40)
        luaL_error(L, "websockets.context: max_queue must be 1024 bytes at least");
    lc->max_queue = (size_t)max_queue;
    vi.iface = resolve_interf(L, opt_string(L, "interf", NULL));
    vi.tls_cert = opt_string(L, "ssl_cert_path", "ssl_cert_filepath");
    vi.tls_key = opt_string(L, "ssl_private_key_path", "ssl_private_key_filepath");
    if (!vi.tls_cert != !vi.tls_key)
        luaL_error(L, "websockets.context: ssl_cert_path and ssl_private_key_path go together");
    vi.port = (int)port;
    vi.protocols = lc->plist;
    vi.user = lc;
    if (lua_rawgeti(L, cbs, LK_CB_HTTP) == LUA_TFUNCTION) {
        lc->http = lk_http_protocol_template;
        lc->plist[lc->nprotos] = &lc->http;
        lc->mount = (kite_mount_t)KITE_MOUNT_INIT();
        lc->mount.mountpoint = "/";
        lc->mount.origin = LK_HTTP_PROTOCOL;
        lc->mount.protocol = LK_HTTP_PROTOCOL;
        lc->mount.origin_protocol = KITE_MOUNT_CALLBACK;
        vi.mounts = &lc->mount;
    }
    lua_pop(L, 1);
    if (lua_rawgeti(L, cbs, LK_CB_ADD_FD) == LUA_TFUNCTION) {
        lc->xp = lk_extpoll_template;
        lc->xp.user = lc;
        lc->extpoll = 1;
        ci.extpoll = &lc->xp;
    }
    lua_pop(L, 1);
    /* kite's own cap must take any message the queue can hold. */
    ci.max_output = lc->max_queue + 64;
    ci.user = lc;

    lk_enter(lc, L, cbs, &save);
    lc->ctx = kite_context_create(&ci, &err);
    if (lc->ctx)
        lc->vh = kite_vhost_create(lc->ctx, &vi, &err);
    lc->destroyed = 0;
    failed = lk_leave(lc, &save);
    if (failed || !lc->vh) {
        if (!failed)
            lua_pushfstring(L, "websockets.context: cannot %s on %s port %d: %s",
                            lc->ctx ? "listen" : "create the context",
                            vi.iface ? vi.iface : "any address", (int)port, kite_strerror(err));
        destroy(L, lc, cbs);
        return lua_error(L);
    }
    drop_privileges(L, gid, uid);
    lua_pushvalue(L, 2);
    return 1;
}

/* --- methods ---------------------------------------------------------------- */

static int ctx_destroy(lua_State *L)
{
    lk_ctx_t *lc = luaL_checkudata(L, 1, LK_CTX_META);

    if (lc->destroyed)
        return 0;
    check_idle_ctx(L, "destroy");
    lua_getiuservalue(L, 1, 1);
    destroy(L, lc, -1);
    return 0;
}

static int ctx_gc(lua_State *L)
{
    lk_ctx_t *lc = luaL_checkudata(L, 1, LK_CTX_META);

    if (!lc->destroyed || lc->protos) {
        lua_getiuservalue(L, 1, 1);
        destroy(L, lc, -1);
    }
    return 0;
}

/* A method's call into kite is an entry: the callbacks table is pushed
 * for the callbacks kite makes, and what they raised is raised after. */
static void enter_ctx(lua_State *L, lk_ctx_t *lc, lk_entry_t *save)
{
    lua_getiuservalue(L, 1, 1);
    lk_enter(lc, L, -1, save);
}

static void leave_ctx(lua_State *L, lk_ctx_t *lc, lk_entry_t *save)
{
    if (lk_leave(lc, save))
        lua_error(L);
    lua_pop(L, 1);
}

static int ctx_service(lua_State *L)
{
    lk_ctx_t *lc = check_idle_ctx(L, "service");
    int timeout = (int)luaL_optinteger(L, 2, 0), r;
    lk_entry_t save;

    lua_settop(L, 1);
    enter_ctx(L, lc, &save);
    if (lc->extpoll)
        r = lk_extpoll_service(lc, timeout < 0 ? -1 : timeout);
    else
        r = kite_service(lc->ctx, 0, timeout < 0 ? -1 : timeout);
    leave_ctx(L, lc, &save);
    if (r < 0)
        return luaL_error(L, "context:service(): %s", kite_strerror(r));
    lua_pushinteger(L, r);
    return 1;
}

static int ctx_service_fd(lua_State *L)
{
    lk_ctx_t *lc = check_idle_ctx(L, "service_fd");
    int fd = (int)luaL_checkinteger(L, 2), r;
    short revents = (short)lk_check_events(L, 3);
    lk_entry_t save;

    if (!lc->extpoll)
        return luaL_error(L, "context:service_fd(): the context needs on_add_fd for that");
    lua_settop(L, 1);
    enter_ctx(L, lc, &save);
    r = kite_service_fd(lc->ctx, fd, revents);
    leave_ctx(L, lc, &save);
    if (r < 0)
        return luaL_error(L, "context:service_fd(): %s", kite_strerror(r));
    lua_pushboolean(L, r == 1);
    return 1;
}

static int ctx_service_pending(lua_State *L)
{
    lk_ctx_t *lc = check_idle_ctx(L, "service_pending");
    lk_entry_t save;
    int r;

    if (!lc->extpoll)
        return luaL_error(L, "context:service_pending(): the context needs on_add_fd for that");
    lua_settop(L, 1);
    enter_ctx(L, lc, &save);
    r = kite_service_pending(lc->ctx, 0);
    leave_ctx(L, lc, &save);
    if (r < 0)
        return luaL_error(L, "context:service_pending(): %s", kite_strerror(r));
    return 0;
}

static int ctx_next_timeout(lua_State *L)
{
    lk_ctx_t *lc = check_ctx(L);

    if (!lc->extpoll)
        return luaL_error(L, "context:next_timeout(): the context needs on_add_fd for that");
    lua_pushinteger(L, kite_next_timeout_ms(lc->ctx, 0));
    return 1;
}

static int ctx_broadcast(lua_State *L)
{
    lk_ctx_t *lc = check_ctx(L);
    const char *name = luaL_checkstring(L, 2);
    int i;

    luaL_checkany(L, 3);
    for (i = 0; i < lc->nprotos; i++)
        if (!strcmp(lc->protos[i].p.name, name))
            break;
    if (i == lc->nprotos)
        return luaL_error(L, "context:broadcast(): no protocol named '%s'", name);
    lua_getiuservalue(L, 1, 1);
    lua_pushinteger(L, lk_broadcast(L, -1, &lc->protos[i], 3));
    return 1;
}

static int ctx_canonical_hostname(lua_State *L)
{
    char name[256];

    check_ctx(L);
    if (gethostname(name, sizeof(name) - 1))
        return luaL_error(L, "gethostname: %s", strerror(errno));
    name[sizeof(name) - 1] = '\0';
    lua_pushstring(L, name);
    return 1;
}

static int ctx_fork_service_loop(lua_State *L)
{
    check_ctx(L);
    return luaL_error(L, "context:fork_service_loop() is not supported: a forked child would "
                         "share the context's sockets and this Lua state with the parent. Call "
                         "context:service(timeout_ms) in a loop, or drive the context from your "
                         "event loop with on_add_fd and service_fd()");
}

static int ctx_port(lua_State *L)
{
    lua_pushinteger(L, kite_vhost_port(check_ctx(L)->vh));
    return 1;
}

static int ctx_tostring(lua_State *L)
{
    lk_ctx_t *lc = luaL_checkudata(L, 1, LK_CTX_META);

    lua_pushfstring(L, "websockets context: %p%s", (void *)lc, lc->destroyed ? " (destroyed)" : "");
    return 1;
}

static const luaL_Reg ctx_methods[] = {
    {"destroy", ctx_destroy},
    {"service", ctx_service},
    {"service_fd", ctx_service_fd},
    {"service_pending", ctx_service_pending},
    {"next_timeout", ctx_next_timeout},
    {"broadcast", ctx_broadcast},
    {"canonical_hostname", ctx_canonical_hostname},
    {"fork_service_loop", ctx_fork_service_loop},
    {"port", ctx_port},
    {NULL, NULL},
};

void lk_context_register(lua_State *L)
{
    luaL_newmetatable(L, LK_CTX_META);
    luaL_newlib(L, ctx_methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, ctx_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushcfunction(L, ctx_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, ctx_gc);
    lua_setfield(L, -2, "__close");
    lua_pop(L, 1);
}
