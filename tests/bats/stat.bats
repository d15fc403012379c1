#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# shmctl stat and open: key/value listing, JSON object, access checks.

load helpers

@test "stat: key/value listing (golden)" {
	shmctl create vm1/ram 1.5G --mode 0640 --seal grow
	shmctl stat vm1/ram | assert_golden stat
}

@test "stat: --raw and --noheadings" {
	shmctl create a 64K
	run shmctl stat a --raw -o NAME,SIZE,MODE
	assert_output "NAME a
SIZE 64.0K
MODE 0600"
	run shmctl stat a -n -b -o SIZE,MODE
	assert_output "65536
0600"
}

@test "stat: --json is one typed object" {
	shmctl create vm1/ram 1.5G --mode 0640 --fixed
	run shmctl stat vm1/ram --json
	assert_success
	jq -e 'type == "object"' <<<"$output"
	jq -e '(.name == "vm1/ram") and (.size == 1610612736) and (.mode == 416)
		and (.perms == "rw-r-----") and (.fixed == true) and (.state == "resident")
		and (.id|type=="number") and (.uid|type=="number") and (.gid|type=="number")
		and (.seals|type=="array") and (.foreignSeals|type=="array")
		and (.createdUSec|type=="number") and (.changedUSec|type=="number")
		and (.created|type=="string") and (.changed|type=="string")
		and (.creatorPid|type=="number") and (.creatorUid|type=="number")' <<<"$output"
	jq -e --argjson uid "$(id -u)" '.uid == $uid and .creatorUid == $uid' <<<"$output"
}

@test "stat: not found is exit 3, naming the region" {
	run shmctl stat nope
	assert_failure 3
	assert_output "shmctl: cannot stat 'nope': no such region"
	run shmctl stat $'odd\x01'
	assert_failure 3
	assert_output "shmctl: cannot stat 'odd\\x01': no such region"
}

@test "stat: wrong argument count is a usage error" {
	run shmctl stat
	assert_failure 2
	run shmctl stat a b
	assert_failure 2
}

@test "open: prints the region, --ro too" {
	shmctl create a 4K --mode 0644
	run shmctl open a -o NAME,SIZE
	assert_success
	assert_output "Name: a
Size: 4.0K"
	run shmctl open --ro a --json
	assert_success
	jq -e '.name == "a" and .size == 4096' <<<"$output"
}

@test "open: not found 3, permission denied 4 for another user" {
	require_root
	shmctl create private 4K --mode 0600
	shmctl create readable 4K --mode 0644
	run shmctl open nope
	assert_failure 3
	run shmctl_as_nobody open private --ro
	assert_failure 4
	assert_output --partial "shmctl: cannot open 'private': permission denied"
	run shmctl_as_nobody open readable --ro
	assert_success
	run shmctl_as_nobody open readable
	assert_failure 4
}

@test "names: what ls prints escaped can be pasted back (\\xNN on input)" {
	shmctl create $'new\nline' 4K -q
	shmctl create 'back\slash' 4K -q
	shmctl create "with space" 4K -q
	run shmctl ls -n -r -o NAME
	assert_output 'back\x5cslash
new\x0aline
with\x20space'
	# Each printed form names its region.
	run shmctl stat 'new\x0aline' --json
	assert_success
	jq -e '.name == "new\nline"' <<<"$output"
	run shmctl stat 'with\x20space' -o SIZE --bytes --noheadings
	assert_output "4096"
	run shmctl stat 'back\x5cslash' -o SIZE --bytes --noheadings
	assert_output "4096"
	# A backslash not starting \xNN is literal.
	run shmctl stat 'back\slash' -o SIZE --bytes --noheadings
	assert_output "4096"
	# A literal "\x41" is given as \x5cx41; "\x41" alone is "A".
	shmctl create 'lit\x5cx41' 4K -q
	run shmctl ls lit -n -r -o NAME
	assert_output 'lit\x5cx41'
	shmctl create 'lit\x41' 4K -q
	run shmctl stat litA --json
	jq -e '.name == "litA"' <<<"$output"
	run shmctl ls 'new\x0a' -n -r -o NAME
	assert_output 'new\x0aline'
	shmctl rm 'new\x0aline' 'lit\x5cx41'
	run shmctl stat $'new\nline'
	assert_failure 3
	run shmctl create 'nul\x00' 4K
	assert_failure 2
	assert_output --partial "would be a NUL byte"
}
