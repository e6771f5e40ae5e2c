"""`meson install` puts everything where README.kited.md says, and the
sample configuration it installs is one kited accepts and serves.

argv: the build directory. The install goes to a temporary DESTDIR; the
sample config's absolute paths are pointed into it before kited checks it.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kitetest import Tap  # noqa: E402


def main():
    tap = Tap()
    build = os.path.abspath(sys.argv[1])
    dest = tempfile.mkdtemp(prefix="kite-install-")
    try:
        r = subprocess.run(["meson", "install", "-C", build, "--destdir", dest, "--no-rebuild",
                            "--quiet"], capture_output=True, text=True, timeout=120)
        tap.eq(r.returncode, 0, "meson install succeeds")
        if r.returncode:
            tap.diag(r.stdout + r.stderr)
            tap.done()
        files = []
        for root, _, names in os.walk(dest):
            files += [os.path.relpath(os.path.join(root, n), dest) for n in names]

        def has(pattern, what):
            hit = [f for f in files if re.search(pattern, f)]
            tap.ok(hit, "installed: %s" % what, "no file matches %s" % pattern)
            return hit[0] if hit else None

        kited = has(r"sbin/kited$", "kited in sbin")
        lib = has(r"lib/(.*/)?libkite\.so", "libkite.so")
        has(r"pkgconfig/libkite\.pc$", "libkite.pc")
        has(r"include/kite\.h$", "kite.h")
        has(r"include/kite/config\.h$", "kite/config.h")
        plug = has(r"kite/plugins/protocol-dumb-increment\.so$", "the plugins")
        has(r"kite/test-plugins/protocol-http-test\.so$", "the test plugins in their own directory")
        tap.ok(not [f for f in files if re.search(r"kite/plugins/protocol-(http|raw)-test", f)],
               "no test plugin in the production plugin directory")
        conf = has(r"etc/kite/conf$", "a sample /etc/kite/conf")
        has(r"etc/kite/conf\.d/localhost$", "a sample vhost in conf.d")
        has(r"systemd/system/kited\.service$", "the systemd unit")
        has(r"doc/kite/README\.kited\.md$", "the READMEs")
        has(r"kite-test-server/html/index\.html$", "the test page")
        has(r"lib/(.*/)?lua/5\.4/kite\.so$", "the Lua module kite.so in a Lua 5.4 C module dir")
        if not (kited and lib and plug and conf):
            tap.done()
        # The sample config names absolute install paths: point them into DESTDIR.
        prefix = "/" + conf.split("/etc/kite/conf")[0]
        etc = tempfile.mkdtemp(prefix="kite-etc-", dir=dest)
        shutil.copytree(os.path.join(dest, os.path.dirname(conf)), etc, dirs_exist_ok=True)
        for rel in ("conf", "conf.d/localhost"):
            p = os.path.join(etc, rel)
            with open(p) as f:
                text = f.read()
            with open(p, "w") as f:
                f.write(text.replace(prefix + "/", os.path.join(dest, prefix.lstrip("/")) + "/")
                        .replace('"port": "7681"', '"port": "0"'))
        env = dict(os.environ, LD_LIBRARY_PATH=os.path.dirname(os.path.join(dest, lib)))
        r = subprocess.run([os.path.join(dest, kited), "--check-config", "-n", "-c", etc],
                           capture_output=True, text=True, timeout=30, env=env)
        tap.eq(r.returncode, 0, "installed kited accepts the installed sample config")
        tap.ok("config OK" in r.stderr, "and says so", r.stderr[-2000:])
        with open(os.path.join(dest, [f for f in files if f.endswith("kited.service")][0])) as f:
            unit = f.read()
        tap.ok("ExecReload=/bin/kill -HUP $MAINPID" in unit, "the unit reloads with SIGHUP")
    finally:
        shutil.rmtree(dest, ignore_errors=True)
    tap.done()


main()
