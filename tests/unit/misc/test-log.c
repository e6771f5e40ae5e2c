/*
 * Unit tests for lib/misc/log.c: the default mask, filtering by level,
 * the "[date time.ms] L: message" line given to an emit callback, long
 * line truncation, control characters, and the default stderr sink
 * writing exactly one newline-terminated line.
 */
#include <stdlib.h>
#include <unistd.h>

#include "misc/log.c"
#include "tap.h"

#define PREFIX_LEN 29 /* strlen("[2024-01-31 12:34:56.789] E: ") */

static int emitted;
static int last_level;
static char last_line[4096];

static void capture(int level, const char *line)
{
    emitted++;
    last_level = level;
    snprintf(last_line, sizeof(last_line), "%s", line);
}

/* Whether @line starts "[YYYY-MM-DD HH:MM:SS.mmm] L: " with L == @letter. */
static int prefix_ok(const char *line, char letter)
{
    static const char shape[] = "[dddd-dd-dd dd:dd:dd.ddd] L: ";
    size_t i;

    if (strlen(line) < sizeof(shape) - 1)
        return 0;
    for (i = 0; i < sizeof(shape) - 1; i++) {
        if (shape[i] == 'd') {
            if (line[i] < '0' || line[i] > '9')
                return 0;
        } else if (shape[i] == 'L') {
            if (line[i] != letter)
                return 0;
        } else if (line[i] != shape[i]) {
            return 0;
        }
    }
    return 1;
}

static const char *message(const char *line)
{
    return strlen(line) >= PREFIX_LEN ? line + PREFIX_LEN : "(no prefix)";
}

static void test_default_mask(void)
{
    static const struct {
        int level, on;
    } vectors[] = {
        {KITE_LL_ERR, 1},  {KITE_LL_WARN, 1},  {KITE_LL_NOTICE, 1},
        {KITE_LL_INFO, 0}, {KITE_LL_DEBUG, 0}, {KITE_LL_ACCESS, 0},
    };
    size_t i;

    for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++)
        tap_is_int(!!kite_log_enabled(vectors[i].level), vectors[i].on,
                   "default mask: level %d enabled=%d", vectors[i].level, vectors[i].on);
}

static void test_filter_and_text(void)
{
    static const struct {
        int level;
        char letter;
    } levels[] = {
        {KITE_LL_ERR, 'E'},  {KITE_LL_WARN, 'W'},  {KITE_LL_NOTICE, 'N'},
        {KITE_LL_INFO, 'I'}, {KITE_LL_DEBUG, 'D'}, {KITE_LL_ACCESS, 'A'},
    };
    int mask = KITE_LL_ERR | KITE_LL_INFO | KITE_LL_ACCESS;
    size_t i;

    kite_set_log_level(mask, capture);
    for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
        int want = (mask & levels[i].level) != 0;
        char expect[64];

        emitted = 0;
        last_line[0] = '\0';
        kite_log(levels[i].level, "level %c says %s=%d", levels[i].letter, "x", (int)i);
        tap_is_int(emitted, want, "level %c emitted=%d with mask %d", levels[i].letter, want, mask);
        tap_is_int(!!kite_log_enabled(levels[i].level), want, "kite_log_enabled(%c)",
                   levels[i].letter);
        if (!want)
            continue;
        tap_is_int(last_level, levels[i].level, "callback gets level %c", levels[i].letter);
        tap_ok(prefix_ok(last_line, levels[i].letter), "prefix of \"%s\"", last_line);
        snprintf(expect, sizeof(expect), "level %c says x=%d", levels[i].letter, (int)i);
        tap_is_str(message(last_line), expect, "message text at level %c", levels[i].letter);
    }

    /* Nothing at all when the mask is empty. */
    kite_set_log_level(0, capture);
    emitted = 0;
    kite_err("dropped");
    kite_log(KITE_LL_ACCESS, "dropped");
    tap_is_int(emitted, 0, "mask 0 drops everything");
}

static int evaluated;

static int side_effect(void)
{
    return ++evaluated;
}

static void test_debug_macro(void)
{
    kite_set_log_level(KITE_LL_ERR, capture);
    evaluated = 0;
    kite_debug("%d", side_effect());
    tap_is_int(evaluated, 0, "kite_debug does not evaluate arguments when disabled");
    kite_set_log_level(KITE_LL_DEBUG, capture);
    emitted = 0;
    kite_debug("%d", side_effect());
    tap_is_int(evaluated, 1, "kite_debug evaluates arguments when enabled");
    tap_is_int(emitted, 1, "kite_debug emits when enabled");
    tap_is_str(message(last_line), "1", "kite_debug text");
}

static void test_line_shaping(void)
{
    static const struct {
        const char *in, *out;
    } vectors[] = {
        {"plain", "plain"},
        {"trailing newline\n", "trailing newline"},
        {"two newlines\n\n", "two newlines"},
        {"inner\nnewline", "inner?newline"},
        {"cr\r\nlf", "cr??lf"},
        {"tab\tkept", "tab\tkept"},
        {"bell\a and del\x7f", "bell? and del?"},
        {"", ""},
        {"\n", ""},
    };
    char big[3000];
    size_t i;

    kite_set_log_level(KITE_LL_NOTICE, capture);
    for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        kite_notice("%s", vectors[i].in);
        tap_is_str(message(last_line), vectors[i].out, "line shaping vector %zu", i);
    }

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    kite_notice("%s", big);
    tap_is_int(strlen(last_line), LOG_LINE_MAX, "a long line is cut at %d bytes", LOG_LINE_MAX);
    tap_ok(!strcmp(last_line + strlen(last_line) - 4, "x..."), "a cut line ends in \"...\"");
    tap_ok(prefix_ok(last_line, 'N'), "a cut line keeps its prefix");

    /* Exactly full: no "..." when nothing was lost. */
    big[LOG_LINE_MAX - PREFIX_LEN] = '\0';
    kite_notice("%s", big);
    tap_is_int(strlen(last_line), LOG_LINE_MAX, "a line of exactly %d bytes", LOG_LINE_MAX);
    tap_ok(last_line[LOG_LINE_MAX - 1] == 'x', "a line that fits is not marked cut");
}

/* Reads what the stderr sink wrote through a pipe put in place of fd 2. */
static void test_stderr_sink(void)
{
    char buf[4096];
    int fds[2], saved;
    ssize_t n;

    if (pipe(fds) != 0) {
        tap_ok(0, "pipe() for the stderr test");
        return;
    }
    saved = dup(STDERR_FILENO);
    dup2(fds[1], STDERR_FILENO);
    kite_set_log_level(KITE_LL_DEFAULT, NULL);
    kite_warn("to stderr %d", 42);
    kite_info("filtered out");
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fds[1]);
    n = read(fds[0], buf, sizeof(buf) - 1);
    close(fds[0]);
    buf[n > 0 ? n : 0] = '\0';

    tap_ok(n > 0 && buf[n - 1] == '\n', "stderr line ends in a newline");
    tap_ok(n > 0 && memchr(buf, '\n', (size_t)n) == buf + n - 1, "exactly one line on stderr");
    if (n > 0)
        buf[n - 1] = '\0';
    tap_ok(prefix_ok(buf, 'W'), "stderr line prefix \"%s\"", buf);
    tap_is_str(message(buf), "to stderr 42", "stderr line text");
}

int main(void)
{
    test_default_mask();
    test_filter_and_text();
    test_debug_macro();
    test_line_shaping();
    test_stderr_sink();
    return tap_done();
}
