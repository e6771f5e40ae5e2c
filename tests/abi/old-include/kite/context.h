/*
 * The context: service threads, vhosts, protocols. One service thread
 * (tsi) is one event loop; nothing is shared between them but read-only
 * configuration.
 */
#ifndef KITE_CONTEXT_H
#define KITE_CONTEXT_H

/**
 * Context creation info. The caller allocates it; kite copies what it
 * needs, so it may be freed after kite_context_create() returns. Zero
 * means "default" for every member.
 */
typedef struct kite_context_info_s {
    int count_threads;          /* service threads; default 1 */
    void *foreign_loop;         /* uv_loop_t * to run thread 0 on; NULL: kite's own loop */
    const char *server_string;  /* "Server:" value; NULL: "kite"; "": no header */
    unsigned timeout_secs;      /* request head / body read timeout; default 10 */
    unsigned keepalive_timeout; /* idle keep-alive; default 5 (as lws) */
    unsigned send_timeout;      /* a peer that reads nothing for this long is closed; 30 */
    size_t max_output;          /* per-conn unsent output cap; default 1 MiB */
    unsigned max_header_size;   /* request head limit; default 8192 (431 past it) */
    unsigned max_uri_len;       /* request line limit; default 8192 (414 past it) */
    unsigned max_headers;       /* header count limit; default 64 (431 past it) */
    void *user;
    unsigned ws_ping_pong_secs; /* ping idle websockets this often, close if no pong; 0: off */
    size_t ws_max_message; /* largest websocket message (frame or whole); 16 MiB; 1009 past it */
    unsigned ws_close_timeout;            /* wait this long for the peer's close frame; default 5 */
    const struct kite_extpoll_s *extpoll; /* the application's poll loop (kite/extpoll.h) */
    /* uv_loop_t * per service thread (count_threads entries): kite adds its
     * handles to the application's loops and the application runs them;
     * a NULL entry gets kite's own loop. foreign_loop is foreign_loops[0]. */
    void *const *foreign_loops;
    /* Appended members: */
    /* lwsws reject-service-keywords: name is a User-Agent substring, value
     * the status ("404" or "404 Not Found") answered without serving. */
    const kite_pvo_t *reject_service_keywords;
    unsigned ip_limit_ah;  /* requests per peer IP with a head being read; 0: no limit */
    unsigned ip_limit_wsi; /* connections per peer IP; 0: no limit */
    /* Appended for HTTP/2 (READMEs/README.http2.md): what kite's SETTINGS
     * announce, and how long the peer has to acknowledge them. */
    unsigned h2_max_streams;      /* concurrent streams per connection; default 100 */
    unsigned h2_window;           /* initial stream window in bytes; default 262144 */
    unsigned h2_settings_timeout; /* seconds; default 10 (then GOAWAY SETTINGS_TIMEOUT) */
} kite_context_info_t;

/**
 * kite_context_create() - create a context and its service threads' loops.
 * Returns the context, or NULL with *err set (KITE_ENOMEM, KITE_EINVAL,
 * KITE_EUV). Threads do not run until kite_run() or kite_service().
 */
KITE_EXTERN kite_context_t *kite_context_create(const kite_context_info_t *info, int *err);

/**
 * kite_context_destroy() - close every connection and listener and free
 * the context. Call it from the thread that ran the loop, after kite_run()
 * returned. On a foreign loop only kite's own handles are closed; the
 * loop is run until they are, then left to its owner.
 */
KITE_EXTERN void kite_context_destroy(kite_context_t *ctx);

/**
 * kite_run() - run every service thread until kite_cancel_service().
 * Thread 0 runs in the caller; threads 1..n-1 are started and joined.
 * Returns 0 or a negative KITE_E* code.
 */
KITE_EXTERN int kite_run(kite_context_t *ctx);

/**
 * kite_service() - one pass of service thread @tsi's loop, waiting at most
 * @timeout_ms for events (0: do not wait; -1: until an event). Returns 0,
 * 1 when kite_cancel_service() was called, or a negative code.
 */
KITE_EXTERN int kite_service(kite_context_t *ctx, int tsi, int timeout_ms);

/** kite_cancel_service() - make kite_run()/kite_service() return. Any thread. */
KITE_EXTERN void kite_cancel_service(kite_context_t *ctx);

typedef void (*kite_post_cb)(kite_context_t *ctx, void *arg);

/**
 * kite_post() - run @cb(@arg) on service thread @tsi soon. Any thread;
 * this is the only way other threads reach kite objects. Returns 0 or
 * KITE_ENOMEM / KITE_EINVAL. Posts still queued at destroy are run with
 * the loop stopped, so @arg can be freed.
 */
KITE_EXTERN int kite_post(kite_context_t *ctx, int tsi, kite_post_cb cb, void *arg);

/**
 * kite_context_reload_begin() - start replacing the vhosts of a running
 * (or not yet running) context. Until commit or abort, kite_vhost_create()
 * makes staged vhosts: checked, protocols initialised and new addresses
 * bound (so "port in use" is reported now), but not serving. Call from
 * one non-service thread (kited's main thread). Returns 0 or KITE_ESTATE
 * when a reload is already staged.
 */
KITE_EXTERN int kite_context_reload_begin(kite_context_t *ctx);

/**
 * kite_context_reload_commit() - make the staged vhosts the live ones. On
 * every service thread the listeners switch to them: a listener whose
 * address the new set still uses keeps its socket (no connection is
 * refused meanwhile), new addresses start listening, unused ones close.
 * Connections keep working: a keep-alive connection picks its vhost from
 * the new set for its next request; websockets and other upgraded
 * connections stay on the old vhost, which is freed (on_vhost_destroy,
 * then info->on_destroyed) when its last connection closes.
 */
KITE_EXTERN int kite_context_reload_commit(kite_context_t *ctx);

/** kite_context_reload_abort() - free the staged vhosts; the live ones stay. */
KITE_EXTERN void kite_context_reload_abort(kite_context_t *ctx);

/**
 * kite_context_drain() - graceful stop, from any thread: stop accepting,
 * let requests in flight finish (their responses say Connection: close),
 * close idle keep-alive connections, close websockets with 1001, then
 * return from kite_run(). Whatever is still open after @timeout_ms is
 * closed. Only atomics and wakeups: safe from a signal handler. Returns 0,
 * or KITE_ESTATE when not running or already draining.
 */
KITE_EXTERN int kite_context_drain(kite_context_t *ctx, unsigned timeout_ms);

/**
 * kite_context_reopen_logs() - reopen every vhost's access log (after
 * logrotate moved it). Any thread. Returns 0 or the first error.
 */
KITE_EXTERN int kite_context_reopen_logs(kite_context_t *ctx);

KITE_EXTERN void *kite_context_user(const kite_context_t *ctx);
KITE_EXTERN int kite_context_count_threads(const kite_context_t *ctx);

#endif
