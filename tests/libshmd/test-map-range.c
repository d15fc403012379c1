/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shmd_region_map_range(): a page-aligned range of a region, and its misaligned/out-of-range errors. */

#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>

#include "libshmd-test.h"

int main(void)
{
	struct test_daemon d;
	struct shmd_ctx *ctx;
	size_t page = (size_t)sysconf(_SC_PAGESIZE), size = 0;
	void *all = NULL, *part = NULL, *p = (void *)1;

	plan_no_plan();
	ctx = start_daemon_ctx(&d, NULL);
	is_int(shmd_create(ctx, "r", 4 * page, 0, 0, 0, NULL, NULL, NULL), 0,
	       "a region of 4 pages");
	is_int(shmd_region_map(ctx, "r", O_RDWR, &all, &size), 0, "map all of it");
	memcpy((char *)all + 2 * page, "third page", 11);
	memcpy((char *)all + 3 * page, "fourth page", 12);

	is_int(shmd_region_map_range(ctx, "r", O_RDONLY, 2 * page, page, &part, &size), 0,
	       "map page 2 alone, read-only");
	is_int((long long)size, (long long)page, "  one page long");
	is_str((const char *)part, "third page", "  it starts at the offset");
	is_int(shmd_region_unmap(part, size), 0, "  unmapped");

	is_int(shmd_region_map_range(ctx, "r", O_RDWR, 2 * page, 0, &part, &size), 0,
	       "length 0: from the offset to the end");
	is_int((long long)size, (long long)(2 * page), "  two pages");
	memcpy((char *)part + page, "FOURTH", 6);
	ok(memcmp((char *)all + 3 * page, "FOURTH page", 11) == 0,
	   "  a write through it shows in the whole mapping");
	shmd_region_unmap(part, size);

	is_int(shmd_region_map_range(ctx, "r", O_RDWR, 4 * page, 0, &p, &size), 0,
	       "offset at the end, length 0: empty");
	ok(p == NULL && size == 0, "  NULL and 0");

	size = 7;
	p = (void *)1;
	is_int(shmd_region_map_range(ctx, "r", O_RDWR, 100, page, &p, &size), -EINVAL,
	       "a misaligned offset: -EINVAL");
	ok(strstr(shmd_ctx_get_error_message(ctx), "page size") != NULL, "  saying why: %s",
	   shmd_ctx_get_error_message(ctx));
	ok(p == (void *)1 && size == 7, "  outputs untouched");
	is_int(shmd_region_map_range(ctx, "r", O_RDWR, 3 * page, 2 * page, &p, &size), -ERANGE,
	       "a range past the end: -ERANGE");
	is_int(shmd_region_map_range(ctx, "r", O_RDWR, 5 * page, 0, &p, &size), -ERANGE,
	       "an offset past the end: -ERANGE");
	is_int(shmd_region_map_range(ctx, "r", O_RDWR, 0, SIZE_MAX, &p, &size), -ERANGE,
	       "a huge length: -ERANGE, no overflow");
	is_int(shmd_region_map_range(ctx, "nope", O_RDWR, 0, page, &p, &size), -ENOENT,
	       "a missing region: -ENOENT");
	is_int(shmd_region_map_range(ctx, "r", O_RDWR, 0, page, NULL, &size), -EINVAL,
	       "no place for the address: -EINVAL");
	is_int(shmd_region_map_range(NULL, "r", O_RDWR, 0, page, &p, &size), -EINVAL,
	       "a NULL context: -EINVAL");
	ok(p == (void *)1 && size == 7, "failures wrote nothing");

	shmd_region_unmap(all, 4 * page);
	shmd_ctx_unref(ctx);
	is_int(test_daemon_stop(&d), 0, "daemon exits cleanly");
	return done_testing();
}
