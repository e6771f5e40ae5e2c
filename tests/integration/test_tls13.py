#!/usr/bin/python3
"""TLS versions, suites and groups through kited's configuration, on
whichever mbedTLS the build links (kitetest.TLS13 says which):

- the default: TLS 1.3 on mbedTLS 3.6 (TLS 1.2 still offered), TLS 1.2 on
  2.28, seen by openssl s_client, curl and python ssl;
- the hardened defaults on both: ECDHE with AES-GCM or ChaCha20-Poly1305
  only (static RSA, DHE, CBC, CCM refused), the server's order on TLS 1.2,
  groups P-256, X25519, P-384 (P-521 refused);
- TLS 1.3: HelloRetryRequest for a group the client sent no key share
  for, resumption by ticket without early data (no 0-RTT);
- the lws keys: ciphers (TLS 1.2) beside tls13-ciphers, ecdh-curve,
  ssl-option-set / ssl-option-clear (no TLS 1.2, no TLS 1.3, no tickets
  applied; a bit with no mbedTLS meaning named in a notice), and on 2.28
  the notice for a key that needs TLS 1.3.

usage: test_tls13.py <build dir>
"""
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kitetest as kt  # noqa: E402
from test_tls_kited import (Kited, check_config, free_port, make_cert, make_www,  # noqa: E402
                            run_main, write_conf)

NO_TLSv1_2, NO_TLSv1_3, NO_TICKET = 1 << 27, 1 << 29, 1 << 14
PRIORITIZE_CHACHA, NO_RENEGOTIATION = 1 << 21, 1 << 30
V13 = kt.TLS13
# TLS 1.2 suites the defaults leave out: no forward secrecy, CBC, CCM.
WEAK_RSA = ["AES128-GCM-SHA256", "AES256-SHA256", "ECDHE-RSA-AES128-SHA256", "ECDHE-RSA-AES256-SHA384"]
WEAK_EC = ["ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES128-CCM8", "ECDHE-ECDSA-AES128-CCM"]


def s_client(port, *args, request=b""):
    cmd = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port] + list(args)
    if request:
        cmd.append("-ign_eof")
    p = subprocess.run(cmd, input=request, capture_output=True, timeout=20)
    return p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")


def negotiated(out):
    """("TLSv1.3", "TLS_AES_128_GCM_SHA256") from s_client's output, or None."""
    m = re.search(r"^New, (TLSv[\d.]+), Cipher is (\S+)", out, re.M)
    return (m.group(1), m.group(2)) if m else None


def temp_key(out):
    m = re.search(r"^Server Temp Key: (.*)$", out, re.M)
    return m.group(1) if m else ""


def main():
    run_main(run, "kite-tls13-")


def run(t, kited, base):
    www = make_www(base)
    ec_crt, ec_key = make_cert(base, "a.test")
    rsa_crt, rsa_key = make_cert(base, "b.test", kind="rsa")
    mount = [{"mountpoint": "/", "origin": "file://" + www, "default": "index.html"}]
    ports = {k: free_port() for k in "abcdefg"}

    def vhost(name, crt, key, port, **extra):
        v = {"name": name, "port": port, "interface": "127.0.0.1", "host-ssl-cert": crt,
             "host-ssl-key": key, "mounts": mount}
        v.update(extra)
        return v
    vhosts = [
        vhost("a.test", ec_crt, ec_key, ports["a"]),
        vhost("b.test", rsa_crt, rsa_key, ports["b"]),
        vhost("c.test", ec_crt, ec_key, ports["c"], **{
            "ecdh-curve": "P-256", "tls13-ciphers": "TLS_CHACHA20_POLY1305_SHA256",
            "ciphers": "ECDHE-ECDSA-AES256-GCM-SHA384"}),
        vhost("d.test", ec_crt, ec_key, ports["d"], **{
            "ssl-option-set": str(NO_TLSv1_3 | NO_TICKET | PRIORITIZE_CHACHA),
            "ssl-option-clear": NO_RENEGOTIATION}),
        # ciphers widens the defaults: what they refuse, let in again.
        vhost("f.test", rsa_crt, rsa_key, ports["f"], ciphers=":".join(WEAK_RSA)),
        vhost("g.test", ec_crt, ec_key, ports["g"], ciphers=":".join(WEAK_EC)),
    ]
    if V13:
        vhosts.append(vhost("e.test", ec_crt, ec_key, ports["e"],
                            **{"ssl-option-set": NO_TLSv1_2}))
    conf = os.path.join(base, "etc")
    write_conf(conf, vhosts)
    r = check_config(kited, conf)
    t.ok(r.returncode == 0, "kited --check-config accepts the TLS keys", r.stderr[-2000:])
    srv = Kited(kited, conf, ports["d"])
    try:
        check_default(t, ports)
        check_hardened(t, ports)
        check_keys(t, ports, srv.output())
        check_tls13(t, ports, base)
    finally:
        t.ok(srv.stop() == 0, "kited exits with status 0 after SIGTERM")
    check_refused(t, kited, base, ec_crt, ec_key)
    check_libhttp(t, kited, base, ec_crt, ec_key)
    check_client(t, os.path.join(sys.argv[1], "test-apps", "kite-test-client"), base, ec_crt,
                 ec_key)


