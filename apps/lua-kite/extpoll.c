/*
 * External event loops: with on_add_fd in the config the context uses
 * kite's external-poll backend, and kite's add_fd / del_fd / change_mode
 * become the Lua callbacks on_add_fd(fd, events), on_del_fd(fd) and
 * on_change_fd(fd, events). The application's loop hands readiness back
 * with context:service_fd(fd, revents...) and sleeps at most
 * context:next_timeout(). The module keeps its own poll array of the same
 * fds too, so that context:service() works on such a context as well (as
 * it did in lua-websockets, where on_add_fd could be informational).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
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

static int find(const lk_ctx_t *lc, int fd)
{
    int i;

    for (i = 0; i < lc->npfds; i++)
        if (lc->pfds[i].fd == fd)
            return i;
    return -1;
}

static void del_entry(lk_ctx_t *lc, int fd)
{
    int i = find(lc, fd);

    if (i >= 0) {
        lc->npfds--;
        lc->pfds[i] = lc->pfds[lc->npfds];
    }
}

static int add_fd(void *user, int fd, short events)
{
    lk_ctx_t *lc = user;

    if (lc->npfds == lc->cappfds) {
        int cap = lc->cappfds ? lc->cappfds * 2 : 16;
        struct pollfd *n = realloc(lc->pfds, (size_t)cap * sizeof(*n));
        if (!n)
            return -1;
        lc->pfds = n;
        lc->cappfds = cap;
    }
    lc->pfds[lc->npfds++] = (struct pollfd){.fd = fd, .events = events};
    if (call_fd(user, LK_CB_ADD_FD, fd, events) < 0) {
        /* Refused: kite closes the fd and never deletes it. */
        del_entry(lc, fd);
        return -1;
    }
    return 0;
}

static int del_fd(void *user, int fd)
{
    del_entry(user, fd);
    return call_fd(user, LK_CB_DEL_FD, fd, 0);
}

static int change_mode(void *user, int fd, short events)
{
    lk_ctx_t *lc = user;
    int i = find(lc, fd);

    if (i >= 0)
        lc->pfds[i].events = events;
    return call_fd(user, LK_CB_CHANGE_FD, fd, events);
}

const kite_extpoll_t lk_extpoll_template =
    KITE_EXTPOLL_INIT(.add_fd = add_fd, .del_fd = del_fd, .change_mode = change_mode, );

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

int lk_extpoll_service(lk_ctx_t *lc, int timeout_ms)
{
    int next = kite_next_timeout_ms(lc->ctx, 0), n, i, r;

    if (next >= 0 && (timeout_ms < 0 || next < timeout_ms))
        timeout_ms = next;
    n = poll(lc->pfds, (nfds_t)lc->npfds, timeout_ms);
    if (n < 0 && errno != EINTR)
        return -errno;
    /* Servicing may add entries (realloc) or delete them (the last one
     * fills the hole): service a copy and walk by index; an entry that
     * moved past is still ready at the next poll. */
    for (i = 0; n > 0 && i < lc->npfds; i++) {
        struct pollfd p = lc->pfds[i];
        if (!p.revents)
            continue;
        lc->pfds[i].revents = 0;
        n--;
        if ((r = kite_service_fd(lc->ctx, p.fd, p.revents)) < 0)
            return r;
    }
    return kite_service_pending(lc->ctx, 0);
}

void lk_extpoll_free(lk_ctx_t *lc)
{
    free(lc->pfds);
    lc->pfds = NULL;
    lc->npfds = lc->cappfds = 0;
}
