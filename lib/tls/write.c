/*
 * Writes of a TLS connection. mbedTLS seals records into the thread's
 * out[] buffer (its send callback never blocks), and out[] goes to the
 * socket in one write. What the kernel refuses stays with the conn as
 * pending ciphertext: the bytes of the output queue it carries count as
 * sent only once it is on the wire, so a partial record is kite's to
 * finish and the queue's own asynchronous write (the backend's WANT_WRITE)
 * carries it. Small queue pieces are gathered into full records; a file
 * is read in large chunks and goes out in full records (no sendfile).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/private.h"
#include "tls/private-tls.h"

#define CHUNK 16384 /* plaintext per record */

int kite__tls_bio_send(void *p, const unsigned char *buf, size_t len)
{
    kite__tls_conn_t *tc = p;
    struct kite__tls_pt *tp = tc->c->pt->tls;

    /* Callers keep room for a whole record, so this is never partial. */
    if (KITE__TLS_OUT_CAP - tp->out_len < len)
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    memcpy(tp->out + tp->out_len, buf, len);
    tp->out_len += len;
    return (int)len;
}

static ssize_t raw_write(kite_conn_t *c, const void *buf, size_t len, int more)
{
    struct iovec v = {(void *)buf, len};

    return kite__conn_try_writev(c, &v, 1, more);
}

static int append(unsigned char **b, size_t *len, const unsigned char *p, size_t n)
{
    unsigned char *nb = realloc(*b, *len + n);

    if (!nb)
        return KITE_ENOMEM;
    memcpy(nb + *len, p, n);
    *b = nb;
    *len += n;
    return 0;
}

/* Keep out[] from @from on, after what is already pending. */
static int keep(kite__tls_conn_t *tc, size_t from)
{
    struct kite__tls_pt *tp = tc->c->pt->tls;
    int r;

    if (tc->pend_async)
        r = append(&tc->later, &tc->later_len, tp->out + from, tp->out_len - from);
    else
        r = append(&tc->pend, &tc->pend_len, tp->out + from, tp->out_len - from);
    tp->out_len = 0;
    return r;
}

static void pend_drop(kite__tls_conn_t *tc)
{
    free(tc->pend);
    tc->pend = NULL;
    tc->pend_off = tc->pend_len = tc->pend_plain = 0;
}

/* Push pending ciphertext; 0 when it is all on the wire (or there was none). */
static int push_pend(kite__tls_conn_t *tc)
{
    ssize_t r;

    if (!tc->pend_len || tc->pend_async)
        return 0;
    r = raw_write(tc->c, tc->pend + tc->pend_off, tc->pend_len - tc->pend_off, 0);
    if (r < 0)
        return (int)r;
    tc->pend_off += (size_t)r;
    if (tc->pend_off == tc->pend_len) {
        size_t plain = tc->pend_plain;
        pend_drop(tc);
        tc->pend_plain = plain; /* the caller reports it */
    }
    return 0;
}

static int arm(kite__tls_conn_t *tc)
{
    struct iovec v = {tc->pend + tc->pend_off, tc->pend_len - tc->pend_off};
    int r = kite__conn_write_async(tc->c, &v, 1);

    if (r == 0)
        tc->pend_async = 1;
    return r;
}

int kite__tls_emit(kite__tls_conn_t *tc)
{
    kite_conn_t *c = tc->c;
    struct kite__tls_pt *tp = c->pt->tls;
    ssize_t n = 0;
    int r;

    if (!tp->out_len)
        return 0;
    if (!tc->pend_len && (n = raw_write(c, tp->out, tp->out_len, 0)) < 0)
        return (int)n;
    if ((size_t)n == tp->out_len) {
        tp->out_len = 0;
        return 0;
    }
    if ((r = keep(tc, (size_t)n)) < 0)
        return r;
    /* Nobody else is writing: ask the backend to finish it. */
    if (!(c->flags & KITE__C_ASYNC_W)) {
        if ((r = arm(tc)) < 0)
            return r;
        kite__conn_async_armed(c);
    }
    return 0;
}

/* Seal the next record's worth of @iov from (*i, *off) into out[]: bytes
 * taken, 0 at the end, or <0. */
