#!/usr/bin/env bash
# bench/run.sh: kite-test-server against the anchors through the shared
# harness ../shared/bench, all in ONE run, then bench/RESULTS.md from that run
# (bench/report.py).  `make bench` calls this.
#   HTTP (issue 3): nginx, lighttpd, the lws test server
#   WebSocket (issue 4): lws-echo (the harness's lws echo server on lws's poll
#     loop), lws-echo-uv (the same on libuv), the lws test server (idle ws)
#
# Steps (each server pinned to CPU 0, the load generator to CPU 1):
#   1. harness workloads, each on its own list of servers:
#      http   keep-alive GET 1 KB / 64 KB, -c50 / -c500       (HTTP_SERVERS, CPU_QUOTA)
#      close  Connection: close, 1 KB, -c50                    (HTTP_SERVERS, CPU_QUOTA)
#      mem    10k idle keep-alive HTTP connections             (HTTP_SERVERS, MEM_QUOTA)
#      ws     ws echo 16 B / 16 KB x N=1/50/500, 1 in flight   (WS_SERVERS, CPU_QUOTA)
#      wsmem  10k idle ws connections                          (WSMEM_SERVERS, MEM_QUOTA)
#      (the harness's `mem` measures http and ws idle together for anchors
#      that speak both, e.g. lws-test: such a server is run once for mem+wsmem)
#   2. syscalls per request / per ws message: perf stat on the serving process
#      (http: 1 KB and 64 KB keep-alive -c50; ws: 16 B and 16 KB echo N=50; no quota).
#   3. perf record -g of kite (http 1 KB c50; ws 16 B and 16 KB N=50; report.py
#      shows them when a target is missed).
#   4. bench/report.py -> bench/RESULTS.md, raw data copied to bench/results/raw.tsv.
#
# Environment (defaults):
#   RUNS=3 DUR=10 WARMUP=2        runs per figure, seconds per run, unrecorded warm-up
#   WS_RUNS=$RUNS                 runs per ws echo figure (18 figures per server)
#   WORKLOADS="http close mem ws wsmem extpoll"   any subset, in this order of running
#                                 (extpoll: kite-test-extpoll vs the libuv server, 1 KB c50 + ws 16 B N=50)
#   HTTP_SERVERS="kite nginx lighttpd lws-test"   for http, close, mem
#   WS_SERVERS="kite lws-echo lws-echo-uv"        for ws
#   WSMEM_SERVERS="kite lws-test"                 for wsmem
#   SERVERS=                      if set: one list for every workload (servers that
#                                 cannot do a workload are skipped)
#   KITE_WSMEM_PROTOS="dumb-increment-protocol echo"  ws protocols kite's idle
#                                 connections ask for (the first is the target figure;
#                                 kite runs with -n, so dumb-increment sends nothing,
#                                 like lws-test -n)
#   CPU_QUOTA=50                  quota for http/close/ws (CPU_QUOTA= : none, unthrottled)
#   MEM_QUOTA=                    quota for mem/wsmem (none)
#   SYSCALL_SERVERS="kite lighttpd nginx"  SYSCALL_DUR=5   (SYSCALL_SERVERS= : skip)
#   WS_SYSCALL_SERVERS="kite lws-echo"                     (empty: skip)
#   PROFILE=1 PROFILE_DUR=5       perf record of kite (PROFILE=0: skip)
#   REPORT=1                      write bench/RESULTS.md + bench/results/raw.tsv (0: only the run dir)
#   KITE_BIN=build/test-apps/kite-test-server  KITE_PORT=9000
#   BENCH_HARNESS=../shared/bench BENCH_WORK (harness work dir; /tmp/kite-bench when
#   the harness directory is read-only, as its README says)
# The http syscall/profile pieces run when WORKLOADS has http, the ws ones when it has ws.
# Quick look: RUNS=1 DUR=3 make bench;  WORKLOADS="ws wsmem" bash bench/run.sh
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HARNESS_SRC=${BENCH_HARNESS:-$ROOT/../shared/bench}
RUNS=${RUNS:-3}
DUR=${DUR:-10}
WARMUP=${WARMUP:-2}
WS_RUNS=${WS_RUNS:-$RUNS}
SERVERS=${SERVERS-}
HTTP_SERVERS=${HTTP_SERVERS-"kite nginx lighttpd lws-test"}
WS_SERVERS=${WS_SERVERS-"kite lws-echo lws-echo-uv"}
WSMEM_SERVERS=${WSMEM_SERVERS-"kite lws-test"}
WORKLOADS=${WORKLOADS-"http close mem ws wsmem extpoll"}
KITE_WSMEM_PROTOS=${KITE_WSMEM_PROTOS-"dumb-increment-protocol echo"}
CPU_QUOTA=${CPU_QUOTA-50}
MEM_QUOTA=${MEM_QUOTA-}
SYSCALL_SERVERS=${SYSCALL_SERVERS-"kite lighttpd nginx"}
SYSCALL_DUR=${SYSCALL_DUR:-5}
WS_SYSCALL_SERVERS=${WS_SYSCALL_SERVERS-"kite lws-echo"}
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
# uncommitted changes in what kite-test-server is built from (the working tree is what gets measured)
DIRTY=$(git -C "$ROOT" status --porcelain --untracked-files=normal -- lib include plugins test-apps 2>/dev/null | wc -l)
DIRTY_DIRS=$(git -C "$ROOT" status --porcelain --untracked-files=normal -- lib include plugins test-apps 2>/dev/null |
	awk '{print $NF}' | cut -d/ -f1 | sort -u | tr '\n' ' ')
