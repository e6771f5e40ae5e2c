/*
 * sqlite3 for pages: the part of LuaSQLite3's API (lsqlite3, which the
 * LibHTTP manual names and civetweb builds in) that pages use, over
 * Debian's libsqlite3: sqlite3.open, open_memory, version and the result
 * codes; db:exec, prepare, rows, nrows, urows, close, errcode, errmsg,
 * changes, last_insert_rowid, busy_timeout; stmt:step, get_values,
 * get_value, get_named_values, get_names, columns, bind, bind_values,
 * bind_names, reset, finalize and the row iterators. Debian ships no
 * lsqlite3 for Lua 5.4.
 *
 * The database is on local disk and sqlite's calls are synchronous, so
 * they are bounded instead of made non-blocking: a busy database answers
 * BUSY at once (busy_timeout is capped at BUSY_MAX_MS), and a statement
 * is interrupted after PROGRESS_MAX virtual machine steps of sqlite's.
 */
#include <sqlite3.h>
#include <string.h>

#include "lua/private-lua.h"

#define DB_META      "kite.sqlite3.db"
#define STMT_META    "kite.sqlite3.stmt"
#define BUSY_MAX_MS  100
#define PROGRESS_N   1000
#define PROGRESS_MAX 10000 /* times PROGRESS_N steps per call */

typedef struct {
    sqlite3 *db;
    unsigned progress;
} db_t;

typedef struct {
    sqlite3_stmt *st;
    db_t *db;
} stmt_t;

static int progress(void *ud)
{
    db_t *d = ud;

    return ++d->progress > PROGRESS_MAX;
}

static db_t *check_db(lua_State *L, int i)
{
    db_t *d = luaL_checkudata(L, i, DB_META);

    if (!d->db)
        luaL_error(L, "the database is closed");
    d->progress = 0;
    return d;
}

static stmt_t *check_stmt(lua_State *L, int i)
{
    stmt_t *s = luaL_checkudata(L, i, STMT_META);

    if (!s->st)
        luaL_error(L, "the statement is finalized");
    s->db->progress = 0;
    return s;
}

static int l_open(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    int flags = (int)luaL_optinteger(L, 2, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE), rc;
    db_t *d = lua_newuserdatauv(L, sizeof(*d), 0);

    d->db = NULL;
    d->progress = 0;
    luaL_setmetatable(L, DB_META);
    if ((rc = sqlite3_open_v2(name, &d->db, flags, NULL)) != SQLITE_OK) {
        lua_pushnil(L);
        lua_pushinteger(L, rc);
        lua_pushstring(L, d->db ? sqlite3_errmsg(d->db) : sqlite3_errstr(rc));
        sqlite3_close(d->db);
        d->db = NULL;
        return 3;
    }
    sqlite3_progress_handler(d->db, PROGRESS_N, progress, d);
    return 1;
}

static int l_open_memory(lua_State *L)
{
    lua_settop(L, 0);
    lua_pushliteral(L, ":memory:");
    return l_open(L);
}

static int l_version(lua_State *L)
{
    lua_pushstring(L, sqlite3_libversion());
    return 1;
}

static int db_close(lua_State *L)
{
    db_t *d = luaL_checkudata(L, 1, DB_META);
    int rc = SQLITE_OK;

    /* close_v2: statements not yet finalized keep the handle alive. */
    if (d->db)
        rc = sqlite3_close_v2(d->db);
    d->db = NULL;
    lua_pushinteger(L, rc);
    return 1;
}

static int db_isopen(lua_State *L)
{
    lua_pushboolean(L, ((db_t *)luaL_checkudata(L, 1, DB_META))->db != NULL);
    return 1;
}

static int db_errcode(lua_State *L)
{
    lua_pushinteger(L, sqlite3_errcode(check_db(L, 1)->db));
    return 1;
}

static int db_errmsg(lua_State *L)
{
    lua_pushstring(L, sqlite3_errmsg(check_db(L, 1)->db));
    return 1;
}

static int db_changes(lua_State *L)
{
    lua_pushinteger(L, sqlite3_changes(check_db(L, 1)->db));
    return 1;
}

static int db_rowid(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)sqlite3_last_insert_rowid(check_db(L, 1)->db));
    return 1;
}

static int db_busy_timeout(lua_State *L)
{
    lua_Integer ms = luaL_checkinteger(L, 2);

    ms = ms < 0 ? 0 : ms > BUSY_MAX_MS ? BUSY_MAX_MS : ms;
    lua_pushinteger(L, sqlite3_busy_timeout(check_db(L, 1)->db, (int)ms));
    return 1;
}

