#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The audit records as the journal gets them: in a private mount namespace (a tmpfs over
# /run), a datagram socket at /run/systemd/journal/socket stands in for journald and keeps
# what "shmd --log-target journal" sends (the native protocol: KEY=value lines).
. "$SHMD_SRCDIR/tests/systemd/lib.sh" || exit 99

if [[ ${1:-} != --inner ]]; then
	[[ $(id -u) == 0 ]] || skip_all "needs root (a mount namespace with its own /run)"
	command -v python3 >/dev/null || skip_all "python3 not installed (the stand-in journal)"
	unshare -m --propagation private true 2>/dev/null ||
		skip_all "cannot make a mount namespace here"
	SHMD_TEST_DIR=$TEST_DIR unshare -m --propagation private "$BASH" "$0" --inner
	exit
fi

# ---- inside the private mount namespace: the tmpfs over /run is seen by no one else.
mount -t tmpfs -o mode=0755 tmpfs /run 2>/dev/null || skip_all "cannot mount tmpfs on /run"
mkdir -p /run/systemd/journal
plan 12
records=$TEST_DIR/records
python3 - /run/systemd/journal/socket "$records" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "ab", buffering=0) as out:
    while True:
        data = s.recv(1 << 20)
        # One record per line: its fields joined by tabs (no value here holds a newline).
        out.write(data.rstrip(b"\n").replace(b"\n", b"\t") + b"\n")
EOF
TEST_PIDS+=("$!")
for ((n = 0; n < 500; n++)); do
	[[ -S /run/systemd/journal/socket ]] && break
	sleep 0.02
done

sock=$TEST_DIR/shmd.sock
$SHMD_TEST_WRAPPER "$SHMD_BIN" --socket "$sock" --log-target journal 2>"$TEST_DIR/stderr" &
daemon=$!
TEST_PIDS+=("$daemon")
if ! wait_serving "$sock" "$daemon"; then
	diag_file "$TEST_DIR/stderr"
	echo "Bail out! shmd did not start"
	exit 1
fi

# record PATTERN: the first record matching (extended regex), waiting up to 5 s for it.
record() {
	local i
	for ((i = 0; i < 250; i++)); do
		grep -m1 -E -- "$1" "$records" 2>/dev/null && return 0
		sleep 0.02
	done
	return 1
}
# has RECORD FIELD=VALUE: the record carries exactly that field.
has() { [[ $'\t'$1$'\t' == *$'\t'$2$'\t'* ]]; }

uid=$(id -u) gid=$(id -g)
"$SHMCTL_BIN" -S "$sock" create j/a 4K >/dev/null &
pid=$!
wait $pid
r=$(record 'SHMD_OPERATION=Create')
ok $? "a create sends a record"
has "$r" "MESSAGE_ID=3606edcc78834e02b447167ddd2d4dad"
ok $? "  MESSAGE_ID= of a change"
has "$r" "SHMD_REGION=j/a" && has "$r" "SHMD_RESULT=ok" && has "$r" "PRIORITY=6"
ok $? "  SHMD_REGION=j/a, SHMD_RESULT=ok, PRIORITY=6 (info)"
has "$r" "SHMD_UID=$uid" && has "$r" "SHMD_GID=$gid" && has "$r" "SHMD_PID=$pid"
ok $? "  SHMD_UID=, SHMD_GID=, SHMD_PID= of the caller ($uid, $gid, $pid)"
has "$r" "MESSAGE=audit: Create 'j/a' by uid $uid gid $gid pid $pid unit -: ok"
ok $? "  MESSAGE= is the console line"
! [[ $r == *SHMD_UNIT=* || $r == *SHMD_NEW_REGION=* ]]
ok $? "  no SHMD_UNIT= outside a unit, no SHMD_NEW_REGION= but for Rename"
[[ $r == MESSAGE=* ]] && ! tr '\t' '\n' <<<"$r" | grep -qvE '^[A-Z_]+=.'
ok $? "  nothing but KEY=value fields, MESSAGE= first"

"$SHMCTL_BIN" -S "$sock" mv j/a 'j/b c' >/dev/null
r=$(record 'SHMD_OPERATION=Rename')
has "$r" "SHMD_REGION=j/a" && has "$r" "SHMD_NEW_REGION=j/b c"
ok $? "a rename: SHMD_REGION= and SHMD_NEW_REGION="

"$SHMCTL_BIN" -S "$sock" create 'j/b c' 1 >/dev/null 2>&1
r=$(record 'SHMD_RESULT=RegionExists')
ok $? "a refused create sends a record with SHMD_RESULT=RegionExists"
has "$r" "MESSAGE_ID=ff54ceab377a44969cee6a3441bdd259" && has "$r" "PRIORITY=5"
ok $? "  MESSAGE_ID= of a refusal, PRIORITY=5 (notice)"

# The rate limit's count, as a record of its own.
python3 - "$sock" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
for i in range(30):
    s.sendall(b'{"method":"io.shmd.Manager.Delete","parameters":{"name":"j/none"}}\0')
    buf = b""
    while not buf.endswith(b"\0"):
        buf += s.recv(65536)
EOF
sleep 1.1
"$SHMCTL_BIN" -S "$sock" rm j/none >/dev/null 2>&1
r=$(record 'MESSAGE_ID=1df1342da63d4bd490f1129b2912c58c')
ok $? "refusals left out are counted in a record of their own"
logged=$(grep -c 'SHMD_REGION=j/none' "$records")
has "$r" "SHMD_UID=$uid" && [[ $r =~ $'\t'SHMD_SUPPRESSED=([0-9]+)($'\t'|$) ]] &&
	((BASH_REMATCH[1] > 0 && BASH_REMATCH[1] + logged == 31))
ok $? "  SHMD_UID=, SHMD_SUPPRESSED=${BASH_REMATCH[1]:-?}: with the $logged logged, all 31"
done_testing
