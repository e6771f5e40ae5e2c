/*
 * Protocol handlers: one named callback per event, in a versioned struct
 * that applications fill with C99 designated initializers. Members are
 * only ever appended; `abi` tells kite which members the caller knows.
 */
#ifndef KITE_PROTOCOL_H
#define KITE_PROTOCOL_H

/* 2: the client callbacks (kite/client.h) were appended. */
#define KITE_PROTOCOL_ABI 2

/**
 * Per-vhost protocol options (lws "pvo"): a linked list of name/value
 * pairs; @options holds the options of a protocol entry. The caller owns
 * the memory, which must outlive the vhost.
 */
typedef struct kite_pvo_s {
    const struct kite_pvo_s *next;
    const struct kite_pvo_s *options;
    const char *name;
    const char *value;
} kite_pvo_t;

/** kite_pvo_get() - value of @name in the list @pvo, or NULL. */
KITE_EXTERN const char *kite_pvo_get(const kite_pvo_t *pvo, const char *name);

/**
 * A protocol. All callbacks run on the connection's service thread.
 * Callbacks returning int return 0 to go on, or nonzero to close the
 * connection. @user is the zeroed per-connection memory of
 * @per_session_size bytes, freed after on_closed.
 */
typedef struct kite_protocol_s {
    unsigned abi; /* KITE_PROTOCOL_ABI */
    const char *name;
    size_t per_session_size;
    size_t rx_buffer_size;
    /* Vhost lifetime: *vhd is per-vhost data the protocol may set. */
    int (*on_vhost_init)(kite_vhost_t *vh, const kite_pvo_t *pvo, void **vhd);
    void (*on_vhost_destroy)(kite_vhost_t *vh, void *vhd);
    int (*on_filter)(kite_conn_t *c, void *user, const kite_http_req_t *req);
    int (*on_established)(kite_conn_t *c, void *user);
    int (*on_receive)(kite_conn_t *c, void *user, const void *in, size_t len, unsigned flags);
    /* Comes once after each kite_callback_on_writable(), never unrequested. */
    int (*on_writeable)(kite_conn_t *c, void *user);
    void (*on_closed)(kite_conn_t *c, void *user, int code);
    /* HTTP on a callback mount: a request head has arrived. */
    int (*on_http)(kite_conn_t *c, void *user, const kite_http_req_t *req);
    /* A piece of the request body (never the whole body held by kite). */
    int (*on_http_body)(kite_conn_t *c, void *user, const void *in, size_t len);
    int (*on_http_body_done)(kite_conn_t *c, void *user);
    int (*on_raw)(kite_conn_t *c, void *user, const void *in, size_t len);
    int (*on_timer)(kite_conn_t *c, void *user);
    unsigned flags; /* KITE_PROTO_* */
    /* Appended in ABI 2: client connections (kite/client.h). */
    int (*on_client_established)(kite_conn_t *c, void *user);
    /* @reason says what failed; nothing follows, not even on_closed. */
    void (*on_client_connection_error)(kite_conn_t *c, void *user, const char *reason);
    /* The response head: @status, headers through kite_client_http_header(). */
    int (*on_client_http_response)(kite_conn_t *c, void *user, int status);
    int (*on_client_http_body)(kite_conn_t *c, void *user, const void *in, size_t len);
    int (*on_client_http_done)(kite_conn_t *c, void *user);
} kite_protocol_t;

#endif
