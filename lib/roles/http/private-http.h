/*
 * Role-independent HTTP: the transaction (a kite_http_req_t) that a wire
 * role (h1, h2 streams) fills from the request head, the dispatch to
 * vhost mounts, file serving, redirects, callback mounts and error pages.
 * The wire role supplies how a response head and body are framed.
 */
#ifndef KITE_HTTP_PRIVATE_H
#define KITE_HTTP_PRIVATE_H

#include "core/private.h"
#include "roles/roles.h"
#include "misc/misc.h"
#include "modules.h"
#include "roles/h1/parser.h"

#define KITE__TXN_ARENA 4096

enum {
    KITE__T_HEAD_SENT = 1 << 0, /* status line and headers queued */
    KITE__T_FINAL = 1 << 1,     /* the whole response is queued */
    KITE__T_CHUNKED = 1 << 2,   /* response body is chunked */
    KITE__T_KEEPALIVE = 1 << 3, /* the conn may carry another request */
    KITE__T_IS_HEAD = 1 << 4,   /* HEAD: no body bytes on the wire */
    KITE__T_BODY = 1 << 5,      /* the request has a body */
    KITE__T_BODY_DONE = 1 << 6, /* ... and all of it was read */
    KITE__T_CONTINUE = 1 << 7,  /* 100 Continue was sent */
    KITE__T_NO_BODY = 1 << 8,   /* status forbids a body (1xx, 204, 304) */
    KITE__T_PROTO = 1 << 9,     /* a protocol serves it (callback mount, interpret) */
    KITE__T_DIGEST = 1 << 10,   /* auth_user was checked by Digest, not Basic */
    KITE__T_BROKEN = 1 << 11,   /* the response was cut short (kite__http_abort) */
    /* The Digest nonce count of this request was taken: a second check
     * (protect-uri then put-delete-auth-file, or after a local redirect)
     * must not see its own count as a replay. */
    KITE__T_NC_DONE = 1 << 12,
};

struct kite__http_wire {
    /* Queue the status line and headers; @extra holds "Name: v\r\n" lines. */
    int (*respond)(kite_conn_t *c, kite_http_req_t *t, int status, const char *ctype, int64_t clen);
    /* Queue body bytes, framed as the role needs. */
    int (*body)(kite_conn_t *c, kite_http_req_t *t, const void *buf, size_t len, int final);
    /* The response is complete (called once, after the last body bytes). */
    void (*final)(kite_conn_t *c, kite_http_req_t *t);
    /* Send "100 Continue". */
    void (*send_continue)(kite_conn_t *c, kite_http_req_t *t);
    /* Accept a websocket upgrade (@subprotocol chosen, or NULL): HTTP/1.1
     * a 101, HTTP/2 (RFC 8441) a 200 that leaves the stream open. */
    int (*ws_accept)(kite_conn_t *c, kite_http_req_t *t, const char *subprotocol,
                     const char *extensions);
    /* Bytes queued on the conn reach the peer as they are: a CGI "nph-"
     * script's output is sent raw (h1). Else its head is parsed (h2). */
    int raw_ok;
};

struct kite_http_req_s {
    kite__h1_req_t p; /* parsed head: strings point into head */
    const struct kite__http_wire *wire;
    kite_http_req_t *free_next;
    const kite__mount_rt_t *mrt;
    char *head; /* the head copy (arena or heap) */
    char *path; /* decoded, normalised */
    const char *mount_path;
    char *auth_user; /* basic-auth or Digest user (arena or heap), or NULL */
    char *reason;    /* a script's own reason phrase (arena or heap), or NULL */
    char *file_path; /* interpret: the resolved file (arena or heap), or NULL */
    /* What the mount found file_path to be, so that its handler need not
     * work it out again: for Lua, 1 a script, 2 a page; 0 not known. */
    uint8_t file_kind;
    struct kite__put *put; /* putdel.c: a PUT body being written, or NULL */
    char *rh;              /* extra response header lines from the handler */
    size_t rh_len, rh_cap;
    size_t used;       /* arena bytes used */
    int64_t resp_len;  /* response Content-Length; -1 unknown */
    int64_t resp_sent; /* body bytes accepted so far */
    int64_t body_left; /* request Content-Length bytes still to read */
    kite__h1_chunked_t chunk;
    uint16_t status;
    uint16_t tflags;
    uint8_t redirects; /* local redirects followed (CGI Location: /path) */
    char arena[KITE__TXN_ARENA];
};

