#!/usr/bin/python3
"""Lua in the server through kite-test-server -L (a copy of tests/data/lua
mounted at /lua with the LibHTTP page and script patterns, -P preload.lua,
-B 2000000 instructions, -M 64 MiB) and -l (lhttpd handlers at /lh and
/up): pages and scripts, the page's own status line and kite's default
head, request_info, every mg function, print, LSP edge cases, nested
includes, a 10 MB POST read with mg.read, errors (500 with a traceback
in the log, or a cut connection once the head went out, mg.onerror),
runaway loops and memory ended while other requests are served, no budget
(-B off) letting a long loop finish, globals
not leaking, compile once and reload on mtime, changes seen at once
(inotify) or within a second (a directory swapped), mg.redirect, send_file,
keep_alive, sleep, connect() (plain and TLS), index.lp, interpret, and the lhttpd
example from its README verbatim.

usage: test_lua.py SERVER (kite-test-server or kite-test-extpoll)
"""
import concurrent.futures
import hashlib
import os
import shutil
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
import kitetest as kt  # noqa: E402

DATA = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data",
                                     "lua"))
LUA = tempfile.mkdtemp(prefix="kite-lua-")
shutil.rmtree(LUA)
shutil.copytree(DATA, LUA)


def get(srv, target, **kw):
    return kt.request(srv.port, "GET", target, timeout=30, **kw)


def lines(body):
    return dict(x.split("=", 1) for x in body.decode().splitlines() if "=" in x)


def test_pages(t, srv):
    r = get(srv, "/lua/hello.lp")
    t.eq((r.status, r.header("Content-Type"), r.framing), (200, "text/html", "chunked"),
         "a page without a status line: 200 text/html, chunked")
    t.ok(b"<p>Hello /lua/hello.lp</p>" in r.body and b"<i>1</i><i>2</i><i>3</i>" in r.body,
         "<? ?> and <?= ?> blocks share the page's code", kt.short(r.body))
    r = get(srv, "/lua/nostatus.lp")
    t.eq(r.body, b"plain 42 page\n", "the page's text and an expression")
    with kt.Conn(srv.port) as c:
        c.send(kt.build_request("GET", "/lua/own_status.lp"))
        r = c.read_response()
        t.eq((r.status, r.header("X-Own"), r.header("Content-Type"), r.body),
             (201, "yes", "text/plain", b"created\n"),
             "the page's own HTTP/1.0 status line and fields are parsed by kite")
        t.eq((r.framing, r.header("Connection")), ("chunked", None),
             "its Connection: close is kite's business: the body is framed, the conn kept")
        c.send(kt.build_request("GET", "/lua/hello.lua"))
        r = c.read_response()
        t.eq((r.status, r.header("Content-Type"), r.body), (200, "text/plain", b"hello from lua\n"),
             "a .lua script on the same connection")
    r = get(srv, "/lua/split_status.lua")
    t.eq((r.status, r.header("X-A"), r.body), (404, "1", b"gone"),
         "a status line written in pieces is still the page's head")
    r = get(srv, "/lua/http_body.lua")
    t.eq((r.status, r.body), (200, b"HTTX is not a status line"), "'HTTX' is body, not a head")
    r = get(srv, "/lua/hello.lua", version="HTTP/1.0")
    t.eq((r.status, r.framing, r.body), (200, "close", b"hello from lua\n"),
         "HTTP/1.0: close-delimited")
    r = kt.request(srv.port, "HEAD", "/lua/hello.lp")
    t.eq((r.status, r.body), (200, b""), "HEAD: the head only")
    r = get(srv, "/lua/hello.luax")
    t.eq((r.status, r.body), (200, b"hello from lua\n"),
         "interpret {\".luax\": \"lua\"} hands the file to kite's lua protocol")
    r = get(srv, "/lua/dir/")
    t.eq((r.status, r.body), (200, b"index page\n"), "index.lp serves a directory")
    r = get(srv, "/lua/preload.lua.txt")
    t.eq(r.status, 404, "a missing file is a 404")


