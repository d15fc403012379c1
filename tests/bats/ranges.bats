#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# shmctl label, unlabel, relabel, ls --ranges, stat's parts, footprint columns, status totals, who.

load helpers

@test "label: ranges split and merge, ls --ranges lists them" {
	shmctl create vm 1M
	shmctl label vm 0 256K ram
	shmctl label vm 64K 64K rom
	run shmctl ls --ranges --raw
	assert_success
	assert_output "NAME OFFSET LENGTH LABEL
vm 0 64.0K ram
vm 64.0K 64.0K rom
vm 128.0K 128.0K ram"
	shmctl label vm 64K 64K ram
	run shmctl ls --ranges --raw -n -b
	assert_output "vm 0 262144 ram"
}

@test "label: --json prints the ranges, typed" {
	shmctl create vm 1M
	run shmctl label vm 4096 8K 'guest ram (node 0)' --json
	assert_success
	jq -e '.ranges == [{"name": "vm", "offset": 4096, "length": 8192, "label": "guest ram (node 0)"}]' <<<"$output"
}

@test "unlabel: a span, or every range with a label; relabel" {
	shmctl create vm 1M
	shmctl label vm 0 64K a
	shmctl label vm 128K 64K a
	shmctl label vm 256K 64K b
	shmctl unlabel vm 32K 128K
	run shmctl ls --ranges --raw -n
	assert_output "vm 0 32.0K a
vm 160.0K 32.0K a
vm 256.0K 64.0K b"
	shmctl relabel vm a c
	shmctl unlabel vm --label b
	run shmctl ls --ranges --raw -n -o LABEL
	assert_output "c
c"
}

@test "label: errors name the region and the reason, with exit codes" {
	shmctl create vm 64K
	run shmctl label vm 1 4K x
	assert_failure 2
	assert_output "shmctl: cannot label 'vm': invalid parameter 'offset': not a multiple of 4096"
	run shmctl label vm 0 128K x
	assert_failure 1
	assert_output "shmctl: cannot label 'vm': span 0+131072 is outside the region (size 65536)"
	run shmctl label vm 0 4K 'a[1]'
	assert_failure 2
	assert_output --partial "invalid parameter 'label'"
	run shmctl label nope 0 4K x
	assert_failure 3
	run shmctl unlabel vm --label nope
	assert_failure 3
	assert_output "shmctl: cannot unlabel 'vm': no range labelled 'nope'"
	run shmctl label vm 0 4K
	assert_failure 2
	run shmctl unlabel vm 0
	assert_failure 2
}

@test "label: only writers may label" {
	require_root
	shmctl create vm 64K --mode 0644
	run shmctl_as_nobody label vm 0 4K x
	assert_failure 4
	assert_output --partial "permission denied"
	run shmctl_as_nobody ls --ranges
	assert_success
}

@test "stat: the parts add up, with their footprint" {
	shmctl create vm 256K
	shmctl label vm 64K 64K data
	printf 'x%.0s' {1..8192} | shmctl write vm --offset 64K
	run shmctl stat vm --raw -o NAME
	assert_success
	assert_output "NAME vm

Ranges:
OFFSET LENGTH LABEL RSS SWAP ALLOC
0 64.0K - 0 0 0
64.0K 64.0K data 8.0K 0 8.0K
128.0K 128.0K - 0 0 0"
	run shmctl stat vm --json
	jq -e '.resident == 8192 and .allocated == 8192 and .nRanges == 1
		and ([.ranges[].length] | add) == 262144
		and .ranges[1].label == "data" and .ranges[0].label == null
		and ([.ranges[].resident] | add) == .resident' <<<"$output"
}

@test "ls: RSS, SWAP, ALLOC and DIRTY columns" {
	shmctl create a 1M
	shmctl create b 64G
	printf 'x%.0s' {1..4096} | shmctl write a --offset 8K
	run shmctl ls --raw -b -o NAME,SIZE,RSS,SWAP,ALLOC,DIRTY
	assert_success
	assert_output "NAME SIZE RSS SWAP ALLOC DIRTY
a 1048576 4096 0 4096 0
b 68719476736 0 0 0 0"
	run shmctl ls --json -o NAME,RSS
	jq -e '.regions == [{"name": "a", "resident": 4096}, {"name": "b", "resident": 0}]' <<<"$output"
}

@test "status: resident, swapped and allocated totals" {
	shmctl create a 1M
	printf 'x%.0s' {1..8192} | shmctl write a
	run shmctl status -b
	assert_success
	assert_line "Total size:              1048576"
	assert_line "Resident:                8192"
	assert_line "Swapped:                 0"
	assert_line "Allocated:               8192"
	run shmctl status --json
	jq -e '.resident == 8192 and .swapped == 0 and .allocated == 8192 and .totalSize == 1048576' <<<"$output"
}

@test "who: a process holding the region through shmctl exec" {
	shmctl create r 64K
	# A root holder keeps every capability and shmd (three) may not read its /proc: drop them.
	local wrap=()
	[[ $(id -u) != 0 ]] || wrap=(setpriv --inh-caps=-all --bounding-set=-all --)
	"${wrap[@]}" "$SHMCTL_BIN" exec r --fd 5 -- sleep 30 3>&- &
	local pid=$!
	local i
	for ((i = 0; i < 100; i++)); do
		run shmctl who r --raw -n -o PID,COMMAND,FDS,ACCESS,MAPPED
		[[ $output == *sleep* ]] && break
		sleep 0.05
	done
	kill "$pid"
	wait "$pid" || true
	assert_line --regexp "^[0-9]+ sleep 1 rw 0$"
	run shmctl who r --json
	jq -e '(.holders|type) == "array" and (.scanned|type) == "number"
		and (.unreadable|type) == "number" and .truncated == false' <<<"$output"
}

@test "who: only the owner may ask; a missing region is exit 3" {
	run shmctl who nope
	assert_failure 3
	require_root
	shmctl create r 64K --mode 0666
	run shmctl_as_nobody who r
	assert_failure 4
	assert_output --partial "permission denied: not the owner"
}
