/*
 * The mg functions that make a whole response or its head, as civetweb
 * has them: mg.send_file and mg.send_file_body (a file of the docroot,
 * never a hidden one or one outside it), mg.send_http_ok,
 * mg.send_http_error, mg.send_http_redirect, and mg.response (status and
 * header table, then mg.response.send()). A head is written as the page
 * would write it (a status line and fields through mg.write), so kite
 * parses and frames it as it does a page's own head.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lua/private-lua.h"

#define FILE_CHUNK 16384

/* The response has not begun: no head, no output held, no file. */
static int fresh(const kite__lua_run_t *r)
{
    return r->t && r->head == LR_HEAD_UNDECIDED && !r->hlen && !r->sf && !r->complete;
}

static int no_more(lua_State *L, int status, lua_KContext ctx)
{
    (void)L;
    (void)status;
    (void)ctx;
    return 0;
}

/* End the page with kite's error response @status (page.c makes it once
 * the run has let go of the conn), as mg.redirect ends it. */
static int end_with_error(lua_State *L, kite__lua_run_t *r, int status, const char *detail)
{
    if (detail && *detail && !(r->err_detail = strdup(detail)))
        return luaL_error(L, "out of memory");
    r->err_status = status;
    return kite__lua_wait(L, r, LR_W_NONE, 0, no_more);
}

/* A regular file the page may send: inside the mount's docroot by its
 * real path (a symlink or ".." out of it is not), and neither its real
 * path nor the name it was asked by hidden by hide-files; opened without
 * waiting (a FIFO would block the thread). NULL otherwise. */
