/*
 * The plugin loader: a directory of good plugins loads and its protocols
 * are listed; each kind of broken plugin is refused with an error that
 * names the file (captured through the log callback).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kite.h"
#include "tap.h"

static char last_log[1024];

static void capture(int level, const char *line)
{
    (void)level;
    snprintf(last_log, sizeof(last_log), "%s", line);
}

/* A temporary directory holding links to the given plugin files. */
static const char *dir_of(const char *a, const char *b)
{
    static char dir[64];
    char link[PATH_MAX + 80], real[PATH_MAX];
    const char *files[2] = {a, b};
    int i;

    snprintf(dir, sizeof(dir), "/tmp/kite-plugins-XXXXXX");
    if (!mkdtemp(dir))
        return "/nonexistent";
    for (i = 0; i < 2 && files[i]; i++) {
        const char *base = strrchr(files[i], '/');
        if (!realpath(files[i], real))
            continue;
        snprintf(link, sizeof(link), "%s/%s", dir, base ? base + 1 : files[i]);
        if (symlink(real, link))
            perror("symlink");
    }
    return dir;
}

static void rm_dir(const char *dir)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd))
        fprintf(stderr, "cannot remove %s\n", dir);
}

static void expect_fail(const char *dir, int want, const char *file, const char *what)
{
    const char *dirs[] = {dir, NULL};
    int err = 0;
    kite_plugins_t *pl;

    last_log[0] = '\0';
    pl = kite_plugins_load(dirs, &err);
    tap_ok(!pl && err == want, "%s refused: %s", what, kite_err_name(err));
    tap_ok(strstr(last_log, file) != NULL, "the error names %s: \"%s\"", file, last_log);
    kite_plugins_destroy(pl);
    rm_dir(dir);
}

int main(int argc, char **argv)
{
    const char *dirs[2] = {NULL, NULL};
    const kite_protocol_t *const *pp;
    kite_plugins_t *pl;
    int err = 0, n = 0;

    if (argc < 6) {
        fprintf(stderr, "usage: test-plugins good.so bad-magic.so bad-abi.so bad-nosym.so "
                        "z-dup.so\n");
        return 2;
    }
    kite_set_log_level(KITE_LL_ERR, capture);
    dirs[0] = dir_of(argv[1], NULL);
    pl = kite_plugins_load(dirs, &err);
    tap_ok(pl != NULL, "good plugin dir loads (%s)", pl ? "ok" : kite_err_name(err));
    for (pp = pl ? kite_plugins_protocols(pl) : NULL; pp && *pp; pp++)
        n++;
    tap_is_int(n, 1, "one protocol collected");
    tap_is_str(pl && n ? kite_plugins_protocols(pl)[0]->name : NULL, "good-proto", "its name");
    kite_plugins_destroy(pl);
    rm_dir(dirs[0]);

    expect_fail(dir_of(argv[2], NULL), KITE_EABI, "bad-magic.so", "wrong magic");
    expect_fail(dir_of(argv[3], NULL), KITE_EABI, "bad-abi.so", "wrong ABI version");
    expect_fail(dir_of(argv[4], NULL), KITE_EINVAL, "bad-nosym.so", "no kite_plugin symbol");
    expect_fail(dir_of(argv[1], argv[5]), KITE_EEXIST, "z-dup.so", "duplicate protocol name");
    expect_fail("/nonexistent/kite-plugins", KITE_ENOENT, "/nonexistent/kite-plugins",
                "missing plugin dir");
    return tap_done();
}