export BENCH_TAG=${BENCH_TAG:-kite-$SHA}

# kite through the harness's SUT hook: $BENCH_PORT/$BENCH_DOCROOT are expanded
# by the harness's `bash -c "exec $SUT_CMD"`.  Keep-alive 300 s like the anchors.
# -n: dumb-increment-protocol (the vhost default) sends nothing, like lws-test -n
# (only matters for the idle ws test; echo and HTTP do not use it).
export SUT_CMD="$KITE_BIN -p \$BENCH_PORT -i 127.0.0.1 -r \$BENCH_DOCROOT -k 300 -n"
export SUT_PORT=$KITE_PORT SUT_HAS=http,ws SUT_WS_PATH=/ SUT_WS_PROTO=echo

hname() { [ "$1" = kite ] && echo SUT || echo "$1"; }
has_word() { case " $1 " in *" $2 "*) return 0 ;; esac; return 1; }

# what each harness server can do (bench.sh's supports(), by workload of this script)
can() {   # $1 server  $2 workload
	case "$2:$1" in
	http:py-ws|close:py-ws|mem:py-ws) return 1 ;;
	http:*|close:*|mem:*) return 0 ;;
	ws:kite|ws:lws-echo|ws:lws-echo-uv|ws:py-ws) return 0 ;;
	wsmem:kite|wsmem:lws-test|wsmem:lws-echo|wsmem:lws-echo-uv|wsmem:py-ws) return 0 ;;
	*) return 1 ;;
	esac
}
servers_for() {   # $1 workload
	if [ -n "$SERVERS" ]; then echo "$SERVERS"; return; fi
	case $1 in
	http|close|mem) echo "$HTTP_SERVERS" ;;
	ws) echo "$WS_SERVERS" ;;
	wsmem) echo "$WSMEM_SERVERS" ;;
	esac
}

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
	echo "kite_dirty_dirs=$DIRTY_DIRS"
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
	echo "ws_runs=$WS_RUNS"
	echo "servers=$SERVERS"
	echo "http_servers=$(servers_for http)"
	echo "ws_servers=$(servers_for ws)"
	echo "wsmem_servers=$(servers_for wsmem)"
	echo "kite_wsmem_protos=$KITE_WSMEM_PROTOS"
	echo "workloads=$WORKLOADS"
	echo "lws_echo_src=harness lws-echo.c on libwebsockets-dev $(dpkg-query -W -f='${Version}' libwebsockets-dev 2>/dev/null)"
	echo "syscall_servers=$SYSCALL_SERVERS"
	echo "syscall_dur=$SYSCALL_DUR"
	echo "ws_syscall_servers=$WS_SYSCALL_SERVERS"
	echo "profile_dur=$PROFILE_DUR"
	echo "tag=$BENCH_TAG"
	echo "sut_cmd=$SUT_CMD"
	echo "sut_env=SUT_HAS=$SUT_HAS SUT_WS_PATH=$SUT_WS_PATH SUT_WS_PROTO=$SUT_WS_PROTO"
	echo "harness=$HARNESS_SRC (run from $H)"
	echo "cgroup_accounting=${CG:+yes}"
	echo "uptime_start=$(uptime)"
} >"$RUN_DIR/meta.env"

if [ -n "$CG" ]; then
	$PY "$ROOT/bench/loadmon.py" "$RUN_DIR/load.tsv" "$CG" 2 &
	MON_PID=$!
fi

