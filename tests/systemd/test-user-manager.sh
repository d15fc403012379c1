#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The units for real: a private "systemd --user" manager, run as root in its own mount
# namespace (tmpfs over /run, cgroup2 over /sys/fs/cgroup with a NAME.slice of its own),
# loads only shmd.socket, shmd.service and stub targets, and starts them. This is where
# every hardening option of shmd.service is checked to leave the daemon working: socket
# activation, Type=notify readiness, regions for another user (CAP_CHOWN, re-open through
# /proc/self/fd), the capability, seccomp and rlimit settings, a clean stop and
# re-activation, the watchdog, a client's unit seen through /proc with the unit's ProcSubset=,
# and the group-only socket of shmd(8). Never a system manager: that would run tmpfiles over
# the host.
. "$SHMD_SRCDIR/tests/systemd/lib.sh" || exit 99

[[ ${1:-} == --inner ]] || usermgr_reexec setpriv python3

# ---- inside the private mount namespace: nothing mounted here is seen outside.
# The runtime directory is /run, as for the system manager (xdg, lib.sh): RuntimeDirectory=shmd
# is then /run/shmd, the notify socket /run/systemd/notify (under /run/user, ProtectHome=
# would hide it). A runtime directory other than /run (--with-rundir) gets a tmpfs too, or the
# socket unit would leave its directory on the host.
nobody_bin=
trap 'usermgr_cleanup; [[ -z $nobody_bin ]] || rm -rf "$nobody_bin"; cleanup' EXIT
usermgr_mounts rundir

plan 32

usermgr_units
usermgr_shmd_units
# A watchdog short enough to miss within the test: the pings must come from the loop.
printf '[Service]\nWatchdogSec=3s\n' >"$TEST_DIR/units/shmd.service.d/watchdog.conf"

# nobody may not be able to enter the build tree: run a copy staged in a 0755 directory.
nobody_bin=$(mktemp -d "${TMPDIR:-/tmp}/shmd-nobody.XXXXXX")
nobody_cmd=$("$SHMD_SRCDIR/tests/common/stage-for-nobody.sh" "$nobody_bin")
# A client that runs as a unit of its own, as nobody: the daemon finds its unit through
# /proc/PID/cgroup (sd_pid_get_unit()) under the ProcSubset=/ProtectProc= of shmd.service.
cat >"$TEST_DIR/units/shmd-client.service" <<EOF
[Unit]
Description=A shmd client as a unit (test)
DefaultDependencies=no
[Service]
Type=oneshot
ExecStart=$(command -v setpriv) --reuid=65534 --regid=65534 --clear-groups $nobody_cmd create um/from-unit 4K
EOF

export XDG_RUNTIME_DIR=$xdg SYSTEMD_UNIT_PATH=$TEST_DIR/units
unset SHMD_SOCKET DBUS_SESSION_BUS_ADDRESS
# A session bus of our own, when dbus-daemon is installed: "systemd-analyze --user security"
# asks the manager for the unit's settings over D-Bus (the private socket is not enough).
if command -v dbus-daemon >/dev/null; then
	dbus-daemon --session --address="unix:path=$xdg/bus" --nofork --nopidfile \
		>"$TEST_DIR/dbus.log" 2>&1 &
	TEST_PIDS+=("$!")
	for ((n = 0; n < 500; n++)); do
		[[ -S $xdg/bus ]] && break
		sleep 0.02
	done
fi
usermgr_start

prop() { systemctl --user show -p "$2" --value "$1"; }
nobody_shmctl() {
	# shellcheck disable=SC2086 # "env LD_LIBRARY_PATH=DIR DIR/shmctl": words on purpose
	setpriv --reuid=65534 --regid=65534 --clear-groups timeout 30 $nobody_cmd "$@"
}

systemctl --user start shmd.socket
ok $? "systemctl start shmd.socket"
is "$(stat -c %A "$sock" 2>&1)" "srw-rw-rw-" "the socket is bound, mode 0666"
is "$(prop shmd.service ActiveState)" inactive "the service waits for a connection"

shmctl status >"$TEST_DIR/status" 2>&1
ok $? "the first connection starts shmd.service and is served"
is "$(prop shmd.service ActiveState)" active "Type=notify: active once READY=1 arrived"
status=$(prop shmd.service StatusText)
[[ $status == "Serving socket-activated listeners, up to "*" regions" ]]
ok $? "STATUS= reached the manager: $status"
pid=$(prop shmd.service MainPID)

shmctl create um/root 64K && nobody_shmctl create um/nobody 64K
ok $? "regions created by root and by nobody"
is "$(shmctl -r -n -o NAME,OWNER ls um/ 2>&1 | tr '\n' ' ')" \
	"um/nobody nobody um/root root " "nobody's region is nobody's (CAP_CHOWN)"
nobody_shmctl open um/nobody >/dev/null &&
	nobody_shmctl open --ro um/nobody >/dev/null
ok $? "nobody opens its region read-write and read-only (re-open through /proc/self/fd)"
nobody_shmctl open um/root >/dev/null 2>&1
ok $((!$?)) "nobody cannot open root's 0600 region"

# 0xb: CAP_CHOWN (0), CAP_DAC_OVERRIDE (1), CAP_FOWNER (3).
is "$(sed -n 's/^CapEff:\t//p' /proc/"$pid"/status)" 000000000000000b "effective: chown, dac_override, fowner"
is "$(sed -n 's/^CapBnd:\t//p' /proc/"$pid"/status)" 000000000000000b "bounding set: the same three"
is "$(sed -n 's/^NoNewPrivs:\t//p; s/^Seccomp:\t//p' /proc/"$pid"/status | tr '\n' ' ')" "1 2 " \
	"no new privileges, a seccomp filter"
