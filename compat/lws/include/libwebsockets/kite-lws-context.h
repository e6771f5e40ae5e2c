/*
 * libkite-lws contexts and vhosts: lws_create_context() with its implicit
 * default vhost, lws_create_vhost(), the service calls (lws's own poll
 * loop, a libuv loop, or the application's poll loop through the
 * *_POLL_FD callbacks), mounts and the retry / idle policy.
 */
#ifndef KITE_LWS_CONTEXT_H
#define KITE_LWS_CONTEXT_H

#define CONTEXT_PORT_NO_LISTEN        (-1)
#define CONTEXT_PORT_NO_LISTEN_SERVER (-2)

#define LWS_SERVER_OPTION_REQUIRE_VALID_OPENSSL_CLIENT_CERT            ((1ll << 1) | (1ll << 12))
#define LWS_SERVER_OPTION_SKIP_SERVER_CANONICAL_NAME                   (1ll << 2)
#define LWS_SERVER_OPTION_ALLOW_NON_SSL_ON_SSL_PORT                    ((1ll << 3) | (1ll << 12))
#define LWS_SERVER_OPTION_LIBEV                                        (1ll << 4)
#define LWS_SERVER_OPTION_DISABLE_IPV6                                 (1ll << 5)
#define LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS                          (1ll << 6)
#define LWS_SERVER_OPTION_PEER_CERT_NOT_REQUIRED                       (1ll << 7)
#define LWS_SERVER_OPTION_VALIDATE_UTF8                                (1ll << 8)
#define LWS_SERVER_OPTION_SSL_ECDH                                     ((1ll << 9) | (1ll << 12))
#define LWS_SERVER_OPTION_LIBUV                                        (1ll << 10)
#define LWS_SERVER_OPTION_REDIRECT_HTTP_TO_HTTPS                       ((1ll << 11) | (1ll << 12))
#define LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT                           (1ll << 12)
#define LWS_SERVER_OPTION_EXPLICIT_VHOSTS                              (1ll << 13)
#define LWS_SERVER_OPTION_UNIX_SOCK                                    (1ll << 14)
#define LWS_SERVER_OPTION_STS                                          (1ll << 15)
#define LWS_SERVER_OPTION_IPV6_V6ONLY_MODIFY                           (1ll << 16)
#define LWS_SERVER_OPTION_IPV6_V6ONLY_VALUE                            (1ll << 17)
#define LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN                    (1ll << 18)
#define LWS_SERVER_OPTION_JUST_USE_RAW_ORIGIN                          (1ll << 19)
#define LWS_SERVER_OPTION_FALLBACK_TO_RAW                              (1ll << 20)
#define LWS_SERVER_OPTION_FALLBACK_TO_APPLY_LISTEN_ACCEPT_CONFIG       (1ll << 20)
#define LWS_SERVER_OPTION_LIBEVENT                                     (1ll << 21)
#define LWS_SERVER_OPTION_ONLY_RAW                                     (1ll << 22)
#define LWS_SERVER_OPTION_ADOPT_APPLY_LISTEN_ACCEPT_CONFIG             (1ll << 22)
#define LWS_SERVER_OPTION_ALLOW_LISTEN_SHARE                           (1ll << 23)
#define LWS_SERVER_OPTION_CREATE_VHOST_SSL_CTX                         (1ll << 24)
#define LWS_SERVER_OPTION_SKIP_PROTOCOL_INIT                           (1ll << 25)
#define LWS_SERVER_OPTION_IGNORE_MISSING_CERT                          (1ll << 26)
#define LWS_SERVER_OPTION_VHOST_UPG_STRICT_HOST_CHECK                  (1ll << 27)
#define LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE (1ll << 28)
#define LWS_SERVER_OPTION_ALLOW_HTTP_ON_HTTPS_LISTENER                 (1ll << 29)
#define LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND                     (1ll << 30)
#define LWS_SERVER_OPTION_H2_JUST_FIX_WINDOW_UPDATE_OVERFLOW           (1ll << 31)
#define LWS_SERVER_OPTION_VH_H2_HALF_CLOSED_LONG_POLL                  (1ll << 32)
#define LWS_SERVER_OPTION_GLIB                                         (1ll << 33)
#define LWS_SERVER_OPTION_H2_PRIOR_KNOWLEDGE                           (1ll << 34)
#define LWS_SERVER_OPTION_NO_LWS_SYSTEM_STATES                         (1ll << 35)

typedef struct lws_retry_bo {
    const uint32_t *retry_ms_table;
    uint16_t retry_ms_table_count;
    uint16_t conceal_count;
    uint16_t secs_since_valid_ping; /* websockets idle this long are pinged */
    uint16_t secs_since_valid_hangup;
    uint8_t jitter_percent;
} lws_retry_bo_t;

enum lws_mount_protocols {
    LWSMPRO_HTTP = 0,
    LWSMPRO_HTTPS = 1,
    LWSMPRO_FILE = 2,
    LWSMPRO_CGI = 3,
    LWSMPRO_REDIR_HTTP = 4,
    LWSMPRO_REDIR_HTTPS = 5,
    LWSMPRO_CALLBACK = 6,
    LWSMPRO_NO_MOUNT = 7,
};

/* A mount; the member order is lws 4.1's, for positional initialisers. */
struct lws_http_mount {
    const struct lws_http_mount *mount_next;
    const char *mountpoint;
    const char *origin;
    const char *def;
    const char *protocol;
    const struct lws_protocol_vhost_options *cgienv;
    const struct lws_protocol_vhost_options *extra_mimetypes;
    const struct lws_protocol_vhost_options *interpret;
    int cgi_timeout;
    int cache_max_age;
    unsigned int auth_mask;
    unsigned int cache_reusable : 1;
    unsigned int cache_revalidate : 1;
    unsigned int cache_intermediaries : 1;
    unsigned char origin_protocol;
    unsigned char mountpoint_len;
    const char *basic_auth_login_file;
    void *_unused[2];
};

