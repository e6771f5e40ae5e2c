#!/usr/bin/python3
"""Persistent connections and pipelining: 100 requests on one connection,
pipelined bursts answered in order (files, callbacks, errors, a slow
response first, input held while output is queued), the keep-alive idle
timeout (-k 1) and the request header timeout (-T 1)."""
import os
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True
import kitetest as kt  # noqa: E402


def req(method, target, headers=(), body=None):
    return kt.build_request(method, target, list(headers), body)


def test_hundred_requests(t, srv):
    d = srv.docroot
    targets = ["/1k.txt", "/test/hello", "/64k.bin", "/nope", "/sub/"]
    want = {"/1k.txt": (200, d.files["1k.txt"]), "/test/hello": (200, b"hello\n"),
            "/64k.bin": (200, d.files["64k.bin"]), "/nope": (404, None),
            "/sub/": (200, d.files["sub/index.html"])}
    bad = []
    with kt.Conn(srv.port) as c:
        for i in range(100):
            tg = targets[i % len(targets)]
            c.send(req("GET", tg))
            r = c.read_response()
            st, body = want[tg]
            if r.status != st or (body is not None and r.body != body) or r.has("Connection"):
                bad.append((i, tg, r))
        alive = c.no_data_for(0.2)
    t.ok(not bad, "100 requests on one connection, all answered right", bad[:3])
    t.ok(alive, "the connection is still open after 100 requests")


def expect_seq(t, c, seq, name):
    """Read responses for @seq = [(method, status, body or None)] in order."""
    got = []
    for method, status, body in seq:
        r = c.read_response(method)
        got.append((r.status, r.body if body is not None else None))
    want = [(s, b) for _, s, b in seq]
    bad = [(i, g, w) for i, (g, w) in enumerate(zip(got, want)) if g != w]
    t.ok(not bad, name, "first mismatches (index, got, want): %s" % kt.short(bad[:3], 600))


def test_pipeline_mix(t, srv):
    d = srv.docroot
    items = [
        ("GET", "/1k.txt", 200, d.files["1k.txt"]),
        ("GET", "/test/hello", 200, b"hello\n"),
        ("GET", "/nope", 404, None),
        ("GET", "/64k.bin", 200, d.files["64k.bin"]),
        ("HEAD", "/1k.txt", 200, b""),
        ("GET", "/test/stream?n=3&size=7", 200, kt.pattern(21)),
        ("GET", "/sub", 301, None),
        ("GET", "/a%20b.txt", 200, d.files["a b.txt"]),
        ("GET", "/1m.bin", 200, d.files["1m.bin"]),
        ("GET", "/test/big?bytes=70000", 200, kt.pattern(70000)),
    ]
    seq = [items[i % len(items)] for i in range(20)]
    with kt.Conn(srv.port, timeout=10) as c:
        c.send(b"".join(req(m, tg) for m, tg, _, _ in seq))
        expect_seq(t, c, [(m, s, b) for m, _, s, b in seq],
                   "20 pipelined requests in one send: 20 responses in order")
        t.ok(c.no_data_for(0.2), "nothing more after the 20 responses")
        c.send(req("GET", "/test/hello"))
        r = c.read_response()
        t.eq((r.status, r.body), (200, b"hello\n"), "the connection goes on after the burst")


def test_pipeline_slow_first(t, srv):
    d = srv.docroot
    seq = [("GET", "/test/delay?ms=200", 200, b"delayed\n"), ("GET", "/test/hello", 200, b"hello\n"),
           ("GET", "/1k.txt", 200, d.files["1k.txt"]), ("GET", "/test/thread?ms=50", 200, b"posted\n"),
           ("GET", "/nope", 404, None), ("GET", "/test/delay?ms=50", 200, b"delayed\n"),
           ("GET", "/test/hello", 200, b"hello\n")]
    with kt.Conn(srv.port) as c:
        t0 = time.monotonic()
        c.send(b"".join(req(m, tg) for m, tg, _, _ in seq))
        expect_seq(t, c, [(m, s, b) for m, _, s, b in seq],
                   "a slow request first, fast ones behind it: order kept")
        dt = time.monotonic() - t0
    t.ok(0.3 <= dt < 3, "the pipeline took the delays it asked for", "%.3f s" % dt)


