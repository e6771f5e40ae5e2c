/*
 * Core internals: the context, service threads (pt), listeners, vhosts,
 * connections, the output queue and the timer heap. Roles see
 * connections through this header; only lib/event knows the loop.
 */
#ifndef KITE_CORE_PRIVATE_H
#define KITE_CORE_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "kite.h"

typedef struct kite__pt kite__pt_t;
typedef struct kite__listener kite__listener_t;
typedef struct kite__oseg kite__oseg_t;
typedef struct kite__fcache kite__fcache_t;
typedef struct kite__osrc kite__osrc_t;

#define KITE__RXBUF_SIZE (64 * 1024)
#define KITE__SEG_BLOCK  (16 * 1024)

/* The role of a connection (h1, h2, ws, raw, cgi pipes, client): how core
 * hands it events. */
struct kite__role_ops {
    const char *name;
    /* Bytes from the peer; @buf is the pt's buffer or the conn's own and may be
     * modified. Returns 0, or <0 to close. */
    int (*on_data)(kite_conn_t *c, char *buf, size_t len);
    /* The peer closed its side or the read failed (@status <0). */
    void (*on_eof)(kite_conn_t *c, int status);
    /* A requested on_writeable is due (nothing pending). */
    int (*on_writeable)(kite_conn_t *c);
    /* Everything queued has been sent. */
    void (*on_drain)(kite_conn_t *c);
    /* The state timeout expired. Returns 0 when handled, <0 to close. */
    int (*on_timeout)(kite_conn_t *c);
    /* kite_write() from a handler. */
    int (*write)(kite_conn_t *c, const void *buf, size_t len, unsigned flags);
    /* The connection is going away; release role data. */
    void (*on_close)(kite_conn_t *c, int reason);
    /* kite_close() from a handler; NULL: flush and close. */
    int (*close)(kite_conn_t *c, int code, const char *reason);
    /* Reading was re-enabled: deliver input held in c->in. */
    void (*on_rx_resume)(kite_conn_t *c);
    /* Graceful stop (drain, or a reload removed the conn's listener):
     * finish what is in flight, then close; NULL: flush and close. */
    void (*drain)(kite_conn_t *c);
    /* Client conns: the TCP connect (and, from lib/tls, the TLS handshake)
     * finished with @status 0 or <0; @why says what failed, or NULL. */
    void (*on_connect)(kite_conn_t *c, int status, const char *why);
    /* Appended: c->rd is the kite_http_req_t of the request in flight
     * (h1, h2 streams), which the kite_http_* API works on. */
    int http;
    /* Appended for role switches, which go through core
     * (kite__conn_role_start, kite__conn_alpn) so that no layer names
     * another's role. alpn: the ALPN id the role serves ("h2"), or NULL.
     * start: make @c, whose role has no transaction in flight, a conn of
     * this role; @buf holds bytes already read that belong to it, @arg is
     * the role's own (raw: the kite_protocol_t). 0 or <0 (close). */
    const char *alpn;
    int (*start)(kite_conn_t *c, char *buf, size_t len, const void *arg);
    unsigned traits; /* KITE__ROLE_* */
};

/* Role traits, which drain and reload ask about instead of naming roles. */
enum {
    /* A drain shuts the write side and reads the peer's input before the
     * close: an HTTP/1 peer may be sending its next request already. */
    KITE__ROLE_LINGER = 1 << 0,
    /* Requests and responses: a reload that retires the conn's listener
     * lets it finish the request in flight and close (websockets and raw
     * conns stay). */
    KITE__ROLE_RETIRE = 1 << 1,
};

/* The transport of a connection: plain TCP, or TLS over it (lib/tls).
 * Core moves bytes through it; roles never see it. Plain conns all point
 * at one shared stateless transport; a TLS conn's transport is its own
 * state, whose first member is this. */
