/*
 * The CGI handler: which file a request runs (a cgi:// mount's directory,
 * or a file mount's cgi-pattern), then the internal protocol that serves
 * the transaction on the client connection: on_http starts the script,
 * on_http_body streams the body to its stdin (pausing the client while
 * stdin is full), on_writeable resumes reading the script's stdout once
 * the client has taken what was queued, on_closed lets go of the script.
 *
 * A chunked request body is written to an unlinked temporary file and the
 * script starts when it has all arrived, with the file as its stdin: RFC
 * 3875 4.1.2 wants CONTENT_LENGTH whenever there is a body, and many
 * scripts (php-cgi among them) read exactly that many bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "misc/misc.h"
#include "roles/cgi/private-cgi.h"

/* A chunked body buffered for CONTENT_LENGTH may be this big. */
#define TMP_BODY_MAX ((int64_t)1 << 30)

struct sess {
    kite__cgi_t *g;
    int tmpfd; /* a chunked body being buffered, or -1 */
    int64_t tmplen;
};

/*
 * The script a mount path names: the first prefix of @rel that is a
 * regular file under the mount's directory; what follows it is PATH_INFO.
 * A cgi:// mount naming a file (lws's cgit recipe) runs that program for
 * every path, all of @rel its PATH_INFO. Writes the file's path to @path.
 * 0 or KITE_ENOENT.
 */
static int resolve(const kite__mount_rt_t *m, const char *rel, char *path, size_t cap)
{
    size_t rl = strlen(rel), i;
    struct stat st;

    if (m->root_len + rl + 1 > cap)
        return KITE_ENOENT;
    memcpy(path, m->root, m->root_len);
    path[m->root_len] = '\0';
    if (m->type == KITE_MOUNT_CGI && stat(path, &st) == 0 && S_ISREG(st.st_mode))
        return 0;
    for (i = 1; i <= rl; i++) {
        if (i < rl && rel[i] != '/')
            continue;
        memcpy(path + m->root_len, rel, i);
        path[m->root_len + i] = '\0';
        if (stat(path, &st) < 0)
            return KITE_ENOENT;
        if (S_ISREG(st.st_mode))
            return 0;
        if (!S_ISDIR(st.st_mode))
            return KITE_ENOENT;
    }
    return KITE_ENOENT;
}

static int run(kite_conn_t *c, kite_http_req_t *t, const char *path)
{
    if (t->redirects > KITE__CGI_MAX_REDIRECTS)
        return kite__http_error(c, t, 500, "too many local redirects");
    if (!(t->file_path = kite__http_txn_copy(t, path, strlen(path))))
        return kite__http_error(c, t, 500, NULL);
    return kite__http_callback(c, t, &kite__cgi_proto);
}

int kite__cgi_serve(kite_conn_t *c, kite_http_req_t *t, const kite__mount_rt_t *m)
{
    char path[PATH_MAX];

    if (resolve(m, t->mount_path, path, sizeof(path)) < 0)
        return kite__http_error(c, t, 404, NULL);
    return run(c, t, path);
}

int kite__cgi_try(kite_conn_t *c, kite_http_req_t *t, const kite__mount_rt_t *m, int *answered)
{
    const char *pat = m->m->cgi_pattern;
    char path[PATH_MAX];

    *answered = 0;
    /* A hidden script is not run either: the file handler answers 404. */
    if (kite__http_hidden(m, t->mount_path, strlen(t->mount_path)) ||
        resolve(m, t->mount_path, path, sizeof(path)) < 0)
        return 0;
    /* LibHTTP matches the whole file path, not the URI. */
    if (kite__pattern_match(pat, strlen(pat), path, strlen(path)) <= 0)
        return 0;
    *answered = 1;
    return run(c, t, path);
}

static int start(kite_conn_t *c, struct sess *s, int in_fd)
{
    kite_http_req_t *t = c->rd;
    const kite__mount_rt_t *m = t->mrt;
    const char *script = t->file_path, *interp = m->m->cgi_interpreter, *base;
    int fds[4] = {-1, -1, -1, -1}, r;
    kite__cgi_t *g;
    char **env;
    pid_t pid;

    if (!interp && access(script, X_OK) < 0) {
        kite_err("cgi %s: not executable and no cgi-interpreter", script);
        return kite__http_error(c, t, 403, NULL);
    }
    if (!(env = kite__cgi_env(c, t, script, strlen(script) - m->root_len)))
        return kite__http_error(c, t, 500, NULL);
    r = kite__cgi_spawn(interp, script, m->m->cgi_chdir, env, in_fd, fds, &pid);
    free(env);
    if (r < 0) {
        /* Most often a missing interpreter (cgi-interpreter or #!). */
        kite_err("cgi %s: cannot run %s: %s", script, interp ? interp : "it", strerror(-r));
        return kite__http_error(c, t, 500, NULL);
    }
    if (!(g = calloc(1, sizeof(*g))) || !(g->name = strdup(script))) {
        free(g);
        kill(-pid, SIGKILL);
        waitpid(pid, NULL, 0);
        for (r = 0; r < 4; r++)
            if (fds[r] >= 0)
                close(fds[r]);
        return kite__http_error(c, t, 500, NULL);
    }
    g->refs = 1;
    g->client = c;
    g->t = t;
    g->pid = pid;
    base = strrchr(script, '/');
    if (!strncmp(base ? base + 1 : script, "nph-", 4))
        g->flags |= CGI_NPH;
    s->g = g;
    if (kite__cgi_pipes_open(g, c, fds, m->m->cgi_timeout) < 0)
        return kite__http_error(c, t, 500, NULL);
    /* No body, or one that is all in the file: the script sees EOF now. */
    if (g->in && (in_fd >= 0 || !(t->tflags & KITE__T_BODY) || (t->tflags & KITE__T_BODY_DONE))) {
        kite_conn_t *in = g->in;
        kite_close(in, 0, NULL);
    }
    return 0;
}

