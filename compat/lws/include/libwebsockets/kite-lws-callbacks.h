/*
 * libkite-lws protocols: the one reason callback per protocol, struct
 * lws_protocols in lws's member order (positional initialisers), and the
 * lwsws plugin descriptor. The layer gives each lws protocol a kite
 * protocol whose named callbacks call this one with the matching reason.
 */
#ifndef KITE_LWS_CALLBACKS_H
#define KITE_LWS_CALLBACKS_H

enum lws_callback_reasons {
    LWS_CALLBACK_PROTOCOL_INIT = 27,
    LWS_CALLBACK_PROTOCOL_DESTROY = 28,
    LWS_CALLBACK_WSI_CREATE = 29,
    LWS_CALLBACK_WSI_DESTROY = 30,
    LWS_CALLBACK_WSI_TX_CREDIT_GET = 103,
    LWS_CALLBACK_HTTP = 12,
    LWS_CALLBACK_HTTP_BODY = 13,
    LWS_CALLBACK_HTTP_BODY_COMPLETION = 14,
    LWS_CALLBACK_HTTP_FILE_COMPLETION = 15,
    LWS_CALLBACK_HTTP_WRITEABLE = 16,
    LWS_CALLBACK_CLOSED_HTTP = 5,
    LWS_CALLBACK_FILTER_HTTP_CONNECTION = 18,
    LWS_CALLBACK_ADD_HEADERS = 53,
    LWS_CALLBACK_VERIFY_BASIC_AUTHORIZATION = 102,
    LWS_CALLBACK_CHECK_ACCESS_RIGHTS = 51,
    LWS_CALLBACK_PROCESS_HTML = 52,
    LWS_CALLBACK_HTTP_BIND_PROTOCOL = 49,
    LWS_CALLBACK_HTTP_DROP_PROTOCOL = 50,
    LWS_CALLBACK_HTTP_CONFIRM_UPGRADE = 86,
    LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP = 44,
    LWS_CALLBACK_CLOSED_CLIENT_HTTP = 45,
    LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ = 48,
    LWS_CALLBACK_RECEIVE_CLIENT_HTTP = 46,
    LWS_CALLBACK_COMPLETED_CLIENT_HTTP = 47,
    LWS_CALLBACK_CLIENT_HTTP_WRITEABLE = 57,
    LWS_CALLBACK_CLIENT_HTTP_REDIRECT = 104,
    LWS_CALLBACK_CLIENT_HTTP_BIND_PROTOCOL = 85,
    LWS_CALLBACK_CLIENT_HTTP_DROP_PROTOCOL = 76,
    LWS_CALLBACK_ESTABLISHED = 0,
    LWS_CALLBACK_CLOSED = 4,
    LWS_CALLBACK_SERVER_WRITEABLE = 11,
    LWS_CALLBACK_RECEIVE = 6,
    LWS_CALLBACK_RECEIVE_PONG = 7,
    LWS_CALLBACK_WS_PEER_INITIATED_CLOSE = 38,
    LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION = 20,
    LWS_CALLBACK_CONFIRM_EXTENSION_OKAY = 25,
    LWS_CALLBACK_WS_SERVER_BIND_PROTOCOL = 77,
    LWS_CALLBACK_WS_SERVER_DROP_PROTOCOL = 78,
    LWS_CALLBACK_CLIENT_CONNECTION_ERROR = 1,
    LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH = 2,
    LWS_CALLBACK_CLIENT_ESTABLISHED = 3,
    LWS_CALLBACK_CLIENT_CLOSED = 75,
    LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER = 24,
    LWS_CALLBACK_CLIENT_RECEIVE = 8,
    LWS_CALLBACK_CLIENT_RECEIVE_PONG = 9,
    LWS_CALLBACK_CLIENT_WRITEABLE = 10,
    LWS_CALLBACK_CLIENT_CONFIRM_EXTENSION_SUPPORTED = 26,
    LWS_CALLBACK_WS_EXT_DEFAULTS = 39,
    LWS_CALLBACK_FILTER_NETWORK_CONNECTION = 17,
    LWS_CALLBACK_WS_CLIENT_BIND_PROTOCOL = 79,
    LWS_CALLBACK_WS_CLIENT_DROP_PROTOCOL = 80,
    LWS_CALLBACK_GET_THREAD_ID = 31,
    LWS_CALLBACK_ADD_POLL_FD = 32,
    LWS_CALLBACK_DEL_POLL_FD = 33,
    LWS_CALLBACK_CHANGE_MODE_POLL_FD = 34,
    LWS_CALLBACK_LOCK_POLL = 35,
    LWS_CALLBACK_UNLOCK_POLL = 36,
    LWS_CALLBACK_CGI = 40,
    LWS_CALLBACK_CGI_TERMINATED = 41,
    LWS_CALLBACK_CGI_STDIN_DATA = 42,
    LWS_CALLBACK_CGI_STDIN_COMPLETED = 43,
    LWS_CALLBACK_CGI_PROCESS_ATTACH = 70,
    LWS_CALLBACK_SESSION_INFO = 54,
    LWS_CALLBACK_GS_EVENT = 55,
    LWS_CALLBACK_HTTP_PMO = 56,
    LWS_CALLBACK_RAW_PROXY_CLI_RX = 89,
    LWS_CALLBACK_RAW_PROXY_SRV_RX = 90,
    LWS_CALLBACK_RAW_PROXY_CLI_CLOSE = 91,
    LWS_CALLBACK_RAW_PROXY_SRV_CLOSE = 92,
    LWS_CALLBACK_RAW_PROXY_CLI_WRITEABLE = 93,
    LWS_CALLBACK_RAW_PROXY_SRV_WRITEABLE = 94,
    LWS_CALLBACK_RAW_PROXY_CLI_ADOPT = 95,
    LWS_CALLBACK_RAW_PROXY_SRV_ADOPT = 96,
    LWS_CALLBACK_RAW_RX = 59,
    LWS_CALLBACK_RAW_CLOSE = 60,
    LWS_CALLBACK_RAW_WRITEABLE = 61,
    LWS_CALLBACK_RAW_ADOPT = 62,
    LWS_CALLBACK_RAW_CONNECTED = 101,
    LWS_CALLBACK_RAW_SKT_BIND_PROTOCOL = 81,
    LWS_CALLBACK_RAW_SKT_DROP_PROTOCOL = 82,
    LWS_CALLBACK_RAW_ADOPT_FILE = 63,
    LWS_CALLBACK_RAW_RX_FILE = 64,
    LWS_CALLBACK_RAW_WRITEABLE_FILE = 65,
    LWS_CALLBACK_RAW_CLOSE_FILE = 66,
    LWS_CALLBACK_RAW_FILE_BIND_PROTOCOL = 83,
    LWS_CALLBACK_RAW_FILE_DROP_PROTOCOL = 84,
    LWS_CALLBACK_TIMER = 73,
    LWS_CALLBACK_EVENT_WAIT_CANCELLED = 71,
    LWS_CALLBACK_CHILD_CLOSING = 69,
    LWS_CALLBACK_VHOST_CERT_AGING = 72,
    LWS_CALLBACK_VHOST_CERT_UPDATE = 74,
    LWS_CALLBACK_USER = 1000,
};