[[ $(readlink /proc/"$pid"/ns/mnt) != $(readlink /proc/self/ns/mnt) &&
	$(readlink /proc/"$pid"/ns/net) != $(readlink /proc/self/ns/net) ]]
ok $? "own mount namespace (ProtectSystem= and friends) and network namespace"

# LimitNOFILE=65536, or as close as the manager may go (systemd clamps to its own hard
# limit when it lacks CAP_SYS_RESOURCE, as in a container).
read -r _ _ _ soft hard _ < <(grep "^Max open files" /proc/"$pid"/limits)
read -r _ _ _ _ mhard _ < <(grep "^Max open files" /proc/"$manager"/limits)
want=$((mhard < 65536 ? mhard : 65536))
[[ $soft == "$hard" && $hard -ge $want ]]
ok $? "RLIMIT_NOFILE $soft:$hard (unit 65536, manager's hard limit $mhard)"
# limits.c: less 256 connections, 32 + 32 reserved, a 16th for descriptors in flight.
pending=$((hard / 16 < 256 * 81 ? hard / 16 : 256 * 81))
is "$(sed -n 's/^Max regions: *//p' "$TEST_DIR/status")" $((hard - 256 - 64 - pending)) \
	"max regions = RLIMIT_NOFILE - 256 connections - 64 - a 16th in flight"

# The exposure of the unit as the manager loaded it: 1.3 when written, as offline in
# test-units.sh (shmd(8) records both).
if [[ -S $xdg/bus ]]; then
	systemd-analyze --user security --threshold=20 shmd.service >"$TEST_DIR/security" 2>&1
	ok $? "systemd-analyze --user security of the running unit: at most 2.0"
	grep "Overall exposure" "$TEST_DIR/security" | sed 's/^/# /'
else
	skip "dbus-daemon not installed: no session bus for systemd-analyze --user security"
fi

systemctl --user start shmd-client.service
ok $? "a client runs as shmd-client.service (as nobody)"
is "$(shmctl -r -n -o NAME,CUID,UNIT ls um/from-unit 2>&1)" "um/from-unit 65534 shmd-client.service" \
	"its region's creator unit is that unit (/proc/PID/cgroup read under ProtectProc=, ProcSubset=)"

is "$(prop shmd.service DevicePolicy) $(prop shmd.service PrivateMounts) $(prop shmd.service ProtectProc) $(prop shmd.service ProcSubset)" \
	"closed yes invisible pid" \
	"loaded with DevicePolicy=closed, PrivateMounts=yes, ProtectProc=invisible, ProcSubset=pid"
[[ -n $(prop shmd.service IPAddressDeny) ]]
ok $? "and IPAddressDeny=any ($(prop shmd.service IPAddressDeny))"

# OOMScoreAdjust=-900, where the manager may lower it (it needs CAP_SYS_RESOURCE; without it
# systemd goes on without, as in a container).
capeff=$(sed -n 's/^CapEff:\t//p' /proc/"$manager"/status)
if (((0x$capeff >> 24) & 1)); then
	is "$(cat /proc/"$pid"/oom_score_adj)" -900 "OOMScoreAdjust=-900"
else
	skip "the manager has no CAP_SYS_RESOURCE to lower oom_score_adj (it is $(cat /proc/"$pid"/oom_score_adj))"
fi

is "$(prop shmd.service WatchdogUSec)" 3s "WatchdogSec=3s (the test's drop-in; the unit says 30s)"
ping1=$(prop shmd.service WatchdogTimestampMonotonic)
sleep 3.5
ping2=$(prop shmd.service WatchdogTimestampMonotonic)
((ping1 > 0 && ping2 > ping1)) && [[ $(prop shmd.service MainPID) == "$pid" ]] &&
	[[ $(prop shmd.service ActiveState) == active ]]
ok $? "the event loop pings the watchdog: still the same daemon after 3.5 s ($ping1 -> $ping2)"

systemctl --user stop shmd.service 2>/dev/null
is "$(prop shmd.service Result) $(prop shmd.service ExecMainStatus)" "success 0" \
	"systemctl stop: SIGTERM, exit status 0"
[[ -S $sock ]]
ok $? "the socket survives the stop (RuntimeDirectoryPreserve=)"
out=$(shmctl -r -n ls 2>&1)
is "$?:$out" "0:" "the next connection starts a fresh daemon (no regions)"
[[ $(prop shmd.service MainPID) != "$pid" && $(prop shmd.service NRestarts) == 0 ]]
ok $? "a new main pid, no restarts"

# The group-only socket of shmd(8): a drop-in with SocketGroup= and SocketMode=0660 (the
# group "shmd" there; nogroup here, which nobody's gid is and another uid's is not).
systemctl --user stop shmd.service shmd.socket 2>/dev/null
mkdir "$TEST_DIR/units/shmd.socket.d"
printf '[Socket]\nSocketGroup=nogroup\nSocketMode=0660\n' >"$TEST_DIR/units/shmd.socket.d/group.conf"
systemctl --user daemon-reload && systemctl --user start shmd.socket
is "$(stat -c '%A %G' "$sock" 2>&1)" "srw-rw---- nogroup" "a drop-in makes the socket 0660, group nogroup"
nobody_shmctl status >/dev/null
ok $? "a member of the group is served"
# shellcheck disable=SC2086 # a command line
setpriv --reuid=4242 --regid=4242 --clear-groups timeout 30 $nobody_cmd status >/dev/null 2>&1
is $? 7 "another user cannot connect (shmctl exit 7)"

if [[ $TAP_FAILED != 0 ]]; then
	diag_file "$TEST_DIR/manager.log"
	systemctl --user status --no-pager shmd.service shmd.socket 2>&1 | sed 's/^/# /'
fi
done_testing
