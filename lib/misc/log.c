/*
 * Logging: the level mask, the emit hook and the line formatter behind
 * kite_log(). Each call formats one complete line, "[YYYY-MM-DD
 * HH:MM:SS.mmm] E: message", into a buffer on the stack, so logging never
 * allocates and is safe from any thread. The default sink writes the line
 * and its newline with a single write(2) to stderr; lines stay below
 * PIPE_BUF, so lines from different threads never interleave.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kite.h"

/* The longest line kept, without the newline and NUL; longer ones end in "...". */
#define LOG_LINE_MAX 1024

static int log_mask = KITE_LL_DEFAULT;
static kite_log_emit_cb log_emit;

/* While set, error lines of this thread go here instead of the sink, so
 * that the config loader can put file:line in front of them. */
static __thread char *capture_buf;
static __thread size_t capture_len;

void kite__log_capture(char *buf, size_t len)
{
    capture_buf = len ? buf : NULL;
    capture_len = len;
    if (capture_buf)
        buf[0] = '\0';
}

KITE_EXTERN void kite_set_log_level(int mask, kite_log_emit_cb emit)
{
    log_mask = mask;
    log_emit = emit;
}

KITE_EXTERN int kite_log_enabled(int level)
{
    return (log_mask & level) != 0;
}

/* The letter for the lowest level bit set in @level, as lws prints them. */
static char level_letter(int level)
{
    static const char letters[] = "EWNIDA";
    size_t i;

    for (i = 0; i < sizeof(letters) - 1; i++)
        if (level & (1 << i))
            return letters[i];
    return '?';
}

/* Formats the "[date time.ms] L: " prefix into @buf; returns its length. */
static size_t format_prefix(char *buf, size_t size, int level)
{
    struct timespec ts;
    struct tm tm;
    int n;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || !localtime_r(&ts.tv_sec, &tm)) {
        memset(&tm, 0, sizeof(tm));
        ts.tv_nsec = 0;
    }
    n = snprintf(buf, size, "[%04d-%02d-%02d %02d:%02d:%02d.%03d] %c: ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (int)(ts.tv_nsec / 1000000), level_letter(level));
    if (n < 0)
        return 0;
    return (size_t)n < size ? (size_t)n : size - 1;
}

/* Writes all of @buf to stderr, retrying after signals and short writes. */
static void write_stderr(const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(STDERR_FILENO, buf, len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        buf += n;
        len -= (size_t)n;
    }
}

KITE_EXTERN void kite_log(int level, const char *fmt, ...)
{
    /* Room for the line, the newline the stderr sink adds, and the NUL. */
    char line[LOG_LINE_MAX + 2];
    size_t len, start, i;
    va_list ap;
    int n;

    if (capture_buf && level == KITE_LL_ERR) {
        if (!capture_buf[0]) { /* the first error is the cause */
            va_start(ap, fmt);
            vsnprintf(capture_buf, capture_len, fmt, ap);
            va_end(ap);
        }
        return;
    }
    if (!(log_mask & level))
        return;

    len = format_prefix(line, LOG_LINE_MAX + 1, level);
    start = len;
    va_start(ap, fmt);
    n = vsnprintf(line + len, LOG_LINE_MAX + 1 - len, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n > LOG_LINE_MAX - len) {
        len = LOG_LINE_MAX;
        memcpy(line + len - 3, "...", 3);
    } else {
        len += (size_t)n;
    }

    /*
     * Callers often end the format with "\n" out of habit; drop it. Any
     * other control character (a CR or LF from a request header, say)
     * becomes '?' so that one call is always exactly one line.
     */
    while (len > start && line[len - 1] == '\n')
        len--;
    for (i = start; i < len; i++)
        if (((unsigned char)line[i] < 0x20 && line[i] != '\t') || line[i] == 0x7f)
            line[i] = '?';
    line[len] = '\0';

    if (log_emit) {
        log_emit(level, line);
        return;
    }
    line[len] = '\n';
    write_stderr(line, len + 1);
}
