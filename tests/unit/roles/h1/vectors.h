/*
 * Reader for the h1 test vector files (the .txt files in tests/data/h1) and the
 * guard-page buffers the tests run them in. The file format is described
 * at the top of each data file: blocks that start with "### name", a few
 * "key: value" lines, raw bytes written with C-like escapes, and "###end".
 * Everything here is static: each test program includes it once.
 */
#ifndef KITE_TEST_H1_VECTORS_H
#define KITE_TEST_H1_VECTORS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define VEC_MAX_META 8

typedef struct vec {
    char name[160];
    int line;                     /* where the block starts in the file */
    char *meta_key[VEC_MAX_META]; /* "expect", "limits", "body", ... */
    char *meta_val[VEC_MAX_META]; /* the text after "key: ", escapes not yet applied */
    int nmeta;
    char *data; /* the raw bytes, escapes applied */
    size_t len;
} vec_t;

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) {
        perror("realloc");
        exit(99);
    }
    return p;
}

static char *xstrdup(const char *s, size_t n)
{
    char *d = xrealloc(NULL, n + 1);

    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static int hexdig(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Append s[0..n) with escapes applied: \r \n \t \0 \s (space) \\ \" and
 * \xNN. Returns the new length of *out, or -1 for a bad escape.
 */
static long unescape_append(char **out, size_t *olen, size_t *ocap, const char *s, size_t n)
{
    size_t k;

    for (k = 0; k < n; k++) {
        int c = (unsigned char)s[k];

        if (c == '\\') {
            static const char from[] = "rnt0s\\\"", to[] = "\r\n\t\0 \\\"";
            const char *e;

            if (++k == n)
                return -1;
            if (s[k] == 'x') {
                if (k + 2 >= n || hexdig(s[k + 1]) < 0 || hexdig(s[k + 2]) < 0)
                    return -1;
                c = hexdig(s[k + 1]) * 16 + hexdig(s[k + 2]);
                k += 2;
            } else if (s[k] && (e = strchr(from, s[k])) != NULL) {
                c = (unsigned char)to[e - from];
            } else {
                return -1;
            }
        }
        if (*olen + 1 >= *ocap) {
            *ocap = *ocap ? *ocap * 2 : 256;
            *out = xrealloc(*out, *ocap);
        }
        (*out)[(*olen)++] = (char)c;
    }
    (*out)[*olen] = '\0';
    return (long)*olen;
}

/* Unescape a whole string into a fresh NUL-terminated buffer; *len gets its length. */
static char *unescape(const char *s, size_t n, size_t *len)
{
    char *out = NULL;
    size_t olen = 0, ocap = 0;

    out = xrealloc(NULL, 1);
    out[0] = '\0';
    if (unescape_append(&out, &olen, &ocap, s, n) < 0) {
        free(out);
        return NULL;
    }
    if (len)
        *len = olen;
    return out;
}

static int is_meta(const char *line, size_t n, const char *const *keys, size_t *klen)
{
    for (; *keys; keys++) {
        size_t l = strlen(*keys);

        if (n > l && !memcmp(line, *keys, l) && line[l] == ':') {
            *klen = l;
            return 1;
        }
    }
    return 0;
}

/*
 * Read every block of @path. @keys lists the meta keys a block may start
 * with (NULL-terminated). Exits with status 99 (a hard error for meson)
 * when the file cannot be read or is malformed.
 */
static vec_t *vec_load(const char *path, const char *const *keys, int *count)
{
    FILE *f = fopen(path, "rb");
    vec_t *v = NULL, *cur = NULL;
    int n = 0, lineno = 0, in_data = 0;
    size_t cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t ll;

    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(99);
    }
    while ((ll = getline(&line, &lcap, f)) >= 0) {
        size_t l = (size_t)ll, klen;

        lineno++;
        while (l > 0 && (line[l - 1] == '\n' || line[l - 1] == '\r'))
            l--;
        line[l] = '\0';
        if (!cur) {
            if (l >= 4 && !memcmp(line, "### ", 4)) {
                v = xrealloc(v, sizeof(*v) * (size_t)(n + 1));
                cur = &v[n++];
                memset(cur, 0, sizeof(*cur));
                snprintf(cur->name, sizeof(cur->name), "%s", line + 4);
                cur->line = lineno;
                cur->data = xrealloc(NULL, 1);
                cur->data[0] = '\0';
                cap = 1;
                in_data = 0;
            } else if (l != 0 && line[0] != '#') {
                fprintf(stderr, "%s:%d: text outside a block\n", path, lineno);
                exit(99);
            }
            continue;
        }
        if (!strcmp(line, "###end")) {
            cur = NULL;
            continue;
        }
        if (!in_data && is_meta(line, l, keys, &klen)) {
            const char *val = line + klen + 1;

            if (cur->nmeta == VEC_MAX_META)
                exit(99);
            while (*val == ' ')
                val++;
            cur->meta_key[cur->nmeta] = xstrdup(line, klen);
            cur->meta_val[cur->nmeta] = xstrdup(val, strlen(val));
            cur->nmeta++;
            continue;
        }
        in_data = 1;
        if (l > 8 && !memcmp(line, "@repeat ", 8)) {
            /* "@repeat N text": text (escapes applied) N times, for long lines. */
            char *endp, *one;
            long times = strtol(line + 8, &endp, 10);
            size_t olen;

            if (times <= 0 || *endp != ' ' ||
                !(one = unescape(endp + 1, strlen(endp + 1), &olen))) {
                fprintf(stderr, "%s:%d: bad @repeat\n", path, lineno);
                exit(99);
            }
            while (times-- > 0) {
                if (cur->len + olen + 1 > cap) {
                    cap = (cur->len + olen + 1) * 2;
                    cur->data = xrealloc(cur->data, cap);
                }
                memcpy(cur->data + cur->len, one, olen);
                cur->len += olen;
                cur->data[cur->len] = '\0';
            }
            free(one);
            continue;
        }
        if (unescape_append(&cur->data, &cur->len, &cap, line, l) < 0) {
            fprintf(stderr, "%s:%d: bad escape\n", path, lineno);
            exit(99);
        }
    }
    free(line);
    fclose(f);
    if (cur) {
        fprintf(stderr, "%s: block \"%s\" has no ###end\n", path, cur->name);
        exit(99);
    }
    *count = n;
    return v;
}

static const char *vec_meta(const vec_t *v, const char *key)
{
    int k;

    for (k = 0; k < v->nmeta; k++)
        if (!strcmp(v->meta_key[k], key))
            return v->meta_val[k];
    return NULL;
}

static void vec_free(vec_t *v, int n)
{
    int i, k;

    for (i = 0; i < n; i++) {
        for (k = 0; k < v[i].nmeta; k++) {
            free(v[i].meta_key[k]);
            free(v[i].meta_val[k]);
        }
        free(v[i].data);
    }
    free(v);
}

/*
 * Split "k1=v1 k2="v 2" flag" into pairs. Values may be double-quoted to
 * hold spaces; escapes are applied to them. Returns the number of pairs.
 */
static inline int kv_split(const char *s, char **keys, char **vals, int max)
{
    int n = 0;

    while (*s) {
        const char *k, *e;
        char *val;
        size_t vl;

        while (*s == ' ')
            s++;
        if (!*s)
            break;
        k = s;
        while (*s && *s != '=' && *s != ' ')
            s++;
        if (n == max)
            exit(99);
        keys[n] = xstrdup(k, (size_t)(s - k));
        if (*s != '=') {
            vals[n++] = xstrdup("", 0);
            continue;
        }
        s++;
        if (*s == '"') {
            e = ++s;
            while (*e && (*e != '"' || e[-1] == '\\'))
                e++;
            val = unescape(s, (size_t)(e - s), &vl);
            s = *e ? e + 1 : e;
        } else {
            e = s;
            while (*e && *e != ' ')
                e++;
            val = unescape(s, (size_t)(e - s), &vl);
            s = e;
        }
        if (!val)
            exit(99);
        vals[n++] = val;
    }
    return n;
}

/*
 * A buffer whose last byte sits just before a PROT_NONE page, so that
 * reading one byte past the end faults (picohttpparser's test trick).
 */
typedef struct guard {
    char *map;
    size_t maplen;
    size_t page;
} guard_t;

static void guard_init(guard_t *g, size_t max)
{
    g->page = (size_t)sysconf(_SC_PAGESIZE);
    g->maplen = ((max + g->page - 1) / g->page + 1) * g->page;
    g->map = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g->map == MAP_FAILED || mprotect(g->map + g->maplen - g->page, g->page, PROT_NONE)) {
        perror("mmap");
        exit(99);
    }
}

/* Copy @len bytes so that they end right at the guard page; returns where they start. */
static char *guard_put(guard_t *g, const void *data, size_t len)
{
    char *p = g->map + g->maplen - g->page - len;

    if (len > g->maplen - g->page)
        exit(99);
    memcpy(p, data, len);
    return p;
}

static void guard_free(guard_t *g)
{
    munmap(g->map, g->maplen);
}

#endif
