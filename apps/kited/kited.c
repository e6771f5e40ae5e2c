/*
 * kited: the kite daemon. Reads an lwsws-style config directory, loads
 * protocol plugins, binds, drops privileges and serves. Signals are
 * taken by one thread with sigwait(), never by handlers: SIGHUP reloads
 * the config (a bad one is reported and the old one keeps serving),
 * SIGUSR1 reopens the access logs, SIGTERM/SIGINT drain and exit 0.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kited.h"

static void usage(const char *argv0)
{
    fprintf(
        stderr,
        "usage: %s [-c DIR] [-d LEVEL] [-n] [-P PLUGIN_DIR] [-D] [-p PIDFILE] [-l PREFIX SCRIPT] "
        "[--check-config]\n"
        "  -c DIR          config directory: DIR/conf and DIR/conf.d/ (default %s)\n"
        "  -d LEVEL        log level mask (1 err, 2 warn, 4 notice, 8 info, 16 debug)\n"
        "  -n              do not search the default plugin dir (%s)\n"
        "  -P DIR          also load plugins from DIR\n"
        "  -D              run as a daemon, logging to syslog\n"
        "  -p PIDFILE      write the daemon's pid here\n"
        "  --check-config  check the config (and that its ports can be bound), then exit\n"
        "   or: %s -A HTPASSWD_FILE REALM USER PASSWORD\n"
        "  -A              set USER's password in a LibHTTP Digest password file\n"
        "  --libhttp FILE  serve what a LibHTTP config file (\"name value\" lines) says;\n"
        "                  LibHTTP options may also be given as -name value\n"
        "  -l PREFIX SCRIPT  lhttpd: the handlers SCRIPT registers serve PREFIX/name\n"
        "                  (with the LibHTTP options; repeat for more)\n",
        argv0, KITED_CONF_DIR, KITED_PLUGIN_DIR, argv0);
}

/* LibHTTP's "-A file realm user password": edit the file and exit. */
static int set_password(int argc, char **argv)
{
    int r;

    if (argc != 6) {
        usage(argv[0]);
        return 2;
    }
    r = kite_htpasswd_set(argv[2], argv[3], argv[4], argv[5]);
    if (r < 0) {
        fprintf(stderr, "kited: %s: %s\n", argv[2], kite_strerror(r));
        return 1;
    }
    return 0;
}

