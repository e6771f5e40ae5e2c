"""Helpers for kite's end-to-end tests: run the real kite-test-server on
loopback with a docroot made for the test, talk to it over raw sockets,
and report in TAP.

Every socket has a timeout, the server start waits for its "listening"
line for a bounded time, and stopping the server is itself a check: it
must exit with status 0 within 5 s of SIGTERM and print no sanitizer
report. Only the standard library is used here.
"""
import os
import re
import resource
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback

# KITE_TEST_TLS=1: the same checks over https (the server gets -s, every
# TCP Conn speaks TLS to it).
TLS = os.environ.get("KITE_TEST_TLS") == "1"
# KITE_TEST_H2=1: request() speaks HTTP/2 (python3-h2, kiteh2.py; h2c by
# prior knowledge, or ALPN h2 with TLS) and the server gets -2. Conn and
# raw() stay HTTP/1.1: they test the wire, which HTTP/2 has its own tests for.
H2 = os.environ.get("KITE_TEST_H2") == "1"
# The mbedTLS the build links (tests/meson.build): 3.x has TLS 1.3 and
# nothing older than 1.2; 2.28 has TLS 1.0 to 1.2.
MBEDTLS_VERSION = os.environ.get("KITE_MBEDTLS_VERSION", "2.28")
TLS13 = int(MBEDTLS_VERSION.split(".")[0]) >= 3
TLS_NEWEST = "TLSv1.3" if TLS13 else "TLSv1.2"
SOCK_TIMEOUT = 5.0
START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "WARNING: ThreadSanitizer", "ERROR: UndefinedBehaviorSanitizer")


# ---------------------------------------------------------------- TAP

class Tap:
    """Numbered TAP checks; the plan is printed last by done()."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def diag(self, text):
        for line in str(text).splitlines():
            print("# " + line)
        sys.stdout.flush()

    def ok(self, cond, name, diag=None):
        self.n += 1
        print("%s %d - %s" % ("ok" if cond else "not ok", self.n, name))
        if not cond:
            self.failed += 1
            if diag is not None:
                self.diag(diag)
        sys.stdout.flush()
        return bool(cond)

    def eq(self, got, want, name):
        return self.ok(got == want, name, "got:  %s\nwant: %s" % (short(got), short(want)))

    def run(self, fn, *args):
        """Run one test function; an exception is a failed check."""
        try:
            fn(*args)
        except Exception:
            self.ok(False, "%s ran to the end" % fn.__name__, traceback.format_exc())

    def done(self):
        print("1..%d" % self.n)
        sys.stdout.flush()
        sys.exit(1 if self.failed or not self.n else 0)


def short(v, n=300):
    r = repr(v)
    return r if len(r) <= n else r[:n] + "... (%d chars)" % len(r)


# ---------------------------------------------------------------- data

def pattern(n, off=0):
    """The http-test plugin's body bytes: 'a' + offset % 26."""
    base = bytes(range(ord("a"), ord("a") + 26))
    start = off % 26
    reps = (start + n) // 26 + 1
    return (base * reps)[start:start + n]


def fnv1a(data):
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return "%08x" % h


def single_threaded():
    """True for a server that has one service thread only (kite-test-extpoll):
    tests then leave out their -t cases."""
    return "extpoll" in os.path.basename(server_path())


def threads_args(n=2):
    """["-t", "n"], or nothing for a single-threaded server."""
    return [] if single_threaded() else ["-t", str(n)]


def server_path():
    """The server binary: argv[1], or $KITE_TEST_SERVER."""
    p = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("KITE_TEST_SERVER")
    if not p:
        sys.stderr.write("usage: %s <kite-test-server>\n" % sys.argv[0])
        sys.exit(2)
    return os.path.abspath(p)


