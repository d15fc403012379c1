/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Dropping privileges once the socket is bound: keep only what region inodes need. */
#pragma once

/*
 * As root: keep uid 0 but only CAP_CHOWN, CAP_FOWNER and CAP_DAC_OVERRIDE (to give region
 * inodes their owner's uid/gid/mode and re-open them for handouts), empty the bounding set
 * of everything else, and set PR_SET_NO_NEW_PRIVS. Otherwise only the latter. 0 or -errno.
 */
int privileges_drop(void);
