#!/usr/bin/python3
"""RFC 6455 conformance of kite's WebSocket server role, over raw sockets
against kite-test-server (its "echo" protocol echoes every message with
its opcode, fragments as they arrive).

Handshake: the Sec-WebSocket-Accept value, version != 13 -> 426 with
Sec-WebSocket-Version: 13, a missing or malformed key -> 400, only
unknown subprotocols -> 400, the first known one chosen and named back,
none asked -> the default protocol (dumb-increment) and no header.
Frames: sizes 0..16 MiB echoed exactly, frames cut at every byte, TCP
writes of one byte, fragmentation, ping/pong (also between fragments),
and every rule whose breach closes the connection, each with the exact
close code read from the server's close frame: 1002 (unmasked, RSV,
reserved opcodes, long or fragmented control frames, continuation
rules, bad close codes, 1-byte close payload), 1007 (UTF-8, whole and
split at every position across fragments, also in a close reason), 1009
(a 2^40-byte frame, a message over 16 MiB in fragments). Close codes
0..1016 and samples up to 65535: valid ones are echoed back, invalid
ones get 1002. After each failure the server closes TCP, and a new
connection still works.
"""
import os
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True
import kitetest as kt  # noqa: E402
import kitews as kw  # noqa: E402
from kitews import OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT  # noqa: E402

MAX_MESSAGE = 16 << 20  # kite's default ws_max_message


