/*
 * A redirect's Location (lib/client/connect.c parse_location): what the
 * next connection of a client that follows a 3xx goes to. An absolute URL
 * replaces scheme (TLS on or off), address, port and path and forgets the
 * old Host and SNI; a bracketed IPv6 address loses its brackets; a
 * relative one keeps everything but the path; anything else is refused.
 */
#include "../../../lib/client/connect.c"

#include "tap.h"

static kite_client_info_t base(void)
{
    kite_client_info_t in = KITE_CLIENT_INFO_INIT(.address = "old.example", .port = 8080,
                                                  .path = "/old", .host = "old.example:8080",
                                                  .sni = "old.example", .flags = KITE_CLIENT_TLS);
    return in;
}

/* Location values are copied with room for the byte the path split adds,
 * as kite__client_redirect does. */
static int parse(const char *loc, kite_client_info_t *in, char *buf)
{
    strcpy(buf, loc);
    return parse_location(buf, in);
}

int main(void)
{
    kite_client_info_t in;
    char buf[256];

    in = base();
    tap_is_int(parse("/next?q=1", &in, buf), 0, "a relative Location");
    tap_is_str(in.path, "/next?q=1", "takes the path");
    tap_is_str(in.address, "old.example", "keeps the address");
    tap_is_int(in.port, 8080, "the port");
    tap_ok(in.flags & KITE_CLIENT_TLS, "and TLS");
    tap_is_str(in.host, "old.example:8080", "and the Host");

    in = base();
    tap_is_int(parse("http://new.example:81/a/b", &in, buf), 0, "an absolute http Location");
    tap_is_str(in.address, "new.example", "its address");
    tap_is_int(in.port, 81, "its port");
    tap_is_str(in.path, "/a/b", "its path");
    tap_ok(!(in.flags & KITE_CLIENT_TLS), "http turns TLS off");
    tap_ok(!in.host && !in.sni, "the old Host and SNI are forgotten");

    in = base();
    in.flags = 0;
    tap_is_int(parse("https://[::1]:8443/x", &in, buf), 0, "https with an IPv6 address");
    tap_is_str(in.address, "::1", "without its brackets");
    tap_is_int(in.port, 8443, "its port");
    tap_ok(in.flags & KITE_CLIENT_TLS, "https turns TLS on");
    tap_is_str(in.path, "/x", "its path");

    in = base();
    tap_is_int(parse("https://bare.example", &in, buf), 0, "no path");
    tap_is_str(in.path, "/", "is /");
    tap_is_int(in.port, 0, "no port: the scheme's default (0)");

    in = base();
    tap_is_int(parse("ftp://x/", &in, buf), KITE_EINVAL, "another scheme is refused");
    tap_is_int(parse("http:///nohost", &in, buf), KITE_EINVAL, "an empty host is refused");
    tap_is_int(parse("next", &in, buf), KITE_EINVAL, "a relative path without / is refused");
    return tap_done();
}
