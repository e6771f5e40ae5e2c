/*
 * The kite 0.1 config entry points that pass a kite_context_info_t, for
 * binaries built against 0.1 headers (core/abi.h): theirs had no
 * struct_size, so it is converted on the way in; on the way out they get
 * kite's struct from its first 0.1 member on, which is the 0.1 layout.
 */
#include "config/private.h"
#include "core/abi.h"

KITE_EXTERN kite_context_t *kite__context_create_from_json_v0(const char *path, const void *base,
                                                              const kite_config_opts_t *opts,
                                                              int *err)
    KITE_SIZED_ENTRY("kite_context_create_from_json");
KITE_EXTERN const void *kite__config_context_info_v0(const kite_config_t *cfg)
    KITE_SIZED_ENTRY("kite_config_context_info");

kite_context_t *kite__context_create_from_json_v0(const char *path, const void *base,
                                                  const kite_config_opts_t *opts, int *err)
{
    kite_context_info_t full;

    if (!base)
        return kite__context_create_from_json(path, NULL, opts, err);
    kite__abi_from_v0(&full, sizeof(full), base, KITE__V0_CONTEXT_INFO_END);
    return kite__context_create_from_json(path, &full, opts, err);
}

const void *kite__config_context_info_v0(const kite_config_t *cfg)
{
    return (const char *)kite_config_context_info(cfg) + sizeof(size_t);
}
