/*
 * lua-kite driven through the Lua C API from a test binary, so that in an
 * ASan build the module, libkite and the Lua state are all checked for
 * leaks: tests/integration/lua/errors.lua (bad configs, port in use,
 * lifetimes, collection, 1000 create/destroy cycles) runs in a lua_State
 * made here and prints TAP; then the state is closed.
 * argv: the directory holding kite.so, errors.lua.
 */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    lua_State *L;
    int ok;

    if (argc != 3) {
        printf("Bail out! usage: test-lua-module MODULE-DIR errors.lua\n");
        return 1;
    }
    L = luaL_newstate();
    luaL_openlibs(L);
    lua_getglobal(L, "package");
    lua_pushfstring(L, "%s/?.so", argv[1]);
    lua_setfield(L, -2, "cpath");
    lua_pop(L, 1);
    /* The script returns its verdict instead of calling os.exit(). */
    lua_pushboolean(L, 1);
    lua_setglobal(L, "KITE_EMBED");
    if (luaL_dofile(L, argv[2]) != LUA_OK) {
        printf("Bail out! %s\n", lua_tostring(L, -1));
        lua_close(L);
        return 1;
    }
    ok = lua_toboolean(L, -1);
    lua_close(L);
    return ok ? 0 : 1;
}
