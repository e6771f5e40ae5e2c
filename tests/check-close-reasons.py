#!/usr/bin/python3
"""Close reasons are named: no kite__conn_close_now() or kite__conn_abort()
call under lib/ or fuzz/ passes a bare number (kite_close_reason_t in kite/protocol.h says
what each means to the application's on_closed). Prints TAP."""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
call = re.compile(r"kite__conn_close_now\s*\((?:[^;]*?),\s*(-?\d+|[^;]*\?\s*-?\d+\s*:[^;]*)\)\s*;"
                  r"|kite__conn_abort\s*\([^,;]*,\s*-?\d+\s*,")
bad = []
for d in ("lib", "fuzz"):
    for f in sorted((root / d).rglob("*.c")):
        for n, line in enumerate(f.read_text(errors="replace").splitlines(), 1):
            if call.search(line):
                bad.append("%s:%d: %s" % (f.relative_to(root), n, line.strip()))
print("%sok 1 - every kite__conn_close_now() and kite__conn_abort() names its reason"
      % ("not " if bad else ""))
for b in bad:
    print("# " + b)
print("1..1")
sys.exit(1 if bad else 0)
