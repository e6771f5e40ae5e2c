/*
 * lws logging (a level mask, lines to stderr or the emit callback, kite's
 * own lines passed through), the command line helpers, small string
 * functions, timers (each lws_sorted_usec_list_t carries a kite vhost
 * timer) and the retry / backoff policy.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "private.h"

static int log_mask = LLL_ERR | LLL_WARN | LLL_NOTICE;
static void (*log_emit)(int level, const char *line);

static const char letter[] = "EWNIDPHXCLUT";

void lwsl_emit_stderr(int level, const char *line)
{
    struct timeval tv;
    int n = 0;

    while (n < LLL_COUNT - 1 && !(level & (1 << n)))
        n++;
    gettimeofday(&tv, NULL);
    fprintf(stderr, "[%lu.%04d] %c: %s", (unsigned long)tv.tv_sec, (int)(tv.tv_usec / 100),
            letter[n], line);
}

void lwsl_emit_syslog(int level, const char *line)
{
    lwsl_emit_stderr(level, line);
}

/* kite's own log lines reach the lws emit callback, at the lws level. */
static void from_kite(int level, const char *line)
{
    static const int map[] = {LLL_ERR, LLL_WARN, LLL_NOTICE, LLL_INFO, LLL_DEBUG, LLL_NOTICE};
    int n = 0;

    while (n < 5 && !(level & (1 << n)))
        n++;
    _lws_log(map[n], "%s\n", line);
}

void lws_set_log_level(int level, void (*emit)(int level, const char *line))
{
    int k = 0;

    log_mask = level;
    log_emit = emit;
    k |= level & LLL_ERR ? KITE_LL_ERR : 0;
    k |= level & LLL_WARN ? KITE_LL_WARN : 0;
    k |= level & LLL_NOTICE ? KITE_LL_NOTICE : 0;
    k |= level & LLL_INFO ? KITE_LL_INFO : 0;
    k |= level & LLL_DEBUG ? KITE_LL_DEBUG : 0;
    kite_set_log_level(k, from_kite);
}

int lwsl_visible(int level)
{
    return !!(log_mask & level);
}

int lwsk_log_mask(void)
{
    return log_mask;
}

void _lws_logv(int filter, const char *format, va_list vl)
{
    char buf[1024];

    if (!(log_mask & filter))
        return;
    vsnprintf(buf, sizeof(buf), format, vl);
    (log_emit ? log_emit : lwsl_emit_stderr)(filter, buf);
}

void _lws_log(int filter, const char *format, ...)
{
    va_list ap;

    va_start(ap, format);
    _lws_logv(filter, format, ap);
    va_end(ap);
}

void lwsl_hexdump_level(int level, const void *vbuf, size_t len)
{
    const unsigned char *b = vbuf;
    size_t i, j;

    if (!(log_mask & level))
        return;
    for (i = 0; i < len; i += 16) {
        char line[96];
        int n = snprintf(line, sizeof(line), "%04X: ", (unsigned)i);
        for (j = i; j < i + 16 && j < len; j++)
            n += snprintf(line + n, sizeof(line) - (size_t)n, "%02X ", b[j]);
        _lws_log(level, "%s\n", line);
    }
}

void lwsl_hexdump(const void *buf, size_t len)
{
    lwsl_hexdump_level(LLL_DEBUG, buf, len);
}

int lws_snprintf(char *str, size_t size, const char *format, ...)
{
    va_list ap;
    int n;

    if (!size)
        return 0;
    va_start(ap, format);
    n = vsnprintf(str, size, format, ap);
    va_end(ap);
    /* lws returns what was written, never more than fits. */
    if (n >= (int)size)
        return (int)size - 1;
    return n < 0 ? 0 : n;
}

char *lws_strncpy(char *dest, const char *src, size_t size)
{
    if (!size)
        return dest;
    strncpy(dest, src, size - 1);
    dest[size - 1] = '\0';
    return dest;
}

const char *lws_cmdline_option(int argc, const char **argv, const char *val)
{
    size_t n = strlen(val);
    int c = argc;

    while (--c > 0) {
        if (!strncmp(argv[c], val, n)) {
            if (!argv[c][n] && c < argc - 1) {
                /* "-x value": the value, unless it is another option */
                if (!argv[c + 1] || argv[c + 1][0] == '-')
                    return argv[c] + n;
                return argv[c + 1];
            }
            return argv[c] + n;
        }
    }
    return NULL;
}

