#!/usr/bin/env bash
# Where a TLS handshake's CPU goes in kite, in instructions (valgrind
# callgrind: independent of the machine's load, so it runs while others
# build): kite-test-server under callgrind serves N handshakes of one kind
# (openssl s_client: TLS 1.3 or 1.2, group X25519 or P-256, full or resumed
# by ticket); the server's instructions per handshake are (run - idle run)
# / N, and callgrind_annotate splits them by what mbedTLS does (key
# exchange, signature, ticket, key schedule).
#
# usage: bench/tls-instr.sh BUILD [ecdsa|rsa] [N]      (N: 20)
# prints one markdown table row per kind of handshake.
set -euo pipefail

build=$(cd "${1:?usage: tls-instr.sh BUILD [ecdsa|rsa] [N]}" && pwd)
kind=${2:-ecdsa}
n=${3:-20}
work=$(mktemp -d /tmp/kite-tls-instr.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
case $kind in
rsa) openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -keyout k.key -out k.crt 2>/dev/null ;;
*) openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
    -keyout k.key -out k.crt 2>/dev/null ;;
esac
lib=$(sed -n 's/^Message: mbedTLS //p' "$build/meson-logs/meson-log.txt" | tail -1)
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# run NAME COUNT [s_client args...]: the server's instruction total and
# its callgrind profile in NAME.out.
run() {
    local name=$1 count=$2 i
    shift 2
    valgrind --tool=callgrind --callgrind-out-file="$work/$name.out" \
        "$build/test-apps/kite-test-server" -s -C k.crt -K k.key -p "$port" -i 127.0.0.1 \
        >"$work/$name.log" 2>&1 &
    pid=$!
    for i in $(seq 200); do
        grep -q "listening" "$work/$name.log" 2>/dev/null && break
        sleep 0.1
    done
    # A resumption needs a session first: one full handshake, taken off.
    if [ "${RESUME:-}" ]; then
        openssl s_client -connect 127.0.0.1:$port "$@" -sess_out "$work/sess" -ign_eof \
            <<<$'GET /test/hello HTTP/1.0\r\n\r\n' >/dev/null 2>&1
    fi
    for i in $(seq "$count"); do
        openssl s_client -connect 127.0.0.1:$port "$@" ${RESUME:+-sess_in "$work/sess"} \
            </dev/null >"$work/$name.client" 2>&1
    done
    kill -TERM $pid
    wait $pid 2>/dev/null || true
    pid=
    sed -n 's/^summary: //p' "$work/$name.out"
}

profile() { # the inclusive instructions of mbedTLS's parts in NAME.out, per handshake
    callgrind_annotate --inclusive=yes --threshold=100 "$work/$1.out" 2>/dev/null | awk -v n="$n" '
        function add(k, v) { if (v > part[k]) part[k] = v }
        { gsub(",", "", $1); v = $1 + 0 }
        /mbedtls_ecdh_calc_secret|mbedtls_ecdh_compute_shared|psa_raw_key_agreement|mbedtls_psa_key_agreement_ecdh/ { add("ecdh", v) }
        /mbedtls_ecdh_make_params|mbedtls_ecdh_gen_public|mbedtls_ecdh_make_public|psa_generate_key[^_]|mbedtls_ssl_tls13_generate_and_write_xxdh_key_exchange|ssl_tls13_generate_and_write_key_share/ { add("keygen", v) }
        /mbedtls_pk_sign[^_]|mbedtls_pk_sign_restartable|mbedtls_pk_sign_ext/ { add("sign", v) }
        /mbedtls_ssl_ticket_write/ { add("ticket_write", v) }
        /mbedtls_ssl_ticket_parse/ { add("ticket_parse", v) }
        /mbedtls_x509write|mbedtls_ssl_write_certificate|ssl_tls13_write_certificate_body/ { add("cert", v) }
        END { for (k in part) printf "%s=%.0fk ", k, part[k] / n / 1000 }'
}

idle=$(run idle 0)
idle_n=$(awk '{print $1}' <<<"$idle")
printf "| mbedTLS %s %s | kind | instructions / handshake | parts of a full one (inclusive, k instructions) |\n|---|---|---|---|\n" "$lib" "$kind"
# On TLS 1.2 the client's groups also bound an ECDSA certificate's curve:
# with a P-256 certificate a client offering X25519 alone is refused, and
# one offering both gets kite's first (P-256). So TLS 1.2 with X25519 is
# measured with the RSA certificate.
kinds=("1.3 X25519|-tls1_3 -groups X25519" "1.3 P-256|-tls1_3 -groups P-256"
       "1.2 X25519|-tls1_2 -groups X25519" "1.2 P-256|-tls1_2 -groups P-256")
case $lib in 2.*) kinds=("${kinds[@]:2}") ;; esac
[ "$kind" = rsa ] || kinds=("${kinds[@]/1.2 X25519*/}")
for k in "${kinds[@]}"; do
    [ -n "$k" ] || continue
    label=${k%%|*}
    read -r -a args <<<"${k#*|}"
    tot=$(run full "$n" "${args[@]}" | awk '{print $1}')
    full=$(((tot - idle_n) / n))
    printf "| | full %s | %s | %s |\n" "$label" $full "$(profile full)"
    tot=$(RESUME=1 run res "$n" "${args[@]}" | awk '{print $1}')
    printf "| | resumed (ticket) %s | %s | |\n" "$label" $(((tot - idle_n - full) / n))
done
