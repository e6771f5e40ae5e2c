#!/usr/bin/python3
"""kited --libhttp: no URL form shows a script's source or a hidden file
(issue 19, items 1 and 2).

A url_rewrite_patterns alias is a window onto the same rules as the
docroot: CGI, Lua and SSI patterns, hidden files, index files and
listings apply under it. A URL that goes on past a script runs the
script with that tail as its path info; past a static file it is 404;
and the per-directory .htpasswd that guards a script guards it with any
tail, under the alias too, with Digest auth on (as LibHTTP mode always
has an auth domain).

usage: test_libhttp_windows.py KITED PLUGIN_DIR
"""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kitetest  # noqa: E402
import test_kited  # noqa: E402  (takes KITED PLUGIN_DIR from sys.argv too)
from test_kited import Rec, get  # noqa: E402
from test_libhttp import challenge_of, digest_hdr, kited_A, run_libhttp  # noqa: E402

CGI = ('#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\n'
       'echo "RAN PATH_INFO=$PATH_INFO FOO=$FOO"\n')
LUA = ('mg.write("HTTP/1.0 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\n")\n'
       'mg.write("RAN ", mg.request_info.path_info or "-")\n')
LP = '<? mg.write("RAN ", mg.request_info.path_info or "-") ?>\n'
# Markers that only the source of a script contains.
SOURCE_MARKS = (b"#!/bin/sh", b"mg.write", b"<?", b"<!--#")

TREE = {
    "htdocs/hello.txt": "hello\n",
    "htdocs/cgi/env.cgi": CGI,
    "htdocs/cgi/s.bak": CGI,
    "htdocs/lua/api.lp": LP,
    "htdocs/lua/t.lua": LUA,
    "htdocs/priv.bak/page.lp": LP,
    "htdocs/prot/p.cgi": CGI,
    "htdocs/prot/p.lp": LP,
    "htdocs/prot/x.txt": "PROT\n",
    "alias/index.html": "ALIAS INDEX\n",
    "alias/s.cgi": CGI,
    "alias/t.lua": LUA,
    "alias/t.lp": LP,
    "alias/x.bak": "BAK SOURCE\n",
    "alias/secret.txt": "SECRET\n",
    "alias/t.shtml": 'A<!--#include file="inc.txt" -->B\n',
    "alias/inc.txt": "INC",
    "alias/sub/f.txt": "SUBFILE\n",
    "alias/cgi/env.cgi": CGI,
    "alias/priv.bak/page.lp": LP,
    "alias/locked/l.txt": "LOCKED\n",
    "alias/locked/l.cgi": CGI,
}


def no_source(res):
    return not any(m in res.body for m in SOURCE_MARKS)


