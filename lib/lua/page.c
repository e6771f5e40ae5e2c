/*
 * Lua server pages and Lua scripts on a file mount, and the protocol
 * (kite__lua_proto) that serves them and lhttpd handlers: on_http starts
 * the request's coroutine, on_http_body keeps body bytes for mg.read
 * (pausing the client past KITE__LUA_RX_HIGH), on_http_body_done and
 * on_writeable resume a coroutine waiting for them, on_closed lets go of
 * it. The end of the coroutine finishes the response; an error gives a
 * 500 (or, once the head is out, closes the connection: a truncated
 * chunked body is never made to look complete) and a traceback in the
 * log, unless the script set mg.onerror.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lua/private-lua.h"

static unsigned enter(kite_conn_t *c)
{
    unsigned was = c->flags & KITE__C_IN_SVC;

    c->flags |= KITE__C_IN_SVC;
    return was;
}

static void leave(kite_conn_t *c, unsigned was)
{
    if (!was)
        kite__conn_leave(c);
}

static int exists(const char *path, int want_dir)
{
    struct stat st;

    return !stat(path, &st) && (want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
}

static int matches(const char *pat, const char *path)
{
    return pat && *pat && kite__pattern_match(pat, strlen(pat), path, strlen(path)) > 0;
}

int kite__lua_try(kite_conn_t *c, kite_http_req_t *t, const kite__mount_rt_t *m, int *answered)
{
    static const char *const index[] = {"index.lp", "index.lsp", "index.lua"};
    const kite_mount_t *mm = m->m;
    const char *rel = t->mount_path;
    size_t rl = strlen(rel);
    char path[PATH_MAX];
    int n, i;

    *answered = 0;
    if ((!mm->lua_page_pattern && !mm->lua_script_pattern) || kite__http_hidden(m, rel, rl))
        return 0;
    n = snprintf(path, sizeof(path), "%s%s%s", m->root, *rel == '/' ? "" : "/", rel);
    if (n < 0 || (size_t)n + 16 >= sizeof(path))
        return 0;
    if (path[n - 1] == '/') {
        /* The directory's index-files (or default) come first, as the
         * Lua ones come after index.htm in LibHTTP's list. */
        if (m->x && m->x->index) {
            for (i = 0; m->x->index[i]; i++) {
                snprintf(path + n, sizeof(path) - (size_t)n, "%s", m->x->index[i]);
                if (exists(path, 0) && !matches(mm->lua_page_pattern, path) &&
                    !matches(mm->lua_script_pattern, path))
                    return 0;
            }
        } else {
            snprintf(path + n, sizeof(path) - (size_t)n, "%s", mm->def ? mm->def : "index.html");
            if (exists(path, 0))
                return 0;
        }
        for (i = 0; i < 3; i++) {
            snprintf(path + n, sizeof(path) - (size_t)n, "%s", index[i]);
            if (exists(path, 0) &&
                (matches(mm->lua_page_pattern, path) || matches(mm->lua_script_pattern, path)))
                break;
        }
        if (i == 3)
            return 0;
    } else if (!(matches(mm->lua_page_pattern, path) || matches(mm->lua_script_pattern, path)) ||
               !exists(path, 0)) {
        return 0;
    }
    *answered = 1;
    if (!(t->file_path = kite__http_txn_copy(t, path, strlen(path))))
        return kite__http_error(c, t, 500, NULL);
    return kite__http_callback(c, t, &kite__lua_proto);
}

static void run_free(kite__lua_run_t *r)
{
    kite__lua_run_release(r);
    /* The rest of the body is the h1 role's to read and drop now. */
    if (r->rx_paused && r->c)
        kite_rx_flow_control(r->c, 1);
    r->rx_paused = 0;
    if (r->sf)
        fclose(r->sf);
    r->sf = NULL;
    kite_timer_cancel(&r->tm);
    free(r->hbuf);
    free(r->rbuf);
    free(r->redirect);
    r->hbuf = r->rbuf = r->redirect = NULL;
    r->hlen = r->hcap = r->rlen = r->rcap = 0;
}

