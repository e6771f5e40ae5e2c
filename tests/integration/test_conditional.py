#!/usr/bin/python3
"""Validators and ranges on static files: If-None-Match, If-Modified-Since
(304 without a body), Range (206/416, multi-range answered in full),
If-Range, a changed file getting a new ETag, and Cache-Control from -m."""
import email.utils
import os
import sys
import time

sys.dont_write_bytecode = True
import kitetest as kt  # noqa: E402


def get(srv, target, headers=(), method="GET"):
    return kt.request(srv.port, method, target, headers=list(headers))


def get_then_hello(srv, target, headers, method="GET"):
    """@target then /test/hello on one connection: the second response
    parses only if the first sent no stray body bytes."""
    with kt.Conn(srv.port) as c:
        c.send(kt.build_request(method, target, list(headers)) +
               kt.build_request("GET", "/test/hello"))
        r = c.read_response(method)
        nxt = c.read_response()
    return r, (nxt.status, nxt.body) == (200, b"hello\n")


def validators(srv, rel):
    r = get(srv, "/" + rel)
    return r.header("ETag"), r.header("Last-Modified")


def check_304(t, srv, rel, headers, name):
    etag, _ = validators(srv, rel)
    r, clean = get_then_hello(srv, "/" + rel, headers)
    t.eq(r.status, 304, "%s: 304" % name)
    t.ok(clean, "%s: 304 carries no body" % name)
    t.eq(r.header("ETag"), etag, "%s: 304 repeats the ETag" % name)
    t.eq((r.header("Content-Length"), r.header("Transfer-Encoding")), (None, None),
         "%s: 304 has no body framing" % name)


def check_200(t, srv, rel, headers, name):
    r = get(srv, "/" + rel, headers)
    t.eq((r.status, r.body == srv.docroot.files[rel]), (200, True), "%s: 200 with the file" % name)


def test_if_none_match(t, srv):
    etag, _ = validators(srv, "1k.txt")
    check_304(t, srv, "1k.txt", [("If-None-Match", etag)], "If-None-Match exact")
    check_304(t, srv, "1k.txt", [("If-None-Match", '"nope", %s, "other"' % etag)],
              "If-None-Match in a list")
    check_304(t, srv, "1k.txt", [("If-None-Match", '"nope",%s' % etag)],
              "If-None-Match in a list without spaces")
    check_304(t, srv, "1k.txt", [("If-None-Match", "W/" + etag)], "If-None-Match W/ (weak compare)")
    check_304(t, srv, "1k.txt", [("If-None-Match", "*")], "If-None-Match *")
    check_304(t, srv, "1m.bin", [("If-None-Match", validators(srv, "1m.bin")[0])],
              "If-None-Match on a large file")
    check_200(t, srv, "1k.txt", [("If-None-Match", '"nope"')], "If-None-Match other tag")
    check_200(t, srv, "1k.txt", [("If-None-Match", etag[:-1] + 'x"')], "If-None-Match near miss")
    check_200(t, srv, "1k.txt", [("If-None-Match", etag[:-1] + '0"')],
              "If-None-Match with the tag as a prefix")
    r = get(srv, "/1k.txt", [("If-None-Match", etag)], method="HEAD")
    t.eq(r.status, 304, "HEAD with a matching If-None-Match: 304")


def test_if_modified_since(t, srv):
    _, lm = validators(srv, "1k.txt")
    mtime = os.stat(srv.docroot.path("1k.txt")).st_mtime
    later = email.utils.formatdate(mtime + 86400, usegmt=True)
    earlier = email.utils.formatdate(mtime - 86400, usegmt=True)
    check_304(t, srv, "1k.txt", [("If-Modified-Since", lm)], "If-Modified-Since equal")
    check_304(t, srv, "1k.txt", [("If-Modified-Since", later)], "If-Modified-Since later")
    check_200(t, srv, "1k.txt", [("If-Modified-Since", earlier)], "If-Modified-Since earlier")
    check_200(t, srv, "1k.txt", [("If-Modified-Since", "not a date")], "If-Modified-Since junk")
    check_200(t, srv, "1k.txt", [("If-None-Match", '"nope"'), ("If-Modified-Since", lm)],
              "If-None-Match wins over If-Modified-Since (RFC 9110 13.1.3)")


