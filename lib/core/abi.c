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

int kite__context_info_in(kite_context_info_t *full, kite_extpoll_t *xp, const void *info, int abi)
{
    int r = 0;

    if (!abi)
        kite__abi_from_v0(full, sizeof(*full), info, KITE__V0_CONTEXT_INFO_END);
    else if ((r = kite__abi_copy(full, sizeof(*full), info, "kite_context_info_t")) < 0)
        return r;
    if (!full->extpoll)
        return 0;
    if (!abi)
        kite__abi_from_v0(xp, sizeof(*xp), full->extpoll, KITE__V0_EXTPOLL_END);
    else if ((r = kite__abi_copy(xp, sizeof(*xp), full->extpoll, "kite_extpoll_t")) < 0)
        return r;
    full->extpoll = xp;
    return 0;
}

int kite__ws_deflate_in(kite_ws_deflate_t *full, const void *src, int abi)
{
    if (!abi) {
        kite__abi_from_v0(full, sizeof(*full), src, KITE__V0_WS_DEFLATE_END);
        return 0;
    }
    return kite__abi_copy(full, sizeof(*full), src, "kite_ws_deflate_t");
}
