#!/usr/bin/python3
"""Request bodies: POST /test/echo with Content-Length from 0 to 10 MB and
chunked (extensions, trailers, one byte at a time), Expect: 100-continue,
curl's -d and --data-binary, the /formtest post demo, bodies sent to
handlers that answer without reading them, and bad chunked framing."""
import json
import os
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True
import kitetest as kt  # noqa: E402


def echo_json(data, pieces=None):
    return {"bytes": len(data), "fnv1a": kt.fnv1a(data), "pieces": pieces}


def check_echo(t, r, data, name, pieces=None, min_pieces=None):
    t.eq((r.status, r.header("Content-Type")), (200, "application/json"), "%s: 200 JSON" % name)
    try:
        got = json.loads(r.body)
    except ValueError:
        t.ok(False, "%s: echo body is JSON" % name, r.body[:200])
        return
    want = echo_json(data, pieces)
    if pieces is None:
        want["pieces"] = got.get("pieces")
        if min_pieces is not None and (got.get("pieces") or 0) < min_pieces:
            want["pieces"] = ">= %d" % min_pieces
    if not data:
        want["pieces"] = 0
    t.eq(got, want, "%s: %d bytes with the right FNV-1a" % (name, len(data)))


def chunked(parts, ext=None, trailers=()):
    out = b""
    for i, p in enumerate(parts):
        e = (";" + ext) if ext and i % 2 == 0 else ""
        out += b"%x%s\r\n" % (len(p), e.encode()) + p + b"\r\n"
    out += b"0\r\n" + b"".join(b"%s: %s\r\n" % (k, v) for k, v in trailers) + b"\r\n"
    return out


def chunked_head(target="/test/echo"):
    return ("POST %s HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
            % target).encode()


def post(srv, data, timeout=30):
    with kt.Conn(srv.port, timeout=timeout) as c:
        c.send(kt.build_request("POST", "/test/echo", body=data))
        return c.read_response()


def test_content_length(t, srv):
    r = kt.request(srv.port, "POST", "/test/echo", headers=[("Content-Length", "0")])
    check_echo(t, r, b"", "Content-Length: 0", 0)
    r = kt.request(srv.port, "POST", "/test/echo")
    check_echo(t, r, b"", "POST without a body", 0)
    check_echo(t, post(srv, b"Z"), b"Z", "1 byte", 1)
    data = os.urandom(100 * 1024)
    check_echo(t, post(srv, data), data, "100 KB", min_pieces=1)
    data = os.urandom(10 << 20)
    t0 = time.monotonic()
    r = post(srv, data)
    check_echo(t, r, data, "10 MB", min_pieces=2)
    t.ok(time.monotonic() - t0 < 20, "10 MB echoed in under 20 s")
    r = kt.request(srv.port, "PUT", "/test/echo", body=b"put body")
    check_echo(t, r, b"put body", "PUT", 1)


def test_chunked(t, srv):
    parts = [b"hello ", b"chunked ", os.urandom(3000), b"", b"world"]
    parts = [p for p in parts if p]
    data = b"".join(parts)
    with kt.Conn(srv.port) as c:
        c.send(chunked_head() + chunked(parts))
        check_echo(t, c.read_response(), data, "chunked, several chunks", min_pieces=1)
        c.send(chunked_head() + chunked(parts, ext='name=value;q="quoted"'))
        check_echo(t, c.read_response(), data, "chunked with extensions", min_pieces=1)
        c.send(chunked_head() + chunked(parts, trailers=[(b"X-Trailer", b"yes"),
                                                         (b"X-Sum", b"123")]))
        check_echo(t, c.read_response(), data, "chunked with trailers", min_pieces=1)
        c.send(chunked_head() + b"A\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n")
        check_echo(t, c.read_response(), b"0123456789" * 2, "chunk sizes in either case")
        c.send(chunked_head() + b"0\r\n\r\n")
        check_echo(t, c.read_response(), b"", "an empty chunked body", 0)
        big = os.urandom(1 << 20)
        c.send(chunked_head() + chunked([big[i:i + 65536] for i in range(0, len(big), 65536)]))
        check_echo(t, c.read_response(), big, "1 MB in 64 KB chunks", min_pieces=2)
        c.send(kt.build_request("GET", "/test/hello"))
        r = c.read_response()
        t.eq((r.status, r.body), (200, b"hello\n"), "keep-alive after chunked bodies")
    with kt.Conn(srv.port) as c:
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c.send(chunked_head())
        c.send_slowly(chunked([b"abc", b"defgh"], ext="e=1", trailers=[(b"T", b"v")]), 1, 0.002)
        check_echo(t, c.read_response(), b"abcdefgh", "a chunked body one byte at a time",
                   min_pieces=2)


