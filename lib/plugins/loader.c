/*
 * The plugin loader: dlopen every "*.so" of the plugin directories in
 * name order, check the exported descriptor's magic and ABI version
 * before using anything else in it, refuse protocol names that are
 * already taken, and keep the handles until kite_plugins_destroy().
 * Every error names the file.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kite.h"

struct kite_plugins_s {
    void **handles;
    int nhandles;
    kite_plugin_t **adapted; /* made by adapters: freed at destroy */
    int nadapted;
    const kite_protocol_t **protocols; /* NULL-terminated */
    int nprotocols;
};

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_so(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return n > 3 && !strcmp(d->d_name + n - 3, ".so");
}

static int add_protocols(kite_plugins_t *pl, const kite_plugin_t *p, const char *path)
{
    const kite_protocol_t *const *pp;
    int i;

    for (pp = p->protocols; pp && *pp; pp++) {
        const kite_protocol_t **np;
        if (!(*pp)->name || (*pp)->abi < 1 || (*pp)->abi > KITE_PROTOCOL_ABI) {
            kite_err("plugin %s: protocol with no name or a bad abi", path);
            return KITE_EABI;
        }
        for (i = 0; i < pl->nprotocols; i++)
            if (!strcmp(pl->protocols[i]->name, (*pp)->name)) {
                kite_err("plugin %s: protocol \"%s\" is already provided by another plugin", path,
                         (*pp)->name);
                return KITE_EEXIST;
            }
        np = realloc(pl->protocols, (size_t)(pl->nprotocols + 2) * sizeof(*np));
        if (!np)
            return KITE_ENOMEM;
        pl->protocols = np;
        np[pl->nprotocols++] = *pp;
        np[pl->nprotocols] = NULL;
    }
    return 0;
}

/* A plugin of another API (lws): its adapter, if one is linked, makes the
 * descriptor. */
static int adapt(kite_plugins_t *pl, void *h, const char *path, const kite_plugin_t **out)
{
    kite_plugin_adapter_fn fn;
    kite_plugin_t **na, *p;
    void *sym = dlsym(h, KITE_PLUGIN_ADAPTER_SYMBOL);

    if (!sym) {
        kite_err("plugin %s: no kite_plugin symbol (not a kite plugin)", path);
        return KITE_EINVAL;
    }
    memcpy(&fn, &sym, sizeof(fn));
    if (!(p = fn(h, path)))
        return KITE_EINVAL;
    na = realloc(pl->adapted, (size_t)(pl->nadapted + 1) * sizeof(*na));
    if (!na) {
        free(p);
        return KITE_ENOMEM;
    }
    pl->adapted = na;
    na[pl->nadapted++] = p;
    *out = p;
    return 0;
}

static int load_one(kite_plugins_t *pl, const char *path)
{
    const kite_plugin_t *p;
    void *h, **nh;
    int r;

    h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        kite_err("plugin %s: %s", path, dlerror());
        return KITE_EINVAL;
    }
    nh = realloc(pl->handles, (size_t)(pl->nhandles + 1) * sizeof(*nh));
    if (!nh) {
        dlclose(h);
        return KITE_ENOMEM;
    }
    pl->handles = nh;
    nh[pl->nhandles++] = h;
    p = dlsym(h, "kite_plugin");
    if (!p && (r = adapt(pl, h, path, &p)) < 0)
        return r;
    if (p->magic != KITE_PLUGIN_MAGIC) {
        kite_err("plugin %s: bad magic 0x%08x", path, p->magic);
        return KITE_EABI;
    }
    if (p->abi != KITE_PLUGIN_ABI) {
        kite_err("plugin %s: ABI version %u, this kite needs %u", path, p->abi, KITE_PLUGIN_ABI);
        return KITE_EABI;
    }
    r = add_protocols(pl, p, path);
    if (!r)
        kite_info("plugin %s: %s", path, p->name ? p->name : "(unnamed)");
    return r;
}

kite_plugins_t *kite_plugins_load(const char *const *dirs, int *err)
{
    kite_plugins_t *pl = calloc(1, sizeof(*pl));
    int r = KITE_ENOMEM, i, n;

    if (!pl)
        goto fail;
    pl->protocols = calloc(1, sizeof(*pl->protocols));
    if (!pl->protocols)
        goto fail;
    for (; dirs && *dirs; dirs++) {
        struct dirent **list;
        n = scandir(*dirs, &list, is_so, by_name);
        if (n < 0) {
            kite_err("plugin dir %s: cannot read it", *dirs);
            r = KITE_ENOENT;
            goto fail;
        }
        r = 0;
        for (i = 0; i < n; i++) {
            char path[4096];
            if (!r) {
                snprintf(path, sizeof(path), "%s/%s", *dirs, list[i]->d_name);
                r = load_one(pl, path);
            }
            free(list[i]);
        }
        free(list);
        if (r < 0)
            goto fail;
    }
    return pl;
fail:
    kite_plugins_destroy(pl);
    if (err)
        *err = r;
    return NULL;
}

const kite_protocol_t *const *kite_plugins_protocols(const kite_plugins_t *pl)
{
    return pl->protocols;
}

void kite_plugins_destroy(kite_plugins_t *pl)
{
    int i;

    if (!pl)
        return;
    for (i = 0; i < pl->nadapted; i++)
        free(pl->adapted[i]);
    free(pl->adapted);
    for (i = 0; i < pl->nhandles; i++)
        dlclose(pl->handles[i]);
    free(pl->handles);
    free(pl->protocols);
    free(pl);
}
