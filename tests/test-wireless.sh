#!/bin/sh
# End to end with wmediumd: hostap's hwsim setup under ttfs
# (scripts/ttfs-wifi): one UML 6.12 with two mac80211_hwsim radios over
# virtio, wmediumd carrying their frames, both on the calendar; hostapd
# and wpa_supplicant must associate (WPA2-PSK), with the shared page and
# with messages only, at the same simulated time every run, and no kernel
# may panic (wmediumd once made a shared-memory UML's time go backwards).
#
#   test-wireless.sh TTFS_BINARY
#
# Runs only when TTFS_WMEDIUMD names a wmediumd binary (built from
# bcopeland/wmediumd) and hostapd, wpa_supplicant and iw are installed;
# otherwise it says so and reports itself as skipped (exit 77), never as
# passed.  Builds (once, cached) a wireless kernel: build-uml.sh --wireless.
set -eu

ttfs=$1
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
skip() {
	echo "SKIP: $*"
	exit 77
}

[ -e /dev/fuse ] || skip "no /dev/fuse"
[ -n "${TTFS_WMEDIUMD:-}" ] ||
	skip "TTFS_WMEDIUMD is not set: build wmediumd (bcopeland/wmediumd) and set TTFS_WMEDIUMD=/path/to/wmediumd to run this test"
[ -x "$TTFS_WMEDIUMD" ] || fail "TTFS_WMEDIUMD=$TTFS_WMEDIUMD: not an executable"
for t in hostapd wpa_supplicant wpa_cli iw; do
	command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] ||
		skip "$t missing (apt-get install hostapd wpasupplicant iw)"
done
"$top/scripts/build-uml.sh" --wireless 6.12 >/dev/null ||
	fail "cannot build the wireless UML 6.12"

dir=$(mktemp -d /tmp/ttfs-wireless.XXXXXX)
mnt=$dir/mnt
mkdir "$mnt"
cleanup() {
	fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -uz "$mnt" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT

# run NAME [TTFS_OPTION...]: one association; its time in $dir/NAME
run() {
	name=$1
	shift
	"$ttfs" --socket "$dir/sock" --tod 1700000000000000000 "$@" "$mnt" ||
		fail "ttfs did not start"
	out=$("$top/scripts/ttfs-wifi" "$mnt" --wmediumd "$TTFS_WMEDIUMD" \
		--wait 30 --logs "$dir/$name" --cmd 'iw dev wlan1 link') ||
		fail "$name: no association ($out); see the logs above"
	echo "$out" | head -1 > "$dir/$name.time"
	echo "$name: $(cat "$dir/$name.time")"
	grep -q '^Connected to 02:00:00:00:00:00' "$dir/$name/cmd.out" ||
		fail "$name: wlan1 is not connected to the AP: $(cat "$dir/$name/cmd.out")"
	# both joined the calendar: wmediumd and the instance
	grep -q '^clients_ever 2$' "$mnt/stats" ||
		fail "$name: stats: $(grep clients_ever "$mnt/stats")"
	fusermount3 -u "$mnt" || fail "cannot unmount"
	if grep -q 'Kernel panic' "$dir/$name/console.2"; then
		fail "$name: the instance panicked"
	fi
}

run shm1
run shm2
run msg --no-shm

grep -q '^associated at ' "$dir/shm1.time" || fail "no time: $(cat "$dir/shm1.time")"
cmp -s "$dir/shm1.time" "$dir/shm2.time" ||
	fail "two runs associate at different times: $(cat "$dir/shm1.time") / $(cat "$dir/shm2.time")"
cmp -s "$dir/shm1.time" "$dir/msg.time" ||
	fail "--no-shm associates at another time: $(cat "$dir/shm1.time") / $(cat "$dir/msg.time")"
echo "PASS: associated at the same simulated time in three runs, shared page and messages"
