/*
 * Digests and encodings that other parts of kite need (the WebSocket
 * handshake), as thin wrappers over mbedTLS: lib/tls is the only code
 * that includes mbedTLS headers.
 */
#ifndef KITE_TLS_DIGEST_H
#define KITE_TLS_DIGEST_H

#include <stddef.h>

/* SHA-1 of @len bytes into @out (20 bytes). Returns 0 or KITE_EIO. */
int kite__sha1(const void *in, size_t len, unsigned char out[20]);

/* MD5 of @len bytes into @out (16 bytes), for HTTP Digest authentication
 * (RFC 7616 "MD5", which LibHTTP's .htpasswd files hold). 0 or KITE_EIO. */
int kite__md5(const void *in, size_t len, unsigned char out[16]);

/* Base64 of @len bytes into @out (NUL-terminated). Returns the length or KITE_E2BIG. */
int kite__base64_encode(const void *in, size_t len, char *out, size_t cap);

/* Bytes of the base64 text @in (not NUL-terminated) into @out. Returns the
 * length, KITE_E2BIG or KITE_EINVAL (not base64). */
int kite__base64_decode(const char *in, size_t len, void *out, size_t cap);

#endif
