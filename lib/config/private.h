/*
 * Config internals. Loading has three steps: read each file (comments
 * blanked, jansson parse, a scan that remembers the line of every key),
 * apply every key through the directive table into plain structs, then
 * resolve (protocol names, docroots, origins) into the kite_*_info_t
 * that kite_vhost_create() takes. Everything lives in one arena owned by
 * the config, freed when the last vhost made from it is gone.
 */
#ifndef KITE_CONFIG_PRIVATE_H
#define KITE_CONFIG_PRIVATE_H

#include <jansson.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>

#include "kite.h"
#include "kite/config.h"

#define KITE__CFG_PATH_MAX 256

/* Where a key of a file is: its JSON path and line, and its value's text. */
typedef struct kite__cfg_pos {
    char *path;
    int line;
    size_t voff, vlen;
} kite__cfg_pos_t;

typedef struct kite__cfg_file {
    struct kite__cfg_file *next;
    char *name; /* as shown in messages */
    char *dir;  /* relative paths in it are relative to this */
    char *text; /* comments blanked */
    size_t len;
    json_t *root;
    kite__cfg_pos_t *pos;
    int npos, cappos;
} kite__cfg_file_t;

typedef struct kite__cfg_blk kite__cfg_blk_t;

typedef struct kite__cfg_mount {
    kite_mount_t m;
    const kite__cfg_file_t *file;
    char path[KITE__CFG_PATH_MAX];
    int cache_keys;  /* a cache-* key was given: no lwsws "no-store" default */
    int append_path; /* redirects keep the path below the mountpoint */
} kite__cfg_mount_t;

typedef struct kite__cfg_vhost {
    kite_vhost_info_t info;
    const kite__cfg_file_t *file;
    char path[KITE__CFG_PATH_MAX];
    kite__cfg_mount_t *mounts;
    int nmounts;
    const char **proto_names; /* ws-protocols, in order */
    const char **proto_paths; /* and where each was given */
    int nproto_names;
    kite_pvo_t *pvo;
    const kite_protocol_t **protocols; /* resolved, NULL-terminated */
    int unix_socket;
    const char *unix_perms;
    int port_set;
    unsigned static_max_age; /* static-file-max-age, when max_age_set */
    int max_age_set;
    const char *url_rewrite; /* "/prefix=dir,..." */
    const char *alpn;        /* lws "alpn": "h2,http/1.1" */
    const char *la_role;     /* lws listen-accept-role */
    const char *la_protocol; /* lws listen-accept-protocol: the raw protocol */
    struct kite_config_s *cfg;
} kite__cfg_vhost_t;

struct kite_config_s {
    atomic_int refs;
    kite__cfg_blk_t *arena;
    kite_context_info_t ci;
    kite_config_global_t g;
    const char **plugin_dirs;
    int nplugin_dirs;
    const kite__cfg_file_t *plugin_dir_file; /* where plugin-dir was first given */
    kite_plugins_t *plugins;
    const kite_protocol_t *const *builtin;
    kite__cfg_vhost_t *vhosts;
    int nvhosts;
    kite__cfg_file_t *files;
    int init_ssl;
    int check_only;           /* KITE_CONFIG_CHECK_ONLY */
    int keepalive_default;    /* no keepalive_timeout in global: lwsws's 60 */
    const char *default_alpn; /* lws: "alpn" of vhosts without one */
    /* loading state */
    char *errbuf;
    size_t errlen, errused;
    int nerr;
    int nnote; /* warnings and notices */
};

typedef struct kite_config_s kite__cfg_t;

/* One directive: a key, where it may appear, and how its value is taken. */
enum { KITE__SC_GLOBAL, KITE__SC_VHOST, KITE__SC_MOUNT };

typedef struct kite__directive {
    const char *name;
    unsigned char scope;
    const char *type; /* for the reference: "string", "number", "boolean" ... */
    int (*set)(kite__cfg_t *cfg, void *obj, const struct kite__directive *d, json_t *v,
               const kite__cfg_file_t *f, const char *path);
    size_t off;
    unsigned arg;
    const char *doc;
} kite__directive_t;

extern const kite__directive_t kite__directives[];
extern const size_t kite__ndirectives;

/* config/arena.c */
void *kite__cfg_alloc(kite__cfg_t *cfg, size_t n);
char *kite__cfg_strdup(kite__cfg_t *cfg, const char *s);
void kite__cfg_arena_free(kite__cfg_t *cfg);

/* config/file.c */
kite__cfg_file_t *kite__cfg_file_read(kite__cfg_t *cfg, const char *name);
/* Takes @text (malloc'd, NUL-terminated at @len) whatever happens. */
kite__cfg_file_t *kite__cfg_file_parse(kite__cfg_t *cfg, const char *name, char *text, size_t len);
void kite__cfg_file_free(kite__cfg_file_t *f);
/* The line of @path, or of its nearest ancestor that has one; 0 if none. */
int kite__cfg_line(const kite__cfg_file_t *f, const char *path);

/* config/error.c */
/* printf into a path buffer of KITE__CFG_PATH_MAX bytes (cut if longer). */
void kite__cfg_path(char *out, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
int kite__cfg_error(kite__cfg_t *cfg, const kite__cfg_file_t *f, const char *path, const char *fmt,
                    ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
enum { KITE__CFG_ERROR, KITE__CFG_WARNING, KITE__CFG_NOTICE };
/* A warning or notice: logged and put in the caller's buffer, not an error. */
void kite__cfg_note(kite__cfg_t *cfg, int level, const kite__cfg_file_t *f, const char *path,
                    const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
/* The directive named @name for @scope, or NULL with a suggestion in @hint
 * and in @other the scope that has a key of that name (-1: none). */
const kite__directive_t *kite__cfg_lookup(int scope, const char *name, char *hint, size_t hlen,
                                          int *other);
int kite__cfg_apply_object(kite__cfg_t *cfg, int scope, void *obj, json_t *o,
                           const kite__cfg_file_t *f, const char *path);

/* config/values.c: lwsws value forms */
int kite__cfg_string(kite__cfg_t *cfg, json_t *v, const kite__cfg_file_t *f, const char *path,
                     const char **out);
int kite__cfg_uint(kite__cfg_t *cfg, json_t *v, const kite__cfg_file_t *f, const char *path,
                   unsigned long max, unsigned long *out);
int kite__cfg_bool(kite__cfg_t *cfg, json_t *v, const kite__cfg_file_t *f, const char *path,
                   int *out);
/* An object of name: scalar, or an array of such objects, as a pvo list. */
int kite__cfg_pvo_list(kite__cfg_t *cfg, json_t *v, const kite__cfg_file_t *f, const char *path,
                       const kite_pvo_t **out);

/* config/load.c: a config from text in memory (the fuzz target) */
kite__cfg_t *kite__cfg_new(const kite_config_opts_t *opts);
int kite__cfg_load_text(kite__cfg_t *cfg, const char *name, const char *text, size_t len);
/* kite_config_load() with @opts a full copy (or NULL). */
kite_config_t *kite__config_load(const char *path, const kite_config_opts_t *opts, int *err);
/* kite_context_create_from_json() with @base and @opts full copies (or NULL). */
kite_context_t *kite__context_create_from_json(const char *path, const kite_context_info_t *base,
                                               const kite_config_opts_t *opts, int *err);

/* config/resolve.c */
int kite__cfg_resolve(kite__cfg_t *cfg);
char *kite__cfg_abspath(kite__cfg_t *cfg, const kite__cfg_file_t *f, const char *p);

#endif
