/*
 * The mg functions bound to the request being served (write, read,
 * include, redirect, keep_alive, sleep, send_file, onerror), request_info
 * and the other per-request mg fields made on first use, and the bodies
 * of a page's coroutine (preload file, then the page) and of mg.onerror's.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "lua/private-lua.h"

static int mg_write(lua_State *L)
{
    kite__lua_run_t *r = kite__lua_cur(L);

    if (r->kind == LR_WS)
        return kite__lua_ws_write(L);
    return kite__lua_write_k(L, LUA_OK, 1);
}

int kite__lua_read_k(lua_State *L, int status, lua_KContext ctx)
{
    kite__lua_run_t *r = kite__lua_cur(L);
    lua_Integer want = luaL_optinteger(L, 2, 0);
    size_t n;

    (void)status;
    if (r->rlen) {
        n = want > 0 && (size_t)want < r->rlen ? (size_t)want : r->rlen;
        lua_pushlstring(L, r->rbuf, n);
        memmove(r->rbuf, r->rbuf + n, r->rlen - n);
        r->rlen -= n;
        if (r->rx_paused && r->rlen < KITE__LUA_RX_HIGH) {
            r->rx_paused = 0;
            kite_rx_flow_control(r->c, 1);
        }
        return 1;
    }
    if (!r->t || r->done_body || !(r->t->tflags & KITE__T_BODY) ||
        (r->t->tflags & KITE__T_BODY_DONE)) {
        lua_pushnil(L);
        return 1;
    }
    return kite__lua_wait(L, r, LR_W_READ, ctx, kite__lua_read_k);
}

static int mg_read(lua_State *L)
{
    return kite__lua_read_k(L, LUA_OK, 0);
}

static int include_k(lua_State *L, int status, lua_KContext ctx)
{
    (void)L;
    (void)status;
    (void)ctx;
    return 0;
}

/* The file @p names for mg.include with @type into path[PATH_MAX], as
 * civetweb reads its path types: "virtual" from the docroot (and not out
 * of it), "abs" as given (a relative path from the server's directory),
 * "rel" or "file" from the including file (@cur); none, or kite's "lsp",
 * from the including file, else as given. */
static void include_path(lua_State *L, kite__lua_run_t *r, const char *p, const char *type,
                         const char *cur, char *path)
{
    const kite__mount_rt_t *m = r->t ? r->t->mrt : NULL;
    const char *slash = cur ? strrchr(cur, '/') : NULL;
    char t = type && strcmp(type, "lsp") && strcmp(type, "lp") ? *type : 0;
    kite__lua_file_t *f;
    struct stat st;

    if (t == 'v') {
        if (!m || !m->root)
            luaL_error(L, "mg.include: no document root for a virtual path");
        snprintf(path, PATH_MAX, "%s/%s", m->root, p);
        if (!(f = kite__lua_file_get(r->lp, path)))
            luaL_error(L, "mg.include: cannot open %s", p);
        if (!kite__path_within(f->real, m->root, m->root_len))
            luaL_error(L, "mg.include: %s is outside the document root", p);
        return;
    }
    if (t && t != 'a' && t != 'r' && t != 'f')
        luaL_error(L, "mg.include: path type %s is none of abs, rel, file, virtual", type);
    if (t == 'a' || *p == '/' || !slash) {
        snprintf(path, PATH_MAX, "%s", p);
        return;
    }
    snprintf(path, PATH_MAX, "%.*s/%s", (int)(slash - cur), cur, p);
    if (!t && stat(path, &st) < 0 && stat(p, &st) == 0)
        snprintf(path, PATH_MAX, "%s", p);
}

static int mg_include(lua_State *L)
{
    kite__lua_run_t *r = kite__lua_cur(L);
    const char *p = luaL_checkstring(L, 1), *type = luaL_optstring(L, 2, NULL);
    const char *cur = r->t && r->t->file_path ? r->t->file_path : NULL;
    char path[PATH_MAX];
    int lsp;

    /* Relative to the file that includes (the caller's chunk). */
    if (kite__lua_caller_file(L))
        cur = kite__lua_caller_file(L);
    include_path(L, r, p, type, cur, path);
    /* A page by its name (the mount's page pattern): the path type says
     * where the file is, not what it is. */
    lsp = (type && (!strcmp(type, "lsp") || !strcmp(type, "lp"))) || kite__lua_is_page(r->m, path);
    kite__lua_load(r->lp, L, path, lsp);
    kite__lua_push_env(L, r);
    lua_callk(L, 1, 0, 0, include_k);
    return 0;
}

