#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# The bash completion: commands, options per command, region names from a live daemon.

load helpers

# Print the completions bash would offer for the words given (the last one is completed, or
# word number $CWORD when set).
complete_words() {
	local completion=/usr/share/bash-completion/bash_completion
	[[ -r $completion ]] || skip "bash-completion is not installed"
	SHMCTL_DIR=$(dirname "$SHMCTL_BIN") bash -c '
		source /usr/share/bash-completion/bash_completion
		source "$SHMD_SRCDIR/client/shmctl.bash-completion"
		# compopt works only inside a real completion; record the call instead.
		compopt() { :; }
		# The completion runs "shmctl"; use the one under test.
		PATH="$SHMCTL_DIR:$PATH"
		COMP_WORDS=("$@")
		COMP_CWORD=${CWORD:-$((${#COMP_WORDS[@]} - 1))}
		COMP_LINE="${COMP_WORDS[*]}"
		before=("${COMP_WORDS[@]:0:COMP_CWORD+1}")
		before="${before[*]}"
		COMP_POINT=${#before}
		_shmctl
		printf "%s\n" "${COMPREPLY[@]}"
	' complete "$@"
}

@test "completion: commands" {
	run complete_words shmctl s
	assert_success
	assert_output "stat
seal
spill
status"
}

@test "completion: global options" {
	run complete_words shmctl --js
	assert_output "--json"
}

@test "completion: per-command options" {
	run complete_words shmctl create x 1G --op
	assert_output "--open-existing"
	run complete_words shmctl exec --
	assert_line "--fd"
	assert_line "--ro"
}

@test "completion: region names, escaped for the shell" {
	shmctl create vm1/ram 4K
	shmctl create vm1/rom 4K
	shmctl create "with space" 4K
	run complete_words shmctl stat vm1/r
	assert_output "vm1/ram
vm1/rom"
	run complete_words shmctl rm vm1/ram w
	assert_output 'with\ space'
	run complete_words shmctl chmod 0600 v
	assert_line "vm1/ram"
}

@test "completion: seals and columns after a comma" {
	run complete_words shmctl create x 1G --seal grow,sh
	assert_output "grow,shrink"
	run complete_words shmctl ls -o NAME,SI
	assert_output "NAME,SIZE"
}

@test "completion: region names from the daemon that --socket names, before or after the command" {
	shmctl create vm1/ram 4K
	local sock=$SHMD_SOCKET
	# The default socket leads nowhere: only --socket can find the region.
	SHMD_SOCKET=$SHMD_TEST_DIR/none run complete_words shmctl --socket "$sock" stat vm1/r
	assert_output "vm1/ram"
	SHMD_SOCKET=$SHMD_TEST_DIR/none run complete_words shmctl -S "$sock" rm vm1/r
	assert_output "vm1/ram"
	SHMD_SOCKET=$SHMD_TEST_DIR/none run complete_words shmctl stat --socket "$sock" vm1/r
	assert_output "vm1/ram"
	# The cursor on the name, the --socket after it.
	SHMD_SOCKET=$SHMD_TEST_DIR/none CWORD=2 run complete_words shmctl stat vm1/r --socket "$sock"
	assert_output "vm1/ram"
	# "--socket=PATH", which bash splits into "--socket" "=" "PATH".
	SHMD_SOCKET=$SHMD_TEST_DIR/none run complete_words shmctl stat --socket = "$sock" vm1/r
	assert_output "vm1/ram"
}