def test_request_info(t, srv):
    with kt.Conn(srv.port) as c:
        c.send(kt.build_request("POST", "/lua/info.lp?a=1&b=%41", [("X-Test", "v1"),
                                                                 ("X-Test", "v2")], b"xyz"))
        r = c.read_response("POST")
        port = c.sock.getsockname()[1]
    got = {}
    for x in r.body.decode().splitlines():
        k, _, v = x.partition("=")
        got[k] = v
    want = {
        "request_method": "POST", "http_version": "1.1", "uri": "/lua/info.lp",
        "request_uri": "/lua/info.lp?a=1&b=%41", "query_string": "a=1&b=%41",
        "remote_port": str(port), "server_port": str(srv.port), "https": "false",
        "script_name": os.path.join(LUA, "info.lp"), "content_length": "3", "num_headers": "4",
        "header:X-Test": "v1, v2", "header:Host": "localhost", "header:Content-Length": "3",
        "lua_type": "page", "document_root": LUA, "auth_domain": "localhost",
    }
    t.eq({k: got.get(k) for k in want}, want, "request_info fields and headers")
    t.ok(got.get("remote_addr") in ("127.0.0.1", "::ffff:127.0.0.1"), "remote_addr", got)
    t.ok(got.get("version", "").startswith("kite "), "mg.version", got)
    t.ok("remote_user" not in got, "remote_user is nil without authentication")
    r = get(srv, "/lua/page.lua?q=1", headers=[("X-Sample", "yes")])
    body = r.body.decode()
    t.ok(r.status == 200 and r.header("Content-Type") == "text/plain" and
         "  request_method = GET\n" in body and "  query_string = q=1\n" in body and
         "  http_headers:\n" in body and "    X-Sample = yes\n" in body,
         "LibHTTP's page.lua sample, rewritten: request_info with its nested tables", body)


def test_mg_functions(t, srv):
    r = get(srv, "/lua/mgfuncs.lua")
    want = {
        "url_encode": "a%20b%26c%2Fd~%C3%A9", "url_decode": "a b+c/d", "url_decode_form": "a b c",
        "base64_encode": "aGVsbG8sIGtpdGU=", "base64_decode": "hello, kite",
        "base64_roundtrip": "true", "md5": "900150983cd24fb0d6963f7d28e17f72",
        "get_var": "Jörg X", "get_var_missing": "nil", "get_var_second": "2",
        "get_cookie": "xyz", "get_cookie_missing": "nil",
        "mime_html": "text/html; charset=utf-8", "mime_png": "image/png", "keep_alive": "true",
    }
    t.eq(lines(r.body), want, "each request-independent mg function")
    r = get(srv, "/lua/print.lua")
    t.eq(r.body, b"a\t1\ttrue\tnil\nvia mg.print\n", "print goes to the page, mg.print too")
    r = get(srv, "/lua/greet.lp")
    t.eq(r.body, b"hello, preload\n", "lua-preload-file runs in the page's environment first")
    r = get(srv, "/lua/redirect.lua")
    t.eq((r.status, r.body), (200, b"plain 42 page\n"), "mg.redirect: an internal redirect")
    r = get(srv, "/lua/sendfile.lua")
    t.eq((r.status, r.header("Content-Type"), r.header("Content-Length"), r.body),
         (200, "text/plain; charset=utf-8", "26", b"file sent by mg.send_file\n"),
         "mg.send_file: the file with its MIME type and length")
    with kt.Conn(srv.port) as c:
        c.send(kt.build_request("GET", "/lua/keepalive.lua"))
        r = c.read_response()
        t.eq((r.header("Connection"), r.body), ("close", b"no keep-alive\n"),
             "mg.keep_alive(false) closes the connection after the response")
        t.ok(c.wait_closed(3), "... and it is closed")
    r = get(srv, "/lua/connect.lua?port=%d" % srv.port)
    t.eq(r.body, b"status=200\nbody=plain 42 page\n",
         "connect() to the server itself from its one thread: send/recv/close yield")


