#!/usr/bin/python3
"""report.py: bench/RESULTS.md from one run of bench/run.sh.

usage: report.py RUN_DIR [-o bench/RESULTS.md]

RUN_DIR (written by run.sh) holds raw.tsv (the shared harness's records, plus
run.sh's `syscalls` / `syscalls-ws` records), meta.env (machine, versions,
knobs, phase times), load.tsv (loadmon.py: CPU used by other work on the
machine) and the kite profiles perf-kite-1k-c50.txt, perf-kite-ws{16,16384}-c50.txt.
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

NAME = {"SUT": "kite", "SUT-extpoll": "kite-extpoll"}
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
ORDER = ["kite", "lighttpd", "nginx", "lws-test", "lws-echo", "lws-echo-uv", "py-ws"]
LABEL = {"lws-echo": "lws-echo (poll)", "lws-echo-uv": "lws-echo-uv (libuv)",
         "py-ws": "py-ws (python3-websockets)"}


def label(s):
    return "**kite**" if s == "kite" else LABEL.get(s, s)


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


# http idle records; a wsmem-only run can hold some too (the harness's mem does http and ws
# together for anchors that speak both): show them only when mem was asked for
mem = [r for r in rows("mem-idle") if r["variant"].startswith("http")]
if "mem" not in meta.get("workloads", "mem").split():
    mem = []
sysc = rows("syscalls")


def syscalls_per_req(server, variant="1k c=50"):
    rs = rows("syscalls", server, variant)
    return med(rs, "per_req")


# ------------------------------------------------------------------ websocket data
ws = rows("ws-echo")
WS_SIZES = [16, 16384]
WS_NS = [1, 50, 500]
WS_REF = "lws-echo"


def wsv(sz, n):
    """the harness's variant name of a ws echo figure (1 message in flight)."""
    for r in ws:
        if r["variant"].startswith("S=%d N=%d " % (sz, n)):
            return r["variant"]
    return "S=%d N=%d D=1" % (sz, n)


def wslabel(sz, n):
    return "%s N=%d" % ("16 B" if sz == 16 else ("16 KB" if sz == 16384 else "%d B" % sz), n)


def ws_rows(server, sz, n):
    return rows("ws-echo", server, wsv(sz, n))


def ws_med(server, sz, n):
    return med(ws_rows(server, sz, n), "msgs_per_s")


def ws_ratio(server, sz, n, ref=WS_REF):
    """ratio of the raw medians: under the same quota the × factor cancels."""
    a_, b_ = ws_med(server, sz, n), ws_med(ref, sz, n)
    return a_ / b_ if a_ is not None and b_ else None


def ws_eff(server, sz, n):
    v = [r["msgs_per_s"] * 100.0 / r["server_cpu"] for r in ws_rows(server, sz, n)
         if isinstance(r.get("msgs_per_s"), float) and isinstance(r.get("server_cpu"), float)
         and r["server_cpu"] > 0]
    return statistics.median(v) if v else None


def ws_eff_ratio(server, sz, n, ref=WS_REF):
    a_, b_ = ws_eff(server, sz, n), ws_eff(ref, sz, n)
    return a_ / b_ if a_ is not None and b_ else None


def ws_bad(rs):
    """echo failures: mismatched bytes, protocol errors, closed/failed connections."""
    return (sum(vals(rs, "mismatches")), sum(vals(rs, "errors")) + sum(vals(rs, "closed")) +
            sum(vals(rs, "connfail")) + sum(vals(rs, "hsfail")) + sum(vals(rs, "failed")))


def ws_caveat(sz, n):
    notes = []
    for s in ("kite", WS_REF):
        rs = ws_rows(s, sz, n)
        if rs and bound_note(rs):
            o = med_other(rs)
            notes.append("%s not server-bound: CPU %.0f %% of its %s %% cap%s" % (
                s, med(rs, "server_cpu"), quota or "100",
                "" if o is None else ", other load %.0f %%" % o))
    e = ws_eff_ratio("kite", sz, n)
    if e is not None:
        notes.append("per CPU-second used: %.2f x" % e)
    m, b = ws_bad(ws_rows("kite", sz, n))
    if m or b:
        notes.append("kite echo failures: %d mismatches, %d errors/closed" % (m, b))
    return "; ".join(notes)