/* Transactions come from a per-thread freelist. */
kite_http_req_t *kite__http_txn_get(kite__pt_t *pt);
void kite__http_txn_put(kite__pt_t *pt, kite_http_req_t *t);
void kite__http_pt_free(kite__pt_t *pt);
/* Copy @len bytes into the transaction's arena (or the heap), NUL-terminated. */
char *kite__http_txn_copy(kite_http_req_t *t, const char *s, size_t len);
/* The authenticated user of @t is @user (copied; a user set before, by
 * another check of the same request, is given back); 0 or KITE_ENOMEM. */
int kite__http_txn_set_user(kite_http_req_t *t, const char *user);
/* The reason phrase a script gave for its status (CGI "Status: 203 Text",
 * a Lua page's status line): @len bytes of @s, leading blanks skipped,
 * control characters dropped; the h1 wire sends it instead of the
 * standard one. NULL, or nothing left, or longer than KITE__REASON_MAX:
 * the standard phrase. Error pages of kite's own drop it. */
#define KITE__REASON_MAX 128
void kite__http_set_reason(kite_http_req_t *t, const char *s, size_t len);

/* Route a parsed request: vhost, mount, then the origin's handler. */
int kite__http_dispatch(kite_conn_t *c, kite_http_req_t *t);
/* Request body bytes (@len may be 0 with @done set when it ends). */
/* kite_write() of a response body, for any wire: the kind checked, the
 * conn's output cap (KITE_EAGAIN past it), then the wire's body(). */
int kite__http_write(kite_conn_t *c, const void *buf, size_t len, unsigned flags);
/* The wires' body(): @len more bytes of @t's response are counted, or
 * refused with KITE_ESTATE (no head yet, or ended) or KITE_EINVAL (past
 * the Content-Length announced). */
static inline int kite__http_body_count(kite_http_req_t *t, size_t len)
{
    if (!(t->tflags & KITE__T_HEAD_SENT) || (t->tflags & KITE__T_FINAL))
        return KITE_ESTATE;
    if (t->resp_len >= 0 && t->resp_sent + (int64_t)len > t->resp_len &&
        !(t->tflags & KITE__T_IS_HEAD))
        return KITE_EINVAL;
    t->resp_sent += (int64_t)len;
    return 0;
}

/* The response ended shorter than its Content-Length. */
static inline int kite__http_body_short(const kite_http_req_t *t)
{
    return t->resp_len >= 0 && t->resp_sent < t->resp_len && !(t->tflags & KITE__T_IS_HEAD);
}

int kite__http_body(kite_conn_t *c, kite_http_req_t *t, const void *buf, size_t len);
int kite__http_body_done(kite_conn_t *c, kite_http_req_t *t);
/* The body of @t's response ended abnormally (a script crashed or timed
 * out, an upstream died, a Lua page failed after its head): end it so
 * that no client takes it for whole. HTTP/1.1 closes without the last
 * chunk (what was queued is still sent), a close-delimited body ends with
 * a TCP reset, HTTP/2 resets the stream with INTERNAL_ERROR; the access
 * log marks the line "incomplete". @reason (kite_close_reason_t) is the
 * close's, where the conn closes at once. */
void kite__http_abort(kite_conn_t *c, kite_http_req_t *t, int reason);
/* A local redirect's target for @t: @loc (a path, maybe "?query") copied
 * into its arena (freed with the transaction); 0 or KITE_E2BIG. */
int kite__http_txn_set_target(kite_http_req_t *t, const char *loc);
/* Before routing @t again (a CGI local redirect): unbind the protocol and
 * drop what the first route set (path, file, user, extra headers). */
void kite__http_txn_reroute(kite_conn_t *c, kite_http_req_t *t);
/* The conn's transaction (c->rd), if any, ends: tell the protocol, log
 * it and give the transaction back. */
void kite__http_txn_end(kite_conn_t *c, int closing);

/* A mount's basic-auth and interpret settings, resolved at vhost creation. */
struct kite__interp {
    const char *suffix;
    size_t len;
    const kite_protocol_t *proto;
};
struct kite__mount_x {
    struct kite__auth *auth;
    char *realm_hdr; /* "Basic realm=\"<vhost>\"" */
    struct kite__interp *interp;
    int ninterp;
    char **index; /* index-files, in order (NULL-terminated), or NULL */
    const char *hide;
    size_t hide_len;
    const char *ssi; /* ssi-pattern, or NULL */
    size_t ssi_len;
    int listing;
};

/* mountx.c */
int kite__http_mount_prepare(kite_vhost_t *vh, kite__mount_rt_t *rt);
void kite__http_mount_free(kite__mount_rt_t *rt);
/* Basic-auth on @m's mount: 0 to go on, or the result of the 401/403 sent. */
int kite__http_mount_auth(kite_conn_t *c, kite_http_req_t *t, const kite__mount_rt_t *m,
                          int *answered);
