/*
 * Starting a CGI process: three pipes, posix_spawn() into a new process
 * group with the working directory set to the script's (so that cgi-timeout
 * can kill the script and everything it started, and relative paths work
 * as in every other server), every other fd closed, signal dispositions
 * and mask back to their defaults (kite ignores SIGPIPE; a script must
 * not inherit that). A pidfd then tells the loop when the process exits:
 * it is pollable like any fd, works on both event backends, and needs no
 * process-wide SIGCHLD handler, which a library must not take from its
 * application.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "roles/cgi/private-cgi.h"

static void close_all(int *fds, int n)
{
    int i;

    for (i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

static int setup(posix_spawn_file_actions_t *fa, posix_spawnattr_t *at, const int p[6],
                 const char *dir)
{
    sigset_t none, all;
    int r;

    sigemptyset(&none);
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    if ((r = posix_spawn_file_actions_adddup2(fa, p[0], 0)) ||
        (r = posix_spawn_file_actions_adddup2(fa, p[3], 1)) ||
        (r = posix_spawn_file_actions_adddup2(fa, p[5], 2)) ||
        (r = posix_spawn_file_actions_addclosefrom_np(fa, 3)) ||
        (r = posix_spawn_file_actions_addchdir_np(fa, dir)))
        return -r;
    if ((r = posix_spawnattr_setflags(at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                              POSIX_SPAWN_SETSIGDEF)) ||
        (r = posix_spawnattr_setpgroup(at, 0)) || (r = posix_spawnattr_setsigmask(at, &none)) ||
        (r = posix_spawnattr_setsigdefault(at, &all)))
        return -r;
    return 0;
}

int kite__cgi_spawn_argv(const char *file, char *const argv[], const char *dir, char **envp,
                         int in_fd, int fds[4], pid_t *pid)
{
    /* p[0],p[1] stdin (child reads 0); p[2],p[3] stdout; p[4],p[5] stderr. */
    int p[6] = {-1, -1, -1, -1, -1, -1}, i, r, pfd;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;

    for (i = in_fd >= 0; i < 3; i++)
        if (pipe2(p + 2 * i, O_CLOEXEC) < 0) {
            r = -errno;
            close_all(p, 6);
            return r;
        }
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    if (in_fd >= 0)
        p[0] = in_fd;
    r = setup(&fa, &at, p, dir);
    if (!r)
        r = !strchr(file, '/') ? -posix_spawnp(pid, file, &fa, &at, argv, envp)
                               : -posix_spawn(pid, file, &fa, &at, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    /* The child's ends are the child's only (a stdin file is the caller's). */
    if (in_fd < 0)
        close(p[0]);
    close(p[3]);
    close(p[5]);
    p[0] = p[3] = p[5] = -1;
    if (r) {
        close_all(p, 6);
        return r;
    }
    pfd = (int)syscall(SYS_pidfd_open, *pid, 0);
    if (pfd < 0) {
        /* Without a pidfd the exit cannot be waited for on the loop: stop
         * the process now rather than leave a zombie behind. */
        r = -errno;
        kill(-*pid, SIGKILL);
        waitpid(*pid, NULL, 0);
        close_all(p, 6);
        return r;
    }
    fcntl(pfd, F_SETFD, FD_CLOEXEC);
    fds[0] = p[1];
    fds[1] = p[2];
    fds[2] = p[4];
    fds[3] = pfd;
    for (i = in_fd >= 0; i < 4; i++)
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
    return 0;
}

int kite__cgi_spawn(const char *interp, const char *script, const char *wd, char **envp, int in_fd,
                    int fds[4], pid_t *pid)
{
    char *argv[3], *dir, *slash;
    int r;

    if (!(dir = strdup(script)))
        return -ENOMEM;
    slash = strrchr(dir, '/');
    if (slash)
        slash[slash == dir] = '\0';
    argv[0] = (char *)(interp ? interp : script);
    argv[1] = interp ? (char *)script : NULL;
    argv[2] = NULL;
    /* A script (or an interpreter given by path) is run as named; a bare
     * interpreter name is looked up in PATH. */
    r = kite__cgi_spawn_argv(argv[0], argv, wd ? wd : slash ? dir : ".", envp, in_fd, fds, pid);
    free(dir);
    return r;
}
