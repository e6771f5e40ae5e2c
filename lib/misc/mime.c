/*
 * MIME types by file extension for static file serving. The built-in
 * table is sorted by extension and searched with bsearch(); a mount's
 * extra-mimetypes list is consulted first so that configuration can add
 * or override types, and its "*" entry names the type of every other
 * file ("" for none, as in lwsws). Textual types (all of "text/", plus JSON and
 * JavaScript) carry "; charset=utf-8". Lookups never allocate: the extension is lowercased
 * into a small buffer on the stack.
 */
#include <stdlib.h>
#include <string.h>

#include "misc/misc.h"

#define UTF8         "; charset=utf-8"
#define DEFAULT_TYPE "application/octet-stream"

/* Longer than every extension in the table, so longer ones need no lookup. */
#define EXT_MAX 16

struct mime_entry {
    const char *ext;
    const char *type;
};

/*
 * Sorted by extension (plain strcmp order; the unit test checks it).
 * Server-side scripts (cgi, lp, lsp) are listed as opaque bytes on purpose:
 * if one is ever served as a file, a browser must not render its source.
 */
static const struct mime_entry mime_table[] = {
    {"7z", "application/x-7z-compressed"},
    {"aac", "audio/aac"},
    {"apk", "application/vnd.android.package-archive"},
    {"appcache", "text/cache-manifest" UTF8},
    {"atom", "application/atom+xml"},
    {"avi", "video/x-msvideo"},
    {"avif", "image/avif"},
    {"bin", "application/octet-stream"},
    {"bmp", "image/bmp"},
    {"bz2", "application/x-bzip2"},
    {"c", "text/x-c" UTF8},
    {"cgi", "application/octet-stream"},
    {"conf", "text/plain" UTF8},
    {"cpp", "text/x-c++" UTF8},
    {"css", "text/css" UTF8},
    {"csv", "text/csv" UTF8},
    {"deb", "application/vnd.debian.binary-package"},
    {"dmg", "application/octet-stream"},
    {"doc", "application/msword"},
    {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    {"eot", "application/vnd.ms-fontobject"},
    {"eps", "application/postscript"},
    {"exe", "application/octet-stream"},
    {"flac", "audio/flac"},
    {"gif", "image/gif"},
    {"gz", "application/gzip"},
    {"h", "text/x-c" UTF8},
    {"htm", "text/html" UTF8},
    {"html", "text/html" UTF8},
    {"ico", "image/x-icon"},
    {"ics", "text/calendar" UTF8},
    {"ini", "text/plain" UTF8},
    {"iso", "application/octet-stream"},
    {"jar", "application/java-archive"},
    {"java", "text/x-java" UTF8},
    {"jpeg", "image/jpeg"},
    {"jpg", "image/jpeg"},
    {"js", "application/javascript" UTF8},
    {"json", "application/json" UTF8},
    {"jsonld", "application/ld+json"},
    {"log", "text/plain" UTF8},
    {"lp", "application/octet-stream"},
    {"lsp", "application/octet-stream"},
    {"lua", "text/x-lua" UTF8},
    {"m3u8", "application/vnd.apple.mpegurl"},
    {"m4a", "audio/mp4"},
    {"m4v", "video/mp4"},
    {"manifest", "text/cache-manifest" UTF8},
    {"map", "application/json" UTF8},
    {"md", "text/markdown" UTF8},
    {"mjs", "application/javascript" UTF8},
    {"mkv", "video/x-matroska"},
    {"mov", "video/quicktime"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
    {"mpd", "application/dash+xml"},
    {"mpeg", "video/mpeg"},
    {"mpg", "video/mpeg"},
    {"odp", "application/vnd.oasis.opendocument.presentation"},
    {"ods", "application/vnd.oasis.opendocument.spreadsheet"},
    {"odt", "application/vnd.oasis.opendocument.text"},
    {"oga", "audio/ogg"},
    {"ogg", "audio/ogg"},
    {"ogv", "video/ogg"},
    {"opus", "audio/opus"},
    {"otf", "font/otf"},
    {"pdf", "application/pdf"},
    {"pl", "application/x-perl"},
    {"png", "image/png"},
    {"ppt", "application/vnd.ms-powerpoint"},
    {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
    {"ps", "application/postscript"},
    {"psd", "image/vnd.adobe.photoshop"},
    {"py", "text/x-python" UTF8},
    {"rpm", "application/x-rpm"},
    {"rss", "application/rss+xml"},
    {"rtf", "application/rtf"},
    {"sh", "application/x-sh"},
    {"shtm", "text/html" UTF8},
    {"shtml", "text/html" UTF8},
    {"sql", "application/sql"},
    {"sqlite", "application/vnd.sqlite3"},
    {"svg", "image/svg+xml"},
    {"swf", "application/x-shockwave-flash"},
    {"tar", "application/x-tar"},
    {"tgz", "application/gzip"},
    {"tif", "image/tiff"},
    {"tiff", "image/tiff"},
    {"toml", "application/toml"},
    {"ts", "video/mp2t"},
    {"ttf", "font/ttf"},
    {"txt", "text/plain" UTF8},
    {"vtt", "text/vtt" UTF8},
    {"wasm", "application/wasm"},
    {"wav", "audio/wav"},
    {"webm", "video/webm"},
    {"webmanifest", "application/manifest+json"},
    {"webp", "image/webp"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"xhtml", "application/xhtml+xml"},
    {"xls", "application/vnd.ms-excel"},
    {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    {"xml", "text/xml" UTF8},
    {"xz", "application/x-xz"},
    {"yaml", "application/yaml"},
    {"yml", "application/yaml"},
    {"zip", "application/zip"},
};

static int compare_entry(const void *key, const void *elem)
{
    return strcmp(key, ((const struct mime_entry *)elem)->ext);
}

/*
 * Offset in @name of its extension (after the last '.'), or @len when it
 * has none. As in nginx, a '.' that starts the last path segment (".htaccess")
 * makes a hidden file, not an extension.
 */
static size_t extension_offset(const char *name, size_t len)
{
    size_t i = len;

    while (i > 0) {
        i--;
        if (name[i] == '/')
            return len;
        if (name[i] == '.')
            return (i > 0 && name[i - 1] != '/') ? i + 1 : len;
    }
    return len;
}

/*
 * Whether @name ends in ".@ext" with something before the dot other than
 * '/', compared case-insensitively; @ext may itself contain dots
 * ("tar.gz"), which the last-extension rule of the table cannot express.
 */
static int has_suffix(const char *name, size_t len, const char *ext, size_t elen)
{
    size_t dot;

    if (elen == 0 || elen + 2 > len)
        return 0;
    dot = len - elen - 1;
    return name[dot] == '.' && name[dot - 1] != '/' &&
           kite__strncasecmp(name + dot + 1, ext, elen) == 0;
}

static const char *extra_type(const char *name, size_t len, const kite_pvo_t *extra)
{
    for (; extra; extra = extra->next) {
        const char *ext = extra->name;

        if (!ext || !extra->value || !strcmp(ext, "*"))
            continue;
        if (*ext == '.')
            ext++;
        if (has_suffix(name, len, ext, strlen(ext)))
            return extra->value;
    }
    return NULL;
}

static const char *table_type(const char *name, size_t len)
{
    const struct mime_entry *hit;
    char ext[EXT_MAX + 1];
    size_t off, elen, i;

    off = extension_offset(name, len);
    elen = len - off;
    if (elen == 0 || elen > EXT_MAX)
        return NULL;
    for (i = 0; i < elen; i++) {
        char c = name[off + i];

        /* An embedded NUL would end the key early: "x.html\0.exe" is no HTML file. */
        if (c == '\0')
            return NULL;
        ext[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    ext[elen] = '\0';
    hit = bsearch(ext, mime_table, sizeof(mime_table) / sizeof(mime_table[0]),
                  sizeof(mime_table[0]), compare_entry);
    return hit ? hit->type : NULL;
}

const char *kite__mime_known(const char *name, size_t len, const kite_pvo_t *extra)
{
    const char *type;

    if ((extra && (type = extra_type(name, len, extra))) || (type = table_type(name, len)))
        return type;
    for (; extra; extra = extra->next)
        if (extra->name && extra->value && !strcmp(extra->name, "*"))
            return extra->value;
    return NULL;
}

const char *kite__mime_type(const char *name, size_t len, const kite_pvo_t *extra)
{
    const char *type = kite__mime_known(name, len, extra);

    return type ? type : DEFAULT_TYPE;
}