/* interpret: when @rel names a file with an interpreted suffix, hand the
 * request to its protocol (*handled set); else leave it to file serving. */
int kite__http_interpret(kite_conn_t *c, kite_http_req_t *t, const kite__mount_rt_t *m,
                         const char *rel, int *handled);

/* hide-files: does a component of the mount-relative path @rel match? */
/* root + "/" + rel (+ index) into path[PATH_MAX]; the length or -1 if too long. On
 * the hot path of every file request, so no printf. */
int kite__http_join_path(char *path, const char *root, size_t root_len, const char *rel,
                         size_t rlen, const char *index);
int kite__http_hidden_path(const kite__mount_rt_t *m, const char *rel, size_t len);
static inline int kite__http_hidden(const kite__mount_rt_t *m, const char *rel, size_t len)
{
    return m->x && m->x->hide && kite__http_hidden_path(m, rel, len);
}

/* ssi.c: send the file @path (inside @m's root) with its includes done. */
int kite__http_ssi(kite_conn_t *c, kite_http_req_t *t, const kite__mount_rt_t *m, const char *path,
                   const char *mime);

/* An SSI page with exec directives (ssi-exec): its text with the output
 * of each command left out, and where each goes. All malloc'd. */
typedef struct kite__ssi_exec {
    size_t off; /* in text, where the command's output goes */
    char *cmd;  /* run by /bin/sh -c */
    char *dir;  /* its working directory: the directive's document's */
} kite__ssi_exec_t;

typedef struct kite__ssi_page {
    char *text;
    size_t len;
    kite__ssi_exec_t *ex; /* in page order */
    int nex;
    char *path; /* the page, for SCRIPT_FILENAME and log lines */
    char *mime;
} kite__ssi_page_t;

/* Upper bound of an SSI page with everything done. */
#define KITE__SSI_OUT_MAX (16u << 20)

/* roles/cgi/ssi-exec.c: run @pg's commands one after the other on the
 * loop (spawned as CGI scripts are, their stdout a pipe conn, with the
 * mount's cgi-timeout), then send the page. Takes @pg's contents. */
int kite__ssi_exec_run(kite_conn_t *c, kite_http_req_t *t, const kite__mount_rt_t *m,
                       kite__ssi_page_t *pg);
void kite__ssi_page_free(kite__ssi_page_t *pg);

/* dirlist.c: an HTML listing of the directory @dir (the file system path,
 * ending in '/') for the URL path t->path. */
int kite__http_dir_listing(kite_conn_t *c, kite_http_req_t *t, const kite__mount_rt_t *m,
                           const char *dir);

/* vhostx.c: access-control-allow-origin and error-pages of a vhost. */
int kite__http_vhost_open(kite_vhost_t *vh, const kite_vhost_info_t *info);
void kite__http_vhost_close(kite_vhost_t *vh);
/* Answer an OPTIONS request with Access-Control-Request-Method. */
int kite__http_cors_preflight(kite_conn_t *c, kite_http_req_t *t);
/* The error page for @status from error-pages: 0 when one was sent. */
int kite__http_error_page(kite_conn_t *c, kite_http_req_t *t, int status);

/* The http module's state of a vhost: vh->mod[KITE__SLOT_HTTP], made by
 * its vhost_init (module.c) and freed by its vhost_destroy. */
struct kite__acl;
struct kite__throttle;
struct kite__dauth;
struct kite__http_vh {
    char *cors_origin;               /* access-control-allow-origin, or NULL */
    kite__mount_rt_t *errpages;      /* error-pages as a file mount, or NULL */
    struct kite__dauth *dauth;       /* digest.c, or NULL */
    char *putdel;                    /* put-delete-auth-file, or NULL */
    struct kite__acl *acl;           /* access-control-list, or NULL */
    struct kite__throttle *throttle; /* throttle rules, or NULL */
};

static inline struct kite__http_vh *kite__http_vh(const kite_vhost_t *vh)
{
    return vh->mod[KITE__SLOT_HTTP];
}

static inline const struct kite__throttle *kite__http_vh_throttle(const kite_vhost_t *vh)
{
    return kite__http_vh(vh)->throttle;
}

/* throttle.c: the throttle rules of a vhost, and @c's rate for the
 * request for @path (none without rules). Parse: 0, or KITE_EINVAL with
 * the bad entry in @bad. core/throttle.c enforces the rate. */
int kite__throttle_parse(const char *list, struct kite__throttle **out, char *bad, size_t blen);
void kite__throttle_free(struct kite__throttle *th);
int kite__http_throttle(kite_conn_t *c, const char *path);