static int mg_redirect(lua_State *L)
{
    kite__lua_run_t *r = kite__lua_cur(L);
    const char *uri = luaL_checkstring(L, 1);

    if (!r->t || r->head == LR_HEAD_SENT || r->hlen || *uri != '/')
        return luaL_error(L, "mg.redirect needs a local path and no output yet");
    if (!(r->redirect = strdup(uri)))
        return luaL_error(L, "out of memory");
    return kite__lua_wait(L, r, LR_W_NONE, 0, include_k);
}

static int keep_alive(lua_State *L)
{
    kite__lua_run_t *r = kite__lua_cur(L);

    if (!r->t)
        return 0;
    if (lua_gettop(L) >= 1 && !lua_toboolean(L, 1))
        r->t->tflags &= (uint16_t)~KITE__T_KEEPALIVE;
    lua_pushboolean(L, !!(r->t->tflags & KITE__T_KEEPALIVE));
    return 1;
}

static void sleep_done(kite_conn_t *c, kite_timer_t *tm)
{
    kite__lua_run_t *r = (kite__lua_run_t *)((char *)tm - offsetof(kite__lua_run_t, tm));

    (void)c;
    if (r->wait == LR_W_SLEEP)
        kite__lua_wake(r);
}

static int mg_sleep(lua_State *L)
{
    kite__lua_run_t *r = kite__lua_cur(L);
    lua_Number ms = luaL_checknumber(L, 1);

    if (!r->c)
        return luaL_error(L, "mg.sleep: no connection to wait on here");
    if (ms < 0)
        ms = 0;
    if (kite_timer_schedule(r->c, &r->tm, (uint64_t)(ms * 1000), sleep_done) < 0)
        return luaL_error(L, "the connection is closing");
    return kite__lua_wait(L, r, LR_W_SLEEP, 0, include_k);
}

int kite__lua_mg_onerror(lua_State *L)
{
    kite_err("lua: %s", luaL_optstring(L, 1, "error"));
    return 0;
}

void kite__lua_mg_request(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"write", mg_write},
        {"print", mg_write},
        {"read", mg_read},
        {"include", mg_include},
        {"redirect", mg_redirect},
        {"keep_alive", keep_alive},
        {"sleep", mg_sleep},
        {"onerror", kite__lua_mg_onerror},
        {NULL, NULL},
    };

    luaL_setfuncs(L, fns, 0);
}

/* What follows the script in the URL ("/page.lp/a/b": "/a/b"), as CGI's
 * PATH_INFO: the script's path is the docroot then the part of the
 * mount path that named it. An index page found for a directory URL
 * has none. */
static void push_path_info(lua_State *L, const kite_http_req_t *t, const char *script)
{
    const kite__mount_rt_t *m = t->mrt;
    size_t sl = strlen(script), off;

    if (!m || !t->mount_path || sl < m->root_len || strncmp(script, m->root, m->root_len))
        return;
    off = sl - m->root_len;
    if (off >= strlen(t->mount_path) || t->mount_path[off] != '/' ||
        strncmp(t->mount_path, script + m->root_len, off))
        return;
    lua_pushstring(L, t->mount_path + off);
    lua_setfield(L, -2, "path_info");
}