static FILE *open_served(const kite__lua_run_t *r, const char *p, struct stat *st,
                         char real[PATH_MAX])
{
    const kite__mount_rt_t *m = r->t ? r->t->mrt : NULL;
    const char *base = strrchr(p, '/') ? strrchr(p, '/') + 1 : p;
    FILE *f;
    int fd;

    if (!realpath(p, real))
        return NULL;
    if (m && m->root &&
        (!kite__path_within(real, m->root, m->root_len) ||
         kite__http_hidden(m, real + m->root_len, strlen(real + m->root_len)) ||
         kite__http_hidden(m, base, strlen(base))))
        return NULL;
    if ((fd = open(real, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
        return NULL;
    if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode) || !(f = fdopen(fd, "rb"))) {
        close(fd);
        return NULL;
    }
    return f;
}

/* The file r->sf as body; at its end, the response is complete when
 * @ctx is 1 (mg.send_file), else true is returned (send_file_body). */
static int send_file_k(lua_State *L, int status, lua_KContext ctx)
{
    kite__lua_run_t *r = kite__lua_cur(L);
    char *buf = lua_touserdata(L, 2);
    int rc;

    (void)status;
    for (;;) {
        size_t n;
        if ((rc = kite__lua_write_some(r)) < 0)
            return luaL_error(L, "cannot write: %s", kite_strerror(rc));
        if (rc) {
            kite_callback_on_writable(r->c);
            return kite__lua_wait(L, r, LR_W_WRITE, ctx, send_file_k);
        }
        if (!r->sf || !(n = fread(buf, 1, FILE_CHUNK, r->sf)))
            break;
        r->wp = buf;
        r->wn = n;
    }
    if (r->sf)
        fclose(r->sf);
    r->sf = NULL;
    if (ctx == 1) {
        r->complete = 1;
        return 0;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int mg_send_file(lua_State *L)
{
    kite__lua_run_t *r = kite__lua_cur(L);
    const char *p = luaL_checkstring(L, 1), *mime;
    const kite__mount_rt_t *m;
    char real[PATH_MAX];
    struct stat st;
    int rc;

    lua_settop(L, 1);
    if (!fresh(r))
        return luaL_error(L, "mg.send_file needs a response not yet begun");
    if (!(r->sf = open_served(r, p, &st, real)))
        return end_with_error(L, r, 404, NULL);
    m = r->t->mrt;
    if (m && m->root &&
        (r->t->p.method_id == KITE_HTTP_GET || r->t->p.method_id == KITE_HTTP_HEAD)) {
        /* kite's file serving answers, once the page has ended: Range,
         * conditional requests, sendfile, as for the file's own URL. */
        fclose(r->sf);
        r->sf = NULL;
        if (!(r->serve_rel = strdup(real + m->root_len)))
            return luaL_error(L, "out of memory");
        return kite__lua_wait(L, r, LR_W_NONE, 0, no_more);
    }
    mime = kite__mime_type(p, strlen(p), r->t->mrt ? r->t->mrt->m->extra_mimetypes : NULL);
    rc = r->t->wire->respond(r->c, r->t, 200, mime ? mime : "application/octet-stream",
                             (int64_t)st.st_size);
    if (rc < 0)
        return luaL_error(L, "cannot send the response head");
    r->head = LR_HEAD_SENT;
    lua_newuserdatauv(L, FILE_CHUNK, 0);
    r->wn = 0;
    return send_file_k(L, LUA_OK, 1);
}

/* mg.send_file_body(path): the file as (more) body after the page's
 * head; false when there is no such file to send. */
static int mg_send_file_body(lua_State *L)
{
    kite__lua_run_t *r = kite__lua_cur(L);
    const char *p = luaL_checkstring(L, 1);
    char real[PATH_MAX];
    struct stat st;
    int rc;

    lua_settop(L, 1);
    if (!r->t || r->complete || r->sf)
        return luaL_error(L, "mg.send_file_body needs a response in progress");
    if (!(r->sf = open_served(r, p, &st, real))) {
        lua_pushboolean(L, 0);
        return 1;
    }
    if (r->head != LR_HEAD_SENT && (rc = kite__lua_head_now(r)) < 0)
        return luaL_error(L, "cannot send the response head: %s", kite_strerror(rc));
    lua_newuserdatauv(L, FILE_CHUNK, 0);
    r->wn = 0;
    return send_file_k(L, LUA_OK, 0);
}

static int write_all(lua_State *L)
{
    return kite__lua_write_k(L, LUA_OK, 1);
}

static int ret_zero(lua_State *L, int status, lua_KContext ctx)
{
    (void)status;
    (void)ctx;
    lua_pushinteger(L, 0);
    return 1;
}

/* A field value of the page's: no line breaks (they would start fields
 * of the page's choosing where it meant one value). */
static const char *field_value(lua_State *L, int i, const char *what)
{
    const char *v = luaL_checkstring(L, i);

    if (strpbrk(v, "\r\n"))
        luaL_error(L, "%s: a line break in a header value", what);
    return v;
}

/* Push "HTTP/1.1 status reason\r\n" + the fields on top (a string) +
 * "\r\n" after it, concatenated. */
static void push_head(lua_State *L, int status)
{
    lua_pushfstring(L, "HTTP/1.1 %d %s\r\n", status, kite_http_status_text(status));
    lua_insert(L, -2);
    lua_pushliteral(L, "\r\n");
    lua_concat(L, 3);
}

/* Write the head on top, then the body at @body (0: none); returns 0. */
static int send_head(lua_State *L, int body)
{
    lua_pushcfunction(L, write_all);
    lua_insert(L, -2);
    if (body)
        lua_pushvalue(L, body);
    lua_callk(L, body ? 2 : 1, 0, 0, ret_zero);
    return ret_zero(L, LUA_OK, 0);
}

/* mg.send_http_ok(mime, body | length) */
static int mg_send_http_ok(lua_State *L)
{
    kite__lua_run_t *r = kite__lua_cur(L);
    const char *mime = lua_isnil(L, 1) ? "text/html" : field_value(L, 1, "send_http_ok");
    int body = lua_type(L, 2) == LUA_TSTRING;
    lua_Integer len;

    if (!body && !lua_isinteger(L, 2))
        return luaL_error(L, "mg.send_http_ok(mime, body or length)");
    len = body ? (lua_Integer)lua_rawlen(L, 2) : lua_tointeger(L, 2);
    if (!fresh(r)) {
        lua_pushinteger(L, -1);
        return 1;
    }
    lua_settop(L, 2);
    lua_pushfstring(L, "Content-Type: %s\r\n", mime);
    if (len >= 0) {
        lua_pushfstring(L, "Content-Length: %I\r\n", len);
        lua_concat(L, 2);
    }
    push_head(L, 200);
    return send_head(L, body ? 2 : 0);
}

/* mg.send_http_error(status, text): kite's error response (the vhost's
 * error page when it has one) with @text as its detail. */
static int mg_send_http_error(lua_State *L)
{
    kite__lua_run_t *r = kite__lua_cur(L);
    lua_Integer status = luaL_checkinteger(L, 1);
    const char *text = luaL_optstring(L, 2, NULL);

    luaL_argcheck(L, status >= 100 && status <= 999, 1, "not an HTTP status");
    if (!fresh(r)) {
        lua_pushinteger(L, -1);
        return 1;
    }
    return end_with_error(L, r, (int)status, text);
}

/* mg.send_http_redirect(location, status) */
static int mg_send_http_redirect(lua_State *L)
{
    kite__lua_run_t *r = kite__lua_cur(L);
    const char *loc = field_value(L, 1, "send_http_redirect");
    lua_Integer status = luaL_optinteger(L, 2, 302);

    luaL_argcheck(L, status >= 300 && status <= 399, 2, "not a redirect status");
    if (!fresh(r)) {
        lua_pushinteger(L, -1);
        return 1;
    }
    lua_pushfstring(L, "Location: %s\r\nContent-Length: 0\r\n", loc);
    push_head(L, (int)status);
    send_head(L, 0);
    r->complete = 1;
    return 1;
}

/* mg.response.send(): the head from mg.response.status and
 * mg.response.http_headers (upvalue 1: the response table). */
static int response_send(lua_State *L)
{
    kite__lua_run_t *r = kite__lua_cur(L);
    lua_Integer status;

    lua_settop(L, 0);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_getfield(L, 1, "status");
    status = lua_isinteger(L, 2) ? lua_tointeger(L, 2) : 0;
    if (status < 100 || status > 999)
        return luaL_error(L, "mg.response.status is not an HTTP status");
    if (lua_getfield(L, 1, "http_headers") != LUA_TTABLE)
        return luaL_error(L, "mg.response.http_headers is not a table");
    if (!fresh(r)) {
        lua_pushboolean(L, 0);
        lua_pushinteger(L, -1);
        return 2;
    }
    lua_pushliteral(L, ""); /* 4: the fields so far */
    lua_pushnil(L);
    while (lua_next(L, 3)) {
        if (lua_type(L, -2) == LUA_TSTRING && lua_isstring(L, -1)) {
            const char *k = lua_tostring(L, -2), *v = lua_tostring(L, -1);
            if (!*k || strpbrk(k, ":\r\n \t") || strpbrk(v, "\r\n"))
                return luaL_error(L, "mg.response.http_headers: bad field %s", k);
            lua_pushvalue(L, 4);
            lua_pushfstring(L, "%s: %s\r\n", k, v);
            lua_concat(L, 2);
            lua_replace(L, 4);
        }
        lua_pop(L, 1);
    }
    push_head(L, (int)status);
    send_head(L, 0);
    lua_pushboolean(L, 1);
    lua_pushinteger(L, 0);
    return 2;
}

void kite__lua_push_response(lua_State *L)
{
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, 200);
    lua_setfield(L, -2, "status");
    lua_newtable(L);
    lua_setfield(L, -2, "http_headers");
    lua_pushvalue(L, -1);
    lua_pushcclosure(L, response_send, 1);
    lua_setfield(L, -2, "send");
}

void kite__lua_mg_send(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"send_file", mg_send_file},
        {"send_file_body", mg_send_file_body},
        {"send_http_ok", mg_send_http_ok},
        {"send_http_error", mg_send_http_error},
        {"send_http_redirect", mg_send_http_redirect},
        {NULL, NULL},
    };

    luaL_setfuncs(L, fns, 0);
}
