#!/usr/bin/python3
"""loadmon.py: sample how busy the machine is with work that is NOT the
benchmark, while the benchmark runs.

usage: loadmon.py OUT.tsv OUR_CGROUP INTERVAL_S

bench/run.sh puts itself (and so every server and load generator it starts)
into a cpuacct cgroup, OUR_CGROUP.  CPU time of everything else ("foreign")
is the root cpuacct usage minus ours, per CPU; exited processes (compiler
runs, test binaries) are counted too, since cpuacct keeps their time.
One line per sample:

  epoch  load1  foreign_cpu0_%  foreign_cpu1_%  ours_cpu0_%  ours_cpu1_%  running_foreign_comms

(% of one core over the interval.)  Stops when its parent exits or on SIGTERM.
"""
import os
import signal
import sys
import time

out, ours_cg, interval = sys.argv[1], sys.argv[2], float(sys.argv[3])
ROOT = "/sys/fs/cgroup/cpuacct"
parent = os.getppid()
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))


def percpu(path):
    try:
        with open(path + "/cpuacct.usage_percpu") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return None


def our_pids():
    try:
        with open(ours_cg + "/cgroup.procs") as f:
            return {int(x) for x in f.read().split()}
    except OSError:
        return set()


def running_foreign():
    mine = our_pids()
    names = {}
    for p in os.listdir("/proc"):
        if not p.isdigit() or int(p) in mine:
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                s = f.read()
        except OSError:
            continue
        comm = s[s.index("(") + 1:s.rindex(")")]
        state = s[s.rindex(")") + 2]
        if state == "R":
            names[comm] = names.get(comm, 0) + 1
    return ",".join("%s:%d" % kv for kv in sorted(names.items())) or "-"


def load1():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


r0, o0, t0 = percpu(ROOT), percpu(ours_cg), time.time()
with open(out, "a", buffering=1) as f:
    while True:
        time.sleep(interval)
        if os.getppid() != parent:
            break
        r1, o1, t1 = percpu(ROOT), percpu(ours_cg), time.time()
        if r0 is None or r1 is None:
            f.write("%.1f\t%s\t-\t-\t-\t-\t%s\n" % (t1, load1(), running_foreign()))
            continue
        o0 = o0 or [0] * len(r0)
        o1 = o1 or o0
        dt = (t1 - t0) * 1e9
        fo = [max(0.0, 100.0 * ((r1[i] - r0[i]) - (o1[i] - o0[i])) / dt) for i in range(min(2, len(r1)))]
        us = [100.0 * (o1[i] - o0[i]) / dt for i in range(min(2, len(o1)))]
        while len(fo) < 2:
            fo.append(0.0)
            us.append(0.0)
        f.write("%.1f\t%s\t%.0f\t%.0f\t%.0f\t%.0f\t%s\n" % (t1, load1(), fo[0], fo[1], us[0], us[1],
                                                          running_foreign()))
        r0, o0, t0 = r1, o1, t1
