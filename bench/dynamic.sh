#!/usr/bin/env bash
# bench/dynamic.sh: dynamic content against its peers, in one run, kite and
# the peer alternating run by run so that a change in the machine's speed
# hits both alike. Not part of `make bench`'s harness run (the harness has
# no CGI or Lua workloads); results go to stdout and bench/results/.
#
#   cgi   a trivial shell CGI (tests/data/cgi/trivial.sh) at -c10:
#         kite-test-server -G vs lighttpd mod_cgi            (no CPU quota:
#         the cost is fork/exec, outside the server process)
#   lua   a hello-world Lua server page (.lp) and Lua script (.lua) at -c50:
#         kite vs lighttpd + mod_magnet (Debian lighttpd-modules-lua), and
#         kite's own static 1 KB file, with the server under CPU_QUOTA
#   lualoop  a compute-bound script (bench/lua/loop.lua: 10,000 turns of a
#         loop) at -c50 with the instruction budget's count hook (the
#         default) and without it (-B off, "lua-instruction-budget": false)
#
# Server on CPU 0, wrk (one thread) on CPU 1, 127.0.0.1 only.
# Environment: WORKLOADS="cgi lua" (lualoop on request) RUNS=5 DUR=5 CPU_QUOTA=50
#   KITE_BIN=build/test-apps/kite-test-server
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORKLOADS=${WORKLOADS:-"cgi lua"}
RUNS=${RUNS:-5}
DUR=${DUR:-5}
CPU_QUOTA=${CPU_QUOTA-50}
KITE_BIN=${KITE_BIN:-$ROOT/build/test-apps/kite-test-server}
WORK=$(mktemp -d /tmp/kite-dyn.XXXXXX)
PORT=9180
OUT=$ROOT/bench/results/dynamic-$(date -u +%Y%m%dT%H%M%S).txt
CG=/sys/fs/cgroup/cpu/kitedyn_$$
trap 'cleanup' EXIT

. "$ROOT/bench/lib-dyn.sh"

cleanup() {
    [ -n "${SRV:-}" ] && kill "$SRV" 2>/dev/null
    uncap
    rm -rf "$WORK"
}

wait_port() { wait_http "http://127.0.0.1:$PORT/"; }

start() { # start QUOTA CMD...
    local q=$1
    shift
    taskset -c 0 "$@" >>"$WORK/server.log" 2>&1 &
    SRV=$!
    wait_port || { log "server did not start: $*"; tail "$WORK/server.log"; exit 1; }
    [ "$q" = q ] && cap "$SRV"
}

stop() {
    kill "$SRV" 2>/dev/null
    wait "$SRV" 2>/dev/null
    SRV=
}

# load NAME URL CONNS: one wrk run, prints req/s and non-2xx count
load() {
    local r
    r=$(taskset -c 1 wrk -t1 -c"$3" -d"${DUR}s" "$2" 2>&1)
    local rps non2xx
    rps=$(echo "$r" | awk '/Requests\/sec/ {print $2}')
    non2xx=$(echo "$r" | awk '/Non-2xx/ {print $NF}')
    log "$1 $rps req/s${non2xx:+ non-2xx=$non2xx} load=$(cut -d' ' -f1 /proc/loadavg)"
}

lighttpd_conf() { # lighttpd_conf DOCROOT EXTRA
    cat >"$WORK/lighttpd.conf" <<EOF
server.document-root = "$1"
server.port = $PORT
server.bind = "127.0.0.1"
server.max-keep-alive-requests = 100000
server.errorlog = "$WORK/lighttpd.err"
$2
EOF
}

