#!/usr/bin/python3
"""kited with the LibHTTP options (issue 7): each key shown working by a
request, and its refusal (hidden file 404, no listing 403, traversal
through url-rewrite refused, bad values stopping --check-config).

usage: test_libhttp.py KITED PLUGIN_DIR

Reuses test_kited.py's Kited wrapper and recording: tests run in
parallel threads and their checks are printed in TAP in a fixed order.
"""
import hashlib
import itertools
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kited_harness  # noqa: E402
import kitetest  # noqa: E402
import kitews  # noqa: E402
import test_kited  # noqa: E402  (takes KITED PLUGIN_DIR from sys.argv too)
from kitetest import Conn, request  # noqa: E402
from test_kited import Kited, get, one_vhost_conf, vhost_json  # noqa: E402

DATE = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"


def conf_of(extra="", mounts=None):
    return {"conf": one_vhost_conf(extra=extra, mounts=mounts)}


def refused(r, what, conf, pat, extra=None):
    k = Kited(r, what, dict({"conf": conf}, **(extra or {})))
    rc, err = k.check()
    r.ok(rc == 1 and re.search(pat, err), "%s: --check-config refuses it, saying so" % what,
         "rc %s\n%s" % (rc, err))
    shutil.rmtree(k.dir, ignore_errors=True)


def t_listing(r):
    mounts = """[
    { "mountpoint": "/", "origin": "file://www", "directory-listing": "on",
      "hide-files": "*.secret$|hidden$" },
    { "mountpoint": "/nolist", "origin": "file://www/list",
      "extra-mimetypes": { ".secret": "text/plain" } }
  ]"""
    files = {"www/list/b.txt": "bbb", "www/list/a&<b>.txt": "x" * 1234,
             "www/list/sp ace%.txt": "s", "www/list/dir/inner.txt": "in",
             "www/list/x.secret": "SECRET", "www/list/hidden/h.txt": "HIDDEN",
             "www/list/.dot": "DOT"}
    files.update(conf_of(mounts=mounts))
    with Kited(r, "listing", files) as k:
        p = k.ports["localhost"]
        res = get(p, "/list/")
        body = res.body.decode("utf-8", "replace")
        r.ok(res.status == 200 and (res.header("Content-Type") or "").startswith("text/html"),
             "directory-listing: a directory without an index gets an HTML listing", repr(res))
        names = re.findall(r'<a href="([^"]+)">([^<]+)</a>', body)
        r.eq(names, [("../", "Parent directory"), ("dir/", "dir/"),
                     ("a%26%3Cb%3E.txt", "a&amp;&lt;b&gt;.txt"), ("b.txt", "b.txt"),
                     ("sp%20ace%25.txt", "sp ace%.txt")],
             "directory-listing: sorted (directories first), links encoded, names escaped")
        r.ok(re.search(r"a&amp;&lt;b&gt;\.txt</a></td><td>%s</td><td>1234</td>" % DATE, body)
             and re.search(r"dir/</a></td><td>%s</td><td>-</td>" % DATE, body),
             "directory-listing: sizes and dates", body)
        r.ok("secret" not in body and "hidden" not in body and ".dot" not in body,
             "directory-listing: hidden and dot files are not listed", body)
        r.eq(get(p, "/list/sp%20ace%25.txt").body, b"s", "directory-listing: a listed link works")
        r.eq(get(p, "/list/x.secret").status, 404, "hide-files: a matching file: 404")
        r.eq(get(p, "/list/hidden/h.txt").status, 404, "hide-files: a file under a hidden dir: 404")
        r.eq(get(p, "/list/hidden/").status, 404, "hide-files: the hidden dir's listing: 404")
        r.eq(get(p, "/list/b.txt").body, b"bbb", "hide-files: other files are served")
        r.eq(get(p, "/nolist/x.secret").body, b"SECRET", "hide-files: only on its mount")
        r.eq(get(p, "/nolist/").status, 403, "no directory-listing: a directory without index: 403")
        r.eq(get(p, "/").body, test_kited.INDEX, "directory-listing: an index file still wins")


def t_index_files(r):
    mounts = """[
    { "mountpoint": "/", "origin": "file://www", "index-files": "index.htm, default.html" }
  ]"""
    files = {"www/both/index.htm": "HTM", "www/both/default.html": "DEF",
             "www/one/default.html": "DEF", "www/none/index.html": "IDX"}
    files.update(conf_of(mounts=mounts))
    with Kited(r, "index-files", files) as k:
        p = k.ports["localhost"]
        r.eq(get(p, "/both/").body, b"HTM", "index-files: the first listed wins")
        r.eq(get(p, "/one/").body, b"DEF", "index-files: the next is tried")
        r.eq(get(p, "/none/").status, 403, "index-files: index.html is not in the list: 403")
    refused(r, "index-files with a path", one_vhost_conf(mounts='[{ "mountpoint": "/", '
                                                         '"origin": "file://www", '
                                                         '"index-files": "a/b.html" }]'),
            r"index-files: \"a/b.html\" is not a file name")


def t_max_age(r):
    mounts = """[
    { "mountpoint": "/", "origin": "file://www" },
    { "mountpoint": "/own", "origin": "file://www", "cache-max-age": 5 }
  ]"""
    with Kited(r, "max-age", conf_of(' "static-file-max-age": "120",', mounts)) as k:
        p = k.ports["localhost"]
        r.eq(get(p, "/page.txt").header("Cache-Control"), "public, max-age=120",
             "static-file-max-age 120: Cache-Control of file mounts")
        r.eq(get(p, "/own/page.txt").header("Cache-Control"), "private, max-age=5",
             "static-file-max-age: a mount's own cache-max-age wins")
    with Kited(r, "max-age-0", conf_of(' "static-file-max-age": 0,')) as k:
        r.eq(get(k.ports["localhost"], "/page.txt").header("Cache-Control"), "no-cache",
             "static-file-max-age 0: no-cache")
    refused(r, "static-file-max-age -1", one_vhost_conf(extra=' "static-file-max-age": -1,'),
            r"vhosts\[0\]\.static-file-max-age: must not be negative")


