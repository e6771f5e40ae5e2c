#!/usr/bin/python3
"""Static files as a browser sees them: GET/HEAD with exact headers and
bytes, index files, the trailing-slash redirect, 403/404/405, OPTIONS,
the error-document-404 of -E, and the Server and Date headers."""
import email.utils
import os
import re
import sys
import time

sys.dont_write_bytecode = True
import kitetest as kt  # noqa: E402

ETAG_RE = re.compile(r'^(W/)?"[\x21\x23-\x7e]*"$')
IMF_RE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|"
                    r"Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$")


def lastmod(path):
    return email.utils.formatdate(os.stat(path).st_mtime, usegmt=True)


def check_file(t, srv, rel, ctype):
    d = srv.docroot
    data = d.files[rel]
    target = "/" + rel
    r = kt.request(srv.port, "GET", target)
    t.eq(r.status, 200, "GET %s: 200" % target)
    t.eq(r.header("Content-Length"), str(len(data)), "GET %s: Content-Length %d" % (target,
                                                                                    len(data)))
    t.eq(r.header("Content-Type"), ctype, "GET %s: Content-Type %s" % (target, ctype))
    t.ok(r.body == data, "GET %s: body equals the file (%d bytes)" % (target, len(data)),
         "got %d bytes" % len(r.body))
    etag = r.header("ETag")
    t.ok(etag is not None and ETAG_RE.match(etag), "GET %s: ETag is an entity-tag" % target,
         etag)
    t.eq(r.header("Last-Modified"), lastmod(d.path(rel)), "GET %s: Last-Modified is the mtime"
         % target)
    t.eq(r.header("Accept-Ranges"), "bytes", "GET %s: Accept-Ranges: bytes" % target)
    t.eq(r.header("Transfer-Encoding"), None, "GET %s: not chunked" % target)

    # HEAD: the same head, no body. The GET behind it on the same
    # connection only parses if not a byte of body followed the HEAD.
    with kt.Conn(srv.port) as c:
        c.send(kt.build_request("HEAD", target) + kt.build_request("GET", "/test/hello"))
        h = c.read_response("HEAD")
        nxt = c.read_response()
    t.eq(h.status, 200, "HEAD %s: 200" % target)
    t.eq(h.header("Content-Length"), str(len(data)), "HEAD %s: Content-Length of the file"
         % target)
    t.eq(h.header("Content-Type"), ctype, "HEAD %s: Content-Type" % target)
    t.eq(h.header("ETag"), etag, "HEAD %s: same ETag as GET" % target)
    t.eq((nxt.status, nxt.body), (200, b"hello\n"), "HEAD %s: no body bytes follow the head"
         % target)


def test_files(t, srv):
    check_file(t, srv, "1k.txt", "text/plain; charset=utf-8")
    check_file(t, srv, "64k.bin", "application/octet-stream")
    check_file(t, srv, "1m.bin", "application/octet-stream")
    check_file(t, srv, "index.html", "text/html; charset=utf-8")
    check_file(t, srv, "data.json", "application/json; charset=utf-8")
    check_file(t, srv, "style.css", "text/css; charset=utf-8")


def test_query_ignored(t, srv):
    r = kt.request(srv.port, "GET", "/1k.txt?v=1&x=%20")
    t.eq((r.status, r.body), (200, srv.docroot.files["1k.txt"]), "a query on a file is ignored")


def test_index(t, srv):
    d = srv.docroot
    r = kt.request(srv.port, "GET", "/")
    t.eq((r.status, r.body), (200, d.files["index.html"]), "GET / serves index.html")
    t.eq(r.header("Content-Type"), "text/html; charset=utf-8", "GET /: text/html")
    r = kt.request(srv.port, "GET", "/sub/")
    t.eq((r.status, r.body), (200, d.files["sub/index.html"]), "GET /sub/ serves sub/index.html")
    r = kt.request(srv.port, "GET", "/sub/page.txt")
    t.eq((r.status, r.body), (200, d.files["sub/page.txt"]), "GET /sub/page.txt")


def test_slash_redirect(t, srv):
    for target, loc in (("/sub", "/sub/"), ("/sub?x=1&y=two", "/sub/?x=1&y=two"),
                        ("/su%62", "/su%62/"), ("/dir-without-index", "/dir-without-index/")):
        r = kt.request(srv.port, "GET", target)
        t.eq(r.status, 301, "GET %s: 301" % target)
        t.eq(r.header("Location"), loc, "GET %s: Location %s" % (target, loc))
        t.eq(int(r.header("Content-Length") or -1), len(r.body),
             "GET %s: redirect body matches its Content-Length" % target)


