/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shmd_region_map() and _map_range(): open a region and map it (or a range) with the protection its access allows. */

#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libshmd-private.h"

/*
 * Map [offset, offset + length) of name; length 0 means "to the current end". The offset must
 * be a multiple of the page size (mmap(2) says EINVAL otherwise); a range past the current end
 * is -ERANGE, since touching it would raise SIGBUS.
 */
static int do_map(struct shmd_ctx *ctx, const char *name, int oflags, uint64_t offset,
		  size_t length, void **ret_addr, size_t *ret_size)
{
	_cleanup_close_ int fd = -1;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	struct stat st;

	if (!ret_addr || !ret_size)
		return ctx_fail(ctx, -EINVAL, "no place for the mapping");
	if (offset % page != 0)
		return ctx_fail(ctx, -EINVAL,
				"offset %llu is not a multiple of the page size (%llu)",
				(unsigned long long)offset, (unsigned long long)page);
	int r = shmd_open(ctx, name, oflags, &fd, NULL);
	if (r < 0)
		return r;

	/* The size now, not the one in the reply: a holder may have resized it since. */
	if (fstat(fd, &st) < 0)
		return ctx_fail(ctx, negative_errno(), "fstat: %m");
	uint64_t size = (uint64_t)st.st_size;
	if (offset > size || (length > 0 && length > size - offset))
		return ctx_fail(ctx, -ERANGE,
				"range %llu+%zu passes the end of the region (%llu bytes)",
				(unsigned long long)offset, length, (unsigned long long)size);
	uint64_t want = length > 0 ? length : size - offset;
	if (want > SIZE_MAX)
		return ctx_fail(ctx, -EFBIG, "region too large to map");
	if (want == 0) {
		/* mmap() of length 0 is EINVAL; an empty range maps to nothing. */
		*ret_addr = NULL;
		*ret_size = 0;
		return 0;
	}

	int prot = (oflags & O_ACCMODE) == O_RDWR ? PROT_READ | PROT_WRITE : PROT_READ;
	void *p = mmap(NULL, (size_t)want, prot, MAP_SHARED, fd, (off_t)offset);
	if (p == MAP_FAILED)
		return ctx_fail(ctx, negative_errno(), "cannot map region: %m");
	/* The mapping keeps the memfd alive; the fd is closed on return. */
	*ret_addr = p;
	*ret_size = (size_t)want;
	return 0;
}

_export_ int shmd_region_map(struct shmd_ctx *ctx, const char *name, int oflags, void **ret_addr,
			     size_t *ret_size)
{
	if (!ctx)
		return -EINVAL;
	return ctx_finish(ctx, do_map(ctx, name, oflags, 0, 0, ret_addr, ret_size));
}

_export_ int shmd_region_map_range(struct shmd_ctx *ctx, const char *name, int oflags,
				   uint64_t offset, size_t length, void **ret_addr,
				   size_t *ret_size)
{
	if (!ctx)
		return -EINVAL;
	return ctx_finish(ctx, do_map(ctx, name, oflags, offset, length, ret_addr, ret_size));
}

_export_ int shmd_region_unmap(void *addr, size_t size)
{
	if (!addr || size == 0)
		return 0;
	return munmap(addr, size) < 0 ? negative_errno() : 0;
}
