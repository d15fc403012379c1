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

@test "write: input too long for the region writes nothing (pipe and file)" {
	shmctl create r 4K
	# 2 MiB through a pipe: more than one 1 MiB piece, the first of which used to be written.
	run bash -c 'head -c 2M /dev/zero | tr "\0" x | "$SHMCTL_BIN" write r'
	assert_failure 1
	assert_output --partial "nothing written (use --grow, or resize it first)"
	run bash -c '"$SHMCTL_BIN" read r | tr -d "\0" | wc -c'
	assert_output "0"
	head -c 5000 /dev/zero | tr "\0" y >"$SHMD_TEST_DIR/in"
	run shmctl write r <"$SHMD_TEST_DIR/in"
	assert_failure 1
	run bash -c '"$SHMCTL_BIN" read r | tr -d "\0" | wc -c'
	assert_output "0"
	# A regular file is copied from its current offset.
	run bash -c 'exec <"$1"; head -c 1000 >/dev/null; "$SHMCTL_BIN" write r' - "$SHMD_TEST_DIR/in"
	assert_success
	run bash -c '"$SHMCTL_BIN" read r | tr -d "\0" | wc -c'
	assert_output "4000"
}

@test "write --grow: grows the region through the daemon to fit" {
	shmctl create r 4K
	printf 'hello' | shmctl write r --offset 8K --grow
	run shmctl stat r -o SIZE --bytes --noheadings
	assert_output "8197"
	run shmctl read r --offset 8K
	assert_output "hello"
	# Input that fits does not change the size.
	printf 'x' | shmctl write r --grow
	run shmctl stat r -o SIZE --bytes --noheadings
	assert_output "8197"
	shmctl create fixed 4K --fixed
	run bash -c 'head -c 5000 /dev/zero | "$SHMCTL_BIN" write fixed --grow'
	assert_failure 4
	assert_output --partial "cannot grow 'fixed'"
	run shmctl read r --grow
	assert_failure 2
}

@test "create --from FILE: size and content from the file, seals after the load" {
	head -c 12345 /dev/urandom >"$SHMD_TEST_DIR/img"
	run shmctl create img --from "$SHMD_TEST_DIR/img" --seal write,grow,shrink
	assert_success
	assert_output --regexp "^created region 'img': id [0-9]+, size 12.1K, mode 0600$"
	run shmctl stat img -o SIZE,SEALS --bytes --raw
	assert_line "SIZE 12345"
	assert_line --regexp "^SEALS shrink,grow,write"
	assert_equal "$(shmctl read img | sha256sum)" "$(sha256sum <"$SHMD_TEST_DIR/img")"
	: >"$SHMD_TEST_DIR/empty"
	shmctl create empty --from "$SHMD_TEST_DIR/empty" -q
	run shmctl stat empty -o SIZE --bytes --noheadings
	assert_output "0"
	run shmctl create x 4K --from "$SHMD_TEST_DIR/img"
	assert_failure 2
	assert_output --partial "give no SIZE"
	run shmctl create x --from "$SHMD_TEST_DIR/img" -e
	assert_failure 2
	run shmctl create x --from "$SHMD_TEST_DIR/missing"
	assert_failure 3
	assert_output --partial "cannot open '$SHMD_TEST_DIR/missing'"
	run shmctl create x --from "$SHMD_TEST_DIR"
	assert_failure 2
	assert_output --partial "is not a regular file"
	run shmctl create img --from "$SHMD_TEST_DIR/img"
	assert_failure 5
	run shmctl ls -n -r -o NAME
	assert_output "empty
img"
}
