/*
 * require for pages and scripts: a module beside the file that calls
 * require (name.lua there, dots in the name being directories, as
 * package.path's "?" does) comes first, then one in the mount's
 * document root, then the standard require
 * (package.preload: lfs, sqlite3; package.path, text only; the loaded
 * table). A module beside the script runs in the request's environment,
 * like the page (civetweb makes a state per request, so a module's
 * globals are the page's there too), is compiled once per thread and
 * seen again when it changes, as pages are (files.c), and is loaded once
 * per request: the request's environment keeps what it returned. One
 * that resolves outside the mount's docroot (a symlink, say) is an error.
 */
#include <limits.h>
#include <string.h>

#include "lua/private-lua.h"

/* The key of a request's loaded modules in its environment. */
static const char loaded_key;

/* Continuation: the module's result (at 4) kept as loaded[path]. */
static int keep_k(lua_State *L, int status, lua_KContext ctx)
{
    (void)status;
    (void)ctx;
    if (lua_gettop(L) < 4 || lua_isnil(L, 4)) {
        lua_settop(L, 3);
        lua_pushboolean(L, 1);
    }
    lua_settop(L, 4);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, 4);
    lua_rawset(L, 3);
    lua_pushvalue(L, 2);
    return 2;
}

/* The path of module @name in the directory @dir[0..n) into
 * path[PATH_MAX]; 0 if it does not fit. */
static int in_dir(const char *dir, size_t n, const char *name, char *path)
{
    size_t i;

    if (!*name || n + strlen(name) + 6 > PATH_MAX)
        return 0;
    memcpy(path, dir, n);
    path[n] = '/';
    for (i = 0; name[i]; i++)
        path[n + 1 + i] = name[i] == '.' ? '/' : name[i];
    memcpy(path + n + 1 + i, ".lua", 5);
    return 1;
}

/* Module @name beside the calling file @cur, else in the mount's
 * docroot (civetweb finds ./name.lua from its working directory, which
 * is most often the docroot): its entry, path in @path, or NULL. */
static kite__lua_file_t *find(kite__lua_pt_t *lp, const kite__mount_rt_t *m, const char *cur,
                              const char *name, char *path)
{
    const char *slash = cur ? strrchr(cur, '/') : NULL;
    kite__lua_file_t *f;

    if (slash && in_dir(cur, (size_t)(slash - cur), name, path) &&
        (f = kite__lua_file_get(lp, path)))
        return f;
    if (m && m->root && in_dir(m->root, m->root_len, name, path))
        return kite__lua_file_get(lp, path);
    return NULL;
}

static int l_require(lua_State *L)
{
    kite__lua_pt_t *lp = *(kite__lua_pt_t **)lua_getextraspace(L);
    kite__lua_run_t *r = lp->cur;
    const char *name = luaL_checkstring(L, 1), *cur;
    const kite__mount_rt_t *m;
    kite__lua_file_t *f;
    char path[PATH_MAX];

    lua_settop(L, 1);
    cur = kite__lua_caller_file(L);
    m = r && !r->dead && r->t ? r->t->mrt : NULL;
    if (!r || r->dead || !(f = find(lp, m, cur, name, path))) {
        /* Not beside the caller: the standard require (upvalue 1). */
        lua_pushvalue(L, lua_upvalueindex(1));
        lua_insert(L, 1);
        lua_call(L, 1, 2);
        return 2;
    }
    if (m && m->root && !kite__path_within(f->real, m->root, m->root_len))
        return luaL_error(L, "module '%s': %s is outside the document root", name, path);
    lua_pushstring(L, path); /* 2 */
    kite__lua_push_env(L, r);
    if (!lua_istable(L, -1))
        return luaL_error(L, "require: no environment");
    if (lua_rawgetp(L, -1, &loaded_key) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_rawsetp(L, -3, &loaded_key);
    }
    lua_remove(L, -2); /* 3: the request's loaded modules */
    lua_pushvalue(L, 2);
    if (lua_rawget(L, 3) == LUA_TNIL) {
        lua_pop(L, 1);
    } else {
        lua_pushvalue(L, 2);
        return 2;
    }
    kite__lua_load(lp, L, path, 0);
    kite__lua_push_env(L, r);
    lua_callk(L, 1, 1, 0, keep_k);
    return keep_k(L, LUA_OK, 0);
}

void kite__lua_require_open(lua_State *L)
{
    lua_getglobal(L, "require");
    lua_pushcclosure(L, l_require, 1);
    lua_setglobal(L, "require");
}
