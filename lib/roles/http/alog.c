/*
 * The access log of a vhost (lwsws "access-log"): one line per response in
 * the NCSA combined format, appended to a file opened with O_APPEND.
 * Each service thread formats into its own buffer, with no lock and no
 * syscall per request, and writes whole lines with one write() when the
 * buffer passes 4 KiB or a second after its first line (a vhost timer of
 * that thread); O_APPEND keeps the lines of different threads whole.
 *
 * Reopening (logrotate): kite_context_reopen_logs() opens the new file
 * on the calling thread, so that errors are reported there, and makes it
 * the vhost's current file; then a kite_post() to each service thread
 * writes that thread's buffered lines to the old file and moves the
 * thread to the new one. A post rather than an fd swap under the
 * writers: a thread never writes to a descriptor that another thread may
 * have closed (and the number reused). Files are refcounted by the
 * threads using them, under a lock of the context taken only by reopen
 * and destroy. A context's logs are its own (its access-log module slot),
 * not shared with other contexts in the process.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "misc/misc.h"
#include "modules.h"
#include "roles/http/private-http.h"

#define FLUSH_AT  4096
#define REQ_MAX   2048 /* escaped request line; longer is cut */
#define FIELD_MAX 1024 /* escaped Referer, User-Agent; longer is cut */
#define USER_MAX  128
#define HOST_MAX  64
/* The longest line: every field at its cap, plus the date, status, bytes
 * and separators. A buffer below FLUSH_AT always has room for one. */
#define LINE_MAX (HOST_MAX + USER_MAX + REQ_MAX + 2 * FIELD_MAX + 128)
#define BUF_SIZE (FLUSH_AT + LINE_MAX)

struct alog_file {
    int fd;
    unsigned refs; /* the vhost's current + one per thread writing to it */
};

struct alog_pt {
    struct alog_file *f; /* changed only on this thread, under the lock */
    kite_timer_t tmo;
    int armed;
    uint32_t len;
    time_t date_sec;
    char date[32];
    char *buf;
};

struct kite__alog {
    struct kite__alog *next; /* every open log of the context, for reopen */
    kite_context_t *ctx;
    char *path, *vhost;
    struct alog_file *cur;
    int npts;
    struct alog_pt pts[];
};

/* A context's logs: ctx->mod[KITE__SLOT_ALOG], made with the context. */
struct alog_ctx {
    pthread_mutex_t lock;
    struct kite__alog *logs;
};

#define ALOG(vh)  ((struct kite__alog *)(vh)->mod[KITE__SLOT_ALOG])
#define ACTX(ctx) ((struct alog_ctx *)(ctx)->mod[KITE__SLOT_ALOG])

static struct alog_file *file_open(const char *vhost, const char *path, int *err)
{
    struct alog_file *f = malloc(sizeof(*f));

    if (!f) {
        *err = KITE_ENOMEM;
        return NULL;
    }
    f->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (f->fd < 0) {
        *err = -errno;
        kite_err("vhost %s: access-log \"%s\": %s", vhost, path, strerror(errno));
        free(f);
        return NULL;
    }
    f->refs = 1;
    return f;
}

static void file_release(struct alog_file *f)
{
    if (f && !--f->refs) {
        close(f->fd);
        free(f);
    }
}

static void flush(struct alog_pt *ap)
{
    size_t off = 0;
    ssize_t n;

    while (off < ap->len) {
        n = write(ap->f->fd, ap->buf + off, ap->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            kite_warn("access log: write: %s", strerror(errno));
            break;
        }
        off += (size_t)n;
    }
    ap->len = 0;
}

static void tick(kite_vhost_t *vh, kite_timer_t *t)
{
    struct alog_pt *ap = (struct alog_pt *)((char *)t - offsetof(struct alog_pt, tmo));

    (void)vh;
    ap->armed = 0;
    flush(ap);
}

