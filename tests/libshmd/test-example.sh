#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Run examples/shmd-example against a private daemon.
set -u
tmp=$(mktemp -d) || exit 1
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid"
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "1..3"
$SHMD_TEST_WRAPPER "$SHMD_BIN" --socket "$tmp/shmd.sock" --log-level warning &
pid=$!
i=0
while [ ! -S "$tmp/shmd.sock" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.2 # bound before listen(): give it a moment
if [ ! -S "$tmp/shmd.sock" ]; then
	echo "Bail out! shmd did not start"
	exit 1
fi

if SHMD_SOCKET="$tmp/shmd.sock" "$SHMD_BUILDDIR/examples/shmd-example" >"$tmp/out" 2>&1; then
	echo "ok 1 - shmd-example exits 0"
else
	echo "not ok 1 - shmd-example exits 0"
	sed 's/^/# /' "$tmp/out"
fi
if grep -q '^read back: hello from libshmd$' "$tmp/out"; then
	echo "ok 2 - it reads back what it wrote"
else
	echo "not ok 2 - it reads back what it wrote"
fi
if grep -q '^deleted example/' "$tmp/out"; then
	echo "ok 3 - it deletes its region"
else
	echo "not ok 3 - it deletes its region"
fi
