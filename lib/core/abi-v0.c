/*
 * The kite 0.1 entry points that took caller-allocated structs, for
 * binaries built against 0.1 headers: their structs had no struct_size
 * and end where today's 0.1 members end (core/abi.h). Each is converted
 * into a full struct of today and goes the way the current entry point
 * does; the new headers bind applications to the *_v2 symbols instead.
 */
#include "core/abi.h"

KITE_EXTERN kite_context_t *kite__context_create_v0(const void *info, int *err)
    KITE_SIZED_ENTRY("kite_context_create");
KITE_EXTERN kite_vhost_t *kite__vhost_create_v0(kite_context_t *ctx, const void *info, int *err)
    KITE_SIZED_ENTRY("kite_vhost_create");

kite_context_t *kite__context_create_v0(const void *info, int *err)
{
    kite_context_info_t full = KITE_CONTEXT_INFO_INIT();
    kite_extpoll_t xp;

    if (info)
        kite__context_info_in(&full, &xp, info, 0);
    return kite__context_create(&full, err);
}

kite_vhost_t *kite__vhost_create_v0(kite_context_t *ctx, const void *info, int *err)
{
    kite_vhost_info_t full;

    if (!info) {
        if (err)
            *err = KITE_EINVAL;
        return NULL;
    }
    kite__abi_from_v0(&full, sizeof(full), info, KITE__V0_VHOST_INFO_END);
    return kite__vhost_create(ctx, &full, 0, err);
}
