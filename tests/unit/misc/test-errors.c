/*
 * Unit tests for lib/misc/errors.c: every code of KITE_ERRNO_MAP has its
 * text and name, the errno-like codes really are -errno, and codes outside
 * the table fall back to the C library's text or "unknown error".
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "misc/errors.c"
#include "tap.h"

struct err_vector {
    int code;
    const char *name;
    const char *text;
};

static const struct err_vector table[] = {
#define ERR_VECTOR(name, val, text) {val, "KITE_" #name, text},
    KITE_ERRNO_MAP(ERR_VECTOR)
#undef ERR_VECTOR
};

/* Every code that claims to be an errno, against the system's own constant. */
/* clang-format off */
static const struct {
    int code, sys;
    const char *name;
} errno_like[] = {
#define SYS(name) {KITE_##name, name, #name}
    SYS(EPERM), SYS(ENOENT), SYS(EIO), SYS(E2BIG), SYS(EBADF), SYS(EAGAIN), SYS(ENOMEM),
    SYS(EACCES), SYS(EBUSY), SYS(EEXIST), SYS(EINVAL), SYS(EMFILE), SYS(EPIPE),
    SYS(ENAMETOOLONG), SYS(EPROTO), SYS(ENOTSUP), SYS(EADDRINUSE), SYS(EADDRNOTAVAIL),
    SYS(ECONNRESET), SYS(ETIMEDOUT), SYS(ECONNREFUSED),
#undef SYS
};
/* clang-format on */

static void test_table(void)
{
    size_t i, j;

    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        tap_is_str(kite_strerror(table[i].code), table[i].text, "strerror(%s)", table[i].name);
        tap_is_str(kite_err_name(table[i].code), table[i].name, "err_name(%d)", table[i].code);
        tap_ok(table[i].code < 0, "%s is negative", table[i].name);
        for (j = 0; j < i; j++)
            if (table[j].code == table[i].code)
                break;
        tap_ok(j == i, "%s has a value of its own", table[i].name);
    }
    for (i = 0; i < sizeof(errno_like) / sizeof(errno_like[0]); i++)
        tap_is_int(errno_like[i].code, -errno_like[i].sys, "KITE_%s is -%s", errno_like[i].name,
                   errno_like[i].name);
    /* Codes of kite's own must not collide with any errno the system can return. */
    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (table[i].code <= -4000)
            tap_ok(strerrordesc_np(-table[i].code) == NULL, "%s is not a system errno",
                   table[i].name);
}

static void test_fallback(void)
{
    static const int unknown[] = {0, 1, 22, 4000, -4000, -4006, -100000, INT_MAX, INT_MIN};
    size_t i;

    for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        tap_is_str(kite_strerror(unknown[i]), "unknown error", "strerror(%d) is unknown",
                   unknown[i]);
        tap_is_str(kite_err_name(unknown[i]), "KITE_E?", "err_name(%d) is KITE_E?", unknown[i]);
    }

    /* Real errno values that kite does not list come from the C library. */
    tap_is_str(kite_strerror(-ENOSPC), strerror(ENOSPC), "strerror(-ENOSPC) from libc");
    tap_is_str(kite_strerror(-EROFS), strerror(EROFS), "strerror(-EROFS) from libc");
    tap_is_str(kite_err_name(-ENOSPC), "KITE_E?", "err_name(-ENOSPC) is KITE_E?");

    /* Static strings: the same pointer every time, nothing per call or per thread. */
    tap_ok(kite_strerror(-4006) == kite_strerror(-4007), "unknown text is one static string");
    tap_ok(kite_strerror(KITE_EINVAL) == kite_strerror(KITE_EINVAL), "table text is static");
}

int main(void)
{
    test_table();
    test_fallback();
    return tap_done();
}
