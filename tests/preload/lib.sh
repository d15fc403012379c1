# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by the tests/preload shell tests: TAP output, a private shmd by pid, the preload environment.
# shellcheck shell=bash

: "${SHMD_BIN:?SHMD_BIN must point at the shmd binary (make check sets it)}"
: "${SHMCTL_BIN:?SHMCTL_BIN must point at the shmctl binary (make check sets it)}"
: "${SHMD_BUILDDIR:?SHMD_BUILDDIR must be set (make check sets it)}"

PRELOAD_LIB=$SHMD_BUILDDIR/libshmd/.libs/libshmd-preload.so
TAP_N=0
TAP_FAILED=0
DAEMON_PID=
TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/shmd-preload.XXXXXX") || exit 99
SOCK=$TEST_DIR/shmd.sock

cleanup() {
	if [[ -n $DAEMON_PID ]]; then
		kill -TERM "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID" 2>/dev/null
	fi
	rm -rf "$TEST_DIR"
}
trap cleanup EXIT

plan() { echo "1..$1"; }
skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}
ok() {
	local status=$1
	shift
	TAP_N=$((TAP_N + 1))
	if [[ $status == 0 ]]; then
		echo "ok $TAP_N - $*"
	else
		echo "not ok $TAP_N - $*"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}
finish() { exit $((TAP_FAILED > 0)); }

start_daemon() {
	"$SHMD_BIN" --socket "$SOCK" "$@" >"$TEST_DIR/shmd.log" 2>&1 &
	DAEMON_PID=$!
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -S $SOCK ]] && "$SHMCTL_BIN" --socket "$SOCK" status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "Bail out! shmd did not start: $(cat "$TEST_DIR/shmd.log")"
	exit 1
}

# The environment that runs a program under the preload against our daemon. A sanitized build
# needs its ASan runtime loaded first.
preload_env() {
	local asan
	asan=$(ldd "$PRELOAD_LIB" 2>/dev/null | awk '/libasan/ { print $3; exit }')
	PRELOAD_ENV=(
		"LD_PRELOAD=${asan:+$asan:}$PRELOAD_LIB"
		"SHMD_SOCKET=$SOCK"
		"SHMD_PRELOAD_FALLBACK=0"
		"ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0"
	)
}

# Regions the daemon holds (names, one a line).
regions() { "$SHMCTL_BIN" --socket "$SOCK" -n -r -o NAME ls; }
