/*
 * The Lua state of a service thread: made with the thread's first Lua
 * request, with its allocator (alloc.c), the standard libraries, the mg
 * tables, print going to mg.write, connect(), a `shared` table kept on
 * purpose for the life of the thread, and its Lua files with their
 * compiled chunks (files.c).
 * Coroutines: their environments, the resume under the instruction
 * budget (a count hook that yields the request's coroutine, which no
 * pcall can catch), and tracebacks for the log.
 */
#include <stdlib.h>
#include <string.h>

#include "lua/private-lua.h"

static kite__lua_pt_t *lp_of(lua_State *L)
{
    return *(kite__lua_pt_t **)lua_getextraspace(L);
}

static void hook(lua_State *L, lua_Debug *ar)
{
    kite__lua_pt_t *lp = lp_of(L);
    kite__lua_run_t *r = lp->cur;

    (void)ar;
    if (++lp->steps < lp->budget_steps)
        return;
    if (r && L == r->co && lua_isyieldable(L)) {
        r->budget_out = 1;
        lua_yield(L, 0);
        return;
    }
    /* A coroutine of the script's own, or a call C cannot yield across:
     * an error there, and the request's coroutine yields at its next step. */
    luaL_error(L, "instruction budget exceeded");
}

kite__lua_run_t *kite__lua_cur(lua_State *L)
{
    kite__lua_run_t *r = lp_of(L)->cur;

    if (!r || r->dead)
        luaL_error(L, "no request is being served here");
    return r;
}

static int l_print(lua_State *L)
{
    int i, n = lua_gettop(L);

    lua_getglobal(L, "mg");
    lua_getfield(L, -1, "write");
    for (i = 1; i <= n; i++) {
        if (i > 1)
            lua_pushliteral(L, "\t");
        luaL_tolstring(L, i, NULL);
    }
    lua_pushliteral(L, "\n");
    lua_callk(L, 2 * n, 0, 0, NULL);
    return 0;
}

static int setup(lua_State *L)
{
    kite__lua_pt_t *lp = lp_of(L);

    luaL_openlibs(L);
    kite__lua_sandbox(L);
    kite__lua_require_open(L);
    /* A request's garbage is young and the state's own objects are old:
     * minor collections free the one without walking the other. */
    lua_gc(L, LUA_GCGEN, 100, 0);
    /* mg is three tables. The functions (F), over what only the running
     * request knows (kite__lua_mg_index); _G.mg, an empty table over F
     * (found without a call into C) whose writes go to the request's own
     * mg (kite__lua_mg_newindex), made on the first write and then the
     * environment's mg, over F too. A request that writes nothing to mg,
     * most of them, costs no table of its own. */
    lua_newtable(L);
    kite__lua_mg_pure(L);
    kite__lua_mg_request(L);
    kite__lua_mg_send(L);
    kite__lua_mg_info(L);
    kite__lua_ws_open_lib(L);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, kite__lua_mg_index);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_createtable(L, 0, 2); /* the metatable of a request's own mg */
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, kite__lua_mg_pairs);
    lua_setfield(L, -2, "__pairs");
    lp->mg_meta = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_newtable(L); /* _G.mg */
    lua_createtable(L, 0, 3);
    lua_pushvalue(L, -3);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, kite__lua_mg_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, kite__lua_mg_pairs);
    lua_setfield(L, -2, "__pairs");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setglobal(L, "mg");
    lp->mg_base = luaL_ref(L, LUA_REGISTRYINDEX);
    lp->mg_funcs = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushcfunction(L, l_print);
    lua_setglobal(L, "print");
    lua_pushcfunction(L, kite__lua_connect);
    lua_setglobal(L, "connect");
    lua_newtable(L);
    lua_setglobal(L, "shared");
    kite__lua_sock_open_lib(L);
    kite__lua_httpd_open_lib(L);
    lua_createtable(L, 0, 1);
    lua_pushglobaltable(L);
    lua_setfield(L, -2, "__index");
    lp->env_meta = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_createtable(L, 64, 0);
    lp->anchors = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_newtable(L);
    lp->wsscripts = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_newtable(L);
    lp->handlers = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

kite__lua_pt_t *kite__lua_pt_get(kite__pt_t *pt)
{
    kite__lua_pt_t *lp = pt->lua;

    if (lp)
        return lp;
    if (!(lp = calloc(1, sizeof(*lp))))
        return NULL;
    lp->pt = pt;
    lp->loading = LUA_NOREF;
    kite__lua_files_init(lp);
    if (!(lp->L = lua_newstate(kite__lua_alloc, lp))) {
        kite__lua_alloc_free(lp);
        free(lp);
        return NULL;
    }
    *(kite__lua_pt_t **)lua_getextraspace(lp->L) = lp;
    lua_pushcfunction(lp->L, setup);
    if (lua_pcall(lp->L, 0, 0, 0) != LUA_OK) {
        kite_err("lua: cannot make the thread's state: %s", lua_tostring(lp->L, -1));
        lua_close(lp->L);
        kite__lua_alloc_free(lp);
        free(lp);
        return NULL;
    }
    pt->lua = lp;
    return lp;
}

