#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Quotas per systemd unit, for real: clients run as units of a private "systemd --user"
# manager (the recipe of test-user-manager.sh: root, own mount namespace, cgroup2, a slice
# of our own) and are charged to their unit; a [Unit] glob matches; shmctl quota shows usage
# by unit; a connection inherited across fork() into another unit charges the sender's unit.
# (The manager takes this script into its init.scope: that is the unit of what it runs.)
. "$SHMD_SRCDIR/tests/systemd/lib.sh" || exit 99

[[ ${1:-} == --inner ]] || usermgr_reexec systemd-run python3

# ---- inside the private mount namespace: nothing mounted here is seen outside.
daemon=
daemon_cleanup() {
	if [[ -n $daemon ]] && kill -0 "$daemon" 2>/dev/null; then
		kill -TERM "$daemon"
		wait_exit "$daemon" || true
	fi
}
trap 'daemon_cleanup; usermgr_cleanup; cleanup' EXIT
usermgr_mounts

plan 19

usermgr_units
export XDG_RUNTIME_DIR=$xdg SYSTEMD_UNIT_PATH=$TEST_DIR/units
unset SHMD_SOCKET DBUS_SESSION_BUS_ADDRESS
usermgr_start

cat >"$TEST_DIR/shmd.conf" <<'END'
[Unit qemu@vm1.service]
MemoryMax=1M
[Unit qemu@*.service]
MemoryMax=2M
[AnyUnit]
RegionsMax=2
END
sock=$TEST_DIR/sock
"$SHMD_BIN" --socket "$sock" --config "$TEST_DIR/shmd.conf" >"$TEST_DIR/shmd.log" 2>&1 &
daemon=$!
wait_serving "$sock" "$daemon"
ok $? "shmd serves on $sock with per-unit quotas"

# shmctl run as the transient unit $1; its output and exit status come back through files
# (systemd-run --wait/--pipe need a D-Bus bus, which this manager has not).
run=0
as_unit() {
	local unit=$1 out=$TEST_DIR/run$((++run))
	shift
	systemd-run --user --quiet --collect --unit "$unit" /bin/sh -c \
		'"$@" >"$0.out" 2>&1; echo $? >"$0.tmp" && mv "$0.tmp" "$0.status"' \
		"$out" "$SHMCTL_BIN" -S "$sock" "$@" || return 99
	# Done when the manager has collected the unit (its name is free again).
	for ((n = 0; n < 1500; n++)); do
		[[ -e $out.status &&
			$(systemctl --user show -p LoadState --value "$unit") == not-found ]] && break
		sleep 0.02
	done
	cat "$out.out" 2>/dev/null
	return "$(cat "$out.status" 2>/dev/null || echo 98)"
}

as_unit qemu@vm1.service create vm1/a 768K
ok $? "qemu@vm1.service creates vm1/a (768K of its 1M)"
is "$(shmctl -S "$sock" -r -n -o NAME,UNIT ls vm1/)" "vm1/a qemu@vm1.service" \
	"the region's creator unit is qemu@vm1.service"
out=$(as_unit qemu@vm1.service create vm1/b 512K 2>&1)
is "$?:$out" "8:shmctl: cannot create 'vm1/b': quota exceeded for unit qemu@vm1.service: 768.0K used + 512.0K requested > 1.0M" \
	"the exact [Unit qemu@vm1.service] limit refuses 512K more"
as_unit qemu@vm2.service create vm2/a 1536K
ok $? "qemu@vm2.service creates 1.5M (the glob allows 2M)"
out=$(as_unit qemu@vm2.service create vm2/b 1M 2>&1)
is "$?:$out" "8:shmctl: cannot create 'vm2/b': quota exceeded for unit qemu@vm2.service: 1.5M used + 1.0M requested > 2.0M" \
	"the glob qemu@*.service matches qemu@vm2.service"
as_unit other.service create o/1 1K && as_unit other.service create o/2 1K
ok $? "other.service creates two regions"
out=$(as_unit other.service create o/3 1K 2>&1)
is "$?:$out" "8:shmctl: cannot create 'o/3': quota exceeded for unit other.service: 2 regions used + 1 requested > 2" \
	"[AnyUnit] RegionsMax=2 holds for other.service"
shmctl -S "$sock" create other 4M
ok $? "this script, in the manager's init.scope, creates 4M (no byte limit there)"

quota=$(shmctl -S "$sock" -r -n -o TYPE,SUBJECT,USED,LIMIT,USE% quota)
while read -r line; do diag "$line"; done <<<"$quota"
grep -qx "unit qemu@vm1.service 768.0K 1.0M 75%" <<<"$quota"
ok $? "shmctl quota: qemu@vm1.service 768.0K of 1.0M, 75%"
grep -qx "unit qemu@vm2.service 1.5M 2.0M 75%" <<<"$quota"
ok $? "shmctl quota: qemu@vm2.service 1.5M of 2.0M (the glob's limit)"
grep -qx "unit other.service 2.0K - -" <<<"$quota"
ok $? "shmctl quota: other.service 2.0K, no byte limit"

# A connection made in init.scope, inherited by a child that moves into qemu@vm3.service.
systemd-run --user --quiet --collect --unit qemu@vm3.service sleep 300
path=$(systemctl --user show -p ControlGroup --value qemu@vm3.service)
reply=$(timeout 30 python3 "$SHMD_SRCDIR/tests/systemd/fork-client.py" "$sock" \
	"/sys/fs/cgroup$path" fork/x 65536)
[[ -n $path && $reply != *error* ]]
ok $? "a forked child in qemu@vm3.service creates fork/x on its parent's connection"
is "$(shmctl -S "$sock" -r -n -o NAME,UNIT ls fork/)" "fork/x qemu@vm3.service" \
	"fork/x is the child's unit's, not the connection's (init.scope)"
grep -qx "unit qemu@vm3.service 64.0K 2.0M 3%" <(shmctl -S "$sock" -r -n -o TYPE,SUBJECT,USED,LIMIT,USE% quota)
ok $? "and charged to qemu@vm3.service"
systemctl --user stop qemu@vm3.service

# systemctl reload of a Type=notify service with shmd.service's ExecReload=: the daemon answers
# RELOADING=1 then READY=1, and the new limits apply.
cat >"$TEST_DIR/reload.conf" <<'END'
[User 0]
MemoryMax=1M
END
rsock=$TEST_DIR/reload.sock
systemd-run --user --quiet --unit shmd-reload.service -p Type=notify \
	-p 'ExecReload=/bin/kill -HUP $MAINPID' \
	"$SHMD_BIN" --socket "$rsock" --config "$TEST_DIR/reload.conf"
[[ $(systemctl --user show -p ActiveState --value shmd-reload.service) == active ]] &&
	wait_serving "$rsock" "$(systemctl --user show -p MainPID --value shmd-reload.service)"
ok $? "shmd as a Type=notify unit is active"
printf '[User 0]\nMemoryMax=3M\n' >"$TEST_DIR/reload.conf"
timeout 30 systemctl --user reload shmd-reload.service &&
	[[ $(systemctl --user show -p ActiveState --value shmd-reload.service) == active ]]
ok $? "systemctl reload returns once the daemon said READY=1 again, still active"
is "$(shmctl -S "$rsock" -r -n -o TYPE,SUBJECT,LIMIT quota | grep '^user')" "user root 3.0M" \
	"the reloaded limit is in force"
systemctl --user stop shmd-reload.service

if [[ $TAP_FAILED != 0 ]]; then
	diag_file "$TEST_DIR/manager.log"
	diag_file "$TEST_DIR/shmd.log"
fi
done_testing