static int parse_args(kited_t *kd, int argc, char **argv)
{
    static const struct option longs[] = {{"check-config", no_argument, NULL, 'C'},
                                          {"libhttp", required_argument, NULL, 'L'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    int c, np = 0;

    kd->conf_dir = KITED_CONF_DIR;
    kd->log_level = KITE_LL_DEFAULT;
    if (kited_libhttp_args(kd, &argc, argv) < 0)
        return -1;
    while ((c = getopt_long(argc, argv, "c:d:nP:Dp:l:h", longs, NULL)) != -1) {
        switch (c) {
        case 'c':
            kd->conf_dir = optarg;
            kd->conf_given = 1;
            break;
        case 'L':
            if (kited_libhttp_file(kd, optarg) < 0)
                return -1;
            break;
        case 'd':
            kd->log_level = atoi(optarg);
            break;
        case 'n':
            kd->no_default_plugins = 1;
            break;
        case 'P':
            if (np == KITED_MAX_PLUGIN_DIRS) {
                fprintf(stderr, "kited: too many -P\n");
                return -1;
            }
            kd->plugin_dirs[np++] = optarg;
            break;
        case 'D':
            kd->daemonize = 1;
            break;
        case 'p':
            kd->pidfile = optarg;
            break;
        case 'C':
            kd->check_only = 1;
            break;
        case 'l':
            if (optind >= argc || kited_libhttp_handler(kd, optarg, argv[optind++]) < 0) {
                usage(argv[0]);
                return -1;
            }
            break;
        default:
            usage(argv[0]);
            return -1;
        }
    }
    if (optind != argc) {
        usage(argv[0]);
        return -1;
    }
    if (kd->lh && kd->conf_given) {
        fprintf(stderr, "kited: -c and LibHTTP options cannot be used together\n");
        return -1;
    }
    if (kd->lh && kited_libhttp_write(kd) < 0) {
        kited_libhttp_cleanup(kd);
        return -1;
    }
    return 0;
}

/* One thread takes every signal kited acts on; the others have them blocked. */
static void *signal_thread(void *arg)
{
    kited_t *kd = arg;
    int sig;

    for (;;) {
        if (sigwait(&kd->sigs, &sig))
            continue;
        if (kd->stopping)
            break;
        switch (sig) {
        case SIGHUP:
            if (kd->lh) {
                kite_notice("SIGHUP: LibHTTP options are read at startup only; restart kited");
                break;
            }
            if (kd->draining) {
                kite_notice("SIGHUP: stopping, no reload");
                break;
            }
            kite_notice("SIGHUP: reloading %s", kd->conf_dir);
            kited_reload(kd);
            break;
        case SIGUSR1:
            if (kite_context_reopen_logs(kd->ctx) < 0)
                kite_err("SIGUSR1: reopening the access logs failed");
            break;
        case SIGTERM:
        case SIGINT:
            kite_notice("%s: draining (at most %u s)", sig == SIGTERM ? "SIGTERM" : "SIGINT",
                        kd->drain_secs);
            kd->draining = 1;
            kite_context_drain(kd->ctx, kd->drain_secs * 1000u);
            break;
        default: /* SIGUSR2: kite_run() returned, main wants us gone */
            return NULL;
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    static kited_t kd;
    pthread_t st;
    int r, status = 1;

    if (argc > 1 && !strcmp(argv[1], "-A"))
        return set_password(argc, argv);
    if (parse_args(&kd, argc, argv) < 0)
        return 2;
    kite_set_log_level(kd.log_level, NULL);
    kd.drain_secs = 10;
    /* Relative paths in the config are taken from its directory, which
     * must stay right after a daemon's chdir("/"). */
    if (!realpath(kd.conf_dir, kd.conf_abs)) {
        fprintf(stderr, "kited: %s: %s\n", kd.conf_dir, strerror(errno));
        return 1;
    }
    kd.conf_dir = kd.conf_abs;
    kd.cfg = kited_load(&kd);
    /* The generated config is read: nothing is left behind in /tmp. */
    kited_libhttp_cleanup(&kd);
    if (!kd.cfg)
        return 1;
    if (kd.check_only)
        return kited_check(&kd) < 0 ? 1 : 0;
    if (kited_limits(&kd) < 0)
        return 1;
    if (kd.daemonize && kited_daemonize(&kd) < 0)
        return 1;

    sigemptyset(&kd.sigs);
    sigaddset(&kd.sigs, SIGHUP);
    sigaddset(&kd.sigs, SIGTERM);
    sigaddset(&kd.sigs, SIGINT);
    sigaddset(&kd.sigs, SIGUSR1);
    sigaddset(&kd.sigs, SIGUSR2);
    signal(SIGPIPE, SIG_IGN);
    /* before any thread exists, so that every thread inherits the mask */
    pthread_sigmask(SIG_BLOCK, &kd.sigs, NULL);

    if (kited_start(&kd) < 0 || kited_drop_privileges(&kd) < 0) {
        kited_ready(&kd, 1);
        goto out;
    }
    if (pthread_create(&st, NULL, signal_thread, &kd)) {
        kite_err("kited: cannot start the signal thread");
        kited_ready(&kd, 1);
        goto out;
    }
    kited_ready(&kd, 0);
    kite_notice("kited: serving (config %s)", kd.conf_dir);
    r = kite_run(kd.ctx);
    kd.stopping = 1;
    pthread_kill(st, SIGUSR2);
    pthread_join(st, NULL);
    status = r < 0 ? 1 : 0;
out:
    if (kd.ctx)
        kite_context_destroy(kd.ctx);
    if (kd.pidfile && kd.daemonize)
        unlink(kd.pidfile);
    free(kd.server_string);
    kite_notice("kited: exit %d", status);
    return status;
}
