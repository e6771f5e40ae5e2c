/*
 * The module's entry points. `require 'kite.websockets'` finds kite.so
 * through Lua's all-in-one loader and calls luaopen_kite_websockets: the
 * lua-websockets API. `require 'kite'` gives a table with the same API
 * and the same table again as .websockets.
 */
#include <poll.h>

#include "lua-kite.h"

#define LK_VERSION "0.1.0"

static const luaL_Reg functions[] = {
    {"context", lk_context_new},
    {NULL, NULL},
};

int luaopen_kite_websockets(lua_State *L);
int luaopen_kite(lua_State *L);

KITE_EXTERN int luaopen_kite_websockets(lua_State *L)
{
    lk_context_register(L);
    lk_ws_register(L);
    luaL_newlib(L, functions);
    lua_pushinteger(L, KITE_WRITE_TEXT);
    lua_setfield(L, -2, "WRITE_TEXT");
    lua_pushinteger(L, KITE_WRITE_BINARY);
    lua_setfield(L, -2, "WRITE_BINARY");
    lua_pushinteger(L, POLLIN);
    lua_setfield(L, -2, "POLLIN");
    lua_pushinteger(L, POLLOUT);
    lua_setfield(L, -2, "POLLOUT");
    lua_pushinteger(L, POLLERR);
    lua_setfield(L, -2, "POLLERR");
    lua_pushinteger(L, POLLHUP);
    lua_setfield(L, -2, "POLLHUP");
    lua_pushliteral(L, LK_VERSION);
    lua_setfield(L, -2, "version");
    return 1;
}

KITE_EXTERN int luaopen_kite(lua_State *L)
{
    luaL_requiref(L, "kite.websockets", luaopen_kite_websockets, 0);
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, -3)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
    lua_insert(L, -2);
    lua_setfield(L, -2, "websockets");
    return 1;
}
