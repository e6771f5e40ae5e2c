#!/usr/bin/python3
"""Instructions per request of a kite server, counted by callgrind (load-
independent, unlike timings): the server runs under valgrind twice, serving
N1 and then N2 requests from one small client on one keep-alive connection,
and the figure is (I(N2) - I(N1)) / (N2 - N1), so start-up and shutdown
cancel out. Workloads: "http" (GET of a 1 KB static file) and "ws" (16-byte
echo on the "echo" protocol, one in flight).

  bench/cg-count.py SERVER_BINARY [http|ws] [N1 N2]
"""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time



def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def connect(port):
    for _ in range(300):
        try:
            return socket.create_connection(("127.0.0.1", port))
        except OSError:
            time.sleep(0.1)
    raise SystemExit("server did not start")


def recv_until(s, buf, pred):
    while not pred(buf):
        d = s.recv(65536)
        if not d:
            raise SystemExit("server closed")
        buf += d
    return buf


def http(port, n):
    s = connect(port)
    req = b"GET /1k.bin HTTP/1.1\r\nHost: localhost\r\n\r\n"
    for _ in range(n):
        s.sendall(req)
        buf = recv_until(s, b"", lambda b: b"\r\n\r\n" in b)
        head, _, body = buf.partition(b"\r\n\r\n")
        size = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
        recv_until(s, body, lambda b: len(b) >= size)
    s.close()


def ws(port, n):
    s = connect(port)
    s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
              b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
              b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: echo\r\n\r\n")
    buf = recv_until(s, b"", lambda b: b"\r\n\r\n" in b)
    assert buf.startswith(b"HTTP/1.1 101"), buf[:80]
    rest = buf.partition(b"\r\n\r\n")[2]
    payload = b"0123456789abcdef"
    mask = b"\x01\x02\x03\x04"
    frame = b"\x82\x90" + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    for _ in range(n):
        s.sendall(frame)
        rest = recv_until(s, rest, lambda b: len(b) >= 18)
        assert rest[2:18] == payload
        rest = rest[18:]
    s.close()


def count(binary, work, n, docroot):
    port = free_port()
    out = os.path.join(docroot, "cg.%s.%d" % (work, n))
    p = subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
                          binary, "-p", str(port), "-i", "127.0.0.1", "-r", docroot,
                          "-k", "300", "-n"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        (http if work == "http" else ws)(port, n)
    finally:
        p.send_signal(signal.SIGINT)
        p.wait(120)
    with open(out) as f:
        for line in f:
            if line.startswith("totals:") or line.startswith("summary:"):
                return int(line.split()[1])
    raise SystemExit("no totals in " + out)


def main():
    binary, work = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "http"
    n1, n2 = (int(sys.argv[3]), int(sys.argv[4])) if len(sys.argv) > 4 else (1000, 6000)
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "1k.bin"), "wb") as f:
            f.write(b"x" * 1024)
        a, b = count(binary, work, n1, d), count(binary, work, n2, d)
    print("%s %s: %.0f instructions per request (I(%d)=%d, I(%d)=%d)" %
          (binary, work, (b - a) / (n2 - n1), n1, a, n2, b))


main()
