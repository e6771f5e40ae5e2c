/*
 * libkite-lws HTTP: request headers by token, url arguments, building a
 * response head in the caller's buffer (lws's way; lws_write() with
 * LWS_WRITE_HTTP_HEADERS hands it to kite), status pages, redirects,
 * file serving, and lws_spa for form posts.
 */
#ifndef KITE_LWS_HTTP_H
#define KITE_LWS_HTTP_H

enum lws_token_indexes {
    WSI_TOKEN_GET_URI,
    WSI_TOKEN_POST_URI,
    WSI_TOKEN_OPTIONS_URI,
    WSI_TOKEN_HOST,
    WSI_TOKEN_CONNECTION,
    WSI_TOKEN_UPGRADE,
    WSI_TOKEN_ORIGIN,
    WSI_TOKEN_DRAFT,
    WSI_TOKEN_CHALLENGE,
    WSI_TOKEN_EXTENSIONS,
    WSI_TOKEN_KEY1,
    WSI_TOKEN_KEY2,
    WSI_TOKEN_PROTOCOL,
    WSI_TOKEN_ACCEPT,
    WSI_TOKEN_NONCE,
    WSI_TOKEN_HTTP,
    WSI_TOKEN_HTTP2_SETTINGS,
    WSI_TOKEN_HTTP_ACCEPT,
    WSI_TOKEN_HTTP_AC_REQUEST_HEADERS,
    WSI_TOKEN_HTTP_IF_MODIFIED_SINCE,
    WSI_TOKEN_HTTP_IF_NONE_MATCH,
    WSI_TOKEN_HTTP_ACCEPT_ENCODING,
    WSI_TOKEN_HTTP_ACCEPT_LANGUAGE,
    WSI_TOKEN_HTTP_PRAGMA,
    WSI_TOKEN_HTTP_CACHE_CONTROL,
    WSI_TOKEN_HTTP_AUTHORIZATION,
    WSI_TOKEN_HTTP_COOKIE,
    WSI_TOKEN_HTTP_CONTENT_LENGTH,
    WSI_TOKEN_HTTP_CONTENT_TYPE,
    WSI_TOKEN_HTTP_DATE,
    WSI_TOKEN_HTTP_RANGE,
    WSI_TOKEN_HTTP_REFERER,
    WSI_TOKEN_KEY,
    WSI_TOKEN_VERSION,
    WSI_TOKEN_SWORIGIN,
    WSI_TOKEN_HTTP_COLON_AUTHORITY,
    WSI_TOKEN_HTTP_COLON_METHOD,
    WSI_TOKEN_HTTP_COLON_PATH,
    WSI_TOKEN_HTTP_COLON_SCHEME,
    WSI_TOKEN_HTTP_COLON_STATUS,
    WSI_TOKEN_HTTP_ACCEPT_CHARSET,
    WSI_TOKEN_HTTP_ACCEPT_RANGES,
    WSI_TOKEN_HTTP_ACCESS_CONTROL_ALLOW_ORIGIN,
    WSI_TOKEN_HTTP_AGE,
    WSI_TOKEN_HTTP_ALLOW,
    WSI_TOKEN_HTTP_CONTENT_DISPOSITION,
    WSI_TOKEN_HTTP_CONTENT_ENCODING,
    WSI_TOKEN_HTTP_CONTENT_LANGUAGE,
    WSI_TOKEN_HTTP_CONTENT_LOCATION,
    WSI_TOKEN_HTTP_CONTENT_RANGE,
    WSI_TOKEN_HTTP_ETAG,
    WSI_TOKEN_HTTP_EXPECT,
    WSI_TOKEN_HTTP_EXPIRES,
    WSI_TOKEN_HTTP_FROM,
    WSI_TOKEN_HTTP_IF_MATCH,
    WSI_TOKEN_HTTP_IF_RANGE,
    WSI_TOKEN_HTTP_IF_UNMODIFIED_SINCE,
    WSI_TOKEN_HTTP_LAST_MODIFIED,
    WSI_TOKEN_HTTP_LINK,
    WSI_TOKEN_HTTP_LOCATION,
    WSI_TOKEN_HTTP_MAX_FORWARDS,
    WSI_TOKEN_HTTP_PROXY_AUTHENTICATE,
    WSI_TOKEN_HTTP_PROXY_AUTHORIZATION,
    WSI_TOKEN_HTTP_REFRESH,
    WSI_TOKEN_HTTP_RETRY_AFTER,
    WSI_TOKEN_HTTP_SERVER,
    WSI_TOKEN_HTTP_SET_COOKIE,
    WSI_TOKEN_HTTP_STRICT_TRANSPORT_SECURITY,
    WSI_TOKEN_HTTP_TRANSFER_ENCODING,
    WSI_TOKEN_HTTP_USER_AGENT,
    WSI_TOKEN_HTTP_VARY,
    WSI_TOKEN_HTTP_VIA,
    WSI_TOKEN_HTTP_WWW_AUTHENTICATE,
    WSI_TOKEN_PATCH_URI,
    WSI_TOKEN_PUT_URI,
    WSI_TOKEN_DELETE_URI,
    WSI_TOKEN_HTTP_URI_ARGS,
    WSI_TOKEN_PROXY,
    WSI_TOKEN_HTTP_X_REAL_IP,
    WSI_TOKEN_HTTP1_0,
    WSI_TOKEN_X_FORWARDED_FOR,
    WSI_TOKEN_CONNECT,
    WSI_TOKEN_HEAD_URI,
    WSI_TOKEN_TE,
    WSI_TOKEN_REPLAY_NONCE,
    WSI_TOKEN_COLON_PROTOCOL,
    WSI_TOKEN_X_AUTH_TOKEN,
    WSI_TOKEN_COUNT,
};

