#!/usr/bin/python3
"""kited's signals under load, loopback only, bounded (each part starts
its own kited on a config directory it writes, and stops it):

1. SIGHUP x10 (~250 ms apart, kited with 2 service threads) while 50
   keep-alive HTTP connections and 50 echo websockets (plus 10
   dumb-increment ones) are kept busy: no request fails, no connection
   is closed by the server, every websocket still echoes after the last
   reload, keep-alive connections see the new config ("X-Gen" header) on
   their next request, and the access log has every request once.
2. A rewritten config takes effect: same socket sees the new header, a
   new mount answers, a removed one 404s, a new vhost port listens, a
   removed one stops accepting.
2b. Reloads removing and adding back a port whose conns are busy: those
   conns end only cleanly (after a whole response with Connection:
   close, or idle with a FIN), the conns of the kept port see nothing.
3. A bad config (an unknown key; a port in use) is reported as
   file:line: path: reason and "keeping the running config"; the old
   config keeps serving.
4. SIGTERM with 20 websockets (half on a retired vhost), a slow callback
   response and a big download in flight: 1001 close frames, the
   response completes with Connection: close, exit 0 inside the drain
   timeout.
5. SIGUSR1 with access-log under load: the log renamed, SIGUSR1, later
   lines go to the new file, every line is whole (combined format), and
   every request is logged exactly once.

The reload latency (SIGHUP to "reload: done") and the request rate during
the reload storm are printed as TAP diagnostics; timing is not asserted
beyond generous bounds (ASan builds are slow).

usage: test_kited_reload.py <kited> <plugin dir>
"""
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kitetest as kt  # noqa: E402
import kitews as kw  # noqa: E402

TIMEOUT = 15.0          # socket reads: generous for sanitizer builds
DRAIN_SECS = 10.0       # kited's drain timeout
N_HTTP = 50
N_WS = 50
N_DUMB = 10
N_RELOADS = 10
RELOAD_PERIOD = 0.25
THREADS = int(os.environ.get("KT_THREADS", "2"))  # service threads in part 1

KITED = None
PLUGINS = None

LOG_TS = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})\] \w: (.*)$")
DONE = re.compile(r"reload: (done|keeping the running config|commit failed)")
COMBINED = re.compile(
    r'^\S+ \S+ \S+ \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] '
    r'"[^"\n]*" \d{3} (\d+|-) "[^"\n]*" "[^"\n]*"$')


def free_ports(n):
    """@n distinct loopback ports that were free a moment ago."""
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def log_time(stamp):
    t = time.strptime(stamp[:19], "%Y-%m-%d %H:%M:%S")
    return time.mktime(t) + int(stamp[20:]) / 1000.0


