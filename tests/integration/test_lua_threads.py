#!/usr/bin/python3
"""Lua on two service threads (kite-test-server -t 2 -L tests/data/lua):
each thread makes its own Lua state on its first request; pages,
scripts, runaway loops, POST bodies and Lua websockets from many clients
at once, connections landing on both threads. Run under TSan in the
threads suite.

usage: test_lua_threads.py SERVER
"""
import concurrent.futures
import os
import sys

sys.dont_write_bytecode = True
import kitetest as kt  # noqa: E402
import kitews  # noqa: E402

DATA = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data",
                                     "lua"))


def test_http(t, srv):
    def one(i):
        kind = i % 4
        if kind == 0:
            r = kt.request(srv.port, "GET", "/lua/hello.lp?%d" % i, timeout=30)
            return r.status == 200 and b"Hello" in r.body
        if kind == 1:
            r = kt.request(srv.port, "GET", "/lua/leak.lua", timeout=30)
            return r.body.startswith(b"leaked=nil\n")
        if kind == 2:
            r = kt.request(srv.port, "POST", "/lua/post.lua", body=b"y" * 100000, timeout=30)
            return r.status == 200 and r.body.startswith(b"100000 ")
        r = kt.request(srv.port, "GET", "/lua/loop.lua", timeout=30)
        return r.status == 500
    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as ex:
        res = list(ex.map(one, range(400)))
    t.eq(res.count(False), 0, "400 requests (pages, scripts, POSTs, runaways) from 32 clients")


def test_ws(t, srv):
    def one(i):
        with kitews.WsConn(srv.port, path="/lua/ws/echo.lua", timeout=30) as w:
            w.handshake()
            ok = w.recv_message()[1] == b"ready"
            for k in range(20):
                w.send_text("m%d-%d" % (i, k))
                ok = ok and w.recv_message()[1] == ("m%d-%d" % (i, k)).encode()
            return ok
    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as ex:
        res = list(ex.map(one, range(64)))
    t.eq(res.count(False), 0, "64 Lua websockets echo 20 messages each")


if __name__ == "__main__":
    kt.run_tests([test_http, test_ws], args=["-t", "2", "-L", DATA, "-B", "2000000"])
