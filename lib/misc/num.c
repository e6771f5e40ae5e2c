/*
 * Decimal formatting for the hot paths (response heads, access log
 * lines): no locale, no format string, no length to compute first.
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
