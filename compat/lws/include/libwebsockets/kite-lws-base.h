/*
 * libkite-lws basics: visibility and helper macros, the handle types,
 * logging, the linked-list helpers and small string functions of the lws
 * 4.1 API.
 */
#ifndef KITE_LWS_BASE_H
#define KITE_LWS_BASE_H

#define LWS_LIBRARY_VERSION        "4.1.6-kite"
#define LWS_LIBRARY_VERSION_MAJOR  4
#define LWS_LIBRARY_VERSION_MINOR  1
#define LWS_LIBRARY_VERSION_PATCH  6
#define LWS_LIBRARY_VERSION_NUMBER 4001006
/* What the layer offers, as lws's lws_config.h would say it. */
#define LWS_ROLE_H1            1
#define LWS_ROLE_WS            1
#define LWS_ROLE_RAW           1
#define LWS_WITH_NETWORK       1
#define LWS_WITH_SERVER        1
#define LWS_WITH_CLIENT        1
#define LWS_WITH_FILE_OPS      1
#define LWS_WITH_LIBUV         1
#define LWS_WITH_EXTERNAL_POLL 1
#define LWS_WITH_PLUGINS       1
#define LWS_WITH_TLS           1
#define LWS_WITH_MBEDTLS       1
#define LWS_HAVE_UV_VERSION_H  1
#define LWS_MAX_SMP            32

#define LWS_VISIBLE            __attribute__((visibility("default")))
#define LWS_EXTERN             extern
#define LWS_WARN_UNUSED_RESULT __attribute__((warn_unused_result))
#define LWS_WARN_DEPRECATED    __attribute__((deprecated))
#define LWS_FORMAT(s)          __attribute__((format(printf, s, s + 1)))
#define LWS_INLINE             inline
#define LWS_O_RDONLY           0
#define LWS_O_WRONLY           1
#define LWS_O_CREAT            0100
#define LWS_O_TRUNC            01000

/* Headroom lws_write() may use before the payload (as lws: 16 bytes). */
#define LWS_PRE                          16
#define LWS_SEND_BUFFER_PRE_PADDING      LWS_PRE
#define LWS_SEND_BUFFER_POST_PADDING     0
#define LWS_RECOMMENDED_MIN_HEADER_SPACE 2048

#define LWS_US_PER_SEC   ((lws_usec_t)1000000)
#define LWS_USEC_PER_SEC ((lws_usec_t)1000000)
#define LWS_MS_PER_SEC   ((lws_usec_t)1000)
#define LWS_US_PER_MS    ((lws_usec_t)1000)
#define LWS_NS_PER_US    ((lws_usec_t)1000)

#define LWS_ARRAY_SIZE(_x)        (sizeof(_x) / sizeof(_x[0]))
#define lws_ptr_diff(head, tail)  ((int)((char *)(head) - (char *)(tail)))
#define lws_container_of(P, T, M) ((T *)((char *)(P)-offsetof(T, M)))

typedef int64_t lws_usec_t;
typedef intptr_t lws_intptr_t;
typedef int lws_sockfd_type;
typedef int lws_filefd_type;
#define LWS_SOCK_INVALID (-1)
#define LWS_INVALID_FILE (-1)
#define lws_pollfd       pollfd
#define LWS_POLLIN       POLLIN
#define LWS_POLLOUT      POLLOUT
#define LWS_POLLHUP      (POLLHUP | POLLERR)

struct lws;
struct lws_context;
struct lws_vhost;
struct lws_protocols;
struct lws_extension;
struct lws_context_creation_info;

/* Logging: a level mask as lws's, lines to stderr or the emit callback. */
enum lws_log_levels {
    LLL_ERR = 1 << 0,
    LLL_WARN = 1 << 1,
    LLL_NOTICE = 1 << 2,
    LLL_INFO = 1 << 3,
    LLL_DEBUG = 1 << 4,
    LLL_PARSER = 1 << 5,
    LLL_HEADER = 1 << 6,
    LLL_EXT = 1 << 7,
    LLL_CLIENT = 1 << 8,
    LLL_LATENCY = 1 << 9,
    LLL_USER = 1 << 10,
    LLL_THREAD = 1 << 11,
    LLL_COUNT = 12,
};

LWS_VISIBLE void lws_set_log_level(int level,
                                   void (*log_emit_function)(int level, const char *line));
LWS_VISIBLE void lwsl_emit_syslog(int level, const char *line);
LWS_VISIBLE void lwsl_emit_stderr(int level, const char *line);
LWS_VISIBLE int lwsl_visible(int level);
LWS_VISIBLE void _lws_log(int filter, const char *format, ...) LWS_FORMAT(2);
LWS_VISIBLE void _lws_logv(int filter, const char *format, va_list vl);
LWS_VISIBLE void lwsl_hexdump_level(int level, const void *buf, size_t len);
LWS_VISIBLE void lwsl_hexdump(const void *buf, size_t len);

