/* protocol-lws-mirror: lws's "lws-mirror-protocol" (see the .c). */
#ifndef KITE_PROTOCOL_LWS_MIRROR_H
#define KITE_PROTOCOL_LWS_MIRROR_H

#include "kite.h"

extern const kite_protocol_t kite_protocol_lws_mirror;

#endif
