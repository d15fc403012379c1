#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# shmd --supervise without systemd: the serving process is killed (SIGKILL, SIGABRT) while
# 8 clients create, write, stat and delete; every region that must exist afterwards is
# listed with the same id, size, mode and creation time and its content checksum, nothing
# deleted comes back and nothing is listed twice. Then a crash at each fault-injection
# point of a state update (test builds: configure --enable-fault-injection).
. "$SHMD_SRCDIR/tests/systemd/lib.sh" || exit 99

load=$SHMD_BUILDDIR/tests/libshmd/restart-load
sock=$TEST_DIR/shmd.sock
export SHMD_SOCKET=$sock

start() {
	"$SHMD_BIN" --socket "$sock" --supervise "$@" 2>>"$TEST_DIR/shmd.log" &
	sup=$!
	TEST_PIDS+=("$sup")
	wait_serving "$sock" "$sup"
}
# The supervisor's one child: the serving daemon.
worker() { cat "/proc/$sup/task/$sup/children" 2>/dev/null | tr -d ' '; }
stop() {
	kill -TERM "$sup" && wait "$sup"
}

fault_points=(append-torn region-stored compact-written compact-stored)
if grep -q "define SHMD_FAULT_INJECTION 1" "$SHMD_BUILDDIR/config.h"; then
	plan $((12 + 3 * ${#fault_points[@]}))
else
	plan 9
fi

start
ok $? "shmd --supervise serves (supervisor pid $sup, worker $(worker))"
first=$(worker)
mkdir "$TEST_DIR/load"
"$load" run "$TEST_DIR/load" 4 8 2>"$TEST_DIR/load.err" &
loader=$!
TEST_PIDS+=("$loader")
sleep 1
kill -KILL "$(worker)"
sleep 1
kill -ABRT "$(worker)"
sleep 0.5
kill -KILL "$(worker)"
wait "$loader"
ok $? "8 clients ran through three crashes of the serving process without an unexpected error"
diag_file "$TEST_DIR/load.err"
[[ -n $(worker) && $(worker) != "$first" ]]
ok $? "the supervisor restarted the worker (now pid $(worker))"
out=$("$load" verify "$TEST_DIR/load" 8 2>"$TEST_DIR/verify.err")
ok $? "every region listed as its client left it, content included: $out"
diag_file "$TEST_DIR/verify.err"
n=$(shmctl -S "$sock" -r -n -o NAME ls load/ | wc -l)
[[ $n -gt 10 ]]
ok $? "a real load: $n regions survive"
grep -q "restored .* regions" "$TEST_DIR/shmd.log"
ok $? "the worker says what it restored"
# Named ranges are part of the state: the same ranges after a crash.
shmctl -S "$sock" create -q label/one 64K &&
	shmctl -S "$sock" label label/one 0 8K boot &&
	shmctl -S "$sock" label label/one 16K 0x4000 "guest ram" &&
	before=$(shmctl -S "$sock" --json ls --ranges label/) &&
	pid=$(worker) && kill -KILL "$pid" &&
	for _ in $(seq 100); do [[ -n $(worker) && $(worker) != "$pid" ]] && break; sleep 0.1; done
after=$(shmctl -S "$sock" --json ls --ranges label/ 2>&1)
[[ -n $before && $before == "$after" && $before == *"guest ram"* ]]
ok $? "named ranges survive a kill -9 of the serving process"
[[ $before == "$after" ]] || { diag "before: $before"; diag "after: $after"; }
stop
ok $? "SIGTERM to the supervisor stops both, exit status 0"

# A package upgrade replaces the binary under a running supervisor: the next worker must
# still run the supervisor's own file (the new one may not read the old state), not the path.
cp "$SHMD_BIN" "$TEST_DIR/shmd-old"
SHMD_BIN=$TEST_DIR/shmd-old start
printf '#!/bin/sh\nexit 3\n' >"$TEST_DIR/shmd-new" && chmod +x "$TEST_DIR/shmd-new" &&
	mv "$TEST_DIR/shmd-new" "$TEST_DIR/shmd-old" &&
	pid=$(worker) && kill -KILL "$pid"
# Once it serves, the new worker has exec'd (before, it is a copy of the supervisor). The
# killed one may still be listed, a zombie, while the supervisor starts the next.
shmctl -S "$sock" status >/dev/null
for p in $(cat "/proc/$sup/task/$sup/children" 2>/dev/null); do [[ $p != "$pid" ]] && new=$p; done
exe=$(readlink "/proc/${new:-0}/exe")
[[ $exe == *"shmd-old (deleted)" ]]
ok $? "after the binary was replaced, the restarted worker (${new:-none}) runs the old file ($exe)"
stop

# A crash inside a state update: the next worker loads what is stored.
for point in "${fault_points[@]}"; do
	grep -q "define SHMD_FAULT_INJECTION 1" "$SHMD_BUILDDIR/config.h" || break
	rm -f "$TEST_DIR/shmd.log"
	# The first region writes the first snapshot: compact-* fire at the second, when about
	# 500 appended records outgrow it; region-stored at the 3rd region, append-torn at the
	# 2nd append (the 3rd region: the 1st went into the snapshot).
	case $point in compact-*) n=2 ;; append-torn) n=2 ;; *) n=3 ;; esac
	SHMD_FAULT=$point:$n start
	for i in 1 2 3 4; do
		shmctl -S "$sock" create "fault/$i" 8K >/dev/null 2>&1
		echo "pattern $i" | shmctl -S "$sock" write "fault/$i" >/dev/null 2>&1
	done
	if [[ $point == compact-* ]]; then
		"$load" bulk bulk/ 1000 >/dev/null
	fi
	grep -q "fault injection: aborting at $point" "$TEST_DIR/shmd.log" &&
		{ [[ $point != region-stored ]] || grep -q "has no metadata, dropped" "$TEST_DIR/shmd.log"; }
	ok $? "$point: the daemon aborted there (and a stored fd without metadata is logged, dropped)"
	got=$(shmctl -S "$sock" -r -n -o NAME ls fault/ | tr '\n' ' ')
	case $point in
	append-torn | region-stored) want="fault/1 fault/2 fault/4 " ;;
	*) want="fault/1 fault/2 fault/3 fault/4 " ;;
	esac
	is "$got" "$want" "$point: the restarted daemon has every region whose Create succeeded"
	c=$(shmctl -S "$sock" read fault/2 2>/dev/null | tr -d '\0')
	is "$c" "pattern 2" "$point: content kept"
	stop
done
# The LISTEN_FDNAMES budget (128 KiB in production, 20 bytes here): names "1".."6" take 2
# bytes each and the state's 8, so the 7th region is refused, before and after a restart.
if grep -q "define SHMD_FAULT_INJECTION 1" "$SHMD_BUILDDIR/config.h"; then
	SHMD_TEST_NAMES_BUDGET=20 start
	made=0
	for i in 1 2 3 4 5 6 7 8; do
		shmctl -S "$sock" create "budget/$i" 4K 2>"$TEST_DIR/err" && made=$((made + 1))
	done
	is "$made" 6 "the fd store's name budget stops Create at 6 regions"
	grep -q "limit" "$TEST_DIR/err"
	ok $? "with a typed limit error: $(cat "$TEST_DIR/err")"
	kill -KILL "$(worker)"
	shmctl -S "$sock" create budget/9 4K 2>/dev/null
	is "$(($? != 0)):$(shmctl -S "$sock" -r -n -o NAME ls budget/ | wc -l)" "1:6" \
		"after a restart: the same 6 regions, and still no room"
	stop
fi
[[ $TAP_FAILED == 0 ]] || diag_file "$TEST_DIR/shmd.log"
done_testing
