/*
 * The output queue of a connection: memory segments (copied bytes), refs
 * into the bytes of a refcounted source (kite__osrc_t, such as a cached
 * file's contents) and file ranges of a source for sendfile. Writes only
 * queue; the queue is flushed once when the event that produced the
 * output ends, so pipelined responses leave in one writev. What the kernel
 * refuses goes to the backend's asynchronous write, one at a time, and
 * file ranges that would block are read in chunks for it. Write interest
 * exists only while such a write is in flight. All of it goes through the
 * conn's transport (lib/tls): straight to the backend for plain TCP,
 * sealed into records for TLS.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event/event.h"

#define MAX_IOV       16
#define MAX_FREE_SEGS 64
#define FILE_CHUNK    (64 * 1024)
#define SENDFILE_MAX  (1024 * 1024)

static kite__oseg_t *seg_new(kite__pt_t *pt, uint8_t kind, size_t need)
{
    kite__oseg_t *s;
    size_t cap = KITE__SEG_BLOCK - sizeof(*s);

    if (kind == KITE__SEG_MEM && need <= cap && pt->seg_free) {
        s = pt->seg_free;
        pt->seg_free = s->next;
        pt->nseg_free--;
    } else {
        if (kind != KITE__SEG_MEM)
            cap = 0;
        else if (need > cap)
            cap = need;
        s = malloc(sizeof(*s) + cap);
        if (!s)
            return NULL;
        s->cap = (uint32_t)cap;
    }
    s->next = NULL;
    s->kind = kind;
    s->len = s->off = 0;
    s->src = NULL;
    s->ref = NULL;
    s->pos = 0;
    return s;
}

static void seg_free(kite__pt_t *pt, kite__oseg_t *s)
{
    if (s->src)
        kite__osrc_unref(s->src);
    if (s->kind == KITE__SEG_MEM && s->cap == KITE__SEG_BLOCK - sizeof(*s) &&
        pt->nseg_free < MAX_FREE_SEGS) {
        s->next = pt->seg_free;
        pt->seg_free = s;
        pt->nseg_free++;
        return;
    }
    free(s);
}

void kite__pt_segs_free(kite__pt_t *pt)
{
    kite__oseg_t *s;

    while ((s = pt->seg_free)) {
        pt->seg_free = s->next;
        free(s);
    }
    pt->nseg_free = 0;
}

static void seg_push(kite_conn_t *c, kite__oseg_t *s)
{
    if (c->out_tail)
        c->out_tail->next = s;
    else
        c->out_head = s;
    c->out_tail = s;
}

void kite__conn_mark_dirty(kite_conn_t *c)
{
    if (c->flags & KITE__C_DIRTY)
        return;
    c->flags |= KITE__C_DIRTY;
    /* Outside an event of this conn (a post, another conn's handler), the
     * end of the loop pass flushes it. */
    if (!(c->flags & KITE__C_IN_SVC))
        kite__ready_add(c);
}

char *kite__out_reserve(kite_conn_t *c, size_t len)
{
    kite__oseg_t *t = c->out_tail;

    if (t && t->kind == KITE__SEG_MEM && t->cap - t->len >= len)
        return t->data + t->len;
    t = seg_new(c->pt, KITE__SEG_MEM, len);
    if (!t)
        return NULL;
    seg_push(c, t);
    return t->data;
}

void kite__out_commit(kite_conn_t *c, size_t len)
{
    c->out_tail->len += len;
    c->out_bytes += len;
    kite__conn_mark_dirty(c);
}

int kite__out_append(kite_conn_t *c, const void *buf, size_t len)
{
    char *p;

    if (!len)
        return 0;
    p = kite__out_reserve(c, len);
    if (!p)
        return KITE_ENOMEM;
    memcpy(p, buf, len);
    kite__out_commit(c, len);
    return 0;
}

int kite__out_ref(kite_conn_t *c, kite__osrc_t *src, const char *p, size_t len)
{
    kite__oseg_t *s;

    if (!len)
        return 0;
    s = seg_new(c->pt, KITE__SEG_REF, 0);
    if (!s)
        return KITE_ENOMEM;
    s->src = kite__osrc_ref(src);
    s->ref = p;
    s->len = len;
    seg_push(c, s);
    c->out_bytes += len;
    kite__conn_mark_dirty(c);
    return 0;
}

int kite__out_file(kite_conn_t *c, kite__osrc_t *src, off_t pos, size_t len)
{
    kite__oseg_t *s;

    if (!len)
        return 0;
    s = seg_new(c->pt, KITE__SEG_FILE, 0);
    if (!s)
        return KITE_ENOMEM;
    s->src = kite__osrc_ref(src);
    s->pos = pos;
    s->len = len;
    seg_push(c, s);
    c->out_bytes += len;
    kite__conn_mark_dirty(c);
    return 0;
}

/* Drop @n sent bytes from the head of the queue. */
static void consume(kite_conn_t *c, size_t n)
{
    kite__oseg_t *s;

    c->out_bytes -= n;
    while (n && (s = c->out_head)) {
        size_t left = s->kind == KITE__SEG_MEM ? s->len - s->off : s->len;
        size_t k = n < left ? n : left;

        if (s->kind == KITE__SEG_MEM)
            s->off += k;
        else if (s->kind == KITE__SEG_REF) {
            s->ref += k;
            s->len -= k;
        } else {
            s->len -= k; /* sendfile already moved pos */
        }
        n -= k;
        if (k == left) {
            c->out_head = s->next;
            if (!c->out_head)
                c->out_tail = NULL;
            seg_free(c->pt, s);
        }
    }
}

