/*
 * Unit tests for lib/lua/lsp.c: Lua server pages translated to Lua, then
 * run with an mg.write that collects the output, which must be the page
 * as LibHTTP renders it; "?>" inside strings and long comments, <?xml,
 * bytes that need escaping, an unterminated block, and error line
 * numbers that are the page's own.
 */
#include "lua/lsp.c"
#include "tap.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char env_src[] =
    "out = {}\n"
    "return {mg = {write = function(...) for i = 1, select('#', ...) do out[#out + 1] = "
    "tostring((select(i, ...))) end end}, tostring = tostring, error = error, string = string}";

/* Run @page; the output (or the error) into @buf. 0 ran, 1 failed. */
static int run(lua_State *L, const char *page, char *buf, size_t cap)
{
    size_t n;
    char *src = kite__lua_lsp_translate(page, strlen(page), &n);
    int r;

    lua_settop(L, 0);
    if (!src) {
        snprintf(buf, cap, "no translation");
        return 1;
    }
    r = luaL_loadbuffer(L, src, n, "=page");
    free(src);
    if (r == LUA_OK && luaL_dostring(L, env_src) == LUA_OK)
        r = lua_pcall(L, 1, 0, 0);
    else
        r = 1;
    if (r != LUA_OK) {
        snprintf(buf, cap, "%s", lua_tostring(L, -1));
        return 1;
    }
    if (luaL_dostring(L, "return table.concat(out)") != LUA_OK)
        return 1;
    snprintf(buf, cap, "%s", lua_tostring(L, -1));
    return 0;
}

static void test_pages(lua_State *L)
{
    static const struct {
        const char *page, *want;
    } v[] = {
        {"plain text", "plain text"},
        {"", ""},
        {"a<?= 1 + 1 ?>b", "a2b"},
        {"<?= 1, nil, true ?>|<? function two() return 'x', 'y' end ?><?= two() ?>", "1niltrue|xy"},
        {"<? x = 'v' ?>[<?= x ?>]", "[v]"},
        {"<?lua x = 'k' ?>[<?lua= x ?>]<?lua\nx = 'n' ?><?lua=x?>", "[k]n"},
        {"<% x = 'p %' %>[<%= x %>]<% y = '?>' %><%= y %>", "[p %]?>"},
        {"<?luax = 1 ?><?= luax ?>", "1"},
        {"<? for i = 1, 3 do ?><i><?= i ?></i><? end ?>", "<i>1</i><i>2</i><i>3</i>"},
        {"<? x = \"?>\" ?><?= x ?>", "?>"},
        {"<? x = 'a?>b' ?><?= x ?>", "a?>b"},
        {"<? x = \"q\\\"?>\" ?><?= x ?>", "q\"?>"},
        {"<? x = [[?>]] ?><?= x ?>", "?>"},
        {"<? x = [==[ ]] ?> ]==] ?><?= x ?>", " ]] ?> "},
        {"<? --[[ ?> ]] x = 1 ?><?= x ?>", "1"},
        {"<? x = 2 -- a line comment ?>t<?= x ?>", "t2"},
        {"<?= 'a' .. 'b' -- comment ?>", "ab"},
        {"<?xml version=\"1.0\"?><r/>", "<?xml version=\"1.0\"?><r/>"},
        {"quote \" backslash \\ tab\t cr\r nul-free \x01\x7f",
         "quote \" backslash \\ tab\t cr\r nul-free \x01\x7f"},
        {"line1\nline2\n<?= 'x' ?>\n", "line1\nline2\nx\n"},
        {"a < b ? c : d <?= 1 ?>", "a < b ? c : d 1"},
        {"<? x = 1", ""},
        {"<?", ""},
        {"end <", "end <"},
    };
    char buf[256];
    size_t i;

    for (i = 0; i < NELEM(v); i++) {
        int r = run(L, v[i].page, buf, sizeof(buf));
        tap_ok(r == 0 && !strcmp(buf, v[i].want), "page %zu renders as LibHTTP does (%s)", i,
               r ? buf : "ok");
    }
}

static void test_lines(lua_State *L)
{
    char buf[256];

    run(L, "a\nb <?= 1 ?>\n\"q\"\n<? error('boom') ?>", buf, sizeof(buf));
    tap_ok(strstr(buf, "page:4: boom") != NULL, "an error names the page's line (%s)", buf);
    run(L, "<?\n\nlocal x = nil\nx.y = 1 ?>", buf, sizeof(buf));
    tap_ok(strstr(buf, "page:4:") != NULL, "a line inside a block (%s)", buf);
    run(L, "<? if then ?>", buf, sizeof(buf));
    tap_ok(strstr(buf, "page:1:") != NULL, "a syntax error (%s)", buf);
}

int main(void)
{
    lua_State *L = luaL_newstate();

    luaL_openlibs(L);
    test_pages(L);
    test_lines(L);
    lua_close(L);
    return tap_done();
}
