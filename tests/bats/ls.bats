#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# shmctl ls/list: the column table, --output, --raw, --noheadings, --bytes, --json, prefixes.

load helpers

@test "ls: default columns (raw, golden)" {
	make_regions
	shmctl ls --raw | assert_golden ls-default-raw
}

@test "ls: aligned table (golden)" {
	make_regions
	shmctl ls -o NAME,SIZE,PERMS,MODE,FIXED,STATE,CREATED | assert_golden ls-table
}

@test "ls: default headings" {
	run shmctl ls
	assert_success
	assert_output --regexp '^NAME +SIZE +RSS +SWAP +ALLOC OWNER +GROUP +PERMS +SEALS +HOLDERS +CREATED$'
}

@test "ls: --bytes prints exact sizes" {
	make_regions
	run shmctl ls --bytes -n -o NAME,SIZE --raw
	assert_success
	assert_output "vm1/ram 1610612736
vm1/rom 65536
vm2/ram 2147483648
with\\x20space 4096"
}

@test "ls: --output +COLS adds to the defaults, column names are case-insensitive" {
	shmctl create a 4K
	run shmctl ls -o +id,Fixed --raw
	assert_success
	assert_line --index 0 "NAME SIZE RSS SWAP ALLOC OWNER GROUP PERMS SEALS HOLDERS CREATED ID FIXED"
	assert_line --index 1 --regexp '^a 4\.0K 0 0 0 .* 0 [^ ]+ 1 no$'
}

@test "ls: every column can be selected" {
	shmctl create a 4K
	run shmctl ls -o NAME,SIZE,OWNER,GROUP,PERMS,MODE,SEALS,FSEALS,FIXED,STATE,ID,CREATED,CHANGED,CPID,CUID,UNIT --raw
	assert_success
	assert_line --index 0 "NAME SIZE OWNER GROUP PERMS MODE SEALS FSEALS FIXED STATE ID CREATED CHANGED CPID CUID UNIT"
	assert_line --index 1 --regexp "^a 4\\.0K [^ ]+ [^ ]+ rw------- 0600 [^ ]+ - no resident 1 [0-9-]+\\\\x20[0-9:]+ [0-9-]+\\\\x20[0-9:]+ [0-9]+ $(id -u) [^ ]+\$"
}

@test "ls: unknown column is a usage error" {
	run shmctl ls -o NAME,BOGUS
	assert_failure 2
	assert_line --index 0 "shmctl: unknown column 'BOGUS'"
	run shmctl ls -o ''
	assert_failure 2
}

@test "ls: --noheadings and an empty registry" {
	run shmctl ls --noheadings
	assert_success
	assert_output ""
	run shmctl ls --json
	assert_success
	jq -e '.regions == []' <<<"$output"
}

@test "ls: PREFIX filters, list is an alias" {
	make_regions
	run shmctl ls vm1/ -n -o NAME
	assert_output "vm1/ram
vm1/rom"
	run shmctl list vm -n -o NAME
	assert_output "vm1/ram
vm1/rom
vm2/ram"
	run shmctl ls nomatch -n
	assert_success
	assert_output ""
	run shmctl ls a b
	assert_failure 2
}

@test "ls: --json is typed" {
	make_regions
	run shmctl ls --json
	assert_success
	jq -e '.regions | length == 4' <<<"$output"
	jq -e '.regions[0] | (.name|type=="string") and (.size|type=="number")
		and (.uid|type=="number") and (.gid|type=="number")
		and (.owner|type=="string") and (.group|type=="string")
		and (.perms|type=="string") and (.seals|type=="array")
		and (.created|type=="string") and (.createdUSec|type=="number")' <<<"$output"
	jq -e '.regions[0].created | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$")' <<<"$output"
	jq -e '[.regions[].name] == ["vm1/ram","vm1/rom","vm2/ram","with space"]' <<<"$output"
	jq -e '.regions[0].size == 1610612736' <<<"$output"
}

@test "ls: --json is pretty-printed two spaces a level, rows in one array" {
	make_regions
	run shmctl ls --json
	assert_success
	# Every region has a seal (exec), so no empty array, where jq and json-c differ.
	jq -e '[.regions[].seals | length > 0] | all' <<<"$output"
	diff -u <(jq --indent 2 . <<<"$output") <(printf '%s\n' "$output")
	run shmctl ls --json nothing/
	assert_success
	assert_output '{
  "regions": [
  ]
}'
}

