#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# shmctl quota (usage and limits as a table and JSON), the quota error line and exit status 8.

load helpers

setup() {
	CONF_DIR=$(mktemp -d "${TMPDIR:-/tmp}/shmctl-quota.XXXXXX")
	# Whoever runs the tests (root or not): 1M in at most 4 regions; everyone: 64M.
	ME=$(id -u)
	ME_NAME=$(id -un)
	GROUP_NAME=$(id -gn)
	cat >"$CONF_DIR/shmd.conf" <<-END
		[User $ME]
		MemoryMax=1M
		RegionsMax=4
		[Global]
		MemoryMax=64M
	END
	shmd_start --config "$CONF_DIR/shmd.conf"
}

teardown() {
	shmd_stop
	rm -rf "$CONF_DIR"
}

@test "quota: the table has USE% against the limits in force" {
	shmctl create q/a 256K
	shmctl create q/b 256K
	run shmctl quota
	assert_success
	assert_line --index 0 --regexp '^TYPE +SUBJECT +USED +LIMIT +USE% +REGIONS +RLIMIT +RUSE%$'
	assert_line --regexp '^global +- +512\.0K +64\.0M +1% +2 +- +-$'
	assert_line --regexp "^user +$ME_NAME +512\\.0K +1\\.0M +50% +2 +4 +50%\$"
	assert_line --regexp "^group +$GROUP_NAME +512\\.0K +- +- +2 +- +-\$"
}

@test "quota --json: typed numbers, null for no limit" {
	shmctl create q/a 256K
	run shmctl quota --json
	assert_success
	run jq -c '.quotas[] | select(.scope == "user") | [.subject, .id, .bytes, .memoryMax, .usePercent, .regions, .regionsMax]' <<<"$output"
	assert_output "[\"$ME_NAME\",$ME,262144,1048576,25,1,4]"
	run jq -c '.quotas[] | select(.scope == "global") | [.regionsMax, .regionsUsePercent]' <<<"$(shmctl quota --json)"
	assert_output '[null,null]'
}

@test "quota -b -o: bytes, chosen columns; unknown column is a usage error" {
	shmctl create q/a 1000
	run shmctl quota -b -o SUBJECT,USED --noheadings
	assert_success
	assert_line --regexp "^$ME_NAME +1000\$"
	run shmctl quota -o NOPE
	assert_failure 2
	assert_output --partial "unknown column 'NOPE'"
}

@test "create over a quota: one error line naming the subject, exit status 8" {
	shmctl create q/a 768K
	run shmctl create vm1/ram 512K
	assert_failure 8
	assert_output "shmctl: cannot create 'vm1/ram': quota exceeded for user $ME_NAME ($ME): 768.0K used + 512.0K requested > 1.0M"
	run shmctl create big 100M
	assert_failure 8
	assert_output "shmctl: cannot create 'big': quota exceeded for user $ME_NAME ($ME): 768.0K used + 100.0M requested > 1.0M"
	shmctl create q/b 1K
	shmctl create q/c 1K
	shmctl create q/d 1K
	run shmctl create q/e 1K
	assert_failure 8
	assert_output "shmctl: cannot create 'q/e': quota exceeded for user $ME_NAME ($ME): 4 regions used + 1 requested > 4"
	run shmctl resize q/a 2M
	assert_failure 8
	assert_output --partial "cannot resize 'q/a': quota exceeded for user $ME_NAME ($ME)"
}

@test "the global quota: the same line, exit status 8" {
	require_root
	run shmctl_as_nobody create n/big 65M
	assert_failure 8
	assert_output "shmctl: cannot create 'n/big': global quota exceeded: 0 used + 65.0M requested > 64.0M"
}

@test "create -e of another uid's region: refused, naming the owner" {
	require_root
	shmctl_as_nobody create --mode 0666 vm9/ram 4K
	run shmctl create -e vm9/ram 1G --mode 0600
	assert_failure 4
	assert_output "shmctl: cannot create 'vm9/ram': exists, owned by uid 65534 (not opened: it is not yours)"
}