class Docroot:
    """A temporary directory tree: the docroot and what lies around it.

    root/1k.txt 64k.bin 1m.bin index.html 404.html sub/index.html
    dir-without-index/ "a b.txt" "é.txt" link-inside.txt -> 1k.txt
    passwd-link -> /etc/passwd, etc-link -> /etc, outside-link -> ../outside
    and outside/secret.txt next to the root (never served).
    """

    def __init__(self):
        self.base = tempfile.mkdtemp(prefix="kite-it-")
        self.root = os.path.join(self.base, "root")
        self.outside = os.path.join(self.base, "outside")
        self.files = {}
        os.mkdir(self.root)
        os.mkdir(self.outside)
        self.secret = b"KITE-SECRET-OUTSIDE-THE-DOCROOT-7f3a9\n"
        with open(os.path.join(self.outside, "secret.txt"), "wb") as f:
            f.write(self.secret)
        self.put("1k.txt", (b"0123456789abcdef" * 64)[:1023] + b"\n")
        self.put("64k.bin", os.urandom(65536))
        self.put("1m.bin", os.urandom(1 << 20))
        self.put("index.html", b"<!DOCTYPE html>\n<title>kite root index</title>\n")
        self.put("404.html", b"<!DOCTYPE html>\n<title>custom 404 page</title>\n")
        self.put("sub/index.html", b"<!DOCTYPE html>\n<title>sub index</title>\n")
        self.put("sub/page.txt", b"a page in sub\n")
        self.put("dir-without-index/readme.txt", b"no index here\n")
        self.put("a b.txt", b"a file with a space in its name\n")
        self.put("\u00e9.txt", b"utf-8 name\n")
        self.put("data.json", b'{"kite": true}\n')
        self.put("style.css", b"body { color: black }\n")
        os.symlink("1k.txt", os.path.join(self.root, "link-inside.txt"))
        os.symlink("/etc/passwd", os.path.join(self.root, "passwd-link"))
        os.symlink("/etc", os.path.join(self.root, "etc-link"))
        os.symlink(self.outside, os.path.join(self.root, "outside-link"))

    def put(self, rel, data):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        self.files[rel] = data
        return path

    def path(self, rel):
        return os.path.join(self.root, rel)

    def cleanup(self):
        shutil.rmtree(self.base, ignore_errors=True)


def passwd_marks():
    """Byte strings that betray /etc/passwd in a response."""
    marks = [b"root:x:0:0", b"/bin/bash\n", b"/usr/sbin/nologin"]
    try:
        with open("/etc/passwd", "rb") as f:
            first = f.readline().strip()
        if first:
            marks.append(first)
    except OSError:
        pass
    return marks


# ---------------------------------------------------------------- server

