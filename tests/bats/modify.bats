#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# shmctl resize, mv, rm, seal, chmod, chown: effects, --json output and error exit codes.

load helpers

size_of() {
	shmctl stat "$1" --bytes -n -o SIZE
}

@test "resize: grows, shrinking needs --force" {
	shmctl create r 1M
	shmctl resize r 1.5G
	[[ $(size_of r) == 1610612736 ]]
	run shmctl resize r 4K
	assert_failure 1
	assert_output "shmctl: cannot resize 'r': would truncate: shrinking 1.5G to 4.0K needs --force"
	[[ $(size_of r) == 1610612736 ]]
	run shmctl resize r 4K --force
	assert_success
	assert_output ""
	[[ $(size_of r) == 4096 ]]
	run shmctl resize r 8K -f --json
	jq -e '.size == 8192' <<<"$output"
}

@test "resize: errors" {
	shmctl create g 1M --seal grow
	run shmctl resize g 2M
	assert_failure 4
	assert_output --partial "sealed"
	run shmctl resize nope 2M
	assert_failure 3
	run shmctl resize g lots
	assert_failure 2
	run shmctl resize g
	assert_failure 2
}

@test "resize: a negative size is a usage error, not an option (exit 2)" {
	shmctl create r 1M
	run shmctl resize r -1
	assert_failure 2
	assert_line --index 0 "shmctl: invalid size '-1': must not be negative"
	assert_line --index 1 "Try 'shmctl --help' for more information."
	run shmctl resize -f r -4K
	assert_failure 2
	assert_line --index 0 "shmctl: invalid size '-4K': must not be negative"
	run shmctl resize r -- -2M
	assert_failure 2
	assert_line --index 0 "shmctl: invalid size '-2M': must not be negative"
	[[ $(size_of r) == 1048576 ]]
	shmctl resize r 4K --force
	[[ $(size_of r) == 4096 ]]
}

@test "mv: renames, --replace replaces" {
	shmctl create a 4K
	shmctl create b 8K
	run shmctl mv a b
	assert_failure 5
	assert_output "shmctl: cannot rename 'a': region 'b' already exists"
	shmctl mv a c
	run shmctl ls -n -o NAME
	assert_output "b
c"
	run shmctl mv c b --replace --json
	assert_success
	jq -e '.name == "b" and .size == 4096' <<<"$output"
	run shmctl ls -n -o NAME
	assert_output "b"
	run shmctl mv nope x
	assert_failure 3
	run shmctl mv b
	assert_failure 2
	run shmctl mv b a//b
	assert_failure 2
}

@test "rm: removes several, goes on past failures and exits with the first failure's code" {
	shmctl create a 4K
	shmctl create b 4K
	shmctl create c 4K
	run shmctl rm a nope b
	assert_failure 3
	assert_output "shmctl: cannot remove 'nope': no such region"
	run shmctl ls -n -o NAME
	assert_output "c"
	run shmctl rm c
	assert_success
	assert_output ""
	run shmctl rm
	assert_failure 2
}

@test "rm: permission denied is 4" {
	require_root
	shmctl create mine 4K --mode 0666
	run shmctl_as_nobody rm mine
	assert_failure 4
	assert_output --partial "cannot remove 'mine': permission denied"
	run shmctl ls -n -o NAME
	assert_output "mine"
}

@test "seal: adds seals from a list" {
	shmctl create s 4K
	shmctl seal s grow,shrink
	run shmctl stat s --json
	jq -e '.seals | index("grow") and index("shrink")' <<<"$output"
	run shmctl seal s future-write,seal --json
	assert_success
	jq -e '.seals | index("future_write") and index("seal")' <<<"$output"
	run shmctl seal s write
	assert_failure 4
	run shmctl seal s nonsense
	assert_failure 2
	run shmctl seal nope grow
	assert_failure 3
}

@test "chmod: octal modes, bad ones refused" {
	shmctl create m 4K
	shmctl chmod 0644 m
	run shmctl stat m --raw -o MODE,PERMS
	assert_output "MODE 0644
PERMS rw-r--r--"
	run shmctl chmod 400 m --json
	jq -e '.mode == 256 and .perms == "r--------"' <<<"$output"
	run shmctl chmod 0777 m
	assert_failure 2
	run shmctl chmod 9 m
	assert_failure 2
	run shmctl chmod 0600 nope
	assert_failure 3
}

@test "chmod: another user gets 4" {
	require_root
	shmctl create m 4K --mode 0666
	run shmctl_as_nobody chmod 0600 m
	assert_failure 4
}

