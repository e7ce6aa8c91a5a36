#!/bin/sh
# An example test, written the way you would write your own (and the script
# behind docs/tutorial.md).
#
# Two UML instances, IDs 1 and 2, each append "ID DATE" to one shared file on
# the host every simulated second, forever.  We hold them at boot with a
# paused ttfs, then advance the simulation one second at a time and check,
# after each step, exactly what each instance has done by then.
#
#   example-dates.sh [TTFS_BINARY [KERNEL_VERSION]]   (build/ttfs, 6.1)
#
# Exit status: 0 pass, 1 fail, 77 skipped (no /dev/fuse).
set -eu

ttfs=${1:-build/ttfs}
ver=${2:-6.1}
here=$(cd "$(dirname "$0")" && pwd)
ttfs_uml=$(dirname "$here")/scripts/ttfs-uml

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

[ -e /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }

# Everything lives in one temporary directory:
#   $dir/mnt        the ttfs mount point
#   $dir/sock       the socket the instances connect to
#   $dir/fleet      the instances' consoles and PIDs (ttfs-uml --logs)
#   $dir/dates.log  what the instances write
dir=$(mktemp -d /tmp/ttfs-example.XXXXXX)
mnt=$dir/mnt
fleet=$dir/fleet
log=$dir/dates.log
mkdir "$mnt"

# Whatever happens, leave nothing behind: no instance, no mount, no files.
cleanup() {
	if [ -f "$fleet/pids" ]; then
		"$ttfs_uml" stop "$fleet" || true
	fi
	if [ -f "$mnt/socket" ]; then
		fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -uz "$mnt" || true
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# 1. Mount ttfs, paused, with a known date at simulated time 0:
#    1700000000 s since the epoch is 2023-11-14 22:13:20 UTC.
tod=1700000000000000000
"$ttfs" --socket "$dir/sock" --paused --tod "$tod" "$mnt" ||
	fail "ttfs did not start"

# 2. Start the two instances.  Each runs this command line as root, in /,
#    with TTFS_ID set to its ID; the host's / is its /, so $log is the same
#    file for both.  (The single quotes keep $TTFS_ID and $(date ...) for
#    the instance; $log is expanded here.)
# shellcheck disable=SC2016 # $TTFS_ID and $(date) are for the instance
"$ttfs_uml" start "$mnt" -n 2 --kernel "$ver" --logs "$fleet" --cmd '
	while :; do
		echo "$TTFS_ID $(date +%s.%N)" >> '"$log"'
		sleep 1
	done' > /dev/null || fail "ttfs-uml start failed"

# 3. Wait until both have connected.  The calendar is paused, so they are
#    held at START: they have not booted, nothing ran, the clock reads 0.
i=0
until [ "$(cat "$mnt"/clients/*/id 2>/dev/null | sort | tr '\n' ' ')" = "1 2 " ]
do
	i=$((i + 1))
	[ $i -lt 300 ] || fail "the instances did not connect (see $fleet/console.*)"
	sleep 0.1
done
[ "$(cat "$mnt/clock")" = 0 ] || fail "the clock moved while paused"
[ ! -e "$log" ] || fail "an instance ran while paused"
echo "2 instances connected, held at START; clock 0"

# check K: what must be true once the clock reads K seconds.
#
# Instance N writes its first line at boot, a few microseconds after 0, then
# one a second: line j (j = 1, 2, ...) at j-1 seconds plus a little, since
# boot takes some time and `sleep 1` never wakes early (and a loop round
# takes a few tens of microseconds more).  So at clock K seconds lines 1..K
# are written and line K+1 (just after K seconds) is not: exactly K lines.
check() {
	k=$1
	clock=$(cat "$mnt/clock")
	[ "$clock" = "${k}000000000" ] || fail "clock reads $clock, not ${k}s"
	[ "$(cat "$mnt/state")" = paused ] || fail "not paused after the advance"

	for id in 1 2; do
		n=$(grep -c "^$id " "$log") || true
		[ "$n" -eq "$k" ] ||
			fail "at ${k}s instance $id wrote $n lines, not $k"
	done

	# Every line is "ID SECONDS.NANOSECONDS", a date between tod and
	# tod + clock.  Dropping the dot gives the date in ns, a 64-bit number
	# that sh compares exactly.
	while read -r id date; do
		case $id:$date in
		[12]:[0-9]*.[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]) ;;
		*) fail "bad line in $log: '$id $date'" ;;
		esac
		ns=${date%.*}${date#*.}
		[ "$ns" -ge "$tod" ] && [ "$ns" -le $((tod + clock)) ] ||
			fail "instance $id wrote $date, outside [tod, tod + ${k}s]"
	done < "$log"

	# The two instances live on one clock: their j-th dates agree (within
	# 1 ms; in practice they are identical).
	j=1
	while [ $j -le "$k" ]; do
		d1=$(grep "^1 " "$log" | sed -n "${j}s/^1 //p")
		d2=$(grep "^2 " "$log" | sed -n "${j}s/^2 //p")
		diff=$((${d1%.*}${d1#*.} - ${d2%.*}${d2#*.}))
		[ "$diff" -le 1000000 ] && [ "$diff" -ge -1000000 ] ||
			fail "line $j: instance 1 wrote $d1, instance 2 $d2"
		j=$((j + 1))
	done
	echo "clock ${k}s: $k line(s) from each instance, last dates $d1 $d2"
}

# 4. Advance one simulated second at a time.  Each write returns once the
#    clock reads exactly that time, and the calendar is paused again: the
#    instances are frozen while we look.
for k in 1 2 3 4 5; do
	echo +1s > "$mnt/clock"
	check $k
done

# 5. Half a second more: line 6 of each is due just after 5 s, so it is
#    there at 5.5 s; line 7, due just after 6 s, is not.
echo +0.5s > "$mnt/clock"
[ "$(cat "$mnt/clock")" = 5500000000 ] || fail "clock is not at 5.5s"
for id in 1 2; do
	[ "$(grep -c "^$id " "$log")" -eq 6 ] || fail "instance $id: not 6 lines at 5.5s"
done
echo "clock 5.5s: 6 lines from each instance"

# 6. Tear down: stop the instances (they leave the calendar), unmount.
"$ttfs_uml" stop "$fleet" || fail "ttfs-uml stop failed"
i=0
while [ -n "$(ls "$mnt/clients")" ]; do  # ttfs sees them go soon after
	i=$((i + 1))
	[ $i -lt 100 ] || fail "clients still connected after stop"
	sleep 0.1
done
fusermount3 -u "$mnt" || fail "cannot unmount $mnt"
echo "PASS: linux $ver, $(wc -l < "$log") dates, all on the simulated clock"