static int name_is(const char *name, size_t n, const char *want)
{
    return n == strlen(want) && !kite__strncasecmp(name, want, n);
}

/* The page's own "HTTP/1.x NNN reason" line and fields in h[0..len). */
static int own_head(kite__lua_run_t *r, char *h, size_t len)
{
    kite_http_req_t *t = r->t;
    char *p = h, *end = h + len, *ctype = NULL;
    int64_t clen = -1;
    int status = 0, first = 1;

    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p)), *colon, *v, *e;
        e = nl ? nl : end;
        if (e > p && e[-1] == '\r')
            e--;
        *e = '\0';
        if (first) {
            first = 0;
            if (e - p < 12 || p[8] != ' ' || (status = atoi(p + 9)) < 200 || status > 999)
                return KITE_EPROTO;
            p = nl ? nl + 1 : end;
            continue;
        }
        if (e == p)
            break;
        if (!(colon = memchr(p, ':', (size_t)(e - p))) || colon == p)
            return KITE_EPROTO;
        *colon = '\0';
        for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
            ;
        if (name_is(p, (size_t)(colon - p), "Content-Type")) {
            ctype = v;
        } else if (name_is(p, (size_t)(colon - p), "Content-Length")) {
            char *x;
            long long n = strtoll(v, &x, 10);
            if (x == v || n < 0)
                return KITE_EPROTO;
            clen = n;
        } else if (!name_is(p, (size_t)(colon - p), "Connection") &&
                   !name_is(p, (size_t)(colon - p), "Transfer-Encoding") &&
                   !name_is(p, (size_t)(colon - p), "Keep-Alive") &&
                   !name_is(p, (size_t)(colon - p), "Date") &&
                   !name_is(p, (size_t)(colon - p), "Server")) {
            /* Framing is kite's: a page written for LibHTTP's close-
             * delimited output keeps its connection here. */
            if (kite__http_add_header_n(t, p, v, (size_t)(e - v)) < 0)
                return KITE_EPROTO;
        }
        p = nl ? nl + 1 : end;
    }
    return t->wire->respond(r->c, t, status, ctype, clen);
}

/* Where the head in h[0..len) ends: its length with the empty line in
 * *hl, without it returned; -1 when it has not ended yet. */
static long head_end(const char *h, size_t len, size_t *hl)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (h[i] != '\n')
            continue;
        if (i + 1 < len && h[i + 1] == '\n') {
            *hl = i + 2;
            return (long)i + 1;
        }
        if (i + 2 < len && h[i + 1] == '\r' && h[i + 2] == '\n') {
            *hl = i + 3;
            return (long)i + 1;
        }
    }
    return -1;
}

/* Send the head now: the page's own (complete or not), or 200 text/html
 * of unknown length; what the head buffer held after it is body. */
int kite__lua_head_now(kite__lua_run_t *r)
{
    kite_http_req_t *t = r->t;
    size_t hl = r->hlen, body = 0;
    long n = -1;
    int rc;

    if (r->head == LR_HEAD_OWN) {
        n = head_end(r->hbuf, r->hlen, &hl);
        rc = own_head(r, r->hbuf, n < 0 ? r->hlen : (size_t)n);
        body = n < 0 ? r->hlen : hl;
    } else {
        rc = t->wire->respond(r->c, t, 200, "text/html", -1);
    }
    if (rc < 0) {
        r->t->rh_len = 0; /* the page's fields are not the error page's */
        return rc;
    }
    r->head = LR_HEAD_SENT;
    if (body < r->hlen)
        rc = t->wire->body(r->c, t, r->hbuf + body, r->hlen - body, 0);
    free(r->hbuf);
    r->hbuf = NULL;
    r->hlen = r->hcap = 0;
    return rc;
}

/* Body bytes r->wp/wn to the client within its output cap: 0 when all
 * went, 1 when the cap was reached, <0 on failure. */
