/*
 * libkite-lws connections (struct lws, the "wsi"): writing with LWS_PRE
 * headroom, the writeable discipline, rx flow control, close reasons,
 * timeouts, timers (sul), rings, client connections and raw adoption.
 */
#ifndef KITE_LWS_CONN_H
#define KITE_LWS_CONN_H

enum lws_write_protocol {
    LWS_WRITE_TEXT = 0,
    LWS_WRITE_BINARY = 1,
    LWS_WRITE_CONTINUATION = 2,
    LWS_WRITE_HTTP = 3,
    LWS_WRITE_PING = 5,
    LWS_WRITE_PONG = 6,
    LWS_WRITE_HTTP_FINAL = 7,
    LWS_WRITE_HTTP_HEADERS = 8,
    LWS_WRITE_HTTP_HEADERS_CONTINUATION = 9,
    LWS_WRITE_RAW = LWS_WRITE_HTTP,
    LWS_WRITE_BUFLIST = 0x20,
    LWS_WRITE_NO_FIN = 0x40,
    LWS_WRITE_H2_STREAM_END = 0x80,
    LWS_WRITE_CLIENT_IGNORE_XOR_MASK = 0x80,
};

/* Returns @len, or -1 when the connection cannot take the bytes. */
LWS_VISIBLE int lws_write(struct lws *wsi, unsigned char *buf, size_t len,
                          enum lws_write_protocol protocol);
LWS_VISIBLE int lws_write_ws_flags(int initial, int is_start, int is_end);
LWS_VISIBLE int lws_callback_on_writable(struct lws *wsi);
LWS_VISIBLE int lws_callback_on_writable_all_protocol(const struct lws_context *context,
                                                      const struct lws_protocols *protocol);
LWS_VISIBLE int lws_callback_on_writable_all_protocol_vhost(const struct lws_vhost *vhost,
                                                            const struct lws_protocols *protocol);
LWS_VISIBLE int lws_send_pipe_choked(struct lws *wsi);
LWS_VISIBLE int lws_partial_buffered(struct lws *wsi);
LWS_VISIBLE int lws_rx_flow_control(struct lws *wsi, int enable);
LWS_VISIBLE void lws_rx_flow_allow_all_protocol(const struct lws_context *context,
                                                const struct lws_protocols *protocol);
#define LWS_RXFLOW_REASON_APPLIES_ENABLE  0
#define LWS_RXFLOW_REASON_APPLIES_DISABLE 0

enum lws_close_status {
    LWS_CLOSE_STATUS_NOSTATUS = 0,
    LWS_CLOSE_STATUS_NORMAL = 1000,
    LWS_CLOSE_STATUS_GOINGAWAY = 1001,
    LWS_CLOSE_STATUS_PROTOCOL_ERR = 1002,
    LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE = 1003,
    LWS_CLOSE_STATUS_RESERVED = 1004,
    LWS_CLOSE_STATUS_NO_STATUS = 1005,
    LWS_CLOSE_STATUS_ABNORMAL_CLOSE = 1006,
    LWS_CLOSE_STATUS_INVALID_PAYLOAD = 1007,
    LWS_CLOSE_STATUS_POLICY_VIOLATION = 1008,
    LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE = 1009,
    LWS_CLOSE_STATUS_EXTENSION_REQUIRED = 1010,
    LWS_CLOSE_STATUS_UNEXPECTED_CONDITION = 1011,
    LWS_CLOSE_STATUS_TLS_FAILURE = 1015,
    LWS_CLOSE_STATUS_CLIENT_TRANSACTION_DONE = 2000,
    LWS_CLOSE_STATUS_NOSTATUS_CONTEXT_DESTROY = 9999,
};
/* The close frame sent when the callback then returns nonzero. */
LWS_VISIBLE void lws_close_reason(struct lws *wsi, enum lws_close_status status, unsigned char *buf,
                                  size_t len);

