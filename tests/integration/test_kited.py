#!/usr/bin/python3
"""kited end to end: every config directive takes effect (a request shows
it), and kited's command line (--check-config, a port in use, -D -p, an
lwsws config unchanged).

usage: test_kited.py KITED PLUGIN_DIR

Each test writes its own lwsws-style config directory (conf and/or
conf.d/*, with # comments and numbers as strings here and there), starts
its own kited on ephemeral ports and stops it with SIGTERM (exit 0 and
no sanitizer report are checked). The tests run in parallel threads;
their checks are recorded and printed in TAP in a fixed order at the
end, so the numbering does not depend on timing.
"""
import base64
import concurrent.futures
import grp
import os
import pwd
import re
import resource
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kitetest  # noqa: E402
import kited_harness  # noqa: E402
import kitews  # noqa: E402
from kitetest import Conn, build_request, request  # noqa: E402

if len(sys.argv) < 3:
    sys.stderr.write("usage: %s KITED PLUGIN_DIR\n" % sys.argv[0])
    sys.exit(2)
KITED = os.path.abspath(sys.argv[1])
PLUGINS = os.path.abspath(sys.argv[2])
HERE = os.path.dirname(os.path.abspath(__file__))
README_KITED = os.path.join(HERE, "..", "..", "READMEs", "README.kited.md")
IS_ROOT = os.geteuid() == 0


from kited_harness import (INDEX, STOP_TIMEOUT, Kited, Rec, closed_after, free_port, get,  # noqa: E402,F401
                           make_world_readable, one_vhost_conf, proc_status, vhost_json)

kited_harness.KITED = KITED
kited_harness.PLUGINS = PLUGINS


def tasks(pid):
    return len(os.listdir("/proc/%d/task" % pid))


# ---------------------------------------------------------------- global

def t_server_string(r, plain):
    conf = one_vhost_conf('"server-string": "kite-it/1.0 (test)",  # comment\n'
                          '    "init-ssl": "yes"')
    with Kited(r, "server-string", {"conf": conf}) as k:
        res = get(k.ports["localhost"])
        r.eq(res.status, 200, "server-string: the index is served (init-ssl accepted)")
        r.eq(res.header("Server"), "kite-it/1.0 (test)", "server-string: the Server header")
    with Kited(r, "server-string-empty", {"conf": one_vhost_conf('"server-string": ""')}) as k:
        res = get(k.ports["localhost"])
        r.ok(res.status == 200 and not res.has("Server"),
             'server-string "": no Server header at all', repr(res))
    res = get(plain.ports["localhost"])
    r.ok(res.has("Server") and res.header("Server") != "kite-it/1.0 (test)",
         "without server-string: the default Server header", repr(res))


def t_count_threads(r):
    with Kited(r, "threads-1", {"conf": one_vhost_conf('"count-threads": 1')}) as k1, \
            Kited(r, "threads-4", {"conf": one_vhost_conf('"count-threads": "4"')}) as k4:
        # the service threads may still be starting when "serving" is logged
        wait_for(lambda: tasks(k4.pid) - tasks(k1.pid) >= 3, 10)
        n1, n4 = tasks(k1.pid), tasks(k4.pid)
        r.ok(n4 - n1 >= 3, "count-threads 4: three more threads than with 1 (%d vs %d)" % (n4, n1))
        ok = all(get(k4.ports["localhost"]).status == 200 for _ in range(8))
        r.ok(ok, "count-threads 4: serves")


def t_timeout_secs(r, plain):
    with Kited(r, "timeout-secs", {"conf": one_vhost_conf('"timeout-secs": "1"')}) as k:
        with Conn(k.ports["localhost"]) as c:
            c.send("GET / HTTP/1.1\r\nHost: local")  # never finished
            dt = closed_after(c, 8)
            r.ok(dt is not None and dt >= 0.7,
                 "timeout-secs 1: an unfinished request head is cut after ~1 s (%s)" % dt)
        with Conn(k.ports["localhost"]) as c:
            try:
                c.send_slowly("GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: slow\r\n",
                              step=2, delay=0.1)
            except OSError:  # cut while sending: what is checked
                c.eof = True
            # ~2.5 s of trickling: past the 1 s allowed for the whole head
            dt = closed_after(c, 8)
            r.ok(c.eof and dt is not None, "timeout-secs 1: a head sent slowly is cut too")
    with Conn(plain.ports["localhost"]) as c:
        c.send("GET / HTTP/1.1\r\nHost: local")
        r.ok(c.no_data_for(3.0), "default timeout-secs (10): the same head is still open after 3 s")


def t_pingpong(r, plain):
    conf = one_vhost_conf('"ws-pingpong-secs": "1"', '\n  "ws-protocols": [{ "echo": {} }],')
    with Kited(r, "pingpong", {"conf": conf}) as k:
        with kitews.connect(k.ports["localhost"], ["echo"]) as ws:
            t0 = time.monotonic()
            f = ws.recv_frame(timeout=8)
            dt = time.monotonic() - t0
            r.ok(f.op == kitews.OP_PING, "ws-pingpong-secs 1: an idle websocket gets a PING (%.1f s)"
                 % dt, repr(f))
            r.ok(dt < 6.0, "ws-pingpong-secs 1: within a few seconds")
            ws.send_frame(kitews.OP_PONG, f.payload)
            ws.send_text("still here")
            op, data, _ = ws.recv_message(timeout=5)
            r.eq(data, b"still here", "ws-pingpong-secs: after the PONG the websocket works")
    with kitews.connect(plain.ports["localhost"], ["echo"]) as ws:
        r.ok(ws.c.no_data_for(2.5), "default ws-pingpong-secs (0): no PING in 2.5 s")


def t_reject(r):
    conf = one_vhost_conf('"reject-service-keywords": [{ "badbot": "404" }, '
                          '{ "scumbot": "403" }]')
    with Kited(r, "reject", {"conf": conf}) as k:
        p = k.ports["localhost"]
        r.eq(get(p, headers={"User-Agent": "Mozilla/5.0 (badbot 1.0)"}).status, 404,
             "reject-service-keywords: a User-Agent with badbot gets 404")
        r.eq(get(p, headers={"User-Agent": "xx-scumbot-xx"}).status, 403,
             "reject-service-keywords: a User-Agent with scumbot gets 403")
        res = get(p, headers={"User-Agent": "curl/8.0"})
        r.ok(res.status == 200 and res.body == INDEX,
             "reject-service-keywords: other User-Agents get the page", repr(res))


