/*
 * What a page may call: the standard libraries of the thread's state,
 * less what would end, block or corrupt the server process that all
 * pages, scripts and websockets of the thread share. os.exit, os.execute
 * and io.popen raise an error (a page that needs a process is a CGI);
 * os.setlocale only reads; io.stdin and the default input are /dev/null;
 * io.open, io.lines, io.input, io.output, loadfile, dofile and require
 * refuse a FIFO, a socket or a terminal (opening or reading one waits);
 * debug keeps traceback and getinfo (sethook would lift the instruction
 * budget, the registry holds kite's own anchors); package.loadlib and
 * the C searchers are gone, and load, loadfile, dofile and require read
 * text only (a forged binary chunk can crash the Lua VM); collectgarbage
 * cannot stop the collector or change its mode. lfs (Debian's
 * lua-filesystem, found with dlopen, less lfs.chdir, which would move
 * every page's relative paths) and sqlite3 (sqlite.c) are globals and
 * can be required.
 */
#include <dlfcn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "lua/private-lua.h"

#define LFS_LIB "liblua5.4-filesystem.so.0"

static int refused(lua_State *L)
{
    return luaL_error(L, "%s is not available to pages (it would end or block the server)",
                      lua_tostring(L, lua_upvalueindex(1)));
}

/* Replace t[name] (t on top) by a function raising an error that names it. */
static void refuse(lua_State *L, const char *lib, const char *name)
{
    lua_pushfstring(L, "%s.%s", lib, name);
    lua_pushcclosure(L, refused, 1);
    lua_setfield(L, -2, name);
}

/* Opening @p would wait (a FIFO without a writer) or reading it would
 * (a socket, a terminal): anything but a file, a directory or one of the
 * memory devices (major 1: null, zero, full, random, urandom). */
static int would_block(const char *p)
{
    struct stat st;

    if (stat(p, &st) < 0)
        return 0;
    if (S_ISCHR(st.st_mode))
        return major(st.st_rdev) != 1;
    return !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

static void check_path(lua_State *L, const char *p)
{
    if (p && would_block(p))
        luaL_error(L, "%s is not a file a page may open (reading it could block the server)", p);
}

/* io.open, io.lines, io.input, io.output (upvalue 1) with a path: not
 * one that would block. */
static int open_guarded(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TSTRING)
        check_path(L, lua_tostring(L, 1));
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

static int setlocale_query(lua_State *L)
{
    if (!lua_isnoneornil(L, 1))
        return luaL_error(L, "os.setlocale can only read the locale here (it is the process's)");
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* load(chunk [, name [, mode [, env]]]) in text mode only (an env
 * argument only when the caller gave one: a nil there is an env). */
static int load_text(lua_State *L)
{
    if (lua_gettop(L) < 3)
        lua_settop(L, 3);
    lua_pushliteral(L, "t");
    lua_replace(L, 3);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* loadfile(file [, mode [, env]]) in text mode only. */
static int loadfile_text(lua_State *L)
{
    const char *f = luaL_optstring(L, 1, NULL);
    int env = !lua_isnone(L, 3);

    if (!f)
        return luaL_error(L, "loadfile needs a file name here (stdin is not the page's)");
    check_path(L, f);
    if (luaL_loadfilex(L, f, "t") != LUA_OK) {
        luaL_pushfail(L);
        lua_insert(L, -2);
        return 2;
    }
    if (env) {
        lua_pushvalue(L, 3);
        if (!lua_setupvalue(L, -2, 1))
            lua_pop(L, 1);
    }
    return 1;
}

static int dofile_k(lua_State *L, int status, lua_KContext ctx)
{
    (void)status;
    return lua_gettop(L) - (int)ctx;
}

static int dofile_text(lua_State *L)
{
    const char *f = luaL_optstring(L, 1, NULL);

    if (!f)
        return luaL_error(L, "dofile needs a file name here (stdin is not the page's)");
    check_path(L, f);
    lua_settop(L, 1);
    if (luaL_loadfilex(L, f, "t") != LUA_OK)
        return lua_error(L);
    lua_callk(L, 0, LUA_MULTRET, 1, dofile_k);
    return dofile_k(L, LUA_OK, 1);
}

/* package.searchers[2] in text mode: a Lua module on package.path. */
static int search_lua(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1), *file;

    lua_getglobal(L, "package");
    lua_getfield(L, -1, "path");
    if (!lua_isstring(L, -1))
        return luaL_error(L, "package.path must be a string");
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "searchpath");
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 3);
    lua_call(L, 2, 2);
    if (!(file = lua_tostring(L, -2)))
        return 1; /* the message of searchpath */
    check_path(L, file);
    if (luaL_loadfilex(L, file, "t") != LUA_OK)
        return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s", name, file,
                          lua_tostring(L, -1));
    lua_pushstring(L, file);
    return 2;
}