static int write_some(kite__lua_run_t *r)
{
    while (r->wn) {
        size_t n = r->wn > 65536 ? 65536 : r->wn;
        int rc = kite_write(r->c, r->wp, n, KITE_WRITE_HTTP);
        if (rc == KITE_EAGAIN)
            return 1;
        if (rc < 0)
            return rc;
        r->wp += n;
        r->wn -= n;
    }
    return 0;
}

int kite__lua_wait(lua_State *L, kite__lua_run_t *r, int what, lua_KContext ctx, lua_KFunction k)
{
    int rc;

    if (L != r->co || !lua_isyieldable(L))
        return luaL_error(L, "cannot wait for the connection inside a coroutine of the script");
    /* What the page wrote so far goes out before it waits. */
    if (r->t && r->head == LR_HEAD_BUFFER && (rc = kite__lua_head_now(r)) < 0)
        return luaL_error(L, "cannot send the response head: %s", kite_strerror(rc));
    r->wait = (uint8_t)what;
    return lua_yieldk(L, 0, ctx, k);
}

/* Room for @want bytes (at most KITE__LUA_HEAD_MAX) in the held output:
 * most pages are small, and a held page costs what it wrote. */
static int hold(kite__lua_run_t *r, size_t want)
{
    size_t cap = r->hcap ? r->hcap : 1024;
    char *p;

    if (want > KITE__LUA_HEAD_MAX)
        want = KITE__LUA_HEAD_MAX;
    if (r->hbuf && want <= r->hcap)
        return 0;
    while (cap < want)
        cap *= 2;
    if (!(p = realloc(r->hbuf, cap)))
        return KITE_ENOMEM;
    r->hbuf = p;
    r->hcap = cap;
    return 0;
}

/* Page output: the head first (the page's own when it starts with
 * "HTTP/"); other output is held until KITE__LUA_HEAD_MAX bytes, the end
 * of the page or its first wait, so that an early error can still be a
 * clean 500. Returns 1 when the caller must wait to go on. */
static int out_bytes(lua_State *L, kite__lua_run_t *r, const char *p, size_t n)
{
    size_t take, hl;
    int rc;

    if (r->complete || !n)
        return 0;
    if (r->head != LR_HEAD_SENT && hold(r, r->hlen + n) < 0)
        return luaL_error(L, "out of memory");
    if (r->head == LR_HEAD_UNDECIDED) {
        take = n < 5 - r->hlen ? n : 5 - r->hlen;
        memcpy(r->hbuf + r->hlen, p, take);
        r->hlen += take;
        p += take;
        n -= take;
        if (memcmp(r->hbuf, "HTTP/", r->hlen))
            r->head = LR_HEAD_BUFFER;
        else if (r->hlen < 5)
            return 0;
        else
            r->head = LR_HEAD_OWN;
    }
    if (r->head == LR_HEAD_OWN) {
        take = n < KITE__LUA_HEAD_MAX - r->hlen ? n : KITE__LUA_HEAD_MAX - r->hlen;
        memcpy(r->hbuf + r->hlen, p, take);
        r->hlen += take;
        p += take;
        n -= take;
        if (head_end(r->hbuf, r->hlen, &hl) < 0) {
            if (r->hlen == KITE__LUA_HEAD_MAX)
                return luaL_error(L, "the page's response head is too long");
            return 0;
        }
        if ((rc = kite__lua_head_now(r)) < 0)
            return luaL_error(L, "bad response head from the page: %s", kite_strerror(rc));
    } else if (r->head == LR_HEAD_BUFFER) {
        if (r->hlen + n <= KITE__LUA_HEAD_MAX) {
            memcpy(r->hbuf + r->hlen, p, n);
            r->hlen += n;
            return 0;
        }
        if ((rc = kite__lua_head_now(r)) < 0)
            return luaL_error(L, "cannot send the response head: %s", kite_strerror(rc));
    }
    if (!n)
        return 0;
    r->wp = p;
    r->wn = n;
    rc = write_some(r);
    if (rc < 0)
        return luaL_error(L, "cannot write: %s", kite_strerror(rc));
    if (rc && (L != r->co || !lua_isyieldable(L))) {
        /* Inside a coroutine of the script's own: queue past the cap. */
        rc = r->t->wire->body(r->c, r->t, r->wp, r->wn, 0);
        r->wn = 0;
        return rc < 0 ? luaL_error(L, "cannot write: %s", kite_strerror(rc)) : 0;
    }
    if (rc)
        kite_callback_on_writable(r->c);
    return rc;
}

