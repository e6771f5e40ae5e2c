/*
 * The open-file cache of a service thread (no locks: each thread has its
 * own). An entry keeps the file open with its stat, validators and MIME
 * type, and the contents of small files, so that a keep-alive request
 * for a hot file costs no open/fstat/close. Entries are revalidated with
 * one stat() at most once a second. Output segments hold references, so
 * an entry evicted while still being sent is freed when the last one
 * goes.
 */
#ifndef KITE_FCACHE_H
#define KITE_FCACHE_H

#include <sys/types.h>
#include <time.h>

#include "core/private.h"

typedef struct kite__fentry kite__fentry_t;

struct kite__fentry {
    /* First, so that the output queue's source is the entry. refs: the
     * cache's own + one per output segment and request; fd: -1 for
     * directories and small files kept in data. */
    kite__osrc_t src;
    kite__fentry_t *hnext; /* hash chain */
    unsigned hash;
    int is_dir;
    off_t size;
    time_t mtime;
    long mtime_ns;
    ino_t ino;
    uint64_t checked_ms; /* loop time of the last stat */
    const char *mime;    /* static or from the mount's pvo */
    char *data;          /* whole contents when small, else NULL */
    char etag[48];
    char lastmod[32];
    size_t path_len;
    char path[]; /* NUL-terminated filesystem path */
};

/*
 * Look up (and open if needed) @path. @root is the real path of the
 * docroot: a file that resolves outside it through symlinks is refused
 * with KITE_EACCES. Returns a referenced entry in *out (release with
 * kite__fcache_unref) or KITE_ENOENT, KITE_EACCES, KITE_ENOMEM.
 */
int kite__fcache_get(kite__pt_t *pt, const char *path, size_t len, const char *root,
                     kite__fentry_t **out);
kite__fentry_t *kite__fcache_ref(kite__fentry_t *fe);
void kite__fcache_unref(kite__fentry_t *fe);
void kite__fcache_destroy(kite__pt_t *pt);

#endif
