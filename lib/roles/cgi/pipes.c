/*
 * The connections around a running script: its stdin (written to from the
 * request body), stdout (the response), stderr (logged line by line with
 * the script's name) and a pidfd (readable once the process has exited;
 * reading it fails, which the event backend reports as the end of input,
 * so both backends watch it like any other adopted fd). They are raw
 * connections of an internal protocol on the client's service thread. The
 * pidfd conn also carries the cgi-timeout timer, which kills the whole
 * process group, and reaps the process when it exits: no zombies, and no
 * SIGCHLD handler.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/private.h"
#include "roles/cgi/private-cgi.h"

static kite__cgi_t *of(void *user)
{
    return user ? *(kite__cgi_t **)user : NULL;
}

static int pipe_raw(kite_conn_t *pc, void *user, const void *in, size_t len)
{
    kite__cgi_t *g = of(user);

    if (g && pc == g->out)
        return (g->flags & CGI_SSI) ? kite__ssi_exec_output(g, in, len)
                                    : kite__cgi_output(g, in, len);
    if (g && pc == g->err)
        kite__cgi_stderr(g, in, len);
    return 0;
}

static int pipe_writeable(kite_conn_t *pc, void *user)
{
    kite__cgi_t *g = of(user);

    /* stdin has taken what was queued: read the request body again. */
    if (g && pc == g->in && (g->flags & CGI_RX_PAUSED)) {
        g->flags &= ~CGI_RX_PAUSED;
        if (g->client)
            kite_rx_flow_control(g->client, 1);
    }
    return 0;
}

static void reap(kite__cgi_t *g)
{
    int st = 0;

    if (waitpid(g->pid, &st, WNOHANG) != g->pid) {
        /* The pidfd conn closed before the exit (the context or its
         * service thread is going away): do not leave the process behind. */
        kill(-g->pid, SIGKILL);
        waitpid(g->pid, &st, 0);
    }
    g->flags |= CGI_REAPED;
    g->wstatus = st;
    if (WIFSIGNALED(st) && !(g->flags & CGI_KILLED))
        kite_warn("cgi %s: killed by signal %d", g->name, WTERMSIG(st));
}

static void pipe_closed(kite_conn_t *pc, void *user, int code)
{
    kite__cgi_t *g = of(user);

    if (!g)
        return;
    if (pc == g->in) {
        g->in = NULL;
        /* The script stopped reading: the rest of the body is dropped. */
        if ((g->flags & CGI_RX_PAUSED) && g->client) {
            g->flags &= ~CGI_RX_PAUSED;
            kite_rx_flow_control(g->client, 1);
        }
    } else if (pc == g->out) {
        g->out = NULL;
        /* 3: the raw role saw the end of input; anything else (a drain,
         * the context going away) cut the output short. */
        if (g->flags & CGI_SSI)
            kite__ssi_exec_end(g, code == 3 ? 1 : -1);
        else
            kite__cgi_output_end(g, code == 3);
    } else if (pc == g->err) {
        g->err = NULL;
        kite__cgi_stderr(g, "\n", g->line_len ? 1 : 0);
    } else if (pc == g->pidc) {
        g->pidc = NULL;
        reap(g);
        if (!(g->flags & CGI_SSI))
            kite__cgi_exited(g);
    }
    kite__cgi_unref(g);
}

static const kite_protocol_t pipe_proto = {
    .abi = KITE_PROTOCOL_ABI,
    .name = "kite-cgi-pipe",
    .per_session_size = sizeof(kite__cgi_t *),
    .on_raw = pipe_raw,
    .on_writeable = pipe_writeable,
    .on_closed = pipe_closed,
};

static void on_timeout(kite_conn_t *pc, kite_timer_t *t)
{
    kite__cgi_t *g = (kite__cgi_t *)((char *)t - offsetof(kite__cgi_t, tmo));
    kite_conn_t *c = g->client;

    (void)pc;
    kite_warn("cgi %s: cgi-timeout: killing process group %d", g->name, (int)g->pid);
    g->flags |= CGI_KILLED;
    kill(-g->pid, SIGKILL);
    if (!c)
        return;
    /* An SSI exec: the page goes on with what the command wrote. */
    if (g->flags & CGI_SSI) {
        kite__ssi_exec_end(g, 0);
        return;
    }
    /* Answer 504 if nothing was sent yet; else the response is cut. */
    if (!(g->flags & CGI_HEAD_DONE)) {
        g->flags |= CGI_HEAD_DONE;
        g->t->rh_len = 0;
        kite__conn_enter(c);
        if (kite__http_error(c, g->t, 504, NULL) < 0)
            kite__conn_close_now(c, KITE_CLOSE_ERROR);
        kite__conn_leave(c);
    } else {
        kite__http_abort(c, g->t, KITE_CLOSE_TIMEOUT);
    }
}

int kite__cgi_pipes_open(kite__cgi_t *g, kite_conn_t *c, const int fds[4], unsigned timeout_s)
{
    kite_conn_t **slot[4] = {&g->in, &g->out, &g->err, &g->pidc};
    int i, r = 0;

    for (i = 0; i < 4; i++) {
        kite_conn_t *pc;
        if (fds[i] < 0)
            continue;
        if (r < 0 || !(pc = kite__conn_adopt(c->pt, c->vh, fds[i], 0, &r))) {
            close(fds[i]);
            r = r < 0 ? r : KITE_ENOMEM;
            continue;
        }
        kite__conn_enter(pc);
        r = kite__conn_role_start(pc, "raw", NULL, 0, &pipe_proto);
        if (r == 0) {
            pc->role = &kite__role_cgi_pipe; /* raw, ignoring a drain */
            *(kite__cgi_t **)pc->user = g;
            g->refs++;
            *slot[i] = pc;
            if (i)
                r = kite__conn_read_start(pc);
        }
        if (r < 0)
            kite__conn_close_now(pc, KITE_CLOSE_SETUP);
        kite__conn_leave(pc);
    }
    if (r == 0 && timeout_s)
        r = kite_timer_schedule(g->pidc, &g->tmo, (uint64_t)timeout_s * 1000000u, on_timeout);
    if (r < 0) {
        kite_err("cgi %s: cannot watch the script's pipes: %s", g->name, kite_strerror(r));
        kill(-g->pid, SIGKILL);
        kite__cgi_detach(g);
        if (!g->pidc)
            waitpid(g->pid, NULL, 0); /* nothing else would reap it */
    }
    return r;
}

void kite__cgi_close_pipes(kite__cgi_t *g)
{
    kite_conn_t *pc[2] = {g->in, g->out};
    int i;

    /* stderr stays open until the script closes it: its last lines are
     * often written just before it exits. */
    g->in = g->out = NULL;
    for (i = 0; i < 2; i++)
        if (pc[i])
            kite__conn_close_now(pc[i], KITE_CLOSE_NORMAL);
}

void kite__cgi_stderr(kite__cgi_t *g, const char *buf, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (buf[i] != '\n' && g->line_len < sizeof(g->line) - 1) {
            g->line[g->line_len++] = buf[i];
            continue;
        }
        if (g->line_len && g->line[g->line_len - 1] == '\r')
            g->line_len--;
        g->line[g->line_len] = '\0';
        kite_warn("cgi %s: %s", g->name, g->line);
        g->line_len = 0;
        if (buf[i] != '\n')
            g->line[g->line_len++] = buf[i];
    }
}