struct kite__xport_ops {
    const char *name;
    /* Bytes read from the socket: hand what they carry to the role. Returns 0,
     * or <0 to close. */
    int (*rx)(kite_conn_t *c, char *buf, size_t len);
    /* As the backend's try_writev / try_sendfile: bytes of the output queue
     * sent (maybe 0), or <0. */
    ssize_t (*writev)(kite_conn_t *c, const struct iovec *iov, int n, int more);
    ssize_t (*sendfile)(kite_conn_t *c, int fd, off_t *pos, size_t len);
    /* The kernel refused part of what writev was given: send the rest of
     * @iov in the background (the backend's write_async). */
    int (*write_async)(kite_conn_t *c, const struct iovec *iov, int n);
    /* An asynchronous write of @bytes on the socket finished: how many bytes
     * of the output queue that was. */
    size_t (*written)(kite_conn_t *c, size_t bytes);
    /* Shut the write side (TLS: after a close_notify). */
    int (*shutdown)(kite_conn_t *c);
    /* The conn is going away (@graceful: it was not aborted); release
     * transport state. */
    void (*close)(kite_conn_t *c, int graceful);
    /* Appended for streams (KITE__C_STREAM, roles/h2): conns with no socket
     * of their own, multiplexed on a parent conn. flush: output was queued,
     * the parent's framing takes it (kite__out_taken); parent: the conn
     * that owns the socket; rx_pause: the role or the application paused
     * (1) or resumed (0) reading. NULL for socket transports. */
    void (*flush)(kite_conn_t *c);
    kite_conn_t *(*parent)(const kite_conn_t *c);
    void (*rx_pause)(kite_conn_t *c, int pause);
};

typedef struct kite__xport {
    const struct kite__xport_ops *ops;
} kite__xport_t;

/* core/tcp.c: the transport of plain connections. */
extern const kite__xport_t kite__xport_tcp;

/* A refcounted source the output queue sends from without copying: bytes
 * that stay put while referenced (REF segments), or an open file (FILE
 * segments, by sendfile). Its owner (the http file cache) embeds it and
 * frees itself in release() when the last reference goes; core only
 * counts references and knows nothing of what the source is. */
struct kite__osrc {
    unsigned refs;
    int fd; /* FILE segments send from it; -1 when the source has none */
    void (*release)(kite__osrc_t *src);
};

static inline kite__osrc_t *kite__osrc_ref(kite__osrc_t *src)
{
    src->refs++;
    return src;
}

static inline void kite__osrc_unref(kite__osrc_t *src)
{
    if (!--src->refs)
        src->release(src);
}

/* Output queue segment: bytes to send, in order. */
enum { KITE__SEG_MEM, KITE__SEG_REF, KITE__SEG_FILE };

struct kite__oseg {
    kite__oseg_t *next;
    uint8_t kind;
    uint32_t cap;      /* MEM: bytes of data[] */
    size_t len;        /* bytes still to send (REF/FILE) or filled (MEM) */
    size_t off;        /* MEM: bytes of data[] already sent */
    kite__osrc_t *src; /* REF/FILE: a reference held on the source */
    const char *ref;   /* REF: next byte to send */
    off_t pos;         /* FILE: next file offset */
    char data[];
};

enum {
    KITE__C_READING = 1 << 0,      /* the backend reads (kite__conn_read_start) */
    KITE__C_RX_OFF = 1 << 1,       /* the app or role paused reading */
    KITE__C_WANT_CB = 1 << 2,      /* on_writeable requested */
    KITE__C_READY = 1 << 3,        /* on the pt's ready list */
    KITE__C_ASYNC_W = 1 << 4,      /* a backend write is in flight */
    KITE__C_CLOSING = 1 << 5,      /* close requested: flush, then close */
    KITE__C_CLOSED = 1 << 6,       /* handle closing; no more callbacks */
    KITE__C_IN_SVC = 1 << 7,       /* inside an event for this conn */
    KITE__C_DIRTY = 1 << 8,        /* output queued, not yet tried */
    KITE__C_EOF = 1 << 10,         /* peer half-closed */
    KITE__C_LINGER = 1 << 11,      /* write side shut, discarding input */
    KITE__C_ABORT = 1 << 12,       /* close without flushing */
    KITE__C_WANT_LINGER = 1 << 13, /* input may be unread: shut down, drain, then close */
    KITE__C_RX_HELD = 1 << 16,     /* input held in c->in until reading resumes */
    KITE__C_NOTSOCK = 1 << 17,     /* an adopted pipe/FIFO: write(), not sendmsg() */
    KITE__C_UDP = 1 << 18,         /* a UDP socket: datagrams, rd holds the last peer */
    KITE__C_TO_HTTPS = 1 << 19,    /* plain HTTP the vhost sends to https (redirect-http) */
    KITE__C_STREAM = 1 << 20,      /* a stream of another conn (h2): no backend handle */
    KITE__C_CLIENT = 1 << 21,      /* made by kite_client_connect (lib/client) */
};

