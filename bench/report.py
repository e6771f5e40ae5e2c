#!/usr/bin/python3
"""report.py: bench/RESULTS.md from one run of bench/run.sh.

usage: report.py RUN_DIR [-o bench/RESULTS.md]

RUN_DIR (written by run.sh) holds raw.tsv (the shared harness's records, plus
run.sh's `syscalls` records), meta.env (machine, versions, knobs), load.tsv
(loadmon.py: CPU used by other work on the machine) and perf-kite-1k-c50.txt.
Every figure comes from raw.tsv of that one run: kite and the anchors are
never mixed across runs.
"""
import argparse
import os
import statistics
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("run_dir")
ap.add_argument("-o", "--out", default="-")
a = ap.parse_args()
D = a.run_dir

# ------------------------------------------------------------------ inputs
meta = {}
with open(os.path.join(D, "meta.env")) as f:
    for line in f:
        if "=" in line:
            k, v = line.rstrip("\n").split("=", 1)
            meta[k] = v

NAME = {"SUT": "kite"}
records = []   # dicts: t, tag, server, wl, variant, run, + values
with open(os.path.join(D, "raw.tsv")) as f:
    for line in f:
        p = line.rstrip("\n").split("\t")
        if len(p) < 7:
            continue
        r = {"t": time.mktime(time.strptime(p[0], "%Y-%m-%dT%H:%M:%S")), "tag": p[1],
             "server": NAME.get(p[2], p[2]), "wl": p[3], "variant": p[4], "run": p[5]}
        for tok in p[6].split():
            if "=" in tok:
                k, v = tok.split("=", 1)
                try:
                    r[k] = float(v)
                except ValueError:
                    r[k] = v
        records.append(r)

load = []   # (epoch, load1, foreign0, foreign1, ours0, ours1, comms)
lp = os.path.join(D, "load.tsv")
if os.path.exists(lp):
    with open(lp) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) < 7 or p[2] == "-":
                continue
            load.append((float(p[0]), float(p[1]), float(p[2]), float(p[3]), float(p[4]),
                         float(p[5]), p[6]))

quota = meta.get("cpu_quota", "")
FACTOR = 100.0 / float(quota) if quota else 1.0
DUR = float(meta.get("dur", "10") or 10)
ORDER = ["kite", "lighttpd", "nginx", "lws-test"]


def servers_of(rows):
    s = {r["server"] for r in rows}
    return [x for x in ORDER if x in s] + sorted(s - set(ORDER))


def rows(wl, server=None, variant=None):
    return [r for r in records if r["wl"] == wl and (server is None or r["server"] == server)
            and (variant is None or r["variant"] == variant)]


def vals(rs, k):
    return [r[k] for r in rs if isinstance(r.get(k), float)]


def med(rs, k):
    v = vals(rs, k)
    return statistics.median(v) if v else None


def spread(rs, k):
    v = vals(rs, k)
    if len(v) < 2:
        return "-"
    m = statistics.median(v)
    return "%.0f %%" % ((max(v) - min(v)) / m * 100) if m else "-"


def k_(x):
    if x is None:
        return "-"
    if x >= 100000:
        return "%.0fk" % (x / 1000)
    if x >= 1000:
        return "%.1fk" % (x / 1000)
    return "%.0f" % x


def other_load(r):
    """mean CPU (% of one core, both cores summed) used by other work during record r."""
    s = [x[2] + x[3] for x in load if r["t"] - DUR - 1 <= x[0] <= r["t"] + 1]
    return statistics.mean(s) if s else None


def med_other(rs):
    v = [x for x in (other_load(r) for r in rs) if x is not None]
    return statistics.median(v) if v else None


def fmt_other(x):
    return "-" if x is None else "%.0f %%" % x


out = []
P = out.append

# ------------------------------------------------------------------ figures
ka = rows("http-ka")
VARS = ["1k c=50", "1k c=500", "64k c=50", "64k c=500"]
VLABEL = {"1k c=50": "1 KB c50", "1k c=500": "1 KB c500", "64k c=50": "64 KB c50",
          "64k c=500": "64 KB c500"}