enum pending_timeout {
    NO_PENDING_TIMEOUT = 0,
    PENDING_TIMEOUT_AWAITING_PROXY_RESPONSE = 1,
    PENDING_TIMEOUT_AWAITING_CONNECT_RESPONSE = 2,
    PENDING_TIMEOUT_ESTABLISH_WITH_SERVER = 3,
    PENDING_TIMEOUT_AWAITING_SERVER_RESPONSE = 4,
    PENDING_TIMEOUT_AWAITING_PING = 5,
    PENDING_TIMEOUT_CLOSE_ACK = 6,
    PENDING_TIMEOUT_UNUSED1 = 7,
    PENDING_TIMEOUT_SENT_CLIENT_HANDSHAKE = 8,
    PENDING_TIMEOUT_SSL_ACCEPT = 9,
    PENDING_TIMEOUT_HTTP_CONTENT = 10,
    PENDING_TIMEOUT_AWAITING_CLIENT_HS_SEND = 11,
    PENDING_FLUSH_STORED_SEND_BEFORE_CLOSE = 12,
    PENDING_TIMEOUT_SHUTDOWN_FLUSH = 13,
    PENDING_TIMEOUT_CGI = 14,
    PENDING_TIMEOUT_HTTP_KEEPALIVE_IDLE = 15,
    PENDING_TIMEOUT_WS_PONG_CHECK_SEND_PING = 16,
    PENDING_TIMEOUT_WS_PONG_CHECK_GET_PONG = 17,
    PENDING_TIMEOUT_CLIENT_ISSUE_PAYLOAD = 18,
    PENDING_TIMEOUT_AWAITING_SOCKS_GREETING_REPLY = 19,
    PENDING_TIMEOUT_AWAITING_SOCKS_CONNECT_REPLY = 20,
    PENDING_TIMEOUT_AWAITING_SOCKS_AUTH_REPLY = 21,
    PENDING_TIMEOUT_KILLED_BY_SSL_INFO = 22,
    PENDING_TIMEOUT_KILLED_BY_PARENT = 23,
    PENDING_TIMEOUT_CLOSE_SEND = 24,
    PENDING_TIMEOUT_HOLDING_AH = 25,
    PENDING_TIMEOUT_UDP_IDLE = 26,
    PENDING_TIMEOUT_CLIENT_CONN_IDLE = 27,
    PENDING_TIMEOUT_LAGGING = 28,
    PENDING_TIMEOUT_THREADPOOL = 29,
    PENDING_TIMEOUT_THREADPOOL_TASK = 30,
    PENDING_TIMEOUT_KILLED_BY_PROXY_CLIENT_CLOSE = 31,
    PENDING_TIMEOUT_USER_OK = 32,
    PENDING_TIMEOUT_USER_REASON_BASE = 1000,
};
#define LWS_TO_KILL_ASYNC (-1)
#define LWS_TO_KILL_SYNC  (-2)
LWS_VISIBLE void lws_set_timeout(struct lws *wsi, enum pending_timeout reason, int secs);
#define LWS_SET_TIMER_USEC_CANCEL ((lws_usec_t)-1ll)
/* LWS_CALLBACK_TIMER after @usecs. */
LWS_VISIBLE void lws_set_timer_usecs(struct lws *wsi, lws_usec_t usecs);

LWS_VISIBLE struct lws_vhost *lws_get_vhost(struct lws *wsi);
LWS_VISIBLE const struct lws_protocols *lws_get_protocol(struct lws *wsi);
LWS_VISIBLE struct lws_context *lws_get_context(const struct lws *wsi);
LWS_VISIBLE void *lws_wsi_user(struct lws *wsi);
LWS_VISIBLE void lws_set_wsi_user(struct lws *wsi, void *user);
LWS_VISIBLE void *lws_get_opaque_user_data(const struct lws *wsi);
LWS_VISIBLE void lws_set_opaque_user_data(struct lws *wsi, void *data);
LWS_VISIBLE int lws_get_tsi(struct lws *wsi);
#define lws_wsi_tsi lws_get_tsi
LWS_VISIBLE kite_conn_t *lws_kite_conn(struct lws *wsi);
LWS_VISIBLE struct lws *lws_get_parent(const struct lws *wsi);
LWS_VISIBLE lws_sockfd_type lws_get_socket_fd(struct lws *wsi);
LWS_VISIBLE const char *lws_get_peer_simple(struct lws *wsi, char *name, size_t namelen);
LWS_VISIBLE void lws_get_peer_addresses(struct lws *wsi, lws_sockfd_type fd, char *name,
                                        int name_len, char *rip, int rip_len);
