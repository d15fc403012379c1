# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by the shmctl bats tests: a private shmd per test, golden-file comparison, helpers.

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

: "${SHMD_BIN:?SHMD_BIN must point at the shmd binary (make check sets it)}"
: "${SHMCTL_BIN:?SHMCTL_BIN must point at the shmctl binary (make check sets it)}"
: "${SHMD_SRCDIR:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
EXPECTED_DIR="$SHMD_SRCDIR/tests/bats/expected"

shmctl() {
	"$SHMCTL_BIN" "$@"
}

# Run shmctl as nobody (needs root; callers skip otherwise): a copy staged in this test's
# 0755 directory, since nobody may not be able to enter the build tree.
shmctl_as_nobody() {
	if [[ -z ${NOBODY_SHMCTL:-} ]]; then
		NOBODY_SHMCTL=$("$SHMD_SRCDIR/tests/common/stage-for-nobody.sh" "$SHMD_TEST_DIR/bin")
	fi
	# shellcheck disable=SC2086 # "env LD_LIBRARY_PATH=DIR DIR/shmctl": words on purpose
	setpriv --reuid=65534 --regid=65534 --clear-groups $NOBODY_SHMCTL "$@"
}

require_root() {
	[[ $(id -u) == 0 ]] || skip "needs root to run as another user"
}

# Start a private daemon on $SHMD_TEST_DIR/sock and export SHMD_SOCKET.
shmd_start() {
	SHMD_TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/shmctl-bats.XXXXXX")
	# Other users must reach the socket for the permission tests.
	chmod 0755 "$SHMD_TEST_DIR"
	# fd 3 is bats' own: a daemon holding it would make bats wait forever.
	$SHMD_TEST_WRAPPER "$SHMD_BIN" --socket "$SHMD_TEST_DIR/sock" "$@" \
		>"$SHMD_TEST_DIR/log" 2>&1 3>&- &
	SHMD_PID=$!
	export SHMD_SOCKET="$SHMD_TEST_DIR/sock"
	local i
	for ((i = 0; i < 1500; i++)); do
		if [[ -S $SHMD_SOCKET ]] && "$SHMCTL_BIN" status >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$SHMD_PID" 2>/dev/null || break
		sleep 0.02
	done
	echo "shmd did not come up; its log:" >&2
	cat "$SHMD_TEST_DIR/log" >&2
	return 1
}

# Stop THAT daemon with SIGTERM and check it exits cleanly.
shmd_stop() {
	local rc=0
	if [[ -n ${SHMD_PID:-} ]]; then
		kill -TERM "$SHMD_PID" 2>/dev/null || true
		wait "$SHMD_PID" || rc=$?
		SHMD_PID=
	fi
	if ((rc != 0)); then
		echo "shmd exited with status $rc; its log:" >&2
		cat "$SHMD_TEST_DIR/log" >&2
	fi
	rm -rf "$SHMD_TEST_DIR"
	NOBODY_SHMCTL=
	return "$rc"
}

setup() {
	shmd_start
}

teardown() {
	shmd_stop
}

# Replace what varies between runs with placeholders (util-linux tests/expected style).
# The exec seal is dropped from seal lists: the daemon adds it only where the kernel has
# MFD_NOEXEC_SEAL (6.3+), so it says more about the kernel than about shmctl.
normalize() {
	sed -E \
		-e 's/,exec( |$)/\1/g' \
		-e 's/(^| |:)exec( |$)/\1-\2/g' \
		-e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{6}Z)?/<TIME>/g' \
		-e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}\\x20[0-9]{2}:[0-9]{2}:[0-9]{2}/<TIME>/g' \
		-e 's/^(Creator PID: +)[0-9]+$/\1<PID>/' \
		-e 's/^(Creator UID: +)[0-9]+$/\1<UID>/' \
		-e 's/^(Owner: +).*$/\1<USER>/' \
		-e 's/^(Group: +).*$/\1<GROUP>/' \
		-e "/^(Owner|Group):/!s/(^| )$(id -un)( |$)/\1<USER>\2/" \
		-e "/^(Owner|Group):/!s/(^| )$(id -gn)( |$)/\1<GROUP>\2/"
}

# Compare stdin, normalised, with tests/bats/expected/NAME.txt; show a diff on mismatch.
assert_golden() {
	local name=$1 got
	got=$(normalize)
	if ! diff -u "$EXPECTED_DIR/$name.txt" <(printf '%s\n' "$got") >&2; then
		echo "output differs from expected/$name.txt (see the diff above)" >&2
		return 1
	fi
}

# A few regions with known names, sizes, modes and seals.
make_regions() {
	shmctl create vm1/ram 1.5G --mode 0640
	shmctl create vm1/rom 64K --fixed --seal write
	shmctl create "with space" 4096
	shmctl create vm2/ram 2G --mode 0600 --seal grow
}
