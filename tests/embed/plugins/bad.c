/*
 * Broken plugins for the loader tests, one per -DBAD_* choice: a wrong
 * magic, a wrong ABI version, no descriptor, or a protocol name that the
 * good plugin already has.
 */
#include "kite.h"

#if defined(BAD_DUP)
static const kite_protocol_t proto = {.abi = KITE_PROTOCOL_ABI, .name = "good-proto"};
#else
static const kite_protocol_t proto = {.abi = KITE_PROTOCOL_ABI, .name = "other-proto"};
#endif
static const kite_protocol_t *const protos[] = {&proto, NULL};

#if defined(BAD_MAGIC)
KITE_EXTERN const kite_plugin_t kite_plugin = {0x12345678u, KITE_PLUGIN_ABI, "bad", protos};
#elif defined(BAD_ABI)
KITE_EXTERN const kite_plugin_t kite_plugin = {KITE_PLUGIN_MAGIC, KITE_PLUGIN_ABI + 7, "bad",
                                               protos};
#elif defined(BAD_NOSYM)
KITE_EXTERN const kite_plugin_t not_the_plugin = {KITE_PLUGIN_MAGIC, KITE_PLUGIN_ABI, "bad",
                                                  protos};
#else
KITE_EXTERN const kite_plugin_t kite_plugin = {KITE_PLUGIN_MAGIC, KITE_PLUGIN_ABI, "dup", protos};
#endif
