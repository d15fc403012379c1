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

# ---- A private "systemd --user" manager, as root in a mount namespace of its own (used by
# test-user-manager.sh, which says the why of each step, test-restart-systemd.sh and
# test-unit-quota.sh). Never a system manager: its tmpfiles run would empty the host's /tmp.

# Outside the namespace: skip unless root with /lib/systemd/systemd and the commands given,
# then run this script again with --inner in a private mount namespace and exit with its
# status. Call it unless "$1" is --inner.
usermgr_reexec() {
	local cmd
	[[ $(id -u) == 0 ]] || skip_all "needs root (mount namespace, cgroup, a root user manager)"
	for cmd in unshare systemctl "$@"; do
		command -v "$cmd" >/dev/null || skip_all "$cmd not installed"
	done
	[[ -x /lib/systemd/systemd ]] || skip_all "/lib/systemd/systemd not installed"
	unshare -m --propagation private true 2>/dev/null ||
		skip_all "cannot make a mount namespace here"
	SHMD_TEST_DIR=$TEST_DIR unshare -m --propagation private "$BASH" "$0" --inner
	exit
}

# Inside: the manager's runtime directory, its pid once started, our cgroup.
xdg=/run
manager=
cg=

# Stop the manager, then kill whatever it left in our cgroup (all ours) and remove it.
usermgr_cleanup() {
	if [[ -n $manager ]] && kill -0 "$manager" 2>/dev/null; then
		kill -TERM "$manager"
		wait_exit "$manager" || true
	fi
	if [[ -n $cg && -d $cg ]]; then
		echo $$ >/sys/fs/cgroup/cgroup.procs
		[[ -e $cg/cgroup.kill ]] && echo 1 >"$cg/cgroup.kill"
		sleep 0.1
		find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
	fi
}

# tmpfs over /run, cgroup2 over /sys/fs/cgroup and a NAME.slice of our own that this shell
# enters; with "rundir", also a tmpfs over the runtime directory of shmd.socket's
# ListenStream= (configure --with-rundir) when it is not /run, and $sock set to it. Skips
# the test when any step fails.
usermgr_mounts() {
	if ! mount -t tmpfs -o mode=0755 tmpfs /run 2>/dev/null ||
		! mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null; then
		skip_all "cannot mount tmpfs on /run or cgroup2 on /sys/fs/cgroup"
	fi
	if [[ ${1:-} == rundir ]]; then
		sock=$(sed -n 's/^ListenStream=//p' "$SHMD_BUILDDIR/systemd/shmd.socket")
		local rundir=${sock%/shmd/io.shmd.Manager}
		if [[ $rundir != /run && $(realpath -m "$rundir") != /run ]]; then
			[[ -d $rundir ]] ||
				skip_all "the runtime directory $rundir (--with-rundir) does not exist"
			mount -t tmpfs -o mode=0755 tmpfs "$rundir" ||
				skip_all "cannot mount tmpfs on the runtime directory $rundir"
		fi
	fi
	cg=/sys/fs/cgroup/shmd-test-${TEST_DIR##*.}.slice
	if ! mkdir "$cg" || ! echo $$ >"$cg/cgroup.procs"; then
		cg=
		skip_all "cannot make a cgroup of our own"
	fi
}

# What PID 1 makes at boot (a root manager maps InaccessiblePaths=, ProtectHome= and friends
# onto these), and $TEST_DIR/units with stub targets and the stock units of exit.target.
usermgr_units() {
	local i=/run/systemd/inaccessible t
	mkdir -p /run/systemd/system
	mkdir -p $i && mkdir -m 0 $i/dir && install -m 0 /dev/null $i/reg && mkfifo -m 0 $i/fifo &&
		mknod -m 0 $i/chr c 0 0 && mknod -m 0 $i/blk b 0 0 &&
		python3 -c 'import os, stat, sys; os.mknod(sys.argv[1], stat.S_IFSOCK)' $i/sock &&
		chmod 0 $i/sock
	mkdir "$TEST_DIR/units"
	for t in default basic sockets timers paths; do
		printf '[Unit]\nDescription=%s (stub)\nDefaultDependencies=no\n' "$t" \
			>"$TEST_DIR/units/$t.target"
	done
	cp /usr/lib/systemd/user/exit.target /usr/lib/systemd/user/shutdown.target \
		/usr/lib/systemd/user/systemd-exit.service "$TEST_DIR/units/"
}

# shmd.socket and shmd.service of this build, running /run/shmd-test/shmd (where the sandbox
# lets it be executed: PrivateTmp= hides /tmp and ProtectHome= home directories, where a
# build tree may live). A sanitizer build gets ASAN_OPTIONS=detect_leaks=0: LeakSanitizer's
# exit check needs ptrace(2), which the unit's seccomp filter refuses. Drop-ins go in
# $TEST_DIR/units/shmd.service.d.
usermgr_shmd_units() {
	mkdir -p /run/shmd-test "$TEST_DIR/units/shmd.service.d"
	install -m 0755 "$SHMD_BIN" /run/shmd-test/shmd
	cp "$SHMD_BUILDDIR/systemd/shmd.socket" "$TEST_DIR/units/"
	sed "s|^ExecStart=[^ ]*|ExecStart=/run/shmd-test/shmd|" \
		"$SHMD_BUILDDIR/systemd/shmd.service" >"$TEST_DIR/units/shmd.service"
	if grep -qa __asan_init "$SHMD_BIN"; then
		printf '[Service]\nEnvironment=ASAN_OPTIONS=detect_leaks=0\n' \
			>"$TEST_DIR/units/shmd.service.d/asan.conf"
	fi
}

# Start "systemd --user" (XDG_RUNTIME_DIR and SYSTEMD_UNIT_PATH exported by the caller) and
# wait for its private socket: one test point; $manager is its pid.
usermgr_start() {
	local n
	/lib/systemd/systemd --user >"$TEST_DIR/manager.log" 2>&1 &
	manager=$!
	for ((n = 0; n < 1500; n++)); do
		[[ -S $xdg/systemd/private ]] && break
		kill -0 "$manager" 2>/dev/null || break
		sleep 0.02
	done
	[[ -S $xdg/systemd/private ]]
	local rc=$?
	ok $rc "a private systemd --user manager runs (pid $manager)"
	((rc == 0)) || diag_file "$TEST_DIR/manager.log"
}
