#!/usr/bin/python3
"""Responses produced by a handler over time: chunked streams with exact
chunk framing, a 50 MB body read slowly by the client while the server's
memory stays bounded, timers and posts from other threads, concurrency
of waiting responses, HEAD on callback endpoints, and clients that go
away in the middle of a response."""
import signal
import socket
import struct
import sys
import threading
import time

sys.dont_write_bytecode = True
import kitetest as kt  # noqa: E402

BIG = 50000000


def test_stream(t, srv):
    r = kt.request(srv.port, "GET", "/test/stream?n=1000&size=100")
    t.eq((r.status, r.header("Content-Type"), r.framing), (200, "text/plain", "chunked"),
         "stream n=1000 size=100: 200, chunked")
    t.eq(r.header("Content-Length"), None, "stream: no Content-Length")
    t.eq(len(r.body), 100000, "stream n=1000 size=100: 100000 bytes")
    t.ok(r.body == kt.pattern(100000), "stream: the bytes are the pattern")
    t.eq(r.chunk_sizes, [100] * 1000, "stream: one chunk of 100 bytes per write")
    t.eq(r.trailers, [], "stream: no trailers")
    r = kt.request(srv.port, "GET", "/test/stream?n=10&size=200000")
    t.eq((r.status, len(r.body), r.body == kt.pattern(655360)), (200, 655360, True),
         "stream of 10 x 64 KiB pieces")
    r = kt.request(srv.port, "GET", "/test/stream?n=0")
    t.eq((r.status, r.framing, r.body), (200, "chunked", b""), "an empty stream: just 0\\r\\n\\r\\n")
    r = kt.request(srv.port, "GET", "/test/stream?n=3&size=0")
    t.eq((r.status, r.body, r.chunk_sizes), (200, b"", []),
         "empty writes make no chunks (a 0 chunk would end the body)")


def test_headers_endpoint(t, srv):
    r = kt.request(srv.port, "GET", "/test/headers?a=1&b=%20", headers=[("X-Test", "value  ")])
    want = (b"method: GET\npath: /test/headers\nmount-path: /headers\nquery: a=1&b=%20\n"
            b"version: 11\nh: Host: localhost\nh: X-Test: value\n")
    t.eq((r.status, r.body), (200, want), "/test/headers shows the request as parsed")
    r = kt.request(srv.port, "GET", "/test/%68eaders", version="HTTP/1.0", host=None)
    t.eq((r.status, r.body), (200, b"method: GET\npath: /test/headers\nmount-path: /headers\n"
                                   b"query: \nversion: 10\n"),
         "/test/%68eaders: decoded path, HTTP/1.0")


def test_big_slow_reader(t, srv):
    base = srv.rss_kb()
    with kt.Conn(srv.port, timeout=10, rcvbuf=65536) as c:
        c.send(kt.build_request("GET", "/test/big?bytes=%d" % BIG))
        h = c.read_head()
        t.eq((h.status, h.header("Content-Length")), (200, str(BIG)), "big: 200 with its length")
        time.sleep(1.0)  # not reading at all
        stalled = srv.rss_kb()
        body = bytearray(c.buf)
        c.buf.clear()
        peak = stalled
        t0 = time.monotonic()
        while time.monotonic() - t0 < 1.5:  # read slowly: ~64 KB every 20 ms
            body += c.sock.recv(65536)
            time.sleep(0.02)
            peak = max(peak, srv.rss_kb())
        slow = len(body)
        while len(body) < BIG:
            d = c.sock.recv(1 << 20)
            if not d:
                break
            body += d
        t.diag("VmRSS: base %d kB, stalled %d kB, peak while reading slowly %d kB, %d bytes read "
               "slowly" % (base, stalled, peak, slow))
        t.ok(stalled - base < 16 * 1024, "a stalled reader: server memory grows < 16 MB",
             "grew %d kB" % (stalled - base))
        t.ok(peak < 64 * 1024, "a slow reader: server VmRSS stays < 64 MB", "peak %d kB" % peak)
        t.ok(peak - base < 32 * 1024, "a slow reader: server memory grows < 32 MB",
             "grew %d kB" % (peak - base))
        t.ok(slow < BIG / 2, "the slow phase really was slow (%d bytes)" % slow)
        t.eq(len(body), BIG, "big: all %d bytes arrive" % BIG)
        t.ok(body == kt.pattern(BIG), "big: the bytes are the pattern")
        c.send(kt.build_request("GET", "/test/hello"))
        r = c.read_response()
        t.eq((r.status, r.body), (200, b"hello\n"), "keep-alive after 50 MB")