@test "ls: --json with --output carries only those keys, typed" {
	shmctl create a 4K --fixed
	run shmctl ls --json -o NAME,FIXED,MODE,ID,CPID,CUID,UNIT,STATE,FSEALS,CHANGED
	assert_success
	jq -e '.regions[0] | keys == ["changed","changedUSec","creatorPid","creatorUid","creatorUnit","fixed","foreignSeals","id","mode","name","state"]' <<<"$output"
	jq -e '.regions[0] | (.fixed == true) and (.mode == 384) and (.id|type=="number")
		and (.creatorPid|type=="number") and (.foreignSeals == [])
		and (.creatorUnit == null or (.creatorUnit|type=="string"))' <<<"$output"
}

@test "ls: --json createdUSec matches created" {
	shmctl create a 4K
	run shmctl ls --json
	jq -e '.regions[0] | (.createdUSec / 1000000 | floor | todate) == (.created | sub("\\.[0-9]+Z$"; "Z"))' <<<"$output"
}

@test "ls: odd names are escaped for humans and base64 in JSON" {
	shmctl create $'nl\nname' 4K
	shmctl create $'back\\slash' 4K
	run shmctl ls -n -o NAME
	assert_output "back\\x5cslash
nl\\x0aname"
	run shmctl ls --json -o NAME
	jq -e '.regions[0].name == "back\\slash" and .regions[1].name == "nl\nname"' <<<"$output"
	shmctl create $'\xfe\xff' 4K
	run shmctl ls --json -o NAME
	jq -e '.regions[2].nameBase64 == "/v8="' <<<"$output"
}

@test "ls: options before the command work too" {
	shmctl create a 4K
	run shmctl --json ls
	jq -e '.regions[0].name == "a"' <<<"$output"
	run shmctl --raw --noheadings --bytes --output NAME,SIZE ls
	assert_output "a 4096"
}

@test "ls: long names are truncated to fit a terminal (…), --notruncate keeps them" {
	command -v script >/dev/null || skip "script(1) is not installed"
	local long=vm1/a-very-long-region-name-that-would-push-every-other-column-off-screen
	shmctl create "$long" 4K -q
	# On a terminal of 60 columns: NAME is cut, the other columns stay whole.
	run script -qec "COLUMNS=60 $SHMCTL_BIN ls -o NAME,SIZE,PERMS" /dev/null
	assert_success
	local line=${lines[1]//$'\r'/}
	[[ $line == "vm1/a-very-long-region-name-"*"…  4.0K rw-------" ]]
	# 60 columns, the ellipsis counted once whatever the locale.
	(( $(printf '%s' "${line//…/.}" | wc -c) == 60 ))
	run script -qec "COLUMNS=60 $SHMCTL_BIN ls -o NAME,SIZE,PERMS --notruncate" /dev/null
	assert_line --partial "$long"
	# Not a terminal (a pipe, a file): never truncated, as with util-linux.
	run bash -c 'COLUMNS=60 "$SHMCTL_BIN" ls -o NAME,SIZE | cat'
	assert_line --partial "$long"
	run script -qec "COLUMNS=60 $SHMCTL_BIN ls -o NAME,SIZE --raw" /dev/null
	assert_line --partial "$long"
}

@test "ls: HOLDERS counts descriptions held outside the daemon; --deleted lists deleted regions still held" {
	shmctl create h 4K
	run shmctl ls -n -o NAME,HOLDERS --raw h
	assert_output "h 0"
	# exec holds an fd of h while its command runs.
	run shmctl exec h -- "$SHMCTL_BIN" ls -n -o NAME,HOLDERS --raw h
	assert_success
	assert_output "h 1"
	run shmctl exec h -- sh -c '"$0" rm h && "$0" ls --deleted -n -o NAME,HOLDERS,DELETED --raw && "$0" status --json' "$SHMCTL_BIN"
	assert_success
	assert_line --index 0 "h 1 yes"
	assert_output --partial '"deletedRegions": 1'
	run shmctl ls --deleted -n --raw
	assert_success
	assert_output ""
	run shmctl ls -n --raw
	assert_output ""
	run shmctl stat -o HOLDERS,LASTOPEN,LASTCLOSE --json h
	assert_failure
}

@test "ls --deleted: JSON" {
	shmctl create m 8K
	run shmctl exec m -- sh -c '"$0" rm m; "$0" ls --deleted --json -o NAME,HOLDERS,DELETED' "$SHMCTL_BIN"
	assert_success
	assert_output --partial '"name": "m"'
	assert_output --partial '"holders": 1'
	assert_output --partial '"deleted": true'
}