def t_ip_limit_wsi(r):
    conf = one_vhost_conf('"ip-limit-wsi": "2"')
    with Kited(r, "ip-limit-wsi", {"conf": conf}) as k:
        p = k.ports["localhost"]
        held = []
        try:
            for i in range(2):
                c = Conn(p)
                c.send(build_request("GET", "/"))
                res = c.read_response()
                held.append(c)
            r.ok(len(held) == 2 and res.status == 200, "ip-limit-wsi 2: two connections served")
            c3 = Conn(p)
            try:
                c3.send(build_request("GET", "/"))
            except OSError:
                pass
            got = None
            try:
                got = c3.read_response()
            except (EOFError, OSError, kitetest.ProtocolError):
                pass
            c3.close()
            r.ok(got is None or got.status >= 500,
                 "ip-limit-wsi 2: the third concurrent connection is closed", repr(got))
            held.pop().close()
            time.sleep(0.3)
            res = None
            for _ in range(20):
                try:
                    res = get(p)
                    break
                except (EOFError, OSError):
                    time.sleep(0.2)
            r.ok(res is not None and res.status == 200,
                 "ip-limit-wsi 2: after one closes, a new connection is served")
        finally:
            for c in held:
                c.close()


def t_ip_limit_ah(r):
    conf = one_vhost_conf('"ip-limit-ah": 1')
    with Kited(r, "ip-limit-ah", {"conf": conf}) as k:
        p = k.ports["localhost"]
        with Conn(p) as a:
            a.send("GET /page.txt HTTP/1.1\r\nHost: localhost\r\n")  # a head in progress
            time.sleep(0.5)
            res = get(p)
            r.eq(res.status, 503, "ip-limit-ah 1: a second request head at once gets 503")
            a.send("\r\n")
            res = a.read_response()
            r.eq(res.status, 200, "ip-limit-ah 1: the first one is answered")
            time.sleep(0.2)
            r.eq(get(p).status, 200, "ip-limit-ah 1: once it is done, the next one is served")


def t_rlimit(r):
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    want = 4321 if hard == resource.RLIM_INFINITY or hard >= 4321 else hard
    conf = one_vhost_conf('"rlimit-nofile": "%d"  # raised at startup\n' % want)
    with Kited(r, "rlimit-nofile", {"conf": conf}) as k:
        with open("/proc/%d/limits" % k.pid) as f:
            line = [ln for ln in f if ln.startswith("Max open files")]
        vals = line[0].split()[3:5] if line else []
        r.eq(vals, [str(want), str(want)], "rlimit-nofile %d: /proc/PID/limits shows it" % want)


def t_privileges(r):
    if not IS_ROOT:
        r.skip("uid/gid: kited switches to the numeric ids", "not root")
        r.skip("username/groupname: kited switches to nobody", "not root")
        return
    nobody = pwd.getpwnam("nobody")
    try:
        gname = grp.getgrgid(nobody.pw_gid).gr_name
    except KeyError:
        gname = None
    k = Kited(r, "uid-gid", {"conf": one_vhost_conf('"uid": "%d", "gid": %d' %
                                                    (nobody.pw_uid, nobody.pw_gid))})
    make_world_readable(k.dir)
    with k:
        uid = proc_status(k.pid, "Uid")
        gid = proc_status(k.pid, "Gid")
        r.eq(uid, [str(nobody.pw_uid)] * 4, "uid: every uid of the process is %d" % nobody.pw_uid)
        r.eq(gid, [str(nobody.pw_gid)] * 4, "gid: every gid of the process is %d" % nobody.pw_gid)
        r.eq(get(k.ports["localhost"]).body, INDEX, "uid/gid: serves after the switch")
    g = '"username": "nobody"' + (', "groupname": "%s"' % gname if gname else "")
    k = Kited(r, "username", {"conf": one_vhost_conf(g)})
    make_world_readable(k.dir)
    with k:
        r.eq(proc_status(k.pid, "Uid"), [str(nobody.pw_uid)] * 4,
             "username nobody: the Uid line is nobody's")
        if gname:
            r.eq(proc_status(k.pid, "Gid"), [str(nobody.pw_gid)] * 4,
                 "groupname %s: the Gid line is its gid" % gname)
            groups = proc_status(k.pid, "Groups")
            r.ok(groups is not None and set(groups) <= {str(nobody.pw_gid)},
                 "username: supplementary groups are reset (root's are gone)", repr(groups))
        res = get(k.ports["localhost"])
        r.ok(res.status == 200 and res.body == INDEX, "username nobody: serves the world-readable "
             "docroot", repr(res))


def t_plugin_dirs(r):
    k = Kited(r, "plugin-dir", plugin_args=[])
    for d, so in (("plugins-a", "protocol-echo.so"), ("plugins-b", "protocol-dumb-increment.so")):
        os.makedirs(k.path(d))
        shutil.copy(os.path.join(PLUGINS, so), k.path(d))
    k.put("conf", '{\n  "global": {\n    "plugin-dir": "plugins-a",  # relative to conf\n'
          '    "plugin-dir": "@DIR@/plugins-b"\n  },\n  "vhosts": [ %s ]\n}\n' %
          vhost_json("localhost", 0, '\n  "ws-protocols": [{ "echo": {} }, '
                     '{ "dumb-increment-protocol": {} }],'))
    with k:
        p = k.ports["localhost"]
        with kitews.connect(p, ["echo"]) as ws:
            ws.send_text("from dir a")
            r.eq(ws.recv_message(timeout=5)[1], b"from dir a",
                 "plugin-dir twice: echo (first dir) serves")
        with kitews.connect(p, ["dumb-increment-protocol"]) as ws:
            op, data, _ = ws.recv_message(timeout=5)
            r.ok(re.fullmatch(rb"\d+", data), "plugin-dir twice: dumb-increment (second dir) "
                 "serves", repr(data))
    k = Kited(r, "plugin-dir-one", plugin_args=[])
    os.makedirs(k.path("plugins-a"))
    shutil.copy(os.path.join(PLUGINS, "protocol-echo.so"), k.path("plugins-a"))
    k.put("conf", '{ "global": { "plugin-dir": "plugins-a" }, "vhosts": [ %s ] }\n' %
          vhost_json("localhost", 0, '"ws-protocols": [{ "dumb-increment-protocol": {} }],'))
    rc, err = k.check()
    r.ok(rc == 0 and 'protocol "dumb-increment-protocol" is not loaded, the vhost runs '
         'without it (loaded: echo)' in err,
         "plugin-dir: with only the first dir, dumb-increment is not loaded (a warning, as "
         "lws ignores it)", err)
    shutil.rmtree(k.dir, ignore_errors=True)


