/*
 * Websocket objects: the kite protocol callbacks behind every Lua
 * protocol, the per-connection send queue and the websocket methods.
 *
 * A websocket userdata is kept alive by the context's LK_CB_CONNS table
 * while its connection is open; on_closed takes it out, so afterwards it
 * lives as long as Lua holds it and its methods raise "websocket is
 * closed". Writes from Lua go to a queue bounded by the context's
 * max_queue and reach kite from on_writeable, while the kernel takes them.
 */
#include <stdlib.h>
#include <string.h>

#include "lua-kite.h"

static lk_ws_t *check_ws(lua_State *L)
{
    lk_ws_t *ws = luaL_checkudata(L, 1, LK_WS_META);

    if (!ws->c)
        luaL_error(L, "websocket is closed");
    return ws;
}

static lk_ws_t *check_open_ws(lua_State *L)
{
    lk_ws_t *ws = check_ws(L);

    if (ws->close_code)
        luaL_error(L, "websocket is closing (close() was called)");
    if (!ws->proto)
        luaL_error(L, "not a websocket: on_http's object only has serve_http_file()");
    return ws;
}

static void free_queue(lk_ws_t *ws)
{
    lk_msg_t *m;

    while ((m = ws->head)) {
        ws->head = m->next;
        free(m);
    }
    ws->tail = NULL;
    ws->queued = 0;
}

/* Hands queued messages to kite while the kernel takes everything; the
 * rest waits for the next on_writeable, which kite sends once its own
 * output has drained. */
static int flush(lk_ws_t *ws)
{
    kite_conn_t *c = ws->c;
    lk_msg_t *m;
    int r;

    while ((m = ws->head)) {
        if (kite_conn_pending(c))
            return kite_callback_on_writable(c);
        r = kite_write(c, m->data, m->len, m->type);
        if (r == KITE_EAGAIN)
            return kite_callback_on_writable(c);
        if (r < 0)
            return r;
        ws->head = m->next;
        ws->queued -= m->len;
        free(m);
    }
    ws->tail = NULL;
    if (ws->close_code)
        return kite_close(c, ws->close_code, ws->close_reason[0] ? ws->close_reason : NULL);
    return 0;
}

int lk_ws_enqueue(lk_ws_t *ws, const char *data, size_t len, unsigned type)
{
    lk_msg_t *m;
    int r;

    if (len > ws->lc->max_queue - ws->queued)
        return KITE_EAGAIN;
    /* Fails when kite is closing the connection (the peer closed, say):
     * then nothing is queued. */
    if ((r = kite_callback_on_writable(ws->c)) < 0)
        return r;
    if (!(m = malloc(sizeof(*m) + len)))
        return KITE_ENOMEM;
    m->next = NULL;
    m->len = len;
    m->type = type;
    memcpy(m->data, data, len);
    if (ws->tail)
        ws->tail->next = m;
    else
        ws->head = m;
    ws->tail = m;
    ws->queued += len;
    return 0;
}

/* --- kite protocol callbacks ------------------------------------------- */

struct ev {
    kite_conn_t *c;
    lk_ws_t *ws;
    const void *in;
    size_t len;
    unsigned flags;
    int code;
};

static void push_ws(lua_State *L, lk_ws_t *ws)
{
    lua_rawgeti(L, 1, LK_CB_CONNS);
    lua_rawgetp(L, -1, ws);
    lua_remove(L, -2);
}