typedef int lws_callback_function(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                                  void *in, size_t len);

/* A protocol; the member order is lws 4.1's, for positional initialisers. */
struct lws_protocols {
    const char *name;
    lws_callback_function *callback;
    size_t per_session_data_size;
    /* Receive pieces are at most this big (0: 4096, as lws). */
    size_t rx_buffer_size;
    unsigned int id;
    void *user;
    size_t tx_packet_size;
};

/* in of LWS_CALLBACK_ADD/DEL/CHANGE_MODE_POLL_FD. */
struct lws_pollargs {
    int fd;
    int events;
    int prev_events;
};

/* Per-vhost protocol options, as kite_pvo_t. */
struct lws_protocol_vhost_options {
    const struct lws_protocol_vhost_options *next;
    const struct lws_protocol_vhost_options *options;
    const char *name;
    const char *value;
};

/* lwsws plugins: the file libprotocol_NAME.so exports NAME, one of these. */
#define LWS_PLUGIN_API_MAGIC 190

typedef struct lws_plugin_header {
    const char *name;
    const char *_class;
    unsigned int api_magic;
} lws_plugin_header_t;

typedef struct lws_plugin_protocol {
    lws_plugin_header_t hdr;
    const struct lws_protocols *protocols;
    const struct lws_extension *extensions;
    int count_protocols;
    int count_extensions;
} lws_plugin_protocol_t;

/* The permessage-deflate extension: kite negotiates it itself. */
typedef int lws_extension_callback_function(struct lws_context *context,
                                            const struct lws_extension *ext, struct lws *wsi,
                                            int reason, void *user, void *in, size_t len);
struct lws_extension {
    const char *name;
    lws_extension_callback_function *callback;
    const char *client_offer;
};
LWS_VISIBLE lws_extension_callback_function lws_extension_callback_pm_deflate;

LWS_VISIBLE int lws_callback_http_dummy(struct lws *wsi, enum lws_callback_reasons reason,
                                        void *user, void *in, size_t len);

LWS_VISIBLE const struct lws_protocol_vhost_options *
lws_pvo_search(const struct lws_protocol_vhost_options *pvo, const char *name);
LWS_VISIBLE int lws_pvo_get_str(void *in, const char *name, const char **result);

#endif
