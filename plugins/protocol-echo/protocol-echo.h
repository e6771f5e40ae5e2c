/* protocol-echo: the "echo" websocket protocol (see the .c). */
#ifndef KITE_PROTOCOL_ECHO_H
#define KITE_PROTOCOL_ECHO_H

#include "kite.h"

extern const kite_protocol_t kite_protocol_echo;

#endif