# ---------------------------------------------------------------- vhost

def t_vhosts_by_host(r):
    port = free_port()
    files = {"conf.d/10-a": '{ "vhosts": [ %s ] }' % vhost_json("a.test", '"%d"' % port,
                                                                mounts='[{ "mountpoint": "/", '
                                                                '"origin": "file://../wa", '
                                                                '"default": "i.html" }]'),
             "conf.d/20-b": '# b and c share the port\n{ "vhosts": [ %s, %s ] }' % (
                 vhost_json("b.test", port, mounts='[{ "mountpoint": "/", "origin": '
                            '"file://../wb", "default": "i.html" }]'),
                 vhost_json("c.test", port, mounts='[{ "mountpoint": "/", "origin": '
                            '"file://../wc", "default": "i.html" }]')),
             "conf.d/30-any": '{ "vhosts": [{ "name": "any", "port": 0, '
                              '"mounts": [{ "mountpoint": "/", "origin": "file://../wa", '
                              '"default": "i.html" }] }] }',
             "conf": '{ "vhosts": [ %s ] }' % vhost_json(
                 "strict.test", 0, ' "strict-host-check": "on",'),
             "wa/i.html": "vhost A\n", "wb/i.html": "vhost B\n", "wc/i.html": "vhost C\n"}
    with Kited(r, "vhosts", files) as k:
        ifaces = dict((n, i) for n, i, _ in k.listening)
        r.eq(k.ports.get("a.test"), port, "port: a.test listens on the port given (a string)")
        r.eq(k.ports.get("c.test"), port, "port: c.test shares it")
        for host, body in (("a.test", b"vhost A\n"), ("b.test", b"vhost B\n"),
                           ("c.test:%d" % port, b"vhost C\n"), ("other.test", b"vhost A\n")):
            r.eq(get(port, host=host).body, body, "name: Host %s gets %r" % (host, body))
        r.eq(ifaces.get("a.test"), "127.0.0.1", "interface: logged as 127.0.0.1")
        try:
            get(port, addr="127.0.0.2", timeout=2)
            refused = False
        except OSError:
            refused = True
        r.ok(refused, "interface 127.0.0.1: not reachable on 127.0.0.2")
        r.eq(get(k.ports["any"], addr="127.0.0.2").body, b"vhost A\n",
             "no interface: reachable on 127.0.0.2 too")
        sp = k.ports["strict.test"]
        r.eq(get(sp, host="strict.test").status, 200, "strict-host-check: its own name: 200")
        r.eq(get(sp, host="strict.test:%d" % sp).status, 200,
             "strict-host-check: its own name with the port: 200")
        r.eq(get(sp, host="nobody.test").status, 400, "strict-host-check: another name: 400")
        r.eq(get(port, host="nobody.test").status, 200, "without strict-host-check: 200")


def t_unix_socket(r):
    files = {"conf": '{ "vhosts": [{ "name": "unix", "unix-socket": 1, "interface": '
                     '"kite.sock", %s "port": 0,\n  "mounts": [{ "mountpoint": "/", '
                     '"origin": "file://www", "default": "index.html" }] }] }'
                     % ('"unix-socket-perms": "nobody:nogroup",' if IS_ROOT else "")}
    with Kited(r, "unix-socket", files) as k:
        sock = k.path("kite.sock")
        r.ok(stat.S_ISSOCK(os.stat(sock).st_mode), "unix-socket: the socket exists at interface (relative to the conf dir)")
        res = request(None, unix=sock)
        r.ok(res.status == 200 and res.body == INDEX, "unix-socket: HTTP over AF_UNIX", repr(res))
        if IS_ROOT:
            st = os.stat(sock)
            try:
                want = (pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid)
            except KeyError:
                want = None
            if want:
                r.eq((st.st_uid, st.st_gid), want, "unix-socket-perms nobody:nogroup: the owner")
            else:
                r.skip("unix-socket-perms", "no nobody:nogroup here")
        else:
            r.skip("unix-socket-perms: the socket's owner", "not root")


def t_keepalive(r):
    files = {"conf": '{ "vhosts": [ %s, %s ] }' % (
        vhost_json("short", 0, ' "keepalive_timeout": "1",'),
        vhost_json("long", 0, ' "keepalive_timeout": 30,'))}
    with Kited(r, "keepalive", files) as k:
        with Conn(k.ports["short"]) as c:
            c.send(build_request("GET", "/"))
            r.eq(c.read_response().status, 200, "keepalive_timeout 1: a request")
            dt = closed_after(c, 8)
            r.ok(dt is not None and dt >= 0.7,
                 "keepalive_timeout 1: the idle connection is closed after ~1 s (%s)" % dt)
        with Conn(k.ports["long"]) as c:
            c.send(build_request("GET", "/"))
            c.read_response()
            r.ok(c.no_data_for(3.0), "keepalive_timeout 30: still open after 3 s")
            c.send(build_request("GET", "/page.txt"))
            r.eq(c.read_response().body, b"a page\n", "keepalive_timeout 30: and serves again")


def t_headers_404(r):
    files = {"conf": '{ "vhosts": [ %s, %s ] }' % (
        vhost_json("hdrs", 0, '\n  "headers": [{ "X-Kite-Test": "yes" }, '
                   '{ "Content-Security-Policy": "default-src \'none\'" }],\n'
                   '  "error-document-404": "/404.html",'),
        vhost_json("plain", 0))}
    with Kited(r, "headers", files) as k:
        res = get(k.ports["hdrs"])
        r.eq(res.header("X-Kite-Test"), "yes", "headers: X-Kite-Test on a page")
        r.eq(res.header("Content-Security-Policy"), "default-src 'none'",
             "headers: the second one too")
        res = get(k.ports["hdrs"], "/missing")
        r.eq(res.status, 404, "error-document-404: still 404")
        r.eq(res.body, b"<title>kited custom 404</title>\n", "error-document-404: the page's body")
        r.eq(res.header("X-Kite-Test"), "yes", "headers: on the 404 too")
        res = get(k.ports["plain"], "/missing")
        r.ok(res.status == 404 and b"kited custom 404" not in res.body and
             not res.has("X-Kite-Test"), "a vhost without them: neither", repr(res))