/* Gather the memory and ref segments at the head into @iov, at most @cap bytes. */
static int gather(kite_conn_t *c, struct iovec *iov, size_t *total, int *more, size_t cap)
{
    kite__oseg_t *s;
    int n = 0;

    *total = 0;
    *more = 0;
    for (s = c->out_head; s && n < MAX_IOV && *total < cap; s = s->next) {
        if (s->kind == KITE__SEG_FILE) {
            *more = 1;
            break;
        }
        if (s->kind == KITE__SEG_MEM) {
            iov[n].iov_base = s->data + s->off;
            iov[n].iov_len = s->len - s->off;
        } else {
            iov[n].iov_base = (void *)s->ref;
            iov[n].iov_len = s->len;
        }
        if (iov[n].iov_len > cap - *total) {
            iov[n].iov_len = cap - *total;
            *more = 1;
        }
        *total += iov[n].iov_len;
        if (iov[n].iov_len)
            n++;
    }
    return n;
}

/* The file at the head would block: read a chunk into memory ahead of it
 * so the asynchronous write can carry it. */
static int file_to_mem(kite_conn_t *c)
{
    kite__oseg_t *f = c->out_head, *m;
    size_t want = f->len < FILE_CHUNK ? f->len : FILE_CHUNK;
    ssize_t r;

    m = seg_new(c->pt, KITE__SEG_MEM, want);
    if (!m)
        return KITE_ENOMEM;
    r = pread(f->src->fd, m->data, want, f->pos);
    if (r <= 0) {
        seg_free(c->pt, m);
        return r < 0 ? -errno : KITE_EIO;
    }
    m->len = (size_t)r;
    f->pos += r;
    f->len -= (size_t)r;
    m->next = f;
    c->out_head = m;
    if (!f->len) {
        /* The whole rest of the file is now in m. */
        m->next = f->next;
        if (c->out_tail == f)
            c->out_tail = m;
        seg_free(c->pt, f);
    }
    return 0;
}

static void drained(kite_conn_t *c)
{
    if (c->role->on_drain)
        c->role->on_drain(c);
    if ((c->flags & KITE__C_WANT_CB) && !(c->flags & KITE__C_CLOSING))
        kite__ready_add(c);
}

void kite__out_flush(kite_conn_t *c)
{
    struct iovec iov[MAX_IOV];
    size_t total, sent = 0, cap = c->thr ? kite__thr_budget(c) : (size_t)-1;
    ssize_t n;
    int cnt, more, r;

    c->flags &= ~KITE__C_DIRTY;
    if (c->flags & (KITE__C_ASYNC_W | KITE__C_CLOSED))
        return;
    if (c->xp->ops->flush) {
        c->xp->ops->flush(c);
        return;
    }
    while (c->out_head && cap) {
        kite__oseg_t *s = c->out_head;

        if (s->kind == KITE__SEG_FILE) {
            off_t pos = s->pos;
            size_t len = s->len < SENDFILE_MAX ? s->len : SENDFILE_MAX;
            n = c->xp->ops->sendfile(c, s->src->fd, &pos, len < cap ? len : cap);
            if (n < 0)
                goto fail;
            s->pos = pos;
            if (!n)
                goto blocked;
            consume(c, (size_t)n);
            sent += (size_t)n;
            cap -= (size_t)n;
            continue;
        }
        cnt = gather(c, iov, &total, &more, cap);
        n = c->xp->ops->writev(c, iov, cnt, more);
        if (n < 0)
            goto fail;
        consume(c, (size_t)n);
        sent += (size_t)n;
        cap -= (size_t)n;
        if ((size_t)n < total)
            goto blocked;
    }
    if (c->thr)
        kite__thr_spend(c, sent);
    if (c->out_head) {
        /* Only when throttled: the rest waits for the bucket's timer. */
        kite__thr_wait(c);
        return;
    }
    drained(c);
    return;

blocked:
    if (c->out_head->kind == KITE__SEG_FILE && (r = file_to_mem(c)) < 0) {
        n = r;
        goto fail;
    }
    cnt = gather(c, iov, &total, &more, cap);
    r = c->xp->ops->write_async(c, iov, cnt);
    if (r < 0) {
        n = r;
        goto fail;
    }
    if (c->thr)
        kite__thr_spend(c, sent + total);
    c->flags |= KITE__C_ASYNC_W;
    /* While the peer is not taking our bytes, the send timeout applies,
     * whatever the role's state; the role sets its own when drained. */
    kite__conn_set_state_timeout(c, kite__send_ms(c));
    return;

fail:
    kite_debug("conn %p: write failed: %s", (void *)c, kite_strerror((int)n));
    kite__conn_close_now(c, KITE_CLOSE_WRITE);
}

void kite__out_taken(kite_conn_t *c, size_t n)
{
    consume(c, n);
    if (c->out_head)
        return;
    drained(c);
    /* A close waiting for the queue to empty is finished by the leave. */
    if (c->flags & KITE__C_CLOSING)
        kite__ready_add(c);
}

void kite__out_write_done(kite_conn_t *c, int status, size_t bytes)
{
    c->flags &= ~KITE__C_ASYNC_W;
    if (c->flags & KITE__C_CLOSED)
        return;
    c->flags |= KITE__C_IN_SVC;
    if (status < 0) {
        kite__conn_close_now(c, KITE_CLOSE_WRITE);
    } else {
        consume(c, c->xp->ops->written(c, bytes));
        if (c->out_head)
            kite__conn_set_state_timeout(c, kite__send_ms(c));
        kite__out_flush(c);
    }
    kite__conn_leave(c);
}

void kite__out_free(kite_conn_t *c)
{
    kite__oseg_t *s;

    while ((s = c->out_head)) {
        c->out_head = s->next;
        seg_free(c->pt, s);
    }
    c->out_tail = NULL;
    c->out_bytes = 0;
}
