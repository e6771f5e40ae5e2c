"""The kited test harness shared by test_kited.py and test_lwsws.py: a
kited on a temporary lwsws-style config directory, checks recorded per
test and replayed into TAP in a fixed order, config snippets.

Set KITED and PLUGINS (absolute paths) before starting one.
"""
import concurrent.futures
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

import kitetest
from kitetest import request

KITED = None
PLUGINS = None
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0  # kited drains for at most 10 s
INDEX = b"<!DOCTYPE html>\n<title>kited test index</title>\n"


# ---------------------------------------------------------------- recording

class Rec:
    """Checks of one test, replayed into the Tap in order at the end."""

    def __init__(self, name):
        self.name = name
        self.items = []

    def ok(self, cond, name, diag=None):
        self.items.append(("ok", bool(cond), name, diag))
        return bool(cond)

    def eq(self, got, want, name):
        return self.ok(got == want, name,
                       "got:  %s\nwant: %s" % (kitetest.short(got), kitetest.short(want)))

    def skip(self, name, why):
        self.items.append(("skip", True, name, why))

    def diag(self, text):
        self.items.append(("diag", True, text, None))

    def replay(self, tap):
        for kind, cond, name, diag in self.items:
            if kind == "ok":
                tap.ok(cond, name, diag)
            elif kind == "skip":
                tap.n += 1
                print("ok %d - %s # SKIP %s" % (tap.n, name, diag))
            else:
                tap.diag(name)
        sys.stdout.flush()


def free_port(family=socket.AF_INET, addr="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((addr, 0))
    p = s.getsockname()[1]
    s.close()
    return p


def make_world_readable(top):
    """mkdtemp() makes 0700 dirs: a kited that drops root must still read them."""
    for d, dirs, files in os.walk(top):
        os.chmod(d, 0o755)
        for f in files:
            p = os.path.join(d, f)
            if not os.path.islink(p):
                os.chmod(p, 0o644)


# ---------------------------------------------------------------- kited

class Kited:
    """A kited on a temporary config directory.

    k = Kited(rec, "name", {"conf": "...", "conf.d/x": "..."}); k.start()
    "@DIR@" in the files is the config directory. k.ports["vhost"] is the
    port of the vhost of that name (the last one logged). k.stop() sends
    SIGTERM and checks exit 0 and a clean stderr.
    """

    def __init__(self, rec, name, files=None, args=(), plugin_args=None, docroot=True):
        self.rec = rec
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="kited-it-")
        self.args = list(args)
        self.plugin_args = ["-P", PLUGINS] if plugin_args is None else list(plugin_args)
        self.proc = None
        self.ports = {}
        self.listening = []
        self.err_path = os.path.join(self.dir, ".stderr")
        if docroot:
            self.put("www/index.html", INDEX)
            self.put("www/404.html", b"<title>kited custom 404</title>\n")
            self.put("www/page.txt", b"a page\n")
            self.put("www/page.kph", b"KPH-FILE-BYTES\n")
            self.put("www/thing.zork", b"zork\n")
            self.put("www/sub/start.html", b"start page of sub\n")
        for rel, text in (files or {}).items():
            self.put(rel, text)

    def put(self, rel, data):
        path = os.path.join(self.dir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if isinstance(data, str):
            data = data.replace("@DIR@", self.dir).encode()
        with open(path, "wb") as f:
            f.write(data)
        return path

    def path(self, rel):
        return os.path.join(self.dir, rel)

    @property
    def pid(self):
        return self.proc.pid

    def cmd(self, extra=()):
        return [KITED, "-c", self.dir, "-n"] + self.plugin_args + ["-d", "7"] + list(extra)

    def start(self):
        self.err = open(self.err_path, "wb")
        self.proc = subprocess.Popen(self.cmd(self.args), stdout=subprocess.DEVNULL,
                                     stderr=self.err, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            err = self.stderr()
            if "kited: serving" in err:
                for m in re.finditer(r"vhost (\S+): listening on (\S+)(?: port (\d+))?", err):
                    self.listening.append((m.group(1), m.group(2),
                                           int(m.group(3)) if m.group(3) else None))
                    if m.group(3):
                        self.ports[m.group(1)] = int(m.group(3))
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.err.close()
        raise RuntimeError("kited %s did not start: rc=%s\n%s" %
                           (self.name, self.proc.returncode, self.stderr()[-4000:]))

    def stderr(self):
        try:
            with open(self.err_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self):
        r = self.rec
        if self.proc is None:
            return
        early = self.proc.poll()
        if early is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                r.ok(False, "kited %s exits within %.0f s of SIGTERM" % (self.name, STOP_TIMEOUT),
                     self.stderr()[-4000:])
                self._cleanup()
                return
        err = self.stderr()
        r.ok(early is None, "kited %s was still running at the end" % self.name,
             "exit status %s\n%s" % (early, err[-4000:]))
        r.eq(self.proc.returncode, 0, "kited %s exits with status 0 after SIGTERM" % self.name)
        bad = [m for m in kitetest.SANITIZER_MARKS if m in err]
        r.ok(not bad, "kited %s stderr has no sanitizer report" % self.name, err[-6000:])
        self._cleanup()

    def _cleanup(self):
        self.err.close()
        self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def check(self):
        """kited --check-config on this directory: (exit status, stderr)."""
        p = subprocess.run(self.cmd(["--check-config"]), capture_output=True, timeout=60,
                           stdin=subprocess.DEVNULL)
        return p.returncode, p.stderr.decode("utf-8", "replace")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


def get(port, target="/", host="localhost", headers=None, **kw):
    return request(port, "GET", target, headers=headers, host=host, **kw)


def closed_after(conn, limit):
    """Seconds until the server closes @conn, or None if it stays open for @limit s."""
    t0 = time.monotonic()
    if conn.wait_closed(limit):
        return time.monotonic() - t0
    return None


def vhost_json(name, port, extra="", mounts=None):
    m = mounts if mounts is not None else \
        '[{ "mountpoint": "/", "origin": "file://www", "default": "index.html" }]'
    return ('{ "name": "%s", "port": %s, "interface": "127.0.0.1",%s\n'
            '  "mounts": %s }' % (name, port, extra, m))


def one_vhost_conf(global_body="", extra="", port='"0"', mounts=None):
    g = '  "global": { %s },\n' % global_body if global_body else ""
    return "# written by test_kited.py\n{\n%s  \"vhosts\": [ %s ]\n}\n" % (
        g, vhost_json("localhost", port, extra, mounts))


def proc_status(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return line.split()[1:]
    return None


def run_recorded(tests):
    """Run the test functions @tests (each takes a Rec) in parallel threads and replay
    their checks into TAP in the order given."""
    tap = kitetest.Tap()

    def run(fn):
        rec = Rec(fn.__name__)
        t0 = time.monotonic()
        try:
            fn(rec)
        except Exception:
            rec.ok(False, "%s ran to the end" % fn.__name__, traceback.format_exc())
        rec.diag("%s: %.1f s" % (fn.__name__, time.monotonic() - t0))
        return rec

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(tests)) as ex:
        recs = [f.result() for f in [ex.submit(run, fn) for fn in tests]]
    for rec in recs:
        rec.replay(tap)
    tap.done()