struct kite_conn_s {
    kite__pt_t *pt;
    const struct kite__role_ops *role;
    const kite__xport_t *xp; /* its transport */
    kite_vhost_t *vh;
    const kite__listener_t *ls;
    const kite_protocol_t *proto;
    void *user; /* per_session_size bytes, or NULL (kite__conn_user_*) */
    void *rd;   /* role data while a transaction is in flight */
    kite__oseg_t *out_head, *out_tail;
    size_t out_bytes;
    size_t user_size; /* of user */
    char *in;         /* unprocessed input kept between reads */
    uint32_t in_len, in_cap;
    uint32_t scan; /* role parser progress within in[] */
    uint32_t flags;
    uint8_t state;        /* role-defined */
    uint8_t rflags;       /* the role's own bits; core never reads or writes them */
    uint8_t close_reason; /* a kite_close_reason_t */
    uint32_t peer;        /* core/iplimit.c entry of the peer address; 0: none (fits the padding) */
    uint32_t idle_ms; /* the role's: h1 keep-alive idle time after the last answer (its mount's) */
    kite_conn_t *rnext, *rprev; /* ready list */
    kite_conn_t *cnext, *cprev; /* every conn of the pt */
    kite_timer_t *timers;       /* app timers, for cancel on close */
    kite_timer_t tmo;           /* the state timeout */
    struct kite__thr *thr;      /* core/throttle.c, once throttled; else NULL */
};

struct kite__listener {
    kite__listener_t *next; /* in the pt */
    kite__pt_t *pt;
    int fd;
    int port;
    int family;
    char *unix_path;
    kite_vhost_t **vhosts; /* vhosts sharing it; [0] is the default */
    int nvhosts;
    void *ev; /* backend handle */
};

/* A mount as resolved at vhost creation. */
typedef struct kite__mount_rt {
    const kite_mount_t *m;
    int type;           /* enum kite_mount_origin, never AUTO */
    const char *origin; /* origin without its scheme */
    size_t mp_len;      /* mountpoint length without a trailing '/' */
    char *root;         /* file mounts: realpath of the docroot */
    size_t root_len;
    const kite_protocol_t *proto; /* callback mounts */
    struct kite__mount_x *x;      /* roles/http/mountx.c: basic-auth, interpret; or NULL */
} kite__mount_rt_t;

/* Modules: the code above core that keeps state per context, vhost, mount
 * or service thread (http, its access log, tls, lua). Core calls their
 * hooks rather than naming them; lib/modules.c lists them. Hooks run in
 * list order on creation and in reverse on destruction; any may be NULL.
 * A new module (metrics, PROXY protocol, zip mounts ...) adds its table
 * there and keeps its state behind its own pointers. */
typedef struct kite__module {
    const char *name;
    /* kite_context_create: check @info; 0, or <0 and the context fails. */
    int (*ctx_init)(kite_context_t *ctx, const kite_context_info_t *info);
    void (*ctx_destroy)(kite_context_t *ctx);
    /* Vhost creation, before its mounts are prepared / after them: 0 or
     * <0 (the vhost fails and vhost_destroy follows for every module). */
    int (*vhost_init)(kite_vhost_t *vh, const kite_vhost_info_t *info);
    int (*vhost_open)(kite_vhost_t *vh, const kite_vhost_info_t *info);
    void (*vhost_destroy)(kite_vhost_t *vh);
    /* A mount core has resolved (type, root, protocol): 0 or <0. */
    int (*mount_prepare)(kite_vhost_t *vh, kite__mount_rt_t *rt);
    void (*mount_free)(kite__mount_rt_t *rt);
    /* The service thread is going away (its loop is closed). */
    void (*pt_free)(kite__pt_t *pt);
    /* A protocol the module provides by name (kite_vhost_find_protocol
     * after the vhost's own), or NULL. */
    const kite_protocol_t *(*protocol)(const char *name);
} kite__module_t;