def test_slow_file_reader(t, srv):
    # A large file to a reader with a small window: sendfile blocks, the
    # rest goes through the asynchronous write path.
    d = srv.docroot
    with kt.Conn(srv.port, timeout=10, rcvbuf=16384) as c:
        c.send(kt.build_request("GET", "/1m.bin") + kt.build_request("GET", "/64k.bin") +
               kt.build_request("GET", "/1m.bin", [("Range", "bytes=1000-")]))
        time.sleep(0.3)
        h = c.read_head()
        body = bytearray()
        while len(body) < len(d.files["1m.bin"]):
            want = min(4096, len(d.files["1m.bin"]) - len(body))
            if len(c.buf) < want:
                c._fill()
            take = min(want, len(c.buf))
            body += c.buf[:take]
            del c.buf[:take]
            if len(body) < 200000:
                time.sleep(0.001)
        r2 = c.read_response()
        r3 = c.read_response()
    t.eq((h.status, bytes(body) == d.files["1m.bin"]), (200, True),
         "1 MB file to a slow reader: every byte")
    t.eq((r2.status, r2.body == d.files["64k.bin"], r3.status, r3.body == d.files["1m.bin"][1000:]),
         (200, True, 206, True), "the pipelined file and range behind it follow intact")


def test_stream_small_window(t, srv):
    # The stream blocks on a small window: its pieces go through the
    # asynchronous write path, and on_writeable resumes after each drain.
    with kt.Conn(srv.port, timeout=10, rcvbuf=16384) as c:
        c.send(kt.build_request("GET", "/test/stream?n=2000&size=1000") +
               kt.build_request("GET", "/test/stream?n=20&size=50000"))
        time.sleep(0.2)
        a = c.read_response()
        b = c.read_response()
    t.eq((a.status, len(a.body), a.body == kt.pattern(2000000), a.chunk_sizes == [1000] * 2000),
         (200, 2000000, True, True), "a 2 MB stream through a 16 KB window: exact chunks and bytes")
    t.eq((b.status, b.body == kt.pattern(1000000)), (200, True),
         "a pipelined stream of 50 KB pieces behind it")


def test_big_sizes(t, srv):
    for n in (0, 1, 65536, 65537, 1048577):
        r = kt.request(srv.port, "GET", "/test/big?bytes=%d" % n, timeout=10)
        t.eq((r.status, r.header("Content-Length"), r.body == kt.pattern(n)), (200, str(n), True),
             "big?bytes=%d" % n)


def test_delay_thread(t, srv):
    t0 = time.monotonic()
    r = kt.request(srv.port, "GET", "/test/delay?ms=300")
    dt = time.monotonic() - t0
    t.eq((r.status, r.body), (200, b"delayed\n"), "/test/delay?ms=300")
    t.ok(0.28 <= dt < 2, "/test/delay waited ~300 ms", "%.3f s" % dt)
    t0 = time.monotonic()
    r = kt.request(srv.port, "GET", "/test/thread?ms=150")
    dt = time.monotonic() - t0
    t.eq((r.status, r.body), (200, b"posted\n"), "/test/thread: answered by kite_post")
    t.ok(0.14 <= dt < 2, "/test/thread waited ~150 ms", "%.3f s" % dt)


def parallel(port, target, n):
    conns = [kt.Conn(port) for _ in range(n)]
    try:
        for c in conns:
            c.send(kt.build_request("GET", target))
        return [(r.status, r.body) for r in (c.read_response() for c in conns)]
    finally:
        for c in conns:
            c.close()


def test_concurrent_waits(t, srv):
    t0 = time.monotonic()
    got = parallel(srv.port, "/test/delay?ms=400", 30)
    dt = time.monotonic() - t0
    t.eq(got, [(200, b"delayed\n")] * 30, "30 concurrent delayed responses")
    # One after another would take 12 s; the bound leaves room for a loaded machine.
    t.ok(dt < 6, "... answered together, not one after another", "%.3f s" % dt)
    t0 = time.monotonic()
    got = parallel(srv.port, "/test/thread?ms=300", 20)
    dt = time.monotonic() - t0
    t.eq(got, [(200, b"posted\n")] * 20, "20 concurrent posts from other threads")
    t.ok(dt < 3.5, "... answered together (6 s one after another)", "%.3f s" % dt)


