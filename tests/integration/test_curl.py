#!/usr/bin/python3
"""Interop with real clients: curl (GET, HEAD, ranges, resume, compressed,
POST, PUT upload, redirects, HTTP/1.0, connection reuse across URLs) and
h11, a strict HTTP/1.1 implementation that validates every response of
a keep-alive conversation."""
import json
import os
import re
import sys
import tempfile

sys.dont_write_bytecode = True
import kitetest as kt  # noqa: E402

try:
    import h11
except ImportError:  # Debian python3-h11; `make deps` installs it
    h11 = None


def url(srv, path):
    return "%s://127.0.0.1:%d%s" % ("https" if kt.TLS else "http", srv.port, path)


def test_curl_get(t, srv):
    d = srv.docroot
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out")
        p = kt.curl(["--http1.1", "-o", out, "-w", "%{http_code} %{size_download} %{content_type}",
                     url(srv, "/1m.bin")])
        t.eq((p.returncode, p.stdout), (0, b"200 1048576 application/octet-stream"),
             "curl --http1.1 GET /1m.bin: 200, size, type")
        with open(out, "rb") as f:
            t.ok(f.read() == d.files["1m.bin"], "curl GET /1m.bin: the file's bytes")
        p = kt.curl(["--http1.1", url(srv, "/%C3%A9.txt")])
        t.eq(p.stdout, d.files["\u00e9.txt"], "curl GET of a UTF-8 name")

        p = kt.curl(["--http1.1", "-I", url(srv, "/1k.txt")])
        head = p.stdout.decode()
        t.ok(head.startswith("HTTP/1.1 200 OK\r\n") and "\r\nContent-Length: 1024\r\n" in head and
             "\r\nContent-Type: text/plain; charset=utf-8\r\n" in head,
             "curl -I: 200 with length and type", head)

        p = kt.curl(["--http1.1", "-r", "1000-1999", "-w", "%{http_code}", "-o", out,
                     url(srv, "/1m.bin")])
        with open(out, "rb") as f:
            got = f.read()
        t.eq((p.stdout, got == d.files["1m.bin"][1000:2000]), (b"206", True),
             "curl -r 1000-1999: 206 and those bytes")

        with open(out, "wb") as f:
            f.write(d.files["1m.bin"][:300000])
        p = kt.curl(["--http1.1", "-C", "-", "-o", out, "-w", "%{http_code}", url(srv, "/1m.bin")])
        with open(out, "rb") as f:
            got = f.read()
        t.eq((p.returncode, p.stdout), (0, b"206"), "curl -C - resumes with a 206")
        t.ok(got == d.files["1m.bin"], "curl -C -: the resumed file is whole", len(got))

        p = kt.curl(["--http1.1", "--compressed", "-D", "-", "-o", out, url(srv, "/1k.txt")])
        with open(out, "rb") as f:
            got = f.read()
        t.ok(p.returncode == 0 and got == d.files["1k.txt"] and
             b"content-encoding" not in p.stdout.lower(),
             "curl --compressed: identity body, no Content-Encoding", p.stdout)

        p = kt.curl(["--http1.0", "-D", "-", url(srv, "/1k.txt")])
        t.ok(p.stdout.startswith(b"HTTP/1.1 200 OK\r\n") and p.stdout.endswith(d.files["1k.txt"]),
             "curl --http1.0: 200 and the body", p.stdout[:200])

        p = kt.curl(["--http1.1", "-L", "-w", "\n%{num_redirects} %{url_effective}",
                     url(srv, "/sub?q=1")])
        body, _, tail = p.stdout.rpartition(b"\n")
        t.eq((body, tail), (d.files["sub/index.html"], b"1 " + url(srv, "/sub/?q=1").encode()),
             "curl -L follows the directory redirect")
        p = kt.curl(["--http1.1", "-w", "%{http_code}", "-o", "/dev/null", url(srv, "/nope")])
        t.eq(p.stdout, b"404", "curl: 404")


def test_curl_upload(t, srv):
    d = srv.docroot
    p = kt.curl(["--http1.1", "-d", "x=1&y=2", url(srv, "/test/echo")])
    t.eq(json.loads(p.stdout or b"{}"), {"bytes": 7, "fnv1a": kt.fnv1a(b"x=1&y=2"), "pieces": 1},
         "curl POST -d")
    p = kt.curl(["--http1.1", "-T", d.path("1m.bin"), url(srv, "/test/echo")])
    r = json.loads(p.stdout or b"{}")
    t.eq((r.get("bytes"), r.get("fnv1a")), (1 << 20, kt.fnv1a(d.files["1m.bin"])),
         "curl PUT -T 1m.bin")
    p = kt.curl(["--http1.1", "-T", "-", "-H", "Transfer-Encoding: chunked", url(srv, "/test/echo")],
                input=d.files["64k.bin"])
    r = json.loads(p.stdout or b"{}")
    t.eq((r.get("bytes"), r.get("fnv1a")), (65536, kt.fnv1a(d.files["64k.bin"])),
         "curl PUT from stdin, chunked")
    p = kt.curl(["--http1.1", "-T", d.path("1k.txt"), "-w", "%{http_code}", "-o", "/dev/null",
                 url(srv, "/1k.txt")])
    t.eq(p.stdout, b"405", "curl PUT to a file: 405")