def check_default(t, ports):
    a = ports["a"]
    want = kt.TLS_NEWEST
    t.eq((negotiated(s_client(a)) or ("",))[0], want,
         "the default protocol is %s on mbedTLS %s (s_client)" % (want, kt.MBEDTLS_VERSION))
    p = kt.curl(["-k", "-v", "-o", "/dev/null", "--resolve", "a.test:%d:127.0.0.1" % a,
                 "https://a.test:%d/" % a])
    t.ok(p.returncode == 0 and ("SSL connection using %s" % want).encode() in p.stderr,
         "curl: %s" % want, p.stderr[-800:])
    ctx = ssl._create_unverified_context()
    c = kt.Conn(a)
    c.sock = ctx.wrap_socket(c.sock, server_hostname="a.test")
    c.send(kt.build_request("GET", "/", host="a.test"))
    r = c.read_response()
    t.eq((r.status, r.body, c.sock.version()), (200, b"kite over tls\n", want),
         "python ssl: a page over %s" % want)
    c.close()
    t.eq(negotiated(s_client(a, "-tls1_2")),
         ("TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256"),
         "TLS 1.2 is still offered; the server's order picks AES-128-GCM over the client's "
         "AES-256-GCM")


def check_hardened(t, ports):
    a, b = ports["a"], ports["b"]
    for port, suite in ((a, "ECDHE-ECDSA-AES128-GCM-SHA256"), (a, "ECDHE-ECDSA-AES256-GCM-SHA384"),
                        (a, "ECDHE-ECDSA-CHACHA20-POLY1305"), (b, "ECDHE-RSA-AES128-GCM-SHA256"),
                        (b, "ECDHE-RSA-CHACHA20-POLY1305")):
        t.eq(negotiated(s_client(port, "-tls1_2", "-cipher", suite)), ("TLSv1.2", suite),
             "hardened default: %s is offered" % suite)
    for port, wide, suites in ((b, ports["f"], WEAK_RSA), (a, ports["g"], WEAK_EC)):
        for suite in suites:
            arg = suite + ":@SECLEVEL=0"
            t.ok(negotiated(s_client(port, "-tls1_2", "-cipher", arg)) is None and
                 negotiated(s_client(wide, "-tls1_2", "-cipher", arg)) == ("TLSv1.2", suite),
                 "hardened default: %s refused; a ciphers list naming it lets it in" % suite)
    t.ok(negotiated(s_client(b, "-tls1_2", "-cipher", "DHE-RSA-AES128-GCM-SHA256")) is None,
         "hardened default: no DHE")
    t.eq(negotiated(s_client(a, "-tls1_2", "-cipher",
                             "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256")),
         ("TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256"),
         "TLS 1.2: the server's order, not the client's (ChaCha20 listed first)")
    for groups, want in (("X25519", "X25519"), ("P-256", "prime256v1"), ("P-384", "secp384r1"),
                         ("P-256:X25519", "prime256v1")):
        # On the RSA vhost: on TLS 1.2 the groups also bound an ECDSA
        # certificate's curve.
        out = s_client(b, "-groups", groups)
        t.ok(negotiated(out) and want in temp_key(out),
             "groups %s: %s (%s)" % (groups, want, temp_key(out)), out[-600:])
    out = s_client(b, "-tls1_2", "-groups", "X25519:P-256")
    t.ok("prime256v1" in temp_key(out),
         "TLS 1.2: the server's group order (P-256, then X25519), not the client's",
         temp_key(out))
    t.ok(negotiated(s_client(b, "-groups", "P-521")) is None, "P-521 is not offered")


