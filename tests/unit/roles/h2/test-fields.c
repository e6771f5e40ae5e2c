/*
 * An HTTP/2 stream's request fields (lib/roles/h2/stream.c
 * kite__h2s_header), which become an HTTP/1.1 head for the h1 parser:
 * pseudo-headers are kept apart (a repeated one replaces the first),
 * :authority stands for Host so a Host field is dropped, other fields
 * become "name: value" lines in order, and past twice max_header_size
 * the stream is marked too big (431) instead of growing.
 */
#include "../../../../lib/roles/h2/stream.c"

#include "tap.h"

static int field(kite__h2s_t *s, const char *name, const char *value)
{
    return kite__h2s_header(s, (const uint8_t *)name, strlen(name), (const uint8_t *)value,
                            strlen(value));
}

int main(void)
{
    static struct kite_context_s ctx;
    static kite__pt_t pt;
    kite__h2s_t s;
    char big[80];

    ctx.info.max_header_size = 64; /* fields may use 128 bytes */
    pt.ctx = &ctx;
    memset(&s, 0, sizeof(s));
    s.c.pt = &pt;

    field(&s, ":method", "POST");
    field(&s, ":path", "/first");
    field(&s, ":path", "/a?b=c");
    field(&s, ":authority", "example.test");
    field(&s, ":scheme", "https");
    tap_is_str(s.method, "POST", ":method kept");
    tap_is_str(s.path, "/a?b=c", "a repeated :path replaces the first");
    tap_is_str(s.authority, "example.test", ":authority kept");
    tap_is_int(s.head_len, 0, "pseudo-headers are not header lines");
    field(&s, "accept", "*/*");
    field(&s, "host", "other.test");
    field(&s, "x-b", "2");
    tap_ok(s.head && s.head_len == strlen("accept: */*\r\nx-b: 2\r\n") &&
               !memcmp(s.head, "accept: */*\r\nx-b: 2\r\n", s.head_len),
           "fields become lines in order, Host dropped for :authority");
    tap_ok(!s.too_big, "within the limit");
    memset(big, 'v', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    field(&s, "x-big", big);
    tap_ok(!s.too_big, "up to twice max_header_size (%zu bytes)", s.head_len);
    field(&s, "x-more", big);
    tap_ok(s.too_big, "past it: too big (431)");
    tap_ok(s.head_len <= 128, "and the head did not grow past the limit (%zu)", s.head_len);

    {
        kite__h2s_t t;
        memset(&t, 0, sizeof(t));
        t.c.pt = &pt;
        field(&t, "host", "h.test");
        tap_ok(t.head_len == strlen("host: h.test\r\n"), "without :authority, Host is a field");
        free(t.head);
    }
    free(s.head);
    free(s.method);
    free(s.path);
    free(s.authority);
    free(s.protocol);
    return tap_done();
}
