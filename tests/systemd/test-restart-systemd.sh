#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Regions through restarts under a private "systemd --user" manager (the recipe of
# test-user-manager.sh: root, its own mount namespace and cgroup, never a system manager):
# socket activation and readiness, then "systemctl restart" and kill -9 with
# Restart=on-failure while 8 clients create, write, stat and delete; afterwards every region
# is listed as its client left it (metadata and content checksum), nothing lost or doubled.
# daemon-reload and daemon-reexec keep the regions; stop then start flushes them (v252).
. "$SHMD_SRCDIR/tests/systemd/lib.sh" || exit 99

[[ ${1:-} == --inner ]] || usermgr_reexec python3

# ---- inside the private mount namespace (see test-user-manager.sh for the why of each step).
trap 'usermgr_cleanup; cleanup' EXIT
usermgr_mounts rundir

plan 16

usermgr_units
usermgr_shmd_units

export XDG_RUNTIME_DIR=$xdg SYSTEMD_UNIT_PATH=$TEST_DIR/units SHMD_SOCKET=$sock
unset DBUS_SESSION_BUS_ADDRESS
usermgr_start

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