say "run dir $RUN_DIR, tag $BENCH_TAG, RUNS=$RUNS DUR=$DUR CPU_QUOTA=${CPU_QUOTA:-none}; $(uptime)"
say "workloads: $WORKLOADS; servers: ${SERVERS:-http/close/mem: $HTTP_SERVERS; ws: $WS_SERVERS; wsmem: $WSMEM_SERVERS}"
bash "$H/bench.sh" setup || die "harness setup failed"
echo "phase_start_harness=$(date +%s)" >>"$RUN_DIR/meta.env"

# --------------------------------------------------------------- 1. harness workloads
FAILED=
MEM_DONE=   # anchors whose harness `mem` already ran (it does http and ws idle together)

harness() {   # workload server runs quota [env...]: one harness command, failures noted
	local w=$1 s=$2 n=$3 q=$4
	shift 4
	say "$w $s (runs $n, quota ${q:-none}${*:+, $*})"
	if ! env CPU_QUOTA="$q" "$@" bash "$H/bench.sh" "$w" "$(hname "$s")" "$n"; then
		say "WARNING: $w $s failed (see $BENCH_WORK/logs)"
		FAILED="$FAILED $w:$s"
		return 1
	fi
}

for w in $WORKLOADS; do
	case $w in
	http | close | mem | ws | wsmem | extpoll) ;;
	*) say "WARNING: unknown workload '$w' (http close mem ws wsmem extpoll)"; FAILED="$FAILED $w"; continue ;;
	esac
	if [ "$w" = extpoll ]; then
		# kite-test-extpoll (the same server on the application-owned poll()
		# backend) next to the libuv one: 1 KB keep-alive c50 and ws 16 B N=50.
		# Its records are written as server "SUT-extpoll".
		echo "phase_start_$w=$(date +%s)" >>"$RUN_DIR/meta.env"
		XBIN="$(dirname "$KITE_BIN")/kite-test-extpoll"
		rm -rf "$RUN_DIR/extpoll.tmp"
		harness http kite "$RUNS" "$CPU_QUOTA" HTTP_CONNS=50 BENCH_RESULTS="$RUN_DIR/extpoll.tmp" \
			SUT_CMD="$XBIN -p \$BENCH_PORT -i 127.0.0.1 -r \$BENCH_DOCROOT -k 300 -n"
		harness ws kite "$WS_RUNS" "$CPU_QUOTA" WS_CONNS=50 WS_SIZES=16 \
			BENCH_RESULTS="$RUN_DIR/extpoll.tmp" \
			SUT_CMD="$XBIN -p \$BENCH_PORT -i 127.0.0.1 -r \$BENCH_DOCROOT -k 300 -n"
		[ -f "$RUN_DIR/extpoll.tmp/raw.tsv" ] &&
			awk -F'\t' -v OFS='\t' '$3 == "SUT" {$3 = "SUT-extpoll"} {print}' \
				"$RUN_DIR/extpoll.tmp/raw.tsv" >>"$RAW"
		rm -rf "$RUN_DIR/extpoll.tmp"
		echo "phase_end_$w=$(date +%s)" >>"$RUN_DIR/meta.env"
		continue
	fi
	echo "phase_start_$w=$(date +%s)" >>"$RUN_DIR/meta.env"
	for s in $(servers_for "$w"); do
		can "$s" "$w" || { say "$w: skipping $s (no such workload for it)"; continue; }
		case $w in
		http | close)
			harness "$w" "$s" "$RUNS" "$CPU_QUOTA" ;;
		ws)
			harness ws "$s" "$WS_RUNS" "$CPU_QUOTA" ;;
		mem | wsmem)
			if [ "$s" = kite ]; then
				if [ "$w" = mem ]; then
					harness mem kite "$RUNS" "$MEM_QUOTA" SUT_HAS=http
				else
					# one pass per protocol; the records go through a scratch
					# file so their variant can name the protocol
					for p in $KITE_WSMEM_PROTOS; do
						rm -rf "$RUN_DIR/wsmem.tmp"
						harness mem kite "$RUNS" "$MEM_QUOTA" SUT_HAS=ws SUT_WS_PROTO="$p" \
							BENCH_RESULTS="$RUN_DIR/wsmem.tmp"
						[ -f "$RUN_DIR/wsmem.tmp/raw.tsv" ] &&
							awk -F'\t' -v OFS='\t' -v p="$p" '{$5 = $5 " proto=" p; print}' \
								"$RUN_DIR/wsmem.tmp/raw.tsv" >>"$RAW"
						rm -rf "$RUN_DIR/wsmem.tmp"
					done
				fi
			elif has_word "$MEM_DONE" "$s"; then
				say "$w $s: already measured by the harness's mem run above (http and ws idle together)"
			else
				harness mem "$s" "$RUNS" "$MEM_QUOTA" && MEM_DONE="$MEM_DONE $s"
			fi ;;
		esac
	done
	echo "phase_end_$w=$(date +%s)" >>"$RUN_DIR/meta.env"
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

