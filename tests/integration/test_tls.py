#!/usr/bin/python3
"""TLS end to end: kite-test-server -s (https and wss, its own ECDSA
certificate) on loopback, checked with curl, openssl s_client, Python's
ssl module, python3-websockets and Debian's libwebsockets-test-client.

- curl https with --cacert; a 1 MiB file intact; keep-alive and
  pipelining over one TLS connection; close_notify at the end.
- Resumption: with a session ticket and from the session cache.
- SNI among three vhosts on one port (exact name with an RSA certificate,
  a "*.wild.test" wildcard with an ECDSA one, anything else: the port's
  first vhost), ALPN http/1.1 shown by s_client.
- Garbage, plaintext HTTP and a truncated ClientHello close that conn
  only, and a good request works after each; a silent conn is closed by
  the handshake timeout.
- Two service threads handling handshakes at once.
- kite_vhost_tls_reload() (kite-test-server's SIGHUP): a new certificate
  for new handshakes while a keep-alive connection goes on; a bad key is
  reported with its file and the last good certificate stays.
- wss: python websockets over ssl and libwebsockets-test-client --ssl
  against dumb-increment (the numbers count up).
"""
import asyncio
import hashlib
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kitetest  # noqa: E402
from kitetest import Conn, Server, Tap, build_request  # noqa: E402

try:
    import websockets
except ImportError:  # Debian python3-websockets; `make deps` installs it
    websockets = None

LWS_CLIENT = "/usr/bin/libwebsockets-test-client"


def cert_of(srv):
    with open(srv.out_path, "rb") as f:
        m = re.search(rb"TLS certificate (\S+)", f.read())
    return m.group(1).decode()


