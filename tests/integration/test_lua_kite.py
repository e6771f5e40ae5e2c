#!/usr/bin/python3
"""lua-kite (`require 'kite.websockets'`) end to end: Lua programs run by
lua5.4 with the module from the build dir, talked to by python3-websockets,
raw HTTP and Debian's libwebsockets-test-client.

argv: lua5.4, the directory holding kite.so, the test-apps/html directory.
- lua/server.lua (then again over TLS, and again with on_add_fd, kite's
  external-poll backend, driven by service()): echo of every size, text and
  binary; broadcast to 100 clients in the three on_broadcast modes;
  rx_flow_control; close codes and reasons; the send-queue cap; peer
  address and fd; serve_http_file (GET, HEAD, big, missing, unanswered,
  an error in on_http raised by service()).
- lua/errors.lua: bad configs, port in use, lifetimes, 1000 cycles (TAP
  relayed).
- examples/echo.lua, examples/test-server.lua (test page, lws test
  client) and examples/echo-luv.lua (a luv loop: fds, timers, SIGTERM).
Each Lua process must exit 0 and print no sanitizer report. Under ASan
(KITE_LUA_PRELOAD names libasan) lua5.4 runs with it preloaded.
"""
import asyncio
import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kitetest as kt  # noqa: E402

import websockets  # noqa: E402
import websockets.exceptions  # noqa: E402

LUA, MODDIR, HTML = sys.argv[1], os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
EXAMPLES = os.path.join(SRC, "apps", "lua-kite", "examples")
LWS_CLIENT = "/usr/bin/libwebsockets-test-client"


def lua_env():
    env = dict(os.environ, LUA_CPATH=MODDIR + "/?.so;;")
    pre = os.environ.get("KITE_LUA_PRELOAD")
    if pre:
        env["LD_PRELOAD"] = pre
        # lua5.4 and luv are not built with ASan: their allocations at exit
        # are not ours to check, kite.so's are (it is).
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    return env


class Lua:
    """A Lua program that prints its port ("PORT n" or "listening on port n")."""

    def __init__(self, t, args, name):
        self.t, self.name = t, name
        self.p = subprocess.Popen([LUA] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  stdin=subprocess.DEVNULL, env=lua_env())
        self.port = None
        self.lines = []
        deadline = time.time() + 15
        while time.time() < deadline:
            line = self.p.stdout.readline().decode()
            if not line:
                break
            self.lines.append(line)
            m = re.search(r"(?:PORT\s+|listening on port )(\d+)", line)
            if m:
                self.port = int(m.group(1))
                break
        t.ok(self.port, "%s: listening on port %s" % (name, self.port),
             "".join(self.lines) + self.p.stderr.read1(65536).decode("utf-8", "replace")
             if not self.port else None)

    def finish(self, sig=None, want=0):
        if sig:
            self.p.send_signal(sig)
        try:
            out, err = self.p.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.p.kill()
            out, err = self.p.communicate()
        out = "".join(self.lines) + out.decode("utf-8", "replace")
        err = err.decode("utf-8", "replace")
        self.t.eq(self.p.returncode, want, "%s: exits with %d" % (self.name, want))
        if self.p.returncode != want:
            self.t.diag(out[-2000:] + err[-3000:])
        marks = [m for m in kt.SANITIZER_MARKS if m in err]
        self.t.ok(not marks, "%s: no sanitizer report" % self.name, err[-4000:])
        return out, err


def uri(port, tls):
    return "%s://127.0.0.1:%d/" % ("wss" if tls else "ws", port)


def client_ssl(tls):
    if not tls:
        return None
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


def connect(port, tls, proto):
    return websockets.connect(uri(port, tls), subprotocols=[proto], max_size=None,
                              open_timeout=10, close_timeout=5, compression=None,
                              ssl=client_ssl(tls))


async def recv(ws, secs=10):
    return await asyncio.wait_for(ws.recv(), secs)


async def ctl(port, tls, cmd):
    async with connect(port, tls, "ctl") as ws:
        await ws.send(cmd)
        if cmd == "quit":
            return None
        return await recv(ws)


