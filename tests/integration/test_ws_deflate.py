#!/usr/bin/python3
"""permessage-deflate (RFC 7692) on kite-test-server's echo protocol.

- python3-websockets (Debian 10.4) with compression on, as a second
  implementation: echo of text and binary messages of many sizes (0 to
  1 MiB, random and repetitive), twice each so the second uses the first
  one's window, under every negotiation variant its client factory can
  offer (no context takeover either way, server and client windows 8 to
  15, client_max_window_bits without a value), each time checking the
  response header kite sent.
- The server's own settings (-Z level:mem:bits[:nct]) in the response,
  -z (off) and a protocol that opts out: no extension agreed.
- Frames written by hand (kitews + zlib): the RFC 7692 "Hello" examples
  (one frame, fragments, context takeover, a stored block, BFINAL set),
  a PING between compressed fragments, a compressed message sent one
  byte per TCP write, an uncompressed message on a deflate connection,
  RSV1 on a continuation or control frame or without the extension
  (1002), data that is not DEFLATE (1007), a zip bomb (1009 at the
  limit, quickly, with the server's memory bounded), offers with bad
  parameters declined with the handshake going on.
- Memory: RSS per idle connection after one message, with context
  takeover, without it (zlib state freed) and without deflate.
All of it over TLS too (KITE_TEST_TLS=1, the suite tls-ws_deflate).
"""
import asyncio
import os
import ssl
import sys
import time
import zlib

sys.dont_write_bytecode = True
import kitetest as kt  # noqa: E402
import kitews as kw  # noqa: E402

try:
    import websockets
    import websockets.exceptions
    from websockets.extensions import permessage_deflate as pmd
except ImportError:  # Debian python3-websockets; `make deps` installs it
    websockets = None

HELLO = bytes([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00])
HELLO2 = bytes([0xf2, 0x00, 0x11, 0x00, 0x00])
TAIL = b"\x00\x00\xff\xff"


def deflate_conn(port, offer="permessage-deflate; client_max_window_bits", protocols=("echo",)):
    """A raw websocket with @offer; returns (ws, agreed extension header)."""
    ws = kw.WsConn(port, protocols=list(protocols))
    extra = [("Sec-WebSocket-Extensions", offer)] if offer else []
    r = ws.handshake(extra=extra)
    ext = r.header("Sec-WebSocket-Extensions")
    ws.rsv1_ok = bool(ext)
    ws.inflater = zlib.decompressobj(-15)
    return ws, ext


def recv_inflated(ws, timeout=5, pongs=None):
    """The next message, inflated when its first frame has RSV1:
    (op, payload, compressed?)."""
    deadline = time.monotonic() + timeout
    frames = []
    while True:
        f = ws.recv_frame(max(0.01, deadline - time.monotonic()))
        if f.op == kw.OP_PONG:
            if pongs is not None:
                pongs.append(f.payload)
            continue
        if f.op == kw.OP_CLOSE:
            raise kw.WsError("close frame (code %s) instead of a message" % f.close_code)
        if frames and f.rsv:
            raise kw.WsError("RSV1 on a continuation frame")
        frames.append(f)
        if f.fin:
            break
    data = b"".join(f.payload for f in frames)
    if frames[0].rsv & 4:
        data = ws.inflater.decompress(data + TAIL)
    return frames[0].op, data, bool(frames[0].rsv & 4)


def expect_close(t, ws, code, name):
    try:
        cf, _ = ws.read_until_close(timeout=5)
    except Exception as e:  # noqa: BLE001
        cf = None
        t.diag("read: %r" % e)
    t.eq(cf.close_code if cf else None, code, name)


# ---------------------------------------------------------------- python websockets

