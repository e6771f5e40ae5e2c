/*
 * Lua websockets (LibHTTP "Websockets for Lua"): an upgrade request for a
 * Lua script (under lua-websocket-root, else the mount's directory) gets
 * a websocket served by the script's open(arg), ready(arg), data(arg)
 * and close(arg). A script has one environment per service thread,
 * shared by all its clients there, made by running the script once.
 * arg.client is the client (a userdata with a write method), open's arg
 * has request_info, data's has data and binary. A callback returning
 * false closes the connection. mg.write([client,] [opcode,] data) sends
 * to the client, or without one to every client of the script;
 * mg.set_timeout / mg.set_interval (a function or a string of Lua) and
 * mg.cancel_timer run code later in the script's environment.
 *
 * Each callback runs in a coroutine of its own, so an idle client costs
 * its connection and a few dozen bytes here, and no thread.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lua/private-lua.h"
#include "roles/ws/private-ws.h"

#define CLIENT_MT "kite.wsclient"

typedef struct kite__lua_ws_client client_t;
typedef struct kite__lua_ws_script script_t;

struct wtimer {
    struct wtimer *next;
    script_t *s;
    kite_timer_t tm;
    kite__lua_run_t run;
    int fn_ref;
    int id;
    uint64_t interval_ms; /* 0: once */
};

struct kite__lua_ws_script {
    script_t *next;
    kite__lua_pt_t *lp;
    char *path;
    int env_ref;
    int inited;
    client_t *clients;
    struct wtimer *timers;
    int next_id;
    struct timespec mtime; /* of the file when the environment was made */
    kite_mount_t lim;      /* the limits of the mount it was made for */
};

struct kite__lua_ws_client {
    client_t *next, *prev;
    script_t *s;
    kite_conn_t *c;
    int obj_ref; /* the client userdata, or LUA_NOREF */
    kite__lua_run_t run;
    struct msg *pending; /* messages that came while a callback waited */
    struct msg **ptail;
};

struct msg {
    struct msg *next;
    size_t len;
    int bin;
    char data[];
};

int kite__lua_ws_try(kite_conn_t *c, kite_http_req_t *t, const kite__mount_rt_t *m, int *answered)
{
    const kite_mount_t *mm = m->m;
    const char *root = mm->lua_ws_root ? mm->lua_ws_root : m->root, *pat = mm->lua_script_pattern;
    const char *rel = t->mount_path;
    char path[PATH_MAX];
    struct stat st;
    int n;

    *answered = 0;
    if ((!pat && !mm->lua_ws_root) || kite__http_hidden(m, rel, strlen(rel)))
        return 0;
    n = snprintf(path, sizeof(path), "%s%s%s", root, *rel == '/' ? "" : "/", rel);
    if (n < 0 || (size_t)n >= sizeof(path) || stat(path, &st) < 0 || !S_ISREG(st.st_mode))
        return 0;
    if (pat && *pat ? kite__pattern_match(pat, strlen(pat), path, (size_t)n) <= 0
                    : (n < 4 || strcmp(path + n - 4, ".lua")))
        return 0;
    *answered = 1;
    if (!(t->file_path = kite__http_txn_copy(t, path, (size_t)n)))
        return kite__http_error(c, t, 500, NULL);
    return kite__ws_upgrade_proto(c, t, &kite__lua_ws_proto);
}

/* A new environment for @s, and the file's mtime it goes with. */
static int script_env(kite__lua_pt_t *lp, script_t *s)
{
    kite__lua_run_t tmp = {0};
    struct stat st;

    if (kite__lua_run_init(&tmp, lp, LUA_NOREF) < 0)
        return KITE_ENOMEM;
    s->env_ref = tmp.env_ref;
    tmp.env_owned = 0;
    kite__lua_run_release(&tmp);
    s->inited = 0;
    if (stat(s->path, &st) == 0)
        s->mtime = st.st_mtim;
    return 0;
}

