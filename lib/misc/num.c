/*
 * Decimal and hexadecimal formatting for the hot paths (response heads,
 * chunk sizes, access log lines): no locale, no format string.
 */
#include "misc/misc.h"

char *kite__put_u64(char *p, uint64_t v)
{
    char tmp[24];
    int n = 0;

    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10));
    while (n)
        *p++ = tmp[--n];
    return p;
}

char *kite__put_hex(char *p, uint64_t v)
{
    char tmp[16];
    int n = 0;

    do
        tmp[n++] = "0123456789abcdef"[v & 15];
    while ((v >>= 4));
    while (n)
        *p++ = tmp[--n];
    return p;
}
