#!/bin/sh
# End to end with real UML kernels: two instances boot under a paused
# ttfs, `echo +5s > clock` advances them, `echo run > state` lets them
# finish `sleep 10`, and their dates agree.  Each instance must be in the
# scheduling mode its kernel and ttfs allow: shared memory for Linux >= 6.11
# (no GET or UPDATE message, requests read from its slot), messages for
# older kernels or under --no-shm.
#
#   test-uml.sh TTFS_BINARY VERSION1 [VERSION2 [TTFS_OPTION...]]
#
# Instance 1 runs VERSION1, instance 2 VERSION2 (default: VERSION1): a
# mixed pair is e.g. "6.1 6.12".  Kernels are built (and cached) by
# scripts/build-uml.sh.
set -eu

ttfs=$1
ver1=$2
ver2=${3:-$2}
shift 2
[ $# -eq 0 ] || shift
ver="$ver1+$ver2${*:+ $*}"
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

[ -e /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
linux1=$("$top/scripts/build-uml.sh" "$ver1") || fail "cannot build UML $ver1"
linux2=$("$top/scripts/build-uml.sh" "$ver2") || fail "cannot build UML $ver2"
# The mode each instance must end up in.
want_mode() { # VERSION
	case " $* " in *" --no-shm "*) echo messages; return ;; esac
	case $1 in 6.1|6.1.*|5.*|4.*) echo messages ;; *) echo shm ;; esac
}

dir=$(mktemp -d /tmp/ttfs-uml.XXXXXX)
mnt=$dir/mnt
sock=$dir/sock
mkdir "$mnt"
pids=""
cleanup() {
	for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
	fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -uz "$mnt" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT

# A known date at simulated time 0: 2023-11-14 22:13:20 UTC.
tod_s=1700000000
"$ttfs" --socket "$sock" --paused --tod "${tod_s}000000000" "$@" "$mnt" ||
	fail "ttfs did not start"

boot() { # ID
	eval "linux=\$linux$1"
	"$linux" mem=64M root=/dev/root rootfstype=hostfs rootflags=/ rw \
		init="$here/uml-init.sh" "time-travel=ext:$1:$sock" \
		con=null con0=null,fd:1 "out=$dir/out$1" nap=10 \
		> "$dir/console$1" 2>&1 &
	pids="$pids $!"
}

wait_for() { # what, command...
	what=$1
	shift
	i=0
	until "$@"; do
		i=$((i + 1))
		[ $i -lt 300 ] || fail "timed out waiting for $what"
		sleep 0.1
	done
}

start=$(date +%s.%N)
boot 1
boot 2
both_connected() { [ "$(ls "$mnt/clients" | wc -l)" -eq 2 ]; }
wait_for "two clients" both_connected
for c in "$mnt"/clients/*; do
	[ "$(cat "$c/state")" = starting ] || fail "$c is not held while paused"
done
[ "$(cat "$mnt/clock")" = 0 ] || fail "the clock moved while paused"
[ ! -e "$dir/out1" ] || fail "an instance ran while paused"

echo +5s > "$mnt/clock"
[ "$(cat "$mnt/clock")" = 5000000000 ] || fail "clock is $(cat "$mnt/clock"), not 5s"
[ "$(cat "$mnt/state")" = paused ] || fail "not paused after the advance"
for i in 1 2; do
	grep -q '^boot ' "$dir/out$i" || fail "instance $i did not boot by 5s"
	! grep -q '^woke ' "$dir/out$i" || fail "instance $i woke before 10s"
done
for c in "$mnt"/clients/*; do
	[ "$(cat "$c/state")" = waiting ] || fail "$c is $(cat "$c/state")"
	req=$(cat "$c/next_request")
	[ "$req" = none ] || [ "$req" -ge 5000000000 ] ||
		fail "$c requests $req, behind the clock"
done

# The scheduling mode, from each client's counters (ID i is instance i).
for c in "$mnt"/clients/*; do
	i=$(cat "$c/id")
	eval "v=\$ver$i"
	want=$(want_mode "$v" "$@")
	mode=$(sed -n 's/^mode //p' "$c/counters")
	[ "$mode" = "$want" ] || fail "instance $i (linux $v) in mode $mode, not $want"
	gets=$(sed -n 's/^rx.get //p' "$c/counters")
	updates=$(sed -n 's/^rx.update //p' "$c/counters")
	slotreq=$(sed -n 's/^shm.request //p' "$c/counters")
	if [ "$want" = shm ]; then
		[ "$gets" = 0 ] && [ "$updates" = 0 ] ||
			fail "instance $i in shm mode sent $gets GET, $updates UPDATE"
		[ "$slotreq" -gt 0 ] || fail "instance $i wrote no slot request"
	else
		[ "$slotreq" = 0 ] || fail "instance $i in message mode has slot requests"
	fi
	echo "instance $i (linux $v): mode $mode, $gets GET, $slotreq slot requests"
done

echo run > "$mnt/state"
for p in $pids; do
	wait "$p" || true
done
pids=""
end=$(date +%s.%N)

for i in 1 2; do
	grep -q '^woke ' "$dir/out$i" || {
		tail -20 "$dir/console$i" >&2
		fail "instance $i did not finish its sleep"
	}
done
[ "$(ls "$mnt/clients" | wc -l)" -eq 0 ] || fail "clients left behind"

# Dates: the same moment on both, tod-based, 10 s apart.
awk -v tod="$tod_s" -v wall="$(echo "$end - $start" | bc)" '
	{ t[FILENAME, $1] = $2 }
	END {
		b1 = t[ARGV[1], "boot"]; b2 = t[ARGV[2], "boot"]
		w1 = t[ARGV[1], "woke"]; w2 = t[ARGV[2], "woke"]
		printf "boot dates %.6f %.6f, woke %.6f %.6f\n", b1, b2, w1, w2
		printf "simulated %.3f s in %.3f s of wall time\n", w1 - b1, wall
		bad = 0
		d = b1 - b2; if (d < 0) d = -d
		if (d > 0.001) { print "FAIL: boot dates differ by " d; bad = 1 }
		d = w1 - w2; if (d < 0) d = -d
		if (d > 0.001) { print "FAIL: wake dates differ by " d; bad = 1 }
		if (b1 < tod || b1 > tod + 5) { print "FAIL: boot date not from --tod"; bad = 1 }
		if (w1 - b1 < 10 || w1 - b1 > 10.5) { print "FAIL: slept " w1 - b1; bad = 1 }
		exit bad
	}' "$dir/out1" "$dir/out2" || fail "dates disagree"
clock=$(cat "$mnt/clock")
[ "$clock" -ge 10000000000 ] || fail "clock only at $clock"
echo "PASS: linux $ver, clock at $clock"