def test_head_callback(t, srv):
    for target, clen, te in (("/test/hello", "6", None), ("/test/big?bytes=100000", "100000", None),
                             ("/test/stream?n=5&size=10", None, "chunked"),
                             ("/test/delay?ms=50", "8", None), ("/formtest", None, None)):
        with kt.Conn(srv.port) as c:
            c.send(kt.build_request("HEAD", target) + kt.build_request("GET", "/test/hello"))
            h = c.read_response("HEAD")
            nxt = c.read_response()
        t.eq(h.status, 200, "HEAD %s: 200" % target)
        if clen is not None:
            t.eq(h.header("Content-Length"), clen, "HEAD %s: Content-Length %s" % (target, clen))
        if te is not None:
            t.eq(h.header("Transfer-Encoding"), te, "HEAD %s: Transfer-Encoding %s" % (target, te))
        t.eq((nxt.status, nxt.body), (200, b"hello\n"), "HEAD %s: no body bytes" % target)


def rst_close(c):
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()


def test_disconnects(t, srv):
    cases = [("/test/big?bytes=%d" % BIG, 100000), ("/test/stream?n=100000&size=1000", 50000),
             ("/1m.bin", 10000), ("/64k.bin", 1000), ("/test/delay?ms=300", 0),
             ("/test/thread?ms=200", 0), ("/test/stream?n=100000&size=10", 0)]
    for rst in (False, True):
        for target, nread in cases:
            c = kt.Conn(srv.port, rcvbuf=32768)
            c.send(kt.build_request("GET", target))
            got = 0
            while got < nread:
                d = c.sock.recv(65536)
                if not d:
                    break
                got += len(d)
            rst_close(c) if rst else c.close()
    time.sleep(0.5)  # let the delayed timers and posted callbacks come due
    t.ok(srv.alive() and kt.serves(srv.port),
         "clients that leave mid-response (FIN and RST): the server goes on")
    # Many at once, while the server is writing.
    conns = []
    for i in range(20):
        c = kt.Conn(srv.port)
        c.send(kt.build_request("GET", "/test/big?bytes=%d" % BIG))
        conns.append(c)
    time.sleep(0.2)
    for i, c in enumerate(conns):
        rst_close(c) if i % 2 else c.close()
    t.ok(srv.alive() and kt.serves(srv.port), "20 big downloads dropped at once: server goes on")


def test_threads_keep_order(t, srv):
    # A posted answer on a keep-alive connection, then more requests.
    with kt.Conn(srv.port) as c:
        for _ in range(5):
            c.send(kt.build_request("GET", "/test/thread?ms=10") +
                   kt.build_request("GET", "/test/hello"))
            a, b = c.read_response(), c.read_response()
            if (a.body, b.body) != (b"posted\n", b"hello\n"):
                break
        t.eq((a.body, b.body), (b"posted\n", b"hello\n"),
             "posted answers interleave with synchronous ones in order")
    done = []

    def worker():
        try:
            done.append(parallel(srv.port, "/test/thread?ms=20", 5))
        except Exception as e:  # noqa: BLE001
            done.append(e)
    ths = [threading.Thread(target=worker) for _ in range(4)]
    for th in ths:
        th.start()
    for th in ths:
        th.join(20)
    t.eq(done, [[(200, b"posted\n")] * 5] * 4, "4 client threads x 5 posted answers")


def test_shutdown_busy(t, _srv):
    # Stopping a server in the middle of everything: a download, a pending
    # timer, posts due before and after the stop, a stream, a half head, a
    # half body and an idle keep-alive connection, on two threads.
    for sig, args in ((signal.SIGINT, []), (signal.SIGTERM, kt.threads_args())):
        s = kt.Server(t, args=args, name=" ".join(["busy server"] + args))
        s.start()
        conns = []
        try:
            for tg in ("/test/big?bytes=%d" % BIG, "/test/delay?ms=3000", "/test/thread?ms=50",
                       "/test/thread?ms=3000", "/test/stream?n=100000&size=100") * 2:
                c = kt.Conn(s.port)
                c.send(kt.build_request("GET", tg))
                conns.append(c)
            c = kt.Conn(s.port)
            c.send(b"GET /1k.txt HTTP/1.1\r\nHo")
            conns.append(c)
            c = kt.Conn(s.port)
            c.send(kt.build_request("POST", "/test/echo", [("Content-Length", "100000")]) +
                   b"x" * 1000)
            conns.append(c)
            c = kt.Conn(s.port)
            c.send(kt.build_request("GET", "/1k.txt"))
            c.read_response()
            conns.append(c)
            time.sleep(0.3)
        finally:
            s.stop(sig)
            for c in conns:
                c.close()


if __name__ == "__main__":
    kt.run_tests([test_stream, test_headers_endpoint, test_big_slow_reader, test_slow_file_reader, test_stream_small_window,
                  test_big_sizes,
                  test_delay_thread, test_concurrent_waits, test_head_callback, test_disconnects,
                  test_threads_keep_order, test_shutdown_busy])