def pydata(kind, n):
    if kind == "repetitive":
        return (b"kite permessage-deflate " * (n // 24 + 1))[:n]
    return os.urandom(n)


async def py_echo(port, factory, sizes):
    """Echo each size twice as binary, then as text; returns (ok, agreed header, what failed)."""
    uri = "%s://127.0.0.1:%d/" % ("wss" if kt.TLS else "ws", port)
    ctx = None
    if kt.TLS:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    async with websockets.connect(uri, subprotocols=["echo"], extensions=[factory],
                                  max_size=None, compression=None, ssl=ctx) as ws:
        ext = ws.response_headers.get("Sec-WebSocket-Extensions")
        for kind in ("random", "repetitive"):
            for n in sizes:
                m = pydata(kind, n)
                for _ in range(2):
                    await ws.send(m)
                    got = await asyncio.wait_for(ws.recv(), 20)
                    if got != m:
                        return False, ext, "%s binary %d" % (kind, n)
                s = m.hex()[:n]
                await ws.send(s)
                got = await asyncio.wait_for(ws.recv(), 20)
                if got != s:
                    return False, ext, "%s text %d" % (kind, n)
        return True, ext, None


VARIANTS = [
    # (client factory kwargs, expected response)
    ({}, "permessage-deflate"),
    ({"client_max_window_bits": True}, "permessage-deflate"),
    ({"server_no_context_takeover": True},
     "permessage-deflate; server_no_context_takeover"),
    ({"client_no_context_takeover": True},
     "permessage-deflate; client_no_context_takeover"),
    ({"server_no_context_takeover": True, "client_no_context_takeover": True},
     "permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
    ({"server_max_window_bits": 9}, "permessage-deflate; server_max_window_bits=9"),
    ({"server_max_window_bits": 12}, "permessage-deflate; server_max_window_bits=12"),
    ({"server_max_window_bits": 15}, "permessage-deflate; server_max_window_bits=15"),
    # Not 8: python's zlib refuses to compress with it (kite inflates
    # with 8 when asked; tests/unit/roles/ws covers that stream).
    ({"client_max_window_bits": 9}, "permessage-deflate; client_max_window_bits=9"),
    ({"client_max_window_bits": 11, "server_max_window_bits": 10},
     "permessage-deflate; server_max_window_bits=10; client_max_window_bits=11"),
]
SIZES = [0, 1, 2, 125, 126, 127, 1000, 65535, 65536, 70000, 1 << 20]


def test_python_variants(t, srv):
    if not t.ok(websockets is not None, "python3-websockets is installed"):
        return
    for kwargs, want in VARIANTS:
        factory = pmd.ClientPerMessageDeflateFactory(**kwargs)
        try:
            ok, ext, bad = asyncio.run(py_echo(srv.port, factory, SIZES))
        except Exception as e:  # noqa: BLE001
            ok, ext, bad = False, None, repr(e)
        t.eq(ext, want, "python websockets offer %s: the response" % (kwargs or "default"))
        t.ok(ok, "... echo of 0 B - 1 MiB random and repetitive, text and binary, twice",
             bad)


def test_python_server_window_8(t, srv):
    """zlib cannot deflate with 8 bits: kite does with 9, whose matches
    reach back 250 bytes at most, and the client inflates with 8."""
    if websockets is None:
        return
    factory = pmd.ClientPerMessageDeflateFactory(server_max_window_bits=8)
    try:
        ok, ext, bad = asyncio.run(py_echo(srv.port, factory, [300, 5000, 70000]))
    except Exception as e:  # noqa: BLE001
        ok, ext, bad = False, None, repr(e)
    t.eq(ext, "permessage-deflate; server_max_window_bits=8",
         "server_max_window_bits=8 is agreed")
    t.ok(ok, "... and what kite sends inflates with a 256-byte window", bad)


# ---------------------------------------------------------------- frames by hand

def test_rfc_hello(t, srv):
    ws, ext = deflate_conn(srv.port)
    with ws.c:
        t.eq(ext, "permessage-deflate", "a raw offer with client_max_window_bits is accepted")
        ws.send_frame(kw.OP_TEXT, HELLO, rsv=4)
        op, data, comp = recv_inflated(ws)
        t.eq((op, data, comp), (kw.OP_TEXT, b"Hello", True),
             "RFC 7692 7.2.3.1: f2 48 cd c9 c9 07 00 is Hello (echoed compressed)")
        ws.send_frame(kw.OP_TEXT, HELLO2, rsv=4)
        t.eq(recv_inflated(ws)[1], b"Hello", "7.2.3.2: f2 00 11 00 00 with context takeover")
        ws.send_frame(kw.OP_TEXT, bytes([0x00, 0x05, 0x00, 0xfa, 0xff]) + b"Hello\x00", rsv=4)
        t.eq(recv_inflated(ws)[1], b"Hello", "7.2.3.3: a stored block")
        ws.send_frame(kw.OP_TEXT, HELLO[:3], fin=False, rsv=4)
        ws.send_frame(kw.OP_CONT, HELLO[3:])
        t.eq(recv_inflated(ws)[1], b"Hello", "7.2.3.1: the message in two fragments")
        ws.send_frame(kw.OP_TEXT, HELLO[:3], fin=False, rsv=4)
        ws.send_frame(kw.OP_PING, b"between")
        ws.send_frame(kw.OP_CONT, HELLO[3:5], fin=False)
        ws.send_frame(kw.OP_PING, b"again")
        ws.send_frame(kw.OP_CONT, HELLO[5:])
        pongs = []
        t.eq(recv_inflated(ws, pongs=pongs)[1], b"Hello",
             "a PING between compressed fragments: the message is whole")
        t.eq(pongs, [b"between", b"again"], "... and each PING got its PONG")
        ws.send_frame(kw.OP_TEXT, b"plain text")
        t.eq(recv_inflated(ws)[1], b"plain text",
             "an uncompressed message on a deflate connection is accepted")
        ws.send_frame(kw.OP_BINARY, b"", rsv=4)
        ws.send_frame(kw.OP_BINARY, b"\x00", rsv=4)
        t.eq([recv_inflated(ws)[:2], recv_inflated(ws)[:2]],
             [(kw.OP_BINARY, b""), (kw.OP_BINARY, b"")],
             "empty compressed messages (no payload, and the single byte 00)")
        ws.send_close(1000)
        expect_close(t, ws, 1000, "closes normally")


def test_bfinal(t, srv):
    ws, _ = deflate_conn(srv.port, "permessage-deflate; client_no_context_takeover")
    with ws.c:
        ws.send_frame(kw.OP_TEXT, bytes([0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00]), rsv=4)
        t.eq(recv_inflated(ws)[1], b"Hello", "7.2.3.5: a block with BFINAL set")
        ws.send_frame(kw.OP_TEXT, HELLO, rsv=4)
        t.eq(recv_inflated(ws)[1], b"Hello", "the next message after it")


def test_split_bytes(t, srv):
    ws, _ = deflate_conn(srv.port)
    with ws.c:
        msg = ("kite ∑ deflate " * 40).encode()
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        data = c.compress(msg) + c.flush(zlib.Z_SYNC_FLUSH)
        assert data.endswith(TAIL)
        fr = kw.frame(kw.OP_TEXT, data[:-4], rsv=4)
        ws.send_pieces(fr, range(1, len(fr)), delay=0.001)
        t.eq(recv_inflated(ws)[1], msg, "a compressed message sent one byte per TCP write")
        # Fragments of 3 bytes, each its own frame.
        body = data[:-4]
        frs = b""
        for i in range(0, len(body), 3):
            frs += kw.frame(kw.OP_TEXT if i == 0 else kw.OP_CONT, body[i:i + 3],
                            fin=i + 3 >= len(body), rsv=4 if i == 0 else 0)
        ws.send(frs)
        t.eq(recv_inflated(ws)[1], msg, "the same message in 3-byte fragments")


def test_rsv_errors(t, srv):
    ws, _ = deflate_conn(srv.port)
    with ws.c:
        ws.send_frame(kw.OP_TEXT, HELLO[:3], fin=False, rsv=4)
        ws.send_frame(kw.OP_CONT, HELLO[3:], rsv=4)
        expect_close(t, ws, 1002, "RSV1 on a continuation frame: 1002")
    ws, _ = deflate_conn(srv.port)
    with ws.c:
        ws.send_frame(kw.OP_PING, b"x", rsv=4)
        expect_close(t, ws, 1002, "RSV1 on a PING: 1002")
    ws, _ = deflate_conn(srv.port)
    with ws.c:
        ws.send_frame(kw.OP_TEXT, HELLO, rsv=2)
        expect_close(t, ws, 1002, "RSV2: 1002")
    ws, ext = deflate_conn(srv.port, offer=None)
    with ws.c:
        t.eq(ext, None, "no offer, no extension")
        ws.send_frame(kw.OP_TEXT, HELLO, rsv=4)
        expect_close(t, ws, 1002, "RSV1 without the extension: 1002")


def test_bad_data(t, srv):
    ws, _ = deflate_conn(srv.port)
    with ws.c:
        ws.send_frame(kw.OP_TEXT, b"\x07\x00junk", rsv=4)
        expect_close(t, ws, 1007, "data that is not DEFLATE (reserved block type): 1007")
    ws, _ = deflate_conn(srv.port)
    with ws.c:
        ws.send_frame(kw.OP_TEXT, HELLO2, rsv=4)
        expect_close(t, ws, 1007, "a match before the start of the window: 1007")
    ws, _ = deflate_conn(srv.port)
    with ws.c:
        c = zlib.compressobj(1, zlib.DEFLATED, -15)
        bad = c.compress(b"\xff\xfe valid deflate, invalid UTF-8") + c.flush(zlib.Z_SYNC_FLUSH)
        ws.send_frame(kw.OP_TEXT, bad[:-4], rsv=4)
        expect_close(t, ws, 1007, "inflated text that is not UTF-8: 1007")


def test_zip_bomb(t, srv):
    """64 MiB of zeros in ~64 KB against the 16 MiB message limit."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(1 << 20)
    bomb = b"".join(c.compress(chunk) for _ in range(64)) + c.flush(zlib.Z_SYNC_FLUSH)
    rss0 = srv.rss_kb()
    ws, _ = deflate_conn(srv.port, protocols=("lws-status",))
    with ws.c:
        start = time.monotonic()
        ws.send_frame(kw.OP_BINARY, bomb[:-4], rsv=4)
        expect_close(t, ws, 1009, "a zip bomb (64 MiB in %d bytes): 1009" % len(bomb))
        took = time.monotonic() - start
    rss1 = srv.rss_kb()
    t.ok(took < 3, "... within %.2f s" % took)
    t.ok(rss1 - rss0 < 8 * 1024, "... the server grew by %d KiB (< 8 MiB)" % (rss1 - rss0))


def test_offers(t, srv):
    cases = [
        ("permessage-deflate; foo=1, permessage-deflate; server_no_context_takeover",
         "permessage-deflate; server_no_context_takeover", "the first acceptable offer wins"),
        ("permessage-deflate; server_max_window_bits=16", None,
         "server_max_window_bits=16: declined, the handshake goes on"),
        ("permessage-deflate; server_max_window_bits", None,
         "server_max_window_bits without a value: declined"),
        ("permessage-deflate; client_no_context_takeover; client_no_context_takeover", None,
         "a repeated parameter: declined"),
        ("x-webkit-deflate-frame", None, "an unknown extension: ignored"),
    ]
    for offer, want, name in cases:
        ws, ext = deflate_conn(srv.port, offer)
        with ws.c:
            t.eq(ext, want, name)
            ws.send_text("after")
            t.eq(recv_inflated(ws)[1], b"after", "... and the connection works")
    # Two header lines: the first acceptable offer over both.
    ws = kw.WsConn(srv.port, protocols=["echo"])
    with ws.c:
        r = ws.handshake(extra=[("Sec-WebSocket-Extensions", "permessage-deflate; bogus"),
                                ("Sec-WebSocket-Extensions",
                                 "permessage-deflate; client_max_window_bits=10")])
        t.eq(r.header("Sec-WebSocket-Extensions"),
             "permessage-deflate; client_max_window_bits=10",
             "offers over two header lines")
    ws, ext = deflate_conn(srv.port, protocols=("dumb-increment-protocol",))
    with ws.c:
        t.eq(ext, None, "dumb-increment (KITE_PROTO_NO_DEFLATE) never agrees")


# ---------------------------------------------------------------- server settings

def run_server(tap, args, fn):
    srv = kt.Server(tap, args=args, name="server " + " ".join(args))
    try:
        srv.start()
    except Exception as e:  # noqa: BLE001
        tap.ok(False, "server %s starts" % args, repr(e))
        return
    try:
        tap.run(fn, tap, srv)
    finally:
        srv.stop()


def test_server_nct(t, srv):
    ws, ext = deflate_conn(srv.port)
    with ws.c:
        t.eq(ext, "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
             "server_max_window_bits=10; client_max_window_bits=10",
             "-Z 6:5:10:nct: no context takeover both ways, windows of 10 bits")
        for _ in range(3):
            ws.inflater = zlib.decompressobj(-10)
            ws.send_frame(kw.OP_TEXT, HELLO, rsv=4)
            f = ws.recv_frame()
            ok = f.rsv == 4 and f.payload == HELLO
            if not ok:
                break
        t.ok(ok, "... every Hello goes out as f2 48 cd c9 c9 07 00 (nothing carried over)")
    if websockets is not None:
        factory = pmd.ClientPerMessageDeflateFactory(client_max_window_bits=True)
        try:
            ok, ext, bad = asyncio.run(py_echo(srv.port, factory, [1, 1000, 70000]))
        except Exception as e:  # noqa: BLE001
            ok, ext, bad = False, None, repr(e)
        t.ok(ok, "... python websockets echo under those terms", bad)


def test_server_off(t, srv):
    ws, ext = deflate_conn(srv.port)
    with ws.c:
        t.eq(ext, None, "-z: the offer is not taken")
        ws.send_frame(kw.OP_TEXT, HELLO, rsv=4)
        expect_close(t, ws, 1002, "... and RSV1 is a protocol error")


# ---------------------------------------------------------------- memory

def idle_conns(port, n, offer):
    socks = []
    for _ in range(n):
        ws, _ = deflate_conn(port, offer)
        ws.send_frame(kw.OP_TEXT, HELLO if offer else b"Hello", rsv=4 if offer else 0)
        socks.append(ws)
    # Each gets its message back (compressed), then sits idle.
    for ws in socks:
        recv_inflated(ws)
    return socks


MEMORY = {}


def memory_round(label, offer, n=300):
    """RSS growth per idle connection, each round on a fresh server."""
    def fn(t, srv):
        with open("/proc/%d/maps" % srv.pid) as f:
            if "libasan" in f.read():
                MEMORY["asan"] = True  # freed memory stays in ASan's quarantine
        rss0 = srv.rss_kb()
        socks = idle_conns(srv.port, n, offer)
        time.sleep(0.2)
        MEMORY[label] = (srv.rss_kb() - rss0) * 1024 / n
        for ws in socks:
            ws.c.close()
    return fn


def check_memory(t):
    t.diag("RSS per idle ws conn after one message (%s): no deflate %.0f B, deflate with "
           "context takeover %.0f B, without %.0f B" % (
               "a fresh kite-test-server each, 300 conns", MEMORY.get("none", -1),
               MEMORY.get("takeover", -1), MEMORY.get("no-takeover", -1)))
    if MEMORY.get("asan"):
        t.diag("AddressSanitizer build: freed memory is quarantined, RSS says nothing")
        return
    t.ok(MEMORY.get("no-takeover", 1e9) < MEMORY.get("none", 0) + 4096,
         "without context takeover an idle conn holds no zlib state")
    t.ok(MEMORY.get("takeover", 0) > 100 * 1024,
         "with context takeover it keeps its windows")


def main():
    tap = kt.Tap()
    for label, offer in (("none", None),
                         ("no-takeover", "permessage-deflate; server_no_context_takeover; "
                                         "client_no_context_takeover"),
                         ("takeover", "permessage-deflate")):
        run_server(tap, [], memory_round(label, offer))
    check_memory(tap)
    run_server(tap, [], lambda t, srv: [
        t.run(fn, t, srv) for fn in (test_python_variants, test_python_server_window_8,
                                      test_rfc_hello, test_bfinal, test_split_bytes,
                                      test_rsv_errors, test_bad_data, test_zip_bomb,
                                      test_offers)])
    run_server(tap, ["-Z", "6:5:10:nct"], test_server_nct)
    run_server(tap, ["-z"], test_server_off)
    tap.done()


if __name__ == "__main__":
    main()