def per_core(server, variant):
    rs = rows("http-ka", server, variant)
    m = med(rs, "rps")
    return None if m is None else m * FACTOR


def ratio(server, variant, ref="lighttpd"):
    a_, b_ = per_core(server, variant), per_core(ref, variant)
    return a_ / b_ if a_ is not None and b_ else None


def eff(server, variant, wl="http-ka"):
    """median over runs of req/s per CPU-second the server actually used (rps * 100 / CPU %)."""
    v = [r["rps"] * 100.0 / r["server_cpu"] for r in rows(wl, server, variant)
         if isinstance(r.get("rps"), float) and isinstance(r.get("server_cpu"), float) and r["server_cpu"] > 0]
    return statistics.median(v) if v else None


def eff_ratio(server, variant, ref="lighttpd"):
    a_, b_ = eff(server, variant), eff(ref, variant)
    return a_ / b_ if a_ is not None and b_ else None


def caveat(variant):
    """why a kite-vs-lighttpd ratio may be unreliable in this run."""
    notes = []
    for s in ("kite", "lighttpd"):
        rs = rows("http-ka", s, variant)
        if rs and bound_note(rs):
            o = med_other(rs)
            notes.append("%s not server-bound: CPU %.0f %% of its %s %% cap%s" % (
                s, med(rs, "server_cpu"), quota or "100",
                "" if o is None else ", other load %.0f %%" % o))
    e = eff_ratio("kite", variant)
    if e is not None:
        notes.append("per CPU-second used: %.2f x" % e)
    return "; ".join(notes)


def bound_note(rs):
    """server-bound check: the server should sit at its quota (or ~100 % without one)."""
    c = med(rs, "server_cpu")
    cap = float(quota) if quota else 100.0
    return c is not None and c < 0.9 * cap


close = rows("http-close")


def close_cpu_us(server):
    rs = rows("http-close", server)
    # per run: server CPU seconds / connections; median over runs
    v = [r["server_cpu"] / 100.0 / r["rps"] * 1e6 for r in rs
         if isinstance(r.get("server_cpu"), float) and r.get("rps")]
    return statistics.median(v) if v else None


mem = [r for r in rows("mem-idle") if r["variant"].startswith("http")]
sysc = rows("syscalls")


def syscalls_per_req(server, variant="1k c=50"):
    rs = rows("syscalls", server, variant)
    return med(rs, "per_req")


# ------------------------------------------------------------------ targets
targets = []   # (text, met: True/False/None, figure)


def tgt(text, val, ok, fig):
    targets.append((text, None if val is None else ok, fig))


r = ratio("kite", "1k c=50")
tgt("1 KB keep-alive c50 >= 1.3 x lighttpd", r, r is not None and r >= 1.3,
    "-" if r is None else "%.2f x (kite %s vs lighttpd %s req/s per core%s)" % (
        r, k_(per_core("kite", "1k c=50")), k_(per_core("lighttpd", "1k c=50")), ("; " + caveat("1k c=50")) if caveat("1k c=50") else ""))
r = ratio("kite", "1k c=500")
tgt("1 KB keep-alive c500 >= 1.3 x lighttpd", r, r is not None and r >= 1.3,
    "-" if r is None else "%.2f x (kite %s vs lighttpd %s req/s per core%s)" % (
        r, k_(per_core("kite", "1k c=500")), k_(per_core("lighttpd", "1k c=500")), ("; " + caveat("1k c=500")) if caveat("1k c=500") else ""))
s = syscalls_per_req("kite")
tgt("<= 2.3 syscalls per keep-alive request", s, s is not None and s <= 2.3,
    "-" if s is None else "%.2f syscalls per request (1 KB, c50)" % s)
r = ratio("kite", "64k c=50")
tgt("64 KB keep-alive c50 >= 1.0 x lighttpd", r, r is not None and r >= 1.0,
    "-" if r is None else "%.2f x (kite %s vs lighttpd %s req/s per core%s)" % (
        r, k_(per_core("kite", "64k c=50")), k_(per_core("lighttpd", "64k c=50")), ("; " + caveat("64k c=50")) if caveat("64k c=50") else ""))