wsmem = [r for r in rows("mem-idle") if r["variant"].startswith("ws")]
WSPROTO = {"lws-test": "dumb-increment-protocol", "lws-echo": "echo", "lws-echo-uv": "echo",
           "py-ws": "-"}


def wsmem_groups():
    """(server, protocol) -> records; kite's variants carry proto=NAME (run.sh)."""
    g = {}
    for r in wsmem:
        p = WSPROTO.get(r["server"], "?")
        for tok in r["variant"].split():
            if tok.startswith("proto="):
                p = tok[6:]
        g.setdefault((r["server"], p), []).append(r)
    order = {s: i for i, s in enumerate(ORDER)}
    return sorted(g.items(), key=lambda kv: (order.get(kv[0][0], 99), kv[0][0],
                                             kv[0][1] != "dumb-increment-protocol", kv[0][1]))


KITE_WSMEM_PROTOS = meta.get("kite_wsmem_protos", "dumb-increment-protocol echo").split()
sysws = rows("syscalls-ws")

# ------------------------------------------------------------------ targets
targets = []   # (text, met: True/False/None, figure)
targets4 = []


def tgt(text, val, ok, fig, into=None):
    (targets if into is None else into).append((text, None if val is None else ok, fig))


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
missed3 = any(t[1] is False for t in targets)

for sz in (16, 16384):
    r = ws_ratio("kite", sz, 50)
    c = ws_caveat(sz, 50)
    tgt("%s echo N=50 >= 1.2 x lws-echo (poll)" % ("16 B" if sz == 16 else "16 KB"), r,
        r is not None and r >= 1.2,
        "-" if r is None else "%.2f x (kite %s vs lws-echo %s msgs/s per core; run-to-run spread %s / %s%s)" % (
            r, k_(ws_med("kite", sz, 50) * FACTOR), k_(ws_med(WS_REF, sz, 50) * FACTOR),
            spread(ws_rows("kite", sz, 50), "msgs_per_s"), spread(ws_rows(WS_REF, sz, 50), "msgs_per_s"),
            ("; " + c) if c else ""), targets4)
if KITE_WSMEM_PROTOS:
    p0 = KITE_WSMEM_PROTOS[0]
    g = dict(wsmem_groups())
    b = med(g.get(("kite", p0), []), "bytes_per_conn")
    lt = med(g.get(("lws-test", "dumb-increment-protocol"), []), "bytes_per_conn")
    extra = ["%s %.0f B" % (p, med(g[("kite", p)], "bytes_per_conn"))
             for p in KITE_WSMEM_PROTOS[1:] if ("kite", p) in g]
    tgt("idle ws connection <= 1024 B", b, b is not None and b <= 1024,
        "-" if b is None else "%.0f B per idle ws connection (10k, protocol %s%s)%s%s" % (
            b, p0, ", kite -n: sends nothing" if p0.startswith("dumb-increment") else "",
            "; lws-test %.0f B" % lt if lt is not None else "",
            "; kite with protocol " + ", ".join(extra) if extra else ""), targets4)
missed4 = any(t[1] is False for t in targets4[:2])
missed = missed3 or missed4

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