def t_error_pages(r):
    files = {"errs/error404.html": "E404", "errs/error4xx.html": "E4XX",
             "only/error.html": "EANY"}
    conf = "{ \"vhosts\": [ %s, %s ] }" % (
        vhost_json("a", 0, ' "error-pages": "errs",'),
        vhost_json("b", 0, ' "error-pages": "@DIR@/only",'))
    files["conf"] = conf
    with Kited(r, "error-pages", files) as k:
        pa, pb = k.ports["a"], k.ports["b"]
        res = get(pa, "/nothing", host="a")
        r.eq((res.status, res.body), (404, b"E404"), "error-pages: error404.html with a 404")
        res = request(pa, "DELETE", "/page.txt", host="a")
        r.eq((res.status, res.body), (405, b"E4XX"), "error-pages: error4xx.html with a 405")
        res = get(pb, "/nothing", host="b")
        r.eq((res.status, res.body), (404, b"EANY"), "error-pages: error.html at last")
        res = request(pa, "HEAD", "/nothing", host="a")
        r.eq((res.status, res.body), (404, b""), "error-pages: HEAD gets no body")
    refused(r, "error-pages missing", one_vhost_conf(extra=' "error-pages": "nowhere",'),
            r"vhosts\[0\]\.error-pages: docroot \".*nowhere\": No such file")


def t_url_rewrite(r):
    outside = tempfile.mkdtemp(prefix="kited-it-out-")
    with open(os.path.join(outside, "secret.txt"), "w") as f:
        f.write("OUTSIDE")
    files = {"other/o.txt": "OTHER", "more/m.txt": "MORE"}
    files.update(conf_of(' "url-rewrite": "/ext=other,/x/y=@DIR@/more",'))
    try:
        with Kited(r, "url-rewrite", files) as k:
            os.symlink(outside, k.path("other/link"))
            p = k.ports["localhost"]
            r.eq(get(p, "/ext/o.txt").body, b"OTHER", "url-rewrite: /ext= a relative directory")
            r.eq(get(p, "/x/y/m.txt").body, b"MORE", "url-rewrite: /x/y= an absolute directory")
            r.eq(get(p, "/page.txt").body, b"a page\n", "url-rewrite: the other mounts stay")
            for target in ("/ext/../../conf", "/ext/%2e%2e/%2e%2e/conf", "/ext/..%2f..%2fconf",
                           "/ext/link/secret.txt"):
                res = get(p, target)
                r.ok(res.status in (400, 403, 404) and b"OUTSIDE" not in res.body and
                     b"vhosts" not in res.body,
                     "url-rewrite: traversal %s refused" % target, repr(res))
    finally:
        shutil.rmtree(outside, ignore_errors=True)
    refused(r, "url-rewrite glob", one_vhost_conf(extra=' "url-rewrite": "**.doc$=www",'),
            r"vhosts\[0\]\.url-rewrite: \"\*\*\.doc\$\": only URL prefixes")
    refused(r, "url-rewrite no =", one_vhost_conf(extra=' "url-rewrite": "/a",'),
            r"vhosts\[0\]\.url-rewrite: expected \"/prefix=directory\"")
    refused(r, "url-rewrite missing dir", one_vhost_conf(extra=' "url-rewrite": "/a=nodir",'),
            r"vhosts\[0\]\.url-rewrite\.origin: docroot \".*nodir\"")


def t_cors(r):
    pre = {"Origin": "http://other.test", "Access-Control-Request-Method": "PUT",
           "Access-Control-Request-Headers": "X-Thing"}
    with Kited(r, "cors", conf_of(' "access-control-allow-origin": "*",')) as k:
        p = k.ports["localhost"]
        res = get(p, "/page.txt", headers={"Origin": "http://other.test"})
        r.eq(res.header("Access-Control-Allow-Origin"), "*",
             "access-control-allow-origin: on a GET")
        r.eq(get(p, "/missing").header("Access-Control-Allow-Origin"), "*",
             "access-control-allow-origin: on an error too")
        res = request(p, "OPTIONS", "/page.txt", headers=pre)
        r.eq((res.status, res.header("Access-Control-Allow-Origin"),
              res.header("Access-Control-Allow-Methods"),
              res.header("Access-Control-Allow-Headers")),
             (200, "*", "PUT", "X-Thing"), "CORS preflight OPTIONS: 200 with the allow headers")
    with Kited(r, "no-cors", conf_of()) as k:
        p = k.ports["localhost"]
        res = request(p, "OPTIONS", "/page.txt", headers=pre)
        r.ok(res.header("Access-Control-Allow-Origin") is None and
             res.header("Access-Control-Allow-Methods") is None,
             "without access-control-allow-origin: no CORS headers on a preflight", repr(res))
    refused(r, "access-control-allow-origin number",
            one_vhost_conf(extra=' "access-control-allow-origin": {},'),
            r"vhosts\[0\]\.access-control-allow-origin: expected a string")


def t_decode_url(r):
    files = {"www/a%20b.txt": "LITERAL", "www/a b.txt": "SPACE"}
    conf = "{ \"vhosts\": [ %s, %s ] }" % (vhost_json("on", 0),
                                         vhost_json("off", 0, ' "decode-url": "no",'))
    files["conf"] = conf
    with Kited(r, "decode-url", files) as k:
        res_on = get(k.ports["on"], "/a%20b.txt", host="on")
        res_off = get(k.ports["off"], "/a%20b.txt", host="off")
        r.eq(res_on.body, b"SPACE", "decode-url default: %20 is a space")
        r.eq(res_off.body, b"LITERAL", "decode-url no: %20 names the file literally")
        res = get(k.ports["off"], "/%2e%2e/conf", host="off")
        r.ok(res.status == 404 and b"vhosts" not in res.body,
             "decode-url no: %2e%2e is a name, not a way up", repr(res))
    refused(r, "decode-url maybe", one_vhost_conf(extra=' "decode-url": "maybe",'),
            r"vhosts\[0\]\.decode-url: expected a boolean")


def closed_without_answer(port, addr="127.0.0.1"):
    """(closed, bytes received) for a request from @addr."""
    with Conn(port, host=addr, timeout=3) as c:
        try:
            c.send(kitetest.build_request("GET", "/page.txt"))
        except OSError:
            return True, b""
        closed = c.wait_closed(3.0)
        return closed, bytes(c.buf)


