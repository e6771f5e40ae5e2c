/*
 * Unit tests for lib/misc/num.c: decimal and hexadecimal numbers for
 * heads and chunk sizes, against printf's answer at the edges (0, one
 * digit, each power of the base and one less, the largest value).
 */
#include <inttypes.h>
#include <stdio.h>

#include "misc/num.c"
#include "tap.h"

static void check(uint64_t v)
{
    char got[32], want[32], *e;

    e = kite__put_u64(got, v);
    *e = '\0';
    snprintf(want, sizeof(want), "%" PRIu64, v);
    tap_is_str(got, want, "decimal %s", want);
    e = kite__put_hex(got, v);
    *e = '\0';
    snprintf(want, sizeof(want), "%" PRIx64, v);
    tap_is_str(got, want, "hexadecimal %s", want);
}

int main(void)
{
    uint64_t p;

    check(0);
    check(9);
    check(0xab);
    for (p = 10; p < UINT64_MAX / 10; p *= 10) {
        check(p);
        check(p - 1);
    }
    for (p = 16; p && p < UINT64_MAX / 16; p *= 16) {
        check(p);
        check(p - 1);
    }
    check(UINT64_MAX);
    return tap_done();
}
