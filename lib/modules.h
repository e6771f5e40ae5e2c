/*
 * The slots of the modules built in: each module keeps its state per
 * context, vhost or service thread behind its own pointer in ctx->mod[],
 * vh->mod[] and pt->mod[], which core holds for it without knowing what
 * is there (the module frees it in its destroy hooks). lib/modules.c
 * lists the modules; a new one takes the next slot here.
 */
#ifndef KITE_MODULES_H
#define KITE_MODULES_H

#include "core/private.h"

enum {
    KITE__SLOT_HTTP,
    KITE__SLOT_ALOG,
    KITE__SLOT_TLS,
    KITE__SLOT_LUA,
    KITE__SLOTS /* at most KITE__MOD_SLOTS */
};

_Static_assert(KITE__SLOTS <= KITE__MOD_SLOTS, "core/private.h: raise KITE__MOD_SLOTS");

#endif
