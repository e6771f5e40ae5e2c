/*
 * on_http: the context's HTTP callback, on a callback mount at "/" bound
 * to a hidden protocol, and serve_http_file(), which answers with a file
 * streamed from on_writeable in pieces the kernel takes (pread at an
 * offset, so a write refused by the output cap is simply tried again).
 * A request the Lua callback leaves unanswered gets 404; one whose
 * callback raised an error gets 500.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lua-kite.h"

struct http_ev {
    kite_conn_t *c;
    lk_http_t *hs;
    const kite_http_req_t *req;
    lk_ws_t *ws;
};

static int http_p(lua_State *L)
{
    struct http_ev *ev = lua_touserdata(L, 2);
    lk_ws_t *ws = lua_newuserdatauv(L, sizeof(*ws), LK_WS_NUV);

    memset(ws, 0, sizeof(*ws));
    luaL_setmetatable(L, LK_WS_META);
    ws->lc = kite_vhost_user(kite_conn_vhost(ev->c));
    ws->c = ev->c;
    ws->hs = ev->hs;
    ev->ws = ws;
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, LK_WS_CBS);
    lua_rawgeti(L, 1, LK_CB_HTTP);
    lua_insert(L, -2);
    lua_pushstring(L, kite_http_path(ev->req));
    lua_call(L, 2, 0);
    return 0;
}

static int on_http(kite_conn_t *c, void *user, const kite_http_req_t *req)
{
    lk_ctx_t *lc = kite_vhost_user(kite_conn_vhost(c));
    struct http_ev ev = {.c = c, .hs = user, .req = req};
    int r = lk_pcall(lc, http_p, &ev);

    /* The object is only good during the callback. */
    if (ev.ws)
        ev.ws->c = NULL;
    if (ev.hs->responded)
        return 0;
    ev.hs->responded = 1;
    return kite_http_send_status(c, r < 0 ? 500 : 404, NULL) < 0;
}

static int on_writeable(kite_conn_t *c, void *user)
{
    lk_http_t *hs = user;
    char buf[65536];

    while (hs->open) {
        size_t want = sizeof(buf);
        ssize_t n;
        int last, r;

        if (kite_conn_pending(c))
            return kite_callback_on_writable(c) < 0;
        if ((off_t)want > hs->size - hs->off)
            want = (size_t)(hs->size - hs->off);
        n = want ? pread(hs->fd, buf, want, hs->off) : 0;
        if (n < 0 || (size_t)n != want)
            return 1; /* the file shrank or failed: the length promised is a lie now */
        last = hs->off + n == hs->size;
        if (last) {
            /* The final write ends the transaction (on_closed) inside it. */
            hs->open = 0;
            close(hs->fd);
        }
        r = kite_write(c, buf, (size_t)n, last ? KITE_WRITE_HTTP_FINAL : KITE_WRITE_HTTP);
        if (r == KITE_EAGAIN && !last)
            return kite_callback_on_writable(c) < 0;
        if (r < 0)
            return 1;
        hs->off += n;
    }
    return 0;
}

static void on_closed(kite_conn_t *c, void *user, int code)
{
    lk_http_t *hs = user;

    (void)c;
    (void)code;
    if (hs->open) {
        hs->open = 0;
        close(hs->fd);
    }
}

static int refuse_ws(kite_conn_t *c, void *user)
{
    (void)c;
    (void)user;
    return 1;
}

const kite_protocol_t lk_http_protocol_template = {
    .abi = KITE_PROTOCOL_ABI,
    .name = LK_HTTP_PROTOCOL,
    .per_session_size = sizeof(lk_http_t),
    .on_http = on_http,
    .on_writeable = on_writeable,
    .on_closed = on_closed,
    .on_established = refuse_ws,
};

/* The answer; kite may call the module back (an external loop's fd
 * events) while it writes, so the caller makes this an entry. */
static int serve(lua_State *L, lk_ws_t *ws, const char *path, const char *type)
{
    lk_http_t *hs = ws->hs;
    struct stat st;
    int fd, e;

    hs->responded = 1;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        e = fd < 0 ? errno : EISDIR;
        if (fd >= 0)
            close(fd);
        kite_http_send_status(ws->c, e == EACCES ? 403 : 404, NULL);
        luaL_pushfail(L);
        lua_pushfstring(L, "%s: %s", path, strerror(e));
        return 2;
    }
    if (kite_http_respond(ws->c, 200, type, (int64_t)st.st_size) < 0) {
        close(fd);
        lua_pushliteral(L, "serve_http_file(): the response has begun already");
        return -1;
    }
    hs->fd = fd;
    hs->open = 1;
    hs->off = 0;
    hs->size = st.st_size;
    kite_callback_on_writable(ws->c);
    lua_pushboolean(L, 1);
    return 1;
}

int lk_ws_serve_http_file(lua_State *L)
{
    lk_ws_t *ws = luaL_checkudata(L, 1, LK_WS_META);
    const char *path = luaL_checkstring(L, 2);
    const char *type = luaL_optstring(L, 3, "application/octet-stream");
    lk_entry_t save;
    int n;

    if (!ws->hs)
        return luaL_error(L, "serve_http_file() is for the object on_http gets");
    if (!ws->c)
        return luaL_error(L, "serve_http_file() after on_http returned");
    if (ws->hs->responded)
        return luaL_error(L, "serve_http_file(): this request has been answered already");
    lua_settop(L, 3);
    lua_getiuservalue(L, 1, LK_WS_CBS);
    lk_enter(ws->lc, L, -1, &save);
    n = serve(L, ws, path, type);
    if (lk_leave(ws->lc, &save) || n < 0)
        return lua_error(L);
    return n;
}