static script_t *script_get(kite__lua_pt_t *lp, const char *path, const kite_mount_t *m)
{
    struct stat st;
    script_t *s;

    for (s = lp->ws_head; s; s = s->next) {
        if (strcmp(s->path, path))
            continue;
        /* A changed script gets a new environment once nobody uses the old. */
        if (!s->clients && s->inited && stat(path, &st) == 0 &&
            (st.st_mtim.tv_sec != s->mtime.tv_sec || st.st_mtim.tv_nsec != s->mtime.tv_nsec)) {
            int old = s->env_ref;
            if (script_env(lp, s) < 0)
                return NULL;
            luaL_unref(lp->L, LUA_REGISTRYINDEX, old);
        }
        return s;
    }
    if (!(s = calloc(1, sizeof(*s))) || !(s->path = strdup(path)) || script_env(lp, s) < 0) {
        if (s)
            free(s->path);
        free(s);
        return NULL;
    }
    s->lp = lp;
    s->lim.lua_max_memory = m ? m->lua_max_memory : 0;
    s->lim.lua_budget = m ? m->lua_budget : 0;
    s->lim.lua_preload = m && m->lua_preload ? strdup(m->lua_preload) : NULL;
    s->next = lp->ws_head;
    lp->ws_head = s;
    return s;
}

/* A pt timer has no conn or vhost for kite_timer_cancel() to go by. */
static void wt_cancel(kite__lua_pt_t *lp, struct wtimer *w)
{
    if (w->tm.heap_idx)
        kite__timer_del(lp->pt, &w->tm);
}

static void timers_cancel(kite__lua_pt_t *lp, script_t *s)
{
    struct wtimer **pp = &s->timers, *w;

    while ((w = *pp)) {
        if (w->run.co && lp->L) {
            /* Running now (its code closed the last client): it ends,
             * and is freed, when its callback returns. */
            w->interval_ms = 0;
            pp = &w->next;
            continue;
        }
        *pp = w->next;
        wt_cancel(lp, w);
        kite__lua_run_release(&w->run);
        luaL_unref(lp->L, LUA_REGISTRYINDEX, w->fn_ref);
        free(w);
    }
}

void kite__lua_ws_pt_free(kite__lua_pt_t *lp)
{
    script_t *s;

    while ((s = lp->ws_head)) {
        lp->ws_head = s->next;
        timers_cancel(lp, s);
        free((char *)s->lim.lua_preload);
        free(s->path);
        free(s);
    }
}

static client_t *client_arg(lua_State *L, int i)
{
    client_t **p = luaL_testudata(L, i, CLIENT_MT);

    return p ? *p : NULL;
}

/* A whole message to @cl now, past its output cap (a broadcast, a timer,
 * a client other than the callback's own: nothing can wait for room).
 * A client already over its cap, or in the middle of a fragmented
 * message of ours, misses it: KITE_EAGAIN. */
static int send_now(client_t *cl, int op, const char *p, size_t n)
{
    kite_conn_t *c = cl->c;
    kite__ws_t *ws = c->role == &kite__role_ws ? c->rd : NULL;

    if (!ws || ws->close_sent || (c->flags & (KITE__C_CLOSING | KITE__C_CLOSED)))
        return KITE_ECLOSED;
    if (ws->tx_open || c->out_bytes > c->pt->ctx->info.max_output)
        return KITE_EAGAIN;
    return kite__ws_send_frame(c, op == 2 ? WS_OP_BINARY : WS_OP_TEXT, 1, p, n);
}

/* mg.write([client,] [opcode,] data). To the callback's own client the
 * message goes in 64 KiB fragments within the output cap, the coroutine
 * waiting for room between them (@ctx: 1 + bytes sent so far). */
