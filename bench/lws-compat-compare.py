#!/usr/bin/python3
"""Run each lws 4.1 minimal example built by lws-compat-build.sh twice, as
built against libkite-lws and against the installed lws, and compare what
they answer on their port (7681): for servers, GET / and a missing file
(status and body), a websocket exchange for ws servers (the subprotocol
named in the example, a message sent, what comes back in 1.5 s), bytes
echoed for raw ones. Prints "same NAME", "differs NAME: how" or "not run
NAME: why". Run it on a machine where port 7681 is free.

usage: lws-compat-compare.py LWS_CHECKOUT [OUT_DIR]"""
import asyncio, glob, hashlib, http.client, os, re, socket, ssl, subprocess, sys, time

LWS = sys.argv[1]
OUT = sys.argv[2] if len(sys.argv) > 2 else "/tmp/kite-lws-examples"
PORT = 7681
CTX = ssl._create_unverified_context()


def wait_port():
    for _ in range(60):
        try:
            socket.create_connection(("127.0.0.1", PORT), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def get(path):
    for tls in (False, True):
        try:
            c = (http.client.HTTPSConnection("127.0.0.1", PORT, timeout=3, context=CTX) if tls
                 else http.client.HTTPConnection("127.0.0.1", PORT, timeout=3))
            c.request("GET", path)
            r = c.getresponse()
            body = r.read()
            c.close()
            # Times and dates in bodies differ from run to run: digits out.
            return (r.status, hashlib.sha1(re.sub(rb"[0-9]", b"", body)).hexdigest()[:10])
        except (ConnectionError, http.client.HTTPException, OSError, ssl.SSLError):
            continue
    return None


async def ws(proto):
    import websockets
    got = []
    for scheme, kw in (("ws", {}), ("wss", {"ssl": CTX})):
        try:
            async with websockets.connect("%s://127.0.0.1:%d/" % (scheme, PORT),
                                          subprotocols=[proto] if proto else None,
                                          open_timeout=3, **kw) as s:
                await s.send("hello")
                end = time.monotonic() + 1.5
                try:
                    while len(got) < 50 and time.monotonic() < end:
                        m = await asyncio.wait_for(s.recv(), end - time.monotonic())
                        got.append(m if isinstance(m, str) else m.hex())
                except (asyncio.TimeoutError, Exception):
                    pass
                return ["connected"] + sorted(set(re.sub(r"[0-9]", "", str(g)) for g in got))
        except Exception:
            continue
    return ["no websocket"]


def raw():
    try:
        s = socket.create_connection(("127.0.0.1", PORT), 2)
        s.sendall(b"hello\n")
        s.settimeout(1.0)
        data = b""
        try:
            while len(data) < 4096:
                d = s.recv(4096)
                if not d:
                    break
                data += d
        except socket.timeout:
            pass
        s.close()
        return data
    except OSError as e:
        return str(e)


def proto_of(src_dir):
    for f in glob.glob(os.path.join(src_dir, "*.c")):
        m = re.search(r'^\s*"(lws-[a-z0-9-]+)",', open(f, errors="replace").read(), re.M)
        if m:
            return m.group(1)
    return None


def probe(exe, kind, src_dir):
    p = subprocess.Popen([exe], cwd=src_dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not wait_port():
            return ("no listener",)
        if kind == "raw":
            return (raw(),)
        # A missing file: kite's error page is its own, and lws answers 302
        # to an error_document_404 that kite serves with 404 (documented
        # in README.lws-compat.md): only "missing" is compared.
        miss = get("/no-such-file.html")
        res = (get("/"), "missing" if miss and miss[0] in (302, 404) else miss)
        if kind == "ws-server":
            res += (tuple(asyncio.run(ws(proto_of(src_dir)))),)
        return res
    finally:
        p.terminate()
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def main():
    same = 0
    for kind in ("http-server", "ws-server", "ws-client", "raw"):
        for d in sorted(glob.glob(os.path.join(LWS, "minimal-examples", kind, "*"))):
            name = os.path.basename(d)
            k, n = os.path.join(OUT, name), os.path.join(OUT, "native", name)
            if not os.path.exists(k):
                continue
            if kind == "ws-client":
                print("not run %s: a client of remote servers" % name, flush=True)
                continue
            if not os.path.exists(n):
                print("not run %s: no native build" % name, flush=True)
                continue
            a, b = probe(k, kind, d), probe(n, kind, d)
            if a == b:
                same += 1
                print("same %s" % name, flush=True)
            else:
                print("differs %s: kite %r lws %r" % (name, a, b), flush=True)
    print("%d the same" % same)


main()