int kite__lua_write_k(lua_State *L, int status, lua_KContext i)
{
    kite__lua_run_t *r = kite__lua_cur(L);
    int top = lua_gettop(L), rc;

    (void)status;
    if (r->wn) {
        if ((rc = write_some(r)) < 0)
            return luaL_error(L, "cannot write: %s", kite_strerror(rc));
        if (rc) {
            kite_callback_on_writable(r->c);
            return kite__lua_wait(L, r, LR_W_WRITE, i, kite__lua_write_k);
        }
    }
    for (; i <= top; i++) {
        size_t n;
        const char *s = lua_type(L, (int)i) == LUA_TSTRING || lua_type(L, (int)i) == LUA_TNUMBER
                            ? lua_tolstring(L, (int)i, &n)
                            : luaL_tolstring(L, (int)i, &n);
        if (out_bytes(L, r, s, n))
            return kite__lua_wait(L, r, LR_W_WRITE, i + 1, kite__lua_write_k);
    }
    return 0;
}

static int mg_write(lua_State *L)
{
    kite__lua_run_t *r = kite__lua_cur(L);

    if (r->kind == LR_WS)
        return kite__lua_ws_write(L);
    return kite__lua_write_k(L, LUA_OK, 1);
}

static int read_k(lua_State *L, int status, lua_KContext ctx)
{
    kite__lua_run_t *r = kite__lua_cur(L);

    (void)status;
    if (r->rlen) {
        lua_pushlstring(L, r->rbuf, r->rlen);
        r->rlen = 0;
        if (r->rx_paused) {
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
    return kite__lua_wait(L, r, LR_W_READ, ctx, read_k);
}

static int mg_read(lua_State *L)
{
    return read_k(L, LUA_OK, 0);
}

static int include_k(lua_State *L, int status, lua_KContext ctx)
{
    (void)L;
    (void)status;
    (void)ctx;
    return 0;
}

static int mg_include(lua_State *L)
{
    kite__lua_run_t *r = kite__lua_cur(L);
    const char *p = luaL_checkstring(L, 1), *type = luaL_optstring(L, 2, NULL);
    const char *cur = r->t && r->t->file_path ? r->t->file_path : NULL, *slash;
    char path[PATH_MAX];
    lua_Debug ar;
    int lsp;

    /* Relative to the file that includes (the caller's chunk). */
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "S", &ar) && ar.source[0] == '@')
        cur = ar.source + 1;
    if (*p != '/' && cur && (slash = strrchr(cur, '/')))
        snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - cur), cur, p);
    else
        snprintf(path, sizeof(path), "%s", p);
    lsp = type ? !strcmp(type, "lsp") || !strcmp(type, "lp") : kite__lua_is_page(r->m, path);
    kite__lua_load(r->lp, L, path, lsp);
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->env_ref);
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

static int send_file_k(lua_State *L, int status, lua_KContext ctx)
{
    kite__lua_run_t *r = kite__lua_cur(L);
    char *buf = lua_touserdata(L, 2);
    int rc;

    (void)status;
    (void)ctx;
    for (;;) {
        size_t n;
        if ((rc = write_some(r)) < 0)
            return luaL_error(L, "cannot write: %s", kite_strerror(rc));
        if (rc) {
            kite_callback_on_writable(r->c);
            return kite__lua_wait(L, r, LR_W_WRITE, 0, send_file_k);
        }
        if (!r->sf || !(n = fread(buf, 1, 16384, r->sf)))
            break;
        r->wp = buf;
        r->wn = n;
    }
    if (r->sf)
        fclose(r->sf);
    r->sf = NULL;
    r->complete = 1;
    return 0;
}

