#!/usr/bin/python3
"""A response body that ends abnormally must not look whole (issue 19,
item 11): a CGI script killed by a signal or exiting non-zero after its
body began, cgi-timeout mid-body, a Lua page failing after its head went
out, a proxied upstream dying mid-body. HTTP/1.1 closes without the last
chunk, HTTP/1.0 with a Content-Length closes short of it and without one
ends with a reset, HTTP/2 resets the stream with INTERNAL_ERROR; curl
exits non-zero; the access log marks the line "incomplete". The same
scripts ending well (exit 0, or a failure after the whole Content-Length)
end their responses normally.

usage: test_broken_body.py KITED PLUGIN_DIR
"""
import os
import re
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kiteh2  # noqa: E402
import kitetest  # noqa: E402
import test_kited  # noqa: E402  (takes KITED PLUGIN_DIR from sys.argv too)
from test_kited import Kited, Rec, vhost_json  # noqa: E402

HEAD = "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n%s\\r\\n'\n"
SCRIPTS = {
    # The body begins, then the script dies or fails.
    "crash.cgi": HEAD % "" + "echo partial\nkill -SEGV $$\nsleep 5\n",
    "fail.cgi": HEAD % "" + "echo partial\nexit 3\n",
    "crashcl.cgi": HEAD % "Content-Length: 100\\r\\n" + "echo partial\nkill -KILL $$\n",
    "slow.cgi": HEAD % "" + "echo partial\nsleep 20\n",
    # Controls: whole bodies.
    "ok.cgi": HEAD % "" + "echo whole\n",
    "wholecl.cgi": HEAD % "Content-Length: 6\\r\\n" + "echo whole\nexit 1\n",
}
# A Lua page whose head goes out (more than the 16 KiB held) before it fails.
LUA_ERR = ("<? mg.write('HTTP/1.1 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\n')\n"
           "mg.write(string.rep('x', 40000))\nerror('boom after the head') ?>\n")


def upstream():
    """A one-shot-per-connection HTTP upstream that dies mid-body: /cl
    promises 100 bytes and sends 10, /chunked sends one chunk and no end."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)

    def serve(s):
        with s:
            data = b""
            while b"\r\n\r\n" not in data:
                got = s.recv(4096)
                if not got:
                    return
                data += got
            if b" /cl" in data.split(b"\r\n")[0]:
                s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
            else:
                s.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                          b"a\r\n0123456789\r\n")
            time.sleep(0.2)

    def loop():
        while True:
            try:
                s, _ = ls.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(s,), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()
    return ls


def raw_exchange(port, target, version="HTTP/1.1", timeout=10):
    """(bytes received until the close, True if the close was a reset)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(("GET %s %s\r\nHost: localhost\r\n\r\n" % (target, version)).encode())
    data, reset = b"", False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            got = s.recv(65536)
            if not got:
                break
            data += got
    except ConnectionResetError:
        reset = True
    except socket.timeout:
        data += b"<<TIMEOUT>>"
    s.close()
    return data, reset


def curl_rc(port, target, *args):
    p = subprocess.run(["curl", "-s", "-o", "/dev/null", "--max-time", "15"] + list(args) +
                       ["http://127.0.0.1:%d%s" % (port, target)], capture_output=True, timeout=30)
    return p.returncode


def h2_get(port, target):
    c = kiteh2.Conn(port)
    try:
        sid = c.request("GET", target)
        return c.wait([sid], 15)[0]
    finally:
        c.close()


