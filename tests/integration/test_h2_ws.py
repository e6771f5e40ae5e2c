#!/usr/bin/python3
"""WebSockets over HTTP/2 (RFC 8441): SETTINGS_ENABLE_CONNECT_PROTOCOL,
extended CONNECT with :protocol websocket, and the same protocols as
over HTTP/1.1 (echo, dumb-increment, lws-mirror) on h2 streams, next to
HTTP streams on the same connection, over h2c and TLS (python3-h2 for
HTTP/2, wsproto for the websocket frames)."""
import hashlib
import os
import sys
import time

sys.dont_write_bytecode = True
import kitetest as kt  # noqa: E402
import kiteh2  # noqa: E402
from wsproto.frame_protocol import FrameProtocol, Opcode  # noqa: E402

ENABLE_CONNECT_PROTOCOL = 8


class Ws:
    """One websocket on an h2 stream of @c."""

    def __init__(self, c, proto, path="/"):
        self.c = c
        self.fp = FrameProtocol(client=True, extensions=[])
        self.sid = c.h2.get_next_available_stream_id()
        hdrs = [(":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "http"),
                (":path", path), (":authority", "localhost"), ("sec-websocket-version", "13")]
        if proto:
            hdrs.append(("sec-websocket-protocol", proto))
        c.h2.send_headers(self.sid, hdrs)
        c.streams[self.sid] = kiteh2.Stream()
        c.flush()
        self.st = c.streams[self.sid]
        self.seen = 0
        self.messages = []
        self.partial = None
        deadline = time.monotonic() + kiteh2.TIMEOUT
        while self.st.headers is None and self.st.reset is None and \
                time.monotonic() < deadline:
            c.read_some(deadline - time.monotonic())

    @property
    def status(self):
        return self.st.status

    def send(self, data):
        raw = self.fp.send_data(data, fin=True)
        self.c.send_body(self.sid, raw, end=False)

    def pump(self):
        new = bytes(self.st.data[self.seen:])
        self.seen = len(self.st.data)
        if not new:
            return
        self.fp.receive_bytes(new)
        for f in self.fp.received_frames():
            if f.opcode == Opcode.CLOSE:
                self.messages.append(("close", f.payload))
                continue
            # wsproto gives continuation frames their message's opcode.
            if self.partial is None:
                self.partial = f.payload
            else:
                self.partial += f.payload
            if f.message_finished and f.frame_finished:
                self.messages.append(self.partial)
                self.partial = None

    def recv(self, n=1, timeout=kiteh2.TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            self.pump()
            if len(self.messages) >= n:
                out, self.messages = self.messages[:n], self.messages[n:]
                return out
            if time.monotonic() > deadline:
                raise TimeoutError("got %d of %d messages" % (len(self.messages), n))
            self.c.read_some(max(0.05, deadline - time.monotonic()))


def test_settings(t, s, c):
    t.eq(c.remote_settings.get(ENABLE_CONNECT_PROTOCOL), 1,
         "%s SETTINGS_ENABLE_CONNECT_PROTOCOL is 1" % s.scheme)


def test_echo(t, s, c):
    w = Ws(c, "echo")
    t.ok(w.status == 200 and w.st.header("sec-websocket-protocol") == "echo",
         "%s extended CONNECT to echo: 200 with the subprotocol" % s.scheme, w.st.headers)
    w.send("hello over h2")
    t.eq(w.recv(), ["hello over h2"], "%s echo: a text message comes back" % s.scheme)
    blob = os.urandom(300000)
    w.send(blob)
    t.ok(w.recv()[0] == blob, "%s echo: 300 KB binary (many DATA frames, windows)" % s.scheme)
    # Many messages before reading any: echo pauses reading past its high
    # mark, so the stream's window must come back when it resumes.
    msgs = [os.urandom(65536) for _ in range(40)]
    for m in msgs:
        w.send(m)
    got = w.recv(40, timeout=20)
    t.ok([hashlib.sha1(m).digest() for m in got] == [hashlib.sha1(m).digest() for m in msgs],
         "%s echo: 40 x 64 KB sent ahead, all back in order (paused and resumed)" % s.scheme)
    w.c.send_body(w.sid, w.fp.close(1000, "bye"), end=False)
    r = w.recv()
    t.ok(r and r[0][0] == "close", "%s echo: a close frame is answered with one" % s.scheme, r)
    deadline = time.monotonic() + 5
    while not (w.st.ended or w.st.reset is not None) and time.monotonic() < deadline:
        c.read_some(1)
    t.ok(w.st.ended or w.st.reset == 0, "%s echo: then the stream ends (NO_ERROR)" % s.scheme,
         (w.st.ended, w.st.reset))


def test_dumb_increment(t, s, c):
    w = Ws(c, "dumb-increment-protocol")
    t.eq(w.status, 200, "%s dumb-increment over h2: 200" % s.scheme)
    nums = [int(m) for m in w.recv(3)]
    t.ok(nums == sorted(nums) and len(set(nums)) == 3,
         "%s dumb-increment: numbers count up (%s)" % (s.scheme, nums))
    w.send("reset\n")
    deadline = time.monotonic() + 5
    low = None
    while time.monotonic() < deadline:
        n = int(w.recv()[0])
        if n < nums[-1]:
            low = n
            break
    t.ok(low is not None and low < 3, "%s dumb-increment: reset starts again" % s.scheme, low)
    r = c.get("/test/hello")
    t.eq(r.data, b"hello\n", "%s an HTTP stream beside a websocket on the same conn" % s.scheme)
    w.send("closeme\n")
    deadline = time.monotonic() + 5
    closed = False
    while time.monotonic() < deadline and not closed:
        for m in w.recv():
            closed = isinstance(m, tuple) and m[0] == "close"
    t.ok(closed, "%s dumb-increment: closeme closes from the server side" % s.scheme)


def test_mirror(t, s, c):
    a = Ws(c, "lws-mirror-protocol")
    b = Ws(c, "lws-mirror-protocol")
    t.ok(a.status == 200 and b.status == 200, "%s two lws-mirror websockets on one conn" %
         s.scheme)
    a.send("d #001122 1 2 3 4;")
    t.eq(b.recv(), ["d #001122 1 2 3 4;"], "%s mirror: one stream's message reaches the other" %
         s.scheme)


def test_refused(t, s, c):
    w = Ws(c, "no-such-protocol")
    t.eq(w.status, 400, "%s an unknown subprotocol: 400 on the stream" % s.scheme)
    r = c.get("/test/hello")
    t.eq(r.data, b"hello\n", "%s the connection goes on" % s.scheme)


class S:
    def __init__(self, srv, tls):
        self.port = srv.port
        self.tls = tls
        self.scheme = "https" if tls else "http"


def main():
    tap = kt.Tap()
    servers = []
    try:
        os.environ.pop("KITE_TEST_TLS", None)
        servers.append(kt.Server(tap, args=["-2"], name="h2c server").start())
        servers.append(kt.Server(tap, args=["-s"], name="tls server").start())
    except Exception:
        import traceback
        tap.ok(False, "servers start", traceback.format_exc())
        for srv in servers:
            srv.stop()
        tap.done()
    try:
        for srv, tls in zip(servers, (False, True)):
            s = S(srv, tls)
            for fn in (test_settings, test_echo, test_dumb_increment, test_mirror, test_refused):
                c = kiteh2.Conn(s.port, tls=tls)
                c.read_some(1)
                tap.run(fn, tap, s, c)
                c.close()
    finally:
        for srv in servers:
            srv.stop()
    tap.done()


if __name__ == "__main__":
    main()
