/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shmd_create_opts: the options of a Create, with named setters and documented defaults. */

#include <stdlib.h>

#include "libshmd-private.h"
#include "seals.h"

struct shmd_create_opts {
	mode_t mode;
	unsigned seals;
	bool fixed;
	bool open_existing;
	bool nospill;
};

_export_ struct shmd_create_opts *shmd_create_opts_new(void)
{
	struct shmd_create_opts *opts = calloc(1, sizeof(*opts));
	if (!opts)
		return NULL;
	/* The defaults libshmd(3) lists: what shmd_create() gives with mode 0 and no flags. */
	opts->mode = 0600;
	return opts;
}

_export_ struct shmd_create_opts *shmd_create_opts_free(struct shmd_create_opts *opts)
{
	free(opts);
	return NULL;
}

_export_ int shmd_create_opts_set_mode(struct shmd_create_opts *opts, mode_t mode)
{
	/* The daemon takes read and write bits only: a memfd is never executed through it. */
	if (!opts || (mode & ~(mode_t)0666))
		return -EINVAL;
	opts->mode = mode;
	return 0;
}

_export_ int shmd_create_opts_set_seals(struct shmd_create_opts *opts, unsigned seals)
{
	if (!opts || (seals & ~(unsigned)SHMD_SEAL_ALL))
		return -EINVAL;
	opts->seals = seals;
	return 0;
}

_export_ int shmd_create_opts_set_fixed(struct shmd_create_opts *opts, bool fixed)
{
	if (!opts)
		return -EINVAL;
	opts->fixed = fixed;
	return 0;
}

_export_ int shmd_create_opts_set_open_existing(struct shmd_create_opts *opts, bool open_existing)
{
	if (!opts)
		return -EINVAL;
	opts->open_existing = open_existing;
	return 0;
}

_export_ int shmd_create_opts_set_nospill(struct shmd_create_opts *opts, bool nospill)
{
	if (!opts)
		return -EINVAL;
	opts->nospill = nospill;
	return 0;
}

_export_ int shmd_create_with(struct shmd_ctx *ctx, const char *name, uint64_t size,
			      const struct shmd_create_opts *opts, int *ret_fd,
			      struct shmd_region **ret_region, bool *ret_created)
{
	static const struct shmd_create_opts defaults = { .mode = 0600 };

	if (!ctx)
		return -EINVAL;
	if (!opts)
		opts = &defaults;
	unsigned flags = (opts->fixed ? SHMD_CREATE_FIXED : 0) |
			 (opts->open_existing ? SHMD_CREATE_OPEN_EXISTING : 0) |
			 (opts->nospill ? SHMD_CREATE_NOSPILL : 0);
	return ctx_finish(ctx, create_region(ctx, name, size, opts->mode, flags, opts->seals,
					     ret_fd, ret_region, ret_created));
}
