/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shmd_region_map(): open a region and map all of it with the protection its access allows. */

#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "libshmd-private.h"

static int do_map(struct shmd_ctx *ctx, const char *name, int oflags, void **ret_addr,
		  size_t *ret_size)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (!ret_addr || !ret_size)
		return ctx_fail(ctx, -EINVAL, "no place for the mapping");
	int r = shmd_open(ctx, name, oflags, &fd, NULL);
	if (r < 0)
		return r;

	/* The size now, not the one in the reply: a holder may have resized it since. */
	if (fstat(fd, &st) < 0)
		return ctx_fail(ctx, negative_errno(), "fstat: %m");
	if ((uint64_t)st.st_size > SIZE_MAX)
		return ctx_fail(ctx, -EFBIG, "region too large to map");
	if (st.st_size == 0) {
		/* mmap() of length 0 is EINVAL; an empty region maps to nothing. */
		*ret_addr = NULL;
		*ret_size = 0;
		return 0;
	}

	int prot = (oflags & O_ACCMODE) == O_RDWR ? PROT_READ | PROT_WRITE : PROT_READ;
	void *p = mmap(NULL, (size_t)st.st_size, prot, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return ctx_fail(ctx, negative_errno(), "cannot map region: %m");
	/* The mapping keeps the memfd alive; the fd is closed on return. */
	*ret_addr = p;
	*ret_size = (size_t)st.st_size;
	return 0;
}

_export_ int shmd_region_map(struct shmd_ctx *ctx, const char *name, int oflags, void **ret_addr,
			     size_t *ret_size)
{
	if (!ctx)
		return -EINVAL;
	return ctx_finish(ctx, do_map(ctx, name, oflags, ret_addr, ret_size));
}

_export_ int shmd_region_unmap(void *addr, size_t size)
{
	if (!addr || size == 0)
		return 0;
	return munmap(addr, size) < 0 ? negative_errno() : 0;
}
