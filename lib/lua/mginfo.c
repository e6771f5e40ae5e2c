/*
 * civetweb's mg functions beyond the LibHTTP manual that tell things
 * rather than answer: mg.get_option (the LibHTTP option names, read from
 * the mount and the vhost kite serves the page with), mg.get_info (JSON,
 * as civetweb's), mg.get_response_code_text, mg.split_form_data (also
 * under the C name split_form_urlencoded), mg.time, mg.random, mg.uuid,
 * mg.cry and mg.system.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <time.h>

#include "lua/private-lua.h"

static kite__lua_run_t *req_run(lua_State *L)
{
    kite__lua_run_t *r = kite__lua_cur(L);

    if (!r->t || !r->c)
        luaL_error(L, "no request here");
    return r;
}

/* The LibHTTP options that are a string member of the mount. */
static const struct {
    const char *name;
    size_t off;
} mount_str[] = {
    {"index_files", offsetof(kite_mount_t, index_files)},
    {"hide_files_patterns", offsetof(kite_mount_t, hide_files)},
    {"ssi_pattern", offsetof(kite_mount_t, ssi_pattern)},
    {"cgi_pattern", offsetof(kite_mount_t, cgi_pattern)},
    {"cgi_interpreter", offsetof(kite_mount_t, cgi_interpreter)},
    {"lua_script_pattern", offsetof(kite_mount_t, lua_script_pattern)},
    {"lua_server_page_pattern", offsetof(kite_mount_t, lua_page_pattern)},
    {"lua_preload_file", offsetof(kite_mount_t, lua_preload)},
};

/* The others, by what they are made of (push_option). */
static const char *const other[] = {
    "document_root",        "authentication_domain", "listening_ports",
    "num_threads",          "enable_keep_alive",     "access_control_allow_origin",
    "put_delete_auth_file", "request_timeout_ms",    "enable_directory_listing",
    "static_file_max_age",  "websocket_root",
};

/* Push the LibHTTP option @name of @r's mount and vhost; 0 when kite has
 * no such option or it is not set. */
static int push_option(lua_State *L, const kite__lua_run_t *r, const char *name)
{
    const kite__mount_rt_t *mrt = r->t->mrt;
    const kite_mount_t *m = mrt ? mrt->m : NULL;
    const kite_vhost_t *vh = r->c->vh;
    const char *s = NULL;
    size_t i;

    if (!strcmp(name, "document_root"))
        s = mrt ? mrt->root : NULL;
    else if (!strcmp(name, "authentication_domain"))
        s = kite__http_auth_realm(vh);
    else if (!strcmp(name, "listening_ports"))
        return lua_pushfstring(L, "%d", kite_vhost_port(vh)), 1;
    else if (!strcmp(name, "num_threads"))
        return lua_pushfstring(L, "%d", vh->ctx->npts), 1;
    else if (!strcmp(name, "enable_keep_alive"))
        s = "yes";
    else if (!strcmp(name, "access_control_allow_origin"))
        s = kite__http_vh(vh)->cors_origin;
    else if (!strcmp(name, "put_delete_auth_file"))
        s = kite__http_vh(vh)->putdel;
    else if (!strcmp(name, "request_timeout_ms") && vh->request_ms)
        return lua_pushfstring(L, "%d", (int)vh->request_ms), 1;
    else if (!m)
        return 0;
    else if (!strcmp(name, "enable_directory_listing"))
        s = m->dir_listing ? "yes" : "no";
    else if (!strcmp(name, "static_file_max_age"))
        return lua_pushfstring(L, "%d", m->cache_max_age), 1;
    else if (!strcmp(name, "websocket_root"))
        s = m->lua_ws_root ? m->lua_ws_root : mrt->root;
    for (i = 0; !s && i < sizeof(mount_str) / sizeof(mount_str[0]); i++)
        if (!strcmp(name, mount_str[i].name))
            s = *(const char *const *)((const char *)m + mount_str[i].off);
    if (!s)
        return 0;
    lua_pushstring(L, s);
    return 1;
}

/* mg.get_option(name): its value or nil; mg.get_option(): all, a table. */
static int get_option(lua_State *L)
{
    kite__lua_run_t *r = req_run(L);
    size_t i;

    if (lua_gettop(L) >= 1) {
        if (!push_option(L, r, luaL_checkstring(L, 1)))
            lua_pushnil(L);
        return 1;
    }
    lua_newtable(L);
    for (i = 0; i < sizeof(other) / sizeof(other[0]); i++)
        if (push_option(L, r, other[i]))
            lua_setfield(L, -2, other[i]);
    for (i = 0; i < sizeof(mount_str) / sizeof(mount_str[0]); i++)
        if (push_option(L, r, mount_str[i].name))
            lua_setfield(L, -2, mount_str[i].name);
    return 1;
}

/* A JSON string of @s (names and versions: no control characters). */
static void push_json_str(lua_State *L, const char *s)
{
    luaL_Buffer b;

    luaL_buffinit(L, &b);
    luaL_addchar(&b, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            luaL_addchar(&b, '\\');
        if ((unsigned char)*s >= 0x20)
            luaL_addchar(&b, *s);
    }
    luaL_addchar(&b, '"');
    luaL_pushresult(&b);
}