def test_forbidden_dir(t, srv):
    r = kt.request(srv.port, "GET", "/dir-without-index/")
    t.eq(r.status, 403, "directory without an index: 403")
    t.ok(b"readme.txt" not in r.body, "no directory listing in the 403")
    r = kt.request(srv.port, "GET", "/dir-without-index/readme.txt")
    t.eq((r.status, r.body), (200, srv.docroot.files["dir-without-index/readme.txt"]),
         "a file in a directory without index is served")


def test_not_found(t, srv):
    t0 = time.monotonic()
    r = kt.request(srv.port, "GET", "/no-such-file.txt")
    dt = time.monotonic() - t0
    t.eq(r.status, 404, "missing file: 404")
    t.ok(dt < 1.0, "missing file: answered in under 1 s", "took %.3f s" % dt)
    t.eq(r.header("Content-Type"), "text/html; charset=utf-8", "404 page is text/html")
    t.ok(b"404 Not Found" in r.body, "404 page says 404 Not Found", r.body)
    t.eq(int(r.header("Content-Length") or -1), len(r.body), "404 body matches Content-Length")
    r = kt.request(srv.port, "GET", "/sub/missing/deeper.txt")
    t.eq(r.status, 404, "missing file below a directory: 404")
    r = kt.request(srv.port, "GET", "/1k.txt/more")
    t.eq(r.status, 404, "a path below a file: 404")
    r = kt.request(srv.port, "HEAD", "/no-such-file.txt")
    t.eq((r.status, r.body), (404, b""), "HEAD of a missing file: 404 without body")


def test_percent_names(t, srv):
    d = srv.docroot
    for target, rel in (("/a%20b.txt", "a b.txt"), ("/%C3%A9.txt", "\u00e9.txt"),
                        ("/%c3%a9.txt", "\u00e9.txt"), ("/1k%2Etxt", "1k.txt"),
                        ("/%31k.txt", "1k.txt"), ("/sub%2Fpage.txt", "sub/page.txt")):
        r = kt.request(srv.port, "GET", target)
        t.eq((r.status, r.body), (200, d.files[rel]), "GET %s serves %r" % (target, rel))
    r = kt.request(srv.port, "GET", "/a%2")
    t.eq(r.status, 400, "a truncated escape: 400")
    r = kt.request(srv.port, "GET", "/a%zz.txt")
    t.eq(r.status, 400, "a bad escape: 400")


def test_methods(t, srv):
    for m in ("POST", "PUT", "DELETE", "PATCH"):
        r = kt.request(srv.port, m, "/1k.txt", body=b"x" if m != "DELETE" else None)
        t.eq(r.status, 405, "%s to a file: 405" % m)
        t.eq(r.header("Allow"), "GET, HEAD, OPTIONS", "%s to a file: Allow lists the methods" % m)
    with kt.Conn(srv.port) as c:
        c.send(kt.build_request("OPTIONS", "/1k.txt") + kt.build_request("GET", "/test/hello"))
        r = c.read_response("OPTIONS")
        nxt = c.read_response()
    t.eq(r.status, 204, "OPTIONS on a file: 204")
    t.eq(r.header("Allow"), "GET, HEAD, OPTIONS", "OPTIONS on a file: Allow")
    t.eq(r.header("Content-Length"), None, "204 has no Content-Length (RFC 9110 8.6)")
    t.eq((nxt.status, nxt.body), (200, b"hello\n"), "204 is followed by no body bytes")
    with kt.Conn(srv.port) as c:
        c.send(kt.build_request("OPTIONS", "*") + kt.build_request("GET", "/test/hello"))
        r = c.read_response("OPTIONS")
        nxt = c.read_response()
    t.eq(r.status, 200, "OPTIONS *: 200")
    t.eq(r.header("Allow"), "GET, HEAD, POST, PUT, DELETE, OPTIONS", "OPTIONS *: Allow")
    t.eq(r.header("Content-Length"), "0", "OPTIONS *: Content-Length 0")
    t.eq((nxt.status, nxt.body), (200, b"hello\n"), "OPTIONS *: connection stays usable")
    r = kt.request(srv.port, "GET", "*")
    t.eq(r.status, 400, "GET * (asterisk-form is for OPTIONS only): 400")


