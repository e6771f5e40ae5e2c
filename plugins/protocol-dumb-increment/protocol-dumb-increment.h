/* protocol-dumb-increment: lws's "dumb-increment-protocol" (see the .c). */
#ifndef KITE_PROTOCOL_DUMB_INCREMENT_H
#define KITE_PROTOCOL_DUMB_INCREMENT_H

#include "kite.h"

extern const kite_protocol_t kite_protocol_dumb_increment;

#endif
