#!/usr/bin/python3
"""kited --libhttp where it answered unlike LibHTTP (issue 19, items 4, 6,
8 and 9): .shtml is text/html; a CGI run after Digest authentication sees
AUTH_TYPE=Digest and its REMOTE_USER; a script's own reason phrase is
kept (CGI Status, a Lua page's status line), with control characters
dropped; DELETE of a directory URL with its trailing slash is 204 or 409,
and every 405 carries Allow; a PUT under a protect_uri prefix (two Digest
checks of one request) is let in.

usage: test_libhttp_compat.py KITED PLUGIN_DIR
"""
import os
import shutil
import socket
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kitetest  # noqa: E402
import test_kited  # noqa: E402  (takes KITED PLUGIN_DIR from sys.argv too)
from kitetest import request  # noqa: E402
from test_kited import Rec, get  # noqa: E402
from test_libhttp import challenge_of, digest_hdr, kited_A, run_libhttp  # noqa: E402

REALM = "kite.test"
FILES = {
    "htdocs/t.shtml": 'ssi <!--#include file="part.txt" -->\n',
    "htdocs/part.txt": "PART",
    "htdocs/raw.shtm": "<p>raw</p>\n",
    "htdocs/priv/env.cgi": "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\n"
                           "echo \"AUTH_TYPE=$AUTH_TYPE\"\necho \"REMOTE_USER=$REMOTE_USER\"\n",
    "htdocs/s203.cgi": "#!/bin/sh\nprintf 'Status: 203 Non-Authoritative\\r\\n"
                       "Content-Type: text/plain\\r\\n\\r\\nbody\\n'\n",
    "htdocs/s203bare.cgi": "#!/bin/sh\nprintf 'Status: 203\\r\\n\\r\\nbody\\n'\n",
    "htdocs/evil.cgi": "#!/bin/sh\nprintf 'Status: 203 A\\rX-Evil: 1\\r\\n\\r\\nbody\\n'\n",
    "htdocs/s404.cgi": "#!/bin/sh\nprintf 'Status: 404 Gone Fishing\\r\\n\\r\\nnope\\n'\n",
    "htdocs/own.lp": "<? mg.write('HTTP/1.1 203 Non-Authoritative\\r\\n"
                     "Content-Type: text/plain\\r\\n\\r\\nlua body\\n') ?>",
    "htdocs/own.lua": "mg.write('HTTP/1.1 299 Custom Thing\\r\\nContent-Type: text/plain\\r\\n"
                      "\\r\\nscript body\\n')\n",
    "htdocs/empty/.keep-not": "",
    "htdocs/full/f.txt": "F",
}


def status_line(port, target, version="HTTP/1.1"):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(("GET %s %s\r\nHost: localhost\r\nConnection: close\r\n\r\n" %
               (target, version)).encode())
    data = b""
    while True:
        got = s.recv(65536)
        if not got:
            break
        data += got
    s.close()
    return data


