#!/usr/bin/python3
"""The test page in a real browser: headless Chromium (Debian `chromium`,
installed by `make deps`; missing, the test fails) loads
test-apps/html from kite-test-server.

1. `chromium --headless --dump-dom` with a virtual time budget: the
   page's script ran and opened its three websockets (what they bring
   arrives in real time, so it is checked on the live page in 3).
2. `chromium --headless --screenshot` at 1024x900 into the build dir
   (ws-test-page.png, argv[2]).
3. The live page over the DevTools protocol (spoken with this suite's
   own raw WebSocket client, kitews): the counter read in real time goes
   past 0 and keeps counting up, the three websockets are open, the
   status list shows this browser (127.0.0.1, HeadlessChrome), mirror
   strokes come back (compressed both ways: Chromium negotiated
   permessage-deflate on mirror and status, ws.extensions says so),
   and a screenshot of that state is saved as ws-test-page-live.png.
Element ids and data-state values are those of test-apps/html/test.js.
"""
import base64
import html.parser
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

sys.dont_write_bytecode = True
import kitetest as kt  # noqa: E402
import kitews as kw  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
HTML_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "test-apps", "html"))
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
WINDOW = (1024, 900)


def chromium_path():
    return shutil.which("chromium") or ("/usr/bin/chromium"
                                        if os.access("/usr/bin/chromium", os.X_OK) else None)


def out_dir():
    d = sys.argv[2] if len(sys.argv) > 2 else tempfile.gettempdir()
    os.makedirs(d, exist_ok=True)
    return d


class Dom(html.parser.HTMLParser):
    """Text and attributes of elements by id, from a dumped DOM."""

    def __init__(self):
        super().__init__()
        self.attrs = {}   # id -> attrs dict
        self.text = {}    # id -> text inside
        self.stack = []   # ids open, with tag

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("br", "img", "input", "meta", "link"):
            return
        if "id" in a:
            self.attrs[a["id"]] = a
            self.text[a["id"]] = ""
        self.stack.append((tag, a.get("id")))

    def handle_endtag(self, tag):
        while self.stack:
            t, _ = self.stack.pop()
            if t == tag:
                break

    def handle_data(self, data):
        for _, i in self.stack:
            if i:
                self.text[i] += data


