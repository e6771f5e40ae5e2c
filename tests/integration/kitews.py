"""A raw-socket WebSocket client (RFC 6455) for kite's end-to-end tests.

It speaks the client side by hand so that tests can send anything,
broken frames included, and read exactly what the server sent: every
frame the server sends is checked as it is read (unmasked, no RSV bits,
shortest length form, control frames short and unfragmented), and a
violation raises WsError. Sockets come from kitetest.Conn, so every read
has a deadline. Only the standard library is used.
"""
import base64
import hashlib
import os
import socket
import struct
import threading
import time

import kitetest

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


class WsError(Exception):
    pass


def accept_for(key):
    """The Sec-WebSocket-Accept value for @key (RFC 6455 4.2.2)."""
    if isinstance(key, str):
        key = key.encode()
    return base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()


def new_key():
    return base64.b64encode(os.urandom(16)).decode()


def mask_bytes(data, key):
    """XOR @data with the 4-byte @key, fast for megabytes too."""
    n = len(data)
    if not n:
        return b""
    reps = key * (n // 4 + 1)
    x = int.from_bytes(data, "big") ^ int.from_bytes(reps[:n], "big")
    return x.to_bytes(n, "big")


def frame(op, payload=b"", fin=True, rsv=0, mask=True, key=None, length=None):
    """One client frame as bytes. @length overrides the announced length
    (the payload sent stays @payload); @rsv is the 3 RSV bits (0..7)."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | (rsv & 7) << 4 | (op & 0x0F)
    mbit = 0x80 if mask else 0
    if n < 126:
        head = bytes([b0, mbit | n])
    elif n < 65536:
        head = bytes([b0, mbit | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, mbit | 127]) + struct.pack(">Q", n)
    if not mask:
        return head + payload
    key = key if key is not None else os.urandom(4)
    return head + key + mask_bytes(payload, key)


def close_payload(code=None, reason=b""):
    if code is None:
        return b""
    if isinstance(reason, str):
        reason = reason.encode("utf-8")
    return struct.pack(">H", code) + reason


class Frame:
    def __init__(self, fin, op, payload, rsv=0):
        self.fin, self.op, self.payload, self.rsv = fin, op, payload, rsv

    @property
    def close_code(self):
        if self.op != OP_CLOSE or len(self.payload) < 2:
            return None
        return struct.unpack(">H", self.payload[:2])[0]

    @property
    def close_reason(self):
        return self.payload[2:]

    def __repr__(self):
        return "<Frame fin=%d op=%d len=%d %s>" % (self.fin, self.op, len(self.payload),
                                                   kitetest.short(self.payload, 60))


class WsConn:
    """A websocket client connection.

    ws = WsConn(port, protocols=["echo"]); ws.handshake() -> Response (101 checked
    unless expect is given); ws.send_frame(...); ws.recv_frame(); ws.recv_message().
    """

    def __init__(self, port, path="/", protocols=None, timeout=kitetest.SOCK_TIMEOUT,
                 host="localhost"):
        self.port = port
        self.path = path
        self.protocols = protocols
        self.host = host
        self.c = kitetest.Conn(port, timeout=timeout)
        self.c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.key = new_key()
        self.response = None
        self.close_frame = None
        # RSV1 is allowed on server frames once permessage-deflate is agreed
        # (the caller sets it; test_ws_deflate.py inflates the payloads).
        self.rsv1_ok = False

    # -------------------------------------------------------- handshake

    def request_bytes(self, extra=None, key=None, version="13", protocols=None):
        hdrs = [("Upgrade", "websocket"), ("Connection", "Upgrade")]
        if key is not False:
            hdrs.append(("Sec-WebSocket-Key", key if key is not None else self.key))
        if version is not None:
            hdrs.append(("Sec-WebSocket-Version", version))
        protos = protocols if protocols is not None else self.protocols
        if protos:
            hdrs.append(("Sec-WebSocket-Protocol", ", ".join(protos)))
        hdrs += list(extra or [])
        return kitetest.build_request("GET", self.path, hdrs, host=self.host)

    def handshake(self, **kw):
        """Send the upgrade; returns the response. Raises WsError unless it is
        a correct 101 (when @expect_101, the default)."""
        expect_101 = kw.pop("expect_101", True)
        self.c.send(self.request_bytes(**kw))
        r = self.c.read_head()
        self.response = r
        if not expect_101:
            return r
        if r.status != 101:
            raise WsError("handshake: status %s, expected 101: %r" % (r.status, r))
        if (r.header("Upgrade") or "").lower() != "websocket":
            raise WsError("handshake: Upgrade is %r" % r.header("Upgrade"))
        if "upgrade" not in (r.header("Connection") or "").lower():
            raise WsError("handshake: Connection is %r" % r.header("Connection"))
        key = kw.get("key") or self.key
        if r.header("Sec-WebSocket-Accept") != accept_for(key):
            raise WsError("handshake: Sec-WebSocket-Accept %r, expected %r" %
                          (r.header("Sec-WebSocket-Accept"), accept_for(key)))
        return r

    # -------------------------------------------------------- sending

    def send(self, data):
        self.c.sock.sendall(data)

    def send_frame(self, op, payload=b"", fin=True, **kw):
        self.send(frame(op, payload, fin, **kw))

    def send_text(self, s):
        self.send_frame(OP_TEXT, s.encode("utf-8") if isinstance(s, str) else s)

    def send_binary(self, b):
        self.send_frame(OP_BINARY, b)

    def send_close(self, code=None, reason=b""):
        self.send_frame(OP_CLOSE, close_payload(code, reason))

    def send_pieces(self, data, cuts, delay=0.003):
        """Send @data as separate TCP writes cut at the offsets in @cuts."""
        prev = 0
        for k in list(cuts) + [len(data)]:
            if k > prev:
                self.send(data[prev:k])
                if delay:
                    time.sleep(delay)
            prev = k

    # -------------------------------------------------------- receiving

    def _need(self, n, deadline):
        while len(self.c.buf) < n:
            if not self.c._fill(deadline):
                raise EOFError("connection closed with %d of %d frame bytes" %
                               (len(self.c.buf), n))

    def recv_frame(self, timeout=None):
        """The next frame from the server, checked against RFC 6455 5.2."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.c.timeout)
        self._need(2, deadline)
        b0, b1 = self.c.buf[0], self.c.buf[1]
        fin, rsv, op = b0 >> 7, (b0 >> 4) & 7, b0 & 0x0F
        if rsv & (3 if self.rsv1_ok else 7):
            raise WsError("server frame with RSV bits %d" % rsv)
        if b1 & 0x80:
            raise WsError("server frame is masked")
        n = b1 & 0x7F
        hl = 2
        if n == 126:
            self._need(4, deadline)
            n = struct.unpack(">H", bytes(self.c.buf[2:4]))[0]
            hl = 4
            if n < 126:
                raise WsError("16-bit length %d where 7 bits do" % n)
        elif n == 127:
            self._need(10, deadline)
            n = struct.unpack(">Q", bytes(self.c.buf[2:10]))[0]
            hl = 10
            if n < 65536 or n >> 63:
                raise WsError("64-bit length %d where a shorter form does" % n)
        if op in (3, 4, 5, 6, 7) or op > 10:
            raise WsError("server frame with reserved opcode %d" % op)
        if op >= 8 and (not fin or n > 125):
            raise WsError("server control frame op %d fin %d len %d" % (op, fin, n))
        self._need(hl + n, deadline)
        payload = bytes(self.c.buf[hl:hl + n])
        del self.c.buf[:hl + n]
        f = Frame(fin, op, payload, rsv)
        if op == OP_CLOSE:
            self.close_frame = f
        return f

    def recv_message(self, timeout=None, pongs=None):
        """The next data message: (opcode, payload, frames). Pings are answered
        with nothing; pong payloads go to @pongs (a list) when given."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.c.timeout)
        op = None
        parts = []
        frames = []
        while True:
            f = self.recv_frame(max(0.01, deadline - time.monotonic()))
            if f.op == OP_PONG:
                if pongs is None:
                    raise WsError("unexpected pong %r" % f)
                pongs.append(f.payload)
                continue
            if f.op == OP_PING:
                continue
            if f.op == OP_CLOSE:
                raise WsError("close frame (code %s) instead of a message" % f.close_code)
            if op is None:
                if f.op == OP_CONT:
                    raise WsError("message starts with a continuation frame")
                op = f.op
            elif f.op != OP_CONT:
                raise WsError("new data frame (op %d) inside a fragmented message" % f.op)
            parts.append(f.payload)
            frames.append(f)
            if f.fin:
                return op, b"".join(parts), frames

    def read_until_close(self, timeout=5.0):
        """Frames up to and including the server's close frame.
        Returns (close_frame or None, frames before it)."""
        deadline = time.monotonic() + timeout
        before = []
        while True:
            try:
                f = self.recv_frame(max(0.01, deadline - time.monotonic()))
            except EOFError:
                return None, before
            if f.op == OP_CLOSE:
                return f, before
            before.append(f)

    def closed_by_server(self, timeout=3.0):
        """True when the server closes TCP (EOF or reset) within @timeout."""
        return self.c.wait_closed(timeout)

    def close(self):
        self.c.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def connect(port, protocols=("echo",), **kw):
    ws = WsConn(port, protocols=list(protocols) if protocols else None, **kw)
    try:
        ws.handshake()
    except Exception:
        ws.close()
        raise
    return ws


class Sender(threading.Thread):
    """sendall() in a thread, so that a test can read the echo meanwhile."""

    def __init__(self, ws, data, chunk=1 << 20):
        super().__init__(daemon=True)
        self.ws, self.data, self.chunk = ws, data, chunk
        self.error = None

    def run(self):
        try:
            mv = memoryview(self.data)
            for i in range(0, len(mv), self.chunk):
                self.ws.send(mv[i:i + self.chunk])
        except Exception as e:  # reported by the test
            self.error = e
