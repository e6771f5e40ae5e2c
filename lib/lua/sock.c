/*
 * connect(host, port, use_ssl): LibHTTP's simple TCP client for scripts,
 * with send, recv and close. The socket is a raw connection of an
 * internal protocol on the request's service thread: it looks blocking
 * to the script, but a send over the output cap, a recv with nothing
 * read yet and the connect itself yield the request's coroutine, and
 * the socket's events resume it. Host names go through getaddrinfo(),
 * which may block on DNS: use addresses (or /etc/hosts names) where that
 * matters. With use_ssl the socket speaks TLS (lib/tls's client side):
 * SNI from @host, the server's certificate not verified (as LibHTTP's
 * connect does not), sends waiting for the handshake.
 */
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/private.h"
#include "kite/client.h"
#include "lua/private-lua.h"
#include "tls/tls.h"

#define SOCK_MT "kite.socket"

typedef struct kite__lua_socket {
    kite_conn_t *pc; /* NULL once closed */
    kite__lua_run_t *waiter;
    char *buf;
    size_t len, cap;
    int eof;
    int tls; /* use_ssl */
} sock_t;

static sock_t *of(void *user)
{
    return user ? *(sock_t **)user : NULL;
}

static void wake(sock_t *s)
{
    kite__lua_run_t *r = s->waiter;

    if (r && r->wait == LR_W_SOCK) {
        s->waiter = NULL;
        r->wsock = NULL;
        kite__lua_wake(r);
    }
}

static int sock_raw(kite_conn_t *pc, void *user, const void *in, size_t len)
{
    sock_t *s = of(user);

    (void)pc;
    if (!s)
        return 0;
    if (s->len + len > s->cap) {
        size_t cap = s->cap ? s->cap : 16384;
        char *p;
        while (cap < s->len + len)
            cap *= 2;
        if (!(p = realloc(s->buf, cap)))
            return -1;
        s->buf = p;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, in, len);
    s->len += len;
    /* Bounded: the script takes it with recv, which reads on again. */
    if (s->len > KITE__LUA_RX_HIGH)
        kite_rx_flow_control(pc, 0);
    wake(s);
    return 0;
}

static int sock_writeable(kite_conn_t *pc, void *user)
{
    (void)pc;
    if (of(user))
        wake(of(user));
    return 0;
}

static void sock_closed(kite_conn_t *pc, void *user, int code)
{
    sock_t *s = of(user);

    (void)pc;
    (void)code;
    if (!s)
        return;
    s->pc = NULL;
    s->eof = 1;
    wake(s);
}

static const kite_protocol_t sock_proto = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "kite-lua-socket",
    .per_session_size = sizeof(sock_t *),
    .on_raw = sock_raw,
    .on_writeable = sock_writeable,
    .on_closed = sock_closed,
};

static int wait_on(lua_State *L, sock_t *s, lua_KContext ctx, lua_KFunction k)
{
    kite__lua_run_t *r = kite__lua_cur(L);

    if (!r->c)
        return luaL_error(L, "a socket cannot be waited for here");
    s->waiter = r;
    r->wsock = s;
    return kite__lua_wait(L, r, LR_W_SOCK, ctx, k);
}

