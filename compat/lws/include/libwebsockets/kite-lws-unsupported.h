/*
 * lws 4.1 calls that have no kite meaning. Each is declared with an error
 * attribute: a program that calls one fails to build, and the compiler's
 * message names the call. READMEs/README.lws-compat.md says why for each.
 */
#ifndef KITE_LWS_UNSUPPORTED_H
#define KITE_LWS_UNSUPPORTED_H

#define KITE_LWS_NONE(why) __attribute__((error("has no meaning on kite (libkite-lws): " why)))

struct lws_threadpool;
struct lws_threadpool_task;
struct lws_threadpool_create_args;
struct lws_threadpool_task_args;
struct lwsac;
struct lws_udp;
struct lws_tokenize;

LWS_VISIBLE struct lws_threadpool *
lws_threadpool_create(struct lws_context *context, const struct lws_threadpool_create_args *args,
                      const char *format, ...)
    KITE_LWS_NONE("lws_threadpool_create: use kite_post() from your own threads");
LWS_VISIBLE struct lws_threadpool_task *
lws_threadpool_enqueue(struct lws_threadpool *tp, const struct lws_threadpool_task_args *args,
                       const char *format, ...)
    KITE_LWS_NONE("lws_threadpool_enqueue: no threadpool");
LWS_VISIBLE int lws_threadpool_task_status(struct lws *wsi, struct lws_threadpool_task **task,
                                           void **user)
    KITE_LWS_NONE("lws_threadpool_task_status: no threadpool");
LWS_VISIBLE void lws_threadpool_finish(struct lws_threadpool *tp)
    KITE_LWS_NONE("lws_threadpool_finish: no threadpool");
LWS_VISIBLE void lws_threadpool_destroy(struct lws_threadpool *tp)
    KITE_LWS_NONE("lws_threadpool_destroy: no threadpool");
LWS_VISIBLE void lwsac_free(struct lwsac **head) KITE_LWS_NONE("lwsac_free: no lwsac allocator");
LWS_VISIBLE void *lwsac_use(struct lwsac **head, size_t ensure, size_t chunk_size)
    KITE_LWS_NONE("lwsac_use: no lwsac allocator");
LWS_VISIBLE const struct lws_udp *lws_get_udp(const struct lws *wsi)
    KITE_LWS_NONE("lws_get_udp: use kite_udp_peer()");
LWS_VISIBLE struct lws *lws_create_adopt_udp(struct lws_vhost *vhost, const char *ads, int port,
                                             int flags, const char *protocol_name,
                                             const char *ifname, struct lws *parent_wsi,
                                             void *opaque, const lws_retry_bo_t *retry_policy)
    KITE_LWS_NONE("lws_create_adopt_udp: use kite_adopt_fd(KITE_ADOPT_UDP)");
LWS_VISIBLE const char *lws_json_simple_find(const char *buf, size_t len, const char *name,
                                             size_t *alen)
    KITE_LWS_NONE("lws_json_simple_find: use jansson");
LWS_VISIBLE int lws_plugins_init(void *pplugin, const char *const *d, const char *_class,
                                 const char *filter, void *each, void *each_user)
    KITE_LWS_NONE("lws_plugins_init: kite_plugins_load() loads lws plugins");
LWS_VISIBLE int lws_tls_cert_updated(struct lws_context *context, const char *certpath,
                                     const char *keypath, const char *mem_cert, size_t len_mem_cert,
                                     const char *mem_privkey, size_t len_mem_privkey)
    KITE_LWS_NONE("lws_tls_cert_updated: reload the vhost (kited SIGHUP)");
LWS_VISIBLE int lws_set_proxy(struct lws_vhost *vhost, const char *proxy)
    KITE_LWS_NONE("lws_set_proxy: kite has no outgoing HTTP proxy");
LWS_VISIBLE int lws_set_socks(struct lws_vhost *vhost, const char *socks)
    KITE_LWS_NONE("lws_set_socks: kite has no SOCKS client");
LWS_VISIBLE struct lws *lws_get_network_wsi(struct lws *wsi)
    KITE_LWS_NONE("lws_get_network_wsi: kite hides HTTP/2 streams");
LWS_VISIBLE int lws_cgi(struct lws *wsi, const char *const *exec_array, int script_uri_path_len,
                        int timeout_secs, const struct lws_protocol_vhost_options *mp_cgienv)
    KITE_LWS_NONE("lws_cgi: use a CGI mount (LWSMPRO_CGI)");

#endif