def context(cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def tls_conn(srv, ctx, name="localhost", timeout=5.0, rcvbuf=None):
    c = Conn(srv.port, timeout=timeout, rcvbuf=rcvbuf)
    c.sock = ctx.wrap_socket(c.sock, server_hostname=name, suppress_ragged_eofs=False)
    return c


def openssl_cert(d, name, kind):
    """A self-signed certificate for @name made by the openssl CLI."""
    key, crt = os.path.join(d, name + ".key"), os.path.join(d, name + ".crt")
    newkey = ["-newkey", "rsa:2048"] if kind == "rsa" else [
        "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
    subprocess.run(["openssl", "req", "-x509", "-nodes", "-days", "2", "-subj", "/CN=" + name,
                    "-keyout", key, "-out", crt] + newkey, check=True, capture_output=True)
    return crt, key


def s_client(port, servername=None, extra=(), request=b""):
    """openssl s_client's output; with @request, sent and read to the close
    (-ign_eof), so that TLS 1.3 tickets, which follow the handshake, are in."""
    cmd = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-alpn", "http/1.1"]
    if servername:
        cmd += ["-servername", servername]
    if request:
        cmd.append("-ign_eof")
    p = subprocess.run(cmd + list(extra), input=request, capture_output=True, timeout=20)
    return p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")


def test_curl(t, srv, cafile):
    p = kitetest.curl(["--cacert", cafile, "https://localhost:%d/test/hello" % srv.port])
    t.eq((p.returncode, p.stdout), (0, b"hello\n"), "curl https --cacert: /test/hello")
    p = kitetest.curl(["--cacert", cafile, "-o", "/dev/null", "-w", "%{http_version} %{ssl_verify_result}",
                       "https://127.0.0.1:%d/1k.txt" % srv.port])
    t.eq(p.stdout, b"2 0", "curl by address: the certificate verifies for 127.0.0.1 (over h2, by ALPN)")


def test_big_file(t, srv, cafile):
    want = srv.docroot.files["1m.bin"]
    with tls_conn(srv, context(cafile)) as c:
        c.send(build_request("GET", "/1m.bin"))
        r = c.read_response(timeout=20)
    t.eq((r.status, len(r.body), hashlib.sha256(r.body).hexdigest()),
         (200, len(want), hashlib.sha256(want).hexdigest()), "a 1 MiB file over https is intact")
    with tls_conn(srv, context(cafile), rcvbuf=4096) as c:
        # A slow reader: the server's records wait in the socket buffer.
        c.send(build_request("GET", "/1m.bin"))
        time.sleep(0.5)
        r = c.read_response(timeout=20)
    t.ok(r.status == 200 and r.body == want, "a 1 MiB file to a slow reader is intact")


def test_keepalive_pipeline(t, srv, cafile):
    with tls_conn(srv, context(cafile)) as c:
        t.eq(c.sock.selected_alpn_protocol(), "http/1.1", "ALPN: http/1.1 is chosen")
        got = []
        for i in range(3):
            c.send(build_request("GET", "/test/hello"))
            got.append(c.read_response().body)
        t.eq(got, [b"hello\n"] * 3, "keep-alive: three requests on one TLS connection")
        c.send(b"".join(build_request("GET", p) for p in ("/1k.txt", "/test/hello", "/64k.bin")))
        rs = [c.read_response() for _ in range(3)]
        t.eq([(r.status, len(r.body)) for r in rs], [(200, 1024), (200, 6), (200, 65536)],
             "pipelining: three requests in one write, three responses in order")
        c.send(build_request("GET", "/test/hello", headers={"Connection": "close"}))
        r = c.read_response()
        try:
            rest = c.sock.recv(100)
            clean = rest == b""
        except ssl.SSLEOFError:
            clean = False
        t.ok(r.status == 200 and clean, "Connection: close ends with a close_notify")


def test_resumption(t, srv, cafile):
    d = tempfile.mkdtemp(prefix="kite-tls-sess-")
    # On TLS 1.3 (mbedTLS 3.6) resumption is by ticket only; TLS 1.2 keeps
    # both, and 3.6 still offers it.
    cases = [("a session ticket", kitetest.TLS_NEWEST, [])]
    if kitetest.TLS13:
        cases.append(("a session ticket over TLS 1.2", "TLSv1.2", ["-tls1_2"]))
    cases.append(("the session cache", "TLSv1.2", ["-no_ticket", "-tls1_2"]))
    try:
        sess = os.path.join(d, "sess")
        for how, ver, extra in cases:
            req = b"GET /test/hello HTTP/1.0\r\n\r\n"
            first = s_client(srv.port, "localhost", extra + ["-sess_out", sess], req)
            again = s_client(srv.port, "localhost", extra + ["-sess_in", sess], req)
            t.ok(re.search(r"^New, %s" % re.escape(ver), first, re.M) and
                 re.search(r"^Reused, %s" % re.escape(ver), again, re.M),
                 "resumption with %s: the second handshake is Reused (%s)" % (how, ver),
                 first[-1500:] + again[-1500:])
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_bad_input(t, srv, cafile):
    hello = bytes.fromhex("16030100a1010000" "9d0303") + os.urandom(32)
    # Garbage starts with a byte no TLS record starts with: random bytes
    # sometimes begin like a record header (type 0x14-0x17) announcing more
    # data than follows, and the server then rightly waits for the rest.
    cases = [("garbage", b"\x00" + os.urandom(299)), ("plaintext HTTP", build_request("GET", "/")),
             ("a truncated ClientHello", hello)]
    for name, data in cases:
        c = Conn(srv.port)
        c.send(data)
        if name == "a truncated ClientHello":
            c.sock.shutdown(socket.SHUT_WR)
        closed = c.wait_closed(5)
        c.close()
        t.ok(closed, "%s: the server closes that connection" % name)
        t.ok(https_ok(srv, cafile), "after %s, a good https request works" % name)
    t.ok(srv.alive(), "the server is up after bad input")


def https_ok(srv, cafile):
    try:
        with tls_conn(srv, context(cafile)) as c:
            c.send(build_request("GET", "/test/hello"))
            return c.read_response().body == b"hello\n"
    except Exception:
        return False


def test_handshake_timeout(t, cafile):
    with Server(t, args=["-s", "-T", "1"], name="server -T 1") as srv:
        c = Conn(srv.port)
        t0 = time.monotonic()
        closed = c.wait_closed(5)
        c.close()
        t.ok(closed and time.monotonic() - t0 < 4,
             "a connection that never says hello is closed by the handshake timeout")
        t.ok(https_ok(srv, cafile), "a handshake in time still works")


async def ws_count(t, port, cafile):
    ctx = context(cafile)
    ctx.set_alpn_protocols([])
    async with websockets.connect("wss://localhost:%d/" % port, ssl=ctx,
                                  subprotocols=["dumb-increment-protocol"], open_timeout=5) as ws:
        got = [int(await asyncio.wait_for(ws.recv(), 5)) for _ in range(5)]
        t.ok(all(b - a == 1 for a, b in zip(got, got[1:])),
             "websockets over ssl: dumb-increment counts up (%s)" % got)
        await ws.send("x" * 100000)
        await ws.close()
    async with websockets.connect("wss://localhost:%d/" % port, ssl=ctx, subprotocols=["echo"],
                                  max_size=None, open_timeout=5) as ws:
        data = os.urandom(1 << 20)
        await ws.send(data)
        t.ok(await asyncio.wait_for(ws.recv(), 20) == data, "wss echo: 1 MiB binary round trip")


def test_websockets(t, srv, cafile):
    if not t.ok(websockets is not None, "python3-websockets is installed"):
        return
    asyncio.run(ws_count(t, srv.port, cafile))


def test_lws_client(t, srv):
    if not t.ok(os.access(LWS_CLIENT, os.X_OK), "%s is installed" % LWS_CLIENT):
        return
    # -s: wss, allowing a self-signed certificate (lws test client's "lax SSL").
    p = subprocess.Popen([LWS_CLIENT, "127.0.0.1", "-p", str(srv.port), "-s", "-d", "15"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        out, _ = p.communicate(timeout=4)
    except subprocess.TimeoutExpired:
        p.send_signal(2)
        out, _ = p.communicate(timeout=5)
    out = out.decode("utf-8", "replace")
    rx = [int(v) for v in re.findall(r"\] I: rx \d+ '(\d+)'", out)]
    t.ok(len(rx) >= 10 and all(b - a == 1 for a, b in zip(rx, rx[1:])),
         "libwebsockets-test-client -s: dumb-increment counts up over wss (%d values)" % len(rx),
         out[-3000:])
    t.ok("mirror: LWS_CALLBACK_CLIENT_ESTABLISHED" in out,
         "libwebsockets-test-client -s: the lws-mirror connection is established")


def test_sni(t):
    d = tempfile.mkdtemp(prefix="kite-tls-")
    try:
        alpha = openssl_cert(d, "alpha.test", "rsa")
        wild = openssl_cert(d, "*.wild.test", "ec")
        other = tempfile.mkdtemp(dir=d)
        args = ["-s", "-V", "alpha.test=%s:%s:%s" % ((other,) + alpha),
                "-V", "*.wild.test=%s:%s:%s" % ((other,) + wild)]
        with Server(t, args=args, name="server with three TLS vhosts") as srv:
            for name, cn in [("alpha.test", "alpha.test"), ("a.wild.test", r"\*\.wild\.test"),
                             ("nobody.test", "localhost"), (None, "localhost")]:
                out = s_client(srv.port, name)
                t.ok(re.search(r"subject=\s*CN\s*=\s*%s" % cn, out),
                     "SNI %s: the certificate of %s" % (name, cn.replace("\\", "")), out[-2000:])
            out = s_client(srv.port, "alpha.test")
            t.ok("ALPN protocol: http/1.1" in out, "s_client shows ALPN protocol http/1.1")
            t.ok(re.search(r"Peer signature type: RSA|Server public key is 2048 bit", out),
                 "alpha.test is served with its RSA key")
            out = s_client(srv.port, "a.wild.test")
            t.ok("Server public key is 256 bit" in out, "the wildcard vhost has its ECDSA key")
            ctx = context(wild[0])
            ctx.check_hostname = False
            with tls_conn(srv, ctx, name="a.wild.test") as c:
                c.send(build_request("GET", "/test/hello", host="a.wild.test"))
                t.eq(c.read_response().status, 200, "a request over the wildcard vhost's TLS")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def served_cn(port):
    out = s_client(port, "localhost")
    m = re.search(r"subject=\s*CN\s*=\s*([^,\n]+)", out)
    return m.group(1).strip() if m else out[-500:]


def wait_line(srv, text, n):
    """The @n-th "TLS reload:" line, once it is there."""
    for _ in range(100):
        with open(srv.out_path) as f:
            lines = [ln for ln in f.read().splitlines() if text in ln]
        if len(lines) >= n:
            return lines[n - 1]
        time.sleep(0.05)
    return None


def test_threads(t, cafile):
    """Two service threads share the vhost's settings, the random generator
    and the session cache: handshakes on both at once."""
    if kitetest.single_threaded():
        return
    import concurrent.futures
    with Server(t, args=["-s", "-t", "2"], name="server -s -t 2") as srv:
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            ok = list(ex.map(lambda _: https_ok(srv, cafile), range(64)))
        t.eq(ok.count(True), 64, "-t 2: 64 https requests from 8 threads at once")


def test_reload(t):
    if "extpoll" in os.path.basename(kitetest.server_path()):
        return
    d = tempfile.mkdtemp(prefix="kite-tls-reload-")
    try:
        crt, key = openssl_cert(d, "one", "ec")
        # A long keep-alive: the live connection must outlast the reloads
        # and handshakes in between, however slow the machine.
        with Server(t, args=["-s", "-C", crt, "-K", key, "-k", "120"],
                    name="server -C -K") as srv:
            t.eq(served_cn(srv.port), "one", "-C/-K: the given certificate is served")
            ctx = context(crt)
            ctx.check_hostname = False
            live = tls_conn(srv, ctx, name="one")
            live.send(build_request("GET", "/test/hello"))
            t.eq(live.read_response().body, b"hello\n", "a keep-alive TLS connection")
            two = openssl_cert(d, "two", "rsa")
            shutil.copy(two[0], crt)
            shutil.copy(two[1], key)
            srv.proc.send_signal(signal.SIGHUP)
            t.ok((wait_line(srv, "TLS reload:", 1) or "").endswith(": ok"),
                 "kite_vhost_tls_reload() reads the new files")
            t.eq(served_cn(srv.port), "two", "new handshakes get the new certificate")
            live.send(build_request("GET", "/test/hello"))
            t.eq(live.read_response().body, b"hello\n",
                 "the connection opened before the reload goes on")
            live.close()
            with open(key, "w") as f:
                f.write("not a key\n")
            srv.proc.send_signal(signal.SIGHUP)
            line = wait_line(srv, "TLS reload:", 2) or ""
            t.ok(line and not line.endswith(": ok") and key in srv.stderr(),
                 "a bad key: the reload fails, the file is named in the log",
                 line + "\n" + srv.stderr()[-1500:])
            t.eq(served_cn(srv.port), "two", "... and the last good certificate serves on")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    t = Tap()
    try:
        srv = Server(t, args=["-s"]).start()
    except Exception as e:
        t.ok(False, "the server starts with -s", str(e))
        t.done()
    cafile = cert_of(srv)
    try:
        for fn in (test_curl, test_big_file, test_keepalive_pipeline, test_resumption,
                   test_bad_input, test_websockets):
            t.run(fn, t, srv, cafile)
        if "extpoll" not in os.path.basename(srv.binary):
            t.run(test_lws_client, t, srv)
    finally:
        srv.stop()
    t.run(test_sni, t)
    t.run(test_handshake_timeout, t, cafile)
    t.run(test_threads, t, cafile)
    t.run(test_reload, t)
    t.done()


if __name__ == "__main__":
    main()
