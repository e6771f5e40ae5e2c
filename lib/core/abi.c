/*
 * Reading the caller-allocated public structs (core/abi.h): only as many
 * bytes as the caller says it has, into a full copy that kite then uses,
 * so that an application built against older headers (a shorter struct)
 * or newer ones (members this kite does not know, left zero) works.
 */
#include <string.h>

#include "core/abi.h"

int kite__abi_copy(void *dst, size_t dst_size, const void *src, const char *what)
{
    size_t n, i;

    memcpy(&n, src, sizeof(n));
    if (n < sizeof(size_t)) {
        kite_err("%s: struct_size is %zu: initialise the struct with its KITE_*_INIT macro", what,
                 n);
        return KITE_EABI;
    }
    /* Newer headers: what this kite cannot do must not have been asked. */
    for (i = dst_size; i < n; i++)
        if (((const unsigned char *)src)[i]) {
            kite_err("%s: member at offset %zu is set, but this kite (%s) knows %zu bytes of it",
                     what, i, kite_version(NULL), dst_size);
            return KITE_EABI;
        }
    memset(dst, 0, dst_size);
    memcpy(dst, src, n < dst_size ? n : dst_size);
    memcpy(dst, &dst_size, sizeof(dst_size));
    return 0;
}

void kite__abi_from_v0(void *dst, size_t dst_size, const void *src, size_t v0_end)
{
    memset(dst, 0, dst_size);
    memcpy(dst, &dst_size, sizeof(dst_size));
    memcpy((char *)dst + sizeof(size_t), src, v0_end - sizeof(size_t));
}
