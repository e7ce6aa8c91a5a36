#!/bin/sh
# `meson install` puts ttfs, its man page and the scripts in place, the
# scripts beside the helpers they look for next to themselves.
#   test-install.sh BUILD_DIR
set -eu
build=$1
dest=$(mktemp -d /tmp/ttfs-install.XXXXXX)
trap 'rm -rf "$dest"' EXIT
meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >/dev/null
bin=$(dirname "$(find "$dest" -type f -name ttfs -perm -u+x | head -1)")
[ -x "$bin/ttfs" ] || { echo "FAIL: no ttfs installed"; exit 1; }
for f in ttfs-uml ttfs-uml-init build-uml.sh ttfs-timeline-png ttfs-wifi \
	ttfs-wifi-init; do
	[ -x "$bin/$f" ] || { echo "FAIL: $f not installed beside ttfs"; exit 1; }
done
find "$dest" -name ttfs.8 | grep -q . || { echo "FAIL: no man page"; exit 1; }
"$bin/ttfs-uml" --help | grep -q '^usage: ttfs-uml' ||
	{ echo "FAIL: the installed ttfs-uml does not run"; exit 1; }
# It names a missing mount, not a missing helper.
out=$("$bin/ttfs-uml" start /nonexistent --cmd true 2>&1 || true)
case $out in *"no such directory"*) ;; *) echo "FAIL: $out"; exit 1 ;; esac
echo "PASS: installed in $bin"
