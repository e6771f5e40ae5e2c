#!/usr/bin/python3
"""civetweb's Lua API in kited --libhttp (issue 19): a copy of
tests/data/lua-civet served with an options file as civetweb's would be
(authentication_domain, hide_files_patterns), and the calls civetweb's own
test pages make: mg.get_var(nil, ...), pairs(mg), mg.script_name,
mg.auth_domain, mg.include with its path types, what a page may not do
(os.exit and the rest: kited goes on serving), mg.send_http_ok/error/
redirect, mg.send_file(_body) never sending a hidden file or one out of
the docroot, mg.response, mg.get_option, get_info, split_form_data,
require beside the script (not out of the docroot), lfs and sqlite3.

usage: test_lua_civet.py KITED PLUGIN_DIR
"""
import os
import re
import shutil
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kitetest  # noqa: E402
import test_kited  # noqa: E402  (takes KITED PLUGIN_DIR from sys.argv too)
from test_kited import Rec, get  # noqa: E402
from test_libhttp import make_cert, run_libhttp  # noqa: E402

DATA = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data",
                                     "lua-civet"))


def lines(body):
    return dict(x.split("=", 1) for x in body.decode().splitlines() if "=" in x)


def t_items(r, p, root):
    # item 3
    r.eq(get(p, "/getvar.lp").body, b"x=nil\n",
         "mg.get_var(mg.request_info.query_string, 'x') without a query: nil, not a 500")
    r.eq(get(p, "/getvar.lp?x=a%20b").body, b"x=a b\n", "mg.get_var with a query")
    # item 5
    res = get(p, "/mgtable.lua")
    got = lines(res.body)
    names = set(got.get("names", "").split(","))
    want = {"write", "read", "include", "redirect", "send_file", "send_file_body",
            "send_http_ok", "send_http_error", "send_http_redirect", "get_option", "get_info",
            "get_var", "get_cookie", "get_mime_type", "get_response_code_text",
            "split_form_data", "url_encode", "url_decode", "base64_encode", "base64_decode",
            "md5", "keep_alive", "onerror", "cry", "time", "random", "uuid", "version",
            "request_info", "document_root", "auth_domain", "script_name", "lua_type",
            "system", "websocket_root", "response"}
    r.ok(res.status == 200 and int(got.get("count", 0)) >= 35 and not want - names,
         "pairs(mg) yields civetweb's mg entries (%s of them)" % got.get("count"),
         "missing: %s\n%s" % (want - names, res.body))
    r.eq(got.get("script_name"), os.path.join(root, "mgtable.lua"),
         "mg.script_name: the script's path")
    r.eq(got.get("auth_domain"), "civet.example", "mg.auth_domain: the configured domain")
    res = kitetest.request(p, "POST", "/reqinfo.lua/a%20b?q=1", body="x=1",
                           headers=[("Content-Type", "application/x-www-form-urlencoded")])
    r.eq(lines(res.body), {"content_type": "application/x-www-form-urlencoded",
                           "uri_raw": "/reqinfo.lua/a%20b", "path_info": "/a b",
                           "request_link": "http://localhost/reqinfo.lua/a%20b",
                           "uri": "/reqinfo.lua/a b"},
         "mg.request_info: civetweb's content_type, uri_raw, request_link, path_info")
    # item 7
    r.eq(get(p, "/inc_rel.lp").body, b"rel:[sub part ok]\n\n",
         "mg.include(path, 'rel') runs a .lp as a page")
    r.eq(get(p, "/sub/inc_file.lp").body, b"file:[sub part ok]\n\n",
         "mg.include(path, 'file'): from the including page's directory")
    r.eq(get(p, "/inc_virt.lp").body, b"virtual:[sub part ok]\n\n",
         "mg.include(path, 'virtual'): from the document root, as a page")
    r.eq(get(p, "/sub/inc_virt.lp").body, b"virtual from sub:[part 42]\n\n",
         "mg.include 'virtual' from a page in a subdirectory: still the document root")
    r.eq(get(p, "/inc_abs.lp").body, b"abs:[sub part ok]\n\n",
         "mg.include(absolute path, 'abs') as a page")
    res = get(p, "/inc_out.lp")
    r.ok(res.status == 500 and b"outside" not in res.body,
         "mg.include('../outside.lp', 'virtual'): refused (500), the file not run",
         repr(res.status))
    r.eq(get(p, "/inc_bad.lp").status, 500, "mg.include with an unknown path type: an error")
    r.eq(get(p, "/recurse.lp").status, 500, "a page including itself: a 500 (C stack overflow "
         "is a Lua error), not a crash")
    r.eq(get(p, "/selfreq.lua").status, 500, "a module requiring itself: a 500")
    r.eq(get(p, "/hello.txt").status, 200, "kited serves after them")