def test_connect_tls(t, srv):
    with kt.Server(t, args=["-s", "-L", LUA], name="TLS server") as tls:
        r = get(srv, "/lua/connect_tls.lua?port=%d" % tls.port)
        t.eq(r.body, b"status=200\nbody=plain 42 page\n",
             "connect(host, port, true): TLS to another server (handshake, send, recv)")
    r = get(srv, "/lua/connect_tls.lua?port=%d" % srv.port)
    t.eq(r.status, 500, "TLS to a plain HTTP port: the handshake fails, the script gets an error")


def test_lsp_edges(t, srv):
    r = get(srv, "/lua/qmark.lp")
    t.eq(r.body, b"[a?>b]\n[c?>d]\n[e?>f]\ng?>h\n<?xml is text ?>\n",
         "'?>' in strings and long comments does not end a block; a line comment ends there")
    r = get(srv, "/lua/include.lp")
    t.eq(r.body, b"begin\ninc1 sees outer\ninc2 ran\n\n\nafter=set-by-inc2 end\n",
         "nested mg.include shares the page's environment, paths relative to the includer")


def test_post(t, srv):
    body = kt.pattern(10 << 20)
    with kt.Conn(srv.port, timeout=60) as c:
        c.send(kt.build_request("POST", "/lua/post.lua", [("Content-Length", str(len(body)))]))
        c.send(body)
        r = c.read_response("POST", timeout=60)
    want = "%d %s pieces\n" % (len(body), hashlib.md5(body).hexdigest())
    t.eq((r.status, r.body.decode()), (200, want), "10 MB POST read with mg.read in pieces")
    big = b"x" * (40 << 20)
    r = kt.request(srv.port, "POST", "/lua/post.lua", body=big, timeout=60)
    t.eq(r.status, 500, "a body kept past lua-max-memory: a 500 the client gets (not a reset)")
    r = kt.request(srv.port, "POST", "/lua/post.lua", body=b"")
    t.eq(r.body, b"0 d41d8cd98f00b204e9800998ecf8427e one\n", "an empty body: mg.read gives nil")
    with kt.Conn(srv.port, timeout=30) as c:
        c.send(b"POST /lua/post.lua HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        r = c.read_response("POST")
    t.eq(r.body.decode()[:35], "11 %s" % hashlib.md5(b"hello world").hexdigest(),
         "a chunked body through mg.read")


def test_errors(t, srv):
    for page, where in (("error_syntax.lp", "error_syntax.lp:2:"),
                        ("error_runtime.lua", "error_runtime.lua:3:")):
        r = get(srv, "/lua/" + page)
        t.eq((r.status, r.framing, b"<h1>500 Internal Server Error</h1>" in r.body),
             (500, "length", True), "%s: a well-formed 500 page" % page)
        t.ok(b"lua" not in r.body, "... with nothing of the script in it", kt.short(r.body))
        time.sleep(0.1)
        t.ok(where in srv.stderr(), "... and the error with file:line in the log",
             srv.stderr()[-2000:])
    t.ok("error_runtime.lua:5: in" in srv.stderr(), "the traceback names the caller's line too",
         srv.stderr()[-2000:])
    with kt.Conn(srv.port) as c:
        c.send(kt.build_request("GET", "/lua/error_after.lua"))
        head = c.read_head()
        closed = c.wait_closed(5)
        rest = bytes(c.buf)
    t.eq((head.status, closed), (200, True),
         "an error after the head went out: the connection is closed")
    t.ok(b"partial output" in rest and not rest.endswith(b"0\r\n\r\n"),
         "... after what was sent, without a last chunk", rest)
    r = get(srv, "/lua/onerror.lua")
    t.eq((r.status, r.body), (503, b"custom: boom\n"), "mg.onerror set by the script answers")


def test_no_budget(t, srv):
    r = get(srv, "/lua/count.lua?n=5000000")
    t.eq(r.status, 500, "a tight loop past -B's budget: 500")
    with kt.Server(t, args=["-L", LUA, "-B", "off"], name="no-budget") as s2:
        r = get(s2, "/lua/count.lua?n=5000000")
        t.eq((r.status, r.body), (200, b"5000000\n"),
             "lua-instruction-budget off (-B off): the same loop runs to its end")


def test_runaway(t, srv):
    results = []

    def bad(page):
        t0 = time.monotonic()
        r = get(srv, "/lua/" + page)
        results.append((page, r.status, time.monotonic() - t0))

    threads = [threading.Thread(target=bad, args=(p,))
               for p in ("loop.lua", "pcall_loop.lua", "loop.lua")]
    for th in threads:
        th.start()
    good, slow = 0, 0
    t_end = time.monotonic() + 2.0
    while time.monotonic() < t_end:
        t0 = time.monotonic()
        r = get(srv, "/lua/nostatus.lp")
        good += r.status == 200
        slow += time.monotonic() - t0 > 1.0
    for th in threads:
        th.join(30)
    t.eq(sorted((p, s) for p, s, _ in results),
         [("loop.lua", 500), ("loop.lua", 500), ("pcall_loop.lua", 500)],
         "a runaway loop (also one that catches errors) ends with 500")
    # A memory hog runs within its budget: it holds the thread while it
    # allocates, until lua-max-memory stops it.
    r = get(srv, "/lua/memory.lua")
    t.eq(r.status, 500, "a memory hog ends with 500 at lua-max-memory")
    t.ok(good > 5 and not slow, "other requests are served meanwhile (%d, %d slow)" % (good, slow))
    t.ok("instruction budget exceeded" in srv.stderr(), "the budget is named in the log")
    t.ok("not enough memory" in srv.stderr(), "the memory cap is named in the log")
    r = get(srv, "/lua/hello.lp")
    t.eq(r.status, 200, "the thread's Lua state serves on afterwards")


def test_isolation(t, srv):
    a = get(srv, "/lua/leak.lua").body
    b = get(srv, "/lua/leak.lua").body
    t.eq((a, b), (b"leaked=nil\nshared=counted\nmg=nil,nil\nown=set,set,function\n",) * 2,
         "a global or mg field set by one request is not seen by the next; shared is")


def test_compile_once(t, srv):
    get(srv, "/lua/compile.lua")
    r = get(srv, "/lua/compile.lua")
    t.eq(r.body, b"same=true version=1\n", "compiled once: the same chunk on the next request")
    path = os.path.join(LUA, "compile.lua")
    with open(path) as f:
        src = f.read()
    with open(path, "w") as f:
        f.write(src.replace("version=1", "version=2"))
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1000000000))
    r = get(srv, "/lua/compile.lua")
    t.eq(r.body, b"same=false version=2\n", "a new mtime: compiled again")
    r = get(srv, "/lua/compile.lua")
    t.eq(r.body, b"same=true version=2\n", "... and once only")


