/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shmctl spill and restore: move a region's data to shmd's spill file and back. */

#include <getopt.h>

#include "columns.h"
#include "macro.h"
#include "output.h"
#include "shmctl.h"

static int spill_or_restore(struct shmctl *s, int argc, char *argv[], bool out)
{
	_cleanup_region_ struct shmd_region *region = NULL;
	int r = parse_global_only(s, argc, argv);

	if (r != SHMCTL_OPT_CONTINUE)
		return r;
	argc -= optind;
	argv += optind;
	r = expect_args(s, argc, 1);
	if (!r)
		r = parse_name(argv[0], false);
	if (!r)
		r = shmctl_connect(s);
	if (r)
		return r;
	r = out ? shmd_spill(s->ctx, argv[0], s->json ? &region : NULL) :
		  shmd_restore(s->ctx, argv[0], s->json ? &region : NULL);
	if (r < 0)
		return shmctl_fail(s, r, out ? "spill" : "restore", argv[0]);
	return s->json ? print_region(s, region, NULL) : 0;
}

int cmd_spill(struct shmctl *s, int argc, char *argv[])
{
	return spill_or_restore(s, argc, argv, true);
}

int cmd_restore(struct shmctl *s, int argc, char *argv[])
{
	return spill_or_restore(s, argc, argv, false);
}
