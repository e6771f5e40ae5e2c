#!/usr/bin/python3
"""Reverse proxy mounts: kited with an "http://host:port/path" origin in
front of kite-test-server and of a Python upstream (http.server).

- GET through the proxy: the page intact, the upstream's hop-by-hop
  headers (Keep-Alive, a header named in its Connection) gone, and the
  request arriving with X-Forwarded-For/-Proto/-Host and without the
  client's hop-by-hop headers; the mount path mapped onto the origin path.
- POST of 10 MB (Content-Length) and 3 MB (chunked): the upstream gets
  every byte (its SHA-256 comes back).
- A websocket through the proxy: python websockets echoes on
  kite-test-server's "echo" protocol, text and 1 MB binary, and the
  dumb-increment stream counts up.
- Upstream down: 502 within a second. Upstream slow: 504 after the
  mount's proxy-timeout (1 s). Upstream dies mid-body: the client sees
  the connection cut, not a complete response.
- Backpressure: a 200 MB response to a client reading 64 KB every 50 ms
  for 3 s: kited's RSS grows by less than 40 MB; then the client reads
  the rest quickly and gets all 200 MB. The other way: a 100 MB upload
  to an upstream that reads 64 KB every 50 ms for 3 s, the same bound,
  then every byte arrives.
usage: test_proxy.py KITED PLUGIN_DIR KITE_TEST_SERVER
"""
import asyncio
import hashlib
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
KITED = os.path.abspath(sys.argv[1])
PLUGINS = os.path.abspath(sys.argv[2])
sys.argv = [sys.argv[0], sys.argv[3]]  # kitetest.Server runs argv[1]
import kiteh2  # noqa: E402
import kitetest as kt  # noqa: E402

try:
    import websockets
except ImportError:
    websockets = None

BIG = 200 * 1024 * 1024


