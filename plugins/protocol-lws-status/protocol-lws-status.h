/* protocol-lws-status: lws's "lws-status" protocol (see the .c). */
#ifndef KITE_PROTOCOL_LWS_STATUS_H
#define KITE_PROTOCOL_LWS_STATUS_H

#include "kite.h"

extern const kite_protocol_t kite_protocol_lws_status;

#endif
