#!/usr/bin/python3
"""The example protocols of kite-test-server, on the wire:
lws-mirror-protocol instances (?mirror=NAME, every member gets every
message, the sender included; a fourth name is refused with 1008),
dumb-increment (counts, "reset\\n", "closeme\\n" -> 1001, short rx ignored),
lws-status (a JSON list of the status clients), and the post demo's
multipart/form-data upload (fields and file sizes in the result table,
413 past its size limit).
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kitetest as kt  # noqa: E402
import kitews as kw  # noqa: E402


def mirror(port, name=None):
    path = "/" if name is None else "/?mirror=" + name
    return kw.connect(port, protocols=("lws-mirror-protocol",), path=path)


def msg(ws, timeout=3):
    """The next message as (opcode, payload)."""
    op, payload, _ = ws.recv_message(timeout=timeout)
    return op, payload


def test_mirror(t, srv):
    with mirror(srv.port, "a") as a1, mirror(srv.port, "a") as a2, mirror(srv.port, "b") as b1:
        time.sleep(0.1)
        a1.send_text("c #102030 10 20 5;")
        got1 = msg(a1)
        got2 = msg(a2)
        t.eq(got2, (kw.OP_TEXT, b"c #102030 10 20 5;"),
             "mirror: another member of the instance gets the shape")
        t.eq(got1, got2, "mirror: the sender gets its own shape back")
        try:
            other = msg(b1, timeout=0.5)
        except Exception:
            other = None
        t.eq(other, None, "mirror: a member of another instance gets nothing")
        for i in range(50):
            a2.send_text("d %d;" % i)
        msgs = [msg(a1) for _ in range(50)]
        t.eq([m[1] for m in msgs], [b"d %d;" % i for i in range(50)],
             "mirror: 50 messages from one member arrive at another in order")
        with mirror(srv.port, "c") as c1:
            time.sleep(0.1)
            c1.send_text("x;")
            t.eq(msg(c1)[1], b"x;", "mirror: a third instance works")
            with mirror(srv.port, "d") as d1:
                f, _ = d1.read_until_close(timeout=3)
                t.eq(f.close_code if f else None, 1008,
                     "mirror: a fourth instance name is refused with 1008")


def test_dumb_increment(t, srv):
    with kw.connect(srv.port, protocols=("dumb-increment-protocol",)) as ws:
        nums = [int(msg(ws)[1]) for _ in range(5)]
        t.ok(all(b == a + 1 for a, b in zip(nums, nums[1:])),
             "dumb-increment: the counter goes up by one (%s)" % nums)
        ws.send_text("res")  # under 6 bytes: ignored
        more = int(msg(ws)[1])
        t.ok(more > nums[-1], "dumb-increment: a message under 6 bytes is ignored")
        ws.send_text("reset\n")
        later = [int(msg(ws)[1]) for _ in range(5)]
        t.ok(min(later) < nums[-1] or min(later) == 0, "dumb-increment: reset restarts the count",
             later)
        ws.send_text("closeme\n")
        f, _ = ws.read_until_close(timeout=3)
        t.ok(f is not None and f.close_code == 1001 and f.close_reason == b"seeya",
             "dumb-increment: closeme closes with 1001 seeya", f)


def test_status(t, srv):
    with kw.connect(srv.port, protocols=("lws-status",)) as s1:
        doc1 = json.loads(msg(s1)[1])
        with kw.connect(srv.port, protocols=("lws-status",)) as s2:
            msg(s2)
            doc2 = json.loads(msg(s1)[1])
            t.ok(len(doc2.get("conns", [])) == len(doc1.get("conns", [])) + 1,
                 "lws-status: a new status client is announced to the others", doc2)
            t.ok(all("peer" in c for c in doc2["conns"]), "lws-status: every entry has a peer")
        doc3 = json.loads(msg(s1)[1])
        t.eq(len(doc3.get("conns", [])), len(doc1.get("conns", [])),
             "lws-status: a closed client is removed from the list")


def multipart(fields, files, boundary=b"kiteboundary1234"):
    out = b""
    for k, v in fields:
        out += b"--" + boundary + b"\r\nContent-Disposition: form-data; name=\"" + k + \
            b"\"\r\n\r\n" + v + b"\r\n"
    for k, fname, data in files:
        out += b"--" + boundary + b"\r\nContent-Disposition: form-data; name=\"" + k + \
            b"\"; filename=\"" + fname + b"\"\r\nContent-Type: application/octet-stream\r\n\r\n" + \
            data + b"\r\n"
    out += b"--" + boundary + b"--\r\n"
    return out, b"multipart/form-data; boundary=" + boundary


def test_post_demo(t, srv):
    data = os.urandom(300000)
    body, ctype = multipart([(b"text", b"hello <kite>")], [(b"file", b"up.bin", data)])
    with kt.Conn(srv.port) as c:
        c.send(kt.build_request("POST", "/formtest", headers=[("Content-Type", ctype.decode())],
                                body=body))
        r = c.read_response()
    page = r.body.decode("utf-8", "replace")
    t.eq(r.status, 200, "post demo: multipart upload answered 200")
    t.ok("hello &lt;kite&gt;" in page, "post demo: the text field, HTML-escaped", page[:600])
    t.ok("up.bin" in page and str(len(data)) in page,
         "post demo: the file's name and size (%d) in the table" % len(data), page[:600])
    big, ctype = multipart([], [(b"file", b"big.bin", b"\0" * (17 << 20))])
    with kt.Conn(srv.port, timeout=20) as c:
        c.send(kt.build_request("POST", "/formtest", headers=[("Content-Type", ctype.decode())],
                                body=big))
        r = c.read_response()
    t.eq(r.status, 413, "post demo: a file past the size limit gets 413")
    t.ok(srv.alive(), "the server is up after the uploads")


if __name__ == "__main__":
    kt.run_tests([test_mirror, test_dumb_increment, test_status, test_post_demo])