def put(path, text, mtime_ns=None):
    with open(path, "w") as f:
        f.write(text)
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))


def test_file_changes(t, srv):
    # The thread's table of Lua files: no stat() per request, and yet a
    # change is seen by the next request (inotify), and what a watch on
    # the file cannot see (a directory of the path swapped) within the
    # second after which an entry is checked with stat() again.
    d = os.path.join(LUA, "chg")
    os.makedirs(d)
    p = os.path.join(d, "same.lua")
    put(p, "mg.write('A')\n")
    old = os.stat(p).st_mtime_ns
    t.eq(get(srv, "/lua/chg/same.lua").body, b"A", "a new script")
    put(p, "mg.write('B')\n", old)
    t.eq(get(srv, "/lua/chg/same.lua").body, b"B",
         "rewritten in place, same size and same mtime: compiled again at once")
    put(os.path.join(d, "new.tmp"), "mg.write('C')\n", old)
    os.rename(os.path.join(d, "new.tmp"), p)
    t.eq(get(srv, "/lua/chg/same.lua").body, b"C", "replaced by a rename: compiled again at once")
    os.unlink(p)
    t.eq(get(srv, "/lua/chg/same.lua").status, 404, "deleted: 404 at once")
    put(p, "mg.write('D')\n")
    t.eq(get(srv, "/lua/chg/same.lua").body, b"D", "made again")
    put(os.path.join(d, "v1.lua"), "mg.write('v1')\n")
    put(os.path.join(d, "v2.lua"), "mg.write('v2')\n")
    os.symlink("v1.lua", os.path.join(d, "link.lua"))
    t.eq(get(srv, "/lua/chg/link.lua").body, b"v1", "a symlink")
    os.symlink("v2.lua", os.path.join(d, "link.new"))
    os.rename(os.path.join(d, "link.new"), os.path.join(d, "link.lua"))
    t.eq(get(srv, "/lua/chg/link.lua").body, b"v2",
         "the symlink swapped: seen at once (a symlink is checked on every use)")
    for rel in ("r1", "r2"):
        os.makedirs(os.path.join(d, rel))
        put(os.path.join(d, rel, "page.lua"), "mg.write('%s')\n" % rel, old)
    os.symlink("r1", os.path.join(d, "cur"))
    t.eq(get(srv, "/lua/chg/cur/page.lua").body, b"r1", "a page under a directory symlink")
    os.symlink("r2", os.path.join(d, "cur.new"))
    os.rename(os.path.join(d, "cur.new"), os.path.join(d, "cur"))
    t0 = time.monotonic()
    got = None
    while time.monotonic() - t0 < 5 and got != b"r2":
        got = get(srv, "/lua/chg/cur/page.lua").body
        time.sleep(0.05)
    took = time.monotonic() - t0
    t.ok(got == b"r2" and took < 2.5,
         "the directory swapped under it (same size and mtime): seen within the second",
         "%r after %.2f s" % (got, took))
    outside = tempfile.mkdtemp(prefix="kite-lua-out-")
    try:
        put(os.path.join(outside, "x.lua"), "mg.write('escaped')\n")
        os.symlink(os.path.join(outside, "x.lua"), os.path.join(d, "out.lua"))
        r = get(srv, "/lua/chg/out.lua")
        t.eq((r.status, b"escaped" in r.body), (403, False),
             "a symlink that leaves the docroot: 403 and the script is not run, as for a file")
    finally:
        shutil.rmtree(outside, ignore_errors=True)