void kite__lua_push_request_info(lua_State *L, kite_conn_t *c, kite_http_req_t *t,
                                 const char *script)
{
    char addr[64];
    int port = 0, i;

    lua_createtable(L, 0, 16);
    if (kite_conn_peer(c, addr, sizeof(addr), &port) == 0) {
        lua_pushstring(L, addr);
        lua_setfield(L, -2, "remote_addr");
        lua_pushinteger(L, port);
        lua_setfield(L, -2, "remote_port");
    }
    lua_pushinteger(L, kite_vhost_port(c->vh));
    lua_setfield(L, -2, "server_port");
    lua_pushstring(L, t->p.method);
    lua_setfield(L, -2, "request_method");
    lua_pushstring(L, t->p.version >= 11 ? "1.1" : "1.0");
    lua_setfield(L, -2, "http_version");
    lua_pushstring(L, t->path ? t->path : t->p.path);
    lua_setfield(L, -2, "uri");
    lua_pushstring(L, t->p.target);
    lua_setfield(L, -2, "request_uri");
    if (t->p.query) {
        lua_pushstring(L, t->p.query);
        lua_setfield(L, -2, "query_string");
    }
    if (script) {
        lua_pushstring(L, script);
        lua_setfield(L, -2, "script_name");
        push_path_info(L, t, script);
    }
    lua_pushboolean(L, c->xp != &kite__xport_tcp);
    lua_setfield(L, -2, "https");
    /* civetweb's: the path as sent, a link to the page, the body's type,
     * and the scheme of the credentials. */
    lua_pushlstring(L, t->p.path, t->p.path_len);
    lua_setfield(L, -2, "uri_raw");
    lua_pushfstring(L, "%s://%s", c->xp != &kite__xport_tcp ? "https" : "http",
                    kite_http_header(t, "Host") ? kite_http_header(t, "Host") : c->vh->name);
    lua_pushlstring(L, t->p.path, t->p.path_len);
    lua_concat(L, 2);
    lua_setfield(L, -2, "request_link");
    if (kite_http_header(t, "Content-Type")) {
        lua_pushstring(L, kite_http_header(t, "Content-Type"));
        lua_setfield(L, -2, "content_type");
    }
    if (t->auth_user) {
        const char *authz = kite_http_header(t, "Authorization");
        lua_pushstring(L, t->auth_user);
        lua_setfield(L, -2, "remote_user");
        lua_pushstring(L, authz && !strncasecmp(authz, "Digest ", 7) ? "Digest" : "Basic");
        lua_setfield(L, -2, "auth_type");
    }
    if (t->p.content_length >= 0) {
        lua_pushinteger(L, (lua_Integer)t->p.content_length);
        lua_setfield(L, -2, "content_length");
    }
    lua_createtable(L, 0, kite_http_header_count(t));
    for (i = 0; i < kite_http_header_count(t); i++) {
        const char *name, *value;
        kite_http_header_at(t, i, &name, &value);
        /* A repeated field is one value, joined as RFC 9110 5.3 allows. */
        if (lua_getfield(L, -1, name) == LUA_TSTRING) {
            lua_pushliteral(L, ", ");
            lua_pushstring(L, value);
            lua_concat(L, 3);
        } else {
            lua_pop(L, 1);
            lua_pushstring(L, value);
        }
        lua_setfield(L, -2, name);
    }
    lua_pushinteger(L, kite_http_header_count(t));
    lua_setfield(L, -3, "num_headers");
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "http_headers");
    lua_setfield(L, -2, "headers");
}

/* The coroutine's body: env at 1. Fill mg of the request, run the
 * preload file, then the page or script. */
static int main_k(lua_State *L, int status, lua_KContext ctx)
{
    kite__lua_run_t *r = kite__lua_cur(L);

    (void)status;
    if (ctx == 1) {
        kite__lua_load(r->lp, L, r->t->file_path, r->kind == LR_PAGE);
        lua_pushvalue(L, 1);
        lua_callk(L, 1, 0, 2, main_k);
    }
    return 0;
}

int kite__lua_page_main(lua_State *L)
{
    kite__lua_run_t *r = kite__lua_cur(L);
    const kite_mount_t *m = r->m;

    if (m && m->lua_preload) {
        kite__lua_load(r->lp, L, m->lua_preload, 0);
        lua_pushvalue(L, 1);
        lua_callk(L, 1, 0, 1, main_k);
    }
    return main_k(L, LUA_OK, 1);
}

/* The key of a request's own mg in its environment (and the environment's
 * mg too, unless the page has given that name to something of its own). */
static const char own_key;

/* Push the running request's own mg (made now when @make), or nil. */
static void own_mg(lua_State *L, kite__lua_pt_t *lp, kite__lua_run_t *r, int make)
{
    kite__lua_push_env(L, r);
    if (lua_type(L, -1) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_pushnil(L);
        return;
    }
    if (lua_rawgetp(L, -1, &own_key) == LUA_TTABLE || !make) {
        lua_remove(L, -2);
        return;
    }
    lua_pop(L, 1);
    lua_newtable(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, lp->mg_meta);
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, -3, &own_key);
    lua_pushliteral(L, "mg");
    lua_rawget(L, -3);
    lua_rawgeti(L, LUA_REGISTRYINDEX, lp->mg_base);
    if (lua_isnil(L, -2) || lua_rawequal(L, -1, -2)) {
        lua_pushliteral(L, "mg");
        lua_pushvalue(L, -4);
        lua_rawset(L, -6);
    }
    lua_pop(L, 2);
    lua_remove(L, -2);
}

