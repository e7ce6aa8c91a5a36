#!/bin/sh
# Real UML kernels killed under ttfs: three instances run `sleep 1` loops
# (started with scripts/ttfs-uml), one is killed with SIGKILL while it waits,
# another while it runs.  The survivor must finish its loop with dates that
# never go backwards, and clients/ must show only the living.
#
#   test-uml-faults.sh TTFS_BINARY [KERNEL_VERSION]   (default 6.1)
#
# "Kill" means the instance's whole process group: ttfs-uml starts each
# instance in a session of its own (setsid), so the PID in DIR/pids is the
# group of the kernel process and every host process UML spawned.
set -eu

ttfs=$1
ver=${2:-6.1}
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
uml=$top/scripts/ttfs-uml
LOOPS=40

fail() {
	echo "FAIL: $*" >&2
	for f in "${out:-/nonexistent}"/*; do
		[ -f "$f" ] && { echo "--- $f"; tail -3 "$f"; } >&2
	done
	exit 1
}

[ -e /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
linux=$("$top/scripts/build-uml.sh" "$ver") || fail "cannot build UML $ver"

dir=$(mktemp -d /tmp/ttfs-uml-faults.XXXXXX)
mnt=$dir/mnt
sock=$dir/sock
logs=$dir/logs
out=$dir/out
mkdir "$mnt" "$out"
cleanup() {
	[ -f "$logs/pids" ] && "$uml" stop "$logs" >/dev/null 2>&1 || true
	fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -uz "$mnt" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

wait_for() { # what, tries (0.1 s each), command...
	what=$1 tries=$2
	shift 2
	i=0
	until "$@"; do
		i=$((i + 1))
		[ $i -lt "$tries" ] || fail "timed out waiting for $what"
		sleep 0.1
	done
}

# clients/N of the instance with ID $1, or nothing.
number_of() {
	for c in "$mnt"/clients/*; do
		[ -d "$c" ] || continue
		[ "$(cat "$c/id" 2>/dev/null)" = "$1" ] && { basename "$c"; return 0; }
	done
	return 0
}
ids() { # the IDs in clients/, sorted, on one line
	for c in "$mnt"/clients/*; do
		[ -d "$c" ] && cat "$c/id" 2>/dev/null
	done | sort -n | tr '\n' ' '
}
lines() { if [ -f "$1" ]; then wc -l < "$1"; else echo 0; fi; }
done3() { grep -q '^done ' "$out/3" 2>/dev/null; }
pid_of() { awk -v id="$1" '$1 == id { print $2 }' "$logs/pids"; }
session_alive() { # any process left in the session $1?
	ps -eo sid= | awk -v s="$1" '$1 == s { f = 1 } END { exit !f }'
}
kill_instance() { # ID: SIGKILL its whole process group, wait until gone
	p=$(pid_of "$1")
	kill -9 "-$p"
	wait_for "instance $1's processes to die" 100 eval '! session_alive '"$p"
}

# Each instance: LOOPS times `sleep 1` and a line "N DATE"; instance 1 also
# keeps its CPU busy after each sleep, so that it is often the runner.
cmd="n=0; while [ \$n -lt $LOOPS ]; do sleep 1; n=\$((n + 1));
if [ \"\$TTFS_ID\" = 1 ]; then i=0; while [ \$i -lt 5000 ]; do i=\$((i + 1)); done; fi;
echo \"\$n \$(date +%s.%N)\" >> $out/\$TTFS_ID; done;
echo \"done \$(date +%s.%N)\" >> $out/\$TTFS_ID"

"$ttfs" --socket "$sock" --paused --tod 1700000000000000000 "$mnt" ||
	fail "ttfs did not start"
"$uml" start "$mnt" -n 3 --kernel "$linux" --logs "$logs" --cmd "$cmd" \
	>/dev/null || fail "ttfs-uml start failed"
three() { [ "$(ls "$mnt/clients" | wc -l)" -eq 3 ]; }
wait_for "three clients" 300 three

# Boot (paused between advances) until instance 2 is in its loop.
t=0
while [ "$(lines "$out/2")" -lt 2 ]; do
	t=$((t + 1))
	[ $t -le 30 ] || fail "instance 2 not in its loop after 30 advances"
	echo +2s > "$mnt/clock" || fail "advance failed"
done
# After an advance nobody runs: every instance waits.
n2=$(number_of 2)
[ -n "$n2" ] || fail "instance 2 not in clients/"
st=$(cat "$mnt/clients/$n2/state")
[ "$st" = waiting ] || fail "instance 2 is $st, not waiting"
lines2=$(wc -l < "$out/2")

# 1. kill -9 instance 2 while it waits.
kill_instance 2
wait_for "clients/$n2 to go" 50 eval '[ ! -e "$mnt/clients/$n2" ]'
[ "$(ids)" = "1 3 " ] || fail "clients/ shows IDs $(ids), not 1 3"
echo "killed instance 2 (clients/$n2) while waiting, after $lines2 sleeps"

# 2. Let it run; kill -9 instance 1 while it runs.  The running instance's
# kernel process is stopped first, so that it cannot send WAIT between our
# look at its state and the kill: the state seen is the state killed in.
echo run > "$mnt/state"
n1=$(number_of 1)
[ -n "$n1" ] || fail "instance 1 not in clients/"
p1=$(pid_of 1)
tries=0
while :; do
	tries=$((tries + 1))
	[ $tries -le 5000 ] || fail "never saw instance 1 running"
	[ "$(cat "$mnt/clients/$n1/state" 2>/dev/null)" = running ] || continue
	kill -STOP "$p1"
	if [ "$(cat "$mnt/clients/$n1/state")" = running ]; then
		break
	fi
	kill -CONT "$p1"
done
lines1=$(lines "$out/1")
[ "$lines1" -lt $LOOPS ] || fail "instance 1 finished before it was killed"
kill_instance 1
wait_for "clients/$n1 to go" 50 eval '[ ! -e "$mnt/clients/$n1" ]'
# Only instance 3 is left, unless it has finished meanwhile: instance 1's
# busy loop lasts tens of simulated seconds (each shell step costs ticks),
# during which 3 sleeps on, and catching 1 running takes longer on a
# loaded machine (the tree's reads wait while the simulation runs).
left=$(ids)
[ "$left" = "3 " ] || { [ -z "$left" ] && done3; } ||
	fail "clients/ shows IDs $left, not 3"
echo "killed instance 1 (clients/$n1) while running (try $tries), after $lines1 sleeps"

# 3. The survivor finishes its loop and powers off.
wait_for "instance 3 to finish" 3000 done3
empty() { [ -z "$(ls "$mnt/clients")" ]; }
wait_for "instance 3 to leave" 600 empty
clock=$(cat "$mnt/clock")

# Dates: never backwards in any instance; the survivor's sleeps each 1 s
# (to within the 10 ms quantum plus the busy loop's time).
for i in 1 2 3; do
	awk -v id="$i" -v loops=$LOOPS '
		{ d = $2 + 0; if (NR > 1 && d < prev) { printf "instance %d: date went back at line %d: %.9f < %.9f\n", id, NR, d, prev; bad = 1 }
		  if (NR > 1 && id == 3 && $1 != "done" && (d - prev < 1 || d - prev > 1.2)) { printf "instance 3: line %d is %.6f s after the last\n", NR, d - prev; bad = 1 }
		  prev = d }
		END { if (id == 3 && NR != loops + 1) { printf "instance 3: %d lines, not %d\n", NR, loops + 1; bad = 1 }
		      printf "instance %d: %d lines, last %s\n", id, NR, $0
		      exit bad }' "$out/$i" || fail "instance $i's dates"
done
[ "$(wc -l < "$out/2")" -eq "$lines2" ] || fail "instance 2 wrote after its death"
[ "$(cat "$mnt/state")" = running ] || fail "ttfs does not answer"
session_alive "$p1" && fail "instance 1's processes survived"
echo "PASS: linux $ver, clock at $clock"
