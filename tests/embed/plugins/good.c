/* A minimal valid plugin for the loader tests. */
#include "kite.h"

static const kite_protocol_t good_proto = {.abi = KITE_PROTOCOL_ABI, .name = "good-proto"};
KITE_PLUGIN_EXPORT("good", &good_proto);
