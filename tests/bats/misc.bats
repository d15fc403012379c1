#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# shmctl as a whole: --help, --version, status, usage errors, the socket, an absent daemon.

load helpers

@test "--help lists every command, the columns and the exit codes" {
	run shmctl --help
	assert_success
	local cmd
	for cmd in create open ls stat resize mv rm seal chmod chown status exec write read; do
		assert_line --regexp "^ $cmd "
	done
	assert_line --regexp '^ +CREATED  creation time$'
	assert_line " 7  cannot reach the daemon"
	assert_output --partial "shmctl(1)"
	run shmctl -h
	assert_success
}

@test "COMMAND --help shows its synopsis and options" {
	run shmctl create --help
	assert_success
	assert_line --index 1 " shmctl create [options] NAME SIZE | NAME --from FILE"
	assert_output --partial "--open-existing"
	run shmctl exec -h
	assert_success
	assert_output --partial "--fd N"
}

@test "--version" {
	run shmctl --version
	assert_success
	assert_output --regexp '^shmctl from shmd [0-9]+\.[0-9]+\.[0-9]+ \(libshmd [0-9.]+\)$'
	run shmctl ls -V
	assert_success
}

@test "usage errors exit 2 with the hint" {
	run shmctl frobnicate
	assert_failure 2
	assert_line --index 0 "shmctl: unknown command 'frobnicate'"
	run shmctl --bogus ls
	assert_failure 2
	assert_line --index 0 "shmctl: unrecognized option '--bogus'"
	run shmctl --socket
	assert_failure 2
	assert_line --index 0 "shmctl: option '--socket' requires an argument"
	run shmctl ls --bogus
	assert_failure 2
	assert_line --index 0 "shmctl ls: unrecognized option '--bogus'"
	assert_line --index 1 "Try 'shmctl --help' for more information."
	run shmctl status extra
	assert_failure 2
}

@test "status: human and JSON" {
	shmctl create a 1M
	shmctl create b 1M
	run shmctl status
	assert_success
	assert_line --regexp '^Version: +[0-9.]+$'
	assert_line --regexp '^Regions: +2 / [0-9]+ \([0-9]+%\)$'
	assert_line --regexp '^Total size: +2\.0M$'
	run shmctl status --bytes
	assert_line --regexp '^Total size: +2097152$'
	run shmctl status --json
	assert_success
	jq -e '(.version|type=="string") and .regions == 2 and .totalSize == 2097152
		and (.connections|type=="number") and (.connections >= 1)
		and (.startedUSec|type=="number") and (.started|type=="string")
		and (.limits.maxRegions|type=="number") and (.limits.maxConnections|type=="number")
		and (.features.noexecSeal|type=="boolean") and (.features.anonVmaName|type=="boolean")' <<<"$output"
}

@test "--socket overrides SHMD_SOCKET" {
	shmctl create a 4K
	local sock=$SHMD_SOCKET
	SHMD_SOCKET=/nonexistent/sock run shmctl --socket "$sock" ls -n -o NAME
	assert_success
	assert_output "a"
	run shmctl -S "$sock" ls -n -o NAME
	assert_output "a"
}

@test "no daemon: exit 7 naming the socket" {
	run shmctl --socket "$SHMD_TEST_DIR/absent" ls
	assert_failure 7
	assert_output --regexp "^shmctl: cannot connect to shmd at '.*/absent': No such file or directory$"
	SHMD_SOCKET="$SHMD_TEST_DIR/absent" run shmctl stat x
	assert_failure 7
}

@test "no daemon: a socket nobody listens on is exit 7" {
	python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$SHMD_TEST_DIR/dead"
	run shmctl --socket "$SHMD_TEST_DIR/dead" status
	assert_failure 7
	assert_output --partial "Connection refused"
}

@test "usage errors are found before connecting" {
	run shmctl --socket "$SHMD_TEST_DIR/absent" create x 1Q
	assert_failure 2
}

@test "status: the daemon's pid and socket, used / limit (USE%) like lsipc -g" {
	shmd_stop
	shmd_start --max-regions 8 --max-connections 4
	shmctl create a 4K -q
	shmctl create b 4K -q
	shmctl create c 4K -q
	run shmctl status
	assert_success
	assert_line --regexp "^PID: +$SHMD_PID$"
	assert_line --regexp "^Socket: +$SHMD_SOCKET$"
	assert_line --regexp '^Regions: +3 / 8 \(38%\)$'
	assert_line --regexp '^Connections: +1 / 4 \(25%\)$'
	run shmctl status --json
	jq -e --argjson pid "$SHMD_PID" --arg sock "$SHMD_SOCKET" \
		'.pid == $pid and .socket == $sock and .regions == 3 and .limits.maxRegions == 8' <<<"$output"
}

@test "status: -o, -n and -r are refused (status is no table)" {
	local opt
	for opt in -oNAME -n -r --output=NAME --noheadings --raw; do
		run shmctl status "$opt"
		assert_failure 2
		assert_line --index 0 --partial "status: --output, --noheadings and --raw apply to the tables"
	done
	run shmctl --raw status
	assert_failure 2
}

@test "no command: lists, like lsipc; global options apply" {
	shmctl create vm1/ram 4K -q
	shmctl create other 8K -q
	run shmctl
	assert_success
	assert_equal "$output" "$(shmctl ls)"
	assert_line --index 0 --regexp "^NAME +SIZE"
	run shmctl -n -r -o NAME,SIZE
	assert_output "other 8.0K
vm1/ram 4.0K"
	run shmctl --json
	jq -e '.regions | length == 2' <<<"$output"
	run shmctl --bogus
	assert_failure 2
}
