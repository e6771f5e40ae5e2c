/*
 * ssi-pattern: Server Side Includes as LibHTTP has them. In a file whose
 * mount-relative path matches the pattern, `<!--#include virtual="p" -->`
 * (p from the mount's directory), `file="p"` or `"p"` (from the current
 * document's directory) is replaced by that file, itself processed when
 * it matches too, up to DEPTH_MAX levels. Every included file must
 * resolve inside the mount's directory. `<!--#exec "cmd" -->` (or
 * `cmd="cmd"`) is replaced by the command's output when the mount has
 * ssi-exec, and dropped with a log line when not. Other directives are
 * dropped, as LibHTTP drops unknown ones. The page is built in memory (at
 * most KITE__SSI_OUT_MAX bytes) and sent with Cache-Control: no-cache,
 * since its parts change independently. Commands are not run here: the
 * page's text is built first with their places marked, and
 * roles/cgi/ssi-exec.c runs them on the loop and sends the page.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roles/http/private-http.h"

#define DEPTH_MAX 10
#define OUT_MAX   KITE__SSI_OUT_MAX

struct out {
    char *p;
    size_t n, cap;
    int err;
    kite__ssi_exec_t *ex; /* exec directives found, in order */
    int nex, exmax;
};

static void put(struct out *o, const char *s, size_t len)
{
    char *np;

    if (o->err || !len)
        return;
    if (o->n + len > OUT_MAX) {
        o->err = KITE_E2BIG;
        return;
    }
    if (o->n + len > o->cap) {
        size_t cap = o->cap ? o->cap : 8192;
        while (cap < o->n + len)
            cap *= 2;
        if (!(np = realloc(o->p, cap))) {
            o->err = KITE_ENOMEM;
            return;
        }
        o->p = np;
        o->cap = cap;
    }
    memcpy(o->p + o->n, s, len);
    o->n += len;
}

/* The whole file, NUL-terminated (malloc'd), or NULL. */
static char *slurp(const char *path, size_t *len)
{
    struct stat st;
    char *b = NULL;
    ssize_t r;
    size_t n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > OUT_MAX ||
        !(b = malloc((size_t)st.st_size + 1)))
        goto out;
    while (n < (size_t)st.st_size && (r = read(fd, b + n, (size_t)st.st_size - n)) > 0)
        n += (size_t)r;
    b[n] = '\0';
    *len = n;
out:
    close(fd);
    return b;
}

static void process(const kite__mount_rt_t *m, struct out *o, const char *real, int depth);

/* One include directive's argument @arg (@virt: from the mount root). */
static void include(const kite__mount_rt_t *m, struct out *o, const char *cur, const char *arg,
                    int virt, int depth)
{
    char want[PATH_MAX], real[PATH_MAX];
    const char *slash = strrchr(cur, '/');
    size_t rl = m->root_len;
    int n;

    if (virt)
        n = snprintf(want, sizeof(want), "%s/%s", m->root, arg);
    else
        n = snprintf(want, sizeof(want), "%.*s/%s", (int)(slash - cur), cur, arg);
    if (n < 0 || (size_t)n >= sizeof(want) || !realpath(want, real) || strncmp(real, m->root, rl) ||
        real[rl] != '/') {
        kite_notice("SSI %s: include \"%s\" refused (missing or outside the docroot)", cur, arg);
        return;
    }
    if (depth < DEPTH_MAX && m->x->ssi &&
        kite__pattern_match(m->x->ssi, m->x->ssi_len, real + rl, strlen(real + rl)) > 0) {
        process(m, o, real, depth + 1);
    } else {
        size_t len;
        char *b = slurp(real, &len);
        if (b)
            put(o, b, len);
        free(b);
    }
}

/* An exec directive's command @cmd, in the document @cur: its output goes here. */
static void exec_at(const kite__mount_rt_t *m, struct out *o, const char *cur, const char *cmd)
{
    const char *slash = strrchr(cur, '/');
    kite__ssi_exec_t *x;

    if (!m->m->ssi_exec) {
        kite_notice("SSI %s: exec \"%s\" not run: the mount has no ssi-exec", cur, cmd);
        return;
    }
    if (o->err)
        return;
    if (o->nex == o->exmax) {
        int n = o->exmax ? 2 * o->exmax : 4;
        if (!(x = realloc(o->ex, (size_t)n * sizeof(*x)))) {
            o->err = KITE_ENOMEM;
            return;
        }
        o->ex = x;
        o->exmax = n;
    }
    x = &o->ex[o->nex];
    x->off = o->n;
    x->cmd = strdup(cmd);
    x->dir = strndup(cur, slash && slash != cur ? (size_t)(slash - cur) : 1);
    if (!x->cmd || !x->dir) {
        free(x->cmd);
        free(x->dir);
        o->err = KITE_ENOMEM;
        return;
    }
    o->nex++;
}