/* acl.c: access-control-list. Parse: 0, or KITE_EINVAL with the bad entry
 * in @bad. Check: 1 when @c's peer is allowed; else 0 with its address in
 * @text (INET6_ADDRSTRLEN bytes). */
int kite__acl_parse(const char *list, struct kite__acl **out, char *bad, size_t blen);
void kite__acl_free(struct kite__acl *acl);
int kite__acl_check(const struct kite__acl *acl, kite_conn_t *c, char *text);

/* htpasswd.c: LibHTTP password files. ha1: 0 with the user's hex HA1,
 * KITE_EPERM (no such user), KITE_ENOENT (no file) or KITE_EACCES. */
void kite__md5_hex(const char *s, size_t len, char out[33]);
int kite__htpasswd_ha1(const char *file, const char *user, const char *realm, char ha1[33]);

/* digest.c: auth-domain, global-auth-file, protect-uri, .htpasswd. */
/* The realm of @vh's Digest authentication (auth-domain, else its name). */
const char *kite__http_auth_realm(const kite_vhost_t *vh);
int kite__http_dauth_open(kite_vhost_t *vh, const kite_vhost_info_t *info);
void kite__http_dauth_close(kite_vhost_t *vh);
/* 0 to go on (t->auth_user set if credentials were checked), or the
 * result of the 401/404/500 sent (*answered set). */
int kite__http_digest(kite_conn_t *c, kite_http_req_t *t, const kite__mount_rt_t *m, int *answered);
/* The same against @file, which must exist (put-delete-auth-file). */
int kite__http_digest_file(kite_conn_t *c, kite_http_req_t *t, const char *file, int *answered);

/* putdel.c: PUT, DELETE and MKCOL on a file mount (the vhost has a put-delete-auth-file). */
int kite__http_putdel(kite_conn_t *c, kite_http_req_t *t, const kite__mount_rt_t *m,
                      const char *rel);
int kite__http_put_body(kite_conn_t *c, kite_http_req_t *t, const void *buf, size_t len);
int kite__http_put_done(kite_conn_t *c, kite_http_req_t *t);
/* The transaction ends before the body did: remove the temporary file. */
void kite__http_put_abort(kite_http_req_t *t);

/* auth.c: the user:password[:mask] file, per service thread. */
struct kite__auth *kite__auth_load(const char *path, int npts, int *err);
void kite__auth_free(struct kite__auth *a);
/* Check "Basic ..." credentials: 0 with *user and *mask set, or KITE_EPERM. */
int kite__auth_check(struct kite__auth *a, kite__pt_t *pt, const char *authz, char *user,
                     size_t ucap, unsigned *mask);

/* filter.c: the checks before routing (strict Host, rejected User-Agents).
 * Returns 0 to go on, or the result of the answer sent (*answered set). */
int kite__http_filter(kite_conn_t *c, kite_http_req_t *t, int *answered);
int kite__http_reject_check(const kite_pvo_t *kw);

/* alog.c: the access-log module (roles/http/module.c): a context's list
 * of logs, a vhost's log, and one line per transaction. */
int kite__alog_ctx_init(kite_context_t *ctx, const kite_context_info_t *info);
void kite__alog_ctx_free(kite_context_t *ctx);
int kite__alog_open(kite_vhost_t *vh, const char *path);
void kite__alog_close(kite_vhost_t *vh);
void kite__alog_txn(kite_conn_t *c, const kite_http_req_t *t);

/* mount.c: hand the request to @p's on_http, as a callback mount does. */
int kite__http_callback(kite_conn_t *c, kite_http_req_t *t, const kite_protocol_t *p);

/* file.c */
int kite__http_serve_file(kite_conn_t *c, kite_http_req_t *t, const kite__mount_rt_t *mrt,
                          const char *rel, int status);
/* respond.c */
int kite__http_error(kite_conn_t *c, kite_http_req_t *t, int status, const char *detail);
int kite__http_add_header_n(kite_http_req_t *t, const char *name, const char *value, size_t vlen);
/* One "name: value" field of a head a script wrote (CGI output, a Lua
 * page's own head): @name (@nlen bytes), its value from @v to @e, which
 * is NUL (trailing blanks are cut here). Content-Type goes to *@ctype,
 * Content-Length to *@clen; the framing fields (Connection,
 * Transfer-Encoding, Keep-Alive) and those the wire writes (Date, Server)
 * are dropped, since framing is kite's; the rest join the response.
 * 0, or KITE_EPROTO (a bad length, no memory). */
int kite__http_script_field(kite_http_req_t *t, const char *name, size_t nlen, char *v, char *e,
                            const char **ctype, int64_t *clen);

#endif
