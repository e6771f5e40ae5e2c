/* protocol-post-demo: the lws post demo (see the .c). */
#ifndef KITE_PROTOCOL_POST_DEMO_H
#define KITE_PROTOCOL_POST_DEMO_H

#include "kite.h"

extern const kite_protocol_t kite_protocol_post_demo;

#endif