def run_chromium(args, timeout=60):
    with tempfile.TemporaryDirectory(prefix="kite-chromium-") as profile:
        p = subprocess.run([chromium_path()] + CHROMIUM_FLAGS +
                           ["--user-data-dir=" + profile] + args,
                           capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return p


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def test_dump_dom(t, srv):
    url = "http://127.0.0.1:%d/" % srv.port
    # The page as a first load renders it. What the websockets bring (the
    # counter, open sockets, the status list) arrives in real time, which
    # --virtual-time-budget does not wait for: those are checked on the
    # live page below (test_live_page), not here.
    p = run_chromium(["--virtual-time-budget=5000", "--dump-dom", url])
    dom = Dom()
    dom.feed(p.stdout.decode("utf-8", "replace"))
    t.eq(p.returncode, 0, "chromium --dump-dom exits 0")
    t.ok("Script loaded" in dom.text.get("status", ""), "the page's script ran",
         dom.text.get("status"))
    for prefix, what in (("wsdi", "dumb-increment"), ("wslm", "lws-mirror"),
                         ("s", "lws-status")):
        st = dom.attrs.get(prefix + "_statustd", {}).get("data-state")
        t.ok(st in ("connecting", "open"), "the %s websocket was opened by the page (%s)"
             % (what, st))
    t.ok(srv.alive(), "the server is up after the page load")


def test_screenshot(t, srv):
    url = "http://127.0.0.1:%d/" % srv.port
    path = os.path.join(out_dir(), "ws-test-page.png")
    if os.path.exists(path):
        os.unlink(path)
    p = run_chromium(["--virtual-time-budget=5000", "--screenshot=" + path,
                      "--window-size=%d,%d" % WINDOW, url])
    t.eq(p.returncode, 0, "chromium --screenshot exits 0")
    t.eq(png_size(path) if os.path.exists(path) else None, WINDOW,
         "screenshot saved as a %dx%d PNG: %s" % (WINDOW[0], WINDOW[1], path))


class Cdp:
    """A DevTools protocol session on one page target, over kitews."""

    def __init__(self, port, path):
        self.ws = kw.WsConn(port, path=path, timeout=10, host="127.0.0.1:%d" % port)
        self.ws.handshake()
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send_frame(kw.OP_TEXT, json.dumps({"id": self.next_id, "method": method,
                                                   "params": params}).encode())
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            op, data, _ = self.ws.recv_message(timeout=20)
            msg = json.loads(data)
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg["result"]
        raise TimeoutError(method)

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        return r.get("result", {}).get("value")

    def close(self):
        self.ws.close()


def test_live_page(t, srv):
    url = "http://127.0.0.1:%d/" % srv.port
    profile = tempfile.mkdtemp(prefix="kite-chromium-")
    errf = open(os.path.join(profile, "stderr.txt"), "wb")
    p = subprocess.Popen([chromium_path()] + CHROMIUM_FLAGS +
                         ["--user-data-dir=" + profile, "--remote-debugging-port=0",
                          "--window-size=%d,%d" % WINDOW, url],
                         stdout=subprocess.DEVNULL, stderr=errf, stdin=subprocess.DEVNULL,
                         start_new_session=True)
    cdp = None
    try:
        # Chromium writes its DevTools port into the profile once it listens.
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.monotonic() + 30
        dport = None
        while time.monotonic() < deadline and p.poll() is None:
            try:
                with open(port_file) as f:
                    dport = int(f.readline().strip())
                break
            except (OSError, ValueError):
                time.sleep(0.1)
        if not t.ok(dport, "chromium with --remote-debugging-port starts its DevTools server"):
            return
        page = None
        while time.monotonic() < deadline and not page:
            with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % dport,
                                        timeout=5) as r:
                targets = json.load(r)
            page = next((x for x in targets if x.get("type") == "page" and
                         x.get("url", "").startswith(url)), None)
            if not page:
                time.sleep(0.2)
        if not t.ok(page, "the page target is listed", targets):
            return
        path = "/" + page["webSocketDebuggerUrl"].split("/", 3)[3]
        cdp = Cdp(dport, path)
        # Real time now: wait for the counter to pass 0, then see it grow.
        first = None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            v = cdp.eval("document.getElementById('number').textContent")
            if v and v.isdigit() and int(v) > 0:
                first = int(v)
                break
            time.sleep(0.1)
        t.ok(first is not None and first > 0,
             "the dumb-increment counter on the live page goes past 0 (%s)" % first)
        time.sleep(1.0)
        second = cdp.eval("document.getElementById('number').textContent")
        t.ok(first is not None and second and second.isdigit() and int(second) >= first + 5,
             "one second later it has counted up by at least 5 (%s -> %s)" % (first, second))
        states = cdp.eval("['wsdi','wslm','s'].map(p => "
                          "document.getElementById(p + '_statustd').dataset.state).join(',')")
        t.eq(states, "open,open,open", "dumb-increment, mirror and status websockets are open")
        exts = cdp.eval("['wsdi','wslm','s'].map(p => "
                        "document.getElementById(p + '_statustd').dataset.extensions).join(',')")
        t.eq(exts, ",permessage-deflate,permessage-deflate",
             "Chromium negotiated permessage-deflate on mirror and status (dumb-increment "
             "opts out)")
        conns = cdp.eval("document.getElementById('conninfo').textContent") or ""
        count = cdp.eval("document.getElementById('status_count').textContent")
        t.ok(count and count.isdigit() and int(count) >= 1 and "127.0.0.1" in conns and
             "HeadlessChrome" in conns,
             "the status list shows the browser's connection (%s client(s))" % count, conns[:400])
        # The mirror: a line drawn on this page comes back from the server.
        cdp.call("Runtime.evaluate", expression=(
            "(() => { const c = document.getElementById('mirror_canvas');"
            " const r = c.getBoundingClientRect();"
            " const ev = (t, x, y) => c.dispatchEvent(new PointerEvent(t, {pointerId: 1,"
            " bubbles: true, clientX: r.left + x, clientY: r.top + y}));"
            " try { ev('pointerdown', 10, 10); } catch (e) {}"
            " for (let i = 1; i <= 20; i++) ev('pointermove', 10 + 10 * i, 10 + 5 * i);"
            " ev('pointerup', 210, 110); return 1; })()"), returnByValue=True)
        rx = None
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            rx = cdp.eval("document.getElementById('mirror_rx').textContent")
            if rx and rx.isdigit() and int(rx) > 0:
                break
            time.sleep(0.1)
        t.ok(rx and rx.isdigit() and int(rx) > 0,
             "strokes drawn on the canvas come back through lws-mirror-protocol (%s)" % rx)
        shot = cdp.call("Page.captureScreenshot", format="png")
        path_png = os.path.join(out_dir(), "ws-test-page-live.png")
        with open(path_png, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        size = png_size(path_png)
        t.ok(size is not None and size[0] > 0, "live screenshot saved: %s %s" % (path_png, size))
    finally:
        if cdp:
            cdp.close()
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        errf.close()
        shutil.rmtree(profile, ignore_errors=True)
    t.ok(srv.alive(), "the server is up after the browser went away")


def main():
    tap = kt.Tap()
    if not tap.ok(chromium_path(), "chromium is installed (Debian chromium, `make deps`)"):
        tap.done()
    # The server serves the real test page (a later -r wins over kitetest's docroot).
    srv = kt.Server(tap, args=["-r", HTML_DIR])
    try:
        srv.start()
    except Exception:
        tap.ok(False, "server starts", traceback.format_exc())
        tap.done()
    try:
        for fn in (test_dump_dom, test_screenshot, test_live_page):
            tap.run(fn, tap, srv)
    finally:
        srv.stop()
    tap.done()


if __name__ == "__main__":
    main()