static int established_p(lua_State *L)
{
    struct ev *ev = lua_touserdata(L, 2);
    lk_proto_t *pr = (lk_proto_t *)kite_conn_protocol(ev->c);
    lk_ws_t *ws = lua_newuserdatauv(L, sizeof(*ws), LK_WS_NUV);

    memset(ws, 0, sizeof(*ws));
    ws->lc = pr->lc;
    ws->proto = pr;
    ws->bcast = KITE_WRITE_TEXT;
    luaL_setmetatable(L, LK_WS_META);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, LK_WS_CBS);
    lua_rawgeti(L, 1, LK_CB_CONNS);
    lua_pushvalue(L, -2);
    lua_rawsetp(L, -2, ws);
    lua_pop(L, 1);
    /* Only now, with nothing left that can fail, is it an open websocket. */
    ws->c = ev->c;
    *(lk_ws_t **)kite_conn_user(ev->c) = ws;
    ws->next = pr->head;
    if (pr->head)
        pr->head->prev = ws;
    pr->head = ws;
    lua_rawgeti(L, 1, pr->key);
    lua_insert(L, -2);
    lua_call(L, 1, 0);
    return 0;
}

static int on_established(kite_conn_t *c, void *user)
{
    lk_proto_t *pr = (lk_proto_t *)kite_conn_protocol(c);
    struct ev ev = {.c = c};

    (void)user;
    return lk_pcall(pr->lc, established_p, &ev) < 0;
}

static int receive_p(lua_State *L)
{
    struct ev *ev = lua_touserdata(L, 2);

    push_ws(L, ev->ws);
    if (lua_getiuservalue(L, -1, LK_WS_RECEIVE) != LUA_TFUNCTION)
        return 0;
    lua_insert(L, -2);
    lua_pushlstring(L, ev->in, ev->len);
    lua_pushinteger(L, ev->flags & KITE_RX_BINARY ? KITE_WRITE_BINARY : KITE_WRITE_TEXT);
    lua_call(L, 3, 0);
    return 0;
}

static int on_receive(kite_conn_t *c, void *user, const void *in, size_t len, unsigned flags)
{
    lk_ws_t *ws = *(lk_ws_t **)user;
    struct ev ev = {.c = c, .ws = ws, .in = in, .len = len, .flags = flags};

    if (!ws)
        return 1;
    return lk_pcall(ws->lc, receive_p, &ev) < 0;
}

static int on_writeable(kite_conn_t *c, void *user)
{
    lk_ws_t *ws = *(lk_ws_t **)user;

    (void)c;
    return ws && flush(ws) < 0;
}

static int closed_p(lua_State *L)
{
    struct ev *ev = lua_touserdata(L, 2);

    push_ws(L, ev->ws);
    lua_rawgeti(L, 1, LK_CB_CONNS);
    lua_pushnil(L);
    lua_rawsetp(L, -2, ev->ws);
    lua_pop(L, 1);
    if (lua_getiuservalue(L, -1, LK_WS_CLOSED) != LUA_TFUNCTION)
        return 0;
    lua_insert(L, -2);
    lua_pushinteger(L, ev->code);
    lua_call(L, 2, 0);
    return 0;
}

static void on_closed(kite_conn_t *c, void *user, int code)
{
    lk_ws_t *ws = *(lk_ws_t **)user;
    struct ev ev = {.c = c, .ws = ws, .code = code};

    if (!ws)
        return;
    *(lk_ws_t **)user = NULL;
    ws->c = NULL;
    free_queue(ws);
    if (ws->prev)
        ws->prev->next = ws->next;
    else
        ws->proto->head = ws->next;
    if (ws->next)
        ws->next->prev = ws->prev;
    ws->prev = ws->next = NULL;
    lk_pcall(ws->lc, closed_p, &ev);
}

const kite_protocol_t lk_ws_protocol_template = {
    .abi = KITE_PROTOCOL_ABI,
    .per_session_size = sizeof(lk_ws_t *),
    .flags = KITE_PROTO_WHOLE_MESSAGES,
    .on_established = on_established,
    .on_receive = on_receive,
    .on_writeable = on_writeable,
    .on_closed = on_closed,
};

/* --- broadcast ----------------------------------------------------------- */