static int mg_send_file(lua_State *L)
{
    kite__lua_run_t *r = kite__lua_cur(L);
    const char *p = luaL_checkstring(L, 1);
    const char *mime;
    struct stat st;
    int rc;

    lua_settop(L, 1);
    if (!r->t || r->head == LR_HEAD_SENT || r->hlen || r->sf)
        return luaL_error(L, "mg.send_file needs a response not yet begun");
    if (!(r->sf = fopen(p, "rb")) || fstat(fileno(r->sf), &st) < 0 || !S_ISREG(st.st_mode)) {
        if (r->sf)
            fclose(r->sf);
        r->sf = NULL;
        rc = kite__http_error(r->c, r->t, 404, NULL);
        r->head = LR_HEAD_SENT;
        r->complete = 1;
        return rc < 0 ? luaL_error(L, "cannot answer") : 0;
    }
    mime = kite__mime_type(p, strlen(p), r->t->mrt ? r->t->mrt->m->extra_mimetypes : NULL);
    rc = r->t->wire->respond(r->c, r->t, 200, mime ? mime : "application/octet-stream",
                             (int64_t)st.st_size);
    if (rc < 0)
        return luaL_error(L, "cannot send the response head");
    r->head = LR_HEAD_SENT;
    lua_newuserdatauv(L, 16384, 0);
    r->wn = 0;
    return send_file_k(L, LUA_OK, 0);
}

static int mg_onerror(lua_State *L)
{
    kite_err("lua: %s", luaL_optstring(L, 1, "error"));
    return 0;
}

