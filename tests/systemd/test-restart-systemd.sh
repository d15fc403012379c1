#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Regions through restarts under a private "systemd --user" manager (the recipe of
# test-user-manager.sh: root, its own mount namespace and cgroup, never a system manager):
# socket activation and readiness, then "systemctl restart" and kill -9 with
# Restart=on-failure while 8 clients create, write, stat and delete; afterwards every region
# is listed as its client left it (metadata and content checksum), nothing lost or doubled.
# daemon-reload and daemon-reexec keep the regions; stop then start flushes them (v252).
. "$SHMD_SRCDIR/tests/systemd/lib.sh" || exit 99

if [[ ${1:-} != --inner ]]; then
	[[ $(id -u) == 0 ]] || skip_all "needs root (mount namespace, cgroup, a root user manager)"
	for cmd in unshare systemctl python3; do
		command -v "$cmd" >/dev/null || skip_all "$cmd not installed"
	done
	[[ -x /lib/systemd/systemd ]] || skip_all "/lib/systemd/systemd not installed"
	unshare -m --propagation private true 2>/dev/null ||
		skip_all "cannot make a mount namespace here"
	SHMD_TEST_DIR=$TEST_DIR unshare -m --propagation private "$BASH" "$0" --inner
	exit
fi

# ---- inside the private mount namespace (see test-user-manager.sh for the why of each step).
systemd=/lib/systemd/systemd
xdg=/run
cg=
manager=
inner_cleanup() {
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
trap 'inner_cleanup; cleanup' EXIT

if ! mount -t tmpfs -o mode=0755 tmpfs /run 2>/dev/null ||
	! mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null; then
	skip_all "cannot mount tmpfs on /run or cgroup2 on /sys/fs/cgroup"
fi
sock=$(sed -n 's/^ListenStream=//p' "$SHMD_BUILDDIR/systemd/shmd.socket")
rundir=${sock%/shmd/io.shmd.Manager}
if [[ $rundir != /run && $(realpath -m "$rundir") != /run ]]; then
	[[ -d $rundir ]] || skip_all "the runtime directory $rundir (--with-rundir) does not exist"
	mount -t tmpfs -o mode=0755 tmpfs "$rundir" ||
		skip_all "cannot mount tmpfs on the runtime directory $rundir"
fi
cg=/sys/fs/cgroup/shmd-test-${TEST_DIR##*.}.slice
if ! mkdir "$cg" || ! echo $$ >"$cg/cgroup.procs"; then
	cg=
	skip_all "cannot make a cgroup of our own"
fi

plan 16

mkdir -p /run/systemd/system /run/shmd-test
i=/run/systemd/inaccessible
mkdir -p $i && mkdir -m 0 $i/dir && install -m 0 /dev/null $i/reg && mkfifo -m 0 $i/fifo &&
	mknod -m 0 $i/chr c 0 0 && mknod -m 0 $i/blk b 0 0 &&
	python3 -c 'import os, stat, sys; os.mknod(sys.argv[1], stat.S_IFSOCK)' $i/sock &&
	chmod 0 $i/sock
install -m 0755 "$SHMD_BIN" /run/shmd-test/shmd
mkdir "$TEST_DIR/units"
for t in default basic sockets timers paths; do
	printf '[Unit]\nDescription=%s (stub)\nDefaultDependencies=no\n' "$t" \
		>"$TEST_DIR/units/$t.target"
done
cp /usr/lib/systemd/user/exit.target /usr/lib/systemd/user/shutdown.target \
	/usr/lib/systemd/user/systemd-exit.service "$TEST_DIR/units/"
cp "$SHMD_BUILDDIR/systemd/shmd.socket" "$TEST_DIR/units/"
sed "s|^ExecStart=[^ ]*|ExecStart=/run/shmd-test/shmd|" "$SHMD_BUILDDIR/systemd/shmd.service" \
	>"$TEST_DIR/units/shmd.service"
if grep -qa __asan_init "$SHMD_BIN"; then
	mkdir "$TEST_DIR/units/shmd.service.d"
	printf '[Service]\nEnvironment=ASAN_OPTIONS=detect_leaks=0\n' \
		>"$TEST_DIR/units/shmd.service.d/asan.conf"
fi

export XDG_RUNTIME_DIR=$xdg SYSTEMD_UNIT_PATH=$TEST_DIR/units SHMD_SOCKET=$sock
unset DBUS_SESSION_BUS_ADDRESS
$systemd --user >"$TEST_DIR/manager.log" 2>&1 &
manager=$!
for ((n = 0; n < 1500; n++)); do
	[[ -S $xdg/systemd/private ]] && break
	kill -0 "$manager" 2>/dev/null || break
	sleep 0.02
done
[[ -S $xdg/systemd/private ]]
ok $? "a private systemd --user manager runs (pid $manager)"

prop() { systemctl --user show -p "$2" --value "$1"; }
load=$SHMD_BUILDDIR/tests/libshmd/restart-load

systemctl --user start shmd.socket && shmctl status >/dev/null
ok $? "socket activation: the first connection starts shmd.service"
is "$(prop shmd.service ActiveState)" active "Type=notify: active once READY=1 arrived"
pid1=$(prop shmd.service MainPID)

mkdir "$TEST_DIR/load"
"$load" run "$TEST_DIR/load" 5 8 2>"$TEST_DIR/load.err" &
loader=$!
TEST_PIDS+=("$loader")
sleep 1.5
systemctl --user restart shmd.service
ok $? "systemctl restart under load"
pid2=$(prop shmd.service MainPID)
sleep 1.5
kill -KILL "$pid2"
wait "$loader"
ok $? "8 clients ran through a restart and a kill -9 without an unexpected error"
diag_file "$TEST_DIR/load.err"
for ((n = 0; n < 500; n++)); do
	[[ $(prop shmd.service ActiveState) == active && $(prop shmd.service MainPID) != "$pid2" ]] && break
	sleep 0.02
done
[[ $(prop shmd.service NRestarts) -ge 1 && $(prop shmd.service MainPID) != "$pid2" &&
	$pid2 != "$pid1" ]]
ok $? "Restart=on-failure restarted the killed daemon (pids $pid1, $pid2, $(prop shmd.service MainPID))"
out=$("$load" verify "$TEST_DIR/load" 8 2>"$TEST_DIR/verify.err")
ok $? "every region listed as its client left it, content included: $out"
diag_file "$TEST_DIR/verify.err"
before=$(shmctl -r -n -o NAME,ID,SIZE,MODE ls | md5sum)
n=$(shmctl -r -n -o NAME ls | wc -l)
[[ $n -gt 10 ]]
ok $? "a real load: $n regions"

systemctl --user daemon-reload
pid3=$(prop shmd.service MainPID)
is "$(shmctl -r -n -o NAME,ID,SIZE,MODE ls | md5sum)" "$before" "daemon-reload keeps the daemon and its regions"
systemctl --user daemon-reexec
sleep 0.5
systemctl --user restart shmd.service
is "$(shmctl -r -n -o NAME,ID,SIZE,MODE ls | md5sum)" "$before" \
	"daemon-reexec keeps the fd store: a restart after it has every region"
[[ $(prop shmd.service MainPID) != "$pid3" ]]
ok $? "(that was a new daemon)"
is "$(prop shmd.service NFileDescriptorStore)" $((n + 1)) \
	"the fd store holds one memfd per region and the state, no more"

systemctl --user stop shmd.service
shmctl -r -n ls >"$TEST_DIR/after-stop"
is "$?:$(wc -l <"$TEST_DIR/after-stop")" "0:0" "stop then start flushes the fd store (systemd < 254): no regions"
shmctl create again 4K && shmctl -r -n -o NAME ls | grep -qx again
ok $? "and the fresh daemon serves"

# A store too small (FileDescriptorStoreMax=4: the state and three regions): systemd
# drops the other fds, so after a restart three regions have metadata but no fd. They are
# dropped (one log line each), the daemon runs on with the others.
mkdir -p "$TEST_DIR/units/shmd.service.d"
printf '[Service]\nFileDescriptorStoreMax=4\n' >"$TEST_DIR/units/shmd.service.d/small.conf"
systemctl --user daemon-reload
systemctl --user restart shmd.service
shmctl rm again
for i in 1 2 3 4 5 6; do shmctl create "small/$i" 4K; done
systemctl --user restart shmd.service
is "$(shmctl -r -n -o NAME ls small/ | tr '\n' ' ')" "small/1 small/2 small/3 " \
	"metadata without a stored fd: those regions dropped, the others restored"
is "$(prop shmd.service ActiveState) $(prop shmd.service NFileDescriptorStore)" "active 4" \
	"the daemon serves (no crash), the store as it was"

if [[ $TAP_FAILED != 0 ]]; then
	diag_file "$TEST_DIR/manager.log"
	systemctl --user status --no-pager shmd.service shmd.socket 2>&1 | sed 's/^/# /'
fi
done_testing
