#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# shmctl create: sizes, modes, seals, --fixed, --open-existing, and its errors.

load helpers

@test "create: plain sizes and suffixes give exact byte sizes" {
	local size want
	for size in 4096:4096 64K:65536 512M:536870912 2G:2147483648 1.5G:1610612736 \
		1KiB:1024 3kb:3072 0:0; do
		shmctl create "r${size%%:*}" "${size%%:*}"
		run shmctl stat "r${size%%:*}" --bytes --noheadings -o SIZE
		assert_success
		assert_output "${size##*:}"
	done
}

@test "create: default mode is 0600, --mode sets it" {
	shmctl create a 4K
	shmctl create b 4K --mode 0640
	shmctl create c 4K -m 444
	run shmctl ls -n -o NAME,MODE,PERMS --raw
	assert_success
	assert_output "a 0600 rw-------
b 0640 rw-r-----
c 0444 r--r--r--"
}

@test "create: --fixed seals grow and shrink and sets FIXED" {
	shmctl create f 1M --fixed
	run shmctl stat f -o FIXED,SEALS --raw
	assert_success
	assert_line "FIXED yes"
	assert_line --regexp '^SEALS .*shrink,grow'
	run shmctl resize f 2M
	assert_failure 4
	assert_output --partial "cannot resize 'f': sealed"
}

@test "create: --nospill sets NOSPILL, which a plain region does not have" {
	shmctl create ns 1M --nospill
	shmctl create plain 1M
	run shmctl ls -n -r -o NAME,NOSPILL
	assert_success
	assert_output "ns yes
plain no"
	run shmctl stat ns --json -o NOSPILL
	assert_output --partial '"nospill": true'
}

@test "create: --seal applies seals, future-write and future_write both parse" {
	shmctl create s 4K --seal grow,future-write
	shmctl create t 4K -s future_write
	run shmctl stat s --json
	assert_success
	jq -e '.seals | index("grow") and index("future_write")' <<<"$output"
	run shmctl stat t --json
	jq -e '.seals | index("future_write")' <<<"$output"
}

@test "create: an existing name fails with exit 5, --open-existing succeeds" {
	shmctl create dup 4K
	run shmctl create dup 8K
	assert_failure 5
	assert_output "shmctl: cannot create 'dup': region already exists"
	run shmctl create dup 8K --open-existing --json
	assert_success
	jq -e '.createdNow == false and .size == 4096 and (.created|type=="string")' <<<"$output"
	run shmctl create fresh 8K -e --json
	jq -e '.createdNow == true and .size == 8192 and .name == "fresh" and (.created|type=="string")' <<<"$output"
}

@test "create: prints what it made (like ipcmk), -q for nothing" {
	run shmctl create made 1.5K --mode 0640
	assert_success
	assert_output --regexp "^created region 'made': id [0-9]+, size 1.5K, mode 0640$"
	run shmctl create made 4K -e --bytes
	assert_output --regexp "^existing region 'made': id [0-9]+, size 1536, mode 0640$"
	run shmctl create quiet 4K -q
	assert_success
	assert_output ""
	run shmctl create quiet2 4K --quiet -e
	assert_output ""
	run shmctl create $'new\nline' 4K
	assert_output --partial "created region 'new\\x0aline': id "
}

@test "create: a leading '/' (the shm_open habit) is named, with the POSIX rule" {
	run shmctl create /myshm 1K
	assert_failure 2
	assert_line --index 0 "shmctl: invalid name '/myshm': starts with '/' (shmd names are not paths: drop the leading '/' that shm_open(3) names have)"
	run shmctl ls /vm1/
	assert_failure 2
	assert_output --partial "starts with '/'"
}

@test "create: bad size, mode, seal or name is a usage error (exit 2)" {
	run shmctl create x 12Q
	assert_failure 2
	assert_line --index 0 --partial "shmctl: invalid size '12Q'"
	assert_line --index 1 "Try 'shmctl --help' for more information."
	run shmctl create x -5
	assert_failure 2
	run shmctl create x 99999999999E
	assert_failure 2
	assert_output --partial "out of range (0 to 9223372036854775807 bytes"
	run shmctl create x 4K --mode 0755
	assert_failure 2
	assert_output --partial "invalid mode '0755'"
	run shmctl create x 4K --mode rw
	assert_failure 2
	run shmctl create x 4K --seal bogus
	assert_failure 2
	assert_output --partial "invalid seals 'bogus'"
	run shmctl create x 4K --seal ""
	assert_failure 2
	run shmctl create a//b 4K
	assert_failure 2
	assert_output --partial "invalid name 'a//b'"
	run shmctl create ../x 4K
	assert_failure 2
	run shmctl create x
	assert_failure 2
	assert_output --partial "missing argument"
	run shmctl create x 1K extra
	assert_failure 2
	assert_output --partial "too many arguments"
	run shmctl ls -n
	assert_output ""
}