def phase_load():
    """(phase, minutes, mean foreign CPU %, max) for each workload phase of run.sh."""
    out_ = []
    for ph in ("http", "close", "mem", "ws", "wsmem", "perf"):
        a_, b_ = meta.get("phase_start_" + ph), meta.get("phase_end_" + ph)
        if not a_ or not b_:
            continue
        xs = [x[2] + x[3] for x in load if float(a_) <= x[0] <= float(b_)]
        if xs:
            out_.append((ph, (float(b_) - float(a_)) / 60, statistics.mean(xs), max(xs)))
    return out_

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
ddirs = meta.get("kite_dirty_dirs", "").split()
P("* **kite:** `kite-test-server` from `build/` (buildtype %s) at commit %s%s, libuv %s" % (
    meta.get("kite_buildtype", "?"), meta.get("kite_sha", "?"),
    "" if dirty in ("", "0") else " plus %s uncommitted file(s) under %s (the working tree was built)" % (
        dirty, ", ".join(d + "/" for d in ddirs) if ddirs else "lib/ and include/"),
    meta.get("libuv", "?")))
P("* **Anchors:** nginx %s (1 worker), lighttpd %s, libwebsockets-test-server %s, lws-echo / lws-echo-uv"
  " (the harness's `lws-echo.c` on libwebsockets %s, poll loop / libuv); load generators wrk %s and the"
  " harness's `wsload`" % (
      meta.get("nginx", "?"), meta.get("lighttpd", "?"), meta.get("lws", "?"),
      meta.get("lws_echo_src", "?").split()[-1] if meta.get("lws_echo_src") else "?", meta.get("wrk", "?")))
wl_ = meta.get("workloads", "http close mem").split()
P("* **Runs:** %s × %s s per figure (median; %s s unrecorded warm-up per wrk configuration, 1 s per"
  " wsload run)%s, HTTP and ws echo at `CPU_QUOTA=%s`, idle memory %s; workloads `%s`" % (
      meta.get("runs"), meta.get("dur"), meta.get("warmup"),
      "; ws echo %s × %s s" % (meta.get("ws_runs"), meta.get("dur"))
      if "ws" in wl_ and meta.get("ws_runs") and meta.get("ws_runs") != meta.get("runs") else "",
      quota or "none (unthrottled)",
      "at CPU_QUOTA=%s" % meta["mem_quota"] if meta.get("mem_quota") else "without a quota",
      " ".join(wl_)))
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
    PL = phase_load()
    if PL:
        P("")
        P("| phase | minutes | other load, mean | max |")
        P("|---|---|---|---|")
        for ph, mins, mean_, mx in PL:
            P("| %s | %.1f | %.0f %% | %.0f %% |" % (ph, mins, mean_, mx))
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
for title, tl in (("Issue 3 targets (HTTP)", targets), ("Issue 4 targets (WebSocket)", targets4)):
    P("## " + title)
    P("")
    if all(t[1] is None for t in tl):
        P("Not measured in this run (workloads `%s`)." % meta.get("workloads", "?"))
        P("")
        continue
    P("| target | result | figure |")
    P("|---|---|---|")
    for text, ok, fig in tl:
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