def t_acl(r):
    def vh(name, acl, iface="127.0.0.1"):
        return ('{ "name": "%s", "port": 0, "interface": "%s", "access-control-list": "%s",'
                ' "mounts": [{ "mountpoint": "/", "origin": "file://www" }] }' % (name, iface, acl))
    six = True
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
        s.close()
    except OSError:
        six = False
    hosts = [vh("allow", "-0.0.0.0/0,+127.0.0.1"), vh("short", "-0.0.0.0/0,+127/8"),
             vh("deny", "-0.0.0.0/0,+10/8,+192.168/16"), vh("last", "+127.0.0.0/8,-127.0.0.1/32")]
    if six:
        hosts += [vh("six", "-0.0.0.0/0,-::/0,+::1/128", "::1"), vh("sixno", "+0.0.0.0/0,-::1", "::1")]
    files = {"conf": '{ "vhosts": [ %s ] }' % ",\n".join(hosts)}
    with Kited(r, "acl", files) as k:
        p = k.ports
        r.eq(request(p["allow"], "GET", "/page.txt", host="allow").body, b"a page\n",
             "access-control-list +127.0.0.1: served")
        r.eq(request(p["short"], "GET", "/page.txt", host="short").body, b"a page\n",
             "access-control-list +127/8 (short IPv4 form): served")
        r.eq(closed_without_answer(p["deny"]), (True, b""),
             "access-control-list without a match for 127.0.0.1: closed, no answer")
        r.eq(closed_without_answer(p["last"]), (True, b""),
             "access-control-list: the last matching entry decides (-127.0.0.1/32)")
        if six:
            r.eq(request(p["six"], "GET", "/page.txt", host="six", addr="::1").body,
                 b"a page\n", "access-control-list +::1/128: IPv6 served")
            r.eq(closed_without_answer(p["sixno"], "::1"), (True, b""),
                 "access-control-list -::1: IPv6 closed")
        else:
            r.skip("access-control-list IPv6", "no IPv6 on this host")
        time.sleep(0.2)
        r.ok("127.0.0.1 refused by access-control-list" in k.stderr(),
             "access-control-list: the refusal is logged", k.stderr()[-2000:])
    for bad in ("+300.1.1.1", "127.0.0.1", "+10/33", "+::1/129", "+1.2.3.4.5", "+zz::"):
        refused(r, "access-control-list %s" % bad,
                one_vhost_conf(extra=' "access-control-list": "-0.0.0.0/0,%s",' % bad),
                r"vhosts\[0\]\.access-control-list: bad entry \"%s\"" % re.escape(bad))


