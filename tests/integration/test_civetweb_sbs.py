#!/usr/bin/python3
"""kite side by side with civetweb (issue 19): `kited --libhttp` and
Debian's civetweb (1.15, package civetweb) serve one docroot with one
LibHTTP options file; a wide list of requests goes to both, and the
status, key headers and body of each answer are compared, dates, ETags
and ports normalised. Every difference is either none or one listed in
the "Deliberate differences" table of READMEs/README.libhttp.md; the
allow-list below has exactly that table's ids (checked too).

Debian's civetweb has no Lua: Lua pages and scripts are checked against
what README.lua.md documents instead (they run, and never show their
source). Whatever civetweb answers, kite must never send a script's
source, a hidden file, or a 500 where civetweb answered 200 or 404.

usage: test_civetweb_sbs.py KITED PLUGIN_DIR   (skips without civetweb)
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kitetest  # noqa: E402
import test_kited  # noqa: E402  (takes KITED PLUGIN_DIR from sys.argv too)
from test_libhttp import challenge_of, digest_hdr, kited_A  # noqa: E402

CIVETWEB = shutil.which("civetweb")
README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "READMEs",
                      "README.libhttp.md")
REALM = "kite.test"
# Bytes that only a script's or a hidden file's content holds: an answer
# carrying one of them disclosed what it must not.
SECRETS = [b"SOURCE-OF-CGI", b"SOURCE-OF-LUA", b"HIDDEN-BAK", b"HIDDEN-SECRET", b"HTPASSWD-FILE"]

ENV_CGI = """#!/bin/sh
# SOURCE-OF-CGI
printf 'Content-Type: text/plain\\r\\n\\r\\n'
for v in GATEWAY_INTERFACE SERVER_PROTOCOL REQUEST_METHOD REQUEST_URI QUERY_STRING \\
         SCRIPT_NAME PATH_INFO CONTENT_TYPE CONTENT_LENGTH AUTH_TYPE REMOTE_USER \\
         HTTP_X_TEST SBS_VAR REDIRECT_STATUS; do
  eval "val=\\${$v-UNSET}"
  echo "$v=$val"