LWS_VISIBLE int lws_is_ssl(struct lws *wsi);
LWS_VISIBLE int lws_is_first_fragment(struct lws *wsi);
LWS_VISIBLE int lws_is_final_fragment(struct lws *wsi);
LWS_VISIBLE int lws_frame_is_binary(struct lws *wsi);
LWS_VISIBLE size_t lws_remaining_packet_payload(struct lws *wsi);
LWS_VISIBLE const char *lws_canonical_hostname(struct lws_context *context);

/* Timers: lws's sorted usec lists, each one a kite vhost timer. */
struct lws_sorted_usec_list;
typedef void (*sul_cb_t)(struct lws_sorted_usec_list *sul);
typedef struct lws_sorted_usec_list {
    kite_timer_t kt; /* private */
    lws_usec_t us;
    sul_cb_t cb;
    struct lws_context *cx; /* private */
} lws_sorted_usec_list_t;
LWS_VISIBLE void lws_sul_schedule(struct lws_context *ctx, int tsi, lws_sorted_usec_list_t *sul,
                                  sul_cb_t _cb, lws_usec_t _us);
#define lws_sul_schedule_wakesuspend lws_sul_schedule
LWS_VISIBLE void lws_sul_cancel(lws_sorted_usec_list_t *sul);
LWS_VISIBLE int lws_retry_sul_schedule(struct lws_context *context, int tid,
                                       lws_sorted_usec_list_t *sul, const lws_retry_bo_t *retry,
                                       sul_cb_t cb, uint16_t *ctry);
LWS_VISIBLE int lws_retry_sul_schedule_retry_wsi(struct lws *wsi, lws_sorted_usec_list_t *sul,
                                                 sul_cb_t cb, uint16_t *ctry);

/* Rings of fixed-size elements with one head and many tails. */
struct lws_ring;
LWS_VISIBLE struct lws_ring *lws_ring_create(size_t element_len, size_t count,
                                             void (*destroy_element)(void *element));
LWS_VISIBLE void lws_ring_destroy(struct lws_ring *ring);
LWS_VISIBLE size_t lws_ring_get_count_free_elements(struct lws_ring *ring);
LWS_VISIBLE size_t lws_ring_get_count_waiting_elements(struct lws_ring *ring, uint32_t *tail);
LWS_VISIBLE size_t lws_ring_insert(struct lws_ring *ring, const void *src, size_t max_count);
LWS_VISIBLE size_t lws_ring_consume(struct lws_ring *ring, uint32_t *tail, void *dest,
                                    size_t max_count);
LWS_VISIBLE const void *lws_ring_get_element(struct lws_ring *ring, uint32_t *tail);
LWS_VISIBLE void lws_ring_update_oldest_tail(struct lws_ring *ring, uint32_t tail);
LWS_VISIBLE uint32_t lws_ring_get_oldest_tail(struct lws_ring *ring);
LWS_VISIBLE int lws_ring_next_linear_insert_range(struct lws_ring *ring, void **start,
                                                  size_t *bytes);
LWS_VISIBLE void lws_ring_bump_head(struct lws_ring *ring, size_t bytes);
LWS_VISIBLE void lws_ring_dump(struct lws_ring *ring, uint32_t *tail);
/* Consume one element for a tail and move the oldest tail on (lws's macros). */
#define lws_ring_consume_and_update_oldest_tail(___ring, ___type, ___ptail, ___count,              \
                                                ___list_head, ___mtail, ___mlist)                  \
    {                                                                                              \
        int ___n, ___m;                                                                            \
        ___n = lws_ring_get_oldest_tail(___ring) == *(___ptail);                                   \
        lws_ring_consume(___ring, ___ptail, NULL, ___count);                                       \
        if (___n) {                                                                                \
            uint32_t ___oldest;                                                                    \
            ___n = 0;                                                                              \
            ___oldest = *(___ptail);                                                               \
            lws_start_foreach_llp(___type **, ___ppss, ___list_head)                               \
            {                                                                                      \
                ___m = (int)lws_ring_get_count_waiting_elements(___ring, &(*___ppss)->___mtail);   \
                if (___m >= ___n) {                                                                \
                    ___n = ___m;                                                                   \
                    ___oldest = (*___ppss)->___mtail;                                              \
                }                                                                                  \
            }                                                                                      \
            lws_end_foreach_llp(___ppss, ___mlist);                                                \
            lws_ring_update_oldest_tail(___ring, ___oldest);                                       \
        }                                                                                          \
    }