def test_bad_chunked(t, srv):
    for name, body in (("a bad chunk size", b"zz\r\nhello\r\n0\r\n\r\n"),
                       ("chunk data without its CRLF", b"5\r\nhelloXX0\r\n\r\n"),
                       ("a chunk size overflowing 64 bits",
                        b"fffffffffffffffffffff\r\nx\r\n0\r\n\r\n"),
                       ("a negative chunk size", b"-5\r\nhello\r\n0\r\n\r\n")):
        with kt.Conn(srv.port) as c:
            c.send(chunked_head() + body + kt.build_request("GET", "/test/hello"))
            r = c.read_response()
            closed = c.wait_closed(3)
            extra = bytes(c.buf)
        t.eq((r.status, r.header("Connection")), (400, "close"), "%s: 400 and close" % name)
        t.ok(closed and not extra, "%s: the connection ends there" % name, extra[:100])
    t.ok(kt.serves(srv.port), "server serves after bad chunked bodies")


def test_expect_continue(t, srv):
    data = os.urandom(5000)
    with kt.Conn(srv.port) as c:
        c.send(b"POST /test/echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
               b"Content-Length: %d\r\n\r\n" % len(data))
        r = c.read_response(timeout=3)
        t.eq((r.version, r.status, r.reason), ("HTTP/1.1", 100, "Continue"),
             "Expect: 100-continue: 100 Continue arrives before the body is sent")
        t.eq(r.headers, [], "100 Continue has no header fields")
        c.send(data)
        check_echo(t, c.read_response(), data, "Expect: 100-continue, then the body")
        # The same with a chunked body.
        c.send(b"POST /test/echo HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n")
        r = c.read_response(timeout=3)
        t.eq(r.status, 100, "Expect (any case) with a chunked body: 100 Continue")
        c.send(chunked([b"abc", b"def"]))
        check_echo(t, c.read_response(), b"abcdef", "chunked body after 100 Continue")

    # A handler that answers at once: no 100, the final status comes first.
    with kt.Conn(srv.port) as c:
        c.send(b"POST /test/hello HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
               b"Content-Length: 10\r\n\r\n")
        r = c.read_response(timeout=3)
        t.eq((r.status, r.header("Allow")), (405, "GET, HEAD"),
             "Expect to a handler that refuses: 405 without 100 Continue")
        if r.header("Connection") != "close":
            c.send(b"0123456789" + kt.build_request("GET", "/test/hello"))
            r = c.read_response()
            t.eq((r.status, r.body), (200, b"hello\n"),
                 "the body sent anyway is skipped and the connection goes on")
        else:
            t.ok(c.wait_closed(3), "or the connection is closed")
    with kt.Conn(srv.port) as c:
        c.send(b"POST /1k.txt HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
               b"Content-Length: 10\r\n\r\n")
        r = c.read_response(timeout=3)
        t.eq(r.status, 405, "Expect to a file: 405 without 100 Continue")
    # No body: nothing to continue.
    with kt.Conn(srv.port) as c:
        c.send(b"POST /test/echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
               b"Content-Length: 0\r\n\r\n")
        r = c.read_response(timeout=3)
        check_echo(t, r, b"", "Expect with Content-Length: 0: the final response at once", 0)
    # HTTP/1.0 clients never get a 100 (RFC 9110 10.1.1).
    with kt.Conn(srv.port) as c:
        c.send(b"POST /test/echo HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        quiet = c.no_data_for(0.5)
        c.send(b"hello")
        r = c.read_response()
        t.ok(quiet, "HTTP/1.0 with Expect: 100-continue gets no 100 Continue",
             r.raw_head[:100])
        check_echo(t, r, b"hello", "HTTP/1.0 with Expect: the body is echoed", 1)


def test_curl_post(t, srv):
    url = "http://127.0.0.1:%d/test/echo" % srv.port
    p = kt.curl(["--http1.1", "-d", "a=b&c=d", url])
    t.eq(p.returncode, 0, "curl -d runs", )
    r = json.loads(p.stdout or b"{}")
    t.eq(r, echo_json(b"a=b&c=d", 1), "curl -d: echoed")
    path = srv.docroot.path("64k.bin")
    p = kt.curl(["--http1.1", "--data-binary", "@" + path, url])
    t.eq(json.loads(p.stdout or b"{}").get("fnv1a"), kt.fnv1a(srv.docroot.files["64k.bin"]),
         "curl --data-binary @64k.bin: echoed")
    p = kt.curl(["--http1.1", "-v", "-H", "Expect: 100-continue", "--data-binary",
                 "@" + srv.docroot.path("1m.bin"), url])
    t.ok(b"HTTP/1.1 100 Continue" in p.stderr, "curl with Expect sees 100 Continue",
         p.stderr[-500:])
    t.eq(json.loads(p.stdout or b"{}").get("fnv1a"), kt.fnv1a(srv.docroot.files["1m.bin"]),
         "curl --data-binary @1m.bin with Expect: echoed")


FORM_HEAD = ('<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>kite post demo</title>'
             '</head><body><p>%d bytes received%s</p><table>\n')


def form_page(raw, rows, truncated=""):
    return (FORM_HEAD % (len(raw), truncated) +
            "".join("<tr><td>%s</td><td>%s</td></tr>\n" % kv for kv in rows) +
            "</table></body></html>\n").encode()


def test_formtest(t, srv):
    form = b"text=hello+world&x=%3Cb%3E%26%22&empty=&flag&utf=%C3%A9"
    r = kt.request(srv.port, "POST", "/formtest", body=form,
                   headers=[("Content-Type", "application/x-www-form-urlencoded")])
    want = form_page(form, [("text", "hello world"), ("x", "&lt;b&gt;&amp;&quot;"), ("empty", ""),
                            ("flag", ""), ("utf", "\u00e9")])
    t.eq((r.status, r.header("Content-Type")), (200, "text/html; charset=utf-8"),
         "/formtest POST: 200 HTML")
    t.eq(r.body, want, "/formtest POST: the fields in a table, decoded and escaped")
    p = kt.curl(["--http1.1", "-d", "text=from+curl", "http://127.0.0.1:%d/formtest" % srv.port])
    t.eq(p.stdout, form_page(b"text=from+curl", [("text", "from curl")]), "/formtest with curl -d")
    big = b"k=" + b"v" * 10000
    r = kt.request(srv.port, "POST", "/formtest", body=big)
    t.ok(r.status == 200 and b"10002 bytes received (form truncated)" in r.body,
         "/formtest with a 10 KB form: truncated, counted", r.body[:200])
    r = kt.request(srv.port, "GET", "/formtest")
    t.ok(r.status == 200 and b'<form method="post" action="/formtest">' in r.body,
         "GET /formtest shows the form", r.body[:200])
    r = kt.request(srv.port, "DELETE", "/formtest")
    t.eq((r.status, r.header("Allow")), (405, "GET, HEAD, POST"), "DELETE /formtest: 405")


def test_body_to_non_reader(t, srv):
    d = srv.docroot
    body = os.urandom(1000)
    with kt.Conn(srv.port) as c:
        c.send(kt.build_request("POST", "/1k.txt", body=body) + kt.build_request("GET", "/1k.txt"))
        r = c.read_response()
        t.eq((r.status, r.header("Allow")), (405, "GET, HEAD, OPTIONS"),
             "POST with a body to a file: 405")
        if r.header("Connection") == "close":
            t.ok(c.wait_closed(3), "... and a clean close")
        else:
            r = c.read_response()
            t.eq((r.status, r.body), (200, d.files["1k.txt"]),
                 "... and the connection stays usable: the body was skipped")
    with kt.Conn(srv.port) as c:
        c.send(kt.build_request("GET", "/test/hello", body=b"ignored body") +
               kt.build_request("GET", "/test/hello"))
        a, b = c.read_response(), c.read_response()
        t.eq([(a.status, a.body), (b.status, b.body)], [(200, b"hello\n")] * 2,
             "a GET with a body to a handler that ignores it; keep-alive goes on")

    # A large body to a file mount: the 405 arrives whole, then a clean close.
    # Over TLS one thread sends a smaller body before reading: Python's ssl
    # does not allow a second thread to write while the first one reads.
    big = os.urandom(256 << 10 if kt.TLS else 4 << 20)
    with kt.Conn(srv.port, timeout=10) as c:
        head = kt.build_request("POST", "/64k.bin", headers=[("Content-Length", str(len(big)))])
        errors = []

        def sender():
            try:
                c.sock.sendall(head + big)
            except OSError as e:
                errors.append(e)
        th = threading.Thread(target=sender, daemon=True)
        if kt.TLS:
            sender()
        else:
            th.start()
        r = c.read_response()
        closed = c.wait_closed(5)
        if not kt.TLS:
            th.join(10)
    t.eq(r.status, 405, "large POST to a file: 405 arrives in full")
    t.eq(r.header("Connection"), "close", "large POST to a file: Connection: close")
    t.ok(closed, "large POST to a file: the server closes", errors)
    t.ok(kt.serves(srv.port), "server serves after the refused upload")


def test_slow_body(t, srv):
    data = os.urandom(1000)
    with kt.Conn(srv.port) as c:
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c.send(b"POST /test/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
        c.send_slowly(data, 100, 0.05)
        r = c.read_response()
    check_echo(t, r, data, "a body in 10 pieces 50 ms apart, streamed to the handler",
               min_pieces=2)


def test_client_gives_up(t, srv):
    # Bodies cut short by the client must not disturb the server.
    for n in (10, 100000):
        with kt.Conn(srv.port) as c:
            c.send(b"POST /test/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" +
                   b"x" * n)
        with kt.Conn(srv.port) as c:
            c.send(chunked_head() + b"100\r\n" + b"y" * 10)
            c.sock.shutdown(socket.SHUT_WR)
            c.wait_closed(3)
    t.ok(srv.alive() and kt.serves(srv.port), "clients that abandon bodies: server serves")


if __name__ == "__main__":
    kt.run_tests([test_content_length, test_chunked, test_bad_chunked, test_expect_continue,
                  test_curl_post, test_formtest, test_body_to_non_reader, test_slow_body,
                  test_client_gives_up])