/* Opaque per-module slots on the context, each vhost and each service
 * thread (lib/modules.h numbers them); core holds them, zeroed, for the
 * module, and never reads them. */
#define KITE__MOD_SLOTS 8

/* lib/modules.c: the modules built in, NULL-terminated. */
extern const kite__module_t *const kite__modules[];

/* vh->options bits kite sets itself, above the public KITE_VH_*. */
#define KITE__VH_TO_HTTPS (1u << 31) /* KITE_TLS_REDIRECT_HTTP */

struct kite_vhost_s {
    kite_vhost_t *next;
    kite_context_t *ctx;
    char *name;
    char *iface;
    char *unix_path;
    int port; /* bound port */
    unsigned options;
    unsigned keepalive_ms;
    unsigned request_ms; /* request head and body pieces (request_timeout_ms) */
    unsigned https_port; /* redirect_https_port */
    const kite_protocol_t *const *protocols;
    void **vhd; /* per protocol */
    int nprotocols;
    int ninit; /* protocols whose on_vhost_init has run */
    const kite_pvo_t *pvo;
    const kite_protocol_t *raw_proto; /* the protocol with pvo "raw", or NULL */
    const kite_mount_t *mounts;       /* mcopy's first */
    kite_mount_t *mcopy;              /* full copies of the caller's mounts, in order */
    kite__mount_rt_t *mrt;
    int nmounts;
    char *headers; /* pre-rendered "Name: value\r\n" lines */
    size_t headers_len;
    char *error_document_404;
    void *user;
    struct kite__tls_vhost *tls; /* lib/tls: certificate and TLS settings, or NULL */
    /* Appended for reload: the context holds one reference while the vhost
     * is live or staged, each conn whose c->vh it is holds one. */
    atomic_int refs;
    void (*on_destroyed)(void *user);
    kite_ws_deflate_t ws_deflate; /* permessage-deflate settings, when ws_deflate_on */
    int ws_deflate_on;
    void *mod[KITE__MOD_SLOTS]; /* the modules' own state (lib/modules.h) */
    /* Set by modules at vhost creation, called by core at accept. admit:
     * 0 to serve the new conn, <0 to close it without a word
     * (access-control-list, roles/http/acl.c). xport_start: start the
     * conn's transport (lib/tls: the handshake), 0 or <0; NULL: plain. */
    int (*admit)(kite_conn_t *c);
    int (*xport_start)(kite_conn_t *c);
};

typedef struct kite__post {
    struct kite__post *next;
    kite_post_cb cb;
    void *arg;
} kite__post_t;

struct kite__pt {
    kite_context_t *ctx;
    int tsi;
    const struct kite__event_ops *evops; /* the backend: libuv or external poll */
    void *ev;                            /* backend state */
    char *rxbuf;
    kite__listener_t *listeners;
    kite_timer_t **heap; /* 1-based min-heap on key */
    uint32_t heap_len, heap_cap;
    kite_conn_t *ready_head, *ready_tail;
    kite__oseg_t *seg_free;
    unsigned nseg_free;
    void *txn_free; /* roles' freelist of transaction objects */
    unsigned ntxn_free;
    kite__fcache_t *fcache;
    unsigned nconns;
    kite_conn_t *conns;
    pthread_mutex_t post_lock;
    kite__post_t *posts;
    kite__post_t **posts_tail;
    pthread_t thread;
    int stop;
    time_t date_sec;
    char date[32];
    /* Appended for drain: 1 draining, 2 drained (no conns left). */
    int drain;
    kite_timer_t drain_timer; /* force-closes what is left */
    struct kite__tls_pt *tls; /* lib/tls: buffers of TLS conns, made with the first */
    struct kite__lua_pt *lua; /* lib/lua: the thread's Lua state, made with the first use */
    /* Loop turns ended (counted after each turn's I/O), so that a cache
     * can do a piece of work once a turn instead of once a request. */
    uint64_t turns;
    void *user_spare; /* the last per-session block let go of (conn.c) */
    size_t user_spare_size;
};