int lk_broadcast(lua_State *L, int cbs, lk_proto_t *pr, int data)
{
    size_t len;
    const char *p = luaL_checklstring(L, data, &len);
    lk_ws_t *ws;
    int n = 0, i, reached = 0;

    cbs = lua_absindex(L, cbs);
    data = lua_absindex(L, data);
    /* A snapshot: a broadcast callback may close websockets, and with no
     * service call in progress kite then frees them at once. */
    lua_newtable(L);
    lua_rawgeti(L, cbs, LK_CB_CONNS);
    for (ws = pr->head; ws; ws = ws->next) {
        lua_rawgetp(L, -1, ws);
        lua_rawseti(L, -3, ++n);
    }
    lua_pop(L, 1);
    for (i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, i);
        ws = lua_touserdata(L, -1);
        if (!ws || !ws->c || ws->close_code) {
            lua_pop(L, 1);
            continue;
        }
        if (ws->bcast == LK_BC_FUNC) {
            lua_getiuservalue(L, -1, LK_WS_BROADCAST);
            lua_insert(L, -2);
            lua_pushvalue(L, data);
            lua_call(L, 2, 0);
            reached++;
            continue;
        }
        lua_pop(L, 1);
        /* A websocket whose queue is full misses this message. */
        if (!lk_ws_enqueue(ws, p, len, (unsigned)ws->bcast))
            reached++;
    }
    lua_pop(L, 1);
    return reached;
}

/* --- websocket methods --------------------------------------------------- */

static unsigned check_type(lua_State *L, int arg)
{
    lua_Integer t = luaL_optinteger(L, arg, KITE_WRITE_TEXT);

    luaL_argcheck(L, t == KITE_WRITE_TEXT || t == KITE_WRITE_BINARY, arg,
                  "websockets.WRITE_TEXT or websockets.WRITE_BINARY expected");
    return (unsigned)t;
}

static int ws_write(lua_State *L)
{
    lk_ws_t *ws = check_open_ws(L);
    size_t len;
    const char *data = luaL_checklstring(L, 2, &len);
    int r = lk_ws_enqueue(ws, data, len, check_type(L, 3));

    if (r == KITE_EAGAIN) {
        luaL_pushfail(L);
        lua_pushfstring(L, "send queue full (%I bytes queued, max_queue %I)",
                        (lua_Integer)ws->queued, (lua_Integer)ws->lc->max_queue);
        return 2;
    }
    if (r == KITE_ECLOSED) {
        luaL_pushfail(L);
        lua_pushliteral(L, "connection is closing");
        return 2;
    }
    if (r < 0)
        return luaL_error(L, "write: %s", kite_strerror(r));
    lua_pushinteger(L, (lua_Integer)len);
    return 1;
}

static int set_callback(lua_State *L, int slot)
{
    check_ws(L);
    if (!lua_isnoneornil(L, 2))
        luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_settop(L, 2);
    lua_setiuservalue(L, 1, slot);
    return 0;
}

static int ws_on_receive(lua_State *L)
{
    return set_callback(L, LK_WS_RECEIVE);
}

static int ws_on_closed(lua_State *L)
{
    return set_callback(L, LK_WS_CLOSED);
}

static int ws_on_broadcast(lua_State *L)
{
    lk_ws_t *ws = check_ws(L);

    if (lua_isfunction(L, 2)) {
        ws->bcast = LK_BC_FUNC;
        return set_callback(L, LK_WS_BROADCAST);
    }
    ws->bcast = (int)check_type(L, 2);
    lua_pushnil(L);
    lua_setiuservalue(L, 1, LK_WS_BROADCAST);
    return 0;
}

static int ws_broadcast(lua_State *L)
{
    lk_ws_t *ws = check_open_ws(L);

    lua_getiuservalue(L, 1, LK_WS_CBS);
    lua_pushinteger(L, lk_broadcast(L, -1, ws->proto, 2));
    return 1;
}

static int ws_get_socket_fd(lua_State *L)
{
    lua_pushinteger(L, kite_conn_fd(check_ws(L)->c));
    return 1;
}

