#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# shmctl write and read: binary round trips, offsets, lengths, the end of the region.

load helpers

@test "write/read: 1M of random bytes round-trip" {
	local tmp
	tmp=$(mktemp -d)
	head -c 1M /dev/urandom >"$tmp/data"
	shmctl create r 1M
	shmctl write r <"$tmp/data"
	shmctl read r >"$tmp/back"
	assert_equal "$(sha256sum <"$tmp/back")" "$(sha256sum <"$tmp/data")"
	rm -rf "$tmp"
}

@test "write/read: --offset and --length, with size suffixes" {
	shmctl create r 8K
	printf 'abcdef' | shmctl write r --offset 4K
	run shmctl read r --offset 4K --length 3
	assert_output "abc"
	run shmctl read r --offset 4099 --length 1K
	assert_output --partial "def"
	run bash -c '"$SHMCTL_BIN" read r --offset 4099 --length 1K | wc -c'
	assert_output "1024"
	run bash -c '"$SHMCTL_BIN" read r | wc -c'
	assert_output "8192"
	run bash -c '"$SHMCTL_BIN" read r --length 0 | wc -c'
	assert_output "0"
	run bash -c '"$SHMCTL_BIN" read r --offset 1M | wc -c'
	assert_output "0"
}

@test "write: refuses to pass the end of the region, exit 1" {
	shmctl create r 4K
	run bash -c 'head -c 5000 /dev/zero | "$SHMCTL_BIN" write r'
	assert_failure 1
	assert_output --partial "cannot write 'r': data passes the end of the region"
	run bash -c 'printf xy | "$SHMCTL_BIN" write r --offset 4095'
	assert_failure 1
	run bash -c 'printf x | "$SHMCTL_BIN" write r --offset 4095'
	assert_success
	run bash -c 'printf "" | "$SHMCTL_BIN" write r --offset 4096'
	assert_success
}

@test "write/read: errors" {
	shmctl create r 4K --seal write
	run bash -c 'printf x | "$SHMCTL_BIN" write r'
	assert_failure 4
	assert_output "shmctl: cannot write 'r': the region is sealed against writing"
	run shmctl write nope </dev/null
	assert_failure 3
	run shmctl read nope
	assert_failure 3
	run shmctl read r --offset lots
	assert_failure 2
	run shmctl write r --length 3 </dev/null
	assert_failure 2
	run shmctl read
	assert_failure 2
	run shmctl read r --offset -1
	assert_failure 2
	assert_line --index 0 "shmctl: invalid offset '-1': must not be negative"
	run shmctl read r --length=-4K
	assert_failure 2
	assert_line --index 0 "shmctl: invalid length '-4K': must not be negative"
	run shmctl write r --offset -1 </dev/null
	assert_failure 2
	assert_line --index 0 "shmctl: invalid offset '-1': must not be negative"
}

@test "read: another user needs read permission; write needs write permission" {
	require_root
	shmctl create r 4K --mode 0644
	printf secret | shmctl write r
	run shmctl_as_nobody read r --length 6
	assert_success
	assert_output "secret"
	run shmctl_as_nobody write r < <(printf x)
	assert_failure 4
	shmctl chmod 0600 r
	run shmctl_as_nobody read r
	assert_failure 4
}