# perf stat of the serving process: total syscalls + the per-syscall tracepoints
# in SC_EVENTS.  perf_count OUT.csv PID cmd...  (the load command's output goes to OUT.load)
perf_count() {
	local ev=$1 pid=$2
	shift 2
	perf stat -x, -o "$ev" -e raw_syscalls:sys_enter ${SC_EVENTS:+-e "$SC_EVENTS"} \
		-p "$pid" -- "$@" >"${ev%.csv}.load" 2>&1
}
# "syscalls=N sc_read=.. sc_other=.." from a perf_count csv, largest first
# (syscalls not in the list are counted as sc_other)
perf_counts() {
	local ev=$1 total
	total=$(awk -F, '$3=="raw_syscalls:sys_enter" {print $1}' "$ev")
	echo -n "syscalls=${total:-0} "
	awk -F, -v t="${total:-0}" '$3 ~ /^syscalls:sys_enter_/ && $1+0 > 0 {sub("syscalls:sys_enter_", "", $3); print $1, $3; s += $1}
		END {if (t - s > 0) print t - s, "other"}' "$ev" |
		sort -nr | awk '{printf "sc_%s=%s ", $2, $1}'
}
# profile text from a perf.data: by dso, flat top functions, user space, inclusive
perf_text() {
	local data=$1
	echo "## by shared object (self time)"
	perf report -i "$data" --stdio --no-children -g none \
		--sort dso 2>/dev/null | grep -v '^#' | grep . | head -12
	echo
	echo "## top functions (self time, flat)"
	perf report -i "$data" --stdio --no-children -g none \
		--percent-limit 0.4 2>/dev/null | grep -v '^#' | grep . | head -45
	echo
	echo "## top user-space functions (self time; % of all samples)"
	perf report -i "$data" --stdio --no-children -g none \
		--dsos kite-test-server,libkite.so.0,libkite.so.0.1.0,libuv.so.1,libuv.so.1.0.0,libc.so.6 \
		2>/dev/null | grep -v '^#' | grep . | head -30
	echo
	echo "## inclusive time (children), kernel entry points and callers, top 30"
	perf report -i "$data" --stdio --children -g none \
		--sort sym --percent-limit 2 2>/dev/null | grep -v '^#' | grep . | head -30
}

WS_ON=0 HTTP_ON=0
has_word "$WORKLOADS" ws && WS_ON=1
has_word "$WORKLOADS" http && HTTP_ON=1

