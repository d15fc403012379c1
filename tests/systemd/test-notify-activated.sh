#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# sd_notify readiness under socket activation (systemd-socket-activate; see notify.py).
. "$SHMD_SRCDIR/tests/systemd/lib.sh" || exit 99
command -v python3 >/dev/null || skip_all "python3 not installed"
command -v systemd-socket-activate >/dev/null ||
	skip_all "systemd-socket-activate not installed (Debian package systemd)"
python3 "$SHMD_SRCDIR/tests/systemd/notify.py" "$TEST_DIR" socket-activate