def test_ranges(t, srv):
    d = srv.docroot
    small = d.files["1k.txt"]
    big = d.files["1m.bin"]
    n, nb = len(small), len(big)
    cases = [
        ("1k.txt", "bytes=0-99", 0, 99, n),
        ("1k.txt", "bytes=100-", 100, n - 1, n),
        ("1k.txt", "bytes=-100", n - 100, n - 1, n),
        ("1k.txt", "bytes=1000-5000", 1000, n - 1, n),
        ("1k.txt", "bytes=-5000", 0, n - 1, n),
        ("1k.txt", "bytes=1023-1023", 1023, 1023, n),
        ("1m.bin", "bytes=1000-1999", 1000, 1999, nb),
        ("1m.bin", "bytes=-100", nb - 100, nb - 1, nb),
        ("1m.bin", "bytes=524288-", 524288, nb - 1, nb),
    ]
    for rel, rng, a, b, size in cases:
        data = d.files[rel]
        r, clean = get_then_hello(srv, "/" + rel, [("Range", rng)])
        name = "%s Range %s" % (rel, rng)
        t.eq(r.status, 206, "%s: 206" % name)
        t.eq(r.header("Content-Range"), "bytes %d-%d/%d" % (a, b, size),
             "%s: Content-Range" % name)
        t.eq(r.header("Content-Length"), str(b - a + 1), "%s: Content-Length" % name)
        t.ok(r.body == data[a:b + 1], "%s: the right bytes" % name,
             "got %d bytes" % len(r.body))
        t.ok(clean, "%s: keep-alive goes on" % name)
    for rel, rng in (("1k.txt", "bytes=1024-"), ("1k.txt", "bytes=2000-3000"),
                     ("1m.bin", "bytes=%d-" % nb), ("1k.txt", "bytes=-0")):
        size = len(d.files[rel])
        r, clean = get_then_hello(srv, "/" + rel, [("Range", rng)])
        name = "%s Range %s" % (rel, rng)
        t.eq(r.status, 416, "%s: 416" % name)
        t.eq(r.header("Content-Range"), "bytes */%d" % size, "%s: Content-Range bytes */N" % name)
        t.ok(clean, "%s: keep-alive goes on" % name)
    d.put("empty.txt", b"")
    r = get(srv, "/empty.txt")
    t.eq((r.status, r.header("Content-Length"), r.body), (200, "0", b""), "an empty file: 200, 0")
    for rng in ("bytes=0-", "bytes=-5", "bytes=0-0"):
        r = get(srv, "/empty.txt", [("Range", rng)])
        t.eq((r.status, r.header("Content-Range")), (416, "bytes */0"),
             "an empty file with Range %s: 416 bytes */0" % rng)
    for rng in ("bytes=0-99,200-299", "bytes=0-0,-1", "items=0-5", "bytes=5-2", "bytes=abc"):
        r = get(srv, "/1k.txt", [("Range", rng)])
        t.eq((r.status, r.body == small, r.header("Content-Range")), (200, True, None),
             "Range %s: 200 with the whole file" % rng)
    r = get(srv, "/1k.txt", [("Range", "bytes=0-9")], method="HEAD")
    t.eq((r.status, r.header("Content-Length"), r.body), (206, "10", b""),
         "HEAD with Range: 206 head without body")


def test_if_range(t, srv):
    d = srv.docroot
    etag, lm = validators(srv, "1k.txt")
    r = get(srv, "/1k.txt", [("Range", "bytes=0-9"), ("If-Range", etag)])
    t.eq((r.status, r.body), (206, d.files["1k.txt"][:10]), "If-Range with the ETag: 206")
    r = get(srv, "/1k.txt", [("Range", "bytes=0-9"), ("If-Range", lm)])
    t.eq((r.status, r.body), (206, d.files["1k.txt"][:10]), "If-Range with the date: 206")
    for ifr in ('"other"', "W/" + etag, "Mon, 01 Jan 2001 00:00:00 GMT"):
        r = get(srv, "/1k.txt", [("Range", "bytes=0-9"), ("If-Range", ifr)])
        t.eq((r.status, r.body == d.files["1k.txt"]), (200, True),
             "If-Range %s does not match: 200 with the whole file" % ifr)


def test_changed_file(t, srv):
    d = srv.docroot
    path = d.put("changing.txt", b"first version\n")
    r1 = get(srv, "/changing.txt")
    t.eq((r1.status, r1.body), (200, b"first version\n"), "changing.txt: first version")
    time.sleep(1.2)  # the file cache revalidates at most once a second
    with open(path, "wb") as f:
        f.write(b"second, longer version\n")
    st = os.stat(path)
    os.utime(path, (st.st_atime, st.st_mtime + 10))
    r2 = get(srv, "/changing.txt", [("If-None-Match", r1.header("ETag"))])
    t.eq((r2.status, r2.body), (200, b"second, longer version\n"),
         "a changed file: the old ETag no longer matches, the new bytes are served")
    t.ok(r2.header("ETag") not in (None, r1.header("ETag")), "a changed file has a new ETag",
         (r1.header("ETag"), r2.header("ETag")))
    t.eq(r2.header("Last-Modified"), email.utils.formatdate(st.st_mtime + 10, usegmt=True),
         "a changed file has the new Last-Modified")
    os.unlink(path)
    time.sleep(1.2)
    r3 = get(srv, "/changing.txt")
    t.eq(r3.status, 404, "a deleted file: 404 once the cache rechecked")


def test_cache_control(t, srv):
    r = get(srv, "/1k.txt")
    t.eq(r.header("Cache-Control"), None, "no -m: no Cache-Control")
    with kt.Server(t, args=["-m", "3600"], name="server -m 3600") as s:
        r = kt.request(s.port, "GET", "/1k.txt")
        t.eq((r.status, r.header("Cache-Control")), (200, "private, max-age=3600"),
             "-m 3600: Cache-Control: private, max-age=3600")
        r = kt.request(s.port, "GET", "/1k.txt", headers=[("If-None-Match", r.header("ETag"))])
        t.eq((r.status, r.header("Cache-Control")), (304, "private, max-age=3600"),
             "-m 3600: a 304 carries Cache-Control too (RFC 9110 15.4.5)")
        r = kt.request(s.port, "GET", "/1k.txt", headers=[("Range", "bytes=0-1")])
        t.eq((r.status, r.header("Cache-Control")), (206, "private, max-age=3600"),
             "-m 3600: a 206 carries Cache-Control")
        r = kt.request(s.port, "GET", "/test/hello")
        t.eq((r.status, r.header("Cache-Control")), (200, None),
             "-m applies to the file mount only")


if __name__ == "__main__":
    kt.run_tests([test_if_none_match, test_if_modified_since, test_ranges, test_if_range,
                  test_changed_file, test_cache_control])