def test_waits(t, srv):
    out = {}

    def slow():
        t0 = time.monotonic()
        out["body"] = get(srv, "/lua/sleep.lua?ms=600").body
        out["took"] = time.monotonic() - t0

    th = threading.Thread(target=slow)
    th.start()
    time.sleep(0.1)
    t0 = time.monotonic()
    r = get(srv, "/lua/nostatus.lp")
    fast = time.monotonic() - t0
    th.join(10)
    t.ok(r.status == 200 and fast < 0.4, "a page answers while another sleeps (%.3f s)" % fast)
    t.ok(out.get("body") == b"slept\n" and out.get("took", 0) >= 0.55, "mg.sleep waits", out)
    with kt.Conn(srv.port, timeout=60, rcvbuf=65536) as c:
        c.send(kt.build_request("GET", "/lua/big.lua"))
        time.sleep(0.5)
        r = c.read_response(timeout=60)
    want = b"0123456789abcdef" * 4096 * 128
    t.eq((len(r.body), r.body == want), (len(want), True),
         "8 MiB through mg.write to a slow reader (it waits on the output cap)")

    with kt.Conn(srv.port, timeout=60, rcvbuf=65536) as c:
        rss0 = srv.rss_kb()
        c.send(kt.build_request("GET", "/lua/big.lua?n=1024"))
        time.sleep(1.0)
        rss1 = srv.rss_kb()
        r = c.read_response(timeout=60)
    t.eq(len(r.body), 64 << 20, "64 MiB from a script to a client that reads late")
    t.ok(rss1 - rss0 < 16 * 1024, "... the server holds no more than its output cap meanwhile "
         "(RSS +%d KiB)" % (rss1 - rss0))

    def one(i):
        r = get(srv, "/lua/hello.lp?%d" % i)
        return r.status == 200 and b"Hello" in r.body
    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as ex:
        res = list(ex.map(one, range(200)))
    t.eq(res.count(False), 0, "200 pages from 50 clients at once")