static int collect_garbage(lua_State *L)
{
    static const char *const bad[] = {"stop", "incremental", "generational", "setpause",
                                      "setstepmul"};
    const char *opt = luaL_optstring(L, 1, "collect");
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (!strcmp(opt, bad[i]))
            return luaL_error(L,
                              "collectgarbage(\"%s\") is not available to pages (the "
                              "collector is the thread's)",
                              opt);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* Wrap the global @name: @fn gets the original as upvalue 1. */
static void wrap_global(lua_State *L, const char *name, lua_CFunction fn)
{
    lua_getglobal(L, name);
    lua_pushcclosure(L, fn, 1);
    lua_setglobal(L, name);
}

static void sandbox_io(lua_State *L)
{
    static const char *const guarded[] = {"open", "lines", "input", "output"};
    size_t i;

    lua_getglobal(L, "io");
    refuse(L, "io", "popen");
    for (i = 0; i < sizeof(guarded) / sizeof(guarded[0]); i++) {
        lua_getfield(L, -1, guarded[i]);
        lua_pushcclosure(L, open_guarded, 1);
        lua_setfield(L, -2, guarded[i]);
    }
    /* The server's stdin may be a terminal: reading it would block. */
    lua_getfield(L, -1, "open");
    lua_pushliteral(L, "/dev/null");
    lua_call(L, 1, 1);
    if (!lua_isnil(L, -1)) {
        lua_getfield(L, -2, "input");
        lua_pushvalue(L, -2);
        lua_call(L, 1, 0);
        lua_setfield(L, -2, "stdin");
    } else {
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

static void sandbox_debug(lua_State *L)
{
    lua_getglobal(L, "debug");
    lua_createtable(L, 0, 2);
    lua_getfield(L, -2, "traceback");
    lua_setfield(L, -2, "traceback");
    lua_getfield(L, -2, "getinfo");
    lua_setfield(L, -2, "getinfo");
    lua_setglobal(L, "debug");
    lua_pop(L, 1);
    /* require "debug" gives the same table. */
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_getglobal(L, "debug");
    lua_setfield(L, -2, "debug");
    lua_pop(L, 1);
}

static void sandbox_package(lua_State *L)
{
    lua_getglobal(L, "package");
    lua_pushnil(L);
    lua_setfield(L, -2, "loadlib");
    lua_pushliteral(L, "");
    lua_setfield(L, -2, "cpath");
    lua_getfield(L, -1, "searchers");
    lua_createtable(L, 2, 0);
    lua_rawgeti(L, -2, 1); /* package.preload */
    lua_rawseti(L, -2, 1);
    lua_pushcfunction(L, search_lua);
    lua_rawseti(L, -2, 2);
    lua_setfield(L, -3, "searchers");
    lua_pop(L, 2);
}

/* lfs from Debian's lua-filesystem, when installed: package.preload.lfs
 * and the global lfs, as in civetweb. */
static void open_lfs(lua_State *L)
{
    void *h = dlopen(LFS_LIB, RTLD_NOW | RTLD_LOCAL);
    lua_CFunction open = NULL;

    /* The handle stays open for the life of the process: the functions
     * of every thread's state point into it. */
    if (h)
        *(void **)&open = dlsym(h, "luaopen_lfs");
    if (!open)
        return;
    luaL_requiref(L, "lfs", open, 1);
    refuse(L, "lfs", "chdir");
    lua_pop(L, 1);
}

void kite__lua_sandbox(lua_State *L)
{
    lua_getglobal(L, "os");
    refuse(L, "os", "exit");
    refuse(L, "os", "execute");
    lua_getfield(L, -1, "setlocale");
    lua_pushcclosure(L, setlocale_query, 1);
    lua_setfield(L, -2, "setlocale");
    lua_pop(L, 1);
    sandbox_io(L);
    sandbox_debug(L);
    sandbox_package(L);
    wrap_global(L, "load", load_text);
    lua_pushcfunction(L, loadfile_text);
    lua_setglobal(L, "loadfile");
    lua_pushcfunction(L, dofile_text);
    lua_setglobal(L, "dofile");
    wrap_global(L, "collectgarbage", collect_garbage);
    open_lfs(L);
    luaL_requiref(L, "sqlite3", kite__lua_open_sqlite3, 1);
    lua_pop(L, 1);
}
