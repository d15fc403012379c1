#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Run every shmd benchmark and print the figures ("make bench" sets the paths).
# Arguments go to bench-shmd (e.g. "create open"); BENCH_RUNS, BENCH_SECONDS,
# BENCH_LAT_OPS tune it. The output is also kept in tests/bench/bench.log.
set -eu

builddir=${SHMD_BUILDDIR:-$(pwd)}
SHMD_BIN=${SHMD_BIN:-$builddir/shmd}
SHMCTL_BIN=${SHMCTL_BIN:-$builddir/shmctl}
BENCH_BARE_SERVER=${BENCH_BARE_SERVER:-$builddir/tests/bench/bare-server}
# In a build tree, shmctl is libtool's wrapper: a shell script that sets the library path and
# runs .libs/shmctl. Time the program that gets installed, not the wrapper's shell start-up
# (about 0.1 s here, more than the listing itself).
libtool_real=$(dirname "$SHMCTL_BIN")/.libs/shmctl
if [ -x "$libtool_real" ] && [ -d "$builddir/libshmd/.libs" ]; then
	SHMCTL_BIN=$libtool_real
	LD_LIBRARY_PATH=$builddir/libshmd/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	export LD_LIBRARY_PATH
fi
export SHMD_BIN SHMCTL_BIN BENCH_BARE_SERVER
# Never measure the daemon under valgrind.
export SHMD_TEST_WRAPPER=

for f in "$SHMD_BIN" "$BENCH_BARE_SERVER" "$builddir/tests/bench/bench-shmd"; do
	if [ ! -x "$f" ]; then
		echo "run-bench.sh: $f is missing: run 'make bench' in the build directory" >&2
		exit 2
	fi
done

log=$builddir/tests/bench/bench.log
# The daemons' stderr (shmd's audit lines, one per change) goes here, not into the figures.
BENCH_SERVER_LOG=$builddir/tests/bench/servers.log
export BENCH_SERVER_LOG
: >"$BENCH_SERVER_LOG"
status=0
# "preload" ("spill") alone runs only the libshmd-preload (spill copy) benchmark; no
# arguments run everything.
if [ "$*" = preload ] || [ "$*" = spill ]; then
	: >"$log"
else
	"$builddir/tests/bench/bench-shmd" "$@" | tee "$log" || status=$?
fi
if [ $# -eq 0 ] || [ "$*" = preload ]; then
	"$builddir/tests/bench/bench-preload" | tee -a "$log" || status=$?
fi
if [ $# -eq 0 ] || [ "$*" = spill ]; then
	"$builddir/tests/bench/bench-spill" | tee -a "$log" || status=$?
fi
# tee's status hides bench-shmd's: look at the log for failures.
if grep -q '^# FAILED' "$log"; then
	status=1
fi
echo "# log: $log; the servers' stderr: $BENCH_SERVER_LOG"
exit $status
