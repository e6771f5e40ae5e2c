/*
 * Client connections: kite connects out, over TCP or TLS, and speaks
 * HTTP/1.1, WebSocket or raw bytes to the server, through the same
 * protocol struct, writeable discipline, output cap and rx flow control
 * as the connections it accepts. A client connection belongs to a vhost
 * (its protocols and per-vhost data; a vhost with KITE_VH_NO_LISTEN
 * serves a pure client) and to one service thread.
 *
 * The callbacks, in order:
 * - on_client_connection_error(reason): the connection could not be made
 *   (DNS, connect, timeout, TLS, a refused handshake); nothing follows,
 *   not even on_closed.
 * - on_client_established: the connection is ready. WebSocket: after the
 *   server's 101 was checked; raw: once connected; HTTP: once the request
 *   head is queued (write a body from on_writeable with KITE_WRITE_HTTP,
 *   the last piece with KITE_WRITE_HTTP_FINAL).
 * - WebSocket and raw: on_receive / on_raw, on_writeable, on_closed, as on
 *   the server side.
 * - HTTP: on_client_http_response (status; the headers through
 *   kite_client_http_header*), on_client_http_body for each piece of the
 *   body, on_client_http_done at its end, then on_closed.
 */
#ifndef KITE_CLIENT_H
#define KITE_CLIENT_H

enum {
    KITE_CLIENT_TLS = 1 << 0, /* https / wss */
    /* Accept a self-signed server certificate (tests, development). */
    KITE_CLIENT_ALLOW_SELFSIGNED = 1 << 1,
    /* Accept a certificate whose names do not include the host. */
    KITE_CLIENT_SKIP_HOST_CHECK = 1 << 2,
    /* Do not check the server certificate at all. */
    KITE_CLIENT_INSECURE = 1 << 3,
    /* HTTP: follow 301/302/303/307/308 (at most 4 times); the callbacks
     * then come from the new connection, with the same user memory. */
    KITE_CLIENT_FOLLOW_REDIRECTS = 1 << 4,
    KITE_CLIENT_IPV4_ONLY = 1 << 5,
    KITE_CLIENT_IPV6_ONLY = 1 << 6,
};

/**
 * What to connect to, made with KITE_CLIENT_INFO_INIT(...). Caller-owned;
 * kite copies what it needs before kite_client_connect() returns.
 */
typedef struct kite_client_info_s {
    size_t struct_size;  /* sizeof(kite_client_info_t): KITE_CLIENT_INFO_INIT */
    kite_vhost_t *vhost; /* whose protocols serve the connection */
    const char *address; /* host name, IPv4 or IPv6 address */
    int port;            /* 0: 80, or 443 with KITE_CLIENT_TLS */
    const char *path;    /* request target; NULL: "/" */
    const char *host;    /* Host header; NULL: address[:port] */
    const char *origin;  /* WebSocket Origin header; NULL: none */
    /* WebSocket: the subprotocols offered ("a, b"); NULL: none. */
    const char *protocol;
    /* The vhost protocol that handles the connection; NULL: the first name
     * in @protocol, else the vhost's first protocol. A WebSocket whose
     * server chose a subprotocol is bound to the vhost protocol of that
     * name when there is one. */
    const char *local_protocol;
    /* NULL: WebSocket; "GET", "POST", "HEAD", ...: HTTP; "RAW": raw TCP. */
    const char *method;
    unsigned flags;            /* KITE_CLIENT_* */
    const char *tls_ca;        /* PEM CA bundle; NULL: the system's */
    const char *sni;           /* TLS server name (and the name checked); NULL: @address */
    const char *local_address; /* bind to this address first; NULL: any */
    /* Run on @parent's service thread; kite_client_parent() returns it.
     * The caller closes the client when the parent closes. */
    kite_conn_t *parent;
    unsigned connect_timeout_ms; /* DNS + connect + TLS + handshake; 0: 10 s */
    /* HTTP: the request body length; -1: chunked; 0: none. */
    int64_t content_length;
    const char *headers; /* extra request header lines, "Name: value\r\n" each */
    void *opaque;        /* returned by kite_client_opaque() */
    /* WebSocket: offer permessage-deflate (RFC 7692) with these settings
     * (copied; window_bits < 15 asks the server for that window too, and
     * KITE_WS_DEFLATE_NO_CONTEXT_TAKEOVER for no context takeover both
     * ways); NULL: offer nothing. A server that declines leaves the
     * connection uncompressed; an answer that does not fit the offer
     * fails it (on_client_connection_error). kite_ws_deflate_active()
     * tells whether it was agreed. */
    const struct kite_ws_deflate_s *ws_deflate;
} kite_client_info_t;

#define KITE_CLIENT_INFO_INIT(...)                                                                 \
    {                                                                                              \
        .struct_size = sizeof(kite_client_info_t), __VA_ARGS__                                     \
    }

/**
 * kite_client_connect() - start a client connection on the calling service
 * thread (or @info->parent's; thread 0 before the loop runs). Name
 * resolution (IPv4 and IPv6, tried in turn), connect, TLS and the
 * handshake run in the background; every outcome arrives as a callback,
 * never from within this call. Returns the connection, or NULL with *err
 * (KITE_EINVAL: no vhost, address or protocol; KITE_ENOMEM; KITE_EABI: a
 * bad struct_size).
 */
KITE_EXTERN kite_conn_t *kite_client_connect(kite_context_t *ctx, const kite_client_info_t *info,
                                             int *err) KITE_SIZED_ENTRY("kite_client_connect_v2");

/** kite_client_is_client() - nonzero when @c is a connection kite made. */
KITE_EXTERN int kite_client_is_client(const kite_conn_t *c);
/** kite_client_opaque() - @info->opaque of a client connection, or NULL. */
KITE_EXTERN void *kite_client_opaque(const kite_conn_t *c);
/** kite_client_parent() - @info->parent of a client connection, or NULL. */
KITE_EXTERN kite_conn_t *kite_client_parent(const kite_conn_t *c);
/** kite_client_protocol() - the subprotocol the server chose, or NULL. */
KITE_EXTERN const char *kite_client_protocol(const kite_conn_t *c);

/**
 * HTTP response head, valid from on_client_http_response until
 * on_client_http_done (or the close): the status, a header by
 * case-insensitive name (the first if repeated, or NULL), and all of them
 * in order (0, or KITE_EINVAL past the last).
 */
KITE_EXTERN int kite_client_http_status(const kite_conn_t *c);
KITE_EXTERN const char *kite_client_http_header(const kite_conn_t *c, const char *name);
KITE_EXTERN int kite_client_http_header_count(const kite_conn_t *c);
KITE_EXTERN int kite_client_http_header_at(const kite_conn_t *c, int i, const char **name,
                                           const char **value);

#endif