def main():
    tap = kitetest.Tap()
    r = Rec("libhttp-compat")
    d = tempfile.mkdtemp(prefix="kited-it-lhc-")
    port = test_kited.free_port()
    try:
        for rel, text in FILES.items():
            path = os.path.join(d, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
            if rel.endswith(".cgi"):
                os.chmod(path, 0o755)
        os.unlink(os.path.join(d, "htdocs/empty/.keep-not"))
        pw = os.path.join(d, "pw.txt")
        kited_A(pw, REALM, "alice", "s3cret")
        with open(os.path.join(d, "libhttp.conf"), "w") as f:
            f.write("document_root htdocs\nlistening_ports 127.0.0.1:%d\n"
                    "authentication_domain %s\nprotect_uri /priv=%s\n"
                    "put_delete_auth_file %s\n" % (port, REALM, pw, pw))

        def call(method, uri, body=None, extra=None):
            nonce = challenge_of(request(port, method, uri))[1].get("nonce", "")
            h = digest_hdr("alice", "s3cret", REALM, nonce, uri, method=method)
            h.update(extra or {})
            return request(port, method, uri, body=body, headers=h)

        def check(_):
            # Item 4: .shtml (processed) and .shtm are HTML.
            res = get(port, "/t.shtml")
            r.ok(res.status == 200 and (res.header("Content-Type") or "").startswith("text/html")
                 and res.body == b"ssi PART\n", ".shtml is processed and sent as text/html",
                 repr(res))
            r.ok((get(port, "/raw.shtm").header("Content-Type") or "").startswith("text/html"),
                 ".shtm is sent as text/html")
            # Item 6: CGI behind Digest.
            res = call("GET", "/priv/env.cgi")
            r.ok(res.status == 200 and b"AUTH_TYPE=Digest\n" in res.body and
                 b"REMOTE_USER=alice\n" in res.body,
                 "a CGI after Digest authentication: AUTH_TYPE=Digest, REMOTE_USER", repr(res))
            # Item 8: reason phrases.
            data = status_line(port, "/s203.cgi")
            r.ok(data.startswith(b"HTTP/1.1 203 Non-Authoritative\r\n") and b"body\n" in data.partition(b"\r\n\r\n")[2],
                 "CGI Status: 203 Non-Authoritative keeps its reason phrase", repr(data[:80]))
            data = status_line(port, "/s203.cgi", "HTTP/1.0")
            r.ok(data.startswith(b"HTTP/1.1 203 Non-Authoritative\r\n"),
                 "... and on HTTP/1.0", repr(data[:80]))
            data = status_line(port, "/s203bare.cgi")
            r.ok(data.startswith(b"HTTP/1.1 203 Non-Authoritative Information\r\n"),
                 "CGI Status: 203 without a phrase gets the standard one", repr(data[:80]))
            data = status_line(port, "/evil.cgi")
            head = data.partition(b"\r\n\r\n")[0].split(b"\r\n")
            r.ok(head[0] == b"HTTP/1.1 203 AX-Evil: 1" and
                 not [h for h in head[1:] if h.lower().startswith(b"x-evil")],
                 "a CR in the reason phrase is dropped: no header is smuggled in", repr(head))
            data = status_line(port, "/s404.cgi")
            r.ok(data.startswith(b"HTTP/1.1 404 Gone Fishing\r\n") and b"nope\n" in data,
                 "CGI Status: 404 with its own phrase and body", repr(data[:80]))
            data = status_line(port, "/own.lp")
            r.ok(data.startswith(b"HTTP/1.1 203 Non-Authoritative\r\n") and
                 b"lua body\n" in data, "a Lua page's own status line keeps its phrase",
                 repr(data[:80]))
            data = status_line(port, "/own.lua")
            r.ok(data.startswith(b"HTTP/1.1 299 Custom Thing\r\n") and
                 b"script body\n" in data, "a Lua script's own status line keeps its phrase",
                 repr(data[:80]))
            data = status_line(port, "/nothing-here")
            r.ok(data.startswith(b"HTTP/1.1 404 Not Found\r\n"), "kite's own 404 keeps its phrase",
                 repr(data[:80]))
            # Item 9: DELETE and the directory URL.
            res = call("DELETE", "/empty/")
            r.ok(res.status == 204 and not os.path.exists(os.path.join(d, "htdocs/empty")),
                 "DELETE /empty/ (an empty directory, trailing slash): 204, removed", repr(res))
            res = call("DELETE", "/full/")
            r.ok(res.status == 409 and os.path.exists(os.path.join(d, "htdocs/full/f.txt")),
                 "DELETE /full/ (not empty): 409, kept", repr(res))
            res = call("DELETE", "/full/f.txt/")
            r.ok(res.status == 404 and os.path.exists(os.path.join(d, "htdocs/full/f.txt")),
                 "DELETE /full/f.txt/ (a file with a slash): 404, kept", repr(res))
            res = call("MKCOL", "/newcol/")
            r.ok(res.status == 201 and os.path.isdir(os.path.join(d, "htdocs/newcol")),
                 "MKCOL /newcol/: 201", repr(res))
            res = call("MKCOL", "/newcol/")
            r.ok(res.status == 405 and res.header("Allow") == "GET, HEAD, OPTIONS, DELETE",
                 "MKCOL on an existing collection: 405 with Allow", repr(res))
            res = call("PUT", "/full/", "x")
            r.ok(res.status == 405 and res.header("Allow") == "GET, HEAD, OPTIONS, DELETE",
                 "PUT /full/ (a directory): 405 with Allow", repr(res))
            res = call("PUT", "/nodir/", "x")
            r.ok(res.status == 405 and res.header("Allow") == "GET, HEAD, OPTIONS" and
                 not os.path.exists(os.path.join(d, "htdocs/nodir")),
                 "PUT /nodir/ (a directory URL): 405 with Allow, nothing written", repr(res))
            res = call("DELETE", "/")
            r.ok(res.status == 405 and res.header("Allow") == "GET, HEAD, OPTIONS",
                 "DELETE / (the root): 405 with Allow", repr(res))
            # Two Digest checks of one request (protect_uri, then
            # put_delete_auth_file) take its nonce count once.
            res = call("PUT", "/priv/up.txt", "under protect_uri")
            r.ok(res.status == 201 and os.path.exists(os.path.join(d, "htdocs/priv/up.txt")),
                 "PUT under a protect_uri prefix with put_delete_auth_file: 201", repr(res))
            res = call("PUT", "/priv/up.txt", "again", {"X-Pad": "p" * 3700})
            r.ok(res.status == 204, "... and again with a 3700-byte header field: 204", repr(res))
            res = call("DELETE", "/full/f.txt")
            r.ok(res.status == 204 and not os.path.exists(os.path.join(d, "htdocs/full/f.txt")),
                 "DELETE of a file still 204", repr(res))
        run_libhttp(r, "libhttp-compat", d, ["--libhttp", "libhttp.conf"], check)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    r.replay(tap)
    tap.done()


if __name__ == "__main__":
    main()
