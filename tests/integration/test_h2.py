#!/usr/bin/python3
"""HTTP/2: h2c by prior knowledge on a plain port (-2), ALPN "h2" on a TLS
port, against every mount type (files, callback, redirect, CGI, error
pages), with curl, nghttp and python3-h2; streams multiplexed on one
connection, one stalled stream not holding up the others, request
bodies, and the plain port without -2 staying HTTP/1.1 only."""
import hashlib
import os
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
import kitetest as kt  # noqa: E402
import kiteh2  # noqa: E402

CGI_DIR = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data",
                                        "cgi"))


class Srv:
    def __init__(self, tls, srv):
        self.tls = tls
        self.srv = srv
        self.port = srv.port
        self.docroot = srv.docroot
        self.scheme = "https" if tls else "http"

    def url(self, path):
        return "%s://127.0.0.1:%d%s" % (self.scheme, self.port, path)

    def conn(self, **kw):
        return kiteh2.Conn(self.port, tls=self.tls, **kw)

    def curl(self, args, **kw):
        flag = "--http2" if self.tls else "--http2-prior-knowledge"
        return subprocess.run(["curl", "-sS", "-k", "--max-time", "20", "--noproxy", "*", flag] +
                              list(args), capture_output=True, timeout=30, **kw)


def pattern(n):
    return bytes((97 + i % 26) for i in range(n))


def fnv1a(data):
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return "%08x" % h


def test_curl_files(t, s):
    d = s.docroot
    name = "%s " % s.scheme
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out")
        for f in ("1k.txt", "64k.bin", "1m.bin", "index.html"):
            p = s.curl(["-o", out, "-w", "%{http_code} %{http_version} %{size_download}",
                        s.url("/" + f)])
            t.eq(p.stdout.decode(), "200 2 %d" % len(d.files[f]),
                 name + "curl over h2: GET /%s is 200 with its size" % f)
            with open(out, "rb") as fh:
                t.ok(fh.read() == d.files[f], name + "GET /%s: the file's bytes" % f)
    p = s.curl(["-I", s.url("/1k.txt")])
    t.ok(p.stdout.startswith(b"HTTP/2 200") and b"content-length: 1024" in p.stdout,
         name + "HEAD /1k.txt: 200 with content-length, no body", p.stdout)
    p = s.curl(["-r", "0-9", s.url("/1k.txt")])
    t.eq(p.stdout, d.files["1k.txt"][:10], name + "a byte range over h2 (206)")
    p = s.curl(["-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", s.url("/sub")])
    t.eq(p.stdout.decode(), "301 %s" % s.url("/sub/"), name + "a directory without / is a 301")


def test_conditional(t, s):
    c = s.conn()
    r = c.get("/1k.txt")
    etag = r.header("etag")
    t.ok(r.status == 200 and etag, "%s ETag on a file" % s.scheme, r.headers)
    r = c.get("/1k.txt", headers=[("if-none-match", etag)])
    t.ok(r.status == 304 and not r.data, "%s If-None-Match: 304 with no body" % s.scheme,
         (r.status, r.data[:100]))
    c.close()


def test_errors(t, s):
    c = s.conn()
    r = c.get("/no-such-file")
    t.ok(r.status == 404 and b"custom 404 page" in r.data,
         "%s a missing file: 404 with the vhost's error document" % s.scheme, (r.status, r.data))
    r = c.get("/../../etc/passwd")
    t.ok(r.status in (400, 403, 404) and not any(m in r.data for m in kt.passwd_marks()),
         "%s a path leaving the docroot is refused" % s.scheme, r.status)
    sid = c.request("POST", "/test/hello", body=b"x")
    r = c.wait([sid])[0]
    t.ok(r.status == 405 and r.header("allow") == "GET, HEAD",
         "%s POST to a GET endpoint: 405 with Allow" % s.scheme, r.headers)
    r = c.get("/test/nothing-here")
    t.eq(r.status, 404, "%s an unknown callback endpoint: the handler's 404" % s.scheme)
    big = "x" * 20000
    r = c.get("/1k.txt", headers=[("x-big", big)])
    t.ok(r.status == 431 or r.reset is not None or c.goaway is not None,
         "%s a header past max-header-size: 431 or refused" % s.scheme, r.status)
    c.close()


def test_redirect(t, s):
    p = s.curl(["-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", s.url("/kite-site/x/y")])
    t.eq(p.stdout.decode(), "301 https://github.com/x/y",
         "%s a redirect mount over h2: 301 with Location" % s.scheme)


