/*
 * Incremental UTF-8 validation for WebSocket text (RFC 3629: no
 * overlongs, no surrogates, nothing above U+10FFFF). The state carries
 * across calls, so a message can be checked piece by piece however its
 * bytes were split; a message is valid when its last piece leaves the
 * state at KITE__UTF8_ACCEPT.
 */
#include "misc/utf8.h"

/*
 * The state packs the number of continuation bytes still expected (bits
 * 0-1) with the allowed range of the next byte (bits 2-3): 0 any
 * 80..BF, 1 A0..BF (after E0), 2 80..9F (after ED), 3 90..BF (after
 * F0), 4 80..8F (after F4).
 */
uint32_t kite__utf8_check(uint32_t state, const unsigned char *p, size_t len)
{
    uint32_t need = state & 3, range = state >> 2;
    size_t i;

    if (state == KITE__UTF8_REJECT)
        return state;
    for (i = 0; i < len; i++) {
        unsigned c = p[i];

        if (!need) {
            if (c < 0x80)
                continue;
            if (c >= 0xc2 && c <= 0xdf) {
                need = 1;
                range = 0;
            } else if (c >= 0xe0 && c <= 0xef) {
                need = 2;
                range = c == 0xe0 ? 1 : c == 0xed ? 2 : 0;
            } else if (c >= 0xf0 && c <= 0xf4) {
                need = 3;
                range = c == 0xf0 ? 3 : c == 0xf4 ? 4 : 0;
            } else {
                return KITE__UTF8_REJECT;
            }
            continue;
        }
        switch (range) {
        case 1:
            if (c < 0xa0 || c > 0xbf)
                return KITE__UTF8_REJECT;
            break;
        case 2:
            if (c < 0x80 || c > 0x9f)
                return KITE__UTF8_REJECT;
            break;
        case 3:
            if (c < 0x90 || c > 0xbf)
                return KITE__UTF8_REJECT;
            break;
        case 4:
            if (c < 0x80 || c > 0x8f)
                return KITE__UTF8_REJECT;
            break;
        default:
            if (c < 0x80 || c > 0xbf)
                return KITE__UTF8_REJECT;
        }
        range = 0;
        need--;
    }
    return need | (range << 2);
}