void kite__lua_pt_free(kite__pt_t *pt)
{
    kite__lua_pt_t *lp = pt->lua;

    if (!lp)
        return;
    lp->cur = NULL;
    kite__lua_ws_pt_free(lp);
    lua_close(lp->L);
    kite__lua_files_free(lp); /* after: a finaliser may still load a file */
    kite__lua_alloc_free(lp);
    free(lp->hold_spare);
    free(lp->afree);
    pt->lua = NULL;
    free(lp);
}

/* Let go of a coroutine: one that finished cleanly goes back to the pool
 * (making one is most of a small page's cost), any other to the GC. */
static void co_drop(kite__lua_pt_t *lp, lua_State *co, int ref)
{
    lua_Debug ar;

    if (lp->npool < KITE__LUA_POOL && lua_status(co) == LUA_OK && !lua_getstack(co, 0, &ar)) {
        lua_settop(co, 0);
        lp->pool_co[lp->npool] = co;
        lp->pool_ref[lp->npool++] = ref;
        return;
    }
    luaL_unref(lp->L, LUA_REGISTRYINDEX, ref);
}

/* A new environment on top of @L: raises when out of memory. */
static void make_env(lua_State *L, kite__lua_pt_t *lp)
{
    /* Room for _G, mg and a few globals of the page: no rehash for them. */
    lua_createtable(L, 0, 4);
    lua_pushliteral(L, "_G");
    lua_pushvalue(L, -2);
    lua_rawset(L, -3);
    /* _G.mg in the environment itself: one lookup less for every mg.x. */
    lua_pushliteral(L, "mg");
    lua_rawgeti(L, LUA_REGISTRYINDEX, lp->mg_base);
    lua_rawset(L, -3);
    lua_rawgeti(L, LUA_REGISTRYINDEX, lp->env_meta);
    lua_setmetatable(L, -2);
}

static int run_init(lua_State *L)
{
    kite__lua_run_t *r = lua_touserdata(L, 1);

    if (!r->co) {
        r->co = lua_newthread(L);
        r->co_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    if (r->env_ref != LUA_NOREF || lua_toboolean(L, 2))
        return 0;
    make_env(L, r->lp);
    r->env_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    r->env_owned = 1;
    return 0;
}

int kite__lua_run_init(kite__lua_run_t *r, kite__lua_pt_t *lp, int env_ref)
{
    lua_State *L = lp->L;
    /* Again with its own environment: mg.onerror after an error. */
    int keep = r->co && env_ref != LUA_NOREF && env_ref == r->env_ref;
    int later = env_ref == KITE__LUA_ENV_LATER;

    if (r->co)
        co_drop(lp, r->co, r->co_ref);
    r->lp = lp;
    r->co = NULL;
    r->co_ref = LUA_NOREF;
    r->dead = 0;
    if (!keep) {
        r->env_ref = later ? LUA_NOREF : env_ref;
        r->env_owned = r->env_anchor = 0;
    }
    if (lp->npool) {
        r->co = lp->pool_co[--lp->npool];
        r->co_ref = lp->pool_ref[lp->npool];
        /* Nothing to allocate: no protected call needed. */
        if (later || r->env_ref != LUA_NOREF)
            return 0;
    }
    lua_pushcfunction(L, run_init);
    lua_pushlightuserdata(L, r);
    lua_pushboolean(L, later);
    if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
        kite_err("lua: cannot start a coroutine: %s", lua_tostring(L, -1));
        lua_pop(L, 1);
        kite__lua_run_release(r);
        return KITE_ENOMEM;
    }
    return 0;
}

int kite__lua_anchor(lua_State *L, kite__lua_pt_t *lp)
{
    int slot = lp->nafree ? lp->afree[--lp->nafree] : ++lp->anext;

    lua_rawgeti(L, LUA_REGISTRYINDEX, lp->anchors);
    lua_insert(L, -2);
    lua_rawseti(L, -2, slot);
    lua_pop(L, 1);
    return slot;
}

void kite__lua_unanchor(kite__lua_pt_t *lp, int slot)
{
    lua_State *L = lp->L;

    lua_rawgeti(L, LUA_REGISTRYINDEX, lp->anchors);
    lua_pushnil(L);
    lua_rawseti(L, -2, slot);
    lua_pop(L, 1);
    if (lp->nafree == lp->cafree) {
        int cap = lp->cafree ? 2 * lp->cafree : 64, *p = realloc(lp->afree, sizeof(*p) * cap);
        if (!p)
            return; /* the slot is not used again: a hole in the table */
        lp->afree = p;
        lp->cafree = cap;
    }
    lp->afree[lp->nafree++] = slot;
}