ck, cn = close_cpu_us("kite"), close_cpu_us("nginx")
tgt("Connection: close: server CPU per connection <= nginx", None if ck is None or cn is None else ck,
    ck is not None and cn is not None and ck <= cn,
    "-" if ck is None or cn is None else "kite %.1f us vs nginx %.1f us of server CPU per connection (%.2f x%s)" % (
        ck, cn, ck / cn, "; a tie within this run's noise" if abs(ck / cn - 1) < 0.05 else ""))
b = med([r for r in mem if r["server"] == "kite"], "bytes_per_conn")
tgt("idle keep-alive connection <= 512 B", b, b is not None and b <= 512,
    "-" if b is None else "%.0f B per idle connection (10k)" % b)
missed = any(t[1] is False for t in targets)

# ------------------------------------------------------------------ load on the machine
hs, he = float(meta.get("phase_start_harness", 0) or 0), float(meta.get("phase_end_harness", 0) or 0)
lh = [x for x in load if hs <= x[0] <= he] if hs and he else load


def load_summary():
    if not lh:
        return None
    fo = [x[2] + x[3] for x in lh]
    l1 = [x[1] for x in lh]
    comms = {}
    for x in lh:
        if x[6] == "-":
            continue
        for c in x[6].split(","):
            n, _, k = c.rpartition(":")
            comms[n] = comms.get(n, 0) + 1
    top = sorted(comms.items(), key=lambda kv: -kv[1])[:8]
    return {
        "mean": statistics.mean(fo), "max": max(fo),
        "busy10": 100.0 * sum(1 for x in fo if x > 10) / len(fo),
        "busy50": 100.0 * sum(1 for x in fo if x > 50) / len(fo),
        "cpu0": statistics.mean(x[2] for x in lh), "cpu1": statistics.mean(x[3] for x in lh),
        "l1min": min(l1), "l1max": max(l1), "l1mean": statistics.mean(l1),
        "top": top, "n": len(lh),
    }


LS = load_summary()

# ------------------------------------------------------------------ write
P("# kite benchmark results")
P("")
P("Generated by `bench/report.py` from one run of `bench/run.sh` (`make bench`); the raw")
P("records are in `bench/results/raw.tsv`. Every figure below, kite's and the anchors', comes")
P("from that same run. How to run and how to read this: `READMEs/README.bench.md`.")
P("")
P("* **Date:** %s (run %s)" % (meta.get("date_local", "?"), meta.get("stamp", "?")))
P("* **Machine:** %s, %s vCPU%s, %s RAM, kernel %s, Debian %s" % (
    meta.get("cpu_model", "?"), meta.get("nproc", "?"),
    " (%s guest)" % meta["hypervisor"] if meta.get("hypervisor") else "",
    meta.get("mem_total", "?"), meta.get("kernel", "?"), meta.get("debian", "?")))
dirty = meta.get("kite_dirty_lib_files", "0")
P("* **kite:** `kite-test-server` from `build/` (buildtype %s) at commit %s%s, libuv %s" % (
    meta.get("kite_buildtype", "?"), meta.get("kite_sha", "?"),
    "" if dirty in ("", "0") else " plus %s uncommitted file(s) under lib/ and include/ (the working tree was built)" % dirty,
    meta.get("libuv", "?")))
P("* **Anchors:** nginx %s (1 worker), lighttpd %s, libwebsockets-test-server %s; load generator wrk %s" % (
    meta.get("nginx", "?"), meta.get("lighttpd", "?"), meta.get("lws", "?"), meta.get("wrk", "?")))
P("* **Runs:** %s × %s s per figure (median; %s s unrecorded warm-up per configuration), "
  "HTTP workloads at `CPU_QUOTA=%s`, idle memory %s" % (
      meta.get("runs"), meta.get("dur"), meta.get("warmup"), quota or "none (unthrottled)",
      "at CPU_QUOTA=%s" % meta["mem_quota"] if meta.get("mem_quota") else "without a quota"))