def t_ipv6(r):
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
        s.close()
    except OSError:
        r.skip("ipv6only / noipv6", "no IPv6 on this host")
        return

    def reach(port, addr):
        try:
            return get(port, addr=addr, timeout=2).status == 200
        except OSError:
            return False
    files = {"conf": '{ "vhosts": [\n'
                     ' { "name": "six", "port": 0, "ipv6only": "yes", "mounts": [{ "mountpoint": '
                     '"/", "origin": "file://www", "default": "index.html" }] },\n'
                     ' { "name": "four", "port": 0, "noipv6": true, "mounts": [{ "mountpoint": '
                     '"/", "origin": "file://www", "default": "index.html" }] },\n'
                     ' { "name": "off", "port": 0, "ipv6only": "off", "mounts": [{ "mountpoint": '
                     '"/", "origin": "file://www", "default": "index.html" }] },\n'
                     ' { "name": "both", "port": 0, "mounts": [{ "mountpoint": '
                     '"/", "origin": "file://www", "default": "index.html" }] } ] }'}
    with Kited(r, "ipv6", files) as k:
        p6, p4, pb = k.ports["six"], k.ports["four"], k.ports["both"]
        r.ok(reach(k.ports["off"], "127.0.0.1") and not reach(k.ports["off"], "::1"),
             "ipv6only off: IPv4 only (README.lwsws.md)")
        r.ok(reach(p6, "::1"), "ipv6only: reachable on ::1")
        r.ok(not reach(p6, "127.0.0.1"), "ipv6only: not on 127.0.0.1")
        r.ok(reach(p4, "127.0.0.1"), "noipv6: reachable on 127.0.0.1")
        r.ok(not reach(p4, "::1"), "noipv6: not on ::1")
        r.ok(reach(pb, "::1") and reach(pb, "127.0.0.1"), "neither: both ::1 and 127.0.0.1")


def wait_for(fn, secs):
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    return fn()


