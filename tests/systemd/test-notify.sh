#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# sd_notify readiness with the daemon binding its own socket (see notify.py).
. "$SHMD_SRCDIR/tests/systemd/lib.sh" || exit 99
command -v python3 >/dev/null || skip_all "python3 not installed"
python3 "$SHMD_SRCDIR/tests/systemd/notify.py" "$TEST_DIR"
