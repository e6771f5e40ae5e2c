#!/usr/bin/env bash
# bench/h2.sh: HTTP/2 over TLS (issue 12): h2load -c50 -m10, GET of a 1 KB
# file, kite-test-server -s against nginx with http2 on, the same
# certificate and file, alternating run by run. Server on CPU 0 under a CFS
# quota (CPU_QUOTA, server-bound mode), h2load on CPU 1, 127.0.0.1 only.
# Then the memory of idle HTTP/2 connections (no quota): RSS growth of the
# serving process with IDLE connections open, each after one request.
# Environment: RUNS=5 DUR=10 CPU_QUOTA=50 CERT=/tmp/kite-bench/certs/rsa2048
#   KITE_BIN=build/test-apps/kite-test-server IDLE=500
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-5}
DUR=${DUR:-10}
CPU_QUOTA=${CPU_QUOTA-50}
IDLE=${IDLE:-500}
CERT=${CERT:-/tmp/kite-bench/certs/rsa2048}
KITE_BIN=${KITE_BIN:-$ROOT/build/test-apps/kite-test-server}
WORK=$(mktemp -d /tmp/kite-h2.XXXXXX)
PORT=9543
OUT=$ROOT/bench/results/h2-$(date -u +%Y%m%dT%H%M%S).txt
CG=/sys/fs/cgroup/cpu/kiteh2_$$
SRV=
trap 'cleanup' EXIT

. "$ROOT/bench/lib-dyn.sh"

cleanup() {
    [ -n "$SRV" ] && kill "$SRV" 2>/dev/null
    uncap
    rm -rf "$WORK"
}

[ -f "$CERT.crt" ] || { echo "no certificate $CERT.crt (make it with the harness: ../shared/bench)"; exit 1; }
mkdir -p "$WORK/doc" "$WORK/nginx" "$ROOT/bench/results"
head -c 1024 /dev/zero | tr '\0' 'x' >"$WORK/doc/1k.txt"
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$PORT ssl http2;
        ssl_certificate $CERT.crt;
        ssl_certificate_key $CERT.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        root $WORK/doc;
    }
}
EOF

start() {
    taskset -c 0 "$@" >>"$WORK/server.log" 2>&1 &
    SRV=$!
    wait_http "https://127.0.0.1:$PORT/1k.txt"
    cap "$SRV"
}

stop() {
    kill "$SRV" 2>/dev/null
    wait "$SRV" 2>/dev/null
    SRV=
}

load() {
    local r
    r=$(taskset -c 1 h2load -c50 -m10 -D "$DUR" --warm-up-time=1 "https://127.0.0.1:$PORT/1k.txt" 2>&1)
    log "$1 $(echo "$r" | awk '/^finished in/ {print $4, "req/s"}') $(echo "$r" | grep -m1 '^requests:') $(echo "$r" | grep -im1 'application protocol')"
}

KITE_CMD=("$KITE_BIN" -p $PORT -i 127.0.0.1 -r "$WORK/doc" -s -C "$CERT.crt" -K "$CERT.key")
NGINX_CMD=(nginx -c "$WORK/nginx/nginx.conf")

log "# bench/h2.sh $(date -u '+%Y-%m-%d %H:%M:%S UTC') commit $(git -C "$ROOT" rev-parse --short HEAD), cert $(basename "$CERT")"
log "# $(machine_line), $(nginx -v 2>&1), $(h2load --version | head -1)"
log "## h2load -c50 -m10 -D $DUR, 1 KB over TLS, server quota ${CPU_QUOTA:-none}%"
for i in $(seq "$RUNS"); do
    start "${KITE_CMD[@]}"
    load kite-h2
    stop
    start "${NGINX_CMD[@]}"
    load nginx-h2
    stop
done

# Idle HTTP/2 connections: open IDLE, one request each, then RSS of the server.
idle() {
    local name=$1 pid=$2 rss0 rss1
    rss0=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    /usr/bin/python3 - "$PORT" "$IDLE" "$WORK/ready" <<'EOF' &
import socket, ssl, sys, time
import h2.connection, h2.config
port, n, ready = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.set_alpn_protocols(["h2"])
conns = []
for i in range(n):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
    c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    c.initiate_connection()
    c.send_headers(1, [(":method", "GET"), (":path", "/1k.txt"), (":scheme", "https"),
                       (":authority", "localhost")], end_stream=True)
    s.sendall(c.data_to_send())
    got = b""
    s.settimeout(5)
    while True:
        d = s.recv(65536)
        if not d:
            break
        done = False
        for e in c.receive_data(d):
            if type(e).__name__ == "StreamEnded":
                done = True
        s.sendall(c.data_to_send())
        if done:
            break
    conns.append((s, c))
open(ready, "w").write("%d\n" % len(conns))
time.sleep(30)
EOF
    local py=$!
    for _ in $(seq 600); do [ -s "$WORK/ready" ] && break; sleep 0.1; done
    sleep 1
    rss1=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    log "$name idle h2: $(cat "$WORK/ready" 2>/dev/null | tr -d '\n') conns, RSS $rss0 -> $rss1 KiB, $(((rss1 - rss0) * 1024 / IDLE)) B per connection"
    kill $py 2>/dev/null
    wait $py 2>/dev/null
    rm -f "$WORK/ready"
}
CPU_QUOTA_SAVE=$CPU_QUOTA
CPU_QUOTA=
start "${KITE_CMD[@]}"
idle kite "$SRV"
stop
start "${NGINX_CMD[@]}"
idle nginx "$(pgrep -f "nginx -c $WORK/nginx/nginx.conf" | head -1)"
stop
CPU_QUOTA=$CPU_QUOTA_SAVE
log "# results: $OUT"