def timed_get(port, target, host):
    """GET over a raw socket: (status, body bytes, rate in bytes/s measured
    from the first body byte, total seconds)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    t0 = time.monotonic()
    s.sendall(kitetest.build_request("GET", target, host=host))
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    head, _, body = buf.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    clen = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
    t1, first = time.monotonic(), len(body)
    while len(body) < clen:
        d = s.recv(65536)
        if not d:
            break
        if not body:
            t1, first = time.monotonic(), len(d)
        body += d
    t2 = time.monotonic()
    s.close()
    rate = (len(body) - first) / (t2 - t1) if t2 > t1 else float("inf")
    return status, len(body), rate, t2 - t0


def t_throttle(r):
    big = bytes(range(256)) * 160  # 40 KiB
    files = {"www/slow/big.bin": big, "www/fast/big.bin": big}
    conf = "{ \"vhosts\": [ %s, %s, %s ] }" % (
        vhost_json("uri", 0, ' "throttle": "/slow/=20k",'),
        vhost_json("net", 0, ' "throttle": "*=0,127.0.0.0/8=16k,/fast/=0",'),
        vhost_json("free", 0, ' "throttle": "*=2k,127.0.0.1=0",'))
    files["conf"] = conf
    with Kited(r, "throttle", files) as k:
        p = k.ports
        st, n, rate, secs = timed_get(p["uri"], "/slow/big.bin", "uri")
        # The limit is a ceiling: never above it, and a loaded machine
        # may only send slower.
        r.ok(st == 200 and n == len(big) and 0.5 * 20480 < rate < 1.2 * 20480,
             "throttle /slow/=20k: measured rate at most 20 %% over 20 KiB/s (%.0f B/s)" % rate,
             "status %d, %d bytes, %.0f B/s, %.2f s" % (st, n, rate, secs))
        st, n, rate, secs = timed_get(p["uri"], "/fast/big.bin", "uri")
        r.ok(st == 200 and n == len(big) and secs < 1.2,
             "throttle /slow/=20k: other URIs are not limited (2 s if they were)", "%.2f s" % secs)
        st, n, rate, secs = timed_get(p["net"], "/slow/big.bin", "net")
        r.ok(st == 200 and n == len(big) and 0.5 * 16384 < rate < 1.2 * 16384,
             "throttle 127.0.0.0/8=16k: rate at most 20 %% over 16 KiB/s (%.0f B/s)" % rate,
             "status %d, %d bytes, %.0f B/s, %.2f s" % (st, n, rate, secs))
        st, n, rate, secs = timed_get(p["net"], "/fast/big.bin", "net")
        r.ok(n == len(big) and secs < 1.5, "throttle: a later matching /fast/=0 wins (2.5 s if not)",
             "%.2f s" % secs)
        st, n, rate, secs = timed_get(p["free"], "/slow/big.bin", "free")
        r.ok(n == len(big) and secs < 1.5, "throttle *=2k,127.0.0.1=0: this peer unlimited (20 s if not)",
             "%.2f s" % secs)
        # Keep-alive: a throttled response, then the next request is answered.
        with Conn(p["uri"]) as c:
            c.send(kitetest.build_request("GET", "/slow/big.bin", host="uri"))
            res = c.read_response()
            c.send(kitetest.build_request("GET", "/page.txt", host="uri"))
            res2 = c.read_response()
            r.ok(res.body == big and res2.body == b"a page\n",
                 "throttle: the keep-alive conn serves the next request after it", repr(res2))
    for bad in ("/x/=abc", "10.0.0.0/33=1k", "*", "1.2.3.4=-5", "=5k"):
        refused(r, "throttle %s" % bad, one_vhost_conf(extra=' "throttle": "%s",' % bad),
                r"vhosts\[0\]\.throttle: bad entry \"%s\"" % re.escape(bad))


def t_request_timeout(r):
    with Kited(r, "request-timeout", conf_of(' "request-timeout": 500,')) as k:
        p = k.ports["localhost"]
        with Conn(p, timeout=5) as c:
            t0 = time.monotonic()
            c.send("GET /page.txt HTTP/1.1\r\nHost: localhost\r\n")
            # Others are served while that head waits.
            r.eq(get(p, "/page.txt").status, 200, "request-timeout: others are served meanwhile")
            res = c.read_response()
            dt = time.monotonic() - t0
            r.ok(res.status == 408 and (res.header("Connection") or "").lower() == "close"
                 and 0.3 <= dt <= 3.0,
                 "request-timeout 500: half a head gets 408, Connection: close after %.2f s" % dt,
                 repr(res))
            r.ok(c.wait_closed(3.0), "request-timeout: the connection is closed after the 408")
        with Conn(p, timeout=5) as c:
            for part in ("GET /page.txt HTTP/1.1\r\n", "Host: localhost\r\n", "\r\n"):
                c.send(part)
                time.sleep(0.1)
            res = c.read_response()
            r.eq((res.status, res.body), (200, b"a page\n"),
                 "request-timeout: a slow head sent within the time is served")
            # Idle time between requests is keepalive's, not request-timeout's.
            time.sleep(0.8)
            c.send(kitetest.build_request("GET", "/page.txt"))
            r.eq(c.read_response().status, 200,
                 "request-timeout: an idle keep-alive connection outlives it")
    refused(r, "request-timeout -1", one_vhost_conf(extra=' "request-timeout": -1,'),
            r"vhosts\[0\]\.request-timeout")


def md5(s):
    return hashlib.md5(s.encode()).hexdigest()


def challenge_of(res):
    h = res.header("WWW-Authenticate") or ""
    return h, dict(re.findall(r'(\w+)="?([^",]*)"?', h[7:] if h.startswith("Digest ") else ""))


NC = itertools.count(1)


def digest_hdr(user, pw, realm, nonce, uri, method="GET", nc=None, cnonce="abcdef01"):
    """The server refuses a nonce count it has seen for the nonce: by default
    each header gets a new one, above all earlier ones."""
    nc = nc or "%08x" % next(NC)
    ha1, ha2 = md5("%s:%s:%s" % (user, realm, pw)), md5("%s:%s" % (method, uri))
    resp = md5("%s:%s:%s:%s:auth:%s" % (ha1, nonce, nc, cnonce, ha2))
    return {"Authorization": 'Digest username="%s", realm="%s", nonce="%s", uri="%s", '
            'qop=auth, nc=%s, cnonce="%s", response="%s", algorithm=MD5' % (
                user, realm, nonce, uri, nc, cnonce, resp)}


def kited_A(*args):
    return subprocess.run([test_kited.KITED, "-A"] + list(args), capture_output=True, timeout=30)


def t_digest(r):
    files = {"www/priv/x.txt": "PRIVATE", "www/sub/start.html": "start page of sub\n"}
    k = Kited(r, "digest", files)
    pw = k.path("pw.txt")
    p1 = kited_A(pw, "kite.test", "alice", "s3cret")
    p2 = kited_A(pw, "kite.test", "bob", "old")
    p3 = kited_A(pw, "kite.test", "bob", "b0b")
    lines = open(pw).read().splitlines()
    r.ok(p1.returncode == p2.returncode == p3.returncode == 0 and lines == [
        "alice:kite.test:" + md5("alice:kite.test:s3cret"),
        "bob:kite.test:" + md5("bob:kite.test:b0b")],
        "kited -A: adds users and replaces a password (user:realm:ha1)", repr(lines))
    r.ok(kited_A(pw, "realm").returncode == 2, "kited -A with missing arguments: usage, status 2")
    kited_A(k.path("www/priv/.htpasswd"), "kite.test", "carol", "c4")
    k.put("conf", "{ \"vhosts\": [ %s, %s, %s ] }" % (
        vhost_json("g", 0, ' "auth-domain": "kite.test", "global-auth-file": "pw.txt",'
                   ' "auth-nonce-timeout": 1,'),
        vhost_json("p", 0, ' "auth-domain": "kite.test", "protect-uri": "/sub=pw.txt",'),
        vhost_json("d", 0, ' "auth-domain": "kite.test",')))
    with k:
        pg, pp, pd = k.ports["g"], k.ports["p"], k.ports["d"]
        res = get(pg, "/page.txt", host="g")
        h, ch = challenge_of(res)
        r.ok(res.status == 401 and ch.get("realm") == "kite.test" and ch.get("qop") == "auth"
             and len(ch.get("nonce", "")) == 48 and "stale" not in ch,
             "global-auth-file: 401 with a Digest challenge without credentials", repr(res))
        nonce = ch.get("nonce", "")
        res = get(pg, "/page.txt", host="g",
                  headers=digest_hdr("alice", "s3cret", "kite.test", nonce, "/page.txt"))
        r.eq((res.status, res.body), (200, b"a page\n"), "digest: the right password: 200")
        res = get(pg, "/page.txt", host="g",
                  headers=digest_hdr("alice", "wrong", "kite.test", nonce, "/page.txt"))
        h2, ch2 = challenge_of(res)
        r.ok(res.status == 401 and ch2.get("nonce") and "stale" not in ch2,
             "digest: a wrong password: 401 with a fresh challenge", repr(res))
        for what, hdr in (
                ("an unknown user", digest_hdr("mallory", "x", "kite.test", nonce, "/page.txt")),
                ("another realm", digest_hdr("alice", "s3cret", "other", nonce, "/page.txt")),
                ("another uri", digest_hdr("alice", "s3cret", "kite.test", nonce, "/index.html")),
                ("a forged nonce", digest_hdr("alice", "s3cret", "kite.test",
                                              "00000001" + "0" * 32, "/page.txt")),
                ("Basic credentials", {"Authorization": "Basic YWxpY2U6czNjcmV0"})):
            res = get(pg, "/page.txt", host="g", headers=hdr)
            r.ok(res.status == 401 and "stale" not in challenge_of(res)[1],
                 "digest: %s: 401" % what, repr(res))
        time.sleep(2.2)
        res = get(pg, "/page.txt", host="g",
                  headers=digest_hdr("alice", "s3cret", "kite.test", nonce, "/page.txt"))
        h3, ch3 = challenge_of(res)
        r.ok(res.status == 401 and ch3.get("stale") == "true" and ch3.get("nonce") != nonce,
             "digest: an expired nonce with the right password: 401 stale=true", repr(res))
        r.eq(get(pp, "/page.txt", host="p").status, 200, "protect-uri /sub: other URIs are open")
        res = get(pp, "/sub/start.html", host="p")
        nonce = challenge_of(res)[1].get("nonce", "")
        r.eq(res.status, 401, "protect-uri /sub: 401 under it")
        res = get(pp, "/sub/start.html", host="p",
                  headers=digest_hdr("bob", "b0b", "kite.test", nonce, "/sub/start.html"))
        r.eq((res.status, res.body), (200, b"start page of sub\n"), "protect-uri: 200 with bob")
        # Nonce counts: a captured request replayed, or an older count, is
        # refused with a fresh challenge; higher counts on the nonce pass.
        # (On the "p" vhost: "g"'s nonces expire after a second.)
        n2 = challenge_of(get(pp, "/sub/start.html", host="p"))[1].get("nonce", "")
        hdr = digest_hdr("alice", "s3cret", "kite.test", n2, "/sub/start.html", nc="00000005")
        res = get(pp, "/sub/start.html", host="p", headers=hdr)
        r.eq(res.status, 200, "digest nc: nc 5 on a new nonce: 200")
        for what, h in (("the same request replayed", hdr),
                        ("the same request replayed again", hdr),
                        ("a lower nc (3)", digest_hdr("alice", "s3cret", "kite.test", n2,
                                                      "/sub/start.html", nc="00000003"))):
            res = get(pp, "/sub/start.html", host="p", headers=h)
            ch = challenge_of(res)[1]
            r.ok(res.status == 401 and "stale" not in ch and ch.get("nonce"),
                 "digest nc: %s: 401 with a fresh challenge (stale=false)" % what, repr(res))
        for nc in ("00000006", "0000000a"):
            res = get(pp, "/sub/start.html", host="p",
                      headers=digest_hdr("alice", "s3cret", "kite.test", n2, "/sub/start.html", nc=nc))
            r.eq(res.status, 200, "digest nc: a higher nc (%s) on the same nonce: 200" % nc)
        r.eq(get(pd, "/page.txt", host="d").status, 200, ".htpasswd: a directory without one is open")
        res = get(pd, "/priv/x.txt", host="d")
        nonce = challenge_of(res)[1].get("nonce", "")
        r.eq(res.status, 401, ".htpasswd: its directory needs credentials")
        res = get(pd, "/priv/x.txt", host="d",
                  headers=digest_hdr("carol", "c4", "kite.test", nonce, "/priv/x.txt"))
        r.eq((res.status, res.body), (200, b"PRIVATE"), ".htpasswd: its user gets the file")
        res = get(pd, "/priv/.htpasswd", host="d",
                  headers=digest_hdr("carol", "c4", "kite.test", nonce, "/priv/.htpasswd"))
        r.eq(res.status, 404, ".htpasswd itself is never served")
    refused(r, "protect-uri without =", one_vhost_conf(extra=' "protect-uri": "/a",'),
            r"vhosts\[0\]\.protect-uri: expected \"/uri=file\"")
    refused(r, "protect-uri missing file", one_vhost_conf(extra=' "protect-uri": "/a=nofile",'),
            r"vhosts\[0\]\.protect-uri: \".*nofile\": No such file")
    refused(r, "global-auth-file missing",
            one_vhost_conf(extra=' "global-auth-file": "nofile",'),
            r"vhosts\[0\]\.global-auth-file: \".*nofile\": No such file")


def t_put_delete(r):
    outside = tempfile.mkdtemp(prefix="kited-it-out-")
    k = Kited(r, "put-delete")
    kited_A(k.path("pw.txt"), "kite.test", "writer", "w1")
    k.put("conf", "{ \"vhosts\": [ %s, %s ] }" % (
        vhost_json("w", 0, ' "auth-domain": "kite.test", "put-delete-auth-file": "pw.txt",'),
        vhost_json("ro", 0)))
    os.symlink(outside, k.path("www/link"))
    nonce = [""]

    def call(method, uri, body=None, headers=None, pw="w1", port=None, host="w"):
        port = port or k.ports["w"]
        if not nonce[0]:
            nonce[0] = challenge_of(request(port, method, uri, host=host))[1].get("nonce", "")
        h = digest_hdr("writer", pw, "kite.test", nonce[0], uri, method=method)
        h.update(headers or {})
        return request(port, method, uri, headers=h, body=body, host=host)

    def disk(rel):
        try:
            with open(k.path("www/" + rel), "rb") as f:
                return f.read()
        except OSError:
            return None
    try:
        with k:
            res = request(k.ports["w"], "PUT", "/new.txt", body="x", host="w")
            r.ok(res.status == 401 and disk("new.txt") is None,
                 "PUT without credentials: 401, nothing written", repr(res))
            r.eq(call("PUT", "/new.txt", "x", pw="bad").status, 401, "PUT, wrong password: 401")
            res = call("PUT", "/new.txt", "hello")
            r.eq((res.status, disk("new.txt")), (201, b"hello"), "PUT a new file: 201")
            res = call("PUT", "/new.txt", "v2")
            r.eq((res.status, disk("new.txt")), (204, b"v2"), "PUT over a file: 204, replaced")
            r.eq(get(k.ports["w"], "/new.txt", host="w").body, b"v2", "GET sees the new content")
            r.eq(call("PUT", "/new.txt", "v3", {"If-None-Match": "*"}).status, 412,
                 "PUT If-None-Match: * on an existing file: 412")
            r.eq(call("PUT", "/other.txt", "v3", {"If-Match": "*"}).status, 412,
                 "PUT If-Match: * on a missing file: 412")
            big = kitetest.pattern(1 << 20)
            with Conn(k.ports["w"]) as c:
                h = digest_hdr("writer", "w1", "kite.test", nonce[0], "/big.bin", method="PUT")
                h["Transfer-Encoding"] = "chunked"
                c.send(kitetest.build_request("PUT", "/big.bin", h, host="w"))
                for i in range(0, len(big), 65536):
                    piece = big[i:i + 65536]
                    c.send(b"%x\r\n" % len(piece) + piece + b"\r\n")
                c.send(b"0\r\n\r\n")
                res = c.read_response("PUT")
            r.ok(res.status == 201 and disk("big.bin") == big,
                 "PUT a 1 MiB chunked body: streamed to the file intact", repr(res))
            r.eq(call("PUT", "/nodir/x.txt", "x").status, 409, "PUT into a missing directory: 409")
            r.eq(call("PUT", "/sub", "x").status, 405, "PUT onto a directory: 405")
            res = call("PUT", "/.htpasswd", "u:r:h")
            r.ok(res.status in (403, 404) and disk(".htpasswd") is None,
                 "PUT .htpasswd: refused", repr(res))
            res = call("PUT", "/link/evil.txt", "x")
            r.ok(res.status == 403 and not os.listdir(outside),
                 "PUT through a symlink out of the docroot: 403, nothing written", repr(res))
            res = call("PUT", "/../evil.txt", "x")
            r.ok(res.status in (400, 403) and not os.path.exists(k.path("evil.txt")),
                 "PUT /../evil.txt: refused", repr(res))
            with Conn(k.ports["w"]) as c:
                h = digest_hdr("writer", "w1", "kite.test", nonce[0], "/cut.bin", method="PUT")
                h["Content-Length"] = "100000"
                c.send(kitetest.build_request("PUT", "/cut.bin", h, host="w") + b"x" * 1000)
                time.sleep(0.3)
            time.sleep(0.3)
            r.ok(disk("cut.bin") is None and
                 not [n for n in os.listdir(k.path("www")) if n.startswith(".kite-put")],
                 "a PUT cut short leaves neither the file nor a temporary one",
                 repr(os.listdir(k.path("www"))))
            r.eq(call("MKCOL", "/newdir").status, 201, "MKCOL: 201")
            r.ok(os.path.isdir(k.path("www/newdir")), "MKCOL made the directory")
            r.eq(call("MKCOL", "/newdir").status, 405, "MKCOL on an existing one: 405")
            r.eq(call("MKCOL", "/a/b/c").status, 409, "MKCOL without its parent: 409")
            r.eq(call("MKCOL", "/withbody", "x").status, 415, "MKCOL with a body: 415")
            r.eq(call("PUT", "/newdir/f.txt", "in dir").status, 201, "PUT into the new directory")
            r.eq(call("DELETE", "/newdir").status, 409, "DELETE a non-empty directory: 409")
            r.eq(call("DELETE", "/newdir/f.txt").status, 204, "DELETE a file: 204")
            r.eq(call("DELETE", "/newdir").status, 204, "DELETE an empty directory: 204")
            r.eq(call("DELETE", "/new.txt").status, 204, "DELETE: 204")
            r.ok(disk("new.txt") is None, "DELETE removed the file")
            r.eq(call("DELETE", "/new.txt").status, 404, "DELETE a missing file: 404")
            r.eq(request(k.ports["w"], "DELETE", "/page.txt", host="w").status, 401,
                 "DELETE without credentials: 401")
            res = request(k.ports["ro"], "PUT", "/x.txt", body="x", host="ro")
            r.ok(res.status == 405 and "PUT" not in (res.header("Allow") or ""),
                 "no put-delete-auth-file: PUT 405", repr(res))
    finally:
        shutil.rmtree(outside, ignore_errors=True)
    refused(r, "put-delete-auth-file missing",
            one_vhost_conf(extra=' "put-delete-auth-file": "nofile",'),
            r"vhosts\[0\]\.put-delete-auth-file: \".*nofile\": No such file")


def t_ssi(r):
    outside = tempfile.mkdtemp(prefix="kited-it-out-")
    with open(os.path.join(outside, "secret.txt"), "w") as f:
        f.write("OUTSIDE")
    files = {
        "www/ssi/page.shtml": 'A<!--#include virtual="ssi/parts/head.html" -->B'
                              '<!--#include file="parts/nest.shtml" -->C'
                              '<!--#include "parts/head.html" -->D'
                              '<!--#exec "echo EXECUTED" -->E<!--#unknown x -->F',
        "www/ssi/parts/head.html": "[head]",
        "www/ssi/parts/nest.shtml": '(<!--#include file="head.html" -->)',
        "www/ssi/loop.shtml": 'L<!--#include file="loop.shtml" -->',
        "www/ssi/escape.shtml": '1<!--#include file="../../../secret.txt" -->'
                                '2<!--#include virtual="../secret.txt" -->'
                                '3<!--#include file="link/secret.txt" -->4',
        "www/ssi/plain.html": '<!--#include file="parts/head.html" -->',
        "www/ssi/open.shtml": 'x<!--#include file="parts/head.html"',
    }
    mounts = ('[{ "mountpoint": "/", "origin": "file://www", "ssi-pattern": "**.shtml$|**.shtm$" },'
              ' { "mountpoint": "/raw", "origin": "file://www" }]')
    files.update(conf_of(mounts=mounts))
    try:
        with Kited(r, "ssi", files) as k:
            os.symlink(outside, k.path("www/ssi/link"))
            p = k.ports["localhost"]
            res = get(p, "/ssi/page.shtml")
            r.eq((res.status, res.body), (200, b"A[head]B([head])C[head]DEF"),
                 "ssi: include virtual=, file= and \"path\", nested, exec and unknown dropped")
            r.eq(res.header("Cache-Control"), "no-cache", "ssi: sent with no-cache")
            res = get(p, "/ssi/loop.shtml")
            r.eq((res.status, res.body), (200, b"L" * 10 + b'L<!--#include file="loop.shtml" -->'),
                 "ssi: a file including itself stops at the depth limit (10)")
            res = get(p, "/ssi/escape.shtml")
            r.ok(res.status == 200 and res.body == b"1234" and b"OUTSIDE" not in res.body,
                 "ssi: includes outside the docroot (.., symlink) are refused", repr(res))
            r.eq(get(p, "/ssi/plain.html").body, b'<!--#include file="parts/head.html" -->',
                 "ssi: files not matching ssi-pattern are sent as they are")
            r.eq(get(p, "/raw/ssi/page.shtml").body, files["www/ssi/page.shtml"].encode(),
                 "ssi: only on the mount with ssi-pattern")
            r.eq(get(p, "/ssi/open.shtml").body, b'x<!--#include file="parts/head.html"',
                 "ssi: an unterminated directive is sent as it is")
    finally:
        shutil.rmtree(outside, ignore_errors=True)


def run_libhttp(r, name, cwd, args, fn):
    """kited with LibHTTP options in @cwd; fn(stderr_text) once it serves."""
    err_path = os.path.join(cwd, ".stderr")
    with open(err_path, "wb") as err:
        proc = subprocess.Popen([test_kited.KITED, "-n", "-d", "7"] + args, cwd=cwd,
                                stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            text = ""
            while time.monotonic() < deadline and proc.poll() is None:
                text = open(err_path, errors="replace").read()
                if "kited: serving" in text:
                    break
                time.sleep(0.02)
            if "kited: serving" not in text:
                r.ok(False, "%s: kited serves" % name, open(err_path, errors="replace").read())
                return
            fn(text)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(15)
    text = open(err_path, errors="replace").read()
    r.ok(proc.returncode == 0 and not [m for m in kitetest.SANITIZER_MARKS if m in text],
         "%s: kited exits 0 after SIGTERM, no sanitizer report" % name, text[-3000:])


def t_migration(r):
    d = tempfile.mkdtemp(prefix="kited-it-lh-")
    try:
        p1, p2 = test_kited.free_port(), test_kited.free_port()
        os.makedirs(os.path.join(d, "htdocs", "dir"))
        for rel, data in (("htdocs/dir/a.txt", "A"), ("htdocs/x.zork", "Z"), ("htdocs/s.bak", "B"),
                          ("htdocs/i.shtml", '<!--#include file="x.zork" -->!')):
            with open(os.path.join(d, rel), "w") as f:
                f.write(data)
        with open(os.path.join(d, "libhttp.conf"), "w") as f:
            f.write("# a LibHTTP config file\n\ndocument_root htdocs\n"
                    "listening_ports 127.0.0.1:%d\n"
                    "hide_files_patterns *.bak$\n"
                    "extra_mime_types .zork=application/x-zork\n"
                    "access_control_allow_origin *\n"
                    "num_threads 50\n"
                    "request_timeout_ms 30000\n" % p1)

        def check_file(text):
            r.ok(re.search(r"listening on 127\.0\.0\.1 port %d" % p1, text),
                 "--libhttp: listening_ports 127.0.0.1:PORT", text)
            res = get(p1, "/dir/")
            r.ok(res.status == 200 and b'href="a.txt"' in res.body,
                 "--libhttp: LibHTTP's default directory listing is on", repr(res))
            res = get(p1, "/x.zork")
            r.eq((res.header("Content-Type"), res.header("Cache-Control"),
                  res.header("Access-Control-Allow-Origin")),
                 ("application/x-zork", "public, max-age=3600", "*"),
                 "--libhttp: extra_mime_types, static_file_max_age 3600, access_control_allow_origin")
            r.eq(get(p1, "/s.bak").status, 404, "--libhttp: hide_files_patterns")
            r.eq(get(p1, "/i.shtml").body, b"Z!", "--libhttp: LibHTTP's default ssi_pattern")
            m = re.search(r"(/tmp/kited-libhttp-\w+): config|serving \(config (\S+)\)", text)
            gen = m and (m.group(1) or m.group(2))
            r.ok(gen and not os.path.exists(gen), "--libhttp: the generated config is not left behind",
                 repr(gen))
        run_libhttp(r, "--libhttp", d, ["--libhttp", "libhttp.conf"], check_file)

        def check_cmdline(text):
            r.ok(re.search(r"listening on 127\.0\.0\.1 port %d" % p2, text),
                 "command line: -listening_ports wins over the file", text)
            r.eq(get(p2, "/dir/").status, 403, "command line: -enable_directory_listing no")
            r.eq(get(p2, "/dir/a.txt").body, b"A", "command line: -document_root")
        run_libhttp(r, "LibHTTP command line", d,
                    ["--libhttp", "libhttp.conf", "-listening_ports", "127.0.0.1:%d" % p2,
                     "-enable_directory_listing", "no"], check_cmdline)

        def refused_run(what, args, pat):
            p = subprocess.run([test_kited.KITED, "-n", "--check-config"] + args, cwd=d,
                               capture_output=True, timeout=30)
            err = p.stderr.decode("utf-8", "replace")
            r.ok(p.returncode != 0 and re.search(pat, err), "%s: refused, saying why" % what,
                 "rc %d\n%s" % (p.returncode, err))
        with open(os.path.join(d, "bad.conf"), "w") as f:
            f.write("document_root htdocs\n\nbogus_option 1\n")
        refused_run("an unknown option in the file", ["--libhttp", "bad.conf"],
                    r"bad\.conf:3: unknown LibHTTP option \"bogus_option\"")
        refused_run("an unknown option on the command line", ["-document_rot", "x"],
                    r"unknown LibHTTP option \"document_rot\"")
        refused_run("a bad yes/no", ["-decode_url", "maybe"], r"\"decode_url\": expected yes or no")
        refused_run("-c with LibHTTP options", ["-c", d, "-document_root", "htdocs"],
                    r"-c and LibHTTP options cannot be used together")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def make_cert(d, name, cn):
    """A self-signed RSA certificate and its key, for localhost and 127.0.0.1."""
    key, crt = os.path.join(d, name + ".key"), os.path.join(d, name + ".crt")
    subprocess.run(["openssl", "req", "-x509", "-nodes", "-days", "2", "-subj", "/CN=" + cn,
                    "-newkey", "rsa:2048", "-keyout", key, "-out", crt,
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return crt, key


def tls_get(port, target, cafile, cert=None, ciphers=None):
    """(status, body, cipher name) of a GET over TLS; raises on a failed handshake."""
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if ciphers:
        ctx.set_ciphers(ciphers)
    if cert:
        ctx.load_cert_chain(*cert)
    with Conn(port, timeout=10) as c:
        c.sock = ctx.wrap_socket(c.sock, server_hostname="localhost")
        c.send(kitetest.build_request("GET", target))
        res = c.read_response()
        return res.status, res.body, c.sock.cipher()[0]


def t_migration_tls_cgi(r):
    d = tempfile.mkdtemp(prefix="kited-it-lh-tls-")
    try:
        crt, key = make_cert(d, "srv", "localhost")
        # LibHTTP's ssl_certificate holds the key and the certificate.
        with open(os.path.join(d, "both.pem"), "w") as f:
            f.write(open(key).read() + open(crt).read())
        ccrt, ckey = make_cert(d, "client", "alice")
        os.makedirs(os.path.join(d, "htdocs", "bin"))
        files = {"htdocs/bin/t.cgi": "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\n"
                                     "echo \"cgi HTTPS=$HTTPS FOO=$FOO BAZ=$BAZ\"\n",
                 "htdocs/bin/noexec.cgi": "echo 'Content-Type: text/plain'; echo; echo by-sh\n",
                 "htdocs/x.pl": "never run\n",
                 "htdocs/e.shtml": 'a<!--#exec "echo ran" -->b',
                 "htdocs/page.txt": "a page\n"}
        for rel, data in files.items():
            with open(os.path.join(d, rel), "w") as f:
                f.write(data)
        os.chmod(os.path.join(d, "htdocs/bin/t.cgi"), 0o755)
        p0, p1, p2 = (test_kited.free_port() for _ in range(3))
        with open(os.path.join(d, "libhttp.conf"), "w") as f:
            f.write("document_root htdocs\n"
                    "listening_ports 127.0.0.1:%d,127.0.0.1:%dr,127.0.0.1:%ds\n"
                    "ssl_certificate both.pem\n"
                    "ssl_protocol_version 4\n"
                    "ssl_cipher_list TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256, "
                    "TLS-RSA-WITH-AES-128-GCM-SHA256\n"
                    "ssl_default_verify_paths yes\n"
                    "ssl_short_trust no\n"
                    "cgi_pattern **/bin/*.cgi$\n"
                    "cgi_environment FOO=bar,BAZ=a b\n"
                    "tcp_nodelay 0\n"
                    "request_timeout_ms 500\n" % (p0, p1, p2))

        def check(text):
            p = kitetest.curl(["--cacert", crt, "https://localhost:%d/bin/t.cgi" % p2])
            r.eq((p.returncode, p.stdout), (0, b"cgi HTTPS=on FOO=bar BAZ=a b\n"),
                 "--libhttp TLS + CGI: curl --cacert https to a CGI script (ssl_certificate, "
                 "an s port, cgi_pattern, cgi_environment)")
            r.eq(get(p0, "/bin/t.cgi").body, b"cgi HTTPS= FOO=bar BAZ=a b\n",
                 "--libhttp: the plain port runs it too, without HTTPS")
            r.eq(get(p0, "/x.pl").body, b"never run\n",
                 "--libhttp: cgi_pattern replaces LibHTTP's default (**.pl$ is a file)")
            res = get(p1, "/page.txt?q=1", host="localhost:%d" % p1)
            r.eq((res.status, res.header("Location")),
                 (301, "https://localhost:%d/page.txt?q=1" % p2),
                 "--libhttp: an r port redirects to the first s port")
            st, body, cipher = tls_get(p2, "/page.txt", crt)
            r.eq((st, body, cipher), (200, b"a page\n", "ECDHE-RSA-AES128-GCM-SHA256"),
                 "--libhttp: ssl_cipher_list picks the suite")
            try:
                tls_get(p2, "/page.txt", crt, ciphers="ECDHE-RSA-AES256-GCM-SHA384")
                ok = False
            except (ssl.SSLError, OSError):
                ok = True
            r.ok(ok, "--libhttp: a suite not in ssl_cipher_list is refused")
            r.eq(get(p0, "/e.shtml").body, b"aran\nb", "--libhttp: SSI exec runs, as in LibHTTP")
            with Conn(p0, timeout=5) as c:
                t0 = time.monotonic()
                c.send("GET /page.txt HTTP/1.1\r\nHost: localhost\r\n")
                res = c.read_response()
                dt = time.monotonic() - t0
            r.ok(res.status == 408 and 0.3 <= dt <= 3.0,
                 "--libhttp: request_timeout_ms 500: 408 after %.2f s" % dt, repr(res))
        run_libhttp(r, "--libhttp TLS + CGI", d, ["--libhttp", "libhttp.conf"], check)

        def check_interp(text):
            p = kitetest.curl(["--cacert", crt, "--cert", ccrt, "--key", ckey,
                               "https://localhost:%d/bin/noexec.cgi" % p2])
            r.eq((p.returncode, p.stdout), (0, b"by-sh\n"),
                 "command line: cgi_interpreter runs a script that is not executable")
            try:
                tls_get(p2, "/page.txt", crt)
                ok = False
            except (ssl.SSLError, OSError):
                ok = True
            r.ok(ok, "command line: ssl_verify_peer yes: no client certificate, no handshake")
            r.eq(tls_get(p2, "/page.txt", crt, cert=(ccrt, ckey))[:2], (200, b"a page\n"),
                 "command line: ssl_verify_peer + %s: a client certificate it "
                 "issued is let in" % ca_opt)
        cadir = os.path.join(d, "cadir")
        os.mkdir(cadir)
        shutil.copy(ccrt, cadir)
        for ca_opt, ca_val in (("-ssl_ca_file", ccrt), ("-ssl_ca_path", cadir)):
            run_libhttp(r, "LibHTTP TLS command line (%s)" % ca_opt, d,
                        ["-document_root", "htdocs", "-listening_ports", "127.0.0.1:%ds" % p2,
                         "-ssl_certificate", "both.pem", "-ssl_verify_peer", "yes",
                         ca_opt, ca_val, "-ssl_verify_depth", "3",
                         "-cgi_pattern", "**.cgi$", "-cgi_interpreter", "/bin/sh"], check_interp)

        def refused_run(what, args, pat):
            p = subprocess.run([test_kited.KITED, "-n", "--check-config"] + args, cwd=d,
                               capture_output=True, timeout=30)
            err = p.stderr.decode("utf-8", "replace")
            r.ok(p.returncode != 0 and re.search(pat, err), "%s: refused, saying why" % what,
                 "rc %d\n%s" % (p.returncode, err))
        refused_run("an s port without ssl_certificate", ["-listening_ports", "8443s"],
                    r"an \"s\" port needs ssl_certificate")
        refused_run("an r port without an s port", ["-listening_ports", "8000r"],
                    r"listening_ports \"8000r\": no \"s\" port to redirect to")
        refused_run("ssl_verify_peer without ssl_ca_file",
                    ["-listening_ports", "8443s", "-ssl_certificate", "both.pem",
                     "-ssl_verify_peer", "yes"], r"ssl_verify_peer yes needs ssl_ca_file or ssl_ca_path")
        refused_run("ssl_protocol_version 6", ["-listening_ports", "8443s", "-ssl_certificate",
                                               "both.pem", "-ssl_protocol_version", "6"],
                    r"\"ssl_protocol_version\": expected a number from 0 to 5")
        refused_run("ssl_short_trust yes", ["-listening_ports", "8443s", "-ssl_certificate",
                                            "both.pem", "-ssl_short_trust", "yes"],
                    r"\"ssl_short_trust\": not supported")
        refused_run("a bad cipher name", ["-listening_ports", "8443s", "-ssl_certificate",
                                          "both.pem", "-ssl_cipher_list", "ALL:!eNULL"],
                    r"unknown cipher suite \"ALL\"")
        refused_run("cgi_environment without =", ["-cgi_environment", "FOO"],
                    r"cgi_environment: expected NAME=value in \"FOO\"")
    finally:
        shutil.rmtree(d, ignore_errors=True)


LUA_DATA = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                         "data", "lua"))


def t_lua(r):
    """LibHTTP's Lua options with their defaults (pages and scripts run,
    websocket_root, lua_preload_file) and lhttpd's -l prefix script."""
    p = test_kited.free_port()

    def check(_):
        r.eq(get(p, "/nostatus.lp").body, b"plain 42 page\n",
             "lua_server_page_pattern's default: **.lp$ runs")
        r.eq(get(p, "/hello.lua").body, b"hello from lua\n", "lua_script_pattern's default: **.lua$")
        r.eq(get(p, "/greet.lp").body, b"hello, preload\n", "lua_preload_file")
        b = get(p, "/lh/bar").body.decode()
        r.ok("PATH_INFO /bar" in b and "SCRIPT_NAME /lh" in b,
             "kited -l /lh example.lua: the lhttpd handler", b)
        with kitews.WsConn(p, path="/echo.lua") as w:
            w.handshake()
            r.eq(w.recv_message()[1], b"ready", "websocket_root: a Lua websocket")
    d = tempfile.mkdtemp(prefix="kited-it-lua-")
    try:
        cwd = os.path.join(d, "lua")
        shutil.copytree(LUA_DATA, cwd)
        run_libhttp(r, "LibHTTP Lua options", cwd,
                    ["-l", "/lh", "lhttpd/example.lua", "-listening_ports", "127.0.0.1:%d" % p,
                     "-document_root", ".", "-lua_preload_file", "preload.lua",
                     "-websocket_root", "ws"], check)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    tests = [t_listing, t_index_files, t_max_age, t_error_pages, t_url_rewrite, t_cors,
             t_decode_url, t_acl, t_throttle, t_digest, t_request_timeout,
             t_put_delete, t_ssi, t_migration, t_migration_tls_cgi, t_lua]
    kited_harness.run_recorded(tests)


if __name__ == "__main__":
    main()
