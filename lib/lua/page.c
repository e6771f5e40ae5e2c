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
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lua/private-lua.h"

static int exists(const char *path, struct stat *st)
{
    return !stat(path, st) && S_ISREG(st->st_mode);
}

static int matches(const char *pat, const char *path, size_t n)
{
    return pat && *pat && kite__pattern_match(pat, strlen(pat), path, n) > 0;
}

/* By the mount's patterns: 2 a page, 1 a script, 0 neither. */
static int kind_of(const kite_mount_t *mm, const char *path, size_t n)
{
    return matches(mm->lua_page_pattern, path, n) ? 2 : matches(mm->lua_script_pattern, path, n);
}

/* "/page.lp/tail": the first prefix of @path (@n long) past the docroot
 * (@from) that names a regular file, with @path cut there, and its
 * length; 0 when a missing name or something else ends the walk first. */
static size_t file_prefix(char *path, size_t from, size_t n)
{
    struct stat st;
    size_t i;

    for (i = from + 1; i < n; i++) {
        if (path[i] != '/')
            continue;
        path[i] = '\0';
        if (stat(path, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
            return 0;
        if (S_ISREG(st.st_mode))
            return i;
        path[i] = '/';
    }
    return 0;
}

/* A Lua file of @kind at @path under @m (which then is the thread's Lua
 * state's to know, with its compiled chunk): 1; none, 0; one that
 * resolves outside the docroot through a symlink, KITE_EACCES, as for a
 * static file; KITE_ENOMEM. A page's source is never served as a file
 * because kite could not run it. */
static int lua_file(kite_conn_t *c, const kite__mount_rt_t *m, const char *path, int kind)
{
    kite__lua_pt_t *lp;
    kite__lua_file_t *f;

    if (!kind)
        return 0;
    if (!(lp = kite__lua_pt_get(c->pt)))
        return KITE_ENOMEM;
    if (!(f = kite__lua_file_get(lp, path)))
        return errno == ENOMEM ? KITE_ENOMEM : 0;
    return kite__path_within(f->real, m->root, m->root_len) ? 1 : KITE_EACCES;
}

int kite__lua_try(kite_conn_t *c, kite_http_req_t *t, const kite__mount_rt_t *m, int *answered)
{
    static const char *const index[] = {"index.lp", "index.lsp", "index.lua"};
    const kite_mount_t *mm = m->m;
    const char *rel = t->mount_path;
    size_t rl = strlen(rel), n;
    char path[PATH_MAX];
    struct stat st;
    int i, kind = 0, jl, ok = 0;

    *answered = 0;
    if ((!mm->lua_page_pattern && !mm->lua_script_pattern) || kite__http_hidden(m, rel, rl))
        return 0;
    /* Room for the longest index name after it. */
    if ((jl = kite__http_join_path(path, m->root, m->root_len, rel, rl, "index.lsp")) < 0)
        return 0;
    n = (size_t)jl - (sizeof("index.lsp") - 1);
    path[n] = '\0';
    if (path[n - 1] == '/') {
        /* The directory's index-files (or default) come first, as the
         * Lua ones come after index.htm in LibHTTP's list. */
        if (m->x && m->x->index) {
            for (i = 0; m->x->index[i]; i++) {
                snprintf(path + n, sizeof(path) - n, "%s", m->x->index[i]);
                if (exists(path, &st) && !kind_of(mm, path, strlen(path)))
                    return 0;
            }
        } else {
            snprintf(path + n, sizeof(path) - n, "%s", mm->def ? mm->def : "index.html");
            if (exists(path, &st))
                return 0;
        }
        for (i = 0; i < 3; i++) {
            snprintf(path + n, sizeof(path) - n, "%s", index[i]);
            if ((ok = lua_file(c, m, path, kind = kind_of(mm, path, strlen(path)))))
                break;
        }
        if (i == 3)
            return 0;
    } else if (!(ok = lua_file(c, m, path, kind = kind_of(mm, path, n)))) {
        /* Not a Lua file, or none: the file handler's answer, unless the
         * path goes on past a page or script (its path info, as CGI's). */
        if (exists(path, &st) || !(n = file_prefix(path, m->root_len, n)) ||
            !(ok = lua_file(c, m, path, kind = kind_of(mm, path, n))))
            return 0;
    }
    *answered = 1;
    if (ok < 0)
        return kite__http_error(c, t, ok == KITE_EACCES ? 403 : 500, NULL);
    if (!(t->file_path = kite__http_txn_copy(t, path, strlen(path))))
        return kite__http_error(c, t, 500, NULL);
    t->file_kind = (uint8_t)kind;
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
    kite__lua_hold_free(r);
    free(r->rbuf);
    free(r->redirect);
    free(r->err_detail);
    free(r->serve_rel);
    r->rbuf = r->redirect = r->err_detail = r->serve_rel = NULL;
    r->err_status = 0;
    r->rlen = r->rcap = 0;
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
        kite__conn_close_now(c, KITE_CLOSE_ERROR);
}

static void fail(kite__lua_run_t *r, const char *msg)
{
    kite_conn_t *c = r->c;
    kite_http_req_t *t = r->t;
    const char *what = t && t->file_path ? t->file_path : "handler";
    int own;

    kite__lua_log_error(r->co, what, msg);
    /* mg.onerror set by the script (not the base one) answers instead. */
    kite__lua_push_env(r->lp->L, r);
    own = !r->in_onerror && r->env_ref != LUA_NOREF &&
          lua_getfield(r->lp->L, -1, "mg") == LUA_TTABLE &&
          lua_getfield(r->lp->L, -1, "onerror") == LUA_TFUNCTION &&
          lua_tocfunction(r->lp->L, -1) != kite__lua_mg_onerror;
    lua_settop(r->lp->L, 0);
    if (own && r->head != LR_HEAD_SENT && kite__lua_run_init(r, r->lp, r->env_ref) == 0) {
        int nres;
        /* What the page wrote before the error is not part of the answer. */
        r->head = LR_HEAD_UNDECIDED;
        r->hlen = 0;
        t->rh_len = 0;
        r->in_onerror = 1;
        lua_pushcfunction(r->co, kite__lua_onerror_main);
        kite__lua_push_env(r->co, r);
        lua_pushstring(r->co, msg ? msg : "error");
        after(r, kite__lua_resume(r, r->m, 2, &nres));
        return;
    }
    if (r->head != LR_HEAD_SENT) {
        run_free(r);
        t->rh_len = 0;
        if (kite__http_error(c, t, 500, NULL) < 0)
            kite__conn_close_now(c, KITE_CLOSE_ERROR);
        return;
    }
    /* The head went out: what was sent stays sent, and the end tells
     * the client the response was cut (no last chunk; RST_STREAM). */
    run_free(r);
    kite__http_abort(c, t, KITE_CLOSE_ERROR);
}

static void redirect(kite__lua_run_t *r)
{
    kite_conn_t *c = r->c;
    kite_http_req_t *t = r->t;
    char *loc = r->redirect;
    int rc;

    r->redirect = NULL;
    run_free(r);
    rc = t->redirects >= 4 ? KITE_E2BIG : kite__http_txn_set_target(t, loc);
    free(loc);
    if (rc < 0) {
        if (kite__http_error(c, t, 500, "too many local redirects") < 0)
            kite__conn_close_now(c, KITE_CLOSE_ERROR);
        return;
    }
    t->redirects++;
    /* From here the conn's per-session memory (r) may be another's. */
    kite__http_txn_reroute(c, t);
    if (kite__http_dispatch(c, t) < 0 && !(c->flags & KITE__C_CLOSING))
        kite__conn_close_now(c, KITE_CLOSE_ERROR);
}

/* The page ended with an error response of kite's (the vhost's error
 * page when it has one), made once the run has let go of the conn. */
static void answer(kite__lua_run_t *r)
{
    kite_conn_t *c = r->c;
    kite_http_req_t *t = r->t;
    int status = r->err_status;
    char *detail = r->err_detail;

    r->err_detail = NULL;
    run_free(r);
    if (kite__http_error(c, t, status, detail) < 0)
        kite__conn_close_now(c, KITE_CLOSE_ERROR);
    free(detail);
}

/* mg.send_file ended the page: kite's file serving answers. */
static void serve(kite__lua_run_t *r)
{
    kite_conn_t *c = r->c;
    kite_http_req_t *t = r->t;
    char *rel = r->serve_rel;

    r->serve_rel = NULL;
    run_free(r);
    if (kite__http_serve_file(c, t, t->mrt, rel, 200) < 0 && !(c->flags & KITE__C_CLOSING))
        kite__conn_close_now(c, KITE_CLOSE_ERROR);
    free(rel);
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
        else if (r->err_status)
            answer(r);
        else if (r->serve_rel)
            serve(r);
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
            kite__conn_close_now(c, KITE_CLOSE_ERROR);
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
    was = kite__conn_enter(c);

    r->wait = LR_W_NONE;
    if (r->kind == LR_WS)
        kite__lua_ws_resumed(r, kite__lua_resume(r, r->m, 0, &nres));
    else
        after(r, kite__lua_resume(r, r->m, 0, &nres));
    kite__conn_exit(c, was);
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
    if (!lp || kite__lua_run_init(r, lp, KITE__LUA_ENV_LATER) < 0)
        return kite__http_error(c, t, 500, NULL) < 0;
    lua_pushcfunction(r->co, kite__lua_enter);
    lua_pushcfunction(r->co, fn);
    after(r, kite__lua_resume(r, r->m, 1, &nres));
    return 0;
}

static int on_http(kite_conn_t *c, void *user, const kite_http_req_t *req)
{
    if (!req->file_path)
        return kite__lua_httpd_start(c, user);
    if (req->file_kind ? req->file_kind == 2 : kite__lua_is_page(req->mrt->m, req->file_path))
        return kite__lua_start(c, user, kite__lua_page_main, LR_PAGE);
    return kite__lua_start(c, user, kite__lua_page_main, LR_SCRIPT);
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
