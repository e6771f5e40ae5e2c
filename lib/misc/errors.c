/*
 * Error code text. kite_strerror() and kite_err_name() turn the negative
 * KITE_E* codes of include/kite/errors.h into strings, using the same
 * KITE_ERRNO_MAP X-macro that defines the codes so the three can never
 * drift apart. Codes outside the table that are still real errno values
 * get the C library's description; everything returned is a static
 * string, so both functions are safe to call from any thread.
 */
#include <limits.h>
#include <string.h>

#include "kite.h"

/*
 * glibc 2.32 added strerrordesc_np(), which returns the static text of an
 * errno without touching a per-thread buffer. Elsewhere there is no
 * portable thread-safe lookup that returns a pointer we may keep, so
 * codes outside our table are simply "unknown error".
 */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
#define HAVE_STRERRORDESC_NP 1
#endif

static const char unknown_error[] = "unknown error";

KITE_EXTERN const char *kite_strerror(int err)
{
    switch (err) {
#define KITE_ERR_TEXT(name, val, text)                                                             \
    case KITE_##name:                                                                              \
        return text;
        KITE_ERRNO_MAP(KITE_ERR_TEXT)
#undef KITE_ERR_TEXT
    default:
        break;
    }
#ifdef HAVE_STRERRORDESC_NP
    /* -INT_MIN would overflow, and positive values are not error codes. */
    if (err < 0 && err > INT_MIN) {
        const char *desc = strerrordesc_np(-err);

        if (desc)
            return desc;
    }
#endif
    return unknown_error;
}

KITE_EXTERN const char *kite_err_name(int err)
{
    switch (err) {
#define KITE_ERR_NAME(name, val, text)                                                             \
    case KITE_##name:                                                                              \
        return "KITE_" #name;
        KITE_ERRNO_MAP(KITE_ERR_NAME)
#undef KITE_ERR_NAME
    default:
        return "KITE_E?";
    }
}