static int seal_one(kite__tls_conn_t *tc, const struct iovec *iov, int n, int *i, size_t *off)
{
    struct kite__tls_pt *tp = tc->c->pt->tls;
    const unsigned char *p;
    size_t len, left;
    int r, k;

    while (*i < n && *off == iov[*i].iov_len) {
        (*i)++;
        *off = 0;
    }
    if (*i == n)
        return 0;
    left = iov[*i].iov_len - *off;
    if (left >= CHUNK || *i == n - 1) {
        p = (const unsigned char *)iov[*i].iov_base + *off;
        len = left < CHUNK ? left : CHUNK;
    } else {
        /* Several small pieces (a head and a body, pipelined responses):
         * one record rather than one each. */
        size_t o = *off;
        p = tp->stage;
        for (len = 0, k = *i; k < n && len < CHUNK; k++, o = 0) {
            size_t m = iov[k].iov_len - o < CHUNK - len ? iov[k].iov_len - o : CHUNK - len;
            memcpy(tp->stage + len, (const char *)iov[k].iov_base + o, m);
            len += m;
        }
    }
    r = mbedtls_ssl_write(&tc->ssl, p, len);
    if (r < 0)
        return r;
    /* mbedTLS may take less than a record's worth (a small max fragment). */
    for (len = (size_t)r; len;) {
        size_t m = iov[*i].iov_len - *off < len ? iov[*i].iov_len - *off : len;
        *off += m;
        len -= m;
        if (*off == iov[*i].iov_len && *i < n - 1) {
            (*i)++;
            *off = 0;
        }
    }
    return r;
}

ssize_t kite__tls_writev(kite_conn_t *c, const struct iovec *iov, int n, int more)
{
    kite__tls_conn_t *tc = KITE__TC(c);
    struct kite__tls_pt *tp = c->pt->tls;
    size_t sent = 0, batch, off = 0;
    ssize_t w;
    int i = 0, r = 0;

    if (!tc->hs_done)
        return KITE_ESTATE;
    if (tc->pend_len) {
        if ((r = push_pend(tc)) < 0)
            return r;
        if (tc->pend_len)
            return 0;
        /* The head of the queue was in it: sent now, skip it here. */
        for (sent = tc->pend_plain, batch = sent; batch && i < n; i++) {
            off = batch < iov[i].iov_len ? batch : iov[i].iov_len;
            batch -= off;
            if (off < iov[i].iov_len)
                break;
            off = 0;
        }
        tc->pend_plain = 0;
    }
    tp->out_len = 0;
    for (;;) {
        batch = 0;
        while (tp->out_len + KITE__TLS_RECORD_MAX <= KITE__TLS_OUT_CAP &&
               (r = seal_one(tc, iov, n, &i, &off)) > 0)
            batch += (size_t)r;
        if (r < 0) {
            kite__tls_log_err("tls write", NULL, r);
            return KITE_EPROTO;
        }
        if (!tp->out_len)
            return (ssize_t)sent;
        w = raw_write(c, tp->out, tp->out_len, more || r > 0);
        if (w < 0)
            return w;
        if ((size_t)w < tp->out_len) {
            if ((r = keep(tc, (size_t)w)) < 0)
                return r;
            tc->pend_plain = batch;
            return (ssize_t)sent;
        }
        sent += batch;
        tp->out_len = 0;
    }
}

ssize_t kite__tls_sendfile(kite_conn_t *c, int fd, off_t *pos, size_t len)
{
    kite__tls_conn_t *tc = KITE__TC(c);
    struct kite__tls_pt *tp = c->pt->tls;
    struct iovec v;
    ssize_t r;

    if (tc->pend_len) {
        /* Finish what was sealed from this file first. */
        if ((r = push_pend(tc)) < 0 || tc->pend_len)
            return r;
        r = (ssize_t)tc->pend_plain;
        tc->pend_plain = 0;
        if (r) {
            *pos += r;
            return r;
        }
    }
    do
        r = pread(fd, tp->file, len < sizeof(tp->file) ? len : sizeof(tp->file), *pos);
    while (r < 0 && errno == EINTR);
    if (r <= 0)
        return r < 0 ? -errno : KITE_EIO;
    v.iov_base = tp->file;
    v.iov_len = (size_t)r;
    r = kite__tls_writev(c, &v, 1, (size_t)r < len);
    if (r > 0)
        *pos += r;
    return r;
}

int kite__tls_write_async(kite_conn_t *c, const struct iovec *iov, int n)
{
    kite__tls_conn_t *tc = KITE__TC(c);

    (void)iov;
    (void)n;
    /* A write came back short only because ciphertext is pending. */
    if (!tc->pend_len)
        return KITE_EIO;
    return arm(tc);
}

size_t kite__tls_written(kite_conn_t *c, size_t bytes)
{
    kite__tls_conn_t *tc = KITE__TC(c);
    size_t plain = tc->pend_plain;

    (void)bytes; /* all of pend: the backends finish a write or fail it */
    pend_drop(tc);
    tc->pend_async = 0;
    if (tc->later) {
        tc->pend = tc->later;
        tc->pend_len = tc->later_len;
        tc->later = NULL;
        tc->later_len = 0;
        if (arm(tc) == 0)
            kite__conn_async_armed(c);
    }
    return plain;
}