static int write_k(lua_State *L, int status, lua_KContext ctx)
{
    kite__lua_run_t *r = kite__lua_cur(L);
    script_t *s =
        r->wsc ? r->wsc->s : ((struct wtimer *)((char *)r - offsetof(struct wtimer, run)))->s;
    int i = 1, top = lua_gettop(L), op = 1, rc;
    client_t *to = NULL, *cl;
    const char *p;
    size_t n, off = ctx ? (size_t)ctx - 1 : 0;

    (void)status;
    if (top >= 1 && lua_type(L, 1) == LUA_TUSERDATA) {
        if (!(to = client_arg(L, 1))) {
            lua_pushboolean(L, 0); /* a client that has gone */
            return 1;
        }
        i++;
    }
    if (top - i >= 1) {
        const char *o = lua_tostring(L, i);
        op = lua_type(L, i) == LUA_TNUMBER ? (int)lua_tointeger(L, i)
             : o && !strcmp(o, "binary")   ? 2
                                           : 1;
        i++;
    }
    p = luaL_checklstring(L, i, &n);
    if (to && to == r->wsc && r->c && L == r->co && lua_isyieldable(L)) {
        do {
            size_t piece = n - off > 65536 ? 65536 : n - off;
            unsigned fl = off       ? KITE_WRITE_CONTINUATION
                          : op == 2 ? KITE_WRITE_BINARY
                                    : KITE_WRITE_TEXT;
            if (off + piece < n)
                fl |= KITE_WRITE_NO_FIN;
            rc = kite_write(to->c, p + off, piece, fl);
            if (rc == KITE_EAGAIN) {
                kite_callback_on_writable(to->c);
                return kite__lua_wait(L, r, LR_W_WRITE, (lua_KContext)off + 1, write_k);
            }
            if (rc < 0) {
                lua_pushboolean(L, 0);
                return 1;
            }
            off += piece;
        } while (off < n);
        lua_pushboolean(L, 1);
        return 1;
    }
    if (to) {
        lua_pushboolean(L, send_now(to, op, p, n) == 0);
        return 1;
    }
    for (cl = s->clients; cl; cl = cl->next)
        if (send_now(cl, op, p, n) == KITE_EAGAIN)
            kite_debug("lua websocket %s: a slow client misses a message", s->path);
    lua_pushboolean(L, 1);
    return 1;
}

int kite__lua_ws_write(lua_State *L)
{
    return write_k(L, LUA_OK, 0);
}

static int client_write(lua_State *L)
{
    luaL_checkudata(L, 1, CLIENT_MT);
    return write_k(L, LUA_OK, 0);
}

static int client_tostring(lua_State *L)
{
    client_t *cl = client_arg(L, 1);

    lua_pushfstring(L, "websocket client %p", (void *)cl);
    return 1;
}

static int call_k(lua_State *L, int status, lua_KContext ctx)
{
    (void)status;
    (void)ctx;
    if (lua_gettop(L) < 4)
        lua_pushboolean(L, 1);
    return 1;
}

/* env at 1, callback name at 2, arg at 3: env[name](arg), or true. */
static int call_main(lua_State *L)
{
    lua_settop(L, 3);
    if (lua_getfield(L, 1, lua_tostring(L, 2)) != LUA_TFUNCTION) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushvalue(L, 3);
    lua_callk(L, 1, 1, 0, call_k);
    return 1;
}

/* The first callbacks of a client: env at 1. Run the script if its
 * environment is new, make the client object, then open and ready. */
static int open_k(lua_State *L, int status, lua_KContext ctx)
{
    kite__lua_run_t *r = kite__lua_cur(L);
    client_t *cl = r->wsc;

    (void)status;
    switch (ctx) {
    case 0:
        if (!cl->s->inited) {
            if (cl->s->lim.lua_preload) {
                kite__lua_load(r->lp, L, cl->s->lim.lua_preload, 0);
                lua_pushvalue(L, 1);
                lua_callk(L, 1, 0, 1, open_k);
            }
            return open_k(L, LUA_OK, 1);
        }
        return open_k(L, LUA_OK, 2);
    case 1:
        kite__lua_load(r->lp, L, cl->s->path, 0);
        lua_pushvalue(L, 1);
        lua_callk(L, 1, 0, 2, open_k);
        return open_k(L, LUA_OK, 2);
    case 2:
        cl->s->inited = 1;
        lua_settop(L, 1);
        lua_createtable(L, 0, 2); /* 2: the arg */
        *(client_t **)lua_newuserdatauv(L, sizeof(client_t *), 0) = cl;
        luaL_setmetatable(L, CLIENT_MT);
        lua_pushvalue(L, -1);
        cl->obj_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        lua_setfield(L, 2, "client");
        kite__lua_push_request_info(L, r->c, r->t, cl->s->path);
        lua_setfield(L, 2, "request_info");
        if (lua_getfield(L, 1, "open") != LUA_TFUNCTION) {
            lua_pop(L, 1);
            lua_pushboolean(L, 1);
            return open_k(L, LUA_OK, 3);
        }
        lua_pushvalue(L, 2);
        lua_callk(L, 1, 1, 3, open_k);
        return open_k(L, LUA_OK, 3);
    case 3:
        r->t = NULL; /* the request was valid for open only */
        if (lua_isboolean(L, -1) && !lua_toboolean(L, -1))
            return 1;
        lua_settop(L, 1);
        lua_createtable(L, 0, 1);
        lua_rawgeti(L, LUA_REGISTRYINDEX, cl->obj_ref);
        lua_setfield(L, 2, "client");
        if (lua_getfield(L, 1, "ready") != LUA_TFUNCTION) {
            lua_pushboolean(L, 1);
            return 1;
        }
        lua_pushvalue(L, 2);
        lua_callk(L, 1, 1, 4, open_k);
        return 1;
    default:
        return 1;
    }
}

