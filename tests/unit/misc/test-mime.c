/*
 * Unit tests for lib/misc/mime.c: the built-in table is sorted and covers
 * the extensions a static server meets, text types carry the UTF-8
 * charset, lookups ignore case and path components, and a mount's extra
 * list overrides the table.
 */
#include "misc/mime.c"
#include "misc/path.c"
#include "tap.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *mime(const char *name, const kite_pvo_t *extra)
{
    return kite__mime_type(name, strlen(name), extra);
}

static void test_table_shape(void)
{
    static const char *const required[] = {
        "html",     "htm",  "css",   "js",     "mjs",   "json",   "xml",  "txt",      "md",
        "csv",      "png",  "jpg",   "jpeg",   "gif",   "webp",   "svg",  "ico",      "bmp",
        "avif",     "woff", "woff2", "ttf",    "otf",   "eot",    "pdf",  "zip",      "gz",
        "tgz",      "tar",  "bz2",   "xz",     "7z",    "wasm",   "mp3",  "ogg",      "oga",
        "wav",      "flac", "mp4",   "webm",   "ogv",   "mkv",    "mov",  "avi",      "m3u8",
        "ts",       "mpd",  "map",   "jsonld", "xhtml", "rss",    "atom", "manifest", "webmanifest",
        "appcache", "doc",  "docx",  "xls",    "xlsx",  "ppt",    "pptx", "odt",      "rtf",
        "sh",       "pl",   "py",    "lua",    "c",     "h",      "cpp",  "java",     "jar",
        "apk",      "exe",  "bin",   "iso",    "dmg",   "deb",    "rpm",  "swf",      "eps",
        "ps",       "tif",  "tiff",  "psd",    "sql",   "sqlite", "yaml", "yml",      "toml",
        "ini",      "conf", "log",   "lp",     "lsp",   "cgi",
    };
    size_t i, n = NELEM(mime_table);
    int sorted = 1, charset_ok = 1;

    for (i = 1; i < n; i++) {
        if (strcmp(mime_table[i - 1].ext, mime_table[i].ext) >= 0) {
            printf("# out of order: %s before %s\n", mime_table[i - 1].ext, mime_table[i].ext);
            sorted = 0;
        }
    }
    tap_ok(sorted, "the table is strictly sorted (%zu entries)", n);

    for (i = 0; i < n; i++) {
        const char *t = mime_table[i].type, *semi = strchr(t, ';');
        size_t base = semi ? (size_t)(semi - t) : strlen(t);
        int textual = !strncmp(t, "text/", 5) ||
                      (base == 22 && !strncmp(t, "application/javascript", base)) ||
                      (base == 16 && !strncmp(t, "application/json", base));
        int lower = 1;
        const char *p;

        for (p = mime_table[i].ext; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                lower = 0;
        if (!lower || strlen(mime_table[i].ext) > EXT_MAX ||
            (textual ? !semi || strcmp(semi, UTF8) : semi != NULL)) {
            printf("# bad entry: %s -> %s\n", mime_table[i].ext, t);
            charset_ok = 0;
        }
    }
    tap_ok(charset_ok, "lowercase keys; charset exactly on text, JSON and JavaScript types");

    for (i = 0; i < NELEM(required); i++)
        tap_ok(bsearch(required[i], mime_table, n, sizeof(mime_table[0]), compare_entry) != NULL,
               "table has .%s", required[i]);
}

static void test_lookup(void)
{
    static const struct {
        const char *name, *type;
    } vectors[] = {
        {"index.html", "text/html; charset=utf-8"},
        {"/var/www/INDEX.HTML", "text/html; charset=utf-8"},
        {"a.HtM", "text/html; charset=utf-8"},
        {"style.css", "text/css; charset=utf-8"},
        {"app.js", "application/javascript; charset=utf-8"},
        {"mod.mjs", "application/javascript; charset=utf-8"},
        {"data.json", "application/json; charset=utf-8"},
        {"app.js.map", "application/json; charset=utf-8"},
        {"feed.xml", "text/xml; charset=utf-8"},
        {"notes.txt", "text/plain; charset=utf-8"},
        {"logo.png", "image/png"},
        {"photo.JPG", "image/jpeg"},
        {"photo.jpeg", "image/jpeg"},
        {"icon.svg", "image/svg+xml"},
        {"favicon.ico", "image/x-icon"},
        {"font.woff2", "font/woff2"},
        {"doc.pdf", "application/pdf"},
        {"a.tar.gz", "application/gzip"},
        {"a.7z", "application/x-7z-compressed"},
        {"m.wasm", "application/wasm"},
        {"song.mp3", "audio/mpeg"},
        {"clip.webm", "video/webm"},
        {"live.m3u8", "application/vnd.apple.mpegurl"},
        {"seg.ts", "video/mp2t"},
        {"site.webmanifest", "application/manifest+json"},
        {"x.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
        {"conf.yml", "application/yaml"},
        {"hello.c", "text/x-c; charset=utf-8"},
        {"script.cgi", "application/octet-stream"},
        {"page.lp", "application/octet-stream"},
        {"page.lsp", "application/octet-stream"},
        {"unknown.qqq", "application/octet-stream"},
        {"noext", "application/octet-stream"},
        {"", "application/octet-stream"},
        {"trailing.", "application/octet-stream"},
        {".", "application/octet-stream"},
        {".htaccess", "application/octet-stream"},
        {"/dir/.html", "application/octet-stream"},
        {"/dir.html/file", "application/octet-stream"},
        {"/dir.d/file.css", "text/css; charset=utf-8"},
        {"a..css", "text/css; charset=utf-8"},
        {"x.averyveryverylongextension", "application/octet-stream"},
        {"x.htmlx", "application/octet-stream"},
        {"x.htm l", "application/octet-stream"},
    };
    size_t i;

    for (i = 0; i < NELEM(vectors); i++)
        tap_is_str(mime(vectors[i].name, NULL), vectors[i].type, "mime(\"%s\")", vectors[i].name);

    /* Only @len bytes count, and an embedded NUL is not the end of the name. */
    tap_is_str(kite__mime_type("a.html.png", 6, NULL), "text/html; charset=utf-8",
               "only len bytes are looked at");
    tap_is_str(kite__mime_type("a.html\0.exe", 11, NULL), "application/octet-stream",
               "an embedded NUL in the extension");
    tap_is_str(kite__mime_type("a.htm\0", 6, NULL), "application/octet-stream",
               "a trailing NUL in the extension");
}

static void test_extra(void)
{
    kite_pvo_t skip = {NULL, NULL, "skip", NULL};
    kite_pvo_t tgz = {&skip, NULL, ".tar.gz", "application/x-gtar"};
    kite_pvo_t html = {&tgz, NULL, "html", "text/html; charset=iso-8859-1"};
    kite_pvo_t upper = {&html, NULL, ".FOO", "application/x-foo"};
    kite_pvo_t empty = {&upper, NULL, ".", "application/x-empty"};
    kite_pvo_t noname = {&empty, NULL, NULL, "application/x-noname"};
    kite_pvo_t lp = {&noname, NULL, ".lp", "text/html"};
    const kite_pvo_t *extra = &lp;
    static const struct {
        const char *name, *type;
    } vectors[] = {
        {"x.foo", "application/x-foo"},
        {"x.FoO", "application/x-foo"},
        {"index.html", "text/html; charset=iso-8859-1"},
        {"INDEX.HTML", "text/html; charset=iso-8859-1"},
        {"a.tar.gz", "application/x-gtar"},
        {"a.TAR.GZ", "application/x-gtar"},
        {"a.gz", "application/gzip"},
        {"tar.gz", "application/gzip"},
        {"/d/.tar.gz", "application/gzip"},
        {"page.lp", "text/html"},
        {"x.skip", "application/octet-stream"},
        {"x.", "application/octet-stream"},
        {"x.xfoo", "application/octet-stream"},
        {"style.css", "text/css; charset=utf-8"},
        {"foo", "application/octet-stream"},
        {".foo", "application/octet-stream"},
    };
    size_t i;

    for (i = 0; i < NELEM(vectors); i++)
        tap_is_str(mime(vectors[i].name, extra), vectors[i].type, "extra: mime(\"%s\")",
                   vectors[i].name);
}

/* kite__mime_known: NULL for a name nobody knows, unless "*" names a type. */
static void test_known(void)
{
    static const kite_pvo_t star_none = {.name = "*", .value = ""};
    static const kite_pvo_t star = {.name = "*", .value = "text/x-any"};
    static const kite_pvo_t zork = {.next = &star, .name = ".zork", .value = "app/zork"};

    tap_ok(!kite__mime_known("README", 6, NULL), "known: a suffix-less name has no type");
    tap_ok(!kite__mime_known("a.weird", 7, NULL), "known: an unknown suffix has no type");
    tap_is_str(kite__mime_known("a.css", 5, NULL), "text/css; charset=utf-8",
               "known: the table's types");
    tap_is_str(kite__mime_known("README", 6, &star_none), "", "known: \"*\": \"\" is no type");
    tap_is_str(kite__mime_known("a.weird", 7, &zork), "text/x-any", "known: \"*\" for the rest");
    tap_is_str(kite__mime_known("a.zork", 6, &zork), "app/zork", "known: an entry before \"*\"");
    tap_is_str(kite__mime_known("a.png", 5, &zork), "image/png", "known: the table before \"*\"");
    tap_is_str(kite__mime_type("README", 6, NULL), "application/octet-stream",
               "mime_type: octet-stream for the unknown");
}

int main(void)
{
    test_table_shape();
    test_lookup();
    test_extra();
    test_known();
    return tap_done();
}
