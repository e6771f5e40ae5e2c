/*
 * Error codes. Every public function returns 0 or one of these negative
 * codes; constructors return NULL and store the code in *err. Values of
 * the errno-like codes equal -errno on Linux so that system call failures
 * pass through unchanged.
 */
#ifndef KITE_ERRORS_H
#define KITE_ERRORS_H

#define KITE_ERRNO_MAP(XX)                                                                         \
    XX(EPERM, -1, "operation not permitted")                                                       \
    XX(ENOENT, -2, "no such file or directory")                                                    \
    XX(EIO, -5, "i/o error")                                                                       \
    XX(E2BIG, -7, "too big")                                                                       \
    XX(EBADF, -9, "bad file descriptor")                                                           \
    XX(EAGAIN, -11, "resource temporarily unavailable")                                            \
    XX(ENOMEM, -12, "out of memory")                                                               \
    XX(EACCES, -13, "permission denied")                                                           \
    XX(EBUSY, -16, "resource busy")                                                                \
    XX(EEXIST, -17, "already exists")                                                              \
    XX(EINVAL, -22, "invalid argument")                                                            \
    XX(EMFILE, -24, "too many open files")                                                         \
    XX(EPIPE, -32, "broken pipe")                                                                  \
    XX(ENAMETOOLONG, -36, "name too long")                                                         \
    XX(EPROTO, -71, "protocol error")                                                              \
    XX(ENOTSUP, -95, "operation not supported")                                                    \
    XX(EADDRINUSE, -98, "address already in use")                                                  \
    XX(EADDRNOTAVAIL, -99, "address not available")                                                \
    XX(ECONNRESET, -104, "connection reset by peer")                                               \
    XX(ETIMEDOUT, -110, "timed out")                                                               \
    XX(ECONNREFUSED, -111, "connection refused")                                                   \
    XX(ECLOSED, -4001, "connection is closing")                                                    \
    XX(ESTATE, -4002, "not allowed in this state")                                                 \
    XX(ECONFIG, -4003, "bad configuration")                                                        \
    XX(EABI, -4004, "ABI version mismatch")                                                        \
    XX(EUV, -4005, "event loop error")

enum {
#define KITE_ERR_ENUM(name, val, text) KITE_##name = (val),
    KITE_ERRNO_MAP(KITE_ERR_ENUM)
#undef KITE_ERR_ENUM
};

/**
 * kite_strerror() - text for a KITE_E* code (or any negative errno).
 * Returns a static string; never NULL. Unknown codes give "unknown error".
 */
KITE_EXTERN const char *kite_strerror(int err);

/** kite_err_name() - "KITE_EINVAL" style name of a code, or "KITE_E?" */
KITE_EXTERN const char *kite_err_name(int err);

#endif
