#!/usr/bin/python3
"""kite-test-client (kite_client_connect) against real servers.

- kite-test-server: the default mode for 2 s (dumb-increment counts up
  by one, the mirror's own circles come back in order), -O and -m on the
  mirror alone, --echo with every message checked (with permessage-deflate
  agreed, and without it under -z), a count limit, http
  GET of the test page, -o form POST to /formtest, raw:// to the raw
  echo port, wss with the server's self-signed certificate accepted by -k
  and by -A naming it, and refused without either.
- Debian's libwebsockets-test-server (lws 4.1): the default mode, -O
  (the permessage-deflate offer is declined: it has no extensions), -o,
  and wss (its packaged key is too small for OpenSSL 3, so it runs on a
  copy of its resource directory holding kite's certificate).
- A closed port: exit status 1 and the reason on stderr.
Every run is bounded by -t or a count, and by a subprocess timeout.
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

sys.dont_write_bytecode = True
import kitetest as kt  # noqa: E402

CLIENT = os.path.abspath(sys.argv[2])
LWS_SERVER = "/usr/bin/libwebsockets-test-server"
LWS_RESOURCES = "/usr/share/libwebsockets-test-server"


def client(args, timeout=20):
    p = subprocess.run([CLIENT] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def check_default(t, url, what, extra=()):
    rc, out, err = client(["-t", "2"] + list(extra) + [url])
    m = re.search(r"dumb-increment: (\d+) messages, counting up: (\w+)", out)
    t.ok(rc == 0 and m and int(m.group(1)) >= 10 and m.group(2) == "yes",
         "%s: dumb-increment counts up by one (%s)" % (what, m and m.group(0)), out + err)
    m = re.search(r"mirror: 1 connections, (\d+) circles sent, (\d+) echoed, 0 missing", out)
    t.ok(m and int(m.group(2)) >= 10, "%s: the mirror's circles come back (%s)"
         % (what, m and m.group(0)), out + err)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def test_kite(t, srv, cert):
    url = "ws://127.0.0.1:%d/" % srv.port
    check_default(t, url, "kite-test-server")
    rc, out, err = client(["-j", "-O", "-c", "25", url])
    t.ok(rc == 0 and "mirror: 1 connections, 25 circles sent, 25 echoed, 0 missing" in out,
         "-O: 25 circles drawn and echoed, then closed", out + err)
    rc, out, err = client(["-j", "-m", "-c", "8", url])
    t.ok(rc == 0 and "mirror: 8 connections, 8 circles sent, 8 echoed" in out,
         "-m: 8 mirror connections one after the other", out + err)
    rc, out, err = client(["--echo=60", url])
    t.ok(rc == 0 and "Everything received: errs 0" in out and
         "echo: 60 sent, 60 received, errs 0" in out,
         "--echo=60: every size from 0 to 200000, text and binary, echoed intact", out + err)
    t.ok("echo: permessage-deflate agreed" in out,
         "--echo: permessage-deflate offered and agreed (kite-test-server has it on)", out)
    rc, out, err = client(["-z", "--echo=60", url])
    t.ok(rc == 0 and "echo: permessage-deflate not agreed" in out and
         "echo: 60 sent, 60 received, errs 0" in out,
         "-z --echo=60: no offer, no deflate, echoed intact", out + err)
    rc, out, err = client(["-n", "-c", "7", url])
    t.ok(rc == 0 and "dumb-increment: 7 messages, counting up: yes" in out,
         "-c 7: stops after 7 numbers", out + err)
    rc, out, err = client(["http://127.0.0.1:%d/" % srv.port])
    with open(os.path.join(srv.docroot.root, "index.html")) as f:
        page = f.read()
    t.ok(rc == 0 and out == page and "http: status 200" in err,
         "http GET: the test page, byte for byte", err)
    rc, out, err = client(["-o", "http://127.0.0.1:%d/" % srv.port])
    t.ok(rc == 0 and "kite-test-client" in out and "http: status 200" in err,
         "-o: the form POST to /formtest is answered 200 with its fields", out + err)
    rc, out, err = client(["raw://127.0.0.1:%d/" % srv.raw_port])
    t.ok(rc == 0 and "hello from kite-test-client" in out, "raw://: the raw-test port echoes",
         out + err)


def test_kite_tls(t, tsrv, cert):
    url = "wss://127.0.0.1:%d/" % tsrv.port
    check_default(t, url, "kite-test-server wss -k", ["-k"])
    check_default(t, "wss://localhost:%d/" % tsrv.port, "kite-test-server wss -A cert",
                  ["-A", cert])
    rc, out, err = client(["-t", "2", "-n", url])
    t.ok(rc == 1 and "certificate verification failed" in err,
         "wss without -k or -A: refused, the reason on stderr", err)
    rc, out, err = client(["-k", "https://127.0.0.1:%d/" % tsrv.port])
    with open(os.path.join(tsrv.docroot.root, "index.html")) as f:
        page = f.read()
    t.ok(rc == 0 and "http: status 200" in err and out == page,
         "https GET -k: the page, byte for byte", err)


def test_closed_port(t):
    rc, out, err = client(["-t", "2", "ws://127.0.0.1:%d/" % free_port()])
    t.ok(rc == 1 and "connection refused" in err, "a closed port: exit 1, \"connection "
         "refused\" on stderr", err)


class LwsServer:
    def __init__(self, tls=False, resources=LWS_RESOURCES):
        self.port = free_port()
        args = [LWS_SERVER, "--port=%d" % self.port, "--resource-path=%s" % resources]
        if tls:
            args.append("--ssl")
        self.log = tempfile.TemporaryFile()
        self.p = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)

    def stop(self):
        self.p.send_signal(signal.SIGINT)
        try:
            self.p.wait(5)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def test_lws(t, cert, key):
    if not t.ok(os.access(LWS_SERVER, os.X_OK), "%s is installed" % LWS_SERVER):
        return
    s = LwsServer()
    try:
        url = "ws://127.0.0.1:%d/" % s.port
        check_default(t, url, "libwebsockets-test-server")
        # Debian's test server registers no extensions (lws 4.1's
        # test-server.c sets no info.extensions): the offer is declined.
        rc, out, err = client(["-j", "-O", "-c", "5", url])
        t.ok(rc == 0 and "lws-mirror-protocol: permessage-deflate not agreed" in out,
             "libwebsockets-test-server: the deflate offer declined, the mirror works",
             out + err)
        rc, out, err = client(["-j", "-O", "-c", "20", url])
        t.ok(rc == 0 and "mirror: 1 connections, 20 circles sent, 20 echoed, 0 missing" in out,
             "libwebsockets-test-server: -O draws 20 circles, all echoed", out + err)
        rc, out, err = client(["-o", "http://127.0.0.1:%d/" % s.port])
        t.ok(rc == 0 and "kite-test-client" in out and "http: status 200" in err,
             "libwebsockets-test-server: -o form POST answered with its fields", out + err)
    finally:
        s.stop()
    res = tempfile.mkdtemp(prefix="kite-lws-res-")
    try:
        for name in os.listdir(LWS_RESOURCES):
            src = os.path.join(LWS_RESOURCES, name)
            if os.path.isfile(src):
                shutil.copy(src, res)
        shutil.copy(cert, os.path.join(res, "libwebsockets-test-server.pem"))
        shutil.copy(key, os.path.join(res, "libwebsockets-test-server.key.pem"))
        s = LwsServer(tls=True, resources=res)
        try:
            check_default(t, "wss://localhost:%d/" % s.port, "libwebsockets-test-server wss",
                          ["-A", cert])
        finally:
            s.stop()
    finally:
        shutil.rmtree(res, ignore_errors=True)


def main():
    t = kt.Tap()
    srv = kt.Server(t, args=["-R", "0"])
    tsrv = kt.Server(t, args=["-s"], name="tls server")
    try:
        srv.start()
        with open(srv.out_path, "rb") as f:
            srv.raw_port = int(re.search(rb"raw port (\d+)", f.read()).group(1))
        tsrv.start()
        with open(tsrv.out_path, "rb") as f:
            cert = re.search(rb"TLS certificate (\S+)", f.read()).group(1).decode()
        key = re.sub(r"\.crt$", ".key", cert)
        t.run(test_kite, t, srv, cert)
        t.run(test_kite_tls, t, tsrv, cert)
        t.run(test_closed_port, t)
        t.run(test_lws, t, cert, key)
    finally:
        srv.stop()
        tsrv.stop()
    t.done()


main()
