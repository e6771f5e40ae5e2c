#!/usr/bin/python3
"""A bounded soak and fault run against kite-test-server (-t 2), loopback
only, 8 s: client threads mix good requests (files, pipelined batches,
callback endpoints, POST bodies, websocket echo) with faults (connections
reset mid-response, requests cut off, random garbage, websockets dropped
without a close, slow readers). Afterwards the server must still answer
correctly, hold no connections, and not have grown its memory without
bound; under the sanitizers the clean stop is checked by kitetest."""
import os
import random
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kitetest as kt  # noqa: E402
import kitews as kw  # noqa: E402

DURATION = 8.0
THREADS = 12


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def reset_close(sock):
    """Close with an RST (SO_LINGER 0), as a crashed client would."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class Worker(threading.Thread):
    def __init__(self, port, seed, deadline, stats):
        super().__init__(daemon=True)
        self.port = port
        self.rnd = random.Random(seed)
        self.deadline = deadline
        self.stats = stats
        self.errors = []

    def conn(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def good_get(self):
        with kt.Conn(self.port) as c:
            for _ in range(self.rnd.randint(1, 5)):
                path = self.rnd.choice(["/1k.txt", "/test/hello", "/sub/", "/nope"])
                c.send(kt.build_request("GET", path))
                r = c.read_response()
                want = 404 if path == "/nope" else 200
                if r.status != want:
                    self.errors.append("GET %s: %s" % (path, r.status))
        return "good"

    def pipelined(self):
        n = self.rnd.randint(2, 20)
        with kt.Conn(self.port) as c:
            c.send(b"".join(kt.build_request("GET", "/test/hello") for _ in range(n)))
            for _ in range(n):
                r = c.read_response()
                if (r.status, r.body) != (200, b"hello\n"):
                    self.errors.append("pipelined: %s %r" % (r.status, r.body[:20]))
        return "good"

    def post(self):
        body = os.urandom(self.rnd.randint(0, 200000))
        with kt.Conn(self.port) as c:
            c.send(kt.build_request("POST", "/test/echo", body=body))
            r = c.read_response()
            if r.status != 200 or (b'"bytes":%d' % len(body)) not in r.body:
                self.errors.append("POST echo: %s %r" % (r.status, r.body[:60]))
        return "good"

    def ws_echo(self):
        with kw.connect(self.port, protocols=("echo",)) as ws:
            for _ in range(self.rnd.randint(1, 10)):
                data = os.urandom(self.rnd.randint(0, 5000))
                ws.send_binary(data)
                op, got, _ = ws.recv_message(timeout=5)
                if got != data:
                    self.errors.append("ws echo mismatch")
            ws.send_close(1000)
            ws.read_until_close(timeout=3)
        return "good"

    def reset_mid_response(self):
        s = self.conn()
        s.sendall(kt.build_request("GET", self.rnd.choice(["/1m.bin", "/test/big?bytes=5000000",
                                                             "/test/stream?n=2000&size=1000"])))
        s.recv(self.rnd.randint(1, 4096))
        reset_close(s)
        return "fault"

    def cut_request(self):
        s = self.conn()
        req = kt.build_request("POST", "/test/echo", body=b"x" * 10000)
        s.sendall(req[:self.rnd.randint(1, len(req) - 1)])
        (reset_close if self.rnd.random() < 0.5 else socket.socket.close)(s)
        return "fault"

    def garbage(self):
        s = self.conn()
        s.sendall(bytes(self.rnd.getrandbits(8) for _ in range(self.rnd.randint(1, 3000))))
        try:
            s.recv(4096)
        except OSError:
            pass
        s.close()
        return "fault"

    def ws_drop(self):
        ws = kw.connect(self.port, protocols=(self.rnd.choice(["echo", "dumb-increment-protocol",
                                                                "lws-mirror-protocol"]),))
        ws.send_binary(os.urandom(100)) if self.rnd.random() < 0.5 else None
        reset_close(ws.c.sock)
        return "fault"

    def slow_reader(self):
        s = self.conn()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(kt.build_request("GET", "/test/big?bytes=20000000"))
        time.sleep(0.3)
        s.close()
        return "fault"

    def run(self):
        ops = [self.good_get, self.pipelined, self.post, self.ws_echo, self.reset_mid_response,
               self.cut_request, self.garbage, self.ws_drop, self.slow_reader]
        while time.monotonic() < self.deadline:
            op = self.rnd.choice(ops)
            try:
                kind = op()
                self.stats[kind] = self.stats.get(kind, 0) + 1
            except Exception as e:  # a good operation must not fail
                if op in (self.good_get, self.pipelined, self.post, self.ws_echo):
                    self.errors.append("%s: %r" % (op.__name__, e))


def test_soak(t, srv):
    with kt.Conn(srv.port) as c:
        c.send(kt.build_request("GET", "/1k.txt"))
        c.read_response()
    rss0, fds0 = rss_kb(srv.pid), open_fds(srv.pid)
    stats = {}
    deadline = time.monotonic() + DURATION
    workers = [Worker(srv.port, 1000 + i, deadline, stats) for i in range(THREADS)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(DURATION + 30)
    errors = [e for w in workers for e in w.errors]
    t.ok(all(not w.is_alive() for w in workers), "every client thread finished")
    # Enough of each kind to have mixed them; how many fit in the time is
    # the machine's speed (an ASan build on a loaded CI machine: ~90).
    t.ok(stats.get("good", 0) > 30 and stats.get("fault", 0) > 30,
         "soak ran %d good and %d faulty operations" % (stats.get("good", 0),
                                                       stats.get("fault", 0)))
    t.eq(errors[:5], [], "no good operation failed (%d errors)" % len(errors))
    t.ok(srv.alive(), "the server survived")
    with kt.Conn(srv.port) as c:
        c.send(kt.build_request("GET", "/1k.txt"))
        r = c.read_response()
        t.eq((r.status, r.body), (200, srv.docroot.files["1k.txt"]), "... and still answers")
    # Faulty connections are gone once their timeouts (keep-alive 1 s here) have passed.
    end = time.monotonic() + 10
    while time.monotonic() < end and open_fds(srv.pid) > fds0 + 2:
        time.sleep(0.2)
    t.ok(open_fds(srv.pid) <= fds0 + 2, "no connection left open (%d fds, %d before)"
         % (open_fds(srv.pid), fds0))
    if os.environ.get("ASAN_OPTIONS") is None:
        t.ok(rss_kb(srv.pid) - rss0 < 64 * 1024, "RSS grew %d KiB" % (rss_kb(srv.pid) - rss0))


if __name__ == "__main__":
    kt.run_tests([test_soak], args=kt.threads_args() + ["-k", "1", "-T", "2"])
