#!/usr/bin/python3
"""TLS through kited's JSON configuration: the lwsws keys host-ssl-cert,
host-ssl-key, host-ssl-ca, ciphers, sts and allow-non-tls, two TLS vhosts on one port
picked by SNI, --check-config naming an unreadable or mismatched file,
and SIGHUP swapping a certificate while a keep-alive TLS connection stays
open (new handshakes get the new certificate, a bad one is refused and the
old kept). Certificates are made with the openssl CLI.

usage: test_tls_kited.py <build dir>
"""
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kitetest as kt  # noqa: E402


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def make_cert(d, name, cn=None, kind="ec"):
    key, crt = os.path.join(d, name + ".key"), os.path.join(d, name + ".crt")
    newkey = ["-newkey", "rsa:2048"] if kind == "rsa" else [
        "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
    subprocess.run(["openssl", "req", "-x509", "-nodes", "-days", "2", "-subj",
                    "/CN=" + (cn or name), "-addext", "subjectAltName=DNS:" + (cn or name),
                    "-keyout", key, "-out", crt] + newkey, check=True, capture_output=True)
    return crt, key


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True)


def client_certs(d):
    """A CA, an intermediate under it; alice (from the CA), carol (from the
    intermediate), bob (from another CA). Returns the paths."""
    p = {k: os.path.join(d, k) for k in ("ca", "ca2", "inter", "alice", "bob", "carol")}
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for ca in ("ca", "ca2"):
        openssl("req", "-x509", *ec, "-days", "2", "-subj", "/CN=kite test %s" % ca,
                "-keyout", p[ca] + ".key", "-out", p[ca] + ".crt")
    ext = os.path.join(d, "ca.ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=critical,CA:TRUE\n")
    for name, issuer, extra in (("inter", "ca", ["-extfile", ext]), ("alice", "ca", []),
                                ("bob", "ca2", []), ("carol", "inter", [])):
        openssl("req", "-new", *ec, "-subj", "/CN=%s/O=kite" % name, "-keyout", p[name] + ".key",
                "-out", p[name] + ".csr")
        openssl("x509", "-req", "-in", p[name] + ".csr", "-CA", p[issuer] + ".crt", "-CAkey",
                p[issuer] + ".key", "-CAcreateserial", "-days", "2", "-out", p[name] + ".crt",
                *extra)
    with open(p["carol"] + ".chain", "w") as f:
        f.write(open(p["carol"] + ".crt").read() + open(p["inter"] + ".crt").read())
    return p


def peer_cn(port, name, cafile=None):
    """The CN of the certificate the server presents for SNI @name."""
    ctx = ssl.create_default_context(cafile=cafile) if cafile else ssl._create_unverified_context()
    if cafile:
        ctx.check_hostname = False
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname=name) as ss:
            der = ss.getpeercert(binary_form=True)
    p = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-subject"], input=der,
                       capture_output=True)
    m = re.search(rb"CN\s*=\s*([^,\n]+)", p.stdout)
    return m.group(1).decode().strip() if m else None


class Kited:
    def __init__(self, binary, conf_dir, port):
        self.binary, self.conf_dir, self.port = binary, conf_dir, port
        self.log = tempfile.TemporaryFile()
        plugins = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(binary))),
                               "plugins")
        self.proc = subprocess.Popen([binary, "-c", conf_dir, "-n", "-P", plugins, "-d", "7"],
                                     stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("kited did not start:\n" + self.output())

    def output(self):
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None


def write_conf(d, vhosts):
    os.makedirs(os.path.join(d, "conf.d"), exist_ok=True)
    with open(os.path.join(d, "conf"), "w") as f:
        json.dump({"global": {"server-string": "kite-tls-test"}}, f)
    with open(os.path.join(d, "conf.d", "sites"), "w") as f:
        json.dump({"vhosts": vhosts}, f, indent=1)


def check_config(binary, d):
    plugins = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(binary))), "plugins")
    return subprocess.run([binary, "--check-config", "-n", "-P", plugins, "-c", d],
                          capture_output=True, text=True, timeout=20)


