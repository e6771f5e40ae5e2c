/*
 * The kite 0.1 config entry points that pass a kite_context_info_t, for
 * binaries built against 0.1 headers (core/abi.h): theirs had no
 * struct_size, so it is converted on the way in; on the way out they get
 * kite's struct from its first 0.1 member on, which is the 0.1 layout.
 */
#include "config/private.h"
#include "core/abi.h"

KITE_EXTERN kite_context_t *kite__context_create_from_json_v0(const char *path, const void *base,
                                                              const void *opts, int *err)
    KITE_SIZED_ENTRY("kite_context_create_from_json");
KITE_EXTERN const void *kite__config_context_info_v0(const kite_config_t *cfg)
    KITE_SIZED_ENTRY("kite_config_context_info");
KITE_EXTERN kite_config_t *kite__config_load_v0(const char *path, const void *opts, int *err)
    KITE_SIZED_ENTRY("kite_config_load");

/* A 0.1 kite_config_opts_t into @full; NULL stays NULL. */
static const kite_config_opts_t *opts_v0(kite_config_opts_t *full, const void *opts)
{
    if (!opts)
        return NULL;
    kite__abi_from_v0(full, sizeof(*full), opts, KITE__V0_CONFIG_OPTS_END);
    return full;
}

kite_config_t *kite__config_load_v0(const char *path, const void *opts, int *err)
{
    kite_config_opts_t full;

    return kite__config_load(path, opts_v0(&full, opts), err);
}

kite_context_t *kite__context_create_from_json_v0(const char *path, const void *base,
                                                  const void *opts, int *err)
{
    kite_context_info_t full;
    kite_extpoll_t xp;
    kite_config_opts_t ofull;

    if (base)
        kite__context_info_in(&full, &xp, base, 0);
    return kite__context_create_from_json(path, base ? &full : NULL, opts_v0(&ofull, opts), err);
}

const void *kite__config_context_info_v0(const kite_config_t *cfg)
{
    return (const char *)kite_config_context_info(cfg) + sizeof(size_t);
}
