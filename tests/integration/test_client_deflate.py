#!/usr/bin/python3
"""kite-test-client's permessage-deflate offer against other servers.

- python websockets (Debian 10.4) serving with compression: the offer is
  agreed on both ends (the server's handler reports the extension), and
  kite-test-client --echo's messages of 0 to 200000 bytes, text and
  binary, go out compressed and come back compressed, intact; also with
  the server asking for no context takeover and 10-bit windows both
  ways, and a server without compression (the offer declined, messages
  uncompressed).
- A libwebsockets server with its permessage-deflate extension
  (lws-deflate-echo.c, built when libwebsockets-dev is there; Debian's
  libwebsockets-test-server registers no extensions): agreed on both
  ends, --echo intact; and -z against it.
- A server that answers the handshake by hand: answers that do not fit
  the offer (unknown parameter, client_max_window_bits without a value,
  window bits out of range, another extension, two elements, two header
  lines, a duplicate parameter) fail the connection with the reason on
  stderr; an extension answered when -z offered none fails too; a
  server_max_window_bits it was not asked for is fine (RFC 7692 7.1.2.1);
  with -Z asking for a 10-bit server window and no context takeover, an
  answer must grant both (a smaller window is fine).
"""
import asyncio
import base64
import hashlib
import os
import socket
import subprocess
import sys
import threading

sys.dont_write_bytecode = True
import kitetest as kt  # noqa: E402

CLIENT = os.path.abspath(sys.argv[1])
LWS_ECHO = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else None

PY_SERVER = r"""
import asyncio, sys
import websockets
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory

strict = sys.argv[1] == "strict"
plain = sys.argv[1] == "plain"

async def echo(ws):
    names = [e.name for e in ws.extensions]
    print("extensions: %s" % (",".join(names) or "none"), flush=True)
    async for m in ws:
        await ws.send(m)

async def main():
    if plain:
        kw = {"compression": None}
    elif strict:
        kw = {"extensions": [ServerPerMessageDeflateFactory(
            server_no_context_takeover=True, client_no_context_takeover=True,
            server_max_window_bits=10, client_max_window_bits=10)]}
    else:
        kw = {"compression": "deflate"}
    async with websockets.serve(echo, "127.0.0.1", 0, max_size=1 << 21,
                                subprotocols=["echo"], **kw) as srv:
        print("port %d" % srv.sockets[0].getsockname()[1], flush=True)
        await asyncio.sleep(30)

asyncio.run(main())
"""


