#!/usr/bin/python3
"""Malformed and unusual requests over raw sockets (RFC 9112): each bad
one gets its exact status with "Connection: close", the connection is
closed (a request pipelined behind it is not answered), and a new
connection is served at once. Then the well-formed oddities: one byte at
a time, HTTP/1.0 with and without keep-alive, Connection: close,
absolute-form targets, leading empty lines."""
import re
import socket
import sys
import time

sys.dont_write_bytecode = True
import kitetest as kt  # noqa: E402

GOOD = b"GET /test/hello HTTP/1.1\r\nHost: localhost\r\n\r\n"


def many_headers(n):
    return "".join("X-H%d: %d\r\n" % (i, i) for i in range(n))


BAD = [
    ("HTTP/1.1 without Host", b"GET /1k.txt HTTP/1.1\r\n\r\n", 400),
    ("two Host fields", b"GET /1k.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    ("empty Host", b"GET /1k.txt HTTP/1.1\r\nHost:\r\n\r\n", 400),
    ("Host with a space", b"GET /1k.txt HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
    ("Host with a slash", b"GET /1k.txt HTTP/1.1\r\nHost: a/b\r\n\r\n", 400),
    ("Host with userinfo", b"GET /1k.txt HTTP/1.1\r\nHost: user@localhost\r\n\r\n", 400),
    ("a fragment in the target", b"GET /1k.txt#top HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("a relative target", b"GET 1k.txt HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("Content-Length and Transfer-Encoding",
     b"POST /test/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("Content-Length not a number",
     b"POST /test/echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400),
    ("negative Content-Length",
     b"POST /test/echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400),
    ("Content-Length with a sign",
     b"POST /test/echo HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello", 400),
    ("two different Content-Lengths",
     b"POST /test/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"
     b"hello!", 400),
    ("Content-Length overflowing 64 bits",
     b"POST /test/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
     400),
    ("Transfer-Encoding gzip, chunked",
     b"POST /test/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
     b"0\r\n\r\n", 501),
    ("Transfer-Encoding chunked, gzip (chunked not last)",
     b"POST /test/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400),
    ("Transfer-Encoding in HTTP/1.0",
     b"POST /test/echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("Transfer-Encoding twice", b"POST /test/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
     b"\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("Transfer-Encoding chunked, chunked", b"POST /test/echo HTTP/1.1\r\nHost: x\r\n"
     b"Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400),
    ("Transfer-Encoding identity (chunked not last)", b"POST /test/echo HTTP/1.1\r\nHost: x\r\n"
     b"Transfer-Encoding: identity\r\n\r\n", 400),
    ("empty Content-Length", b"POST /test/echo HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n",
     400),
    ("hex Content-Length", b"POST /test/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0x5\r\n\r\n"
     b"hello", 400),
    ("DEL in a field name", b"GET /1k.txt HTTP/1.1\r\nHost: x\r\nX\x7fA: b\r\n\r\n", 400),
    ("space in a field name", b"GET /1k.txt HTTP/1.1\r\nHost: x\r\nX A: b\r\n\r\n", 400),
    ("empty field name", b"GET /1k.txt HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n", 400),
    ("control byte in a value", b"GET /1k.txt HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n", 400),
    ("whitespace before the first field", b"GET /1k.txt HTTP/1.1\r\n Host: x\r\n\r\n", 400),
    ("tabs in the request line", b"GET\t/1k.txt\tHTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("a space after the version", b"GET /1k.txt HTTP/1.1 \r\nHost: x\r\n\r\n", 400),
    ("an HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400),
    ("unknown method FOO", b"FOO /1k.txt HTTP/1.1\r\nHost: x\r\n\r\n", 501),
    ("lower-case method get", b"get /1k.txt HTTP/1.1\r\nHost: x\r\n\r\n", 501),
    ("HTTP/2.0", b"GET /1k.txt HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    ("HTTP/1.2", b"GET /1k.txt HTTP/1.2\r\nHost: x\r\n\r\n", 505),
    ("HTTP/0.9 version", b"GET /1k.txt HTTP/0.9\r\nHost: x\r\n\r\n", 505),
    ("garbage version", b"GET /1k.txt HTXP/1.1\r\nHost: x\r\n\r\n", 400),
    ("version with trailing junk", b"GET /1k.txt HTTP/1.1x\r\nHost: x\r\n\r\n", 400),
    ("lower-case version", b"GET /1k.txt http/1.1\r\nHost: x\r\n\r\n", 400),
    ("no version", b"GET /1k.txt\r\nHost: x\r\n\r\n", 400),
    ("two spaces after the method", b"GET  /1k.txt HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("obs-fold", b"GET /1k.txt HTTP/1.1\r\nHost: x\r\nX-A: one\r\n two\r\n\r\n", 400),
    ("space before colon", b"GET /1k.txt HTTP/1.1\r\nHost : x\r\n\r\n", 400),
    ("header without colon", b"GET /1k.txt HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", 400),
    ("NUL in a header value", b"GET /1k.txt HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400),
    ("bare CR in a header", b"GET /1k.txt HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400),
    ("bare CR ending the request line", b"GET /1k.txt HTTP/1.1\rHost: x\r\n\r\n", 400),
    ("request line over 8192 bytes",
     b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    ("headers over 8192 bytes in all",
     b"GET /1k.txt HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-Pad%d: %s\r\n" % (i, b"p" * 1000)
                                                      for i in range(9)) + b"\r\n", 431),
    ("one header of 9000 bytes",
     b"GET /1k.txt HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n", 431),
    ("65 header fields", b"GET /1k.txt HTTP/1.1\r\n" + many_headers(64).encode() +
     b"Host: x\r\n\r\n", 431),
    ("Expect: foo", b"GET /1k.txt HTTP/1.1\r\nHost: x\r\nExpect: foo\r\n\r\n", 417),
]


def check_bad(t, srv, name, data, status):
    with kt.Conn(srv.port) as c:
        try:
            # A good request behind the bad one must not be answered.
            c.send(data + GOOD)
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            r = c.read_response()
        except Exception as e:  # noqa: BLE001
            t.ok(False, "%s: %d" % (name, status), "no response: %r" % e)
            return
        closed = c.wait_closed(3)
        extra = bytes(c.buf)
    t.eq(r.status, status, "%s: %d" % (name, status))
    t.eq(r.header("Connection"), "close", "%s: Connection: close" % name)
    t.ok(closed and b"HTTP/1.1" not in extra,
         "%s: closed without answering what follows" % name, extra[:200])
    t.ok(kt.serves(srv.port), "%s: a new connection is served" % name)


def test_bad_requests(t, srv):
    for name, data, status in BAD:
        check_bad(t, srv, name, data, status)


def test_limits_edges(t, srv):
    r, _ = kt.raw(srv.port, b"GET /test/hello HTTP/1.1\r\n" + many_headers(62).encode() +
                  b"Host: x\r\nConnection: close\r\n\r\n")
    t.eq((r.status, r.body), (200, b"hello\n"), "64 header fields: 200")
    rest = b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    # A long query on the callback mount: file paths have their own
    # PATH_MAX limit (a 414 from the file mount).
    head = b"GET /test/hello?q=" + b"a" * (8192 - 18 - len(rest)) + rest
    r, _ = kt.raw(srv.port, head)
    t.eq((len(head), r.status, r.body), (8192, 200, b"hello\n"),
         "a head of exactly 8192 bytes is accepted")
    r, _ = kt.raw(srv.port, head.replace(b"?q=", b"?qq="))
    t.eq((len(head) + 1, r.status), (8193, 431), "a head of 8193 bytes: 431")
    r, _ = kt.raw(srv.port, b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    t.eq(r.status, 414, "a file path longer than PATH_MAX: 414")


def test_lenient_but_valid(t, srv):
    echo5 = b'{"bytes":5,"fnv1a":"%s","pieces":1}\n' % kt.fnv1a(b"hello").encode()
    for name, data, body in (
            ("Transfer-Encoding in capitals", b"POST /test/echo HTTP/1.1\r\nHost: x\r\n"
             b"Transfer-Encoding: CHUNKED\r\n\r\n5\r\nhello\r\n0\r\n\r\n", echo5),
            ("Content-Length with OWS around it", b"POST /test/echo HTTP/1.1\r\nHost: x\r\n"
             b"Content-Length:\t5 \r\n\r\nhello", echo5),
            ("a tab and obs-text in a value", b"GET /test/headers HTTP/1.1\r\nHost: x\r\n"
             b"X-V: a\tb \xc3\xa9\r\n\r\n", None),
            ("no space after the colon", b"GET /test/hello HTTP/1.1\r\nHost:x\r\n\r\n",
             b"hello\n")):
        with kt.Conn(srv.port) as c:
            c.send(data)
            r = c.read_response()
        if body is None:
            t.ok(r.status == 200 and b"h: X-V: a\tb \xc3\xa9\n" in r.body, name + ": 200", r.body)
        else:
            t.eq((r.status, r.body), (200, body), name + ": 200")


def test_connect(t, srv):
    with kt.Conn(srv.port) as c:
        c.send(b"CONNECT localhost:80 HTTP/1.1\r\nHost: localhost:80\r\n\r\n" + GOOD)
        r = c.read_response()
        nxt = c.read_response()
    t.eq(r.status, 405, "CONNECT: 405")
    t.ok(r.has("Allow") and "CONNECT" not in r.header("Allow"), "CONNECT: Allow without CONNECT",
         r.header("Allow"))
    t.eq((nxt.status, nxt.body), (200, b"hello\n"), "CONNECT: the connection stays usable")


def test_one_byte_at_a_time(t, srv):
    with kt.Conn(srv.port) as c:
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c.send_slowly(b"GET /1k.txt HTTP/1.1\r\nHost: localhost\r\nX-Slow: yes\r\n\r\n", 1, 0.002)
        r = c.read_response()
        t.eq((r.status, r.body), (200, srv.docroot.files["1k.txt"]),
             "a request sent one byte at a time: 200")
        c.send_slowly(b"POST /test/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
                      1, 0.002)
        r = c.read_response()
        # How many pieces the body arrives in depends on scheduling: a
        # loaded machine may coalesce the bytes, so only bound it.
        m = re.match(rb'\{"bytes":5,"fnv1a":"%s","pieces":([1-5])\}\n$'
                     % kt.fnv1a(b"hello").encode(), r.body)
        t.ok(r.status == 200 and m is not None,
             "a POST sent one byte at a time on the same connection: 200, 5 bytes in 1-5 pieces",
             (r.status, r.body))


def test_http10(t, srv):
    with kt.Conn(srv.port) as c:
        c.send(b"GET /1k.txt HTTP/1.0\r\n\r\n")
        r = c.read_response()
        closed = c.wait_closed(3)
    t.eq((r.status, r.body), (200, srv.docroot.files["1k.txt"]), "HTTP/1.0 without Host: 200")
    t.eq(r.version, "HTTP/1.1", "the response is HTTP/1.1 (RFC 9110 6.2)")
    t.eq(r.header("Connection"), "close", "HTTP/1.0 without keep-alive: Connection: close")
    t.ok(closed, "HTTP/1.0 without keep-alive: closed after the response")

    with kt.Conn(srv.port) as c:
        c.send(b"GET /1k.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        r = c.read_response()
        t.eq((r.status, r.header("Connection")), (200, "keep-alive"),
             "HTTP/1.0 keep-alive: Connection: keep-alive")
        t.ok(c.no_data_for(0.3), "HTTP/1.0 keep-alive: the connection stays open")
        c.send(b"GET /test/hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        r = c.read_response()
        t.eq((r.status, r.body), (200, b"hello\n"), "HTTP/1.0 keep-alive: a second request")
        c.send(b"GET /test/stream?n=3&size=5 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        r = c.read_response()
        t.eq((r.status, r.framing, r.body), (200, "close", kt.pattern(15)),
             "HTTP/1.0 and a body of unknown length: no chunking, ended by the close")
        t.eq(r.header("Connection"), "close", "... and it says Connection: close")


def test_connection_close(t, srv):
    with kt.Conn(srv.port) as c:
        c.send(b"GET /1k.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" + GOOD)
        r = c.read_response()
        closed = c.wait_closed(3)
        extra = bytes(c.buf)
    t.eq((r.status, r.header("Connection")), (200, "close"), "Connection: close is echoed")
    t.ok(closed and not extra, "Connection: close: closed, the next request is not answered",
         extra[:100])
    with kt.Conn(srv.port) as c:
        c.send(b"GET /1k.txt HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, CLOSE\r\n\r\n")
        r = c.read_response()
        t.ok(r.header("Connection") == "close" and c.wait_closed(3),
             "close in a list of connection options, any case, closes")


def test_absolute_form(t, srv):
    r, _ = kt.raw(srv.port, b"GET http://localhost/1k.txt HTTP/1.1\r\nHost: localhost\r\n"
                  b"Connection: close\r\n\r\n")
    t.eq((r.status, r.body), (200, srv.docroot.files["1k.txt"]), "absolute-form target: 200")
    r, _ = kt.raw(srv.port, b"GET http://localhost HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    t.eq((r.status, r.body), (200, srv.docroot.files["index.html"]),
         "absolute-form without a path is the root")
    r, _ = kt.raw(srv.port, b"GET http://localhost:%d/test/headers?a=1 HTTP/1.1\r\n"
                  b"Host: elsewhere\r\nConnection: close\r\n\r\n" % srv.port)
    t.ok(r.status == 200 and b"path: /test/headers\n" in r.body and b"query: a=1\n" in r.body,
         "absolute-form with a port and a query: path and query as in origin-form", r.body)


def test_leading_empty_lines(t, srv):
    r, _ = kt.raw(srv.port, b"\r\n\r\nGET /test/hello HTTP/1.1\r\nHost: x\r\n"
                  b"Connection: close\r\n\r\n")
    t.eq((r.status, r.body), (200, b"hello\n"), "empty lines before the request line: 200")
    r, _ = kt.raw(srv.port, b"GET /test/hello HTTP/1.1\nHost: x\nConnection: close\n\n")
    t.eq((r.status, r.body), (200, b"hello\n"), "bare LF line ends are accepted (RFC 9112 2.2)")


def test_head_then_eof(t, srv):
    # A client that half-closes after its request still gets the answer.
    with kt.Conn(srv.port) as c:
        c.send(b"GET /1k.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        c.sock.shutdown(socket.SHUT_WR)
        r = c.read_response()
        closed = c.wait_closed(3)
    t.eq((r.status, r.body), (200, srv.docroot.files["1k.txt"]),
         "a request followed by a half-close is answered")
    t.ok(closed, "... and then the connection is closed")
    with kt.Conn(srv.port) as c:
        c.send(b"GET /test/delay?ms=100 HTTP/1.1\r\nHost: x\r\n\r\n")
        c.sock.shutdown(socket.SHUT_WR)
        r = c.read_response()
    t.eq((r.status, r.body), (200, b"delayed\n"), "a half-closed client gets a late answer too")
    # Half-close behind a pipelined pair: both answers arrive whole, in
    # order, and then the server closes the connection.
    for first in ("/1m.bin", "/test/big?bytes=3000000", "/test/stream?n=500&size=1000",
                  "/test/delay?ms=100"):
        with kt.Conn(srv.port, timeout=10, rcvbuf=16384) as c:
            c.send(kt.build_request("GET", first) + kt.build_request("GET", "/test/hello"))
            c.sock.shutdown(socket.SHUT_WR)
            time.sleep(0.1)
            r = c.read_response()
            whole = r.status == 200 and len(r.body) == {"/1m.bin": 1 << 20}.get(
                first, 3000000 if "big" in first else 500000 if "stream" in first else 8)
            try:
                nxt = c.read_response()
                second = (nxt.status, nxt.body) == (200, b"hello\n")
            except EOFError:
                second = "dropped"
            t.ok(whole and second is True and c.wait_closed(3),
                 "%s + hello then FIN: first answer whole, then %s and the close"
                 % (first, "the second" if second is True else "no second"),
                 (r.status, len(r.body), second))
    with kt.Conn(srv.port) as c:
        c.send(b"GET /1k.txt HTTP/1.1\r\nHo")
        c.sock.shutdown(socket.SHUT_WR)
        t.ok(c.wait_closed(3) and not c.buf, "EOF inside a head: closed without an answer",
             bytes(c.buf[:100]))
    t.ok(kt.serves(srv.port), "server still serves")


def test_long_head_split(t, srv):
    # Heads longer than the first read are kept by the connection and
    # joined with the next read; once used up they must never be parsed
    # again (a replayed request would answer twice).
    for size in (1000, 1024, 1500, 4000, 7000):
        pad = b"x" * size
        req = b"GET /test/hello HTTP/1.1\r\nHost: localhost\r\nX-Pad: " + pad + b"\r\n\r\n"
        for cut in (len(req) // 2, len(req) - 1):
            with kt.Conn(srv.port) as c:
                c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                c.send(req[:cut])
                time.sleep(0.05)
                c.send(req[cut:])
                r1 = c.read_response()
                c.send(kt.build_request("GET", "/1k.txt"))
                r2 = c.read_response()
                t.ok((r1.status, r1.body, r2.status, r2.body) ==
                     (200, b"hello\n", 200, srv.docroot.files["1k.txt"]),
                     "a %d-byte head in two reads (cut at %d): answered once, then the next"
                     % (len(req), cut), (r1.status, r1.body[:40], r2.status, r2.body[:40]))


if __name__ == "__main__":
    kt.run_tests([test_bad_requests, test_limits_edges, test_lenient_but_valid, test_connect, test_one_byte_at_a_time, test_http10,
                  test_connection_close, test_absolute_form, test_leading_empty_lines,
                  test_head_then_eof, test_long_head_split])
