/* A minimal valid plugin for the loader tests. */
#include "kite.h"

static const kite_protocol_t good_proto = {.abi = KITE_PROTOCOL_ABI, .name = "good-proto"};
static const kite_protocol_t *const protos[] = {&good_proto, NULL};

KITE_EXTERN const kite_plugin_t kite_plugin = {KITE_PLUGIN_MAGIC, KITE_PLUGIN_ABI, "good", protos};
