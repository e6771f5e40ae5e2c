/*
 * Logging. Levels are bits so that a mask selects them, as lws's -d does.
 * Lines go to stderr unless the application installs an emit callback.
 */
#ifndef KITE_LOG_H
#define KITE_LOG_H

enum {
    KITE_LL_ERR = 1,
    KITE_LL_WARN = 2,
    KITE_LL_NOTICE = 4,
    KITE_LL_INFO = 8,
    KITE_LL_DEBUG = 16,
    KITE_LL_ACCESS = 32,
};

#define KITE_LL_DEFAULT (KITE_LL_ERR | KITE_LL_WARN | KITE_LL_NOTICE)

/** Emit callback: @line is NUL-terminated, without a trailing newline. */
typedef void (*kite_log_emit_cb)(int level, const char *line);

/**
 * kite_set_log_level() - choose which levels are logged and where.
 * @mask: OR of KITE_LL_* bits. @emit: NULL for stderr.
 * Call before creating contexts; it is not synchronised with logging threads.
 */
KITE_EXTERN void kite_set_log_level(int mask, kite_log_emit_cb emit);

/** kite_log_enabled() - nonzero when @level would be emitted. */
KITE_EXTERN int kite_log_enabled(int level);

/** kite_log() - printf-style log line at @level (one KITE_LL_* bit). */
KITE_EXTERN void kite_log(int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#define kite_err(...)    kite_log(KITE_LL_ERR, __VA_ARGS__)
#define kite_warn(...)   kite_log(KITE_LL_WARN, __VA_ARGS__)
#define kite_notice(...) kite_log(KITE_LL_NOTICE, __VA_ARGS__)
#define kite_info(...)   kite_log(KITE_LL_INFO, __VA_ARGS__)
#define kite_debug(...)                                                                            \
    do {                                                                                           \
        if (kite_log_enabled(KITE_LL_DEBUG))                                                       \
            kite_log(KITE_LL_DEBUG, __VA_ARGS__);                                                  \
    } while (0)

#endif
