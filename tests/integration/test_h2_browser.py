#!/usr/bin/python3
"""The test page in headless Chromium over HTTP/2: kite-test-server with
TLS (-s, its self-signed certificate accepted with
--ignore-certificate-errors), the page, its script and stylesheet come
over h2 (Navigation/Resource Timing nextHopProtocol, read over the
DevTools protocol), and its websockets work (Chromium opens them over
the h2 connection with RFC 8441 when the server offers it, or over
HTTP/1.1): the dumb-increment counter counts up and the lws-mirror
strokes come back."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.dont_write_bytecode = True
import kitetest as kt  # noqa: E402
import test_ws_browser as wb  # noqa: E402


def start_chromium(url, profile):
    errf = open(os.path.join(profile, "stderr.txt"), "wb")
    p = subprocess.Popen([wb.chromium_path()] + wb.CHROMIUM_FLAGS +
                         ["--user-data-dir=" + profile, "--remote-debugging-port=0",
                          "--ignore-certificate-errors", "--window-size=%d,%d" % wb.WINDOW, url],
                         stdout=subprocess.DEVNULL, stderr=errf, stdin=subprocess.DEVNULL,
                         start_new_session=True)
    return p, errf


def page_session(t, p, profile, url):
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
    if not t.ok(dport, "chromium starts its DevTools server"):
        return None
    page = None
    targets = None
    while time.monotonic() < deadline and not page:
        with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % dport, timeout=5) as r:
            targets = json.load(r)
        page = next((x for x in targets if x.get("type") == "page" and
                     x.get("url", "").startswith(url)), None)
        if not page:
            time.sleep(0.2)
    if not t.ok(page, "the page target is listed", targets):
        return None
    return wb.Cdp(dport, "/" + page["webSocketDebuggerUrl"].split("/", 3)[3])


def test_page_over_h2(t, srv):
    if not t.ok(wb.chromium_path(), "chromium is installed (Debian chromium, `make deps`)"):
        return
    url = "https://localhost:%d/" % srv.port
    profile = tempfile.mkdtemp(prefix="kite-chromium-h2-")
    p, errf = start_chromium(url, profile)
    cdp = None
    try:
        cdp = page_session(t, p, profile, url)
        if not cdp:
            return
        proto = None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not proto:
            proto = cdp.eval("(performance.getEntriesByType('navigation')[0] || {})"
                             ".nextHopProtocol")
            if not proto:
                time.sleep(0.1)
        t.eq(proto, "h2", "the page was loaded over HTTP/2 (nextHopProtocol)")
        res = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            res = cdp.eval("performance.getEntriesByType('resource').filter(e => "
                           "/test\\.(js|css)$/.test(e.name)).map(e => e.nextHopProtocol)"
                           ".join(',')")
            if res and res.count("h2") >= 2:
                break
            time.sleep(0.1)
        t.eq(res, "h2,h2", "its script and stylesheet came over h2 too")
        first = None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            v = cdp.eval("document.getElementById('number').textContent")
            if v and v.isdigit() and int(v) > 0:
                first = int(v)
                break
            time.sleep(0.1)
        t.ok(first is not None and first > 0,
             "wss: the dumb-increment counter on the page goes past 0 (%s)" % first)
        time.sleep(1.0)
        second = cdp.eval("document.getElementById('number').textContent")
        t.ok(first is not None and second and second.isdigit() and int(second) >= first + 5,
             "wss: one second later it has counted up by at least 5 (%s -> %s)" %
             (first, second))
        states = cdp.eval("['wsdi','wslm','s'].map(p => "
                          "document.getElementById(p + '_statustd').dataset.state).join(',')")
        t.eq(states, "open,open,open", "the three websockets of the page are open")
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
    t.ok(srv.alive(), "the server is up after the page")


def main():
    # The real test page (a later -r wins over kitetest's docroot), over TLS.
    kt.run_tests([test_page_over_h2], args=["-s", "-r", wb.HTML_DIR])


if __name__ == "__main__":
    main()
