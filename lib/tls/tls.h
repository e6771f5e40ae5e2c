/*
 * What core asks of lib/tls, without mbedTLS types: the TLS settings of a
 * vhost, the start of a TLS connection (its transport replaces the plain
 * one) and the per-thread buffers TLS connections share.
 */
#ifndef KITE_TLS_TLS_H
#define KITE_TLS_TLS_H

#include "core/private.h"

/* Load @info's certificate, key and chain and build @vh's TLS settings
 * (vh->tls); nothing when @info names no certificate. Errors are logged
 * with the file and mbedTLS's text. Returns 0, KITE_EINVAL, KITE_ENOENT or
 * KITE_ENOMEM. */
int kite__tls_vhost_init(kite_vhost_t *vh, const kite_vhost_info_t *info);
void kite__tls_vhost_free(kite_vhost_t *vh);

/* Make @c, just accepted on a TLS listener, a TLS connection: the
 * handshake runs on its first bytes. Returns 0 or KITE_ENOMEM. */
int kite__tls_conn_start(kite_conn_t *c);

/* Make @c, a socket we are connecting (Lua's connect with use_ssl), a TLS
 * client connection to @host (its SNI): the handshake starts now, and an
 * on_writeable follows its end. The server's certificate is not verified,
 * as LibHTTP's connect() does not. Returns 0, KITE_EIO or KITE_ENOMEM. */
int kite__tls_client_start(kite_conn_t *c, const char *host);
/* Has @c's handshake finished (1 for a plain conn)? */
int kite__tls_ready(const kite_conn_t *c);

/* The service thread is going away: free its TLS buffers. */
void kite__tls_pt_free(kite__pt_t *pt);

#endif