enum http_status {
    HTTP_STATUS_CONTINUE = 100,
    HTTP_STATUS_OK = 200,
    HTTP_STATUS_NO_CONTENT = 204,
    HTTP_STATUS_PARTIAL_CONTENT = 206,
    HTTP_STATUS_MOVED_PERMANENTLY = 301,
    HTTP_STATUS_FOUND = 302,
    HTTP_STATUS_SEE_OTHER = 303,
    HTTP_STATUS_NOT_MODIFIED = 304,
    HTTP_STATUS_BAD_REQUEST = 400,
    HTTP_STATUS_UNAUTHORIZED = 401,
    HTTP_STATUS_PAYMENT_REQUIRED = 402,
    HTTP_STATUS_FORBIDDEN = 403,
    HTTP_STATUS_NOT_FOUND = 404,
    HTTP_STATUS_METHOD_NOT_ALLOWED = 405,
    HTTP_STATUS_NOT_ACCEPTABLE = 406,
    HTTP_STATUS_REQUEST_TIMEOUT = 408,
    HTTP_STATUS_CONFLICT = 409,
    HTTP_STATUS_GONE = 410,
    HTTP_STATUS_LENGTH_REQUIRED = 411,
    HTTP_STATUS_PRECONDITION_FAILED = 412,
    HTTP_STATUS_REQ_ENTITY_TOO_LARGE = 413,
    HTTP_STATUS_REQ_URI_TOO_LONG = 414,
    HTTP_STATUS_UNSUPPORTED_MEDIA_TYPE = 415,
    HTTP_STATUS_REQ_RANGE_NOT_SATISFIABLE = 416,
    HTTP_STATUS_EXPECTATION_FAILED = 417,
    HTTP_STATUS_INTERNAL_SERVER_ERROR = 500,
    HTTP_STATUS_NOT_IMPLEMENTED = 501,
    HTTP_STATUS_BAD_GATEWAY = 502,
    HTTP_STATUS_SERVICE_UNAVAILABLE = 503,
    HTTP_STATUS_GATEWAY_TIMEOUT = 504,
    HTTP_STATUS_HTTP_VERSION_NOT_SUPPORTED = 505,
};

/* Content length meaning "unknown" (kite then sends the body chunked). */
#define LWS_ILLEGAL_HTTP_CONTENT_LEN ((unsigned long)-1l)

LWS_VISIBLE int lws_hdr_total_length(struct lws *wsi, enum lws_token_indexes h);
LWS_VISIBLE int lws_hdr_fragment_length(struct lws *wsi, enum lws_token_indexes h, int frag_idx);
LWS_VISIBLE int lws_hdr_copy(struct lws *wsi, char *dest, int len, enum lws_token_indexes h);
LWS_VISIBLE int lws_hdr_copy_fragment(struct lws *wsi, char *dest, int len,
                                      enum lws_token_indexes h, int frag_idx);