static int open_main(lua_State *L)
{
    return open_k(L, LUA_OK, 0);
}

static void deliver(client_t *cl, const char *p, size_t n, int bin);

/* A run is over (status @st from lua_resume, with its results on top). */
static int run_result(kite__lua_run_t *r, int st, const char *what)
{
    int keep = 1;

    if (r->budget_out) {
        kite__lua_log_error(r->co, what, "instruction budget exceeded (lua-instruction-budget)");
        keep = -1;
    } else if (st == LUA_YIELD) {
        if (r->wait != LR_W_NONE)
            return 2;
        kite__lua_log_error(r->co, what, "a callback yielded to kite");
        keep = -1;
    } else if (st != LUA_OK) {
        kite__lua_log_error(r->co, what, lua_tostring(r->co, -1));
        keep = -1;
    } else if (lua_gettop(r->co) && lua_isboolean(r->co, -1) && !lua_toboolean(r->co, -1)) {
        keep = 0;
    }
    kite__lua_run_release(r);
    return keep;
}

void kite__lua_ws_resumed(kite__lua_run_t *r, int st)
{
    client_t *cl = r->wsc;
    int keep = run_result(r, st, cl->s->path);

    if (keep == 2)
        return;
    if (keep < 0) {
        kite_close(cl->c, KITE_WS_CLOSE_UNEXPECTED, "script error");
        return;
    }
    if (!keep) {
        kite_close(cl->c, KITE_WS_CLOSE_NORMAL, NULL);
        return;
    }
    if (cl->pending) {
        struct msg *m = cl->pending;
        if (!(cl->pending = m->next))
            kite_rx_flow_control(cl->c, 1);
        deliver(cl, m->data, m->len, m->bin);
        free(m);
    }
}

static int start(client_t *cl, lua_CFunction fn, const char *name, const char *data, size_t n,
                 int bin)
{
    kite__lua_pt_t *lp = kite__lua_pt_get(cl->c->pt);
    kite__lua_run_t *r = &cl->run;
    int nres, nargs = 1;

    if (!lp || kite__lua_run_init(r, lp, cl->s->env_ref) < 0)
        return -1;
    r->c = cl->c;
    r->m = &cl->s->lim;
    r->kind = LR_WS;
    r->wsc = cl;
    if (name)
        r->t = NULL; /* the upgrade request was open's only */
    lua_pushcfunction(r->co, fn);
    lua_rawgeti(r->co, LUA_REGISTRYINDEX, cl->s->env_ref);
    if (name) {
        /* Built by the coroutine's first instructions would be nicer;
         * these few pushes stay within the state's slack. */
        lua_pushstring(r->co, name);
        lua_createtable(r->co, 0, 3);
        lua_rawgeti(r->co, LUA_REGISTRYINDEX, cl->obj_ref);
        lua_setfield(r->co, -2, "client");
        if (data) {
            lua_pushlstring(r->co, data, n);
            lua_setfield(r->co, -2, "data");
            lua_pushboolean(r->co, bin);
            lua_setfield(r->co, -2, "binary");
        }
        nargs = 3;
    }
    kite__lua_ws_resumed(r, kite__lua_resume(r, r->m, nargs, &nres));
    return 0;
}

static void deliver(client_t *cl, const char *p, size_t n, int bin)
{
    if (start(cl, call_main, "data", p, n, bin) < 0)
        kite_close(cl->c, KITE_WS_CLOSE_UNEXPECTED, "out of memory");
}

