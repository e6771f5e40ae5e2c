#!/usr/bin/env bash
# bench/run.sh: kite-test-server against the anchors (nginx, lighttpd, the lws
# test server) through the shared harness ../shared/bench, all in ONE run, then
# bench/RESULTS.md from that run (bench/report.py).  `make bench` calls this.
#
# Steps (each server pinned to CPU 0, the load generator to CPU 1):
#   1. harness workloads for every server: http (keep-alive GET 1 KB / 64 KB,
#      -c50 / -c500), close (Connection: close), under CPU_QUOTA (50 % of a
#      core: server-bound mode); mem (10k idle keep-alive conns) without quota.
#   2. syscalls per request: perf stat on the serving process while wrk runs
#      (1 KB and 64 KB keep-alive, -c50, no quota) for kite, lighttpd, nginx.
#   3. perf record -g of kite at 1 KB c50 (report.py shows it if a target is missed).
#   4. bench/report.py -> bench/RESULTS.md, raw data copied to bench/results/raw.tsv.
#
# Environment (defaults):
#   RUNS=3 DUR=10 WARMUP=2        runs per figure, seconds per run, unrecorded warm-up
#   SERVERS="kite nginx lighttpd lws-test"   (any harness name; kite = the SUT hook)
#   WORKLOADS="http close mem"
#   CPU_QUOTA=50                  quota for http/close (CPU_QUOTA= : none, unthrottled)
#   MEM_QUOTA=                    quota for mem (none)
#   SYSCALL_SERVERS="kite lighttpd nginx"  SYSCALL_DUR=5   (SYSCALL_SERVERS= : skip)
#   PROFILE=1 PROFILE_DUR=5       perf record of kite (PROFILE=0: skip)
#   REPORT=1                      write bench/RESULTS.md + bench/results/raw.tsv (0: only the run dir)
#   KITE_BIN=build/test-apps/kite-test-server  KITE_PORT=9000
#   BENCH_HARNESS=../shared/bench BENCH_WORK (harness work dir; /tmp/kite-bench when
#   the harness directory is read-only, as its README says)
# Quick look: RUNS=1 DUR=3 make bench
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HARNESS_SRC=${BENCH_HARNESS:-$ROOT/../shared/bench}
RUNS=${RUNS:-3}
DUR=${DUR:-10}
WARMUP=${WARMUP:-2}
SERVERS=${SERVERS-"kite nginx lighttpd lws-test"}
WORKLOADS=${WORKLOADS-"http close mem"}
CPU_QUOTA=${CPU_QUOTA-50}
MEM_QUOTA=${MEM_QUOTA-}
SYSCALL_SERVERS=${SYSCALL_SERVERS-"kite lighttpd nginx"}
SYSCALL_DUR=${SYSCALL_DUR:-5}
PROFILE=${PROFILE:-1}
PROFILE_DUR=${PROFILE_DUR:-5}
REPORT=${REPORT:-1}
KITE_BIN=${KITE_BIN:-$ROOT/build/test-apps/kite-test-server}
KITE_PORT=${KITE_PORT:-9000}
PY=/usr/bin/python3
export DUR WARMUP

