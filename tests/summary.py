#!/usr/bin/python3
"""Print one closing line for `make test` from meson's test logs:
'kite: N passed, N failed, N skipped' over every build directory given."""
import json
import os
import sys

passed = failed = skipped = 0
for build in sys.argv[1:]:
    path = os.path.join(build, "meson-logs", "testlog.json")
    if not os.path.exists(path):
        continue
    with open(path) as f:
        for line in f:
            rec = json.loads(line)
            res = rec.get("result")
            if res in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif res == "SKIP":
                skipped += 1
            else:
                failed += 1
print(f"kite: {passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
