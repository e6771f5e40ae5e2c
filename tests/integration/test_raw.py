#!/usr/bin/python3
"""Raw connections through the test server's raw-test protocol: a
raw-only vhost (-R) echoes TCP bytes exactly, sizes up to 1 MiB sent
while reading; fallback-to-raw on the main vhost (-F) echoes a non-HTTP
first line while GET and a WebSocket upgrade on the same port still
work; an adopted FIFO (-f) prints what is written into it on the
server's stdout, and writers coming and going do not end it."""
import os
import shutil
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kitetest as kt  # noqa: E402
import kitews as kw  # noqa: E402


def raw_port(srv):
    """The -R port from the server's stdout."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with open(srv.out_path, "rb") as f:
            for line in f.read().splitlines():
                if line.startswith(b"kite-test-server: raw port "):
                    return int(line.split()[-1])
        time.sleep(0.02)
    raise RuntimeError("no raw port line in the server's stdout")


def echo(port, data, piece=65536):
    """Send @data (in @piece-sized writes, from a thread) while reading;
    returns what came back once len(data) bytes did (or the peer closed)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=kt.SOCK_TIMEOUT)
    err = []

    def send():
        try:
            for i in range(0, len(data), piece):
                s.sendall(data[i:i + piece])
        except OSError as e:
            err.append(e)

    th = threading.Thread(target=send)
    th.start()
    got = bytearray()
    try:
        while len(got) < len(data):
            d = s.recv(262144)
            if not d:
                break
            got += d
    finally:
        th.join(10)
        s.close()
    if err:
        raise err[0]
    return bytes(got)


