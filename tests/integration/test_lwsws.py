#!/usr/bin/python3
"""kited as a drop-in for lwsws (issue 18): the keys of lws's config that
kite took on, its defaults, and its way of reporting a config.

usage: test_lwsws.py KITED PLUGIN_DIR

Each test writes its own config directory (kite's own fixtures, written
from lws's README.lwsws.md), starts kited on ephemeral loopback ports and
stops it with SIGTERM. Tests run in parallel threads; their checks are
replayed into TAP in a fixed order.
"""
import base64
import os
import pwd
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kited_harness  # noqa: E402
import kitews  # noqa: E402
from kited_harness import Kited, closed_after, get, vhost_json  # noqa: E402
from kitetest import Conn, build_request, request  # noqa: E402

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


def t_interface_names(r):
    """interface takes an interface name (its address); bind-iface binds the socket to it
    (SO_BINDTODEVICE: root or CAP_NET_RAW), with a clear error without the privilege."""
    vhs = [vhost_json("lo", 0).replace('"interface": "127.0.0.1"', '"interface": "lo"'),
           vhost_json("bound", 0, ' "bind-iface": "1",').replace('"interface": "127.0.0.1"',
                                                                 '"interface": "lo"')]
    k = Kited(r, "iface", {"conf": conf(vhs)})
    if os.geteuid() != 0:
        rc, err = k.check()
        r.ok(rc == 1 and "SO_BINDTODEVICE needs CAP_NET_RAW" in err,
             "bind-iface without the privilege: a clear error", err)
        shutil.rmtree(k.dir, ignore_errors=True)
        return
    with k:
        for name in ("lo", "bound"):
            r.eq(get(k.ports[name], "/page.txt").status, 200,
                 "interface \"lo\"%s: serves on its address 127.0.0.1" %
                 (" with bind-iface" if name == "bound" else ""))
    k = Kited(r, "iface-bad", {"conf": conf([vhost_json("x", 0).replace(
        '"interface": "127.0.0.1"', '"interface": "nosuchif0"')])})
    rc, err = k.check()
    r.ok(rc == 1 and '"nosuchif0" is not an IPv4 or IPv6 address or an interface' in err,
         "an interface that does not exist: a clear error", err)
    shutil.rmtree(k.dir, ignore_errors=True)


SNIPPETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "lwsws")


