#!/usr/bin/python3
"""kited as a drop-in for lwsws (issue 18): the keys of lws's config that
kite took on, its defaults, and its way of reporting a config.

usage: test_lwsws.py KITED PLUGIN_DIR

Each test writes its own config directory (kite's own fixtures, written
from lws's README.lwsws.md), starts kited on ephemeral loopback ports and
stops it with SIGTERM. Tests run in parallel threads; their checks are
replayed into TAP in a fixed order.
"""
import concurrent.futures
import os
import shutil
import signal
import stat
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kited_harness  # noqa: E402
import kitetest  # noqa: E402
import kitews  # noqa: E402
from kited_harness import Kited, Rec, closed_after, get, vhost_json  # noqa: E402
from kitetest import Conn, build_request  # noqa: E402

if len(sys.argv) < 3:
    sys.stderr.write("usage: %s KITED PLUGIN_DIR\n" % sys.argv[0])
    sys.exit(2)
kited_harness.KITED = os.path.abspath(sys.argv[1])
kited_harness.PLUGINS = os.path.abspath(sys.argv[2])

PATHINFO_SH = """#!/bin/sh
printf 'Content-Type: text/plain\\n\\n'
echo "SCRIPT_NAME=$SCRIPT_NAME"
echo "PATH_INFO=$PATH_INFO"
echo "QUERY_STRING=$QUERY_STRING"
echo "PWD=$(pwd)"
"""


def conf(vhosts, global_body=""):
    g = '  "global": { %s },\n' % global_body if global_body else ""
    return "# written by test_lwsws.py\n{\n%s  \"vhosts\": [ %s ]\n}\n" % (g, ",\n".join(vhosts))


def upgrade(port, path, protocols=("echo",), extra=None):
    ws = kitews.WsConn(port, path=path, protocols=list(protocols) if protocols else None)
    try:
        return ws.handshake(expect_101=False, extra=extra).status
    finally:
        ws.close()


def t_mount_keys(r):
    """exact-match, no-ws-upgrades, mount headers, cache-no and the no-store default."""
    mounts = """[
    { "mountpoint": "/", "origin": "file://www", "default": "index.html" },
    { "mountpoint": "/exact", "origin": ">https://x.test/", "exact-match": "1",
      "headers": [{ "X-Mount": "exact" }] },
    { "mountpoint": "/nc", "origin": "file://www", "cache-no": "1" },
    { "mountpoint": "/guarded", "origin": "file://www", "basic-auth": "users.txt" },
    { "mountpoint": "/open", "origin": "file://www", "basic-auth": "users.txt",
      "no-ws-upgrades": "1" }
  ]"""
    k = Kited(r, "mount-keys", {
        "conf": conf([vhost_json("mk", 0, '\n  "ws-protocols": [{ "echo": {} }],', mounts)]),
        "users.txt": "alice:s3cret\n"})
    with k:
        p = k.ports["mk"]
        res = get(p, "/exact")
        r.eq((res.status, res.header("Location"), res.header("X-Mount")),
             (301, "https://x.test/", "exact"), "exact-match mount: its own path, its headers")
        res = get(p, "/exact/x")
        r.eq((res.status, res.header("X-Mount")), (404, None),
             "exact-match mount: nothing below it (the / mount answers)")
        res = get(p, "/nc/page.txt")
        r.eq((res.status, res.header("Cache-Control")), (200, "no-cache"), "cache-no: no-cache")
        res = get(p, "/index.html")
        r.eq((res.status, res.header("Cache-Control")), (200, "no-store"),
             "a file mount without cache keys: Cache-Control no-store (lwsws)")
        r.eq(upgrade(p, "/guarded/"), 401, "a websocket upgrade under basic-auth needs the password")
        r.eq(upgrade(p, "/open/"), 101,
             "no-ws-upgrades: the upgrade passes over the mount (to the vhost's protocols)")
        res = get(p, "/open/index.html")
        r.eq(res.status, 401, "no-ws-upgrades: plain requests still need the password")


def t_types(r):
    """lwsws mounts serve no file of unknown type (a suffix-less password file) unless
    extra-mimetypes has "*"; "*": "" serves it without Content-Type."""
    mounts = """[
    { "mountpoint": "/", "origin": "file://www" },
    { "mountpoint": "/any", "origin": "file://www", "extra-mimetypes": { "*": "" } },
    { "mountpoint": "/typed", "origin": "file://www",
      "extra-mimetypes": { ".weird": "text/x-weird", "*": "text/plain" } }
  ]"""
    k = Kited(r, "types", {"conf": conf([vhost_json("ty", 0, mounts=mounts)]),
                           "www/passwords": "alice:s3cret\n", "www/a.weird": "weird\n"})
    with k:
        p = k.ports["ty"]
        for path in ("/passwords", "/a.weird"):
            res = get(p, path)
            r.eq((res.status, b"s3cret" in res.body), (403, False),
                 "lwsws mount: %s (no known type) is refused" % path)
        r.eq(get(p, "/page.txt").status, 200, "lwsws mount: a known type is served")
        res = get(p, "/any/passwords")
        r.eq((res.status, res.header("Content-Type")), (200, None),
             "\"*\": \"\": served, without Content-Type")
        res = get(p, "/typed/a.weird")
        r.eq((res.status, res.header("Content-Type")), (200, "text/x-weird"),
             "an extra-mimetypes entry wins over \"*\"")
        res = get(p, "/typed/passwords")
        r.eq((res.status, res.header("Content-Type")), (200, "text/plain"), "\"*\": its type")


