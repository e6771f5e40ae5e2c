/*
 * The Lua files of a service thread: path -> the file's identity (mtime,
 * size, inode) and its compiled chunks, as a script and as a page, so
 * that a request for a hot page costs no stat(), no open() and no
 * compile (a stat() was 12 % of a hello-world page's CPU).
 *
 * An entry stays valid while nothing says otherwise:
 * - an inotify watch on the file drops it as soon as the file is written,
 *   truncated, replaced by a rename, deleted or has its attributes
 *   changed. The kernel queues the event before the writer's call
 *   returns, and the queue is read before the first Lua file of each
 *   loop turn, so a request sent after a change sees the change;
 * - a stat() at most once a second catches what a watch on the file
 *   cannot see: a directory of the path renamed, a symlink on the way
 *   swapped to another release;
 * - a file that is itself a symlink, or that gets no watch (inotify
 *   missing or out of watches), is checked with stat() on every use, as
 *   it was without a cache.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/private.h"
#include "lua/private-lua.h"

#define MAX_FILES  1024
#define RECHECK_MS 1000
#define WATCH_MASK (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVE_SELF | IN_DELETE_SELF)

static const char env_prefix[] = "local _ENV = ...; ";

static unsigned hash(const char *s, size_t n)
{
    unsigned h = 2166136261u;

    while (n--)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

static kite__lua_file_t **wd_bucket(kite__lua_files_t *fs, int wd)
{
    return &fs->wb[(unsigned)wd % KITE__LUA_FBUCKETS];
}

static void unlink_from(kite__lua_file_t **pp, kite__lua_file_t *f, int by_wd)
{
    for (; *pp; pp = by_wd ? &(*pp)->wnext : &(*pp)->hnext) {
        if (*pp == f) {
            *pp = by_wd ? f->wnext : f->hnext;
            return;
        }
    }
}

/* Let go of @f; its watch too unless another entry (a link to the same
 * file) still has it or the kernel has removed it already (@gone). */
static void drop(kite__lua_pt_t *lp, kite__lua_file_t *f, int gone)
{
    kite__lua_files_t *fs = &lp->files;
    kite__lua_file_t *o;
    int i;

    if (fs->last == f)
        fs->last = NULL;
    unlink_from(&fs->b[f->hash % KITE__LUA_FBUCKETS], f, 0);
    if (f->wd >= 0) {
        unlink_from(wd_bucket(fs, f->wd), f, 1);
        for (o = *wd_bucket(fs, f->wd); o && o->wd != f->wd; o = o->wnext)
            ;
        if (!o && !gone)
            inotify_rm_watch(fs->ino, f->wd);
    }
    for (i = 0; i < 2; i++)
        luaL_unref(lp->L, LUA_REGISTRYINDEX, f->fn[i]);
    fs->n--;
    free(f->real);
    free(f);
}

static void drop_wd(kite__lua_pt_t *lp, int wd, int gone)
{
    kite__lua_file_t **pp = wd_bucket(&lp->files, wd), *f;

    while ((f = *pp)) {
        if (f->wd == wd)
            drop(lp, f, gone);
        else
            pp = &f->wnext;
    }
}

static void drop_all(kite__lua_pt_t *lp)
{
    kite__lua_files_t *fs = &lp->files;
    int i;

    for (i = 0; i < KITE__LUA_FBUCKETS; i++)
        while (fs->b[i])
            drop(lp, fs->b[i], 0);
}

/* What the kernel says changed since the last turn. */
static void drain(kite__lua_pt_t *lp)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    const struct inotify_event *ev;
    ssize_t n;
    char *p;

    while ((n = read(lp->files.ino, buf, sizeof(buf))) > 0) {
        for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
            ev = (const struct inotify_event *)p;
            if (ev->mask & IN_Q_OVERFLOW)
                drop_all(lp); /* events were lost: trust nothing */
            else if (ev->wd >= 0)
                drop_wd(lp, ev->wd, !!(ev->mask & IN_IGNORED));
        }
    }
}

static void same_id(const struct stat *st, int64_t id[4])
{
    id[0] = (int64_t)st->st_mtim.tv_sec;
    id[1] = (int64_t)st->st_mtim.tv_nsec;
    id[2] = (int64_t)st->st_size;
    id[3] = (int64_t)st->st_ino;
}

static kite__lua_file_t *find(kite__lua_files_t *fs, const char *path, size_t len, unsigned h)
{
    kite__lua_file_t *f;

    for (f = fs->b[h % KITE__LUA_FBUCKETS]; f; f = f->hnext)
        if (f->hash == h && f->len == len && !memcmp(f->path, path, len))
            return f;
    return NULL;
}

/* Room for one more entry: the first one found from a moving cursor goes. */
static void make_room(kite__lua_pt_t *lp)
{
    kite__lua_files_t *fs = &lp->files;

    while (fs->n >= MAX_FILES) {
        fs->evict = (fs->evict + 1) % KITE__LUA_FBUCKETS;
        if (fs->b[fs->evict])
            drop(lp, fs->b[fs->evict], 0);
    }
}

