/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A minimal libshmd program: create a region, map it, write to it, map it
 * again read-only, read the text back, delete the region.
 *
 *   cc shmd-example.c $(pkg-config --cflags --libs libshmd)
 *   ./a.out [SOCKET]          (default: $SHMD_SOCKET, then the system socket)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <shmd.h>

static int fail(struct shmd_ctx *ctx, const char *what, int r)
{
	fprintf(stderr, "shmd-example: %s: %s\n", what,
		shmd_ctx_get_error_message(ctx) ? shmd_ctx_get_error_message(ctx) : strerror(-r));
	return 1;
}

int main(int argc, char **argv)
{
	static const char text[] = "hello from libshmd";
	char name[64];
	struct shmd_ctx *ctx;
	struct shmd_region *region = NULL;
	void *rw, *ro;
	size_t rw_size, ro_size;
	int r, status = 1;

	ctx = shmd_ctx_new(argc > 1 ? argv[1] : NULL);
	if (!ctx)
		return 1;
	snprintf(name, sizeof(name), "example/%d", (int)getpid());

	/* 4 KiB, mode 0600, no flags, no seals; no fd wanted, just the metadata. */
	r = shmd_create(ctx, name, 4096, 0600, 0, 0, NULL, &region, NULL);
	if (r < 0) {
		fail(ctx, "create", r);
		goto out;
	}
	printf("created %s: id %llu, %llu bytes, mode %04o\n", shmd_region_get_name(region),
	       (unsigned long long)shmd_region_get_id(region),
	       (unsigned long long)shmd_region_get_size(region), shmd_region_get_mode(region));

	r = shmd_region_map(ctx, name, O_RDWR, &rw, &rw_size);
	if (r < 0) {
		fail(ctx, "map read-write", r);
		goto delete;
	}
	memcpy(rw, text, sizeof(text));

	r = shmd_region_map(ctx, name, O_RDONLY, &ro, &ro_size);
	if (r < 0) {
		fail(ctx, "map read-only", r);
		shmd_region_unmap(rw, rw_size);
		goto delete;
	}
	printf("read back: %s\n", (const char *)ro);
	if (memcmp(ro, text, sizeof(text)) == 0)
		status = 0;
	shmd_region_unmap(ro, ro_size);
	shmd_region_unmap(rw, rw_size);

	delete : r = shmd_delete(ctx, name);
	if (r < 0)
		status = fail(ctx, "delete", r);
	else
		printf("deleted %s\n", name);
out:
	shmd_region_unref(region);
	shmd_ctx_unref(ctx);
	return status;
}