static int on_established(kite_conn_t *c, void *user)
{
    client_t *cl = user;
    const kite_http_req_t *t = kite_http_request(c);
    kite__lua_pt_t *lp = kite__lua_pt_get(c->pt);

    cl->c = c;
    cl->obj_ref = LUA_NOREF;
    if (!lp || !t || !(cl->s = script_get(lp, t->file_path, t->mrt ? t->mrt->m : NULL)))
        return -1;
    cl->next = cl->s->clients;
    if (cl->next)
        cl->next->prev = cl;
    cl->s->clients = cl;
    cl->run.t = (kite_http_req_t *)t;
    if (start(cl, open_main, NULL, NULL, 0, 0) < 0)
        return -1;
    return 0;
}

static int on_receive(kite_conn_t *c, void *user, const void *in, size_t len, unsigned flags)
{
    client_t *cl = user;

    if (cl->run.co || cl->pending) {
        /* The last callback still waits: keep this message, read no more. */
        struct msg *m = malloc(sizeof(*m) + len);
        if (!m)
            return -1;
        memcpy(m->data, in, len);
        m->len = len;
        m->bin = !!(flags & KITE_RX_BINARY);
        m->next = NULL;
        if (!cl->pending)
            cl->ptail = &cl->pending;
        *cl->ptail = m;
        cl->ptail = &m->next;
        kite_rx_flow_control(c, 0);
        return 0;
    }
    deliver(cl, in, len, !!(flags & KITE_RX_BINARY));
    return 0;
}

static int on_writeable(kite_conn_t *c, void *user)
{
    client_t *cl = user;

    (void)c;
    if (cl->run.co && cl->run.wait == LR_W_WRITE)
        kite__lua_wake(&cl->run);
    return 0;
}

static void on_closed(kite_conn_t *c, void *user, int code)
{
    client_t *cl = user;
    kite__lua_pt_t *lp = c->pt->lua;
    script_t *s = cl->s;

    (void)code;
    while (cl->pending) {
        struct msg *m = cl->pending;
        cl->pending = m->next;
        free(m);
    }
    if (!s || !lp)
        return;
    kite__lua_run_release(&cl->run);
    if (cl->obj_ref != LUA_NOREF) {
        int nres;
        kite__lua_run_t *r = &cl->run;
        if (kite__lua_run_init(r, lp, s->env_ref) == 0) {
            r->c = NULL;
            r->t = NULL;
            r->m = &s->lim;
            r->kind = LR_WS;
            r->wsc = cl;
            lua_pushcfunction(r->co, call_main);
            lua_rawgeti(r->co, LUA_REGISTRYINDEX, s->env_ref);
            lua_pushliteral(r->co, "close");
            lua_createtable(r->co, 0, 1);
            lua_rawgeti(r->co, LUA_REGISTRYINDEX, cl->obj_ref);
            lua_setfield(r->co, -2, "client");
            run_result(r, kite__lua_resume(r, r->m, 3, &nres), s->path);
            kite__lua_run_release(r);
        }
        lua_rawgeti(lp->L, LUA_REGISTRYINDEX, cl->obj_ref);
        *(client_t **)lua_touserdata(lp->L, -1) = NULL;
        lua_pop(lp->L, 1);
        luaL_unref(lp->L, LUA_REGISTRYINDEX, cl->obj_ref);
        cl->obj_ref = LUA_NOREF;
    }
    if (cl->prev)
        cl->prev->next = cl->next;
    else
        s->clients = cl->next;
    if (cl->next)
        cl->next->prev = cl->prev;
    cl->s = NULL;
    /* Nobody left to hear them. */
    if (!s->clients)
        timers_cancel(lp, s);
}

