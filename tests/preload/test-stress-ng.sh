#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# stress-ng's POSIX shared-memory and memfd stressors, verifying, under libshmd-preload.
set -u
. "$(dirname "$0")/lib.sh"

command -v stress-ng >/dev/null ||
	skip_all "no stress-ng (Debian stress-ng; scripts/install-deps installs it)"
[[ -r $PRELOAD_LIB ]] || skip_all "no $PRELOAD_LIB"

plan 3
start_daemon
preload_env
cd "$TEST_DIR" || exit 1
env "${PRELOAD_ENV[@]}" stress-ng --shm 2 --memfd 2 --verify --timeout 5s --metrics-brief \
	>"$TEST_DIR/stress.log" 2>&1
status=$?
sed 's/^/# /' "$TEST_DIR/stress.log"
ok $status "stress-ng --shm 2 --memfd 2 --verify --timeout 5s"
grep -q 'successful run completed' "$TEST_DIR/stress.log"
ok $? "stress-ng reports a successful run"
left=$(regions)
n_left=$(printf '%s' "$left" | grep -c .)
# At its timeout stress-ng kills a stressor still inside a cycle (a loaded machine makes that
# likely): the object it made and had not yet unlinked stays, as it would in /dev/shm. So at
# most one per --shm instance may be left; a preload that lost unlinks would leave hundreds.
((n_left <= 2))
ok $? "no leftovers in shmctl ls beyond one per killed stressor (${n_left} left${left:+: $left})"
finish