/* mg.get_info("system" | "common" | "context" | "connection", n): JSON. */
static int get_info(lua_State *L)
{
    const char *what = luaL_checkstring(L, 1);
    kite__lua_pt_t *lp = *(kite__lua_pt_t **)lua_getextraspace(L);
    struct utsname u;

    if (!strcasecmp(what, "system") || !strcasecmp(what, "common")) {
        if (uname(&u) < 0)
            memset(&u, 0, sizeof(u));
        lua_pushliteral(L, "{\"version\": ");
        push_json_str(L, KITE_VERSION_STRING);
        lua_pushliteral(L, ", \"server\": \"kite\", \"os\": ");
        lua_pushfstring(L, "%s %s %s", u.sysname, u.release, u.machine);
        push_json_str(L, lua_tostring(L, -1));
        lua_remove(L, -2);
        lua_pushliteral(L, ", \"lua\": \"" LUA_RELEASE "\"}");
        lua_concat(L, 5);
        return 1;
    }
    if (!strcasecmp(what, "context")) {
        lua_pushfstring(L, "{\"threads\": %d, \"connections\": {\"thread\": %d}}",
                        lp->pt->ctx->npts, (int)lp->pt->nconns);
        return 1;
    }
    if (!strcasecmp(what, "connection")) {
        lua_pushliteral(L, ""); /* civetweb's, unless built experimental */
        return 1;
    }
    return 0;
}

/* The reason phrase of @status, else civetweb's text for its class. */
static int get_response_code_text(lua_State *L)
{
    static const char *const cls[] = {
        "", "Information", "Success", "Redirection", "Client Error", "Server Error"};
    lua_Integer n = luaL_checkinteger(L, 1);
    const char *t = n >= 100 && n <= 999 ? kite_http_status_text((int)n) : "";

    lua_pushstring(L, *t ? t : n >= 100 && n < 600 ? cls[n / 100] : "");
    return 1;
}

static int url_decode_form(lua_State *L, const char *s, size_t n)
{
    lua_getfield(L, lua_upvalueindex(1), "url_decode");
    lua_pushlstring(L, s, n);
    lua_pushboolean(L, 1);
    lua_call(L, 2, 1);
    return 1;
}

/* mg.split_form_data("a=1&b=2"): {{name = "a", value = "1"}, ...}, as
 * decoded form fields; a field without '=' has no value. Upvalue 1:
 * the mg functions (for url_decode). */
static int split_form_data(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n), *end = s + n;
    int i = 0;

    lua_newtable(L);
    while (s < end) {
        const char *amp = memchr(s, '&', (size_t)(end - s)), *e = amp ? amp : end;
        const char *eq = memchr(s, '=', (size_t)(e - s));
        if (e > s) {
            lua_createtable(L, 0, 2);
            url_decode_form(L, s, (size_t)((eq ? eq : e) - s));
            lua_setfield(L, -2, "name");
            if (eq) {
                url_decode_form(L, eq + 1, (size_t)(e - eq - 1));
                lua_setfield(L, -2, "value");
            }
            lua_rawseti(L, -2, ++i);
        }
        s = e + 1;
    }
    return 1;
}

/* mg.time([monotonic]): seconds, with the fraction. */
static int mg_time(lua_State *L)
{
    struct timespec ts;

    clock_gettime(lua_toboolean(L, 1) ? CLOCK_MONOTONIC : CLOCK_REALTIME, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
    return 1;
}

static void random_bytes(lua_State *L, void *p, size_t n)
{
    if (getrandom(p, n, GRND_NONBLOCK) != (ssize_t)n)
        luaL_error(L, "no random bytes");
}

/* mg.random(): a random integer of 53 bits, as a number (civetweb's). */
static int mg_random(lua_State *L)
{
    uint64_t v;

    random_bytes(L, &v, sizeof(v));
    lua_pushnumber(L, (lua_Number)(v & ((1ull << 53) - 1)));
    return 1;
}

/* mg.uuid(): a random (version 4) UUID. */
static int mg_uuid(lua_State *L)
{
    unsigned char u[16];
    char s[37];
    int i, o = 0;

    random_bytes(L, u, sizeof(u));
    u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
    u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
    for (i = 0; i < 16; i++) {
        o += snprintf(s + o, sizeof(s) - (size_t)o, "%02x", u[i]);
        if (i == 3 || i == 5 || i == 7 || i == 9)
            s[o++] = '-';
    }
    lua_pushlstring(L, s, 36);
    return 1;
}

static int mg_cry(lua_State *L)
{
    kite_err("lua: %s", luaL_checkstring(L, 1));
    return 0;
}

void kite__lua_mg_info(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"get_option", get_option},
        {"get_info", get_info},
        {"get_response_code_text", get_response_code_text},
        {"time", mg_time},
        {"random", mg_random},
        {"uuid", mg_uuid},
        {"cry", mg_cry},
        {NULL, NULL},
    };
    struct utsname u;

    luaL_setfuncs(L, fns, 0);
    lua_pushvalue(L, -1);
    lua_pushcclosure(L, split_form_data, 1);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "split_form_data");
    lua_setfield(L, -2, "split_form_urlencoded");
    lua_pushstring(L, uname(&u) == 0 ? u.sysname : "Linux");
    lua_setfield(L, -2, "system");
}
