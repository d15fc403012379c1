/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Dropping privileges once the socket is bound: keep only what region inodes need. */

#include <stdbool.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "log.h"
#include "privilege.h"

static const cap_value_t keep[] = { CAP_CHOWN, CAP_FOWNER, CAP_DAC_OVERRIDE };

static bool kept(cap_value_t cap)
{
	for (size_t i = 0; i < ELEMENTSOF(keep); i++)
		if (keep[i] == cap)
			return true;
	return false;
}

static void cap_freep(cap_t *c)
{
	if (*c)
		cap_free(*c);
}

/* Without CAP_SETPCAP (a container) the bounding set stays; the effective set still shrinks. */
static void drop_bounding_set(void)
{
	for (cap_value_t cap = 0; cap <= (cap_value_t)cap_max_bits() - 1; cap++) {
		if (kept(cap) || CAP_IS_SUPPORTED(cap) == 0)
			continue;
		if (cap_drop_bound(cap) < 0) {
			log_debug("cannot drop capability %d from the bounding set: %m", cap);
			return;
		}
	}
}

int privileges_drop(void)
{
	if (geteuid() == 0) {
		_cleanup_(cap_freep) cap_t have = cap_get_proc();
		_cleanup_(cap_freep) cap_t want = cap_init();
		cap_value_t list[ELEMENTSOF(keep)];
		int n = 0;

		if (!have || !want)
			return -ENOMEM;
		/* Keep only capabilities we actually hold (containers may lack some). */
		for (size_t i = 0; i < ELEMENTSOF(keep); i++) {
			cap_flag_value_t v = CAP_CLEAR;
			if (cap_get_flag(have, keep[i], CAP_PERMITTED, &v) == 0 && v == CAP_SET)
				list[n++] = keep[i];
		}
		drop_bounding_set();
		if (cap_set_flag(want, CAP_PERMITTED, n, list, CAP_SET) < 0 ||
		    cap_set_flag(want, CAP_EFFECTIVE, n, list, CAP_SET) < 0 ||
		    cap_set_proc(want) < 0)
			return log_errno(LOG_ERR, errno, "cannot drop capabilities");
		log_debug("kept %d of 3 capabilities (chown, fowner, dac_override)", n);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return log_errno(LOG_ERR, errno, "PR_SET_NO_NEW_PRIVS");
	return 0;
}
