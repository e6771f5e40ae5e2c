#!/usr/bin/python3
"""An lwsws plugin (lws-plugin.c, lws 4.1 API, built against libkite-lws)
loads into kited from a plugin-dir like a native one: its protocol is
named in ws-protocols with a pvo, serves websockets and a callback mount,
keeps per-vhost data; kited stops cleanly.

usage: test_lws_plugin.py KITED PLUGIN_DIR"""
import asyncio, os, re, subprocess, sys, tempfile, time, urllib.request
import websockets

kited, plugdir = sys.argv[1], os.path.abspath(sys.argv[2])
n = fails = 0


def ok(cond, what):
    global n, fails
    n += 1
    fails += not cond
    print(("ok %d - %s" if cond else "not ok %d - %s") % (n, what), flush=True)


d = tempfile.mkdtemp()
os.makedirs(os.path.join(d, "www"))
with open(os.path.join(d, "conf"), "w") as f:
    f.write("""{ "global": { "plugin-dir": "%s" },
  "vhosts": [ { "name": "localhost", "port": "0", "interface": "127.0.0.1",
    "ws-protocols": [ { "lws-shout": { "prefix": "> " } } ],
    "mounts": [ { "mountpoint": "/count", "origin": "callback://lws-shout" },
                { "mountpoint": "/", "origin": "file://%s/www" } ] } ] }
""" % (plugdir, d))
err = open(os.path.join(d, "err"), "w+")
p = subprocess.Popen([kited, "-n", "-c", d], stderr=err, stdout=subprocess.DEVNULL)
port = None
for _ in range(300):
    err.seek(0)
    m = re.search(r"listening on \S+ port (\d+)", err.read())
    if m:
        port = int(m.group(1))
        break
    time.sleep(0.05)
ok(port, "kited loads the lws plugin and serves")


async def talk():
    async with websockets.connect("ws://127.0.0.1:%d/" % port, subprotocols=["lws-shout"]) as s:
        await s.send("hello kite")
        a = await asyncio.wait_for(s.recv(), 5)
        c = urllib.request.urlopen("http://127.0.0.1:%d/count" % port, timeout=5).read()
        return s.subprotocol, a, c


if port:
    proto, answer, count = asyncio.run(talk())
    ok(proto == "lws-shout", "the subprotocol is the plugin's")
    ok(answer == "> HELLO KITE", "RECEIVE and lws_write with the vhost's pvo: %r" % answer)
    ok(count == b"conns 1\n", "callback mount, per-vhost data counts the websocket: %r" % count)
p.terminate()
rc = p.wait(20)
err.seek(0)
text = err.read()
ok(rc == 0 and "ERROR: AddressSanitizer" not in text and "runtime error" not in text,
   "kited stops cleanly (rc %d)" % rc)
print("1..%d" % n)
sys.exit(1 if fails else 0)