static void timer_fire(kite_vhost_t *vh, kite_timer_t *tm)
{
    struct wtimer *w = (struct wtimer *)((char *)tm - offsetof(struct wtimer, tm));
    script_t *s = w->s;
    kite__lua_pt_t *lp = s->lp;
    kite__lua_run_t *r = &w->run;
    int nres, keep = 0;

    (void)vh;
    if (kite__lua_run_init(r, lp, s->env_ref) == 0) {
        r->c = NULL;
        r->t = NULL;
        r->m = &s->lim;
        r->kind = LR_WS;
        r->wsc = NULL;
        lua_rawgeti(r->co, LUA_REGISTRYINDEX, w->fn_ref);
        keep = run_result(r, kite__lua_resume(r, r->m, 0, &nres), s->path);
        if (keep == 2) {
            kite__lua_log_error(r->co, s->path, "a timer cannot wait");
            keep = 0;
        }
        kite__lua_run_release(r);
    }
    if (keep == 1 && w->interval_ms) {
        kite__pt_timer_schedule(lp->pt, &w->tm, w->interval_ms, timer_fire);
        return;
    }
    {
        struct wtimer **pp;
        for (pp = &s->timers; *pp && *pp != w; pp = &(*pp)->next)
            ;
        if (*pp)
            *pp = w->next;
    }
    luaL_unref(lp->L, LUA_REGISTRYINDEX, w->fn_ref);
    free(w);
}

static int set_timer(lua_State *L, int interval)
{
    kite__lua_run_t *r = kite__lua_cur(L);
    lua_Number ms = luaL_checknumber(L, 2);
    script_t *s;
    struct wtimer *w;

    if (r->kind != LR_WS)
        return luaL_error(L, "timers are for websocket scripts");
    s = r->wsc ? r->wsc->s : ((struct wtimer *)((char *)r - offsetof(struct wtimer, run)))->s;
    if (lua_type(L, 1) == LUA_TSTRING) {
        size_t n;
        const char *code = lua_tolstring(L, 1, &n);
        if (luaL_loadbuffer(L, code, n, "=timer") != LUA_OK)
            return lua_error(L);
        lua_rawgeti(L, LUA_REGISTRYINDEX, s->env_ref);
        lua_setupvalue(L, -2, 1);
    } else {
        luaL_checktype(L, 1, LUA_TFUNCTION);
        lua_pushvalue(L, 1);
    }
    if (!(w = calloc(1, sizeof(*w))))
        return luaL_error(L, "out of memory");
    w->fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    w->s = s;
    w->id = ++s->next_id;
    w->interval_ms = interval ? (uint64_t)(ms < 1 ? 1 : ms) : 0;
    w->next = s->timers;
    s->timers = w;
    kite__pt_timer_schedule(r->lp->pt, &w->tm, (uint64_t)(ms < 0 ? 0 : ms), timer_fire);
    lua_pushinteger(L, w->id);
    return 1;
}

static int set_timeout(lua_State *L)
{
    return set_timer(L, 0);
}

static int set_interval(lua_State *L)
{
    return set_timer(L, 1);
}

static int cancel_timer(lua_State *L)
{
    kite__lua_run_t *r = kite__lua_cur(L);
    lua_Integer id = luaL_checkinteger(L, 1);
    script_t *s;
    struct wtimer **pp, *w;

    if (r->kind != LR_WS)
        return luaL_error(L, "timers are for websocket scripts");
    s = r->wsc ? r->wsc->s : ((struct wtimer *)((char *)r - offsetof(struct wtimer, run)))->s;
    for (pp = &s->timers; (w = *pp); pp = &w->next) {
        if (w->id != id)
            continue;
        if (&w->run == r) {
            /* From its own callback: it ends when the callback does. */
            w->interval_ms = 0;
        } else {
            *pp = w->next;
            wt_cancel(r->lp, w);
            luaL_unref(L, LUA_REGISTRYINDEX, w->fn_ref);
            free(w);
        }
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushboolean(L, 0);
    return 1;
}

void kite__lua_ws_open_lib(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"set_timeout", set_timeout},
        {"set_interval", set_interval},
        {"cancel_timer", cancel_timer},
        {NULL, NULL},
    };

    luaL_setfuncs(L, fns, 0);
    luaL_newmetatable(L, CLIENT_MT);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, client_write);
    lua_setfield(L, -2, "write");
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, client_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
}

const kite_protocol_t kite__lua_ws_proto = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "lua-websocket",
    .per_session_size = sizeof(client_t),
    .rx_buffer_size = 1 << 20,
    .on_established = on_established,
    .on_receive = on_receive,
    .on_writeable = on_writeable,
    .on_closed = on_closed,
    .flags = KITE_PROTO_WHOLE_MESSAGES,
};
