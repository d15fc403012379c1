#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# shmctl exec: region fds at known numbers, SHMD_FDS/SHMD_NAMES, --ro, --fd, errors.

load helpers

@test "exec: the command reads the region at fd 3" {
	shmctl create r 4K
	printf 'hello region' | shmctl write r
	run shmctl exec r -- sh -c 'head -c 12 /proc/self/fd/3'
	assert_success
	assert_output "hello region"
}

@test "exec: several regions at consecutive fds, with SHMD_FDS and SHMD_NAMES" {
	shmctl create a 4K
	shmctl create "b c" 4K
	printf A | shmctl write a
	printf B | shmctl write "b c"
	run shmctl exec a "b c" -- sh -c 'echo "$SHMD_FDS"; echo "$SHMD_NAMES"; head -c1 <&3; head -c1 <&4'
	assert_success
	assert_output "3 4
a
b c
AB"
}

@test "exec: writes through the fd land in the region" {
	shmctl create w 4K
	run shmctl exec w -- sh -c 'printf written 1<>/proc/self/fd/3'
	assert_success
	run shmctl read w --length 7
	assert_output "written"
}

@test "exec: --ro gives an fd that cannot be written" {
	shmctl create ro 4K
	run shmctl exec --ro ro -- python3 -c 'import os; os.write(3, b"x")'
	assert_failure
	assert_output --partial "Bad file descriptor"
	run shmctl exec --ro ro -- python3 -c 'import fcntl, os; print(fcntl.fcntl(3, fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDONLY)'
	assert_success
	assert_output "True"
}

@test "exec: the fds are not close-on-exec and nothing else leaks" {
	shmctl create a 4K
	run shmctl exec a -- python3 -c 'import fcntl; print(fcntl.fcntl(3, fcntl.F_GETFD) & fcntl.FD_CLOEXEC)'
	assert_success
	assert_output "0"
	# The same fds as a plain command plus 3: the daemon connection and parked copies are gone.
	run sh -c 'ls /proc/self/fd'
	local expected
	expected=$(printf '%s\n' $output 3 | sort -n | uniq)
	run shmctl exec a -- sh -c 'ls /proc/self/fd'
	assert_success
	assert_equal "$(printf '%s\n' $output | sort -n)" "$expected"
}

@test "exec: --fd N starts at N" {
	shmctl create a 4K
	shmctl create b 4K
	run shmctl exec --fd 10 a b -- sh -c 'echo "$SHMD_FDS"; readlink /proc/self/fd/10 /proc/self/fd/11'
	assert_success
	assert_line --index 0 "10 11"
	assert_line --index 1 --partial "shmd"
	assert_line --index 2 --partial "shmd"
}

@test "exec: SHMD_NAMES escapes odd bytes" {
	shmctl create $'nl\nx' 4K
	run shmctl exec $'nl\nx' -- sh -c 'printf "%s" "$SHMD_NAMES"'
	assert_success
	assert_output 'nl\x0ax'
}

@test "exec: the command's exit status is passed on" {
	shmctl create a 4K
	run shmctl exec a -- sh -c 'exit 42'
	assert_failure 42
}

@test "exec: errors" {
	shmctl create a 4K
	run shmctl exec a
	assert_failure 2
	assert_output --partial "missing '--'"
	run shmctl exec a --
	assert_failure 2
	run shmctl exec -- true
	assert_failure 2
	run shmctl exec --fd 2 a -- true
	assert_failure 2
	run shmctl exec --fd x a -- true
	assert_failure 2
	run shmctl exec --fd -1 a -- true
	assert_failure 2
	assert_line --index 0 "shmctl: invalid fd number '-1': must not be negative"
	run shmctl exec nope -- true
	assert_failure 3
	assert_output "shmctl: cannot open 'nope': no such region"
	run -127 shmctl exec a -- /no/such/command
	assert_output --partial "cannot execute '/no/such/command'"
}
