/*
 * The per-thread open-file cache (see fcache.h): a hash of entries keyed
 * by filesystem path, each holding an open fd (or the whole contents of a
 * small file), its stat, ETag and Last-Modified. A miss resolves the real
 * path once to refuse symlinks that leave the docroot; a hit costs a
 * stat() only when the entry was last checked more than a second ago.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/private.h"
#include "misc/misc.h"
#include "roles/http/fcache.h"

#define NBUCKETS    256
#define MAX_ENTRIES 1024
#define SMALL_FILE  (32 * 1024)
#define RECHECK_MS  1000

struct kite__fcache {
    kite__fentry_t *b[NBUCKETS];
    unsigned n;
    unsigned max; /* entries kept; each may hold an open fd */
    unsigned evict;
};

/*
 * Entries keep files open, so the cache may use at most half of the
 * process's descriptors (shared by all service threads): a full
 * descriptor table would make open() and even accept() fail, and no new
 * request could then come to evict anything.
 */
static unsigned cache_max(const kite__pt_t *pt)
{
    struct rlimit rl;
    rlim_t m;

    if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur == RLIM_INFINITY)
        return MAX_ENTRIES;
    m = rl.rlim_cur / 2 / (rlim_t)(pt->ctx->npts > 0 ? pt->ctx->npts : 1);
    return m < 16 ? 16 : m > MAX_ENTRIES ? MAX_ENTRIES : (unsigned)m;
}

static unsigned hash(const char *s, size_t n)
{
    unsigned h = 2166136261u;

    while (n--)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

kite__fentry_t *kite__fcache_ref(kite__fentry_t *fe)
{
    kite__osrc_ref(&fe->src);
    return fe;
}

void kite__fcache_unref(kite__fentry_t *fe)
{
    kite__osrc_unref(&fe->src);
}

/* The last reference went (the cache's and every output segment's). */
static void entry_release(kite__osrc_t *src)
{
    kite__fentry_t *fe = (kite__fentry_t *)src; /* its first member */

    if (fe->src.fd >= 0)
        close(fe->src.fd);
    free(fe->data);
    free(fe);
}

static void unlink_entry(kite__fcache_t *fc, kite__fentry_t *fe)
{
    kite__fentry_t **pp = &fc->b[fe->hash % NBUCKETS];

    for (; *pp; pp = &(*pp)->hnext)
        if (*pp == fe) {
            *pp = fe->hnext;
            fc->n--;
            kite__fcache_unref(fe);
            return;
        }
}

static void evict_some(kite__fcache_t *fc)
{
    unsigned tries;

    /* Drop whole chains round-robin: cheap, and hot entries come back on
     * their next request. */
    for (tries = 0; tries < NBUCKETS && fc->n >= fc->max; tries++) {
        kite__fentry_t **b = &fc->b[fc->evict++ % NBUCKETS];
        while (*b)
            unlink_entry(fc, *b);
    }
}

static int load(kite__pt_t *pt, const char *path, size_t len, unsigned h, const char *root,
                kite__fentry_t **out)
{
    char real[PATH_MAX];
    struct stat st;
    kite__fentry_t *fe;
    int fd;

    if (!realpath(path, real))
        return errno == EACCES ? KITE_EACCES : KITE_ENOENT;
    if (!kite__path_within(real, root, root ? strlen(root) : 0)) {
        kite_notice("refused %s: resolves outside the docroot", path);
        return KITE_EACCES;
    }
    fd = open(real, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return errno == EACCES                      ? KITE_EACCES
               : errno == EMFILE || errno == ENFILE ? KITE_EMFILE
                                                    : KITE_ENOENT;
    if (fstat(fd, &st) || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
        close(fd);
        return KITE_EACCES;
    }
    fe = calloc(1, sizeof(*fe) + len + 1);
    if (!fe) {
        close(fd);
        return KITE_ENOMEM;
    }
    fe->src.refs = 1;
    fe->src.release = entry_release;
    fe->hash = h;
    fe->src.fd = fd;
    fe->size = st.st_size;
    fe->mtime = st.st_mtime;
    fe->mtime_ns = st.st_mtim.tv_nsec;
    fe->ino = st.st_ino;
    fe->checked_ms = kite__pt_now(pt);
    memcpy(fe->path, path, len);
    fe->path_len = len;
    if (S_ISDIR(st.st_mode)) {
        fe->is_dir = 1;
        close(fd);
        fe->src.fd = -1;
    } else if (st.st_size <= SMALL_FILE) {
        /* Small files are kept in memory and sent with the headers in one
         * writev; the fd is not needed then. */
        fe->data = malloc((size_t)st.st_size + 1);
        if (fe->data && pread(fd, fe->data, (size_t)st.st_size, 0) == st.st_size) {
            close(fd);
            fe->src.fd = -1;
        } else {
            free(fe->data);
            fe->data = NULL;
        }
    }
    snprintf(fe->etag, sizeof(fe->etag), "\"%llx-%llx\"", (unsigned long long)st.st_mtime,
             (unsigned long long)st.st_size);
    kite__http_date(st.st_mtime, fe->lastmod);
    *out = fe;
    return 0;
}

static int still_valid(kite__pt_t *pt, kite__fentry_t *fe)
{
    uint64_t now = kite__pt_now(pt);
    struct stat st;

    if (now - fe->checked_ms < RECHECK_MS)
        return 1;
    if (stat(fe->path, &st) || st.st_mtime != fe->mtime || st.st_mtim.tv_nsec != fe->mtime_ns ||
        st.st_size != fe->size || st.st_ino != fe->ino)
        return 0;
    fe->checked_ms = now;
    return 1;
}

int kite__fcache_get(kite__pt_t *pt, const char *path, size_t len, const char *root,
                     kite__fentry_t **out)
{
    kite__fcache_t *fc = pt->fcache;
    unsigned h = hash(path, len);
    kite__fentry_t *fe;
    int i, r;

    if (!fc) {
        if (!(fc = pt->fcache = calloc(1, sizeof(*fc))))
            return KITE_ENOMEM;
        fc->max = cache_max(pt);
    }
    for (fe = fc->b[h % NBUCKETS]; fe; fe = fe->hnext) {
        if (fe->hash != h || fe->path_len != len || memcmp(fe->path, path, len))
            continue;
        if (still_valid(pt, fe)) {
            *out = kite__fcache_ref(fe);
            return 0;
        }
        unlink_entry(fc, fe);
        break;
    }
    r = load(pt, path, len, h, root, &fe);
    if (r == KITE_EMFILE && fc->n) {
        /* Out of descriptors (many connections): give back the cache's;
         * entries still being sent live on through their references. */
        for (i = 0; i < NBUCKETS; i++)
            while (fc->b[i])
                unlink_entry(fc, fc->b[i]);
        r = load(pt, path, len, h, root, &fe);
    }
    if (r < 0)
        return r;
    if (fc->n >= fc->max)
        evict_some(fc);
    fe->hnext = fc->b[h % NBUCKETS];
    fc->b[h % NBUCKETS] = fe;
    fc->n++;
    *out = kite__fcache_ref(fe);
    return 0;
}

void kite__fcache_destroy(kite__pt_t *pt)
{
    kite__fcache_t *fc = pt->fcache;
    int i;

    if (!fc)
        return;
    for (i = 0; i < NBUCKETS; i++)
        while (fc->b[i])
            unlink_entry(fc, fc->b[i]);
    free(fc);
    pt->fcache = NULL;
}