done
if [ -n "$CONTENT_LENGTH" ]; then printf 'BODY='; head -c "$CONTENT_LENGTH"; echo; fi
"""
FILES = {
    "htdocs/hello.txt": "hello world, this is a static file of a few dozen bytes.\n",
    "htdocs/page.html": "<!DOCTYPE html><title>page</title>\n",
    "htdocs/x.bak": "HIDDEN-BAK\n",
    "htdocs/secret.txt": "HIDDEN-SECRET\n",
    "htdocs/dir_list/a.txt": "A\n",
    "htdocs/dir_list/b.bak": "HIDDEN-BAK\n",
    "htdocs/dir_list/sub/c.txt": "C\n",
    "htdocs/dir_idx/index.html": "<p>the index of dir_idx</p>\n",
    "htdocs/t.shtml": 'A<!--#include file="inc.txt" -->B<!--#include virtual="dir_list/a.txt" -->C\n',
    "htdocs/inc.txt": "[inc]",
    "htdocs/abs.shtml": 'A<!--#include abspath="@OUT@/outside.txt" -->B\n',
    "htdocs/cgi/env.cgi": ENV_CGI,
    "htdocs/cgi/status.cgi": "#!/bin/sh\n# SOURCE-OF-CGI\nprintf 'Status: 203 Non-Authoritative\\r\\n"
                             "Content-Type: text/plain\\r\\n\\r\\nstatus body\\n'\n",
    "htdocs/cgi/absloc.cgi": "#!/bin/sh\n# SOURCE-OF-CGI\n"
                             "printf 'Location: http://example.com/else\\r\\n\\r\\n'\n",
    "htdocs/cgi/loc.cgi": "#!/bin/sh\n# SOURCE-OF-CGI\nprintf 'Location: /hello.txt\\r\\n\\r\\n'\n",
    "htdocs/cgi/ct.cgi": "#!/bin/sh\n# SOURCE-OF-CGI\nprintf 'Content-Type: text/x-own\\r\\n"
                         "Content-Length: 3\\r\\nX-Own: yes\\r\\n\\r\\nabc'\n",
    "htdocs/s.cgi": ENV_CGI,
    "htdocs/t.lua": "-- SOURCE-OF-LUA\nmg.write('HTTP/1.0 200 OK\\r\\nContent-Type: text/plain"
                    "\\r\\n\\r\\nlua script ran\\n')\n",
    "htdocs/lua/api.lp": "<? -- SOURCE-OF-LUA ?>lp ran <?= mg.request_info.request_uri ?>\n",
    "htdocs/priv/p.txt": "protected\n",
    "htdocs/dauth/f.txt": "per-directory protected\n",
    "htdocs/put/keep.txt": "keep\n",
    "errors/error404.html": "<p>custom not found</p>\n",
    "aliased/s.cgi": ENV_CGI,
    "aliased/t.lua": "-- SOURCE-OF-LUA\nmg.write('HTTP/1.0 200 OK\\r\\nContent-Type: text/plain"
                     "\\r\\n\\r\\nlua script ran\\n')\n",
    "aliased/x.bak": "HIDDEN-BAK\n",
    "aliased/secret.txt": "HIDDEN-SECRET\n",
    "aliased/t.shtml": 'A<!--#include file="inc.txt" -->B\n',
    "aliased/inc.txt": "[alias inc]",
    "aliased/index.html": "<p>the alias index</p>\n",
    "aliased/plain.txt": "plain in the alias\n",
    "aliased/sub/d.txt": "D\n",
    "outside.txt": "OUTSIDE THE DOCROOT\n",
}
ERROR404 = b"<p>custom not found</p>\n"
# Debian's civetweb is run as `civetweb FILE -listening_ports ADDR` (the
# command line adds to the file); started by its full path it takes a
# relative document_root from /usr/bin, so every path here is absolute.
OPTIONS = """# one LibHTTP options file for both servers
document_root @D@/htdocs
error_pages @D@/errors/
hide_files_patterns **.bak$|**secret.txt$
url_rewrite_patterns /alias=@D@/aliased
authentication_domain kite.test
put_delete_auth_file @D@/pw.txt
protect_uri /priv=@D@/pw.txt
cgi_environment SBS_VAR=hello
enable_directory_listing yes
access_control_allow_origin *
access_control_list -0.0.0.0/0,+127.0.0.1
"""

# ---------------------------------------------------------------- the deliberate differences
# id -> f(name, target, field, kite view, civetweb view): True when the
# difference in @field is that one. The ids are the first column of the
# table "Deliberate differences from civetweb" in README.libhttp.md; the
# two are kept in step (the last check below).
LONG_NO_CACHE = "no-cache, no-store, must-revalidate, private, max-age=0"


def cgi_vars(body):
    return dict(x.split("=", 1) for x in (body or b"").decode("latin-1").splitlines() if "=" in x)


def cgi_only(vk, vc, fix):
    """The CGI bodies differ only where @fix(name, kite, civetweb) says."""
    a, b = cgi_vars(vk.get("body")), cgi_vars(vc.get("body"))
    keys = [x for x in set(a) | set(b) if a.get(x) != b.get(x)]
    return bool(keys) and all(fix(x, a.get(x), b.get(x)) for x in keys)


def _cgi_uri_vars(name, target, field, vk, vc):
    path = target.split("?")[0]
    return field == "body" and cgi_only(
        vk, vc, lambda x, k, c: x == "QUERY_STRING" and k == "" and c == "UNSET" or
        x == "REQUEST_URI" and k == target and c in (path, urllib.parse.unquote(path)))


def _status(k, c):
    return lambda name, target, field, vk, vc: field not in ("links",) and \
        vk["status"] in k and vc["status"] in c


ALLOW = {
    # kite's text types say their charset.
    "charset": lambda n, t, f, vk, vc: f == "Content-Type" and vk.get(f) and vc.get(f) and
    vk.get(f).split(";")[0] == vc.get(f).split(";")[0] and "charset=utf-8" in vk.get(f),
    # static_file_max_age gives "public, max-age=N" (civetweb: "max-age=N").
    "cache-public": lambda n, t, f, vk, vc: f == "Cache-Control" and vk.get(f) == "public, " +
    (vc.get(f) or ""),
    # kite sends access_control_allow_origin on every answer, civetweb only
    # to a request with Origin.
    "cors-always": lambda n, t, f, vk, vc: f == "Access-Control-Allow-Origin" and
    vk.get(f) == "*" and vc.get(f) is None,
    # An error page of error_pages is sent with the error's status (civetweb: 200).
    "error-page-status": lambda n, t, f, vk, vc: vk.get("error page") and vc.get("error page")
    and vk["status"] >= 400 and vc["status"] == 200 and f in (
        "status", "Cache-Control", "ETag present", "Content-Type"),
    # Ranges as RFC 9110 has them: a suffix range is 206, a range past the
    # end 416 (civetweb: the whole file, and a close without an answer).
    # Several ranges, or an If-Range that does not match, get the whole
    # file (civetweb: the first range, If-Range ignored).
    "rfc-ranges": lambda n, t, f, vk, vc: n.startswith("range") and (
        vk["status"] in (206, 416) and vc["status"] in (200, "closed without an answer") or
        vk["status"] == 200 and vc["status"] == 206),
    # A listing is kite's own page: no ".." entry, sent with no-cache.
    "listing-html": lambda n, t, f, vk, vc: f == "links" and
    set(vc.get(f)) - set(vk.get(f)) == {b".."} or f == "Cache-Control" and "listing" in n and
    vk.get(f) == "no-cache",
    # An SSI page is "no-cache" (civetweb: five directives meaning the same).
    "ssi-no-cache": lambda n, t, f, vk, vc: f == "Cache-Control" and vk.get(f) == "no-cache" and
    vc.get(f) == LONG_NO_CACHE and t.endswith(".shtml"),
    # <!--#include abspath="..." --> is refused: nothing outside the docroot.
    "ssi-abspath": lambda n, t, f, vk, vc: t == "/abs.shtml" and f == "body" and
    vk.get(f) == b"AB\n",
    # .htpasswd is 404 to everyone (civetweb asks for credentials).
    "htpasswd-404": lambda n, t, f, vk, vc: t.endswith("/.htpasswd") and vk["status"] == 404,
    # CGI: REQUEST_URI is the target as sent, query included (civetweb: the
    # decoded path); QUERY_STRING is "" without a query (RFC 3875 4.1.7;
    # civetweb leaves it unset).
    "cgi-uri-vars": _cgi_uri_vars,
    # CGI Location with a URL and no Status is 302 (RFC 3875 6.2.3; civetweb 307).
    "cgi-redirect-302": lambda n, t, f, vk, vc: vk["status"] == 302 and vc["status"] == 307,
    # CGI Location with a local path and no Status is a local redirect
    # (RFC 3875 6.2.2): the client gets the other resource (civetweb: 307).
    "cgi-local-redirect": lambda n, t, f, vk, vc: t == "/cgi/loc.cgi" and vk["status"] == 200
    and vc["status"] == 307,
    # A name is taken as written: "/s.cgi." is no file (civetweb drops
    # trailing dots, as Windows does).
    "trailing-dot": lambda n, t, f, vk, vc: t.endswith(".") and vk["status"] == 404,
    # An encoded NUL in the path is 400.
    "nul-400": lambda n, t, f, vk, vc: "%00" in t and vk["status"] == 400,
    # A method kite does not know is 501 (RFC 9110 15.6.2; civetweb 400).
    "unknown-method-501": _status((501,), (400,)),
    # PUT answers 201 for a new file and 204 for a replaced one (civetweb 200);
    # DELETE answers 204 (civetweb 200).
    # The answers of PUT, DELETE and MKCOL carry no Cache-Control.
    "put-status": lambda n, t, f, vk, vc: n.startswith("putdel") and f == "status" and
    (vk.get(f), vc.get(f)) in ((201, 200), (204, 200)) or n.startswith("putdel") and
    f == "Cache-Control" and vk.get(f) is None and vk["status"] in (201, 204),
    # PUT needs the parent directory (409; civetweb creates it).
    "put-no-parents": lambda n, t, f, vk, vc: "without parent" in n and vk["status"] == 409,
    # hide_files_patterns names cannot be written (403; civetweb writes them).
    "put-hidden-403": lambda n, t, f, vk, vc: "hidden name" in n and vk["status"] == 403,
    # OPTIONS is 204 with the methods kite serves there (civetweb: 200 and
    # its WebDAV methods).
    "options-204": lambda n, t, f, vk, vc: n == "OPTIONS on a file" and vk["status"] == 204,
    # Every 405 says what is allowed (RFC 9110 15.5.6).
    "allow-on-405": lambda n, t, f, vk, vc: f == "Allow" and vk["status"] == 405 and
    vc.get(f) is None,
    # DELETE of a non-empty directory is 409 and removes nothing (civetweb
    # removes what it can and answers 500).
    "delete-non-empty-409": lambda n, t, f, vk, vc: "full dir" in n and vk["status"] == 409,
}

# ---------------------------------------------------------------- servers


def free_port():
    return test_kited.free_port()


class Server:
    def __init__(self, name, cmd, cwd, port):
        self.name, self.port = name, port
        self.err = open(os.path.join(cwd, ".%s.stderr" % name), "wb")
        self.proc = subprocess.Popen(cmd, cwd=cwd, stdout=self.err, stderr=self.err,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        self.err.close()
        raise RuntimeError("%s did not start: %s" % (name, open(self.err.name, errors="replace")
                                                     .read()[-2000:]))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()
        return self.proc.returncode


def exchange(port, method, target, headers=(), body=None, version="HTTP/1.1", src=None):
    """One request on a fresh connection: a Response, or None when the
    server closed without an answer."""
    s = socket.socket()
    s.settimeout(10)
    if src:
        s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    c = kitetest.Conn.__new__(kitetest.Conn)
    c.sock, c.timeout, c.buf, c.eof, c.reset = s, 10, bytearray(), False, False
    lines = ["%s %s %s" % (method, target, version), "Host: 127.0.0.1:%d" % port]
    lines += ["%s: %s" % kv for kv in headers]
    if body is not None:
        lines.append("Content-Length: %d" % len(body))
    lines.append("Connection: close")
    try:
        c.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b""))
        r = c.read_response(method)
        while r.status < 200:
            r = c.read_response(method)
        return r
    except (kitetest.ProtocolError, ConnectionError, EOFError, socket.timeout, OSError):
        return None
    finally:
        s.close()


# ---------------------------------------------------------------- the request list
# (name, method, target, headers, body, how); how: "body" compares bodies,
# "links" the hrefs of a generated page, "status" the status and headers
# only (each server's own built-in page). Headers may be callables of
# the server's earlier answers (conditional requests).

KEY_HEADERS = ["Content-Type", "Content-Range", "Location", "Allow", "Cache-Control",
               "Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "X-Own"]


def requests():
    L = []

    def add(name, target, method="GET", headers=(), body=None, how="body"):
        L.append((name, method, target, list(headers), body, how))
    # static
    add("static file", "/hello.txt")
    add("static HEAD", "/hello.txt", "HEAD")
    add("static html", "/page.html")
    add("missing file: custom error page", "/nothing-here")
    add("static file with a tail", "/hello.txt/foo")
    add("query on a static file", "/hello.txt?x=1")
    # Range
    add("range first bytes", "/hello.txt", headers=[("Range", "bytes=0-4")])
    add("range suffix", "/hello.txt", headers=[("Range", "bytes=-5")])
    add("range open end", "/hello.txt", headers=[("Range", "bytes=50-")])
    add("range past the end", "/hello.txt", headers=[("Range", "bytes=500-600")])
    add("range bad unit", "/hello.txt", headers=[("Range", "items=0-4")])
    add("range two parts", "/hello.txt", headers=[("Range", "bytes=0-1,5-6")], how="status")
    add("range with If-Range the ETag", "/hello.txt", headers=[
        ("Range", "bytes=0-4"), ("If-Range", lambda prev: prev["static file"].header("ETag"))])
    add("range with an old If-Range", "/hello.txt", headers=[
        ("Range", "bytes=0-4"), ("If-Range", '"not-the-etag"')])
    # conditional
    add("If-None-Match the ETag", "/hello.txt",
        headers=[("If-None-Match", lambda prev: prev["static file"].header("ETag"))])
    add("If-Modified-Since Last-Modified", "/hello.txt",
        headers=[("If-Modified-Since", lambda prev: prev["static file"].header("Last-Modified"))])
    add("If-Modified-Since long ago", "/hello.txt",
        headers=[("If-Modified-Since", "Sat, 01 Jan 2000 00:00:00 GMT")])
    # listings and index files
    add("listing", "/dir_list/", how="links")
    add("listing without slash", "/dir_list", how="status")
    add("index file", "/dir_idx/")
    add("index dir without slash", "/dir_idx", how="status")
    add("listing of a subdir", "/dir_list/sub/", how="links")
    # hidden files
    add("hidden .bak", "/x.bak", how="status")
    add("hidden secret.txt", "/secret.txt", how="status")
    add("hidden in a listed dir", "/dir_list/b.bak", how="status")
    add("hidden .bak upper case", "/X.BAK", how="status")
    add("hidden .bak encoded", "/x%2ebak", how="status")
    add("hidden .bak trailing dot", "/x.bak.", how="status")
    add("hidden .bak trailing slash", "/x.bak/", how="status")
    add(".htpasswd", "/dauth/.htpasswd", how="status")
    # SSI
    add("ssi", "/t.shtml")
    add("ssi abspath", "/abs.shtml")
    # CGI
    add("cgi env", "/cgi/env.cgi?a=1&b=%20", headers=[("X-Test", "xt")])
    add("cgi PATH_INFO", "/cgi/env.cgi/extra/pi")
    add("cgi POST", "/cgi/env.cgi", "POST", [("Content-Type", "text/plain")], b"posted body")
    add("cgi Status", "/cgi/status.cgi")
    add("cgi absolute Location", "/cgi/absloc.cgi", how="status")
    add("cgi local Location", "/cgi/loc.cgi", how="status")
    add("cgi own fields", "/cgi/ct.cgi")
    add("cgi at the root", "/s.cgi")
    add("cgi HEAD", "/cgi/env.cgi", "HEAD")
    # Digest
    add("protect_uri without credentials", "/priv/p.txt", how="status")
    add("protect_uri with credentials", "/priv/p.txt", headers=[("Authorization", "DIGEST")])
    add("protect_uri wrong password", "/priv/p.txt", headers=[("Authorization", "DIGEST-BAD")],
        how="status")
    add("per-directory .htpasswd without credentials", "/dauth/f.txt", how="status")
    add("per-directory .htpasswd with credentials", "/dauth/f.txt",
        headers=[("Authorization", "DIGEST")])
    add("cgi after Digest", "/priv/env.cgi", headers=[("Authorization", "DIGEST")])
    # rewrite aliases, PATH_INFO forms, encodings
    for t in ("/alias/plain.txt", "/alias/s.cgi", "/alias/s.cgi/more/info", "/alias/t.shtml",
              "/alias/%73.cgi", "/alias//s.cgi", "/%61lias/s.cgi", "/alias/./s.cgi",
              "/alias/sub/d.txt", "/alias/../hello.txt", "/alias/%2e%2e/hello.txt",
              "/cgi/../hello.txt", "//hello.txt", "/hello.txt%2f", "/cgi//env.cgi",
              "/cgi/env.cgi/"):
        add("path " + t, t)
    for t in ("/alias/x.bak", "/alias/X.bak", "/alias/x.bak.", "/alias/x%2ebak", "/alias/secret.txt",
              "/alias/../x.bak", "/alias//x.bak", "/s.cgi.", "/alias/s.cgi.", "/alias/nothing",
              "/cgi/env.cgi%00", "/alias/x.bak%00"):
        add("path " + t, t, how="status")
    add("alias index", "/alias/")
    add("alias listing", "/alias/sub/", how="links")
    add("alias dir without slash", "/alias/sub", how="status")
    # CORS
    add("CORS simple", "/hello.txt", headers=[("Origin", "http://o.example")])
    add("CORS preflight", "/hello.txt", "OPTIONS",
        [("Origin", "http://o.example"), ("Access-Control-Request-Method", "PUT")], how="status")
    # methods without put_delete credentials
    add("PUT without credentials", "/put/new.txt", "PUT", body=b"x", how="status")
    add("DELETE without credentials", "/put/keep.txt", "DELETE", how="status")
    add("unknown method", "/hello.txt", "BREW", how="status")
    add("POST to a static file", "/hello.txt", "POST", body=b"x", how="status")
    add("OPTIONS on a file", "/hello.txt", "OPTIONS", how="status")
    add("HEAD of a listing", "/dir_list/", "HEAD", how="status")
    add("listing with a query", "/dir_list/?x=1", how="links")
    add("index file with a query", "/dir_idx/?x=1")
    return L


# PUT/DELETE/MKCOL change the docroot: a sequence per server, each on
# names of its own ("@S@"), compared step by step.
def putdel_steps():
    return [
        ("PUT new", "PUT", "/put/n-@S@.txt", b"new body"),
        ("GET it", "GET", "/put/n-@S@.txt", None),
        ("PUT over it", "PUT", "/put/n-@S@.txt", b"second"),
        ("DELETE it", "DELETE", "/put/n-@S@.txt", None),
        ("DELETE it again", "DELETE", "/put/n-@S@.txt", None),
        ("PUT without parent", "PUT", "/put/none-@S@/f.txt", b"x"),
        ("MKCOL", "MKCOL", "/put/col-@S@/", None),
        ("MKCOL again", "MKCOL", "/put/col-@S@/", None),
        ("PUT into it", "PUT", "/put/col-@S@/f.txt", b"in col"),
        ("DELETE the file", "DELETE", "/put/col-@S@/f.txt", None),
        ("DELETE the empty dir", "DELETE", "/put/col-@S@/", None),
        ("PUT a hidden name", "PUT", "/put/h-@S@.bak", b"x"),
        ("PUT under protect_uri", "PUT", "/priv/p-@S@.txt", b"x"),
        ("MKCOL another", "MKCOL", "/put/full-@S@", None),
        ("PUT into that", "PUT", "/put/full-@S@/f.txt", b"in col"),
        ("DELETE the full dir", "DELETE", "/put/full-@S@/", None),
    ]


def norm_body(b, ports):
    for p in ports:
        b = b.replace(str(p).encode(), b"PORT")
    return b


def view(res, how, ports):
    """What is compared of an answer. The page of a status >= 300 is each
    server's own (its HTML, type and caching are not compared) unless it
    is the error_pages page, which both must send."""
    if res is None:
        return {"status": "closed without an answer"}
    v = {"status": res.status, "reason": res.reason, "error page": res.body == ERROR404}
    own_page = res.status >= 300 and not v["error page"]
    for h in KEY_HEADERS:
        if own_page and h in ("Content-Type", "Cache-Control"):
            continue
        val = ", ".join(res.all(h)) or None
        if val is not None:
            for p in ports:
                val = val.replace(str(p), "PORT")
        v[h] = val
    if not own_page:
        v["ETag present"] = res.has("ETag")
    if how == "body" and not own_page:
        v["body"] = norm_body(res.body, ports)
    elif how == "links" and not own_page:
        v["links"] = sorted(set(re.findall(rb'href="([^"?]+)"', res.body)) - {b"../"})
    if res.status == 401:
        h = res.header("WWW-Authenticate") or ""
        params = dict(re.findall(r'(\w+)="?([^",]*)"?', h))
        v["challenge"] = (h.split(" ")[0], params.get("realm"), params.get("qop"))
    return v


def main():
    tap = kitetest.Tap()
    if not CIVETWEB:
        print("1..0 # SKIP civetweb is not installed (apt-get install civetweb)")
        return
    d = os.path.realpath(tempfile.mkdtemp(prefix="kite-sbs-"))
    out = os.path.realpath(tempfile.mkdtemp(prefix="kite-sbs-out-"))
    servers = []
    try:
        for rel, text in FILES.items():
            path = os.path.join(out if rel == "outside.txt" else d, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text.replace("@OUT@", out))
            if rel.endswith(".cgi"):
                os.chmod(path, 0o755)
        kited_A(os.path.join(d, "pw.txt"), REALM, "alice", "s3cret")
        kited_A(os.path.join(d, "htdocs/dauth/.htpasswd"), REALM, "bob", "b0b")
        shutil.copy(os.path.join(d, "htdocs/cgi/env.cgi"), os.path.join(d, "htdocs/priv/env.cgi"))
        with open(os.path.join(d, "htdocs/dauth/.htpasswd"), "a") as f:
            f.write("# HTPASSWD-FILE\n")
        with open(os.path.join(d, "sbs.conf"), "w") as f:
            f.write(OPTIONS.replace("@D@", d))
        kp, cp = free_port(), free_port()
        servers.append(Server("kite", [test_kited.KITED, "-n", "--libhttp", "sbs.conf",
                                       "-listening_ports", "127.0.0.1:%d" % kp], d, kp))
        servers.append(Server("civetweb", [CIVETWEB, "sbs.conf", "-listening_ports",
                                           "127.0.0.1:%d" % cp], d, cp))
        ports = (kp, cp)
        users = {"/priv/": ("alice", "s3cret"), "/dauth/": ("bob", "b0b")}

        def run(port, prev, name, method, target, headers, body):
            hs = []
            for k, v in headers:
                if callable(v):
                    v = v(prev)
                    if v is None:
                        continue
                if k == "Authorization":
                    user, pw = next(u for p, u in users.items() if target.startswith(p))
                    ch = challenge_of(exchange(port, method, target))[1]
                    v = digest_hdr(user, pw if v == "DIGEST" else "wrong", ch.get("realm", REALM),
                                   ch.get("nonce", ""), target, method=method)["Authorization"]
                hs.append((k, v))
            return exchange(port, method, target, hs, body)

        diffs_seen = set()
        prev = {kp: {}, cp: {}}
        checks = []
        for name, method, target, headers, body, how in requests():
            res = {p: run(p, prev[p], name, method, target, headers, body) for p in ports}
            for p in ports:
                prev[p][name] = res[p]
            checks.append((name, method, target, how, res[kp], res[cp]))
        for step, method, target, body in putdel_steps():
            res = {}
            for p, s in ((kp, "k"), (cp, "c")):
                t = target.replace("@S@", s)
                ch = challenge_of(exchange(p, method, t))[1]
                h = [] if method == "GET" else [
                    ("Authorization", digest_hdr("alice", "s3cret", REALM, ch.get("nonce", ""), t,
                                                 method=method)["Authorization"])]
                res[p] = exchange(p, method, t, h, body)
                if res[p] is not None:
                    res[p].body = res[p].body.replace(b"n-%s" % s.encode(), b"n-@S@")
            checks.append(("putdel: " + step, method, target, "status" if method != "GET"
                           else "body", res[kp], res[cp]))
        # The access-control-list: a peer outside it gets no answer from either.
        checks.append(("ACL: a peer outside the list", "GET", "/hello.txt", "status",
                       exchange(kp, "GET", "/hello.txt", src="127.0.0.2"),
                       exchange(cp, "GET", "/hello.txt", src="127.0.0.2")))

        for name, method, target, how, rk, rc in checks:
            vk, vc = view(rk, how, ports), view(rc, how, ports)
            bad, excused = [], set()
            for field in sorted(set(vk) | set(vc)):
                a, b = vk.get(field), vc.get(field)
                if a == b:
                    continue
                # The reason phrase follows the status.
                fld = "status" if field == "reason" and vk["status"] != vc["status"] else field
                ids = [i for i, f in ALLOW.items() if f(name, target, fld, vk, vc)]
                if ids:
                    excused.update(ids)
                else:
                    bad.append("%s: kite %r, civetweb %r" % (field, a, b))
            diffs_seen.update(excused)
            tap.ok(not bad, "%s %s %s: as civetweb%s" % (
                name, method, target, " (deliberate: %s)" % ", ".join(sorted(excused))
                if excused else ""), "\n".join(bad)[:3000])
            body = rk.body if rk is not None else b""
            leaked = [s for s in SECRETS if s in body]
            tap.ok(not leaked, "%s: kite sends no script source or hidden file" % name,
                   repr(leaked))
            tap.ok(not (rk is not None and rk.status >= 500 and rc is not None and
                        rc.status in (200, 404)),
                   "%s: no 5xx from kite where civetweb answers %s" % (
                       name, rc.status if rc is not None else "-"))

        # Lua: civetweb here has none; kite against README.lua.md.
        for target, want in (("/t.lua", b"lua script ran\n"), ("/alias/t.lua", b"lua script ran\n"),
                             ("/lua/api.lp", b"lp ran /lua/api.lp\n"),
                             ("/lua/api.lp/x", b"lp ran /lua/api.lp/x\n")):
            r = exchange(kp, "GET", target)
            tap.ok(r is not None and r.status == 200 and r.body == want,
                   "Lua %s runs (README.lua.md)" % target, repr(r))
        for target in ("/t.lua.", "/alias/t.lua.", "/alias/%74.lua", "/lua//api.lp"):
            r = exchange(kp, "GET", target)
            tap.ok(r is not None and b"SOURCE-OF-LUA" not in r.body and r.status < 500,
                   "Lua %s: no source, no 5xx" % target, repr(r))

        table = readme_ids()
        tap.ok(table == set(ALLOW), "the allow-list is README.libhttp.md's table of deliberate "
               "differences", "README %s, script %s" % (sorted(table), sorted(ALLOW)))
        tap.ok(diffs_seen == set(ALLOW), "every deliberate difference is seen (no stale row)",
               "never seen: %s" % sorted(set(ALLOW) - diffs_seen))
        for s in servers:
            rc = s.stop()
            tap.ok(rc == 0 or s.name != "kite", "%s exits cleanly" % s.name)
        servers = []
        text = open(os.path.join(d, ".kite.stderr"), errors="replace").read()
        tap.ok(not [m for m in kitetest.SANITIZER_MARKS if m in text],
               "kited: no sanitizer report", text[-3000:])
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(d, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
    tap.done()


def readme_ids():
    """The ids of the table under "## Deliberate differences from civetweb"."""
    text = open(README).read()
    m = re.search(r"^## Deliberate differences from civetweb\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    if not m:
        return set()
    return set(re.findall(r"^\| `([a-z0-9-]+)` \|", m.group(1), re.M))


if __name__ == "__main__":
    main()
