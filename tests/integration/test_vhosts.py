#!/usr/bin/python3
"""Where requests arrive and who answers them: two name-based vhosts on
one port (-V), Host forms (case, port, trailing dot, absolute-form), a
unix socket (-U), IPv6 on ::1 (-i ::1), and two service threads (-t 2)
answering 200 parallel connections."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
import kitetest as kt  # noqa: E402


class Other:
    """The second vhost's docroot."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="kite-it-other-")
        self.files = {"index.html": b"<title>other.test index</title>\n",
                      "1k.txt": b"other vhost's 1k.txt\n",
                      "only-other.txt": b"only on other.test\n"}
        for k, v in self.files.items():
            with open(os.path.join(self.root, k), "wb") as f:
                f.write(v)


def host_get(port, target, host):
    with kt.Conn(port) as c:
        c.send(("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target, host)).encode())
        return c.read_response()


def test_vhosts(t, _srv):
    other = Other()
    unix_dir = tempfile.mkdtemp(prefix="kite-it-sock-")
    unix_path = os.path.join(unix_dir, "kite.sock")
    s = kt.Server(t, args=["-V", "other.test=" + other.root, "-U", unix_path, "-E", "/404.html"],
                  name="server -V -U")
    s.start()
    try:
        mine = s.docroot.files
        p = s.port
        for host in ("other.test", "OTHER.Test", "other.test:%d" % p, "other.test.",
                     "other.test:80"):
            r = host_get(p, "/1k.txt", host)
            t.eq((r.status, r.body), (200, other.files["1k.txt"]),
                 "Host: %s -> the other vhost" % host)
        r = host_get(p, "/", "other.test")
        t.eq((r.status, r.body), (200, other.files["index.html"]), "other.test /: its index")
        r = host_get(p, "/only-other.txt", "other.test")
        t.eq((r.status, r.body), (200, other.files["only-other.txt"]), "other.test's own file")
        r = host_get(p, "/only-other.txt", "localhost")
        t.eq((r.status, r.body), (404, mine["404.html"]),
             "its file is not on the default vhost (which has the -E page)")
        r = host_get(p, "/test/hello", "other.test")
        t.eq(r.status, 404, "other.test has no /test mount: 404")
        t.ok(b"404 Not Found" in r.body, "other.test's 404 is the built-in page (no -E there)")
        for host in ("localhost", "localhost:%d" % p, "127.0.0.1:%d" % p, "unknown.example",
                     "other.testx", "xother.test", "[::1]:%d" % p):
            r = host_get(p, "/1k.txt", host)
            t.eq((r.status, r.body), (200, mine["1k.txt"]), "Host: %s -> the default vhost" % host)
        r = kt.request(p, "GET", "/1k.txt", version="HTTP/1.0", host=None)
        t.eq((r.status, r.body), (200, mine["1k.txt"]), "HTTP/1.0 without Host -> default vhost")
        with kt.Conn(p) as c:
            c.send(b"GET http://other.test/1k.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
            r = c.read_response()
        t.eq((r.status, r.body), (200, other.files["1k.txt"]),
             "absolute-form: the target's authority wins over Host")
        with kt.Conn(p) as c:
            c.send(b"GET /1k.txt HTTP/1.1\r\nHost: other.test\r\n\r\n"
                   b"GET /1k.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"
                   b"GET /1k.txt HTTP/1.1\r\nHost: other.test\r\n\r\n")
            got = [c.read_response().body for _ in range(3)]
        t.eq(got, [other.files["1k.txt"], mine["1k.txt"], other.files["1k.txt"]],
             "each request on one connection picks its vhost by its own Host")

        # The unix socket.
        t.ok(os.path.exists(unix_path), "-U: the socket file exists")
        with kt.Conn(unix=unix_path) as c:
            c.send(kt.build_request("GET", "/1k.txt") + kt.build_request("GET", "/test/hello"))
            a, b = c.read_response(), c.read_response()
        t.eq([(a.status, a.body), (b.status, b.body)], [(200, mine["1k.txt"]), (200, b"hello\n")],
             "-U: GET over AF_UNIX (a file and a handler, keep-alive)")
        with kt.Conn(unix=unix_path, timeout=10) as c:
            c.send(kt.build_request("GET", "/1m.bin"))
            r = c.read_response()
        t.eq((r.status, r.body == mine["1m.bin"]), (200, True), "-U: 1 MB file over AF_UNIX")
        with kt.Conn(unix=unix_path, timeout=10) as c:
            data = os.urandom(300000)
            c.send(kt.build_request("POST", "/test/echo", body=data))
            r = c.read_response()
        t.eq((r.status, kt.fnv1a(data) in r.body.decode()), (200, True),
             "-U: POST over AF_UNIX")
        t.ok(kt.serves(p), "-U: TCP still served next to the unix socket")
    finally:
        s.stop()
    t.ok(not os.path.exists(unix_path), "-U: the socket file is removed at exit")
    shutil.rmtree(unix_dir, ignore_errors=True)
    shutil.rmtree(other.root, ignore_errors=True)


def ipv6_usable():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as so:
            so.bind(("::1", 0))
        return True
    except OSError:
        return False


def test_ipv6(t, _srv):
    if not ipv6_usable():
        t.ok(True, "# SKIP ::1 is not usable here")
        return
    with kt.Server(t, iface="::1", name="server -i ::1") as s:
        with kt.Conn(s.port, host="::1") as c:
            c.send(kt.build_request("GET", "/1k.txt", host="[::1]:%d" % s.port))
            r = c.read_response()
            t.eq((r.status, r.body), (200, s.docroot.files["1k.txt"]), "-i ::1: GET over IPv6")
            c.send(kt.build_request("GET", "/test/headers", host="[::1]:%d" % s.port))
            r = c.read_response()
            t.ok(r.status == 200 and b"h: Host: [::1]:%d\n" % s.port in r.body,
                 "-i ::1: an IPv6 Host literal is passed through", r.body)
        try:
            with kt.Conn(s.port, host="127.0.0.1", timeout=2) as c:
                c.send(kt.build_request("GET", "/"))
                c.read_response()
            refused = False
        except OSError:
            refused = True
        t.ok(refused, "-i ::1: nothing listens on 127.0.0.1 at that port")


def test_threads(t, _srv):
    if kt.single_threaded():
        t.ok(True, "several service threads # SKIP this server has one")
        return
    with kt.Server(t, args=["-t", "2"], name="server -t 2") as s:
        d = s.docroot
        ntask = len(os.listdir("/proc/%d/task" % s.pid))
        t.ok(ntask >= 2, "-t 2: the server runs two service threads", "%d tasks" % ntask)
        targets = [("/1k.txt", d.files["1k.txt"]), ("/test/hello", b"hello\n"),
                   ("/64k.bin", d.files["64k.bin"]), ("/test/thread?ms=20", b"posted\n"),
                   ("/test/delay?ms=20", b"delayed\n"), ("/test/stream?n=4&size=25",
                                                         kt.pattern(100))]
        conns = []
        t0 = time.monotonic()
        try:
            for i in range(200):
                conns.append(kt.Conn(s.port, timeout=10))
            for i, c in enumerate(conns):
                c.send(kt.build_request("GET", targets[i % len(targets)][0]))
            bad = []
            for i, c in enumerate(conns):
                r = c.read_response()
                if (r.status, r.body) != (200, targets[i % len(targets)][1]):
                    bad.append((i, r))
            # and a second round on the same connections
            for i, c in enumerate(conns):
                c.send(kt.build_request("GET", targets[(i + 1) % len(targets)][0]))
            for i, c in enumerate(conns):
                r = c.read_response()
                if (r.status, r.body) != (200, targets[(i + 1) % len(targets)][1]):
                    bad.append((i, r))
        finally:
            for c in conns:
                c.close()
        dt = time.monotonic() - t0
        t.ok(not bad, "-t 2: 200 parallel connections x 2 requests all answered right", bad[:3])
        t.ok(dt < 20, "-t 2: in %.2f s" % dt)
        t.ok(kt.serves(s.port), "-t 2: the server goes on")


def test_startup_errors(t, srv):
    # A port that is taken is an error, also for SO_REUSEPORT threads:
    # never a silent share of another process's port.
    root = srv.docroot.root
    base = ["-i", "127.0.0.1", "-r", root]
    cases = [("a taken port", ["-p", str(srv.port)] + base, "address already in use"),
             ("a taken port with -t 2", ["-p", str(srv.port)] + kt.threads_args() + base,
              "address already in use"),
             ("a missing docroot", ["-p", "0", "-i", "127.0.0.1", "-r", "/nonexistent-kite-root"],
              "no such file or directory"),
             ("a missing -V docroot", ["-p", "0", "-V", "a=/nonexistent-kite-root"] + base,
              "no such file or directory"),
             ("a bad -i address", ["-p", "0", "-r", root, "-i", "999.1.1.1"], "invalid argument"),
             ("a unix socket in a missing dir", ["-p", "0", "-U", "/nonexistent-kite-dir/s"] + base,
              "no such file or directory")]
    for name, args, msg in cases:
        p = subprocess.run([kt.server_path()] + args, capture_output=True, timeout=10,
                           stdin=subprocess.DEVNULL)
        err = p.stderr.decode("utf-8", "replace")
        bad = [m for m in kt.SANITIZER_MARKS if m in err]
        t.ok(p.returncode == 1 and b"listening" not in p.stdout and msg in err and not bad,
             "%s: exit 1 with \"%s\", nothing leaked" % (name, msg),
             "rc=%s stdout=%r\n%s" % (p.returncode, p.stdout, err[-2000:]))
    t.ok(kt.serves(srv.port), "the first server still owns its port")


if __name__ == "__main__":
    kt.run_tests([test_vhosts, test_ipv6, test_threads, test_startup_errors])
