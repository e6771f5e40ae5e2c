/*
 * SSI exec (ssi-exec): the commands of a page's <!--#exec --> directives,
 * run one after the other in page order the way CGI scripts are run
 * (a process group of their own started by posix_spawn, stdout and stderr
 * pipes adopted as conns of the service thread, cgi-timeout on the pidfd
 * conn), so that a slow command never holds up the loop. While they run,
 * the client's transaction is bound to an internal protocol, whose
 * on_closed stops them if the client goes away. Each command's stdout
 * goes into the page in its directive's place and its stderr to the
 * error log; stdin is /dev/null, the working directory that of the
 * document holding the directive, the environment the page request's CGI
 * meta-variables. The page is sent whole, with its length, once the last
 * command has closed its stdout.
 *
 * A command that cannot be started, or that cgi-timeout stops (its
 * process group is killed), leaves what it wrote, and a log line. Only a
 * page past KITE__SSI_OUT_MAX gives a 500.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "roles/cgi/private-cgi.h"

struct job {
    kite__ssi_page_t pg;
    int next;    /* the next command to run */
    size_t done; /* bytes of pg.text already in out */
    char *out;   /* the page being built */
    size_t n, cap;
    int err;
    kite__cgi_t *g; /* the command running, or NULL */
    char **env;
    unsigned timeout;
    kite_conn_t *c;
    kite_http_req_t *t;
};

struct sess {
    struct job *j; /* NULL once the page is sent */
};

static int put(struct job *j, const char *s, size_t len)
{
    char *np;
    size_t cap;

    if (j->err || !len)
        return j->err;
    if (j->n + len > KITE__SSI_OUT_MAX)
        return j->err = KITE_E2BIG;
    if (j->n + len > j->cap) {
        for (cap = j->cap ? j->cap : 8192; cap < j->n + len;)
            cap *= 2;
        if (!(np = realloc(j->out, cap)))
            return j->err = KITE_ENOMEM;
        j->out = np;
        j->cap = cap;
    }
    memcpy(j->out + j->n, s, len);
    j->n += len;
    return 0;
}

/* Let go of the running command; it is killed if still writing. */
static void drop_command(struct job *j)
{
    kite__cgi_t *g = j->g;

    if (!g)
        return;
    j->g = NULL;
    kite__cgi_detach(g);
    kite__cgi_unref(g);
}

static void job_free(struct job *j)
{
    drop_command(j);
    kite__ssi_page_free(&j->pg);
    free(j->out);
    free(j->env);
    free(j);
}

