/*
 * TLS helpers for applications. A vhost is made a TLS vhost by its
 * tls_cert / tls_key (kite/vhost.h); this header has what else an
 * application may want around that.
 */
#ifndef KITE_TLS_H
#define KITE_TLS_H

/**
 * kite_tls_selfsigned_create() - write a new ECDSA P-256 private key and a
 * self-signed certificate for @name (its CN and DNS subjectAltName, plus
 * the loopback addresses 127.0.0.1 and ::1), valid from a day ago for
 * @days days, as PEM to @cert_path and @key_path (mode 0600). Each file is
 * written under a temporary name and renamed into place. For tests and
 * development: browsers and curl accept it only when told to trust it.
 * Returns 0, KITE_EINVAL (a name over 200 bytes), KITE_EIO (a file could
 * not be written: errno-style code when known) or KITE_ENOMEM.
 */
KITE_EXTERN int kite_tls_selfsigned_create(const char *cert_path, const char *key_path,
                                           const char *name, unsigned days);

/**
 * kite_vhost_tls_reload() - read @vh's certificate, key and chain again,
 * from @cert, @key and @ca where given (they become the vhost's paths),
 * else from the paths it has. New handshakes use them; connections already
 * open keep what they began with. On failure (an unreadable file, a key
 * that does not match, reported in the log with the file) the current
 * ones stay. Session tickets and the session cache start afresh. Any
 * thread, while @vh is live. Returns 0, KITE_EINVAL (not a TLS vhost, or
 * the files) or KITE_ENOMEM.
 */
KITE_EXTERN int kite_vhost_tls_reload(kite_vhost_t *vh, const char *cert, const char *key,
                                      const char *ca);

/**
 * kite_conn_tls_peer() - the subject of the certificate the client
 * presented ("CN=alice, O=example"), NUL-terminated into @buf. Returns its
 * length, KITE_ENOTSUP (not a TLS connection), KITE_ENOENT (no client
 * certificate) or KITE_E2BIG (@len too small).
 */
KITE_EXTERN int kite_conn_tls_peer(const kite_conn_t *c, char *buf, size_t len);

#endif
