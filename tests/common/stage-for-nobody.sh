#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# usage: stage-for-nobody.sh DIR
# Copy the built shmctl and libshmd into DIR (made 0755) and print the command that runs that
# copy, for tests that run shmctl as uid 65534. The build tree may sit below a directory that
# uid 65534 cannot enter (a CI checkout under a private home or a mktemp -d), where the libtool
# wrapper and .libs/ are out of its reach. The caller owns DIR and removes it.
set -euo pipefail
: "${SHMCTL_BIN:?SHMCTL_BIN must point at the shmctl binary (make check sets it)}"
dir=$1
: "${SHMD_BUILDDIR:?SHMD_BUILDDIR must be set (make check sets it)}"
libs=$(dirname "$SHMCTL_BIN")/.libs

mkdir -p "$dir"
chmod 0755 "$dir"
if [[ -x $libs/shmctl ]]; then
	# A libtool build: the real program is in .libs/, next to libshmd.so.
	cp "$libs/shmctl" "$dir/shmctl"
	cp -P "$SHMD_BUILDDIR"/libshmd/.libs/libshmd.so* "$dir/"
	echo "env LD_LIBRARY_PATH=$dir $dir/shmctl"
else
	cp "$SHMCTL_BIN" "$dir/shmctl"
	echo "$dir/shmctl"
fi
chmod -R a+rX "$dir"
