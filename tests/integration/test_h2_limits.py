#!/usr/bin/python3
"""HTTP/2 limits and attack patterns at frame level (raw frames, HPACK by
python3-hpack): rapid reset (CVE-2023-44487), CONTINUATION flood
(CVE-2024-27316), ping and SETTINGS floods, an oversized SETTINGS frame,
an HPACK bomb, a zero-window stall, max concurrent streams, the SETTINGS
timeout; each ends in GOAWAY or RST_STREAM, the server's memory stays
bounded and it goes on serving. Then Upgrade: h2c, and a graceful
GOAWAY when the server drains."""
import signal
import socket
import struct
import subprocess
import sys
import time

sys.dont_write_bytecode = True
import hpack  # noqa: E402
import kitetest as kt  # noqa: E402
import kiteh2  # noqa: E402

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = 0, 1, 3, 4, 6, 7, 8, 9
END_STREAM, ACK, END_HEADERS = 1, 1, 4
NO_ERROR, SETTINGS_TIMEOUT, REFUSED_STREAM, ENHANCE_YOUR_CALM = 0, 4, 7, 11


def frame(ftype, flags, sid, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", sid) + \
        payload


def settings(**kv):
    ids = {"window": 4, "streams": 3, "table": 1}
    return frame(SETTINGS, 0, 0, b"".join(struct.pack(">HI", ids[k], v) for k, v in kv.items()))


def req_block(enc, path, extra=()):
    return enc.encode([(":method", "GET"), (":path", path), (":scheme", "http"),
                       (":authority", "localhost")] + list(extra))


class Raw:
    """A plain h2c connection spoken in raw frames."""

    def __init__(self, port, rcvbuf=None, ack=True, first=b""):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", port))
        self.buf = b""
        self.enc = hpack.Encoder()
        self.frames = []
        self.dec = hpack.Decoder()
        self.status = {}  # stream -> :status of its response
        self.closed = False
        self.ack = ack
        self.sock.sendall(PREFACE + (first or settings()))

    def send(self, data):
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def read(self, until, timeout=10):
        """Read frames until until(frame) is true, EOF, or the timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while len(self.buf) >= 9:
                n = struct.unpack(">I", b"\0" + self.buf[:3])[0]
                if len(self.buf) < 9 + n:
                    break
                f = (self.buf[3], self.buf[4], struct.unpack(">I", self.buf[5:9])[0] & 0x7FFFFFFF,
                     self.buf[9:9 + n])
                self.buf = self.buf[9 + n:]
                self.frames.append(f)
                if f[0] == HEADERS:
                    hdrs = dict(self.dec.decode(f[3]))
                    if ":status" in hdrs:
                        self.status[f[2]] = hdrs[":status"]
                if f[0] == SETTINGS and not f[1] & ACK and self.ack:
                    self.send(frame(SETTINGS, ACK, 0))
                if until(f):
                    return f
            try:
                self.sock.settimeout(max(0.01, deadline - time.monotonic()))
                d = self.sock.recv(65536)
            except socket.timeout:
                break
            except OSError:
                d = b""
            if not d:
                self.closed = True
                return None
            self.buf += d
        return None

    def goaway(self, timeout=10):
        f = self.read(lambda f: f[0] == GOAWAY, timeout)
        return struct.unpack(">I", f[3][4:8])[0] if f else None

    def closes(self, timeout=10):
        self.read(lambda f: False, timeout)
        return self.closed

    def close(self):
        self.sock.close()


def serving(t, srv, what):
    c = kiteh2.Conn(srv.port)
    r = c.get("/test/hello")
    c.close()
    t.ok(r.data == b"hello\n", "after %s, the server serves a new connection" % what)


def bounded(t, srv, rss0, what, limit_kb=64 * 1024):
    rss = srv.rss_kb()
    t.ok(rss - rss0 < limit_kb, "%s: server memory stays bounded (%d -> %d KiB)" %
         (what, rss0, rss), rss)


def test_rapid_reset(t, srv):
    rss0 = srv.rss_kb()
    c = Raw(srv.port)
    burst = []
    for i in range(2000):
        sid = 1 + 2 * i
        burst.append(frame(HEADERS, END_STREAM | END_HEADERS, sid,
                           req_block(c.enc, "/test/delay?ms=2000")))
        burst.append(frame(RST, 0, sid, struct.pack(">I", 8)))
    c.send(b"".join(burst))
    code = c.goaway()
    t.eq(code, ENHANCE_YOUR_CALM, "rapid reset: GOAWAY ENHANCE_YOUR_CALM")
    t.ok(c.closes(), "rapid reset: the connection is closed")
    c.close()
    bounded(t, srv, rss0, "rapid reset")
    serving(t, srv, "rapid reset")


def test_continuation_flood(t, srv):
    rss0 = srv.rss_kb()
    c = Raw(srv.port)
    block = req_block(c.enc, "/1k.txt")
    frag = hpack.Encoder().encode([("x-flood", "a" * 100)])
    data = [frame(HEADERS, 0, 1, block)] + [frame(CONTINUATION, 0, 1, frag)] * 20000
    c.send(b"".join(data))
    code = c.goaway()
    t.ok(code is not None and code != NO_ERROR,
         "CONTINUATION flood: GOAWAY with an error (%s)" % code)
    t.ok(c.closes(), "CONTINUATION flood: the connection is closed")
    c.close()
    bounded(t, srv, rss0, "CONTINUATION flood")
    serving(t, srv, "a CONTINUATION flood")


def flood(t, srv, what, unit):
    rss0 = srv.rss_kb()
    c = Raw(srv.port, rcvbuf=4096)
    chunk = unit * 2000
    sent = 0
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and sent < 400:
        if not c.send(chunk):
            break
        sent += 1
    # The peer reads nothing: the server must stop queueing acks and go.
    t.ok(c.closes(15), "%s: the connection is closed (%d x 2000 frames sent)" % (what, sent))
    c.close()
    bounded(t, srv, rss0, what)
    serving(t, srv, "a " + what)


def test_ping_flood(t, srv):
    flood(t, srv, "ping flood", frame(PING, 0, 0, b"12345678"))


def test_settings_flood(t, srv):
    flood(t, srv, "SETTINGS flood", settings(window=65535))


def test_settings_too_many(t, srv):
    c = Raw(srv.port)
    big = frame(SETTINGS, 0, 0, struct.pack(">HI", 4, 65535) * 100)
    c.send(big)
    code = c.goaway()
    t.ok(code is not None and code != NO_ERROR, "a SETTINGS frame of 100 entries: GOAWAY (%s)" %
         code)
    c.close()


def test_hpack_bomb(t, srv):
    rss0 = srv.rss_kb()
    c = Raw(srv.port)
    enc = c.enc
    # One 4 KiB field into the dynamic table, then a block of 4000 one-byte
    # references to it: 16 MB of fields from 4 KB on the wire.
    first = req_block(enc, "/1k.txt", [("x-bomb", "b" * 4000)])
    c.send(frame(HEADERS, END_STREAM | END_HEADERS, 1, first))
    idx = bytes([0x80 | 62])  # the newest dynamic entry
    second = req_block(enc, "/1k.txt") + idx * 4000
    c.send(frame(HEADERS, END_STREAM | END_HEADERS, 3, second))
    f = c.read(lambda f: (f[0] == HEADERS and f[2] == 3) or (f[0] == RST and f[2] == 3) or
               f[0] == GOAWAY)
    t.ok(f is not None and (f[0] != HEADERS or c.status.get(3) == "431"),
         "HPACK bomb: the request is refused (431, RST_STREAM or GOAWAY)",
         f and (f[0], c.status))
    t.eq(c.status.get(1), "200", "HPACK bomb: the request before it was served")
    c.close()
    bounded(t, srv, rss0, "HPACK bomb")
    serving(t, srv, "an HPACK bomb")


def test_zero_window(t, srv):
    # Stream windows of 0: stream 1 (1 MiB) stalls; stream 3 gets its own
    # window and completes; stream 1 is reset after the send timeout (-w 2).
    c = Raw(srv.port, first=settings(window=0))
    c.send(frame(HEADERS, END_STREAM | END_HEADERS, 1, req_block(c.enc, "/1m.bin")))
    c.send(frame(HEADERS, END_STREAM | END_HEADERS, 3, req_block(c.enc, "/test/hello")) +
           frame(WINDOW_UPDATE, 0, 3, struct.pack(">I", 65535)))
    f = c.read(lambda f: f[0] == DATA and f[2] == 3 and f[1] & END_STREAM, 5)
    t.ok(f is not None and f[3] == b"hello\n",
         "zero window: another stream with a window completes")
    t0 = time.monotonic()
    f = c.read(lambda f: f[0] == RST and f[2] == 1, 8)
    t.ok(f is not None and 1 <= time.monotonic() - t0 + 0.5 <= 6,
         "zero window: the stalled stream is reset after the send timeout",
         time.monotonic() - t0)
    c.send(frame(HEADERS, END_STREAM | END_HEADERS, 5, req_block(c.enc, "/test/hello")) +
           frame(WINDOW_UPDATE, 0, 5, struct.pack(">I", 65535)))
    f = c.read(lambda f: f[0] == DATA and f[2] == 5 and f[1] & END_STREAM, 5)
    t.ok(f is not None and not c.closed, "zero window: the connection goes on")
    c.close()


def test_max_streams(t, srv):
    c = Raw(srv.port)
    f = c.read(lambda f: f[0] == SETTINGS and not f[1] & ACK)
    ent = dict(struct.unpack(">HI", f[3][i:i + 6]) for i in range(0, len(f[3]), 6))
    t.eq(ent.get(3), 100, "SETTINGS_MAX_CONCURRENT_STREAMS is announced (100)")
    c.read(lambda f: f[0] == SETTINGS and f[1] & ACK)
    done = set()
    c.send(b"".join(frame(HEADERS, END_STREAM | END_HEADERS, 1 + 2 * i,
                          req_block(c.enc, "/test/delay?ms=300")) for i in range(100)))

    def until(f):
        if f[0] == DATA and f[1] & END_STREAM:
            done.add(f[2])
        return len(done) == 100

    c.read(until, 10)
    t.eq(len(done), 100, "100 concurrent streams (the limit) are all served")
    c.close()
    c = Raw(srv.port)
    c.read(lambda f: f[0] == SETTINGS and f[1] & ACK)
    c.send(b"".join(frame(HEADERS, END_STREAM | END_HEADERS, 1 + 2 * i,
                          req_block(c.enc, "/test/delay?ms=300")) for i in range(130)))
    code = c.goaway()
    t.eq(code, 1, "130 streams at once, past the acknowledged limit: GOAWAY PROTOCOL_ERROR")
    t.ok(c.closes(), "... and the connection is closed")
    c.close()


def test_settings_timeout(t, srv):
    c = Raw(srv.port, ack=False)
    t0 = time.monotonic()
    code = c.goaway(6)
    t.ok(code == SETTINGS_TIMEOUT and time.monotonic() - t0 < 5,
         "SETTINGS never acknowledged: GOAWAY SETTINGS_TIMEOUT (-o 1)", code)
    t.ok(c.closes(), "... and the connection is closed")
    c.close()


def test_upgrade(t, srv):
    p = subprocess.run(["curl", "-sS", "--http2", "-w", " %{http_version}",
                        "http://127.0.0.1:%d/test/hello" % srv.port], capture_output=True,
                       timeout=30)
    t.eq(p.stdout, b"hello\n 2", "Upgrade: h2c: 101, then the answer on stream 1")
    p = subprocess.run(["curl", "-sS", "--http2", "-w", " %{http_version}", "-d", "abc",
                        "http://127.0.0.1:%d/test/echo" % srv.port], capture_output=True,
                       timeout=30)
    t.ok(p.stdout.endswith(b" 1.1") and b'"bytes":3' in p.stdout,
         "Upgrade: h2c with a body: answered over HTTP/1.1", p.stdout)
    p = subprocess.run(["nghttp", "-u", "-n", "-s", "http://127.0.0.1:%d/1k.txt" % srv.port,
                        "http://127.0.0.1:%d/test/hello" % srv.port], capture_output=True,
                       timeout=30)
    t.ok(p.returncode == 0 and p.stdout.decode().count(" 200 ") == 2,
         "nghttp -u: upgrade, then a second stream", p.stdout + p.stderr)


def test_drain(t):
    srv = kt.Server(t, args=["-2", "-D", "3000"], name="draining server").start()
    c = Raw(srv.port)
    c.read(lambda f: f[0] == SETTINGS and f[1] & ACK)
    c.send(frame(HEADERS, END_STREAM | END_HEADERS, 1, req_block(c.enc, "/test/delay?ms=700")))
    time.sleep(0.1)
    srv.proc.send_signal(signal.SIGTERM)
    f = c.read(lambda f: f[0] == GOAWAY, 5)
    t.ok(f is not None and struct.unpack(">II", f[3][:8]) == (1, NO_ERROR),
         "drain: GOAWAY NO_ERROR, last stream 1, to an h2 connection", f)
    f = c.read(lambda f: f[0] == DATA and f[2] == 1 and f[1] & END_STREAM, 5)
    t.ok(f is not None and f[3] == b"delayed\n", "drain: the stream in flight is answered")
    t.ok(c.closes(5), "drain: then the connection is closed")
    c.close()
    try:
        rc = srv.proc.wait(5)
    except subprocess.TimeoutExpired:
        srv.proc.kill()
        rc = srv.proc.wait()
    t.eq(rc, 0, "drain: the server exits with 0 once drained")
    srv._close_files()
    srv.proc = None


def main():
    tap = kt.Tap()
    try:
        srv = kt.Server(tap, args=["-2", "-w", "2", "-o", "1"], name="h2c server").start()
    except Exception:
        import traceback
        tap.ok(False, "server starts", traceback.format_exc())
        tap.done()
    try:
        for fn in (test_rapid_reset, test_continuation_flood, test_ping_flood,
                   test_settings_flood, test_settings_too_many, test_hpack_bomb,
                   test_zero_window, test_max_streams, test_settings_timeout, test_upgrade):
            tap.run(fn, tap, srv)
        tap.run(test_drain, tap)
    finally:
        srv.stop()
    tap.done()


if __name__ == "__main__":
    main()