int kite__alog_open(kite_vhost_t *vh, const char *path)
{
    kite_context_t *ctx = vh->ctx;
    struct kite__alog *a;
    struct alog_ctx *ac = ACTX(ctx);
    int i, r = KITE_ENOMEM;

    if (!path)
        return 0;
    a = calloc(1, sizeof(*a) + (size_t)ctx->npts * sizeof(a->pts[0]));
    if (!a || !(a->path = strdup(path)))
        goto fail;
    a->ctx = ctx;
    a->npts = ctx->npts;
    if (!(a->vhost = strdup(vh->name)) || !(a->cur = file_open(vh->name, path, &r)))
        goto fail;
    for (i = 0; i < a->npts; i++) {
        if (!(a->pts[i].buf = malloc(BUF_SIZE))) {
            r = KITE_ENOMEM;
            goto fail;
        }
        a->pts[i].f = a->cur;
        a->cur->refs++;
    }
    pthread_mutex_lock(&ac->lock);
    a->next = ac->logs;
    ac->logs = a;
    pthread_mutex_unlock(&ac->lock);
    vh->mod[KITE__SLOT_ALOG] = a;
    kite__peers_enable(ctx);
    return 0;
fail:
    for (i = 0; a && i < a->npts; i++) {
        free(a->pts[i].buf);
        file_release(a->pts[i].f);
    }
    if (a)
        file_release(a->cur);
    if (a) {
        free(a->path);
        free(a->vhost);
    }
    free(a);
    return r;
}

void kite__alog_close(kite_vhost_t *vh)
{
    struct kite__alog *a = ALOG(vh), **pp;
    struct alog_ctx *ac = ACTX(vh->ctx);
    int i;

    if (!a)
        return;
    pthread_mutex_lock(&ac->lock);
    for (pp = &ac->logs; *pp; pp = &(*pp)->next)
        if (*pp == a) {
            *pp = a->next;
            break;
        }
    for (i = 0; i < a->npts; i++) {
        flush(&a->pts[i]);
        file_release(a->pts[i].f);
        free(a->pts[i].buf);
    }
    file_release(a->cur);
    pthread_mutex_unlock(&ac->lock);
    free(a->path);
    free(a->vhost);
    free(a);
    vh->mod[KITE__SLOT_ALOG] = NULL;
}

int kite__alog_ctx_init(kite_context_t *ctx, const kite_context_info_t *info)
{
    struct alog_ctx *ac = calloc(1, sizeof(*ac));

    (void)info;
    if (!ac)
        return KITE_ENOMEM;
    pthread_mutex_init(&ac->lock, NULL);
    ctx->mod[KITE__SLOT_ALOG] = ac;
    return 0;
}

/* The context is going away (its vhosts, and so its logs, are gone). */
void kite__alog_ctx_free(kite_context_t *ctx)
{
    struct alog_ctx *ac = ACTX(ctx);

    if (!ac)
        return;
    pthread_mutex_destroy(&ac->lock);
    free(ac);
    ctx->mod[KITE__SLOT_ALOG] = NULL;
}

/* Move the calling service thread to each log's current file. */
static void sync_pt(kite_context_t *ctx, void *arg)
{
    kite__pt_t *pt = arg;
    struct alog_ctx *ac = ACTX(ctx);
    struct kite__alog *a;

    pthread_mutex_lock(&ac->lock);
    for (a = ac->logs; a; a = a->next) {
        struct alog_pt *ap = &a->pts[pt->tsi];
        if (ap->f == a->cur)
            continue;
        flush(ap);
        file_release(ap->f);
        ap->f = a->cur;
        ap->f->refs++;
    }
    pthread_mutex_unlock(&ac->lock);
}

int kite_context_reopen_logs(kite_context_t *ctx)
{
    struct alog_ctx *ac = ACTX(ctx);
    struct kite__alog *a;
    struct alog_file *f;
    int i, r = 0, e;

    pthread_mutex_lock(&ac->lock);
    for (a = ac->logs; a; a = a->next) {
        if (!(f = file_open(a->vhost, a->path, &e))) {
            if (!r)
                r = e;
            continue;
        }
        file_release(a->cur);
        a->cur = f;
    }
    pthread_mutex_unlock(&ac->lock);
    for (i = 0; i < ctx->npts; i++)
        if ((e = kite_post(ctx, i, sync_pt, &ctx->pts[i])) < 0 && !r)
            r = e;
    return r;
}

/* Copy @s escaped as Apache does ('"', '\' and bytes outside 0x20-0x7e as
 * \xhh) into @o, at most @cap bytes. Returns the bytes written. */
