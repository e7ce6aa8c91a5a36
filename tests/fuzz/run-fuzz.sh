#!/bin/sh
# SPDX-License-Identifier: MIT
# run-fuzz.sh FUZZER SEED_DIR WORK_DIR [libFuzzer options...]
#
# A bounded fuzz run for `meson test`: the seeds are copied into a fresh
# corpus under WORK_DIR (the build tree), which libFuzzer may grow; the
# seed directory itself is passed second, read only, so nothing is
# written into the source tree.  Crashes land in WORK_DIR too.
set -eu
fuzzer=$1 seeds=$2 work=$3
shift 3
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
cp "$seeds"/* "$work/corpus/"
# libFuzzer's own failure code is 77, which meson reads as "skipped":
# a crash must fail the test.
exec "$fuzzer" -error_exitcode=1 -timeout_exitcode=1 \
	-artifact_prefix="$work/artifacts/" "$@" \
	"$work/corpus" "$seeds"
