/*
 * kite_version(): the version meson built the library as (KITE__MESON_VERSION),
 * which tests/abi/test-sizes.c holds equal to kite/version.h's.
 */
#include "kite.h"

const char *kite_version(int *number)
{
    if (number)
        *number = KITE_VERSION_NUMBER;
    return KITE__MESON_VERSION;
}
