/*
 * Caller-allocated public structs across library versions. Since kite
 * 0.2 each one starts with `size_t struct_size` (set by its KITE_*_INIT
 * macro), and kite copies what that size covers into a full struct of
 * its own, zeroing (defaulting) the rest. Binaries built against 0.1
 * headers pass the same structs without the size field: they come in
 * through the 0.1 symbols (core/abi-v0.c), whose members are those of
 * today's structs up to a last member, 8 bytes earlier.
 */
#ifndef KITE_CORE_ABI_H
#define KITE_CORE_ABI_H

#include <stddef.h>

#include "kite.h"

/* Where the members a 0.1 struct had end in today's layout. */
#define KITE__V0_END(type, last)  (offsetof(type, last) + sizeof(((type *)0)->last))
#define KITE__V0_CONTEXT_INFO_END KITE__V0_END(kite_context_info_t, h2_settings_timeout)
#define KITE__V0_VHOST_INFO_END   KITE__V0_END(kite_vhost_info_t, ws_deflate)
#define KITE__V0_MOUNT_END        KITE__V0_END(kite_mount_t, lua_budget)
#define KITE__V0_CLIENT_INFO_END  KITE__V0_END(kite_client_info_t, ws_deflate)
#define KITE__V0_WS_DEFLATE_END   KITE__V0_END(kite_ws_deflate_t, flags)
#define KITE__V0_EXTPOLL_END      KITE__V0_END(kite_extpoll_t, unlock)
#define KITE__V0_CONFIG_OPTS_END  KITE__V0_END(kite_config_opts_t, errlen)

/*
 * kite__abi_copy() - copy the caller's struct @src into @dst (@dst_size
 * bytes, today's size): the members its struct_size covers, the rest
 * zeroed, struct_size set to @dst_size. A caller built against newer
 * headers may pass a bigger struct when the members this kite does not
 * know are zero. Returns 0, or KITE_EABI (logged, naming @what) for a
 * struct_size of 0 (no KITE_*_INIT), smaller than the size field, or
 * with unknown members set.
 */
int kite__abi_copy(void *dst, size_t dst_size, const void *src, const char *what);

/* kite__abi_from_v0() - the same for a 0.1 struct, whose members are
 * today's up to @v0_end, without the size field. */
void kite__abi_from_v0(void *dst, size_t dst_size, const void *src, size_t v0_end);

/*
 * Full copies of a caller's struct that points to another caller-allocated
 * one (@abi 0: both from a 0.1 binary): the context info with its extpoll
 * (copied into @xp, which the copy then points to), and a ws_deflate.
 * Return 0 or KITE_EABI as kite__abi_copy().
 */
int kite__context_info_in(kite_context_info_t *full, kite_extpoll_t *xp, const void *info, int abi);
int kite__ws_deflate_in(kite_ws_deflate_t *full, const void *src, int abi);

/* The entry points behind the public ones: @info is a full copy; @abi is
 * 0 when it came from a 0.1 binary (its mounts are then 0.1 mounts). */
kite_context_t *kite__context_create(const kite_context_info_t *info, int *err);
kite_vhost_t *kite__vhost_create(kite_context_t *ctx, const kite_vhost_info_t *info, int abi,
                                 int *err);

#endif