say() { echo "[$(date +%H:%M:%S)] run.sh: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

[ -d "$HARNESS_SRC" ] || die "harness not found at $HARNESS_SRC"
HARNESS_SRC=$(cd "$HARNESS_SRC" && pwd)
[ -x "$KITE_BIN" ] || die "$KITE_BIN missing: run 'ninja -C build' (or make build) first"
for t in wrk taskset perf curl; do command -v $t >/dev/null || die "missing $t (make bench-deps)"; done

# --------------------------------------------------------------- harness location
# The harness writes its tools (make), work/ and results/ next to itself.  If
# its directory is read-only (by its mode bits: root could still write there),
# run a copy of its sources under BENCH_WORK (default /tmp/kite-bench).
if [ -w "$HARNESS_SRC" ] && [ -n "$(find "$HARNESS_SRC" -maxdepth 0 -perm -u+w)" ]; then
	H=$HARNESS_SRC
	export BENCH_WORK=${BENCH_WORK:-$H/work}
else
	export BENCH_WORK=${BENCH_WORK:-/tmp/kite-bench}
	H=$BENCH_WORK/harness
	mkdir -p "$H" || die "cannot create $H"
	for f in "$HARNESS_SRC"/*; do
		[ -f "$f" ] || continue   # results/, results-quota/, work/ are not needed
		cmp -s "$f" "$H/${f##*/}" || cp -p "$f" "$H/"
	done
	chmod u+w "$H"/* 2>/dev/null
fi

STAMP=$(date +%Y%m%d-%H%M%S)
RUN_DIR=${RUN_DIR:-$BENCH_WORK/runs/$STAMP}
mkdir -p "$RUN_DIR" || die "cannot create $RUN_DIR"
export BENCH_RESULTS=$RUN_DIR
RAW=$RUN_DIR/raw.tsv
SHA=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git -C "$ROOT" status --porcelain --untracked-files=normal -- lib include 2>/dev/null | wc -l)
export BENCH_TAG=${BENCH_TAG:-kite-$SHA}

# kite through the harness's SUT hook: $BENCH_PORT/$BENCH_DOCROOT are expanded
# by the harness's `bash -c "exec $SUT_CMD"`.  Keep-alive 300 s like the anchors.
export SUT_CMD="$KITE_BIN -p \$BENCH_PORT -i 127.0.0.1 -r \$BENCH_DOCROOT -k 300"
export SUT_PORT=$KITE_PORT SUT_HAS=http

hname() { [ "$1" = kite ] && echo SUT || echo "$1"; }

# --------------------------------------------------------------- accounting of other load
# Everything started from here goes into one cpuacct cgroup, so loadmon.py can
# tell the CPU time of other work on the machine (builds, tests) from ours.
CG=/sys/fs/cgroup/cpuacct/kitebench_run_$$
MON_PID=
if mkdir -p "$CG" 2>/dev/null && echo $$ >"$CG/cgroup.procs" 2>/dev/null; then :; else CG=; fi
cleanup() {
	[ -n "$MON_PID" ] && kill "$MON_PID" 2>/dev/null && wait "$MON_PID" 2>/dev/null
	if [ -n "$CG" ]; then
		echo $$ >/sys/fs/cgroup/cpuacct/cgroup.procs 2>/dev/null
		rmdir "$CG" 2>/dev/null
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --------------------------------------------------------------- run description
{
	echo "date=$(date -u +%FT%TZ)"
	echo "date_local=$(date '+%F %T %Z')"
	echo "stamp=$STAMP"
	echo "cpu_model=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
	echo "nproc=$(nproc)"
	echo "kernel=$(uname -r)"
	echo "debian=$(cat /etc/debian_version 2>/dev/null)"
	echo "mem_total=$(awk '/^MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
	echo "hypervisor=$(lscpu | sed -n 's/^Hypervisor vendor:[[:space:]]*//p' | head -1)"
	echo "kite_sha=$SHA"
	echo "kite_dirty_lib_files=$DIRTY"
	echo "kite_buildtype=$(meson introspect --buildoptions "$ROOT/build" 2>/dev/null |
		$PY -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="buildtype"][0])' 2>/dev/null)"
	echo "libuv=$(pkg-config --modversion libuv 2>/dev/null)"
	echo "nginx=$(nginx -v 2>&1 | sed 's/.*nginx\///')"
	echo "lighttpd=$(lighttpd -v 2>&1 | head -1 | sed 's/ - .*//;s/lighttpd\///;s/ (ssl)//')"
	echo "lws=$(dpkg-query -W -f='${Version}' libwebsockets-test-server 2>/dev/null)"
	echo "wrk=$(dpkg-query -W -f='${Version}' wrk 2>/dev/null)"
	echo "runs=$RUNS"
	echo "dur=$DUR"
	echo "warmup=$WARMUP"
	echo "cpu_quota=$CPU_QUOTA"
	echo "mem_quota=$MEM_QUOTA"
	echo "servers=$SERVERS"
	echo "workloads=$WORKLOADS"
	echo "syscall_servers=$SYSCALL_SERVERS"
	echo "syscall_dur=$SYSCALL_DUR"
	echo "profile_dur=$PROFILE_DUR"
	echo "tag=$BENCH_TAG"
	echo "sut_cmd=$SUT_CMD"
	echo "harness=$HARNESS_SRC (run from $H)"
	echo "cgroup_accounting=${CG:+yes}"
	echo "uptime_start=$(uptime)"
} >"$RUN_DIR/meta.env"