def t_redirects(r):
    """A redirect mount goes to its origin alone unless append-path."""
    mounts = """[
    { "mountpoint": "/", "origin": "file://www" },
    { "mountpoint": "/old", "origin": ">https://new.test/landing" },
    { "mountpoint": "/keep", "origin": ">https://new.test/x/", "append-path": "1" }
  ]"""
    with Kited(r, "redirects", {"conf": conf([vhost_json("rd", 0, mounts=mounts)])}) as k:
        p = k.ports["rd"]
        res = get(p, "/old/a/b?q=1")
        r.eq((res.status, res.header("Location")), (301, "https://new.test/landing"),
             "redirect without append-path: the origin alone")
        res = get(p, "/keep/a/b?q=1")
        r.eq((res.status, res.header("Location")), (301, "https://new.test/x/a/b?q=1"),
             "redirect with append-path: the path and query follow")


def t_keepalive_mount(r):
    """A mount's keepalive-timeout holds after its answers; the vhost's elsewhere."""
    mounts = """[
    { "mountpoint": "/", "origin": "file://www" },
    { "mountpoint": "/short", "origin": "file://www", "keepalive-timeout": "1" }
  ]"""
    vh = vhost_json("ka", 0, '\n  "keepalive_timeout": "4",', mounts)
    with Kited(r, "keepalive-mount", {"conf": conf([vh])}) as k:
        p = k.ports["ka"]
        with Conn(p) as c:
            c.send(build_request("GET", "/short/index.html"))
            r.eq(c.read_response().status, 200, "keepalive-timeout mount: answered")
            t = closed_after(c, 3.0)
            r.ok(t is not None and t < 2.5, "keepalive-timeout 1 on the mount: idle conn closed "
                 "after about 1 s", "closed after %r" % t)
        with Conn(p) as c:
            c.send(build_request("GET", "/index.html"))
            c.read_response()
            t = closed_after(c, 2.0)
            r.ok(t is None, "the vhost's keepalive_timeout 4 elsewhere: still open after 2 s",
                 "closed after %r" % t)


def t_cgi_program(r):
    """cgi:// naming a program (the cgit recipe): it serves the whole mount."""
    mounts = """[
    { "mountpoint": "/", "origin": "file://www" },
    { "mountpoint": "/git", "origin": "cgi://bin/cgit.cgi", "cgi-chdir": "work" },
    { "mountpoint": "/cgi-bin", "origin": "cgi://bin" }
  ]"""
    k = Kited(r, "cgi-program", {"conf": conf([vhost_json("cg", 0, mounts=mounts)]),
                                 "bin/cgit.cgi": PATHINFO_SH, "work/.keep": ""})
    os.chmod(k.path("bin/cgit.cgi"), 0o755)
    with k:
        p = k.ports["cg"]
        res = get(p, "/git/kite.git/tree/README?h=main")
        r.eq((res.status, res.body.decode()),
             (200, "SCRIPT_NAME=/git\nPATH_INFO=/kite.git/tree/README\nQUERY_STRING=h=main\n"
              "PWD=%s\n" % os.path.realpath(k.path("work"))),
             "cgi:// naming a program: every URL under the mount runs it, the tail its "
             "PATH_INFO, in its cgi-chdir")
        res = get(p, "/git")
        r.ok(res.status == 200 and b"PATH_INFO=\n" in res.body, "the mountpoint itself runs it",
             repr(res))
        res = get(p, "/cgi-bin/cgit.cgi/x")
        r.ok(res.status == 200 and b"SCRIPT_NAME=/cgi-bin/cgit.cgi\nPATH_INFO=/x\n" in res.body,
             "cgi:// naming a directory keeps running the script the path names", repr(res))


def t_ws_need_protocol(r):
    vh = vhost_json("np", 0, '\n  "disable-no-protocol-ws-upgrades": "1",\n'
                    '  "ws-protocols": [{ "echo": { "default": "1" } }],')
    with Kited(r, "ws-need-protocol", {"conf": conf([vh])}) as k:
        p = k.ports["np"]
        r.eq(upgrade(p, "/", protocols=None), 400,
             "disable-no-protocol-ws-upgrades: an upgrade naming no protocol gets 400")
        r.eq(upgrade(p, "/", protocols=("echo",)), 101, "naming the protocol still works")


