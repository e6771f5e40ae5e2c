/*
 * The mg functions that need no request: URL and base64 coding, MD5,
 * query-string and cookie lookups, MIME types, and the version string.
 */
#include <stdlib.h>
#include <string.h>

#include "lua/private-lua.h"
#include "tls/digest.h"

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch |= 0x20;
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Percent-decode @s into the buffer @b; '+' is a space when @form. */
static void decode(luaL_Buffer *b, const char *s, size_t n, int form)
{
    size_t i;

    for (i = 0; i < n; i++) {
        int ch = (unsigned char)s[i];
        if (ch == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            ch = hexval(s[i + 1]) * 16 + hexval(s[i + 2]);
            i += 2;
        } else if (ch == '+' && form) {
            ch = ' ';
        }
        luaL_addchar(b, (char)ch);
    }
}

static int url_encode(lua_State *L)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n, i;
    const char *s = luaL_checklstring(L, 1, &n);
    luaL_Buffer b;

    luaL_buffinit(L, &b);
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            strchr("-._~", ch)) {
            luaL_addchar(&b, (char)ch);
        } else {
            luaL_addchar(&b, '%');
            luaL_addchar(&b, hex[ch >> 4]);
            luaL_addchar(&b, hex[ch & 15]);
        }
    }
    luaL_pushresult(&b);
    return 1;
}

static int url_decode(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    int form = lua_toboolean(L, 2); /* read before luaL_buffinit pushes its box */
    luaL_Buffer b;

    luaL_buffinit(L, &b);
    decode(&b, s, n, form);
    luaL_pushresult(&b);
    return 1;
}

static int base64_encode(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    size_t cap = (n + 2) / 3 * 4 + 1;
    char *o = lua_newuserdatauv(L, cap, 0);
    int r = kite__base64_encode(s, n, o, cap);

    if (r < 0)
        return luaL_error(L, "base64_encode: %s", kite_strerror(r));
    lua_pushlstring(L, o, strlen(o));
    return 1;
}

static int base64_decode(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    size_t cap = n / 4 * 3 + 3;
    char *o = lua_newuserdatauv(L, cap, 0);
    int r = kite__base64_decode(s, n, o, cap);

    if (r < 0) {
        luaL_pushfail(L);
        return 1;
    }
    lua_pushlstring(L, o, (size_t)r);
    return 1;
}

static int md5(lua_State *L)
{
    static const char hex[] = "0123456789abcdef";
    size_t n, i;
    const char *s = luaL_checklstring(L, 1, &n);
    unsigned char d[16];
    char o[32];

    if (kite__md5(s, n, d) < 0)
        return luaL_error(L, "md5 failed");
    for (i = 0; i < 16; i++) {
        o[2 * i] = hex[d[i] >> 4];
        o[2 * i + 1] = hex[d[i] & 15];
    }
    lua_pushlstring(L, o, 32);
    return 1;
}

/* mg.get_var(str, name [, occurrence]): the decoded value of name=value
 * in an "a=1&b=2" string (a query or a form body), or nil. */
static int get_var(lua_State *L)
{
    size_t n, nl;
    const char *s, *name = luaL_checklstring(L, 2, &nl), *p, *end;
    lua_Integer want = luaL_optinteger(L, 3, 0);

    /* No string (a request without a query): nothing in it, as in
     * civetweb, so mg.get_var(mg.request_info.query_string, "x") works. */
    if (lua_isnoneornil(L, 1)) {
        lua_pushnil(L);
        return 1;
    }
    s = luaL_checklstring(L, 1, &n);
    p = s;
    end = s + n;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p)), *e = amp ? amp : end;
        if ((size_t)(e - p) > nl && !memcmp(p, name, nl) && p[nl] == '=' && want-- == 0) {
            luaL_Buffer b;
            luaL_buffinit(L, &b);
            decode(&b, p + nl + 1, (size_t)(e - p - nl - 1), 1);
            luaL_pushresult(&b);
            return 1;
        }
        p = e + 1;
    }
    lua_pushnil(L);
    return 1;
}

/* mg.get_cookie(str, name): the value of name in a Cookie header, or nil. */
static int get_cookie(lua_State *L)
{
    size_t n, nl;
    const char *s = luaL_checklstring(L, 1, &n), *name = luaL_checklstring(L, 2, &nl);
    const char *p = s, *end = s + n;

    while (p < end) {
        const char *semi, *e;
        while (p < end && (*p == ' ' || *p == '\t' || *p == ';'))
            p++;
        semi = memchr(p, ';', (size_t)(end - p));
        e = semi ? semi : end;
        if ((size_t)(e - p) > nl && !memcmp(p, name, nl) && p[nl] == '=') {
            const char *v = p + nl + 1;
            if (e - v >= 2 && *v == '"' && e[-1] == '"') {
                v++;
                e--;
            }
            lua_pushlstring(L, v, (size_t)(e - v));
            return 1;
        }
        p = e;
    }
    lua_pushnil(L);
    return 1;
}

static int get_mime_type(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    kite__lua_run_t *r = *(kite__lua_pt_t **)lua_getextraspace(L)
                             ? (*(kite__lua_pt_t **)lua_getextraspace(L))->cur
                             : NULL;
    const kite_pvo_t *extra = r && r->t && r->t->mrt ? r->t->mrt->m->extra_mimetypes : NULL;
    const char *m = kite__mime_type(s, n, extra);

    lua_pushstring(L, m ? m : "text/plain");
    return 1;
}

void kite__lua_mg_pure(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"url_encode", url_encode},
        {"url_decode", url_decode},
        {"base64_encode", base64_encode},
        {"base64_decode", base64_decode},
        {"md5", md5},
        {"get_var", get_var},
        {"get_cookie", get_cookie},
        {"get_mime_type", get_mime_type},
        {NULL, NULL},
    };

    luaL_setfuncs(L, fns, 0);
    lua_pushliteral(L, "kite " KITE_VERSION_STRING);
    lua_setfield(L, -2, "version");
}