static size_t esc(char *o, size_t cap, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0, i;

    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') {
            if (n + 1 > cap)
                break;
            o[n++] = (char)ch;
        } else if (ch == '"' || ch == '\\') {
            if (n + 2 > cap)
                break;
            o[n++] = '\\';
            o[n++] = (char)ch;
        } else {
            if (n + 4 > cap)
                break;
            memcpy(o + n, "\\x", 2);
            o[n + 2] = hex[ch >> 4];
            o[n + 3] = hex[ch & 15];
            n += 4;
        }
    }
    return n;
}

/* @s escaped (at most @cap bytes), or "-" when it is NULL. */
static char *put_field(char *p, const char *s, size_t cap)
{
    if (!s) {
        *p = '-';
        return p + 1;
    }
    return p + esc(p, cap, s, strlen(s));
}

static char *put(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

static const char *clf_date(struct alog_pt *ap)
{
    time_t now = time(NULL);
    struct tm tm;

    if (now != ap->date_sec) {
        ap->date_sec = now;
        localtime_r(&now, &tm);
        strftime(ap->date, sizeof(ap->date), "%d/%b/%Y:%H:%M:%S %z", &tm);
    }
    return ap->date;
}

void kite__alog_txn(kite_conn_t *c, const kite_http_req_t *t)
{
    struct kite__alog *a = c->vh ? ALOG(c->vh) : NULL;
    const char *ref = NULL, *ua = NULL;
    struct alog_pt *ap;
    char *p, *start;
    uint64_t bytes;
    unsigned i;

    if (!a || !t->status)
        return;
    ap = &a->pts[c->pt->tsi];
    for (i = 0; i < t->p.nhdrs; i++) {
        const kite__h1_hdr_t *h = &t->p.hdrs[i];
        if (!ref && h->name_len == 7 && !kite__strncasecmp(h->name, "referer", 7))
            ref = h->value;
        else if (!ua && h->name_len == 10 && !kite__strncasecmp(h->name, "user-agent", 10))
            ua = h->value;
    }
    start = p = ap->buf + ap->len;
    p = put_field(p, kite__peer_text(c), HOST_MAX);
    p = put(p, " - ", 3);
    p = put_field(p, t->auth_user, USER_MAX);
    p = put(p, " [", 2);
    p = put_field(p, clf_date(ap), 32);
    p = put(p, "] \"", 3);
    if (t->p.method && t->p.target) {
        char *e = p + REQ_MAX - 10; /* room for " HTTP/1.x" */
        p += esc(p, (size_t)(e - p) - 1, t->p.method, strlen(t->p.method));
        *p++ = ' ';
        p += esc(p, (size_t)(e - p), t->p.target, strlen(t->p.target));
        p = put(p,
                t->p.version == 10   ? " HTTP/1.0"
                : t->p.version == 20 ? " HTTP/2.0"
                                     : " HTTP/1.1",
                9);
    } else {
        *p++ = '-';
    }
    p = put(p, "\" ", 2);
    p = kite__put_u64(p, t->status);
    *p++ = ' ';
    /* Body bytes of the response, "-" for none (Apache's %b). */
    bytes = (t->tflags & (KITE__T_IS_HEAD | KITE__T_NO_BODY)) ? 0 : (uint64_t)t->resp_sent;
    if (bytes)
        p = kite__put_u64(p, bytes);
    else
        *p++ = '-';
    p = put(p, " \"", 2);
    p = put_field(p, ref, FIELD_MAX);
    p = put(p, "\" \"", 3);
    p = put_field(p, ua, FIELD_MAX);
    *p++ = '"';
    /* A response cut short (its body ended abnormally, or short of its
     * Content-Length) is marked, as Apache's %X does with its "X". */
    if ((t->tflags & KITE__T_BROKEN) || kite__http_body_short(t))
        p = put(p, " incomplete", 11);
    *p++ = '\n';
    ap->len += (uint32_t)(p - start);
    if (ap->len >= FLUSH_AT) {
        flush(ap);
    } else if (!ap->armed &&
               kite_vhost_timer_schedule(c->vh, c->pt->tsi, &ap->tmo, 1000000, tick) == 0) {
        ap->armed = 1;
    }
}
