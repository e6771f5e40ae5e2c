#!/usr/bin/python3
"""CGI (RFC 3875) through kite-test-server -G (tests/data/cgi mounted at
/cgi-bin, cgi-timeout 4 s): every meta-variable exact (shell and perl),
Status and Location (local redirect, 302), chunked output with the
connection kept, Content-Length output, a 10 MB and a chunked POST body
reaching stdin intact, a script slow to read stdin, a client slow to read
a 32 MB output (bounded server memory), cgi-timeout killing the script's
whole process group, a crash or no header -> 502 at once, a missing
interpreter -> 500 with a log line, a missing script -> 404, NPH, stderr
in the log, 100 concurrent requests, and no zombie children at the end.
SSI exec (-S, pages written to a temporary directory, mounted at /ssi
with ssi-exec and at /ssi-noexec without): the command's output in its
place, its working directory the page's, a disabled exec not run (it
would have created a file), a slow command not stalling the (single)
service thread, and cgi-timeout cutting a command short.

usage: test_cgi.py SERVER (kite-test-server or kite-test-extpoll)
"""
import concurrent.futures
import hashlib
import os
import shutil
import socket
import struct
import sys
import tempfile
import time

sys.dont_write_bytecode = True
import kitetest as kt  # noqa: E402

CGI_DIR = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data",
                                        "cgi"))
TIMEOUT = 4
SSI_DIR = os.path.realpath(tempfile.mkdtemp(prefix="kite-ssi-exec-"))


def env_of(body):
    out = {}
    for line in body.decode().splitlines():
        k, _, v = line.partition("=")
        out[k] = v
    return out


def get(srv, target, **kw):
    return kt.request(srv.port, "GET", target, timeout=30, **kw)


def env_request(srv, script, method="GET", body=None, headers=()):
    target = "/cgi-bin/%s/a/b%%20c?x=1&y=%%41" % script
    hdrs = [("X-Custom", "v1"), ("X-Custom", "v2"), ("Proxy", "http://evil.example/")]
    hdrs += list(headers)
    with kt.Conn(srv.port, timeout=30) as c:
        c.send(kt.build_request(method, target, hdrs, body))
        r = c.read_response(method)
        port = c.sock.getsockname()[1]
    return r, port