def https_get(port, path="/"):
    """(status, headers text) of one HTTPS GET, the certificate not checked."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            s.sendall(build_request("GET", path))
            data = b""
            while b"\r\n\r\n" not in data:
                more = s.recv(4096)
                if not more:
                    break
                data += more
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    return int(head.split(" ", 2)[1]), head


def snippet(r, name, port, extra_files=None):
    """A Kited on README snippet @name, its placeholders filled in."""
    with open(os.path.join(SNIPPETS, name)) as f:
        text = f.read()
    k = Kited(r, name, extra_files or {})
    subst = {"@WWW@": k.path("www"), "@DIR@": k.dir, "@PORT@": str(port),
             "@CRT@": k.path("tls.crt"), "@KEY@": k.path("tls.key"),
             "@USER@": "nobody", "@GROUP@": "nogroup", "@PLUGINS@": kited_harness.PLUGINS}
    for a, b in subst.items():
        text = text.replace(a, b)
    k.put("conf", text)
    if "@CRT@" in subst and ("tls.crt" in text):
        subprocess.run(["openssl", "req", "-x509", "-nodes", "-days", "2", "-subj",
                        "/CN=localhost", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-keyout", k.path("tls.key"), "-out",
                        k.path("tls.crt")], check=True, capture_output=True)
        os.chmod(k.path("tls.key"), 0o600)
    kited_harness.make_world_readable(k.dir)
    return k


def t_example(r):
    """lwsws's shipped example config and localhost example (tests/data/lwsws/00-example),
    only the port and paths changed: --check-config passes, and it serves the test page with
    its cache headers, CGI, the form POST, the test websockets, the access log, the uid."""
    p = kited_harness.free_port()
    k = Kited(r, "example", {"www/test.html": "<title>test page</title>\n",
                             "www/server-status/server-status.html": "status page\n",
                             "www/lws-cgi-test.sh": "#!/bin/sh\nprintf 'Content-Type: "
                             "text/plain\\n\\n'\necho \"cgi $PATH_INFO\"\n",
                             "logs/.keep": ""})
    for rel in ("conf", "conf.d/localhost"):
        with open(os.path.join(SNIPPETS, "00-example", rel)) as f:
            text = f.read()
        if os.geteuid() != 0:
            text = "".join(ln for ln in text.splitlines(True)
                           if not ln.strip().startswith(('"uid"', '"gid"')))
        k.put(rel, text.replace("@PORT@", str(p)).replace("@WWW@", k.path("www"))
              .replace("@DIR@", k.dir))
    kited_harness.make_world_readable(k.dir)
    os.chmod(k.path("www/lws-cgi-test.sh"), 0o755)
    os.chmod(k.path("logs"), 0o777)
    rc, err = k.check()
    r.ok(rc == 0 and 'global.interface: ignored' in err and
         'protocol "lws-server-status" is not loaded' in err,
         "example: --check-config passes, warning about the global interface and the "
         "protocols not loaded", err)
    with k:
        res = get(p, "/")
        r.eq((res.status, res.body, res.header("Cache-Control")),
             (200, b"<title>test page</title>\n", "private, max-age=60, must-revalidate"),
             "example: the test page with its cache headers")
        r.eq(get(p, "/server-status/").body, b"status page\n", "example: /server-status page")
        res = get(p, "/testcgi/x/y")
        r.eq((res.status, res.body), (200, b"cgi /x/y\n"),
             "example: /testcgi runs lws-cgi-test.sh (cgi:// naming a file)")
        res = request(p, "POST", "/formtest", headers=[
            ("Content-Type", "application/x-www-form-urlencoded")], body=b"text=hello")
        r.ok(res.status == 200, "example: the form POST to /formtest", repr(res))
        for proto in ("dumb-increment-protocol", "lws-mirror-protocol", "lws-status"):
            ws = kitews.WsConn(p, protocols=[proto])
            try:
                r.eq(ws.handshake(expect_101=False).status, 101, "example: websocket %s" % proto)
            finally:
                ws.close()
        log = k.path("logs/test-access-log")
        r.ok(wait_file(log, b"GET /testcgi/x/y"), "example: the access log", log)
        if os.geteuid() == 0:
            r.eq(kited_harness.proc_status(k.pid, "Uid"), ["48"] * 4, "example: uid 48")


def wait_file(path, needle, secs=5.0):
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        try:
            with open(path, "rb") as f:
                if needle in f.read():
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def t_readme_snippets(r):
    """Every configuration snippet of lws's README.lwsws.md (tests/data/lwsws) starts and
    does what the README says."""
    p = kited_harness.free_port()
    with snippet(r, "01-global.conf", p) as k:
        res = get(p, "/")
        r.eq((res.status, res.header("Server")), (200, "myserver v1"),
             "01 global: served, with its server-string")
        if os.geteuid() == 0:
            r.eq(kited_harness.proc_status(k.pid, "Uid")[0], str(pwd.getpwnam("nobody").pw_uid),
                 "01 global: runs as username nobody")
    p = kited_harness.free_port()
    with snippet(r, "02-tls-vhost.conf", p):
        r.eq(https_get(p)[0], 200, "02 TLS vhost on interface lo: https served")
    p = kited_harness.free_port()
    with snippet(r, "03-reject-keywords.conf", p):
        r.eq(get(p, "/", headers=[("User-Agent", "a scumbot/1")]).status, 404,
             "03 reject-service-keywords: the keyword's status")
        r.eq(get(p, "/").status, 200, "03 reject-service-keywords: others served")
    p = kited_harness.free_port()
    with snippet(r, "04-redirect-vhost.conf", p):
        res = get(p, "/anything")
        r.eq((res.status, res.header("Location")), (301, "https://localhost"),
             "04 the plain vhost forces https://localhost (the origin alone)")
    p = kited_harness.free_port()
    with snippet(r, "05-ws-protocols.conf", p) as k:
        r.ok("warmcat-timezoom" in k.stderr() and "is not loaded" in k.stderr(),
             "05 ws-protocols: an unloaded protocol is a warning", k.stderr())
        ws = kitews.WsConn(p, protocols=None)
        try:
            ws.handshake()
            op, data, _ = ws.recv_message(timeout=5)
            r.ok(data.isdigit(), "05 \"default\": \"1\": a client naming no protocol gets "
                 "dumb-increment", repr(data))
        finally:
            ws.close()
    p = kited_harness.free_port()
    files = {"cgi-bin/cgit": "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\n"
                             "echo \"$PATH_INFO $CGIT_CONFIG\"\n",
             "www/a.zip": "zip", "www/README": "no suffix"}
    k = snippet(r, "06-mounts.conf", p, files)
    os.chmod(k.path("cgi-bin/cgit"), 0o755)
    with k:
        res = get(p, "/page.txt")
        r.eq(res.header("Cache-Control"), "public, max-age=60, must-revalidate",
             "06 cache policy of the mount")
        r.eq(get(p, "/a.zip").header("Content-Type"), "application/zip", "06 extra-mimetypes")
        r.eq(get(p, "/README").status, 403, "06 a file of no known type is not served")
        res = get(p, "/public/README")
        r.eq((res.status, res.header("Content-Type")), (200, None),
             "06 \"*\": \"\": served without Content-Type")
        res = get(p, "/git/myrepo")
        r.eq((res.status, res.body), (200, b"/myrepo /etc/cgitrc/libwebsockets.org\n"),
             "06 cgi:// naming the cgit program: /git/myrepo passes myrepo, with cgi-env")
        r.eq(get(p, "/formtest").status, 200, "06 callback://protocol-post-demo")
        res = get(p, "/old")
        r.eq((res.status, res.header("Location")), (301, "https://warmcat.com"),
             "06 exact-match redirect")
        r.eq(get(p, "/old/x").status, 404, "06 exact-match: nothing below it")
    p = kited_harness.free_port()
    k = snippet(r, "07-basic-auth.conf", p, {"balogins-private": "testuser:testpass\n"})
    with k:
        r.eq(get(p, "/basic-auth/page.txt").status, 401, "07 basic-auth: a password is needed")
        cred = "Basic " + base64.b64encode(b"testuser:testpass").decode()
        r.eq(get(p, "/basic-auth/page.txt", headers=[("Authorization", cred)]).status, 200,
             "07 basic-auth: testuser gets in")
        res = get(p, "/balogins-private")
        r.ok(res.status == 403 and b"testpass" not in res.body,
             "07 the suffix-less credentials file is not served", repr(res))
    p = kited_harness.free_port()
    with snippet(r, "08-listen-accept.conf", p, {}):
        with Conn(p) as c:
            c.send(b"hello raw\n")
            deadline = time.monotonic() + 5
            while len(c.buf) < 10 and c._fill(deadline):
                pass
            r.eq(bytes(c.buf), b"hello raw\n", "08 apply-listen-accept: raw-test echoes")
    p = kited_harness.free_port()
    with snippet(r, "09-allow-non-tls.conf", p):
        r.eq(https_get(p)[0], 200, "09 https served")
        res = get(p, "/page.txt")
        r.eq((res.status, (res.header("Location") or "").startswith("https://")), (301, True),
             "09 plain http on the https port: redirected to https")
    p = kited_harness.free_port()
    with snippet(r, "10-headers.conf", p):
        res = get(p, "/")
        r.eq((res.header("X-Frame-Options"), res.header("Content-Security-Policy")),
             ("SAMEORIGIN", "script-src 'self'"), "10 the recommended headers are sent")
    p = kited_harness.free_port()
    with snippet(r, "11-server-status.conf", p) as k:
        r.ok("lws-server-status" in k.stderr(), "11 server-status: starts (the protocol is "
             "reported when not loaded)", k.stderr())
        r.eq(get(p, "/server-status/").status, 200, "11 its page mount serves")
    p = kited_harness.free_port()
    k = snippet(r, "12-plugin-dir.conf", p)
    k.plugin_args = []
    with k:
        ws = kitews.connect(p, ["dumb-increment-protocol"])
        try:
            r.ok(ws.recv_message(timeout=5)[1].isdigit(), "12 plugin-dir: its protocol serves")
        finally:
            ws.close()


def main():
    tests = [t_mount_keys, t_types, t_redirects, t_keepalive_mount, t_cgi_program, t_ws_need_protocol,
             t_listen_accept, t_report, t_disk, t_interface_names, t_readme_snippets,
             t_example]
    kited_harness.run_recorded(tests)


if __name__ == "__main__":
    main()
