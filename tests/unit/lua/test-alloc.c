/*
 * Unit tests for lib/lua/alloc.c, the allocator of a thread's Lua state:
 * bytes counted in and out (back to zero after lua_close), contents kept
 * when a block moves between the small classes, from a class to malloc
 * and back, the cap refused as Lua's "not enough memory" while the state
 * goes on working, and the free lists bounded after a burst of garbage.
 */
#include "lua/alloc.c"
#include "tap.h"

static int filled(const unsigned char *p, size_t n, unsigned char v)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (p[i] != v)
            return 0;
    return 1;
}

/* Grow or shrink one block through @sizes, checking what it holds. */
static void moves(kite__lua_pt_t *lp)
{
    static const size_t sizes[] = {10, 16, 17, 200, 256, 257, 4000, 300, 100, 1, 5000, 8};
    unsigned char *p = kite__lua_alloc(lp, NULL, LUA_TTABLE, sizes[0]);
    size_t i, was = sizes[0];

    memset(p, 0xA5, was);
    for (i = 1; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        size_t keep = was < sizes[i] ? was : sizes[i];
        p = kite__lua_alloc(lp, p, was, sizes[i]);
        tap_ok(p && filled(p, keep, 0xA5), "%zu -> %zu bytes: the contents stay", was, sizes[i]);
        tap_is_int((long)lp->mem, (long)sizes[i], "... and %zu bytes are counted", sizes[i]);
        memset(p, 0xA5, sizes[i]);
        was = sizes[i];
    }
    kite__lua_alloc(lp, p, was, 0);
    tap_is_int((long)lp->mem, 0, "freed: nothing counted");
}

int main(void)
{
    kite__lua_pt_t *lp = calloc(1, sizeof(*lp));
    lua_State *L;
    unsigned c, over = 0;
    int r;

    moves(lp);
    L = lua_newstate(kite__lua_alloc, lp);
    tap_ok(L != NULL, "a state on the allocator");
    luaL_openlibs(L);
    r = luaL_dostring(L, "local t = {} for i = 1, 200000 do t[i % 5000] = {i, tostring(i)} end "
                         "t = nil collectgarbage() return 'ok'");
    tap_ok(r == LUA_OK && !strcmp(lua_tostring(L, -1), "ok"),
           "a burst of small tables and strings");
    for (c = 0; c <= KITE__LUA_SMALL >> 4; c++)
        over += lp->nfl[c] > KEEP;
    tap_is_int(over, 0, "the free lists stay within their bound");
    lua_settop(L, 0);
    lp->max_mem = lp->mem + 64 * 1024;
    r = luaL_dostring(L, "return string.rep('x', 1 << 20)");
    tap_ok(r == LUA_ERRMEM || (r != LUA_OK && strstr(lua_tostring(L, -1), "memory")),
           "past lua-max-memory: not enough memory");
    lua_settop(L, 0);
    r = luaL_dostring(L, "return #string.rep('y', 1000)");
    tap_ok(r == LUA_OK && lua_tointeger(L, -1) == 1000, "... and the state goes on");
    lp->max_mem = 0;
    lua_close(L);
    tap_is_int((long)lp->mem, 0, "lua_close: every byte given back");
    kite__lua_alloc_free(lp);
    for (c = 0, over = 0; c <= KITE__LUA_SMALL >> 4; c++)
        over += lp->fl[c] != NULL;
    tap_is_int(over, 0, "kite__lua_alloc_free empties the lists");
    free(lp);
    return tap_done();
}
