/*
 * JSON configuration, lwsws style: a directory holding `conf` and
 * `conf.d/` (or one file), each file with "global" and/or "vhosts".
 * `#` starts a comment to the end of the line. Every key is a row of one
 * table (see READMEs/README.config.md); a mistake is reported as
 * `file:line: json.path: reason`.
 */
#ifndef KITE_CONFIG_H
#define KITE_CONFIG_H

#include <stdio.h>

typedef struct kite_config_s kite_config_t;

enum {
    KITE_CONFIG_NO_PLUGINS = 1 << 0,     /* do not load the plugin-dir entries */
    KITE_CONFIG_NO_DEFAULT_DIR = 1 << 1, /* the default plugin dir is not searched */
    /* kite_config_create_vhosts() only checks (kited --check-config): TCP
     * ports are bound and released, but nothing is made on disk; access
     * logs and unix sockets are checked for being creatable instead. */
    KITE_CONFIG_CHECK_ONLY = 1 << 2,
};

/** How to load: made with KITE_CONFIG_OPTS_INIT(...); caller-owned, may be
 * freed after the call. */
typedef struct kite_config_opts_s {
    size_t struct_size; /* sizeof(kite_config_opts_t): KITE_CONFIG_OPTS_INIT */
    /* Protocols usable by name (ws-protocols, callback://) besides the
     * plugins' ones; NULL-terminated; must outlive the config. */
    const kite_protocol_t *const *protocols;
    const char *const *plugin_dirs; /* searched too, NULL-terminated */
    unsigned flags;                 /* KITE_CONFIG_* */
    char *errbuf;                   /* gets every error, one per line */
    size_t errlen;
} kite_config_opts_t;

#define KITE_CONFIG_OPTS_INIT(...)                                                                 \
    {                                                                                              \
        .struct_size = sizeof(kite_config_opts_t), __VA_ARGS__                                     \
    }

/** The global settings kite itself does not act on (the daemon does). */
typedef struct kite_config_global_s {
    const char *username, *groupname; /* or numeric uid / gid below */
    long uid, gid;                    /* -1: not set */
    unsigned long rlimit_nofile;      /* 0: not set */
} kite_config_global_t;

/**
 * kite_config_load() - read, check and resolve a configuration: the
 * directory's conf then conf.d/ files in name order, or one file. Plugins
 * named by plugin-dir are loaded so that protocol names can be checked.
 * Returns NULL with *err (KITE_EINVAL for a config mistake, KITE_ENOENT,
 * KITE_ENOMEM) and every message in opts->errbuf and the log.
 */
KITE_EXTERN kite_config_t *kite_config_load(const char *path, const kite_config_opts_t *opts,
                                            int *err) KITE_SIZED_ENTRY("kite_config_load_v2");

/** The context settings ("global"), ready for kite_context_create(). */
KITE_EXTERN const kite_context_info_t *kite_config_context_info(const kite_config_t *cfg)
    KITE_SIZED_ENTRY("kite_config_context_info_v2");
KITE_EXTERN const kite_config_global_t *kite_config_global(const kite_config_t *cfg);

/**
 * kite_config_create_vhosts() - create every configured vhost on @ctx
 * (between kite_context_reload_begin() and _commit() for a reload). The
 * vhosts keep the config alive until they are destroyed. Errors (such as
 * a port in use) are reported like load errors. Returns 0 or <0.
 */
KITE_EXTERN int kite_config_create_vhosts(kite_config_t *cfg, kite_context_t *ctx, char *errbuf,
                                          size_t errlen);

/** kite_config_put() - drop the caller's reference (vhosts hold their own). */
KITE_EXTERN void kite_config_put(kite_config_t *cfg);

/**
 * kite_context_create_from_json() - kite_config_load() then a context and
 * its vhosts. @base, when not NULL, gives what JSON cannot (foreign
 * loops, extpoll, user); JSON values win over its other members.
 */
KITE_EXTERN kite_context_t *kite_context_create_from_json(const char *path,
                                                          const kite_context_info_t *base,
                                                          const kite_config_opts_t *opts, int *err)
    KITE_SIZED_ENTRY("kite_context_create_from_json_v2");

/** kite_config_write_reference() - the directive table as Markdown. */
KITE_EXTERN void kite_config_write_reference(FILE *f);

#endif
