/*
 * Reading one config file: `#` comments are blanked to the end of the
 * line (outside strings) so line numbers stay true, jansson parses the
 * result, and a scan of the same text records the line of every object
 * key and array element under its JSON path ("vhosts[0].mounts[1].origin"),
 * which jansson does not keep. The scan runs only on text jansson has
 * accepted, so it need not check the grammar.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/private.h"

#define FILE_MAX (4u << 20) /* a config file bigger than this is a mistake */

static void blank_comments(char *t, size_t len)
{
    int in_str = 0;
    size_t i;

    for (i = 0; i < len; i++) {
        if (in_str) {
            if (t[i] == '\\' && i + 1 < len)
                i++;
            else if (t[i] == '"')
                in_str = 0;
        } else if (t[i] == '"') {
            in_str = 1;
        } else if (t[i] == '#') {
            for (; i < len && t[i] != '\n'; i++)
                t[i] = ' ';
        }
    }
}

typedef struct scan {
    kite__cfg_file_t *f;
    const char *t;
    size_t i, len;
    int line;
    char path[KITE__CFG_PATH_MAX];
    int depth;
} scan_t;

static void skip_ws(scan_t *s)
{
    for (; s->i < s->len; s->i++) {
        if (s->t[s->i] == '\n')
            s->line++;
        else if (s->t[s->i] != ' ' && s->t[s->i] != '\t' && s->t[s->i] != '\r')
            break;
    }
}

static void skip_string(scan_t *s)
{
    for (s->i++; s->i < s->len && s->t[s->i] != '"'; s->i++)
        if (s->t[s->i] == '\\')
            s->i++;
    s->i++;
}

static int record(scan_t *s, size_t plen)
{
    kite__cfg_file_t *f = s->f;
    kite__cfg_pos_t *p;

    if (f->npos == f->cappos) {
        int cap = f->cappos ? f->cappos * 2 : 64;
        p = realloc(f->pos, (size_t)cap * sizeof(*p));
        if (!p)
            return KITE_ENOMEM;
        f->pos = p;
        f->cappos = cap;
    }
    p = &f->pos[f->npos];
    p->path = strndup(s->path, plen);
    if (!p->path)
        return KITE_ENOMEM;
    p->line = s->line;
    p->voff = p->vlen = 0;
    f->npos++;
    return 0;
}

/* Append to the path; a path too long for the buffer is cut (lines are
 * then found for its ancestor). */
static size_t path_add(scan_t *s, size_t plen, const char *fmt, const char *str, size_t n, int idx)
{
    int w;

    if (fmt)
        w = snprintf(s->path + plen, sizeof(s->path) - plen, fmt, idx);
    else
        w = snprintf(s->path + plen, sizeof(s->path) - plen, "%s%.*s", plen ? "." : "", (int)n,
                     str);
    if (w < 0 || (size_t)w >= sizeof(s->path) - plen) {
        s->path[plen] = '\0';
        return plen;
    }
    return plen + (size_t)w;
}

static int scan_value(scan_t *s, size_t plen);

static int scan_object(scan_t *s, size_t plen)
{
    int r;

    for (s->i++;;) {
        size_t k0, klen, np;
        int at;
        skip_ws(s);
        if (s->i >= s->len || s->t[s->i] == '}')
            break;
        if (s->t[s->i] == ',') {
            s->i++;
            continue;
        }
        k0 = s->i + 1;
        skip_string(s);
        klen = s->i - 1 - k0;
        np = path_add(s, plen, NULL, s->t + k0, klen, 0);
        if ((r = record(s, np)) < 0)
            return r;
        at = s->f->npos - 1;
        skip_ws(s);
        s->i++; /* ':' */
        skip_ws(s);
        s->f->pos[at].voff = s->i;
        if ((r = scan_value(s, np)) < 0)
            return r;
        /* the value's text, for keys given more than once */
        s->f->pos[at].vlen = s->i - s->f->pos[at].voff;
        s->path[plen] = '\0';
    }
    s->i++;
    return 0;
}

static int scan_array(scan_t *s, size_t plen)
{
    int idx = 0, r;

    for (s->i++;;) {
        size_t np;
        skip_ws(s);
        if (s->i >= s->len || s->t[s->i] == ']')
            break;
        if (s->t[s->i] == ',') {
            s->i++;
            continue;
        }
        np = path_add(s, plen, "[%d]", NULL, 0, idx++);
        if ((r = record(s, np)) < 0 || (r = scan_value(s, np)) < 0)
            return r;
        s->path[plen] = '\0';
    }
    s->i++;
    return 0;
}