#define lwsl_err(...)            _lws_log(LLL_ERR, __VA_ARGS__)
#define lwsl_warn(...)           _lws_log(LLL_WARN, __VA_ARGS__)
#define lwsl_notice(...)         _lws_log(LLL_NOTICE, __VA_ARGS__)
#define lwsl_info(...)           _lws_log(LLL_INFO, __VA_ARGS__)
#define lwsl_debug(...)          _lws_log(LLL_DEBUG, __VA_ARGS__)
#define lwsl_parser(...)         _lws_log(LLL_PARSER, __VA_ARGS__)
#define lwsl_header(...)         _lws_log(LLL_HEADER, __VA_ARGS__)
#define lwsl_ext(...)            _lws_log(LLL_EXT, __VA_ARGS__)
#define lwsl_client(...)         _lws_log(LLL_CLIENT, __VA_ARGS__)
#define lwsl_latency(...)        _lws_log(LLL_LATENCY, __VA_ARGS__)
#define lwsl_thread(...)         _lws_log(LLL_THREAD, __VA_ARGS__)
#define lwsl_user(...)           _lws_log(LLL_USER, __VA_ARGS__)
#define lwsl_hexdump_err(...)    lwsl_hexdump_level(LLL_ERR, __VA_ARGS__)
#define lwsl_hexdump_warn(...)   lwsl_hexdump_level(LLL_WARN, __VA_ARGS__)
#define lwsl_hexdump_notice(...) lwsl_hexdump_level(LLL_NOTICE, __VA_ARGS__)
#define lwsl_hexdump_info(...)   lwsl_hexdump_level(LLL_INFO, __VA_ARGS__)
#define lwsl_hexdump_debug(...)  lwsl_hexdump_level(LLL_DEBUG, __VA_ARGS__)

/* Strings and the command line. */
LWS_VISIBLE int lws_snprintf(char *str, size_t size, const char *format, ...) LWS_FORMAT(3);
LWS_VISIBLE char *lws_strncpy(char *dest, const char *src, size_t size);
#define lws_strnncpy(dest, src, size1, destsize)                                                   \
    lws_strncpy(dest, src,                                                                         \
                (size_t)(size1 + 1) < (size_t)(destsize) ? (size_t)(size1 + 1)                     \
                                                         : (size_t)(destsize))
LWS_VISIBLE const char *lws_cmdline_option(int argc, const char **argv, const char *val);
LWS_VISIBLE void lws_cmdline_option_handle_builtin(int argc, const char **argv,
                                                   struct lws_context_creation_info *info);
LWS_VISIBLE const char *lws_get_library_version(void);
LWS_VISIBLE lws_usec_t lws_now_usecs(void);
LWS_VISIBLE int lws_open(const char *path, int flags, ...);
LWS_VISIBLE void lws_explicit_bzero(void *p, size_t len);
/* Make a file name safe in place: no "..", no '/' or '\\' runs. */
LWS_VISIBLE int lws_filename_purify_inplace(char *filename);

#define lws_pthread_mutex(name)      pthread_mutex_t name;
#define lws_pthread_mutex_init(x)    pthread_mutex_init(x, NULL)
#define lws_pthread_mutex_destroy(x) pthread_mutex_destroy(x)
#define lws_pthread_mutex_lock(x)    pthread_mutex_lock(x)
#define lws_pthread_mutex_unlock(x)  pthread_mutex_unlock(x)

/* Singly linked lists threaded through a member (lws's ll helpers). */
#define lws_start_foreach_ll(type, it, start)                                                      \
    {                                                                                              \
        type it = start;                                                                           \
        while (it) {
#define lws_end_foreach_ll(it, nxt)                                                                \
    it = it->nxt;                                                                                  \
    }                                                                                              \
    }
#define lws_start_foreach_ll_safe(type, it, start, nxt)                                            \
    {                                                                                              \
        type it = start;                                                                           \
        while (it) {                                                                               \
            type next_##it = it->nxt;
#define lws_end_foreach_ll_safe(it)                                                                \
    it = next_##it;                                                                                \
    }                                                                                              \
    }
#define lws_start_foreach_llp(type, it, start)                                                     \
    {                                                                                              \
        type it = &(start);                                                                        \
        while (*(it)) {
#define lws_start_foreach_llp_safe(type, it, start, nxt)                                           \
    {                                                                                              \
        type it = &(start);                                                                        \
        type next;                                                                                 \
        while (*(it)) {                                                                            \
            next = &((*(it))->nxt);
#define lws_end_foreach_llp(it, nxt)                                                               \
    it = &(*(it))->nxt;                                                                            \
    }                                                                                              \
    }
#define lws_end_foreach_llp_safe(it)                                                               \
    it = next;                                                                                     \
    }                                                                                              \
    }
#define lws_ll_fwd_insert(___new_object, ___m_list, ___list_head)                                  \
    {                                                                                              \
        ___new_object->___m_list = ___list_head;                                                   \
        ___list_head = ___new_object;                                                              \
    }
#define lws_ll_fwd_remove(___type, ___m_list, ___target, ___list_head)                             \
    {                                                                                              \
        lws_start_foreach_llp(___type **, ___ppss, ___list_head)                                   \
        {                                                                                          \
            if (*___ppss == ___target) {                                                           \
                *___ppss = ___target->___m_list;                                                   \
                break;                                                                             \
            }                                                                                      \
        }                                                                                          \
        lws_end_foreach_llp(___ppss, ___m_list);                                                   \
    }

#endif
