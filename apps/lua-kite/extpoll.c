/*
 * External event loops: with on_add_fd in the config the context uses
 * kite's external-poll backend, and kite's add_fd / del_fd / change_mode
 * become the Lua callbacks on_add_fd(fd, events), on_del_fd(fd) and
 * on_change_fd(fd, events). The application's loop hands readiness back
 * with context:service_fd(fd, revents...) and sleeps at most
 * context:next_timeout().
 */
#include <poll.h>
#include <string.h>

#include "lua-kite.h"

struct fd_ev {
    int key;
    int fd;
    short events;
};

static int fd_p(lua_State *L)
{
    struct fd_ev *ev = lua_touserdata(L, 2);

    if (lua_rawgeti(L, 1, ev->key) != LUA_TFUNCTION)
        return 0;
    lua_pushinteger(L, ev->fd);
    if (ev->key == LK_CB_DEL_FD) {
        lua_call(L, 1, 0);
        return 0;
    }
    lua_pushinteger(L, ev->events);
    lua_call(L, 2, 0);
    return 0;
}

static int call_fd(void *user, int key, int fd, short events)
{
    struct fd_ev ev = {.key = key, .fd = fd, .events = events};

    return lk_pcall(user, fd_p, &ev);
}

static int add_fd(void *user, int fd, short events)
{
    return call_fd(user, LK_CB_ADD_FD, fd, events);
}

static int del_fd(void *user, int fd)
{
    return call_fd(user, LK_CB_DEL_FD, fd, 0);
}

static int change_mode(void *user, int fd, short events)
{
    return call_fd(user, LK_CB_CHANGE_FD, fd, events);
}

const kite_extpoll_t lk_extpoll_template = {
    .add_fd = add_fd,
    .del_fd = del_fd,
    .change_mode = change_mode,
};

/* revents from the arguments at @first...: poll bits, OR'ed, or strings
 * with 'r' (readable), 'w' (writable), 'e' (error) and 'h' (hang-up), as
 * an event library such as luv reports them. */
unsigned lk_check_events(lua_State *L, int first)
{
    unsigned ev = 0;
    int i, top = lua_gettop(L);

    luaL_argcheck(L, top >= first, first, "at least one revent expected");
    for (i = first; i <= top; i++) {
        const char *s;
        if (lua_type(L, i) == LUA_TNUMBER) {
            ev |= (unsigned)luaL_checkinteger(L, i);
            continue;
        }
        if (lua_isnil(L, i))
            continue;
        for (s = luaL_checkstring(L, i); *s; s++) {
            if (*s == 'r')
                ev |= POLLIN;
            else if (*s == 'w')
                ev |= POLLOUT;
            else if (*s == 'e')
                ev |= POLLERR;
            else if (*s == 'h' || *s == 'd')
                ev |= POLLHUP;
        }
    }
    return ev;
}
