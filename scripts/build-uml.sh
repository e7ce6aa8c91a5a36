#!/bin/sh
# build-uml.sh VERSION [CACHE_DIR]
#
# Builds a User-Mode Linux kernel with time-travel support from Debian's
# linux-source-VERSION package (6.1, 6.12, ...) and prints the path of the
# resulting `linux` binary.  The result is cached: a second call with the same
# version and cache directory returns at once.
#
# The kernel boots without an image, with the host's / as its root
# (rootfstype=hostfs), so tests need nothing but this binary.
set -eu

usage() {
	echo "usage: $0 VERSION [CACHE_DIR]   (VERSION: 6.1, 6.12, ...)" >&2
	exit 2
}
[ $# -ge 1 ] || usage
case "$1" in -h|--help) usage ;; esac

ver=$1
cache=${2:-${TTFS_UML_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ttfs-uml}}
tarball=/usr/src/linux-source-$ver.tar.xz
out=$cache/linux-$ver
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
make -s ARCH=um olddefconfig >&2
grep -q '^CONFIG_UML_TIME_TRAVEL_SUPPORT=y' .config || {
	echo "$0: time-travel support did not stick in .config" >&2
	exit 1
}
echo "build-uml: building linux $ver (ARCH=um)" >&2
make -s ARCH=um -j"$(nproc)" linux >&2

mkdir -p "$out.tmp"
cp linux "$out.tmp/linux"
cp .config "$out.tmp/config"
rm -rf "$out"
mv "$out.tmp" "$out"
echo "$bin"