void kite__lua_mg_request(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"write", mg_write},       {"print", mg_write},
        {"read", mg_read},         {"include", mg_include},
        {"redirect", mg_redirect}, {"keep_alive", keep_alive},
        {"sleep", mg_sleep},       {"send_file", mg_send_file},
        {"onerror", mg_onerror},   {NULL, NULL},
    };

    luaL_setfuncs(L, fns, 0);
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
    }
    lua_pushboolean(L, c->xp != &kite__xport_tcp);
    lua_setfield(L, -2, "https");
    if (t->auth_user) {
        lua_pushstring(L, t->auth_user);
        lua_setfield(L, -2, "remote_user");
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

static int page_main(lua_State *L)
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

int kite__lua_mg_index(lua_State *L)
{
    kite__lua_pt_t *lp = *(kite__lua_pt_t **)lua_getextraspace(L);
    kite__lua_run_t *r = lp->cur;
    const char *k = lua_tostring(L, 2);

    if (!k || !r || r->dead)
        goto base;
    if (!strcmp(k, "lua_type")) {
        lua_pushstring(L, r->kind == LR_PAGE     ? "page"
                          : r->kind == LR_SCRIPT ? "script"
                          : r->kind == LR_HTTPD  ? "handler"
                                                 : "websocket");
        return 1;
    }
    if (!r->t || !r->c)
        goto base;
    /* Made on first use, and kept in the request's mg table. */
    if (!strcmp(k, "request_info"))
        kite__lua_push_request_info(L, r->c, r->t, r->t->file_path);
    else if (!strcmp(k, "document_root"))
        lua_pushstring(L, r->t->mrt && r->t->mrt->root ? r->t->mrt->root : "");
    else if (!strcmp(k, "auth_domain"))
        lua_pushstring(L, r->c->vh->name);
    else
        goto base;
    lua_pushvalue(L, 2);
    lua_pushvalue(L, -2);
    lua_rawset(L, 1);
    return 1;
base:
    lua_rawgeti(L, LUA_REGISTRYINDEX, lp->mg_base);
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    return 1;
}

static int onerror_main(lua_State *L)
{
    lua_getfield(L, 1, "mg");
    lua_getfield(L, -1, "onerror");
    lua_pushvalue(L, 2);
    lua_callk(L, 1, 0, 0, include_k);
    return 0;
}

static void after(kite__lua_run_t *r, int st);

/* The end of the run: the head if none went out, then the last chunk. */
static void finish(kite__lua_run_t *r)
{
    kite_conn_t *c = r->c;
    int rc = 0;

    if (r->head != LR_HEAD_SENT)
        rc = kite__lua_head_now(r);
    run_free(r);
    if (rc < 0 || kite_write(c, NULL, 0, KITE_WRITE_HTTP_FINAL) < 0)
        kite__conn_close_now(c, 2);
}

static void fail(kite__lua_run_t *r, const char *msg)
{
    kite_conn_t *c = r->c;
    kite_http_req_t *t = r->t;
    const char *what = t && t->file_path ? t->file_path : "handler";
    int own;

    kite__lua_log_error(r->co, what, msg);
    /* mg.onerror set by the script (not the base one) answers instead. */
    lua_rawgeti(r->lp->L, LUA_REGISTRYINDEX, r->env_ref);
    own = !r->in_onerror && lua_getfield(r->lp->L, -1, "mg") == LUA_TTABLE &&
          lua_getfield(r->lp->L, -1, "onerror") == LUA_TFUNCTION &&
          lua_tocfunction(r->lp->L, -1) != mg_onerror;
    lua_settop(r->lp->L, 0);
    if (own && r->head != LR_HEAD_SENT && kite__lua_run_init(r, r->lp, r->env_ref) == 0) {
        int nres;
        /* What the page wrote before the error is not part of the answer. */
        r->head = LR_HEAD_UNDECIDED;
        r->hlen = 0;
        t->rh_len = 0;
        r->in_onerror = 1;
        lua_pushcfunction(r->co, onerror_main);
        lua_rawgeti(r->co, LUA_REGISTRYINDEX, r->env_ref);
        lua_pushstring(r->co, msg ? msg : "error");
        after(r, kite__lua_resume(r, r->m, 2, &nres));
        return;
    }
    if (r->head != LR_HEAD_SENT) {
        run_free(r);
        t->rh_len = 0;
        if (kite__http_error(c, t, 500, NULL) < 0)
            kite__conn_close_now(c, 2);
        return;
    }
    /* The head went out: what was sent stays sent, and the close tells
     * the client the response was cut (no last chunk). */
    run_free(r);
    t->tflags &= (uint16_t)~KITE__T_KEEPALIVE;
    kite_close(c, 0, NULL);
}

static void redirect(kite__lua_run_t *r)
{
    kite_conn_t *c = r->c;
    kite_http_req_t *t = r->t;
    char *loc = r->redirect, *p, *q;
    size_t n = strlen(loc);

    r->redirect = NULL;
    run_free(r);
    if (t->redirects >= 4 || t->used + n + 1 > sizeof(t->arena)) {
        free(loc);
        if (kite__http_error(c, t, 500, "too many local redirects") < 0)
            kite__conn_close_now(c, 2);
        return;
    }
    p = t->arena + t->used;
    t->used += n + 1;
    memcpy(p, loc, n + 1);
    free(loc);
    q = strchr(p, '?');
    t->p.path = p;
    t->p.path_len = (uint32_t)(q ? (size_t)(q - p) : n);
    if (q)
        *q++ = '\0';
    t->p.query = q;
    t->p.query_len = q ? (uint32_t)strlen(q) : 0;
    t->redirects++;
    /* From here the conn's per-session memory (r) may be another's. */
    kite__http_txn_reroute(c, t);
    if (kite__http_dispatch(c, t) < 0 && !(c->flags & KITE__C_CLOSING))
        kite__conn_close_now(c, 2);
}

static void after(kite__lua_run_t *r, int st)
{
    if (r->budget_out) {
        fail(r, "instruction budget exceeded (lua-instruction-budget)");
        return;
    }
    if (st == LUA_YIELD) {
        if (r->redirect)
            redirect(r);
        else if (r->wait == LR_W_NONE)
            fail(r, "the request's coroutine yielded to kite (coroutine.yield outside a "
                    "coroutine of the script)");
        return;
    }
    if (st == LUA_OK && r->kind == LR_HTTPD && r->head != LR_HEAD_SENT && !r->hlen &&
        lua_isboolean(r->co, -1) && !lua_toboolean(r->co, -1)) {
        /* No handler of the script has the request's name. */
        kite_conn_t *c = r->c;
        kite_http_req_t *t = r->t;
        run_free(r);
        if (kite__http_error(c, t, 404, NULL) < 0)
            kite__conn_close_now(c, 2);
        return;
    }
    if (st == LUA_OK) {
        finish(r);
        return;
    }
    fail(r, lua_tostring(r->co, -1));
}

void kite__lua_wake(kite__lua_run_t *r)
{
    kite_conn_t *c = r->c;
    unsigned was;
    int nres;

    /* The context is going away (its conns closing one by one): a script
     * woken now would run into a half-closed server. Its conn's close
     * releases it. */
    if (atomic_load(&c->pt->ctx->destroying))
        return;
    was = enter(c);

    r->wait = LR_W_NONE;
    if (r->kind == LR_WS)
        kite__lua_ws_resumed(r, kite__lua_resume(r, r->m, 0, &nres));
    else
        after(r, kite__lua_resume(r, r->m, 0, &nres));
    leave(c, was);
}

int kite__lua_start(kite_conn_t *c, kite__lua_run_t *r, lua_CFunction fn, int kind)
{
    kite__lua_pt_t *lp = kite__lua_pt_get(c->pt);
    kite_http_req_t *t = c->rd;
    int nres;

    r->c = c;
    r->t = t;
    r->m = t->mrt ? t->mrt->m : NULL;
    r->kind = (uint8_t)kind;
    if (!lp || kite__lua_run_init(r, lp, LUA_NOREF) < 0)
        return kite__http_error(c, t, 500, NULL) < 0;
    lua_pushcfunction(r->co, fn);
    lua_rawgeti(r->co, LUA_REGISTRYINDEX, r->env_ref);
    after(r, kite__lua_resume(r, r->m, 1, &nres));
    return 0;
}

static int on_http(kite_conn_t *c, void *user, const kite_http_req_t *req)
{
    if (!req->file_path)
        return kite__lua_httpd_start(c, user);
    return kite__lua_start(c, user, page_main,
                           kite__lua_is_page(req->mrt->m, req->file_path) ? LR_PAGE : LR_SCRIPT);
}

static int on_http_body(kite_conn_t *c, void *user, const void *in, size_t len)
{
    kite__lua_run_t *r = user;

    if (r->dead)
        return 0;
    if (r->rlen + len > r->rcap) {
        size_t cap = r->rcap ? r->rcap : 16384;
        char *p;
        while (cap < r->rlen + len)
            cap *= 2;
        if (!(p = realloc(r->rbuf, cap)))
            return -1;
        r->rbuf = p;
        r->rcap = cap;
    }
    memcpy(r->rbuf + r->rlen, in, len);
    r->rlen += len;
    if (r->rlen > KITE__LUA_RX_HIGH && !r->rx_paused) {
        r->rx_paused = 1;
        kite_rx_flow_control(c, 0);
    }
    if (r->wait == LR_W_READ)
        kite__lua_wake(r);
    return 0;
}

static int on_http_body_done(kite_conn_t *c, void *user)
{
    kite__lua_run_t *r = user;

    (void)c;
    r->done_body = 1;
    if (!r->dead && r->wait == LR_W_READ)
        kite__lua_wake(r);
    return 0;
}

static int on_writeable(kite_conn_t *c, void *user)
{
    kite__lua_run_t *r = user;

    (void)c;
    if (!r->dead && r->wait == LR_W_WRITE)
        kite__lua_wake(r);
    return 0;
}

static void on_closed(kite_conn_t *c, void *user, int code)
{
    (void)c;
    (void)code;
    run_free(user);
}

const kite_protocol_t kite__lua_proto = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "lua",
    .per_session_size = sizeof(kite__lua_run_t),
    .on_http = on_http,
    .on_http_body = on_http_body,
    .on_http_body_done = on_http_body_done,
    .on_writeable = on_writeable,
    .on_closed = on_closed,
};