EXAMPLE = b"""httpd = require 'httpd'

local function foo(env, header) 
    local head = {[":status"] = "200"} 
    httpd.header(head)

    for n,v in pairs(env) do
        httpd.write(nil, n.." "..v.."\\n")
    end
    for n,v in pairs(header) do
        httpd.write(nil, n.." "..v.."\\n")
    end
end

httpd.register_handler("/bar", foo)
"""


def test_lhttpd(t, srv):
    with open(os.path.join(DATA, "lhttpd", "example.lua"), "rb") as f:
        t.eq(f.read(), EXAMPLE, "tests/data/lua/lhttpd/example.lua is the README's example")
    r = get(srv, "/lh/bar?q=1", headers=[("X-Thing", "yes")])
    got = set(r.body.decode().splitlines())
    want = {"REQUEST_METHOD GET", "PATH_INFO /bar", "SCRIPT_NAME /lh", "QUERY_STRING q=1",
            "REQUEST_URI /lh/bar?q=1", "SERVER_PROTOCOL HTTP/1.1", ":method GET",
            ":path /lh/bar?q=1", "x-thing yes", "host localhost"}
    t.eq((r.status, want - got), (200, set()), "the lhttpd example: env and header tables")
    t.eq(get(srv, "/lh/nothing").status, 404, "a name no handler has: 404")
    body = kt.pattern(3 << 20)
    r = kt.request(srv.port, "POST", "/up/upload", body=body, timeout=60)
    t.eq((r.status, r.header("X-Handler"), r.header("Content-Type"), r.body.decode()),
         (201, "upload", "text/plain", "%d %s\n" % (len(body), hashlib.md5(body).hexdigest())),
         "httpd.read(nil, n) in pieces and httpd.header with fields")
    r = get(srv, "/up/file")
    t.eq(r.body, b"-- An lhttpd upload handler: r", "httpd.read on a Lua file (a stream)")
    t.eq(get(srv, "/up/greet").body, b"hello, handler", "lua-preload-file runs before a handler script")
    t.eq(get(srv, "/re/v").body, b"v1", "a handler script")
    path = os.path.join(LUA, "lhttpd", "ver.lua")
    with open(path) as f:
        src = f.read()
    with open(path, "w") as f:
        f.write(src.replace("v1", "v2"))
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1000000000))
    t.eq(get(srv, "/re/v").body, b"v2", "a changed handler script is run again")


if __name__ == "__main__":
    try:
        kt.run_tests([test_pages, test_request_info, test_mg_functions, test_lsp_edges,
                      test_connect_tls, test_post, test_errors, test_runaway, test_no_budget,
                      test_isolation,
                      test_compile_once, test_file_changes, test_waits, test_lhttpd],
                     args=["-L", LUA, "-P", os.path.join(LUA, "preload.lua"), "-B", "2000000",
                           "-M", str(48 << 20),
                           "-l", "/lh", os.path.join(LUA, "lhttpd", "example.lua"),
                           "-l", "/up", os.path.join(LUA, "lhttpd", "upload.lua"),
                           "-l", "/re", os.path.join(LUA, "lhttpd", "ver.lua")])
    finally:
        shutil.rmtree(LUA, ignore_errors=True)