static void push_column(lua_State *L, sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        lua_pushinteger(L, (lua_Integer)sqlite3_column_int64(st, i));
        break;
    case SQLITE_FLOAT:
        lua_pushnumber(L, sqlite3_column_double(st, i));
        break;
    case SQLITE_TEXT:
    case SQLITE_BLOB: {
        const void *p = sqlite3_column_blob(st, i);
        lua_pushlstring(L, p ? p : "", (size_t)sqlite3_column_bytes(st, i));
        break;
    }
    default:
        lua_pushnil(L);
    }
}

/* The current row: an array (1-based), or by column name. */
static void push_row(lua_State *L, sqlite3_stmt *st, int named)
{
    int i, n = sqlite3_column_count(st);

    lua_createtable(L, named ? 0 : n, named ? n : 0);
    for (i = 0; i < n; i++) {
        push_column(L, st, i);
        if (named)
            lua_setfield(L, -2, sqlite3_column_name(st, i));
        else
            lua_rawseti(L, -2, i + 1);
    }
}

static int db_prepare(lua_State *L)
{
    db_t *d = check_db(L, 1);
    size_t n;
    const char *sql = luaL_checklstring(L, 2, &n);
    stmt_t *s = lua_newuserdatauv(L, sizeof(*s), 1);
    int rc;

    s->st = NULL;
    s->db = d;
    luaL_setmetatable(L, STMT_META);
    lua_pushvalue(L, 1); /* the statement keeps its database */
    lua_setiuservalue(L, -2, 1);
    if ((rc = sqlite3_prepare_v2(d->db, sql, (int)n, &s->st, NULL)) != SQLITE_OK || !s->st) {
        lua_pushnil(L);
        lua_pushinteger(L, rc == SQLITE_OK ? SQLITE_MISUSE : rc);
        lua_pushstring(L, rc == SQLITE_OK ? "no statement in the SQL" : sqlite3_errmsg(d->db));
        return 3;
    }
    return 1;
}

static int exec_row(void *ud, int n, char **vals, char **names)
{
    lua_State *L = ud;
    int i, stop;

    lua_pushvalue(L, 3);
    lua_pushvalue(L, 4);
    lua_pushinteger(L, n);
    lua_createtable(L, n, 0);
    lua_createtable(L, n, 0);
    for (i = 0; i < n; i++) {
        if (vals[i])
            lua_pushstring(L, vals[i]);
        else
            lua_pushnil(L);
        lua_rawseti(L, -3, i + 1);
        lua_pushstring(L, names[i]);
        lua_rawseti(L, -2, i + 1);
    }
    /* An error must not unwind through sqlite: kept, raised after it. */
    if (lua_pcall(L, 4, 1, 0) != LUA_OK) {
        lua_replace(L, 5);
        return 1;
    }
    stop = lua_isinteger(L, -1) && lua_tointeger(L, -1) != 0;
    lua_pop(L, 1);
    return stop;
}

/* db:exec(sql [, fn(udata, ncols, values, names) [, udata]]): a code. */
static int db_exec(lua_State *L)
{
    db_t *d = check_db(L, 1);
    const char *sql = luaL_checkstring(L, 2);
    int fn = !lua_isnoneornil(L, 3), rc;

    if (fn)
        luaL_checktype(L, 3, LUA_TFUNCTION);
    lua_settop(L, 4);
    lua_pushnil(L); /* 5: an error of the callback */
    rc = sqlite3_exec(d->db, sql, fn ? exec_row : NULL, L, NULL);
    if (!lua_isnil(L, 5))
        return lua_error(L);
    lua_pushinteger(L, rc);
    return 1;
}

/* The iterators of db:rows/nrows/urows and stmt:rows/nrows/urows:
 * upvalue 1 the statement, 2 the mode, 3 finalize at the end. */
static int rows_next(lua_State *L)
{
    stmt_t *s = lua_touserdata(L, lua_upvalueindex(1));
    int mode = (int)lua_tointeger(L, lua_upvalueindex(2)), rc, i, n;

    if (!s->st)
        return 0;
    s->db->progress = 0;
    rc = sqlite3_step(s->st);
    if (rc != SQLITE_ROW) {
        if (lua_toboolean(L, lua_upvalueindex(3))) {
            sqlite3_finalize(s->st);
            s->st = NULL;
        }
        if (rc != SQLITE_DONE)
            return luaL_error(L, "sqlite3: %s", sqlite3_errstr(rc));
        return 0;
    }
    if (mode < 2) {
        push_row(L, s->st, mode);
        return 1;
    }
    n = sqlite3_column_count(s->st);
    luaL_checkstack(L, n, "too many columns");
    for (i = 0; i < n; i++)
        push_column(L, s->st, i);
    return n;
}