def test_pipeline_held_input(t, srv):
    # More pipelined input than a head's worth while the first response is
    # pending: reading pauses, then resumes when it is done.
    n = 400
    with kt.Conn(srv.port, timeout=10) as c:
        c.send(req("GET", "/test/delay?ms=100") + req("GET", "/test/hello") * n)
        expect_seq(t, c, [("GET", 200, b"delayed\n")] + [("GET", 200, b"hello\n")] * n,
                   "a delay then %d pipelined requests (%d bytes) all answered in order"
                   % (n, n * len(req("GET", "/test/hello"))))
    # Large responses fill the output queue past its high mark: requests
    # behind them wait, nothing is lost or reordered.
    d = srv.docroot
    with kt.Conn(srv.port, timeout=15) as c:
        c.send((req("GET", "/1m.bin") + req("GET", "/test/big?bytes=300000") +
                req("GET", "/test/hello")) * 5)
        expect_seq(t, c, [("GET", 200, d.files["1m.bin"]), ("GET", 200, kt.pattern(300000)),
                          ("GET", 200, b"hello\n")] * 5,
                   "pipelined large responses with small ones between: all in order")


def test_pipeline_not_reading(t, srv):
    # 1000 pipelined requests for 64 KB each (64 MB if all were buffered)
    # from a client that reads nothing for a while: the server takes the
    # next request only when the previous answer is out, so its memory
    # stays flat; then every answer arrives, in order.
    n = 1000
    want = kt.pattern(65536)
    base = srv.rss_kb()
    with kt.Conn(srv.port, timeout=20, rcvbuf=32768) as c:
        burst = req("GET", "/test/big?bytes=65536") * n
        errors = []

        def sender():
            try:
                c.sock.sendall(burst)
            except OSError as e:
                errors.append(e)
        th = threading.Thread(target=sender, daemon=True)
        th.start()
        time.sleep(1.0)
        grown = srv.rss_kb() - base
        good = 0
        for _ in range(n):
            r = c.read_response()
            good += (r.status, r.body) == (200, want)
        th.join(10)
    t.ok(grown < 16 * 1024, "a client that does not read: server memory grows < 16 MB",
         "grew %d kB" % grown)
    t.eq((good, errors), (n, []), "... and then all %d pipelined answers arrive" % n)


