/*
 * lwsws plugins in kite: kite_plugins_load() finds no kite_plugin in an
 * lws plugin, and asks the kite_plugin_adapter it finds among the
 * plugin's dependencies (this library) to make one. As lwsws does, the
 * export is named after the file ("libprotocol_dumb_increment.so" exports
 * "dumb_increment"); its header is checked before anything else is used.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

/* One block, which kite_plugins_destroy() frees. */
typedef struct adapted_s {
    kite_plugin_t kp;
    const kite_protocol_t **list;
    lwsk_tramp_t tramps[];
} adapted_t;

KITE_EXTERN kite_plugin_t *kite_plugin_adapter(void *dl, const char *path);

kite_plugin_t *kite_plugin_adapter(void *dl, const char *path)
{
    const char *base = strrchr(path, '/'), *p;
    const lws_plugin_protocol_t *pp;
    char sym[96];
    adapted_t *a;
    size_t n = 0;
    int i;

    base = base ? base + 1 : path;
    for (p = base; *p && *p != '_' && *p != '-'; p++)
        ;
    if (!*p)
        return NULL;
    for (p++; *p && *p != '.' && n < sizeof(sym) - 1; p++)
        sym[n++] = *p;
    sym[n] = '\0';
    pp = dlsym(dl, sym);
    if (!pp) {
        kite_err("plugin %s: no kite_plugin, nor an lws export \"%s\"", path, sym);
        return NULL;
    }
    if (pp->hdr.api_magic != LWS_PLUGIN_API_MAGIC || !pp->hdr._class ||
        strcmp(pp->hdr._class, "lws_protocol_plugin")) {
        kite_err("plugin %s: \"%s\" is not an lws %d protocol plugin", path, sym,
                 LWS_PLUGIN_API_MAGIC);
        return NULL;
    }
    n = (size_t)(pp->count_protocols > 0 ? pp->count_protocols : 0);
    if (!(a = calloc(1, sizeof(*a) + n * sizeof(a->tramps[0]) + (n + 1) * sizeof(*a->list))))
        return NULL;
    a->list = (const kite_protocol_t **)(void *)&a->tramps[n];
    for (i = 0; i < pp->count_protocols && pp->protocols[i].name; i++) {
        lwsk_tramp_init(&a->tramps[i], &pp->protocols[i]);
        a->list[i] = &a->tramps[i].kp;
    }
    a->kp.magic = KITE_PLUGIN_MAGIC;
    a->kp.abi = KITE_PLUGIN_ABI;
    a->kp.name = pp->hdr.name;
    a->kp.protocols = a->list;
    return &a->kp;
}