static int push_rows(lua_State *L, int idx, int mode, int fin)
{
    lua_pushvalue(L, idx);
    lua_pushinteger(L, mode);
    lua_pushboolean(L, fin);
    lua_pushcclosure(L, rows_next, 3);
    return 1;
}

static int db_rows_mode(lua_State *L, int mode)
{
    int top;

    lua_settop(L, 2);
    db_prepare(L);
    top = lua_gettop(L);
    if (lua_isnil(L, top - 2))
        return luaL_error(L, "sqlite3: %s", lua_tostring(L, top));
    return push_rows(L, 3, mode, 1);
}

static int db_rows(lua_State *L)
{
    return db_rows_mode(L, 0);
}

static int db_nrows(lua_State *L)
{
    return db_rows_mode(L, 1);
}

static int db_urows(lua_State *L)
{
    return db_rows_mode(L, 2);
}

static int st_rows(lua_State *L)
{
    check_stmt(L, 1);
    return push_rows(L, 1, 0, 0);
}

static int st_nrows(lua_State *L)
{
    check_stmt(L, 1);
    return push_rows(L, 1, 1, 0);
}

static int st_urows(lua_State *L)
{
    check_stmt(L, 1);
    return push_rows(L, 1, 2, 0);
}

static int st_step(lua_State *L)
{
    lua_pushinteger(L, sqlite3_step(check_stmt(L, 1)->st));
    return 1;
}

static int st_reset(lua_State *L)
{
    lua_pushinteger(L, sqlite3_reset(check_stmt(L, 1)->st));
    return 1;
}

static int st_finalize(lua_State *L)
{
    stmt_t *s = luaL_checkudata(L, 1, STMT_META);
    int rc = s->st ? sqlite3_finalize(s->st) : SQLITE_OK;

    s->st = NULL;
    lua_pushinteger(L, rc);
    return 1;
}

static int st_isopen(lua_State *L)
{
    lua_pushboolean(L, ((stmt_t *)luaL_checkudata(L, 1, STMT_META))->st != NULL);
    return 1;
}

static int st_columns(lua_State *L)
{
    lua_pushinteger(L, sqlite3_column_count(check_stmt(L, 1)->st));
    return 1;
}

static int st_get_values(lua_State *L)
{
    push_row(L, check_stmt(L, 1)->st, 0);
    return 1;
}

static int st_get_named_values(lua_State *L)
{
    push_row(L, check_stmt(L, 1)->st, 1);
    return 1;
}

/* lsqlite3 counts columns from 0 here. */
static int st_get_value(lua_State *L)
{
    stmt_t *s = check_stmt(L, 1);
    lua_Integer i = luaL_checkinteger(L, 2);

    luaL_argcheck(L, i >= 0 && i < sqlite3_column_count(s->st), 2, "no such column");
    push_column(L, s->st, (int)i);
    return 1;
}