class Server:
    """kite-test-server on an ephemeral port.

    with Server(tap, args=[...]) as s: s.port, s.docroot ...
    On exit it is stopped with SIGTERM, and that is checked.
    """

    def __init__(self, tap, args=(), docroot=None, iface="127.0.0.1", name="server",
                 nofile=None):
        self.tap = tap
        self.binary = server_path()
        self.own_docroot = docroot is None
        self.docroot = docroot or Docroot()
        self.args = list(args)
        self.iface = iface
        self.name = name
        self.nofile = nofile  # RLIMIT_NOFILE for the server, or None
        self.proc = None
        self.port = None
        self.logdir = tempfile.mkdtemp(prefix="kite-it-log-")
        self.out_path = os.path.join(self.logdir, "stdout")
        self.err_path = os.path.join(self.logdir, "stderr")

    @property
    def pid(self):
        return self.proc.pid

    def start(self):
        cmd = [self.binary, "-p", "0", "-r", self.docroot.root] + self.args
        if TLS and "-s" not in cmd:
            cmd.append("-s")
        if H2 and "-2" not in cmd:
            cmd.append("-2")
        if self.iface:
            cmd += ["-i", self.iface]
        self.cmd = cmd
        self.out = open(self.out_path, "wb")
        self.err = open(self.err_path, "wb")
        pre = None
        if self.nofile:
            def pre():
                resource.setrlimit(resource.RLIMIT_NOFILE, (self.nofile, self.nofile))
        self.proc = subprocess.Popen(cmd, stdout=self.out, stderr=self.err,
                                     stdin=subprocess.DEVNULL, preexec_fn=pre)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            with open(self.out_path, "rb") as f:
                m = re.search(rb"kite-test-server: listening on port (-?\d+)", f.read())
            if m:
                self.port = int(m.group(1))
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.proc.kill()
        self.proc.wait()
        raise RuntimeError("%s did not start: rc=%s cmd=%s\nstderr:\n%s" %
                           (self.name, self.proc.returncode, cmd, self.stderr()))

    def stderr(self):
        try:
            with open(self.err_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return -1

    def stop(self, sig=signal.SIGTERM):
        """Signal it (SIGTERM); checks exit status 0 within 5 s and a
        clean stderr."""
        t = self.tap
        if self.proc is None:
            return
        signame = signal.Signals(sig).name
        early = self.proc.poll()
        if early is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                t.ok(False, "%s exits within %.0f s of %s" % (self.name, STOP_TIMEOUT, signame),
                     self.stderr()[-4000:])
                self._close_files()
                self.proc = None
                return
        err = self.stderr()
        t.ok(early is None, "%s was still running at the end" % self.name,
             "exit status %s\n%s" % (early, err[-4000:]))
        t.eq(self.proc.returncode, 0, "%s exits with status 0 after %s" % (self.name, signame))
        bad = [m for m in SANITIZER_MARKS if m in err]
        t.ok(not bad, "%s stderr has no sanitizer report" % self.name, err[-6000:])
        self._close_files()
        self.proc = None

    def _close_files(self):
        self.out.close()
        self.err.close()
        shutil.rmtree(self.logdir, ignore_errors=True)
        if self.own_docroot:
            self.docroot.cleanup()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


def run_tests(tests, args=(), setup=None):
    """The common main(): one server, each test function gets it."""
    tap = Tap()
    try:
        srv = Server(tap, args=args)
        srv.start()
    except Exception:
        tap.ok(False, "server starts", traceback.format_exc())
        tap.done()
    try:
        for fn in tests:
            tap.run(fn, tap, srv)
    finally:
        srv.stop()
    tap.done()


# ---------------------------------------------------------------- wire

class ProtocolError(Exception):
    pass


class Response:
    def __init__(self):
        self.version = None
        self.status = None
        self.reason = None
        self.headers = []     # [(name, value)] in order, names as sent
        self.trailers = []
        self.body = b""
        self.raw_head = b""
        self.chunked = False
        self.chunk_sizes = []
        self.framing = None   # "length", "chunked", "close" or "none"

    def header(self, name):
        """The value of the only field @name, None when absent; several: error."""
        vals = self.all(name)
        if len(vals) > 1:
            raise ProtocolError("header %s appears %d times" % (name, len(vals)))
        return vals[0] if vals else None

    def all(self, name):
        n = name.lower()
        return [v for k, v in self.headers if k.lower() == n]

    def has(self, name):
        return bool(self.all(name))

    def __repr__(self):
        return "<Response %s %s %s body=%s>" % (self.status, self.reason, self.headers,
                                                short(self.body, 120))


class _HalfCloseSSLSocket(ssl.SSLSocket):
    """shutdown(SHUT_WR) half-closes the TCP connection and keeps TLS for
    reading (ssl.SSLSocket.shutdown() would drop it), as tests of plain
    sockets expect."""

    def shutdown(self, how):
        socket.socket.shutdown(self, how)


class Conn:
    """A client connection with a read buffer and response parsing."""

    def __init__(self, port=None, host="127.0.0.1", timeout=SOCK_TIMEOUT, unix=None,
                 family=None, rcvbuf=None):
        """@rcvbuf: a small receive buffer, set before connect() so that the
        window is sized for it (shrinking it later stalls TCP in persist
        mode for seconds)."""
        if unix:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        else:
            fam = family or (socket.AF_INET6 if ":" in host else socket.AF_INET)
            self.sock = socket.socket(fam, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(unix if unix else (host, port))
        if TLS:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.sslsocket_class = _HalfCloseSSLSocket
            self.sock = ctx.wrap_socket(self.sock, server_hostname="localhost")
        self.timeout = timeout
        self.buf = bytearray()
        self.eof = False
        self.reset = False

    def settimeout(self, t):
        self.timeout = t
        self.sock.settimeout(t)

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        try:
            self.sock.sendall(data)
        except ssl.SSLError as e:
            raise BrokenPipeError(str(e))

    def send_slowly(self, data, step=1, delay=0.001):
        if isinstance(data, str):
            data = data.encode("latin-1")
        for i in range(0, len(data), step):
            self.send(data[i:i + step])
            if delay:
                time.sleep(delay)

    def _fill(self, deadline=None):
        """Read more bytes into the buffer; False at EOF."""
        if self.eof:
            return False
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("deadline passed")
            self.sock.settimeout(min(left, self.timeout))
        try:
            d = self.sock.recv(262144)
        except (ConnectionResetError, ssl.SSLError):
            self.eof = self.reset = True
            return False
        finally:
            if deadline is not None:
                self.sock.settimeout(self.timeout)
        if not d:
            self.eof = True
            return False
        self.buf += d
        return True

    def _line(self, deadline, limit=65536):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = bytes(self.buf[:i + 1])
                del self.buf[:i + 1]
                if not line.endswith(b"\r\n"):
                    raise ProtocolError("line without CRLF: %r" % line)
                return line[:-2]
            if len(self.buf) > limit:
                raise ProtocolError("line too long")
            if not self._fill(deadline):
                raise EOFError("connection closed in a line (have %r)" % bytes(self.buf[:200]))

    def _exact(self, n, deadline):
        while len(self.buf) < n:
            if not self._fill(deadline):
                raise EOFError("connection closed after %d of %d body bytes" % (len(self.buf), n))
        d = bytes(self.buf[:n])
        del self.buf[:n]
        return d

    def read_head(self, deadline=None):
        """Status line and headers of the next response."""
        if deadline is None:
            deadline = time.monotonic() + self.timeout
        r = Response()
        raw = bytearray()
        line = self._line(deadline)
        raw += line + b"\r\n"
        m = re.fullmatch(rb"(HTTP/\d\.\d) (\d{3}) ([\x20-\x7e\t\x80-\xff]*)", line)
        if not m:
            raise ProtocolError("bad status line %r" % line)
        r.version = m.group(1).decode()
        r.status = int(m.group(2))
        r.reason = m.group(3).decode("latin-1")
        while True:
            line = self._line(deadline)
            raw += line + b"\r\n"
            if not line:
                break
            m = re.fullmatch(rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*(.*?)[ \t]*", line)
            if not m:
                raise ProtocolError("bad header line %r" % line)
            r.headers.append((m.group(1).decode(), m.group(2).decode("latin-1")))
        r.raw_head = bytes(raw)
        return r

    def read_response(self, method="GET", timeout=None, max_body=1 << 30):
        """The next complete response (a 1xx one is returned on its own)."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        r = self.read_head(deadline)
        te = r.all("Transfer-Encoding")
        cl = r.all("Content-Length")
        if r.status < 200 or r.status in (204, 304) or method == "HEAD":
            r.framing = "none"
            if r.status < 200 or r.status in (204, 304):
                if te:
                    raise ProtocolError("%d response with Transfer-Encoding" % r.status)
            return r
        if te:
            if cl:
                raise ProtocolError("both Content-Length and Transfer-Encoding")
            if [v.lower() for v in te] != ["chunked"]:
                raise ProtocolError("unexpected Transfer-Encoding %r" % te)
            r.chunked = True
            r.framing = "chunked"
            body = bytearray()
            while True:
                line = self._line(deadline)
                m = re.fullmatch(rb"([0-9a-fA-F]+)(;.*)?", line)
                if not m:
                    raise ProtocolError("bad chunk size line %r" % line)
                n = int(m.group(1), 16)
                if n == 0:
                    break
                r.chunk_sizes.append(n)
                body += self._exact(n, deadline)
                if self._exact(2, deadline) != b"\r\n":
                    raise ProtocolError("chunk data not followed by CRLF")
                if len(body) > max_body:
                    raise ProtocolError("body too large")
            while True:
                line = self._line(deadline)
                if not line:
                    break
                k, _, v = line.partition(b":")
                r.trailers.append((k.decode("latin-1"), v.strip().decode("latin-1")))
            r.body = bytes(body)
            return r
        if cl:
            if len(cl) > 1 or not re.fullmatch(r"\d+", cl[0]):
                raise ProtocolError("bad Content-Length %r" % cl)
            r.framing = "length"
            r.body = self._exact(int(cl[0]), deadline)
            return r
        r.framing = "close"
        while self._fill(deadline):
            if len(self.buf) > max_body:
                raise ProtocolError("body too large")
        r.body = bytes(self.buf)
        self.buf.clear()
        return r

    def wait_closed(self, timeout=3.0):
        """True when the peer closes (EOF or reset) within @timeout; the
        bytes that arrived meanwhile are left in self.buf."""
        deadline = time.monotonic() + timeout
        try:
            while self._fill(deadline):
                pass
            return True
        except (socket.timeout, TimeoutError):
            return False

    def no_data_for(self, secs):
        """True when nothing arrives and the conn stays open for @secs."""
        if self.buf or self.eof:
            return False
        deadline = time.monotonic() + secs
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            if isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
                return False
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return True
            if not isinstance(self.sock, ssl.SSLSocket):
                return False
            # TLS 1.3 sends session tickets after the handshake: records
            # that are not data. Read to tell.
            timeout = self.sock.gettimeout()
            self.sock.setblocking(False)
            try:
                data = self.sock.recv(65536)
            except ssl.SSLWantReadError:
                continue
            except OSError:
                data = b""
            finally:
                self.sock.settimeout(timeout)
            if data:
                self.buf += data
            else:
                self.eof = True
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def build_request(method="GET", target="/", headers=None, body=None, version="HTTP/1.1",
                  host="localhost"):
    """A request as bytes; @headers is a list of (name, value) or a dict."""
    lines = ["%s %s %s" % (method, target, version)]
    if host is not None:
        lines.append("Host: %s" % host)
    if isinstance(headers, dict):
        headers = list(headers.items())
    for k, v in headers or []:
        lines.append("%s: %s" % (k, v))
    if body is not None and not any(k.lower() in ("content-length", "transfer-encoding")
                                    for k, _ in headers or []):
        lines.append("Content-Length: %d" % len(body))
    data = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
    if body is not None:
        data += body if isinstance(body, bytes) else body.encode()
    return data


def request_h2(port, method, target, headers, body, timeout, host, addr):
    """request() over HTTP/2: the same Response, version "HTTP/2"."""
    import http.client
    import kiteh2
    hdrs = []
    for k, v in (list(headers.items()) if isinstance(headers, dict) else headers or []):
        if k.lower() == "host":
            host = v
        elif k.lower() not in ("connection", "keep-alive", "transfer-encoding", "upgrade"):
            hdrs.append((k.lower(), str(v)))
    c = kiteh2.Conn(port, tls=TLS, host=addr)
    try:
        sid = c.request(method, target, headers=hdrs, authority=host,
                        body=body.encode() if isinstance(body, str) else body)
        st = c.wait([sid], timeout)[0]
    finally:
        c.close()
    if st.reset is not None and st.headers is None:
        raise ProtocolError("stream reset (%s)" % st.reset)
    r = Response()
    r.version = "HTTP/2"
    r.status = st.status
    r.reason = http.client.responses.get(r.status, "")
    r.headers = [(k.decode(), v.decode("latin-1")) for k, v in st.headers if not
                 k.startswith(b":")]
    r.body = bytes(st.data)
    r.framing = "length" if r.has("content-length") else "h2"
    return r


def request(port, method="GET", target="/", headers=None, body=None, timeout=SOCK_TIMEOUT,
            version="HTTP/1.1", host="localhost", unix=None, addr="127.0.0.1"):
    """One request on a new connection; returns the final response."""
    if H2 and version == "HTTP/1.1" and not unix and host is not None and target.startswith("/"):
        return request_h2(port, method, target, headers, body, timeout, host, addr)
    with Conn(port, host=addr, timeout=timeout, unix=unix) as c:
        c.send(build_request(method, target, headers, body, version, host))
        r = c.read_response(method)
        while r.status < 200:
            r = c.read_response(method)
        return r


def raw(port, data, method="GET", timeout=SOCK_TIMEOUT):
    """Send raw bytes on a new connection; returns (response, conn_closed_after)."""
    with Conn(port, timeout=timeout) as c:
        c.send(data)
        r = c.read_response(method)
        closed = c.wait_closed(3.0)
        return r, closed


def serves(port, unix=None):
    """A fresh connection gets 200 and "hello" from /test/hello."""
    try:
        with Conn(port, unix=unix) as c:
            c.send(build_request("GET", "/test/hello"))
            r = c.read_response()
            return r.status == 200 and r.body == b"hello\n"
    except Exception:
        return False


def curl(args, timeout=30, input=None):
    """Run curl; returns CompletedProcess with bytes stdout/stderr."""
    if TLS:
        args = ["-k"] + [a.replace("http://", "https://", 1) if isinstance(a, str) else a
                         for a in args]
    return subprocess.run(["curl", "-sS", "--max-time", "20", "--noproxy", "*"] + list(args),
                          capture_output=True, timeout=timeout, input=input)