class Upstream(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        if self.path.startswith("/base/headers"):
            body = json.dumps({"path": self.path,
                               "headers": [[k, v] for k, v in self.headers.items()]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Keep-Alive", "timeout=5")
            self.send_header("Connection", "keep-alive, X-Hop")
            self.send_header("X-Hop", "secret")
            self.send_header("X-End", "kept")
            self.end_headers()
            self.wfile.write(body)
        elif self.path.startswith("/base/slow"):
            time.sleep(3)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
        elif self.path.startswith("/base/big"):
            self.send_response(200)
            self.send_header("Content-Length", str(BIG))
            self.end_headers()
            chunk = b"x" * 65536
            try:
                for _ in range(BIG // 65536):
                    self.wfile.write(chunk)
            except OSError:
                pass
        elif self.path.startswith("/base/die"):
            self.send_response(200)
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            self.wfile.write(b"y" * 1000)
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def do_POST(self):
        h = hashlib.sha256()
        n = 0
        if self.path.startswith("/base/slowsum"):
            # Read slowly for 3 s (the client keeps sending), then quickly.
            left = int(self.headers.get("Content-Length", "0"))
            end = time.monotonic() + 3
            while left:
                data = self.rfile.read(min(left, 65536 if time.monotonic() < end else 1 << 20))
                h.update(data)
                n += len(data)
                left -= len(data)
                if time.monotonic() < end:
                    time.sleep(0.05)
        elif self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if not size:
                    self.rfile.readline()
                    break
                data = self.rfile.read(size)
                self.rfile.readline()
                h.update(data)
                n += len(data)
        else:
            left = int(self.headers.get("Content-Length", "0"))
            while left:
                data = self.rfile.read(min(left, 1 << 20))
                h.update(data)
                n += len(data)
                left -= len(data)
        body = ("%d %s" % (n, h.hexdigest())).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Kited:
    def __init__(self, conf):
        self.dir = tempfile.mkdtemp(prefix="kite-proxy-")
        with open(os.path.join(self.dir, "conf"), "w") as f:
            f.write(conf)
        self.err_path = os.path.join(self.dir, "stderr")
        self.err = open(self.err_path, "wb")
        self.proc = subprocess.Popen([KITED, "-c", self.dir, "-n", "-P", PLUGINS, "-d", "7"],
                                     stdout=subprocess.DEVNULL, stderr=self.err,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            m = re.search(r"vhost proxy: listening on \S+ port (\d+)", self.stderr())
            if m and "kited: serving" in self.stderr():
                self.port = int(m.group(1))
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError("kited did not start:\n" + self.stderr())

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return -1

    def stop(self, t):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        err = self.stderr()
        t.eq(rc, 0, "kited exits with status 0 after SIGTERM")
        t.ok(not [m for m in kt.SANITIZER_MARKS if m in err], "kited stderr has no sanitizer "
             "report", err[-6000:])
        self.err.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def conf(kport, pport, dead, tport, cert):
    mounts = [
        {"mountpoint": "/s-insecure", "origin": "https://127.0.0.1:%d/" % tport,
         "pmo": [{"proxy-insecure": "1"}]},
        {"mountpoint": "/s-ca", "origin": "https://localhost:%d/" % tport,
         "pmo": [{"proxy-ca": cert}]},
        {"mountpoint": "/s-default", "origin": "https://localhost:%d/" % tport},
        {"mountpoint": "/k", "origin": "http://127.0.0.1:%d/" % kport},
        {"mountpoint": "/p", "origin": "http://127.0.0.1:%d/base" % pport,
         "proxy-timeout": "1"},
        {"mountpoint": "/dead", "origin": "http://127.0.0.1:%d/" % dead},
    ]
    return json.dumps({"vhosts": [{"name": "proxy", "port": 0, "interface": "127.0.0.1",
                                   "h2c": True, "mounts": mounts}]})


def get(port, target, headers=None, timeout=10):
    return kt.request(port, "GET", target, headers=headers, timeout=timeout)


def t_get(t, k, srv):
    with open(os.path.join(srv.docroot.root, "index.html"), "rb") as f:
        page = f.read()
    r = get(k.port, "/k/index.html")
    t.ok(r.status == 200 and r.body == page, "GET through the proxy: the page intact (%d)"
         % r.status)
    r = get(k.port, "/p/headers?q=1", headers=[("Connection", "keep-alive, X-Mine"),
                                               ("X-Mine", "hop"), ("X-Forwarded-For", "10.9.8.7"),
                                               ("Keep-Alive", "300"), ("X-Any", "end")])
    t.eq(r.status, 200, "GET /p/headers: 200")
    got = json.loads(r.body)
    hdrs = {k.lower(): v for k, v in got["headers"]}
    t.eq(got["path"], "/base/headers?q=1", "the mount path maps onto the origin's path, "
         "with the query")
    t.ok(hdrs.get("x-forwarded-for") == "10.9.8.7, 127.0.0.1" and
         hdrs.get("x-forwarded-proto") == "http" and hdrs.get("x-forwarded-host") == "localhost",
         "X-Forwarded-For (appended), -Proto and -Host reach the upstream", hdrs)
    t.ok("x-mine" not in hdrs and "keep-alive" not in hdrs and hdrs.get("x-any") == "end",
         "the client's hop-by-hop headers stay behind, end-to-end ones go up", hdrs)
    t.ok(r.header("x-hop") is None and r.header("keep-alive") is None and
         r.header("x-end") == "kept",
         "the upstream's hop-by-hop headers stay behind, end-to-end ones come down",
         r.headers)


def t_https(t, k, tsrv):
    with open(os.path.join(tsrv.docroot.root, "index.html"), "rb") as f:
        page = f.read()
    r = get(k.port, "/s-insecure/index.html")
    t.ok(r.status == 200 and r.body == page, "https upstream, proxy-insecure: the page (%d)"
         % r.status)
    r = get(k.port, "/s-ca/index.html")
    t.ok(r.status == 200 and r.body == page, "https upstream verified with proxy-ca against "
         "its name: the page (%d)" % r.status)
    r = get(k.port, "/s-default/index.html")
    t.eq(r.status, 502, "https upstream with a self-signed certificate and no proxy-ca: 502")


def t_post(t, k):
    body = os.urandom(10 * 1024 * 1024)
    r = kt.request(k.port, "POST", "/p/sum", body=body, timeout=30)
    t.eq(r.body.decode(), "%d %s" % (len(body), hashlib.sha256(body).hexdigest()),
         "POST 10 MB by Content-Length: the upstream got every byte")
    body = os.urandom(3 * 1024 * 1024)
    with kt.Conn(k.port, timeout=30) as c:
        c.send(b"POST /p/sum HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n")
        for i in range(0, len(body), 100000):
            piece = body[i:i + 100000]
            c.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        c.send(b"0\r\n\r\n")
        r = c.read_response("POST")
    t.eq(r.body.decode(), "%d %s" % (len(body), hashlib.sha256(body).hexdigest()),
         "POST 3 MB chunked: the upstream got every byte")


def t_ws(t, k):
    if not t.ok(websockets is not None, "python3-websockets is installed"):
        return

    async def run():
        uri = "ws://127.0.0.1:%d/k/" % k.port
        async with websockets.connect(uri, subprotocols=["echo"], max_size=None,
                                      compression=None, open_timeout=5) as ws:
            await ws.send("hello through the proxy")
            a = await asyncio.wait_for(ws.recv(), 5)
            blob = os.urandom(1 << 20)
            await ws.send(blob)
            b = await asyncio.wait_for(ws.recv(), 10)
            proto = ws.subprotocol
        async with websockets.connect(uri, subprotocols=["dumb-increment-protocol"],
                                      compression=None, open_timeout=5) as ws:
            nums = [int(await asyncio.wait_for(ws.recv(), 5)) for _ in range(10)]
        return a, b == blob, proto, nums

    a, same, proto, nums = asyncio.run(run())
    t.ok(a == "hello through the proxy" and same and proto == "echo",
         "websocket through the proxy: subprotocol echo, a text and a 1 MB binary echoed")
    t.ok(all(y - x == 1 for x, y in zip(nums, nums[1:])),
         "websocket through the proxy: dumb-increment counts up (%s)" % nums)


def t_ws_early_frame(t, k):
    # A client that sends its first frame with the upgrade request: the
    # frame waits in kite until the upstream's 101, then goes through.
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    mask = b"\x01\x02\x03\x04"
    payload = b"early bird"
    frame = b"\x81" + bytes([0x80 | len(payload)]) + mask + \
        bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    req = ("GET /k/ HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
           "Sec-WebSocket-Protocol: echo\r\n\r\n" % key).encode()
    s = socket.create_connection(("127.0.0.1", k.port), timeout=5)
    s.sendall(req + frame)
    data = b""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not data.endswith(payload):
        d = s.recv(4096)
        if not d:
            break
        data += d
    s.close()
    t.ok(data.startswith(b"HTTP/1.1 101 ") and b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in data and
         data.endswith(b"\x81" + bytes([len(payload)]) + payload),
         "websocket through the proxy: a frame sent with the upgrade request is echoed "
         "after the 101", data[-300:])


def t_ws_h2(t, k):
    """A websocket over an HTTP/2 stream (RFC 8441) has no socket of its
    own to tunnel: the proxy answers 501 at once, and plain h2 GETs through
    the same mount work."""
    c = kiteh2.Conn(k.port)
    try:
        sid = c.h2.get_next_available_stream_id()
        c.h2.send_headers(sid, [(":method", "CONNECT"), (":protocol", "websocket"),
                                (":scheme", "http"), (":path", "/k/"),
                                (":authority", "localhost"), ("sec-websocket-version", "13"),
                                ("sec-websocket-protocol", "echo")], end_stream=False)
        c.streams[sid] = kiteh2.Stream()
        c.flush()
        deadline = time.monotonic() + 5
        while c.streams[sid].headers is None and time.monotonic() < deadline:
            c.read_some(deadline - time.monotonic())
        t.eq(c.streams[sid].status, 501, "proxy: a websocket over an h2 stream gets 501")
        t.eq(c.get("/k/index.html").status, 200, "proxy: an h2 GET through the mount is served")
    finally:
        c.close()


def t_errors(t, k):
    t0 = time.monotonic()
    r = get(k.port, "/dead/x")
    t.ok(r.status == 502 and time.monotonic() - t0 < 1.0, "upstream down: 502 at once (%.2f s)"
         % (time.monotonic() - t0))
    t0 = time.monotonic()
    r = get(k.port, "/p/slow")
    dt = time.monotonic() - t0
    t.ok(r.status == 504 and 0.8 < dt < 2.5, "slow upstream: 504 after proxy-timeout 1 s "
         "(%d in %.2f s)" % (r.status, dt))
    with kt.Conn(k.port, timeout=10) as c:
        c.send(kt.build_request("GET", "/p/die"))
        head = c.read_head()
        data = b""
        try:
            while True:
                d = c.sock.recv(65536)
                if not d:
                    break
                data += d
        except OSError:
            pass
    t.ok(head.status == 200 and len(data) < 1000000,
         "upstream dies mid-body: the client's connection is cut (%d of 1000000 bytes)"
         % len(data))


def t_upload_backpressure(t, k):
    size = 100 * 1024 * 1024
    s = socket.create_connection(("127.0.0.1", k.port), timeout=30)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
    h = hashlib.sha256()
    chunk = os.urandom(1 << 20)
    for _ in range(size >> 20):
        h.update(chunk)

    def send():
        try:
            s.sendall(b"POST /p/slowsum HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n"
                      b"\r\n" % size)
            for _ in range(size >> 20):
                s.sendall(chunk)
        except OSError:
            pass

    rss0 = k.rss_kb()
    th = threading.Thread(target=send, daemon=True)
    th.start()
    peak = rss0
    end = time.monotonic() + 2.5
    while time.monotonic() < end:
        peak = max(peak, k.rss_kb())
        time.sleep(0.05)
    t.ok(peak - rss0 < 40 * 1024, "slow upstream reader: kited's RSS grows by %d KB (< 40 MB) "
         "while a client pushes a 100 MB body" % (peak - rss0))
    th.join(40)
    data = b""
    s.settimeout(30)
    while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < 10:
        d = s.recv(65536)
        if not d:
            break
        data += d
    s.close()
    t.ok(data.endswith(("%d %s" % (size, h.hexdigest())).encode()),
         "then the upstream reads quickly: it got all 100 MB intact", data[-200:])


def t_backpressure(t, k):
    s = socket.create_connection(("127.0.0.1", k.port), timeout=20)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.sendall(b"GET /p/big HTTP/1.1\r\nHost: localhost\r\n\r\n")
    rss0 = k.rss_kb()
    got = 0
    end = time.monotonic() + 3
    peak = rss0
    while time.monotonic() < end:
        got += len(s.recv(65536))
        time.sleep(0.05)
        peak = max(peak, k.rss_kb())
    t.ok(peak - rss0 < 40 * 1024, "slow client: kited's RSS grows by %d KB (< 40 MB) while "
         "%d KB of a 200 MB response were read" % (peak - rss0, got // 1024))
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        d = s.recv(1 << 20)
        if not d:
            break
        got += len(d)
        if got >= BIG:
            break
    s.close()
    t.ok(got >= BIG, "then read quickly: the whole response arrives (%d bytes, head included)"
         % got)


def main():
    t = kt.Tap()
    up = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    up.daemon_threads = True
    threading.Thread(target=up.serve_forever, daemon=True).start()
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    dead_port = dead.getsockname()[1]
    dead.close()
    srv = kt.Server(t)
    tsrv = kt.Server(t, args=["-s"], name="tls server")
    k = None
    try:
        srv.start()
        tsrv.start()
        with open(tsrv.out_path, "rb") as f:
            cert = re.search(rb"TLS certificate (\S+)", f.read()).group(1).decode()
        k = Kited(conf(srv.port, up.server_address[1], dead_port, tsrv.port, cert))
        t.run(t_get, t, k, srv)
        t.run(t_https, t, k, tsrv)
        for fn in (t_post, t_ws, t_ws_early_frame, t_ws_h2, t_errors, t_backpressure,
                   t_upload_backpressure):
            t.run(fn, t, k)
    finally:
        if k:
            k.stop(t)
        srv.stop()
        tsrv.stop()
        up.shutdown()
    t.done()


main()
