#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# shmctl spill and restore, create --nospill, and the spill lines of status, with spilling on.

load helpers

setup() {
	SPILL_CONF_DIR=$(mktemp -d "${TMPDIR:-/tmp}/shmctl-spill.XXXXXX")
	printf '[Spill]\nEnable=yes\nPath=%s/spill\nMaxSize=16M\nMinIdleSec=0\nPressureTrigger=no\n' \
		"$SPILL_CONF_DIR" >"$SPILL_CONF_DIR/shmd.conf"
	shmd_start --config "$SPILL_CONF_DIR/shmd.conf"
}

teardown() {
	shmd_stop
	rm -rf "$SPILL_CONF_DIR"
}

@test "spill: the region leaves memory, open and read bring back the same bytes" {
	head -c 1M /dev/urandom >"$SPILL_CONF_DIR/data"
	shmctl create r 1M
	shmctl write r <"$SPILL_CONF_DIR/data"
	run shmctl spill r
	assert_success
	assert_output ""
	run shmctl stat r -o STATE,ALLOC,SPILLED,LASTSPILL,LASTRESTORE --raw --bytes
	assert_line "STATE spilled"
	assert_line "ALLOC 0"
	assert_line "SPILLED 1048576"
	assert_line --regexp '^LASTSPILL [0-9]{4}-[0-9]{2}-[0-9]{2}'
	assert_line "LASTRESTORE -"
	shmctl read r >"$SPILL_CONF_DIR/back"
	assert_equal "$(sha256sum <"$SPILL_CONF_DIR/back")" "$(sha256sum <"$SPILL_CONF_DIR/data")"
	run shmctl stat r -o STATE,SPILLED --raw
	assert_line "STATE resident"
	assert_line "SPILLED 0"
	run shmctl stat r --json -o LASTSPILL,LASTRESTORE
	assert_output --regexp '"lastSpillUSec": [1-9][0-9]*'
	assert_output --regexp '"lastRestoreUSec": [1-9][0-9]*'
	shmctl spill r
	run shmctl restore r --json
	assert_success
	assert_output --partial '"state": "resident"'
}

@test "spill: nospill and write-sealed regions are refused with the reason (exit 4)" {
	shmctl create n 4K --nospill
	run shmctl spill n
	assert_failure 4
	assert_output --partial "cannot spill 'n': not spillable: created nospill"
	shmctl create w 4K --seal write
	run shmctl spill w
	assert_failure 4
	assert_output --partial "not spillable: write-sealed"
	run shmctl spill missing
	assert_failure 3
}

@test "spill: a held region is refused as busy (exit 1), then spills once let go" {
	shmctl create h 64K
	# exec holds the region at fd 3 while its command runs.
	run shmctl exec h -- "$SHMCTL_BIN" spill h
	assert_failure 1
	assert_output --partial "cannot spill 'h': busy: a process holds it by a file descriptor or a mapping"
	run shmctl spill h
	assert_success
}

@test "status: the spill file and the spilled regions" {
	shmctl create r 64K
	printf 'x' | shmctl write r
	shmctl spill r
	run shmctl status
	assert_success
	assert_line --regexp '^Spill: +on, .*/spill$'
	assert_line --regexp '^Spilled regions: +1$'
	run shmctl status --json
	assert_output --partial '"spilledRegions": 1'
}

@test "status: the pressure trigger, as configured and in words" {
	run shmctl status
	assert_line --regexp '^Pressure trigger: +off$'
	[[ -e /proc/pressure/memory ]] || skip "the kernel has no PSI (/proc/pressure/memory)"
	shmd_stop
	printf '[Spill]\nEnable=yes\nPath=%s/spill2\nPressureTrigger=full 100000 4000000\n' \
		"$SPILL_CONF_DIR" >"$SPILL_CONF_DIR/trigger.conf"
	shmd_start --config "$SPILL_CONF_DIR/trigger.conf"
	run shmctl status
	assert_line --regexp '^Pressure trigger: +full 100000 4000000 \(full: 100 ms of stall in any 4 s\)$'
	run shmctl status --json
	assert_output --partial '"pressureTrigger": "full 100000 4000000"'
}
