/*
 * HTTP requests and responses for callback mounts. A request and every
 * string it returns stay valid until the response has been finished
 * (KITE_WRITE_HTTP_FINAL) or the connection closes. Strings are
 * NUL-terminated.
 */
#ifndef KITE_HTTP_H
#define KITE_HTTP_H

enum kite_http_method {
    KITE_HTTP_OTHER = 0,
    KITE_HTTP_GET,
    KITE_HTTP_HEAD,
    KITE_HTTP_POST,
    KITE_HTTP_PUT,
    KITE_HTTP_DELETE,
    KITE_HTTP_OPTIONS,
    KITE_HTTP_PATCH,
    KITE_HTTP_TRACE,
    KITE_HTTP_CONNECT,
    KITE_HTTP_MKCOL, /* RFC 4918: made by put-delete-auth-file mounts */
};

KITE_EXTERN const char *kite_http_method(const kite_http_req_t *req);
KITE_EXTERN int kite_http_method_id(const kite_http_req_t *req);
/** The decoded, normalised path ("/a/b.html"), without the query. */
KITE_EXTERN const char *kite_http_path(const kite_http_req_t *req);
/** The path below the mountpoint ("/b.html" for mount "/a"); "/" at least. */
KITE_EXTERN const char *kite_http_mount_path(const kite_http_req_t *req);
/** The raw query string without '?', or NULL. */
KITE_EXTERN const char *kite_http_query(const kite_http_req_t *req);
/** The request target as sent. */
KITE_EXTERN const char *kite_http_uri(const kite_http_req_t *req);
/** 10 for HTTP/1.0, 11 for HTTP/1.1. */
KITE_EXTERN int kite_http_version(const kite_http_req_t *req);
/** Header value by case-insensitive name, or NULL. The first one if repeated. */
KITE_EXTERN const char *kite_http_header(const kite_http_req_t *req, const char *name);
/** Number of headers and the i-th one (name and value); 0 or KITE_EINVAL. */
KITE_EXTERN int kite_http_header_count(const kite_http_req_t *req);
KITE_EXTERN int kite_http_header_at(const kite_http_req_t *req, int i, const char **name,
                                    const char **value);
/** Content-Length of the request body, or -1 (none or chunked). */
KITE_EXTERN int64_t kite_http_content_length(const kite_http_req_t *req);
/** Copy the query argument @name (percent-decoded) to @buf. Returns length or KITE_ENOENT/E2BIG. */
KITE_EXTERN int kite_http_query_arg(const kite_http_req_t *req, const char *name, char *buf,
                                    size_t len);
/** The mount's pmo option @name for this request, or NULL. */
KITE_EXTERN const char *kite_http_mount_option(const kite_http_req_t *req, const char *name);
/** The user name that passed basic-auth on this request, or NULL. */
KITE_EXTERN const char *kite_http_auth_user(const kite_http_req_t *req);

/**
 * kite_htpasswd_set() - set @user's password for @realm in the LibHTTP
 * password file @file ("user:realm:ha1" lines, ha1 = hex MD5 of
 * "user:realm:password"), adding the line or replacing it; a NULL
 * @password removes it. The file is created if missing, else replaced by
 * a rename (keeping its mode). Returns 0 or a negative KITE_E* code.
 */
KITE_EXTERN int kite_htpasswd_set(const char *file, const char *realm, const char *user,
                                  const char *password);
/** On an interpret mount: the file (full filesystem path) the request resolved to, or NULL. */
KITE_EXTERN const char *kite_http_file_path(const kite_http_req_t *req);
/** The request being served on @c, or NULL. */
KITE_EXTERN const kite_http_req_t *kite_http_request(const kite_conn_t *c);

/**
 * kite_http_add_header() - add a response header; call before
 * kite_http_respond(). Returns 0, KITE_ESTATE after the head was sent,
 * KITE_EINVAL for names/values with CR, LF or NUL, KITE_E2BIG when the
 * head grows past 4 KiB.
 */
KITE_EXTERN int kite_http_add_header(kite_conn_t *c, const char *name, const char *value);

/**
 * kite_http_respond() - send the status line and headers. @content_length
 * -1 means unknown: chunked for HTTP/1.1, close-delimited for 1.0. For
 * HEAD the body writes that follow are counted but not sent. Then write
 * the body with KITE_WRITE_HTTP and finish with KITE_WRITE_HTTP_FINAL.
 */
KITE_EXTERN int kite_http_respond(kite_conn_t *c, int status, const char *content_type,
                                  int64_t content_length);

/**
 * kite_http_send_status() - a complete response with the built-in (or
 * vhost's) HTML page for @status; @detail, when not NULL, is added to
 * the page, HTML-escaped. Finishes the response.
 */
KITE_EXTERN int kite_http_send_status(kite_conn_t *c, int status, const char *detail);

/** kite_http_redirect() - complete 301/302/303/307/308 response to @location. */
KITE_EXTERN int kite_http_redirect(kite_conn_t *c, int status, const char *location);

/** kite_http_status_text() - reason phrase, "" for unknown codes. */
KITE_EXTERN const char *kite_http_status_text(int status);

#endif
