#!/usr/bin/python3
"""Interop of kite-test-server with real WebSocket peers.

- Debian's libwebsockets-test-client (lws 4.1) runs against it for 10 s:
  its dumb-increment connection prints "rx N 'V'" lines whose values must
  count up, its lws-mirror-protocol connection must be established (with
  its permessage-deflate offer agreed; dumb-increment opts out), and
  no connection error may be logged. Then `-o` posts its form to
  /formtest and must get 200.
- python3-websockets (Debian, 10.4) as a second peer: echo round trips of
  many sizes, text and binary, ping/pong, a fragmented message, the
  close code echoed, dumb-increment counting, lws-status listing the
  connection.
- curl: a plain HTTP GET on the same port meanwhile.
The peers must be installed (`make deps`): a missing one is a failure.
"""
import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True
import kitetest as kt  # noqa: E402

LWS_CLIENT = "/usr/bin/libwebsockets-test-client"
RUN_SECS = 10

try:
    import websockets
    import websockets.exceptions
except ImportError:  # Debian python3-websockets; `make deps` installs it
    websockets = None


def run_lws_client(args, secs):
    """Run the lws test client for @secs (then SIGINT, as a user's ^C);
    returns (returncode, output). It exits by itself on -o."""
    p = subprocess.Popen([LWS_CLIENT] + args, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        out, _ = p.communicate(timeout=secs)
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGINT)
        try:
            out, _ = p.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
    return p.returncode, out.decode("utf-8", "replace")


def test_lws_test_client(t, srv):
    if not t.ok(os.access(LWS_CLIENT, os.X_OK),
                "%s is installed (Debian libwebsockets-test-server)" % LWS_CLIENT):
        return
    # -d 15: errors, warnings, notices and info, where the "rx" lines are.
    rc, out = run_lws_client(["127.0.0.1", "-p", str(srv.port), "-d", "15"], RUN_SECS)
    rx = [int(v) for v in re.findall(r"\] I: rx \d+ '(\d+)'", out)]
    t.ok(len(rx) >= 5 * RUN_SECS,
         "lws test client: %d dumb-increment rx lines in %d s (>= %d)"
         % (len(rx), RUN_SECS, 5 * RUN_SECS), out[-3000:])
    steps = [b - a for a, b in zip(rx, rx[1:])]
    t.ok(rx and rx[0] <= 1 and all(s == 1 for s in steps),
         "lws test client: the rx values count up by one from 0 (%s ... %s)"
         % (rx[:3], rx[-3:]), "steps other than 1: %s" % [s for s in steps if s != 1][:10])
    t.ok("dumb: LWS_CALLBACK_CLIENT_ESTABLISHED" in out,
         "lws test client: dumb-increment connection established")
    t.ok("mirror: LWS_CALLBACK_CLIENT_ESTABLISHED" in out and
         "opened mirror connection" in out,
         "lws test client: lws-mirror-protocol connection established", out[-3000:])
    # It offers permessage-deflate on both; kite agrees on the mirror one
    # and not on dumb-increment (which opts out, as lws servers do).
    # (The mirror connection is reopened when its random lifetime ends.)
    nmirror = len(re.findall(r"mirror: LWS_CALLBACK_CLIENT_ESTABLISHED", out))
    t.eq(len(re.findall(r"instantiating client ext permessage-deflate", out)), nmirror,
         "lws test client: permessage-deflate agreed on each of its %d mirror connections "
         "alone" % nmirror)
    t.ok("failed construction" not in out, "lws test client: its deflate extension was built")
    errs = [ln for ln in out.splitlines() if "CLIENT_CONNECTION_ERROR" in ln]
    t.eq(errs, [], "lws test client: no connection errors")
    closed = len(re.findall(r"dumb: LWS_CALLBACK_CLOSED", out))
    t.ok(closed <= 1, "lws test client: the dumb-increment connection stayed up (%d closes, "
         "the last at exit)" % closed)
    t.ok(srv.alive(), "the server is up after the lws test client")

    # -o: a POST of "text=hello&send=Send+the+form" to /formtest.
    rc, out = run_lws_client(["http://127.0.0.1:%d/formtest" % srv.port, "-o", "-d", "15"], 10)
    t.ok("POST mode" in out and "lws_http_client_http_response 200" in out,
         "lws test client -o: POST to /formtest answered 200", out[-3000:])
    t.ok("Exiting" in out and rc == 0,
         "lws test client -o: the transaction completes and the client exits (rc %s)" % rc)