struct kite_context_s {
    kite_context_info_t info;
    kite_extpoll_t xpoll; /* info.extpoll's copy */
    char *server_string;
    kite__pt_t *pts;
    int npts;
    kite_vhost_t *vhosts;
    atomic_int cancel;
    atomic_int running;
    void *user;
    struct kite__peers *peers; /* core/iplimit.c: connections per peer address */
    kite_pvo_t *reject_copy;   /* info.reject_service_keywords, owned */
    /* Appended for reload and drain (lib/core/reload.c, drain.c). */
    struct kite__reload *reload; /* the staged vhosts, or NULL */
    atomic_int reload_pending;   /* service threads a commit has not reached yet */
    atomic_int draining;         /* 1: drain called, 2: its timeout is set */
    atomic_int drain_left;       /* service threads that still have conns */
    atomic_uint drain_ms;
    atomic_int destroying;      /* kite_context_destroy() runs: free vhosts there */
    void *mod[KITE__MOD_SLOTS]; /* the modules' own state (lib/modules.h) */
};

/* The send timeout in ms: how long a conn's output may stay blocked. */
static inline unsigned kite__send_ms(const kite_conn_t *c)
{
    return c->pt->ctx->info.send_timeout * 1000u;
}

/* How long a conn answering a timeout (408, an h2 GOAWAY) has to send the
 * answer before it is closed. */
#define KITE__ANSWER_GRACE_MS 2000

/* core/conn.c */
/* @ls: the listener it came from, or NULL for an adopted fd (then @vh). */
void kite__conn_init(kite_conn_t *c, kite__pt_t *pt, const kite__listener_t *ls, kite_vhost_t *vh);
void kite__conn_on_data(kite_conn_t *c, char *buf, size_t len);
void kite__conn_on_eof(kite_conn_t *c, int status);
void kite__conn_close_now(kite_conn_t *c, kite_close_reason_t reason);
/* Close @c at once as a failure: queued output is dropped, a stream is
 * reset (HTTP/2: RST_STREAM INTERNAL_ERROR), TLS sends no close_notify,
 * and with @rst a socket ends with a TCP reset instead of a FIN. */
void kite__conn_abort(kite_conn_t *c, kite_close_reason_t reason, int rst);
/* Flush what is queued, then close (the role's close steps are done). */
int kite__conn_close_graceful(kite_conn_t *c);
void kite__conn_freed(kite_conn_t *c);
void kite__conn_leave(kite_conn_t *c);
/* Treat @c as inside an event of its own while acting on it from another
 * conn's callback (a pipe's, a timer's), so that a close is finished and
 * output flushed at the end: was = kite__conn_enter(c) ...
 * kite__conn_exit(c, was). */
static inline unsigned kite__conn_enter(kite_conn_t *c)
{
    unsigned was = c->flags & KITE__C_IN_SVC;

    c->flags |= KITE__C_IN_SVC;
    return was;
}

static inline void kite__conn_exit(kite_conn_t *c, unsigned was)
{
    if (!was)
        kite__conn_leave(c);
}

/* Give back the mark kite__conn_enter() took without finishing anything:
 * for a role callback that may run inside kite__conn_leave() itself,
 * which finishes the close and flushes after it. */
static inline void kite__conn_exit_quiet(kite_conn_t *c, unsigned was)
{
    c->flags = (c->flags & ~(uint32_t)KITE__C_IN_SVC) | was;
}

/* Only core writes core's flags (c->flags); the layers above ask through
 * these, and keep their own state in their own data (c->rflags, c->rd).
 * want_linger: the peer may still be sending, so the close shuts the
 * write side and reads what comes before closing. */
static inline void kite__conn_want_linger(kite_conn_t *c)
{
    c->flags |= KITE__C_WANT_LINGER;
}

/* The transport started a backend write of its own (TLS records): the
 * queue waits for kite__out_write_done(). */
