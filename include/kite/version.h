/*
 * kite's version, as meson's project() says (tests/abi/test-sizes.c
 * checks that the two agree). The headers a program was built with give
 * the macros; the library it runs with answers kite_version().
 */
#ifndef KITE_VERSION_H
#define KITE_VERSION_H

#define KITE_VERSION_MAJOR  0
#define KITE_VERSION_MINOR  2
#define KITE_VERSION_PATCH  0
#define KITE_VERSION_STRING "0.2.0"
/* One comparable number: 0.2.0 is 200, 1.10.3 is 11003. */
#define KITE_VERSION_NUMBER                                                                        \
    (KITE_VERSION_MAJOR * 10000 + KITE_VERSION_MINOR * 100 + KITE_VERSION_PATCH)

/**
 * kite_version() - the running library's version string ("0.2.0"); with
 * @number not NULL, *number gets its KITE_VERSION_NUMBER. The string is
 * static.
 */
KITE_EXTERN const char *kite_version(int *number);

#endif