if [ -n "$CG" ]; then
	$PY "$ROOT/bench/loadmon.py" "$RUN_DIR/load.tsv" "$CG" 2 &
	MON_PID=$!
fi

say "run dir $RUN_DIR, tag $BENCH_TAG, RUNS=$RUNS DUR=$DUR CPU_QUOTA=${CPU_QUOTA:-none}; $(uptime)"
say "servers: $SERVERS; workloads: $WORKLOADS"
bash "$H/bench.sh" setup || die "harness setup failed"
echo "phase_start_harness=$(date +%s)" >>"$RUN_DIR/meta.env"

# --------------------------------------------------------------- 1. harness workloads
FAILED=
for w in $WORKLOADS; do
	for s in $SERVERS; do
		q=$CPU_QUOTA
		[ "$w" = mem ] && q=$MEM_QUOTA
		say "$w $s (quota ${q:-none})"
		if ! CPU_QUOTA=$q bash "$H/bench.sh" "$w" "$(hname "$s")" "$RUNS"; then
			say "WARNING: $w $s failed (see $BENCH_WORK/logs)"
			FAILED="$FAILED $w:$s"
		fi
	done
done
echo "phase_end_harness=$(date +%s)" >>"$RUN_DIR/meta.env"

# --------------------------------------------------------------- 2./3. perf on single servers
# Runs in a subshell that sources the harness's lib.sh, so servers start with
# the same configs, pinning and fd limit as above (no quota).
# Per-syscall tracepoints that servers use; each one costs perf some setup time
# (all 360 took ~20 s per measurement), so only these are counted one by one
# and the rest shows as "other" (total from raw_syscalls:sys_enter).
SC_LIST="read readv pread64 preadv write writev pwrite64 pwritev recvfrom recvmsg recvmmsg sendto
	sendmsg sendmmsg sendfile64 splice epoll_wait epoll_pwait epoll_pwait2 epoll_ctl poll ppoll select
	pselect6 io_uring_enter accept accept4 close shutdown setsockopt getsockopt getsockname getpeername
	openat openat2 newfstatat newfstat statx lseek fcntl ioctl mmap munmap brk madvise futex
	timerfd_settime clock_gettime rt_sigprocmask"
SC_EVENTS=
for d in /sys/kernel/tracing/events/syscalls /sys/kernel/debug/tracing/events/syscalls; do
	[ -d "$d" ] || continue
	for c in $SC_LIST; do
		[ -d "$d/sys_enter_$c" ] && SC_EVENTS="$SC_EVENTS${SC_EVENTS:+,}syscalls:sys_enter_$c"
	done
	break
done

