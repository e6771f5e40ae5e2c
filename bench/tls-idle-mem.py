#!/usr/bin/python3
"""Idle TLS connection memory of kite-test-server (issue 20: on mbedTLS 3.6
no more than on 2.28): N clients finish a handshake and one GET over
TLS 1.3 (3.6) or 1.2 (2.28), then stay idle; (VmRSS with them - VmRSS
before) / N. Memory does not depend on the machine's load.

usage: bench/tls-idle-mem.py BUILD [N] [1.2]     (N: 1000; 1.2: TLS 1.2 on 3.6 too)
"""
import os
import socket
import ssl
import subprocess
import sys
import time


def rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def main():
    build, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    srv = subprocess.Popen([os.path.join(build, "test-apps", "kite-test-server"), "-s", "-n",
                            "-p", str(port), "-i", "127.0.0.1", "-k", "600"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    conns = []
    try:
        ctx = ssl._create_unverified_context()
        if sys.argv[3:] == ["1.2"]:
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        # One connection first: the thread's TLS buffers are not per connection.
        warm = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)))
        warm.sendall(b"GET /test/hello HTTP/1.1\r\nHost: x\r\n\r\n")
        warm.recv(4096)
        time.sleep(0.5)
        before = rss(srv.pid)
        version = warm.version()
        for _ in range(n):
            c = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)))
            c.sendall(b"GET /test/hello HTTP/1.1\r\nHost: x\r\n\r\n")
            c.recv(4096)
            conns.append(c)
        time.sleep(1)
        after = rss(srv.pid)
        print("%s %s: %d idle connections, %.0f bytes each" % (
            build, version, n, (after - before) / n))
    finally:
        for c in conns:
            c.close()
        srv.terminate()
        srv.wait(5)


if __name__ == "__main__":
    main()
