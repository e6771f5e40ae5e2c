#!/usr/bin/python3
"""HTTP/2 through kited's JSON configuration: "h2c" and the global h2-*
keys (the SETTINGS kite announces), a vhost throttle applied to h2
streams, the access log naming HTTP/2.0, a bad value refused by
--check-config, SIGTERM draining an h2 connection with GOAWAY, and a
reload that moves the vhost to another port doing the same to the
connections of the retired listener.

usage: test_h2_kited.py KITED PLUGIN_DIR
"""
import os
import shutil
import signal
import struct
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kiteh2  # noqa: E402
import kitetest as kt  # noqa: E402
from test_kited import Kited, Rec, free_port, vhost_json  # noqa: E402

BIG = bytes(range(256)) * 160  # 40 KiB


def conf(extra, glob=""):
    g = '"global": { %s },\n' % glob if glob else ""
    return "{ %s\"vhosts\": [ %s ] }" % (g, vhost_json("localhost", 0, extra))


def goaway_and_data(c, sid, secs=8):
    """Read @c's socket by hand until the server closes it (the h2 library
    stops at GOAWAY): (GOAWAY error code or None, DATA bytes of @sid)."""
    raw = c.sock
    raw.settimeout(1)
    buf = b""
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        try:
            d = raw.recv(65536)
        except OSError:
            break
        if not d:
            break
        buf += d
    data, goaway, pos = bytearray(), None, 0
    while pos + 9 <= len(buf):
        n = struct.unpack(">I", b"\0" + buf[pos:pos + 3])[0]
        ftype, sid_f = buf[pos + 3], struct.unpack(">I", buf[pos + 5:pos + 9])[0]
        payload = buf[pos + 9:pos + 9 + n]
        if ftype == 7:
            goaway = struct.unpack(">I", payload[4:8])[0]
        elif ftype == 0 and sid_f == sid:
            data += payload
        pos += 9 + n
    return goaway, data


def run_reload(r):
    """SIGHUP with the vhost moved to another port: the old listener is
    retired, its h2 connection gets GOAWAY NO_ERROR and the stream in
    flight is answered whole; the new port speaks h2."""
    p1, p2 = free_port(), free_port()
    extra = ' "h2c": true, "throttle": "/slow/=40k",'
    files = {"conf": "{ \"vhosts\": [ %s ] }" % vhost_json("localhost", p1, extra),
             "www/slow/big.bin": BIG, "www/big.bin": BIG}
    with Kited(r, "h2-reload", files) as k:
        c = kiteh2.Conn(p1)
        sid = c.request("GET", "/slow/big.bin")
        c.read_some(1)
        k.put("conf", "{ \"vhosts\": [ %s ] }" % vhost_json("localhost", p2, extra))
        k.proc.send_signal(signal.SIGHUP)
        goaway, data = goaway_and_data(c, sid)
        r.eq(goaway, 0, "reload retiring the listener: GOAWAY NO_ERROR on its h2 connection")
        r.ok(len(data) + len(c.streams[sid].data) >= len(BIG),
             "reload: the stream in flight is answered whole", len(data))
        c.close()
        r.ok("reload: done" in k.stderr(), "reload: done", k.stderr()[-2000:])
        c2 = kiteh2.Conn(p2)
        r.eq(c2.get("/big.bin").data, BIG, "after the reload the new port speaks h2")
        c2.close()


def run(r):
    files = {"conf": conf(' "h2c": true, "throttle": "/slow/=20k", "access-log": "@DIR@/access.log",',
                          '"h2-max-concurrent-streams": 7, "h2-initial-window-size": 100000'),
             "www/slow/big.bin": BIG, "www/big.bin": BIG}
    with Kited(r, "h2", files) as k:
        port = k.ports["localhost"]
        c = kiteh2.Conn(port)
        c.read_some(2)
        r.eq((c.remote_settings.get(3), c.remote_settings.get(4)), (7, 100000),
             "h2-max-concurrent-streams and h2-initial-window-size are announced")
        t0 = time.monotonic()
        res = c.get("/slow/big.bin")
        secs = time.monotonic() - t0
        rate = len(res.data) / secs if secs else 0
        r.ok(res.data == BIG and abs(rate - 20480) < 0.25 * 20480,
             "throttle /slow/=20k on an h2 stream: about 20 KiB/s (%.0f B/s)" % rate,
             "%d bytes, %.2f s" % (len(res.data), secs))
        t0 = time.monotonic()
        res = c.get("/big.bin")
        r.ok(res.data == BIG and time.monotonic() - t0 < 0.5,
             "... and other paths on the same connection are not limited")
        c.close()
        time.sleep(0.3)
        k.proc.send_signal(signal.SIGUSR1)  # reopen logs: the lines are flushed
        time.sleep(0.3)
        with open(k.path("access.log"), "rb") as f:
            log = f.read()
        r.ok(b'"GET /slow/big.bin HTTP/2.0" 200 40960' in log,
             "the access log names HTTP/2.0", log[-600:])
        # SIGTERM: kited drains; the h2 connection gets GOAWAY NO_ERROR and
        # its stream in flight is answered.
        c = kiteh2.Conn(port)
        sid = c.request("GET", "/slow/big.bin")
        c.read_some(1)
        k.proc.send_signal(signal.SIGTERM)
        goaway, data = goaway_and_data(c, sid)
        r.eq(goaway, 0, "SIGTERM: GOAWAY NO_ERROR on the h2 connection")
        r.ok(len(data) + len(c.streams[sid].data) >= len(BIG),
             "SIGTERM: the stream in flight is answered whole", len(data))
        c.close()
        k.proc.wait(10)
        r.eq(k.proc.returncode, 0, "kited exits 0 after draining")
        err = k.stderr()
        r.ok(not [m for m in kt.SANITIZER_MARKS if m in err], "kited stderr has no sanitizer report",
             err[-4000:])
        k._cleanup()
    bad = Kited(r, "h2-bad", {"conf": conf(' "h2c": [1],')})
    rc, err = bad.check()
    r.ok(rc != 0 and "h2c" in err, "--check-config: h2c must be a boolean", err)
    shutil.rmtree(bad.dir, ignore_errors=True)


def main():
    tap = kt.Tap()
    rec = Rec("h2")
    try:
        run(rec)
        run_reload(rec)
    except Exception:
        import traceback
        rec.ok(False, "the h2 kited test ran to the end", traceback.format_exc())
    rec.replay(tap)
    tap.done()


if __name__ == "__main__":
    main()