static kite__lua_file_t *add(kite__lua_pt_t *lp, const char *path, size_t len, unsigned h,
                             const struct stat *st)
{
    kite__lua_files_t *fs = &lp->files;
    kite__lua_file_t *f;
    struct stat lst;

    make_room(lp);
    if (!(f = malloc(sizeof(*f) + len + 1))) {
        errno = ENOMEM;
        return NULL;
    }
    memcpy(f->path, path, len + 1);
    f->len = len;
    f->hash = h;
    f->fn[0] = f->fn[1] = LUA_NOREF;
    f->checked_ms = kite__pt_now(lp->pt);
    same_id(st, f->id);
    f->wd = -1;
    f->real = realpath(path, NULL); /* NULL: served from no mount */
    if (fs->ino == -1 && (fs->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0)
        fs->ino = -2; /* none to be had (max_user_instances): stat() on every use */
    /* A symlink's target can be swapped without an event on it. */
    if (fs->ino >= 0 && !lstat(path, &lst) && S_ISREG(lst.st_mode))
        f->wd = inotify_add_watch(fs->ino, path, WATCH_MASK);
    f->hnext = fs->b[h % KITE__LUA_FBUCKETS];
    fs->b[h % KITE__LUA_FBUCKETS] = f;
    if (f->wd >= 0) {
        f->wnext = *wd_bucket(fs, f->wd);
        *wd_bucket(fs, f->wd) = f;
    }
    fs->n++;
    return f;
}

static kite__lua_file_t *remember(kite__lua_files_t *fs, kite__lua_file_t *f)
{
    fs->last = f;
    fs->last_turn = fs->turn;
    return f;
}

kite__lua_file_t *kite__lua_file_get(kite__lua_pt_t *lp, const char *path)
{
    kite__lua_files_t *fs = &lp->files;
    size_t len = strlen(path);
    kite__lua_file_t *f = fs->last;
    struct stat st;
    int64_t id[4];
    uint64_t now;
    unsigned h;
    int bad;

    if (fs->ino >= 0 && fs->turn != lp->pt->turns) {
        fs->turn = lp->pt->turns;
        drain(lp);
        f = fs->last;
    }
    /* A page is looked up twice in a row: by its mount, then to load it. */
    if (f && f->len == len && !memcmp(f->path, path, len) && fs->last_turn == fs->turn &&
        f->wd >= 0)
        return f;
    h = hash(path, len);
    f = find(fs, path, len, h);
    now = kite__pt_now(lp->pt);
    if (f && f->wd >= 0 && now - f->checked_ms < RECHECK_MS)
        return remember(fs, f);
    bad = stat(path, &st) < 0    ? errno
          : S_ISDIR(st.st_mode)  ? EISDIR
          : !S_ISREG(st.st_mode) ? EINVAL
                                 : 0;
    if (bad) {
        if (f)
            drop(lp, f, 0);
        errno = bad;
        return NULL;
    }
    same_id(&st, id);
    if (f && !memcmp(id, f->id, sizeof(id))) {
        f->checked_ms = now;
        return remember(fs, f);
    }
    if (f)
        drop(lp, f, 0);
    return remember(fs, add(lp, path, len, h, &st));
}

static char *read_file(const char *path, size_t *len)
{
    struct stat st;
    char *buf = NULL;
    size_t got = 0;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
        !(buf = malloc(sizeof(env_prefix) + (size_t)st.st_size + 4)))
        goto fail;
    while (got < (size_t)st.st_size) {
        n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    *len = got;
    buf[got] = '\0';
    return buf;
fail:
    close(fd);
    free(buf);
    return NULL;
}

/* The chunk's source: pages translated; scripts with the environment
 * taken from the first argument (and a "#!" line made a comment), on the
 * first line so that line numbers stay those of the file. */
static char *chunk_source(const char *path, int lsp, size_t *len)
{
    size_t n, pl = sizeof(env_prefix) - 1;
    char *src = read_file(path, &n), *out;

    if (!src)
        return NULL;
    if (lsp) {
        out = kite__lua_lsp_translate(src, n, len);
        free(src);
        return out;
    }
    memmove(src + pl + 2, src, n + 1);
    memcpy(src, env_prefix, pl);
    if (src[pl + 2] == '#') {
        src[pl] = src[pl + 1] = '-';
        *len = n + pl + 2;
    } else {
        memmove(src + pl, src + pl + 2, n + 1);
        *len = n + pl;
    }
    return src;
}

int kite__lua_load(kite__lua_pt_t *lp, lua_State *L, const char *path, int lsp)
{
    kite__lua_file_t *f = kite__lua_file_get(lp, path);
    int64_t id[4];
    char *src;
    size_t len;
    int r;

    lsp = !!lsp;
    if (!f)
        return luaL_error(L, "cannot open %s: %s", path, strerror(errno));
    if (f->fn[lsp] != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, f->fn[lsp]);
        return 0;
    }
    memcpy(id, f->id, sizeof(id));
    if (!(src = chunk_source(path, lsp, &len)))
        return luaL_error(L, "cannot read %s: %s", path, strerror(errno ? errno : ENOMEM));
    lua_pushfstring(L, "@%s", path);
    r = luaL_loadbuffer(L, src, len, lua_tostring(L, -1));
    free(src);
    if (r != LUA_OK)
        return lua_error(L);
    lua_remove(L, -2);
    /* Compiling may have run the collector, and a finaliser Lua code: the
     * entry is looked up again rather than trusted. */
    f = find(&lp->files, path, strlen(path), hash(path, strlen(path)));
    if (f && f->fn[lsp] == LUA_NOREF && !memcmp(id, f->id, sizeof(id))) {
        lua_pushvalue(L, -1);
        f->fn[lsp] = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    kite_debug("lua: compiled %s", path);
    return 0;
}

void kite__lua_files_init(kite__lua_pt_t *lp)
{
    lp->files.ino = -1;
}

void kite__lua_files_free(kite__lua_pt_t *lp)
{
    kite__lua_files_t *fs = &lp->files;
    kite__lua_file_t *f;
    int i;

    for (i = 0; i < KITE__LUA_FBUCKETS; i++) {
        while ((f = fs->b[i])) {
            fs->b[i] = f->hnext;
            free(f->real);
            free(f);
        }
    }
    if (fs->ino >= 0)
        close(fs->ino);
    fs->ino = -1;
    fs->n = 0;
    fs->last = NULL;
}
