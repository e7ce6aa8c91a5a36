#!/bin/sh
# build-uml.sh [--wireless] VERSION [CACHE_DIR]
#
# Builds a User-Mode Linux kernel with time-travel support from Debian's
# linux-source-VERSION package (6.1, 6.12, ...) and prints the path of the
# resulting `linux` binary.  The result is cached: a second call with the same
# version, flavour and cache directory returns at once.
#
# --wireless adds what hostap's hwsim tests run under UML: mac80211_hwsim
# built in, talking to wmediumd over vhost-user (virtio_uml, device ID 29),
# cfg80211/mac80211 and the ciphers WPA2 needs.  Cached as linux-VERSION-wireless.
#
# The kernel boots without an image, with the host's / as its root
# (rootfstype=hostfs), so tests need nothing but this binary.
set -eu

usage() {
	echo "usage: $0 [--wireless] VERSION [CACHE_DIR]   (VERSION: 6.1, 6.12, ...)" >&2
	exit 2
}
flavour=
case "${1:-}" in
-h|--help) usage ;;
--wireless) flavour=-wireless; shift ;;
-*) echo "$0: unknown option $1" >&2; usage ;;
esac
[ $# -ge 1 ] || usage

ver=$1
cache=${2:-${TTFS_UML_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ttfs-uml}}
tarball=/usr/src/linux-source-$ver.tar.xz
out=$cache/linux-$ver$flavour
bin=$out/linux

if [ -x "$bin" ]; then
	echo "$bin"
	exit 0
fi

if [ ! -f "$tarball" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			"linux-source-$ver" flex bison bc make gcc >&2
	else
		echo "$0: $tarball missing: apt-get install linux-source-$ver" >&2
		exit 1
	fi
fi

mkdir -p "$cache"
work=$(mktemp -d "$cache/build-$ver.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "build-uml: unpacking $tarball" >&2
tar -C "$work" -xf "$tarball"
src=$(echo "$work"/linux-source-*)

cd "$src"
make -s ARCH=um defconfig >&2
./scripts/config --enable UML_TIME_TRAVEL_SUPPORT --enable HOSTFS \
	--disable RAID6_PQ_BENCHMARK --disable DEBUG_INFO \
	--disable DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT \
	--enable DEBUG_INFO_NONE
wireless_opts="VIRTIO_UML CFG80211 MAC80211 MAC80211_HWSIM PACKET
	CRYPTO_AES CRYPTO_CCM CRYPTO_GCM CRYPTO_CMAC CRYPTO_SHA256"
if [ -n "$flavour" ]; then
	for o in $wireless_opts; do
		./scripts/config --enable "$o"
	done
fi
make -s ARCH=um olddefconfig >&2
for o in UML_TIME_TRAVEL_SUPPORT ${flavour:+$wireless_opts}; do
	grep -q "^CONFIG_$o=y" .config || {
		echo "$0: CONFIG_$o did not stick in .config" >&2
		exit 1
	}
done
echo "build-uml: building linux $ver$flavour (ARCH=um)" >&2
make -s ARCH=um -j"$(nproc)" linux >&2

mkdir -p "$out.tmp"
cp linux "$out.tmp/linux"
cp .config "$out.tmp/config"
rm -rf "$out"
mv "$out.tmp" "$out"
echo "$bin"