struct lws_context_creation_info {
    int port;
    const char *iface;
    const struct lws_protocols *protocols;
    const struct lws_extension *extensions;
    const struct lws_token_limits *token_limits;
    const char *http_proxy_address;
    const struct lws_protocol_vhost_options *headers;
    const struct lws_protocol_vhost_options *reject_service_keywords;
    const struct lws_protocol_vhost_options *pvo;
    const char *log_filepath;
    const struct lws_http_mount *mounts;
    const char *server_string;
    const char *error_document_404;
    const char *ssl_cert_filepath;
    const char *ssl_private_key_filepath;
    const char *ssl_ca_filepath;
    const char *ssl_cipher_list;
    const char *ssl_private_key_password;
    const char *client_ssl_ca_filepath;
    const void *server_ssl_cert_mem;
    unsigned int server_ssl_cert_mem_len;
    const void *server_ssl_private_key_mem;
    unsigned int server_ssl_private_key_mem_len;
    const void *client_ssl_ca_mem;
    unsigned int client_ssl_ca_mem_len;
    const char *vhost_name;
    const char *listen_accept_role;
    const char *listen_accept_protocol;
    const struct lws_protocols **pprotocols;
    const char *username, *groupname;
    const char *unix_socket_perms;
    const char *alpn;
    const lws_retry_bo_t *retry_and_idle_policy;
    void **foreign_loops;
    void (*signal_cb)(void *event_lib_handle, int signum);
    struct lws_context **pcontext;
    void (*finalize)(struct lws_vhost *vh, void *arg);
    void *finalize_arg;
    void *user;
    uint64_t options;
    int gid, uid;
    unsigned int count_threads;
    unsigned int fd_limit_per_thread;
    unsigned int timeout_secs;
    unsigned int connect_timeout_secs;
    int bind_iface;
    unsigned int pt_serv_buf_size;
    unsigned int max_http_header_data;
    unsigned int max_http_header_pool;
    int keepalive_timeout;
    int ka_time, ka_probes, ka_interval;
    int http_proxy_port;
    int simultaneous_ssl_restriction;
    int ssl_info_event_mask;
    unsigned int ws_ping_pong_interval;
    unsigned short ip_limit_ah, ip_limit_wsi;
    size_t max_http_header_data2;
    const char *external_baggage_free_on_destroy;
    void *_unused[4];
};

LWS_VISIBLE struct lws_context *lws_create_context(const struct lws_context_creation_info *info);
LWS_VISIBLE void lws_context_destroy(struct lws_context *context);
#define lws_destroy_context lws_context_destroy
LWS_VISIBLE struct lws_vhost *lws_create_vhost(struct lws_context *context,
                                               const struct lws_context_creation_info *info);
LWS_VISIBLE void lws_vhost_destroy(struct lws_vhost *vh);
LWS_VISIBLE struct lws_vhost *lws_get_vhost_by_name(struct lws_context *context, const char *name);
LWS_VISIBLE const char *lws_get_vhost_name(struct lws_vhost *vhost);
LWS_VISIBLE int lws_get_vhost_port(struct lws_vhost *vhost);
LWS_VISIBLE void *lws_get_vhost_user(struct lws_vhost *vhost);
LWS_VISIBLE const char *lws_get_vhost_iface(struct lws_vhost *vhost);
LWS_VISIBLE void *lws_context_user(struct lws_context *context);
LWS_VISIBLE int lws_get_count_threads(struct lws_context *context);
LWS_VISIBLE kite_context_t *lws_kite_context(struct lws_context *context);
LWS_VISIBLE kite_vhost_t *lws_kite_vhost(struct lws_vhost *vhost);

LWS_VISIBLE int lws_service(struct lws_context *context, int timeout_ms);
LWS_VISIBLE int lws_service_tsi(struct lws_context *context, int timeout_ms, int tsi);
LWS_VISIBLE void lws_cancel_service(struct lws_context *context);
LWS_VISIBLE void lws_cancel_service_pt(struct lws *wsi);
LWS_VISIBLE int lws_service_fd(struct lws_context *context, struct lws_pollfd *pollfd);
LWS_VISIBLE int lws_service_fd_tsi(struct lws_context *context, struct lws_pollfd *pollfd, int tsi);
LWS_VISIBLE int lws_service_adjust_timeout(struct lws_context *context, int timeout_ms, int tsi);
LWS_VISIBLE int lws_context_is_deprecated(struct lws_context *context);

LWS_VISIBLE const struct lws_protocols *lws_vhost_name_to_protocol(struct lws_vhost *vh,
                                                                   const char *name);
LWS_VISIBLE void *lws_protocol_vh_priv_zalloc(struct lws_vhost *vhost,
                                              const struct lws_protocols *prot, int size);
LWS_VISIBLE void *lws_protocol_vh_priv_get(struct lws_vhost *vhost,
                                           const struct lws_protocols *prot);
LWS_VISIBLE int lws_callback_vhost_protocols_vhost(struct lws_vhost *vh, int reason, void *in,
                                                   size_t len);

LWS_VISIBLE unsigned int lws_retry_get_delay_ms(struct lws_context *context,
                                                const lws_retry_bo_t *retry, uint16_t *ctry,
                                                char *conceal);

#endif
