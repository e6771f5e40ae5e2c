/*
 * kited's state and its parts: kited.c (arguments, signals, main),
 * config.c (load, check, start, reload), daemon.c (daemonizing, pid
 * file, limits, privileges).
 */
#ifndef KITED_H
#define KITED_H

#include <limits.h>
#include <signal.h>

#include "kite.h"

#define KITED_MAX_PLUGIN_DIRS 16

typedef struct kited {
    const char *conf_dir;
    char conf_abs[PATH_MAX];
    const char *plugin_dirs[KITED_MAX_PLUGIN_DIRS + 1];
    const char *pidfile;
    int log_level;
    int no_default_plugins;
    int daemonize;
    int check_only;
    unsigned drain_secs;
    kite_config_t *cfg;       /* the config being started; the vhosts hold it after that */
    kite_context_info_t live; /* the running context's settings, for reload warnings */
    char *server_string;      /* live.server_string, owned */
    kite_config_global_t g;   /* copied: the config may be gone when it is used */
    kite_context_t *ctx;
    sigset_t sigs;
    volatile int stopping;
    int draining;             /* SIGTERM/SIGINT seen (signal thread only) */
    int ready_fd;             /* daemon: tells the waiting parent how startup went */
    int conf_given;           /* -c was used */
    struct kited_libhttp *lh; /* libhttp.c: LibHTTP options, or NULL */
} kited_t;

/* config.c */
kite_config_t *kited_load(kited_t *kd);
int kited_check(kited_t *kd);
int kited_start(kited_t *kd);
int kited_reload(kited_t *kd);

/* libhttp.c: LibHTTP options of the command line (taken out of argv)
 * and of a LibHTTP config file; then the kited config they make, written
 * to a private directory that becomes kd->conf_dir until the cleanup. */
int kited_libhttp_args(kited_t *kd, int *argc, char **argv);
int kited_libhttp_file(kited_t *kd, const char *path);
/* lhttpd's -l PREFIX SCRIPT: a lua-handler mount (LibHTTP mode). */
int kited_libhttp_handler(kited_t *kd, const char *prefix, const char *script);
int kited_libhttp_write(kited_t *kd);
void kited_libhttp_cleanup(kited_t *kd);

/* daemon.c */
int kited_limits(kited_t *kd);
int kited_daemonize(kited_t *kd);
void kited_ready(kited_t *kd, int failed);
int kited_drop_privileges(kited_t *kd);

#endif