if meta.get("failed"):
    P("* **Failed pieces:** %s (see the run log)" % meta["failed"])
P("")

# machine sharing
P("## Was the machine quiet?")
P("")
if LS:
    shared = LS["mean"] > 5 or LS["busy10"] > 10
    P("Other work on this 2-vCPU machine (CPU time of every process that was not started by the")
    P("benchmark, from cpuacct, sampled every 2 s by `bench/loadmon.py` over the %d samples of the"
      % LS["n"])
    P("harness phase): mean **%.0f %%** of one core (CPU 0 %.0f %%, CPU 1 %.0f %%), max %.0f %%; above 10 %% of a"
      % (LS["mean"], LS["cpu0"], LS["cpu1"], LS["max"]))
    P("core in %.0f %% of the samples, above 50 %% in %.0f %%. `uptime` load average (1 min, which includes"
      % (LS["busy10"], LS["busy50"]))
    P("the benchmark's own server and wrk, about 1.5) ranged %.2f-%.2f, mean %.2f." % (
        LS["l1min"], LS["l1max"], LS["l1mean"]))
    P("At the start: `%s`; at the end: `%s`." % (meta.get("uptime_start", "?").strip(),
                                               meta.get("uptime_end", "?").strip()))
    if LS["top"]:
        P("Foreign processes most often seen running: %s." % ", ".join(
            "%s (%d)" % kv for kv in LS["top"]))
    P("")
    if shared:
        P("**The machine was shared with other work (builds/tests) during this run**, so the")
        P("figures are disturbed: some runs lost CPU to it, which shows as spread. Each table has an")
        P("\"other load\" column (mean foreign CPU during that figure's runs, median over runs); compare")
        P("rows with similar other load, and prefer a rerun on a quiet machine for final numbers.")
    else:
        P("The machine was essentially quiet during the run.")
else:
    P("No load samples (cgroup accounting unavailable). `uptime` at the start: `%s`; at the end: `%s`."
      % (meta.get("uptime_start", "?").strip(), meta.get("uptime_end", "?").strip()))
P("")

# targets
P("## Issue 3 targets")
P("")
P("| target | result | figure |")
P("|---|---|---|")
for text, ok, fig in targets:
    P("| %s | %s | %s |" % (text, "not measured" if ok is None else ("**met**" if ok else "**NOT met**"), fig))
P("")

# keep-alive
if ka:
    P("## HTTP/1.1 keep-alive GET (wrk -t1), req/s per core")
    P("")
    if quota:
        P("Server-bound mode: each server runs under a %s %% CFS quota on CPU 0, so **req/s per core ="
          % quota)
        P("median req/s × %g**. Ratio against lighttpd in brackets." % FACTOR)
    else:
        P("No quota: req/s per core = median req/s (the load generator may be the limit; see server CPU).")
    P("")
    P("| server | " + " | ".join(VLABEL[v] for v in VARS) + " |")
    P("|---|" + "---|" * len(VARS))
    for s in servers_of(ka):
        cells = []
        for v in VARS:
            pc = per_core(s, v)
            rr = ratio(s, v)
            mark = "¹" if bound_note(rows("http-ka", s, v)) else ""
            cells.append("-" if pc is None else "%s (%s)%s" % (
                k_(pc), "-" if rr is None else "%.2f" % rr, mark))
        P("| %s | %s |" % ("**kite**" if s == "kite" else s, " | ".join(cells)))
    P("")
    if any(bound_note(rows("http-ka", s, v)) for s in servers_of(ka) for v in VARS):
        P("¹ server below 90 % of its CPU cap in this configuration: not server-bound, so the figure is")
        P("a lower bound of its capacity.")
        P("")
    P("Cross-check, robust to CPU stolen by other work: **req/s per CPU-second the server actually")
    P("used** (req/s × 100 / server CPU %, median over runs), ratio against lighttpd. It credits a")
    P("server that did not get its full quota; it is not a capacity figure (a starved server batches")
    P("more per wakeup, which flatters it), so use it to judge rows marked ¹.")
    P("")
    P("| server | " + " | ".join(VLABEL[v] for v in VARS) + " |")
    P("|---|" + "---|" * len(VARS))
    for s in servers_of(ka):
        cells = []
        for v in VARS:
            e, er = eff(s, v), eff_ratio(s, v)
            cells.append("-" if e is None else "%s (%s)" % (k_(e), "-" if er is None else "%.2f" % er))
        P("| %s | %s |" % ("**kite**" if s == "kite" else s, " | ".join(cells)))
    P("")
    P("Detail (raw medians of the runs, before × %g):" % FACTOR)
    P("")
    P("| server | variant | runs | req/s | spread | server CPU % | load core busy % | p99 ms | errors | other load |")
    P("|---|---|---|---|---|---|---|---|---|---|")
    for s in servers_of(ka):
        for v in VARS:
            rs = rows("http-ka", s, v)
            if not rs:
                continue
            P("| %s | %s | %d | %.0f | %s | %.0f | %.0f | %.2f | %d | %s |" % (
                s, v, len(rs), med(rs, "rps"), spread(rs, "rps"), med(rs, "server_cpu") or 0,
                med(rs, "cpu1_busy") or 0, med(rs, "p99_ms") or 0,
                sum(vals(rs, "errors")) + sum(vals(rs, "non2xx")), fmt_other(med_other(rs))))
    P("")
    if quota:
        P("p99 latencies in this mode include the throttling (the server is stopped for part of every")
        P("10 ms period); do not compare them with unthrottled latencies.")
        P("")

