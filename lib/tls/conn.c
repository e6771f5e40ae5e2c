/*
 * A TLS connection: mbedTLS driven without blocking through memory
 * callbacks. The backend reads ciphertext into the thread's buffer as
 * for any conn; mbedTLS takes it from there and says WANT_READ when it is
 * used up (reading simply stays on). The handshake runs on the first
 * bytes, under the conn's first state timeout; then everything one read
 * decrypts reaches the role in one call, so pipelined requests still
 * leave in one write. Writes are in write.c. A handshake that fails
 * (garbage, plaintext HTTP, a truncated hello) closes this conn only.
 */
#include <mbedtls/error.h>
#include <stdlib.h>
#include <string.h>

#include "core/private.h"
#include "tls/private-tls.h"

int kite__tls_bio_recv(void *p, unsigned char *buf, size_t len)
{
    struct kite__tls_pt *tp = ((kite__tls_conn_t *)p)->c->pt->tls;

    if (!tp->rwin_len)
        return MBEDTLS_ERR_SSL_WANT_READ;
    if (len > tp->rwin_len)
        len = tp->rwin_len;
    memcpy(buf, tp->rwin, len);
    tp->rwin += len;
    tp->rwin_len -= len;
    return (int)len;
}

static void log_conn(const kite_conn_t *c, const char *what, int err)
{
    char peer[64] = "?", buf[160];
    int port = 0;

    kite_conn_peer(c, peer, sizeof(peer), &port);
    mbedtls_strerror(err, buf, sizeof(buf));
    kite_notice("tls: %s from %s port %d: %s (-0x%04x)", what, peer, port, buf, (unsigned)-err);
}

/* Run the handshake on what has arrived: 1 done, 0 waiting for the peer, <0 failed. */
static int handshake(kite__tls_conn_t *tc)
{
    kite_conn_t *c = tc->c;
    int r = mbedtls_ssl_handshake(&tc->ssl);
    const char *alpn;

    if (r == MBEDTLS_ERR_SSL_WANT_READ)
        return 0;
    if (tc->client) {
        kite__tls_emit(tc);
        if (kite__tls_client_done(tc, r) < 0)
            return KITE_EPROTO;
        tc->hs_done = 1;
        return 1;
    }
    if (r) {
        log_conn(c, "handshake failed", r);
        kite__tls_emit(tc); /* the alert, if mbedTLS made one */
        return KITE_EPROTO;
    }
    tc->hs_done = 1;
    /* The request gets the same time a plain conn's first request has. */
    kite__conn_set_state_timeout(c, c->pt->ctx->info.timeout_secs * 1000u);
    /* ALPN chose "h2": the conn takes the role serving it (HTTP/2, whose
     * preface comes as data); otherwise it stays in its HTTP/1.1 role. */
    alpn = mbedtls_ssl_get_alpn_protocol(&tc->ssl);
    if (alpn && kite__conn_alpn(c, alpn) < 0)
        return KITE_ENOMEM;
    kite_debug("tls: %s %s with %s", mbedtls_ssl_get_version(&tc->ssl),
               mbedtls_ssl_get_ciphersuite(&tc->ssl), c->vh->name);
    return 1;
}

static void tls_close(kite_conn_t *c, int graceful);

/* allow-non-tls: a first byte that cannot start a TLS handshake record
 * (0x16) makes the conn a plain one, and the bytes go to the role. */
static int plain_instead(kite__tls_conn_t *tc, char *buf, size_t len)
{
    kite_conn_t *c = tc->c;

    if (tc->started++ || (unsigned char)buf[0] == 0x16 ||
        !(tc->cfg->options & KITE_TLS_ALLOW_NON_TLS))
        return 0;
    if (tc->cfg_vh->options & KITE__VH_TO_HTTPS)
        kite__conn_to_https(c);
    tls_close(c, 0);
    return c->xp->ops->rx(c, buf, len) < 0 ? -1 : 1;
}