def check(r, p):
    # 1: the alias is a window onto the docroot's rules.
    for url in ("/alias/s.cgi", "/alias/t.lua", "/alias/t.lp", "/alias/s%2ecgi",
                "/alias//t.lua", "/alias/./t.lp", "/alias/sub/../s.cgi"):
        res = get(p, url)
        r.ok(res.status == 200 and res.body.startswith(b"RAN") and no_source(res),
             "alias: %s runs the script, never sends its source" % url, repr(res))
    for url in ("/alias/t.lua.", "/alias/s.cgi%00", "/alias/t.lp%20", "/alias/T.LUA"):
        res = get(p, url)
        r.ok(res.status in (400, 403, 404) and no_source(res),
             "alias: %s is refused without the source" % url, repr(res))
    for url in ("/alias/x.bak", "/alias/secret.txt", "/alias/x%2ebak", "/alias//secret.txt",
                "/alias/priv.bak/page.lp", "/alias/priv.bak/page.lp/tail"):
        res = get(p, url)
        r.ok(res.status == 404 and b"SOURCE" not in res.body and b"SECRET" not in res.body
             and not res.body.startswith(b"RAN"),
             "alias: hidden %s is 404" % url, repr(res))
    res = get(p, "/alias/t.shtml")
    r.ok(res.status == 200 and res.body == b"AINCB\n", "alias: SSI is processed", repr(res))
    res = get(p, "/alias/")
    r.eq((res.status, res.body), (200, b"ALIAS INDEX\n"), "alias: / gives the index file")
    res = get(p, "/alias/sub/")
    r.ok(res.status == 200 and b'href="f.txt"' in res.body,
         "alias: a directory without index gets the listing", repr(res))
    # 2: a tail after a file.
    res = get(p, "/cgi/env.cgi/extra/pi")
    r.ok(res.status == 200 and b"PATH_INFO=/extra/pi" in res.body and b"FOO=bar" in res.body,
         "PATH_INFO: a CGI script runs with the tail", repr(res))
    res = get(p, "/alias/cgi/env.cgi/x/y")
    r.ok(res.status == 200 and b"PATH_INFO=/x/y" in res.body,
         "PATH_INFO: a CGI script under the alias too", repr(res))
    res = get(p, "/lua/api.lp/x")
    r.eq((res.status, res.body.strip()), (200, b"RAN /x"),
         "PATH_INFO: a Lua page runs with request_info.path_info")
    res = get(p, "/lua/t.lua/a/b")
    r.eq((res.status, res.body.strip()), (200, b"RAN /a/b"),
         "PATH_INFO: a Lua script runs with request_info.path_info")
    r.eq(get(p, "/lua/api.lp").body.strip(), b"RAN -", "no tail: no path_info")
    for url in ("/hello.txt/foo", "/alias/sub/f.txt/x", "/lua/none.lp/x", "/cgi/none.cgi/x"):
        r.eq(get(p, url).status, 404, "PATH_INFO: %s: 404, not 500" % url)
    for url in ("/cgi/s.bak", "/cgi/s.bak/x", "/priv.bak/page.lp/x"):
        res = get(p, url)
        r.ok(res.status == 404 and not res.body.startswith(b"RAN") and no_source(res),
             "hidden %s: not run, not sent (cgi_pattern matches it too)" % url, repr(res))
    # The .htpasswd of a script's directory guards it with any tail.
    for url in ("/prot/p.cgi", "/prot/p.cgi/x/y", "/prot/p.lp/x", "/prot/x.txt/x",
                "/prot/nothere/x", "/alias/locked/l.txt", "/alias/locked/l.cgi/t",
                "/alias/locked/l.txt/t"):
        res = get(p, url)
        r.ok(res.status == 401 and b"PROT" not in res.body and b"LOCKED" not in res.body
             and not res.body.startswith(b"RAN"),
             "per-directory .htpasswd: %s needs credentials" % url, repr(res))
    for url, want in (("/prot/p.cgi/x/y", b"PATH_INFO=/x/y"), ("/prot/p.lp/z", b"RAN /z"),
                      ("/alias/locked/l.cgi/t", b"PATH_INFO=/t")):
        _, ch = challenge_of(get(p, url))
        res = get(p, url, headers=digest_hdr("u", "pw", "example.com", ch.get("nonce", ""), url))
        r.ok(res.status == 200 and want in res.body,
             "per-directory .htpasswd: %s runs with the password" % url, repr(res))


def main():
    tap = kitetest.Tap()
    rec = Rec("windows")
    d = tempfile.mkdtemp(prefix="kited-it-lhw-")
    try:
        for rel, data in TREE.items():
            path = os.path.join(d, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(data)
            if rel.endswith((".cgi", ".bak")):
                os.chmod(path, 0o755)
        for dirname in ("htdocs/prot", "alias/locked"):
            kited_A(os.path.join(d, dirname, ".htpasswd"), "example.com", "u", "pw")
        p = test_kited.free_port()
        with open(os.path.join(d, "libhttp.conf"), "w") as f:
            f.write("document_root htdocs\n"
                    "listening_ports 127.0.0.1:%d\n"
                    "hide_files_patterns **.bak$|**secret.txt$\n"
                    "url_rewrite_patterns /alias=%s\n"
                    "enable_directory_listing yes\n"
                    "authentication_domain example.com\n"
                    "cgi_pattern **.cgi$|**.bak$\n"
                    "cgi_environment FOO=bar\n" % (p, os.path.join(d, "alias")))
        run_libhttp(rec, "alias and PATH_INFO", d, ["--libhttp", "libhttp.conf"],
                    lambda _: check(rec, p))
    finally:
        shutil.rmtree(d, ignore_errors=True)
    rec.replay(tap)
    tap.done()


if __name__ == "__main__":
    main()