def test_curl_reuse(t, srv):
    d = srv.docroot
    with tempfile.TemporaryDirectory() as tmp:
        outs = [os.path.join(tmp, "o%d" % i) for i in range(4)]
        paths = ["/1k.txt", "/test/hello", "/64k.bin", "/test/stream?n=3&size=4"]
        args = ["--http1.1", "-v"]
        for o, pth in zip(outs, paths):
            args += ["-o", o, url(srv, pth)]
        p = kt.curl(args)
        got = []
        for o in outs:
            with open(o, "rb") as f:
                got.append(f.read())
    err = p.stderr.decode("utf-8", "replace")
    t.eq(got, [d.files["1k.txt"], b"hello\n", d.files["64k.bin"], kt.pattern(12)],
         "curl with 4 URLs: all bodies right")
    reuse = len(re.findall(r"Re-using existing connection", err))
    connects = len(re.findall(r"Connected to ", err))
    t.eq((reuse, connects), (3, 1), "curl reused one connection for the 4 URLs", )


def h11_exchange(conn, sock, req, body=b""):
    """Send one request with h11 and collect the response events."""
    out = conn.send(req)
    if body:
        out += conn.send(h11.Data(data=body))
    out += conn.send(h11.EndOfMessage())
    sock.sendall(out)
    resp, data, infos = None, b"", []
    while True:
        ev = conn.next_event()
        if ev is h11.NEED_DATA:
            chunk = sock.recv(65536)
            conn.receive_data(chunk)
            continue
        if isinstance(ev, h11.InformationalResponse):
            infos.append(ev)
        elif isinstance(ev, h11.Response):
            resp = ev
        elif isinstance(ev, h11.Data):
            data += bytes(ev.data)
        elif isinstance(ev, h11.EndOfMessage):
            return resp, data, infos
        elif isinstance(ev, h11.ConnectionClosed):
            raise EOFError("closed before the end of the response")


def test_h11(t, srv):
    if h11 is None:
        t.ok(False, "python3-h11 is installed (apt-get install python3-h11)")
        return
    d = srv.docroot
    sock = kt.Conn(srv.port).sock
    conn = h11.Connection(our_role=h11.CLIENT)
    host = ("Host", "127.0.0.1:%d" % srv.port)
    etag = None
    cases = [
        ("GET", "/1k.txt", [], b"", 200, d.files["1k.txt"]),
        ("HEAD", "/1k.txt", [], b"", 200, b""),
        ("GET", "/1m.bin", [], b"", 200, d.files["1m.bin"]),
        ("GET", "/test/stream?n=50&size=33", [], b"", 200, kt.pattern(1650)),
        ("HEAD", "/test/stream?n=5&size=3", [], b"", 200, b""),
        ("POST", "/test/echo", [("Content-Length", "5")], b"hello", 200,
         b'{"bytes":5,"fnv1a":"%s","pieces":1}\n' % kt.fnv1a(b"hello").encode()),
        ("POST", "/test/echo", [("Transfer-Encoding", "chunked")], b"chunked!", 200,
         b'{"bytes":8,"fnv1a":"%s","pieces":1}\n' % kt.fnv1a(b"chunked!").encode()),
        ("GET", "/nope", [], b"", 404, None),
        ("GET", "/sub", [], b"", 301, None),
        ("OPTIONS", "/1k.txt", [], b"", 204, b""),
        ("GET", "/1k.txt", [("Range", "bytes=10-19")], b"", 206, d.files["1k.txt"][10:20]),
        ("GET", "/1k.txt", [("If-None-Match", "ETAG")], b"", 304, b""),
        ("GET", "/test/delay?ms=10", [], b"", 200, b"delayed\n"),
        ("POST", "/test/echo", [("Content-Length", "3"), ("Expect", "100-continue")], b"abc",
         200, b'{"bytes":3,"fnv1a":"%s","pieces":1}\n' % kt.fnv1a(b"abc").encode()),
    ]
    try:
        for method, target, hdrs, body, status, want in cases:
            hdrs = [(k, etag if v == "ETAG" else v) for k, v in hdrs]
            if not any(k in ("Content-Length", "Transfer-Encoding") for k, _ in hdrs) and body:
                hdrs.append(("Content-Length", str(len(body))))
            name = "h11: %s %s" % (method, target)
            try:
                resp, data, infos = h11_exchange(
                    conn, sock, h11.Request(method=method, target=target, headers=[host] + hdrs),
                    body)
            except h11.RemoteProtocolError as e:
                t.ok(False, name + ": a well-formed response", repr(e))
                return
            ok = resp.status_code == status and (want is None or data == want)
            t.ok(ok, "%s: %d, valid HTTP/1.1 per h11" % (name, status),
                 "%s %s" % (resp.status_code, kt.short(data, 200)))
            if method == "GET" and target == "/1k.txt" and etag is None:
                etag = dict(resp.headers).get(b"etag", b"").decode()
            t.eq((conn.our_state, conn.their_state), (h11.DONE, h11.DONE),
                 name + ": both sides DONE, the connection can be reused")
            conn.start_next_cycle()
    finally:
        sock.close()


if __name__ == "__main__":
    kt.run_tests([test_curl_get, test_curl_upload, test_curl_reuse, test_h11])