def test_callback(t, s):
    c = s.conn()
    r = c.get("/test/hello")
    t.ok(r.status == 200 and r.data == b"hello\n", "%s callback mount: /test/hello" % s.scheme)
    r = c.get("/test/headers?a=1", headers=[("x-kite", "h2 test")])
    body = r.data.decode()
    t.ok("version: 20\n" in body and "h: x-kite: h2 test\n" in body and "h: Host: localhost\n" in
         body and "query: a=1\n" in body,
         "%s the handler sees version 20, the fields, :authority as Host" % s.scheme, body)
    r = c.get("/test/stream?n=20&size=1000")
    t.ok(r.status == 200 and r.data == pattern(20000) and r.header("content-length") is None,
         "%s a streamed response of unknown length (on_writeable per piece)" % s.scheme,
         (r.status, len(r.data)))
    r = c.get("/test/big?bytes=%d" % (5 << 20))
    t.ok(r.status == 200 and r.data == pattern(5 << 20),
         "%s 5 MiB written until EAGAIN, then on_writeable" % s.scheme, len(r.data))
    r = c.get("/test/delay?ms=30")
    t.eq(r.data, b"delayed\n", "%s a response from a timer" % s.scheme)
    r = c.get("/test/thread?ms=30")
    t.eq(r.data, b"posted\n", "%s a response from another thread (kite_post)" % s.scheme)
    c.close()


def test_bodies(t, s):
    c = s.conn()
    body = os.urandom(3 << 20)
    sid = c.request("POST", "/test/echo", headers=[("content-length", str(len(body)))], body=body)
    r = c.wait([sid])[0]
    t.ok(r.status == 200 and ('"bytes":%d' % len(body)).encode() in r.data and
         fnv1a(body).encode() in r.data,
         "%s a 3 MiB request body reaches on_http_body whole" % s.scheme, r.data)
    sid = c.request("POST", "/test/echo", body=b"no length here")
    r = c.wait([sid])[0]
    t.ok(r.status == 200 and b'"bytes":14' in r.data,
         "%s a body without content-length (ends with END_STREAM)" % s.scheme, r.data)
    sid = c.request("POST", "/formtest", headers=[
        ("content-type", "application/x-www-form-urlencoded")], body=b"name=kite&x=1")
    r = c.wait([sid])[0]
    t.ok(r.status == 200 and b"<td>name</td><td>kite</td>" in r.data,
         "%s POST form to protocol-post-demo" % s.scheme, r.data)
    p = s.curl(["--data-binary", "@-", s.url("/test/echo")], input=b"y" * 100000)
    t.ok(b'"bytes":100000' in p.stdout, "%s curl POST over h2" % s.scheme, p.stdout + p.stderr)
    p = s.curl(["-v", "-H", "Expect: 100-continue", "--data-binary", "@-", s.url("/test/echo")],
               input=b"e" * 100000)
    t.ok(b"< HTTP/2 100" in p.stderr and b'"bytes":100000' in p.stdout,
         "%s Expect: 100-continue: a 100 HEADERS, then the body" % s.scheme, p.stderr[-800:])
    c.close()


def test_cgi(t, s):
    if s.tls:
        return
    p = s.curl([s.url("/cgi-bin/env.sh/a/b?x=1")])
    out = p.stdout.decode("utf-8", "replace")
    t.ok("SERVER_PROTOCOL=HTTP/2.0" in out and "QUERY_STRING=x=1" in out,
         "CGI over h2: the script runs, SERVER_PROTOCOL is HTTP/2.0", out[:2000])
    body = os.urandom(200000)
    p = s.curl(["--data-binary", "@-", s.url("/cgi-bin/sha.sh")], input=body)
    t.eq(p.stdout.decode(), "200000 %s\n" % hashlib.sha256(body).hexdigest(),
         "CGI over h2: a request body to the script's stdin")
    r = s.conn()
    sid = r.request("POST", "/cgi-bin/sha.sh", body=body)
    out = r.wait([sid])[0].data.decode()
    r.close()
    t.eq(out.split()[-1:], [hashlib.sha256(body).hexdigest()],
         "CGI over h2: a body without content-length (spooled, as chunked is)")


def test_multiplex(t, s):
    c = s.conn()
    d = s.docroot
    paths = ["/1k.txt", "/64k.bin", "/1m.bin", "/test/hello", "/index.html"] * 4
    sids = [c.request("GET", p) for p in paths]
    rs = c.wait(sids)
    t.ok(all(r.status == 200 for r in rs) and
         all(r.data == (d.files[p[1:]] if p[1:] in d.files else b"hello\n")
             for r, p in zip(rs, paths)),
         "%s 20 concurrent streams on one connection, each intact" % s.scheme,
         [(r.status, len(r.data)) for r in rs])
    c.close()


def test_slow_stream(t, s):
    # Stream windows of 16 KiB, a large connection window: the big stream
    # is not acknowledged and stalls; another stream still completes.
    c = s.conn(settings={kiteh2.h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 16384})
    c.h2.increment_flow_control_window(8 << 20)
    c.flush()
    big = c.request("GET", "/1m.bin")
    c.streams[big].ack = False
    deadline = time.monotonic() + 5
    while len(c.streams[big].data) < 16384 and time.monotonic() < deadline:
        c.read_some(ack=False)
    small = c.request("GET", "/test/hello")
    r = c.wait([small])[0]
    t.ok(r.data == b"hello\n" and not c.streams[big].ended,
         "%s a stream stalled on its window does not hold up another" % s.scheme,
         len(c.streams[big].data))
    c.streams[big].ack = True
    c.h2.acknowledge_received_data(len(c.streams[big].data), big)
    c.flush()
    r = c.wait([big])[0]
    t.ok(r.data == s.docroot.files["1m.bin"], "%s ... and completes once its window opens" %
         s.scheme, len(r.data))
    c.close()


