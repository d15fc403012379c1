#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# What a consumer of the installed libshmd sees: "make install DESTDIR=" into a temporary
# directory, then examples/shmd-example.c built with only the flags of the installed
# libshmd.pc (PKG_CONFIG_PATH + PKG_CONFIG_SYSROOT_DIR) and run against a private daemon.
. "$SHMD_SRCDIR/tests/systemd/lib.sh" || exit 99

: "${SHMD_PACKAGE_VERSION:?SHMD_PACKAGE_VERSION must be set (make check sets it)}"
command -v pkg-config >/dev/null || skip_all "pkg-config not installed"
cc=${SHMD_TEST_CC:-cc}

plan 11
dest=$TEST_DIR/dest
# A make of its own: not the jobserver of the "make check" that runs this test.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	make -C "$SHMD_BUILDDIR" install DESTDIR="$dest" >"$TEST_DIR/install.out" 2>&1
rc=$?
ok $rc "make install DESTDIR=..."
((rc == 0)) || diag_file "$TEST_DIR/install.out"

# The units' neighbour installed with them: the sysusers.d file of the opt-in shmd group.
[[ -n $(find "$dest" -path '*/sysusers.d/shmd.conf') ]]
ok $? "the shmd group's sysusers.d file is installed ($(find "$dest" -path '*/sysusers.d/shmd.conf' | sed "s|^$dest||"))"

mapfile -t pcs < <(find "$dest" -name libshmd.pc)
is "${#pcs[@]}" 1 "one libshmd.pc installed (${pcs[*]#"$dest"})"
pc=${pcs[0]:-$dest/missing/libshmd.pc}
! grep -n '@' "$pc" >"$TEST_DIR/at" 2>&1 && [[ -f $pc ]]
ok $? "libshmd.pc has every @variable@ filled in"
diag_file "$TEST_DIR/at"

export PKG_CONFIG_PATH=${pc%/*} PKG_CONFIG_SYSROOT_DIR=$dest
is "$(pkg-config --modversion libshmd 2>&1)" "$SHMD_PACKAGE_VERSION" \
	"pkg-config --modversion libshmd is the package version"
pkg-config --exists "libshmd >= $SHMD_PACKAGE_VERSION"
ok $? "pkg-config --exists 'libshmd >= $SHMD_PACKAGE_VERSION'"

# -version-info 1:0:1 (LIBSHMD_2 added interfaces): the soname is CURRENT - AGE, unchanged.
sonames=$(find "$dest" -name 'libshmd.so.*.*.*' -exec readelf -d {} + 2>&1 |
	sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
libs_installed=$(find "$dest" -name 'libshmd.so*' -printf '%f\n' | sort | paste -sd ' ')
is "$sonames" libshmd.so.0 "the installed library's soname is libshmd.so.0 ($libs_installed)"

cflags=$(pkg-config --cflags libshmd) libs=$(pkg-config --libs libshmd)
diag "cflags: $cflags" "libs: $libs"
# The staged library directory, from the -L the .pc gives (the sysroot is already in it).
libdir=$(pkg-config --libs-only-L libshmd)
libdir=${libdir#-L}
libdir=${libdir%% *}
# shellcheck disable=SC2086 # the flags are words
$cc $cflags "$SHMD_SRCDIR/examples/shmd-example.c" -o "$TEST_DIR/example" $libs \
	${SHMD_TEST_SAN_LDFLAGS:-} >"$TEST_DIR/cc.out" 2>&1
rc=$?
ok $rc "shmd-example.c builds with the installed header and library"
((rc == 0)) || diag_file "$TEST_DIR/cc.out"

# The program finds the staged library (not the build tree's) through LD_LIBRARY_PATH.
export LD_LIBRARY_PATH=$libdir
resolved=$(ldd "$TEST_DIR/example" 2>/dev/null | sed -n 's/.*libshmd\.so[.0-9]* => \([^ ]*\).*/\1/p')
[[ $libdir == "$dest"/* && $resolved == "$libdir"/libshmd.so* ]]
ok $? "it loads the installed libshmd ($resolved)"

sock=$TEST_DIR/shmd.sock
$SHMD_TEST_WRAPPER "$SHMD_BIN" --socket "$sock" --log-level warning &
daemon=$!
TEST_PIDS+=("$daemon")
if ! wait_serving "$sock" "$daemon"; then
	echo "Bail out! shmd did not start"
	exit 1
fi
SHMD_SOCKET=$sock timeout 30 "$TEST_DIR/example" >"$TEST_DIR/out" 2>&1
rc=$?
ok $rc "it runs against a private daemon"
((rc == 0)) || diag_file "$TEST_DIR/out"
grep -q '^read back: hello from libshmd$' "$TEST_DIR/out"
ok $? "it reads back what it wrote"
done_testing