def check_keys(t, ports, log):
    c, d = ports["c"], ports["d"]
    t.eq(negotiated(s_client(c, "-tls1_2")), ("TLSv1.2", "ECDHE-ECDSA-AES256-GCM-SHA384"),
         "ciphers: the TLS 1.2 list")
    t.ok(negotiated(s_client(c, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256")) is None,
         "ciphers: a suite not in it is refused")
    out = s_client(c, "-tls1_2", "-groups", "X25519:P-256")
    t.ok("prime256v1" in temp_key(out), "ecdh-curve P-256: chosen over the client's X25519",
         temp_key(out))
    t.ok(negotiated(s_client(c, "-groups", "X25519")) is None,
         "ecdh-curve P-256: a client with X25519 only is refused")
    if V13:
        t.eq(negotiated(s_client(c)), ("TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256"),
             "tls13-ciphers: the TLS 1.3 list")
        t.ok(negotiated(s_client(c, "-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256")) is None,
             "tls13-ciphers: a TLS 1.3 suite not in it is refused")
    else:
        t.ok("c.test: tls13-ciphers: TLS 1.3 needs mbedTLS 3.6" in log,
             "mbedTLS 2.28: tls13-ciphers is accepted with a notice", log[-1500:])
    out = s_client(d, request=b"GET / HTTP/1.0\r\n\r\n")
    t.eq((negotiated(out) or ("",))[0], "TLSv1.2", "ssl-option-set SSL_OP_NO_TLSv1_3: TLS 1.2")
    t.ok("TLS session ticket:" not in out and "kite over tls" in out,
         "ssl-option-set SSL_OP_NO_TICKET: no ticket", out[-1200:])
    t.ok("d.test: ssl-option-set: SSL_OP_PRIORITIZE_CHACHA (0x200000) has no meaning with mbedTLS"
         in log, "ssl-option-set: a bit with no mbedTLS meaning is a notice naming it", log[-1500:])
    t.ok("d.test: ssl-option-clear: SSL_OP_NO_RENEGOTIATION (0x40000000) cannot be cleared"
         in log, "ssl-option-clear: renegotiation stays off, said in a notice", log[-1500:])
    if V13:
        e = ports["e"]
        t.ok(negotiated(s_client(e, "-tls1_2")) is None and
             (negotiated(s_client(e)) or ("",))[0] == "TLSv1.3",
             "ssl-option-set SSL_OP_NO_TLSv1_2: TLS 1.3 only")


def check_tls13(t, ports, base):
    if not V13:
        return
    c = ports["c"]
    out = s_client(c, "-tls1_3", "-groups", "X25519:P-256", "-msg")
    t.ok(len(re.findall(r"^>>> .*ClientHello", out, re.M)) == 2 and
         "prime256v1" in temp_key(out) and negotiated(out),
         "HelloRetryRequest: a key share for X25519 only, the server asks again for P-256",
         out[-1500:])
    a = ports["a"]
    out = s_client(a, "-tls1_3", "-groups", "X25519:P-256", "-msg")
    t.ok(len(re.findall(r"^>>> .*ClientHello", out, re.M)) == 1 and "X25519" in temp_key(out),
         "a key share for X25519 only: taken as it is (P-256 first in kite's list costs no "
         "HelloRetryRequest)", out[-1500:])
    sess = os.path.join(base, "sess")
    req = b"GET / HTTP/1.0\r\n\r\n"
    early = os.path.join(base, "early")
    with open(early, "wb") as f:
        f.write(req)
    first = s_client(a, "-tls1_3", "-sess_out", sess, request=req)
    t.ok(re.search(r"Max Early Data: 0\b", first), "the TLS 1.3 ticket allows no early data",
         first[-1500:])
    again = s_client(a, "-tls1_3", "-sess_in", sess, "-early_data", early, request=req)
    t.ok(re.search(r"^Reused, TLSv1\.3", again, re.M) and "Early data was accepted" not in again
         and "kite over tls" in again,
         "resumption by ticket over TLS 1.3, early data (0-RTT) not accepted", again[-1500:])


def check_refused(t, kited, base, crt, key):
    def refused(name, extra, msg):
        d = os.path.join(base, "bad-" + name)
        v = {"name": "x.test", "port": free_port(), "interface": "127.0.0.1",
             "host-ssl-cert": crt, "host-ssl-key": key}
        v.update(extra)
        write_conf(d, [v])
        r = check_config(kited, d)
        t.ok(r.returncode != 0 and msg in r.stderr, "%s: refused (%s)" % (name, msg),
             r.stderr[-1500:])
    refused("ecdh-curve", {"ecdh-curve": "X25519:P-999"}, 'ecdh-curve: unknown group "P-999"')
    refused("tls13-ciphers", {"tls13-ciphers": "ECDHE-ECDSA-AES128-GCM-SHA256"} if V13
            else {"ciphers": "TLS-NOPE"}, "is not a TLS 1.3 suite" if V13 else "unknown cipher")
    if not V13:
        refused("TLS 1.3 only", {"ssl-option-set": NO_TLSv1_2}, "TLS 1.3 needs mbedTLS 3.6")
        refused("ssl-min-version 1.3", {"ssl-min-version": "1.3"}, "TLS 1.3 needs mbedTLS 3.6")


def check_libhttp(t, kited, base, crt, key):
    """LibHTTP's ssl_protocol_version 5 (CivetWeb's value): TLS 1.3 only."""
    with open(os.path.join(base, "both.pem"), "w") as f:
        f.write(open(crt).read() + open(key).read())
    port = free_port()
    args = [kited, "-n", "-document_root", base, "-listening_ports", "127.0.0.1:%ds" % port,
            "-ssl_certificate", "both.pem", "-ssl_protocol_version", "5"]
    if not V13:
        p = subprocess.run(args[:2] + ["--check-config"] + args[2:], cwd=base,
                           capture_output=True, text=True, timeout=30)
        t.ok(p.returncode != 0 and "TLS 1.3 needs mbedTLS 3.6" in p.stderr,
             "LibHTTP ssl_protocol_version 5 on mbedTLS 2.28: refused, saying why", p.stderr[-800:])
        return
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(args, cwd=base, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    try:
        wait_port(port)
        t.ok(negotiated(s_client(port, "-tls1_2")) is None and
             (negotiated(s_client(port)) or ("",))[0] == "TLSv1.3",
             "LibHTTP ssl_protocol_version 5: TLS 1.3 only")
    finally:
        proc.terminate()
        proc.wait(5)


def check_client(t, client, base, crt, key):
    """kite's client (kite_client_connect, kite-test-client) against an
    openssl s_server that speaks TLS 1.3 only."""
    www = os.path.join(base, "s_server")
    os.makedirs(www)
    with open(os.path.join(www, "page.txt"), "w") as f:
        f.write("from s_server\n")
    port = free_port()
    srv = subprocess.Popen(["openssl", "s_server", "-accept", "127.0.0.1:%d" % port, "-tls1_3",
                            "-cert", crt, "-key", key, "-WWW", "-quiet"], cwd=www,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           stdin=subprocess.DEVNULL)
    try:
        wait_port(port)
        p = subprocess.run([client, "-k", "https://127.0.0.1:%d/page.txt" % port],
                           capture_output=True, text=True, timeout=30)
        if V13:
            t.ok(p.returncode == 0 and "from s_server" in p.stdout,
                 "kite's client speaks TLS 1.3 (a TLS 1.3-only server)", p.stdout + p.stderr)
        else:
            t.ok(p.returncode != 0 and "handshake failed" in p.stderr,
                 "mbedTLS 2.28: kite's client cannot reach a TLS 1.3-only server, and says so",
                 p.stdout + p.stderr)
    finally:
        srv.terminate()
        srv.wait(5)


def wait_port(port, secs=10):
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)


if __name__ == "__main__":
    main()