def test_nghttp(t, s):
    urls = [s.url(p) for p in ("/", "/1k.txt", "/64k.bin", "/test/hello", "/no-such")]
    p = subprocess.run(["nghttp", "-n", "-s", "-t", "10"] + urls, capture_output=True, timeout=30)
    out = p.stdout.decode()
    t.ok(p.returncode == 0 and out.count(" 200 ") == 4 and out.count(" 404 ") == 1,
         "%s nghttp: five requests on one connection" % s.scheme, out + p.stderr.decode())
    p = subprocess.run(["nghttp", "-v", "-d", "-", s.url("/test/echo")], input=b"z" * 50000,
                       capture_output=True, timeout=30)
    out = p.stdout.decode()
    t.ok(p.returncode == 0 and '"bytes":50000' in out,
         "%s nghttp: a POST body (-d)" % s.scheme, out[-1500:])


def test_h2load(t, s):
    # A short bounded run, for correctness under concurrency (not speed):
    # 10 connections, 10 streams each in flight.
    p = subprocess.run(["h2load", "-n", "2000", "-c", "10", "-m", "10", "-T", "20",
                        s.url("/1k.txt")], capture_output=True, timeout=60)
    out = p.stdout.decode()
    line = [x for x in out.splitlines() if x.startswith("requests:")]
    t.ok(p.returncode == 0 and line and "2000 succeeded, 0 failed, 0 errored, 0 timeout" in
         line[0] and "status codes: 2000 2xx" in out,
         "%s h2load -n 2000 -c 10 -m 10: all 2000 succeed" % s.scheme, out[-1500:])
    t.ok(s.srv.alive(), "%s the server is up after h2load" % s.scheme)


def test_h1_still(t, s):
    p = subprocess.run(["curl", "-sS", "-k", "--http1.1", "-w", " %{http_version}",
                        s.url("/test/hello")], capture_output=True, timeout=30)
    t.eq(p.stdout, b"hello\n 1.1", "%s HTTP/1.1 still served on the same port" % s.scheme)


def test_no_h2c(t, srv):
    p = subprocess.run(["curl", "-sS", "--max-time", "5", "--http2-prior-knowledge", "-o",
                        "/dev/null", "-w", "%{http_code}",
                        "http://127.0.0.1:%d/1k.txt" % srv.port], capture_output=True, timeout=30)
    t.ok(p.returncode != 0 or p.stdout != b"200",
         "without h2c, the HTTP/2 preface is not taken", p.stdout + p.stderr)
    p = subprocess.run(["curl", "-sS", "--http1.1", "http://127.0.0.1:%d/test/hello" % srv.port],
                       capture_output=True, timeout=30)
    t.eq(p.stdout, b"hello\n", "... and HTTP/1.1 works there")


def test_no_alpn_h2(t, srv):
    p = subprocess.run(["curl", "-sS", "-k", "--http2", "-w", " %{http_version}",
                        "https://127.0.0.1:%d/test/hello" % srv.port], capture_output=True,
                       timeout=30)
    t.eq(p.stdout, b"hello\n 1.1", "-H (http2 off): ALPN picks http/1.1 for an h2 client")


def main():
    tap = kt.Tap()
    servers = []
    try:
        # Two service threads where the server can (the threads suite runs
        # this under TSan); kite-test-extpoll has one.
        plain = kt.Server(tap, args=["-2", "-E", "/404.html", "-G", CGI_DIR] + kt.threads_args(),
                          name="h2c server")
        servers.append(plain.start())
        os.environ.pop("KITE_TEST_TLS", None)
        tls = kt.Server(tap, args=["-s", "-E", "/404.html"], name="tls server")
        servers.append(tls.start())
        noh2 = kt.Server(tap, args=[], name="plain server without h2c")
        servers.append(noh2.start())
        tlsh1 = kt.Server(tap, args=["-s", "-H"], name="tls server without h2")
        servers.append(tlsh1.start())
    except Exception:
        import traceback
        tap.ok(False, "servers start", traceback.format_exc())
        for srv in servers:
            srv.stop()
        tap.done()
    try:
        for s in (Srv(False, plain), Srv(True, tls)):
            for fn in (test_curl_files, test_conditional, test_errors, test_redirect,
                       test_callback, test_bodies, test_cgi, test_multiplex, test_slow_stream,
                       test_nghttp, test_h2load, test_h1_still):
                tap.run(fn, tap, s)
        tap.run(test_no_h2c, tap, noh2)
        tap.run(test_no_alpn_h2, tap, tlsh1)
    finally:
        for srv in servers:
            srv.stop()
    tap.done()


if __name__ == "__main__":
    main()
