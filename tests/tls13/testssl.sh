#!/usr/bin/env bash
# kite's TLS defaults checked by an outside tool: Debian's testssl.sh
# against kite-test-server on mbedTLS 2.28 and on 3.6, each with an RSA-2048
# and an ECDSA P-256 certificate, and against nginx (Debian's, OpenSSL,
# its defaults) with the same certificates. Loopback only; each testssl run
# is bounded (TESTSSL_TIMEOUT, 600 s) and all servers are stopped by PID.
#
# kite fails the check when testssl rates anything about its TLS MEDIUM,
# HIGH or CRITICAL (a weak protocol, suite or group, no forward secrecy,
# a vulnerability). The certificate's own findings (a test CA without
# CRL or OCSP, no DNS CAA record) are the same for nginx and are left out.
#
# usage: testssl.sh BUILD_2.28 BUILD_3.6 [OUT_DIR]     (make check-extra)
# Took 828 s on the shared 2-core machine (six runs of 85-240 s); each run
# is cut at TESTSSL_TIMEOUT, so at most an hour.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
b228=$(cd "${1:?usage: testssl.sh BUILD_2.28 BUILD_3.6 [OUT_DIR]}" && pwd)
b36=$(cd "${2:?usage: testssl.sh BUILD_2.28 BUILD_3.6 [OUT_DIR]}" && pwd)
out=${3:-$b36/testssl}
limit=${TESTSSL_TIMEOUT:-600}
command -v testssl >/dev/null || { echo "testssl.sh: apt-get install testssl.sh" >&2; exit 1; }
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { echo "testssl.sh: apt-get install nginx-light" >&2; exit 1; }
nginx=$(command -v nginx || echo /usr/sbin/nginx)
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d /tmp/kite-testssl.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {
    for _ in $(seq 100); do
        (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "testssl.sh: nothing listens on port $1" >&2
    return 1
}

# A CA testssl is told to trust, and a certificate from it for localhost
# of each kind.
cd "$work"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
    -subj "/CN=kite testssl CA" -keyout ca.key -out ca.crt 2>/dev/null
printf "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n" >ext
for kind in rsa ecdsa; do
    case $kind in
    rsa) newkey=(-newkey rsa:2048) ;;
    ecdsa) newkey=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1) ;;
    esac
    openssl req -new "${newkey[@]}" -nodes -subj "/CN=localhost" -keyout $kind.key -out $kind.csr 2>/dev/null
    openssl x509 -req -in $kind.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 365 \
        -extfile ext -out $kind.crt 2>/dev/null
done

run_testssl() { # name port
    local t0=$SECONDS
    echo "testssl.sh: $1 (port $2)" >&2
    rm -f "$out/$1.json"
    timeout "$limit" testssl --quiet --color 0 --warnings off --add-ca "$work/ca.crt" \
        --jsonfile "$out/$1.json" -p -s -f -P -S -U "localhost:$2" >"$out/$1.txt" 2>&1 || true
    echo "testssl.sh: $1 took $((SECONDS - t0)) s" >&2
}

start_kite() { # build kind port
    "$1/test-apps/kite-test-server" -s -C "$work/$2.crt" -K "$work/$2.key" -p "$3" -i 127.0.0.1 \
        >"$work/kite-$3.log" 2>&1 &
    pids+=($!)
    wait_port "$3"
}

start_nginx() { # kind port
    mkdir -p "$work/nginx-$1/logs"
    cat >"$work/nginx-$1/nginx.conf" <<EOF
pid $work/nginx-$1/nginx.pid;
error_log $work/nginx-$1/logs/error.log;
events {}
http {
    access_log off;
    client_body_temp_path $work/nginx-$1; proxy_temp_path $work/nginx-$1;
    fastcgi_temp_path $work/nginx-$1; uwsgi_temp_path $work/nginx-$1; scgi_temp_path $work/nginx-$1;
    server {
        listen 127.0.0.1:$2 ssl;
        ssl_certificate $work/$1.crt;
        ssl_certificate_key $work/$1.key;
        location / { return 200 "nginx\n"; }
    }
}
EOF
    "$nginx" -p "$work/nginx-$1" -c "$work/nginx-$1/nginx.conf" -g "daemon off;" &
    pids+=($!)
    wait_port "$2"
}

stop_last() {
    local p=${pids[-1]}
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
    unset 'pids[-1]'
}

t0=$SECONDS
for kind in rsa ecdsa; do
    for lib in 2.28 3.6; do
        b=$b228
        [ $lib = 3.6 ] && b=$b36
        port=$(free_port)
        start_kite "$b" $kind "$port"
        run_testssl "kite-$lib-$kind" "$port"
        stop_last
    done
    port=$(free_port)
    start_nginx $kind "$port"
    run_testssl "nginx-$kind" "$port"
    stop_last
done
echo "testssl.sh: all runs took $((SECONDS - t0)) s" >&2
/usr/bin/python3 "$here/testssl-summary.py" "$out"