def t_exit(r, p, logs):
    res = get(p, "/exit.lua")
    r.ok(res.status == 500 or b"after" not in res.body,
         "os.exit() in a script: an error of the script", repr((res.status, res.body)))
    res = get(p, "/exit.lp")
    r.eq(res.status, 500, "os.exit(true, true) in a page: a 500")
    r.eq(get(p, "/hello.txt").body, b"hello file\n", "kited still serves after os.exit")
    got = lines(get(p, "/audit.lua").body)
    for k in ("os.exit", "os.execute", "io.popen", "os.setlocale set", "collectgarbage stop",
              "collectgarbage incremental", "load binary", "loadfile stdin", "lfs.chdir",
              "io.open fifo", "io.lines fifo", "io.input fifo", "dofile fifo",
              "io.open /dev/tty"):
        r.eq(got.get(k), "refused", "a page may not: %s" % k)
    r.eq((got.get("debug.sethook"), got.get("debug.getregistry"), got.get("debug.traceback")),
         ("nil", "nil", "function"), "debug: traceback only (no sethook to lift the budget)")
    r.eq((got.get("package.loadlib"), got.get("package.cpath")), ("nil", "[]"),
         "no package.loadlib, no C modules on package.cpath")
    r.eq((got.get("io.read"), got.get("io.stdin:read")), ("nil", ""),
         "io.read and io.stdin read /dev/null, not the server's stdin")
    r.ok(got.get("os.setlocale get") not in (None, "nil"), "os.setlocale() still reads")
    r.eq((got.get("collectgarbage count"), got.get("load text")), ("number", "42"),
         "collectgarbage('count') and text load work")
    r.eq(got.get("require C"), "not found", "require of an unknown module: not found")
    r.eq(got.get("io.open /dev/null"), "file", "io.open of /dev/null (a memory device) works")


def t_send(r, p):
    res = get(p, "/send_ok.lua")
    r.eq((res.status, res.header("Content-Type"), res.header("Content-Length"), res.body),
         (200, "text/plain", "9", b"all fine\n"), "mg.send_http_ok(mime, body)")
    res = get(p, "/send_ok_len.lua")
    r.eq((res.status, res.header("Content-Type"), res.body), (200, "application/json",
                                                               b'{"a": true}'),
         "mg.send_http_ok(mime, length) then mg.write")
    res = get(p, "/send_error.lua")
    r.ok(res.status == 418 and b"short and stout" in res.body,
         "mg.send_http_error(418, text)", repr((res.status, res.body[:200])))
    res = get(p, "/send_redirect.lua")
    r.eq((res.status, res.header("Location")), (307, "/elsewhere.txt"),
         "mg.send_http_redirect(url, 307)")
    res = get(p, "/send_file.lua?f=hello.txt")
    r.eq((res.status, res.header("Content-Type"), res.body),
         (200, "text/plain; charset=utf-8", b"hello file\n"), "mg.send_file of a docroot file")
    for f, what in (("hidden.bak", "a hidden file (hide_files_patterns)"),
                    ("link_out.txt", "a symlink out of the docroot"),
                    ("../outside.txt", "'..' out of the docroot"),
                    ("link_hidden.txt", "a symlink to a hidden file"),
                    ("sub", "a directory"),
                    ("pipe.fifo", "a FIFO (opened without waiting)")):
        res = get(p, "/send_file.lua?f=" + f)
        r.ok(res.status == 404 and b"secret" not in res.body and b"hidden backup" not in res.body,
             "mg.send_file of %s: 404, not sent" % what, repr((res.status, res.body[:100])))
        res = get(p, "/send_file_body.lua?f=" + f)
        r.eq(res.body, b"<>false\n", "mg.send_file_body of %s: false, nothing sent" % what)
    res = get(p, "/send_file_body.lua?f=hello.txt")
    r.eq((res.status, res.body), (200, b"<hello file\n>true\n"),
         "mg.send_file_body after the page's own head")
    res = get(p, "/send_file.lua?f=hello.txt", headers=[("Range", "bytes=6-")])
    r.eq((res.status, res.header("Content-Range"), res.body), (206, "bytes 6-10/11", b"file\n"),
         "mg.send_file answers a Range request as kite's file serving does")
    etag = get(p, "/send_file.lua?f=hello.txt").header("ETag")
    res = get(p, "/send_file.lua?f=hello.txt", headers=[("If-None-Match", etag or "x")])
    r.eq((res.status, res.body), (304, b""), "mg.send_file: If-None-Match gets a 304")
    res = kitetest.request(p, "POST", "/send_file.lua?f=hello.txt", body="x=1")
    r.eq((res.status, res.body), (200, b"hello file\n"), "mg.send_file on a POST: the file")
    res = kitetest.request(p, "HEAD", "/send_file.lua?f=hello.txt")
    r.eq((res.status, res.body), (200, b""), "mg.send_file on HEAD: the head only")
    res = get(p, "/response.lua")
    r.eq((res.status, res.header("Content-Type"), res.header("X-Civet"), res.body),
         (202, "text/plain", "yes", b"made with mg.response\n"),
         "mg.response.status, http_headers, send()")
    res = get(p, "/response_bad.lua")
    r.ok(res.status == 500 and res.header("Set-Cookie") is None,
         "mg.response: a line break in a field value is an error, no injected field",
         repr(res.status))
    res = get(p, "/redirect.lua")
    r.eq((res.status, res.body), (200, b"hello file\n"), "mg.redirect(uri): an internal redirect")


