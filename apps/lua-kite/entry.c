/*
 * Entries: kite calls the module's callbacks only while a context method
 * (service, service_fd, destroy, ...) is inside libkite. Each such method
 * records its lua_State and where the callbacks table sits on its stack;
 * the callbacks run Lua through lua_pcall, so a Lua error never unwinds
 * through libkite's frames. The first error is kept and raised by the
 * method once libkite has returned.
 */
#include "lua-kite.h"

void lk_enter(lk_ctx_t *lc, lua_State *L, int cbs, lk_entry_t *save)
{
    save->L = lc->L;
    save->cbs = lc->cbs;
    lc->L = L;
    lc->cbs = lua_absindex(L, cbs);
    lc->depth++;
}

int lk_leave(lk_ctx_t *lc, lk_entry_t *save)
{
    lua_State *L = lc->L;
    int cbs = lc->cbs;

    lc->L = save->L;
    lc->cbs = save->cbs;
    lc->depth--;
    if (lua_rawgeti(L, cbs, LK_CB_ERR) == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    lua_pushnil(L);
    lua_rawseti(L, cbs, LK_CB_ERR);
    return 1;
}

static int traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);

    if (msg)
        luaL_traceback(L, L, msg, 1);
    return 1;
}

int lk_pcall(lk_ctx_t *lc, lua_CFunction f, void *ev)
{
    lua_State *L = lc->L;
    int base;

    if (!L)
        return -1;
    base = lua_gettop(L) + 1;
    lua_pushcfunction(L, traceback);
    lua_pushcfunction(L, f);
    lua_pushvalue(L, lc->cbs);
    lua_pushlightuserdata(L, ev);
    if (lua_pcall(L, 2, 0, base) == LUA_OK) {
        lua_settop(L, base - 1);
        return 0;
    }
    if (lua_rawgeti(L, lc->cbs, LK_CB_ERR) == LUA_TNIL) {
        lua_pop(L, 1);
        lua_rawseti(L, lc->cbs, LK_CB_ERR);
    }
    lua_settop(L, base - 1);
    return -1;
}