bench_cgi() {
    local dir=$ROOT/tests/data/cgi
    lighttpd_conf "$WORK" "server.modules += (\"mod_alias\", \"mod_cgi\")
alias.url = (\"/cgi-bin/\" => \"$dir/\")
cgi.assign = (\".sh\" => \"\")"
    log "## cgi: trivial.sh at -c10, $RUNS x ${DUR}s, no quota"
    for i in $(seq "$RUNS"); do
        start n "$KITE_BIN" -p $PORT -i 127.0.0.1 -r "$WORK" -G "$dir"
        load "kite-cgi" "http://127.0.0.1:$PORT/cgi-bin/trivial.sh" 10
        stop
        start n lighttpd -D -f "$WORK/lighttpd.conf"
        load "lighttpd-cgi" "http://127.0.0.1:$PORT/cgi-bin/trivial.sh" 10
        stop
    done
    log "zombies after cgi: $(ps -eo stat | grep -c '^Z')"
}

bench_lua() {
    local docs=$WORK/lua kite peer i
    mkdir -p "$docs"
    cp "$ROOT/bench/lua/hello.lp" "$ROOT/bench/lua/hello.lua" "$docs/"
    head -c 1024 /dev/zero | tr '\0' 'x' >"$docs/1k.txt"
    # Both servers run for the whole workload, under the same quota (only
    # one is loaded at a time), and the loads alternate, each of kite's
    # followed by the peer's, so that the two of a ratio are measured
    # seconds apart: this machine's speed drifts by 15 % over a minute.
    lighttpd_conf "$docs" "server.modules += (\"mod_magnet\")
\$HTTP[\"url\"] =~ \"^/magnet\" { magnet.attract-raw-url-to = (\"$ROOT/bench/lua/magnet-hello.lua\") }"
    sed -i "s/^server.port = .*/server.port = $((PORT + 1))/" "$WORK/lighttpd.conf"
    log "## lua: hello world at -c50, $RUNS x ${DUR}s, server CPU quota ${CPU_QUOTA:-none}%"
    start q "$KITE_BIN" -p $PORT -i 127.0.0.1 -r "$docs" -L "$docs"
    kite=$SRV
    taskset -c 0 lighttpd -D -f "$WORK/lighttpd.conf" >>"$WORK/server.log" 2>&1 &
    peer=$!
    wait_http "http://127.0.0.1:$((PORT + 1))/magnet" || { log "lighttpd did not start"; exit 1; }
    cap "$peer"
    for i in $(seq "$RUNS"); do
        load "kite-lp" "http://127.0.0.1:$PORT/lua/hello.lp" 50
        load "lighttpd-magnet" "http://127.0.0.1:$((PORT + 1))/magnet" 50
        load "kite-lua" "http://127.0.0.1:$PORT/lua/hello.lua" 50
        load "lighttpd-magnet" "http://127.0.0.1:$((PORT + 1))/magnet" 50
        load "kite-static-1k" "http://127.0.0.1:$PORT/1k.txt" 50
    done
    kill "$peer" 2>/dev/null
    wait "$peer" 2>/dev/null
    SRV=$kite
    stop
    ratios
}

# ratios: each run's page and script against the peer's run right after
# each, and the page against the static file; the medians.
ratios() {
    awk 'BEGIN {n = 0}
         $1 == "kite-lp" {lp = $2; last = "lp"} $1 == "kite-lua" {lua = $2; last = "lua"}
         $1 == "lighttpd-magnet" && last == "lp" {a[n] = lp / $2}
         $1 == "lighttpd-magnet" && last == "lua" {b[n] = lua / $2}
         $1 == "kite-static-1k" {c[n] = lp / $2; n++}
         function med(x,   i, j, t) {
             for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (x[j] < x[i]) {t = x[i]; x[i] = x[j]; x[j] = t}
             return n % 2 ? x[int(n / 2)] : (x[n / 2 - 1] + x[n / 2]) / 2
         }
         END {
             if (!n) exit
             for (i = 0; i < n; i++) printf "ratio run %d: lp/magnet %.2f lua/magnet %.2f lp/static %.2f\n", i + 1, a[i], b[i], c[i]
             printf "ratio median: lp/magnet %.2f lua/magnet %.2f lp/static %.2f\n", med(a), med(b), med(c)
         }' "$OUT" | while read -r line; do log "$line"; done
}

bench_lualoop() {
    local docs=$WORK/lua
    mkdir -p "$docs"
    cp "$ROOT/bench/lua/loop.lua" "$docs/"
    log "## lualoop: bench/lua/loop.lua at -c50, $RUNS x ${DUR}s, server CPU quota ${CPU_QUOTA:-none}%"
    for i in $(seq "$RUNS"); do
        start q "$KITE_BIN" -p $PORT -i 127.0.0.1 -r "$docs" -L "$docs"
        load "kite-loop-budget" "http://127.0.0.1:$PORT/lua/loop.lua" 50
        stop
        start q "$KITE_BIN" -p $PORT -i 127.0.0.1 -r "$docs" -L "$docs" -B off
        load "kite-loop-nobudget" "http://127.0.0.1:$PORT/lua/loop.lua" 50
        stop
    done
}

mkdir -p "$ROOT/bench/results"
log "# bench/dynamic.sh $(date -u '+%Y-%m-%d %H:%M:%S UTC') commit $(git -C "$ROOT" rev-parse --short HEAD)"
log "# $(machine_line)"
for w in $WORKLOADS; do "bench_$w"; done
log "# results: $OUT"
