/*
 * SHA-1, MD5 (HTTP Digest authentication) and base64 over mbedTLS (2.28
 * and 3.x: the SHA-1 and MD5 entry points were renamed in 3.0, so pick by
 * version).
 */
#include <mbedtls/base64.h>
#include <mbedtls/md5.h>
#include <mbedtls/sha1.h>
#include <mbedtls/version.h>

#include "kite.h"
#include "tls/digest.h"

int kite__sha1(const void *in, size_t len, unsigned char out[20])
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    return mbedtls_sha1(in, len, out) ? KITE_EIO : 0;
#else
    return mbedtls_sha1_ret(in, len, out) ? KITE_EIO : 0;
#endif
}

int kite__md5(const void *in, size_t len, unsigned char out[16])
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    return mbedtls_md5(in, len, out) ? KITE_EIO : 0;
#else
    return mbedtls_md5_ret(in, len, out) ? KITE_EIO : 0;
#endif
}

int kite__base64_encode(const void *in, size_t len, char *out, size_t cap)
{
    size_t olen = 0;

    if (mbedtls_base64_encode((unsigned char *)out, cap, &olen, in, len))
        return KITE_E2BIG;
    return (int)olen;
}

int kite__base64_decode(const char *in, size_t len, void *out, size_t cap)
{
    size_t olen = 0;
    int r = mbedtls_base64_decode(out, cap, &olen, (const unsigned char *)in, len);

    if (r == MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL)
        return KITE_E2BIG;
    return r ? KITE_EINVAL : (int)olen;
}
