#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# SIGTERM and SIGINT end shmd cleanly (status 0). A socket the daemon bound itself is
# removed, and so is its directory when the daemon created it; a socket-activated one
# belongs to its owner and stays.
. "$SHMD_SRCDIR/tests/systemd/lib.sh" || exit 99

plan 16

# start_own SOCKET: a daemon binding SOCKET itself, started in the background. A
# non-interactive shell starts it with SIGINT ignored, which shmd must undo.
start_own() {
	"$SHMD_BIN" --socket "$1" >>"$TEST_DIR/log" 2>&1 &
	pid=$!
	TEST_PIDS+=("$pid")
	wait_serving "$1" "$pid"
}

for sig in TERM INT; do
	# The daemon creates the socket's directory: both go on exit.
	sock=$TEST_DIR/new-$sig/io.shmd.Manager
	start_own "$sock"
	ok $? "SIG$sig, own socket in a new directory: serving"
	kill -"$sig" "$pid"
	wait_exit "$pid"
	is "$WAIT_STATUS" 0 "SIG$sig: exit status 0"
	[[ ! -e $sock ]]
	ok $? "SIG$sig: the socket file is removed"
	[[ ! -e ${sock%/*} ]]
	ok $? "SIG$sig: the directory the daemon created is removed"

	# An existing directory (RuntimeDirectory=): only the socket goes.
	mkdir "$TEST_DIR/old-$sig"
	sock=$TEST_DIR/old-$sig/io.shmd.Manager
	start_own "$sock"
	kill -"$sig" "$pid"
	wait_exit "$pid"
	is "$WAIT_STATUS" 0 "SIG$sig, existing directory: exit status 0"
	[[ ! -e $sock && -d ${sock%/*} ]]
	ok $? "SIG$sig: the socket is removed, the existing directory kept"
done

if command -v systemd-socket-activate >/dev/null; then
	for sig in TERM INT; do
		sock=$TEST_DIR/activated-$sig
		systemd-socket-activate -l "$sock" "$SHMD_BIN" >>"$TEST_DIR/log" 2>&1 &
		pid=$!
		TEST_PIDS+=("$pid")
		wait_serving "$sock" "$pid"
		kill -"$sig" "$pid"
		wait_exit "$pid"
		is "$WAIT_STATUS" 0 "SIG$sig, socket-activated: exit status 0"
		[[ -S $sock ]]
		ok $? "SIG$sig: the socket-activated socket file is kept"
	done
else
	for i in 1 2 3 4; do skip "systemd-socket-activate not installed"; done
fi
[[ $TAP_FAILED == 0 ]] || diag_file "$TEST_DIR/log"
done_testing
