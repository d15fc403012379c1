#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Socket activation: shmd serves a socket inherited through systemd-socket-activate, and
# refuses, with a clear error, to run on one that is not a listening Unix stream socket.
. "$SHMD_SRCDIR/tests/systemd/lib.sh" || exit 99

command -v systemd-socket-activate >/dev/null ||
	skip_all "systemd-socket-activate not installed (Debian package systemd)"
command -v python3 >/dev/null || skip_all "python3 not installed"

plan 12
sock=$TEST_DIR/io.shmd.Manager

# systemd-socket-activate binds, waits for the first connection, then execs shmd, so the
# daemon has the pid we started. --socket names a path shmd must NOT bind when activated.
systemd-socket-activate -l "$sock" --fdname=io.shmd.Manager \
	"$SHMD_BIN" --socket "$TEST_DIR/unused/sock" --log-level=debug \
	>"$TEST_DIR/log" 2>&1 &
pid=$!
TEST_PIDS+=("$pid")

wait_serving "$sock" "$pid"
ok $? "shmctl status answers on the inherited socket"
out=$(shmctl -S "$sock" create sa/one 64K 2>&1)
ok $? "create on the inherited socket${out:+: $out}"
out=$(shmctl -S "$sock" -r -n -o NAME,SIZE -b ls 2>&1)
is "$out" "sa/one 65536" "ls lists the region"
grep -q "serving on socket-activated fd 3 (io.shmd.Manager)" "$TEST_DIR/log"
ok $? "the daemon logs the fd and its name"
[[ ! -e $TEST_DIR/unused ]]
ok $? "--socket is not bound when a socket is passed"
kill -TERM "$pid"
wait_exit "$pid"
is "$WAIT_STATUS" 0 "SIGTERM: exit status 0"
[[ -S $sock ]]
ok $? "the inherited socket file is left to its owner"
[[ $TAP_FAILED == 0 ]] || diag_file "$TEST_DIR/log"

# A datagram socket: shmd must refuse it rather than fall back to --socket.
dgram=$TEST_DIR/dgram
systemd-socket-activate --datagram -l "$dgram" "$SHMD_BIN" --socket "$TEST_DIR/fallback" \
	>"$TEST_DIR/log-dgram" 2>&1 &
pid=$!
TEST_PIDS+=("$pid")
for ((i = 0; i < 500; i++)); do
	[[ -S $dgram ]] && break
	sleep 0.02
done
# Any datagram makes systemd-socket-activate exec the daemon.
python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"x", sys.argv[1])' "$dgram"
wait_exit "$pid"
is "$WAIT_STATUS" 1 "a datagram socket: exit status 1"
grep -q "ignoring passed fd 3 (unknown): not a listening Unix stream socket" "$TEST_DIR/log-dgram"
ok $? "the refused fd is named"
grep -q "no socket-activated fd (1 passed) is a listening Unix stream socket" "$TEST_DIR/log-dgram"
ok $? "the error says why the daemon stops"
[[ ! -e $TEST_DIR/fallback ]]
ok $? "no fallback to binding --socket"
[[ $TAP_FAILED == 0 ]] || diag_file "$TEST_DIR/log-dgram"

# No socket at all passed but LISTEN_FDS for another process: ignored, --socket is bound.
LISTEN_PID=1 LISTEN_FDS=1 "$SHMD_BIN" --socket "$TEST_DIR/own" >"$TEST_DIR/log-own" 2>&1 &
pid=$!
TEST_PIDS+=("$pid")
wait_serving "$TEST_DIR/own" "$pid"
ok $? "LISTEN_FDS meant for another pid is ignored: the daemon binds --socket"
kill -TERM "$pid"
wait_exit "$pid"
done_testing
