#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The spill engine through the real daemon (shmd --supervise, a spill file in this test's
# directory): spill frees the memory and a restore brings back every byte; a spilled region
# survives a kill -9 of the serving process; a corrupt spill file makes the region damaged,
# never zero-filled; a crash at each fault-injection point of a spill or restore (test
# builds) or a kill -9 mid-spill leaves the region complete, resident or spilled.
. "$SHMD_SRCDIR/tests/systemd/lib.sh" || exit 99

sock=$TEST_DIR/shmd.sock
conf=$TEST_DIR/shmd.conf
spill=$TEST_DIR/spill
export SHMD_SOCKET=$sock
printf '[Spill]\nEnable=yes\nPath=%s\nMaxSize=256M\n' "$spill" >"$conf"

start() {
	"$SHMD_BIN" --socket "$sock" --supervise --config "$conf" 2>>"$TEST_DIR/shmd.log" &
	sup=$!
	TEST_PIDS+=("$sup")
	wait_serving "$sock" "$sup"
}
worker() { cat "/proc/$sup/task/$sup/children" 2>/dev/null | tr -d ' '; }
stop() { kill -TERM "$sup" && wait "$sup"; }
# Wait for the supervisor to serve again with a new worker (not pid $1).
restarted() {
	local _
	for _ in $(seq 300); do
		[[ -n $(worker) && $(worker) != "$1" ]] &&
			timeout 5 "$SHMCTL_BIN" -S "$sock" status >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}
state() { shmctl -S "$sock" -n -o STATE ls "$1" 2>/dev/null | tr -d ' '; }
rss() { shmctl -S "$sock" -r -n -o RSS ls "$1" 2>/dev/null | tr -d ' '; }
# A region of 8 MiB + 1 page with random data (a hole in the middle), and its reference.
fill() {
	shmctl -S "$sock" create "$1" 8196K >/dev/null &&
		head -c 3M /dev/urandom >"$TEST_DIR/$2" &&
		truncate -s 5M "$TEST_DIR/$2" && head -c 3076K /dev/urandom >>"$TEST_DIR/$2" &&
		shmctl -S "$sock" write "$1" <"$TEST_DIR/$2"
}
same() { shmctl -S "$sock" read "$1" 2>"$TEST_DIR/read.err" | cmp -s - "$TEST_DIR/$2"; }

fault=false
grep -q "define SHMD_FAULT_INJECTION 1" "$SHMD_BUILDDIR/config.h" && fault=true
points=(spill-copied spill-recorded spill-punched restore-copied restore-recorded)
if $fault; then plan $((12 + 2 * ${#points[@]} + 2)); else plan 12; fi

start
ok $? "shmd --supervise serves with a spill file"
fill spill/a a.ref
ok $? "a region of 8 MiB with known data"
shmctl -S "$sock" spill spill/a 2>"$TEST_DIR/err" || diag "spill: $(cat "$TEST_DIR/err")"
ok $? "shmctl spill"
is "$(state spill/a):$(rss spill/a)" "spilled:0" "spilled, and its memory freed (resident 0)"
[[ -s $spill ]]
ok $? "the spill file holds the data ($(stat -c %s "$spill") bytes)"
pid=$(worker) && kill -KILL "$pid" && restarted "$pid"
ok $? "the serving process killed (-9) and restarted"
is "$(state spill/a)" "spilled" "still spilled after the restart (the index is in the state)"
same spill/a a.ref
ok $? "Open restores it: every byte back (cmp)"
is "$(state spill/a)" "resident" "resident again"

# Corrupt the data in the spill file: the restore refuses it, typed, and never zero-fills.
shmctl -S "$sock" spill spill/a 2>"$TEST_DIR/err" || diag "spill: $(cat "$TEST_DIR/err")"
dd if=/dev/urandom of="$spill" bs=1M count=8 conv=notrunc status=none
shmctl -S "$sock" read spill/a >/dev/null 2>"$TEST_DIR/err"
rc=$?
[[ $rc != 0 ]] && grep -qi "damaged" "$TEST_DIR/err"
ok $? "a corrupt spill file: Open fails, the region is damaged ($(cat "$TEST_DIR/err"))"
is "$(state spill/a)" "damaged" "state damaged"
shmctl -S "$sock" rm spill/a
ok $? "a damaged region can be deleted"
stop

# A crash between the steps of a spill or a restore: complete, resident or spilled.
for point in "${points[@]}"; do
	$fault || break
	rm -f "$spill"
	SHMD_FAULT=$point start
	fill "fault/$point" f.ref
	first=$(worker)
	if [[ $point == restore-* ]]; then
		shmctl -S "$sock" spill "fault/$point"
		shmctl -S "$sock" restore "fault/$point" >/dev/null 2>&1
	else
		shmctl -S "$sock" spill "fault/$point" >/dev/null 2>&1
	fi
	restarted "$first" && grep -q "fault injection: aborting at $point" "$TEST_DIR/shmd.log"
	ok $? "$point: the daemon aborted there and was restarted"
	# Before the record: resident (the extents were never recorded); after it: spilled.
	case $point in spill-copied | restore-recorded) want=resident ;; *) want=spilled ;; esac
	st=$(state "fault/$point")
	[[ $st == "$want" ]] && same "fault/$point" f.ref
	ok $? "$point: the region is complete after the restart, $st (want $want)"
	stop
done
# kill -9 in the middle of a spill (the job held after its first chunk).
if $fault; then
	rm -f "$spill"
	SHMD_FAULT_HOLD=spill-write:$TEST_DIR/go start
	fill hold/a h.ref
	shmctl -S "$sock" spill hold/a >/dev/null 2>&1 &
	TEST_PIDS+=($!)
	for _ in $(seq 200); do [[ -e $TEST_DIR/go.held ]] && break; sleep 0.05; done
	pid=$(worker) && kill -KILL "$pid" && restarted "$pid"
	ok $? "kill -9 in the middle of a spill: restarted"
	st=$(state hold/a)
	touch "$TEST_DIR/go"
	[[ $st == resident ]] && same hold/a h.ref
	ok $? "the region is resident and complete ($st)"
	stop
fi
[[ $TAP_FAILED == 0 ]] || diag_file "$TEST_DIR/shmd.log"
done_testing