int kite__lua_connect(lua_State *L)
{
    kite__lua_run_t *r = kite__lua_cur(L);
    const char *host = luaL_checkstring(L, 1);
    lua_Integer port = luaL_checkinteger(L, 2);
    int tls = lua_toboolean(L, 3);
    struct addrinfo hints = {0}, *ai = NULL;
    kite_conn_t *pc = NULL;
    kite__pt_t *pt;
    char ps[16];
    sock_t *s;
    int fd = -1, rc;

    if (!r->c || port <= 0 || port > 65535)
        return luaL_error(L, "connect: bad port or no connection to serve");
    pt = r->c->pt;
    snprintf(ps, sizeof(ps), "%d", (int)port);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    if ((rc = getaddrinfo(host, ps, &hints, &ai)) != 0)
        return luaL_error(L, "connect %s: %s", host, gai_strerror(rc));
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)) {
        rc = errno;
        freeaddrinfo(ai);
        if (fd >= 0)
            close(fd);
        return luaL_error(L, "connect %s:%d: %s", host, (int)port, strerror(rc));
    }
    freeaddrinfo(ai);
    s = lua_newuserdatauv(L, sizeof(*s), 0);
    memset(s, 0, sizeof(*s));
    luaL_setmetatable(L, SOCK_MT);
    /* The connect completes in the background: the first send waits for
     * the socket to be writable, the first recv for data or the error. */
    if (!(pc = kite__conn_adopt(pt, r->c->vh, fd, 1, &rc))) {
        close(fd);
        return luaL_error(L, "connect: %s", kite_strerror(rc));
    }
    kite__conn_enter(pc);
    rc = kite__conn_role_start(pc, "raw", NULL, 0, &sock_proto);
    if (rc == 0) {
        *(sock_t **)pc->user = s;
        s->pc = pc;
        s->tls = tls;
        rc = kite__conn_read_start(pc);
    }
    if (rc == 0 && s->tls)
        rc = kite__tls_client_start(pc, host, NULL, KITE_CLIENT_INSECURE);
    if (rc < 0) {
        if (pc->user)
            *(sock_t **)pc->user = NULL;
        s->pc = NULL;
        kite__conn_close_now(pc, KITE_CLOSE_SETUP);
    }
    kite__conn_leave(pc);
    if (rc < 0)
        return luaL_error(L, "connect: %s", kite_strerror(rc));
    return 1;
}

static int send_k(lua_State *L, int status, lua_KContext ctx)
{
    sock_t *s = luaL_checkudata(L, 1, SOCK_MT);
    size_t n;
    const char *p = luaL_checklstring(L, 2, &n);
    int rc;

    (void)status;
    if (!s->pc)
        return luaL_error(L, "send: the socket is closed");
    if (s->tls && !kite__tls_ready(s->pc))
        return wait_on(L, s, ctx, send_k);
    rc = kite_write(s->pc, p, n, KITE_WRITE_RAW);
    if (rc == KITE_EAGAIN) {
        kite_callback_on_writable(s->pc);
        return wait_on(L, s, ctx, send_k);
    }
    if (rc < 0)
        return luaL_error(L, "send: %s", kite_strerror(rc));
    lua_pushinteger(L, (lua_Integer)n);
    return 1;
}

static int l_send(lua_State *L)
{
    return send_k(L, LUA_OK, 0);
}

static int recv_k(lua_State *L, int status, lua_KContext ctx)
{
    sock_t *s = luaL_checkudata(L, 1, SOCK_MT);
    lua_Integer want = luaL_optinteger(L, 2, 0);
    size_t n;

    (void)status;
    if (s->len) {
        n = want > 0 && (size_t)want < s->len ? (size_t)want : s->len;
        lua_pushlstring(L, s->buf, n);
        memmove(s->buf, s->buf + n, s->len - n);
        s->len -= n;
        if (s->pc && (s->pc->flags & KITE__C_RX_OFF) && s->len < KITE__LUA_RX_HIGH)
            kite_rx_flow_control(s->pc, 1);
        return 1;
    }
    if (s->eof || !s->pc) {
        lua_pushnil(L);
        return 1;
    }
    return wait_on(L, s, ctx, recv_k);
}

static int l_recv(lua_State *L)
{
    return recv_k(L, LUA_OK, 0);
}

static int l_close(lua_State *L)
{
    sock_t *s = luaL_checkudata(L, 1, SOCK_MT);
    kite_conn_t *pc = s->pc;

    if (pc) {
        s->pc = NULL;
        *(sock_t **)pc->user = NULL;
        kite_close(pc, 0, NULL);
    }
    if (s->waiter)
        s->waiter->wsock = NULL;
    s->waiter = NULL;
    free(s->buf);
    s->buf = NULL;
    s->len = s->cap = 0;
    s->eof = 1;
    return 0;
}

void kite__lua_sock_open_lib(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"send", l_send},
        {"recv", l_recv},
        {"close", l_close},
        {NULL, NULL},
    };

    luaL_newmetatable(L, SOCK_MT);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_close);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
}

void kite__lua_sock_forget(kite__lua_run_t *r)
{
    if (r->wsock && r->wsock->waiter == r)
        r->wsock->waiter = NULL;
    r->wsock = NULL;
}
