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

/* Make client conn @c, just connected, a TLS connection to @name (sent
 * as SNI and checked against the certificate; NULL: neither), verified
 * against the CA bundle @ca (NULL: the system's) with the allowances of
 * @flags (KITE_CLIENT_*). The handshake starts at once; the role's
 * on_connect follows when it ends. Returns 0 or <0 (the caller closes). */
int kite__tls_client_start(kite_conn_t *c, const char *name, const char *ca, unsigned flags);
/* Has client conn @c's handshake finished (1 for a plain conn)? */
int kite__tls_ready(const kite_conn_t *c);
/* The context's list of client settings (its tls slot): made with the
 * context, freed with the settings it holds when the context goes. */
int kite__tls_clients_init(kite_context_t *ctx, const kite_context_info_t *info);
void kite__tls_clients_free(kite_context_t *ctx);
/* @len random bytes from the shared CTR-DRBG (WebSocket masks and keys).
 * Returns 0 or KITE_EIO. */
int kite__random(void *buf, size_t len);

/* The service thread is going away: free its TLS buffers. */
void kite__tls_pt_free(kite__pt_t *pt);

#endif