def main():
    tap = kitetest.Tap()
    r = Rec("broken-body")
    ups = upstream()
    uport = ups.getsockname()[1]
    files = {"www/%s" % n: s for n, s in SCRIPTS.items()}
    files["www/err.lp"] = LUA_ERR
    files["www/t/slow.cgi"] = SCRIPTS["slow.cgi"]
    mounts = ('[{ "mountpoint": "/", "origin": "file://www", "cgi-pattern": "**.cgi$",'
              '   "lua-server-page-pattern": "**.lp$" },'
              ' { "mountpoint": "/t", "origin": "file://www/t", "cgi-pattern": "**.cgi$",'
              '   "cgi-timeout": 1 },'
              ' { "mountpoint": "/up", "origin": "http://127.0.0.1:%d/" }]' % uport)
    files["conf"] = ('{ "vhosts": [ %s ] }' % vhost_json(
        "localhost", '"0"', ' "h2c": true, "access-log": "@DIR@/access.log",', mounts))
    k = Kited(r, "broken-body", files)
    for n in SCRIPTS:
        os.chmod(k.path("www/" + n), 0o755)
    os.chmod(k.path("www/t/slow.cgi"), 0o755)
    cut = ["/crash.cgi", "/fail.cgi", "/t/slow.cgi", "/err.lp", "/up/chunked"]
    with k:
        p = k.ports["localhost"]
        for target in cut:
            data, _ = raw_exchange(p, target)
            r.ok(data.startswith(b"HTTP/1.1 200") and b"chunked" in data.split(b"\r\n\r\n")[0]
                 and not data.endswith(b"0\r\n\r\n") and b"<<TIMEOUT>>" not in data,
                 "%s, HTTP/1.1: closed without the last chunk" % target, repr(data[-300:]))
            rc = curl_rc(p, target)
            r.ok(rc in (18, 56), "%s, HTTP/1.1: curl exits with an error (%d)" % (target, rc))
            st = h2_get(p, target)
            r.ok(st.reset == 2 and not st.ended,
                 "%s, HTTP/2: RST_STREAM INTERNAL_ERROR" % target,
                 "reset %r ended %r" % (st.reset, st.ended))
            rc = curl_rc(p, target, "--http2-prior-knowledge")
            r.ok(rc not in (0, 28), "%s, HTTP/2: curl exits with an error (%d)" % (target, rc))
        for target in ("/crashcl.cgi", "/up/cl"):
            data, _ = raw_exchange(p, target)
            head, _, body = data.partition(b"\r\n\r\n")
            r.ok(b"Content-Length: 100" in head and len(body) < 100,
                 "%s, HTTP/1.1: closed short of its Content-Length" % target, repr(data[-300:]))
            rc = curl_rc(p, target)
            r.eq(rc, 18, "%s: curl exits 18 (partial file)" % target)
            st = h2_get(p, target)
            r.ok(st.reset == 2 and not st.ended, "%s, HTTP/2: RST_STREAM INTERNAL_ERROR" % target,
                 "reset %r ended %r" % (st.reset, st.ended))
        data, _ = raw_exchange(p, "/crashcl.cgi", "HTTP/1.0")
        r.ok(len(data.partition(b"\r\n\r\n")[2]) < 100,
             "/crashcl.cgi, HTTP/1.0: closed short of its Content-Length", repr(data))
        for target in ("/crash.cgi", "/fail.cgi"):
            data, reset = raw_exchange(p, target, "HTTP/1.0")
            r.ok(reset, "%s, HTTP/1.0 without a length: the close is a reset, not an end" % target,
                 repr(data))
            rc = curl_rc(p, target, "--http1.0")
            r.ok(rc == 56, "%s, HTTP/1.0: curl exits 56 (%d)" % (target, rc))
        for target, body in (("/ok.cgi", b"whole\n"), ("/wholecl.cgi", b"whole\n")):
            data, reset = raw_exchange(p, target, "HTTP/1.0")
            r.ok(not reset and data.endswith(body), "%s, HTTP/1.0: a whole body ends cleanly"
                 % target, repr(data))
            with kitetest.Conn(p) as c:
                c.send(kitetest.build_request("GET", target))
                res = c.read_response()
                c.send(kitetest.build_request("GET", target))
                res2 = c.read_response()
            r.ok(res.status == 200 and res.body == body and res2.body == body,
                 "%s, HTTP/1.1: whole, and the connection is kept" % target, repr(res))
            r.eq(curl_rc(p, target), 0, "%s: curl exits 0" % target)
            st = h2_get(p, target)
            r.ok(st.ended and st.reset is None and bytes(st.data) == body,
                 "%s, HTTP/2: END_STREAM" % target, repr(st.data))
        deadline = time.monotonic() + 5
        text = ""
        while time.monotonic() < deadline:
            text = test_kited.read_text(k.path("access.log")) or ""
            if text.count("\n") >= 40:
                break
            time.sleep(0.2)
        for target in cut + ["/crashcl.cgi", "/up/cl"]:
            lines = [x for x in text.splitlines() if '"GET %s HTTP' % target in x]
            r.ok(lines and all(x.endswith('" incomplete') for x in lines),
                 "%s: the access log marks it incomplete" % target, "\n".join(lines))
        lines = [x for x in text.splitlines() if re.search(r'"GET /(ok|wholecl)\.cgi HTTP', x)]
        r.ok(lines and not [x for x in lines if "incomplete" in x],
             "whole responses are not marked", "\n".join(lines))
        err = k.stderr()
        r.ok("crash.cgi: died after the response began" in err and
             "fail.cgi: exit status 3 after the response began" in err,
             "the error log says why each was cut", err[-3000:])
    ups.close()
    r.replay(tap)
    tap.done()


if __name__ == "__main__":
    main()
