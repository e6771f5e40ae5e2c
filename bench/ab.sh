#!/usr/bin/env bash
# bench/ab.sh: an interleaved A/B of two kite-test-server builds, for a
# change that must not cost speed (issue 21's rule: within 3 %).
#
#   A_BIN=/tmp/kite-base/build/test-apps/kite-test-server \
#   B_BIN=build/test-apps/kite-test-server bash bench/ab.sh
#
# Workloads (WORKLOADS, default "http ws h2"):
#   http  wrk -t1 -c50, keep-alive GET of a 1 KB file
#   ws    the harness's wsload: 50 connections echoing 16-byte messages
#   h2    h2load -c50 -m10 over TLS (ALPN h2), GET of the 1 KB file
# Each round runs every workload on A and on B, the order swapped every
# round, so drift of the machine falls on both. The server runs on CPU 0
# under a CPU_QUOTA % CFS quota (cgroup v1; server-bound mode, default 50),
# the load on CPU 1, 127.0.0.1 only; every run is DUR seconds and ends by
# itself. Prints per-run rates, then the medians and B/A per workload, to
# stdout and bench/results/ab-DATE.txt.
#   ROUNDS=5 DUR=8 CPU_QUOTA=50 BENCH_HARNESS=../shared/bench
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HARNESS=${BENCH_HARNESS:-$ROOT/../shared/bench}
A_BIN=${A_BIN:?A_BIN: the baseline kite-test-server}
B_BIN=${B_BIN:-$ROOT/build/test-apps/kite-test-server}
ROUNDS=${ROUNDS:-5}
DUR=${DUR:-8}
CPU_QUOTA=${CPU_QUOTA-50}
WORKLOADS=${WORKLOADS:-http ws h2}
PORT=${PORT:-9071}
WORK=$(mktemp -d /tmp/kite-ab-XXXXXX)
CG=/sys/fs/cgroup/cpu/kite-ab-$$
mkdir -p "$ROOT/bench/results"
OUT=$ROOT/bench/results/ab-$(date -u +%Y%m%dT%H%M%S).txt
. "$ROOT/bench/lib-dyn.sh"

SRV=
cleanup() {
    [ -n "$SRV" ] && kill "$SRV" 2>/dev/null && wait "$SRV" 2>/dev/null
    uncap
    rm -rf "$WORK"
}
trap cleanup EXIT

cc -O2 -o "$WORK/wsload" "$HARNESS/wsload.c" || exit 1
for b in "$A_BIN" "$B_BIN"; do [ -x "$b" ] || { echo "ab.sh: $b missing" >&2; exit 1; }; done
head -c 1024 /dev/urandom | base64 -w0 | head -c 1024 >"$WORK/1k.txt"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null

# start BIN [TLS]: the server on CPU 0 under the quota, serving WORK.
start() {
    local tls=()
    [ -n "${2:-}" ] && tls=(-s -C "$WORK/cert.pem" -K "$WORK/key.pem")
    taskset -c 0 "$1" -p "$PORT" -i 127.0.0.1 -r "$WORK" -k 300 -n "${tls[@]}" \
        >"$WORK/srv.log" 2>&1 &
    SRV=$!
    wait_http "http${2:+s}://127.0.0.1:$PORT/1k.txt" || { echo "ab.sh: $1 did not start" >&2; exit 1; }
    cap "$SRV"
}

stop() {
    kill "$SRV" 2>/dev/null
    wait "$SRV" 2>/dev/null
    SRV=
    uncap
}

# one WORKLOAD BIN: prints the rate (requests or messages per second).
one() {
    local r
    case $1 in
    http)
        start "$2"
        r=$(taskset -c 1 wrk -t1 -c50 -d"${DUR}s" "http://127.0.0.1:$PORT/1k.txt" |
            awk '/Requests\/sec/ {print int($2)}')
        ;;
    ws)
        start "$2"
        r=$(taskset -c 1 "$WORK/wsload" -p "$PORT" -P / -s echo -c 50 -S 16 \
            -D 1 -d "$DUR" -w 1 -q 2>&1 | sed -n 's/^RESULT.* msgs_per_s=\([0-9.]*\).*/\1/p')
        r=${r%.*}
        ;;
    h2)
        start "$2" tls
        r=$(taskset -c 1 h2load -c50 -m10 -D "$DUR" --warm-up-time=1 \
            "https://127.0.0.1:$PORT/1k.txt" 2>&1 | awk '/^finished in/ {print int($4)}')
        ;;
    esac
    stop
    echo "${r:-0}"
}

log "# bench/ab.sh $(date -u '+%Y-%m-%d %H:%M UTC'), $(machine_line)"
log "# A=$A_BIN"
log "# B=$B_BIN"
log "# $ROUNDS rounds, $DUR s per run, server on CPU 0 under ${CPU_QUOTA:-no} % quota, load on CPU 1"
declare -A RA RB
for ((i = 1; i <= ROUNDS; i++)); do
    for w in $WORKLOADS; do
        if ((i % 2)); then
            a=$(one "$w" "$A_BIN"); b=$(one "$w" "$B_BIN")
        else
            b=$(one "$w" "$B_BIN"); a=$(one "$w" "$A_BIN")
        fi
        RA[$w]="${RA[$w]:-} $a"
        RB[$w]="${RB[$w]:-} $b"
        log "round $i $w: A $a  B $b"
    done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
for w in $WORKLOADS; do
    ma=$(echo "${RA[$w]}" | median)
    mb=$(echo "${RB[$w]}" | median)
    log "$w: median A $ma  B $mb  B/A $(awk -v a="$ma" -v b="$mb" 'BEGIN {printf "%.3f", a ? b / a : 0}')"
done
