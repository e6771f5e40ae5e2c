#!/usr/bin/env bash
# bench/issue9.sh: the two bench items of issue 9, each against its peer in
# one run, kite and the peer alternating run by run so that a change in the
# machine's speed hits both alike. Not part of `make bench`'s harness run;
# results go to stdout and bench/results/issue9-DATE.txt.
#
#   wsdeflate  ws echo with permessage-deflate, 16 KB text messages (JSON-like,
#              about 4:1), 50 connections each with one message in flight:
#              kite-test-server's "echo" protocol (deflate on by default) vs
#              a python websockets echo server with compression (Debian
#              python3-websockets), both at zlib level 1, memLevel 8, 15-bit
#              windows, context takeover. Load: bench/ws-deflate-load (C, on
#              kite's client API, built with kite), which offers deflate.
#              Figure: echoed messages/s.
#   proxy      1 KB keep-alive GETs, wrk -t1 -c50, through a reverse proxy:
#              kited's proxy mount vs nginx proxy_pass, to the same upstream
#              (kite-test-server serving a 1 KB file). Both open one upstream
#              connection per request (kited always; nginx by default); the
#              figure "nginx-upkeep" is nginx with upstream keep-alive, for
#              reference. The upstream runs on CPU 1 with wrk, unthrottled.
#
# The server under test on CPU 0 under a CFS quota of CPU_QUOTA % (cgroup
# v1, /sys/fs/cgroup/cpu; needs root), the load on CPU 1, 127.0.0.1 only.
# Environment: WORKLOADS="wsdeflate proxy" RUNS=5 DUR=10 WARMUP=2 CPU_QUOTA=50
#   CONNS=50 MSG_SIZE=16384 PORT=9290 UPORT=9291 BUILD=build (a meson build dir of this tree, relative to
#   the tree or absolute)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORKLOADS=${WORKLOADS:-"wsdeflate proxy"}
RUNS=${RUNS:-5}
DUR=${DUR:-10}
WARMUP=${WARMUP:-2}
CPU_QUOTA=${CPU_QUOTA-50}
CONNS=${CONNS:-50}
MSG_SIZE=${MSG_SIZE:-16384}
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
KITE_SRV=$BUILD/test-apps/kite-test-server
KITED=$BUILD/apps/kited/kited
LOADGEN=$BUILD/bench/ws-deflate-load
PY=/usr/bin/python3
WORK=$(mktemp -d /tmp/kite-issue9.XXXXXX)
PORT=${PORT:-9290}
UPORT=${UPORT:-9291}
OUT=$ROOT/bench/results/issue9-$(date -u +%Y%m%dT%H%M%S).txt
CG=/sys/fs/cgroup/cpu/kiteissue9_$$
trap 'cleanup' EXIT

. "$ROOT/bench/lib-dyn.sh"

cleanup() {
    [ -n "${SRV:-}" ] && kill "$SRV" 2>/dev/null
    [ -n "${UP:-}" ] && kill "$UP" 2>/dev/null
    uncap
    rm -rf "$WORK"
}

# port_free PORT: nothing listens there yet (another server would answer
# wait_port and be measured instead).
port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null || { log "port $1 is in use: set PORT/UPORT"; exit 1; }
}

wait_port() { wait_http "http://127.0.0.1:$1/"; }

start() { # start CMD...: the server under test, on CPU 0 under the quota
    port_free $PORT
    taskset -c 0 "$@" >>"$WORK/server.log" 2>&1 &
    SRV=$!
    wait_port $PORT && kill -0 "$SRV" 2>/dev/null ||
        { log "server did not start: $*"; tail "$WORK/server.log"; exit 1; }
    cap "$SRV"
}

stop() {
    kill "$SRV" 2>/dev/null
    wait "$SRV" 2>/dev/null
    SRV=
}

check_bins() {
    local b
    for b in "$@"; do
        [ -x "$b" ] || { echo "missing $b: build first (meson setup $BUILD && ninja -C $BUILD)"; exit 1; }
    done
}

# --- wsdeflate -----------------------------------------------------------

py_echo() {
    cat >"$WORK/echo.py" <<'EOF'
import asyncio, sys
import websockets
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory

async def echo(ws):
    async for m in ws:
        await ws.send(m)

async def main():
    deflate = ServerPerMessageDeflateFactory(compress_settings={"level": 1, "memLevel": 8})
    async with websockets.serve(echo, "127.0.0.1", int(sys.argv[1]), subprotocols=["echo"],
                                extensions=[deflate], max_size=1 << 20):
        await asyncio.Future()

asyncio.run(main())
EOF
}