void kite__lua_push_env(lua_State *L, const kite__lua_run_t *r)
{
    if (r->env_anchor) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, r->lp->anchors);
        lua_rawgeti(L, -1, r->env_ref);
        lua_remove(L, -2);
    } else {
        lua_rawgeti(L, LUA_REGISTRYINDEX, r->env_ref);
    }
}

int kite__lua_enter(lua_State *L)
{
    kite__lua_run_t *r = kite__lua_cur(L);
    lua_CFunction fn = lua_tocfunction(L, 1);

    lua_settop(L, 0);
    make_env(L, r->lp);
    lua_pushvalue(L, 1);
    r->env_ref = kite__lua_anchor(L, r->lp);
    r->env_anchor = 1;
    r->env_owned = 1;
    /* Called, not returned to Lua: the continuations of @fn belong to
     * this frame, whose results are its results. */
    return fn(L);
}

void kite__lua_run_release(kite__lua_run_t *r)
{
    lua_State *L;

    if (!r->lp)
        return;
    L = r->lp->L;
    if (r->lp->cur == r)
        r->lp->cur = NULL;
    kite__lua_sock_forget(r);
    if (r->co)
        co_drop(r->lp, r->co, r->co_ref);
    if (r->env_owned && r->env_anchor)
        kite__lua_unanchor(r->lp, r->env_ref);
    else if (r->env_owned)
        luaL_unref(L, LUA_REGISTRYINDEX, r->env_ref);
    r->co_ref = r->env_ref = LUA_NOREF;
    r->env_owned = r->env_anchor = 0;
    r->co = NULL;
    r->dead = 1;
}

int kite__lua_resume(kite__lua_run_t *r, const kite_mount_t *m, int nargs, int *nres)
{
    kite__lua_pt_t *lp = r->lp;
    uint64_t budget = m && m->lua_budget ? m->lua_budget : KITE__LUA_BUDGET;
    kite__lua_run_t *prev = lp->cur;
    int st;

    lp->max_mem = m && m->lua_max_memory ? m->lua_max_memory : KITE__LUA_MAX_MEMORY;
    lp->budget_steps = budget / KITE__LUA_HOOK_STEP ? budget / KITE__LUA_HOOK_STEP : 1;
    lp->steps = 0;
    r->budget_out = 0;
    /* A pooled coroutine may carry the hook of its last run: set or clear. */
    if (m && m->lua_budget == KITE_LUA_NO_BUDGET)
        lua_sethook(r->co, NULL, 0, 0);
    else
        lua_sethook(r->co, hook, LUA_MASKCOUNT, KITE__LUA_HOOK_STEP);
    lp->cur = r;
    st = lua_resume(r->co, lp->L, nargs, nres);
    lp->cur = prev;
    return st;
}

void kite__lua_log_error(lua_State *co, const char *what, const char *msg)
{
    lua_Debug ar;
    int lvl;

    kite_err("lua %s: %s", what, msg ? msg : "(error object is not a string)");
    /* The coroutine's stack is kept after an error: walk it (nothing to
     * allocate, so this works when the state is out of memory too). */
    for (lvl = 0; lvl < 16 && lua_getstack(co, lvl, &ar); lvl++) {
        if (!lua_getinfo(co, "Sln", &ar))
            break;
        if (ar.currentline > 0 && ar.name)
            kite_err("lua %s:   %s:%d: in %s '%s'", what, ar.short_src, ar.currentline,
                     *ar.namewhat ? ar.namewhat : "function", ar.name);
        else if (ar.currentline > 0)
            kite_err("lua %s:   %s:%d: in %s", what, ar.short_src, ar.currentline,
                     *ar.what == 'm' ? "the main chunk" : "a function");
        else
            kite_err("lua %s:   [%s]: in %s", what, ar.what, ar.name ? ar.name : "?");
    }
}

const char *kite__lua_caller_file(lua_State *L)
{
    lua_Debug ar;
    int lvl;

    /* Past C functions between (pcall): the Lua code that called. */
    for (lvl = 1; lvl < 16 && lua_getstack(L, lvl, &ar); lvl++)
        if (lua_getinfo(L, "S", &ar) && ar.source[0] == '@')
            return ar.source + 1;
    return NULL;
}

int kite__lua_is_page(const kite_mount_t *m, const char *path)
{
    size_t n = strlen(path);
    const char *p = m ? m->lua_page_pattern : NULL;

    if (p && *p)
        return kite__pattern_match(p, strlen(p), path, n) > 0;
    return (n > 3 && !strcmp(path + n - 3, ".lp")) || (n > 4 && !strcmp(path + n - 4, ".lsp"));
}
