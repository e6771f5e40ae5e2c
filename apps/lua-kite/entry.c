/*
 * Entries: kite calls the module's callbacks only while a method is
 * inside libkite (service, service_fd, destroy, ws:close, ...). Each such
 * method is an entry: it records its lua_State, on which the callbacks
 * then run, and while any entry is active the context's callbacks table
 * is reachable from the registry (under the context's address; taken out
 * when the outermost entry leaves, so no lasting reference keeps the
 * context alive). The callbacks run Lua through lua_pcall, so a Lua error
 * never unwinds through libkite's frames; the first error is kept and
 * raised by the entry once libkite has returned.
 */
#include "lua-kite.h"

void lk_enter(lk_ctx_t *lc, lua_State *L, int cbs, lk_entry_t *save)
{
    save->L = lc->L;
    lc->L = L;
    if (!lc->depth++) {
        lua_pushvalue(L, cbs);
        lua_rawsetp(L, LUA_REGISTRYINDEX, lc);
    }
}

int lk_leave(lk_ctx_t *lc, lk_entry_t *save)
{
    lua_State *L = lc->L;
    int raised;

    lc->L = save->L;
    lua_rawgetp(L, LUA_REGISTRYINDEX, lc);
    raised = lua_rawgeti(L, -1, LK_CB_ERR) != LUA_TNIL;
    if (raised) {
        lua_pushnil(L);
        lua_rawseti(L, -3, LK_CB_ERR);
    }
    lua_remove(L, -2);
    if (!raised)
        lua_pop(L, 1);
    if (!--lc->depth) {
        lua_pushnil(L);
        lua_rawsetp(L, LUA_REGISTRYINDEX, lc);
    }
    return raised;
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
    lua_rawgetp(L, LUA_REGISTRYINDEX, lc);
    lua_pushlightuserdata(L, ev);
    if (lua_pcall(L, 2, 0, base) == LUA_OK) {
        lua_settop(L, base - 1);
        return 0;
    }
    lua_rawgetp(L, LUA_REGISTRYINDEX, lc);
    if (lua_rawgeti(L, -1, LK_CB_ERR) == LUA_TNIL) {
        lua_pop(L, 1);
        lua_insert(L, -2);
        lua_rawseti(L, -2, LK_CB_ERR);
    }
    lua_settop(L, base - 1);
    return -1;
}