def t_listen_accept(r):
    """apply-listen-accept + listen-accept-protocol: raw sockets, as onlyraw with the pvo."""
    vh = ('{ "name": "la", "port": 0, "interface": "127.0.0.1",\n'
          '  "listen-accept-role": "raw-skt", "listen-accept-protocol": "raw-test",\n'
          '  "apply-listen-accept": "1" }')
    with Kited(r, "listen-accept", {"conf": conf([vh])}, docroot=False) as k:
        with Conn(k.ports["la"]) as c:
            want = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
            c.send(want)
            deadline = time.monotonic() + 5
            while len(c.buf) < len(want) and c._fill(deadline):
                pass
            r.eq(bytes(c.buf), want, "listen-accept-protocol raw-test echoes the bytes raw")


def t_report(r):
    """--check-config: lws keys accepted with notices, a wrong-section key and an unloaded
    ws-protocols name warned about, a typo still an error with "did you mean"."""
    vh = vhost_json("rp", 0, '\n  "fo-listen-queue": "64", "enable-client-ssl": "1",\n'
                    '  "ws-protocols": [{ "lws-meta": {}, "echo": {} }],')
    k = Kited(r, "report", {"conf": conf([vh], '"interface": "eth0", "server-string": "x"')})
    rc, err = k.check()
    r.ok(rc == 0, "a config with lws-only keys passes --check-config", err)
    for pat in ('conf:3: global.interface: ignored: "interface" belongs in a vhost',
                "conf:5: vhosts[0].fo-listen-queue: accepted from lws, no effect",
                "conf:5: vhosts[0].enable-client-ssl: accepted from lws, no effect",
                'conf:6: vhosts[0].ws-protocols[0].lws-meta: protocol "lws-meta" is not loaded, '
                "the vhost runs without it (loaded: "):
        r.ok(pat in err, "--check-config says: %s" % pat, err)
    k.put("conf", conf([vh.replace('"fo-listen-queue"', '"fo-listen-queeu"')]))
    rc, err = k.check()
    r.ok(rc == 1 and 'unknown key "fo-listen-queeu" (did you mean "fo-listen-queue"?)' in err,
         "a typo of an lws key is an error with \"did you mean\"", err)
    shutil.rmtree(k.dir, ignore_errors=True)


def t_disk(r):
    """Unix sockets 0600 and removed at exit; --check-config makes nothing on disk; a plugin
    directory named by plugin-dir and -P is loaded once."""
    vh = ('{ "name": "ux", "port": 0, "unix-socket": "1", "interface": "kite.sock",\n'
          '  "access-log": "logs/ux.log",\n'
          '  "mounts": [{ "mountpoint": "/", "origin": "file://www" }] }')
    k = Kited(r, "disk", {"conf": conf([vh], '"plugin-dir": "%s"' % kited_harness.PLUGINS),
                          "logs/.keep": ""})
    sock, log = k.path("kite.sock"), k.path("logs/ux.log")
    rc, err = k.check()
    r.ok(rc == 0, "--check-config passes (plugin-dir and -P naming one directory)", err)
    r.ok(not os.path.exists(sock) and not os.path.exists(log),
         "--check-config made neither the unix socket nor the access log",
         repr(os.listdir(k.dir)) + os.listdir(k.path("logs")).__repr__())
    k.put("conf", conf([vh.replace("logs/ux.log", "nodir/ux.log")]))
    rc, err = k.check()
    r.ok(rc == 1 and "access-log: \"%s\" cannot be created: No such file or directory" %
         k.path("nodir/ux.log") in err,
         "--check-config: an access log that could not be made is an error", err)
    k.put("conf", conf([vh], '"plugin-dir": "%s"' % kited_harness.PLUGINS))
    k.start()
    try:
        st = os.stat(sock)
        r.eq((stat.S_ISSOCK(st.st_mode), stat.S_IMODE(st.st_mode)), (True, 0o600),
             "the unix socket is made 0600")
        with Conn(None, unix=sock) as c:
            c.send(build_request("GET", "/page.txt"))
            r.eq(c.read_response().status, 200, "and serves")
        r.ok(os.path.exists(log), "the access log is made when serving")
    finally:
        k.proc.send_signal(signal.SIGTERM)
        rc = k.proc.wait(kited_harness.STOP_TIMEOUT)
    r.eq(rc, 0, "kited disk exits 0 after SIGTERM")
    r.ok(not os.path.exists(sock), "the unix socket is removed at exit")
    k._cleanup()


def main():
    tap = kitetest.Tap()
    tests = [t_mount_keys, t_types, t_redirects, t_keepalive_mount, t_cgi_program, t_ws_need_protocol,
             t_listen_accept, t_report, t_disk]

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


if __name__ == "__main__":
    main()