def flow(t, port, total=32 << 20):
    """A peer that sends without reading: the server stops reading (the
    sender stalls well before @total), and once the peer reads, every byte
    comes back in order."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
    s.settimeout(30)
    s.connect(("127.0.0.1", port))
    block = kt.pattern(1 << 20)
    sent = [0]
    err = []

    def send():
        try:
            while sent[0] < total:
                s.sendall(block)
                sent[0] += len(block)
        except OSError as e:
            err.append(e)

    th = threading.Thread(target=send)
    th.start()
    time.sleep(1.0)
    stalled = sent[0]
    t.ok(stalled < total, "raw: a peer that does not read stalls its sender "
         "(%d of %d bytes sent)" % (stalled, total))
    got = 0
    same = True
    deadline = time.monotonic() + 60
    try:
        while got < total and time.monotonic() < deadline:
            d = s.recv(262144)
            if not d:
                break
            if same:
                off = got % len(block)
                want = (block[off:] + block)[:len(d)] if off + len(d) > len(block) \
                    else block[off:off + len(d)]
                same = d == want
            got += len(d)
    finally:
        th.join(30)
        s.close()
    t.ok(not err and got == total and same,
         "raw: then all %d bytes come back in order (got %d)" % (total, got), err)


def test_raw_only(t):
    with kt.Server(t, args=["-R", "0"], name="server -R 0") as s:
        p = raw_port(s)
        t.ok(p > 0 and p != s.port, "-R 0: a raw port of its own (%d)" % p)
        for n in (1, 10, 1000, 65536, 100000, 1 << 20):
            data = os.urandom(n)
            got = echo(p, data)
            t.ok(got == data, "raw-only vhost: %d bytes come back exactly" % n,
                 "got %d bytes, first difference at %s" % (
                     len(got), next((i for i in range(min(len(got), n)) if got[i] != data[i]),
                                    min(len(got), n))))
        got = echo(p, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        t.eq(got, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "raw-only vhost: HTTP bytes are raw too")
        # several at once
        datas = [os.urandom(200000) for _ in range(4)]
        res = [None] * 4

        def one(i):
            try:
                res[i] = echo(p, datas[i], piece=7000)
            except Exception as e:  # noqa: BLE001
                res[i] = e
        ths = [threading.Thread(target=one, args=(i,)) for i in range(4)]
        for th in ths:
            th.start()
        for th in ths:
            th.join(30)
        t.ok(all(res[i] == datas[i] for i in range(4)),
             "raw-only vhost: 4 concurrent connections each get their own bytes")
        flow(t, p)
        t.ok(kt.serves(s.port), "-R: the main port still serves HTTP")


def test_fallback(t):
    with kt.Server(t, args=["-F"], name="server -F") as s:
        with kt.Conn(s.port) as c:
            c.send(b"hello raw\n")
            deadline = time.monotonic() + kt.SOCK_TIMEOUT
            while len(c.buf) < 10 and c._fill(deadline):
                pass
            t.eq(bytes(c.buf), b"hello raw\n", "-F: a non-HTTP first line comes back echoed")
            c.buf.clear()
            c.send(b"more bytes")
            while len(c.buf) < 10 and c._fill(deadline):
                pass
            t.eq(bytes(c.buf), b"more bytes", "-F: the connection stays raw")
        data = os.urandom(300000)
        data = b"\x00" + data[1:]
        t.ok(echo(s.port, data) == data, "-F: 300000 binary bytes echoed exactly")
        r = kt.request(s.port, "GET", "/1k.txt")
        t.eq((r.status, r.body), (200, s.docroot.files["1k.txt"]), "-F: a GET still gets 200")
        t.ok(kt.serves(s.port), "-F: /test/hello still answered")
        with kw.connect(s.port, protocols=("echo",)) as ws:
            ws.send_text("over websocket")
            op, payload, _ = ws.recv_message(timeout=3)
            t.eq((op, payload), (kw.OP_TEXT, b"over websocket"),
                 "-F: a WebSocket upgrade still works (echo)")
    with kt.Server(t, name="server without -F") as s:
        r, _ = kt.raw(s.port, b"hello raw\r\n\r\n")
        t.eq(r.status // 100, 4, "without -F: non-HTTP bytes get a 4xx (default unchanged)")


def fifo_lines(srv):
    with open(srv.out_path, "rb") as f:
        return f.read()


def wait_for(srv, needle, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if needle in fifo_lines(srv):
            return True
        time.sleep(0.02)
    return False


def write_fifo(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def test_fifo(t):
    d = tempfile.mkdtemp(prefix="kite-it-fifo-")
    path = os.path.join(d, "raw.fifo")
    try:
        with kt.Server(t, args=["-f", path], name="server -f") as s:
            t.ok(os.path.exists(path) and not os.path.isfile(path), "-f: the FIFO was created")
            write_fifo(path, b"first line\n")
            t.ok(wait_for(s, b"raw-test: fifo: first line\n"),
                 "-f: a line written into the FIFO is on the server's stdout",
                 fifo_lines(s)[-2000:])
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            for i in range(5):
                os.write(fd, b"line %d\n" % i)
                time.sleep(0.01)
            os.close(fd)
            t.ok(all(wait_for(s, b"line %d\n" % i) for i in range(5)),
                 "-f: five lines from one writer all arrive", fifo_lines(s)[-2000:])
            time.sleep(0.2)
            t.ok(s.alive(), "-f: the server survives the FIFO writer closing")
            t.ok(kt.serves(s.port), "-f: and still serves HTTP")
            write_fifo(path, b"after the writer left\n")
            t.ok(wait_for(s, b"raw-test: fifo: after the writer left\n"),
                 "-f: a new writer is read too", fifo_lines(s)[-2000:])
        # An existing FIFO is used as it is.
        with kt.Server(t, args=["-f", path], name="server -f (existing FIFO)") as s:
            write_fifo(path, b"again\n")
            t.ok(wait_for(s, b"raw-test: fifo: again\n"), "-f: an existing FIFO is adopted")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    t = kt.Tap()
    for fn in (test_raw_only, test_fallback, test_fifo):
        t.run(fn, t)
    t.done()


if __name__ == "__main__":
    main()