static inline void kite__conn_async_armed(kite_conn_t *c)
{
    c->flags |= KITE__C_ASYNC_W;
}

/* Plain HTTP on a vhost that sends it to https (redirect-http). */
static inline void kite__conn_to_https(kite_conn_t *c)
{
    c->flags |= KITE__C_TO_HTTPS;
}

/* The peer ended its input (a TLS close_notify, as a FIN does). */
static inline void kite__conn_peer_eof(kite_conn_t *c)
{
    c->flags |= KITE__C_EOF;
}
void kite__conn_set_state_timeout(kite_conn_t *c, unsigned ms);
int kite__conn_keep_input(kite_conn_t *c, const char *buf, size_t len);
/* New bytes after input held from earlier reads: make *buf the whole of it. */
int kite__conn_join_input(kite_conn_t *c, char **buf, size_t *len);
void kite__conn_rx_pause(kite_conn_t *c, int pause);
/* A stream (KITE__C_STREAM) of @parent with transport @xp and role @role:
 * no socket of its own, in the pt's conn list, with the parent's vhost. */
void kite__conn_init_stream(kite_conn_t *c, kite_conn_t *parent, const kite__xport_t *xp,
                            const struct kite__role_ops *role);
/* The conn that owns the socket: @c, or the parent of a stream. */
static inline kite_conn_t *kite__conn_sock(const kite_conn_t *c)
{
    return (c->flags & KITE__C_STREAM) ? c->xp->ops->parent(c) : (kite_conn_t *)c;
}

/* core/backend.c: the event backend for the layers above core, which do
 * not include event/event.h. Each is the backend's op of the same name. */
struct addrinfo;
/* A name lookup for a client connection (lib/client). The backend runs it
 * off the loop and calls @cb on the pt's thread, never from resolve()
 * itself; @res is the caller's to freeaddrinfo(). */
typedef struct kite__dns kite__dns_t;
struct kite__dns {
    const char *host;
    const char *port;
    int family; /* AF_UNSPEC, AF_INET or AF_INET6 */
    void (*cb)(kite__dns_t *q, int status, struct addrinfo *res);
    void *ev; /* the backend's request while it runs */
};
/* Wrap an open fd (a stream socket, or a pipe/FIFO when !is_socket) in a
 * new connection of @vh; NULL with *err. */
kite_conn_t *kite__conn_adopt(kite__pt_t *pt, kite_vhost_t *vh, int fd, int is_socket, int *err);
/* Wrap a bound UDP socket; datagrams come to kite__conn_on_datagram(). */
kite_conn_t *kite__conn_udp_open(kite__pt_t *pt, kite_vhost_t *vh, int fd, int *err);
/* A new client conn of @vh with no socket yet. */
kite_conn_t *kite__conn_client_new(kite__pt_t *pt, kite_vhost_t *vh, int *err);
/* Wait for the connect() in progress on @fd, then kite__conn_on_connect(). */
int kite__conn_connect_fd(kite_conn_t *c, int fd);
int kite__conn_read_start(kite_conn_t *c);
void kite__conn_read_stop(kite_conn_t *c);
int kite__conn_fd(const kite_conn_t *c);
/* Write what the kernel takes now: bytes written (maybe 0) or <0. */
ssize_t kite__conn_try_writev(kite_conn_t *c, const struct iovec *iov, int n, int more);
/* Write all of @iov in the background; kite__out_write_done() follows. */
int kite__conn_write_async(kite_conn_t *c, const struct iovec *iov, int n);
int kite__conn_shutdown_write(kite_conn_t *c);
/* A datagram to @to on UDP conn @c. */
int kite__conn_sendto(kite_conn_t *c, const void *buf, size_t len, const struct sockaddr *to,
                      unsigned tolen);
/* Start a lookup; 0 or <0. Cancel: @q->cb will not be called. */
int kite__pt_resolve(kite__pt_t *pt, kite__dns_t *q);
void kite__pt_resolve_cancel(kite__pt_t *pt, kite__dns_t *q);

