#!/bin/sh
# init (PID 1) of a UML instance in the end-to-end test.  The kernel hands
# `key=value` words of its command line to init as environment variables:
#   out=FILE   where to append what this instance saw (on the host's /)
#   nap=SEC    how long to sleep (default 10)
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc 2>/dev/null
echo "boot $(date +%s.%N)" >> "$out"
sleep "${nap:-10}"
echo "woke $(date +%s.%N)" >> "$out"
sync
# Power off: sysrq needs /proc; the reboot(2) call is the fallback.
echo o > /proc/sysrq-trigger 2>/dev/null
sleep 1
exec python3 -c 'import ctypes; ctypes.CDLL(None).reboot(0x4321fedc)'