def client(args, timeout=20):
    p = subprocess.run([CLIENT] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def py_echo(t, mode, want):
    p = subprocess.Popen(["/usr/bin/python3", "-c", PY_SERVER, mode], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        line = p.stdout.readline().decode()
        if not t.ok(line.startswith("port "), "python websockets server (%s) up" % mode, line):
            return
        port = int(line.split()[1])
        rc, out, err = client(["--echo=40", "-t", "15", "ws://127.0.0.1:%d/" % port])
        seen = p.stdout.readline().decode().strip()
        agreed = "echo: permessage-deflate %s" % ("agreed" if want else "not agreed")
        t.ok(agreed in out and seen == "extensions: %s" %
             ("permessage-deflate" if want else "none"),
             "python websockets (%s): deflate %s on both ends (%s)" %
             (mode, "agreed" if want else "not agreed", seen), out + err)
        t.ok(rc == 0 and "echo: 40 sent, 40 received, errs 0" in out,
             "python websockets (%s): 40 messages of 0 to 200000 bytes echoed intact" % mode,
             out + err)
    finally:
        p.kill()
        p.wait()


def test_python(t):
    py_echo(t, "default", True)
    py_echo(t, "strict", True)
    py_echo(t, "plain", False)


def test_lws(t):
    if not LWS_ECHO:
        t.ok(True, "# SKIP lws-deflate-echo not built (no libwebsockets-dev)")
        return
    p = subprocess.Popen([LWS_ECHO], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL)
    try:
        line = p.stdout.readline().decode()
        if not t.ok(line.startswith("port "), "lws-deflate-echo up", line):
            return
        url = "ws://127.0.0.1:%d/" % int(line.split()[1])
        rc, out, err = client(["--echo=60", "-t", "15", url])
        seen = p.stdout.readline().decode().strip()
        t.ok("echo: permessage-deflate agreed" in out and seen == "extension permessage-deflate",
             "libwebsockets: deflate agreed on both ends (%s)" % seen, out + err)
        t.ok(rc == 0 and "echo: 60 sent, 60 received, errs 0" in out,
             "libwebsockets: 60 messages of 0 to 200000 bytes echoed intact", out + err)
        rc, out, err = client(["-z", "--echo=20", "-t", "15", url])
        t.ok(rc == 0 and "echo: permessage-deflate not agreed" in out and
             "echo: 20 sent, 20 received, errs 0" in out,
             "libwebsockets, -z: no deflate, 20 messages echoed intact", out + err)
    finally:
        p.terminate()
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


class HandServer:
    """Answers every websocket handshake with a 101 carrying @ext lines."""

    def __init__(self):
        self.s = socket.socket()
        self.s.bind(("127.0.0.1", 0))
        self.s.listen(8)
        self.port = self.s.getsockname()[1]
        self.ext = []
        self.offer = None
        self.th = threading.Thread(target=self.loop, daemon=True)
        self.th.start()

    def loop(self):
        while True:
            try:
                c, _ = self.s.accept()
            except OSError:
                return
            try:
                c.settimeout(5)
                head = b""
                while b"\r\n\r\n" not in head:
                    d = c.recv(4096)
                    if not d:
                        break
                    head += d
                lines = head.decode("latin-1").split("\r\n")
                hdrs = {}
                for ln in lines[1:]:
                    if ":" in ln:
                        k, v = ln.split(":", 1)
                        hdrs[k.strip().lower()] = v.strip()
                self.offer = hdrs.get("sec-websocket-extensions")
                key = hdrs.get("sec-websocket-key", "")
                acc = base64.b64encode(hashlib.sha1(
                    (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
                resp = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
                        "Sec-WebSocket-Protocol: echo\r\n" % acc)
                for e in self.ext:
                    resp += "Sec-WebSocket-Extensions: %s\r\n" % e
                c.sendall((resp + "\r\n").encode())
                # An uncompressed close (1000) ends a connection that was accepted.
                c.sendall(b"\x88\x02\x03\xe8")
                c.recv(1024)
            except OSError:
                pass
            finally:
                c.close()

    def close(self):
        self.s.close()


def test_bad_answers(t):
    hs = HandServer()
    url = "ws://127.0.0.1:%d/" % hs.port
    why = "does not answer the permessage-deflate offer"
    try:
        for ext, what in [
                (["permessage-deflate; foo=1"], "an unknown parameter"),
                (["permessage-deflate; client_max_window_bits"],
                 "client_max_window_bits without a value"),
                (["permessage-deflate; server_max_window_bits=16"], "window bits 16"),
                (["permessage-deflate; server_max_window_bits=7"], "window bits 7"),
                (["x-webkit-deflate-frame"], "another extension"),
                (["permessage-deflate, permessage-deflate"], "two elements"),
                (["permessage-deflate", "permessage-deflate"], "two header lines"),
                (["permessage-deflate; server_no_context_takeover; server_no_context_takeover"],
                 "a repeated parameter"),
                (["permessage-deflate; server_no_context_takeover=1"],
                 "a value on server_no_context_takeover")]:
            hs.ext = ext
            rc, out, err = client(["--echo=1", "-t", "5", url])
            t.ok(rc == 1 and why in err and "agreed" not in out,
                 "%s: the connection fails (\"%s\")" % (what, why), out + err)
        t.eq(hs.offer, "permessage-deflate; client_max_window_bits",
             "the offer: permessage-deflate; client_max_window_bits")
        hs.ext = ["permessage-deflate"]
        rc, out, err = client(["-z", "--echo=1", "-t", "5", url])
        t.ok(rc == 1 and "an extension that was not offered" in err and hs.offer is None,
             "-z offers nothing; an extension in the answer fails the connection", out + err)
        for ext, what in [(["permessage-deflate; server_max_window_bits=10"],
                           "a server_max_window_bits not asked for"),
                          (["permessage-deflate; server_no_context_takeover; "
                            "client_no_context_takeover; client_max_window_bits=9"],
                           "no context takeover both ways, client window 9"),
                          ([], "no extension (the offer declined)")]:
            hs.ext = ext
            rc, out, err = client(["--echo=1", "-t", "5", url])
            want = "echo: permessage-deflate %s" % ("agreed" if ext else "not agreed")
            t.ok(want in out and why not in err, "%s: accepted (%s)" % (what, want), out + err)
        # -Z 1:8:10:nct asks for a 10-bit server window and no context takeover.
        strict = ["-Z", "1:8:10:nct", "--echo=1", "-t", "5", url]
        for ext, ok, what in [
                (["permessage-deflate; server_no_context_takeover; server_max_window_bits=10"],
                 True, "asked for 10 bits and no context takeover: both granted"),
                (["permessage-deflate; server_no_context_takeover; server_max_window_bits=9"],
                 True, "asked for 10 bits: 9 granted"),
                (["permessage-deflate; server_max_window_bits=10"], False,
                 "asked for no context takeover: not granted"),
                (["permessage-deflate; server_no_context_takeover"], False,
                 "asked for 10 bits: no server_max_window_bits"),
                (["permessage-deflate; server_no_context_takeover; server_max_window_bits=12"],
                 False, "asked for 10 bits: 12")]:
            hs.ext = ext
            rc, out, err = client(strict)
            if ok:
                t.ok("echo: permessage-deflate agreed" in out and why not in err,
                     "-Z: %s: accepted" % what, out + err)
            else:
                t.ok(rc == 1 and why in err, "-Z: %s: the connection fails" % what, out + err)
        t.eq(hs.offer, "permessage-deflate; client_max_window_bits; server_max_window_bits=10; "
             "server_no_context_takeover; client_no_context_takeover",
             "-Z 1:8:10:nct: the offer asks for the window and no context takeover")
    finally:
        hs.close()


def main():
    t = kt.Tap()
    t.run(test_python, t)
    t.run(test_lws, t)
    t.run(test_bad_answers, t)
    t.done()


main()
