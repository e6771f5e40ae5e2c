#!/usr/bin/env bash
# Issue 20's TLS targets, for the lead on a quiet machine, in ONE run of the
# shared harness (../shared/bench, its `tls` workload: full handshakes with
# connload, HTTPS keep-alive 1 KB c50 with wrk), server-bound (CPU_QUOTA=50):
#
#   1. full handshakes and keep-alive, default suites: kite on mbedTLS 2.28
#      (build/, TLS 1.2) and 3.6 (build-tls13/, TLS 1.3 and 1.2), nginx,
#      lighttpd + mod_mbedtls (TLS 1.2), for each certificate in CERTS;
#   2. keep-alive with one suite forced on the client (so on both sides):
#      AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305, on TLS 1.3 and 1.2,
#      kite 3.6 and nginx (kite 2.28 on TLS 1.2). The harness labels these
#      rows by BENCH_TAG (forced-<version>-<suite>), as its own TLS label
#      names the version the OpenSSL configuration then overrides; read
#      their tls-ka rows (their handshake rows ask connload for TLS 1.3
#      and fail where the configuration says 1.2).
#
# Targets (issue 20): handshakes on 3.6 >= 0.5 x nginx on the same version
# and >= 1.5 x lighttpd-mbedtls with the same certificate; keep-alive with a
# forced suite >= 1.1 x nginx. Then `../shared/bench/bench.sh report`.
#
# usage: bench/tls13.sh      (env: RUNS=2 DUR=10 CERTS="p256 rsa2048" CPU_QUOTA=50)
# Needs `make bench-deps`, lighttpd-mod-mbedtls, and build/ and build-tls13/
# (make build; make tls13-setup && ninja -C build-tls13).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
H=${BENCH_HARNESS:-$ROOT/../shared/bench}
export PROJECT=$ROOT RUNS=${RUNS:-2} DUR=${DUR:-10} CPU_QUOTA=${CPU_QUOTA-50}
CERTS=${CERTS:-"p256 rsa2048"}
conf=$(mktemp /tmp/kite-tls13-openssl.XXXXXX)
trap 'rm -f "$conf"' EXIT

kite() { # BUILD: the SUT command line for the harness
    echo "$ROOT/$1/test-apps/kite-test-server -s -C \$BENCH_CERT -K \$BENCH_KEY -p \$BENCH_PORT -i 127.0.0.1 -n"
}

sut() { # TAG BUILD VERSIONS
    BENCH_TAG=$1 SUT_TLS_CMD=$(kite "$2") SUT_CMD=$(kite "$2") SUT_TLS_PORT=9443 SUT_HAS=tls \
        TLS_VERSIONS=$3 "$H/bench.sh" tls SUT "$RUNS"
}

(cd "$H" && ./bench.sh setup >/dev/null)
for cert in $CERTS; do
    export CERT=$cert
    sut kite-2.28 build 1.2
    sut kite-3.6 build-tls13 "1.3 1.2"
    BENCH_TAG=anchor TLS_VERSIONS="1.3 1.2" "$H/bench.sh" tls nginx "$RUNS"
    BENCH_TAG=anchor "$H/bench.sh" tls lighttpd-mbedtls "$RUNS"
done

# 2. One suite forced by the client's OpenSSL configuration.
export CERT=p256
for v in 1.3 1.2; do
    for suite in AES128-GCM AES256-GCM CHACHA20; do
        case $v-$suite in
        1.3-AES128-GCM) line="Ciphersuites = TLS_AES_128_GCM_SHA256" ;;
        1.3-AES256-GCM) line="Ciphersuites = TLS_AES_256_GCM_SHA384" ;;
        1.3-CHACHA20) line="Ciphersuites = TLS_CHACHA20_POLY1305_SHA256" ;;
        1.2-AES128-GCM) line="CipherString = ECDHE-ECDSA-AES128-GCM-SHA256" ;;
        1.2-AES256-GCM) line="CipherString = ECDHE-ECDSA-AES256-GCM-SHA384" ;;
        1.2-CHACHA20) line="CipherString = ECDHE-ECDSA-CHACHA20-POLY1305" ;;
        esac
        ver=TLSv$v
        cat >"$conf" <<EOF
openssl_conf = conf
[conf]
ssl_conf = ssl
[ssl]
system_default = sys
[sys]
MinProtocol = $ver
MaxProtocol = $ver
$line
EOF
        # The harness reads OPENSSL_CONF for its TLS 1.3 runs only: run
        # those, with this configuration deciding version and suite.
        export OPENSSL_CONF=$conf
        sut "forced-$v-$suite-kite-3.6" build-tls13 1.3
        [ $v = 1.2 ] && sut "forced-$v-$suite-kite-2.28" build 1.3
        BENCH_TAG="forced-$v-$suite-nginx" TLS_VERSIONS=1.3 "$H/bench.sh" tls nginx "$RUNS"
        unset OPENSSL_CONF
    done
done
"$H/bench.sh" report