static char *skip_space(char *d)
{
    while (*d == ' ' || *d == '\t' || *d == '\n' || *d == '\r')
        d++;
    return d;
}

/* The directive between "<!--#" and "-->": include, exec, or ignored. */
static void directive(const kite__mount_rt_t *m, struct out *o, const char *cur, char *d, int depth)
{
    char *v, *e;
    int virt = 0;

    if (!strncmp(d, "exec", 4) && strchr(" \t\r\n", d[4]) && d[4]) {
        /* LibHTTP's `exec "cmd"`, and Apache's `exec cmd="cmd"`. */
        d = skip_space(d + 4);
        if (!strncmp(d, "cmd=", 4))
            d += 4;
        if (*d == '"' && (e = strchr(d + 1, '"'))) {
            *e = '\0';
            exec_at(m, o, cur, d + 1);
        }
        return;
    }
    if (strncmp(d, "include", 7))
        return;
    for (d += 7; *d == ' ' || *d == '\t' || *d == '\n' || *d == '\r'; d++)
        ;
    if (!strncmp(d, "virtual=", 8)) {
        virt = 1;
        d += 8;
    } else if (!strncmp(d, "file=", 5)) {
        d += 5;
    } else if (*d != '"') {
        return; /* abspath= and others: not inside a docroot, not supported */
    }
    if (*d != '"' || !(e = strchr(d + 1, '"')))
        return;
    v = d + 1;
    *e = '\0';
    include(m, o, cur, v, virt, depth);
}

static void process(const kite__mount_rt_t *m, struct out *o, const char *real, int depth)
{
    size_t len;
    char *b = slurp(real, &len), *s, *p, *end;

    if (!b) {
        kite_notice("SSI: cannot read %s", real);
        return;
    }
    for (s = b; !o->err && (p = strstr(s, "<!--#"));) {
        put(o, s, (size_t)(p - s));
        if (!(end = strstr(p + 5, "-->"))) {
            s = p;
            break;
        }
        *end = '\0';
        directive(m, o, real, p + 5, depth);
        s = end + 3;
    }
    put(o, s, strlen(s));
    free(b);
}

void kite__ssi_page_free(kite__ssi_page_t *pg)
{
    int i;

    for (i = 0; i < pg->nex; i++) {
        free(pg->ex[i].cmd);
        free(pg->ex[i].dir);
    }
    free(pg->ex);
    free(pg->text);
    free(pg->path);
    free(pg->mime);
    memset(pg, 0, sizeof(*pg));
}

int kite__http_ssi(kite_conn_t *c, kite_http_req_t *t, const kite__mount_rt_t *m, const char *path,
                   const char *mime)
{
    struct out o = {0};
    kite__ssi_page_t pg;
    int r;

    process(m, &o, path, 1);
    pg = (kite__ssi_page_t){.text = o.p, .len = o.n, .ex = o.ex, .nex = o.nex};
    if (o.err) {
        kite__ssi_page_free(&pg);
        return kite__http_error(c, t, 500, o.err == KITE_E2BIG ? "SSI output too large" : NULL);
    }
    if (o.nex) {
        pg.path = strdup(path);
        pg.mime = mime ? strdup(mime) : NULL;
        if (!pg.path || (mime && !pg.mime)) {
            kite__ssi_page_free(&pg);
            return kite__http_error(c, t, 500, NULL);
        }
        return kite__ssi_exec_run(c, t, m, &pg);
    }
    kite__http_add_header_n(t, "Cache-Control", "no-cache", 8);
    r = t->wire->respond(c, t, 200, mime, (int64_t)o.n);
    if (r == 0)
        r = t->wire->body(c, t, o.p, o.n, 1);
    free(o.p);
    return r;
}