perf_phase() {
	(
		set -u
		. "$H/lib.sh"
		unset CPU_QUOTA
		trap 'stop_server' EXIT
		local s n url f ev total reqs
		if [ -n "$SYSCALL_SERVERS" ]; then
			for s in $SYSCALL_SERVERS; do
				start_server "$(hname "$s")" || continue
				for f in 1k 64k; do
					url=http://$HOST:$SRV_PORT/$f.txt
					curl -sf -o /dev/null "$url" || { log "$s: GET $url failed"; continue; }
					$LOADPIN wrk -t1 -c50 -d1s "$url" >/dev/null 2>&1   # warm-up
					ev=$RUN_DIR/syscalls-$s-$f.csv
					perf stat -x, -o "$ev" -e raw_syscalls:sys_enter ${SC_EVENTS:+-e "$SC_EVENTS"} \
						-p "$MEM_PID" -- $LOADPIN wrk -t1 -c50 -d"${SYSCALL_DUR}s" "$url" \
						>"$RUN_DIR/syscalls-$s-$f.wrk" 2>&1
					reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$RUN_DIR/syscalls-$s-$f.wrk")
					total=$(awk -F, '$3=="raw_syscalls:sys_enter" {print $1}' "$ev")
					# per-syscall counts, largest first: name=count ...
					# (syscalls not in the list are counted as sc_other)
					n=$(awk -F, -v t="${total:-0}" '$3 ~ /^syscalls:sys_enter_/ && $1+0 > 0 {sub("syscalls:sys_enter_", "", $3); print $1, $3; s += $1}
						END {if (t - s > 0) print t - s, "other"}' "$ev" |
						sort -nr | awk '{printf "sc_%s=%s ", $2, $1}')
					record "$s" syscalls "$f c=50" 1 "requests=${reqs:-0} syscalls=${total:-0} per_req=$(awk -v a="${total:-0}" -v b="${reqs:-0}" 'BEGIN{printf "%.3f", (b > 0) ? a / b : 0}') rps=$(sed -n 's/^Requests\/sec: *//p' "$RUN_DIR/syscalls-$s-$f.wrk") $n"
				done
				stop_server
			done
		fi
		if [ "$PROFILE" = 1 ]; then
			start_server SUT || exit 0
			url=http://$HOST:$SRV_PORT/1k.txt
			$LOADPIN wrk -t1 -c50 -d1s "$url" >/dev/null 2>&1
			perf record -g -o "$RUN_DIR/perf-kite-1k-c50.data" -p "$MEM_PID" -- \
				$LOADPIN wrk -t1 -c50 -d"${PROFILE_DUR}s" "$url" >"$RUN_DIR/perf-kite-1k-c50.wrk" 2>&1
			stop_server
			{
				echo "## by shared object (self time)"
				perf report -i "$RUN_DIR/perf-kite-1k-c50.data" --stdio --no-children -g none \
					--sort dso 2>/dev/null | grep -v '^#' | grep . | head -12
				echo
				echo "## top functions (self time, flat)"
				perf report -i "$RUN_DIR/perf-kite-1k-c50.data" --stdio --no-children -g none \
					--percent-limit 0.4 2>/dev/null | grep -v '^#' | grep . | head -45
				echo
				echo "## top user-space functions (self time; % of all samples)"
				perf report -i "$RUN_DIR/perf-kite-1k-c50.data" --stdio --no-children -g none \
					--dsos kite-test-server,libkite.so.0,libkite.so.0.1.0,libuv.so.1,libuv.so.1.0.0,libc.so.6 \
					2>/dev/null | grep -v '^#' | grep . | head -30
				echo
				echo "## inclusive time (children), kernel entry points and callers, top 30"
				perf report -i "$RUN_DIR/perf-kite-1k-c50.data" --stdio --children -g none \
					--sort sym --percent-limit 2 2>/dev/null | grep -v '^#' | grep . | head -30
			} >"$RUN_DIR/perf-kite-1k-c50.txt"
			log "profile: $RUN_DIR/perf-kite-1k-c50.txt"
		fi
	)
}
if [ -n "$SYSCALL_SERVERS" ] || [ "$PROFILE" = 1 ]; then
	say "syscalls per request (${SYSCALL_SERVERS:-none}) and kite profile (PROFILE=$PROFILE)"
	perf_phase || say "WARNING: perf phase failed"
fi

echo "uptime_end=$(uptime)" >>"$RUN_DIR/meta.env"
echo "failed=${FAILED# }" >>"$RUN_DIR/meta.env"
[ -n "$MON_PID" ] && kill "$MON_PID" 2>/dev/null && wait "$MON_PID" 2>/dev/null
MON_PID=

# --------------------------------------------------------------- 4. report
bash "$H/bench.sh" report >"$RUN_DIR/summary.md" 2>/dev/null
if [ "$REPORT" = 1 ]; then
	mkdir -p "$ROOT/bench/results"
	cp "$RAW" "$ROOT/bench/results/raw.tsv"
	$PY "$ROOT/bench/report.py" "$RUN_DIR" -o "$ROOT/bench/RESULTS.md" || die "report.py failed"
	say "wrote bench/RESULTS.md and bench/results/raw.tsv (run data: $RUN_DIR)"
else
	$PY "$ROOT/bench/report.py" "$RUN_DIR" -o "$RUN_DIR/RESULTS.md" || die "report.py failed"
	say "wrote $RUN_DIR/RESULTS.md"
fi
[ -z "$FAILED" ] || say "failed pieces:$FAILED"