async def echo_checks(t, port, tls, tag):
    async with connect(port, tls, "echo") as ws:
        bad = []
        sizes = [0, 1, 125, 126, 127, 65535, 65536, 65537, 1 << 20]
        for n in sizes:
            data = os.urandom(n)
            await ws.send(data)
            if await recv(ws, 20) != data:
                bad.append(("binary", n))
            text = ("kite \u00e9\u4e16 " * (n // 12 + 1))[:n // 2]
            await ws.send(text)
            if await recv(ws, 20) != text:
                bad.append(("text", n))
        t.eq(bad, [], "%s: echo of 0 B .. 1 MiB, text stays text, binary stays binary" % tag)
        many = ["m%d" % i for i in range(300)]
        for m in many:
            await ws.send(m)
        got = [await recv(ws) for _ in many]
        t.ok(got == many, "%s: 300 messages back to back come back in order" % tag)


async def broadcast_checks(t, port, tls, tag):
    modes = ["text", "binary", "func"]
    conns = []
    for i in range(100):
        ws = await connect(port, tls, "bc")
        await ws.send(modes[i % 3])
        conns.append((modes[i % 3], ws))
    readies = [await recv(ws) for _, ws in conns]
    t.ok(all(r == "ready:" + m for r, (m, _) in zip(readies, conns)),
         "%s: 100 clients set their on_broadcast mode" % tag)
    t.eq(await ctl(port, tls, "broadcast bc hello"), "100",
         "%s: context:broadcast() reaches all 100" % tag)
    want = {"text": "hello", "binary": b"hello", "func": "f:hello"}
    got = [await recv(ws) for _, ws in conns]
    t.ok(all(g == want[m] for g, (m, _) in zip(got, conns)),
         "%s: WRITE_TEXT, WRITE_BINARY and function modes each got theirs" % tag,
         [g for g in got[:6]])
    await conns[0][1].send("all:xyz")
    want = {"text": "xyz", "binary": b"xyz", "func": "f:xyz"}
    got = [await recv(ws) for _, ws in conns]
    t.ok(all(g == want[m] for g, (m, _) in zip(got, conns)),
         "%s: websocket:broadcast() reaches every websocket of its protocol, the sender too"
         % tag)
    for _, ws in conns:
        await ws.close()


async def flow_checks(t, port, tls, tag):
    async with connect(port, tls, "flow") as ws:
        await ws.send("pause")
        t.eq(await recv(ws), "paused", "%s: rx_flow_control(false) from on_receive" % tag)
        for m in ("m1", "m2", "m3"):
            await ws.send(m)
        try:
            early = await asyncio.wait_for(ws.recv(), 0.5)
        except asyncio.TimeoutError:
            early = None
        t.eq(early, None, "%s: nothing is read while paused" % tag)
        t.eq(await ctl(port, tls, "resume"), "0",
             "%s: on_receive was not called while paused" % tag)
        got = [await recv(ws) for _ in range(3)]
        t.eq(got, ["got:m1", "got:m2", "got:m3"],
             "%s: after rx_flow_control(true) the held messages arrive in order" % tag)


async def close_checks(t, port, tls, tag):
    async with connect(port, tls, "closer") as ws:
        await ws.send("close 4001 bye")
        try:
            await recv(ws)
        except websockets.exceptions.ConnectionClosed:
            pass
        t.eq((ws.close_code, ws.close_reason), (4001, "bye"),
             "%s: close(4001, 'bye') sends that code and reason" % tag)
    async with connect(port, tls, "closer") as ws:
        await ws.send("queue-close")
        got = []
        try:
            while True:
                got.append(await recv(ws))
        except websockets.exceptions.ConnectionClosed:
            pass
        t.eq((got, ws.close_code), (["one", "two"], 1000),
             "%s: close() after writes: the queued messages go first, then 1000" % tag)
    async with connect(port, tls, "closer") as ws:
        await ws.close(4002, "client")
    await asyncio.sleep(0.2)
    t.eq(await ctl(port, tls, "closes?"), "4001,1000,4002",
         "%s: on_closed gets each close code" % tag)
    after = await ctl(port, tls, "after-close?")
    t.ok("websocket is closed" in after, "%s: a write after on_closed raises a clean error"
         % tag, after)


async def queue_checks(t, port, tls, tag):
    async with connect(port, tls, "closer") as ws:
        await ws.send("flood")
        got = []
        while len(got) < 32:
            got.append(await recv(ws))
        try:
            extra = await asyncio.wait_for(ws.recv(), 0.5)
        except asyncio.TimeoutError:
            extra = None
        t.ok(all(len(g) == 65536 for g in got) and extra is None,
             "%s: the 32 messages the queue took arrive, the refused ones do not" % tag)
        flood = await ctl(port, tls, "flood?")
        t.ok(re.match(r"^32 send queue full \(2\d{6} bytes queued, max_queue 2097152\)$", flood),
             "%s: write() past max_queue returns nil, 'send queue full ...'" % tag, flood)
        await ws.send("peer")
        peer = (await recv(ws)).split()
        t.ok(peer[:2] == ["127.0.0.1", "127.0.0.1"] and int(peer[2]) > 2 and peer[3] == "0",
             "%s: get_peer_addresses, get_socket_fd, remaining_packet_payload" % tag, peer)


def http_get(port, tls, path, method="GET"):
    if tls:
        c = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=client_ssl(True))
    else:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request(method, path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, r.getheader("Content-Type"), r.getheader("Content-Length"), body


async def http_checks(t, port, tls, tag, docroot):
    index = open(os.path.join(docroot, "index.html"), "rb").read()
    big = open(os.path.join(docroot, "big.bin"), "rb").read()
    loop = asyncio.get_running_loop()

    async def get(path, method="GET"):
        return await loop.run_in_executor(None, http_get, port, tls, path, method)
    t.eq(await get("/"), (200, "text/html", str(len(index)), index),
         "%s: serve_http_file() answers with the file and its type" % tag)
    st, ty, ln, body = await get("/", "HEAD")
    t.eq((st, ln, body), (200, str(len(index)), b""), "%s: HEAD: the length, no body" % tag)
    st, ty, ln, body = await get("/big.bin")
    t.ok(st == 200 and body == big, "%s: a 3 MiB file streamed whole (%d bytes)" % (tag, len(body)))
    t.eq((await get("/missing"))[0], 404, "%s: a missing file: 404 (and nil, err in Lua)" % tag)
    t.eq((await get("/unanswered"))[0], 404, "%s: a request on_http leaves unanswered: 404" % tag)
    t.eq((await get("/twice"))[0], 200, "%s: a second serve_http_file() raises, the first stands"
         % tag)
    t.eq((await get("/error"))[0], 500, "%s: an error raised in on_http: 500" % tag)
    errs = await ctl(port, tls, "errors?")
    t.ok("on_http failed on purpose" in errs and len(errs.splitlines()) == 1,
         "%s: ... and service() raised it to the program" % tag, errs)


def server_suite(t, docroot, tls, certs=("", ""), mode=""):
    tag = ("wss" if tls else "ws") + ("-" + mode if mode else "")
    srv = Lua(t, [os.path.join(HERE, "lua", "server.lua"), docroot] + list(certs) + [mode],
              "server.lua (%s)" % tag)
    if not srv.port:
        srv.finish(signal.SIGKILL, -9)
        return

    async def all_checks():
        for fn in (echo_checks, broadcast_checks, flow_checks, close_checks, queue_checks):
            try:
                await fn(t, srv.port, tls, tag)
            except Exception as e:
                t.ok(False, "%s: %s ran to the end" % (tag, fn.__name__), repr(e))
        try:
            await http_checks(t, srv.port, tls, tag, docroot)
        except Exception as e:
            t.ok(False, "%s: http_checks ran to the end" % tag, repr(e))
        # quit with a connection still open: destroy() closes it.
        async with connect(srv.port, tls, "echo") as ws:
            await ctl(srv.port, tls, "quit")
            try:
                await recv(ws)
            except websockets.exceptions.ConnectionClosed:
                pass
            t.ok(ws.close_code is not None, "%s: destroy() closes open websockets (%s)"
                 % (tag, ws.close_code))
    try:
        asyncio.run(all_checks())
    finally:
        # Also when a check raised: the script's status and output say why.
        out, _ = srv.finish()
    t.ok("DONE" in out, "%s: the server script ran to its end" % tag, out[-2000:])


def errors_suite(t):
    r = subprocess.run([LUA, os.path.join(HERE, "lua", "errors.lua")], capture_output=True,
                       timeout=60, env=lua_env(), text=True)
    for line in r.stdout.splitlines():
        m = re.match(r"^(ok|not ok) \d+ - (.*)$", line)
        if m:
            t.ok(m.group(1) == "ok", "errors.lua: " + m.group(2))
    t.eq(r.returncode, 0, "errors.lua exits 0")
    marks = [m for m in kt.SANITIZER_MARKS if m in r.stderr]
    t.ok(not marks, "errors.lua: no sanitizer report", r.stderr[-4000:])


def browser_check(t, port):
    """Headless Chromium loads the test page from test-server.lua: its script
    runs and opens the dumb-increment and lws-mirror websockets."""
    chromium = shutil.which("chromium")
    if not t.ok(chromium, "chromium is installed (Debian chromium)"):
        return
    with tempfile.TemporaryDirectory(prefix="lua-kite-chromium-") as profile:
        p = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                            "--no-first-run", "--disable-background-networking",
                            "--disable-component-update", "--disable-sync",
                            "--user-data-dir=" + profile, "--virtual-time-budget=5000",
                            "--dump-dom", "http://127.0.0.1:%d/" % port],
                           capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    dom = p.stdout.decode("utf-8", "replace")
    t.ok(p.returncode == 0 and "Script loaded" in dom,
         "chromium: the test page's script ran", p.stderr[-1500:])
    for prefix, what in (("wsdi", "dumb-increment"), ("wslm", "lws-mirror")):
        m = re.search(r'id="%s_statustd"[^>]*data-state="([a-z]+)"' % prefix, dom)
        st = m.group(1) if m else None
        t.ok(st in ("connecting", "open"), "chromium: the page opened its %s websocket (%s)"
             % (what, st))


def examples_suite(t):
    echo = Lua(t, [os.path.join(EXAMPLES, "echo.lua"), "0"], "examples/echo.lua")
    if echo.port:
        asyncio.run(echo_checks(t, echo.port, False, "examples/echo.lua"))
    echo.finish(signal.SIGKILL, -9)

    ts = Lua(t, [os.path.join(EXAMPLES, "test-server.lua"), HTML, "0"],
             "examples/test-server.lua")
    if ts.port:
        st, ty, _, body = http_get(ts.port, False, "/")
        t.ok(st == 200 and ty == "text/html" and b"dumb-increment" in open(
            os.path.join(HTML, "test.js"), "rb").read() and body == open(
            os.path.join(HTML, "index.html"), "rb").read(), "test-server.lua: the test page")
        st, ty, _, _ = http_get(ts.port, False, "/test.js")
        t.eq((st, ty), (200, "application/javascript"), "test-server.lua: its script")
        st = http_get(ts.port, False, "/../../etc/passwd")[0]
        t.ok(st in (403, 404), "test-server.lua: nothing outside the page's directory (%d)" % st)
        if t.ok(os.access(LWS_CLIENT, os.X_OK), "%s is installed" % LWS_CLIENT):
            p = subprocess.Popen([LWS_CLIENT, "127.0.0.1", "-p", str(ts.port), "-d", "15"],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL)
            try:
                out, _ = p.communicate(timeout=4)
            except subprocess.TimeoutExpired:
                p.send_signal(signal.SIGINT)
                try:
                    out, _ = p.communicate(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    out, _ = p.communicate()
            out = out.decode("utf-8", "replace")
            rx = [int(v) for v in re.findall(r"\] I: rx \d+ '(\d+)'", out)]
            t.ok(len(rx) >= 10 and rx[0] <= 1 and all(b - a == 1 for a, b in zip(rx, rx[1:])),
                 "lws test client: dumb-increment counts up by one (%d rx lines)" % len(rx),
                 out[-2000:])
            t.ok("mirror: LWS_CALLBACK_CLIENT_ESTABLISHED" in out,
                 "lws test client: lws-mirror-protocol established", out[-2000:])
            t.eq([ln for ln in out.splitlines() if "CLIENT_CONNECTION_ERROR" in ln], [],
                 "lws test client: no connection errors")
        browser_check(t, ts.port)
    ts.finish(signal.SIGKILL, -9)

    luv = Lua(t, [os.path.join(EXAMPLES, "echo-luv.lua"), "0"], "examples/echo-luv.lua")
    if luv.port:
        asyncio.run(echo_checks(t, luv.port, False, "echo-luv.lua"))
        # kite's keep-alive timer, run by the uv timer next_timeout() arms.
        c = socket.create_connection(("127.0.0.1", luv.port), timeout=10)
        c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        t0 = time.monotonic()
        head = c.recv(65536)
        try:
            while c.recv(65536):
                pass
        except OSError:
            pass
        secs = time.monotonic() - t0
        c.close()
        t.ok(head.startswith(b"HTTP/1.1 404") and 4.5 <= secs <= 9,
             "echo-luv.lua: an idle keep-alive connection is closed by kite's timer after "
             "%.1f s (5 s)" % secs, head[:100])
    luv.finish(signal.SIGTERM, 0)


def main():
    t = kt.Tap()
    docroot = tempfile.mkdtemp(prefix="lua-kite-")
    with open(os.path.join(docroot, "index.html"), "w") as f:
        f.write("<html><body>lua-kite test</body></html>\n")
    with open(os.path.join(docroot, "big.bin"), "wb") as f:
        f.write(os.urandom(3 << 20))
    t.run(errors_suite, t)
    t.run(server_suite, t, docroot, False)
    crt, key = os.path.join(docroot, "c.crt"), os.path.join(docroot, "c.key")
    subprocess.run(["openssl", "req", "-x509", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-keyout", key, "-out", crt], check=True, capture_output=True)
    t.run(server_suite, t, docroot, True, (crt, key))
    t.run(server_suite, t, docroot, False, ("", ""), "extpoll")
    t.run(examples_suite, t)
    t.done()


main()