def run_main(run, prefix):
    """run(t, kited, base) with kited of the build dir argv[1], in a
    temporary directory; TAP's plan at the end."""
    t = kt.Tap()
    kited = os.path.join(sys.argv[1], "apps", "kited", "kited")
    base = tempfile.mkdtemp(prefix=prefix)
    try:
        run(t, kited, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    t.done()


def make_www(base):
    """A docroot whose index.html says "kite over tls"."""
    www = os.path.join(base, "www")
    os.makedirs(www)
    with open(os.path.join(www, "index.html"), "wb") as f:
        f.write(b"kite over tls\n")
    return www


def main():
    run_main(run, "kite-tls-kited-")


def run(t, kited, base):
    www = make_www(base)
    a_crt, a_key = make_cert(base, "a.test", kind="rsa")
    b_crt, b_key = make_cert(base, "b.test")
    port = free_port()
    mount = [{"mountpoint": "/", "origin": "file://" + www, "default": "index.html"}]
    conf = os.path.join(base, "etc")
    vhosts = [
        {"name": "a.test", "port": port, "interface": "127.0.0.1", "host-ssl-cert": a_crt,
         "host-ssl-key": a_key, "sts": True, "allow-non-tls": True, "mounts": mount},
        {"name": "b.test", "port": port, "interface": "127.0.0.1", "host-ssl-cert": b_crt,
         "host-ssl-key": b_key, "host-ssl-ca": b_crt,
         "mounts": mount},
    ]
    cc = client_certs(base)
    port2 = free_port()
    vhosts.append({"name": "c.test", "port": port2, "interface": "127.0.0.1",
                   "host-ssl-cert": b_crt, "host-ssl-key": b_key, "host-ssl-ca": cc["ca"] + ".crt",
                   "client-cert-required": True, "ssl-verify-depth": 1,
                   "mounts": [{"mountpoint": "/test", "origin": "callback://http-test"}]})
    port3 = free_port()
    vhosts.append(dict(vhosts[-1], port=port3))
    del vhosts[-1]["ssl-verify-depth"]
    # ssl-ca-path: the client CA from a directory (with a file that is no
    # certificate in it, which is skipped).
    cadir = os.path.join(base, "cadir")
    os.mkdir(cadir)
    shutil.copy(cc["ca"] + ".crt", cadir)
    with open(os.path.join(cadir, "README"), "w") as f:
        f.write("not a certificate\n")
    port7 = free_port()
    vhosts.append({"name": "c.test", "port": port7, "interface": "127.0.0.1",
                   "host-ssl-cert": b_crt, "host-ssl-key": b_key, "ssl-ca-path": cadir,
                   "client-cert-required": True,
                   "mounts": [{"mountpoint": "/test", "origin": "callback://http-test"}]})
    # redirect-http: a plain vhost, and plain HTTP on a TLS port.
    port4, port5 = free_port(), free_port()
    vhosts.append({"name": "r.test", "port": port4, "interface": "127.0.0.1",
                   "redirect-http": True, "mounts": mount})
    vhosts.append({"name": "e.test", "port": port5, "interface": "127.0.0.1",
                   "host-ssl-cert": b_crt, "host-ssl-key": b_key, "allow-non-tls": True,
                   "redirect-http": True, "mounts": mount,
                   "ciphers": "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305"})
    # ssl-min-version: TLS 1.1 let in on one port only (with a suite TLS 1.1
    # has: the default ones are AEAD, TLS 1.2 and up).
    port6 = free_port()
    vhosts.append({"name": "v.test", "port": port6, "interface": "127.0.0.1",
                   "host-ssl-cert": b_crt, "host-ssl-key": b_key, "ssl-min-version": "1.1",
                   "ssl-max-version": "1.2", "mounts": mount,
                   "ciphers": "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-SHA"})
    write_conf(conf, vhosts)
    r = check_config(kited, conf)
    t.ok(r.returncode == 0 and "config OK" in r.stderr, "kited --check-config accepts TLS vhosts",
         r.stderr[-2000:])

    srv = Kited(kited, conf, port)
    try:
        res = {}
        for name, crt in (("a.test", a_crt), ("b.test", b_crt)):
            p = kt.curl(["--cacert", crt, "--resolve", "%s:%d:127.0.0.1" % (name, port), "-D", "-",
                         "https://%s:%d/" % (name, port)])
            res[name] = p.stdout.decode("latin-1")
            t.ok(p.returncode == 0 and res[name].endswith("kite over tls\n"),
                 "curl https://%s/ verifies its own certificate (SNI)" % name, p.stderr)
        t.ok(re.search(r"(?i)strict-transport-security: max-age=15768000", res["a.test"]),
             "sts: Strict-Transport-Security on a.test", res["a.test"][:600])
        t.ok("strict-transport-security" not in res["b.test"].lower(),
             "no Strict-Transport-Security on b.test (no sts)")
        r = kt.request(port, host="a.test")
        t.eq((r.status, r.body), (200, b"kite over tls\n"),
             "allow-non-tls: plain HTTP on the TLS port is served")
        def suite_ok(suite):
            return kt.curl(["-k", "--ciphers", suite, "--tls-max", "1.2", "--resolve",
                            "e.test:%d:127.0.0.1" % port5, "https://e.test:%d/" % port5]
                           ).returncode == 0
        t.ok(suite_ok("ECDHE-ECDSA-AES128-GCM-SHA256") and
             not suite_ok("ECDHE-ECDSA-AES256-GCM-SHA384"),
             "ciphers (OpenSSL names): e.test takes a listed suite and refuses another")

        # client-cert-required on c.test.
        def peer(*cert, p=port2):
            return kt.curl(["--cacert", b_crt, "--resolve", "b.test:%d:127.0.0.1" % p]
                           + list(cert) + ["https://b.test:%d/test/peer" % p])
        p = peer("--cert", cc["alice"] + ".crt", "--key", cc["alice"] + ".key")
        t.eq((p.returncode, p.stdout), (0, b"CN=alice, O=kite\n"),
             "client-cert-required: a certificate from host-ssl-ca is accepted, and the "
             "handler reads its subject")
        t.ok(peer().returncode != 0, "client-cert-required: no certificate, no connection")
        p = peer("--cert", cc["bob"] + ".crt", "--key", cc["bob"] + ".key")
        t.ok(p.returncode != 0, "client-cert-required: a certificate from another CA is refused")
        p = peer("--cert", cc["carol"] + ".chain", "--key", cc["carol"] + ".key")
        t.ok(p.returncode != 0, "ssl-verify-depth 1: a certificate two CAs deep is refused")
        p = peer("--cert", cc["carol"] + ".chain", "--key", cc["carol"] + ".key", p=port3)
        t.eq(p.stdout, b"CN=carol, O=kite\n", "... and accepted with the default depth")
        p = peer("--cert", cc["alice"] + ".crt", "--key", cc["alice"] + ".key", p=port7)
        t.eq((p.returncode, p.stdout), (0, b"CN=alice, O=kite\n"),
             "ssl-ca-path: a certificate from a CA of the directory is accepted")
        p = peer("--cert", cc["bob"] + ".crt", "--key", cc["bob"] + ".key", p=port7)
        t.ok(p.returncode != 0, "ssl-ca-path: a certificate from another CA is refused")
        p = kt.curl(["--cacert", a_crt, "--resolve", "a.test:%d:127.0.0.1" % port,
                     "https://a.test:%d/" % port])
        t.ok(p.returncode == 0, "a vhost without client-cert-required still serves")

        r = kt.request(port4, target="/a%20b?x=1", host="r.test")
        t.eq((r.status, r.header("Location")), (301, "https://r.test/a%20b?x=1"),
             "redirect-http: a plain vhost answers 301 to https, path and query kept")
        r = kt.request(port5, target="/", host="e.test:%d" % port5)
        t.eq((r.status, r.header("Location")), (301, "https://e.test:%d/" % port5),
             "redirect-http with allow-non-tls: plain HTTP on the TLS port gets 301")
        p = kt.curl(["--cacert", b_crt, "--resolve", "b.test:%d:127.0.0.1" % port5,
                     "https://b.test:%d/" % port5])
        t.eq(p.stdout, b"kite over tls\n", "... and https on that port is served")

        def tls11(p):
            out = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % p,
                                  "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"], input=b"",
                                 capture_output=True, timeout=20)
            return re.search(rb"^New, TLSv1\.1\b|Protocol\s*: TLSv1\.1", out.stdout, re.M) and \
                out.returncode == 0
        if kt.TLS13:
            t.ok(not tls11(port6) and "has no TLS 1.1: TLS 1.2 is the lowest" in srv.output(),
                 "ssl-min-version 1.1 on mbedTLS 3.6: a notice, and TLS 1.2 is the minimum")
        else:
            t.ok(tls11(port6), "ssl-min-version 1.1: a TLS 1.1 client is served")
        t.ok(not tls11(port), "the default minimum (TLS 1.2) refuses a TLS 1.1 client")

        # SIGHUP with a new certificate for a.test: live conns stay, new
        # handshakes get the new one.
        ctx = ssl.create_default_context(cafile=a_crt)
        live = kt.Conn(port)
        live.sock = ctx.wrap_socket(live.sock, server_hostname="a.test")
        live.send(kt.build_request("GET", "/", host="a.test"))
        t.eq(live.read_response().status, 200, "a keep-alive TLS connection to a.test")
        n_crt, n_key = make_cert(base, "a2", cn="a.test")
        vhosts[0]["host-ssl-cert"], vhosts[0]["host-ssl-key"] = n_crt, n_key
        write_conf(conf, vhosts)
        srv.proc.send_signal(signal.SIGHUP)
        ok = False
        for _ in range(100):
            if "reload: done" in srv.output():
                ok = True
                break
            time.sleep(0.05)
        t.ok(ok, "SIGHUP: the reload is done", srv.output()[-2000:])
        t.eq(peer_cn(port, "a.test", n_crt), "a.test", "after SIGHUP a new handshake verifies "
             "with the new certificate")
        live.send(kt.build_request("GET", "/", host="a.test"))
        t.eq(live.read_response().status, 200, "the keep-alive connection made before the "
             "reload still works")
        live.close()

        # A key that does not match: the reload is refused, the old one stays.
        vhosts[0]["host-ssl-key"] = b_key
        write_conf(conf, vhosts)
        srv.proc.send_signal(signal.SIGHUP)
        for _ in range(100):
            if "keeping the running config" in srv.output():
                break
            time.sleep(0.05)
        out = srv.output()
        t.ok("keeping the running config" in out and b_key in out,
             "SIGHUP with a mismatched key: reported with the file, the running config kept",
             out[-2000:])
        t.eq(peer_cn(port, "a.test", n_crt), "a.test", "... and the last good certificate serves")
    finally:
        rc = srv.stop()
    t.eq(rc, 0, "kited exits with status 0 after SIGTERM")

    # --check-config names unreadable files, and a key that does not match.
    vhosts[0]["host-ssl-cert"] = os.path.join(base, "missing.crt")
    write_conf(conf, vhosts)
    r = check_config(kited, conf)
    t.ok(r.returncode == 1 and re.search(r"sites:\d+: vhosts\[0\]\.host-ssl-cert: .*missing\.crt.*"
                                         r"No such file", r.stderr),
         "--check-config: an unreadable certificate is named with file and line", r.stderr[-2000:])
    vhosts[0]["host-ssl-cert"], vhosts[0]["host-ssl-key"] = a_crt, b_key
    write_conf(conf, vhosts)
    r = check_config(kited, conf)
    t.ok(r.returncode == 1 and "does not match" in r.stderr and b_key in r.stderr,
         "--check-config: a key that does not match its certificate is refused", r.stderr[-2000:])


if __name__ == "__main__":
    main()