/* core/output.c */
int kite__out_append(kite_conn_t *c, const void *buf, size_t len);
char *kite__out_reserve(kite_conn_t *c, size_t len);
void kite__out_commit(kite_conn_t *c, size_t len);
/* Queue @len bytes at @p, which stay valid while @src is referenced. */
int kite__out_ref(kite_conn_t *c, kite__osrc_t *src, const char *p, size_t len);
/* Queue @len bytes of @src's file from @pos. */
int kite__out_file(kite_conn_t *c, kite__osrc_t *src, off_t pos, size_t len);
void kite__out_flush(kite_conn_t *c);
/* A stream's framing took @n bytes from the head of @c's queue (the
 * segments' own pointers say where they are; FILE positions are moved
 * by the caller). */
void kite__out_taken(kite_conn_t *c, size_t n);
void kite__out_write_done(kite_conn_t *c, int status, size_t bytes);
void kite__out_free(kite_conn_t *c);
void kite__pt_segs_free(kite__pt_t *pt);
/* A conn's per-session memory (its protocol's per_session_size, zeroed),
 * in place of what it had: 0 or KITE_ENOMEM. The thread keeps the last
 * block let go of for the next: a keep-alive request to a callback mount
 * otherwise costs a calloc and a free. */
int kite__conn_user_bind(kite_conn_t *c, size_t size);
void kite__conn_user_free(kite_conn_t *c);
/* @src's per-session memory becomes @dst's (a client redirect). */
void kite__conn_user_move(kite_conn_t *dst, kite_conn_t *src);
void kite__conn_mark_dirty(kite_conn_t *c);

/* core/ready.c */
void kite__ready_add(kite_conn_t *c);
void kite__ready_remove(kite_conn_t *c);
void kite__pt_run_ready(kite__pt_t *pt);

/* core/timer.c */
void kite__timer_set(kite__pt_t *pt, kite_timer_t *t, uint64_t deadline);
void kite__timer_del(kite__pt_t *pt, kite_timer_t *t);
void kite__pt_run_timers(kite__pt_t *pt);
uint64_t kite__pt_now(kite__pt_t *pt);
/* Cancel @vh's vhost timers on @pt (call on @pt's thread). */
void kite__pt_vhost_timers_cancel(kite__pt_t *pt, const kite_vhost_t *vh);
/* A timer of the pt itself: @cb(NULL, @t) in @ms. */
void kite__pt_timer_schedule(kite__pt_t *pt, kite_timer_t *t, uint64_t ms, kite_vhost_timer_cb cb);
/* The pt is going away: forget every timer still in its heap, free it. */
void kite__pt_timers_drop(kite__pt_t *pt);

/* core/vhost.c */
kite_vhost_t *kite__vhost_by_host(const kite__listener_t *ls, const char *host, size_t len);
/* The vhost on @ls whose name is @host (port and trailing dot ignored), or NULL. */
kite_vhost_t *kite__vhost_named(const kite__listener_t *ls, const char *host, size_t len);
void kite__vhosts_destroy(kite_context_t *ctx);

/* core/vhost.c: the end of a vhost (on_vhost_destroy, free, on_destroyed). */
void kite__vhost_free(kite_vhost_t *vh);
/* Are @a and @b served by the same listener (same address and port, or path)? */
int kite__vhost_same_addr(const kite_vhost_t *a, const kite_vhost_t *b);

/* core/refs.c: vhost references. The last unref cancels the vhost's timers
 * on every service thread, then frees it (from the last of them). */
void kite__vhost_ref(kite_vhost_t *vh);
void kite__vhost_unref(kite_vhost_t *vh);
/* @c now serves @vh (a request picked another vhost). */
void kite__conn_set_vhost(kite_conn_t *c, kite_vhost_t *vh);

/* core/reload.c: add @vh to the staged set, binding its address if new. */
int kite__reload_stage(kite_context_t *ctx, kite_vhost_t *vh, int port);

/* core/drain.c: the last conn of a draining pt closed. */
void kite__drain_pt_done(kite__pt_t *pt);
/* A wakeup: start draining @pt if kite_context_drain() was called. */
void kite__drain_check(kite__pt_t *pt);
/* Let @c finish what is in flight and close (kite__role_ops.drain). */
void kite__conn_drain(kite_conn_t *c);

