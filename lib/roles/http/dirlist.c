/*
 * directory-listing: the HTML index LibHTTP sends for a directory without
 * an index file. Entries are sorted by name (directories first), names
 * are percent-encoded in links and HTML-escaped in text, with sizes and
 * modification dates; dot files and hide-files matches are left out, as
 * a hidden file must not be discoverable. The page is built once in a
 * heap buffer and queued as one copy.
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "roles/http/private-http.h"

struct entry {
    char *name;
    int is_dir;
    long long size;
    time_t mtime;
};

struct buf {
    char *p;
    size_t n, cap;
    int err;
};

static void put(struct buf *b, const char *s, size_t len)
{
    char *np;

    if (b->err)
        return;
    if (b->n + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + len + 1)
            cap *= 2;
        if (!(np = realloc(b->p, cap))) {
            b->err = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, len);
    b->n += len;
}

static void puts_(struct buf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* Text for HTML: the five characters that could end an element or attribute. */
static void put_html(struct buf *b, const char *s)
{
    for (; *s; s++) {
        const char *e = *s == '<'    ? "&lt;"
                        : *s == '>'  ? "&gt;"
                        : *s == '&'  ? "&amp;"
                        : *s == '"'  ? "&quot;"
                        : *s == '\'' ? "&#39;"
                                     : NULL;
        if (e)
            puts_(b, e);
        else
            put(b, s, 1);
    }
}

/* A relative link: everything but unreserved bytes escaped, so a name with
 * ':' cannot become a scheme and '?', '#', '%' stay part of the name. */
static void put_href(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char e[3] = {'%', 0, 0};

    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            strchr("-._~", ch)) {
            put(b, s, 1);
        } else {
            e[1] = hex[ch >> 4];
            e[2] = hex[ch & 15];
            put(b, e, 3);
        }
    }
}

static int by_name(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;

    if (x->is_dir != y->is_dir)
        return y->is_dir - x->is_dir;
    return strcmp(x->name, y->name);
}

/* The entries of @dir that may be shown: *out (malloc'd) and their count. */
static int read_entries(const kite__mount_rt_t *m, const char *dir, struct entry **out)
{
    char fp[PATH_MAX];
    struct entry *v = NULL, *nv;
    struct dirent *de;
    struct stat st;
    size_t n = 0, cap = 0;
    DIR *d = opendir(dir);

    if (!d)
        return KITE_EACCES;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || kite__http_hidden(m, de->d_name, strlen(de->d_name)))
            continue;
        if (snprintf(fp, sizeof(fp), "%s%s", dir, de->d_name) >= (int)sizeof(fp) ||
            stat(fp, &st) < 0 || !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            if (!(nv = realloc(v, cap * sizeof(*v))))
                goto nomem;
            v = nv;
        }
        if (!(v[n].name = strdup(de->d_name)))
            goto nomem;
        v[n].is_dir = S_ISDIR(st.st_mode);
        v[n].size = (long long)st.st_size;
        v[n++].mtime = st.st_mtime;
    }
    closedir(d);
    qsort(v, n, sizeof(*v), by_name);
    *out = v;
    return (int)n;
nomem:
    closedir(d);
    while (n)
        free(v[--n].name);
    free(v);
    return KITE_ENOMEM;
}

static void render(struct buf *b, const char *url, const struct entry *v, int n)
{
    char line[128];
    int i;

    puts_(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ");
    put_html(b, url);
    puts_(b, "</title></head>\n<body><h1>Index of ");
    put_html(b, url);
    puts_(b, "</h1>\n<table>\n<tr><th>Name</th><th>Modified</th><th>Size</th></tr>\n");
    if (strcmp(url, "/"))
        puts_(b, "<tr><td><a href=\"../\">Parent directory</a></td><td></td><td>-</td></tr>\n");
    for (i = 0; i < n; i++) {
        struct tm tm;
        size_t k;
        puts_(b, "<tr><td><a href=\"");
        put_href(b, v[i].name);
        puts_(b, v[i].is_dir ? "/\">" : "\">");
        put_html(b, v[i].name);
        puts_(b, v[i].is_dir ? "/</a></td><td>" : "</a></td><td>");
        gmtime_r(&v[i].mtime, &tm);
        k = strftime(line, sizeof(line), "%Y-%m-%d %H:%M:%S", &tm);
        put(b, line, k);
        if (v[i].is_dir)
            k = (size_t)snprintf(line, sizeof(line), "</td><td>-</td></tr>\n");
        else
            k = (size_t)snprintf(line, sizeof(line), "</td><td>%lld</td></tr>\n", v[i].size);
        put(b, line, k);
    }
    puts_(b, "</table></body></html>\n");
}

int kite__http_dir_listing(kite_conn_t *c, kite_http_req_t *t, const kite__mount_rt_t *m,
                           const char *dir)
{
    struct buf b = {0};
    struct entry *v = NULL;
    int i, n, r;

    n = read_entries(m, dir, &v);
    if (n < 0)
        return kite__http_error(c, t, n == KITE_ENOMEM ? 500 : 403, NULL);
    render(&b, t->path, v, n);
    for (i = 0; i < n; i++)
        free(v[i].name);
    free(v);
    if (b.err) {
        free(b.p);
        return kite__http_error(c, t, 500, NULL);
    }
    kite__http_add_header_n(t, "Cache-Control", "no-cache", 8);
    r = t->wire->respond(c, t, 200, "text/html; charset=utf-8", (int64_t)b.n);
    if (r == 0)
        r = t->wire->body(c, t, b.p, b.n, 1);
    free(b.p);
    return r;
}
