#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The built units: @sbindir@ and @rundir@ substituted (shmd.socket listens where the daemon
# and shmctl look by default), "systemd-analyze verify" without warnings (it loads units
# offline, no systemd as PID 1 needed), and the exposure the hardening leaves.
. "$SHMD_SRCDIR/tests/systemd/lib.sh" || exit 99

command -v systemd-analyze >/dev/null ||
	skip_all "systemd-analyze not installed (Debian package systemd)"

plan 10
service=$SHMD_BUILDDIR/systemd/shmd.service
socket=$SHMD_BUILDDIR/systemd/shmd.socket

exec_start=$(sed -n 's/^ExecStart=//p' "$service")
[[ $exec_start == /*/shmd ]] && ! grep -q "@[a-z_]*@" "$service"
ok $? "shmd.service is built with the daemon's install path ($exec_start)"

# verify checks that ExecStart= is executable: point it at the daemon just built.
mkdir "$TEST_DIR/units"
cp "$socket" "$TEST_DIR/units/"
sed "s|^ExecStart=$exec_start|ExecStart=$SHMD_BIN|" "$service" >"$TEST_DIR/units/shmd.service"
(cd "$TEST_DIR/units" &&
	systemd-analyze verify --man=no shmd.socket shmd.service) >"$TEST_DIR/out" 2>&1
ok $? "systemd-analyze verify"
[[ ! -s $TEST_DIR/out ]]
ok $? "verify has nothing to say"
diag_file "$TEST_DIR/out"

# Documentation=man:shmd(8): verify runs man(1), which finds the page built here (or, in
# a tarball build, shipped in the source tree).
page=$SHMD_BUILDDIR/man/shmd.8
[[ -f $page ]] || page=$SHMD_SRCDIR/man/shmd.8
if [[ -f $page ]] && command -v man >/dev/null; then
	mkdir -p "$TEST_DIR/man/man8"
	cp "$page" "$TEST_DIR/man/man8/"
	(cd "$TEST_DIR/units" && MANPATH=$TEST_DIR/man \
		systemd-analyze verify --man=yes shmd.socket shmd.service) >"$TEST_DIR/out" 2>&1
	ok $? "verify finds the page Documentation= names"
	diag_file "$TEST_DIR/out"
else
	skip "man(1) or man/shmd.8 missing"
fi

# A regression guard for the sandbox: exposure 1.3 when written (0-10 scale, x10 here; it
# was 1.8 before WatchdogSec=, PrivateMounts=, IPAddressDeny=, ProtectProc=, ProcSubset=).
if systemd-analyze security --help 2>&1 | grep -q -- --threshold; then
	(cd "$TEST_DIR/units" &&
		systemd-analyze security --offline=yes --threshold=15 shmd.service) \
		>"$TEST_DIR/out" 2>&1
	ok $? "systemd-analyze security: exposure at most 1.5"
	grep "Overall exposure" "$TEST_DIR/out" | sed 's/^/# /'
else
	skip "systemd-analyze security has no --threshold"
fi

[[ -f $socket ]] && ! grep -q "@[a-z_]*@" "$socket" "$service"
ok $? "no @variable@ left in shmd.socket or shmd.service"

# The default socket of the daemon as built (configure --with-rundir), from its --help.
default_socket=$("$SHMD_BIN" --help | sed -n 's/.*(default \(\/[^)]*\)).*/\1/p')
listen=$(sed -n 's/^ListenStream=//p' "$socket")
[[ $default_socket == /*/shmd/io.shmd.Manager ]] && [[ $listen == "$default_socket" ]]
ok $? "shmd.socket listens on the daemon's default socket ($listen)"
is "$(sed -n 's/^SocketMode=//p' "$socket")" 0666 \
	"shmd.socket is open to all (access is checked per region)"
# The opt-in shmd group: a sysusers.d file systemd-sysusers reads (into an empty root here).
sysusers=$SHMD_SRCDIR/systemd/sysusers.d/shmd.conf
if command -v systemd-sysusers >/dev/null; then
	mkdir -p "$TEST_DIR/root/etc"
	systemd-sysusers --dry-run --root="$TEST_DIR/root" "$sysusers" >"$TEST_DIR/out" 2>&1
	ok $? "systemd-sysusers reads systemd/sysusers.d/shmd.conf"
	grep -q "Creating group 'shmd'" "$TEST_DIR/out" &&
		! grep -v -e "Creating group 'shmd'" -e "^Would write" "$TEST_DIR/out" >/dev/null
	rc=$?
	ok $rc "  it makes the group shmd and nothing else"
	((rc == 0)) || diag_file "$TEST_DIR/out"
else
	skip "systemd-sysusers not installed"
	skip "systemd-sysusers not installed"
fi
done_testing