#define lws_ring_consume_single_tail(___ring, ___ptail, ___count)                                  \
    {                                                                                              \
        lws_ring_consume(___ring, ___ptail, NULL, ___count);                                       \
        lws_ring_update_oldest_tail(___ring, *(___ptail));                                         \
    }

/* Client connections (ws, http, raw) through kite_client_connect(). */
enum lws_client_connect_ssl_connection_flags {
    LCCSCF_USE_SSL = 1 << 0,
    LCCSCF_ALLOW_SELFSIGNED = 1 << 1,
    LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK = 1 << 2,
    LCCSCF_ALLOW_EXPIRED = 1 << 3,
    LCCSCF_ALLOW_INSECURE = 1 << 4,
    LCCSCF_H2_QUIRK_NGHTTP2_END_STREAM = 1 << 5,
    LCCSCF_H2_QUIRK_OVERFLOWS_TXCR = 1 << 6,
    LCCSCF_H2_AUTH_BEARER = 1 << 7,
    LCCSCF_H2_HEXIFY_AUTH_TOKEN = 1 << 8,
    LCCSCF_H2_MANUAL_RXFLOW = 1 << 9,
    LCCSCF_HTTP_MULTIPART_MIME = 1 << 10,
    LCCSCF_HTTP_X_WWW_FORM_URLENCODED = 1 << 11,
    LCCSCF_HTTP_NO_FOLLOW_REDIRECT = 1 << 12,
    LCCSCF_PIPELINE = 1 << 16,
    LCCSCF_PRIORITIZE_READS = 1 << 18,
    LCCSCF_MUXABLE_STREAM = 1 << 17,
};

struct lws_client_connect_info {
    struct lws_context *context;
    const char *address;
    int port;
    int ssl_connection;
    const char *path;
    const char *host;
    const char *origin;
    const char *protocol;
    int ietf_version_or_minus_one;
    void *userdata;
    const void *client_exts;
    const char *method;
    struct lws *parent_wsi;
    const char *uri_replace_from;
    const char *uri_replace_to;
    struct lws_vhost *vhost;
    struct lws **pwsi;
    const char *iface;
    const char *local_protocol_name;
    const char *alpn;
    void *seq;
    void *opaque_user_data;
    const lws_retry_bo_t *retry_and_idle_policy;
    int manual_initial_tx_credit;
    uint8_t sys_tls_client_cert;
    void *mqtt_cp;
    uint16_t keep_warm_secs;
    void *_unused[4];
};
LWS_VISIBLE struct lws *lws_client_connect_via_info(const struct lws_client_connect_info *ccinfo);
LWS_VISIBLE int lws_http_client_http_response(struct lws *wsi);
LWS_VISIBLE int lws_http_client_read(struct lws *wsi, char **buf, int *len);
LWS_VISIBLE int lws_client_http_body_pending(struct lws *wsi, int something_left_to_send);

/* Raw: adopt an fd or socket into a vhost. */
typedef enum {
    LWS_ADOPT_RAW_FILE_DESC = 0,
    LWS_ADOPT_HTTP = 1,
    LWS_ADOPT_SOCKET = 2,
    LWS_ADOPT_ALLOW_SSL = 4,
    LWS_ADOPT_FLAG_UDP = 16,
    LWS_ADOPT_FLAG_RAW_PROXY = 32,
    LWS_ADOPT_RAW_SOCKET_UDP = LWS_ADOPT_SOCKET | LWS_ADOPT_FLAG_UDP,
} lws_adoption_type;
typedef union {
    lws_sockfd_type sockfd;
    lws_filefd_type filefd;
} lws_sock_file_fd_type;
LWS_VISIBLE struct lws *lws_adopt_socket_vhost(struct lws_vhost *vh, lws_sockfd_type accept_fd);
LWS_VISIBLE struct lws *lws_adopt_descriptor_vhost(struct lws_vhost *vh, lws_adoption_type type,
                                                   lws_sock_file_fd_type fd,
                                                   const char *vh_prot_name, struct lws *parent);

#endif
