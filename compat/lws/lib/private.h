/*
 * libkite-lws internals: the lws objects the layer keeps over kite's.
 *
 * An lws context wraps a kite context, an lws vhost a kite vhost. Every
 * lws protocol gets a trampoline: a kite_protocol_t whose named callbacks
 * call the lws reason callback. A connection's struct lws (the wsi) sits
 * at the start of kite's per-session memory, followed by the lws
 * per-session data, so it costs no allocation and lives exactly as long
 * as the connection (for HTTP: the transaction).
 */
#ifndef KITE_LWS_PRIVATE_H
#define KITE_LWS_PRIVATE_H

#include <libwebsockets.h>

#define LWSK_ALIGN(x) (((x) + 15) & ~(size_t)15)

typedef struct lwsk_tramp_s {
    kite_protocol_t kp;             /* what kite calls */
    const struct lws_protocols *lp; /* the lws protocol it serves */
} lwsk_tramp_t;

/* Per vhost and protocol: kite's vhd. */
typedef struct lwsk_vpr_s {
    struct lws_vhost *vh;
    const lwsk_tramp_t *t;
    void *priv; /* lws_protocol_vh_priv_zalloc() */
} lwsk_vpr_t;

struct lws_context {
    kite_context_t *kc;
    struct lws_context *next; /* the registry of contexts */
    struct lws_vhost *vhosts;
    kite_vhost_t *timer_vh; /* whose vhost timers carry the suls */
    void *user;
    uint64_t options;
    int own;      /* created by lws_create_context() (else wraps kited's) */
    int extpoll;  /* kite has no loop: lws_service() polls, or the app does */
    int stopping; /* lws_context_destroy() in progress */
    int count_threads;
    struct pollfd *fds;
    int nfds, cap;
    kite_extpoll_t xp;
    lwsk_tramp_t *poll_proto; /* where the *_POLL_FD callbacks go */
    struct lws_vhost *poll_vh;
};

struct lws_vhost {
    struct lws_context *cx;
    struct lws_vhost *next;
    kite_vhost_t *kv;
    char *name;
    void *user;
    int own; /* created by lws_create_vhost() */
    int nvpr;
    lwsk_vpr_t **vpr;     /* one per protocol, in protocol order */
    lwsk_tramp_t *tramps; /* own vhosts: one per lws protocol */
    int ntramps;
    const kite_protocol_t **kprotos; /* NULL-terminated, for kite */
    kite_mount_t *mounts;
    int nmounts;
    kite_pvo_t *pvo_extra; /* the application's headers */
    kite_pvo_t pvo_raw[2]; /* the raw protocol's entry, with "raw" */
};

enum {
    LWSK_R_WS = 1,
    LWSK_R_HTTP,
    LWSK_R_RAW,
    LWSK_R_CLIENT_WS,
    LWSK_R_CLIENT_HTTP,
    LWSK_R_CLIENT_RAW
};

struct lws {
    kite_conn_t *c;
    const lwsk_tramp_t *t;
    struct lws_vhost *vh;
    void *user;
    void *opaque;
    struct lws *parent;
    int role;
    unsigned rx_first : 1, rx_final : 1, rx_binary : 1;
    unsigned head_sent : 1, finished : 1, closing : 1;
    size_t rx_remaining;
    int close_code;
    int status; /* client: the response status lws reports */
    unsigned char close_reason[124];
    size_t close_len;
    kite_timer_t timer; /* lws_set_timer_usecs() */
    /* lws_serve_http_file() */
    int file_fd;
    int64_t file_left;
    /* an rx piece kept back by lws_rx_flow_control(wsi, 0) */
    unsigned char *held;
    size_t held_len, held_off;
    unsigned held_flags;
    int rx_paused;
    kite_timer_t rx_timer;
    /* client http: the body piece lws_http_client_read() hands over */
    const void *cbody;
    size_t cbody_len;
};

/* proto.c */
void lwsk_tramp_init(lwsk_tramp_t *t, const struct lws_protocols *lp);
struct lws *lwsk_wsi(kite_conn_t *c, void *user);
int lwsk_call(struct lws *wsi, enum lws_callback_reasons r, void *in, size_t len);
void lwsk_fake_wsi(struct lws *w, struct lws_vhost *vh, const lwsk_tramp_t *t);
/* context.c */
lwsk_vpr_t *lwsk_vpr_find(struct lws_vhost *vh, const struct lws_protocols *p);
struct lws_vhost *lwsk_vhost_for(kite_vhost_t *kv);
void lwsk_vpr_release(lwsk_vpr_t *vpr);
void lwsk_registry_lock(void);
void lwsk_registry_unlock(void);
extern __thread struct lws_vhost *lwsk_creating; /* the lws vhost kite_vhost_create() is making */
int lwsk_is_tramp(const kite_protocol_t *p);
int lwsk_poll_service(struct lws_context *cx, int timeout_ms);
/* write.c */
int lwsk_serve_file_step(struct lws *wsi);
/* util.c */
int lwsk_log_mask(void);

#endif