class Kited:
    """kited on a config directory of its own: conf.d/a.json, www/."""

    def __init__(self, tap, name):
        self.tap = tap
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="kite-reload-")
        self.confd = os.path.join(self.dir, "conf.d")
        self.www = os.path.join(self.dir, "www")
        os.makedirs(self.confd)
        os.makedirs(self.www)
        self.put("index.html", b"<html>index</html>\n")
        self.err_path = os.path.join(self.dir, "stderr")
        self.proc = None
        self.stopped = False
        self.latencies = []      # observed: SIGHUP sent -> "reload: done" seen
        self.log_latencies = []  # in the log: "SIGHUP: reloading" -> "reload: done"

    def put(self, rel, data):
        p = os.path.join(self.www, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def write_config(self, vhosts, fname="a.json", text=None):
        """Replace conf.d/@fname atomically (a name starting with '.' is
        skipped by the loader, so the temporary file is never read)."""
        if text is None:
            text = json.dumps({"vhosts": vhosts}, indent=1) + "\n"
        tmp = os.path.join(self.confd, "." + fname + ".tmp")
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, os.path.join(self.confd, fname))

    def start(self):
        cmd = [KITED, "-c", self.dir, "-n", "-P", PLUGINS, "-d", "7"]
        self.err = open(self.err_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self.err, stderr=self.err,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + kt.START_TIMEOUT
        while time.monotonic() < deadline:
            if "kited: serving" in self.log():
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.proc.kill()
        self.proc.wait()
        raise RuntimeError("%s did not start: rc=%s\n%s" %
                           (self.name, self.proc.returncode, self.log()[-3000:]))

    def log(self):
        try:
            with open(self.err_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def ports(self):
        return [int(p) for p in re.findall(r"listening on \S+ port (\d+)", self.log())]

    def hup(self, timeout=20.0):
        """SIGHUP and wait for the reload's outcome line; returns it."""
        n0 = len(DONE.findall(self.log()))
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGHUP)
        deadline = t0 + timeout
        while time.monotonic() < deadline:
            log = self.log()
            found = DONE.findall(log)
            if len(found) > n0:
                self.latencies.append(time.monotonic() - t0)
                self._log_latency(log, n0)
                return found[n0]
            if self.proc.poll() is not None:
                return "exited %s" % self.proc.returncode
            time.sleep(0.002)
        return "timeout"

    def _log_latency(self, log, n0):
        start = None
        k = 0
        for line in log.splitlines():
            m = LOG_TS.match(line)
            if not m:
                continue
            if m.group(2).startswith("SIGHUP: reloading"):
                start = log_time(m.group(1))
            elif DONE.search(m.group(2)):
                if k == n0 and start is not None:
                    self.log_latencies.append(log_time(m.group(1)) - start)
                    return
                k += 1

    def stop(self, check=True):
        """SIGTERM; checks exit 0 within the drain timeout and a clean
        stderr. Returns the seconds it took."""
        t = self.tap
        if self.proc is None or self.stopped:
            return 0.0
        early = self.proc.poll()
        t0 = time.monotonic()
        if early is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(DRAIN_SECS + 5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        took = time.monotonic() - t0
        if check:
            log = self.log()
            t.ok(early is None, "%s was still running at the end" % self.name,
                 "exit status %s\n%s" % (early, log[-4000:]))
            t.eq(self.proc.returncode, 0, "%s exits with status 0 after SIGTERM" % self.name)
            bad = [m for m in kt.SANITIZER_MARKS if m in log]
            t.ok(not bad, "%s stderr has no sanitizer report" % self.name, log[-6000:])
        self.stopped = True
        return took

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        try:
            self.err.close()
        except Exception:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


def vhost(name, port, www, gen=None, mounts=(), access_log=None, headers=None):
    v = {"name": name, "port": str(port), "interface": "127.0.0.1",
         "ws-protocols": [{"echo": {"default": 1}, "dumb-increment-protocol": {}}],
         "mounts": [{"mountpoint": "/", "origin": "file://" + www, "default": "index.html"},
                    {"mountpoint": "/test", "origin": "callback://http-test"}] + list(mounts)}
    hdrs = list(headers or [])
    if gen is not None:
        hdrs.append({"X-Gen": str(gen)})
    if hdrs:
        v["headers"] = hdrs
    if access_log:
        v["access-log"] = access_log
    return v


def get(c, path, host="localhost"):
    c.send(kt.build_request("GET", path, host=host))
    return c.read_response()


def nodelay(sock):
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


# ---------------------------------------------------------------- 1

class HttpLoad(threading.Thread):
    """One keep-alive connection, requests in a loop, every response checked."""

    PATHS = [("/test/hello", b"hello\n"), ("/index.html", b"<html>index</html>\n")]

    def __init__(self, port, idx, stop):
        super().__init__(daemon=True)
        self.port, self.idx, self.stop_ev = port, idx, stop
        self.done = []       # completion times
        self.gens = []       # distinct X-Gen values in the order seen
        self.error = None
        self.closed_by_server = False
        self.final = None    # the X-Gen of the request after the storm

    def one(self, c, k):
        path, body = self.PATHS[(self.idx + k) % 2]
        r = get(c, path)
        if r.status != 200 or r.body != body:
            raise kt.ProtocolError("%s: %s %r" % (path, r.status, r.body[:80]))
        if "close" in (r.header("Connection") or "").lower():
            raise kt.ProtocolError("%s: Connection: close on a keep-alive conn" % path)
        g = int(r.header("X-Gen") or -1)
        if self.gens and g < self.gens[-1]:
            raise kt.ProtocolError("X-Gen went back from %d to %d" % (self.gens[-1], g))
        if not self.gens or g != self.gens[-1]:
            self.gens.append(g)
        return g

    def run(self):
        c = None
        try:
            c = kt.Conn(self.port, timeout=TIMEOUT)
            nodelay(c.sock)
            k = 0
            while not self.stop_ev.is_set():
                self.one(c, k)
                self.done.append(time.monotonic())
                k += 1
            self.final_ev.wait(60)
            self.final = self.one(c, k)
        except Exception as e:
            self.error = "http conn %d: %r" % (self.idx, e)
            self.closed_by_server = bool(c and c.eof)
        finally:
            if c:
                c.close()


class WsEcho(threading.Thread):
    def __init__(self, port, idx, stop):
        super().__init__(daemon=True)
        self.port, self.idx, self.stop_ev = port, idx, stop
        self.done = []
        self.error = None
        self.final_ok = False

    def echo(self, ws, k):
        msg = ("ws %d message %d " % (self.idx, k)) + "x" * (k % 200)
        ws.send_text(msg)
        op, data, _ = ws.recv_message()
        if op != kw.OP_TEXT or data != msg.encode():
            raise kw.WsError("echo %d: got op %d %r" % (k, op, data[:80]))

    def run(self):
        ws = None
        try:
            ws = kw.connect(self.port, ("echo",), timeout=TIMEOUT)
            nodelay(ws.c.sock)
            k = 0
            while not self.stop_ev.is_set():
                self.echo(ws, k)
                self.done.append(time.monotonic())
                k += 1
            self.final_ev.wait(60)
            self.echo(ws, k)
            self.final_ok = True
            ws.send_close(1000)
            f, _ = ws.read_until_close(TIMEOUT)
            if f is None or f.close_code != 1000:
                raise kw.WsError("closing: got %r" % f)
        except Exception as e:
            self.error = "echo ws %d: %r" % (self.idx, e)
        finally:
            if ws:
                ws.close()


class WsDumb(threading.Thread):
    def __init__(self, port, idx, stop):
        super().__init__(daemon=True)
        self.port, self.idx, self.stop_ev = port, idx, stop
        self.error = None
        self.count = 0
        self.final_ok = False

    def next_number(self, ws, prev):
        op, data, _ = ws.recv_message()
        n = int(data)
        if prev is not None and n <= prev:
            raise kw.WsError("counter went from %d to %d" % (prev, n))
        return n

    def run(self):
        ws = None
        try:
            ws = kw.connect(self.port, ("dumb-increment-protocol",), timeout=TIMEOUT)
            prev = None
            while not self.stop_ev.is_set():
                prev = self.next_number(ws, prev)
                self.count += 1
            self.final_ev.wait(60)
            # drop what queued meanwhile, then two more in order
            for _ in range(3):
                prev = self.next_number(ws, prev)
            self.final_ok = True
        except Exception as e:
            self.error = "dumb-increment ws %d: %r" % (self.idx, e)
        finally:
            if ws:
                ws.close()


def test_reload_under_load(t):
    t.diag("1. SIGHUP x%d under load: %d keep-alive HTTP conns, %d echo + %d dumb-increment "
           "websockets" % (N_RELOADS, N_HTTP, N_WS, N_DUMB))
    k = Kited(t, "kited (reload under load)")
    try:
        port = free_ports(1)[0]
        alog = os.path.join(k.dir, "access.log")
        if THREADS > 1:
            k.write_config(None, fname="00-global.json",
                           text='{"global": {"count-threads": "%d"}}\n' % THREADS)
        k.write_config([vhost("localhost", port, k.www, gen=0, access_log=alog)])
        k.start()
        stop = threading.Event()
        final = threading.Event()
        http = [HttpLoad(port, i, stop) for i in range(N_HTTP)]
        ws = [WsEcho(port, i, stop) for i in range(N_WS)]
        dumb = [WsDumb(port, i, stop) for i in range(N_DUMB)]
        for th in http + ws + dumb:
            th.final_ev = final
            th.start()
        time.sleep(1.5)          # all connected and busy
        b0 = time.monotonic()
        time.sleep(1.0)
        b1 = time.monotonic()    # the baseline second, before any reload
        outcomes = []
        s0 = time.monotonic()
        for gen in range(1, N_RELOADS + 1):
            t_sig = time.monotonic()
            k.write_config([vhost("localhost", port, k.www, gen=gen, access_log=alog)])
            outcomes.append(k.hup())
            left = RELOAD_PERIOD - (time.monotonic() - t_sig)
            if left > 0:
                time.sleep(left)
        s1 = time.monotonic()    # the storm
        time.sleep(1.0)          # still busy after the last reload
        stop.set()
        time.sleep(0.3)          # loops have left (each ends after its reply)
        final.set()
        for th in http + ws + dumb:
            th.join(TIMEOUT * 2)

        t.eq(outcomes, ["done"] * N_RELOADS, "all %d reloads under load are done" % N_RELOADS)
        t.ok(k.proc.poll() is None, "kited is still running after the reload storm")

        def rate(threads, a, b):
            return sum(sum(1 for x in th.done if a <= x < b) for th in threads) / (b - a)

        nreq = sum(len(th.done) for th in http)
        necho = sum(len(th.done) for th in ws)
        lat = k.latencies
        t.diag("reload latency, SIGHUP sent -> 'reload: done' seen: min %.1f ms, median %.1f ms,"
               " max %.1f ms (%d reloads)" % (min(lat) * 1e3, statistics.median(lat) * 1e3,
                                               max(lat) * 1e3, len(lat)))
        if k.log_latencies:
            ll = k.log_latencies
            t.diag("reload latency in kited's log ('SIGHUP: reloading' -> 'reload: done'): "
                   "min %.0f ms, median %.0f ms, max %.0f ms" %
                   (min(ll) * 1e3, statistics.median(ll) * 1e3, max(ll) * 1e3))
        t.diag("HTTP requests/s: %.0f before the reloads, %.0f during the reload storm "
               "(%.2f s, %d reloads); %d requests in all" %
               (rate(http, b0, b1), rate(http, s0, s1), s1 - s0, N_RELOADS, nreq))
        t.diag("websocket echoes/s: %.0f before, %.0f during the storm; %d in all" %
               (rate(ws, b0, b1), rate(ws, s0, s1), necho))

        errs = [th.error for th in http if th.error]
        t.ok(not errs, "no failed HTTP request (%d requests on %d keep-alive conns)" %
             (nreq, N_HTTP), "\n".join(errs[:10]))
        t.ok(not any(th.closed_by_server for th in http),
             "no keep-alive HTTP conn was closed by the server")
        t.ok(all(th.done for th in http), "every HTTP conn made requests",
             [len(th.done) for th in http])
        t.eq(sorted(set(th.final for th in http)), [N_RELOADS],
             "after the last reload every kept-alive conn sees the last config (X-Gen)")
        multi = sum(1 for th in http if len(th.gens) > 2)
        t.ok(multi == N_HTTP, "every kept-alive conn served several generations of the config "
             "on the same socket (%d of %d)" % (multi, N_HTTP),
             [th.gens for th in http][:5])
        errs = [th.error for th in ws if th.error]
        t.ok(not errs, "no websocket dropped or misechoed (%d echoes on %d websockets)" %
             (necho, N_WS), "\n".join(errs[:10]))
        t.ok(all(th.final_ok for th in ws), "every echo websocket still echoes after the "
             "last reload")
        errs = [th.error for th in dumb if th.error]
        t.ok(not errs and all(th.final_ok for th in dumb),
             "every dumb-increment websocket counted strictly upwards through the reloads "
             "and still counts after them", "\n".join(errs[:10]))
        t.ok(kt.serves(port), "a new conn is served after the storm")
        k.stop()  # flushes the access log
        with open(alog, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
        bad = [ln for ln in lines if not COMBINED.match(ln)]
        t.ok(not bad, "the access log written by the old and new vhosts has only whole lines",
             "\n".join(bad[:5]))
        ups = [ln for ln in lines if '" 101 ' in ln]
        # the HTTP loads' requests, their final ones, and serves()
        t.eq((len(lines) - len(ups), len(ups)), (nreq + N_HTTP + 1, N_WS + N_DUMB),
             "every request and websocket upgrade of the storm is logged once")
    finally:
        k.stop()
        k.cleanup()


# ---------------------------------------------------------------- 2

def test_new_config(t):
    t.diag("2. a rewritten config takes effect for new requests")
    k = Kited(t, "kited (new config)")
    try:
        p1, p2, p3 = free_ports(3)
        k.put("old/x.txt", b"old\n")
        k.put("new-dir/x.txt", b"new\n")
        os.makedirs(os.path.join(k.dir, "olddir"))
        with open(os.path.join(k.dir, "olddir", "x.txt"), "wb") as f:
            f.write(b"from the old mount\n")
        newdir = os.path.join(k.dir, "newdir")
        os.makedirs(newdir)
        with open(os.path.join(newdir, "x.txt"), "wb") as f:
            f.write(b"from the new mount\n")
        old_mount = {"mountpoint": "/oldmount", "origin": "file://" + os.path.join(k.dir, "olddir")}
        new_mount = {"mountpoint": "/newmount", "origin": "file://" + newdir}
        k.write_config([vhost("localhost", p1, k.www, gen=1, mounts=[old_mount]),
                        vhost("third", p3, k.www, gen=1)])
        k.start()
        t.eq(sorted(k.ports()), sorted([p1, p3]), "kited listens on the two configured ports")
        c = kt.Conn(p1, timeout=TIMEOUT)
        idle3 = kt.Conn(p3, timeout=TIMEOUT)
        r = get(c, "/index.html")
        t.eq((r.status, r.header("X-Gen")), (200, "1"), "before: X-Gen 1")
        r = get(c, "/oldmount/x.txt")
        t.eq((r.status, r.body), (200, b"from the old mount\n"), "before: /oldmount answers")
        r = get(c, "/newmount/x.txt")
        t.eq(r.status, 404, "before: /newmount is 404")
        r = get(idle3, "/index.html")
        t.eq(r.status, 200, "before: the third port serves")
        local = c.sock.getsockname()

        k.write_config([vhost("localhost", p1, k.www, gen=2, mounts=[new_mount]),
                        vhost("second", p2, k.www, gen=2)])
        t.eq(k.hup(), "done", "reload with X-Gen 2, /newmount instead of /oldmount, "
             "port %d instead of %d" % (p2, p3))
        time.sleep(0.2)  # the swap is applied on the service threads
        r = get(c, "/index.html")
        t.eq((r.status, r.header("X-Gen")), (200, "2"),
             "the kept-alive conn sees X-Gen 2 on its next request")
        t.eq(c.sock.getsockname(), local, "... on the same socket")
        r = get(c, "/newmount/x.txt")
        t.eq((r.status, r.body), (200, b"from the new mount\n"), "the new mount answers")
        r = get(c, "/oldmount/x.txt")
        t.eq(r.status, 404, "the removed mount is 404")
        t.ok(c.no_data_for(0.05) and not c.eof, "the kept-alive conn is still open")
        c.close()

        ok2 = False
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not ok2:
            try:
                r = kt.request(p2, "GET", "/index.html", timeout=TIMEOUT)
                ok2 = r.status == 200 and r.header("X-Gen") == "2"
            except OSError:
                time.sleep(0.05)
        t.ok(ok2, "the new vhost listens on its new port %d" % p2)
        t.ok(re.search(r"vhost second: listening on 127\.0\.0\.1 port %d" % p2, k.log()),
             "kited logs the new listener")

        refused = False
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not refused:
            try:
                with socket.create_connection(("127.0.0.1", p3), timeout=2):
                    pass
                time.sleep(0.05)
            except ConnectionRefusedError:
                refused = True
        t.ok(refused, "the removed port %d no longer accepts" % p3)
        t.ok(idle3.wait_closed(5), "an idle keep-alive conn on the removed port is closed")
        idle3.close()
    finally:
        k.stop()
        k.cleanup()


# ---------------------------------------------------------------- 2b

class FlapLoad(threading.Thread):
    """Keep-alive conns on a port that reloads remove and add back: every
    response must be whole; a conn ends either after a response with
    Connection: close (request in flight at the reload) or, idle, with a
    FIN before any byte of the next response (the keep-alive close race;
    never a reset, never a torn response)."""

    def __init__(self, port, idx, stop):
        super().__init__(daemon=True)
        self.port, self.idx, self.stop_ev = port, idx, stop
        self.ok = self.closed_after_response = self.closed_idle = self.refused = 0
        self.errors = []

    def run(self):
        while not self.stop_ev.is_set():
            try:
                c = kt.Conn(self.port, timeout=TIMEOUT)
            except ConnectionRefusedError:
                self.refused += 1
                time.sleep(0.01)
                continue
            except Exception as e:
                self.errors.append("connect: %r" % e)
                return
            try:
                k = 0
                while not self.stop_ev.is_set():
                    path = "/test/delay?ms=20" if (self.idx + k) % 2 else "/test/hello"
                    k += 1
                    c.send(kt.build_request("GET", path))
                    try:
                        r = c.read_response()
                    except EOFError:
                        if c.reset or c.buf:
                            self.errors.append("%s: reset %s, %d bytes of a response, "
                                               "request %d on its conn" %
                                               (path, c.reset, len(c.buf), k))
                        else:
                            self.closed_idle += 1
                        break
                    if r.status != 200 or (path == "/test/hello" and r.body != b"hello\n"):
                        self.errors.append("%s: %r" % (path, r))
                        break
                    self.ok += 1
                    if (r.header("Connection") or "").lower() == "close":
                        if not c.wait_closed(5):
                            self.errors.append("Connection: close, but the conn stays open")
                        self.closed_after_response += 1
                        break
            except Exception as e:
                self.errors.append("%r" % e)
                return
            finally:
                c.close()


def test_removed_port_under_load(t):
    t.diag("2b. a port removed and added back by reloads while its conns are busy")
    k = Kited(t, "kited (port flapping)")
    try:
        p1, p2 = free_ports(2)
        k.write_config([vhost("localhost", p1, k.www, gen=0), vhost("flap", p2, k.www, gen=0)])
        k.start()
        stop = threading.Event()
        flap = [FlapLoad(p2, i, stop) for i in range(16)]
        steady = [HttpLoad(p1, i, stop) for i in range(4)]
        final = threading.Event()
        for th in steady:
            th.final_ev = final
        for th in flap + steady:
            th.start()
        time.sleep(0.5)
        outcomes = []
        for g in range(1, 11):
            vs = [vhost("localhost", p1, k.www, gen=g)]
            if g % 2 == 0:
                vs.append(vhost("flap", p2, k.www, gen=g))
            k.write_config(vs)
            outcomes.append(k.hup())
            time.sleep(0.2)
        stop.set()
        final.set()
        for th in flap + steady:
            th.join(TIMEOUT * 2)
        t.eq(outcomes, ["done"] * 10, "10 reloads, removing and adding back port %d" % p2)
        errs = [e for th in flap for e in th.errors]
        ok = sum(th.ok for th in flap)
        after = sum(th.closed_after_response for th in flap)
        idle = sum(th.closed_idle for th in flap)
        t.diag("flapping port: %d responses, %d conns closed after a Connection: close "
               "response, %d closed while idle, %d connects refused" %
               (ok, after, idle, sum(th.refused for th in flap)))
        t.ok(not errs, "conns on the removed port only ever end cleanly: after a whole "
             "response with Connection: close, or idle with a FIN", "\n".join(errs[:10]))
        t.ok(after > 0, "requests in flight at a removal finish with Connection: close")
        errs = [th.error for th in steady if th.error]
        t.ok(not errs and all(th.final == 10 for th in steady),
             "conns on the kept port are not disturbed", "\n".join(errs))
    finally:
        k.stop()
        k.cleanup()


# ---------------------------------------------------------------- 3

def test_bad_config(t):
    t.diag("3. a bad config is reported and the running one keeps serving")
    k = Kited(t, "kited (bad config)")
    blocker = None
    try:
        p1, p2 = free_ports(2)
        good = [vhost("localhost", p1, k.www, gen=1)]
        k.write_config(good)
        k.start()
        c = kt.Conn(p1, timeout=TIMEOUT)
        r = get(c, "/index.html")
        t.eq((r.status, r.header("X-Gen")), (200, "1"), "before: X-Gen 1")

        # an unknown key on line 4
        text = ('{\n "vhosts": [{\n  "name": "localhost",\n  "prot": "%d",\n'
                '  "headers": [{"X-Gen": "2"}]\n }]\n}\n' % p1)
        k.write_config(None, text=text)
        n0 = len(k.log())
        t.eq(k.hup(), "keeping the running config", "a config with an unknown key is refused")
        new = k.log()[n0:]
        t.ok(re.search(r"conf\.d/a\.json:4: vhosts\[0\]\.prot: unknown key \"prot\"", new),
             "the error is reported as file:line: path: reason", new)
        t.ok("reload: keeping the running config" in new, "... and 'keeping the running config'")
        r = get(c, "/index.html")
        t.eq((r.status, r.header("X-Gen")), (200, "1"),
             "the kept-alive conn still gets the old config")
        r = kt.request(p1, "GET", "/test/hello", timeout=TIMEOUT)
        t.eq((r.status, r.body, r.header("X-Gen")), (200, b"hello\n", "1"),
             "a new conn still gets the old config")

        # a second vhost on a port that is in use: found when binding
        blocker = socket.socket()
        blocker.bind(("127.0.0.1", p2))
        blocker.listen(1)
        k.write_config([vhost("localhost", p1, k.www, gen=3), vhost("other", p2, k.www, gen=3)])
        n0 = len(k.log())
        t.eq(k.hup(), "keeping the running config", "a config with a port in use is refused")
        new = k.log()[n0:]
        t.ok(re.search(r"conf\.d/a\.json:\d+: vhosts\[1\]\.port: .*in use", new),
             "the port in use is reported as file:line: path: reason", new)
        r = get(c, "/index.html")
        t.eq((r.status, r.header("X-Gen")), (200, "1"), "the kept-alive conn still gets X-Gen 1")
        blocker.close()
        blocker = None

        k.write_config([vhost("localhost", p1, k.www, gen=4)])
        t.eq(k.hup(), "done", "a good config after the bad ones is taken")
        time.sleep(0.2)
        r = get(c, "/index.html")
        t.eq((r.status, r.header("X-Gen")), (200, "4"), "... and the kept-alive conn sees it")
        c.close()
    finally:
        if blocker:
            blocker.close()
        k.stop()
        k.cleanup()


# ---------------------------------------------------------------- 4

def test_sigterm(t):
    t.diag("4. SIGTERM after load: websockets get 1001, the request in flight completes")
    k = Kited(t, "kited (SIGTERM)")
    wss = []
    try:
        port = free_ports(1)[0]
        big = bytes(kt.pattern(8 << 20))
        k.put("big.bin", big)
        k.write_config([vhost("localhost", port, k.www, gen=1)])
        k.start()
        # some load first: 10 websockets, a reload, 10 more (on the new vhost)
        for i in range(20):
            if i == 10:
                t.eq(k.hup(), "done", "a reload with 10 websockets open")
            w = kw.connect(port, ("echo",), timeout=TIMEOUT)
            wss.append(w)
        for rnd in range(20):
            for i, w in enumerate(wss):
                w.send_text("load %d %d" % (i, rnd))
            for i, w in enumerate(wss):
                op, data, _ = w.recv_message()
                if data != ("load %d %d" % (i, rnd)).encode():
                    raise kw.WsError("bad echo %r" % data)
        with kt.Conn(port, timeout=TIMEOUT) as c:
            for _ in range(50):
                r = get(c, "/test/hello")
        t.eq(r.status, 200, "load before SIGTERM: 20 websockets x 20 echoes, 50 requests")

        slow = kt.Conn(port, timeout=TIMEOUT)
        slow.send(kt.build_request("GET", "/test/delay?ms=1500"))
        dl = kt.Conn(port, timeout=TIMEOUT, rcvbuf=65536)
        dl.send(kt.build_request("GET", "/big.bin"))
        head = dl.read_head()
        got = bytearray()
        while len(got) < 65536:
            d = dl.sock.recv(65536 - len(got))
            if not d:
                break
            got += d
        idle = kt.Conn(port, timeout=TIMEOUT)
        r = get(idle, "/test/hello")
        time.sleep(0.3)  # the delayed request is in flight

        t0 = time.monotonic()
        k.proc.send_signal(signal.SIGTERM)
        codes = []
        for w in wss:
            f, _ = w.read_until_close(TIMEOUT)
            codes.append(f.close_code if f else None)
            if f:
                try:
                    w.send_close(1001)
                except OSError:
                    pass
        t.eq(codes, [1001] * len(wss), "every websocket (10 on the retired vhost, 10 on the "
             "live one) gets a close frame with 1001")
        t.ok(idle.wait_closed(5) and not idle.reset, "the idle keep-alive conn is closed (FIN)")
        idle.close()
        r = slow.read_response(timeout=TIMEOUT)
        t.eq((r.status, (r.header("Connection") or "").lower()), (200, "close"),
             "the delayed response in flight completes with Connection: close")
        t.ok(slow.wait_closed(5) and not slow.reset, "... and its conn is closed afterwards")
        slow.close()
        time.sleep(0.3)  # a slow reader
        rest = bytearray(got)
        ok = True
        while True:
            try:
                d = dl.sock.recv(262144)
            except OSError:
                ok = False
                break
            if not d:
                break
            rest += d
        body = bytes(dl.buf) + bytes(rest)
        t.eq((head.status, len(body), body == big), (200, len(big), True),
             "the 8 MB download in flight completes (read slowly) and then the conn closes")
        t.ok(ok, "... without a reset")
        dl.close()
        try:
            k.proc.wait(DRAIN_SECS + 5)
        except subprocess.TimeoutExpired:
            pass
        took = time.monotonic() - t0
        t.diag("SIGTERM -> exit: %.2f s" % took)
        t.eq(k.proc.returncode, 0, "kited exits 0 after SIGTERM")
        t.ok(took < DRAIN_SECS, "... within the drain timeout (%.2f s < %.0f s)" %
             (took, DRAIN_SECS))
        log = k.log()
        t.ok("drain: closing" not in log, "nothing was left for the drain timeout to close",
             log[-2000:])
        bad = [m for m in kt.SANITIZER_MARKS if m in log]
        t.ok(not bad, "stderr has no sanitizer report", log[-6000:])
        for c in (slow, dl, idle):
            c.close()
    finally:
        for w in wss:
            w.close()
        k.stop(check=False)
        k.cleanup()


# ---------------------------------------------------------------- 5

class LogLoad(threading.Thread):
    def __init__(self, port, idx, stop):
        super().__init__(daemon=True)
        self.port, self.idx, self.stop_ev = port, idx, stop
        self.sent = []  # (target, completion time)
        self.error = None

    def run(self):
        try:
            with kt.Conn(self.port, timeout=TIMEOUT) as c:
                nodelay(c.sock)
                n = 0
                while not self.stop_ev.is_set():
                    target = "/test/hello?t=%d&n=%d" % (self.idx, n)
                    r = get(c, target)
                    if r.status != 200:
                        raise kt.ProtocolError("%s: %s" % (target, r.status))
                    self.sent.append((target, time.monotonic()))
                    n += 1
        except Exception as e:
            self.error = "log load %d: %r" % (self.idx, e)


def test_sigusr1(t):
    t.diag("5. SIGUSR1 reopens the access log under load")
    k = Kited(t, "kited (SIGUSR1)")
    try:
        port = free_ports(1)[0]
        logdir = os.path.join(k.dir, "logs")
        os.makedirs(logdir)
        alog = os.path.join(logdir, "access.log")
        k.write_config([vhost("localhost", port, k.www, gen=1, access_log=alog)])
        k.start()
        stop = threading.Event()
        load = [LogLoad(port, i, stop) for i in range(8)]
        for th in load:
            th.start()
        time.sleep(2.0)
        os.rename(alog, alog + ".1")
        t_usr1 = time.monotonic()
        k.proc.send_signal(signal.SIGUSR1)
        time.sleep(2.5)  # written at least once a second
        stop.set()
        for th in load:
            th.join(TIMEOUT * 2)
        errs = [th.error for th in load if th.error]
        t.ok(not errs, "no request failed around SIGUSR1", "\n".join(errs))
        nreq = sum(len(th.sent) for th in load)
        k.stop()  # flushes the logs

        def lines(p):
            with open(p, "rb") as f:
                data = f.read()
            t.ok(data.endswith(b"\n"), "%s ends with a whole line" % os.path.basename(p))
            return data.decode("utf-8", "replace").splitlines()

        t.ok(os.path.exists(alog), "the access log is created again after SIGUSR1")
        old = lines(alog + ".1")
        new = lines(alog) if os.path.exists(alog) else []
        t.diag("access log: %d lines in the renamed file, %d in the new one, %d requests" %
               (len(old), len(new), nreq))
        bad = [ln for ln in old + new if not COMBINED.match(ln)]
        t.ok(not bad, "every line is a whole combined-format line (none torn or mixed)",
             "\n".join(bad[:5]))

        def targets(ls):
            out = []
            for ln in ls:
                m = re.search(r'"GET (\S+) HTTP/1\.1"', ln)
                if m:
                    out.append(m.group(1))
            return out

        logged = targets(old) + targets(new)
        want = [tg for th in load for tg, _ in th.sent]
        t.eq((len(logged), len(set(logged))), (len(want), len(want)),
             "every request is logged exactly once")
        t.ok(set(logged) == set(want), "the logged requests are the ones made")
        new_set = set(targets(new))
        late = [tg for th in load for tg, w in th.sent if w > t_usr1 + 1.2]
        early = [tg for th in load for tg, w in th.sent if w < t_usr1 - 1.2]
        t.ok(late and all(tg in new_set for tg in late),
             "requests made after SIGUSR1 go to the new file (%d checked)" % len(late))
        t.ok(early and not any(tg in new_set for tg in early),
             "requests made before the rename stay in the renamed file (%d checked)" % len(early))
    finally:
        k.stop(check=False)
        k.cleanup()


def main():
    global KITED, PLUGINS
    if len(sys.argv) < 3:
        sys.stderr.write("usage: %s <kited> <plugin dir>\n" % sys.argv[0])
        sys.exit(2)
    KITED = os.path.abspath(sys.argv[1])
    PLUGINS = os.path.abspath(sys.argv[2])
    t = kt.Tap()
    for fn in (test_reload_under_load, test_new_config, test_removed_port_under_load,
               test_bad_config, test_sigterm,
               test_sigusr1):
        t.run(fn, t)
    t.done()


if __name__ == "__main__":
    main()
