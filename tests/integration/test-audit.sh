#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The audit lines of a private daemon logging to the console at the default level: one per
# change and per refusal (who, what, outcome), refusals rate-limited per uid.
. "$SHMD_SRCDIR/tests/systemd/lib.sh" || exit 99

command -v python3 >/dev/null || skip_all "python3 not installed (the flood client)"

plan 15
sock=$TEST_DIR/shmd.sock
log=$TEST_DIR/shmd.log
uid=$(id -u) gid=$(id -g)
$SHMD_TEST_WRAPPER "$SHMD_BIN" --socket "$sock" --log-target console 2>"$log" &
daemon=$!
TEST_PIDS+=("$daemon")
if ! wait_serving "$sock" "$daemon"; then
	diag_file "$log"
	echo "Bail out! shmd did not start"
	exit 1
fi

# wait_line FIXED-STRING: the daemon writes the line after its reply; wait (5 s) for it.
wait_line() {
	local i
	for ((i = 0; i < 250; i++)); do
		grep -qF -- "$1" "$log" && return 0
		sleep 0.02
	done
	diag "no line '$1' in the log:"
	diag_file "$log"
	return 1
}

# flood METHOD PARAMS-JSON N: N calls on one connection ({i} in PARAMS is the call's number).
flood() {
	python3 - "$sock" "$@" <<'EOF'
import json, socket, sys
path, method, params, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
buf = b""
for i in range(n):
    p = json.loads(params.replace("{i}", str(i)))
    s.sendall(json.dumps({"method": "io.shmd.Manager." + method, "parameters": p}).encode() + b"\0")
    while b"\0" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit("the daemon closed the connection")
        buf += chunk
    _, buf = buf.split(b"\0", 1)
EOF
}

"$SHMCTL_BIN" -S "$sock" create audit/a 4K >/dev/null &
pid=$!
wait $pid
wait_line "audit: Create 'audit/a' by uid $uid gid $gid pid $pid unit -: ok"
ok $? "a create: operation, region, uid, gid, pid of the caller, ok"

"$SHMCTL_BIN" -S "$sock" mv audit/a audit/b >/dev/null
wait_line "audit: Rename 'audit/a' to 'audit/b' by uid $uid"
ok $? "a rename names both regions"

"$SHMCTL_BIN" -S "$sock" chmod 0640 audit/b >/dev/null
wait_line "audit: SetAccess 'audit/b' by uid $uid"
ok $? "a chmod is a SetAccess"

"$SHMCTL_BIN" -S "$sock" create audit/b 1 >/dev/null 2>&1
wait_line "audit: Create 'audit/b' by uid $uid gid $gid pid"
ok $? "a refused create is logged too"
grep -F "audit: Create 'audit/b'" "$log" | grep -q ': RegionExists$'
ok $? "  with the error's name"

"$SHMCTL_BIN" -S "$sock" rm audit/b >/dev/null &
pid=$!
wait $pid
wait_line "audit: Delete 'audit/b' by uid $uid gid $gid pid $pid unit -: ok"
ok $? "a rm"

"$SHMCTL_BIN" -S "$sock" stat audit/none >/dev/null 2>&1
"$SHMCTL_BIN" -S "$sock" ls >/dev/null
"$SHMCTL_BIN" -S "$sock" create audit/marker 1 >/dev/null
wait_line "audit: Create 'audit/marker'"
! grep -qE "audit: (Stat|List|Status|Open) " "$log"
ok $? "reads (a stat of a missing region, ls, status) log nothing"

if ((uid == 0)); then
	"$SHMCTL_BIN" -S "$sock" create --mode 0600 audit/secret 4K >/dev/null
	chmod 0755 "$TEST_DIR"
	nobody_shmctl=$("$SHMD_SRCDIR/tests/common/stage-for-nobody.sh" "$TEST_DIR/nobody")
	# shellcheck disable=SC2086 # a command line
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		$nobody_shmctl -S "$sock" open audit/secret >/dev/null 2>&1
	wait_line "audit: Open 'audit/secret' by uid 65534 gid 65534 pid"
	ok $? "another uid's denied open is logged"
	grep -F "audit: Open 'audit/secret' by uid 65534" "$log" | grep -q ': PermissionDenied$'
	ok $? "  as PermissionDenied"
else
	skip "needs root: the denied open is made as uid 65534"
	skip "needs root: the denied open is made as uid 65534"
fi

# Changes are not rate-limited: 50 creates, 50 lines.
flood Create '{"name": "audit/many/{i}", "size": 1}' 50
wait_line "audit: Create 'audit/many/49'"
is "$(grep -c "audit: Create 'audit/many/" "$log")" 50 "50 creates in a row: 50 lines"

# Refusals are: a burst of 10, then one a second, and a count of what was left out. The
# one refusal above (audit/b) has been made up for after a second.
sleep 1
start=$SECONDS
flood Delete '{"name": "audit/missing"}' 200
elapsed=$((SECONDS - start))
sleep 0.3
logged=$(grep -c "audit: Delete 'audit/missing' by uid $uid .*: NoSuchRegion$" "$log")
((logged >= 10 && logged <= 10 + elapsed + 1))
ok $? "200 refusals in ${elapsed}s: $logged lines (a burst of 10, then 1 a second)"
! grep -q "suppressed" "$log"
ok $? "  no count yet"
sleep 1.1
flood Delete '{"name": "audit/missing"}' 1
wait_line "audit: suppressed $((200 - logged)) refusals of uid $uid"
ok $? "a second later, the next refusal comes with the count of those left out ($((200 - logged)))"
is "$(grep -c "audit: Delete 'audit/missing'" "$log")" $((logged + 1)) "  and is logged itself"
flood Create '{"name": "audit/after", "size": 1}' 1
wait_line "audit: Create 'audit/after' by uid $uid"
ok $? "changes are still logged while refusals are limited"
done_testing