def test_pipeline_post(t, srv):
    body = b"x" * 1000
    echo = b'{"bytes":1000,"fnv1a":"%s","pieces":1}\n' % kt.fnv1a(body).encode()
    with kt.Conn(srv.port) as c:
        c.send(req("GET", "/test/hello") + req("POST", "/test/echo", body=body) +
               req("GET", "/test/hello") +
               b"POST /test/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"3e8\r\n" + body + b"\r\n0\r\n\r\n" + req("GET", "/test/hello"))
        seq = [("GET", 200, b"hello\n"), ("POST", 200, None), ("GET", 200, b"hello\n"),
               ("POST", 200, None), ("GET", 200, b"hello\n")]
        got = [c.read_response(m) for m, _, _ in seq]
    t.eq([(r.status, r.body) for r in got],
         [(200, b"hello\n"), (200, echo), (200, b"hello\n"), (200, echo), (200, b"hello\n")],
         "pipelined POSTs (Content-Length and chunked) between GETs")


def test_idle_timeout(t, _srv):
    with kt.Server(t, args=["-k", "1", "-T", "1"], name="server -k 1 -T 1") as s:
        with kt.Conn(s.port) as c:
            c.send(req("GET", "/test/hello"))
            r = c.read_response()
            t0 = time.monotonic()
            closed = c.wait_closed(4)
            dt = time.monotonic() - t0
            t.eq((r.status, r.has("Connection")), (200, False), "-k 1: a keep-alive response")
            t.ok(closed and 0.8 <= dt <= 3.0, "-k 1: the idle connection is closed after ~1 s",
                 "closed=%s after %.3f s" % (closed, dt))
            t.eq(bytes(c.buf), b"", "-k 1: nothing is sent before the idle close")
        # Requests keep a connection alive past the idle timeout.
        with kt.Conn(s.port) as c:
            ok = True
            for _ in range(4):
                c.send(req("GET", "/test/hello"))
                ok = ok and c.read_response().status == 200
                time.sleep(0.5)
            t.ok(ok, "-k 1: a connection used every 0.5 s for 2 s stays open")

        # -T 1: half a request line, then silence.
        with kt.Conn(s.port) as c:
            c.send(b"GET /test/hel")
            t0 = time.monotonic()
            closed = c.wait_closed(5)
            dt = time.monotonic() - t0
            data = bytes(c.buf)
        t.ok(closed and dt <= 3.0, "-T 1: a stalled head is dropped within ~1 s",
             "closed=%s after %.3f s" % (closed, dt))
        t.ok(data.startswith(b"HTTP/1.1 408 "), "-T 1: a started request gets 408 Request Timeout",
             data[:200])
        # A body that stops coming.
        with kt.Conn(s.port) as c:
            c.send(b"POST /test/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
            t0 = time.monotonic()
            closed = c.wait_closed(5)
            dt = time.monotonic() - t0
            data = bytes(c.buf)
        t.ok(closed and dt <= 3.0 and data.startswith(b"HTTP/1.1 408 "),
             "-T 1: a stalled body gets 408 and the close", "closed=%s %.3f s %r"
             % (closed, dt, data[:100]))
        # A long upload that keeps coming is not a stalled one.
        data = os.urandom(25 * 40000)
        with kt.Conn(s.port) as c:
            c.send(req("POST", "/test/echo", [("Content-Length", str(len(data)))]))
            t0 = time.monotonic()
            try:
                for i in range(25):
                    c.send(data[i * 40000:(i + 1) * 40000])
                    time.sleep(0.1)
                r = c.read_response()
                got = (r.status, r.body.startswith(b'{"bytes":%d,"fnv1a":"%s"'
                                                   % (len(data), kt.fnv1a(data).encode())))
            except OSError as e:
                got = ("cut off after %.2f s" % (time.monotonic() - t0), e)
        t.eq(got, (200, True), "-T 1: an upload that keeps coming for 2.5 s is not cut off")
        # A connection that never sends a byte.
        with kt.Conn(s.port) as c:
            t0 = time.monotonic()
            closed = c.wait_closed(5)
            dt = time.monotonic() - t0
            t.ok(closed and dt <= 3.0 and not c.buf,
                 "-T 1: a silent connection is closed without a response",
                 "closed=%s %.3f s %r" % (closed, dt, bytes(c.buf[:100])))
        # Slow but steady, one byte every 0.3 s: the head timeout covers the
        # whole head, so a trickle is cut off too.
        with kt.Conn(s.port) as c:
            c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            t0 = time.monotonic()
            try:
                c.send_slowly(b"GET /test/hello HTTP/1.1\r\nHost: x\r\n\r\n", 1, 0.3)
            except (BrokenPipeError, ConnectionResetError):
                pass
            closed = c.wait_closed(3)
            dt = time.monotonic() - t0
            t.ok(closed and bytes(c.buf).startswith(b"HTTP/1.1 408 ") and dt < 15,
                 "-T 1: a head trickled over many seconds is cut off with 408 (slowloris)",
                 "closed=%s %.3f s %r" % (closed, dt, bytes(c.buf[:80])))
        t.ok(kt.serves(s.port), "-k 1 -T 1: the server still serves")


def test_still_up(t, srv):
    t.ok(srv.alive() and kt.serves(srv.port), "the server stays up")


if __name__ == "__main__":
    kt.run_tests([test_hundred_requests, test_pipeline_mix, test_pipeline_slow_first,
                  test_pipeline_held_input, test_pipeline_not_reading,
                  test_pipeline_post, test_idle_timeout, test_still_up])