static int scan_value(scan_t *s, size_t plen)
{
    int r = 0;

    if (++s->depth > 64) /* jansson limits nesting too; this only bounds the stack */
        return KITE_EINVAL;
    skip_ws(s);
    if (s->i >= s->len)
        r = 0;
    else if (s->t[s->i] == '{')
        r = scan_object(s, plen);
    else if (s->t[s->i] == '[')
        r = scan_array(s, plen);
    else if (s->t[s->i] == '"')
        skip_string(s);
    else /* a literal; at least one byte, so that odd input (a NUL) cannot stall the scan */
        do
            s->i++;
        while (s->i < s->len && s->t[s->i] && !strchr(",]} \t\r\n", s->t[s->i]));
    s->depth--;
    return r;
}

static char *read_all(const char *name, size_t *len, int *err)
{
    struct stat st;
    char *buf = NULL;
    int fd = open(name, O_RDONLY | O_CLOEXEC);
    size_t got = 0;

    *err = errno;
    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) < 0) {
        *err = errno;
        goto out;
    }
    if ((size_t)st.st_size > FILE_MAX) {
        *err = EFBIG;
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        *err = ENOMEM;
        goto out;
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            break;
        }
        got += (size_t)n;
    }
    buf[got] = '\0';
    *len = got;
out:
    close(fd);
    return buf;
}

kite__cfg_file_t *kite__cfg_file_parse(kite__cfg_t *cfg, const char *name, char *text, size_t len)
{
    kite__cfg_file_t *f = calloc(1, sizeof(*f));
    json_error_t je;
    scan_t s = {0};
    char *slash, *abs;

    if (!f || !(f->name = strdup(name)) || !(f->dir = strdup(name))) {
        free(text);
        goto fail;
    }
    f->text = text;
    f->len = len;
    slash = strrchr(f->dir, '/');
    if (slash)
        slash[slash == f->dir] = '\0';
    else
        strcpy(f->dir, ".");
    /* absolute, so that the paths made from it survive a chdir */
    abs = realpath(f->dir, NULL);
    if (abs) {
        free(f->dir);
        f->dir = abs;
    }
    blank_comments(f->text, f->len);
    f->root = json_loadb(f->text, f->len, 0, &je);
    if (!f->root) {
        kite__cfg_error(cfg, NULL, NULL, "%s:%d: json: %s", name, je.line, je.text);
        goto out;
    }
    s.f = f;
    s.t = f->text;
    s.len = f->len;
    s.line = 1;
    if (scan_value(&s, 0) < 0)
        goto fail;
    return f;
fail:
    kite__cfg_error(cfg, NULL, NULL, "%s: out of memory", name);
out:
    kite__cfg_file_free(f);
    return NULL;
}

kite__cfg_file_t *kite__cfg_file_read(kite__cfg_t *cfg, const char *name)
{
    size_t len = 0;
    int e = ENOMEM;
    char *text = read_all(name, &len, &e);

    if (!text) {
        kite__cfg_error(cfg, NULL, NULL, "%s: cannot read: %s", name, strerror(e));
        return NULL;
    }
    return kite__cfg_file_parse(cfg, name, text, len);
}

void kite__cfg_file_free(kite__cfg_file_t *f)
{
    int i;

    if (!f)
        return;
    for (i = 0; i < f->npos; i++)
        free(f->pos[i].path);
    free(f->pos);
    if (f->root)
        json_decref(f->root);
    free(f->text);
    free(f->name);
    free(f->dir);
    free(f);
}

int kite__cfg_line(const kite__cfg_file_t *f, const char *path)
{
    char p[KITE__CFG_PATH_MAX];
    int i;

    if (!f || !path)
        return 0;
    snprintf(p, sizeof(p), "%s", path);
    for (;;) {
        char *cut;
        for (i = 0; i < f->npos; i++)
            if (!strcmp(f->pos[i].path, p))
                return f->pos[i].line;
        cut = strrchr(p, p[strlen(p) ? strlen(p) - 1 : 0] == ']' ? '[' : '.');
        if (!cut || cut == p)
            return 1;
        *cut = '\0';
    }
}