# close
if close:
    P("## Connection: close (wrk -t1 -c50 -H 'Connection: close', 1 KB)")
    P("")
    P("A new TCP connection per request. The load generator can limit this test, so the figure to")
    P("compare is the **server CPU time per connection** = server CPU % / req/s (median over runs),")
    P("ratio against nginx in brackets.")
    P("")
    P("| server | req/s | spread | server CPU % | server CPU per connection | load core busy % | errors | other load |")
    P("|---|---|---|---|---|---|---|---|")
    for s in servers_of(close):
        rs = rows("http-close", s)
        c = close_cpu_us(s)
        P("| %s | %.0f | %s | %.0f | %s | %.0f | %d | %s |" % (
            "**kite**" if s == "kite" else s, med(rs, "rps"), spread(rs, "rps"),
            med(rs, "server_cpu") or 0,
            "-" if c is None else "%.1f µs (%s)" % (c, "%.2f" % (c / cn) if cn else "-"),
            med(rs, "cpu1_busy") or 0, sum(vals(rs, "errors")) + sum(vals(rs, "non2xx")),
            fmt_other(med_other(rs))))
    P("")
    if any(s == "lws-test" for s in servers_of(close)):
        P("lws-test counts one wrk read error per request: lws 4.1.6 closes without sending")
        P("`Connection: close` (harness README); the responses are complete.")
        P("")

# memory
if mem:
    P("## Idle keep-alive HTTP connections: RSS per connection")
    P("")
    P("10k connections, each did one GET of /1k.txt and then idles; (VmRSS after − VmRSS before) /")
    P("connections, read 0.3 s after all are open. Kernel socket buffers are not included.")
    P("")
    P("| server | bytes per idle conn | spread | RSS before KB | RSS after KB | connected | alive after 1 s |")
    P("|---|---|---|---|---|---|---|")
    for s in servers_of(mem):
        rs = [r for r in mem if r["server"] == s]
        P("| %s | %.0f | %s | %.0f | %.0f | %.0f | %.0f |" % (
            "**kite**" if s == "kite" else s, med(rs, "bytes_per_conn"), spread(rs, "bytes_per_conn"),
            med(rs, "rss_before_kb") or 0, med(rs, "rss_after_kb") or 0, med(rs, "connected") or 0,
            med(rs, "alive_after_1s") or 0))
    P("")