# websocket echo
if ws:
    P("## WebSocket echo (wsload, 1 message in flight per connection), msgs/s per core")
    P("")
    P("`wsload -c N -S SIZE -D 1 -d %s -w 1` against each server's echo protocol (kite: protocol" % meta.get("dur"))
    P("`echo`, path `/`); every echoed byte is checked.")
    if quota:
        P("Server-bound mode: each server runs under a %s %% CFS quota on CPU 0, so **msgs/s per core =" % quota)
        P("median msgs/s × %g** when the server used its whole quota. Rows marked ² were not server-bound" % FACTOR)
        P("(with one message in flight per connection the round trip limits N=1): those show the raw")
        P("msgs/s, not × %g. Ratio against lws-echo (poll) in brackets, always the ratio of the raw medians" % FACTOR)
        P("(the × %g cancels in the same mode)." % FACTOR)
    else:
        P("No quota: msgs/s per core = median msgs/s. Ratio against lws-echo (poll) in brackets.")
    P("")
    cols = [(sz, n) for sz in WS_SIZES for n in WS_NS if any(ws_rows(x, sz, n) for x in servers_of(ws))]
    P("| server | " + " | ".join(wslabel(sz, n) for sz, n in cols) + " |")
    P("|---|" + "---|" * len(cols))
    any2 = False
    for s_ in servers_of(ws):
        cells = []
        for sz, n in cols:
            rs = ws_rows(s_, sz, n)
            m = med(rs, "msgs_per_s")
            if m is None:
                cells.append("-")
                continue
            nb = bound_note(rs)
            any2 = any2 or nb
            rr = ws_ratio(s_, sz, n)
            cells.append("%s (%s)%s" % (k_(m if nb else m * FACTOR), "-" if rr is None else "%.2f" % rr,
                                        "²" if nb else ""))
        P("| %s | %s |" % (label(s_), " | ".join(cells)))
    P("")
    if any2:
        P("² server below 90 %% of its CPU cap (%s %%): not server-bound, raw msgs/s." % (quota or "100"))
        P("")
    P("Cross-check: **msgs/s per CPU-second the server actually used** (msgs/s × 100 / server CPU %,")
    P("median over runs), ratio against lws-echo (poll). Not a capacity figure (a server that is not")
    P("busy batches less and looks worse; a starved one batches more and looks better).")
    P("")
    P("| server | " + " | ".join(wslabel(sz, n) for sz, n in cols) + " |")
    P("|---|" + "---|" * len(cols))
    for s_ in servers_of(ws):
        cells = []
        for sz, n in cols:
            e, er = ws_eff(s_, sz, n), ws_eff_ratio(s_, sz, n)
            cells.append("-" if e is None else "%s (%s)" % (k_(e), "-" if er is None else "%.2f" % er))
        P("| %s | %s |" % (label(s_), " | ".join(cells)))
    P("")
    P("Detail (raw medians of the runs%s):" % (", before × %g" % FACTOR if quota else ""))
    P("")
    P("| server | variant | runs | msgs/s | spread | MB/s | server CPU % | load core busy % | wsload CPU % | p50 µs | p99 µs | mismatches / errors | other load |")
    P("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for s_ in servers_of(ws):
        for sz, n in cols:
            rs = ws_rows(s_, sz, n)
            if not rs:
                continue
            mm, bb = ws_bad(rs)
            P("| %s | %s | %d | %.0f | %s | %.1f | %.0f | %.0f | %.0f | %.0f | %.0f | %d / %d | %s |" % (
                s_, wslabel(sz, n), len(rs), med(rs, "msgs_per_s") or 0, spread(rs, "msgs_per_s"),
                med(rs, "MBps") or 0, med(rs, "server_cpu") or 0, med(rs, "cpu1_busy") or 0,
                med(rs, "client_cpu_pct") or 0, med(rs, "p50_us") or 0, med(rs, "p99_us") or 0,
                mm, bb, fmt_other(med_other(rs))))
    P("")
    mm, bb = ws_bad(ws)
    if mm == 0 and bb == 0:
        P("Every echoed byte matched in every run (0 mismatches, 0 errors, no connection closed or failed).")
    else:
        P("**Echo failures in this run: %d mismatched messages, %d errors / closed / failed connections**"
          " (see the detail table)." % (mm, bb))
    P("")
    if quota:
        P("Latencies in this mode include the throttling; do not compare them with unthrottled latencies.")
        P("")

# idle websocket memory
if wsmem:
    P("## Idle WebSocket connections: RSS per connection")
    P("")
    P("`wsload -I -c 10000`: 10k connections that completed the ws handshake for the protocol named")
    P("and then idle; (VmRSS after − VmRSS before) / connections, read 0.3 s after all are open (the server")
    P("was warmed with 10 ws connections first). Kernel socket buffers are not included. lws-test and")
    P("kite run with `-n`, so `dumb-increment-protocol` sends nothing; kite's first protocol row is the")
    P("target figure.")
    P("")
    P("| server | protocol | bytes per idle ws conn | spread | RSS before KB | RSS after KB | connected | alive after 1 s |")
    P("|---|---|---|---|---|---|---|---|")
    for (s_, pr), rs in wsmem_groups():
        P("| %s | %s | %.0f | %s | %.0f | %.0f | %.0f | %.0f |" % (
            label(s_), pr, med(rs, "bytes_per_conn"), spread(rs, "bytes_per_conn"),
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

# ws syscalls
if sysws:
    P("## Syscalls per echoed ws message (wsload -c 50 -D 1, no quota)")
    P("")
    P("`perf stat` on the serving process for a %s s `wsload -c 50 -S SIZE -D 1 -w 0` run, divided by the"
      % meta.get("syscall_dur", "?"))
    P("messages echoed (the 50 handshakes and closes are in the count too: negligible).")
    P("")
    P("| server | message | messages | msgs/s (perf attached) | syscalls per message | breakdown per message |")
    P("|---|---|---|---|---|---|")
    for s_ in servers_of(sysws):
        for sz in WS_SIZES:
            rs = rows("syscalls-ws", s_, "S=%d N=50" % sz)
            if not rs:
                continue
            r0 = rs[-1]
            n = r0.get("msgs") or 0
            br = sorted(((k[3:], x) for k, x in r0.items() if k.startswith("sc_") and isinstance(x, float)),
                        key=lambda kv: -kv[1])
            brs = ", ".join("%s %.2f" % (k, x / n) for k, x in br[:6] if n and x / n >= 0.005)
            P("| %s | %s | %.0f | %s | %s | %s |" % (
                label(s_), "16 B" if sz == 16 else "16 KB", n,
                k_(r0.get("msgs_per_s")) if isinstance(r0.get("msgs_per_s"), float) else "-",
                "%.2f" % r0["per_msg"] if isinstance(r0.get("per_msg"), float) else "-", brs or "-"))
    P("")


def profile_block(name, what):
    path = os.path.join(D, name + ".txt")
    if not os.path.exists(path):
        P("No %s profile in this run (PROFILE=0, the workload was not run, or perf failed)." % what)
        P("")
        return
    rate = "?"
    for ext in (".wrk", ".wsload"):
        pw = os.path.join(D, name + ext)
        if os.path.exists(pw):
            for line in open(pw):
                if line.startswith("Requests/sec:"):
                    rate = line.split()[1] + " req/s"
                elif line.startswith("RESULT"):
                    for tok in line.split():
                        if tok.startswith("msgs_per_s="):
                            rate = tok.split("=")[1] + " msgs/s"
    P("`perf record -g -p PID` of kite-test-server during %s, no quota" % what)
    P("(%s while recording; cpu-clock samples, kernel included; call chains use frame" % rate)
    P("pointers, which `-O2` omits, so read the flat self-time lists).")
    P("")
    P("```")
    with open(path) as f:
        P("\n".join(line.rstrip() for line in f.read().rstrip("\n").split("\n")))
    P("```")
    P("")


# profile
if missed4:
    P("## Where kite's time goes in ws echo (an issue 4 throughput target was missed)")
    P("")
    for sz in (16, 16384):
        P("### %s messages, N=50" % ("16 B" if sz == 16 else "16 KB"))
        P("")
        profile_block("perf-kite-ws%d-c50" % sz, "`wsload -c 50 -S %d -D 1 -d %s`" % (sz, meta.get("profile_dur", "5")))
if missed3:
    P("## Where kite's time goes in HTTP (an issue 3 target was missed)")
    P("")
    profile_block("perf-kite-1k-c50", "`wrk -t1 -c50 -d%ss` on /1k.txt" % meta.get("profile_dur", "5"))

# method
xp_http = rows("http-ka", "kite-extpoll", "1k c=50")
xp_ws = [r for r in rows("ws-echo", "kite-extpoll") if r["variant"].startswith("S=16 N=50 ")]
if xp_http or xp_ws:
    P("## External poll backend (issue 8): kite-test-extpoll next to kite-test-server")
    P("")
    P("The same server on an application-owned `poll()` array (`kite_service_fd`,")
    P("`kite_next_timeout_ms`) against the libuv backend, same run, same mode; target: within 15 %.")
    P("")
    P("| workload | libuv (kite-test-server) | poll (kite-test-extpoll) | ratio | target |")
    P("|---|---|---|---|---|")
    a_ = per_core("kite", "1k c=50")
    b_ = med(xp_http, "rps")
    b_ = b_ * FACTOR if b_ is not None else None
    if a_ and b_:
        P("| HTTP keep-alive 1 KB c50, req/s per core | %s | %s | %.2f | %s |"
          % (k_(a_), k_(b_), b_ / a_, "**met**" if b_ / a_ >= 0.85 else "**NOT met**"))
    a_ = ws_med("kite", 16, 50)
    b_ = med(xp_ws, "msgs_per_s")
    if a_ and b_:
        P("| ws echo 16 B N=50, msgs/s per core | %s | %s | %.2f | %s |"
          % (k_(a_ * FACTOR), k_(b_ * FACTOR), b_ / a_, "**met**" if b_ / a_ >= 0.85 else "**NOT met**"))
    P("")

P("## Method")
P("")
P("* Harness: `../shared/bench` (its README describes every workload); kite is its SUT hook:")
P("  `SUT_CMD='%s'`." % meta.get("sut_cmd", "?"))
P("* Each server is pinned to CPU 0, the single-thread load generator (`wrk -t1`, the harness's")
P("  `wsload` for ws echo and idle connections) to CPU 1; `ulimit -n 20000`; only 127.0.0.1.")
if ka or close:
    P("* Keep-alive: `wrk -t1 -c{50,500} -d%ss --latency` on /1k.txt and /64k.txt (1024 / 65536 B files)," % meta.get("dur"))
    P("  after a %s s warm-up; Connection: close: `-c50 -H 'Connection: close'` on /1k.txt." % meta.get("warmup"))
if quota:
    P("* Server-bound mode (`CPU_QUOTA=%s`): the serving process runs in a cgroup-v1 CFS quota of %s %% of"
      % (quota, quota))
    P("  a core (period 10 ms), so one load generator thread is no longer the bottleneck; per-core capacity =")
    P("  req/s (msgs/s) × %g. The harness README measured the quota to cost 0-20 %% of per-core throughput," % FACTOR)
    P("  so these are floors, comparable only within one mode and one run.")
P("* Server CPU % = utime+stime of the serving process over the run (`/proc/PID/stat`).")
if mem:
    P("* Idle memory: `wsload -H -P /1k.txt -c 10000` holds 10k keep-alive connections; kite runs with")
    P("  `-k 300` (keep-alive 300 s, like the anchors' configs).")
if ws:
    P("* WebSocket echo: `wsload -p PORT -P / -s echo -c {1,50,500} -S {16,16384} -D 1 -d %s -w 1` (harness" % meta.get("dur"))
    P("  `ws` workload; kite through the SUT hook with `%s`); lws-echo / lws-echo-uv are the harness's" % meta.get("sut_env", "SUT_HAS=http,ws SUT_WS_PATH=/ SUT_WS_PROTO=echo"))
    P("  `lws-echo.c` (per-connection `lws_ring`, write on WRITEABLE) on lws's poll loop and on libuv.")
if wsmem:
    P("* Idle ws memory: `wsload -I -c 10000` (harness `mem` workload, ws part) asking for the protocol in")
    P("  the table; kite with `-n`, asked for %s (run.sh `KITE_WSMEM_PROTOS`)." % " and ".join(
        "`%s`" % p for p in KITE_WSMEM_PROTOS))
if sysc or sysws:
    P("* Syscalls (unthrottled; see those sections): %s." % "; ".join(
        x for x in ("per HTTP request at 1 KB and 64 KB, c50" if sysc else "",
                    "per ws echo at 16 B and 16 KB, N=50" if sysws else "") if x))
P("* Median of the runs; spread = (max − min) / median.")
P("")

text = "\n".join(out) + "\n"
if a.out == "-":
    sys.stdout.write(text)
else:
    with open(a.out, "w") as f:
        f.write(text)
