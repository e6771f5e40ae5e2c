#!/usr/bin/python3
"""Nothing outside the docroot is ever served: raw and encoded "..",
NULs, backslashes, symlinks that leave the root (file and directory,
also one swapped in after the file was cached), header injection through
redirects. Every response of the script is kept, and at the end none may
contain /etc/passwd or the secret file that sits next to the docroot."""
import os
import sys
import time

sys.dont_write_bytecode = True
import kitetest as kt  # noqa: E402

SEEN = []  # every response head and body, for the final leak scan


def raw_get(srv, target, host="localhost"):
    """Send @target exactly as given (bytes) and return the response."""
    with kt.Conn(srv.port) as c:
        c.send(b"GET " + target + b" HTTP/1.1\r\nHost: " + host.encode() + b"\r\n\r\n")
        r = c.read_response()
    SEEN.append(r.raw_head + r.body)
    return r


def test_traversal_raw(t, srv):
    cases = [
        (b"/../etc/passwd", 403),
        (b"/../../../../../../etc/passwd", 403),
        (b"/%2e%2e%2fetc%2fpasswd", 403),
        (b"/%2E%2E/etc/passwd", 403),
        (b"/%2e%2e/%2e%2e/etc/passwd", 403),
        (b"/..%2fetc%2fpasswd", 403),
        (b"/.%2e/etc/passwd", 403),
        (b"/a/../../etc/passwd", 403),
        (b"/sub/../../etc/passwd", 403),
        (b"/test/../../etc/passwd", 403),
        (b"/formtest/..%2f..%2fetc%2fpasswd", 403),
        (b"/..", 403),
        (b"/%2e%2e", 403),
        (b"/sub/../..", 403),
        (b"http://localhost/../etc/passwd", 403),
        (b"//etc/passwd", 404),
        (b"/%c0%ae%c0%ae/etc/passwd", 404),
        (b"/%252e%252e%252fetc%252fpasswd", 404),
    ]
    for target, status in cases:
        r = raw_get(srv, target)
        t.eq(r.status, status, "GET %s: %d" % (target.decode(), status))


def test_traversal_curl(t, srv):
    for path in ("/../etc/passwd", "/../../etc/passwd", "/sub/../../etc/passwd",
                 "/%2e%2e/etc/passwd"):
        p = kt.curl(["--http1.1", "--path-as-is", "-o", "-", "-w", "\n%{http_code}",
                     "http://127.0.0.1:%d%s" % (srv.port, path)])
        body, _, code = p.stdout.rpartition(b"\n")
        SEEN.append(p.stdout)
        t.eq((p.returncode, code), (0, b"403"), "curl --path-as-is %s: 403" % path)


def test_dotdot_inside(t, srv):
    d = srv.docroot
    for target, rel in ((b"/sub/../1k.txt", "1k.txt"), (b"/./1k.txt", "1k.txt"),
                        (b"/sub/./../1k.txt", "1k.txt"), (b"/sub/%2e%2e/1k.txt", "1k.txt"),
                        (b"/sub/..", "index.html"), (b"/test/../1k.txt", "1k.txt")):
        r = raw_get(srv, target)
        t.eq((r.status, r.body), (200, d.files[rel]), "GET %s stays inside: 200" % target.decode())


def test_nul(t, srv):
    for target in (b"/%00", b"/1k.txt%00.html", b"/%00../etc/passwd", b"/sub%00/"):
        r = raw_get(srv, target)
        t.eq(r.status, 400, "encoded NUL %s: 400" % target.decode())
    with kt.Conn(srv.port) as c:
        c.send(b"GET /1k.txt\x00.html HTTP/1.1\r\nHost: localhost\r\n\r\n")
        r = c.read_response()
        SEEN.append(r.raw_head + r.body)
        closed = c.wait_closed(3)
    t.eq(r.status, 400, "raw NUL in the request line: 400")
    t.ok(r.header("Connection") == "close" and closed, "raw NUL: the connection is closed")
    t.ok(kt.serves(srv.port), "the server keeps serving after a raw NUL")


def test_control_bytes(t, srv):
    for target in (b"/kite-site/%0d%0aSet-Cookie:%20x=1", b"/sub%0d%0aX-Injected:%201",
                   b"/%0a", b"/1k.txt%7f"):
        r = raw_get(srv, target)
        t.eq(r.status, 400, "encoded control bytes %s: 400" % target.decode())
        t.ok(not r.has("Set-Cookie") and not r.has("X-Injected"),
             "no header injected by %s" % target.decode())


