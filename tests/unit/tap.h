/*
 * A minimal TAP producer for unit tests (meson `protocol: 'tap'`).
 * Each check prints "ok N - what" or "not ok N - what" with the place it
 * failed; tap_done() prints the plan and returns the exit status.
 */
#ifndef KITE_TAP_H
#define KITE_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define tap_ok(cond, ...)                                                                          \
    do {                                                                                           \
        int tap_c_ = !!(cond);                                                                     \
        tap_n++;                                                                                   \
        if (!tap_c_)                                                                               \
            tap_failed++;                                                                          \
        printf("%sok %d - ", tap_c_ ? "" : "not ", tap_n);                                         \
        printf(__VA_ARGS__);                                                                       \
        printf("\n");                                                                              \
        if (!tap_c_)                                                                               \
            printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond);                        \
    } while (0)

#define tap_is_int(got, want, ...)                                                                 \
    do {                                                                                           \
        long long tap_g_ = (long long)(got), tap_w_ = (long long)(want);                           \
        tap_ok(tap_g_ == tap_w_, __VA_ARGS__);                                                     \
        if (tap_g_ != tap_w_)                                                                      \
            printf("#   got %lld, want %lld\n", tap_g_, tap_w_);                                   \
    } while (0)

#define tap_is_str(got, want, ...)                                                                 \
    do {                                                                                           \
        const char *tap_g_ = (got), *tap_w_ = (want);                                              \
        int tap_eq_ = (tap_g_ && tap_w_) ? !strcmp(tap_g_, tap_w_) : tap_g_ == tap_w_;             \
        tap_ok(tap_eq_, __VA_ARGS__);                                                              \
        if (!tap_eq_)                                                                              \
            printf("#   got \"%s\", want \"%s\"\n", tap_g_ ? tap_g_ : "(null)",                    \
                   tap_w_ ? tap_w_ : "(null)");                                                    \
    } while (0)

static inline int tap_done(void)
{
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}

#endif
