/*
 * The lua module as core sees it: the "lua" protocol, which vhosts find by
 * name (interpret {".lp": "lua"}), and the end of a service thread, which
 * closes its Lua state (lib/modules.c lists the modules).
 */
#include <string.h>

#include "lua/hooks.h"

static const kite_protocol_t *lua_protocol(const char *name)
{
    return strcmp(name, kite__lua_proto.name) ? NULL : &kite__lua_proto;
}

const kite__module_t kite__mod_lua = {
    .name = "lua",
    .pt_free = kite__lua_pt_free,
    .protocol = lua_protocol,
};
