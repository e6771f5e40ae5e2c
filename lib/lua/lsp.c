/*
 * Lua server pages to Lua source. Text becomes mg.write("...") calls,
 * `<? code ?>` is copied as it is and `<?= expr ?>` becomes
 * mg.write(expr), as in LibHTTP (every value of it written, as
 * tostring() would); all blocks of a page share one chunk, so one
 * environment. A block ends at the first `?>` that is not inside a Lua
 * string or long comment (a line comment ends there too, as in PHP).
 * Every newline of the page stays a newline of the source, so errors
 * name the page's own line numbers. `<?xml` is text. civetweb's Kepler
 * forms are blocks too: `<?lua code ?>`, `<?lua= expr ?>`, `<% code %>`
 * and `<%= expr %>` (a `<%` block ends at `%>`).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lua/private-lua.h"

struct out {
    char *p;
    size_t len, cap;
    int fail;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->fail)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 1024;
        char *p;
        while (cap < o->len + n + 1)
            cap *= 2;
        if (!(p = realloc(o->p, cap))) {
            o->fail = 1;
            return;
        }
        o->p = p;
        o->cap = cap;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

#define PUTS(o, s) put(o, s, sizeof(s) - 1)

/* Page text as a Lua string literal; a newline stays a line of the
 * source ("\" before a real newline is a newline in the string). */
static void put_text(struct out *o, const char *s, size_t n)
{
    size_t i;
    char esc[8];

    if (!n)
        return;
    PUTS(o, "mg.write(\"");
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\n') {
            PUTS(o, "\\\n");
        } else if (ch == '"' || ch == '\\') {
            esc[0] = '\\';
            esc[1] = (char)ch;
            put(o, esc, 2);
        } else if (ch < 0x20 || ch == 0x7f) {
            esc[0] = '\\';
            esc[1] = (char)('0' + ch / 100);
            esc[2] = (char)('0' + ch / 10 % 10);
            esc[3] = (char)('0' + ch % 10);
            put(o, esc, 4);
        } else {
            put(o, s + i, 1);
        }
    }
    PUTS(o, "\") ");
}

/* At s[p] == '[': the level of a long bracket "[==[" or -1; *open its length. */
static int long_open(const char *s, size_t len, size_t p, size_t *open)
{
    size_t q = p + 1;

    while (q < len && s[q] == '=')
        q++;
    if (q >= len || s[q] != '[')
        return -1;
    *open = q + 1 - p;
    return (int)(q - p - 1);
}

/* Past the long bracket of @level that closes at or after @p. */
static size_t long_close(const char *s, size_t len, size_t p, int level)
{
    size_t i;

    for (; p < len; p++) {
        if (s[p] != ']')
            continue;
        for (i = 1; i <= (size_t)level && p + i < len && s[p + i] == '='; i++)
            ;
        if (i == (size_t)level + 1 && p + i < len && s[p + i] == ']')
            return p + i + 1;
    }
    return len;
}

/* Where the block starting at @p ends (its "?>" or "%>" by @mark, or
 * @len); *cut is where a line comment that the "?>" ends began, else the
 * same as the end. */
static size_t block_end(const char *s, size_t len, size_t p, size_t *cut, char mark)
{
    size_t open;
    int lvl;

    while (p < len) {
        char ch = s[p];
        if (ch == mark && p + 1 < len && s[p + 1] == '>') {
            *cut = p;
            return p;
        }
        if (ch == '"' || ch == '\'') {
            for (p++; p < len && s[p] != ch && s[p] != '\n'; p++)
                if (s[p] == '\\')
                    p++;
            p++;
        } else if (ch == '[' && (lvl = long_open(s, len, p, &open)) >= 0) {
            p = long_close(s, len, p + open, lvl);
        } else if (ch == '-' && p + 1 < len && s[p + 1] == '-') {
            size_t start = p;
            p += 2;
            if (p < len && s[p] == '[' && (lvl = long_open(s, len, p, &open)) >= 0) {
                p = long_close(s, len, p + open, lvl);
                continue;
            }
            for (; p < len && s[p] != '\n'; p++)
                if (s[p] == mark && p + 1 < len && s[p + 1] == '>') {
                    *cut = start;
                    return p;
                }
        } else {
            p++;
        }
    }
    *cut = len;
    return len;
}

char *kite__lua_lsp_translate(const char *s, size_t len, size_t *out_len)
{
    struct out o = {0};
    size_t i = 0, j, e, cut;
    char mark;

    PUTS(&o, "local _ENV = ...; ");
    while (i < len) {
        const char *q = s + i;
        for (j = i; (q = memchr(q, '<', len - (size_t)(q - s))); q++) {
            j = (size_t)(q - s);
            if (j + 1 < len &&
                ((s[j + 1] == '?' && (j + 4 >= len || strncmp(s + j + 2, "xml", 3))) ||
                 s[j + 1] == '%'))
                break;
        }
        if (!q) {
            put_text(&o, s + i, len - i);
            break;
        }
        put_text(&o, s + i, j - i);
        mark = s[j + 1];
        j += 2;
        /* civetweb's Kepler forms: <?lua code ?>, <?lua= expr ?>. */
        if (mark == '?' && j + 3 < len && !strncmp(s + j, "lua", 3) &&
            (s[j + 3] == '=' || isspace((unsigned char)s[j + 3])))
            j += 3;
        if (j < len && s[j] == '=') {
            e = block_end(s, len, j + 1, &cut, mark);
            PUTS(&o, "mg.write(");
            put(&o, s + j + 1, cut - j - 1);
            PUTS(&o, ") ");
        } else {
            e = block_end(s, len, j, &cut, mark);
            put(&o, s + j, cut - j);
            PUTS(&o, " ");
        }
        i = e + 2;
    }
    if (o.fail) {
        free(o.p);
        return NULL;
    }
    *out_len = o.len;
    return o.p;
}
