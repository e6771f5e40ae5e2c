/*
 * Output of pages, scripts and handlers: the LibHTTP convention that a
 * page may write its own status line and fields (parsed here, framing
 * left to kite), kite's default head otherwise, output held until 16 KiB,
 * the end of the page or its first wait (so an early error is a clean
 * 500), then body bytes within the connection's output cap, the
 * coroutine waiting for on_writeable when it is reached.
 */
#include <stdlib.h>
#include <string.h>

#include "lua/private-lua.h"

/* The page's own "HTTP/1.x NNN reason" line and fields in h[0..len). */
static int own_head(kite__lua_run_t *r, char *h, size_t len)
{
    kite_http_req_t *t = r->t;
    char *p = h, *end = h + len;
    const char *ctype = NULL;
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
            kite__http_set_reason(t, p + 12, (size_t)(e - p - 12));
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
        /* Framing is kite's: a page written for LibHTTP's close-delimited
         * output keeps its connection here. */
        if (kite__http_script_field(t, p, (size_t)(colon - p), v, e, &ctype, &clen) < 0)
            return KITE_EPROTO;
        p = nl ? nl + 1 : end;
    }
    return t->wire->respond(r->c, t, status, ctype, clen);
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
        n = kite__head_end(r->hbuf, r->hlen, &hl);
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
    kite__lua_hold_free(r);
    return rc;
}

void kite__lua_hold_free(kite__lua_run_t *r)
{
    /* The thread keeps one first-size buffer for the next page. */
    if (r->hbuf && r->hcap == KITE__LUA_HOLD_FIRST && r->lp && !r->lp->hold_spare)
        r->lp->hold_spare = r->hbuf;
    else
        free(r->hbuf);
    r->hbuf = NULL;
    r->hlen = r->hcap = 0;
}

/* Body bytes r->wp/wn to the client within its output cap: 0 when all
 * went, 1 when the cap was reached, <0 on failure. */
int kite__lua_write_some(kite__lua_run_t *r)
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
    size_t cap = r->hcap ? r->hcap : KITE__LUA_HOLD_FIRST;
    char *p;

    if (want > KITE__LUA_HEAD_MAX)
        want = KITE__LUA_HEAD_MAX;
    if (r->hbuf && want <= r->hcap)
        return 0;
    if (!r->hbuf && r->lp->hold_spare) {
        r->hbuf = r->lp->hold_spare;
        r->hcap = KITE__LUA_HOLD_FIRST;
        r->lp->hold_spare = NULL;
        if (want <= r->hcap)
            return 0;
    }
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
        if (kite__head_end(r->hbuf, r->hlen, &hl) < 0) {
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
    rc = kite__lua_write_some(r);
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
        if ((rc = kite__lua_write_some(r)) < 0)
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