static int st_get_names(lua_State *L)
{
    sqlite3_stmt *st = check_stmt(L, 1)->st;
    int i, n = sqlite3_column_count(st);

    lua_createtable(L, n, 0);
    for (i = 0; i < n; i++) {
        lua_pushstring(L, sqlite3_column_name(st, i));
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int bind_one(lua_State *L, sqlite3_stmt *st, int i, int v)
{
    size_t n;
    const char *s;

    switch (lua_type(L, v)) {
    case LUA_TNONE:
    case LUA_TNIL:
        return sqlite3_bind_null(st, i);
    case LUA_TBOOLEAN:
        return sqlite3_bind_int(st, i, lua_toboolean(L, v));
    case LUA_TNUMBER:
        if (lua_isinteger(L, v))
            return sqlite3_bind_int64(st, i, (sqlite3_int64)lua_tointeger(L, v));
        return sqlite3_bind_double(st, i, lua_tonumber(L, v));
    case LUA_TSTRING:
        s = lua_tolstring(L, v, &n);
        return sqlite3_bind_text64(st, i, s, n, SQLITE_TRANSIENT, SQLITE_UTF8);
    default:
        return luaL_error(L, "sqlite3: cannot bind a %s", luaL_typename(L, v));
    }
}

static int st_bind(lua_State *L)
{
    stmt_t *s = check_stmt(L, 1);

    lua_pushinteger(L, bind_one(L, s->st, (int)luaL_checkinteger(L, 2), 3));
    return 1;
}

static int st_bind_values(lua_State *L)
{
    stmt_t *s = check_stmt(L, 1);
    int i, n = lua_gettop(L) - 1, rc = SQLITE_OK;

    if (n != sqlite3_bind_parameter_count(s->st))
        return luaL_error(L, "sqlite3: %d values for %d parameters", n,
                          sqlite3_bind_parameter_count(s->st));
    for (i = 1; i <= n && rc == SQLITE_OK; i++)
        rc = bind_one(L, s->st, i, i + 1);
    lua_pushinteger(L, rc);
    return 1;
}

/* stmt:bind_names{name = value}: ":name", "@name", "$name" or "?n". */
static int st_bind_names(lua_State *L)
{
    stmt_t *s = check_stmt(L, 1);
    int i, n = sqlite3_bind_parameter_count(s->st), rc = SQLITE_OK;

    luaL_checktype(L, 2, LUA_TTABLE);
    for (i = 1; i <= n && rc == SQLITE_OK; i++) {
        const char *name = sqlite3_bind_parameter_name(s->st, i);
        if (name && *name != '?')
            lua_getfield(L, 2, name + 1);
        else
            lua_rawgeti(L, 2, i);
        rc = bind_one(L, s->st, i, lua_gettop(L));
        lua_pop(L, 1);
    }
    lua_pushinteger(L, rc);
    return 1;
}

static const luaL_Reg db_fns[] = {
    {"close", db_close},
    {"isopen", db_isopen},
    {"errcode", db_errcode},
    {"error_code", db_errcode},
    {"errmsg", db_errmsg},
    {"error_message", db_errmsg},
    {"changes", db_changes},
    {"last_insert_rowid", db_rowid},
    {"busy_timeout", db_busy_timeout},
    {"prepare", db_prepare},
    {"exec", db_exec},
    {"rows", db_rows},
    {"nrows", db_nrows},
    {"urows", db_urows},
    {"__gc", db_close},
    {"__close", db_close},
    {NULL, NULL},
};

static const luaL_Reg stmt_fns[] = {
    {"step", st_step},
    {"reset", st_reset},
    {"finalize", st_finalize},
    {"isopen", st_isopen},
    {"columns", st_columns},
    {"get_values", st_get_values},
    {"get_named_values", st_get_named_values},
    {"get_value", st_get_value},
    {"get_names", st_get_names},
    {"bind", st_bind},
    {"bind_values", st_bind_values},
    {"bind_names", st_bind_names},
    {"rows", st_rows},
    {"nrows", st_nrows},
    {"urows", st_urows},
    {"__gc", st_finalize},
    {"__close", st_finalize},
    {NULL, NULL},
};

static void new_meta(lua_State *L, const char *name, const luaL_Reg *fns)
{
    luaL_newmetatable(L, name);
    luaL_setfuncs(L, fns, 0);
    lua_pushvalue(L, -1);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}

int kite__lua_open_sqlite3(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"open", l_open},
        {"open_memory", l_open_memory},
        {"version", l_version},
        {NULL, NULL},
    };
    static const struct {
        const char *name;
        int v;
    } codes[] = {
        {"OK", SQLITE_OK},
        {"ERROR", SQLITE_ERROR},
        {"INTERNAL", SQLITE_INTERNAL},
        {"PERM", SQLITE_PERM},
        {"ABORT", SQLITE_ABORT},
        {"BUSY", SQLITE_BUSY},
        {"LOCKED", SQLITE_LOCKED},
        {"NOMEM", SQLITE_NOMEM},
        {"READONLY", SQLITE_READONLY},
        {"INTERRUPT", SQLITE_INTERRUPT},
        {"IOERR", SQLITE_IOERR},
        {"CORRUPT", SQLITE_CORRUPT},
        {"NOTFOUND", SQLITE_NOTFOUND},
        {"FULL", SQLITE_FULL},
        {"CANTOPEN", SQLITE_CANTOPEN},
        {"PROTOCOL", SQLITE_PROTOCOL},
        {"EMPTY", SQLITE_EMPTY},
        {"SCHEMA", SQLITE_SCHEMA},
        {"TOOBIG", SQLITE_TOOBIG},
        {"CONSTRAINT", SQLITE_CONSTRAINT},
        {"MISMATCH", SQLITE_MISMATCH},
        {"MISUSE", SQLITE_MISUSE},
        {"NOLFS", SQLITE_NOLFS},
        {"FORMAT", SQLITE_FORMAT},
        {"RANGE", SQLITE_RANGE},
        {"NOTADB", SQLITE_NOTADB},
        {"ROW", SQLITE_ROW},
        {"DONE", SQLITE_DONE},
        {"OPEN_READONLY", SQLITE_OPEN_READONLY},
        {"OPEN_READWRITE", SQLITE_OPEN_READWRITE},
        {"OPEN_CREATE", SQLITE_OPEN_CREATE},
    };
    size_t i;

    new_meta(L, DB_META, db_fns);
    new_meta(L, STMT_META, stmt_fns);
    luaL_newlib(L, fns);
    for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        lua_pushinteger(L, codes[i].v);
        lua_setfield(L, -2, codes[i].name);
    }
    return 1;
}