static int ws_close(lua_State *L)
{
    lk_ws_t *ws = check_ws(L);
    lua_Integer code = luaL_optinteger(L, 2, KITE_WS_CLOSE_NORMAL);
    const char *reason = luaL_optstring(L, 3, "");
    lk_entry_t save;

    /* The codes an endpoint may send (RFC 6455 7.4), as kite accepts them from peers. */
    luaL_argcheck(L,
                  (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
                      (code >= 3000 && code <= 4999),
                  2, "a close code (1000-1003, 1007-1014 or 3000-4999) expected");
    luaL_argcheck(L, strlen(reason) < sizeof(ws->close_reason), 3, "at most 123 bytes");
    if (ws->close_code)
        return 0;
    ws->close_code = (int)code;
    strcpy(ws->close_reason, reason);
    if (ws->head)
        return 0; /* flush() closes once the queue has drained */
    /* Outside a service call kite may close (and call on_closed) at once. */
    lua_getiuservalue(L, 1, LK_WS_CBS);
    lk_enter(ws->lc, L, -1, &save);
    kite_close(ws->c, ws->close_code, reason[0] ? reason : NULL);
    if (lk_leave(ws->lc, &save))
        return lua_error(L);
    return 0;
}

static int ws_get_peer_addresses(lua_State *L)
{
    lk_ws_t *ws = check_ws(L);
    char ip[64];

    if (kite_conn_peer(ws->c, ip, sizeof(ip), NULL) < 0)
        return 0;
    /* lws resolved a name here; kite does not block on DNS: both are the address. */
    lua_pushstring(L, ip);
    lua_pushstring(L, ip);
    return 2;
}

static int ws_remaining_packet_payload(lua_State *L)
{
    check_ws(L);
    /* Messages are delivered whole: nothing of one is ever still to come. */
    lua_pushinteger(L, 0);
    return 1;
}

static int ws_rx_flow_control(lua_State *L)
{
    lk_ws_t *ws = check_open_ws(L);
    int enable = lua_isnumber(L, 2) ? lua_tointeger(L, 2) != 0 : lua_toboolean(L, 2);
    lk_entry_t save;
    int r;

    luaL_checkany(L, 2);
    /* An entry: with an external loop kite changes the fd's events now. */
    lua_getiuservalue(L, 1, LK_WS_CBS);
    lk_enter(ws->lc, L, -1, &save);
    r = kite_rx_flow_control(ws->c, enable);
    if (lk_leave(ws->lc, &save))
        return lua_error(L);
    if (r < 0)
        return luaL_error(L, "rx_flow_control: %s", kite_strerror(r));
    lua_pushboolean(L, 1);
    return 1;
}

static int ws_tostring(lua_State *L)
{
    lk_ws_t *ws = luaL_checkudata(L, 1, LK_WS_META);

    lua_pushfstring(L, "websocket: %p%s", (void *)ws, ws->c ? "" : " (closed)");
    return 1;
}

static int ws_gc(lua_State *L)
{
    /* Only reached with the connection open when the context is being
     * collected too; its destroy then closes the connection. */
    free_queue(luaL_checkudata(L, 1, LK_WS_META));
    return 0;
}

static const luaL_Reg ws_methods[] = {
    {"write", ws_write},
    {"on_receive", ws_on_receive},
    {"on_closed", ws_on_closed},
    {"on_broadcast", ws_on_broadcast},
    {"broadcast", ws_broadcast},
    {"get_socket_fd", ws_get_socket_fd},
    {"close", ws_close},
    {"get_peer_addresses", ws_get_peer_addresses},
    {"remaining_packet_payload", ws_remaining_packet_payload},
    {"rx_flow_control", ws_rx_flow_control},
    {"serve_http_file", lk_ws_serve_http_file},
    {NULL, NULL},
};

void lk_ws_register(lua_State *L)
{
    luaL_newmetatable(L, LK_WS_META);
    luaL_newlib(L, ws_methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, ws_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushcfunction(L, ws_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
}