static int tls_rx(kite_conn_t *c, char *buf, size_t len)
{
    kite__tls_conn_t *tc = KITE__TC(c);
    struct kite__tls_pt *tp = c->pt->tls;
    size_t got = 0;
    int r, eof = 0;

    if (!tc->client && !tc->started && (r = plain_instead(tc, buf, len)) != 0)
        return r < 0 ? KITE_ECLOSED : 0;
    tp->rwin = (const unsigned char *)buf;
    tp->rwin_len = len;
    tp->out_len = 0;
    if (!tc->hs_done && (r = handshake(tc)) <= 0) {
        tp->rwin_len = 0;
        return r < 0 ? r : kite__tls_emit(tc);
    }
    for (;;) {
        r = mbedtls_ssl_read(&tc->ssl, (unsigned char *)tp->plain + got, KITE__TLS_PLAIN_CAP - got);
        if (r > 0 && (got += (size_t)r) < KITE__TLS_PLAIN_CAP)
            continue;
        if (r == 0 || r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
            eof = 1;
        else if (r < 0 && r != MBEDTLS_ERR_SSL_WANT_READ) {
            log_conn(c, "read failed", r);
            tp->rwin_len = 0;
            kite__tls_emit(tc);
            return KITE_EPROTO;
        }
        break;
    }
    /* The plaintext buffer holds a whole read plus one record: full is
     * never reached before the ciphertext is used up. */
    tp->rwin_len = 0;
    if ((r = kite__tls_emit(tc)) < 0)
        return r;
    if (got && (r = c->role->on_data(c, tp->plain, got)) < 0)
        return r;
    if (eof && !(c->flags & (KITE__C_CLOSING | KITE__C_CLOSED))) {
        /* The peer's close_notify: the end of its input, as a FIN is. */
        kite__conn_peer_eof(c);
        kite__conn_read_stop(c);
        if (!c->role->on_eof)
            return KITE_ECLOSED;
        c->role->on_eof(c, 0);
    }
    return 0;
}

/* Tell the peer we are done writing (best effort: a close_notify that
 * does not fit in the socket now is not worth waiting for). */
static void say_bye(kite__tls_conn_t *tc)
{
    struct kite__tls_pt *tp = tc->c->pt->tls;

    if (!tc->hs_done || tc->said_bye || tc->pend_len)
        return;
    tc->said_bye = 1;
    tp->out_len = 0;
    if (mbedtls_ssl_close_notify(&tc->ssl) == 0 && tp->out_len)
        kite__conn_try_writev(tc->c, &(struct iovec){tp->out, tp->out_len}, 1, 0);
    tp->out_len = 0;
}

static int tls_shutdown(kite_conn_t *c)
{
    say_bye(KITE__TC(c));
    return kite__conn_shutdown_write(c);
}

static void tls_close(kite_conn_t *c, int graceful)
{
    kite__tls_conn_t *tc = KITE__TC(c);

    if (graceful)
        say_bye(tc);
    c->xp = &kite__xport_tcp;
    mbedtls_ssl_free(&tc->ssl);
    free(tc->pend);
    free(tc->later);
    kite__tls_cfg_put(tc->cfg);
    kite__tls_cfg_put(tc->sni);
    kite__tls_ccfg_put(tc->ccfg);
    kite__vhost_unref(tc->cfg_vh);
    free(tc);
}

const struct kite__xport_ops kite__tls_ops = {
    .name = "tls",
    .rx = tls_rx,
    .writev = kite__tls_writev,
    .sendfile = kite__tls_sendfile,
    .write_async = kite__tls_write_async,
    .written = kite__tls_written,
    .shutdown = tls_shutdown,
    .close = tls_close,
};

int kite__tls_conn_start(kite_conn_t *c)
{
    kite_vhost_t *vh = c->ls->vhosts[0];
    kite__tls_conn_t *tc;
    int r;

    if (!c->pt->tls && !(c->pt->tls = malloc(sizeof(*c->pt->tls))))
        return KITE_ENOMEM;
    c->pt->tls->out_len = c->pt->tls->rwin_len = 0;
    tc = calloc(1, sizeof(*tc));
    if (!tc)
        return KITE_ENOMEM;
    tc->xp.ops = &kite__tls_ops;
    tc->c = c;
    tc->cfg_vh = vh;
    kite__vhost_ref(vh);
    tc->cfg = kite__tls_cfg_get(vh);
    mbedtls_ssl_init(&tc->ssl);
    c->xp = &tc->xp;
    if ((r = mbedtls_ssl_setup(&tc->ssl, &tc->cfg->conf))) {
        kite__tls_log_err("tls setup", vh->name, r);
        return KITE_ENOMEM; /* the conn's close frees tc */
    }
    mbedtls_ssl_set_bio(&tc->ssl, tc, kite__tls_bio_send, kite__tls_bio_recv, NULL);
    return 0;
}

void kite__tls_pt_free(kite__pt_t *pt)
{
    free(pt->tls);
    pt->tls = NULL;
}