def test_backslashes(t, srv):
    for target in (b"/..\\..\\etc\\passwd", b"/%5c..%5c..%5cetc%5cpasswd",
                   b"/sub\\..\\..\\etc\\passwd", b"/..%5c..%5cetc/passwd"):
        r = raw_get(srv, target)
        t.eq(r.status, 404, "backslashes are not separators: %s is 404" % target.decode())


def test_no_open_redirect(t, srv):
    # "//sub/" in a Location is a network-path reference to the host "sub".
    for target, loc in ((b"//sub", "/sub/"), (b"///sub?x=1", "/sub/?x=1"),
                        (b"http://localhost//sub", "/sub/"), (b"//sub/..//sub", "/sub/..//sub/"),
                        (b"/%2F%2Fsub", "/%2F%2Fsub/")):
        r = raw_get(srv, target)
        t.eq((r.status, r.header("Location")), (301, loc),
             "GET %s: Location %s (never a network-path //host)" % (target.decode(), loc))


def test_symlinks(t, srv):
    d = srv.docroot
    r = raw_get(srv, b"/link-inside.txt")
    t.eq((r.status, r.body), (200, d.files["1k.txt"]), "a symlink to a file inside: 200")
    os.symlink("sub", d.path("sub-link"))
    r = raw_get(srv, b"/sub-link/page.txt")
    t.eq((r.status, r.body), (200, d.files["sub/page.txt"]), "a symlinked dir inside: 200")
    for target in (b"/passwd-link", b"/etc-link/passwd", b"/etc-link/", b"/etc-link",
                   b"/outside-link/secret.txt", b"/outside-link/", b"/outside-link",
                   b"/etc-link/../passwd-link"):
        r = raw_get(srv, target)
        t.eq(r.status, 403, "%s leaves the docroot: 403" % target.decode())
    r = kt.request(srv.port, "HEAD", "/passwd-link")
    t.eq((r.status, r.body), (403, b""), "HEAD of a symlink outside: 403")
    r = kt.request(srv.port, "GET", "/passwd-link", headers=[("Range", "bytes=0-10")])
    SEEN.append(r.raw_head + r.body)
    t.eq(r.status, 403, "Range on a symlink outside: 403")


def test_symlink_swapped_in(t, srv):
    d = srv.docroot
    path = d.put("swap.txt", b"harmless\n")
    r = raw_get(srv, b"/swap.txt")
    t.eq((r.status, r.body), (200, b"harmless\n"), "swap.txt served while it is a file")
    time.sleep(1.2)  # past the cache's revalidation interval
    os.unlink(path)
    os.symlink("/etc/passwd", path)
    r = raw_get(srv, b"/swap.txt")
    t.eq(r.status, 403, "a cached file replaced by a symlink outside: 403")
    os.unlink(path)
    os.symlink(d.outside, path)
    time.sleep(1.2)
    r = raw_get(srv, b"/swap.txt/secret.txt")
    t.eq(r.status, 403, "a name turned into a symlinked dir outside: 403")


def test_error_doc_outside(t, _srv):
    # An error document can only be a file of the docroot.
    with kt.Server(t, args=["-E", "/passwd-link"], name="server -E symlink") as s:
        r = kt.request(s.port, "GET", "/missing")
        SEEN.append(r.raw_head + r.body)
        t.eq(r.status, 404, "-E pointing at a symlink outside: still 404")
        t.ok(b"404 Not Found" in r.body, "-E pointing outside: the built-in page instead")


def test_no_leak(t, srv):
    marks = kt.passwd_marks() + [srv.docroot.secret.strip()]
    leaks = [(m, s[:200]) for s in SEEN for m in marks if m in s]
    t.ok(len(SEEN) > 50 and not leaks,
         "none of %d responses contains /etc/passwd or the secret" % len(SEEN), leaks[:3])


if __name__ == "__main__":
    kt.run_tests([test_traversal_raw, test_traversal_curl, test_dotdot_inside, test_nul,
                  test_control_bytes, test_backslashes, test_no_open_redirect, test_symlinks, test_symlink_swapped_in,
                  test_error_doc_outside, test_no_leak])
