#!/usr/bin/env bash
# Debian 13's mbedTLS 3.6 LTS, unpacked under DIR for a second test build
# (build-tls13) on a Debian 12 machine, without touching the system's apt:
# a private apt configuration (its own sources list naming trixie, signed
# by the Debian archive keyring; its own lists and cache directories)
# downloads the four packages, `dpkg -x` unpacks them into DIR/root, and
# DIR/pkgconfig gets .pc files that point there. Their runtime needs only
# libc6 >= 2.33, so they run on Debian 12.
#
# usage: fetch-mbedtls36.sh DIR      prints DIR/pkgconfig on success
# On a system that already has mbedTLS 3.6 (Debian 13) it prints nothing
# and the caller uses the system's. A failure (no network) is loud: exit 1.
set -euo pipefail

dir=${1:?usage: fetch-mbedtls36.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
pkgs="libmbedtls-dev libmbedtls21 libmbedx509-7 libmbedcrypto16"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
mirror=${KITE_DEBIAN_MIRROR:-http://deb.debian.org/debian}

sysver=$(sed -n 's/^#define MBEDTLS_VERSION_STRING *"\(.*\)"/\1/p' /usr/include/mbedtls/build_info.h \
    /usr/include/mbedtls/version.h 2>/dev/null | head -1 || true)
case "$sysver" in 3.6.*) exit 0 ;; esac

if [ -f "$dir/root/usr/include/mbedtls/build_info.h" ] && [ -f "$dir/pkgconfig/mbedtls.pc" ]; then
    echo "$dir/pkgconfig"
    exit 0
fi
[ -r "$keyring" ] || { echo "fetch-mbedtls36: $keyring missing (apt-get install debian-archive-keyring)" >&2; exit 1; }

apt="$dir/apt"
rm -rf "$apt" "$dir/root" "$dir/pkgconfig"
mkdir -p "$apt/empty" "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs" "$dir/root" "$dir/pkgconfig"
echo "deb [signed-by=$keyring] $mirror trixie main" >"$apt/sources.list"
: >"$apt/status"
opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=$apt/empty"
      -o "Dir::Etc::Preferences=$apt/empty" -o "Dir::Etc::PreferencesParts=$apt/empty"
      -o "Dir::State::Lists=$apt/lists" -o "Dir::State::status=$apt/status"
      -o "Dir::Cache=$apt/cache" -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
      -o "APT::Sandbox::User=$(id -un)" -o "Acquire::Languages=none"
      -o "Acquire::Retries=3" -o "Acquire::http::Timeout=30" -o "APT::Default-Release=")

echo "fetch-mbedtls36: apt-get update (trixie, private lists in $apt)" >&2
if ! apt-get "${opts[@]}" -qq update >&2; then
    echo "fetch-mbedtls36: cannot read trixie from $mirror: the mbedTLS 3.6 build cannot be made" >&2
    exit 1
fi
(cd "$apt/debs" && apt-get "${opts[@]}" -qq download $pkgs) >&2 || {
    echo "fetch-mbedtls36: apt-get download $pkgs failed" >&2
    exit 1
}
for d in "$apt"/debs/*.deb; do dpkg -x "$d" "$dir/root"; done

libdir=$(dirname "$(find "$dir/root" -name 'libmbedtls.so' | head -1)")
[ -f "$libdir/libmbedtls.so" ] || { echo "fetch-mbedtls36: no libmbedtls.so in the packages" >&2; exit 1; }
ver=$(sed -n 's/^#define MBEDTLS_VERSION_STRING *"\(.*\)"/\1/p' "$dir/root/usr/include/mbedtls/build_info.h")
for lib in mbedcrypto mbedx509 mbedtls; do
    case $lib in
    mbedtls) req="Requires: mbedx509 mbedcrypto" ;;
    mbedx509) req="Requires: mbedcrypto" ;;
    *) req="" ;;
    esac
    cat >"$dir/pkgconfig/$lib.pc" <<PC
prefix=$dir/root/usr
includedir=\${prefix}/include
libdir=$libdir

Name: $lib
Description: mbedTLS $ver (Debian 13, unpacked for kite's build-tls13)
Version: $ver
$req
Cflags: -I\${includedir}
Libs: -L\${libdir} -Wl,-rpath,\${libdir} -l$lib
PC
done
echo "fetch-mbedtls36: mbedTLS $ver in $dir/root" >&2
echo "$dir/pkgconfig"