# syscalls
if sysc:
    P("## Syscalls per request (keep-alive, wrk -t1 -c50, no quota)")
    P("")
    P("`perf stat -e raw_syscalls:sys_enter -e syscalls:sys_enter_{read,sendmsg,...} -p PID` on the serving process")
    P("(nginx: the worker) for the whole %s s wrk run, divided by the requests wrk completed. The"
      % meta.get("syscall_dur", "?"))
    P("columns on the right are the largest per-syscall counts per request.")
    P("")
    P("| server | variant | requests | req/s (perf attached) | syscalls per request | breakdown per request |")
    P("|---|---|---|---|---|---|")
    for s in servers_of(sysc):
        for v in ("1k c=50", "64k c=50"):
            rs = rows("syscalls", s, v)
            if not rs:
                continue
            r0 = rs[-1]
            n = r0.get("requests") or 0
            br = sorted(((k[3:], x) for k, x in r0.items() if k.startswith("sc_") and isinstance(x, float)),
                        key=lambda kv: -kv[1])
            brs = ", ".join("%s %.2f" % (k, x / n) for k, x in br[:6] if n and x / n >= 0.005)
            P("| %s | %s | %.0f | %s | %s | %s |" % (
                "**kite**" if s == "kite" else s, v, n, k_(r0.get("rps")) if isinstance(r0.get("rps"), float) else "-",
                "%.2f" % r0["per_req"] if isinstance(r0.get("per_req"), float) else "-", brs or "-"))
    P("")

# profile
prof = os.path.join(D, "perf-kite-1k-c50.txt")
if missed:
    P("## Where kite's time goes (a target was missed)")
    P("")
    if os.path.exists(prof):
        pw = os.path.join(D, "perf-kite-1k-c50.wrk")
        rps = "?"
        if os.path.exists(pw):
            for line in open(pw):
                if line.startswith("Requests/sec:"):
                    rps = line.split()[1]
        P("`perf record -g -p PID` of kite-test-server during `wrk -t1 -c50 -d%ss` on /1k.txt, no quota"
          % meta.get("profile_dur", "5"))
        P("(%s req/s while recording; cpu-clock samples, kernel included; call chains use frame" % rps)
        P("pointers, which `-O2` omits, so read the flat self-time lists).")
        P("")
        P("```")
        with open(prof) as f:
            P(f.read().rstrip("\n"))
        P("```")
    else:
        P("No profile in this run (PROFILE=0 or perf failed).")
    P("")

# method
P("## Method")
P("")
P("* Harness: `../shared/bench` (its README describes every workload); kite is its SUT hook:")
P("  `SUT_CMD='%s'`." % meta.get("sut_cmd", "?"))
P("* Each server is pinned to CPU 0, the single-thread load generator (`wrk -t1`, the harness's")
P("  `wsload` for idle connections) to CPU 1; `ulimit -n 20000`; only 127.0.0.1.")
P("* Keep-alive: `wrk -t1 -c{50,500} -d%ss --latency` on /1k.txt and /64k.txt (1024 / 65536 B files)," % meta.get("dur"))
P("  after a %s s warm-up; Connection: close: `-c50 -H 'Connection: close'` on /1k.txt." % meta.get("warmup"))
if quota:
    P("* Server-bound mode (`CPU_QUOTA=%s`): the serving process runs in a cgroup-v1 CFS quota of %s %% of"
      % (quota, quota))
    P("  a core (period 10 ms), so one wrk thread is no longer the bottleneck; per-core capacity =")
    P("  req/s × %g. The harness README measured the quota to cost 0-20 %% of per-core throughput, so" % FACTOR)
    P("  these are floors, comparable only within one mode and one run.")
P("* Server CPU % = utime+stime of the serving process over the run (`/proc/PID/stat`).")
P("* Idle memory: `wsload -H -P /1k.txt -c 10000` holds 10k keep-alive connections; kite runs with")
P("  `-k 300` (keep-alive 300 s, like the anchors' configs).")
P("* Syscalls: see that section (unthrottled, 1 KB and 64 KB at c50).")
P("* Median of the runs; spread = (max − min) / median.")
P("")

text = "\n".join(out) + "\n"
if a.out == "-":
    sys.stdout.write(text)
else:
    with open(a.out, "w") as f:
        f.write(text)