perf_phase() {
	(
		set -u
		. "$H/lib.sh"
		unset CPU_QUOTA
		trap 'stop_server' EXIT
		local s n url f ev reqs sz msgs res wsl
		wsl=$BENCH_DIR/wsload
		# ---- HTTP: syscalls per keep-alive request
		if [ "$HTTP_ON" = 1 ] && [ -n "$SYSCALL_SERVERS" ]; then
			for s in $SYSCALL_SERVERS; do
				start_server "$(hname "$s")" || continue
				for f in 1k 64k; do
					url=http://$HOST:$SRV_PORT/$f.txt
					curl -sf -o /dev/null "$url" || { log "$s: GET $url failed"; continue; }
					$LOADPIN wrk -t1 -c50 -d1s "$url" >/dev/null 2>&1   # warm-up
					ev=$RUN_DIR/syscalls-$s-$f.csv
					perf_count "$ev" "$MEM_PID" $LOADPIN wrk -t1 -c50 -d"${SYSCALL_DUR}s" "$url"
					cp "${ev%.csv}.load" "$RUN_DIR/syscalls-$s-$f.wrk"
					reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "${ev%.csv}.load")
					n=$(perf_counts "$ev")
					record "$s" syscalls "$f c=50" 1 "requests=${reqs:-0} per_req=$(echo "$n" | awk -v b="${reqs:-0}" '{split($1, a, "="); printf "%.3f", (b > 0) ? a[2] / b : 0}') rps=$(sed -n 's/^Requests\/sec: *//p' "${ev%.csv}.load") $n"
				done
				stop_server
			done
		fi
		# ---- WebSocket: syscalls per echoed message (16 B and 16 KB, N=50)
		if [ "$WS_ON" = 1 ] && [ -n "$WS_SYSCALL_SERVERS" ]; then
			for s in $WS_SYSCALL_SERVERS; do
				can "$s" ws || continue
				start_server "$(hname "$s")" || continue
				for sz in 16 16384; do
					$LOADPIN "$wsl" -p "$SRV_PORT" -P "$WS_PATH" ${WS_PROTO:+-s "$WS_PROTO"} \
						-c 50 -S "$sz" -d 1 -w 0 -q >/dev/null 2>&1   # warm-up
					ev=$RUN_DIR/syscalls-ws-$s-$sz.csv
					perf_count "$ev" "$MEM_PID" $LOADPIN "$wsl" -p "$SRV_PORT" -P "$WS_PATH" \
						${WS_PROTO:+-s "$WS_PROTO"} -c 50 -S "$sz" -d "$SYSCALL_DUR" -w 0 -q
					res=$(grep '^RESULT' "${ev%.csv}.load")
					# msgs counts the echoes in the measured window; the handshakes
					# and the closing are outside it but inside perf's count (tiny)
					msgs=$(echo "$res" | sed -n 's/.* msgs=\([0-9]*\).*/\1/p')
					n=$(perf_counts "$ev")
					record "$s" syscalls-ws "S=$sz N=50" 1 "msgs=${msgs:-0} per_msg=$(echo "$n" | awk -v b="${msgs:-0}" '{split($1, a, "="); printf "%.3f", (b > 0) ? a[2] / b : 0}') msgs_per_s=$(echo "$res" | sed -n 's/.* msgs_per_s=\([0-9.]*\).*/\1/p') mismatches=$(echo "$res" | sed -n 's/.* mismatches=\([0-9]*\).*/\1/p') $n"
				done
				stop_server
			done
		fi
		# ---- profiles of kite (no quota)
		if [ "$PROFILE" = 1 ]; then
			if [ "$HTTP_ON" = 1 ] && start_server SUT; then
				url=http://$HOST:$SRV_PORT/1k.txt
				$LOADPIN wrk -t1 -c50 -d1s "$url" >/dev/null 2>&1
				perf record -g -o "$RUN_DIR/perf-kite-1k-c50.data" -p "$MEM_PID" -- \
					$LOADPIN wrk -t1 -c50 -d"${PROFILE_DUR}s" "$url" >"$RUN_DIR/perf-kite-1k-c50.wrk" 2>&1
				stop_server
				perf_text "$RUN_DIR/perf-kite-1k-c50.data" >"$RUN_DIR/perf-kite-1k-c50.txt"
				log "profile: $RUN_DIR/perf-kite-1k-c50.txt"
			fi
			if [ "$WS_ON" = 1 ] && start_server SUT; then
				for sz in 16 16384; do
					$LOADPIN "$wsl" -p "$SRV_PORT" -P "$WS_PATH" -s "$WS_PROTO" -c 50 -S "$sz" -d 1 -w 0 -q \
						>/dev/null 2>&1
					perf record -g -o "$RUN_DIR/perf-kite-ws$sz-c50.data" -p "$MEM_PID" -- \
						$LOADPIN "$wsl" -p "$SRV_PORT" -P "$WS_PATH" -s "$WS_PROTO" -c 50 -S "$sz" \
						-d "$PROFILE_DUR" -w 0 -q >"$RUN_DIR/perf-kite-ws$sz-c50.wsload" 2>&1
				done
				stop_server
				for sz in 16 16384; do
					perf_text "$RUN_DIR/perf-kite-ws$sz-c50.data" >"$RUN_DIR/perf-kite-ws$sz-c50.txt"
					log "profile: $RUN_DIR/perf-kite-ws$sz-c50.txt"
				done
			fi
		fi
	)
}
if { [ "$HTTP_ON" = 1 ] && [ -n "$SYSCALL_SERVERS" ]; } || { [ "$WS_ON" = 1 ] && [ -n "$WS_SYSCALL_SERVERS" ]; } ||
	{ [ "$PROFILE" = 1 ] && [ "$HTTP_ON$WS_ON" != 00 ]; }; then
	say "syscall counts (http: $([ "$HTTP_ON" = 1 ] && echo "${SYSCALL_SERVERS:-none}" || echo none), ws: $([ "$WS_ON" = 1 ] && echo "${WS_SYSCALL_SERVERS:-none}" || echo none)) and kite profiles (PROFILE=$PROFILE)"
	echo "phase_start_perf=$(date +%s)" >>"$RUN_DIR/meta.env"
	perf_phase || say "WARNING: perf phase failed"
	echo "phase_end_perf=$(date +%s)" >>"$RUN_DIR/meta.env"
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