LWS_VISIBLE int lws_hdr_custom_length(struct lws *wsi, const char *name, int nlen);
LWS_VISIBLE int lws_hdr_custom_copy(struct lws *wsi, char *dst, int len, const char *name,
                                    int nlen);
LWS_VISIBLE const unsigned char *lws_token_to_string(enum lws_token_indexes token);
LWS_VISIBLE const char *lws_get_urlarg_by_name(struct lws *wsi, const char *name, char *buf,
                                               int len);
LWS_VISIBLE int lws_urldecode(char *string, const char *escaped, int len);
LWS_VISIBLE int lws_urlencode(char *escaped, const char *string, int len);
LWS_VISIBLE int lws_http_get_uri_and_method(struct lws *wsi, char **puri_ptr, int *puri_len);

LWS_VISIBLE int lws_add_http_header_status(struct lws *wsi, unsigned int code, unsigned char **p,
                                           unsigned char *end);
LWS_VISIBLE int lws_add_http_header_by_name(struct lws *wsi, const unsigned char *name,
                                            const unsigned char *value, int length,
                                            unsigned char **p, unsigned char *end);
LWS_VISIBLE int lws_add_http_header_by_token(struct lws *wsi, enum lws_token_indexes token,
                                             const unsigned char *value, int length,
                                             unsigned char **p, unsigned char *end);
LWS_VISIBLE int lws_add_http_header_content_length(struct lws *wsi, unsigned long content_length,
                                                   unsigned char **p, unsigned char *end);
LWS_VISIBLE int lws_finalize_http_header(struct lws *wsi, unsigned char **p, unsigned char *end);
LWS_VISIBLE int lws_finalize_write_http_header(struct lws *wsi, unsigned char *start,
                                               unsigned char **p, unsigned char *end);
LWS_VISIBLE int lws_add_http_common_headers(struct lws *wsi, unsigned int code,
                                            const char *content_type, unsigned long content_len,
                                            unsigned char **p, unsigned char *end);
LWS_VISIBLE int lws_http_transaction_completed(struct lws *wsi);
LWS_VISIBLE int lws_return_http_status(struct lws *wsi, unsigned int code, const char *html_body);
LWS_VISIBLE int lws_http_redirect(struct lws *wsi, int code, const unsigned char *loc, int len,
                                  unsigned char **p, unsigned char *end);
LWS_VISIBLE int lws_serve_http_file(struct lws *wsi, const char *file, const char *content_type,
                                    const char *other_headers, int other_headers_len);
LWS_VISIBLE const char *lws_get_mimetype(const char *file, const struct lws_http_mount *m);
LWS_VISIBLE int lws_http_mark_sse(struct lws *wsi);
LWS_VISIBLE int lws_http_is_redirected_to_get(struct lws *wsi);

/* Form posts: urlencoded and multipart, parameters by name. */
enum lws_spa_fileupload_states {
    LWS_UFS_CONTENT,
    LWS_UFS_FINAL_CONTENT,
    LWS_UFS_OPEN,
    LWS_UFS_CLOSE,
};
typedef int (*lws_spa_fileupload_cb)(void *data, const char *name, const char *filename, char *buf,
                                     int len, enum lws_spa_fileupload_states state);
struct lws_spa;
typedef struct lws_spa_create_info {
    const char *const *param_names;
    int count_params;
    int max_storage;
    lws_spa_fileupload_cb opt_cb;
    void *opt_data;
    size_t param_names_stride;
    void *ac;
    size_t ac_chunk_size;
} lws_spa_create_info_t;
LWS_VISIBLE struct lws_spa *lws_spa_create(struct lws *wsi, const char *const *param_names,
                                           int count_params, int max_storage,
                                           lws_spa_fileupload_cb opt_cb, void *opt_data);
LWS_VISIBLE struct lws_spa *lws_spa_create_via_info(struct lws *wsi,
                                                    const lws_spa_create_info_t *info);
LWS_VISIBLE int lws_spa_process(struct lws_spa *spa, const char *in, int len);
LWS_VISIBLE int lws_spa_finalize(struct lws_spa *spa);
LWS_VISIBLE int lws_spa_get_length(struct lws_spa *spa, int n);
LWS_VISIBLE const char *lws_spa_get_string(struct lws_spa *spa, int n);
LWS_VISIBLE int lws_spa_destroy(struct lws_spa *spa);

#endif
