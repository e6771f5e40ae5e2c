/*
 * kite_client_connect() as kite 0.1 had it, for binaries built against
 * 0.1 headers (core/abi.h): their kite_client_info_t had no struct_size.
 */
#include "client/private-client.h"
#include "core/abi.h"

KITE_EXTERN kite_conn_t *kite__client_connect_v0(kite_context_t *ctx, const void *info, int *err)
    KITE_SIZED_ENTRY("kite_client_connect");

kite_conn_t *kite__client_connect_v0(kite_context_t *ctx, const void *info, int *err)
{
    kite_client_info_t full;
    kite_ws_deflate_t wd;

    if (!info) {
        if (err)
            *err = KITE_EINVAL;
        return NULL;
    }
    kite__abi_from_v0(&full, sizeof(full), info, KITE__V0_CLIENT_INFO_END);
    if (full.ws_deflate) {
        kite__ws_deflate_in(&wd, full.ws_deflate, 0);
        full.ws_deflate = &wd;
    }
    return kite__client_connect(ctx, &full, NULL, err);
}