def t_info(r, p):
    got = lines(get(p, "/info.lua").body)
    want = {"document_root": "true", "authentication_domain": "civet.example",
            "lua_script_pattern": "**.lua$", "hide_files_patterns": "**.bak$|**secret.txt$",
            "num_threads": "true", "no_such_option": "nil", "all": "table",
            "all_hide": "**.bak$|**secret.txt$ all_auth=civet.example",
            "text404": "Not Found", "text299": "Success", "system_json": "{",
            "context_json": "{", "split": "a:1;b:x y!;a:2;flag:nil;", "same": "true",
            "time": "true", "uuid": "hhhhhhhh-hhhh-hhhh-hhhh-hhhhhhhhhhhh", "random": "true"}
    bad = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
    r.eq(bad, {}, "mg.get_option, get_response_code_text, get_info, split_form_data, time, "
         "uuid, random")


def t_modules(r, p):
    res = get(p, "/usemod.lua")
    r.eq((res.status, res.body), (200, b"hello civet true deep set by helper\n"),
         "require of a module beside the script (and sub.deep), once per request")
    r.eq(get(p, "/sub/usetop.lua").body, b"hello from sub\n",
         "require of a module in the document root from a script in a subdirectory")
    res = get(p, "/useout.lua")
    r.eq(res.body, b"refused: outside the document root\n",
         "require of a module that is a symlink out of the docroot: refused")
    res = get(p, "/lfs.lp")
    r.eq((res.status, res.body),
         (200, b"dir=deep.lua,inc_file.lp,inc_virt.lp,part.lp,usetop.lua\nmode=file size=11 same=true\n"),
         "lfs (Debian's lua-filesystem): dir, attributes, require 'lfs'")
    t0 = time.monotonic()
    res = get(p, "/db.lua", timeout=30)
    got = lines(res.body)
    want = {"insert": "true rowid=true", "first": "/db.lua,7 value0=true", "rows>0": "true",
            "nrows": "/db.lua,7", "rows": "1,two", "urows": "3,4", "exec": "five=5",
            "bad": "true errmsg=true", "prepare_bad": "nil,true", "runaway": "true",
            "close": "0"}
    bad = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
    r.eq(bad, {}, "sqlite3 (lsqlite3 API): open, exec, prepare, bind_values, step, get_values, "
         "rows, nrows, urows, close; a runaway query interrupted")
    r.diag("db.lua took %.2f s" % (time.monotonic() - t0))


def h2_get(port, target):
    """GET over HTTP/2 (TLS, ALPN h2) on kited's "s" port."""
    import kiteh2
    c = kiteh2.Conn(port, tls=True)
    try:
        st = c.wait([c.request("GET", target, authority="localhost")], 10)[0]
    finally:
        c.close()
    hdrs = dict((k.decode(), v.decode()) for k, v in st.headers or [])
    return st.reset, int(hdrs.get(":status", 0)), hdrs, bytes(st.data)


