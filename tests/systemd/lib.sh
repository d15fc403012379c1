# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by the tests/systemd shell tests: TAP output, a private directory, daemons by pid.
# shellcheck shell=bash

: "${SHMD_BIN:?SHMD_BIN must point at the shmd binary (make check sets it)}"
: "${SHMCTL_BIN:?SHMCTL_BIN must point at the shmctl binary (make check sets it)}"
: "${SHMD_BUILDDIR:?SHMD_BUILDDIR must be set (make check sets it)}"
: "${SHMD_SRCDIR:?SHMD_SRCDIR must be set (make check sets it)}"

TAP_N=0
TAP_FAILED=0
# Pids this test started; cleanup kills only these.
TEST_PIDS=()

# A test that re-runs itself (in a new namespace) hands its directory on in SHMD_TEST_DIR;
# only the process that made the directory removes it.
if [[ -n ${SHMD_TEST_DIR:-} ]]; then
	TEST_DIR=$SHMD_TEST_DIR
	OWN_TEST_DIR=false
else
	TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/shmd-systemd.XXXXXX") || exit 99
	OWN_TEST_DIR=true
fi

cleanup() {
	local p
	for p in "${TEST_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	if [[ $OWN_TEST_DIR == true ]]; then
		rm -rf "$TEST_DIR"
	fi
}
trap cleanup EXIT

plan() { echo "1..$1"; }
diag() { printf '# %s\n' "$@"; }

# ok COND DESCRIPTION: COND is the exit status of the check just run.
ok() {
	TAP_N=$((TAP_N + 1))
	if [[ $1 == 0 ]]; then
		echo "ok $TAP_N - $2"
	else
		echo "not ok $TAP_N - $2"
		TAP_FAILED=1
	fi
}

# is GOT WANT DESCRIPTION
is() {
	[[ $1 == "$2" ]]
	ok $? "$3"
	[[ $1 == "$2" ]] || diag "got '$1', want '$2'"
}

skip() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N # SKIP $1"; }
skip_all() { echo "1..0 # SKIP $1"; exit 0; }

# Print a file as TAP diagnostics (a daemon's log after a failure).
diag_file() { [[ -f $1 ]] && sed 's/^/# /' "$1"; }

done_testing() { exit "$TAP_FAILED"; }

# shmctl, bounded: a daemon that stops answering fails the test instead of hanging it.
shmctl() { timeout 30 "$SHMCTL_BIN" "$@"; }

# Wait (up to 30 s) until shmctl gets an answer on SOCKET, while PID lives. 0 or 1.
wait_serving() {
	local sock=$1 pid=$2 deadline=$((SECONDS + 30))
	while ((SECONDS < deadline)); do
		if [[ -S $sock ]] && timeout 5 "$SHMCTL_BIN" -S "$sock" status >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.02
	done
	return 1
}

# Wait (up to 30 s) for PID, a child of this shell, to exit; its status in WAIT_STATUS.
# 0 when it exited, 1 on timeout (it is then killed).
wait_exit() {
	local pid=$1 deadline=$((SECONDS + 30))
	while ((SECONDS < deadline)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.02
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null
		WAIT_STATUS=timeout
		return 1
	fi
	wait "$pid"
	WAIT_STATUS=$?
	return 0
}