@test "create: a negative size is a usage error, not an option (exit 2)" {
	run shmctl create x -1
	assert_failure 2
	assert_line --index 0 "shmctl: invalid size '-1': must not be negative"
	assert_line --index 1 "Try 'shmctl --help' for more information."
	run shmctl create x -1.5G --fixed
	assert_failure 2
	assert_line --index 0 "shmctl: invalid size '-1.5G': must not be negative"
	run shmctl create --mode 0640 x -4K
	assert_failure 2
	assert_line --index 0 "shmctl: invalid size '-4K': must not be negative"
	run shmctl create x -- -1
	assert_failure 2
	assert_line --index 0 "shmctl: invalid size '-1': must not be negative"
	# Not a number after the dash: an option getopt does not know, as before.
	run shmctl create x -z
	assert_failure 2
	assert_output --partial "invalid option -- 'z'"
	# Options before, between and after the operands, and --help, still work.
	run shmctl create x -1 --help
	assert_success
	assert_line --index 0 "Usage:"
	run shmctl ls -n
	assert_output ""
	shmctl create -m 0640 a -f 4K -S "$SHMD_SOCKET"
	shmctl create -- b 8K
	run shmctl ls -n -r -o NAME,SIZE,PERMS,FIXED
	assert_output "a 4.0K rw-r----- yes
b 8.0K rw------- no"
}

@test "create: names with spaces and odd bytes" {
	shmctl create "a b/c d" 4K
	shmctl create $'ctl\x01\xffbyte' 4K
	shmctl create "ünïcode" 4K
	run shmctl ls -n -o NAME
	assert_success
	assert_output "a b/c d
ctl\\x01\\xffbyte
ünïcode"
	run shmctl stat $'ctl\x01\xffbyte' --json
	assert_success
	jq -e '.nameBase64 == "Y3RsAf9ieXRl" and (has("name") | not)' <<<"$output"
	run shmctl stat "ünïcode" --json
	jq -e '.name == "ünïcode"' <<<"$output"
}

@test "create: help, errors and completion spell seals as ls and stat print them (future_write)" {
	run shmctl create --help
	assert_output --partial "future_write"
	refute_output --partial "future-write"
	run shmctl --help
	refute_output --partial "future-write"
	run shmctl create s 4K --seal bogus
	assert_failure 2
	assert_output --partial "future_write"
	grep -q "seals='.* future_write " "$SHMD_SRCDIR/client/shmctl.bash-completion"
}

@test "create: a fraction of a byte is a usage error; 1.5K is whole" {
	run shmctl create frac 1.5
	assert_failure 2
	assert_output --partial "invalid size '1.5': not a whole number of bytes"
	run shmctl create frac 1.3K
	assert_failure 2
	run shmctl stat frac
	assert_failure 3
	shmctl create whole 1.5K
	run shmctl stat whole -o SIZE --bytes --noheadings
	assert_output "1536"
}

@test "create, write, read: hexadecimal sizes and offsets" {
	shmctl create hex 0x200000
	run shmctl stat hex -o SIZE --bytes --noheadings
	assert_output "2097152"
	printf abc | shmctl write hex --offset 0x1FFFFD
	run shmctl read hex --offset 0x1ffffd --length 0x3
	assert_output "abc"
	run shmctl create bad 0x1K
	assert_failure 2
	assert_output --partial "or 0x and hex digits"
}

@test "create: INT64_MAX is the largest size; one more is a usage error stating the range" {
	shmctl create max 9223372036854775807
	run shmctl stat max -o SIZE --bytes --noheadings
	assert_output "9223372036854775807"
	run shmctl create over 9223372036854775808
	assert_failure 2
	assert_output --partial "out of range (0 to 9223372036854775807 bytes"
	run shmctl create over 8E
	assert_failure 2
	shmctl create small 4K
	shmctl resize small 0x7fffffffffffffff
	run shmctl status
	assert_line --regexp "^Total size: +at least 8.0E \(capped: the daemon counts at most 8E minus one byte\)$"
	run shmctl status --json
	jq -e '.totalSizeCapped == true and .totalSize == 9223372036854775807' <<<"$output"
	shmctl rm max
	run shmctl status --json
	jq -e '.totalSizeCapped == true' <<<"$output"
	shmctl rm small
	run shmctl status --json
	jq -e '.totalSizeCapped == false and .totalSize == 0' <<<"$output"
}