void lws_cmdline_option_handle_builtin(int argc, const char **argv,
                                       struct lws_context_creation_info *info)
{
    const char *p = lws_cmdline_option(argc, argv, "-d");

    if (p)
        lws_set_log_level(atoi(p), NULL);
}

const char *lws_get_library_version(void)
{
    return LWS_LIBRARY_VERSION;
}

lws_usec_t lws_now_usecs(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (lws_usec_t)ts.tv_sec * LWS_US_PER_SEC + ts.tv_nsec / 1000;
}

int lws_open(const char *path, int flags, ...)
{
    va_list ap;
    int mode;

    va_start(ap, flags);
    mode = flags & O_CREAT ? va_arg(ap, int) : 0;
    va_end(ap);
    return open(path, flags | O_CLOEXEC, mode);
}

void lws_explicit_bzero(void *p, size_t len)
{
    volatile unsigned char *v = p;

    while (len--)
        *v++ = 0;
}

int lws_filename_purify_inplace(char *filename)
{
    char *p;

    /* As lws: path separators and leading dots cannot reach elsewhere. */
    for (p = filename; *p; p++)
        if (*p == '/' || *p == '\\' || *p == ':' || (*p == '.' && (p == filename || p[1] == '.')))
            *p = '_';
    return 0;
}

static void sul_fire(kite_vhost_t *kv, kite_timer_t *t)
{
    lws_sorted_usec_list_t *sul = lws_container_of(t, lws_sorted_usec_list_t, kt);

    sul->us = 0;
    sul->cb(sul);
}

void lws_sul_schedule(struct lws_context *cx, int tsi, lws_sorted_usec_list_t *sul, sul_cb_t cb,
                      lws_usec_t us)
{
    if (us == LWS_SET_TIMER_USEC_CANCEL) {
        lws_sul_cancel(sul);
        return;
    }
    sul->cb = cb;
    sul->cx = cx;
    sul->us = lws_now_usecs() + us;
    if (!cx || !cx->timer_vh ||
        kite_vhost_timer_schedule(cx->timer_vh, tsi, &sul->kt, us > 0 ? (uint64_t)us : 0,
                                  sul_fire) < 0)
        lwsl_err("lws_sul_schedule: no timer on this context\n");
}

void lws_sul_cancel(lws_sorted_usec_list_t *sul)
{
    kite_timer_cancel(&sul->kt);
    sul->us = 0;
}

unsigned int lws_retry_get_delay_ms(struct lws_context *cx, const lws_retry_bo_t *retry,
                                    uint16_t *ctry, char *conceal)
{
    uint64_t ms = 3000;
    uint16_t ra;

    if (conceal)
        *conceal = 0;
    static const uint32_t table[] = {3000};
    static const lws_retry_bo_t dflt = {table, 1, 5, 0, 0, 20};

    if (!retry)
        retry = &dflt;
    if (retry->retry_ms_table_count) {
        ra = *ctry < retry->retry_ms_table_count ? *ctry : retry->retry_ms_table_count - 1;
        ms = retry->retry_ms_table[ra];
    }
    if (*ctry + 1 < retry->conceal_count && conceal)
        *conceal = 1;
    if (*ctry < 0xffff)
        (*ctry)++;
    if (retry->jitter_percent)
        ms += ms * (uint64_t)(rand() % (retry->jitter_percent + 1)) / 100;
    return (unsigned)ms;
}

int lws_retry_sul_schedule(struct lws_context *cx, int tid, lws_sorted_usec_list_t *sul,
                           const lws_retry_bo_t *retry, sul_cb_t cb, uint16_t *ctry)
{
    char conceal;
    uint64_t ms = lws_retry_get_delay_ms(cx, retry, ctry, &conceal);

    if (!conceal)
        return 1;
    lws_sul_schedule(cx, tid, sul, cb, (lws_usec_t)ms * 1000);
    return 0;
}

int lws_retry_sul_schedule_retry_wsi(struct lws *w, lws_sorted_usec_list_t *sul, sul_cb_t cb,
                                     uint16_t *ctry)
{
    return lws_retry_sul_schedule(lws_get_context(w), lws_get_tsi(w), sul, NULL, cb, ctry);
}