/* core/listen.c */
/* @reuseport: 0 exclusive, 1 SO_REUSEPORT, 2 check exclusively first. */
/* A UDP socket bound to @iface/@port; the fd or a negative code. */
int kite__udp_socket(const char *iface, int port, unsigned options, int *bound_port);
int kite__listen_socket(const char *iface, int port, const char *unix_path, unsigned options,
                        int reuseport, int *bound_port, int *family);

/* core/iplimit.c: peer addresses of TCP connections, counted across the
 * service threads for ip-limit-wsi / ip-limit-ah and named in the access
 * log. Touched at accept and close only (and per request head for the ah
 * count, which is an atomic in the entry). */
/* core/throttle.c: limit @c's output to @rate bytes/s (0: no limit). */
int kite__conn_throttle(kite_conn_t *c, uint32_t rate);
void kite__conn_throttle_free(kite_conn_t *c);
/* For the flush: bytes that may be written now (SIZE_MAX: no limit),
 * bytes written, and waiting for the next burst when the budget ran out. */
size_t kite__thr_budget(kite_conn_t *c);
void kite__thr_spend(kite_conn_t *c, size_t n);
void kite__thr_wait(kite_conn_t *c);

/* core/net.c: subnets and peer addresses (the access-control-list and
 * throttle rules of roles/http). A subnet: "192.168/16", "10.1.2.3", "::1/128" (no mask: the
 * address). */
struct kite__net {
    uint8_t len, bits; /* len 4 or 16 */
    uint8_t addr[16];
};
int kite__net_parse(const char *s, size_t n, struct kite__net *net);
int kite__net_match(const struct kite__net *net, const uint8_t *a, unsigned len);
/* The peer's IP address (IPv4-mapped IPv6 as IPv4), or KITE_ENOENT. */
int kite__conn_peer_ip(kite_conn_t *c, uint8_t *addr, unsigned *len);

int kite__peers_create(kite_context_t *ctx);
void kite__peers_destroy(kite_context_t *ctx);
/* Track the peers of new connections from now on (an access log needs them). */
void kite__peers_enable(kite_context_t *ctx);
/* After accept: count @c's peer. KITE_EAGAIN when the peer is over ip-limit-wsi. */
int kite__peer_add(kite_conn_t *c);
void kite__peer_del(kite_conn_t *c);
/* The peer's address as text ("-" when untracked). */
const char *kite__peer_text(const kite_conn_t *c);
/* ip-limit-ah: take (1) or give back (0) a head-reading slot. Taking fails with
 * KITE_EAGAIN when the peer is at its limit. */
int kite__peer_ah(kite_conn_t *c, int take);

/* core/context.c */
const char *kite__pt_date(kite__pt_t *pt);
void kite__pt_run_posts(kite__pt_t *pt);
/* kite_post() with a node allocated beforehand (cannot fail). */
void kite__post_node(kite__pt_t *pt, kite__post_t *p);

/* lib/modules.c: the roles built in, NULL-terminated; accepted conns
 * start in the first (h1). */
extern const struct kite__role_ops *const kite__roles[];
/* core/conn.c: the role named @name, or NULL. */
const struct kite__role_ops *kite__role_find(const char *name);
/* Switch @c to role @name (its start op): 0, <0 to close, KITE_ENOTSUP
 * when there is no such role. */
int kite__conn_role_start(kite_conn_t *c, const char *name, char *buf, size_t len, const void *arg);
/* The transport negotiated ALPN @id: @c takes the role serving it, if it
 * is not in it already. 0 or <0 (close). */
int kite__conn_alpn(kite_conn_t *c, const char *id);

/* The role data of a UDP connection: who sent the last datagram. */
struct kite__udp {
    struct sockaddr_storage peer;
    socklen_t len;
};

/* The service thread running on the calling thread, or NULL. */
kite__pt_t *kite__pt_current(void);
/* Backends whose loop the application runs say which pt a callback is for. */
void kite__pt_set_current(kite__pt_t *pt);

#endif