int kite__lua_mg_index(lua_State *L)
{
    kite__lua_pt_t *lp = *(kite__lua_pt_t **)lua_getextraspace(L);
    kite__lua_run_t *r = lp->cur;
    const char *k = lua_tostring(L, 2);

    if (!r || r->dead)
        return 0;
    lua_settop(L, 2);
    own_mg(L, lp, r, 0);
    if (lua_istable(L, 3)) {
        lua_pushvalue(L, 2);
        if (lua_rawget(L, 3) != LUA_TNIL)
            return 1;
        lua_pop(L, 1);
    }
    if (!k)
        return 0;
    if (!strcmp(k, "lua_type")) {
        lua_pushstring(L, r->kind == LR_PAGE     ? "page"
                          : r->kind == LR_SCRIPT ? "script"
                          : r->kind == LR_HTTPD  ? "handler"
                                                 : "websocket");
        return 1;
    }
    if (!r->t || !r->c)
        return 0;
    if (!strcmp(k, "request_info"))
        kite__lua_push_request_info(L, r->c, r->t, r->t->file_path);
    else if (!strcmp(k, "document_root"))
        lua_pushstring(L, r->t->mrt && r->t->mrt->root ? r->t->mrt->root : "");
    else if (!strcmp(k, "auth_domain"))
        lua_pushstring(L, kite__http_auth_realm(r->c->vh));
    else if (!strcmp(k, "script_name") && r->t->file_path)
        lua_pushstring(L, r->t->file_path);
    else if (!strcmp(k, "websocket_root") && r->m && (r->m->lua_ws_root || r->t->mrt->root))
        lua_pushstring(L, r->m->lua_ws_root ? r->m->lua_ws_root : r->t->mrt->root);
    else if (!strcmp(k, "response"))
        kite__lua_push_response(L);
    else
        return 0;
    /* Made on first use, and kept in the request's own mg. */
    own_mg(L, lp, r, 1);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, -3);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    return 1;
}

static int next_of(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    if (lua_next(L, 1))
        return 2;
    lua_pushnil(L);
    return 1;
}

/* Every entry of the table at 3 into the table at 2. */
static void copy_into(lua_State *L)
{
    lua_pushnil(L);
    while (lua_next(L, 3)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, 2);
    }
}

/* __pairs of mg: what mg.x finds, made into one table (the functions,
 * the fields made on first use, what the request set in its own mg). */
int kite__lua_mg_pairs(lua_State *L)
{
    static const char *const made[] = {"lua_type",    "request_info", "document_root",
                                       "auth_domain", "script_name",  "websocket_root",
                                       "response"};
    kite__lua_pt_t *lp = *(kite__lua_pt_t **)lua_getextraspace(L);
    kite__lua_run_t *r = lp->cur;
    size_t i;

    lua_settop(L, 1);
    lua_newtable(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, lp->mg_funcs);
    copy_into(L);
    lua_pop(L, 1);
    for (i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
        if (lua_getfield(L, 1, made[i]) == LUA_TNIL)
            lua_pop(L, 1);
        else
            lua_setfield(L, 2, made[i]);
    }
    if (r && !r->dead) {
        own_mg(L, lp, r, 0);
        if (lua_istable(L, 3))
            copy_into(L);
        lua_settop(L, 2);
    }
    lua_pushcfunction(L, next_of);
    lua_insert(L, -2);
    lua_pushnil(L);
    return 3;
}

int kite__lua_mg_newindex(lua_State *L)
{
    kite__lua_pt_t *lp = *(kite__lua_pt_t **)lua_getextraspace(L);
    kite__lua_run_t *r = lp->cur;

    if (!r || r->dead || r->env_ref == LUA_NOREF)
        return luaL_error(L, "mg can be changed only while a request or websocket runs");
    lua_settop(L, 3);
    own_mg(L, lp, r, 1);
    lua_insert(L, 2);
    lua_rawset(L, 2);
    return 0;
}

int kite__lua_onerror_main(lua_State *L)
{
    lua_getfield(L, 1, "mg");
    lua_getfield(L, -1, "onerror");
    lua_pushvalue(L, 2);
    lua_callk(L, 1, 0, 0, include_k);
    return 0;
}