def text_of(n):
    """@n bytes of valid UTF-8 text with multi-byte characters in it."""
    unit = "kite \u00e9\u4e16\U0001f600 ".encode("utf-8")  # 1+1+1+1+1+2+3+4+1 bytes
    s = (unit * (n // len(unit) + 1))[:n]
    # Cut back to a character boundary and pad with ASCII to exactly n bytes.
    while True:
        try:
            s.decode("utf-8")
            break
        except UnicodeDecodeError:
            s = s[:-1]
    return s + b"a" * (n - len(s))


def echo_ok(port):
    """A new connection gets an echo: the server is up and serving."""
    try:
        with kw.connect(port) as ws:
            ws.send_text("still alive?")
            op, data, _ = ws.recv_message(timeout=5)
            return op == OP_TEXT and data == b"still alive?"
    except Exception:
        return False


def expect_close(t, srv, name, send, code, ws=None):
    """Open an echo connection, run @send(ws), and check that the server's
    close frame carries @code, that the server closes TCP, and that a new
    connection still works."""
    own = ws is None
    try:
        if own:
            ws = kw.connect(srv.port)
        send(ws)
        f, before = ws.read_until_close(timeout=5)
        got = f.close_code if f else None
        t.ok(got == code, "%s -> close %d" % (name, code),
             "got close frame %r (code %s) after %d other frames" % (f, got, len(before)))
        t.ok(ws.closed_by_server(3), "%s: the server closes TCP after its close frame" % name)
    finally:
        if own and ws:
            ws.close()
    t.ok(echo_ok(srv.port), "%s: the server still serves a new connection" % name)


# ---------------------------------------------------------------- handshake

def test_handshake(t, srv):
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    t.eq(kw.accept_for(key), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "the RFC 6455 1.3 example accept value")
    with kw.WsConn(srv.port, protocols=["echo"]) as ws:
        r = ws.handshake(key=key)
        t.eq(r.status, 101, "upgrade with the RFC example key: 101")
        t.eq(r.header("Sec-WebSocket-Accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
             "Sec-WebSocket-Accept for the RFC example key")
        t.eq(r.header("Sec-WebSocket-Protocol"), "echo", "the subprotocol asked for is named back")
        t.ok(r.header("Content-Length") is None and r.header("Transfer-Encoding") is None,
             "101 has no body framing", r)
    bad = 0
    for _ in range(20):
        with kw.WsConn(srv.port, protocols=["echo"]) as ws:
            try:
                ws.handshake()
            except kw.WsError:
                bad += 1
    t.eq(bad, 0, "20 random keys: each accept value right")

    for ver in ("8", "12", "14", "0", "13.0", "abc"):
        with kw.WsConn(srv.port, protocols=["echo"]) as ws:
            r = ws.handshake(version=ver, expect_101=False)
            t.eq(r.status, 426, "Sec-WebSocket-Version: %s -> 426" % ver)
            t.eq(r.header("Sec-WebSocket-Version"), "13",
                 "426 for version %s names Sec-WebSocket-Version: 13" % ver)
    with kw.WsConn(srv.port, protocols=["echo"]) as ws:
        r = ws.handshake(version=None, expect_101=False)
        t.ok(r.status in (400, 426), "no Sec-WebSocket-Version -> 400 or 426", r)

    for name, k in (("missing", False), ("empty", ""), ("too short", "c2hvcnQ="),
                    ("not base64", "!!!!!!!!!!!!!!!!!!!!!!=="),
                    ("17 bytes", "AAAAAAAAAAAAAAAAAAAAAAA="),
                    ("no padding", "AAAAAAAAAAAAAAAAAAAAAA"),
                    ("too long", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==")):
        with kw.WsConn(srv.port, protocols=["echo"]) as ws:
            r = ws.handshake(key=k, expect_101=False)
            t.eq(r.status, 400, "Sec-WebSocket-Key %s -> 400" % name)

    with kw.WsConn(srv.port, protocols=["no-such-protocol", "nor-this"]) as ws:
        r = ws.handshake(expect_101=False)
        t.eq(r.status, 400, "only unknown subprotocols -> 400")
    with kw.WsConn(srv.port, protocols=["no-such-protocol", "echo", "lws-mirror-protocol"]) as ws:
        r = ws.handshake()
        t.eq(r.header("Sec-WebSocket-Protocol"), "echo",
             "unknown, echo, lws-mirror-protocol -> echo (the first known)")
        ws.send_text("chosen")
        t.eq(ws.recv_message()[:2], (OP_TEXT, b"chosen"), "... and echo answers on it")
    with kw.WsConn(srv.port) as ws:
        r = ws.handshake(extra=[("Sec-WebSocket-Protocol", "bogus"),
                                ("Sec-WebSocket-Protocol", "echo")])
        t.eq(r.header("Sec-WebSocket-Protocol"), "echo",
             "the protocol list spread over two header lines")
    with kw.WsConn(srv.port) as ws:
        r = ws.handshake()
        t.eq(r.header("Sec-WebSocket-Protocol"), None,
             "no subprotocol asked: none named in the 101")
        op, data, _ = ws.recv_message(timeout=3)
        t.ok(op == OP_TEXT and data.isdigit(),
             "no subprotocol asked: the default protocol (dumb-increment) sends its counter",
             (op, data))
    with kw.WsConn(srv.port, protocols=["dumb-increment-protocol"]) as ws:
        ws.handshake()
        first = int(ws.recv_message(timeout=3)[1])
        second = int(ws.recv_message(timeout=3)[1])
        t.ok(second > first, "dumb-increment-protocol counts up (%d, %d)" % (first, second))

    # Not an upgrade in other ways: a POST, or HTTP/1.0.
    r = kt.request(srv.port, "POST", "/", headers=[
        ("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Key", kw.new_key()),
        ("Sec-WebSocket-Version", "13")], body=b"")
    t.ok(r.status != 101, "POST with Upgrade: websocket is not upgraded", r)
    t.ok(echo_ok(srv.port), "the server still serves after the handshake failures")


def test_handshake_split(t, srv):
    """The upgrade request arriving in several reads, small and large (a
    browser's head with cookies passes 1 KiB), then the first frames."""
    for pad in (0, 1500, 5000):
        for where in ("middle", "last byte"):
            with kw.WsConn(srv.port, protocols=["echo"]) as ws:
                req = ws.request_bytes(extra=[("Cookie", "c=" + "x" * pad)] if pad else None)
                cut = len(req) // 2 if where == "middle" else len(req) - 1
                ws.send_pieces(req, [cut], delay=0.05)
                r = ws.c.read_head()
                ok = r.status == 101
                got = None
                if ok:
                    ws.send_text("first frame")
                    try:
                        got = ws.recv_message(timeout=3)[:2]
                    except Exception as e:
                        got = (repr(e), ws.close_frame)
                t.ok(ok and got == (OP_TEXT, b"first frame"),
                     "a %d-byte upgrade request in two reads (cut at the %s): 101, then echo"
                     % (len(req), where), "status %s, then %r" % (r.status, got))
    with kw.WsConn(srv.port, protocols=["echo"]) as ws:
        req = ws.request_bytes()
        ws.send_pieces(req, range(1, len(req)), delay=0.001)
        r = ws.c.read_head()
        ws.send_text("after a bytewise head")
        t.ok(r.status == 101 and ws.recv_message(timeout=3)[:2] ==
             (OP_TEXT, b"after a bytewise head"),
             "an upgrade request sent one byte per write: 101, then echo")
    # The head and the first frame in one write.
    with kw.WsConn(srv.port, protocols=["echo"]) as ws:
        ws.send(ws.request_bytes() + kw.frame(OP_TEXT, b"eager"))
        r = ws.c.read_head()
        t.ok(r.status == 101 and ws.recv_message(timeout=3)[:2] == (OP_TEXT, b"eager"),
             "a frame in the same write as the upgrade request is echoed")


# ---------------------------------------------------------------- echo

def test_sizes(t, srv):
    sizes = [0, 1, 125, 126, 127, 65535, 65536, MAX_MESSAGE]
    with kw.connect(srv.port) as ws:
        ws.c.settimeout(20)
        for n in sizes:
            for op in (OP_TEXT, OP_BINARY):
                data = text_of(n) if op == OP_TEXT else os.urandom(n)
                snd = kw.Sender(ws, kw.frame(op, data))
                snd.start()
                try:
                    got_op, got, frames = ws.recv_message(timeout=30)
                except Exception as e:
                    got_op, got, frames = None, repr(e).encode(), []
                snd.join(30)
                what = "%s of %d bytes" % ("text" if op == OP_TEXT else "binary", n)
                t.ok(snd.error is None and got_op == op and got == data,
                     "%s echoed exactly (%d frames)" % (what, len(frames)),
                     "op %s, %d bytes back, sender %r" % (got_op, len(got), snd.error))


def test_backpressure(t, srv):
    """Many messages sent while the client does not read: echo pauses
    reading (rx flow control) with input held by kite, resumes it when its
    queue drains, and every message still comes back once, in order."""
    for size, count in ((2000, 3000), (100, 20000), (70000, 60)):
        with kw.connect(srv.port) as ws:
            ws.c.settimeout(20)
            msgs = [struct.pack(">I", i) + os.urandom(size - 4) for i in range(count)]
            snd = kw.Sender(ws, b"".join(kw.frame(OP_BINARY, m) for m in msgs))
            snd.start()
            time.sleep(0.5)  # let the server's queue fill and pause reading
            bad = None
            for i, m in enumerate(msgs):
                op, got, _ = ws.recv_message(timeout=20)
                if (op, got) != (OP_BINARY, m):
                    bad = "message %d: op %s, %d bytes, seq %r" % (i, op, len(got), got[:4])
                    break
            snd.join(20)
            t.ok(bad is None and snd.error is None,
                 "%d messages of %d bytes sent without reading: all echoed in order"
                 % (count, size), "%s; sender: %r" % (bad, snd.error))


def test_split_frames(t, srv):
    """Every byte boundary of a frame: the frame sent as two TCP writes cut
    there, for 7-bit, 16-bit and 64-bit length forms; then one-byte writes."""
    with kw.connect(srv.port) as ws:
        for n, what in ((20, "7-bit"), (300, "16-bit")):
            data = text_of(n)
            raw = kw.frame(OP_TEXT, data)
            bad = []
            for k in range(1, len(raw)):
                ws.send_pieces(raw, [k], delay=0.002)
                op, got, _ = ws.recv_message(timeout=5)
                if (op, got) != (OP_TEXT, data):
                    bad.append(k)
            t.eq(bad, [], "a %d-byte text frame (%s length) cut at each of its %d boundaries"
                 % (n, what, len(raw) - 1))
        data = os.urandom(70000)
        raw = kw.frame(OP_BINARY, data)
        bad = []
        for k in list(range(1, 16)) + [100, 65550, len(raw) - 1]:
            ws.send_pieces(raw, [k], delay=0.002)
            op, got, _ = ws.recv_message(timeout=5)
            if (op, got) != (OP_BINARY, data):
                bad.append(k)
        t.eq(bad, [], "a 70000-byte frame (64-bit length) cut in its header and payload")

        data = "tiny writes \u00e9\u4e16".encode()
        raw = kw.frame(OP_TEXT, data)
        ws.send_pieces(raw, range(1, len(raw)), delay=0.004)
        t.eq(ws.recv_message(timeout=5)[:2], (OP_TEXT, data),
             "a %d-byte frame sent as %d one-byte TCP writes" % (len(raw), len(raw)))
        raw = (kw.frame(OP_TEXT, b"ab", fin=False) + kw.frame(OP_PING, b"p") +
               kw.frame(OP_CONT, b"cd"))
        ws.send_pieces(raw, range(1, len(raw)), delay=0.003)
        pongs = []
        t.eq(ws.recv_message(timeout=5, pongs=pongs)[:2], (OP_TEXT, b"abcd"),
             "fragments and a ping sent one byte per TCP write")
        if not pongs:
            f = ws.recv_frame(timeout=3)
            pongs.append(f.payload if f.op == OP_PONG else None)
        t.eq(pongs, [b"p"], "... and the ping answered")
        # Many frames in one write.
        msgs = [text_of(i * 7) for i in range(40)]
        ws.send(b"".join(kw.frame(OP_TEXT, m) for m in msgs))
        got = [ws.recv_message(timeout=5)[1] for _ in msgs]
        t.ok(got == msgs, "40 frames in one TCP write: 40 messages back in order")


def test_fragments(t, srv):
    with kw.connect(srv.port) as ws:
        parts = [b"Hel", b"lo, ", b"fragmented ", b"world"]
        ws.send_frame(OP_TEXT, parts[0], fin=False)
        for p in parts[1:-1]:
            ws.send_frame(OP_CONT, p, fin=False)
        ws.send_frame(OP_CONT, parts[-1])
        op, data, frames = ws.recv_message()
        t.eq((op, data), (OP_TEXT, b"".join(parts)), "a text message in 4 fragments: content")
        t.ok(len(frames) >= 1 and frames[0].op == OP_TEXT and
             all(f.op == OP_CONT for f in frames[1:]),
             "... first frame TEXT, the rest CONTINUATION", frames)
        t.diag("echo kept %d fragments for 4 sent" % len(frames))

        parts = [os.urandom(1000), b"", os.urandom(1), os.urandom(70000)]
        ws.send_frame(OP_BINARY, parts[0], fin=False)
        ws.send_frame(OP_CONT, parts[1], fin=False)
        ws.send_frame(OP_CONT, parts[2], fin=False)
        ws.send_frame(OP_CONT, parts[3])
        op, data, frames = ws.recv_message(timeout=10)
        t.eq((op, data == b"".join(parts)), (OP_BINARY, True),
             "a binary message in 4 fragments (one empty, one 70000 bytes)")

        ws.send_frame(OP_TEXT, b"", fin=False)
        ws.send_frame(OP_CONT, b"", fin=False)
        ws.send_frame(OP_CONT, b"")
        t.eq(ws.recv_message()[:2], (OP_TEXT, b""), "an empty message in three empty fragments")

        # Two messages back to back, one fragmented.
        ws.send(kw.frame(OP_BINARY, b"x", fin=False) + kw.frame(OP_CONT, b"y") +
                kw.frame(OP_TEXT, b"z"))
        t.eq(ws.recv_message()[:2], (OP_BINARY, b"xy"), "a fragmented message ...")
        t.eq(ws.recv_message()[:2], (OP_TEXT, b"z"), "... then a single-frame one")


def test_ping(t, srv):
    with kw.connect(srv.port) as ws:
        for payload in (b"", b"x", b"ping payload", os.urandom(125)):
            ws.send_frame(OP_PING, payload)
            f = ws.recv_frame()
            t.ok(f.op == OP_PONG and f.payload == payload,
                 "ping of %d bytes -> pong with the same payload" % len(payload), f)
        ws.send_frame(OP_PONG, b"unsolicited")
        ws.send_text("after pong")
        t.eq(ws.recv_message()[:2], (OP_TEXT, b"after pong"),
             "an unsolicited pong is ignored")

        # Ping between the fragments of a message.
        ws.send_frame(OP_TEXT, b"frag-one ", fin=False)
        ws.send_frame(OP_PING, b"between")
        ws.send_frame(OP_CONT, b"frag-two ", fin=False)
        ws.send_frame(OP_PING, b"again")
        ws.send_frame(OP_CONT, b"end")
        pongs = []
        op, data, _ = ws.recv_message(pongs=pongs)
        t.eq((op, data), (OP_TEXT, b"frag-one frag-two end"),
             "a message with pings between its fragments is whole")
        deadline = time.monotonic() + 3
        while len(pongs) < 2 and time.monotonic() < deadline:
            f = ws.recv_frame(timeout=3)
            if f.op == OP_PONG:
                pongs.append(f.payload)
        t.eq(pongs, [b"between", b"again"], "... and both pings answered, in order")


# ---------------------------------------------------------------- protocol errors

def test_bad_frames(t, srv):
    cases = [
        ("unmasked text frame", lambda ws: ws.send_frame(OP_TEXT, b"hi", mask=False), 1002),
        ("unmasked ping", lambda ws: ws.send_frame(OP_PING, b"", mask=False), 1002),
    ]
    for rsv in range(1, 8):
        cases.append(("RSV bits %d%d%d" % (rsv >> 2, (rsv >> 1) & 1, rsv & 1),
                      lambda ws, rsv=rsv: ws.send_frame(OP_TEXT, b"hi", rsv=rsv), 1002))
    for op in (3, 4, 5, 6, 7, 11, 12, 13, 14, 15):
        cases.append(("reserved opcode %d" % op,
                      lambda ws, op=op: ws.send_frame(op, b"x"), 1002))
    for op, name in ((OP_PING, "ping"), (OP_PONG, "pong"), (OP_CLOSE, "close")):
        payload = b"\x03\xe8" + b"r" * 124 if op == OP_CLOSE else b"p" * 126
        cases.append(("%s with 126 bytes" % name,
                      lambda ws, op=op, p=payload: ws.send_frame(op, p), 1002))
        cases.append(("fragmented %s (FIN clear)" % name,
                      lambda ws, op=op: ws.send_frame(
                          op, b"\x03\xe8" if op == OP_CLOSE else b"p", fin=False), 1002))
    cases += [
        ("continuation without a start", lambda ws: ws.send_frame(OP_CONT, b"orphan"), 1002),
        ("final continuation without a start",
         lambda ws: ws.send_frame(OP_CONT, b"", fin=True), 1002),
        ("continuation after a finished message",
         lambda ws: ws.send(kw.frame(OP_TEXT, b"done") + kw.frame(OP_CONT, b"more")), 1002),
        ("new text inside a fragmented text message",
         lambda ws: ws.send(kw.frame(OP_TEXT, b"a", fin=False) + kw.frame(OP_TEXT, b"b")), 1002),
        ("new binary inside a fragmented text message",
         lambda ws: ws.send(kw.frame(OP_TEXT, b"a", fin=False) + kw.frame(OP_BINARY, b"b")),
         1002),
        ("new text inside a fragmented binary message",
         lambda ws: ws.send(kw.frame(OP_BINARY, b"a", fin=False) + kw.frame(OP_CONT, b"b",
                                                                            fin=False) +
                            kw.frame(OP_TEXT, b"c")), 1002),
        ("64-bit length with its top bit set",
         lambda ws: ws.send(kw.frame(OP_BINARY, b"", length=1 << 63)), 1002),
        ("a frame announcing 2^40 bytes",
         lambda ws: ws.send(kw.frame(OP_BINARY, b"", length=1 << 40)), 1009),
        ("a text frame announcing 2^40 bytes",
         lambda ws: ws.send(kw.frame(OP_TEXT, b"", length=1 << 40)), 1009),
        ("a frame of max + 1 bytes announced",
         lambda ws: ws.send(kw.frame(OP_BINARY, b"", length=MAX_MESSAGE + 1)), 1009),
        ("a continuation announcing 2^40 bytes",
         lambda ws: ws.send(kw.frame(OP_TEXT, b"abc", fin=False) +
                            kw.frame(OP_CONT, b"", length=1 << 40)), 1009),
    ]
    for name, send, code in cases:
        expect_close(t, srv, name, send, code)


def test_too_big_in_fragments(t, srv):
    """A message whose fragments add up to more than 16 MiB: 1009 at the
    header of the fragment that crosses the limit."""
    part = os.urandom(9 << 20)

    def send(ws):
        ws.c.settimeout(20)
        snd = kw.Sender(ws, kw.frame(OP_BINARY, part, fin=False))
        snd.start()
        got = 0
        while got < len(part):
            f = ws.recv_frame(timeout=20)
            got += len(f.payload)
        snd.join(20)
        t.eq(got, len(part), "the first 9 MiB fragment is echoed")
        ws.send(kw.frame(OP_CONT, b"", length=8 << 20, fin=True))
    expect_close(t, srv, "9 MiB + 8 MiB fragments", send, 1009)


def utf8_cases():
    bad = [
        (b"\xc0\xaf", "overlong '/'"),
        (b"\xe0\x80\xaf", "three-byte overlong"),
        (b"\xed\xa0\x80", "surrogate U+D800"),
        (b"\xf4\x90\x80\x80", "U+110000"),
        (b"\xf8\x88\x80\x80\x80", "five-byte form"),
        (b"\xff", "byte FF"),
        (b"\x80", "lone continuation"),
        (b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited", "kosme + surrogate"),
    ]
    truncated = [(b"ab\xe4\xb8", "text ending inside a 3-byte character"),
                 (b"\xf0\x9f\x98", "text ending inside a 4-byte character")]
    return bad, truncated


def test_utf8(t, srv):
    bad, truncated = utf8_cases()
    for data, name in bad + truncated:
        expect_close(t, srv, "invalid UTF-8 (%s) in one frame" % name,
                     lambda ws, d=data: ws.send_frame(OP_TEXT, d), 1007)
    # The same, split across two fragments at every position, on one connection each.
    for data, name in bad[:4] + truncated:
        for k in range(0, len(data) + 1):
            def send(ws, d=data, k=k):
                ws.send(kw.frame(OP_TEXT, d[:k], fin=False) + kw.frame(OP_CONT, d[k:]))
            expect_close(t, srv, "invalid UTF-8 (%s) split at %d across fragments" % (name, k),
                         send, 1007)
    # Invalid UTF-8 in a fragment that is not the last: found before the end.
    expect_close(t, srv, "invalid UTF-8 in a first fragment",
                 lambda ws: ws.send_frame(OP_TEXT, b"ok\xff", fin=False), 1007)
    # Valid text split at every byte across fragments (and across three).
    data = "a\u00e9\u4e16\U0001f600z".encode("utf-8")
    with kw.connect(srv.port) as ws:
        bad2 = []
        for k in range(0, len(data) + 1):
            ws.send(kw.frame(OP_TEXT, data[:k], fin=False) + kw.frame(OP_CONT, data[k:]))
            if ws.recv_message()[:2] != (OP_TEXT, data):
                bad2.append(k)
        t.eq(bad2, [], "valid UTF-8 split into two fragments at each of %d positions echoed"
             % (len(data) + 1))
        bad3 = []
        for i in range(1, len(data)):
            for j in range(i, len(data)):
                ws.send(kw.frame(OP_TEXT, data[:i], fin=False) +
                        kw.frame(OP_CONT, data[i:j], fin=False) + kw.frame(OP_CONT, data[j:]))
                if ws.recv_message()[:2] != (OP_TEXT, data):
                    bad3.append((i, j))
        t.eq(bad3, [], "valid UTF-8 split into three fragments at every pair of positions")
        # Binary messages are not UTF-8 checked.
        ws.send_frame(OP_BINARY, b"\xff\xfe\xc0\xaf")
        t.eq(ws.recv_message()[:2], (OP_BINARY, b"\xff\xfe\xc0\xaf"),
             "binary data that is not UTF-8 is echoed")


# ---------------------------------------------------------------- close

VALID_CODES = set(range(1000, 1004)) | set(range(1007, 1015)) | set(range(3000, 5000))


def test_close_codes(t, srv):
    codes = list(range(0, 1017)) + [1100, 2000, 2999, 3000, 3001, 3999, 4000, 4999, 5000,
                                     65535]
    wrong = []
    tcp_open = []
    down = []
    for i, code in enumerate(codes):
        want = code if code in VALID_CODES else 1002
        try:
            with kw.connect(srv.port) as ws:
                ws.send_close(code, b"bye" if code % 2 else b"")
                f, _ = ws.read_until_close(timeout=5)
                got = f.close_code if f else None
                if got != want:
                    wrong.append((code, got))
                if not ws.closed_by_server(3):
                    tcp_open.append(code)
        except Exception as e:
            wrong.append((code, repr(e)))
        if code % 100 == 0 or code in (1004, 1005, 1006, 1015, 1016, 65535):
            if not echo_ok(srv.port):
                down.append(code)
    n_valid = sum(1 for c in codes if c in VALID_CODES)
    t.eq(wrong, [], "%d close codes: the %d valid ones echoed, the %d others answered with 1002"
         % (len(codes), n_valid, len(codes) - n_valid))
    t.eq(tcp_open, [], "the server closed TCP after every close answer")
    t.eq(down, [], "the server kept serving new connections through the close-code sweep")
    for code in (1004, 1005, 1006, 1015, 0, 999, 2999, 5000):
        expect_close(t, srv, "close code %d" % code,
                     lambda ws, c=code: ws.send_close(c), 1002)


def test_close_rules(t, srv):
    expect_close(t, srv, "close with a 1-byte payload",
                 lambda ws: ws.send_frame(OP_CLOSE, b"\x03"), 1002)
    expect_close(t, srv, "close reason that is not UTF-8",
                 lambda ws: ws.send_close(1000, b"bad \xff reason"), 1007)
    expect_close(t, srv, "close reason with a surrogate",
                 lambda ws: ws.send_close(1000, b"\xed\xa0\x80"), 1007)
    expect_close(t, srv, "close reason cut inside a character",
                 lambda ws: ws.send_close(1001, b"caf\xc3"), 1007)
    expect_close(t, srv, "close 1000 with a UTF-8 reason",
                 lambda ws: ws.send_close(1000, "au revoir \u00e9\u4e16".encode()), 1000)
    expect_close(t, srv, "close 4999 with a 123-byte reason",
                 lambda ws: ws.send_close(4999, b"r" * 123), 4999)

    # An empty close gets an empty close (or 1000) back, and TCP is closed.
    with kw.connect(srv.port) as ws:
        ws.send_frame(OP_CLOSE, b"")
        f, _ = ws.read_until_close()
        t.ok(f is not None and (f.payload == b"" or f.close_code == 1000),
             "an empty close frame is answered with an empty close (or 1000)", f)
        t.ok(ws.closed_by_server(3), "... and the server closes TCP")

    # The close answer and the TCP close, seen from the client's side.
    with kw.connect(srv.port) as ws:
        ws.send_text("before close")
        ws.send_close(1000, b"done")
        f, before = ws.read_until_close()
        # RFC 6455 5.5.1 lets the server answer the close before the echo
        # is written (it then must not send the echo after its close).
        t.ok(all(b.op == OP_TEXT and b.payload == b"before close" for b in before) and
             len(before) <= 1,
             "a message sent right before the close: echoed before the close or not at all",
             before)
        t.eq(f.close_code if f else None, 1000, "close 1000 is answered with close 1000")
        t.ok(ws.closed_by_server(3), "the server closes TCP without waiting for the client")
        t.eq(bytes(ws.c.buf), b"", "nothing after the server's close frame")

    # Data after our close is ignored; the server answers the close only.
    with kw.connect(srv.port) as ws:
        ws.send(kw.frame(OP_CLOSE, kw.close_payload(1001)) + kw.frame(OP_TEXT, b"too late"))
        f, before = ws.read_until_close()
        t.ok(f is not None and f.close_code == 1001 and not before,
             "a frame after the client's close is not echoed", (f, before))
        t.ok(ws.closed_by_server(3), "... and TCP closed")

    # A close in the middle of a fragmented message is answered.
    with kw.connect(srv.port) as ws:
        ws.send_frame(OP_TEXT, b"half", fin=False)
        ws.send_close(1000)
        f, _ = ws.read_until_close()
        t.eq(f.close_code if f else None, 1000, "a close between fragments is answered")

    # The client half-closes TCP without a close frame: the server goes away too.
    with kw.connect(srv.port) as ws:
        ws.c.sock.shutdown(socket.SHUT_WR)
        t.ok(ws.closed_by_server(3), "EOF without a close frame: the server closes")
    t.ok(echo_ok(srv.port), "the server still serves after the close tests")


def main():
    kt.run_tests([test_handshake, test_handshake_split, test_sizes, test_backpressure, test_split_frames, test_fragments, test_ping,
                  test_bad_frames, test_too_big_in_fragments, test_utf8, test_close_codes,
                  test_close_rules])


if __name__ == "__main__":
    main()