# wsload NAME: one ws-deflate-load run; prints msg/s and the deflate count
wsload() {
    local r
    r=$(taskset -c 1 "$LOADGEN" -c "$CONNS" -d "$DUR" -w "$WARMUP" -s "$MSG_SIZE" "ws://127.0.0.1:$PORT/" 2>&1)
    local rate agreed errs
    rate=$(echo "$r" | sed -n 's/.*: \([0-9]*\) msg\/s.*/\1/p')
    agreed=$(echo "$r" | sed -n 's/.*deflate \([0-9]*\) .*/\1/p')
    errs=$(echo "$r" | sed -n 's/.*errors \([0-9]*\).*/\1/p')
    log "$1 ${rate:-?} msg/s deflate=${agreed:-?}/$CONNS errors=${errs:-?} load=$(cut -d' ' -f1 /proc/loadavg)"
    [ -z "$rate" ] && echo "$r" | tail -3 | tee -a "$OUT"
}

bench_wsdeflate() {
    local docs=$WORK/ws
    mkdir -p "$docs"
    check_bins "$KITE_SRV" "$LOADGEN"
    py_echo
    log "## wsdeflate: ws echo, deflate on, ${MSG_SIZE} B text, $CONNS conns, $RUNS x ${DUR}s, server CPU quota ${CPU_QUOTA:-none}%"
    for i in $(seq "$RUNS"); do
        start "$KITE_SRV" -p $PORT -i 127.0.0.1 -r "$docs" -R 0
        wsload "kite-ws-deflate"
        stop
        start "$PY" "$WORK/echo.py" $PORT
        wsload "python-websockets-deflate"
        stop
    done
}

# --- proxy ----------------------------------------------------------------

nginx_conf() { # nginx_conf FILE EXTRA_HTTP EXTRA_LOCATION
    mkdir -p "$WORK/nginx"
    cat >"$1" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    keepalive_requests 1000000;
    upstream up { server 127.0.0.1:$UPORT; $2 }
    server {
        listen 127.0.0.1:$PORT;
        location / { proxy_pass http://up; $3 }
    }
}
EOF
}

# load NAME URL: one wrk run, prints req/s, non-2xx and socket errors
load() {
    local r
    r=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DUR}s" "$2" 2>&1)
    local rps non2xx sockerr
    rps=$(echo "$r" | awk '/Requests\/sec/ {print $2}')
    non2xx=$(echo "$r" | awk '/Non-2xx/ {print $NF}')
    sockerr=$(echo "$r" | awk '/Socket errors/ {print $3,$4,$5,$6,$7,$8,$9,$10}')
    log "$1 $rps req/s${non2xx:+ non-2xx=$non2xx}${sockerr:+ socket-errors: $sockerr} load=$(cut -d' ' -f1 /proc/loadavg)"
}

bench_proxy() {
    local docs=$WORK/up
    mkdir -p "$docs" "$WORK/kited"
    check_bins "$KITE_SRV" "$KITED"
    head -c 1024 /dev/zero | tr '\0' 'x' >"$docs/1k.txt"
    cat >"$WORK/kited/conf" <<EOF
{"vhosts": [{"name": "proxy", "port": $PORT, "interface": "127.0.0.1",
  "mounts": [{"mountpoint": "/", "origin": "http://127.0.0.1:$UPORT/"}]}]}
EOF
    nginx_conf "$WORK/nginx.conf" "" ""
    mkdir -p "$WORK/nginx"
    nginx_conf "$WORK/nginx-upkeep.conf" "keepalive 64;" \
        'proxy_http_version 1.1; proxy_set_header Connection "";'
    port_free $UPORT
    taskset -c 1 "$KITE_SRV" -p $UPORT -i 127.0.0.1 -r "$docs" -R 0 >>"$WORK/upstream.log" 2>&1 &
    UP=$!
    wait_port $UPORT && kill -0 "$UP" 2>/dev/null || { log "upstream did not start"; exit 1; }
    log "## proxy: 1 KB keep-alive GET at -c$CONNS through a proxy, $RUNS x ${DUR}s, proxy CPU quota ${CPU_QUOTA:-none}%"
    load "direct-upstream(reference)" "http://127.0.0.1:$UPORT/1k.txt"
    for i in $(seq "$RUNS"); do
        start "$KITED" -c "$WORK/kited" -n -P "$BUILD/plugins"
        load "kited-proxy" "http://127.0.0.1:$PORT/1k.txt"
        stop
        start nginx -e "$WORK/nginx/error.log" -c "$WORK/nginx.conf" -p "$WORK/nginx"
        load "nginx-proxy" "http://127.0.0.1:$PORT/1k.txt"
        stop
        start nginx -e "$WORK/nginx/error.log" -c "$WORK/nginx-upkeep.conf" -p "$WORK/nginx"
        load "nginx-upkeep-proxy" "http://127.0.0.1:$PORT/1k.txt"
        stop
    done
    kill "$UP" 2>/dev/null
    wait "$UP" 2>/dev/null
    UP=
}

mkdir -p "$ROOT/bench/results"
log "# bench/issue9.sh $(date -u '+%Y-%m-%d %H:%M:%S UTC') commit $(git -C "$ROOT" rev-parse --short HEAD)"
log "# $(machine_line)"
for w in $WORKLOADS; do "bench_$w"; done
log "# results: $OUT"