def t_h2(r, ps):
    """The same calls on HTTP/2 streams."""
    reset, status, _, body = h2_get(ps, "/getvar.lp")
    r.eq((reset, status, body), (None, 200, b"x=nil\n"), "h2: mg.get_var(nil, 'x')")
    reset, status, hdrs, body = h2_get(ps, "/send_ok.lua")
    r.eq((status, hdrs.get("content-length"), body), (200, "9", b"all fine\n"),
         "h2: mg.send_http_ok")
    reset, status, hdrs, body = h2_get(ps, "/response.lua")
    r.eq((status, hdrs.get("x-civet"), body), (202, "yes", b"made with mg.response\n"),
         "h2: mg.response.send()")
    reset, status, _, body = h2_get(ps, "/send_file.lua?f=hello.txt")
    r.eq((status, body), (200, b"hello file\n"), "h2: mg.send_file")
    for f in ("hidden.bak", "link_out.txt", "../outside.txt"):
        reset, status, _, body = h2_get(ps, "/send_file.lua?f=" + f)
        r.ok(status == 404 and b"secret" not in body and b"hidden backup" not in body,
             "h2: mg.send_file of %s: 404" % f, repr((reset, status, body[:80])))
    reset, status, _, body = h2_get(ps, "/send_error.lua")
    r.ok(status == 418 and b"short and stout" in body, "h2: mg.send_http_error",
         repr((reset, status)))
    reset, status, _, body = h2_get(ps, "/inc_virt.lp")
    r.eq((status, body), (200, b"virtual:[sub part ok]\n\n"), "h2: mg.include 'virtual'")
    reset, status, _, body = h2_get(ps, "/exit.lp")
    r.eq(status, 500, "h2: os.exit in a page: a 500")
    reset, status, _, body = h2_get(ps, "/db.lua")
    r.ok(status == 200 and b"runaway=true" in body, "h2: sqlite3", repr(body[-200:]))
    reset, status, _, body = h2_get(ps, "/usemod.lua")
    r.eq((status, body), (200, b"hello civet true deep set by helper\n"), "h2: require beside")
    reset, status, _, body = h2_get(ps, "/hello.txt")
    r.eq((status, body), (200, b"hello file\n"), "h2: kited still serves")


def main():
    tap = kitetest.Tap()
    rec = Rec("lua_civet")
    d = tempfile.mkdtemp(prefix="kited-it-civet-")
    try:
        root = os.path.join(d, "root")
        shutil.copytree(DATA, root)
        with open(os.path.join(d, "outside.txt"), "w") as f:
            f.write("secret outside\n")
        with open(os.path.join(d, "outside.lp"), "w") as f:
            f.write("outside <?= 1 ?>\n")
        with open(os.path.join(d, "outmod.lua"), "w") as f:
            f.write("return {}\n")
        with open(os.path.join(root, "secret.txt"), "w") as f:
            f.write("secret inside\n")
        os.symlink(os.path.join(d, "outside.txt"), os.path.join(root, "link_out.txt"))
        os.symlink(os.path.join(root, "secret.txt"), os.path.join(root, "link_hidden.txt"))
        os.symlink(os.path.join(d, "outmod.lua"), os.path.join(root, "outmod.lua"))
        os.mkfifo(os.path.join(root, "pipe.fifo"))
        p, ps = test_kited.free_port(), test_kited.free_port()
        crt, key = make_cert(d, "srv", "localhost")
        with open(os.path.join(d, "both.pem"), "w") as f:
            f.write(open(key).read() + open(crt).read())
        with open(os.path.join(d, "civet.conf"), "w") as f:
            f.write("document_root root\nlistening_ports 127.0.0.1:%d,127.0.0.1:%ds\n"
                    "ssl_certificate both.pem\n"
                    "authentication_domain civet.example\n"
                    "hide_files_patterns **.bak$|**secret.txt$\n" % (p, ps))
        real_root = os.path.realpath(root)

        def check(_):
            for name, fn in (("items", lambda: t_items(rec, p, real_root)),
                             ("exit", lambda: t_exit(rec, p, d)),
                             ("send", lambda: t_send(rec, p)), ("info", lambda: t_info(rec, p)),
                             ("modules", lambda: t_modules(rec, p)),
                             ("h2", lambda: t_h2(rec, ps))):
                try:
                    fn()
                except Exception:
                    rec.ok(False, "%s: ran to the end" % name, traceback.format_exc())
        run_libhttp(rec, "kited --libhttp, civetweb's Lua API", d, ["--libhttp", "civet.conf"],
                    check)
        text = open(os.path.join(d, ".stderr"), errors="replace").read()
        rec.ok(re.search(r"os\.exit is not available", text), "the log says why os.exit failed")
    finally:
        shutil.rmtree(d, ignore_errors=True)
    rec.replay(tap)
    tap.done()


if __name__ == "__main__":
    main()
