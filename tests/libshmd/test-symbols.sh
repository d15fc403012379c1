#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The exported symbols of libshmd.so are exactly those listed in libshmd.sym, each at its node's version.
set -u
so="$SHMD_BUILDDIR/libshmd/.libs/libshmd.so"
sym="$SHMD_SRCDIR/libshmd/libshmd.sym"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

echo "1..4"
if [ ! -e "$so" ]; then
	echo "Bail out! $so not built"
	exit 1
fi
# Function names from the version script's global: sections, and "name@@NODE" for each.
awk '/^[A-Z0-9_]+ *\{/ { node = $1 } /^[[:space:]]+[A-Za-z0-9_]+;/ { gsub(/[[:space:];]/, ""); print $0 "@@" node }' \
	"$sym" | sort >"$tmp/versioned"
sed 's/@.*//' "$tmp/versioned" >"$tmp/listed"
nm -D --defined-only "$so" | awk '$2 != "A" { print $3 }' >"$tmp/raw"
sed 's/@.*//' "$tmp/raw" | sort >"$tmp/exported"

n=1
check() { # description, then the test command
	d=$1; shift
	if "$@"; then echo "ok $n - $d"; else echo "not ok $n - $d"; fi
	n=$((n + 1))
}
check "libshmd.sym lists functions" test -s "$tmp/listed"
check "every listed symbol is exported" sh -c "comm -23 '$tmp/listed' '$tmp/exported' | diff /dev/null -"
check "nothing else is exported" sh -c "comm -13 '$tmp/listed' '$tmp/exported' | diff /dev/null -"
check "every export is versioned by the node that lists it" sh -c "sort '$tmp/raw' | diff '$tmp/versioned' -"