/* Start @x; 0, or a negative errno-style code. */
static int spawn_one(struct job *j, const kite__ssi_exec_t *x)
{
    char *argv[] = {"sh", "-c", x->cmd, NULL};
    int fds[4] = {-1, -1, -1, -1}, in, r, i;
    kite__cgi_t *g;
    pid_t pid;
    size_t n;

    if ((in = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
        return -errno;
    r = kite__cgi_spawn_argv("/bin/sh", argv, x->dir, j->env, in, fds, &pid);
    close(in);
    if (r < 0)
        return r;
    n = strlen(j->pg.path) + strlen(x->cmd) + 16;
    if (!(g = calloc(1, sizeof(*g))) || !(g->name = malloc(n))) {
        free(g);
        kill(-pid, SIGKILL);
        waitpid(pid, NULL, 0);
        for (i = 0; i < 4; i++)
            if (fds[i] >= 0)
                close(fds[i]);
        return -ENOMEM;
    }
    snprintf(g->name, n, "%s (exec \"%s\")", j->pg.path, x->cmd);
    g->refs = 1; /* the job's */
    g->client = j->c;
    g->t = j->t;
    g->pid = pid;
    g->flags = CGI_SSI;
    j->g = g;
    if ((r = kite__cgi_pipes_open(g, j->c, fds, j->timeout)) < 0) {
        j->g = NULL;
        kite__cgi_unref(g);
        return -EIO;
    }
    return 0;
}

/* Send the page (or a 500); the job is freed. */
static void finish(struct job *j)
{
    kite_conn_t *c = j->c;
    kite_http_req_t *t = j->t;
    struct sess *s = c->user;
    unsigned was;
    int r;

    put(j, j->pg.text + j->done, j->pg.len - j->done);
    /* The transaction ends in what follows: on_closed must not free @j. */
    s->j = NULL;
    was = kite__conn_enter(c);
    if (j->err) {
        r = kite__http_error(c, t, 500, j->err == KITE_E2BIG ? "SSI output too large" : NULL);
    } else {
        kite__http_add_header_n(t, "Cache-Control", "no-cache", 8);
        r = t->wire->respond(c, t, 200, j->pg.mime, (int64_t)j->n);
        if (r == 0)
            r = t->wire->body(c, t, j->out, j->n, 1);
    }
    if (r < 0)
        kite__conn_close_now(c, KITE_CLOSE_ERROR);
    if (!was)
        kite__conn_leave(c);
    job_free(j);
}

/* Start the next command that starts, or send the page. */
static void step(struct job *j)
{
    const kite__ssi_exec_t *x;
    int r;

    while (j->next < j->pg.nex && !j->err) {
        x = &j->pg.ex[j->next++];
        put(j, j->pg.text + j->done, x->off - j->done);
        j->done = x->off;
        if ((r = spawn_one(j, x)) == 0)
            return;
        kite_err("SSI %s: exec \"%s\": cannot run it: %s", j->pg.path, x->cmd, strerror(-r));
    }
    finish(j);
}

static struct job *job_of(const kite__cgi_t *g)
{
    struct sess *s = g->client ? g->client->user : NULL;

    return s && s->j && s->j->g == g ? s->j : NULL;
}

int kite__ssi_exec_output(kite__cgi_t *g, const char *buf, size_t len)
{
    struct job *j = job_of(g);

    if (!j || put(j, buf, len) == 0)
        return 0;
    /* The page would be too large: stop the command (the page gets a 500). */
    g->flags |= CGI_KILLED;
    kill(-g->pid, SIGKILL);
    return -1;
}

void kite__ssi_exec_end(kite__cgi_t *g, int how)
{
    struct job *j = job_of(g);
    kite_conn_t *c;

    if (!j)
        return;
    c = j->c;
    drop_command(j);
    if (how < 0 && !j->err) {
        /* kite closed the pipe (the context is going away): so goes the page. */
        kite__conn_close_now(c, KITE_CLOSE_ERROR);
        return;
    }
    step(j);
}

static int on_http(kite_conn_t *c, void *user, const kite_http_req_t *req)
{
    /* The job is attached by kite__ssi_exec_run() once this returns. */
    (void)c;
    (void)user;
    (void)req;
    return 0;
}

static void on_closed(kite_conn_t *c, void *user, int code)
{
    struct sess *s = user;

    (void)c;
    (void)code;
    if (s && s->j) {
        job_free(s->j);
        s->j = NULL;
    }
}

static const kite_protocol_t ssi_proto = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "kite-ssi-exec",
    .per_session_size = sizeof(struct sess),
    .on_http = on_http,
    .on_closed = on_closed,
};

int kite__ssi_exec_run(kite_conn_t *c, kite_http_req_t *t, const kite__mount_rt_t *m,
                       kite__ssi_page_t *pg)
{
    struct job *j = calloc(1, sizeof(*j));
    struct sess *s;
    int r;

    if (!j) {
        kite__ssi_page_free(pg);
        return kite__http_error(c, t, 500, NULL);
    }
    j->pg = *pg;
    memset(pg, 0, sizeof(*pg));
    j->c = c;
    j->t = t;
    j->timeout = m->m->cgi_timeout;
    if (!(j->env = kite__cgi_env(c, t, j->pg.path, strlen(t->mount_path)))) {
        job_free(j);
        return kite__http_error(c, t, 500, NULL);
    }
    r = kite__http_callback(c, t, &ssi_proto);
    if (r < 0 || c->proto != &ssi_proto || !(s = c->user) || (t->tflags & KITE__T_FINAL)) {
        job_free(j);
        return r;
    }
    s->j = j;
    step(j);
    return 0;
}
