/*
 * CGI (RFC 3875) internals. CGI is a handler of the http role, not a role
 * of its own: the client connection stays an h1 connection whose
 * transaction is bound to an internal protocol (kite__cgi_proto), exactly
 * as a callback mount is, so request bodies, 100-continue, keep-alive and
 * the writeable discipline work as for every handler. The script's
 * stdin, stdout and stderr pipes and a pidfd for its exit are adopted as
 * raw connections (KITE__C_NOTSOCK) of a second internal protocol on the
 * same service thread: non-blocking, with rx pause/resume both ways.
 *
 * Ownership: one kite__cgi_t per request, counted by every conn that
 * points at it (the client while its transaction lasts, each pipe conn
 * until it closes); the last one frees it.
 */
#ifndef KITE_CGI_PRIVATE_H
#define KITE_CGI_PRIVATE_H

#include <sys/types.h>

#include "roles/http/private-http.h"

/* Stop reading the other side while this much is queued for one side. */
#define KITE__CGI_HIGH (256 * 1024)
/* A script's response head must fit in this. */
#define KITE__CGI_HEAD_MAX (32 * 1024)
/* Local redirects (Location: /path) followed for one request. */
#define KITE__CGI_MAX_REDIRECTS 4

enum {
    CGI_HEAD_DONE = 1 << 0, /* the response head was sent (or NPH output began) */
    CGI_NPH = 1 << 1,       /* nph-*: output goes to the client as it is */
    CGI_RX_PAUSED = 1 << 2, /* the client's body reading is paused for stdin */
    CGI_REAPED = 1 << 3,    /* waitpid() collected the exit status */
    CGI_KILLED = 1 << 4,    /* we killed the process group (timeout, client gone) */
    CGI_SSI = 1 << 5,       /* an SSI exec: stdout goes into the page (ssi-exec.c) */
    CGI_OUT_EOF = 1 << 6,   /* stdout ended; the response ends once the exit is known */
};

typedef struct kite__cgi {
    kite_conn_t *client; /* the HTTP conn while the transaction is ours */
    kite_http_req_t *t;
    kite_conn_t *in, *out, *err, *pidc; /* NULL once closed */
    pid_t pid;
    int refs;
    int wstatus;
    unsigned flags;
    char *name; /* the script path, for log lines */
    char *head; /* response head bytes read so far (KITE__CGI_HEAD_MAX) */
    size_t head_len;
    char line[512]; /* a stderr line not yet ended */
    size_t line_len;
    kite_timer_t tmo; /* cgi-timeout, on the pidfd conn */
} kite__cgi_t;

/* cgi.c: the handler (dispatch from mount.c). */
/* A cgi:// mount: find the script in @m's directory and run it. */
int kite__cgi_serve(kite_conn_t *c, kite_http_req_t *t, const kite__mount_rt_t *m);
/* A file mount with cgi-pattern: run the file when its path matches
 * (*answered set); else leave the request to file serving. */
int kite__cgi_try(kite_conn_t *c, kite_http_req_t *t, const kite__mount_rt_t *m, int *answered);
void kite__cgi_unref(kite__cgi_t *g);
/* The client @c lets go of its script (a local redirect re-routes it). */
void kite__cgi_release(kite_conn_t *c);
/* The transaction can no longer be answered by the script: detach it. */
void kite__cgi_detach(kite__cgi_t *g);

/* env.c: the meta-variables of @t as a NULL-terminated array in one block
 * (free() it); @script is the file, @info_off where PATH_INFO starts in
 * the request's mount path. NULL on allocation failure. */
char **kite__cgi_env(kite_conn_t *c, kite_http_req_t *t, const char *script, size_t info_off);

/* spawn.c: start @script (through @interp when set) with @envp, in @wd
 * (NULL: the script's directory) and a process group of its own. fds[] gets the
 * parent's ends of stdin (-1 when @in_fd, a file, is its stdin), stdout,
 * stderr and a pidfd, all non-blocking and close-on-exec. Returns 0 or a
 * negative errno-style code. */
int kite__cgi_spawn(const char *interp, const char *script, const char *wd, char **envp, int in_fd,
                    int fds[4], pid_t *pid);
/* The same for any program: @file (looked up in PATH when it has no '/')
 * with @argv, in the directory @dir. */
int kite__cgi_spawn_argv(const char *file, char *const argv[], const char *dir, char **envp,
                         int in_fd, int fds[4], pid_t *pid);

/* output.c: bytes from the script's stdout, and its end (@eof: the
 * script closed it; 0: kite closed it, the response is cut short). */
int kite__cgi_output(kite__cgi_t *g, const char *buf, size_t len);
void kite__cgi_output_end(kite__cgi_t *g, int eof);
/* The script has exited (reaped): end a response whose stdout ended
 * before the exit was known (CGI_OUT_EOF). */
void kite__cgi_exited(kite__cgi_t *g);

/* pipes.c: the pipe and pidfd conns. */
int kite__cgi_pipes_open(kite__cgi_t *g, kite_conn_t *c, const int fds[4], unsigned timeout_s);
void kite__cgi_stderr(kite__cgi_t *g, const char *buf, size_t len);
void kite__cgi_close_pipes(kite__cgi_t *g); /* stdin and stdout */

/* ssi-exec.c: an SSI exec's stdout, and its end (@how 1: the command
 * closed it; 0: cgi-timeout cut it; -1: kite closed it, the page is lost). */
int kite__ssi_exec_output(kite__cgi_t *g, const char *buf, size_t len);
void kite__ssi_exec_end(kite__cgi_t *g, int how);

extern const kite_protocol_t kite__cgi_proto;

#endif