static int on_http(kite_conn_t *c, void *user, const kite_http_req_t *req)
{
    struct sess *s = user;

    s->tmpfd = -1;
    if (!(req->p.flags & KITE_H1_CHUNKED))
        return start(c, s, -1) < 0;
    s->tmpfd = open(P_tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (s->tmpfd < 0) {
        kite_err("cgi %s: no temporary file for the chunked body: %s", req->file_path,
                 strerror(errno));
        return kite__http_error(c, c->rd, 500, NULL) < 0;
    }
    return 0;
}

static int body_to_file(kite_conn_t *c, struct sess *s, const char *in, size_t len)
{
    ssize_t n;

    if ((s->tmplen += (int64_t)len) > TMP_BODY_MAX) {
        close(s->tmpfd);
        s->tmpfd = -1;
        return kite__http_error(c, c->rd, 413, NULL) < 0;
    }
    /* A regular file: write() does not wait on the network or a peer. */
    while (len) {
        n = write(s->tmpfd, in, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return kite__http_error(c, c->rd, 500, NULL) < 0;
        in += n;
        len -= (size_t)n;
    }
    return 0;
}

static int on_http_body(kite_conn_t *c, void *user, const void *in, size_t len)
{
    struct sess *s = user;
    kite__cgi_t *g = s->g;

    if (s->tmpfd >= 0)
        return body_to_file(c, s, in, len);
    /* The script closed its stdin (or exited): the rest is dropped. */
    if (!g || !g->in)
        return 0;
    if (kite__out_append(g->in, in, len) < 0)
        return -1;
    if (g->in->out_bytes > KITE__CGI_HIGH && !(g->flags & CGI_RX_PAUSED)) {
        g->flags |= CGI_RX_PAUSED;
        kite_rx_flow_control(c, 0);
        kite_callback_on_writable(g->in);
    }
    return 0;
}

static int on_http_body_done(kite_conn_t *c, void *user)
{
    struct sess *s = user;
    kite_http_req_t *t = c->rd;
    int fd = s->tmpfd, r;

    if (fd >= 0) {
        s->tmpfd = -1;
        t->p.content_length = s->tmplen;
        r = lseek(fd, 0, SEEK_SET) < 0 ? kite__http_error(c, t, 500, NULL) : start(c, s, fd);
        close(fd);
        return r < 0;
    }
    if (s->g && s->g->in)
        kite_close(s->g->in, 0, NULL);
    return 0;
}

static int on_writeable(kite_conn_t *c, void *user)
{
    struct sess *s = user;

    (void)c;
    if (s->g && s->g->out && (s->g->out->flags & KITE__C_RX_OFF))
        kite_rx_flow_control(s->g->out, 1);
    return 0;
}

static void on_closed(kite_conn_t *c, void *user, int code)
{
    struct sess *s = user;

    (void)c;
    (void)code;
    if (s->tmpfd >= 0)
        close(s->tmpfd);
    s->tmpfd = -1;
    if (s->g) {
        kite__cgi_detach(s->g);
        kite__cgi_unref(s->g);
        s->g = NULL;
    }
}

void kite__cgi_release(kite_conn_t *c)
{
    on_closed(c, c->user, KITE_CLOSE_NORMAL);
}

void kite__cgi_detach(kite__cgi_t *g)
{
    if (!g->client)
        return;
    g->client = NULL;
    g->t = NULL;
    /* Output still coming means the response was cut short (the client
     * went away, or a local redirect replaced it): stop the script. */
    if (g->out && !(g->flags & CGI_REAPED)) {
        g->flags |= CGI_KILLED;
        kill(-g->pid, SIGKILL);
    }
    kite__cgi_close_pipes(g);
}

void kite__cgi_unref(kite__cgi_t *g)
{
    if (--g->refs)
        return;
    free(g->name);
    free(g->head);
    free(g);
}

const kite_protocol_t kite__cgi_proto = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "kite-cgi",
    .per_session_size = sizeof(struct sess),
    .on_http = on_http,
    .on_http_body = on_http_body,
    .on_http_body_done = on_http_body_done,
    .on_writeable = on_writeable,
    .on_closed = on_closed,
};