def test_redirect_mount(t, srv):
    r = kt.request(srv.port, "GET", "/kite-site")
    t.eq((r.status, r.header("Location")), (301, "https://github.com/"), "/kite-site: 301")
    r = kt.request(srv.port, "GET", "/kite-site/kite?tab=1")
    t.eq((r.status, r.header("Location")), (301, "https://github.com/kite?tab=1"),
         "/kite-site/kite?tab=1: 301 keeps the rest and the query")
    # The rest of the path is decoded for routing; the Location must carry
    # it encoded again, or an escaped '?' or '#' changes the target.
    for rest, want in (("a%20b", "a%20b"), ("a%3Fb?q=1", "a%3Fb?q=1"), ("%23frag", "%23frag"),
                       ("%C3%A9", "%C3%A9"), ("a%22b%3C", "a%22b%3C"), ("50%25", "50%25"),
                       ("a,b;c=d:e@f/~x", "a,b;c=d:e@f/~x"), ("x/../y", "y")):
        r = kt.request(srv.port, "GET", "/kite-site/" + rest)
        t.eq((r.status, r.header("Location")), (301, "https://github.com/" + want),
             "/kite-site/%s: Location https://github.com/%s" % (rest, want))


def test_server_date(t, srv):
    r = kt.request(srv.port, "GET", "/1k.txt")
    t.eq(r.header("Server"), "kite", "Server: kite")
    date = r.header("Date")
    t.ok(date is not None and IMF_RE.match(date), "Date is an IMF-fixdate", date)
    when = email.utils.parsedate_to_datetime(date).timestamp() if date else 0
    t.ok(abs(when - time.time()) < 5, "Date is now", date)
    r = kt.request(srv.port, "GET", "/nope")
    t.ok(r.has("Date") and r.header("Server") == "kite", "error responses carry Server and Date")


def test_error_document(t, _srv):
    with kt.Server(t, args=["-E", "/404.html"], name="server -E") as s:
        doc = s.docroot.files["404.html"]
        r = kt.request(s.port, "GET", "/no/such/thing")
        t.eq(r.status, 404, "-E: missing file is still 404")
        t.eq(r.body, doc, "-E: body is the custom 404 document")
        t.eq(r.header("Content-Type"), "text/html; charset=utf-8", "-E: document's type")
        t.eq(r.header("Content-Length"), str(len(doc)), "-E: document's length")
        r = kt.request(s.port, "GET", "/test/no-such-endpoint")
        t.eq((r.status, r.body), (404, doc), "-E: a callback mount's 404 uses the document too")
        with kt.Conn(s.port) as c:
            c.send(kt.build_request("HEAD", "/missing") + kt.build_request("GET", "/missing2"))
            h = c.read_response("HEAD")
            g = c.read_response()
        t.eq((h.status, h.header("Content-Length")), (404, str(len(doc))),
             "-E: HEAD of a missing file: 404 with the document's length")
        t.eq((g.status, g.body), (404, doc), "-E: keep-alive goes on after the 404 document")
        r = kt.request(s.port, "GET", "/1k.txt")
        t.eq((r.status, r.body), (200, s.docroot.files["1k.txt"]), "-E: files still served")
        r = kt.request(s.port, "GET", "/dir-without-index/")
        t.eq(r.status, 403, "-E: a 403 stays a 403")


def fetch_all(port, d, names):
    bad = []
    with kt.Conn(port) as c:
        for name in names:
            c.send(kt.build_request("GET", "/" + name))
            r = c.read_response()
            if (r.status, r.body) != (200, d.files[name]):
                bad.append((name, r.status))
    return bad


def test_many_files_few_fds(t, _srv):
    # The open-file cache keeps large files open. With 256 descriptors it
    # must leave room for connections and for opening more files.
    with kt.Server(t, nofile=256, name="server with 256 fds") as s:
        d = s.docroot
        names = ["many/f%03d.bin" % i for i in range(300)]
        for i, name in enumerate(names):
            d.put(name, b"%03d" % i * 11000)  # 33 KB: kept open, not in memory
        # Connections first: the files then run out of descriptors, and
        # the cache must give its own back.
        conns = []
        try:
            for _ in range(140):
                c = kt.Conn(s.port)
                c.send(kt.build_request("GET", "/test/hello"))
                c.read_response()
                conns.append(c)
            bad = fetch_all(s.port, d, names)
            t.ok(not bad, "140 connections open, then 300 large files: all 200", bad[:5])
        finally:
            for c in conns:
                c.close()
        bad = fetch_all(s.port, d, names[::-1])
        t.ok(not bad, "300 large files in turn under a 256 fd limit: all 200", bad[:5])
        nfd = len(os.listdir("/proc/%d/fd" % s.pid))
        t.ok(nfd <= 160, "the file cache holds at most half the descriptors", "%d fds" % nfd)
        got = [kt.serves(s.port) for _ in range(5)]
        t.eq(got, [True] * 5, "new connections are still accepted")


if __name__ == "__main__":
    kt.run_tests([test_files, test_query_ignored, test_index, test_slash_redirect,
                  test_forbidden_dir, test_not_found, test_percent_names, test_methods,
                  test_redirect_mount, test_server_date, test_error_document,
                  test_many_files_few_fds])