@test "chown: names and numbers, USER, USER:GROUP and :GROUP" {
	require_root
	shmctl create o 4K
	shmctl chown nobody o
	run shmctl stat o --json
	jq -e '.uid == 65534 and .owner == "nobody"' <<<"$output"
	shmctl chown 0:65534 o
	run shmctl stat o --json
	jq -e '.uid == 0 and .gid == 65534 and .group == "nogroup"' <<<"$output"
	run shmctl chown :root o --json
	jq -e '.uid == 0 and .gid == 0' <<<"$output"
	run shmctl chown no-such-user-here o
	assert_failure 2
	assert_output --partial "unknown user"
	run shmctl chown root:no-such-group o
	assert_failure 2
	run shmctl chown : o
	assert_failure 2
	run shmctl chown root nope
	assert_failure 3
	run shmctl_as_nobody chown nobody o
	assert_failure 4
}

@test "chown, chmod, seal: a negative number is a usage error, not an option (exit 2)" {
	shmctl create o 4K
	run shmctl chown -1 o
	assert_failure 2
	assert_line --index 0 "shmctl: invalid user '-1': must not be negative"
	run shmctl chown 0:-2 o
	assert_failure 2
	assert_line --index 0 "shmctl: invalid group '-2': must not be negative"
	run shmctl chmod -1 o
	assert_failure 2
	assert_line --index 0 --partial "shmctl: invalid mode '-1'"
	run shmctl seal o -1
	assert_failure 2
	assert_line --index 0 --partial "shmctl: invalid seals '-1'"
	run shmctl chmod 0640 o --json
	assert_success
	jq -e '.mode == 416' <<<"$output"
}

@test "rm -f: a missing region is not an error; other failures still are" {
	shmctl create a 4K
	run shmctl rm -f a nope
	assert_success
	assert_output ""
	run shmctl stat a
	assert_failure 3
	run shmctl rm --force nope
	assert_success
	run shmctl rm -f bad//name
	assert_failure 2
	run shmctl rm nope
	assert_failure 3
}

@test "rm --prefix/--all: removes a subtree; scripts must say --yes" {
	shmctl create vm1/ram 4K
	shmctl create vm1/rom 4K
	shmctl create vm10/ram 4K
	shmctl create other 4K
	# Not a terminal and no --yes: refused, nothing removed.
	run shmctl rm --prefix vm1/ </dev/null
	assert_failure 2
	assert_line --index 0 "shmctl: rm: refusing to remove 2 regions under 'vm1/' without --yes (standard input is not a terminal)"
	run shmctl ls -n -r -o NAME
	assert_output "other
vm1/ram
vm1/rom
vm10/ram"
	run shmctl rm --prefix vm1/ --yes
	assert_success
	run shmctl ls -n -r -o NAME
	assert_output "other
vm10/ram"
	# Nothing under the prefix: nothing to do, nothing to confirm.
	run shmctl rm --prefix nothing/ </dev/null
	assert_success
	run shmctl rm --prefix vm1/ extra
	assert_failure 2
	run shmctl rm --prefix /vm1
	assert_failure 2
	run shmctl rm --all -y
	assert_success
	run shmctl ls -n
	assert_output ""
}

@test "rm --prefix on a terminal asks first" {
	command -v script >/dev/null || skip "script(1) is not installed"
	shmctl create vm1/ram 4K
	# "n": nothing removed.
	run script -qec "$SHMCTL_BIN rm --prefix vm1/" /dev/null <<<"n"
	assert_failure 1
	assert_output --partial "remove 1 region under 'vm1/'? [y/N]"
	run shmctl stat vm1/ram
	assert_success
	run script -qec "$SHMCTL_BIN rm --prefix vm1/" /dev/null <<<"y"
	assert_success
	run shmctl stat vm1/ram
	assert_failure 3
}

@test "chown USER: sets USER's login group too, like chown(1)" {
	require_root
	shmctl create o 4K
	shmctl chown 0:100 o
	run shmctl chown root: o --json
	assert_success
	jq -e '.uid == 0 and .gid == 0' <<<"$output"
	run shmctl chown nobody: o --json
	jq -e --argjson gid "$(id -g nobody)" '.uid == 65534 and .gid == $gid' <<<"$output"
	run shmctl chown 0: o --json
	jq -e '.uid == 0 and .gid == 0' <<<"$output"
	# A uid without a passwd entry has no login group: say so, change nothing.
	run shmctl chown 54321: o
	assert_failure 2
	assert_output --partial "user 54321 has no passwd entry"
	run shmctl stat o --json
	jq -e '.uid == 0 and .gid == 0' <<<"$output"
}
