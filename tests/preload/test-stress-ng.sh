#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# stress-ng's POSIX shared-memory and memfd stressors, verifying, under libshmd-preload, with
# memfd_create() routed to shmd too (SHMD_PRELOAD_MEMFD=1).
set -u
. "$(dirname "$0")/lib.sh"

command -v stress-ng >/dev/null ||
	skip_all "no stress-ng (Debian stress-ng; scripts/install-deps installs it)"
[[ -r $PRELOAD_LIB ]] || skip_all "no $PRELOAD_LIB"

plan 7
start_daemon
preload_env
cd "$TEST_DIR" || exit 1
env "${PRELOAD_ENV[@]}" SHMD_PRELOAD_MEMFD=1 stress-ng --shm 2 --memfd 2 --verify --timeout 5s \
	--metrics-brief >"$TEST_DIR/stress.log" 2>&1
status=$?
sed 's/^/# /' "$TEST_DIR/stress.log"
ok $status "stress-ng --shm 2 --memfd 2 --verify --timeout 5s (memfd_create routed too)"
grep -q 'successful run completed' "$TEST_DIR/stress.log"
ok $? "stress-ng reports a successful run"
# A stressor's failed call is only a "fail:" line in a run stress-ng still calls successful.
! grep -q ' fail: ' "$TEST_DIR/stress.log"
ok $? "no stressor reported a failure"
"$SHMCTL_BIN" --socket "$SOCK" status >/dev/null && kill -0 "$DAEMON_PID"
ok $? "the daemon is still serving"
left=$(regions)
n_left=$(printf '%s' "$left" | grep -c .)
# At its timeout stress-ng kills a stressor still inside a cycle (a loaded machine makes that
# likely): the object it made and had not yet unlinked stays, as it would in /dev/shm. So at
# most one per --shm instance may be left; a preload that lost unlinks would leave hundreds.
((n_left <= 2))
ok $? "no leftovers in shmctl ls beyond one per killed stressor (${n_left} left${left:+: $left})"
# The memfd stressor really went through shmd: the daemon audited its CreateAnonymous calls.
n_anon=$(grep -c "audit: CreateAnonymous .*: ok" "$TEST_DIR/shmd.log")
((n_anon > 0))
ok $? "memfd_create() went to shmd (${n_anon} anonymous regions made)"
# Every stressor has exited: every memfd's last holder is gone, so is every anonymous region.
for ((i = 0; i < 50; i++)); do
	anon=$("$SHMCTL_BIN" --socket "$SOCK" -n -r -o NAME ls --anonymous)
	[[ -z $anon ]] && break
	sleep 0.1
done
[[ -z $anon ]]
ok $? "no anonymous region left once stress-ng exited (${anon:-none})"
finish