def read_text(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def t_access_log(r):
    files = {"conf": '{ "vhosts": [ %s ] }' % vhost_json("logged", 0,
                                                          ' "access-log": "logs/access.log",'),
             "logs/.keep": ""}
    with Kited(r, "access-log", files) as k:
        p = k.ports["logged"]
        log = k.path("logs/access.log")
        get(p, "/page.txt?first=1", headers={"User-Agent": "kite-al-test/1", "Referer":
                                             "http://ref.test/"})
        t0 = time.monotonic()
        text = wait_for(lambda: "/page.txt?first=1" in read_text(log) and read_text(log), 8)
        dt = time.monotonic() - t0
        pat = (r'^127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] '
               r'"GET /page\.txt\?first=1 HTTP/1\.1" 200 7 "http://ref\.test/" '
               r'"kite-al-test/1"$')
        r.ok(text and re.search(pat, text, re.M), "access-log: a combined-format line", text)
        r.ok(text and dt < 6, "access-log: written within a few seconds (%.1f s)" % dt)
        os.rename(log, log + ".1")
        k.proc.send_signal(signal.SIGUSR1)
        r.ok(wait_for(lambda: os.path.exists(log), 8), "SIGUSR1: the log is reopened at its path")
        # The file is made by the signal's thread, and each service thread
        # moves to it when its post runs (a request answered just before
        # that still goes to the old file): wait until one has moved.
        moved = None
        for i in range(40):
            get(p, "/page.txt?probe=%d" % i)
            if wait_for(lambda: "probe=%d" % i in read_text(log) + read_text(log + ".1"), 8) \
                    and "probe=%d" % i in read_text(log):
                moved = i
                break
        get(p, "/page.txt?second=1")
        text = wait_for(lambda: "second=1" in read_text(log) and read_text(log), 8)
        r.ok(moved is not None and text and "first=1" not in text,
             "SIGUSR1: the next lines go to the new file", text)
        r.ok("second=1" not in read_text(log + ".1"), "SIGUSR1: and not to the moved one")


def t_ws_protocols(r):
    files = {"conf": '{ "vhosts": [ %s, %s ] }' % (
        vhost_json("ws", 0, '\n  "ws-protocols": [{\n    "echo": { "default": 1 },\n'
                   '    "dumb-increment-protocol": { "options": "1" }  # quiet\n  }],'),
        vhost_json("ws2", 0, '\n  "ws-protocols": [{ "dumb-increment-protocol": {} }, '
                   '{ "lws-mirror-protocol": { "default": "1" } }],'))}
    with Kited(r, "ws-protocols", files) as k:
        p, p2 = k.ports["ws"], k.ports["ws2"]
        with kitews.WsConn(p, protocols=["lws-mirror-protocol"]) as ws:
            res = ws.handshake(expect_101=False)
            r.eq(res.status, 400, "ws-protocols: a loaded but unlisted protocol gets 400")
        with kitews.WsConn(p2, protocols=["echo"]) as ws:
            res = ws.handshake(expect_101=False)
            r.eq(res.status, 400, "ws-protocols: echo is not on the second vhost: 400")
        with kitews.WsConn(p, protocols=None) as ws:
            ws.handshake()
            ws.send_text("to the default")
            r.eq(ws.recv_message(timeout=5)[1], b"to the default",
                 '"default": 1: a websocket asking for no protocol gets echo')
        with kitews.connect(p, ["dumb-increment-protocol"]) as ws:
            r.ok(ws.c.no_data_for(1.5), 'pvo "options": "1": dumb-increment sends nothing')
        with kitews.connect(p2, ["dumb-increment-protocol"]) as ws:
            op, data, _ = ws.recv_message(timeout=5)
            r.ok(re.fullmatch(rb"\d+", data), "without the pvo: dumb-increment counts", repr(data))
        with kitews.WsConn(p2, protocols=None) as ws:
            ws.handshake()
            ws.send_text("to the mirror")
            r.eq(ws.recv_message(timeout=5)[1], b"to the mirror",
                 '"default": "1" on the second vhost: lws-mirror-protocol (it mirrors)')


def t_ws_deflate(r):
    offer = [("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")]
    files = {"conf": '{ "vhosts": [ %s, %s ] }' % (
        vhost_json("z", 0, '\n  "ws-deflate": { "level": 6, "window-bits": 10 },\n'
                   '  "ws-protocols": [{\n    "echo": { "default": 1 },\n'
                   '    "lws-mirror-protocol": { "no-deflate": 1 }\n  }],'),
        vhost_json("plain", 0, '\n  "ws-protocols": [{ "echo": {} }],'))}
    with Kited(r, "ws-deflate", files) as k:
        with kitews.WsConn(k.ports["z"], protocols=["echo"]) as ws:
            res = ws.handshake(extra=offer)
            r.eq(res.header("Sec-WebSocket-Extensions"),
                 "permessage-deflate; server_max_window_bits=10; client_max_window_bits=10",
                 "ws-deflate with window-bits 10: agreed with 10-bit windows")
            ws.rsv1_ok = True
            ws.send_frame(kitews.OP_TEXT, bytes([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]), rsv=4)
            f = ws.recv_frame(timeout=5)
            r.eq((f.rsv, f.payload), (4, bytes([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00])),
                 "ws-deflate: a compressed Hello is echoed compressed")
        with kitews.WsConn(k.ports["z"], protocols=["lws-mirror-protocol"]) as ws:
            res = ws.handshake(extra=offer)
            r.eq(res.header("Sec-WebSocket-Extensions"), None,
                 'pvo "no-deflate": the protocol never agrees')
        with kitews.WsConn(k.ports["plain"], protocols=["echo"]) as ws:
            res = ws.handshake(extra=offer)
            r.eq(res.header("Sec-WebSocket-Extensions"), None, "no ws-deflate: off")


# ---------------------------------------------------------------- mounts

def t_mounts(r):
    absdir = tempfile.mkdtemp(prefix="kited-it-abs-")
    with open(os.path.join(absdir, "abs.txt"), "wb") as f:
        f.write(b"from the absolute docroot\n")
    with open(os.path.join(absdir, "start.html"), "wb") as f:
        f.write(b"abs start\n")
    mounts = """[
    { "mountpoint": "/", "origin": "file://www", "default": "index.html" },  # relative
    { "mountpoint": "/abs", "origin": "file://%s", "default": "start.html" },
    { "mountpoint": "/plain", "origin": "www/sub", "default": "start.html" },
    { "mountpoint": "/formtest", "origin": "callback://protocol-post-demo" },
    { "mountpoint": "/t", "origin": "callback://http-test" },
    { "mountpoint": "/p", "origin": "callback://named-by-protocol", "protocol": "http-test" },
    { "mountpoint": "/go", "origin": ">http://example.test/there" },
    { "mountpoint": "/gos", "origin": ">https://secure.test/x/" },
    { "mountpoint": "/c1", "origin": "file://www", "cache-max-age": "60", "cache-reuse": 1,
      "cache-intermediaries": "yes" },
    { "mountpoint": "/c2", "origin": "file://www", "cache-max-age": 30,
      "cache-revalidate": "on" },
    { "mountpoint": "/c3", "origin": "file://www", "cache-revalidate": true },
    { "mountpoint": "/mime", "origin": "file://www",
      "extra-mimetypes": { ".zork": "application/x-zork" } },
    { "mountpoint": "/interp", "origin": "file://www", "interpret": { ".kph": "http-test" } },
    { "mountpoint": "/auth", "origin": "file://www", "basic-auth": "users.txt" },
    { "mountpoint": "/authm", "origin": "file://www", "basic-auth": "@DIR@/users.txt",
      "auth-mask": "2" }
  ]""" % absdir
    # pmo: no plugin of plugins/ reads per-mount options (kite_http_mount_option()),
    # so no request can show them here; tests/embed/test-http-auth.c covers pmo.
    files = {"conf": '{ "vhosts": [ %s ] }' % vhost_json("m", 0, mounts=mounts),
             "users.txt": "# user:password[:mask]\nalice:s3cret\nbob:pw2:0x3\ncarol:pw3:1\n"}
    try:
        with Kited(r, "mounts", files) as k:
            p = k.ports["m"]
            r.eq(get(p).body, INDEX, "mount / file://www (relative): the default index")
            r.eq(get(p, "/abs/abs.txt").body, b"from the absolute docroot\n",
                 "origin file:///abs: a file")
            r.eq(get(p, "/abs/").body, b"abs start\n", "default start.html: the index of /abs/")
            r.eq(get(p, "/plain/").body, b"start page of sub\n", "origin as a plain relative path")
            res = get(p, "/sub/")
            r.ok(res.status in (403, 404) and res.body != b"start page of sub\n",
                 "the same dir under a mount with default index.html: no index", repr(res))
            res = get(p, "/formtest")
            r.ok(res.status == 200 and b"kite post demo" in res.body,
                 "callback://protocol-post-demo: its form at /formtest", repr(res))
            res = request(p, "POST", "/formtest", headers={"Content-Type":
                                                           "application/x-www-form-urlencoded"},
                          body="text=kited+form")
            r.ok(res.status == 200 and b"kited form" in res.body,
                 "callback://protocol-post-demo: a posted form is shown back", repr(res))
            r.eq(get(p, "/t/hello").body, b"hello\n", "callback://http-test: /t/hello")
            r.eq(get(p, "/p/hello").body, b"hello\n", "protocol http-test names the mount's protocol")
            res = get(p, "/go")
            r.eq((res.status, res.header("Location")), (301, "http://example.test/there"),
                 ">http:// redirect: 301 and Location")
            res = get(p, "/gos")
            r.ok(res.status == 301 and (res.header("Location") or "").startswith(
                "https://secure.test/x"), ">https:// redirect: 301 and Location", repr(res))
            r.eq(get(p, "/c1/page.txt").header("Cache-Control"), "public, max-age=60",
                 "cache-max-age 60 + cache-reuse + cache-intermediaries")
            r.eq(get(p, "/c2/page.txt").header("Cache-Control"), "private, max-age=30, "
                 "must-revalidate", "cache-max-age 30 + cache-revalidate")
            r.eq(get(p, "/c3/page.txt").header("Cache-Control"), "no-cache",
                 "cache-revalidate alone: no-cache")
            r.eq(get(p, "/page.txt").header("Cache-Control"), "no-store",
                 "no cache keys: no-store (lwsws)")
            r.eq(get(p, "/mime/thing.zork").header("Content-Type"), "application/x-zork",
                 "extra-mimetypes: .zork")
            r.ok(get(p, "/thing.zork").header("Content-Type") != "application/x-zork",
                 "extra-mimetypes: only on its mount")
            res = get(p, "/interp/page.kph")
            plain = get(p, "/page.kph")
            r.eq(plain.status, 403, "interpret: elsewhere the file is not served (no known "
                 "type, lwsws)")
            r.ok(b"KPH-FILE-BYTES" not in res.body and b"no such test endpoint" in res.body,
                 "interpret .kph: http-test answers instead of the file being sent", repr(res))
            r.eq(get(p, "/interp/page.txt").body, b"a page\n", "interpret: other suffixes are sent")

            def auth(user, pw):
                return {"Authorization": "Basic " +
                        base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()}
            res = get(p, "/auth/page.txt")
            r.ok(res.status == 401 and "Basic" in (res.header("WWW-Authenticate") or ""),
                 "basic-auth: 401 with a Basic challenge without credentials", repr(res))
            r.eq(get(p, "/auth/page.txt", headers=auth("alice", "wrong")).status, 401,
                 "basic-auth: a wrong password: 401")
            res = get(p, "/auth/page.txt", headers=auth("alice", "s3cret"))
            r.eq((res.status, res.body), (200, b"a page\n"), "basic-auth: the right one: 200")
            r.eq(get(p, "/authm/page.txt", headers=auth("carol", "pw3")).status, 403,
                 "auth-mask 2: a user with mask 1: 403")
            r.eq(get(p, "/authm/page.txt", headers=auth("bob", "pw2")).status, 200,
                 "auth-mask 2: a user with mask 3: 200")
            r.eq(get(p, "/authm/page.txt").status, 401, "auth-mask: no credentials: 401")
    finally:
        shutil.rmtree(absdir, ignore_errors=True)


CGI_ENV_SH = """#!/bin/sh
printf 'Content-Type: text/plain\\n\\n'
echo "APP_MODE=$APP_MODE"
echo "SCRIPT_NAME=$SCRIPT_NAME"
echo "PATH_INFO=$PATH_INFO"
echo "PWD=$(pwd)"
"""
CGI_PERL = """print "Content-Type: text/plain\\n\\n";
print "perl says $ENV{QUERY_STRING}\\n";
"""


def t_cgi(r):
    """cgi:// mount with cgi-env, and cgi-pattern + cgi-interpreter under a file mount."""
    mounts = """[
    { "mountpoint": "/", "origin": "file://www", "default": "index.html",
      "cgi-pattern": "**.pl$", "cgi-interpreter": "/usr/bin/perl" },
    { "mountpoint": "/cgi-bin", "origin": "cgi://cgi", "cgi-timeout": "2",
      "cgi-env": [{ "APP_MODE": "kited-test" }] },
    { "mountpoint": "/bad", "origin": "file://www", "cgi-pattern": "**.pl$",
      "cgi-interpreter": "/nonexistent/interpreter" },
    { "mountpoint": "/cgi-auth", "origin": "cgi://cgi", "basic-auth": "users.txt" }
  ]"""
    k = Kited(r, "cgi", {"conf": '{ "vhosts": [ %s ] }' % vhost_json("cg", 0, mounts=mounts),
                         "cgi/env.sh": CGI_ENV_SH, "www/hello.pl": CGI_PERL,
                         "cgi/sleep.sh": "#!/bin/sh\nsleep 30\n",
                         "cgi/who.sh": "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\n"
                                       "echo \"$AUTH_TYPE $REMOTE_USER $HTTP_AUTHORIZATION\"\n",
                         "cgi/slow.sh": "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\n"
                                        "echo start\nsleep 1\necho end\n",
                         "users.txt": "alice:s3cret\n"})
    for rel in ("cgi/env.sh", "cgi/sleep.sh", "cgi/who.sh", "cgi/slow.sh"):
        os.chmod(k.path(rel), 0o755)
    with k:
        p = k.ports["cg"]
        res = get(p, "/cgi-bin/env.sh/x/y")
        r.eq((res.status, res.body.decode()),
             (200, "APP_MODE=kited-test\nSCRIPT_NAME=/cgi-bin/env.sh\nPATH_INFO=/x/y\n"
              "PWD=%s\n" % os.path.realpath(k.path("cgi"))),
             "cgi:// mount: cgi-env, SCRIPT_NAME, PATH_INFO, working directory")
        res = get(p, "/hello.pl?q=1")
        r.eq((res.status, res.body), (200, b"perl says q=1\n"),
             "cgi-pattern **.pl$ with cgi-interpreter perl: the script runs")
        r.eq(get(p, "/page.txt").body, b"a page\n", "cgi-pattern: other files are sent")
        r.eq(get(p, "/bad/hello.pl").status, 500, "a missing cgi-interpreter: 500")
        t0 = time.monotonic()
        res = get(p, "/cgi-bin/sleep.sh", timeout=20)
        r.ok(res.status == 504 and time.monotonic() - t0 < 10,
             "cgi-timeout 2: a sleeping script is killed, 504", repr(res))
        r.eq(get(p, "/cgi-bin/none.sh").status, 404, "a missing script: 404")
        cred = {"Authorization": "Basic " + base64.b64encode(b"alice:s3cret").decode()}
        r.eq(get(p, "/cgi-auth/who.sh", headers=cred).body, b"Basic alice \n",
             "after basic-auth: AUTH_TYPE and REMOTE_USER, no HTTP_AUTHORIZATION")
        r.eq(get(p, "/cgi-auth/who.sh").status, 401, "basic-auth in front of a cgi:// mount")
        err = k.stderr()
        r.ok("/nonexistent/interpreter" in err and "hello.pl" in err,
             "the missing interpreter is logged with the script", err[-2000:])
        # SIGTERM while a script runs: the drain lets it finish its answer.
        with concurrent.futures.ThreadPoolExecutor(1) as ex:
            fut = ex.submit(get, p, "/cgi-bin/slow.sh", timeout=20)
            time.sleep(0.4)
            k.stop()
            res = fut.result()
        r.eq((res.status, res.body), (200, b"start\nend\n"),
             "SIGTERM drain: a running script finishes its response")


def t_refused(r):
    def check(what, conf, pat, extra=None):
        k = Kited(r, what, dict({"conf": conf}, **(extra or {})))
        rc, err = k.check()
        r.ok(rc == 1 and re.search(pat, err), "%s: --check-config refuses it, saying so" % what,
             "rc %s\n%s" % (rc, err))
        shutil.rmtree(k.dir, ignore_errors=True)
    check("proxy without a host", one_vhost_conf(mounts='[{ "mountpoint": "/px", "origin": '
                                                        '"http:///x" }]'),
          r"vhosts\[0\]\.mounts\[0\]\.origin: reverse proxy origin needs a host")
    # TLS keys that make no sense without a certificate and its key (TLS
    # itself is tested in test_tls_kited.py).
    for key, val, why in (("host-ssl-key", '"x.pem"', "needs host-ssl-cert too"),
                          ("host-ssl-cert", '"x.pem"', "needs host-ssl-key too"),
                          ("host-ssl-ca", '"x.pem"', "needs host-ssl-cert and host-ssl-key"),
                          ("ciphers", '"HIGH"', "needs host-ssl-cert and host-ssl-key"),
                          ("client-cert-required", '"1"', "needs host-ssl-cert and host-ssl-key"),
                          ("allow-non-tls", "true", "needs host-ssl-cert and host-ssl-key"),
                          ("sts", "1", "needs host-ssl-cert and host-ssl-key")):
        check(key, one_vhost_conf(extra=' "%s": %s,' % (key, val)),
              r"conf:\d+: vhosts\[0\]\.%s: %s" % (key, why), {"x.pem": "x"})
    k = Kited(r, "redirect-http", {"conf": one_vhost_conf(extra=' "redirect-http": "yes",')})
    rc, err = k.check()
    r.ok(rc == 0 and "config OK" in err,
         "redirect-http on a plain vhost is accepted (it redirects to https)", err)
    shutil.rmtree(k.dir, ignore_errors=True)
    k = Kited(r, "tls-off", {"conf": one_vhost_conf(
        extra=' "sts": "0", "redirect-http": false, "allow-non-tls": "off",')})
    rc, err = k.check()
    r.ok(rc == 0 and "config OK" in err, "TLS booleans turned off are accepted", err)
    shutil.rmtree(k.dir, ignore_errors=True)


def t_global_limits(r):
    conf = ('{\n  "global": {\n    "keepalive_timeout": "1",  # for vhosts without their own\n'
            '    "max-header-size": 1024,\n    "ws-max-message": "1000",\n'
            '    "send-timeout-secs": "1",\n    "max-output": "65536"\n  },\n'
            '  "vhosts": [ %s, %s ]\n}\n' % (
                vhost_json("g", 0, '\n  "ws-protocols": [{ "echo": {} }],',
                           mounts='[{ "mountpoint": "/", "origin": "file://www", '
                           '"default": "index.html" }, { "mountpoint": "/t", '
                           '"origin": "callback://http-test" }]'),
                vhost_json("own", 0, ' "keepalive_timeout": 30,')))
    with Kited(r, "global-limits", {"conf": conf}) as k:
        p = k.ports["g"]
        with Conn(p) as c:
            c.send(build_request("GET", "/"))
            c.read_response()
            dt = closed_after(c, 8)
            r.ok(dt is not None and dt >= 0.7, "global keepalive_timeout 1: an idle keep-alive "
                 "connection is closed after ~1 s (%s)" % dt)
        with Conn(k.ports["own"]) as c:
            c.send(build_request("GET", "/"))
            c.read_response()
            r.ok(c.no_data_for(2.5), "a vhost's own keepalive_timeout wins over the global one")
        r.eq(get(p, headers={"X-Pad": "x" * 600}).status, 200,
             "max-header-size 1024: a 700-byte head passes")
        r.eq(get(p, headers={"X-Pad": "x" * 1500}).status, 431,
             "max-header-size 1024: a 1600-byte head gets 431")
        with kitews.connect(p, ["echo"]) as ws:
            ws.send_text("y" * 900)
            r.eq(len(ws.recv_message(timeout=5)[1]), 900, "ws-max-message 1000: 900 bytes echo")
            ws.send_text("z" * 1100)
            f, _ = ws.read_until_close(timeout=5)
            r.eq(f.close_code if f else None, 1009, "ws-max-message 1000: 1100 bytes: close 1009")
        # send-timeout-secs 1: a peer that reads nothing of a 64 MB response is
        # dropped; reading afterwards finds the end long before 64 MB
        c = Conn(p, rcvbuf=16384)
        try:
            c.send(build_request("GET", "/t/big?bytes=67108864"))
            time.sleep(4.0)
            got = 0
            deadline = time.monotonic() + 20
            try:
                while time.monotonic() < deadline:
                    d = c.sock.recv(1 << 20)
                    if not d:
                        break
                    got += len(d)
            except OSError:
                pass
            r.ok(got < 64 << 20, "send-timeout-secs 1: a peer that does not read is closed "
                 "(%d bytes came)" % got)
        finally:
            c.close()


def t_onlyraw(r):
    files = {"conf": '{ "vhosts": [{ "name": "raw", "port": 0, "interface": "127.0.0.1",\n'
                     '  "onlyraw": "1",  # raw sockets for raw-test\n'
                     '  "ws-protocols": [{ "raw-test": { "raw": "1" } }] }] }'}
    with Kited(r, "onlyraw", files) as k:
        with Conn(k.ports["raw"]) as c:
            c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            want = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
            deadline = time.monotonic() + 5
            while len(c.buf) < len(want) and c._fill(deadline):
                pass
            r.eq(bytes(c.buf), want, "onlyraw: an HTTP request is echoed raw by raw-test, "
                 "not answered")


# ---------------------------------------------------------------- command line

def t_check_config(r):
    k = Kited(r, "check-good", {"conf": one_vhost_conf('"server-string": "x"')})
    rc, err = k.check()
    r.ok(rc == 0 and "config OK" in err, "--check-config: a good dir: exit 0, config OK",
         "rc %s\n%s" % (rc, err))
    shutil.rmtree(k.dir, ignore_errors=True)
    bad = ('# a typo\n{\n  "vhosts": [{\n    "name": "typo",\n    "prot": "7681",\n'
           '    "mounts": [{ "mountpoint": "/", "origin": "file://www" }]\n  }]\n}\n')
    k = Kited(r, "check-bad", {"conf.d/typo.json": bad})
    rc, err = k.check()
    r.eq(rc, 1, "--check-config: a bad dir: exit 1")
    want = 'conf.d/typo.json:5: vhosts[0].prot: unknown key "prot" (did you mean "port"?)'
    r.ok(any(ln.endswith(want) for ln in err.splitlines()),
         "--check-config: the exact file:line: path: reason line", err)
    r.ok("config OK" not in err, "--check-config: no config OK then")
    proc = subprocess.run(k.cmd(), capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    r.ok(proc.returncode == 1 and want in proc.stderr.decode(),
         "startup with that config: exit 1 with the same line", proc.stderr.decode()[-3000:])
    shutil.rmtree(k.dir, ignore_errors=True)


def t_port_in_use(r):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    port = s.getsockname()[1]
    try:
        k = Kited(r, "port-in-use", {"conf": one_vhost_conf(port='"%d"' % port)})
        pat = r'conf:\d+: vhosts\[0\]\.port: .*address already in use'
        for what, extra in (("startup", []), ("--check-config", ["--check-config"])):
            p = subprocess.run(k.cmd(extra), capture_output=True, timeout=60,
                               stdin=subprocess.DEVNULL)
            err = p.stderr.decode("utf-8", "replace")
            r.ok(p.returncode == 1 and re.search(pat, err, re.I),
                 "a port in use, %s: exit 1 and vhosts[0].port: address already in use" % what,
                 "rc %s\n%s" % (p.returncode, err[-3000:]))
        shutil.rmtree(k.dir, ignore_errors=True)
    finally:
        s.close()


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is not alive
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def t_daemon(r):
    port = free_port()
    k = Kited(r, "daemon", {"conf": one_vhost_conf(port=port)})
    pidfile = k.path("run/kited.pid")
    os.makedirs(os.path.dirname(pidfile))
    try:
        t0 = time.monotonic()
        p = subprocess.run(k.cmd(["-D", "-p", pidfile]), capture_output=True, timeout=60,
                           stdin=subprocess.DEVNULL)
        r.eq(p.returncode, 0, "-D: the command returns 0 once serving")
        r.ok(time.monotonic() - t0 < 30, "-D: and returns")
        pid = int(read_text(pidfile).strip() or "0")
        r.ok(pid > 0 and pid_alive(pid), "-p: the pid file holds a live pid (%d)" % pid)
        r.eq(get(port).body, INDEX, "-D: the daemon serves")
        if pid > 0:
            os.kill(pid, signal.SIGTERM)
            gone = wait_for(lambda: not pid_alive(pid), STOP_TIMEOUT)
            r.ok(gone, "-D: the daemon exits after SIGTERM")
            r.ok(wait_for(lambda: not os.path.exists(pidfile), 5),
                 "-p: the pid file is removed at exit")
    finally:
        pid = int(read_text(pidfile).strip() or "0") if os.path.exists(pidfile) else 0
        if pid > 0 and pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(k.dir, ignore_errors=True)


def t_lwsws(r):
    with open(README_KITED) as f:
        text = f.read()
    sec = text.split("## An lwsws configuration, unchanged", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```\n(.*?)```", sec, re.S)
    r.eq(len(blocks), 2, "README.kited.md: two config blocks in the lwsws section")
    conf, vh = blocks[0], blocks[1]
    if not IS_ROOT:
        conf = "".join(ln for ln in conf.splitlines(True)
                       if not re.match(r'\s*"(uid|gid)"', ln))
    port = free_port()
    k = Kited(r, "lwsws", docroot=False)
    www = k.put("www/warmcat/index.html", INDEX)
    vh = vh.replace("/var/www/warmcat.com", os.path.dirname(www)).replace('"7681"',
                                                                          '"%d"' % port)
    k.put("conf", conf)
    k.put("conf.d/warmcat.com", vh)
    make_world_readable(k.dir)
    with k:
        r.eq(k.ports.get("warmcat.com"), port, "lwsws config: vhost warmcat.com on the port")
        res = get(port, host="warmcat.com")
        r.ok(res.status == 200 and res.body == INDEX, "lwsws config: the index is served",
             repr(res))
        r.eq(res.header("Server"), "myserver v1", "lwsws config: its server-string")
        if IS_ROOT:
            r.eq(proc_status(k.pid, "Uid"), ["48"] * 4, "lwsws config: uid 48")
            r.eq(proc_status(k.pid, "Gid"), ["48"] * 4, "lwsws config: gid 48")
        else:
            r.skip("lwsws config: uid/gid 48", "not root")


# ---------------------------------------------------------------- main

def main():
    tap = kitetest.Tap()
    main_rec = Rec("main")
    plain = Kited(main_rec, "defaults", {"conf": one_vhost_conf(
        extra='\n  "ws-protocols": [{ "echo": {} }],')})
    try:
        plain.start()
    except Exception:
        tap.ok(False, "kited with defaults starts", traceback.format_exc())
        tap.done()
    tests = [
        (t_server_string, True), (t_count_threads, False), (t_timeout_secs, True),
        (t_pingpong, True), (t_reject, False), (t_ip_limit_wsi, False),
        (t_ip_limit_ah, False), (t_rlimit, False), (t_privileges, False),
        (t_plugin_dirs, False), (t_vhosts_by_host, False), (t_unix_socket, False),
        (t_keepalive, False), (t_headers_404, False), (t_ipv6, False), (t_access_log, False),
        (t_ws_protocols, False), (t_ws_deflate, False), (t_mounts, False), (t_refused, False), (t_cgi, False),
        (t_global_limits, False), (t_onlyraw, False),
        (t_check_config, False), (t_port_in_use, False), (t_daemon, False), (t_lwsws, False),
    ]
    recs = []

    def run(fn, wants_plain):
        rec = Rec(fn.__name__)
        t0 = time.monotonic()
        try:
            if wants_plain:
                fn(rec, plain)
            else:
                fn(rec)
        except Exception:
            rec.ok(False, "%s ran to the end" % fn.__name__, traceback.format_exc())
        rec.diag("%s: %.1f s" % (fn.__name__, time.monotonic() - t0))
        return rec

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(tests)) as ex:
        futs = [ex.submit(run, fn, wp) for fn, wp in tests]
        recs = [f.result() for f in futs]
    plain.stop()
    for rec in recs:
        rec.replay(tap)
    main_rec.replay(tap)
    tap.done()


if __name__ == "__main__":
    main()
