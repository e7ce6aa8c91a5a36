#!/bin/sh
# Benchmark, not a test: wall time for two real UML kernels to boot and
# sleep 10 s of simulated time under a running ttfs, in message mode
# (--no-shm) against the shared-memory page (Linux >= 6.11), with a 6.1
# pair for reference.  Configurations take turns run by run, so that a
# disturbance of the machine hits all alike; each run has a fresh ttfs.
#
#   bench-uml.sh TTFS_BINARY [RUNS [CONFIG...]]
#
# RUNS (default 5) rounds of each CONFIG (default: msg shm ref):
#   msg  two 6.12 kernels, ttfs --no-shm
#   shm  two 6.12 kernels, ttfs default (the shared page)
#   ref  two 6.1 kernels (messages; ttfs default)
# Prints every wall time with each instance's mode (the `mode` line of
# clients/N/counters, read while it runs) and ttfs's grants, then the
# medians and shm/msg.  Kernels come from scripts/build-uml.sh (cached).
set -eu

ttfs=$1
shift
runs=${1:-5}
[ $# -eq 0 ] || shift
configs=${*:-msg shm ref}
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")

fail() {
	echo "bench-uml: $*" >&2
	exit 1
}

[ -e /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
case " $configs " in *" msg "*|*" shm "*)
	k612=$("$top/scripts/build-uml.sh" 6.12) || fail "no UML 6.12" ;;
esac
case " $configs " in *" ref "*)
	k61=$("$top/scripts/build-uml.sh" 6.1) || fail "no UML 6.1" ;;
esac

dir=$(mktemp -d /tmp/ttfs-bench-uml.XXXXXX)
pids=""
tpid=""
poller=""
cleanup() {
	for p in $pids $poller; do kill -9 "$p" 2>/dev/null || true; done
	[ -z "$tpid" ] || kill "$tpid" 2>/dev/null || true
	fusermount3 -u "$dir/run/mnt" 2>/dev/null ||
		fusermount3 -uz "$dir/run/mnt" 2>/dev/null || true
	[ -z "$tpid" ] || wait "$tpid" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# One run: prints "WALL MODE1 MODE2 GRANTS SHM_REQUESTS TTFS_CPU_MS".  Called with
# its output redirected, not in $(...): a failure must clean up here.
one() { # CONFIG
	case $1 in
	msg) linux=$k612; opt=--no-shm ;;
	shm) linux=$k612; opt= ;;
	ref) linux=$k61; opt= ;;
	*) fail "unknown config $1" ;;
	esac
	rm -rf "$dir/run"
	mkdir -p "$dir/run/mnt"
	mnt=$dir/run/mnt
	sock=$dir/run/sock
	"$ttfs" -f --socket "$sock" $opt "$mnt" > "$dir/run/log" 2>&1 &
	tpid=$!
	i=0
	until [ -S "$sock" ] && [ -e "$mnt/clock" ]; do
		i=$((i + 1))
		[ $i -lt 200 ] || fail "ttfs did not start (see $dir/run/log)"
		sleep 0.05
	done
	# Each instance's mode, read while it runs (the last value seen
	# stands: a 6.12 kernel is "shm" from its first message after
	# START's ACK on).  Light: a few reads every 0.2 s.
	(
		while :; do
			for c in "$mnt"/clients/*; do
				[ -d "$c" ] || continue
				id=$(cat "$c/id" 2>/dev/null) || continue
				m=$(sed -n 's/^mode //p' "$c/counters" \
					2>/dev/null) || continue
				[ -n "$m" ] && echo "$m" > "$dir/run/mode$id"
			done
			sleep 0.2
		done
	) &
	poller=$!
	start=$(date +%s.%N)
	pids=""
	for id in 1 2; do
		"$linux" mem=64M root=/dev/root rootfstype=hostfs rootflags=/ rw \
			init="$here/uml-init.sh" "time-travel=ext:$id:$sock" \
			con=null con0=null,fd:1 "out=$dir/run/out$id" nap=10 \
			> "$dir/run/console$id" 2>&1 &
		pids="$pids $!"
	done
	for p in $pids; do
		wait "$p" || true
	done
	end=$(date +%s.%N)
	pids=""
	kill "$poller" 2>/dev/null || true
	wait "$poller" 2>/dev/null || true
	poller=""
	for id in 1 2; do
		grep -q '^woke ' "$dir/run/out$id" 2>/dev/null || {
			tail -5 "$dir/run/console$id" >&2
			fail "$1: instance $id did not finish its sleep"
		}
	done
	grants=$(sed -n 's/^grants //p' "$mnt/stats")
	shmreq=$(sed -n 's/^shm.request //p' "$mnt/stats")
	# ttfs's CPU (user + system), ms, in clock ticks.
	cpu=$(awk -v hz="$(getconf CLK_TCK)" '{
		sub(/.*\) /, ""); printf "%d", ($12 + $13) * 1000 / hz }' \
		"/proc/$tpid/stat")
	kill "$tpid"
	wait "$tpid" 2>/dev/null || true
	tpid=""
	fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -uz "$mnt" 2>/dev/null || true
	printf '%.3f %s %s %s %s %s\n' "$(echo "$end - $start" | bc)" \
		"$(cat "$dir/run/mode1" 2>/dev/null || echo '?')" \
		"$(cat "$dir/run/mode2" 2>/dev/null || echo '?')" \
		"$grants" "$shmreq" "$cpu"
}

median() { # values...
	printf '%s\n' "$@" | sort -n | awk '
		{ v[NR] = $1 }
		END {
			if (NR % 2) print v[(NR + 1) / 2]
			else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2
		}'
}

echo "ttfs: $ttfs; $runs runs of: $configs (taking turns)"
echo "machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-4s %3s %8s %-9s %-9s %7s %9s %12s\n' config run "wall s" mode1 \
	mode2 grants shm.req "ttfs cpu ms"
for cfg in $configs; do eval "walls_$cfg=''"; done
r=1
while [ $r -le "$runs" ]; do
	for cfg in $configs; do
		one "$cfg" > "$dir/res"
		set -- $(cat "$dir/res")
		printf '%-4s %3d %8s %-9s %-9s %7s %9s %12s\n' "$cfg" "$r" \
			"$1" "$2" "$3" "$4" "$5" "$6"
		want=messages
		[ "$cfg" != shm ] || want=shm
		[ "$2" = "$want" ] && [ "$3" = "$want" ] ||
			echo "  warning: $cfg run $r: modes $2 $3, not $want"
		eval "walls_$cfg=\"\$walls_$cfg $1\""
	done
	r=$((r + 1))
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
for cfg in $configs; do
	eval "w=\$walls_$cfg"
	eval "med_$cfg=$(median $w)"
	eval "echo \"median $cfg: \$med_$cfg s (of$w)\""
done
case " $configs " in *" msg "*)
	case " $configs " in *" shm "*)
		echo "msg/shm wall time: $(echo "scale=3; $med_msg / $med_shm" |
			bc) (above 1: shm is faster)" ;;
	esac ;;
esac
