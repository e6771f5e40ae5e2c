/*
 * Protocol plugins. A plugin .so exports one symbol, `kite_plugin`, a
 * const kite_plugin_t whose magic and ABI version the loader checks
 * before it touches anything else. The same protocol structs can be
 * linked statically into an application instead.
 */
#ifndef KITE_PLUGIN_H
#define KITE_PLUGIN_H

#define KITE_PLUGIN_MAGIC 0x6b697465u /* "kite" */
#define KITE_PLUGIN_ABI   1

typedef struct kite_plugin_s {
    unsigned magic; /* KITE_PLUGIN_MAGIC */
    unsigned abi;   /* KITE_PLUGIN_ABI */
    const char *name;
    const kite_protocol_t *const *protocols; /* NULL-terminated */
} kite_plugin_t;

/**
 * KITE_PLUGIN_EXPORT() - define the exported descriptor of a plugin named
 * @pname (a string) holding the protocols given as pointers, e.g.
 * KITE_PLUGIN_EXPORT("echo", &kite_protocol_echo);
 */
#define KITE_PLUGIN_EXPORT(pname, ...)                                                             \
    static const kite_protocol_t *const kite_plugin_protocols_[] = {__VA_ARGS__, NULL};            \
    KITE_EXTERN const kite_plugin_t kite_plugin = {KITE_PLUGIN_MAGIC, KITE_PLUGIN_ABI, pname,      \
                                                   kite_plugin_protocols_}

/**
 * Plugins of other APIs. A .so without kite_plugin is offered to the
 * function KITE_PLUGIN_ADAPTER_SYMBOL when the .so or a library it links
 * (libkite-lws for lws plugins) has one: it gets the dlopen handle and
 * the path, and returns a malloc'd descriptor (kite_plugins_destroy()
 * frees it) or NULL with the reason logged.
 */
#define KITE_PLUGIN_ADAPTER_SYMBOL "kite_plugin_adapter"
typedef kite_plugin_t *(*kite_plugin_adapter_fn)(void *dl, const char *path);

typedef struct kite_plugins_s kite_plugins_t;

/**
 * kite_plugins_load() - dlopen every "*.so" in each directory of @dirs
 * (NULL-terminated) in name order and collect their protocols. Errors
 * name the file: not a plugin (no kite_plugin symbol), wrong magic, wrong
 * ABI, or a protocol name that another plugin already has. Returns NULL
 * with *err on the first error; the reason is logged.
 */
KITE_EXTERN kite_plugins_t *kite_plugins_load(const char *const *dirs, int *err);

/** kite_plugins_protocols() - NULL-terminated list of every loaded protocol. */
KITE_EXTERN const kite_protocol_t *const *kite_plugins_protocols(const kite_plugins_t *pl);

/** kite_plugins_destroy() - dlclose all; call after the contexts using them are gone. */
KITE_EXTERN void kite_plugins_destroy(kite_plugins_t *pl);

#endif