async def py_echo_checks(t, port):
    uri = "ws://127.0.0.1:%d/" % port
    async with websockets.connect(uri, subprotocols=["echo"], max_size=None,
                                  open_timeout=5, close_timeout=5, compression=None) as ws:
        t.eq(ws.subprotocol, "echo", "websockets: the echo subprotocol is chosen")
        bad = []
        sizes = [0, 1, 2, 125, 126, 127, 128, 1000, 4095, 4096, 65535, 65536, 65537,
                 100000, 1 << 20, 4 << 20]
        for n in sizes:
            data = os.urandom(n)
            await ws.send(data)
            got = await asyncio.wait_for(ws.recv(), 20)
            if got != data:
                bad.append(("binary", n))
            text = ("kite \u00e9\u4e16 " * (n // 12 + 1))[:max(0, n // 2)]
            await ws.send(text)
            got = await asyncio.wait_for(ws.recv(), 20)
            if got != text:
                bad.append(("text", n))
        t.eq(bad, [], "websockets: %d text and %d binary round trips, 0 B to 4 MiB"
             % (len(sizes), len(sizes)))
        many = ["message %d" % i for i in range(500)]
        for m in many:
            await ws.send(m)
        got = [await asyncio.wait_for(ws.recv(), 10) for _ in many]
        t.ok(got == many, "websockets: 500 messages sent back to back come back in order")

        async def fragments():
            yield "frag-"
            yield "ment"
            yield "ed \u00e9"
        await ws.send(fragments())
        t.eq(await asyncio.wait_for(ws.recv(), 5), "frag-mented \u00e9",
             "websockets: a fragmented text message")

        t0 = time.monotonic()
        waiter = await ws.ping(b"kite-ping")
        await asyncio.wait_for(waiter, 5)
        t.ok(True, "websockets: ping answered with its pong (%.1f ms)"
             % ((time.monotonic() - t0) * 1000))
        await ws.close(code=4321, reason="done here")
        t.eq(ws.close_code, 4321, "websockets: the close code 4321 is echoed by the server")

    async with websockets.connect(uri, subprotocols=["echo"], open_timeout=5) as ws:
        await ws.close()
        t.eq(ws.close_code, 1000, "websockets: a plain close() gets 1000 back")


async def py_protocol_checks(t, port):
    uri = "ws://127.0.0.1:%d/" % port
    async with websockets.connect(uri, subprotocols=["dumb-increment-protocol"],
                                  open_timeout=5) as ws:
        vals = [int(await asyncio.wait_for(ws.recv(), 3)) for _ in range(5)]
        t.ok(all(b == a + 1 for a, b in zip(vals, vals[1:])),
             "websockets: dumb-increment-protocol counts up %s" % vals)
        await ws.send("reset\n")
        deadline = time.monotonic() + 3
        low = None
        while time.monotonic() < deadline:
            v = int(await asyncio.wait_for(ws.recv(), 3))
            if v < vals[-1]:
                low = v
                break
        t.ok(low is not None and low <= 1, "websockets: 'reset\\n' restarts the counter (%s)"
             % low)
        await ws.send("closeme\n")
        try:
            while True:
                await asyncio.wait_for(ws.recv(), 3)
        except websockets.exceptions.ConnectionClosed:
            pass
        t.eq((ws.close_code, ws.close_reason), (1001, "seeya"),
             "websockets: 'closeme\\n' closes with 1001 \"seeya\"")

    async with websockets.connect(uri, subprotocols=["lws-status"], open_timeout=5,
                                  user_agent_header="kite-interop-test/1") as ws:
        doc = None
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            msg = await asyncio.wait_for(ws.recv(), 3)
            doc = json.loads(msg)
            if any(c.get("ua") == "kite-interop-test/1" for c in doc.get("conns", [])):
                break
        ok = doc is not None and any(c.get("ua") == "kite-interop-test/1" and
                                     c.get("peer") == "127.0.0.1"
                                     for c in doc.get("conns", []))
        t.ok(ok, "websockets: lws-status lists this connection (peer, ua)", doc)


def test_python_websockets(t, srv):
    if not t.ok(websockets is not None, "python3-websockets is installed"):
        return
    t.diag("websockets %s" % websockets.__version__)
    asyncio.run(asyncio.wait_for(py_echo_checks(t, srv.port), 60))
    asyncio.run(asyncio.wait_for(py_protocol_checks(t, srv.port), 30))


def test_curl_same_port(t, srv):
    if not t.ok(shutil.which("curl"), "curl is installed"):
        return
    # A websocket stays open on the port meanwhile.
    import kitews
    with kitews.connect(srv.port, protocols=["dumb-increment-protocol"]) as ws:
        ws.recv_message(timeout=3)
        p = kt.curl(["-w", "\\n%{http_code}", "http://127.0.0.1:%d/" % srv.port])
        body, _, code = p.stdout.rpartition(b"\n")
        t.eq((p.returncode, code), (0, b"200"), "curl GET / on the websocket port: 200")
        t.ok(body == srv.docroot.files["index.html"], "curl GET /: the index page", body[:200])
        p = kt.curl(["-w", "%{http_code}", "-o", "/dev/null",
                     "http://127.0.0.1:%d/test/hello" % srv.port])
        t.eq(p.stdout, b"200", "curl GET /test/hello: 200")
        t.ok(ws.recv_message(timeout=3)[1].isdigit(),
             "the websocket still gets its counter after the HTTP requests")


def main():
    kt.run_tests([test_lws_test_client, test_python_websockets, test_curl_same_port])


if __name__ == "__main__":
    main()
