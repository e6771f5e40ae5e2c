/*
 * Process setup for kited: the open-file limit, daemonizing (the parent
 * waits until the child has bound its ports, so the exit status of
 * `kited -D` says whether the server is up), the pid file, logging to
 * syslog, and the switch to an unprivileged user after binding.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "kited.h"

int kited_limits(kited_t *kd)
{
    const kite_config_global_t *g = kite_config_global(kd->cfg);
    struct rlimit rl;

    if (!g->rlimit_nofile)
        return 0;
    rl.rlim_cur = rl.rlim_max = (rlim_t)g->rlimit_nofile;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
        /* an unprivileged user may still raise the soft limit to the hard one */
        struct rlimit cur;
        if (getrlimit(RLIMIT_NOFILE, &cur) == 0 && cur.rlim_max >= rl.rlim_cur) {
            rl.rlim_max = cur.rlim_max;
            if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
                return 0;
        }
        kite_err("rlimit-nofile %lu: %s", g->rlimit_nofile, strerror(errno));
        return -1;
    }
    return 0;
}

static void syslog_emit(int level, const char *line)
{
    int prio = level & KITE_LL_ERR      ? LOG_ERR
               : level & KITE_LL_WARN   ? LOG_WARNING
               : level & KITE_LL_NOTICE ? LOG_NOTICE
               : level & KITE_LL_INFO   ? LOG_INFO
                                        : LOG_DEBUG;

    syslog(prio, "%s", line);
}

int kited_daemonize(kited_t *kd)
{
    int p[2], fd;
    pid_t pid;
    char st = 1;

    if (pipe(p) < 0)
        return -1;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0) {
        /* the parent: exit with the child's startup result */
        close(p[1]);
        if (read(p[0], &st, 1) != 1)
            st = 1;
        _exit(st ? 1 : 0);
    }
    close(p[0]);
    kd->ready_fd = p[1];
    setsid();
    if (fork() > 0) /* not a session leader: can never get a terminal back */
        _exit(0);
    umask(027);
    if (chdir("/") < 0)
        return -1;
    fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
    openlog("kited", LOG_PID, LOG_DAEMON);
    kite_set_log_level(kd->log_level, syslog_emit);
    if (kd->pidfile) {
        FILE *f = fopen(kd->pidfile, "w");
        if (!f) {
            kite_err("pid file %s: %s", kd->pidfile, strerror(errno));
            kited_ready(kd, 1);
            return -1;
        }
        fprintf(f, "%d\n", (int)getpid());
        fclose(f);
    }
    return 0;
}

void kited_ready(kited_t *kd, int failed)
{
    char st = failed ? 1 : 0;

    if (kd->ready_fd <= 0)
        return;
    if (write(kd->ready_fd, &st, 1) != 1)
        kite_warn("cannot tell the parent how startup went");
    close(kd->ready_fd);
    kd->ready_fd = -1;
}

int kited_drop_privileges(kited_t *kd)
{
    const kite_config_global_t *g = &kd->g;
    uid_t uid = g->uid >= 0 ? (uid_t)g->uid : getuid();
    gid_t gid = g->gid >= 0 ? (gid_t)g->gid : getgid();
    const char *user = NULL;

    if (g->username) {
        struct passwd *pw = getpwnam(g->username);
        if (!pw) {
            kite_err("username \"%s\": no such user", g->username);
            return -1;
        }
        uid = pw->pw_uid;
        user = g->username;
        if (g->gid < 0 && !g->groupname)
            gid = pw->pw_gid;
    }
    if (g->groupname) {
        struct group *gr = getgrnam(g->groupname);
        if (!gr) {
            kite_err("groupname \"%s\": no such group", g->groupname);
            return -1;
        }
        gid = gr->gr_gid;
    }
    if (uid == getuid() && gid == getgid())
        return 0;
    if ((user ? initgroups(user, gid) : setgroups(0, NULL)) < 0 || setgid(gid) < 0 ||
        setuid(uid) < 0) {
        kite_err("cannot switch to uid %ld gid %ld: %s", (long)uid, (long)gid, strerror(errno));
        return -1;
    }
    if (uid && setuid(0) == 0) {
        kite_err("still able to become root after dropping privileges");
        return -1;
    }
    kite_notice("running as uid %ld gid %ld", (long)uid, (long)gid);
    return 0;
}
