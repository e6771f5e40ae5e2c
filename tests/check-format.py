#!/usr/bin/python3
"""The style check: every tracked .c/.h file is as clang-format (with the
project's .clang-format) would write it. Prints TAP, one line per file."""
import subprocess
import sys

root = sys.argv[1]
files = subprocess.run(["git", "-C", root, "ls-files", "*.c", "*.h"], check=True,
                       capture_output=True, text=True).stdout.split()
bad = 0
for i, f in enumerate(files, 1):
    r = subprocess.run(["clang-format", "--dry-run", "--Werror", f], cwd=root,
                       capture_output=True, text=True)
    if r.returncode:
        bad += 1
        print("not ok %d - %s is clang-formatted" % (i, f))
        for line in r.stderr.splitlines()[:6]:
            print("# " + line)
    else:
        print("ok %d - %s is clang-formatted" % (i, f))
print("1..%d" % len(files))
sys.exit(1 if bad or not files else 0)