def expected_env(srv, script, method, port, body=None):
    want = {
        "GATEWAY_INTERFACE": "CGI/1.1", "SERVER_SOFTWARE": "kite", "SERVER_NAME": "localhost",
        "SERVER_PORT": str(srv.port), "SERVER_PROTOCOL": "HTTP/1.1", "REQUEST_METHOD": method,
        "REQUEST_URI": "/cgi-bin/%s/a/b%%20c?x=1&y=%%41" % script,
        "SCRIPT_NAME": "/cgi-bin/" + script, "SCRIPT_FILENAME": os.path.join(CGI_DIR, script),
        "PATH_INFO": "/a/b c", "PATH_TRANSLATED": CGI_DIR + "/a/b c", "DOCUMENT_ROOT": CGI_DIR,
        "QUERY_STRING": "x=1&y=%41", "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": str(port),
        "REDIRECT_STATUS": "200", "HTTP_HOST": "localhost", "HTTP_X_CUSTOM": "v1, v2",
        "KITE_TEST_ENV": "yes", "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
    }
    if body is not None:
        want["CONTENT_LENGTH"] = str(len(body))
        want["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
    return want


def test_env(t, srv):
    for script, extra in (("env.pl", ()), ("env.sh", ("PWD",))):
        r, port = env_request(srv, script)
        got = env_of(r.body)
        want = expected_env(srv, script, "GET", port)
        # The shell adds what it always adds; perl adds nothing.
        for k in extra:
            got.pop(k, None)
        got.pop("SHLVL", None)
        t.eq((r.status, got), (200, want), "%s: every meta-variable, exactly" % script)
    body = b"a=1&b=2"
    r, port = env_request(srv, "env.pl", "POST", body,
                          [("Content-Type", "application/x-www-form-urlencoded")])
    t.eq(env_of(r.body), expected_env(srv, "env.pl", "POST", port, body),
         "POST: CONTENT_LENGTH and CONTENT_TYPE, no HTTP_ duplicates, no HTTP_PROXY")
    with kt.Conn(srv.port, timeout=30) as c:
        c.send(b"GET /cgi-bin/env.sh HTTP/1.0\r\n\r\n")
        r = c.read_response()
    got = env_of(r.body)
    t.ok("QUERY_STRING" in got and got["QUERY_STRING"] == "" and "PATH_INFO" not in got and
         got.get("SERVER_PROTOCOL") == "HTTP/1.0" and r.header("Connection") == "close",
         "HTTP/1.0, no query, no path info: QUERY_STRING empty, no PATH_INFO, close-delimited",
         repr(r) + repr(got))
    t.eq(os.path.realpath(env_of(get(srv, "/cgi-bin/env.sh").body).get("PWD", "")), CGI_DIR,
         "the working directory is the script's directory")


def test_status_location(t, srv):
    r = get(srv, "/cgi-bin/status.sh")
    t.eq((r.status, r.header("X-CGI"), r.body), (201, "yes", b"created\n"),
         "Status: 201 and a header of the script's")
    r = get(srv, "/cgi-bin/ext-redir.sh")
    t.eq((r.status, r.header("Location")), (302, "http://example.com/elsewhere"),
         "Location: http://... -> 302")
    r = get(srv, "/cgi-bin/local-redir.sh")
    got = env_of(r.body)
    t.eq((r.status, r.header("Location"), got.get("SCRIPT_NAME"), got.get("PATH_INFO"),
          got.get("QUERY_STRING")), (200, None, "/cgi-bin/env.sh", "/after", "from=redir"),
         "Location: /path -> a local redirect, served as a GET of that path")
    r = get(srv, "/cgi-bin/nph-raw.sh")
    if kt.H2:
        # HTTP/2 frames the head itself: the script's status and fields
        # are kept, and kite's own are added.
        t.eq((r.status, r.header("X-NPH"), r.body), (299, "1", b"nph body\n"),
             "nph-* over HTTP/2: the script's status and fields")
    else:
        t.eq((r.status, r.header("X-NPH"), r.header("Server"), r.body),
             (299, "1", None, b"nph body\n"),
             "nph-*: the script's own status line and headers, untouched")
    t.eq(get(srv, "/cgi-bin/missing.sh").status, 404, "a missing script: 404")


def test_chunked_keepalive(t, srv):
    with kt.Conn(srv.port, timeout=30) as c:
        c.send(kt.build_request("GET", "/cgi-bin/chunks.sh"))
        r1 = c.read_response()
        c.send(kt.build_request("GET", "/cgi-bin/length.sh"))
        r2 = c.read_response()
        c.send(kt.build_request("GET", "/cgi-bin/chunks.sh"))
        r3 = c.read_response()
    t.eq((r1.status, r1.header("Transfer-Encoding"), r1.body),
         (200, "chunked", b"one\ntwo\nthree\n"), "output without a length: chunked")
    t.eq((r2.header("Content-Length"), r2.header("Transfer-Encoding"), r2.body),
         ("6", None, b"sized\n"), "Content-Length from the script: not chunked, same connection")
    t.eq(r3.body, b"one\ntwo\nthree\n", "a third request on the same keep-alive connection")


def sha_line(data):
    return ("%d %s\n" % (len(data), hashlib.sha256(data).hexdigest())).encode()


def test_bodies(t, srv):
    data = os.urandom(10 << 20)
    r = kt.request(srv.port, "POST", "/cgi-bin/sha.sh", body=data, timeout=60)
    t.eq((r.status, r.body), (200, sha_line(data)), "a 10 MB POST reaches stdin intact")
    r = kt.request(srv.port, "POST", "/cgi-bin/sha.sh?1", body=data, timeout=60)
    t.eq((r.status, r.body), (200, sha_line(data)),
         "a script that waits 1 s before reading stdin gets all 10 MB (body reading paused)")
    parts = [os.urandom(n) for n in (1, 1000, 70000, 3, 500000)]
    whole = b"".join(parts)
    chunked = b"".join(b"%x\r\n" % len(p) + p + b"\r\n" for p in parts) + b"0\r\n\r\n"
    with kt.Conn(srv.port, timeout=30) as c:
        c.send(b"POST /cgi-bin/sha.sh HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        c.send(chunked)
        r = c.read_response()
    t.eq((r.status, r.body), (200, sha_line(whole)),
         "a chunked POST: decoded, CONTENT_LENGTH set, intact")
    with kt.Conn(srv.port, timeout=30) as c:
        c.send(b"POST /cgi-bin/sha.sh HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
               b"Expect: 100-continue\r\n\r\n")
        r = c.read_response()
        c.send(b"hello")
        r2 = c.read_response()
    t.eq((r.status, r2.status, r2.body), (100, 200, sha_line(b"hello")),
         "Expect: 100-continue, then the body")


def test_slow_client(t, srv):
    base = srv.rss_kb()
    with kt.Conn(srv.port, timeout=60) as c:
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        c.send(kt.build_request("GET", "/cgi-bin/big.sh"))
        time.sleep(1.5)
        grown = srv.rss_kb() - base
        r = c.read_response(max_body=1 << 26)
    t.ok(grown < 8 * 1024, "a client not reading 32 MB: the server grows %d kB (< 8 MB)" % grown)
    t.eq((r.status, len(r.body), r.body.count(b"\0")), (200, 1 << 25, 1 << 25),
         "then all 32 MB arrive")


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_timeout(t, srv):
    fd, pidfile = tempfile.mkstemp(prefix="kite-cgi-child-")
    os.close(fd)
    try:
        t0 = time.monotonic()
        r = get(srv, "/cgi-bin/sleep.sh?" + pidfile)
        dt = time.monotonic() - t0
        t.ok(r.status == 504 and TIMEOUT - 0.5 < dt < TIMEOUT + 3,
             "cgi-timeout %d s: 504 after %.1f s" % (TIMEOUT, dt), repr(r))
        with open(pidfile) as f:
            child = int(f.read().strip() or 0)
        deadline = time.monotonic() + 3
        while child and pid_alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        t.ok(child and not pid_alive(child), "the script's own child was killed with it")
    finally:
        os.unlink(pidfile)


def test_failures(t, srv):
    t0 = time.monotonic()
    r = get(srv, "/cgi-bin/crash.sh")
    dt = time.monotonic() - t0
    t.ok(r.status == 502 and dt < 1.0, "a crashing script: 502 in %.2f s" % dt, repr(r))
    t.eq(get(srv, "/cgi-bin/nohead.sh").status, 502, "output without a header: 502")
    t.eq(get(srv, "/cgi-bin/badinterp.sh").status, 500, "a missing interpreter: 500")
    t.eq(get(srv, "/cgi-bin/stderr.sh").body, b"ok\n", "a script writing to stderr")
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and "a line for the error log" not in srv.stderr():
        time.sleep(0.05)
    err = srv.stderr()
    t.ok("stderr.sh: a line for the error log" in err, "stderr lines go to the log with the script",
         err[-2000:])
    t.ok("badinterp.sh: cannot run" in err, "the missing interpreter is logged", err[-2000:])
    t.ok(kt.serves(srv.port), "the server still serves")


def test_concurrent(t, srv):
    def one(i):
        r = kt.request(srv.port, "GET", "/cgi-bin/trivial.sh?%d" % i, timeout=60)
        return r.status == 200 and r.body == b"hi\n"
    with concurrent.futures.ThreadPoolExecutor(max_workers=100) as ex:
        res = list(ex.map(one, range(100)))
    t.eq(res.count(False), 0, "100 concurrent CGI requests: no failure")


def ssi_pages():
    mark = os.path.join(SSI_DIR, "marks")
    os.makedirs(os.path.join(SSI_DIR, "sub"), exist_ok=True)
    os.makedirs(mark, exist_ok=True)
    pages = {
        "sub/page.shtml": 'before <!--#exec "echo hello; pwd" --> middle '
                          '<!--#exec cmd="printf x$((1+1))" --> after\n',
        "sub/inc.shtml": '[<!--#include file="page.shtml" -->]',
        "touch.shtml": 'A<!--#exec "touch %s/ran" -->B' % mark,
        "slow.shtml": 'S<!--#exec "sleep 1; echo slept" -->E',
        "fast.shtml": 'F<!--#exec "echo quick" -->G',
        "forever.shtml": 'T<!--#exec "echo part; sleep 30" -->U',
        "gone.shtml": '<!--#exec "echo $$ > %s/gone.pid; exec sleep 30" -->' % mark,
    }
    for name, text in pages.items():
        with open(os.path.join(SSI_DIR, name), "w") as f:
            f.write(text)
    return mark


def test_ssi_exec(t, srv):
    mark = ssi_pages()
    sub = os.path.join(SSI_DIR, "sub")
    want = ("before hello\n%s\n middle x2 after\n" % sub).encode()
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        forever = ex.submit(lambda: (time.monotonic(), get(srv, "/ssi/forever.shtml"),
                                     time.monotonic()))
        slow = ex.submit(lambda: (time.monotonic(), get(srv, "/ssi/slow.shtml"),
                                  time.monotonic()))
        time.sleep(0.2)
        t0 = time.monotonic()
        r = get(srv, "/ssi/fast.shtml")
        r2 = get(srv, "/ssi/sub/page.shtml")
        dt = time.monotonic() - t0
        t.ok(r.body == b"Fquick\nG" and dt < 0.7,
             "ssi-exec: a slow command does not hold up other requests (%.2f s)" % dt, repr(r))
        t.ok(r2.status == 200 and r2.body == want and r2.header("Content-Length") ==
             str(len(want)), "ssi-exec: each command's output in its place, run in the page's "
             "directory (exec \"cmd\" and exec cmd=\"cmd\")", repr((r2, r2.body)))
        r = get(srv, "/ssi/sub/inc.shtml")
        t.eq(r.body, b"[" + want + b"]", "ssi-exec: in an included page too")
        t.eq(get(srv, "/ssi-noexec/touch.shtml").body, b"AB",
             "ssi-exec off: the directive is dropped")
        t.ok(not os.path.exists(os.path.join(mark, "ran")),
             "ssi-exec off: the command was not run (no file created)")
        t.ok("not run: the mount has no ssi-exec" in srv.stderr(),
             "ssi-exec off: the dropped command is logged", srv.stderr()[-1000:])
        t.eq(get(srv, "/ssi/touch.shtml").body, b"AB", "ssi-exec on: the same page")
        t.ok(os.path.exists(os.path.join(mark, "ran")), "ssi-exec on: the command ran")
        pidfile = os.path.join(mark, "gone.pid")
        with kt.Conn(srv.port) as c:
            c.send(kt.build_request("GET", "/ssi/gone.shtml"))
            pid = 0
            deadline = time.monotonic() + 3
            while not pid and time.monotonic() < deadline:
                time.sleep(0.02)
                try:
                    with open(pidfile) as f:
                        pid = int(f.read().strip() or 0)
                except (OSError, ValueError):
                    pass
            # A reset, not a half-close (after which the page would still be sent).
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        deadline = time.monotonic() + 3
        while pid and pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        t.ok(pid and not pid_alive(pid), "ssi-exec: the client gone, its command is killed")
        t.ok(kt.serves(srv.port), "ssi-exec: the server still serves")
        t0, r, t1 = slow.result()
        t.ok(r.body == b"Sslept\nE" and 0.9 < t1 - t0 < 3,
             "ssi-exec: a command taking 1 s (%.2f s)" % (t1 - t0), repr(r))
        t0, r, t1 = forever.result()
        t.ok(r.status == 200 and r.body == b"Tpart\nU" and TIMEOUT - 0.5 < t1 - t0 < TIMEOUT + 3,
             "ssi-exec: cgi-timeout %d s stops a command; the page has what it wrote (%.1f s)" % (
                 TIMEOUT, t1 - t0), repr(r))


def children(pid):
    out = []
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def test_no_zombies(t, srv):
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and children(srv.pid):
        time.sleep(0.05)
    kids = children(srv.pid)
    zombies = [k for k in kids if not pid_alive(k)]
    t.eq((kids, zombies), ([], []), "no children left, no zombies")


if __name__ == "__main__":
    try:
        kt.run_tests([test_env, test_status_location, test_chunked_keepalive, test_bodies,
                      test_slow_client, test_timeout, test_failures, test_concurrent,
                      test_ssi_exec, test_no_zombies],
                     args=["-G", CGI_DIR, "-g", str(TIMEOUT), "-S", SSI_DIR])
    finally:
        shutil.rmtree(SSI_DIR, ignore_errors=True)
