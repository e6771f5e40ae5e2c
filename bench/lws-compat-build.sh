#!/bin/sh
# Build lws 4.1's minimal examples (http-server, ws-server, ws-client, raw)
# and four of its plugins, unchanged, against libkite-lws, and report which
# build. Fetches nothing: give it an lws 4.1.6 checkout (or export).
#
#   bench/lws-compat-build.sh LWS_CHECKOUT [KITE_BUILD_DIR] [OUT_DIR]
#
# KITE_BUILD_DIR is a meson build of this tree (default build-test), OUT_DIR
# receives the binaries and build logs (default /tmp/kite-lws-examples).
# Prints one line per example: "built NAME" or "failed NAME: first error".
set -u
LWS=${1:?usage: $0 LWS_CHECKOUT [KITE_BUILD_DIR] [OUT_DIR]}
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "${2:-$TOP/build-test}" && pwd)
OUT=${3:-/tmp/kite-lws-examples}
mkdir -p "$OUT"
CFLAGS="-I$TOP/compat/lws/include -I$LWS/minimal-examples -I$TOP/include $(pkg-config --cflags libuv) -Wno-deprecated-declarations"
LIBS="-L$B/compat/lws -L$B/lib -Wl,-rpath,$B/compat/lws -Wl,-rpath,$B/lib -lkite-lws -lkite $(pkg-config --libs libuv) -lpthread"
NATIVE=$(pkg-config --cflags --libs libwebsockets 2>/dev/null)
ok=0
bad=0

report() { # name rc log
    if [ "$2" = 0 ]; then
        echo "built $1"
        ok=$((ok + 1))
    else
        echo "failed $1: $(grep -m1 -E 'error|undefined reference' "$3" | sed 's/^.*error: //')"
        bad=$((bad + 1))
    fi
}

for d in "$LWS"/minimal-examples/http-server/* "$LWS"/minimal-examples/ws-server/* \
         "$LWS"/minimal-examples/ws-client/* "$LWS"/minimal-examples/raw/*; do
    [ -d "$d" ] || continue
    name=$(basename "$d")
    # The sources: every .c that another one does not #include.
    srcs=""
    for c in "$d"/*.c; do
        [ -e "$c" ] || continue
        if ! grep -q "#include \"$(basename "$c")\"" "$d"/*.c; then
            srcs="$srcs $c"
        fi
    done
    [ -n "$srcs" ] || continue
    # shellcheck disable=SC2086
    (cd "$d" && cc -o "$OUT/$name" $srcs $CFLAGS $LIBS) > "$OUT/$name.log" 2>&1
    report "$name" $? "$OUT/$name.log"
    # The same sources against the real lws, when it is installed, for
    # bench/lws-compat-compare.py.
    if [ -n "$NATIVE" ]; then
        mkdir -p "$OUT/native"
        # shellcheck disable=SC2086
        (cd "$d" && cc -o "$OUT/native/$name" $srcs -I"$LWS/minimal-examples" $NATIVE) \
            > "$OUT/native/$name.log" 2>&1
    fi
done

for p in protocol_dumb_increment protocol_lws_mirror protocol_lws_status protocol_post_demo; do
    # shellcheck disable=SC2086
    cc -shared -fPIC -fvisibility=hidden -o "$OUT/lib$p.so" "$LWS/plugins/$p.c" $CFLAGS $LIBS \
        > "$OUT/$p.log" 2>&1
    report "$p" $? "$OUT/$p.log"
    if [ -n "$NATIVE" ]; then
        # shellcheck disable=SC2086
        cc -shared -fPIC -fvisibility=hidden -o "$OUT/native/lib$p.so" "$LWS/plugins/$p.c" \
            $NATIVE > "$OUT/native/$p.log" 2>&1
    fi
done
echo "$ok built, $bad failed"
